package app

import (
	"context"
	"errors"
	"fmt"

	"github.com/predikat-id/predikat/pkg/events"
	"github.com/predikat-id/predikat/pkg/platform/fault"
	"github.com/predikat-id/predikat/services/assessment/internal/model"
	"github.com/predikat-id/predikat/services/assessment/internal/reportcard"
	"github.com/predikat-id/predikat/services/assessment/internal/round"
	"github.com/predikat-id/predikat/services/assessment/internal/scheme"
	"github.com/predikat-id/predikat/services/assessment/internal/scoring"
)

// RecordAssessment records a revision of an institution's record in an
// OPEN round.
type RecordAssessment struct {
	RoundID          string
	InstitutionID    string
	Input            model.Input
	CorrectsRevision uint64
	Reason           string
	RequestID        string
	By               string
	// ObjectionID is the accepted objection this revision settles.
	ObjectionID string
}

// Recorded is the stored revision and whether this call created it.
type Recorded struct {
	Assessment *model.Assessment
	Created    bool
}

// RecordAssessmentHandler is the RecordAssessment use case.
type RecordAssessmentHandler struct{ rec recorder }

// Handle records cmd.
func (h RecordAssessmentHandler) Handle(ctx context.Context, cmd RecordAssessment) (Recorded, error) {
	a, created, err := h.rec.record(ctx, cmd, round.CheckRecordable, false)
	if err != nil {
		return Recorded{}, err
	}
	return Recorded{Assessment: a, Created: created}, h.rec.afterWrite(ctx, cmd.RoundID, []*model.Assessment{a}, cmd.By)
}

// recorder is what recording and correcting share: they differ in the
// round state they need.
type recorder struct {
	catalog  *scheme.Catalog
	store    Store
	registry Registry
	// rollups recomputes the parents' figures a stored record counts in
	// (nil: none, in tests of the record alone).
	rollups *rollups
}

// maxFenceRetries bounds how often a record is decided again because its
// round changed meanwhile; rounds change a handful of times in their life.
const maxFenceRetries = 5

// afterWrite brings the roll-ups a stored record counts in up to date (on
// retries too: a write whose roll-up was cut short is finished by sending
// it again). The record itself stands whatever happens here.
func (rc recorder) afterWrite(ctx context.Context, roundID string, written []*model.Assessment, by string) error {
	if rc.rollups == nil {
		return nil
	}
	return rc.rollups.afterUnits(ctx, roundID, written, by)
}

func (rc recorder) record(ctx context.Context, cmd RecordAssessment, check func(model.Round) error, afterPublication bool) (*model.Assessment, bool, error) {
	if err := cmd.checkText(); err != nil {
		return nil, false, err
	}
	fp := cmd.fingerprint(afterPublication)
	var composed *model.Assessment
	for range maxFenceRetries {
		r, err := rc.round(ctx, cmd.RoundID, check)
		if err != nil {
			return nil, false, err
		}
		key := RecordKey{SchemeID: r.SchemeID, Year: r.Year, InstitutionID: cmd.InstitutionID}
		tip, err := rc.tip(ctx, key, r, cmd, composed == nil)
		if err != nil {
			return nil, false, err
		}
		// A retry gets its first answer, whatever happened to the round since.
		if tip.Same != nil {
			return replayed(tip.Same, cmd.RequestID, fp)
		}
		if err := check(r); err != nil {
			return rc.replayOr(ctx, key, cmd.RequestID, fp, err)
		}
		if composed == nil {
			// The round's scheme version and year never change, so what
			// is computed holds for any revision of the round.
			a, err := rc.compose(ctx, r, cmd, afterPublication, tip)
			if err != nil {
				return nil, false, err
			}
			a.RequestFingerprint = fp
			composed = &a
		}
		stored, created, err := rc.store.Append(ctx, Append{Assessment: *composed, CorrectsRevision: cmd.CorrectsRevision, Tip: tip, Fence: r})
		if errors.Is(err, ErrRoundMoved) {
			// The round changed while this record was computed: decide
			// again on the round as it is now (its record too: a close
			// in between may have refused the latest revision).
			continue
		}
		if err == nil && !created {
			// The store found this request id stored already (a
			// concurrent retry, or one in JetStream's window).
			return replayed(stored, cmd.RequestID, fp)
		}
		return stored, created, err
	}
	return nil, false, fault.Conflictf("round %s is changing concurrently; try again", cmd.RoundID)
}

