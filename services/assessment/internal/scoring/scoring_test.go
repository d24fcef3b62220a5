package scoring

import (
	"math/big"
	"strings"
	"testing"

	"github.com/predikat-id/predikat/pkg/decimal"
	assessmentv1 "github.com/predikat-id/predikat/pkg/gen/predikat/assessment/v1"
	"github.com/predikat-id/predikat/pkg/platform/fault"
	"github.com/predikat-id/predikat/services/assessment/internal/convert"
	"github.com/predikat-id/predikat/services/assessment/internal/scheme"
)

var catalog = func() *scheme.Catalog {
	c, err := scheme.Load()
	if err != nil {
		panic(err)
	}
	return c
}()

func version(t testing.TB, id, label string) *scheme.Version {
	t.Helper()
	v, err := catalog.Get(id, label)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func forYear(t testing.TB, id string, year int32) *scheme.Version {
	t.Helper()
	v, err := catalog.ForYear(id, year)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func reportedTotal(s string) *assessmentv1.AssessmentInput {
	return &assessmentv1.AssessmentInput{Result: &assessmentv1.AssessmentInput_ReportedTotal{ReportedTotal: s}}
}

func reportedBand(s string) *assessmentv1.AssessmentInput {
	return &assessmentv1.AssessmentInput{Result: &assessmentv1.AssessmentInput_ReportedBand{ReportedBand: s}}
}

// scores builds dimension-score input from "code=score" pairs.
func scores(pairs ...string) *assessmentv1.AssessmentInput {
	ds := &assessmentv1.DimensionScores{}
	for _, p := range pairs {
		code, score, _ := strings.Cut(p, "=")
		ds.Scores = append(ds.Scores, &assessmentv1.DimensionScore{Code: code, Score: score})
	}
	return &assessmentv1.AssessmentInput{Result: &assessmentv1.AssessmentInput_DimensionScores{DimensionScores: ds}}
}

func adjust(in *assessmentv1.AssessmentInput, code, amount string) *assessmentv1.AssessmentInput {
	in.Adjustments = append(in.Adjustments, &assessmentv1.Adjustment{Code: code, Amount: amount, Reason: "test"})
	return in
}

// edges lists, for every scheme version, the totals just below, on and just
// above every band edge, with the band each must land in ("" = rejected:
// outside the scale). They are written by hand from the published tables,
// not derived from the data files, so a typo in a file fails here.
var edges = map[string][]struct{ total, band string }{
	"ombudsman-2013": {
		{"100.01", ""}, {"100.00", "hijau"}, {"99.99", "hijau"}, {"81.01", "hijau"}, {"81.00", "hijau"},
		{"80.99", "kuning"}, {"80.98", "kuning"}, {"51.01", "kuning"}, {"51.00", "kuning"},
		{"50.99", "merah"}, {"50.98", "merah"}, {"0.01", "merah"}, {"0.00", "merah"}, {"-0.01", ""},
	},
	"ombudsman-2022": {
		{"100.01", ""}, {"100.00", "A"}, {"99.99", "A"}, {"88.01", "A"}, {"88.00", "A"},
		{"87.99", "B"}, {"87.98", "B"}, {"78.01", "B"}, {"78.00", "B"},
		{"77.99", "C"}, {"77.98", "C"}, {"54.01", "C"}, {"54.00", "C"},
		{"53.99", "D"}, {"53.98", "D"}, {"32.01", "D"}, {"32.00", "D"},
		{"31.99", "E"}, {"31.98", "E"}, {"0.01", "E"}, {"0.00", "E"}, {"-0.01", ""},
	},
	// The 2022 edges carried over (provisional: see the file's caveat),
	// with the opinion's category words as codes.
	"ombudsman-2025": {
		{"100.01", ""}, {"100.00", "tertinggi"}, {"99.99", "tertinggi"}, {"88.01", "tertinggi"}, {"88.00", "tertinggi"},
		{"87.99", "tinggi"}, {"87.98", "tinggi"}, {"78.01", "tinggi"}, {"78.00", "tinggi"},
		{"77.99", "sedang"}, {"77.98", "sedang"}, {"54.01", "sedang"}, {"54.00", "sedang"},
		{"53.99", "rendah"}, {"53.98", "rendah"}, {"32.01", "rendah"}, {"32.00", "rendah"},
		{"31.99", "terendah"}, {"31.98", "terendah"}, {"0.01", "terendah"}, {"0.00", "terendah"}, {"-0.01", ""},
	},
	"sakip-2022": aaTable("100", "99.99"),
	"rb-2020":    aaTable("100", "99.99"),
	"rb-2023":    aaTable("100", "99.99"),
	"pekppp-2023": {
		{"5.01", ""}, {"5.00", "A"}, {"4.99", "A"}, {"4.52", "A"}, {"4.51", "A"},
		{"4.50", "A-"}, {"4.49", "A-"}, {"4.02", "A-"}, {"4.01", "A-"},
		{"4.00", "B"}, {"3.99", "B"}, {"3.52", "B"}, {"3.51", "B"},
		{"3.50", "B-"}, {"3.49", "B-"}, {"3.02", "B-"}, {"3.01", "B-"},
		{"3.00", "C"}, {"2.99", "C"}, {"2.52", "C"}, {"2.51", "C"},
		{"2.50", "C-"}, {"2.49", "C-"}, {"2.02", "C-"}, {"2.01", "C-"},
		{"2.00", "D"}, {"1.99", "D"}, {"1.52", "D"}, {"1.51", "D"},
		{"1.50", "E"}, {"1.49", "E"}, {"1.02", "E"}, {"1.01", "E"},
		{"1.00", "F"}, {"0.99", "F"}, {"0.01", "F"}, {"0.00", "F"}, {"-0.01", ""},
	},
	"mpp-2023": {
		{"100.01", ""}, {"100.00", "prima"}, {"99.99", "prima"}, {"85.01", "prima"}, {"85.00", "prima"},
		{"84.99", "sangat-baik"}, {"84.98", "sangat-baik"}, {"75.01", "sangat-baik"}, {"75.00", "sangat-baik"},
		{"74.99", "baik"}, {"74.98", "baik"}, {"65.01", "baik"}, {"65.00", "baik"},
		{"64.99", "cukup"}, {"64.98", "cukup"}, {"50.01", "cukup"}, {"50.00", "cukup"},
		{"49.99", "kurang"}, {"49.98", "kurang"}, {"0.01", "kurang"}, {"0.00", "kurang"}, {"-0.01", ""},
	},
	"berakhlak-2023": {
		{"100.01", ""}, {"100.00", "sehat"}, {"99.99", "sehat"}, {"75.01", "sehat"}, {"75.00", "sehat"},
		{"74.99", "cukup-sehat"}, {"74.98", "cukup-sehat"}, {"60.01", "cukup-sehat"}, {"60.00", "cukup-sehat"},
		{"59.99", "kurang-sehat"}, {"59.98", "kurang-sehat"}, {"40.01", "kurang-sehat"}, {"40.00", "kurang-sehat"},
		{"39.99", "tidak-sehat"}, {"39.98", "tidak-sehat"}, {"0.01", "tidak-sehat"}, {"0.00", "tidak-sehat"}, {"-0.01", ""},
	},
	"skm-2017": {
		{"100.01", ""}, {"100.00", "A"}, {"99.99", "A"}, {"88.32", "A"}, {"88.31", "A"},
		{"88.30", "B"}, {"88.29", "B"}, {"76.62", "B"}, {"76.61", "B"},
		{"76.60", "C"}, {"76.59", "C"}, {"65.01", "C"}, {"65.00", "C"},
		{"64.99", "D"}, {"64.98", "D"}, {"25.01", "D"}, {"25.00", "D"}, {"24.99", ""},
	},
}

// aaTable is the SAKIP/RB predikat table: lower edges exclusive, D 0-30
// inclusive; top is the scale's max.
func aaTable(top, belowTop string) []struct{ total, band string } {
	return []struct{ total, band string }{
		{top + ".01", ""}, {top + ".00", "AA"}, {belowTop, "AA"},
		{"90.02", "AA"}, {"90.01", "AA"},
		{"90.00", "A"}, {"89.99", "A"}, {"80.02", "A"}, {"80.01", "A"},
		{"80.00", "BB"}, {"79.99", "BB"}, {"70.02", "BB"}, {"70.01", "BB"},
		{"70.00", "B"}, {"69.99", "B"}, {"60.02", "B"}, {"60.01", "B"},
		{"60.00", "CC"}, {"59.99", "CC"}, {"50.02", "CC"}, {"50.01", "CC"},
		{"50.00", "C"}, {"49.99", "C"}, {"30.02", "C"}, {"30.01", "C"},
		{"30.00", "D"}, {"29.99", "D"}, {"0.01", "D"}, {"0.00", "D"}, {"-0.01", ""},
	}
}

func TestBandEdgesOfEveryVersion(t *testing.T) {
	for _, v := range catalog.List("", 0, 0) {
		key := v.ID() + "-" + v.Label()
		table, ok := edges[key]
		if !ok {
			t.Errorf("%s: no edge table: add one to edges", key)
			continue
		}
		for _, e := range table {
			res, err := Compute(v, reportedTotal(e.total))
			if e.band == "" {
				if !fault.Is(err, fault.Invalid) {
					t.Errorf("%s %s: got %v, %v; want Invalid (outside the scale)", key, e.total, res, err)
				}
				continue
			}
			if err != nil {
				t.Errorf("%s %s: %v", key, e.total, err)
				continue
			}
			if res.Band.GetCode() != e.band || res.TotalString() != e.total ||
				res.Basis != assessmentv1.AssessmentBasis_ASSESSMENT_BASIS_REPORTED_TOTAL {
				t.Errorf("%s %s: band %s total %s basis %v; want band %s", key, e.total, res.Band.GetCode(), res.TotalString(), res.Basis, e.band)
			}
		}
	}
}

// TestEdgeTablesAreComplete checks that the hand-written tables hold every
// point just below, on and just above every edge of the data, so a new
// version or a moved edge cannot go untested.
func TestEdgeTablesAreComplete(t *testing.T) {
	for _, v := range catalog.List("", 0, 0) {
		key := v.ID() + "-" + v.Label()
		have := map[string]bool{}
		for _, e := range edges[key] {
			have[decimal.MustParse(e.total).String()] = true
		}
		one := decimal.New(1, v.Precision())
		for _, b := range v.Proto().GetBands() {
			for _, bound := range []*assessmentv1.Bound{b.GetLower(), b.GetUpper()} {
				edge := decimal.MustParse(bound.GetValue())
				below, _ := edge.Sub(one)
				above, _ := edge.Add(one)
				for _, p := range []decimal.Decimal{below, edge, above} {
					if !have[p.String()] {
						t.Errorf("%s: edge table lacks %s (band %s)", key, p, b.GetCode())
					}
				}
			}
		}
	}
}

func TestSeedFigures(t *testing.T) {
	for _, tc := range []struct {
		scheme      string
		year        int32
		total       string
		band, label string
		zone        assessmentv1.BandZone
		wantVersion string
		wantCanon   string
	}{
		// Ombudsman 2024, Kalimantan Selatan (Kalselhits.com, 12 Dec 2024).
		{"ombudsman", 2024, "94,58", "A", "Kualitas Tertinggi", assessmentv1.BandZone_BAND_ZONE_GREEN, "2022", "94.58"},
		{"ombudsman", 2024, "96,52", "A", "Kualitas Tertinggi", assessmentv1.BandZone_BAND_ZONE_GREEN, "2022", "96.52"},
		{"ombudsman", 2024, "96.64", "A", "Kualitas Tertinggi", assessmentv1.BandZone_BAND_ZONE_GREEN, "2022", "96.64"},
		{"ombudsman", 2024, "99.57", "A", "Kualitas Tertinggi", assessmentv1.BandZone_BAND_ZONE_GREEN, "2022", "99.57"},
		{"ombudsman", 2024, "88.00", "A", "Kualitas Tertinggi", assessmentv1.BandZone_BAND_ZONE_GREEN, "2022", "88.00"},
		{"ombudsman", 2024, "88", "A", "Kualitas Tertinggi", assessmentv1.BandZone_BAND_ZONE_GREEN, "2022", "88.00"},
		{"ombudsman", 2024, "87.99", "B", "Kualitas Tinggi", assessmentv1.BandZone_BAND_ZONE_GREEN, "2022", "87.99"},
		// HSS, April 2025: SAKIP A 84.07, RB 2024 AA 91.25.
		{"sakip", 2024, "84,07", "A", "Memuaskan", 0, "2022", "84.07"},
		{"rb", 2024, "91,25", "AA", "Sangat Memuaskan", 0, "2023", "91.25"},
		// Banjarbaru, May 2024: MPP 2023 79.75 Sangat Baik; BerAKHLAK 69.00.
		{"mpp", 2023, "79,75", "sangat-baik", "Sangat Baik", 0, "2023", "79.75"},
		{"berakhlak", 2023, "69,00", "cukup-sehat", "Cukup Sehat", 0, "2023", "69.00"},
	} {
		v := forYear(t, tc.scheme, tc.year)
		res, err := Compute(v, reportedTotal(tc.total))
		if err != nil {
			t.Errorf("%s %d %s: %v", tc.scheme, tc.year, tc.total, err)
			continue
		}
		if v.Label() != tc.wantVersion || res.Band.GetCode() != tc.band || res.Band.GetLabel() != tc.label ||
			res.Band.GetZone() != tc.zone || res.TotalString() != tc.wantCanon || res.WeightedTotalString() != tc.wantCanon {
			t.Errorf("%s %d %s: version %s band %s %q zone %v total %s; want %s %s %q %v %s",
				tc.scheme, tc.year, tc.total, v.Label(), res.Band.GetCode(), res.Band.GetLabel(), res.Band.GetZone(), res.TotalString(),
				tc.wantVersion, tc.band, tc.label, tc.zone, tc.wantCanon)
		}
	}
}

func TestComputed(t *testing.T) {
	omb := version(t, "ombudsman", "2022")
	for _, tc := range []struct {
		name     string
		v        *scheme.Version
		in       *assessmentv1.AssessmentInput
		weighted string
		total    string
		band     string
		clamped  bool
	}{
		{
			// By hand: 90.00×21.85 + 95.50×32.37 + 88.25×24.24 + 92.10×21.54
			// = 1966.5 + 3091.335 + 2139.18 + 1983.834 = 9180.849; /100 = 91.80849 -> 91.81.
			name: "ombudsman four dimensions",
			v:    omb, in: scores("input=90.00", "proses=95,5", "output=88.25", "pengaduan=92.1"),
			weighted: "91.81", total: "91.81", band: "A",
		},
		{
			// 85.01×21.85 + 85.01×32.37 + 86.27×24.24 + 97.45×21.54 = 8799.5 exactly;
			// /100 = 87.995, half-up to 88.00: band A (a float sum can give 87.99 and B).
			name: "ombudsman half-up onto the A edge",
			v:    omb, in: scores("pengaduan=97.45", "output=86.27", "proses=85.01", "input=85.01"),
			weighted: "88.00", total: "88.00", band: "A",
		},
		{
			name: "ombudsman equal scores",
			v:    omb, in: scores("input=87.99", "proses=87.99", "output=87.99", "pengaduan=87.99"),
			weighted: "87.99", total: "87.99", band: "B",
		},
		{
			name: "ombudsman corrective-action reduction leaves the A band",
			v:    omb, in: adjust(scores("input=90.00", "proses=95.50", "output=88.25", "pengaduan=92.10"), "tindakan-korektif", "-5,00"),
			weighted: "91.81", total: "86.81", band: "B",
		},
		{
			name: "ombudsman two reductions",
			v:    omb, in: adjust(adjust(scores("input=90", "proses=90", "output=90", "pengaduan=90"), "tindakan-korektif", "-1.5"), "tindakan-korektif", "-0.51"),
			weighted: "90.00", total: "87.99", band: "B",
		},
		{
			name: "ombudsman reduction clamped at 0",
			v:    omb, in: adjust(scores("input=10", "proses=10", "output=10", "pengaduan=10"), "tindakan-korektif", "-20"),
			weighted: "10.00", total: "0.00", band: "E", clamped: true,
		},
		{
			// 85×0.30 + 80×0.30 + 90×0.15 + 82.5×0.25 = 25.5 + 24 + 13.5 + 20.625 = 83.625 -> 83.63.
			name: "sakip",
			v:    version(t, "sakip", "2022"), in: scores("perencanaan=85", "pengukuran=80", "pelaporan=90", "evaluasi-internal=82.50"),
			weighted: "83.63", total: "83.63", band: "A",
		},
		{
			// 92×0.60 + 88.5×0.40 = 55.2 + 35.4 = 90.6.
			name: "rb 2020",
			v:    version(t, "rb", "2020"), in: scores("pengungkit=92", "hasil=88.5"),
			weighted: "90.60", total: "90.60", band: "AA",
		},
		{
			name: "rb 2023 general",
			v:    version(t, "rb", "2023"), in: scores("general=91.25"),
			weighted: "91.25", total: "91.25", band: "AA",
		},
		{
			name: "rb 2023 at the top of the published scale",
			v:    version(t, "rb", "2023"), in: scores("general=100"),
			weighted: "100.00", total: "100.00", band: "AA",
		},
		{
			// 4.80×24 + 4.50×25 + 4.20×18 + 4.00×11 + 5.00×10 + 3.90×12
			// = 115.2 + 112.5 + 75.6 + 44 + 50 + 46.8 = 444.1; /100 = 4.441 -> 4.44.
			name: "pekppp",
			v:    version(t, "pekppp", "2023"),
			in: scores("kebijakan-pelayanan=4.80", "profesionalisme-sdm=4.5", "sarana-prasarana=4.20",
				"sistem-informasi=4", "konsultasi-pengaduan=5", "inovasi=3,9"),
			weighted: "4.44", total: "4.44", band: "A-",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := Compute(tc.v, tc.in)
			if err != nil {
				t.Fatal(err)
			}
			if res.Basis != assessmentv1.AssessmentBasis_ASSESSMENT_BASIS_COMPUTED ||
				res.WeightedTotalString() != tc.weighted || res.TotalString() != tc.total ||
				res.Band.GetCode() != tc.band || res.Clamped != tc.clamped {
				t.Errorf("basis %v weighted %s total %s band %s clamped %v; want %s %s %s %v",
					res.Basis, res.WeightedTotalString(), res.TotalString(), res.Band.GetCode(), res.Clamped,
					tc.weighted, tc.total, tc.band, tc.clamped)
			}
			dims := tc.v.Dimensions()
			if len(res.DimensionScores) != len(dims) {
				t.Fatalf("%d dimension scores, want %d", len(res.DimensionScores), len(dims))
			}
			for i, d := range res.DimensionScores {
				if d.GetCode() != dims[i].Code {
					t.Errorf("dimension_scores[%d] = %s, want %s (scheme order)", i, d.GetCode(), dims[i].Code)
				}
				if s := decimal.MustParse(d.GetScore()); s.Scale() != tc.v.Precision() || strings.Contains(d.GetScore(), ",") {
					t.Errorf("dimension_scores[%d] = %q, not canonical", i, d.GetScore())
				}
			}
			if len(res.Adjustments) != len(tc.in.GetAdjustments()) {
				t.Errorf("%d adjustments, want %d", len(res.Adjustments), len(tc.in.GetAdjustments()))
			}
		})
	}
}

func TestCanonicalForms(t *testing.T) {
	res, err := Compute(version(t, "ombudsman", "2022"),
		adjust(scores("pengaduan=92,1", "output=88.25", "proses=95,5", "input=90"), "tindakan-korektif", "-5"))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, d := range res.DimensionScores {
		got = append(got, d.GetCode()+"="+d.GetScore())
	}
	if s := strings.Join(got, " "); s != "input=90.00 proses=95.50 output=88.25 pengaduan=92.10" {
		t.Errorf("dimension scores = %s", s)
	}
	if a := res.Adjustments[0]; a.GetAmount() != "-5.00" || a.GetCode() != "tindakan-korektif" || a.GetReason() != "test" {
		t.Errorf("adjustment = %v", a)
	}
}

func TestReportedBand(t *testing.T) {
	sakip := version(t, "sakip", "2022")
	for _, code := range []string{"BB", "bb"} {
		res, err := Compute(sakip, reportedBand(code))
		if err != nil {
			t.Fatal(err)
		}
		if res.Basis != assessmentv1.AssessmentBasis_ASSESSMENT_BASIS_REPORTED_BAND || res.Band.GetCode() != "BB" ||
			res.HasTotal() || res.TotalString() != "" || res.WeightedTotalString() != "" {
			t.Errorf("%s: %+v", code, res)
		}
	}
	pek := version(t, "pekppp", "2023")
	if res, err := Compute(pek, reportedBand("a-")); err != nil || res.Band.GetLabel() != "Sangat Baik" {
		t.Errorf("pekppp a- = %v, %v", res, err)
	}
}

// TestModel checks the result as a record gets it: Model, written into an
// assessment the way the store writes it.
func TestModel(t *testing.T) {
	omb := version(t, "ombudsman", "2022")
	res, err := Compute(omb, adjust(scores("input=90", "proses=95.5", "output=88.25", "pengaduan=92.1"), "tindakan-korektif", "-5"))
	if err != nil {
		t.Fatal(err)
	}
	a := &assessmentv1.Assessment{RoundId: "ombudsman-2024", Notes: "kept", Total: "stale"}
	convert.FillResult(a, res.Model())
	if a.GetRoundId() != "ombudsman-2024" || a.GetNotes() != "kept" {
		t.Error("filling the result changed fields it does not own")
	}
	if a.GetBasis() != assessmentv1.AssessmentBasis_ASSESSMENT_BASIS_COMPUTED || a.GetWeightedTotal() != "91.81" ||
		a.GetTotal() != "86.81" || a.GetBandCode() != "B" || a.GetBandLabel() != "Kualitas Tinggi" ||
		a.GetBandZone() != assessmentv1.BandZone_BAND_ZONE_GREEN || len(a.GetDimensionScores()) != 4 || len(a.GetAdjustments()) != 1 {
		t.Errorf("filled %v", a)
	}
	a.DimensionScores[0].Score = "0.00"
	if res.DimensionScores[0].GetScore() != "90.00" {
		t.Error("the filled record shares messages with the result")
	}

	band, _ := Compute(version(t, "sakip", "2022"), reportedBand("a"))
	b := &assessmentv1.Assessment{Total: "stale", WeightedTotal: "stale"}
	convert.FillResult(b, band.Model())
	if b.GetTotal() != "" || b.GetWeightedTotal() != "" || b.GetBandCode() != "A" || b.GetBandLabel() != "Memuaskan" ||
		b.GetBasis() != assessmentv1.AssessmentBasis_ASSESSMENT_BASIS_REPORTED_BAND || b.GetDimensionScores() != nil {
		t.Errorf("filled band %v", b)
	}
}

func TestInvalidInput(t *testing.T) {
	omb := version(t, "ombudsman", "2022")
	full := func(extra ...string) *assessmentv1.AssessmentInput {
		return scores(append([]string{"input=90", "proses=90", "output=90", "pengaduan=90"}, extra...)...)
	}
	for _, tc := range []struct {
		name string
		v    *scheme.Version
		in   *assessmentv1.AssessmentInput
		want []string // the message mentions each
	}{
		{"nil input", omb, nil, []string{"input is required"}},
		{"no result", omb, &assessmentv1.AssessmentInput{}, []string{"dimension_scores, reported_total or reported_band"}},
		{"missing dimension", omb, scores("input=90", "proses=90"), []string{"missing", "output, pengaduan"}},
		{"no scores", omb, scores(), []string{"missing", "input, proses, output, pengaduan"}},
		{"unknown dimension", omb, full("outcome=90"), []string{`unknown dimension "outcome"`, "input, proses, output, pengaduan"}},
		{"duplicate dimension", omb, full("proses=91"), []string{"dimension proses is given twice"}},
		{"score above the scale", omb, scores("input=90", "proses=100.01", "output=90", "pengaduan=90"), []string{"proses", "100.01", "outside the scale 0.00-100.00"}},
		{"negative score", omb, scores("input=-1", "proses=90", "output=90", "pengaduan=90"), []string{"input", "-1", "outside the scale"}},
		{"too many decimals", omb, scores("input=90", "proses=96.525", "output=90", "pengaduan=90"), []string{"proses", "96.525", "3 decimals", "at most 2"}},
		{"not a decimal", omb, scores("input=9x", "proses=90", "output=90", "pengaduan=90"), []string{"input", `"9x" is not a decimal`}},
		{"pekppp above 5", version(t, "pekppp", "2023"), reportedTotal("5.01"), []string{"5.01", "0.00-5.00"}},
		{"reported total above the scale", omb, reportedTotal("100.01"), []string{"reported total 100.01", "outside the scale 0.00-100.00"}},
		{"reported total too precise", omb, reportedTotal("96,525"), []string{"96.525", "3 decimals"}},
		{"reported total not a decimal", omb, reportedTotal("96.52%"), []string{"not a decimal"}},
		{"skm below 25", version(t, "skm", "2017"), reportedTotal("24.99"), []string{"25.00-100.00"}},
		{"unknown reported band", omb, reportedBand("AA"), []string{`"AA"`, "A, B, C, D, E"}},
		{"adjustment with a reported total", omb, adjust(reportedTotal("90"), "tindakan-korektif", "-1"), []string{"adjustments apply only to dimension scores"}},
		{"adjustment with a reported band", omb, adjust(reportedBand("A"), "tindakan-korektif", "-1"), []string{"adjustments apply only to dimension scores"}},
		{"unknown adjustment", omb, adjust(full(), "bonus", "1"), []string{`unknown adjustment "bonus"`, "tindakan-korektif"}},
		{"positive reduction", omb, adjust(full(), "tindakan-korektif", "1.00"), []string{"1.00", "-100.00 to -0.01"}},
		{"adjustment too precise", omb, adjust(full(), "tindakan-korektif", "-1.005"), []string{"-1.005", "3 decimals"}},
		{"adjustment not a decimal", omb, adjust(full(), "tindakan-korektif", "lima"), []string{`"lima" is not a decimal`}},
		{"adjustment without reason", omb, &assessmentv1.AssessmentInput{Result: full().Result,
			Adjustments: []*assessmentv1.Adjustment{{Code: "tindakan-korektif", Amount: "-1"}}}, []string{"reason is required"}},
		// The published RB index is 0-100: nothing above it grades.
		{"rb total above 100", version(t, "rb", "2023"), reportedTotal("101.25"), []string{"101.25", "outside the scale 0.00-100.00"}},
		{"rb tematik is no adjustment", version(t, "rb", "2023"), adjust(scores("general=90"), "rb-tematik", "6.25"), []string{"rb 2023 has no adjustment rules"}},
		{"adjustment on a version without rules", version(t, "sakip", "2022"),
			adjust(scores("perencanaan=80", "pengukuran=80", "pelaporan=80", "evaluasi-internal=80"), "x", "-1"), []string{"sakip 2022 has no adjustment rules"}},
		{"dimension scores without dimensions", version(t, "mpp", "2023"), scores("dampak=80"), []string{"mpp 2023 has no dimensions"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := Compute(tc.v, tc.in)
			if !fault.Is(err, fault.Invalid) {
				t.Fatalf("got %v, %v; want Invalid", res, err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("message %q does not mention %q", err, w)
				}
			}
		})
	}
}

// withDimensions lists the versions that take dimension scores.
func withDimensions() []*scheme.Version {
	var out []*scheme.Version
	for _, v := range catalog.List("", 0, 0) {
		if len(v.Dimensions()) > 0 {
			out = append(out, v)
		}
	}
	return out
}

// referenceTotal computes sum(score × weight) / 100 rounded half-up with
// math/big rationals, independently of the decimal package.
func referenceTotal(v *scheme.Version, units []int64) *big.Rat {
	sum := new(big.Rat)
	for i, d := range v.Dimensions() {
		w, _ := new(big.Rat).SetString(d.Weight.String())
		s := new(big.Rat).SetFrac(big.NewInt(units[i]), new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(v.Precision())), nil))
		sum.Add(sum, s.Mul(s, w))
	}
	sum.Quo(sum, big.NewRat(100, 1))
	// half-up (non-negative): floor(x × 10^p + 1/2) / 10^p
	p := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(v.Precision())), nil)
	x := new(big.Rat).Mul(sum, new(big.Rat).SetInt(p))
	x.Add(x, big.NewRat(1, 2))
	q := new(big.Int).Quo(x.Num(), x.Denom())
	return new(big.Rat).SetFrac(q, p)
}

