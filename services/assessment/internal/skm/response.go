package skm

import (
	"fmt"
	"slices"

	"github.com/predikat-id/predikat/pkg/platform/fault"
)

// The answer scale: 1 (tidak baik) to 4 (sangat baik).
const (
	MinAnswer = 1
	MaxAnswer = 4
)

// Response is one respondent's answers: for each element code of the survey,
// an answer 1..4. ID identifies the response for deduplication; it is not
// part of any aggregate.
type Response struct {
	ID      string
	Answers map[string]int8
}

// CheckResponse checks r against the survey s (which must be valid, see
// Validate): a non-empty ID, every element of s answered with 1..4, and no
// answer for an element s does not have. The error is a fault.Invalid naming
// the element and the rule. Problems are reported one at a time, in a fixed
// order: the survey's elements in order, then unknown codes in sorted order,
// so the same response always gets the same message.
func CheckResponse(s Survey, r Response) error {
	return checkAnswers(r, len(s.Elements), func(i int) string { return s.Elements[i].Code })
}

// checkAnswers is CheckResponse for n elements whose codes code(i) gives, so
// that a Tally can check against its own codes.
func checkAnswers(r Response, n int, code func(int) string) error {
	if r.ID == "" {
		return fault.Invalidf("response id is empty: every response needs one, so that a response sent twice counts once")
	}
	for i := range n {
		c := code(i)
		v, ok := r.Answers[c]
		switch {
		case !ok:
			hint := ""
			if u := unknownCodes(r, n, code); len(u) > 0 {
				hint = fmt.Sprintf("; the response answers %q, which the survey does not have", u[0])
			}
			return fault.Invalidf("element %q: not answered (every element of the survey needs an answer %d-%d)%s",
				c, MinAnswer, MaxAnswer, hint)
		case v < MinAnswer || v > MaxAnswer:
			return fault.Invalidf("element %q: answer %d is outside %d-%d", c, v, MinAnswer, MaxAnswer)
		}
	}
	if len(r.Answers) == n {
		return nil
	}
	// Every element is answered, so the extra keys are codes the survey lacks.
	unknown := unknownCodes(r, n, code)
	return fault.Invalidf("element %q: not an element of this survey (%d unknown element(s))", unknown[0], len(unknown))
}

// unknownCodes returns the codes r answers that are not among the n codes,
// sorted. It is only called on a refusal, so its map costs nothing on the
// path of valid responses.
func unknownCodes(r Response, n int, code func(int) string) []string {
	known := make(map[string]bool, n)
	for i := range n {
		known[code(i)] = true
	}
	var unknown []string
	for c := range r.Answers {
		if !known[c] {
			unknown = append(unknown, c)
		}
	}
	slices.Sort(unknown)
	return unknown
}
