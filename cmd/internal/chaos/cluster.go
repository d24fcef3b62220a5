package chaos

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/predikat-id/predikat/cmd/internal/stack"
	"github.com/predikat-id/predikat/pkg/platform/devpki"
	"github.com/predikat-id/predikat/pkg/platform/natsx"
)

// clusterName names the nats-server cluster of a run.
const clusterName = "predikat-chaos"

// buildNATSServer builds nats-server at the version the workspace pins
// (pkg/platform requires it), so the suite runs the server production's
// client code was tested against, and nothing is downloaded prebuilt.
func buildNATSServer(ctx context.Context, dir string) (string, error) {
	out, err := exec.CommandContext(ctx, "go", "env", "GOWORK").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOWORK: %w", err)
	}
	work := strings.TrimSpace(string(out))
	if work == "" || work == "off" {
		return "", errors.New("nats-server is built from the Go workspace: run inside the repository (go.work)")
	}
	bin := filepath.Join(dir, "nats-server")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "github.com/nats-io/nats-server/v2")
	cmd.Dir = filepath.Join(filepath.Dir(work), "pkg", "platform")
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build nats-server: %w\n%s", err, b)
	}
	return bin, nil
}

// node is one nats-server process of the cluster.
type node struct {
	name               string
	client, route, mon int
	dir, conf, logFile string
	mu                 sync.Mutex
	cmd                *exec.Cmd
	exited             chan struct{}
}

func (n *node) url() string { return fmt.Sprintf("tls://127.0.0.1:%d", n.client) }

// cluster is three nats-server processes with JetStream, routed to each
// other, with the users, permissions and TLS of the shipped configuration.
type cluster struct {
	bin   string
	nodes []*node
	pki   *devpki.Files
	log   *slog.Logger
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// newCluster writes the configuration of three nodes under dir.
func newCluster(bin, dir string, pki *devpki.Files, log *slog.Logger) (*cluster, error) {
	c := &cluster{bin: bin, pki: pki, log: log}
	for i := range 3 {
		n := &node{name: fmt.Sprintf("n%d", i+1), dir: filepath.Join(dir, fmt.Sprintf("n%d", i+1))}
		for _, p := range []*int{&n.client, &n.route, &n.mon} {
			port, err := freePort()
			if err != nil {
				return nil, err
			}
			*p = port
		}
		n.conf, n.logFile = filepath.Join(n.dir, "nats.conf"), filepath.Join(n.dir, "nats.log")
		c.nodes = append(c.nodes, n)
	}
	users, err := configUsers(pki)
	if err != nil {
		return nil, err
	}
	for _, n := range c.nodes {
		if err := c.writeConfig(n, users); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// configUsers renders the stack's users and permissions (stack.NATSUsers)
// as nats-server configuration, so the cluster grants exactly what the
// embedded server of the dev stack grants.
func configUsers(pki *devpki.Files) ([]map[string]any, error) {
	users, err := stack.NATSUsers(pki)
	if err != nil {
		return nil, err
	}
	subj := func(p *server.SubjectPermission) map[string]any {
		m := map[string]any{}
		if p == nil {
			return m
		}
		if len(p.Allow) > 0 {
			m["allow"] = p.Allow
		}
		if len(p.Deny) > 0 {
			m["deny"] = p.Deny
		}
		return m
	}
	out := make([]map[string]any, 0, len(users))
	for _, u := range users {
		m := map[string]any{"user": u.Username, "password": u.Password}
		if u.Permissions != nil {
			m["permissions"] = map[string]any{"publish": subj(u.Permissions.Publish), "subscribe": subj(u.Permissions.Subscribe)}
		}
		out = append(out, m)
	}
	return out, nil
}

// writeConfig writes a node's configuration as JSON, which nats-server's
// configuration syntax accepts as it is. sync_interval always: every
// acknowledged write is on disk on a quorum, as the crash invariants
// require.
func (c *cluster) writeConfig(n *node, users []map[string]any) error {
	var routes []string
	for _, o := range c.nodes {
		if o != n {
			routes = append(routes, fmt.Sprintf("nats-route://127.0.0.1:%d", o.route))
		}
	}
	conf := map[string]any{
		"server_name": n.name, "host": "127.0.0.1", "port": n.client, "http": fmt.Sprintf("127.0.0.1:%d", n.mon),
		"jetstream":     map[string]any{"store_dir": filepath.Join(n.dir, "store"), "sync_interval": "always"},
		"cluster":       map[string]any{"name": clusterName, "host": "127.0.0.1", "port": n.route, "routes": routes},
		"tls":           map[string]any{"cert_file": c.pki.NATSCert(), "key_file": c.pki.NATSKey(), "min_version": "1.3", "timeout": 2},
		"authorization": map[string]any{"users": users},
	}
	// No HTML escaping: the configuration parser knows no \u escapes, and
	// the subjects are full of '>'.
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(conf); err != nil {
		return err
	}
	if err := os.MkdirAll(n.dir, 0o700); err != nil {
		return err
	}
	return os.WriteFile(n.conf, b.Bytes(), 0o600)
}

// urls is the comma-separated list of the three client URLs.
func (c *cluster) urls() string {
	u := make([]string, len(c.nodes))
	for i, n := range c.nodes {
		u[i] = n.url()
	}
	return strings.Join(u, ",")
}

func (c *cluster) node(name string) *node {
	for _, n := range c.nodes {
		if n.name == name {
			return n
		}
	}
	return nil
}

// start starts a node's process; its output is appended to its log file.
func (c *cluster) start(n *node) error {
	f, err := os.OpenFile(n.logFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	cmd := exec.Command(c.bin, "-c", n.conf)
	cmd.Stdout, cmd.Stderr = f, f
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		_ = f.Close()
		return fmt.Errorf("start nats-server %s: %w", n.name, err)
	}
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		_ = f.Close()
		close(exited)
	}()
	n.mu.Lock()
	n.cmd, n.exited = cmd, exited
	n.mu.Unlock()
	return nil
}

// signal sends sig to a node's process.
func (n *node) signal(sig syscall.Signal) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.cmd == nil {
		return fmt.Errorf("nats-server %s is not running", n.name)
	}
	return n.cmd.Process.Signal(sig)
}

// kill kills a node with SIGKILL and waits until it is gone.
func (n *node) kill() {
	n.mu.Lock()
	cmd, exited := n.cmd, n.exited
	n.cmd = nil
	n.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Signal(syscall.SIGCONT) // a stopped process dies only once it runs
	_ = cmd.Process.Kill()
	<-exited
}

// stop shuts a node down with SIGTERM (lame duck skipped), killing it
// after a grace period.
func (n *node) stop() {
	n.mu.Lock()
	cmd, exited := n.cmd, n.exited
	n.cmd = nil
	n.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Signal(syscall.SIGCONT)
	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-exited:
	case <-time.After(10 * time.Second):
		_ = cmd.Process.Kill()
		<-exited
	}
}

