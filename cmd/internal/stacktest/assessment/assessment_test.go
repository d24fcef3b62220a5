package assessment_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	harness "github.com/predikat-id/predikat/cmd/internal/stack"
	"github.com/predikat-id/predikat/cmd/internal/stacktest"
	"github.com/predikat-id/predikat/pkg/events"
	assessmentv1 "github.com/predikat-id/predikat/pkg/gen/predikat/assessment/v1"
	eventsv1 "github.com/predikat-id/predikat/pkg/gen/predikat/events/v1"
	registryv1 "github.com/predikat-id/predikat/pkg/gen/predikat/registry/v1"
	"github.com/predikat-id/predikat/pkg/platform/testenv/grpctest"
	"github.com/predikat-id/predikat/pkg/platform/testenv/natstest"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
)

// stack is a real NATS, a real registry and a real assessment service,
// run in process by cmd/internal/stack.
type stack struct {
	t       *testing.T
	ns      *natstest.Server
	svcs    *harness.Services
	regAddr string
	reg     registryv1.RegistryServiceClient
	svc     assessmentv1.AssessmentServiceClient
	js      jetstream.JetStream
}

func newStack(t *testing.T) *stack {
	s := &stack{t: t, ns: natstest.Start(t)}
	s.js = s.ns.JetStream(t)
	s.svcs = stacktest.Services(t, s.ns, harness.ServicesOptions{})
	s.startRegistry("127.0.0.1:0")
	s.startAssessment()
	return s
}

func (s *stack) startRegistry(addr string) {
	var err error
	if s.regAddr, err = s.svcs.Start(harness.Registry, addr, ""); err != nil {
		s.t.Fatalf("registry did not start: %v", err)
	}
	s.reg = registryv1.NewRegistryServiceClient(stacktest.Dial(s.t, s.regAddr, "admin"))
}

// startAssessment starts an assessment service (one more replica, if one
// runs) and points svc at it.
func (s *stack) startAssessment() {
	addr, err := s.svcs.Start(harness.Assessment, "127.0.0.1:0", s.regAddr)
	if err != nil {
		s.t.Fatalf("assessment did not start: %v", err)
	}
	s.svc = assessmentv1.NewAssessmentServiceClient(stacktest.Dial(s.t, addr, "admin"))
}

// regStop stops the registry; startRegistry brings it back.
func (s *stack) regStop() { s.stop(harness.Registry) }

// svcStop stops the assessment service; startAssessment brings it back.
func (s *stack) svcStop() { s.stop(harness.Assessment) }

func (s *stack) stop(name string) {
	if err := s.svcs.StopService(name); err != nil {
		s.t.Errorf("%s stopped with error: %v", name, err)
	}
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	t.Cleanup(cancel)
	return ctx
}

var wantCode = grpctest.WantCode

func (s *stack) institution(id, name string, kind registryv1.InstitutionKind, region string) {
	s.t.Helper()
	_, err := s.reg.CreateInstitution(ctxT(s.t), &registryv1.CreateInstitutionRequest{InstitutionId: id,
		Institution: &registryv1.Institution{Name: name, Kind: kind, RegionCode: region}})
	if err != nil {
		s.t.Fatalf("register %s: %v", id, err)
	}
}

// kalsel registers the institutions of the Ombudsman 2024 article.
func (s *stack) kalsel() {
	s.institution("pemprov-kalsel", "Pemerintah Provinsi Kalimantan Selatan", registryv1.InstitutionKind_INSTITUTION_KIND_PROVINCIAL_GOVERNMENT, "63")
	s.institution("pemkab-hss", "Pemerintah Kabupaten Hulu Sungai Selatan", registryv1.InstitutionKind_INSTITUTION_KIND_REGENCY_GOVERNMENT, "63.06")
	s.institution("polres-hss", "Polres Hulu Sungai Selatan", registryv1.InstitutionKind_INSTITUTION_KIND_POLICE_RESORT, "63.06")
	s.institution("kantah-tanah-laut", "Kantor Pertanahan Kabupaten Tanah Laut", registryv1.InstitutionKind_INSTITUTION_KIND_LAND_OFFICE, "63.01")
}

