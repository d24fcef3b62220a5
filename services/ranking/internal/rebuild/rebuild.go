// Package rebuild rebuilds the boards from the JetStream log: the last
// message of every assessment subject (the latest revision of every record)
// and of every round subject, written into new generations with pipelined
// commands and then swapped in atomically, so no query ever sees a
// half-built board.
//
// A rebuild holds a mark in Redis for its whole run: every replica's
// consumer refuses to apply events while it is set (they are applied after
// the swap, to the new generation), and a second rebuild waits for it.
package rebuild

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"google.golang.org/protobuf/proto"

	"github.com/predikat-id/predikat/pkg/events"
	eventsv1 "github.com/predikat-id/predikat/pkg/gen/predikat/events/v1"
	"github.com/predikat-id/predikat/services/ranking/internal/board"
	"github.com/predikat-id/predikat/services/ranking/internal/store"
)

// MarkTTL is how long the rebuild mark lives without a refresh: a replica
// that dies mid-rebuild blocks the others for at most this long.
const MarkTTL = 15 * time.Second

// stallTimeout bounds the wait for the next message of a snapshot the
// server said is there: a longer silence means the connection broke, and
// the rebuild starts over.
const stallTimeout = 20 * time.Second

// Filter selects rounds; the zero value is everything.
type Filter struct {
	Scheme string
	Year   int32
}

// Full reports whether the filter selects every round.
func (f Filter) Full() bool { return f.Scheme == "" && f.Year == 0 }

// Covers reports whether a rebuild with f also rebuilds everything g asks.
func (f Filter) Covers(g Filter) bool {
	return (f.Scheme == "" || f.Scheme == g.Scheme) && (f.Year == 0 || f.Year == g.Year)
}

func (f Filter) String() string {
	if f.Full() {
		return "all rounds"
	}
	s, y := f.Scheme, "*"
	if s == "" {
		s = "*"
	}
	if f.Year != 0 {
		y = strconv.Itoa(int(f.Year))
	}
	return s + "-" + y
}

// Result reports what a rebuild did.
type Result struct {
	AssessmentsRead int64
	BoardsWritten   int
	EntriesWritten  int64
	ReportedBand    int64
	Skipped         int64 // events that can never be placed (logged)
	StreamSequence  uint64
	LayoutVersion   int
	Elapsed         time.Duration
}

// Builder runs rebuilds. Use it through a Coordinator, which keeps the
// local consumer out of the way and joins concurrent requests.
type Builder struct {
	js  jetstream.JetStream
	st  *store.Store
	log *slog.Logger
}

// NewBuilder returns a builder reading js and writing st.
func NewBuilder(js jetstream.JetStream, st *store.Store, log *slog.Logger) *Builder {
	return &Builder{js: js, st: st, log: log}
}

type roundInfo struct {
	scheme, id, version string
	year                int32
	final               bool
	fences              []store.Fence
}

// refuses reports whether a fence of the round leaves the record out.
func (ri *roundInfo) refuses(r board.Record) bool {
	return ri != nil && slices.ContainsFunc(ri.fences, func(f store.Fence) bool { return f.Refuses(r.RoundRevision, r.Entry.Seq) })
}

// Run rebuilds the rounds f selects.
func (b *Builder) Run(ctx context.Context, f Filter) (Result, error) {
	start := time.Now()
	token := newToken()
	if err := b.acquire(ctx, token); err != nil {
		return Result{}, err
	}
	var wg sync.WaitGroup
	defer wg.Wait()
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil) // runs before wg.Wait: ends keepMark
	swapped := false
	defer func() {
		if !swapped {
			b.releaseMark(ctx, token)
		}
	}()
	wg.Go(func() { b.keepMark(ctx, cancel, token) })

	seqA, seqR, rounds, err := b.prepare(ctx, f)
	if err != nil {
		return Result{}, err
	}
	bulk := b.st.NewBulk()
	var res Result
	if err := b.readAssessments(ctx, f, rounds, bulk, &res); err != nil {
		return Result{}, err
	}
	for _, ri := range rounds {
		if err := b.st.SetFences(ctx, ri.scheme, ri.year, ri.fences); err != nil {
			return Result{}, store.Unavailable(err)
		}
	}
	swaps, err := finishBoards(ctx, bulk, rounds)
	if err != nil {
		return Result{}, err
	}
	if f.Full() {
		if err := b.st.Sweep(ctx, bulk.Gens()); err != nil {
			return Result{}, fmt.Errorf("sweep keys of other layouts: %w", err)
		}
	}
	old, err := b.st.Swap(ctx, token, f.Full(), swaps, seqA, seqR)
	if err != nil {
		return Result{}, fmt.Errorf("swap in rebuilt boards: %w", err)
	}
	swapped = true
	b.deleteGens(ctx, old)
	res.BoardsWritten = bulk.Boards()
	res.EntriesWritten = bulk.Entries
	res.ReportedBand = bulk.ReportedBand
	res.StreamSequence = seqA
	res.LayoutVersion = store.LayoutVersion
	res.Elapsed = time.Since(start)
	return res, nil
}

