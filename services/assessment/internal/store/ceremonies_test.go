package store

import (
	"bytes"
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ledongthuc/pdf"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/predikat-id/predikat/pkg/events"
	"github.com/predikat-id/predikat/pkg/platform/fault"
	"github.com/predikat-id/predikat/pkg/platform/testenv/natstest"
	"github.com/predikat-id/predikat/services/assessment/internal/app"
	"github.com/predikat-id/predikat/services/assessment/internal/ceremony"
	"github.com/predikat-id/predikat/services/assessment/internal/certificate"
	"github.com/predikat-id/predikat/services/assessment/internal/model"
)

func (r replica) grant(t *testing.T, requestID string) *model.Award {
	t.Helper()
	g, err := r.app.GrantAward.Handle(context.Background(), app.GrantAward{InstitutionID: "kab-banjar", Title: "Penghargaan " + requestID,
		Ceremony: &model.Ceremony{Name: "Rakor", Date: "2025-04-17"}, SchemeID: "ombudsman", Year: 2024, Score: "96,52", BandCode: "a",
		RequestID: requestID, By: "user:award-officer"})
	if err != nil {
		t.Fatal(err)
	}
	return g.Award
}

func (r replica) plan(t *testing.T, requestID string) model.AwardCeremony {
	t.Helper()
	got, err := r.app.CreateCeremony.Handle(context.Background(), app.CreateCeremony{Name: "Rapat Koordinasi " + requestID,
		Place: "Gedung Mahligai Pancasila, Banjarmasin", Date: "2025-04-17", ProvinceCode: "63", Host: "Pemerintah Provinsi Kalimantan Selatan",
		Presenter: &model.PresentedBy{Name: "Hasnuryadi Sulaiman", Office: "Wakil Gubernur Kalimantan Selatan"},
		RequestID: requestID, By: "user:award-officer"})
	if err != nil {
		t.Fatal(err)
	}
	return got.Ceremony
}

// heldMessages is how many CeremonyHeld messages the stream holds for a
// ceremony.
func heldMessages(t *testing.T, st *Store, id string) uint64 {
	t.Helper()
	s, err := st.js.Stream(context.Background(), events.Ceremonies)
	if err != nil {
		t.Fatal(err)
	}
	subj := events.CeremonyHeldSubject("63", id)
	info, err := s.Info(context.Background(), jetstream.WithSubjectFilter(subj))
	if err != nil {
		t.Fatal(err)
	}
	return info.State.Subjects[subj]
}

