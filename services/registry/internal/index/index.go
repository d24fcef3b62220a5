// Package index is a replica's in-memory view of the registry: every region
// and institution, ordered for listing, kept current by the KV watcher and
// fanned out to WatchInstitutions streams. Reads never touch NATS.
package index

import (
	"errors"
	"sort"
	"sync"

	"github.com/predikat-id/predikat/services/registry/internal/institution"
	"github.com/predikat-id/predikat/services/registry/internal/region"
)

// ErrSlowWatcher ends a subscription whose reader fell too far behind; the
// client reconnects with a snapshot rather than silently missing changes.
var ErrSlowWatcher = errors.New("watch fell behind the change rate; reconnect with include_snapshot")

// Sub is one live subscription.
type Sub struct {
	c   chan institution.Change
	err error
	x   *Index
}

// Changes delivers the changes committed after Subscribe; it is closed when
// the subscription ends.
func (s *Sub) Changes() <-chan institution.Change { return s.c }

// Err says why the subscription ended (after Changes is closed).
func (s *Sub) Err() error { return s.err }

// Close ends the subscription; safe to call more than once.
func (s *Sub) Close() { s.x.Unsubscribe(s) }

type entry struct {
	key  string // folded name + "\x00" + id: the listing order
	inst *institution.Institution
}

// Index is safe for concurrent use.
type Index struct {
	mu      sync.RWMutex
	byID    map[string]*institution.Institution
	order   []entry
	regions map[string]*region.Region
	subs    map[*Sub]struct{}
	subBuf  int
}

// New returns an empty index. subBuf bounds each watcher's backlog.
func New(subBuf int) *Index {
	return &Index{
		byID: map[string]*institution.Institution{}, regions: map[string]*region.Region{},
		subs: map[*Sub]struct{}{}, subBuf: subBuf,
	}
}

// PutInstitution applies a committed institution.
func (x *Index) PutInstitution(inst *institution.Institution) {
	x.mu.Lock()
	defer x.mu.Unlock()
	old := x.byID[inst.ID]
	if old != nil && old.Revision >= inst.Revision {
		return // a replayed older value never overwrites a newer one
	}
	if old != nil {
		x.remove(institution.OrderKey(old))
	}
	x.byID[inst.ID] = inst
	k := institution.OrderKey(inst)
	i := sort.Search(len(x.order), func(i int) bool { return x.order[i].key >= k })
	x.order = append(x.order, entry{})
	copy(x.order[i+1:], x.order[i:])
	x.order[i] = entry{key: k, inst: inst}

	x.publish(institution.Change{Type: changeType(old, inst), Institution: inst})
}

func changeType(old, inst *institution.Institution) institution.ChangeType {
	switch {
	case old == nil:
		return institution.ChangeCreated
	case inst.Status == institution.StatusRetired && old.Status != inst.Status:
		return institution.ChangeRetired
	}
	return institution.ChangeUpdated
}

func (x *Index) remove(key string) {
	i := sort.Search(len(x.order), func(i int) bool { return x.order[i].key >= key })
	if i < len(x.order) && x.order[i].key == key {
		x.order = append(x.order[:i], x.order[i+1:]...)
	}
}

// PutRegion applies a committed region.
func (x *Index) PutRegion(r *region.Region) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.regions[r.Code] = r
}

// Institution returns the institution with id, or nil. The result is shared:
// callers must not modify it.
func (x *Index) Institution(id string) *institution.Institution {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return x.byID[id]
}

// Region returns the region with code, or nil.
func (x *Index) Region(code string) *region.Region {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return x.regions[code]
}

// Regions returns every region matching keep, ordered by code.
func (x *Index) Regions(keep func(*region.Region) bool) []*region.Region {
	x.mu.RLock()
	out := make([]*region.Region, 0, len(x.regions))
	for _, r := range x.regions {
		if keep(r) {
			out = append(out, r)
		}
	}
	x.mu.RUnlock()
	sort.Slice(out, func(i, j int) bool { return out[i].Code < out[j].Code })
	return out
}

// Page returns up to limit institutions after the order key `after` that pass
// keep, and whether more follow.
func (x *Index) Page(after string, limit int, keep func(*institution.Institution) bool) ([]*institution.Institution, bool) {
	x.mu.RLock()
	defer x.mu.RUnlock()
	i := 0
	if after != "" {
		i = sort.Search(len(x.order), func(i int) bool { return x.order[i].key > after })
	}
	out := make([]*institution.Institution, 0, min(limit, 64))
	for ; i < len(x.order); i++ {
		if !keep(x.order[i].inst) {
			continue
		}
		if len(out) == limit {
			return out, true
		}
		out = append(out, x.order[i].inst)
	}
	return out, false
}

// Subscribe registers a watcher. With snapshot, it also returns every current
// institution, taken under the same lock so no change falls between the two.
func (x *Index) Subscribe(snapshot bool) (*Sub, []*institution.Institution) {
	x.mu.Lock()
	defer x.mu.Unlock()
	s := &Sub{c: make(chan institution.Change, x.subBuf), x: x}
	x.subs[s] = struct{}{}
	var snap []*institution.Institution
	if snapshot {
		snap = make([]*institution.Institution, len(x.order))
		for i, e := range x.order {
			snap[i] = e.inst
		}
	}
	return s, snap
}

// Unsubscribe ends a subscription; safe to call more than once.
func (x *Index) Unsubscribe(s *Sub) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.drop(s, nil)
}

func (x *Index) drop(s *Sub, err error) {
	if _, ok := x.subs[s]; !ok {
		return
	}
	delete(x.subs, s)
	s.err = err
	close(s.c)
}

// publish runs under x.mu. A full channel drops that watcher, never blocks
// the writer path.
func (x *Index) publish(c institution.Change) {
	for s := range x.subs {
		select {
		case s.c <- c: // records are never modified after commit, so sharing is safe
		default:
			x.drop(s, ErrSlowWatcher)
		}
	}
}

// Len is the number of institutions.
func (x *Index) Len() int {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return len(x.byID)
}
