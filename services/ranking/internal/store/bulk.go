package store

import (
	"bytes"
	"cmp"
	"context"
	"slices"
	"strconv"
	"strings"
	"unsafe"

	"github.com/predikat-id/predikat/services/ranking/internal/board"
)

// bulkFlushRecords is how many records a Bulk buffers before it sends them
// in one pipeline. Redis inserts a batch into a big sorted set much faster
// when the batch is large and sorted by score (consecutive inserts walk the
// same part of the skip list, which stays in cache), so batches are large;
// bulkFlushBytes bounds what one holds whatever the entries' size.
const (
	bulkFlushRecords = 16384
	bulkFlushBytes   = 8 << 20
)

// bulkCommandArgs bounds the members or fields of one ZADD or HSET: Redis
// runs a command to its end before serving anyone else, and the live
// queries of other boards should not wait behind one huge command.
const bulkCommandArgs = 4096

// Bulk writes new generations of rounds from records that are each the
// latest revision of their subject (a rebuild's snapshot): no revision
// compare is needed, so it writes with plain pipelined commands and keeps
// each board's totals in memory until Finish.
//
// It holds no state per record beyond the batch being filled and the one
// being written (each at most bulkFlushRecords records or about
// bulkFlushBytes), so its memory does not grow with the round: per board
// it keeps the totals and band counts, per round the groups and bands.
// Not safe for concurrent use.
type Bulk struct {
	s      *Store
	rounds map[string]*bulkRound
	last   *bulkRound // the round of the previous record (a rebuild reads round by round)

	batch    *bulkBatch
	spare    *bulkBatch // the batch a finished flush gave back, for reuse
	inflight chan flushDone
	// counts for the rebuild report
	Records, Entries, ReportedBand int64
}

// bulkBatch is the records buffered for one pipeline: the stored entries
// and members in one byte arena, and per key the pairs to write.
type bulkBatch struct {
	arena   []byte
	records int
	hashes  []*bulkRound // rounds with entries in this batch, in first-use order
	boards  []*bulkBoard // boards with members in this batch, in first-use order
	// per key, the entry or member references into arena (moved here from
	// the rounds and boards when the batch is sent)
	hsets [][]bulkField
	zadds [][]bulkMember
	keysH []string
	keysZ []string
	// what write builds the commands with, kept for the next batch
	strs   []string
	args   []any
	scores []byte
}

// span is a slice of a batch's arena.
type span struct{ off, n uint32 }

type bulkField struct{ field, value span }

type bulkMember struct {
	score  int64
	member span
}

type flushDone struct {
	b   *bulkBatch
	err error
}

type bulkRound struct {
	rk      string
	rec     board.Record // first record: scheme, year, round id, version, precision
	gen     string
	prefix  string
	boards  map[string]*bulkBoard
	groups  map[string]string
	bands   map[string]string
	bandmax map[string]int64
	// what the previous record said about groups and bands: the same
	// slices (or equal ones) are not encoded again
	lastBands     []board.Band
	written       map[string]board.Band  // the band each value of bands encodes
	writtenGroups map[string]board.Group // the group each value of groups encodes

	pending []bulkField // entries of the batch being filled
}

type bulkBoard struct {
	key      string
	n, rn    int64
	syn      int64 // synthetic records
	sum      exactSum
	sumsq    exactSum
	bands    map[string]int64
	reported map[string]int64
	t        int64
	pending  []bulkMember // members of the batch being filled
}

// NewBulk starts a bulk write.
func (s *Store) NewBulk() *Bulk {
	return &Bulk{s: s, rounds: map[string]*bulkRound{}, batch: &bulkBatch{}}
}

// Round returns the generation allocated to a round, allocating one (and
// recording it as pending) on first use.
func (b *Bulk) Round(ctx context.Context, scheme string, year int32) (string, error) {
	br, err := b.round(ctx, scheme, year)
	if err != nil {
		return "", err
	}
	return br.gen, nil
}

func (b *Bulk) round(ctx context.Context, scheme string, year int32) (*bulkRound, error) {
	if r := b.last; r != nil && r.rec.Scheme == scheme && r.rec.Year == year {
		return r, nil
	}
	rk := RoundKey(scheme, year)
	if r, ok := b.rounds[rk]; ok {
		b.last = r
		return r, nil
	}
	gen, err := b.s.NewGen(ctx)
	if err != nil {
		return nil, err
	}
	scheme = strings.Clone(scheme)
	tag := Tag(scheme, year)
	if err := b.s.AddPending(ctx, GenRef{Tag: tag, Gen: gen}); err != nil {
		return nil, err
	}
	r := &bulkRound{rk: rk, gen: gen, prefix: GenPrefix(tag, gen), boards: map[string]*bulkBoard{},
		groups: map[string]string{}, bands: map[string]string{}, bandmax: map[string]int64{}, written: map[string]board.Band{}, writtenGroups: map[string]board.Group{},
		rec: board.Record{Scheme: scheme, Year: year, RoundID: board.RoundID(scheme, year), Precision: -1}}
	b.rounds[rk] = r
	b.last = r
	return r, nil
}