// releaseMark gives the mark up after a run that did not swap (the swap
// itself releases it). It uses a context of its own: ctx may be cancelled
// already, and the mark should still go.
func (b *Builder) releaseMark(ctx context.Context, token string) {
	rctx, rcancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer rcancel()
	if err := b.st.ReleaseMark(rctx, token); err != nil {
		b.log.Warn("rebuild: releasing the mark failed; it expires by itself", "err", err, "ttl", MarkTTL)
	}
}

// prepare drops what an unfinished rebuild left, then reads the last
// sequences of both streams and the rounds f selects. The sequences are
// read before the snapshot: whatever comes after them is the consumers'.
func (b *Builder) prepare(ctx context.Context, f Filter) (seqA, seqR uint64, rounds map[string]*roundInfo, err error) {
	if err := b.st.DropPending(ctx); err != nil {
		return 0, 0, nil, fmt.Errorf("drop generations of an unfinished rebuild: %w", err)
	}
	if seqA, err = lastSeq(ctx, b.js, events.Assessments); err != nil {
		return 0, 0, nil, err
	}
	if seqR, err = lastSeq(ctx, b.js, events.Rounds); err != nil {
		return 0, 0, nil, err
	}
	if rounds, err = b.readRounds(ctx, f); err != nil {
		return 0, 0, nil, err
	}
	return seqA, seqR, rounds, nil
}

// readAssessments adds the latest revision of every assessment f selects
// to bulk, counting what it read and skipped in res. A latest revision a
// close's fence refused is replaced by the latest one that counts.
func (b *Builder) readAssessments(ctx context.Context, f Filter, rounds map[string]*roundInfo, bulk *store.Bulk, res *Result) error {
	var refused []string
	d := &fastDecoder{}
	round := roundCache{rounds: rounds}
	_, err := lastPerSubject(ctx, b.js, events.Assessments, []string{events.AssessmentFilter(f.Scheme, f.Year)}, func(m jetstream.Msg, seq uint64) error {
		res.AssessmentsRead++
		r, ok := b.decodeAssessment(d, m, seq)
		if !ok {
			res.Skipped++
			return nil
		}
		if round.of(r.Scheme, r.Year).refuses(r) {
			refused = append(refused, m.Subject())
			return nil
		}
		return bulk.Add(ctx, r)
	})
	if err != nil {
		return err
	}
	for _, subject := range refused {
		r, ok, err := b.latestCounted(ctx, d, subject, rounds)
		if err != nil {
			return err
		}
		if ok {
			if err := bulk.Add(ctx, r); err != nil {
				return err
			}
		}
	}
	return nil
}

// roundCache finds a record's round, remembering the last one: records
// come round by round.
type roundCache struct {
	rounds map[string]*roundInfo
	scheme string
	year   int32
	last   *roundInfo
}

func (c *roundCache) of(scheme string, year int32) *roundInfo {
	if c.scheme != scheme || c.year != year || c.scheme == "" {
		c.scheme, c.year = strings.Clone(scheme), year
		c.last = c.rounds[store.RoundKey(scheme, year)]
	}
	return c.last
}

// latestCounted reads one record's revisions and returns the latest that
// no fence refuses (ok false: none). Only a record whose latest revision
// was refused comes here, which is rare: reading its history is fine.
func (b *Builder) latestCounted(ctx context.Context, d *fastDecoder, subject string, rounds map[string]*roundInfo) (board.Record, bool, error) {
	var best board.Record
	found := false
	err := readSubject(ctx, b.js, events.Assessments, subject, 0, func(m jetstream.Msg, seq uint64) error {
		r, ok := b.decodeAssessment(d, m, seq)
		if ok && !rounds[store.RoundKey(r.Scheme, r.Year)].refuses(r) {
			best, found = r, true
		}
		return nil
	})
	return best, found, err
}

