package scheme

import (
	"errors"
	"fmt"
	"math/big"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"google.golang.org/protobuf/encoding/protojson"

	"github.com/predikat-id/predikat/pkg/decimal"
	assessmentv1 "github.com/predikat-id/predikat/pkg/gen/predikat/assessment/v1"
	registryv1 "github.com/predikat-id/predikat/pkg/gen/predikat/registry/v1"
	"github.com/predikat-id/predikat/services/assessment/internal/skm"
)

// Code patterns. Scheme id and version follow GetSchemeRequest; dimension and
// adjustment codes follow DimensionScore and Adjustment; band codes follow
// AssessmentInput.reported_band; peer group and award rule codes are NATS
// subject, Redis key and award id tokens.
var (
	idPattern         = regexp.MustCompile(`^[a-z]([a-z0-9-]{0,30}[a-z0-9])?$`)
	versionPattern    = regexp.MustCompile(`^[0-9a-z]([0-9a-z-]{0,30}[0-9a-z])?$`)
	dimensionPattern  = regexp.MustCompile(`^[a-z][a-z0-9_-]{0,31}$`)
	bandPattern       = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_+-]{0,15}$`)
	tokenPattern      = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?$`)
	placeholderRegexp = regexp.MustCompile(`\{[^{}]*\}`)
)

// maxPrecision is the most decimals a scale may use: the API accepts scores
// with up to 6 decimals.
const maxPrecision = 6

var titlePlaceholders = map[string]bool{
	"{band_code}": true, "{band_label}": true, "{rank}": true,
	"{peer_group}": true, "{scope}": true, "{year}": true,
}

var hundred = decimal.FromInt(100)

// checker collects the context of one file's validation.
type checker struct {
	file  string
	named bool // a file, whose name must be "<id>-<version>.json"
	prec  int
}

func (c *checker) fail(field, format string, args ...any) error {
	return &DataError{File: c.file, Field: field, Reason: fmt.Sprintf(format, args...)}
}

// decimal parses a decimal of the file. atPrecision limits its fractional
// digits to the scale's precision (bounds, scale, amounts; not weights).
func (c *checker) decimal(field, s string, atPrecision bool) (decimal.Decimal, error) {
	if strings.TrimSpace(s) == "" {
		return decimal.Decimal{}, c.fail(field, "is required")
	}
	d, err := decimal.Parse(s)
	if err != nil {
		reason := err.Error()
		var pe *decimal.ParseError
		if errors.As(err, &pe) {
			reason = pe.Reason
		}
		return decimal.Decimal{}, c.fail(field, "%q is not a decimal: %s", s, reason)
	}
	if atPrecision && d.Scale() > c.prec {
		return decimal.Decimal{}, c.fail(field, "%q has %d decimals, more than the scale's precision (%d)", s, d.Scale(), c.prec)
	}
	return d, nil
}

// canonical returns d with exactly the precision's decimals (more when d has
// more, as a weight may).
func (c *checker) canonical(d decimal.Decimal) string { return d.StringFixed(max(c.prec, d.Scale())) }

// units returns d as a count of units at the precision (d has at most the
// precision's decimals and lies near the scale, so this cannot fail).
func (c *checker) units(d decimal.Decimal) int64 {
	r, err := d.Rescale(c.prec)
	if err != nil {
		panic(err) // unreachable: callers check the scale and the range
	}
	return r.Unscaled()
}

func parseVersion(file string, data []byte) (*Version, error) {
	p := &assessmentv1.Scheme{}
	if err := (protojson.UnmarshalOptions{DiscardUnknown: false}).Unmarshal(data, p); err != nil {
		return nil, &DataError{File: file, Reason: "not a valid scheme: " + err.Error()}
	}
	return check(&checker{file: file, named: true}, &Version{p: p, file: file})
}

// NewVersion validates a scheme version given at run time (registered
// through the API, or read back from where registered versions are
// stored) by the same rules as the built-in files; origin names it in
// errors. p is kept: the caller must not modify it afterwards.
func NewVersion(p *assessmentv1.Scheme, origin string) (*Version, error) {
	return check(&checker{file: origin}, &Version{p: p, file: origin, registered: true})
}

