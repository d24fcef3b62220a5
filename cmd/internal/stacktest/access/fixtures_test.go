package access_test

import (
	"bytes"
	"errors"
	"fmt"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/fieldmaskpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/predikat-id/predikat/pkg/events"
	assessmentv1 "github.com/predikat-id/predikat/pkg/gen/predikat/assessment/v1"
	eventsv1 "github.com/predikat-id/predikat/pkg/gen/predikat/events/v1"
	rankingv1 "github.com/predikat-id/predikat/pkg/gen/predikat/ranking/v1"
	registryv1 "github.com/predikat-id/predikat/pkg/gen/predikat/registry/v1"
)

// effect is what a successful call leaves behind.
type effect int

const (
	read       effect = iota // nothing
	logged                   // an append to a stream or KV bucket
	boardsOnly               // Redis only (the boards are derived data)
)

// fixture is one method's valid call.
type fixture struct {
	method protoreflect.FullName
	// role is the dev policy group (and token subject) of the narrowest
	// role holding the permission: the call succeeds with its token.
	role string
	// subject, if set, is the token subject of the allowed call instead,
	// with no groups: an identity the policy binds by name (an
	// institution's account, bound to its institution alone).
	subject string
	effect  effect
	// setup, if set, brings the state to where the call succeeds (run
	// before all three calls: a refused one must be refused from a state
	// where the allowed one would have worked).
	setup func(*testing.T, *env)
	req   func(*testing.T, *env) proto.Message
	// check, if set, verifies the allowed call's response or effect.
	check func(*env, proto.Message) error
}

const (
	regSvc  = "predikat.registry.v1.RegistryService."
	asmSvc  = "predikat.assessment.v1.AssessmentService."
	objSvc  = "predikat.assessment.v1.ObjectionService."
	cerSvc  = "predikat.assessment.v1.CeremonyService."
	srvSvc  = "predikat.assessment.v1.SurveyService."
	rankSvc = "predikat.ranking.v1.RankingService."
)

// forgedActor and forgedTime are what a request claims in an output-only
// actor or time field; the service must store its own.
var (
	forgedActor = "user:someone-else"
	forgedTime  = time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC)
)

// static is a request that needs nothing from the state.
func static(m proto.Message) func(*testing.T, *env) proto.Message {
	return func(*testing.T, *env) proto.Message { return m }
}

// fixtures are in the order they run: each may rely on the effects of the
// ones before.
func fixtures() []fixture {
	var out []fixture
	out = append(out, registryFixtures()...)
	out = append(out, assessmentFixtures()...)
	out = append(out, surveyFixtures()...)
	out = append(out, awardFixtures()...)
	return append(out, rankingFixtures()...)
}

