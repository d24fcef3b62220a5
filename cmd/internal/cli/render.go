package cli

import (
	"bytes"
	"fmt"
	"io"
	"slices"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
	"unicode/utf8"

	"github.com/predikat-id/predikat/pkg/events"
	assessmentv1 "github.com/predikat-id/predikat/pkg/gen/predikat/assessment/v1"
	rankingv1 "github.com/predikat-id/predikat/pkg/gen/predikat/ranking/v1"
	registryv1 "github.com/predikat-id/predikat/pkg/gen/predikat/registry/v1"
	"github.com/predikat-id/predikat/pkg/platform/text"
)

// Text output shows what the services store, which callers wrote: every
// string goes through text.Printable on its way to the terminal, so a
// control or bidirectional character stored before the services refused
// them (or arriving another way) is shown escaped, never obeyed by the
// terminal. JSON output needs none of this: protojson escapes it.

// line writes one line of text output, escaped.
func line(w io.Writer, format string, args ...any) {
	fmt.Fprintln(w, text.Printable(fmt.Sprintf(format, args...)))
}

// table is an aligned text table: columns separated by two spaces, numeric
// columns right-aligned.
type table struct {
	head  []string
	rows  [][]string
	right map[int]bool
}

// newTable starts a table; with no column names it has no header line.
func newTable(head ...string) *table { return &table{head: head, right: map[int]bool{}} }

func (t *table) alignRight(cols ...int) *table {
	for _, c := range cols {
		t.right[c] = true
	}
	return t
}

func (t *table) add(cells ...string) { t.rows = append(t.rows, cells) }

