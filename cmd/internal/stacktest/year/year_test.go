// Package year_test runs an assessment year through the gRPC API, each step
// by its own identity: records by an assessor, the close by a round
// manager, the preview by the institutions themselves, objections filed
// by them and decided by reviewers, the publication held back by the
// objection window and let through once it ends. The clock is the test's,
// so the window of ten working days passes in a second.
package year_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	harness "github.com/predikat-id/predikat/cmd/internal/stack"
	"github.com/predikat-id/predikat/cmd/internal/stacktest"
	"github.com/predikat-id/predikat/pkg/events"
	assessmentv1 "github.com/predikat-id/predikat/pkg/gen/predikat/assessment/v1"
	eventsv1 "github.com/predikat-id/predikat/pkg/gen/predikat/events/v1"
	rankingv1 "github.com/predikat-id/predikat/pkg/gen/predikat/ranking/v1"
	registryv1 "github.com/predikat-id/predikat/pkg/gen/predikat/registry/v1"
	"github.com/predikat-id/predikat/pkg/platform/devpki"
	"github.com/predikat-id/predikat/pkg/platform/testenv/eventtest"
	"github.com/predikat-id/predikat/pkg/platform/testenv/natstest"
	"github.com/predikat-id/predikat/pkg/platform/testenv/redistest"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

const round = "ombudsman-2024"

// year is the running system and a client per identity.
type year struct {
	t                 *testing.T
	pki               *devpki.Files
	js                jetstream.JetStream
	clock             *stacktest.Clock
	asmAddr, rankAddr string
	tokens            *stacktest.Tokens
	regAddr           string
}

func start(t *testing.T) *year {
	ns := natstest.Start(t)
	y := &year{t: t, pki: stacktest.PKI(t), js: ns.JetStream(t),
		clock: stacktest.NewClock(time.Date(2025, 2, 20, 2, 0, 0, 0, time.UTC))}
	// A second institution account, for Tapin, beside the dev policy's
	// account of Hulu Sungai Selatan (user:hss).
	policy, err := os.ReadFile(y.pki.Policy())
	if err != nil {
		t.Fatal(err)
	}
	extra := "  - principals: [user:tapin]\n    roles: [institution]\n    institutions: [pemkab-tapin]\n"
	if err := os.WriteFile(y.pki.Policy(), append(policy, extra...), 0o644); err != nil {
		t.Fatal(err)
	}
	y.tokens = stacktest.NewTokens(t, y.pki)
	svcs := stacktest.Services(t, ns, harness.ServicesOptions{RedisAddr: redistest.Start(t).Addr(), PKI: y.pki, Now: y.clock.Now})
	if y.regAddr, err = svcs.Start(harness.Registry, "127.0.0.1:0", ""); err != nil {
		t.Fatal(err)
	}
	if y.asmAddr, err = svcs.Start(harness.Assessment, "127.0.0.1:0", y.regAddr); err != nil {
		t.Fatal(err)
	}
	if y.rankAddr, err = svcs.Start(harness.Ranking, "127.0.0.1:0", y.regAddr); err != nil {
		t.Fatal(err)
	}
	return y
}

// as is a connection to addr with a dev token of subject and groups.
func (y *year) as(addr, subject string, groups ...string) *grpc.ClientConn {
	return y.tokens.Dial(addr, subject, groups...)
}

func (y *year) asm(subject string, groups ...string) assessmentv1.AssessmentServiceClient {
	return assessmentv1.NewAssessmentServiceClient(y.as(y.asmAddr, subject, groups...))
}

func (y *year) obj(subject string, groups ...string) assessmentv1.ObjectionServiceClient {
	return assessmentv1.NewObjectionServiceClient(y.as(y.asmAddr, subject, groups...))
}

func (y *year) rank(subject string, groups ...string) rankingv1.RankingServiceClient {
	return rankingv1.NewRankingServiceClient(y.as(y.rankAddr, subject, groups...))
}

