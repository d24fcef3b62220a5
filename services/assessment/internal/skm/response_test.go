package skm_test

import (
	"strings"
	"testing"

	"github.com/predikat-id/predikat/pkg/platform/fault"
	"github.com/predikat-id/predikat/services/assessment/internal/skm"
)

// answers9 returns a response to the 2017 survey with the nine answers in the
// survey's order.
func answers9(id string, a ...int8) skm.Response {
	r := skm.Response{ID: id, Answers: map[string]int8{}}
	for i, c := range skm.Standard2017().Codes() {
		r.Answers[c] = a[i]
	}
	return r
}

func TestCheckResponse(t *testing.T) {
	s := skm.Standard2017()
	with := func(edit func(r *skm.Response)) skm.Response {
		r := answers9("r1", 4, 3, 2, 1, 4, 3, 2, 1, 4)
		edit(&r)
		return r
	}
	tests := []struct {
		name string
		r    skm.Response
		want string // "" for accepted; otherwise the message must contain it
	}{
		{"every element 1-4", with(func(*skm.Response) {}), ""},
		{"answer 0", with(func(r *skm.Response) { r.Answers["waktu"] = 0 }), `element "waktu": answer 0 is outside 1-4`},
		{"answer 5", with(func(r *skm.Response) { r.Answers["biaya"] = 5 }), `element "biaya": answer 5 is outside 1-4`},
		{"negative answer", with(func(r *skm.Response) { r.Answers["sarana"] = -1 }), `element "sarana": answer -1 is outside 1-4`},
		{"missing element", with(func(r *skm.Response) { delete(r.Answers, "perilaku") }), `element "perilaku": not answered`},
		{"unknown element", with(func(r *skm.Response) { r.Answers["parkir"] = 3 }), `element "parkir": not an element of this survey`},
		// Several unknown codes: the first in sorted order is named, every time.
		{"unknown elements", with(func(r *skm.Response) { r.Answers["zz"] = 3; r.Answers["aa"] = 3 }),
			`element "aa": not an element of this survey (2 unknown element(s))`},
		// A misspelt code is both a missing element and an unknown one: the
		// survey's element is named first.
		{"misspelt element", with(func(r *skm.Response) { delete(r.Answers, "produk"); r.Answers["product"] = 4 }),
			`element "produk": not answered (every element of the survey needs an answer 1-4); the response answers "product", which the survey does not have`},
		{"no answers", skm.Response{ID: "r1"}, `element "persyaratan": not answered`},
		{"empty id", with(func(r *skm.Response) { r.ID = "" }), "response id is empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := skm.CheckResponse(s, tt.r)
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("CheckResponse = %v, want nil", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want) || !fault.Is(err, fault.Invalid)):
				t.Errorf("CheckResponse = %v, want a fault.Invalid containing %q", err, tt.want)
			}

			// Tally.Add applies the same check and counts nothing it refuses.
			tally := skm.NewTally(s)
			err = tally.Add(tt.r)
			switch {
			case tt.want == "" && (err != nil || tally.Respondents() != 1):
				t.Errorf("Add = %v with %d respondents, want nil and 1", err, tally.Respondents())
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want) || !tally.Equal(skm.NewTally(s))):
				t.Errorf("Add = %v, tally %+v; want an error containing %q and an empty tally", err, tally, tt.want)
			}
		})
	}
}
