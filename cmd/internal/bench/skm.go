package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/timestamppb"

	harness "github.com/predikat-id/predikat/cmd/internal/stack"
	"github.com/predikat-id/predikat/pkg/events"
	assessmentv1 "github.com/predikat-id/predikat/pkg/gen/predikat/assessment/v1"
	eventsv1 "github.com/predikat-id/predikat/pkg/gen/predikat/events/v1"
	registryv1 "github.com/predikat-id/predikat/pkg/gen/predikat/registry/v1"
	"github.com/predikat-id/predikat/pkg/platform/natsx"
)

// SKMOptions configures RunSKM, the SKM ingestion benchmark (`make
// bench-skm`).
type SKMOptions struct {
	// Out receives the table (nil: standard output).
	Out io.Writer
	// JSONPath is the report the SKM rows are written into (empty:
	// DefaultJSONPath). The rows of another run there are kept; the SKM
	// rows of an earlier run are replaced.
	JSONPath string
	// Quick runs 200,000 responses of 1,000 units instead of 10,000,000 of
	// 50,000.
	Quick bool
	// InProcess runs the services in this process: quicker to start, and a
	// CPU profile then covers the service; the crash is a stop then, not a
	// kill -9 (there is no process of its own to kill).
	InProcess bool
	// ProfileDir, when set, receives a CPU profile of this process while
	// the service takes each slice of responses (skm-ingestion-s1.pprof,
	// ...; go tool pprof merges them): the harness and the NATS server,
	// and the services with InProcess.
	ProfileDir string
	// Seed makes the answers (0: a fixed default).
	Seed   uint64
	Logger *slog.Logger

	plan *skmPlan // tests: tiny sizes
}

// skmPlan is the sizes of an SKM run.
type skmPlan struct {
	units   int // service units
	perUnit int // responses per unit and wave: one message
	// unitsPerSubmission is how many units (messages) one client stream
	// sends before it closes and waits for the answer.
	unitsPerSubmission int
	streams            int // concurrent client streams
	slices             int // the timed wave is cut into slices, each followed by its baseline
	crashUnits         int // units that get a second wave, during which the service is killed
	setupCallers       int
}

func skmFullPlan() *skmPlan {
	return &skmPlan{units: 50_000, perUnit: 200, unitsPerSubmission: 100, streams: 8, slices: 4, crashUnits: 5_000, setupCallers: 32}
}

func skmQuickPlan() *skmPlan {
	return &skmPlan{units: 1_000, perUnit: 200, unitsPerSubmission: 50, streams: 4, slices: 2, crashUnits: 250, setupCallers: 16}
}

// Targets of the SKM run.
const (
	targetSKMRate    = 100_000 // responses/s through SubmitSurveyResponses
	targetSKMRunTime = 5 * time.Minute
	skmDefaultSeed   = 17
	// The service's batching (services/assessment/internal/app): a batch
	// is stored when it holds this many responses (or 500 units, or a unit
	// 2,000 responses).
	skmBatchResponses = 10_000
	skmBatchUnits     = 500
	skmRowPrefix      = "SKM "
	skmScratchStream  = "BENCH_SKM"
	skmScratchPrefix  = "benchskm"
)

// skmSubmission is one client stream: units of one wave, one message each.
type skmSubmission struct {
	wave  int
	units []int
}

func (s skmSubmission) responses(perUnit int) int64 { return int64(len(s.units) * perUnit) }

// skmRunner is one SKM run.
type skmRunner struct {
	o   SKMOptions
	p   *skmPlan
	s   *stack
	log *slog.Logger
	gen *skmGen
	rep *Report

	asmAddr string
	surveys assessmentv1.SurveyServiceClient
	conn    *grpc.ClientConn
}