func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// refused wants err to carry code and a message containing words.
func refused(t *testing.T, what string, err error, code codes.Code, words string) {
	t.Helper()
	if status.Code(err) != code || !strings.Contains(status.Convert(err).Message(), words) {
		t.Fatalf("%s: got %v, want %v saying %q", what, err, code, words)
	}
}

func reported(total string) *assessmentv1.AssessmentInput {
	return &assessmentv1.AssessmentInput{Result: &assessmentv1.AssessmentInput_ReportedTotal{ReportedTotal: total}}
}

func eventually(t *testing.T, what string, check func() error) {
	t.Helper()
	stacktest.Eventually(t, what, check)
}

var institutions = []eventtest.Inst{
	{ID: "pemprov-kalsel", Name: "Pemerintah Provinsi Kalimantan Selatan", Kind: eventtest.Pemprov, Region: "63"},
	{ID: "pemkab-hss", Name: "Pemerintah Kabupaten Hulu Sungai Selatan", Kind: eventtest.Pemkab, Region: "63.06"},
	{ID: "pemkab-tapin", Name: "Pemerintah Kabupaten Tapin", Kind: eventtest.Pemkab, Region: "63.05"},
	{ID: "pemkot-banjarmasin", Name: "Pemerintah Kota Banjarmasin", Kind: eventtest.Pemkot, Region: "63.71"},
	// In WIB, an hour behind Kalimantan Selatan: the round's last window
	// is hers.
	{ID: "pemkab-bogor", Name: "Pemerintah Kabupaten Bogor", Kind: eventtest.Pemkab, Region: "32.01"},
}

