// Package consumer applies the event log to the boards: a durable JetStream
// pull consumer on ASSESSMENTS (every AssessmentRecorded) and one on ROUNDS
// (RoundChanged, RoundPublished). Events are applied in micro-batches, one
// atomic Lua script per event (see store), and acknowledged only after Redis
// took them. When Redis is unreachable the consumer keeps the batch, stops
// acknowledging and retries until Redis is back; when Redis comes back
// empty it has the boards rebuilt first. When NATS restarts, the consumer
// re-subscribes by itself. Redelivery and out-of-order delivery are
// harmless: each entry keeps its revision.
package consumer

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"golang.org/x/sync/errgroup"
	"google.golang.org/protobuf/proto"

	"github.com/predikat-id/predikat/pkg/events"
	eventsv1 "github.com/predikat-id/predikat/pkg/gen/predikat/events/v1"
	"github.com/predikat-id/predikat/pkg/platform/backoff"
	"github.com/predikat-id/predikat/pkg/platform/redisx"
	"github.com/predikat-id/predikat/services/ranking/internal/board"
	"github.com/predikat-id/predikat/services/ranking/internal/rebuild"
	"github.com/predikat-id/predikat/services/ranking/internal/store"
)

// Durable is the name of both durable consumers.
const Durable = "ranking"

// Tuning.
const (
	batchMax   = 256
	idleWait   = time.Second          // a Next with nothing to read for this long means caught up
	drainWait  = 2 * time.Millisecond // more messages of the same batch
	ackWait    = 30 * time.Second
	inProgress = 10 * time.Second // how often a held batch tells JetStream it is still being worked on
	busyWait   = 200 * time.Millisecond
	warnEvery  = 30 * time.Second // an outage is logged once, then this often
)

// resubscribe paces re-creating a broken consumer; applyRetry paces
// applying a batch while Redis is unreachable (a quicker first retry: a
// blip should hold events as briefly as possible).
var (
	resubscribe = backoff.Exponential{Config: backoff.DefaultConfig}
	applyRetry  = backoff.Exponential{Config: func() backoff.Config {
		c := backoff.DefaultConfig
		c.BaseDelay = 50 * time.Millisecond
		return c
	}()}
)

// Consumer is the pair of durable consumers.
type Consumer struct {
	js    jetstream.JetStream
	st    *store.Store
	coord *rebuild.Coordinator
	log   *slog.Logger

	caughtUp [2]atomic.Bool
}

// New returns a consumer; Run starts it.
func New(js jetstream.JetStream, st *store.Store, coord *rebuild.Coordinator, log *slog.Logger) *Consumer {
	return &Consumer{js: js, st: st, coord: coord, log: log.With("component", "consumer")}
}

type source struct {
	idx     int
	stream  string
	field   string // sequence field in the store
	filters []string
}

var sources = []source{
	{0, events.Assessments, store.SeqAssessments, []string{events.AssessmentRecordedAll}},
	{1, events.Rounds, store.SeqRounds, events.RoundStateFilters("", 0)},
}

// Run consumes both streams until ctx ends.
func (c *Consumer) Run(ctx context.Context) {
	var g errgroup.Group
	for _, s := range sources {
		g.Go(func() error {
			c.loop(ctx, s)
			return nil
		})
	}
	_ = g.Wait() // the loops end only with ctx
}

// CaughtUp reports whether both consumers have, at least once since start,
// had nothing left to read.
func (c *Consumer) CaughtUp() bool { return c.caughtUp[0].Load() && c.caughtUp[1].Load() }

// AckFloors returns the stream sequence up to which each consumer has
// acknowledged everything, keyed by the store's sequence fields. Every
// acknowledged event was applied first, so a Redis whose applied sequence
// is below this has lost data.
func (c *Consumer) AckFloors(ctx context.Context) (map[string]uint64, error) {
	out := map[string]uint64{}
	for _, s := range sources {
		cons, err := c.js.Consumer(ctx, s.stream, Durable)
		if errors.Is(err, jetstream.ErrConsumerNotFound) {
			out[s.field] = 0
			continue
		}
		if err != nil {
			return nil, err
		}
		out[s.field] = cons.CachedInfo().AckFloor.Stream
	}
	return out, nil
}

