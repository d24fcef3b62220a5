package wiring

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	rankingv1 "github.com/predikat-id/predikat/pkg/gen/predikat/ranking/v1"
	"github.com/predikat-id/predikat/pkg/platform/redisx"
	rt "github.com/predikat-id/predikat/pkg/platform/testenv/eventtest"
	"github.com/predikat-id/predikat/pkg/platform/testenv/natstest"
	"github.com/predikat-id/predikat/pkg/platform/testenv/redistest"
	"github.com/predikat-id/predikat/services/ranking/internal/app"
	"github.com/predikat-id/predikat/services/ranking/internal/board"
	"github.com/predikat-id/predikat/services/ranking/internal/cache"
	"github.com/predikat-id/predikat/services/ranking/internal/consumer"
	"github.com/predikat-id/predikat/services/ranking/internal/rebuild"
	"github.com/predikat-id/predikat/services/ranking/internal/server"
	"github.com/predikat-id/predikat/services/ranking/internal/store"
)

// fakeNames is the registry as the names port sees it, with the registry
// client's change counter.
type fakeNames struct {
	mu      sync.Mutex
	insts   map[string]app.Institution
	changes atomic.Uint64
}

func (n *fakeNames) set(id, name string) {
	n.mu.Lock()
	n.insts[id] = app.Institution{Name: name, Kind: board.Kind(rt.Pemkab), RegionCode: "63.06"}
	n.mu.Unlock()
	n.changes.Add(1)
}

func (n *fakeNames) Institutions(_ context.Context, ids []string) (map[string]app.Institution, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	out := map[string]app.Institution{}
	for _, id := range ids {
		if in, ok := n.insts[id]; ok {
			out[id] = in
		}
	}
	return out, nil
}

func (n *fakeNames) Institution(ctx context.Context, id string) (app.Institution, bool, error) {
	m, _ := n.Institutions(ctx, []string{id})
	in, ok := m[id]
	return in, ok, nil
}

func (n *fakeNames) RegionName(_ context.Context, code string) (string, error) {
	return map[string]string{"63": "Kalimantan Selatan", "63.06": "Hulu Sungai Selatan"}[code], nil
}

// replica is one ranking replica's read path as Run wires it: its own
// NATS connection and Redis client, the answer cache and its watcher and,
// when it applies events, the shared durable consumer.
type replica struct {
	srv   *server.Server
	fresh *cache.Freshness
	st    *store.Store
	coord *rebuild.Coordinator
}

var testCache = CacheConfig{Every: 20 * time.Millisecond, MaxLag: 400 * time.Millisecond, MaxBytes: 1 << 20}

func startReplica(t *testing.T, ctx context.Context, ns *natstest.Server, rs *redistest.Server, nm *fakeNames, consume bool) *replica {
	t.Helper()
	js, err := jetstream.New(ns.Conn(t))
	if err != nil {
		t.Fatal(err)
	}
	rdb, err := redisx.NewClient(rs.Addr(), redisx.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = rdb.Close() })
	log := natstest.Logger(t)
	r := &replica{st: store.New(rdb), fresh: cache.NewFreshness(testCache.MaxLag, nm.changes.Load)}
	r.coord = rebuild.NewCoordinator(ctx, rebuild.NewBuilder(js, r.st, log), log)
	r.coord.OnRebuilt(func(rebuild.Result, error) { r.fresh.Invalidate() })
	r.srv = server.New(r.st, nm, nil, server.WithCache(r.fresh, testCache.MaxBytes))
	var wg sync.WaitGroup
	t.Cleanup(func() {
		wg.Wait()
		r.coord.Wait()
	})
	if consume {
		if _, err := r.coord.Rebuild(ctx, rebuild.Filter{}); err != nil {
			t.Fatal(err)
		}
		cons := consumer.New(js, r.st, r.coord, log)
		cons.OnApplied(func(string, int, time.Duration) { r.fresh.Invalidate() })
		wg.Go(func() { cons.Run(ctx) })
	}
	w := cacheWatcher(testCache, r.fresh, js, r.st, log)
	wg.Go(func() { w.Run(ctx) })
	return r
}

func (r *replica) top(t *testing.T) (*rankingv1.GetLeaderboardResponse, error) {
	t.Helper()
	return r.srv.GetLeaderboard(t.Context(), &rankingv1.GetLeaderboardRequest{
		Board: &rankingv1.BoardKey{SchemeId: "ombudsman", Year: 2024, PeerGroup: "pemda", Scope: "00"}, PageSize: 10})
}

// summary is a page as "id name score, ..." for comparisons.
func summary(resp *rankingv1.GetLeaderboardResponse) string {
	s := fmt.Sprint(resp.GetTotalEntries(), ":")
	for _, e := range resp.GetEntries() {
		s += fmt.Sprintf(" %s %q %s", e.GetInstitutionId(), e.GetName(), e.GetScore())
	}
	return s
}

