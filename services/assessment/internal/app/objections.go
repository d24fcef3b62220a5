package app

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/predikat-id/predikat/pkg/platform/fault"
	"github.com/predikat-id/predikat/services/assessment/internal/model"
	"github.com/predikat-id/predikat/services/assessment/internal/objection"
	"github.com/predikat-id/predikat/services/assessment/internal/round"
	"github.com/predikat-id/predikat/services/assessment/internal/scheme"
)

// ObjectionStore keeps objections: each on its own subject, filed first
// and decided last.
type ObjectionStore interface {
	// FileObjection stores o as filed, once per id: when the id is taken
	// it returns the stored objection with created false.
	FileObjection(ctx context.Context, o model.Objection) (stored model.Objection, created bool, err error)
	// DecideObjection stores o's decision, expecting its filing still the
	// last message of its subject (o.Position): fault.Conflict when it is
	// not (decided meanwhile).
	DecideObjection(ctx context.Context, o model.Objection) (model.Objection, error)
	// Objection returns one objection as stored; nil when none.
	Objection(ctx context.Context, r model.Round, institutionID, id string) (*model.Objection, error)
	// Objections lists a round's objections, or one institution's
	// (institutionID non-empty), by institution then file time.
	Objections(ctx context.Context, r model.Round, institutionID string) ([]model.Objection, error)
	// RoundProvinces lists the province codes of a round's records as of
	// the call ("00" for national bodies).
	RoundProvinces(ctx context.Context, r model.Round) ([]string, error)
}

// Windows tells an institution's objection window: days working days after
// the close, in the time zone of its province.
type Windows interface {
	Window(close time.Time, provinceCode string, days int32) (objection.Window, error)
}

// FileObjection is an institution's objection to its provisional result.
type FileObjection struct {
	RoundID, InstitutionID string
	AgainstRevision        uint64
	Reasons                string
	Evidence               []string
	RequestID, By          string
}

func (c FileObjection) checkText() error {
	fs := []field{{"reasons", c.Reasons}}
	for i, e := range c.Evidence {
		fs = append(fs, field{fmt.Sprintf("evidence[%d]", i), e})
	}
	return checkFree(fs...)
}

func (c FileObjection) fingerprint() string {
	d := newDigest("FileObjection")
	d.add("round_id", c.RoundID)
	d.add("institution_id", c.InstitutionID)
	d.add("against_revision", strconv.FormatUint(c.AgainstRevision, 10))
	d.add("reasons", c.Reasons)
	d.add("evidence", c.Evidence...)
	return d.sum()
}

// FiledObjection is the objection and whether this call filed it.
type FiledObjection struct {
	Objection model.Objection
	Created   bool
}

// FileObjectionHandler is the FileObjection use case.
type FileObjectionHandler struct {
	catalog *scheme.Catalog
	store   Store
	windows Windows
	clock   Clock
}

// Handle files cmd.
func (h FileObjectionHandler) Handle(ctx context.Context, cmd FileObjection) (FiledObjection, error) {
	if err := cmd.checkText(); err != nil {
		return FiledObjection{}, err
	}
	fp := cmd.fingerprint()
	r, err := h.store.Round(ctx, cmd.RoundID)
	if err != nil {
		return FiledObjection{}, err
	}
	id := objection.ID(cmd.RoundID, cmd.InstitutionID, cmd.RequestID)
	// A retry gets its first answer, whatever happened to the round since.
	if done, err := h.store.Objection(ctx, r, cmd.InstitutionID, id); err != nil || done != nil {
		if err != nil {
			return FiledObjection{}, err
		}
		return h.replay(*done, cmd.RequestID, fp)
	}
	o, err := h.compose(ctx, r, cmd)
	if err != nil {
		return FiledObjection{}, err
	}
	o.ID, o.FileRequestID, o.FileFingerprint = id, cmd.RequestID, fp
	stored, created, err := h.store.FileObjection(ctx, o)
	if err != nil {
		return FiledObjection{}, err
	}
	if !created {
		return h.replay(stored, cmd.RequestID, fp)
	}
	return FiledObjection{Objection: stored, Created: true}, nil
}