// count adds an entry to the board's population: what the apply script
// adds to its population hash.
func (bb *bulkBoard) count(e *board.Entry) {
	if e.Scored {
		bb.n++
		bb.sum.add(e.Score)
		bb.sumsq.addSquare(e.Score)
	}
	count(bb.bands, e.Band)
	if e.Basis == board.BasisReportedBand {
		count(bb.reported, e.Band)
		bb.rn++
	}
	if e.Synthetic && e.Scored {
		bb.syn++ // of the scored entries, as the statistics count them
	}
	bb.t = max(bb.t, e.TimeMs)
}

// Add buffers one record, sending the buffer when it is full. Add keeps
// none of r's strings or slices: a caller may pass a record whose strings
// view a buffer it reuses afterwards.
func (b *Bulk) Add(ctx context.Context, r board.Record) error {
	br, err := b.round(ctx, r.Scheme, r.Year)
	if err != nil {
		return err
	}
	if br.rec.Precision < 0 {
		// round id, version and precision of the round
		br.rec = board.Record{Scheme: br.rec.Scheme, Year: br.rec.Year, RoundID: strings.Clone(r.RoundID),
			SchemeVersion: strings.Clone(r.SchemeVersion), Precision: r.Precision}
	}
	e := &r.Entry
	bt := b.batch
	member := bt.add(r.Institution)
	value := span{off: uint32(len(bt.arena))}
	bt.arena = AppendEntry(bt.arena, e)
	value.n = uint32(len(bt.arena)) - value.off
	if len(br.pending) == 0 {
		bt.hashes = append(bt.hashes, br)
	}
	br.pending = append(br.pending, bulkField{member, value})
	b.Records++
	if e.Basis == board.BasisReportedBand {
		b.ReportedBand++
	}
	for _, id := range e.Boards {
		bb := br.boards[id]
		if bb == nil {
			id = strings.Clone(id)
			bb = &bulkBoard{key: br.prefix + genZ + id, bands: map[string]int64{}, reported: map[string]int64{}}
			br.boards[id] = bb
		}
		if e.Scored {
			if len(bb.pending) == 0 {
				bt.boards = append(bt.boards, bb)
			}
			bb.pending = append(bb.pending, bulkMember{e.Score, member})
			b.Entries++
		}
		bb.count(e)
	}
	br.noteGroupsAndBands(&r)
	if e.Scored {
		if m, ok := br.bandmax[e.Band]; !ok {
			br.bandmax[strings.Clone(e.Band)] = e.Score
		} else if e.Score > m {
			br.bandmax[e.Band] = e.Score
		}
	}
	bt.records++
	if bt.records >= bulkFlushRecords || len(bt.arena) >= bulkFlushBytes {
		return b.Flush(ctx)
	}
	return nil
}

// add copies s into the arena.
func (bt *bulkBatch) add(s string) span {
	sp := span{off: uint32(len(bt.arena)), n: uint32(len(s))}
	bt.arena = append(bt.arena, s...)
	return sp
}

func (bt *bulkBatch) str(sp span) string {
	if sp.n == 0 {
		return ""
	}
	// The arena is not written again until the pipeline that reads these
	// strings has finished (the batch comes back through flushDone).
	return unsafe.String(&bt.arena[sp.off], int(sp.n))
}

func (bt *bulkBatch) bytes(sp span) []byte { return bt.arena[sp.off : sp.off+sp.n] }

// count adds one to m[k], copying k when it is new (k may view a buffer
// the caller reuses).
func count(m map[string]int64, k string) {
	if _, ok := m[k]; !ok {
		k = strings.Clone(k)
	}
	m[k]++
}

