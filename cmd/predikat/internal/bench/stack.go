package bench

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/redis/go-redis/v9"
	"google.golang.org/grpc"

	assessmentv1 "github.com/predikat-id/predikat/pkg/gen/predikat/assessment/v1"
	rankingv1 "github.com/predikat-id/predikat/pkg/gen/predikat/ranking/v1"
	registryv1 "github.com/predikat-id/predikat/pkg/gen/predikat/registry/v1"
	"github.com/predikat-id/predikat/pkg/grpcserver"
	"github.com/predikat-id/predikat/pkg/natsx"
	"github.com/predikat-id/predikat/pkg/redisx"
	assessment "github.com/predikat-id/predikat/services/assessment/app"
	ranking "github.com/predikat-id/predikat/services/ranking/app"
	registry "github.com/predikat-id/predikat/services/registry/app"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

// stack is the harness's own Predikat: an embedded NATS server with
// JetStream on disk and sync writes (as the dev stack), a redis-server
// child, the three services in process and a gRPC echo server on the same
// bootstrap, every one of them on a free port of 127.0.0.1 and with its
// data in a temporary directory. It never touches 4222, 6379 or the
// services' default ports, so it runs beside `make run`.
type stack struct {
	log    *slog.Logger // the harness's progress
	svcLog *slog.Logger // what the services get: warnings and errors only
	dir    string

	ns       *server.Server
	nc       *nats.Conn // shared by the services, as in the dev stack
	benchNC  *nats.Conn // the harness's own client connection
	js       jetstream.JetStream
	redisP   *redisx.Process
	rankRDB  *redis.Client // the ranking service's client
	benchRDB *redis.Client // the harness's own client (Redis baselines)

	ctx    context.Context // services run until it ends
	cancel context.CancelFunc
	stops  []func() // each service's stop, in start order
	wg     sync.WaitGroup
	mu     sync.Mutex
	errs   []error

	asyncFailed int // asynchronous publishes JetStream refused
	asyncErr    error

	regAddr, asmAddr, rankAddr, echoAddr string
	conns                                []*grpc.ClientConn

	registry   registryv1.RegistryServiceClient
	assessment assessmentv1.AssessmentServiceClient
	ranking    rankingv1.RankingServiceClient
	echo       healthpb.HealthClient
}