func (h FileObjectionHandler) replay(o model.Objection, requestID, fp string) (FiledObjection, error) {
	if err := sameRequest(requestID, o.FileFingerprint, fp); err != nil {
		return FiledObjection{}, err
	}
	return FiledObjection{Objection: o}, nil
}

// compose checks the filing against the round, the window and the record,
// and describes the objection to store.
func (h FileObjectionHandler) compose(ctx context.Context, r model.Round, cmd FileObjection) (model.Objection, error) {
	v, err := h.catalog.Get(r.SchemeID, r.SchemeVersion)
	if err != nil {
		return model.Objection{}, err
	}
	days := v.ObjectionWindowDays()
	if err := objection.CheckFileable(r, days, objection.Window{End: farFuture}, time.Time{}, cmd.InstitutionID); err != nil {
		return model.Objection{}, err
	}
	key := RecordKey{SchemeID: r.SchemeID, Year: r.Year, InstitutionID: cmd.InstitutionID}
	latest, err := h.store.Assessment(ctx, key, r.ID, 0)
	if err != nil && !fault.Is(err, fault.NotFound) {
		return model.Objection{}, err
	}
	against, err := objection.CheckAgainst(cmd.AgainstRevision, latest, r.ID, cmd.InstitutionID)
	if err != nil {
		return model.Objection{}, err
	}
	if latest.Basis == model.BasisDerived {
		return model.Objection{}, fault.Preconditionf("the figure of %s in round %s is derived from its units (roll-up %s): object to a unit's result instead",
			cmd.InstitutionID, r.ID, latest.Rollup.RuleCode)
	}
	w, err := h.windows.Window(r.CloseTime, latest.Institution.ProvinceCode, days)
	if err != nil {
		return model.Objection{}, err
	}
	now := h.clock.Now()
	if err := objection.CheckFileable(r, days, w, now, cmd.InstitutionID); err != nil {
		return model.Objection{}, err
	}
	return model.Objection{
		RoundID: r.ID, SchemeID: r.SchemeID, Year: r.Year, InstitutionID: cmd.InstitutionID,
		InstitutionName: latest.Institution.Name, AgainstRevision: against,
		AgainstTotal: latest.Total, AgainstBandCode: latest.BandCode,
		Reasons: cmd.Reasons, Evidence: slices.Clone(cmd.Evidence), State: model.ObjectionOpen,
		FiledBy: cmd.By, FileTime: now, WindowEnd: w.End, WindowEndLocal: w.Local,
	}, nil
}

// farFuture stands for a window not yet computed: the state and version
// checks come first, so a round in the wrong state is told so without a
// record lookup.
var farFuture = time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)

// DecideObjection accepts or rejects an objection; an acceptance carries
// the corrected figures.
type DecideObjection struct {
	RoundID, InstitutionID, ObjectionID string
	Decision                            model.ObjectionState
	Reasons                             string
	Input                               *model.Input
	RequestID, By                       string
}

func (c DecideObjection) checkText() error {
	fs := []field{{"reasons", c.Reasons}}
	if c.Input != nil {
		fs = append(fs, field{"input.notes", c.Input.Notes})
		for i, a := range c.Input.Adjustments {
			fs = append(fs, field{fmt.Sprintf("input.adjustments[%d].reason", i), a.Reason})
		}
		fs = append(fs, sourceFields("input.source", c.Input.Source)...)
	}
	return checkFree(fs...)
}

func (c DecideObjection) fingerprint() string {
	d := newDigest("DecideObjection")
	d.add("round_id", c.RoundID)
	d.add("institution_id", c.InstitutionID)
	d.add("objection_id", c.ObjectionID)
	d.num("decision", int64(c.Decision))
	d.add("reasons", c.Reasons)
	if c.Input != nil {
		// The input's own digest, as a record's request would have it.
		d.add("input", RecordAssessment{Input: *c.Input}.fingerprint(false))
	}
	return d.sum()
}