func check(c *checker, v *Version) (*Version, error) {
	for _, step := range []func(*checker, *Version) error{
		checkHeader, checkScale, checkDimensions, checkBands, checkKinds, checkPeerGroups,
		checkAdjustmentRules, checkAwardRules, checkRollupRules, checkSurvey,
	} {
		if err := step(c, v); err != nil {
			return nil, err
		}
	}
	return v, nil
}

func checkHeader(c *checker, v *Version) error {
	p := v.p
	switch {
	case !idPattern.MatchString(p.GetId()):
		return c.fail("id", "%q is not a scheme id (lowercase letters, digits, hyphens, up to 32)", p.GetId())
	case !versionPattern.MatchString(p.GetVersion()):
		return c.fail("version", "%q is not a version label (lowercase letters, digits, hyphens, up to 32)", p.GetVersion())
	}
	if want := p.GetId() + "-" + p.GetVersion() + ".json"; c.named && c.file != want {
		return c.fail("id", "id %q and version %q do not match the file name (want %s)", p.GetId(), p.GetVersion(), want)
	}
	for _, f := range []struct{ field, value string }{
		{"name", p.GetName()}, {"short_name", p.GetShortName()}, {"run_by", p.GetRunBy()},
		{"source_note", p.GetSourceNote()},
	} {
		if strings.TrimSpace(f.value) == "" {
			return c.fail(f.field, "is required")
		}
	}
	if p.GetProvisional() && strings.TrimSpace(p.GetCaveat()) == "" {
		return c.fail("caveat", "is required for a provisional version: say which rules are unpublished")
	}
	return checkYears(c, p)
}

func checkYears(c *checker, p *assessmentv1.Scheme) error {
	first, last := p.GetFirstYear(), p.GetLastYear()
	switch {
	case first < 2000 || first > 2100:
		return c.fail("first_year", "%d is outside 2000-2100", first)
	case last != 0 && (last < first || last > 2100):
		return c.fail("last_year", "%d must be 0 (open-ended) or within %d-2100", last, first)
	}
	if n, err := strconv.Atoi(p.GetVersion()); err == nil && int32(n) != first {
		return c.fail("version", "a numeric version label names the first year in force: %q but first_year is %d", p.GetVersion(), first)
	}
	return nil
}

func checkScale(c *checker, v *Version) error {
	s := v.p.GetScale()
	if s == nil {
		return c.fail("scale", "is required")
	}
	if s.GetPrecision() < 0 || s.GetPrecision() > maxPrecision {
		return c.fail("scale.precision", "%d is outside 0-%d", s.GetPrecision(), maxPrecision)
	}
	c.prec = int(s.GetPrecision())
	v.precision = c.prec
	lo, err := c.decimal("scale.min", s.GetMin(), true)
	if err != nil {
		return err
	}
	hi, err := c.decimal("scale.max", s.GetMax(), true)
	if err != nil {
		return err
	}
	switch {
	case lo.Sign() < 0:
		return c.fail("scale.min", "%s is negative (scores are never negative)", lo)
	case lo.Cmp(hi) >= 0:
		return c.fail("scale.max", "%s is not above scale.min %s", hi, lo)
	case hi.Cmp(decimal.FromInt(999999)) > 0:
		return c.fail("scale.max", "%s is above 999999 (scores have at most 6 integer digits)", hi)
	}
	v.min, _ = lo.Rescale(c.prec)
	v.max, _ = hi.Rescale(c.prec)
	s.Min, s.Max = v.min.String(), v.max.String()
	return nil
}

