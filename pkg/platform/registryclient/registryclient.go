// Package registryclient is a service's view of the registry: who an
// institution is now (name, kind, region, head, status) and what a region
// is. Ranking looks names up for its boards, assessment checks institutions
// before recording. The cache is filled by the registry's WatchInstitutions stream (a snapshot,
// then every change) and by BatchGetInstitutions for ids it does not hold
// yet. While that stream is down the cache is kept and served as it is,
// marked stale (a registry outage must not take the boards' names with it:
// a name a few seconds old beats no answer); only ids it does not hold are
// asked for, and those fail Unavailable while the registry cannot be
// reached. When the stream is back, its snapshot brings the cache current
// again.
package registryclient

import (
	"context"
	"errors"
	"fmt"
	"github.com/predikat-id/predikat/pkg/platform/auth"
	"github.com/predikat-id/predikat/pkg/platform/backoff"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	registryv1 "github.com/predikat-id/predikat/pkg/gen/predikat/registry/v1"
	"github.com/predikat-id/predikat/pkg/platform/fault"
)

// CallTimeout bounds one call to the registry.
const CallTimeout = 3 * time.Second

// batchMax is BatchGetInstitutions' limit.
const batchMax = 1000

// maxCached bounds the institution cache; beyond it, half is dropped.
const maxCached = 200_000

// Client is safe for concurrent use.
type Client struct {
	rpc registryv1.RegistryServiceClient
	log *slog.Logger

	mu      sync.RWMutex
	live    bool                               // the watch is connected: cached entries are current
	stale   bool                               // the watch was lost: cached entries may be out of date
	inst    map[string]*registryv1.Institution // nil value: not in the registry
	regions map[string]*registryv1.Region
	loaded  time.Time // when regions were last listed

	// changes counts every change of what the cache answers (see
	// Changes).
	changes atomic.Uint64
}

// Changes is a counter that moves whenever an answer of the cache may have
// changed: an institution or region stored, dropped or replaced, the watch
// lost or back. A caller that keeps something built from names (a cached
// response) keeps it only while the counter has not moved since it read
// them.
func (c *Client) Changes() uint64 { return c.changes.Load() }

// New returns a client over a connection to the registry.
func New(cc grpc.ClientConnInterface, log *slog.Logger) *Client {
	return &Client{rpc: registryv1.NewRegistryServiceClient(cc), log: log,
		inst: map[string]*registryv1.Institution{}, regions: map[string]*registryv1.Region{}}
}

// Run follows the registry's changes until ctx ends, reconnecting with
// backoff.
func (c *Client) Run(ctx context.Context) {
	// follow only returns on a broken watch; one that ran for a while was
	// healthy, and the next outage starts with quick retries again.
	_ = backoff.Retry(ctx, backoff.Exponential{Config: backoff.DefaultConfig}, 30*time.Second, func(ctx context.Context) error {
		err := c.follow(ctx)
		c.setLive(false)
		return err
	}, func(err error, delay time.Duration) {
		c.log.Warn("registry watch interrupted; serving cached names (stale) until it is back", "err", err,
			"cached", c.cached(), "retry_in", delay)
	})
}

// Stale reports whether the cache is served without the watch keeping it
// current (the registry was lost and is not back yet).
func (c *Client) Stale() bool {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.stale
}

func (c *Client) cached() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.inst)
}

// Live reports whether the cache is being kept current.
func (c *Client) Live() bool {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.live
}

// setLive records whether the watch keeps the cache current. Losing it
// keeps every entry: changes missed meanwhile come with the snapshot of the
// next connection (see follow).
func (c *Client) setLive(live bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if live && c.stale {
		c.log.Info("registry watch back: cached names current again")
	}
	c.stale = !live && (c.stale || c.live || len(c.inst) > 0)
	c.live = live
	c.changes.Add(1)
}

// follow reads the registry's snapshot into the cache, then keeps it
// current with every change; the cache is trusted from the end of the
// snapshot until the stream breaks.
func (c *Client) follow(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stream, err := c.rpc.WatchInstitutions(ctx, &registryv1.WatchInstitutionsRequest{IncludeSnapshot: true})
	if err != nil {
		return err
	}
	// seen collects the snapshot's ids: what the cache holds beyond them
	// was answered before (or while) the watch was down and may be out of
	// date, and is dropped when the snapshot is complete.
	seen := map[string]bool{}
	for {
		ev, err := stream.Recv()
		if err != nil {
			return err
		}
		if ev.GetSnapshotDone() {
			c.endSnapshot(seen)
			seen = nil
			continue
		}
		in := ev.GetInstitution()
		if in == nil {
			continue
		}
		if seen != nil {
			seen[in.GetId()] = true
		}
		c.mu.Lock()
		if old := c.inst[in.GetId()]; old.GetRevision() < in.GetRevision() {
			c.put(in.GetId(), in)
		}
		c.mu.Unlock()
	}
}

// endSnapshot drops what the snapshot did not confirm and makes the cache
// live.
func (c *Client) endSnapshot(seen map[string]bool) {
	c.mu.Lock()
	for id := range c.inst {
		if !seen[id] {
			delete(c.inst, id)
		}
	}
	c.changes.Add(1)
	c.mu.Unlock()
	c.setLive(true)
}

// put caches one answer (nil: not in the registry), keeping the cache
// bounded. c.mu must be held.
func (c *Client) put(id string, in *registryv1.Institution) {
	if _, ok := c.inst[id]; !ok && len(c.inst) >= maxCached {
		drop := len(c.inst) / 2
		for k := range c.inst {
			if drop == 0 {
				break
			}
			delete(c.inst, k)
			drop--
		}
	}
	c.inst[id] = in
	c.changes.Add(1)
}