// DecidedObjection is the decided objection and, for an acceptance, the
// revision that corrected the record.
type DecidedObjection struct {
	Objection  model.Objection
	Correction *model.Assessment
}

// DecideObjectionHandler is the DecideObjection use case.
type DecideObjectionHandler struct {
	store   Store
	clock   Clock
	rec     recorder
	correct CorrectAssessmentHandler
}

// Handle decides. An acceptance first corrects the record (its request id
// is the objection's, so a retry stores it once), then stores the decision;
// a call cut short in between is finished by sending it again.
func (h DecideObjectionHandler) Handle(ctx context.Context, cmd DecideObjection) (DecidedObjection, error) {
	if err := cmd.checkText(); err != nil {
		return DecidedObjection{}, err
	}
	if (cmd.Decision == model.ObjectionAccepted) != (cmd.Input != nil) {
		return DecidedObjection{}, fault.Invalidf("input (the corrected figures) is required to accept an objection and not allowed to reject one")
	}
	fp := cmd.fingerprint()
	r, err := h.store.Round(ctx, cmd.RoundID)
	if err != nil {
		return DecidedObjection{}, err
	}
	o, err := h.store.Objection(ctx, r, cmd.InstitutionID, cmd.ObjectionID)
	if err != nil {
		return DecidedObjection{}, err
	}
	if o == nil {
		return DecidedObjection{}, fault.NotFoundf("no objection %s of %s in round %s", cmd.ObjectionID, cmd.InstitutionID, cmd.RoundID)
	}
	if o.State != model.ObjectionOpen && o.DecideRequestID == cmd.RequestID {
		// The same decision sent again: its first answer, after finishing
		// an acceptance whose correction a stop cut short.
		if err := sameRequest(o.DecideRequestID, o.DecideFingerprint, fp); err != nil {
			return DecidedObjection{}, err
		}
		return h.finish(ctx, *o, cmd)
	}
	key := RecordKey{SchemeID: r.SchemeID, Year: r.Year, InstitutionID: o.InstitutionID}
	revs, err := h.allRevisions(ctx, key)
	if err != nil {
		return DecidedObjection{}, err
	}
	if err := objection.CheckDecidable(*o, cmd.By, revs); err != nil {
		return DecidedObjection{}, err
	}
	// An acceptance's correction is checked before the decision is stored:
	// figures out of scale, a retired institution, an unknown note would
	// otherwise leave an acceptance that can never be completed.
	if cmd.Decision == model.ObjectionAccepted {
		rec := h.correction(r, *o, cmd, latestRevision(revs))
		if _, err := h.rec.compose(ctx, r, rec, r.State == model.RoundPublished, Tip{}); err != nil {
			return DecidedObjection{}, err
		}
	}
	// The decision is stored first, expecting the filing still last: of two
	// reviewers exactly one decides, and only the decision's own request
	// may then store an acceptance's correction.
	next := objection.Decide(*o, cmd.Decision, cmd.By, cmd.Reasons, h.clock.Now(), nil)
	next.DecideRequestID, next.DecideFingerprint = cmd.RequestID, fp
	stored, err := h.store.DecideObjection(ctx, next)
	if err != nil {
		return DecidedObjection{}, err
	}
	// Stored by a concurrent call under the same request id: only the same
	// request is answered with it.
	if err := sameRequest(stored.DecideRequestID, stored.DecideFingerprint, fp); err != nil {
		return DecidedObjection{}, err
	}
	return h.finish(ctx, stored, cmd)
}

// correction is the record an acceptance stores.
func (h DecideObjectionHandler) correction(r model.Round, o model.Objection, cmd DecideObjection, corrects uint64) RecordAssessment {
	return RecordAssessment{
		RoundID: r.ID, InstitutionID: o.InstitutionID, Input: *cmd.Input,
		CorrectsRevision: corrects, Reason: objection.CorrectionReason(o, cmd.Reasons),
		RequestID: objection.CorrectionRequestID(o.ID), By: cmd.By, ObjectionID: o.ID,
	}
}

