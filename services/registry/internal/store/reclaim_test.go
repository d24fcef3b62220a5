package store

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/predikat-id/predikat/pkg/platform/testenv/natstest"
	"github.com/predikat-id/predikat/services/registry/internal/index"
	"github.com/predikat-id/predikat/services/registry/internal/institution"
)

// Replicas starting together over records without claims under the current
// key form each run the reclaim; none fails and every institution ends up
// holding exactly its own claim.
func TestReclaimConcurrentStarts(t *testing.T) {
	ns := natstest.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	seed, err := Open(ctx, ns.JetStream(t), Config{}, index.New(16), natstest.Logger(t))
	if err != nil {
		t.Fatal(err)
	}
	const n = 40
	for i := range n {
		in := &institution.Institution{ID: fmt.Sprintf("polres-%02d", i), Name: fmt.Sprintf("Polres Nomor %d", i),
			Kind: institution.KindPoliceResort, RegionCode: "63.01", Status: institution.StatusActive,
			CreateTime: time.Unix(int64(i), 0)}
		b, err := encode(in)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := seed.inst.Create(ctx, in.ID, b); err != nil {
			t.Fatal(err)
		}
	}

	var wg sync.WaitGroup
	errs := make(chan error, 3)
	for range 3 {
		js := ns.JetStream(t)
		wg.Go(func() {
			s, err := Open(ctx, js, Config{}, index.New(16), natstest.Logger(t))
			if err == nil {
				err = s.Start(ctx)
			}
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("start: %v", err)
		}
	}
	keys, err := seed.ident.ListKeys(ctx)
	if err != nil {
		t.Fatal(err)
	}
	count := 0
	for range keys.Keys() {
		count++
	}
	if count != n {
		t.Fatalf("%d claims, want %d", count, n)
	}
	for i := range n {
		name := fmt.Sprintf("Polres Nomor %d", i)
		e, err := seed.ident.Get(ctx, institution.IdentityKey(institution.KindPoliceResort, "63.01", name))
		if err != nil || string(e.Value()) != fmt.Sprintf("polres-%02d", i) {
			t.Fatalf("claim of %q: %v, %v", name, e, err)
		}
	}
}
