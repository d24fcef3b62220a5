package stack

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sync/errgroup"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/predikat-id/predikat/pkg/platform/auth"
	"github.com/predikat-id/predikat/pkg/platform/grpcserver"
	"github.com/predikat-id/predikat/pkg/platform/security"
)

// stopGrace is how long a process has to drain after SIGTERM before it is
// killed.
const stopGrace = 15 * time.Second

// Build builds the named services (./services/<name> of the workspace) into
// dir, each binary named after its service, in parallel.
func Build(ctx context.Context, dir string, names ...string) error {
	root, err := workspaceRoot(ctx)
	if err != nil {
		return err
	}
	g, ctx := errgroup.WithContext(ctx)
	for _, name := range names {
		g.Go(func() error {
			cmd := exec.CommandContext(ctx, "go", "build", "-o", filepath.Join(dir, name), "./services/"+name)
			cmd.Dir = root
			if out, err := cmd.CombinedOutput(); err != nil {
				return fmt.Errorf("go build ./services/%s: %w\n%s", name, err, out)
			}
			return nil
		})
	}
	return g.Wait()
}

// workspaceRoot is the directory of go.work, where ./services/<name> is.
func workspaceRoot(ctx context.Context) (string, error) {
	out, err := exec.CommandContext(ctx, "go", "env", "GOWORK").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOWORK: %w", err)
	}
	work := strings.TrimSpace(string(out))
	if work == "" || work == "off" {
		return "", errors.New("the services are built from the Go workspace: run inside the repository (go.work)")
	}
	return filepath.Dir(work), nil
}

// startProcess runs a built service as its own process with its flags and
// returns its address once its gRPC health reports SERVING.
func (s *Services) startProcess(name, addr, registryAddr string) (string, error) {
	addr, err := concreteAddr(addr)
	if err != nil {
		return "", fmt.Errorf("%s: %w", name, err)
	}
	cmd := exec.Command(filepath.Join(s.o.BinDir, name), s.flags(name, addr, registryAddr)...)
	cmd.Env = os.Environ()
	if s.o.ProcessLogLevel != "" {
		cmd.Env = append(cmd.Env, "PREDIKAT_LOG_LEVEL="+s.o.ProcessLogLevel)
	}
	cmd.Env = append(cmd.Env, s.o.ProcessEnv...)
	tail := &tailBuffer{}
	var out io.Writer = tail
	procOut := s.o.ProcessOutput
	if s.o.ProcessOutputFor != nil {
		procOut = s.o.ProcessOutputFor(name)
	}
	if procOut != nil {
		out = io.MultiWriter(tail, procOut)
	}
	cmd.Stdout, cmd.Stderr = out, out
	setDeathSignal(cmd)
	if err := cmd.Start(); err != nil {
		return "", fmt.Errorf("start %s: %w", name, err)
	}
	p := &process{cmd: cmd, exited: make(chan struct{})}
	s.g.Go(func() error {
		p.err = cmd.Wait()
		close(p.exited)
		if !p.stopping() {
			s.fail(fmt.Errorf("%s (pid %d) exited: %v; its last output:\n%s", name, cmd.Process.Pid, p.err, tail))
		}
		return nil
	})
	if err := WaitServing(s.ctx, addr, s.Credentials("reader"), p.exited, s.o.ReadyTimeout); err != nil {
		_ = p.stop()
		return "", fmt.Errorf("%s: %w; its last output:\n%s", name, err, tail)
	}
	s.serving(name, addr)
	s.add(&service{name: name, addr: addr, pid: cmd.Process.Pid, stop: p.stop, kill: p.kill})
	return addr, nil
}

