package scheme

import (
	"strings"

	assessmentv1 "github.com/predikat-id/predikat/pkg/gen/predikat/assessment/v1"
	registryv1 "github.com/predikat-id/predikat/pkg/gen/predikat/registry/v1"
	"github.com/predikat-id/predikat/pkg/platform/fault"
	"github.com/predikat-id/predikat/services/assessment/internal/model"
)

// Admit says whether an institution of kind may be assessed under the
// version, naming the kinds it does assess when not.
func (v *Version) Admit(institutionID string, kind model.Kind) error {
	k := registryv1.InstitutionKind(kind)
	if v.Eligible(k) {
		return nil
	}
	return fault.Preconditionf("%s is a %s; scheme %s %s assesses only %s",
		institutionID, kindName(k), v.p.GetId(), v.p.GetVersion(), kindNames(v.p.GetEligibleKinds()))
}

// BandInfo returns the band with code (any case) as an award basis names it.
func (v *Version) BandInfo(code string) (canonical, label string, zone model.BandZone, ok bool) {
	b, ok := v.Band(code)
	if !ok {
		return "", "", 0, false
	}
	return b.GetCode(), b.GetLabel(), model.BandZone(b.GetZone()), true
}

// PeerGroupName returns the name of the peer group with code.
func (v *Version) PeerGroupName(code string) (string, bool) {
	for _, g := range v.p.GetPeerGroups() {
		if g.GetCode() == code {
			return g.GetName(), true
		}
	}
	return "", false
}

func kindName(k registryv1.InstitutionKind) string {
	return strings.ToLower(strings.ReplaceAll(strings.TrimPrefix(k.String(), "INSTITUTION_KIND_"), "_", " "))
}

func kindNames(ks []registryv1.InstitutionKind) string {
	names := make([]string, len(ks))
	for i, k := range ks {
		names[i] = kindName(k)
	}
	return strings.Join(names, ", ")
}

// Name is the scheme's name, as a round's default title uses it.
func (v *Version) Name() string { return v.p.GetName() }

// ListFor is List with a plain kind (0: any kind).
func (c *Catalog) ListFor(schemeID string, year int32, kind model.Kind) []*Version {
	return c.List(schemeID, year, registryv1.InstitutionKind(kind))
}

// Rollup is a roll-up rule of a version, in the application's terms.
type Rollup struct {
	Code, Name, ParentID string
	UnitKind             model.Kind
	Method               model.RollupMethod
}

func rollupOf(r *assessmentv1.RollupRule) Rollup {
	return Rollup{Code: r.GetCode(), Name: r.GetName(), ParentID: r.GetParentId(),
		UnitKind: model.Kind(r.GetUnitKind()), Method: model.RollupMethod(r.GetMethod())}
}

// Rollups returns the version's roll-up rules. They are shared: do not
// modify them.
func (v *Version) Rollups() []Rollup { return v.rollups }

// RollupOf returns the roll-up whose parent is institutionID; ok false
// when none: that institution's figure is derived, never recorded.
func (v *Version) RollupOf(institutionID string) (Rollup, bool) {
	for _, r := range v.Rollups() {
		if r.ParentID == institutionID {
			return r, true
		}
	}
	return Rollup{}, false
}

// RollupsOver returns the roll-ups a unit of kind with parent parentID
// counts in.
func (v *Version) RollupsOver(kind model.Kind, parentID string) []Rollup {
	var out []Rollup
	for _, r := range v.Rollups() {
		if r.UnitKind == kind && r.ParentID == parentID && parentID != "" {
			out = append(out, r)
		}
	}
	return out
}
