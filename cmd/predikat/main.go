// Command predikat is the Predikat command line: it runs the dev stack and,
// as the services land, talks to them.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/predikat-id/predikat/cmd/predikat/internal/devstack"
	"github.com/predikat-id/predikat/pkg/config"
)

const usage = `predikat: public-service assessments, grades, rankings and awards.

Usage:
  predikat dev [flags]     run NATS and every service in one process (what "make run" does)

Examples:
  predikat dev
  predikat dev --data /tmp/predikat --nats-port 4333
  PREDIKAT_REGISTRY_ADDR=127.0.0.1:6051 predikat dev

Run "predikat COMMAND -h" for a command's flags.
`

func main() {
	if len(os.Args) < 2 {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var err error
	switch os.Args[1] {
	case "dev":
		err = dev(ctx, os.Args[2:])
	case "-h", "--help", "help":
		fmt.Print(usage)
		return
	default:
		fmt.Fprintf(os.Stderr, "predikat: unknown command %q\n\n%s", os.Args[1], usage)
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "predikat:", err)
		os.Exit(1)
	}
}

func dev(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("dev", flag.ExitOnError)
	data := fs.String("data", config.Env("PREDIKAT_DATA", ".predikat"), "data directory, kept across runs (env PREDIKAT_DATA)")
	natsPort := fs.Int("nats-port", config.EnvInt("PREDIKAT_NATS_PORT", config.DefaultNATSPort), "embedded NATS port; never 4222, which your own NATS may use (env PREDIKAT_NATS_PORT)")
	registryAddr := fs.String("registry-addr", config.Env("PREDIKAT_REGISTRY_ADDR", config.DefaultRegistry), "registry gRPC address (env PREDIKAT_REGISTRY_ADDR)")
	assessmentAddr := fs.String("assessment-addr", config.Env("PREDIKAT_ASSESSMENT_ADDR", config.DefaultAssessment), "assessment gRPC address (env PREDIKAT_ASSESSMENT_ADDR)")
	_ = fs.Parse(args)
	return devstack.Run(ctx, devstack.Options{
		DataDir: *data, NATSHost: "127.0.0.1", NATSPort: *natsPort, RegistryAddr: *registryAddr, AssessmentAddr: *assessmentAddr,
		Logger: config.Logger(), Out: os.Stdout,
	})
}
