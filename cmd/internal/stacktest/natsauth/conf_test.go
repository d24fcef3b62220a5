package natsauth

import (
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/nats-io/nats-server/v2/conf"

	"github.com/predikat-id/predikat/cmd/internal/stack"
	"github.com/predikat-id/predikat/pkg/platform/devpki"
)

// TestDevOverlayGrantsWhatTheStackGrants: the kind/minikube NATS
// (deploy/kubernetes/overlays/dev/nats.conf) has the stack's users with the
// same permissions, passwords from the environment, and TLS.
func TestDevOverlayGrantsWhatTheStackGrants(t *testing.T) {
	out, err := exec.Command("go", "env", "GOWORK").Output()
	if err != nil || strings.TrimSpace(string(out)) == "" {
		t.Skip("not in the workspace")
	}
	path := filepath.Join(filepath.Dir(strings.TrimSpace(string(out))), "deploy", "kubernetes", "overlays", "dev", "nats.conf")
	for _, u := range devpki.NATSUsers {
		t.Setenv("NATS_PASSWORD_"+strings.ToUpper(u), "pw-"+u)
	}
	m, err := conf.ParseFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := m["tls"].(map[string]any); !ok {
		t.Error("nats.conf has no tls block")
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
