package wiring_test

import (
	"testing"

	registryv1 "github.com/predikat-id/predikat/pkg/gen/predikat/registry/v1"
	"github.com/predikat-id/predikat/pkg/platform/testenv/natstest"
	"google.golang.org/grpc/codes"
)

// Names are compared by skeleton across the whole service: look-alike
// letters, compatibility forms, case and spacing make no new name; hidden
// characters are refused with the field they are in.
func TestLookAlikeNames(t *testing.T) {
	r := startReplica(t, natstest.Start(t))
	ctx := ctxT(t)
	orig := &registryv1.Institution{Name: "Kantor Pertanahan Kabupaten Tanah Laut",
		Kind: registryv1.InstitutionKind_INSTITUTION_KIND_LAND_OFFICE, RegionCode: "63.01"}
	create(t, r.client, "kantah-tala", orig)
	for _, name := range []string{
		"Kantor Pertanahan Kabupaten T\u0430nah Laut",                     // Cyrillic a
		"Kantor Pertanahan Kabupaten \u0422anah Laut",                     // Cyrillic capital Te
		"\u039Aantor Pertanahan Kabupaten \u03A4anah Laut",                // Greek capital Kappa, Tau
		"Kantor Pertanahan Kabupaten \uff34\uff41\uff4e\uff41\uff48 Laut", // full-width
		"kantor  PERTANAHAN kabupaten tanah-laut",
	} {
		in := &registryv1.Institution{Name: name, Kind: orig.GetKind(), RegionCode: orig.GetRegionCode()}
		_, err := r.client.CreateInstitution(ctx, &registryv1.CreateInstitutionRequest{InstitutionId: "look-alike", Institution: in})
		wantCode(t, err, codes.AlreadyExists, "kantah-tala")
	}
	create(t, r.client, "kantah-tabu", &registryv1.Institution{Name: "Kantor Pertanahan Kabupaten Tanah Bumbu",
		Kind: orig.GetKind(), RegionCode: "63.10"})
	create(t, r.client, "kantah-tala-baru", &registryv1.Institution{Name: "Kantor Pertanahan Kabupaten Tanah Laut Baru",
		Kind: orig.GetKind(), RegionCode: "63.01"})

	hidden := &registryv1.Institution{Name: "Kantor Pertanahan Kabupaten Ta\u200bnah Laut", Kind: orig.GetKind(), RegionCode: "63.01"}
	_, err := r.client.CreateInstitution(ctx, &registryv1.CreateInstitutionRequest{InstitutionId: "hidden", Institution: hidden})
	wantCode(t, err, codes.InvalidArgument, "institution.name")
	hidden = &registryv1.Institution{Name: "Polres Tanah Laut", Kind: registryv1.InstitutionKind_INSTITUTION_KIND_POLICE_RESORT,
		RegionCode: "63.01", Head: &registryv1.Head{Name: "Andi", Title: "Kapolres\u202e"}}
	_, err = r.client.CreateInstitution(ctx, &registryv1.CreateInstitutionRequest{InstitutionId: "hidden", Institution: hidden})
	wantCode(t, err, codes.InvalidArgument, "institution.head.title")
	_, err = r.client.RetireInstitution(ctx, &registryv1.RetireInstitutionRequest{Id: "kantah-tala", Reason: "merged\u0000"})
	wantCode(t, err, codes.InvalidArgument, "reason")
}
