package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sort"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/predikat-id/predikat/pkg/events"
	assessmentv1 "github.com/predikat-id/predikat/pkg/gen/predikat/assessment/v1"
	eventsv1 "github.com/predikat-id/predikat/pkg/gen/predikat/events/v1"
	"github.com/predikat-id/predikat/pkg/platform/fault"
	"github.com/predikat-id/predikat/pkg/platform/natsx"
	"github.com/predikat-id/predikat/services/assessment/internal/convert"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// CreateRound stores a new OPEN round and announces it.
func (s *Store) CreateRound(ctx context.Context, r *assessmentv1.Round) (*assessmentv1.Round, error) {
	r.State = assessmentv1.RoundState_ROUND_STATE_OPEN
	r.CreateTime = timestamppb.New(s.now())
	b, err := proto.Marshal(r)
	if err != nil {
		return nil, err
	}
	rev, err := s.rounds.Create(ctx, r.GetId(), b)
	if errors.Is(err, jetstream.ErrKeyExists) {
		// The announcement of an earlier create may have been cut short:
		// repeat it (same event id, so at most one lands).
		if cur, _, lerr := s.loadRound(ctx, r.GetId()); lerr == nil {
			_ = s.announce(ctx, cur, eventsv1.RoundChangeType_ROUND_CHANGE_TYPE_CREATED, "", 0)
		}
		return nil, fault.Existsf("round %s already exists (one round per scheme and year)", r.GetId())
	}
	if err != nil {
		return nil, unavailable("create round", err)
	}
	s.roundCache.put(convert.RoundFromProto(r, rev))
	if err := s.announce(ctx, r, eventsv1.RoundChangeType_ROUND_CHANGE_TYPE_CREATED, "", 0); err != nil {
		return nil, err
	}
	return r, nil
}

// loadRound returns a round as stored, without counts, and its revision in
// the bucket: the fence a later append checks.
func (s *Store) loadRound(ctx context.Context, id string) (*assessmentv1.Round, uint64, error) {
	e, err := s.rounds.Get(ctx, id)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return nil, 0, fault.NotFoundf("round %s does not exist (ListRounds shows the rounds; CreateRound opens one)", id)
	}
	if err != nil {
		return nil, 0, unavailable("read round", err)
	}
	var r assessmentv1.Round
	if err := proto.Unmarshal(e.Value(), &r); err != nil {
		return nil, 0, fmt.Errorf("decode round %s: %w", id, err)
	}
	s.roundCache.put(convert.RoundFromProto(&r, e.Revision()))
	return &r, e.Revision(), nil
}

func (s *Store) withCounts(ctx context.Context, r *assessmentv1.Round) (*assessmentv1.Round, error) {
	info, err := s.assessments.Info(ctx, jetstream.WithSubjectFilter(events.AssessmentFilter(r.GetSchemeId(), r.GetYear())))
	if err != nil {
		return nil, unavailable("count assessments", err)
	}
	out := proto.Clone(r).(*assessmentv1.Round)
	out.AssessmentCount = int32(len(info.State.Subjects))
	var revs uint64
	for _, n := range info.State.Subjects {
		revs += n
	}
	out.RevisionCount = int32(revs)
	out.CorrectionCount = int32(s.view.correctionCount(r.GetId()))
	out.AwardCount = int32(s.view.awardCount(r.GetId()))
	return out, nil
}

// ListRounds returns every round matching keep, newest year first, then
// scheme id. Rounds are few (one per scheme and year).
func (s *Store) ListRounds(ctx context.Context, keep func(*assessmentv1.Round) bool) ([]*assessmentv1.Round, error) {
	// Round ids are one token; the bucket's other keys (fences,
	// publications) have several.
	lister, err := s.rounds.ListKeysFiltered(ctx, "*")
	if err != nil {
		return nil, unavailable("list rounds", err)
	}
	var out []*assessmentv1.Round
	for key := range lister.Keys() {
		r, _, err := s.loadRound(ctx, key)
		if fault.Is(err, fault.NotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if keep(r) {
			if r, err = s.withCounts(ctx, r); err != nil {
				return nil, err
			}
			out = append(out, r)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].GetYear() != out[j].GetYear() {
			return out[i].GetYear() > out[j].GetYear()
		}
		return out[i].GetSchemeId() < out[j].GetSchemeId()
	})
	return out, nil
}

