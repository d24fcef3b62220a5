package store_test

import (
	"context"
	"math/big"
	"testing"
	"time"

	"github.com/predikat-id/predikat/pkg/platform/testenv/redistest"
	"github.com/predikat-id/predikat/services/ranking/internal/board"
	"github.com/predikat-id/predikat/services/ranking/internal/store"
)

var pemda = board.Group{Code: "pemda", Name: "Pemerintah Daerah", Scopes: []board.Scope{board.ScopeNational, board.ScopeProvince}}

func rec(inst string, rev uint64, score int64, band string, basis board.Basis) board.Record {
	e := board.Entry{Revision: rev, Band: band, Basis: basis, Seq: rev, TimeMs: time.Now().UnixMilli(), Name: inst,
		Boards: []string{"pemda:00", "pemda:63"}, ProvinceCode: "63"}
	if basis != board.BasisReportedBand {
		e.Scored, e.Score = true, score
	}
	return board.Record{Scheme: "ombudsman", Year: 2024, RoundID: "ombudsman-2024", SchemeVersion: "2022", Precision: 2,
		Institution: inst, Entry: e, BandInfo: board.Band{Code: band, Label: "label " + band, Zone: board.ZoneGreen},
		Groups: []board.Group{pemda}}
}

const computed = board.BasisComputed

func newStore(t *testing.T) (*store.Store, *redistest.Server) { return newStoreB(t) }

func newStoreB(t testing.TB) (*store.Store, *redistest.Server) {
	t.Helper()
	srv := redistest.Start(t)
	s := store.New(srv.Client(t))
	ctx := t.Context()
	// An empty Redis has no layout: applies are refused until a (here:
	// empty) rebuild sets it.
	if _, err := s.Apply(ctx, []board.Record{rec("x", 1, 1, "A", computed)}); err != store.ErrNoLayout {
		t.Fatalf("apply on empty redis: %v, want ErrNoLayout", err)
	}
	if ok, err := s.AcquireMark(ctx, "t", time.Minute); !ok || err != nil {
		t.Fatal(ok, err)
	}
	if _, err := s.Swap(ctx, "t", true, nil, 0, 0); err != nil {
		t.Fatal(err)
	}
	return s, srv
}

