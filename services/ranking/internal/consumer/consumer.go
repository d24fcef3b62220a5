// Package consumer applies the event log to the boards: a durable JetStream
// pull consumer on ASSESSMENTS (every AssessmentRecorded) and one on ROUNDS
// (RoundChanged, RoundPublished). Events are applied in micro-batches, one
// atomic Lua script per event (see store), and acknowledged only after Redis
// took them. When Redis is unreachable the consumer keeps the batch, stops
// acknowledging and retries until Redis is back; when Redis comes back
// empty, or older than what was applied, it has the boards rebuilt first.
// Redelivery and out-of-order delivery are harmless: each entry keeps its
// revision.
//
// A pull request can be lost without any error (the server holding it dies,
// the consumer's leader moves): the subscription uses idle heartbeats, and
// is re-created when they stop, when the connection comes back and when
// the watchdog (see Watch) finds it stuck.
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
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
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
	batchMax = 256
	// pullExpiry is how long one pull request lives; heartbeat is how
	// often the server says an open pull request is still there. Two
	// missed heartbeats mean the request is gone: the subscription is
	// re-created.
	pullExpiry = 10 * time.Second
	heartbeat  = 2 * time.Second
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

	lanes [2]*lane
	watch watchState

	// beforeApply, when set (tests only), runs before every batch is
	// applied: a test blocks it to stall the consumer.
	beforeApply func(ctx context.Context, stream string)
	// onApplied, when set (OnApplied), is told of every batch applied.
	onApplied func(stream string, n int, took time.Duration)
}

// OnApplied sets, before Run, what is told of every batch applied: the
// stream, the events and how long applying took (metrics).
func (c *Consumer) OnApplied(fn func(stream string, n int, took time.Duration)) { c.onApplied = fn }

// lane is one stream's delivery path, kept across subscriptions: messages
// a stopped subscription handed over are still applied and acknowledged.
type lane struct {
	msgs   chan jetstream.Msg
	errs   chan subErr
	repair chan string
	subID  atomic.Uint64

	// floor is the applied sequence Redis is known to have reached: the
	// highest this process applied or read there, and the consumer's ack
	// floor (every acknowledged event was applied first). Redis below it
	// lost writes.
	floor atomic.Uint64
}

type subErr struct {
	sub uint64
	err error
}

// New returns a consumer; Run starts it.
func New(js jetstream.JetStream, st *store.Store, coord *rebuild.Coordinator, log *slog.Logger) *Consumer {
	c := &Consumer{js: js, st: st, coord: coord, log: log.With("component", "consumer")}
	for i := range c.lanes {
		c.lanes[i] = &lane{msgs: make(chan jetstream.Msg, 2*batchMax), errs: make(chan subErr, 16), repair: make(chan string, 1)}
	}
	return c
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
	g.Go(func() error {
		c.watchConnection(ctx)
		return nil
	})
	for _, s := range sources {
		g.Go(func() error {
			c.loop(ctx, s)
			return nil
		})
	}
	_ = g.Wait() // the loops end only with ctx
}

// Resubscribe has the stream's subscription re-created (a pull request the
// server no longer holds is never answered, and nothing else says so).
func (c *Consumer) Resubscribe(stream, reason string) {
	for _, s := range sources {
		if s.stream == stream {
			select {
			case c.lanes[s.idx].repair <- reason:
			default: // one is pending already
			}
		}
	}
}

// watchConnection re-creates both subscriptions after every reconnect: the
// pull requests lived on the connection that broke.
func (c *Consumer) watchConnection(ctx context.Context) {
	nc := c.js.Conn()
	ch := nc.StatusChanged(nats.RECONNECTING, nats.CONNECTED)
	defer nc.RemoveStatusListener(ch)
	lost := false
	for {
		select {
		case <-ctx.Done():
			return
		case st := <-ch:
			switch {
			case st == nats.RECONNECTING:
				lost = true
			case st == nats.CONNECTED && lost:
				lost = false
				for _, s := range sources {
					c.Resubscribe(s.stream, "NATS connection re-established")
				}
			}
		}
	}
}

