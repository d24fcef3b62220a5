// Package devstack runs the whole of Predikat in one process for a laptop:
// an embedded NATS server with JetStream on disk (sync writes, so nothing
// acknowledged is lost on a crash), a redis-server child for the
// leaderboards, and every service. Production runs the same service packages
// as separate Deployments; tests and the benchmark run this on free ports.
package devstack

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/predikat-id/predikat/cmd/internal/demo"
	assessmentv1 "github.com/predikat-id/predikat/pkg/gen/predikat/assessment/v1"
	registryv1 "github.com/predikat-id/predikat/pkg/gen/predikat/registry/v1"
	"github.com/predikat-id/predikat/pkg/platform/config"
	"github.com/predikat-id/predikat/pkg/platform/grpcserver"
	"github.com/predikat-id/predikat/pkg/platform/natsx"
	"github.com/predikat-id/predikat/pkg/platform/redisx"
	assessment "github.com/predikat-id/predikat/services/assessment/wiring"
	ranking "github.com/predikat-id/predikat/services/ranking/wiring"
	registry "github.com/predikat-id/predikat/services/registry/wiring"
)

// Options says where the stack keeps its data and listens. Zero values mean
// the defaults of pkg/config; port 0 (or "127.0.0.1:0") picks a free port.
type Options struct {
	DataDir        string
	NATSHost       string
	NATSPort       int // -1: a free port
	RegistryAddr   string
	AssessmentAddr string
	RankingAddr    string
	// RedisURL is the Redis for the leaderboards; empty starts a
	// redis-server child on a free port with its files in DataDir/redis.
	RedisURL string
	// Demo loads the Kalimantan Selatan demo data when DataDir starts empty.
	Demo   bool
	Logger *slog.Logger
	// Out receives the human summary (addresses, what to try next); nil
	// prints nothing.
	Out io.Writer
	// OnReady, if set, is called once every service answers (and the demo
	// data, if asked for, is loaded).
	OnReady func(Addrs)
}

// Addrs are the bound addresses of a running stack.
type Addrs struct {
	NATS, Redis, Registry, Assessment, Ranking string
}

