// Package redistest runs a real redis-server as a child process for a single
// test, on a free port of its own (never 6379), with persistence off: the
// design treats Redis as a cache that may be flushed at any moment, and the
// tests should exercise exactly that. It is pkg/redisx's dev-stack launcher
// with a test's lifetime and a Stop/Start pair for failure tests.
package redistest

import (
	"context"
	"fmt"
	"net"
	"os/exec"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/predikat-id/predikat/pkg/platform/redisx"
	"github.com/redis/go-redis/v9"
)

// notFoundMsg is what a test sees when redis-server is missing. Tests fail
// rather than skip, so a missing dependency cannot pass as a green suite.
const notFoundMsg = `redis-server not found: run "make test" (it installs it) or "sudo apt-get install -y redis-server"`

// Server is a redis-server child process owned by one test.
type Server struct {
	dir  string
	port int

	mu   sync.Mutex
	proc *redisx.Process // nil while stopped
}

// Start starts redis-server on a free port on 127.0.0.1 with persistence
// off and its working directory in t.TempDir(). The process is killed when
// the test ends (and with the test binary, should that die). If
// redis-server is not in PATH the test fails.
func Start(t testing.TB) *Server {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		t.Fatalf("%s", notFoundMsg)
	}
	s := &Server{dir: t.TempDir()}
	t.Cleanup(s.Stop)
	if err := s.Start(); err != nil {
		t.Fatalf("redistest: %v", err)
	}
	return s
}

// Addr is host:port for redis clients. It stays the same across Stop/Start.
func (s *Server) Addr() string {
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port))
}

// Client returns a new client for the server, closed when t ends.
func (s *Server) Client(t testing.TB) *redis.Client {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: s.Addr()})
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// Flush deletes every key in every database.
func (s *Server) Flush(t testing.TB) {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: s.Addr()})
	defer func() { _ = c.Close() }()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.FlushAll(ctx).Err(); err != nil {
		t.Fatalf("redistest: flush %s: %v", s.Addr(), err)
	}
}

// Stop kills the server (SIGKILL, no shutdown courtesy: failure tests want
// Redis to vanish the way it would in a crash) and waits until it is gone.
// Calling it while stopped is harmless.
func (s *Server) Stop() {
	s.mu.Lock()
	p := s.proc
	s.proc = nil
	s.mu.Unlock()
	if p != nil {
		p.Stop()
	}
}

// Start starts the server (again, after Stop) on the same port; it returns
// once PING is answered. With persistence off, the data is gone.
func (s *Server) Start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.proc != nil {
		return fmt.Errorf("redis-server on %s is already running", s.Addr())
	}
	p, err := redisx.StartLocal(context.Background(), s.dir, s.port)
	if err != nil {
		return err
	}
	if s.port == 0 {
		_, port, _ := net.SplitHostPort(p.Addr())
		s.port, _ = strconv.Atoi(port)
	}
	s.proc = p
	return nil
}