func TestAssessmentYear(t *testing.T) {
	y := start(t)
	reg := registryv1.NewRegistryServiceClient(stacktest.Dial(t, y.regAddr, "admin"))
	(&stacktest.Registry{Addr: y.regAddr, Client: reg}).Create(t, institutions...)
	// Polri and two of its police resorts: the version rolls the resorts
	// up into Polri's figure.
	for _, in := range []*registryv1.CreateInstitutionRequest{
		{InstitutionId: "polri", Institution: &registryv1.Institution{Name: "Kepolisian Negara Republik Indonesia", Kind: registryv1.InstitutionKind_INSTITUTION_KIND_AGENCY, RegionCode: "00"}},
		{InstitutionId: "polres-hss", Institution: &registryv1.Institution{Name: "Kepolisian Resor Hulu Sungai Selatan", Kind: eventtest.Polres, RegionCode: "63.06", ParentId: "polri"}},
		{InstitutionId: "polres-tapin", Institution: &registryv1.Institution{Name: "Kepolisian Resor Tapin", Kind: eventtest.Polres, RegionCode: "63.05", ParentId: "polri"}},
	} {
		if _, err := reg.CreateInstitution(ctxT(t), in); err != nil {
			t.Fatal(err)
		}
	}
	manager := y.asm("rina", "round-manager")
	assessor := y.asm("ayu", "assessor", "reviewer") // assesses, and also reviews
	reviewer := y.obj("siti", "reviewer")
	hss, tapin := y.obj("hss"), y.obj("tapin")

	// Records, by the assessor.
	if _, err := manager.CreateRound(ctxT(t), &assessmentv1.CreateRoundRequest{SchemeId: "ombudsman", Year: 2024}); err != nil {
		t.Fatal(err)
	}
	totals := map[string]string{"pemprov-kalsel": "94.58", "pemkab-hss": "91.20", "pemkab-tapin": "88.10", "pemkot-banjarmasin": "93.00", "pemkab-bogor": "85.00",
		"polres-hss": "96.64", "polres-tapin": "90.01"}
	for inst, total := range totals {
		if _, err := assessor.RecordAssessment(ctxT(t), &assessmentv1.RecordAssessmentRequest{RoundId: round, InstitutionId: inst,
			Input: reported(total), RequestId: "rec-" + inst}); err != nil {
			t.Fatalf("record %s: %v", inst, err)
		}
	}

	// Close: Monday 2025-03-03, 10:00 WITA. Ten working days after it
	// end with Monday 2025-03-17: the windows end at its midnight, 16:00
	// UTC in WITA and 17:00 UTC in WIB.
	closeAt := time.Date(2025, 3, 3, 2, 0, 0, 0, time.UTC)
	y.clock.Set(closeAt)
	if _, err := manager.CloseRound(ctxT(t), &assessmentv1.CloseRoundRequest{RoundId: round}); err != nil {
		t.Fatal(err)
	}

	t.Run("preview", func(t *testing.T) { y.preview(t) })

	// Objections: Hulu Sungai Selatan's (to be accepted) and Tapin's (to be
	// rejected), each by its own account, and neither for the other.
	y.clock.Set(closeAt.Add(48 * time.Hour))
	oHSS := file(t, hss, "pemkab-hss", "the complaint register of 2024 was not counted", "SK Bupati HSS 12/2024")
	if oHSS.GetWindowEndLocal() != "2025-03-17 24:00 WITA" || !oHSS.GetWindowEnd().AsTime().Equal(time.Date(2025, 3, 17, 16, 0, 0, 0, time.UTC)) ||
		oHSS.GetAgainstTotal() != "91.20" || oHSS.GetFiledBy() != "user:hss" {
		t.Fatalf("objection of HSS: %v", oHSS)
	}
	oTapin := file(t, tapin, "pemkab-tapin", "the proses observation day was a holiday", "Surat 7/2025")
	_, err := hss.FileObjection(ctxT(t), &assessmentv1.FileObjectionRequest{RoundId: round, InstitutionId: "pemkab-tapin", Reasons: "x", RequestId: "hss-for-tapin"})
	refused(t, "HSS objecting for Tapin", err, codes.PermissionDenied, `institution "pemkab-tapin"`)

	// Publication waits for the open objections.
	_, err = manager.PublishRound(ctxT(t), &assessmentv1.PublishRoundRequest{RoundId: round})
	refused(t, "publish with open objections", err, codes.FailedPrecondition, "2 open objection(s)")

	// Decisions: the assessor of Tapin's result may not review it;
	// another reviewer rejects it and accepts HSS's with a corrected figure.
	_, err = y.obj("ayu", "assessor", "reviewer").DecideObjection(ctxT(t), &assessmentv1.DecideObjectionRequest{RoundId: round, InstitutionId: "pemkab-tapin",
		ObjectionId: oTapin.GetId(), Decision: assessmentv1.ObjectionState_OBJECTION_STATE_REJECTED, Reasons: "no", RequestId: "ayu-decides"})
	refused(t, "the assessor reviewing", err, codes.PermissionDenied, "recorded revision 1")
	rej, err := reviewer.DecideObjection(ctxT(t), &assessmentv1.DecideObjectionRequest{RoundId: round, InstitutionId: "pemkab-tapin",
		ObjectionId: oTapin.GetId(), Decision: assessmentv1.ObjectionState_OBJECTION_STATE_REJECTED,
		Reasons: "the observation was on 2024-06-19, a working day", RequestId: "siti-tapin"})
	if err != nil || rej.GetObjection().GetState() != assessmentv1.ObjectionState_OBJECTION_STATE_REJECTED || rej.GetCorrection() != nil {
		t.Fatalf("rejection: %v, %v", rej, err)
	}
	acc, err := reviewer.DecideObjection(ctxT(t), &assessmentv1.DecideObjectionRequest{RoundId: round, InstitutionId: "pemkab-hss",
		ObjectionId: oHSS.GetId(), Decision: assessmentv1.ObjectionState_OBJECTION_STATE_ACCEPTED,
		Reasons: "register verified on site", Input: reported("97.10"), RequestId: "siti-hss"})
	if err != nil {
		t.Fatal(err)
	}
	c := acc.GetCorrection()
	if c.GetRevision() != 2 || c.GetTotal() != "97.10" || c.GetObjectionId() != oHSS.GetId() || c.GetRecordedBy() != "user:siti" ||
		!strings.Contains(c.GetReason(), "register verified") || acc.GetObjection().GetCorrectionRevision() != 2 {
		t.Fatalf("acceptance: %v", acc)
	}
	// Re-ranked: HSS now leads the local governments of the province.
	eventually(t, "HSS re-ranked after the acceptance", func() error {
		st, err := y.rank("hss").GetStanding(ctxT(t), &rankingv1.GetStandingRequest{InstitutionId: "pemkab-hss", SchemeId: "ombudsman", Year: 2024})
		if err != nil {
			return err
		}
		if st.GetScore() != "97.10" || rankIn(st, "pemda", "63") != 1 {
			return fmt.Errorf("standing %v", st)
		}
		return nil
	})

	// Publication now waits for the windows alone: still running in WIB
	// after it ended in WITA, where no objection is filed any more.
	y.clock.Set(time.Date(2025, 3, 17, 16, 30, 0, 0, time.UTC))
	_, err = hss.FileObjection(ctxT(t), &assessmentv1.FileObjectionRequest{RoundId: round, InstitutionId: "pemkab-hss", Reasons: "late", RequestId: "hss-late"})
	refused(t, "objection after the window", err, codes.FailedPrecondition, "ended 2025-03-17 24:00 WITA")
	_, err = manager.PublishRound(ctxT(t), &assessmentv1.PublishRoundRequest{RoundId: round})
	refused(t, "publish inside the WIB window", err, codes.FailedPrecondition, "runs until 2025-03-17 24:00 WIB")
	list, err := y.obj("rina", "round-manager").ListObjections(ctxT(t), &assessmentv1.ListObjectionsRequest{RoundId: round})
	if err != nil || len(list.GetObjections()) != 2 || !list.GetWindowEnd().AsTime().Equal(time.Date(2025, 3, 17, 17, 0, 0, 0, time.UTC)) {
		t.Fatalf("objections of the round: %v, %v", list, err)
	}

	// The institution's own listing shows its own window, in WITA.
	own, err := hss.ListObjections(ctxT(t), &assessmentv1.ListObjectionsRequest{RoundId: round, InstitutionId: "pemkab-hss"})
	if err != nil || len(own.GetObjections()) != 1 || !own.GetWindowEnd().AsTime().Equal(time.Date(2025, 3, 17, 16, 0, 0, 0, time.UTC)) {
		t.Fatalf("HSS's own objections: %v, %v", own, err)
	}
	y.clock.Set(time.Date(2025, 3, 17, 17, 0, 0, 0, time.UTC))
	pub, err := manager.PublishRound(ctxT(t), &assessmentv1.PublishRoundRequest{RoundId: round})
	if err != nil || pub.GetRound().GetState() != assessmentv1.RoundState_ROUND_STATE_PUBLISHED || pub.GetRound().GetPublishForceReason() != "" {
		t.Fatalf("publish after the windows: %v, %v", pub, err)
	}
	// Published, the corrected result is everyone's to read.
	got, err := y.asm("warga", "public").GetAssessment(ctxT(t), &assessmentv1.GetAssessmentRequest{RoundId: round, InstitutionId: "pemkab-hss"})
	if err != nil || got.GetAssessment().GetTotal() != "97.10" {
		t.Fatalf("public read of the published result: %v, %v", got, err)
	}

	y.checkObjectionEvents(t, oHSS.GetId(), oTapin.GetId())
	y.ceremony(t)
	y.rollup(t)
}

