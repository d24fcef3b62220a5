package app

import (
	"context"

	"github.com/predikat-id/predikat/pkg/decimal"
	"github.com/predikat-id/predikat/pkg/platform/fault"
	"github.com/predikat-id/predikat/services/assessment/internal/award"
	"github.com/predikat-id/predikat/services/assessment/internal/model"
	"github.com/predikat-id/predikat/services/assessment/internal/round"
	"github.com/predikat-id/predikat/services/assessment/internal/scheme"
)

// GrantAward grants an award by hand, once per (institution, request id).
type GrantAward struct {
	InstitutionID, Title string
	Ceremony             *model.Ceremony
	PresentedBy          *model.PresentedBy
	SchemeID             string
	Year                 int32
	Score, BandCode      string
	Rank                 int32
	PeerGroup, Scope     string
	Notes                string
	Source               *model.Source
	RequestID, By        string
}

// Granted is the stored award and whether this call granted it.
type Granted struct {
	Award   *model.Award
	Created bool
}

// GrantAwardHandler is the GrantAward use case.
type GrantAwardHandler struct {
	catalog  *scheme.Catalog
	store    Store
	registry Registry
}

// Handle grants the award; a retry returns the award granted first.
func (h GrantAwardHandler) Handle(ctx context.Context, cmd GrantAward) (Granted, error) {
	if err := cmd.checkText(); err != nil {
		return Granted{}, err
	}
	fp := cmd.fingerprint()
	id := award.ManualAwardID(cmd.InstitutionID, cmd.RequestID)
	if cur, err := h.store.Award(id); err == nil {
		return grantedBefore(cur, cmd.RequestID, fp) // a retry
	}
	a, err := h.compose(ctx, id, cmd)
	if err != nil {
		return Granted{}, err
	}
	a.RequestFingerprint = fp
	if cmd.SchemeID != "" {
		if err := h.linkScheme(ctx, &a); err != nil {
			return Granted{}, err
		}
	}
	stored, created, err := h.store.Grant(ctx, a)
	if err == nil && !created {
		// Granted meanwhile under this request id (a concurrent retry).
		return grantedBefore(stored, cmd.RequestID, fp)
	}
	return Granted{Award: stored, Created: created}, err
}

func grantedBefore(a *model.Award, requestID, fp string) (Granted, error) {
	if err := sameRequest(requestID, a.RequestFingerprint, fp); err != nil {
		return Granted{}, err
	}
	return Granted{Award: a}, nil
}

func (h GrantAwardHandler) compose(ctx context.Context, id string, cmd GrantAward) (model.Award, error) {
	inst, err := h.registry.Institution(ctx, cmd.InstitutionID)
	if err != nil {
		return model.Award{}, err
	}
	snap, err := snapshot(ctx, h.registry, inst)
	if err != nil {
		return model.Award{}, err
	}
	day := ""
	if cmd.Ceremony != nil {
		day = cmd.Ceremony.Date
	}
	snap.Head = headOn(inst, day)
	a := model.Award{
		ID: id, SchemeID: cmd.SchemeID, Year: cmd.Year, Institution: snap, Title: cmd.Title,
		Ceremony: cmd.Ceremony, PresentedBy: cmd.PresentedBy, Notes: cmd.Notes, Source: cmd.Source,
		RequestID: cmd.RequestID, GrantedBy: cmd.By,
		Basis: model.AwardBasis{Kind: model.AwardBasisManual, BandCode: cmd.BandCode, Rank: cmd.Rank, PeerGroup: cmd.PeerGroup, Scope: cmd.Scope},
	}
	if cmd.Score != "" {
		d, err := decimal.Parse(cmd.Score)
		if err != nil {
			return model.Award{}, fault.Invalidf("score: %v", err)
		}
		a.Basis.Score = d.String()
	}
	return a, nil
}

// linkScheme checks a manual award's scheme facts against the scheme version
// of its year, and links it to the round of that year when there is one.
func (h GrantAwardHandler) linkScheme(ctx context.Context, a *model.Award) error {
	v, err := h.catalog.ForYear(a.SchemeID, a.Year)
	if err != nil {
		return err
	}
	a.SchemeVersion = v.Label()
	b := &a.Basis
	if b.BandCode != "" {
		code, label, zone, ok := v.BandInfo(b.BandCode)
		if !ok {
			return fault.Invalidf("band %q is not a band of %s %s", b.BandCode, a.SchemeID, v.Label())
		}
		b.BandCode, b.BandLabel, b.BandZone = code, label, zone
	}
	if b.PeerGroup != "" {
		name, ok := v.PeerGroupName(b.PeerGroup)
		if !ok {
			return fault.Invalidf("peer group %q is not a peer group of %s %s", b.PeerGroup, a.SchemeID, v.Label())
		}
		b.PeerGroupName = name
	}
	r, err := h.store.Round(ctx, round.ID(a.SchemeID, a.Year))
	if fault.Is(err, fault.NotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	a.RoundID = r.ID
	return h.checkNotSynthetic(ctx, r, a.Institution.ID)
}

// checkNotSynthetic refuses a manual award linked to a round in which the
// institution's record that counts (its latest revision not refused past a
// close, the one the boards and the rule awards read) is synthetic: made-up
// figures never earn an award, whoever grants it. The record is read from
// storage, not this replica's view, so a refusal never rests on a stale
// copy. No record in the round is no objection: a manual award may rest on
// something the round never recorded.
func (h GrantAwardHandler) checkNotSynthetic(ctx context.Context, r model.Round, institutionID string) error {
	rec, err := h.store.Assessment(ctx, RecordKey{SchemeID: r.SchemeID, Year: r.Year, InstitutionID: institutionID}, r.ID, 0)
	if fault.Is(err, fault.NotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if rec.Synthetic {
		return fault.Preconditionf("the record of %s in round %s is synthetic data, and synthetic data never earns an award", institutionID, r.ID)
	}
	return nil
}

// RevokeAward revokes an award, saying why.
type RevokeAward struct{ AwardID, Reason, By string }

// RevokeAwardHandler is the RevokeAward use case.
type RevokeAwardHandler struct{ store AwardStore }

// Handle revokes; revoking a revoked award returns it unchanged.
func (h RevokeAwardHandler) Handle(ctx context.Context, cmd RevokeAward) (*model.Award, error) {
	if err := checkFree(field{"reason", cmd.Reason}); err != nil {
		return nil, err
	}
	return h.store.Revoke(ctx, cmd.AwardID, cmd.Reason, cmd.By)
}
