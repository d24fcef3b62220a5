package auth

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestPolicyCheck(t *testing.T) {
	p := mustPolicy(t, strings.Replace(testPolicy, "%ANON%", "anonymous: [public]", 1))
	omb := Principal{ID: "spiffe://predikat/ministry/ombudsman", Via: ViaMTLS}
	alice := Principal{ID: "user:alice", Groups: []string{"pemkab"}, Via: ViaJWT}
	ops := Principal{ID: "spiffe://predikat/ops", Via: ViaMTLS}
	cases := []struct {
		name string
		pr   Principal
		perm string
		sc   Scope
		ok   bool
	}{
		{"anonymous public", AnonymousPrincipal, "registry.read", Scope{}, true},
		{"anonymous write", AnonymousPrincipal, "assessments.record", Scope{Scheme: "ombudsman"}, false},
		{"known gets public too", omb, "registry.read", Scope{}, true},
		{"scheme in scope", omb, "assessments.record", Scope{Scheme: "ombudsman", Institution: "any"}, true},
		{"scheme out of scope", omb, "assessments.record", Scope{Scheme: "sakip"}, false},
		{"scheme not named", omb, "assessments.record", Scope{}, false},
		{"group institution", alice, "assessments.record", Scope{Scheme: "sakip", Institution: "pemkab-hss"}, true},
		{"group other institution", alice, "assessments.record", Scope{Institution: "pemkab-hst"}, false},
		{"wildcard", ops, "boards.rebuild", Scope{}, true},
		{"unknown principal", Principal{ID: "user:bob", Via: ViaJWT}, "assessments.read", Scope{}, false},
	}
	for _, c := range cases {
		err := p.Check(c.pr, c.perm, c.sc)
		if (err == nil) != c.ok {
			t.Errorf("%s: got %v", c.name, err)
		}
		var de *DeniedError
		if err != nil && (!errors.As(err, &de) || !strings.Contains(err.Error(), c.perm)) {
			t.Errorf("%s: error %v does not name the permission", c.name, err)
		}
	}
	if got := strings.Join(p.Roles(omb), ","); got != "assessor,boards,public" {
		t.Errorf("roles: %s", got)
	}
}

func TestPolicyErrorsNameFileAndLine(t *testing.T) {
	cases := map[string]struct{ src, want string }{
		"unknown top key": {"roles:\n  a: [x]\nrole_bindings: []\n", "policy.yaml:3: unknown key \"role_bindings\""},
		"unknown binding key": {"roles:\n  a: [x]\nbindings:\n  - principals: [p]\n    roles: [a]\n    scheme: [s]\n",
			"policy.yaml:6: unknown key \"scheme\""},
		"no subject":    {"roles:\n  a: [x]\nbindings:\n  - roles: [a]\n", "policy.yaml:4: binding names neither principals nor groups"},
		"undefined":     {"roles:\n  a: [x]\nbindings:\n  - groups: [g]\n    roles: [a, b]\n", "policy.yaml:5: role \"b\" is not defined"},
		"anon role":     {"roles:\n  a: [x]\nanonymous: [public]\n", "policy.yaml:3: role \"public\" is not defined"},
		"empty perm":    {"roles:\n  a: [x, \"\"]\n", "policy.yaml:2: empty permission"},
		"empty roles":   {"roles:\n  a: []\n", "policy.yaml:2: permissions of role a is an empty list"},
		"empty scope":   {"roles:\n  a: [x]\nbindings:\n  - groups: [g]\n    roles: [a]\n    schemes: []\n", "policy.yaml:6: schemes is an empty list"},
		"dup role":      {"roles:\n  a: [x]\n  a: [y]\n", "policy.yaml:3: role \"a\" defined twice"},
		"no roles":      {"anonymous: []\n", "policy.yaml:1: roles is required"},
		"empty":         {"", "policy.yaml:1: empty policy"},
		"bad yaml":      {"roles: [\n", "policy.yaml"},
		"not a list":    {"roles:\n  a: x\n", "policy.yaml:2: permissions of role a must be a list"},
		"no grant":      {"roles:\n  a: [x]\nbindings:\n  - groups: [g]\n", "policy.yaml:4: binding grants no roles"},
		"space in perm": {"roles:\n  a: [\"x y\"]\n", "policy.yaml:2: permission \"x y\" contains white space"},
		"bad province": {"roles:\n  a: [x]\nbindings:\n  - groups: [g]\n    roles: [a]\n    provinces: [Kalsel]\n",
			"policy.yaml:6: province \"Kalsel\" is not a two-digit Kemendagri province code"},
	}
	for name, c := range cases {
		_, err := ParsePolicy("policy.yaml", []byte(c.src))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want %q", name, err, c.want)
		}
	}
}

func TestLoadPolicy(t *testing.T) {
	path := filepath.Join(t.TempDir(), "policy.yaml")
	writeFile(t, path, []byte("roles:\n  a: [x]\nbindings:\n  - groups: [g]\n    roles: [nope]\n"))
	_, err := LoadPolicy(path)
	if err == nil || !strings.HasPrefix(err.Error(), path+":5:") {
		t.Fatalf("got %v", err)
	}
}

// syncBuffer is a log sink safe for the watcher goroutine.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestWatchPolicy(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "policy.yaml")
	writeFile(t, path, []byte("roles:\n  r: [a]\nbindings:\n  - groups: [g]\n    roles: [r]\n"))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var logs syncBuffer
	lp, err := WatchPolicy(ctx, path, 10*time.Millisecond, slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	g := Principal{ID: "user:x", Groups: []string{"g"}, Via: ViaJWT}
	if lp.Current().Check(g, "b", Scope{}) == nil {
		t.Fatal("b granted before the change")
	}
	// Swap the file the way Kubernetes does: a new file renamed over it.
	next := filepath.Join(dir, "next.yaml")
	writeFile(t, next, []byte("roles:\n  r: [a, b]\nbindings:\n  - groups: [g]\n    roles: [r]\n"))
	if err := os.Rename(next, path); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { return lp.Current().Check(g, "b", Scope{}) == nil })

	writeFile(t, path, []byte("roles:\n  r: [a, b]\nbindings:\n  - groups: [g]\n    roles: [missing]\n"))
	waitFor(t, func() bool { return strings.Contains(logs.String(), path+":5:") })
	if err := lp.Current().Check(g, "b", Scope{}); err != nil {
		t.Fatalf("a broken update replaced the policy: %v", err)
	}

	writeFile(t, path, []byte("{{{"))
	if _, err := WatchPolicy(ctx, path, time.Second, nil); err == nil {
		t.Fatal("WatchPolicy accepted an invalid file at start")
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in 5s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}
