package scheme

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/predikat-id/predikat/pkg/decimal"
	assessmentv1 "github.com/predikat-id/predikat/pkg/gen/predikat/assessment/v1"
	registryv1 "github.com/predikat-id/predikat/pkg/gen/predikat/registry/v1"
	"github.com/predikat-id/predikat/pkg/platform/fault"
)

const (
	provincial = registryv1.InstitutionKind_INSTITUTION_KIND_PROVINCIAL_GOVERNMENT
	regency    = registryv1.InstitutionKind_INSTITUTION_KIND_REGENCY_GOVERNMENT
	landOffice = registryv1.InstitutionKind_INSTITUTION_KIND_LAND_OFFICE
	mall       = registryv1.InstitutionKind_INSTITUTION_KIND_PUBLIC_SERVICE_MALL
	anyKind    = registryv1.InstitutionKind_INSTITUTION_KIND_UNSPECIFIED
)

func load(t *testing.T) *Catalog {
	t.Helper()
	c, err := Load()
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return c
}

func keys(vs []*Version) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = v.ID() + "-" + v.Label()
	}
	return out
}

func TestLoadEmbeddedCatalog(t *testing.T) {
	c := load(t)
	got := strings.Join(keys(c.List("", 0, anyKind)), " ")
	want := "berakhlak-2023 mpp-2023 ombudsman-2013 ombudsman-2022 ombudsman-2025 pekppp-2023 rb-2020 rb-2023 sakip-2022 skm-2017"
	if got != want {
		t.Fatalf("versions = %s\nwant       %s", got, want)
	}
	if ids := strings.Join(c.SchemeIDs(), " "); ids != "berakhlak mpp ombudsman pekppp rb sakip skm" {
		t.Errorf("SchemeIDs = %s", ids)
	}
	for _, v := range c.List("", 0, anyKind) {
		p := v.Proto()
		if p.GetSourceNote() == "" {
			t.Errorf("%s: no source_note", v)
		}
		// Provisional where the rules are not all published: MPP and
		// BerAKHLAK edges, the Ombudsman's 2025 opinion edges.
		if p.GetProvisional() != (v.ID() == "mpp" || v.ID() == "berakhlak" || v.String() == "ombudsman 2025") {
			t.Errorf("%s: provisional = %v", v, p.GetProvisional())
		}
		if v.File() != v.ID()+"-"+v.Label()+".json" {
			t.Errorf("%s: file %s", v, v.File())
		}
	}
}

func TestCanonicalDecimals(t *testing.T) {
	c := load(t)
	omb, err := c.Get("ombudsman", "2022")
	if err != nil {
		t.Fatal(err)
	}
	p := omb.Proto()
	if p.GetScale().GetMin() != "0.00" || p.GetScale().GetMax() != "100.00" {
		t.Errorf("scale = %s-%s", p.GetScale().GetMin(), p.GetScale().GetMax())
	}
	if w := p.GetDimensions()[1].GetWeight(); w != "32.37" {
		t.Errorf("proses weight = %s", w)
	}
	if e := p.GetBands()[4]; e.GetLower().GetValue() != "0.00" || e.GetUpper().GetValue() != "31.99" {
		t.Errorf("band E = %s", boundText(e))
	}
	pek, _ := c.Get("pekppp", "2023")
	if w := pek.Proto().GetDimensions()[0].GetWeight(); w != "24.00" {
		t.Errorf("pekppp weight = %s, want 24.00", w)
	}
	if pek.Precision() != 2 || pek.Max().String() != "5.00" || pek.Min().String() != "0.00" {
		t.Errorf("pekppp scale = %s-%s at %d", pek.Min(), pek.Max(), pek.Precision())
	}
	rb, _ := c.Get("rb", "2020")
	if sub := rb.Proto().GetDimensions()[0].GetSubDimensions(); len(sub) != 3 || sub[2].GetWeight() != "30.00" {
		t.Errorf("rb 2020 pengungkit sub-dimensions = %v", sub)
	}
}

