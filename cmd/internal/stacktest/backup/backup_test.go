// Package backup_test runs the runbook's JetStream backup and restore
// (deploy/README.md, "Back up and restore JetStream") with the pinned nats
// CLI against a running stack, restores into an empty server, starts the
// stack on it with an empty Redis, and finds every record again: every
// message of every stream byte for byte at its sequence, and the same
// institutions, awards and boards through the API.
package backup_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"

	"github.com/predikat-id/predikat/cmd/internal/demo"
	"github.com/predikat-id/predikat/cmd/internal/stack"
	assessmentv1 "github.com/predikat-id/predikat/pkg/gen/predikat/assessment/v1"
	rankingv1 "github.com/predikat-id/predikat/pkg/gen/predikat/ranking/v1"
	registryv1 "github.com/predikat-id/predikat/pkg/gen/predikat/registry/v1"
	"github.com/predikat-id/predikat/pkg/platform/devpki"
	"github.com/predikat-id/predikat/pkg/platform/testenv/natstest"
)

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// buildCLI builds the nats CLI pinned in proto/tools/go.mod (what `go tool
// nats` runs), with time for a cold build cache.
func buildCLI(t *testing.T) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()
	bin := filepath.Join(t.TempDir(), "nats")
	if out, err := exec.CommandContext(ctx, "go", "build", "-o", bin, "github.com/nats-io/natscli/nats").CombinedOutput(); err != nil {
		t.Fatalf("build the nats CLI: %v\n%s", err, out)
	}
	return bin
}

