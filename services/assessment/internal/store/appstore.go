package store

import (
	"context"
	"fmt"

	"github.com/predikat-id/predikat/pkg/events"
	assessmentv1 "github.com/predikat-id/predikat/pkg/gen/predikat/assessment/v1"
	eventsv1 "github.com/predikat-id/predikat/pkg/gen/predikat/events/v1"
	registryv1 "github.com/predikat-id/predikat/pkg/gen/predikat/registry/v1"
	"github.com/predikat-id/predikat/services/assessment/internal/app"
	"github.com/predikat-id/predikat/services/assessment/internal/convert"
	"github.com/predikat-id/predikat/services/assessment/internal/model"
	"github.com/predikat-id/predikat/services/assessment/internal/scheme"
)

// AppStore is the Store as the application layer's port: plain records in,
// plain records out, translated here to and from the stored events.
type AppStore struct {
	s       *Store
	catalog *scheme.Catalog
}

var _ app.Store = (*AppStore)(nil)

// ForApp returns the application layer's view of the store. The catalog
// supplies what a stored AssessmentRecorded carries beyond the record: the
// peer groups and scale of its scheme version.
func (s *Store) ForApp(cat *scheme.Catalog) *AppStore { return &AppStore{s: s, catalog: cat} }

// Round implements app.RoundStore.
func (p *AppStore) Round(ctx context.Context, id string) (model.Round, error) {
	ctx, done, err := p.s.guard(ctx)
	if err != nil {
		return model.Round{}, err
	}
	defer done()
	r, rev, err := p.s.loadRound(ctx, id)
	if err != nil {
		return model.Round{}, err
	}
	return convert.RoundFromProto(r, rev), nil
}

// RoundWithCounts implements app.RoundStore.
func (p *AppStore) RoundWithCounts(ctx context.Context, id string) (model.Round, error) {
	ctx, done, err := p.s.guard(ctx)
	if err != nil {
		return model.Round{}, err
	}
	defer done()
	r, rev, err := p.s.loadRound(ctx, id)
	if err != nil {
		return model.Round{}, err
	}
	if r, err = p.s.withCounts(ctx, r); err != nil {
		return model.Round{}, err
	}
	return convert.RoundFromProto(r, rev), nil
}

// CreateRound implements app.RoundStore.
func (p *AppStore) CreateRound(ctx context.Context, r model.Round) (model.Round, error) {
	ctx, done, err := p.s.guard(ctx)
	if err != nil {
		return model.Round{}, err
	}
	defer done()
	created, err := p.s.CreateRound(ctx, convert.RoundToProto(r))
	if err != nil {
		return model.Round{}, err
	}
	return convert.RoundFromProto(created, 0), nil
}

// ListRounds implements app.RoundStore.
func (p *AppStore) ListRounds(ctx context.Context, keep func(model.Round) bool) ([]model.Round, error) {
	ctx, done, err := p.s.guard(ctx)
	if err != nil {
		return nil, err
	}
	defer done()
	rs, err := p.s.ListRounds(ctx, func(r *assessmentv1.Round) bool { return keep(convert.RoundFromProto(r, 0)) })
	if err != nil {
		return nil, err
	}
	out := make([]model.Round, len(rs))
	for i, r := range rs {
		out[i] = convert.RoundFromProto(r, 0)
	}
	return out, nil
}

// Transition implements app.RoundStore.
func (p *AppStore) Transition(ctx context.Context, id, reason string, apply func(model.Round) (model.Round, bool, error)) (model.Round, bool, error) {
	ctx, done, err := p.s.guard(ctx)
	if err != nil {
		return model.Round{}, false, err
	}
	defer done()
	r, changed, err := p.s.Transition(ctx, id, reason, func(cur *assessmentv1.Round) (*assessmentv1.Round, bool, error) {
		next, changed, err := apply(convert.RoundFromProto(cur, 0))
		if err != nil {
			return nil, false, err
		}
		return convert.RoundToProto(next), changed, nil
	})
	if err != nil {
		return model.Round{}, false, err
	}
	return convert.RoundFromProto(r, 0), changed, nil
}

// SavePublication implements app.RoundStore.
func (p *AppStore) SavePublication(ctx context.Context, pub app.PublishRound) error {
	ctx, done, err := p.s.guard(ctx)
	if err != nil {
		return err
	}
	defer done()
	return p.s.SavePublication(ctx, &assessmentv1.PublishRoundRequest{RoundId: pub.RoundID,
		Ceremony: convert.CeremonyToProto(pub.Ceremony), PresentedBy: convert.PresentedByToProto(pub.PresentedBy), ForceReason: pub.ForceReason})
}

