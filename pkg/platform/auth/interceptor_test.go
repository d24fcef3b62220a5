package auth

import (
	"context"
	"crypto/tls"
	"io"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	assessmentv1 "github.com/predikat-id/predikat/pkg/gen/predikat/assessment/v1"
	rankingv1 "github.com/predikat-id/predikat/pkg/gen/predikat/ranking/v1"
	registryv1 "github.com/predikat-id/predikat/pkg/gen/predikat/registry/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/status"
)

const testPolicy = `
roles:
  public: [schemes.read, rounds.read, awards.read, registry.read, assessments.read.published]
  assessor: [assessments.record, assessments.read, rounds.read]
  boards: [boards.read]
  officer: [awards.read, awards.manage]
  admin: ["*"]
%ANON%
bindings:
  - principals: ["spiffe://predikat/ministry/ombudsman"]
    roles: [assessor, boards]
    schemes: [ombudsman]
  - groups: [pemkab]
    roles: [assessor]
    institutions: [pemkab-hss]
  - principals: ["spiffe://predikat/ops", "cn:legacy"]
    roles: [admin]
  - principals: ["spiffe://predikat/perwakilan/kalsel"]
    roles: [assessor, boards]
    provinces: ["63"]
  - principals: ["spiffe://predikat/awards/ombudsman"]
    roles: [officer]
    schemes: [ombudsman]
`

func policyWith(t *testing.T, anonymous bool) *LivePolicy {
	t.Helper()
	anon := ""
	if anonymous {
		anon = "anonymous: [public]"
	}
	return StaticPolicy(mustPolicy(t, strings.Replace(testPolicy, "%ANON%", anon, 1)))
}

// fixture is a server with the test services and a client factory.
type fixture struct {
	pki  *testPKI
	iss  *testIssuer
	addr string
	seen *seen
}

func newFixture(t *testing.T, anonymous bool, opts ...Option) *fixture {
	t.Helper()
	return newFixtureWith(t, policyWith(t, anonymous), opts...)
}

// newFixtureWith is newFixture with a policy of the test's own.
func newFixtureWith(t *testing.T, pol *LivePolicy, opts ...Option) *fixture {
	t.Helper()
	f := &fixture{pki: newPKI(t, "predikat"), iss: newIssuer(t, "k1"), seen: &seen{}}
	jwksFile := filepath.Join(t.TempDir(), "jwks.json")
	writeFile(t, jwksFile, f.iss.jwks(t))
	v, err := NewJWTVerifier(JWTConfig{JWKSFile: jwksFile, Issuer: testIss, Audience: testAud})
	if err != nil {
		t.Fatal(err)
	}
	f.addr = startServer(t, f.pki, NewAuthenticator(v), pol, registerAll(f.seen), opts...)
	return f
}

// certClient dials with a client certificate naming uri (or cn).
func (f *fixture) certClient(t *testing.T, name, uri, cn string) *grpc.ClientConn {
	t.Helper()
	cert, key := f.pki.issue(t, name, uri, cn, false)
	return dial(t, f.addr, ClientCredentials{CAFile: f.pki.CAFile, CertFile: cert, KeyFile: key})
}

func (f *fixture) tokenClient(t *testing.T, token string) *grpc.ClientConn {
	t.Helper()
	return dial(t, f.addr, ClientCredentials{CAFile: f.pki.CAFile, Token: token})
}

