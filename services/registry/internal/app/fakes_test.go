package app

import (
	"context"
	"sort"
	"sync"
	"time"

	"github.com/predikat-id/predikat/pkg/platform/fault"
	"github.com/predikat-id/predikat/services/registry/internal/institution"
	"github.com/predikat-id/predikat/services/registry/internal/region"
)

// fakeStore is an in-memory RegionStore, InstitutionStore and Index with
// the contract of the real one: revisions count up per write, identities
// are unique among active institutions, writes compare-and-set.
type fakeStore struct {
	mu      sync.Mutex
	regions map[string]*region.Region
	insts   map[string]*institution.Institution
	rev     uint64
	fail    error // returned by every write when set
	// lostAck, when set, is returned by the next CreateInstitution after
	// its write landed: an answer lost on the way back.
	lostAck  error
	requests map[string]institution.CreateRequest
}

func newFakeStore() *fakeStore {
	s := &fakeStore{regions: map[string]*region.Region{}, insts: map[string]*institution.Institution{},
		requests: map[string]institution.CreateRequest{}}
	builtin, err := region.Builtin()
	if err != nil {
		panic(err)
	}
	for _, r := range builtin {
		s.regions[r.Code] = r
	}
	return s
}

func (s *fakeStore) Region(_ context.Context, code string) (*region.Region, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r, ok := s.regions[code]; ok {
		return r, nil
	}
	return nil, fault.NotFoundf("region %s not found", code)
}

func (s *fakeStore) CreateRegion(_ context.Context, r *region.Region) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail != nil {
		return s.fail
	}
	if _, ok := s.regions[r.Code]; ok {
		return fault.Existsf("region %s already exists", r.Code)
	}
	s.regions[r.Code] = r
	return nil
}

func (s *fakeStore) Institution(ctx context.Context, id string) (*institution.Institution, error) {
	return s.Load(ctx, id)
}

func (s *fakeStore) Load(_ context.Context, id string) (*institution.Institution, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if in, ok := s.insts[id]; ok {
		return in.Clone(), nil
	}
	return nil, fault.NotFoundf("institution %q not found", id)
}

func (s *fakeStore) CreateInstitution(_ context.Context, in *institution.Institution) (*institution.Institution, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail != nil {
		return nil, s.fail
	}
	if _, ok := s.insts[in.ID]; ok {
		return nil, fault.Existsf("institution id %q is already taken", in.ID)
	}
	if err := s.identityFree(in); err != nil {
		return nil, err
	}
	out := s.put(in)
	if err := s.lostAck; err != nil {
		s.lostAck = nil
		return nil, err
	}
	return out, nil
}

func (s *fakeStore) ReserveCreate(_ context.Context, want institution.CreateRequest) (institution.CreateRequest, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail != nil {
		return institution.CreateRequest{}, s.fail
	}
	if have, ok := s.requests[want.RequestID]; ok {
		return have, nil
	}
	s.requests[want.RequestID] = want
	return want, nil
}

func (s *fakeStore) CommitInstitution(_ context.Context, cur, next *institution.Institution) (*institution.Institution, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail != nil {
		return nil, s.fail
	}
	if have := s.insts[cur.ID]; have == nil || have.Revision != cur.Revision {
		return nil, fault.Conflictf("institution %q changed concurrently", cur.ID)
	}
	if err := s.identityFree(next); err != nil {
		return nil, err
	}
	return s.put(next), nil
}

func (s *fakeStore) identityFree(in *institution.Institution) error {
	for _, o := range s.insts {
		if o.ID != in.ID && o.Status == institution.StatusActive && o.Identity() == in.Identity() {
			return fault.Existsf("%q is already registered as %q", in.Name, o.ID)
		}
	}
	return nil
}

func (s *fakeStore) put(in *institution.Institution) *institution.Institution {
	s.rev++
	c := in.Clone()
	c.Revision = s.rev
	s.insts[c.ID] = c
	return c.Clone()
}

func (s *fakeStore) Regions(keep func(*region.Region) bool) []*region.Region {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []*region.Region
	for _, r := range s.regions {
		if keep(r) {
			out = append(out, r)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Code < out[j].Code })
	return out
}

func (s *fakeStore) Page(after string, limit int, keep func(*institution.Institution) bool) ([]*institution.Institution, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	all := make([]*institution.Institution, 0, len(s.insts))
	for _, in := range s.insts {
		all = append(all, in)
	}
	sort.Slice(all, func(i, j int) bool { return institution.OrderKey(all[i]) < institution.OrderKey(all[j]) })
	var out []*institution.Institution
	for _, in := range all {
		if institution.OrderKey(in) <= after || !keep(in) {
			continue
		}
		if len(out) == limit {
			return out, true
		}
		out = append(out, in)
	}
	return out, false
}

// fakeClock is a settable Clock.
type fakeClock struct{ t time.Time }

func (c *fakeClock) Now() time.Time { return c.t }

// fakeFeed hands out one subscription whose changes the test sends.
type fakeFeed struct {
	snap []*institution.Institution
	sub  *fakeSub
	// subscribed gets every new subscription, for tests whose watch runs
	// in another goroutine.
	subscribed chan *fakeSub
}

type fakeSub struct {
	c      chan institution.Change
	err    error
	closed bool
}

func (s *fakeSub) Changes() <-chan institution.Change { return s.c }
func (s *fakeSub) Err() error                         { return s.err }
func (s *fakeSub) Close()                             { s.closed = true }

func (f *fakeFeed) Subscribe(snapshot bool) (Subscription, []*institution.Institution) {
	f.sub = &fakeSub{c: make(chan institution.Change, 8)}
	f.subscribed <- f.sub
	if !snapshot {
		return f.sub, nil
	}
	return f.sub, f.snap
}

// testApp is the application over fakes, as the tests drive it.
type testApp struct {
	*Application
	store    *fakeStore
	clock    *fakeClock
	feed     *fakeFeed
	stopping chan struct{}
}

func newTestApp() *testApp {
	ta := &testApp{store: newFakeStore(), clock: &fakeClock{t: time.Date(2025, 2, 20, 8, 0, 0, 0, time.UTC)},
		feed: &fakeFeed{subscribed: make(chan *fakeSub, 4)}, stopping: make(chan struct{})}
	ta.Application = New(Ports{Regions: ta.store, Institutions: ta.store, Requests: ta.store, Index: ta.store, Feed: ta.feed,
		Clock: ta.clock, Stopping: ta.stopping})
	return ta
}
