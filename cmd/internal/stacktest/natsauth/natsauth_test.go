// Package natsauth checks that the stack's NATS lets in only its users,
// each with no more than it needs: no anonymous client, no forged award
// from a subscriber or the ranking service, while the subscriber still
// reads the awards through a durable consumer of its own.
package natsauth

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/predikat-id/predikat/cmd/internal/cli"
	"github.com/predikat-id/predikat/cmd/internal/stack"
	"github.com/predikat-id/predikat/pkg/awardfeed"
	"github.com/predikat-id/predikat/pkg/events"
	assessmentv1 "github.com/predikat-id/predikat/pkg/gen/predikat/assessment/v1"
	eventsv1 "github.com/predikat-id/predikat/pkg/gen/predikat/events/v1"
	registryv1 "github.com/predikat-id/predikat/pkg/gen/predikat/registry/v1"
	"github.com/predikat-id/predikat/pkg/platform/grpcserver"
	"github.com/predikat-id/predikat/pkg/platform/natsx"
	"github.com/predikat-id/predikat/pkg/platform/testenv/natstest"
)

func ctxT(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// refusedCtx bounds a request NATS is expected to refuse: the server drops
// a publish its user may not make, so the request only times out.
func refusedCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// connect connects as user, or fails the test.
func connect(t *testing.T, st *stack.Stack, user string) *nats.Conn {
	t.Helper()
	nc, err := st.ConnectNATS(ctxT(t), user, "natsauth-"+user, natstest.Logger(t))
	if err != nil {
		t.Fatalf("connect as %s: %v", user, err)
	}
	t.Cleanup(nc.Close)
	return nc
}

// cliApp is the predikat CLI writing to out, with the stack's PKI.
func cliApp(pki string, out *syncBuffer) *cli.App {
	return &cli.App{Stdout: out, Stderr: out, Dial: grpcserver.Dial, Getenv: func(k string) string {
		if k == "PREDIKAT_PKI" {
			return pki
		}
		return ""
	}}
}

// dial connects once, without retries, with opts: for the clients that
// must be refused.
func dial(url string, opts ...nats.Option) error {
	nc, err := nats.Connect(url, append([]nats.Option{nats.Timeout(5 * time.Second)}, opts...)...)
	if err == nil {
		nc.Close()
	}
	return err
}

func lastSeq(t *testing.T, js jetstream.JetStream, stream string) uint64 {
	t.Helper()
	s, err := js.Stream(ctxT(t), stream)
	if err != nil {
		t.Fatal(err)
	}
	return s.CachedInfo().State.LastSeq
}

// forgedAward is an AwardGranted as the assessment service would publish
// it, for an award nobody granted.
func forgedAward(t *testing.T, id string) *nats.Msg {
	t.Helper()
	subj := events.AwardSubject(events.Granted, "rb", 2024, "63", registryv1.InstitutionKind_INSTITUTION_KIND_REGENCY_GOVERNMENT, "pemkab-hss", id)
	msg, err := events.NewMsg(subj, events.SourceAssessment, "pemkab-hss", &eventsv1.AwardGranted{
		Award: &assessmentv1.Award{Id: id, Title: "Penghargaan Palsu"}})
	if err != nil {
		t.Fatal(err)
	}
	return msg
}

// violation reports whether err is NATS refusing a publish or subscribe.
func violation(err error) bool {
	return errors.Is(err, nats.ErrPermissionViolation) || (err != nil && strings.Contains(strings.ToLower(err.Error()), "permissions violation"))
}

func TestNATSAuthorization(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	// The server logs every refused publish or subscribe: the services and
	// the CLI must cause none, only this test's own clients (natsauth-*).
	seen := &violations{Handler: natstest.Logger(t).Handler()}
	st, err := stack.Start(ctx, stack.Options{Mode: stack.InProcess, DataDir: t.TempDir(), Logger: slog.New(seen)})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	pki := st.PKI()
	admin := connect(t, st, stack.NATSAdmin)
	adminJS, err := jetstream.New(admin)
	if err != nil {
		t.Fatal(err)
	}

	t.Run("anonymous and wrong credentials are refused", func(t *testing.T) {
		if err := dial(st.NATS, nats.RootCAs(pki.CA())); !errors.Is(err, nats.ErrAuthorization) {
			t.Errorf("anonymous over TLS: %v, want an authorization violation", err)
		}
		if err := dial(st.NATS); err == nil {
			t.Error("anonymous without TLS connected")
		}
		pw, err := pki.ReadNATSPassword(stack.Ranking)
		if err != nil {
			t.Fatal(err)
		}
		if err := dial(st.NATS, nats.RootCAs(pki.CA()), nats.UserInfo(stack.NATSSubscriber, pw)); !errors.Is(err, nats.ErrAuthorization) {
			t.Errorf("subscriber with ranking's password: %v, want an authorization violation", err)
		}
		if err := dial(st.NATS, nats.UserInfo(stack.NATSAdmin, mustPassword(t, st, stack.NATSAdmin))); err == nil {
			t.Error("admin connected without TLS")
		}
	})

	// The AWARDS stream holds a real award, granted through the service.
	cc, err := st.Dial(st.Registry, "admin")
	if err != nil {
		t.Fatal(err)
	}
	defer cc.Close()
	if _, err := registryv1.NewRegistryServiceClient(cc).CreateInstitution(ctxT(t), &registryv1.CreateInstitutionRequest{InstitutionId: "pemkab-hss",
		Institution: &registryv1.Institution{Name: "Pemerintah Kabupaten Hulu Sungai Selatan",
			Kind: registryv1.InstitutionKind_INSTITUTION_KIND_REGENCY_GOVERNMENT, RegionCode: "63.06"}}); err != nil {
		t.Fatal(err)
	}
	ac, err := st.Dial(st.Assessment, "admin")
	if err != nil {
		t.Fatal(err)
	}
	defer ac.Close()
	granted, err := assessmentv1.NewAssessmentServiceClient(ac).GrantAward(ctxT(t), &assessmentv1.GrantAwardRequest{InstitutionId: "pemkab-hss",
		Title:    "Penghargaan Indeks Reformasi Birokrasi Tahun 2024, Predikat AA",
		Ceremony: &assessmentv1.Ceremony{Name: "Rapat Koordinasi Pelayanan Publik se-Kalimantan Selatan", Place: "Banjarmasin", Date: "2025-04-17"},
		SchemeId: "rb", Year: 2024, Score: "91.25", BandCode: "AA", RequestId: "natsauth-1"})
	if err != nil {
		t.Fatalf("grant award: %v", err)
	}
	awardID := granted.GetAward().GetId()

	t.Run("subscriber cannot publish an award", func(t *testing.T) {
		nc := connect(t, st, stack.NATSSubscriber)
		js, err := jetstream.New(nc)
		if err != nil {
			t.Fatal(err)
		}
		before := lastSeq(t, adminJS, events.Awards)
		_, err = js.PublishMsg(refusedCtx(t), forgedAward(t, "forged-subscriber"))
		if err == nil {
			t.Fatal("subscriber published an award")
		}
		// Core NATS too: the publish is dropped, reported asynchronously.
		errs := make(chan error, 4)
		nc.SetErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) { errs <- err })
		if err := nc.PublishMsg(forgedAward(t, "forged-subscriber-core")); err != nil {
			t.Fatal(err)
		}
		select {
		case err := <-errs:
			if !violation(err) {
				t.Errorf("core publish: %v, want a permissions violation", err)
			}
		case <-time.After(5 * time.Second):
			t.Error("no permissions violation for a core publish on an award subject")
		}
		if after := lastSeq(t, adminJS, events.Awards); after != before {
			t.Errorf("AWARDS moved from %d to %d", before, after)
		}
		// Only its own durable consumer: another name, as another
		// subscribing system's, is refused.
		if _, err := js.CreateOrUpdateConsumer(refusedCtx(t), events.Awards, jetstream.ConsumerConfig{Durable: "another-system",
			AckPolicy: jetstream.AckExplicitPolicy}); err == nil {
			t.Error("subscriber created a durable consumer of another name")
		}
		if _, err := adminJS.CreateOrUpdateConsumer(ctxT(t), events.Awards, jetstream.ConsumerConfig{Durable: "other-portal",
			AckPolicy: jetstream.AckExplicitPolicy}); err != nil {
			t.Fatal(err)
		}
		if _, err := js.Consumer(refusedCtx(t), events.Awards, "other-portal"); err == nil {
			t.Error("subscriber read another subscriber's durable consumer")
		}
		// No deleting consumers, no touching the other streams.
		if err := js.DeleteConsumer(refusedCtx(t), events.Awards, "anyone"); err == nil || errors.Is(err, jetstream.ErrConsumerNotFound) {
			t.Errorf("subscriber deleting a consumer: %v, want refused", err)
		}
		if _, err := js.Stream(refusedCtx(t), events.Assessments); err == nil {
			t.Error("subscriber read the ASSESSMENTS stream")
		}
		if _, err := nc.SubscribeSync(events.AssessmentAll); err == nil {
			if err := nc.FlushTimeout(5 * time.Second); err == nil {
				select {
				case err := <-errs:
					if !violation(err) {
						t.Errorf("subscribe to assessments: %v", err)
					}
				case <-time.After(5 * time.Second):
					t.Error("subscriber subscribed to the assessments")
				}
			}
		}
	})

	t.Run("subscriber reads awards through its own durable consumer", func(t *testing.T) {
		nc := connect(t, st, stack.NATSSubscriber)
		js, err := jetstream.New(nc)
		if err != nil {
			t.Fatal(err)
		}
		var mu sync.Mutex
		got := make(chan awardfeed.Event, 16)
		sub, err := awardfeed.Subscribe(ctxT(t), js, stack.NATSSubscriber, awardfeed.Filter{}, func(_ context.Context, ev awardfeed.Event) error {
			mu.Lock()
			defer mu.Unlock()
			got <- ev
			return nil
		})
		if err != nil {
			t.Fatalf("subscribe as subscriber: %v", err)
		}
		defer sub.Stop()
		select {
		case ev := <-got:
			if ev.Granted.GetAward().GetId() != awardID {
				t.Errorf("received %v, want award %s", ev.Granted, awardID)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("no award received")
		}
		// The durable consumer was created and acknowledged.
		deadline := time.Now().Add(10 * time.Second)
		for {
			c, err := adminJS.Consumer(ctxT(t), events.Awards, stack.NATSSubscriber)
			if err != nil {
				t.Fatal(err)
			}
			if info, err := c.Info(ctxT(t)); err == nil && info.AckFloor.Stream > 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("the award was never acknowledged")
			}
			time.Sleep(100 * time.Millisecond)
		}
	})

	t.Run("awards watch connects as the subscriber of the PKI", func(t *testing.T) {
		var out syncBuffer
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan int, 1)
		app := cliApp(pki.Dir, &out)
		go func() { done <- app.Run(ctx, []string{"awards", "watch", "--durable", "--nats", st.NATS}) }()
		deadline := time.Now().Add(15 * time.Second)
		for !strings.Contains(out.String(), "granted") {
			if time.Now().After(deadline) {
				cancel()
				t.Fatalf("awards watch printed no award: %s", out.String())
			}
			time.Sleep(100 * time.Millisecond)
		}
		cancel()
		if code := <-done; code != 0 {
			t.Errorf("awards watch exited %d: %s", code, out.String())
		}
		c, err := adminJS.Consumer(ctxT(t), events.Awards, stack.NATSSubscriber)
		if err != nil {
			t.Errorf("the watch's durable consumer: %v", err)
		} else if c.CachedInfo().AckFloor.Stream == 0 {
			t.Error("the watch acknowledged nothing")
		}
	})

	t.Run("a live awards watch shows new awards and leaves no consumer", func(t *testing.T) {
		consumers := func() []string {
			var names []string
			stream, err := adminJS.Stream(ctxT(t), events.Awards)
			if err != nil {
				t.Fatal(err)
			}
			l := stream.ConsumerNames(ctxT(t))
			for n := range l.Name() {
				names = append(names, n)
			}
			slices.Sort(names)
			return names
		}
		before := consumers()
		var out syncBuffer
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan int, 1)
		app := cliApp(pki.Dir, &out)
		go func() { done <- app.Run(ctx, []string{"awards", "watch", "--province", "63", "--nats", st.NATS}) }()
		waitFor := func(what string) {
			deadline := time.Now().Add(15 * time.Second)
			for !strings.Contains(out.String(), what) {
				if time.Now().After(deadline) {
					cancel()
					t.Fatalf("awards watch never printed %q: %s", what, out.String())
				}
				time.Sleep(50 * time.Millisecond)
			}
		}
		waitFor("live")
		if strings.Contains(out.String(), "Reformasi Birokrasi") {
			t.Fatalf("a live watch replayed history: %s", out.String())
		}
		if _, err := assessmentv1.NewAssessmentServiceClient(ac).GrantAward(ctxT(t), &assessmentv1.GrantAwardRequest{InstitutionId: "pemkab-hss",
			Title:     "Penghargaan Pelayanan Publik 2025",
			Ceremony:  &assessmentv1.Ceremony{Name: "Rapat Koordinasi Pelayanan Publik se-Kalimantan Selatan", Place: "Banjarmasin", Date: "2026-04-17"},
			RequestId: "natsauth-live"}); err != nil {
			t.Fatal(err)
		}
		waitFor("Penghargaan Pelayanan Publik 2025")
		cancel()
		if code := <-done; code != 0 {
			t.Errorf("awards watch exited %d: %s", code, out.String())
		}
		if after := consumers(); !slices.Equal(after, before) {
			t.Errorf("consumers on AWARDS %v after a live watch, %v before", after, before)
		}
	})

	t.Run("ranking cannot publish events", func(t *testing.T) {
		nc := connect(t, st, stack.Ranking)
		js, err := jetstream.New(nc)
		if err != nil {
			t.Fatal(err)
		}
		before := lastSeq(t, adminJS, events.Awards)
		if _, err := js.PublishMsg(refusedCtx(t), forgedAward(t, "forged-ranking")); err == nil {
			t.Fatal("ranking published an award")
		}
		if _, err := js.Publish(refusedCtx(t), "predikat.assessment.recorded.x.2024.y", []byte("x")); err == nil {
			t.Error("ranking published an assessment")
		}
		if after := lastSeq(t, adminJS, events.Awards); after != before {
			t.Errorf("AWARDS moved from %d to %d", before, after)
		}
		// What it does need: its streams and consumers on them.
		if _, err := js.Stream(ctxT(t), events.Assessments); err != nil {
			t.Errorf("ranking reading ASSESSMENTS: %v", err)
		}
		if _, err := js.Stream(refusedCtx(t), events.Awards); err == nil {
			t.Error("ranking read AWARDS, which it has no use for")
		}
	})

	t.Run("registry writes only its buckets", func(t *testing.T) {
		nc := connect(t, st, stack.Registry)
		js, err := jetstream.New(nc)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := js.PublishMsg(refusedCtx(t), forgedAward(t, "forged-registry")); err == nil {
			t.Error("registry published an award")
		}
		if _, err := js.KeyValue(ctxT(t), "registry_institutions"); err != nil {
			t.Errorf("registry opening its bucket: %v", err)
		}
		if _, err := js.KeyValue(refusedCtx(t), "assessment_rounds"); err == nil {
			t.Error("registry opened the assessment's bucket")
		}
	})

	// NATS hands a reply to whoever subscribes to its subject: no user may
	// subscribe to another's replies, or it would read what the other
	// pulls from streams it may not read itself.
	t.Run("every user reads its own replies only", func(t *testing.T) {
		for _, user := range []string{stack.NATSSubscriber, stack.Ranking, stack.Registry, stack.Assessment} {
			t.Run(user, func(t *testing.T) { checkOwnInbox(t, st, user) })
		}
	})

	// Survey responses and respondent profiles (personal data) are the
	// assessment service's alone: no other user reads, follows or writes
	// SURVEYS or SURVEY_PROFILES.
	t.Run("surveys are the assessment service's alone", func(t *testing.T) {
		for _, user := range []string{stack.NATSSubscriber, stack.Ranking, stack.Registry} {
			t.Run(user, func(t *testing.T) { checkNoSurveys(t, st, adminJS, user) })
		}
		// The owner still opens them: the refusals above are for the user.
		js, err := jetstream.New(connect(t, st, stack.Assessment))
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range []string{events.Surveys, events.SurveyProfiles} {
			if _, err := js.Stream(ctxT(t), s); err != nil {
				t.Errorf("assessment opening %s: %v", s, err)
			}
		}
	})

	select {
	case <-st.Failed():
		t.Errorf("a service stopped: %v", st.Err())
	default:
	}
	for _, v := range seen.list() {
		t.Errorf("a service or the CLI was refused by NATS: %s", v)
	}
}

