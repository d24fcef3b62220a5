package chaos

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	assessmentv1 "github.com/predikat-id/predikat/pkg/gen/predikat/assessment/v1"
	registryv1 "github.com/predikat-id/predikat/pkg/gen/predikat/registry/v1"
)

// The load writes land offices (Kantor Pertanahan) in the Ombudsman
// scheme: the kind is ranked nationally and per province, so every record
// lands on two boards.
const (
	loadKind   = registryv1.InstitutionKind_INSTITUTION_KIND_LAND_OFFICE
	loadScheme = "ombudsman"
	loadYear   = 2024
	callLimit  = 5 * time.Second // one attempt of one call
)

// write is one acknowledged RecordAssessment.
type write struct {
	RequestID   string    `json:"request_id"`
	Institution string    `json:"institution"`
	Revision    uint64    `json:"revision"`
	Created     bool      `json:"created"`
	Attempts    int       `json:"attempts"`
	LastAttempt time.Time `json:"last_attempt"` // when the attempt that got the answer began
	Acked       time.Time `json:"acked"`
}

// load is the load generator: it writes through every assessment
// instance in turn, so one instance down is one failed attempt.
type load struct {
	reg   registryv1.RegistryServiceClient
	asm   []assessmentv1.AssessmentServiceClient
	round string
	insts []string
	dims  []string
	turn  atomic.Uint64

	regions   []*registryv1.Region
	schemeDef *assessmentv1.Scheme

	mu       sync.Mutex
	acked    []write
	rejected map[string]string // request id: the non-retryable code
	unknown  []string          // request ids without a definite answer when the load stopped
	// errors counts every failed attempt by gRPC code, as a client sees
	// them.
	errors map[string]int
	// created are the institutions created under load: request id and the
	// id the registry answered ("" without a definite answer).
	created map[string]string
}

func newLoad(reg registryv1.RegistryServiceClient, round string) *load {
	return &load{reg: reg, round: round, rejected: map[string]string{}, errors: map[string]int{}, created: map[string]string{}}
}

// seen counts a failed attempt.
func (l *load) seen(err error) {
	if err == nil {
		return
	}
	l.mu.Lock()
	l.errors[status.Code(err).String()]++
	l.mu.Unlock()
}

// retryable is what a caller retries with the same request id: the call
// may or may not have taken effect, and the same id makes it once.
func retryable(err error) bool {
	switch status.Code(err) {
	case codes.Unavailable, codes.DeadlineExceeded, codes.Aborted, codes.ResourceExhausted, codes.Internal, codes.Unknown, codes.Canceled:
		return true
	}
	return false
}

// retry calls fn until it returns nil or a non-retryable error, or ctx
// ends; attempts is how many calls it made.
func (l *load) retry(ctx context.Context, fn func(ctx context.Context) error) (attempts int, last time.Time, err error) {
	return retry(ctx, func(ctx context.Context) error {
		err := fn(ctx)
		l.seen(err)
		return err
	})
}

// retry calls fn until it returns nil or a non-retryable error, or ctx
// ends; attempts is how many calls it made.
func retry(ctx context.Context, fn func(ctx context.Context) error) (attempts int, last time.Time, err error) {
	delay := 100 * time.Millisecond
	for {
		attempts++
		last = time.Now()
		cctx, cancel := context.WithTimeout(ctx, callLimit)
		err = fn(cctx)
		cancel()
		if err == nil || !retryable(err) || ctx.Err() != nil {
			return attempts, last, err
		}
		select {
		case <-ctx.Done():
			return attempts, last, ctx.Err()
		case <-time.After(delay):
		}
		delay = min(delay*2, time.Second)
	}
}

// asmClient is the next assessment instance, round robin.
func (l *load) asmClient() assessmentv1.AssessmentServiceClient {
	return l.asm[int(l.turn.Add(1))%len(l.asm)]
}

// setup registers n land offices, reads the scheme and opens the round.
func (l *load) setup(ctx context.Context, n int) error {
	places, err := l.listPlaces(ctx)
	if err != nil {
		return err
	}
	l.regions = places
	for i := range n {
		id := fmt.Sprintf("kantah-chaos-%04d", i)
		r := places[i%len(places)]
		req := &registryv1.CreateInstitutionRequest{InstitutionId: id,
			Institution: &registryv1.Institution{Name: fmt.Sprintf("Kantor Pertanahan Chaos %s %04d", r.GetName(), i), Kind: loadKind, RegionCode: r.GetCode()}}
		_, _, err := l.retry(ctx, func(ctx context.Context) error {
			_, err := l.reg.CreateInstitution(ctx, req)
			return err
		})
		if err != nil && status.Code(err) != codes.AlreadyExists {
			return fmt.Errorf("create institution %s: %w", id, err)
		}
		l.insts = append(l.insts, id)
	}
	if err := l.scheme(ctx); err != nil {
		return err
	}
	_, _, err = l.retry(ctx, func(ctx context.Context) error {
		_, err := l.asmClient().CreateRound(ctx, &assessmentv1.CreateRoundRequest{SchemeId: loadScheme, Year: loadYear, Title: "chaos"})
		return err
	})
	if err != nil && status.Code(err) != codes.AlreadyExists {
		return fmt.Errorf("create round %s: %w", l.round, err)
	}
	return nil
}

