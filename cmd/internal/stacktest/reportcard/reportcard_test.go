// Package reportcard_test runs the report card (rapor) through the gRPC
// API: an assessor leaves improvement notes per dimension on Hulu Sungai
// Selatan's 2023 Ombudsman record, the public reads them once the round is
// published, and the 2024 record says which of them were addressed, each
// with the earlier note's text, kept across a restart of the service.
package reportcard_test

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/predikat-id/predikat/cmd/internal/cli"
	harness "github.com/predikat-id/predikat/cmd/internal/stack"
	"github.com/predikat-id/predikat/cmd/internal/stacktest"
	assessmentv1 "github.com/predikat-id/predikat/pkg/gen/predikat/assessment/v1"
	registryv1 "github.com/predikat-id/predikat/pkg/gen/predikat/registry/v1"
	"github.com/predikat-id/predikat/pkg/platform/devpki"
	"github.com/predikat-id/predikat/pkg/platform/grpcserver"
	"github.com/predikat-id/predikat/pkg/platform/testenv/eventtest"
	"github.com/predikat-id/predikat/pkg/platform/testenv/natstest"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
)

// env is a registry and an assessment service on a test NATS server, and
// a connection per identity.
type env struct {
	t       *testing.T
	pki     *devpki.Files
	svcs    *harness.Services
	regAddr string
	asmAddr string
	tokens  *stacktest.Tokens
}

func start(t *testing.T) *env {
	ns := natstest.Start(t)
	e := &env{t: t, pki: stacktest.PKI(t)}
	e.tokens = stacktest.NewTokens(t, e.pki)
	e.svcs = stacktest.Services(t, ns, harness.ServicesOptions{PKI: e.pki})
	var err error
	if e.regAddr, err = e.svcs.Start(harness.Registry, "127.0.0.1:0", ""); err != nil {
		t.Fatal(err)
	}
	e.startAssessment()
	return e
}

func (e *env) startAssessment() {
	var err error
	if e.asmAddr, err = e.svcs.Start(harness.Assessment, "127.0.0.1:0", e.regAddr); err != nil {
		e.t.Fatal(err)
	}
}

// asm is the assessment service as subject with groups.
func (e *env) asm(subject string, groups ...string) assessmentv1.AssessmentServiceClient {
	e.t.Helper()
	return assessmentv1.NewAssessmentServiceClient(e.tokens.Dial(e.asmAddr, subject, groups...))
}

func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// refused wants err to carry code and a message containing each of words.
func refused(t *testing.T, what string, err error, code codes.Code, words ...string) {
	t.Helper()
	if status.Code(err) != code {
		t.Fatalf("%s: got %v, want %v", what, err, code)
	}
	for _, w := range words {
		if !strings.Contains(status.Convert(err).Message(), w) {
			t.Fatalf("%s: %q does not say %q", what, status.Convert(err).Message(), w)
		}
	}
}

var institutions = []eventtest.Inst{
	{ID: "pemkab-hss", Name: "Pemerintah Kabupaten Hulu Sungai Selatan", Kind: eventtest.Pemkab, Region: "63.06"},
	{ID: "pemkab-tapin", Name: "Pemerintah Kabupaten Tapin", Kind: eventtest.Pemkab, Region: "63.05"},
}

func note(dim, text string) *assessmentv1.ImprovementNote {
	return &assessmentv1.ImprovementNote{DimensionCode: dim, Note: text}
}

// notes2023 are the notes left on HSS's 2023 record, as stored.
var notes2023 = []*assessmentv1.ImprovementNote{
	{Id: "ombudsman-2023/1", DimensionCode: "pengaduan", Note: "publish the complaint-handling standard at every service counter"},
	{Id: "ombudsman-2023/2", DimensionCode: "input", Note: "train counter staff in the service standard"},
	{Id: "ombudsman-2023/3", DimensionCode: "", Note: "keep the service announcement board current"},
}

func record2024(requestID string) *assessmentv1.RecordAssessmentRequest {
	return &assessmentv1.RecordAssessmentRequest{RoundId: "ombudsman-2024", InstitutionId: "pemkab-hss", RequestId: requestID,
		Input: &assessmentv1.AssessmentInput{
			Result:           &assessmentv1.AssessmentInput_ReportedTotal{ReportedTotal: "91.20"},
			ImprovementNotes: []*assessmentv1.ImprovementNote{note("output", "publish the satisfaction survey results")},
			FollowUps: []*assessmentv1.NoteFollowUp{
				{NoteId: "ombudsman-2023/1", Addressed: true, Comment: "standard posted at all 12 counters"},
				{NoteId: "ombudsman-2023/2", Comment: "no training held in 2024"},
			},
		}}
}

