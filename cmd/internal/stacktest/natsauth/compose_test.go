package natsauth

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nats-io/nats-server/v2/conf"
	"gopkg.in/yaml.v3"

	"github.com/predikat-id/predikat/pkg/platform/devpki"
)

const composeDir = "../../../../deploy/compose"

// TestComposeGrantsWhatTheStackGrants: the compose stack's NATS, as its
// container reads it (nats.conf with the nats-users component's users.conf
// beside it, the passwords from the environment), has the stack's users
// with their permissions, TLS and fsync before every acknowledgement; and
// every service connects over TLS as its own user.
func TestComposeGrantsWhatTheStackGrants(t *testing.T) {
	for _, u := range devpki.NATSUsers {
		t.Setenv("NATS_PASSWORD_"+strings.ToUpper(u), "pw-"+u)
	}
	dir := t.TempDir()
	for dst, src := range map[string]string{
		"nats.conf":  filepath.Join(composeDir, "nats.conf"),
		"users.conf": "../../../../deploy/kubernetes/components/nats-users/users.conf",
	} {
		b, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, dst), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	m, err := conf.ParseFile(filepath.Join(dir, "nats.conf"))
	if err != nil {
		t.Fatalf("compose nats.conf: %v", err)
	}
	checkConf(t, m)

	var c struct {
		Services map[string]struct {
			EnvFile     any               `yaml:"env_file"`
			Volumes     []string          `yaml:"volumes"`
			Environment map[string]string `yaml:"environment"`
		} `yaml:"services"`
	}
	raw, err := os.ReadFile(filepath.Join(composeDir, "compose.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(raw, &c); err != nil {
		t.Fatal(err)
	}
	nats := c.Services["nats"]
	if nats.EnvFile != "../../.predikat/pki/nats-users.env" {
		t.Errorf("nats env_file %v: the passwords come from the dev PKI's nats-users.env", nats.EnvFile)
	}
	mounted := strings.Join(nats.Volumes, " ")
	for _, want := range []string{"users.conf:/etc/nats/users.conf", ".predikat/pki:/pki"} {
		if !strings.Contains(mounted, want) {
			t.Errorf("nats mounts %v, not %s", nats.Volumes, want)
		}
	}
	for _, svc := range []string{"registry", "assessment", "ranking"} {
		env := c.Services[svc].Environment
		want := map[string]string{
			"PREDIKAT_NATS_URL": "tls://nats:4222", "PREDIKAT_NATS_USER": svc,
			"PREDIKAT_NATS_PASSWORD_FILE": "/pki/nats-" + svc + ".pass", "PREDIKAT_NATS_CA": "/pki/ca.pem",
		}
		for k, v := range want {
			if env[k] != v {
				t.Errorf("%s %s = %q, want %q", svc, k, env[k], v)
			}
		}
	}
}

// The env file the compose NATS reads holds every user's password, as the
// password files the services read say.
func TestDevPKIWritesTheNATSEnv(t *testing.T) {
	f, err := devpki.Ensure(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(f.NATSEnv())
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(f.NATSEnv())
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("%s: mode %v, want 0600 (it holds secrets)", f.NATSEnv(), st.Mode())
	}
	for _, u := range devpki.NATSUsers {
		pw, err := f.ReadNATSPassword(u)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(raw), "\nNATS_PASSWORD_"+strings.ToUpper(u)+"="+pw+"\n") {
			t.Errorf("no password line for %s in %s", u, f.NATSEnv())
		}
	}
}
