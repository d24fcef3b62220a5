package telemetry

import (
	"context"
	"testing"
)

func TestExporterNameFollowsTheEnvironment(t *testing.T) {
	for _, c := range []struct {
		env  map[string]string
		want string
	}{
		{nil, ""}, // off by default
		{map[string]string{"OTEL_TRACES_EXPORTER": "otlp"}, "otlp"},
		{map[string]string{"OTEL_TRACES_EXPORTER": "console"}, "console"},
		{map[string]string{"OTEL_TRACES_EXPORTER": "none", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318"}, ""},
		{map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318"}, "otlp"},
		{map[string]string{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://c:4318/v1/traces"}, "otlp"},
		{map[string]string{"OTEL_TRACES_EXPORTER": "otlp", "OTEL_SDK_DISABLED": "TRUE"}, ""},
	} {
		if got := exporterName(func(k string) string { return c.env[k] }); got != c.want {
			t.Errorf("%v: exporter %q, want %q", c.env, got, c.want)
		}
	}
}

func TestExporterFromEnvRefusesWhatItCannotDo(t *testing.T) {
	for _, env := range []map[string]string{
		{"OTEL_TRACES_EXPORTER": "zipkin"},
		{"OTEL_TRACES_EXPORTER": "otlp", "OTEL_EXPORTER_OTLP_PROTOCOL": "http/json"},
	} {
		if _, err := exporterFromEnv(context.Background(), func(k string) string { return env[k] }); err == nil {
			t.Errorf("%v: accepted", env)
		}
	}
	for _, env := range []map[string]string{
		{"OTEL_TRACES_EXPORTER": "otlp", "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"},
		{"OTEL_TRACES_EXPORTER": "otlp"},
		{"OTEL_TRACES_EXPORTER": "console"},
	} {
		exp, err := exporterFromEnv(context.Background(), func(k string) string { return env[k] })
		if err != nil || exp == nil {
			t.Errorf("%v: exporter %v, err %v", env, exp, err)
			continue
		}
		_ = exp.Shutdown(context.Background())
	}
}
