// Package bench is Predikat's benchmark harness (`predikat bench`, `make
// bench`). It starts its own stack in a temporary directory on free ports,
// so it runs beside `make run`: an embedded NATS server with JetStream on
// disk and sync writes (as the dev stack), a redis-server child, the
// registry, assessment and ranking services in process, and a gRPC echo
// server on the same bootstrap. Every hot path is measured at 1 and at 50
// concurrent callers beside a baseline measured in the same run on the same
// machine, and judged against the targets of issue 7. The result is one
// table and the same rows as JSON, for comparison across commits.
//
// Client and server share the process and its cores, as the targets assume.
package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"runtime/pprof"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/predikat-id/predikat/pkg/awardfeed"
	assessmentv1 "github.com/predikat-id/predikat/pkg/gen/predikat/assessment/v1"
	rankingv1 "github.com/predikat-id/predikat/pkg/gen/predikat/ranking/v1"
	registryv1 "github.com/predikat-id/predikat/pkg/gen/predikat/registry/v1"
	"github.com/predikat-id/predikat/pkg/natsx"
	"github.com/predikat-id/predikat/pkg/streams"
)

// DefaultJSONPath is where the JSON report goes unless told otherwise.
const DefaultJSONPath = ".bench/results.json"

// Options configures Run.
type Options struct {
	// Out receives the table (nil: standard output).
	Out io.Writer
	// JSONPath is where the rows are written as JSON; empty means
	// DefaultJSONPath.
	JSONPath string
	// Quick runs smaller sizes and shorter cells, for a CI smoke run: no
	// 1,000,000-entry board and no 1,000,000-assessment rebuild.
	Quick bool
	// Logger receives progress (Info) and the services' warnings; the
	// services' per-call logs are not written (nil: slog.Default()).
	Logger *slog.Logger
	// ProfileDir, when set, receives a CPU profile of the whole process
	// taken during every measured operation (not the baselines), named
	// after the row, e.g. getstanding-1m-c50.pprof.
	ProfileDir string

	plan *plan // tests: tiny sizes
}

// plan is the sizes and time budget of a run.
type plan struct {
	institutions int   // registered land offices: ListInstitutions' size, RecordAssessment's pool
	boards       []int // leaderboard sizes
	prevBoard    int   // entries of each board's previous round (movement)
	rebuilds     []int // rebuild sizes, each one of boards
	fanout       int   // institutions in the published round
	cell         budget
	callers      []int
	setupCallers int
}

func fullPlan() *plan {
	return &plan{institutions: 10_000, boards: []int{1_000, 100_000, 1_000_000}, prevBoard: 1_000,
		rebuilds: []int{100_000, 1_000_000}, fanout: 500, cell: budget{dur: 2 * time.Second}, callers: []int{1, 50}, setupCallers: 32}
}

func quickPlan() *plan {
	p := fullPlan()
	p.boards, p.rebuilds, p.cell = []int{1_000, 100_000}, []int{100_000}, budget{dur: time.Second}
	return p
}

// Targets of issue 7.
const (
	targetRecordVsEcho   = 0.40
	targetQueryVsEcho    = 0.50
	targetStandingGrowth = 1.5
	targetRebuildRate    = 50_000
	targetFanoutP99      = 10 * time.Millisecond
)