func TestCeremonyCreateHoldAndRetries(t *testing.T) {
	js := natstest.Start(t).JetStream(t)
	a := openReplica(t, js, true)
	ctx := context.Background()
	c := a.plan(t, "c1")
	if c.State != model.CeremonyPlanned || c.Revision == 0 {
		t.Fatalf("created %+v", c)
	}
	again, err := a.app.CreateCeremony.Handle(ctx, app.CreateCeremony{Name: "Rapat Koordinasi c1", Place: "Gedung Mahligai Pancasila, Banjarmasin",
		Date: "2025-04-17", ProvinceCode: "63", Host: "Pemerintah Provinsi Kalimantan Selatan",
		Presenter: &model.PresentedBy{Name: "Hasnuryadi Sulaiman", Office: "Wakil Gubernur Kalimantan Selatan"}, RequestID: "c1", By: "someone else"})
	if err != nil || again.Changed || again.Ceremony.CreatedBy != "user:award-officer" {
		t.Fatalf("retried create = %+v, %v", again, err)
	}
	if _, err := a.app.CreateCeremony.Handle(ctx, app.CreateCeremony{Name: "Another", Date: "2025-04-18", ProvinceCode: "63", RequestID: "c1"}); !fault.Is(err, fault.Exists) {
		t.Fatalf("same request id, another ceremony: %v", err)
	}

	aw1, aw2 := a.grant(t, "g1"), a.grant(t, "g2")
	hold := app.HoldCeremony{CeremonyID: c.ID, AwardIDs: []string{aw1.ID, aw2.ID}, RequestID: "h1", By: "user:award-officer"}
	held, err := a.app.HoldCeremony.Handle(ctx, hold)
	if err != nil || !held.Changed || held.Ceremony.State != model.CeremonyHeld || len(held.Ceremony.Awards) != 2 {
		t.Fatalf("hold = %+v, %v", held, err)
	}
	for range 2 {
		if again, err := a.app.HoldCeremony.Handle(ctx, hold); err != nil || again.Changed {
			t.Fatalf("retried hold = %+v, %v", again, err)
		}
	}
	if n := heldMessages(t, a.st, c.ID); n != 1 {
		t.Fatalf("%d CeremonyHeld messages, want 1", n)
	}
	other := hold
	other.RequestID = "h2"
	if _, err := a.app.HoldCeremony.Handle(ctx, other); !fault.Is(err, fault.Precondition) {
		t.Fatalf("a second hold: %v, want FailedPrecondition", err)
	}

	// Read back as stored, from the bucket, and listed.
	got, err := a.app.CeremonyQueries.Ceremony(ctx, c.ID)
	if err != nil || got.State != model.CeremonyHeld || got.HoldFingerprint == "" || got.Awards[1].AwardID != aw2.ID {
		t.Fatalf("read back %+v, %v", got, err)
	}
	list, err := a.app.CeremonyQueries.Ceremonies(ctx, ceremony.Filter{Year: 2025})
	if err != nil || len(list) != 1 {
		t.Fatalf("listed %d, %v", len(list), err)
	}

	// A second replica learns the ceremony from the bucket and resolves
	// the certificate of an award presented at it.
	b := openReplica(t, js, true)
	cert, err := b.app.Certificates.Certificate(ctx, aw1.ID)
	if err != nil || cert.Ceremony == nil || cert.Ceremony.ID != c.ID {
		t.Fatalf("certificate on another replica: %+v, %v", cert.Ceremony, err)
	}
	v, err := b.app.Certificates.Verify(ctx, cert.Code)
	if err != nil || v.Award.ID != aw1.ID || !v.Valid || v.Ceremony.ID != c.ID {
		t.Fatalf("verify on another replica: %+v, %v", v, err)
	}

	// The PDF, read back as a viewer does, shows every field, and its
	// code verifies as the same award.
	text := pdfText(t, cert.PDF)
	for _, want := range []string{"Pemerintah kab-banjar", aw1.Title, "96.52", "Rapat Koordinasi c1", "Gedung Mahligai Pancasila, Banjarmasin",
		"17 April 2025", "Hasnuryadi Sulaiman", "Wakil Gubernur Kalimantan Selatan", cert.Code, "2024"} {
		if !strings.Contains(text, want) {
			t.Errorf("the certificate lacks %q: %s", want, text)
		}
	}
	printed := regexp.MustCompile(`PKT-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}`).FindString(text)
	if v, err := a.app.Certificates.Verify(ctx, printed); err != nil || v.Award.ID != aw1.ID {
		t.Fatalf("the code printed (%q) verifies as %+v, %v", printed, v.Award.ID, err)
	}
}

// pdfText is the text of a PDF's first page, white space collapsed.
func pdfText(t *testing.T, doc []byte) string {
	t.Helper()
	r, err := pdf.NewReader(bytes.NewReader(doc), int64(len(doc)))
	if err != nil {
		t.Fatalf("the PDF does not open: %v", err)
	}
	text, err := r.Page(1).GetPlainText(nil)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Join(strings.Fields(text), " ")
}

