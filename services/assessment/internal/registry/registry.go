// Package registry is the assessment service's view of the registry: a gRPC
// client with a cache of every institution and region, filled by the
// registry's WatchInstitutions stream (snapshot, then live changes). Reads
// hit the cache; a miss (an institution created a moment ago) asks the
// registry. When the registry cannot be reached the answer is Unavailable,
// never a guess from a cache that may be stale.
package registry

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/predikat-id/predikat/pkg/fault"
	registryv1 "github.com/predikat-id/predikat/pkg/gen/predikat/registry/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// CallTimeout bounds one call to the registry.
const CallTimeout = 3 * time.Second

// Client is safe for concurrent use.
type Client struct {
	rpc registryv1.RegistryServiceClient
	log *slog.Logger

	mu      sync.RWMutex
	live    bool // the watch stream is connected: the cache is current
	inst    map[string]*registryv1.Institution
	regions map[string]*registryv1.Region
}

// New returns a client over a connection to the registry.
func New(cc grpc.ClientConnInterface, log *slog.Logger) *Client {
	return &Client{rpc: registryv1.NewRegistryServiceClient(cc), log: log,
		inst: map[string]*registryv1.Institution{}, regions: map[string]*registryv1.Region{}}
}

// Run keeps the cache current until ctx ends, reconnecting with backoff.
func (c *Client) Run(ctx context.Context) {
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		err := c.follow(ctx)
		c.setLive(false)
		if ctx.Err() != nil {
			return
		}
		c.log.Warn("registry watch interrupted; cache bypassed until it is back", "err", err, "retry_in", backoff)
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 5*time.Second)
	}
}

func (c *Client) setLive(live bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.live = live
	if !live {
		// Changes may be missed while disconnected: start from a clean
		// snapshot next time rather than serve stale entries.
		clear(c.inst)
	}
}

func (c *Client) follow(ctx context.Context) error {
	stream, err := c.rpc.WatchInstitutions(ctx, &registryv1.WatchInstitutionsRequest{IncludeSnapshot: true})
	if err != nil {
		return err
	}
	for {
		ev, err := stream.Recv()
		if err != nil {
			return err
		}
		if ev.GetSnapshotDone() {
			c.setLive(true)
			c.log.Info("registry cache loaded")
			continue
		}
		c.mu.Lock()
		if in := ev.GetInstitution(); c.inst[in.GetId()].GetRevision() < in.GetRevision() {
			c.inst[in.GetId()] = in
		}
		c.mu.Unlock()
	}
}

// Institution returns the institution with id.
func (c *Client) Institution(ctx context.Context, id string) (*registryv1.Institution, error) {
	c.mu.RLock()
	in, live := c.inst[id], c.live
	c.mu.RUnlock()
	if in != nil && live {
		return in, nil
	}
	ctx, cancel := context.WithTimeout(ctx, CallTimeout)
	defer cancel()
	resp, err := c.rpc.GetInstitution(ctx, &registryv1.GetInstitutionRequest{Id: id})
	if err != nil {
		return nil, mapErr(err, fmt.Sprintf("institution %q is not in the registry", id))
	}
	return resp.GetInstitution(), nil
}

// Region returns the region with code; regions change rarely, so they are
// cached for the life of the process.
func (c *Client) Region(ctx context.Context, code string) (*registryv1.Region, error) {
	c.mu.RLock()
	r := c.regions[code]
	c.mu.RUnlock()
	if r != nil {
		return r, nil
	}
	ctx, cancel := context.WithTimeout(ctx, CallTimeout)
	defer cancel()
	resp, err := c.rpc.GetRegion(ctx, &registryv1.GetRegionRequest{Code: code})
	if err != nil {
		return nil, mapErr(err, fmt.Sprintf("region %q is not in the registry", code))
	}
	c.mu.Lock()
	c.regions[code] = resp.GetRegion()
	c.mu.Unlock()
	return resp.GetRegion(), nil
}

func mapErr(err error, notFound string) error {
	switch status.Code(err) {
	case codes.NotFound:
		return fault.NotFoundf("%s", notFound)
	case codes.InvalidArgument:
		return fault.Invalidf("registry: %s", status.Convert(err).Message())
	}
	if errors.Is(err, context.Canceled) {
		return err
	}
	return fault.Unavailablef("registry unreachable, try again: %s", status.Convert(err).Message())
}
