package app

import (
	"context"
	"strings"
	"testing"

	"github.com/predikat-id/predikat/pkg/platform/fault"
	"github.com/predikat-id/predikat/services/assessment/internal/model"
)

func isRequestReused(err error, requestID string) bool {
	return fault.Is(err, fault.Exists) && err != nil &&
		strings.Contains(err.Error(), "request id "+requestID+" was already used for a different request")
}

func TestRecordSameRequestIDOtherRequestIsRefused(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	first, err := f.app.RecordAssessment.Handle(ctx, bandA("r1"))
	if err != nil {
		t.Fatal(err)
	}
	other := bandA("r1")
	other.Input.ReportedBand = "b"
	if _, err := f.app.RecordAssessment.Handle(ctx, other); !isRequestReused(err, "r1") {
		t.Fatalf("same id, other band: %v", err)
	}
	// Not the figures only: every field of the request counts.
	noted := bandA("r1")
	noted.Input.Notes = "from the press"
	if _, err := f.app.RecordAssessment.Handle(ctx, noted); !isRequestReused(err, "r1") {
		t.Fatalf("same id, other notes: %v", err)
	}
	// The caller is not part of the request.
	byOther := bandA("r1")
	byOther.By = "someone-else"
	if again, err := f.app.RecordAssessment.Handle(ctx, byOther); err != nil || again.Assessment != first.Assessment {
		t.Fatalf("same request, other caller = %+v %v", again, err)
	}
	if f.store.appends != 1 {
		t.Fatalf("%d appends, want 1", f.store.appends)
	}
	// Superseded and the round closed: still compared, through the stored
	// request ids.
	next := bandA("r2")
	next.CorrectsRevision, next.Reason = 1, "erratum"
	if _, err := f.app.RecordAssessment.Handle(ctx, next); err != nil {
		t.Fatal(err)
	}
	if _, err := f.app.CloseRound.Handle(ctx, CloseRound{RoundID: f.round.ID}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.app.RecordAssessment.Handle(ctx, other); !isRequestReused(err, "r1") {
		t.Fatalf("superseded request id, other band: %v", err)
	}
	if late, err := f.app.RecordAssessment.Handle(ctx, bandA("r1")); err != nil || late.Assessment != first.Assessment {
		t.Fatalf("superseded request id, same request = %+v %v", late, err)
	}
}

func TestRecordDimensionScoresInAnyOrderAreOneRequest(t *testing.T) {
	a := RecordAssessment{RoundID: "x-2024", Input: model.Input{HasScores: true, DimensionScores: []model.DimensionScore{{Code: "a", Score: "1"}, {Code: "b", Score: "2"}}}}
	b := a
	b.Input.DimensionScores = []model.DimensionScore{{Code: "b", Score: "2"}, {Code: "a", Score: "1"}}
	if a.fingerprint(false) != b.fingerprint(false) {
		t.Fatal("order of dimension scores changed the fingerprint")
	}
	if a.fingerprint(false) == a.fingerprint(true) {
		t.Fatal("RecordAssessment and CorrectPublishedAssessment share a fingerprint")
	}
	c := a
	c.Input.DimensionScores = []model.DimensionScore{{Code: "a", Score: "1"}, {Code: "b", Score: "3"}}
	if a.fingerprint(false) == c.fingerprint(false) {
		t.Fatal("another score kept the fingerprint")
	}
	// Field boundaries are part of the encoding.
	x, y := a, a
	x.Reason, x.Input.Notes = "ab", ""
	y.Reason, y.Input.Notes = "a", "b"
	if x.fingerprint(false) == y.fingerprint(false) {
		t.Fatal("moving text between fields kept the fingerprint")
	}
}

// Records stored before fingerprints were kept carry none: the previous
// version answered any retry with them, and so does this one.
func TestRecordStoredWithoutFingerprintStillAnswersRetries(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	first, err := f.app.RecordAssessment.Handle(ctx, bandA("r1"))
	if err != nil {
		t.Fatal(err)
	}
	first.Assessment.RequestFingerprint = "" // as the previous version stored it
	other := bandA("r1")
	other.Input.ReportedBand = "b"
	if again, err := f.app.RecordAssessment.Handle(ctx, other); err != nil || again.Created || again.Assessment != first.Assessment {
		t.Fatalf("retry of a legacy record = %+v %v", again, err)
	}
}

func TestCorrectionReusingARecordRequestIDIsRefused(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	if _, err := f.app.RecordAssessment.Handle(ctx, bandA("r1")); err != nil {
		t.Fatal(err)
	}
	publish(t, f)
	if _, err := f.app.CorrectAssessment.Handle(ctx, bandA("r1")); !isRequestReused(err, "r1") {
		t.Fatalf("correction under a record's request id: %v", err)
	}
}

func TestGrantSameRequestIDOtherRequestIsRefused(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	grant := GrantAward{InstitutionID: "kab-banjar", Title: "Inovasi", RequestID: "g1", By: "tester",
		Ceremony: &model.Ceremony{Name: "Rakor", Date: "2025-04-17"}}
	first, err := f.app.GrantAward.Handle(ctx, grant)
	if err != nil {
		t.Fatal(err)
	}
	if again, err := f.app.GrantAward.Handle(ctx, grant); err != nil || again.Created || again.Award != first.Award {
		t.Fatalf("retry = %+v %v", again, err)
	}
	other := grant
	other.Ceremony = &model.Ceremony{Name: "Rakor", Place: "Banjarmasin", Date: "2025-04-17"}
	if _, err := f.app.GrantAward.Handle(ctx, other); !isRequestReused(err, "g1") {
		t.Fatalf("same id, other ceremony: %v", err)
	}
	if len(f.store.awards) != 1 {
		t.Fatalf("%d awards, want 1", len(f.store.awards))
	}
	// Granted before fingerprints were kept: any retry gets it.
	first.Award.RequestFingerprint = ""
	if again, err := f.app.GrantAward.Handle(ctx, other); err != nil || again.Award != first.Award {
		t.Fatalf("retry of a legacy award = %+v %v", again, err)
	}
}

func TestFreeTextIsCheckedBeforeAnythingIsWritten(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	before, _ := f.store.Round(ctx, f.round.ID)
	src := &model.Source{Title: "Kalsel Raih Prestasi", Note: "hal. 3\u200b"}
	rec := bandA("t1")
	rec.Input.Source = src
	check := func(what string, err error, path string) {
		t.Helper()
		if !fault.Is(err, fault.Invalid) || !strings.HasPrefix(err.Error(), path+": character U+") {
			t.Errorf("%s: %v, want InvalidArgument naming %s", what, err, path)
		}
	}
	_, err := f.app.RecordAssessment.Handle(ctx, rec)
	check("record", err, "input.source.note")
	adj := bandA("t2")
	adj.Input.Adjustments = []model.Adjustment{{Code: "x", Amount: "-1", Reason: "ok"}, {Code: "y", Amount: "-1", Reason: "\u202eevil"}}
	_, err = f.app.RecordAssessment.Handle(ctx, adj)
	check("adjustment", err, "input.adjustments[1].reason")
	reason := bandA("t3")
	reason.Reason = "line\nbreak"
	_, err = f.app.RecordAssessment.Handle(ctx, reason)
	check("reason", err, "reason")
	if f.store.appends != 0 {
		t.Fatalf("%d appends after refused text", f.store.appends)
	}
	grant := GrantAward{InstitutionID: "kab-banjar", Title: "Inovasi", RequestID: "g1",
		Ceremony: &model.Ceremony{Name: "Rakor\u2066", Date: "2025-04-17"}}
	_, err = f.app.GrantAward.Handle(ctx, grant)
	check("grant", err, "ceremony.name")
	grant.Ceremony.Name, grant.PresentedBy = "Rakor", &model.PresentedBy{Office: "Wakil\u00adGubernur"}
	_, err = f.app.GrantAward.Handle(ctx, grant)
	check("grant", err, "presented_by.office")
	if len(f.store.awards) != 0 {
		t.Fatalf("%d awards after refused text", len(f.store.awards))
	}
	_, err = f.app.PublishRound.Handle(ctx, PublishRound{RoundID: f.round.ID, ForceReason: "test: published at once", Ceremony: &model.Ceremony{Name: "ok", Place: "\x1b[2J"}})
	check("publish", err, "ceremony.place")
	_, err = f.app.ReopenRound.Handle(ctx, ReopenRound{RoundID: f.round.ID, Reason: "\ufefflate"})
	check("reopen", err, "reason")
	_, err = f.app.RevokeAward.Handle(ctx, RevokeAward{AwardID: "aw-x", Reason: "a\tb"})
	check("revoke", err, "reason")
	_, err = f.app.CreateRound.Handle(ctx, CreateRound{SchemeID: "ombudsman", Year: 2023, Title: "Penilaian\u200d2023"})
	check("create round", err, "title")
	if r, _ := f.store.Round(ctx, f.round.ID); r != before {
		t.Fatalf("round changed by refused requests: %+v", r)
	}
	// Text of any script passes.
	ok := bandA("t4")
	ok.Input.Notes = "Désa Sumbér, Kota Tаnah Laut"
	if _, err := f.app.RecordAssessment.Handle(ctx, ok); err != nil {
		t.Fatal(err)
	}
}
