package devstack

import (
	"context"
	"github.com/predikat-id/predikat/pkg/platform/devpki"
	"github.com/predikat-id/predikat/pkg/platform/security"
	"google.golang.org/grpc"
	"log/slog"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/predikat-id/predikat/cmd/internal/demo"
	"github.com/predikat-id/predikat/cmd/internal/stack"
	assessmentv1 "github.com/predikat-id/predikat/pkg/gen/predikat/assessment/v1"
	rankingv1 "github.com/predikat-id/predikat/pkg/gen/predikat/ranking/v1"
	registryv1 "github.com/predikat-id/predikat/pkg/gen/predikat/registry/v1"
	"github.com/predikat-id/predikat/pkg/platform/grpcserver"
	"github.com/predikat-id/predikat/pkg/platform/testenv/natstest"
)

// running is a stack started by the test on free ports.
type running struct {
	addrs Addrs
	stop  func()
}

func startStack(t *testing.T, dir string, log *slog.Logger) *running {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	ready, done := make(chan Addrs, 1), make(chan error, 1)
	go func() {
		// No metrics ports: the test runs beside a `make run`, which holds
		// the default ones.
		done <- Run(ctx, Options{DataDir: dir, NATSPort: -1, RegistryAddr: "127.0.0.1:0", AssessmentAddr: "127.0.0.1:0",
			RankingAddr: "127.0.0.1:0", Demo: true, Logger: log, OnReady: func(a Addrs) { ready <- a },
			MetricsAddrs: map[string]string{stack.Registry: "", stack.Assessment: "", stack.Ranking: ""}})
	}()
	select {
	case a := <-ready:
		stopped := false
		r := &running{addrs: a, stop: func() {
			if !stopped {
				stopped = true
				cancel()
				if err := <-done; err != nil {
					t.Errorf("stack stopped with error: %v", err)
				}
			}
		}}
		t.Cleanup(r.stop)
		return r
	case err := <-done:
		cancel()
		t.Fatalf("stack did not start: %v", err)
	case <-time.After(90 * time.Second):
		cancel()
		t.Fatal("stack not ready in 90s")
	}
	return nil
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// streamSeqs reads the streams' last sequences as the NATS admin of the
// PKI in dir: the dev NATS lets no one in anonymously.
func streamSeqs(t *testing.T, dir, natsURL string) map[string]uint64 {
	t.Helper()
	opts, err := stack.NATSClient(devpki.At(filepath.Join(dir, "pki")), stack.NATSAdmin, true).Options()
	if err != nil {
		t.Fatal(err)
	}
	nc, err := nats.Connect(natsURL, opts...)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	return natstest.LastSeqs(t, js)
}

// TestDemoStack checks the demo against the real stack: the demo
// loads into an empty data directory, the pemda board of Kalimantan Selatan
// has Hulu Sungai Selatan first at 96.52, HSS shows its four awards of
// 17 April 2025, loading again changes nothing, and a restart keeps it all.
func TestDemoStack(t *testing.T) {
	t.Chdir(t.TempDir())
	dir := ".predikat" // relative, as make run passes it
	log := natstest.Logger(t)
	s := startStack(t, dir, log)

	rc, _ := dialAdmin(t, dir, s.addrs.Ranking)
	defer rc.Close()
	board, err := rankingv1.NewRankingServiceClient(rc).GetLeaderboard(ctxT(t), &rankingv1.GetLeaderboardRequest{
		Board: &rankingv1.BoardKey{SchemeId: "ombudsman", Year: 2024, PeerGroup: "pemda", Scope: "63"}})
	if err != nil {
		t.Fatal(err)
	}
	if e := board.GetEntries(); len(e) == 0 || e[0].GetInstitutionId() != "pemkab-hss" || e[0].GetScore() != "96.52" || e[0].GetRank() != 1 {
		t.Fatalf("pemda board of 63 = %v", e)
	}
	if board.GetBoard().GetState() != rankingv1.BoardState_BOARD_STATE_FINAL {
		t.Errorf("published round's board is %v", board.GetBoard().GetState())
	}
	checkPublishedAggregates(t, rankingv1.NewRankingServiceClient(rc))

	ac, _ := dialAdmin(t, dir, s.addrs.Assessment)
	defer ac.Close()
	asm := assessmentv1.NewAssessmentServiceClient(ac)
	awards, err := asm.ListAwards(ctxT(t), &assessmentv1.ListAwardsRequest{InstitutionId: "pemkab-hss", CeremonyDate: "2025-04-17",
		State: assessmentv1.AwardState_AWARD_STATE_GRANTED})
	if err != nil {
		t.Fatal(err)
	}
	var titles []string
	for _, a := range awards.GetAwards() {
		titles = append(titles, a.GetTitle())
	}
	sort.Strings(titles)
	joined := strings.Join(titles, " | ")
	for _, want := range []string{"BerAKHLAK", "Prima", "SAKIP A", "Reformasi Birokrasi"} {
		if !strings.Contains(joined, want) {
			t.Errorf("HSS's awards of 17 April 2025 lack %q: %s", want, joined)
		}
	}
	if len(titles) != 4 {
		t.Errorf("HSS has %d awards of 17 April 2025, want 4: %s", len(titles), joined)
	}
	// The synthetic fill earns nothing: the round's awards go to the four
	// institutions the article names.
	won, err := asm.ListAwards(ctxT(t), &assessmentv1.ListAwardsRequest{RoundId: "ombudsman-2024", PageSize: 1000})
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range won.GetAwards() {
		if id := a.GetInstitution().GetId(); !slices.Contains([]string{"pemprov-kalsel", "pemkab-hss", "polres-hss", "kantah-tanah-laut"}, id) {
			t.Errorf("%s was awarded %q on a synthetic figure", id, a.GetTitle())
		}
	}

	// Loading again writes nothing.
	before := streamSeqs(t, dir, s.addrs.NATS)
	gc, _ := dialAdmin(t, dir, s.addrs.Registry)
	defer gc.Close()
	if err := demo.Load(ctxT(t), demo.Clients{Registry: registryv1.NewRegistryServiceClient(gc), Assessment: asm}, log); err != nil {
		t.Fatal(err)
	}
	after := streamSeqs(t, dir, s.addrs.NATS)
	for name, seq := range before {
		if after[name] != seq {
			t.Errorf("second demo load wrote to %s: %d -> %d", name, seq, after[name])
		}
	}

	// A restart keeps everything and does not load the demo again.
	s.stop()
	s2 := startStack(t, dir, log)
	again := streamSeqs(t, dir, s2.addrs.NATS)
	for name, seq := range before {
		if again[name] != seq {
			t.Errorf("restart changed %s: %d -> %d", name, seq, again[name])
		}
	}
	rc2, _ := dialAdmin(t, dir, s2.addrs.Ranking)
	defer rc2.Close()
	board2, err := rankingv1.NewRankingServiceClient(rc2).GetLeaderboard(ctxT(t), &rankingv1.GetLeaderboardRequest{
		Board: &rankingv1.BoardKey{SchemeId: "ombudsman", Year: 2024, PeerGroup: "pemda", Scope: "63"}})
	if err != nil || len(board2.GetEntries()) == 0 || board2.GetEntries()[0].GetInstitutionId() != "pemkab-hss" {
		t.Fatalf("board after restart (Redis is new, rebuilt from NATS) = %v, %v", board2, err)
	}
}

// dialAdmin connects as the dev admin, with the credentials the stack
// created in its data directory, as the CLI does.
func dialAdmin(t *testing.T, dir, addr string) (*grpc.ClientConn, error) {
	t.Helper()
	opts, err := security.DevClient(devpki.At(filepath.Join(dir, "pki")), "admin").DialOptions()
	if err != nil {
		t.Fatal(err)
	}
	return grpcserver.Dial(addr, opts...)
}

// checkPublishedAggregates: with the demo's synthetic fill, the boards
// compute the averages Ombudsman RI published for Kalimantan Selatan in
// 2024 and Pemprov Kalsel's national rank, and say how much of it is
// synthetic.
func checkPublishedAggregates(t *testing.T, rank rankingv1.RankingServiceClient) {
	t.Helper()
	for _, c := range []struct {
		group, mean  string
		count, synth int32
	}{{"pemda", "93.64", 14, 12}, {"polres", "93.89", 13, 12}, {"kantah", "93.31", 13, 12}} {
		st, err := rank.GetStatistics(ctxT(t), &rankingv1.GetStatisticsRequest{
			Board: &rankingv1.BoardKey{SchemeId: "ombudsman", Year: 2024, PeerGroup: c.group, Scope: "63"}})
		if err != nil {
			t.Fatal(err)
		}
		if st.GetMean() != c.mean || st.GetCount() != c.count || st.GetSyntheticCount() != c.synth {
			t.Errorf("%s of 63: mean %s over %d (%d synthetic), want the published %s over %d (%d synthetic)",
				c.group, st.GetMean(), st.GetCount(), st.GetSyntheticCount(), c.mean, c.count, c.synth)
		}
	}
	st, err := rank.GetStanding(ctxT(t), &rankingv1.GetStandingRequest{InstitutionId: "pemprov-kalsel", SchemeId: "ombudsman", Year: 2024})
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, s := range st.GetStandings() {
		if k := s.GetBoard().GetKey(); k.GetPeerGroup() == "pemprov" && k.GetScope() == "00" {
			found = true
			if s.GetRank() != 9 || s.GetOutOf() != 38 {
				t.Errorf("Pemprov Kalsel is %d of %d among provincial governments, published 9 of 38", s.GetRank(), s.GetOutOf())
			}
		}
	}
	if !found || st.GetSynthetic() {
		t.Errorf("Pemprov Kalsel's standing %v: on the national provincial board, not synthetic", st)
	}
	lb, err := rank.GetLeaderboard(ctxT(t), &rankingv1.GetLeaderboardRequest{
		Board: &rankingv1.BoardKey{SchemeId: "ombudsman", Year: 2024, PeerGroup: "pemprov", Scope: "00"}, PageSize: 10})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range lb.GetEntries() {
		if e.GetSynthetic() != (e.GetInstitutionId() != "pemprov-kalsel") {
			t.Errorf("%s rank %d: synthetic %v", e.GetInstitutionId(), e.GetRank(), e.GetSynthetic())
		}
	}
}
