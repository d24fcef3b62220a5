// Package tracing_test proves on a running stack, with an in-memory
// exporter, that one trace runs from a gRPC call through the event it wrote
// to the consumers of that event: RecordAssessment to the ranking apply,
// PublishRound to each AwardGranted and the awardfeed subscriber.
package tracing_test

import (
	"context"
	"testing"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/predikat-id/predikat/cmd/internal/stack"
	"github.com/predikat-id/predikat/cmd/internal/stacktest"
	"github.com/predikat-id/predikat/pkg/awardfeed"
	assessmentv1 "github.com/predikat-id/predikat/pkg/gen/predikat/assessment/v1"
	registryv1 "github.com/predikat-id/predikat/pkg/gen/predikat/registry/v1"
	"github.com/predikat-id/predikat/pkg/platform/testenv/eventtest"
	"github.com/predikat-id/predikat/pkg/platform/testenv/natstest"
	"github.com/predikat-id/predikat/pkg/platform/testenv/redistest"
)

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// spans is what the exporter holds, by span id.
func spans(exp *tracetest.InMemoryExporter) map[trace.SpanID]tracetest.SpanStub {
	out := map[trace.SpanID]tracetest.SpanStub{}
	for _, s := range exp.GetSpans() {
		out[s.SpanContext.SpanID()] = s
	}
	return out
}

// waitFor returns the spans named name in trace tid once there are at
// least n of them.
func waitFor(t *testing.T, exp *tracetest.InMemoryExporter, tid trace.TraceID, name string, n int) []tracetest.SpanStub {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		var found []tracetest.SpanStub
		for _, s := range exp.GetSpans() {
			if s.Name == name && s.SpanContext.TraceID() == tid {
				found = append(found, s)
			}
		}
		if len(found) >= n {
			return found
		}
		if time.Now().After(deadline) {
			t.Fatalf("trace %s has %d spans %q, want %d", tid, len(found), name, n)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// chain walks from s to the root of its trace and returns the names on the
// way, s first. Every parent must be exported: a gap is a broken trace. A
// parent is exported when it ends, which for a server's span is after the
// reply left, so the consumer's span can be there first: a missing parent
// is waited for a few seconds before it counts as a gap.
func chain(t *testing.T, exp *tracetest.InMemoryExporter, s tracetest.SpanStub) []string {
	t.Helper()
	all := spans(exp)
	names := []string{s.Name}
	for s.Parent.IsValid() {
		p, ok := all[s.Parent.SpanID()]
		for deadline := time.Now().Add(5 * time.Second); !ok && time.Now().Before(deadline); {
			time.Sleep(20 * time.Millisecond)
			all = spans(exp)
			p, ok = all[s.Parent.SpanID()]
		}
		if !ok {
			t.Fatalf("span %q: parent %s not exported", s.Name, s.Parent.SpanID())
		}
		if p.SpanContext.TraceID() != s.SpanContext.TraceID() {
			t.Fatalf("span %q is in trace %s, its parent %q in %s", s.Name, s.SpanContext.TraceID(), p.Name, p.SpanContext.TraceID())
		}
		s = p
		names = append(names, s.Name)
	}
	return names
}

func wantChain(t *testing.T, got []string, want ...string) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("trace path %q, want %q", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("trace path %q, want %q", got, want)
		}
	}
}

