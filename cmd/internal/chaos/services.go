package chaos

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/predikat-id/predikat/cmd/internal/stack"
	"github.com/predikat-id/predikat/pkg/platform/devpki"
	"github.com/predikat-id/predikat/pkg/platform/security"
)

// The harness's stack.Services runs each service with --replicas 1 and
// stops it only gracefully; the suite needs R3 streams on the cluster, two
// instances of a service side by side and kill -9, so it launches the
// binaries stack.Build made itself, with the same flags otherwise.

// instance is one service process.
type instance struct {
	name string // the service
	id   string // e.g. assessment-1
	addr string

	mu       sync.Mutex
	cmd      *exec.Cmd
	exited   chan struct{}
	expected bool // the harness killed or stopped it
}

// fleet is the service processes of a run.
type fleet struct {
	binDir, natsURLs, redisAddr, logDir string
	pki                                 *devpki.Files
	regAddr                             string

	mu        sync.Mutex
	instances []*instance
	// exits are the processes that ended without the harness asking.
	exits []string
	done  bool
}

func (f *fleet) flags(in *instance) []string {
	args := []string{"--addr", in.addr, "--nats", f.natsURLs, "--replicas", "3"}
	if in.name != stack.Registry {
		args = append(args, "--registry", f.regAddr)
	}
	if in.name == stack.Ranking {
		args = append(args, "--redis", f.redisAddr)
	}
	nc := stack.NATSClient(f.pki, in.name, true)
	args = append(args, "--nats-user", nc.User, "--nats-password-file", nc.PasswordFile, "--nats-ca", nc.CAFile)
	sec := security.Dev(f.pki, in.name)
	return append(args, "--tls-cert", sec.CertFile, "--tls-key", sec.KeyFile, "--tls-ca", sec.CAFile,
		"--policy", sec.PolicyFile, "--policy-poll", sec.PolicyPoll.String(),
		"--jwks-file", sec.JWT.JWKSFile, "--jwt-issuer", sec.JWT.Issuer, "--jwt-audience", sec.JWT.Audience)
}

// add starts a new instance of a service on a free port and waits until
// it serves.
func (f *fleet) add(ctx context.Context, name string) (*instance, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	n := 1
	for _, in := range f.instances {
		if in.name == name {
			n++
		}
	}
	in := &instance{name: name, id: fmt.Sprintf("%s-%d", name, n), addr: fmt.Sprintf("127.0.0.1:%d", port)}
	f.instances = append(f.instances, in)
	f.mu.Unlock()
	return in, f.start(ctx, in)
}

// start runs an instance's process (again) and waits until its health
// reports SERVING.
func (f *fleet) start(ctx context.Context, in *instance) error {
	if err := f.launch(in); err != nil {
		return err
	}
	return f.waitServing(ctx, in)
}

// launch runs an instance's process (again) without waiting for it.
func (f *fleet) launch(in *instance) error {
	out, err := os.OpenFile(f.logFile(in), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	cmd := exec.Command(filepath.Join(f.binDir, in.name), f.flags(in)...)
	cmd.Env = append(os.Environ(), "PREDIKAT_LOG_LEVEL=info")
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		_ = out.Close()
		return fmt.Errorf("start %s: %w", in.id, err)
	}
	exited := make(chan struct{})
	in.mu.Lock()
	in.cmd, in.exited, in.expected = cmd, exited, false
	in.mu.Unlock()
	go f.wait(in, cmd, out, exited)
	return nil
}

// waitServing waits until an instance's health reports SERVING.
func (f *fleet) waitServing(ctx context.Context, in *instance) error {
	in.mu.Lock()
	exited := in.exited
	in.mu.Unlock()
	if err := stack.WaitServing(ctx, in.addr, security.DevClient(f.pki, "reader"), exited, 2*time.Minute); err != nil {
		return fmt.Errorf("%s: %w (log %s)", in.id, err, f.logFile(in))
	}
	return nil
}

func (f *fleet) logFile(in *instance) string { return filepath.Join(f.logDir, in.id+".log") }

// wait reaps a process and records an exit nobody asked for.
func (f *fleet) wait(in *instance, cmd *exec.Cmd, out *os.File, exited chan struct{}) {
	err := cmd.Wait()
	_ = out.Close()
	in.mu.Lock()
	expected := in.expected
	in.mu.Unlock()
	close(exited)
	f.mu.Lock()
	defer f.mu.Unlock()
	if !expected && !f.done {
		f.exits = append(f.exits, fmt.Sprintf("%s exited on its own at %s: %v", in.id, time.Now().Format(time.TimeOnly), err))
	}
}

// kill kills an instance with SIGKILL and waits until it is gone.
func (in *instance) kill() {
	in.mu.Lock()
	cmd, exited := in.cmd, in.exited
	in.expected = true
	in.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Signal(syscall.SIGCONT)
	_ = cmd.Process.Kill()
	<-exited
}

// signal sends sig to an instance's process.
func (in *instance) signal(sig syscall.Signal) error {
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.cmd == nil {
		return fmt.Errorf("%s is not running", in.id)
	}
	return in.cmd.Process.Signal(sig)
}

// running reports whether the instance's process is alive.
func (in *instance) running() bool {
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.exited == nil {
		return false
	}
	select {
	case <-in.exited:
		return false
	default:
		return true
	}
}

// stop drains an instance with SIGTERM, killing it after a grace period.
func (in *instance) stop() {
	in.mu.Lock()
	cmd, exited := in.cmd, in.exited
	in.expected = true
	in.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-exited:
	case <-time.After(15 * time.Second):
		_ = cmd.Process.Kill()
		<-exited
	}
}

// of lists the instances of a service.
func (f *fleet) of(name string) []*instance {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []*instance
	for _, in := range f.instances {
		if in.name == name {
			out = append(out, in)
		}
	}
	return out
}

// reviveDead restarts every instance that exited on its own, so one
// service crash does not turn the rest of the run into noise.
func (f *fleet) reviveDead(ctx context.Context) error {
	all := f.all()
	var errs []error
	for _, in := range all {
		if !in.running() {
			errs = append(errs, f.start(ctx, in))
		}
	}
	return errors.Join(errs...)
}

// all is every instance, in the order they were added.
func (f *fleet) all() []*instance {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]*instance(nil), f.instances...)
}

func (f *fleet) unexpectedExits() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.exits...)
}

// stopAll stops every instance, last started first.
func (f *fleet) stopAll() {
	f.mu.Lock()
	f.done = true
	all := append([]*instance(nil), f.instances...)
	f.mu.Unlock()
	for i := len(all) - 1; i >= 0; i-- {
		all[i].stop()
	}
}
