package wiring_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	registryv1 "github.com/predikat-id/predikat/pkg/gen/predikat/registry/v1"
	"github.com/predikat-id/predikat/pkg/platform/fold"
	"github.com/predikat-id/predikat/pkg/platform/testenv/natstest"
	"github.com/predikat-id/predikat/pkg/platform/testenv/pkitest"
	"github.com/predikat-id/predikat/services/registry/internal/institution"
	"github.com/predikat-id/predikat/services/registry/internal/store"
	"github.com/predikat-id/predikat/services/registry/wiring"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/fieldmaskpb"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// legacyIdentityKey is the claim key the previous version wrote: a hash of
// kind, region and the folded name, without the skeleton. Only this test
// still computes it, to write data the way that version did.
func legacyIdentityKey(in *registryv1.Institution) string {
	sum := sha256.Sum256([]byte(in.GetKind().String() + "|" + in.GetRegionCode() + "|" + fold.Name(in.GetName())))
	return hex.EncodeToString(sum[:16])
}

// writeLegacy stores institutions and their claims straight into the
// buckets, as the previous version left them.
func writeLegacy(t *testing.T, ns *natstest.Server, ins ...*registryv1.Institution) {
	t.Helper()
	ctx := ctxT(t)
	js := ns.JetStream(t)
	kv := func(bucket string, history uint8) jetstream.KeyValue {
		b, err := js.CreateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: bucket, History: history, Storage: jetstream.FileStorage})
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	insts, idents := kv(store.BucketInstitutions, 64), kv(store.BucketIdentities, 1)
	for _, in := range ins {
		b, err := proto.Marshal(in)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := insts.Create(ctx, in.GetId(), b); err != nil {
			t.Fatal(err)
		}
		if in.GetStatus() != registryv1.InstitutionStatus_INSTITUTION_STATUS_ACTIVE {
			continue
		}
		if _, err := idents.Create(ctx, legacyIdentityKey(in), []byte(in.GetId())); err != nil {
			t.Fatal(err)
		}
	}
}

// startAtOnce starts n replicas together, as a rollout does, and returns a
// client to each once all serve.
func startAtOnce(t *testing.T, ns *natstest.Server, n int) []registryv1.RegistryServiceClient {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	addrs, done := make(chan string, n), make(chan error, n)
	for range n {
		cfg := wiring.Config{Addr: "127.0.0.1:0", NATS: ns.Conn(t), Logger: natstest.Logger(t),
			Security: pkitest.Security(t, "registry"), OnServing: func(a string) { addrs <- a }}
		go func() { done <- wiring.Run(ctx, cfg) }()
	}
	running := n
	t.Cleanup(func() {
		cancel()
		for range running {
			if err := <-done; err != nil {
				t.Errorf("registry stopped with error: %v", err)
			}
		}
	})
	var clients []registryv1.RegistryServiceClient
	for range n {
		select {
		case a := <-addrs:
			cc := pkitest.Dial(t, a, "admin")
			clients = append(clients, registryv1.NewRegistryServiceClient(cc))
		case err := <-done:
			running--
			t.Fatalf("registry did not start: %v", err)
		case <-time.After(20 * time.Second):
			t.Fatal("registries did not become ready in 20s")
		}
	}
	return clients
}

func legacyInstitution(id, name string, kind registryv1.InstitutionKind, regionCode string, created time.Time) *registryv1.Institution {
	return &registryv1.Institution{Id: id, Name: name, Kind: kind, RegionCode: regionCode, ProvinceCode: regionCode[:2],
		Status:     registryv1.InstitutionStatus_INSTITUTION_STATUS_ACTIVE,
		CreateTime: timestamppb.New(created), UpdateTime: timestamppb.New(created)}
}

