package natsx_test

import (
	"context"
	"errors"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/predikat-id/predikat/pkg/events"

	"github.com/predikat-id/predikat/pkg/platform/natsx"
	"github.com/predikat-id/predikat/pkg/platform/testenv/natstest"
)

func testCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestEnsureStreamIsIdempotentAndUpdates(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	js := natstest.Start(t).JetStream(t)

	cfg := jetstream.StreamConfig{
		Name:     "EVENTS",
		Subjects: []string{"events.>"},
		Storage:  jetstream.FileStorage,
		MaxAge:   time.Hour,
	}
	if _, err := natsx.EnsureStream(ctx, js, cfg); err != nil {
		t.Fatalf("first ensure: %v", err)
	}
	if _, err := js.Publish(ctx, "events.a", []byte("x")); err != nil {
		t.Fatalf("publish: %v", err)
	}
	// Same config again: must not fail and must not lose data.
	s, err := natsx.EnsureStream(ctx, js, cfg)
	if err != nil {
		t.Fatalf("second ensure: %v", err)
	}
	info, err := s.Info(ctx)
	if err != nil {
		t.Fatalf("info: %v", err)
	}
	if info.State.Msgs != 1 {
		t.Fatalf("messages after re-ensure = %d, want 1", info.State.Msgs)
	}

	cfg.MaxAge = 2 * time.Hour
	s, err = natsx.EnsureStream(ctx, js, cfg)
	if err != nil {
		t.Fatalf("ensure with new MaxAge: %v", err)
	}
	info, err = s.Info(ctx)
	if err != nil {
		t.Fatalf("info: %v", err)
	}
	if info.Config.MaxAge != 2*time.Hour {
		t.Fatalf("MaxAge = %s, want 2h", info.Config.MaxAge)
	}
	if info.State.Msgs != 1 {
		t.Fatalf("messages after update = %d, want 1", info.State.Msgs)
	}
}

func TestEnsureStreamUpdatesOnlyWhatChanged(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	srv := natstest.Start(t)
	js := srv.JetStream(t)
	nc := srv.Conn(t)
	updated, err := nc.SubscribeSync("$JS.EVENT.ADVISORY.STREAM.UPDATED.AUDIT")
	if err != nil {
		t.Fatal(err)
	}
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	cfg := jetstream.StreamConfig{
		Name: "AUDIT", Subjects: []string{"audit.>"}, Storage: jetstream.FileStorage,
		Duplicates: time.Hour, DenyDelete: true, DenyPurge: true,
	}
	if _, err := natsx.EnsureStream(ctx, js, cfg); err != nil {
		t.Fatalf("first ensure: %v", err)
	}
	// The same settings again (as every start does): no update at all.
	if _, err := natsx.EnsureStream(ctx, js, cfg); err != nil {
		t.Fatalf("second ensure: %v", err)
	}
	if m, err := updated.NextMsg(300 * time.Millisecond); err == nil {
		t.Fatalf("the same settings updated the stream: %s", m.Data)
	}
	// A flag turned on is an update.
	cfg.AllowAtomicPublish = true
	s, err := natsx.EnsureStream(ctx, js, cfg)
	if err != nil {
		t.Fatalf("ensure with atomic publish: %v", err)
	}
	if _, err := updated.NextMsg(5 * time.Second); err != nil {
		t.Fatalf("no update advisory for a changed flag: %v", err)
	}
	if !s.CachedInfo().Config.AllowAtomicPublish {
		t.Fatal("atomic publish not on after the update")
	}
	// A limit the settings no longer make is taken back.
	cfg.MaxAge = time.Hour
	if _, err := natsx.EnsureStream(ctx, js, cfg); err != nil {
		t.Fatalf("ensure with MaxAge: %v", err)
	}
	if _, err := updated.NextMsg(5 * time.Second); err != nil {
		t.Fatalf("no update advisory for MaxAge: %v", err)
	}
	cfg.MaxAge = 0
	if s, err = natsx.EnsureStream(ctx, js, cfg); err != nil {
		t.Fatalf("ensure without MaxAge: %v", err)
	}
	if _, err := updated.NextMsg(5 * time.Second); err != nil || s.CachedInfo().Config.MaxAge != 0 {
		t.Fatalf("MaxAge no longer set was kept (%s): %v", s.CachedInfo().Config.MaxAge, err)
	}
	// Every stream of Predikat, ensured again as at every start: no update.
	for _, name := range events.StreamNames() {
		if _, err := natsx.EnsureStream(ctx, js, events.StreamConfig(name, 1)); err != nil {
			t.Fatalf("ensure %s: %v", name, err)
		}
	}
	all, err := nc.SubscribeSync("$JS.EVENT.ADVISORY.STREAM.UPDATED.>")
	if err != nil {
		t.Fatal(err)
	}
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	for _, name := range events.StreamNames() {
		if _, err := natsx.EnsureStream(ctx, js, events.StreamConfig(name, 1)); err != nil {
			t.Fatalf("ensure %s again: %v", name, err)
		}
	}
	if m, err := all.NextMsg(300 * time.Millisecond); err == nil {
		t.Fatalf("a stream of Predikat ensured unchanged was updated: %s", m.Data)
	}
}

