// Package board is the pure part of the ranking service: how boards are
// named, how an assessment event becomes a board entry, how an exact decimal
// becomes a sorted-set score, and the ranking arithmetic (competition ranks,
// tie order, percentiles, movement, statistics). Nothing here talks to Redis,
// NATS or the network; the store package does, and uses these definitions.
package board

import (
	"fmt"
	"strings"

	"github.com/predikat-id/predikat/pkg/decimal"
	"github.com/predikat-id/predikat/pkg/events"
	"github.com/predikat-id/predikat/pkg/platform/fold"
)

// National is the scope code of a national board; a province board's scope
// is the province code, e.g. "63".
const National = events.National

// MaxUnscaled bounds the unscaled value of a score: its square must fit an
// int64 (statistics keep a running sum of squares in Redis) and the value
// itself must be exact as a sorted-set score (a float64, exact below 2^53).
// At two decimals that is any score up to 30,370,004.99: far beyond every
// scale Predikat knows (0-100, 0-5).
const MaxUnscaled = 3_037_000_499

// ID names a board within a round: "<peer group>:<scope>", e.g. "pemda:63".
func ID(group, scope string) string { return group + ":" + scope }

// SplitID is the inverse of ID.
func SplitID(id string) (group, scope string) {
	group, scope, _ = strings.Cut(id, ":")
	return group, scope
}

// RoundID is the id the assessment service gives the round of a scheme and
// year, e.g. "ombudsman-2024".
func RoundID(scheme string, year int32) string { return fmt.Sprintf("%s-%d", scheme, year) }

// EncodeScore turns a total at the scheme's precision into the integer used
// as the sorted-set score: the unscaled value, 96.52 at precision 2 is 9652.
// It is exact or it fails: a total with more digits than the precision, or
// beyond MaxUnscaled, is an error, never rounded.
func EncodeScore(total string, precision int) (int64, error) {
	d, err := decimal.Parse(total)
	if err != nil {
		return 0, fmt.Errorf("total %q: %w", total, err)
	}
	d, err = d.Rescale(precision)
	if err != nil {
		return 0, fmt.Errorf("total %q at precision %d: %w", total, precision, err)
	}
	u := d.Unscaled()
	if u > MaxUnscaled || u < -MaxUnscaled {
		return 0, fmt.Errorf("total %q is beyond the range a board can rank exactly", total)
	}
	return u, nil
}

// FormatScore is the inverse of EncodeScore: 9652 at precision 2 is "96.52".
func FormatScore(unscaled int64, precision int) string {
	return decimal.New(unscaled, precision).String()
}

// Fold is the name key ties are ordered by: lower case, punctuation and runs
// of spaces folded to one space, so "Kota  Banjarbaru" and "kota banjarbaru"
// sort together (the registry lists institutions the same way).
func Fold(name string) string { return fold.Name(name) }

// Percentile is the percent of the other entries with a strictly lower
// score, with two decimals rounded half-up: "100.00" for the top (or only)
// entry, "0.00" for the bottom.
func Percentile(lower, outOf int64) string {
	if outOf <= 1 {
		return "100.00"
	}
	// lower * 100.00 / (outOf-1), in hundredths, rounded half-up.
	num := lower * 10000
	den := outOf - 1
	q := (2*num + den) / (2 * den)
	return decimal.New(q, 2).String()
}

// Move says how a rank changed against the previous round: previousRank 0
// means the entry was not ranked then (NEW).
func Move(rank, previousRank int32) (Movement, int32) {
	switch {
	case previousRank == 0:
		return MovementNew, 0
	case rank < previousRank:
		return MovementUp, previousRank - rank
	case rank > previousRank:
		return MovementDown, previousRank - rank
	}
	return MovementSame, 0
}

// ScopeAllowed reports whether a peer group with the given scopes has boards
// of scope ("00" national, else a province).
func ScopeAllowed(scopes []Scope, scope string) bool {
	want := ScopeProvince
	if scope == National {
		want = ScopeNational
	}
	for _, s := range scopes {
		if s == want {
			return true
		}
	}
	return false
}

// Group is what a round knows of a peer group, from the events.
type Group struct {
	Code   string
	Name   string
	Scopes []Scope
}

// Band is what a round knows of a band, from the events.
type Band struct {
	Code  string
	Label string
	Zone  Zone
	// Order is the band's place in the scheme, 1 for the best; 0 when the
	// events did not carry the scheme's band table (written before it).
	Order int
}
