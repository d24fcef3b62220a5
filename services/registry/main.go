// Command registry serves predikat.registry.v1.RegistryService: regions and
// institutions, stored in NATS JetStream KV.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/predikat-id/predikat/pkg/platform/config"
	"github.com/predikat-id/predikat/pkg/platform/natsx"
	"github.com/predikat-id/predikat/services/registry/wiring"
)

func main() {
	addr := flag.String("addr", config.Env("PREDIKAT_REGISTRY_ADDR", wiring.DefaultAddr), "gRPC listen address (env PREDIKAT_REGISTRY_ADDR)")
	natsURL := flag.String("nats", config.Env("PREDIKAT_NATS_URL", config.DefaultNATSURL), "NATS server URL(s) (env PREDIKAT_NATS_URL)")
	replicas := flag.Int("replicas", config.EnvInt("PREDIKAT_REPLICAS", 1), "replicas of each KV bucket: 3 on a NATS cluster (env PREDIKAT_REPLICAS)")
	flag.Parse()

	log := config.Logger()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, log, *addr, *natsURL, *replicas); err != nil {
		log.Error("registry stopped", "err", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, log *slog.Logger, addr, natsURL string, replicas int) error {
	nc, err := natsx.Connect(ctx, natsURL, "predikat-registry", log)
	if err != nil {
		return fmt.Errorf("connect to NATS at %s: %w", natsURL, err)
	}
	defer nc.Close()
	return wiring.Run(ctx, wiring.Config{Addr: addr, NATS: nc, Replicas: replicas, Logger: log})
}