// rollup: Polri's figure is derived from its police resorts, never typed
// in, ranked on a board of its own, and follows a correction of a resort.
func (y *year) rollup(t *testing.T) {
	reader := y.asm("baca", "reader")
	derived := func() *assessmentv1.Assessment {
		t.Helper()
		got, err := reader.GetAssessment(ctxT(t), &assessmentv1.GetAssessmentRequest{RoundId: round, InstitutionId: "polri"})
		if err != nil {
			t.Fatal(err)
		}
		return got.GetAssessment()
	}
	// (96.64 + 90.01) / 2 = 93.325: once, half up.
	p := derived()
	if p.GetTotal() != "93.33" || p.GetBasis() != assessmentv1.AssessmentBasis_ASSESSMENT_BASIS_DERIVED || len(p.GetRollup().GetUnits()) != 2 {
		t.Fatalf("Polri's derived figure: %v", p)
	}
	_, err := y.asm("ayu", "assessor").CorrectPublishedAssessment(ctxT(t), &assessmentv1.CorrectPublishedAssessmentRequest{RoundId: round, InstitutionId: "polri",
		Input: reported("99.00"), CorrectsRevision: 1, Reason: "typed in", RequestId: "typed-polri"})
	refused(t, "typing Polri's figure in", err, codes.FailedPrecondition, "derived from its units")
	// A published correction of a resort: Polri follows, as a correction of
	// the published round, and its board with it.
	fix, err := y.asm("ayu", "assessor").CorrectPublishedAssessment(ctxT(t), &assessmentv1.CorrectPublishedAssessmentRequest{RoundId: round,
		InstitutionId: "polres-tapin", Input: reported("92.02"), CorrectsRevision: 1, Reason: "Ombudsman erratum", RequestId: "fix-tapin"})
	if err != nil || fix.GetAssessment().GetRevision() != 2 {
		t.Fatalf("correction of Polres Tapin: %v, %v", fix, err)
	}
	p = derived()
	if p.GetTotal() != "94.33" || !p.GetAfterPublication() || p.GetRevision() != 3 || !strings.Contains(p.GetReason(), "polres-tapin revision 2") {
		t.Fatalf("Polri after the correction: %v", p)
	}
	eventually(t, "Polri re-ranked on its roll-up board", func() error {
		lb, err := y.rank("baca", "reader").GetLeaderboard(ctxT(t), &rankingv1.GetLeaderboardRequest{
			Board: &rankingv1.BoardKey{SchemeId: "ombudsman", Year: 2024, PeerGroup: "induk-polres", Scope: "00"}})
		if err != nil {
			return err
		}
		if e := lb.GetEntries(); len(e) != 1 || e[0].GetInstitutionId() != "polri" || e[0].GetScore() != "94.33" {
			return fmt.Errorf("board %v", e)
		}
		return nil
	})
}