// places are the regencies and cities the registry knows.
func (l *load) listPlaces(ctx context.Context) ([]*registryv1.Region, error) {
	var resp *registryv1.ListRegionsResponse
	_, _, err := l.retry(ctx, func(ctx context.Context) (err error) {
		resp, err = l.reg.ListRegions(ctx, &registryv1.ListRegionsRequest{})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("list regions: %w", err)
	}
	var places []*registryv1.Region
	for _, r := range resp.GetRegions() {
		if lv := r.GetLevel(); lv == registryv1.RegionLevel_REGION_LEVEL_REGENCY || lv == registryv1.RegionLevel_REGION_LEVEL_CITY {
			places = append(places, r)
		}
	}
	if len(places) == 0 {
		return nil, fmt.Errorf("the registry knows no regency or city")
	}
	return places, nil
}

func (l *load) scheme(ctx context.Context) error {
	var resp *assessmentv1.GetSchemeResponse
	_, _, err := l.retry(ctx, func(ctx context.Context) (err error) {
		resp, err = l.asmClient().GetScheme(ctx, &assessmentv1.GetSchemeRequest{SchemeId: loadScheme, Selector: &assessmentv1.GetSchemeRequest_Year{Year: loadYear}})
		return err
	})
	if err != nil {
		return fmt.Errorf("scheme %s %d: %w", loadScheme, loadYear, err)
	}
	l.schemeDef = resp.GetScheme()
	for _, d := range resp.GetScheme().GetDimensions() {
		l.dims = append(l.dims, d.GetCode())
	}
	return nil
}

// input scores every dimension alike, varied by institution and revision.
func (l *load) input(j int, rev uint64) *assessmentv1.AssessmentInput {
	ds := &assessmentv1.DimensionScores{}
	for k, d := range l.dims {
		ds.Scores = append(ds.Scores, &assessmentv1.DimensionScore{Code: d,
			Score: fmt.Sprintf("%d.%02d", 40+(j*3+int(rev)*7+k)%60, (j*7+int(rev)*13+k)%100)})
	}
	return &assessmentv1.AssessmentInput{Result: &assessmentv1.AssessmentInput_DimensionScores{DimensionScores: ds}}
}

// run writes with workers concurrent writers, each one record every
// interval, and one writer creating an institution every second, until
// stop closes; ctx ending abandons the writes under way (they count as
// unknown). Each worker owns its institutions, so it knows the revision it
// corrects.
func (l *load) run(ctx context.Context, stop <-chan struct{}, workers int, interval time.Duration) {
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() { l.worker(ctx, stop, w, workers, interval) })
	}
	wg.Go(func() { l.creator(ctx, stop) })
	wg.Wait()
}

// newInstitutionName names the institutions created under load.
const newInstitutionName = "Kantor Pertanahan Chaos Baru"

// creator creates an institution a second, each with its own request id,
// retried with it until a definite answer, and no id of its own: a retry
// that created a second institution would show as a name stored twice.
func (l *load) creator(ctx context.Context, stop <-chan struct{}) {
	i := 0
	every(ctx, stop, time.Second, func() {
		l.create(ctx, i)
		i++
	})
}

// every calls fn once per interval until stop closes or ctx ends.
func every(ctx context.Context, stop <-chan struct{}, interval time.Duration, fn func()) {
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		select {
		case <-stop:
			return
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		fn()
	}
}

// create creates the i-th institution of the load.
func (l *load) create(ctx context.Context, i int) {
	r := l.regions[i%len(l.regions)]
	req := &registryv1.CreateInstitutionRequest{RequestId: fmt.Sprintf("chaos-inst-%05d", i),
		Institution: &registryv1.Institution{Name: fmt.Sprintf("%s %s %05d", newInstitutionName, r.GetName(), i), Kind: loadKind, RegionCode: r.GetCode()}}
	var resp *registryv1.CreateInstitutionResponse
	_, _, err := l.retry(ctx, func(ctx context.Context) (err error) {
		resp, err = l.reg.CreateInstitution(ctx, req)
		return err
	})
	l.mu.Lock()
	switch {
	case err == nil:
		l.created[req.GetRequestId()] = resp.GetInstitution().GetId()
	case ctx.Err() != nil:
		l.created[req.GetRequestId()] = ""
	default:
		l.rejected[req.GetRequestId()] = status.Code(err).String()
	}
	l.mu.Unlock()
}

