package award

import (
	"fmt"
	"testing"

	assessmentv1 "github.com/predikat-id/predikat/pkg/gen/predikat/assessment/v1"
	registryv1 "github.com/predikat-id/predikat/pkg/gen/predikat/registry/v1"
)

func rec(id, name string, kind registryv1.InstitutionKind, prov, total, band string) *assessmentv1.Assessment {
	basis := assessmentv1.AssessmentBasis_ASSESSMENT_BASIS_REPORTED_TOTAL
	if total == "" {
		basis = assessmentv1.AssessmentBasis_ASSESSMENT_BASIS_REPORTED_BAND
	}
	return &assessmentv1.Assessment{InstitutionId: id, Total: total, BandCode: band, BandLabel: "L" + band, Basis: basis, Revision: 1,
		Institution: &assessmentv1.InstitutionSnapshot{Id: id, Name: name, Kind: kind, ProvinceCode: prov}}
}

const (
	pemkab = registryv1.InstitutionKind_INSTITUTION_KIND_REGENCY_GOVERNMENT
	kantah = registryv1.InstitutionKind_INSTITUTION_KIND_LAND_OFFICE
)

func TestCompetitionRanking(t *testing.T) {
	ranked, err := Rank([]*assessmentv1.Assessment{
		rec("d", "Delta", pemkab, "63", "90.00", "A"), rec("b", "Bravo", pemkab, "63", "95.50", "A"),
		rec("a", "Alpha", pemkab, "63", "95.5", "A"), rec("c", "Charlie", pemkab, "63", "99.00", "A"),
		rec("e", "Echo", pemkab, "63", "", "A"),
	})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range ranked {
		got = append(got, fmt.Sprintf("%d:%s", r.Rank, r.Record.GetInstitutionId()))
	}
	if fmt.Sprint(got) != "[1:c 2:a 2:b 4:d]" {
		t.Fatalf("ranks = %v (equal totals share a rank, ties by name, band-only left out)", got)
	}
}

func TestEvaluate(t *testing.T) {
	s := &assessmentv1.Scheme{Id: "ombudsman", Version: "2022",
		PeerGroups: []*assessmentv1.PeerGroup{{Code: "kantah", Name: "Kantor Pertanahan", Kinds: []registryv1.InstitutionKind{kantah}}},
		AwardRules: []*assessmentv1.AwardRule{
			{Code: "zona-hijau-a", Kind: assessmentv1.AwardBasisKind_AWARD_BASIS_KIND_BAND, Title: "Predikat Kepatuhan: {band_label}", BandCodes: []string{"A"}},
			{Code: "kantah-prov", Kind: assessmentv1.AwardBasisKind_AWARD_BASIS_KIND_RANK, Title: "Nilai tertinggi {peer_group} di {scope}", PeerGroup: "kantah",
				Scope: assessmentv1.ScopeKind_SCOPE_KIND_PROVINCE, TopN: 1},
		}}
	r := &assessmentv1.Round{Id: "ombudsman-2024", Year: 2024}
	records := []*assessmentv1.Assessment{
		rec("kantah-tala", "Kantah Tanah Laut", kantah, "63", "99.57", "A"),
		rec("kantah-banjar", "Kantah Banjar", kantah, "63", "93.10", "A"),
		rec("kantah-paser", "Kantah Paser", kantah, "64", "80.00", "B"),
		rec("pemkab-x", "Pemkab X", pemkab, "63", "", "A"),
	}
	awards, err := Evaluate(s, r, records, map[string]string{"63": "Kalimantan Selatan", "64": "Kalimantan Timur"})
	if err != nil {
		t.Fatal(err)
	}
	titles := map[string]string{}
	for _, a := range awards {
		titles[a.GetBasis().GetRuleCode()+"/"+a.GetInstitution().GetId()] = a.GetTitle()
	}
	want := map[string]string{
		"zona-hijau-a/kantah-tala":   "Predikat Kepatuhan: LA",
		"zona-hijau-a/kantah-banjar": "Predikat Kepatuhan: LA",
		"zona-hijau-a/pemkab-x":      "Predikat Kepatuhan: LA", // a reported band earns its band award
		"kantah-prov/kantah-tala":    "Nilai tertinggi Kantor Pertanahan di Kalimantan Selatan",
		"kantah-prov/kantah-paser":   "Nilai tertinggi Kantor Pertanahan di Kalimantan Timur",
	}
	if fmt.Sprint(titles) != fmt.Sprint(want) {
		t.Fatalf("awards:\n got %v\nwant %v", titles, want)
	}
	again, _ := Evaluate(s, r, records, nil)
	for i := range awards {
		if awards[i].GetId() != again[i].GetId() {
			t.Fatal("award ids must be deterministic")
		}
	}
	if RuleAwardID("r", "x", "i", 0) == RuleAwardID("r", "x", "j", 0) || ManualAwardID("i", "q") == RuleAwardID("i", "q", "", 0) ||
		RuleAwardID("r", "x", "i", 0) == RuleAwardID("r", "x", "i", 1) {
		t.Fatal("ids collide")
	}
	if id := RuleAwardID("r", "x", "i", 1); len(id) != 29 {
		t.Fatalf("id %q: want aw- + 26 chars", id)
	}
}

