package store

import (
	"context"
	"errors"
	"fmt"
	"sort"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/predikat-id/predikat/pkg/events"
	eventsv1 "github.com/predikat-id/predikat/pkg/gen/predikat/events/v1"
	"github.com/predikat-id/predikat/pkg/platform/fault"
	"github.com/predikat-id/predikat/pkg/platform/natsx"
	"github.com/predikat-id/predikat/services/assessment/internal/convert"
	"github.com/predikat-id/predikat/services/assessment/internal/model"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// An objection lives on its own subject of the ROUNDS stream: its filing
// first (published expecting the subject empty, so a retried or concurrent
// filing stores it once) and its decision last (expecting the filing last,
// so two reviewers cannot both decide). The subject's messages are the
// objection's whole history; nothing else keeps it. Objections are few (at
// most a handful per institution and round), so they are read from the
// stream when asked for, never held in memory.

// Headers beside an objection's events: the request that filed or decided
// it, so a retry after JetStream's duplicate window is still recognised.
const (
	headerFileRequestID     = "predikat-file-request-id"
	headerFileFingerprint   = "predikat-file-request-fingerprint"
	headerDecideRequestID   = "predikat-decide-request-id"
	headerDecideFingerprint = "predikat-decide-request-fingerprint"
)

func objectionSubject(o model.Objection) string {
	return events.RoundObjectionSubject(o.SchemeID, o.Year, o.InstitutionID, o.ID)
}

// FileObjection implements app.ObjectionStore.
func (p *AppStore) FileObjection(ctx context.Context, o model.Objection) (model.Objection, bool, error) {
	ctx, done, err := p.s.guard(ctx)
	if err != nil {
		return model.Objection{}, false, err
	}
	defer done()
	ev := &eventsv1.ObjectionFiled{
		EventId: o.RoundID + "/" + o.ID + "/filed", EventTime: timestamppb.New(o.FileTime),
		Objection: convert.ObjectionToProto(&o),
	}
	msg, err := events.NewMsg(objectionSubject(o), Source, o.InstitutionID, ev)
	if err != nil {
		return model.Objection{}, false, err
	}
	msg.Header.Set(headerFileRequestID, o.FileRequestID)
	msg.Header.Set(headerFileFingerprint, o.FileFingerprint)
	ack, err := events.Publish(ctx, p.s.js, msg, jetstream.WithExpectLastSequencePerSubject(0))
	if natsx.IsWrongLastSequence(err) || (err == nil && ack.Duplicate) {
		// Filed before under this id: answer with what is stored.
		stored, err := p.s.objection(ctx, objectionSubject(o), o.SchemeID, o.Year)
		if err != nil {
			return model.Objection{}, false, err
		}
		if stored == nil {
			return model.Objection{}, false, fmt.Errorf("objection %s: filed, but not found on its subject", o.ID)
		}
		return *stored, false, nil
	}
	if err != nil {
		return model.Objection{}, false, unavailable("file objection", err)
	}
	o.Position = ack.Sequence
	return o, true, nil
}

// DecideObjection implements app.ObjectionStore.
func (p *AppStore) DecideObjection(ctx context.Context, o model.Objection) (model.Objection, error) {
	ctx, done, err := p.s.guard(ctx)
	if err != nil {
		return model.Objection{}, err
	}
	defer done()
	// An acceptance is told twice: decided (its correction to come), then
	// corrected (with the revision the correction made).
	step := "decided"
	if o.CorrectionRevision != 0 {
		step = "corrected"
	}
	ev := &eventsv1.ObjectionDecided{
		EventId: o.RoundID + "/" + o.ID + "/" + step, EventTime: timestamppb.New(o.DecideTime),
		Objection: convert.ObjectionToProto(&o),
	}
	msg, err := events.NewMsg(objectionSubject(o), Source, o.InstitutionID, ev)
	if err != nil {
		return model.Objection{}, err
	}
	msg.Header.Set(headerFileRequestID, o.FileRequestID)
	msg.Header.Set(headerFileFingerprint, o.FileFingerprint)
	msg.Header.Set(headerDecideRequestID, o.DecideRequestID)
	msg.Header.Set(headerDecideFingerprint, o.DecideFingerprint)
	ack, err := events.Publish(ctx, p.s.js, msg, jetstream.WithExpectLastSequencePerSubject(o.Position))
	if natsx.IsWrongLastSequence(err) || (err == nil && ack.Duplicate) {
		stored, err := p.s.objection(ctx, objectionSubject(o), o.SchemeID, o.Year)
		if err != nil {
			return model.Objection{}, err
		}
		if stored != nil && stored.DecideRequestID == o.DecideRequestID && stored.CorrectionRevision == o.CorrectionRevision {
			return *stored, nil // this step, stored by an earlier try
		}
		if stored != nil {
			return model.Objection{}, fault.Preconditionf("objection %s was decided meanwhile (%s by %s)", o.ID, stored.State, stored.DecidedBy)
		}
		return model.Objection{}, fmt.Errorf("objection %s: not found on its subject", o.ID)
	}
	if err != nil {
		return model.Objection{}, unavailable("decide objection", err)
	}
	o.Position = ack.Sequence
	return o, nil
}

// Objection implements app.ObjectionStore.
func (p *AppStore) Objection(ctx context.Context, r model.Round, institutionID, id string) (*model.Objection, error) {
	ctx, done, err := p.s.guard(ctx)
	if err != nil {
		return nil, err
	}
	defer done()
	return p.s.objection(ctx, events.RoundObjectionSubject(r.SchemeID, r.Year, institutionID, id), r.SchemeID, r.Year)
}

// Objections implements app.ObjectionStore.
func (p *AppStore) Objections(ctx context.Context, r model.Round, institutionID string) ([]model.Objection, error) {
	ctx, done, err := p.s.guard(ctx)
	if err != nil {
		return nil, err
	}
	defer done()
	byID := map[string]*model.Objection{}
	err = p.s.objectionMessages(ctx, events.RoundObjectionFilter(r.SchemeID, r.Year, institutionID), r.SchemeID, r.Year, func(o *model.Objection) {
		byID[o.ID] = o // the later message is the later state
	})
	if err != nil {
		return nil, err
	}
	out := make([]model.Objection, 0, len(byID))
	for _, o := range byID {
		out = append(out, *o)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].InstitutionID != out[j].InstitutionID {
			return out[i].InstitutionID < out[j].InstitutionID
		}
		return out[i].FileTime.Before(out[j].FileTime)
	})
	return out, nil
}

