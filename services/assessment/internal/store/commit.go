package store

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/predikat-id/predikat/pkg/events"
	"github.com/predikat-id/predikat/pkg/platform/natsx"
)

// Group commit of single records. With every write fsynced before it is
// acknowledged, the stream takes single publishes one fsync at a time,
// however many callers wait, while an atomic batch pays a fixed cost of
// about six synchronous writes whatever its size. So while few publishes
// are in flight a record is published at once, alone (a lone caller pays
// nothing more); when more callers write than that, the records that
// arrive meanwhile wait for the next free slot and go together, as one
// atomic batch once there are enough of them to be worth its fixed cost.
// Each record keeps its own expectation (the last sequence of its
// subject) and its own message id, and a group holds at most one record
// per subject. A batch the server refuses (an expectation that failed, a
// message id stored before, a batch the stream cannot take) stored
// nothing, and is published again record by record, so every record gets
// the answer it would have had alone. A batch whose answer is lost (a
// timeout, a connection lost) may have been stored: its records are
// answered with that error, as a lost publish's would be, and a retry
// under the same request id finds what was stored. A record whose caller
// gave up before its group was sent is not sent.
type committer struct {
	js jetstream.JetStream

	mu       sync.Mutex
	queue    []*pendingPub
	inflight int

	// batches and batched count the atomic batches stored and their
	// records, refused the batches the stream refused (then sent record
	// by record), for the operators' metrics.
	batches, batched, refused atomic.Int64
}

// pendingPub is one record waiting for its publish: its message (with its
// expectation header) and, once done is closed, the answer.
type pendingPub struct {
	ctx  context.Context
	msg  *nats.Msg
	done chan struct{}
	ack  *jetstream.PubAck
	err  error
}

const (
	// commitSlots is how many publishes (a record alone or a group) may
	// be in flight before records wait to go together.
	commitSlots = 2
	// minAtomicGroup is the smallest group sent as one atomic batch:
	// smaller groups go as single publishes in flight together, cheaper
	// than a batch's fixed cost at that size (measured with `go test
	// -bench Record$ ./services/assessment/internal/store`).
	minAtomicGroup = 16
	// maxAtomicGroup bounds a batch (the server's limit is 1,000).
	maxAtomicGroup = 256
	// commitTimeout bounds a publish that carries other callers' records:
	// no one caller's deadline may cut it short (a caller with a shorter
	// one stops waiting at its own).
	commitTimeout = 10 * time.Second
)

// GroupCommits is how many atomic batches of single records this replica
// stored, how many records they held, and how many batches the stream
// refused (their records then went one by one).
func (s *Store) GroupCommits() (batches, records, refused int64) {
	return s.commits.batches.Load(), s.commits.batched.Load(), s.commits.refused.Load()
}

// publish stores msg, expecting its subject's last sequence at expect, and
// returns the stream's acknowledgement, as a synchronous publish would.
func (c *committer) publish(ctx context.Context, msg *nats.Msg, expect uint64) (*jetstream.PubAck, error) {
	span := events.StartPublish(ctx, msg)
	msg.Header.Set(jetstream.ExpectedLastSubjSeqHeader, strconv.FormatUint(expect, 10))
	c.mu.Lock()
	if c.inflight < commitSlots && len(c.queue) == 0 {
		c.inflight++
		c.mu.Unlock()
		ack, err := c.js.PublishMsg(ctx, msg)
		c.release()
		events.EndPublish(span, ack, err)
		return ack, err //nolint:wrapcheck // as events.Publish: the caller says what it published
	}
	p := &pendingPub{ctx: ctx, msg: msg, done: make(chan struct{})}
	c.queue = append(c.queue, p)
	c.dispatchLocked()
	c.mu.Unlock()
	select {
	case <-p.done:
		events.EndPublish(span, p.ack, p.err)
		return p.ack, p.err
	case <-ctx.Done():
		// The group may still store it: a retry under the same request
		// id finds it, as after any publish whose answer was lost.
		events.EndPublish(span, nil, ctx.Err())
		return nil, ctx.Err()
	}
}

// release frees a slot and sends what waits.
func (c *committer) release() {
	c.mu.Lock()
	c.inflight--
	c.dispatchLocked()
	c.mu.Unlock()
}

// dispatchLocked sends waiting records as groups while slots are free.
func (c *committer) dispatchLocked() {
	for c.inflight < commitSlots && len(c.queue) > 0 {
		group := c.takeLocked()
		c.inflight++
		go func() {
			c.commit(group)
			c.release()
		}()
	}
}

// takeLocked removes the next group from the queue, oldest first: at most
// maxAtomicGroup records, one per subject (two revisions of one record
// expect the same sequence: the second waits for the next group). A record
// whose caller has given up is answered and dropped: sent late, it could
// still win its record from the caller's next request.
func (c *committer) takeLocked() []*pendingPub {
	seen := make(map[string]struct{}, min(len(c.queue), maxAtomicGroup))
	var group, rest []*pendingPub
	for _, p := range c.queue {
		if err := p.ctx.Err(); err != nil {
			p.err = err
			close(p.done)
			continue
		}
		if _, dup := seen[p.msg.Subject]; dup || len(group) == maxAtomicGroup {
			rest = append(rest, p)
			continue
		}
		seen[p.msg.Subject] = struct{}{}
		group = append(group, p)
	}
	c.queue = rest
	return group
}

// commit stores a group and answers each of its records.
func (c *committer) commit(group []*pendingPub) {
	ctx, cancel := context.WithTimeout(context.Background(), commitTimeout)
	defer cancel()
	if len(group) >= minAtomicGroup && c.commitAtomic(ctx, group) {
		return
	}
	c.commitEach(ctx, group)
}

// commitEach publishes the records of a group one by one, all in flight
// together, and answers each.
func (c *committer) commitEach(ctx context.Context, group []*pendingPub) {
	var wg sync.WaitGroup
	for _, p := range group {
		wg.Go(func() {
			p.ack, p.err = c.js.PublishMsg(ctx, p.msg)
			close(p.done)
		})
	}
	wg.Wait()
}

// commitAtomic stores the group as one atomic batch and answers every
// record (stored, or the error of an answer lost); false, answering none,
// when the stream refused the batch, which then stored nothing.
func (c *committer) commitAtomic(ctx context.Context, group []*pendingPub) bool {
	msgs := make([]*nats.Msg, len(group))
	for i, p := range group {
		msgs[i] = p.msg
	}
	ack, err := natsx.PublishAtomic(ctx, c.js.Conn(), msgs)
	var refusal *jetstream.APIError
	switch {
	case errors.As(err, &refusal):
		// Sent again record by record: without the batch's headers.
		natsx.ClearBatchHeaders(msgs)
		c.refused.Add(1)
		return false
	case err != nil:
		// No answer: the batch may be stored. Sent again record by
		// record, a stored record would come back as a duplicate, not
		// as this call's own new revision.
		for _, p := range group {
			p.err = err
			close(p.done)
		}
		return true
	}
	c.batches.Add(1)
	c.batched.Add(int64(len(group)))
	for i, p := range group {
		p.ack = &jetstream.PubAck{Stream: ack.Stream, Sequence: ack.First() + uint64(i)}
		close(p.done)
	}
	return true
}
