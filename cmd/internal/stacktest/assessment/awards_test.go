package assessment_test

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/predikat-id/predikat/pkg/awardfeed"
	"github.com/predikat-id/predikat/pkg/events"
	assessmentv1 "github.com/predikat-id/predikat/pkg/gen/predikat/assessment/v1"
	registryv1 "github.com/predikat-id/predikat/pkg/gen/predikat/registry/v1"
	"google.golang.org/grpc/codes"
)

// closedKalselRound records the seed figures and closes the round.
func (s *stack) closedKalselRound() *assessmentv1.Round {
	s.kalsel()
	s.institution("pemkab-banjar", "Pemerintah Kabupaten Banjar", registryv1.InstitutionKind_INSTITUTION_KIND_REGENCY_GOVERNMENT, "63.03")
	r := s.round("ombudsman", 2024)
	for inst, total := range map[string]string{"pemprov-kalsel": "94.58", "pemkab-hss": "96.52", "polres-hss": "96.64",
		"kantah-tanah-laut": "99.57", "pemkab-banjar": "85.10"} {
		s.mustRecord(r.GetId(), inst, reported(total), 0, "seed-"+inst)
	}
	if _, err := s.svc.CloseRound(ctxT(s.t), &assessmentv1.CloseRoundRequest{RoundId: r.GetId()}); err != nil {
		s.t.Fatal(err)
	}
	return r
}

func (s *stack) awardMessages() map[string]uint64 {
	st, err := s.js.Stream(ctxT(s.t), events.Awards)
	if err != nil {
		s.t.Fatal(err)
	}
	info, err := st.Info(ctxT(s.t), jetstream.WithSubjectFilter("predikat.award.granted.>"))
	if err != nil {
		s.t.Fatal(err)
	}
	return info.State.Subjects
}

// wantOnce checks every granted award subject holds exactly one message.
func (s *stack) wantOnce(n int) {
	s.t.Helper()
	subjects := s.awardMessages()
	if len(subjects) != n {
		s.t.Fatalf("%d awards in the stream, want %d", len(subjects), n)
	}
	for subj, count := range subjects {
		if count != 1 {
			s.t.Fatalf("%s granted %d times", subj, count)
		}
	}
}

var ceremony = &assessmentv1.Ceremony{Name: "Penganugerahan Predikat Kepatuhan Penyelenggaraan Pelayanan Publik 2024",
	Place: "Ballroom Swiss-Belhotel Banjarmasin", Date: "2024-12-11"}

// The seed round grants: band A to the four A institutions, and the top of
// each provincial board: HSS among pemda and pemkab, Polres HSS, Kantah
// Tanah Laut. (No national tops: the scheme has no national rank awards.)
const kalselAwards = 4 + 4