// flags are a service's command line, as its main.go reads it.
func (s *Services) flags(name, addr, registryAddr string) []string {
	args := []string{"--addr", addr, "--nats", s.o.NATSURL, "--replicas", "1"}
	if name != Registry {
		args = append(args, "--registry", registryAddr)
	}
	if name == Ranking {
		args = append(args, "--redis", s.o.RedisAddr)
	}
	nc := s.NATSClient(name)
	args = append(args, "--nats-user", nc.User, "--nats-password-file", nc.PasswordFile)
	if nc.CAFile != "" {
		args = append(args, "--nats-ca", nc.CAFile)
	}
	if m := s.o.MetricsAddrs[name]; m != "" {
		args = append(args, "--metrics-addr", m)
	}
	sec := security.Dev(s.o.PKI, name)
	return append(args, "--tls-cert", sec.CertFile, "--tls-key", sec.KeyFile, "--tls-ca", sec.CAFile,
		"--policy", sec.PolicyFile, "--policy-poll", sec.PolicyPoll.String(),
		"--jwks-file", sec.JWT.JWKSFile, "--jwt-issuer", sec.JWT.Issuer, "--jwt-audience", sec.JWT.Audience)
}

// concreteAddr turns port 0 into a free port: a process reports no bound
// address, so the harness must know it beforehand.
func concreteAddr(addr string) (string, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", fmt.Errorf("address %q: %w", addr, err)
	}
	if port != "0" {
		return addr, nil
	}
	lis, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		return "", fmt.Errorf("free port on %s: %w", host, err)
	}
	defer lis.Close()
	return lis.Addr().String(), nil
}

// WaitServing polls the gRPC health of addr until it reports SERVING, the
// process exits, or the timeout passes.
func WaitServing(ctx context.Context, addr string, creds auth.ClientCredentials, exited <-chan struct{}, timeout time.Duration) error {
	opts, err := creds.DialOptions()
	if err != nil {
		return err
	}
	cc, err := grpcserver.Dial(addr, opts...)
	if err != nil {
		return err
	}
	defer cc.Close()
	health := healthpb.NewHealthClient(cc)
	deadline := time.After(timeout)
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		cctx, cancel := context.WithTimeout(ctx, time.Second)
		resp, err := health.Check(cctx, &healthpb.HealthCheckRequest{})
		cancel()
		if err == nil && resp.GetStatus() == healthpb.HealthCheckResponse_SERVING {
			return nil
		}
		select {
		case <-exited:
			return errors.New("exited before serving")
		case <-deadline:
			return fmt.Errorf("not serving after %s", timeout)
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
}

// process is a running service process.
type process struct {
	cmd    *exec.Cmd
	exited chan struct{}
	err    error // Wait's result, valid once exited is closed

	mu      sync.Mutex
	stopped bool
}

func (p *process) stopping() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stopped
}

// stop asks the process to drain with SIGTERM, kills it if it has not
// exited after stopGrace, and returns how it exited (nil: status 0).
func (p *process) stop() error {
	p.mu.Lock()
	p.stopped = true
	p.mu.Unlock()
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(stopGrace):
		_ = p.cmd.Process.Kill()
		<-p.exited
	}
	return p.err
}

// kill kills the process with SIGKILL, as a crash would (no drain, nothing
// flushed), and waits until it is gone; its exit is not a failure.
func (p *process) kill() {
	p.mu.Lock()
	p.stopped = true
	p.mu.Unlock()
	_ = p.cmd.Process.Kill()
	<-p.exited
}

// tailBuffer keeps the last lines a process wrote.
type tailBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

const tailBytes = 4 << 10

func (b *tailBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf.Write(p)
	if n := b.buf.Len(); n > 2*tailBytes {
		rest := b.buf.Bytes()[n-tailBytes:]
		b.buf = bytes.Buffer{}
		b.buf.Write(rest)
	}
	return len(p), nil
}

func (b *tailBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := b.buf.String()
	if len(s) > tailBytes {
		s = s[len(s)-tailBytes:]
	}
	return s
}

// SetDeathSignal kills cmd's process when the harness dies without
// stopping it, as the services' processes are: for a process of the
// harness's own (the bench's echo servers).
func SetDeathSignal(cmd *exec.Cmd) { setDeathSignal(cmd) }
