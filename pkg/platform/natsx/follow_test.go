package natsx_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/predikat-id/predikat/pkg/platform/natsx"
	"github.com/predikat-id/predikat/pkg/platform/testenv/natstest"
)

func TestFollowCatchesUpAndTracksNewMessages(t *testing.T) {
	ns := natstest.Start(t)
	js := ns.JetStream(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := natsx.EnsureStream(ctx, js, jetstream.StreamConfig{Name: "F", Subjects: []string{"f.>"}}); err != nil {
		t.Fatal(err)
	}
	for _, subj := range []string{"f.a.1", "f.a.2", "f.b.1"} { // the last one is outside the filter
		if _, err := js.Publish(ctx, subj, []byte(subj)); err != nil {
			t.Fatal(err)
		}
	}
	var mu sync.Mutex
	var seen []string
	f, err := natsx.Follow(ctx, js, "F", []string{"f.a.>"}, jetstream.DeliverAllPolicy, func(m jetstream.Msg) {
		mu.Lock()
		seen = append(seen, m.Subject())
		mu.Unlock()
	})
	if err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	if len(seen) != 2 {
		t.Fatalf("Follow returned having applied %v, want the two f.a messages stored before it", seen)
	}
	mu.Unlock()
	ack, err := js.Publish(ctx, "f.a.3", nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.WaitApplied(ctx, ack.Sequence); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if seen[len(seen)-1] != "f.a.3" {
		t.Fatalf("a new message was not applied: %v", seen)
	}
}