func TestEnsureStreamErrorNamesStream(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	js := natstest.Start(t).JetStream(t)

	cfg := jetstream.StreamConfig{Name: "FIXED", Subjects: []string{"fixed.>"}, Storage: jetstream.FileStorage}
	if _, err := natsx.EnsureStream(ctx, js, cfg); err != nil {
		t.Fatalf("ensure: %v", err)
	}
	// JetStream cannot change the storage type in place.
	cfg.Storage = jetstream.MemoryStorage
	_, err := natsx.EnsureStream(ctx, js, cfg)
	if err == nil {
		t.Fatal("changing storage type succeeded, want an error")
	}
	if !strings.Contains(err.Error(), `"FIXED"`) {
		t.Fatalf("error %q does not name the stream", err)
	}
}

func TestEnsureKVIsIdempotentAndUpdates(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	js := natstest.Start(t).JetStream(t)

	cfg := jetstream.KeyValueConfig{Bucket: "settings", History: 1}
	kv, err := natsx.EnsureKV(ctx, js, cfg)
	if err != nil {
		t.Fatalf("first ensure: %v", err)
	}
	if _, err := kv.Put(ctx, "k", []byte("v")); err != nil {
		t.Fatalf("put: %v", err)
	}
	if _, err := natsx.EnsureKV(ctx, js, cfg); err != nil {
		t.Fatalf("second ensure: %v", err)
	}
	cfg.History = 5
	kv, err = natsx.EnsureKV(ctx, js, cfg)
	if err != nil {
		t.Fatalf("ensure with new history: %v", err)
	}
	st, err := kv.Status(ctx)
	if err != nil {
		t.Fatalf("status: %v", err)
	}
	if st.History() != 5 {
		t.Fatalf("history = %d, want 5", st.History())
	}
	e, err := kv.Get(ctx, "k")
	if err != nil {
		t.Fatalf("get after update: %v", err)
	}
	if string(e.Value()) != "v" {
		t.Fatalf("value = %q, want v", e.Value())
	}
}

func TestEnsureKVUpdatesOnlyWhatChanged(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	srv := natstest.Start(t)
	js := srv.JetStream(t)
	nc := srv.Conn(t)
	updated, err := nc.SubscribeSync("$JS.EVENT.ADVISORY.STREAM.UPDATED.KV_rounds")
	if err != nil {
		t.Fatal(err)
	}
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	cfg := jetstream.KeyValueConfig{Bucket: "rounds", Description: "rounds by id", History: 16, Storage: jetstream.FileStorage}
	if _, err := natsx.EnsureKV(ctx, js, cfg); err != nil {
		t.Fatalf("first ensure: %v", err)
	}
	if _, err := natsx.EnsureKV(ctx, js, cfg); err != nil {
		t.Fatalf("second ensure: %v", err)
	}
	if m, err := updated.NextMsg(300 * time.Millisecond); err == nil {
		t.Fatalf("the same settings updated the bucket: %s", m.Data)
	}
	cfg.Description = "rounds by id, with their history"
	if _, err := natsx.EnsureKV(ctx, js, cfg); err != nil {
		t.Fatalf("ensure with a new description: %v", err)
	}
	if _, err := updated.NextMsg(5 * time.Second); err != nil {
		t.Fatalf("no update advisory for a changed description: %v", err)
	}
}