func checkDimensions(c *checker, v *Version) error {
	dims := v.p.GetDimensions()
	if len(dims) == 0 {
		return nil
	}
	codes := map[string]string{} // dimension and sub-dimension codes -> field
	sum := decimal.Decimal{}
	for i, d := range dims {
		f := fmt.Sprintf("dimensions[%d]", i)
		if err := c.code(codes, f+".code", d.GetCode(), dimensionPattern); err != nil {
			return err
		}
		if strings.TrimSpace(d.GetName()) == "" {
			return c.fail(f+".name", "is required")
		}
		w, err := c.decimal(f+".weight", d.GetWeight(), false)
		if err != nil {
			return err
		}
		if w.Sign() <= 0 {
			return c.fail(f+".weight", "%s must be above 0", w)
		}
		if sum, err = sum.Add(w); err != nil {
			return c.fail(f+".weight", "%v", err)
		}
		d.Weight = c.canonical(w)
		if err := c.subDimensions(codes, f, d, w); err != nil {
			return err
		}
		v.dims = append(v.dims, Dimension{Code: d.GetCode(), Name: d.GetName(), Weight: w})
	}
	if !sum.Equal(hundred) {
		return c.fail("dimensions", "weights sum to %s, not exactly 100", sum)
	}
	return nil
}

func (c *checker) subDimensions(codes map[string]string, f string, d *assessmentv1.Dimension, weight decimal.Decimal) error {
	subs := d.GetSubDimensions()
	given, sum := 0, decimal.Decimal{}
	for j, s := range subs {
		sf := fmt.Sprintf("%s.sub_dimensions[%d]", f, j)
		if err := c.code(codes, sf+".code", s.GetCode(), dimensionPattern); err != nil {
			return err
		}
		if strings.TrimSpace(s.GetName()) == "" {
			return c.fail(sf+".name", "is required")
		}
		if s.GetWeight() == "" {
			continue
		}
		given++
		w, err := c.decimal(sf+".weight", s.GetWeight(), false)
		if err != nil {
			return err
		}
		if w.Sign() <= 0 {
			return c.fail(sf+".weight", "%s must be above 0", w)
		}
		if sum, err = sum.Add(w); err != nil {
			return c.fail(sf+".weight", "%v", err)
		}
		s.Weight = c.canonical(w)
	}
	switch {
	case given == 0:
		return nil
	case given < len(subs):
		return c.fail(f+".sub_dimensions", "%d of %d weights given: give every sub-dimension weight or none", given, len(subs))
	case !sum.Equal(weight):
		return c.fail(f+".sub_dimensions", "weights sum to %s, not the dimension's weight %s", sum, weight)
	}
	return nil
}

// code checks a code's pattern and its uniqueness among seen (compared
// case-insensitively).
func (c *checker) code(seen map[string]string, field, code string, pattern *regexp.Regexp) error {
	if !pattern.MatchString(code) {
		return c.fail(field, "%q does not match %s", code, pattern)
	}
	key := strings.ToLower(code)
	if prev, dup := seen[key]; dup {
		return c.fail(field, "%q is already used by %s", code, prev)
	}
	seen[key] = field
	return nil
}

func checkBands(c *checker, v *Version) error {
	bands := v.p.GetBands()
	if len(bands) == 0 {
		return c.fail("bands", "at least one band is required")
	}
	codes := map[string]string{}
	for i, b := range bands {
		r, err := checkBand(c, v, codes, fmt.Sprintf("bands[%d]", i), b)
		if err != nil {
			return err
		}
		v.bands = append(v.bands, r)
	}
	// Order first: when bands are listed upside down, saying so is more
	// useful than reporting the overlaps and gaps it causes.
	if err := checkBandOrder(c, v.bands); err != nil {
		return err
	}
	if err := checkBandSeams(c, v.bands); err != nil {
		return err
	}
	return checkBandEnds(c, v)
}

