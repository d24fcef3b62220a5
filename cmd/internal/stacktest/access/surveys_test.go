package access_test

import (
	"errors"
	"fmt"
	"io"
	"os"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/predikat-id/predikat/cmd/internal/stacktest"
	"github.com/predikat-id/predikat/pkg/events"
	assessmentv1 "github.com/predikat-id/predikat/pkg/gen/predikat/assessment/v1"
	registryv1 "github.com/predikat-id/predikat/pkg/gen/predikat/registry/v1"
)

// The survey state: the SKM round of 2026 (OPEN) and two service units of
// Hulu Sungai Selatan, registered under its government (a service unit
// names its parent).
const (
	skmRound = "skm-2026"
	skmYear  = 2026
	unitA    = "puskesmas-kandangan"
	unitB    = "puskesmas-angkinang"
	// collected is the responses' collection date. The stack runs on the
	// wall clock (ServicesOptions.Now is nil): a day of the round's year
	// that no run can come before, so never after today in Kalimantan
	// Selatan.
	collected = "2026-03-02"
)

// answers are one respondent's answers to the nine elements of the 2017
// survey, in its order: the index is 25 × 33/9 = 91.67, band A.
var answers = []uint32{4, 4, 4, 3, 3, 4, 4, 3, 4}

// ninths is the 2017 survey's nine elements stated by a unit with exact
// weights of one ninth.
func ninths() *assessmentv1.SurveyDefinition {
	d := &assessmentv1.SurveyDefinition{}
	for _, c := range []string{"persyaratan", "prosedur", "waktu", "biaya", "produk", "kompetensi", "perilaku", "sarana", "pengaduan"} {
		d.Elements = append(d.Elements, &assessmentv1.SurveyElement{Code: c, Weight: "1/9"})
	}
	return d
}

// responses is a message of the submission stream: one response of unit.
func responses(unit, id string) *assessmentv1.SubmitSurveyResponsesRequest {
	return &assessmentv1.SubmitSurveyResponsesRequest{RoundId: skmRound, UnitId: unit, Responses: []*assessmentv1.SurveyResponse{{
		ResponseId: id, CollectionDate: collected, Answers: answers,
		Profile: &assessmentv1.RespondentProfile{AgeBand: assessmentv1.AgeBand_AGE_BAND_30_39, Sex: assessmentv1.Sex_SEX_FEMALE},
	}}}
}

// seedSurveys opens the SKM round and registers the two service units, as
// the admin.
func (e *env) seedSurveys(t *testing.T) {
	t.Helper()
	for _, u := range []struct{ id, name string }{{unitA, "Puskesmas Kandangan"}, {unitB, "Puskesmas Angkinang"}} {
		if _, err := e.reg.CreateInstitution(ctxT(t), &registryv1.CreateInstitutionRequest{InstitutionId: u.id, Institution: &registryv1.Institution{
			Name: u.name, Kind: registryv1.InstitutionKind_INSTITUTION_KIND_SERVICE_UNIT, RegionCode: "63.06",
			ParentId: "pemkab-hss", YearlyServiceUsers: 18000}}); err != nil {
			t.Fatalf("create %s: %v", u.id, err)
		}
	}
	if _, err := e.asm.CreateRound(ctxT(t), &assessmentv1.CreateRoundRequest{SchemeId: "skm", Year: skmYear}); err != nil {
		t.Fatalf("create %s: %v", skmRound, err)
	}
}

// surveys is the survey client of the admin.
func (e *env) surveys() assessmentv1.SurveyServiceClient {
	return assessmentv1.NewSurveyServiceClient(e.admin(e.addrs[protoreflect.FullName(assessmentv1.SurveyService_ServiceDesc.ServiceName)]))
}

