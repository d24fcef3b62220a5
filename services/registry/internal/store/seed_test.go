package store

import (
	"context"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"google.golang.org/protobuf/proto"

	registryv1 "github.com/predikat-id/predikat/pkg/gen/predikat/registry/v1"
	"github.com/predikat-id/predikat/pkg/platform/testenv/natstest"
	"github.com/predikat-id/predikat/services/registry/internal/index"
	"github.com/predikat-id/predikat/services/registry/internal/pbconv"
	"github.com/predikat-id/predikat/services/registry/internal/region"
)

// A regions bucket written by an earlier release (Kalimantan Selatan
// only, one name edited by an operator, one region added by hand) gets
// every missing region of the catalog on the next start, and keeps what
// it held.
func TestSeedAddsMissingRegionsAndKeepsStoredOnes(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ns := natstest.Start(t)
	js := ns.JetStream(t)
	kv, err := js.CreateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: BucketRegions, History: 8, Storage: jetstream.FileStorage})
	if err != nil {
		t.Fatal(err)
	}
	old := map[string]string{"00": "Indonesia", "63": "Kalimantan Selatan", "63.06": "Hulu Sungai Selatan (disunting)", "64.04": "Ditambahkan operator"}
	for code, name := range old {
		r, err := region.New(code, name, code != "64.04")
		if err != nil {
			t.Fatal(err)
		}
		b, err := proto.Marshal(pbconv.Region(r))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := kv.Create(ctx, code, b); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := Open(ctx, js, Config{}, index.New(16), natstest.Logger(t)); err != nil {
		t.Fatal(err)
	}
	keys, err := kv.Keys(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 553+1 { // the catalog, national level included, and the hand-added one
		t.Fatalf("%d regions stored, want 554", len(keys))
	}
	for code, name := range old {
		e, err := kv.Get(ctx, code)
		if err != nil {
			t.Fatal(err)
		}
		var r registryv1.Region
		if err := proto.Unmarshal(e.Value(), &r); err != nil || r.GetName() != name || e.Revision() > 4 {
			t.Errorf("%s: %q (revision %d), want %q untouched", code, r.GetName(), e.Revision(), name)
		}
	}
}
