package app

import (
	"context"
	"github.com/predikat-id/predikat/services/assessment/internal/scheme"
	"sort"
	"sync"
	"time"

	"github.com/predikat-id/predikat/pkg/platform/fault"
	"github.com/predikat-id/predikat/services/assessment/internal/certificate"
	"github.com/predikat-id/predikat/services/assessment/internal/model"
	"github.com/predikat-id/predikat/services/assessment/internal/objection"
)

// fakeStore keeps everything in memory: the app's own Store port, so the
// use cases are tested without storage.
type fakeStore struct {
	mu      sync.Mutex
	schemes map[string]*scheme.Version
	rounds  map[string]model.Round
	// publications and announced (award counts) by round id.
	publications map[string]PublishRound
	announced    map[string]int32
	records      map[RecordKey][]*model.Assessment
	awards       map[string]*model.Award
	corrected    []Correction
	objections   map[string][]model.Objection // by id: every stored state
	appends      int
	// beforeAppend runs inside Append before the fence is checked: a round
	// changing while the caller computed.
	beforeAppend func()
	// ceremonies by id, and how many times each hold was announced.
	ceremonies map[string]model.AwardCeremony
	announces  map[string]int
}

func newFakeStore() *fakeStore {
	return &fakeStore{rounds: map[string]model.Round{}, records: map[RecordKey][]*model.Assessment{}, awards: map[string]*model.Award{}}
}

func (f *fakeStore) put(r model.Round) {
	f.mu.Lock()
	defer f.mu.Unlock()
	r.Revision = f.rounds[r.ID].Revision + 1
	f.rounds[r.ID] = r
}

func (f *fakeStore) Round(_ context.Context, id string) (model.Round, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	r, ok := f.rounds[id]
	if !ok {
		return model.Round{}, fault.NotFoundf("round %s does not exist", id)
	}
	return r, nil
}

// CachedRound is the round as stored: the fake has no replica to lag.
func (f *fakeStore) CachedRound(ctx context.Context, id string) (model.Round, error) {
	return f.Round(ctx, id)
}

func (f *fakeStore) RoundWithCounts(ctx context.Context, id string) (model.Round, error) {
	return f.Round(ctx, id)
}

func (f *fakeStore) CreateRound(_ context.Context, r model.Round) (model.Round, error) {
	r.State = model.RoundOpen
	f.put(r)
	return r, nil
}

func (f *fakeStore) ListRounds(_ context.Context, keep func(model.Round) bool) ([]model.Round, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []model.Round
	for _, r := range f.rounds {
		if keep(r) {
			out = append(out, r)
		}
	}
	return out, nil
}

func (f *fakeStore) Transition(ctx context.Context, id, _ string, apply func(model.Round) (model.Round, bool, error)) (model.Round, bool, error) {
	cur, err := f.Round(ctx, id)
	if err != nil {
		return model.Round{}, false, err
	}
	next, changed, err := apply(cur)
	if err != nil || !changed {
		return next, false, err
	}
	f.put(next)
	return next, true, nil
}

func (f *fakeStore) SavePublication(_ context.Context, p PublishRound) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.publications == nil {
		f.publications = map[string]PublishRound{}
	}
	f.publications[p.RoundID] = p
	return nil
}

func (f *fakeStore) Publication(_ context.Context, roundID string) (*PublishRound, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if p, ok := f.publications[roundID]; ok {
		return &p, nil
	}
	return nil, nil
}

func (f *fakeStore) Announce(_ context.Context, r model.Round, awardCount int32) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.announced == nil {
		f.announced = map[string]int32{}
	}
	if _, ok := f.announced[r.ID]; !ok {
		f.announced[r.ID] = awardCount
	}
	return nil
}

func (f *fakeStore) Announced(_ context.Context, r model.Round) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	_, ok := f.announced[r.ID]
	return ok, nil
}

func (f *fakeStore) Tip(_ context.Context, key RecordKey, _ model.Round, requestID string, _ bool) (Tip, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	revs := f.records[key]
	if len(revs) == 0 {
		return Tip{}, nil
	}
	latest := revs[len(revs)-1]
	t := Tip{Revision: latest.Revision, Position: uint64(len(revs)), Synthetic: latest.Synthetic}
	if latest.RequestID == requestID {
		t.Same = latest
	}
	return t, nil
}