func TestListFilters(t *testing.T) {
	c := load(t)
	for _, tc := range []struct {
		scheme string
		year   int32
		kind   registryv1.InstitutionKind
		want   string
	}{
		{"", 2024, anyKind, "berakhlak-2023 mpp-2023 ombudsman-2022 pekppp-2023 rb-2023 sakip-2022 skm-2017"},
		{"", 2021, anyKind, "ombudsman-2013 rb-2020 skm-2017"},
		{"ombudsman", 0, anyKind, "ombudsman-2013 ombudsman-2022 ombudsman-2025"},
		{"ombudsman", 2013, anyKind, "ombudsman-2013"},
		{"", 2024, mall, "mpp-2023 skm-2017"},
		{"", 2024, landOffice, "ombudsman-2022 skm-2017"},
		{"rb", 2026, regency, "rb-2023"},
		{"nope", 0, anyKind, ""},
		{"", 1999, anyKind, ""},
	} {
		if got := strings.Join(keys(c.List(tc.scheme, tc.year, tc.kind)), " "); got != tc.want {
			t.Errorf("List(%q, %d, %v) = %q, want %q", tc.scheme, tc.year, tc.kind, got, tc.want)
		}
	}
}

func TestGetAndForYear(t *testing.T) {
	c := load(t)
	for _, tc := range []struct {
		scheme string
		year   int32
		want   string
	}{
		{"ombudsman", 2013, "2013"}, {"ombudsman", 2021, "2013"}, {"ombudsman", 2022, "2022"},
		{"ombudsman", 2024, "2022"}, {"ombudsman", 2025, "2025"}, {"rb", 2022, "2020"}, {"rb", 2023, "2023"}, {"rb", 2099, "2023"},
		{"pekppp", 2025, "2023"}, {"sakip", 2024, "2022"}, {"mpp", 2023, "2023"}, {"skm", 2024, "2017"},
	} {
		v, err := c.ForYear(tc.scheme, tc.year)
		if err != nil || v.Label() != tc.want {
			t.Errorf("ForYear(%s, %d) = %v, %v; want version %s", tc.scheme, tc.year, v, err, tc.want)
		}
	}
	for _, tc := range []struct {
		call func() (*Version, error)
		want []string
	}{
		{func() (*Version, error) { return c.Get("ombudsman", "2019") }, []string{`no version "2019"`, "2013 (2013-2021)", "2022 (2022-2024)"}},
		{func() (*Version, error) { return c.Get("ombudsmen", "2022") }, []string{`"ombudsmen" not found`, "berakhlak, mpp, ombudsman, pekppp, rb, sakip, skm"}},
		{func() (*Version, error) { return c.ForYear("ombudsman", 2026) }, []string{"in force in 2026", "2022 (2022-2024)"}},
		{func() (*Version, error) { return c.ForYear("pekppp", 2022) }, []string{"in force in 2022", "2023 (2023-2025)"}},
		{func() (*Version, error) { return c.ForYear("x", 2024) }, []string{`"x" not found`}},
	} {
		_, err := tc.call()
		if !fault.Is(err, fault.NotFound) {
			t.Errorf("err = %v, want NotFound", err)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("err %q does not mention %q", err, w)
			}
		}
	}
}