func TestReportCard(t *testing.T) {
	e := start(t)
	(&stacktest.Registry{Addr: e.regAddr, Client: registryv1.NewRegistryServiceClient(stacktest.Dial(t, e.regAddr, "admin"))}).Create(t, institutions...)
	manager := e.asm("rina", "round-manager")
	assessor := e.asm("ayu", "assessor")
	for _, year := range []int32{2023, 2024} {
		if _, err := manager.CreateRound(ctxT(t), &assessmentv1.CreateRoundRequest{SchemeId: "ombudsman", Year: year}); err != nil {
			t.Fatal(err)
		}
	}

	// 2023: HSS's record with its report card, per dimension and overall.
	rec, err := assessor.RecordAssessment(ctxT(t), &assessmentv1.RecordAssessmentRequest{RoundId: "ombudsman-2023", InstitutionId: "pemkab-hss", RequestId: "hss-2023",
		Input: &assessmentv1.AssessmentInput{
			Result: &assessmentv1.AssessmentInput_ReportedTotal{ReportedTotal: "84.10"},
			ImprovementNotes: []*assessmentv1.ImprovementNote{
				note("pengaduan", notes2023[0].GetNote()), note("input", notes2023[1].GetNote()), note("", notes2023[2].GetNote()),
			},
		}})
	if err != nil {
		t.Fatal(err)
	}
	sameNotes(t, "recorded 2023", rec.GetAssessment().GetImprovementNotes(), notes2023)
	// A note on a dimension the scheme version does not have.
	_, err = assessor.RecordAssessment(ctxT(t), &assessmentv1.RecordAssessmentRequest{RoundId: "ombudsman-2023", InstitutionId: "pemkab-tapin", RequestId: "tapin-2023",
		Input: &assessmentv1.AssessmentInput{Result: &assessmentv1.AssessmentInput_ReportedTotal{ReportedTotal: "80.00"},
			ImprovementNotes: []*assessmentv1.ImprovementNote{note("sarpras", "x")}}})
	refused(t, "a note on an unknown dimension", err, codes.InvalidArgument, "input.improvement_notes[0].dimension_code", "input, proses, output, pengaduan")

	// Published, the public reads the report card with the result.
	if _, err := manager.CloseRound(ctxT(t), &assessmentv1.CloseRoundRequest{RoundId: "ombudsman-2023"}); err != nil {
		t.Fatal(err)
	}
	if _, err := manager.PublishRound(ctxT(t), &assessmentv1.PublishRoundRequest{RoundId: "ombudsman-2023", ForceReason: "test: no objection window to wait for"}); err != nil {
		t.Fatal(err)
	}
	public := e.asm("warga", "public")
	got, err := public.GetAssessment(ctxT(t), &assessmentv1.GetAssessmentRequest{RoundId: "ombudsman-2023", InstitutionId: "pemkab-hss"})
	if err != nil {
		t.Fatal(err)
	}
	sameNotes(t, "the public's 2023 record", got.GetAssessment().GetImprovementNotes(), notes2023)

	// 2024: two of the notes followed up, one addressed; each with its text.
	rec24, err := assessor.RecordAssessment(ctxT(t), record2024("hss-2024"))
	if err != nil {
		t.Fatal(err)
	}
	checkFollowUps(t, "recorded 2024", rec24.GetAssessment())

	// Follow-ups must name notes of the previous assessment.
	bad := record2024("hss-2024-bad")
	bad.Input.FollowUps = append(bad.Input.FollowUps, &assessmentv1.NoteFollowUp{NoteId: "ombudsman-2023/7"})
	_, err = assessor.RecordAssessment(ctxT(t), bad)
	refused(t, "an unknown note id", err, codes.InvalidArgument, "input.follow_ups[2].note_id", "ombudsman-2023/7", "ombudsman-2023/1, ombudsman-2023/2, ombudsman-2023/3")
	tapin := &assessmentv1.RecordAssessmentRequest{RoundId: "ombudsman-2024", InstitutionId: "pemkab-tapin", RequestId: "tapin-2024",
		Input: &assessmentv1.AssessmentInput{Result: &assessmentv1.AssessmentInput_ReportedTotal{ReportedTotal: "88.10"},
			FollowUps: []*assessmentv1.NoteFollowUp{{NoteId: "ombudsman-2023/1"}}}}
	_, err = assessor.RecordAssessment(ctxT(t), tapin)
	refused(t, "a follow-up without an earlier assessment", err, codes.InvalidArgument, "pemkab-tapin has no earlier assessment")

	// The same request id: the same notes are the same request, other
	// notes are another one.
	again, err := assessor.RecordAssessment(ctxT(t), record2024("hss-2024"))
	if err != nil || again.GetCreated() || again.GetAssessment().GetRevision() != 1 {
		t.Fatalf("retry: %v, %v", again, err)
	}
	other := record2024("hss-2024")
	other.Input.ImprovementNotes[0].Note = "publish the survey results monthly"
	_, err = assessor.RecordAssessment(ctxT(t), other)
	refused(t, "the same request id with other notes", err, codes.AlreadyExists, "request id hss-2024 was already used for a different request")
	other = record2024("hss-2024")
	other.Input.FollowUps[1].Addressed = true
	_, err = assessor.RecordAssessment(ctxT(t), other)
	refused(t, "the same request id with another follow-up", err, codes.AlreadyExists, "request id hss-2024")

	// Kept in the stored records: a restarted service reads them back.
	if err := e.svcs.StopService(harness.Assessment); err != nil {
		t.Fatalf("assessment stopped with error: %v", err)
	}
	e.startAssessment()
	got, err = e.asm("warga", "public").GetAssessment(ctxT(t), &assessmentv1.GetAssessmentRequest{RoundId: "ombudsman-2023", InstitutionId: "pemkab-hss"})
	if err != nil {
		t.Fatal(err)
	}
	sameNotes(t, "2023 after a restart", got.GetAssessment().GetImprovementNotes(), notes2023)
	got, err = e.asm("baca", "reader").GetAssessment(ctxT(t), &assessmentv1.GetAssessmentRequest{RoundId: "ombudsman-2024", InstitutionId: "pemkab-hss"})
	if err != nil {
		t.Fatal(err)
	}
	checkFollowUps(t, "2024 after a restart", got.GetAssessment())

	// The CLI shows the report card: this year's note, and each of last
	// year's notes addressed, not addressed or not reviewed.
	out := e.cli(t, "assessments", "show", "--round", "ombudsman-2024", "--institution", "pemkab-hss")
	for _, want := range []string{
		"ombudsman-2024/1  output     publish the satisfaction survey results",
		"notes of ombudsman-2023: 1 addressed, 1 not addressed, 1 not reviewed",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("assessments show lacks %q:\n%s", want, out)
		}
	}
	var rows []string
	for l := range strings.Lines(out) {
		if strings.HasPrefix(l, "  ombudsman-2023/") {
			rows = append(rows, strings.Join(strings.Fields(l), " "))
		}
	}
	wantRows := []string{
		"ombudsman-2023/1 pengaduan addressed publish the complaint-handling standard at every service counter standard posted at all 12 counters",
		"ombudsman-2023/2 input not addressed train counter staff in the service standard no training held in 2024",
		"ombudsman-2023/3 (overall) not reviewed keep the service announcement board current -",
	}
	if strings.Join(rows, "\n") != strings.Join(wantRows, "\n") {
		t.Errorf("follow-up rows:\n%s\nwant:\n%s", strings.Join(rows, "\n"), strings.Join(wantRows, "\n"))
	}
	out = e.cli(t, "assessments", "show", "--round", "ombudsman-2023", "--institution", "pemkab-hss")
	if !strings.Contains(out, "report card: 3 improvement note(s)") || !strings.Contains(out, "ombudsman-2023/3  (overall)") || strings.Contains(out, "notes of") {
		t.Errorf("assessments show of 2023:\n%s", out)
	}
}

