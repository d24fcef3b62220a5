package server_test

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	rankingv1 "github.com/predikat-id/predikat/pkg/gen/predikat/ranking/v1"
	"github.com/predikat-id/predikat/pkg/platform/redisx"
	"github.com/predikat-id/predikat/pkg/platform/testenv/redistest"
	"github.com/predikat-id/predikat/services/ranking/internal/app"
	"github.com/predikat-id/predikat/services/ranking/internal/board"
	"github.com/predikat-id/predikat/services/ranking/internal/server"
	"github.com/predikat-id/predikat/services/ranking/internal/store"
)

// BenchmarkGetStanding measures GetStanding (the handler, with its Redis
// script and a name lookup from an in-memory registry, without the gRPC
// transport) on a
// board of 1,000 and one of 1,000,000 entries, each with a previous round
// of the same size for the movement. A rank is a ZCOUNT with an exclusive
// bound, O(log n), so the two should be close:
//
//	go test -run '^$' -bench GetStanding -benchtime 20000x ./internal/server/
//
// The boards are built once per run with pipelined writes (the 1M one
// takes several seconds and about 470 MB of Redis memory).
func BenchmarkGetStanding(b *testing.B) {
	rdb, st := benchStore(b)
	ctx := context.Background()

	target := benchTarget
	srv := server.New(st, targetNames(), nil)

	var built sync.Map
	for _, n := range []int{1_000, 1_000_000} {
		scheme := fmt.Sprintf("bench%d", n)
		b.Run(fmt.Sprintf("entries=%d", n), func(b *testing.B) {
			if _, done := built.LoadOrStore(n, true); !done {
				start := time.Now()
				buildBoards(b, st, scheme, n, target)
				mem, _ := rdb.Info(ctx, "memory").Result()
				used := ""
				for line := range strings.Lines(mem) {
					if v, ok := strings.CutPrefix(strings.TrimSpace(line), "used_memory_human:"); ok {
						used = v
					}
				}
				b.Logf("built two rounds of %d entries in %s (Redis now uses %s)", n, time.Since(start).Round(time.Millisecond), used)
			}
			req := &rankingv1.GetStandingRequest{InstitutionId: target.id, SchemeId: scheme, Year: 2024}
			// Warm the name cache and check the answer once.
			resp, err := srv.GetStanding(ctx, req)
			if err != nil {
				b.Fatal(err)
			}
			s := resp.GetStandings()[0]
			if s.GetOutOf() != int32(n) || s.GetRank() < 1 || s.GetPreviousRank() < 1 {
				b.Fatalf("standing = %v", s)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				if _, err := srv.GetStanding(ctx, req); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// benchStore starts a Redis (its client logs discarded) and a store on
// it, with the first rebuild's swap done so that boards can be built.
func benchStore(b *testing.B) (*redis.Client, *store.Store) {
	b.Helper()
	redisx.LogTo(slog.New(slog.DiscardHandler))
	rs := redistest.Start(b)
	rdb, err := redisx.NewClient(rs.Addr(), redisx.Options{ReadTimeout: 30 * time.Second})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { rdb.Close() })
	st := store.New(rdb)
	ctx := context.Background()
	if ok, err := st.AcquireMark(ctx, "bench", time.Hour); !ok || err != nil {
		b.Fatal(ok, err)
	}
	if _, err := st.Swap(ctx, "bench", true, nil, 0, 0); err != nil {
		b.Fatal(err)
	}
	return rdb, st
}

// runCalls checks fn once, then times it: on the benchmark's goroutine
// for par 1, on par goroutines per CPU otherwise.
func runCalls(b *testing.B, par int, fn func() error) {
	b.Helper()
	if err := fn(); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	if par == 1 {
		for b.Loop() {
			if err := fn(); err != nil {
				b.Fatal(err)
			}
		}
		return
	}
	b.SetParallelism(par)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := fn(); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// buildBoards writes two rounds (2023 and 2024) of n entries each on one
// national board, the target in the middle of both.
func buildBoards(b *testing.B, st *store.Store, scheme string, n int, target benchInst) {
	ctx := context.Background()
	if ok, err := st.AcquireMark(ctx, "build", time.Hour); !ok || err != nil {
		b.Fatal(ok, err)
	}
	bulk := st.NewBulk()
	group := board.Group{Code: "pemda", Name: "Pemerintah Daerah", Scopes: []board.Scope{board.ScopeNational}}
	for _, year := range []int32{2023, 2024} {
		for i := range n {
			id := fmt.Sprintf("inst-%07d", i)
			if i == n/2 {
				id = target.id
			}
			score := int64((i*7919 + int(year)) % 10001) // 0.00 .. 100.00, spread
			e := board.Entry{Revision: 1, Scored: true, Score: score, Band: "A", Basis: board.BasisComputed,
				Boards: []string{"pemda:00"}, Seq: uint64(i + 1), TimeMs: 1, Name: id, Kind: 5, RegionCode: "63.06", ProvinceCode: "63"}
			r := board.Record{Scheme: scheme, Year: year, RoundID: board.RoundID(scheme, year), SchemeVersion: "2022", Precision: 2,
				Institution: id, Entry: e, BandInfo: board.Band{Code: "A", Label: "Kualitas Tertinggi"}, Groups: []board.Group{group}}
			if err := bulk.Add(ctx, r); err != nil {
				b.Fatal(err)
			}
		}
	}
	swaps, err := bulk.Finish(ctx)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := st.Swap(ctx, "build", false, swaps, 0, 0); err != nil {
		b.Fatal(err)
	}
}

type benchInst struct{ id, name, region string }

var benchTarget = benchInst{id: "bench-target", name: "Pemerintah Kabupaten Hulu Sungai Selatan", region: "63.06"}

// benchNames is the registry as the names port sees it once its cache is
// warm: a map lookup.
type benchNames map[string]app.Institution

// targetNames knows the benchmarks' target institution only.
func targetNames() benchNames {
	return benchNames{benchTarget.id: app.Institution{Name: benchTarget.name, Kind: 5, RegionCode: benchTarget.region}}
}

func (n benchNames) Institutions(_ context.Context, ids []string) (map[string]app.Institution, error) {
	out := map[string]app.Institution{}
	for _, id := range ids {
		if in, ok := n[id]; ok {
			out[id] = in
		}
	}
	return out, nil
}

func (n benchNames) Institution(_ context.Context, id string) (app.Institution, bool, error) {
	in, ok := n[id]
	return in, ok, nil
}

func (n benchNames) RegionName(context.Context, string) (string, error) {
	return "Kalimantan Selatan", nil
}
