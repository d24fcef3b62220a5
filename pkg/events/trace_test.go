package events

import (
	"context"
	"testing"

	"github.com/nats-io/nats.go"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

func TestTraceContextTravelsInLowerCaseW3CHeaders(t *testing.T) {
	prev := otel.GetTextMapPropagator()
	otel.SetTextMapPropagator(propagation.TraceContext{})
	t.Cleanup(func() { otel.SetTextMapPropagator(prev) })

	sc := trace.NewSpanContext(trace.SpanContextConfig{
		TraceID:    trace.TraceID{0x4b, 0xf9, 0x2f, 0x35, 0x77, 0xb3, 0x4d, 0xa6, 0xa3, 0xce, 0x92, 0x9d, 0x0e, 0x0e, 0x47, 0x36},
		SpanID:     trace.SpanID{0x00, 0xf0, 0x67, 0xaa, 0x0b, 0xa9, 0x02, 0xb7},
		TraceFlags: trace.FlagsSampled,
	})
	m := nats.NewMsg("predikat.assessment.ombudsman.2024.pemkab-hss")
	InjectTrace(trace.ContextWithSpanContext(context.Background(), sc), m)
	// NATS header names are case-sensitive: another language's client
	// looks for the W3C spelling.
	if got := m.Header["traceparent"]; len(got) != 1 || got[0] != "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01" {
		t.Fatalf("traceparent header %q (headers %v)", got, m.Header)
	}
	back := trace.SpanContextFromContext(ExtractTrace(context.Background(), m.Header))
	if back.TraceID() != sc.TraceID() || back.SpanID() != sc.SpanID() || !back.IsRemote() {
		t.Fatalf("extracted %v, want %v (remote)", back, sc)
	}
	// No span, no header; no header, no trace.
	m = nats.NewMsg("x")
	InjectTrace(context.Background(), m)
	if len(m.Header) != 0 {
		t.Fatalf("headers %v without a span", m.Header)
	}
	if trace.SpanContextFromContext(ExtractTrace(context.Background(), nil)).IsValid() {
		t.Fatal("a trace from no headers")
	}
}
