package natsx_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nats-io/nats-server/v2/conf"

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

// TestShippedNATSConfigsSyncAlways: every nats.conf the project ships
// fsyncs before acknowledging. NATS's default (every two minutes) lets a
// single server acknowledge writes a power loss takes back, and JetStream
// is the system of record.
func TestShippedNATSConfigsSyncAlways(t *testing.T) {
	root := repoRoot(t)
	// The Kubernetes overlays' nats.conf include the users of a component:
	// cmd/internal/stacktest/natsauth checks them as the overlays build them.
	for _, rel := range []string{
		"deploy/compose/nats.conf",
	} {
		m, err := conf.ParseFile(filepath.Join(root, rel))
		if err != nil {
			t.Errorf("%s: %v", rel, err)
			continue
		}
		js, _ := m["jetstream"].(map[string]any)
		if js == nil {
			t.Errorf("%s: no jetstream block", rel)
			continue
		}
		v, ok := js["sync_interval"]
		if !ok {
			v = js["sync"]
		}
		if s, _ := v.(string); !strings.EqualFold(s, "always") {
			t.Errorf("%s: jetstream sync_interval is %v, want always", rel, v)
		}
	}
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