func (f *fakeStore) FindRequest(_ context.Context, key RecordKey, requestID string) (*model.Assessment, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, a := range f.records[key] {
		if a.RequestID == requestID {
			return a, nil
		}
	}
	return nil, nil
}

func (f *fakeStore) Append(_ context.Context, req Append) (*model.Assessment, bool, error) {
	if f.beforeAppend != nil {
		f.beforeAppend()
		f.beforeAppend = nil
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	a := req.Assessment
	key := RecordKey{SchemeID: a.SchemeID, Year: a.Year, InstitutionID: a.InstitutionID}
	revs := f.records[key]
	if uint64(len(revs)) != req.Tip.Position || f.rounds[a.RoundID].Revision != req.Fence.Revision {
		return nil, false, ErrRoundMoved
	}
	if uint64(len(revs)) != req.CorrectsRevision {
		return nil, false, fault.Conflictf("stale")
	}
	f.appends++
	a.Revision = uint64(len(revs)) + 1
	a.RecordTime = time.Unix(int64(a.Revision), 0)
	f.records[key] = append(revs, &a)
	return &a, true, nil
}

func (f *fakeStore) Assessment(_ context.Context, key RecordKey, _ string, revision uint64) (*model.Assessment, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	revs := f.records[key]
	if revision == 0 && len(revs) > 0 {
		return revs[len(revs)-1], nil
	}
	if revision > 0 && revision <= uint64(len(revs)) {
		return revs[revision-1], nil
	}
	return nil, fault.NotFoundf("no record")
}

func (f *fakeStore) LatestIs(key RecordKey, roundID, requestID string) (uint64, bool) {
	a, err := f.Assessment(context.Background(), key, roundID, 0)
	if err != nil || a.RequestID != requestID {
		return 0, false
	}
	return a.Revision, true
}

func (f *fakeStore) SurveyRecorded(key RecordKey, roundID string) uint64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	var best uint64
	for _, a := range f.records[key] {
		if p, ok := surveyPosition(a); ok && a.RoundID == roundID {
			best = max(best, p)
		}
	}
	return best
}

func (f *fakeStore) Revisions(_ context.Context, key RecordKey, after uint64, limit int) ([]*model.Assessment, bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []*model.Assessment
	for _, a := range f.records[key] {
		if a.Revision <= after {
			continue
		}
		if len(out) == limit {
			return out, true, nil
		}
		out = append(out, a)
	}
	return out, false, nil
}

func (f *fakeStore) Records(_ context.Context, roundID, after string, limit int, flt RecordFilter) ([]*model.Assessment, bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var all []*model.Assessment
	for _, revs := range f.records {
		a := revs[len(revs)-1]
		if a.RoundID == roundID && a.InstitutionID > after && flt.Keep(a.Institution.Kind, a.Institution.ProvinceCode, a.BandCode, a.Basis) {
			all = append(all, a)
		}
	}
	sort.Slice(all, func(i, j int) bool { return all[i].InstitutionID < all[j].InstitutionID })
	if len(all) > limit {
		return all[:limit], true, nil
	}
	return all, false, nil
}

// History is every institution's latest record in each round it has one.
func (f *fakeStore) History(_ context.Context, institutionID string) ([]*model.Assessment, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []*model.Assessment
	for key, revs := range f.records {
		if key.InstitutionID == institutionID && len(revs) > 0 {
			out = append(out, revs[len(revs)-1])
		}
	}
	return out, nil
}

func (f *fakeStore) Frozen(_ context.Context, r model.Round) ([]*model.Assessment, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []*model.Assessment
	for key, revs := range f.records {
		if key.SchemeID == r.SchemeID && key.Year == r.Year {
			out = append(out, revs[len(revs)-1])
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].InstitutionID < out[j].InstitutionID })
	return out, nil
}

func (f *fakeStore) PublishCorrected(_ context.Context, c Correction) error {
	f.corrected = append(f.corrected, c)
	return nil
}

