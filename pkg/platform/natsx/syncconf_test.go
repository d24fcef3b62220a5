package natsx_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/predikat-id/predikat/pkg/platform/natsx"
)

// repoRoot is the workspace root, where deploy/ lives; tests outside the
// workspace (a module on its own) skip.
func repoRoot(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("go", "env", "GOWORK").Output()
	gowork := strings.TrimSpace(string(out))
	if err != nil || gowork == "" || gowork == "off" {
		t.Skip("not in the workspace")
	}
	return filepath.Dir(gowork)
}

// TestComposeUsesItsNATSConfig: the compose NATS runs with
// deploy/compose/nats.conf (nats-server has no flag for sync_interval, so
// a command line alone would fall back to the default).
func TestComposeUsesItsNATSConfig(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(repoRoot(t), "deploy", "compose", "compose.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	c := string(b)
	if !strings.Contains(c, `"--config", "/etc/nats/nats.conf"`) || !strings.Contains(c, "./nats.conf:/etc/nats/nats.conf:ro") {
		t.Error("compose.yaml's nats service does not run with ./nats.conf mounted at /etc/nats/nats.conf")
	}
}

// TestStartEmbeddedSyncAlways: the embedded server of the dev stack
// really fsyncs every write when asked to.
func TestStartEmbeddedSyncAlways(t *testing.T) {
	t.Parallel()
	srv, err := natsx.StartEmbedded(natsx.EmbeddedConfig{Port: -1, StoreDir: t.TempDir(), SyncAlways: true, AllowAnonymous: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Shutdown(); srv.WaitForShutdown() })
	if cfg := srv.JetStreamConfig(); cfg == nil || !cfg.SyncAlways {
		t.Fatalf("JetStream config %+v, want SyncAlways", cfg)
	}
}
