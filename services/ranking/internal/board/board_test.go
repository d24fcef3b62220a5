package board

import (
	"math/big"
	"strings"
	"testing"

	assessmentv1 "github.com/predikat-id/predikat/pkg/gen/predikat/assessment/v1"
	eventsv1 "github.com/predikat-id/predikat/pkg/gen/predikat/events/v1"
	registryv1 "github.com/predikat-id/predikat/pkg/gen/predikat/registry/v1"
)

func TestEncodeScoreIsExact(t *testing.T) {
	for _, c := range []struct {
		total string
		prec  int
		want  int64
	}{{"96.52", 2, 9652}, {"96,52", 2, 9652}, {"88", 2, 8800}, {"88.0", 2, 8800}, {"0.00", 2, 0}, {"4.51", 2, 451}, {"99.570", 3, 99570}} {
		got, err := EncodeScore(c.total, c.prec)
		if err != nil || got != c.want {
			t.Errorf("EncodeScore(%q, %d) = %d, %v; want %d", c.total, c.prec, got, err, c.want)
		}
		if back := FormatScore(got, c.prec); strings.ReplaceAll(c.total, ",", ".") != back && c.total != "88" && c.total != "88.0" && c.total != "99.570" {
			t.Errorf("FormatScore(%d) = %q", got, back)
		}
	}
	for _, bad := range []string{"96.525", "abc", "99999999999"} {
		if _, err := EncodeScore(bad, 2); err == nil {
			t.Errorf("EncodeScore(%q) accepted", bad)
		}
	}
}

// Competition ranking with a stable order inside ties: ranks 1, 2, 2, 4 and
// the tied pair listed by name, then id.
func TestPageCompetitionRanksAndTieOrder(t *testing.T) {
	cands := []Candidate{
		{ID: "d", Score: 8500, Rank: 4, Name: "Delta"},
		{ID: "c2", Score: 9000, Rank: 2, Name: "charlie"},
		{ID: "a", Score: 9500, Rank: 1, Name: "Alpha"},
		{ID: "c1", Score: 9000, Rank: 2, Name: "Charlie"},
		{ID: "b", Score: 9000, Rank: 2, Name: "Bravo"},
	}
	page, more := Page(slicesClone(cands), nil, 10)
	var got []string
	for _, c := range page {
		got = append(got, c.ID)
	}
	if strings.Join(got, " ") != "a b c1 c2 d" || more {
		t.Fatalf("order = %v (more %v)", got, more)
	}
	// Keyset paging through the tie: two at a time.
	var all []string
	var cur *Cursor
	for range 10 {
		p, more := Page(slicesClone(cands), cur, 2)
		for _, c := range p {
			all = append(all, c.ID)
		}
		if !more {
			break
		}
		c := CursorOf(p[len(p)-1])
		back, err := ParseCursor(c.String())
		if err != nil || back != c {
			t.Fatalf("cursor round trip: %v %v", back, err)
		}
		cur = &back
	}
	if strings.Join(all, " ") != "a b c1 c2 d" {
		t.Fatalf("paged = %v", all)
	}
}

func slicesClone(c []Candidate) []Candidate { return append([]Candidate(nil), c...) }

func TestPercentileAndMove(t *testing.T) {
	for _, c := range []struct {
		lower, n int64
		want     string
	}{{0, 1, "100.00"}, {3, 4, "100.00"}, {0, 4, "0.00"}, {1, 4, "33.33"}, {2, 4, "66.67"}, {1, 7, "16.67"}} {
		if got := Percentile(c.lower, c.n); got != c.want {
			t.Errorf("Percentile(%d, %d) = %s, want %s", c.lower, c.n, got, c.want)
		}
	}
	for _, c := range []struct {
		rank, prev, change int32
		want               Movement
	}{{1, 0, 0, MovementNew}, {1, 3, 2, MovementUp}, {4, 2, -2, MovementDown}, {2, 2, 0, MovementSame}} {
		m, ch := Move(c.rank, c.prev)
		if m != c.want || ch != c.change {
			t.Errorf("Move(%d, %d) = %v %d", c.rank, c.prev, m, ch)
		}
	}
}

func stats(scores ...int64) Stats {
	s := Stats{Sum: new(big.Int), SumSq: new(big.Int)}
	for _, x := range scores {
		s.N++
		s.Sum.Add(s.Sum, big.NewInt(x))
		s.SumSq.Add(s.SumSq, big.NewInt(x*x))
	}
	return s
}

