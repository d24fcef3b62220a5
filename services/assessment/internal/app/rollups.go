package app

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/predikat-id/predikat/pkg/decimal"
	"github.com/predikat-id/predikat/pkg/platform/fault"
	"github.com/predikat-id/predikat/services/assessment/internal/model"
	"github.com/predikat-id/predikat/services/assessment/internal/rollup"
	"github.com/predikat-id/predikat/services/assessment/internal/scheme"
	"github.com/predikat-id/predikat/services/assessment/internal/scoring"
)

// A roll-up is a parent's figure derived from its units' results by a rule
// of the scheme version (Polri from its police resorts). It is a record of
// the parent like any other, DERIVED, computed from the log: every write of
// a unit's record recomputes it from the units' latest results in the
// round, and stores a new revision when they changed. Its request id is a
// digest of the units' revisions read, so the same inputs store it once,
// whoever computes it, and a retried unit write (or the sweep at start-up)
// finishes one a crash cut short.

// rollups keeps derived records in line with their units.
type rollups struct {
	catalog  *scheme.Catalog
	store    Store
	registry Registry
	correct  *CorrectAssessmentHandler
	// by is who derived figures are recorded by: the service, never the
	// writer of a unit (who would then count as an assessor of the
	// parent); the unit and its writer are in the reason.
	by string
	// report hears roll-ups that failed for a lasting reason after their
	// unit was stored (a parent missing from the registry, a unit without
	// respondents under a weighted mean): the unit's write stands.
	report func(error)
}

// rollupPageSize is how many unit records a roll-up reads at a time.
const rollupPageSize = 500

// afterUnits recomputes the roll-ups the written records count in: once per
// rule, whatever the number of units written. by is who wrote them: the
// derived revision is theirs, as its reason says.
func (ro rollups) afterUnits(ctx context.Context, roundID string, written []*model.Assessment, by string) error {
	// The version comes from the records themselves (a round's never
	// changes), so a record no rule counts costs no read at all.
	var v *scheme.Version
	for _, a := range written {
		if a != nil {
			var err error
			if v, err = ro.catalog.Get(a.SchemeID, a.SchemeVersion); err != nil {
				return err
			}
			break
		}
	}
	if v == nil || len(v.Rollups()) == 0 {
		return nil
	}
	done := map[string]bool{}
	var first error
	for _, a := range written {
		if a == nil {
			continue
		}
		for _, rule := range v.RollupsOver(a.Institution.Kind, a.Institution.ParentID) {
			if done[rule.Code] {
				continue
			}
			done[rule.Code] = true
			trigger := fmt.Sprintf("%s revision %d by %s", a.InstitutionID, a.Revision, by)
			err := ro.update(ctx, roundID, v, rule, trigger)
			if err == nil {
				continue
			}
			err = fmt.Errorf("roll-up %s of %s in %s: %w", rule.Code, rule.ParentID, roundID, err)
			// A passing fault (NATS, the registry, a concurrent write) is
			// the caller's to retry, which finishes it; a lasting one would
			// fail every retry of a write that is stored: it is reported.
			if fault.Is(err, fault.Unavailable) || fault.Is(err, fault.Conflict) {
				if first == nil {
					first = err
				}
			} else if ro.report != nil {
				ro.report(err)
			}
		}
	}
	return first
}

// update stores the parent's derived revision for the units as they are
// now, unless it is stored already.
func (ro rollups) update(ctx context.Context, roundID string, v *scheme.Version, rule scheme.Rollup, trigger string) error {
	// Until what is stored is what the units give now: a figure computed
	// on another replica from other revisions may have landed meanwhile.
	for range maxFenceRetries {
		r, err := ro.store.Round(ctx, roundID)
		if err != nil {
			return err
		}
		stored, again, err := ro.try(ctx, r, v, rule, trigger)
		switch {
		case err != nil:
			return err
		case again:
			continue
		case stored != nil && stored.AfterPublication:
			// A published round's derived figure changed: its awards follow
			// and the correction is announced (once: the event id is the
			// revision's), as for a typed-in correction; on a retry too.
			c := Corrected{Recorded: Recorded{Assessment: stored}}
			if c.AwardsGranted, c.AwardsRevoked, err = ro.correct.rules.reconcile(ctx, r, stored.Reason); err != nil {
				return err
			}
			return ro.correct.announce(ctx, r, c)
		}
		return nil
	}
	return fault.Conflictf("the roll-up %s of round %s is changing concurrently; it is finished by the next write of a unit or at start-up", rule.Code, roundID)
}

