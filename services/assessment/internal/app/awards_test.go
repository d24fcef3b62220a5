package app

import (
	"context"
	"strings"
	"testing"

	"github.com/predikat-id/predikat/pkg/platform/fault"
	"github.com/predikat-id/predikat/services/assessment/internal/model"
)

// A manual award linked to a round is refused when the institution's record
// that counts there is synthetic, whatever score, band and rank the caller
// states: made-up figures never earn an award, and nothing is stored.
func TestGrantAwardRefusesSyntheticRecord(t *testing.T) {
	synthetic := func(requestID string) RecordAssessment {
		r := bandA(requestID)
		r.Input.Synthetic = true
		return r
	}
	corrected := bandA("fix")
	corrected.CorrectsRevision, corrected.Reason = 1, "typo"
	for _, tc := range []struct {
		name    string
		records []RecordAssessment
		// schemeless grants an award outside any scheme; year names
		// another year (no round) when not 0.
		schemeless bool
		year       int32
		refused    bool
	}{
		{name: "synthetic record", records: []RecordAssessment{synthetic("s1")}, refused: true},
		{name: "correction of a synthetic record", records: []RecordAssessment{synthetic("s1"), corrected}, refused: true},
		{name: "real record", records: []RecordAssessment{bandA("r1")}},
		{name: "no record in the round"},
		{name: "synthetic record, award for a year without a round", records: []RecordAssessment{synthetic("s1")}, year: 2023},
		{name: "synthetic record, award outside any scheme", records: []RecordAssessment{synthetic("s1")}, schemeless: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := setup(t)
			ctx := context.Background()
			for _, r := range tc.records {
				if _, err := f.app.RecordAssessment.Handle(ctx, r); err != nil {
					t.Fatal(err)
				}
			}
			grant := GrantAward{InstitutionID: "kab-banjar", Title: "Predikat A", SchemeID: "ombudsman", Year: 2024,
				BandCode: "A", Score: "99,00", Rank: 1, RequestID: "g1", By: "officer", Ceremony: &model.Ceremony{Name: "Rakor", Date: "2025-04-17"}}
			if tc.year != 0 {
				grant.Year = tc.year
			}
			if tc.schemeless {
				grant.SchemeID, grant.Year, grant.BandCode, grant.Score, grant.Rank = "", 0, "", "", 0
			}
			g, err := f.app.GrantAward.Handle(ctx, grant)
			if !tc.refused {
				if err != nil || !g.Created {
					t.Fatalf("grant = %+v, %v", g, err)
				}
				return
			}
			if !fault.Is(err, fault.Precondition) || !strings.Contains(err.Error(), "synthetic data never earns an award") {
				t.Fatalf("grant on a synthetic record: %+v, %v", g, err)
			}
			if len(f.store.awards) != 0 {
				t.Fatalf("a refused grant stored %d awards", len(f.store.awards))
			}
		})
	}
}

// A retired institution may still receive a manual award: the contract
// (GrantAwardRequest.institution_id) admits one for a year it was active,
// since awards are often presented months after the round, and the registry
// keeps no retirement date to tell the years apart. Retirement closes an
// institution to new assessments, not to the recognition of old ones.
func TestGrantAwardToRetiredInstitution(t *testing.T) {
	f := setup(t)
	g, err := f.app.GrantAward.Handle(context.Background(), GrantAward{InstitutionID: "kab-retired", Title: "Predikat A",
		SchemeID: "ombudsman", Year: 2024, BandCode: "A", RequestID: "g1", By: "officer", Ceremony: &model.Ceremony{Name: "Rakor", Date: "2025-04-17"}})
	if err != nil || !g.Created {
		t.Fatalf("grant to a retired institution = %+v, %v", g, err)
	}
}
