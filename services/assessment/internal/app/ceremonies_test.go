package app

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/predikat-id/predikat/pkg/platform/fault"
	"github.com/predikat-id/predikat/services/assessment/internal/ceremony"
	"github.com/predikat-id/predikat/services/assessment/internal/certificate"
	"github.com/predikat-id/predikat/services/assessment/internal/model"
)

func rakor(requestID string) CreateCeremony {
	return CreateCeremony{Name: "Rapat Koordinasi Pelayanan Publik se-Kalimantan Selatan", Place: "Gedung Mahligai Pancasila, Banjarmasin",
		Date: "2025-04-17", ProvinceCode: "63", Host: "Pemerintah Provinsi Kalimantan Selatan",
		Presenter: &model.PresentedBy{Name: "Hasnuryadi Sulaiman", Office: "Wakil Gubernur Kalimantan Selatan"},
		RequestID: requestID, By: "user:award-officer"}
}

// grantManual grants a manual award to kab-banjar through the use case.
func grantManual(t *testing.T, f fixture, requestID, title string) *model.Award {
	t.Helper()
	g, err := f.app.GrantAward.Handle(context.Background(), GrantAward{InstitutionID: "kab-banjar", Title: title,
		Ceremony: &model.Ceremony{Name: "Rakor", Date: "2025-04-17"}, SchemeID: "ombudsman", Year: 2024, Score: "96,52", BandCode: "a",
		RequestID: requestID, By: "user:award-officer"})
	if err != nil {
		t.Fatal(err)
	}
	return g.Award
}

func TestCreateCeremony(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	got, err := f.app.CreateCeremony.Handle(ctx, rakor("c1"))
	if err != nil {
		t.Fatal(err)
	}
	c := got.Ceremony
	if !got.Changed || c.ID != ceremony.ID("c1") || c.State != model.CeremonyPlanned || c.CreatedBy != "user:award-officer" || c.CreateTime.IsZero() {
		t.Fatalf("created %+v", got)
	}
	again, err := f.app.CreateCeremony.Handle(ctx, rakor("c1"))
	if err != nil || again.Changed || again.Ceremony.ID != c.ID {
		t.Fatalf("retry = %+v, %v", again, err)
	}
	other := rakor("c1")
	other.Date = "2025-04-18"
	if _, err := f.app.CreateCeremony.Handle(ctx, other); !fault.Is(err, fault.Exists) {
		t.Fatalf("same request id, another ceremony: %v, want AlreadyExists", err)
	}
	for name, cmd := range map[string]CreateCeremony{
		"no calendar day": func() CreateCeremony { c := rakor("c2"); c.Date = "2025-02-30"; return c }(),
		"control in name": func() CreateCeremony { c := rakor("c3"); c.Name = "Rakor\u202e"; return c }(),
		"control in host": func() CreateCeremony { c := rakor("c4"); c.Host = "a\x00b"; return c }(),
	} {
		if _, err := f.app.CreateCeremony.Handle(ctx, cmd); !fault.Is(err, fault.Invalid) {
			t.Errorf("%s: %v, want InvalidArgument", name, err)
		}
	}
}

