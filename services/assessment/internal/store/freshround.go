package store

import (
	"context"
	"sync"
	"time"

	assessmentv1 "github.com/predikat-id/predikat/pkg/gen/predikat/assessment/v1"
)

// After its append, every record reads its round as stored (checkInside):
// the read must start after the append was acknowledged, and nothing
// more. Concurrent records of a round share reads: a caller joins the read
// in flight if it started after the caller's acknowledgement (the records
// of one group commit are acknowledged together, so they all share the
// read the first of them starts), or the read that is queued (not started
// yet, so it starts after the caller asked), or else queues one behind the
// read in flight; at most one read per round is in flight and one queued,
// so 50 concurrent records cost a couple of reads instead of 50.

// roundRead is one read of a round from the bucket.
type roundRead struct {
	done chan struct{}
	// started is when the read was sent (zero while it is queued); set
	// under roundReads.mu.
	started time.Time
	r       *assessmentv1.Round
	rev     uint64
	err     error
}

type roundReads struct {
	mu       sync.Mutex
	inFlight map[string]*roundRead
	queued   map[string]*roundRead
}

// freshRound returns the round as stored by a read that started after
// acked, a time.Now() of this process taken once the append was
// acknowledged (its monotonic reading is what is compared; a time without
// one, such as s.now()'s, would compare wall clocks): what loadRound
// returns, shared with concurrent callers. The read is bounded by callTimeout, not by any
// one caller's context (others wait on it); each caller stops waiting when
// its own context ends.
func (s *Store) freshRound(ctx context.Context, id string, acked time.Time) (*assessmentv1.Round, uint64, error) {
	rr := &s.roundReads
	rr.mu.Lock()
	if rr.inFlight == nil {
		rr.inFlight, rr.queued = map[string]*roundRead{}, map[string]*roundRead{}
	}
	if q := rr.queued[id]; q != nil {
		rr.mu.Unlock()
		return q.wait(ctx)
	}
	ahead := rr.inFlight[id]
	if ahead != nil && ahead.started.After(acked) {
		rr.mu.Unlock()
		return ahead.wait(ctx)
	}
	read := &roundRead{done: make(chan struct{})}
	if ahead != nil {
		// A read is in flight: it may have started before this caller's
		// append was acknowledged, so queue the next one.
		rr.queued[id] = read
	} else {
		rr.inFlight[id] = read
		read.started = time.Now()
	}
	rr.mu.Unlock()
	go s.runRoundRead(id, read, ahead)
	return read.wait(ctx)
}

// runRoundRead waits for the read ahead (if any) to finish, then reads.
func (s *Store) runRoundRead(id string, read, ahead *roundRead) {
	rr := &s.roundReads
	if ahead != nil {
		<-ahead.done
		rr.mu.Lock()
		delete(rr.queued, id)
		rr.inFlight[id] = read
		read.started = time.Now()
		rr.mu.Unlock()
	}
	ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
	read.r, read.rev, read.err = s.loadRound(ctx, id)
	cancel()
	rr.mu.Lock()
	if rr.inFlight[id] == read {
		delete(rr.inFlight, id)
	}
	rr.mu.Unlock()
	close(read.done)
}

func (r *roundRead) wait(ctx context.Context) (*assessmentv1.Round, uint64, error) {
	select {
	case <-r.done:
		return r.r, r.rev, r.err
	case <-ctx.Done():
		return nil, 0, ctx.Err()
	}
}