// Institutions returns the institutions with the given ids that the registry
// knows; ids it does not know are absent from the map (their board entries
// fall back to the snapshot in the event).
func (c *Client) Institutions(ctx context.Context, ids []string) (map[string]*registryv1.Institution, error) {
	out := make(map[string]*registryv1.Institution, len(ids))
	var missing []string
	c.mu.RLock()
	// While the watch is down (stale) the cache is still served: the
	// alternative is asking a registry that is probably unreachable for
	// every name. Before the first snapshot (neither live nor stale) only
	// direct answers count.
	usable := c.live || c.stale
	seen := map[string]bool{}
	for _, id := range ids {
		if seen[id] {
			continue
		}
		seen[id] = true
		if in, ok := c.inst[id]; ok && usable {
			if in != nil {
				out[id] = in
			}
			continue
		}
		missing = append(missing, id)
	}
	c.mu.RUnlock()
	for len(missing) > 0 {
		n := min(len(missing), batchMax)
		got, err := c.fetch(ctx, missing[:n])
		if err != nil {
			return nil, err
		}
		c.mu.Lock()
		for _, id := range missing[:n] {
			in := got[id]
			if in != nil {
				out[id] = in
			}
			if cur, ok := c.inst[id]; !ok || cur.GetRevision() < in.GetRevision() {
				c.put(id, in)
			}
		}
		c.mu.Unlock()
		missing = missing[n:]
	}
	return out, nil
}

// Institution returns one institution, nil when the registry does not know
// it.
func (c *Client) Institution(ctx context.Context, id string) (*registryv1.Institution, error) {
	m, err := c.Institutions(ctx, []string{id})
	if err != nil {
		return nil, err
	}
	return m[id], nil
}

func (c *Client) fetch(ctx context.Context, ids []string) (map[string]*registryv1.Institution, error) {
	cctx, cancel := context.WithTimeout(ctx, CallTimeout)
	defer cancel()
	resp, err := c.rpc.BatchGetInstitutions(cctx, &registryv1.BatchGetInstitutionsRequest{Ids: ids})
	if err == nil {
		out := make(map[string]*registryv1.Institution, len(ids))
		for _, in := range resp.GetInstitutions() {
			out[in.GetId()] = in
		}
		return out, nil
	}
	if status.Code(err) != codes.NotFound {
		return nil, mapErr(err)
	}
	// Some id is unknown and the batch answers all or nothing: ask one by
	// one (rare: boards normally hold registered institutions).
	out := make(map[string]*registryv1.Institution, len(ids))
	for _, id := range ids {
		cctx, cancel := context.WithTimeout(ctx, CallTimeout)
		r, err := c.rpc.GetInstitution(cctx, &registryv1.GetInstitutionRequest{Id: id})
		cancel()
		switch {
		case status.Code(err) == codes.NotFound:
		case err != nil:
			return nil, mapErr(err)
		default:
			out[id] = r.GetInstitution()
		}
	}
	return out, nil
}

// RegionName returns the name of a region ("Kalimantan Selatan", "Hulu
// Sungai Selatan"); "" when the registry does not know the code.
func (c *Client) RegionName(ctx context.Context, code string) (string, error) {
	r, err := c.Region(ctx, code)
	return r.GetName(), err
}

// Region returns a region, nil when the registry does not know the code.
// Regions are listed once and again when an unknown code is asked for (at
// most every 30 seconds).
func (c *Client) Region(ctx context.Context, code string) (*registryv1.Region, error) {
	if code == "" {
		return nil, nil
	}
	c.mu.RLock()
	r, ok := c.regions[code]
	stale := time.Since(c.loaded) > 30*time.Second
	c.mu.RUnlock()
	if ok || !stale {
		return r, nil
	}
	cctx, cancel := context.WithTimeout(ctx, CallTimeout)
	defer cancel()
	resp, err := c.rpc.ListRegions(cctx, &registryv1.ListRegionsRequest{})
	if err != nil {
		return nil, mapErr(err)
	}
	c.mu.Lock()
	for _, r := range resp.GetRegions() {
		c.regions[r.GetCode()] = r
	}
	c.changes.Add(1)
	c.loaded = time.Now()
	r = c.regions[code]
	c.mu.Unlock()
	return r, nil
}

func mapErr(err error) error {
	if errors.Is(err, context.Canceled) {
		return err
	}
	return fault.Unavailablef("registry unreachable, try again: %s", fmt.Sprint(status.Convert(err).Message()))
}

// Lookup is Institution for callers that need the institution to exist: an
// id the registry does not know is NotFound.
func (c *Client) Lookup(ctx context.Context, id string) (*registryv1.Institution, error) {
	in, err := c.Institution(ctx, id)
	if err == nil && in == nil {
		err = fault.NotFoundf("institution %q is not in the registry", id)
	}
	return in, err
}

// ProvinceOf is the province an institution lies in ("" when the registry
// does not know it), for access rules scoped to provinces.
func (c *Client) ProvinceOf(ctx context.Context, id string) (string, error) {
	in, err := c.Institution(ctx, id)
	if err != nil || in == nil {
		return "", err
	}
	return auth.ProvinceOfRegion(in.GetRegionCode()), nil
}

// LookupRegion is Region for callers that need the region to exist.
func (c *Client) LookupRegion(ctx context.Context, code string) (*registryv1.Region, error) {
	r, err := c.Region(ctx, code)
	if err == nil && r == nil {
		err = fault.NotFoundf("region %q is not in the registry", code)
	}
	return r, err
}
