package natsx_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/predikat-id/predikat/pkg/platform/natsx"
	"github.com/predikat-id/predikat/pkg/platform/testenv/natstest"
)

func batchMsgs(n int, subject func(i int) string) []*nats.Msg {
	out := make([]*nats.Msg, n)
	for i := range out {
		out[i] = nats.NewMsg(subject(i))
		out[i].Data = []byte(fmt.Sprint(i))
	}
	return out
}

// A batch is stored whole, contiguous, or not at all.
func TestPublishAtomic(t *testing.T) {
	ns := natstest.Start(t)
	js := ns.JetStream(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "B", Subjects: []string{"b.>"}, AllowAtomicPublish: true})
	if err != nil {
		t.Fatal(err)
	}
	nc := ns.Conn(t)
	ack, err := natsx.PublishAtomic(ctx, nc, batchMsgs(3, func(i int) string { return fmt.Sprintf("b.%d", i) }))
	if err != nil || ack.First() != 1 || ack.Last != 3 || ack.Count != 3 {
		t.Fatalf("ack %+v, %v", ack, err)
	}
	// One expectation fails: nothing of the batch is stored.
	bad := batchMsgs(3, func(i int) string { return fmt.Sprintf("b.x%d", i) })
	bad[1].Header = nats.Header{jetstream.ExpectedLastSubjSeqHeader: []string{"7"}}
	_, err = natsx.PublishAtomic(ctx, nc, bad)
	if !natsx.IsWrongLastSequence(err) {
		t.Errorf("a failing expectation: %v, want the server's wrong last sequence", err)
	}
	info, err := s.Info(ctx)
	if err != nil || info.State.Msgs != 3 {
		t.Fatalf("stream holds %d messages, want the first batch's 3 (%v)", info.State.Msgs, err)
	}
	// The largest batch the server takes, then one more than that.
	ack, err = natsx.PublishAtomic(ctx, nc, batchMsgs(natsx.MaxAtomicBatch, func(i int) string { return fmt.Sprintf("b.m%d", i) }))
	if err != nil || ack.Count != natsx.MaxAtomicBatch || ack.First() != 4 {
		t.Fatalf("a batch of %d: %+v, %v", natsx.MaxAtomicBatch, ack, err)
	}
	if _, err := natsx.PublishAtomic(ctx, nc, batchMsgs(natsx.MaxAtomicBatch+1, func(int) string { return "b.y" })); err == nil || !strings.Contains(err.Error(), "at most") {
		t.Errorf("an oversized batch: %v", err)
	}
}
