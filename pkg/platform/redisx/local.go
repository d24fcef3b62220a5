package redisx

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// DefaultLocalPort is where the dev stack runs its redis-server: 6379 is left
// to the user's own Redis, as 4222 is left to their own NATS.
const DefaultLocalPort = 6380

// NotInstalledHelp is the error text when redis-server cannot be found.
const NotInstalledHelp = `redis-server not found in PATH: install it with "sudo apt-get install -y redis-server" ` +
	`(on Debian/Ubuntu "make run" and "make test" do this for you), or point REDIS_URL at a Redis you run yourself`

// ErrNotInstalled is returned (wrapped) by StartLocal when redis-server is
// not in PATH.
var ErrNotInstalled = errors.New(NotInstalledHelp)

// localReadyTimeout bounds how long StartLocal waits for PING.
const localReadyTimeout = 10 * time.Second

// Process is a redis-server child process started by StartLocal.
type Process struct {
	cmd  *exec.Cmd
	addr string
	done chan struct{} // closed when the process has exited
	err  error         // Wait's result, valid after done

	stopOnce sync.Once
}

// StartLocal starts redis-server as a child process listening on 127.0.0.1
// only, with persistence off (Redis is a cache in Predikat: boards are
// rebuilt from JetStream) and dir as its working directory. port 0 picks a
// free port; 6379 is refused, it belongs to the user's own Redis. It returns
// once the server answers PING.
//
// The child is killed when ctx ends, when Stop is called, and on Linux also
// when the parent process dies (parent-death signal), so a crashed dev stack
// leaves no stray server behind.
func StartLocal(ctx context.Context, dir string, port int) (*Process, error) {
	if port == 6379 {
		return nil, errors.New("redisx: refusing to start a local redis-server on 6379: that port is left to your own Redis; use 0 (a free port) or another port")
	}
	if port < 0 || port > 65535 {
		return nil, fmt.Errorf("redisx: port %d out of range", port)
	}
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		return nil, fmt.Errorf("redisx: %w", ErrNotInstalled)
	}
	if dir == "" {
		return nil, errors.New("redisx: StartLocal needs a working directory")
	}
	// redis-server runs inside dir and also gets it as --dir: a relative
	// path would be resolved twice (".predikat/redis/.predikat/redis").
	dir, err = filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("redisx: working directory: %w", err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("redisx: working directory: %w", err)
	}
	if port != 0 {
		return startOn(ctx, bin, dir, port)
	}
	// A free port found by listening and closing can be taken by someone
	// else before redis binds it: try a few fresh ones.
	var errs []error
	for range 3 {
		p, err := freePort()
		if err != nil {
			return nil, err
		}
		proc, err := startOn(ctx, bin, dir, p)
		if err == nil {
			return proc, nil
		}
		errs = append(errs, err)
	}
	return nil, errors.Join(errs...)
}

func startOn(ctx context.Context, bin, dir string, port int) (*Process, error) {
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	cmd := exec.Command(bin,
		"--port", strconv.Itoa(port),
		"--bind", "127.0.0.1",
		"--save", "", // an empty argument disables RDB snapshots
		"--appendonly", "no",
		"--dir", dir,
		"--daemonize", "no",
		// Boards must never be evicted silently: a write that does not fit
		// fails, and the service reports it, instead of losing entries.
		"--maxmemory-policy", "noeviction",
	)
	cmd.Dir = dir
	out := &tailBuffer{max: 4 << 10}
	cmd.Stdout, cmd.Stderr = out, out
	setDeathSignal(cmd)
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("redisx: start %s on %s: %w", bin, addr, err)
	}
	p := &Process{cmd: cmd, addr: addr, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	if err := p.waitReady(ctx); err != nil {
		p.Stop()
		return nil, fmt.Errorf("redisx: %w\nredis-server output (tail):\n%s", err, out.String())
	}
	go func() {
		select {
		case <-ctx.Done():
			p.Stop()
		case <-p.done:
		}
	}()
	return p, nil
}

// Addr is host:port of the server.
func (p *Process) Addr() string { return p.addr }

// URL is redis://host:port/0, for configuration that wants a URL.
func (p *Process) URL() string { return "redis://" + p.addr + "/0" }

// Done is closed when the process has exited.
func (p *Process) Done() <-chan struct{} { return p.done }

// Stop kills the server and waits until it is gone. Calling it again is
// harmless.
func (p *Process) Stop() {
	p.stopOnce.Do(func() {
		select {
		case <-p.done:
			return
		default:
		}
		_ = p.cmd.Process.Kill()
	})
	<-p.done
}

func (p *Process) waitReady(ctx context.Context) error {
	deadline := time.Now().Add(localReadyTimeout)
	for {
		select {
		case <-p.done:
			return fmt.Errorf("redis-server on %s exited before answering PING: %v", p.addr, p.err)
		case <-ctx.Done():
			return fmt.Errorf("redis-server on %s: %w", p.addr, context.Cause(ctx))
		default:
		}
		err := pingOwn(p.addr, p.cmd.Process.Pid)
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("redis-server on %s did not answer PING within %s: %w", p.addr, localReadyTimeout, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// pingOwn asks the server at addr for its process id and checks it is the
// child just started, so a server already holding the port (which makes the
// child exit) is never mistaken for it. It speaks raw RESP on a fresh
// connection: a go-redis client would back off after failed dials, which
// only slows down a server seconds from ready.
func pingOwn(addr string, pid int) error {
	conn, err := net.DialTimeout("tcp", addr, 500*time.Millisecond)
	if err != nil {
		return err
	}
	defer func() { _ = conn.Close() }()
	if err := conn.SetDeadline(time.Now().Add(500 * time.Millisecond)); err != nil {
		return err
	}
	if _, err := conn.Write([]byte("INFO server\r\n")); err != nil {
		return err
	}
	r := bufio.NewReader(conn)
	head, err := r.ReadString('\n')
	if err != nil {
		return err
	}
	head = strings.TrimSpace(head)
	if !strings.HasPrefix(head, "$") {
		// -LOADING while the server loads, or some other refusal.
		return fmt.Errorf("INFO answered %q", head)
	}
	n, err := strconv.Atoi(head[1:])
	if err != nil || n < 0 {
		return fmt.Errorf("INFO answered %q", head)
	}
	body := make([]byte, n)
	if _, err := io.ReadFull(r, body); err != nil {
		return err
	}
	want := "process_id:" + strconv.Itoa(pid)
	for line := range strings.Lines(string(body)) {
		if strings.TrimSpace(line) == want {
			return nil
		}
	}
	return fmt.Errorf("the server answering on %s is not the redis-server just started (pid %d): is the port taken?", addr, pid)
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("redisx: find a free port: %w", err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	if err := l.Close(); err != nil {
		return 0, fmt.Errorf("redisx: find a free port: %w", err)
	}
	return port, nil
}

// tailBuffer keeps the last max bytes written to it.
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