// cli runs the predikat command line against the stack as its dev admin
// and returns its output; it must succeed.
func (e *env) cli(t *testing.T, args ...string) string {
	t.Helper()
	var out bytes.Buffer
	app := &cli.App{Stdout: &out, Stderr: &out, Dial: grpcserver.Dial, Getenv: func(k string) string {
		switch k {
		case "PREDIKAT_PKI":
			return e.pki.Dir
		case "PREDIKAT_REGISTRY_ADDR":
			return e.regAddr
		case "PREDIKAT_ASSESSMENT_ADDR":
			return e.asmAddr
		}
		return ""
	}}
	if code := app.Run(ctxT(t), args); code != 0 {
		t.Fatalf("predikat %s: exit %d\n%s", strings.Join(args, " "), code, out.String())
	}
	return out.String()
}

func sameNotes(t *testing.T, what string, got, want []*assessmentv1.ImprovementNote) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: notes %v; want %v", what, got, want)
	}
	for i := range got {
		if !proto.Equal(got[i], want[i]) {
			t.Fatalf("%s: note %d is %v; want %v", what, i, got[i], want[i])
		}
	}
}

func checkFollowUps(t *testing.T, what string, a *assessmentv1.Assessment) {
	t.Helper()
	sameNotes(t, what, a.GetImprovementNotes(), []*assessmentv1.ImprovementNote{
		{Id: "ombudsman-2024/1", DimensionCode: "output", Note: "publish the satisfaction survey results"}})
	fs := a.GetFollowUps()
	if len(fs) != 2 {
		t.Fatalf("%s: follow-ups %v", what, fs)
	}
	if !fs[0].GetAddressed() || fs[0].GetComment() != "standard posted at all 12 counters" || !proto.Equal(fs[0].GetNote(), notes2023[0]) {
		t.Errorf("%s: first follow-up %v; want note %v addressed", what, fs[0], notes2023[0])
	}
	if fs[1].GetAddressed() || fs[1].GetComment() != "no training held in 2024" || !proto.Equal(fs[1].GetNote(), notes2023[1]) {
		t.Errorf("%s: second follow-up %v; want note %v not addressed", what, fs[1], notes2023[1])
	}
}
