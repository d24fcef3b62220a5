package app

import (
	"context"
	"errors"
	"math/big"
	"testing"

	"github.com/predikat-id/predikat/pkg/platform/fault"
	"github.com/predikat-id/predikat/services/ranking/internal/board"
)

// fakeBoards serves fixed read models.
type fakeBoards struct {
	page     *board.TiePage
	pageSize int
	pageCur  *board.Cursor
	stand    map[int32]*board.Standing
	stats    *board.BoardStats
	years    []int32
	round    board.Round
	infos    []board.BoardInfo
}

func (f *fakeBoards) Page(_ context.Context, _ string, _ int32, _ string, size int, cur *board.Cursor) (*board.TiePage, error) {
	f.pageSize, f.pageCur = size, cur
	return f.page, nil
}

func (f *fakeBoards) Standing(_ context.Context, _ string, year int32, _ string) (*board.Standing, error) {
	if st, ok := f.stand[year]; ok {
		return st, nil
	}
	return &board.Standing{Round: board.Round{ID: "x"}}, nil
}

func (f *fakeBoards) Statistics(context.Context, string, int32, string) (*board.BoardStats, error) {
	return f.stats, nil
}

func (f *fakeBoards) Years(context.Context, string, int32, int32) ([]int32, error) {
	return f.years, nil
}

func (f *fakeBoards) Boards(context.Context, string, int32) (board.Round, []board.BoardInfo, error) {
	return f.round, f.infos, nil
}

// fakeNames is the registry's names.
type fakeNames struct {
	insts   map[string]Institution
	regions map[string]string
}

func (f fakeNames) Institutions(_ context.Context, ids []string) (map[string]Institution, error) {
	out := map[string]Institution{}
	for _, id := range ids {
		if in, ok := f.insts[id]; ok {
			out[id] = in
		}
	}
	return out, nil
}

func (f fakeNames) Institution(_ context.Context, id string) (Institution, bool, error) {
	in, ok := f.insts[id]
	return in, ok, nil
}

func (f fakeNames) RegionName(_ context.Context, code string) (string, error) {
	return f.regions[code], nil
}

var (
	pemda = board.Group{Code: "pemda", Name: "Pemerintah Daerah", Scopes: []board.Scope{board.ScopeNational}}
	r2024 = board.Round{Scheme: "ombudsman", Year: 2024, ID: "ombudsman-2024", Version: "2022", Precision: 2}
	names = fakeNames{
		insts:   map[string]Institution{"b": {Name: "Alpha Baru", Kind: 5, RegionCode: "63.06"}},
		regions: map[string]string{"63.06": "Hulu Sungai Selatan", "63": "Kalimantan Selatan"},
	}
)

