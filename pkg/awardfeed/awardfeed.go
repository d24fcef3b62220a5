// Package awardfeed is the Go subscriber for Predikat awards: a durable
// JetStream consumer on the AWARDS stream, so a subscriber receives every
// award at least once, including those granted while it was away, and
// resumes where it stopped after a restart. Any other language does the same
// with its own NATS client; this package only saves Go users the details.
package awardfeed

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	eventsv1 "github.com/predikat-id/predikat/pkg/gen/predikat/events/v1"
	"github.com/predikat-id/predikat/pkg/streams"
	"google.golang.org/protobuf/proto"
)

// Filter selects awards; empty fields match everything.
type Filter struct {
	SchemeID      string // "ombudsman"
	Year          int32  // 2024
	ProvinceCode  string // "63"; "00" for national bodies
	Kind          string // subject token: pemprov, pemkab, pemkot, kementerian, lembaga, polres, kantah, mpp
	InstitutionID string
	// Revocations too (predikat.award.revoked.>), not only grants.
	IncludeRevoked bool
}

// Subjects returns the NATS subject filters for f.
func (f Filter) Subjects() []string {
	tok := func(s string) string {
		if s == "" {
			return "*"
		}
		return s
	}
	year := "*"
	if f.Year != 0 {
		year = fmt.Sprint(f.Year)
	}
	tail := fmt.Sprintf("%s.%s.%s.%s.%s.*", tok(f.SchemeID), year, tok(f.ProvinceCode), tok(f.Kind), tok(f.InstitutionID))
	out := []string{"predikat.award.granted." + tail}
	if f.IncludeRevoked {
		out = append(out, "predikat.award.revoked."+tail)
	}
	return out
}

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

// Subscribe creates (or resumes) the durable consumer named name and calls
// handle for each event in order of the stream, until ctx ends or Stop. An event is acknowledged when
// handle returns nil; an error redelivers it after a short delay.
func Subscribe(ctx context.Context, js jetstream.JetStream, name string, f Filter, handle func(context.Context, Event) error) (*Subscription, error) {
	cons, err := js.CreateOrUpdateConsumer(ctx, streams.Awards, jetstream.ConsumerConfig{
		Durable: name, Description: "award subscriber " + name, FilterSubjects: f.Subjects(),
		AckPolicy: jetstream.AckExplicitPolicy, DeliverPolicy: jetstream.DeliverAllPolicy,
		AckWait: 30 * time.Second, MaxAckPending: 256,
	})
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
		if err := handle(ctx, ev); err != nil {
			_ = m.NakWithDelay(time.Second)
			return
		}
		// Acknowledged with a context of its own: the handler's work is done,
		// and its acknowledgement must not be lost to ctx ending meanwhile.
		actx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = m.DoubleAck(actx)
	})
	if err != nil {
		return nil, fmt.Errorf("award subscriber %s: %w", name, err)
	}
	// The subscription lives as long as ctx: no handler runs after it ends.
	context.AfterFunc(ctx, cc.Stop)
	return &Subscription{cc: cc}, nil
}

func decode(m jetstream.Msg) (Event, error) {
	md, err := m.Metadata()
	if err != nil {
		return Event{}, err
	}
	ev := Event{Subject: m.Subject(), Sequence: md.Sequence.Stream, Redelivered: md.NumDelivered > 1}
	switch t := m.Headers().Get(streams.HeaderType); t {
	case "predikat.events.v1.AwardGranted":
		ev.Granted = &eventsv1.AwardGranted{}
		err = proto.Unmarshal(m.Data(), ev.Granted)
	case "predikat.events.v1.AwardRevoked":
		ev.Revoked = &eventsv1.AwardRevoked{}
		err = proto.Unmarshal(m.Data(), ev.Revoked)
	default:
		err = errors.New("unknown event type " + t)
	}
	return ev, err
}
