package grpcserver_test

import (
	"bytes"
	"context"
	"log/slog"
	"net"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	reflectionv1 "google.golang.org/grpc/reflection/grpc_reflection_v1"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/emptypb"

	registryv1 "github.com/predikat-id/predikat/pkg/gen/predikat/registry/v1"
	"github.com/predikat-id/predikat/pkg/platform/grpcserver"
)

// testServiceName is a hand-written service, so the tests need no generated
// code of their own: Empty in, Empty out.
const testServiceName = "predikat.grpcservertest.v1.Test"

// testService implements the hand-written service.
type testService struct {
	slowStarted chan struct{} // receives once Slow has begun
	slowRelease chan struct{} // Slow returns once this is closed (release)
	releaseOnce sync.Once
	calls       atomic.Int64 // handler invocations that got past the interceptors
}

// release lets Slow return; safe to call from the test and its cleanup.
func (s *testService) release() { s.releaseOnce.Do(func() { close(s.slowRelease) }) }

func newTestService() *testService {
	return &testService{slowStarted: make(chan struct{}, 1), slowRelease: make(chan struct{})}
}

func (s *testService) handle(method string, ctx context.Context, req any) (any, error) {
	s.calls.Add(1)
	switch method {
	case "Panic":
		panic("boom")
	case "Slow":
		s.slowStarted <- struct{}{}
		select {
		case <-s.slowRelease:
		case <-ctx.Done():
			return nil, status.FromContextError(ctx.Err()).Err()
		}
	}
	return &emptypb.Empty{}, nil
}

// unaryMethod builds the same kind of handler protoc-gen-go-grpc generates,
// so the server's interceptors run exactly as for a generated service.
func unaryMethod(svc *testService, name string) grpc.MethodDesc {
	return grpc.MethodDesc{
		MethodName: name,
		Handler: func(srv any, ctx context.Context, dec func(any) error, interceptor grpc.UnaryServerInterceptor) (any, error) {
			in := new(emptypb.Empty)
			if err := dec(in); err != nil {
				return nil, err
			}
			h := func(ctx context.Context, req any) (any, error) { return svc.handle(name, ctx, req) }
			if interceptor == nil {
				return h(ctx, in)
			}
			return interceptor(ctx, in, &grpc.UnaryServerInfo{Server: srv, FullMethod: "/" + testServiceName + "/" + name}, h)
		},
	}
}

func testServiceDesc(svc *testService) *grpc.ServiceDesc {
	return &grpc.ServiceDesc{
		ServiceName: testServiceName,
		HandlerType: (*any)(nil),
		Methods: []grpc.MethodDesc{
			unaryMethod(svc, "Echo"),
			unaryMethod(svc, "Panic"),
			unaryMethod(svc, "Slow"),
		},
		Streams: []grpc.StreamDesc{{
			// ValidateStream receives one GetRegionRequest and echoes its
			// code: it checks the stream validation interceptor.
			StreamName:    "ValidateStream",
			ClientStreams: true,
			Handler: func(_ any, stream grpc.ServerStream) error {
				in := new(registryv1.GetRegionRequest)
				if err := stream.RecvMsg(in); err != nil {
					return err
				}
				svc.calls.Add(1)
				return stream.SendMsg(&registryv1.GetRegionResponse{Region: &registryv1.Region{Code: in.GetCode()}})
			},
		}},
	}
}

// fakeRegistry answers GetRegion so validation of a real Predikat request
// message can be checked end to end.
type fakeRegistry struct {
	registryv1.UnimplementedRegistryServiceServer
	calls atomic.Int64
}

func (f *fakeRegistry) GetRegion(_ context.Context, req *registryv1.GetRegionRequest) (*registryv1.GetRegionResponse, error) {
	f.calls.Add(1)
	return &registryv1.GetRegionResponse{Region: &registryv1.Region{Code: req.GetCode(), Name: "Kalimantan Selatan"}}, nil
}

// syncBuffer is a log sink the server goroutines and the test can share.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