func (o *Options) defaults() {
	def := func(s *string, d string) {
		if *s == "" {
			*s = d
		}
	}
	def(&o.NATSHost, "127.0.0.1")
	def(&o.RegistryAddr, config.DefaultRegistry)
	def(&o.AssessmentAddr, config.DefaultAssessment)
	def(&o.RankingAddr, config.DefaultRanking)
	if o.NATSPort == 0 {
		o.NATSPort = config.DefaultNATSPort
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Out == nil {
		o.Out = io.Discard
	}
}

// Run starts the stack and blocks until ctx ends, then stops every part in
// reverse order: services drain their calls first, NATS and Redis go last.
func Run(ctx context.Context, o Options) error {
	o.defaults()
	log := o.Logger
	storeDir := filepath.Join(o.DataDir, "nats")
	fresh := isEmptyDir(storeDir)
	if err := os.MkdirAll(storeDir, 0o755); err != nil {
		return fmt.Errorf("data directory: %w", err)
	}
	ns, err := natsx.StartEmbedded(natsx.EmbeddedConfig{
		Host: o.NATSHost, Port: o.NATSPort, StoreDir: storeDir, SyncAlways: true, ServerName: "predikat-dev",
	}, log)
	if err != nil {
		return fmt.Errorf("embedded NATS on %s:%d (is another `make run` still running?): %w", o.NATSHost, o.NATSPort, err)
	}
	defer func() {
		ns.Shutdown()
		ns.WaitForShutdown()
	}()
	nc, err := natsx.Connect(ctx, ns.ClientURL(), "predikat-dev", log)
	if err != nil {
		return fmt.Errorf("connect to embedded NATS: %w", err)
	}
	defer nc.Close()

	redisx.LogTo(log)
	addrs := Addrs{NATS: ns.ClientURL(), Redis: o.RedisURL}
	if addrs.Redis == "" {
		// Redis only caches leaderboards: ranking rebuilds them from NATS,
		// so a fresh redis-server on a free port each run loses nothing.
		rp, err := redisx.StartLocal(ctx, filepath.Join(o.DataDir, "redis"), 0)
		if err != nil {
			return fmt.Errorf("redis for the leaderboards (or set REDIS_URL): %w", err)
		}
		defer rp.Stop()
		addrs.Redis = rp.Addr()
	}
	rdb, err := redisx.NewClient(addrs.Redis, redisx.Options{ClientName: "predikat-ranking"})
	if err != nil {
		return fmt.Errorf("redis at %s: %w", addrs.Redis, err)
	}
	defer rdb.Close()

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
	)
	// start runs one service; one part down takes the stack down, so it
	// never runs half-working.
	start := func(name string, run func(ctx context.Context, ready chan<- string) error) <-chan string {
		ready := make(chan string, 1)
		wg.Go(func() {
			if err := run(ctx, ready); err != nil && !errors.Is(err, context.Canceled) {
				mu.Lock()
				if firstErr == nil {
					firstErr = fmt.Errorf("%s: %w", name, err)
				}
				mu.Unlock()
				cancel()
			}
		})
		return ready
	}
	regReady := start("registry", func(ctx context.Context, ready chan<- string) error {
		return registry.Run(ctx, registry.Config{Addr: o.RegistryAddr, NATS: nc, Replicas: 1, Logger: log,
			OnServing: func(a string) { ready <- a }})
	})
	// Assessment and ranking ask the registry about institutions: they start
	// once it answers, so their first calls do not fail.
	regUp := make(chan struct{})
	var regAddr string
	go func() {
		select {
		case regAddr = <-regReady:
			close(regUp)
		case <-ctx.Done():
		}
	}()
	waitReg := func(ctx context.Context) bool {
		select {
		case <-regUp:
			return true
		case <-ctx.Done():
			return false
		}
	}
	asmReady := start("assessment", func(ctx context.Context, ready chan<- string) error {
		if !waitReg(ctx) {
			return nil
		}
		return assessment.Run(ctx, assessment.Config{Addr: o.AssessmentAddr, NATS: nc, Replicas: 1, RegistryAddr: regAddr, Logger: log,
			OnServing: func(a string) { ready <- a }})
	})
	rnkReady := start("ranking", func(ctx context.Context, ready chan<- string) error {
		if !waitReg(ctx) {
			return nil
		}
		return ranking.Run(ctx, ranking.Config{Addr: o.RankingAddr, NATS: nc, Redis: rdb, RegistryAddr: regAddr, Logger: log,
			OnServing: func(a string) { ready <- a }})
	})

	timeout := time.After(60 * time.Second)
	for _, w := range []struct {
		ch  <-chan string
		dst *string
	}{{asmReady, &addrs.Assessment}, {rnkReady, &addrs.Ranking}} {
		select {
		case *w.dst = <-w.ch:
		case <-ctx.Done():
			wg.Wait()
			return firstErr
		case <-timeout:
			cancel()
			wg.Wait()
			return errors.New("services not ready after 60s")
		}
	}
	addrs.Registry = regAddr

	if o.Demo && fresh {
		if err := loadDemo(ctx, addrs, log); err != nil {
			cancel()
			wg.Wait()
			return fmt.Errorf("demo data: %w", err)
		}
	}
	printSummary(o.Out, o.DataDir, addrs)
	if o.OnReady != nil {
		o.OnReady(addrs)
	}
	wg.Wait()
	log.Info("predikat stopped")
	return firstErr
}

func loadDemo(ctx context.Context, a Addrs, log *slog.Logger) error {
	rc, err := grpcserver.Dial(a.Registry)
	if err != nil {
		return err
	}
	defer rc.Close()
	ac, err := grpcserver.Dial(a.Assessment)
	if err != nil {
		return err
	}
	defer ac.Close()
	log.Info("empty data directory: loading the Kalimantan Selatan demo data")
	return demo.Load(ctx, demo.Clients{Registry: registryv1.NewRegistryServiceClient(rc), Assessment: assessmentv1.NewAssessmentServiceClient(ac)}, log)
}

func isEmptyDir(dir string) bool {
	entries, err := os.ReadDir(dir)
	return err != nil || len(entries) == 0
}

func printSummary(out io.Writer, dataDir string, a Addrs) {
	fmt.Fprintf(out, "\nPredikat is running (data in %s, Ctrl-C stops it):\n", dataDir)
	fmt.Fprintf(out, "  nats        %-22s embedded, JetStream\n", a.NATS)
	fmt.Fprintf(out, "  redis       %-22s leaderboard cache\n", a.Redis)
	fmt.Fprintf(out, "  registry    %-22s predikat.registry.v1.RegistryService\n", a.Registry)
	fmt.Fprintf(out, "  assessment  %-22s predikat.assessment.v1.AssessmentService\n", a.Assessment)
	fmt.Fprintf(out, "  ranking     %-22s predikat.ranking.v1.RankingService\n", a.Ranking)
	fmt.Fprintf(out, "\nTry, in another terminal:\n")
	fmt.Fprintf(out, "  go run ./cmd/predikat board --scheme ombudsman --year 2024 --group pemda --province 63\n")
	fmt.Fprintf(out, "  go run ./cmd/predikat awards list --institution pemkab-hss\n")
	fmt.Fprintf(out, "  go tool grpcurl -plaintext %s list\n\n", a.Registry)
}
