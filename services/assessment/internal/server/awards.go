package server

import (
	"context"
	"slices"
	"strings"

	"github.com/predikat-id/predikat/pkg/decimal"
	assessmentv1 "github.com/predikat-id/predikat/pkg/gen/predikat/assessment/v1"
	registryv1 "github.com/predikat-id/predikat/pkg/gen/predikat/registry/v1"
	"github.com/predikat-id/predikat/pkg/platform/fault"
	"github.com/predikat-id/predikat/pkg/platform/pagetoken"
	"github.com/predikat-id/predikat/services/assessment/internal/award"
	"github.com/predikat-id/predikat/services/assessment/internal/round"
	"google.golang.org/protobuf/proto"
)

// grantRuleAwards grants every award the scheme's rules give on the round's
// frozen results. Ids are deterministic and each grant is exactly-once in the
// stream, so calling this again (a retried or resumed publication) grants
// nothing twice. The head on each award is the one in office now, the day
// the awards are granted.
func (s *Server) grantRuleAwards(ctx context.Context, r *assessmentv1.Round, ceremony *assessmentv1.Ceremony, by *assessmentv1.PresentedBy) (granted, existing int32, err error) {
	v, err := s.catalog.Get(r.GetSchemeId(), r.GetSchemeVersion())
	if err != nil {
		return 0, 0, err
	}
	records, err := s.store.Frozen(ctx, r)
	if err != nil {
		return 0, 0, err
	}
	provinces := map[string]string{}
	for _, a := range records {
		provinces[a.GetInstitution().GetProvinceCode()] = a.GetInstitution().GetProvinceName()
	}
	awards, err := award.Evaluate(v.Proto(), r, records, provinces)
	if err != nil {
		return 0, 0, err
	}
	for _, a := range awards {
		a.Ceremony, a.PresentedBy = ceremony, by
		if err := s.refreshHead(ctx, a); err != nil {
			return granted, existing, err
		}
		_, created, err := s.store.Grant(ctx, a)
		if err != nil {
			return granted, existing, err
		}
		if created {
			granted++
		} else {
			existing++
		}
	}
	return granted, existing, nil
}

// refreshHead sets the snapshot's head to whoever held office on the
// ceremony day (from the registry's current and past heads), or today's head
// when the award has no ceremony date: awards are presented to the head in
// office that day.
func (s *Server) refreshHead(ctx context.Context, a *assessmentv1.Award) error {
	inst, err := s.registry.Lookup(ctx, a.GetInstitution().GetId())
	if err != nil {
		return err
	}
	snap := proto.Clone(a.GetInstitution()).(*assessmentv1.InstitutionSnapshot)
	snap.Head, snap.Name, snap.RegistryRevision = headOn(inst, a.GetCeremony().GetDate()), inst.GetName(), inst.GetRevision()
	a.Institution = snap
	return nil
}

// headOn returns the head in office on day (ISO date; "" means now).
func headOn(inst *registryv1.Institution, day string) *registryv1.Head {
	if day == "" {
		return inst.GetHead()
	}
	in := func(h *registryv1.Head) bool {
		return (h.GetTermStart() == "" || h.GetTermStart() <= day) && (h.GetTermEnd() == "" || day < h.GetTermEnd())
	}
	if h := inst.GetHead(); h != nil && in(h) {
		return h
	}
	for _, h := range slices.Backward(inst.GetPastHeads()) {
		if in(h) {
			return h
		}
	}
	return inst.GetHead()
}