// lastHeader returns a header of the latest message on subject.
func (s *stack) lastHeader(subject, header string) string {
	s.t.Helper()
	st, err := s.js.Stream(ctxT(s.t), events.Assessments)
	if err != nil {
		s.t.Fatal(err)
	}
	m, err := st.GetLastMsgForSubject(ctxT(s.t), subject)
	if err != nil {
		s.t.Fatal(err)
	}
	return m.Header.Get(header)
}

func (s *stack) round(scheme string, year int32) *assessmentv1.Round {
	s.t.Helper()
	resp, err := s.svc.CreateRound(ctxT(s.t), &assessmentv1.CreateRoundRequest{SchemeId: scheme, Year: year,
		CollectionStart: fmt.Sprintf("%d-03-01", year), CollectionEnd: fmt.Sprintf("%d-11-30", year)})
	if err != nil {
		s.t.Fatalf("create round %s %d: %v", scheme, year, err)
	}
	return resp.GetRound()
}

func reported(total string) *assessmentv1.AssessmentInput {
	return &assessmentv1.AssessmentInput{Result: &assessmentv1.AssessmentInput_ReportedTotal{ReportedTotal: total}}
}

func (s *stack) record(roundID, inst string, in *assessmentv1.AssessmentInput, corrects uint64, reqID string) (*assessmentv1.RecordAssessmentResponse, error) {
	reason := ""
	if corrects > 0 {
		reason = "correction"
	}
	return s.svc.RecordAssessment(ctxT(s.t), &assessmentv1.RecordAssessmentRequest{RoundId: roundID, InstitutionId: inst, Input: in,
		CorrectsRevision: corrects, Reason: reason, RequestId: reqID})
}

func (s *stack) mustRecord(roundID, inst string, in *assessmentv1.AssessmentInput, corrects uint64, reqID string) *assessmentv1.Assessment {
	s.t.Helper()
	resp, err := s.record(roundID, inst, in, corrects, reqID)
	if err != nil {
		s.t.Fatalf("record %s: %v", inst, err)
	}
	return resp.GetAssessment()
}

func (s *stack) subjectCount(subject string) uint64 {
	st, err := s.js.Stream(ctxT(s.t), events.Assessments)
	if err != nil {
		s.t.Fatal(err)
	}
	info, err := st.Info(ctxT(s.t), jetstream.WithSubjectFilter(subject))
	if err != nil {
		s.t.Fatal(err)
	}
	return info.State.Subjects[subject]
}