func (l *load) worker(ctx context.Context, stop <-chan struct{}, w, workers int, interval time.Duration) {
	var mine []int
	for j := w; j < len(l.insts); j += workers {
		mine = append(mine, j)
	}
	revs := make([]uint64, len(mine))
	k := 0
	every(ctx, stop, interval, func() {
		revs[k] = l.record(ctx, mine[k], revs[k])
		k = (k + 1) % len(mine)
	})
}

// record writes the next revision of institution j (rev is the current
// one) and returns the revision it has now.
func (l *load) record(ctx context.Context, j int, rev uint64) uint64 {
	inst := l.insts[j]
	req := &assessmentv1.RecordAssessmentRequest{RoundId: l.round, InstitutionId: inst, Input: l.input(j, rev),
		CorrectsRevision: rev, RequestId: fmt.Sprintf("chaos-%s-r%d", inst, rev+1)}
	if rev > 0 {
		req.Reason = "chaos correction"
	}
	var resp *assessmentv1.RecordAssessmentResponse
	attempts, last, err := l.retry(ctx, func(ctx context.Context) (err error) {
		resp, err = l.asmClient().RecordAssessment(ctx, req)
		return err
	})
	if err != nil && ctx.Err() == nil {
		l.mu.Lock()
		l.rejected[req.GetRequestId()] = status.Code(err).String()
		l.mu.Unlock()
		return l.current(ctx, inst, rev)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if err != nil {
		l.unknown = append(l.unknown, req.GetRequestId())
		return rev
	}
	a := resp.GetAssessment()
	l.acked = append(l.acked, write{RequestID: req.GetRequestId(), Institution: inst, Revision: a.GetRevision(),
		Created: resp.GetCreated(), Attempts: attempts, LastAttempt: last, Acked: time.Now()})
	return a.GetRevision()
}

// current asks for an institution's latest revision after a refused
// write, so the worker corrects the right one next.
func (l *load) current(ctx context.Context, inst string, rev uint64) uint64 {
	var resp *assessmentv1.GetAssessmentResponse
	_, _, err := l.retry(ctx, func(ctx context.Context) (err error) {
		resp, err = l.asmClient().GetAssessment(ctx, &assessmentv1.GetAssessmentRequest{RoundId: l.round, InstitutionId: inst})
		return err
	})
	if err != nil {
		return rev
	}
	return resp.GetAssessment().GetRevision()
}

// closeAndPublish closes the round and publishes it, each retried until
// it is done: a close whose answer was lost shows as a closed round.
func (l *load) closeAndPublish(ctx context.Context) (*assessmentv1.PublishRoundResponse, error) {
	if err := l.closeRound(ctx); err != nil {
		return nil, err
	}
	// Publishing a published round finishes what an interrupted one began
	// and reports the awards it finds: retried until it answers.
	var resp *assessmentv1.PublishRoundResponse
	_, _, err := l.retry(ctx, func(ctx context.Context) (err error) {
		resp, err = l.asmClient().PublishRound(ctx, &assessmentv1.PublishRoundRequest{RoundId: l.round, ForceReason: "chaos run: published at once, objections are not what it tests"})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("publish round %s: %w", l.round, err)
	}
	return resp, nil
}

// closeRound closes the round, retried until it is closed: a close whose
// answer was lost shows as a closed round.
func (l *load) closeRound(ctx context.Context) error {
	_, _, err := l.retry(ctx, func(ctx context.Context) error {
		_, err := l.asmClient().CloseRound(ctx, &assessmentv1.CloseRoundRequest{RoundId: l.round})
		if status.Code(err) == codes.FailedPrecondition && l.roundState(ctx) == assessmentv1.RoundState_ROUND_STATE_CLOSED {
			return nil
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("close round %s: %w", l.round, err)
	}
	return nil
}

func (l *load) roundState(ctx context.Context) assessmentv1.RoundState {
	resp, err := l.asmClient().GetRound(ctx, &assessmentv1.GetRoundRequest{RoundId: l.round})
	if err != nil {
		return assessmentv1.RoundState_ROUND_STATE_UNSPECIFIED
	}
	return resp.GetRound().GetState()
}

// snapshot copies what the load saw.
func (l *load) snapshot() (acked []write, rejected map[string]string, unknown []string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	acked = slices.Clone(l.acked)
	rejected = make(map[string]string, len(l.rejected))
	for k, v := range l.rejected {
		rejected[k] = v
	}
	return acked, rejected, slices.Clone(l.unknown)
}

// errorCounts copies the failed attempts by code.
func (l *load) errorCounts() map[string]int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return maps.Clone(l.errors)
}

// institutions copies the institutions created under load.
func (l *load) institutions() map[string]string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return maps.Clone(l.created)
}

// resumedAfter is how long after t the first write whose answering
// attempt began at or after t was acknowledged; -1 if none was.
func (l *load) resumedAfter(t time.Time) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	best := time.Duration(-1)
	for _, w := range l.acked {
		if w.LastAttempt.Before(t) {
			continue
		}
		if d := w.Acked.Sub(t); best < 0 || d < best {
			best = d
		}
	}
	return best
}