func wantCode(t *testing.T, err error, code codes.Code, substr string) {
	t.Helper()
	if status.Code(err) != code {
		t.Fatalf("got %v, want code %v", err, code)
	}
	if !strings.Contains(status.Convert(err).Message(), substr) {
		t.Fatalf("message %q does not contain %q", status.Convert(err).Message(), substr)
	}
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestNoCredentialIsUnauthenticated(t *testing.T) {
	f := newFixture(t, false)
	conn := dial(t, f.addr, ClientCredentials{CAFile: f.pki.CAFile})
	_, err := registryv1.NewRegistryServiceClient(conn).GetRegion(ctxT(t), &registryv1.GetRegionRequest{Code: "63"})
	wantCode(t, err, codes.Unauthenticated, "a client certificate signed by the Predikat CA or a bearer token")
}

func TestAnonymousGetsPublicOnlyWhenPolicySaysSo(t *testing.T) {
	f := newFixture(t, true)
	conn := dial(t, f.addr, ClientCredentials{CAFile: f.pki.CAFile})
	if _, err := registryv1.NewRegistryServiceClient(conn).GetRegion(ctxT(t), &registryv1.GetRegionRequest{Code: "63"}); err != nil {
		t.Fatal(err)
	}
	if p, ok := f.seen.get(); !ok || p.Via != ViaAnonymous || !p.Anonymous() {
		t.Fatalf("handler saw %+v, %v", p, ok)
	}
	_, err := assessmentv1.NewAssessmentServiceClient(conn).RecordAssessment(ctxT(t),
		&assessmentv1.RecordAssessmentRequest{RoundId: "ombudsman-2024", InstitutionId: "pemkab-hss"})
	wantCode(t, err, codes.Unauthenticated, `permission "assessments.record"`)
}

func TestUnknownCAIsRefused(t *testing.T) {
	f := newFixture(t, false)
	other := newPKI(t, "other")
	cert, key := other.issue(t, "intruder", "spiffe://predikat/ops", "", false)
	// Go's client withholds a certificate the server's CA list does not
	// cover, so the call arrives anonymous.
	conn := dial(t, f.addr, ClientCredentials{CAFile: f.pki.CAFile, CertFile: cert, KeyFile: key})
	_, err := registryv1.NewRegistryServiceClient(conn).GetRegion(ctxT(t), &registryv1.GetRegionRequest{Code: "63"})
	wantCode(t, err, codes.Unauthenticated, "a client certificate signed by the Predikat CA")

	// A client that presents it anyway fails the handshake.
	cfg, err := ClientTLS(f.pki.CAFile, cert, key, "")
	if err != nil {
		t.Fatal(err)
	}
	forced := cfg.Certificates[0]
	cfg.Certificates = nil
	cfg.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return &forced, nil }
	conn2, err := grpc.NewClient(f.addr, grpc.WithTransportCredentials(credentials.NewTLS(cfg)))
	if err != nil {
		t.Fatal(err)
	}
	defer conn2.Close()
	_, err = registryv1.NewRegistryServiceClient(conn2).GetRegion(ctxT(t), &registryv1.GetRegionRequest{Code: "63"})
	if c := status.Code(err); c != codes.Unavailable {
		t.Fatalf("got %v, want the TLS handshake refused", err)
	}
	if _, ok := f.seen.get(); ok {
		t.Fatal("a handler ran")
	}
}

func TestCertificateWithoutRoleIsDenied(t *testing.T) {
	f := newFixture(t, false)
	conn := f.certClient(t, "nobody", "spiffe://predikat/nobody", "")
	_, err := registryv1.NewRegistryServiceClient(conn).GetRegion(ctxT(t), &registryv1.GetRegionRequest{Code: "63"})
	wantCode(t, err, codes.PermissionDenied, `permission "registry.read" is not granted to spiffe://predikat/nobody`)
}

func TestCertificateRoleAndSchemeScope(t *testing.T) {
	f := newFixture(t, false)
	conn := f.certClient(t, "omb", "spiffe://predikat/ministry/ombudsman", "ombudsman")
	as := assessmentv1.NewAssessmentServiceClient(conn)
	_, err := as.RecordAssessment(ctxT(t), &assessmentv1.RecordAssessmentRequest{RoundId: "ombudsman-2024", InstitutionId: "pemkab-hss"})
	if err != nil {
		t.Fatal(err)
	}
	p, _ := f.seen.get()
	if p.ID != "spiffe://predikat/ministry/ombudsman" || p.Via != ViaMTLS || len(p.Groups) != 0 {
		t.Fatalf("handler saw %+v", p)
	}
	_, err = as.RecordAssessment(ctxT(t), &assessmentv1.RecordAssessmentRequest{RoundId: "sakip-2024", InstitutionId: "pemkab-hss"})
	wantCode(t, err, codes.PermissionDenied,
		`permission "assessments.record" on scheme "sakip", institution "pemkab-hss" is not granted to spiffe://predikat/ministry/ombudsman`)

	rk := rankingv1.NewRankingServiceClient(conn)
	if _, err := rk.GetLeaderboard(ctxT(t), &rankingv1.GetLeaderboardRequest{Board: &rankingv1.BoardKey{SchemeId: "ombudsman", Year: 2024}}); err != nil {
		t.Fatal(err)
	}
	_, err = rk.GetLeaderboard(ctxT(t), &rankingv1.GetLeaderboardRequest{Board: &rankingv1.BoardKey{SchemeId: "sakip", Year: 2024}})
	wantCode(t, err, codes.PermissionDenied, `permission "boards.read" on scheme "sakip"`)
	// A scoped binding never grants a call that names no scheme.
	_, err = rk.GetLeaderboard(ctxT(t), &rankingv1.GetLeaderboardRequest{})
	wantCode(t, err, codes.PermissionDenied, `permission "boards.read" is not granted`)
}