// Publication implements app.RoundStore.
func (p *AppStore) Publication(ctx context.Context, roundID string) (*app.PublishRound, error) {
	ctx, done, err := p.s.guard(ctx)
	if err != nil {
		return nil, err
	}
	defer done()
	req, err := p.s.Publication(ctx, roundID)
	if err != nil || req == nil {
		return nil, err
	}
	return &app.PublishRound{RoundID: req.GetRoundId(), Ceremony: convert.CeremonyFromProto(req.GetCeremony()),
		PresentedBy: convert.PresentedByFromProto(req.GetPresentedBy()), ForceReason: req.GetForceReason()}, nil
}

// Announce implements app.RoundStore.
func (p *AppStore) Announce(ctx context.Context, r model.Round, awardCount int32) error {
	ctx, done, err := p.s.guard(ctx)
	if err != nil {
		return err
	}
	defer done()
	return p.s.Announce(ctx, convert.RoundToProto(r), awardCount)
}

// Announced implements app.RoundStore.
func (p *AppStore) Announced(ctx context.Context, r model.Round) (bool, error) {
	ctx, done, err := p.s.guard(ctx)
	if err != nil {
		return false, err
	}
	defer done()
	return p.s.Announced(ctx, convert.RoundToProto(r))
}

func subjectOf(key app.RecordKey) string {
	return events.AssessmentSubject(key.SchemeID, key.Year, key.InstitutionID)
}

// CachedRound implements app.RoundStore.
func (p *AppStore) CachedRound(ctx context.Context, id string) (model.Round, error) {
	if r, ok := p.s.roundCache.get(id); ok {
		return r, nil
	}
	ctx, done, err := p.s.guard(ctx)
	if err != nil {
		return model.Round{}, err
	}
	defer done()
	return p.s.cachedRound(ctx, id)
}

// Tip implements app.AssessmentStore. From the view, it costs nothing: the
// append's expected sequence checks it. The stream is read when fresh, for
// a retry of the latest revision (whether that revision counts is the
// stream's to say: a close's fence may have refused it since this replica
// kept it) and for a record decided on an earlier OPEN revision of the
// round (a fence of that revision may leave it out).
func (p *AppStore) Tip(ctx context.Context, key app.RecordKey, r model.Round, requestID string, fresh bool) (app.Tip, error) {
	if !fresh {
		sl, ok := p.s.view.assessment(r.ID, key.InstitutionID)
		switch {
		case !ok:
			return app.Tip{}, nil
		case sl.roundRevision != 0 && sl.roundRevision != r.Revision:
		case sl.request == p.s.view.requestHash(requestID):
		default:
			return app.Tip{Revision: sl.revision, Position: sl.seq, Synthetic: sl.synthetic}, nil
		}
	}
	ctx, done, err := p.s.guard(ctx)
	if err != nil {
		return app.Tip{}, err
	}
	defer done()
	st, seq, err := p.s.tip(ctx, subjectOf(key))
	if err != nil {
		return app.Tip{}, err
	}
	t := app.Tip{Revision: st.revision(), Position: seq, Synthetic: st != nil && st.ev.GetAssessment().GetSynthetic()}
	if st != nil && st.ev.GetAssessment().GetRequestId() == requestID {
		t.Same = st.model()
	}
	return t, nil
}

// models is the revisions as the application layer sees them, in order.
func models(got []*stored) []*model.Assessment {
	out := make([]*model.Assessment, len(got))
	for i, st := range got {
		out[i] = st.model()
	}
	return out
}

// model is the revision as the application layer sees it; nil for none.
func (st *stored) model() *model.Assessment {
	if st == nil {
		return nil
	}
	a := convert.AssessmentFromProto(st.ev.GetAssessment())
	if a != nil {
		a.RequestFingerprint = st.fingerprint
	}
	return a
}

// FindRequest implements app.AssessmentStore.
func (p *AppStore) FindRequest(ctx context.Context, key app.RecordKey, requestID string) (*model.Assessment, error) {
	ctx, done, err := p.s.guard(ctx)
	if err != nil {
		return nil, err
	}
	defer done()
	st, err := p.s.findRequest(ctx, subjectOf(key), requestID)
	return st.model(), err
}