// Run starts a private stack, measures every operation against its
// baseline, prints the table to o.Out and writes the JSON report. It
// returns an error when the harness could not measure (a target missed is
// not an error: the table says FAIL).
func Run(ctx context.Context, o Options) (err error) {
	if o.Out == nil {
		o.Out = os.Stdout
	}
	if o.JSONPath == "" {
		o.JSONPath = DefaultJSONPath
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	p := o.plan
	if p == nil {
		p = fullPlan()
		if o.Quick {
			p = quickPlan()
		}
	}
	start := time.Now()
	r := &runner{o: o, p: p, log: o.Logger, rep: newReport(start, o.Quick)}
	if p.cell.ops > 0 {
		r.rep.CellBudget = fmt.Sprintf("%d calls (+%d warm-up)", p.cell.ops, p.cell.ops/10)
	} else {
		r.rep.CellBudget = fmt.Sprintf("%s (+%s warm-up)", p.cell.dur, p.cell.dur/10)
	}
	defer func() {
		r.rep.Seconds = time.Since(start).Seconds()
		if err != nil {
			r.rep.Error = err.Error()
		}
		if len(r.rep.Rows) > 0 {
			if terr := r.rep.writeTable(o.Out); terr != nil && err == nil {
				err = terr
			}
		}
		if jerr := r.rep.writeJSON(o.JSONPath); jerr != nil && err == nil {
			err = fmt.Errorf("write %s: %w", o.JSONPath, jerr)
		}
		if err == nil {
			fmt.Fprintf(o.Out, "\n%d rows in %.0fs; JSON in %s\n", len(r.rep.Rows), r.rep.Seconds, o.JSONPath)
		}
	}()

	svcLog := slog.New(atLeast{o.Logger.Handler(), slog.LevelWarn})
	r.log.Info("bench: starting a private stack (NATS with sync writes, redis-server, registry, assessment, echo)")
	s, err := startStack(ctx, r.log, svcLog)
	if err != nil {
		return err
	}
	defer s.close()
	r.s = s
	for _, step := range []struct {
		name string
		fn   func(context.Context) error
	}{
		{"setup", r.setup},
		{"RecordAssessment", r.recordGroup},
		{"GetLeaderboard", r.leaderboardGroup},
		{"GetStanding", r.standingGroup},
		{"ListInstitutions", r.listGroup},
		{"award fan-out", r.fanoutGroup},
		{"rebuild", r.rebuildGroup},
	} {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := step.fn(ctx); err != nil {
			if ferr := s.failed(); ferr != nil {
				err = errors.Join(err, ferr)
			}
			return fmt.Errorf("bench %s: %w", step.name, err)
		}
	}
	return s.failed()
}

// atLeast drops records below a level: the services log every call at
// Info, which would measure the terminal rather than the service.
type atLeast struct {
	slog.Handler
	min slog.Level
}

func (h atLeast) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= h.min && h.Handler.Enabled(ctx, l)
}

func (h atLeast) WithAttrs(a []slog.Attr) slog.Handler { return atLeast{h.Handler.WithAttrs(a), h.min} }
func (h atLeast) WithGroup(n string) slog.Handler      { return atLeast{h.Handler.WithGroup(n), h.min} }

type runner struct {
	o   Options
	p   *plan
	s   *stack
	log *slog.Logger
	rep *Report

	insts     []institution
	si        *schemeInfo
	provinces map[string]string
	group     string   // the land offices' national peer group, e.g. "kantah"
	revs      []uint64 // RecordAssessment: each institution's current revision
	echoes    map[int]stats
}