// Transition applies a state change with compare-and-set, retrying when a
// concurrent change won (every transition is idempotent, so re-applying it
// to the newer state is right). It returns the round and whether it changed.
func (s *Store) Transition(ctx context.Context, id, reason string, apply func(*assessmentv1.Round) (*assessmentv1.Round, bool, error)) (*assessmentv1.Round, bool, error) {
	for range 5 {
		cur, rev, err := s.loadRound(ctx, id)
		if err != nil {
			return nil, false, err
		}
		next, changed, err := apply(cur)
		if err != nil {
			return nil, false, err
		}
		if !changed {
			// Already in that state: repeat its announcement in case the
			// call that made the change was cut short before it (the event
			// id is the state's, so at most one lands).
			return next, false, s.afterTransition(ctx, next, rev, reason)
		}
		b, err := proto.Marshal(next)
		if err != nil {
			return nil, false, err
		}
		newRev, err := s.rounds.Update(ctx, id, b, rev)
		if natsx.IsWrongLastSequence(err) {
			continue
		}
		if err != nil {
			return nil, false, unavailable("update round", err)
		}
		// Records on this replica see the change at once.
		s.roundCache.put(convert.RoundFromProto(next, newRev))
		if cur.GetState() == assessmentv1.RoundState_ROUND_STATE_OPEN || cur.GetState() == assessmentv1.RoundState_ROUND_STATE_CLOSED {
			// Settled right after the close (or the publication: an
			// objection's correction or a roll-up decided on the CLOSED
			// round may be in flight), the fence leaves out as few records
			// in flight as it can; whoever needs it later settles it if
			// this call stops here.
			if _, err := s.settleFence(ctx, next.GetSchemeId(), next.GetYear(), id, rev); err != nil {
				return nil, false, err
			}
		}
		return next, true, s.afterTransition(ctx, next, newRev, reason)
	}
	return nil, false, fault.Conflictf("round %s is changing concurrently; try again", id)
}

func (s *Store) afterTransition(ctx context.Context, r *assessmentv1.Round, rev uint64, reason string) error {
	switch r.GetState() {
	case assessmentv1.RoundState_ROUND_STATE_CLOSED:
		return s.announce(ctx, r, eventsv1.RoundChangeType_ROUND_CHANGE_TYPE_CLOSED, reason, rev)
	case assessmentv1.RoundState_ROUND_STATE_OPEN:
		return s.announce(ctx, r, eventsv1.RoundChangeType_ROUND_CHANGE_TYPE_REOPENED, reason, rev)
	}
	// PUBLISHED is announced by the publication itself, once its awards
	// are granted (Announce).
	return nil
}

// announce publishes RoundChanged, de-duplicated by the KV revision of the
// state it reports (rev 0: the creation).
func (s *Store) announce(ctx context.Context, r *assessmentv1.Round, typ eventsv1.RoundChangeType, reason string, rev uint64) error {
	id := fmt.Sprintf("round/%s/%d", r.GetId(), rev)
	if rev == 0 {
		id = fmt.Sprintf("round/%s/created", r.GetId())
	}
	fences, err := s.roundFences(ctx, r.GetId())
	if err != nil {
		return err
	}
	ev := &eventsv1.RoundChanged{EventId: id, EventTime: timestamppb.New(s.now()), Type: typ, Round: r, Reason: reason, Fences: fences,
		Actor: changedBy(r, typ)}
	msg, err := events.NewMsg(events.RoundChangedSubject(r.GetSchemeId(), r.GetYear()), Source, r.GetId(), ev)
	if err != nil {
		return err
	}
	if _, err := events.Publish(ctx, s.js, msg); err != nil {
		return unavailable("announce round change", err)
	}
	return nil
}

