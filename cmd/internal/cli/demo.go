package cli

import (
	"context"
	"flag"
	"log/slog"

	"github.com/predikat-id/predikat/cmd/internal/demo"
)

func init() {
	register(&spec{
		path: "demo load", uses: useRegistry | useAssessment,
		summary: "load the Kalimantan Selatan demo data into running services",
		about: `Loads the demo data into running services: the institutions of Kalimantan
Selatan and every figure and award the seed news articles publish, each with
its source. "predikat dev" does this itself on an empty data directory; this
command is for a stack started otherwise. It is idempotent: running it again
changes nothing.`,
		examples: []string{"predikat demo load", "predikat demo load --registry 127.0.0.1:6051 --assessment 127.0.0.1:6052"},
		setup: func(fs *flag.FlagSet, s *session) func(context.Context, []string) error {
			return func(ctx context.Context, args []string) error {
				if err := needArgs(args, 0, ""); err != nil {
					return err
				}
				log := slog.New(slog.NewTextHandler(s.err, nil))
				return demo.Load(ctx, demo.Clients{Registry: s.reg, Assessment: s.asm}, log)
			}
		},
	})
}
