package server

import (
	"strings"
	"testing"

	"buf.build/go/protovalidate"

	assessmentv1 "github.com/predikat-id/predikat/pkg/gen/predikat/assessment/v1"
)

// A round's collection window is checked in order only when both ends are
// dates: a malformed date is reported once, as its own field's error.
func TestCollectionWindowRule(t *testing.T) {
	v, err := protovalidate.New()
	if err != nil {
		t.Fatal(err)
	}
	const order = "collection_end must not be before collection_start"
	for _, c := range []struct {
		start, end string
		want       []string // substrings of the error, none: valid
		not        string
	}{
		{"2024-03-01", "2024-11-30", nil, ""},
		{"", "2024-11-30", nil, ""},
		{"2024-03-01", "", nil, ""},
		{"2024-12-01", "2024-11-30", []string{order}, ""},
		{"2022-13-01", "2022-12-30", []string{"collection_start"}, order},
		{"2022-01-01", "2022-02-30x", []string{"collection_end"}, order},
	} {
		err := v.Validate(&assessmentv1.CreateRoundRequest{SchemeId: "ombudsman", Year: 2024, CollectionStart: c.start, CollectionEnd: c.end})
		if len(c.want) == 0 {
			if err != nil {
				t.Errorf("%q..%q: %v", c.start, c.end, err)
			}
			continue
		}
		if err == nil {
			t.Errorf("%q..%q: valid, want %v", c.start, c.end, c.want)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%q..%q: %v, want it to name %q", c.start, c.end, err, w)
			}
		}
		if c.not != "" && strings.Contains(err.Error(), c.not) {
			t.Errorf("%q..%q: %v also says %q", c.start, c.end, err, c.not)
		}
	}
}
