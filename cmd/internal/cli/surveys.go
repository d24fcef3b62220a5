package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"

	assessmentv1 "github.com/predikat-id/predikat/pkg/gen/predikat/assessment/v1"
	"golang.org/x/sync/errgroup"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
)

// The survey commands (citizen satisfaction surveys, SKM), listed in
// commands beside the others.
var (
	specSurveysImport = &spec{
		path: "surveys import", args: "FILE", uses: useAssessment,
		summary: "send the survey responses of a CSV or JSON-lines file (SKM; repeatable)",
		about: `Sends the survey responses of a file to the round's units (SurveyService).
CSV (header line required; commas or semicolons; lines starting with # are
comments), columns in any order:
  unit,response_id,collection_date,<one column per element code>[,age_band,sex,education,occupation]
unit may be left out with --unit (a file of one unit). The element codes
are those of the unit's survey (predikat surveys show lists them; the SKM
2017 survey: persyaratan, prosedur, waktu, biaya, produk, kompetensi,
perilaku, sarana, pengaduan); each answer is 1 (tidak baik) to 4 (sangat
baik). collection_date is YYYY-MM-DD in the round's year.
JSON lines (.jsonl, .ndjson), one response a line:
  {"unit":"pkm-contoh-satu","response_id":"r1","collection_date":"2026-03-02",
   "answers":{"persyaratan":4,"prosedur":3,...},"profile":{"sex":"female"}}
The optional profile (personal data: kept apart, for a limited time, never
published) takes
  age_band    under-20, 20-29, 30-39, 40-49, 50-59, 60-over
  sex         male, female (l, p)
  education   primary, junior-secondary, senior-secondary, diploma,
              bachelor, postgraduate (sd, smp, sma, smk, d1-d4, s1, s2, s3)
  occupation  civil-servant, military-police, private-employee,
              self-employed, student, other (pns, asn, tni, polri, swasta,
              wirausaha, pelajar, mahasiswa, lainnya)
or nothing.

The answers of each line are put in the order of its unit's survey, asked
of the service once per unit, and sent in messages of at most 2000
responses of one unit, all in one call. A line that cannot be read (a
missing column, an answer that is not a whole number, an element code the
unit's survey lacks) is reported with its line and not sent; a response
the service refuses (an answer outside 1-4, a date outside the round's
year) is reported with its line too; the others are stored. A response id
the unit already has counts once: sending the file again (or finishing an
interrupted import) stores nothing twice and reports duplicates. The exit
status is 1 when any response was refused. --timeout bounds each question
about a unit's survey; the upload itself runs until the file is sent.`,
		examples: []string{
			"predikat surveys import docs/examples/skm-puskesmas-sample.csv --round skm-2026",
			"predikat surveys import docs/examples/skm-kiosk-sample.jsonl --round skm-2026 --unit pkm-contoh-tiga",
		},
		setup: cmdSurveysImport,
	}
	specSurveysShow = &spec{
		path: "surveys show", uses: useAssessment, read: true,
		summary: "a unit's survey result: answers per element, index, band, sample check, its SKM record",
		about: `Shows a unit's survey result in a round: per element its weight, how many
answered 1, 2, 3 and 4, and the mean; the respondents, the index
(Σ weight × element mean × 25, exact, rounded once) and its band; the
sample check against the Krejcie-Morgan guidance when the registry knows
the unit's yearly service users; and whether the unit's SKM record carries
this result (the service writes it at most once a minute while responses
arrive, and at the close).`,
		examples: []string{"predikat surveys show --round skm-2026 --unit pkm-contoh-satu", "predikat surveys show --round skm-2026 --unit pkm-contoh-satu --json"},
		setup:    cmdSurveysShow,
	}
	specSurveysList = &spec{
		path: "surveys list", uses: useAssessment, read: true,
		summary:  "the survey results of a round's units: respondents, index, band, sample check",
		examples: []string{"predikat surveys list --round skm-2026", "predikat surveys list --round skm-2026 --province 63"},
		setup:    cmdSurveysList,
	}
	specSurveysDefine = &spec{
		path: "surveys define", uses: useAssessment,
		summary: "state a unit's own survey: its elements and weights (before its first response)",
		about: `States a unit's own survey for a round, before its first response: every
element of the scheme version's survey (the nine of SKM 2017), in the order
answers will come, and any of the unit's own, each with its weight, a
decimal ("0.111") or an exact fraction ("1/9"). --element code=weight, or
code=weight:name, once per element in order; or --file with the JSON of
predikat.assessment.v1.SurveyDefinition ({"elements":[{"code":..,
"weight":..,"name":..}]}). Stating the same survey again changes nothing;
another one is refused.`,
		examples: []string{
			"predikat surveys define --round skm-2026 --unit pkm-contoh-tiga --file docs/examples/skm-survey-ninths.json",
			"predikat surveys define --round skm-2026 --unit pkm-contoh-tiga --element persyaratan=1/10 --element prosedur=1/10 (... all nine) --element kebersihan=1/10:Kebersihan",
		},
		setup: cmdSurveysDefine,
	}
)