// Append implements app.AssessmentStore.
func (p *AppStore) Append(ctx context.Context, req app.Append) (*model.Assessment, bool, error) {
	ctx, done, err := p.s.guard(ctx)
	if err != nil {
		return nil, false, err
	}
	defer done()
	ev, err := p.recorded(req)
	if err != nil {
		return nil, false, err
	}
	got, created, err := p.s.Append(ctx, ev, req.Assessment.RequestFingerprint, req.CorrectsRevision, req.Tip.Revision, req.Tip.Position, req.Fence.Revision)
	return got.model(), created, err
}

// recorded is the event of a revision to append: the record with what of
// its scheme version a consumer needs (peer groups, scale, band table).
func (p *AppStore) recorded(req app.Append) (*eventsv1.AssessmentRecorded, error) {
	a := convert.AssessmentToProto(&req.Assessment)
	v, err := p.catalog.Get(a.GetSchemeId(), a.GetSchemeVersion())
	if err != nil {
		return nil, fmt.Errorf("scheme of the record: %w", err)
	}
	kind := registryv1.InstitutionKind(req.Assessment.Institution.Kind)
	groups := v.PeerGroupsFor(kind)
	if r := req.Assessment.Rollup; r != nil {
		// A derived figure ranks on its roll-up's own board, never beside
		// figures assessed directly.
		g, ok := v.RollupGroup(r.RuleCode)
		if !ok {
			return nil, fmt.Errorf("roll-up %s is not a rule of %s", r.RuleCode, v)
		}
		groups = []*assessmentv1.PeerGroup{g}
	}
	return &eventsv1.AssessmentRecorded{Assessment: a, PeerGroups: groups, Scale: v.Proto().GetScale(), Bands: v.Bands()}, nil
}

// AppendBatch implements app.AssessmentStore.
func (p *AppStore) AppendBatch(ctx context.Context, reqs []app.Append, fence model.Round) ([]*model.Assessment, error) {
	ctx, done, err := p.s.guard(ctx)
	if err != nil {
		return nil, err
	}
	defer done()
	items := make([]BatchItem, len(reqs))
	for i, req := range reqs {
		ev, err := p.recorded(req)
		if err != nil {
			return nil, err
		}
		items[i] = BatchItem{Event: ev, Fingerprint: req.Assessment.RequestFingerprint, Current: req.Tip.Revision, Expect: req.Tip.Position}
	}
	got, err := p.s.AppendBatch(ctx, items, fence.Revision)
	if err != nil {
		return nil, err
	}
	return models(got), nil
}

// LatestIs implements app.AssessmentStore, from this replica's view.
func (p *AppStore) LatestIs(key app.RecordKey, roundID, requestID string) (uint64, bool) {
	sl, ok := p.s.view.assessment(roundID, key.InstitutionID)
	if !ok || sl.request != p.s.view.requestHash(requestID) {
		return 0, false
	}
	return sl.revision, true
}

// SurveyRecorded implements app.AssessmentStore, from this replica's view.
func (p *AppStore) SurveyRecorded(key app.RecordKey, roundID string) uint64 {
	sl, _ := p.s.view.assessment(roundID, key.InstitutionID)
	return sl.surveyPos
}

// Assessment implements app.AssessmentStore.
func (p *AppStore) Assessment(ctx context.Context, key app.RecordKey, roundID string, revision uint64) (*model.Assessment, error) {
	ctx, done, err := p.s.guard(ctx)
	if err != nil {
		return nil, err
	}
	defer done()
	a, err := p.s.Assessment(ctx, key.SchemeID, key.Year, roundID, key.InstitutionID, revision)
	return convert.AssessmentFromProto(a), err
}

// Revisions implements app.AssessmentStore.
func (p *AppStore) Revisions(ctx context.Context, key app.RecordKey, after uint64, limit int) ([]*model.Assessment, bool, error) {
	ctx, done, err := p.s.guard(ctx)
	if err != nil {
		return nil, false, err
	}
	defer done()
	page, more, err := p.s.Revisions(ctx, key.SchemeID, key.Year, key.InstitutionID, after, limit)
	return convert.AssessmentsFromProto(page), more, err
}

// Records implements app.AssessmentStore: the view picks the page, the
// stream has the records.
func (p *AppStore) Records(ctx context.Context, roundID, after string, limit int, f app.RecordFilter) ([]*model.Assessment, bool, error) {
	page, more := p.s.view.page(roundID, after, limit, func(kind int32, province, band string, basis uint8) bool {
		return f.Keep(model.Kind(kind), province, band, model.Basis(basis))
	})
	ctx, done, err := p.s.guard(ctx)
	if err != nil {
		return nil, false, err
	}
	defer done()
	seqs := make([]uint64, len(page))
	for i, pl := range page {
		seqs[i] = pl.seq
	}
	got, err := p.s.loadAll(ctx, seqs)
	if err != nil {
		return nil, false, err
	}
	return models(got), more, nil
}

