package access_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"github.com/nats-io/nats.go/jetstream"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/dynamicpb"

	"github.com/predikat-id/predikat/cmd/internal/stack"
	"github.com/predikat-id/predikat/cmd/internal/stacktest"
	assessmentv1 "github.com/predikat-id/predikat/pkg/gen/predikat/assessment/v1"
	rankingv1 "github.com/predikat-id/predikat/pkg/gen/predikat/ranking/v1"
	registryv1 "github.com/predikat-id/predikat/pkg/gen/predikat/registry/v1"
	"github.com/predikat-id/predikat/pkg/platform/auth"
	"github.com/predikat-id/predikat/pkg/platform/devpki"
	"github.com/predikat-id/predikat/pkg/platform/grpcserver"
	"github.com/predikat-id/predikat/pkg/platform/security"
	"github.com/predikat-id/predikat/pkg/platform/testenv/natstest"
	"github.com/predikat-id/predikat/pkg/platform/testenv/redistest"
)

// env is one stack (registry, assessment, ranking on a real NATS and a real
// redis-server) and the connections the test calls it through.
type env struct {
	t   *testing.T
	pki *devpki.Files
	js  jetstream.JetStream
	// addrs maps a service's full name to its address.
	addrs map[protoreflect.FullName]string

	reg  registryv1.RegistryServiceClient
	asm  assessmentv1.AssessmentServiceClient
	rank rankingv1.RankingServiceClient

	mu    sync.Mutex
	conns map[string]*grpc.ClientConn // by address and credential

	// Values one fixture produces and a later one needs.
	awardID string
	// objectionID is the objection the FileObjection fixture filed.
	objectionID string
	// ceremonyID and certCode: the ceremony CreateCeremony planned and the
	// verification code GetCertificate printed.
	ceremonyID, certCode string
}

func newEnv(t *testing.T) *env {
	t.Helper()
	ns := natstest.Start(t)
	e := &env{t: t, pki: stacktest.PKI(t), js: ns.JetStream(t), conns: map[string]*grpc.ClientConn{}}
	svcs := stacktest.Services(t, ns, stack.ServicesOptions{RedisAddr: redistest.Start(t).Addr()})
	regAddr := e.start(svcs, stack.Registry, "")
	asmAddr := e.start(svcs, stack.Assessment, regAddr)
	rankAddr := e.start(svcs, stack.Ranking, regAddr)
	e.addrs = map[protoreflect.FullName]string{
		registryv1.File_predikat_registry_v1_registry_proto.Services().Get(0).FullName():       regAddr,
		assessmentv1.File_predikat_assessment_v1_assessment_proto.Services().Get(0).FullName(): asmAddr,
		assessmentv1.File_predikat_assessment_v1_objection_proto.Services().Get(0).FullName():  asmAddr,
		assessmentv1.File_predikat_assessment_v1_ceremony_proto.Services().Get(0).FullName():   asmAddr,
		assessmentv1.File_predikat_assessment_v1_survey_proto.Services().Get(0).FullName():     asmAddr,
		rankingv1.File_predikat_ranking_v1_ranking_proto.Services().Get(0).FullName():          rankAddr,
	}
	e.reg = registryv1.NewRegistryServiceClient(e.admin(regAddr))
	e.asm = assessmentv1.NewAssessmentServiceClient(e.admin(asmAddr))
	e.rank = rankingv1.NewRankingServiceClient(e.admin(rankAddr))
	return e
}

func (e *env) start(svcs *stack.Services, name, regAddr string) string {
	e.t.Helper()
	addr, err := svcs.Start(name, "127.0.0.1:0", regAddr)
	if err != nil {
		e.t.Fatalf("%s did not start: %v", name, err)
	}
	return addr
}

// conn dials addr with c once and keeps the connection for the test.
func (e *env) conn(addr, label string, c auth.ClientCredentials) *grpc.ClientConn {
	e.t.Helper()
	e.mu.Lock()
	defer e.mu.Unlock()
	key := addr + "|" + label
	if cc, ok := e.conns[key]; ok {
		return cc
	}
	opts, err := c.DialOptions()
	if err != nil {
		e.t.Fatal(err)
	}
	cc, err := grpcserver.Dial(addr, opts...)
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { _ = cc.Close() })
	e.conns[key] = cc
	return cc
}

