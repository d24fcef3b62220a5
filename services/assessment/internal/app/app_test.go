package app

import (
	"context"
	"testing"
	"time"

	"github.com/predikat-id/predikat/pkg/platform/fault"
	"github.com/predikat-id/predikat/services/assessment/internal/model"
	"github.com/predikat-id/predikat/services/assessment/internal/scheme"
)

const regency model.Kind = 2 // INSTITUTION_KIND_REGENCY_GOVERNMENT

type fixture struct {
	app   *App
	store *fakeStore
	reg   *fakeRegistry
	round model.Round
}

func setup(t *testing.T) fixture {
	t.Helper()
	cat, err := scheme.Load()
	if err != nil {
		t.Fatal(err)
	}
	st, reg := newFakeStore(), &fakeRegistry{institutions: map[string]model.Institution{
		"kab-banjar": {ID: "kab-banjar", Name: "Pemerintah Kabupaten Banjar", Kind: regency, RegionCode: "63.03",
			Head: &model.Head{Name: "Saidi Mansyur", TermStart: "2021-02-26"}, PastHeads: []model.Head{{Name: "Khalilurrahman", TermStart: "2016-02-17", TermEnd: "2021-02-17"}}},
		"kab-retired": {ID: "kab-retired", Kind: regency, RegionCode: "63.03", Retired: true, RetireReason: "merged"},
	}}
	a := New(cat, st, reg, fixedClock{time.Date(2024, 12, 11, 10, 0, 0, 0, time.UTC)}, dayWindows{})
	r, err := a.CreateRound.Handle(context.Background(), CreateRound{SchemeID: "ombudsman", Year: 2024, By: "tester"})
	if err != nil {
		t.Fatal(err)
	}
	return fixture{app: a, store: st, reg: reg, round: r}
}

func bandA(requestID string) RecordAssessment {
	return RecordAssessment{RoundID: "ombudsman-2024", InstitutionID: "kab-banjar", Input: model.Input{ReportedBand: "a"}, RequestID: requestID, By: "tester"}
}

func TestRecordNew(t *testing.T) {
	f := setup(t)
	got, err := f.app.RecordAssessment.Handle(context.Background(), bandA("r1"))
	if err != nil {
		t.Fatal(err)
	}
	a := got.Assessment
	if !got.Created || a.Revision != 1 || a.BandCode != "A" || a.Basis != model.BasisReportedBand || a.RecordedBy != "tester" {
		t.Fatalf("recorded %+v created=%v", a, got.Created)
	}
	snap := a.Institution
	if snap.RegionName != "Kabupaten Banjar" || snap.ProvinceCode != "63" || snap.ProvinceName != "Kalimantan Selatan" || snap.Head.Name != "Saidi Mansyur" {
		t.Fatalf("snapshot %+v", snap)
	}
}

func TestRecordRetryGetsFirstAnswer(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	first, err := f.app.RecordAssessment.Handle(ctx, bandA("r1"))
	if err != nil {
		t.Fatal(err)
	}
	lookups := f.reg.lookups
	again, err := f.app.RecordAssessment.Handle(ctx, bandA("r1"))
	if err != nil || again.Created || again.Assessment != first.Assessment {
		t.Fatalf("retry = %+v %v", again, err)
	}
	if f.store.appends != 1 || f.reg.lookups != lookups {
		t.Fatalf("a retry appends nothing and asks the registry nothing: %d appends, %d lookups", f.store.appends, f.reg.lookups-lookups)
	}
	// Still the first answer once the round has been closed.
	if _, err := f.app.CloseRound.Handle(ctx, CloseRound{RoundID: f.round.ID}); err != nil {
		t.Fatal(err)
	}
	if late, err := f.app.RecordAssessment.Handle(ctx, bandA("r1")); err != nil || late.Assessment != first.Assessment {
		t.Fatalf("retry after close = %+v %v", late, err)
	}
}