// checkBand checks one band and returns the scores it holds as units at the
// precision, both ends inclusive.
func checkBand(c *checker, v *Version, codes map[string]string, f string, b *assessmentv1.Band) (bandRange, error) {
	if err := c.code(codes, f+".code", b.GetCode(), bandPattern); err != nil {
		return bandRange{}, err
	}
	if strings.TrimSpace(b.GetLabel()) == "" {
		return bandRange{}, c.fail(f+".label", "is required")
	}
	if _, ok := assessmentv1.BandZone_name[int32(b.GetZone())]; !ok {
		return bandRange{}, c.fail(f+".zone", "%d is not a BandZone", b.GetZone())
	}
	r := bandRange{band: b}
	var err error
	if r.lo, err = checkBound(c, v, f+".lower", b.GetLower()); err != nil {
		return bandRange{}, err
	}
	if r.hi, err = checkBound(c, v, f+".upper", b.GetUpper()); err != nil {
		return bandRange{}, err
	}
	const one = 1 // one unit at the precision
	if !b.GetLower().GetInclusive() {
		r.lo += one
	}
	if !b.GetUpper().GetInclusive() {
		r.hi -= one
	}
	if r.lo > r.hi {
		return bandRange{}, c.fail(f, "band %q holds no score at precision %d (%s)", b.GetCode(), c.prec, boundText(b))
	}
	return r, nil
}

// checkBound checks a band bound lies on the scale, writes its value back in
// canonical form and returns it as units at the precision.
func checkBound(c *checker, v *Version, bf string, bound *assessmentv1.Bound) (int64, error) {
	if bound == nil {
		return 0, c.fail(bf, "is required")
	}
	d, err := c.decimal(bf+".value", bound.GetValue(), true)
	if err != nil {
		return 0, err
	}
	if d.Cmp(v.min) < 0 || d.Cmp(v.max) > 0 {
		return 0, c.fail(bf+".value", "%s is outside the scale %s", d, v.ScaleString())
	}
	bound.Value = c.canonical(d)
	return c.units(d), nil
}

// checkBandOrder checks bands are listed best first.
func checkBandOrder(c *checker, bands []bandRange) error {
	for i := 1; i < len(bands); i++ {
		if above, cur := bands[i-1], bands[i]; cur.lo > above.hi {
			return c.fail(fmt.Sprintf("bands[%d]", i), "band %q (%s) lies above bands[%d] %q (%s): list bands best (highest) first",
				cur.band.GetCode(), boundText(cur.band), i-1, above.band.GetCode(), boundText(above.band))
		}
	}
	return nil
}

// checkBandSeams checks each band ends exactly one unit below the start of
// the band above it, so every score is in exactly one band.
func checkBandSeams(c *checker, bands []bandRange) error {
	const one = 1 // one unit at the precision
	for i := 1; i < len(bands); i++ {
		above, cur := bands[i-1], bands[i]
		f := fmt.Sprintf("bands[%d]", i)
		switch {
		case cur.hi >= above.lo:
			return c.fail(f+".upper", "band %q (%s) overlaps bands[%d] %q (%s): a score of %s would be in both",
				cur.band.GetCode(), boundText(cur.band), i-1, above.band.GetCode(), boundText(above.band),
				decimal.New(above.lo, c.prec))
		case cur.hi+one < above.lo:
			return c.fail(f+".upper", "gap between band %q (%s) and bands[%d] %q (%s): a score of %s is in no band",
				cur.band.GetCode(), boundText(cur.band), i-1, above.band.GetCode(), boundText(above.band),
				decimal.New(cur.hi+one, c.prec))
		}
	}
	return nil
}

// checkBandEnds checks the bands cover the whole scale.
func checkBandEnds(c *checker, v *Version) error {
	top, bottom := v.bands[0], v.bands[len(v.bands)-1]
	if top.hi != v.max.Unscaled() {
		return c.fail("bands[0].upper", "band %q (%s) does not reach scale.max %s: %s is in no band",
			top.band.GetCode(), boundText(top.band), v.max, v.max)
	}
	if bottom.lo != v.min.Unscaled() {
		return c.fail(fmt.Sprintf("bands[%d].lower", len(v.bands)-1), "band %q (%s) does not reach scale.min %s: %s is in no band",
			bottom.band.GetCode(), boundText(bottom.band), v.min, v.min)
	}
	return nil
}

// boundText renders a band's range as interval notation, e.g. "(90.00, 100.00]".
func boundText(b *assessmentv1.Band) string {
	l, r := "(", ")"
	if b.GetLower().GetInclusive() {
		l = "["
	}
	if b.GetUpper().GetInclusive() {
		r = "]"
	}
	return l + b.GetLower().GetValue() + ", " + b.GetUpper().GetValue() + r
}

