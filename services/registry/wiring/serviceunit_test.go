package wiring_test

import (
	"testing"

	registryv1 "github.com/predikat-id/predikat/pkg/gen/predikat/registry/v1"
	"github.com/predikat-id/predikat/pkg/platform/testenv/natstest"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/types/known/fieldmaskpb"
)

// A service unit over the API: it needs a parent that exists, carries its
// yearly service users (validated, updatable) and keeps them across a
// restart of NATS and the registry.
func TestServiceUnitOverTheAPI(t *testing.T) {
	ns := natstest.Start(t)
	r := startReplica(t, ns)
	ctx := ctxT(t)
	create(t, r.client, "pemkab-hss", hssGov())
	unit := func(parent string, users int64) *registryv1.Institution {
		return &registryv1.Institution{
			Name: "Puskesmas Kandangan", Kind: registryv1.InstitutionKind_INSTITUTION_KIND_SERVICE_UNIT,
			RegionCode: "63.06", ParentId: parent, YearlyServiceUsers: users,
		}
	}
	for _, c := range []struct {
		name     string
		in       *registryv1.Institution
		code     codes.Code
		contains string
	}{
		{"no parent", unit("", 100), codes.InvalidArgument, "parent_id is required for a service unit"},
		{"unknown parent", unit("dinkes-hss", 100), codes.FailedPrecondition, "dinkes-hss"},
		{"negative users", unit("pemkab-hss", -1), codes.InvalidArgument, "yearly_service_users"},
		{"too many users", unit("pemkab-hss", 1_000_000_001), codes.InvalidArgument, "yearly_service_users"},
		{"users on a regency", &registryv1.Institution{Name: "Kabupaten HST", Kind: registryv1.InstitutionKind_INSTITUTION_KIND_REGENCY_GOVERNMENT,
			RegionCode: "63.07", YearlyServiceUsers: 10}, codes.InvalidArgument, "yearly_service_users"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := r.client.CreateInstitution(ctx, &registryv1.CreateInstitutionRequest{Institution: c.in})
			wantCode(t, err, c.code, c.contains)
		})
	}

	got := create(t, r.client, "puskesmas-kandangan", unit("pemkab-hss", 18000))
	if got.GetYearlyServiceUsers() != 18000 || got.GetParentId() != "pemkab-hss" {
		t.Fatalf("created %v", got)
	}
	upd, err := r.client.UpdateInstitution(ctx, &registryv1.UpdateInstitutionRequest{
		Institution: &registryv1.Institution{Id: got.GetId(), YearlyServiceUsers: 21000},
		UpdateMask:  &fieldmaskpb.FieldMask{Paths: []string{"yearly_service_users"}}, ExpectedRevision: got.GetRevision(),
	})
	if err != nil || upd.GetInstitution().GetYearlyServiceUsers() != 21000 {
		t.Fatalf("update: %v %v", upd, err)
	}
	list, err := r.client.ListInstitutions(ctx, &registryv1.ListInstitutionsRequest{
		Kinds: []registryv1.InstitutionKind{registryv1.InstitutionKind_INSTITUTION_KIND_SERVICE_UNIT},
	})
	if err != nil || len(list.GetInstitutions()) != 1 || list.GetInstitutions()[0].GetId() != "puskesmas-kandangan" {
		t.Fatalf("list of service units: %v %v", list, err)
	}

	r.stop()
	ns.Restart(t)
	r2 := startReplica(t, ns)
	after, err := r2.client.GetInstitution(ctxT(t), &registryv1.GetInstitutionRequest{Id: "puskesmas-kandangan"})
	if err != nil || after.GetInstitution().GetYearlyServiceUsers() != 21000 || after.GetInstitution().GetParentId() != "pemkab-hss" {
		t.Fatalf("after restart: %v %v", after, err)
	}
}
