package events

import (
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	eventsv1 "github.com/predikat-id/predikat/pkg/gen/predikat/events/v1"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// CloudEvents header names (NATS binding, binary mode).
const (
	HeaderSpecVersion = "ce-specversion"
	HeaderID          = "ce-id"
	HeaderType        = "ce-type"
	HeaderSource      = "ce-source"
	HeaderTime        = "ce-time"
	HeaderSubject     = "ce-subject"
	HeaderContentType = "content-type"
	// HeaderRequestID carries the caller's request id, so a retry that
	// arrives after the dedup window is recognised from the stored message.
	HeaderRequestID = "predikat-request-id"
	// HeaderRequestFingerprint carries a digest of what the request asked,
	// so a request id sent again with a different request is recognised
	// and refused instead of answered with the first result. Messages
	// written before it existed have none.
	HeaderRequestFingerprint = "predikat-request-fingerprint"

	specVersion = "1.0"
	contentType = "application/protobuf"
)

// CloudEvents sources: which service wrote an event.
const (
	SourceAssessment = "/predikat/assessment"
	SourceRegistry   = "/predikat/registry"
)

// CloudEvents types: the full protobuf name of the body.
const (
	TypeAssessmentRecorded    = "predikat.events.v1.AssessmentRecorded"
	TypeRoundChanged          = "predikat.events.v1.RoundChanged"
	TypeRoundPublished        = "predikat.events.v1.RoundPublished"
	TypeRoundCorrected        = "predikat.events.v1.RoundCorrected"
	TypeObjectionFiled        = "predikat.events.v1.ObjectionFiled"
	TypeObjectionDecided      = "predikat.events.v1.ObjectionDecided"
	TypeAwardGranted          = "predikat.events.v1.AwardGranted"
	TypeAwardRevoked          = "predikat.events.v1.AwardRevoked"
	TypeInstitutionChanged    = "predikat.events.v1.InstitutionChanged"
	TypeCeremonyHeld          = "predikat.events.v1.CeremonyHeld"
	TypeUnitSurveyDefined     = "predikat.events.v1.UnitSurveyDefined"
	TypeSurveyResponsesStored = "predikat.events.v1.SurveyResponsesStored"
	TypeSurveyIntakeChanged   = "predikat.events.v1.SurveyIntakeChanged"
	TypeSurveyBatchStored     = "predikat.events.v1.SurveyBatchStored"
	TypeSurveyProfilesStored  = "predikat.events.v1.SurveyProfilesStored"
)

// Event is what every event message body has.
type Event interface {
	proto.Message
	GetEventId() string
	GetEventTime() *timestamppb.Timestamp
}

// newEvent returns an empty body for a CloudEvents type.
func newEvent(ceType string) (Event, bool) {
	f, ok := eventTypes[ceType]
	if !ok {
		return nil, false
	}
	return f(), true
}

// eventTypes makes an empty body of each CloudEvents type.
var eventTypes = map[string]func() Event{
	TypeAssessmentRecorded:    func() Event { return &eventsv1.AssessmentRecorded{} },
	TypeRoundChanged:          func() Event { return &eventsv1.RoundChanged{} },
	TypeRoundPublished:        func() Event { return &eventsv1.RoundPublished{} },
	TypeRoundCorrected:        func() Event { return &eventsv1.RoundCorrected{} },
	TypeObjectionFiled:        func() Event { return &eventsv1.ObjectionFiled{} },
	TypeObjectionDecided:      func() Event { return &eventsv1.ObjectionDecided{} },
	TypeAwardGranted:          func() Event { return &eventsv1.AwardGranted{} },
	TypeAwardRevoked:          func() Event { return &eventsv1.AwardRevoked{} },
	TypeInstitutionChanged:    func() Event { return &eventsv1.InstitutionChanged{} },
	TypeCeremonyHeld:          func() Event { return &eventsv1.CeremonyHeld{} },
	TypeUnitSurveyDefined:     func() Event { return &eventsv1.UnitSurveyDefined{} },
	TypeSurveyResponsesStored: func() Event { return &eventsv1.SurveyResponsesStored{} },
	TypeSurveyIntakeChanged:   func() Event { return &eventsv1.SurveyIntakeChanged{} },
	TypeSurveyBatchStored:     func() Event { return &eventsv1.SurveyBatchStored{} },
	TypeSurveyProfilesStored:  func() Event { return &eventsv1.SurveyProfilesStored{} },
}

// TypeOf is the CloudEvents type of ev.
func TypeOf(ev Event) string { return string(ev.ProtoReflect().Descriptor().FullName()) }

// Encode is the body of an event on the wire: deterministic protobuf, so a
// retried publication is byte for byte the first one.
func Encode(ev Event) ([]byte, error) {
	body, err := proto.MarshalOptions{Deterministic: true}.Marshal(ev)
	if err != nil {
		return nil, fmt.Errorf("encode %s: %w", TypeOf(ev), err)
	}
	return body, nil
}

// NewMsg encodes ev as a JetStream message on subject with CloudEvents
// headers; Nats-Msg-Id is the event id so retries are de-duplicated.
func NewMsg(subject, source, ceSubject string, ev Event) (*nats.Msg, error) {
	body, err := Encode(ev)
	if err != nil {
		return nil, err
	}
	m := nats.NewMsg(subject)
	m.Data = body
	m.Header.Set(HeaderSpecVersion, specVersion)
	m.Header.Set(HeaderID, ev.GetEventId())
	m.Header.Set(HeaderType, TypeOf(ev))
	m.Header.Set(HeaderSource, source)
	m.Header.Set(HeaderTime, ev.GetEventTime().AsTime().UTC().Format(time.RFC3339Nano))
	if ceSubject != "" {
		m.Header.Set(HeaderSubject, ceSubject)
	}
	m.Header.Set(HeaderContentType, contentType)
	m.Header.Set(jetstream.MsgIDHeader, ev.GetEventId())
	return m, nil
}

// Decode reads an event body. The type comes from the ce-type header; a
// message without one (written before the headers existed) is typed by its
// subject.
func Decode(subject string, header nats.Header, data []byte) (Event, error) {
	t := header.Get(HeaderType)
	if t == "" {
		t = typeBySubject(subject)
	}
	ev, ok := newEvent(t)
	if !ok {
		return nil, fmt.Errorf("message on %s: unknown event type %q", subject, t)
	}
	if err := proto.Unmarshal(data, ev); err != nil {
		return nil, fmt.Errorf("message on %s: decode %s: %w", subject, t, err)
	}
	return ev, nil
}

// DecodeAs reads an event body that must be of type T, whatever the headers
// say: for readers that already know the subject's contract.
func DecodeAs[T any, PT interface {
	*T
	Event
}](subject string, data []byte) (PT, error) {
	ev := PT(new(T))
	if err := proto.Unmarshal(data, ev); err != nil {
		return nil, fmt.Errorf("message on %s: decode %s: %w", subject, TypeOf(ev), err)
	}
	return ev, nil
}

// DecodeMsg is Decode of a JetStream message.
func DecodeMsg(m jetstream.Msg) (Event, error) { return Decode(m.Subject(), m.Headers(), m.Data()) }

func typeBySubject(subject string) string {
	if _, err := ParseAssessmentSubject(subject); err == nil {
		return TypeAssessmentRecorded
	}
	if k, err := ParseRoundSubject(subject); err == nil {
		switch k.Verb {
		case RoundChanged:
			return TypeRoundChanged
		case RoundPublished:
			return TypeRoundPublished
		case RoundCorrected:
			return TypeRoundCorrected
		}
	}
	if k, err := ParseAwardSubject(subject); err == nil {
		if k.Verb == Granted {
			return TypeAwardGranted
		}
		return TypeAwardRevoked
	}
	return ""
}
