package chaos

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestQuick runs the quick schedule against real processes: the faults
// production meets most (a stream leader, a client's node, a service
// process, the Redis cache) and the invariants checked from the streams.
func TestQuick(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a NATS cluster, Redis and the services as processes: minutes")
	}
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d (replay: go run ./predikat-chaos --quick --seed %d)", seed, seed)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	rep, err := Run(ctx, Options{Seed: seed, Quick: true, Log: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))})
	var table strings.Builder
	if rep != nil {
		rep.Print(&table)
		_ = rep.WriteJSON(filepath.Join(t.TempDir(), "chaos-report.json"))
	}
	t.Log("\n" + table.String())
	if err != nil {
		t.Fatalf("seed %d: %v", seed, err)
	}
	if len(rep.Violations) > 0 {
		t.Errorf("seed %d: %d violations (files in %s)", seed, len(rep.Violations), rep.Dir)
	}
}