// noteGroupsAndBands records the round's peer groups and bands the record
// carries, with the outcome of writing every record's in turn (the last
// record naming a band or group wins; within a record, the band table wins
// over the record's own band). The records of a round carry the same few
// groups and table, so only what changes the outcome is encoded.
func (br *bulkRound) noteGroupsAndBands(r *board.Record) {
	for _, g := range r.Groups {
		if w, ok := br.writtenGroups[g.Code]; !ok || !sameGroup(w, g) {
			g = cloneGroup(g)
			br.writtenGroups[g.Code] = g
			br.groups[g.Code] = EncodeGroup(g)
		}
	}
	// The table's codes were written with the table's values when the
	// table was last seen, and nothing else writes them while it stays
	// the same (the record's own band is written below only when the
	// table lacks its code).
	if !slices.Equal(br.lastBands, r.Bands) {
		for _, bd := range r.Bands {
			br.setBand(bd)
		}
		br.lastBands = make([]board.Band, len(r.Bands))
		for i, bd := range r.Bands {
			br.lastBands[i] = cloneBand(bd)
		}
	}
	if !slices.ContainsFunc(r.Bands, func(bd board.Band) bool { return bd.Code == r.BandInfo.Code }) {
		br.setBand(r.BandInfo)
	}
}

// setBand writes a band's encoding unless the same band is written already.
func (br *bulkRound) setBand(bd board.Band) {
	if w, ok := br.written[bd.Code]; ok && w == bd {
		return
	}
	bd = cloneBand(bd)
	br.written[bd.Code] = bd
	br.bands[bd.Code] = EncodeBand(bd)
}

func sameGroup(x, y board.Group) bool {
	return x.Code == y.Code && x.Name == y.Name && slices.Equal(x.Scopes, y.Scopes)
}

func cloneGroup(g board.Group) board.Group {
	return board.Group{Code: strings.Clone(g.Code), Name: strings.Clone(g.Name), Scopes: slices.Clone(g.Scopes)}
}

func cloneBand(bd board.Band) board.Band {
	bd.Code, bd.Label = strings.Clone(bd.Code), strings.Clone(bd.Label)
	return bd
}

// Flush sends the buffered entries and sorted-set members. The pipeline
// runs in the background while the caller fills the next batch (one flush
// in flight at a time); Wait, Finish or the next Flush collect its result.
func (b *Bulk) Flush(ctx context.Context) error {
	if err := b.Wait(); err != nil {
		return err
	}
	bt := b.batch
	if bt.records == 0 {
		return nil
	}
	for _, br := range bt.hashes {
		bt.keysH = append(bt.keysH, br.prefix+genEntries)
		bt.hsets = append(bt.hsets, br.pending)
		br.pending = nil
	}
	for _, bb := range bt.boards {
		bt.keysZ = append(bt.keysZ, bb.key)
		bt.zadds = append(bt.zadds, bb.pending)
		bb.pending = nil
	}
	next := b.spare
	if next == nil {
		next = &bulkBatch{arena: make([]byte, 0, cap(bt.arena))}
	}
	b.batch, b.spare = next, nil
	done := make(chan flushDone, 1)
	b.inflight = done
	go func() { done <- flushDone{bt, b.write(ctx, bt)} }()
	return nil
}

// write sends one batch: each round's entries, then each board's members
// in score order, in commands of at most bulkCommandArgs pairs.
func (b *Bulk) write(ctx context.Context, bt *bulkBatch) error {
	// Every argument is a *string into strs (go-redis writes one without
	// boxing it: no allocation per argument), and every command's
	// arguments a slice of args; both are sized first so they never move.
	n := 0
	for _, fs := range bt.hsets {
		n += 2*len(fs) + 2*((len(fs)+bulkCommandArgs-1)/bulkCommandArgs)
	}
	members := 0
	for _, ms := range bt.zadds {
		members += len(ms)
		n += 2*len(ms) + 2*((len(ms)+bulkCommandArgs-1)/bulkCommandArgs)
	}
	if cap(bt.strs) < n {
		bt.strs, bt.args = make([]string, 0, n), make([]any, 0, n)
	}
	// Scores are exact integers, written as such (never through a float's
	// formatting), each at most 20 bytes: scores never grows, so the
	// strings viewing it stay put.
	if cap(bt.scores) < 20*members {
		bt.scores = make([]byte, 0, 20*members)
	}
	strs, args, scores := bt.strs[:0], bt.args[:0], bt.scores[:0]
	arg := func(s string) {
		strs = append(strs, s)
		args = append(args, &strs[len(strs)-1])
	}
	pipe := b.s.rdb.Pipeline()
	for i, fs := range bt.hsets {
		for part := range slices.Chunk(fs, bulkCommandArgs) {
			start := len(args)
			arg("hset")
			arg(bt.keysH[i])
			for _, f := range part {
				arg(bt.str(f.field))
				arg(bt.str(f.value))
			}
			pipe.Do(ctx, args[start:]...)
		}
	}
	for i, ms := range bt.zadds {
		// Score order, ties by member as Redis orders them: consecutive
		// inserts land next to each other in the skip list.
		slices.SortFunc(ms, func(x, y bulkMember) int {
			if c := cmp.Compare(x.score, y.score); c != 0 {
				return c
			}
			return bytes.Compare(bt.bytes(x.member), bt.bytes(y.member))
		})
		for part := range slices.Chunk(ms, bulkCommandArgs) {
			start := len(args)
			arg("zadd")
			arg(bt.keysZ[i])
			for _, m := range part {
				at := len(scores)
				scores = strconv.AppendInt(scores, m.score, 10)
				arg(unsafeString(scores[at:]))
				arg(bt.str(m.member))
			}
			pipe.Do(ctx, args[start:]...)
		}
	}
	_, err := pipe.Exec(ctx)
	clear(args) // let go of the pointers until the batch is used again
	return err
}

