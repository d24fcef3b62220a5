package skm_test

import (
	"strings"
	"testing"

	"github.com/predikat-id/predikat/pkg/platform/fault"
	"github.com/predikat-id/predikat/services/assessment/internal/skm"
)

// exact19 is the 2017 survey with the exact weight 1/9 on each element, as a
// unit's own survey may state it.
func exact19() skm.Survey {
	s := skm.Standard2017()
	for i := range s.Elements {
		s.Elements[i].Weight = skm.MustWeight("1/9")
	}
	return s
}

// mixed4 are four responses to the nine elements (persyaratan, prosedur,
// waktu, biaya, produk, kompetensi, perilaku, sarana, pengaduan). By element:
//
//	persyaratan 4 4 3 3  total 14  mean 3.50
//	prosedur    4 3 3 3  total 13  mean 3.25
//	waktu       3 3 2 2  total 10  mean 2.50
//	biaya       4 4 4 4  total 16  mean 4.00
//	produk      3 3 3 4  total 13  mean 3.25
//	kompetensi  4 4 4 3  total 15  mean 3.75
//	perilaku    4 4 3 4  total 15  mean 3.75
//	sarana      2 3 3 3  total 11  mean 2.75
//	pengaduan   1 2 3 3  total  9  mean 2.25
//	                                sum of means 29.00
//
// Weights 0.111: 0.111 × 29 × 25 = 0.111 × 725 = 80.475 exactly, a half,
// rounded away from zero: 80.48 (80.475 at three decimals).
// Weights 1/9: 29/9 × 25 = 725/9 = 80.5555…: 80.56 (80.556 at three).
var mixed4 = []skm.Response{
	answers9("r1", 4, 4, 3, 4, 3, 4, 4, 2, 1),
	answers9("r2", 4, 3, 3, 4, 3, 4, 4, 3, 2),
	answers9("r3", 3, 3, 2, 4, 3, 4, 3, 3, 3),
	answers9("r4", 3, 3, 2, 4, 4, 3, 4, 3, 3),
}

func repeat(n int, a int8) []skm.Response {
	rs := make([]skm.Response, n)
	for i := range rs {
		rs[i] = answers9("r", a, a, a, a, a, a, a, a, a)
	}
	return rs
}

func TestIndexUnderBothWeightings(t *testing.T) {
	// every respondent answering 3, 3, 4 on every element: mean 10/3 each.
	thirds := append(repeat(2, 3), repeat(1, 4)...)
	tests := []struct {
		name      string
		responses []skm.Response
		precision int
		w0111     string // Standard2017: 0.111 each
		w19       string // 1/9 each
	}{
		// 9 × 0.111 × 4 × 25 = 99.9 | 9 × 1/9 × 4 × 25 = 100
		{"all 4", repeat(5, 4), 2, "99.90", "100.00"},
		// 9 × 0.111 × 1 × 25 = 24.975 -> 24.98 | 25
		{"all 1", repeat(3, 1), 2, "24.98", "25.00"},
		{"all 1, three decimals", repeat(3, 1), 3, "24.975", "25.000"},
		// 0.999 × 2 × 25 = 49.95 | 50
		{"all 2", repeat(1, 2), 2, "49.95", "50.00"},
		{"mixed", mixed4, 2, "80.48", "80.56"},
		{"mixed, three decimals", mixed4, 3, "80.475", "80.556"},
		{"mixed, whole numbers", mixed4, 0, "80", "81"},
		// Each mean is exactly 10/3: 0.999 × 10/3 × 25 = 249.75/3 = 83.25,
		// and 10/3 × 25 = 83.333… -> 83.33. Rounding the means first to
		// 3.33 would give 0.999 × 3.33 × 25 = 83.16675 -> 83.17: the index
		// uses the exact means.
		{"thirds", thirds, 2, "83.25", "83.33"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, c := range []struct {
				s    skm.Survey
				want string
			}{{skm.Standard2017(), tt.w0111}, {exact19(), tt.w19}} {
				tally := tallyOf(t, c.s, tt.responses)
				got, err := skm.Result(c.s, tally, tt.precision)
				if err != nil {
					t.Fatal(err)
				}
				if got.IndexString() != c.want || got.Index.Scale() != tt.precision {
					t.Errorf("weights %s: index %s (scale %d), want %s",
						c.s.Elements[0].Weight, got.IndexString(), got.Index.Scale(), c.want)
				}
				if got.Respondents != int64(len(tt.responses)) {
					t.Errorf("respondents = %d, want %d", got.Respondents, len(tt.responses))
				}
			}
		})
	}
}

