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
	if _, _, err := Publish(open, now); !fault.Is(err, fault.Precondition) {
		t.Fatalf("publishing an OPEN round: %v", err)
	}
	closed, changed, err := Close(open, now)
	if err != nil || !changed || closed.State != model.RoundClosed || open.State != model.RoundOpen {
		t.Fatalf("Close = %v %v %v (input must not change)", closed, changed, err)
	}
	if err := CheckRecordable(closed); !fault.Is(err, fault.Precondition) {
		t.Fatalf("recording into CLOSED: %v", err)
	}
	if again, changed, _ := Close(closed, now); changed || again != closed {
		t.Fatal("closing a closed round changes nothing")
	}
	reopened, changed, err := Reopen(closed)
	if err != nil || !changed || reopened.State != model.RoundOpen {
		t.Fatalf("Reopen = %v %v %v", reopened, changed, err)
	}
	pub, changed, err := Publish(closed, now)
	if err != nil || !changed || pub.State != model.RoundPublished || !pub.PublishTime.Equal(now) {
		t.Fatalf("Publish = %v %v %v", pub, changed, err)
	}
	if _, changed, err := Publish(pub, now); err != nil || changed {
		t.Fatalf("re-publishing finishes, never fails: %v %v", changed, err)
	}
	for name, err := range map[string]error{"record": CheckRecordable(pub), "close": second(Close(pub, now)), "reopen": second(Reopen(pub))} {
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