// await reads until the page is want.
func (r *replica) await(t *testing.T, want string) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	var got string
	for time.Now().Before(deadline) {
		resp, err := r.top(t)
		if err == nil {
			if got = summary(resp); got == want {
				return
			}
		} else {
			got = err.Error()
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("page never became\n  %s\nlast:\n  %s", want, got)
}

// awaitUsable waits until the replica's watcher confirmed its cache (or,
// with false, bypasses it).
func (r *replica) awaitUsable(t *testing.T, want bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for r.fresh.Usable() != want {
		if time.Now().After(deadline) {
			t.Fatalf("cache usable stayed %v", !want)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// cachedRead reads the page twice and reports whether the second read was
// answered from the cache.
func (r *replica) cachedRead(t *testing.T) bool {
	t.Helper()
	if _, err := r.top(t); err != nil {
		t.Fatal(err)
	}
	before, _, _ := r.srv.CacheStats()
	if _, err := r.top(t); err != nil {
		t.Fatal(err)
	}
	after, _, _ := r.srv.CacheStats()
	return after.Hits > before.Hits
}

func inst(n int) rt.Inst {
	return rt.Inst{ID: fmt.Sprintf("pemkab-%03d", n), Name: fmt.Sprintf("Kabupaten %03d", n), Kind: rt.Pemkab, Region: "63.06"}
}

// TestCachedReadsFollowOtherReplicas runs two replicas on one NATS and one
// Redis: a applies the events (the shared durable consumer), b only
// answers reads from its cache. b must see every change a made, a
// registry name change, a flush and rebuild of Redis, and a change made
// while its NATS connection was down, and never go back to an answer
// cached before a change.
func TestCachedReadsFollowOtherReplicas(t *testing.T) {
	ns := natstest.Start(t)
	rs := redistest.Start(t)
	pub := rt.NewPublisher(t, ns.JetStream(t))
	nm := &fakeNames{insts: map[string]app.Institution{}}
	for i := 1; i <= 4; i++ {
		nm.set(inst(i).ID, inst(i).Name)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	a := startReplica(t, ctx, ns, rs, nm, true)
	b := startReplica(t, ctx, ns, rs, nm, false)

	pub.Record(t, rt.Rec{Year: 2024, Inst: inst(1), Total: "80.00"})
	want := `1: pemkab-001 "Kabupaten 001" 80.00`
	b.await(t, want)
	b.awaitUsable(t, true)
	if !b.cachedRead(t) {
		t.Fatal("b's second read of an unchanged page was not a cache hit")
	}

	// A new record applied by the other replica.
	pub.Record(t, rt.Rec{Year: 2024, Inst: inst(2), Total: "90.00"})
	want = `2: pemkab-002 "Kabupaten 002" 90.00 pemkab-001 "Kabupaten 001" 80.00`
	b.await(t, want)
	st, err := b.srv.GetStanding(t.Context(), &rankingv1.GetStandingRequest{InstitutionId: inst(1).ID, SchemeId: "ombudsman", Year: 2024})
	if err != nil || st.GetStandings()[0].GetRank() != 2 {
		t.Fatalf("b's standing of pemkab-001 after the new record: %v, %v", st.GetStandings(), err)
	}
	b.awaitUsable(t, true)
	if !b.cachedRead(t) {
		t.Fatal("not cached again after the change")
	}

	// The round is published: the board b had cached as provisional is
	// FINAL (who may read it is judged by that, on every call).
	pub.PublishRound(t, "ombudsman", 2024)
	deadline := time.Now().Add(15 * time.Second)
	for {
		resp, err := b.top(t)
		if err == nil && resp.GetBoard().GetState() == rankingv1.BoardState_BOARD_STATE_FINAL {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("b's board never became FINAL: %v, %v", resp.GetBoard(), err)
		}
		time.Sleep(5 * time.Millisecond)
	}

	// A name changed in the registry: the very next read shows it.
	nm.set(inst(1).ID, "Kabupaten Baru")
	resp, err := b.top(t)
	if err != nil {
		t.Fatal(err)
	}
	want = `2: pemkab-002 "Kabupaten 002" 90.00 pemkab-001 "Kabupaten Baru" 80.00`
	if got := summary(resp); got != want {
		t.Fatalf("after a name change b answered\n  %s\nwant\n  %s", got, want)
	}

	// Redis flushed; the consumer has it rebuilt before applying the next
	// record.
	b.awaitUsable(t, true)
	rs.Flush(t)
	pub.Record(t, rt.Rec{Year: 2024, Inst: inst(3), Total: "95.00"})
	want = `3: pemkab-003 "Kabupaten 003" 95.00 pemkab-002 "Kabupaten 002" 90.00 pemkab-001 "Kabupaten Baru" 80.00`
	b.await(t, want)
	b.awaitUsable(t, true)
	if !b.cachedRead(t) {
		t.Fatal("not cached again after the rebuild")
	}

	// A rebuild (a new generation) by the other replica.
	if _, err := a.coord.Rebuild(ctx, rebuild.Filter{}); err != nil {
		t.Fatal(err)
	}
	b.await(t, want)

	// NATS goes away: b cannot tell what changes, and stops serving from
	// its cache. Meanwhile a replica applies a record it was handed before
	// (its acknowledgement lost with the connection) at a sequence below
	// what Redis holds, which moves nothing the watcher reads in Redis.
	// When NATS is back, b must not serve its answer from before.
	b.awaitUsable(t, true)
	if !b.cachedRead(t) {
		t.Fatal("not cached before the outage")
	}
	ns.Shutdown()
	b.awaitUsable(t, false)
	ev := pub.Event(rt.Rec{Year: 2024, Inst: inst(1), Total: "99.00"})
	rec, err := board.FromEvent(ev, 1)
	if err != nil {
		t.Fatal(err)
	}
	if out, err := a.st.Apply(ctx, []board.Record{rec}); err != nil || out[0] != store.Applied {
		t.Fatalf("apply during the outage: %v, %v", out, err)
	}
	ns.Restart(t)
	b.awaitUsable(t, true)
	resp, err = b.top(t)
	if err != nil {
		t.Fatal(err)
	}
	want = `3: pemkab-001 "Kabupaten Baru" 99.00 pemkab-003 "Kabupaten 003" 95.00 pemkab-002 "Kabupaten 002" 90.00`
	if got := summary(resp); got != want {
		t.Fatalf("after NATS came back b answered\n  %s\nwant\n  %s", got, want)
	}
}
