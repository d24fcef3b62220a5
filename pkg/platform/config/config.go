// Package config holds what every Predikat binary reads from its
// environment: default addresses, env lookups and the logger.
package config

import (
	"log/slog"
	"os"
	"strconv"
	"strings"
)

// Default addresses. 4222 and 6379 are left to the user's own NATS and Redis.
const (
	DefaultNATSURL    = "nats://127.0.0.1:4223"
	DefaultNATSPort   = 4223
	DefaultRegistry   = "127.0.0.1:50051"
	DefaultAssessment = "127.0.0.1:50052"
	DefaultRanking    = "127.0.0.1:50053"
)

// Env returns the environment variable key, or def when it is unset or empty.
func Env(key, def string) string {
	if v := strings.TrimSpace(os.Getenv(key)); v != "" {
		return v
	}
	return def
}

// EnvInt is Env for integers; an unparsable value falls back to def.
func EnvInt(key string, def int) int {
	if n, err := strconv.Atoi(Env(key, "")); err == nil {
		return n
	}
	return def
}

// Logger returns the process logger: text for a terminal, JSON when
// PREDIKAT_LOG_FORMAT=json (what log collectors in Kubernetes want), at the
// level in PREDIKAT_LOG_LEVEL (debug, info, warn, error).
func Logger() *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(Env("PREDIKAT_LOG_LEVEL", "info")))
	opts := &slog.HandlerOptions{Level: level}
	var h slog.Handler = slog.NewTextHandler(os.Stderr, opts)
	if Env("PREDIKAT_LOG_FORMAT", "text") == "json" {
		h = slog.NewJSONHandler(os.Stderr, opts)
	}
	l := slog.New(h)
	slog.SetDefault(l)
	return l
}
