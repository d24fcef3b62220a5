package natsx

import (
	"context"
	"errors"
	"fmt"
	"reflect"

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
//
// While JetStream cannot do it yet (a cluster still forming has no peers
// to place an R3 stream on, JetStream is starting, a leader is being
// elected) EnsureStream waits and retries until ctx ends, logging each
// retry (see Retry): a service started with its NATS cluster must wait
// for it, not exit and be restarted in a loop. Other errors fail at once.
func EnsureStream(ctx context.Context, js jetstream.JetStream, cfg jetstream.StreamConfig, opts ...RetryOption) (jetstream.Stream, error) {
	var s jetstream.Stream
	err := Retry(ctx, fmt.Sprintf("ensure stream %q", cfg.Name), func(ctx context.Context) error {
		var err error
		s, err = ensureStreamOnce(ctx, js, cfg)
		return err
	}, opts...)
	return s, err
}

func ensureStreamOnce(ctx context.Context, js jetstream.JetStream, cfg jetstream.StreamConfig) (jetstream.Stream, error) {
	cur, err := js.Stream(ctx, cfg.Name)
	switch {
	case err == nil:
		have := cur.CachedInfo().Config
		cfg.Replicas = max(cfg.Replicas, have.Replicas)
		cfg.DenyDelete = cfg.DenyDelete || have.DenyDelete
		cfg.DenyPurge = cfg.DenyPurge || have.DenyPurge
		if holds(have, cfg) {
			// Nothing to change, so no update: every start of every
			// service would otherwise update the stream while others
			// create consumers on it, and nats-server races between the
			// two (a data race between fileStore.UpdateConfig and
			// fileStore.ConsumerStore in 2.15.2).
			return cur, nil
		}
	case !errors.Is(err, jetstream.ErrStreamNotFound):
		// Not knowing the current settings, an update could lower them.
		return nil, err
	}
	return js.CreateOrUpdateStream(ctx, cfg)
}

// holdsKV says whether a bucket's stream, configured as have, already is as
// the settings Predikat's buckets use (description, history, storage,
// replicas) ask; a bucket config setting anything else is always updated.
func holdsKV(have jetstream.StreamConfig, want jetstream.KeyValueConfig) bool {
	rest := want
	rest.Bucket, rest.Description, rest.History, rest.Storage, rest.Replicas = "", "", 0, 0, 0
	return reflect.ValueOf(rest).IsZero() &&
		have.Description == want.Description && have.MaxMsgsPerSubject == int64(max(want.History, 1)) &&
		have.Storage == want.Storage && have.Replicas == max(want.Replicas, 1)
}

// holds says whether a stream configured as have already is as want asks.
// Every field is compared, so that a setting the code no longer makes (a
// limit once set) is still taken back by the update, except where want
// leaves the server its default: a zero limit is the server's "none" (0 or
// -1), a zero de-duplication window the server's two minutes, a nil
// placement or source the server's choice; the metadata is the server's.
func holds(have, want jetstream.StreamConfig) bool {
	h, w := reflect.ValueOf(have), reflect.ValueOf(want)
	t := w.Type()
	for i := range w.NumField() {
		name, wf, hf := t.Field(i).Name, w.Field(i), h.Field(i)
		switch {
		case name == "Metadata":
			continue
		case !wf.IsZero() || wf.Kind() == reflect.Bool:
			if !reflect.DeepEqual(wf.Interface(), hf.Interface()) {
				return false
			}
		case name == "Duplicates", name == "Placement", name == "FirstSeq":
			continue
		case wf.CanInt():
			if hf.Int() != 0 && hf.Int() != -1 {
				return false
			}
		case !hf.IsZero():
			return false
		}
	}
	return true
}

// EnsureKV creates the key-value bucket described by cfg, or updates it to
// cfg if it already exists, with the same idempotence and the same waiting
// for JetStream as EnsureStream; its replicas and history (the audit trail)
// never go down either.
func EnsureKV(ctx context.Context, js jetstream.JetStream, cfg jetstream.KeyValueConfig, opts ...RetryOption) (jetstream.KeyValue, error) {
	var kv jetstream.KeyValue
	err := Retry(ctx, fmt.Sprintf("ensure key-value bucket %q", cfg.Bucket), func(ctx context.Context) error {
		var err error
		kv, err = ensureKVOnce(ctx, js, cfg)
		return err
	}, opts...)
	return kv, err
}

func ensureKVOnce(ctx context.Context, js jetstream.JetStream, cfg jetstream.KeyValueConfig) (jetstream.KeyValue, error) {
	cur, err := js.KeyValue(ctx, cfg.Bucket)
	switch {
	case err == nil:
		st, err := cur.Status(ctx)
		if err != nil {
			return nil, err
		}
		cfg.History = max(cfg.History, uint8(st.History()))
		if info, ok := st.(*jetstream.KeyValueBucketStatus); ok {
			have := info.StreamInfo().Config
			cfg.Replicas = max(cfg.Replicas, have.Replicas)
			if holdsKV(have, cfg) {
				return cur, nil // no update: see ensureStreamOnce
			}
		}
	case !errors.Is(err, jetstream.ErrBucketNotFound):
		// Not knowing the current settings, an update could lower them.
		return nil, err
	}
	return js.CreateOrUpdateKeyValue(ctx, cfg)
}

// LeaderReadsKV turns direct gets off on a bucket's stream and binds the
// bucket again, so that every Get is answered by the stream's leader. A
// direct get may be answered by any replica, and a follower a moment behind
// answers with an older value: fine for a cache, wrong for a read a decision
// rests on without a compare-and-set write after it (nats-server#4710).
// EnsureKV leaves the setting alone while the bucket's own settings are
// unchanged; when it does update them, the next call turns it off again.
func LeaderReadsKV(ctx context.Context, js jetstream.JetStream, bucket string) (jetstream.KeyValue, error) {
	name := "KV_" + bucket
	st, err := js.Stream(ctx, name)
	if err != nil {
		return nil, fmt.Errorf("bucket %q: %w", bucket, err)
	}
	if cfg := st.CachedInfo().Config; cfg.AllowDirect {
		cfg.AllowDirect = false
		if _, err := js.UpdateStream(ctx, cfg); err != nil {
			return nil, fmt.Errorf("bucket %q: turn direct gets off: %w", bucket, err)
		}
	}
	kv, err := js.KeyValue(ctx, bucket)
	if err != nil {
		return nil, fmt.Errorf("bucket %q: %w", bucket, err)
	}
	return kv, nil
}
