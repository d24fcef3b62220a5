package wiring

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/predikat-id/predikat/pkg/events"
	"github.com/predikat-id/predikat/pkg/platform/metrics"
	"github.com/predikat-id/predikat/services/assessment/internal/app"
	"github.com/predikat-id/predikat/services/assessment/internal/model"
)

var (
	roundRecords = prometheus.NewDesc(metrics.Namespace+"_assessment_round_records",
		"Institutions with a record in the round, by scheme, year and round state.", []string{"scheme", "year", "state"}, nil)
	roundAwards = prometheus.NewDesc(metrics.Namespace+"_assessment_round_awards",
		"Awards granted from the round and still standing.", []string{"scheme", "year", "state"}, nil)
	roundCorrections = prometheus.NewDesc(metrics.Namespace+"_assessment_round_corrections",
		"Corrections of the round's records after publication.", []string{"scheme", "year", "state"}, nil)
)

// roundsCollector reports every round's counts at scrape time, from the
// service's own view of the log: the figures move with the log, and a
// counter kept beside them could only drift from it.
type roundsCollector struct{ uc *app.App }

func (c roundsCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- roundRecords
	ch <- roundAwards
	ch <- roundCorrections
}

func (c roundsCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	rounds, _, err := c.uc.Queries.Rounds(ctx, app.RoundFilter{}, app.Page{Size: 100000})
	if err != nil {
		// Nothing rather than stale figures; predikat_nats_connected says why.
		return
	}
	for _, r := range rounds {
		labels := []string{r.SchemeID, strconv.Itoa(int(r.Year)), roundState(r.State)}
		ch <- prometheus.MustNewConstMetric(roundRecords, prometheus.GaugeValue, float64(r.AssessmentCount), labels...)
		ch <- prometheus.MustNewConstMetric(roundAwards, prometheus.GaugeValue, float64(r.AwardCount), labels...)
		ch <- prometheus.MustNewConstMetric(roundCorrections, prometheus.GaugeValue, float64(r.CorrectionCount), labels...)
	}
}

// roundState is the state as a label: open, closed, published.
func roundState(s model.RoundState) string { return strings.ToLower(s.String()) }

// awardMetrics counts the award events this process stored and how long
// each publication took until JetStream acknowledged it: the moment every
// subscriber can receive the award.
func awardMetrics(reg prometheus.Registerer) func(verb events.AwardVerb, took time.Duration) {
	published := prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: metrics.Namespace, Subsystem: "assessment",
		Name: "award_events_total", Help: "Award events stored by this process (a retry's duplicate is not counted), by event: granted, revoked."},
		[]string{"event"})
	latency := prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: metrics.Namespace, Subsystem: "assessment",
		Name: "award_publish_seconds", Help: "Publication of an award event until JetStream acknowledged it (fsynced, replicated).",
		Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5}}, []string{"event"})
	reg.MustRegister(published, latency)
	for _, v := range []events.AwardVerb{events.Granted, events.Revoked} {
		// Present at zero from the start: a rate over a missing series is no rate.
		published.WithLabelValues(string(v))
		latency.WithLabelValues(string(v))
	}
	return func(verb events.AwardVerb, took time.Duration) {
		published.WithLabelValues(string(verb)).Inc()
		latency.WithLabelValues(string(verb)).Observe(took.Seconds())
	}
}

// groupCommitMetrics counts the single records this process stored
// together as atomic batches (group commit under concurrent writers).
func groupCommitMetrics(reg prometheus.Registerer, commits func() (batches, records, refused int64)) {
	reg.MustRegister(
		prometheus.NewCounterFunc(prometheus.CounterOpts{Namespace: metrics.Namespace, Subsystem: "assessment",
			Name: "group_commit_batches_total", Help: "Atomic batches in which this process stored single records that arrived together."},
			func() float64 { b, _, _ := commits(); return float64(b) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Namespace: metrics.Namespace, Subsystem: "assessment",
			Name: "group_commit_records_total", Help: "Single records this process stored inside such batches (the others went alone)."},
			func() float64 { _, r, _ := commits(); return float64(r) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Namespace: metrics.Namespace, Subsystem: "assessment",
			Name: "group_commit_refused_total", Help: "Such batches the stream refused (a record moved or retried): their records were then sent one by one."},
			func() float64 { _, _, f := commits(); return float64(f) }),
	)
}
