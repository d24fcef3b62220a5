// Package scoring computes an assessment's total and band from what a caller
// knows (dimension scores, a reported total or a reported band) under one
// scheme version, exactly.
//
// Rules:
//   - Dimension scores: every dimension of the version exactly once, each
//     within the scale and with at most the scale's precision in decimals
//     (inputs are never rounded silently). The weighted total is
//     sum(score × weight) / 100, computed exactly and rounded half-up once, to
//     the precision.
//   - Adjustments (only with dimension scores) are rules of the version, with
//     amounts within the rule's bounds and at most the precision in decimals;
//     they are added exactly to the weighted total and the result is clamped
//     to the scale.
//   - A reported total must lie within the scale with at most the precision;
//     a reported band must be a band code of the version (any case).
//
// Every rejection is a fault.Invalid naming the dimension, value, scale or
// code at fault. The package is pure: no I/O, no clock, no state.
package scoring

import (
	"errors"
	"fmt"
	"strings"

	"github.com/predikat-id/predikat/pkg/decimal"
	assessmentv1 "github.com/predikat-id/predikat/pkg/gen/predikat/assessment/v1"
	"github.com/predikat-id/predikat/pkg/platform/fault"
	"github.com/predikat-id/predikat/services/assessment/internal/scheme"
)

// Result is a computed assessment.
type Result struct {
	// Basis is COMPUTED, REPORTED_TOTAL or REPORTED_BAND.
	Basis assessmentv1.AssessmentBasis
	// DimensionScores are the given scores in scheme order, each with the
	// canonical decimal at the scale's precision ("96,5" -> "96.50"); nil
	// unless COMPUTED.
	DimensionScores []*assessmentv1.DimensionScore
	// WeightedTotal is the weighted sum rounded half-up once to the precision
	// (COMPUTED) or the reported total (REPORTED_TOTAL); zero and meaningless
	// for REPORTED_BAND (see HasTotal).
	WeightedTotal decimal.Decimal
	// Adjustments are the adjustments applied, in the given order, amounts
	// canonical at the precision; nil when none.
	Adjustments []*assessmentv1.Adjustment
	// Total is WeightedTotal plus the adjustments, clamped to the scale, at
	// the precision; zero and meaningless for REPORTED_BAND.
	Total decimal.Decimal
	// Clamped is true when the adjustments took the total beyond the scale
	// and it was clamped to the nearest end.
	Clamped bool
	// Band is the band of Total, or the reported band. Shared with the scheme
	// version: do not modify it.
	Band *assessmentv1.Band

	precision int
}

// HasTotal reports whether the result has a total (every basis but
// REPORTED_BAND).
func (r *Result) HasTotal() bool {
	return r.Basis != assessmentv1.AssessmentBasis_ASSESSMENT_BASIS_REPORTED_BAND
}

// TotalString returns Total at the precision ("88.00"), or "" for a reported
// band.
func (r *Result) TotalString() string {
	if !r.HasTotal() {
		return ""
	}
	return r.Total.StringFixed(r.precision)
}

// WeightedTotalString returns WeightedTotal at the precision, or "" for a
// reported band.
func (r *Result) WeightedTotalString() string {
	if !r.HasTotal() {
		return ""
	}
	return r.WeightedTotal.StringFixed(r.precision)
}

