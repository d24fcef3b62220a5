package store_test

import (
	"testing"
	"time"

	"github.com/predikat-id/predikat/services/ranking/internal/store"
)

// Version moves with every change a read could show (an apply, a round's
// state, a swap to a new generation) and is unsettled while a rebuild
// holds the boards or there are none.
func TestVersionMovesWithTheBoards(t *testing.T) {
	s, rs := newStore(t)
	ctx := t.Context()
	version := func() (string, bool) {
		t.Helper()
		v, settled, err := s.Version(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return v, settled
	}
	v0, settled := version()
	if !settled {
		t.Fatal("boards of this layout, no rebuild: not settled")
	}
	apply(t, s, rec("a", 1, 9000, "A", computed))
	v1, _ := version()
	if v1 == v0 {
		t.Fatal("an apply left the version")
	}
	if again, _ := version(); again != v1 {
		t.Fatalf("nothing changed, the version did: %q then %q", v1, again)
	}
	if err := s.ApplyRound(ctx, store.RoundEvent{Scheme: "ombudsman", Year: 2024, Final: true, Seq: 1}); err != nil {
		t.Fatal(err)
	}
	v2, _ := version()
	if v2 == v1 {
		t.Fatal("a published round left the version")
	}

	// A rebuild: unsettled while it holds the mark, a new version after
	// the swap to a new generation.
	if ok, err := s.AcquireMark(ctx, "r", time.Minute); !ok || err != nil {
		t.Fatal(ok, err)
	}
	if _, settled := version(); settled {
		t.Fatal("settled while a rebuild holds the boards")
	}
	gen, err := s.NewGen(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Swap(ctx, "r", false, []store.SwapRound{{Scheme: "ombudsman", Year: 2024, RoundID: "ombudsman-2024", Version: "2022", Gen: gen, Precision: 2, Final: true}}, 1, 1); err != nil {
		t.Fatal(err)
	}
	v3, settled := version()
	if !settled || v3 == v2 {
		t.Fatalf("after the swap: settled %v, version moved %v", settled, v3 != v2)
	}

	// Flushed: no boards, unsettled.
	rs.Flush(t)
	if v4, settled := version(); settled || v4 == v3 {
		t.Fatalf("after a flush: settled %v, version moved %v", settled, v4 != v3)
	}
}
