// Command registry serves predikat.registry.v1.RegistryService: regions and
// institutions, stored in NATS JetStream KV.
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
	"github.com/predikat-id/predikat/pkg/platform/telemetry"
	"github.com/predikat-id/predikat/services/registry/wiring"
)

func main() {
	cfg := wiring.Config{}
	flag.StringVar(&cfg.Addr, "addr", config.Env("PREDIKAT_REGISTRY_ADDR", wiring.DefaultAddr), "gRPC listen address (env PREDIKAT_REGISTRY_ADDR)")
	natsURL := flag.String("nats", config.Env("PREDIKAT_NATS_URL", config.DefaultNATSURL), "NATS server URLs, comma-separated: list every server of a cluster (env PREDIKAT_NATS_URL)")
	var natsAuth natsx.ClientAuth
	natsAuth.Flags(flag.CommandLine, "registry")
	flag.IntVar(&cfg.Replicas, "replicas", config.EnvInt("PREDIKAT_REPLICAS", 1), "replicas of each KV bucket: 3 on a NATS cluster (env PREDIKAT_REPLICAS)")
	cfg.Security.Flags(flag.CommandLine)
	cfg.Metrics.Flags(flag.CommandLine)
	flag.Parse()

	cfg.Logger = config.Logger()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, cfg, *natsURL, natsAuth); err != nil {
		cfg.Logger.Error("registry stopped", "err", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, cfg wiring.Config, natsURL string, natsAuth natsx.ClientAuth) error {
	flush, err := telemetry.Setup(ctx, "predikat-registry", cfg.Logger)
	if err != nil {
		return err
	}
	defer flush.Flush(cfg.Logger)
	natsOpts, err := natsAuth.Options()
	if err != nil {
		return err
	}
	nc, err := natsx.Connect(ctx, natsURL, "predikat-registry", cfg.Logger, natsOpts...)
	if err != nil {
		return fmt.Errorf("connect to NATS at %s: %w", natsURL, err)
	}
	defer nc.Close()
	cfg.NATS = nc
	return wiring.Run(ctx, cfg)
}