func (r *runner) setup(ctx context.Context) error {
	t := time.Now()
	var err error
	r.log.Info("bench: registering institutions", "n", r.p.institutions)
	if r.insts, err = registerInstitutions(ctx, r.s.registry, r.p.institutions, r.p.setupCallers); err != nil {
		return err
	}
	r.rep.Setup["register_institutions_s"] = round2(time.Since(t).Seconds())
	if r.si, err = loadScheme(ctx, r.s.assessment, schemeYear); err != nil {
		return err
	}
	for _, g := range r.si.groups {
		for _, sc := range g.GetScopes() {
			if sc == assessmentv1.ScopeKind_SCOPE_KIND_NATIONAL && r.group == "" {
				r.group = g.GetCode()
			}
		}
	}
	if r.group == "" {
		return errors.New("no national peer group for land offices in the scheme")
	}
	prov, err := r.s.registry.ListRegions(ctx, &registryv1.ListRegionsRequest{Level: registryv1.RegionLevel_REGION_LEVEL_PROVINCE})
	if err != nil {
		return err
	}
	r.provinces = map[string]string{}
	for _, p := range prov.GetRegions() {
		r.provinces[p.GetCode()] = p.GetName()
	}

	// The boards: records published straight into ASSESSMENTS as the
	// assessment service does, before the ranking service starts, so it
	// builds them with its start-up rebuild rather than one event at a time.
	t = time.Now()
	total := 0
	for _, n := range r.p.boards {
		r.log.Info("bench: publishing board records", "board", boardScheme(n), "entries", n, "previous_round", min(n, r.p.prevBoard))
		k, err := publishBoards(ctx, r.s.js, r.s.asyncFailures, r.si, r.insts, r.provinces, n, r.p.prevBoard, func(done int) {
			r.log.Debug("bench: board records acknowledged", "board", boardScheme(n), "n", done)
		})
		total += k
		if err != nil {
			return err
		}
	}
	pub := time.Since(t)
	r.rep.Setup["board_records"] = total
	r.rep.Setup["board_records_publish_s"] = round2(pub.Seconds())
	r.rep.Setup["board_records_publish_per_s"] = int(float64(total) / pub.Seconds())

	r.log.Info("bench: starting the ranking service (start-up rebuild of every board)", "records", total)
	t = time.Now()
	if err := r.s.startRanking(); err != nil {
		return err
	}
	r.rep.Setup["ranking_start_rebuild_s"] = round2(time.Since(t).Seconds())

	for _, y := range []int32{schemeYear, fanoutYear} {
		if _, err := r.s.assessment.CreateRound(ctx, &assessmentv1.CreateRoundRequest{SchemeId: schemeID, Year: y, Title: "bench"}); err != nil {
			return fmt.Errorf("create round %s-%d: %w", schemeID, y, err)
		}
	}
	r.revs = make([]uint64, len(r.insts))
	return nil
}

// cell measures one operation or baseline; operations are profiled when
// asked.
func (r *runner) cell(ctx context.Context, name string, size, callers int, op bool, fn call) (stats, string, error) {
	prof := ""
	if op && r.o.ProfileDir != "" {
		prof = filepath.Join(r.o.ProfileDir, slug(name, size, callers)+".pprof")
	}
	st, err := run(ctx, callers, r.p.cell, prof, fn)
	if err != nil {
		return st, "", fmt.Errorf("%s (%s, %d callers): %w", name, sizeString(size), callers, err)
	}
	r.log.Info("bench: measured", "op", name, "size", size, "callers", callers, "ops_per_s", int(st.OpsPerSec), "p50", st.P50, "p99", st.P99)
	return st, prof, nil
}

var nonWord = regexp.MustCompile(`[^a-z0-9]+`)

func slug(name string, size, callers int) string {
	s := strings.Trim(nonWord.ReplaceAllString(strings.ToLower(name), "-"), "-")
	if size > 0 {
		s += "-" + strings.ToLower(sizeString(size))
	}
	return fmt.Sprintf("%s-c%d", s, callers)
}

// echo measures the gRPC echo at every concurrency, right before the
// group that compares with it.
func (r *runner) echo(ctx context.Context) error {
	r.echoes = map[int]stats{}
	req := &healthpb.HealthCheckRequest{}
	for _, c := range r.p.callers {
		st, _, err := r.cell(ctx, "gRPC echo", 0, c, false, func(ctx context.Context, _, _ int) error {
			_, err := r.s.echo.Check(ctx, req)
			return err
		})
		if err != nil {
			return err
		}
		r.echoes[c] = st
	}
	return nil
}

// versus makes a row comparing an operation's throughput with a baseline's;
// target > 0 is the least ratio that passes.
func versus(op string, size, callers int, st stats, base string, bst stats, target float64, prof string) Row {
	row := Row{Operation: op, Size: size, Callers: callers, Ops: st.Ops, OpsSec: st.OpsPerSec, P50us: us(st.P50), P99us: us(st.P99),
		Baseline: base, BaselineOpsSec: bst.OpsPerSec, BaselineP50us: us(bst.P50), BaselineP99us: us(bst.P99), RatioKind: "throughput", Profile: prof}
	if bst.OpsPerSec > 0 {
		row.Ratio = st.OpsPerSec / bst.OpsPerSec
	}
	if target > 0 {
		row.Target = fmt.Sprintf(">= %.0f%%", 100*target)
		ok := row.Ratio >= target
		row.Pass = &ok
	}
	return row
}