// Synthetic records never earn an award, but keep their places: a real
// record behind a synthetic one is second, and a top-1 rule grants nothing
// on a board a synthetic record leads.
func TestSyntheticEarnsNothing(t *testing.T) {
	s := &assessmentv1.Scheme{Id: "ombudsman", Version: "2022",
		PeerGroups: []*assessmentv1.PeerGroup{{Code: "kantah", Name: "Kantor Pertanahan", Kinds: []registryv1.InstitutionKind{kantah}}},
		AwardRules: []*assessmentv1.AwardRule{
			{Code: "zona-hijau-a", Kind: assessmentv1.AwardBasisKind_AWARD_BASIS_KIND_BAND, Title: "Predikat Kepatuhan: {band_label}", BandCodes: []string{"A"}},
			{Code: "kantah-top2", Kind: assessmentv1.AwardBasisKind_AWARD_BASIS_KIND_RANK, Title: "{rank} {peer_group} di {scope}", PeerGroup: "kantah",
				Scope: assessmentv1.ScopeKind_SCOPE_KIND_PROVINCE, TopN: 2},
		}}
	fill := rec("kantah-fill", "Kantah Sintetis", kantah, "63", "99.90", "A")
	fill.Synthetic = true
	real := rec("kantah-tala", "Kantah Tanah Laut", kantah, "63", "99.57", "A")
	awards, err := Evaluate(s, &assessmentv1.Round{Id: "ombudsman-2024", Year: 2024}, []*assessmentv1.Assessment{fill, real}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, a := range awards {
		if a.GetInstitution().GetId() == "kantah-fill" {
			t.Fatalf("a synthetic record earned %s", a.GetTitle())
		}
		got = append(got, fmt.Sprintf("%s/%d", a.GetBasis().GetRuleCode(), a.GetBasis().GetRank()))
	}
	if fmt.Sprint(got) != fmt.Sprint([]string{"kantah-top2/2", "zona-hijau-a/0"}) && fmt.Sprint(got) != fmt.Sprint([]string{"zona-hijau-a/0", "kantah-top2/2"}) {
		t.Fatalf("awards of the real record: %v (second behind the synthetic one)", got)
	}
}

// A derived figure (a roll-up) earns nothing and takes no place on the
// assessed boards.
func TestDerivedEarnsNothing(t *testing.T) {
	s := &assessmentv1.Scheme{Id: "ombudsman", Version: "2022",
		PeerGroups: []*assessmentv1.PeerGroup{{Code: "kantah", Name: "Kantor Pertanahan", Kinds: []registryv1.InstitutionKind{kantah}}},
		AwardRules: []*assessmentv1.AwardRule{
			{Code: "zona-hijau-a", Kind: assessmentv1.AwardBasisKind_AWARD_BASIS_KIND_BAND, Title: "Predikat {band_label}", BandCodes: []string{"A"}},
			{Code: "top1", Kind: assessmentv1.AwardBasisKind_AWARD_BASIS_KIND_RANK, Title: "{peer_group} di {scope}", PeerGroup: "kantah",
				Scope: assessmentv1.ScopeKind_SCOPE_KIND_PROVINCE, TopN: 1},
		}}
	derived := rec("induk", "Induk", kantah, "63", "99.90", "A")
	derived.Basis = assessmentv1.AssessmentBasis_ASSESSMENT_BASIS_DERIVED
	awards, err := Evaluate(s, &assessmentv1.Round{Id: "ombudsman-2024", Year: 2024}, []*assessmentv1.Assessment{derived, rec("kantah-tala", "Tala", kantah, "63", "99.57", "A")}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, a := range awards {
		got = append(got, a.GetInstitution().GetId()+"/"+a.GetBasis().GetRuleCode()+"/"+fmt.Sprint(a.GetBasis().GetRank()))
	}
	if fmt.Sprint(got) != "[kantah-tala/top1/1 kantah-tala/zona-hijau-a/0]" && fmt.Sprint(got) != "[kantah-tala/zona-hijau-a/0 kantah-tala/top1/1]" {
		t.Fatalf("awards %v: the derived figure earns none and is not ranked among the assessed", got)
	}
}