// Compute validates in against v and computes its total and band.
func Compute(v *scheme.Version, in *assessmentv1.AssessmentInput) (*Result, error) {
	if v == nil {
		return nil, errors.New("scoring: nil scheme version")
	}
	if in == nil {
		return nil, fault.Invalidf("input is required: dimension scores, a reported total or a reported band")
	}
	r := &Result{precision: v.Precision()}
	switch res := in.GetResult().(type) {
	case *assessmentv1.AssessmentInput_DimensionScores:
		r.Basis = assessmentv1.AssessmentBasis_ASSESSMENT_BASIS_COMPUTED
		if err := computed(v, r, res.DimensionScores.GetScores(), in.GetAdjustments()); err != nil {
			return nil, err
		}
	case *assessmentv1.AssessmentInput_ReportedTotal:
		r.Basis = assessmentv1.AssessmentBasis_ASSESSMENT_BASIS_REPORTED_TOTAL
		if err := noAdjustments(in); err != nil {
			return nil, err
		}
		t, err := score(v, "reported total", res.ReportedTotal)
		if err != nil {
			return nil, err
		}
		r.WeightedTotal, r.Total = t, t
	case *assessmentv1.AssessmentInput_ReportedBand:
		r.Basis = assessmentv1.AssessmentBasis_ASSESSMENT_BASIS_REPORTED_BAND
		if err := noAdjustments(in); err != nil {
			return nil, err
		}
		b, ok := v.Band(res.ReportedBand)
		if !ok {
			return nil, fault.Invalidf("reported band %q is not a band of %s; bands: %s",
				res.ReportedBand, v, strings.Join(v.BandCodes(), ", "))
		}
		r.Band = b
		return r, nil
	default:
		return nil, fault.Invalidf("input needs one of dimension_scores, reported_total or reported_band")
	}
	b, err := v.BandFor(r.Total)
	if err != nil {
		return nil, err
	}
	r.Band = b
	return r, nil
}

func noAdjustments(in *assessmentv1.AssessmentInput) error {
	if len(in.GetAdjustments()) > 0 {
		return fault.Invalidf("adjustments apply only to dimension scores (a reported total or band already includes them)")
	}
	return nil
}

// score parses a non-adjustment figure: within the scale, at most the
// precision in decimals; the result is at exactly the precision.
func score(v *scheme.Version, what, s string) (decimal.Decimal, error) {
	d, err := decimal.Parse(s)
	if err != nil {
		return decimal.Decimal{}, fault.Invalidf("%s %q is not a decimal number: %s", what, s, reason(err))
	}
	if d.Scale() > v.Precision() {
		return decimal.Decimal{}, fault.Invalidf("%s %s has %d decimals; %s scores have at most %d (inputs are not rounded)",
			what, d, d.Scale(), v, v.Precision())
	}
	if d.Cmp(v.Min()) < 0 || d.Cmp(v.Max()) > 0 {
		return decimal.Decimal{}, fault.Invalidf("%s %s is outside the scale %s of %s", what, d, v.ScaleString(), v)
	}
	d, err = d.Rescale(v.Precision())
	if err != nil { // unreachable: d has at most the precision and lies within the scale
		return decimal.Decimal{}, fmt.Errorf("scoring: %s %s: %w", what, s, err)
	}
	return d, nil
}

func reason(err error) string {
	var pe *decimal.ParseError
	if errors.As(err, &pe) {
		return pe.Reason
	}
	return err.Error()
}

func computed(v *scheme.Version, r *Result, scores []*assessmentv1.DimensionScore, adjustments []*assessmentv1.Adjustment) error {
	dims := v.Dimensions()
	if len(dims) == 0 {
		return fault.Invalidf("%s has no dimensions: give a reported total or a reported band", v)
	}
	values, err := dimensionValues(v, r, scores)
	if err != nil {
		return err
	}
	weights := make([]decimal.Decimal, len(dims))
	for i, d := range dims {
		weights[i] = d.Weight
	}
	// The weights sum to exactly 100, so the weighted mean is
	// sum(score × weight) / 100; it is exact, rounded half-up once.
	wt, err := decimal.WeightedMean(values, weights, v.Precision())
	if err != nil {
		return fmt.Errorf("scoring: weighted total of %s: %w", v, err)
	}
	r.WeightedTotal = wt
	total := wt
	for k, a := range adjustments {
		adj, amt, err := adjustment(v, k, a)
		if err != nil {
			return err
		}
		if total, err = total.Add(amt); err != nil {
			return fault.Invalidf("adjustments[%d] %s: amount %s is out of range", k, a.GetCode(), amt)
		}
		r.Adjustments = append(r.Adjustments, adj)
	}
	switch {
	case total.Cmp(v.Min()) < 0:
		total, r.Clamped = v.Min(), true
	case total.Cmp(v.Max()) > 0:
		total, r.Clamped = v.Max(), true
	}
	r.Total = total
	return nil
}

