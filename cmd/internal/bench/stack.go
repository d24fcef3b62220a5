package bench

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/redis/go-redis/v9"
	"golang.org/x/sync/errgroup"
	"google.golang.org/grpc"

	harness "github.com/predikat-id/predikat/cmd/internal/stack"
	assessmentv1 "github.com/predikat-id/predikat/pkg/gen/predikat/assessment/v1"
	rankingv1 "github.com/predikat-id/predikat/pkg/gen/predikat/ranking/v1"
	registryv1 "github.com/predikat-id/predikat/pkg/gen/predikat/registry/v1"
	"github.com/predikat-id/predikat/pkg/platform/devpki"
	"github.com/predikat-id/predikat/pkg/platform/redisx"
	"github.com/predikat-id/predikat/pkg/platform/security"
)

// stack is the harness's own Predikat, started by cmd/internal/stack: an
// embedded NATS server with JetStream on disk, a redis-server child, the
// three services (in process, or as OS processes with --processes) and a
// gRPC echo server on the same bootstrap, every one of them on a free port
// of 127.0.0.1 and with its data in a temporary directory. It never
// touches 4222, 6379 or the services' default ports, so it runs beside
// `make run`.
type stack struct {
	log    *slog.Logger // the harness's progress
	svcLog *slog.Logger // what the services get: warnings and errors only
	dir    string
	mode   harness.Mode
	pki    *devpki.Files // certificates of the services, the echo and the callers
	built  bool          // Processes: the binaries are in dir/bin

	nats *harness.NATS
	// natsProc is NATS's own process (--nats-process); nil: NATS is
	// embedded in the harness's process.
	natsProc    *child
	natsProcess bool
	sync        bool       // the NATS server fsyncs every write
	benchNC     *nats.Conn // the harness's own client connection
	js          jetstream.JetStream

	redis    *harness.Redis
	benchRDB *redis.Client // the harness's own client (Redis baselines)

	ctx    context.Context // the echo server runs until it ends
	cancel context.CancelFunc
	echoG  errgroup.Group // in process: the echo servers
	// echoProc is the echo servers' own process (Processes mode).
	echoProc *child
	svcs     *harness.Services // the running services; nil when stopped
	conns    []*grpc.ClientConn

	mu          sync.Mutex
	errs        []error // services that stopped on their own
	asyncFailed int     // asynchronous publishes JetStream refused
	asyncErr    error

	regAddr, echoAddr string

	gcTraces     map[string]*gcTrace // Processes: each service's garbage collections
	metricsAddrs map[string]string   // Processes: each service's /metrics

	registry   registryv1.RegistryServiceClient
	assessment assessmentv1.AssessmentServiceClient
	ranking    rankingv1.RankingServiceClient
	echo       *grpc.ClientConn // the echo baseline: the services' server chain
	bareEcho   *grpc.ClientConn // the echo on a gRPC server without the chain
}

// gcTraceOf is the writer of a service process's output: its garbage
// collector's trace is kept, the rest goes to the log.
func (s *stack) gcTraceOf(name string) io.Writer {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.gcTraces == nil {
		s.gcTraces = map[string]*gcTrace{}
	}
	t := s.gcTraces[name]
	if t == nil {
		t = &gcTrace{next: logWriter{s.svcLog}}
		s.gcTraces[name] = t
	}
	return t
}

// freeAddr is a free port of 127.0.0.1.
func freeAddr() (string, error) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("free port: %w", err)
	}
	defer lis.Close()
	return lis.Addr().String(), nil
}

func newStack(ctx context.Context, log, svcLog *slog.Logger, mode harness.Mode) (*stack, error) {
	dir, err := os.MkdirTemp("", "predikat-bench-")
	if err != nil {
		return nil, fmt.Errorf("temporary directory: %w", err)
	}
	s := &stack{log: log, svcLog: svcLog, dir: dir, mode: mode}
	if s.pki, err = devpki.Ensure(filepath.Join(dir, "pki"), svcLog); err != nil {
		_ = os.RemoveAll(dir)
		return nil, fmt.Errorf("dev PKI: %w", err)
	}
	s.ctx, s.cancel = context.WithCancel(context.WithoutCancel(ctx))
	return s, nil
}