// surveyMessageSize is how many responses of one unit go in one message:
// well under the service's 10000, and its batch of one unit (2000), so a
// message is stored in one write.
const surveyMessageSize = 2000

// surveyLookups is how many units' surveys are asked for at once.
const surveyLookups = 8

// maxHeldResponses bounds the responses held for their units' next
// messages: past it, every unit's pending responses are sent (a file of
// many units interleaved is sent in smaller messages, never all held).
const maxHeldResponses = 50000

// maxLocalRefusalsListed bounds the refusals of unreadable lines kept for
// printing (all are counted), as the service bounds its own.
const maxLocalRefusalsListed = 1000

func cmdSurveysImport(fs *flag.FlagSet, s *session) func(context.Context, []string) error {
	round := fs.String("round", "", "round id, e.g. skm-2026 (required)")
	unit := fs.String("unit", "", "the unit of every line (a file without a unit column)")
	format := fs.String("format", "", "csv or jsonl (default: from the extension: .csv; .jsonl, .ndjson)")
	synthetic := fs.Bool("synthetic", false, "the responses are made up (a demo, a test): the units' results are marked [SINTETIS] and never earn an award")
	return func(ctx context.Context, args []string) error {
		if err := needArgs(args, 1, "FILE"); err != nil {
			return err
		}
		if err := required("round", *round); err != nil {
			return err
		}
		f, err := surveyFormat(args[0], *format)
		if err != nil {
			return err
		}
		imp := &surveyImport{s: s, path: args[0], format: f, round: *round, unit: strings.TrimSpace(*unit), synthetic: *synthetic}
		return imp.run(ctx)
	}
}

// surveyImport is one run of "surveys import".
type surveyImport struct {
	s                         *session
	path, format, round, unit string
	synthetic                 bool
	codes                     map[string][]string // the survey of each unit, in order
	unusable                  map[string]string   // why a unit cannot take responses
	// blind are the units whose survey the caller may not read
	// (surveys.read): a collector may hold surveys.submit alone. Their
	// answers go in the order of the scheme version's survey, each unit in
	// a call of its own, so that the submission itself decides and a
	// refusal is its own.
	blind                       map[string]bool
	lines                       int
	refusals                    []surveyRefusal
	refused, unlisted           int64
	accepted, duplicates, total int64
}

// surveyRefusal is a refused response as the user reads it.
type surveyRefusal struct {
	line             int
	unit, id, reason string
}

func (imp *surveyImport) open() (surveyReader, io.Closer, error) {
	f, err := os.Open(imp.path)
	if err != nil {
		return nil, nil, err
	}
	r, err := newSurveyReader(imp.format, imp.path, f, imp.unit)
	if err != nil {
		_ = f.Close()
		return nil, nil, err
	}
	return r, f, nil
}

func (imp *surveyImport) run(ctx context.Context) error {
	if err := imp.lookUpUnits(ctx); err != nil {
		return err
	}
	if err := imp.send(ctx); err != nil {
		return err
	}
	return imp.report()
}