// Floor is the applied sequence Redis must hold at least for the store's
// sequence field (see lane.floor); 0 when unknown.
func (c *Consumer) Floor(field string) uint64 {
	for _, s := range sources {
		if s.field == field {
			return c.lanes[s.idx].floor.Load()
		}
	}
	return 0
}

// raiseFloor raises a lane's floor to v.
func (l *lane) raiseFloor(v uint64) {
	for {
		cur := l.floor.Load()
		if v <= cur || l.floor.CompareAndSwap(cur, v) {
			return
		}
	}
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

// loop (re)creates the durable consumer and its subscription whenever they
// break, with backoff.
func (c *Consumer) loop(ctx context.Context, s source) {
	log := c.log.With("stream", s.stream)
	// follow returns only when ctx ended or the subscription broke; a
	// subscription that ran for a minute was healthy, and the next break
	// starts with quick retries again.
	_ = backoff.Retry(ctx, resubscribe, time.Minute, func(ctx context.Context) error {
		return c.follow(ctx, s, log)
	}, func(err error, d time.Duration) {
		log.Warn("consumer subscription re-created", "reason", err, "retry_in", d)
	})
}

// subscribe starts a heartbeat-monitored pull subscription feeding the
// lane; its errors reach the lane tagged with its id, so a late error of
// an earlier subscription is told apart.
func (c *Consumer) subscribe(ctx context.Context, s source) (jetstream.ConsumeContext, uint64, error) {
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	cons, err := c.durable(cctx, s)
	cancel()
	if err != nil {
		return nil, 0, err
	}
	l := c.lanes[s.idx]
	id := l.subID.Add(1)
	cc, err := cons.Consume(func(m jetstream.Msg) {
		select {
		case l.msgs <- m:
		case <-ctx.Done():
		}
	},
		jetstream.PullMaxMessages(2*batchMax),
		jetstream.PullExpiry(pullExpiry),
		jetstream.PullHeartbeat(heartbeat),
		jetstream.ConsumeErrHandler(func(_ jetstream.ConsumeContext, err error) {
			select {
			case l.errs <- subErr{sub: id, err: err}:
			default: // the lane is re-subscribing already
			}
		}))
	return cc, id, err
}

func (c *Consumer) follow(ctx context.Context, s source, log *slog.Logger) error {
	cc, id, err := c.subscribe(ctx, s)
	if err != nil {
		return err
	}
	defer cc.Stop()
	l := c.lanes[s.idx]
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case e := <-l.errs:
			if e.sub == id && broken(e.err) {
				return e.err
			}
			log.Debug("consumer notice", "err", e.err)
		case reason := <-l.repair:
			return errors.New(reason)
		case m := <-l.msgs:
			if !c.process(ctx, s, c.collect(l, m), log) {
				return ctx.Err()
			}
		}
	}
}

