package natsx

import (
	"context"
	"fmt"
	"sync"

	"github.com/nats-io/nats.go/jetstream"
)

// Follower feeds a stream into a replica-local view: an ordered consumer
// (no server-side state, re-created by itself after a NATS restart) delivers
// every message in order to apply, and the Follower remembers the last
// sequence applied, so a writer can wait until its own write is visible.
type Follower struct {
	mu       sync.Mutex
	applied  uint64
	progress chan struct{}
}

// Follow starts following stream (subjects filter, from policy) until ctx
// ends. It returns once every message stored before the call was applied.
func Follow(ctx context.Context, js jetstream.JetStream, stream string, filter []string, policy jetstream.DeliverPolicy, apply func(jetstream.Msg)) (*Follower, error) {
	st, err := js.Stream(ctx, stream)
	if err != nil {
		return nil, fmt.Errorf("follow %s: %w", stream, err)
	}
	info, err := st.Info(ctx)
	if err != nil {
		return nil, fmt.Errorf("follow %s: %w", stream, err)
	}
	f := &Follower{progress: make(chan struct{})}
	cons, err := js.OrderedConsumer(ctx, stream, jetstream.OrderedConsumerConfig{FilterSubjects: filter, DeliverPolicy: policy})
	if err != nil {
		return nil, fmt.Errorf("follow %s: %w", stream, err)
	}
	cc, err := cons.Consume(func(m jetstream.Msg) {
		apply(m)
		if md, err := m.Metadata(); err == nil {
			f.mark(md.Sequence.Stream)
		}
	})
	if err != nil {
		return nil, fmt.Errorf("follow %s: %w", stream, err)
	}
	go func() { <-ctx.Done(); cc.Stop() }()
	// With a filter or last-per-subject delivery the stream's last message
	// may never be delivered; only wait when it will be.
	target := info.State.LastSeq
	if len(filter) > 0 || policy != jetstream.DeliverAllPolicy {
		target = lastMatching(ctx, st, filter, target)
	}
	if err := f.WaitApplied(ctx, target); err != nil {
		return nil, fmt.Errorf("follow %s: catch up to %d: %w", stream, target, err)
	}
	return f, nil
}

// lastMatching is the sequence of the last message matching filter (0 when
// none), found by asking for the last message of each filter subject.
func lastMatching(ctx context.Context, st jetstream.Stream, filter []string, last uint64) uint64 {
	if len(filter) == 0 {
		return last
	}
	var max uint64
	for _, subj := range filter {
		if m, err := st.GetLastMsgForSubject(ctx, subj); err == nil && m.Sequence > max {
			max = m.Sequence
		}
	}
	return max
}

func (f *Follower) mark(seq uint64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if seq > f.applied {
		f.applied = seq
	}
	close(f.progress)
	f.progress = make(chan struct{})
}

// WaitApplied blocks until sequence seq has been applied or ctx ends.
func (f *Follower) WaitApplied(ctx context.Context, seq uint64) error {
	for {
		f.mu.Lock()
		done, ch := f.applied >= seq, f.progress
		f.mu.Unlock()
		if done {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}