// lookUpUnits reads the file once to find its units, then asks the service
// for each unit's survey. A unit it cannot use (unknown, not a service
// unit, not the caller's) has its lines refused; when no unit can be used
// the import stops before sending anything.
func (imp *surveyImport) lookUpUnits(ctx context.Context) error {
	r, c, err := imp.open()
	if err != nil {
		return err
	}
	defer c.Close()
	var units []string
	seen := map[string]bool{}
	for {
		l, err := r.next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		imp.lines++
		if l.problem == "" && !seen[l.unit] {
			seen[l.unit] = true
			units = append(units, l.unit)
		}
	}
	// A few questions at a time: a national file names tens of thousands
	// of units.
	found := make([]*assessmentv1.SurveyResult, len(units))
	errs := make([]error, len(units))
	var g errgroup.Group
	g.SetLimit(surveyLookups)
	for i, u := range units {
		g.Go(func() error {
			resp, err := imp.s.svy.GetSurveyResult(ctx, &assessmentv1.GetSurveyResultRequest{RoundId: imp.round, UnitId: u})
			found[i], errs[i] = resp.GetResult(), err
			return nil
		})
	}
	_ = g.Wait()
	imp.codes, imp.unusable, imp.blind = map[string][]string{}, map[string]string{}, map[string]bool{}
	var problems []string
	for i, u := range units {
		switch err := errs[i]; status.Code(err) {
		case codes.OK:
			for _, e := range found[i].GetElements() {
				imp.codes[u] = append(imp.codes[u], e.GetCode())
			}
		case codes.PermissionDenied:
			// Reading the survey is not submitting to it: the submission
			// decides, and says why when it refuses.
			imp.blind[u] = true
		case codes.NotFound, codes.FailedPrecondition, codes.InvalidArgument:
			imp.unusable[u] = errorText(err)
			problems = append(problems, fmt.Sprintf("unit %s: %s", u, errorText(err)))
		default:
			return fmt.Errorf("the survey of unit %s in %s: %w", u, imp.round, err)
		}
	}
	if len(units) > 0 && len(imp.unusable) == len(units) {
		return fmt.Errorf("%s: nothing sent: %s", imp.path, strings.Join(problems, "\n"))
	}
	return imp.schemeSurvey(ctx)
}

// schemeSurvey gives the blind units the survey of the round's scheme
// version, the one a unit has unless it stated its own, and says so.
func (imp *surveyImport) schemeSurvey(ctx context.Context) error {
	if len(imp.blind) == 0 {
		return nil
	}
	round, err := imp.s.asm.GetRound(ctx, &assessmentv1.GetRoundRequest{RoundId: imp.round})
	if err != nil {
		return err
	}
	r := round.GetRound()
	sch, err := imp.s.asm.GetScheme(ctx, &assessmentv1.GetSchemeRequest{SchemeId: r.GetSchemeId(),
		Selector: &assessmentv1.GetSchemeRequest_Version{Version: r.GetSchemeVersion()}})
	if err != nil {
		return err
	}
	var survey []string
	for _, e := range sch.GetScheme().GetSurvey().GetElements() {
		survey = append(survey, e.GetCode())
	}
	for u := range imp.blind {
		imp.codes[u] = survey
	}
	line(imp.s.err, "%s: the survey of %d unit(s) is not readable with these credentials (surveys.read): their answers go in the order of %s %s's survey (%s), and the service checks them",
		imp.path, len(imp.blind), r.GetSchemeId(), r.GetSchemeVersion(), strings.Join(survey, ", "))
	return nil
}

// pendingSurvey is the next message of one unit.
type pendingSurvey struct {
	responses []*assessmentv1.SurveyResponse
	lines     []int
}

// send reads the file again and streams its readable lines, grouped by
// unit, in one call.
func (imp *surveyImport) send(ctx context.Context) error {
	r, c, err := imp.open()
	if err != nil {
		return err
	}
	defer c.Close()
	bar := newProgress(imp.s.err, imp.s.progress, imp.round, imp.lines)
	defer bar.finish()
	// One call for the units whose survey was read, one per blind unit.
	main := newSurveyUpload(ctx, imp, "")
	blind := map[string]*surveyUpload{}
	uploads := []*surveyUpload{main}
	defer func() {
		for _, up := range uploads {
			up.cancel()
		}
	}()
	for {
		l, err := r.next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		bar.step()
		imp.total++
		up := main
		if l.problem == "" && imp.blind[l.unit] {
			if up = blind[l.unit]; up == nil {
				up = newSurveyUpload(ctx, imp, l.unit)
				blind[l.unit] = up
				uploads = append(uploads, up)
			}
		}
		if err := up.add(l); err != nil {
			return err
		}
	}
	for _, up := range uploads {
		if err := up.flushAll(); err != nil {
			return err
		}
	}
	bar.finish()
	for _, up := range uploads {
		if err := up.finish(); err != nil {
			return err
		}
	}
	return nil
}