func (r *runner) add(rows ...Row) { r.rep.Rows = append(r.rep.Rows, rows...) }

// ---- RecordAssessment ----

func (r *runner) recordGroup(ctx context.Context) error {
	if err := r.echo(ctx); err != nil {
		return err
	}
	// The raw JetStream baseline: a synchronous publish of the same event
	// to a stream with the same settings as ASSESSMENTS, on the same server.
	cfg := streams.Config(streams.Assessments, 1)
	cfg.Name, cfg.Subjects = "BENCH_PUBLISH", []string{"bench.publish.>"}
	if _, err := natsx.EnsureStream(ctx, r.s.js, cfg); err != nil {
		return err
	}
	tmpl, err := streams.NewMsg("bench.publish.x", "/predikat/assessment", r.insts[0].id,
		r.si.recordedEvent(schemeID, schemeYear, r.insts[0], 9000, time.Now()))
	if err != nil {
		return err
	}
	pubN := 0
	for _, c := range r.p.callers {
		if c > len(r.insts) {
			return fmt.Errorf("%d callers need at least as many institutions", c)
		}
		rec, prof, err := r.cell(ctx, "RecordAssessment", 0, c, true, r.recordCall(c))
		if err != nil {
			return err
		}
		pubN++
		cellN := pubN
		pub, _, err := r.cell(ctx, "JetStream publish", 0, c, false, func(ctx context.Context, w, i int) error {
			m := &nats.Msg{Subject: fmt.Sprintf("bench.publish.%d.%d", w, i), Data: tmpl.Data, Header: nats.Header{}}
			for k, v := range tmpl.Header {
				m.Header[k] = v
			}
			m.Header.Set(jetstream.MsgIDHeader, fmt.Sprintf("%d-%d-%d", cellN, w, i))
			_, err := r.s.js.PublishMsg(ctx, m)
			return err
		})
		if err != nil {
			return err
		}
		r.add(versus("RecordAssessment", 0, c, rec, "gRPC echo", r.echoes[c], targetRecordVsEcho, prof),
			versus("RecordAssessment", 0, c, rec, "JetStream sync publish", pub, 0, prof))
	}
	return nil
}

// recordCall records (then corrects) institutions: caller w owns those
// whose index is w modulo callers, so no two callers race on a record.
func (r *runner) recordCall(callers int) call {
	n := len(r.insts)
	round := fmt.Sprintf("%s-%d", schemeID, schemeYear)
	return func(ctx context.Context, w, i int) error {
		owned := (n - w + callers - 1) / callers
		j := w + (i%owned)*callers
		rev := r.revs[j]
		req := &assessmentv1.RecordAssessmentRequest{RoundId: round, InstitutionId: r.insts[j].id,
			Input: r.input(j, int(rev), 60), CorrectsRevision: rev, RequestId: fmt.Sprintf("bench-%d-r%d", j, rev+1)}
		if rev > 0 {
			req.Reason = "benchmark correction"
		}
		resp, err := r.s.assessment.RecordAssessment(ctx, req)
		if err != nil {
			return err
		}
		if !resp.GetCreated() || resp.GetAssessment().GetRevision() != rev+1 {
			return fmt.Errorf("record %s: created=%v revision %d, want a new revision %d", req.GetInstitutionId(), resp.GetCreated(), resp.GetAssessment().GetRevision(), rev+1)
		}
		r.revs[j] = rev + 1
		return nil
	}
}

// input is dimension scores from lo to lo+39.99, varied by institution and
// revision.
func (r *runner) input(j, rev, lo int) *assessmentv1.AssessmentInput {
	ds := &assessmentv1.DimensionScores{}
	for k, d := range r.si.dimensions {
		ds.Scores = append(ds.Scores, &assessmentv1.DimensionScore{Code: d,
			Score: fmt.Sprintf("%d.%02d", lo+(j+rev+k)%(100-lo), (j*7+rev*13+k)%100)})
	}
	return &assessmentv1.AssessmentInput{Result: &assessmentv1.AssessmentInput_DimensionScores{DimensionScores: ds}}
}

