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

const (
	agency       model.Kind = 5
	policeResort model.Kind = 6
)

// rollupFixture: Ombudsman 2024 (version 2022 rolls police resorts up into
// Polri), two resorts of Polri and one of another parent.
func rollupFixture(t *testing.T) (*App, *fakeStore) {
	t.Helper()
	cat, err := scheme.Load()
	if err != nil {
		t.Fatal(err)
	}
	st := newFakeStore()
	reg := &fakeRegistry{institutions: map[string]model.Institution{
		"polri":     {ID: "polri", Name: "Kepolisian Negara Republik Indonesia", Kind: agency, RegionCode: "00"},
		"polres-a":  {ID: "polres-a", Name: "Polres A", Kind: policeResort, RegionCode: "63.03", ParentID: "polri"},
		"polres-b":  {ID: "polres-b", Name: "Polres B", Kind: policeResort, RegionCode: "63.03", ParentID: "polri"},
		"polres-x":  {ID: "polres-x", Name: "Polres X", Kind: policeResort, RegionCode: "63.03", ParentID: "other"},
		"polres-sy": {ID: "polres-sy", Name: "Polres Sintetis", Kind: policeResort, RegionCode: "63.03", ParentID: "polri"},
	}}
	a := New(cat, st, &lockedRegistry{r: reg}, fixedClock{time.Date(2024, 12, 11, 10, 0, 0, 0, time.UTC)}, dayWindows{})
	if _, err := a.CreateRound.Handle(context.Background(), CreateRound{SchemeID: "ombudsman", Year: 2024, By: "manager"}); err != nil {
		t.Fatal(err)
	}
	return a, st
}

func unit(id, total, req string) RecordAssessment {
	return RecordAssessment{RoundID: "ombudsman-2024", InstitutionID: id, Input: model.Input{ReportedTotal: total}, RequestID: req, By: "assessor"}
}

func polri(t *testing.T, st *fakeStore) *model.Assessment {
	t.Helper()
	a, err := st.Assessment(context.Background(), RecordKey{SchemeID: "ombudsman", Year: 2024, InstitutionID: "polri"}, "ombudsman-2024", 0)
	if err != nil {
		t.Fatalf("Polri's derived record: %v", err)
	}
	return a
}

func TestRollupFollowsItsUnits(t *testing.T) {
	a, st := rollupFixture(t)
	ctx := context.Background()
	if _, err := a.RecordAssessment.Handle(ctx, unit("polres-a", "90.00", "a1")); err != nil {
		t.Fatal(err)
	}
	p := polri(t, st)
	if p.Revision != 1 || p.Total != "90.00" || p.Basis != model.BasisDerived || p.Rollup == nil || len(p.Rollup.Units) != 1 ||
		p.RecordedBy != "predikat/assessment" || !strings.Contains(p.Reason, "induk-polres") || !strings.Contains(p.Reason, "by assessor") || p.Institution.ProvinceCode != "00" {
		t.Fatalf("after one unit: %+v", p)
	}
	// A second unit: the mean, rounded half up once (92.755 -> 92.76);
	// a resort of another parent counts nowhere.
	if _, err := a.RecordAssessment.Handle(ctx, unit("polres-x", "10.00", "x1")); err != nil {
		t.Fatal(err)
	}
	if _, err := a.RecordAssessment.Handle(ctx, unit("polres-b", "95.51", "b1")); err != nil {
		t.Fatal(err)
	}
	if p := polri(t, st); p.Revision != 2 || p.Total != "92.76" || p.BandCode != "A" || len(p.Rollup.Units) != 2 {
		t.Fatalf("after two units: %+v", p)
	}
	// A retried unit write, and the start-up sweep, store nothing new.
	appends := st.appends
	if _, err := a.RecordAssessment.Handle(ctx, unit("polres-b", "95.51", "b1")); err != nil {
		t.Fatal(err)
	}
	if err := a.FinishRollups.Handle(ctx); err != nil {
		t.Fatal(err)
	}
	if st.appends != appends {
		t.Fatalf("%d appends for unchanged units", st.appends-appends)
	}
	// Polri's figure is never typed in.
	if _, err := a.RecordAssessment.Handle(ctx, unit("polri", "99.00", "p1")); !fault.Is(err, fault.Precondition) || !strings.Contains(err.Error(), "derived from its units") {
		t.Fatalf("a typed-in derived figure: %v", err)
	}
}