// surveyUpload is one stream of an import, opened with its first message.
type surveyUpload struct {
	imp     *surveyImport
	ctx     context.Context
	stop    context.CancelFunc
	stream  assessmentv1.SurveyService_SubmitSurveyResponsesClient
	pending map[string]*pendingSurvey
	order   []string // units in the order of their first line
	held    int      // responses pending, all units
	// blindUnit is the one unit of the call when its survey could not be
	// read: a PermissionDenied of the call refuses that unit's lines, not
	// the import.
	blindUnit string
	sentLines []int    // the file's line of each response sent, by its index in the call
	sentIDs   []string // and its response id
}

func newSurveyUpload(ctx context.Context, imp *surveyImport, blindUnit string) *surveyUpload {
	return &surveyUpload{imp: imp, ctx: ctx, pending: map[string]*pendingSurvey{}, blindUnit: blindUnit}
}

// failed is the end of a call cut short by err. A blind unit's call
// refused for permission refuses the unit's lines, with the service's own
// words, and the import goes on; anything else stops the import.
func (up *surveyUpload) failed(err error, unsent *pendingSurvey) error {
	up.cancel()
	if up.blindUnit == "" || status.Code(err) != codes.PermissionDenied {
		return up.imp.stopped(err)
	}
	reason := errorText(err)
	up.imp.unusable[up.blindUnit] = reason // its later lines too
	lines, ids := up.sentLines, up.sentIDs
	if unsent != nil {
		lines = slices.Concat(lines, unsent.lines)
		for _, r := range unsent.responses {
			ids = append(ids, r.GetResponseId())
		}
	}
	for i, l := range lines {
		up.imp.refuse(surveyRefusal{line: l, unit: up.blindUnit, id: ids[i], reason: reason})
	}
	up.sentLines, up.sentIDs, up.stream = nil, nil, nil
	if p := up.pending[up.blindUnit]; p != nil {
		up.held -= len(p.responses)
		p.responses, p.lines = nil, nil
	}
	return nil
}

func (up *surveyUpload) add(l surveyLine) error {
	imp := up.imp
	reason := l.problem
	var answers []uint32
	if reason == "" {
		if why, bad := imp.unusable[l.unit]; bad {
			reason = why
		}
	}
	if reason == "" {
		answers, reason = mapAnswers(l, imp.codes[l.unit])
	}
	if reason != "" {
		imp.refuse(surveyRefusal{line: l.line, unit: l.unit, id: l.responseID, reason: reason})
		return nil
	}
	p := up.pending[l.unit]
	if p == nil {
		p = &pendingSurvey{}
		up.pending[l.unit] = p
		up.order = append(up.order, l.unit)
	}
	p.responses = append(p.responses, &assessmentv1.SurveyResponse{ResponseId: l.responseID, CollectionDate: l.date, Answers: answers, Profile: l.profile})
	p.lines = append(p.lines, l.line)
	up.held++
	if len(p.responses) >= surveyMessageSize {
		return up.flush(l.unit)
	}
	if up.held >= maxHeldResponses {
		return up.flushAll()
	}
	return nil
}

// flushAll sends every unit's pending responses, in the order of the
// units' first lines.
func (up *surveyUpload) flushAll() error {
	for _, u := range up.order {
		if err := up.flush(u); err != nil {
			return err
		}
	}
	return nil
}

// flush sends a unit's pending responses as one message.
func (up *surveyUpload) flush(unit string) error {
	p := up.pending[unit]
	if p == nil || len(p.responses) == 0 {
		return nil
	}
	if up.stream == nil {
		ctx, stop := context.WithCancel(up.ctx)
		st, err := up.imp.s.svy.SubmitSurveyResponses(ctx)
		if err != nil {
			stop()
			return up.imp.stopped(err)
		}
		up.stream, up.stop = st, stop
	}
	// The elements the answers were put in order for go along: for a unit
	// whose survey could not be read they are an assumption the service
	// checks, so answers never count under other elements than meant.
	msg := &assessmentv1.SubmitSurveyResponsesRequest{RoundId: up.imp.round, UnitId: unit, Responses: p.responses, Synthetic: up.imp.synthetic,
		ElementCodes: up.imp.codes[unit]}
	if err := up.stream.Send(msg); err != nil {
		// The service ended the call: its status says why.
		_, err = up.stream.CloseAndRecv()
		return up.failed(err, p)
	}
	up.sentLines = append(up.sentLines, p.lines...)
	for _, r := range p.responses {
		up.sentIDs = append(up.sentIDs, r.GetResponseId())
	}
	up.held -= len(p.responses)
	p.responses, p.lines = nil, nil
	return nil
}

