package app

import (
	"context"
	"strings"

	"github.com/predikat-id/predikat/pkg/platform/fault"
	"github.com/predikat-id/predikat/services/registry/internal/region"
)

// CreateRegion adds a region below an existing parent.
type CreateRegion struct {
	Code string
	Name string
	// Actor is the authenticated principal adding it.
	Actor string
}

// CreateRegionHandler runs CreateRegion.
type CreateRegionHandler struct {
	regions RegionStore
}

// Handle returns the stored region. Errors of the ports pass through as they
// are: they are faults whose text is the client's message, and gRPC would
// send a wrapping prefix along with it.
func (h CreateRegionHandler) Handle(ctx context.Context, cmd CreateRegion) (*region.Region, error) {
	r, err := region.New(cmd.Code, strings.TrimSpace(cmd.Name), false)
	if err != nil {
		return nil, err
	}
	if r.Name == "" {
		return nil, fault.Invalidf("region name is required")
	}
	r.CreatedBy = cmd.Actor
	if _, err := h.regions.Region(ctx, r.ParentCode); err != nil {
		if fault.Is(err, fault.NotFound) {
			return nil, fault.Preconditionf("region %s needs its parent region %s to exist first", cmd.Code, r.ParentCode)
		}
		return nil, err
	}
	if err := h.regions.CreateRegion(ctx, r); err != nil {
		return nil, err
	}
	return r, nil
}

// GetRegion asks for one region by code.
type GetRegion struct {
	Code string
}

// GetRegionHandler runs GetRegion.
type GetRegionHandler struct {
	regions RegionStore
}

// Handle returns the region; a malformed code is Invalid, an unknown one
// NotFound.
func (h GetRegionHandler) Handle(ctx context.Context, q GetRegion) (*region.Region, error) {
	if _, err := region.Parse(q.Code); err != nil {
		return nil, err
	}
	return h.regions.Region(ctx, q.Code)
}

// ListRegions asks for the regions at a level and/or in a province; zero
// fields select everything.
type ListRegions struct {
	Level        region.Level
	ProvinceCode string
}

// ListRegionsHandler runs ListRegions.
type ListRegionsHandler struct {
	index Index
}

// Handle returns the matching regions ordered by code.
func (h ListRegionsHandler) Handle(_ context.Context, q ListRegions) []*region.Region {
	return h.index.Regions(func(r *region.Region) bool {
		// Unfiltered means the Kemendagri regions: the national level is
		// Predikat's own, listed when asked for by level.
		return (q.Level == region.LevelUnspecified && r.Level != region.LevelNational || r.Level == q.Level) &&
			(q.ProvinceCode == "" || r.ProvinceCode == q.ProvinceCode)
	})
}