func TestKalselOmbudsman2024(t *testing.T) {
	s := newStack(t)
	s.kalsel()
	s.institution("pemkab-banjar", "Pemerintah Kabupaten Banjar", registryv1.InstitutionKind_INSTITUTION_KIND_REGENCY_GOVERNMENT, "63.03")
	s.institution("pemkab-tapin", "Pemerintah Kabupaten Tapin", registryv1.InstitutionKind_INSTITUTION_KIND_REGENCY_GOVERNMENT, "63.05")
	r := s.round("ombudsman", 2024)
	if r.GetId() != "ombudsman-2024" || r.GetState() != assessmentv1.RoundState_ROUND_STATE_OPEN || r.GetSchemeVersion() == "" {
		t.Fatalf("round = %v", r)
	}
	// The figures published in the seed article, with the Indonesian comma.
	for inst, total := range map[string]string{"pemprov-kalsel": "94,58", "pemkab-hss": "96,52", "polres-hss": "96,64", "kantah-tanah-laut": "99,57"} {
		a := s.mustRecord(r.GetId(), inst, reported(total), 0, "seed-"+inst)
		if a.GetBandCode() != "A" || a.GetBandLabel() != "Kualitas Tertinggi" || a.GetTotal() != strings.ReplaceAll(total, ",", ".") ||
			a.GetBasis() != assessmentv1.AssessmentBasis_ASSESSMENT_BASIS_REPORTED_TOTAL || a.GetRevision() != 1 {
			t.Errorf("%s: %v %v %v %v rev %d", inst, a.GetTotal(), a.GetBandCode(), a.GetBandLabel(), a.GetBasis(), a.GetRevision())
		}
		if a.GetInstitution().GetProvinceName() != "Kalimantan Selatan" || a.GetInstitution().GetName() == "" {
			t.Errorf("%s: snapshot %v", inst, a.GetInstitution())
		}
	}
	// The edge: 88.00 is A, 87.99 is B, every time.
	if a := s.mustRecord(r.GetId(), "pemkab-banjar", reported("88.00"), 0, "edge-1"); a.GetBandCode() != "A" {
		t.Errorf("88.00 -> %s", a.GetBandCode())
	}
	if a := s.mustRecord(r.GetId(), "pemkab-tapin", reported("87.99"), 0, "edge-2"); a.GetBandCode() != "B" || a.GetBandLabel() != "Kualitas Tinggi" {
		t.Errorf("87.99 -> %s %s", a.GetBandCode(), a.GetBandLabel())
	}
	got, err := s.svc.GetAssessment(ctxT(t), &assessmentv1.GetAssessmentRequest{RoundId: r.GetId(), InstitutionId: "pemkab-hss"})
	if err != nil || got.GetAssessment().GetTotal() != "96.52" || got.GetAssessment().GetBandLabel() != "Kualitas Tertinggi" {
		t.Fatalf("read back = %v, %v", got, err)
	}
	list, err := s.svc.ListAssessments(ctxT(t), &assessmentv1.ListAssessmentsRequest{RoundId: r.GetId(), ProvinceCode: "63", BandCodes: []string{"a"},
		Kinds: []registryv1.InstitutionKind{registryv1.InstitutionKind_INSTITUTION_KIND_REGENCY_GOVERNMENT}})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, a := range list.GetAssessments() {
		ids = append(ids, a.GetInstitutionId())
	}
	if fmt.Sprint(ids) != "[pemkab-banjar pemkab-hss]" {
		t.Fatalf("list band A regencies in 63 = %v", ids)
	}
	rr, err := s.svc.GetRound(ctxT(t), &assessmentv1.GetRoundRequest{RoundId: r.GetId()})
	if err != nil || rr.GetRound().GetAssessmentCount() != 6 || rr.GetRound().GetRevisionCount() != 6 {
		t.Fatalf("round counts = %v, %v", rr.GetRound(), err)
	}
}

