// Package eventtest helps the tests of event consumers: institutions of the
// tests, and a publisher that writes AssessmentRecorded and
// round events to the streams exactly as the assessment service does
// (protobuf body, CloudEvents headers, Nats-Msg-Id = event id, one subject
// per scheme, year and institution).
package eventtest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/predikat-id/predikat/pkg/events"
	assessmentv1 "github.com/predikat-id/predikat/pkg/gen/predikat/assessment/v1"
	eventsv1 "github.com/predikat-id/predikat/pkg/gen/predikat/events/v1"
	registryv1 "github.com/predikat-id/predikat/pkg/gen/predikat/registry/v1"
	"github.com/predikat-id/predikat/pkg/platform/natsx"
)

// Inst is an institution of the tests.
type Inst struct {
	ID, Name string
	Kind     registryv1.InstitutionKind
	Region   string // Kemendagri code; "" for national bodies
}

// Kinds.
const (
	Pemprov = registryv1.InstitutionKind_INSTITUTION_KIND_PROVINCIAL_GOVERNMENT
	Pemkab  = registryv1.InstitutionKind_INSTITUTION_KIND_REGENCY_GOVERNMENT
	Pemkot  = registryv1.InstitutionKind_INSTITUTION_KIND_CITY_GOVERNMENT
	Polres  = registryv1.InstitutionKind_INSTITUTION_KIND_POLICE_RESORT
	Kantah  = registryv1.InstitutionKind_INSTITUTION_KIND_LAND_OFFICE
	Menteri = registryv1.InstitutionKind_INSTITUTION_KIND_MINISTRY
)

var (
	both     = []assessmentv1.ScopeKind{assessmentv1.ScopeKind_SCOPE_KIND_NATIONAL, assessmentv1.ScopeKind_SCOPE_KIND_PROVINCE}
	national = []assessmentv1.ScopeKind{assessmentv1.ScopeKind_SCOPE_KIND_NATIONAL}
)

// OmbudsmanGroups are the peer groups of the Ombudsman compliance scheme
// as the tests model them, in scheme order.
var OmbudsmanGroups = []*assessmentv1.PeerGroup{
	{Code: "pemda", Name: "Pemerintah Daerah", Kinds: []registryv1.InstitutionKind{Pemprov, Pemkab, Pemkot}, Scopes: both},
	{Code: "provinsi", Name: "Pemerintah Provinsi", Kinds: []registryv1.InstitutionKind{Pemprov}, Scopes: national},
	{Code: "kabupaten", Name: "Pemerintah Kabupaten", Kinds: []registryv1.InstitutionKind{Pemkab}, Scopes: both},
	{Code: "kota", Name: "Pemerintah Kota", Kinds: []registryv1.InstitutionKind{Pemkot}, Scopes: both},
	{Code: "kementerian", Name: "Kementerian", Kinds: []registryv1.InstitutionKind{Menteri}, Scopes: national},
	{Code: "polres", Name: "Kepolisian Resor", Kinds: []registryv1.InstitutionKind{Polres}, Scopes: both},
	{Code: "kantah", Name: "Kantor Pertanahan", Kinds: []registryv1.InstitutionKind{Kantah}, Scopes: both},
}

// GroupsFor lists the groups a kind is in, as the producer puts them on the
// event.
func GroupsFor(k registryv1.InstitutionKind) []*assessmentv1.PeerGroup {
	var out []*assessmentv1.PeerGroup
	for _, g := range OmbudsmanGroups {
		for _, gk := range g.GetKinds() {
			if gk == k {
				out = append(out, g)
			}
		}
	}
	return out
}

// OmbudsmanBand is the 2022-2024 band table: A 88.00-100, B 78.00-87.99,
// C 54.00-77.99, D 32.00-53.99, E 0-31.99 (hundredths in, code, label,
// zone out).
func OmbudsmanBand(hundredths int64) (string, string, assessmentv1.BandZone) {
	switch {
	case hundredths >= 8800:
		return "A", "Kualitas Tertinggi", assessmentv1.BandZone_BAND_ZONE_GREEN
	case hundredths >= 7800:
		return "B", "Kualitas Tinggi", assessmentv1.BandZone_BAND_ZONE_GREEN
	case hundredths >= 5400:
		return "C", "Kualitas Sedang", assessmentv1.BandZone_BAND_ZONE_YELLOW
	case hundredths >= 3200:
		return "D", "Kualitas Rendah", assessmentv1.BandZone_BAND_ZONE_RED
	}
	return "E", "Kualitas Terendah", assessmentv1.BandZone_BAND_ZONE_RED
}

// BandLabel is the label of an Ombudsman band code.
func BandLabel(code string) (string, assessmentv1.BandZone) {
	for _, h := range []int64{8800, 7800, 5400, 3200, 0} {
		if c, l, z := OmbudsmanBand(h); c == code {
			return l, z
		}
	}
	return "", 0
}

