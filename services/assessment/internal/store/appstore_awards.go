package store

import (
	"context"

	assessmentv1 "github.com/predikat-id/predikat/pkg/gen/predikat/assessment/v1"
	"github.com/predikat-id/predikat/services/assessment/internal/convert"
	"github.com/predikat-id/predikat/services/assessment/internal/model"
)

// GrantAll implements app.AwardStore: rule awards in atomic batches.
func (p *AppStore) GrantAll(ctx context.Context, awards []model.Award, each func(stored *model.Award, created bool) error) error {
	pbs := make([]*assessmentv1.Award, len(awards))
	for i := range awards {
		pbs[i] = convert.AwardToProto(&awards[i])
	}
	return p.s.GrantAll(ctx, pbs, func(g Granted, created bool) error {
		return each(g.model(), created)
	})
}