func TestHoldCeremony(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	created, err := f.app.CreateCeremony.Handle(ctx, rakor("c1"))
	if err != nil {
		t.Fatal(err)
	}
	id := created.Ceremony.ID
	a1, a2 := grantManual(t, f, "g1", "Penghargaan Satu"), grantManual(t, f, "g2", "Penghargaan Dua")
	hold := HoldCeremony{CeremonyID: id, AwardIDs: []string{a1.ID, a2.ID}, RequestID: "h1", By: "user:award-officer"}

	if _, err := f.app.HoldCeremony.Handle(ctx, HoldCeremony{CeremonyID: "cer-aaaaaaaaaaaaaaaa", AwardIDs: []string{a1.ID}, RequestID: "x"}); !fault.Is(err, fault.NotFound) {
		t.Fatalf("unknown ceremony: %v", err)
	}
	missing := hold
	missing.AwardIDs = []string{a1.ID, "aw-aaaaaaaaaaaaaaaaaaaaaaaaaa"}
	if _, err := f.app.HoldCeremony.Handle(ctx, missing); !fault.Is(err, fault.NotFound) || !strings.Contains(err.Error(), "aw-aaaaaaaaaaaaaaaaaaaaaaaaaa") {
		t.Fatalf("unknown award: %v, want NotFound naming it", err)
	}

	got, err := f.app.HoldCeremony.Handle(ctx, hold)
	if err != nil {
		t.Fatal(err)
	}
	c := got.Ceremony
	if !got.Changed || c.State != model.CeremonyHeld || len(c.Awards) != 2 || c.Awards[0].AwardID != a1.ID || c.HeldBy != "user:award-officer" {
		t.Fatalf("held %+v", got)
	}
	if c.Awards[0].InstitutionName != "Pemerintah Kabupaten Banjar" || c.Awards[0].Score != "96.52" || c.Awards[0].BandCode != "A" {
		t.Fatalf("award presented as %+v", c.Awards[0])
	}
	// A retry is the same answer and announces again (the store keeps one).
	again, err := f.app.HoldCeremony.Handle(ctx, hold)
	if err != nil || again.Changed || again.Ceremony.State != model.CeremonyHeld || f.store.announces[id] != 2 {
		t.Fatalf("retry = %+v, %v (announced %d times)", again, err, f.store.announces[id])
	}
	// The awards are a set: in another order, the same hold.
	reordered := hold
	reordered.AwardIDs = []string{a2.ID, a1.ID}
	if _, err := f.app.HoldCeremony.Handle(ctx, reordered); err != nil {
		t.Fatalf("the same hold with its awards in another order: %v", err)
	}
	reused := hold
	reused.AwardIDs = []string{a1.ID}
	if _, err := f.app.HoldCeremony.Handle(ctx, reused); !fault.Is(err, fault.Exists) {
		t.Fatalf("same request id, other awards: %v, want AlreadyExists", err)
	}
	second := hold
	second.RequestID = "h2"
	if _, err := f.app.HoldCeremony.Handle(ctx, second); !fault.Is(err, fault.Precondition) {
		t.Fatalf("another hold of a HELD ceremony: %v, want FailedPrecondition", err)
	}

	// An award presented here is not presented at another ceremony; a
	// revoked one at none.
	other, err := f.app.CreateCeremony.Handle(ctx, rakor("c2"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.app.HoldCeremony.Handle(ctx, HoldCeremony{CeremonyID: other.Ceremony.ID, AwardIDs: []string{a2.ID}, RequestID: "h3"}); !fault.Is(err, fault.Precondition) || !strings.Contains(err.Error(), id) {
		t.Fatalf("an award presented twice: %v", err)
	}
	a3 := grantManual(t, f, "g3", "Penghargaan Tiga")
	if _, err := f.app.RevokeAward.Handle(ctx, RevokeAward{AwardID: a3.ID, Reason: "ralat", By: "user:award-officer"}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.app.HoldCeremony.Handle(ctx, HoldCeremony{CeremonyID: other.Ceremony.ID, AwardIDs: []string{a3.ID}, RequestID: "h4"}); !fault.Is(err, fault.Precondition) || !strings.Contains(err.Error(), a3.ID) {
		t.Fatalf("a revoked award: %v", err)
	}

	list, err := f.app.CeremonyQueries.Ceremonies(ctx, ceremony.Filter{Year: 2025, ProvinceCode: "63", State: model.CeremonyHeld})
	if err != nil || len(list) != 1 || list[0].ID != id {
		t.Fatalf("listed %+v, %v", list, err)
	}
	if _, err := f.app.CeremonyQueries.Ceremony(ctx, "cer-aaaaaaaaaaaaaaaa"); !fault.Is(err, fault.NotFound) {
		t.Fatalf("get unknown: %v", err)
	}
}

func TestCertificateAndVerify(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	created, err := f.app.CreateCeremony.Handle(ctx, rakor("c1"))
	if err != nil {
		t.Fatal(err)
	}
	a := grantManual(t, f, "g1", "Predikat Kepatuhan Tinggi")
	// Before the hold: the award's own ceremony.
	cert, err := f.app.Certificates.Certificate(ctx, a.ID)
	if err != nil || cert.Ceremony != nil || !bytes.HasPrefix(cert.PDF, []byte("%PDF")) || cert.Code != certificate.Code(a.ID) {
		t.Fatalf("certificate before the hold: %v, %v", cert.Ceremony, err)
	}
	if _, err := f.app.HoldCeremony.Handle(ctx, HoldCeremony{CeremonyID: created.Ceremony.ID, AwardIDs: []string{a.ID}, RequestID: "h1"}); err != nil {
		t.Fatal(err)
	}
	cert, err = f.app.Certificates.Certificate(ctx, a.ID)
	if err != nil || cert.Ceremony == nil || cert.Ceremony.ID != created.Ceremony.ID {
		t.Fatalf("certificate after the hold: %+v, %v", cert.Ceremony, err)
	}
	// Typed by hand: lower case, spaces, O for 0.
	typed := strings.ToLower(strings.ReplaceAll(cert.Code, "-", " "))
	v, err := f.app.Certificates.Verify(ctx, typed)
	if err != nil || v.Award.ID != a.ID || !v.Valid || v.Ceremony == nil || v.Code != cert.Code {
		t.Fatalf("verify %q = %+v, %v", typed, v, err)
	}
	if _, err := f.app.Certificates.Verify(ctx, "PKT-0000-0000-000U"); !fault.Is(err, fault.Invalid) || !strings.Contains(err.Error(), "Crockford") {
		t.Fatalf("malformed code: %v, want InvalidArgument naming the rule", err)
	}
	if _, err := f.app.Certificates.Verify(ctx, "PKT-0000-0000-0000"); !fault.Is(err, fault.NotFound) {
		t.Fatalf("unknown code: %v, want NotFound", err)
	}
	if _, err := f.app.RevokeAward.Handle(ctx, RevokeAward{AwardID: a.ID, Reason: "ralat nilai", By: "user:award-officer"}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.app.Certificates.Certificate(ctx, a.ID); !fault.Is(err, fault.Precondition) || !strings.Contains(err.Error(), "void") {
		t.Fatalf("certificate of a revoked award: %v", err)
	}
	v, err = f.app.Certificates.Verify(ctx, cert.Code)
	if err != nil || v.Valid || v.Award.RevokeReason != "ralat nilai" {
		t.Fatalf("verify a revoked award: %+v, %v", v, err)
	}
}
