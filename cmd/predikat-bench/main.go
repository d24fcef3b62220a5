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
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/predikat-id/predikat/cmd/internal/bench"
)

const usage = `Usage: predikat-bench [flags]
       predikat-bench --compare a.json b.json

Starts its own stack on free ports in a temporary directory (it can run beside
"make run"), measures throughput and p50/p99 latency of each hot path at 1 and
50 concurrent callers next to baselines measured in the same run (a gRPC echo
through the services' server chain and a bare one, a raw JetStream publish and
atomic batch, raw Redis commands, a raw stream read), judges each against its
target, prints one table and writes the same rows as JSON for comparison
across commits. A full run takes about five minutes and 2-3 GB of memory (the
1,000,000-entry boards) and runs each service as its own process, so each
service's heap is measured, and the two echoes in a process of their own;
--quick runs them all in this process.

--compare prints two JSON reports side by side, row by row: each run's ratio
and result, and the change.

Examples:
  go run ./cmd/predikat-bench
  go run ./cmd/predikat-bench --quick
  go run ./cmd/predikat-bench --profile .bench/pprof
  go run ./cmd/predikat-bench --quick --processes
  go run ./cmd/predikat-bench --nats-process
  go run ./cmd/predikat-bench --compare old.json .bench/results.json

Flags:
`

func main() {
	// A full run re-executes this binary as the process of its echo
	// baselines, and --nats-process as NATS's.
	bench.ServeChildIfAsked()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("predikat-bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), usage)
		fs.PrintDefaults()
	}
	quick := fs.Bool("quick", false, "smaller sizes and shorter cells (no 1,000,000-entry boards), services in this process")
	jsonPath := fs.String("out", bench.DefaultJSONPath, "where the rows are written as JSON")
	profile := fs.String("profile", "", "directory for a CPU profile of each operation")
	processes := fs.Bool("processes", false, "run each service as its own OS process (the default of a full run)")
	inProcess := fs.Bool("in-process", false, "run the services in this process (the default of --quick)")
	natsProcess := fs.Bool("nats-process", false, "run the NATS server in a process of its own, as in production (default: embedded in this process)")
	compare := fs.Bool("compare", false, "print the two JSON reports named as arguments side by side")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if *compare {
		if fs.NArg() != 2 {
			fmt.Fprintln(stderr, "predikat-bench: --compare takes two JSON reports: predikat-bench --compare a.json b.json")
			return 2
		}
		return compareReports(fs.Arg(0), fs.Arg(1), stdout, stderr)
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "predikat-bench: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	if *processes && *inProcess {
		fmt.Fprintln(stderr, "predikat-bench: --processes and --in-process exclude each other")
		return 2
	}
	// A full run measures each service's memory, which needs each in its
	// own process; --quick keeps them in this process, where they start
	// faster (no build).
	procs := (!*quick || *processes) && !*inProcess
	err := bench.Run(ctx, bench.Options{Out: stdout, JSONPath: *jsonPath, Quick: *quick, ProfileDir: *profile, Processes: procs, NATSProcess: *natsProcess,
		Logger: slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))})
	if err != nil {
		fmt.Fprintln(stderr, "predikat-bench:", err)
		return 1
	}
	return 0
}

// compareReports prints two runs side by side; it fails only on a report
// it cannot read.
func compareReports(a, b string, stdout, stderr io.Writer) int {
	ra, err := bench.LoadReport(a)
	if err != nil {
		fmt.Fprintln(stderr, "predikat-bench:", err)
		return 1
	}
	rb, err := bench.LoadReport(b)
	if err != nil {
		fmt.Fprintln(stderr, "predikat-bench:", err)
		return 1
	}
	if err := bench.Compare(stdout, ra, rb, a, b); err != nil {
		fmt.Fprintln(stderr, "predikat-bench:", err)
		return 1
	}
	return 0
}