// dimensionValues checks every dimension of v is scored exactly once and
// returns the scores in scheme order, writing their canonical form into
// r.DimensionScores.
func dimensionValues(v *scheme.Version, r *Result, scores []*assessmentv1.DimensionScore) ([]decimal.Decimal, error) {
	dims := v.Dimensions()
	values := make([]decimal.Decimal, len(dims))
	seen := make([]bool, len(dims))
	r.DimensionScores = make([]*assessmentv1.DimensionScore, len(dims))
	for _, s := range scores {
		i, ok := v.DimensionIndex(s.GetCode())
		switch {
		case !ok:
			return nil, fault.Invalidf("unknown dimension %q; dimensions of %s: %s",
				s.GetCode(), v, strings.Join(v.DimensionCodes(), ", "))
		case seen[i]:
			return nil, fault.Invalidf("dimension %s is given twice", s.GetCode())
		}
		d, err := score(v, "dimension "+s.GetCode()+": score", s.GetScore())
		if err != nil {
			return nil, err
		}
		seen[i], values[i] = true, d
		r.DimensionScores[i] = &assessmentv1.DimensionScore{Code: dims[i].Code, Score: d.String()}
	}
	var missing []string
	for i, ok := range seen {
		if !ok {
			missing = append(missing, dims[i].Code)
		}
	}
	if len(missing) > 0 {
		return nil, fault.Invalidf("missing dimension score(s) %s; %s needs every dimension exactly once: %s",
			strings.Join(missing, ", "), v, strings.Join(v.DimensionCodes(), ", "))
	}
	return values, nil
}

// adjustment checks adjustments[k] against its rule and returns it as
// recorded, with its amount at exactly the precision.
func adjustment(v *scheme.Version, k int, a *assessmentv1.Adjustment) (*assessmentv1.Adjustment, decimal.Decimal, error) {
	rule, ok := v.AdjustmentRule(a.GetCode())
	if !ok {
		return nil, decimal.Decimal{}, fault.Invalidf("adjustments[%d]: unknown adjustment %q; %s", k, a.GetCode(), adjustmentCodes(v))
	}
	if strings.TrimSpace(a.GetReason()) == "" {
		return nil, decimal.Decimal{}, fault.Invalidf("adjustments[%d] %s: a reason is required", k, a.GetCode())
	}
	amt, err := decimal.Parse(a.GetAmount())
	if err != nil {
		return nil, decimal.Decimal{}, fault.Invalidf("adjustments[%d] %s: amount %q is not a decimal number: %s", k, a.GetCode(), a.GetAmount(), reason(err))
	}
	if amt.Scale() > v.Precision() {
		return nil, decimal.Decimal{}, fault.Invalidf("adjustments[%d] %s: amount %s has %d decimals; %s amounts have at most %d",
			k, a.GetCode(), amt, amt.Scale(), v, v.Precision())
	}
	if (rule.HasMin && amt.Cmp(rule.Min) < 0) || (rule.HasMax && amt.Cmp(rule.Max) > 0) {
		return nil, decimal.Decimal{}, fault.Invalidf("adjustments[%d] %s: amount %s is outside %s", k, a.GetCode(), amt, ruleRange(rule))
	}
	if amt, err = amt.Rescale(v.Precision()); err != nil {
		return nil, decimal.Decimal{}, fault.Invalidf("adjustments[%d] %s: amount %s is out of range", k, a.GetCode(), a.GetAmount())
	}
	return &assessmentv1.Adjustment{Code: rule.Code, Amount: amt.String(), Reason: a.GetReason()}, amt, nil
}

func adjustmentCodes(v *scheme.Version) string {
	rules := v.AdjustmentRules()
	if len(rules) == 0 {
		return v.String() + " has no adjustment rules"
	}
	codes := make([]string, len(rules))
	for i, r := range rules {
		codes[i] = r.Code
	}
	return "adjustments of " + v.String() + ": " + strings.Join(codes, ", ")
}

func ruleRange(r scheme.AdjustmentRule) string {
	lo, hi := "-∞", "+∞"
	if r.HasMin {
		lo = r.Min.String()
	}
	if r.HasMax {
		hi = r.Max.String()
	}
	return "the range " + lo + " to " + hi + " of " + r.Code
}
