package rebuild

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/predikat-id/predikat/pkg/events"
	eventsv1 "github.com/predikat-id/predikat/pkg/gen/predikat/events/v1"
	rt "github.com/predikat-id/predikat/pkg/platform/testenv/eventtest"
	"github.com/predikat-id/predikat/pkg/platform/testenv/natstest"
)

// The staged read hands fn every subject's last message once, in stream
// order, and stops at fn's first error with that error.
func TestLastPerSubjectStagedRead(t *testing.T) {
	ns := natstest.Start(t)
	js, err := jetstream.New(ns.Conn(t), jetstream.WithPublishAsyncMaxPending(8192))
	if err != nil {
		t.Fatal(err)
	}
	pub := rt.NewPublisher(t, js)
	const n = 3*readBatch*readAhead + 17 // more than the reader may run ahead
	var evs []*eventsv1.AssessmentRecorded
	for i := range n {
		r := rt.Rec{Year: 2024, Inst: rt.Inst{ID: fmt.Sprintf("i-%05d", i), Name: "x", Kind: rt.Polres, Region: "63.01"}, Total: "70.00"}
		evs = append(evs, pub.Event(r))
		if i%5 == 0 {
			r.Total = "71.00"
			evs = append(evs, pub.Event(r))
		}
	}
	rt.PublishAsync(t, js, evs)
	ctx := context.Background()
	filter := []string{events.AssessmentFilter("", 0)}
	seen := map[string]bool{}
	var last uint64
	got, err := lastPerSubject(ctx, js, events.Assessments, filter, func(m jetstream.Msg, seq uint64) error {
		if seen[m.Subject()] || seq <= last {
			return fmt.Errorf("%s at %d after %d: repeated or out of order", m.Subject(), seq, last)
		}
		seen[m.Subject()], last = true, seq
		return nil
	})
	if err != nil || got != n || len(seen) != n {
		t.Fatalf("read %d (%d subjects), %v; want %d", got, len(seen), err, n)
	}
	stop := errors.New("stop")
	calls := 0
	got, err = lastPerSubject(ctx, js, events.Assessments, filter, func(jetstream.Msg, uint64) error {
		calls++
		if calls == 300 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || got != 300 || calls != 300 {
		t.Fatalf("after an error: %d read, %d calls, %v", got, calls, err)
	}
	cctx, cancel := context.WithCancelCause(ctx)
	gone := errors.New("mark lost")
	got, err = lastPerSubject(cctx, js, events.Assessments, filter, func(jetstream.Msg, uint64) error {
		cancel(gone)
		return nil
	})
	if !errors.Is(err, gone) || got >= n {
		t.Fatalf("after cancel: %d read, %v", got, err)
	}
}