func kindOK(k registryv1.InstitutionKind) bool {
	_, ok := registryv1.InstitutionKind_name[int32(k)]
	return ok && k != registryv1.InstitutionKind_INSTITUTION_KIND_UNSPECIFIED
}

func checkKinds(c *checker, v *Version) error {
	kinds := v.p.GetEligibleKinds()
	if len(kinds) == 0 {
		return c.fail("eligible_kinds", "at least one institution kind is required")
	}
	v.eligible = map[registryv1.InstitutionKind]bool{}
	for i, k := range kinds {
		f := fmt.Sprintf("eligible_kinds[%d]", i)
		switch {
		case !kindOK(k):
			return c.fail(f, "%v is not an institution kind", k)
		case v.eligible[k]:
			return c.fail(f, "%v is listed twice", k)
		}
		v.eligible[k] = true
	}
	return nil
}

func checkPeerGroups(c *checker, v *Version) error {
	codes := map[string]string{}
	v.peerByKind = map[registryv1.InstitutionKind][]*assessmentv1.PeerGroup{}
	v.peerByCode = map[string]*assessmentv1.PeerGroup{}
	for i, g := range v.p.GetPeerGroups() {
		f := fmt.Sprintf("peer_groups[%d]", i)
		if err := c.code(codes, f+".code", g.GetCode(), tokenPattern); err != nil {
			return err
		}
		if strings.TrimSpace(g.GetName()) == "" {
			return c.fail(f+".name", "is required")
		}
		if len(g.GetKinds()) == 0 {
			return c.fail(f+".kinds", "at least one institution kind is required")
		}
		seen := map[registryv1.InstitutionKind]bool{}
		for j, k := range g.GetKinds() {
			kf := fmt.Sprintf("%s.kinds[%d]", f, j)
			switch {
			case !kindOK(k):
				return c.fail(kf, "%v is not an institution kind", k)
			case !v.eligible[k]:
				return c.fail(kf, "%v is not in eligible_kinds", k)
			case seen[k]:
				return c.fail(kf, "%v is listed twice", k)
			}
			seen[k] = true
			v.peerByKind[k] = append(v.peerByKind[k], g)
		}
		if len(g.GetScopes()) == 0 {
			return c.fail(f+".scopes", "at least one scope is required")
		}
		scopes := map[assessmentv1.ScopeKind]bool{}
		for j, s := range g.GetScopes() {
			sf := fmt.Sprintf("%s.scopes[%d]", f, j)
			if _, ok := assessmentv1.ScopeKind_name[int32(s)]; !ok || s == assessmentv1.ScopeKind_SCOPE_KIND_UNSPECIFIED {
				return c.fail(sf, "%v is not a scope", s)
			}
			if scopes[s] {
				return c.fail(sf, "%v is listed twice", s)
			}
			scopes[s] = true
		}
		v.peerByCode[g.GetCode()] = g
	}
	return nil
}

func checkAdjustmentRules(c *checker, v *Version) error {
	rules := v.p.GetAdjustmentRules()
	if len(rules) > 0 && len(v.dims) == 0 {
		return c.fail("adjustment_rules", "the version has no dimensions, and adjustments apply only to dimension scores")
	}
	codes := map[string]string{}
	for i, r := range rules {
		f := fmt.Sprintf("adjustment_rules[%d]", i)
		if err := c.code(codes, f+".code", r.GetCode(), dimensionPattern); err != nil {
			return err
		}
		if strings.TrimSpace(r.GetName()) == "" {
			return c.fail(f+".name", "is required")
		}
		a := AdjustmentRule{Code: r.GetCode(), Name: r.GetName()}
		var err error
		if r.GetMinAmount() != "" {
			if a.Min, err = c.decimal(f+".min_amount", r.GetMinAmount(), true); err != nil {
				return err
			}
			a.HasMin, r.MinAmount = true, c.canonical(a.Min)
		}
		if r.GetMaxAmount() != "" {
			if a.Max, err = c.decimal(f+".max_amount", r.GetMaxAmount(), true); err != nil {
				return err
			}
			a.HasMax, r.MaxAmount = true, c.canonical(a.Max)
		}
		if a.HasMin && a.HasMax && a.Min.Cmp(a.Max) > 0 {
			return c.fail(f+".max_amount", "%s is below min_amount %s", a.Max, a.Min)
		}
		v.adjustments = append(v.adjustments, a)
	}
	return nil
}

