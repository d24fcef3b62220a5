package skm

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"

	"github.com/predikat-id/predikat/pkg/platform/fault"
)

// MaxRespondents bounds a tally so that every answer total (at most 4 ×
// respondents) fits an int64 exactly; no real unit comes near it.
const MaxRespondents = math.MaxInt64 / MaxAnswer

// Tally is the aggregate of one unit's responses to one survey: for each
// element, how many respondents gave each answer 1..4, and the number of
// respondents. It holds no per-response state: its size depends only on the
// number of elements (four int64 counts each), never on how many responses it
// has seen, so a tally per unit stays small however many responses arrive.
// Deduplicating responses is therefore the caller's job (a tally cannot tell
// a response it has counted from a new one).
//
// Every respondent answers every element, so each element's counts sum to
// the number of respondents. Tallies of the same survey add up exactly
// (Merge): partial tallies per batch or per replica combine into the tally of
// all their responses, in any order.
//
// A Tally is not safe for concurrent use.
type Tally struct {
	codes       []string   // element codes in survey order; never modified
	counts      [][4]int64 // counts[i][a-1]: respondents who answered a on element i
	respondents int64
}

// NewTally returns an empty tally for the survey s, which must be valid (see
// Validate).
func NewTally(s Survey) *Tally {
	return &Tally{codes: s.Codes(), counts: make([][4]int64, len(s.Elements))}
}

// RestoreTally rebuilds a tally from its parts (as read back from storage):
// element codes in survey order, the number of respondents and, per element,
// the counts of answers 1..4. It checks what a tally always satisfies: codes
// non-empty and unique, one row of counts per code, counts not negative, each
// row summing to respondents, respondents at most MaxRespondents.
func RestoreTally(codes []string, respondents int64, counts [][4]int64) (*Tally, error) {
	if err := checkTallyCodes(codes); err != nil {
		return nil, err
	}
	if len(counts) != len(codes) {
		return nil, fault.Invalidf("tally: %d rows of counts for %d elements", len(counts), len(codes))
	}
	if respondents < 0 || respondents > MaxRespondents {
		return nil, fault.Invalidf("tally: respondents %d outside 0..%d", respondents, int64(MaxRespondents))
	}
	for i, row := range counts {
		var sum int64
		for a, c := range row {
			if c < 0 {
				return nil, fault.Invalidf("tally: element %q: count of answer %d is negative (%d)", codes[i], a+1, c)
			}
			if c > respondents-sum {
				return nil, fault.Invalidf("tally: element %q: counts exceed the %d respondents", codes[i], respondents)
			}
			sum += c
		}
		if sum != respondents {
			return nil, fault.Invalidf("tally: element %q: counts sum to %d, not the %d respondents",
				codes[i], sum, respondents)
		}
	}
	return &Tally{codes: slices.Clone(codes), counts: slices.Clone(counts), respondents: respondents}, nil
}

func checkTallyCodes(codes []string) error {
	if len(codes) == 0 {
		return fault.Invalidf("tally: no elements")
	}
	seen := make(map[string]bool, len(codes))
	for i, c := range codes {
		if c == "" || seen[c] {
			return fault.Invalidf("tally: element %d: code %q is empty or repeated", i+1, c)
		}
		seen[c] = true
	}
	return nil
}

// Add counts one response. It checks r first, as CheckResponse does against
// the tally's survey, and leaves the tally unchanged when r is refused.
func (t *Tally) Add(r Response) error {
	if err := checkAnswers(r, len(t.codes), func(i int) string { return t.codes[i] }); err != nil {
		return err
	}
	if t.respondents >= MaxRespondents {
		return fault.Preconditionf("tally: already %d respondents, the most a tally holds", t.respondents)
	}
	for i, c := range t.codes {
		t.counts[i][r.Answers[c]-MinAnswer]++
	}
	t.respondents++
	return nil
}

// Merge adds the counts of o to t. Both must be tallies of the same elements
// in the same order; otherwise, or if the sum would exceed MaxRespondents, t
// is left unchanged and the error says why.
func (t *Tally) Merge(o *Tally) error {
	if !slices.Equal(t.codes, o.codes) {
		return fault.Invalidf("tally: cannot merge tallies of different surveys (elements %v and %v)", t.codes, o.codes)
	}
	if o.respondents > MaxRespondents-t.respondents {
		return fault.Preconditionf("tally: %d + %d respondents is more than a tally holds", t.respondents, o.respondents)
	}
	// No count can overflow: each is at most its tally's respondents.
	for i := range t.counts {
		for a := range t.counts[i] {
			t.counts[i][a] += o.counts[i][a]
		}
	}
	t.respondents += o.respondents
	return nil
}

// Clone returns an independent copy of t.
func (t *Tally) Clone() *Tally {
	return &Tally{codes: t.codes, counts: slices.Clone(t.counts), respondents: t.respondents}
}

// Equal reports whether t and o are tallies of the same elements with the
// same counts.
func (t *Tally) Equal(o *Tally) bool {
	return t.respondents == o.respondents && slices.Equal(t.codes, o.codes) && slices.Equal(t.counts, o.counts)
}

// Respondents returns the number of responses counted.
func (t *Tally) Respondents() int64 { return t.respondents }

// Codes returns the element codes in survey order (a copy).
func (t *Tally) Codes() []string { return slices.Clone(t.codes) }

// Counts returns, for the element with index i in survey order, how many
// respondents answered 1, 2, 3 and 4.
func (t *Tally) Counts(i int) [4]int64 { return t.counts[i] }

// tallyJSON is the stored form of a tally.
type tallyJSON struct {
	Elements    []string   `json:"elements"`
	Respondents int64      `json:"respondents"`
	Counts      [][4]int64 `json:"counts"`
}

// MarshalJSON writes the tally as
// {"elements":[codes],"respondents":n,"counts":[[c1,c2,c3,c4],...]}.
func (t *Tally) MarshalJSON() ([]byte, error) {
	return json.Marshal(tallyJSON{Elements: t.codes, Respondents: t.respondents, Counts: t.counts})
}

// UnmarshalJSON reads what MarshalJSON writes, with the checks of
// RestoreTally.
func (t *Tally) UnmarshalJSON(data []byte) error {
	var j tallyJSON
	if err := json.Unmarshal(data, &j); err != nil {
		return fmt.Errorf("skm: reading a tally: %w", err)
	}
	r, err := RestoreTally(j.Elements, j.Respondents, j.Counts)
	if err != nil {
		return err
	}
	*t = *r
	return nil
}