func registryFixtures() []fixture {
	return []fixture{
		{method: regSvc + "CreateRegion", role: "registry-editor", effect: logged,
			req: static(&registryv1.CreateRegionRequest{Code: "63.12", Name: "Kabupaten Uji Akses"}),
			check: func(_ *env, m proto.Message) error {
				r := m.(*registryv1.CreateRegionResponse).GetRegion()
				return errors.Join(want(r.GetCode() == "63.12", "region not created"), actorIs(r.GetCreatedBy(), "registry-editor"))
			}},
		{method: regSvc + "GetRegion", role: "public",
			req: static(&registryv1.GetRegionRequest{Code: "63.12"}),
			check: func(_ *env, m proto.Message) error {
				return want(m.(*registryv1.GetRegionResponse).GetRegion().GetName() == "Kabupaten Uji Akses", "wrong region")
			}},
		{method: regSvc + "ListRegions", role: "public",
			req: static(&registryv1.ListRegionsRequest{ProvinceCode: "63"}),
			check: func(_ *env, m proto.Message) error {
				return want(len(m.(*registryv1.ListRegionsResponse).GetRegions()) > 10, "too few regions in 63")
			}},
		{method: regSvc + "CreateInstitution", role: "registry-editor", effect: logged,
			req: static(&registryv1.CreateInstitutionRequest{InstitutionId: "pemkot-banjarbaru", Institution: &registryv1.Institution{
				Name: "Pemerintah Kota Banjarbaru", Kind: registryv1.InstitutionKind_INSTITUTION_KIND_CITY_GOVERNMENT, RegionCode: "63.72"}}),
			check: func(e *env, m proto.Message) error {
				in := m.(*registryv1.CreateInstitutionResponse).GetInstitution()
				return errors.Join(e.institutionIs("pemkot-banjarbaru", "Pemerintah Kota Banjarbaru"),
					actorIs(in.GetCreatedBy(), "registry-editor"), actorIs(in.GetUpdatedBy(), "registry-editor"))
			}},
		{method: regSvc + "GetInstitution", role: "public",
			req: static(&registryv1.GetInstitutionRequest{Id: "pemkab-hss"}),
			check: func(_ *env, m proto.Message) error {
				return want(m.(*registryv1.GetInstitutionResponse).GetInstitution().GetId() == "pemkab-hss", "wrong institution")
			}},
		{method: regSvc + "BatchGetInstitutions", role: "public",
			req: static(&registryv1.BatchGetInstitutionsRequest{Ids: []string{"pemkab-hss", "polres-hss"}}),
			check: func(_ *env, m proto.Message) error {
				return want(len(m.(*registryv1.BatchGetInstitutionsResponse).GetInstitutions()) == 2, "not both institutions")
			}},
		{method: regSvc + "ListInstitutions", role: "public",
			req: static(&registryv1.ListInstitutionsRequest{PageSize: 100}),
			check: func(_ *env, m proto.Message) error {
				return want(len(m.(*registryv1.ListInstitutionsResponse).GetInstitutions()) >= len(insts), "institutions missing")
			}},
		{method: regSvc + "UpdateInstitution", role: "registry-editor", effect: logged,
			req: func(t *testing.T, e *env) proto.Message {
				return &registryv1.UpdateInstitutionRequest{
					Institution: &registryv1.Institution{Id: "pemkab-tapin", Name: "Pemerintah Kabupaten Tapin (diubah)"},
					UpdateMask:  &fieldmaskpb.FieldMask{Paths: []string{"name"}}, ExpectedRevision: e.revision(t, "pemkab-tapin")}
			},
			check: func(e *env, m proto.Message) error {
				return errors.Join(e.institutionIs("pemkab-tapin", "Pemerintah Kabupaten Tapin (diubah)"),
					actorIs(m.(*registryv1.UpdateInstitutionResponse).GetInstitution().GetUpdatedBy(), "registry-editor"))
			}},
		{method: regSvc + "RetireInstitution", role: "registry-editor", effect: logged,
			req: static(&registryv1.RetireInstitutionRequest{Id: "pemkot-banjarmasin", Reason: "uji akses"}),
			check: func(_ *env, m proto.Message) error {
				in := m.(*registryv1.RetireInstitutionResponse).GetInstitution()
				return errors.Join(want(in.GetStatus() == registryv1.InstitutionStatus_INSTITUTION_STATUS_RETIRED, "not retired"),
					actorIs(in.GetUpdatedBy(), "registry-editor"))
			}},
		{method: regSvc + "WatchInstitutions", role: "service",
			req: static(&registryv1.WatchInstitutionsRequest{IncludeSnapshot: true}),
			check: func(_ *env, m proto.Message) error {
				r := m.(*registryv1.WatchInstitutionsResponse)
				return want(r.GetType() == registryv1.ChangeType_CHANGE_TYPE_SNAPSHOT && r.GetInstitution().GetId() != "", "first message is not a snapshot institution")
			}},
	}
}