// ---- GetLeaderboard and GetStanding ----

// boardKey is the sorted set of a board's national board in Redis, read
// from the ranking service's key layout (see services/ranking/internal/store).
func (r *runner) boardKey(ctx context.Context, n int) (string, error) {
	tag := fmt.Sprintf("{%s:%d}", boardScheme(n), boardYear)
	gen, err := r.s.benchRDB.HGet(ctx, "rk:v1:"+tag+":round", "gen").Result()
	if err != nil {
		return "", fmt.Errorf("board %s: round of layout v1 in Redis: %w", boardScheme(n), err)
	}
	key := fmt.Sprintf("rk:v1:%s:g%s:z:%s:00", tag, gen, r.group)
	card, err := r.s.benchRDB.ZCard(ctx, key).Result()
	if err != nil || card != int64(n) {
		return "", fmt.Errorf("board %s: sorted set %s has %d entries (%v), want %d", boardScheme(n), key, card, err, n)
	}
	return key, nil
}

func (r *runner) leaderboardGroup(ctx context.Context) error {
	if err := r.echo(ctx); err != nil {
		return err
	}
	for _, n := range r.p.boards {
		key, err := r.boardKey(ctx, n)
		if err != nil {
			return err
		}
		req := &rankingv1.GetLeaderboardRequest{Board: &rankingv1.BoardKey{SchemeId: boardScheme(n), Year: boardYear, PeerGroup: r.group, Scope: "00"}, PageSize: 10}
		resp, err := r.s.ranking.GetLeaderboard(ctx, req)
		if err != nil {
			return err
		}
		if resp.GetTotalEntries() != int32(n) || len(resp.GetEntries()) != 10 || resp.GetEntries()[0].GetInstitutionId() != instID(0) {
			return fmt.Errorf("GetLeaderboard %s: %d of %d entries, first %q; want 10 of %d, first %s",
				boardScheme(n), len(resp.GetEntries()), resp.GetTotalEntries(), resp.GetEntries()[0].GetInstitutionId(), n, instID(0))
		}
		for _, c := range r.p.callers {
			lb, prof, err := r.cell(ctx, "GetLeaderboard top 10", n, c, true, func(ctx context.Context, _, _ int) error {
				_, err := r.s.ranking.GetLeaderboard(ctx, req)
				return err
			})
			if err != nil {
				return err
			}
			zr, _, err := r.cell(ctx, "Redis ZREVRANGE 0 9", n, c, false, func(ctx context.Context, _, _ int) error {
				return r.s.benchRDB.ZRevRangeWithScores(ctx, key, 0, 9).Err()
			})
			if err != nil {
				return err
			}
			r.add(versus("GetLeaderboard top 10", n, c, lb, "gRPC echo", r.echoes[c], targetQueryVsEcho, prof),
				versus("GetLeaderboard top 10", n, c, lb, "Redis ZREVRANGE 0 9", zr, 0, prof))
		}
	}
	return nil
}

