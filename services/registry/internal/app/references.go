package app

import (
	"context"

	"github.com/predikat-id/predikat/pkg/platform/fault"
	"github.com/predikat-id/predikat/services/registry/internal/institution"
	"github.com/predikat-id/predikat/services/registry/internal/region"
)

// maxAncestors bounds the walk up the parent chain when looking for a cycle.
const maxAncestors = 32

// references validates what a record points at, for create and update.
type references struct {
	regions      RegionStore
	institutions InstitutionStore
}

// check verifies that the region exists and fits the kind, the fields that
// depend on the kind are right (a service unit's parent), the head's term is
// sane, and the parent exists, is active and is not the institution itself
// nor below it.
func (r references) check(ctx context.Context, in *institution.Institution) error {
	if err := r.checkRegion(ctx, in); err != nil {
		return err
	}
	if err := institution.CheckKindFields(in); err != nil {
		return err
	}
	if err := institution.CheckHead(in.Head); err != nil {
		return err
	}
	if in.ParentID == "" {
		return nil
	}
	return r.checkParent(ctx, in)
}

func (r references) checkRegion(ctx context.Context, in *institution.Institution) error {
	if in.RegionCode == "" {
		return fault.Invalidf("region_code is required for a %s", institution.KindLabel(in.Kind))
	}
	if _, err := region.Parse(in.RegionCode); err != nil {
		return err
	}
	reg, err := r.regions.Region(ctx, in.RegionCode)
	if err != nil {
		return err
	}
	return institution.CheckPlacement(in.Kind, reg)
}

func (r references) checkParent(ctx context.Context, in *institution.Institution) error {
	p := in.ParentID
	if p == in.ID {
		return fault.Invalidf("an institution cannot be its own parent")
	}
	parent, err := r.institutions.Institution(ctx, p)
	if fault.Is(err, fault.NotFound) {
		return fault.Preconditionf("parent institution %q does not exist", p)
	}
	if err != nil {
		return err
	}
	if parent.Status == institution.StatusRetired {
		return fault.Preconditionf("parent institution %q is retired", p)
	}
	// An ancestor that cannot be read ends the walk: the chain above it was
	// checked when it was written.
	for anc, hops := parent, 0; anc.ParentID != "" && hops < maxAncestors; hops++ {
		if anc.ParentID == in.ID {
			return fault.Invalidf("parent %q would make a cycle through %q", p, in.ID)
		}
		if anc, err = r.institutions.Institution(ctx, anc.ParentID); err != nil {
			break
		}
	}
	return nil
}
