package metrics

import (
	"context"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
)

var (
	streamReplicas = prometheus.NewDesc(Namespace+"_jetstream_stream_replicas",
		"Replicas the JetStream stream is configured with.", []string{"stream"}, nil)
	streamCurrent = prometheus.NewDesc(Namespace+"_jetstream_stream_replicas_current",
		"Servers holding a current copy of the stream: its leader and the followers online and caught up.", []string{"stream"}, nil)
	streamLeader = prometheus.NewDesc(Namespace+"_jetstream_stream_leader",
		"1 while the stream has a leader (a quorum of its replicas); 0 when it has none or cannot be asked.", []string{"stream"}, nil)
	streamMessages = prometheus.NewDesc(Namespace+"_jetstream_stream_messages",
		"Messages stored in the stream.", []string{"stream"}, nil)
)

// streamsCollector asks JetStream, at each scrape, how the streams a
// service writes are replicated: a stream without a leader accepts no
// write, and one with fewer current replicas than a quorum is one failure
// away from that.
type streamsCollector struct {
	js      jetstream.JetStream
	streams []string
}

// Streams registers the replication health of streams (their names, KV
// buckets as KV_<bucket>) on reg.
func Streams(reg prometheus.Registerer, js jetstream.JetStream, streams ...string) {
	reg.MustRegister(streamsCollector{js: js, streams: streams})
}

func (c streamsCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- streamReplicas
	ch <- streamCurrent
	ch <- streamLeader
	ch <- streamMessages
}

func (c streamsCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	for _, name := range c.streams {
		info, err := c.info(ctx, name)
		if err != nil {
			// No answer is no leader as far as this service can tell:
			// its writes to the stream fail alike.
			ch <- prometheus.MustNewConstMetric(streamLeader, prometheus.GaugeValue, 0, name)
			continue
		}
		leader, current := 0.0, 0.0
		if cl := info.Cluster; cl == nil {
			leader, current = 1, 1 // a server without clustering leads its streams
		} else {
			if cl.Leader != "" {
				leader, current = 1, 1
			}
			for _, p := range cl.Replicas {
				if p.Current && !p.Offline {
					current++
				}
			}
		}
		ch <- prometheus.MustNewConstMetric(streamReplicas, prometheus.GaugeValue, float64(max(info.Config.Replicas, 1)), name)
		ch <- prometheus.MustNewConstMetric(streamCurrent, prometheus.GaugeValue, current, name)
		ch <- prometheus.MustNewConstMetric(streamLeader, prometheus.GaugeValue, leader, name)
		ch <- prometheus.MustNewConstMetric(streamMessages, prometheus.GaugeValue, float64(info.State.Msgs), name)
	}
}

func (c streamsCollector) info(ctx context.Context, name string) (*jetstream.StreamInfo, error) {
	s, err := c.js.Stream(ctx, name)
	if err != nil {
		return nil, err //nolint:wrapcheck // reported as a 0, never shown
	}
	return s.Info(ctx) //nolint:wrapcheck // the same
}