func (r *runner) standingGroup(ctx context.Context) error {
	if err := r.echo(ctx); err != nil {
		return err
	}
	target := instID(boardTarget)
	byCallers := map[int]map[int]stats{} // callers -> size -> stats
	profs := map[int]string{}            // callers -> profile of the largest board
	for _, n := range r.p.boards {
		key, err := r.boardKey(ctx, n)
		if err != nil {
			return err
		}
		req := &rankingv1.GetStandingRequest{InstitutionId: target, SchemeId: boardScheme(n), Year: boardYear}
		resp, err := r.s.ranking.GetStanding(ctx, req)
		if err != nil {
			return err
		}
		if len(resp.GetStandings()) == 0 || resp.GetStandings()[0].GetOutOf() != int32(n) || resp.GetStandings()[0].GetPreviousRank() == 0 {
			return fmt.Errorf("GetStanding %s on %s: %v; want the national board of %d with a previous rank", target, boardScheme(n), resp.GetStandings(), n)
		}
		for _, c := range r.p.callers {
			gs, prof, err := r.cell(ctx, "GetStanding", n, c, true, func(ctx context.Context, _, _ int) error {
				_, err := r.s.ranking.GetStanding(ctx, req)
				return err
			})
			if err != nil {
				return err
			}
			zr, _, err := r.cell(ctx, "Redis ZREVRANK", n, c, false, func(ctx context.Context, _, _ int) error {
				return r.s.benchRDB.ZRevRank(ctx, key, target).Err()
			})
			if err != nil {
				return err
			}
			if byCallers[c] == nil {
				byCallers[c] = map[int]stats{}
			}
			byCallers[c][n] = gs
			profs[c] = prof
			r.add(versus("GetStanding", n, c, gs, "gRPC echo", r.echoes[c], targetQueryVsEcho, prof),
				versus("GetStanding", n, c, gs, "Redis ZREVRANK", zr, 0, prof))
		}
	}
	// Growth: the largest board's p50 latency over the smallest's.
	small, large := r.p.boards[0], r.p.boards[len(r.p.boards)-1]
	for _, c := range r.p.callers {
		a, b := byCallers[c][large], byCallers[c][small]
		row := Row{Operation: "GetStanding p50 growth", Size: large, Callers: c, Ops: a.Ops, OpsSec: a.OpsPerSec, P50us: us(a.P50), P99us: us(a.P99),
			Baseline: "GetStanding " + sizeString(small), BaselineOpsSec: b.OpsPerSec, BaselineP50us: us(b.P50), BaselineP99us: us(b.P99),
			RatioKind: "latency", Target: fmt.Sprintf("<= %.1fx", targetStandingGrowth), Profile: profs[c]}
		if b.P50 > 0 {
			row.Ratio = float64(a.P50) / float64(b.P50)
		}
		ok := row.Ratio > 0 && row.Ratio <= targetStandingGrowth
		row.Pass = &ok
		r.add(row)
	}
	return nil
}

// ---- ListInstitutions ----

func (r *runner) listGroup(ctx context.Context) error {
	if err := r.echo(ctx); err != nil {
		return err
	}
	// A province's institutions, 50 a page: the registry's index filters
	// every institution in name order until the page is full.
	req := &registryv1.ListInstitutionsRequest{RegionCode: r.insts[0].province, PageSize: 50}
	resp, err := r.s.registry.ListInstitutions(ctx, req)
	if err != nil {
		return err
	}
	if want := min(50, len(r.insts)); len(resp.GetInstitutions()) < want/2 {
		return fmt.Errorf("ListInstitutions in %s: %d institutions, want a page", req.GetRegionCode(), len(resp.GetInstitutions()))
	}
	for _, c := range r.p.callers {
		li, prof, err := r.cell(ctx, "ListInstitutions", len(r.insts), c, true, func(ctx context.Context, _, _ int) error {
			_, err := r.s.registry.ListInstitutions(ctx, req)
			return err
		})
		if err != nil {
			return err
		}
		row := versus("ListInstitutions", len(r.insts), c, li, "gRPC echo", r.echoes[c], 0, prof)
		row.Note = fmt.Sprintf("region_code %s, page_size 50", req.GetRegionCode())
		if c != r.p.callers[0] {
			row.Note = ""
		}
		r.add(row)
	}
	return nil
}

// ---- award fan-out ----

