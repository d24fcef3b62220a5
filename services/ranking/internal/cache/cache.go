// Package cache keeps the ranking service's answers in memory, per
// replica, for as long as nothing they were built from can have changed.
//
// The boards change a few times a year and are read all the time, so an
// answer is kept and served again until one of three things says it may
// be out of date:
//
//   - the epoch moved: something applied a change to the boards in Redis
//     (this replica's consumer, at once; another replica's, seen by the
//     Watcher's look at the shared consumers and at Redis), a rebuild
//     swapped generations, Redis was flushed;
//   - the names moved: the registry client's change counter, since names
//     and regions are part of the answers;
//   - the cache is not confirmed: the Watcher has not finished a clean look
//     within MaxLag (NATS or Redis not answering, events applied but not
//     yet acknowledged, a rebuild running, no boards in Redis). Then every
//     call reads Redis as if there were no cache.
//
// An answer is stored with the epoch and names version taken before it was
// read (a Ticket), so an answer read before a change and stored after it
// is never served. The cache is bounded in bytes and evicts with the CLOCK
// (second chance) approximation of least recently used.
package cache

import (
	"hash/maphash"
	"sync"
	"sync/atomic"
	"time"
)

// Freshness decides whether cached answers may be served and tags the
// answers stored. Safe for concurrent use.
type Freshness struct {
	epoch     atomic.Uint64
	confirmed atomic.Int64 // unix nanos: every change before it moved the epoch; 0 none
	maxLag    time.Duration
	names     func() uint64
	now       func() time.Time
}

// NewFreshness returns a Freshness that serves cached answers only within
// maxLag of the last confirmation; names, if set, is a counter that moves
// whenever a name answers are built from may have changed. It starts
// unconfirmed.
func NewFreshness(maxLag time.Duration, names func() uint64) *Freshness {
	if names == nil {
		names = func() uint64 { return 0 }
	}
	return &Freshness{maxLag: maxLag, names: names, now: time.Now}
}

// Invalidate makes every answer stored so far unservable: the boards
// changed.
func (f *Freshness) Invalidate() { f.epoch.Add(1) }

// Confirm says that every change to the boards made before at has moved
// the epoch: answers may be served until at+MaxLag (or the next Confirm).
func (f *Freshness) Confirm(at time.Time) {
	n := at.UnixNano()
	for {
		cur := f.confirmed.Load()
		if n <= cur || f.confirmed.CompareAndSwap(cur, n) {
			return
		}
	}
}

// Unconfirm stops serving cached answers until the next Confirm: changes
// may be happening that nothing reports yet.
func (f *Freshness) Unconfirm() { f.confirmed.Store(0) }

// Usable reports whether cached answers may be served now.
func (f *Freshness) Usable() bool {
	c := f.confirmed.Load()
	return c != 0 && f.now().UnixNano()-c < int64(f.maxLag)
}

// Ticket is what an answer about to be read is stored with.
type Ticket struct {
	epoch, names uint64
	ok           bool
}

// Ticket is taken before reading what an answer is built from.
func (f *Freshness) Ticket() Ticket {
	ok := f.Usable()
	return Ticket{epoch: f.epoch.Load(), names: f.names(), ok: ok}
}

// valid reports whether an answer stored with t may be served now.
func (f *Freshness) valid(epoch, names uint64) bool {
	return f.Usable() && epoch == f.epoch.Load() && names == f.names()
}

// Stats are a cache's counters.
type Stats struct {
	Hits, Misses, Stores, Evictions uint64
	Entries                         int
	Bytes                           int64
}

const shards = 16

// Cache holds answers of type V by key, up to a byte budget. Safe for
// concurrent use.
type Cache[V any] struct {
	f        *Freshness
	seed     maphash.Seed
	perShard int64
	shards   [shards]shard[V]

	hits, misses, stores, evictions atomic.Uint64
}

type entry[V any] struct {
	v            V
	size         int64
	epoch, names uint64
	used         atomic.Bool
}

type shard[V any] struct {
	mu    sync.RWMutex
	m     map[string]*entry[V]
	ring  []string // keys in insertion order: the CLOCK's hand goes round it
	bytes int64
}

// New returns a cache of at most maxBytes (as the sizes given to Put
// count them) whose answers f vouches for.
func New[V any](f *Freshness, maxBytes int64) *Cache[V] {
	c := &Cache[V]{f: f, seed: maphash.MakeSeed(), perShard: max(maxBytes/shards, 1)}
	for i := range c.shards {
		c.shards[i].m = map[string]*entry[V]{}
	}
	return c
}

func (c *Cache[V]) shard(key string) *shard[V] {
	return &c.shards[maphash.String(c.seed, key)%shards]
}

// Get returns the answer stored under key if it may still be served.
func (c *Cache[V]) Get(key string) (V, bool) {
	var zero V
	if !c.f.Usable() {
		c.misses.Add(1)
		return zero, false
	}
	s := c.shard(key)
	s.mu.RLock()
	e := s.m[key]
	s.mu.RUnlock()
	if e == nil || !c.f.valid(e.epoch, e.names) {
		c.misses.Add(1)
		return zero, false
	}
	if !e.used.Load() {
		e.used.Store(true)
	}
	c.hits.Add(1)
	return e.v, true
}

// Put stores an answer read after t was taken; size is what it costs in
// memory, roughly. An answer whose ticket is already out of date (or was
// taken while the cache was not usable) is not stored.
func (c *Cache[V]) Put(t Ticket, key string, v V, size int) {
	sz := int64(size) + int64(len(key)) + entryOverhead
	if !t.ok || sz > c.perShard || !c.f.valid(t.epoch, t.names) {
		return
	}
	e := &entry[V]{v: v, size: sz, epoch: t.epoch, names: t.names}
	s := c.shard(key)
	s.mu.Lock()
	if old, ok := s.m[key]; ok {
		s.bytes -= old.size
	} else {
		s.ring = append(s.ring, key)
	}
	s.m[key] = e
	s.bytes += sz
	ev := s.evict(c.perShard)
	s.mu.Unlock()
	c.stores.Add(1)
	if ev > 0 {
		c.evictions.Add(uint64(ev))
	}
}

// entryOverhead is what an entry costs beyond its answer and key: the map
// slot, the entry, the ring slot.
const entryOverhead = 128

// evict drops entries until the shard fits its budget: the hand passes
// over each key once, sparing those used since it last passed (and
// clearing their mark). s.mu must be held.
func (s *shard[V]) evict(budget int64) int {
	n := 0
	for s.bytes > budget && len(s.ring) > 0 {
		key := s.ring[0]
		s.ring = s.ring[1:]
		e := s.m[key]
		if e.used.Load() {
			e.used.Store(false)
			s.ring = append(s.ring, key)
			continue
		}
		delete(s.m, key)
		s.bytes -= e.size
		n++
	}
	if cap(s.ring) > 4*len(s.ring)+64 {
		s.ring = append([]string(nil), s.ring...) // let the dropped prefix go
	}
	return n
}

// Stats returns the counters and the current size.
func (c *Cache[V]) Stats() Stats {
	st := Stats{Hits: c.hits.Load(), Misses: c.misses.Load(), Stores: c.stores.Load(), Evictions: c.evictions.Load()}
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.RLock()
		st.Entries += len(s.m)
		st.Bytes += s.bytes
		s.mu.RUnlock()
	}
	return st
}