var regionNames = map[string]string{
	"63": "Kalimantan Selatan", "64": "Kalimantan Timur", "63.01": "Tanah Laut", "63.02": "Kotabaru", "63.03": "Banjar",
	"63.04": "Barito Kuala", "63.05": "Tapin", "63.06": "Hulu Sungai Selatan", "63.07": "Hulu Sungai Tengah",
	"63.08": "Hulu Sungai Utara", "63.09": "Tabalong", "63.10": "Tanah Bumbu", "63.11": "Balangan",
	"63.71": "Kota Banjarmasin", "63.72": "Kota Banjarbaru",
}

// Snapshot is the institution as the producer copies it onto a record.
func (in Inst) Snapshot() *assessmentv1.InstitutionSnapshot {
	s := &assessmentv1.InstitutionSnapshot{Id: in.ID, Name: in.Name, Kind: in.Kind, RegionCode: in.Region, RegionName: regionNames[in.Region]}
	if s.RegionCode == "" {
		s.RegionCode = events.National
	}
	if len(in.Region) >= 2 {
		s.ProvinceCode = in.Region[:2]
		s.ProvinceName = regionNames[in.Region[:2]]
	}
	return s
}

// Publisher writes events as the assessment service does.
type Publisher struct {
	JS jetstream.JetStream

	mu   sync.Mutex
	revs map[string]uint64
	n    int
}

// NewPublisher makes sure the streams exist (with the producer's settings)
// and returns a publisher.
func NewPublisher(t testing.TB, js jetstream.JetStream) *Publisher {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, s := range []string{events.Assessments, events.Rounds} {
		if _, err := natsx.EnsureStream(ctx, js, events.StreamConfig(s, 1)); err != nil {
			t.Fatal(err)
		}
	}
	return &Publisher{JS: js, revs: map[string]uint64{}}
}

// Rec is one record to publish.
type Rec struct {
	Scheme string // default "ombudsman"
	Year   int32
	Inst   Inst
	Total  string // "" with Band set: a REPORTED_BAND record
	Band   string // only for band-only records
	// Revision to state; 0: the next one for the subject.
	Revision uint64
	// RoundRevision is the OPEN round revision the record was decided on
	// (0: none stated).
	RoundRevision uint64
	// WithoutBands leaves out the scheme's band table, as events were
	// written before they carried it.
	WithoutBands bool
}

// OmbudsmanBands is the 2022-2024 band table, best first, as events carry
// it.
func OmbudsmanBands() []*assessmentv1.Band {
	var out []*assessmentv1.Band
	for _, h := range []int64{8800, 7800, 5400, 3200, 0} {
		c, l, z := OmbudsmanBand(h)
		out = append(out, &assessmentv1.Band{Code: c, Label: l, Zone: z})
	}
	return out
}

// Event builds the AssessmentRecorded of r.
func (p *Publisher) Event(r Rec) *eventsv1.AssessmentRecorded {
	if r.Scheme == "" {
		r.Scheme = "ombudsman"
	}
	p.mu.Lock()
	key := events.AssessmentSubject(r.Scheme, r.Year, r.Inst.ID)
	if r.Revision == 0 {
		r.Revision = p.revs[key] + 1
	}
	p.revs[key] = max(p.revs[key], r.Revision)
	p.n++
	req := fmt.Sprintf("req-%d", p.n)
	p.mu.Unlock()

	roundID := fmt.Sprintf("%s-%d", r.Scheme, r.Year)
	now := timestamppb.New(time.Date(int(r.Year), 11, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(r.Revision) * time.Minute))
	a := &assessmentv1.Assessment{
		RoundId: roundID, SchemeId: r.Scheme, SchemeVersion: "2022", Year: r.Year, InstitutionId: r.Inst.ID,
		Institution: r.Inst.Snapshot(), Revision: r.Revision, RequestId: req, RecordedBy: "test", RecordTime: now,
	}
	if r.Total != "" {
		a.Basis, a.Total, a.WeightedTotal = assessmentv1.AssessmentBasis_ASSESSMENT_BASIS_REPORTED_TOTAL, r.Total, r.Total
		u := parseHundredths(r.Total)
		a.BandCode, a.BandLabel, a.BandZone = OmbudsmanBand(u)
	} else {
		a.Basis, a.BandCode = assessmentv1.AssessmentBasis_ASSESSMENT_BASIS_REPORTED_BAND, r.Band
		a.BandLabel, a.BandZone = BandLabel(r.Band)
	}
	ev := &eventsv1.AssessmentRecorded{
		EventId: fmt.Sprintf("%s/%s/%s", roundID, r.Inst.ID, req), EventTime: now, Assessment: a,
		PeerGroups: GroupsFor(r.Inst.Kind), Scale: &assessmentv1.Scale{Min: "0.00", Max: "100.00", Precision: 2},
		RoundRevision: r.RoundRevision,
	}
	if !r.WithoutBands {
		ev.Bands = OmbudsmanBands()
	}
	return ev
}

// Stored publishes one record and returns its stream sequence.
func (p *Publisher) Stored(t testing.TB, r Rec) uint64 {
	t.Helper()
	return p.publish(t, p.Event(r), "")
}