func FuzzCompute(f *testing.F) {
	f.Add(uint8(0), uint64(0), uint64(0), uint64(0), uint64(0), uint64(0), uint64(0), uint64(0))
	f.Add(uint8(1), uint64(9000), uint64(9550), uint64(8825), uint64(9210), uint64(0), uint64(0), uint64(500))
	f.Add(uint8(2), ^uint64(0), ^uint64(0), ^uint64(0), ^uint64(0), ^uint64(0), ^uint64(0), ^uint64(0))
	f.Add(uint8(3), uint64(8501), uint64(8501), uint64(8627), uint64(9745), uint64(1), uint64(2), uint64(3))
	versions := withDimensions()
	f.Fuzz(func(t *testing.T, which uint8, s0, s1, s2, s3, s4, s5, adj uint64) {
		v := versions[int(which)%len(versions)]
		lo, hi := v.Min().Unscaled(), v.Max().Unscaled()
		raw := []uint64{s0, s1, s2, s3, s4, s5}
		dims := v.Dimensions()
		if len(dims) > len(raw) {
			t.Fatalf("%s has %d dimensions; extend the fuzz inputs", v, len(dims))
		}
		units := make([]int64, len(dims))
		var pairs []string
		for i, d := range dims {
			units[i] = lo + int64(raw[i]%uint64(hi-lo+1))
			pairs = append(pairs, d.Code+"="+decimal.New(units[i], v.Precision()).String())
		}
		in := scores(pairs...)
		if rules := v.AdjustmentRules(); len(rules) > 0 && adj%3 != 0 {
			r := rules[int(adj)%len(rules)]
			min, max := r.Min, r.Max
			if !r.HasMin {
				min = v.Max().Neg()
			}
			if !r.HasMax {
				max = v.Max()
			}
			a, b := mustUnits(min, v.Precision()), mustUnits(max, v.Precision())
			amt := a + int64((adj/3)%uint64(b-a+1))
			adjust(in, r.Code, decimal.New(amt, v.Precision()).String())
		}

		res, err := Compute(v, in)
		if err != nil {
			t.Fatalf("%s %v: %v", v, pairs, err)
		}
		want := referenceTotal(v, units)
		got, _ := new(big.Rat).SetString(res.WeightedTotal.String())
		if got.Cmp(want) != 0 {
			t.Fatalf("%s %v: weighted total %s, reference %s", v, pairs, res.WeightedTotal, want.FloatString(v.Precision()))
		}
		total := res.Total
		if total.Scale() != v.Precision() || total.Cmp(v.Min()) < 0 || total.Cmp(v.Max()) > 0 {
			t.Fatalf("%s %v: total %s outside the scale %s", v, pairs, total, v.ScaleString())
		}
		// Exactly one band holds the total, judged from the published bounds.
		var holders []string
		for _, b := range v.Proto().GetBands() {
			if holds(b, total) {
				holders = append(holders, b.GetCode())
			}
		}
		if len(holders) != 1 || holders[0] != res.Band.GetCode() {
			t.Fatalf("%s %v: total %s is held by bands %v; Compute said %s", v, pairs, total, holders, res.Band.GetCode())
		}
	})
}

func mustUnits(d decimal.Decimal, precision int) int64 {
	r, err := d.Rescale(precision)
	if err != nil {
		panic(err)
	}
	return r.Unscaled()
}

func holds(b *assessmentv1.Band, x decimal.Decimal) bool {
	lo, hi := decimal.MustParse(b.GetLower().GetValue()), decimal.MustParse(b.GetUpper().GetValue())
	cl, ch := x.Cmp(lo), x.Cmp(hi)
	return (cl > 0 || (cl == 0 && b.GetLower().GetInclusive())) && (ch < 0 || (ch == 0 && b.GetUpper().GetInclusive()))
}

func BenchmarkCompute(b *testing.B) {
	v := version(b, "ombudsman", "2022")
	in := scores("input=90.00", "proses=95,50", "output=88.25", "pengaduan=92.10")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Compute(v, in); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkBandFor(b *testing.B) {
	v := version(b, "pekppp", "2023")
	totals := []decimal.Decimal{decimal.MustParse("4.51"), decimal.MustParse("0.50"), decimal.MustParse("3.00"), decimal.MustParse("1.01")}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, err := v.BandFor(totals[i%len(totals)]); err != nil {
			b.Fatal(err)
		}
		i++
	}
}
