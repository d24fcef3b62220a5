package assessment_test

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/predikat-id/predikat/pkg/events"
	assessmentv1 "github.com/predikat-id/predikat/pkg/gen/predikat/assessment/v1"
	eventsv1 "github.com/predikat-id/predikat/pkg/gen/predikat/events/v1"
	registryv1 "github.com/predikat-id/predikat/pkg/gen/predikat/registry/v1"
	"github.com/predikat-id/predikat/services/assessment/wiring"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
)

// errKilled stands for the service dying in the middle of a publication.
var errKilled = errors.New("killed in the middle of the publication")

// interruptPublicationsAfter restarts the assessment service so that its
// PublishRound stops after granting n awards (0: never), which it grants
// one at a time: the stop falls between two grants, as a kill there would.
// The returned function lets the same service publish uninterrupted from
// then on.
func (s *stack) interruptPublicationsAfter(n int32) (disarm func()) {
	s.t.Helper()
	wiring.SetGrantWindow(1)
	s.t.Cleanup(func() { wiring.SetGrantWindow(0) })
	var armed atomic.Bool
	armed.Store(n > 0)
	f := func(granted int32) error {
		if armed.Load() && granted >= n {
			return errKilled
		}
		return nil
	}
	wiring.PublicationInterrupt.Store(&f)
	s.t.Cleanup(func() { wiring.PublicationInterrupt.Store(nil) })
	s.svcStop()
	s.startAssessment()
	return func() { armed.Store(false) }
}

// announcements returns the RoundPublished messages of the round.
func (s *stack) announcements(r *assessmentv1.Round) []*jetstream.RawStreamMsg {
	s.t.Helper()
	st, err := s.js.Stream(ctxT(s.t), events.Rounds)
	if err != nil {
		s.t.Fatal(err)
	}
	subject := events.RoundPublishedSubject(r.GetSchemeId(), r.GetYear())
	var out []*jetstream.RawStreamMsg
	for seq := uint64(1); ; {
		m, err := st.GetMsg(ctxT(s.t), seq, jetstream.WithGetMsgSubject(subject))
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			return out
		}
		if err != nil {
			s.t.Fatal(err)
		}
		out = append(out, m)
		seq = m.Sequence + 1
	}
}

// wantInterrupted checks the state a publication killed after n awards
// leaves: the round PUBLISHED, n awards, no announcement.
func (s *stack) wantInterrupted(r *assessmentv1.Round, n int) {
	s.t.Helper()
	got, err := s.svc.GetRound(ctxT(s.t), &assessmentv1.GetRoundRequest{RoundId: r.GetId()})
	if err != nil || got.GetRound().GetState() != assessmentv1.RoundState_ROUND_STATE_PUBLISHED {
		s.t.Fatalf("round after the interrupted publication: %v, %v", got.GetRound().GetState(), err)
	}
	s.wantOnce(n)
	if a := s.announcements(r); len(a) != 0 {
		s.t.Fatalf("%d RoundPublished before the awards were all granted", len(a))
	}
}

// wantAnnounced checks the round was announced exactly once, with the
// number of its awards, after the last of them.
func (s *stack) wantAnnounced(n int32) {
	s.t.Helper()
	r := &assessmentv1.Round{SchemeId: "ombudsman", Year: 2024}
	a := s.announcements(r)
	if len(a) != 1 {
		s.t.Fatalf("%d RoundPublished, want 1", len(a))
	}
	var ev eventsv1.RoundPublished
	if err := proto.Unmarshal(a[0].Data, &ev); err != nil {
		s.t.Fatal(err)
	}
	if ev.GetAwardCount() != n {
		s.t.Fatalf("RoundPublished counts %d awards, want %d", ev.GetAwardCount(), n)
	}
	st, err := s.js.Stream(ctxT(s.t), events.Awards)
	if err != nil {
		s.t.Fatal(err)
	}
	info, err := st.Info(ctxT(s.t))
	if err != nil {
		s.t.Fatal(err)
	}
	if a[0].Time.Before(info.State.LastTime) {
		s.t.Fatalf("RoundPublished at %v, before the last award at %v", a[0].Time, info.State.LastTime)
	}
}

