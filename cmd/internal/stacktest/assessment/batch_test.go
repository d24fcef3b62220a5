package assessment_test

import (
	"context"
	"fmt"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	harness "github.com/predikat-id/predikat/cmd/internal/stack"
	"github.com/predikat-id/predikat/cmd/internal/stacktest"

	"github.com/predikat-id/predikat/pkg/events"
	assessmentv1 "github.com/predikat-id/predikat/pkg/gen/predikat/assessment/v1"
	eventsv1 "github.com/predikat-id/predikat/pkg/gen/predikat/events/v1"
	registryv1 "github.com/predikat-id/predikat/pkg/gen/predikat/registry/v1"
	"github.com/predikat-id/predikat/pkg/platform/testenv/eventtest"
	"github.com/predikat-id/predikat/pkg/platform/testenv/natstest"
)

func (s *stack) assessmentsInStream() uint64 {
	s.t.Helper()
	st, err := s.js.Stream(ctxT(s.t), events.Assessments)
	if err != nil {
		s.t.Fatal(err)
	}
	info, err := st.Info(ctxT(s.t))
	if err != nil {
		s.t.Fatal(err)
	}
	return info.State.Msgs
}

// A batch is stored whole (one atomic JetStream batch) or not at all; sent
// again it records nothing twice; records stored before under their ids
// are answered, not stored again.
func TestBatchRecordAssessments(t *testing.T) {
	s := newStack(t)
	const n = 300
	for i := range n {
		s.institution(fmt.Sprintf("polres-%03d", i), fmt.Sprintf("Polres Uji %03d", i), registryv1.InstitutionKind_INSTITUTION_KIND_POLICE_RESORT, "63.06")
	}
	s.kalsel()
	r := s.round("ombudsman", 2024)
	batch := &assessmentv1.BatchRecordAssessmentsRequest{RoundId: r.GetId()}
	for i := range n {
		batch.Records = append(batch.Records, &assessmentv1.BatchRecord{InstitutionId: fmt.Sprintf("polres-%03d", i),
			Input: reported(fmt.Sprintf("%d,%02d", 60+i%40, i%100)), RequestId: fmt.Sprintf("batch-%03d", i)})
	}
	// One record stored alone first, under the id the batch gives it.
	first := s.mustRecord(r.GetId(), "polres-000", batch.Records[0].GetInput(), 0, "batch-000")

	// One bad record refuses the whole batch: nothing of it is stored.
	bad := &assessmentv1.BatchRecordAssessmentsRequest{RoundId: r.GetId(), Records: append([]*assessmentv1.BatchRecord{}, batch.Records...)}
	bad.Records = append(bad.Records, &assessmentv1.BatchRecord{InstitutionId: "pemkab-hss", Input: reported("100,01"), RequestId: "batch-bad"})
	before := s.assessmentsInStream()
	_, err := s.svc.BatchRecordAssessments(ctxT(t), bad)
	wantCode(t, err, codes.InvalidArgument, fmt.Sprintf("records[%d] (pemkab-hss)", n))
	if got := s.assessmentsInStream(); got != before {
		t.Fatalf("a refused batch stored %d records", got-before)
	}

	resp, err := s.svc.BatchRecordAssessments(ctxT(t), batch)
	if err != nil {
		t.Fatal(err)
	}
	created := 0
	for i, res := range resp.GetResults() {
		if res.GetAssessment().GetInstitutionId() != batch.Records[i].GetInstitutionId() || res.GetAssessment().GetRevision() != 1 {
			t.Fatalf("results[%d] = %v", i, res.GetAssessment())
		}
		if res.GetCreated() {
			created++
		}
	}
	if created != n-1 || resp.GetResults()[0].GetCreated() || resp.GetResults()[0].GetAssessment().GetRecordTime().AsTime() != first.GetRecordTime().AsTime() {
		t.Fatalf("%d created (want %d: the one stored alone is answered)", created, n-1)
	}
	if got := s.assessmentsInStream(); got != before+n-1 {
		t.Fatalf("stream grew by %d, want %d", got-before, n-1)
	}
	// Sent again (a lost answer): nothing stored twice.
	again, err := s.svc.BatchRecordAssessments(ctxT(t), batch)
	if err != nil {
		t.Fatal(err)
	}
	for i, res := range again.GetResults() {
		if res.GetCreated() || res.GetAssessment().GetRevision() != 1 {
			t.Fatalf("the batch again: results[%d] = %v created %v", i, res.GetAssessment(), res.GetCreated())
		}
	}
	if got := s.assessmentsInStream(); got != before+n-1 {
		t.Fatalf("the batch sent again stored %d more", got-before-(n-1))
	}
	// Another request for a recorded institution is a correction: refused,
	// and with it the whole batch.
	other := &assessmentv1.BatchRecordAssessmentsRequest{RoundId: r.GetId(), Records: []*assessmentv1.BatchRecord{
		{InstitutionId: "pemkab-hss", Input: reported("96,52"), RequestId: "batch-hss"},
		{InstitutionId: "polres-001", Input: reported("99,00"), RequestId: "batch-001-changed"},
	}}
	_, err = s.svc.BatchRecordAssessments(ctxT(t), other)
	wantCode(t, err, codes.Aborted, "records[1]: polres-001 already has a record")
	if _, err := s.svc.GetAssessment(ctxT(t), &assessmentv1.GetAssessmentRequest{RoundId: r.GetId(), InstitutionId: "pemkab-hss"}); err == nil {
		t.Error("a refused batch recorded pemkab-hss")
	}
	// Two records of one institution in a batch.
	dup := &assessmentv1.BatchRecordAssessmentsRequest{RoundId: r.GetId(), Records: []*assessmentv1.BatchRecord{
		{InstitutionId: "pemkab-hss", Input: reported("96,52"), RequestId: "d1"}, {InstitutionId: "pemkab-hss", Input: reported("96,52"), RequestId: "d2"}}}
	_, err = s.svc.BatchRecordAssessments(ctxT(t), dup)
	wantCode(t, err, codes.InvalidArgument, "one record per institution")
}

