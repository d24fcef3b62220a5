// Package contracttest tests the public contract (pkg/awardfeed, pkg/events)
// against a real NATS server. It lives in the platform module so the public
// module needs no NATS server, not even for its tests.
package contracttest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/predikat-id/predikat/pkg/awardfeed"
	"github.com/predikat-id/predikat/pkg/events"
	assessmentv1 "github.com/predikat-id/predikat/pkg/gen/predikat/assessment/v1"
	eventsv1 "github.com/predikat-id/predikat/pkg/gen/predikat/events/v1"
	registryv1 "github.com/predikat-id/predikat/pkg/gen/predikat/registry/v1"
	"github.com/predikat-id/predikat/pkg/platform/natsx"
	"github.com/predikat-id/predikat/pkg/platform/testenv/natstest"
	"google.golang.org/protobuf/types/known/timestamppb"
)

func TestOfflineSubscriberGetsWhatItMissed(t *testing.T) {
	ns := natstest.Start(t)
	js := ns.JetStream(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if _, err := natsx.EnsureStream(ctx, js, events.StreamConfig(events.Awards, 1)); err != nil {
		t.Fatal(err)
	}
	publish := func(id, province string) {
		a := &assessmentv1.Award{Id: id, SchemeId: "ombudsman", Year: 2024,
			Institution: &assessmentv1.InstitutionSnapshot{Id: "inst-" + id, ProvinceCode: province, Kind: registryv1.InstitutionKind_INSTITUTION_KIND_LAND_OFFICE}}
		m, err := events.NewMsg(events.AwardSubject(events.Granted, "ombudsman", 2024, province, a.Institution.Kind, a.Institution.Id, id), "/test", "", &eventsv1.AwardGranted{EventId: id, EventTime: timestamppb.Now(), Award: a})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := js.PublishMsg(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	var mu sync.Mutex
	var got []string
	seen := make(chan struct{}, 16)
	handle := func(_ context.Context, ev awardfeed.Event) error {
		mu.Lock()
		got = append(got, ev.Granted.GetAward().GetId())
		mu.Unlock()
		seen <- struct{}{}
		return nil
	}
	wait := func(n int) {
		for range n {
			select {
			case <-seen:
			case <-ctx.Done():
				t.Fatalf("timed out; got %v", got)
			}
		}
	}
	filter := awardfeed.Filter{ProvinceCode: "63", Kind: "kantah"}
	sub, err := awardfeed.Subscribe(ctx, js, "kalsel-watcher", filter, handle)
	if err != nil {
		t.Fatal(err)
	}
	publish("aw-1", "63")
	publish("aw-x", "64") // another province: filtered out
	publish("aw-2", "63")
	wait(2)
	sub.Stop()
	time.Sleep(100 * time.Millisecond)
	// Granted while the subscriber is away.
	publish("aw-3", "63")
	publish("aw-4", "63")
	sub, err = awardfeed.Subscribe(ctx, js, "kalsel-watcher", filter, handle)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Stop()
	wait(2)
	time.Sleep(200 * time.Millisecond) // nothing else may arrive
	mu.Lock()
	defer mu.Unlock()
	if fmt.Sprint(got) != "[aw-1 aw-2 aw-3 aw-4]" {
		t.Fatalf("delivered %v, want each Kalsel award once, in order, including those granted while away", got)
	}
}

func TestFilterSubjects(t *testing.T) {
	if got := (awardfeed.Filter{}).Subjects(); fmt.Sprint(got) != "[predikat.award.granted.*.*.*.*.*.*]" {
		t.Errorf("empty filter = %v", got)
	}
	got := awardfeed.Filter{SchemeID: "ombudsman", Year: 2024, ProvinceCode: "63", IncludeRevoked: true}.Subjects()
	if fmt.Sprint(got) != "[predikat.award.granted.ombudsman.2024.63.*.*.* predikat.award.revoked.ombudsman.2024.63.*.*.*]" {
		t.Errorf("filter = %v", got)
	}
}
