// Command predikat is the Predikat command line: it runs the dev stack
// (`predikat dev`) and talks to the services (every other command, see
// internal/cli).
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/predikat-id/predikat/cmd/internal/cli"
	"github.com/predikat-id/predikat/cmd/internal/devstack"
	"github.com/predikat-id/predikat/cmd/internal/stack"
	"github.com/predikat-id/predikat/pkg/platform/config"
)

const devUsage = `Usage: predikat dev [flags]

Runs NATS and every service in one process (what "make run" does).

Examples:
  predikat dev
  predikat dev --data /tmp/predikat --nats-port 4333
  predikat dev --registry-metrics-addr "" --assessment-metrics-addr "" --ranking-metrics-addr ""
  PREDIKAT_REGISTRY_ADDR=127.0.0.1:6051 predikat dev

Flags:
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if len(os.Args) == 3 && os.Args[1] == "help" && os.Args[2] == "dev" {
		os.Args = []string{os.Args[0], "dev", "-h"}
	}
	if len(os.Args) < 2 || os.Args[1] != "dev" {
		code := cli.Main(ctx, os.Args[1:])
		stop()
		os.Exit(code)
	}
	if err := dev(ctx, os.Args[2:]); err != nil {
		fmt.Fprintln(os.Stderr, "predikat:", err)
		os.Exit(1)
	}
}

func dev(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("dev", flag.ExitOnError)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), devUsage)
		fs.PrintDefaults()
	}
	data := fs.String("data", config.Env("PREDIKAT_DATA", ".predikat"), "data directory, kept across runs (env PREDIKAT_DATA)")
	natsPort := fs.Int("nats-port", config.EnvInt("PREDIKAT_NATS_PORT", config.DefaultNATSPort), "embedded NATS port; never 4222, which your own NATS may use (env PREDIKAT_NATS_PORT)")
	registryAddr := fs.String("registry-addr", config.Env("PREDIKAT_REGISTRY_ADDR", config.DefaultRegistry), "registry gRPC address (env PREDIKAT_REGISTRY_ADDR)")
	assessmentAddr := fs.String("assessment-addr", config.Env("PREDIKAT_ASSESSMENT_ADDR", config.DefaultAssessment), "assessment gRPC address (env PREDIKAT_ASSESSMENT_ADDR)")
	rankingAddr := fs.String("ranking-addr", config.Env("PREDIKAT_RANKING_ADDR", config.DefaultRanking), "ranking gRPC address (env PREDIKAT_RANKING_ADDR)")
	redisURL := fs.String("redis", config.Env("REDIS_URL", ""), "Redis for the leaderboards; empty starts a redis-server child on a free port (env REDIS_URL)")
	noDemo := fs.Bool("no-demo", false, "do not load the Kalimantan Selatan demo data into an empty data directory")
	metrics := map[string]*string{}
	for _, svc := range []string{stack.Registry, stack.Assessment, stack.Ranking} {
		env := "PREDIKAT_" + strings.ToUpper(svc) + "_METRICS_ADDR"
		metrics[svc] = fs.String(svc+"-metrics-addr", config.Env(env, devstack.DefaultMetricsAddrs[svc]),
			svc+" Prometheus metrics address (env "+env+"); the flag set to \"\" serves none")
	}
	_ = fs.Parse(args)
	return devstack.Run(ctx, devstack.Options{
		DataDir: *data, NATSPort: *natsPort, RegistryAddr: *registryAddr, AssessmentAddr: *assessmentAddr,
		RankingAddr: *rankingAddr, RedisURL: *redisURL, Demo: !*noDemo, Logger: config.Logger(), Out: os.Stdout,
		MetricsAddrs: map[string]string{stack.Registry: *metrics[stack.Registry], stack.Assessment: *metrics[stack.Assessment], stack.Ranking: *metrics[stack.Ranking]},
	})
}