func assessmentFixtures() []fixture {
	return []fixture{
		{method: asmSvc + "ListSchemes", role: "public",
			req: static(&assessmentv1.ListSchemesRequest{}),
			check: func(_ *env, m proto.Message) error {
				return want(len(m.(*assessmentv1.ListSchemesResponse).GetSchemes()) > 0, "no schemes")
			}},
		{method: asmSvc + "GetScheme", role: "public",
			req: static(&assessmentv1.GetSchemeRequest{SchemeId: "ombudsman", Selector: &assessmentv1.GetSchemeRequest_Year{Year: 2024}}),
			check: func(_ *env, m proto.Message) error {
				return want(m.(*assessmentv1.GetSchemeResponse).GetScheme() != nil, "no scheme")
			}},
		{method: asmSvc + "RegisterSchemeVersion", role: "scheme-registrar", effect: logged,
			req: func(t *testing.T, e *env) proto.Message {
				// PEKPPP's 2023 rules again for 2026, as a new version.
				got, err := e.asm.GetScheme(ctxT(t), &assessmentv1.GetSchemeRequest{SchemeId: "pekppp", Selector: &assessmentv1.GetSchemeRequest_Version{Version: "2023"}})
				if err != nil {
					t.Fatal(err)
				}
				s := proto.Clone(got.GetScheme()).(*assessmentv1.Scheme)
				s.Version, s.FirstYear, s.LastYear, s.Provisional, s.Caveat = "2026-uji", 2026, 2026, true, "access test"
				// The caller claims another registrant and an old time:
				// both output only, so the stored ones must be its own.
				s.RegisteredBy, s.RegisterTime = forgedActor, timestamppb.New(forgedTime)
				return &assessmentv1.RegisterSchemeVersionRequest{Scheme: s}
			},
			check: func(e *env, m proto.Message) error {
				s := m.(*assessmentv1.RegisterSchemeVersionResponse).GetScheme()
				stored, err := e.asm.GetScheme(ctxT(e.t), &assessmentv1.GetSchemeRequest{SchemeId: "pekppp", Selector: &assessmentv1.GetSchemeRequest_Version{Version: "2026-uji"}})
				if err != nil {
					return err
				}
				return errors.Join(want(s.GetVersion() == "2026-uji", "not registered"), actorIs(s.GetRegisteredBy(), "scheme-registrar"),
					actorIs(stored.GetScheme().GetRegisteredBy(), "scheme-registrar"),
					want(!stored.GetScheme().GetRegisterTime().AsTime().Equal(forgedTime), "the register time the caller claimed was stored"))
			}},
		{method: asmSvc + "CreateRound", role: "round-manager", effect: logged,
			req: static(&assessmentv1.CreateRoundRequest{SchemeId: "ombudsman", Year: 2023, CollectionStart: "2023-03-01", CollectionEnd: "2023-11-30"}),
			check: func(_ *env, m proto.Message) error {
				r := m.(*assessmentv1.CreateRoundResponse).GetRound()
				return errors.Join(want(r.GetId() == round23 && r.GetState() == assessmentv1.RoundState_ROUND_STATE_OPEN, "round not open"),
					actorIs(r.GetCreatedBy(), "round-manager"))
			}},
		{method: asmSvc + "GetRound", role: "public",
			req: static(&assessmentv1.GetRoundRequest{RoundId: round24}),
			check: func(_ *env, m proto.Message) error {
				return want(m.(*assessmentv1.GetRoundResponse).GetRound().GetAssessmentCount() == int32(len(totals2024)), "wrong count")
			}},
		{method: asmSvc + "ListRounds", role: "public",
			req: static(&assessmentv1.ListRoundsRequest{SchemeId: "ombudsman"}),
			check: func(_ *env, m proto.Message) error {
				return want(len(m.(*assessmentv1.ListRoundsResponse).GetRounds()) == 2, "not both rounds")
			}},
		{method: asmSvc + "ComputeAssessment", role: "assessor",
			req: static(&assessmentv1.ComputeAssessmentRequest{SchemeId: "ombudsman", Selector: &assessmentv1.ComputeAssessmentRequest_Year{Year: 2024}, Input: reported("90.00")}),
			check: func(_ *env, m proto.Message) error {
				return want(m.(*assessmentv1.ComputeAssessmentResponse).GetBandCode() == "A", "90.00 is not band A")
			}},
		{method: asmSvc + "RecordAssessment", role: "assessor", effect: logged,
			req: static(&assessmentv1.RecordAssessmentRequest{RoundId: round23, InstitutionId: "pemkab-hss", Input: reported("90.00"), RequestId: "access-record"}),
			check: func(_ *env, m proto.Message) error {
				r := m.(*assessmentv1.RecordAssessmentResponse)
				return errors.Join(want(r.GetCreated(), "not created"), actorIs(r.GetAssessment().GetRecordedBy(), "assessor"))
			}},
		{method: asmSvc + "BatchRecordAssessments", role: "assessor", effect: logged,
			req: static(&assessmentv1.BatchRecordAssessmentsRequest{RoundId: round23, Records: []*assessmentv1.BatchRecord{
				{InstitutionId: "polres-hss", Input: &assessmentv1.AssessmentInput{Result: &assessmentv1.AssessmentInput_ReportedTotal{ReportedTotal: "90.00"}}, RequestId: "access-batch-1"}}}),
			check: func(_ *env, m proto.Message) error {
				rs := m.(*assessmentv1.BatchRecordAssessmentsResponse).GetResults()
				return errors.Join(want(len(rs) == 1 && rs[0].GetCreated(), "not recorded"), actorIs(rs[0].GetAssessment().GetRecordedBy(), "assessor"))
			}},
		{method: asmSvc + "GetAssessment", role: "assessor",
			req: static(&assessmentv1.GetAssessmentRequest{RoundId: round24, InstitutionId: "pemkab-hss"}),
			check: func(_ *env, m proto.Message) error {
				return want(m.(*assessmentv1.GetAssessmentResponse).GetAssessment().GetTotal() == "96.52", "wrong total")
			}},
		{method: asmSvc + "ListAssessments", role: "assessor",
			req: static(&assessmentv1.ListAssessmentsRequest{RoundId: round24}),
			check: func(_ *env, m proto.Message) error {
				return want(len(m.(*assessmentv1.ListAssessmentsResponse).GetAssessments()) == len(totals2024), "wrong count")
			}},
		{method: asmSvc + "ListInstitutionHistory", role: "assessor",
			req: static(&assessmentv1.ListInstitutionHistoryRequest{InstitutionId: "pemkab-hss", SchemeId: "ombudsman"}),
			check: func(_ *env, m proto.Message) error {
				return want(len(m.(*assessmentv1.ListInstitutionHistoryResponse).GetAssessments()) == 2, "not both years")
			}},
		{method: asmSvc + "ListAssessmentRevisions", role: "assessor",
			req: static(&assessmentv1.ListAssessmentRevisionsRequest{RoundId: round24, InstitutionId: "pemkab-hss"}),
			check: func(_ *env, m proto.Message) error {
				return want(len(m.(*assessmentv1.ListAssessmentRevisionsResponse).GetAssessments()) == 1, "not one revision")
			}},
		{method: asmSvc + "CloseRound", role: "round-manager", effect: logged,
			req:   static(&assessmentv1.CloseRoundRequest{RoundId: round23}),
			check: roundChanged(assessmentv1.RoundState_ROUND_STATE_CLOSED, (*assessmentv1.Round).GetClosedBy)},
		{method: asmSvc + "ReopenRound", role: "round-manager", effect: logged,
			req:   static(&assessmentv1.ReopenRoundRequest{RoundId: round23, Reason: "uji akses"}),
			check: roundChanged(assessmentv1.RoundState_ROUND_STATE_OPEN, (*assessmentv1.Round).GetReopenedBy)},
		// Objections need the round CLOSED, before it is published.
		{method: objSvc + "FileObjection", role: "institution", subject: "hss", effect: logged,
			setup: func(t *testing.T, e *env) {
				if _, err := e.asm.CloseRound(ctxT(t), &assessmentv1.CloseRoundRequest{RoundId: round23}); err != nil {
					t.Fatalf("close %s to object: %v", round23, err)
				}
			},
			req: static(&assessmentv1.FileObjectionRequest{RoundId: round23, InstitutionId: "pemkab-hss", Reasons: "uji akses",
				Evidence: []string{"SK 1/2024"}, RequestId: "access-objection"}),
			check: func(e *env, m proto.Message) error {
				o := m.(*assessmentv1.FileObjectionResponse).GetObjection()
				e.objectionID = o.GetId()
				return errors.Join(want(o.GetState() == assessmentv1.ObjectionState_OBJECTION_STATE_OPEN, "not OPEN"), actorIs(o.GetFiledBy(), "hss"))
			}},
		{method: objSvc + "GetObjection", role: "reader",
			req: func(_ *testing.T, e *env) proto.Message {
				return &assessmentv1.GetObjectionRequest{RoundId: round23, InstitutionId: "pemkab-hss", ObjectionId: e.objectionID}
			},
			check: func(e *env, m proto.Message) error {
				return want(m.(*assessmentv1.GetObjectionResponse).GetObjection().GetId() == e.objectionID, "another objection")
			}},
		{method: objSvc + "ListObjections", role: "reader",
			req: static(&assessmentv1.ListObjectionsRequest{RoundId: round23}),
			check: func(_ *env, m proto.Message) error {
				r := m.(*assessmentv1.ListObjectionsResponse)
				return want(len(r.GetObjections()) == 1 && r.GetWindowEnd() != nil, "not one objection and a window")
			}},
		{method: objSvc + "DecideObjection", role: "reviewer", effect: logged,
			req: func(_ *testing.T, e *env) proto.Message {
				return &assessmentv1.DecideObjectionRequest{RoundId: round23, InstitutionId: "pemkab-hss", ObjectionId: e.objectionID,
					Decision: assessmentv1.ObjectionState_OBJECTION_STATE_REJECTED, Reasons: "tidak terbukti", RequestId: "access-decide"}
			},
			check: func(_ *env, m proto.Message) error {
				o := m.(*assessmentv1.DecideObjectionResponse).GetObjection()
				return errors.Join(want(o.GetState() == assessmentv1.ObjectionState_OBJECTION_STATE_REJECTED, "not REJECTED"), actorIs(o.GetDecidedBy(), "reviewer"))
			}},
		{method: asmSvc + "PublishRound", role: "round-manager", effect: logged,
			setup: func(t *testing.T, e *env) {
				if _, err := e.asm.CloseRound(ctxT(t), &assessmentv1.CloseRoundRequest{RoundId: round23}); err != nil {
					t.Fatalf("close %s to publish it: %v", round23, err)
				}
			},
			req:   static(&assessmentv1.PublishRoundRequest{RoundId: round23, ForceReason: "test: published at once", Ceremony: ceremony}),
			check: roundChanged(assessmentv1.RoundState_ROUND_STATE_PUBLISHED, (*assessmentv1.Round).GetPublishedBy)},
		{method: asmSvc + "CorrectPublishedAssessment", role: "assessor", effect: logged,
			req: static(&assessmentv1.CorrectPublishedAssessmentRequest{RoundId: round24, InstitutionId: "polres-hss", Input: reported("96.70"),
				CorrectsRevision: 1, Reason: "ralat", RequestId: "access-correct"}),
			check: func(_ *env, m proto.Message) error {
				r := m.(*assessmentv1.CorrectPublishedAssessmentResponse)
				return errors.Join(want(r.GetCreated() && r.GetAssessment().GetRevision() == 2, "no revision 2"),
					actorIs(r.GetAssessment().GetRecordedBy(), "assessor"))
			}},
	}
}