func TestCommonNameCertificate(t *testing.T) {
	f := newFixture(t, false)
	conn := f.certClient(t, "legacy", "", "legacy")
	if _, err := registryv1.NewRegistryServiceClient(conn).GetRegion(ctxT(t), &registryv1.GetRegionRequest{Code: "63"}); err != nil {
		t.Fatal(err)
	}
	if p, _ := f.seen.get(); p.ID != "cn:legacy" || p.Via != ViaMTLS {
		t.Fatalf("handler saw %+v", p)
	}
}

func TestJWTGroupAndInstitutionScope(t *testing.T) {
	f := newFixture(t, false)
	conn := f.tokenClient(t, f.iss.sign(t, validClaims("alice", "pemkab", "staff")))
	as := assessmentv1.NewAssessmentServiceClient(conn)
	if _, err := as.RecordAssessment(ctxT(t), &assessmentv1.RecordAssessmentRequest{RoundId: "sakip-2024", InstitutionId: "pemkab-hss"}); err != nil {
		t.Fatal(err)
	}
	p, _ := f.seen.get()
	if p.ID != "user:alice" || p.Via != ViaJWT || strings.Join(p.Groups, ",") != "pemkab,staff" {
		t.Fatalf("handler saw %+v", p)
	}
	_, err := as.RecordAssessment(ctxT(t), &assessmentv1.RecordAssessmentRequest{RoundId: "sakip-2024", InstitutionId: "pemkab-hst"})
	wantCode(t, err, codes.PermissionDenied, `institution "pemkab-hst" is not granted to user:alice`)
}

func TestBadTokensAreUnauthenticated(t *testing.T) {
	f := newFixture(t, true)
	claims := func(mut func(map[string]any)) map[string]any {
		c := validClaims("alice", "pemkab")
		mut(c)
		return c
	}
	other := newIssuer(t, "k1")
	cases := map[string]struct {
		token string
		why   string
	}{
		"expired": {f.iss.sign(t, claims(func(c map[string]any) {
			c["exp"] = time.Now().Add(-time.Hour).Unix()
		})), "expired"},
		"no exp":   {f.iss.sign(t, claims(func(c map[string]any) { delete(c, "exp") })), "exp"},
		"issuer":   {f.iss.sign(t, claims(func(c map[string]any) { c["iss"] = "https://evil" })), "iss"},
		"audience": {f.iss.sign(t, claims(func(c map[string]any) { c["aud"] = "other-api" })), "aud"},
		"not yet": {f.iss.sign(t, claims(func(c map[string]any) {
			c["nbf"] = time.Now().Add(time.Hour).Unix()
		})), "nbf"},
		"other key":   {other.sign(t, validClaims("alice")), "signature"},
		"unknown kid": {newIssuer(t, "k9").sign(t, validClaims("alice")), "no key"},
		"HS256":       {hs256Token(t), "algorithm"},
		"none":        {noneToken(validClaims("alice")), "algorithm"},
		"garbage":     {"not.a.jwt", "malformed"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			conn := f.tokenClient(t, c.token)
			_, err := registryv1.NewRegistryServiceClient(conn).GetRegion(ctxT(t), &registryv1.GetRegionRequest{Code: "63"})
			wantCode(t, err, codes.Unauthenticated, "bearer token rejected")
			wantCode(t, err, codes.Unauthenticated, c.why)
		})
	}
}

