// Package stack starts Predikat for a laptop, the benchmark and the tests:
// NATS with JetStream (embedded, or one given by URL), Redis for the
// leaderboards (a redis-server child, or one given by URL) and the three
// services, either in this process (each service's wiring.Run in a
// goroutine) or as OS processes built from ./services/<name>, run with the
// flags production uses. The dev stack (`make run`), the benchmark harness
// and the tests that run more than one service all start Predikat here, so
// they run it the same way.
package stack

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/nats-io/nats.go"
	"golang.org/x/sync/errgroup"
	"google.golang.org/grpc"

	"github.com/predikat-id/predikat/pkg/platform/devpki"
)

// Options says how to run the stack. Zero values pick free ports of
// 127.0.0.1 and a temporary data directory.
type Options struct {
	Mode Mode
	// DataDir keeps NATS's store and Redis's files; empty is a temporary
	// directory that Close removes.
	DataDir string
	// NATSURL is a NATS server to use; empty starts an embedded one on
	// NATSHost:NATSPort (port 0 or -1: a free port) that fsyncs every
	// write when NATSSync is set.
	NATSURL  string
	NATSHost string
	NATSPort int
	NATSSync bool
	// NATSName names the embedded server (default "predikat").
	NATSName string
	// RedisURL is the Redis for the leaderboards; empty starts a
	// redis-server child on a free port with its files in DataDir/redis.
	RedisURL string
	// The services' gRPC addresses; empty (or port 0) picks a free port.
	RegistryAddr, AssessmentAddr, RankingAddr string
	// MetricsAddrs, by service, is where each serves /metrics (none when
	// not named).
	MetricsAddrs map[string]string
	Logger       *slog.Logger
	// ProcessOutput, ProcessLogLevel and ReadyTimeout: see ServicesOptions.
	ProcessOutput   io.Writer
	ProcessLogLevel string
	ReadyTimeout    time.Duration
}

// Addrs are the addresses of a running stack.
type Addrs struct {
	NATS, Redis, Registry, Assessment, Ranking string
}

// Stack is a running Predikat.
type Stack struct {
	Addrs
	// Fresh is true when the data directory held no NATS store before.
	Fresh bool

	nats  *NATS
	pki   *devpki.Files
	redis *Redis
	svcs  *Services
	tmp   string
}

func (o *Options) defaults() {
	def := func(s *string, d string) {
		if *s == "" {
			*s = d
		}
	}
	def(&o.NATSHost, "127.0.0.1")
	def(&o.NATSName, "predikat")
	def(&o.RegistryAddr, "127.0.0.1:0")
	def(&o.AssessmentAddr, "127.0.0.1:0")
	def(&o.RankingAddr, "127.0.0.1:0")
	if o.NATSPort == 0 {
		o.NATSPort = -1
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
}

// PKI is the stack's PKI (DataDir/pki).
func (s *Stack) PKI() *devpki.Files { return s.pki }

// ConnectNATS connects to the stack's NATS as user: a service's name,
// NATSSubscriber or NATSAdmin.
func (s *Stack) ConnectNATS(ctx context.Context, user, name string, log *slog.Logger) (*nats.Conn, error) {
	return s.nats.Connect(ctx, user, name, log)
}

// Dial connects to one of the stack's services as a dev user ("admin" or
// "reader").
func (s *Stack) Dial(addr, user string) (*grpc.ClientConn, error) { return s.svcs.Dial(addr, user) }

// Start starts NATS, Redis and the registry, then the assessment and
// ranking services (which ask the registry about institutions, so they
// start once it answers). On an error everything started is stopped.
func Start(ctx context.Context, o Options) (_ *Stack, err error) {
	o.defaults()
	s := &Stack{}
	defer func() {
		if err != nil {
			s.Close()
		}
	}()
	if err := s.startInfra(ctx, &o); err != nil {
		return nil, err
	}
	s.svcs, err = NewServices(ctx, ServicesOptions{Mode: o.Mode, NATSURL: s.NATS, NATSTLS: s.nats.TLS, RedisAddr: s.Redis, Logger: o.Logger,
		PKI: s.pki, ClientName: o.NATSName, ProcessOutput: o.ProcessOutput, ProcessLogLevel: o.ProcessLogLevel, ReadyTimeout: o.ReadyTimeout,
		MetricsAddrs: o.MetricsAddrs})
	if err != nil {
		return nil, err
	}
	if s.Registry, err = s.svcs.Start(Registry, o.RegistryAddr, ""); err != nil {
		return nil, err
	}
	var g errgroup.Group
	g.Go(func() (err error) {
		s.Assessment, err = s.svcs.Start(Assessment, o.AssessmentAddr, s.Registry)
		return err
	})
	g.Go(func() (err error) {
		s.Ranking, err = s.svcs.Start(Ranking, o.RankingAddr, s.Registry)
		return err
	})
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *Stack) startInfra(ctx context.Context, o *Options) error {
	if o.DataDir == "" {
		dir, err := os.MkdirTemp("", "predikat-stack-")
		if err != nil {
			return fmt.Errorf("temporary data directory: %w", err)
		}
		s.tmp, o.DataDir = dir, dir
	}
	// The PKI lives with the data: a restart keeps its certificates and
	// NATS passwords, and the CLI finds them there with no flags.
	var err error
	if s.pki, err = devpki.Ensure(filepath.Join(o.DataDir, "pki"), o.Logger); err != nil {
		return fmt.Errorf("dev PKI: %w", err)
	}
	storeDir := filepath.Join(o.DataDir, "nats")
	s.Fresh = isEmptyDir(storeDir)
	if err := os.MkdirAll(storeDir, 0o755); err != nil {
		return fmt.Errorf("data directory: %w", err)
	}
	if s.nats, err = StartNATS(NATSOptions{URL: o.NATSURL, Host: o.NATSHost, Port: o.NATSPort, StoreDir: storeDir,
		Sync: o.NATSSync, Name: o.NATSName, PKI: s.pki}, o.Logger); err != nil {
		return err
	}
	if s.redis, err = StartRedis(ctx, o.RedisURL, filepath.Join(o.DataDir, "redis"), o.Logger); err != nil {
		return err
	}
	s.NATS, s.Redis = s.nats.URL, s.redis.Addr
	return nil
}

// Failed is closed once a service stops on its own: one part down should
// take the stack down, so it never runs half-working.
func (s *Stack) Failed() <-chan struct{} { return s.svcs.Failed() }

// Err reports the services that stopped on their own.
func (s *Stack) Err() error { return s.svcs.Err() }

// PIDs are the services' process ids in Processes mode, by name.
func (s *Stack) PIDs() map[string]int { return s.svcs.PIDs() }

// Close stops every part in reverse order: the services drain their calls
// first, Redis and NATS go last; a temporary data directory is removed.
func (s *Stack) Close() {
	if s.svcs != nil {
		s.svcs.Stop()
	}
	s.redis.Stop()
	s.nats.Stop()
	if s.tmp != "" {
		_ = os.RemoveAll(s.tmp)
	}
}

func isEmptyDir(dir string) bool {
	entries, err := os.ReadDir(dir)
	return err != nil || len(entries) == 0
}
