package cli

import (
	"bytes"
	"context"
	"flag"
	"net"
	"strings"
	"sync"
	"testing"

	assessmentv1 "github.com/predikat-id/predikat/pkg/gen/predikat/assessment/v1"
	rankingv1 "github.com/predikat-id/predikat/pkg/gen/predikat/ranking/v1"
	registryv1 "github.com/predikat-id/predikat/pkg/gen/predikat/registry/v1"
	"github.com/predikat-id/predikat/pkg/platform/auth"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/grpc/test/bufconn"
	"google.golang.org/protobuf/encoding/protojson"
)

// fakeServer serves the three APIs in process, with just enough behaviour
// for the commands under test, and records what it was sent.
type fakeServer struct {
	rankingv1.UnimplementedRankingServiceServer
	assessmentv1.UnimplementedAssessmentServiceServer
	registryv1.UnimplementedRegistryServiceServer

	mu       sync.Mutex
	actors   []string
	records  map[string]*assessmentv1.RecordAssessmentRequest // by request id
	calls    int
	existing map[string]*registryv1.Institution
}

func (f *fakeServer) seen(ctx context.Context) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	md, _ := metadata.FromIncomingContext(ctx)
	f.actors = append(f.actors, md.Get("x-predikat-actor")...)
}

var boardEntries = []*rankingv1.LeaderboardEntry{
	{Rank: 1, InstitutionId: "pemkab-hss", Name: "Pemerintah Kabupaten Hulu Sungai Selatan", Score: "96.52", BandCode: "A", BandLabel: "Kualitas Tertinggi"},
	{Rank: 2, InstitutionId: "pemprov-kalsel", Name: "Pemerintah Provinsi Kalimantan Selatan", Score: "94.58", BandCode: "A", BandLabel: "Kualitas Tertinggi"},
}

// GetLeaderboard answers one entry per page, so paging is exercised.
func (f *fakeServer) GetLeaderboard(ctx context.Context, req *rankingv1.GetLeaderboardRequest) (*rankingv1.GetLeaderboardResponse, error) {
	f.seen(ctx)
	if req.GetBoard().GetYear() != 2024 {
		return nil, status.Errorf(codes.NotFound, "no round %s-%d", req.GetBoard().GetSchemeId(), req.GetBoard().GetYear())
	}
	i := 0
	if req.GetPageToken() == "p2" {
		i = 1
	}
	resp := &rankingv1.GetLeaderboardResponse{
		Board:   &rankingv1.Board{Key: req.GetBoard(), PeerGroupName: "Pemerintah Daerah", ScopeName: "Kalimantan Selatan", State: rankingv1.BoardState_BOARD_STATE_FINAL, EntryCount: 2},
		Entries: boardEntries[i : i+1], TotalEntries: 2,
	}
	if i == 0 {
		resp.NextPageToken = "p2"
	}
	return resp, nil
}

func (f *fakeServer) GetRound(ctx context.Context, req *assessmentv1.GetRoundRequest) (*assessmentv1.GetRoundResponse, error) {
	f.seen(ctx)
	if req.GetRoundId() != "ombudsman-2024" {
		return nil, status.Errorf(codes.NotFound, "round %s not found", req.GetRoundId())
	}
	return &assessmentv1.GetRoundResponse{Round: &assessmentv1.Round{Id: "ombudsman-2024", State: assessmentv1.RoundState_ROUND_STATE_OPEN}}, nil
}

func (f *fakeServer) RecordAssessment(ctx context.Context, req *assessmentv1.RecordAssessmentRequest) (*assessmentv1.RecordAssessmentResponse, error) {
	f.seen(ctx)
	f.mu.Lock()
	defer f.mu.Unlock()
	if req.GetInstitutionId() == "unknown" {
		return nil, status.Error(codes.NotFound, "institution unknown not found")
	}
	_, dup := f.records[req.GetRequestId()]
	f.records[req.GetRequestId()] = req
	return &assessmentv1.RecordAssessmentResponse{Assessment: &assessmentv1.Assessment{InstitutionId: req.GetInstitutionId()}, Created: !dup}, nil
}

func (f *fakeServer) CreateInstitution(ctx context.Context, req *registryv1.CreateInstitutionRequest) (*registryv1.CreateInstitutionResponse, error) {
	f.seen(ctx)
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.existing[req.GetInstitutionId()]; ok {
		return nil, status.Errorf(codes.AlreadyExists, "institution id %q is already taken", req.GetInstitutionId())
	}
	if req.GetInstitution().GetName() == "Duplikat" {
		return nil, status.Errorf(codes.AlreadyExists, "pemkab %q in region 63.06 is already registered as %q", "Duplikat", "other-id")
	}
	f.existing[req.GetInstitutionId()] = req.GetInstitution()
	return &registryv1.CreateInstitutionResponse{Institution: req.GetInstitution()}, nil
}