// reconcileRuleAwards brings a published round's rule awards in line with
// its results after a correction: awards no longer earned are revoked, newly
// earned ones granted (with the ceremony of the round's other awards).
func (s *Server) reconcileRuleAwards(ctx context.Context, r *assessmentv1.Round, reason string) (grantedIDs, revokedIDs []string, err error) {
	v, err := s.catalog.Get(r.GetSchemeId(), r.GetSchemeVersion())
	if err != nil {
		return nil, nil, err
	}
	records, err := s.store.Frozen(ctx, r)
	if err != nil {
		return nil, nil, err
	}
	want, err := award.Evaluate(v.Proto(), r, records, nil)
	if err != nil {
		return nil, nil, err
	}
	if err := s.store.SyncAwards(ctx); err != nil {
		return nil, nil, err
	}
	have, _ := s.store.Awards("", int(^uint(0)>>1), func(a *assessmentv1.Award) bool {
		return a.GetRoundId() == r.GetId() && a.GetBasis().GetKind() != assessmentv1.AwardBasisKind_AWARD_BASIS_KIND_MANUAL &&
			a.GetState() == assessmentv1.AwardState_AWARD_STATE_GRANTED
	})
	// Awards are matched by what they are for (rule and institution), not
	// by id: an award earned back after a revocation has a new id.
	type forKey struct{ rule, institution string }
	keyOf := func(a *assessmentv1.Award) forKey {
		return forKey{a.GetBasis().GetRuleCode(), a.GetInstitution().GetId()}
	}
	wanted := map[forKey]bool{}
	for _, a := range want {
		wanted[keyOf(a)] = true
	}
	var ceremony *assessmentv1.Ceremony
	var by *assessmentv1.PresentedBy
	for _, a := range have {
		ceremony, by = a.GetCeremony(), a.GetPresentedBy()
		if !wanted[keyOf(a)] {
			if _, err := s.store.Revoke(ctx, a.GetId(), "no longer earned after a correction: "+reason, "correction:"+r.GetId()); err != nil {
				return grantedIDs, revokedIDs, err
			}
			revokedIDs = append(revokedIDs, a.GetId())
		}
	}
	for _, a := range want {
		id, standing := s.currentRuleAward(r.GetId(), a)
		if standing {
			continue
		}
		a.Id, a.Ceremony, a.PresentedBy = id, ceremony, by
		if err := s.refreshHead(ctx, a); err != nil {
			return grantedIDs, revokedIDs, err
		}
		if _, created, err := s.store.Grant(ctx, a); err != nil {
			return grantedIDs, revokedIDs, err
		} else if created {
			grantedIDs = append(grantedIDs, a.GetId())
		}
	}
	return grantedIDs, revokedIDs, nil
}

// currentRuleAward finds the latest grant of a rule award: its id, and
// whether it stands. A revoked grant is followed by the next epoch's id.
func (s *Server) currentRuleAward(roundID string, a *assessmentv1.Award) (string, bool) {
	for epoch := 0; ; epoch++ {
		id := award.RuleAwardID(roundID, a.GetBasis().GetRuleCode(), a.GetInstitution().GetId(), epoch)
		cur, err := s.store.Award(id)
		if err != nil {
			return id, false // never granted under this id
		}
		if cur.GetState() == assessmentv1.AwardState_AWARD_STATE_GRANTED {
			return id, true
		}
	}
}

// GrantAward implements AssessmentService.
func (s *Server) GrantAward(ctx context.Context, req *assessmentv1.GrantAwardRequest) (*assessmentv1.GrantAwardResponse, error) {
	id := award.ManualAwardID(req.GetInstitutionId(), req.GetRequestId())
	if cur, err := s.store.Award(id); err == nil {
		return &assessmentv1.GrantAwardResponse{Award: cur}, nil // a retry
	}
	inst, err := s.registry.Lookup(ctx, req.GetInstitutionId())
	if err != nil {
		return nil, err
	}
	snap, err := s.snapshot(ctx, inst)
	if err != nil {
		return nil, err
	}
	snap.Head = headOn(inst, req.GetCeremony().GetDate())
	a := &assessmentv1.Award{
		Id: id, SchemeId: req.GetSchemeId(), Year: req.GetYear(), Institution: snap, Title: req.GetTitle(),
		Ceremony: req.GetCeremony(), PresentedBy: req.GetPresentedBy(), Notes: req.GetNotes(), Source: req.GetSource(),
		RequestId: req.GetRequestId(), GrantedBy: actor(ctx),
		Basis: &assessmentv1.AwardBasis{Kind: assessmentv1.AwardBasisKind_AWARD_BASIS_KIND_MANUAL, BandCode: req.GetBandCode(),
			Rank: req.GetRank(), PeerGroup: req.GetPeerGroup(), Scope: req.GetScope()},
	}
	if req.GetScore() != "" {
		d, err := decimal.Parse(req.GetScore())
		if err != nil {
			return nil, fault.Invalidf("score: %v", err)
		}
		a.Basis.Score = d.String()
	}
	if req.GetSchemeId() != "" {
		if err := s.linkScheme(ctx, a); err != nil {
			return nil, err
		}
	}
	stored, created, err := s.store.Grant(ctx, a)
	if err != nil {
		return nil, err
	}
	return &assessmentv1.GrantAwardResponse{Award: stored, Created: created}, nil
}

