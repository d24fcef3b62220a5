package store

import (
	"context"
	"fmt"
	"sort"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/predikat-id/predikat/pkg/events"
	assessmentv1 "github.com/predikat-id/predikat/pkg/gen/predikat/assessment/v1"
	eventsv1 "github.com/predikat-id/predikat/pkg/gen/predikat/events/v1"
	"github.com/predikat-id/predikat/pkg/platform/fault"
	"github.com/predikat-id/predikat/pkg/platform/natsx"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"
)

func awardSubject(verb events.AwardVerb, a *assessmentv1.Award) string {
	in := a.GetInstitution()
	return events.AwardSubject(verb, a.GetSchemeId(), a.GetYear(), in.GetProvinceCode(), in.GetKind(), in.GetId(), a.GetId())
}

// Grant publishes AwardGranted for a, exactly once: the award's subject is
// its own, the publish expects that subject empty, and the message id is the
// award id. A retry, a publication resumed after a crash, or two replicas
// granting at the same moment all end with one message; created says
// whether this call was the one. fingerprint is the digest of the request
// that asked for a manual award ("" for a rule award), stored with it and
// returned with the award found stored.
func (s *Store) Grant(ctx context.Context, a *assessmentv1.Award, fingerprint string) (Granted, bool, error) {
	msg, err := grantMsg(a, fingerprint, s.now())
	if err != nil {
		return Granted{}, false, err
	}
	started := time.Now()
	ack, err := events.Publish(ctx, s.js, msg, jetstream.WithExpectLastSequencePerSubject(0))
	switch {
	case natsx.IsWrongLastSequence(err), err == nil && ack.Duplicate:
		got, gerr := s.storedAward(ctx, awardSubject(events.Granted, a))
		return got, false, gerr
	case err != nil:
		return Granted{}, false, unavailable("grant award", err)
	}
	s.awardPublished(events.Granted, time.Since(started))
	s.readOwnWrite(ctx, s.view.awardsFeed, ack.Sequence)
	return Granted{Award: a, Fingerprint: fingerprint}, true, nil
}

// grantMsg marks a granted at now and returns its AwardGranted message.
func grantMsg(a *assessmentv1.Award, fingerprint string, now time.Time) (*nats.Msg, error) {
	a.State = assessmentv1.AwardState_AWARD_STATE_GRANTED
	a.GrantTime = timestamppb.New(now)
	ev := &eventsv1.AwardGranted{EventId: a.GetId(), EventTime: a.GetGrantTime(), Award: a}
	msg, err := events.NewMsg(awardSubject(events.Granted, a), Source, a.GetInstitution().GetId(), ev)
	if err != nil {
		return nil, err
	}
	if fingerprint != "" {
		msg.Header.Set(events.HeaderRequestFingerprint, fingerprint)
	}
	return msg, nil
}

// grantWindow is how many grants of a publication are in flight at once.
// JetStream stores a stream's messages one at a time and, with sync writes,
// fsyncs each: a publication's awards cost one write each however they are
// sent. Sent one by one, each also waits a round trip; with two in flight
// the round trip of one overlaps the write of the other (the server takes
// a connection's publishes one after another, so more in flight would not
// write faster). With many, each award would wait behind the writes of all
// those before it, and reach subscribers later. (An atomic batch is worse on both counts: a fixed cost of several
// milliseconds on this disk, and every award waits for its whole batch.)
const grantWindow = 2

// grantWindowOverride, above 0, replaces grantWindow: tests of a
// publication interrupted between two grants send them one at a time.
var grantWindowOverride atomic.Int32

// SetGrantWindow sets how many grants are in flight at once (0: the
// default). Only tests set it.
func SetGrantWindow(n int32) { grantWindowOverride.Store(n) }

func window() int {
	if n := grantWindowOverride.Load(); n > 0 {
		return int(n)
	}
	return grantWindow
}

// grantFlight is one grant sent and not yet acknowledged.
type grantFlight struct {
	award   *assessmentv1.Award
	ack     jetstream.PubAckFuture
	span    trace.Span
	started time.Time
}