// anonymous trusts the CA and presents nothing.
func (e *env) anonymous(addr string) *grpc.ClientConn {
	return e.conn(addr, "anonymous", auth.ClientCredentials{CAFile: e.pki.CA()})
}

// cert presents the dev user's client certificate ("admin" or "reader").
func (e *env) cert(addr, user string) *grpc.ClientConn {
	return e.conn(addr, "cert:"+user, security.DevClient(e.pki, user))
}

func (e *env) admin(addr string) *grpc.ClientConn { return e.cert(addr, "admin") }

// bearer presents a dev token of subject with groups, and no certificate.
func (e *env) bearer(addr, subject string, groups ...string) *grpc.ClientConn {
	e.t.Helper()
	tok, err := devpki.IssueToken(e.pki, subject, groups, 10*time.Minute)
	if err != nil {
		e.t.Fatal(err)
	}
	return e.withToken(addr, "token:"+subject+":"+strings.Join(groups, ","), tok)
}

func (e *env) withToken(addr, label, tok string) *grpc.ClientConn {
	return e.conn(addr, label, auth.ClientCredentials{CAFile: e.pki.CA(), Token: tok})
}

// addrOf is the address of the service that serves md.
func (e *env) addrOf(md protoreflect.MethodDescriptor) string {
	e.t.Helper()
	addr, ok := e.addrs[md.Parent().FullName()]
	if !ok {
		e.t.Fatalf("no service runs %s", md.Parent().FullName())
	}
	return addr
}

func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// fullMethod is md's gRPC method name, "/package.Service/Method".
func fullMethod(md protoreflect.MethodDescriptor) string {
	return "/" + string(md.Parent().FullName()) + "/" + string(md.Name())
}

// newMessage makes an empty message of type d: the generated type when
// linked in (so checks can read it as such), else a dynamic one.
func newMessage(d protoreflect.MessageDescriptor) proto.Message {
	if mt, err := protoregistry.GlobalTypes.FindMessageByName(d.FullName()); err == nil {
		return mt.New().Interface()
	}
	return dynamicpb.NewMessage(d)
}

