// Package index is a replica's in-memory view of the registry: every region
// and institution, ordered for listing, kept current by the KV watcher and
// fanned out to WatchInstitutions streams. Reads never touch NATS.
package index

import (
	"errors"
	"sort"
	"sync"

	registryv1 "github.com/predikat-id/predikat/pkg/gen/predikat/registry/v1"
	"github.com/predikat-id/predikat/services/registry/internal/institution"
)

// Change is one committed change of an institution.
type Change struct {
	Type        registryv1.ChangeType
	Institution *registryv1.Institution
}

// ErrSlowWatcher ends a subscription whose reader fell too far behind; the
// client reconnects with a snapshot rather than silently missing changes.
var ErrSlowWatcher = errors.New("watch fell behind the change rate; reconnect with include_snapshot")

// Sub is one live subscription.
type Sub struct {
	C    chan Change
	err  error
	done chan struct{}
}

// Err says why the subscription ended (after C is closed).
func (s *Sub) Err() error { return s.err }

type entry struct {
	key  string // folded name + "\x00" + id: the listing order
	inst *registryv1.Institution
}

// Index is safe for concurrent use.
type Index struct {
	mu      sync.RWMutex
	byID    map[string]*registryv1.Institution
	order   []entry
	regions map[string]*registryv1.Region
	subs    map[*Sub]struct{}
	subBuf  int
}

// New returns an empty index. subBuf bounds each watcher's backlog.
func New(subBuf int) *Index {
	return &Index{
		byID: map[string]*registryv1.Institution{}, regions: map[string]*registryv1.Region{},
		subs: map[*Sub]struct{}{}, subBuf: subBuf,
	}
}

// OrderKey is the stable listing order of an institution.
func OrderKey(inst *registryv1.Institution) string {
	return institution.Fold(inst.GetName()) + "\x00" + inst.GetId()
}

// PutInstitution applies a committed institution.
func (x *Index) PutInstitution(inst *registryv1.Institution) {
	x.mu.Lock()
	defer x.mu.Unlock()
	old := x.byID[inst.GetId()]
	if old != nil && old.GetRevision() >= inst.GetRevision() {
		return // a replayed older value never overwrites a newer one
	}
	if old != nil {
		x.remove(OrderKey(old))
	}
	x.byID[inst.GetId()] = inst
	k := OrderKey(inst)
	i := sort.Search(len(x.order), func(i int) bool { return x.order[i].key >= k })
	x.order = append(x.order, entry{})
	copy(x.order[i+1:], x.order[i:])
	x.order[i] = entry{key: k, inst: inst}

	ct := registryv1.ChangeType_CHANGE_TYPE_UPDATED
	switch {
	case old == nil:
		ct = registryv1.ChangeType_CHANGE_TYPE_CREATED
	case inst.GetStatus() == registryv1.InstitutionStatus_INSTITUTION_STATUS_RETIRED && old.GetStatus() != inst.GetStatus():
		ct = registryv1.ChangeType_CHANGE_TYPE_RETIRED
	}
	x.publish(Change{Type: ct, Institution: inst})
}

func (x *Index) remove(key string) {
	i := sort.Search(len(x.order), func(i int) bool { return x.order[i].key >= key })
	if i < len(x.order) && x.order[i].key == key {
		x.order = append(x.order[:i], x.order[i+1:]...)
	}
}

// PutRegion applies a committed region.
func (x *Index) PutRegion(r *registryv1.Region) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.regions[r.GetCode()] = r
}

// Institution returns the institution with id, or nil. The result is shared:
// callers must not modify it.
func (x *Index) Institution(id string) *registryv1.Institution {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return x.byID[id]
}

// Region returns the region with code, or nil.
func (x *Index) Region(code string) *registryv1.Region {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return x.regions[code]
}

// Regions returns every region matching keep, ordered by code.
func (x *Index) Regions(keep func(*registryv1.Region) bool) []*registryv1.Region {
	x.mu.RLock()
	out := make([]*registryv1.Region, 0, len(x.regions))
	for _, r := range x.regions {
		if keep(r) {
			out = append(out, r)
		}
	}
	x.mu.RUnlock()
	sort.Slice(out, func(i, j int) bool { return out[i].GetCode() < out[j].GetCode() })
	return out
}

// Page returns up to limit institutions after the order key `after` that pass
// keep, and whether more follow.
func (x *Index) Page(after string, limit int, keep func(*registryv1.Institution) bool) ([]*registryv1.Institution, bool) {
	x.mu.RLock()
	defer x.mu.RUnlock()
	i := 0
	if after != "" {
		i = sort.Search(len(x.order), func(i int) bool { return x.order[i].key > after })
	}
	out := make([]*registryv1.Institution, 0, min(limit, 64))
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
func (x *Index) Subscribe(snapshot bool) (*Sub, []*registryv1.Institution) {
	x.mu.Lock()
	defer x.mu.Unlock()
	s := &Sub{C: make(chan Change, x.subBuf), done: make(chan struct{})}
	x.subs[s] = struct{}{}
	var snap []*registryv1.Institution
	if snapshot {
		snap = make([]*registryv1.Institution, len(x.order))
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
	close(s.C)
}

// publish runs under x.mu. A full channel drops that watcher, never blocks
// the writer path.
func (x *Index) publish(c Change) {
	for s := range x.subs {
		select {
		case s.C <- c: // records are never modified after commit, so sharing is safe
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