// objection reads one objection's subject: its latest state, nil when none.
func (s *Store) objection(ctx context.Context, subject, schemeID string, year int32) (*model.Objection, error) {
	var last *model.Objection
	err := s.objectionMessages(ctx, subject, schemeID, year, func(o *model.Objection) { last = o })
	return last, err
}

// objectionMessages visits the objection events on subject (a filter may
// have wildcards) in stream order. Each is read by "next message on the
// subject", so the reads are as many as the messages, with no consumer.
func (s *Store) objectionMessages(ctx context.Context, subject, schemeID string, year int32, visit func(*model.Objection)) error {
	for seq := uint64(1); ; {
		m, err := s.roundEvents.GetMsg(ctx, seq, jetstream.WithGetMsgSubject(subject))
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			return nil
		}
		if err != nil {
			return unavailable("read objections", err)
		}
		seq = m.Sequence + 1
		ev, err := events.Decode(m.Subject, m.Header, m.Data)
		if err != nil {
			return err
		}
		var o *model.Objection
		switch e := ev.(type) {
		case *eventsv1.ObjectionFiled:
			o = convert.ObjectionFromProto(e.GetObjection(), schemeID, year)
		case *eventsv1.ObjectionDecided:
			o = convert.ObjectionFromProto(e.GetObjection(), schemeID, year)
			o.DecideRequestID, o.DecideFingerprint = m.Header.Get(headerDecideRequestID), m.Header.Get(headerDecideFingerprint)
		default:
			return fmt.Errorf("message %d on %s: unexpected %s", m.Sequence, m.Subject, events.TypeOf(ev))
		}
		o.FileRequestID, o.FileFingerprint = m.Header.Get(headerFileRequestID), m.Header.Get(headerFileFingerprint)
		o.Position = m.Sequence
		visit(o)
	}
}

// CatchUp implements app.AssessmentStore.
func (p *AppStore) CatchUp(ctx context.Context, r model.Round) error {
	ctx, done, err := p.s.guard(ctx)
	if err != nil {
		return err
	}
	defer done()
	return p.s.catchUp(ctx, r.SchemeID, r.Year)
}

// catchUp waits until the view holds every record of the round of scheme
// and year stored before the call.
func (s *Store) catchUp(ctx context.Context, schemeID string, year int32) error {
	last, err := s.lastRoundSequence(ctx, schemeID, year)
	if err != nil || last == 0 {
		return err
	}
	if err := s.view.assessmentsFeed.WaitApplied(ctx, last); err != nil {
		return unavailable("catch up with round results", err)
	}
	return nil
}

// RoundProvinces implements app.ObjectionStore: from the view, once it
// holds every record of the round stored before the call.
func (p *AppStore) RoundProvinces(ctx context.Context, r model.Round) ([]string, error) {
	ctx, done, err := p.s.guard(ctx)
	if err != nil {
		return nil, err
	}
	defer done()
	if err := p.s.catchUp(ctx, r.SchemeID, r.Year); err != nil {
		return nil, err
	}
	return p.s.view.provinces(r.ID), nil
}
