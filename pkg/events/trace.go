package events

import (
	"context"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
)

// Trace context travels with every event as W3C headers (traceparent,
// tracestate), so one trace runs from the call that wrote an event to each
// consumer that applies it. The headers are part of the contract: any
// subscriber, in any language, may continue the trace; none has to.

// tracerName names the spans this package starts for consumers.
const tracerName = "github.com/predikat-id/predikat/pkg/events"

// carrier is a NATS header as an OpenTelemetry carrier. NATS header names
// are case-sensitive: the keys are written as the propagator spells them
// (traceparent, lower case, as W3C defines it), not canonicalised as
// http.Header would, so a subscriber in another language finds them.
type carrier nats.Header

func (c carrier) Get(key string) string { return nats.Header(c).Get(key) }
func (c carrier) Set(key, value string) { nats.Header(c).Set(key, value) }
func (c carrier) Keys() []string {
	keys := make([]string, 0, len(c))
	for k := range c {
		keys = append(keys, k)
	}
	return keys
}

// InjectTrace writes ctx's trace context into m's headers with the global
// propagator. Without a span in ctx it writes nothing.
func InjectTrace(ctx context.Context, m *nats.Msg) {
	if m.Header == nil {
		m.Header = nats.Header{}
	}
	otel.GetTextMapPropagator().Inject(ctx, carrier(m.Header))
}

// ExtractTrace returns ctx carrying the trace context of header, if it has
// one.
func ExtractTrace(ctx context.Context, header nats.Header) context.Context {
	if header == nil {
		return ctx
	}
	return otel.GetTextMapPropagator().Extract(ctx, carrier(header))
}

// StartConsume starts the span of a consumer handling one message of
// stream: a child of the trace that wrote the message, named after what
// the consumer does ("ranking apply", "awardfeed deliver"). The caller ends
// it when the message is handled.
func StartConsume(ctx context.Context, name, stream, subject string, header nats.Header) (context.Context, trace.Span) {
	ctx = ExtractTrace(ctx, header)
	return otel.Tracer(tracerName).Start(ctx, name,
		trace.WithSpanKind(trace.SpanKindConsumer),
		trace.WithAttributes(
			attribute.String("messaging.system", "nats"),
			attribute.String("messaging.destination.name", subject),
			attribute.String("messaging.nats.stream", stream),
			attribute.String("messaging.message.id", header.Get(HeaderID)),
		))
}

// Publish publishes m to JetStream inside a producer span, with the span's
// trace context in m's headers: the write's trace continues in every
// consumer of the event.
func Publish(ctx context.Context, js jetstream.JetStream, m *nats.Msg, opts ...jetstream.PublishOpt) (*jetstream.PubAck, error) {
	span := StartPublish(ctx, m)
	ack, err := js.PublishMsg(ctx, m, opts...)
	EndPublish(span, ack, err)
	if err != nil {
		return nil, err //nolint:wrapcheck // the callers say what they published
	}
	return ack, nil
}

// StartPublish starts the producer span of publishing m and writes its
// trace context into m's headers; EndPublish ends it with the outcome. For
// a publish whose acknowledgement arrives later (PublishMsgAsync).
func StartPublish(ctx context.Context, m *nats.Msg) trace.Span {
	ctx, span := otel.Tracer(tracerName).Start(ctx, "publish "+m.Header.Get(HeaderType),
		trace.WithSpanKind(trace.SpanKindProducer),
		trace.WithAttributes(
			attribute.String("messaging.system", "nats"),
			attribute.String("messaging.destination.name", m.Subject),
			attribute.String("messaging.message.id", m.Header.Get(HeaderID)),
		))
	InjectTrace(ctx, m)
	return span
}

// EndPublish ends a span StartPublish started.
func EndPublish(span trace.Span, ack *jetstream.PubAck, err error) {
	defer span.End()
	if err != nil {
		span.RecordError(err)
		span.SetStatus(codes.Error, err.Error())
		return
	}
	span.SetAttributes(attribute.String("messaging.nats.stream", ack.Stream), attribute.Int64("messaging.nats.sequence", int64(ack.Sequence)))
}