// ceremony: the round's awards presented at a ceremony by the award
// officer, each with a certificate whose code the public resolves to it.
func (y *year) ceremony(t *testing.T) {
	awards, err := y.asm("warga", "public").ListAwards(ctxT(t), &assessmentv1.ListAwardsRequest{RoundId: round})
	if err != nil || len(awards.GetAwards()) == 0 {
		t.Fatalf("awards of the round: %v, %v", awards, err)
	}
	var ids []string
	var hss *assessmentv1.Award
	for _, a := range awards.GetAwards() {
		ids = append(ids, a.GetId())
		if a.GetInstitution().GetId() == "pemkab-hss" {
			hss = a
		}
	}
	if hss == nil {
		t.Fatalf("no award for HSS's corrected 97.10: %v", awards)
	}
	officer := assessmentv1.NewCeremonyServiceClient(y.as(y.asmAddr, "dewi", "award-officer"))
	c, err := officer.CreateCeremony(ctxT(t), &assessmentv1.CreateCeremonyRequest{Name: "Penganugerahan Predikat Kepatuhan 2024",
		Place: "Banjarmasin", Date: "2025-03-20", ProvinceCode: "63", Host: "Ombudsman RI Perwakilan Kalimantan Selatan",
		Presenter: &assessmentv1.PresentedBy{Name: "Hadi Rahman", Office: "Kepala Perwakilan Ombudsman RI Kalimantan Selatan"}, RequestId: "ceremony-2024"})
	if err != nil {
		t.Fatal(err)
	}
	// Only the award officer holds ceremonies.
	_, err = assessmentv1.NewCeremonyServiceClient(y.as(y.asmAddr, "rina", "round-manager")).HoldCeremony(ctxT(t),
		&assessmentv1.HoldCeremonyRequest{CeremonyId: c.GetCeremony().GetId(), AwardIds: ids, RequestId: "hold-by-manager"})
	refused(t, "a round manager holding a ceremony", err, codes.PermissionDenied, "ceremonies.manage")
	held, err := officer.HoldCeremony(ctxT(t), &assessmentv1.HoldCeremonyRequest{CeremonyId: c.GetCeremony().GetId(), AwardIds: ids, RequestId: "hold"})
	if err != nil || len(held.GetCeremony().GetAwards()) != len(ids) {
		t.Fatalf("hold: %v, %v", held, err)
	}
	public := assessmentv1.NewCeremonyServiceClient(y.as(y.asmAddr, "warga", "public"))
	cert, err := public.GetCertificate(ctxT(t), &assessmentv1.GetCertificateRequest{AwardId: hss.GetId()})
	if err != nil || !strings.HasPrefix(string(cert.GetPdf()), "%PDF-") || cert.GetVerificationCode() == "" {
		t.Fatalf("certificate of HSS's award: %v", err)
	}
	got, err := public.VerifyCertificate(ctxT(t), &assessmentv1.VerifyCertificateRequest{Code: strings.ToLower(cert.GetVerificationCode())})
	if err != nil || !got.GetValid() || got.GetAward().GetId() != hss.GetId() || got.GetCeremony().GetId() != c.GetCeremony().GetId() {
		t.Fatalf("verify %s: %v, %v", cert.GetVerificationCode(), got, err)
	}
	if got.GetAward().GetBasis().GetScore() != "97.10" {
		t.Errorf("the certificate's award carries %q, not the corrected 97.10", got.GetAward().GetBasis().GetScore())
	}
}