func TestElementResults(t *testing.T) {
	s := skm.Standard2017()
	got, err := skm.Result(s, tallyOf(t, s, mixed4), 2)
	if err != nil {
		t.Fatal(err)
	}
	// Totals and means from the table above mixed4.
	want := []struct {
		code   string
		counts [4]int64
		total  int64
		mean   string
	}{
		{"persyaratan", [4]int64{0, 0, 2, 2}, 14, "3.50"},
		{"prosedur", [4]int64{0, 0, 3, 1}, 13, "3.25"},
		{"waktu", [4]int64{0, 2, 2, 0}, 10, "2.50"},
		{"biaya", [4]int64{0, 0, 0, 4}, 16, "4.00"},
		{"produk", [4]int64{0, 0, 3, 1}, 13, "3.25"},
		{"kompetensi", [4]int64{0, 0, 1, 3}, 15, "3.75"},
		{"perilaku", [4]int64{0, 0, 1, 3}, 15, "3.75"},
		{"sarana", [4]int64{0, 1, 3, 0}, 11, "2.75"},
		{"pengaduan", [4]int64{1, 1, 2, 0}, 9, "2.25"},
	}
	if len(got.Elements) != len(want) {
		t.Fatalf("%d elements, want %d", len(got.Elements), len(want))
	}
	for i, w := range want {
		e := got.Elements[i]
		if e.Code != w.code || e.Counts != w.counts || e.Total != w.total || e.Mean.StringFixed(2) != w.mean ||
			e.Weight.String() != "0.111" {
			t.Errorf("element %d = %s %v total %d mean %s weight %s; want %s %v %d %s 0.111",
				i, e.Code, e.Counts, e.Total, e.Mean, e.Weight, w.code, w.counts, w.total, w.mean)
		}
	}
}