// RunSKM runs the SKM ingestion benchmark: a private stack with production
// durability, service units registered, responses streamed through
// SubmitSurveyResponses beside a raw JetStream atomic batch of the same
// bytes in the same batching, the assessment service's memory, then a
// second wave during which the service is killed with SIGKILL, restarted,
// sent again what it had not acknowledged, and its results compared with
// what was sent, after the restart and after another (a rebuild from the
// log). It prints the table and writes the rows into the JSON report.
func RunSKM(ctx context.Context, o SKMOptions) (err error) {
	if o.Out == nil {
		o.Out = os.Stdout
	}
	if o.JSONPath == "" {
		o.JSONPath = DefaultJSONPath
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Seed == 0 {
		o.Seed = skmDefaultSeed
	}
	p := o.plan
	if p == nil {
		p = skmFullPlan()
		if o.Quick {
			p = skmQuickPlan()
		}
	}
	start := time.Now()
	now := time.Now()
	r := &skmRunner{o: o, p: p, log: o.Logger, rep: newReport(start, o.Quick),
		gen: newSKMGen(o.Seed, int32(now.Year()), p.units, p.perUnit, 2, now)}
	r.rep.CellBudget = fmt.Sprintf("%d responses of %d units in %d slices, each followed by its baseline", p.units*p.perUnit, p.units, p.slices)
	whole := watchCPU()
	defer func() {
		r.rep.OtherCPU = round2(whole.otherPercent())
		err = r.report(start, err)
	}()
	mode := harness.Processes
	if o.InProcess {
		mode = harness.InProcess
	}
	svcLog := slog.New(atLeast{o.Logger.Handler(), slog.LevelWarn})
	s, err := newStack(ctx, r.log, svcLog, mode)
	if err != nil {
		return err
	}
	defer s.close()
	r.s = s
	if err := r.setup(ctx); err != nil {
		return errors.Join(fmt.Errorf("bench-skm setup: %w", err), s.failed())
	}
	if err := r.ingest(ctx); err != nil {
		return errors.Join(err, s.failed())
	}
	r.memoryRow(ctx)
	if err := r.crash(ctx); err != nil {
		return errors.Join(err, s.failed())
	}
	if err := r.rebuild(ctx); err != nil {
		return errors.Join(err, s.failed())
	}
	el := time.Since(start)
	ok := el < targetSKMRunTime
	r.rep.Rows = append(r.rep.Rows, Row{Operation: skmRowPrefix + "whole run", Size: p.units * p.perUnit, Callers: p.streams, P50us: us(el), OtherCPU: round2(whole.otherPercent()),
		Target: "< " + targetSKMRunTime.String(), Pass: &ok, Note: "from the start of the harness to the last comparison: setup, timed wave and baselines, the crash wave, two restarts and three comparisons"})
	return s.failed()
}

// setup registers the units on NATS without sync writes (as the main
// bench registers its institutions), then restarts NATS with sync writes,
// starts the registry and the assessment service on it, opens the SKM
// round and makes the baseline's scratch stream.
func (r *skmRunner) setup(ctx context.Context) error {
	s := r.s
	r.log.Info("bench-skm: registering service units on a private NATS (without sync writes)", "units", r.p.units, "dir", s.dir, "services", s.mode)
	if err := s.startNATS(ctx, false); err != nil {
		return err
	}
	t := time.Now()
	if err := r.startCore(ctx); err != nil {
		return err
	}
	r.rep.Setup["skm_start_services_s"] = round2(time.Since(t).Seconds())
	t = time.Now()
	if err := registerUnits(ctx, s.registry, r.gen.units, r.p.setupCallers); err != nil {
		return err
	}
	r.rep.Setup["skm_register_units_s"] = round2(time.Since(t).Seconds())
	s.stopServices()
	s.stopNATS()
	syncDisks()

	r.log.Info("bench-skm: NATS with sync writes (fsync before every acknowledgement); starting the registry and the assessment service")
	if err := s.startNATS(ctx, true); err != nil {
		return err
	}
	if err := r.startServices(ctx); err != nil {
		return err
	}
	if _, err := s.assessment.CreateRound(ctx, &assessmentv1.CreateRoundRequest{SchemeId: "skm", Year: r.gen.year, Title: "bench-skm"}); err != nil {
		return fmt.Errorf("create round %s: %w", r.gen.round, err)
	}
	cfg := events.StreamConfig(events.Surveys, 1)
	cfg.Name, cfg.Subjects = skmScratchStream, []string{skmScratchPrefix + ".>"}
	if _, err := natsx.EnsureStream(ctx, s.js, cfg); err != nil {
		return fmt.Errorf("the baseline's stream: %w", err)
	}
	r.rep.Env = map[string]string{"services": s.mode.String(), "nats_server": server.VERSION}
	for k, v := range environmentNoRedis() {
		r.rep.Env[k] = v
	}
	return nil
}

// startServices starts the registry, then the assessment service (once
// more on fresh services if a start fails, as the main bench does).
func (r *skmRunner) startServices(ctx context.Context) error {
	err := r.startCore(ctx)
	if err != nil && ctx.Err() == nil {
		r.log.Warn("bench-skm: a service did not start; starting the services once more", "err", err)
		r.s.dropServices()
		err = r.startCore(ctx)
	}
	return err
}

func (r *skmRunner) startCore(ctx context.Context) error {
	s := r.s
	svcs, err := s.services(ctx)
	if err != nil {
		return err
	}
	if s.regAddr, err = svcs.Start(harness.Registry, "127.0.0.1:0", ""); err != nil {
		return err
	}
	if r.asmAddr, err = svcs.Start(harness.Assessment, "127.0.0.1:0", s.regAddr); err != nil {
		return err
	}
	s.registry = registryv1.NewRegistryServiceClient(s.dial(s.regAddr))
	r.dialSurveys()
	return nil
}

// dialSurveys connects to the assessment service's address of the moment.
func (r *skmRunner) dialSurveys() {
	r.conn = r.s.dial(r.asmAddr)
	r.s.assessment = assessmentv1.NewAssessmentServiceClient(r.conn)
	r.surveys = assessmentv1.NewSurveyServiceClient(r.conn)
}

// restartAssessment starts the assessment service again and returns how
// long it took to serve: it folds the whole survey log before it does.
func (r *skmRunner) restartAssessment(ctx context.Context) (time.Duration, error) {
	t := time.Now()
	addr, err := r.s.svcs.Start(harness.Assessment, "127.0.0.1:0", r.s.regAddr)
	if err != nil {
		return 0, fmt.Errorf("restart the assessment service: %w", err)
	}
	el := time.Since(t)
	r.asmAddr = addr
	r.dialSurveys()
	return el, nil
}

// submissions cuts units into submissions of wave w.
func (r *skmRunner) submissions(units []int, w int) []skmSubmission {
	var out []skmSubmission
	for len(units) > 0 {
		n := min(r.p.unitsPerSubmission, len(units))
		out = append(out, skmSubmission{wave: w, units: units[:n]})
		units = units[n:]
	}
	return out
}

// batchUnits is how many of a submission's units the service stores in
// one atomic batch: it stores when it holds skmBatchResponses responses or
// skmBatchUnits units, and what is left when the stream ends.
func (r *skmRunner) batchUnits() int {
	return max(1, min(skmBatchUnits, (skmBatchResponses+r.p.perUnit-1)/r.p.perUnit, r.p.unitsPerSubmission))
}

// send streams one submission and returns the service's answer.
func (r *skmRunner) send(ctx context.Context, sub skmSubmission) (*assessmentv1.SubmitSurveyResponsesResponse, error) {
	st, err := r.surveys.SubmitSurveyResponses(ctx)
	if err != nil {
		return nil, err
	}
	for _, u := range sub.units {
		if err := st.Send(r.gen.unitMsg(u, sub.wave)); err != nil {
			break // CloseAndRecv says why
		}
	}
	return st.CloseAndRecv()
}

// sliceResult is one timed slice of the service or of its baseline.
type sliceResult struct {
	lat   []time.Duration
	el    time.Duration
	cpu   time.Duration
	other float64
	// records is how many messages the assessment service wrote to
	// ASSESSMENTS meanwhile: its units' SKM records, written in the
	// background (a unit's first at once, then at most once a minute).
	records int64
}

// ingest is the timed wave: every unit's responses, in slices; each slice
// is taken by the service, then published raw as the same batches.
func (r *skmRunner) ingest(ctx context.Context) error {
	all := make([]int, r.p.units)
	for i := range all {
		all[i] = i
	}
	subs := r.submissions(all, 0)
	per := (len(subs) + r.p.slices - 1) / r.p.slices
	tmpl, err := r.baselineTemplates()
	if err != nil {
		return err
	}
	var svc, raw []sliceResult
	var stored int64
	for i := 0; i*per < len(subs); i++ {
		part := subs[i*per : min(len(subs), (i+1)*per)]
		r.log.Info("bench-skm: slice", "slice", i+1, "submissions", len(part), "streams", r.p.streams)
		stop := func() {}
		if r.o.ProfileDir != "" {
			if stop, err = startProfile(filepath.Join(r.o.ProfileDir, fmt.Sprintf("skm-ingestion-s%d.pprof", i+1))); err != nil {
				return err
			}
		}
		a0 := r.records(ctx)
		res, n, err := r.serviceSlice(ctx, part)
		stop()
		if err != nil {
			return err
		}
		a1 := r.records(ctx)
		res.records = a1 - a0
		stored += n
		svc = append(svc, res)
		b, err := r.baselineSlice(ctx, part, tmpl, i)
		if err != nil {
			return err
		}
		b.records = r.records(ctx) - a1
		raw = append(raw, b)
		r.log.Info("bench-skm: slice measured", "slice", i+1, "service_responses_per_s", int(float64(n)/res.el.Seconds()),
			"raw_responses_per_s", int(float64(n)/b.el.Seconds()), "other_cpu_pct", int(max(res.other, b.other)))
	}
	total := int64(r.p.units * r.p.perUnit)
	if stored != total {
		return fmt.Errorf("the service stored %d responses of the %d sent", stored, total)
	}
	r.rep.Rows = append(r.rep.Rows, r.ingestRow(svc, raw, total))
	r.rep.Setup["skm_survey_records_after_ingest"] = r.records(ctx)
	return nil
}

// records is how many messages ASSESSMENTS holds: in this run, the SKM
// records the assessment service wrote from its units' results (-1 when
// it cannot be read).
func (r *skmRunner) records(ctx context.Context) int64 {
	st, err := r.s.js.Stream(ctx, events.Assessments)
	if err != nil {
		return -1
	}
	info, err := st.Info(ctx)
	if err != nil {
		return -1
	}
	return int64(info.State.Msgs)
}

// ingestRow judges the service's responses/s, beside the raw batches'.
func (r *skmRunner) ingestRow(svc, raw []sliceResult, total int64) Row {
	agg := func(rs []sliceResult) (stats, float64, []string) {
		var lat []time.Duration
		var el, cpu time.Duration
		other := 0.0
		var per []string
		for _, x := range rs {
			lat = append(lat, x.lat...)
			el += x.el
			cpu += x.cpu
			other = max(other, x.other)
			per = append(per, fmt.Sprintf("%s (%d records)", percent(x.other), x.records))
		}
		st := summarize(lat, el)
		st.OpsPerSec = float64(total) / el.Seconds()
		st.CPUPerOp = cpu / time.Duration(max(total, 1))
		return st, other, per
	}
	s, sOther, sPer := agg(svc)
	b, bOther, bPer := agg(raw)
	k := r.batchUnits()
	row := versus(skmRowPrefix+"SubmitSurveyResponses", int(total), r.p.streams, s, fmt.Sprintf("JetStream atomic batch of %d", k+1), b, 0, "")
	row.Ops = int(total)
	ok := s.OpsPerSec >= targetSKMRate
	row.Target, row.Pass = fmt.Sprintf(">= %d/s", targetSKMRate), &ok
	row.OtherCPU = round2(max(sOther, bOther))
	row.Disturbed = disturbed(row.OtherCPU)
	if r.o.ProfileDir != "" {
		row.Profile = filepath.Join(r.o.ProfileDir, "skm-ingestion-s*.pprof")
	}
	row.Note = fmt.Sprintf("ops/s are responses/s over %d units (%d each, one message a unit), %d concurrent streams of %d units; p50/p99 per submission (%d responses), the baseline's per atomic batch (%d unit messages of the same size and headers and the batch end, to a stream with SURVEYS' settings); "+
		"%d slices, each the service's then the baseline's; per slice, other cpu and the SKM records the service wrote in the background meanwhile (a unit's first at once, then at most once a minute; they share the NATS server with both): %s (service), %s (baseline)",
		r.p.units, r.p.perUnit, r.p.streams, r.p.unitsPerSubmission, r.p.unitsPerSubmission*r.p.perUnit, k, len(svc), strings.Join(sPer, " "), strings.Join(bPer, " "))
	return row
}

// serviceSlice sends part with the plan's concurrent streams and returns
// what it took and how many responses the service stored.
func (r *skmRunner) serviceSlice(ctx context.Context, part []skmSubmission) (sliceResult, int64, error) {
	var (
		mu     sync.Mutex
		lat    []time.Duration
		stored atomic.Int64
	)
	w := watchCPU()
	c0, _ := processCPU()
	t0 := time.Now()
	err := parallel(ctx, len(part), r.p.streams, func(ctx context.Context, j int) error {
		t := time.Now()
		res, err := r.send(ctx, part[j])
		d := time.Since(t)
		if err != nil {
			return fmt.Errorf("submission of %d units from %s: %w", len(part[j].units), r.gen.units[part[j].units[0]], err)
		}
		if n := part[j].responses(r.p.perUnit); res.GetAccepted() != n || res.GetRefused() != 0 || res.GetDuplicates() != 0 {
			return fmt.Errorf("submission from %s: accepted %d, duplicates %d, refused %d (%v); want %d accepted", r.gen.units[part[j].units[0]],
				res.GetAccepted(), res.GetDuplicates(), res.GetRefused(), res.GetRefusals(), n)
		}
		stored.Add(res.GetAccepted())
		mu.Lock()
		lat = append(lat, d)
		mu.Unlock()
		return nil
	})
	el := time.Since(t0)
	c1, _ := processCPU()
	return sliceResult{lat: lat, el: el, cpu: c1 - c0, other: w.otherPercent()}, stored.Load(), err
}

// baselineTemplates are the bodies of one batch as the service writes
// them: a SurveyResponsesStored per unit (each unit's first wave, the
// first batch's units) and the batch end. The baseline publishes them
// under its own subjects: the same bytes, headers and batching.
func (r *skmRunner) baselineTemplates() ([]*nats.Msg, error) {
	k := r.batchUnits()
	now := timestamppb.Now()
	by := "spiffe://predikat/user/admin"
	var out []*nats.Msg
	var total int64
	for u := range min(k, r.p.units) {
		req := r.gen.unitMsg(u, 0)
		ev := &eventsv1.SurveyResponsesStored{EventId: fmt.Sprintf("survey/%s/%s@0:0123456789abcdef", r.gen.round, r.gen.units[u]),
			EventTime: now, RoundId: r.gen.round, UnitId: r.gen.units[u], SubmittedBy: by}
		for _, x := range req.GetResponses() {
			ans := make([]byte, len(x.GetAnswers()))
			for i, a := range x.GetAnswers() {
				ans[i] = byte(a)
			}
			ev.Responses = append(ev.Responses, &eventsv1.StoredSurveyResponse{ResponseId: x.GetResponseId(), CollectionDate: x.GetCollectionDate(), Answers: ans})
		}
		total += int64(len(ev.Responses))
		m, err := events.NewMsg(events.SurveyUnitSubject("skm", r.gen.year, r.gen.units[u]), "/predikat/assessment", r.gen.units[u], ev)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	end := &eventsv1.SurveyBatchStored{EventId: "survey/" + r.gen.round + "/batch/survey/" + r.gen.round + "/" + r.gen.units[0] + "@0:0123456789abcdef",
		EventTime: now, RoundId: r.gen.round, Units: int32(len(out)), Responses: total, SubmittedBy: by}
	m, err := events.NewMsg(events.SurveyBatchSubject("skm", r.gen.year), "/predikat/assessment", r.gen.round, end)
	if err != nil {
		return nil, err
	}
	return append(out, m), nil
}

// baselineSlice publishes part's batches raw: for every batch the service
// stores, its unit messages (each expecting its subject empty, as a unit's
// first write does) and the batch end (expecting an intake subject
// unchanged), as one atomic batch, with the same concurrency.
func (r *skmRunner) baselineSlice(ctx context.Context, part []skmSubmission, tmpl []*nats.Msg, slice int) (sliceResult, error) {
	k := r.batchUnits()
	type batch struct{ units []int }
	var batches []batch
	for _, sub := range part {
		for us := sub.units; len(us) > 0; {
			n := min(k, len(us))
			batches = append(batches, batch{us[:n]})
			us = us[n:]
		}
	}
	var (
		mu  sync.Mutex
		lat []time.Duration
	)
	intake := fmt.Sprintf("%s.intake.%d", skmScratchPrefix, slice)
	w := watchCPU()
	c0, _ := processCPU()
	t0 := time.Now()
	err := parallel(ctx, len(batches), r.p.streams, func(ctx context.Context, j int) error {
		b := batches[j]
		msgs := make([]*nats.Msg, 0, len(b.units)+1)
		for i, u := range b.units {
			t := tmpl[i%(len(tmpl)-1)]
			m := &nats.Msg{Subject: fmt.Sprintf("%s.unit.%d.%s", skmScratchPrefix, slice, r.gen.units[u]), Data: t.Data, Header: make(nats.Header, len(t.Header)+3)}
			for h, v := range t.Header {
				m.Header[h] = v
			}
			m.Header.Set(jetstream.MsgIDHeader, fmt.Sprintf("skm-%d-%d", slice, u))
			m.Header.Set(jetstream.ExpectedLastSubjSeqHeader, "0")
			msgs = append(msgs, m)
		}
		t := tmpl[len(tmpl)-1]
		end := &nats.Msg{Subject: fmt.Sprintf("%s.batch.%d", skmScratchPrefix, slice), Data: t.Data, Header: make(nats.Header, len(t.Header)+4)}
		for h, v := range t.Header {
			end.Header[h] = v
		}
		end.Header.Set(jetstream.MsgIDHeader, fmt.Sprintf("skm-end-%d-%d", slice, j))
		end.Header.Set(jetstream.ExpectedLastSubjSeqHeader, "0")
		end.Header.Set("Nats-Expected-Last-Subject-Sequence-Subject", intake)
		msgs = append(msgs, end)
		tb := time.Now()
		if _, err := natsx.PublishAtomic(ctx, r.s.benchNC, msgs); err != nil {
			return fmt.Errorf("raw atomic batch of %d: %w", len(msgs), err)
		}
		d := time.Since(tb)
		mu.Lock()
		lat = append(lat, d)
		mu.Unlock()
		return nil
	})
	el := time.Since(t0)
	c1, _ := processCPU()
	return sliceResult{lat: lat, el: el, cpu: c1 - c0, other: w.otherPercent()}, err
}

// memoryRow reports the assessment process's heap and resident memory
// once every response is stored.
func (r *skmRunner) memoryRow(ctx context.Context) {
	row := Row{Operation: skmRowPrefix + "heap, assessment service", Size: r.p.units * r.p.perUnit, RatioKind: ratioMemory, OtherCPU: -1}
	var notes []string
	if r.s.mode != harness.Processes {
		row.Note = "the services run in the harness's process (--in-process): no heap of their own to report"
		r.rep.Rows = append(r.rep.Rows, row)
		return
	}
	if t := r.s.gcTraces[harness.Assessment]; t != nil {
		live, cycles := t.last()
		row.HeapLiveMB = live
		notes = append(notes, fmt.Sprintf("live heap of its last GC (%d GCs seen)", cycles))
	}
	if addr := r.s.metricsAddrs[harness.Assessment]; addr != "" {
		if inuse, alloc, err := scrapeHeap(ctx, addr); err != nil {
			notes = append(notes, "metrics: "+err.Error())
		} else {
			row.HeapInuseMB = float64(int(inuse + 0.5))
			notes = append(notes, fmt.Sprintf("in use now %.0f MB, allocated %.0f MB", inuse, alloc))
		}
	}
	rss := r.s.memory()[harness.Assessment]
	row.RSSMB = float64(rss)
	notes = append(notes, fmt.Sprintf("resident %d MB, read once the timed wave was stored; the service keeps per unit its counts and a bounded cache of recent units' response ids (64 MiB)", rss))
	pass := memoryValue(row) > 0 && memoryValue(row) <= targetAssessmentHeap
	row.Target, row.Pass = fmt.Sprintf("<= %d MB", targetAssessmentHeap), &pass
	row.Note = strings.Join(notes, "; ")
	r.rep.Rows = append(r.rep.Rows, row)
	r.rep.Setup["skm_rss_after_ingest_mb_assessment"] = rss
}

// report prints the table and writes the rows into the JSON report.
func (r *skmRunner) report(start time.Time, err error) error {
	r.rep.Seconds = time.Since(start).Seconds()
	if err != nil {
		r.rep.Error = err.Error()
	}
	if len(r.rep.Rows) > 0 {
		if terr := r.rep.writeTable(r.o.Out); terr != nil && err == nil {
			err = terr
		}
	}
	if jerr := mergeSKMReport(r.o.JSONPath, r.rep); jerr != nil && err == nil {
		err = fmt.Errorf("write %s: %w", r.o.JSONPath, jerr)
	}
	if err == nil {
		fmt.Fprintf(r.o.Out, "\n%d SKM rows in %.0fs; other processes used %s of the machine's CPU meanwhile; JSON in %s\n",
			len(r.rep.Rows), r.rep.Seconds, percent(r.rep.OtherCPU), r.o.JSONPath)
	}
	return err
}

// mergeSKMReport writes the SKM rows into the report at path: the rows of
// another run there (make bench) stay, the SKM rows of an earlier SKM run
// are replaced, and the SKM run's own facts go in the setup as skm_*. A
// missing or unreadable report is written anew.
func mergeSKMReport(path string, skm *Report) error {
	out, err := LoadReport(path)
	if err != nil {
		out = skm
		return out.writeJSON(path)
	}
	out.Rows = slices.DeleteFunc(out.Rows, func(x Row) bool { return strings.HasPrefix(x.Operation, skmRowPrefix) })
	out.Rows = append(out.Rows, skm.Rows...)
	if out.Setup == nil {
		out.Setup = map[string]any{}
	}
	for k := range out.Setup {
		if strings.HasPrefix(k, "skm_") {
			delete(out.Setup, k)
		}
	}
	for k, v := range skm.Setup {
		out.Setup[k] = v
	}
	out.Setup["skm_start"] = skm.Start
	out.Setup["skm_seconds"] = round2(skm.Seconds)
	out.Setup["skm_quick"] = skm.Quick
	out.Setup["skm_vcs_revision"] = skm.Revision
	out.Setup["skm_vcs_modified"] = skm.Modified
	out.Setup["skm_other_cpu_pct"] = skm.OtherCPU
	if skm.Error != "" {
		out.Setup["skm_error"] = skm.Error
	}
	return out.writeJSON(path)
}

// environmentNoRedis is what the rows were measured on, without Redis
// (the SKM run does not start it).
func environmentNoRedis() map[string]string {
	env := map[string]string{}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for line := range strings.Lines(string(b)) {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				env["cpu"] = strings.TrimSpace(v)
				break
			}
		}
	}
	return env
}