func startStack(ctx context.Context, log, svcLog *slog.Logger) (_ *stack, err error) {
	dir, err := os.MkdirTemp("", "predikat-bench-")
	if err != nil {
		return nil, fmt.Errorf("temporary directory: %w", err)
	}
	s := &stack{log: log, svcLog: svcLog, dir: dir}
	s.ctx, s.cancel = context.WithCancel(context.WithoutCancel(ctx))
	defer func() {
		if err != nil {
			s.close()
		}
	}()

	s.ns, err = natsx.StartEmbedded(natsx.EmbeddedConfig{
		Port: -1, StoreDir: filepath.Join(dir, "nats"), SyncAlways: true, ServerName: "predikat-bench",
	}, svcLog)
	if err != nil {
		return nil, fmt.Errorf("embedded NATS: %w", err)
	}
	if s.nc, err = natsx.Connect(ctx, s.ns.ClientURL(), "predikat-bench-services", svcLog); err != nil {
		return nil, fmt.Errorf("connect to embedded NATS: %w", err)
	}
	if s.benchNC, err = natsx.Connect(ctx, s.ns.ClientURL(), "predikat-bench", svcLog); err != nil {
		return nil, fmt.Errorf("connect to embedded NATS: %w", err)
	}
	if s.js, err = jetstream.New(s.benchNC, jetstream.WithPublishAsyncMaxPending(8192),
		jetstream.WithPublishAsyncErrHandler(func(_ jetstream.JetStream, m *nats.Msg, err error) {
			s.mu.Lock()
			defer s.mu.Unlock()
			s.asyncFailed++
			if s.asyncErr == nil {
				s.asyncErr = fmt.Errorf("publish to %s: %w", m.Subject, err)
			}
		})); err != nil {
		return nil, err
	}

	redisx.LogTo(svcLog)
	if s.redisP, err = redisx.StartLocal(s.ctx, filepath.Join(dir, "redis"), 0); err != nil {
		return nil, fmt.Errorf("redis for the leaderboards: %w", err)
	}
	// As the dev stack builds the ranking service's client.
	if s.rankRDB, err = redisx.NewClient(s.redisP.Addr(), redisx.Options{ClientName: "predikat-ranking"}); err != nil {
		return nil, err
	}
	if s.benchRDB, err = redisx.NewClient(s.redisP.Addr(), redisx.Options{ClientName: "predikat-bench"}); err != nil {
		return nil, err
	}

	// The baseline: a gRPC server on the same bootstrap (recovery, logging
	// and validation interceptors, health, reflection) serving nothing but
	// health, whose Check is the echo.
	es, err := grpcserver.New(grpcserver.Options{Name: "echo", Logger: svcLog})
	if err != nil {
		return nil, err
	}
	if s.echoAddr, err = s.serve("echo", func(ctx context.Context, up func(string)) error {
		lis, err := new(net.ListenConfig).Listen(ctx, "tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		es.SetServing(true)
		up(lis.Addr().String())
		return es.ServeListener(ctx, lis)
	}); err != nil {
		return nil, err
	}

	if s.regAddr, err = s.serve("registry", func(ctx context.Context, up func(string)) error {
		return registry.Run(ctx, registry.Config{Addr: "127.0.0.1:0", NATS: s.nc, Replicas: 1, Logger: svcLog, OnServing: up})
	}); err != nil {
		return nil, err
	}
	if s.asmAddr, err = s.serve("assessment", func(ctx context.Context, up func(string)) error {
		return assessment.Run(ctx, assessment.Config{Addr: "127.0.0.1:0", NATS: s.nc, Replicas: 1, RegistryAddr: s.regAddr, Logger: svcLog, OnServing: up})
	}); err != nil {
		return nil, err
	}
	s.registry = registryv1.NewRegistryServiceClient(s.dial(s.regAddr))
	s.assessment = assessmentv1.NewAssessmentServiceClient(s.dial(s.asmAddr))
	s.echo = healthpb.NewHealthClient(s.dial(s.echoAddr))
	return s, nil
}

// startRanking starts the ranking service and waits until it serves: its
// boards are in Redis, rebuilt from everything already in the stream.
func (s *stack) startRanking() error {
	addr, err := s.serve("ranking", func(ctx context.Context, up func(string)) error {
		return ranking.Run(ctx, ranking.Config{Addr: "127.0.0.1:0", NATS: s.nc, Redis: s.rankRDB, RegistryAddr: s.regAddr, Logger: s.svcLog, OnServing: up})
	})
	if err != nil {
		return err
	}
	s.rankAddr = addr
	s.ranking = rankingv1.NewRankingServiceClient(s.dial(addr))
	return nil
}

// serve runs a service until the stack closes and returns its address once
// it serves. A service that stops early fails the run.
func (s *stack) serve(name string, run func(ctx context.Context, up func(addr string)) error) (string, error) {
	ctx, cancel := context.WithCancel(s.ctx)
	addrc := make(chan string, 1)
	done := make(chan error, 1)
	stopped := make(chan struct{})
	s.stops = append(s.stops, func() {
		cancel()
		<-stopped
	})
	s.wg.Go(func() {
		defer close(stopped)
		err := run(ctx, func(a string) { addrc <- a })
		if err != nil && !errors.Is(err, context.Canceled) && ctx.Err() == nil {
			s.mu.Lock()
			s.errs = append(s.errs, fmt.Errorf("%s: %w", name, err))
			s.mu.Unlock()
		}
		done <- err
	})
	select {
	case a := <-addrc:
		s.log.Debug("service up", "service", name, "addr", a)
		return a, nil
	case err := <-done:
		if err == nil {
			err = errors.New("stopped before serving")
		}
		return "", fmt.Errorf("%s: %w", name, err)
	case <-time.After(10 * time.Minute):
		return "", fmt.Errorf("%s: not serving after 10 minutes", name)
	}
}

// dial opens a client connection the way a ministry system would: one
// connection per service, shared by every concurrent caller.
func (s *stack) dial(addr string) *grpc.ClientConn {
	cc, err := grpcserver.Dial(addr, grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(64<<20)))
	if err != nil {
		panic(err) // grpc.NewClient fails only on a malformed target
	}
	s.conns = append(s.conns, cc)
	return cc
}

// failed reports a service that stopped on its own.
func (s *stack) failed() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return errors.Join(s.errs...)
}

// asyncFailures reports asynchronous publishes that failed.
func (s *stack) asyncFailures() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.asyncFailed == 0 {
		return nil
	}
	return fmt.Errorf("%d asynchronous publishes failed, the first: %w", s.asyncFailed, s.asyncErr)
}

// close stops everything in reverse order and deletes the data.
func (s *stack) close() {
	for _, cc := range s.conns {
		_ = cc.Close()
	}
	// Last started, first stopped: the registry outlives its watchers.
	for i := len(s.stops) - 1; i >= 0; i-- {
		s.stops[i]()
	}
	if s.cancel != nil {
		s.cancel()
	}
	s.wg.Wait()
	if s.rankRDB != nil {
		_ = s.rankRDB.Close()
	}
	if s.benchRDB != nil {
		_ = s.benchRDB.Close()
	}
	if s.redisP != nil {
		s.redisP.Stop()
	}
	if s.benchNC != nil {
		s.benchNC.Close()
	}
	if s.nc != nil {
		s.nc.Close()
	}
	if s.ns != nil {
		s.ns.Shutdown()
		s.ns.WaitForShutdown()
	}
	if s.dir != "" {
		_ = os.RemoveAll(s.dir)
	}
}