func TestPublicationKilledHalfwayIsFinishedOnStartUp(t *testing.T) {
	s := newStack(t)
	r := s.closedKalselRound()
	s.interruptPublicationsAfter(3)
	presenter := &assessmentv1.PresentedBy{Name: "Hadi Rahman", Office: "Kepala Perwakilan Ombudsman RI Kalsel"}
	if _, err := s.svc.PublishRound(ctxT(t), &assessmentv1.PublishRoundRequest{RoundId: r.GetId(), ForceReason: "test: published at once", Ceremony: ceremony, PresentedBy: presenter}); err == nil {
		t.Fatal("the interrupted publication answered OK")
	}
	s.wantInterrupted(r, 3)

	s.interruptPublicationsAfter(0) // the restart finishes it, nobody calls PublishRound
	deadline := time.Now().Add(10 * time.Second)
	for len(s.announcements(r)) == 0 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	s.wantOnce(kalselAwards)
	s.wantAnnounced(kalselAwards)
	list, err := s.svc.ListAwards(ctxT(t), &assessmentv1.ListAwardsRequest{})
	if err != nil || len(list.GetAwards()) != kalselAwards {
		t.Fatalf("awards after the restart: %d, %v", len(list.GetAwards()), err)
	}
	for _, a := range list.GetAwards() {
		if !proto.Equal(a.GetCeremony(), ceremony) || !proto.Equal(a.GetPresentedBy(), presenter) {
			t.Fatalf("award %s lost the ceremony the publication asked for: %v / %v", a.GetId(), a.GetCeremony(), a.GetPresentedBy())
		}
	}

	// Another restart finds nothing to do.
	s.svcStop()
	s.startAssessment()
	time.Sleep(300 * time.Millisecond)
	s.wantOnce(kalselAwards)
	s.wantAnnounced(kalselAwards)
}