// try derives the figure once: the revision stored for the units as they
// are (nil when there is nothing to derive), or again when something moved
// or a new revision was just stored (to be read once more).
func (ro rollups) try(ctx context.Context, r model.Round, v *scheme.Version, rule scheme.Rollup, trigger string) (*model.Assessment, bool, error) {
	// Units written on other replicas count too: a figure computed
	// without them would stand until the next write of a unit.
	if err := ro.store.CatchUp(ctx, r); err != nil {
		return nil, false, err
	}
	units, err := ro.units(ctx, r, rule)
	if err != nil || len(units) == 0 {
		return nil, false, err
	}
	key := RecordKey{SchemeID: r.SchemeID, Year: r.Year, InstitutionID: rule.ParentID}
	latest, skip, err := ro.skip(ctx, r, key)
	if skip || err != nil {
		return nil, false, err
	}
	a, err := ro.compose(ctx, r, v, rule, units, trigger)
	if err != nil {
		return nil, false, err
	}
	// The latest revision is derived from these very units: nothing to do.
	// (Its request id is the units' digest and the revision it corrected,
	// so units that come back to an earlier set store a new revision.)
	digest := a.RequestID
	if latest != nil && (latest.RequestID == digest || strings.HasPrefix(latest.RequestID, digest+"@")) {
		return latest, false, nil
	}
	tip, err := ro.store.Tip(ctx, key, r, "", false)
	if err != nil {
		return nil, false, err
	}
	a.RequestID = digest + "@" + strconv.FormatUint(tip.Revision, 10)
	a.RequestFingerprint = a.RequestID
	_, _, err = ro.store.Append(ctx, Append{Assessment: a, CorrectsRevision: tip.Revision, Tip: tip, Fence: r})
	if errors.Is(err, ErrRoundMoved) || fault.Is(err, fault.Conflict) || fault.Is(err, fault.Precondition) {
		// The round or the parent's record moved, or a close or a
		// publication refused the revision past its fence: read again.
		return nil, true, nil
	}
	if err != nil {
		return nil, false, err
	}
	// Stored now, or by a concurrent writer of the same inputs: read once
	// more, the units may have moved on meanwhile.
	return nil, true, nil
}

// skip says whether the rule leaves the parent's record alone: one typed
// in before the rule existed stays what it is, and in a published round a
// roll-up starts only where one was derived before publication (a rule
// added to a version later never rewrites a published result on its own).
func (ro rollups) skip(ctx context.Context, r model.Round, key RecordKey) (latest *model.Assessment, skip bool, err error) {
	latest, err = ro.store.Assessment(ctx, key, r.ID, 0)
	if fault.Is(err, fault.NotFound) {
		return nil, r.State == model.RoundPublished, nil
	}
	if err != nil {
		return nil, false, err
	}
	return latest, latest.Basis != model.BasisDerived, nil
}

// units reads the latest results of the rule's units in the round: every
// record of the unit kind whose institution's parent is the rule's parent.
// Band-only results have no figure to combine and are left out.
func (ro rollups) units(ctx context.Context, r model.Round, rule scheme.Rollup) ([]*model.Assessment, error) {
	f := RecordFilter{Kinds: []model.Kind{rule.UnitKind}}
	var out []*model.Assessment
	after := ""
	for {
		page, more, err := ro.store.Records(ctx, r.ID, after, rollupPageSize, f)
		if err != nil {
			return nil, err
		}
		for _, a := range page {
			if a.Institution.ParentID == rule.ParentID && a.Total != "" {
				out = append(out, a)
			}
		}
		if !more || len(page) == 0 {
			return out, nil
		}
		after = page[len(page)-1].InstitutionID
	}
}