func apply(t *testing.T, s *store.Store, rs ...board.Record) []store.Outcome {
	t.Helper()
	out, err := s.Apply(t.Context(), rs)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestApplyRevisionsAndStatistics(t *testing.T) {
	s, _ := newStore(t)
	ctx := t.Context()
	out := apply(t, s, rec("a", 1, 9000, "A", computed), rec("b", 1, 8000, "B", computed), rec("c", 1, 0, "C", board.BasisReportedBand))
	if out[0] != store.Applied || out[2] != store.Applied {
		t.Fatalf("outcomes %v", out)
	}
	// Correction: b moves from 80.00 to 95.00 and band A.
	if o := apply(t, s, rec("b", 2, 9500, "A", computed)); o[0] != store.Applied {
		t.Fatal(o)
	}
	// Late older revision and redelivery change nothing.
	if o := apply(t, s, rec("b", 1, 8000, "B", computed), rec("b", 2, 9500, "A", computed)); o[0] != store.Stale || o[1] != store.Duplicate {
		t.Fatalf("late/dup outcomes %v", o)
	}
	st, err := s.Standing(ctx, "ombudsman", 2024, "b")
	if err != nil || !st.Found || st.Entry.Score != 9500 || st.Boards[0].Higher != 0 || st.Boards[0].Count != 2 {
		t.Fatalf("standing of b = %+v, %v", st, err)
	}
	stats, err := s.Statistics(ctx, "ombudsman", 2024, "pemda:63")
	if err != nil {
		t.Fatal(err)
	}
	want := board.Stats{N: 2, Sum: big.NewInt(18500), SumSq: big.NewInt(9000*9000 + 9500*9500)}
	if stats.Stats.N != want.N || stats.Stats.Sum.Cmp(want.Sum) != 0 || stats.Stats.SumSq.Cmp(want.SumSq) != 0 {
		t.Fatalf("stats %+v", stats.Stats)
	}
	if stats.BandCounts["A"] != 2 || stats.BandCounts["B"] != 0 || stats.BandCounts["C"] != 1 || stats.ReportedCounts["C"] != 1 || stats.ReportedTotal != 1 {
		t.Fatalf("band counts %v reported %v %d", stats.BandCounts, stats.ReportedCounts, stats.ReportedTotal)
	}
	if stats.Min != 9000 || stats.Max != 9500 || stats.LowMid != 9000 || stats.HighMd != 9500 {
		t.Fatalf("min/max/median inputs %+v", stats)
	}
	// The band-only record is not on the board.
	p, err := s.Page(ctx, "ombudsman", 2024, "pemda:63", 10, nil)
	if err != nil || p.Count != 2 || len(p.Ties) != 2 {
		t.Fatalf("page %+v, %v", p, err)
	}
	// The board's time is its latest record's, never going back for a late
	// one.
	late := rec("c", 2, 7000, "B", computed)
	late.Entry.TimeMs = 1
	apply(t, s, late)
	if after, err := s.Statistics(ctx, "ombudsman", 2024, "pemda:63"); err != nil || after.UpdateMs != stats.UpdateMs || stats.UpdateMs < time.Now().Add(-time.Minute).UnixMilli() {
		t.Fatalf("board time %d, then %d after a record of time 1 (%v)", stats.UpdateMs, after.UpdateMs, err)
	}
}

// Synthetic data is counted on its boards as it comes and goes (a
// correction to real figures takes it off the count) and shown on the entry.
func TestApplyCountsSyntheticRecords(t *testing.T) {
	s, _ := newStore(t)
	ctx := t.Context()
	fill := func(id string, rev uint64, score int64) board.Record {
		r := rec(id, rev, score, "A", computed)
		r.Entry.Synthetic = true
		return r
	}
	apply(t, s, fill("x", 1, 9100), fill("y", 1, 9200), rec("z", 1, 9300, "A", computed))
	count := func() int64 {
		t.Helper()
		st, err := s.Statistics(ctx, "ombudsman", 2024, "pemda:63")
		if err != nil {
			t.Fatal(err)
		}
		return st.Synthetic
	}
	if n := count(); n != 2 {
		t.Fatalf("%d synthetic records counted, want 2", n)
	}
	apply(t, s, rec("y", 2, 9250, "A", computed))
	if n := count(); n != 1 {
		t.Fatalf("after y became real: %d synthetic, want 1", n)
	}
	st, err := s.Standing(ctx, "ombudsman", 2024, "x")
	if err != nil || !st.Entry.Synthetic {
		t.Fatalf("standing of the synthetic x: %+v, %v", st.Entry, err)
	}
}

func TestRebuildMarkBlocksApplies(t *testing.T) {
	s, _ := newStore(t)
	ctx := t.Context()
	if ok, _ := s.AcquireMark(ctx, "r1", time.Minute); !ok {
		t.Fatal("mark not acquired")
	}
	if ok, _ := s.AcquireMark(ctx, "r2", time.Minute); ok {
		t.Fatal("second mark acquired")
	}
	if _, err := s.Apply(ctx, []board.Record{rec("a", 1, 9000, "A", computed)}); err != store.ErrBusy {
		t.Fatalf("apply during rebuild: %v", err)
	}
	if _, err := s.Swap(ctx, "r2", false, nil, 0, 0); err == nil {
		t.Fatal("swap without the mark succeeded")
	}
	if err := s.ReleaseMark(ctx, "r1"); err != nil {
		t.Fatal(err)
	}
	apply(t, s, rec("a", 1, 9000, "A", computed))
}

func TestNoScriptAfterRestart(t *testing.T) {
	s, srv := newStore(t)
	apply(t, s, rec("a", 1, 9000, "A", computed))
	srv.Stop()
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	// Restarted without data: the layout is gone, and the scripts too
	// (NOSCRIPT is handled by reloading them).
	for {
		_, err := s.Apply(ctx, []board.Record{rec("a", 1, 9000, "A", computed)})
		if err == store.ErrNoLayout {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("apply after restart: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
