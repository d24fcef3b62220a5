package app

import (
	"context"
	"testing"

	"google.golang.org/protobuf/proto"

	assessmentv1 "github.com/predikat-id/predikat/pkg/gen/predikat/assessment/v1"
	"github.com/predikat-id/predikat/services/assessment/internal/scheme"
)

// A built-in version sent unchanged is already there: the answer is the
// built-in version, not created, and nothing reaches the log; a new version
// is registered once.
func TestRegisterSchemeVersion(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	builtin, err := f.app.Queries.catalog.Get("pekppp", "2023")
	if err != nil {
		t.Fatal(err)
	}
	again := proto.Clone(builtin.Proto()).(*assessmentv1.Scheme)
	again.RegisteredBy = "user:registrar"
	v, err := scheme.NewVersion(again, "scheme")
	if err != nil {
		t.Fatal(err)
	}
	res, err := f.app.RegisterScheme.Handle(ctx, RegisterScheme{Version: v})
	if err != nil || res.Created || res.Version.Proto().GetRegisteredBy() != "" {
		t.Fatalf("an unchanged built-in: %+v, %v; want it not created, the built-in answered", res, err)
	}
	if len(f.store.schemes) != 0 {
		t.Fatalf("an unchanged built-in reached the log: %v", f.store.schemes)
	}
	next := proto.Clone(builtin.Proto()).(*assessmentv1.Scheme)
	next.Version, next.FirstYear, next.LastYear, next.RegisteredBy = "2026-uji", 2026, 2026, "user:registrar"
	nv, err := scheme.NewVersion(next, "scheme")
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []bool{true, false} {
		res, err := f.app.RegisterScheme.Handle(ctx, RegisterScheme{Version: nv})
		if err != nil || res.Created != want {
			t.Fatalf("registration %d of a new version: created %v, %v; want %v", i+1, res.Created, err, want)
		}
	}
}