// linkScheme checks a manual award's scheme facts against the scheme version
// of its year, and links it to the round of that year when there is one.
func (s *Server) linkScheme(ctx context.Context, a *assessmentv1.Award) error {
	v, err := s.catalog.ForYear(a.GetSchemeId(), a.GetYear())
	if err != nil {
		return err
	}
	a.SchemeVersion = v.Proto().GetVersion()
	b := a.GetBasis()
	if b.GetBandCode() != "" {
		band, ok := v.Band(b.GetBandCode())
		if !ok {
			return fault.Invalidf("band %q is not a band of %s %s", b.GetBandCode(), a.GetSchemeId(), v.Proto().GetVersion())
		}
		b.BandCode, b.BandLabel, b.BandZone = band.GetCode(), band.GetLabel(), band.GetZone()
	}
	if b.GetPeerGroup() != "" {
		i := slices.IndexFunc(v.Proto().GetPeerGroups(), func(g *assessmentv1.PeerGroup) bool { return g.GetCode() == b.GetPeerGroup() })
		if i < 0 {
			return fault.Invalidf("peer group %q is not a peer group of %s %s", b.GetPeerGroup(), a.GetSchemeId(), v.Proto().GetVersion())
		}
		b.PeerGroupName = v.Proto().GetPeerGroups()[i].GetName()
	}
	if r, err := s.store.RoundState(ctx, round.ID(a.GetSchemeId(), a.GetYear())); err == nil {
		a.RoundId = r.GetId()
	} else if !fault.Is(err, fault.NotFound) {
		return err
	}
	return nil
}

// RevokeAward implements AssessmentService.
func (s *Server) RevokeAward(ctx context.Context, req *assessmentv1.RevokeAwardRequest) (*assessmentv1.RevokeAwardResponse, error) {
	a, err := s.store.Revoke(ctx, req.GetAwardId(), req.GetReason(), actor(ctx))
	if err != nil {
		return nil, err
	}
	return &assessmentv1.RevokeAwardResponse{Award: a}, nil
}

// GetAward implements AssessmentService.
func (s *Server) GetAward(_ context.Context, req *assessmentv1.GetAwardRequest) (*assessmentv1.GetAwardResponse, error) {
	a, err := s.store.Award(req.GetAwardId())
	if err != nil {
		return nil, err
	}
	return &assessmentv1.GetAwardResponse{Award: a}, nil
}

// ListAwards implements AssessmentService.
func (s *Server) ListAwards(_ context.Context, req *assessmentv1.ListAwardsRequest) (*assessmentv1.ListAwardsResponse, error) {
	filter := proto.Clone(req).(*assessmentv1.ListAwardsRequest)
	filter.PageSize, filter.PageToken = 0, ""
	fp := pagetoken.Fingerprint(filter)
	after, err := pagetoken.Decode(req.GetPageToken(), fp)
	if err != nil {
		return nil, err
	}
	page, more := s.store.Awards(after, pageSize(req.GetPageSize()), func(a *assessmentv1.Award) bool {
		return (req.GetInstitutionId() == "" || a.GetInstitution().GetId() == req.GetInstitutionId()) &&
			(req.GetYear() == 0 || a.GetYear() == req.GetYear()) &&
			(req.GetSchemeId() == "" || a.GetSchemeId() == req.GetSchemeId()) &&
			(req.GetRoundId() == "" || a.GetRoundId() == req.GetRoundId()) &&
			(req.GetProvinceCode() == "" || a.GetInstitution().GetProvinceCode() == req.GetProvinceCode()) &&
			(req.GetCeremonyName() == "" || strings.Contains(strings.ToLower(a.GetCeremony().GetName()), strings.ToLower(req.GetCeremonyName()))) &&
			(req.GetCeremonyDate() == "" || a.GetCeremony().GetDate() == req.GetCeremonyDate()) &&
			(len(req.GetBasisKinds()) == 0 || slices.Contains(req.GetBasisKinds(), a.GetBasis().GetKind())) &&
			(req.GetState() == assessmentv1.AwardState_AWARD_STATE_UNSPECIFIED || a.GetState() == req.GetState())
	})
	resp := &assessmentv1.ListAwardsResponse{Awards: page}
	if more {
		resp.NextPageToken = pagetoken.Encode(fp, page[len(page)-1].GetId())
	}
	return resp, nil
}
