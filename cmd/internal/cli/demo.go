package cli

import (
	"context"
	"flag"
	"log/slog"

	"github.com/predikat-id/predikat/cmd/internal/demo"
)

func cmdDemoLoad(fs *flag.FlagSet, s *session) func(context.Context, []string) error {
	return func(ctx context.Context, args []string) error {
		if err := needArgs(args, 0, ""); err != nil {
			return err
		}
		log := slog.New(slog.NewTextHandler(s.err, nil))
		return demo.Load(ctx, demo.Clients{Registry: s.reg, Assessment: s.asm, Ceremonies: s.cer}, log)
	}
}