func config(s source) jetstream.ConsumerConfig {
	cfg := jetstream.ConsumerConfig{
		Durable:       Durable,
		Description:   "ranking service: applies events to the Redis boards",
		DeliverPolicy: jetstream.DeliverAllPolicy,
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       ackWait,
		MaxDeliver:    -1,
		MaxAckPending: 4 * batchMax,
	}
	if len(s.filters) == 1 {
		cfg.FilterSubject = s.filters[0]
	} else {
		cfg.FilterSubjects = s.filters
	}
	return cfg
}

// durable returns the durable consumer, creating it if it does not exist
// yet. A new one starts after the last sequence the boards already hold
// (they were just rebuilt from the log): replaying the whole log through
// it would only find duplicates. An existing one is used as it is: replicas
// share it, and its position is theirs.
func (c *Consumer) durable(ctx context.Context, s source) (jetstream.Consumer, error) {
	cons, err := c.js.Consumer(ctx, s.stream, Durable)
	if err == nil {
		return cons, nil
	}
	if !errors.Is(err, jetstream.ErrConsumerNotFound) {
		return nil, err
	}
	cfg := config(s)
	st, err := c.st.State(ctx)
	if err != nil {
		return nil, err
	}
	if from := st.Applied[s.field]; st.LayoutOK && from > 0 {
		cfg.DeliverPolicy, cfg.OptStartSeq = jetstream.DeliverByStartSequencePolicy, from+1
	}
	cons, err = c.js.CreateConsumer(ctx, s.stream, cfg)
	if errors.Is(err, jetstream.ErrConsumerExists) {
		return c.js.Consumer(ctx, s.stream, Durable) // another replica was first
	}
	return cons, err
}

// loop (re)creates the durable consumer and its message iterator whenever
// they break, with backoff.
func (c *Consumer) loop(ctx context.Context, s source) {
	log := c.log.With("stream", s.stream)
	// follow returns only when ctx ended or the subscription broke; Retry
	// ends with ctx.
	_ = backoff.Retry(ctx, resubscribe, 0, func(ctx context.Context) error {
		return c.follow(ctx, s, log)
	}, func(err error, d time.Duration) {
		log.Warn("consumer interrupted; resuming", "err", err, "retry_in", d)
	})
}

func (c *Consumer) follow(ctx context.Context, s source, log *slog.Logger) error {
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	cons, err := c.durable(cctx, s)
	cancel()
	if err != nil {
		return err
	}
	it, err := cons.Messages(jetstream.PullMaxMessages(2 * batchMax))
	if err != nil {
		return err
	}
	defer it.Stop()
	stop := context.AfterFunc(ctx, it.Stop)
	defer stop()
	for {
		m, err := it.Next(jetstream.NextMaxWait(idleWait))
		if errors.Is(err, nats.ErrTimeout) {
			c.caughtUp[s.idx].Store(true)
			continue
		}
		if err != nil {
			return err
		}
		batch := []jetstream.Msg{m}
		for len(batch) < batchMax {
			m, err := it.Next(jetstream.NextMaxWait(drainWait))
			if err != nil {
				break // timeout: the batch is what there is; other errors surface on the next Next
			}
			batch = append(batch, m)
		}
		if !c.process(ctx, s, batch, log) {
			return ctx.Err()
		}
		if md, err := batch[len(batch)-1].Metadata(); err == nil && md.NumPending == 0 {
			c.caughtUp[s.idx].Store(true)
		}
	}
}

// item is one message decoded.
type item struct {
	msg   jetstream.Msg
	seq   uint64
	rec   board.Record     // assessments
	round store.RoundEvent // rounds
}

