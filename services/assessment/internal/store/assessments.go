package store

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/predikat-id/predikat/pkg/events"
	assessmentv1 "github.com/predikat-id/predikat/pkg/gen/predikat/assessment/v1"
	eventsv1 "github.com/predikat-id/predikat/pkg/gen/predikat/events/v1"
	"github.com/predikat-id/predikat/pkg/platform/fault"
	"github.com/predikat-id/predikat/pkg/platform/natsx"
	"github.com/predikat-id/predikat/services/assessment/internal/app"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// stored is one revision as it sits in the stream, with the fingerprint of
// the request that stored it ("" when stored before fingerprints were kept).
type stored struct {
	ev          *eventsv1.AssessmentRecorded
	seq         uint64
	fingerprint string
}

func decode(m *jetstream.RawStreamMsg) (*stored, error) {
	var ev eventsv1.AssessmentRecorded
	if err := proto.Unmarshal(m.Data, &ev); err != nil {
		return nil, fmt.Errorf("decode assessment at sequence %d: %w", m.Sequence, err)
	}
	return &stored{ev: &ev, seq: m.Sequence, fingerprint: m.Header.Get(events.HeaderRequestFingerprint)}, nil
}

// last returns the latest revision on a subject that counts, or nil.
func (s *Store) last(ctx context.Context, subject string) (*stored, error) {
	st, _, err := s.tip(ctx, subject)
	return st, err
}

// tip returns the latest revision on a subject that counts (nil: none) and
// the subject's last sequence, which the next append expects: a revision
// refused past a fence stays in the stream, so the two can differ.
func (s *Store) tip(ctx context.Context, subject string) (*stored, uint64, error) {
	m, err := s.assessments.GetLastMsgForSubject(ctx, subject)
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return nil, 0, nil
	}
	if err != nil {
		return nil, 0, unavailable("read assessment", err)
	}
	st, err := decode(m)
	if err != nil {
		return nil, 0, err
	}
	refused, err := s.refused(ctx, st)
	if err != nil || !refused {
		return st, m.Sequence, err
	}
	counted, err := s.latestCounted(ctx, subject)
	return counted, m.Sequence, err
}

// latestCounted walks a subject for its latest revision that counts (nil:
// none); only needed when the latest one was refused, which is rare.
func (s *Store) latestCounted(ctx context.Context, subject string) (*stored, error) {
	var found *stored
	err := s.revisions(ctx, subject, func(st *stored) bool {
		found = st
		return true
	})
	return found, err
}

// revisions walks a subject's messages oldest first, leaving out revisions
// refused past a fence, stopping when visit returns false.
func (s *Store) revisions(ctx context.Context, subject string, visit func(*stored) bool) error {
	for seq := uint64(1); ; {
		m, err := s.assessments.GetMsg(ctx, seq, jetstream.WithGetMsgSubject(subject))
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			return nil
		}
		if err != nil {
			return unavailable("read assessment revisions", err)
		}
		seq = m.Sequence + 1
		st, err := decode(m)
		if err != nil {
			return err
		}
		refused, err := s.refused(ctx, st)
		if err != nil {
			return err
		}
		if !refused && !visit(st) {
			return nil
		}
	}
}

// maxTipRetries bounds how often an append is decided again because the
// record's tip moved under it (another writer, or a view behind the stream).
const maxTipRetries = 5

