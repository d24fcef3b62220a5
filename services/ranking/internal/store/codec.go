package store

import (
	"fmt"
	"math/big"
	"strconv"
	"strings"

	"github.com/predikat-id/predikat/services/ranking/internal/board"
)

// The stored form of an entry: tab-separated fields in this order. The Lua
// scripts read some of them by these same positions (rendered into the
// scripts, see luaCommon), so moving a field here moves it there too.
const (
	fieldRevision = iota
	fieldScore    // unscaled, "" when band-only
	fieldSumSq    // square of the score, "" when band-only
	fieldBand
	fieldBasis // board.Basis as a number
	fieldBoards
	fieldSeq
	fieldTime
	fieldSynthetic // "1" for synthetic data, "" otherwise
	fieldName
	fieldKind
	fieldRegionCode
	fieldRegionName
	fieldProvince
	entryFields
)

// EncodeEntry returns the stored form of an entry.
func EncodeEntry(e board.Entry) string {
	return string(AppendEntry(nil, &e))
}

// AppendEntry appends the stored form of an entry to dst (EncodeEntry
// without an allocation per entry, for the bulk writer).
func AppendEntry(dst []byte, e *board.Entry) []byte {
	const sep = '\t'
	dst = strconv.AppendUint(dst, e.Revision, 10)
	dst = append(dst, sep)
	if e.Scored {
		dst = strconv.AppendInt(dst, e.Score, 10)
		dst = append(dst, sep)
		dst = appendSquare(dst, e.Score)
	} else {
		dst = append(dst, sep)
	}
	dst = append(dst, sep)
	dst = appendClean(dst, e.Band)
	dst = append(dst, sep)
	dst = strconv.AppendInt(dst, int64(e.Basis), 10)
	dst = append(dst, sep)
	for i, id := range e.Boards {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, id...)
	}
	dst = append(dst, sep)
	dst = strconv.AppendUint(dst, e.Seq, 10)
	dst = append(dst, sep)
	dst = strconv.AppendInt(dst, e.TimeMs, 10)
	dst = append(dst, sep)
	if e.Synthetic {
		dst = append(dst, '1')
	}
	dst = append(dst, sep)
	dst = appendClean(dst, e.Name)
	dst = append(dst, sep)
	dst = strconv.AppendInt(dst, int64(e.Kind), 10)
	dst = append(dst, sep)
	dst = appendClean(dst, e.RegionCode)
	dst = append(dst, sep)
	dst = appendClean(dst, e.RegionName)
	dst = append(dst, sep)
	return appendClean(dst, e.ProvinceCode)
}

// DecodeEntry is the inverse of EncodeEntry.
func DecodeEntry(s string) (board.Entry, error) {
	f := strings.Split(s, "\t")
	if len(f) < entryFields {
		return board.Entry{}, fmt.Errorf("stored entry has %d fields, want %d", len(f), entryFields)
	}
	d := fieldDecoder{}
	e := board.Entry{
		Revision: d.uint(f[fieldRevision]), Band: f[fieldBand], Basis: board.Basis(d.int(f[fieldBasis])),
		Seq: d.uint(f[fieldSeq]), TimeMs: d.int(f[fieldTime]), Synthetic: f[fieldSynthetic] == "1",
		Name: f[fieldName], Kind: board.Kind(d.int(f[fieldKind])),
		RegionCode: f[fieldRegionCode], RegionName: f[fieldRegionName], ProvinceCode: f[fieldProvince],
	}
	if f[fieldScore] != "" {
		e.Scored, e.Score = true, d.int(f[fieldScore])
	}
	if f[fieldBoards] != "" {
		e.Boards = strings.Split(f[fieldBoards], ",")
	}
	return e, d.err
}

// fieldDecoder parses numeric fields, keeping the first error.
type fieldDecoder struct{ err error }

func (d *fieldDecoder) int(s string) int64 {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil && d.err == nil {
		d.err = fmt.Errorf("stored entry field %q: %w", s, err)
	}
	return n
}

func (d *fieldDecoder) uint(s string) uint64 {
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil && d.err == nil {
		d.err = fmt.Errorf("stored entry field %q: %w", s, err)
	}
	return n
}

// EncodeGroup is a peer group's value in the round's groups hash: name, tab,
// the scopes as numbers separated by commas.
func EncodeGroup(g board.Group) string {
	sc := make([]string, 0, len(g.Scopes))
	for _, s := range g.Scopes {
		sc = append(sc, strconv.Itoa(int(s)))
	}
	return clean(g.Name) + "\t" + strings.Join(sc, ",")
}

// DecodeGroup is the inverse of EncodeGroup.
func DecodeGroup(code, v string) (board.Group, error) {
	name, sc, _ := strings.Cut(v, "\t")
	g := board.Group{Code: code, Name: name}
	if sc == "" {
		return g, nil
	}
	for s := range strings.SplitSeq(sc, ",") {
		n, err := strconv.Atoi(s)
		if err != nil {
			return g, fmt.Errorf("stored peer group %q: scope %q: %w", code, s, err)
		}
		g.Scopes = append(g.Scopes, board.Scope(n))
	}
	return g, nil
}

// EncodeBand is a band's value in the round's bands hash: label, tab, zone
// as a number.
func EncodeBand(b board.Band) string {
	return clean(b.Label) + "\t" + strconv.Itoa(int(b.Zone)) + "\t" + strconv.Itoa(b.Order)
}

// DecodeBand is the inverse of EncodeBand. An empty value is a band the
// round has no meta for.
func DecodeBand(code, v string) (board.Band, error) {
	if v == "" {
		return board.Band{Code: code}, nil
	}
	label, rest, _ := strings.Cut(v, "\t")
	// "label\tzone", or "label\tzone\torder" since bands have an order.
	zone, order, _ := strings.Cut(rest, "\t")
	z, err := strconv.Atoi(zone)
	if err != nil {
		return board.Band{Code: code, Label: label}, fmt.Errorf("stored band %q: zone %q: %w", code, zone, err)
	}
	b := board.Band{Code: code, Label: label, Zone: board.Zone(z)}
	if order != "" {
		if b.Order, err = strconv.Atoi(order); err != nil {
			return b, fmt.Errorf("stored band %q: order %q: %w", code, order, err)
		}
	}
	return b, nil
}

// appendSquare appends u*u in decimal. |u| <= board.MaxUnscaled keeps the
// square in an int64; a larger u (never stored: EncodeScore refuses it)
// still gets its exact square.
func appendSquare(dst []byte, u int64) []byte {
	if u <= board.MaxUnscaled && u >= -board.MaxUnscaled {
		return strconv.AppendInt(dst, u*u, 10)
	}
	b := big.NewInt(u)
	return b.Mul(b, b).Append(dst, 10)
}

// appendClean appends clean(s).
func appendClean(dst []byte, s string) []byte {
	if !strings.ContainsAny(s, "\t\n\r") {
		return append(dst, s...)
	}
	return append(dst, clean(s)...)
}

// clean keeps the field separators of the encodings out of free text.
func clean(s string) string {
	if !strings.ContainsAny(s, "\t\n\r") {
		return s
	}
	return strings.Map(func(r rune) rune {
		if r == '\t' || r == '\n' || r == '\r' {
			return ' '
		}
		return r
	}, s)
}
