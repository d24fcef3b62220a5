package wiring

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/predikat-id/predikat/pkg/events"
	"github.com/predikat-id/predikat/services/ranking/internal/cache"
	"github.com/predikat-id/predikat/services/ranking/internal/consumer"
	"github.com/predikat-id/predikat/services/ranking/internal/store"
)

// CacheConfig sizes the per-replica cache of GetLeaderboard and
// GetStanding answers (see services/ranking/internal/cache).
type CacheConfig struct {
	// Off serves every read from Redis.
	Off bool
	// MaxBytes bounds the answers kept (default 32 MiB).
	MaxBytes int64
	// Every is how often the watcher looks at the consumers and at Redis
	// for changes other replicas made (default 100 ms): the most a cached
	// answer trails such a change by.
	Every time.Duration
	// MaxLag is how long after its last clean look the cache is still
	// served (default 10 × Every): past it, while NATS or Redis does not
	// answer the watcher, every read goes to Redis.
	MaxLag time.Duration
}

// Defaults of CacheConfig.
const (
	DefaultCacheBytes = 32 << 20
	DefaultCacheEvery = 100 * time.Millisecond
)

func (c CacheConfig) withDefaults() CacheConfig {
	if c.MaxBytes <= 0 {
		c.MaxBytes = DefaultCacheBytes
	}
	if c.Every <= 0 {
		c.Every = DefaultCacheEvery
	}
	if c.MaxLag <= 0 {
		c.MaxLag = 10 * c.Every
	}
	return c
}

// cacheWatcher looks at what can tell that the boards changed under this
// replica: the shared durable consumers (an event acknowledged moves their
// ack floor; one delivered but not yet acknowledged may be in Redis
// already, so the cache waits) and Redis itself (layout, rebuild mark,
// applied sequences, generations: a flush or a rebuild by any replica).
func cacheWatcher(cfg CacheConfig, f *cache.Freshness, js jetstream.JetStream, st *store.Store, log *slog.Logger) *cache.Watcher {
	looks := []cache.Look{st.Version}
	for _, stream := range []string{events.Assessments, events.Rounds} {
		looks = append(looks, durableLook(js, stream))
	}
	return &cache.Watcher{F: f, Looks: looks, Every: cfg.Every, Timeout: cfg.MaxLag, Log: log.With("component", "answer cache")}
}

// durableLook reads the shared durable consumer of stream: its ack floor
// and delivered sequence are its state; it is settled with nothing
// delivered and unacknowledged (every event delivered was applied and
// acknowledged, so Redis holds nothing the ack floor does not show).
func durableLook(js jetstream.JetStream, stream string) cache.Look {
	return func(ctx context.Context) (string, bool, error) {
		c, err := js.Consumer(ctx, stream, consumer.Durable)
		if err != nil {
			return "", false, fmt.Errorf("consumer %s of %s: %w", consumer.Durable, stream, err)
		}
		ci := c.CachedInfo()
		return fmt.Sprintf("%s %d %d %s", stream, ci.AckFloor.Stream, ci.Delivered.Stream, ci.Created.UTC().Format(time.RFC3339Nano)), ci.NumAckPending == 0, nil
	}
}