// invoke calls md with req over cc and returns its response: for a
// client-streaming method req is the one message sent and the response the
// answer to the stream; for a server-streaming one the first message the
// server sends, after which the stream is cancelled. Any method of any shape goes through here, so the
// walk needs no per-method client code.
func invoke(ctx context.Context, cc *grpc.ClientConn, md protoreflect.MethodDescriptor, req proto.Message) (proto.Message, error) {
	resp := newMessage(md.Output())
	if !md.IsStreamingClient() && !md.IsStreamingServer() {
		return resp, cc.Invoke(ctx, fullMethod(md), req, resp)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	desc := &grpc.StreamDesc{StreamName: string(md.Name()), ServerStreams: md.IsStreamingServer(), ClientStreams: md.IsStreamingClient()}
	st, err := cc.NewStream(ctx, desc, fullMethod(md))
	if err != nil {
		return nil, err
	}
	// io.EOF from SendMsg is the server having ended the call already (a
	// refusal before it read the request): its status comes from RecvMsg.
	if err := st.SendMsg(req); err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	// Half-closing and then receiving is a client-streaming call's
	// CloseAndRecv, and a server-streaming call's first message.
	if err := st.CloseSend(); err != nil {
		return nil, err
	}
	return resp, st.RecvMsg(resp)
}

// logState is the last sequence of every stream, KV buckets included (a
// bucket is the stream "KV_<bucket>"): any write to the system of record
// moves one of them.
type logState map[string]uint64

func (e *env) logState(t testing.TB) logState {
	t.Helper()
	ctx := ctxT(t)
	out := logState{}
	names := e.js.StreamNames(ctx)
	for name := range names.Name() {
		st, err := e.js.Stream(ctx, name)
		if err != nil {
			t.Fatalf("stream %s: %v", name, err)
		}
		info, err := st.Info(ctx)
		if err != nil {
			t.Fatalf("stream %s: %v", name, err)
		}
		out[name] = info.State.LastSeq
	}
	if err := names.Err(); err != nil {
		t.Fatal(err)
	}
	// Listed separately so a bucket kept somewhere else than its stream
	// would show up as missing rather than silently unchecked.
	buckets := e.js.KeyValueStoreNames(ctx)
	for b := range buckets.Name() {
		if _, ok := out["KV_"+b]; !ok {
			t.Fatalf("KV bucket %s has no stream KV_%s", b, b)
		}
	}
	if err := buckets.Error(); err != nil {
		t.Fatal(err)
	}
	return out
}

// settled waits until the log stops moving (a previous call's work done)
// and returns its state, so a change seen afterwards is the next call's.
func (e *env) settled(t testing.TB) logState {
	t.Helper()
	prev := e.logState(t)
	for range 40 {
		time.Sleep(25 * time.Millisecond)
		cur := e.logState(t)
		if maps.Equal(prev, cur) {
			return cur
		}
		prev = cur
	}
	t.Fatalf("the streams kept moving: %v", prev)
	return nil
}

func (s logState) String() string {
	var b strings.Builder
	for _, k := range sortedKeys(s) {
		fmt.Fprintf(&b, "%s=%d ", k, s[k])
	}
	return strings.TrimSpace(b.String())
}

// diff names the streams whose last sequence differs.
func (s logState) diff(after logState) string {
	var out []string
	keys := sortedKeys(s)
	for k := range after {
		if _, ok := s[k]; !ok {
			keys = append(keys, k)
		}
	}
	for _, k := range keys {
		if s[k] != after[k] {
			out = append(out, fmt.Sprintf("%s %d -> %d", k, s[k], after[k]))
		}
	}
	return strings.Join(out, ", ")
}

func sortedKeys(s logState) []string { return slices.Sorted(maps.Keys(s)) }

// wantStatus fails unless err has code and, when contains is set, its
// message mentions it.
func wantStatus(t testing.TB, who string, err error, code codes.Code, contains string) {
	t.Helper()
	st, _ := status.FromError(err)
	if st.Code() != code {
		t.Fatalf("%s: got %v %q, want %v", who, st.Code(), st.Message(), code)
	}
	if contains != "" && !strings.Contains(st.Message(), contains) {
		t.Fatalf("%s: message %q does not mention %s", who, st.Message(), contains)
	}
}

// signedToken signs a token with the ES256 key of f exactly as
// devpki.IssueToken does, but valid from issued until expiry: IssueToken
// only makes tokens valid from now, and an expired token must be signed
// by the right key to prove that expiry alone refuses it.
func signedToken(t testing.TB, f *devpki.Files, subject string, groups []string, issued, expiry time.Time) string {
	t.Helper()
	data, err := os.ReadFile(f.JWTKey())
	if err != nil {
		t.Fatal(err)
	}
	blk, _ := pem.Decode(data)
	if blk == nil {
		t.Fatalf("%s: no PEM block", f.JWTKey())
	}
	k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	key, ok := k.(*ecdsa.PrivateKey)
	if !ok {
		t.Fatalf("token key is %T, not ECDSA", k)
	}
	sum, err := (&jose.JSONWebKey{Key: &key.PublicKey}).Thumbprint(crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256,
		Key: jose.JSONWebKey{Key: key, KeyID: base64.RawURLEncoding.EncodeToString(sum)}},
		(&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		t.Fatal(err)
	}
	claims := jwt.Claims{Issuer: devpki.Issuer, Audience: jwt.Audience{devpki.Audience}, Subject: subject,
		IssuedAt: jwt.NewNumericDate(issued), NotBefore: jwt.NewNumericDate(issued), Expiry: jwt.NewNumericDate(expiry)}
	tok, err := jwt.Signed(signer).Claims(claims).Claims(map[string]any{"groups": groups}).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return tok
}
