package wiring

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/predikat-id/predikat/pkg/platform/metrics"
	"github.com/predikat-id/predikat/services/ranking/internal/cache"
	"github.com/predikat-id/predikat/services/ranking/internal/consumer"
	"github.com/predikat-id/predikat/services/ranking/internal/rebuild"
	"github.com/predikat-id/predikat/services/ranking/internal/server"
)

// rankingMetrics is what only the ranking service knows: how far its
// consumers trail the streams, how long applying takes, and its rebuilds.
type rankingMetrics struct {
	reg                   prometheus.Registerer
	lag, pending, stalled *prometheus.GaugeVec
	serving               prometheus.Gauge
	applySeconds          *prometheus.HistogramVec
	applied               *prometheus.CounterVec
	rebuilds              *prometheus.CounterVec
	rebuildSeconds        prometheus.Histogram
	rebuildEntries        prometheus.Gauge
}

func newRankingMetrics(reg prometheus.Registerer) *rankingMetrics {
	const sub = "ranking"
	m := &rankingMetrics{
		reg: reg,
		lag: prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: metrics.Namespace, Subsystem: sub, Name: "consumer_lag",
			Help: "Events of the stream not yet applied to the boards: its last sequence minus the one Redis applied (the consumer's pending count while the stream is not read)."}, []string{"stream"}),
		pending: prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: metrics.Namespace, Subsystem: sub, Name: "consumer_pending",
			Help: "The durable consumer's pending plus awaiting-acknowledgement messages."}, []string{"stream"}),
		stalled: prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: metrics.Namespace, Subsystem: sub, Name: "consumer_stalled",
			Help: "1 while the stream is behind without progress (the watchdog re-subscribes, then rebuilds)."}, []string{"stream"}),
		serving: prometheus.NewGauge(prometheus.GaugeOpts{Namespace: metrics.Namespace, Subsystem: sub, Name: "serving",
			Help: "1 while health reports SERVING: boards present, of this layout and caught up with the log."}),
		applySeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: metrics.Namespace, Subsystem: sub, Name: "apply_seconds",
			Help: "Time to apply one batch of events to Redis.", Buckets: prometheus.ExponentialBuckets(0.0005, 2.5, 12)}, []string{"stream"}),
		applied: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: metrics.Namespace, Subsystem: sub, Name: "events_applied_total",
			Help: "Events applied to the boards."}, []string{"stream"}),
		rebuilds: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: metrics.Namespace, Subsystem: sub, Name: "rebuilds_total",
			Help: "Board rebuilds from the log, by result."}, []string{"result"}),
		rebuildSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: metrics.Namespace, Subsystem: sub, Name: "rebuild_seconds",
			Help: "Duration of a board rebuild.", Buckets: prometheus.ExponentialBuckets(0.01, 3, 10)}),
		rebuildEntries: prometheus.NewGauge(prometheus.GaugeOpts{Namespace: metrics.Namespace, Subsystem: sub, Name: "rebuild_entries",
			Help: "Board entries the last successful rebuild wrote."}),
	}
	reg.MustRegister(m.lag, m.pending, m.stalled, m.serving, m.applySeconds, m.applied, m.rebuilds, m.rebuildSeconds, m.rebuildEntries)
	for _, r := range []string{"ok", "failed"} {
		m.rebuilds.WithLabelValues(r)
	}
	return m
}

// watched records what the watchdog saw of each stream.
func (m *rankingMetrics) watched(rep consumer.Report) {
	for _, s := range rep.Streams {
		pending := float64(s.Pending) + float64(s.AckPending)
		lag := pending
		if s.LastSeq > 0 {
			lag = float64(s.LastSeq) - float64(min(s.Applied, s.LastSeq))
		}
		m.lag.WithLabelValues(s.Stream).Set(lag)
		m.pending.WithLabelValues(s.Stream).Set(pending)
		stalled := 0.0
		if s.Stalled {
			stalled = 1
		}
		m.stalled.WithLabelValues(s.Stream).Set(stalled)
	}
}

// applied records one batch applied.
func (m *rankingMetrics) appliedBatch(stream string, n int, took time.Duration) {
	m.applySeconds.WithLabelValues(stream).Observe(took.Seconds())
	m.applied.WithLabelValues(stream).Add(float64(n))
}

// rebuilt records one rebuild.
func (m *rankingMetrics) rebuilt(res rebuild.Result, err error) {
	if err != nil {
		m.rebuilds.WithLabelValues("failed").Inc()
		return
	}
	m.rebuilds.WithLabelValues("ok").Inc()
	m.rebuildSeconds.Observe(res.Elapsed.Seconds())
	m.rebuildEntries.Set(float64(res.EntriesWritten))
}

// cacheStats exports the answer caches' counters, read at each scrape.
func (m *rankingMetrics) cacheStats(srv *server.Server, f *cache.Freshness) {
	const sub = "ranking"
	stat := func(read string, pick func(cache.Stats) float64) func() float64 {
		return func() float64 {
			l, s, ok := srv.CacheStats()
			if !ok {
				return 0
			}
			if read == "leaderboard" {
				return pick(l)
			}
			return pick(s)
		}
	}
	for _, read := range []string{"leaderboard", "standing"} {
		labels := prometheus.Labels{"read": read}
		m.reg.MustRegister(
			prometheus.NewCounterFunc(prometheus.CounterOpts{Namespace: metrics.Namespace, Subsystem: sub, Name: "answer_cache_hits_total", ConstLabels: labels,
				Help: "Reads answered from the replica's answer cache."}, stat(read, func(s cache.Stats) float64 { return float64(s.Hits) })),
			prometheus.NewCounterFunc(prometheus.CounterOpts{Namespace: metrics.Namespace, Subsystem: sub, Name: "answer_cache_misses_total", ConstLabels: labels,
				Help: "Reads answered from Redis: not cached, out of date, or the cache bypassed."}, stat(read, func(s cache.Stats) float64 { return float64(s.Misses) })),
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: metrics.Namespace, Subsystem: sub, Name: "answer_cache_bytes", ConstLabels: labels,
				Help: "Estimated memory held by the answer cache."}, stat(read, func(s cache.Stats) float64 { return float64(s.Bytes) })),
		)
	}
	m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: metrics.Namespace, Subsystem: sub, Name: "answer_cache_usable",
		Help: "1 while cached answers may be served: the watcher confirmed within the allowed lag that every change to the boards was seen."},
		func() float64 {
			if f.Usable() {
				return 1
			}
			return 0
		}))
}