// tip is the record's latest revision as the decision reads it: from this
// replica's view, except for a correction (before it is composed) of a
// revision the view does not show as the latest: what it corrects
// (synthetic data stays synthetic) must come from the revision the append
// will find, read from the stream.
func (rc recorder) tip(ctx context.Context, key RecordKey, r model.Round, cmd RecordAssessment, composing bool) (Tip, error) {
	tip, err := rc.store.Tip(ctx, key, r, cmd.RequestID, false)
	if err == nil && composing && cmd.CorrectsRevision != 0 && tip.Same == nil && tip.Revision != cmd.CorrectsRevision {
		return rc.store.Tip(ctx, key, r, cmd.RequestID, true)
	}
	return tip, err
}

// round reads the round a record is decided on: as this replica last saw
// it, which an append checks after the write; a refusal rests on the round
// as stored, since the replica's copy may be behind.
func (rc recorder) round(ctx context.Context, id string, check func(model.Round) error) (model.Round, error) {
	r, err := rc.store.CachedRound(ctx, id)
	if err != nil || check(r) == nil {
		return r, err
	}
	return rc.store.Round(ctx, id)
}

// replayOr answers a retry of a request that has since been superseded with
// its first answer, even now that the round has moved on; anything else
// gets refused.
func (rc recorder) replayOr(ctx context.Context, key RecordKey, requestID, fp string, refused error) (*model.Assessment, bool, error) {
	done, err := rc.store.FindRequest(ctx, key, requestID)
	if err != nil {
		return nil, false, err
	}
	if done != nil {
		return replayed(done, requestID, fp)
	}
	return nil, false, refused
}

// replayed answers a request id found stored: with what it stored when the
// request is the same, refused when the id was used for another request.
func replayed(stored *model.Assessment, requestID, fp string) (*model.Assessment, bool, error) {
	if stored == nil {
		return nil, false, nil
	}
	if err := sameRequest(requestID, stored.RequestFingerprint, fp); err != nil {
		return nil, false, err
	}
	return stored, false, nil
}

// compose computes the revision to store: the scheme version of the round,
// the institution as the registry describes it now, the computed result.
func (rc recorder) compose(ctx context.Context, r model.Round, cmd RecordAssessment, afterPublication bool, tip Tip) (model.Assessment, error) {
	v, err := rc.catalog.Get(r.SchemeID, r.SchemeVersion)
	if err != nil {
		return model.Assessment{}, err
	}
	if err := rc.checkTypedIn(ctx, r, v, cmd.InstitutionID); err != nil {
		return model.Assessment{}, err
	}
	inst, err := rc.registry.Institution(ctx, cmd.InstitutionID)
	if err != nil {
		return model.Assessment{}, err
	}
	if inst.Retired {
		return model.Assessment{}, fault.Preconditionf("institution %s is retired (%s) and takes no new assessments", cmd.InstitutionID, inst.RetireReason)
	}
	if err := v.Admit(cmd.InstitutionID, inst.Kind); err != nil {
		return model.Assessment{}, err
	}
	res, err := scoring.Assess(v, cmd.Input)
	if err != nil {
		return model.Assessment{}, err
	}
	snap, err := snapshot(ctx, rc.registry, inst)
	if err != nil {
		return model.Assessment{}, err
	}
	var dims []string
	if len(cmd.Input.ImprovementNotes) > 0 { // not built for every record
		dims = noteDimensions(v)
	}
	notes, err := reportcard.Number(r.ID, v.String(), dims, cmd.Input.ImprovementNotes)
	if err != nil {
		return model.Assessment{}, err
	}
	followUps, err := rc.followUps(ctx, r, cmd)
	if err != nil {
		return model.Assessment{}, err
	}
	// A correction of made-up figures (an objection's acceptance among
	// them) stays made up, so it can never earn an award; the tip the
	// decision rests on says what the corrected revision was (a stale one
	// is refused by the append).
	synthetic := cmd.Input.Synthetic || (cmd.CorrectsRevision != 0 && cmd.CorrectsRevision == tip.Revision && tip.Synthetic)
	return model.Assessment{
		RoundID: r.ID, SchemeID: r.SchemeID, SchemeVersion: r.SchemeVersion, Year: r.Year,
		InstitutionID: cmd.InstitutionID, Institution: snap, Result: res, Respondents: cmd.Input.Respondents,
		Notes: cmd.Input.Notes, Source: cmd.Input.Source, Reason: cmd.Reason, AfterPublication: afterPublication,
		RequestID: cmd.RequestID, RecordedBy: cmd.By, ObjectionID: cmd.ObjectionID, Synthetic: synthetic,
		ImprovementNotes: notes, FollowUps: followUps,
	}, nil
}

