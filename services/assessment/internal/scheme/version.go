package scheme

import (
	"fmt"
	"strings"

	"github.com/predikat-id/predikat/pkg/decimal"
	assessmentv1 "github.com/predikat-id/predikat/pkg/gen/predikat/assessment/v1"
	registryv1 "github.com/predikat-id/predikat/pkg/gen/predikat/registry/v1"
	"github.com/predikat-id/predikat/pkg/platform/fault"
	"github.com/predikat-id/predikat/services/assessment/internal/skm"
)

// Version is one validated scheme version. It is immutable after load and
// safe for concurrent use; every decimal of the data is parsed once, at load.
type Version struct {
	p           *assessmentv1.Scheme
	file        string
	precision   int
	min, max    decimal.Decimal // at the precision
	dims        []Dimension
	bands       []bandRange // scheme order: best (highest) first
	eligible    map[registryv1.InstitutionKind]bool
	peerByKind  map[registryv1.InstitutionKind][]*assessmentv1.PeerGroup
	peerByCode  map[string]*assessmentv1.PeerGroup
	adjustments []AdjustmentRule
	rollups     []Rollup // read once: every record asks
	survey      *skm.Survey
	registered  bool // added at run time, not a built-in file
}

// Dimension is a weighted dimension of a version, weight pre-parsed.
type Dimension struct {
	Code   string
	Name   string
	Weight decimal.Decimal // percent of the total; the weights of a version sum to 100
}

// AdjustmentRule is an adjustment a COMPUTED record may apply after the
// weighted sum, bounds pre-parsed.
type AdjustmentRule struct {
	Code   string
	Name   string
	Min    decimal.Decimal // meaningful when HasMin
	Max    decimal.Decimal // meaningful when HasMax
	HasMin bool
	HasMax bool
}

// bandRange is a band as an inclusive range of units at the scale's
// precision: SAKIP AA ">90-100" at precision 2 is [9001, 10000].
type bandRange struct {
	lo, hi int64
	band   *assessmentv1.Band
}

// Proto returns the version as published over the API, with every decimal in
// canonical form ("." and the scale's precision). It is shared and never
// mutated: callers must not modify it (proto.Clone it first).
func (v *Version) Proto() *assessmentv1.Scheme { return v.p }

// ID returns the scheme id, e.g. "ombudsman".
func (v *Version) ID() string { return v.p.GetId() }

// Label returns the version label, e.g. "2022".
func (v *Version) Label() string { return v.p.GetVersion() }

// String returns "<id> <version>", e.g. "ombudsman 2022", for messages.
func (v *Version) String() string { return v.p.GetId() + " " + v.p.GetVersion() }

// File returns the data file the version was loaded from.
func (v *Version) File() string { return v.file }

// FirstYear returns the first year the version is in force.
func (v *Version) FirstYear() int32 { return v.p.GetFirstYear() }

// LastYear returns the last year the version is in force, 0 when open-ended.
func (v *Version) LastYear() int32 { return v.p.GetLastYear() }

// Builtin reports whether the version comes from a built-in file, not a
// registration at run time.
func (v *Version) Builtin() bool { return !v.registered }

// InForce reports whether the version applies to year.
func (v *Version) InForce(year int32) bool {
	return year >= v.p.GetFirstYear() && (v.p.GetLastYear() == 0 || year <= v.p.GetLastYear())
}

// Provisional reports whether some rule of the version is our best reading
// rather than published (see Proto().GetCaveat()).
func (v *Version) Provisional() bool { return v.p.GetProvisional() }

// Precision returns the number of decimals totals are rounded to and scores
// may carry.
func (v *Version) Precision() int { return v.precision }

// Min returns the lowest score of the scale, at the precision.
func (v *Version) Min() decimal.Decimal { return v.min }

// Max returns the highest score of the scale, at the precision.
func (v *Version) Max() decimal.Decimal { return v.max }

// ScaleString returns the scale as "0.00-100.00", for messages.
func (v *Version) ScaleString() string { return v.min.String() + "-" + v.max.String() }

// Dimensions returns the weighted dimensions in scheme order; empty for a
// version that only takes reported totals or bands. The slice is shared:
// do not modify it.
func (v *Version) Dimensions() []Dimension { return v.dims }

// DimensionIndex returns the position of the dimension with code in
// Dimensions().
func (v *Version) DimensionIndex(code string) (int, bool) {
	for i := range v.dims {
		if v.dims[i].Code == code {
			return i, true
		}
	}
	return -1, false
}

// DimensionCodes returns the dimension codes in scheme order, for messages.
func (v *Version) DimensionCodes() []string {
	codes := make([]string, len(v.dims))
	for i, d := range v.dims {
		codes[i] = d.Code
	}
	return codes
}