// The ASSESSMENTS stream of an earlier release takes no atomic batch: the
// service updates it at start, and what it held stays.
func TestAssessmentsStreamOfAnEarlierReleaseTakesBatches(t *testing.T) {
	s := &stack{t: t}
	s.ns = newServerWithOldStream(t)
	s.js = s.ns.JetStream(t)
	st, err := s.js.Stream(context.Background(), events.Assessments)
	if err != nil {
		t.Fatal(err)
	}
	if st.CachedInfo().Config.AllowAtomicPublish {
		t.Fatal("the old stream already allows atomic publish")
	}
	s.startAll()
	s.kalsel()
	r := s.round("ombudsman", 2024)
	if _, err := s.svc.BatchRecordAssessments(ctxT(t), &assessmentv1.BatchRecordAssessmentsRequest{RoundId: r.GetId(), Records: []*assessmentv1.BatchRecord{
		{InstitutionId: "pemkab-hss", Input: reported("96,52"), RequestId: "b1"}, {InstitutionId: "polres-hss", Input: reported("96,64"), RequestId: "b2"}}}); err != nil {
		t.Fatal(err)
	}
	info, err := st.Info(ctxT(t))
	if err != nil || !info.Config.AllowAtomicPublish || info.State.Msgs != 3 || !info.Config.DenyDelete {
		t.Fatalf("stream after the update: %+v, %v; want atomic publish on, the old message and the batch's two", info, err)
	}
}

// startAll starts the registry and the assessment service on s.ns.
func (s *stack) startAll() {
	s.svcs = stacktest.Services(s.t, s.ns, harness.ServicesOptions{})
	s.startRegistry("127.0.0.1:0")
	s.startAssessment()
}