func (f *fakeServer) GetInstitution(ctx context.Context, req *registryv1.GetInstitutionRequest) (*registryv1.GetInstitutionResponse, error) {
	f.seen(ctx)
	f.mu.Lock()
	defer f.mu.Unlock()
	in, ok := f.existing[req.GetId()]
	if !ok {
		return nil, status.Errorf(codes.NotFound, "institution %s not found", req.GetId())
	}
	return &registryv1.GetInstitutionResponse{Institution: in}, nil
}

func (f *fakeServer) ListRegions(ctx context.Context, req *registryv1.ListRegionsRequest) (*registryv1.ListRegionsResponse, error) {
	f.seen(ctx)
	all := []*registryv1.Region{
		{Code: "63", Name: "Kalimantan Selatan", Level: registryv1.RegionLevel_REGION_LEVEL_PROVINCE, ParentCode: "00", ProvinceCode: "63", Builtin: true},
		{Code: "63.06", Name: "Hulu Sungai Selatan", Level: registryv1.RegionLevel_REGION_LEVEL_REGENCY, ParentCode: "63", ProvinceCode: "63", Builtin: true},
	}
	var out []*registryv1.Region
	for _, r := range all {
		if req.GetLevel() == 0 || r.GetLevel() == req.GetLevel() {
			out = append(out, r)
		}
	}
	return &registryv1.ListRegionsResponse{Regions: out}, nil
}

func (f *fakeServer) CreateRegion(ctx context.Context, req *registryv1.CreateRegionRequest) (*registryv1.CreateRegionResponse, error) {
	f.seen(ctx)
	return &registryv1.CreateRegionResponse{Region: &registryv1.Region{Code: req.GetCode(), Name: req.GetName(),
		Level: registryv1.RegionLevel_REGION_LEVEL_REGENCY, ParentCode: req.GetCode()[:2], ProvinceCode: req.GetCode()[:2]}}, nil
}

func TestRegions(t *testing.T) {
	app, _, out, errOut := newTestApp(t)
	if code := app.Run(context.Background(), []string{"regions", "list", "--level", "regency"}); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if got := out.String(); !strings.Contains(got, "63.06  Hulu Sungai Selatan  regency  63        built in") || strings.Contains(got, "Kalimantan Selatan") {
		t.Errorf("regions list --level regency:\n%s", got)
	}
	out.Reset()
	if code := app.Run(context.Background(), []string{"regions", "add", "64.12", "Contoh Baru"}); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if got := out.String(); got != "added 64.12 Contoh Baru (regency of 64)\n" {
		t.Errorf("regions add: %q", got)
	}
}

func newTestApp(t *testing.T) (*App, *fakeServer, *bytes.Buffer, *bytes.Buffer) {
	t.Helper()
	f := &fakeServer{records: map[string]*assessmentv1.RecordAssessmentRequest{}, existing: map[string]*registryv1.Institution{}}
	lis := bufconn.Listen(1 << 20)
	srv := grpc.NewServer()
	rankingv1.RegisterRankingServiceServer(srv, f)
	assessmentv1.RegisterAssessmentServiceServer(srv, f)
	registryv1.RegisterRegistryServiceServer(srv, f)
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(srv.Stop)
	var out, errOut bytes.Buffer
	app := &App{
		Stdout: &out, Stderr: &errOut,
		Getenv: func(k string) string { return map[string]string{"USER": "tester"}[k] },
		Dial: func(target string, opts ...grpc.DialOption) (*grpc.ClientConn, error) {
			opts = append(opts, grpc.WithTransportCredentials(insecure.NewCredentials()),
				grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return lis.DialContext(ctx) }))
			return grpc.NewClient("passthrough:///"+target, opts...)
		},
		// The fake server is plaintext: no credentials (credentials_test.go
		// covers them over TLS).
		Credentials: func(auth.ClientCredentials) ([]grpc.DialOption, error) { return nil, nil },
	}
	return app, f, &out, &errOut
}

func TestBoard(t *testing.T) {
	app, f, out, errOut := newTestApp(t)
	code := app.Run(context.Background(), strings.Fields("board --scheme ombudsman --year 2024 --group pemda --province 63"))
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	want := `ombudsman 2024 · Pemerintah Daerah · Kalimantan Selatan · final · 2 ranked
RANK  INSTITUTION                               SCORE  BAND                    ID
   1  Pemerintah Kabupaten Hulu Sungai Selatan  96.52  A (Kualitas Tertinggi)  pemkab-hss
   2  Pemerintah Provinsi Kalimantan Selatan    94.58  A (Kualitas Tertinggi)  pemprov-kalsel
`
	if out.String() != want {
		t.Errorf("board:\n%s\nwant:\n%s", out, want)
	}
	// The CLI claims no identity: the credentials are the only one.
	if len(f.actors) != 0 {
		t.Errorf("the CLI sent an actor header: %q", f.actors)
	}
}