// AdjustmentRules returns the adjustment rules in scheme order. The slice is
// shared: do not modify it.
func (v *Version) AdjustmentRules() []AdjustmentRule { return v.adjustments }

// AdjustmentRule returns the adjustment rule with code.
func (v *Version) AdjustmentRule(code string) (AdjustmentRule, bool) {
	for _, r := range v.adjustments {
		if r.Code == code {
			return r, true
		}
	}
	return AdjustmentRule{}, false
}

// Eligible reports whether institutions of kind may be assessed under the
// version.
func (v *Version) Eligible(kind registryv1.InstitutionKind) bool { return v.eligible[kind] }

// PeerGroupsFor returns the peer groups an institution of kind is ranked in,
// in scheme order (nil when none). The groups are shared: do not modify them.
func (v *Version) PeerGroupsFor(kind registryv1.InstitutionKind) []*assessmentv1.PeerGroup {
	return v.peerByKind[kind]
}

// RollupGroup is the board a roll-up's derived figures are ranked on: its
// own, national, named after the rule.
func (v *Version) RollupGroup(code string) (*assessmentv1.PeerGroup, bool) {
	for _, r := range v.p.GetRollupRules() {
		if r.GetCode() == code {
			return &assessmentv1.PeerGroup{Code: r.GetCode(), Name: r.GetName(),
				Scopes: []assessmentv1.ScopeKind{assessmentv1.ScopeKind_SCOPE_KIND_NATIONAL}}, true
		}
	}
	return nil, false
}

// PeerGroup returns the peer group with code.
func (v *Version) PeerGroup(code string) (*assessmentv1.PeerGroup, bool) {
	g, ok := v.peerByCode[code]
	return g, ok
}

// Band returns the band with code, matched case-insensitively ("bb" finds
// "BB"). The band is shared: do not modify it.
func (v *Version) Band(code string) (*assessmentv1.Band, bool) {
	for _, b := range v.bands {
		if strings.EqualFold(b.band.GetCode(), code) {
			return b.band, true
		}
	}
	return nil, false
}

// Bands returns the version's bands, best first; shared, do not modify.
func (v *Version) Bands() []*assessmentv1.Band {
	out := make([]*assessmentv1.Band, len(v.bands))
	for i, b := range v.bands {
		out[i] = b.band
	}
	return out
}

// BandCodes returns the band codes, best first, for messages.
func (v *Version) BandCodes() []string {
	codes := make([]string, len(v.bands))
	for i, b := range v.bands {
		codes[i] = b.band.GetCode()
	}
	return codes
}

// BandFor returns the one band total falls in. A total outside the scale, or
// with more decimals than the precision, is fault.Invalid: the bands cover
// the scale exactly at its precision, so such a total has no band.
func (v *Version) BandFor(total decimal.Decimal) (*assessmentv1.Band, error) {
	t, err := total.Rescale(v.precision)
	if err != nil && total.Scale() > v.precision {
		return nil, fault.Invalidf("total %s has more than %d decimals (%s scores have at most %d)",
			total, v.precision, v, v.precision)
	}
	u := t.Unscaled()
	if err != nil { // too large to pad to the precision: far outside any scale
		u = v.max.Unscaled() + 1
		if total.Sign() < 0 {
			u = v.min.Unscaled() - 1
		}
	}
	if u < v.min.Unscaled() || u > v.max.Unscaled() {
		return nil, fault.Invalidf("total %s is outside the scale %s of %s", total, v.ScaleString(), v)
	}
	for _, b := range v.bands {
		if b.lo <= u && u <= b.hi {
			return b.band, nil
		}
	}
	// Unreachable: load checks that the bands cover the scale.
	return nil, fmt.Errorf("scheme %s: no band for %s", v, total)
}

// yearRange renders the years in force, e.g. "2022-2024" or "2023-".
func (v *Version) yearRange() string {
	if v.p.GetLastYear() == 0 {
		return fmt.Sprintf("%d-", v.p.GetFirstYear())
	}
	return fmt.Sprintf("%d-%d", v.p.GetFirstYear(), v.p.GetLastYear())
}

// Survey returns the version's citizen satisfaction survey, if it has one.
func (v *Version) Survey() (skm.Survey, bool) {
	if v.survey == nil {
		return skm.Survey{}, false
	}
	return *v.survey, true
}

// ObjectionWindowDays is how many working days after a close an assessed
// institution may object to its provisional result; 0: no objections.
func (v *Version) ObjectionWindowDays() int32 { return v.p.GetObjectionWindowWorkingDays() }
