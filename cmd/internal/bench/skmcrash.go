package bench

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	harness "github.com/predikat-id/predikat/cmd/internal/stack"
	assessmentv1 "github.com/predikat-id/predikat/pkg/gen/predikat/assessment/v1"
)

// skmCrash is what happened to the crash wave.
type skmCrash struct {
	subs    []skmSubmission
	acked   []*assessmentv1.SubmitSurveyResponsesResponse // by submission; nil: no answer
	order   []int                                         // submissions in the order they were acknowledged
	killAt  int                                           // acknowledged submissions when the kill was sent
	cut     int                                           // submissions cut short by the crash
	unsent  int                                           // submissions never sent before the crash
	wasCut  []bool                                        // by submission: sent, and cut short
	problem []string                                      // answers that were not what a first send must get
}

// crash sends a second wave of responses to the first crashUnits units and
// kills the assessment service with SIGKILL once half of its submissions
// are acknowledged, while the others are in flight; restarts it, sends
// again every submission without an answer and the last ones answered (all
// duplicates, none may count), and compares every unit's result with what
// was sent.
func (r *skmRunner) crash(ctx context.Context) error {
	units := make([]int, min(r.p.crashUnits, r.p.units))
	for i := range units {
		units[i] = i
	}
	c := &skmCrash{subs: r.submissions(units, 1)}
	c.acked = make([]*assessmentv1.SubmitSurveyResponsesResponse, len(c.subs))
	c.wasCut = make([]bool, len(c.subs))
	c.killAt = (len(c.subs) + 1) / 2
	how := "kill -9"
	if r.s.mode != harness.Processes {
		how = "stop (in process: no process of its own to kill)"
	}
	r.log.Info("bench-skm: crash wave", "submissions", len(c.subs), "units", len(units), "crash_after_acknowledged", c.killAt, "crash", how)

	if err := r.crashWave(ctx, c); err != nil {
		return err
	}
	r.log.Info("bench-skm: crashed; restarting the assessment service", "acknowledged", len(c.order), "cut_short", c.cut, "unsent", c.unsent)
	restart, err := r.restartAssessment(ctx)
	if err != nil {
		return err
	}
	r.rep.Setup["skm_restart_after_crash_s"] = round2(restart.Seconds())
	resent, err := r.resend(ctx, c)
	if err != nil {
		return err
	}
	cmp, err := r.compareAll(ctx)
	if err != nil {
		return err
	}
	r.rep.Rows = append(r.rep.Rows, r.crashRow(c, resent, cmp, restart, how))
	r.rep.Setup["skm_list_results_crash_s"] = round2(cmp.took.Seconds())
	return nil
}

// crashWave sends the wave's submissions and kills the service once
// killAt of them are acknowledged, while the others are in flight.
func (r *skmRunner) crashWave(ctx context.Context, c *skmCrash) error {
	var (
		mu      sync.Mutex
		crashed = make(chan struct{}) // closed once the kill is asked for
		once    sync.Once
		killErr = make(chan error, 1)
		going   bool // the kill was asked for
	)
	go func() {
		select {
		case <-crashed:
		case <-ctx.Done():
			killErr <- ctx.Err()
			return
		}
		if r.s.mode == harness.Processes {
			killErr <- r.s.svcs.KillService(harness.Assessment)
			return
		}
		killErr <- r.s.svcs.StopService(harness.Assessment)
	}()
	err := parallel(ctx, len(c.subs), r.p.streams, func(ctx context.Context, j int) error {
		mu.Lock()
		if going {
			c.unsent++
			mu.Unlock()
			return nil
		}
		mu.Unlock()
		res, err := r.send(ctx, c.subs[j])
		mu.Lock()
		defer mu.Unlock()
		if err != nil {
			if going {
				c.cut++
				c.wasCut[j] = true
				return nil // cut short by the crash: sent again below
			}
			return fmt.Errorf("crash wave, before the crash: %w", err)
		}
		if n := c.subs[j].responses(r.p.perUnit); res.GetAccepted() != n || res.GetDuplicates() != 0 || res.GetRefused() != 0 {
			c.problem = append(c.problem, fmt.Sprintf("first send from %s: accepted %d, duplicates %d, refused %d of %d",
				r.gen.units[c.subs[j].units[0]], res.GetAccepted(), res.GetDuplicates(), res.GetRefused(), n))
		}
		c.acked[j] = res
		c.order = append(c.order, j)
		if len(c.order) == c.killAt {
			going = true
			once.Do(func() { close(crashed) })
		}
		return nil
	})
	once.Do(func() { close(crashed) }) // a wave too small to reach killAt still crashes
	if kerr := <-killErr; kerr != nil {
		return errors.Join(err, fmt.Errorf("crash the assessment service: %w", kerr))
	}
	return err
}