func TestStreamUnscopedDecidedBeforeHandler(t *testing.T) {
	f := newFixture(t, true)
	// Anonymous holds registry.read but not registry.watch.
	conn := dial(t, f.addr, ClientCredentials{CAFile: f.pki.CAFile})
	st, err := registryv1.NewRegistryServiceClient(conn).WatchInstitutions(ctxT(t), &registryv1.WatchInstitutionsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = st.Recv()
	wantCode(t, err, codes.Unauthenticated, `permission "registry.watch"`)

	conn = f.certClient(t, "ops", "spiffe://predikat/ops", "")
	st, err = registryv1.NewRegistryServiceClient(conn).WatchInstitutions(ctxT(t), &registryv1.WatchInstitutionsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Recv(); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Recv(); err != io.EOF {
		t.Fatalf("want EOF, got %v", err)
	}
}

// scopedStreamDesc serves RecordAssessment (scoped by round and
// institution) as a server stream, so the interceptor's check on RecvMsg
// is exercised with a real scoped rule.
var scopedStreamDesc = grpc.ServiceDesc{
	ServiceName: "predikat.assessment.v1.AssessmentService",
	HandlerType: (*any)(nil),
	Streams: []grpc.StreamDesc{{
		StreamName:    "RecordAssessment",
		ServerStreams: true,
		Handler: func(_ any, ss grpc.ServerStream) error {
			var req assessmentv1.RecordAssessmentRequest
			if err := ss.RecvMsg(&req); err != nil {
				return err
			}
			return ss.SendMsg(&assessmentv1.RecordAssessmentResponse{})
		},
	}},
}

func TestStreamScopedCheckedOnReceive(t *testing.T) {
	pki := newPKI(t, "predikat")
	addr := startServer(t, pki, NewAuthenticator(nil), policyWith(t, false), func(s *grpc.Server) {
		s.RegisterService(&scopedStreamDesc, nil)
	})
	cert, key := pki.issue(t, "omb", "spiffe://predikat/ministry/ombudsman", "", false)
	conn := dial(t, addr, ClientCredentials{CAFile: pki.CAFile, CertFile: cert, KeyFile: key})
	call := func(round string) error {
		st, err := conn.NewStream(ctxT(t), &scopedStreamDesc.Streams[0], "/predikat.assessment.v1.AssessmentService/RecordAssessment")
		if err != nil {
			return err
		}
		if err := st.SendMsg(&assessmentv1.RecordAssessmentRequest{RoundId: round, InstitutionId: "x"}); err != nil {
			return err
		}
		if err := st.CloseSend(); err != nil {
			return err
		}
		return st.RecvMsg(&assessmentv1.RecordAssessmentResponse{})
	}
	if err := call("ombudsman-2024"); err != nil {
		t.Fatal(err)
	}
	wantCode(t, call("sakip-2024"), codes.PermissionDenied, `on scheme "sakip"`)
}

func TestTokenWithoutTLSIsRefused(t *testing.T) {
	a := NewAuthenticator(nil)
	ctx := metadataCtx("authorization", "Bearer x")
	_, err := a.Authenticate(ctx)
	wantCode(t, err, codes.Unauthenticated, "without TLS")
	// With TLS but no verifier configured, tokens are refused too.
	ctx = peerCtx(ctx, credentials.TLSInfo{})
	_, err = a.Authenticate(ctx)
	wantCode(t, err, codes.Unauthenticated, "accepts no tokens")
}

func TestMethodWithoutAccessIsDenied(t *testing.T) {
	lp := policyWith(t, true)
	icpt := UnaryServerInterceptor(NewAuthenticator(nil), lp)
	_, err := icpt(context.Background(), nil, &grpc.UnaryServerInfo{FullMethod: "/predikat.registry.v1.RegistryService/Nope"},
		func(context.Context, any) (any, error) { t.Fatal("handler ran"); return nil, nil })
	wantCode(t, err, codes.PermissionDenied, "declares no access rule")
	// Health is exempt.
	ran := false
	_, err = icpt(context.Background(), nil, &grpc.UnaryServerInfo{FullMethod: "/grpc.health.v1.Health/Check"},
		func(context.Context, any) (any, error) { ran = true; return nil, nil })
	if err != nil || !ran {
		t.Fatalf("health not exempt: %v", err)
	}
}

// A caller admitted by a method's published-only permission alone reaches
// the handler marked so, naming the permission it lacks; without that
// permission it is refused as before.
func TestPublishedOnlyPermission(t *testing.T) {
	const getAssessment = "/predikat.assessment.v1.AssessmentService/GetAssessment"
	req := &assessmentv1.GetAssessmentRequest{RoundId: "ombudsman-2024", InstitutionId: "pemkab-hss"}
	var lacking string
	var only bool
	handler := func(ctx context.Context, _ any) (any, error) {
		lacking, only = PublishedOnly(ctx)
		return nil, nil
	}
	icpt := UnaryServerInterceptor(NewAuthenticator(nil), policyWith(t, true))
	if _, err := icpt(context.Background(), req, &grpc.UnaryServerInfo{FullMethod: getAssessment}, handler); err != nil {
		t.Fatal(err)
	}
	if !only || lacking != "assessments.read" {
		t.Fatalf("PublishedOnly = %q, %v; want assessments.read, true", lacking, only)
	}
	icpt = UnaryServerInterceptor(NewAuthenticator(nil), policyWith(t, false))
	_, err := icpt(context.Background(), req, &grpc.UnaryServerInfo{FullMethod: getAssessment}, handler)
	wantCode(t, err, codes.Unauthenticated, `permission "assessments.read"`)
}

// A binding scoped to provinces admits calls on institutions of its
// provinces (placed by the service's resolver) and on boards of those
// provinces, and nothing else: not another province, not the national
// board, not an institution the resolver does not know.
func TestProvinceScope(t *testing.T) {
	where := map[string]string{"pemkab-hss": "63", "pemkab-kutai": "64"}
	var resolved atomic.Int64
	f := newFixture(t, false, WithProvinces(func(_ context.Context, id string) (string, error) {
		resolved.Add(1)
		if id == "registry-down" {
			return "", status.Error(codes.Unavailable, "registry unreachable")
		}
		return where[id], nil
	}))
	conn := f.certClient(t, "kalsel", "spiffe://predikat/perwakilan/kalsel", "")
	as := assessmentv1.NewAssessmentServiceClient(conn)
	if _, err := as.RecordAssessment(ctxT(t), &assessmentv1.RecordAssessmentRequest{RoundId: "ombudsman-2024", InstitutionId: "pemkab-hss"}); err != nil {
		t.Fatal(err)
	}
	_, err := as.RecordAssessment(ctxT(t), &assessmentv1.RecordAssessmentRequest{RoundId: "ombudsman-2024", InstitutionId: "pemkab-kutai"})
	wantCode(t, err, codes.PermissionDenied, `permission "assessments.record" on scheme "ombudsman", institution "pemkab-kutai", province "64" is not granted`)
	_, err = as.RecordAssessment(ctxT(t), &assessmentv1.RecordAssessmentRequest{RoundId: "ombudsman-2024", InstitutionId: "nowhere"})
	wantCode(t, err, codes.PermissionDenied, `institution "nowhere" is not granted`)
	_, err = as.RecordAssessment(ctxT(t), &assessmentv1.RecordAssessmentRequest{RoundId: "ombudsman-2024", InstitutionId: "registry-down"})
	wantCode(t, err, codes.Unavailable, "registry unreachable")

	rk := rankingv1.NewRankingServiceClient(conn)
	board := func(scope string) *rankingv1.GetLeaderboardRequest {
		return &rankingv1.GetLeaderboardRequest{Board: &rankingv1.BoardKey{SchemeId: "ombudsman", Year: 2024, PeerGroup: "pemda", Scope: scope}}
	}
	if _, err := rk.GetLeaderboard(ctxT(t), board("63")); err != nil {
		t.Fatal(err)
	}
	_, err = rk.GetLeaderboard(ctxT(t), board("64"))
	wantCode(t, err, codes.PermissionDenied, `province "64"`)
	_, err = rk.GetLeaderboard(ctxT(t), board("00"))
	wantCode(t, err, codes.PermissionDenied, `permission "boards.read" on scheme "ombudsman" is not granted`)

	// A principal without province-scoped bindings never costs a lookup.
	before := resolved.Load()
	omb := assessmentv1.NewAssessmentServiceClient(f.certClient(t, "omb", "spiffe://predikat/ministry/ombudsman", ""))
	if _, err := omb.RecordAssessment(ctxT(t), &assessmentv1.RecordAssessmentRequest{RoundId: "ombudsman-2024", InstitutionId: "pemkab-kutai"}); err != nil {
		t.Fatal(err)
	}
	if n := resolved.Load() - before; n != 0 {
		t.Fatalf("%d province lookups for a principal that needs none", n)
	}
}

// A call that may move its institution (an update's new region code) needs
// the permission where the institution goes as well as where it is: a
// binding scoped to one province can neither push an institution out to
// another province or to the national level, nor reach into another's.
func TestDestinationRegion(t *testing.T) {
	const kalselEditor = `
  - principals: ["spiffe://predikat/perwakilan/kalsel"]
    roles: [editor]
    provinces: ["63"]
  - principals: ["spiffe://predikat/registry/national"]
    roles: [editor]
`
	pol := strings.Replace(testPolicy, "bindings:", "  editor: [registry.institutions.write]\nbindings:"+kalselEditor, 1)
	where := map[string]string{"pemkab-hss": "63", "pemkab-kutai": "64"}
	f := newFixtureWith(t, StaticPolicy(mustPolicy(t, strings.Replace(pol, "%ANON%", "", 1))),
		WithProvinces(func(_ context.Context, id string) (string, error) { return where[id], nil }))
	update := func(conn *grpc.ClientConn, id, region string) error {
		_, err := registryv1.NewRegistryServiceClient(conn).UpdateInstitution(ctxT(t), &registryv1.UpdateInstitutionRequest{
			Institution: &registryv1.Institution{Id: id, RegionCode: region}, ExpectedRevision: 1})
		return err
	}
	kalsel := f.certClient(t, "kalsel", "spiffe://predikat/perwakilan/kalsel", "")
	for _, ok := range []struct{ id, region string }{
		{"pemkab-hss", ""},      // a change that moves nothing
		{"pemkab-hss", "63.06"}, // within the province
		{"pemkab-hss", "63"},
	} {
		if err := update(kalsel, ok.id, ok.region); err != nil {
			t.Fatalf("update %s to %q: %v", ok.id, ok.region, err)
		}
	}
	for _, c := range []struct{ id, region, want string }{
		{"pemkab-hss", "64.02", `province "64" is not granted`},
		{"pemkab-hss", "00", `permission "registry.institutions.write" on institution "pemkab-hss" is not granted`},
		{"pemkab-kutai", "63.06", `province "64" is not granted`},
	} {
		wantCode(t, update(kalsel, c.id, c.region), codes.PermissionDenied, c.want)
	}
	national := f.certClient(t, "national", "spiffe://predikat/registry/national", "")
	if err := update(national, "pemkab-hss", "64.02"); err != nil {
		t.Fatalf("an unscoped editor moving an institution: %v", err)
	}
}

// A call that names only an award is placed by the service (the award's
// scheme, institution and province), so an award officer scoped to one
// scheme may revoke that scheme's awards and no other's.
func TestAwardIsPlacedForScopedBindings(t *testing.T) {
	const omb, sakip, unknown = "aw-aaaaaaaaaaaaaaaaaaaaaaaaaa", "aw-bbbbbbbbbbbbbbbbbbbbbbbbbb", "aw-cccccccccccccccccccccccccc"
	f := newFixture(t, false, WithAwards(func(_ context.Context, id string) (Scope, error) {
		switch id {
		case omb:
			return Scope{Scheme: "ombudsman", Institution: "pemkab-hss", Province: "63"}, nil
		case sakip:
			return Scope{Scheme: "sakip", Institution: "pemkab-hss", Province: "63"}, nil
		}
		return Scope{}, nil
	}))
	as := assessmentv1.NewAssessmentServiceClient(f.certClient(t, "officer", "spiffe://predikat/awards/ombudsman", ""))
	if _, err := as.RevokeAward(ctxT(t), &assessmentv1.RevokeAwardRequest{AwardId: omb, Reason: "wrong"}); err != nil {
		t.Fatal(err)
	}
	_, err := as.RevokeAward(ctxT(t), &assessmentv1.RevokeAwardRequest{AwardId: sakip, Reason: "wrong"})
	wantCode(t, err, codes.PermissionDenied, `permission "awards.manage" on scheme "sakip", institution "pemkab-hss", province "63" is not granted`)
	_, err = as.RevokeAward(ctxT(t), &assessmentv1.RevokeAwardRequest{AwardId: unknown, Reason: "wrong"})
	wantCode(t, err, codes.PermissionDenied, `permission "awards.manage" is not granted`)
	// An unscoped binding needs no placing.
	ops := assessmentv1.NewAssessmentServiceClient(f.certClient(t, "ops", "spiffe://predikat/ops", ""))
	if _, err := ops.RevokeAward(ctxT(t), &assessmentv1.RevokeAwardRequest{AwardId: unknown, Reason: "wrong"}); err != nil {
		t.Fatal(err)
	}
}