type harness struct {
	srv      *grpcserver.Server
	conn     *grpc.ClientConn
	svc      *testService
	registry *fakeRegistry
	logs     *syncBuffer
	addr     string
	stop     context.CancelFunc // cancels Serve's context
	done     chan error         // receives Serve's result
}

// start serves a Server with the test service (via Register) and the fake
// registry (directly on GRPC(), the other registration path) on a loopback
// port, and dials it with Dial.
func start(t *testing.T, opts grpcserver.Options) *harness {
	t.Helper()
	h := &harness{svc: newTestService(), registry: &fakeRegistry{}, logs: &syncBuffer{}}
	opts.Name = "grpcserver-test"
	opts.Logger = slog.New(slog.NewTextHandler(h.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	srv, err := grpcserver.New(opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	h.srv = srv
	srv.Register(func(r grpc.ServiceRegistrar) { r.RegisterService(testServiceDesc(h.svc), struct{}{}) })
	registryv1.RegisterRegistryServiceServer(srv.GRPC(), h.registry)

	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	h.addr = lis.Addr().String()
	ctx, cancel := context.WithCancel(context.Background())
	h.stop = cancel
	h.done = make(chan error, 1)
	go func() { h.done <- srv.ServeListener(ctx, lis) }()

	conn, err := grpcserver.Dial(h.addr)
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	h.conn = conn
	t.Cleanup(func() {
		h.svc.release()
		cancel()
		_ = conn.Close()
		select {
		case err := <-h.done:
			if err != nil {
				t.Errorf("ServeListener returned %v, want nil", err)
			}
		case <-time.After(15 * time.Second):
			t.Errorf("ServeListener did not return after cancel")
		}
	})
	return h
}

// waitServe returns Serve's result, failing the test if it takes too long.
func (h *harness) waitServe(t *testing.T, within time.Duration) error {
	t.Helper()
	select {
	case err := <-h.done:
		h.done <- err // leave it for cleanup, which checks it is nil
		return err
	case <-time.After(within):
		t.Fatalf("ServeListener did not return within %v", within)
		return nil
	}
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func checkHealth(t *testing.T, hc healthpb.HealthClient, service string, want healthpb.HealthCheckResponse_ServingStatus) {
	t.Helper()
	resp, err := hc.Check(ctxT(t), &healthpb.HealthCheckRequest{Service: service})
	if err != nil {
		t.Fatalf("health Check(%q): %v", service, err)
	}
	if resp.GetStatus() != want {
		t.Fatalf("health Check(%q) = %v, want %v", service, resp.GetStatus(), want)
	}
}

func TestHealthFollowsSetServingAndShutdown(t *testing.T) {
	h := start(t, grpcserver.Options{})
	hc := healthpb.NewHealthClient(h.conn)
	services := []string{"", testServiceName, registryv1.RegistryService_ServiceDesc.ServiceName}

	for _, s := range services {
		checkHealth(t, hc, s, healthpb.HealthCheckResponse_NOT_SERVING)
	}
	h.srv.SetServing(true)
	for _, s := range services {
		checkHealth(t, hc, s, healthpb.HealthCheckResponse_SERVING)
	}

	// A watcher (a load balancer, a client-side health checker) must see
	// NOT_SERVING as the first step of shutdown, while the server is still up.
	watchCtx, cancelWatch := context.WithCancel(ctxT(t))
	defer cancelWatch()
	watch, err := hc.Watch(watchCtx, &healthpb.HealthCheckRequest{Service: ""})
	if err != nil {
		t.Fatalf("Watch: %v", err)
	}
	if resp, err := watch.Recv(); err != nil || resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		t.Fatalf("first Watch update = %v, %v; want SERVING", resp.GetStatus(), err)
	}

	h.stop()
	resp, err := watch.Recv()
	if err != nil {
		t.Fatalf("Watch after cancel: %v", err)
	}
	if resp.GetStatus() != healthpb.HealthCheckResponse_NOT_SERVING {
		t.Fatalf("Watch after cancel = %v, want NOT_SERVING", resp.GetStatus())
	}
	// The open Watch stream holds the graceful stop, so the server cannot
	// have stopped yet: NOT_SERVING was observed before the stop.
	select {
	case err := <-h.done:
		t.Fatalf("ServeListener returned (%v) while a stream was still open", err)
	default:
	}

	// A late readiness signal must not resurrect a server that is shutting down.
	h.srv.SetServing(true)
	checkNotServingDuringShutdown(t, hc)

	cancelWatch()
	if err := h.waitServe(t, 5*time.Second); err != nil {
		t.Fatalf("ServeListener = %v, want nil", err)
	}
}

// checkNotServingDuringShutdown checks "" is still NOT_SERVING on the existing
// connection; new streams may be refused once GOAWAY has been sent, which is
// also an acceptable "do not route here".
func checkNotServingDuringShutdown(t *testing.T, hc healthpb.HealthClient) {
	t.Helper()
	resp, err := hc.Check(ctxT(t), &healthpb.HealthCheckRequest{Service: ""})
	if err != nil {
		if status.Code(err) != codes.Unavailable {
			t.Fatalf("health Check during shutdown: %v", err)
		}
		return
	}
	if resp.GetStatus() != healthpb.HealthCheckResponse_NOT_SERVING {
		t.Fatalf("health Check during shutdown = %v, want NOT_SERVING", resp.GetStatus())
	}
}

func TestReflectionListsServices(t *testing.T) {
	h := start(t, grpcserver.Options{})
	stream, err := reflectionv1.NewServerReflectionClient(h.conn).ServerReflectionInfo(ctxT(t))
	if err != nil {
		t.Fatalf("ServerReflectionInfo: %v", err)
	}
	if err := stream.Send(&reflectionv1.ServerReflectionRequest{
		MessageRequest: &reflectionv1.ServerReflectionRequest_ListServices{ListServices: ""},
	}); err != nil {
		t.Fatalf("send list: %v", err)
	}
	resp, err := stream.Recv()
	if err != nil {
		t.Fatalf("recv list: %v", err)
	}
	var names []string
	for _, s := range resp.GetListServicesResponse().GetService() {
		names = append(names, s.GetName())
	}
	for _, want := range []string{
		healthpb.Health_ServiceDesc.ServiceName,
		registryv1.RegistryService_ServiceDesc.ServiceName,
		"grpc.reflection.v1.ServerReflection",
		"grpc.reflection.v1alpha.ServerReflection",
	} {
		if !slices.Contains(names, want) {
			t.Errorf("reflection lists %v, missing %q", names, want)
		}
	}
	_ = stream.CloseSend()
}

func TestPanicBecomesInternalAndServerKeepsServing(t *testing.T) {
	h := start(t, grpcserver.Options{})
	ctx := ctxT(t)

	err := h.conn.Invoke(ctx, "/"+testServiceName+"/Panic", &emptypb.Empty{}, &emptypb.Empty{})
	if st := status.Convert(err); st.Code() != codes.Internal || st.Message() != "internal error" {
		t.Fatalf("Panic call = %v, want Internal \"internal error\"", err)
	}
	if err := h.conn.Invoke(ctx, "/"+testServiceName+"/Echo", &emptypb.Empty{}, &emptypb.Empty{}); err != nil {
		t.Fatalf("Echo after panic: %v", err)
	}

	logs := h.logs.String()
	for _, want := range []string{"grpc handler panicked", "panic=boom", "(*testService).handle", "/" + testServiceName + "/Panic"} {
		if !strings.Contains(logs, want) {
			t.Errorf("logs missing %q:\n%s", want, logs)
		}
	}
}

func TestCallsAreLoggedWithMethodCodeAndDuration(t *testing.T) {
	h := start(t, grpcserver.Options{})
	if err := h.conn.Invoke(ctxT(t), "/"+testServiceName+"/Echo", &emptypb.Empty{}, &emptypb.Empty{}); err != nil {
		t.Fatalf("Echo: %v", err)
	}
	logs := h.logs.String()
	for _, want := range []string{"finished call", "grpc.method=Echo", "grpc.service=" + testServiceName, "grpc.code=OK", "grpc.time_ms=", "service=grpcserver-test"} {
		if !strings.Contains(logs, want) {
			t.Errorf("logs missing %q:\n%s", want, logs)
		}
	}
}

func TestProtovalidateRejectsInvalidRequests(t *testing.T) {
	h := start(t, grpcserver.Options{})
	client := registryv1.NewRegistryServiceClient(h.conn)
	ctx := ctxT(t)

	// GetRegionRequest.code must match the Kemendagri pattern; empty does not.
	_, err := client.GetRegion(ctx, &registryv1.GetRegionRequest{Code: ""})
	if st := status.Convert(err); st.Code() != codes.InvalidArgument || !strings.Contains(st.Message(), "code") {
		t.Fatalf("GetRegion(\"\") = %v, want InvalidArgument naming the field", err)
	}
	if n := h.registry.calls.Load(); n != 0 {
		t.Fatalf("handler ran %d times for an invalid request", n)
	}

	resp, err := client.GetRegion(ctx, &registryv1.GetRegionRequest{Code: "63"})
	if err != nil {
		t.Fatalf("GetRegion(\"63\"): %v", err)
	}
	if resp.GetRegion().GetCode() != "63" {
		t.Fatalf("GetRegion(\"63\") = %v", resp)
	}

	// Messages without rules pass untouched.
	if err := h.conn.Invoke(ctx, "/"+testServiceName+"/Echo", &emptypb.Empty{}, &emptypb.Empty{}); err != nil {
		t.Fatalf("Echo: %v", err)
	}
}

// A request its method's precheck passes is not validated again; one it
// does not pass is judged by the contract as always. (This precheck lies
// on purpose, to show that it is what decides.)
func TestPrecheckedRequestsSkipProtovalidate(t *testing.T) {
	h := start(t, grpcserver.Options{Prechecked: map[string]func(any) bool{
		registryv1.RegistryService_GetRegion_FullMethodName: func(req any) bool {
			return req.(*registryv1.GetRegionRequest).GetCode() == "x"
		},
	}})
	client := registryv1.NewRegistryServiceClient(h.conn)
	if _, err := client.GetRegion(ctxT(t), &registryv1.GetRegionRequest{Code: "x"}); err != nil {
		t.Fatalf("GetRegion(\"x\"), prechecked: %v, want the handler's answer", err)
	}
	if n := h.registry.calls.Load(); n != 1 {
		t.Fatalf("handler ran %d times, want once", n)
	}
	if _, err := client.GetRegion(ctxT(t), &registryv1.GetRegionRequest{Code: ""}); status.Code(err) != codes.InvalidArgument {
		t.Fatalf("GetRegion(\"\"), not prechecked: %v, want InvalidArgument", err)
	}
}

func TestProtovalidateChecksStreamMessages(t *testing.T) {
	h := start(t, grpcserver.Options{})
	desc := &grpc.StreamDesc{StreamName: "ValidateStream", ClientStreams: true}
	method := "/" + testServiceName + "/ValidateStream"

	call := func(code string) (*registryv1.GetRegionResponse, error) {
		stream, err := h.conn.NewStream(ctxT(t), desc, method)
		if err != nil {
			return nil, err
		}
		// A send error (io.EOF) only means the server already ended the
		// stream; RecvMsg returns the real status.
		_ = stream.SendMsg(&registryv1.GetRegionRequest{Code: code})
		if err := stream.CloseSend(); err != nil {
			return nil, err
		}
		out := new(registryv1.GetRegionResponse)
		return out, stream.RecvMsg(out)
	}

	if _, err := call("6"); status.Code(err) != codes.InvalidArgument {
		t.Fatalf("stream with code \"6\" = %v, want InvalidArgument", err)
	}
	if n := h.svc.calls.Load(); n != 0 {
		t.Fatalf("stream handler got %d invalid messages", n)
	}
	out, err := call("63.06")
	if err != nil || out.GetRegion().GetCode() != "63.06" {
		t.Fatalf("stream with code \"63.06\" = %v, %v", out, err)
	}
}

func TestGracefulStopCompletesInFlightCall(t *testing.T) {
	h := start(t, grpcserver.Options{DrainTimeout: 10 * time.Second})
	h.srv.SetServing(true)

	callErr := make(chan error, 1)
	go func() {
		callErr <- h.conn.Invoke(ctxT(t), "/"+testServiceName+"/Slow", &emptypb.Empty{}, &emptypb.Empty{})
	}()
	select {
	case <-h.svc.slowStarted:
	case <-time.After(5 * time.Second):
		t.Fatal("Slow call never reached the handler")
	}

	h.stop()
	// Graceful stop closes the listener first; wait for that so the call is
	// demonstrably in flight during shutdown rather than before it.
	deadline := time.Now().Add(5 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", h.addr, 100*time.Millisecond)
		if err != nil {
			break
		}
		_ = c.Close()
		if time.Now().After(deadline) {
			t.Fatal("listener still accepting after shutdown began")
		}
		time.Sleep(10 * time.Millisecond)
	}
	select {
	case err := <-h.done:
		t.Fatalf("ServeListener returned (%v) before the in-flight call finished", err)
	default:
	}

	h.svc.release()
	if err := <-callErr; err != nil {
		t.Fatalf("in-flight Slow call = %v, want success", err)
	}
	if err := h.waitServe(t, 5*time.Second); err != nil {
		t.Fatalf("ServeListener = %v, want nil", err)
	}
}

func TestDrainTimeoutCutsOffStuckCalls(t *testing.T) {
	h := start(t, grpcserver.Options{DrainTimeout: 200 * time.Millisecond})

	callErr := make(chan error, 1)
	go func() {
		callErr <- h.conn.Invoke(ctxT(t), "/"+testServiceName+"/Slow", &emptypb.Empty{}, &emptypb.Empty{})
	}()
	<-h.svc.slowStarted

	began := time.Now()
	h.stop()
	if err := h.waitServe(t, 5*time.Second); err != nil {
		t.Fatalf("ServeListener = %v, want nil", err)
	}
	if took := time.Since(began); took < 200*time.Millisecond {
		t.Fatalf("shutdown took %v, expected it to wait the drain timeout", took)
	}
	if err := <-callErr; err == nil {
		t.Fatal("stuck call succeeded; expected it to be cut off")
	}
	if !strings.Contains(h.logs.String(), "grpc drain timeout exceeded") {
		t.Errorf("no drain timeout warning in logs:\n%s", h.logs.String())
	}
}

func TestServeReportsListenError(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	defer busy.Close()
	srv, err := grpcserver.New(grpcserver.Options{Name: "grpcserver-test", Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	addr := busy.Addr().String()
	err = srv.Serve(ctxT(t), addr)
	if err == nil || !strings.Contains(err.Error(), addr) {
		t.Fatalf("Serve on a busy port = %v, want an error naming %s", err, addr)
	}
}

func TestServeBindsAndReportsAddr(t *testing.T) {
	srv, err := grpcserver.New(grpcserver.Options{Name: "grpcserver-test", Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, "127.0.0.1:0") }()

	var addr net.Addr
	for deadline := time.Now().Add(5 * time.Second); addr == nil; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("Addr stayed nil")
		}
		addr = srv.Addr()
	}
	conn, err := grpcserver.Dial(addr.String())
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	defer conn.Close()
	checkHealth(t, healthpb.NewHealthClient(conn), "", healthpb.HealthCheckResponse_NOT_SERVING)

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Serve = %v, want nil", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not return after cancel")
	}
}

// The probe port answers health in plaintext and follows SetServing, while
// the same server's interceptors (run before validation) see every call of
// the main port.
func TestHealthPortAndInterceptors(t *testing.T) {
	var seen []string
	var mu sync.Mutex
	h := start(t, grpcserver.Options{HealthAddr: "127.0.0.1:0",
		Unary: []grpc.UnaryServerInterceptor{func(ctx context.Context, req any, info *grpc.UnaryServerInfo, next grpc.UnaryHandler) (any, error) {
			mu.Lock()
			seen = append(seen, info.FullMethod)
			mu.Unlock()
			return next(ctx, req)
		}}})
	var probe net.Addr
	for deadline := time.Now().Add(5 * time.Second); probe == nil && time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		probe = h.srv.HealthAddr()
	}
	if probe == nil {
		t.Fatal("no health port")
	}
	conn, err := grpcserver.Dial(probe.String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	hc := healthpb.NewHealthClient(conn)
	check := func() healthpb.HealthCheckResponse_ServingStatus {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		r, err := hc.Check(ctx, &healthpb.HealthCheckRequest{})
		if err != nil {
			t.Fatalf("health on the probe port: %v", err)
		}
		return r.GetStatus()
	}
	if got := check(); got != healthpb.HealthCheckResponse_NOT_SERVING {
		t.Fatalf("before SetServing: %v", got)
	}
	h.srv.SetServing(true)
	if got := check(); got != healthpb.HealthCheckResponse_SERVING {
		t.Fatalf("after SetServing: %v", got)
	}
	// The probe port serves health alone.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err = registryv1.NewRegistryServiceClient(conn).GetRegion(ctx, &registryv1.GetRegionRequest{Code: "63"})
	if status.Code(err) != codes.Unimplemented {
		t.Fatalf("a service call on the probe port: %v", err)
	}
	// An invalid request still reaches the interceptor first.
	_, err = registryv1.NewRegistryServiceClient(h.conn).GetRegion(ctx, &registryv1.GetRegionRequest{Code: "x"})
	if status.Code(err) != codes.InvalidArgument {
		t.Fatalf("invalid request: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(seen) == 0 || seen[len(seen)-1] != "/predikat.registry.v1.RegistryService/GetRegion" {
		t.Fatalf("interceptor saw %v", seen)
	}
}

// TestDialList spreads calls over every address of a comma-separated
// target and keeps answering when one of them stops.
func TestDialList(t *testing.T) {
	a, b := start(t, grpcserver.Options{}), start(t, grpcserver.Options{})
	conn, err := grpcserver.Dial(a.addr + "," + b.addr)
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	defer conn.Close()
	client := registryv1.NewRegistryServiceClient(conn)
	call := func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_, err := client.GetRegion(ctx, &registryv1.GetRegionRequest{Code: "63"})
		return err
	}
	for range 20 {
		if err := call(); err != nil {
			t.Fatalf("GetRegion: %v", err)
		}
	}
	if a.registry.calls.Load() == 0 || b.registry.calls.Load() == 0 {
		t.Fatalf("calls not spread: %d and %d", a.registry.calls.Load(), b.registry.calls.Load())
	}
	a.stop()
	if err := a.waitServe(t, 15*time.Second); err != nil {
		t.Fatalf("Serve: %v", err)
	}
	for range 10 {
		if err := call(); err != nil {
			t.Fatalf("GetRegion with one address down: %v", err)
		}
	}
}

// A call in a sampled trace leaves its trace id as the exemplar of the
// latency bucket it fell in: the dashboard links a slow bucket to a trace.
func TestLatencyExemplarsCarryTheTraceID(t *testing.T) {
	tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.AlwaysSample()))
	prev, prevProp := otel.GetTracerProvider(), otel.GetTextMapPropagator()
	otel.SetTracerProvider(tp)
	otel.SetTextMapPropagator(propagation.TraceContext{})
	t.Cleanup(func() {
		otel.SetTracerProvider(prev)
		otel.SetTextMapPropagator(prevProp)
		_ = tp.Shutdown(context.Background())
	})

	reg := prometheus.NewRegistry()
	h := start(t, grpcserver.Options{Metrics: reg})
	h.srv.SetServing(true)
	ctx, span := tp.Tracer("test").Start(context.Background(), "caller")
	if _, err := registryv1.NewRegistryServiceClient(h.conn).GetRegion(ctx, &registryv1.GetRegionRequest{Code: "63"}); err != nil {
		t.Fatal(err)
	}
	span.End()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	want := span.SpanContext().TraceID().String()
	for _, mf := range mfs {
		if mf.GetName() != "grpc_server_handling_seconds" {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, b := range m.GetHistogram().GetBucket() {
				for _, l := range b.GetExemplar().GetLabel() {
					if l.GetName() == "trace_id" && l.GetValue() == want {
						return
					}
				}
			}
		}
	}
	t.Fatalf("no grpc_server_handling_seconds bucket has the exemplar trace_id=%s", want)
}