// violations passes records on to Handler and keeps the permission
// violations NATS reports for clients other than this test's.
type violations struct {
	slog.Handler
	mu   sync.Mutex
	msgs *[]string
}

func (v *violations) Handle(ctx context.Context, r slog.Record) error {
	if strings.Contains(r.Message, "Violation") && !strings.Contains(r.Message, "natsauth-") && strings.Contains(r.Message, "$G/user:") {
		v.mu.Lock()
		if v.msgs == nil {
			v.msgs = new([]string)
		}
		*v.msgs = append(*v.msgs, r.Message)
		v.mu.Unlock()
	}
	return v.Handler.Handle(ctx, r)
}

func (v *violations) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &violationsChild{parent: v, Handler: v.Handler.WithAttrs(attrs)}
}

func (v *violations) WithGroup(name string) slog.Handler {
	return &violationsChild{parent: v, Handler: v.Handler.WithGroup(name)}
}

func (v *violations) list() []string {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.msgs == nil {
		return nil
	}
	return append([]string(nil), *v.msgs...)
}

// violationsChild is a derived handler (With, WithGroup) that records
// into its parent.
type violationsChild struct {
	slog.Handler
	parent *violations
}

func (c *violationsChild) Handle(ctx context.Context, r slog.Record) error {
	if strings.Contains(r.Message, "Violation") && !strings.Contains(r.Message, "natsauth-") && strings.Contains(r.Message, "$G/user:") {
		c.parent.mu.Lock()
		if c.parent.msgs == nil {
			c.parent.msgs = new([]string)
		}
		*c.parent.msgs = append(*c.parent.msgs, r.Message)
		c.parent.mu.Unlock()
	}
	return c.Handler.Handle(ctx, r)
}