// changedBy is who made the change a RoundChanged reports, as the round
// after it keeps them.
func changedBy(r *assessmentv1.Round, typ eventsv1.RoundChangeType) string {
	switch typ {
	case eventsv1.RoundChangeType_ROUND_CHANGE_TYPE_CLOSED:
		return r.GetClosedBy()
	case eventsv1.RoundChangeType_ROUND_CHANGE_TYPE_REOPENED:
		return r.GetReopenedBy()
	case eventsv1.RoundChangeType_ROUND_CHANGE_TYPE_CREATED:
		return r.GetCreatedBy()
	}
	return ""
}

// Announce publishes RoundPublished exactly once, with the number of rule
// awards the publication granted: its subject belongs to the round alone
// and the publish expects it empty, so a retry, a resumed publication or
// the start-up completion never emit it twice. The publication calls it
// only after every award is granted.
func (s *Store) Announce(ctx context.Context, r *assessmentv1.Round, awardCount int32) error {
	fences, err := s.roundFences(ctx, r.GetId())
	if err != nil {
		return err
	}
	ev := &eventsv1.RoundPublished{EventId: "round-published/" + r.GetId(), EventTime: r.GetPublishTime(), Round: r, AwardCount: awardCount, Fences: fences}
	msg, err := events.NewMsg(events.RoundPublishedSubject(r.GetSchemeId(), r.GetYear()), Source, r.GetId(), ev)
	if err != nil {
		return err
	}
	_, err = events.Publish(ctx, s.js, msg, jetstream.WithExpectLastSequencePerSubject(0))
	if err != nil && !natsx.IsWrongLastSequence(err) {
		return unavailable("publish RoundPublished", err)
	}
	return nil
}

// Announced says whether RoundPublished for the round is out.
func (s *Store) Announced(ctx context.Context, r *assessmentv1.Round) (bool, error) {
	st, err := s.js.Stream(ctx, events.Rounds)
	if err != nil {
		return false, unavailable("read round announcements", err)
	}
	_, err = st.GetLastMsgForSubject(ctx, events.RoundPublishedSubject(r.GetSchemeId(), r.GetYear()))
	switch {
	case errors.Is(err, jetstream.ErrMsgNotFound):
		return false, nil
	case err != nil:
		return false, unavailable("read round announcements", err)
	}
	return true, nil
}

func publicationKey(roundID string) string { return "publication." + roundID }

// SavePublication keeps what a PublishRound call asked for beside the
// round, before the round is frozen, so a publication cut short is finished
// on start-up with the same ceremony and presenter.
// A call that asks for what is already kept writes nothing: publishing
// again (a retry, the demo loaded twice) leaves the log as it was.
func (s *Store) SavePublication(ctx context.Context, req *assessmentv1.PublishRoundRequest) error {
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(req)
	if err != nil {
		return err
	}
	if e, err := s.rounds.Get(ctx, publicationKey(req.GetRoundId())); err == nil && bytes.Equal(e.Value(), b) {
		return nil
	}
	if _, err := s.rounds.Put(ctx, publicationKey(req.GetRoundId()), b); err != nil {
		return unavailable("keep publication", err)
	}
	return nil
}

// Publication returns what the last PublishRound call of a round asked for
// (nil: no call kept one).
func (s *Store) Publication(ctx context.Context, roundID string) (*assessmentv1.PublishRoundRequest, error) {
	e, err := s.rounds.Get(ctx, publicationKey(roundID))
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, unavailable("read publication", err)
	}
	var req assessmentv1.PublishRoundRequest
	if err := proto.Unmarshal(e.Value(), &req); err != nil {
		return nil, fmt.Errorf("decode publication of %s: %w", roundID, err)
	}
	return &req, nil
}