// GrantAll grants rule awards (no request fingerprint) exactly once each,
// as Grant does, with a few grants in flight at once, and tells each to
// each in order: the award as stored and whether this call stored it (an
// award granted meanwhile, by another replica or by a call whose answer was
// lost, is found stored). An error from each stops there, as a crash would;
// grants still in flight then land or not, and a resumed publication finds
// them either way.
func (s *Store) GrantAll(ctx context.Context, awards []*assessmentv1.Award, each func(g Granted, created bool) error) error {
	var queue []grantFlight
	var last uint64
	settle := func(f grantFlight) error {
		ack, err := awaitAck(ctx, f.ack)
		events.EndPublish(f.span, ack, err)
		switch {
		case natsx.IsWrongLastSequence(err), err == nil && ack.Duplicate:
			got, gerr := s.storedAward(ctx, awardSubject(events.Granted, f.award))
			if gerr != nil {
				return gerr
			}
			return each(got, false)
		case err != nil:
			return unavailable("grant award", err)
		}
		s.awardPublished(events.Granted, time.Since(f.started))
		last = max(last, ack.Sequence)
		return each(Granted{Award: f.award}, true)
	}
	for _, a := range awards {
		if len(queue) == window() {
			if err := settle(queue[0]); err != nil {
				return err
			}
			queue = queue[1:]
		}
		msg, err := grantMsg(a, "", s.now())
		if err != nil {
			return err
		}
		span := events.StartPublish(ctx, msg)
		fut, err := s.js.PublishMsgAsync(msg, jetstream.WithExpectLastSequencePerSubject(0))
		if err != nil {
			events.EndPublish(span, nil, err)
			return unavailable("grant award", err)
		}
		queue = append(queue, grantFlight{award: a, ack: fut, span: span, started: time.Now()})
	}
	for _, f := range queue {
		if err := settle(f); err != nil {
			return err
		}
	}
	if last > 0 {
		s.readOwnWrite(ctx, s.view.awardsFeed, last)
	}
	return nil
}