// A hold cut short between its write and its announcement (the service
// killed there) is finished by sending it again: announced once.
func TestCeremonyHoldCutShortBeforeItsEvent(t *testing.T) {
	js := natstest.Start(t).JetStream(t)
	a := openReplica(t, js, true)
	ctx := context.Background()
	c := a.plan(t, "c1")
	aw := a.grant(t, "g1")
	hold := app.HoldCeremony{CeremonyID: c.ID, AwardIDs: []string{aw.ID}, RequestID: "h1", By: "user:award-officer"}

	// What HoldCeremony stores, without its announcement. (The request's
	// fingerprint is the use case's; left empty, any retry under the
	// request id matches, which is all this test needs.)
	stored, err := a.st.ForApp(nil).Ceremony(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	next, err := ceremony.Apply(*stored, ceremony.Hold{Awards: []model.Award{*aw}, By: hold.By, RequestID: hold.RequestID,
		Now: time.Date(2025, 4, 17, 10, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.st.storeHold(ctx, next); err != nil {
		t.Fatal(err)
	}
	if n := heldMessages(t, a.st, c.ID); n != 0 {
		t.Fatalf("%d CeremonyHeld messages before the retry, want 0", n)
	}
	got, err := a.app.HoldCeremony.Handle(ctx, hold)
	if err != nil || got.Ceremony.State != model.CeremonyHeld {
		t.Fatalf("retry = %+v, %v", got, err)
	}
	if _, err := a.app.HoldCeremony.Handle(ctx, hold); err != nil {
		t.Fatal(err)
	}
	if n := heldMessages(t, a.st, c.ID); n != 1 {
		t.Fatalf("%d CeremonyHeld messages after the retries, want 1", n)
	}
}

// Two awards sharing a verification code resolve to neither.
func TestCodeClashResolvesToNeither(t *testing.T) {
	v := newView()
	v.mu.Lock()
	v.indexCode("aw-one")
	code := certificate.Code("aw-one")
	// Forge the clash: the code already names another award.
	v.certCodes[code] = "aw-other"
	v.indexCode("aw-one")
	v.mu.Unlock()
	if _, err := v.awardOfCode(code); err == nil || !strings.Contains(err.Error(), "2 awards") {
		t.Fatalf("a shared code resolved: %v", err)
	}
	if _, err := v.awardOfCode(certificate.Code("aw-none")); !fault.Is(err, fault.NotFound) {
		t.Fatalf("an unknown code: %v", err)
	}
}

// Two replicas holding two ceremonies with one award: the second hold is
// refused by the award's claim, whatever its own replica's index knew (the
// store is asked directly, as a replica whose index is behind would).
func TestAwardPresentedAtOneCeremonyOnly(t *testing.T) {
	js := natstest.Start(t).JetStream(t)
	a := openReplica(t, js, true)
	b := openReplica(t, js, true)
	ctx := context.Background()
	aw := a.grant(t, "g1")
	x, y := a.plan(t, "x"), a.plan(t, "y")
	now := time.Date(2025, 4, 17, 10, 0, 0, 0, time.UTC)
	held := func(st *Store, c model.AwardCeremony, req string) error {
		stored, err := st.ForApp(nil).Ceremony(ctx, c.ID)
		if err != nil {
			return err
		}
		next, err := ceremony.Apply(*stored, ceremony.Hold{Awards: []model.Award{*aw}, By: "user:award-officer", RequestID: req, Now: now})
		if err != nil {
			return err
		}
		_, err = st.storeHold(ctx, next)
		return err
	}
	if err := held(a.st, x, "hx"); err != nil {
		t.Fatal(err)
	}
	if err := held(b.st, y, "hy"); !fault.Is(err, fault.Precondition) || !strings.Contains(err.Error(), x.ID) {
		t.Fatalf("the award presented at a second ceremony: %v", err)
	}
	// The claim of a hold that never landed is taken over.
	z := a.plan(t, "z")
	aw2 := a.grant(t, "g2")
	if _, err := a.st.ceremonies.Create(ctx, presentedPrefix+aw2.ID, []byte(z.ID)); err != nil {
		t.Fatal(err)
	}
	w := a.plan(t, "w")
	stored, err := b.st.ForApp(nil).Ceremony(ctx, w.ID)
	if err != nil {
		t.Fatal(err)
	}
	next, err := ceremony.Apply(*stored, ceremony.Hold{Awards: []model.Award{*aw2}, By: "user:award-officer", RequestID: "hw", Now: now})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.st.storeHold(ctx, next); err != nil {
		t.Fatalf("a claim left by a hold that never landed: %v", err)
	}
	// A claim whose ceremony is still where its hold expects it: that hold
	// may yet land, so the claim stands.
	v := a.plan(t, "v")
	aw3 := a.grant(t, "g3")
	if _, err := a.st.ceremonies.Create(ctx, presentedPrefix+aw3.ID, []byte(fmt.Sprintf("%s@%d", v.ID, v.Revision))); err != nil {
		t.Fatal(err)
	}
	u := a.plan(t, "u")
	stored, err = b.st.ForApp(nil).Ceremony(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	next, err = ceremony.Apply(*stored, ceremony.Hold{Awards: []model.Award{*aw3}, By: "user:award-officer", RequestID: "hu", Now: now})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.st.storeHold(ctx, next); !fault.Is(err, fault.Conflict) {
		t.Fatalf("a claim whose hold is in flight was taken over: %v", err)
	}
}
