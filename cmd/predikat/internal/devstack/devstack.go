// Package devstack runs the whole of Predikat in one process for a laptop:
// an embedded NATS server with JetStream on disk (sync writes, so nothing
// acknowledged is lost on a crash), and every service at its default address.
// Production runs the same service packages as separate Deployments.
package devstack

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"time"

	"github.com/predikat-id/predikat/pkg/config"
	"github.com/predikat-id/predikat/pkg/natsx"
	"github.com/predikat-id/predikat/pkg/redisx"
	assessment "github.com/predikat-id/predikat/services/assessment/app"
	ranking "github.com/predikat-id/predikat/services/ranking/app"
	registry "github.com/predikat-id/predikat/services/registry/app"
)

// Options says where the stack keeps its data and listens.
type Options struct {
	DataDir        string
	NATSHost       string
	NATSPort       int
	RegistryAddr   string
	AssessmentAddr string // empty: config.DefaultAssessment
	RankingAddr    string // empty: config.DefaultRanking
	// RedisURL is the Redis for the leaderboards; empty starts a
	// redis-server child on a free port with its files in DataDir/redis.
	RedisURL string
	Logger   *slog.Logger
	// Out receives the human summary (addresses, what to try next).
	Out io.Writer
}

// Run starts the stack and blocks until ctx ends, then stops every part in
// reverse order: services drain their calls first, NATS goes last.
func Run(ctx context.Context, o Options) error {
	log := o.Logger
	storeDir := filepath.Join(o.DataDir, "nats")
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

	if o.AssessmentAddr == "" {
		o.AssessmentAddr = config.DefaultAssessment
	}
	if o.RankingAddr == "" {
		o.RankingAddr = config.DefaultRanking
	}
	redisx.LogTo(log)
	redisAddr := o.RedisURL
	if redisAddr == "" {
		// Redis only caches leaderboards: ranking rebuilds them from NATS,
		// so a fresh redis-server on a free port each run loses nothing.
		rp, err := redisx.StartLocal(ctx, filepath.Join(o.DataDir, "redis"), 0)
		if err != nil {
			return fmt.Errorf("redis for the leaderboards (or set REDIS_URL): %w", err)
		}
		defer rp.Stop()
		redisAddr = rp.Addr()
	}
	rdb, err := redisx.NewClient(redisAddr, redisx.Options{ClientName: "predikat-ranking"})
	if err != nil {
		return fmt.Errorf("redis at %s: %w", redisAddr, err)
	}
	defer rdb.Close()

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
		ready    = make(chan string, 3)
	)
	start := func(name string, run func(context.Context) error) {
		wg.Go(func() {
			if err := run(ctx); err != nil && !errors.Is(err, context.Canceled) {
				mu.Lock()
				if firstErr == nil {
					firstErr = fmt.Errorf("%s: %w", name, err)
				}
				mu.Unlock()
				cancel() // one part down takes the stack down: no half-working system
			}
		})
	}
	regUp := make(chan struct{})
	start("registry", func(ctx context.Context) error {
		return registry.Run(ctx, registry.Config{Addr: o.RegistryAddr, NATS: nc, Replicas: 1, Logger: log,
			OnServing: func(a string) {
				ready <- "registry    " + a + "   predikat.registry.v1.RegistryService"
				close(regUp)
			}})
	})

	// The assessment service asks the registry about institutions: start it
	// once the registry answers, so its first calls do not fail.
	start("assessment", func(ctx context.Context) error {
		select {
		case <-regUp:
		case <-ctx.Done():
			return nil
		}
		return assessment.Run(ctx, assessment.Config{Addr: o.AssessmentAddr, NATS: nc, Replicas: 1, RegistryAddr: o.RegistryAddr, Logger: log,
			OnServing: func(a string) { ready <- "assessment  " + a + "   predikat.assessment.v1.AssessmentService" }})
	})

	start("ranking", func(ctx context.Context) error {
		select {
		case <-regUp:
		case <-ctx.Done():
			return nil
		}
		return ranking.Run(ctx, ranking.Config{Addr: o.RankingAddr, NATS: nc, Redis: rdb, RegistryAddr: o.RegistryAddr, Logger: log,
			OnServing: func(a string) { ready <- "ranking     " + a + "   predikat.ranking.v1.RankingService" }})
	})

	const services = 3
	var lines []string
	timeout := time.After(60 * time.Second)
	for len(lines) < services {
		select {
		case l := <-ready:
			lines = append(lines, l)
		case <-ctx.Done():
			wg.Wait()
			return firstErr
		case <-timeout:
			cancel()
			wg.Wait()
			return fmt.Errorf("services not ready after 60s")
		}
	}
	fmt.Fprintf(o.Out, "\nPredikat is running (data in %s, Ctrl-C stops it):\n", o.DataDir)
	fmt.Fprintf(o.Out, "  nats        %s   embedded, JetStream\n", ns.ClientURL())
	fmt.Fprintf(o.Out, "  redis       %s   leaderboard cache\n", redisAddr)
	sort.Strings(lines)
	for _, l := range lines {
		fmt.Fprintf(o.Out, "  %s\n", l)
	}
	fmt.Fprintf(o.Out, "\nTry:\n")
	fmt.Fprintf(o.Out, "  go tool grpcurl -plaintext %s list\n", o.RegistryAddr)
	fmt.Fprintf(o.Out, "  go tool grpcurl -plaintext -d '{\"level\":\"REGION_LEVEL_PROVINCE\"}' %s predikat.registry.v1.RegistryService/ListRegions\n", o.RegistryAddr)
	fmt.Fprintf(o.Out, "  go tool grpcurl -plaintext -d '{\"region_code\":\"63\"}' %s predikat.registry.v1.RegistryService/ListInstitutions\n\n", o.RegistryAddr)

	wg.Wait()
	log.Info("predikat stopped")
	return firstErr
}