// Data written before names were compared by skeleton: on start the registry
// claims every active institution's new key, so look-alikes of old names are
// refused at once, and the old institutions stay fully usable.
func TestStartReclaimsLegacyClaims(t *testing.T) {
	ns := natstest.Start(t)
	const land, police = registryv1.InstitutionKind_INSTITUTION_KIND_LAND_OFFICE, registryv1.InstitutionKind_INSTITUTION_KIND_POLICE_RESORT
	t0 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	kantah := legacyInstitution("kantah-tala", "Kantor Pertanahan Kabupaten Tanah Laut", land, "63.01", t0)
	// Two look-alikes the old comparison let in: the older keeps the claim.
	polres := legacyInstitution("polres-tala", "Polres Tanah Laut", police, "63.01", t0)
	twin := legacyInstitution("polres-tala-2", "Polres T\u0430nah Laut", police, "63.01", t0.Add(time.Hour))
	retired := legacyInstitution("kantah-tabu", "Kantor Pertanahan Kabupaten Tanah Bumbu", land, "63.10", t0)
	retired.Status, retired.RetireReason = registryv1.InstitutionStatus_INSTITUTION_STATUS_RETIRED, "test"
	writeLegacy(t, ns, kantah, polres, twin, retired)

	replicas := startAtOnce(t, ns, 2)
	ctx := ctxT(t)
	claims, err := ns.JetStream(t).KeyValue(ctx, store.BucketIdentities)
	if err != nil {
		t.Fatal(err)
	}
	claimOf := func(kind institution.Kind, regionCode, name string) jetstream.KeyValueEntry {
		t.Helper()
		e, err := claims.Get(ctx, institution.IdentityKey(kind, regionCode, name))
		if err != nil {
			t.Fatalf("claim of %q: %v", name, err)
		}
		return e
	}
	kantahClaim := claimOf(institution.KindLandOffice, "63.01", kantah.GetName())
	if string(kantahClaim.Value()) != "kantah-tala" {
		t.Fatalf("new claim of kantah-tala held by %q", kantahClaim.Value())
	}
	if owner := claimOf(institution.KindPoliceResort, "63.01", twin.GetName()).Value(); string(owner) != "polres-tala" {
		t.Fatalf("the older look-alike should hold the claim, held by %q", owner)
	}
	if _, err := claims.Get(ctx, legacyIdentityKey(kantah)); err != nil {
		t.Fatalf("the legacy claim should stay for replicas of the previous version: %v", err)
	}

	// Idempotent: a third replica starting later writes nothing.
	startReplica(t, ns)
	if e := claimOf(institution.KindLandOffice, "63.01", kantah.GetName()); e.Revision() != kantahClaim.Revision() {
		t.Fatalf("a restart rewrote the claim: revision %d, was %d", e.Revision(), kantahClaim.Revision())
	}

	for _, c := range replicas {
		_, err := c.CreateInstitution(ctx, &registryv1.CreateInstitutionRequest{InstitutionId: "fake", Institution: &registryv1.Institution{
			Name: "Kantor Pertanahan Kabupaten T\u0430nah Laut", Kind: land, RegionCode: "63.01"}})
		wantCode(t, err, codes.AlreadyExists, "kantah-tala")
		_, err = c.CreateInstitution(ctx, &registryv1.CreateInstitutionRequest{InstitutionId: "fake", Institution: &registryv1.Institution{
			Name: "POLRES \uff34\uff41\uff4e\uff41\uff48 LAUT", Kind: police, RegionCode: "63.01"}})
		wantCode(t, err, codes.AlreadyExists, "polres-tala")
	}
	// The retired name was never reclaimed: it is free.
	create(t, replicas[0], "kantah-tabu-2", &registryv1.Institution{Name: "Kantor Pertanahan Kabupaten Tanah Bumbu", Kind: land, RegionCode: "63.10"})

	// Old records still update, including the look-alike without a claim.
	headOf := func(c registryv1.RegistryServiceClient, id, name string) *registryv1.Institution {
		t.Helper()
		got, err := c.GetInstitution(ctx, &registryv1.GetInstitutionRequest{Id: id})
		if err != nil {
			t.Fatal(err)
		}
		resp, err := c.UpdateInstitution(ctx, &registryv1.UpdateInstitutionRequest{
			Institution: &registryv1.Institution{Id: id, Head: &registryv1.Head{Name: name, Title: "Kepala", TermStart: "2026-01-01"}},
			UpdateMask:  &fieldmaskpb.FieldMask{Paths: []string{"head"}}, ExpectedRevision: got.GetInstitution().GetRevision(),
		})
		if err != nil {
			t.Fatalf("update %s: %v", id, err)
		}
		return resp.GetInstitution()
	}
	headOf(replicas[1], "polres-tala-2", "Andi")
	upd := headOf(replicas[1], "kantah-tala", "Budi")

	// A rename moves the new claim; the legacy one blocks nothing.
	_, err = replicas[0].UpdateInstitution(ctx, &registryv1.UpdateInstitutionRequest{
		Institution: &registryv1.Institution{Id: "kantah-tala", Name: "Kantor Pertanahan Kab. Tanah Laut"},
		UpdateMask:  &fieldmaskpb.FieldMask{Paths: []string{"name"}}, ExpectedRevision: upd.GetRevision(),
	})
	if err != nil {
		t.Fatalf("rename: %v", err)
	}
	create(t, replicas[1], "kantah-tala-2", &registryv1.Institution{Name: "Kantor Pertanahan Kabupaten Tanah Laut", Kind: land, RegionCode: "63.01"})
}