// broken says whether a subscription's error means its pull requests are
// no longer served: the heartbeats stopped, the consumer or the connection
// is gone, its leader moved. Anything else is a notice.
func broken(err error) bool {
	for _, e := range []error{jetstream.ErrNoHeartbeat, jetstream.ErrConsumerDeleted, jetstream.ErrConsumerNotFound,
		jetstream.ErrConnectionClosed, jetstream.ErrConsumerLeadershipChanged, jetstream.ErrBadRequest, nats.ErrNoResponders} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// collect returns first and whatever else is already there, up to a batch.
func (c *Consumer) collect(l *lane, first jetstream.Msg) []jetstream.Msg {
	batch := []jetstream.Msg{first}
	for len(batch) < batchMax {
		select {
		case m := <-l.msgs:
			batch = append(batch, m)
		default:
			return batch
		}
	}
	return batch
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
	applied := false
	defer endSpans(startSpans(ctx, s, items), &applied)
	if c.beforeApply != nil {
		// Outside the coordinator's lock: a blocked test hook must not
		// block a rebuild as well.
		c.beforeApply(ctx, s.stream)
	}
	lastProgress := time.Now()
	started := lastProgress
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
	applied = true
	if c.onApplied != nil {
		c.onApplied(s.stream, len(items), time.Since(started))
	}
	if s.stream == events.Rounds && !c.checkFences(ctx, items, log) {
		return false
	}
	var top uint64
	for _, it := range items {
		top = max(top, it.seq)
	}
	// Redis's high-water mark is at least the highest sequence just
	// applied.
	c.lanes[s.idx].raiseFloor(top)
	for _, it := range items {
		// If the ack is lost (NATS restarting), the event is redelivered
		// and applying it again changes nothing.
		_ = it.msg.Ack()
	}
	return true
}

// startSpans starts one span per event, a child of the call that wrote
// it: the trace of a RecordAssessment or a PublishRound ends in the apply
// here.
func startSpans(ctx context.Context, s source, items []item) []trace.Span {
	spans := make([]trace.Span, len(items))
	for i, it := range items {
		_, spans[i] = events.StartConsume(ctx, "ranking apply", s.stream, it.msg.Subject(), it.msg.Headers())
		spans[i].SetAttributes(attribute.Int("predikat.ranking.batch", len(items)))
	}
	return spans
}

// endSpans ends the spans of a batch, as failed unless *applied.
func endSpans(spans []trace.Span, applied *bool) {
	for _, sp := range spans {
		if !*applied {
			sp.SetStatus(codes.Error, "not applied: the consumer stopped")
		}
		sp.End()
	}
}

// checkFences makes the boards agree with the fences the round events
// just applied brought: a record the close refused may have been applied
// before its fence was known. For each fence still marked for a check, the
// records stored after it are read; if any is refused, the round's boards
// are rebuilt (the rebuild leaves refused records out). The mark goes only
// after that, so a crash in between checks again on redelivery. Records
// arriving later are refused by the apply script itself.
func (c *Consumer) checkFences(ctx context.Context, items []item, log *slog.Logger) bool {
	rounds := map[string]store.RoundEvent{}
	for _, it := range items {
		if len(it.round.Fences) > 0 {
			rounds[store.RoundKey(it.round.Scheme, it.round.Year)] = it.round
		}
	}
	for _, e := range rounds {
		ok := c.retry(ctx, log, func() error { return c.checkRoundFences(ctx, e, log) })
		if !ok {
			return false
		}
	}
	return true
}

func (c *Consumer) checkRoundFences(ctx context.Context, e store.RoundEvent, log *slog.Logger) error {
	due, err := c.st.FenceChecks(ctx, e.Scheme, e.Year)
	if err != nil {
		return store.Unavailable(err)
	}
	for _, f := range due {
		n, err := rebuild.Refused(ctx, c.js, e.Scheme, e.Year, f)
		if err != nil {
			return err
		}
		if n > 0 {
			log.Warn("records stored past a close's fence may be on the boards; rebuilding the round",
				"scheme", e.Scheme, "year", e.Year, "round_revision", f.RoundRevision, "fence", f.Seq, "refused", n)
			if _, err := c.coord.Rebuild(ctx, rebuild.Filter{Scheme: e.Scheme, Year: e.Year}); err != nil {
				return fmt.Errorf("rebuild %s-%d after a fence: %w", e.Scheme, e.Year, err)
			}
		}
		if err := c.st.FenceChecked(ctx, e.Scheme, e.Year, f); err != nil {
			return store.Unavailable(err)
		}
	}
	return nil
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
	floor := c.lanes[s.idx].floor.Load()
	if s.stream == events.Rounds {
		for _, it := range items {
			if err := c.st.ApplyRoundFrom(ctx, floor, it.round); err != nil {
				return err
			}
		}
		return nil
	}
	recs := make([]board.Record, len(items))
	for i, it := range items {
		recs[i] = it.rec
	}
	out, err := c.st.ApplyFrom(ctx, floor, recs)
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
		case errors.Is(err, store.ErrNoLayout), errors.Is(err, store.ErrBehind):
			if errors.Is(err, store.ErrBehind) {
				log.Error("Redis holds an older state than was applied (restored from an older snapshot?): rebuilding before applying more events")
			} else {
				log.Info("boards missing in Redis (flushed or restarted): rebuilding before applying more events")
			}
			if _, rerr := c.coord.Rebuild(ctx, rebuild.Filter{}); rerr != nil {
				return fmt.Errorf("rebuild before applying events: %w", rerr)
			}
		default:
			return err
		}
	}
}