// Append stores ev.Assessment as the next revision of its record, if the
// record is still at correctsRevision (0: no record yet), with the request's
// fingerprint beside its request id. current is the latest revision that
// counts and expect the subject's last sequence, as the caller read them
// (they differ when a refused revision follows the latest); the publish
// expects that sequence still last, which is the optimistic concurrency
// check: the caller may have read them from this replica's view, which can
// be behind the stream, and when the publish or the revision disagrees the
// append reads the record from the stream and decides again. The same
// request id returns the revision it stored before, with created false:
// from JetStream's de-duplication inside its window, from the stored
// request ids after it. Whether that was the same request is the caller's
// to decide, by the fingerprint returned with it.
//
// fence is the revision of the round the caller decided on: the round may
// have been closed while the caller was computing, and then the append
// returns app.ErrRoundMoved. A close can still land between that check and
// the append; then the revision counts only if it is inside the close's
// fence, and is refused otherwise.
func (s *Store) Append(ctx context.Context, ev *eventsv1.AssessmentRecorded, fingerprint string, correctsRevision, current, expect, fence uint64) (*stored, bool, error) {
	a := ev.GetAssessment()
	subject := events.AssessmentSubject(a.GetSchemeId(), a.GetYear(), a.GetInstitutionId())
	if !a.GetAfterPublication() {
		ev.RoundRevision = fence
	}
	for range maxTipRetries {
		if correctsRevision != current {
			// Only the stream says the record moved on: the caller's
			// tip may come from a view that is behind.
			done, now, seq, err := s.retip(ctx, subject, a)
			if err != nil || done != nil {
				return done, false, err
			}
			if now != correctsRevision {
				old, err := s.superseded(ctx, subject, a, now, correctsRevision)
				return old, false, err
			}
			current, expect = now, seq
		}
		st, created, moved, err := s.appendAt(ctx, ev, subject, fingerprint, current, expect, fence)
		if !moved {
			return st, created, err
		}
		// Someone appended first, or the tip was read from a view behind
		// the stream: if it was this very request (a concurrent retry),
		// that is the answer; otherwise decide again on the record as
		// the stream has it.
		done, now, seq, err := s.retip(ctx, subject, a)
		if err != nil || done != nil {
			return done, false, err
		}
		current, expect = now, seq
	}
	return nil, false, fault.Conflictf("the record of %s in round %s is changing concurrently; try again", a.GetInstitutionId(), a.GetRoundId())
}

// retip reads a record's tip from the stream for an append that decides
// again: the latest revision that counts and the subject's last sequence,
// or done, that revision, when this very request stored it.
func (s *Store) retip(ctx context.Context, subject string, a *assessmentv1.Assessment) (done *stored, current, expect uint64, err error) {
	now, seq, err := s.tip(ctx, subject)
	if err != nil {
		return nil, 0, 0, err
	}
	if now != nil && now.ev.GetAssessment().GetRequestId() == a.GetRequestId() {
		return now, 0, 0, nil
	}
	return nil, now.revision(), seq, nil
}

// appendAt publishes ev as the revision after current, expecting the
// subject's last sequence at expect. moved says the subject was not there
// (nothing stored); otherwise st is the revision stored: ev itself,
// created, checked against the close's fence and put in the view, or what
// the request stored before when JetStream recognised a retry.
func (s *Store) appendAt(ctx context.Context, ev *eventsv1.AssessmentRecorded, subject, fingerprint string, current, expect, fence uint64) (st *stored, created, moved bool, err error) {
	a := ev.GetAssessment()
	msg, err := s.nextRevision(ev, subject, current)
	if err != nil {
		return nil, false, false, err
	}
	if fingerprint != "" {
		msg.Header.Set(events.HeaderRequestFingerprint, fingerprint)
	}
	if err := s.checkFence(ctx, a.GetRoundId(), fence); err != nil {
		return nil, false, false, err
	}
	ack, err := s.commits.publish(ctx, msg, expect)
	if natsx.IsWrongLastSequence(err) {
		return nil, false, true, nil
	}
	if err != nil || ack.Duplicate {
		got, err := s.notAppended(ctx, a, ack, err)
		return got, false, false, err
	}
	acked := time.Now()
	st = &stored{ev: ev, seq: ack.Sequence, fingerprint: fingerprint}
	if err := s.checkInside(ctx, st, subject, acked); err != nil {
		return nil, false, false, err
	}
	// The caller reads its own write on this replica: the view shows it
	// now, not once its consumer gets there.
	s.view.putAssessment(*st.entry())
	return st, true, false, nil
}

