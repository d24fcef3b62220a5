package natstest

import (
	"fmt"
	"net"
	"net/url"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// StartCluster starts n embedded NATS servers with JetStream clustered
// together (each with its own store directory and free ports on
// 127.0.0.1), and returns a JetStream client of the first. A clustered
// JetStream behaves differently from a single server in places that matter
// (e.g. the order in which it checks a message id and an expected
// sequence), so what relies on those is tested on one. Everything is shut
// down when the test ends.
func StartCluster(t testing.TB, n int) jetstream.JetStream {
	t.Helper()
	ports := make([]int, n)
	routes := make([]*url.URL, n)
	for i := range ports {
		ports[i] = freePort(t)
		routes[i] = &url.URL{Scheme: "nats", Host: fmt.Sprintf("127.0.0.1:%d", ports[i])}
	}
	var first *server.Server
	for i, p := range ports {
		srv, err := server.NewServer(&server.Options{
			ServerName: fmt.Sprintf("natstest-%d", i), Host: "127.0.0.1", Port: -1, JetStream: true, StoreDir: t.TempDir(),
			Cluster: server.ClusterOpts{Name: "natstest", Host: "127.0.0.1", Port: p}, Routes: routes, NoLog: true, NoSigs: true,
		})
		if err != nil {
			t.Fatalf("natstest: cluster server %d: %v", i, err)
		}
		go srv.Start()
		t.Cleanup(srv.Shutdown)
		if !srv.ReadyForConnections(connectTimeout) {
			t.Fatalf("natstest: cluster server %d not ready", i)
		}
		if first == nil {
			first = srv
		}
	}
	nc, err := nats.Connect(first.ClientURL())
	if err != nil {
		t.Fatalf("natstest: connect to the cluster: %v", err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatalf("natstest: %v", err)
	}
	// JetStream answers once its meta leader is elected.
	deadline := time.Now().Add(30 * time.Second)
	for !first.JetStreamIsLeader() && !clusterHasLeader(first) {
		if time.Now().After(deadline) {
			t.Fatal("natstest: the cluster elected no JetStream leader")
		}
		time.Sleep(50 * time.Millisecond)
	}
	return js
}

func clusterHasLeader(s *server.Server) bool {
	return s.JetStreamIsClustered() && s.JetStreamIsCurrent()
}

func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("natstest: free port: %v", err)
	}
	defer func() { _ = l.Close() }()
	return l.Addr().(*net.TCPAddr).Port
}