// A record racing CloseRound either lands inside the close's fence and
// counts, or is refused: never acknowledged and then missing.
func TestRecordRacingCloseIsCountedOrRefused(t *testing.T) {
	s := newStack(t)
	const n = 24
	for i := range n {
		s.institution(fmt.Sprintf("kantah-uji-%02d", i), fmt.Sprintf("Kantor Pertanahan Uji %02d", i),
			registryv1.InstitutionKind_INSTITUTION_KIND_LAND_OFFICE, "63.01")
	}
	r := s.round("ombudsman", 2024)
	var wg sync.WaitGroup
	acked := make([]*assessmentv1.Assessment, n)
	errs := make([]error, n)
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			time.Sleep(time.Duration(i%8) * time.Millisecond)
			resp, err := s.record(r.GetId(), fmt.Sprintf("kantah-uji-%02d", i), reported(fmt.Sprintf("%d.00", 70+i)), 0, fmt.Sprintf("race-%d", i))
			acked[i], errs[i] = resp.GetAssessment(), err
		})
	}
	wg.Go(func() {
		<-start
		time.Sleep(3 * time.Millisecond)
		if _, err := s.svc.CloseRound(ctxT(t), &assessmentv1.CloseRoundRequest{RoundId: r.GetId()}); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	close(start)
	wg.Wait()

	if _, err := s.svc.PublishRound(ctxT(t), &assessmentv1.PublishRoundRequest{RoundId: r.GetId(), ForceReason: "test: published at once"}); err != nil {
		t.Fatal(err)
	}
	list, err := s.svc.ListAssessments(ctxT(t), &assessmentv1.ListAssessmentsRequest{RoundId: r.GetId(), PageSize: 100})
	if err != nil {
		t.Fatal(err)
	}
	listed := map[string]bool{}
	for _, a := range list.GetAssessments() {
		listed[a.GetInstitutionId()] = true
	}
	ackedN := 0
	for i := range n {
		inst := fmt.Sprintf("kantah-uji-%02d", i)
		if errs[i] == nil {
			ackedN++
			if !listed[inst] {
				t.Errorf("%s acknowledged (revision %d) but missing from the round", inst, acked[i].GetRevision())
			}
			continue
		}
		if c := status.Code(errs[i]); c != codes.FailedPrecondition {
			t.Errorf("%s refused with %v: %v", inst, c, errs[i])
		}
		if listed[inst] {
			t.Errorf("%s refused (%v) but counted in the round", inst, errs[i])
		}
	}
	t.Logf("%d of %d records landed before the close", ackedN, n)
}

func TestNATSDownIsUnavailableFast(t *testing.T) {
	s := newStack(t)
	s.kalsel()
	r := s.round("ombudsman", 2024)
	s.ns.Shutdown()
	time.Sleep(200 * time.Millisecond) // the client notices the disconnect
	start := time.Now()
	_, err := s.record(r.GetId(), "kantah-tanah-laut", reported("99.57"), 0, "req-nats-down")
	if took := time.Since(start); took > 2*time.Second {
		t.Fatalf("RecordAssessment took %v with NATS down", took)
	}
	wantCode(t, err, codes.Unavailable, "NATS is unreachable")
	start = time.Now()
	_, err = s.svc.GetRound(ctxT(t), &assessmentv1.GetRoundRequest{RoundId: r.GetId()})
	if took := time.Since(start); took > 2*time.Second {
		t.Fatalf("GetRound took %v with NATS down", took)
	}
	wantCode(t, err, codes.Unavailable, "NATS is unreachable")
}

// A revision decided on the OPEN round that lands after the close's fence
// (its recorder was refused) stays in the stream but is part of nothing: not
// the latest record after a restart, not the next revision's predecessor.
func TestRevisionPastTheFenceIsIgnored(t *testing.T) {
	s := newStack(t)
	s.kalsel()
	r := s.round("ombudsman", 2024)
	kv, err := s.js.KeyValue(ctxT(t), "assessment_rounds")
	if err != nil {
		t.Fatal(err)
	}
	open, err := kv.Get(ctxT(t), r.GetId())
	if err != nil {
		t.Fatal(err)
	}
	first := s.mustRecord(r.GetId(), "kantah-tanah-laut", reported("99.57"), 0, "req-inside")
	if _, err := s.svc.CloseRound(ctxT(t), &assessmentv1.CloseRoundRequest{RoundId: r.GetId()}); err != nil {
		t.Fatal(err)
	}
	stray := proto.Clone(first).(*assessmentv1.Assessment)
	stray.Revision, stray.RequestId, stray.Total = 2, "req-past-the-fence", "10.00"
	subject := events.AssessmentSubject("ombudsman", 2024, "kantah-tanah-laut")
	msg, err := events.NewMsg(subject, events.SourceAssessment, "kantah-tanah-laut",
		&eventsv1.AssessmentRecorded{EventId: "stray", Assessment: stray, RoundRevision: open.Revision()})
	if err != nil {
		t.Fatal(err)
	}
	ack, err := s.js.PublishMsg(ctxT(t), msg)
	if err != nil {
		t.Fatal(err)
	}
	// The close told every reader of the log where its fence is, and the
	// stray lies past it.
	m, err := s.js.Stream(ctxT(t), events.Rounds)
	if err != nil {
		t.Fatal(err)
	}
	last, err := m.GetLastMsgForSubject(ctxT(t), events.RoundChangedSubject("ombudsman", 2024))
	if err != nil {
		t.Fatal(err)
	}
	closed, err := events.DecodeAs[eventsv1.RoundChanged](last.Subject, last.Data)
	if err != nil {
		t.Fatal(err)
	}
	if fs := closed.GetFences(); closed.GetType() != eventsv1.RoundChangeType_ROUND_CHANGE_TYPE_CLOSED || len(fs) != 1 ||
		fs[0].GetRoundRevision() != open.Revision() || fs[0].GetSequence() == 0 || ack.Sequence <= fs[0].GetSequence() {
		t.Fatalf("CLOSED event %v with fences %v; want the fence of revision %d below the stray's sequence %d", closed.GetType(), closed.GetFences(), open.Revision(), ack.Sequence)
	}

	s.svcStop()
	s.startAssessment()
	got, err := s.svc.GetAssessment(ctxT(t), &assessmentv1.GetAssessmentRequest{RoundId: r.GetId(), InstitutionId: "kantah-tanah-laut"})
	if err != nil || got.GetAssessment().GetRevision() != 1 || got.GetAssessment().GetTotal() != first.GetTotal() {
		t.Fatalf("latest record = %v, %v; want revision 1", got.GetAssessment(), err)
	}
	list, err := s.svc.ListAssessments(ctxT(t), &assessmentv1.ListAssessmentsRequest{RoundId: r.GetId()})
	if err != nil || len(list.GetAssessments()) != 1 || list.GetAssessments()[0].GetRevision() != 1 {
		t.Fatalf("listed = %v, %v", list.GetAssessments(), err)
	}
	if _, err := s.svc.ReopenRound(ctxT(t), &assessmentv1.ReopenRoundRequest{RoundId: r.GetId(), Reason: "one more figure"}); err != nil {
		t.Fatal(err)
	}
	next := s.mustRecord(r.GetId(), "kantah-tanah-laut", reported("98.00"), 1, "req-after-reopen")
	if next.GetRevision() != 2 || next.GetTotal() != "98.00" {
		t.Fatalf("revision after the refused one = %v", next)
	}
}
