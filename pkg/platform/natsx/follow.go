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
	Progress
}

// Progress is the last sequence (or KV revision) a replica-local view has
// applied, and a way to wait for a given one: what lets a writer read its
// own write from the view. The zero value is ready to use.
type Progress struct {
	mu       sync.Mutex
	applied  uint64
	progress chan struct{} // closed and replaced on every Mark
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
	f := &Follower{}
	cons, err := js.OrderedConsumer(ctx, stream, jetstream.OrderedConsumerConfig{FilterSubjects: filter, DeliverPolicy: policy})
	if err != nil {
		return nil, fmt.Errorf("follow %s: %w", stream, err)
	}
	cc, err := cons.Consume(func(m jetstream.Msg) {
		apply(m)
		if md, err := m.Metadata(); err == nil {
			f.Mark(md.Sequence.Stream)
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

// Mark records that seq has been applied.
func (p *Progress) Mark(seq uint64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if seq > p.applied {
		p.applied = seq
	}
	if p.progress != nil {
		close(p.progress)
		p.progress = nil
	}
}

// WaitApplied blocks until sequence seq has been applied or ctx ends.
func (p *Progress) WaitApplied(ctx context.Context, seq uint64) error {
	for {
		p.mu.Lock()
		done := p.applied >= seq
		if p.progress == nil {
			p.progress = make(chan struct{})
		}
		ch := p.progress
		p.mu.Unlock()
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
