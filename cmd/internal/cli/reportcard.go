package cli

import (
	"cmp"
	"context"
	"flag"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	assessmentv1 "github.com/predikat-id/predikat/pkg/gen/predikat/assessment/v1"
)

// cmdAssessmentsShow shows one record in full: its result, and its report
// card (the improvement notes left on it, and what became of the notes of
// the institution's previous assessment in the scheme).
func cmdAssessmentsShow(fs *flag.FlagSet, s *session) func(context.Context, []string) error {
	round := fs.String("round", "", "the round, e.g. ombudsman-2024 (required)")
	inst := fs.String("institution", "", "the institution (required)")
	revision := fs.Uint64("revision", 0, "a given revision (default: the latest)")
	return func(ctx context.Context, args []string) error {
		if err := needArgs(args, 0, ""); err != nil {
			return err
		}
		if err := required("round", *round, "institution", *inst); err != nil {
			return err
		}
		resp, err := s.asm.GetAssessment(ctx, &assessmentv1.GetAssessmentRequest{RoundId: *round, InstitutionId: *inst, Revision: *revision})
		if err != nil {
			return err
		}
		a := resp.GetAssessment()
		if s.json {
			return s.emit(a)
		}
		prev, err := previousAssessment(ctx, s, a)
		if err != nil {
			return err
		}
		return renderAssessmentCard(s.out, a, prev)
	}
}

// previousAssessment is the record the follow-ups of a refer to, as the
// service picks it: the institution's latest record in the scheme in the
// most recent earlier year (nil: none this caller may read).
func previousAssessment(ctx context.Context, s *session, a *assessmentv1.Assessment) (*assessmentv1.Assessment, error) {
	// The API counts years from 2000.
	if a.GetYear() <= 2000 {
		return nil, nil
	}
	resp, err := s.asm.ListInstitutionHistory(ctx, &assessmentv1.ListInstitutionHistoryRequest{InstitutionId: a.GetInstitutionId(),
		SchemeId: a.GetSchemeId(), YearTo: a.GetYear() - 1, PageSize: 1})
	if err != nil {
		return nil, fmt.Errorf("the previous assessment of %s: %w", a.GetInstitutionId(), err)
	}
	if len(resp.GetAssessments()) == 0 {
		return nil, nil
	}
	return resp.GetAssessments()[0], nil
}

// renderAssessmentCard prints a record and its report card. prev is the
// previous assessment its follow-ups refer to (nil: none read): its notes
// no follow-up names are listed as not reviewed.
func renderAssessmentCard(w io.Writer, a *assessmentv1.Assessment, prev *assessmentv1.Assessment) error {
	line(w, "%s  %s", a.GetInstitutionId(), syntheticName(a.GetInstitution().GetName(), a.GetSynthetic()))
	t := newTable()
	t.add("  round", fmt.Sprintf("%s (scheme %s %s, year %d)", a.GetRoundId(), a.GetSchemeId(), a.GetSchemeVersion(), a.GetYear()))
	t.add("  score", orDash(a.GetTotal()))
	t.add("  band", bandText(a.GetBandCode(), a.GetBandLabel()))
	t.add("  basis", basisText(a.GetBasis()))
	if ds := a.GetDimensionScores(); len(ds) > 0 {
		parts := make([]string, len(ds))
		for i, d := range ds {
			parts[i] = d.GetCode() + " " + d.GetScore()
		}
		t.add("  dimensions", strings.Join(parts, ", "))
	}
	rec := "revision " + strconv.FormatUint(a.GetRevision(), 10)
	if a.GetRecordTime() != nil {
		rec += ", " + a.GetRecordTime().AsTime().UTC().Format(time.DateTime) + " UTC"
	}
	if a.GetRecordedBy() != "" {
		rec += " by " + a.GetRecordedBy()
	}
	if a.GetAfterPublication() {
		rec += " (after publication)"
	}
	t.add("  recorded", rec)
	for _, kv := range [][2]string{{"reason", a.GetReason()}, {"objection", a.GetObjectionId()}, {"notes", a.GetNotes()}} {
		if kv[1] != "" {
			t.add("  "+kv[0], kv[1])
		}
	}
	t.add("  source", sourceText(a.GetSource()))
	if err := t.write(w); err != nil {
		return err
	}
	if a.GetSynthetic() {
		if err := syntheticNote(w, 1); err != nil {
			return err
		}
	}
	if err := renderNotes(w, a); err != nil {
		return err
	}
	return renderFollowUps(w, a, prev)
}