// skmResent is what the sends after the restart answered.
type skmResent struct {
	unacked, acked                int   // submissions sent again
	accepted, duplicates, refused int64 // over the unacknowledged ones
	ackedAccepted                 int64 // accepted over the acknowledged ones: must be 0
	ackedDuplicates               int64
	// stored is every response of the wave counted once: accepted by a
	// first send that was answered, or by a send after the restart, or
	// answered then as a duplicate of a send cut short by the crash. It
	// must be the wave.
	stored   int64
	problems []string
}

// resend sends again every submission without an answer, then the
// streams' worth acknowledged last before the crash.
func (r *skmRunner) resend(ctx context.Context, c *skmCrash) (skmResent, error) {
	var out skmResent
	var todo []int
	for j, a := range c.acked {
		if a == nil {
			todo = append(todo, j)
		} else {
			out.stored += a.GetAccepted()
		}
	}
	out.unacked = len(todo)
	last := c.order[max(0, len(c.order)-r.p.streams):]
	out.acked = len(last)
	isAcked := map[int]bool{}
	for _, j := range last {
		todo = append(todo, j)
		isAcked[j] = true
	}
	var mu sync.Mutex
	err := parallel(ctx, len(todo), r.p.streams, func(ctx context.Context, k int) error {
		j := todo[k]
		res, err := r.send(ctx, c.subs[j])
		if err != nil {
			return fmt.Errorf("send again, after the restart, the submission from %s: %w", r.gen.units[c.subs[j].units[0]], err)
		}
		mu.Lock()
		defer mu.Unlock()
		if isAcked[j] {
			out.ackedAccepted += res.GetAccepted()
			out.ackedDuplicates += res.GetDuplicates()
			out.refused += res.GetRefused()
			return nil
		}
		out.accepted += res.GetAccepted()
		out.duplicates += res.GetDuplicates()
		out.refused += res.GetRefused()
		out.stored += res.GetAccepted() + res.GetDuplicates()
		// A duplicate was stored by the send cut short; one never sent
		// before has none.
		if n := c.subs[j].responses(r.p.perUnit); res.GetAccepted()+res.GetDuplicates() != n || (!c.wasCut[j] && res.GetDuplicates() != 0) {
			out.problems = append(out.problems, fmt.Sprintf("sent again from %s (cut short: %v): accepted %d, duplicates %d of %d",
				r.gen.units[c.subs[j].units[0]], c.wasCut[j], res.GetAccepted(), res.GetDuplicates(), n))
		}
		return nil
	})
	return out, err
}

// crashRow judges the crash: every response of the wave stored exactly
// once, and every unit's result what was sent.
func (r *skmRunner) crashRow(c *skmCrash, rs skmResent, cmp skmComparison, restart time.Duration, how string) Row {
	wave := int64(0)
	for _, s := range c.subs {
		wave += s.responses(r.p.perUnit)
	}
	var ackedResp int64
	for _, j := range c.order[max(0, len(c.order)-r.p.streams):] {
		ackedResp += c.subs[j].responses(r.p.perUnit)
	}
	problems := append(append([]string{}, c.problem...), rs.problems...)
	if rs.stored != wave {
		problems = append(problems, fmt.Sprintf("the wave's %d responses were answered as stored %d times in all", wave, rs.stored))
	}
	if rs.ackedAccepted != 0 || rs.ackedDuplicates != ackedResp {
		problems = append(problems, fmt.Sprintf("acknowledged submissions sent again: %d accepted, %d duplicates; want 0 and %d", rs.ackedAccepted, rs.ackedDuplicates, ackedResp))
	}
	if rs.refused != 0 {
		problems = append(problems, fmt.Sprintf("%d responses refused after the restart", rs.refused))
	}
	problems = append(problems, cmp.problems...)
	ok := len(problems) == 0
	row := Row{Operation: skmRowPrefix + "crash mid-ingestion, restart", Size: int(wave), Callers: r.p.streams, Ops: cmp.units, P50us: us(restart),
		OtherCPU: -1, Target: "identical results", Pass: &ok}
	row.Note = fmt.Sprintf("%s of the assessment service after %d of %d submissions of the second wave (%d units) were acknowledged, %d cut short, %d never sent; "+
		"restarted in %s (its survey counts folded from the log first); sent again: the %d without an answer (%d responses accepted, %d duplicates: stored before the crash, never answered) "+
		"and the %d acknowledged last (%d duplicates, %d accepted); %d units' results (ListSurveyResults, pages of 1000, listed in %s) against what was sent: %s",
		how, len(c.order), len(c.subs), min(r.p.crashUnits, r.p.units), c.cut, c.unsent, restart.Round(10*time.Millisecond),
		rs.unacked, rs.accepted, rs.duplicates, rs.acked, rs.ackedDuplicates, rs.ackedAccepted, cmp.units, cmp.took.Round(100*time.Millisecond), verdict(problems))
	return row
}