// preview: each institution reads its own provisional result and rank,
// nothing of anyone else's; the public sees nothing provisional.
func (y *year) preview(t *testing.T) {
	own, err := y.asm("hss").GetAssessment(ctxT(t), &assessmentv1.GetAssessmentRequest{RoundId: round, InstitutionId: "pemkab-hss"})
	if err != nil || own.GetAssessment().GetTotal() != "91.20" {
		t.Fatalf("HSS reading its own result: %v, %v", own, err)
	}
	eventually(t, "HSS's provisional standing", func() error {
		st, err := y.rank("hss").GetStanding(ctxT(t), &rankingv1.GetStandingRequest{InstitutionId: "pemkab-hss", SchemeId: "ombudsman", Year: 2024})
		if err != nil {
			return err
		}
		// 94.58, 93.00, then HSS's 91.20, ahead of Tapin's 88.10.
		if st.GetState() != rankingv1.BoardState_BOARD_STATE_PROVISIONAL || rankIn(st, "pemda", "63") != 3 {
			return fmt.Errorf("standing %v", st)
		}
		return nil
	})
	_, err = y.asm("hss").GetAssessment(ctxT(t), &assessmentv1.GetAssessmentRequest{RoundId: round, InstitutionId: "pemkab-tapin"})
	refused(t, "HSS reading Tapin's result", err, codes.PermissionDenied, `institution "pemkab-tapin"`)
	_, err = y.rank("hss").GetStanding(ctxT(t), &rankingv1.GetStandingRequest{InstitutionId: "pemkab-tapin", SchemeId: "ombudsman", Year: 2024})
	refused(t, "HSS reading Tapin's rank", err, codes.PermissionDenied, `institution "pemkab-tapin"`)
	board := &rankingv1.BoardKey{SchemeId: "ombudsman", Year: 2024, PeerGroup: "pemda", Scope: "63"}
	_, err = y.rank("hss").GetLeaderboard(ctxT(t), &rankingv1.GetLeaderboardRequest{Board: board})
	refused(t, "HSS reading the provisional board", err, codes.PermissionDenied, "boards.read")
	_, err = y.asm("warga", "public").GetAssessment(ctxT(t), &assessmentv1.GetAssessmentRequest{RoundId: round, InstitutionId: "pemkab-hss"})
	refused(t, "the public reading a provisional result", err, codes.PermissionDenied, "not published")
	_, err = y.rank("warga", "public").GetLeaderboard(ctxT(t), &rankingv1.GetLeaderboardRequest{Board: board})
	refused(t, "the public reading a provisional board", err, codes.PermissionDenied, "boards.read")
	if _, err := y.rank("baca", "reader").GetLeaderboard(ctxT(t), &rankingv1.GetLeaderboardRequest{Board: board}); err != nil {
		t.Fatalf("a reader reading the provisional board: %v", err)
	}
}

