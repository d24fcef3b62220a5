package chaos

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/predikat-id/predikat/cmd/internal/stack"
	"github.com/predikat-id/predikat/pkg/platform/devpki"
	"github.com/predikat-id/predikat/pkg/platform/metrics"
)

// gauges reads predikat_jetstream_stream_{leader,replicas,replicas_current}
// of stream from reg.
func gauges(t *testing.T, reg *prometheus.Registry, stream string) (leader, replicas, current float64) {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	replicas, current = -1, -1
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			if m.GetLabel()[0].GetValue() != stream {
				continue
			}
			switch mf.GetName() {
			case "predikat_jetstream_stream_leader":
				leader = m.GetGauge().GetValue()
			case "predikat_jetstream_stream_replicas":
				replicas = m.GetGauge().GetValue()
			case "predikat_jetstream_stream_replicas_current":
				current = m.GetGauge().GetValue()
			}
		}
	}
	return leader, replicas, current
}

// withoutQuorum is the PredikatStreamWithoutQuorum rule of
// deploy/kubernetes/monitoring/prometheusrule.yaml, for one pod's view.
func withoutQuorum(leader, replicas, current float64) bool {
	return leader == 0 || current < float64(int(replicas/2))+1
}

// eventually waits until cond holds of the gauges, or fails with what
// they last were.
func eventually(t *testing.T, reg *prometheus.Registry, stream, what string, cond func(l, r, c float64) bool) {
	t.Helper()
	deadline := time.Now().Add(45 * time.Second)
	for {
		l, r, c := gauges(t, reg, stream)
		if cond(l, r, c) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: leader %v, replicas %v, current %v", what, l, r, c)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// On a real three-server cluster the stream gauges follow the servers:
// all current, one lost (degraded, quorum kept), two lost (no quorum: the
// alert's condition holds), and back.
func TestStreamGaugesFollowTheCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a three-server NATS cluster")
	}
	ctx, cancel := context.WithTimeout(t.Context(), 4*time.Minute)
	defer cancel()
	dir := t.TempDir()
	log := slog.New(slog.DiscardHandler)
	bin, err := buildNATSServer(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	pki, err := devpki.Ensure(dir+"/pki", log)
	if err != nil {
		t.Fatal(err)
	}
	c, err := newCluster(bin, dir, pki, log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for _, n := range c.nodes {
			n.kill()
		}
	})
	if err := c.startAll(ctx); err != nil {
		t.Fatal(err)
	}
	nc, err := c.connect(ctx, stack.NATSAdmin, "streams-test")
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "GAUGES", Subjects: []string{"gauges.>"}, Replicas: 3}); err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	metrics.Streams(reg, js, "GAUGES")

	eventually(t, reg, "GAUGES", "three servers", func(l, r, cur float64) bool { return l == 1 && r == 3 && cur == 3 })
	leader, err := streamLeader(ctx, js, "GAUGES")
	if err != nil {
		t.Fatal(err)
	}
	var followers []*node
	for _, n := range c.nodes {
		if n.name != leader {
			followers = append(followers, n)
		}
	}
	followers[0].kill()
	eventually(t, reg, "GAUGES", "one follower lost", func(l, r, cur float64) bool { return l == 1 && cur == 2 && !withoutQuorum(l, r, cur) })
	followers[1].kill()
	eventually(t, reg, "GAUGES", "two followers lost", withoutQuorum)
	for _, n := range followers {
		if err := c.start(n); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, reg, "GAUGES", "servers back", func(l, r, cur float64) bool { return l == 1 && cur == 3 })
}