func (up *surveyUpload) cancel() {
	if up.stop != nil {
		up.stop()
	}
}

// finish closes the stream and takes the service's answer.
func (up *surveyUpload) finish() error {
	if up.stream == nil {
		return nil // nothing readable to send
	}
	defer up.cancel()
	resp, err := up.stream.CloseAndRecv()
	if err != nil {
		return up.failed(err, nil)
	}
	imp := up.imp
	imp.accepted += resp.GetAccepted()
	imp.duplicates += resp.GetDuplicates()
	listed := int64(0)
	for _, f := range resp.GetRefusals() {
		listed++
		l := 0
		if i := f.GetIndex(); i >= 0 && i < int64(len(up.sentLines)) {
			l = up.sentLines[i]
		}
		imp.refusals = append(imp.refusals, surveyRefusal{line: l, unit: f.GetUnitId(), id: f.GetResponseId(),
			reason: namedAnswer(f.GetReason(), imp.codes[f.GetUnitId()])})
	}
	imp.refused += resp.GetRefused()
	imp.unlisted += resp.GetRefused() - listed
	return nil
}

// stopped is a call cut short: what was stored stays stored, and running
// the import again completes it without counting anything twice.
func (imp *surveyImport) stopped(err error) error {
	if err == nil {
		err = errors.New("the call ended without an answer")
	}
	if _, ok := err.(interface{ GRPCStatus() *status.Status }); ok {
		e := endpoints[slices.IndexFunc(endpoints, func(e endpoint) bool { return e.svc == useAssessment })]
		err = &rpcError{st: status.Convert(err), endpoint: e, target: *imp.s.addr[useAssessment]}
	}
	hint := "responses stored before it stay stored"
	switch status.Code(err) {
	case codes.Unavailable, codes.DeadlineExceeded, codes.Canceled, codes.Aborted, codes.Unknown, codes.Internal, codes.ResourceExhausted:
		hint += ": run the same command again to send the rest (none counts twice)"
	}
	return fmt.Errorf("%s: the import stopped: %w\n%s", imp.path, err, hint)
}

func (imp *surveyImport) refuse(r surveyRefusal) {
	imp.refused++
	if len(imp.refusals) < maxLocalRefusalsListed {
		imp.refusals = append(imp.refusals, r)
	} else {
		imp.unlisted++
	}
}

// report prints the totals and every refusal by line; refusals make the
// exit status 1.
func (imp *surveyImport) report() error {
	out := imp.s.out
	line(out, "accepted %d, duplicates %d (counted once), refused %d", imp.accepted, imp.duplicates, imp.refused)
	slices.SortStableFunc(imp.refusals, func(a, b surveyRefusal) int { return a.line - b.line })
	for _, r := range imp.refusals {
		line(out, "line %d (%s, %s): %s", r.line, orDash(r.unit), orDash(r.id), r.reason)
	}
	if imp.unlisted > 0 {
		line(out, "... and %d more refusals not listed", imp.unlisted)
	}
	if imp.refused > 0 {
		return fmt.Errorf("%s: %d of %d responses refused", imp.path, imp.refused, imp.total)
	}
	return nil
}

var answerIndex = regexp.MustCompile(`answers\[(\d+)\]`)

// namedAnswer names the element of an answer a refusal points at by its
// position ("answers[2]" is "answers[2] (waktu)"): the file has codes, not
// positions.
func namedAnswer(reason string, codes []string) string {
	return answerIndex.ReplaceAllStringFunc(reason, func(m string) string {
		i, err := strconv.Atoi(answerIndex.FindStringSubmatch(m)[1])
		if err != nil || i >= len(codes) {
			return m
		}
		return m + " (" + codes[i] + ")"
	})
}

