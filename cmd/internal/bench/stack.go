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
	"google.golang.org/protobuf/types/known/emptypb"

	assessmentv1 "github.com/predikat-id/predikat/pkg/gen/predikat/assessment/v1"
	rankingv1 "github.com/predikat-id/predikat/pkg/gen/predikat/ranking/v1"
	registryv1 "github.com/predikat-id/predikat/pkg/gen/predikat/registry/v1"
	"github.com/predikat-id/predikat/pkg/platform/grpcserver"
	"github.com/predikat-id/predikat/pkg/platform/natsx"
	"github.com/predikat-id/predikat/pkg/platform/redisx"
	assessment "github.com/predikat-id/predikat/services/assessment/wiring"
	ranking "github.com/predikat-id/predikat/services/ranking/wiring"
	registry "github.com/predikat-id/predikat/services/registry/wiring"
)

// stack is the harness's own Predikat: an embedded NATS server with
// JetStream on disk, a redis-server child, the three services in process
// and a gRPC echo server on the same bootstrap, every one of them on a free
// port of 127.0.0.1 and with its data in a temporary directory. It never
// touches 4222, 6379 or the services' default ports, so it runs beside
// `make run`.
type stack struct {
	log    *slog.Logger // the harness's progress
	svcLog *slog.Logger // what the services get: warnings and errors only
	dir    string

	ns      *server.Server
	sync    bool       // the NATS server fsyncs every write
	nc      *nats.Conn // shared by the services, as in the dev stack
	benchNC *nats.Conn // the harness's own client connection
	js      jetstream.JetStream

	redisP   *redisx.Process
	rankRDB  *redis.Client // the ranking service's client
	benchRDB *redis.Client // the harness's own client (Redis baselines)

	ctx    context.Context // services run until it ends
	cancel context.CancelFunc
	stops  []func() // each running service's stop, in start order
	wg     sync.WaitGroup
	conns  []*grpc.ClientConn

	mu          sync.Mutex
	errs        []error // services that stopped on their own
	asyncFailed int     // asynchronous publishes JetStream refused
	asyncErr    error

	regAddr, asmAddr, rankAddr, echoAddr string

	registry   registryv1.RegistryServiceClient
	assessment assessmentv1.AssessmentServiceClient
	ranking    rankingv1.RankingServiceClient
	echo       *grpc.ClientConn // the echo baseline
}

func newStack(ctx context.Context, log, svcLog *slog.Logger) (*stack, error) {
	dir, err := os.MkdirTemp("", "predikat-bench-")
	if err != nil {
		return nil, fmt.Errorf("temporary directory: %w", err)
	}
	s := &stack{log: log, svcLog: svcLog, dir: dir}
	s.ctx, s.cancel = context.WithCancel(context.WithoutCancel(ctx))
	return s, nil
}

// startNATS starts the embedded server on the stack's store (a free port;
// sync: fsync every write, as the dev stack does) and connects.
func (s *stack) startNATS(ctx context.Context, sync bool) error {
	var err error
	s.ns, err = natsx.StartEmbedded(natsx.EmbeddedConfig{
		Port: -1, StoreDir: filepath.Join(s.dir, "nats"), SyncAlways: sync, ServerName: "predikat-bench",
	}, s.svcLog)
	if err != nil {
		return fmt.Errorf("embedded NATS: %w", err)
	}
	s.sync = sync
	if s.nc, err = natsx.Connect(ctx, s.ns.ClientURL(), "predikat-bench-services", s.svcLog); err != nil {
		return fmt.Errorf("connect to embedded NATS: %w", err)
	}
	if s.benchNC, err = natsx.Connect(ctx, s.ns.ClientURL(), "predikat-bench", s.svcLog); err != nil {
		return fmt.Errorf("connect to embedded NATS: %w", err)
	}
	s.js, err = jetstream.New(s.benchNC, jetstream.WithPublishAsyncMaxPending(8192),
		jetstream.WithPublishAsyncErrHandler(func(_ jetstream.JetStream, m *nats.Msg, err error) {
			s.mu.Lock()
			defer s.mu.Unlock()
			s.asyncFailed++
			if s.asyncErr == nil {
				s.asyncErr = fmt.Errorf("publish to %s: %w", m.Subject, err)
			}
		}))
	return err
}

// stopNATS closes the connections and shuts the server down, its store
// written out.
func (s *stack) stopNATS() {
	if s.benchNC != nil {
		s.benchNC.Close()
		s.benchNC = nil
	}
	if s.nc != nil {
		s.nc.Close()
		s.nc = nil
	}
	if s.ns != nil {
		s.ns.Shutdown()
		s.ns.WaitForShutdown()
		s.ns = nil
	}
}