// Figures checked by hand: 90.00, 80.00, 70.00, 60.00 -> mean 75.00,
// variance ((15²+5²)*2)/4 = 125, stddev 11.1803... -> 11.18; median (80+70)/2.
func TestStatistics(t *testing.T) {
	s := stats(9000, 8000, 7000, 6000)
	if m := s.Mean(2); m != "75.00" {
		t.Errorf("mean = %s", m)
	}
	if sd := s.Stddev(2); sd != "11.18" {
		t.Errorf("stddev = %s", sd)
	}
	if md := Median(7000, 8000, 2); md != "75.00" {
		t.Errorf("median = %s", md)
	}
	// Half-up: mean of 0.01 and 0.02 is 0.015 -> 0.02; median too.
	if m := stats(1, 2).Mean(2); m != "0.02" {
		t.Errorf("mean half-up = %s", m)
	}
	if md := Median(1, 2, 2); md != "0.02" {
		t.Errorf("median half-up = %s", md)
	}
	// Equal scores: stddev exactly 0; one score: itself.
	if sd := stats(9652, 9652, 9652).Stddev(2); sd != "0.00" {
		t.Errorf("stddev of equal scores = %s", sd)
	}
	if m := stats(9652).Mean(2); m != "96.52" {
		t.Errorf("mean of one = %s", m)
	}
	// stddev rounding boundary: 0.00 and 0.01 -> sd 0.005 exactly -> 0.01.
	if sd := stats(0, 1).Stddev(2); sd != "0.01" {
		t.Errorf("stddev half-up = %s", sd)
	}
	if (Stats{}).Mean(2) != "" || (Stats{}).Stddev(2) != "" {
		t.Error("empty stats should be empty strings")
	}
}

func TestFromEventAndEntryRoundTrip(t *testing.T) {
	pemda := &assessmentv1.PeerGroup{Code: "pemda", Name: "Pemerintah Daerah", Scopes: []assessmentv1.ScopeKind{assessmentv1.ScopeKind_SCOPE_KIND_NATIONAL, assessmentv1.ScopeKind_SCOPE_KIND_PROVINCE}}
	kab := &assessmentv1.PeerGroup{Code: "kabupaten", Name: "Kabupaten", Scopes: []assessmentv1.ScopeKind{assessmentv1.ScopeKind_SCOPE_KIND_NATIONAL, assessmentv1.ScopeKind_SCOPE_KIND_PROVINCE}}
	ev := &eventsv1.AssessmentRecorded{
		EventId: "ombudsman-2024/pemkab-hss/r1",
		Assessment: &assessmentv1.Assessment{
			RoundId: "ombudsman-2024", SchemeId: "ombudsman", SchemeVersion: "2022", Year: 2024, InstitutionId: "pemkab-hss",
			Institution: &assessmentv1.InstitutionSnapshot{Id: "pemkab-hss", Name: "Pemerintah Kabupaten\tHulu Sungai Selatan",
				Kind: registryv1.InstitutionKind_INSTITUTION_KIND_REGENCY_GOVERNMENT, RegionCode: "63.06", RegionName: "Hulu Sungai Selatan", ProvinceCode: "63"},
			Basis: assessmentv1.AssessmentBasis_ASSESSMENT_BASIS_REPORTED_TOTAL, Total: "96.52", BandCode: "A", BandLabel: "Kualitas Tertinggi",
			BandZone: assessmentv1.BandZone_BAND_ZONE_GREEN, Revision: 2,
		},
		PeerGroups: []*assessmentv1.PeerGroup{pemda, kab},
		Scale:      &assessmentv1.Scale{Min: "0.00", Max: "100.00", Precision: 2},
	}
	r, err := FromEvent(ev, 17)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(r.Entry.Boards, " "); got != "pemda:00 kabupaten:00 pemda:63 kabupaten:63" {
		t.Fatalf("boards = %s", got)
	}
	if !r.Entry.Scored || r.Entry.Score != 9652 || r.Precision != 2 || r.Entry.Revision != 2 || r.Entry.Seq != 17 {
		t.Fatalf("record = %+v", r)
	}
	// The stored form and its round trip are the store codec's (its tests).
	if back := r.Entry; back.Score != 9652 || back.Band != "A" || len(back.Boards) != 4 ||
		back.Kind != Kind(registryv1.InstitutionKind_INSTITUTION_KIND_REGENCY_GOVERNMENT) || back.Basis != BasisReportedTotal {
		t.Fatalf("entry = %+v", back)
	}
	if r.BandInfo.Zone != ZoneGreen || len(r.Groups) != 2 || r.Groups[0].Scopes[1] != ScopeProvince {
		t.Fatalf("band %+v, groups %+v", r.BandInfo, r.Groups)
	}

	// A band-only record has no score and is not poison.
	ev.Assessment.Basis, ev.Assessment.Total = assessmentv1.AssessmentBasis_ASSESSMENT_BASIS_REPORTED_BAND, ""
	r, err = FromEvent(ev, 18)
	if err != nil || r.Entry.Scored {
		t.Fatalf("band-only: %+v, %v", r.Entry, err)
	}
	// A scored record without a total is.
	ev.Assessment.Basis = assessmentv1.AssessmentBasis_ASSESSMENT_BASIS_COMPUTED
	if _, err := FromEvent(ev, 19); err == nil {
		t.Fatal("computed record without total accepted")
	}
	// A national body has no province board.
	ev.Assessment.Total = "90.00"
	ev.Assessment.Institution = &assessmentv1.InstitutionSnapshot{Id: "kemenpanrb", RegionCode: "00"}
	r, err = FromEvent(ev, 20)
	if err != nil || strings.Join(r.Entry.Boards, " ") != "pemda:00 kabupaten:00" {
		t.Fatalf("national body boards = %v, %v", r.Entry.Boards, err)
	}
}