// startNATS starts the embedded server on the stack's store (a free port;
// sync: fsync every write, as the dev stack does) and connects.
func (s *stack) startNATS(ctx context.Context, sync bool) error {
	var err error
	store := filepath.Join(s.dir, "nats")
	if s.natsProcess {
		s.natsProc, s.nats, err = startNATSProcess(ctx, s.pki, natsSpec{PKI: s.pki.Dir, Store: store, Sync: sync}, s.svcLog, s.fail)
	} else {
		s.nats, err = harness.StartNATS(harness.NATSOptions{PKI: s.pki, Port: -1, StoreDir: store, Sync: sync, Name: "predikat-bench"}, s.svcLog)
	}
	if err != nil {
		return err
	}
	s.sync = sync
	if s.benchNC, err = s.nats.Connect(ctx, harness.NATSAdmin, "predikat-bench", s.svcLog); err != nil {
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

// stopNATS closes the connection and shuts the server down, its store
// written out.
func (s *stack) stopNATS() {
	if s.benchNC != nil {
		s.benchNC.Close()
		s.benchNC = nil
	}
	if s.natsProc != nil {
		s.natsProc.stop(natsStopGrace)
		s.natsProc = nil
	}
	s.nats.Stop()
	s.nats = nil
}

// services starts the services' harness on the current NATS (and Redis,
// once started), building the binaries once in Processes mode.
func (s *stack) services(ctx context.Context) (*harness.Services, error) {
	if s.svcs != nil {
		return s.svcs, nil
	}
	binDir := filepath.Join(s.dir, "bin")
	if s.mode == harness.Processes && !s.built {
		s.log.Info("bench: building the services", "dir", binDir)
		if err := harness.Build(ctx, binDir, harness.All...); err != nil {
			return nil, err
		}
		s.built = true
	}
	o := harness.ServicesOptions{Mode: s.mode, NATSURL: s.nats.URL, NATSTLS: s.nats.TLS, Logger: s.svcLog, ClientName: "predikat-bench-services",
		BinDir: binDir, ProcessOutput: logWriter{s.svcLog}, ProcessLogLevel: "warn", ReadyTimeout: 10 * time.Minute, PKI: s.pki}
	if s.mode == harness.Processes {
		// Each process reports its heap: its garbage collector's trace
		// (the live heap of every collection) and its /metrics.
		o.ProcessEnv = []string{"GODEBUG=gctrace=1"}
		o.ProcessOutputFor = s.gcTraceOf
		o.MetricsAddrs = map[string]string{}
		for _, name := range harness.All {
			addr, err := freeAddr()
			if err != nil {
				return nil, err
			}
			o.MetricsAddrs[name] = addr
		}
		s.metricsAddrs = o.MetricsAddrs
	}
	if s.redis != nil {
		o.RedisAddr = s.redis.Addr
	}
	var err error
	s.svcs, err = harness.NewServices(ctx, o)
	return s.svcs, err
}

// startCore starts the registry, then the assessment service (which asks
// the registry about institutions), as the dev stack does.
func (s *stack) startCore(ctx context.Context) error {
	svcs, err := s.services(ctx)
	if err != nil {
		return err
	}
	if s.regAddr, err = svcs.Start(harness.Registry, "127.0.0.1:0", ""); err != nil {
		return err
	}
	asmAddr, err := svcs.Start(harness.Assessment, "127.0.0.1:0", s.regAddr)
	if err != nil {
		return err
	}
	s.registry = registryv1.NewRegistryServiceClient(s.dial(s.regAddr))
	s.assessment = assessmentv1.NewAssessmentServiceClient(s.dial(asmAddr))
	return nil
}

// startAll starts the registry, then the assessment service and the
// ranking service together: neither waits for the other (the assessment
// service loads its view of every record, the ranking service rebuilds
// every board, each from the stream), so a restart on a million records
// takes the longer of the two rather than their sum. It returns how long
// each of the two took to serve.
func (s *stack) startAll(ctx context.Context) (assessment, ranking time.Duration, err error) {
	svcs, err := s.services(ctx)
	if err != nil {
		return 0, 0, err
	}
	if s.regAddr, err = svcs.Start(harness.Registry, "127.0.0.1:0", ""); err != nil {
		return 0, 0, err
	}
	var asmAddr, rankAddr string
	var g errgroup.Group
	t := time.Now()
	g.Go(func() error {
		var err error
		asmAddr, err = svcs.Start(harness.Assessment, "127.0.0.1:0", s.regAddr)
		assessment = time.Since(t)
		return err
	})
	g.Go(func() error {
		var err error
		rankAddr, err = svcs.Start(harness.Ranking, "127.0.0.1:0", s.regAddr)
		ranking = time.Since(t)
		return err
	})
	if err := g.Wait(); err != nil {
		return assessment, ranking, err
	}
	s.registry = registryv1.NewRegistryServiceClient(s.dial(s.regAddr))
	s.assessment = assessmentv1.NewAssessmentServiceClient(s.dial(asmAddr))
	s.ranking = rankingv1.NewRankingServiceClient(s.dial(rankAddr))
	return assessment, ranking, nil
}

// startRedisAndEcho starts the redis-server child and the echo server.
func (s *stack) startRedisAndEcho() error {
	var err error
	if s.redis, err = harness.StartRedis(s.ctx, "", filepath.Join(s.dir, "redis"), s.svcLog); err != nil {
		return err
	}
	if s.benchRDB, err = redisx.NewClient(s.redis.Addr, redisx.Options{ClientName: "predikat-bench"}); err != nil {
		return err
	}
	var chain, bare string
	if s.mode == harness.Processes {
		// The services each run in a process of their own, so a call to
		// one crosses into another, mostly idle, process (a scheduler
		// wake-up on each side) that an echo inside the harness never
		// pays: the echoes run in a process of their own too.
		s.echoProc, err = startEchoProcess(s.ctx, s.pki, s.svcLog, s.fail)
		if err != nil {
			return err
		}
		chain, bare = s.echoProc.fields[0], s.echoProc.fields[1]
	} else if chain, bare, err = serveEchoes(s.ctx, s.pki, s.svcLog, &s.echoG, s.fail); err != nil {
		return err
	}
	s.echoAddr = chain
	s.echo = s.dial(chain)
	s.bareEcho = s.dial(bare)
	return nil
}

// natsMode says where the NATS server runs: embedded in this process, or
// in one of its own.
func (s *stack) natsMode() string {
	if s.natsProcess {
		return "process"
	}
	return "embedded"
}

// echoMode says where the echo baselines run: in this process, or in one
// of their own.
func (s *stack) echoMode() string {
	if s.echoProc != nil {
		return "process"
	}
	return "in-process"
}

// startRanking starts the ranking service and waits until it serves: its
// boards are in Redis, rebuilt from everything already in the stream.
func (s *stack) startRanking(ctx context.Context) error {
	svcs, err := s.services(ctx)
	if err != nil {
		return err
	}
	addr, err := svcs.Start(harness.Ranking, "127.0.0.1:0", s.regAddr)
	if err != nil {
		return err
	}
	s.ranking = rankingv1.NewRankingServiceClient(s.dial(addr))
	return nil
}

// dial opens a client connection the way a ministry system would: one
// connection per service, shared by every concurrent caller.
func (s *stack) dial(addr string) *grpc.ClientConn {
	cc, err := security.DialWith(security.DevClient(s.pki, "admin"), addr)
	if err != nil {
		// The PKI was written a moment ago by this process, and
		// grpc.NewClient fails only on a malformed target.
		panic(err)
	}
	s.conns = append(s.conns, cc)
	return cc
}

// failed reports a service that stopped on its own.
// fail records a child that stopped on its own.
func (s *stack) fail(err error) {
	s.mu.Lock()
	s.errs = append(s.errs, err)
	s.mu.Unlock()
}

func (s *stack) failed() error {
	s.mu.Lock()
	errs := append([]error(nil), s.errs...)
	s.mu.Unlock()
	if s.svcs != nil {
		errs = append(errs, s.svcs.Err())
	}
	return errors.Join(errs...)
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
		if cc != s.echo && cc != s.bareEcho {
			_ = cc.Close()
		}
	}
	s.conns = nil
	for _, cc := range []*grpc.ClientConn{s.echo, s.bareEcho} {
		if cc != nil {
			s.conns = append(s.conns, cc)
		}
	}
	if s.svcs == nil {
		return
	}
	s.svcs.Stop()
	if err := s.svcs.Err(); err != nil {
		s.mu.Lock()
		s.errs = append(s.errs, err)
		s.mu.Unlock()
	}
	s.svcs = nil
}

// dropServices stops every service and forgets how they ended: a start
// that failed is tried again on fresh services, and its failure is not the
// run's.
func (s *stack) dropServices() {
	s.mu.Lock()
	n := len(s.errs)
	s.mu.Unlock()
	s.stopServices()
	s.mu.Lock()
	s.errs = s.errs[:n]
	s.mu.Unlock()
}

// memory is the resident memory of each service process, in MiB (Processes
// mode; in process the services share the harness's heap).
func (s *stack) memory() map[string]int {
	if s.svcs == nil {
		return nil
	}
	out := map[string]int{}
	for name, pid := range s.svcs.PIDs() {
		if kb := residentKB(pid); kb > 0 {
			out[name] = kb >> 10
		}
	}
	return out
}

// residentKB reads VmRSS of a process from /proc (0 where there is none).
func residentKB(pid int) int {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0
	}
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
			return kb
		}
	}
	return 0
}

// close stops everything in reverse order and deletes the data.
func (s *stack) close() {
	s.stopServices()
	for _, cc := range s.conns {
		_ = cc.Close()
	}
	s.conns = nil
	s.cancel()
	_ = s.echoG.Wait()
	if s.echoProc != nil {
		s.echoProc.stop(5 * time.Second)
	}
	if s.benchRDB != nil {
		_ = s.benchRDB.Close()
	}
	s.redis.Stop()
	if s.nats != nil {
		s.stopNATS()
	}
	_ = os.RemoveAll(s.dir)
}

// logWriter passes the service processes' output to the harness's log,
// one record per line.
type logWriter struct{ log *slog.Logger }

func (w logWriter) Write(p []byte) (int, error) {
	sc := bufio.NewScanner(bytes.NewReader(p))
	for sc.Scan() {
		if line := strings.TrimSpace(sc.Text()); line != "" {
			w.log.Warn(line)
		}
	}
	return len(p), nil
}