// startCore starts the registry, then the assessment service (which asks
// the registry about institutions), as the dev stack does.
func (s *stack) startCore() error {
	var err error
	if s.regAddr, err = s.serve("registry", func(ctx context.Context, up func(string)) error {
		return registry.Run(ctx, registry.Config{Addr: "127.0.0.1:0", NATS: s.nc, Replicas: 1, Logger: s.svcLog, OnServing: up})
	}); err != nil {
		return err
	}
	if s.asmAddr, err = s.serve("assessment", func(ctx context.Context, up func(string)) error {
		return assessment.Run(ctx, assessment.Config{Addr: "127.0.0.1:0", NATS: s.nc, Replicas: 1, RegistryAddr: s.regAddr, Logger: s.svcLog, OnServing: up})
	}); err != nil {
		return err
	}
	s.registry = registryv1.NewRegistryServiceClient(s.dial(s.regAddr))
	s.assessment = assessmentv1.NewAssessmentServiceClient(s.dial(s.asmAddr))
	return nil
}

// startRedisAndEcho starts the redis-server child and the echo server.
func (s *stack) startRedisAndEcho() error {
	var err error
	redisx.LogTo(s.svcLog)
	if s.redisP, err = redisx.StartLocal(s.ctx, filepath.Join(s.dir, "redis"), 0); err != nil {
		return fmt.Errorf("redis for the leaderboards: %w", err)
	}
	// As the dev stack builds the ranking service's client.
	if s.rankRDB, err = redisx.NewClient(s.redisP.Addr(), redisx.Options{ClientName: "predikat-ranking"}); err != nil {
		return err
	}
	if s.benchRDB, err = redisx.NewClient(s.redisP.Addr(), redisx.Options{ClientName: "predikat-bench"}); err != nil {
		return err
	}
	// The baseline: a gRPC server on the same bootstrap (recovery, logging
	// and validation interceptors, health, reflection) serving one method
	// that returns its empty request. Not health Check: the bootstrap
	// leaves health checks out of its request logging, so they skip an
	// interceptor every service call goes through.
	es, err := grpcserver.New(grpcserver.Options{Name: "echo", Logger: s.svcLog})
	if err != nil {
		return err
	}
	es.Register(func(r grpc.ServiceRegistrar) { r.RegisterService(&echoDesc, echoServer{}) })
	if s.echoAddr, err = s.serve("echo", func(ctx context.Context, up func(string)) error {
		lis, err := new(net.ListenConfig).Listen(ctx, "tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		es.SetServing(true)
		up(lis.Addr().String())
		return es.ServeListener(ctx, lis)
	}); err != nil {
		return err
	}
	s.echo = s.dial(s.echoAddr)
	return nil
}

// echoMethod is the echo baseline's one method.
const echoMethod = "/predikat.bench.v1.EchoService/Echo"

type echoServer struct{}

// echoDesc is written by hand, as protoc-gen-go-grpc would generate it for
// `service EchoService { rpc Echo(google.protobuf.Empty) returns
// (google.protobuf.Empty); }`.
var echoDesc = grpc.ServiceDesc{
	ServiceName: "predikat.bench.v1.EchoService",
	HandlerType: (*any)(nil),
	Methods: []grpc.MethodDesc{{
		MethodName: "Echo",
		Handler: func(_ any, ctx context.Context, dec func(any) error, interceptor grpc.UnaryServerInterceptor) (any, error) {
			in := new(emptypb.Empty)
			if err := dec(in); err != nil {
				return nil, err
			}
			echo := func(context.Context, any) (any, error) { return in, nil }
			if interceptor == nil {
				return echo(ctx, in)
			}
			return interceptor(ctx, in, &grpc.UnaryServerInfo{Server: echoServer{}, FullMethod: echoMethod}, echo)
		},
	}},
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

// serve runs a service until it is stopped and returns its address once it
// serves. A service that stops on its own fails the run.
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
	cc, err := grpcserver.Dial(addr)
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

// stopServices closes the clients and stops every service, last started
// first (the registry outlives its watchers).
func (s *stack) stopServices() {
	for _, cc := range s.conns {
		_ = cc.Close()
	}
	s.conns = nil
	for i := len(s.stops) - 1; i >= 0; i-- {
		s.stops[i]()
		if i > 0 {
			// A stopped service's streams to the next one (the registry
			// watch) close asynchronously: let them, so the registry does
			// not report cutting them off.
			time.Sleep(50 * time.Millisecond)
		}
	}
	s.stops = nil
	s.wg.Wait()
}

// close stops everything in reverse order and deletes the data.
func (s *stack) close() {
	s.stopServices()
	s.cancel()
	if s.rankRDB != nil {
		_ = s.rankRDB.Close()
	}
	if s.benchRDB != nil {
		_ = s.benchRDB.Close()
	}
	if s.redisP != nil {
		s.redisP.Stop()
	}
	s.stopNATS()
	_ = os.RemoveAll(s.dir)
}