func TestEligibleAndPeerGroups(t *testing.T) {
	c := load(t)
	omb, _ := c.Get("ombudsman", "2022")
	codes := func(gs []*assessmentv1.PeerGroup) string {
		var s []string
		for _, g := range gs {
			s = append(s, g.GetCode())
		}
		return strings.Join(s, " ")
	}
	for kind, want := range map[registryv1.InstitutionKind]string{
		provincial: "pemprov pemda",
		regency:    "pemkab pemda",
		landOffice: "kantah",
		mall:       "",
	} {
		if got := codes(omb.PeerGroupsFor(kind)); got != want {
			t.Errorf("ombudsman PeerGroupsFor(%v) = %q, want %q", kind, got, want)
		}
		if omb.Eligible(kind) != (want != "") {
			t.Errorf("ombudsman Eligible(%v) = %v", kind, omb.Eligible(kind))
		}
	}
	if g, ok := omb.PeerGroup("pemda"); !ok || len(g.GetKinds()) != 3 || len(g.GetScopes()) != 1 {
		t.Errorf("pemda = %v", g)
	}
	mpp, _ := c.Get("mpp", "2023")
	if !mpp.Eligible(mall) || mpp.Eligible(regency) {
		t.Error("mpp eligibility")
	}
}

func TestBandLookup(t *testing.T) {
	c := load(t)
	sakip, _ := c.ForYear("sakip", 2024)
	for _, code := range []string{"BB", "bb", "Bb"} {
		if b, ok := sakip.Band(code); !ok || b.GetCode() != "BB" || b.GetLabel() != "Sangat Baik" {
			t.Errorf("Band(%q) = %v, %v", code, b, ok)
		}
	}
	if _, ok := sakip.Band("Z"); ok {
		t.Error("Band(Z) found")
	}
	for _, tc := range []struct{ total, want string }{
		{"90", "A"}, {"90.0", "A"}, {"90.01", "AA"}, {"0", "D"}, {"100", "AA"},
	} {
		b, err := sakip.BandFor(decimal.MustParse(tc.total))
		if err != nil || b.GetCode() != tc.want {
			t.Errorf("BandFor(%s) = %v, %v; want %s", tc.total, b.GetCode(), err, tc.want)
		}
	}
	for _, total := range []string{"90.005", "100.01", "-0.01", "9000000000"} {
		_, err := sakip.BandFor(decimal.MustParse(total))
		if !fault.Is(err, fault.Invalid) {
			t.Errorf("BandFor(%s) err = %v, want Invalid", total, err)
		}
	}
}

// valid is a small well-formed scheme: four contiguous bands at precision 2
// with mixed inclusivity, two dimensions, a peer group, an award rule and an
// adjustment rule. Tests mutate a copy of it.
const valid = `{
  "id": "test", "version": "2020", "name": "Test", "short_name": "T", "run_by": "Us",
  "first_year": 2020, "last_year": 2021, "source_note": "made up",
  "scale": {"min": "0.00", "max": "100.00", "precision": 2},
  "dimensions": [
    {"code": "a", "name": "A", "weight": "60", "sub_dimensions": [
      {"code": "a1", "name": "A1", "weight": "20"}, {"code": "a2", "name": "A2", "weight": "40"}]},
    {"code": "b", "name": "B", "weight": "40"}],
  "bands": [
    {"code": "A", "label": "Top", "lower": {"value": "90.00", "inclusive": false}, "upper": {"value": "100.00", "inclusive": true}},
    {"code": "B", "label": "Mid", "lower": {"value": "54.00", "inclusive": true}, "upper": {"value": "90.00", "inclusive": true}},
    {"code": "C", "label": "Low", "lower": {"value": "32.00", "inclusive": true}, "upper": {"value": "53.99", "inclusive": true}},
    {"code": "D", "label": "Bottom", "lower": {"value": "0", "inclusive": true}, "upper": {"value": "32", "inclusive": false}}],
  "eligible_kinds": ["INSTITUTION_KIND_REGENCY_GOVERNMENT", "INSTITUTION_KIND_CITY_GOVERNMENT"],
  "peer_groups": [{"code": "pemda", "name": "Pemda",
    "kinds": ["INSTITUTION_KIND_REGENCY_GOVERNMENT", "INSTITUTION_KIND_CITY_GOVERNMENT"],
    "scopes": ["SCOPE_KIND_NATIONAL", "SCOPE_KIND_PROVINCE"]}],
  "award_rules": [
    {"code": "band-a", "kind": "AWARD_BASIS_KIND_BAND", "title": "Predikat {band_label}", "band_codes": ["A"]},
    {"code": "top1", "kind": "AWARD_BASIS_KIND_RANK", "title": "Tertinggi se-{scope}", "peer_group": "pemda",
     "scope": "SCOPE_KIND_PROVINCE", "top_n": 1}],
  "adjustment_rules": [{"code": "minus", "name": "Minus", "min_amount": "-10.00", "max_amount": "0.00"}]
}`