func cmdSurveysShow(fs *flag.FlagSet, s *session) func(context.Context, []string) error {
	round := fs.String("round", "", "round id, e.g. skm-2026 (required)")
	unit := fs.String("unit", "", "the service unit (required)")
	return func(ctx context.Context, args []string) error {
		if err := needArgs(args, 0, ""); err != nil {
			return err
		}
		if err := required("round", *round, "unit", *unit); err != nil {
			return err
		}
		resp, err := s.svy.GetSurveyResult(ctx, &assessmentv1.GetSurveyResultRequest{RoundId: *round, UnitId: *unit})
		if err != nil {
			return err
		}
		if s.json {
			return s.emit(resp.GetResult())
		}
		return renderSurveyResult(s.out, resp.GetResult())
	}
}

func renderSurveyResult(w io.Writer, r *assessmentv1.SurveyResult) error {
	survey := "the scheme version's survey"
	if r.GetUnitSurvey() {
		survey = "the unit's own survey"
	}
	unitID := r.GetUnitId()
	if r.GetSynthetic() {
		unitID += " " + syntheticMarker
	}
	line(w, "%s in %s (province %s), %s", unitID, r.GetRoundId(), orDash(r.GetProvinceCode()), survey)
	t := newTable("ELEMENT", "WEIGHT", "1", "2", "3", "4", "MEAN").alignRight(2, 3, 4, 5, 6)
	for _, e := range r.GetElements() {
		c := e.GetCounts()
		cell := func(i int) string {
			if i < len(c) {
				return strconv.FormatInt(c[i], 10)
			}
			return "0"
		}
		t.add(e.GetCode(), e.GetWeight(), cell(0), cell(1), cell(2), cell(3), orDash(e.GetMean()))
	}
	if err := t.write(w); err != nil {
		return err
	}
	d := newTable()
	d.add("respondents", strconv.FormatInt(r.GetRespondents(), 10))
	d.add("index", orDash(r.GetIndex()))
	d.add("band", bandText(r.GetBandCode(), r.GetBandLabel()))
	d.add("sample", sampleText(r))
	d.add("SKM record", surveyRecordText(r))
	return d.write(w)
}

// sampleText is the Krejcie-Morgan check of a result.
func sampleText(r *assessmentv1.SurveyResult) string {
	switch {
	case r.GetPopulation() <= 0:
		return "no check: the unit's yearly service users are not known (registry: yearly_service_users)"
	case r.GetSampleBelowGuidance():
		return fmt.Sprintf("below guidance: %d respondents, %d required for %d service users a year (Krejcie-Morgan); the result stands, flagged",
			r.GetRespondents(), r.GetRequiredSample(), r.GetPopulation())
	}
	return fmt.Sprintf("meets guidance: %d respondents, %d required for %d service users a year (Krejcie-Morgan)",
		r.GetRespondents(), r.GetRequiredSample(), r.GetPopulation())
}

// surveyRecordText says whether the unit's SKM record carries the result.
func surveyRecordText(r *assessmentv1.SurveyResult) string {
	rec := r.GetRecord()
	switch {
	case r.GetRecordedRevision() != 0:
		return fmt.Sprintf("revision %d carries this result (%s %s)", r.GetRecordedRevision(), orDash(rec.GetTotal()), rec.GetBandCode())
	case rec != nil:
		return fmt.Sprintf("revision %d (%s %s, %s) does not carry it yet: the service writes it at most once a minute while responses arrive, and at the close",
			rec.GetRevision(), orDash(rec.GetTotal()), rec.GetBandCode(), basisText(rec.GetBasis()))
	case r.GetRespondents() > 0:
		return "none yet: the service writes it within a minute, and at the close"
	}
	return "none"
}