func TestPublishGrantsRuleAwardsOnceEvenWhenRetried(t *testing.T) {
	s := newStack(t)
	r := s.closedKalselRound()
	first, err := s.svc.PublishRound(ctxT(t), &assessmentv1.PublishRoundRequest{RoundId: r.GetId(), ForceReason: "test: published at once", Ceremony: ceremony,
		PresentedBy: &assessmentv1.PresentedBy{Name: "Hadi Rahman", Office: "Kepala Perwakilan Ombudsman RI Kalsel"}})
	if err != nil {
		t.Fatal(err)
	}
	if first.GetAwardsGranted() != kalselAwards || first.GetAwardsExisting() != 0 {
		t.Fatalf("first publish granted %d (existing %d), want %d", first.GetAwardsGranted(), first.GetAwardsExisting(), kalselAwards)
	}
	again, err := s.svc.PublishRound(ctxT(t), &assessmentv1.PublishRoundRequest{RoundId: r.GetId(), ForceReason: "test: published at once", Ceremony: ceremony})
	if err != nil || again.GetAwardsGranted() != 0 || again.GetAwardsExisting() != kalselAwards {
		t.Fatalf("retried publish = granted %d existing %d, %v", again.GetAwardsGranted(), again.GetAwardsExisting(), err)
	}
	s.wantOnce(kalselAwards)

	list, err := s.svc.ListAwards(ctxT(t), &assessmentv1.ListAwardsRequest{InstitutionId: "kantah-tanah-laut"})
	if err != nil {
		t.Fatal(err)
	}
	var titles []string
	for _, a := range list.GetAwards() {
		titles = append(titles, a.GetTitle())
		if a.GetCeremony().GetDate() != "2024-12-11" || a.GetBasis().GetScore() != "99.57" || a.GetState() != assessmentv1.AwardState_AWARD_STATE_GRANTED {
			t.Errorf("award %v", a)
		}
	}
	sort.Strings(titles)
	want := "[Nilai Tertinggi Kantor Pertanahan se-Kalimantan Selatan Predikat Kepatuhan: Kualitas Tertinggi]"
	if fmt.Sprint(titles) != want {
		t.Fatalf("Tanah Laut's awards = %v", titles)
	}
	hss, _ := s.svc.ListAwards(ctxT(t), &assessmentv1.ListAwardsRequest{InstitutionId: "pemkab-hss", BasisKinds: []assessmentv1.AwardBasisKind{assessmentv1.AwardBasisKind_AWARD_BASIS_KIND_RANK}})
	ranks := map[string]int32{}
	for _, a := range hss.GetAwards() {
		ranks[a.GetBasis().GetPeerGroup()+"/"+a.GetBasis().GetScope()] = a.GetBasis().GetRank()
	}
	if ranks["pemda/63"] != 1 || ranks["pemkab/63"] != 1 {
		t.Fatalf("HSS should top pemda and pemkab in province 63: %v", ranks)
	}
}

func TestPublishInterruptedHalfwayIsFinishedByCallingAgain(t *testing.T) {
	s := newStack(t)
	r := s.closedKalselRound()
	disarm := s.interruptPublicationsAfter(3)
	_, err := s.svc.PublishRound(ctxT(t), &assessmentv1.PublishRoundRequest{RoundId: r.GetId(), ForceReason: "test: published at once", Ceremony: ceremony})
	if err == nil {
		t.Fatal("the interrupted publication answered OK")
	}
	s.wantInterrupted(r, 3)
	disarm()
	pub, err := s.svc.PublishRound(ctxT(t), &assessmentv1.PublishRoundRequest{RoundId: r.GetId(), ForceReason: "test: published at once", Ceremony: ceremony})
	if err != nil || pub.GetAwardsGranted() != kalselAwards-3 || pub.GetAwardsExisting() != 3 {
		t.Fatalf("finishing publish = %v, %v", pub, err)
	}
	s.wantOnce(kalselAwards)
	s.wantAnnounced(kalselAwards)
}

func TestTwoReplicasPublishingAtOnceGrantEachAwardOnce(t *testing.T) {
	s := newStack(t)
	r := s.closedKalselRound()
	first := s.svc
	s.startAssessment() // a second replica on the same NATS
	second := s.svc
	var wg sync.WaitGroup
	var granted [2]int32
	var errs [2]error
	for i, c := range []assessmentv1.AssessmentServiceClient{first, second} {
		wg.Go(func() {
			resp, err := c.PublishRound(ctxT(t), &assessmentv1.PublishRoundRequest{RoundId: r.GetId(), ForceReason: "test: published at once", Ceremony: ceremony})
			granted[i], errs[i] = resp.GetAwardsGranted(), err
		})
	}
	wg.Wait()
	if errs[0] != nil || errs[1] != nil {
		t.Fatalf("publish errors: %v", errs)
	}
	if granted[0]+granted[1] != kalselAwards {
		t.Fatalf("replicas granted %d + %d, want %d in all", granted[0], granted[1], kalselAwards)
	}
	s.wantOnce(kalselAwards)
	// The round counts the awards it gave.
	got, err := s.svc.GetRound(ctxT(t), &assessmentv1.GetRoundRequest{RoundId: r.GetId()})
	if err != nil || got.GetRound().GetAwardCount() != kalselAwards {
		t.Fatalf("round award_count = %d, %v; want %d", got.GetRound().GetAwardCount(), err, kalselAwards)
	}
}

