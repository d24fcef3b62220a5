package natsauth

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/nats-io/nats-server/v2/conf"

	"github.com/predikat-id/predikat/cmd/internal/deploycheck"
	"github.com/predikat-id/predikat/cmd/internal/stack"
	"github.com/predikat-id/predikat/pkg/platform/devpki"
)

// natsConf writes the nats-config ConfigMap an overlay builds (nats.conf
// and the users.conf of the nats-users component) to a directory and
// parses nats.conf there, includes and all, as the server in the pod does.
func natsConf(t *testing.T, overlay string) map[string]any {
	t.Helper()
	res, err := deploycheck.Build(overlay)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, r := range res {
		if r.GetKind() != "ConfigMap" || !strings.HasPrefix(r.GetName(), "nats-config") {
			continue
		}
		for name, body := range r.GetDataMap() {
			if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
				t.Fatal(err)
			}
		}
	}
	m, err := conf.ParseFile(filepath.Join(dir, "nats.conf"))
	if err != nil {
		t.Fatalf("%s nats.conf: %v", overlay, err)
	}
	return m
}

// TestOverlaysGrantWhatTheStackGrants: the NATS of each Kubernetes overlay
// (dev: one server; prod: three) has the stack's users with the same
// permissions, passwords from the environment, TLS, and fsync before every
// acknowledgement.
func TestOverlaysGrantWhatTheStackGrants(t *testing.T) {
	for _, u := range devpki.NATSUsers {
		t.Setenv("NATS_PASSWORD_"+strings.ToUpper(u), "pw-"+u)
	}
	t.Setenv("POD_NAME", "nats-0")
	for _, overlay := range []string{"overlays/dev", "overlays/prod"} {
		t.Run(overlay, func(t *testing.T) { checkConf(t, natsConf(t, overlay)) })
	}
	// Production is a cluster of the StatefulSet's three pods, whose routes
	// are mutual TLS.
	cluster, _ := natsConf(t, "overlays/prod")["cluster"].(map[string]any)
	if routes := strs(cluster["routes"]); len(routes) != 3 {
		t.Errorf("prod cluster routes %v, want the three pods", routes)
	}
	if tls, _ := cluster["tls"].(map[string]any); tls["verify"] != true {
		t.Errorf("prod cluster tls %v: routes must verify each other's certificate", tls)
	}
}

func checkConf(t *testing.T, m map[string]any) {
	if _, ok := m["tls"].(map[string]any); !ok {
		t.Error("nats.conf has no tls block")
	}
	js, _ := m["jetstream"].(map[string]any)
	if s, _ := js["sync_interval"].(string); s != "always" {
		t.Errorf("jetstream sync_interval %v, want always: JetStream is the system of record", js["sync_interval"])
	}
	authz, _ := m["authorization"].(map[string]any)
	users, _ := authz["users"].([]any)
	var names []string
	for _, raw := range users {
		u, _ := raw.(map[string]any)
		name, _ := u["user"].(string)
		names = append(names, name)
		if u["password"] != "pw-"+name {
			t.Errorf("%s: password %v, want it from NATS_PASSWORD_%s", name, u["password"], strings.ToUpper(name))
		}
		want, err := stack.NATSPermissions(name)
		if err != nil {
			t.Error(err)
			continue
		}
		perms, _ := u["permissions"].(map[string]any)
		if want == nil {
			if perms != nil {
				t.Errorf("%s: permissions %v, want none (everything)", name, perms)
			}
			continue
		}
		check := func(what string, got any, want []string) {
			if !slices.Equal(strs(got), want) {
				t.Errorf("%s %s = %v, want %v", name, what, strs(got), want)
			}
		}
		pub, _ := perms["publish"].(map[string]any)
		sub, _ := perms["subscribe"].(map[string]any)
		check("publish allow", pub["allow"], want.Publish.Allow)
		check("publish deny", pub["deny"], want.Publish.Deny)
		check("subscribe allow", sub["allow"], want.Subscribe.Allow)
		check("subscribe deny", sub["deny"], want.Subscribe.Deny)
	}
	if !slices.Equal(names, devpki.NATSUsers) {
		t.Errorf("users %v, want %v", names, devpki.NATSUsers)
	}
}

func strs(v any) []string {
	l, _ := v.([]any)
	var out []string
	for _, x := range l {
		s, _ := x.(string)
		out = append(out, s)
	}
	return out
}
