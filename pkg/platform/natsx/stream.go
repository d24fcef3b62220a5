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
//
// Safety settings never go down: a process started with a lower replica
// count (a one-off job, a canary missing its PREDIKAT_REPLICAS) keeps the
// stream's replicas, and delete/purge protection once on stays on. Lowering
// them is an operator's deliberate act, not a side effect of a start.
func EnsureStream(ctx context.Context, js jetstream.JetStream, cfg jetstream.StreamConfig) (jetstream.Stream, error) {
	if cur, err := js.Stream(ctx, cfg.Name); err == nil {
		have := cur.CachedInfo().Config
		cfg.Replicas = max(cfg.Replicas, have.Replicas)
		cfg.DenyDelete = cfg.DenyDelete || have.DenyDelete
		cfg.DenyPurge = cfg.DenyPurge || have.DenyPurge
	}
	s, err := js.CreateOrUpdateStream(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("ensure stream %q: %w", cfg.Name, err)
	}
	return s, nil
}

// EnsureKV creates the key-value bucket described by cfg, or updates it to
// cfg if it already exists, with the same idempotence as EnsureStream; its
// replicas and history (the audit trail) never go down either.
func EnsureKV(ctx context.Context, js jetstream.JetStream, cfg jetstream.KeyValueConfig) (jetstream.KeyValue, error) {
	if cur, err := js.KeyValue(ctx, cfg.Bucket); err == nil {
		if st, err := cur.Status(ctx); err == nil {
			cfg.History = max(cfg.History, uint8(st.History()))
			if info, ok := st.(*jetstream.KeyValueBucketStatus); ok {
				cfg.Replicas = max(cfg.Replicas, info.StreamInfo().Config.Replicas)
			}
		}
	}
	kv, err := js.CreateOrUpdateKeyValue(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("ensure key-value bucket %q: %w", cfg.Bucket, err)
	}
	return kv, nil
}
