package round

import (
	"testing"
	"time"

	"github.com/predikat-id/predikat/pkg/platform/fault"
	"github.com/predikat-id/predikat/services/assessment/internal/model"
)

func TestLifecycle(t *testing.T) {
	now := time.Date(2024, 12, 11, 10, 0, 0, 0, time.UTC)
	open := model.Round{ID: ID("ombudsman", 2024), State: model.RoundOpen}
	if open.ID != "ombudsman-2024" {
		t.Fatalf("ID = %s", open.ID)
	}
	if err := CheckRecordable(open); err != nil {
		t.Fatal(err)
	}
	if _, _, err := Publish(open, now, "user:pub"); !fault.Is(err, fault.Precondition) {
		t.Fatalf("publishing an OPEN round: %v", err)
	}
	closed, changed, err := Close(open, now, "user:closer")
	if err != nil || !changed || closed.State != model.RoundClosed || open.State != model.RoundOpen {
		t.Fatalf("Close = %v %v %v (input must not change)", closed, changed, err)
	}
	if closed.ClosedBy != "user:closer" || !closed.CloseTime.Equal(now) {
		t.Fatalf("closed by %q at %v", closed.ClosedBy, closed.CloseTime)
	}
	if err := CheckRecordable(closed); !fault.Is(err, fault.Precondition) {
		t.Fatalf("recording into CLOSED: %v", err)
	}
	if again, changed, _ := Close(closed, now.Add(time.Hour), "user:other"); changed || again != closed {
		t.Fatal("closing a closed round changes nothing, its closer included")
	}
	later := now.Add(time.Hour)
	reopened, changed, err := Reopen(closed, later, "user:reopener", "late figures")
	if err != nil || !changed || reopened.State != model.RoundOpen {
		t.Fatalf("Reopen = %v %v %v", reopened, changed, err)
	}
	if reopened.ReopenedBy != "user:reopener" || reopened.ReopenReason != "late figures" || !reopened.ReopenTime.Equal(later) || reopened.ClosedBy != "user:closer" {
		t.Fatalf("reopened by %q (%q) at %v; closed by %q", reopened.ReopenedBy, reopened.ReopenReason, reopened.ReopenTime, reopened.ClosedBy)
	}
	pub, changed, err := Publish(closed, now, "user:pub")
	if err != nil || !changed || pub.State != model.RoundPublished || !pub.PublishTime.Equal(now) || pub.PublishedBy != "user:pub" {
		t.Fatalf("Publish = %v %v %v", pub, changed, err)
	}
	if again, changed, err := Publish(pub, now, "user:other"); err != nil || changed || again.PublishedBy != "user:pub" {
		t.Fatalf("re-publishing finishes, never fails, and keeps the publisher: %v %v %q", changed, err, again.PublishedBy)
	}
	for name, err := range map[string]error{"record": CheckRecordable(pub), "close": second(Close(pub, now, "x")), "reopen": second(Reopen(pub, now, "x", "y"))} {
		if !fault.Is(err, fault.Precondition) {
			t.Errorf("%s on PUBLISHED: %v", name, err)
		}
	}
	if err := CheckCorrectable(pub); err != nil {
		t.Fatal(err)
	}
	if err := CheckCorrectable(open); !fault.Is(err, fault.Precondition) {
		t.Fatalf("correcting an OPEN round: %v", err)
	}
}

func second(_ model.Round, _ bool, err error) error { return err }
