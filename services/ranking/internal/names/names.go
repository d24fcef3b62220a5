// Package names adapts the registry client to the application layer's
// Names port: current institution and region names, as plain values.
package names

import (
	"context"

	"github.com/predikat-id/predikat/pkg/platform/registryclient"
	"github.com/predikat-id/predikat/services/ranking/internal/app"
	"github.com/predikat-id/predikat/services/ranking/internal/board"
)

// Registry looks names up through a registry client.
type Registry struct {
	c *registryclient.Client
}

var _ app.Names = Registry{}

// New returns the adapter.
func New(c *registryclient.Client) Registry { return Registry{c: c} }

// Institutions implements app.Names.
func (r Registry) Institutions(ctx context.Context, ids []string) (map[string]app.Institution, error) {
	m, err := r.c.Institutions(ctx, ids)
	if err != nil {
		return nil, err
	}
	out := make(map[string]app.Institution, len(m))
	for id, in := range m {
		if in != nil {
			out[id] = app.Institution{Name: in.GetName(), Kind: board.Kind(in.GetKind()), RegionCode: in.GetRegionCode()}
		}
	}
	return out, nil
}

// Institution implements app.Names.
func (r Registry) Institution(ctx context.Context, id string) (app.Institution, bool, error) {
	in, err := r.c.Institution(ctx, id)
	if err != nil || in == nil {
		return app.Institution{}, false, err
	}
	return app.Institution{Name: in.GetName(), Kind: board.Kind(in.GetKind()), RegionCode: in.GetRegionCode()}, true, nil
}

// RegionName implements app.Names.
func (r Registry) RegionName(ctx context.Context, code string) (string, error) {
	return r.c.RegionName(ctx, code)
}
