package store

import (
	"context"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/predikat-id/predikat/pkg/events"
	eventsv1 "github.com/predikat-id/predikat/pkg/gen/predikat/events/v1"
	"github.com/predikat-id/predikat/pkg/platform/natsx"
	"github.com/predikat-id/predikat/services/assessment/internal/app"
)

// BatchItem is one revision of an atomic batch: its event, the request
// fingerprint, the revision it follows (0: the record's first) and the
// subject's last sequence as the caller read it.
type BatchItem struct {
	Event       *eventsv1.AssessmentRecorded
	Fingerprint string
	Current     uint64
	Expect      uint64
}

// AppendBatch stores the items as the next revisions of their records in
// one atomic JetStream batch: all of them, or none. Every subject must
// still be at the sequence the caller read (or the batch is refused whole:
// fault.Conflict, read again and decide again), and the round still at
// fence (app.ErrRoundMoved). A close that lands while the batch is stored
// settles its fence before or after the whole batch, so the batch counts
// whole or is refused whole.
func (s *Store) AppendBatch(ctx context.Context, items []BatchItem, fence uint64) ([]*stored, error) {
	msgs := make([]*nats.Msg, len(items))
	subjects := make([]string, len(items))
	roundID := items[0].Event.GetAssessment().GetRoundId()
	for i, it := range items {
		a := it.Event.GetAssessment()
		subjects[i] = events.AssessmentSubject(a.GetSchemeId(), a.GetYear(), a.GetInstitutionId())
		it.Event.RoundRevision = fence
		msg, err := s.nextRevision(it.Event, subjects[i], it.Current)
		if err != nil {
			return nil, err
		}
		if it.Fingerprint != "" {
			msg.Header.Set(events.HeaderRequestFingerprint, it.Fingerprint)
		}
		msg.Header.Set(jetstream.ExpectedLastSubjSeqHeader, fmt.Sprint(it.Expect))
		msgs[i] = msg
	}
	if err := s.checkFence(ctx, roundID, fence); err != nil {
		return nil, err
	}
	ack, err := s.publishBatch(ctx, msgs)
	switch {
	case natsx.IsWrongLastSequence(err), natsx.IsBatchDuplicate(err):
		// A record moved, or one was stored under its id already (this
		// batch committed, its answer lost): reading again answers it.
		return nil, fmt.Errorf("%w: %w", app.ErrBatchMoved, err)
	case err != nil:
		return nil, unavailable("store the batch", err)
	}
	acked := time.Now()
	out := make([]*stored, len(items))
	for i, it := range items {
		out[i] = &stored{ev: it.Event, seq: ack.First() + uint64(i), fingerprint: it.Fingerprint}
	}
	// The batch is contiguous: a close's fence lies before or after all of
	// it, so the first record answers for every one.
	if err := s.checkInside(ctx, out[0], subjects[0], acked); err != nil {
		for i := 1; i < len(out); i++ {
			_ = s.checkInside(ctx, out[i], subjects[i], acked)
		}
		return nil, err
	}
	// The caller reads its own writes on this replica: the view shows
	// them now, not once its consumer gets there.
	for _, st := range out {
		s.view.putAssessment(*st.entry())
	}
	return out, nil
}

// publishBatch publishes an atomic batch inside a producer span, with the
// span's trace context in every message.
func (s *Store) publishBatch(ctx context.Context, msgs []*nats.Msg) (natsx.BatchAck, error) {
	ctx, span := otel.Tracer("github.com/predikat-id/predikat/services/assessment").Start(ctx, "publish batch "+events.TypeOf(&eventsv1.AssessmentRecorded{}),
		trace.WithSpanKind(trace.SpanKindProducer),
		trace.WithAttributes(attribute.String("messaging.system", "nats"), attribute.Int("messaging.batch.message_count", len(msgs))))
	defer span.End()
	for _, m := range msgs {
		events.InjectTrace(ctx, m)
	}
	return natsx.PublishAtomic(ctx, s.js.Conn(), msgs)
}