// The unit states its own survey before its first response, then one
// response is stored; the result of the unit is read back exact.
func surveyFixtures() []fixture {
	return []fixture{
		{method: srvSvc + "DefineUnitSurvey", role: "survey-collector", effect: logged,
			setup: func(t *testing.T, e *env) { e.seedSurveys(t) },
			req:   static(&assessmentv1.DefineUnitSurveyRequest{RoundId: skmRound, UnitId: unitA, Survey: ninths()}),
			check: func(_ *env, m proto.Message) error {
				r := m.(*assessmentv1.DefineUnitSurveyResponse)
				return want(r.GetCreated() && len(r.GetSurvey().GetElements()) == 9, "survey not created with its nine elements")
			}},
		{method: srvSvc + "SubmitSurveyResponses", role: "survey-collector", effect: logged,
			req: static(responses(unitA, "access-1")),
			check: func(e *env, m proto.Message) error {
				r := m.(*assessmentv1.SubmitSurveyResponsesResponse)
				if r.GetAccepted() != 1 || r.GetDuplicates() != 0 || r.GetRefused() != 0 {
					return fmt.Errorf("accepted %d, duplicates %d, refused %d (%v), want 1 stored", r.GetAccepted(), r.GetDuplicates(), r.GetRefused(), r.GetRefusals())
				}
				// The service records the unit's SKM result on its own
				// (within seconds of a first response): waited for here,
				// so that write never lands in a later call's check.
				return e.waitSurveyRecorded(unitA)
			}},
		{method: srvSvc + "GetSurveyResult", role: "survey-collector",
			req: static(&assessmentv1.GetSurveyResultRequest{RoundId: skmRound, UnitId: unitA}),
			check: func(_ *env, m proto.Message) error {
				r := m.(*assessmentv1.GetSurveyResultResponse).GetResult()
				return want(r.GetRespondents() == 1 && r.GetIndex() == "91.67" && r.GetBandCode() == "A" && r.GetUnitSurvey() && len(r.GetElements()) == 9,
					"not the one response under the unit's survey: index 91.67, band A")
			}},
		{method: srvSvc + "ListSurveyResults", role: "reader",
			req: static(&assessmentv1.ListSurveyResultsRequest{RoundId: skmRound}),
			check: func(_ *env, m proto.Message) error {
				rs := m.(*assessmentv1.ListSurveyResultsResponse).GetResults()
				return want(len(rs) == 1 && rs[0].GetUnitId() == unitA && rs[0].GetRespondents() == 1, "not the one surveyed unit")
			}},
	}
}

