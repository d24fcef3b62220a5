package board

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Candidate is an entry fetched for a leaderboard page. Pages are built from
// whole tie groups (every entry sharing a score), each with its competition
// rank: 1 + the number of entries with a strictly better score.
type Candidate struct {
	ID    string
	Score int64
	Rank  int64
	Name  string // current name, for the tie order
}

// Cursor is the keyset position after the last entry of a page.
type Cursor struct {
	Score int64
	Name  string // folded
	ID    string
}

// CursorOf is the cursor just after c.
func CursorOf(c Candidate) Cursor { return Cursor{Score: c.Score, Name: Fold(c.Name), ID: c.ID} }

// String encodes the cursor for a page token.
func (c Cursor) String() string {
	return strconv.FormatInt(c.Score, 10) + "\t" + c.Name + "\t" + c.ID
}

// ParseCursor is the inverse of String.
func ParseCursor(s string) (Cursor, error) {
	f := strings.SplitN(s, "\t", 3)
	if len(f) != 3 {
		return Cursor{}, fmt.Errorf("cursor %q", s)
	}
	n, err := strconv.ParseInt(f[0], 10, 64)
	if err != nil {
		return Cursor{}, fmt.Errorf("cursor %q: %w", s, err)
	}
	return Cursor{Score: n, Name: f[1], ID: f[2]}, nil
}

// Compare orders entries as a leaderboard lists them: better score first,
// then by folded name, then by id.
func Compare(a, b Candidate) int {
	if c := cmp.Compare(b.Score, a.Score); c != 0 {
		return c
	}
	if c := cmp.Compare(Fold(a.Name), Fold(b.Name)); c != 0 {
		return c
	}
	return cmp.Compare(a.ID, b.ID)
}

func after(c Candidate, cur Cursor) bool {
	if c.Score != cur.Score {
		return c.Score < cur.Score
	}
	if n := Fold(c.Name); n != cur.Name {
		return n > cur.Name
	}
	return c.ID > cur.ID
}

// Page orders the candidates, drops those at or before the cursor (nil for
// the first page) and returns at most size of them, and whether candidates
// were left over.
func Page(cands []Candidate, cur *Cursor, size int) (page []Candidate, more bool) {
	slices.SortFunc(cands, Compare)
	for _, c := range cands {
		if cur != nil && !after(c, *cur) {
			continue
		}
		if len(page) == size {
			return page, true
		}
		page = append(page, c)
	}
	return page, false
}