// mutate applies f to the valid scheme as a generic JSON tree.
func mutate(t *testing.T, f func(m map[string]any)) []byte {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(valid), &m); err != nil {
		t.Fatal(err)
	}
	if f != nil {
		f(m)
	}
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// at walks a JSON tree: at(m, "bands", 2, "lower") is m["bands"][2]["lower"].
func at(m map[string]any, path ...any) map[string]any {
	var cur any = m
	for _, p := range path {
		switch k := p.(type) {
		case string:
			cur = cur.(map[string]any)[k]
		case int:
			cur = cur.([]any)[k]
		}
	}
	return cur.(map[string]any)
}

func TestValidFixtureLoads(t *testing.T) {
	c, err := LoadFS(fstest.MapFS{"test-2020.json": {Data: mutate(t, nil)}, "README.md": {Data: []byte("ignored")}})
	if err != nil {
		t.Fatal(err)
	}
	v, _ := c.Get("test", "2020")
	for _, tc := range []struct{ total, want string }{
		{"100.00", "A"}, {"90.01", "A"}, {"90.00", "B"}, {"54.00", "B"}, {"53.99", "C"},
		{"32.00", "C"}, {"31.99", "D"}, {"0.00", "D"},
	} {
		if b, err := v.BandFor(decimal.MustParse(tc.total)); err != nil || b.GetCode() != tc.want {
			t.Errorf("BandFor(%s) = %v, %v; want %s", tc.total, b.GetCode(), err, tc.want)
		}
	}
	if got := v.Proto().GetBands()[3].GetLower().GetValue(); got != "0.00" {
		t.Errorf("canonical lower = %q", got)
	}
}