// Record publishes records and waits for JetStream's acks.
func (p *Publisher) Record(t testing.TB, recs ...Rec) {
	t.Helper()
	for _, r := range recs {
		p.PublishEvent(t, p.Event(r), "")
	}
}

// PublishEvent publishes an event; msgID overrides the Nats-Msg-Id (a
// redelivery simulated by storing the same event twice).
func (p *Publisher) PublishEvent(t testing.TB, ev *eventsv1.AssessmentRecorded, msgID string) {
	t.Helper()
	p.publish(t, ev, msgID)
}

func (p *Publisher) publish(t testing.TB, ev *eventsv1.AssessmentRecorded, msgID string) uint64 {
	t.Helper()
	a := ev.GetAssessment()
	msg, err := events.NewMsg(events.AssessmentSubject(a.GetSchemeId(), a.GetYear(), a.GetInstitutionId()), "/predikat/assessment", a.GetInstitutionId(), ev)
	if err != nil {
		t.Fatal(err)
	}
	if msgID != "" {
		msg.Header.Set(jetstream.MsgIDHeader, msgID)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ack, err := p.JS.PublishMsg(ctx, msg)
	if err != nil {
		t.Fatalf("publish %s: %v", ev.GetEventId(), err)
	}
	return ack.Sequence
}

// PublishRound publishes RoundPublished for a round (boards become FINAL).
func (p *Publisher) PublishRound(t testing.TB, scheme string, year int32) {
	t.Helper()
	id := fmt.Sprintf("%s-%d", scheme, year)
	ev := &eventsv1.RoundPublished{EventId: "round-published/" + id, EventTime: timestamppb.Now(),
		Round: &assessmentv1.Round{Id: id, SchemeId: scheme, SchemeVersion: "2022", Year: year, State: assessmentv1.RoundState_ROUND_STATE_PUBLISHED}}
	msg, err := events.NewMsg(events.RoundPublishedSubject(scheme, year), "/predikat/assessment", id, ev)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := p.JS.PublishMsg(ctx, msg, jetstream.WithExpectLastSequencePerSubject(0)); err != nil {
		t.Fatalf("publish %s: %v", id, err)
	}
}

// PublishRoundChanged publishes RoundChanged (e.g. CREATED) for a round,
// with the round's fences (a CLOSED change carries its close's).
func (p *Publisher) PublishRoundChanged(t testing.TB, scheme string, year int32, typ eventsv1.RoundChangeType, fences ...*eventsv1.AssessmentFence) {
	t.Helper()
	id := fmt.Sprintf("%s-%d", scheme, year)
	p.mu.Lock()
	p.n++
	n := p.n
	p.mu.Unlock()
	state := assessmentv1.RoundState_ROUND_STATE_OPEN
	if typ == eventsv1.RoundChangeType_ROUND_CHANGE_TYPE_CLOSED {
		state = assessmentv1.RoundState_ROUND_STATE_CLOSED
	}
	ev := &eventsv1.RoundChanged{EventId: fmt.Sprintf("round/%s/%d", id, n), EventTime: timestamppb.Now(), Type: typ,
		Round: &assessmentv1.Round{Id: id, SchemeId: scheme, SchemeVersion: "2022", Year: year, State: state}, Fences: fences}
	msg, err := events.NewMsg(events.RoundChangedSubject(scheme, year), "/predikat/assessment", id, ev)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := p.JS.PublishMsg(ctx, msg); err != nil {
		t.Fatalf("publish %s: %v", id, err)
	}
}

// parseHundredths reads "96.52" as 9652 (test figures always have two
// decimals).
func parseHundredths(s string) int64 {
	var i, f int64
	// "96" has no fraction: one item read is a whole score.
	if n, err := fmt.Sscanf(s, "%d.%d", &i, &f); n == 0 {
		panic(fmt.Sprintf("test score %q is not of the form 12.34: %v", s, err))
	}
	return i*100 + f
}

// PublishAsync publishes events without waiting for each ack (for large
// volumes: benchmarks), then waits until JetStream acknowledged them all.
// js should allow a generous number of pending async publishes.
func PublishAsync(t testing.TB, js jetstream.JetStream, evs []*eventsv1.AssessmentRecorded) {
	t.Helper()
	futures := make([]jetstream.PubAckFuture, 0, len(evs))
	for _, ev := range evs {
		a := ev.GetAssessment()
		msg, err := events.NewMsg(events.AssessmentSubject(a.GetSchemeId(), a.GetYear(), a.GetInstitutionId()), "/predikat/assessment", a.GetInstitutionId(), ev)
		if err != nil {
			t.Fatal(err)
		}
		f, err := js.PublishMsgAsync(msg)
		if err != nil {
			t.Fatalf("publish %s: %v", ev.GetEventId(), err)
		}
		futures = append(futures, f)
	}
	select {
	case <-js.PublishAsyncComplete():
	case <-time.After(5 * time.Minute):
		t.Fatal("async publishes not acknowledged in 5 minutes")
	}
	for _, f := range futures {
		select {
		case err := <-f.Err():
			t.Fatalf("publish %s: %v", f.Msg().Subject, err)
		default:
		}
	}
}