func TestOfflineSubscriberReceivesEveryAward(t *testing.T) {
	s := newStack(t)
	r := s.closedKalselRound()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	seen := make(chan string, 64)
	handle := func(_ context.Context, ev awardfeed.Event) error {
		seen <- ev.Granted.GetAward().GetId()
		return nil
	}
	// The subscriber registers, then goes away before the round is published.
	sub, err := awardfeed.Subscribe(ctx, s.js, "kalsel-portal", awardfeed.Filter{ProvinceCode: "63"}, handle)
	if err != nil {
		t.Fatal(err)
	}
	sub.Stop()
	if _, err := s.svc.PublishRound(ctxT(t), &assessmentv1.PublishRoundRequest{RoundId: r.GetId(), ForceReason: "test: published at once", Ceremony: ceremony}); err != nil {
		t.Fatal(err)
	}
	manualReq := &assessmentv1.GrantAwardRequest{InstitutionId: "pemkab-hss", Title: "Penghargaan Indeks Reformasi Birokrasi Tahun 2024, Predikat AA",
		Ceremony:    &assessmentv1.Ceremony{Name: "Rapat Koordinasi Pelayanan Publik se-Kalimantan Selatan", Place: "Gedung Mahligai Pancasila, Banjarmasin", Date: "2025-04-17"},
		PresentedBy: &assessmentv1.PresentedBy{Name: "Hasnuryadi Sulaiman", Office: "Wakil Gubernur Kalimantan Selatan"},
		SchemeId:    "rb", Year: 2024, Score: "91,25", BandCode: "aa", RequestId: "rakor-2025-hss-rb"}
	manual, err := s.svc.GrantAward(ctxT(t), manualReq)
	if err != nil || !manual.GetCreated() || manual.GetAward().GetBasis().GetBandCode() != "AA" || manual.GetAward().GetBasis().GetScore() != "91.25" {
		t.Fatalf("manual award = %v, %v", manual, err)
	}
	retry, err := s.svc.GrantAward(ctxT(t), manualReq)
	if err != nil || retry.GetCreated() || retry.GetAward().GetId() != manual.GetAward().GetId() {
		t.Fatalf("retried manual award = %v, %v", retry, err)
	}
	// The same request id for another award is refused, not answered with
	// the first one.
	_, err = s.svc.GrantAward(ctxT(t), &assessmentv1.GrantAwardRequest{InstitutionId: "pemkab-hss", Title: "again", RequestId: "rakor-2025-hss-rb",
		Ceremony: &assessmentv1.Ceremony{Name: "x", Date: "2025-04-17"}})
	wantCode(t, err, codes.AlreadyExists, "request id rakor-2025-hss-rb was already used for a different request")
	// Back online: everything granted meanwhile arrives.
	sub, err = awardfeed.Subscribe(ctx, s.js, "kalsel-portal", awardfeed.Filter{ProvinceCode: "63"}, handle)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Stop()
	got := map[string]bool{}
	for len(got) < kalselAwards+1 {
		select {
		case id := <-seen:
			got[id] = true
		case <-ctx.Done():
			t.Fatalf("subscriber got %d of %d awards", len(got), kalselAwards+1)
		}
	}
	if !got[manual.GetAward().GetId()] {
		t.Fatal("the manual award did not reach the subscriber")
	}

	revoked, err := s.svc.RevokeAward(ctxT(t), &assessmentv1.RevokeAwardRequest{AwardId: manual.GetAward().GetId(), Reason: "entered twice"})
	if err != nil || revoked.GetAward().GetState() != assessmentv1.AwardState_AWARD_STATE_REVOKED {
		t.Fatalf("revoke = %v, %v", revoked, err)
	}
	// A retried revoke gets the same answer, not an error.
	again, err := s.svc.RevokeAward(ctxT(t), &assessmentv1.RevokeAwardRequest{AwardId: manual.GetAward().GetId(), Reason: "again"})
	if err != nil || again.GetAward().GetRevokeReason() != "entered twice" {
		t.Fatalf("retried revoke = %v, %v", again, err)
	}
	_, err = s.svc.GetAward(ctxT(t), &assessmentv1.GetAwardRequest{AwardId: "aw-aaaaaaaaaaaaaaaaaaaaaaaaaa"})
	wantCode(t, err, codes.NotFound, "aw-")
	_, err = s.svc.GrantAward(ctxT(t), &assessmentv1.GrantAwardRequest{InstitutionId: "pemkab-hss", Title: "x", SchemeId: "rb", Year: 2024, BandCode: "ZZ",
		Ceremony: &assessmentv1.Ceremony{Name: "x", Date: "2025-04-17"}, RequestId: "bad-band"})
	wantCode(t, err, codes.InvalidArgument, "ZZ")
}

