// Package award decides which awards a published round grants: band and
// category awards from each institution's band, rank awards from competition
// ranks within a peer group, nationally or per province. It is pure: the
// same frozen records always give the same awards with the same ids, which
// is what makes granting them exactly once possible.
package award

import (
	"crypto/sha256"
	"encoding/base32"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/predikat-id/predikat/pkg/decimal"
	"github.com/predikat-id/predikat/pkg/events"
	assessmentv1 "github.com/predikat-id/predikat/pkg/gen/predikat/assessment/v1"
)

// National is the scope token of a national board: the event contract's.
const National = events.National

var idEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

func hashID(parts ...string) string {
	sum := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	return "aw-" + idEncoding.EncodeToString(sum[:])[:26]
}

// RuleAwardID is the id of the award a rule grants an institution in a
// round. epoch counts earlier grants of it that a correction revoked: an
// award lost and earned back is a new grant with a new id (epoch 1, 2, ...),
// since an award's subject holds exactly one grant.
func RuleAwardID(roundID, ruleCode, institutionID string, epoch int) string {
	if epoch == 0 {
		return hashID("rule", roundID, ruleCode, institutionID)
	}
	return hashID("rule", roundID, ruleCode, institutionID, strconv.Itoa(epoch))
}

// ManualAwardID is the id of a manual award: one per (institution, request).
func ManualAwardID(institutionID, requestID string) string {
	return hashID("manual", institutionID, requestID)
}

// Evaluate returns every award the scheme's rules grant on the latest records
// of a published round, ordered by id. provinceNames names the scopes.
// Synthetic records never earn one; they keep their place on the boards, so
// a real record's rank is the one the boards show. Derived figures (roll-ups)
// rank on boards of their own and earn none: the rules are written for
// assessed results.
func Evaluate(s *assessmentv1.Scheme, r *assessmentv1.Round, records []*assessmentv1.Assessment, provinceNames map[string]string) ([]*assessmentv1.Award, error) {
	records = slices.DeleteFunc(slices.Clone(records), func(a *assessmentv1.Assessment) bool {
		return a.GetBasis() == assessmentv1.AssessmentBasis_ASSESSMENT_BASIS_DERIVED
	})
	var out []*assessmentv1.Award
	for _, rule := range s.GetAwardRules() {
		switch rule.GetKind() {
		case assessmentv1.AwardBasisKind_AWARD_BASIS_KIND_BAND, assessmentv1.AwardBasisKind_AWARD_BASIS_KIND_CATEGORY:
			for _, a := range records {
				if a.GetSynthetic() {
					continue
				}
				if slices.ContainsFunc(rule.GetBandCodes(), func(c string) bool { return strings.EqualFold(c, a.GetBandCode()) }) {
					out = append(out, newAward(s, r, rule, a, nil))
				}
			}
		case assessmentv1.AwardBasisKind_AWARD_BASIS_KIND_RANK:
			got, err := rankAwards(s, r, rule, records, provinceNames)
			if err != nil {
				return nil, err
			}
			out = append(out, got...)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].GetId() < out[j].GetId() })
	return out, nil
}

// Ranked is one entry of a board with its competition rank.
type Ranked struct {
	Record *assessmentv1.Assessment
	Total  decimal.Decimal
	Rank   int
}

// Rank orders records by total, best first, with competition ranks: equal
// totals share a rank and the next rank skips (1, 2, 2, 4); ties are listed
// by name, then id. Band-only records have no total and are left out.
func Rank(records []*assessmentv1.Assessment) ([]Ranked, error) {
	var out []Ranked
	for _, a := range records {
		if a.GetBasis() == assessmentv1.AssessmentBasis_ASSESSMENT_BASIS_REPORTED_BAND || a.GetTotal() == "" {
			continue
		}
		d, err := decimal.Parse(a.GetTotal())
		if err != nil {
			return nil, fmt.Errorf("total of %s: %w", a.GetInstitutionId(), err)
		}
		out = append(out, Ranked{Record: a, Total: d})
	}
	sort.SliceStable(out, func(i, j int) bool {
		if c := out[i].Total.Cmp(out[j].Total); c != 0 {
			return c > 0
		}
		if ni, nj := out[i].Record.GetInstitution().GetName(), out[j].Record.GetInstitution().GetName(); ni != nj {
			return ni < nj
		}
		return out[i].Record.GetInstitutionId() < out[j].Record.GetInstitutionId()
	})
	for i := range out {
		if i > 0 && out[i].Total.Cmp(out[i-1].Total) == 0 {
			out[i].Rank = out[i-1].Rank
		} else {
			out[i].Rank = i + 1
		}
	}
	return out, nil
}

