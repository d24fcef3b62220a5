package app

import (
	"context"
	"math"

	"github.com/predikat-id/predikat/services/assessment/internal/award"
	"github.com/predikat-id/predikat/services/assessment/internal/model"
	"github.com/predikat-id/predikat/services/assessment/internal/scheme"
)

// ruleAwards grants and reconciles the awards a scheme's rules give on a
// published round's frozen results.
type ruleAwards struct {
	catalog  *scheme.Catalog
	store    Store
	registry Registry
	// afterGrant, when set, hears every award this publication granted (how
	// many so far); an error stops the publication there, as a crash would.
	afterGrant func(granted int32) error
}

func (ra ruleAwards) evaluate(ctx context.Context, r model.Round, namedProvinces bool) ([]*model.Award, error) {
	v, err := ra.catalog.Get(r.SchemeID, r.SchemeVersion)
	if err != nil {
		return nil, err
	}
	records, err := ra.store.Frozen(ctx, r)
	if err != nil {
		return nil, err
	}
	var provinces map[string]string
	if namedProvinces {
		provinces = map[string]string{}
		for _, a := range records {
			provinces[a.Institution.ProvinceCode] = a.Institution.ProvinceName
		}
	}
	return award.EvaluateRound(v, r, records, provinces)
}

// complete finishes a publication: every rule award granted, then the
// announcement with their number, then the round with its counts.
func (ra ruleAwards) complete(ctx context.Context, r model.Round, ceremony *model.Ceremony, by *model.PresentedBy) (Published, error) {
	var out Published
	var err error
	if out.AwardsGranted, out.AwardsExisting, err = ra.grant(ctx, r, ceremony, by); err != nil {
		return Published{}, err
	}
	if out.Round, err = ra.store.RoundWithCounts(ctx, r.ID); err != nil {
		return Published{}, err
	}
	if err := ra.store.Announce(ctx, out.Round, out.AwardsGranted+out.AwardsExisting); err != nil {
		return Published{}, err
	}
	return out, nil
}

// missing counts the rule awards of a published round never granted (a
// revoked one was granted: it is not missing).
func (ra ruleAwards) missing(ctx context.Context, r model.Round) (int, error) {
	awards, err := ra.evaluate(ctx, r, false)
	if err != nil {
		return 0, err
	}
	if err := ra.store.SyncAwards(ctx); err != nil {
		return 0, err
	}
	n := 0
	for _, a := range awards {
		if _, err := ra.store.Award(a.ID); err != nil {
			n++
		}
	}
	return n, nil
}

// ceremonyOf returns the ceremony and presenter of a round's rule awards.
func (ra ruleAwards) ceremonyOf(roundID string) (*model.Ceremony, *model.PresentedBy) {
	have, _ := ra.store.Awards("", 1, func(a *model.Award) bool {
		return a.RoundID == roundID && a.Basis.Kind != model.AwardBasisManual
	})
	if len(have) == 0 {
		return nil, nil
	}
	return have[0].Ceremony, have[0].PresentedBy
}

// grant grants every rule award. Ids are deterministic and each grant is
// exactly-once in storage, so calling this again (a retried or resumed
// publication) grants nothing twice. One this replica already knows is
// counted without asking the registry for its head again.
func (ra ruleAwards) grant(ctx context.Context, r model.Round, ceremony *model.Ceremony, by *model.PresentedBy) (granted, existing int32, err error) {
	awards, err := ra.evaluate(ctx, r, true)
	if err != nil {
		return 0, 0, err
	}
	todo := make([]model.Award, 0, len(awards))
	for _, a := range awards {
		if _, err := ra.store.Award(a.ID); err == nil {
			existing++
			continue
		}
		a.Ceremony, a.PresentedBy = ceremony, by
		if err := refreshHead(ctx, ra.registry, a); err != nil {
			return granted, existing, err
		}
		todo = append(todo, *a)
	}
	err = ra.store.GrantAll(ctx, todo, func(_ *model.Award, created bool) error {
		if !created {
			existing++
			return nil
		}
		granted++
		if ra.afterGrant != nil {
			return ra.afterGrant(granted)
		}
		return nil
	})
	return granted, existing, err
}

// forKey is what a rule award is for. Awards are matched by it, not by id:
// an award earned back after a revocation has a new id.
type forKey struct{ rule, institution string }

func keyOf(a *model.Award) forKey { return forKey{a.Basis.RuleCode, a.Institution.ID} }

// reconcile brings a published round's rule awards in line with its results
// after a correction: awards no longer earned are revoked, newly earned ones
// granted (with the ceremony of the round's other awards).
func (ra ruleAwards) reconcile(ctx context.Context, r model.Round, reason string) (grantedIDs, revokedIDs []string, err error) {
	want, err := ra.evaluate(ctx, r, false)
	if err != nil {
		return nil, nil, err
	}
	if err := ra.store.SyncAwards(ctx); err != nil {
		return nil, nil, err
	}
	have, _ := ra.store.Awards("", math.MaxInt, func(a *model.Award) bool {
		return a.RoundID == r.ID && a.Basis.Kind != model.AwardBasisManual && a.State == model.AwardGranted
	})
	wanted := map[forKey]bool{}
	for _, a := range want {
		wanted[keyOf(a)] = true
	}
	var ceremony *model.Ceremony
	var by *model.PresentedBy
	for _, a := range have {
		ceremony, by = a.Ceremony, a.PresentedBy
		if wanted[keyOf(a)] {
			continue
		}
		if _, err := ra.store.Revoke(ctx, a.ID, "no longer earned after a correction: "+reason, "correction:"+r.ID); err != nil {
			return grantedIDs, revokedIDs, err
		}
		revokedIDs = append(revokedIDs, a.ID)
	}
	grantedIDs, err = ra.grantEarned(ctx, r, want, ceremony, by)
	return grantedIDs, revokedIDs, err
}

func (ra ruleAwards) grantEarned(ctx context.Context, r model.Round, want []*model.Award, ceremony *model.Ceremony, by *model.PresentedBy) ([]string, error) {
	var grantedIDs []string
	for _, a := range want {
		id, standing := ra.current(r.ID, a)
		if standing {
			continue
		}
		a.ID, a.Ceremony, a.PresentedBy = id, ceremony, by
		if err := refreshHead(ctx, ra.registry, a); err != nil {
			return grantedIDs, err
		}
		if _, created, err := ra.store.Grant(ctx, *a); err != nil {
			return grantedIDs, err
		} else if created {
			grantedIDs = append(grantedIDs, a.ID)
		}
	}
	return grantedIDs, nil
}

// current finds the latest grant of a rule award: its id, and whether it
// stands. A revoked grant is followed by the next epoch's id.
func (ra ruleAwards) current(roundID string, a *model.Award) (string, bool) {
	for epoch := 0; ; epoch++ {
		id := award.RuleAwardID(roundID, a.Basis.RuleCode, a.Institution.ID, epoch)
		cur, err := ra.store.Award(id)
		if err != nil {
			return id, false // never granted under this id
		}
		if cur.State == model.AwardGranted {
			return id, true
		}
	}
}