func awardFixtures() []fixture {
	return []fixture{
		{method: asmSvc + "GrantAward", role: "award-officer", effect: logged,
			req: static(&assessmentv1.GrantAwardRequest{InstitutionId: "pemkab-hss", Title: "Penghargaan Uji Akses",
				Ceremony: &assessmentv1.Ceremony{Name: "Rapat Koordinasi", Date: "2025-04-17"}, RequestId: "access-grant"}),
			check: func(e *env, m proto.Message) error {
				a := m.(*assessmentv1.GrantAwardResponse)
				e.awardID = a.GetAward().GetId()
				return errors.Join(want(a.GetCreated(), "not created"), actorIs(a.GetAward().GetGrantedBy(), "award-officer"))
			}},
		{method: asmSvc + "GetAward", role: "public",
			req: func(_ *testing.T, e *env) proto.Message { return &assessmentv1.GetAwardRequest{AwardId: e.awardID} },
			check: func(_ *env, m proto.Message) error {
				return want(m.(*assessmentv1.GetAwardResponse).GetAward().GetTitle() == "Penghargaan Uji Akses", "wrong award")
			}},
		{method: asmSvc + "ListAwards", role: "public",
			req: static(&assessmentv1.ListAwardsRequest{InstitutionId: "pemkab-hss"}),
			check: func(_ *env, m proto.Message) error {
				return want(len(m.(*assessmentv1.ListAwardsResponse).GetAwards()) >= 2, "missing the rule award or the manual one")
			}},
		// The manual award is presented at a ceremony, its certificate
		// rendered and verified, before it is revoked.
		{method: cerSvc + "CreateCeremony", role: "award-officer", effect: logged,
			req: static(&assessmentv1.CreateCeremonyRequest{Name: "Rapat Koordinasi Uji Akses", Place: "Gedung Mahligai Pancasila, Banjarmasin",
				Date: "2025-04-17", ProvinceCode: "63", Host: "Pemerintah Provinsi Kalimantan Selatan", RequestId: "access-ceremony"}),
			check: func(e *env, m proto.Message) error {
				c := m.(*assessmentv1.CreateCeremonyResponse).GetCeremony()
				e.ceremonyID = c.GetId()
				return errors.Join(want(c.GetState() == assessmentv1.CeremonyState_CEREMONY_STATE_PLANNED, "not PLANNED"), actorIs(c.GetCreatedBy(), "award-officer"))
			}},
		{method: cerSvc + "HoldCeremony", role: "award-officer", effect: logged,
			req: func(_ *testing.T, e *env) proto.Message {
				return &assessmentv1.HoldCeremonyRequest{CeremonyId: e.ceremonyID, AwardIds: []string{e.awardID}, RequestId: "access-hold"}
			},
			check: func(e *env, m proto.Message) error {
				c := m.(*assessmentv1.HoldCeremonyResponse).GetCeremony()
				return errors.Join(want(c.GetState() == assessmentv1.CeremonyState_CEREMONY_STATE_HELD && len(c.GetAwards()) == 1 &&
					c.GetAwards()[0].GetAwardId() == e.awardID, "not HELD with the award"), actorIs(c.GetHeldBy(), "award-officer"))
			}},
		{method: cerSvc + "GetCeremony", role: "public",
			req: func(_ *testing.T, e *env) proto.Message {
				return &assessmentv1.GetCeremonyRequest{CeremonyId: e.ceremonyID}
			},
			check: func(e *env, m proto.Message) error {
				return want(m.(*assessmentv1.GetCeremonyResponse).GetCeremony().GetId() == e.ceremonyID, "another ceremony")
			}},
		{method: cerSvc + "ListCeremonies", role: "public",
			req: static(&assessmentv1.ListCeremoniesRequest{Year: 2025, ProvinceCode: "63"}),
			check: func(e *env, m proto.Message) error {
				cs := m.(*assessmentv1.ListCeremoniesResponse).GetCeremonies()
				return want(len(cs) == 1 && cs[0].GetId() == e.ceremonyID && len(cs[0].GetAwards()) == 1, "not the one ceremony with its award")
			}},
		{method: cerSvc + "GetCertificate", role: "public",
			req: func(_ *testing.T, e *env) proto.Message {
				return &assessmentv1.GetCertificateRequest{AwardId: e.awardID}
			},
			check: func(e *env, m proto.Message) error {
				r := m.(*assessmentv1.GetCertificateResponse)
				e.certCode = r.GetVerificationCode()
				return want(bytes.HasPrefix(r.GetPdf(), []byte("%PDF-")) && r.GetContentType() == "application/pdf" &&
					r.GetCeremony().GetId() == e.ceremonyID && e.certCode != "", "not a PDF of the award at its ceremony")
			}},
		{method: cerSvc + "VerifyCertificate", role: "public",
			req: func(_ *testing.T, e *env) proto.Message {
				return &assessmentv1.VerifyCertificateRequest{Code: e.certCode}
			},
			check: func(e *env, m proto.Message) error {
				r := m.(*assessmentv1.VerifyCertificateResponse)
				return want(r.GetValid() && r.GetAward().GetId() == e.awardID && r.GetCeremony().GetId() == e.ceremonyID, "not the award, valid, at its ceremony")
			}},
		{method: asmSvc + "RevokeAward", role: "award-officer", effect: logged,
			req: func(_ *testing.T, e *env) proto.Message {
				return &assessmentv1.RevokeAwardRequest{AwardId: e.awardID, Reason: "uji akses"}
			},
			check: func(_ *env, m proto.Message) error {
				a := m.(*assessmentv1.RevokeAwardResponse).GetAward()
				return errors.Join(want(a.GetState() == assessmentv1.AwardState_AWARD_STATE_REVOKED, "not revoked"), actorIs(a.GetRevokedBy(), "award-officer"))
			}},
	}
}

