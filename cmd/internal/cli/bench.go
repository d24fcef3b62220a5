package cli

import (
	"context"
	"flag"
	"log/slog"

	"github.com/predikat-id/predikat/cmd/internal/bench"
)

func init() {
	register(&spec{
		path:    "bench",
		summary: "benchmark every hot path against a baseline measured in the same run",
		about: `Starts its own stack on free ports in a temporary directory (it can run beside
"make run"), measures throughput and p50/p99 latency of each hot path at 1 and
50 concurrent callers next to a baseline measured in the same run (a bare gRPC
echo, a raw JetStream publish, raw Redis commands), prints one table and
writes the same rows as JSON for comparison across commits. A full run takes
a few minutes and about 2 GB of memory (the 1,000,000-entry boards).`,
		examples: []string{"predikat bench", "predikat bench --quick", "predikat bench --profile .bench/pprof"},
		setup: func(fs *flag.FlagSet, s *session) func(context.Context, []string) error {
			quick := fs.Bool("quick", false, "smaller sizes and shorter cells (no 1,000,000-entry boards)")
			jsonPath := fs.String("out", bench.DefaultJSONPath, "where the rows are written as JSON")
			profile := fs.String("profile", "", "directory for a CPU profile of each operation")
			return func(ctx context.Context, args []string) error {
				if err := needArgs(args, 0, ""); err != nil {
					return err
				}
				return bench.Run(ctx, bench.Options{Out: s.out, JSONPath: *jsonPath, Quick: *quick, ProfileDir: *profile,
					Logger: slog.New(slog.NewTextHandler(s.err, &slog.HandlerOptions{Level: slog.LevelInfo}))})
			}
		},
	})
}