func (r *runner) fanoutGroup(ctx context.Context) error {
	n := min(r.p.fanout, len(r.insts))
	round := fmt.Sprintf("%s-%d", schemeID, fanoutYear)
	r.log.Info("bench: recording a round of band-A assessments to publish", "round", round, "n", n)
	err := parallel(ctx, n, r.p.setupCallers, func(ctx context.Context, j int) error {
		_, err := r.s.assessment.RecordAssessment(ctx, &assessmentv1.RecordAssessmentRequest{RoundId: round, InstitutionId: r.insts[j].id,
			Input: r.input(j, 0, 90), RequestId: fmt.Sprintf("fanout-%d", j)})
		return err
	})
	if err != nil {
		return err
	}
	if _, err := r.s.assessment.CloseRound(ctx, &assessmentv1.CloseRoundRequest{RoundId: round}); err != nil {
		return err
	}

	type receipt struct{ at, granted time.Time }
	var (
		mu       sync.Mutex
		receipts []receipt
	)
	sub, err := awardfeed.Subscribe(ctx, r.s.js, "bench-fanout", awardfeed.Filter{SchemeID: schemeID, Year: fanoutYear},
		func(_ context.Context, ev awardfeed.Event) error {
			at := time.Now()
			if ev.Granted == nil {
				return nil
			}
			mu.Lock()
			// ce-time is the event time (streams.NewMsg writes one from
			// the other): when the award was granted, before its publish.
			receipts = append(receipts, receipt{at: at, granted: ev.Granted.GetEventTime().AsTime()})
			mu.Unlock()
			return nil
		})
	if err != nil {
		return err
	}
	defer sub.Stop()

	prof := ""
	if r.o.ProfileDir != "" {
		prof = filepath.Join(r.o.ProfileDir, slug("award fan-out", n, 1)+".pprof")
	}
	stop, err := startProfile(prof)
	if err != nil {
		return err
	}
	t0 := time.Now()
	resp, err := r.s.assessment.PublishRound(ctx, &assessmentv1.PublishRoundRequest{RoundId: round})
	callDur := time.Since(t0)
	if err != nil {
		stop()
		return err
	}
	want := int(resp.GetAwardsGranted())
	deadline := time.Now().Add(time.Minute)
	for {
		mu.Lock()
		got := len(receipts)
		mu.Unlock()
		if got >= want {
			break
		}
		if time.Now().After(deadline) {
			stop()
			return fmt.Errorf("the subscriber received %d of %d awards within a minute", got, want)
		}
		time.Sleep(time.Millisecond)
	}
	stop()
	mu.Lock()
	rs := append([]receipt(nil), receipts...)
	mu.Unlock()
	if want == 0 {
		return errors.New("PublishRound granted no award")
	}
	first, last := rs[0].at, rs[0].at
	delays := make([]time.Duration, 0, len(rs))
	for _, x := range rs {
		first, last = minTime(first, x.at), maxTime(last, x.at)
		delays = append(delays, x.at.Sub(x.granted))
	}
	ds := summarize(delays, last.Sub(t0))
	note := fmt.Sprintf("%d awards for %d institutions; the PublishRound call took %s", want, n, callDur.Round(time.Millisecond))
	pass := ds.P99 < targetFanoutP99
	r.add(
		Row{Operation: "PublishRound -> first award", Size: n, Callers: 1, Ops: 1, P50us: us(first.Sub(t0)), Profile: prof, Note: note},
		Row{Operation: "PublishRound -> last award", Size: n, Callers: 1, Ops: 1, P50us: us(last.Sub(t0)), OpsSec: float64(want) / last.Sub(t0).Seconds(), Profile: prof},
		Row{Operation: "award publish -> receive", Size: want, Callers: 1, Ops: ds.Ops, OpsSec: ds.OpsPerSec, P50us: us(ds.P50), P99us: us(ds.P99),
			Target: fmt.Sprintf("p99 < %s", targetFanoutP99), Pass: &pass, Profile: prof},
	)
	r.log.Info("bench: fan-out", "awards", want, "first", first.Sub(t0), "last", last.Sub(t0), "p99", ds.P99)
	return nil
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// startProfile starts a CPU profile into path ("" does nothing) and
// returns its stop.
func startProfile(path string) (func(), error) {
	if path == "" {
		return func() {}, nil
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, err
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			pprof.StopCPUProfile()
			f.Close()
		})
	}, nil
}

// ---- rebuild ----