// rebuild restarts the assessment service once more, so its counts are
// folded from the log again, and compares every unit's result again.
func (r *skmRunner) rebuild(ctx context.Context) error {
	r.log.Info("bench-skm: restarting the assessment service: its counts rebuilt from the log")
	if err := r.s.svcs.StopService(harness.Assessment); err != nil {
		return fmt.Errorf("stop the assessment service: %w", err)
	}
	el, err := r.restartAssessment(ctx)
	if err != nil {
		return err
	}
	cmp, err := r.compareAll(ctx)
	if err != nil {
		return err
	}
	total := r.p.units*r.p.perUnit + min(r.p.crashUnits, r.p.units)*r.p.perUnit
	ok := len(cmp.problems) == 0
	r.rep.Rows = append(r.rep.Rows, Row{Operation: skmRowPrefix + "rebuild from the log, restart", Size: total, Callers: 1, Ops: cmp.units,
		OpsSec: float64(total) / el.Seconds(), P50us: us(el), OtherCPU: -1, Target: "identical results", Pass: &ok,
		Note: fmt.Sprintf("the service stopped and started again: serving after %s, its counts of %d responses folded from SURVEYS (ops/s: responses folded per second of the start); %d units' results (listed in %s) against what was sent: %s",
			el.Round(10*time.Millisecond), total, cmp.units, cmp.took.Round(100*time.Millisecond), verdict(cmp.problems))})
	r.rep.Setup["skm_list_results_rebuild_s"] = round2(cmp.took.Seconds())
	r.rep.Setup["skm_survey_records_at_end"] = r.records(ctx)
	r.rep.Setup["skm_restart_rebuild_s"] = round2(el.Seconds())
	if rss := r.s.memory()[harness.Assessment]; rss > 0 {
		r.rep.Setup["skm_rss_after_rebuild_mb_assessment"] = rss
	}
	return nil
}

func verdict(problems []string) string {
	if len(problems) == 0 {
		return "identical"
	}
	shown := problems[:min(5, len(problems))]
	return fmt.Sprintf("%d differences, e.g. %s", len(problems), strings.Join(shown, "; "))
}

// skmComparison is every unit's result against what was sent.
type skmComparison struct {
	units    int
	problems []string
	took     time.Duration // the listing, every page
}

// compareAll lists every unit's result, 1,000 a page, and compares each
// with what the generator sent it: the first wave to every unit, the
// second to the first crashUnits.
func (r *skmRunner) compareAll(ctx context.Context) (skmComparison, error) {
	var out skmComparison
	seen := make([]bool, r.p.units)
	token := ""
	t0 := time.Now()
	for {
		cctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
		resp, err := r.surveys.ListSurveyResults(cctx, &assessmentv1.ListSurveyResultsRequest{RoundId: r.gen.round, PageSize: 1000, PageToken: token})
		cancel()
		if err != nil {
			return out, fmt.Errorf("ListSurveyResults after %d units: %w", out.units, err)
		}
		for _, res := range resp.GetResults() {
			u, err := strconv.Atoi(strings.TrimPrefix(res.GetUnitId(), "ul-bench-"))
			if err != nil || u < 0 || u >= r.p.units || seen[u] {
				out.problems = append(out.problems, fmt.Sprintf("unexpected or repeated unit %s", res.GetUnitId()))
				continue
			}
			seen[u] = true
			out.units++
			waves := []int{0}
			if u < r.p.crashUnits {
				waves = append(waves, 1)
			}
			if p := r.gen.want(u, waves).check(res); p != "" {
				out.problems = append(out.problems, p)
			}
		}
		token = resp.GetNextPageToken()
		if token == "" {
			break
		}
	}
	out.took = time.Since(t0)
	for u, ok := range seen {
		if !ok {
			out.problems = append(out.problems, fmt.Sprintf("unit %s has no result", r.gen.units[u]))
		}
	}
	return out, nil
}
