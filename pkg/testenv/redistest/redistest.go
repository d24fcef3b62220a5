// Package redistest runs a real redis-server as a child process for a single
// test, on a free port of its own (never 6379), with persistence off: the
// design treats Redis as a cache that may be flushed at any moment, and the
// tests should exercise exactly that.
package redistest

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// notFoundMsg is what a test sees when redis-server is missing. Tests fail
// rather than skip, so a missing dependency cannot pass as a green suite.
const notFoundMsg = `redis-server not found: run "make test" (it installs it) or "sudo apt-get install -y redis-server"`

// readyTimeout bounds how long a start waits for PING to be answered.
const readyTimeout = 10 * time.Second

// outputTail is how much of the child's output is kept for error messages.
const outputTail = 4 << 10

// Server is a redis-server child process owned by one test.
type Server struct {
	bin  string
	dir  string
	port int

	mu   sync.Mutex
	proc *process // nil while stopped
}

type process struct {
	cmd  *exec.Cmd
	out  *tailBuffer
	done chan struct{} // closed when the process has exited
	err  error         // Wait's result, valid after done is closed
}

// Start starts redis-server on a free port on 127.0.0.1 with persistence
// off and its working directory in t.TempDir(). The process is killed when
// the test ends. If redis-server is not in PATH the test fails.
func Start(t testing.TB) *Server {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Fatalf("%s", notFoundMsg)
	}
	s := &Server{bin: bin, dir: t.TempDir()}
	t.Cleanup(s.Stop)

	// A free port found by listening and closing can be taken by someone
	// else before redis binds it; try a few fresh ports before giving up.
	var errs []error
	for range 3 {
		s.port, err = freePort()
		if err != nil {
			t.Fatalf("redistest: %v", err)
		}
		if err = s.Start(); err == nil {
			return s
		}
		errs = append(errs, err)
	}
	t.Fatalf("redistest: %v", errors.Join(errs...))
	return nil
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
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), readyTimeout)
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
	if p == nil {
		return
	}
	_ = p.cmd.Process.Kill()
	<-p.done
}

// Start starts the server again on the same port after Stop; it returns
// once PING is answered. With persistence off, the data is gone.
func (s *Server) Start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.proc != nil {
		return fmt.Errorf("redis-server on %s is already running", s.Addr())
	}
	p, err := s.launch()
	if err != nil {
		return err
	}
	if err := s.waitReady(p); err != nil {
		_ = p.cmd.Process.Kill()
		<-p.done
		return fmt.Errorf("%w\nredis-server output (tail):\n%s", err, p.out.String())
	}
	s.proc = p
	return nil
}

func (s *Server) launch() (*process, error) {
	cmd := exec.Command(s.bin,
		"--port", strconv.Itoa(s.port),
		"--bind", "127.0.0.1",
		// An empty argument, not a missing one: it disables RDB snapshots.
		"--save", "",
		"--appendonly", "no",
		"--dir", s.dir,
		"--daemonize", "no",
	)
	cmd.Dir = s.dir
	out := &tailBuffer{max: outputTail}
	cmd.Stdout = out
	cmd.Stderr = out
	setDeathSignal(cmd)
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s on port %d: %w", s.bin, s.port, err)
	}
	p := &process{cmd: cmd, out: out, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// waitReady polls PING until it succeeds, the process exits (port taken, bad
// option) or readyTimeout passes. It speaks raw RESP over a fresh connection
// each time: a go-redis client would back off after failed dials (and log
// each one), which only slows down a server that is seconds from ready.
func (s *Server) waitReady(p *process) error {
	deadline := time.Now().Add(readyTimeout)
	for {
		select {
		case <-p.done:
			return fmt.Errorf("redis-server on %s exited before answering PING: %v", s.Addr(), p.err)
		default:
		}
		err := ping(s.Addr())
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("redis-server on %s did not answer PING within %s: %w", s.Addr(), readyTimeout, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func ping(addr string) error {
	conn, err := net.DialTimeout("tcp", addr, 500*time.Millisecond)
	if err != nil {
		return err
	}
	defer conn.Close()
	if err := conn.SetDeadline(time.Now().Add(500 * time.Millisecond)); err != nil {
		return err
	}
	if _, err := conn.Write([]byte("PING\r\n")); err != nil {
		return err
	}
	reply, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil {
		return err
	}
	// While loading, redis answers -LOADING instead of +PONG.
	if reply = strings.TrimSpace(reply); reply != "+PONG" {
		return fmt.Errorf("PING answered %q", reply)
	}
	return nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	if err := l.Close(); err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	return port, nil
}

// tailBuffer keeps the last max bytes written to it; enough of the child's
// output to explain a failed start without holding its whole log.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	buf []byte
}

func (b *tailBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf = append(b.buf, p...)
	if over := len(b.buf) - b.max; over > 0 {
		b.buf = append(b.buf[:0], b.buf[over:]...)
	}
	return len(p), nil
}

func (b *tailBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return strings.TrimSpace(string(b.buf))
}
