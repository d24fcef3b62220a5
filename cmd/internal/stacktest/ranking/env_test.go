package ranking_test

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/protobuf/encoding/prototext"
	"google.golang.org/protobuf/proto"

	"github.com/predikat-id/predikat/cmd/internal/stack"
	"github.com/predikat-id/predikat/cmd/internal/stacktest"
	rankingv1 "github.com/predikat-id/predikat/pkg/gen/predikat/ranking/v1"
	"github.com/predikat-id/predikat/pkg/platform/redisx"
	rt "github.com/predikat-id/predikat/pkg/platform/testenv/eventtest"
	"github.com/predikat-id/predikat/pkg/platform/testenv/grpctest"
	"github.com/predikat-id/predikat/pkg/platform/testenv/natstest"
	"github.com/predikat-id/predikat/pkg/platform/testenv/redistest"
)

// env is a real NATS, a real redis-server, a real registry and the events
// publisher; the ranking service is started on it with start, in process
// by cmd/internal/stack.
type env struct {
	t     *testing.T
	nats  *natstest.Server
	redis *redistest.Server
	reg   *stacktest.Registry
	pub   *rt.Publisher
	svcs  *stack.Services

	cc     *grpc.ClientConn
	client rankingv1.RankingServiceClient
	health healthpb.HealthClient
	// onServing is the hook of the latest start, run as the service
	// begins to serve.
	onServing func()
}

func init() {
	// go-redis logs every failed dial; the tests kill Redis on purpose.
	redisx.LogTo(slog.New(slog.DiscardHandler))
}

func newEnv(t *testing.T) *env {
	t.Helper()
	ns := natstest.Start(t)
	e := &env{t: t, nats: ns, redis: redistest.Start(t), reg: stacktest.StartRegistry(t, ns)}
	e.pub = rt.NewPublisher(t, ns.JetStream(t))
	e.svcs = stacktest.Services(t, ns, stack.ServicesOptions{RedisAddr: e.redis.Addr(), ReadyTimeout: 30 * time.Second,
		OnServing: func(string, string) {
			if e.onServing != nil {
				e.onServing()
			}
		}})
	return e
}

// start runs the ranking service and waits until it serves. onServing, if
// set, runs inside OnServing (before anyone can query).
func (e *env) start(onServing func()) {
	t := e.t
	t.Helper()
	e.onServing = onServing
	a, err := e.svcs.Start(stack.Ranking, "127.0.0.1:0", e.reg.Addr)
	if err != nil {
		t.Fatalf("ranking did not start: %v", err)
	}
	cc := stacktest.Dial(t, a, "admin")
	e.cc = cc
	e.client = rankingv1.NewRankingServiceClient(cc)
	e.health = healthpb.NewHealthClient(cc)
}

// stop stops the ranking service and waits until it is gone.
func (e *env) stop() {
	_ = e.cc.Close()
	if err := e.svcs.StopService(stack.Ranking); err != nil {
		e.t.Errorf("ranking stopped with error: %v", err)
	}
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// eventually retries f until it returns nil, for up to 15s.
func eventually(t *testing.T, what string, f func() error) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	var err error
	for time.Now().Before(deadline) {
		if err = f(); err == nil {
			return
		}
		time.Sleep(25 * time.Millisecond)
	}
	t.Fatalf("%s: not reached in 15s: %v", what, err)
}

var wantCode = grpctest.WantCode

func key(year int32, group, scope string) *rankingv1.BoardKey {
	return &rankingv1.BoardKey{SchemeId: "ombudsman", Year: year, PeerGroup: group, Scope: scope}
}

// board returns the whole board, paging with page size n.
func (e *env) board(k *rankingv1.BoardKey, n int32) ([]*rankingv1.LeaderboardEntry, *rankingv1.GetLeaderboardResponse, error) {
	var all []*rankingv1.LeaderboardEntry
	var first *rankingv1.GetLeaderboardResponse
	tok := ""
	for range 10000 {
		resp, err := e.client.GetLeaderboard(ctxT(e.t), &rankingv1.GetLeaderboardRequest{Board: k, PageSize: n, PageToken: tok})
		if err != nil {
			return nil, nil, err
		}
		if first == nil {
			first = resp
		}
		all = append(all, resp.GetEntries()...)
		if tok = resp.GetNextPageToken(); tok == "" {
			return all, first, nil
		}
	}
	return nil, nil, fmt.Errorf("paging did not end")
}

// ranks renders a board as "rank id score" lines.
func ranks(es []*rankingv1.LeaderboardEntry) string {
	var b strings.Builder
	for _, x := range es {
		fmt.Fprintf(&b, "%d %s %s\n", x.GetRank(), x.GetInstitutionId(), x.GetScore())
	}
	return b.String()
}

// waitCount waits until a board holds n entries.
func (e *env) waitCount(k *rankingv1.BoardKey, n int32) {
	e.t.Helper()
	eventually(e.t, fmt.Sprintf("board %v has %d entries", k, n), func() error {
		resp, err := e.client.GetLeaderboard(ctxT(e.t), &rankingv1.GetLeaderboardRequest{Board: k, PageSize: 1})
		if err != nil {
			return err
		}
		if resp.GetTotalEntries() != n {
			return fmt.Errorf("%d entries", resp.GetTotalEntries())
		}
		return nil
	})
}

// snapshot renders everything the service answers about a round, for
// comparing before and after a rebuild.
func (e *env) snapshot(year int32) string {
	e.t.Helper()
	var b strings.Builder
	lb, err := e.client.ListBoards(ctxT(e.t), &rankingv1.ListBoardsRequest{SchemeId: "ombudsman", Year: year})
	if err != nil {
		e.t.Fatalf("ListBoards: %v", err)
	}
	for _, bd := range lb.GetBoards() {
		entries, first, err := e.board(bd.GetKey(), 2)
		if err != nil {
			e.t.Fatalf("board %v: %v", bd.GetKey(), err)
		}
		st, err := e.client.GetStatistics(ctxT(e.t), &rankingv1.GetStatisticsRequest{Board: bd.GetKey()})
		if err != nil {
			e.t.Fatalf("statistics %v: %v", bd.GetKey(), err)
		}
		b.WriteString(text(bd) + text(first.GetBoard()) + ranks(entries) + text(st))
		for _, x := range entries {
			b.WriteString(text(x))
		}
	}
	return b.String()
}

func text(m proto.Message) string { return prototext.Format(m) + "\n" }