// process applies a batch and acknowledges it, retrying until it worked or
// ctx ended (false).
func (c *Consumer) process(ctx context.Context, s source, batch []jetstream.Msg, log *slog.Logger) bool {
	var items []item
	for _, m := range batch {
		md, err := m.Metadata()
		if err != nil {
			log.Error("message without metadata skipped", "subject", m.Subject(), "err", err)
			_ = m.Term()
			continue
		}
		it, err := decode(s, m, md.Sequence.Stream)
		if err != nil {
			// An event that can never be applied: skip it, or it would
			// block every event behind it. Its sequence still counts as
			// handled.
			log.Error("event cannot be applied; skipped", "subject", m.Subject(), "seq", md.Sequence.Stream, "err", err)
			if c.retry(ctx, log, func() error { return c.st.Bump(ctx, s.field, md.Sequence.Stream) }) {
				_ = m.Term()
			}
			continue
		}
		items = append(items, it)
	}
	if len(items) == 0 {
		return ctx.Err() == nil
	}
	lastProgress := time.Now()
	ok := c.retry(ctx, log, func() error {
		if time.Since(lastProgress) > inProgress {
			for _, it := range items {
				_ = it.msg.InProgress()
			}
			lastProgress = time.Now()
		}
		return c.coord.Apply(func() error { return c.apply(ctx, s, items, log) })
	})
	if !ok {
		return false
	}
	for _, it := range items {
		// If the ack is lost (NATS restarting), the event is redelivered
		// and applying it again changes nothing.
		_ = it.msg.Ack()
	}
	return true
}

func decode(s source, m jetstream.Msg, seq uint64) (item, error) {
	it := item{msg: m, seq: seq}
	if s.stream == events.Rounds {
		e, ok := rebuild.RoundEventOf(m.Subject(), m.Data(), seq)
		if !ok {
			return it, errors.New("undecodable round event")
		}
		it.round = e
		return it, nil
	}
	var ev eventsv1.AssessmentRecorded
	if err := proto.Unmarshal(m.Data(), &ev); err != nil {
		return it, err
	}
	r, err := board.FromEvent(&ev, seq)
	if err != nil {
		return it, err
	}
	it.rec = r
	return it, nil
}

func (c *Consumer) apply(ctx context.Context, s source, items []item, log *slog.Logger) error {
	if s.stream == events.Rounds {
		for _, it := range items {
			if err := c.st.ApplyRound(ctx, it.round); err != nil {
				return err
			}
		}
		return nil
	}
	recs := make([]board.Record, len(items))
	for i, it := range items {
		recs[i] = it.rec
	}
	out, err := c.st.Apply(ctx, recs)
	if err != nil {
		return err
	}
	for i, o := range out {
		if o != store.Applied {
			log.Debug("event changed nothing", "outcome", o.String(), "institution", recs[i].Institution,
				"round", recs[i].RoundID, "revision", recs[i].Entry.Revision, "seq", items[i].seq)
		}
	}
	return nil
}

// retry runs fn until it succeeds. Redis unreachable: back off and retry.
// Boards missing: have them rebuilt, then retry. A rebuild elsewhere: wait.
// It returns false when ctx ended first.
func (c *Consumer) retry(ctx context.Context, log *slog.Logger, fn func() error) bool {
	warned := false
	var lastLog time.Time
	err := backoff.Retry(ctx, applyRetry, 0, func(ctx context.Context) error {
		return c.attempt(ctx, log, fn)
	}, func(err error, _ time.Duration) {
		if time.Since(lastLog) < warnEvery {
			return
		}
		if redisx.IsUnavailable(err) {
			log.Warn("Redis unreachable: holding events unacknowledged until it is back", "err", err)
		} else {
			log.Error("applying events failed; retrying", "err", err)
		}
		warned, lastLog = true, time.Now()
	})
	if err != nil {
		return false
	}
	if warned {
		log.Info("consumer applying events again")
	}
	return true
}

// attempt runs fn, waiting out a rebuild elsewhere and having missing
// boards rebuilt; what is left is an error worth backing off from.
func (c *Consumer) attempt(ctx context.Context, log *slog.Logger, fn func() error) error {
	for {
		err := fn()
		switch {
		case errors.Is(err, store.ErrBusy):
			if !backoff.Sleep(ctx, busyWait) {
				return ctx.Err()
			}
		case errors.Is(err, store.ErrNoLayout):
			log.Info("boards missing in Redis (flushed or restarted): rebuilding before applying more events")
			if _, rerr := c.coord.Rebuild(ctx, rebuild.Filter{}); rerr != nil {
				return fmt.Errorf("rebuild before applying events: %w", rerr)
			}
		default:
			return err
		}
	}
}
