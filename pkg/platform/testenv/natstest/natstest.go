// Package natstest starts a real, embedded NATS server with JetStream for a
// single test. Every server gets its own random port and store directory, so
// tests can run in parallel and never touch a NATS on the default port 4222.
package natstest

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/predikat-id/predikat/pkg/platform/natsx"
)

// connectTimeout bounds how long Conn waits for its first connection.
const connectTimeout = 10 * time.Second

// testReconnectDelay replaces natsx's production backoff in test clients:
// after Restart a test should not sit through seconds of backoff.
const testReconnectDelay = 25 * time.Millisecond

// Server is an embedded NATS server owned by one test.
type Server struct {
	log *slog.Logger

	mu  sync.Mutex
	cfg natsx.EmbeddedConfig // Port is the real port after the first start
	srv *server.Server       // nil while shut down
}

// Start starts a NATS server with JetStream on a fresh t.TempDir() and a
// random free port on 127.0.0.1. It is shut down when the test ends.
func Start(t testing.TB) *Server {
	t.Helper()
	s := &Server{
		log: Logger(t),
		cfg: natsx.EmbeddedConfig{
			Host:     "127.0.0.1",
			Port:     -1,
			StoreDir: t.TempDir(),
			// No fsync per write: a test can kill a process but not the
			// kernel, and data in the page cache survives a process death.
			// fsync would only make the suite slower.
			SyncAlways: false,
			ServerName: "natstest",
			// A bare server for one package's tests: no users. The dev
			// stack's server requires them (cmd/internal/stack).
			AllowAnonymous: true,
		},
	}
	srv, err := natsx.StartEmbedded(s.cfg, s.log)
	if err != nil {
		t.Fatalf("natstest: %v", err)
	}
	// Pin the port the server picked so Restart comes back on the same URL
	// and clients reconnect without being told anything.
	s.cfg.Port = srv.Addr().(*net.TCPAddr).Port
	s.srv = srv
	// Registered after t.TempDir, so it runs before the directory is removed.
	t.Cleanup(s.Shutdown)
	return s
}

// URL is the client URL. It stays the same across Restart.
func (s *Server) URL() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return "nats://" + net.JoinHostPort(s.cfg.Host, strconv.Itoa(s.cfg.Port))
}

// StoreDir is the JetStream store directory; it survives Restart.
func (s *Server) StoreDir() string {
	return s.cfg.StoreDir // never changes after Start
}

// Conn opens a new client connection with the same options services use
// (natsx.Connect: reconnect forever) but a short reconnect delay. It is
// closed when t ends.
func (s *Server) Conn(t testing.TB) *nats.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), connectTimeout)
	defer cancel()
	nc, err := natsx.Connect(ctx, s.URL(), t.Name(), Logger(t),
		nats.CustomReconnectDelay(func(int) time.Duration { return testReconnectDelay }))
	if err != nil {
		t.Fatalf("natstest: %v", err)
	}
	t.Cleanup(nc.Close)
	return nc
}

// JetStream returns a JetStream context on a new connection from Conn.
func (s *Server) JetStream(t testing.TB) jetstream.JetStream {
	t.Helper()
	js, err := jetstream.New(s.Conn(t))
	if err != nil {
		t.Fatalf("natstest: jetstream: %v", err)
	}
	return js
}

// Restart shuts the server down and starts it again on the same port and
// store directory. Existing clients reconnect by themselves and everything
// JetStream acknowledged before the shutdown is still there.
func (s *Server) Restart(t testing.TB) {
	t.Helper()
	s.Shutdown()
	if err := s.start(); err != nil {
		t.Fatalf("natstest: restart: %v", err)
	}
}

// Shutdown stops the server and waits until its store is closed. Clients
// see a disconnect and keep retrying. Calling it twice is harmless.
func (s *Server) Shutdown() {
	s.mu.Lock()
	srv := s.srv
	s.srv = nil
	s.mu.Unlock()
	if srv == nil {
		return
	}
	srv.Shutdown()
	srv.WaitForShutdown()
}

// start brings the server up on the pinned port. It retries briefly because
// the port may still be held for a moment by the previous listener, or
// (rarely) be taken by another test in between.
func (s *Server) start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.srv != nil {
		return fmt.Errorf("server on port %d is already running", s.cfg.Port)
	}
	var err error
	for attempt := range 20 {
		if attempt > 0 {
			time.Sleep(50 * time.Millisecond)
		}
		var srv *server.Server
		srv, err = natsx.StartEmbedded(s.cfg, s.log)
		if err == nil {
			s.srv = srv
			return nil
		}
	}
	return err
}

// StartWithoutJetStream starts a bare server whose JetStream is not on yet,
// as while a cluster forms, and connects to it; the caller turns JetStream
// on (EnableJetStream) when its test needs it. Both stop when the test ends.
func StartWithoutJetStream(t testing.TB) (*server.Server, *nats.Conn) {
	t.Helper()
	srv, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: -1, NoSigs: true, NoLog: true})
	if err != nil {
		t.Fatal(err)
	}
	srv.Start()
	t.Cleanup(srv.Shutdown)
	if !srv.ReadyForConnections(5 * time.Second) {
		t.Fatal("nats-server not ready")
	}
	nc, err := nats.Connect(srv.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	return srv, nc
}

// LastSeqs is the last sequence of every stream js sees, by name: a test
// compares two of them to say whether anything was written in between.
func LastSeqs(t testing.TB, js jetstream.JetStream) map[string]uint64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	out := map[string]uint64{}
	names := js.StreamNames(ctx)
	for name := range names.Name() {
		st, err := js.Stream(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		out[name] = st.CachedInfo().State.LastSeq
	}
	if err := names.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}