func TestComputedTotalAndBadInput(t *testing.T) {
	s := newStack(t)
	s.kalsel()
	r := s.round("ombudsman", 2024)
	scheme, err := s.svc.GetScheme(ctxT(t), &assessmentv1.GetSchemeRequest{SchemeId: "ombudsman", Selector: &assessmentv1.GetSchemeRequest_Year{Year: 2024}})
	if err != nil {
		t.Fatal(err)
	}
	var scores []*assessmentv1.DimensionScore
	for _, d := range scheme.GetScheme().GetDimensions() {
		scores = append(scores, &assessmentv1.DimensionScore{Code: d.GetCode(), Score: "90,00"})
	}
	in := &assessmentv1.AssessmentInput{Result: &assessmentv1.AssessmentInput_DimensionScores{DimensionScores: &assessmentv1.DimensionScores{Scores: scores}}}
	a := s.mustRecord(r.GetId(), "pemkab-hss", in, 0, "computed-1")
	if a.GetTotal() != "90.00" || a.GetBandCode() != "A" || a.GetBasis() != assessmentv1.AssessmentBasis_ASSESSMENT_BASIS_COMPUTED {
		t.Fatalf("computed = %v %v %v", a.GetTotal(), a.GetBandCode(), a.GetBasis())
	}
	_, err = s.record(r.GetId(), "polres-hss", reported("100.01"), 0, "bad-1")
	wantCode(t, err, codes.InvalidArgument, "100.01")
	// A malformed decimal is told the rule, not a regular expression.
	_, err = s.record(r.GetId(), "polres-hss", reported("96,521x"), 0, "bad-1b")
	wantCode(t, err, codes.InvalidArgument, "must be a decimal number such as 96.52 or 96,52")
	if strings.Contains(err.Error(), "[0-9]") {
		t.Errorf("the message shows a pattern: %v", err)
	}
	_, err = s.record(r.GetId(), "nobody", reported("90"), 0, "bad-2")
	wantCode(t, err, codes.NotFound, "nobody")
	_, err = s.record("ombudsman-2023", "pemkab-hss", reported("90"), 0, "bad-3")
	wantCode(t, err, codes.NotFound, "ombudsman-2023")
	_, err = s.record(r.GetId(), "pemkab-hss", reported("90"), 0, "")
	wantCode(t, err, codes.InvalidArgument, "request_id")
	_, err = s.svc.RecordAssessment(ctxT(t), &assessmentv1.RecordAssessmentRequest{RoundId: r.GetId(), InstitutionId: "polres-hss",
		Input: reported("90"), CorrectsRevision: 1, RequestId: "bad-4"})
	wantCode(t, err, codes.InvalidArgument, "reason")
	_, err = s.svc.CreateRound(ctxT(t), &assessmentv1.CreateRoundRequest{SchemeId: "ombudsman", Year: 2024})
	wantCode(t, err, codes.AlreadyExists, "ombudsman-2024")
	_, err = s.svc.CreateRound(ctxT(t), &assessmentv1.CreateRoundRequest{SchemeId: "nope", Year: 2024})
	wantCode(t, err, codes.NotFound, "nope")

	// A retired institution takes no new assessment.
	if _, err := s.reg.RetireInstitution(ctxT(t), &registryv1.RetireInstitutionRequest{Id: "polres-hss", Reason: "merged"}); err != nil {
		t.Fatal(err)
	}
	// The change reaches the assessment service's registry cache through
	// the watch, in milliseconds; a record sent before it would be
	// accepted (and a retry with its request id would keep that answer),
	// so the first attempt waits well past it.
	time.Sleep(time.Second)
	_, err = s.record(r.GetId(), "polres-hss", reported("90"), 0, "retired-1")
	wantCode(t, err, codes.FailedPrecondition, "retired")
	// Nothing of the rejected requests was written.
	if n := s.subjectCount(events.AssessmentFilter("ombudsman", 2024)); n != 0 {
		t.Logf("(filter count is per subject; checked below)")
	}
	if n := s.subjectCount(events.AssessmentSubject("ombudsman", 2024, "polres-hss")); n != 0 {
		t.Fatalf("rejected records were written: %d", n)
	}
}