func TestCorrectionAfterPublicationMovesRankAwards(t *testing.T) {
	s := newStack(t)
	r := s.closedKalselRound()
	if _, err := s.svc.PublishRound(ctxT(t), &assessmentv1.PublishRoundRequest{RoundId: r.GetId(), ForceReason: "test: published at once", Ceremony: ceremony}); err != nil {
		t.Fatal(err)
	}
	// An erratum puts Banjar above HSS: the provincial top awards move.
	fix, err := s.svc.CorrectPublishedAssessment(ctxT(t), &assessmentv1.CorrectPublishedAssessmentRequest{RoundId: r.GetId(), InstitutionId: "pemkab-banjar",
		Input: reported("97.00"), CorrectsRevision: 1, Reason: "erratum", RequestId: "erratum-banjar"})
	if err != nil {
		t.Fatal(err)
	}
	// Banjar gains band A and both provincial tops; HSS loses the two tops.
	if len(fix.GetAwardsGranted()) != 3 || len(fix.GetAwardsRevoked()) != 2 {
		t.Fatalf("granted %d, revoked %d", len(fix.GetAwardsGranted()), len(fix.GetAwardsRevoked()))
	}
	again, err := s.svc.CorrectPublishedAssessment(ctxT(t), &assessmentv1.CorrectPublishedAssessmentRequest{RoundId: r.GetId(), InstitutionId: "pemkab-banjar",
		Input: reported("97.00"), CorrectsRevision: 1, Reason: "erratum", RequestId: "erratum-banjar"})
	if err != nil || again.GetCreated() || len(again.GetAwardsGranted())+len(again.GetAwardsRevoked()) != 0 {
		t.Fatalf("retried correction = %v, %v", again, err)
	}
	// The erratum is withdrawn: HSS earns its two tops back (new grants, new
	// ids: a revoked award stays revoked in the history), Banjar loses three.
	back, err := s.svc.CorrectPublishedAssessment(ctxT(t), &assessmentv1.CorrectPublishedAssessmentRequest{RoundId: r.GetId(), InstitutionId: "pemkab-banjar",
		Input: reported("85.10"), CorrectsRevision: 2, Reason: "erratum withdrawn", RequestId: "erratum-banjar-undo"})
	if err != nil || len(back.GetAwardsGranted()) != 2 || len(back.GetAwardsRevoked()) != 3 {
		t.Fatalf("undo = granted %v revoked %v, %v", back.GetAwardsGranted(), back.GetAwardsRevoked(), err)
	}
	hss, _ := s.svc.ListAwards(ctxT(t), &assessmentv1.ListAwardsRequest{InstitutionId: "pemkab-hss", State: assessmentv1.AwardState_AWARD_STATE_GRANTED})
	if len(hss.GetAwards()) != 3 { // band A and the two provincial tops
		t.Fatalf("HSS stands with %d awards after the undo", len(hss.GetAwards()))
	}
	// Every correction after publication is announced, once.
	rounds, _ := s.js.Stream(ctxT(t), events.Rounds)
	info, _ := rounds.Info(ctxT(t), jetstream.WithSubjectFilter("predikat.round.corrected.>"))
	if n := info.State.Subjects["predikat.round.corrected.ombudsman.2024.pemkab-banjar"]; n != 2 {
		t.Fatalf("%d RoundCorrected events, want 2", n)
	}
}