// decodeAssessment turns one assessment message into a board record; an
// event that can never be placed is logged and reported as not ok. The
// record's strings may view the message's body (see fastDecoder).
func (b *Builder) decodeAssessment(d *fastDecoder, m jetstream.Msg, seq uint64) (board.Record, bool) {
	if r, ok := d.decode(m.Data(), seq); ok {
		return r, true
	}
	var ev eventsv1.AssessmentRecorded
	if err := proto.Unmarshal(m.Data(), &ev); err != nil {
		b.log.Error("rebuild: undecodable assessment event skipped", "subject", m.Subject(), "seq", seq, "err", err)
		return board.Record{}, false
	}
	r, err := board.FromEvent(&ev, seq)
	if err != nil {
		b.log.Error("rebuild: assessment event skipped", "subject", m.Subject(), "seq", seq, "err", err)
		return board.Record{}, false
	}
	return r, true
}

// finishBoards writes the boards of every round read (a round without
// assessments still gets its board) and returns them ready to swap in.
func finishBoards(ctx context.Context, bulk *store.Bulk, rounds map[string]*roundInfo) ([]store.SwapRound, error) {
	for _, ri := range rounds {
		if _, err := bulk.Round(ctx, ri.scheme, ri.year); err != nil {
			return nil, err
		}
	}
	swaps, err := bulk.Finish(ctx)
	if err != nil {
		return nil, fmt.Errorf("write boards: %w", err)
	}
	for i := range swaps {
		if ri, ok := rounds[store.RoundKey(swaps[i].Scheme, swaps[i].Year)]; ok {
			applyRound(&swaps[i], ri)
		}
	}
	return swaps, nil
}

// applyRound copies what the round events say about a round onto its swap.
func applyRound(sw *store.SwapRound, ri *roundInfo) {
	sw.Final = ri.final
	if ri.id != "" {
		sw.RoundID = ri.id
	}
	if sw.Version == "" {
		sw.Version = ri.version
	}
}

// deleteGens removes the generations a swap replaced.
func (b *Builder) deleteGens(ctx context.Context, old []store.GenRef) {
	for _, g := range old {
		if err := b.st.DeleteGen(ctx, g); err != nil {
			// Harmless: the next full rebuild sweeps it.
			b.log.Warn("rebuild: deleting a replaced generation failed", "round", g.Tag, "gen", g.Gen, "err", err)
		}
	}
}

