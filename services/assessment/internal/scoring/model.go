package scoring

import (
	"github.com/predikat-id/predikat/services/assessment/internal/convert"
	"github.com/predikat-id/predikat/services/assessment/internal/model"
	"github.com/predikat-id/predikat/services/assessment/internal/scheme"
)

// Assess is Compute on plain values, for callers that keep to package model.
func Assess(v *scheme.Version, in model.Input) (model.Result, error) {
	res, err := Compute(v, convert.InputToProto(in))
	if err != nil {
		return model.Result{}, err
	}
	return res.Model(), nil
}

// Model returns the result as written into a record.
func (r *Result) Model() model.Result {
	return model.Result{
		Basis: model.Basis(r.Basis), DimensionScores: modelScores(r), WeightedTotal: r.WeightedTotalString(),
		Adjustments: modelAdjustments(r), Total: r.TotalString(), BandCode: r.Band.GetCode(), BandLabel: r.Band.GetLabel(),
		BandZone: model.BandZone(r.Band.GetZone()),
	}
}

func modelScores(r *Result) []model.DimensionScore {
	if r.DimensionScores == nil {
		return nil
	}
	out := make([]model.DimensionScore, len(r.DimensionScores))
	for i, d := range r.DimensionScores {
		out[i] = model.DimensionScore{Code: d.GetCode(), Score: d.GetScore()}
	}
	return out
}

func modelAdjustments(r *Result) []model.Adjustment {
	if r.Adjustments == nil {
		return nil
	}
	out := make([]model.Adjustment, len(r.Adjustments))
	for i, a := range r.Adjustments {
		out[i] = model.Adjustment{Code: a.GetCode(), Amount: a.GetAmount(), Reason: a.GetReason()}
	}
	return out
}
