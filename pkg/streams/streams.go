// Package streams is the one place that names Predikat's JetStream streams,
// their subjects and their settings, so the service that writes a stream and
// every service that reads it agree. The layout is documented for
// subscribers in proto/predikat/events/v1/events.proto.
package streams

import (
	"fmt"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	registryv1 "github.com/predikat-id/predikat/pkg/gen/predikat/registry/v1"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// Stream names.
const (
	Assessments = "ASSESSMENTS"
	Rounds      = "ROUNDS"
	Awards      = "AWARDS"
)

// DedupWindow is how long JetStream remembers a Nats-Msg-Id. Services also
// look up the stored record on a retry, so idempotency does not end with the
// window; the window only makes the common, quick retry free.
const DedupWindow = 24 * time.Hour

// Config returns the settings of a stream. Every stream is an audit log:
// nothing is ever deleted or purged. Direct get stays off: on a replicated
// stream a follower may answer it from behind the leader, and the services
// read the last message of a subject to decide compare-and-set writes, which
// must see the latest.
func Config(name string, replicas int) jetstream.StreamConfig {
	subjects := map[string][]string{
		Assessments: {"predikat.assessment.>"},
		Rounds:      {"predikat.round.>"},
		Awards:      {"predikat.award.>"},
	}[name]
	if replicas < 1 {
		replicas = 1
	}
	return jetstream.StreamConfig{
		Name: name, Subjects: subjects, Storage: jetstream.FileStorage, Replicas: replicas,
		Retention: jetstream.LimitsPolicy, Discard: jetstream.DiscardOld,
		Duplicates: DedupWindow, DenyDelete: true, DenyPurge: true,
	}
}

// AssessmentSubject is where every revision of one institution's assessment
// in one (scheme, year) goes; the last message is the latest revision.
func AssessmentSubject(scheme string, year int32, institutionID string) string {
	return fmt.Sprintf("predikat.assessment.recorded.%s.%d.%s", scheme, year, institutionID)
}

// AssessmentFilter matches every assessment of a (scheme, year); "*" widens.
func AssessmentFilter(scheme, year string) string {
	return fmt.Sprintf("predikat.assessment.recorded.%s.%s.*", scheme, year)
}

// AwardSubject is the one subject of one award; publishing with an expected
// last subject sequence of 0 makes a second grant impossible.
func AwardSubject(verb, scheme string, year int32, province string, kind registryv1.InstitutionKind, institutionID, awardID string) string {
	if scheme == "" {
		scheme = "none"
	}
	if province == "" {
		province = "00"
	}
	return fmt.Sprintf("predikat.award.%s.%s.%d.%s.%s.%s.%s", verb, scheme, year, province, KindToken(kind), institutionID, awardID)
}

// RoundSubject is where round lifecycle events go.
func RoundSubject(verb, scheme string, year int32) string {
	return fmt.Sprintf("predikat.round.%s.%s.%d", verb, scheme, year)
}

var kindTokens = map[registryv1.InstitutionKind]string{
	registryv1.InstitutionKind_INSTITUTION_KIND_PROVINCIAL_GOVERNMENT: "pemprov",
	registryv1.InstitutionKind_INSTITUTION_KIND_REGENCY_GOVERNMENT:    "pemkab",
	registryv1.InstitutionKind_INSTITUTION_KIND_CITY_GOVERNMENT:       "pemkot",
	registryv1.InstitutionKind_INSTITUTION_KIND_MINISTRY:              "kementerian",
	registryv1.InstitutionKind_INSTITUTION_KIND_AGENCY:                "lembaga",
	registryv1.InstitutionKind_INSTITUTION_KIND_POLICE_RESORT:         "polres",
	registryv1.InstitutionKind_INSTITUTION_KIND_LAND_OFFICE:           "kantah",
	registryv1.InstitutionKind_INSTITUTION_KIND_PUBLIC_SERVICE_MALL:   "mpp",
}

// KindToken is the short subject token of an institution kind.
func KindToken(k registryv1.InstitutionKind) string {
	if t, ok := kindTokens[k]; ok {
		return t
	}
	return strings.ReplaceAll(strings.ToLower(strings.TrimPrefix(k.String(), "INSTITUTION_KIND_")), "_", "")
}

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
)

// Event is what every event message body has.
type Event interface {
	proto.Message
	GetEventId() string
	GetEventTime() *timestamppb.Timestamp
}

// NewMsg encodes ev as a JetStream message on subject with CloudEvents
// headers; Nats-Msg-Id is the event id so retries are de-duplicated.
func NewMsg(subject, source, ceSubject string, ev Event) (*nats.Msg, error) {
	body, err := proto.MarshalOptions{Deterministic: true}.Marshal(ev)
	if err != nil {
		return nil, fmt.Errorf("encode %s: %w", ev.ProtoReflect().Descriptor().FullName(), err)
	}
	m := nats.NewMsg(subject)
	m.Data = body
	m.Header.Set(HeaderSpecVersion, "1.0")
	m.Header.Set(HeaderID, ev.GetEventId())
	m.Header.Set(HeaderType, string(ev.ProtoReflect().Descriptor().FullName()))
	m.Header.Set(HeaderSource, source)
	m.Header.Set(HeaderTime, ev.GetEventTime().AsTime().UTC().Format(time.RFC3339Nano))
	if ceSubject != "" {
		m.Header.Set(HeaderSubject, ceSubject)
	}
	m.Header.Set(HeaderContentType, "application/protobuf")
	m.Header.Set(jetstream.MsgIDHeader, ev.GetEventId())
	return m, nil
}
