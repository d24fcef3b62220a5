package skm_test

import (
	"strings"
	"testing"

	"github.com/predikat-id/predikat/pkg/platform/fault"
	"github.com/predikat-id/predikat/services/assessment/internal/skm"
)

func TestStandard2017(t *testing.T) {
	s := skm.Standard2017()
	want := []string{"persyaratan", "prosedur", "waktu", "biaya", "produk", "kompetensi", "perilaku", "sarana", "pengaduan"}
	if got := strings.Join(s.Codes(), ","); got != strings.Join(want, ",") {
		t.Errorf("codes = %s, want %s", got, strings.Join(want, ","))
	}
	for _, e := range s.Elements {
		if e.Weight.String() != "0.111" {
			t.Errorf("element %s: weight %s, want 0.111", e.Code, e.Weight)
		}
	}
	if err := skm.Validate(s); err != nil {
		t.Errorf("Validate(Standard2017()) = %v", err)
	}
	// A new value each time: changing one does not change the next.
	s.Elements[0].Code = "changed"
	if skm.Standard2017().Elements[0].Code != "persyaratan" {
		t.Error("Standard2017 shares its elements between calls")
	}
}

func TestValidate(t *testing.T) {
	w := skm.MustWeight("1/3")
	el := func(codes ...string) skm.Survey {
		var s skm.Survey
		for _, c := range codes {
			s.Elements = append(s.Elements, skm.Element{Code: c, Weight: w})
		}
		return s
	}
	tests := []struct {
		name string
		s    skm.Survey
		want string // "" for valid; otherwise a fragment of the message
	}{
		{"three elements", el("a", "b", "c"), ""},
		// 9 × 0.111 = 0.999 and 3 × 1/3 = 1 are both accepted; so is a sum above 1.
		{"weights summing past 1", skm.Survey{Elements: []skm.Element{
			{Code: "a", Weight: skm.MustWeight("1")}, {Code: "b", Weight: skm.MustWeight("1")}}}, ""},
		{"no elements", skm.Survey{}, "no elements"},
		{"empty code", el("a", ""), "element 2: code is empty"},
		{"padded code", el("a", " b"), `code " b" has surrounding white space`},
		{"duplicate code", el("a", "b", "a"), `"a": code appears twice (elements 1 and 3)`},
		{"missing weight", skm.Survey{Elements: []skm.Element{{Code: "a"}}}, `"a": weight is missing or not positive`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := skm.Validate(tt.s)
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("Validate = %v, want nil", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want) || !fault.Is(err, fault.Invalid)):
				t.Errorf("Validate = %v, want a fault.Invalid containing %q", err, tt.want)
			}
		})
	}
}