// finish completes a stored decision: an acceptance's correction (stored
// once: its request id is the objection's), then the objection completed
// with the correction's revision. A rejection, or a completed acceptance,
// is answered as stored.
func (h DecideObjectionHandler) finish(ctx context.Context, o model.Objection, cmd DecideObjection) (DecidedObjection, error) {
	r, err := h.store.Round(ctx, o.RoundID)
	if err != nil {
		return DecidedObjection{}, err
	}
	key := RecordKey{SchemeID: r.SchemeID, Year: r.Year, InstitutionID: o.InstitutionID}
	if o.State != model.ObjectionAccepted || o.CorrectionRevision != 0 {
		out := DecidedObjection{Objection: o}
		if o.CorrectionRevision != 0 {
			if out.Correction, err = h.store.Assessment(ctx, key, r.ID, o.CorrectionRevision); err != nil {
				return DecidedObjection{}, err
			}
		}
		return out, nil
	}
	correction, err := h.correctRecord(ctx, r, o, cmd)
	if err != nil {
		return DecidedObjection{}, err
	}
	done := objection.Complete(o, correction)
	stored, err := h.store.DecideObjection(ctx, done)
	if err != nil {
		return DecidedObjection{}, err
	}
	return DecidedObjection{Objection: stored, Correction: correction}, nil
}

// correctRecord stores the accepted objection's correction: a revision of
// the round's record while it is not published, a published correction
// (awards brought in line, RoundCorrected) once it is; then the roll-ups
// it counts in follow.
func (h DecideObjectionHandler) correctRecord(ctx context.Context, r model.Round, o model.Objection, cmd DecideObjection) (*model.Assessment, error) {
	key := RecordKey{SchemeID: r.SchemeID, Year: r.Year, InstitutionID: o.InstitutionID}
	revs, err := h.allRevisions(ctx, key)
	if err != nil {
		return nil, err
	}
	rec := h.correction(r, o, cmd, latestRevision(revs))
	// Stored before a stop: an unpublished round's correction is done; a
	// published one goes through again, which replays it and finishes its
	// awards.
	published := ""
	for _, a := range revs {
		if a.ObjectionID != o.ID {
			continue
		}
		if !a.AfterPublication {
			return a, h.rec.afterWrite(ctx, r.ID, []*model.Assessment{a}, cmd.By)
		}
		rec.CorrectsRevision, published = a.Revision-1, a.RequestID
	}
	if r.State != model.RoundPublished {
		a, _, err := h.rec.record(ctx, rec, round.CheckUnpublished, false)
		if err == nil {
			return a, h.rec.afterWrite(ctx, r.ID, []*model.Assessment{a}, cmd.By)
		}
		if !fault.Is(err, fault.Precondition) {
			return nil, err
		}
		// Published (forced) since the round was read: correct the
		// published round instead.
		now, rerr := h.store.Round(ctx, r.ID)
		if rerr != nil {
			return nil, rerr
		}
		if now.State != model.RoundPublished {
			return nil, err
		}
	}
	// A published correction has a request id of its own: the message of
	// one refused by the publication's fence must not be found again.
	rec.RequestID = objection.CorrectionRequestID(o.ID) + ":published"
	if published != "" {
		rec.RequestID = published // as a retry stored it
	}
	c, err := h.correct.Handle(ctx, rec)
	return c.Assessment, err
}

func latestRevision(revs []*model.Assessment) uint64 {
	var n uint64
	for _, a := range revs {
		n = max(n, a.Revision)
	}
	return n
}

// allRevisions reads every revision of a record, oldest first.
func (h DecideObjectionHandler) allRevisions(ctx context.Context, key RecordKey) ([]*model.Assessment, error) {
	var out []*model.Assessment
	var after uint64
	for {
		page, more, err := h.store.Revisions(ctx, key, after, 500)
		if err != nil {
			return nil, err
		}
		out = append(out, page...)
		if !more || len(page) == 0 {
			return out, nil
		}
		after = page[len(page)-1].Revision
	}
}

// ObjectionQuery lists a round's objections; zero fields match all.
type ObjectionQuery struct {
	RoundID, InstitutionID string
	States                 []model.ObjectionState
}

