// Command predikat-bench-skm is the SKM ingestion benchmark (`make
// bench-skm`): citizen satisfaction survey responses streamed into the
// assessment service at national volume, beside a raw JetStream atomic
// batch of the same bytes, then a kill -9 of the service in the middle of
// a wave, a restart, and every unit's result compared with what was sent.
// A binary of its own, beside cmd/predikat-bench, whose harness it shares.
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

const usage = `Usage: predikat-bench-skm [flags]

Starts its own NATS (JetStream on disk, fsync before every acknowledgement)
and the registry and assessment services, each as its own process, on free
ports in a temporary directory; registers 50,000 service units and opens
the round skm-<this year>; streams 10,000,000 survey responses (200 a unit,
one message a unit, 100 units a submission, 8 concurrent streams) through
SubmitSurveyResponses, in slices each followed by a raw JetStream atomic
batch publish of the same bytes in the same batching (the baseline); reports
the assessment process's heap and resident memory; then sends a second wave
to 5,000 units, kills the assessment service with SIGKILL once half of it is
acknowledged, restarts it, sends again what was not acknowledged (and the
last acknowledged submissions: all duplicates), compares every unit's
respondents and answer counts with what was sent, restarts it once more (a
rebuild from the log) and compares again. Prints the table and writes the
rows into the JSON report (the rows of other runs there are kept).

Examples:
  go run ./cmd/predikat-bench-skm
  go run ./cmd/predikat-bench-skm --quick
  go run ./cmd/predikat-bench-skm --quick --in-process --profile .bench/pprof

Flags:
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("predikat-bench-skm", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), usage)
		fs.PrintDefaults()
	}
	quick := fs.Bool("quick", false, "200,000 responses of 1,000 units (a second wave to 250 of them), for a CI-size check")
	jsonPath := fs.String("out", bench.DefaultJSONPath, "the JSON report the rows are written into")
	profile := fs.String("profile", "", "directory for a CPU profile of each slice of the ingestion (of the services too with --in-process)")
	inProcess := fs.Bool("in-process", false, "run the services in this process (the crash is then a stop, not a kill -9)")
	seed := fs.Uint64("seed", 0, "seed of the answers (0: the fixed default)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "predikat-bench-skm: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	err := bench.RunSKM(ctx, bench.SKMOptions{Out: stdout, JSONPath: *jsonPath, Quick: *quick, InProcess: *inProcess, ProfileDir: *profile, Seed: *seed,
		Logger: slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))})
	if err != nil {
		fmt.Fprintln(stderr, "predikat-bench-skm:", err)
		return 1
	}
	return 0
}
