package cache

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"
)

// clock is a settable now.
type clock struct{ t atomic.Int64 }

func (c *clock) now() time.Time      { return time.Unix(0, c.t.Load()) }
func (c *clock) add(d time.Duration) { c.t.Add(int64(d)) }
func newClock() *clock {
	c := &clock{}
	c.t.Store(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano())
	return c
}
func fresh(c *clock, names *atomic.Uint64) *Freshness {
	f := NewFreshness(time.Second, names.Load)
	f.now = c.now
	return f
}

func TestServesOnlyWhatNothingChanged(t *testing.T) {
	c, names := newClock(), &atomic.Uint64{}
	f := fresh(c, names)
	cc := New[string](f, 1<<20)

	// Unconfirmed: nothing is stored or served.
	cc.Put(f.Ticket(), "k", "v0", 10)
	if _, ok := cc.Get("k"); ok {
		t.Fatal("served before the first confirmation")
	}
	f.Confirm(c.now())
	tk := f.Ticket()
	cc.Put(tk, "k", "v1", 10)
	if v, ok := cc.Get("k"); !ok || v != "v1" {
		t.Fatalf("Get = %q, %v", v, ok)
	}

	// The boards changed: the answer goes.
	f.Invalidate()
	if _, ok := cc.Get("k"); ok {
		t.Fatal("served after the epoch moved")
	}
	// An answer read before the change and stored after it is not kept.
	cc.Put(tk, "k", "v1", 10)
	if _, ok := cc.Get("k"); ok {
		t.Fatal("stored an answer read before the change")
	}
	cc.Put(f.Ticket(), "k", "v2", 10)
	if v, ok := cc.Get("k"); !ok || v != "v2" {
		t.Fatalf("Get = %q, %v", v, ok)
	}

	// A name changed.
	names.Add(1)
	if _, ok := cc.Get("k"); ok {
		t.Fatal("served after a name changed")
	}
	cc.Put(f.Ticket(), "k", "v3", 10)

	// The confirmation ages out: bypassed until the next one.
	c.add(999 * time.Millisecond)
	if _, ok := cc.Get("k"); !ok {
		t.Fatal("not served within the allowed lag")
	}
	c.add(time.Millisecond)
	if _, ok := cc.Get("k"); ok {
		t.Fatal("served past the allowed lag")
	}
	f.Confirm(c.now())
	if v, ok := cc.Get("k"); !ok || v != "v3" {
		t.Fatalf("after a new confirmation with nothing changed: %q, %v", v, ok)
	}
	// Unconfirm bypasses at once.
	f.Unconfirm()
	if _, ok := cc.Get("k"); ok {
		t.Fatal("served while unconfirmed")
	}
	// A confirmation never goes back in time.
	f.Confirm(c.now())
	f.Confirm(c.now().Add(-time.Hour))
	if !f.Usable() {
		t.Fatal("an older confirmation replaced a newer one")
	}
	st := cc.Stats()
	if st.Hits != 4 || st.Entries != 1 {
		t.Fatalf("stats %+v", st)
	}
}

func TestBoundedAndSparesWhatIsUsed(t *testing.T) {
	c, names := newClock(), &atomic.Uint64{}
	f := fresh(c, names)
	f.Confirm(c.now())
	const budget = shards * 4 * (100 + entryOverhead + 8)
	cc := New[int](f, budget)
	hot := "hot-key"
	cc.Put(f.Ticket(), hot, -1, 100)
	// Read after every insert: shards are chosen by a seeded hash, so with
	// reads any sparser a run of inserts landing in the hot key's shard
	// between two reads would legitimately evict it, now and then.
	for i := range 10_000 {
		cc.Put(f.Ticket(), fmt.Sprintf("key-%05d", i), i, 100)
		if _, ok := cc.Get(hot); !ok {
			t.Fatalf("the hot entry was evicted after %d inserts", i)
		}
	}
	st := cc.Stats()
	if st.Bytes > budget || st.Entries > shards*4 {
		t.Fatalf("over budget: %+v (budget %d)", st, budget)
	}
	if st.Evictions == 0 {
		t.Fatalf("nothing evicted: %+v", st)
	}
	// An answer larger than a shard's budget is not kept at all.
	cc.Put(f.Ticket(), "huge", 0, budget)
	if _, ok := cc.Get("huge"); ok {
		t.Fatal("kept an answer over the budget")
	}
}

func TestWatcherConfirmsOnlySettledLooks(t *testing.T) {
	names := &atomic.Uint64{}
	f := NewFreshness(time.Hour, names.Load)
	cc := New[string](f, 1<<20)
	var state atomic.Value
	state.Store("a")
	var settled atomic.Bool
	settled.Store(true)
	var failing atomic.Bool
	look := func(context.Context) (string, bool, error) {
		if failing.Load() {
			return "", false, errors.New("NATS down")
		}
		return state.Load().(string), settled.Load(), nil
	}
	w := &Watcher{F: f, Looks: []Look{look}, Every: time.Hour}
	var st watchState
	ctx := context.Background()

	w.look(ctx, &st)
	if !f.Usable() {
		t.Fatal("a settled look did not confirm")
	}
	cc.Put(f.Ticket(), "k", "v", 1)

	// The same state again: the answer stays.
	w.look(ctx, &st)
	if _, ok := cc.Get("k"); !ok {
		t.Fatal("an unchanged look dropped the answer")
	}
	// A new state: the answer goes.
	state.Store("b")
	w.look(ctx, &st)
	if _, ok := cc.Get("k"); ok || !f.Usable() {
		t.Fatal("a changed state kept the answer")
	}
	cc.Put(f.Ticket(), "k", "v", 1)

	// Unsettled (an event delivered, not acknowledged): bypassed at once;
	// settled again in the same state: the epoch still moves, since the
	// change under way may have reached Redis.
	settled.Store(false)
	w.look(ctx, &st)
	if f.Usable() {
		t.Fatal("an unsettled look left the cache usable")
	}
	settled.Store(true)
	w.look(ctx, &st)
	if _, ok := cc.Get("k"); ok || !f.Usable() {
		t.Fatal("the answer from before an unsettled look survived")
	}
	cc.Put(f.Ticket(), "k", "v", 1)

	// A look that fails (the feed is down): bypassed; when it answers
	// again in the very same state, everything from before is dropped.
	failing.Store(true)
	w.look(ctx, &st)
	if f.Usable() {
		t.Fatal("a failed look left the cache usable")
	}
	failing.Store(false)
	w.look(ctx, &st)
	if _, ok := cc.Get("k"); ok || !f.Usable() {
		t.Fatal("the answer from before the outage survived the reconnect")
	}
}

func TestWatcherRunStopsUnconfirmed(t *testing.T) {
	f := NewFreshness(time.Hour, nil)
	ctx, cancel := context.WithCancel(context.Background())
	w := &Watcher{F: f, Looks: []Look{func(context.Context) (string, bool, error) { return "", true, nil }}, Every: time.Millisecond}
	done := make(chan struct{})
	go func() { w.Run(ctx); close(done) }()
	for !f.Usable() {
		time.Sleep(time.Millisecond)
	}
	cancel()
	<-done
	if f.Usable() {
		t.Fatal("usable after the watcher stopped")
	}
}