// newServerWithOldStream is a NATS server holding the ASSESSMENTS stream
// as the release before atomic batches created it, with a record in it.
func newServerWithOldStream(t *testing.T) *natstest.Server {
	t.Helper()
	ns := natstest.Start(t)
	js := ns.JetStream(t)
	cfg := events.StreamConfig(events.Assessments, 1)
	cfg.AllowAtomicPublish = false
	if _, err := js.CreateStream(ctxT(t), cfg); err != nil {
		t.Fatal(err)
	}
	in := eventtest.Inst{ID: "pemkab-hss", Name: "Pemerintah Kabupaten Hulu Sungai Selatan", Kind: eventtest.Pemkab, Region: "63.06"}
	ev := &eventsv1.AssessmentRecorded{EventId: "ombudsman-2023/pemkab-hss/old-1", EventTime: timestamppb.Now(),
		Assessment: &assessmentv1.Assessment{RoundId: "ombudsman-2023", SchemeId: "ombudsman", SchemeVersion: "2022", Year: 2023,
			InstitutionId: in.ID, Institution: in.Snapshot(), Revision: 1, RequestId: "old-1", RecordedBy: "test", RecordTime: timestamppb.Now(),
			Basis: assessmentv1.AssessmentBasis_ASSESSMENT_BASIS_REPORTED_TOTAL, Total: "90.00", WeightedTotal: "90.00", BandCode: "A"},
		PeerGroups: eventtest.GroupsFor(in.Kind), Scale: &assessmentv1.Scale{Min: "0.00", Max: "100.00", Precision: 2}}
	msg, err := events.NewMsg(events.AssessmentSubject("ombudsman", 2023, "pemkab-hss"), "/predikat/assessment", "pemkab-hss", ev)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := js.PublishMsg(ctxT(t), msg); err != nil {
		t.Fatal(err)
	}
	return ns
}

// Two versions of a scheme with overlapping years registered at the same
// moment: the store decides them one after the other, so exactly one is
// registered, on every replica.
func TestConcurrentOverlappingSchemeVersions(t *testing.T) {
	s := newStack(t)
	got, err := s.svc.GetScheme(ctxT(t), &assessmentv1.GetSchemeRequest{SchemeId: "pekppp", Selector: &assessmentv1.GetSchemeRequest_Version{Version: "2023"}})
	if err != nil {
		t.Fatal(err)
	}
	const n = 8
	errs := make(chan error, n)
	for i := range n {
		v := proto.Clone(got.GetScheme()).(*assessmentv1.Scheme)
		v.Version, v.FirstYear, v.LastYear = fmt.Sprintf("2026-v%d", i), 2026, 2026
		go func() {
			_, err := s.svc.RegisterSchemeVersion(ctxT(t), &assessmentv1.RegisterSchemeVersionRequest{Scheme: v})
			errs <- err
		}()
	}
	ok := 0
	for range n {
		err := <-errs
		switch status.Code(err) {
		case codes.OK:
			ok++
		case codes.FailedPrecondition, codes.Aborted:
		default:
			t.Errorf("a racing registration: %v", err)
		}
	}
	list, err := s.svc.ListSchemes(ctxT(t), &assessmentv1.ListSchemesRequest{SchemeId: "pekppp", Year: 2026})
	if err != nil {
		t.Fatal(err)
	}
	if ok != 1 || len(list.GetSchemes()) != 1 {
		t.Fatalf("%d registrations succeeded, %d versions in force in 2026; want exactly one", ok, len(list.GetSchemes()))
	}
	// After a restart the same one, from the store.
	s.svcStop()
	s.startAssessment()
	again, err := s.svc.ListSchemes(ctxT(t), &assessmentv1.ListSchemesRequest{SchemeId: "pekppp", Year: 2026})
	if err != nil || len(again.GetSchemes()) != 1 || again.GetSchemes()[0].GetVersion() != list.GetSchemes()[0].GetVersion() {
		t.Fatalf("after a restart: %v, %v", again, err)
	}
}
