package wiring

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/predikat-id/predikat/pkg/platform/metrics"
	"github.com/predikat-id/predikat/services/ranking/internal/consumer"
	"github.com/predikat-id/predikat/services/ranking/internal/rebuild"
)

// rankingMetrics is what only the ranking service knows: how far its
// consumers trail the streams, how long applying takes, and its rebuilds.
type rankingMetrics struct {
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
