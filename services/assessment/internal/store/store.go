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

// Source is the CloudEvents source of everything this service publishes.
const Source = events.SourceAssessment

// Store is shared by all handlers of a replica.
type Store struct {
	js          jetstream.JetStream
	rounds      jetstream.KeyValue
	assessments jetstream.Stream
	view        *View
	log         *slog.Logger
	now         func() time.Time
}

// Open creates or updates the bucket and streams this service owns.
func Open(ctx context.Context, js jetstream.JetStream, replicas int, log *slog.Logger) (*Store, error) {
	if replicas < 1 {
		replicas = 1
	}
	s := &Store{js: js, log: log, now: time.Now, view: newView()}
	var err error
	if s.rounds, err = natsx.EnsureKV(ctx, js, jetstream.KeyValueConfig{
		Bucket: BucketRounds, Description: "Predikat assessment rounds by id", History: 16,
		Storage: jetstream.FileStorage, Replicas: replicas,
	}); err != nil {
		return nil, err
	}
	if s.assessments, err = natsx.EnsureStream(ctx, js, events.StreamConfig(events.Assessments, replicas)); err != nil {
		return nil, err
	}
	for _, name := range []string{events.Rounds, events.Awards} {
		if _, err = natsx.EnsureStream(ctx, js, events.StreamConfig(name, replicas)); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// Start fills the view and keeps it current until ctx ends; it returns
// once everything stored before the call is in the view, and finishes any
// round publication a crash interrupted.
func (s *Store) Start(ctx context.Context) error {
	if err := s.view.follow(ctx, s.js, s.log); err != nil {
		return fmt.Errorf("load assessments view: %w", err)
	}
	return s.reconcileRounds(ctx)
}

// readOwnWrite waits briefly until the view shows stream sequence seq, so a
// caller lists what it has just written.
func (s *Store) readOwnWrite(ctx context.Context, feed *natsx.Follower, seq uint64) {
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
	return fmt.Errorf("%s: %w", op, fault.Unavailablef("assessment storage (NATS) unavailable, try again: %v", err))
}
