package app

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/predikat-id/predikat/pkg/platform/fault"
	"github.com/predikat-id/predikat/services/assessment/internal/model"
	"github.com/predikat-id/predikat/services/assessment/internal/scheme"
)

// yearFixture is a round of Ombudsman 2024 (a 10-working-day window) with a
// record of kab-banjar by "assessor", closed at close.
type yearFixture struct {
	app   *App
	store *fakeStore
	clock *movingClock
	close time.Time
}

func closedRound(t *testing.T) yearFixture {
	t.Helper()
	cat, err := scheme.Load()
	if err != nil {
		t.Fatal(err)
	}
	st := newFakeStore()
	reg := &fakeRegistry{institutions: map[string]model.Institution{
		"kab-banjar": {ID: "kab-banjar", Name: "Pemerintah Kabupaten Banjar", Kind: regency, RegionCode: "63.03"},
	}}
	clk := &movingClock{t: time.Date(2025, 3, 3, 2, 0, 0, 0, time.UTC)}
	a := New(cat, st, reg, clk, dayWindows{})
	ctx := context.Background()
	if _, err := a.CreateRound.Handle(ctx, CreateRound{SchemeID: "ombudsman", Year: 2024, By: "manager"}); err != nil {
		t.Fatal(err)
	}
	rec := RecordAssessment{RoundID: "ombudsman-2024", InstitutionID: "kab-banjar", Input: model.Input{ReportedTotal: "77.50"}, RequestID: "r1", By: "assessor"}
	if _, err := a.RecordAssessment.Handle(ctx, rec); err != nil {
		t.Fatal(err)
	}
	if _, err := a.CloseRound.Handle(ctx, CloseRound{RoundID: "ombudsman-2024"}); err != nil {
		t.Fatal(err)
	}
	return yearFixture{app: a, store: st, clock: clk, close: clk.Now()}
}

// closedWithObjection is closedRound with kab-banjar's objection o1 filed.
func closedWithObjection(t *testing.T) (yearFixture, FiledObjection) {
	t.Helper()
	f := closedRound(t)
	filed, err := f.app.FileObjection.Handle(context.Background(), fileBanjar("o1"))
	if err != nil {
		t.Fatal(err)
	}
	return f, filed
}

func fileBanjar(requestID string) FileObjection {
	return FileObjection{RoundID: "ombudsman-2024", InstitutionID: "kab-banjar", Reasons: "pengaduan register ignored",
		Evidence: []string{"SK 12/2024"}, RequestID: requestID, By: "banjar-account"}
}

func TestObjectionFiledOnceAndChecked(t *testing.T) {
	f := closedRound(t)
	ctx := context.Background()
	got, err := f.app.FileObjection.Handle(ctx, fileBanjar("o1"))
	if err != nil {
		t.Fatal(err)
	}
	o := got.Objection
	if !got.Created || o.State != model.ObjectionOpen || o.AgainstRevision != 1 || o.AgainstTotal != "77.50" || o.FiledBy != "banjar-account" ||
		!strings.HasPrefix(o.ID, "obj-") || o.WindowEnd.IsZero() {
		t.Fatalf("filed %+v", got)
	}
	again, err := f.app.FileObjection.Handle(ctx, fileBanjar("o1"))
	if err != nil || again.Created || again.Objection.ID != o.ID {
		t.Fatalf("retry = %+v, %v", again, err)
	}
	other := fileBanjar("o1")
	other.Reasons = "something else"
	if _, err := f.app.FileObjection.Handle(ctx, other); !fault.Is(err, fault.Exists) {
		t.Fatalf("same request id, other request: %v", err)
	}
	stale := fileBanjar("o2")
	stale.AgainstRevision = 7
	if _, err := f.app.FileObjection.Handle(ctx, stale); !fault.Is(err, fault.Conflict) {
		t.Fatalf("against a revision that is not the latest: %v", err)
	}
	none := fileBanjar("o3")
	none.InstitutionID = "kab-tapin"
	if _, err := f.app.FileObjection.Handle(ctx, none); !fault.Is(err, fault.Precondition) {
		t.Fatalf("no record to object to: %v", err)
	}
	bidi := fileBanjar("o4")
	bidi.Evidence = []string{"ok", "SK\u202e12"}
	if _, err := f.app.FileObjection.Handle(ctx, bidi); !fault.Is(err, fault.Invalid) || !strings.Contains(err.Error(), "evidence[1]") {
		t.Fatalf("a bidi override in evidence: %v", err)
	}
	// After the window, nothing more is filed.
	f.clock.set(o.WindowEnd)
	if _, err := f.app.FileObjection.Handle(ctx, fileBanjar("o5")); !fault.Is(err, fault.Precondition) || !strings.Contains(err.Error(), "ended") {
		t.Fatalf("filed after the window: %v", err)
	}
}