func (c *violationsChild) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &violationsChild{parent: c.parent, Handler: c.Handler.WithAttrs(attrs)}
}

func (c *violationsChild) WithGroup(name string) slog.Handler {
	return &violationsChild{parent: c.parent, Handler: c.Handler.WithGroup(name)}
}

// syncBuffer is a bytes.Buffer safe for a writer and a reader.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func mustPassword(t *testing.T, st *stack.Stack, user string) string {
	t.Helper()
	pw, err := st.PKI().ReadNATSPassword(user)
	if err != nil {
		t.Fatal(err)
	}
	return pw
}

// checkNoSurveys: user can neither open the survey streams, nor publish on
// their subjects (JetStream or core), nor subscribe to them.
// refusals takes over nc's asynchronous errors and returns a check that
// the server refused what nc just sent (a core publish or a subscribe),
// which it reports asynchronously.
func refusals(t *testing.T, nc *nats.Conn) (asyncViolation func(what string)) {
	errs := make(chan error, 8)
	nc.SetErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) { errs <- err })
	return func(what string) {
		t.Helper()
		if err := nc.FlushTimeout(5 * time.Second); err != nil && !violation(err) {
			t.Fatalf("%s: flush: %v", what, err)
		}
		select {
		case err := <-errs:
			if !violation(err) {
				t.Errorf("%s: %v, want a permissions violation", what, err)
			}
		case <-time.After(5 * time.Second):
			t.Errorf("%s: no permissions violation", what)
		}
	}
}

