package store

import (
	"fmt"
	"math/big"
	"strconv"
	"strings"

	"github.com/predikat-id/predikat/services/ranking/internal/board"
)

// The scripts' replies, decoded by name. Lua tables arrive as []any,
// strings as string, integers as int64; a flat HGETALL as []any of pairs
// (or a map under RESP3). A position missing from a reply (a round without
// a generation answers short) reads as the zero value; anything malformed
// is an error.

// Positions in the standing reply: {OK, round meta, entry or "", boards,
// band meta, previous}.
const (
	standingMeta = iota + 1
	standingEntry
	standingBoards
	standingBand
	standingPrev
)

// Positions in one board of the standing reply: {id, count, higher, lower,
// update ms, group meta}; in the previous round part: {year, round meta,
// entry or "", then one {count, rank, score} per current board}.
const (
	sbID = iota
	sbCount
	sbHigher
	sbLower
	sbUpdate
	sbGroup

	prevYear  = 0
	prevMeta  = 1
	prevEntry = 2
	prevFirst = 3 // first per-board triple
	prevCount = 0 // in a triple
	prevRank  = 1
)

// Positions in the page reply: {OK, round meta, group meta, count, update
// ms, tie groups, below, bands hash}; a tie group is {score, rank, members,
// entries}.
const (
	pageMeta = iota + 1
	pageGroup
	pageCount
	pageUpdate
	pageTies
	pageBelow
	pageBands

	tieScore   = 0
	tieRank    = 1
	tieMembers = 2
	tieEntries = 3
)

// Positions in the statistics reply: {OK, round meta, group meta,
// population hash, count, min, max, low middle, high middle, bands hash,
// band max hash}.
const (
	statsMeta = iota + 1
	statsGroup
	statsPop
	statsCount
	statsMin
	statsMax
	statsLowMid
	statsHighMid
	statsBands
	statsBandMax
)

// Positions in the boards reply: {OK, round meta, groups hash, boards} with
// each board {id, count, update ms}.
const (
	boardsMeta = iota + 1
	boardsGroups
	boardsList

	biID     = 0
	biCount  = 1
	biUpdate = 2
)

// Positions in the swap reply: {OK, replaced "tag|gen"...}.
const swapReplaced = 1

// replyDecoder reads values out of a reply, keeping the first error.
type replyDecoder struct{ err error }

func (d *replyDecoder) fail(format string, args ...any) {
	if d.err == nil {
		d.err = fmt.Errorf("ranking script reply: "+format, args...)
	}
}

func (d *replyDecoder) str(v []any, i int) string {
	if i >= len(v) || v[i] == nil {
		return ""
	}
	switch x := v[i].(type) {
	case string:
		return x
	case int64:
		return strconv.FormatInt(x, 10)
	}
	d.fail("position %d: want a string, got %T", i, v[i])
	return ""
}

func (d *replyDecoder) int(v []any, i int) int64 {
	if i >= len(v) || v[i] == nil {
		return 0
	}
	switch x := v[i].(type) {
	case int64:
		return x
	case string:
		return d.parse(x)
	}
	d.fail("position %d: want an integer, got %T", i, v[i])
	return 0
}

// parse reads a decimal integer; "" (a field never written) is 0.
func (d *replyDecoder) parse(s string) int64 {
	if s == "" {
		return 0
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		d.fail("integer %q: %v", s, err)
	}
	return n
}

func (d *replyDecoder) big(s string) *big.Int {
	if s == "" {
		return new(big.Int)
	}
	b, ok := new(big.Int).SetString(s, 10)
	if !ok {
		d.fail("integer %q", s)
		return new(big.Int)
	}
	return b
}

func (d *replyDecoder) list(v []any, i int) []any {
	if i >= len(v) || v[i] == nil {
		return nil
	}
	l, ok := v[i].([]any)
	if !ok {
		d.fail("position %d: want a list, got %T", i, v[i])
	}
	return l
}

func (d *replyDecoder) hash(v []any, i int) map[string]string {
	m := map[string]string{}
	if i >= len(v) || v[i] == nil {
		return m
	}
	switch x := v[i].(type) {
	case []any:
		for j := 0; j+1 < len(x); j += 2 {
			m[fmt.Sprint(x[j])] = fmt.Sprint(x[j+1])
		}
	case map[any]any:
		for k, val := range x {
			m[fmt.Sprint(k)] = fmt.Sprint(val)
		}
	default:
		d.fail("position %d: want a hash, got %T", i, v[i])
	}
	return m
}

func (d *replyDecoder) round(v []any, i int, scheme string, year int32) board.Round {
	m := d.hash(v, i)
	r := board.Round{Scheme: scheme, Year: year, ID: m[roundID], Version: m[roundVersion], Final: m[roundState] == stateFinal, Gen: m[roundGen]}
	if r.ID == "" {
		r.ID = board.RoundID(scheme, year)
	}
	r.Precision = int(d.parse(m[roundPrecision]))
	return r
}

func (d *replyDecoder) entry(s string) board.Entry {
	e, err := DecodeEntry(s)
	if err != nil {
		d.fail("%v", err)
	}
	return e
}

func (d *replyDecoder) group(code, s string) board.Group {
	g, err := DecodeGroup(code, s)
	if err != nil {
		d.fail("%v", err)
	}
	return g
}

func (d *replyDecoder) band(code, s string) board.Band {
	b, err := DecodeBand(code, s)
	if err != nil {
		d.fail("%v", err)
	}
	return b
}

func (d *replyDecoder) bands(v []any, i int) map[string]board.Band {
	out := map[string]board.Band{}
	for code, val := range d.hash(v, i) {
		out[code] = d.band(code, val)
	}
	return out
}

