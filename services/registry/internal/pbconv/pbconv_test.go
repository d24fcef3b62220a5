package pbconv

import (
	"testing"
	"time"

	registryv1 "github.com/predikat-id/predikat/pkg/gen/predikat/registry/v1"
	"github.com/predikat-id/predikat/services/registry/internal/institution"
	"github.com/predikat-id/predikat/services/registry/internal/region"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// The domain enums are conversions of the API enums: a value added to one
// and not the other, or renumbered, must fail here rather than mistranslate.
func TestEnumsMatchTheAPI(t *testing.T) {
	for v, name := range registryv1.InstitutionKind_name {
		if got := institution.Kind(v).String(); got != name {
			t.Errorf("kind %d: domain name %q, API name %q", v, got, name)
		}
	}
	levels := map[region.Level]registryv1.RegionLevel{
		region.LevelUnspecified: registryv1.RegionLevel_REGION_LEVEL_UNSPECIFIED,
		region.LevelNational:    registryv1.RegionLevel_REGION_LEVEL_NATIONAL,
		region.LevelProvince:    registryv1.RegionLevel_REGION_LEVEL_PROVINCE,
		region.LevelRegency:     registryv1.RegionLevel_REGION_LEVEL_REGENCY,
		region.LevelCity:        registryv1.RegionLevel_REGION_LEVEL_CITY,
	}
	statuses := map[institution.Status]registryv1.InstitutionStatus{
		institution.StatusUnspecified: registryv1.InstitutionStatus_INSTITUTION_STATUS_UNSPECIFIED,
		institution.StatusActive:      registryv1.InstitutionStatus_INSTITUTION_STATUS_ACTIVE,
		institution.StatusRetired:     registryv1.InstitutionStatus_INSTITUTION_STATUS_RETIRED,
	}
	changes := map[institution.ChangeType]registryv1.ChangeType{
		institution.ChangeUnspecified: registryv1.ChangeType_CHANGE_TYPE_UNSPECIFIED,
		institution.ChangeCreated:     registryv1.ChangeType_CHANGE_TYPE_CREATED,
		institution.ChangeUpdated:     registryv1.ChangeType_CHANGE_TYPE_UPDATED,
		institution.ChangeRetired:     registryv1.ChangeType_CHANGE_TYPE_RETIRED,
		institution.ChangeSnapshot:    registryv1.ChangeType_CHANGE_TYPE_SNAPSHOT,
	}
	for d, a := range levels {
		if int32(d) != int32(a) {
			t.Errorf("level %v: domain %d, API %d", a, d, a)
		}
	}
	for d, a := range statuses {
		if int32(d) != int32(a) {
			t.Errorf("status %v: domain %d, API %d", a, d, a)
		}
	}
	for d, a := range changes {
		if ChangeType(d) != a {
			t.Errorf("change type %v: domain %d", a, d)
		}
	}
	if len(levels) != len(registryv1.RegionLevel_name) || len(statuses) != len(registryv1.InstitutionStatus_name) ||
		len(changes) != len(registryv1.ChangeType_name) {
		t.Error("an API enum has a value the domain does not know")
	}
}

func TestInstitutionRoundTrip(t *testing.T) {
	in := &registryv1.Institution{
		Id: "pemkab-hss", Name: "Pemkab HSS", Kind: registryv1.InstitutionKind_INSTITUTION_KIND_REGENCY_GOVERNMENT,
		RegionCode: "63.06", ProvinceCode: "63", ParentId: "p",
		Head:      &registryv1.Head{Name: "A", Title: "Bupati", TermStart: "2025-02-20"},
		PastHeads: []*registryv1.Head{{Name: "B", TermEnd: "2025-02-20"}},
		Status:    registryv1.InstitutionStatus_INSTITUTION_STATUS_RETIRED, Aliases: []string{"x"},
		ExternalIds: map[string]string{"bps": "6306"}, RetireReason: "merged", Revision: 7,
		CreateTime: timestamppb.New(time.Unix(1700000000, 5)), UpdateTime: timestamppb.New(time.Unix(1700000100, 0)),
		CreatedBy: "user:editor", UpdatedBy: "spiffe://predikat/ops",
	}
	if back := Institution(InstitutionFromPB(in)); !proto.Equal(back, in) {
		t.Errorf("round trip changed the record:\n got %v\nwant %v", back, in)
	}
	bare := &registryv1.Institution{Id: "x"}
	if back := Institution(InstitutionFromPB(bare)); !proto.Equal(back, bare) {
		t.Errorf("round trip of a bare record: %v", back)
	}
	r := &registryv1.Region{Code: "63.06", Name: "HSS", Level: registryv1.RegionLevel_REGION_LEVEL_REGENCY, ParentCode: "63", ProvinceCode: "63", Builtin: true,
		CreatedBy: "user:editor"}
	if back := Region(RegionFromPB(r)); !proto.Equal(back, r) {
		t.Errorf("region round trip: %v", back)
	}
}

// The province is derived from the region code, whatever a caller sent or
// an older record stored (records once had none).
func TestInstitutionProvinceIsDerived(t *testing.T) {
	for _, c := range []struct{ region, sent, want string }{
		{"63.06", "", "63"},
		{"63.06", "64", "63"},
		{"63", "", "63"},
		{"00", "63", ""},
		{"", "63", ""},
	} {
		got := Institution(InstitutionFromPB(&registryv1.Institution{Id: "x", RegionCode: c.region, ProvinceCode: c.sent})).GetProvinceCode()
		if got != c.want {
			t.Errorf("region %q (province %q sent): province %q, want %q", c.region, c.sent, got, c.want)
		}
	}
}