func TestLeaderboardPagesTiesByCurrentName(t *testing.T) {
	fb := &fakeBoards{page: &board.TiePage{Round: r2024, Group: &pemda, Count: 3, UpdateMs: 1000,
		Bands: map[string]board.Band{"A": {Code: "A", Label: "Tertinggi", Zone: board.ZoneGreen}},
		Ties: []board.Tie{
			{Score: 9500, Rank: 1, Members: []string{"a", "b"}, Entries: []board.Entry{{Name: "Zeta", Band: "A", Revision: 1}, {Name: "Zulu", Band: "A", Revision: 2}}},
		}, Below: 1}}
	h := NewGetLeaderboardHandler(fb, names)
	key := BoardKey{Scheme: "ombudsman", Year: 2024, PeerGroup: "pemda", Scope: "00"}
	lb, err := h.Handle(t.Context(), GetLeaderboard{Board: key, PageSize: 0})
	if err != nil {
		t.Fatal(err)
	}
	if fb.pageSize != 50 {
		t.Errorf("default page size %d", fb.pageSize)
	}
	// b's registry name sorts it before a in the tie.
	if len(lb.Entries) != 2 || lb.Entries[0].InstitutionID != "b" || lb.Entries[0].Name != "Alpha Baru" || lb.Entries[0].RegionName != "Hulu Sungai Selatan" ||
		lb.Entries[1].Name != "Zeta" || lb.Entries[0].Score != "95.00" || lb.Entries[0].BandZone != board.ZoneGreen || lb.Entries[0].Kind != 5 {
		t.Fatalf("entries %+v", lb.Entries)
	}
	if lb.Board.ScopeName != "Nasional" || lb.Board.PeerGroupName != "Pemerintah Daerah" || lb.Board.UpdateTime.UnixMilli() != 1000 || lb.TotalEntries != 3 {
		t.Fatalf("board %+v", lb.Board)
	}
	if lb.Next == "" {
		t.Fatal("entries below the page, but no next position")
	}
	if _, err := h.Handle(t.Context(), GetLeaderboard{Board: key, After: lb.Next, PageSize: 2}); err != nil || fb.pageCur == nil || fb.pageCur.Score != 9500 {
		t.Fatalf("second page: cursor %+v, %v", fb.pageCur, err)
	}
	if _, err := h.Handle(t.Context(), GetLeaderboard{Board: key, After: "garbage"}); !fault.Is(err, fault.Invalid) {
		t.Fatalf("malformed position: %v", err)
	}
	key.Scope = "63"
	if _, err := h.Handle(t.Context(), GetLeaderboard{Board: key}); !fault.Is(err, fault.Invalid) {
		t.Fatalf("province board of a national-only group: %v", err)
	}
	fb.page.Group = nil
	if _, err := h.Handle(t.Context(), GetLeaderboard{Board: key}); !fault.Is(err, fault.NotFound) {
		t.Fatalf("unknown peer group: %v", err)
	}
}

func standing(year int32, score, prevRank int64) *board.Standing {
	r := r2024
	r.Year, r.ID = year, "ombudsman-"+string(rune('0'+year%10))
	return &board.Standing{Round: r, Found: true,
		Entry:  board.Entry{Name: "Snapshot", Scored: true, Score: score, Band: "A", Basis: board.BasisComputed},
		Band:   board.Band{Code: "A", Label: "Tertinggi", Zone: board.ZoneGreen},
		Boards: []board.BoardStanding{{ID: "pemda:00", Group: pemda, Count: 4, Higher: 1, Lower: 2, PrevCount: 3, PrevRank: prevRank}},
	}
}

func TestStandingMovesAgainstThePreviousRound(t *testing.T) {
	fb := &fakeBoards{stand: map[int32]*board.Standing{2024: standing(2024, 9652, 3)}}
	st, err := NewGetStandingHandler(fb, names).Handle(t.Context(), GetStanding{Scheme: "ombudsman", Year: 2024, InstitutionID: "b"})
	if err != nil {
		t.Fatal(err)
	}
	s := st.Standings[0]
	if st.Name != "Alpha Baru" || st.Score != "96.52" || s.Rank != 2 || s.OutOf != 4 || s.Percentile != "66.67" ||
		s.Movement != board.MovementUp || s.RankChange != 1 {
		t.Fatalf("standing %+v / %+v", st, s)
	}
	if _, err := NewGetStandingHandler(fb, names).Handle(t.Context(), GetStanding{Scheme: "ombudsman", Year: 2023, InstitutionID: "b"}); !fault.Is(err, fault.NotFound) {
		t.Fatalf("no record: %v", err)
	}
}

func TestTrendChangesAndUnknownInstitution(t *testing.T) {
	fb := &fakeBoards{years: []int32{2023, 2024}, stand: map[int32]*board.Standing{2023: standing(2023, 9500, 0), 2024: standing(2024, 9652, 3)}}
	h := NewGetInstitutionTrendHandler(fb, names)
	tr, err := h.Handle(t.Context(), GetInstitutionTrend{Scheme: "ombudsman", InstitutionID: "b"})
	if err != nil {
		t.Fatal(err)
	}
	if len(tr.Points) != 2 || tr.Points[1].ScoreChange != "+1.52" || tr.Points[0].ScoreChange != "" || tr.Name != "Alpha Baru" {
		t.Fatalf("trend %+v", tr)
	}
	if tr, err := h.Handle(t.Context(), GetInstitutionTrend{Scheme: "ombudsman", InstitutionID: "zz", YearFrom: 2024}); err != nil || tr.Name != "Snapshot" || len(tr.Points) != 1 {
		t.Fatalf("snapshot name %+v, %v", tr, err)
	}
	fb.stand = nil
	if _, err := h.Handle(t.Context(), GetInstitutionTrend{Scheme: "ombudsman", InstitutionID: "zz"}); !fault.Is(err, fault.NotFound) {
		t.Fatalf("unknown institution: %v", err)
	}
	fb.years = nil
	if _, err := h.Handle(t.Context(), GetInstitutionTrend{Scheme: "ombudsman", InstitutionID: "b"}); !fault.Is(err, fault.NotFound) {
		t.Fatalf("no rounds: %v", err)
	}
}