// acquire waits for the rebuild mark (another replica may be rebuilding).
func (b *Builder) acquire(ctx context.Context, token string) error {
	logged := false
	for {
		ok, err := b.st.AcquireMark(ctx, token, MarkTTL)
		if err != nil {
			return store.Unavailable(err)
		}
		if ok {
			return nil
		}
		if !logged {
			b.log.Info("rebuild: waiting for a rebuild running elsewhere")
			logged = true
		}
		select {
		case <-ctx.Done():
			return context.Cause(ctx)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// keepMark refreshes the mark until ctx ends; losing it cancels the run.
func (b *Builder) keepMark(ctx context.Context, cancel context.CancelCauseFunc, token string) {
	t := time.NewTicker(MarkTTL / 3)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		ok, err := b.st.RefreshMark(ctx, token, MarkTTL)
		if err == nil && !ok {
			cancel(errors.New("rebuild mark lost (expired while Redis was unreachable?)"))
			return
		}
	}
}

// readRounds reads the last change and publication of every round f selects.
func (b *Builder) readRounds(ctx context.Context, f Filter) (map[string]*roundInfo, error) {
	out := map[string]*roundInfo{}
	filters := events.RoundStateFilters(f.Scheme, f.Year)
	_, err := lastPerSubject(ctx, b.js, events.Rounds, filters, func(m jetstream.Msg, seq uint64) error {
		e, ok := RoundEventOf(m.Subject(), m.Data(), seq)
		if !ok {
			b.log.Error("rebuild: undecodable round event skipped", "subject", m.Subject(), "seq", seq)
			return nil
		}
		rk := store.RoundKey(e.Scheme, e.Year)
		ri := out[rk]
		if ri == nil {
			ri = &roundInfo{scheme: e.Scheme, year: e.Year}
			out[rk] = ri
		}
		ri.final = ri.final || e.Final
		for _, f := range e.Fences {
			if !slices.Contains(ri.fences, f) {
				ri.fences = append(ri.fences, f)
			}
		}
		if e.RoundID != "" {
			ri.id = e.RoundID
		}
		if e.SchemeVersion != "" {
			ri.version = e.SchemeVersion
		}
		return nil
	})
	return out, err
}

// RoundEventOf decodes a RoundChanged or RoundPublished from its subject
// and body.
func RoundEventOf(subject string, data []byte, seq uint64) (store.RoundEvent, bool) {
	k, err := events.ParseRoundSubject(subject)
	if err != nil {
		return store.RoundEvent{}, false
	}
	e := store.RoundEvent{Scheme: k.Scheme, Year: k.Year, Seq: seq}
	switch k.Verb {
	case events.RoundPublished:
		ev, err := events.DecodeAs[eventsv1.RoundPublished](subject, data)
		if err != nil {
			return e, false
		}
		e.Final, e.RoundID, e.SchemeVersion = true, ev.GetRound().GetId(), ev.GetRound().GetSchemeVersion()
		e.Fences = fencesOf(ev.GetFences())
	case events.RoundChanged:
		ev, err := events.DecodeAs[eventsv1.RoundChanged](subject, data)
		if err != nil {
			return e, false
		}
		e.RoundID, e.SchemeVersion = ev.GetRound().GetId(), ev.GetRound().GetSchemeVersion()
		e.Fences = fencesOf(ev.GetFences())
	default:
		return e, false
	}
	return e, true
}

func fencesOf(fs []*eventsv1.AssessmentFence) []store.Fence {
	var out []store.Fence
	for _, f := range fs {
		if f.GetRoundRevision() != 0 {
			out = append(out, store.Fence{RoundRevision: f.GetRoundRevision(), Seq: f.GetSequence()})
		}
	}
	return out
}

func lastSeq(ctx context.Context, js jetstream.JetStream, name string) (uint64, error) {
	s, err := js.Stream(ctx, name)
	if err != nil {
		return 0, fmt.Errorf("stream %s: %w", name, err)
	}
	return s.CachedInfo().State.LastSeq, nil
}

// lastPerSubject calls fn with the last message of every subject matching
// filters, as the stream holds them when the call starts. It reads exactly
// the number of messages the server counted at that moment (messages
// stored later are the live consumer's), through an ephemeral consumer.
func lastPerSubject(ctx context.Context, js jetstream.JetStream, stream string, filters []string, fn func(jetstream.Msg, uint64) error) (int, error) {
	cfg := jetstream.ConsumerConfig{
		DeliverPolicy:     jetstream.DeliverLastPerSubjectPolicy,
		AckPolicy:         jetstream.AckNonePolicy,
		MemoryStorage:     true,
		InactiveThreshold: time.Minute,
	}
	if len(filters) == 1 {
		cfg.FilterSubject = filters[0]
	} else {
		cfg.FilterSubjects = filters
	}
	cons, err := js.CreateConsumer(ctx, stream, cfg)
	if err != nil {
		return 0, fmt.Errorf("read %s: %w", stream, err)
	}
	name := cons.CachedInfo().Name
	defer func() {
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_ = js.DeleteConsumer(dctx, stream, name)
	}()
	pending := cons.CachedInfo().NumPending
	if pending == 0 {
		return 0, nil
	}
	// A stall is the server's heartbeats missing for stallTimeout (two of
	// them): Next then fails. Next arms its heartbeat timer anyway; a
	// deadline of our own on every Next would be a second timer per message.
	it, err := cons.Messages(jetstream.PullMaxMessages(4096), jetstream.PullHeartbeat(stallTimeout/2),
		jetstream.WithMessagesErrOnMissingHeartbeat(true))
	if err != nil {
		return 0, fmt.Errorf("read %s: %w", stream, err)
	}
	defer it.Stop()
	// One goroutine pulls the messages, this one hands them to fn: the
	// read goes on while fn decodes and buffers (the two use a core each),
	// and at most readAhead batches wait between them.
	rctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	batches := make(chan []seqMsg, readAhead)
	free := make(chan []seqMsg, readAhead+1)
	var readErr error
	var wg sync.WaitGroup
	wg.Go(func() {
		defer close(batches)
		readErr = readInto(rctx, it, stream, pending, batches, free)
	})
	n := 0
	var fnErr error
	for batch := range batches {
		for _, sm := range batch {
			if fnErr != nil {
				break
			}
			n++
			if fnErr = fn(sm.m, sm.seq); fnErr != nil {
				cancel(fnErr)
			}
		}
		clear(batch)
		select {
		case free <- batch[:0]:
		default:
		}
	}
	wg.Wait()
	if fnErr != nil {
		return n, fnErr
	}
	return n, readErr
}

// A reader hands messages over in batches of readBatch, at most readAhead
// of them ahead of their consumer.
const (
	readBatch = 256
	readAhead = 8
)

type seqMsg struct {
	m   jetstream.Msg
	seq uint64
}

// readInto reads pending messages from it into batches sent on out,
// reusing the batches free gives back.
func readInto(ctx context.Context, it jetstream.MessagesContext, stream string, pending uint64, out chan<- []seqMsg, free <-chan []seqMsg) error {
	for got := uint64(0); got < pending; {
		var batch []seqMsg
		select {
		case batch = <-free:
		default:
			batch = make([]seqMsg, 0, readBatch)
		}
		for len(batch) < readBatch && got < pending {
			if err := ctx.Err(); err != nil {
				return context.Cause(ctx)
			}
			m, err := it.Next()
			if err != nil {
				return fmt.Errorf("read %s after %d of %d messages: %w", stream, got, pending, err)
			}
			md, err := m.Metadata()
			if err != nil {
				return fmt.Errorf("read %s: %w", stream, err)
			}
			batch = append(batch, seqMsg{m, md.Sequence.Stream})
			got++
		}
		select {
		case out <- batch:
		case <-ctx.Done():
			return context.Cause(ctx)
		}
	}
	return nil
}

// readSubject calls fn with every message of one subject from sequence
// from on (0: the first), as the stream holds them when the call starts.
func readSubject(ctx context.Context, js jetstream.JetStream, stream, subject string, from uint64, fn func(jetstream.Msg, uint64) error) error {
	cfg := jetstream.OrderedConsumerConfig{FilterSubjects: []string{subject}}
	if from > 0 {
		cfg.DeliverPolicy, cfg.OptStartSeq = jetstream.DeliverByStartSequencePolicy, from
	}
	cons, err := js.OrderedConsumer(ctx, stream, cfg)
	if err != nil {
		return fmt.Errorf("read %s %s: %w", stream, subject, err)
	}
	pending := cons.CachedInfo().NumPending
	for n := uint64(0); n < pending; {
		batch, err := cons.Fetch(int(min(pending-n, 1000)), jetstream.FetchMaxWait(stallTimeout))
		if err != nil {
			return fmt.Errorf("read %s %s: %w", stream, subject, err)
		}
		got := 0
		for m := range batch.Messages() {
			got++
			md, err := m.Metadata()
			if err != nil {
				return fmt.Errorf("read %s %s: %w", stream, subject, err)
			}
			if err := fn(m, md.Sequence.Stream); err != nil {
				return err
			}
		}
		if err := batch.Error(); err != nil {
			return fmt.Errorf("read %s %s: %w", stream, subject, err)
		}
		if got == 0 {
			return fmt.Errorf("read %s %s: %d of %d messages arrived", stream, subject, n, pending)
		}
		n += uint64(got)
	}
	return nil
}

// Refused counts the records of a round's scheme and year stored after a
// fence that the fence refuses: what a check of a newly known fence looks
// for among the records applied before it.
func Refused(ctx context.Context, js jetstream.JetStream, scheme string, year int32, f store.Fence) (int, error) {
	n := 0
	err := readSubject(ctx, js, events.Assessments, events.AssessmentFilter(scheme, year), f.Seq+1, func(m jetstream.Msg, seq uint64) error {
		var ev eventsv1.AssessmentRecorded
		if proto.Unmarshal(m.Data(), &ev) == nil && f.Refuses(ev.GetRoundRevision(), seq) {
			n++
		}
		return nil
	})
	return n, err
}

func newToken() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