func TestRecordRefusedUnlessOpen(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	if _, err := f.app.CloseRound.Handle(ctx, CloseRound{RoundID: f.round.ID}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.app.RecordAssessment.Handle(ctx, bandA("r1")); !fault.Is(err, fault.Precondition) {
		t.Fatalf("recording into a CLOSED round: %v", err)
	}
	if f.store.appends != 0 {
		t.Fatal("nothing may be appended")
	}
	retired := bandA("r2")
	retired.InstitutionID = "kab-retired"
	if _, err := f.app.ReopenRound.Handle(ctx, ReopenRound{RoundID: f.round.ID, Reason: "late"}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.app.RecordAssessment.Handle(ctx, retired); !fault.Is(err, fault.Precondition) {
		t.Fatalf("recording a retired institution: %v", err)
	}
}

func TestRecordDecidesAgainWhenTheRoundMoves(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	f.store.beforeAppend = func() {
		closed := f.round
		closed.State = model.RoundClosed
		f.store.put(closed)
	}
	if _, err := f.app.RecordAssessment.Handle(ctx, bandA("r1")); !fault.Is(err, fault.Precondition) {
		t.Fatalf("a round closed during the record refuses it: %v", err)
	}
	if f.store.appends != 0 {
		t.Fatal("nothing may be appended")
	}
}

func publish(t *testing.T, f fixture) Published {
	t.Helper()
	ctx := context.Background()
	if _, err := f.app.CloseRound.Handle(ctx, CloseRound{RoundID: f.round.ID}); err != nil {
		t.Fatal(err)
	}
	p, err := f.app.PublishRound.Handle(ctx, PublishRound{RoundID: f.round.ID, ForceReason: "test: published at once", Ceremony: &model.Ceremony{Name: "Penganugerahan", Date: "2019-12-11"}})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestPublishGrantsAwardsOnce(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	if _, err := f.app.RecordAssessment.Handle(ctx, bandA("r1")); err != nil {
		t.Fatal(err)
	}
	p := publish(t, f)
	if p.Round.State != model.RoundPublished || p.AwardsGranted != 1 || p.AwardsExisting != 0 {
		t.Fatalf("publish = %+v", p)
	}
	again, err := f.app.PublishRound.Handle(ctx, PublishRound{RoundID: f.round.ID, ForceReason: "test: published at once"})
	if err != nil || again.AwardsGranted != 0 || again.AwardsExisting != 1 {
		t.Fatalf("publishing again grants nothing twice: %+v %v", again, err)
	}
	awards, _ := f.store.Awards("", 10, func(*model.Award) bool { return true })
	if len(awards) != 1 || awards[0].Institution.Head.Name != "Khalilurrahman" || awards[0].Basis.RuleCode != "band-a" {
		t.Fatalf("awards %+v: one band-a award, to the head in office on the ceremony day", awards)
	}
}

func TestCorrectionRevokesAndAnnounces(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	if _, err := f.app.RecordAssessment.Handle(ctx, bandA("r1")); err != nil {
		t.Fatal(err)
	}
	cmd := bandA("fix-1")
	cmd.Input.ReportedBand, cmd.CorrectsRevision, cmd.Reason = "B", 1, "recount"
	if _, err := f.app.CorrectAssessment.Handle(ctx, cmd); !fault.Is(err, fault.Precondition) {
		t.Fatalf("correcting an OPEN round: %v", err)
	}
	publish(t, f)
	got, err := f.app.CorrectAssessment.Handle(ctx, cmd)
	if err != nil {
		t.Fatal(err)
	}
	if !got.Created || got.Assessment.Revision != 2 || !got.Assessment.AfterPublication || len(got.AwardsRevoked) != 1 || len(got.AwardsGranted) != 0 {
		t.Fatalf("correction = %+v", got)
	}
	if n := len(f.store.corrected); n != 1 {
		t.Fatalf("%d announcements", n)
	}
	c := f.store.corrected[0]
	if c.Previous.BandCode != "A" || c.Current.BandCode != "B" || c.EventID != "round-corrected/ombudsman-2024/kab-banjar/2" {
		t.Fatalf("announcement %+v", c)
	}
	// A retry answers the same and revokes nothing more.
	again, err := f.app.CorrectAssessment.Handle(ctx, cmd)
	if err != nil || again.Created || len(again.AwardsRevoked) != 0 {
		t.Fatalf("retry = %+v %v", again, err)
	}
}

func TestRevokeAward(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	g, err := f.app.GrantAward.Handle(ctx, GrantAward{InstitutionID: "kab-banjar", Title: "Inovasi", SchemeID: "ombudsman", Year: 2024,
		BandCode: "a", Score: "88,5", RequestID: "g1", By: "tester", Ceremony: &model.Ceremony{Name: "Rakor", Date: "2025-04-17"}})
	if err != nil {
		t.Fatal(err)
	}
	a := g.Award
	if !g.Created || a.RoundID != f.round.ID || a.Basis.BandCode != "A" || a.Basis.Score != "88.5" || a.Basis.Kind != model.AwardBasisManual {
		t.Fatalf("granted %+v", a)
	}
	for range 2 {
		got, err := f.app.RevokeAward.Handle(ctx, RevokeAward{AwardID: a.ID, Reason: "mistake", By: "tester"})
		if err != nil || got.State != model.AwardRevoked || got.RevokeReason != "mistake" {
			t.Fatalf("revoke = %+v %v", got, err)
		}
	}
	if _, err := f.app.RevokeAward.Handle(ctx, RevokeAward{AwardID: "aw-none"}); !fault.Is(err, fault.NotFound) {
		t.Fatalf("revoking an unknown award: %v", err)
	}
}

func TestHeadOnTheCeremonyDay(t *testing.T) {
	hss := model.Institution{
		Head:      &model.Head{Name: "Syafrudin Noor", TermStart: "2025-02-20"},
		PastHeads: []model.Head{{Name: "Achmad Fikry", TermStart: "2018-09-24", TermEnd: "2025-02-20"}},
	}
	for day, want := range map[string]string{
		"2024-12-11": "Achmad Fikry",   // Ombudsman ceremony
		"2025-04-17": "Syafrudin Noor", // Rakor Pelayanan Publik
		"2025-02-20": "Syafrudin Noor", // the day the new term starts
		"":           "Syafrudin Noor", // no date: today's head
		"2010-01-01": "Syafrudin Noor", // before any known term: the current head
	} {
		if got := headOn(hss, day).Name; got != want {
			t.Errorf("head on %q = %s, want %s", day, got, want)
		}
	}
}

// A caller admitted for published results only is refused a round's
// records until it is published, and sees them after; everyone else sees
// them all along.
func TestPublishedOnlyAudience(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	if _, err := f.app.RecordAssessment.Handle(ctx, bandA("r1")); err != nil {
		t.Fatal(err)
	}
	public := Audience{PublishedOnly: true, Lacking: "assessments.read"}
	if _, err := f.app.Queries.Assessment(ctx, public, f.round.ID, "kab-banjar", 0); !fault.Is(err, fault.Denied) {
		t.Fatalf("provisional record to the public: %v, want Denied", err)
	}
	if _, _, err := f.app.Queries.Assessments(ctx, AssessmentFilter{Audience: public, RoundID: f.round.ID}, Page{Size: 10}); !fault.Is(err, fault.Denied) {
		t.Fatalf("provisional list to the public: %v, want Denied", err)
	}
	if _, _, err := f.app.Queries.Revisions(ctx, public, f.round.ID, "kab-banjar", 0, 10); !fault.Is(err, fault.Denied) {
		t.Fatalf("provisional revisions to the public: %v, want Denied", err)
	}
	if got, _, err := f.app.Queries.History(ctx, HistoryFilter{Audience: public, InstitutionID: "kab-banjar"}, Page{Size: 10}); err != nil || len(got) != 0 {
		t.Fatalf("history to the public before publication = %v, %v; want nothing", got, err)
	}
	if a, err := f.app.Queries.Assessment(ctx, Audience{}, f.round.ID, "kab-banjar", 0); err != nil || a.Revision != 1 {
		t.Fatalf("provisional record to a reader = %v, %v", a, err)
	}
	publish(t, f)
	if a, err := f.app.Queries.Assessment(ctx, public, f.round.ID, "kab-banjar", 0); err != nil || a.Revision != 1 {
		t.Fatalf("published record to the public = %v, %v", a, err)
	}
	if got, _, err := f.app.Queries.History(ctx, HistoryFilter{Audience: public, InstitutionID: "kab-banjar"}, Page{Size: 10}); err != nil || len(got) != 1 {
		t.Fatalf("history to the public after publication = %v, %v", got, err)
	}
}