func TestStatisticsBandsBestFirstAndZones(t *testing.T) {
	fb := &fakeBoards{stats: &board.BoardStats{Round: r2024, Group: &pemda, Count: 2,
		Stats: board.Stats{N: 2, Sum: big.NewInt(17000), SumSq: big.NewInt(9000*9000 + 8000*8000)},
		Min:   8000, Max: 9000, LowMid: 8000, HighMd: 9000,
		BandCounts: map[string]int64{"A": 1, "B": 1, "C": 1}, ReportedCounts: map[string]int64{"C": 1}, ReportedTotal: 1,
		Bands:   map[string]board.Band{"A": {Code: "A", Zone: board.ZoneGreen}, "B": {Code: "B", Zone: board.ZoneRed}, "C": {Code: "C", Zone: board.ZoneGreen}},
		BandMax: map[string]int64{"A": 9000, "B": 8000}}}
	st, err := NewGetStatisticsHandler(fb, names).Handle(t.Context(), GetStatistics{Board: BoardKey{PeerGroup: "pemda", Scope: "00"}})
	if err != nil {
		t.Fatal(err)
	}
	if st.Mean != "85.00" || st.Median != "85.00" || st.Min != "80.00" || st.Max != "90.00" || st.ReportedBandCount != 1 {
		t.Fatalf("figures %+v", st)
	}
	if len(st.BandCounts) != 3 || st.BandCounts[0].Code != "A" || st.BandCounts[1].Code != "B" || st.BandCounts[2].Code != "C" {
		t.Fatalf("band order %+v", st.BandCounts)
	}
	if len(st.ZoneCounts) != 3 || st.ZoneCounts[0].Count != 2 || st.ZoneCounts[2].Count != 1 {
		t.Fatalf("zones %+v", st.ZoneCounts)
	}
}

func TestListBoardsSortsAndFilters(t *testing.T) {
	fb := &fakeBoards{round: r2024, infos: []board.BoardInfo{
		{ID: "pemda:63", Group: pemda, Count: 2}, {ID: "pemda:00", Group: pemda, Count: 5}, {ID: "kota:00", Count: 0},
	}}
	bs, err := NewListBoardsHandler(fb, names).Handle(t.Context(), ListBoards{})
	if err != nil || len(bs) != 2 || bs[0].Key.Scope != "00" || bs[1].ScopeName != "Kalimantan Selatan" {
		t.Fatalf("boards %+v, %v", bs, err)
	}
	if bs, _ := NewListBoardsHandler(fb, names).Handle(t.Context(), ListBoards{Scope: "63"}); len(bs) != 1 {
		t.Fatalf("filtered %+v", bs)
	}
}

type fakeRebuilder struct{ err error }

func (f fakeRebuilder) Rebuild(context.Context, RebuildBoards) (RebuildReport, error) {
	return RebuildReport{BoardsWritten: 3}, f.err
}

func TestRebuildFailureIsUnavailable(t *testing.T) {
	if r, err := NewRebuildBoardsHandler(fakeRebuilder{}).Handle(t.Context(), RebuildBoards{}); err != nil || r.BoardsWritten != 3 {
		t.Fatalf("rebuild %+v, %v", r, err)
	}
	_, err := NewRebuildBoardsHandler(fakeRebuilder{err: errors.New("boom")}).Handle(t.Context(), RebuildBoards{})
	if !fault.Is(err, fault.Unavailable) {
		t.Fatalf("failed rebuild: %v", err)
	}
}