// checkInside makes sure a revision just stored counts: the round is still
// at the revision it was decided on (a later close settles its fence after
// this, so above this revision), or the close that came first settled a
// fence at or above it. acked is when the append was acknowledged: the
// round is read after it. Otherwise the revision is refused: it stays in the
// stream, outside the round, and this replica's view goes back to the
// revision before it.
func (s *Store) checkInside(ctx context.Context, st *stored, subject string, acked time.Time) error {
	rr := st.ev.GetRoundRevision()
	if rr == 0 {
		return nil
	}
	a := st.ev.GetAssessment()
	r, rev, err := s.freshRound(ctx, a.GetRoundId(), acked)
	if err != nil || rev == rr {
		return err
	}
	fence, err := s.settleFence(ctx, r.GetSchemeId(), r.GetYear(), r.GetId(), rr)
	if err != nil || st.seq <= fence {
		return err
	}
	// The view's consumer may not have delivered the refused revision
	// yet; once it has, nothing puts it back.
	s.readOwnWrite(ctx, s.view.assessmentsFeed, st.seq)
	prev, err := s.latestCounted(ctx, subject)
	if err != nil {
		return err
	}
	s.view.replaceAssessment(a.GetRoundId(), a.GetInstitutionId(), st.seq, prev.entry())
	return errRefused(a.GetRoundId(), a.GetInstitutionId())
}

// entry is the revision as the view keeps it; nil for none.
func (st *stored) entry() *entry {
	if st == nil {
		return nil
	}
	return &entry{a: st.ev.GetAssessment(), seq: st.seq, roundRevision: st.ev.GetRoundRevision()}
}

// superseded answers an append whose record has moved past
// correctsRevision: a retry of a request stored earlier gets its revision,
// anything else is a conflict.
func (s *Store) superseded(ctx context.Context, subject string, a *assessmentv1.Assessment, current, correctsRevision uint64) (*stored, error) {
	old, err := s.findRequest(ctx, subject, a.GetRequestId())
	if err != nil || old != nil {
		return old, err
	}
	return nil, staleRecord(a, current, correctsRevision)
}

// nextRevision stamps ev as the revision after current and builds its
// message; the request id header lets JetStream drop a retry in its window.
func (s *Store) nextRevision(ev *eventsv1.AssessmentRecorded, subject string, current uint64) (*nats.Msg, error) {
	a := ev.GetAssessment()
	a.Revision = current + 1
	a.RecordTime = timestamppb.New(s.now())
	ev.EventId = fmt.Sprintf("%s/%s/%s", a.GetRoundId(), a.GetInstitutionId(), a.GetRequestId())
	ev.EventTime = a.GetRecordTime()
	msg, err := events.NewMsg(subject, Source, a.GetInstitutionId(), ev)
	if err != nil {
		return nil, err
	}
	msg.Header.Set(events.HeaderRequestID, a.GetRequestId())
	return msg, nil
}

// checkFence fails with app.ErrRoundMoved when the round is no longer at the
// revision the caller decided on, as far as this replica knows: it saves a
// write that would be refused, but what decides is the check after the
// append (checkInside), which reads the round as stored.
func (s *Store) checkFence(ctx context.Context, roundID string, fence uint64) error {
	r, err := s.cachedRound(ctx, roundID)
	if err != nil {
		return err
	}
	if r.Revision != fence {
		return app.ErrRoundMoved
	}
	return nil
}

// notAppended answers a publish that stored nothing new: it failed (pubErr),
// or JetStream recognised a retry (ack.Duplicate).
func (s *Store) notAppended(ctx context.Context, a *assessmentv1.Assessment, ack *jetstream.PubAck, pubErr error) (*stored, error) {
	if pubErr != nil {
		return nil, unavailable("append assessment", pubErr)
	}
	st, err := s.load(ctx, ack.Sequence)
	if err != nil {
		return nil, err
	}
	refused, err := s.refused(ctx, st)
	if err != nil {
		return nil, err
	}
	if refused {
		return nil, errRefused(a.GetRoundId(), a.GetInstitutionId())
	}
	return st, nil
}

// load reads the revision stored at sequence seq. A stored message never
// changes (the stream denies deletes and purges), so any sequence the view
// names can be read back as it was.
func (s *Store) load(ctx context.Context, seq uint64) (*stored, error) {
	m, err := s.assessments.GetMsg(ctx, seq)
	if err != nil {
		return nil, unavailable("read assessment", err)
	}
	return decode(m)
}

// loadParallel bounds how many reads loadAll keeps in flight.
const loadParallel = 16