// decodeStanding decodes the standing reply.
func decodeStanding(v []any, scheme string, year int32) (*board.Standing, error) {
	d := &replyDecoder{}
	st := &board.Standing{Round: d.round(v, standingMeta, scheme, year)}
	raw := d.str(v, standingEntry)
	if raw == "" {
		return st, d.err
	}
	st.Found, st.Entry = true, d.entry(raw)
	st.Band = d.band(st.Entry.Band, d.str(v, standingBand))
	for _, b := range d.list(v, standingBoards) {
		f, _ := b.([]any)
		id := d.str(f, sbID)
		group, _ := board.SplitID(id)
		st.Boards = append(st.Boards, board.BoardStanding{
			ID: id, Group: d.group(group, d.str(f, sbGroup)), Count: d.int(f, sbCount), Higher: d.int(f, sbHigher),
			Lower: d.int(f, sbLower), UpdateMs: d.int(f, sbUpdate),
		})
	}
	decodePrevious(d, st, d.list(v, standingPrev), scheme)
	return st, d.err
}

func decodePrevious(d *replyDecoder, st *board.Standing, prev []any, scheme string) {
	if len(prev) < prevFirst {
		return
	}
	st.PrevYear = int32(d.int(prev, prevYear))
	st.PrevRound = d.round(prev, prevMeta, scheme, st.PrevYear)
	if pe := d.str(prev, prevEntry); pe != "" {
		e := d.entry(pe)
		st.PrevEntry = &e
	}
	for i, b := range prev[prevFirst:] {
		if i < len(st.Boards) {
			f, _ := b.([]any)
			st.Boards[i].PrevCount, st.Boards[i].PrevRank = d.int(f, prevCount), d.int(f, prevRank)
		}
	}
}

// decodePage decodes the page reply.
func decodePage(v []any, scheme string, year int32, group string) (*board.TiePage, error) {
	d := &replyDecoder{}
	p := &board.TiePage{Round: d.round(v, pageMeta, scheme, year), Count: d.int(v, pageCount), UpdateMs: d.int(v, pageUpdate),
		Below: d.int(v, pageBelow), Bands: d.bands(v, pageBands)}
	if gm := d.str(v, pageGroup); gm != "" {
		g := d.group(group, gm)
		p.Group = &g
	}
	for _, t := range d.list(v, pageTies) {
		f, _ := t.([]any)
		tie := board.Tie{Score: d.parse(d.str(f, tieScore)), Rank: d.int(f, tieRank)}
		for _, m := range d.list(f, tieMembers) {
			tie.Members = append(tie.Members, fmt.Sprint(m))
		}
		for _, e := range d.list(f, tieEntries) {
			var ent board.Entry // "": a member without an entry, shown from the registry alone
			if s := fmt.Sprint(e); s != "" {
				ent = d.entry(s)
			}
			tie.Entries = append(tie.Entries, ent)
		}
		p.Ties = append(p.Ties, tie)
	}
	return p, d.err
}

// decodeStats decodes the statistics reply.
func decodeStats(v []any, scheme string, year int32, group string) (*board.BoardStats, error) {
	d := &replyDecoder{}
	st := &board.BoardStats{Round: d.round(v, statsMeta, scheme, year), Count: d.int(v, statsCount),
		BandCounts: map[string]int64{}, ReportedCounts: map[string]int64{}, Bands: d.bands(v, statsBands), BandMax: map[string]int64{}}
	if gm := d.str(v, statsGroup); gm != "" {
		g := d.group(group, gm)
		st.Group = &g
	}
	pop := d.hash(v, statsPop)
	st.Stats = board.Stats{N: d.parse(pop[popN]), Sum: d.big(pop[popSum]), SumSq: d.big(pop[popSumSq])}
	st.ReportedTotal = d.parse(pop[popReportedN])
	st.Synthetic = d.parse(pop[popSynthetic])
	st.UpdateMs = d.parse(pop[popTime])
	for k, val := range pop {
		if code, ok := strings.CutPrefix(k, popBand); ok {
			st.BandCounts[code] = d.parse(val)
		}
		if code, ok := strings.CutPrefix(k, popReported); ok {
			st.ReportedCounts[code] = d.parse(val)
		}
	}
	st.Min, st.Max = d.int(v, statsMin), d.int(v, statsMax)
	st.LowMid, st.HighMd = d.int(v, statsLowMid), d.int(v, statsHighMid)
	for code, val := range d.hash(v, statsBandMax) {
		st.BandMax[code] = d.parse(val)
	}
	return st, d.err
}

// decodeBoards decodes the boards reply.
func decodeBoards(v []any, scheme string, year int32) (board.Round, []board.BoardInfo, error) {
	d := &replyDecoder{}
	r := d.round(v, boardsMeta, scheme, year)
	groups := d.hash(v, boardsGroups)
	var out []board.BoardInfo
	for _, b := range d.list(v, boardsList) {
		f, _ := b.([]any)
		id := d.str(f, biID)
		g, _ := board.SplitID(id)
		out = append(out, board.BoardInfo{ID: id, Group: d.group(g, groups[g]), Count: d.int(f, biCount), UpdateMs: d.int(f, biUpdate)})
	}
	return r, out, d.err
}

// decodeSwap decodes the swap reply: the generations replaced.
func decodeSwap(v []any) ([]GenRef, error) {
	d := &replyDecoder{}
	if s := d.str(v, 0); s != replyOK {
		return nil, fmt.Errorf("rebuild mark lost before the swap (another replica took over?): %s", s)
	}
	var old []GenRef
	for _, x := range d.list(v, swapReplaced) {
		tag, gen, _ := strings.Cut(fmt.Sprint(x), "|")
		old = append(old, GenRef{Tag: tag, Gen: gen})
	}
	return old, d.err
}
