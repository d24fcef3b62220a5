package chaos

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// WriteJSON writes the report to path.
func (rep *Report) WriteJSON(path string) error {
	b, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

// Print writes the report as one table.
func (rep *Report) Print(w io.Writer) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	row := func(k string, v any, ok bool) {
		mark := "ok"
		if !ok {
			mark = "VIOLATION"
		}
		fmt.Fprintf(tw, "%s\t%v\t%s\n", k, v, mark)
	}
	info := func(k string, v any) { fmt.Fprintf(tw, "%s\t%v\t\n", k, v) }
	fmt.Fprintf(tw, "predikat-chaos seed %d (quick %v), %.0fs\t\t\n", rep.Seed, rep.Quick, rep.Seconds)
	wr, aw, b := rep.Writes, rep.Awards, rep.Boards
	info("writes acknowledged", fmt.Sprintf("%d (%d new, %d replayed retries)", wr.Acked, wr.Created, wr.Acked-wr.Created))
	info("writes refused / no answer", fmt.Sprintf("%d / %d", wr.Rejected, wr.Unknown))
	info("records of the round in ASSESSMENTS", fmt.Sprintf("%d (%d past a close's fence)", wr.InLog, wr.RefusedInLog))
	row("writes refused other than by the close", wr.Unexpected, wr.Unexpected == 0)
	row("acknowledged writes lost", wr.Lost, wr.Lost == 0)
	row("request ids duplicated", wr.Duplicated, wr.Duplicated == 0)
	row("revision acknowledged != stored", wr.RevisionMismatch, wr.RevisionMismatch == 0)
	row("awards in AWARDS / PublishRound", fmt.Sprintf("%d / %d", aw.InStream, aw.PublishGranted+aw.PublishExisting), aw.InStream == aw.PublishGranted+aw.PublishExisting)
	row("award subjects / ids duplicated", fmt.Sprintf("%d / %d", aw.DuplicateSubjects, aw.DuplicateIDs), aw.DuplicateSubjects+aw.DuplicateIDs == 0)
	row("awards missing at the subscriber", fmt.Sprintf("%d (received %d)", aw.MissingAtSub, aw.Received), aw.MissingAtSub == 0)
	row("rule awards earned by the log / missing / unearned", fmt.Sprintf("%d / %d / %d", aw.Expected, aw.Missing, aw.Unearned), aw.Missing+aw.Unearned == 0)
	in := rep.Institutions
	info("institutions created under load", fmt.Sprintf("%d acknowledged, %d without answer, %d stored", in.Acked, in.Unknown, in.InStore))
	row("institutions lost / stored twice", fmt.Sprintf("%d / %d", in.Lost, in.Duplicated), in.Lost+in.Duplicated == 0)
	row("ranking consumers stalled", len(rep.Stalled), len(rep.Stalled) == 0)
	row("board entries matching the log", fmt.Sprintf("%d/%d on %d boards (missing %d, extra %d, wrong %d)", b.Matching, b.Expected, b.Boards, b.Missing, b.Extra, b.Wrong),
		b.Missing+b.Extra+b.Wrong == 0)
	for i, f := range rep.Faults {
		ok := f.Err == "" && f.RecoveryMS >= 0 && f.RecoveryMS <= RecoveryLimit.Milliseconds()
		row(fmt.Sprintf("fault %d: %s %s", i+1, f.Kind, f.Target),
			fmt.Sprintf("writes resumed after %s (injection took %s)", ms(f.RecoveryMS), ms(f.TookMS)), ok)
	}
	codes := slices.Sorted(maps.Keys(rep.Errors))
	var errs []string
	for _, c := range codes {
		errs = append(errs, fmt.Sprintf("%s %d", c, rep.Errors[c]))
	}
	info("failed attempts seen by clients", strings.Join(errs, ", "))
	for _, e := range rep.UnexpectedExits {
		info("service exit (restarted)", e)
	}
	_ = tw.Flush()
	for _, ex := range slices.Concat(wr.Examples, in.Examples, aw.Examples, b.Examples, rep.Stalled) {
		fmt.Fprintln(w, "  "+ex)
	}
	if rep.Err != "" {
		fmt.Fprintf(w, "run failed (seed %d, files in %s): %s\n", rep.Seed, rep.Dir, rep.Err)
		return
	}
	if len(rep.Violations) == 0 {
		fmt.Fprintln(w, "no violation")
		return
	}
	fmt.Fprintf(w, "%d violations (seed %d, files in %s):\n", len(rep.Violations), rep.Seed, rep.Dir)
	for _, v := range rep.Violations {
		fmt.Fprintln(w, "  "+v)
	}
}

func ms(n int64) string {
	if n < 0 {
		return "never"
	}
	return (time.Duration(n) * time.Millisecond).Round(10 * time.Millisecond).String()
}
