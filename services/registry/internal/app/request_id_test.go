package app

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/predikat-id/predikat/pkg/platform/fault"
	"github.com/predikat-id/predikat/services/registry/internal/institution"
)

func TestCreateWithRequestIDIsIdempotent(t *testing.T) {
	a := newTestApp()
	cmd := hss()
	cmd.ID, cmd.RequestID = "", "import-2025:hss"
	first := mustCreate(t, a, cmd)
	a.clock.t = a.clock.t.Add(time.Minute) // a retry comes later
	again := mustCreate(t, a, cmd)
	if again.ID != first.ID || again.Revision != first.Revision || !again.CreateTime.Equal(first.CreateTime) {
		t.Errorf("retry created %s@%d (%v), want the first call's %s@%d (%v)",
			again.ID, again.Revision, again.CreateTime, first.ID, first.Revision, first.CreateTime)
	}
	if n := len(a.store.insts); n != 1 {
		t.Errorf("%d institutions stored, want 1", n)
	}
}

func TestCreateRetryAfterLostAnswer(t *testing.T) {
	a := newTestApp()
	cmd := hss()
	cmd.ID, cmd.RequestID = "", "req-1"
	a.store.lostAck = fault.Unavailablef("registry storage unavailable: timeout")
	if _, err := a.CreateInstitution.Handle(context.Background(), cmd); !fault.Is(err, fault.Unavailable) {
		t.Fatalf("first call: want Unavailable, got %v", err)
	}
	if len(a.store.insts) != 1 {
		t.Fatalf("the first write should have landed")
	}
	a.clock.t = a.clock.t.Add(time.Second)
	got := mustCreate(t, a, cmd)
	var stored string
	for id := range a.store.insts {
		stored = id
	}
	if got.ID != stored || len(a.store.insts) != 1 {
		t.Errorf("retry answered %q; stored %d institutions (%q): want the landed one back", got.ID, len(a.store.insts), stored)
	}
}

func TestCreateRetryAfterRecordOnly(t *testing.T) {
	// The first attempt recorded its request and then failed before the
	// institution was written: the retry creates it under the recorded id.
	a := newTestApp()
	cmd := hss()
	cmd.ID, cmd.RequestID = "", "req-2"
	a.store.requests["req-2"] = reserveOnly(t, a, cmd)
	a.clock.t = a.clock.t.Add(time.Second)
	got := mustCreate(t, a, cmd)
	if want := a.store.requests["req-2"].InstitutionID; got.ID != want {
		t.Errorf("retry created %q, want the recorded id %q", got.ID, want)
	}
}

// reserveOnly is the record a first attempt of cmd would have left.
func reserveOnly(t *testing.T, a *testApp, cmd CreateInstitution) institution.CreateRequest {
	t.Helper()
	fp, err := cmd.fingerprint()
	if err != nil {
		t.Fatal(err)
	}
	return institution.CreateRequest{RequestID: cmd.RequestID, Fingerprint: fp, InstitutionID: "irecorded", CreateTime: a.clock.t}
}

func TestRequestIDReusedForAnotherRequest(t *testing.T) {
	a := newTestApp()
	cmd := hss()
	cmd.RequestID = "req-3"
	mustCreate(t, a, cmd)
	other := hss()
	other.ID, other.Name, other.RequestID = "other", "Dinas Lain", "req-3"
	_, err := a.CreateInstitution.Handle(context.Background(), other)
	if !fault.Is(err, fault.Exists) || !strings.Contains(err.Error(), `"req-3"`) {
		t.Errorf("want AlreadyExists naming the request id, got %v", err)
	}
}

func TestRequestIDDoesNotAdoptAForeignInstitution(t *testing.T) {
	// The caller-chosen id was taken before the request: a retry must keep
	// answering AlreadyExists, not return the other institution as its own.
	a := newTestApp()
	mustCreate(t, a, hss())
	cmd := hss()
	cmd.Name, cmd.RequestID = "Another Name", "req-4"
	for i := range 2 {
		a.clock.t = a.clock.t.Add(time.Second)
		if _, err := a.CreateInstitution.Handle(context.Background(), cmd); !fault.Is(err, fault.Exists) {
			t.Errorf("attempt %d: want AlreadyExists for the taken id, got %v", i+1, err)
		}
	}
}
