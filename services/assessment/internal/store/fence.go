package store

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/predikat-id/predikat/pkg/events"
	eventsv1 "github.com/predikat-id/predikat/pkg/gen/predikat/events/v1"
	"github.com/predikat-id/predikat/pkg/platform/fault"
)

// A record is decided on the round as read (OPEN, at some revision) and
// appended afterwards; the round may be closed in between. The close settles
// a fence: the last sequence the ASSESSMENTS stream held for the round when
// the fence was settled, after the round went CLOSED. A record decided on
// the OPEN revision the close replaced counts only at or below that fence;
// its recorder checks after the append and refuses it otherwise, and every
// reader of the round's results ignores it. The fence lives beside the round
// in the rounds bucket, keyed by that OPEN revision, and is written once
// (create): whoever settles it first (the close, a recorder that saw the
// round move, a publication) fixes it for everyone.

// fenceKey names the fence of the close that replaced OPEN revision openRev.
func fenceKey(roundID string, openRev uint64) string {
	return fmt.Sprintf("fence.%s.%d", roundID, openRev)
}

// fences caches settled fences, which never change once written.
type fences struct {
	mu  sync.RWMutex
	seq map[string]uint64
}

func (f *fences) get(key string) (uint64, bool) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	seq, ok := f.seq[key]
	return seq, ok
}

func (f *fences) put(key string, seq uint64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.seq == nil {
		f.seq = map[string]uint64{}
	}
	f.seq[key] = seq
}

// storedFence reads a settled fence; ok is false when none is settled yet.
func (s *Store) storedFence(ctx context.Context, roundID string, openRev uint64) (seq uint64, ok bool, err error) {
	key := fenceKey(roundID, openRev)
	if seq, ok := s.fences.get(key); ok {
		return seq, true, nil
	}
	e, err := s.rounds.Get(ctx, key)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, unavailable("read round fence", err)
	}
	if seq, err = strconv.ParseUint(string(e.Value()), 10, 64); err != nil {
		return 0, false, fmt.Errorf("decode fence %s: %w", key, err)
	}
	s.fences.put(key, seq)
	return seq, true, nil
}

// settleFence returns the fence of the close that replaced OPEN revision
// openRev of the round, settling it now if nobody has. Only call it once the
// round is known to have left openRev: the fence is taken after the close,
// so every record stored before it is inside.
func (s *Store) settleFence(ctx context.Context, schemeID string, year int32, roundID string, openRev uint64) (uint64, error) {
	if seq, ok, err := s.storedFence(ctx, roundID, openRev); ok || err != nil {
		return seq, err
	}
	last, err := s.lastRoundSequence(ctx, schemeID, year)
	if err != nil {
		return 0, err
	}
	_, err = s.rounds.Create(ctx, fenceKey(roundID, openRev), []byte(strconv.FormatUint(last, 10)))
	if errors.Is(err, jetstream.ErrKeyExists) {
		// Settled concurrently: that one holds.
		seq, _, err := s.storedFence(ctx, roundID, openRev)
		return seq, err
	}
	if err != nil {
		return 0, unavailable("settle round fence", err)
	}
	s.fences.put(fenceKey(roundID, openRev), last)
	return last, nil
}

// lastRoundSequence is the stream sequence of the round's latest record (0:
// none).
func (s *Store) lastRoundSequence(ctx context.Context, schemeID string, year int32) (uint64, error) {
	m, err := s.assessments.GetLastMsgForSubject(ctx, events.AssessmentFilter(schemeID, year))
	switch {
	case errors.Is(err, jetstream.ErrMsgNotFound):
		return 0, nil
	case err != nil:
		return 0, unavailable("read round results", err)
	}
	return m.Sequence, nil
}

// refused says whether a stored revision lies beyond the fence of the close
// that ended the OPEN revision it was decided on. A revision without a round
// revision (a correction, or stored before fences existed) and one whose
// fence is not settled yet are not refused: a recorder settles the fence
// before it refuses.
func (s *Store) refused(ctx context.Context, st *stored) (bool, error) {
	rr := st.ev.GetRoundRevision()
	if rr == 0 {
		return false, nil
	}
	fence, ok, err := s.storedFence(ctx, st.ev.GetAssessment().GetRoundId(), rr)
	if err != nil || !ok {
		return false, err
	}
	return st.seq > fence, nil
}

// roundFences lists every fence settled for a round, by the OPEN revision
// each close replaced, for the round events: readers that keep their own
// view of the results (the ranking service) leave out what they refuse.
func (s *Store) roundFences(ctx context.Context, roundID string) ([]*eventsv1.AssessmentFence, error) {
	lister, err := s.rounds.ListKeysFiltered(ctx, "fence."+roundID+".*")
	if err != nil {
		return nil, unavailable("list round fences", err)
	}
	var out []*eventsv1.AssessmentFence
	for key := range lister.Keys() {
		rev, err := strconv.ParseUint(strings.TrimPrefix(key, "fence."+roundID+"."), 10, 64)
		if err != nil {
			continue
		}
		seq, ok, err := s.storedFence(ctx, roundID, rev)
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, &eventsv1.AssessmentFence{RoundRevision: rev, Sequence: seq})
		}
	}
	slices.SortFunc(out, func(a, b *eventsv1.AssessmentFence) int {
		return cmp.Compare(a.GetRoundRevision(), b.GetRoundRevision())
	})
	return out, nil
}

// errRefused tells a recorder its revision landed past the close's fence.
func errRefused(roundID, institutionID string) error {
	return fault.Preconditionf("round %s was closed while the record of %s was being stored: it landed after the close and is not part of the round; "+
		"reopen the round (ReopenRound) and record it again with a new request id", roundID, institutionID)
}