func rankingFixtures() []fixture {
	return []fixture{
		{method: rankSvc + "GetLeaderboard", role: "operator",
			req: static(&rankingv1.GetLeaderboardRequest{Board: pemda63}),
			check: func(_ *env, m proto.Message) error {
				return want(m.(*rankingv1.GetLeaderboardResponse).GetTotalEntries() == 2, "not 2 entries")
			}},
		{method: rankSvc + "GetStanding", role: "operator",
			req: static(&rankingv1.GetStandingRequest{InstitutionId: "pemkab-hss", SchemeId: "ombudsman", Year: 2024}),
			check: func(_ *env, m proto.Message) error {
				return want(len(m.(*rankingv1.GetStandingResponse).GetStandings()) > 0, "no standings")
			}},
		{method: rankSvc + "GetStatistics", role: "operator",
			req: static(&rankingv1.GetStatisticsRequest{Board: pemda63}),
			check: func(_ *env, m proto.Message) error {
				return want(m.(*rankingv1.GetStatisticsResponse).GetBoard() != nil, "no statistics")
			}},
		{method: rankSvc + "GetInstitutionTrend", role: "operator",
			req: static(&rankingv1.GetInstitutionTrendRequest{InstitutionId: "pemkab-hss", SchemeId: "ombudsman"}),
			check: func(_ *env, m proto.Message) error {
				return want(len(m.(*rankingv1.GetInstitutionTrendResponse).GetPoints()) > 0, "no trend")
			}},
		{method: rankSvc + "ListBoards", role: "operator",
			req: static(&rankingv1.ListBoardsRequest{SchemeId: "ombudsman", Year: 2024}),
			check: func(_ *env, m proto.Message) error {
				return want(len(m.(*rankingv1.ListBoardsResponse).GetBoards()) > 0, "no boards")
			}},
		{method: rankSvc + "RebuildBoards", role: "operator", effect: boardsOnly,
			req: static(&rankingv1.RebuildBoardsRequest{SchemeId: "ombudsman", Year: 2024}),
			check: func(_ *env, m proto.Message) error {
				return want(m.(*rankingv1.RebuildBoardsResponse).GetBoardsWritten() > 0, "no board rebuilt")
			}},
	}
}

