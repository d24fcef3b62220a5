package streams

import (
	"testing"

	eventsv1 "github.com/predikat-id/predikat/pkg/gen/predikat/events/v1"
	registryv1 "github.com/predikat-id/predikat/pkg/gen/predikat/registry/v1"
	"google.golang.org/protobuf/types/known/timestamppb"
)

func TestSubjects(t *testing.T) {
	if got := AssessmentSubject("ombudsman", 2024, "pemkab-hss"); got != "predikat.assessment.recorded.ombudsman.2024.pemkab-hss" {
		t.Errorf("AssessmentSubject = %s", got)
	}
	got := AwardSubject("granted", "ombudsman", 2024, "63", registryv1.InstitutionKind_INSTITUTION_KIND_LAND_OFFICE, "kantah-tanah-laut", "aw-x")
	if got != "predikat.award.granted.ombudsman.2024.63.kantah.kantah-tanah-laut.aw-x" {
		t.Errorf("AwardSubject = %s", got)
	}
	if got := AwardSubject("granted", "", 0, "", registryv1.InstitutionKind_INSTITUTION_KIND_MINISTRY, "kemenpanrb", "aw-y"); got != "predikat.award.granted.none.0.00.kementerian.kemenpanrb.aw-y" {
		t.Errorf("manual award subject = %s", got)
	}
}

func TestNewMsgHeaders(t *testing.T) {
	ev := &eventsv1.AwardGranted{EventId: "aw-x", EventTime: timestamppb.Now()}
	m, err := NewMsg("predikat.award.granted.x", "/predikat/assessment", "pemkab-hss", ev)
	if err != nil {
		t.Fatal(err)
	}
	for h, want := range map[string]string{HeaderSpecVersion: "1.0", HeaderID: "aw-x", HeaderType: "predikat.events.v1.AwardGranted",
		HeaderContentType: "application/protobuf", "Nats-Msg-Id": "aw-x", HeaderSubject: "pemkab-hss"} {
		if got := m.Header.Get(h); got != want {
			t.Errorf("header %s = %q, want %q", h, got, want)
		}
	}
}
