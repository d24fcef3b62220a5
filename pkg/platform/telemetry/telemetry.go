// Package telemetry sets up OpenTelemetry tracing for a Predikat process
// from the standard OTEL_* environment variables. Tracing is off unless
// the environment asks for it: OTEL_TRACES_EXPORTER (otlp or console) or an
// OTLP endpoint (OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_EXPORTER_OTLP_TRACES_ENDPOINT)
// is set, and OTEL_SDK_DISABLED is not true. The exporter, the sampler
// (OTEL_TRACES_SAMPLER), the batcher (OTEL_BSP_*) and the resource
// (OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES) read their variables
// themselves.
//
// W3C trace context (traceparent, tracestate) and baggage are propagated
// even with tracing off, so a trace that passes through a process which
// records nothing still arrives whole at the next one.
package telemetry

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/exporters/stdout/stdouttrace"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// Shutdown flushes the spans still buffered and stops the exporter.
type Shutdown func(context.Context) error

// Setup installs the global propagator and, when the environment enables
// tracing, a tracer provider exporting the spans of service (the default
// service.name; OTEL_SERVICE_NAME wins).
func Setup(ctx context.Context, service string, log *slog.Logger) (Shutdown, error) {
	otel.SetTextMapPropagator(propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{}))
	exporter, err := exporterFromEnv(ctx, os.Getenv)
	if err != nil || exporter == nil {
		return func(context.Context) error { return nil }, err
	}
	res, err := resource.New(ctx,
		// Later options win: the environment overrides the default name.
		resource.WithAttributes(attribute.String("service.name", service)),
		resource.WithTelemetrySDK(),
		resource.WithHost(),
		resource.WithFromEnv(),
	)
	if err != nil && !errors.Is(err, resource.ErrPartialResource) {
		return nil, fmt.Errorf("telemetry: resource: %w", err)
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exporter), sdktrace.WithResource(res))
	otel.SetTracerProvider(tp)
	otel.SetErrorHandler(otel.ErrorHandlerFunc(func(err error) { log.Warn("opentelemetry", "err", err) }))
	log.Info("tracing on", "exporter", exporterName(os.Getenv))
	return tp.Shutdown, nil
}

// exporterName is the exporter the environment names ("" for none).
func exporterName(env func(string) string) string {
	if strings.EqualFold(env("OTEL_SDK_DISABLED"), "true") {
		return ""
	}
	name := strings.TrimSpace(env("OTEL_TRACES_EXPORTER"))
	if name == "" && (env("OTEL_EXPORTER_OTLP_ENDPOINT") != "" || env("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") != "") {
		name = "otlp"
	}
	if name == "none" {
		return ""
	}
	return name
}

// exporterFromEnv builds the exporter the environment names, nil for none.
func exporterFromEnv(ctx context.Context, env func(string) string) (sdktrace.SpanExporter, error) {
	switch name := exporterName(env); name {
	case "":
		return nil, nil
	case "console":
		exp, err := stdouttrace.New(stdouttrace.WithWriter(os.Stderr))
		if err != nil {
			return nil, fmt.Errorf("telemetry: console exporter: %w", err)
		}
		return exp, nil
	case "otlp":
		// The specification's default protocol is http/protobuf.
		proto := env("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL")
		if proto == "" {
			proto = env("OTEL_EXPORTER_OTLP_PROTOCOL")
		}
		var (
			exp sdktrace.SpanExporter
			err error
		)
		switch proto {
		case "", "http/protobuf":
			exp, err = otlptracehttp.New(ctx)
		case "grpc":
			exp, err = otlptracegrpc.New(ctx)
		default:
			return nil, fmt.Errorf("telemetry: OTEL_EXPORTER_OTLP_PROTOCOL %q: want grpc or http/protobuf", proto)
		}
		if err != nil {
			return nil, fmt.Errorf("telemetry: otlp exporter (%s): %w", proto, err)
		}
		return exp, nil
	default:
		return nil, fmt.Errorf("telemetry: OTEL_TRACES_EXPORTER %q: want otlp, console or none", name)
	}
}

// Flush runs s with a few seconds to spare, as a deferred call at the end
// of a process: the last spans are exported, a dead collector cannot hold
// the shutdown.
func (s Shutdown) Flush(log *slog.Logger) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s(ctx); err != nil {
		log.Warn("tracing: spans not flushed", "err", err)
	}
}