func (t *table) write(w io.Writer) error {
	all := t.rows
	if t.head != nil {
		all = append([][]string{t.head}, t.rows...)
	}
	// Escaped before measuring: the columns are as wide as what is shown.
	all = escapeCells(all)
	width := map[int]int{}
	for c := range t.right {
		for _, r := range all {
			if c < len(r) {
				width[c] = max(width[c], utf8.RuneCountInString(r[c]))
			}
		}
	}
	var buf bytes.Buffer
	tw := tabwriter.NewWriter(&buf, 0, 0, 2, ' ', 0)
	for _, r := range all {
		cells := make([]string, len(r))
		for i, c := range r {
			if t.right[i] {
				c = strings.Repeat(" ", width[i]-utf8.RuneCountInString(c)) + c
			}
			cells[i] = c
		}
		fmt.Fprintln(tw, strings.Join(cells, "\t"))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	// Padding before an empty last cell would leave trailing spaces.
	for line := range strings.Lines(buf.String()) {
		if _, err := io.WriteString(w, strings.TrimRight(line, " \n")+"\n"); err != nil {
			return err
		}
	}
	return nil
}

// cellSpace turns whitespace that would break the columns into a plain
// space, which reads better in a cell than its escape.
var cellSpace = strings.NewReplacer("\t", " ", "\n", " ", "\r", " ")

func escapeCells(rows [][]string) [][]string {
	out := make([][]string, len(rows))
	for i, r := range rows {
		out[i] = make([]string, len(r))
		for j, c := range r {
			out[i][j] = text.Printable(cellSpace.Replace(c))
		}
	}
	return out
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// bandText is "A (Kualitas Tertinggi)", or the code alone.
func bandText(code, label string) string {
	switch {
	case code == "":
		return "-"
	case label == "" || strings.EqualFold(label, code):
		return code
	}
	return code + " (" + label + ")"
}

func kindText(k registryv1.InstitutionKind) string {
	if k == registryv1.InstitutionKind_INSTITUTION_KIND_UNSPECIFIED {
		return "-"
	}
	return events.KindToken(k)
}

func boardStateText(s rankingv1.BoardState) string {
	switch s {
	case rankingv1.BoardState_BOARD_STATE_FINAL:
		return "final"
	case rankingv1.BoardState_BOARD_STATE_PROVISIONAL:
		return "provisional"
	}
	return "-"
}

func roundStateText(s assessmentv1.RoundState) string {
	if s == assessmentv1.RoundState_ROUND_STATE_UNSPECIFIED {
		return "-"
	}
	return strings.ToLower(strings.TrimPrefix(s.String(), "ROUND_STATE_"))
}

func basisText(b assessmentv1.AssessmentBasis) string {
	switch b {
	case assessmentv1.AssessmentBasis_ASSESSMENT_BASIS_COMPUTED:
		return "computed"
	case assessmentv1.AssessmentBasis_ASSESSMENT_BASIS_REPORTED_TOTAL:
		return "reported total"
	case assessmentv1.AssessmentBasis_ASSESSMENT_BASIS_REPORTED_BAND:
		return "reported band"
	case assessmentv1.AssessmentBasis_ASSESSMENT_BASIS_DERIVED:
		return "derived (roll-up)"
	case assessmentv1.AssessmentBasis_ASSESSMENT_BASIS_SURVEY:
		return "survey (computed from responses)"
	}
	return "-"
}

func movementText(m rankingv1.Movement) string {
	switch m {
	case rankingv1.Movement_MOVEMENT_UP:
		return "up"
	case rankingv1.Movement_MOVEMENT_DOWN:
		return "down"
	case rankingv1.Movement_MOVEMENT_SAME:
		return "same"
	case rankingv1.Movement_MOVEMENT_NEW:
		return "new"
	}
	return "-"
}

func sourceText(s *assessmentv1.Source) string {
	if s == nil {
		return "-"
	}
	var parts []string
	for _, p := range []string{s.GetPublisher(), s.GetPublishedDate()} {
		if p != "" {
			parts = append(parts, p)
		}
	}
	if len(parts) == 0 && s.GetTitle() != "" {
		parts = append(parts, truncate(s.GetTitle(), 60))
	}
	return orDash(strings.Join(parts, " "))
}

func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// boardTitle is the line above a board: "ombudsman 2024 · Pemerintah Daerah ·
// Kalimantan Selatan · final".
func boardTitle(b *rankingv1.Board) string {
	k := b.GetKey()
	parts := []string{fmt.Sprintf("%s %d", k.GetSchemeId(), k.GetYear()), orDash(b.GetPeerGroupName()), orDash(b.GetScopeName()), boardStateText(b.GetState())}
	return strings.Join(parts, " · ")
}

const provisionalNote = "provisional: the round is not published yet; ranks and scores may still change"

func renderBoard(w io.Writer, resp *rankingv1.GetLeaderboardResponse) error {
	b := resp.GetBoard()
	shown := len(resp.GetEntries())
	title := boardTitle(b)
	if int(resp.GetTotalEntries()) > shown {
		title += fmt.Sprintf(" · top %d of %d", shown, resp.GetTotalEntries())
	} else {
		title += fmt.Sprintf(" · %d ranked", resp.GetTotalEntries())
	}
	line(w, "%s", title)
	if b.GetState() == rankingv1.BoardState_BOARD_STATE_PROVISIONAL {
		fmt.Fprintln(w, provisionalNote)
	}
	t := newTable("RANK", "INSTITUTION", "SCORE", "BAND", "ID").alignRight(0, 2)
	synthetic := 0
	for _, e := range resp.GetEntries() {
		t.add(strconv.Itoa(int(e.GetRank())), syntheticName(e.GetName(), e.GetSynthetic()), e.GetScore(), bandText(e.GetBandCode(), e.GetBandLabel()), e.GetInstitutionId())
		if e.GetSynthetic() {
			synthetic++
		}
	}
	if err := t.write(w); err != nil {
		return err
	}
	return syntheticNote(w, synthetic)
}

func renderInstitutions(w io.Writer, list []*registryv1.Institution) error {
	t := newTable("ID", "NAME", "KIND", "REGION", "HEAD")
	for _, in := range list {
		name := in.GetName()
		if in.GetStatus() == registryv1.InstitutionStatus_INSTITUTION_STATUS_RETIRED {
			name += " (retired)"
		}
		t.add(in.GetId(), name, kindText(in.GetKind()), in.GetRegionCode(), orDash(in.GetHead().GetName()))
	}
	return t.write(w)
}

func renderRounds(w io.Writer, list []*assessmentv1.Round) error {
	t := newTable("ROUND", "VERSION", "STATE", "RECORDS", "AWARDS", "TITLE").alignRight(3, 4)
	for _, r := range list {
		title := r.GetTitle()
		if r.GetSchemeProvisional() {
			title += " (provisional scheme)"
		}
		t.add(r.GetId(), r.GetSchemeVersion(), roundStateText(r.GetState()), strconv.Itoa(int(r.GetAssessmentCount())), strconv.Itoa(int(r.GetAwardCount())), title)
	}
	return t.write(w)
}

func renderAssessments(w io.Writer, list []*assessmentv1.Assessment) error {
	t := newTable("INSTITUTION", "SCORE", "BAND", "BASIS", "REV", "SOURCE", "ID").alignRight(1, 4)
	synthetic := 0
	for _, a := range list {
		t.add(syntheticName(a.GetInstitution().GetName(), a.GetSynthetic()), orDash(a.GetTotal()), bandText(a.GetBandCode(), a.GetBandLabel()), basisText(a.GetBasis()),
			strconv.FormatUint(a.GetRevision(), 10), sourceText(a.GetSource()), a.GetInstitutionId())
		if a.GetSynthetic() {
			synthetic++
		}
	}
	if err := t.write(w); err != nil {
		return err
	}
	return syntheticNote(w, synthetic)
}

func renderHistory(w io.Writer, list []*assessmentv1.Assessment) error {
	t := newTable("YEAR", "SCHEME", "SCORE", "BAND", "BASIS", "SOURCE").alignRight(2)
	for _, a := range list {
		t.add(strconv.Itoa(int(a.GetYear())), a.GetSchemeId(), orDash(a.GetTotal()), bandText(a.GetBandCode(), a.GetBandLabel()), basisText(a.GetBasis()), sourceText(a.GetSource()))
	}
	return t.write(w)
}

// standingText is "1/13" with the board's group and scope.
func standingBoard(s *rankingv1.Standing) string {
	return orDash(s.GetBoard().GetPeerGroupName()) + " · " + orDash(s.GetBoard().GetScopeName())
}

func previousText(s *rankingv1.Standing) string {
	if s.GetPreviousYear() == 0 || s.GetPreviousRank() == 0 {
		return "-"
	}
	out := fmt.Sprintf("%d: %d/%d", s.GetPreviousYear(), s.GetPreviousRank(), s.GetPreviousOutOf())
	if s.GetPreviousScore() != "" {
		out += " (" + s.GetPreviousScore() + ")"
	}
	return out
}

func moveText(s *rankingv1.Standing) string {
	m := movementText(s.GetMovement())
	if c := s.GetRankChange(); c != 0 && (s.GetMovement() == rankingv1.Movement_MOVEMENT_UP || s.GetMovement() == rankingv1.Movement_MOVEMENT_DOWN) {
		m += fmt.Sprintf(" %+d", c)
	}
	return m
}

func renderStanding(w io.Writer, r *rankingv1.GetStandingResponse) error {
	line(w, "%s (%s) · %s · %s", orDash(r.GetName()), r.GetInstitutionId(), r.GetRoundId(), boardStateText(r.GetState()))
	if r.GetState() == rankingv1.BoardState_BOARD_STATE_PROVISIONAL {
		fmt.Fprintln(w, provisionalNote)
	}
	line(w, "score %s · band %s · %s", orDash(r.GetScore()), bandText(r.GetBandCode(), r.GetBandLabel()), basisText(r.GetBasis()))
	if r.GetSynthetic() {
		fmt.Fprintln(w, syntheticMarker+": this figure is synthetic data, not an assessed result; it never earns an award")
	}
	if len(r.GetStandings()) == 0 {
		_, err := fmt.Fprintln(w, "not ranked (a record with only a band is counted in statistics, never placed on a board)")
		return err
	}
	t := newTable("BOARD", "RANK", "PERCENTILE", "PREVIOUS", "MOVE").alignRight(1, 2)
	for _, s := range r.GetStandings() {
		t.add(standingBoard(s), fmt.Sprintf("%d/%d", s.GetRank(), s.GetOutOf()), orDash(s.GetPercentile()), previousText(s), moveText(s))
	}
	return t.write(w)
}

func renderStats(w io.Writer, r *rankingv1.GetStatisticsResponse) error {
	line(w, "%s", boardTitle(r.GetBoard()))
	if r.GetBoard().GetState() == rankingv1.BoardState_BOARD_STATE_PROVISIONAL {
		fmt.Fprintln(w, provisionalNote)
	}
	kv := newTable() // no header line
	count := strconv.Itoa(int(r.GetCount()))
	if n := r.GetReportedBandCount(); n > 0 {
		count += fmt.Sprintf(" scored, %d with a band only", n)
	}
	if n := r.GetSyntheticCount(); n > 0 {
		count += fmt.Sprintf(" (%d of them synthetic data: the figures include them)", n)
	}
	kv.add("count", count)
	for _, p := range [][2]string{{"mean", r.GetMean()}, {"median", r.GetMedian()}, {"min", r.GetMin()}, {"max", r.GetMax()}, {"stddev", r.GetStddev()}} {
		kv.add(p[0], orDash(p[1]))
	}
	if err := kv.write(w); err != nil {
		return err
	}
	if len(r.GetBandCounts()) > 0 {
		fmt.Fprintln(w)
		t := newTable("BAND", "COUNT", "BAND ONLY").alignRight(1, 2)
		for _, b := range r.GetBandCounts() {
			t.add(bandText(b.GetBandCode(), b.GetBandLabel()), strconv.Itoa(int(b.GetCount())), strconv.Itoa(int(b.GetReportedBandCount())))
		}
		if err := t.write(w); err != nil {
			return err
		}
	}
	if len(r.GetZoneCounts()) > 0 {
		fmt.Fprintln(w)
		t := newTable("ZONE", "COUNT").alignRight(1)
		for _, z := range r.GetZoneCounts() {
			t.add(strings.ToLower(strings.TrimPrefix(z.GetZone().String(), "BAND_ZONE_")), strconv.Itoa(int(z.GetCount())))
		}
		return t.write(w)
	}
	return nil
}

func renderTrend(w io.Writer, r *rankingv1.GetInstitutionTrendResponse) error {
	line(w, "%s (%s) · %s", orDash(r.GetName()), r.GetInstitutionId(), r.GetSchemeId())
	t := newTable("YEAR", "STATE", "SCORE", "CHANGE", "BAND", "BASIS", "RANKS").alignRight(2, 3)
	for _, p := range r.GetPoints() {
		var ranks []string
		for _, s := range p.GetStandings() {
			ranks = append(ranks, fmt.Sprintf("%d/%d %s", s.GetRank(), s.GetOutOf(), standingBoard(s)))
		}
		t.add(strconv.Itoa(int(p.GetYear())), boardStateText(p.GetState()), orDash(p.GetScore()), orDash(p.GetScoreChange()),
			bandText(p.GetBandCode(), p.GetBandLabel()), basisText(p.GetBasis()), orDash(strings.Join(ranks, "; ")))
	}
	return t.write(w)
}

// awardBasisText says what an award rests on: "band A, 96.52",
// "rank 1/4 Kantor Pertanahan · Kalimantan Selatan, 99.57", "category
// prima", "manual: A, 84.07".
func awardBasisText(b *assessmentv1.AwardBasis) string {
	var facts []string
	if b.GetKind() != assessmentv1.AwardBasisKind_AWARD_BASIS_KIND_RANK && b.GetBandCode() != "" {
		facts = append(facts, b.GetBandCode())
	}
	if b.GetScore() != "" {
		facts = append(facts, b.GetScore())
	}
	rank := ""
	if b.GetRank() > 0 {
		rank = "rank " + strconv.Itoa(int(b.GetRank()))
		if b.GetOutOf() > 0 {
			rank += "/" + strconv.Itoa(int(b.GetOutOf()))
		}
		var where []string
		for _, s := range []string{b.GetPeerGroupName(), b.GetScopeName()} {
			if s != "" {
				where = append(where, s)
			}
		}
		if len(where) > 0 {
			rank += " " + strings.Join(where, " · ")
		}
	}
	switch b.GetKind() {
	case assessmentv1.AwardBasisKind_AWARD_BASIS_KIND_RANK:
		return strings.Join(append([]string{orDash(rank)}, facts...), ", ")
	case assessmentv1.AwardBasisKind_AWARD_BASIS_KIND_MANUAL:
		if rank != "" {
			facts = append(facts, rank)
		}
		if len(facts) == 0 {
			return "manual"
		}
		return "manual: " + strings.Join(facts, ", ")
	}
	kind := strings.ToLower(strings.TrimPrefix(b.GetKind().String(), "AWARD_BASIS_KIND_"))
	return strings.Join(append([]string{kind}, facts...), " ")
}

// sortAwards orders awards newest first by ceremony day (grant day when
// none), then by id, as ListAwards promises.
func sortAwards(list []*assessmentv1.Award) {
	sort.SliceStable(list, func(i, j int) bool {
		if di, dj := awardDate(list[i]), awardDate(list[j]); di != dj {
			return di > dj
		}
		return list[i].GetId() < list[j].GetId()
	})
}

// awardDate is the ceremony day, or the day it was granted.
func awardDate(a *assessmentv1.Award) string {
	if d := a.GetCeremony().GetDate(); d != "" {
		return d
	}
	if a.GetGrantTime() != nil {
		return a.GetGrantTime().AsTime().In(jakarta).Format(time.DateOnly)
	}
	return "-"
}

// jakarta is the calendar the API's dates use (WIB, UTC+7, no DST).
var jakarta = time.FixedZone("WIB", 7*3600)

func awardScheme(a *assessmentv1.Award) string {
	if a.GetSchemeId() == "" {
		return "-"
	}
	if a.GetYear() == 0 {
		return a.GetSchemeId()
	}
	return fmt.Sprintf("%s %d", a.GetSchemeId(), a.GetYear())
}

// renderAwards prints awards; when they all belong to one institution it
// is named once above the table instead of on every line.
func renderAwards(w io.Writer, list []*assessmentv1.Award) error {
	withState, one := false, len(list) > 0
	for _, a := range list {
		withState = withState || a.GetState() == assessmentv1.AwardState_AWARD_STATE_REVOKED
		one = one && a.GetInstitution().GetId() == list[0].GetInstitution().GetId()
	}
	head := []string{"DATE", "INSTITUTION", "AWARD", "SCHEME", "BASIS", "ID", "STATE"}
	if one {
		inst := list[0].GetInstitution()
		line(w, "%s (%s) · %d awards", inst.GetName(), inst.GetId(), len(list))
		head = slices.Delete(head, 1, 2)
	}
	if !withState {
		head = head[:len(head)-1]
	}
	t := newTable(head...)
	for _, a := range list {
		row := []string{awardDate(a), a.GetInstitution().GetName(), a.GetTitle(), awardScheme(a), awardBasisText(a.GetBasis()), a.GetId(),
			strings.ToLower(strings.TrimPrefix(a.GetState().String(), "AWARD_STATE_"))}
		if one {
			row = slices.Delete(row, 1, 2)
		}
		t.add(row[:len(head)]...)
	}
	return t.write(w)
}

// awardLine is one award event as `awards watch` prints it.
func awardLine(verb string, a *assessmentv1.Award) string {
	parts := []string{awardDate(a), verb, a.GetInstitution().GetName() + " (" + a.GetInstitution().GetId() + ")", a.GetTitle(),
		"[" + awardScheme(a) + "; " + awardBasisText(a.GetBasis()) + "]"}
	if c := a.GetCeremony(); c.GetName() != "" {
		where := c.GetName()
		if c.GetPlace() != "" {
			where += ", " + c.GetPlace()
		}
		parts = append(parts, "at "+where)
	}
	if p := a.GetPresentedBy(); p.GetName()+p.GetOffice() != "" {
		parts = append(parts, "presented by "+strings.Trim(p.GetName()+", "+p.GetOffice(), ", "))
	}
	if verb == "revoked" && a.GetRevokeReason() != "" {
		parts = append(parts, "reason: "+a.GetRevokeReason())
	}
	parts = append(parts, a.GetId())
	return text.Printable(strings.Join(parts, "  "))
}

// syntheticMarker marks synthetic data (a demo fill, a test) wherever it
// is shown, so a reader never takes it for an assessed result.
const syntheticMarker = "[SINTETIS]"

func syntheticName(name string, synthetic bool) string {
	if synthetic {
		return name + " " + syntheticMarker
	}
	return name
}

func syntheticNote(w io.Writer, n int) error {
	if n == 0 {
		return nil
	}
	_, err := fmt.Fprintf(w, "%s %d synthetic (made-up data to complete the table: never an award, never a published result)\n", syntheticMarker, n)
	return err
}