func TestObjectionNeedsClosedRound(t *testing.T) {
	f := closedRound(t)
	ctx := context.Background()
	if _, err := f.app.ReopenRound.Handle(ctx, ReopenRound{RoundID: "ombudsman-2024", Reason: "late"}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.app.FileObjection.Handle(ctx, fileBanjar("o1")); !fault.Is(err, fault.Precondition) || !strings.Contains(err.Error(), "OPEN") {
		t.Fatalf("filed in an OPEN round: %v", err)
	}
}

func TestObjectionAcceptedCorrectsTheRecord(t *testing.T) {
	f, filed := closedWithObjection(t)
	ctx := context.Background()
	accept := DecideObjection{RoundID: "ombudsman-2024", InstitutionID: "kab-banjar", ObjectionID: filed.Objection.ID,
		Decision: model.ObjectionAccepted, Reasons: "register verified", Input: &model.Input{ReportedTotal: "81.25"}, RequestID: "d1"}
	// The assessor of the record may not decide.
	accept.By = "assessor"
	if _, err := f.app.DecideObjection.Handle(ctx, accept); !fault.Is(err, fault.Denied) || !strings.Contains(err.Error(), "recorded revision 1") {
		t.Fatalf("decided by its assessor: %v", err)
	}
	accept.By = "reviewer"
	got, err := f.app.DecideObjection.Handle(ctx, accept)
	if err != nil {
		t.Fatal(err)
	}
	o, c := got.Objection, got.Correction
	if o.State != model.ObjectionAccepted || o.DecidedBy != "reviewer" || o.CorrectionRevision != 2 || o.CorrectedTotal != "81.25" || o.CorrectedBandCode != "B" {
		t.Fatalf("decided %+v", o)
	}
	if c == nil || c.Revision != 2 || c.ObjectionID != o.ID || c.RecordedBy != "reviewer" || !strings.Contains(c.Reason, "register verified") || c.AfterPublication {
		t.Fatalf("correction %+v", c)
	}
	// A retry answers the same; the objection is decided once.
	again, err := f.app.DecideObjection.Handle(ctx, accept)
	if err != nil || again.Objection.CorrectionRevision != 2 || again.Correction.Revision != 2 {
		t.Fatalf("retry = %+v, %v", again, err)
	}
	reject := accept
	reject.RequestID, reject.Decision, reject.Input = "d2", model.ObjectionRejected, nil
	if _, err := f.app.DecideObjection.Handle(ctx, reject); !fault.Is(err, fault.Precondition) || !strings.Contains(err.Error(), "already ACCEPTED") {
		t.Fatalf("decided twice: %v", err)
	}
	// The reviewer who corrected it now assessed it: a later objection
	// goes to someone else.
	second, err := f.app.FileObjection.Handle(ctx, fileBanjar("o2"))
	if err != nil {
		t.Fatal(err)
	}
	reject.ObjectionID, reject.RequestID = second.Objection.ID, "d3"
	if _, err := f.app.DecideObjection.Handle(ctx, reject); !fault.Is(err, fault.Denied) {
		t.Fatalf("decided by the author of revision 2: %v", err)
	}
}

func TestDecisionNeedsInputOnlyToAccept(t *testing.T) {
	f, filed := closedWithObjection(t)
	ctx := context.Background()
	d := DecideObjection{RoundID: "ombudsman-2024", InstitutionID: "kab-banjar", ObjectionID: filed.Objection.ID,
		Decision: model.ObjectionAccepted, Reasons: "r", RequestID: "d1", By: "reviewer"}
	if _, err := f.app.DecideObjection.Handle(ctx, d); !fault.Is(err, fault.Invalid) {
		t.Fatalf("accepted without figures: %v", err)
	}
	d.Decision, d.Input = model.ObjectionRejected, &model.Input{ReportedTotal: "90.00"}
	if _, err := f.app.DecideObjection.Handle(ctx, d); !fault.Is(err, fault.Invalid) {
		t.Fatalf("rejected with figures: %v", err)
	}
	d.ObjectionID = "obj-aaaaaaaaaaaaaaaa"
	d.Input = nil
	if _, err := f.app.DecideObjection.Handle(ctx, d); !fault.Is(err, fault.NotFound) {
		t.Fatalf("unknown objection: %v", err)
	}
}

func TestPublishWaitsForObjections(t *testing.T) {
	f, filed := closedWithObjection(t)
	ctx := context.Background()
	// Open objection and running window: refused, naming the objection.
	if _, err := f.app.PublishRound.Handle(ctx, PublishRound{RoundID: "ombudsman-2024"}); !fault.Is(err, fault.Precondition) || !strings.Contains(err.Error(), filed.Objection.ID) {
		t.Fatalf("published with an open objection: %v", err)
	}
	if _, err := f.app.DecideObjection.Handle(ctx, DecideObjection{RoundID: "ombudsman-2024", InstitutionID: "kab-banjar",
		ObjectionID: filed.Objection.ID, Decision: model.ObjectionRejected, Reasons: "no evidence", RequestID: "d1", By: "reviewer"}); err != nil {
		t.Fatal(err)
	}
	// Decided, but the window still runs.
	if _, err := f.app.PublishRound.Handle(ctx, PublishRound{RoundID: "ombudsman-2024"}); !fault.Is(err, fault.Precondition) || !strings.Contains(err.Error(), "runs until") {
		t.Fatalf("published inside the window: %v", err)
	}
	if r, _ := f.store.Round(ctx, "ombudsman-2024"); r.State != model.RoundClosed {
		t.Fatalf("a refused publication changed the round: %v", r.State)
	}
	f.clock.set(filed.Objection.WindowEnd)
	got, err := f.app.PublishRound.Handle(ctx, PublishRound{RoundID: "ombudsman-2024"})
	if err != nil || got.Round.State != model.RoundPublished || got.Round.PublishForceReason != "" {
		t.Fatalf("published after the window: %+v, %v", got.Round, err)
	}
}

func TestPublishForcedKeepsTheReason(t *testing.T) {
	f, filed := closedWithObjection(t)
	ctx := context.Background()
	got, err := f.app.PublishRound.Handle(ctx, PublishRound{RoundID: "ombudsman-2024", ForceReason: "ministerial deadline"})
	if err != nil || got.Round.PublishForceReason != "ministerial deadline" {
		t.Fatalf("forced publication: %+v, %v", got.Round, err)
	}
	// The objection is still decided: an acceptance is now a correction of
	// the published round.
	res, err := f.app.DecideObjection.Handle(ctx, DecideObjection{RoundID: "ombudsman-2024", InstitutionID: "kab-banjar",
		ObjectionID: filed.Objection.ID, Decision: model.ObjectionAccepted, Reasons: "verified", Input: &model.Input{ReportedTotal: "88.00"},
		RequestID: "d1", By: "reviewer"})
	if err != nil || res.Correction == nil || !res.Correction.AfterPublication || res.Correction.BandCode != "A" {
		t.Fatalf("accepted after a forced publication: %+v, %v", res, err)
	}
	if len(f.store.corrected) != 1 {
		t.Fatalf("the correction was announced %d times", len(f.store.corrected))
	}
}

// An acceptance cut short after its decision was stored (its correction
// not yet) holds up the publication, and is finished by sending it again;
// another reviewer cannot overrule it meanwhile.
func TestAcceptanceCutShortIsFinished(t *testing.T) {
	f, filed := closedWithObjection(t)
	ctx := context.Background()
	accept := DecideObjection{RoundID: "ombudsman-2024", InstitutionID: "kab-banjar", ObjectionID: filed.Objection.ID,
		Decision: model.ObjectionAccepted, Reasons: "verified", Input: &model.Input{ReportedTotal: "81.25"}, RequestID: "d1", By: "reviewer"}
	// The decision as the first try stored it before stopping.
	claim := filed.Objection
	claim.State, claim.DecidedBy, claim.DecisionReasons = model.ObjectionAccepted, "reviewer", "verified"
	claim.DecideRequestID, claim.DecideFingerprint = "d1", accept.fingerprint()
	if _, err := f.store.DecideObjection(ctx, claim); err != nil {
		t.Fatal(err)
	}
	f.clock.set(filed.Objection.WindowEnd)
	if _, err := f.app.PublishRound.Handle(ctx, PublishRound{RoundID: "ombudsman-2024"}); !fault.Is(err, fault.Precondition) || !strings.Contains(err.Error(), filed.Objection.ID) {
		t.Fatalf("published with an acceptance unfinished: %v", err)
	}
	reject := DecideObjection{RoundID: "ombudsman-2024", InstitutionID: "kab-banjar", ObjectionID: filed.Objection.ID,
		Decision: model.ObjectionRejected, Reasons: "no", RequestID: "d2", By: "other-reviewer"}
	if _, err := f.app.DecideObjection.Handle(ctx, reject); !fault.Is(err, fault.Precondition) || !strings.Contains(err.Error(), "already ACCEPTED") {
		t.Fatalf("overruled an acceptance: %v", err)
	}
	other := accept
	other.Input = &model.Input{ReportedTotal: "99.00"}
	if _, err := f.app.DecideObjection.Handle(ctx, other); !fault.Is(err, fault.Exists) {
		t.Fatalf("the same request id with other figures: %v", err)
	}
	got, err := f.app.DecideObjection.Handle(ctx, accept)
	if err != nil {
		t.Fatal(err)
	}
	if got.Objection.State != model.ObjectionAccepted || got.Objection.CorrectionRevision != 2 || got.Correction.Total != "81.25" {
		t.Fatalf("finished acceptance %+v", got)
	}
	appends := f.store.appends
	if again, err := f.app.DecideObjection.Handle(ctx, accept); err != nil || again.Correction.Revision != 2 || f.store.appends != appends {
		t.Fatalf("sent once more: %+v, %v, %d appends", again, err, f.store.appends-appends)
	}
	if _, err := f.app.PublishRound.Handle(ctx, PublishRound{RoundID: "ombudsman-2024"}); err != nil {
		t.Fatalf("publish after the acceptance finished: %v", err)
	}
}

// An acceptance whose figures cannot be recorded is refused before anything
// is stored: the objection stays OPEN for a decision that can be completed.
func TestAcceptanceWithBadFiguresStoresNothing(t *testing.T) {
	f, filed := closedWithObjection(t)
	ctx := context.Background()
	bad := DecideObjection{RoundID: "ombudsman-2024", InstitutionID: "kab-banjar", ObjectionID: filed.Objection.ID,
		Decision: model.ObjectionAccepted, Reasons: "x", Input: &model.Input{ReportedTotal: "181.25"}, RequestID: "d1", By: "reviewer"}
	if _, err := f.app.DecideObjection.Handle(ctx, bad); !fault.Is(err, fault.Invalid) {
		t.Fatalf("figures out of scale: %v", err)
	}
	o, _ := f.app.ObjectionQueries.Objection(ctx, "ombudsman-2024", "kab-banjar", filed.Objection.ID)
	if o.State != model.ObjectionOpen {
		t.Fatalf("a refused acceptance left the objection %s", o.State)
	}
	good := bad
	good.Input = &model.Input{ReportedTotal: "81.25"}
	if got, err := f.app.DecideObjection.Handle(ctx, good); err != nil || got.Correction.Total != "81.25" {
		t.Fatalf("the corrected acceptance under the same request id: %+v, %v", got, err)
	}
}
