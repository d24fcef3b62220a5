package skm_test

import (
	"encoding/json"
	"testing"

	"github.com/predikat-id/predikat/pkg/decimal"
	"github.com/predikat-id/predikat/pkg/platform/fault"
	"github.com/predikat-id/predikat/services/assessment/internal/skm"
)

func TestParseWeight(t *testing.T) {
	tests := []struct {
		in       string
		num, den int64
		str      string
	}{
		{"0.111", 111, 1000, "0.111"},
		{"0,111", 111, 1000, "0.111"},
		{"0.1110", 111, 1000, "0.111"},
		{"1/9", 1, 9, "1/9"},
		{"2/18", 1, 9, "1/9"},
		{" 1 / 10 ", 1, 10, "0.1"},
		{"1/10", 1, 10, "0.1"},
		{"0.1", 1, 10, "0.1"},
		{"1", 1, 1, "1"},
		{"3/8", 3, 8, "0.375"},
		{"1/1024", 1, 1024, "1/1024"}, // 0.0009765625 needs 10 decimals: kept as a fraction
		{"1/512", 1, 512, "0.001953125"},
	}
	for _, tt := range tests {
		w, err := skm.ParseWeight(tt.in)
		if err != nil {
			t.Errorf("ParseWeight(%q): %v", tt.in, err)
			continue
		}
		if w.Num() != tt.num || w.Den() != tt.den || w.String() != tt.str {
			t.Errorf("ParseWeight(%q) = %d/%d %q, want %d/%d %q", tt.in, w.Num(), w.Den(), w, tt.num, tt.den, tt.str)
		}
		if back := skm.MustWeight(w.String()); back != w {
			t.Errorf("ParseWeight(%q).String() = %q reads back as %v", tt.in, w, back)
		}
	}
	for _, bad := range []string{"", "0", "-0.111", "1/0", "0/9", "-1/9", "1/-9", "a/9", "1/9/2", "0.1234567891", "x"} {
		if w, err := skm.ParseWeight(bad); err == nil || !fault.Is(err, fault.Invalid) {
			t.Errorf("ParseWeight(%q) = %v, %v; want a fault.Invalid", bad, w, err)
		}
	}
}

func TestWeightConstructors(t *testing.T) {
	if w, err := skm.NewWeight(3, 27); err != nil || w != skm.MustWeight("1/9") {
		t.Errorf("NewWeight(3, 27) = %v, %v; want 1/9", w, err)
	}
	if w, err := skm.WeightFromDecimal(decimal.MustParse("0.500")); err != nil || w.Num() != 1 || w.Den() != 2 {
		t.Errorf("WeightFromDecimal(0.500) = %v, %v; want 1/2", w, err)
	}
	if _, err := skm.WeightFromDecimal(decimal.Decimal{}); err == nil {
		t.Error("WeightFromDecimal(0) accepted")
	}
	var zero skm.Weight
	if zero.IsPositive() || zero.String() != "0" || zero.Rat().Sign() != 0 {
		t.Errorf("zero Weight: positive %v, %q, rat %v", zero.IsPositive(), zero, zero.Rat())
	}
	if r := skm.MustWeight("0.111").Rat(); r.RatString() != "111/1000" {
		t.Errorf("0.111 as a rational = %s", r.RatString())
	}
}

func TestWeightJSON(t *testing.T) {
	in := skm.Survey{Elements: []skm.Element{
		{Code: "a", Weight: skm.MustWeight("1/9")},
		{Code: "b", Weight: skm.MustWeight("0.111")},
	}}
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"Elements":[{"Code":"a","Weight":"1/9"},{"Code":"b","Weight":"0.111"}]}`; string(b) != want {
		t.Errorf("JSON = %s, want %s", b, want)
	}
	var out skm.Survey
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	if out.Elements[0] != in.Elements[0] || out.Elements[1] != in.Elements[1] {
		t.Errorf("round trip = %+v, want %+v", out, in)
	}
	if err := json.Unmarshal([]byte(`{"Elements":[{"Code":"a","Weight":"1/0"}]}`), &out); err == nil {
		t.Error("a weight 1/0 was read")
	}
}