func file(t *testing.T, c assessmentv1.ObjectionServiceClient, inst, reasons, evidence string) *assessmentv1.Objection {
	t.Helper()
	resp, err := c.FileObjection(ctxT(t), &assessmentv1.FileObjectionRequest{RoundId: round, InstitutionId: inst, Reasons: reasons,
		Evidence: []string{evidence}, RequestId: "file-" + inst})
	if err != nil {
		t.Fatalf("%s objecting: %v", inst, err)
	}
	if !resp.GetCreated() || resp.GetObjection().GetState() != assessmentv1.ObjectionState_OBJECTION_STATE_OPEN {
		t.Fatalf("%s objecting: %v", inst, resp)
	}
	return resp.GetObjection()
}

// rankIn is the institution's rank on the board of group and scope (0:
// not on it).
func rankIn(st *rankingv1.GetStandingResponse, group, scope string) int32 {
	for _, s := range st.GetStandings() {
		if s.GetBoard().GetKey().GetPeerGroup() == group && s.GetBoard().GetKey().GetScope() == scope {
			return s.GetRank()
		}
	}
	return 0
}

// checkObjectionEvents reads the ROUNDS stream: each objection filed and
// decided, once, in that order, on its own subject.
func (y *year) checkObjectionEvents(t *testing.T, accepted, rejected string) {
	stream, err := y.js.Stream(ctxT(t), events.Rounds)
	if err != nil {
		t.Fatal(err)
	}
	for id, want := range map[string]assessmentv1.ObjectionState{accepted: assessmentv1.ObjectionState_OBJECTION_STATE_ACCEPTED, rejected: assessmentv1.ObjectionState_OBJECTION_STATE_REJECTED} {
		var types []string
		for seq := uint64(1); ; {
			m, err := stream.GetMsg(ctxT(t), seq, jetstream.WithGetMsgSubject(events.RoundObjectionFilter("ombudsman", 2024, "")))
			if err != nil {
				break
			}
			seq = m.Sequence + 1
			ev, err := events.Decode(m.Subject, m.Header, m.Data)
			if err != nil {
				t.Fatal(err)
			}
			switch e := ev.(type) {
			case *eventsv1.ObjectionFiled:
				if e.GetObjection().GetId() == id {
					types = append(types, "filed")
				}
			case *eventsv1.ObjectionDecided:
				if e.GetObjection().GetId() == id {
					types = append(types, "decided")
					if e.GetObjection().GetState() != want {
						t.Errorf("%s decided %v, want %v", id, e.GetObjection().GetState(), want)
					}
				}
			}
		}
		// An acceptance is told twice: decided, then with its correction.
		want := "filed,decided"
		if id == accepted {
			want = "filed,decided,decided"
		}
		if strings.Join(types, ",") != want {
			t.Errorf("events of %s: %v, want %s", id, types, want)
		}
	}
}
