package server_test

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/types/known/emptypb"

	rankingv1 "github.com/predikat-id/predikat/pkg/gen/predikat/ranking/v1"
	"github.com/predikat-id/predikat/pkg/platform/grpcserver"
	"github.com/predikat-id/predikat/pkg/platform/testenv/grpctest"
	"github.com/predikat-id/predikat/services/ranking/internal/cache"
	"github.com/predikat-id/predikat/services/ranking/internal/server"
)

// BenchmarkGRPCReads measures cached GetLeaderboard and GetStanding
// answers through the shared server bootstrap (plaintext, without the
// authentication the services add: it costs the echo as much), next to an
// echo on the same server: what a cache hit costs beyond the transport is
// the response (marshalled by the server, unmarshalled by the client) and
// the request's validation.
//
//	go test -run '^$' -bench GRPCReads -benchtime 2s ./internal/server/
func BenchmarkGRPCReads(b *testing.B) {
	_, st := benchStore(b)
	ctx := context.Background()
	buildBoards(b, st, "bench1000", 1000, benchTarget)
	f := cache.NewFreshness(time.Hour, nil)
	f.Confirm(time.Now())
	nm := targetNames()
	gs, err := grpcserver.New(grpcserver.Options{Name: "ranking", Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	gs.Register(func(r grpc.ServiceRegistrar) {
		rankingv1.RegisterRankingServiceServer(r, server.New(st, nm, nil, server.WithCache(f, 32<<20)))
		r.RegisterService(&grpctest.EchoDesc, struct{}{})
	})
	lis, err := new(net.ListenConfig).Listen(ctx, "tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	sctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- gs.ServeListener(sctx, lis) }()
	b.Cleanup(func() {
		stop()
		if err := <-done; err != nil {
			b.Error(err)
		}
	})
	cc, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { cc.Close() })
	rk := rankingv1.NewRankingServiceClient(cc)
	top := &rankingv1.GetLeaderboardRequest{Board: &rankingv1.BoardKey{SchemeId: "bench1000", Year: 2024, PeerGroup: "pemda", Scope: "00"}, PageSize: 10}
	stand := &rankingv1.GetStandingRequest{InstitutionId: benchTarget.id, SchemeId: "bench1000", Year: 2024}
	calls := []struct {
		name string
		call func() error
	}{
		{"echo", func() error { return cc.Invoke(ctx, grpctest.EchoMethod, &emptypb.Empty{}, new(emptypb.Empty)) }},
		{"leaderboard-top10", func() error { _, err := rk.GetLeaderboard(ctx, top); return err }},
		{"standing", func() error { _, err := rk.GetStanding(ctx, stand); return err }},
	}
	for _, par := range []int{1, 50} {
		for _, c := range calls {
			b.Run(fmt.Sprintf("%s/c%d", c.name, par), func(b *testing.B) { runCalls(b, par, c.call) })
		}
	}
}
