package store_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/predikat-id/predikat/services/ranking/internal/board"
	"github.com/predikat-id/predikat/services/ranking/internal/store"
)

// The apply script writes what a round's records repeat once per call. A
// batch must leave Redis exactly as the same records applied one call each
// would, answer each record as that would, and so must every split of it:
// random histories (revisions late, repeated and fenced, two rounds whose
// metadata, band tables and groups change, synthetic and band-only
// records) applied both ways are compared key by key after every batch.
func TestApplyInBatchesEqualsOneByOne(t *testing.T) {
	for seed := range uint64(6) {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, 7))
			recs := randomHistory(rng, 400)
			fences := []store.RoundEvent{
				{Scheme: "ombudsman", Year: 2024, RoundID: "ombudsman-2024", SchemeVersion: "2022", Seq: 1,
					Fences: []store.Fence{{RoundRevision: 2, Seq: 150}}},
				{Scheme: "sakip", Year: 2023, RoundID: "sakip-2023", SchemeVersion: "2021", Seq: 2,
					Fences: []store.Fence{{RoundRevision: 3, Seq: 250}}},
			}
			one, oneRedis := newStore(t)
			many, manyRedis := newStore(t)
			ctx := t.Context()
			for _, e := range fences {
				if err := one.ApplyRound(ctx, e); err != nil {
					t.Fatal(err)
				}
				if err := many.ApplyRound(ctx, e); err != nil {
					t.Fatal(err)
				}
			}
			// Batches of every size from 1 to 97 (chunks split anywhere),
			// each compared, once applied, with the same events applied one
			// call each: every state in between must agree, the high-water
			// mark included.
			var want, got []store.Outcome
			for lo := 0; lo < len(recs); {
				hi := min(len(recs), lo+1+rng.IntN(97))
				for _, r := range recs[lo:hi] {
					want = append(want, apply(t, one, r)...)
				}
				got = append(got, apply(t, many, recs[lo:hi]...)...)
				if !slices.Equal(got, want) {
					t.Fatalf("outcomes differ:\n batched    %v\n one by one %v", got, want)
				}
				sameState(t, fmt.Sprintf("after records %d-%d", lo, hi-1), redisState(t, manyRedis.Client(t)), redisState(t, oneRedis.Client(t)))
				lo = hi
			}
			counts := map[store.Outcome]int{}
			for _, o := range want {
				counts[o]++
			}
			if len(counts) != 4 {
				t.Fatalf("the history exercised only %v", counts)
			}
		})
	}
}

// A batch of nothing but redeliveries changes no board, but raises the
// high-water mark as far as they go: the consumer's floor rises with them.
func TestApplyRedeliveriesRaiseTheMark(t *testing.T) {
	s, srv := newStore(t)
	ctx := t.Context()
	first := []board.Record{rec("a", 1, 9000, "A", computed), rec("b", 1, 8000, "B", computed)}
	apply(t, s, first...)
	again := slices.Clone(first)
	again[0].Entry.Seq, again[1].Entry.Seq = 9, 7 // delivered again, later in the stream
	if out := apply(t, s, again...); out[0] != store.Duplicate || out[1] != store.Duplicate {
		t.Fatalf("redeliveries answered %v", out)
	}
	before := redisState(t, srv.Client(t))
	if _, err := s.ApplyFrom(ctx, 9, []board.Record{again[0]}); err != nil {
		t.Fatalf("apply from floor 9 after redeliveries up to 9: %v", err)
	}
	if _, err := s.ApplyFrom(ctx, 10, []board.Record{again[0]}); !errors.Is(err, store.ErrBehind) {
		t.Fatalf("apply from floor 10 with the mark at 9: %v, want ErrBehind", err)
	}
	sameState(t, "after refused and duplicate applies", redisState(t, srv.Client(t)), before)
}

// sameState fails unless two Redis states (redisState) hold the same keys
// and values.
func sameState(t *testing.T, when string, got, want map[string]string) {
	t.Helper()
	for _, k := range slices.Sorted(maps.Keys(want)) {
		if got[k] != want[k] {
			t.Errorf("%s, key %s:\n got  %q\n want %q", when, k, got[k], want[k])
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("%s, key %s not wanted: %q", when, k, got[k])
		}
	}
	if t.Failed() {
		t.FailNow()
	}
}