// checkOwnInbox proves user receives replies under its own inbox prefix
// only: it works on JetStream (every answer comes to its inbox), and it
// may subscribe neither to the shared _INBOX nor to another user's.
func checkOwnInbox(t *testing.T, st *stack.Stack, user string) {
	nc := connect(t, st, user)
	asyncViolation := refusals(t, nc)
	if !strings.HasPrefix(nc.NewInbox(), natsx.InboxPrefix(user)+".") {
		t.Fatalf("%s's client makes inboxes %s, want them under %s", user, nc.NewInbox(), natsx.InboxPrefix(user))
	}
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := js.AccountInfo(ctxT(t)); err != nil {
		t.Fatalf("%s asking JetStream through its own inbox: %v", user, err)
	}
	for _, subject := range []string{"_INBOX.>", ">", natsx.InboxPrefix(stack.NATSAdmin) + ".>", natsx.InboxPrefix(stack.Assessment) + ".>",
		natsx.InboxPrefix(stack.NATSSubscriber) + ".>", "_INBOX_*.>"} {
		if subject == natsx.InboxPrefix(user)+".>" {
			continue
		}
		if _, err := nc.SubscribeSync(subject); err == nil {
			asyncViolation(user + " subscribe to " + subject)
		}
	}
}

func checkNoSurveys(t *testing.T, st *stack.Stack, adminJS jetstream.JetStream, user string) {
	nc := connect(t, st, user)
	asyncViolation := refusals(t, nc)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	for stream, subject := range map[string]string{events.Surveys: "predikat.survey.forged", events.SurveyProfiles: "predikat.surveyprofile.forged"} {
		before := lastSeq(t, adminJS, stream)
		if _, err := js.Stream(refusedCtx(t), stream); err == nil {
			t.Errorf("%s opened %s", user, stream)
		}
		if _, err := js.Publish(refusedCtx(t), subject, []byte("{}")); err == nil {
			t.Errorf("%s published on %s", user, subject)
		}
		if err := nc.Publish(subject, []byte("{}")); err != nil {
			t.Fatal(err)
		}
		asyncViolation(user + " core publish on " + subject)
		if _, err := nc.SubscribeSync(subject); err == nil {
			asyncViolation(user + " subscribe to " + subject)
		}
		if after := lastSeq(t, adminJS, stream); after != before {
			t.Errorf("%s moved from %d to %d", stream, before, after)
		}
	}
}
