package rollup

import (
	"errors"
	"testing"

	"github.com/predikat-id/predikat/pkg/decimal"
)

func units(totals ...string) []Unit {
	var out []Unit
	for i, t := range totals {
		out = append(out, Unit{InstitutionID: string(rune('a' + i)), Revision: 1, Total: decimal.MustParse(t), Respondents: int32(10 * (i + 1))})
	}
	return out
}

func TestCompute(t *testing.T) {
	cases := []struct {
		rule   Rule
		totals []string
		want   string
	}{
		// (96.64 + 93.95 + 91.08) / 3 = 93.89 exactly.
		{Mean, []string{"96.64", "93.95", "91.08"}, "93.89"},
		// 281.66 / 3 = 93.88666…: once, half away from zero.
		{Mean, []string{"96.64", "93.95", "91.07"}, "93.89"},
		// 281.65 / 3 = 93.88333…
		{Mean, []string{"96.64", "93.95", "91.06"}, "93.88"},
		// Weights 10, 20, 30: (966.4 + 1879 + 2732.4) / 60 = 92.96333…
		{WeightedMean, []string{"96.64", "93.95", "91.08"}, "92.96"},
		{Minimum, []string{"96.64", "93.95", "91.08"}, "91.08"},
		{Mean, []string{"99.57"}, "99.57"},
	}
	for _, c := range cases {
		got, err := Compute(c.rule, units(c.totals...), 2)
		if err != nil || got.String() != c.want {
			t.Errorf("%s of %v = %s, %v; want %s", c.rule, c.totals, got, err, c.want)
		}
	}
	if _, err := Compute(Mean, nil, 2); !errors.Is(err, ErrNoUnits) {
		t.Errorf("no units: %v", err)
	}
	u := units("90.00", "80.00")
	u[1].Respondents = 0
	if _, err := Compute(WeightedMean, u, 2); err == nil {
		t.Error("a unit without respondents weighed")
	}
}

func TestInputsChangeWithAnyRevision(t *testing.T) {
	a := units("90.00", "80.00")
	b := units("80.00", "90.00") // same ids and revisions: the totals are the revisions'
	if Inputs(Mean, a) != Inputs(Mean, b) {
		t.Error("the digest depends on the units' order")
	}
	c := units("90.00", "80.00")
	c[1].Revision = 2
	if Inputs(Mean, a) == Inputs(Mean, c) || Inputs(Mean, a) == Inputs(Minimum, a) {
		t.Error("a corrected unit or another rule kept the digest")
	}
}

func TestParseRule(t *testing.T) {
	for _, s := range []string{"mean", "weighted_mean", "minimum"} {
		if _, err := ParseRule(s); err != nil {
			t.Error(err)
		}
	}
	if _, err := ParseRule("median"); err == nil {
		t.Error("median accepted")
	}
}
