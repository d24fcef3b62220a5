// Command predikat-chaos runs Predikat's fault-injection suite: a
// three-node NATS cluster, Redis and the services as OS processes under
// load while a seeded schedule kills and freezes them, then checks the
// invariants from the streams. It prints one table, writes a JSON report
// and exits 1 on any violation; --seed replays a schedule.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/predikat-id/predikat/cmd/internal/chaos"
)

func main() {
	var o chaos.Options
	seed := flag.Uint64("seed", 0, "seed of the fault schedule (0: from the clock; printed)")
	flag.BoolVar(&o.Quick, "quick", false, "the short schedule (about 3 minutes): leader kill, connected-node kill, service kill, Redis FLUSHALL")
	flag.StringVar(&o.Dir, "dir", "", "directory for the run's stores, logs and binaries (empty: a temporary one, kept only on a violation)")
	flag.BoolVar(&o.Keep, "keep", false, "keep the temporary directory")
	flag.IntVar(&o.Registries, "registry", 2, "registry instances")
	flag.IntVar(&o.Assessments, "assessment", 2, "assessment instances")
	flag.IntVar(&o.Rankings, "ranking", 2, "ranking instances")
	flag.IntVar(&o.Writers, "writers", 0, "concurrent writers of the load (0: 8, 3 with --quick)")
	flag.DurationVar(&o.Interval, "interval", 0, "each writer records one assessment this often (0: 300ms, 600ms with --quick)")
	out := flag.String("out", "chaos-report.json", "JSON report")
	flag.Parse()

	o.Seed = *seed
	if o.Seed == 0 {
		o.Seed = uint64(time.Now().UnixNano())
	}
	o.Log = slog.New(slog.NewTextHandler(os.Stderr, nil))
	fmt.Printf("predikat-chaos: seed %d\n", o.Seed)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	rep, err := chaos.Run(ctx, o)
	if rep != nil {
		rep.Print(os.Stdout)
		if werr := rep.WriteJSON(*out); werr != nil {
			fmt.Fprintln(os.Stderr, "predikat-chaos:", werr)
		}
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "predikat-chaos: seed %d: %v\n", o.Seed, err)
		os.Exit(2)
	}
	if len(rep.Violations) > 0 {
		os.Exit(1)
	}
}
