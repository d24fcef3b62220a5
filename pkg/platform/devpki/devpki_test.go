package devpki

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"github.com/predikat-id/predikat/pkg/platform/auth"
	"go.yaml.in/yaml/v3"
)

// snapshot is every file of dir by name.
func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		out[e.Name()] = string(b)
	}
	return out
}

func ensureT(t *testing.T, dir string) *Files {
	t.Helper()
	f, err := Ensure(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestEnsureIsIdempotent(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "pki")
	ensureT(t, dir)
	first := snapshot(t, dir)
	ensureT(t, dir)
	second := snapshot(t, dir)
	want := []string{"admin-key.pem", "admin.pem", "assessment-key.pem", "assessment.pem", "ca-key.pem", "ca.pem",
		"jwks.json", "jwt-key.pem", "nats-admin.pass", "nats-assessment.pass", "nats-key.pem", "nats-ranking.pass",
		"nats-registry.pass", "nats-subscriber.pass", "nats-users.env", "nats.pem", "policy.yaml", "ranking-key.pem", "ranking.pem",
		"reader-key.pem", "reader.pem", "registry-key.pem", "registry.pem"}
	var names []string
	for n := range first {
		names = append(names, n)
	}
	slices.Sort(names)
	if !slices.Equal(names, want) {
		t.Errorf("files = %v, want %v", names, want)
	}
	for n, b := range first {
		if second[n] != b {
			t.Errorf("second Ensure changed %s", n)
		}
	}
}

func TestFileModes(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "pki")
	f := ensureT(t, dir)
	check := func(path string, want os.FileMode) {
		t.Helper()
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode().Perm(); got != want {
			t.Errorf("%s: mode %v, want %v", filepath.Base(path), got, want)
		}
	}
	check(dir, 0o700)
	check(f.CA(), 0o644)
	check(f.CAKey(), 0o600)
	check(f.JWTKey(), 0o600)
	check(f.JWKS(), 0o644)
	check(f.Policy(), 0o644)
	for _, s := range Services {
		check(f.ServiceCert(s), 0o644)
		check(f.ServiceKey(s), 0o600)
	}
	for _, c := range Clients {
		check(f.ClientCert(c), 0o644)
		check(f.ClientKey(c), 0o600)
	}
	check(f.NATSCert(), 0o644)
	check(f.NATSKey(), 0o600)
	seen := map[string]bool{}
	for _, u := range NATSUsers {
		check(f.NATSPassword(u), 0o600)
		pw, err := f.ReadNATSPassword(u)
		if err != nil {
			t.Fatal(err)
		}
		if seen[pw] {
			t.Errorf("NATS user %s shares its password", u)
		}
		seen[pw] = true
	}
}

func caPool(t *testing.T, f *Files) (*x509.CertPool, *x509.Certificate) {
	t.Helper()
	ca, err := loadCert(f.CA())
	if err != nil {
		t.Fatal(err)
	}
	if ca.Subject.CommonName != CAName || !ca.IsCA || ca.NotAfter.Before(time.Now().Add(9*365*24*time.Hour)) {
		t.Errorf("CA: %s, IsCA %v, expires %v", ca.Subject.CommonName, ca.IsCA, ca.NotAfter)
	}
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	return pool, ca
}

func TestCertificatesVerify(t *testing.T) {
	f := ensureT(t, t.TempDir())
	pool, _ := caPool(t, f)
	for _, s := range Services {
		cert, _, err := loadPair(f.ServiceCert(s), f.ServiceKey(s))
		if err != nil {
			t.Fatal(err)
		}
		for _, usage := range []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth} {
			for _, host := range []string{"localhost", s, "127.0.0.1", "::1"} {
				if _, err := cert.Verify(x509.VerifyOptions{Roots: pool, DNSName: host, KeyUsages: []x509.ExtKeyUsage{usage}}); err != nil {
					t.Errorf("%s as %v for %s: %v", s, usage, host, err)
				}
			}
		}
		if len(cert.URIs) != 1 || cert.URIs[0].String() != "spiffe://predikat/service/"+s {
			t.Errorf("%s: URIs %v", s, cert.URIs)
		}
		if d := time.Until(cert.NotAfter); d < 364*24*time.Hour || d > 366*24*time.Hour {
			t.Errorf("%s expires in %v, want a year", s, d)
		}
	}
	for _, c := range Clients {
		cert, _, err := loadPair(f.ClientCert(c), f.ClientKey(c))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := cert.Verify(x509.VerifyOptions{Roots: pool, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
			t.Errorf("%s as client: %v", c, err)
		}
		if _, err := cert.Verify(x509.VerifyOptions{Roots: pool, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}); err == nil {
			t.Errorf("%s verifies as a server certificate", c)
		}
		if len(cert.URIs) != 1 || cert.URIs[0].String() != "spiffe://predikat/user/"+c {
			t.Errorf("%s: URIs %v", c, cert.URIs)
		}
	}
}

