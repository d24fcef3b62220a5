package store

import (
	"context"
	"math/big"
	"strconv"

	"github.com/redis/go-redis/v9"

	"github.com/predikat-id/predikat/services/ranking/internal/board"
)

// bulkFlushRecords is how many records a Bulk buffers before it sends them
// in one pipeline: large enough to amortise round trips, small enough that
// each pipeline finishes well inside the client's read timeout.
const bulkFlushRecords = 2000

// Bulk writes new generations of rounds from records that are each the
// latest revision of their subject (a rebuild's snapshot): no revision
// compare is needed, so it writes with plain pipelined commands and keeps
// each board's totals in memory until Finish. Not safe for concurrent use.
type Bulk struct {
	s      *Store
	rounds map[string]*bulkRound
	// buffered commands
	entries  map[string][]any     // gen prefix -> HSET field/value pairs
	zadds    map[string][]redis.Z // sorted-set key -> members
	pending  int
	inflight chan error // the previous flush, running while the next batch fills
	// counts for the rebuild report
	Records, Entries, ReportedBand int64
}

type bulkRound struct {
	rec     board.Record // first record: scheme, year, round id, version, precision
	gen     string
	prefix  string
	boards  map[string]*bulkBoard
	groups  map[string]string
	bands   map[string]string
	bandmax map[string]int64
}

type bulkBoard struct {
	n, rn      int64
	sum, sumsq big.Int
	bands      map[string]int64
	reported   map[string]int64
	t          int64
}

// NewBulk starts a bulk write.
func (s *Store) NewBulk() *Bulk {
	return &Bulk{s: s, rounds: map[string]*bulkRound{}, entries: map[string][]any{}, zadds: map[string][]redis.Z{}}
}

// Round returns the generation allocated to a round, allocating one (and
// recording it as pending) on first use.
func (b *Bulk) Round(ctx context.Context, scheme string, year int32) (string, error) {
	rk := RoundKey(scheme, year)
	if r, ok := b.rounds[rk]; ok {
		return r.gen, nil
	}
	gen, err := b.s.NewGen(ctx)
	if err != nil {
		return "", err
	}
	tag := Tag(scheme, year)
	if err := b.s.AddPending(ctx, GenRef{Tag: tag, Gen: gen}); err != nil {
		return "", err
	}
	b.rounds[rk] = &bulkRound{gen: gen, prefix: GenPrefix(tag, gen), boards: map[string]*bulkBoard{},
		groups: map[string]string{}, bands: map[string]string{}, bandmax: map[string]int64{},
		rec: board.Record{Scheme: scheme, Year: year, RoundID: board.RoundID(scheme, year), Precision: -1}}
	return gen, nil
}

// Add buffers one record, flushing when the buffer is full.
func (b *Bulk) Add(ctx context.Context, r board.Record) error {
	if _, err := b.Round(ctx, r.Scheme, r.Year); err != nil {
		return err
	}
	br := b.rounds[RoundKey(r.Scheme, r.Year)]
	if br.rec.Precision < 0 {
		br.rec = r // round id, version and precision of the round
	}
	e := r.Entry
	b.entries[br.prefix] = append(b.entries[br.prefix], r.Institution, EncodeEntry(e))
	b.Records++
	if e.Basis == board.BasisReportedBand {
		b.ReportedBand++
	}
	for _, id := range e.Boards {
		bb := br.boards[id]
		if bb == nil {
			bb = &bulkBoard{bands: map[string]int64{}, reported: map[string]int64{}}
			br.boards[id] = bb
		}
		if e.Scored {
			bb.n++
			bb.sum.Add(&bb.sum, big.NewInt(e.Score))
			sq := big.NewInt(e.Score)
			bb.sumsq.Add(&bb.sumsq, sq.Mul(sq, sq))
			key := br.prefix + genZ + id
			b.zadds[key] = append(b.zadds[key], redis.Z{Score: float64(e.Score), Member: r.Institution})
			b.Entries++
		}
		bb.bands[e.Band]++
		if e.Basis == board.BasisReportedBand {
			bb.reported[e.Band]++
			bb.rn++
		}
		bb.t = max(bb.t, e.TimeMs)
	}
	for _, g := range r.Groups {
		br.groups[g.Code] = EncodeGroup(g)
	}
	br.bands[r.BandInfo.Code] = EncodeBand(r.BandInfo)
	for _, b := range r.Bands {
		br.bands[b.Code] = EncodeBand(b)
	}
	if e.Scored {
		if m, ok := br.bandmax[e.Band]; !ok || e.Score > m {
			br.bandmax[e.Band] = e.Score
		}
	}
	b.pending++
	if b.pending >= bulkFlushRecords {
		return b.Flush(ctx)
	}
	return nil
}

// Flush sends the buffered entries and sorted-set members. The pipeline
// runs in the background while the caller fills the next batch (one flush
// in flight at a time); Wait, Finish or the next Flush collect its result.
func (b *Bulk) Flush(ctx context.Context) error {
	if err := b.Wait(); err != nil {
		return err
	}
	if b.pending == 0 {
		return nil
	}
	entries, zadds := b.entries, b.zadds
	b.entries, b.zadds = map[string][]any{}, map[string][]redis.Z{}
	b.pending = 0
	done := make(chan error, 1)
	b.inflight = done
	go func() {
		pipe := b.s.rdb.Pipeline()
		for prefix, kv := range entries {
			pipe.HSet(ctx, prefix+genEntries, kv...)
		}
		for key, zs := range zadds {
			pipe.ZAdd(ctx, key, zs...)
		}
		_, err := pipe.Exec(ctx)
		done <- err
	}()
	return nil
}

// Wait waits for the flush in flight, if any.
func (b *Bulk) Wait() error {
	if b.inflight == nil {
		return nil
	}
	err := <-b.inflight
	b.inflight = nil
	return err
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
