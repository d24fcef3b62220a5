package store

import (
	"fmt"
	"slices"
	"sort"
	"sync"

	"github.com/nats-io/nats.go"

	"github.com/predikat-id/predikat/pkg/events"
	eventsv1 "github.com/predikat-id/predikat/pkg/gen/predikat/events/v1"
	"github.com/predikat-id/predikat/services/assessment/internal/app"
	"github.com/predikat-id/predikat/services/assessment/internal/convert"
)

// surveyView is this replica's fold of the SURVEYS stream: per round and
// unit, the counts of every answer (four numbers per element) and the
// unit's own survey; per round, the intake. Its size depends on the number
// of units, never on the number of responses. It is rebuilt from the log at
// every start, so it is what the log says: the same after a crash, on every
// replica.
type surveyView struct {
	mu      sync.RWMutex
	byRound map[string]*roundSurveys
}

type roundSurveys struct {
	units map[string]*unitCounts
}

type unitCounts struct {
	position    uint64
	respondents int64
	counts      [][4]int64
	def         *app.SurveyDef
	synthetic   bool
}

func newSurveyView() *surveyView { return &surveyView{byRound: map[string]*roundSurveys{}} }

// apply folds one message in. A message it cannot read is reported and left
// out (the log is written only by this service, through the same types).
func (v *surveyView) apply(subject string, h nats.Header, data []byte, seq uint64) error {
	switch h.Get(events.HeaderType) {
	case events.TypeSurveyResponsesStored:
		ev, err := events.DecodeAs[eventsv1.SurveyResponsesStored](subject, data)
		if err != nil {
			return err
		}
		return v.addResponses(ev, seq)
	case events.TypeUnitSurveyDefined:
		ev, err := events.DecodeAs[eventsv1.UnitSurveyDefined](subject, data)
		if err != nil {
			return err
		}
		v.mu.Lock()
		defer v.mu.Unlock()
		u := v.unit(ev.GetRoundId(), ev.GetUnitId())
		def := convert.SurveyDefFromProto(ev.GetSurvey())
		u.def = &def
		u.position = seq
	}
	// Intake markers and batch ends hold no counts: a batch after a close
	// was refused by the server, never stored.
	return nil
}

func (v *surveyView) addResponses(ev *eventsv1.SurveyResponsesStored, seq uint64) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	u := v.unit(ev.GetRoundId(), ev.GetUnitId())
	if seq <= u.position {
		return nil // folded already
	}
	rs := ev.GetResponses()
	if len(rs) > 0 && u.counts == nil {
		u.counts = make([][4]int64, len(rs[0].GetAnswers()))
	}
	// Checked whole before counting: a message counts whole or not at all.
	for i, r := range rs {
		a := r.GetAnswers()
		if len(a) != len(u.counts) {
			return fmt.Errorf("unit %s in %s: response %d (%s) has %d answers, the unit's earlier ones %d: left out",
				ev.GetUnitId(), ev.GetRoundId(), i, r.GetResponseId(), len(a), len(u.counts))
		}
		for _, x := range a {
			if x < 1 || x > 4 {
				return fmt.Errorf("unit %s in %s: response %s: answer %d outside 1-4: left out", ev.GetUnitId(), ev.GetRoundId(), r.GetResponseId(), x)
			}
		}
	}
	for _, r := range rs {
		for j, x := range r.GetAnswers() {
			u.counts[j][x-1]++
		}
	}
	u.respondents += int64(len(rs))
	u.synthetic = u.synthetic || ev.GetSynthetic()
	u.position = seq
	return nil
}

// unit returns the unit's counts, made when new. v.mu is held.
func (v *surveyView) unit(roundID, unitID string) *unitCounts {
	r := v.byRound[roundID]
	if r == nil {
		r = &roundSurveys{units: map[string]*unitCounts{}}
		v.byRound[roundID] = r
	}
	u := r.units[unitID]
	if u == nil {
		u = &unitCounts{}
		r.units[unitID] = u
	}
	return u
}

// has says whether the log holds anything of the unit in the round.
func (v *surveyView) has(roundID, unitID string) bool {
	v.mu.RLock()
	defer v.mu.RUnlock()
	r := v.byRound[roundID]
	return r != nil && r.units[unitID] != nil
}

func (v *surveyView) counts(roundID, unitID string) (app.SurveyCounts, bool) {
	v.mu.RLock()
	defer v.mu.RUnlock()
	r := v.byRound[roundID]
	if r == nil {
		return app.SurveyCounts{}, false
	}
	u := r.units[unitID]
	if u == nil {
		return app.SurveyCounts{}, false
	}
	return app.SurveyCounts{UnitID: unitID, Position: u.position, Respondents: u.respondents, Counts: slices.Clone(u.counts), Def: u.def, Synthetic: u.synthetic}, true
}

func (v *surveyView) units(roundID, after string, limit int) ([]string, bool) {
	v.mu.RLock()
	r := v.byRound[roundID]
	var ids []string
	if r != nil {
		ids = make([]string, 0, len(r.units))
		for id := range r.units {
			if id > after {
				ids = append(ids, id)
			}
		}
	}
	v.mu.RUnlock()
	sort.Strings(ids)
	if limit > 0 && len(ids) > limit {
		return ids[:limit], true
	}
	return ids, false
}

func (v *surveyView) rounds() []string {
	v.mu.RLock()
	defer v.mu.RUnlock()
	out := make([]string, 0, len(v.byRound))
	for id := range v.byRound {
		out = append(out, id)
	}
	sort.Strings(out)
	return out
}
