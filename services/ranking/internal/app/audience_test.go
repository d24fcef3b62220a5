package app

import (
	"strings"
	"testing"

	"github.com/predikat-id/predikat/pkg/platform/fault"
	"github.com/predikat-id/predikat/services/ranking/internal/board"
)

var (
	// published is a caller admitted by "boards.read.published" alone.
	published = Audience{PublishedOnly: true, Lacking: "boards.read"}
	full      = Audience{}
	nationalK = BoardKey{Scheme: "ombudsman", Year: 2024, PeerGroup: "pemda", Scope: "00"}
)

const rule = `ombudsman 2024 boards are provisional (the round is not published): they need permission "boards.read"`

// denied fails t unless err is PermissionDenied stating the rule.
func denied(t *testing.T, what string, err error) {
	t.Helper()
	if !fault.Is(err, fault.Denied) || !strings.Contains(err.Error(), rule) {
		t.Fatalf("%s: want PermissionDenied %q, got %v", what, rule, err)
	}
}

func finalRound() board.Round {
	r := r2024
	r.Final = true
	return r
}

func TestPublishedOnlyLeaderboardIsFinalOnly(t *testing.T) {
	fb := &fakeBoards{page: &board.TiePage{Round: r2024, Group: &pemda, Count: 1,
		Ties: []board.Tie{{Score: 9500, Rank: 1, Members: []string{"a"}, Entries: []board.Entry{{Name: "Zeta", Band: "A"}}}}}}
	h := NewGetLeaderboardHandler(fb, names)
	_, err := h.Handle(t.Context(), GetLeaderboard{Board: nationalK, Audience: published})
	denied(t, "provisional board", err)
	lb, err := h.Handle(t.Context(), GetLeaderboard{Board: nationalK, Audience: full})
	if err != nil || len(lb.Entries) != 1 || lb.Board.Final {
		t.Fatalf("full audience, provisional board: %+v, %v", lb, err)
	}
	// A provisional round's peer groups are provisional too: denied, not
	// NotFound.
	fb.page.Group = nil
	_, err = h.Handle(t.Context(), GetLeaderboard{Board: nationalK, Audience: published})
	denied(t, "unknown peer group of a provisional round", err)

	fb.page.Group, fb.page.Round = &pemda, finalRound()
	lb, err = h.Handle(t.Context(), GetLeaderboard{Board: nationalK, Audience: published})
	if err != nil || len(lb.Entries) != 1 || !lb.Board.Final {
		t.Fatalf("published-only, final board: %+v, %v", lb, err)
	}
}

func TestPublishedOnlyStatisticsIsFinalOnly(t *testing.T) {
	fb := &fakeBoards{stats: &board.BoardStats{Round: r2024, Group: &pemda}}
	h := NewGetStatisticsHandler(fb, names)
	_, err := h.Handle(t.Context(), GetStatistics{Board: nationalK, Audience: published})
	denied(t, "provisional statistics", err)
	if st, err := h.Handle(t.Context(), GetStatistics{Board: nationalK}); err != nil || st.Board.Final {
		t.Fatalf("full audience, provisional statistics: %+v, %v", st, err)
	}
	fb.stats.Round = finalRound()
	if st, err := h.Handle(t.Context(), GetStatistics{Board: nationalK, Audience: published}); err != nil || !st.Board.Final {
		t.Fatalf("published-only, final statistics: %+v, %v", st, err)
	}
}