func TestLeaderReadsKV(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	js := natstest.Start(t).JetStream(t)
	cfg := jetstream.KeyValueConfig{Bucket: "fences", History: 4, Storage: jetstream.FileStorage}
	if _, err := natsx.EnsureKV(ctx, js, cfg); err != nil {
		t.Fatal(err)
	}
	kv, err := natsx.LeaderReadsKV(ctx, js, "fences")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := kv.Put(ctx, "r1", []byte("closed")); err != nil {
		t.Fatal(err)
	}
	if e, err := kv.Get(ctx, "r1"); err != nil || string(e.Value()) != "closed" {
		t.Fatalf("get = %v, %v", e, err)
	}
	// As at the next start: the bucket ensured unchanged keeps direct gets off.
	if _, err := natsx.EnsureKV(ctx, js, cfg); err != nil {
		t.Fatal(err)
	}
	st, err := js.Stream(ctx, "KV_fences")
	if err != nil || st.CachedInfo().Config.AllowDirect {
		t.Fatalf("direct gets on after a start (%v)", err)
	}
}

func TestEnsureKVErrorNamesBucket(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	js := natstest.Start(t).JetStream(t)
	_, err := natsx.EnsureKV(ctx, js, jetstream.KeyValueConfig{Bucket: "bad bucket"})
	if err == nil {
		t.Fatal("invalid bucket name accepted")
	}
	if !strings.Contains(err.Error(), `"bad bucket"`) {
		t.Fatalf("error %q does not name the bucket", err)
	}
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func TestConnectWaitsForServerThatStartsLater(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	log := natstest.Logger(t)
	port := freePort(t)
	url := "nats://" + net.JoinHostPort("127.0.0.1", strconv.Itoa(port))

	type result struct {
		nc  *nats.Conn
		err error
	}
	got := make(chan result, 1)
	go func() {
		nc, err := natsx.Connect(ctx, url, "late-start", log)
		got <- result{nc, err}
	}()

	// Let Connect fail at least once before the server exists.
	time.Sleep(500 * time.Millisecond)
	select {
	case r := <-got:
		t.Fatalf("Connect returned before the server started: %v", r.err)
	default:
	}

	srv, err := natsx.StartEmbedded(natsx.EmbeddedConfig{
		Port:           port,
		StoreDir:       t.TempDir(),
		AllowAnonymous: true,
	}, log)
	if err != nil {
		t.Fatalf("start server: %v", err)
	}
	t.Cleanup(func() { srv.Shutdown(); srv.WaitForShutdown() })

	r := <-got
	if r.err != nil {
		t.Fatalf("Connect: %v", r.err)
	}
	t.Cleanup(r.nc.Close)
	if err := r.nc.Publish("ping", []byte("x")); err != nil {
		t.Fatalf("publish: %v", err)
	}
	if err := r.nc.FlushWithContext(ctx); err != nil {
		t.Fatalf("flush: %v", err)
	}
}

func TestConnectGivesUpWhenContextEnds(t *testing.T) {
	t.Parallel()
	url := "nats://" + net.JoinHostPort("127.0.0.1", strconv.Itoa(freePort(t)))
	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel()
	nc, err := natsx.Connect(ctx, url, "nobody-home", natstest.Logger(t))
	if err == nil {
		nc.Close()
		t.Fatal("Connect succeeded without a server")
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("error = %v, want context.DeadlineExceeded", err)
	}
}

func TestStartEmbeddedPersistsAcrossRestart(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	log := natstest.Logger(t)
	cfg := natsx.EmbeddedConfig{Port: -1, StoreDir: t.TempDir(), SyncAlways: true, ServerName: "persist", AllowAnonymous: true}

	srv, err := natsx.StartEmbedded(cfg, log)
	if err != nil {
		t.Fatalf("start: %v", err)
	}
	nc, err := natsx.Connect(ctx, srv.ClientURL(), "persist-1", log)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := natsx.EnsureStream(ctx, js, jetstream.StreamConfig{Name: "DURABLE", Subjects: []string{"durable.>"}}); err != nil {
		t.Fatalf("ensure: %v", err)
	}
	for range 3 {
		if _, err := js.Publish(ctx, "durable.x", []byte("x")); err != nil {
			t.Fatalf("publish: %v", err)
		}
	}
	nc.Close()
	srv.Shutdown()
	srv.WaitForShutdown()

	// Same StoreDir, new server (and a new random port).
	srv, err = natsx.StartEmbedded(cfg, log)
	if err != nil {
		t.Fatalf("restart: %v", err)
	}
	t.Cleanup(func() { srv.Shutdown(); srv.WaitForShutdown() })
	nc, err = natsx.Connect(ctx, srv.ClientURL(), "persist-2", log)
	if err != nil {
		t.Fatalf("connect after restart: %v", err)
	}
	t.Cleanup(nc.Close)
	js, err = jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	s, err := js.Stream(ctx, "DURABLE")
	if err != nil {
		t.Fatalf("stream after restart: %v", err)
	}
	info, err := s.Info(ctx)
	if err != nil {
		t.Fatalf("info: %v", err)
	}
	if info.State.Msgs != 3 {
		t.Fatalf("messages after restart = %d, want 3", info.State.Msgs)
	}
}

func TestStartEmbeddedFailsFastOnTakenPort(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	port := l.Addr().(*net.TCPAddr).Port

	begin := time.Now()
	srv, err := natsx.StartEmbedded(natsx.EmbeddedConfig{Port: port, StoreDir: t.TempDir(), AllowAnonymous: true}, natstest.Logger(t))
	if err == nil {
		srv.Shutdown()
		t.Fatal("started on a port that is in use")
	}
	if took := time.Since(begin); took > 5*time.Second {
		t.Fatalf("took %s to report a taken port", took)
	}
	if !strings.Contains(err.Error(), "listen") {
		t.Fatalf("error %q does not say why", err)
	}
}

func TestStartEmbeddedRequiresStoreDir(t *testing.T) {
	t.Parallel()
	if _, err := natsx.StartEmbedded(natsx.EmbeddedConfig{Port: -1, AllowAnonymous: true}, natstest.Logger(t)); err == nil {
		t.Fatal("started without StoreDir")
	}
}

// TestStartEmbeddedDeniesByDefault: a server with neither users nor an
// explicit AllowAnonymous does not start.
func TestStartEmbeddedDeniesByDefault(t *testing.T) {
	t.Parallel()
	if srv, err := natsx.StartEmbedded(natsx.EmbeddedConfig{Port: -1, StoreDir: t.TempDir()}, natstest.Logger(t)); err == nil {
		srv.Shutdown()
		t.Fatal("started an open server without being asked to")
	}
}

func TestEnsureNeverLowersSafetySettings(t *testing.T) {
	ns := natstest.Start(t)
	js := ns.JetStream(t)
	ctx := context.Background()
	if _, err := natsx.EnsureStream(ctx, js, jetstream.StreamConfig{Name: "AUDIT", Subjects: []string{"audit.>"}, DenyDelete: true, DenyPurge: true}); err != nil {
		t.Fatal(err)
	}
	st, err := natsx.EnsureStream(ctx, js, jetstream.StreamConfig{Name: "AUDIT", Subjects: []string{"audit.>"}})
	if err != nil {
		t.Fatal(err)
	}
	if cfg := st.CachedInfo().Config; !cfg.DenyDelete || !cfg.DenyPurge {
		t.Fatalf("a start without protection turned it off: %+v", cfg)
	}
	if _, err := natsx.EnsureKV(ctx, js, jetstream.KeyValueConfig{Bucket: "trail", History: 32}); err != nil {
		t.Fatal(err)
	}
	kv, err := natsx.EnsureKV(ctx, js, jetstream.KeyValueConfig{Bucket: "trail", History: 1})
	if err != nil {
		t.Fatal(err)
	}
	if s, _ := kv.Status(ctx); s.History() != 32 {
		t.Fatalf("history lowered to %d", s.History())
	}
}