func (f *fakeStore) GrantAll(ctx context.Context, awards []model.Award, each func(*model.Award, bool) error) error {
	for _, a := range awards {
		got, created, err := f.Grant(ctx, a)
		if err != nil {
			return err
		}
		if err := each(got, created); err != nil {
			return err
		}
	}
	return nil
}

func (f *fakeStore) Grant(_ context.Context, a model.Award) (*model.Award, bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if cur, ok := f.awards[a.ID]; ok {
		return cur, false, nil
	}
	a.State = model.AwardGranted
	f.awards[a.ID] = &a
	return &a, true, nil
}

func (f *fakeStore) Revoke(_ context.Context, id, reason, actor string) (*model.Award, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	cur, ok := f.awards[id]
	if !ok {
		return nil, fault.NotFoundf("award %s does not exist", id)
	}
	if cur.State == model.AwardRevoked {
		return cur, nil
	}
	next := *cur
	next.State, next.RevokeReason, next.RevokedBy = model.AwardRevoked, reason, actor
	f.awards[id] = &next
	return &next, nil
}

func (f *fakeStore) SyncAwards(context.Context) error { return nil }

func (f *fakeStore) Award(id string) (*model.Award, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if a, ok := f.awards[id]; ok {
		return a, nil
	}
	return nil, fault.NotFoundf("award %s does not exist", id)
}