func TestBrokenFiles(t *testing.T) {
	for _, tc := range []struct {
		name   string
		file   string // default test-2020.json
		extra  map[string][]byte
		mutate func(m map[string]any)
		field  string // the message must contain "scheme data <file>: <field>"
		reason string // and this
	}{
		{
			name:   "weights not summing to 100",
			mutate: func(m map[string]any) { at(m, "dimensions", 1)["weight"] = "39.99" },
			field:  "dimensions", reason: "weights sum to 99.99, not exactly 100",
		},
		{
			name: "zero weight",
			mutate: func(m map[string]any) {
				at(m, "dimensions", 1)["weight"] = "0"
				m["dimensions"] = append(m["dimensions"].([]any), map[string]any{"code": "c", "name": "C", "weight": "40"})
			},
			field: "dimensions[1].weight", reason: "must be above 0",
		},
		{
			name:   "sub-dimension weights not summing to the dimension's",
			mutate: func(m map[string]any) { at(m, "dimensions", 0, "sub_dimensions", 1)["weight"] = "30" },
			field:  "dimensions[0].sub_dimensions", reason: "weights sum to 50, not the dimension's weight 60",
		},
		{
			name:   "some sub-dimension weights missing",
			mutate: func(m map[string]any) { delete(at(m, "dimensions", 0, "sub_dimensions", 1), "weight") },
			field:  "dimensions[0].sub_dimensions", reason: "give every sub-dimension weight or none",
		},
		{
			name:   "gap between bands",
			mutate: func(m map[string]any) { at(m, "bands", 2, "upper")["value"] = "53.98" },
			field:  "bands[2].upper", reason: "a score of 53.99 is in no band",
		},
		{
			name:   "gap from exclusive bounds on both sides",
			mutate: func(m map[string]any) { at(m, "bands", 1, "upper")["inclusive"] = false },
			field:  "bands[1].upper", reason: "a score of 90.00 is in no band",
		},
		{
			name:   "overlap between bands",
			mutate: func(m map[string]any) { at(m, "bands", 2, "upper")["value"] = "54.00" },
			field:  "bands[2].upper", reason: "overlaps bands[1]",
		},
		{
			name:   "overlap from inclusive bounds on both sides",
			mutate: func(m map[string]any) { at(m, "bands", 0, "lower")["inclusive"] = true },
			field:  "bands[1].upper", reason: "a score of 90.00 would be in both",
		},
		{
			name:   "top band short of scale max",
			mutate: func(m map[string]any) { at(m, "bands", 0, "upper")["inclusive"] = false },
			field:  "bands[0].upper", reason: "does not reach scale.max 100.00",
		},
		{
			name:   "bottom band above scale min",
			mutate: func(m map[string]any) { at(m, "bands", 3, "lower")["inclusive"] = false },
			field:  "bands[3].lower", reason: "does not reach scale.min 0.00",
		},
		{
			name: "bands not best first",
			mutate: func(m map[string]any) {
				b := m["bands"].([]any)
				b[2], b[3] = b[3], b[2]
			},
			field: "bands[3]", reason: "list bands best (highest) first",
		},
		{
			name: "bad decimal",
			file: "ombudsman-2022.json",
			mutate: func(m map[string]any) {
				m["id"], m["version"], m["first_year"], m["last_year"] = "ombudsman", "2022", 2022, 2024
				at(m, "bands", 2, "lower")["value"] = "54,00x"
			},
			field: "bands[2].lower.value", reason: `"54,00x" is not a decimal`,
		},
		{
			name:   "bound with more decimals than the precision",
			mutate: func(m map[string]any) { at(m, "bands", 2, "lower")["value"] = "32.001" },
			field:  "bands[2].lower.value", reason: "more than the scale's precision (2)",
		},
		{
			name:   "bound outside the scale",
			mutate: func(m map[string]any) { at(m, "bands", 0, "upper")["value"] = "120" },
			field:  "bands[0].upper.value", reason: "outside the scale 0.00-100.00",
		},
		{
			name:   "duplicate band code",
			mutate: func(m map[string]any) { at(m, "bands", 2)["code"] = "b" },
			field:  "bands[2].code", reason: `"b" is already used by bands[1].code`,
		},
		{
			name:   "unknown band in award rule",
			mutate: func(m map[string]any) { at(m, "award_rules", 0)["band_codes"] = []any{"A", "AA"} },
			field:  "award_rules[0].band_codes[1]", reason: `unknown band "AA" (bands: A, B, C, D)`,
		},
		{
			name:   "unknown peer group in award rule",
			mutate: func(m map[string]any) { at(m, "award_rules", 1)["peer_group"] = "kantah" },
			field:  "award_rules[1].peer_group", reason: `unknown peer group "kantah"`,
		},
		{
			name: "rank rule on a scope the group has no board for",
			mutate: func(m map[string]any) {
				at(m, "peer_groups", 0)["scopes"] = []any{"SCOPE_KIND_NATIONAL"}
			},
			field: "award_rules[1].scope", reason: `peer group "pemda" has no SCOPE_KIND_PROVINCE board`,
		},
		{
			name:   "rank rule without top_n",
			mutate: func(m map[string]any) { delete(at(m, "award_rules", 1), "top_n") },
			field:  "award_rules[1].top_n", reason: "top_n >= 1",
		},
		{
			name: "roll-up of a kind not eligible",
			mutate: func(m map[string]any) {
				m["rollup_rules"] = []any{map[string]any{"code": "induk", "name": "Induk", "parent_id": "kementerian-x",
					"unit_kind": "INSTITUTION_KIND_LAND_OFFICE", "method": "ROLLUP_METHOD_MEAN"}}
			},
			field: "rollup_rules[0].unit_kind", reason: "is not an eligible kind",
		},
		{
			name: "roll-up without a method",
			mutate: func(m map[string]any) {
				m["rollup_rules"] = []any{map[string]any{"code": "induk", "name": "Induk", "parent_id": "kementerian-x",
					"unit_kind": "INSTITUTION_KIND_REGENCY_GOVERNMENT"}}
			},
			field: "rollup_rules[0].method", reason: "is required",
		},
		{
			name: "roll-up board named like a peer group",
			mutate: func(m map[string]any) {
				code := at(m, "peer_groups", 0)["code"]
				m["rollup_rules"] = []any{map[string]any{"code": code, "name": "Induk", "parent_id": "kementerian-x",
					"unit_kind": "INSTITUTION_KIND_REGENCY_GOVERNMENT", "method": "ROLLUP_METHOD_MINIMUM"}}
			},
			field: "rollup_rules[0].code", reason: "",
		},
		{
			name: "one parent rolled up twice",
			mutate: func(m map[string]any) {
				r := map[string]any{"code": "induk-a", "name": "Induk", "parent_id": "kementerian-x",
					"unit_kind": "INSTITUTION_KIND_REGENCY_GOVERNMENT", "method": "ROLLUP_METHOD_MEAN"}
				r2 := map[string]any{"code": "induk-b", "name": "Induk", "parent_id": "kementerian-x",
					"unit_kind": "INSTITUTION_KIND_CITY_GOVERNMENT", "method": "ROLLUP_METHOD_MEAN"}
				m["rollup_rules"] = []any{r, r2}
			},
			field: "rollup_rules[1].parent_id", reason: "rolled up by two rules",
		},
		{
			name:   "unknown title placeholder",
			mutate: func(m map[string]any) { at(m, "award_rules", 0)["title"] = "Predikat {label}" },
			field:  "award_rules[0].title", reason: "unknown placeholder {label}",
		},
		{
			name:   "manual award rule",
			mutate: func(m map[string]any) { at(m, "award_rules", 0)["kind"] = "AWARD_BASIS_KIND_MANUAL" },
			field:  "award_rules[0].kind", reason: "BAND, RANK or CATEGORY",
		},
		{
			name: "peer group kind not eligible",
			mutate: func(m map[string]any) {
				at(m, "peer_groups", 0)["kinds"] = []any{"INSTITUTION_KIND_REGENCY_GOVERNMENT", "INSTITUTION_KIND_LAND_OFFICE"}
			},
			field: "peer_groups[0].kinds[1]", reason: "INSTITUTION_KIND_LAND_OFFICE is not in eligible_kinds",
		},
		{
			name:   "empty peer group",
			mutate: func(m map[string]any) { at(m, "peer_groups", 0)["kinds"] = []any{} },
			field:  "peer_groups[0].kinds", reason: "at least one institution kind is required",
		},
		{
			name:   "no eligible kinds",
			mutate: func(m map[string]any) { m["eligible_kinds"], m["peer_groups"] = []any{}, []any{} },
			field:  "eligible_kinds", reason: "at least one institution kind is required",
		},
		{
			name:   "unspecified eligible kind",
			mutate: func(m map[string]any) { m["eligible_kinds"] = []any{"INSTITUTION_KIND_UNSPECIFIED"} },
			field:  "eligible_kinds[0]", reason: "is not an institution kind",
		},
		{
			name:   "adjustment bounds reversed",
			mutate: func(m map[string]any) { at(m, "adjustment_rules", 0)["min_amount"] = "1.00" },
			field:  "adjustment_rules[0].max_amount", reason: "is below min_amount 1.00",
		},
		{
			name:   "adjustments without dimensions",
			mutate: func(m map[string]any) { delete(m, "dimensions") },
			field:  "adjustment_rules", reason: "adjustments apply only to dimension scores",
		},
		{
			name:   "provisional without caveat",
			mutate: func(m map[string]any) { m["provisional"] = true },
			field:  "caveat", reason: "is required for a provisional version",
		},
		{
			name:   "id does not match the file name",
			mutate: func(m map[string]any) { m["id"] = "other" },
			field:  "id", reason: "want other-2020.json",
		},
		{
			name:   "numeric version is not the first year",
			mutate: func(m map[string]any) { m["first_year"] = 2019 },
			field:  "version", reason: "first_year is 2019",
		},
		{
			name:   "last year before first year",
			mutate: func(m map[string]any) { m["last_year"] = 2019 },
			field:  "last_year", reason: "2019 must be 0 (open-ended) or within 2020-2100",
		},
		{
			name:   "scale min not below max",
			mutate: func(m map[string]any) { at(m, "scale")["min"] = "100" },
			field:  "scale.max", reason: "is not above scale.min",
		},
		{
			name:   "unknown field (a typo)",
			mutate: func(m map[string]any) { m["source_notes"] = "typo" },
			field:  "not a valid scheme", reason: `unknown field "source_notes"`,
		},
		{
			name: "overlapping years of two versions",
			extra: map[string][]byte{"test-2021.json": []byte(strings.NewReplacer(
				`"version": "2020"`, `"version": "2021"`, `"first_year": 2020, "last_year": 2021`, `"first_year": 2021, "last_year": 0`,
			).Replace(valid))},
			file:  "test-2021.json",
			field: "first_year", reason: `years 2021- overlap version "2020" in test-2020.json (2020-2021)`,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			file := "test-2020.json"
			if tc.file != "" && tc.extra == nil {
				file = tc.file
			}
			fsys := fstest.MapFS{file: {Data: mutate(t, tc.mutate)}}
			for name, data := range tc.extra {
				fsys[name] = &fstest.MapFile{Data: data}
			}
			_, err := LoadFS(fsys)
			if err == nil {
				t.Fatal("LoadFS succeeded")
			}
			var de *DataError
			if !errors.As(err, &de) {
				t.Fatalf("err %T %v is not a *DataError", err, err)
			}
			wantFile := file
			if tc.file != "" {
				wantFile = tc.file
			}
			msg := err.Error()
			t.Log(msg)
			if prefix := "scheme data " + wantFile + ": " + tc.field; !strings.HasPrefix(msg, prefix) {
				t.Errorf("message %q\n does not start with %q", msg, prefix)
			}
			if !strings.Contains(msg, tc.reason) {
				t.Errorf("message %q\n does not contain %q", msg, tc.reason)
			}
		})
	}
}

func TestBadDecimalMessage(t *testing.T) {
	// The example of the brief, verbatim.
	data := mutate(t, func(m map[string]any) {
		m["id"] = "ombudsman"
		at(m, "bands", 2, "lower")["value"] = "54,00x"
	})
	_, err := LoadFS(fstest.MapFS{"ombudsman-2020.json": {Data: data}})
	want := `scheme data ombudsman-2020.json: bands[2].lower.value: "54,00x" is not a decimal`
	if err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Fatalf("err = %v\nwant prefix %s", err, want)
	}
}

func TestEmptyCatalog(t *testing.T) {
	if _, err := LoadFS(fstest.MapFS{"notes.txt": {Data: []byte("x")}}); err == nil {
		t.Fatal("an empty catalog loaded")
	}
}

func TestProtoNotSharedWithCaller(t *testing.T) {
	// Two loads give independent versions: a caller mutating one catalog's
	// proto (which it must not do) cannot corrupt another load.
	a, b := load(t), load(t)
	va, _ := a.Get("ombudsman", "2022")
	vb, _ := b.Get("ombudsman", "2022")
	if va.Proto() == vb.Proto() {
		t.Fatal("two loads share a proto")
	}
}
