package natsx

import (
	"context"
	"fmt"

	"github.com/nats-io/nats.go/jetstream"
)

// EnsureStream creates the stream described by cfg, or updates it to cfg if
// it already exists. Every service calls it at start-up, so it must be
// idempotent: running twice with the same config changes nothing, and a
// changed config (say a new MaxAge) is applied in place. Changes JetStream
// cannot make in place (storage type, for example) fail with an error naming
// the stream.
func EnsureStream(ctx context.Context, js jetstream.JetStream, cfg jetstream.StreamConfig) (jetstream.Stream, error) {
	s, err := js.CreateOrUpdateStream(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("ensure stream %q: %w", cfg.Name, err)
	}
	return s, nil
}

// EnsureKV creates the key-value bucket described by cfg, or updates it to
// cfg if it already exists, with the same idempotence as EnsureStream.
func EnsureKV(ctx context.Context, js jetstream.JetStream, cfg jetstream.KeyValueConfig) (jetstream.KeyValue, error) {
	kv, err := js.CreateOrUpdateKeyValue(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("ensure key-value bucket %q: %w", cfg.Bucket, err)
	}
	return kv, nil
}
