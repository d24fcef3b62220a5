package consumer

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// StallAfter is how long a stream may be behind without any progress
// before the watchdog calls it stalled (and between its repairs).
var StallAfter = 10 * time.Second

// Action is what the watchdog asks of its caller for a stalled stream.
type Action int

// Actions, in the order a stall that persists escalates through them.
const (
	None Action = iota
	// Resubscribe: the subscription was re-created (done by Watch).
	Resubscribe
	// Rebuild: re-creating the subscription did not help; the caller
	// rebuilds the boards from the log.
	Rebuild
)

// StreamReport is one stream as the watchdog last saw it.
type StreamReport struct {
	Stream string
	// Applied is Redis's applied sequence; LastSeq the stream's last
	// sequence (0 when it was not needed).
	Applied, LastSeq uint64
	// Pending is the consumer's NumPending (not yet delivered), AckPending
	// its NumAckPending; Delivered and AckFloor are stream sequences.
	Pending             uint64
	AckPending          int
	Delivered, AckFloor uint64
	// CaughtUp: Redis holds every event of the stream the consumer
	// filters.
	CaughtUp bool
	// Stalled: behind without progress for StallAfter.
	Stalled bool
	// Since is when the stream last made progress.
	Since  time.Time
	Action Action
}

func (r StreamReport) String() string {
	return fmt.Sprintf("%s: applied %d, stream last %d, pending %d, ack pending %d, delivered %d, ack floor %d, no progress since %s",
		r.Stream, r.Applied, r.LastSeq, r.Pending, r.AckPending, r.Delivered, r.AckFloor, r.Since.Format(time.RFC3339))
}

// Report is the watchdog's verdict on both streams.
type Report struct {
	Streams []StreamReport
}

// CaughtUp: every stream is caught up.
func (r Report) CaughtUp() bool {
	for _, s := range r.Streams {
		if !s.CaughtUp {
			return false
		}
	}
	return len(r.Streams) > 0
}

// Stalled returns the stalled streams.
func (r Report) Stalled() []StreamReport {
	var out []StreamReport
	for _, s := range r.Streams {
		if s.Stalled {
			out = append(out, s)
		}
	}
	return out
}

// Rebuild: a stall persisted through a re-created subscription.
func (r Report) Rebuild() bool {
	for _, s := range r.Streams {
		if s.Action == Rebuild {
			return true
		}
	}
	return false
}

type watchState struct {
	mu    sync.Mutex
	lanes [2]progress
}

// progress is what the watchdog remembers of one stream between looks.
type progress struct {
	key        [3]uint64 // applied, delivered, ack floor: any change is progress
	progressAt time.Time
	actedAt    time.Time
	repairs    int
	caughtUp   bool // the last verdict, kept while NATS does not answer
}

// judge records a look at a stream and returns whether it is stalled and
// what to do about it. Being caught up, or a rebuild running (which holds
// the consumer back on purpose), counts as progress.
func (p *progress) judge(now time.Time, key [3]uint64, caughtUp, rebuilding bool, after time.Duration) (bool, Action) {
	p.caughtUp = caughtUp
	if p.progressAt.IsZero() || key != p.key || caughtUp || rebuilding {
		p.key, p.progressAt, p.actedAt, p.repairs = key, now, now, 0
		return false, None
	}
	if now.Sub(p.progressAt) < after {
		return false, None
	}
	if now.Sub(p.actedAt) < after && p.repairs > 0 {
		return true, None
	}
	p.actedAt = now
	p.repairs++
	if p.repairs == 2 {
		return true, Rebuild
	}
	return true, Resubscribe
}

// Watch compares Redis's applied sequences (applied, keyed by the store's
// sequence fields, as just read) with the streams and the consumers:
// a stream is caught up when its consumer has nothing pending or awaiting
// acknowledgement and Redis holds its ack floor, or when Redis holds the
// stream's last sequence. A stream behind that makes no progress for
// StallAfter is stalled: Watch re-creates its subscription, and asks for a
// rebuild (Report.Rebuild) if that did not help either. A stream NATS does
// not answer for keeps its last verdict.
func (c *Consumer) Watch(ctx context.Context, applied map[string]uint64, rebuilding bool) Report {
	var rep Report
	for _, s := range sources {
		r := StreamReport{Stream: s.stream, Applied: applied[s.field]}
		err := c.look(ctx, s, &r)
		c.watch.mu.Lock()
		p := &c.watch.lanes[s.idx]
		if err != nil {
			r.CaughtUp, r.Since = p.caughtUp, p.progressAt
			c.watch.mu.Unlock()
			c.log.Debug("watchdog: NATS did not answer", "stream", s.stream, "err", err)
			rep.Streams = append(rep.Streams, r)
			continue
		}
		r.Stalled, r.Action = p.judge(time.Now(), [3]uint64{r.Applied, r.Delivered, r.AckFloor}, r.CaughtUp, rebuilding, StallAfter)
		r.Since = p.progressAt
		c.watch.mu.Unlock()
		if r.Action != None {
			c.Resubscribe(s.stream, "watchdog: consumer stalled")
		}
		rep.Streams = append(rep.Streams, r)
	}
	return rep
}

// look fills r from the consumer's and, when needed, the stream's info.
func (c *Consumer) look(ctx context.Context, s source, r *StreamReport) error {
	cctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	cons, err := c.js.Consumer(cctx, s.stream, Durable)
	switch {
	case errors.Is(err, jetstream.ErrConsumerNotFound):
		r.Pending = 1 // unknown: only the stream can tell it is caught up
	case err != nil:
		return err
	default:
		ci := cons.CachedInfo()
		r.Pending, r.AckPending = ci.NumPending, ci.NumAckPending
		r.Delivered, r.AckFloor = ci.Delivered.Stream, ci.AckFloor.Stream
		// Every acknowledged event was applied first.
		c.lanes[s.idx].raiseFloor(r.AckFloor)
		if r.Pending == 0 && r.AckPending == 0 && r.Applied >= r.AckFloor {
			r.CaughtUp = true
			return nil
		}
	}
	st, err := c.js.Stream(cctx, s.stream)
	if err != nil {
		return err
	}
	// The stream's last sequence bounds the last one of the subjects the
	// consumer filters: Redis holding it holds everything.
	r.LastSeq = st.CachedInfo().State.LastSeq
	r.CaughtUp = r.Applied >= r.LastSeq
	return nil
}