func (f *fakeStore) Awards(after string, limit int, keep func(*model.Award) bool) ([]*model.Award, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []*model.Award
	for id, a := range f.awards {
		if id > after && keep(a) {
			out = append(out, a)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	if len(out) > limit {
		return out[:limit], true
	}
	return out, false
}

// fakeRegistry knows a few institutions and regions.
type fakeRegistry struct {
	institutions map[string]model.Institution
	lookups      int
}

func (f *fakeRegistry) Institution(_ context.Context, id string) (model.Institution, error) {
	f.lookups++
	in, ok := f.institutions[id]
	if !ok {
		return model.Institution{}, fault.NotFoundf("institution %s does not exist", id)
	}
	return in, nil
}

func (f *fakeRegistry) Region(_ context.Context, code string) (model.Region, error) {
	switch code {
	case "00":
		return model.Region{Code: "00", Name: "Nasional"}, nil
	case "63":
		return model.Region{Code: "63", Name: "Kalimantan Selatan"}, nil
	case "63.03":
		return model.Region{Code: "63.03", Name: "Kabupaten Banjar", ProvinceCode: "63"}, nil
	}
	return model.Region{}, fault.NotFoundf("region %s does not exist", code)
}

type fixedClock struct{ t time.Time }

func (c fixedClock) Now() time.Time { return c.t }

func (f *fakeStore) RegisterScheme(_ context.Context, v *scheme.Version) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.schemes == nil {
		f.schemes = map[string]*scheme.Version{}
	}
	key := v.ID() + "." + v.Label()
	if _, ok := f.schemes[key]; ok {
		return false, nil
	}
	f.schemes[key] = v
	return true, nil
}

// AppendBatch appends in order; the fake has no partial failure to undo.
func (f *fakeStore) AppendBatch(ctx context.Context, as []Append, fence model.Round) ([]*model.Assessment, error) {
	out := make([]*model.Assessment, len(as))
	for i, a := range as {
		a.Fence = fence
		got, _, err := f.Append(ctx, a)
		if err != nil {
			return nil, err
		}
		out[i] = got
	}
	return out, nil
}

func (f *fakeStore) FileObjection(_ context.Context, o model.Objection) (model.Objection, bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.objections == nil {
		f.objections = map[string][]model.Objection{}
	}
	if h := f.objections[o.ID]; len(h) > 0 {
		return h[len(h)-1], false, nil
	}
	o.Position = 1
	f.objections[o.ID] = []model.Objection{o}
	return o, true, nil
}

func (f *fakeStore) DecideObjection(_ context.Context, o model.Objection) (model.Objection, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	h := f.objections[o.ID]
	if uint64(len(h)) != o.Position {
		return model.Objection{}, fault.Preconditionf("decided meanwhile")
	}
	o.Position++
	f.objections[o.ID] = append(h, o)
	return o, nil
}

func (f *fakeStore) Objection(_ context.Context, r model.Round, institutionID, id string) (*model.Objection, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	h := f.objections[id]
	if len(h) == 0 || h[0].RoundID != r.ID || h[0].InstitutionID != institutionID {
		return nil, nil
	}
	o := h[len(h)-1]
	return &o, nil
}

func (f *fakeStore) Objections(_ context.Context, r model.Round, institutionID string) ([]model.Objection, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []model.Objection
	for _, h := range f.objections {
		o := h[len(h)-1]
		if o.RoundID == r.ID && (institutionID == "" || o.InstitutionID == institutionID) {
			out = append(out, o)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

func (f *fakeStore) CatchUp(context.Context, model.Round) error { return nil }

func (f *fakeStore) RoundProvinces(_ context.Context, r model.Round) ([]string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	seen := map[string]bool{}
	var out []string
	for key, revs := range f.records {
		p := revs[len(revs)-1].Institution.ProvinceCode
		if key.SchemeID == r.SchemeID && key.Year == r.Year && !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	sort.Strings(out)
	return out, nil
}

// dayWindows is a window of whole days after the close, ending at the
// close's UTC midnight plus days, shifted by the hours of a province's
// zone as the calendar would (the calendar itself is tested on its own).
type dayWindows struct{}

func (dayWindows) Window(close time.Time, province string, days int32) (objection.Window, error) {
	offset := map[string]int{"63": 8, "91": 9}[province]
	if offset == 0 {
		offset = 7
	}
	zone := time.FixedZone("Z", offset*3600)
	local := close.In(zone)
	end := time.Date(local.Year(), local.Month(), local.Day()+int(days)+1, 0, 0, 0, 0, zone)
	return objection.Window{End: end, Local: end.Format("2006-01-02 15:04 MST")}, nil
}

// movingClock is a clock a test moves.
type movingClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *movingClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *movingClock) set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

func (f *fakeStore) CreateCeremony(_ context.Context, c model.AwardCeremony) (model.AwardCeremony, bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.ceremonies == nil {
		f.ceremonies = map[string]model.AwardCeremony{}
	}
	if cur, ok := f.ceremonies[c.ID]; ok {
		return cur, false, nil
	}
	c.Revision = 1
	f.ceremonies[c.ID] = c
	return c, true, nil
}

func (f *fakeStore) HoldCeremony(ctx context.Context, c model.AwardCeremony) (model.AwardCeremony, error) {
	f.mu.Lock()
	cur, ok := f.ceremonies[c.ID]
	if !ok || cur.Revision != c.Revision {
		f.mu.Unlock()
		return model.AwardCeremony{}, fault.Conflictf("ceremony %s moved", c.ID)
	}
	c.Revision++
	f.ceremonies[c.ID] = c
	f.mu.Unlock()
	return c, f.AnnounceHeld(ctx, c)
}

func (f *fakeStore) AnnounceHeld(_ context.Context, c model.AwardCeremony) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.announces == nil {
		f.announces = map[string]int{}
	}
	f.announces[c.ID]++
	return nil
}

func (f *fakeStore) Ceremony(_ context.Context, id string) (*model.AwardCeremony, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c, ok := f.ceremonies[id]
	if !ok {
		return nil, nil
	}
	return &c, nil
}

func (f *fakeStore) Ceremonies(context.Context) ([]model.AwardCeremony, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []model.AwardCeremony
	for _, c := range f.ceremonies {
		out = append(out, c)
	}
	return out, nil
}

func (f *fakeStore) CeremonyOfAward(_ context.Context, awardID string) (*model.AwardCeremony, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, c := range f.ceremonies {
		for _, a := range c.Awards {
			if c.State == model.CeremonyHeld && a.AwardID == awardID {
				return &c, nil
			}
		}
	}
	return nil, nil
}

func (f *fakeStore) AwardByCode(code string) (*model.Award, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, a := range f.awards {
		if certificate.Code(a.ID) == code {
			return a, nil
		}
	}
	return nil, fault.NotFoundf("no award has the verification code %s", code)
}