func TestBoardJSONAndLimit(t *testing.T) {
	app, _, out, errOut := newTestApp(t)
	if code := app.Run(context.Background(), strings.Fields("board --json --scheme ombudsman --year 2024 --group pemda --province 63")); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 1 {
		t.Fatalf("--json printed %d lines, want one object", len(lines))
	}
	var resp rankingv1.GetLeaderboardResponse
	if err := protojson.Unmarshal([]byte(lines[0]), &resp); err != nil {
		t.Fatal(err)
	}
	if len(resp.GetEntries()) != 2 || resp.GetEntries()[0].GetScore() != "96.52" || resp.GetNextPageToken() != "" {
		t.Errorf("json = %v", &resp)
	}

	out.Reset()
	if code := app.Run(context.Background(), strings.Fields("board --scheme ombudsman --year 2024 --group pemda --province 63 --limit 1")); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if !strings.Contains(out.String(), "top 1 of 2") || strings.Contains(out.String(), "pemprov-kalsel") {
		t.Errorf("--limit 1:\n%s", out)
	}
}

func TestErrorsAndUsage(t *testing.T) {
	cases := []struct {
		args   string
		code   int
		stderr string
	}{
		{"board --scheme ombudsman --year 2031 --group pemda", 1, "predikat board: no round ombudsman-2031 (NotFound)\n"},
		{"board --scheme ombudsman", 2, "predikat board: missing --year, --group\n"},
		{"board --scheme ombudsman --year 2024 --group pemda --province 6", 2, `"6" is not a scope`},
		{"board extra --scheme ombudsman --year 2024 --group pemda", 2, `unexpected argument "extra"`},
		{"bored", 2, `predikat: unknown command "bored"`},
		{"institutions", 2, "Usage: predikat institutions COMMAND"},
		{"institutions frobnicate", 2, `predikat institutions: unknown command "frobnicate"`},
		{"assessments import", 2, "missing FILE.csv"},
		{"awards grant --institution x --title y", 2, "missing --ceremony"},
		{"rounds publish r --place here", 2, "--place and --date describe a ceremony"},
		{"assessments import nothere.csv --round ombudsman-2024", 1, "nothere.csv: no such file"},
		{"board --bogus", 2, "flag provided but not defined: -bogus"},
		{"regions list --level county", 2, `--level "county": want national, province, regency or city`},
		{"regions add 64.12", 2, "missing CODE and NAME"},
	}
	for _, c := range cases {
		t.Run(c.args, func(t *testing.T) {
			app, _, _, errOut := newTestApp(t)
			if code := app.Run(context.Background(), strings.Fields(c.args)); code != c.code {
				t.Errorf("exit %d, want %d; stderr: %s", code, c.code, errOut)
			}
			if !strings.Contains(errOut.String(), c.stderr) {
				t.Errorf("stderr = %q, want it to contain %q", errOut, c.stderr)
			}
		})
	}
}

func TestHelp(t *testing.T) {
	for _, args := range []string{"-h", "help", "help board", "board -h", "awards watch --help", "institutions --help"} {
		app, _, out, errOut := newTestApp(t)
		if code := app.Run(context.Background(), strings.Fields(args)); code != 0 {
			t.Errorf("%s: exit %d: %s", args, code, errOut)
		}
		if !strings.Contains(out.String(), "Usage: predikat") {
			t.Errorf("%s: no usage on stdout:\n%s", args, out)
		}
	}
	app, _, out, _ := newTestApp(t)
	app.Run(context.Background(), []string{"board", "-h"})
	for _, want := range []string{"--scheme", "--json", "--ranking", "PREDIKAT_RANKING_ADDR", "Examples:", "predikat board --scheme ombudsman"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("board -h lacks %q:\n%s", want, out)
		}
	}
}

func TestParseInterspersed(t *testing.T) {
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	round := fs.String("round", "", "")
	dry := fs.Bool("dry-run", false, "")
	pos, err := parseInterspersed(fs, []string{"a.csv", "--round", "r-2024", "b", "--dry-run", "--", "--not-a-flag"})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(pos, " ") != "a.csv b --not-a-flag" || *round != "r-2024" || !*dry {
		t.Errorf("positional %q, round %q, dry %v", pos, *round, *dry)
	}
}

func TestBatchIndexNamesTheRefusedLine(t *testing.T) {
	for _, c := range []struct {
		err  error
		want int
	}{
		{status.Error(codes.InvalidArgument, "records[3] (pemkab-hss): reported total 100.01 is outside the scale"), 3},
		{status.Error(codes.Aborted, "records[12]: polres-001 already has a record"), 0}, // past the chunk: the first
		{status.Error(codes.Unavailable, "NATS is unreachable"), 0},
	} {
		if got := batchIndex(c.err, 10); got != c.want {
			t.Errorf("%v: %d, want %d", c.err, got, c.want)
		}
	}
}