func (r *runner) rebuildGroup(ctx context.Context) error {
	for _, n := range r.p.rebuilds {
		prof := ""
		if r.o.ProfileDir != "" {
			prof = filepath.Join(r.o.ProfileDir, slug("RebuildBoards", n, 1)+".pprof")
		}
		stop, err := startProfile(prof)
		if err != nil {
			return err
		}
		cctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
		t0 := time.Now()
		resp, err := r.s.ranking.RebuildBoards(cctx, &rankingv1.RebuildBoardsRequest{SchemeId: boardScheme(n), Year: boardYear})
		wall := time.Since(t0)
		cancel()
		stop()
		if err != nil {
			return fmt.Errorf("RebuildBoards %s: %w", boardScheme(n), err)
		}
		if resp.GetAssessmentsRead() != int64(n) {
			return fmt.Errorf("RebuildBoards %s read %d assessments, want %d", boardScheme(n), resp.GetAssessmentsRead(), n)
		}
		el := resp.GetElapsed().AsDuration()
		rate := float64(resp.GetAssessmentsRead()) / el.Seconds()

		// Baseline: the same snapshot read from the stream (last message
		// per subject, ephemeral consumer) with nothing done with it.
		read, err := readLastPerSubject(ctx, r.s.js, streams.AssessmentFilter(boardScheme(n), fmt.Sprint(boardYear)))
		if err != nil {
			return err
		}
		if read.Ops != n {
			return fmt.Errorf("stream read of %s: %d messages, want %d", boardScheme(n), read.Ops, n)
		}
		pass := rate >= targetRebuildRate
		row := Row{Operation: "RebuildBoards", Size: n, Callers: 1, Ops: n, OpsSec: rate, P50us: us(el),
			Baseline: "stream read, last per subject", BaselineOpsSec: read.OpsPerSec, BaselineP50us: us(read.Elapsed),
			RatioKind: "throughput", Target: fmt.Sprintf(">= %d/s", targetRebuildRate), Pass: &pass, Profile: prof,
			Note: fmt.Sprintf("ops/s is assessments/s; p50 is the whole rebuild (%d boards, %d entries; call %s)",
				resp.GetBoardsWritten(), resp.GetEntriesWritten(), wall.Round(time.Millisecond))}
		if read.OpsPerSec > 0 {
			row.Ratio = rate / read.OpsPerSec
		}
		r.add(row)
		r.log.Info("bench: rebuilt", "n", n, "assessments_per_s", int(rate), "stream_read_per_s", int(read.OpsPerSec))
	}
	return nil
}

// readLastPerSubject reads the last message of every subject matching
// filter the way a rebuild does, and only that.
func readLastPerSubject(ctx context.Context, js jetstream.JetStream, filter string) (stats, error) {
	t0 := time.Now()
	cons, err := js.CreateConsumer(ctx, streams.Assessments, jetstream.ConsumerConfig{
		DeliverPolicy: jetstream.DeliverLastPerSubjectPolicy, AckPolicy: jetstream.AckNonePolicy,
		MemoryStorage: true, InactiveThreshold: time.Minute, FilterSubject: filter,
	})
	if err != nil {
		return stats{}, err
	}
	defer func() { _ = js.DeleteConsumer(context.WithoutCancel(ctx), streams.Assessments, cons.CachedInfo().Name) }()
	pending := int(cons.CachedInfo().NumPending)
	it, err := cons.Messages(jetstream.PullMaxMessages(4096))
	if err != nil {
		return stats{}, err
	}
	defer it.Stop()
	n := 0
	for n < pending {
		m, err := it.Next(jetstream.NextMaxWait(20 * time.Second))
		if err != nil {
			return stats{}, fmt.Errorf("stream read after %d of %d: %w", n, pending, err)
		}
		if _, err := m.Metadata(); err != nil {
			return stats{}, err
		}
		n++
	}
	el := time.Since(t0)
	return stats{Ops: n, Elapsed: el, OpsPerSec: float64(n) / el.Seconds()}, nil
}

func round2(v float64) float64 { return float64(int(v*100+0.5)) / 100 }