// startAll starts every node and waits until JetStream answers on each:
// only then can the services place their R3 streams.
func (c *cluster) startAll(ctx context.Context) error {
	for _, n := range c.nodes {
		if err := c.start(n); err != nil {
			return err
		}
	}
	return c.waitReady(ctx, 90*time.Second)
}

// waitReady waits until every node answers a JetStream account info
// request as admin, directly (not routed through another node).
func (c *cluster) waitReady(ctx context.Context, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for _, n := range c.nodes {
		if err := c.waitNode(ctx, n); err != nil {
			return fmt.Errorf("nats-server %s: JetStream not ready: %w (log %s)", n.name, err, n.logFile)
		}
	}
	return nil
}

func (c *cluster) waitNode(ctx context.Context, n *node) error {
	for {
		err := c.pingJetStream(ctx, n)
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(250 * time.Millisecond):
		}
	}
}

func (c *cluster) pingJetStream(ctx context.Context, n *node) error {
	opts, err := stack.NATSClient(c.pki, stack.NATSAdmin, true).Options()
	if err != nil {
		return err
	}
	opts = append(opts, nats.NoReconnect(), nats.Timeout(2*time.Second))
	nc, err := nats.Connect(n.url(), opts...)
	if err != nil {
		return err
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return err
	}
	actx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	_, err = js.AccountInfo(actx)
	return err
}

// connect connects to the cluster (every URL) as user.
func (c *cluster) connect(ctx context.Context, user, name string) (*nats.Conn, error) {
	opts, err := stack.NATSClient(c.pki, user, true).Options()
	if err != nil {
		return nil, err
	}
	cctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	return natsx.Connect(cctx, c.urls(), name, slog.New(slog.NewTextHandler(io.Discard, nil)), opts...)
}

// streamLeader is the server name leading stream, asked of the cluster.
func streamLeader(ctx context.Context, js jetstream.JetStream, stream string) (string, error) {
	return leaderOf(ctx, "stream "+stream, func(ctx context.Context) (*jetstream.ClusterInfo, error) {
		s, err := js.Stream(ctx, stream)
		if err != nil {
			return nil, err
		}
		return s.CachedInfo().Cluster, nil
	})
}

// leaderOf reads the leader from what info returns for an asset.
func leaderOf(ctx context.Context, what string, info func(context.Context) (*jetstream.ClusterInfo, error)) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	ci, err := info(ctx)
	if err != nil {
		return "", err
	}
	if ci == nil || ci.Leader == "" {
		return "", fmt.Errorf("%s has no leader", what)
	}
	return ci.Leader, nil
}

// rankingDurable is the ranking service's durable consumer on ASSESSMENTS
// and ROUNDS.
const rankingDurable = "ranking"

// consumerLeader is the server name leading a durable consumer.
func consumerLeader(ctx context.Context, js jetstream.JetStream, stream, durable string) (string, error) {
	return leaderOf(ctx, "consumer "+durable, func(ctx context.Context) (*jetstream.ClusterInfo, error) {
		c, err := js.Consumer(ctx, stream, durable)
		if err != nil {
			return nil, err
		}
		return c.CachedInfo().Cluster, nil
	})
}

// connectedTo lists the nodes that hold a client connection of user,
// read from each node's monitoring endpoint.
func (c *cluster) connectedTo(ctx context.Context, user string) []*node {
	var out []*node
	for _, n := range c.nodes {
		if n.hasUser(ctx, user) {
			out = append(out, n)
		}
	}
	return out
}

func (n *node) hasUser(ctx context.Context, user string) bool {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, fmt.Sprintf("http://127.0.0.1:%d/connz?auth=1&limit=1024", n.mon), nil)
	if err != nil {
		return false
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	var cz struct {
		Connections []struct {
			User string `json:"authorized_user"`
		} `json:"connections"`
	}
	if json.NewDecoder(resp.Body).Decode(&cz) != nil {
		return false
	}
	for _, conn := range cz.Connections {
		if conn.User == user {
			return true
		}
	}
	return false
}

// stopAll stops every node.
func (c *cluster) stopAll() {
	for _, n := range c.nodes {
		n.stop()
	}
}