// noteDimension is a note's dimension, or "(overall)" for a note on the
// result as a whole.
func noteDimension(n *assessmentv1.ImprovementNote) string {
	if n.GetDimensionCode() == "" {
		return "(overall)"
	}
	return n.GetDimensionCode()
}

func renderNotes(w io.Writer, a *assessmentv1.Assessment) error {
	line(w, "")
	notes := a.GetImprovementNotes()
	if len(notes) == 0 {
		line(w, "report card: no improvement notes")
		return nil
	}
	line(w, "report card: %d improvement note(s)", len(notes))
	t := newTable("  ID", "DIMENSION", "NOTE")
	for _, n := range notes {
		t.add("  "+n.GetId(), noteDimension(n), n.GetNote())
	}
	return t.write(w)
}

// Follow-up statuses of an earlier note.
const (
	statusAddressed    = "addressed"
	statusNotAddressed = "not addressed"
	statusNotReviewed  = "not reviewed"
)

// followUpRow is one earlier note and what became of it.
type followUpRow struct {
	note            *assessmentv1.ImprovementNote
	status, comment string
}

// followUpRows lists the earlier notes: those followed up as the record
// keeps them (their text as it was then), and, when prev is the record they
// follow up, its notes no follow-up names, as not reviewed; in the earlier
// record's order.
func followUpRows(a, prev *assessmentv1.Assessment) []followUpRow {
	var rows []followUpRow
	named := map[string]bool{}
	for _, f := range a.GetFollowUps() {
		n := f.GetNote()
		if n == nil {
			n = &assessmentv1.ImprovementNote{Id: f.GetNoteId()}
		}
		st := statusNotAddressed
		if f.GetAddressed() {
			st = statusAddressed
		}
		rows = append(rows, followUpRow{note: n, status: st, comment: f.GetComment()})
		named[f.GetNoteId()] = true
	}
	if prev != nil && followsUp(a, prev) {
		for _, n := range prev.GetImprovementNotes() {
			if !named[n.GetId()] {
				rows = append(rows, followUpRow{note: n, status: statusNotReviewed})
			}
		}
	}
	// Ids are "<round_id>/<n>": by n, the order the notes were given in.
	slices.SortStableFunc(rows, func(x, y followUpRow) int { return cmp.Compare(noteNumber(x.note.GetId()), noteNumber(y.note.GetId())) })
	return rows
}

// followsUp says whether the follow-ups of a name prev's notes (none
// given: prev is what they would name).
func followsUp(a, prev *assessmentv1.Assessment) bool {
	for _, f := range a.GetFollowUps() {
		if noteRound(f.GetNoteId()) != prev.GetRoundId() {
			return false
		}
	}
	return true
}

func noteRound(id string) string {
	r, _, _ := strings.Cut(id, "/")
	return r
}

func noteNumber(id string) int {
	_, n, _ := strings.Cut(id, "/")
	v, _ := strconv.Atoi(n)
	return v
}

func renderFollowUps(w io.Writer, a, prev *assessmentv1.Assessment) error {
	rows := followUpRows(a, prev)
	if len(rows) == 0 {
		return nil
	}
	count := map[string]int{}
	for _, r := range rows {
		count[r.status]++
	}
	var parts []string
	for _, st := range []string{statusAddressed, statusNotAddressed, statusNotReviewed} {
		if count[st] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", count[st], st))
		}
	}
	from := noteRound(rows[0].note.GetId())
	line(w, "")
	line(w, "notes of %s: %s", from, strings.Join(parts, ", "))
	t := newTable("  ID", "DIMENSION", "STATUS", "NOTE", "COMMENT")
	for _, r := range rows {
		t.add("  "+r.note.GetId(), noteDimension(r.note), r.status, orDash(r.note.GetNote()), orDash(r.comment))
	}
	return t.write(w)
}