func want(ok bool, msg string) error {
	if ok {
		return nil
	}
	return errors.New(msg)
}

// actorIs checks a write stored the token's principal ("user:" and the
// subject, which the walk sets to the role name).
func actorIs(got, role string) error {
	if got != "user:"+role {
		return fmt.Errorf("stored actor %q, want %q", got, "user:"+role)
	}
	return nil
}

// roundChanged checks a round call left round23 in st, read back, and
// kept the round manager as who made the change (by).
func roundChanged(st assessmentv1.RoundState, by func(*assessmentv1.Round) string) func(*env, proto.Message) error {
	return func(e *env, _ proto.Message) error {
		r, err := e.asm.GetRound(ctxT(e.t), &assessmentv1.GetRoundRequest{RoundId: round23})
		if err != nil {
			return err
		}
		return errors.Join(want(r.GetRound().GetState() == st, fmt.Sprintf("round %s is %v, want %v", round23, r.GetRound().GetState(), st)),
			actorIs(by(r.GetRound()), "round-manager"), e.announcedBy(st, by))
	}
}

// announcedBy checks the event that announced round23's change to st names
// the round manager too: RoundChanged's actor, or the published round of
// RoundPublished.
func (e *env) announcedBy(st assessmentv1.RoundState, by func(*assessmentv1.Round) string) error {
	subject := events.RoundChangedSubject("ombudsman", 2023)
	if st == assessmentv1.RoundState_ROUND_STATE_PUBLISHED {
		subject = events.RoundPublishedSubject("ombudsman", 2023)
	}
	s, err := e.js.Stream(ctxT(e.t), events.Rounds)
	if err != nil {
		return err
	}
	m, err := s.GetLastMsgForSubject(ctxT(e.t), subject)
	if err != nil {
		return fmt.Errorf("the announcement on %s: %w", subject, err)
	}
	ev, err := events.Decode(m.Subject, m.Header, m.Data)
	if err != nil {
		return err
	}
	switch ev := ev.(type) {
	case *eventsv1.RoundChanged:
		return errors.Join(want(ev.GetRound().GetState() == st, fmt.Sprintf("the last RoundChanged reports %v", ev.GetRound().GetState())),
			actorIs(ev.GetActor(), "round-manager"))
	case *eventsv1.RoundPublished:
		return actorIs(by(ev.GetRound()), "round-manager")
	}
	return fmt.Errorf("%s holds a %T", subject, ev)
}

// revision is an institution's current revision, for an update's
// optimistic check.
func (e *env) revision(t *testing.T, id string) uint64 {
	t.Helper()
	r, err := e.reg.GetInstitution(ctxT(t), &registryv1.GetInstitutionRequest{Id: id})
	if err != nil {
		t.Fatal(err)
	}
	return r.GetInstitution().GetRevision()
}

// institutionIs reads an institution back and checks its name.
func (e *env) institutionIs(id, name string) error {
	r, err := e.reg.GetInstitution(ctxT(e.t), &registryv1.GetInstitutionRequest{Id: id})
	if err != nil {
		return err
	}
	return want(r.GetInstitution().GetName() == name, fmt.Sprintf("%s is named %q", id, r.GetInstitution().GetName()))
}
