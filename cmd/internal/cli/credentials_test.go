package cli

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	rankingv1 "github.com/predikat-id/predikat/pkg/gen/predikat/ranking/v1"
	"github.com/predikat-id/predikat/pkg/platform/auth"
	"github.com/predikat-id/predikat/pkg/platform/devpki"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/test/bufconn"
)

// callers records who called a TLS server: the client certificate's URI
// SAN (or "") and the authorization header (or "").
type callers struct {
	mu    sync.Mutex
	certs []string
	auths []string
}

func (c *callers) record(ctx context.Context, req any, _ *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
	c.mu.Lock()
	uri := ""
	if p, ok := peer.FromContext(ctx); ok {
		if ti, ok := p.AuthInfo.(credentials.TLSInfo); ok && len(ti.State.PeerCertificates) > 0 && len(ti.State.PeerCertificates[0].URIs) > 0 {
			uri = ti.State.PeerCertificates[0].URIs[0].String()
		}
	}
	md, _ := metadata.FromIncomingContext(ctx)
	c.certs = append(c.certs, uri)
	c.auths = append(c.auths, strings.Join(md.Get("authorization"), ","))
	c.mu.Unlock()
	return h(ctx, req)
}

// newTLSApp serves the ranking API over TLS 1.3 with the registry's dev
// certificate, taking a client certificate of the dev CA when one is
// given, and returns an App whose environment points at that dev PKI and
// whose credentials are the real ones (App.Credentials unset).
func newTLSApp(t *testing.T) (*App, *devpki.Files, *callers, *bytes.Buffer, *bytes.Buffer) {
	t.Helper()
	files, err := devpki.Ensure(filepath.Join(t.TempDir(), "pki"), nil)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := tls.LoadX509KeyPair(files.ServiceCert("ranking"), files.ServiceKey("ranking"))
	if err != nil {
		t.Fatal(err)
	}
	caPEM, err := os.ReadFile(files.CA())
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(caPEM)
	seen := &callers{}
	srv := grpc.NewServer(
		grpc.Creds(credentials.NewTLS(&tls.Config{MinVersion: tls.VersionTLS13, Certificates: []tls.Certificate{cert}, ClientCAs: pool, ClientAuth: tls.VerifyClientCertIfGiven})),
		grpc.UnaryInterceptor(seen.record))
	rankingv1.RegisterRankingServiceServer(srv, &fakeServer{})
	lis := bufconn.Listen(1 << 20)
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(srv.Stop)
	var out, errOut bytes.Buffer
	env := map[string]string{"USER": "tester", "PREDIKAT_PKI": files.Dir}
	app := &App{
		Stdout: &out, Stderr: &errOut,
		Getenv: func(k string) string { return env[k] },
		Dial: func(target string, opts ...grpc.DialOption) (*grpc.ClientConn, error) {
			opts = append(opts, grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return lis.DialContext(ctx) }))
			return grpc.NewClient("passthrough:///"+target, opts...)
		},
	}
	return app, files, seen, &out, &errOut
}

const boardArgs = "board --scheme ombudsman --year 2024 --group pemda --province 63"

// TestCallsPresentTheDevAdminCertificate: with no credential flag, the CLI
// dials over TLS with the dev PKI's CA and admin certificate; with --token
// it sends the token and no certificate.
func TestCallsPresentTheDevAdminCertificate(t *testing.T) {
	app, _, seen, out, errOut := newTLSApp(t)
	if code := app.Run(context.Background(), strings.Fields(boardArgs)); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if !strings.Contains(out.String(), "pemkab-hss") {
		t.Errorf("board:\n%s", out)
	}
	if len(seen.certs) == 0 || seen.certs[0] != devpki.UserURI("admin") || seen.auths[0] != "" {
		t.Errorf("server saw certs %q, authorization %q; want the admin certificate", seen.certs, seen.auths)
	}

	out.Reset()
	if code := app.Run(context.Background(), []string{"token", "--role", "reader"}); code != 0 {
		t.Fatalf("token: exit %d: %s", code, errOut)
	}
	token := strings.TrimSpace(out.String())
	seen.certs, seen.auths = nil, nil
	if code := app.Run(context.Background(), append(strings.Fields(boardArgs), "--token", token)); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if len(seen.certs) == 0 || seen.certs[0] != "" || seen.auths[0] != "Bearer "+token {
		t.Errorf("with --token the server saw certs %q, authorization %q", seen.certs, seen.auths)
	}
}

