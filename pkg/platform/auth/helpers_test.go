package auth

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	assessmentv1 "github.com/predikat-id/predikat/pkg/gen/predikat/assessment/v1"
	rankingv1 "github.com/predikat-id/predikat/pkg/gen/predikat/ranking/v1"
	registryv1 "github.com/predikat-id/predikat/pkg/gen/predikat/registry/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
)

// testPKI is a CA that issues server and client certificates into files.
type testPKI struct {
	dir    string
	cert   *x509.Certificate
	key    *ecdsa.PrivateKey
	CAFile string
	serial int64
}

func newPKI(t *testing.T, name string) *testPKI {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: name},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	p := &testPKI{dir: dir, cert: cert, key: key, CAFile: filepath.Join(dir, name+"-ca.pem"), serial: 1}
	writePEM(t, p.CAFile, "CERTIFICATE", der)
	return p
}

func writePEM(t *testing.T, path, typ string, der []byte) {
	t.Helper()
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
}

// issue writes a certificate and key for file name; uri (a URI SAN) and
// cn are optional; server certificates are valid for 127.0.0.1.
func (p *testPKI) issue(t *testing.T, name, uri, cn string, server bool) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	p.serial++
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(p.serial),
		Subject:      pkix.Name{CommonName: cn},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	if server {
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
		tmpl.IPAddresses = []net.IP{net.ParseIP("127.0.0.1")}
	}
	if uri != "" {
		u, err := url.Parse(uri)
		if err != nil {
			t.Fatal(err)
		}
		tmpl.URIs = []*url.URL{u}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, p.cert, &key.PublicKey, p.key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(p.dir, name+".pem"), filepath.Join(p.dir, name+"-key.pem")
	writePEM(t, certFile, "CERTIFICATE", der)
	writePEM(t, keyFile, "PRIVATE KEY", kder)
	return certFile, keyFile
}

// testIssuer signs tokens with ES256 and publishes its JWKS.
type testIssuer struct {
	key *ecdsa.PrivateKey
	kid string
}

const (
	testIss = "https://id.predikat.test"
	testAud = "predikat-api"
)

func newIssuer(t *testing.T, kid string) *testIssuer {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return &testIssuer{key: key, kid: kid}
}

func (i *testIssuer) jwks(t *testing.T) []byte {
	t.Helper()
	set := jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{
		Key: &i.key.PublicKey, KeyID: i.kid, Algorithm: "ES256", Use: "sig",
	}}}
	data, err := json.Marshal(set)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// claims are the claims of a valid token for sub; tests spoil them.
func validClaims(sub string, groups ...string) map[string]any {
	now := time.Now()
	return map[string]any{
		"iss": testIss, "aud": []string{testAud}, "sub": sub,
		"iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(time.Hour).Unix(),
		"groups": groups,
	}
}

func (i *testIssuer) sign(t *testing.T, claims map[string]any) string {
	t.Helper()
	return signWith(t, jose.SigningKey{Algorithm: jose.ES256, Key: i.key}, i.kid, claims)
}

func signWith(t *testing.T, key jose.SigningKey, kid string, claims map[string]any) string {
	t.Helper()
	opts := (&jose.SignerOptions{}).WithType("JWT")
	if kid != "" {
		opts = opts.WithHeader("kid", kid)
	}
	s, err := jose.NewSigner(key, opts)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := jwt.Signed(s).Claims(claims).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func writeFile(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

// seen records the principal the last handler saw.
type seen struct {
	mu sync.Mutex
	p  Principal
	ok bool
}

func (s *seen) record(ctx context.Context) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.p, s.ok = FromContext(ctx)
}

func (s *seen) get() (Principal, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.p, s.ok
}

type testRegistry struct {
	registryv1.UnimplementedRegistryServiceServer
	seen *seen
}

func (r *testRegistry) GetRegion(ctx context.Context, _ *registryv1.GetRegionRequest) (*registryv1.GetRegionResponse, error) {
	r.seen.record(ctx)
	return &registryv1.GetRegionResponse{}, nil
}

func (r *testRegistry) UpdateInstitution(ctx context.Context, _ *registryv1.UpdateInstitutionRequest) (*registryv1.UpdateInstitutionResponse, error) {
	r.seen.record(ctx)
	return &registryv1.UpdateInstitutionResponse{}, nil
}

func (r *testRegistry) WatchInstitutions(_ *registryv1.WatchInstitutionsRequest, s grpc.ServerStreamingServer[registryv1.WatchInstitutionsResponse]) error {
	r.seen.record(s.Context())
	return s.Send(&registryv1.WatchInstitutionsResponse{SnapshotDone: true})
}

type testAssessment struct {
	assessmentv1.UnimplementedAssessmentServiceServer
	seen *seen
}

func (a *testAssessment) RecordAssessment(ctx context.Context, _ *assessmentv1.RecordAssessmentRequest) (*assessmentv1.RecordAssessmentResponse, error) {
	a.seen.record(ctx)
	return &assessmentv1.RecordAssessmentResponse{}, nil
}

func (a *testAssessment) RevokeAward(ctx context.Context, _ *assessmentv1.RevokeAwardRequest) (*assessmentv1.RevokeAwardResponse, error) {
	a.seen.record(ctx)
	return &assessmentv1.RevokeAwardResponse{}, nil
}

type testRanking struct {
	rankingv1.UnimplementedRankingServiceServer
	seen *seen
}

func (r *testRanking) GetLeaderboard(ctx context.Context, _ *rankingv1.GetLeaderboardRequest) (*rankingv1.GetLeaderboardResponse, error) {
	r.seen.record(ctx)
	return &rankingv1.GetLeaderboardResponse{}, nil
}

// startServer serves the test services on loopback with ServerTLS and the
// interceptors; it returns the address.
func startServer(t *testing.T, pki *testPKI, a *Authenticator, lp *LivePolicy, register func(*grpc.Server), opts ...Option) string {
	t.Helper()
	certFile, keyFile := pki.issue(t, "server", "", "server", true)
	cfg, err := ServerTLS(certFile, keyFile, pki.CAFile)
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer(
		grpc.Creds(credentials.NewTLS(cfg)),
		grpc.ChainUnaryInterceptor(UnaryServerInterceptor(a, lp, opts...)),
		grpc.ChainStreamInterceptor(StreamServerInterceptor(a, lp, opts...)),
	)
	register(srv)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(srv.Stop)
	return lis.Addr().String()
}

func registerAll(s *seen) func(*grpc.Server) {
	return func(srv *grpc.Server) {
		registryv1.RegisterRegistryServiceServer(srv, &testRegistry{seen: s})
		assessmentv1.RegisterAssessmentServiceServer(srv, &testAssessment{seen: s})
		rankingv1.RegisterRankingServiceServer(srv, &testRanking{seen: s})
	}
}

func dial(t *testing.T, addr string, c ClientCredentials) *grpc.ClientConn {
	t.Helper()
	opts, err := c.DialOptions()
	if err != nil {
		t.Fatal(err)
	}
	conn, err := grpc.NewClient(addr, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

func mustPolicy(t *testing.T, src string) *Policy {
	t.Helper()
	p, err := ParsePolicy("policy.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	return p
}