func checkAwardRules(c *checker, v *Version) error {
	codes := map[string]string{}
	for i, r := range v.p.GetAwardRules() {
		if err := checkAwardRule(c, v, codes, fmt.Sprintf("award_rules[%d]", i), r); err != nil {
			return err
		}
	}
	return nil
}

func checkAwardRule(c *checker, v *Version, codes map[string]string, f string, r *assessmentv1.AwardRule) error {
	if err := c.code(codes, f+".code", r.GetCode(), tokenPattern); err != nil {
		return err
	}
	if err := checkAwardTitle(c, f+".title", r.GetTitle()); err != nil {
		return err
	}
	if err := checkAwardBandCodes(c, v, f, r.GetBandCodes()); err != nil {
		return err
	}
	var group *assessmentv1.PeerGroup
	if r.GetPeerGroup() != "" {
		g, ok := v.peerByCode[r.GetPeerGroup()]
		if !ok {
			return c.fail(f+".peer_group", "unknown peer group %q", r.GetPeerGroup())
		}
		group = g
	}
	switch r.GetKind() {
	case assessmentv1.AwardBasisKind_AWARD_BASIS_KIND_BAND, assessmentv1.AwardBasisKind_AWARD_BASIS_KIND_CATEGORY:
		return checkBandAwardRule(c, f, r)
	case assessmentv1.AwardBasisKind_AWARD_BASIS_KIND_RANK:
		return checkRankAwardRule(c, f, r, group)
	default:
		return c.fail(f+".kind", "%v: a rule is BAND, RANK or CATEGORY (MANUAL awards come from GrantAward)", r.GetKind())
	}
}

// checkAwardTitle checks a title template uses only the placeholders Title
// fills, with balanced braces.
func checkAwardTitle(c *checker, field, title string) error {
	if strings.TrimSpace(title) == "" {
		return c.fail(field, "is required")
	}
	for _, ph := range placeholderRegexp.FindAllString(title, -1) {
		if !titlePlaceholders[ph] {
			return c.fail(field, "unknown placeholder %s (known: {band_code}, {band_label}, {rank}, {peer_group}, {scope}, {year})", ph)
		}
	}
	if rest := placeholderRegexp.ReplaceAllString(title, ""); strings.ContainsAny(rest, "{}") {
		return c.fail(field, "unbalanced brace in %q", title)
	}
	return nil
}

// checkAwardBandCodes checks a rule names each band once, spelled exactly as
// the band is.
func checkAwardBandCodes(c *checker, v *Version, f string, bandCodes []string) error {
	seen := map[string]bool{}
	for j, code := range bandCodes {
		bf := fmt.Sprintf("%s.band_codes[%d]", f, j)
		b, ok := v.Band(code)
		switch {
		case !ok || b.GetCode() != code:
			return c.fail(bf, "unknown band %q (bands: %s)", code, strings.Join(v.BandCodes(), ", "))
		case seen[code]:
			return c.fail(bf, "band %q is listed twice", code)
		}
		seen[code] = true
	}
	return nil
}

// checkBandAwardRule checks a BAND or CATEGORY rule: it is earned by bands
// and has nothing to rank.
func checkBandAwardRule(c *checker, f string, r *assessmentv1.AwardRule) error {
	switch {
	case len(r.GetBandCodes()) == 0:
		return c.fail(f+".band_codes", "a %v rule needs the bands that earn it", r.GetKind())
	case r.GetScope() != assessmentv1.ScopeKind_SCOPE_KIND_UNSPECIFIED:
		return c.fail(f+".scope", "only a RANK rule has a scope")
	case r.GetTopN() != 0:
		return c.fail(f+".top_n", "only a RANK rule has top_n")
	}
	return nil
}