// randomHistory is n records of two rounds, as a consumer may receive them:
// revisions in order, late, repeated, now and then out of stream order;
// some decided on a round revision a fence refuses past its sequence.
func randomHistory(rng *rand.Rand, n int) []board.Record {
	bands := [][]board.Band{
		{{Code: "A", Label: "Sangat baik", Zone: board.ZoneGreen}, {Code: "B", Label: "Baik", Zone: board.ZoneYellow}},
		{{Code: "A", Label: "Sangat baik (2)", Zone: board.ZoneGreen}, {Code: "C", Label: "Cukup", Zone: board.ZoneRed}},
		nil,
	}
	groups := [][]board.Group{
		{pemda, {Code: "kemen", Name: "Kementerian", Scopes: []board.Scope{board.ScopeNational}}},
		{{Code: "pemda", Name: "Pemda (renamed)", Scopes: []board.Scope{board.ScopeNational}}},
	}
	revs := map[string]uint64{}
	out := make([]board.Record, 0, n)
	for seq := uint64(1); len(out) < n; seq++ {
		inst := fmt.Sprintf("inst-%d", rng.IntN(40))
		r := rec(inst, 1, int64(rng.IntN(10000)), []string{"A", "B", "C"}[rng.IntN(3)], computed)
		if rng.IntN(2) == 0 {
			r.Scheme, r.Year, r.RoundID, r.SchemeVersion, r.Precision = "sakip", 2023, "sakip-2023", "2021", 3
		}
		if rng.IntN(8) == 0 { // a round's metadata changes now and then
			r.SchemeVersion, r.Precision = r.SchemeVersion+"b", r.Precision+1
		}
		key := r.Scheme + "/" + inst
		switch x := rng.IntN(10); {
		case x < 6 || revs[key] == 0:
			revs[key]++
			r.Entry.Revision = revs[key]
		case x < 8:
			r.Entry.Revision = revs[key] // a redelivery
		default:
			r.Entry.Revision = uint64(1 + rng.IntN(int(revs[key]))) // late
		}
		r.Entry.Seq = seq
		r.Entry.TimeMs = 1_700_000_000_000 + int64(rng.IntN(1_000_000))
		r.Entry.Synthetic = rng.IntN(5) == 0
		if rng.IntN(6) == 0 {
			r.Entry.Basis, r.Entry.Scored, r.Entry.Score = board.BasisReportedBand, false, 0
		}
		if rng.IntN(3) == 0 {
			r.Entry.Boards = r.Entry.Boards[:1]
		}
		r.Bands = bands[rng.IntN(len(bands))]
		g := groups[rng.IntN(len(groups))]
		r.Groups = g[:1+rng.IntN(len(g))]
		r.RoundRevision = uint64(rng.IntN(4))
		out = append(out, r)
	}
	// A redelivery may come after later messages.
	for i := 1; i < len(out); i++ {
		if rng.IntN(10) == 0 {
			out[i-1], out[i] = out[i], out[i-1]
		}
	}
	return out
}

// redisState is every key of a Redis with its type and value, in a form
// two of them can be compared by.
func redisState(t *testing.T, rdb *redis.Client) map[string]string {
	t.Helper()
	ctx := context.Background()
	keys, err := rdb.Keys(ctx, "*").Result()
	if err != nil {
		t.Fatal(err)
	}
	out := make(map[string]string, len(keys))
	for _, k := range keys {
		typ, err := rdb.Type(ctx, k).Result()
		if err != nil {
			t.Fatal(err)
		}
		var v any
		switch typ {
		case "string":
			v, err = rdb.Get(ctx, k).Result()
		case "hash":
			var h map[string]string
			h, err = rdb.HGetAll(ctx, k).Result()
			v = sortedPairs(h)
		case "set":
			var m []string
			m, err = rdb.SMembers(ctx, k).Result()
			slices.Sort(m)
			v = m
		case "zset":
			v, err = rdb.ZRangeWithScores(ctx, k, 0, -1).Result()
		default:
			t.Fatalf("key %s of type %s", k, typ)
		}
		if err != nil {
			t.Fatal(err)
		}
		out[k] = fmt.Sprintf("%s %v", typ, v)
	}
	return out
}

func sortedPairs(h map[string]string) []string {
	out := make([]string, 0, 2*len(h))
	for _, k := range slices.Sorted(maps.Keys(h)) {
		out = append(out, k, h[k])
	}
	return out
}
