package wiring_test

import (
	"sync"
	"testing"

	registryv1 "github.com/predikat-id/predikat/pkg/gen/predikat/registry/v1"
	"github.com/predikat-id/predikat/pkg/platform/testenv/natstest"
	"google.golang.org/grpc/codes"
)

func TestCreateWithRequestIDIsIdempotent(t *testing.T) {
	ns := natstest.Start(t)
	r := startReplica(t, ns)
	req := &registryv1.CreateInstitutionRequest{RequestId: "import-2025:hss.1", Institution: hssGov()}
	first, err := r.client.CreateInstitution(ctxT(t), req)
	if err != nil {
		t.Fatal(err)
	}
	// A retry (the caller never saw the answer) gets the same institution,
	// also from another replica and after a restart of NATS.
	ns.Restart(t)
	r2 := startReplica(t, ns)
	for _, c := range []registryv1.RegistryServiceClient{r.client, r2.client} {
		again, err := c.CreateInstitution(ctxT(t), req)
		if err != nil {
			t.Fatalf("retry: %v", err)
		}
		if a, f := again.GetInstitution(), first.GetInstitution(); a.GetId() != f.GetId() || a.GetRevision() != f.GetRevision() {
			t.Errorf("retry answered %s@%d, want %s@%d", a.GetId(), a.GetRevision(), f.GetId(), f.GetRevision())
		}
	}
	other := hssGov()
	other.Name = "Dinas Kominfo Hulu Sungai Selatan"
	_, err = r.client.CreateInstitution(ctxT(t), &registryv1.CreateInstitutionRequest{RequestId: req.GetRequestId(), Institution: other})
	wantCode(t, err, codes.AlreadyExists, req.GetRequestId())
	list, _ := r.client.ListInstitutions(ctxT(t), &registryv1.ListInstitutionsRequest{})
	if n := len(list.GetInstitutions()); n != 1 {
		t.Errorf("%d institutions, want 1", n)
	}
}

func TestConcurrentRetriesOfOneRequestAllGetTheInstitution(t *testing.T) {
	ns := natstest.Start(t)
	replicas := []*replica{startReplica(t, ns), startReplica(t, ns)}
	req := &registryv1.CreateInstitutionRequest{RequestId: "req-concurrent", Institution: hssGov()}
	var wg sync.WaitGroup
	ids := make([]string, 8)
	errs := make([]error, len(ids))
	for i := range ids {
		wg.Go(func() {
			resp, err := replicas[i%2].client.CreateInstitution(ctxT(t), req)
			ids[i], errs[i] = resp.GetInstitution().GetId(), err
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("attempt %d: %v", i, err)
		} else if ids[i] != ids[0] {
			t.Errorf("attempt %d created %q, attempt 0 %q", i, ids[i], ids[0])
		}
	}
}

func TestMalformedRequestIDIsInvalid(t *testing.T) {
	r := startReplica(t, natstest.Start(t))
	_, err := r.client.CreateInstitution(ctxT(t), &registryv1.CreateInstitutionRequest{RequestId: "has space", Institution: hssGov()})
	wantCode(t, err, codes.InvalidArgument, "request_id")
}
