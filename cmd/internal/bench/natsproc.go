package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	harness "github.com/predikat-id/predikat/cmd/internal/stack"
	"github.com/predikat-id/predikat/pkg/platform/devpki"
)

// natsServerEnv turns the harness's own binary into a NATS server process
// (--nats-process): its value is the server's natsSpec as JSON. As in
// production, where NATS runs on its own pods, every client then crosses
// into NATS's process, the raw baselines included; embedded in the
// harness, the baselines skip the crossing every service pays.
const natsServerEnv = "PREDIKAT_BENCH_NATS"

// natsSpec is what the NATS process serves: the dev PKI's directory (its
// users and certificate), the JetStream store, and whether every write is
// fsynced.
type natsSpec struct {
	PKI   string `json:"pki"`
	Store string `json:"store"`
	Sync  bool   `json:"sync"`
}

// natsStopGrace bounds the NATS process's shutdown: it writes its store
// out, which takes a few seconds with a million messages.
const natsStopGrace = 2 * time.Minute

// serveNATSProcess serves NATS until SIGTERM, after writing its URL on one
// line of stdout ("nats <url>"), then shuts down with its store written.
func serveNATSProcess(specJSON string, stdout, stderr io.Writer) int {
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	var spec natsSpec
	if err := json.Unmarshal([]byte(specJSON), &spec); err != nil {
		log.Error("nats process: spec", "err", err)
		return 1
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	n, err := harness.StartNATS(harness.NATSOptions{PKI: devpki.At(spec.PKI), Port: -1, StoreDir: spec.Store, Sync: spec.Sync, Name: "predikat-bench"}, log)
	if err != nil {
		log.Error("nats process: start", "err", err)
		return 1
	}
	fmt.Fprintf(stdout, "nats %s\n", n.URL)
	<-ctx.Done()
	n.Stop()
	return 0
}

// startNATSProcess starts NATS in a process of its own and returns the
// stack's view of it.
func startNATSProcess(ctx context.Context, pki *devpki.Files, spec natsSpec, log *slog.Logger, fail func(error)) (*child, *harness.NATS, error) {
	b, err := json.Marshal(spec)
	if err != nil {
		return nil, nil, err
	}
	p, err := startChild(ctx, "nats", natsServerEnv+"="+string(b), 1, log, fail)
	if err != nil {
		return nil, nil, err
	}
	return p, &harness.NATS{URL: p.fields[0], PKI: pki, TLS: true}, nil
}