// History implements app.AssessmentStore.
func (p *AppStore) History(ctx context.Context, institutionID string) ([]*model.Assessment, error) {
	latest := p.s.view.history(institutionID)
	ctx, done, err := p.s.guard(ctx)
	if err != nil {
		return nil, err
	}
	defer done()
	seqs := make([]uint64, 0, len(latest))
	for _, sl := range latest {
		seqs = append(seqs, sl.seq)
	}
	got, err := p.s.loadAll(ctx, seqs)
	if err != nil {
		return nil, err
	}
	return models(got), nil
}

// Frozen implements app.AssessmentStore.
func (p *AppStore) Frozen(ctx context.Context, r model.Round) ([]*model.Assessment, error) {
	ctx, done, err := p.s.guard(ctx)
	if err != nil {
		return nil, err
	}
	defer done()
	recs, err := p.s.Frozen(ctx, convert.RoundToProto(r))
	return convert.AssessmentsFromProto(recs), err
}

// PublishCorrected implements app.AssessmentStore.
func (p *AppStore) PublishCorrected(ctx context.Context, c app.Correction) error {
	ctx, done, err := p.s.guard(ctx)
	if err != nil {
		return err
	}
	defer done()
	prev, cur := convert.AssessmentToProto(c.Previous), convert.AssessmentToProto(c.Current)
	return p.s.PublishCorrected(ctx, &eventsv1.RoundCorrected{
		EventId: c.EventID, RoundId: c.Round.ID, SchemeId: cur.GetSchemeId(), Year: cur.GetYear(), InstitutionId: c.InstitutionID,
		PreviousRevision: prev.GetRevision(), Revision: cur.GetRevision(), PreviousTotal: prev.GetTotal(), Total: cur.GetTotal(),
		PreviousBandCode: prev.GetBandCode(), BandCode: cur.GetBandCode(), Reason: c.Reason, CorrectedBy: c.CorrectedBy,
		AwardsGranted: c.AwardsGranted, AwardsRevoked: c.AwardsRevoked,
	})
}

// Grant implements app.AwardStore.
func (p *AppStore) Grant(ctx context.Context, a model.Award) (*model.Award, bool, error) {
	ctx, done, err := p.s.guard(ctx)
	if err != nil {
		return nil, false, err
	}
	defer done()
	got, created, err := p.s.Grant(ctx, convert.AwardToProto(&a), a.RequestFingerprint)
	return got.model(), created, err
}

// model is the award as the application layer sees it; nil for none.
func (g Granted) model() *model.Award {
	a := convert.AwardFromProto(g.Award)
	if a != nil {
		a.RequestFingerprint = g.Fingerprint
	}
	return a
}

// Revoke implements app.AwardStore.
func (p *AppStore) Revoke(ctx context.Context, id, reason, actor string) (*model.Award, error) {
	ctx, done, err := p.s.guard(ctx)
	if err != nil {
		return nil, err
	}
	defer done()
	a, err := p.s.Revoke(ctx, id, reason, actor)
	return convert.AwardFromProto(a), err
}

// SyncAwards implements app.AwardStore.
func (p *AppStore) SyncAwards(ctx context.Context) error {
	ctx, done, err := p.s.guard(ctx)
	if err != nil {
		return err
	}
	defer done()
	return p.s.SyncAwards(ctx)
}

// Award implements app.AwardStore.
func (p *AppStore) Award(id string) (*model.Award, error) {
	g, err := p.s.granted(id)
	return g.model(), err
}

// Awards implements app.AwardStore.
func (p *AppStore) Awards(after string, limit int, keep func(*model.Award) bool) ([]*model.Award, bool) {
	page, more := p.s.Awards(after, limit, func(a *assessmentv1.Award) bool { return keep(convert.AwardFromProto(a)) })
	out := make([]*model.Award, len(page))
	for i, a := range page {
		out[i] = convert.AwardFromProto(a)
	}
	return out, more
}

// RegisterScheme stores a scheme version registered at run time.
func (p *AppStore) RegisterScheme(ctx context.Context, v *scheme.Version) (bool, error) {
	return p.s.RegisterScheme(ctx, v.Proto())
}