func TestIdempotentRetriesAndCorrections(t *testing.T) {
	s := newStack(t)
	s.kalsel()
	r := s.round("ombudsman", 2024)
	first := s.mustRecord(r.GetId(), "pemkab-hss", reported("96.52"), 0, "req-1")
	again, err := s.record(r.GetId(), "pemkab-hss", reported("96.52"), 0, "req-1")
	if err != nil || again.GetCreated() || !proto.Equal(again.GetAssessment(), first) {
		t.Fatalf("retry = %v created=%v, %v", again.GetAssessment(), again.GetCreated(), err)
	}
	subj := events.AssessmentSubject("ombudsman", 2024, "pemkab-hss")
	if n := s.subjectCount(subj); n != 1 {
		t.Fatalf("a retried request wrote %d messages", n)
	}
	// The same request id with another score is another request: refused,
	// never answered with the first result.
	_, err = s.record(r.GetId(), "pemkab-hss", reported("96.53"), 0, "req-1")
	wantCode(t, err, codes.AlreadyExists, "request id req-1 was already used for a different request")
	if n := s.subjectCount(subj); n != 1 {
		t.Fatalf("a reused request id wrote %d messages", n)
	}
	if fp := s.lastHeader(subj, events.HeaderRequestFingerprint); fp == "" {
		t.Fatal("the stored record carries no request fingerprint")
	}
	// A first record when one exists, or a stale correction: Aborted.
	_, err = s.record(r.GetId(), "pemkab-hss", reported("90"), 0, "req-2")
	wantCode(t, err, codes.Aborted, "revision 1")
	fix := s.mustRecord(r.GetId(), "pemkab-hss", reported("96.53"), 1, "req-3")
	if fix.GetRevision() != 2 || fix.GetReason() != "correction" {
		t.Fatalf("correction = %v", fix)
	}
	_, err = s.record(r.GetId(), "pemkab-hss", reported("96.54"), 1, "req-4")
	wantCode(t, err, codes.Aborted, "revision 2")
	// The superseded request retried still gets its first answer.
	old, err := s.record(r.GetId(), "pemkab-hss", reported("96.52"), 0, "req-1")
	if err != nil || old.GetAssessment().GetRevision() != 1 || old.GetCreated() {
		t.Fatalf("late retry = %v, %v", old, err)
	}

	// Of concurrent corrections of the same revision exactly one wins.
	var wg sync.WaitGroup
	errs := make([]error, 6)
	for i := range errs {
		wg.Go(func() {
			_, errs[i] = s.record(r.GetId(), "pemkab-hss", reported(fmt.Sprintf("9%d.00", i)), 2, fmt.Sprintf("race-%d", i))
		})
	}
	wg.Wait()
	wins := 0
	for _, err := range errs {
		if err == nil {
			wins++
		} else if status.Code(err) != codes.Aborted {
			t.Errorf("loser: %v", err)
		}
	}
	if wins != 1 || s.subjectCount(subj) != 3 {
		t.Fatalf("%d corrections won, %d messages", wins, s.subjectCount(subj))
	}

	revs, err := s.svc.ListAssessmentRevisions(ctxT(t), &assessmentv1.ListAssessmentRevisionsRequest{RoundId: r.GetId(), InstitutionId: "pemkab-hss", PageSize: 2})
	if err != nil || len(revs.GetAssessments()) != 2 || revs.GetNextPageToken() == "" {
		t.Fatalf("revisions page 1 = %v, %v", revs, err)
	}
	revs2, err := s.svc.ListAssessmentRevisions(ctxT(t), &assessmentv1.ListAssessmentRevisionsRequest{RoundId: r.GetId(), InstitutionId: "pemkab-hss", PageSize: 2, PageToken: revs.GetNextPageToken()})
	if err != nil || len(revs2.GetAssessments()) != 1 || revs2.GetAssessments()[0].GetRevision() != 3 {
		t.Fatalf("revisions page 2 = %v, %v", revs2, err)
	}
	v1, err := s.svc.GetAssessment(ctxT(t), &assessmentv1.GetAssessmentRequest{RoundId: r.GetId(), InstitutionId: "pemkab-hss", Revision: 1})
	if err != nil || v1.GetAssessment().GetTotal() != "96.52" {
		t.Fatalf("revision 1 = %v, %v", v1, err)
	}
	_, err = s.svc.GetAssessment(ctxT(t), &assessmentv1.GetAssessmentRequest{RoundId: r.GetId(), InstitutionId: "pemkab-hss", Revision: 9})
	wantCode(t, err, codes.NotFound, "revisions 1 to 3")

	// After the round closed, a retry of a superseded request still gets its
	// first answer; a new request gets the round's state.
	if _, err := s.svc.CloseRound(ctxT(t), &assessmentv1.CloseRoundRequest{RoundId: r.GetId()}); err != nil {
		t.Fatal(err)
	}
	late, err := s.record(r.GetId(), "pemkab-hss", reported("96.52"), 0, "req-1")
	if err != nil || late.GetAssessment().GetRevision() != 1 || late.GetCreated() {
		t.Fatalf("retry after close = %v, %v", late, err)
	}
	_, err = s.record(r.GetId(), "pemkab-hss", reported("96.52"), 3, "req-new")
	wantCode(t, err, codes.FailedPrecondition, "CLOSED")
}