func TestTokenCommand(t *testing.T) {
	app, files, _, out, errOut := newTLSApp(t)
	if code := app.Run(context.Background(), strings.Fields("token --role assessor,round-manager --ttl 2h")); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	raw, err := os.ReadFile(files.JWKS())
	if err != nil {
		t.Fatal(err)
	}
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(raw, &set); err != nil {
		t.Fatal(err)
	}
	tok, err := jwt.ParseSigned(strings.TrimSpace(out.String()), []jose.SignatureAlgorithm{jose.ES256})
	if err != nil {
		t.Fatal(err)
	}
	keys := set.Key(tok.Headers[0].KeyID)
	if len(keys) != 1 {
		t.Fatalf("kid %q not in the JWKS", tok.Headers[0].KeyID)
	}
	var claims jwt.Claims
	var extra struct {
		Groups []string `json:"groups"`
	}
	if err := tok.Claims(keys[0].Key, &claims, &extra); err != nil {
		t.Fatal(err)
	}
	if err := claims.Validate(jwt.Expected{Issuer: devpki.Issuer, AnyAudience: jwt.Audience{devpki.Audience}, Subject: "dev-assessor+round-manager", Time: time.Now()}); err != nil {
		t.Error(err)
	}
	if !slices.Equal(extra.Groups, []string{"assessor", "round-manager"}) || claims.Expiry.Time().Sub(claims.IssuedAt.Time()) != 2*time.Hour {
		t.Errorf("groups %v, lifetime %v", extra.Groups, claims.Expiry.Time().Sub(claims.IssuedAt.Time()))
	}

	cases := []struct {
		args   string
		code   int
		stderr string
	}{
		{"token", 2, "missing --role"},
		{"token --role institution", 2, "--subject hss"},
		{"token --role reader --ttl -1h", 2, "--ttl must be positive"},
		{"token --role reader --pki " + t.TempDir(), 1, "make run"},
		{"token --role round-manger", 2, `--role "round-manger": no binding of ` + files.Policy() + ` gives that group a role, so every call with the token would be refused; the roles it gives by group: `},
		{"token --role reader,round-manger", 2, `"round-manger"`},
	}
	for _, c := range cases {
		errOut.Reset()
		if code := app.Run(context.Background(), strings.Fields(c.args)); code != c.code || !strings.Contains(errOut.String(), c.stderr) {
			t.Errorf("%s: exit %d, stderr %q; want %d and %q", c.args, code, errOut, c.code, c.stderr)
		}
	}
	// A group the policy binds stays a role to issue when everyone holds
	// its roles anonymously too (the operator opened published results).
	pol, err := os.ReadFile(files.Policy())
	if err != nil {
		t.Fatal(err)
	}
	open := strings.Replace(string(pol), "# anonymous: [public] would", "anonymous: [public]\n# that would", 1)
	if open == string(pol) {
		t.Fatal("the dev policy no longer suggests anonymous: [public]")
	}
	if err := os.WriteFile(files.Policy(), []byte(open), 0o600); err != nil {
		t.Fatal(err)
	}
	errOut.Reset()
	if code := app.Run(context.Background(), strings.Fields("token --role public")); code != 0 {
		t.Errorf("token --role public with anonymous public: exit %d, %s", code, errOut)
	}
}

// TestCredentialFlags: what the flags and environment resolve to.
func TestCredentialFlags(t *testing.T) {
	cases := []struct {
		args string
		env  map[string]string
		want auth.ClientCredentials
	}{
		{"", nil, auth.ClientCredentials{CAFile: ".predikat/pki/ca.pem", CertFile: ".predikat/pki/admin.pem", KeyFile: ".predikat/pki/admin-key.pem"}},
		{"", map[string]string{"PREDIKAT_DATA": "/d"}, auth.ClientCredentials{CAFile: "/d/pki/ca.pem", CertFile: "/d/pki/admin.pem", KeyFile: "/d/pki/admin-key.pem"}},
		{"--pki /p", map[string]string{"PREDIKAT_PKI": "/e"}, auth.ClientCredentials{CAFile: "/p/ca.pem", CertFile: "/p/admin.pem", KeyFile: "/p/admin-key.pem"}},
		{"--token T", map[string]string{"PREDIKAT_PKI": "/e"}, auth.ClientCredentials{CAFile: "/e/ca.pem", Token: "T"}},
		{"--cert c.pem --key k.pem --ca ca.pem", nil, auth.ClientCredentials{CAFile: "ca.pem", CertFile: "c.pem", KeyFile: "k.pem"}},
		{"", map[string]string{"PREDIKAT_CA": "a", "PREDIKAT_CERT": "b", "PREDIKAT_KEY": "c", "PREDIKAT_TOKEN": "d"}, auth.ClientCredentials{CAFile: "a", CertFile: "b", KeyFile: "c", Token: "d"}},
	}
	for _, c := range cases {
		app, _, _, errOut := newTestApp(t)
		app.Getenv = func(k string) string { return c.env[k] }
		var got auth.ClientCredentials
		app.Credentials = func(cc auth.ClientCredentials) ([]grpc.DialOption, error) {
			got = cc
			return nil, nil
		}
		if code := app.Run(context.Background(), append(strings.Fields(boardArgs), strings.Fields(c.args)...)); code != 0 {
			t.Fatalf("%s: exit %d: %s", c.args, code, errOut)
		}
		if got != c.want {
			t.Errorf("%q %v: credentials %+v, want %+v", c.args, c.env, got, c.want)
		}
	}
}

// TestMissingPKI: without a dev PKI a call fails saying how to get one, and
// what needs no call still works.
func TestMissingPKI(t *testing.T) {
	app, _, _, errOut := newTestApp(t)
	app.Credentials = nil
	app.Getenv = func(k string) string { return map[string]string{"PREDIKAT_PKI": filepath.Join(t.TempDir(), "none")}[k] }
	if code := app.Run(context.Background(), strings.Fields(boardArgs)); code != 1 {
		t.Errorf("exit %d", code)
	}
	if !strings.Contains(errOut.String(), "ca.pem") || !strings.Contains(errOut.String(), "make run") {
		t.Errorf("stderr = %q", errOut)
	}
	errOut.Reset()
	if code := app.Run(context.Background(), []string{"institutions", "import"}); code != 2 || !strings.Contains(errOut.String(), "missing FILE.csv") {
		t.Errorf("usage mistake without a PKI: exit %d: %s", code, errOut)
	}
}