// checkTypedIn refuses a typed-in record of a roll-up's parent; the record
// is read only for such a parent.
func (rc recorder) checkTypedIn(ctx context.Context, r model.Round, v *scheme.Version, institutionID string) error {
	if _, derived := v.RollupOf(institutionID); !derived {
		return nil
	}
	latest, err := rc.store.Assessment(ctx, RecordKey{SchemeID: r.SchemeID, Year: r.Year, InstitutionID: institutionID}, r.ID, 0)
	if err != nil && !fault.Is(err, fault.NotFound) {
		return err
	}
	return checkNotDerived(v, institutionID, latest)
}

// noteDimensions are the codes a report card note may name: the version's
// dimensions and their sub-dimensions (a reform area of RB, say).
func noteDimensions(v *scheme.Version) []string {
	codes := v.DimensionCodes()
	for _, d := range v.Proto().GetDimensions() {
		for _, s := range d.GetSubDimensions() {
			codes = append(codes, s.GetCode())
		}
	}
	return codes
}

// followUps resolves a record's follow-ups against the institution's
// previous assessment in the round's scheme. The history is read only when
// there is something to resolve, so a record without follow-ups costs no
// read.
func (rc recorder) followUps(ctx context.Context, r model.Round, cmd RecordAssessment) ([]model.NoteFollowUp, error) {
	if len(cmd.Input.FollowUps) == 0 {
		return nil, nil
	}
	history, err := rc.store.History(ctx, cmd.InstitutionID)
	if err != nil {
		return nil, fmt.Errorf("history of %s: %w", cmd.InstitutionID, err)
	}
	prev := reportcard.Previous(history, r.SchemeID, r.Year)
	return reportcard.Resolve(prev, cmd.Input.FollowUps, cmd.InstitutionID, r.SchemeID, r.Year)
}

// snapshot describes an institution as a record or award keeps it: with the
// names of its region and province as the registry has them now.
func snapshot(ctx context.Context, reg Registry, inst model.Institution) (model.InstitutionSnapshot, error) {
	snap := model.InstitutionSnapshot{
		ID: inst.ID, Name: inst.Name, Kind: inst.Kind, RegionCode: inst.RegionCode,
		ParentID: inst.ParentID, Head: inst.Head, RegistryRevision: inst.Revision,
	}
	if inst.RegionCode == events.National {
		// A national body (a ministry, Polri): the whole country, which
		// the registry's region listing does not carry.
		snap.RegionName, snap.ProvinceCode = "Indonesia", events.National
		return snap, nil
	}
	region, err := reg.Region(ctx, inst.RegionCode)
	if err != nil {
		return snap, fmt.Errorf("region of %s: %w", inst.ID, err)
	}
	snap.RegionName, snap.ProvinceCode = region.Name, region.ProvinceCode
	if region.ProvinceCode == "" {
		snap.ProvinceCode = events.National // national bodies: the national subject and filter token
		return snap, nil
	}
	prov, err := reg.Region(ctx, region.ProvinceCode)
	if err != nil {
		return snap, fmt.Errorf("province of %s: %w", inst.ID, err)
	}
	snap.ProvinceName = prov.Name
	return snap, nil
}
