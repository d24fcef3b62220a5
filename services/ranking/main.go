// Command ranking serves predikat.ranking.v1.RankingService: leaderboards
// per scheme, year, peer group and scope, kept in Redis by durable
// consumers of the ASSESSMENTS and ROUNDS streams and rebuilt from them
// whenever Redis is empty, behind or of an older layout.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/predikat-id/predikat/pkg/platform/config"
	"github.com/predikat-id/predikat/pkg/platform/natsx"
	"github.com/predikat-id/predikat/pkg/platform/redisx"
	"github.com/predikat-id/predikat/pkg/platform/telemetry"
	"github.com/predikat-id/predikat/services/ranking/wiring"
)

func main() {
	cfg := wiring.Config{}
	flag.StringVar(&cfg.Addr, "addr", config.Env("PREDIKAT_RANKING_ADDR", wiring.DefaultAddr), "gRPC listen address (env PREDIKAT_RANKING_ADDR)")
	natsURL := flag.String("nats", config.Env("PREDIKAT_NATS_URL", config.DefaultNATSURL), "NATS server URLs, comma-separated: list every server of a cluster (env PREDIKAT_NATS_URL)")
	var natsAuth natsx.ClientAuth
	natsAuth.Flags(flag.CommandLine, "ranking")
	flag.StringVar(&cfg.RedisURL, "redis", config.Env("PREDIKAT_REDIS_URL", config.Env("REDIS_URL", wiring.DefaultRedisURL)),
		"Redis for the boards, host:port or redis://host:port/db (env PREDIKAT_REDIS_URL or REDIS_URL)")
	flag.StringVar(&cfg.RegistryAddr, "registry", config.Env("PREDIKAT_REGISTRY_ADDR", config.DefaultRegistry), "registry gRPC address, for names (env PREDIKAT_REGISTRY_ADDR)")
	flag.IntVar(&cfg.Replicas, "replicas", config.EnvInt("PREDIKAT_REPLICAS", 1), "replicas of the streams if this service creates them: 3 on a NATS cluster (env PREDIKAT_REPLICAS)")
	cfg.Security.Flags(flag.CommandLine)
	cfg.Metrics.Flags(flag.CommandLine)
	flag.Parse()

	cfg.Logger = config.Logger()
	redisx.LogTo(cfg.Logger)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, cfg, *natsURL, natsAuth); err != nil {
		cfg.Logger.Error("ranking stopped", "err", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, cfg wiring.Config, natsURL string, natsAuth natsx.ClientAuth) error {
	flush, err := telemetry.Setup(ctx, "predikat-ranking", cfg.Logger)
	if err != nil {
		return err
	}
	defer flush.Flush(cfg.Logger)
	rdb, err := redisx.NewClient(cfg.RedisURL, redisx.Options{ClientName: "predikat-ranking"})
	if err != nil {
		return fmt.Errorf("redis at %s: %w", cfg.RedisURL, err)
	}
	defer rdb.Close()
	natsOpts, err := natsAuth.Options()
	if err != nil {
		return err
	}
	nc, err := natsx.Connect(ctx, natsURL, "predikat-ranking", cfg.Logger, natsOpts...)
	if err != nil {
		return fmt.Errorf("connect to NATS at %s: %w", natsURL, err)
	}
	defer nc.Close()
	cfg.NATS, cfg.Redis = nc, rdb
	return wiring.Run(ctx, cfg)
}