// checkRankAwardRule checks a RANK rule ranks a peer group on a board the
// group has.
func checkRankAwardRule(c *checker, f string, r *assessmentv1.AwardRule, group *assessmentv1.PeerGroup) error {
	switch {
	case group == nil:
		return c.fail(f+".peer_group", "a RANK rule needs the peer group it ranks")
	case r.GetTopN() < 1:
		return c.fail(f+".top_n", "%d: a RANK rule awards ranks 1..top_n, top_n >= 1", r.GetTopN())
	case r.GetScope() == assessmentv1.ScopeKind_SCOPE_KIND_UNSPECIFIED:
		return c.fail(f+".scope", "a RANK rule needs a scope")
	}
	if !slices.Contains(group.GetScopes(), r.GetScope()) {
		return c.fail(f+".scope", "peer group %q has no %v board", group.GetCode(), r.GetScope())
	}
	return nil
}

// institutionPattern is a registry institution id.
var institutionPattern = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)

// checkRollupRules: each roll-up names a board of its own (a code no peer
// group has), one parent, an eligible kind of units and a method; a parent
// is rolled up once.
func checkRollupRules(c *checker, v *Version) error {
	codes := map[string]string{}
	for _, g := range v.p.GetPeerGroups() {
		codes[g.GetCode()] = "a peer group"
	}
	parents := map[string]bool{}
	for i, r := range v.p.GetRollupRules() {
		f := fmt.Sprintf("rollup_rules[%d]", i)
		if err := c.code(codes, f+".code", r.GetCode(), tokenPattern); err != nil {
			return err
		}
		switch {
		case strings.TrimSpace(r.GetName()) == "":
			return c.fail(f+".name", "is required")
		case !institutionPattern.MatchString(r.GetParentId()):
			return c.fail(f+".parent_id", "%q is not an institution id", r.GetParentId())
		case parents[r.GetParentId()]:
			return c.fail(f+".parent_id", "%s is rolled up by two rules", r.GetParentId())
		case !kindOK(r.GetUnitKind()) || !v.eligible[r.GetUnitKind()]:
			return c.fail(f+".unit_kind", "%v is not an eligible kind of this version", r.GetUnitKind())
		case r.GetMethod() == assessmentv1.RollupMethod_ROLLUP_METHOD_UNSPECIFIED:
			return c.fail(f+".method", "is required: ROLLUP_METHOD_MEAN, ROLLUP_METHOD_WEIGHTED_MEAN or ROLLUP_METHOD_MINIMUM")
		}
		if _, ok := assessmentv1.RollupMethod_name[int32(r.GetMethod())]; !ok {
			return c.fail(f+".method", "%v is not a roll-up method", r.GetMethod())
		}
		parents[r.GetParentId()] = true
		v.rollups = append(v.rollups, rollupOf(r))
	}
	return nil
}

// checkSurvey: a survey's elements have codes (unique) and positive
// weights, decimals or exact fractions, and only a version whose scale is
// the survey's 25-100 (index = Σ weight × mean × 25) may have one.
func checkSurvey(c *checker, v *Version) error {
	def := v.p.GetSurvey()
	if len(def.GetElements()) == 0 {
		return nil
	}
	s, err := SurveyOf(def)
	if err != nil {
		return c.fail("survey", "%v", err)
	}
	if v.max.Cmp(decimal.New(100, 0)) != 0 {
		return c.fail("survey", "a survey's index runs to 100 (answers 1-4 × 25): the scale's max is %s", v.max)
	}
	if sum := s.WeightSum(); sum.Cmp(big.NewRat(1, 1)) > 0 {
		return c.fail("survey", "the weights sum to %s, over 1: the index would pass 100", sum.FloatString(6))
	}
	v.survey = &s
	return nil
}

// SurveyOf reads a survey definition (the version's, or a unit's own).
func SurveyOf(def *assessmentv1.SurveyDefinition) (skm.Survey, error) {
	es := def.GetElements()
	return skm.ParseSurvey(len(es), func(i int) (string, string) { return es[i].GetCode(), es[i].GetWeight() })
}