func unsafeString(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}

// Wait waits for the flush in flight, if any.
func (b *Bulk) Wait() error {
	if b.inflight == nil {
		return nil
	}
	d := <-b.inflight
	b.inflight = nil
	if d.err != nil {
		return d.err
	}
	bt := d.b
	// Hand the written pairs' slices back for the next batch to fill.
	for i, br := range bt.hashes {
		if br.pending == nil {
			br.pending = bt.hsets[i][:0]
		}
	}
	for i, bb := range bt.boards {
		if bb.pending == nil {
			bb.pending = bt.zadds[i][:0]
		}
	}
	bt.arena = bt.arena[:0]
	bt.records = 0
	clear(bt.hsets) // let the pairs go; the slices are reused below
	clear(bt.zadds)
	bt.hashes, bt.boards = bt.hashes[:0], bt.boards[:0]
	bt.hsets, bt.zadds, bt.keysH, bt.keysZ = bt.hsets[:0], bt.zadds[:0], bt.keysH[:0], bt.keysZ[:0]
	b.spare = bt
	return nil
}

// Finish flushes and writes each board's totals and each round's groups,
// bands and board list. It returns the rounds written, for the swap.
func (b *Bulk) Finish(ctx context.Context) ([]SwapRound, error) {
	if err := b.Flush(ctx); err != nil {
		return nil, err
	}
	if err := b.Wait(); err != nil {
		return nil, err
	}
	pipe := b.s.rdb.Pipeline()
	var out []SwapRound
	for _, br := range b.rounds {
		for id, bb := range br.boards {
			fields := []any{popN, bb.n, popSum, bb.sum.String(), popSumSq, bb.sumsq.String(), popReportedN, bb.rn, popTime, bb.t}
			if bb.syn > 0 {
				// As the apply script leaves it: no field until one is.
				fields = append(fields, popSynthetic, bb.syn)
			}
			for code, n := range bb.bands {
				fields = append(fields, popBand+code, n)
			}
			for code, n := range bb.reported {
				fields = append(fields, popReported+code, n)
			}
			pipe.HSet(ctx, br.prefix+genPop+id, fields...)
			pipe.SAdd(ctx, br.prefix+genBoards, id)
		}
		if len(br.groups) > 0 {
			pipe.HSet(ctx, br.prefix+genGroups, flat(br.groups)...)
		}
		if len(br.bands) > 0 {
			pipe.HSet(ctx, br.prefix+genBands, flat(br.bands)...)
		}
		if len(br.bandmax) > 0 {
			m := map[string]string{}
			for k, v := range br.bandmax {
				m[k] = strconv.FormatInt(v, 10)
			}
			pipe.HSet(ctx, br.prefix+genBandMax, flat(m)...)
		}
		out = append(out, SwapRound{Scheme: br.rec.Scheme, Year: br.rec.Year, RoundID: br.rec.RoundID, Version: br.rec.SchemeVersion,
			Gen: br.gen, Precision: br.rec.Precision})
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return nil, err
	}
	return out, nil
}

// Gens lists the generations this bulk write allocated.
func (b *Bulk) Gens() []GenRef {
	var out []GenRef
	for _, br := range b.rounds {
		out = append(out, GenRef{Tag: Tag(br.rec.Scheme, br.rec.Year), Gen: br.gen})
	}
	return out
}

// Boards is the number of boards written.
func (b *Bulk) Boards() int {
	n := 0
	for _, br := range b.rounds {
		n += len(br.boards)
	}
	return n
}

func flat(m map[string]string) []any {
	out := make([]any, 0, 2*len(m))
	for k, v := range m {
		out = append(out, k, v)
	}
	return out
}
