// Package awardfeed is the Go subscriber for Predikat awards: a durable
// JetStream consumer on the AWARDS stream, so a subscriber receives every
// award at least once, including those granted while it was away, and
// resumes where it stopped after a restart. Any other language does the same
// with its own NATS client; this package only saves Go users the details.
//
// The connection is the caller's: it connects as its own NATS user and
// must receive its replies under that user's inbox prefix, the only one
// the server lets it subscribe to: nats.UserInfo(user, password) with
// nats.CustomInboxPrefix("_INBOX_" + user) (natsx.InboxPrefix), or the
// JetStream calls below time out on a permissions violation.
package awardfeed

import (
	"context"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/predikat-id/predikat/pkg/events"
	eventsv1 "github.com/predikat-id/predikat/pkg/gen/predikat/events/v1"
	"go.opentelemetry.io/otel/codes"
)

// Filter selects awards; empty fields match everything. Kind is a subject
// token: pemprov, pemkab, pemkot, kementerian, lembaga, polres, kantah, mpp.
type Filter = events.AwardFilter

// Event is one award event; exactly one of Granted and Revoked is set.
type Event struct {
	Granted  *eventsv1.AwardGranted
	Revoked  *eventsv1.AwardRevoked
	Subject  string
	Sequence uint64
	// Redelivered is true when this event may have been handled before
	// (at-least-once): handlers key their effects by award id.
	Redelivered bool
}

// Subscription is a running durable subscriber.
type Subscription struct {
	cc jetstream.ConsumeContext
}

// Stop ends the subscription; the durable consumer stays on the server, so
// the next Subscribe with the same name continues where this one stopped.
func (s *Subscription) Stop() { s.cc.Stop() }

// Option changes how Subscribe creates its consumer.
type Option func(*jetstream.ConsumerConfig)

// ExpireAfter lets the server delete the durable consumer once no
// subscriber has used it for d: a watch nobody runs again does not stay
// on the server forever. Zero keeps it until deleted.
func ExpireAfter(d time.Duration) Option {
	return func(c *jetstream.ConsumerConfig) { c.InactiveThreshold = d }
}

// Subscribe creates (or resumes) the durable consumer named name and calls
// handle for each event in order of the stream, until ctx ends or Stop. An event is acknowledged when
// handle returns nil; an error redelivers it after a short delay.
func Subscribe(ctx context.Context, js jetstream.JetStream, name string, f Filter, handle func(context.Context, Event) error, opts ...Option) (*Subscription, error) {
	cfg := jetstream.ConsumerConfig{
		Durable: name, Description: "award subscriber " + name, FilterSubjects: f.Subjects(),
		AckPolicy: jetstream.AckExplicitPolicy, DeliverPolicy: jetstream.DeliverAllPolicy,
		AckWait: 30 * time.Second, MaxAckPending: 256,
	}
	for _, o := range opts {
		o(&cfg)
	}
	cons, err := js.CreateOrUpdateConsumer(ctx, events.Awards, cfg)
	if err != nil {
		return nil, fmt.Errorf("award subscriber %s: %w", name, err)
	}
	cc, err := cons.Consume(func(m jetstream.Msg) {
		ev, err := decode(m)
		if err != nil {
			// A message this version cannot read: do not block the feed on it.
			_ = m.Term()
			return
		}
		// The handler runs inside a span continuing the trace that granted
		// or revoked the award; its own spans join that trace.
		hctx, span := events.StartConsume(ctx, "awardfeed deliver", events.Awards, m.Subject(), m.Headers())
		defer span.End()
		if err := handle(hctx, ev); err != nil {
			span.RecordError(err)
			span.SetStatus(codes.Error, "handler failed; redelivered")
			_ = m.NakWithDelay(time.Second)
			return
		}
		// Acknowledged without waiting for the server's answer: a round
		// trip per award would make the subscriber, not the publication,
		// set the pace of the feed (a round's awards arrive in bursts). An
		// acknowledgement lost on the way is redelivered after AckWait,
		// which at-least-once delivery allows (Redelivered is set).
		_ = m.Ack()
	})
	if err != nil {
		return nil, fmt.Errorf("award subscriber %s: %w", name, err)
	}
	// The subscription lives as long as ctx: no handler runs after it ends.
	context.AfterFunc(ctx, cc.Stop)
	return &Subscription{cc: cc}, nil
}

// Live calls handle for each award event published from now on, over plain
// NATS subscriptions to f's subjects: no consumer is left on the server,
// nothing granted earlier is delivered, and an event published while the
// connection is down is missed. Subscribe is the one that misses nothing.
// It runs until ctx ends; handle's errors are returned.
func Live(ctx context.Context, nc *nats.Conn, f Filter, handle func(context.Context, Event) error) error {
	ch := make(chan *nats.Msg, 256)
	for _, subj := range f.Subjects() {
		sub, err := nc.ChanSubscribe(subj, ch)
		if err != nil {
			return fmt.Errorf("award watch on %s: %w", subj, err)
		}
		defer func() { _ = sub.Unsubscribe() }()
	}
	// The subscriptions are in place on the server before Live reports
	// nothing: what is granted from here on is delivered.
	if err := nc.Flush(); err != nil {
		return fmt.Errorf("award watch: %w", err)
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case m := <-ch:
			ev := Event{Subject: m.Subject}
			body, err := events.Decode(m.Subject, m.Header, m.Data)
			if err != nil || setAward(&ev, body) != nil {
				continue // a message this version cannot read
			}
			hctx, span := events.StartConsume(ctx, "awardfeed deliver", events.Awards, m.Subject, m.Header)
			err = handle(hctx, ev)
			span.End()
			if err != nil {
				return err
			}
		}
	}
}

func decode(m jetstream.Msg) (Event, error) {
	md, err := m.Metadata()
	if err != nil {
		return Event{}, fmt.Errorf("award message metadata: %w", err)
	}
	ev := Event{Subject: m.Subject(), Sequence: md.Sequence.Stream, Redelivered: md.NumDelivered > 1}
	body, err := events.DecodeMsg(m)
	if err != nil {
		return ev, err
	}
	return ev, setAward(&ev, body)
}

// setAward puts an award event's body in ev.
func setAward(ev *Event, body events.Event) error {
	switch b := body.(type) {
	case *eventsv1.AwardGranted:
		ev.Granted = b
	case *eventsv1.AwardRevoked:
		ev.Revoked = b
	default:
		return fmt.Errorf("message on %s: %s is not an award event", ev.Subject, events.TypeOf(b))
	}
	return nil
}
