package skm

import (
	"math"
	"math/big"
	"slices"

	"github.com/predikat-id/predikat/pkg/decimal"
	"github.com/predikat-id/predikat/pkg/platform/fault"
)

// Summary is the result of a tally under a survey's weights.
type Summary struct {
	// Respondents is the number of responses in the tally.
	Respondents int64
	// Elements are the per-element results, in survey order.
	Elements []ElementResult
	// Index is Σ weight × mean × 25, computed exactly and rounded half away
	// from zero once, to Precision decimals (99.90 for all answers of 4 under
	// the 2017 weights).
	Index decimal.Decimal
	// Precision is the number of decimals of Index and of the means.
	Precision int
}

// ElementResult is one element's share of a Summary.
type ElementResult struct {
	Code   string
	Weight Weight
	// Counts are how many respondents answered 1, 2, 3 and 4.
	Counts [4]int64
	// Total is the sum of the answers: 1×Counts[0] + 2×Counts[1] + ...
	// The exact mean is Total / Respondents.
	Total int64
	// Mean is Total / Respondents rounded half away from zero to the
	// summary's precision, for display only: the index is computed from the
	// exact mean.
	Mean decimal.Decimal
}

// IndexString returns the index with exactly Precision decimals ("99.90").
func (s Summary) IndexString() string { return s.Index.StringFixed(s.Precision) }

// Result computes the SKM result of the tally t under the survey s: per
// element the answer counts, total and mean, and the index
//
//	Σ weight_i × (Total_i / Respondents) × 25
//
// in exact rational arithmetic, rounded half away from zero once, at the end,
// to precision decimals (2 for the SKM scheme; 0..decimal.MaxScale). The
// survey must be valid and have the tally's elements in the tally's order:
// the same tally gives different indexes under different weights (0.111 or
// 1/9 each). A tally without respondents has no index (fault.Precondition).
func Result(s Survey, t *Tally, precision int) (Summary, error) {
	if err := Validate(s); err != nil {
		return Summary{}, err
	}
	if precision < 0 || precision > decimal.MaxScale {
		return Summary{}, fault.Invalidf("precision %d outside 0..%d", precision, decimal.MaxScale)
	}
	if codes := s.Codes(); !slices.Equal(codes, t.codes) {
		return Summary{}, fault.Invalidf("the tally's elements %v are not the survey's %v", t.codes, codes)
	}
	n := t.respondents
	if n == 0 {
		return Summary{}, fault.Preconditionf("no respondents: an index needs at least one response")
	}
	sum := Summary{Respondents: n, Elements: make([]ElementResult, len(s.Elements)), Precision: precision}
	// index = 25/n × Σ weight_i × Total_i
	weighted := new(big.Rat)
	for i, e := range s.Elements {
		c := t.counts[i]
		// Totals fit: counts sum to n <= MaxRespondents = MaxInt64/4.
		total := c[0] + 2*c[1] + 3*c[2] + 4*c[3]
		mean, err := roundQuo(big.NewInt(total), big.NewInt(n), precision)
		if err != nil {
			return Summary{}, err
		}
		sum.Elements[i] = ElementResult{Code: e.Code, Weight: e.Weight, Counts: c, Total: total, Mean: mean}
		term := e.Weight.Rat()
		weighted.Add(weighted, term.Mul(term, new(big.Rat).SetInt64(total)))
	}
	weighted.Mul(weighted, big.NewRat(25, n))
	idx, err := roundQuo(weighted.Num(), weighted.Denom(), precision)
	if err != nil {
		return Summary{}, err
	}
	sum.Index = idx
	return sum, nil
}

// roundQuo returns num/den (den > 0) rounded half away from zero to scale
// decimals. It fails only if the result does not fit a Decimal.
func roundQuo(num, den *big.Int, scale int) (decimal.Decimal, error) {
	scaled := new(big.Int).Mul(num, big.NewInt(pow10(scale)))
	q, r := new(big.Int).QuoRem(scaled, den, new(big.Int))
	if r.Abs(r).Lsh(r, 1).Cmp(den) >= 0 {
		q.Add(q, big.NewInt(int64(scaled.Sign())))
	}
	if !q.IsInt64() || q.Int64() == math.MinInt64 { // decimal's range is symmetric
		return decimal.Decimal{}, fault.Invalidf("%s/%s at %d decimals does not fit a decimal", num, den, scale)
	}
	return decimal.New(q.Int64(), scale), nil
}