// waitSurveyRecorded waits until the unit's SKM record carries its current
// result (the service writes it on a ticker of a few seconds).
func (e *env) waitSurveyRecorded(unit string) error {
	deadline := time.Now().Add(30 * time.Second)
	for {
		r, err := e.surveys().GetSurveyResult(ctxT(e.t), &assessmentv1.GetSurveyResultRequest{RoundId: skmRound, UnitId: unit})
		if err == nil && r.GetResult().GetRecordedRevision() > 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s: no SKM record of its survey result in 30s: %v, %v", unit, r, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// submit sends msgs on one SubmitSurveyResponses stream and answers its
// outcome: a refusal may end the call while messages are still being sent
// (Send then reports io.EOF), and its status is the stream's answer.
func submit(t *testing.T, cc *grpc.ClientConn, msgs ...*assessmentv1.SubmitSurveyResponsesRequest) (*assessmentv1.SubmitSurveyResponsesResponse, error) {
	t.Helper()
	st, err := assessmentv1.NewSurveyServiceClient(cc).SubmitSurveyResponses(ctxT(t))
	if err != nil {
		return nil, err
	}
	for _, m := range msgs {
		if err := st.Send(m); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return nil, err
		}
	}
	return st.CloseAndRecv()
}

// A collector bound to one unit submits, states the survey of and reads
// that unit alone: another unit is refused whether it is the stream's
// first message or comes after one for its own, and nothing of it is
// stored; nor may it list the round, which names no unit.
func TestSurveyCollectorIsBoundToItsUnit(t *testing.T) {
	e := newEnv(t)
	(&stacktest.Registry{Client: e.reg}).Create(t, insts[1]) // pemkab-hss, the units' parent
	e.seedSurveys(t)

	policy := e.pki.Policy()
	orig, err := os.ReadFile(policy)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stacktest.WritePolicy(t, policy, string(orig)) })
	stacktest.WritePolicy(t, policy, string(orig)+`
  - principals: ["user:collector-kandangan"]
    roles: [survey-collector]
    institutions: [`+unitA+`]
`)
	addr := e.addrs[protoreflect.FullName(assessmentv1.SurveyService_ServiceDesc.ServiceName)]
	cc := e.bearer(addr, "collector-kandangan")
	collector := assessmentv1.NewSurveyServiceClient(cc)
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, err := collector.GetSurveyResult(ctxT(t), &assessmentv1.GetSurveyResultRequest{RoundId: skmRound, UnitId: unitA})
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the unit-bound binding never took effect: %v", err)
		}
		time.Sleep(200 * time.Millisecond)
	}

	// Nothing of unit B may be in the log after any refusal below.
	noneOfB := func(t *testing.T) {
		t.Helper()
		for stream, subj := range map[string]string{events.Surveys: events.SurveyUnitSubject("skm", skmYear, unitB),
			events.SurveyProfiles: events.SurveyProfileSubject("skm", skmYear, unitB)} {
			s, err := e.js.Stream(ctxT(t), stream)
			if err != nil {
				t.Fatal(err)
			}
			if m, err := s.GetLastMsgForSubject(ctxT(t), subj); !errors.Is(err, jetstream.ErrMsgNotFound) {
				t.Fatalf("%s holds %s: %v, %v", stream, subj, m, err)
			}
		}
		r, err := e.surveys().GetSurveyResult(ctxT(t), &assessmentv1.GetSurveyResultRequest{RoundId: skmRound, UnitId: unitB})
		if err != nil || r.GetResult().GetRespondents() != 0 || r.GetResult().GetUnitSurvey() {
			t.Fatalf("%s after the refusals: %v, %v", unitB, r, err)
		}
	}
	refusedWrite := func(t *testing.T, who string, call func() error) {
		t.Helper()
		before := e.settled(t)
		wantStatus(t, who, call(), codes.PermissionDenied, `permission "surveys.`)
		if d := before.diff(e.logState(t)); d != "" {
			t.Fatalf("%s: refused, yet the log moved: %s", who, d)
		}
	}

	// Its own unit's survey, stated before any response (a unit's survey
	// is stated before its first one).
	d, err := collector.DefineUnitSurvey(ctxT(t), &assessmentv1.DefineUnitSurveyRequest{RoundId: skmRound, UnitId: unitA, Survey: ninths()})
	if err != nil || !d.GetCreated() {
		t.Fatalf("own unit's survey: %v, %v", d, err)
	}

	t.Run("another unit", func(t *testing.T) {
		refusedWrite(t, "responses of another unit", func() error {
			_, err := submit(t, cc, responses(unitB, "scope-b-1"))
			return err
		})
		refusedWrite(t, "another unit first, its own after", func() error {
			_, err := submit(t, cc, responses(unitB, "scope-b-2"), responses(unitA, "scope-a-2"))
			return err
		})
		refusedWrite(t, "another unit's survey", func() error {
			_, err := collector.DefineUnitSurvey(ctxT(t), &assessmentv1.DefineUnitSurveyRequest{RoundId: skmRound, UnitId: unitB, Survey: ninths()})
			return err
		})
		_, err := collector.GetSurveyResult(ctxT(t), &assessmentv1.GetSurveyResultRequest{RoundId: skmRound, UnitId: unitB})
		wantStatus(t, "another unit's result", err, codes.PermissionDenied, `permission "surveys.read"`)
		_, err = collector.ListSurveyResults(ctxT(t), &assessmentv1.ListSurveyResultsRequest{RoundId: skmRound})
		wantStatus(t, "the round's results", err, codes.PermissionDenied, `permission "surveys.read"`)
		noneOfB(t)
	})

	// The stream is authorized message by message: a first message for
	// its own unit does not carry a later one for another.
	t.Run("own unit first, another after", func(t *testing.T) {
		_, err := submit(t, cc, responses(unitA, "scope-a-3"), responses(unitB, "scope-b-3"))
		wantStatus(t, "own unit, then another", err, codes.PermissionDenied, `permission "surveys.submit"`)
		noneOfB(t)
	})

	t.Run("own unit", func(t *testing.T) {
		// scope-a-3 again: stored now if the refused call left it out,
		// a duplicate if it kept it, never counted twice.
		r, err := submit(t, cc, responses(unitA, "scope-a-1"), responses(unitA, "scope-a-3"))
		if err != nil || r.GetAccepted()+r.GetDuplicates() != 2 || r.GetAccepted() < 1 || r.GetRefused() != 0 {
			t.Fatalf("own unit's responses: %v, %v", r, err)
		}
		got, err := collector.GetSurveyResult(ctxT(t), &assessmentv1.GetSurveyResultRequest{RoundId: skmRound, UnitId: unitA})
		if err != nil || got.GetResult().GetRespondents() != 2 || got.GetResult().GetIndex() != "91.67" {
			t.Fatalf("own unit's result: %v, %v", got, err)
		}
		noneOfB(t)
	})
}
