// Package reportcard is the report card (rapor) of an assessment: the
// improvement notes an assessor leaves per dimension, and, a year later,
// which of them the institution addressed. It is pure: the caller reads the
// institution's history and the scheme version, this package decides.
//
// A note's id is "<round_id>/<n>", n from 1 in the order the notes were
// given, so a reader of next year's record can name it without a lookup.
// Ids are given afresh on every revision: a correction states the record's
// notes in full, as it states its scores.
package reportcard

import (
	"slices"
	"strconv"
	"strings"

	"github.com/predikat-id/predikat/pkg/platform/fault"
	"github.com/predikat-id/predikat/services/assessment/internal/model"
)

// NoteID is the id of the n-th note (from 1) of a record in round roundID.
func NoteID(roundID string, n int) string { return roundID + "/" + strconv.Itoa(n) }

// Number returns the notes given with their ids, each dimension code checked
// against codes, the dimension codes of the scheme version (version names it
// in messages). An empty code is a note on the result as a whole.
func Number(roundID, version string, codes []string, given []model.ImprovementNote) ([]model.ImprovementNote, error) {
	if len(given) == 0 {
		return nil, nil
	}
	out := make([]model.ImprovementNote, len(given))
	for i, n := range given {
		if n.DimensionCode != "" && !slices.Contains(codes, n.DimensionCode) {
			return nil, fault.Invalidf("input.improvement_notes[%d].dimension_code: %q is not a dimension of scheme %s (%s); leave it empty for a note on the result as a whole",
				i, n.DimensionCode, version, describeCodes(codes))
		}
		out[i] = model.ImprovementNote{ID: NoteID(roundID, i+1), DimensionCode: n.DimensionCode, Note: n.Note}
	}
	return out, nil
}

func describeCodes(codes []string) string {
	if len(codes) == 0 {
		return "it has no dimensions"
	}
	return "its dimensions: " + strings.Join(codes, ", ")
}

// Previous is the assessment a record's follow-ups refer to: among history
// (an institution's latest record in every round), the one in scheme
// schemeID of the most recent year before year; nil when there is none.
func Previous(history []*model.Assessment, schemeID string, year int32) *model.Assessment {
	var prev *model.Assessment
	for _, a := range history {
		if a == nil || a.SchemeID != schemeID || a.Year >= year {
			continue
		}
		if prev == nil || later(a, prev) {
			prev = a
		}
	}
	return prev
}

// later orders two records of one scheme: by year, then (two rounds of a
// year, which the store does not make, but a history need not promise) by
// round id, so the choice never depends on the history's order.
func later(a, b *model.Assessment) bool {
	if a.Year != b.Year {
		return a.Year > b.Year
	}
	return a.RoundID > b.RoundID
}

// Resolve checks follow-ups against prev, the institution's previous
// assessment (nil: none), and returns them with each earlier note filled in:
// every note id must name a note of prev, and none twice. The follow-ups
// keep the order given.
func Resolve(prev *model.Assessment, followUps []model.NoteFollowUp, institutionID, schemeID string, year int32) ([]model.NoteFollowUp, error) {
	if len(followUps) == 0 {
		return nil, nil
	}
	if prev == nil {
		return nil, fault.Invalidf("input.follow_ups[0].note_id: %q names no note: %s has no earlier assessment in scheme %s before %d, so there is nothing to follow up",
			followUps[0].NoteID, institutionID, schemeID, year)
	}
	out := make([]model.NoteFollowUp, len(followUps))
	seen := map[string]int{}
	for i, f := range followUps {
		j := slices.IndexFunc(prev.ImprovementNotes, func(n model.ImprovementNote) bool { return n.ID == f.NoteID })
		if j < 0 {
			return nil, fault.Invalidf("input.follow_ups[%d].note_id: %q is not a note of %s's previous assessment (round %s, revision %d; %s)",
				i, f.NoteID, institutionID, prev.RoundID, prev.Revision, describeNotes(prev.ImprovementNotes))
		}
		if k, dup := seen[f.NoteID]; dup {
			return nil, fault.Invalidf("input.follow_ups[%d].note_id: %q is already followed up in input.follow_ups[%d]: one follow-up per note",
				i, f.NoteID, k)
		}
		seen[f.NoteID] = i
		n := prev.ImprovementNotes[j]
		out[i] = model.NoteFollowUp{NoteID: f.NoteID, Addressed: f.Addressed, Comment: f.Comment, Note: &n}
	}
	return out, nil
}

func describeNotes(notes []model.ImprovementNote) string {
	if len(notes) == 0 {
		return "it has no notes"
	}
	ids := make([]string, len(notes))
	for i, n := range notes {
		ids[i] = n.ID
	}
	return "its notes: " + strings.Join(ids, ", ")
}

// Pending lists the earlier notes no follow-up names, in their order: what
// a reader sees as not yet reviewed.
func Pending(earlier []model.ImprovementNote, followUps []model.NoteFollowUp) []model.ImprovementNote {
	var out []model.ImprovementNote
	for _, n := range earlier {
		if !slices.ContainsFunc(followUps, func(f model.NoteFollowUp) bool { return f.NoteID == n.ID }) {
			out = append(out, n)
		}
	}
	return out
}
