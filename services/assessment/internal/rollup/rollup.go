// Package rollup computes a parent institution's figure from the results
// of its units (Polri from its police resorts, the land ministry from its
// land offices) by the rule its scheme version states. It is pure and
// exact: decimals in, one rounding (half away from zero) at the scale's
// precision, at the end.
package rollup

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/predikat-id/predikat/pkg/decimal"
)

// Rule is how units make the parent's figure.
type Rule string

// Rules.
const (
	// Mean is the plain mean of the units' totals.
	Mean Rule = "mean"
	// WeightedMean weighs each unit's total by its respondents: a unit
	// that heard more service users counts for more.
	WeightedMean Rule = "weighted_mean"
	// Minimum is the weakest unit's total: the parent is as good as its
	// worst service point.
	Minimum Rule = "minimum"
)

// ParseRule reads a rule's name.
func ParseRule(s string) (Rule, error) {
	switch r := Rule(s); r {
	case Mean, WeightedMean, Minimum:
		return r, nil
	}
	return "", fmt.Errorf("roll-up rule %q: one of mean, weighted_mean, minimum", s)
}

// Unit is one unit's result as the roll-up reads it.
type Unit struct {
	InstitutionID string
	Revision      uint64
	Total         decimal.Decimal
	// Respondents weighs the unit under WeightedMean.
	Respondents int32
}

// ErrNoUnits is a roll-up with nothing to roll up: the parent has no
// figure (rather than a zero).
var ErrNoUnits = errors.New("no unit has a result")

// Compute returns the parent's total at scale fractional digits.
func Compute(rule Rule, units []Unit, scale int) (decimal.Decimal, error) {
	if len(units) == 0 {
		return decimal.Decimal{}, ErrNoUnits
	}
	values := make([]decimal.Decimal, len(units))
	weights := make([]decimal.Decimal, len(units))
	for i, u := range units {
		values[i], weights[i] = u.Total, decimal.FromInt(1)
		if rule == WeightedMean {
			if u.Respondents <= 0 {
				return decimal.Decimal{}, fmt.Errorf("roll-up by respondents: %s has no respondents recorded", u.InstitutionID)
			}
			weights[i] = decimal.FromInt(int64(u.Respondents))
		}
	}
	switch rule {
	case Mean, WeightedMean:
		return decimal.WeightedMean(values, weights, scale)
	case Minimum:
		low := slices.MinFunc(values, func(a, b decimal.Decimal) int { return a.Cmp(b) })
		return low.Round(scale)
	}
	return decimal.Decimal{}, fmt.Errorf("roll-up rule %q is unknown", rule)
}

// Inputs is a digest of what a roll-up was computed from (each unit's id
// and revision, the rule): the request id of the derived record, so the same
// inputs store it once and any correction of a unit stores it anew.
func Inputs(rule Rule, units []Unit) string {
	parts := make([]string, 0, len(units))
	for _, u := range units {
		parts = append(parts, u.InstitutionID+"@"+strconv.FormatUint(u.Revision, 10))
	}
	slices.Sort(parts)
	h := sha256.Sum256([]byte("rollup/v1\x00" + string(rule) + "\x00" + strings.Join(parts, "\x00")))
	return "rollup:" + hex.EncodeToString(h[:12])
}