func cmdSurveysList(fs *flag.FlagSet, s *session) func(context.Context, []string) error {
	round := fs.String("round", "", "round id, e.g. skm-2026 (required)")
	province := fs.String("province", "", "only units of this province, e.g. 63")
	return func(ctx context.Context, args []string) error {
		if err := needArgs(args, 0, ""); err != nil {
			return err
		}
		if err := required("round", *round); err != nil {
			return err
		}
		if err := checkProvince(*province); err != nil {
			return err
		}
		all, err := allPages(ctx, &assessmentv1.ListSurveyResultsRequest{RoundId: *round, ProvinceCode: *province, PageSize: 1000},
			func(r *assessmentv1.ListSurveyResultsRequest, t string) { r.PageToken = t },
			s.svy.ListSurveyResults, (*assessmentv1.ListSurveyResultsResponse).GetResults)
		if err != nil {
			return err
		}
		if s.json {
			return emitAll(s, all)
		}
		if len(all) == 0 {
			return s.none("survey results")
		}
		t := newTable("UNIT", "PROVINCE", "RESPONDENTS", "INDEX", "BAND", "SAMPLE").alignRight(2, 3)
		for _, r := range all {
			unitID := r.GetUnitId()
			if r.GetSynthetic() {
				unitID += " " + syntheticMarker
			}
			t.add(unitID, orDash(r.GetProvinceCode()), strconv.FormatInt(r.GetRespondents(), 10), orDash(r.GetIndex()),
				bandText(r.GetBandCode(), r.GetBandLabel()), sampleFlag(r))
		}
		return t.write(s.out)
	}
}

// sampleFlag is the sample check in a cell.
func sampleFlag(r *assessmentv1.SurveyResult) string {
	switch {
	case r.GetPopulation() <= 0:
		return "-"
	case r.GetSampleBelowGuidance():
		return fmt.Sprintf("below guidance (%d of %d)", r.GetRespondents(), r.GetRequiredSample())
	}
	return fmt.Sprintf("ok (%d of %d)", r.GetRespondents(), r.GetRequiredSample())
}

func cmdSurveysDefine(fs *flag.FlagSet, s *session) func(context.Context, []string) error {
	round := fs.String("round", "", "round id, e.g. skm-2026 (required)")
	unit := fs.String("unit", "", "the service unit (required)")
	var elements repeated
	fs.Var(&elements, "element", "an element, code=weight or code=weight:name (\"waktu=1/9\"), in survey order; repeatable")
	file := fs.String("file", "", "the survey as JSON (predikat.assessment.v1.SurveyDefinition) instead of --element")
	return func(ctx context.Context, args []string) error {
		if err := needArgs(args, 0, ""); err != nil {
			return err
		}
		if err := required("round", *round, "unit", *unit); err != nil {
			return err
		}
		def, err := surveyDefinition(elements, *file)
		if err != nil {
			return err
		}
		resp, err := s.svy.DefineUnitSurvey(ctx, &assessmentv1.DefineUnitSurveyRequest{RoundId: *round, UnitId: *unit, Survey: def})
		if err != nil {
			return err
		}
		verb := "defined"
		if !resp.GetCreated() {
			verb = "already defined (the same survey was stated before)"
		}
		var parts []string
		for _, e := range resp.GetSurvey().GetElements() {
			parts = append(parts, e.GetCode()+" "+e.GetWeight())
		}
		line(s.out, "%s: the survey of %s in %s, %d elements: %s", verb, *unit, *round, len(parts), strings.Join(parts, ", "))
		return nil
	}
}

// surveyDefinition reads --element flags or --file.
func surveyDefinition(elements []string, file string) (*assessmentv1.SurveyDefinition, error) {
	switch {
	case file != "" && len(elements) > 0:
		return nil, usagef("give --element or --file, not both")
	case file != "":
		b, err := os.ReadFile(file)
		if err != nil {
			return nil, err
		}
		def := &assessmentv1.SurveyDefinition{}
		if err := protojson.Unmarshal(b, def); err != nil {
			return nil, fmt.Errorf("%s: %w", file, err)
		}
		return def, nil
	case len(elements) == 0:
		return nil, usagef("give the survey's elements: --element code=weight (repeatable, in order) or --file")
	}
	def := &assessmentv1.SurveyDefinition{}
	for _, el := range elements {
		code, rest, ok := strings.Cut(el, "=")
		weight, name, _ := strings.Cut(rest, ":")
		code, weight = strings.TrimSpace(code), strings.TrimSpace(weight)
		if !ok || code == "" || weight == "" {
			return nil, usagef("--element %q: code=weight or code=weight:name, e.g. waktu=1/9", el)
		}
		def.Elements = append(def.Elements, &assessmentv1.SurveyElement{Code: code, Weight: weight, Name: strings.TrimSpace(name)})
	}
	return def, nil
}
