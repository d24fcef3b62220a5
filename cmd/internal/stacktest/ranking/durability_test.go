package ranking_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/predikat-id/predikat/cmd/internal/stack"
	"github.com/predikat-id/predikat/cmd/internal/stacktest"
	rankingv1 "github.com/predikat-id/predikat/pkg/gen/predikat/ranking/v1"
	registryv1 "github.com/predikat-id/predikat/pkg/gen/predikat/registry/v1"
	rt "github.com/predikat-id/predikat/pkg/platform/testenv/eventtest"
)

// kabupaten makes n institutions of one province's kabupaten board.
func kabupaten(n int) []rt.Inst {
	var out []rt.Inst
	for i := range n {
		out = append(out, rt.Inst{ID: fmt.Sprintf("pemkab-%03d", i), Name: fmt.Sprintf("Kabupaten %03d", i), Kind: rt.Pemkab, Region: "63.05"})
	}
	return out
}

// waitBoard waits until the board answers exactly want (ranks rendering).
func (e *env) waitBoard(k *rankingv1.BoardKey, want string) {
	e.t.Helper()
	eventually(e.t, "board equals the log", func() error {
		es, _, err := e.board(k, 100)
		if err != nil {
			return err
		}
		if got := ranks(es); got != want {
			return fmt.Errorf("board:\n%s\nwant:\n%s", got, want)
		}
		return nil
	})
}

// waitHealth waits for the given health status.
func (e *env) waitHealth(want healthpb.HealthCheckResponse_ServingStatus) {
	e.t.Helper()
	eventually(e.t, "health "+want.String(), func() error {
		h, err := e.health.Check(ctxT(e.t), &healthpb.HealthCheckRequest{})
		if err != nil {
			return err
		}
		if h.GetStatus() != want {
			return fmt.Errorf("%v", h.GetStatus())
		}
		return nil
	})
}

// dumpRanking copies every key of the boards (DUMP), as a snapshot would.
func (e *env) dumpRanking() map[string]string {
	e.t.Helper()
	c := e.redis.Client(e.t)
	keys, err := c.Keys(ctxT(e.t), "rk:*").Result()
	if err != nil {
		e.t.Fatal(err)
	}
	out := map[string]string{}
	for _, k := range keys {
		v, err := c.Dump(ctxT(e.t), k).Result()
		if err != nil {
			e.t.Fatal(err)
		}
		out[k] = v
	}
	return out
}

// restoreRanking replaces Redis's data by a dump: Redis restored from an
// older snapshot, the layout key included.
func (e *env) restoreRanking(dump map[string]string) {
	e.t.Helper()
	c := e.redis.Client(e.t)
	ctx := ctxT(e.t)
	pipe := c.TxPipeline()
	pipe.FlushAll(ctx)
	for k, v := range dump {
		pipe.RestoreReplace(ctx, k, 0, v)
	}
	if _, err := pipe.Exec(ctx); err != nil {
		e.t.Fatal(err)
	}
}

// Redis flushed, then Redis restored to an older state with its layout
// key: both are found and the boards rebuilt to equal the log, whether or
// not more events arrive.
func TestRedisFlushedOrRestoredIsRebuilt(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	insts := kabupaten(30)
	e.reg.Create(t, insts...)
	e.start(nil)
	k := key(2024, "kabupaten", "63")
	for _, in := range insts[:10] {
		e.pub.Record(t, rt.Rec{Year: 2024, Inst: in, Total: "70.00"})
	}
	e.waitCount(k, 10)

	e.redis.Flush(t)
	e.waitCount(k, 10)

	old := e.dumpRanking()
	for _, in := range insts[10:20] {
		e.pub.Record(t, rt.Rec{Year: 2024, Inst: in, Total: "71.00"})
	}
	e.waitCount(k, 20)
	es, _, err := e.board(k, 100)
	if err != nil {
		t.Fatal(err)
	}
	want := ranks(es)

	// Restored, and nothing new arrives: the supervisor finds it.
	e.restoreRanking(old)
	e.waitBoard(k, want)
	e.waitHealth(healthpb.HealthCheckResponse_SERVING)

	// Restored, and a new event arrives at once: the apply script refuses
	// to apply it onto the older state.
	e.restoreRanking(old)
	e.pub.Record(t, rt.Rec{Year: 2024, Inst: insts[20], Total: "72.00"})
	e.waitCount(k, 21)
	es, _, err = e.board(k, 100)
	if err != nil {
		t.Fatal(err)
	}
	if got := ranks(es); !strings.HasPrefix(got, "1 pemkab-020 72.00\n") || !strings.Contains(got, "pemkab-019") {
		t.Fatalf("after restore and a new event:\n%s", got)
	}
	e.waitHealth(healthpb.HealthCheckResponse_SERVING)
}

// The consumer's server-side state vanishes while events keep coming: it
// resumes, and health is SERVING once it has caught up.
func TestConsumerStateLostResumes(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	insts := kabupaten(20)
	e.reg.Create(t, insts...)
	e.start(nil)
	k := key(2024, "kabupaten", "63")
	js := e.nats.JetStream(t)
	for i, in := range insts {
		if i%5 == 0 {
			_ = js.DeleteConsumer(context.Background(), "ASSESSMENTS", "ranking")
		}
		e.pub.Record(t, rt.Rec{Year: 2024, Inst: in, Total: "75.00"})
	}
	e.waitCount(k, 20)
	e.nats.Restart(t)
	time.Sleep(200 * time.Millisecond) // as in TestNATSRestart: the publisher reconnects too
	e.pub.Record(t, rt.Rec{Year: 2024, Inst: insts[0], Total: "99.00"})
	eventually(t, "correction applied", func() error {
		es, _, err := e.board(k, 100)
		if err != nil {
			return err
		}
		if es[0].GetInstitutionId() != "pemkab-000" || es[0].GetScore() != "99.00" {
			return fmt.Errorf("top: %s", ranks(es[:1]))
		}
		return nil
	})
	e.waitHealth(healthpb.HealthCheckResponse_SERVING)
}

// The registry goes away: leaderboards keep answering, with the names the
// service had.
func TestLeaderboardWithoutRegistry(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	regs := stacktest.Services(t, e.nats, stack.ServicesOptions{})
	addr, err := regs.Start(stack.Registry, "127.0.0.1:0", "")
	if err != nil {
		t.Fatal(err)
	}
	e.reg = &stacktest.Registry{Addr: addr, Client: registryv1.NewRegistryServiceClient(stacktest.Dial(t, addr, "admin"))}
	insts := kabupaten(3)
	e.reg.Create(t, insts...)
	e.start(nil)
	k := key(2024, "kabupaten", "63")
	for _, in := range insts {
		e.pub.Record(t, rt.Rec{Year: 2024, Inst: in, Total: "80.00"})
	}
	e.waitCount(k, 3)
	names := func() error {
		resp, err := e.client.GetLeaderboard(ctxT(t), &rankingv1.GetLeaderboardRequest{Board: k})
		if err != nil {
			return err
		}
		for _, x := range resp.GetEntries() {
			if x.GetName() == "" || !strings.HasPrefix(x.GetName(), "Kabupaten ") {
				return fmt.Errorf("entry %s named %q", x.GetInstitutionId(), x.GetName())
			}
		}
		return nil
	}
	eventually(t, "names", names)
	if err := regs.StopService(stack.Registry); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(8 * time.Second)
	for time.Now().Before(deadline) {
		if err := names(); err != nil {
			t.Fatalf("registry stopped: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
