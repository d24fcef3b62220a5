package chaos

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/redis/go-redis/v9"

	"github.com/predikat-id/predikat/cmd/internal/stack"
	"github.com/predikat-id/predikat/pkg/events"
)

// The faults the suite injects.
const (
	faultServiceKill    = "service-kill"         // kill -9 of a service process, then restart
	faultLeaderKill     = "nats-leader-kill"     // kill -9 of the node leading ASSESSMENTS, then restart
	faultServiceNode    = "nats-service-node"    // kill -9 of the node the assessment service is connected to
	faultRedisFlush     = "redis-flushall"       // the leaderboards' cache emptied
	faultNodeStop       = "nats-sigstop"         // a node frozen for 10 s (SIGSTOP, SIGCONT)
	faultClusterRestart = "nats-cluster-restart" // kill -9 of every node, then restart
)

// schedule is the seeded order of the faults and the pause before each.
func schedule(rng *rand.Rand, quick bool) ([]string, []time.Duration) {
	kinds := []string{faultLeaderKill, faultServiceNode, faultServiceKill, faultRedisFlush}
	lo, spread := 12*time.Second, 6*time.Second
	if !quick {
		kinds = append(kinds, faultServiceKill, faultNodeStop, faultLeaderKill, faultClusterRestart, faultRedisFlush)
		lo, spread = 20*time.Second, 10*time.Second
	}
	rng.Shuffle(len(kinds), func(i, j int) { kinds[i], kinds[j] = kinds[j], kinds[i] })
	gaps := make([]time.Duration, len(kinds))
	for i := range gaps {
		gaps[i] = lo + time.Duration(rng.Int64N(int64(spread)))
	}
	return kinds, gaps
}

// faultResult is one injected fault.
type faultResult struct {
	Kind   string    `json:"kind"`
	Target string    `json:"target"`
	At     time.Time `json:"at"`
	// TookMS is how long the injection took (kill to restarted and ready).
	TookMS int64 `json:"took_ms"`
	// RecoveryMS is how long after At writes were acknowledged again
	// (-1: never).
	RecoveryMS int64  `json:"recovery_ms"`
	Err        string `json:"error,omitempty"`
}

// injector injects faults into a run's processes.
type injector struct {
	rng     *rand.Rand
	cluster *cluster
	fleet   *fleet
	redis   *redis.Client
	js      jetstream.JetStream // admin
}

// inject injects one fault of kind and returns what it did.
func (x *injector) inject(ctx context.Context, kind string) faultResult {
	r := faultResult{Kind: kind, At: time.Now()}
	var err error
	switch kind {
	case faultServiceKill:
		r.Target, err = x.killService(ctx)
	case faultLeaderKill:
		r.Target, err = x.killLeader(ctx)
	case faultServiceNode:
		r.Target, err = x.killServiceNode(ctx)
	case faultRedisFlush:
		r.Target, err = "redis", x.redis.FlushAll(ctx).Err()
	case faultNodeStop:
		r.Target, err = x.freezeNode(ctx)
	case faultClusterRestart:
		r.Target, err = "n1,n2,n3", x.restartCluster(ctx)
	default:
		err = fmt.Errorf("unknown fault %q", kind)
	}
	r.TookMS = time.Since(r.At).Milliseconds()
	if err != nil {
		r.Err = err.Error()
	}
	return r
}

// pause is a seeded pause before a restart, so a restart is not always
// at the same moment of an election.
func (x *injector) pause() time.Duration {
	return 500*time.Millisecond + time.Duration(x.rng.Int64N(int64(2500*time.Millisecond)))
}

func (x *injector) killService(ctx context.Context) (string, error) {
	cands := append(x.fleet.of(stack.Assessment), x.fleet.of(stack.Ranking)...)
	in := cands[x.rng.IntN(len(cands))]
	in.kill()
	time.Sleep(x.pause())
	return in.id, x.fleet.start(ctx, in)
}

// killNode kills a node with SIGKILL and restarts it after a pause, until
// its JetStream answers again.
func (x *injector) killNode(ctx context.Context, n *node) error {
	n.kill()
	time.Sleep(x.pause())
	if err := x.cluster.start(n); err != nil {
		return err
	}
	wctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	return x.cluster.waitNode(wctx, n)
}

func (x *injector) killLeader(ctx context.Context) (string, error) {
	leader, err := streamLeader(ctx, x.js, events.Assessments)
	if err != nil {
		return "", fmt.Errorf("leader of %s: %w", events.Assessments, err)
	}
	n := x.cluster.node(leader)
	if n == nil {
		return leader, fmt.Errorf("leader %q is no node of the cluster", leader)
	}
	return n.name, x.killNode(ctx, n)
}

// killServiceNode kills the node an assessment instance is connected to
// (chosen by the seed when they are on several).
func (x *injector) killServiceNode(ctx context.Context) (string, error) {
	nodes := x.cluster.connectedTo(ctx, stack.Assessment)
	if len(nodes) == 0 {
		return "", fmt.Errorf("no node holds a connection of %s", stack.Assessment)
	}
	slices.SortFunc(nodes, func(a, b *node) int { return strings.Compare(a.name, b.name) })
	n := nodes[x.rng.IntN(len(nodes))]
	return n.name, x.killNode(ctx, n)
}

func (x *injector) freezeNode(ctx context.Context) (string, error) {
	n := x.cluster.nodes[x.rng.IntN(len(x.cluster.nodes))]
	if err := n.signal(syscall.SIGSTOP); err != nil {
		return n.name, err
	}
	select {
	case <-ctx.Done():
	case <-time.After(10 * time.Second):
	}
	return n.name, n.signal(syscall.SIGCONT)
}

func (x *injector) restartCluster(ctx context.Context) error {
	for _, n := range x.cluster.nodes {
		n.kill()
	}
	time.Sleep(x.pause())
	return x.cluster.startAll(ctx)
}
