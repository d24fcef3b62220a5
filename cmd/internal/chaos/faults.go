package chaos

import (
	"context"
	"errors"
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
	faultServiceKill    = "service-kill"         // kill -9 of an assessment or ranking process, then restart
	faultRegistryKill   = "registry-kill"        // kill -9 of a registry process, then restart
	faultServiceStop    = "service-sigstop"      // a service process frozen for 10 s (SIGSTOP, SIGCONT)
	faultLeaderKill     = "nats-leader-kill"     // kill -9 of the node leading ASSESSMENTS, then restart
	faultConsumerLeader = "nats-consumer-leader" // kill -9 of the node leading the ranking consumer, then restart
	faultServiceNode    = "nats-service-node"    // kill -9 of the node the assessment service is connected to
	faultTwoNodes       = "nats-two-nodes"       // kill -9 of one node, then of a second: no quorum until they return
	faultRedisFlush     = "redis-flushall"       // the leaderboards' cache emptied
	faultRedisKill      = "redis-kill"           // kill -9 of redis-server, restarted empty on its port
	faultNodeStop       = "nats-sigstop"         // a node frozen for 10 s (SIGSTOP, SIGCONT)
	faultClusterRestart = "nats-cluster-restart" // kill -9 of every node, then restart
	faultColdStart      = "cold-start"           // every node and service killed; the services start before the cluster
)

// healFaults are the faults that take writes away on purpose until they
// end (no quorum, no service): their recovery counts from the end of the
// fault, every other one's from its start.
var healFaults = map[string]bool{faultTwoNodes: true, faultColdStart: true}

// schedule is the seeded order of the faults and the pause before each.
// The quick one keeps the faults that found bugs; the full one has every
// fault at least once.
func schedule(rng *rand.Rand, quick bool) ([]string, []time.Duration) {
	kinds := []string{faultLeaderKill, faultServiceNode, faultServiceKill, faultRedisFlush}
	lo, spread := 12*time.Second, 6*time.Second
	if !quick {
		kinds = append(kinds, faultRegistryKill, faultServiceStop, faultConsumerLeader, faultTwoNodes,
			faultRedisKill, faultNodeStop, faultClusterRestart, faultColdStart, faultServiceKill, faultLeaderKill)
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
	// RecoveryMS is how long after At (after At+TookMS for the faults that
	// take writes away until they end) writes were acknowledged again
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
	cache   *stack.Redis
	js      jetstream.JetStream // admin
}

// inject injects one fault of kind and returns what it did.
func (x *injector) inject(ctx context.Context, kind string) faultResult {
	r := faultResult{Kind: kind, At: time.Now()}
	var err error
	switch kind {
	case faultServiceKill:
		r.Target, err = x.killService(ctx, stack.Assessment, stack.Ranking)
	case faultRegistryKill:
		r.Target, err = x.killService(ctx, stack.Registry)
	case faultServiceStop:
		r.Target, err = x.freezeService(ctx)
	case faultLeaderKill:
		r.Target, err = x.killLeader(ctx)
	case faultConsumerLeader:
		r.Target, err = x.killConsumerLeader(ctx)
	case faultServiceNode:
		r.Target, err = x.killServiceNode(ctx)
	case faultTwoNodes:
		r.Target, err = x.killTwoNodes(ctx)
	case faultRedisFlush:
		r.Target, err = "redis", x.redis.FlushAll(ctx).Err()
	case faultRedisKill:
		r.Target, err = "redis", x.cache.Restart(ctx)
	case faultNodeStop:
		r.Target, err = x.freezeNode(ctx)
	case faultClusterRestart:
		r.Target, err = "n1,n2,n3", x.restartCluster(ctx)
	case faultColdStart:
		r.Target, err = "all", x.coldStart(ctx)
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

// killService kills one instance of the named services, chosen by the
// seed, and restarts it after a pause.
func (x *injector) killService(ctx context.Context, names ...string) (string, error) {
	var cands []*instance
	for _, n := range names {
		cands = append(cands, x.fleet.of(n)...)
	}
	in := cands[x.rng.IntN(len(cands))]
	in.kill()
	time.Sleep(x.pause())
	return in.id, x.fleet.start(ctx, in)
}

// freezeService stops any service instance for 10 s: a process that holds
// its connections and its consumer but answers nothing, as a long GC pause
// or a throttled container does.
func (x *injector) freezeService(ctx context.Context) (string, error) {
	all := x.fleet.all()
	in := all[x.rng.IntN(len(all))]
	if err := in.signal(syscall.SIGSTOP); err != nil {
		return in.id, err
	}
	sleepCtx(ctx, 10*time.Second)
	return in.id, in.signal(syscall.SIGCONT)
}

func sleepCtx(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
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

// killConsumerLeader kills the node leading the ranking service's durable
// consumer on ASSESSMENTS, which need not be the stream's leader.
func (x *injector) killConsumerLeader(ctx context.Context) (string, error) {
	leader, err := consumerLeader(ctx, x.js, events.Assessments, rankingDurable)
	if err != nil {
		return "", fmt.Errorf("leader of consumer %s on %s: %w", rankingDurable, events.Assessments, err)
	}
	n := x.cluster.node(leader)
	if n == nil {
		return leader, fmt.Errorf("leader %q is no node of the cluster", leader)
	}
	return n.name, x.killNode(ctx, n)
}

// killTwoNodes kills one node and, after a pause, a second one: the R3
// streams lose their quorum and writes must fail (never be acknowledged
// and then lost) until both are back.
func (x *injector) killTwoNodes(ctx context.Context) (string, error) {
	nodes := slices.Clone(x.cluster.nodes)
	x.rng.Shuffle(len(nodes), func(i, j int) { nodes[i], nodes[j] = nodes[j], nodes[i] })
	a, b := nodes[0], nodes[1]
	a.kill()
	time.Sleep(x.pause())
	b.kill()
	time.Sleep(x.pause())
	for _, n := range []*node{a, b} {
		if err := x.cluster.start(n); err != nil {
			return a.name + "," + b.name, err
		}
	}
	wctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	return a.name + "," + b.name, errors.Join(x.cluster.waitNode(wctx, a), x.cluster.waitNode(wctx, b))
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
	sleepCtx(ctx, 10*time.Second)
	return n.name, n.signal(syscall.SIGCONT)
}

func (x *injector) restartCluster(ctx context.Context) error {
	for _, n := range x.cluster.nodes {
		n.kill()
	}
	time.Sleep(x.pause())
	return x.cluster.startAll(ctx)
}

// coldStart kills every service and every node, starts the services while
// no node runs, and the cluster a few seconds later: the services must wait
// for the cluster to form and place their streams, not crash-loop.
func (x *injector) coldStart(ctx context.Context) error {
	all := x.fleet.all()
	for _, in := range all {
		in.kill()
	}
	for _, n := range x.cluster.nodes {
		n.kill()
	}
	for _, in := range all {
		if err := x.fleet.launch(in); err != nil {
			return err
		}
	}
	time.Sleep(2*time.Second + x.pause())
	if err := x.cluster.startAll(ctx); err != nil {
		return err
	}
	var errs []error
	for _, in := range all {
		errs = append(errs, x.fleet.waitServing(ctx, in))
	}
	return errors.Join(errs...)
}
