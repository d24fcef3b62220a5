package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/predikat-id/predikat/cmd/internal/stack"
	"github.com/predikat-id/predikat/pkg/platform/devpki"
	"github.com/predikat-id/predikat/pkg/platform/grpcserver"
	"github.com/predikat-id/predikat/pkg/platform/testenv/natstest"
)

// stackEnv runs the CLI against a real stack (NATS, redis-server and the
// three services in process), as a user types it.
type stackEnv struct {
	t   *testing.T
	st  *stack.Stack
	dir string
}

// startStack starts a stack in a temporary directory; each prepare runs
// on its dev PKI first (an edited policy, say), so the stack starts with it.
func startStack(t *testing.T, prepare ...func(*devpki.Files)) stackEnv {
	t.Helper()
	dir := t.TempDir()
	if len(prepare) > 0 {
		pki, err := devpki.Ensure(filepath.Join(dir, "pki"), nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range prepare {
			p(pki)
		}
	}
	st, err := stack.Start(t.Context(), stack.Options{Mode: stack.InProcess, DataDir: dir, Logger: natstest.Logger(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	return stackEnv{t: t, st: st, dir: dir}
}

// run runs one command line and returns its exit code and output (stdout
// and stderr together).
func (e stackEnv) run(args ...string) (int, string) {
	e.t.Helper()
	var out bytes.Buffer
	app := &App{Stdout: &out, Stderr: &out, Dial: grpcserver.Dial, Getenv: func(k string) string {
		return map[string]string{
			"PREDIKAT_PKI":             e.st.PKI().Dir,
			"PREDIKAT_REGISTRY_ADDR":   e.st.Registry,
			"PREDIKAT_ASSESSMENT_ADDR": e.st.Assessment,
			"PREDIKAT_RANKING_ADDR":    e.st.Ranking,
		}[k]
	}}
	ctx, cancel := context.WithTimeout(e.t.Context(), 30*time.Second)
	defer cancel()
	code := app.Run(ctx, args)
	return code, out.String()
}

// ok runs a command that must succeed and print want.
func (e stackEnv) ok(want string, args ...string) string {
	e.t.Helper()
	code, out := e.run(args...)
	if code != 0 || !strings.Contains(out, want) {
		e.t.Fatalf("predikat %s: exit %d, want output with %q:\n%s", strings.Join(args, " "), code, want, out)
	}
	return out
}

// write writes a file of the test and returns its path.
func (e stackEnv) write(name, body string) string {
	e.t.Helper()
	path := filepath.Join(e.dir, name)
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		e.t.Fatal(err)
	}
	return path
}
