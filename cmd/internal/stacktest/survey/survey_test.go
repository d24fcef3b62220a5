// Package survey_test runs a citizen satisfaction survey (SKM) through the
// gRPC API: responses with known answers streamed by a survey collector,
// the index and band computed exactly under the regulation's 0.111 weights
// and under a unit's own exact fractions, invalid responses refused by
// index while the others count, the same responses sent again counting
// once, the unit's SKM record written by the service at most once a minute
// and once more at the close, and an award granted by rule at publication.
package survey_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	harness "github.com/predikat-id/predikat/cmd/internal/stack"
	"github.com/predikat-id/predikat/cmd/internal/stacktest"
	assessmentv1 "github.com/predikat-id/predikat/pkg/gen/predikat/assessment/v1"
	rankingv1 "github.com/predikat-id/predikat/pkg/gen/predikat/ranking/v1"
	registryv1 "github.com/predikat-id/predikat/pkg/gen/predikat/registry/v1"
	"github.com/predikat-id/predikat/pkg/platform/testenv/eventtest"
	"github.com/predikat-id/predikat/pkg/platform/testenv/natstest"
	"github.com/predikat-id/predikat/pkg/platform/testenv/redistest"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

const round = "skm-2026"

func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// known are four respondents: two answer 4 everywhere, one 3, one 2 except
// waktu (1). Element totals: 13 on eight elements, 12 on waktu; 116 in all.
//
//	0.111 each:  0.111 × 116 / 4 × 25 = 80.475   → 80.48, B (76.61-88.30)
//	1/9 each:    116 / (9 × 4) × 25  = 80.5555.. → 80.56, B
var known = []*assessmentv1.SurveyResponse{
	resp("r1", "2026-03-02", 4, 4, 4, 4, 4, 4, 4, 4, 4),
	resp("r2", "2026-03-02", 4, 4, 4, 4, 4, 4, 4, 4, 4),
	resp("r3", "2026-03-03", 3, 3, 3, 3, 3, 3, 3, 3, 3),
	resp("r4", "2026-03-03", 2, 2, 1, 2, 2, 2, 2, 2, 2),
}

func resp(id, date string, answers ...uint32) *assessmentv1.SurveyResponse {
	return &assessmentv1.SurveyResponse{ResponseId: id, CollectionDate: date, Answers: answers}
}

func submit(t *testing.T, c assessmentv1.SurveyServiceClient, msgs ...*assessmentv1.SubmitSurveyResponsesRequest) (*assessmentv1.SubmitSurveyResponsesResponse, error) {
	t.Helper()
	st, err := c.SubmitSurveyResponses(ctxT(t))
	if err != nil {
		return nil, err
	}
	for _, m := range msgs {
		if err := st.Send(m); err != nil {
			break // the answer says why
		}
	}
	return st.CloseAndRecv()
}

