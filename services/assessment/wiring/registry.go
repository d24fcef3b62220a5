package wiring

import (
	"context"

	"github.com/predikat-id/predikat/pkg/platform/registryclient"
	"github.com/predikat-id/predikat/services/assessment/internal/app"
	"github.com/predikat-id/predikat/services/assessment/internal/convert"
	"github.com/predikat-id/predikat/services/assessment/internal/model"
)

// registry is the registry client as the application layer's port.
type registry struct{ c *registryclient.Client }

var _ app.Registry = registry{}

func (r registry) Institution(ctx context.Context, id string) (model.Institution, error) {
	in, err := r.c.Lookup(ctx, id)
	if err != nil {
		return model.Institution{}, err
	}
	return convert.InstitutionFromProto(in), nil
}

func (r registry) Region(ctx context.Context, code string) (model.Region, error) {
	reg, err := r.c.LookupRegion(ctx, code)
	if err != nil {
		return model.Region{}, err
	}
	return model.Region{Code: reg.GetCode(), Name: reg.GetName(), ProvinceCode: reg.GetProvinceCode()}, nil
}