// natsCLI runs the nats CLI as the runbook does: the server, the admin
// user and the CA from the environment.
func natsCLI(t *testing.T, bin, url string, pki *devpki.Files, args ...string) string {
	t.Helper()
	pw, err := pki.ReadNATSPassword(stack.NATSAdmin)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(ctxT(t), bin, args...)
	cmd.Env = append(os.Environ(), "NATS_URL="+url, "NATS_USER="+stack.NATSAdmin, "NATS_PASSWORD="+pw, "NATS_CA="+pki.CA(),
		// No context of the machine's user may redirect the CLI.
		"XDG_CONFIG_HOME="+t.TempDir())
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("nats %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// message is one stored message as the log holds it.
type message struct {
	subject string
	data    string
	header  string
}

// dump reads every stream of the account: configuration and every message
// at its sequence.
func dump(t *testing.T, js jetstream.JetStream) map[string]map[uint64]message {
	t.Helper()
	out := map[string]map[uint64]message{}
	names := js.StreamNames(ctxT(t))
	for name := range names.Name() {
		s, err := js.Stream(ctxT(t), name)
		if err != nil {
			t.Fatal(err)
		}
		info, err := s.Info(ctxT(t))
		if err != nil {
			t.Fatal(err)
		}
		msgs := map[uint64]message{}
		for seq := info.State.FirstSeq; seq <= info.State.LastSeq && info.State.Msgs > 0; seq++ {
			m, err := s.GetMsg(ctxT(t), seq)
			if err != nil {
				continue // deleted (a KV history limit): not in the log either
			}
			msgs[seq] = message{subject: m.Subject, data: string(m.Data), header: fmt.Sprint(m.Header)}
		}
		out[name] = msgs
	}
	if err := names.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// view is what readers see through the API.
type view struct {
	institutions []*registryv1.Institution
	awards       []*assessmentv1.Award
	board        []*rankingv1.LeaderboardEntry
}

func readView(t *testing.T, st *stack.Stack) view {
	t.Helper()
	dial := func(addr string) *grpc.ClientConn {
		cc, err := st.Dial(addr, "admin")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = cc.Close() })
		return cc
	}
	var v view
	reg := registryv1.NewRegistryServiceClient(dial(st.Registry))
	for tok := ""; ; {
		r, err := reg.ListInstitutions(ctxT(t), &registryv1.ListInstitutionsRequest{PageToken: tok})
		if err != nil {
			t.Fatal(err)
		}
		v.institutions = append(v.institutions, r.GetInstitutions()...)
		if tok = r.GetNextPageToken(); tok == "" {
			break
		}
	}
	asm := assessmentv1.NewAssessmentServiceClient(dial(st.Assessment))
	for tok := ""; ; {
		r, err := asm.ListAwards(ctxT(t), &assessmentv1.ListAwardsRequest{PageToken: tok})
		if err != nil {
			t.Fatal(err)
		}
		v.awards = append(v.awards, r.GetAwards()...)
		if tok = r.GetNextPageToken(); tok == "" {
			break
		}
	}
	rank := rankingv1.NewRankingServiceClient(dial(st.Ranking))
	key := &rankingv1.BoardKey{SchemeId: "ombudsman", Year: 2024, PeerGroup: "pemda", Scope: "63"}
	// The ranking builds its boards from the log on its own: wait until it
	// has applied everything, then read.
	deadline := time.Now().Add(30 * time.Second)
	for {
		r, err := rank.GetLeaderboard(ctxT(t), &rankingv1.GetLeaderboardRequest{Board: key, PageSize: 100})
		if err == nil && caughtUp(t, st) {
			v.board = r.GetEntries()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("board %v not served from a caught-up ranking: %v", key, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	return v
}

// caughtUp reports whether every durable consumer of the account has
// nothing pending and nothing unacknowledged.
func caughtUp(t *testing.T, st *stack.Stack) bool {
	nc, err := st.ConnectNATS(ctxT(t), stack.NATSAdmin, "backup-test", slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"ASSESSMENTS", "ROUNDS"} {
		c, err := js.Consumer(ctxT(t), s, "ranking")
		if err != nil {
			return false
		}
		info, err := c.Info(ctxT(t))
		if err != nil || info.NumPending > 0 || info.NumAckPending > 0 {
			return false
		}
	}
	return true
}

func adminJS(t *testing.T, st *stack.Stack) jetstream.JetStream {
	nc, err := st.ConnectNATS(ctxT(t), stack.NATSAdmin, "backup-test", natstest.Logger(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	return js
}

func TestRunbookBackupAndRestoreFindsEveryRecord(t *testing.T) {
	cli := buildCLI(t)
	log := natstest.Logger(t)
	dir1, dir2, backups := t.TempDir(), t.TempDir(), filepath.Join(t.TempDir(), "predikat-backup")

	// A stack holding the demo year: institutions, records, published
	// rounds, awards.
	st, err := stack.Start(ctxT(t), stack.Options{Mode: stack.InProcess, DataDir: dir1, NATSSync: true, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	func() {
		rc, err := st.Dial(st.Registry, "admin")
		if err != nil {
			t.Fatal(err)
		}
		defer rc.Close()
		ac, err := st.Dial(st.Assessment, "admin")
		if err != nil {
			t.Fatal(err)
		}
		defer ac.Close()
		if err := demo.Load(ctxT(t), demo.Clients{Registry: registryv1.NewRegistryServiceClient(rc), Assessment: assessmentv1.NewAssessmentServiceClient(ac)}, log); err != nil {
			t.Fatal(err)
		}
	}()
	before := readView(t, st)
	logBefore := dump(t, adminJS(t, st))

	// The runbook's backup, while the services run.
	natsCLI(t, cli, st.NATS, st.PKI(), "backup", "account", "--force", "--consumers", backups)
	st.Close()

	// A new, empty server: the runbook restores before any service starts.
	pki2, err := devpki.Ensure(filepath.Join(dir2, "pki"), log)
	if err != nil {
		t.Fatal(err)
	}
	n2, err := stack.StartNATS(stack.NATSOptions{Host: "127.0.0.1", Port: -1, StoreDir: filepath.Join(dir2, "nats"), Sync: true, Name: "restored", PKI: pki2}, log)
	if err != nil {
		t.Fatal(err)
	}
	natsCLI(t, cli, n2.URL, pki2, "backup", "restore", "account", backups)
	n2.Stop()

	// The stack on the restored store, with an empty Redis of its own.
	st2, err := stack.Start(ctxT(t), stack.Options{Mode: stack.InProcess, DataDir: dir2, NATSSync: true, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	defer st2.Close()
	if st2.Fresh {
		t.Fatal("the restored store is empty")
	}
	logAfter := dump(t, adminJS(t, st2))
	records := 0
	for stream, msgs := range logBefore {
		got, ok := logAfter[stream]
		if !ok {
			t.Errorf("stream %s not restored", stream)
			continue
		}
		for seq, m := range msgs {
			if got[seq] != m {
				t.Errorf("%s #%d: restored %+v, want %+v", stream, seq, got[seq], m)
			}
		}
		records += len(msgs)
	}
	if records == 0 || len(logBefore["ASSESSMENTS"]) == 0 || len(logBefore["AWARDS"]) == 0 {
		t.Fatalf("nothing to find: %d messages in %d streams", records, len(logBefore))
	}
	after := readView(t, st2)
	for name, eq := range map[string]bool{
		"institutions": slices.EqualFunc(before.institutions, after.institutions, func(a, b *registryv1.Institution) bool { return proto.Equal(a, b) }),
		"awards":       slices.EqualFunc(before.awards, after.awards, func(a, b *assessmentv1.Award) bool { return proto.Equal(a, b) }),
		"board":        slices.EqualFunc(before.board, after.board, func(a, b *rankingv1.LeaderboardEntry) bool { return proto.Equal(a, b) }),
	} {
		if !eq {
			t.Errorf("%s differ after the restore", name)
		}
	}
	if len(before.institutions) == 0 || len(before.awards) == 0 || len(before.board) == 0 {
		t.Fatalf("an empty view proves nothing: %d institutions, %d awards, %d board entries",
			len(before.institutions), len(before.awards), len(before.board))
	}
	t.Logf("restored %d messages in %d streams; %d institutions, %d awards, %d board entries found again",
		records, len(logBefore), len(after.institutions), len(after.awards), len(after.board))
}