// loadAll reads the revisions at seqs, in their order, several at a time.
func (s *Store) loadAll(ctx context.Context, seqs []uint64) ([]*stored, error) {
	out := make([]*stored, len(seqs))
	if len(seqs) == 0 {
		return out, nil
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		wg   sync.WaitGroup
		next atomic.Int64
		mu   sync.Mutex
		ferr error
	)
	for range min(loadParallel, len(seqs)) {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= len(seqs) {
					return
				}
				st, err := s.load(ctx, seqs[i])
				if err != nil {
					mu.Lock()
					if ferr == nil {
						ferr = err
					}
					mu.Unlock()
					cancel()
					return
				}
				out[i] = st
			}
		})
	}
	wg.Wait()
	return out, ferr
}

// PublishCorrected announces a correction of a published round.
func (s *Store) PublishCorrected(ctx context.Context, ev *eventsv1.RoundCorrected) error {
	ev.EventTime = timestamppb.New(s.now())
	msg, err := events.NewMsg(events.RoundCorrectedSubject(ev.GetSchemeId(), ev.GetYear(), ev.GetInstitutionId()), Source, ev.GetRoundId(), ev)
	if err != nil {
		return err
	}
	if _, err := events.Publish(ctx, s.js, msg); err != nil {
		return unavailable("publish RoundCorrected", err)
	}
	return nil
}

func (st *stored) revision() uint64 {
	if st == nil {
		return 0
	}
	return st.ev.GetAssessment().GetRevision()
}

func (s *Store) findRequest(ctx context.Context, subject, requestID string) (*stored, error) {
	var found *stored
	err := s.revisions(ctx, subject, func(st *stored) bool {
		if st.ev.GetAssessment().GetRequestId() == requestID {
			found = st
			return false
		}
		return true
	})
	return found, err
}

func staleRecord(a *assessmentv1.Assessment, current, expected uint64) error {
	if current == 0 {
		return fault.Conflictf("%s has no record in round %s yet, but corrects_revision is %d: send corrects_revision 0 to record it",
			a.GetInstitutionId(), a.GetRoundId(), expected)
	}
	return fault.Conflictf("the record of %s in round %s is at revision %d, not %d: read it again (GetAssessment) and send corrects_revision %d with your reason",
		a.GetInstitutionId(), a.GetRoundId(), current, expected, current)
}

// Assessment returns the latest revision (revision 0) or a given one.
func (s *Store) Assessment(ctx context.Context, schemeID string, year int32, roundID, institutionID string, revision uint64) (*assessmentv1.Assessment, error) {
	subject := events.AssessmentSubject(schemeID, year, institutionID)
	notFound := fault.NotFoundf("%s has no record in round %s", institutionID, roundID)
	if revision == 0 {
		st, err := s.last(ctx, subject)
		if err != nil {
			return nil, err
		}
		if st == nil {
			return nil, notFound
		}
		return st.ev.GetAssessment(), nil
	}
	var found *assessmentv1.Assessment
	latest := uint64(0)
	err := s.revisions(ctx, subject, func(st *stored) bool {
		latest = st.revision()
		if latest == revision {
			found = st.ev.GetAssessment()
			return false
		}
		return true
	})
	if err != nil {
		return nil, err
	}
	if found == nil {
		if latest == 0 {
			return nil, notFound
		}
		return nil, fault.NotFoundf("the record of %s in round %s has revisions 1 to %d, not %d", institutionID, roundID, latest, revision)
	}
	return found, nil
}

// Revisions returns the revisions of a record after revision `after`, oldest
// first, at most limit, and whether more follow.
func (s *Store) Revisions(ctx context.Context, schemeID string, year int32, institutionID string, after uint64, limit int) ([]*assessmentv1.Assessment, bool, error) {
	var out []*assessmentv1.Assessment
	more := false
	err := s.revisions(ctx, events.AssessmentSubject(schemeID, year, institutionID), func(st *stored) bool {
		if st.revision() <= after {
			return true
		}
		if len(out) == limit {
			more = true
			return false
		}
		out = append(out, st.ev.GetAssessment())
		return true
	})
	return out, more, err
}