// TestMutualTLS13 is the handshake the services will do: the admin client
// certificate against the registry's server certificate, both trusting the
// dev CA.
func TestMutualTLS13(t *testing.T) {
	f := ensureT(t, t.TempDir())
	pool, _ := caPool(t, f)
	srvCert, err := tls.LoadX509KeyPair(f.ServiceCert("registry"), f.ServiceKey("registry"))
	if err != nil {
		t.Fatal(err)
	}
	cliCert, err := tls.LoadX509KeyPair(f.ClientCert("admin"), f.ClientKey("admin"))
	if err != nil {
		t.Fatal(err)
	}
	a, b := net.Pipe()
	srv := tls.Server(a, &tls.Config{MinVersion: tls.VersionTLS13, Certificates: []tls.Certificate{srvCert}, ClientCAs: pool, ClientAuth: tls.RequireAndVerifyClientCert})
	cli := tls.Client(b, &tls.Config{MinVersion: tls.VersionTLS13, Certificates: []tls.Certificate{cliCert}, RootCAs: pool, ServerName: "127.0.0.1"})
	done := make(chan error, 1)
	go func() { done <- srv.Handshake() }()
	if err := cli.Handshake(); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	st := srv.ConnectionState()
	if st.Version != tls.VersionTLS13 || st.PeerCertificates[0].URIs[0].String() != UserURI("admin") {
		t.Errorf("version %x, peer %v", st.Version, st.PeerCertificates[0].URIs)
	}
	// The raw pipe, not the TLS conns: their close_notify would block on
	// the unbuffered pipe until a timeout.
	a.Close()
	b.Close()
}

