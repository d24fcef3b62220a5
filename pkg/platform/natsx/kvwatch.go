package natsx

import (
	"context"
	"errors"
	"fmt"

	"github.com/nats-io/nats.go/jetstream"
)

// WatchKV calls apply with every entry of a key-value bucket (puts and
// deletes), the values stored now first, and returns once those are
// handed over; it then goes on in the background with every later entry
// until ctx ends. The watcher is an ordered consumer: after a NATS
// restart it resubscribes by itself from where it was.
func WatchKV(ctx context.Context, kv jetstream.KeyValue, apply func(jetstream.KeyValueEntry)) error {
	w, err := kv.WatchAll(ctx)
	if err != nil {
		return fmt.Errorf("watch %s: %w", kv.Bucket(), err)
	}
	for e := range w.Updates() {
		if e == nil { // the stored values are all handed over
			go follow(ctx, w, apply)
			return nil
		}
		apply(e)
	}
	_ = w.Stop()
	if err := ctx.Err(); err != nil {
		return err
	}
	return errors.New("watch " + kv.Bucket() + ": closed before the initial values")
}

func follow(ctx context.Context, w jetstream.KeyWatcher, apply func(jetstream.KeyValueEntry)) {
	// Stopping a watcher only unsubscribes; the watch is over either way.
	defer func() { _ = w.Stop() }()
	for {
		select {
		case <-ctx.Done():
			return
		case e, ok := <-w.Updates():
			if !ok {
				return
			}
			if e != nil {
				apply(e)
			}
		}
	}
}