// ObjectionList is the objections and when the last window of the round
// ends (zero: never closed, or no objections taken).
type ObjectionList struct {
	Objections []model.Objection
	WindowEnd  objection.Window
}

// ObjectionQueries answers the objections' read side.
type ObjectionQueries struct {
	catalog *scheme.Catalog
	store   Store
	windows Windows
}

// Objection returns one objection.
func (q ObjectionQueries) Objection(ctx context.Context, roundID, institutionID, id string) (model.Objection, error) {
	r, err := q.store.Round(ctx, roundID)
	if err != nil {
		return model.Objection{}, err
	}
	o, err := q.store.Objection(ctx, r, institutionID, id)
	if err != nil {
		return model.Objection{}, err
	}
	if o == nil {
		return model.Objection{}, fault.NotFoundf("no objection %s of %s in round %s", id, institutionID, roundID)
	}
	return *o, nil
}

// Objections lists objections and the round's last window.
func (q ObjectionQueries) Objections(ctx context.Context, f ObjectionQuery) (ObjectionList, error) {
	r, err := q.store.Round(ctx, f.RoundID)
	if err != nil {
		return ObjectionList{}, err
	}
	all, err := q.store.Objections(ctx, r, f.InstitutionID)
	if err != nil {
		return ObjectionList{}, err
	}
	var out ObjectionList
	for _, o := range all {
		if len(f.States) == 0 || slices.Contains(f.States, o.State) {
			out.Objections = append(out.Objections, o)
		}
	}
	// The listing does not need the window: one that cannot be computed
	// (a year without holiday data yet) leaves it out; the publication's
	// gate says why.
	if w, err := q.window(ctx, r, f.InstitutionID); err == nil {
		out.WindowEnd = w
	} else if fault.Is(err, fault.Unavailable) {
		return ObjectionList{}, err
	}
	return out, nil
}

// window is the window a listing shows: one institution's own (in its
// province's time zone), or the round's last.
func (q ObjectionQueries) window(ctx context.Context, r model.Round, institutionID string) (objection.Window, error) {
	if institutionID == "" || r.CloseTime.IsZero() {
		return lastWindow(ctx, q.catalog, q.store, q.windows, r)
	}
	v, err := q.catalog.Get(r.SchemeID, r.SchemeVersion)
	if err != nil || v.ObjectionWindowDays() == 0 {
		return objection.Window{}, err
	}
	latest, err := q.store.Assessment(ctx, RecordKey{SchemeID: r.SchemeID, Year: r.Year, InstitutionID: institutionID}, r.ID, 0)
	if err != nil {
		return objection.Window{}, err
	}
	return q.windows.Window(r.CloseTime, latest.Institution.ProvinceCode, v.ObjectionWindowDays())
}

// lastWindow is the end of the latest objection window of a round's
// institutions: the windows count the same working days, so the one that
// ends last is the one in the westernmost time zone among them. Zero when
// the round never closed or its version takes no objections.
func lastWindow(ctx context.Context, cat *scheme.Catalog, st Store, ws Windows, r model.Round) (objection.Window, error) {
	if r.CloseTime.IsZero() {
		return objection.Window{}, nil
	}
	v, err := cat.Get(r.SchemeID, r.SchemeVersion)
	if err != nil || v.ObjectionWindowDays() == 0 {
		return objection.Window{}, err
	}
	provs, err := st.RoundProvinces(ctx, r)
	if err != nil {
		return objection.Window{}, err
	}
	var last objection.Window
	for _, p := range provs {
		w, err := ws.Window(r.CloseTime, p, v.ObjectionWindowDays())
		if err != nil {
			return objection.Window{}, fmt.Errorf("objection window of province %s: %w", p, err)
		}
		if w.End.After(last.End) {
			last = w
		}
	}
	return last, nil
}

// openObjections lists a round's OPEN objections.
func openObjections(ctx context.Context, st Store, r model.Round) ([]model.Objection, error) {
	all, err := st.Objections(ctx, r, "")
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(all, func(o model.Objection) bool { return !objection.Pending(o) }), nil
}