func TestOneTraceFromTheCallToEveryConsumer(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	prevTP, prevProp := otel.GetTracerProvider(), otel.GetTextMapPropagator()
	otel.SetTracerProvider(tp)
	otel.SetTextMapPropagator(propagation.TraceContext{})
	t.Cleanup(func() {
		_ = tp.Shutdown(context.Background())
		otel.SetTracerProvider(prevTP)
		otel.SetTextMapPropagator(prevProp)
	})

	ns := natstest.Start(t)
	svcs := stacktest.Services(t, ns, stack.ServicesOptions{RedisAddr: redistest.Start(t).Addr()})
	addrs := map[string]string{}
	for _, name := range stack.All {
		addr, err := svcs.Start(name, "127.0.0.1:0", addrs[stack.Registry])
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		addrs[name] = addr
	}
	(&stacktest.Registry{Client: registryv1.NewRegistryServiceClient(stacktest.Dial(t, addrs[stack.Registry], "admin"))}).Create(t,
		eventtest.Inst{ID: "pemkab-hss", Name: "Pemerintah Kabupaten Hulu Sungai Selatan", Kind: eventtest.Pemkab, Region: "63.06"})
	asm := assessmentv1.NewAssessmentServiceClient(stacktest.Dial(t, addrs[stack.Assessment], "admin"))
	if _, err := asm.CreateRound(ctxT(t), &assessmentv1.CreateRoundRequest{SchemeId: "ombudsman", Year: 2024}); err != nil {
		t.Fatal(err)
	}
	tracer := tp.Tracer("tracing_test")

	// A record: the call, the service's publish, the ranking's apply.
	ctx, root := tracer.Start(ctxT(t), "ministry system records")
	if _, err := asm.RecordAssessment(ctx, &assessmentv1.RecordAssessmentRequest{RoundId: "ombudsman-2024", InstitutionId: "pemkab-hss",
		Input:     &assessmentv1.AssessmentInput{Result: &assessmentv1.AssessmentInput_ReportedTotal{ReportedTotal: "96.52"}},
		RequestId: "trace-hss"}); err != nil {
		t.Fatal(err)
	}
	root.End()
	apply := waitFor(t, exp, root.SpanContext().TraceID(), "ranking apply", 1)[0]
	wantChain(t, chain(t, exp, apply),
		"ranking apply",
		"publish predikat.events.v1.AssessmentRecorded",
		"predikat.assessment.v1.AssessmentService/RecordAssessment", // the server's span
		"predikat.assessment.v1.AssessmentService/RecordAssessment", // the client's
		"ministry system records")
	if apply.SpanKind != trace.SpanKindConsumer {
		t.Errorf("ranking apply is a %v span, want consumer", apply.SpanKind)
	}

	// Publishing the round: each award granted, and each delivery to a
	// subscriber, in the trace of the PublishRound call.
	if _, err := asm.CloseRound(ctxT(t), &assessmentv1.CloseRoundRequest{RoundId: "ombudsman-2024"}); err != nil {
		t.Fatal(err)
	}
	delivered := make(chan trace.SpanContext, 16)
	sub, err := awardfeed.Subscribe(ctxT(t), ns.JetStream(t), "portal", awardfeed.Filter{}, func(ctx context.Context, ev awardfeed.Event) error {
		if ev.Granted != nil {
			delivered <- trace.SpanContextFromContext(ctx)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Stop()
	ctx, root = tracer.Start(ctxT(t), "ceremony desk publishes")
	pub, err := asm.PublishRound(ctx, &assessmentv1.PublishRoundRequest{RoundId: "ombudsman-2024", ForceReason: "test: published at once",
		Ceremony: &assessmentv1.Ceremony{Name: "Penganugerahan Predikat Kepatuhan 2024", Place: "Banjarmasin", Date: "2024-12-11"}})
	root.End()
	if err != nil {
		t.Fatal(err)
	}
	n := int(pub.GetAwardsGranted())
	if n == 0 {
		t.Fatal("the round granted no award; the test needs one")
	}
	tid := root.SpanContext().TraceID()
	for range n {
		select {
		case sc := <-delivered:
			if sc.TraceID() != tid {
				t.Errorf("the subscriber's handler runs in trace %s, want the PublishRound's %s", sc.TraceID(), tid)
			}
		case <-time.After(15 * time.Second):
			t.Fatal("an award never reached the subscriber")
		}
	}
	for _, d := range waitFor(t, exp, tid, "awardfeed deliver", n) {
		wantChain(t, chain(t, exp, d),
			"awardfeed deliver",
			"publish predikat.events.v1.AwardGranted",
			"predikat.assessment.v1.AssessmentService/PublishRound",
			"predikat.assessment.v1.AssessmentService/PublishRound",
			"ceremony desk publishes")
	}
	// The round's own event reaches the ranking in the same trace.
	waitFor(t, exp, tid, "publish predikat.events.v1.RoundPublished", 1)
	waitFor(t, exp, tid, "ranking apply", 1)
}