func TestRetryAcrossRestart(t *testing.T) {
	s := newStack(t)
	s.kalsel()
	r := s.round("ombudsman", 2024)
	first := s.mustRecord(r.GetId(), "kantah-tanah-laut", reported("99.57"), 0, "req-restart")
	s.svcStop()
	s.ns.Restart(t)
	s.startAssessment()
	again, err := s.record(r.GetId(), "kantah-tanah-laut", reported("99.57"), 0, "req-restart")
	if err != nil || again.GetCreated() || !proto.Equal(again.GetAssessment(), first) {
		t.Fatalf("retry after restart = %v, %v", again, err)
	}
	if n := s.subjectCount(events.AssessmentSubject("ombudsman", 2024, "kantah-tanah-laut")); n != 1 {
		t.Fatalf("%d messages after a retry across a restart", n)
	}
	list, err := s.svc.ListAssessments(ctxT(t), &assessmentv1.ListAssessmentsRequest{RoundId: r.GetId()})
	if err != nil || len(list.GetAssessments()) != 1 {
		t.Fatalf("view after restart = %v, %v", list, err)
	}
}

func TestRoundLifecycleAndPublishedCorrection(t *testing.T) {
	s := newStack(t)
	s.kalsel()
	r := s.round("ombudsman", 2024)
	s.mustRecord(r.GetId(), "pemkab-hss", reported("96.52"), 0, "hss")
	_, err := s.svc.PublishRound(ctxT(t), &assessmentv1.PublishRoundRequest{RoundId: r.GetId(), ForceReason: "test: published at once"})
	wantCode(t, err, codes.FailedPrecondition, "OPEN")
	if _, err := s.svc.CloseRound(ctxT(t), &assessmentv1.CloseRoundRequest{RoundId: r.GetId()}); err != nil {
		t.Fatal(err)
	}
	_, err = s.record(r.GetId(), "polres-hss", reported("96.64"), 0, "late")
	wantCode(t, err, codes.FailedPrecondition, "CLOSED")
	if _, err := s.svc.ReopenRound(ctxT(t), &assessmentv1.ReopenRoundRequest{RoundId: r.GetId(), Reason: "late Polres figures"}); err != nil {
		t.Fatal(err)
	}
	s.mustRecord(r.GetId(), "polres-hss", reported("96.64"), 0, "late")
	if _, err := s.svc.CloseRound(ctxT(t), &assessmentv1.CloseRoundRequest{RoundId: r.GetId()}); err != nil {
		t.Fatal(err)
	}
	for range 2 { // publishing twice is allowed and emits RoundPublished once
		pub, err := s.svc.PublishRound(ctxT(t), &assessmentv1.PublishRoundRequest{RoundId: r.GetId(), ForceReason: "test: published at once"})
		if err != nil || pub.GetRound().GetState() != assessmentv1.RoundState_ROUND_STATE_PUBLISHED || pub.GetRound().GetPublishTime() == nil {
			t.Fatalf("publish = %v, %v", pub, err)
		}
	}
	rounds, err := s.js.Stream(ctxT(t), events.Rounds)
	if err != nil {
		t.Fatal(err)
	}
	pubSubj := events.RoundPublishedSubject("ombudsman", 2024)
	info, _ := rounds.Info(ctxT(t), jetstream.WithSubjectFilter(pubSubj))
	if info.State.Subjects[pubSubj] != 1 {
		t.Fatalf("RoundPublished emitted %d times", info.State.Subjects[pubSubj])
	}
	m, err := rounds.GetLastMsgForSubject(ctxT(t), pubSubj)
	if err != nil || m.Header.Get("ce-type") != "predikat.events.v1.RoundPublished" {
		t.Fatalf("RoundPublished message = %v, %v", m, err)
	}
	var ev eventsv1.RoundPublished
	if err := proto.Unmarshal(m.Data, &ev); err != nil || ev.GetRound().GetId() != r.GetId() {
		t.Fatalf("decode RoundPublished: %v %v", &ev, err)
	}

	_, err = s.record(r.GetId(), "pemkab-hss", reported("96.60"), 1, "fix")
	wantCode(t, err, codes.FailedPrecondition, "CorrectPublishedAssessment")
	_, err = s.svc.ReopenRound(ctxT(t), &assessmentv1.ReopenRoundRequest{RoundId: r.GetId(), Reason: "x"})
	wantCode(t, err, codes.FailedPrecondition, "never reopened")
	fix, err := s.svc.CorrectPublishedAssessment(ctxT(t), &assessmentv1.CorrectPublishedAssessmentRequest{RoundId: r.GetId(), InstitutionId: "pemkab-hss",
		Input: reported("86.52"), CorrectsRevision: 1, Reason: "erratum: typo in the published table", RequestId: "erratum-1"})
	if err != nil || !fix.GetAssessment().GetAfterPublication() || fix.GetAssessment().GetBandCode() != "B" || fix.GetAssessment().GetRevision() != 2 {
		t.Fatalf("published correction = %v, %v", fix, err)
	}
	corrSubj := "predikat.round.corrected.ombudsman.2024.pemkab-hss"
	cm, err := rounds.GetLastMsgForSubject(ctxT(t), corrSubj)
	if err != nil {
		t.Fatalf("RoundCorrected: %v", err)
	}
	var corr eventsv1.RoundCorrected
	if err := proto.Unmarshal(cm.Data, &corr); err != nil || corr.GetPreviousTotal() != "96.52" || corr.GetTotal() != "86.52" || corr.GetReason() == "" {
		t.Fatalf("RoundCorrected = %v, %v", &corr, err)
	}
	got, _ := s.svc.GetRound(ctxT(t), &assessmentv1.GetRoundRequest{RoundId: r.GetId()})
	if got.GetRound().GetCorrectionCount() != 1 {
		t.Fatalf("correction count = %d", got.GetRound().GetCorrectionCount())
	}

	// The history of one institution spans rounds.
	r23 := s.round("ombudsman", 2023)
	s.mustRecord(r23.GetId(), "pemkab-hss", reported("95.00"), 0, "hss-2023")
	hist, err := s.svc.ListInstitutionHistory(ctxT(t), &assessmentv1.ListInstitutionHistoryRequest{InstitutionId: "pemkab-hss"})
	if err != nil || len(hist.GetAssessments()) != 2 || hist.GetAssessments()[0].GetYear() != 2024 || hist.GetAssessments()[1].GetYear() != 2023 {
		t.Fatalf("history = %v, %v", hist, err)
	}
}

func TestStreamIsAnAuditLog(t *testing.T) {
	s := newStack(t)
	st, err := s.js.Stream(ctxT(t), events.Assessments)
	if err != nil {
		t.Fatal(err)
	}
	cfg := st.CachedInfo().Config
	if !cfg.DenyDelete || !cfg.DenyPurge {
		t.Fatalf("ASSESSMENTS must deny delete and purge: %+v", cfg)
	}
	if err := st.Purge(ctxT(t)); err == nil {
		t.Fatal("purge succeeded on the audit log")
	}
}

func TestRegistryDownIsUnavailable(t *testing.T) {
	s := newStack(t)
	s.kalsel()
	r := s.round("ombudsman", 2024)
	s.regStop()
	_, err := s.record(r.GetId(), "pemkab-banjar-unknown", reported("90"), 0, "down-1")
	wantCode(t, err, codes.Unavailable, "registry")
}
