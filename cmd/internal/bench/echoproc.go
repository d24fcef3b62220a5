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

// echoReadyTimeout bounds the echo process's start.
const echoReadyTimeout = time.Minute

// ServeEchoIfAsked runs the echo servers' process and exits when the
// environment asks for it (see echoServerEnv); otherwise it returns at
// once. The predikat-bench command and the package's tests call it first.
func ServeEchoIfAsked() {
	dir := os.Getenv(echoServerEnv)
	if dir == "" {
		return
	}
	os.Exit(serveEchoProcess(dir, os.Stdout, os.Stderr))
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

// echoProcess is the echo servers' own process.
type echoProcess struct {
	cmd         *exec.Cmd
	chain, bare string
	exited      chan struct{}

	mu       sync.Mutex
	stopping bool
}

// startEchoProcess re-executes the harness's binary as the echo process
// and returns once both echoes listen; fail reports the process exiting
// on its own afterwards.
func startEchoProcess(ctx context.Context, pki *devpki.Files, log *slog.Logger, fail func(error)) (*echoProcess, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("echo process: %w", err)
	}
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), echoServerEnv+"="+pki.Dir)
	tail := &tailWriter{next: logWriter{log}}
	cmd.Stderr = tail
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("echo process: %w", err)
	}
	harness.SetDeathSignal(cmd)
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start echo process: %w", err)
	}
	p := &echoProcess{cmd: cmd, exited: make(chan struct{})}
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
			fail(fmt.Errorf("echo process (pid %d) exited: %v; its last output:\n%s", cmd.Process.Pid, err, tail))
		}
	}()
	select {
	case line := <-ready:
		f := strings.Fields(line)
		if len(f) != 3 || f[0] != "echo" {
			p.stop()
			return nil, fmt.Errorf("echo process: unexpected first line %q", line)
		}
		p.chain, p.bare = f[1], f[2]
		return p, nil
	case <-p.exited:
		return nil, fmt.Errorf("echo process exited before serving; its last output:\n%s", tail)
	case <-time.After(echoReadyTimeout):
		p.stop()
		return nil, fmt.Errorf("echo process not serving after %s; its last output:\n%s", echoReadyTimeout, tail)
	case <-ctx.Done():
		p.stop()
		return nil, ctx.Err()
	}
}

// stop asks the process to drain with SIGTERM and kills it if it has not
// exited in a few seconds.
func (p *echoProcess) stop() {
	p.mu.Lock()
	p.stopping = true
	p.mu.Unlock()
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(5 * time.Second):
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
