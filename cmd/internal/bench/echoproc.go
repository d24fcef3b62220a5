package bench

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sync/errgroup"

	harness "github.com/predikat-id/predikat/cmd/internal/stack"
	"github.com/predikat-id/predikat/pkg/platform/devpki"
)

// echoServerEnv turns the harness's own binary into the echo servers'
// process (Processes mode): its value is the directory of the dev PKI the
// echoes serve with. The binary is re-executed rather than built apart, so
// the echo costs no build and runs the code of the run that started it.
const echoServerEnv = "PREDIKAT_BENCH_ECHO_PKI"

// ServeChildIfAsked runs a child process of the harness (the echo
// servers, or NATS) and exits when the environment asks for one (see
// echoServerEnv, natsServerEnv); otherwise it returns at once. The
// predikat-bench command and the package's tests call it first.
func ServeChildIfAsked() {
	if dir := os.Getenv(echoServerEnv); dir != "" {
		os.Exit(serveEchoProcess(dir, os.Stdout, os.Stderr))
	}
	if spec := os.Getenv(natsServerEnv); spec != "" {
		os.Exit(serveNATSProcess(spec, os.Stdout, os.Stderr))
	}
}

// serveEchoProcess serves both echoes until SIGTERM, after writing their
// addresses on one line of stdout ("echo <chain> <bare>").
func serveEchoProcess(pkiDir string, stdout, stderr io.Writer) int {
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	var g errgroup.Group
	failed := make(chan error, 2)
	chain, bare, err := serveEchoes(ctx, devpki.At(pkiDir), log, &g, func(err error) {
		select {
		case failed <- err:
		default:
		}
	})
	if err != nil {
		log.Error("echo process: start", "err", err)
		return 1
	}
	fmt.Fprintf(stdout, "echo %s %s\n", chain, bare)
	code := 0
	select {
	case <-ctx.Done():
	case err := <-failed:
		log.Error("echo process: a server stopped", "err", err)
		code = 1
	}
	stop()
	_ = g.Wait()
	return code
}

// child is a process of the harness's own binary, re-executed with one
// variable of its environment saying what to serve: it writes one line on
// stdout once it serves (its first word the child's name, then what the
// harness needs to reach it) and serves until SIGTERM.
type child struct {
	name   string
	cmd    *exec.Cmd
	fields []string // the ready line's words after the name
	exited chan struct{}

	mu       sync.Mutex
	stopping bool
}

// childReadyTimeout bounds a child's start.
const childReadyTimeout = time.Minute

// startChild starts the child and returns once it serves, with the words
// of its ready line after its name (want of them); fail reports the
// process exiting on its own afterwards.
func startChild(ctx context.Context, name, env string, want int, log *slog.Logger, fail func(error)) (*child, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("%s process: %w", name, err)
	}
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), env)
	tail := &tailWriter{next: logWriter{log}}
	cmd.Stderr = tail
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("%s process: %w", name, err)
	}
	harness.SetDeathSignal(cmd)
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s process: %w", name, err)
	}
	p := &child{name: name, cmd: cmd, exited: make(chan struct{})}
	ready := make(chan string, 1)
	go func() {
		br := bufio.NewReader(stdout)
		if line, err := br.ReadString('\n'); err == nil {
			ready <- line
		}
		_, _ = io.Copy(io.Discard, br)
		err := cmd.Wait()
		close(p.exited)
		p.mu.Lock()
		stopping := p.stopping
		p.mu.Unlock()
		if !stopping {
			fail(fmt.Errorf("%s process (pid %d) exited: %v; its last output:\n%s", name, cmd.Process.Pid, err, tail))
		}
	}()
	select {
	case line := <-ready:
		f := strings.Fields(line)
		if len(f) != want+1 || f[0] != name {
			p.stop(5 * time.Second)
			return nil, fmt.Errorf("%s process: unexpected first line %q", name, line)
		}
		p.fields = f[1:]
		return p, nil
	case <-p.exited:
		return nil, fmt.Errorf("%s process exited before serving; its last output:\n%s", name, tail)
	case <-time.After(childReadyTimeout):
		p.stop(5 * time.Second)
		return nil, fmt.Errorf("%s process not serving after %s; its last output:\n%s", name, childReadyTimeout, tail)
	case <-ctx.Done():
		p.stop(5 * time.Second)
		return nil, ctx.Err()
	}
}

// startEchoProcess re-executes the harness's binary as the echo process
// and returns once both echoes listen (fields: the chain's address, the
// bare one's).
func startEchoProcess(ctx context.Context, pki *devpki.Files, log *slog.Logger, fail func(error)) (*child, error) {
	return startChild(ctx, "echo", echoServerEnv+"="+pki.Dir, 2, log, fail)
}

// stop asks the process to stop with SIGTERM and kills it if it has not
// exited within grace.
func (p *child) stop(grace time.Duration) {
	p.mu.Lock()
	p.stopping = true
	p.mu.Unlock()
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(grace):
		_ = p.cmd.Process.Kill()
		<-p.exited
	}
}

// tailWriter keeps the last few KiB a process wrote and passes all of it
// on.
type tailWriter struct {
	next io.Writer
	mu   sync.Mutex
	buf  []byte
}

func (w *tailWriter) Write(b []byte) (int, error) {
	w.mu.Lock()
	w.buf = append(w.buf, b...)
	if len(w.buf) > 4<<10 {
		w.buf = append([]byte(nil), w.buf[len(w.buf)-4<<10:]...)
	}
	w.mu.Unlock()
	return w.next.Write(b)
}

func (w *tailWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return string(w.buf)
}
