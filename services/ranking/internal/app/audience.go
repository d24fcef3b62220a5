package app

import (
	"github.com/predikat-id/predikat/pkg/platform/fault"
	"github.com/predikat-id/predikat/services/ranking/internal/board"
)

// Audience is who a read is for. The zero value is the full audience,
// admitted with the method's own permission: it sees provisional boards
// too. A published-only reader was admitted with the method's
// published-only permission alone; provisional ranks may still move, so it
// sees the boards of FINAL rounds (RoundPublished applied) and nothing of
// the others.
type Audience struct {
	PublishedOnly bool
	Lacking       string // the permission that would show provisional boards
}

// sees reports whether the audience may see anything of round r.
func (a Audience) sees(r board.Round) bool { return !a.PublishedOnly || r.Final }

// admit is nil when the audience may see round r, else PermissionDenied
// naming the rule and the permission that would lift it.
func (a Audience) admit(r board.Round) error {
	if a.sees(r) {
		return nil
	}
	return fault.Deniedf("%s %d boards are provisional (the round is not published): they need permission %q", r.Scheme, r.Year, a.Lacking)
}

// Admit is admit for callers outside the application layer that keep an
// answer and serve it again: the audience is judged on every call, with
// the round as the answer was read.
func (a Audience) Admit(r board.Round) error { return a.admit(r) }