func TestIndexOtherWeights(t *testing.T) {
	// A tenth element at 1/10 each, the mixed answers plus kebersihan 4 4 4 4
	// (mean 4): sum of means 29 + 4 = 33; 33/10 × 25 = 82.5 -> 82.50.
	ten := exact19()
	for i := range ten.Elements {
		ten.Elements[i].Weight = skm.MustWeight("1/10")
	}
	ten.Elements = append(ten.Elements, skm.Element{Code: "kebersihan", Weight: skm.MustWeight("1/10")})
	var rs []skm.Response
	for _, r := range mixed4 {
		a := map[string]int8{"kebersihan": 4}
		for k, v := range r.Answers {
			a[k] = v
		}
		rs = append(rs, skm.Response{ID: r.ID, Answers: a})
	}
	if got, err := skm.Result(ten, tallyOf(t, ten, rs), 2); err != nil || got.IndexString() != "82.50" {
		t.Errorf("ten elements at 1/10: %v, %v; want 82.50", got.IndexString(), err)
	}

	// Unequal fractions 1/6, 1/3, 1/2 and three respondents:
	//	a 1 2 2  total  5  mean 5/3  = 1.67
	//	b 3 3 4  total 10  mean 10/3 = 3.33
	//	c 4 4 4  total 12  mean 4    = 4.00
	// index = 25 × (1/6 × 5/3 + 1/3 × 10/3 + 1/2 × 4)
	//       = 25 × (5/18 + 20/18 + 36/18) = 25 × 61/18 = 1525/18 = 84.7222…
	abc := skm.Survey{Elements: []skm.Element{
		{Code: "a", Weight: skm.MustWeight("1/6")},
		{Code: "b", Weight: skm.MustWeight("1/3")},
		{Code: "c", Weight: skm.MustWeight("1/2")},
	}}
	tally := tallyOf(t, abc, []skm.Response{
		{ID: "1", Answers: map[string]int8{"a": 1, "b": 3, "c": 4}},
		{ID: "2", Answers: map[string]int8{"a": 2, "b": 3, "c": 4}},
		{ID: "3", Answers: map[string]int8{"a": 2, "b": 4, "c": 4}},
	})
	for precision, want := range map[int]string{2: "84.72", 3: "84.722", 9: "84.722222222"} {
		got, err := skm.Result(abc, tally, precision)
		if err != nil || got.IndexString() != want {
			t.Errorf("1/6, 1/3, 1/2 at %d decimals: %s, %v; want %s", precision, got.IndexString(), err, want)
		}
	}
	got, _ := skm.Result(abc, tally, 3)
	if m := []string{got.Elements[0].Mean.String(), got.Elements[1].Mean.String(), got.Elements[2].Mean.String()}; strings.Join(m, " ") != "1.667 3.333 4.000" {
		t.Errorf("means at 3 decimals = %v, want 1.667 3.333 4.000", m)
	}

	// A mean on a half at the display precision rounds away from zero:
	// answers 1 1 1 2 2 4 3 3, total 17, mean 17/8 = 2.125 -> 2.13; with
	// weight 1 the index is 2.125 × 25 = 53.125 -> 53.13.
	one := skm.Survey{Elements: []skm.Element{{Code: "x", Weight: skm.MustWeight("1")}}}
	t1 := skm.NewTally(one)
	for _, a := range []int8{1, 1, 1, 2, 2, 4, 3, 3} {
		if err := t1.Add(skm.Response{ID: "r", Answers: map[string]int8{"x": a}}); err != nil {
			t.Fatal(err)
		}
	}
	if got, err := skm.Result(one, t1, 2); err != nil || got.Elements[0].Mean.String() != "2.13" || got.IndexString() != "53.13" {
		t.Errorf("one element: mean %s index %s, %v; want 2.13 and 53.13", got.Elements[0].Mean, got.IndexString(), err)
	}
}

func TestResultRefusals(t *testing.T) {
	s := skm.Standard2017()
	full := tallyOf(t, s, mixed4)
	reordered := skm.Standard2017()
	reordered.Elements[0], reordered.Elements[1] = reordered.Elements[1], reordered.Elements[0]
	tests := []struct {
		name      string
		s         skm.Survey
		tally     *skm.Tally
		precision int
		kind      fault.Kind
		want      string
	}{
		{"no respondents", s, skm.NewTally(s), 2, fault.Precondition, "no respondents"},
		{"elements in another order", reordered, full, 2, fault.Invalid, "are not the survey's"},
		{"other elements", oneElement(), full, 2, fault.Invalid, "are not the survey's"},
		{"invalid survey", skm.Survey{}, full, 2, fault.Invalid, "no elements"},
		{"precision too large", s, full, 10, fault.Invalid, "precision 10 outside 0..9"},
		{"negative precision", s, full, -1, fault.Invalid, "precision -1"},
	}
	for _, tt := range tests {
		if _, err := skm.Result(tt.s, tt.tally, tt.precision); err == nil || !fault.Is(err, tt.kind) ||
			!strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: Result = %v, want a fault of kind %d containing %q", tt.name, err, tt.kind, tt.want)
		}
	}
}

func oneElement() skm.Survey {
	return skm.Survey{Elements: []skm.Element{{Code: "a", Weight: skm.MustWeight("1")}}}
}
