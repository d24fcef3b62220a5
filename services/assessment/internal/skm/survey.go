package skm

import (
	"math/big"
	"strings"

	"github.com/predikat-id/predikat/pkg/platform/fault"
)

// The nine elements (unsur) of PermenPANRB 14/2017.
const (
	Persyaratan = "persyaratan" // requirements
	Prosedur    = "prosedur"    // system, mechanism and procedure
	Waktu       = "waktu"       // completion time
	Biaya       = "biaya"       // cost or tariff
	Produk      = "produk"      // product: specification of the service
	Kompetensi  = "kompetensi"  // competence of the staff
	Perilaku    = "perilaku"    // conduct of the staff
	Sarana      = "sarana"      // facilities and infrastructure
	Pengaduan   = "pengaduan"   // handling of complaints, suggestions and feedback
)

// Element is one element (unsur) of a survey: a code naming it in responses
// and its weight in the index.
type Element struct {
	Code   string
	Weight Weight
}

// Survey is a survey definition: its elements in order. The order is the
// order of results and tallies; responses name elements by code.
type Survey struct {
	Elements []Element
}

// Weight2017 is the regulation's published weight of each of its nine
// elements: 0.111, as units compute with it (see the package documentation).
var Weight2017 = MustWeight("0.111")

// Standard2017 returns the survey of PermenPANRB 14/2017: the nine elements,
// each weighted 0.111. The weights sum to 0.999, so all answers of 4 give
// 99.90, as units publish. The result is a new value the caller may change.
func Standard2017() Survey {
	codes := []string{Persyaratan, Prosedur, Waktu, Biaya, Produk, Kompetensi, Perilaku, Sarana, Pengaduan}
	s := Survey{Elements: make([]Element, len(codes))}
	for i, c := range codes {
		s.Elements[i] = Element{Code: c, Weight: Weight2017}
	}
	return s
}

// Codes returns the element codes in order.
func (s Survey) Codes() []string {
	codes := make([]string, len(s.Elements))
	for i, e := range s.Elements {
		codes[i] = e.Code
	}
	return codes
}

// Validate checks a survey definition: at least one element; each code
// non-empty, without surrounding white space (a code must match a response
// field exactly) and unique; each weight positive.
//
// The weights need not sum to 1: the regulation's own nine weights of 0.111
// sum to 0.999, and that is what units compute with. A unit's survey may state
// exact fractions that do sum to 1 (1/9 each, or 1/10 each with a tenth
// element); either is accepted as stated.
func Validate(s Survey) error {
	if len(s.Elements) == 0 {
		return fault.Invalidf("survey has no elements")
	}
	seen := make(map[string]int, len(s.Elements))
	for i, e := range s.Elements {
		switch {
		case e.Code == "":
			return fault.Invalidf("survey element %d: code is empty", i+1)
		case strings.TrimSpace(e.Code) != e.Code:
			return fault.Invalidf("survey element %d: code %q has surrounding white space", i+1, e.Code)
		case !e.Weight.IsPositive():
			return fault.Invalidf("survey element %q: weight is missing or not positive", e.Code)
		}
		if j, dup := seen[e.Code]; dup {
			return fault.Invalidf("survey element %q: code appears twice (elements %d and %d)", e.Code, j+1, i+1)
		}
		seen[e.Code] = i
	}
	return nil
}

// ParseSurvey reads a survey as stated: n elements, element(i) giving the
// code and the weight as written ("0.111", "1/9"), then validated (see
// Validate).
func ParseSurvey(n int, element func(i int) (code, weight string)) (Survey, error) {
	s := Survey{Elements: make([]Element, n)}
	for i := range n {
		code, weight := element(i)
		w, err := ParseWeight(weight)
		if err != nil {
			return Survey{}, fault.Invalidf("element %d (%s): %v", i+1, code, err)
		}
		s.Elements[i] = Element{Code: code, Weight: w}
	}
	if err := Validate(s); err != nil {
		return Survey{}, err
	}
	return s, nil
}

// WeightSum is the exact sum of the weights: 1 for exact fractions, 0.999
// for the regulation's nine of 0.111; over 1 would put an index past 100.
func (s Survey) WeightSum() *big.Rat {
	sum := new(big.Rat)
	for _, e := range s.Elements {
		sum.Add(sum, e.Weight.Rat())
	}
	return sum
}