func TestTokenVerifiesAgainstJWKS(t *testing.T) {
	f := ensureT(t, t.TempDir())
	token, err := IssueToken(f, "dev-assessor", []string{"assessor"}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(f.JWKS())
	if err != nil {
		t.Fatal(err)
	}
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(raw, &set); err != nil {
		t.Fatal(err)
	}
	parsed, err := jwt.ParseSigned(token, []jose.SignatureAlgorithm{jose.ES256})
	if err != nil {
		t.Fatal(err)
	}
	if len(parsed.Headers) != 1 || parsed.Headers[0].KeyID == "" {
		t.Fatalf("headers %+v: want one with a kid", parsed.Headers)
	}
	keys := set.Key(parsed.Headers[0].KeyID)
	if len(keys) != 1 || !keys[0].IsPublic() || keys[0].Algorithm != "ES256" {
		t.Fatalf("JWKS keys for kid %s: %+v", parsed.Headers[0].KeyID, keys)
	}
	var claims jwt.Claims
	var extra struct {
		Groups []string `json:"groups"`
	}
	if err := parsed.Claims(keys[0].Key, &claims, &extra); err != nil {
		t.Fatal(err)
	}
	if err := claims.Validate(jwt.Expected{Issuer: Issuer, AnyAudience: jwt.Audience{Audience}, Subject: "dev-assessor", Time: time.Now()}); err != nil {
		t.Error(err)
	}
	if claims.IssuedAt == nil || claims.NotBefore == nil || claims.Expiry == nil || claims.Expiry.Time().Sub(claims.IssuedAt.Time()) != time.Hour {
		t.Errorf("times: iat %v nbf %v exp %v", claims.IssuedAt, claims.NotBefore, claims.Expiry)
	}
	if !slices.Equal(extra.Groups, []string{"assessor"}) {
		t.Errorf("groups = %v", extra.Groups)
	}
	if err := claims.Validate(jwt.Expected{Issuer: Issuer, AnyAudience: jwt.Audience{Audience}, Time: time.Now().Add(2 * time.Hour)}); err == nil {
		t.Error("token still valid after its ttl")
	}

	// A token signed by another dev PKI's key does not verify.
	other := ensureT(t, t.TempDir())
	foreign, err := IssueToken(other, "x", nil, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	p2, err := jwt.ParseSigned(foreign, []jose.SignatureAlgorithm{jose.ES256})
	if err != nil {
		t.Fatal(err)
	}
	if err := p2.Claims(keys[0].Key, &claims); err == nil {
		t.Error("a token of another PKI verified")
	}
}

func TestIssueTokenErrors(t *testing.T) {
	f := ensureT(t, t.TempDir())
	if _, err := IssueToken(f, "", nil, time.Hour); err == nil {
		t.Error("empty subject accepted")
	}
	if _, err := IssueToken(f, "s", nil, 0); err == nil {
		t.Error("zero ttl accepted")
	}
	_, err := IssueToken(At(t.TempDir()), "s", nil, time.Hour)
	if err == nil || !strings.Contains(err.Error(), "make run") {
		t.Errorf("no PKI: %v", err)
	}
}

// TestRegeneratesOnlyWhatIsMissingOrExpired: an expired leaf is re-issued
// under the same CA, a deleted key re-issues that one certificate, an
// edited policy is kept, and a new CA re-issues everything.
func TestRegeneratesOnlyWhatIsMissingOrExpired(t *testing.T) {
	dir := t.TempDir()
	if _, err := ensure(dir, nil, time.Now().Add(-2*365*24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	old := snapshot(t, dir)
	f := ensureT(t, dir)
	now := snapshot(t, dir)
	if now["ca.pem"] != old["ca.pem"] || now["jwt-key.pem"] != old["jwt-key.pem"] || now["jwks.json"] != old["jwks.json"] {
		t.Error("a valid CA or signing key was replaced")
	}
	if now["registry.pem"] == old["registry.pem"] || now["admin.pem"] == old["admin.pem"] {
		t.Error("expired certificates were kept")
	}

	if err := os.Remove(f.ServiceKey("ranking")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(f.Policy(), []byte("roles: {}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	ensureT(t, dir)
	after := snapshot(t, dir)
	for n, b := range now {
		changed := after[n] != b
		wantChanged := n == "ranking.pem" || n == "ranking-key.pem" || n == "policy.yaml"
		if changed != wantChanged {
			t.Errorf("%s changed = %v, want %v", n, changed, wantChanged)
		}
	}
	if after["policy.yaml"] != "roles: {}\n" {
		t.Error("an edited policy was overwritten")
	}

	if err := os.Remove(f.CAKey()); err != nil {
		t.Fatal(err)
	}
	ensureT(t, dir)
	final := snapshot(t, dir)
	pool, _ := caPool(t, f)
	for _, s := range Services {
		if final[s+".pem"] == after[s+".pem"] {
			t.Errorf("%s kept its certificate from the old CA", s)
		}
		cert, _ := loadCert(f.ServiceCert(s))
		if _, err := cert.Verify(x509.VerifyOptions{Roots: pool}); err != nil {
			t.Errorf("%s under the new CA: %v", s, err)
		}
	}
}

func TestPolicyFile(t *testing.T) {
	f := ensureT(t, t.TempDir())
	raw, err := os.ReadFile(f.Policy())
	if err != nil {
		t.Fatal(err)
	}
	var p struct {
		Roles     map[string][]string `yaml:"roles"`
		Anonymous []string            `yaml:"anonymous"`
		Bindings  []struct {
			Principals []string `yaml:"principals"`
			Groups     []string `yaml:"groups"`
			Roles      []string `yaml:"roles"`
		} `yaml:"bindings"`
	}
	if err := yaml.Unmarshal(raw, &p); err != nil {
		t.Fatalf("%v\n%s", err, raw)
	}
	if !slices.Equal(p.Roles["admin"], []string{"*"}) || len(p.Roles) != len(Roles()) || p.Anonymous != nil {
		t.Errorf("roles %v, anonymous %v", p.Roles, p.Anonymous)
	}
	byPrincipal, byGroup := map[string][]string{}, map[string][]string{}
	for _, b := range p.Bindings {
		for _, pr := range b.Principals {
			byPrincipal[pr] = b.Roles
		}
		for _, g := range b.Groups {
			byGroup[g] = b.Roles
		}
	}
	for _, r := range Roles() {
		want := []string{r}
		if r == "institution" {
			// Bound only to one institution's account, never to a group
			// any token could claim.
			want = nil
		}
		if !slices.Equal(byGroup[r], want) {
			t.Errorf("group %s -> %v", r, byGroup[r])
		}
	}
	wantP := map[string]string{ServiceURI("assessment"): "service", ServiceURI("ranking"): "service", UserURI("admin"): "admin", UserURI("reader"): "reader",
		DevInstitutionAccount: "institution"}
	for pr, r := range wantP {
		if !slices.Equal(byPrincipal[pr], []string{r}) {
			t.Errorf("%s -> %v, want %s", pr, byPrincipal[pr], r)
		}
	}
	if len(byPrincipal) != len(wantP) {
		t.Errorf("principals bound: %v", byPrincipal)
	}
}

// TestPolicyLoadsWithAuth: the services' own parser takes the dev policy,
// and it gives each dev identity the roles it is meant to have.
func TestPolicyLoadsWithAuth(t *testing.T) {
	f := ensureT(t, t.TempDir())
	p, err := auth.LoadPolicy(f.Policy())
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		pr   auth.Principal
		want []string
	}{
		{auth.Principal{ID: UserURI("admin"), Via: auth.ViaMTLS}, []string{"admin"}},
		{auth.Principal{ID: UserURI("reader"), Via: auth.ViaMTLS}, []string{"reader"}},
		{auth.Principal{ID: ServiceURI("ranking"), Via: auth.ViaMTLS}, []string{"service"}},
		{auth.Principal{ID: "user:dev-assessor", Groups: []string{"assessor"}, Via: auth.ViaJWT}, []string{"assessor"}},
		{auth.AnonymousPrincipal, nil},
	}
	for _, c := range cases {
		if got := p.Roles(c.pr); !slices.Equal(got, c.want) {
			t.Errorf("%s: roles %v, want %v", c.pr.ID, got, c.want)
		}
	}
	// The institution account reads and objects for its own institution
	// only, and never unscoped (a leaderboard names no institution).
	hss := auth.Principal{ID: DevInstitutionAccount, Via: auth.ViaJWT}
	own := auth.Scope{Scheme: "ombudsman", Institution: DevInstitution}
	for _, perm := range []string{"assessments.read", "boards.read", "objections.file", "objections.read"} {
		if err := p.Check(hss, perm, own); err != nil {
			t.Errorf("institution account, %s on its own: %v", perm, err)
		}
		if err := p.Check(hss, perm, auth.Scope{Scheme: "ombudsman", Institution: "pemkab-tapin"}); err == nil {
			t.Errorf("institution account, %s on another institution: allowed", perm)
		}
		if err := p.Check(hss, perm, auth.Scope{Scheme: "ombudsman"}); err == nil {
			t.Errorf("institution account, %s on no institution: allowed", perm)
		}
	}
	if err := p.Check(hss, "objections.decide", own); err == nil {
		t.Error("institution account decides its own objection")
	}
	// Anyone reads ceremonies and verifies a certificate; only an award
	// officer plans and holds ceremonies.
	officer := auth.Principal{ID: "user:dev-officer", Groups: []string{"award-officer"}, Via: auth.ViaJWT}
	public := auth.Principal{ID: "user:dev-public", Groups: []string{"public"}, Via: auth.ViaJWT}
	for _, pr := range []auth.Principal{public, {ID: UserURI("reader"), Via: auth.ViaMTLS}} {
		for _, perm := range []string{"ceremonies.read", "certificates.verify", "awards.read"} {
			if err := p.Check(pr, perm, auth.Scope{}); err != nil {
				t.Errorf("%s, %s: %v", pr.ID, perm, err)
			}
		}
		if err := p.Check(pr, "ceremonies.manage", auth.Scope{}); err == nil {
			t.Errorf("%s manages ceremonies", pr.ID)
		}
	}
	if err := p.Check(officer, "ceremonies.manage", auth.Scope{}); err != nil {
		t.Errorf("award officer, ceremonies.manage: %v", err)
	}
}

// TestPolicySurveys: who may submit, state and read citizen satisfaction
// surveys under the dev policy, and a collector bound to one unit (as the
// deployed policies bind one) collects for that unit alone.
func TestPolicySurveys(t *testing.T) {
	f := ensureT(t, t.TempDir())
	raw, err := os.ReadFile(f.Policy())
	if err != nil {
		t.Fatal(err)
	}
	raw = append(raw, []byte("  - principals: [\"user:kiosk-kandangan\"]\n    roles: [survey-collector]\n    institutions: [puskesmas-kandangan]\n")...)
	p, err := auth.ParsePolicy("dev policy with a unit's collector", raw)
	if err != nil {
		t.Fatal(err)
	}
	own := auth.Scope{Scheme: "skm", Institution: "puskesmas-kandangan"}
	other := auth.Scope{Scheme: "skm", Institution: "puskesmas-angkinang"}
	round := auth.Scope{Scheme: "skm"}
	token := func(group string) auth.Principal {
		return auth.Principal{ID: "user:dev-" + group, Groups: []string{group}, Via: auth.ViaJWT}
	}
	kiosk := auth.Principal{ID: "user:kiosk-kandangan", Via: auth.ViaJWT}
	hss := auth.Principal{ID: DevInstitutionAccount, Via: auth.ViaJWT}
	cases := []struct {
		name  string
		pr    auth.Principal
		perm  string
		scope auth.Scope
		allow bool
	}{
		{"collector token submits", token("survey-collector"), "surveys.submit", own, true},
		{"collector token states a survey", token("survey-collector"), "surveys.define", own, true},
		{"collector token reads", token("survey-collector"), "surveys.read", own, true},
		{"collector token reads rounds", token("survey-collector"), "rounds.read", round, true},
		{"collector token records no assessment", token("survey-collector"), "assessments.record", own, false},
		{"bound collector, own unit", kiosk, "surveys.submit", own, true},
		{"bound collector states its unit's survey", kiosk, "surveys.define", own, true},
		{"bound collector reads its unit", kiosk, "surveys.read", own, true},
		{"bound collector, another unit", kiosk, "surveys.submit", other, false},
		{"bound collector states another unit's survey", kiosk, "surveys.define", other, false},
		{"bound collector reads another unit", kiosk, "surveys.read", other, false},
		{"bound collector lists the round", kiosk, "surveys.read", round, false},
		{"reader reads", token("reader"), "surveys.read", round, true},
		{"reader submits", token("reader"), "surveys.submit", own, false},
		{"reader states a survey", token("reader"), "surveys.define", own, false},
		{"institution account reads its own", hss, "surveys.read", auth.Scope{Scheme: "skm", Institution: DevInstitution}, true},
		{"institution account reads another", hss, "surveys.read", other, false},
		{"institution account submits", hss, "surveys.submit", auth.Scope{Scheme: "skm", Institution: DevInstitution}, false},
		{"public reads", token("public"), "surveys.read", own, false},
		{"public submits", token("public"), "surveys.submit", own, false},
		{"anonymous reads", auth.AnonymousPrincipal, "surveys.read", own, false},
		{"assessor submits", token("assessor"), "surveys.submit", own, false},
		{"operator reads", token("operator"), "surveys.read", own, false},
	}
	for _, c := range cases {
		err := p.Check(c.pr, c.perm, c.scope)
		if (err == nil) != c.allow {
			t.Errorf("%s: %s on %+v: %v, want allowed=%v", c.name, c.perm, c.scope, err, c.allow)
		}
	}
}
