package award

import (
	"github.com/predikat-id/predikat/services/assessment/internal/convert"
	"github.com/predikat-id/predikat/services/assessment/internal/model"
	"github.com/predikat-id/predikat/services/assessment/internal/scheme"
)

// EvaluateRound is Evaluate on plain values, for callers that keep to
// package model.
func EvaluateRound(v *scheme.Version, r model.Round, records []*model.Assessment, provinceNames map[string]string) ([]*model.Award, error) {
	awards, err := Evaluate(v.Proto(), convert.RoundToProto(r), convert.AssessmentsToProto(records), provinceNames)
	if err != nil {
		return nil, err
	}
	out := make([]*model.Award, len(awards))
	for i, a := range awards {
		out[i] = convert.AwardFromProto(a)
	}
	return out, nil
}
