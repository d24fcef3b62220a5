// Command predikat-bench is Predikat's benchmark harness (`make bench`): it
// starts its own stack on free ports in a temporary directory (so it runs
// beside `make run`), measures every hot path beside baselines measured in
// the same run, prints one table and writes the same rows as JSON. It is a
// binary of its own so the harness is not compiled into the predikat CLI.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/predikat-id/predikat/cmd/internal/bench"
)

const usage = `Usage: predikat-bench [flags]

Starts its own stack on free ports in a temporary directory (it can run beside
"make run"), measures throughput and p50/p99 latency of each hot path at 1 and
50 concurrent callers next to a baseline measured in the same run (a bare gRPC
echo, a raw JetStream publish, raw Redis commands), prints one table and
writes the same rows as JSON for comparison across commits. A full run takes
a few minutes and about 2 GB of memory (the 1,000,000-entry boards).

Examples:
  go run ./cmd/predikat-bench
  go run ./cmd/predikat-bench --quick
  go run ./cmd/predikat-bench --profile .bench/pprof
  go run ./cmd/predikat-bench --quick --processes

Flags:
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:])
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string) int {
	fs := flag.NewFlagSet("predikat-bench", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), usage)
		fs.PrintDefaults()
	}
	quick := fs.Bool("quick", false, "smaller sizes and shorter cells (no 1,000,000-entry boards)")
	jsonPath := fs.String("out", bench.DefaultJSONPath, "where the rows are written as JSON")
	profile := fs.String("profile", "", "directory for a CPU profile of each operation")
	processes := fs.Bool("processes", false, "run each service as its own OS process (built with go build), so each has its own memory figures")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "predikat-bench: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	err := bench.Run(ctx, bench.Options{Out: os.Stdout, JSONPath: *jsonPath, Quick: *quick, ProfileDir: *profile, Processes: *processes,
		Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))})
	if err != nil {
		fmt.Fprintln(os.Stderr, "predikat-bench:", err)
		return 1
	}
	return 0
}