func TestRollupAfterPublicationIsACorrection(t *testing.T) {
	a, st := rollupFixture(t)
	ctx := context.Background()
	for _, u := range []RecordAssessment{unit("polres-a", "90.00", "a1"), unit("polres-b", "95.51", "b1")} {
		if _, err := a.RecordAssessment.Handle(ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := a.CloseRound.Handle(ctx, CloseRound{RoundID: "ombudsman-2024"}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.PublishRound.Handle(ctx, PublishRound{RoundID: "ombudsman-2024", ForceReason: "test"}); err != nil {
		t.Fatal(err)
	}
	fix := unit("polres-a", "91.00", "a2")
	fix.CorrectsRevision, fix.Reason = 1, "erratum"
	if _, err := a.CorrectAssessment.Handle(ctx, fix); err != nil {
		t.Fatal(err)
	}
	p := polri(t, st)
	if p.Revision != 3 || p.Total != "93.26" || !p.AfterPublication {
		t.Fatalf("after a published correction of a unit: %+v", p)
	}
	announced := map[string]bool{}
	for _, c := range st.corrected {
		announced[c.InstitutionID] = true
	}
	if !announced["polres-a"] || !announced["polri"] {
		t.Fatalf("corrections announced: %v", announced)
	}
}

func TestRollupOfSyntheticUnitsIsSynthetic(t *testing.T) {
	a, st := rollupFixture(t)
	ctx := context.Background()
	if _, err := a.RecordAssessment.Handle(ctx, unit("polres-a", "90.00", "a1")); err != nil {
		t.Fatal(err)
	}
	if polri(t, st).Synthetic {
		t.Fatal("a roll-up of real units is synthetic")
	}
	fill := unit("polres-sy", "80.00", "s1")
	fill.Input.Synthetic = true
	if _, err := a.RecordAssessment.Handle(ctx, fill); err != nil {
		t.Fatal(err)
	}
	if p := polri(t, st); !p.Synthetic || p.Total != "85.00" {
		t.Fatalf("a roll-up with a synthetic unit: %+v", p)
	}
}

// A batch recomputes each roll-up once, whatever its number of units.
func TestRollupOnceForABatch(t *testing.T) {
	a, st := rollupFixture(t)
	ctx := context.Background()
	if _, err := a.BatchRecord.Handle(ctx, BatchRecord{RoundID: "ombudsman-2024", Records: []RecordAssessment{
		unit("polres-a", "90.00", "a1"), unit("polres-b", "92.00", "b1"), unit("polres-x", "50.00", "x1")}}); err != nil {
		t.Fatal(err)
	}
	if p := polri(t, st); p.Revision != 1 || p.Total != "91.00" {
		t.Fatalf("after a batch: %+v", p)
	}
}

// A roll-up that cannot be derived for a lasting reason (its parent is not
// in the registry) leaves its unit's write standing, and is reported.
func TestRollupFailureLeavesTheUnitStored(t *testing.T) {
	a, st := rollupFixture(t)
	ctx := context.Background()
	var reported []error
	a.DeriveAs("svc", func(err error) { reported = append(reported, err) })
	reg := a.RecordAssessment.rec.registry.(*lockedRegistry)
	reg.mu.Lock()
	delete(reg.r.institutions, "polri")
	reg.mu.Unlock()
	got, err := a.RecordAssessment.Handle(ctx, unit("polres-a", "90.00", "a1"))
	if err != nil || !got.Created {
		t.Fatalf("the unit's write: %+v, %v", got, err)
	}
	if len(reported) != 1 || !strings.Contains(reported[0].Error(), "induk-polres") {
		t.Fatalf("reported %v", reported)
	}
	if _, err := st.Assessment(ctx, RecordKey{SchemeID: "ombudsman", Year: 2024, InstitutionID: "polri"}, "ombudsman-2024", 0); !fault.Is(err, fault.NotFound) {
		t.Fatalf("a derived figure without its parent: %v", err)
	}
}

// A parent recorded directly before its version had the rule keeps that
// record (and may still be corrected); in a published round where nothing
// was derived before publication, a unit's correction derives nothing.
func TestRollupLeavesOlderRecordsAlone(t *testing.T) {
	a, st := rollupFixture(t)
	ctx := context.Background()
	key := RecordKey{SchemeID: "ombudsman", Year: 2024, InstitutionID: "polri"}
	r, _ := st.Round(ctx, "ombudsman-2024")
	// Polri as typed in before: a plain record in the store.
	direct := model.Assessment{RoundID: r.ID, SchemeID: "ombudsman", SchemeVersion: "2022", Year: 2024, InstitutionID: "polri",
		Result: model.Result{Basis: model.BasisReportedTotal, Total: "88.00", BandCode: "A"}, RequestID: "legacy", RecordedBy: "old"}
	if _, _, err := st.Append(ctx, Append{Assessment: direct, Fence: r}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.RecordAssessment.Handle(ctx, unit("polres-a", "90.00", "a1")); err != nil {
		t.Fatal(err)
	}
	if p := polri(t, st); p.Revision != 1 || p.Total != "88.00" {
		t.Fatalf("the direct record was overwritten: %+v", p)
	}
	fix := unit("polri", "88.50", "legacy-fix")
	fix.CorrectsRevision, fix.Reason = 1, "typo"
	if _, err := a.RecordAssessment.Handle(ctx, fix); err != nil {
		t.Fatalf("correcting the direct record: %v", err)
	}
	_ = key

	b, st2 := rollupFixture(t)
	if _, err := b.CloseRound.Handle(ctx, CloseRound{RoundID: "ombudsman-2024"}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.PublishRound.Handle(ctx, PublishRound{RoundID: "ombudsman-2024", ForceReason: "test"}); err != nil {
		t.Fatal(err)
	}
	late := unit("polres-a", "90.00", "late")
	late.Reason = "missed"
	if _, err := b.CorrectAssessment.Handle(ctx, late); err != nil {
		t.Fatal(err)
	}
	if _, err := st2.Assessment(ctx, RecordKey{SchemeID: "ombudsman", Year: 2024, InstitutionID: "polri"}, "ombudsman-2024", 0); !fault.Is(err, fault.NotFound) {
		t.Fatalf("a published round got a derived figure after publication: %v", err)
	}
}

// A correction of synthetic data stays synthetic, even when it does not say
// so: it never earns an award.
func TestCorrectionOfSyntheticStaysSynthetic(t *testing.T) {
	a, st := rollupFixture(t)
	ctx := context.Background()
	fill := unit("polres-sy", "80.00", "s1")
	fill.Input.Synthetic = true
	if _, err := a.RecordAssessment.Handle(ctx, fill); err != nil {
		t.Fatal(err)
	}
	fix := unit("polres-sy", "81.00", "s2")
	fix.CorrectsRevision, fix.Reason = 1, "typo"
	got, err := a.RecordAssessment.Handle(ctx, fix)
	if err != nil || !got.Assessment.Synthetic {
		t.Fatalf("corrected synthetic record: %+v, %v", got.Assessment, err)
	}
	_ = st
}

// Units that come back to an earlier set (a unit's figure withdrawn to a
// band only) store a new derived revision, not the old one again.
func TestRollupUnitsBackToAnEarlierSet(t *testing.T) {
	a, st := rollupFixture(t)
	ctx := context.Background()
	for _, u := range []RecordAssessment{unit("polres-a", "90.00", "a1"), unit("polres-b", "80.00", "b1")} {
		if _, err := a.RecordAssessment.Handle(ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	if p := polri(t, st); p.Total != "85.00" || p.Revision != 2 {
		t.Fatalf("two units: %+v", p)
	}
	band := RecordAssessment{RoundID: "ombudsman-2024", InstitutionID: "polres-b", Input: model.Input{ReportedBand: "B"},
		CorrectsRevision: 1, Reason: "only the band is published", RequestID: "b2", By: "assessor"}
	if _, err := a.RecordAssessment.Handle(ctx, band); err != nil {
		t.Fatal(err)
	}
	if p := polri(t, st); p.Total != "90.00" || p.Revision != 3 {
		t.Fatalf("back to one unit: %+v (want a third revision, 90.00)", p)
	}
}