// compose computes the derived revision: the rule's figure of the units,
// banded as the version bands any total, on the parent's snapshot.
func (ro rollups) compose(ctx context.Context, r model.Round, v *scheme.Version, rule scheme.Rollup, units []*model.Assessment, trigger string) (model.Assessment, error) {
	method := rollupMethods[rule.Method]
	in := make([]rollup.Unit, len(units))
	ru := &model.Rollup{RuleCode: rule.Code, Method: rule.Method}
	synthetic := false
	for i, a := range units {
		total, err := decimal.Parse(a.Total)
		if err != nil {
			return model.Assessment{}, fmt.Errorf("total of %s: %w", a.InstitutionID, err)
		}
		in[i] = rollup.Unit{InstitutionID: a.InstitutionID, Revision: a.Revision, Total: total, Respondents: a.Respondents}
		ru.Units = append(ru.Units, model.RollupUnit{InstitutionID: a.InstitutionID, Revision: a.Revision, Total: a.Total, Respondents: a.Respondents})
		synthetic = synthetic || a.Synthetic
	}
	total, err := rollup.Compute(method, in, v.Precision())
	if err != nil {
		return model.Assessment{}, fault.Preconditionf("roll-up %s: %v", rule.Code, err)
	}
	res, err := scoring.Assess(v, model.Input{ReportedTotal: total.StringFixed(v.Precision())})
	if err != nil {
		return model.Assessment{}, err
	}
	res.Basis = model.BasisDerived
	parent, err := ro.registry.Institution(ctx, rule.ParentID)
	if err != nil {
		return model.Assessment{}, fmt.Errorf("parent %s: %w", rule.ParentID, err)
	}
	snap, err := snapshot(ctx, ro.registry, parent)
	if err != nil {
		return model.Assessment{}, err
	}
	id := rollup.Inputs(rollup.Rule(rule.Code+"/"+string(method)), in)
	return model.Assessment{
		RoundID: r.ID, SchemeID: r.SchemeID, SchemeVersion: r.SchemeVersion, Year: r.Year,
		InstitutionID: rule.ParentID, Institution: snap, Result: res,
		Reason:           fmt.Sprintf("derived by roll-up %s (%s of %d units) after %s", rule.Code, method, len(units), trigger),
		AfterPublication: r.State == model.RoundPublished, RequestID: id, RequestFingerprint: id, RecordedBy: ro.by,
		Synthetic: synthetic, Rollup: ru,
	}, nil
}

var rollupMethods = map[model.RollupMethod]rollup.Rule{
	model.RollupMean:         rollup.Mean,
	model.RollupWeightedMean: rollup.WeightedMean,
	model.RollupMinimum:      rollup.Minimum,
}

// checkNotDerived refuses a typed-in record of a roll-up's parent: its
// figure is derived from its units, never recorded. A record typed in
// before the rule existed stays correctable (latest: its latest revision,
// nil for none).
func checkNotDerived(v *scheme.Version, institutionID string, latest *model.Assessment) error {
	if latest != nil && latest.Basis != model.BasisDerived {
		return nil
	}
	if rule, ok := v.RollupOf(institutionID); ok {
		return fault.Preconditionf("the figure of %s in %s is derived from its units by roll-up %s (%s): it is never recorded directly",
			institutionID, v, rule.Code, rule.Name)
	}
	return nil
}

// FinishRollupsHandler recomputes, when the service starts, every roll-up
// of every round: one a crash cut short between a unit's write and its
// parent's is stored then (the others are found stored and cost a read).
type FinishRollupsHandler struct {
	rollups *rollups
}

// Handle recomputes every roll-up; it returns the first passing failure
// after trying them all (lasting ones are reported).
func (h FinishRollupsHandler) Handle(ctx context.Context) error {
	rs, err := h.rollups.store.ListRounds(ctx, func(model.Round) bool { return true })
	if err != nil {
		return err
	}
	var first error
	for _, r := range rs {
		v, err := h.rollups.catalog.Get(r.SchemeID, r.SchemeVersion)
		if err != nil {
			continue // a version no longer known: nothing to derive with
		}
		for _, rule := range v.Rollups() {
			err := h.rollups.update(ctx, r.ID, v, rule, "the start-up check")
			switch {
			case err == nil:
			case fault.Is(err, fault.Unavailable) || fault.Is(err, fault.Conflict):
				if first == nil {
					first = fmt.Errorf("roll-up %s of %s: %w", rule.Code, r.ID, err)
				}
			case h.rollups.report != nil:
				h.rollups.report(fmt.Errorf("roll-up %s of %s: %w", rule.Code, r.ID, err))
			}
		}
	}
	return first
}

// DeriveAs sets who derived figures are recorded by (the service's own
// principal) and who hears roll-ups that failed for a lasting reason.
func (a *App) DeriveAs(principal string, report func(error)) {
	a.rollups.by, a.rollups.report = principal, report
}