func TestSurveyYear(t *testing.T) {
	ns := natstest.Start(t)
	pki := stacktest.PKI(t)
	clk := stacktest.NewClock(time.Date(2026, 6, 15, 2, 0, 0, 0, time.UTC))
	svcs := stacktest.Services(t, ns, harness.ServicesOptions{RedisAddr: redistest.Start(t).Addr(), PKI: pki, Now: clk.Now})
	regAddr, err := svcs.Start(harness.Registry, "127.0.0.1:0", "")
	if err != nil {
		t.Fatal(err)
	}
	asmAddr, err := svcs.Start(harness.Assessment, "127.0.0.1:0", regAddr)
	if err != nil {
		t.Fatal(err)
	}
	rankAddr, err := svcs.Start(harness.Ranking, "127.0.0.1:0", regAddr)
	if err != nil {
		t.Fatal(err)
	}
	tokens := stacktest.NewTokens(t, pki)
	reg := registryv1.NewRegistryServiceClient(stacktest.Dial(t, regAddr, "admin"))
	(&stacktest.Registry{Addr: regAddr, Client: reg}).Create(t,
		eventtest.Inst{ID: "pemkab-hss", Name: "Pemerintah Kabupaten Hulu Sungai Selatan", Kind: eventtest.Pemkab, Region: "63.06"})
	unit := registryv1.InstitutionKind_INSTITUTION_KIND_SERVICE_UNIT
	for _, in := range []*registryv1.CreateInstitutionRequest{
		{InstitutionId: "puskesmas-kandangan", Institution: &registryv1.Institution{Name: "Puskesmas Kandangan", Kind: unit, RegionCode: "63.06", ParentId: "pemkab-hss", YearlyServiceUsers: 1000}},
		{InstitutionId: "dpmptsp-hss", Institution: &registryv1.Institution{Name: "DPMPTSP Kabupaten Hulu Sungai Selatan", Kind: unit, RegionCode: "63.06", ParentId: "pemkab-hss"}},
		{InstitutionId: "mpp-kandangan", Institution: &registryv1.Institution{Name: "Mal Pelayanan Publik Kandangan", Kind: unit, RegionCode: "63.06", ParentId: "pemkab-hss"}},
		{InstitutionId: "pkm-contoh", Institution: &registryv1.Institution{Name: "Puskesmas Contoh", Kind: unit, RegionCode: "63.06", ParentId: "pemkab-hss"}},
	} {
		if _, err := reg.CreateInstitution(ctxT(t), in); err != nil {
			t.Fatal(err)
		}
	}
	admin := assessmentv1.NewAssessmentServiceClient(tokens.Dial(asmAddr, "rina", "round-manager", "award-officer", "reader"))
	surveys := assessmentv1.NewSurveyServiceClient(tokens.Dial(asmAddr, "kiosk", "admin"))
	if _, err := admin.CreateRound(ctxT(t), &assessmentv1.CreateRoundRequest{SchemeId: "skm", Year: 2026}); err != nil {
		t.Fatal(err)
	}

	// A unit's own survey: the nine elements at exactly 1/9.
	var ninths []*assessmentv1.SurveyElement
	for _, c := range []string{"persyaratan", "prosedur", "waktu", "biaya", "produk", "kompetensi", "perilaku", "sarana", "pengaduan"} {
		ninths = append(ninths, &assessmentv1.SurveyElement{Code: c, Weight: "1/9"})
	}
	def, err := surveys.DefineUnitSurvey(ctxT(t), &assessmentv1.DefineUnitSurveyRequest{RoundId: round, UnitId: "dpmptsp-hss",
		Survey: &assessmentv1.SurveyDefinition{Elements: ninths}})
	if err != nil || !def.GetCreated() {
		t.Fatalf("define: %v %v", def, err)
	}

	// The known answers to both units, with three invalid responses among
	// them: each refused by its index, the others stored.
	bad := []*assessmentv1.SurveyResponse{
		resp("r5", "2026-03-03", 4, 4, 5, 4, 4, 4, 4, 4, 4), // an answer 5
		resp("r6", "2026-03-03", 4, 4, 4, 4, 4, 4, 4, 4),    // eight answers
		resp("r7", "2026-06-16", 4, 4, 4, 4, 4, 4, 4, 4, 4), // tomorrow in WITA
	}
	res, err := submit(t, surveys,
		&assessmentv1.SubmitSurveyResponsesRequest{RoundId: round, UnitId: "puskesmas-kandangan", Responses: append(append([]*assessmentv1.SurveyResponse{}, known[:2]...), bad...)},
		&assessmentv1.SubmitSurveyResponsesRequest{RoundId: round, UnitId: "puskesmas-kandangan", Responses: known[2:]},
		&assessmentv1.SubmitSurveyResponsesRequest{RoundId: round, UnitId: "dpmptsp-hss", Responses: known},
	)
	if err != nil {
		t.Fatal(err)
	}
	if res.GetAccepted() != 8 || res.GetRefused() != 3 || res.GetDuplicates() != 0 {
		t.Fatalf("first submission: %v", res)
	}
	wantRefused := map[int64]string{2: "answers[2]", 3: "9 elements", 4: "after today (2026-06-15 WITA)"}
	for _, f := range res.GetRefusals() {
		if w, ok := wantRefused[f.GetIndex()]; !ok || !strings.Contains(f.GetReason(), w) || f.GetUnitId() != "puskesmas-kandangan" {
			t.Errorf("refusal %v: want index in %v with its reason", f, wantRefused)
		}
	}

	check := func(unitID, index, band string, respondents int64) *assessmentv1.SurveyResult {
		t.Helper()
		got, err := surveys.GetSurveyResult(ctxT(t), &assessmentv1.GetSurveyResultRequest{RoundId: round, UnitId: unitID})
		if err != nil {
			t.Fatal(err)
		}
		r := got.GetResult()
		if r.GetIndex() != index || r.GetBandCode() != band || r.GetRespondents() != respondents {
			t.Fatalf("%s: index %s band %s respondents %d, want %s %s %d", unitID, r.GetIndex(), r.GetBandCode(), r.GetRespondents(), index, band, respondents)
		}
		return r
	}
	r := check("puskesmas-kandangan", "80.48", "B", 4)
	waktu := r.GetElements()[2]
	if waktu.GetCode() != "waktu" || fmt.Sprint(waktu.GetCounts()) != "[1 0 1 2]" || waktu.GetTotal() != 12 || waktu.GetMean() != "3.00" || waktu.GetWeight() != "0.111" {
		t.Fatalf("waktu: %v", waktu)
	}
	// 1000 service users a year: Krejcie-Morgan asks 278; 4 is below.
	if r.GetRequiredSample() != 278 || !r.GetSampleBelowGuidance() || r.GetPopulation() != 1000 {
		t.Fatalf("sample check: %v", r)
	}
	if !check("dpmptsp-hss", "80.56", "B", 4).GetUnitSurvey() {
		t.Fatal("dpmptsp-hss: its own survey not reported")
	}

	// The same responses again, days later and in another order: nothing
	// changes.
	clk.Add(72 * time.Hour)
	res, err = submit(t, surveys,
		&assessmentv1.SubmitSurveyResponsesRequest{RoundId: round, UnitId: "dpmptsp-hss", Responses: []*assessmentv1.SurveyResponse{known[3], known[0], known[3]}},
		&assessmentv1.SubmitSurveyResponsesRequest{RoundId: round, UnitId: "puskesmas-kandangan", Responses: known},
	)
	if err != nil || res.GetAccepted() != 0 || res.GetDuplicates() != 7 || res.GetRefused() != 0 {
		t.Fatalf("second submission: %v %v", res, err)
	}
	check("puskesmas-kandangan", "80.48", "B", 4)
	check("dpmptsp-hss", "80.56", "B", 4)

	// The unit's SKM record, written by the service from the survey.
	record := func(unitID string) *assessmentv1.Assessment {
		got, err := admin.GetAssessment(ctxT(t), &assessmentv1.GetAssessmentRequest{RoundId: round, InstitutionId: unitID})
		if err != nil {
			return nil
		}
		return got.GetAssessment()
	}
	stacktest.Eventually(t, "the survey record of puskesmas-kandangan", func() error {
		a := record("puskesmas-kandangan")
		if a == nil || a.GetTotal() != "80.48" {
			return fmt.Errorf("record %v", a)
		}
		if a.GetBasis() != assessmentv1.AssessmentBasis_ASSESSMENT_BASIS_SURVEY || a.GetRespondents() != 4 ||
			a.GetRecordedBy() != "spiffe://predikat/service/assessment" || !strings.Contains(a.GetReason(), "Krejcie-Morgan") {
			return fmt.Errorf("record %v", a)
		}
		return nil
	})
	first := record("puskesmas-kandangan").GetRevision()

	// All answers of 4 at the mall: 99.90, band A.
	var fours []*assessmentv1.SurveyResponse
	for i := range 5 {
		fours = append(fours, resp(fmt.Sprintf("m%d", i), "2026-05-01", 4, 4, 4, 4, 4, 4, 4, 4, 4))
	}
	// A fifth respondent for the health centre, within the minute: its
	// record waits.
	if res, err = submit(t, surveys,
		&assessmentv1.SubmitSurveyResponsesRequest{RoundId: round, UnitId: "mpp-kandangan", Responses: fours},
		&assessmentv1.SubmitSurveyResponsesRequest{RoundId: round, UnitId: "puskesmas-kandangan", Responses: []*assessmentv1.SurveyResponse{resp("r8", "2026-06-18", 4, 4, 4, 4, 4, 4, 4, 4, 4)}},
	); err != nil || res.GetAccepted() != 6 {
		t.Fatalf("third submission: %v %v", res, err)
	}
	check("mpp-kandangan", "99.90", "A", 5)
	// Made-up responses (a demo's): 97.13, band A, marked synthetic.
	var madeUp []*assessmentv1.SurveyResponse
	for i := range 5 {
		madeUp = append(madeUp, resp(fmt.Sprintf("s%d", i), "2026-05-01", 4, 4, 4, 4, 4, 4, 4, 4, 3))
	}
	if res, err = submit(t, surveys, &assessmentv1.SubmitSurveyResponsesRequest{RoundId: round, UnitId: "pkm-contoh", Responses: madeUp, Synthetic: true}); err != nil || res.GetAccepted() != 5 {
		t.Fatalf("synthetic submission: %v %v", res, err)
	}
	if r := check("pkm-contoh", "97.13", "A", 5); !r.GetSynthetic() {
		t.Fatal("pkm-contoh: not marked synthetic")
	}
	// (4×0.111×... ) 5 respondents: totals 17 on eight elements, 16 on waktu: 0.111 × 152 / 5 × 25 = 84.36
	check("puskesmas-kandangan", "84.36", "B", 5)
	stacktest.Eventually(t, "the mall's record", func() error {
		if a := record("mpp-kandangan"); a == nil || a.GetTotal() != "99.90" {
			return fmt.Errorf("record %v", a)
		}
		if a := record("pkm-contoh"); a == nil || a.GetTotal() != "97.13" || !a.GetSynthetic() {
			return fmt.Errorf("synthetic record %v", a)
		}
		return nil
	})
	if a := record("puskesmas-kandangan"); a.GetRevision() != first || a.GetTotal() != "80.48" {
		t.Fatalf("rewritten within the minute: %v", a)
	}
	clk.Add(61 * time.Second)
	stacktest.Eventually(t, "the health centre's record a minute later", func() error {
		if a := record("puskesmas-kandangan"); a == nil || a.GetTotal() != "84.36" || a.GetRevision() != first+1 {
			return fmt.Errorf("record %v", a)
		}
		return nil
	})

	// A last response, then the close: the record follows at once, and
	// the intake is shut.
	if res, err = submit(t, surveys, &assessmentv1.SubmitSurveyResponsesRequest{RoundId: round, UnitId: "puskesmas-kandangan",
		Responses: []*assessmentv1.SurveyResponse{resp("r9", "2026-06-18", 1, 1, 1, 1, 1, 1, 1, 1, 1)}}); err != nil || res.GetAccepted() != 1 {
		t.Fatalf("last response: %v %v", res, err)
	}
	if _, err := admin.CloseRound(ctxT(t), &assessmentv1.CloseRoundRequest{RoundId: round}); err != nil {
		t.Fatal(err)
	}
	// 6 respondents: totals 18 on eight elements, 17 on waktu: 0.111 × 161 / 6 × 25 = 74.4625 → 74.46, C
	if a := record("puskesmas-kandangan"); a.GetTotal() != "74.46" || a.GetBandCode() != "C" {
		t.Fatalf("record after the close: %v", a)
	}
	_, err = submit(t, surveys, &assessmentv1.SubmitSurveyResponsesRequest{RoundId: round, UnitId: "puskesmas-kandangan",
		Responses: []*assessmentv1.SurveyResponse{resp("r10", "2026-06-18", 4, 4, 4, 4, 4, 4, 4, 4, 4)}})
	if status.Code(err) != codes.FailedPrecondition || !strings.Contains(status.Convert(err).Message(), "OPEN") {
		t.Fatalf("a response after the close: %v", err)
	}
	check("puskesmas-kandangan", "74.46", "C", 6)

	// Published: the mall's A earns the version's band award, by rule; the
	// synthetic A earns nothing.
	if _, err := admin.PublishRound(ctxT(t), &assessmentv1.PublishRoundRequest{RoundId: round, ForceReason: "test: no objection window"}); err != nil {
		t.Fatal(err)
	}
	aw, err := admin.ListAwards(ctxT(t), &assessmentv1.ListAwardsRequest{SchemeId: "skm", Year: 2026})
	if err != nil {
		t.Fatal(err)
	}
	if len(aw.GetAwards()) != 1 || aw.GetAwards()[0].GetInstitution().GetId() != "mpp-kandangan" {
		t.Fatalf("awards: %v", aw.GetAwards())
	}
	// Ranked like any other record, on the units' provincial board.
	rank := rankingv1.NewRankingServiceClient(tokens.Dial(rankAddr, "citizen", "public"))
	stacktest.Eventually(t, "the units' board", func() error {
		b, err := rank.GetLeaderboard(ctxT(t), &rankingv1.GetLeaderboardRequest{Board: &rankingv1.BoardKey{SchemeId: "skm", Year: 2026, PeerGroup: "unit-layanan", Scope: "63"}})
		if err != nil {
			return err
		}
		var got []string
		for _, e := range b.GetEntries() {
			got = append(got, fmt.Sprintf("%d %s %s", e.GetRank(), e.GetInstitutionId(), e.GetScore()))
		}
		if want := "[1 mpp-kandangan 99.90 2 pkm-contoh 97.13 3 dpmptsp-hss 80.56 4 puskesmas-kandangan 74.46]"; fmt.Sprint(got) != want {
			return fmt.Errorf("board %v, want %s", got, want)
		}
		return nil
	})
}