func TestPublishedOnlyStandingIsFinalOnly(t *testing.T) {
	st := standing(2024, 9652, 3)
	fb := &fakeBoards{stand: map[int32]*board.Standing{2024: st}}
	h := NewGetStandingHandler(fb, names)
	q := GetStanding{Scheme: "ombudsman", Year: 2024, InstitutionID: "b", Audience: published}
	_, err := h.Handle(t.Context(), q)
	denied(t, "provisional standing", err)
	q.Audience = full
	if got, err := h.Handle(t.Context(), q); err != nil || got.Final || got.Standings[0].PreviousRank != 3 {
		t.Fatalf("full audience, provisional standing: %+v, %v", got, err)
	}
	// Whether an institution has a record in a provisional round is not
	// told either.
	fb.stand[2024] = &board.Standing{Round: r2024}
	q.Audience = published
	_, err = h.Handle(t.Context(), q)
	denied(t, "no record in a provisional round", err)

	st.Round.Final = true
	st.PrevYear, st.PrevRound = 2023, board.Round{Scheme: "ombudsman", Year: 2023, Precision: 2, Final: true}
	st.PrevEntry = &board.Entry{Scored: true, Score: 9500}
	fb.stand[2024] = st
	got, err := h.Handle(t.Context(), q)
	if err != nil || !got.Final || got.Standings[0].PreviousRank != 3 || got.Standings[0].PreviousScore != "95.00" || got.Standings[0].Movement != board.MovementUp {
		t.Fatalf("published-only, final standing: %+v, %v", got, err)
	}
	// A final round after a provisional one: the comparison is left out.
	st.PrevRound.Final = false
	got, err = h.Handle(t.Context(), q)
	if s := got.Standings[0]; err != nil || s.Rank != 2 || s.PreviousYear != 0 || s.PreviousRank != 0 || s.PreviousOutOf != 0 ||
		s.PreviousScore != "" || s.Movement != board.MovementUnspecified || s.RankChange != 0 {
		t.Fatalf("published-only, provisional previous round: %+v, %v", got.Standings, err)
	}
	q.Audience = full
	if got, err := h.Handle(t.Context(), q); err != nil || got.Standings[0].PreviousScore != "95.00" || got.Standings[0].Movement != board.MovementUp {
		t.Fatalf("full audience, provisional previous round: %+v, %v", got.Standings, err)
	}
}

func TestPublishedOnlyTrendLeavesOutProvisionalYears(t *testing.T) {
	final := func(st *board.Standing) *board.Standing { st.Round.Final = true; return st }
	fb := &fakeBoards{years: []int32{2022, 2023, 2024}, stand: map[int32]*board.Standing{
		2022: final(standing(2022, 9000, 0)), 2023: standing(2023, 9500, 0), 2024: final(standing(2024, 9652, 3)),
	}}
	h := NewGetInstitutionTrendHandler(fb, names)
	tr, err := h.Handle(t.Context(), GetInstitutionTrend{Scheme: "ombudsman", InstitutionID: "b", Audience: published})
	if err != nil {
		t.Fatal(err)
	}
	// 2024's change is against 2022, the previous point shown.
	if len(tr.Points) != 2 || tr.Points[0].Year != 2022 || tr.Points[1].Year != 2024 || !tr.Points[1].Final || tr.Points[1].ScoreChange != "+6.52" {
		t.Fatalf("published-only trend %+v", tr.Points)
	}
	tr, err = h.Handle(t.Context(), GetInstitutionTrend{Scheme: "ombudsman", InstitutionID: "b"})
	if err != nil || len(tr.Points) != 3 || tr.Points[1].Final || tr.Points[2].ScoreChange != "+1.52" {
		t.Fatalf("full trend %+v, %v", tr.Points, err)
	}
	// Only provisional records, and not in the registry: nothing to show.
	fb.years = []int32{2023}
	if _, err := h.Handle(t.Context(), GetInstitutionTrend{Scheme: "ombudsman", InstitutionID: "zz", Audience: published}); !fault.Is(err, fault.NotFound) {
		t.Fatalf("published-only, provisional records only: %v", err)
	}
	if tr, err := h.Handle(t.Context(), GetInstitutionTrend{Scheme: "ombudsman", InstitutionID: "b", Audience: published}); err != nil || len(tr.Points) != 0 || tr.Name != "Alpha Baru" {
		t.Fatalf("published-only, registered, provisional records only: %+v, %v", tr, err)
	}
}

func TestPublishedOnlyListBoardsIsFinalOnly(t *testing.T) {
	fb := &fakeBoards{round: r2024, infos: []board.BoardInfo{{ID: "pemda:00", Group: pemda, Count: 5}}}
	h := NewListBoardsHandler(fb, names)
	_, err := h.Handle(t.Context(), ListBoards{Scheme: "ombudsman", Year: 2024, Audience: published})
	denied(t, "provisional round's boards", err)
	if bs, err := h.Handle(t.Context(), ListBoards{Scheme: "ombudsman", Year: 2024}); err != nil || len(bs) != 1 || bs[0].Final {
		t.Fatalf("full audience, provisional round: %+v, %v", bs, err)
	}
	fb.round = finalRound()
	if bs, err := h.Handle(t.Context(), ListBoards{Scheme: "ombudsman", Year: 2024, Audience: published}); err != nil || len(bs) != 1 || !bs[0].Final {
		t.Fatalf("published-only, final round: %+v, %v", bs, err)
	}
}