func rankAwards(s *assessmentv1.Scheme, r *assessmentv1.Round, rule *assessmentv1.AwardRule, records []*assessmentv1.Assessment, provinceNames map[string]string) ([]*assessmentv1.Award, error) {
	group := peerGroup(s, rule.GetPeerGroup())
	if group == nil {
		return nil, fmt.Errorf("award rule %s: unknown peer group %q", rule.GetCode(), rule.GetPeerGroup())
	}
	topN := int(rule.GetTopN())
	if topN <= 0 {
		topN = 1
	}
	var out []*assessmentv1.Award
	for scope, recs := range boards(group, rule.GetScope(), records) {
		ranked, err := Rank(recs)
		if err != nil {
			return nil, err
		}
		for _, e := range ranked {
			if e.Rank > topN {
				break
			}
			if e.Record.GetSynthetic() {
				continue
			}
			out = append(out, newAward(s, r, rule, e.Record, &rankInfo{rank: e.Rank, outOf: len(ranked), group: group, scope: scope, scopeName: scopeName(scope, e.Record, provinceNames)}))
		}
	}
	return out, nil
}

// peerGroup finds a scheme's peer group by code, or nil. The catalog keeps
// codes unique, so which of two equal codes wins never matters.
func peerGroup(s *assessmentv1.Scheme, code string) *assessmentv1.PeerGroup {
	var group *assessmentv1.PeerGroup
	for _, g := range s.GetPeerGroups() {
		if g.GetCode() == code {
			group = g
		}
	}
	return group
}

// boards splits the records of a peer group's kinds into the boards they
// compete on: one national board, or one per province.
func boards(group *assessmentv1.PeerGroup, scopeKind assessmentv1.ScopeKind, records []*assessmentv1.Assessment) map[string][]*assessmentv1.Assessment {
	out := map[string][]*assessmentv1.Assessment{}
	for _, a := range records {
		if !slices.Contains(group.GetKinds(), a.GetInstitution().GetKind()) {
			continue
		}
		scope := National
		if scopeKind == assessmentv1.ScopeKind_SCOPE_KIND_PROVINCE {
			scope = a.GetInstitution().GetProvinceCode()
			if scope == "" || scope == National {
				continue // national bodies have no province board
			}
		}
		out[scope] = append(out[scope], a)
	}
	return out
}

// scopeName names a board for an award title, falling back to the province
// name the record carries when the caller does not know the scope.
func scopeName(scope string, a *assessmentv1.Assessment, provinceNames map[string]string) string {
	if scope == National {
		return "Indonesia" // reads right in "Nilai Tertinggi … se-{scope}"
	}
	if name := provinceNames[scope]; name != "" {
		return name
	}
	return a.GetInstitution().GetProvinceName()
}

type rankInfo struct {
	rank, outOf int
	group       *assessmentv1.PeerGroup
	scope       string
	scopeName   string
}

func newAward(s *assessmentv1.Scheme, r *assessmentv1.Round, rule *assessmentv1.AwardRule, a *assessmentv1.Assessment, ri *rankInfo) *assessmentv1.Award {
	basis := &assessmentv1.AwardBasis{
		Kind: rule.GetKind(), RuleCode: rule.GetCode(), Score: a.GetTotal(), BandCode: a.GetBandCode(),
		BandLabel: a.GetBandLabel(), BandZone: a.GetBandZone(), AssessmentRevision: a.GetRevision(),
	}
	if ri != nil {
		basis.Rank, basis.OutOf = int32(ri.rank), int32(ri.outOf)
		basis.PeerGroup, basis.PeerGroupName = ri.group.GetCode(), ri.group.GetName()
		basis.Scope, basis.ScopeName = ri.scope, ri.scopeName
	}
	return &assessmentv1.Award{
		Id: RuleAwardID(r.GetId(), rule.GetCode(), a.GetInstitutionId(), 0), RoundId: r.GetId(), SchemeId: s.GetId(),
		SchemeVersion: s.GetVersion(), Year: r.GetYear(), Institution: a.GetInstitution(), Basis: basis,
		Title: Title(rule.GetTitle(), r.GetYear(), basis), State: assessmentv1.AwardState_AWARD_STATE_GRANTED, GrantedBy: "publish:" + r.GetId(),
	}
}

// Title fills a rule's title template: {band_code}, {band_label},
// {peer_group}, {scope}, {rank}, {score}, {year}.
func Title(tmpl string, year int32, b *assessmentv1.AwardBasis) string {
	return strings.NewReplacer("{year}", strconv.Itoa(int(year)),
		"{band_code}", b.GetBandCode(), "{band_label}", b.GetBandLabel(), "{peer_group}", b.GetPeerGroupName(),
		"{scope}", b.GetScopeName(), "{rank}", strconv.Itoa(int(b.GetRank())), "{score}", b.GetScore(),
	).Replace(tmpl)
}
