// Package store keeps the assessment service's state in JetStream, the
// system of record: rounds in a KV bucket (compare-and-set transitions),
// assessments as AssessmentRecorded events in the ASSESSMENTS stream with one
// subject per (scheme, year, institution), so the latest revision is the
// subject's last message and the older ones are its audit trail. A
// replica-local view, fed by an ordered consumer, answers the list queries.
package store

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/predikat-id/predikat/pkg/events"
	"github.com/predikat-id/predikat/pkg/platform/fault"
	"github.com/predikat-id/predikat/pkg/platform/natsx"
)

// BucketRounds holds one key per round id.
const BucketRounds = "assessment_rounds"

// BucketSchemes holds the scheme versions registered at run time: one key
// per scheme id, all its registered versions in one protobuf
// ListSchemesResponse changed only by compare-and-set (a version never
// changes once in it; a fix is a new version).
const BucketSchemes = "assessment_schemes"

// Source is the CloudEvents source of everything this service publishes.
const Source = events.SourceAssessment

// Store is shared by all handlers of a replica.
type Store struct {
	js          jetstream.JetStream
	rounds      jetstream.KeyValue
	schemes     jetstream.KeyValue
	assessments jetstream.Stream
	roundEvents jetstream.Stream
	view        *View
	commits     *committer
	fences      fences
	roundCache  roundCache
	roundReads  roundReads
	log         *slog.Logger
	now         func() time.Time
	onAward     func(verb events.AwardVerb, took time.Duration)
	// ceremonies is the ceremonies bucket; ceremonyIndex this replica's
	// copy of it.
	ceremonies    jetstream.KeyValue
	ceremonyIndex ceremonyIndex
}

// Open creates or updates the bucket and streams this service owns.
func Open(ctx context.Context, js jetstream.JetStream, replicas int, log *slog.Logger) (*Store, error) {
	if replicas < 1 {
		replicas = 1
	}
	s := &Store{js: js, log: log, now: time.Now, view: newView(), commits: &committer{js: js}}
	var err error
	if _, err = natsx.EnsureKV(ctx, js, jetstream.KeyValueConfig{
		Bucket: BucketRounds, Description: "Predikat assessment rounds by id", History: 16,
		Storage: jetstream.FileStorage, Replicas: replicas,
	}); err != nil {
		return nil, err
	}
	// A record's close fence is decided on a read of its round after its
	// append, with no compare-and-set after it: on a replicated bucket that
	// read must come from the leader.
	if s.rounds, err = natsx.LeaderReadsKV(ctx, js, BucketRounds); err != nil {
		return nil, err
	}
	if s.schemes, err = natsx.EnsureKV(ctx, js, jetstream.KeyValueConfig{
		Bucket: BucketSchemes, Description: "Predikat scheme versions registered at run time", History: 16,
		Storage: jetstream.FileStorage, Replicas: replicas,
	}); err != nil {
		return nil, err
	}
	if s.assessments, err = natsx.EnsureStream(ctx, js, events.StreamConfig(events.Assessments, replicas)); err != nil {
		return nil, err
	}
	// A server before 2.12 drops the setting silently and would store a
	// batch's records one by one: refuse to start rather than break "all
	// or none".
	if !s.assessments.CachedInfo().Config.AllowAtomicPublish {
		return nil, fmt.Errorf("stream %s does not allow atomic batches: NATS 2.12 or newer is needed (BatchRecordAssessments stores a batch whole or not at all)", events.Assessments)
	}
	if s.roundEvents, err = natsx.EnsureStream(ctx, js, events.StreamConfig(events.Rounds, replicas)); err != nil {
		return nil, err
	}
	if _, err = natsx.EnsureStream(ctx, js, events.StreamConfig(events.Awards, replicas)); err != nil {
		return nil, err
	}
	if _, err = natsx.EnsureKV(ctx, js, jetstream.KeyValueConfig{
		Bucket: BucketCeremonies, Description: "Predikat award ceremonies by id", History: 8,
		Storage: jetstream.FileStorage, Replicas: replicas,
	}); err != nil {
		return nil, err
	}
	// A hold is decided on a read of its ceremony: from the leader, so a
	// retry sees the hold it made.
	if s.ceremonies, err = natsx.LeaderReadsKV(ctx, js, BucketCeremonies); err != nil {
		return nil, err
	}
	if _, err = natsx.EnsureStream(ctx, js, events.StreamConfig(events.Ceremonies, replicas)); err != nil {
		return nil, err
	}
	return s, nil
}