// awaitAck waits for an asynchronous publish's acknowledgement, at most
// callTimeout.
func awaitAck(ctx context.Context, f jetstream.PubAckFuture) (*jetstream.PubAck, error) {
	t := time.NewTimer(callTimeout)
	defer t.Stop()
	select {
	case ack := <-f.Ok():
		return ack, nil
	case err := <-f.Err():
		return nil, err
	case <-t.C:
		return nil, fmt.Errorf("no acknowledgement within %s", callTimeout)
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// OnAwardPublished sets, before use, what is told of every award event
// this process stored (not a retry's duplicate): granted or revoked, and
// how long the publication took until JetStream acknowledged it (metrics).
func (s *Store) OnAwardPublished(fn func(verb events.AwardVerb, took time.Duration)) { s.onAward = fn }

func (s *Store) awardPublished(verb events.AwardVerb, took time.Duration) {
	if s.onAward != nil {
		s.onAward(verb, took)
	}
}

// Granted is an award as granted, with the fingerprint of the request that
// granted it ("" for a rule award, or one granted before fingerprints were
// kept).
type Granted struct {
	Award       *assessmentv1.Award
	Fingerprint string
}

func (s *Store) storedAward(ctx context.Context, subject string) (Granted, error) {
	st, err := s.js.Stream(ctx, events.Awards)
	if err != nil {
		return Granted{}, unavailable("read award", err)
	}
	m, err := st.GetLastMsgForSubject(ctx, subject)
	if err != nil {
		return Granted{}, unavailable("read award", err)
	}
	var ev eventsv1.AwardGranted
	if err := proto.Unmarshal(m.Data, &ev); err != nil {
		return Granted{}, err
	}
	return Granted{Award: ev.GetAward(), Fingerprint: m.Header.Get(events.HeaderRequestFingerprint)}, nil
}

// Revoke publishes AwardRevoked once; revoking a revoked award returns it
// unchanged, so a retry whose first answer was lost gets the same answer.
func (s *Store) Revoke(ctx context.Context, id, reason, actor string) (*assessmentv1.Award, error) {
	if err := s.SyncAwards(ctx); err != nil {
		return nil, err
	}
	cur, err := s.Award(id)
	if err != nil {
		return nil, err
	}
	if cur.GetState() == assessmentv1.AwardState_AWARD_STATE_REVOKED {
		return cur, nil
	}
	next := proto.Clone(cur).(*assessmentv1.Award)
	next.State = assessmentv1.AwardState_AWARD_STATE_REVOKED
	next.RevokeReason, next.RevokedBy, next.RevokeTime = reason, actor, timestamppb.New(s.now())
	ev := &eventsv1.AwardRevoked{EventId: "revoked/" + id, EventTime: next.GetRevokeTime(), Award: next}
	msg, err := events.NewMsg(awardSubject(events.Revoked, next), Source, next.GetInstitution().GetId(), ev)
	if err != nil {
		return nil, err
	}
	started := time.Now()
	ack, err := events.Publish(ctx, s.js, msg, jetstream.WithExpectLastSequencePerSubject(0))
	if natsx.IsWrongLastSequence(err) {
		// Revoked concurrently (another replica): that revocation stands.
		if err := s.SyncAwards(ctx); err != nil {
			return nil, err
		}
		return s.Award(id)
	}
	if err != nil {
		return nil, unavailable("revoke award", err)
	}
	s.awardPublished(events.Revoked, time.Since(started))
	s.readOwnWrite(ctx, s.view.awardsFeed, ack.Sequence)
	return next, nil
}

// SyncAwards waits until this replica's award view holds every award in the
// stream, so a decision about awards (revoke, reconcile) never rests on a
// view that misses one granted a moment ago through another replica.
func (s *Store) SyncAwards(ctx context.Context) error {
	st, err := s.js.Stream(ctx, events.Awards)
	if err != nil {
		return unavailable("read awards", err)
	}
	info, err := st.Info(ctx)
	if err != nil {
		return unavailable("read awards", err)
	}
	if err := s.view.awardsFeed.WaitApplied(ctx, info.State.LastSeq); err != nil {
		return unavailable("catch up with awards", err)
	}
	return nil
}

// Award returns one award from the view.
func (s *Store) Award(id string) (*assessmentv1.Award, error) {
	g, err := s.granted(id)
	return g.Award, err
}

// granted returns one award from the view with the fingerprint of the
// request that granted it.
func (s *Store) granted(id string) (Granted, error) {
	s.view.mu.RLock()
	defer s.view.mu.RUnlock()
	a := s.view.awards[id]
	if a == nil {
		return Granted{}, fault.NotFoundf("award %s does not exist", id)
	}
	return Granted{Award: a, Fingerprint: s.view.fingerprints[id]}, nil
}

// Awards returns the awards passing keep, ordered by id after `after`, at
// most limit, and whether more follow.
func (s *Store) Awards(after string, limit int, keep func(*assessmentv1.Award) bool) ([]*assessmentv1.Award, bool) {
	s.view.mu.RLock()
	var all []*assessmentv1.Award
	for id, a := range s.view.awards {
		if id > after && keep(a) {
			all = append(all, a)
		}
	}
	s.view.mu.RUnlock()
	sort.Slice(all, func(i, j int) bool { return all[i].GetId() < all[j].GetId() })
	if len(all) > limit {
		return all[:limit], true
	}
	return all, false
}

// Frozen returns the latest record of every institution in a round that
// counts, after making sure this replica's view holds everything the stream
// has for the round (records written through another replica included). A
// record the view holds past the fence of the close that ended its OPEN
// round revision is replaced by the latest one before it that counts: such
// a record was refused to its recorder, and another replica's view may not
// know it yet.
func (s *Store) Frozen(ctx context.Context, r *assessmentv1.Round) ([]*assessmentv1.Assessment, error) {
	if err := s.catchUp(ctx, r.GetSchemeId(), r.GetYear()); err != nil {
		return nil, err
	}
	entries, err := s.loadEntries(ctx, r.GetId())
	if err != nil {
		return nil, err
	}
	var out []*assessmentv1.Assessment
	for _, e := range entries {
		counted, err := s.counted(ctx, r, e)
		if err != nil {
			return nil, err
		}
		if counted != nil {
			out = append(out, counted)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].GetInstitutionId() < out[j].GetInstitutionId() })
	return out, nil
}

// counted returns the record e stands for in the round's results: e itself
// when it is inside the fence of its close, else the latest revision before
// it that counts (nil: none). The round is closed or published, so every
// OPEN revision a record was decided on has been left and its fence may be
// settled here.
func (s *Store) counted(ctx context.Context, r *assessmentv1.Round, e entry) (*assessmentv1.Assessment, error) {
	if e.roundRevision == 0 || r.GetState() == assessmentv1.RoundState_ROUND_STATE_OPEN {
		return e.a, nil
	}
	fence, err := s.settleFence(ctx, r.GetSchemeId(), r.GetYear(), r.GetId(), e.roundRevision)
	if err != nil || e.seq <= fence {
		return e.a, err
	}
	prev, err := s.latestCounted(ctx, events.AssessmentSubject(r.GetSchemeId(), r.GetYear(), e.a.GetInstitutionId()))
	if err != nil || prev == nil {
		return nil, err
	}
	return prev.ev.GetAssessment(), nil
}