// Start fills the view and keeps it current until ctx ends; it returns
// once everything stored before the call is in the view. (Publications a
// crash interrupted are the application's to finish, once it runs.)
func (s *Store) Start(ctx context.Context) error {
	// Every fence settled so far is known before the view loads, so it
	// leaves out refused revisions without asking NATS for each.
	if err := s.watchRounds(ctx); err != nil {
		return fmt.Errorf("watch rounds and their fences: %w", err)
	}
	if err := s.view.follow(ctx, s.js, s.log, s.viewEntry(ctx)); err != nil {
		return fmt.Errorf("load assessments view: %w", err)
	}
	if err := s.watchCeremonies(ctx); err != nil {
		return fmt.Errorf("watch ceremonies: %w", err)
	}
	return nil
}

// viewEntry decides what the view keeps of a revision as it arrives: the
// revision, unless a fence known to this replica leaves it out; then the
// latest before it that counts. It asks NATS only in that rare case.
func (s *Store) viewEntry(ctx context.Context) func(*stored) *entry {
	return func(st *stored) *entry {
		a := st.ev.GetAssessment()
		fence, ok := s.fences.get(fenceKey(a.GetRoundId(), st.ev.GetRoundRevision()))
		if st.ev.GetRoundRevision() == 0 || !ok || st.seq <= fence {
			return st.entry()
		}
		prev, err := s.latestCounted(ctx, events.AssessmentSubject(a.GetSchemeId(), a.GetYear(), a.GetInstitutionId()))
		if err != nil {
			s.log.Error("cannot read the record before a refused revision", "round", a.GetRoundId(), "institution", a.GetInstitutionId(), "err", err)
			return nil
		}
		return prev.entry()
	}
}

// readOwnWrite waits briefly until the view shows stream sequence seq, so a
// caller lists what it has just written.
func (s *Store) readOwnWrite(ctx context.Context, feed *natsx.Follower, seq uint64) {
	if feed == nil {
		return // not following yet: no consumer to wait for
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if err := feed.WaitApplied(ctx, seq); err != nil {
		s.log.Warn("view lagging behind own write", "seq", seq, "err", err)
	}
}

func unavailable(op string, err error) error {
	if errors.Is(err, context.Canceled) {
		return err
	}
	return fmt.Errorf("%s: %w", op, fault.Unavailablef("assessment storage unavailable: NATS is unreachable or not answering, try again: %v", err))
}

// callTimeout bounds one storage step (a read, an append, a grant). Without
// it a JetStream request waits out the caller's deadline while NATS elects a
// new leader or reconnects; a caller is better served by Unavailable soon,
// and retries.
const callTimeout = 3 * time.Second

// guard answers Unavailable at once when the connection to NATS is down
// (the client would only buffer the request and wait), and otherwise bounds
// the step by callTimeout. done releases the bound.
func (s *Store) guard(ctx context.Context) (bounded context.Context, done context.CancelFunc, err error) {
	if nc := s.js.Conn(); nc != nil && !nc.IsConnected() {
		return ctx, func() {}, fault.Unavailablef("assessment storage unavailable: NATS is unreachable (connection %s), try again shortly", nc.Status())
	}
	bounded, done = context.WithTimeout(ctx, callTimeout)
	return bounded, done, nil
}
