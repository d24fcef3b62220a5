// Package store keeps the ranking boards in Redis. It owns the key layout,
// the Lua scripts that apply events atomically and read queries in one
// consistent step, and the bulk writer a rebuild fills new generations with.
//
// Layout (version board.LayoutVersion, every key under "rk:"):
//
//	rk:layout                      layout version the boards were built with
//	rk:rebuild                     rebuild mark (a token, with a TTL) while a rebuild runs
//	rk:v3:genseq                   generation counter
//	rk:v3:seq                      hash: highest stream sequence applied per stream
//	rk:v3:rounds                   set of "scheme:year"
//	rk:v3:years:<scheme>           sorted set of the years with a round
//	rk:v3:pending                  set of "tag|gen" generations a rebuild is writing
//	rk:v3:{scheme:year}:round      hash: gen, state (P/F), id, version, precision
//	rk:v3:{scheme:year}:fences     hash round revision -> fence (last counted ASSESSMENTS sequence)
//	rk:v3:{scheme:year}:fencecheck hash the fences whose earlier records are still to be checked
//	rk:v3:{scheme:year}:g<gen>:e            hash institution -> encoded board.Entry
//	rk:v3:{scheme:year}:g<gen>:boards       set of board ids ("pemda:63")
//	rk:v3:{scheme:year}:g<gen>:groups       hash peer group -> board.Group
//	rk:v3:{scheme:year}:g<gen>:bands        hash band code -> board.Band
//	rk:v3:{scheme:year}:g<gen>:bandmax      hash band code -> best score seen
//	rk:v3:{scheme:year}:g<gen>:z:<board>    sorted set institution -> unscaled score
//	rk:v3:{scheme:year}:g<gen>:pop:<board>  hash n, sum, sumsq, b:<band>, r:<band>, rn, t
//
// A round's data lives in a generation; a rebuild writes a new generation
// next to the live one and swaps the round's gen pointer, so no query ever
// sees a half-built board. Scores are exact: the unscaled decimal as the
// sorted-set score, sums and sums of squares as integers (HINCRBY).
//
// The scripts compute key names from their arguments, which a single Redis
// (the deployment Predikat targets) allows; the {scheme:year} hash tag keeps
// a round's keys together should the boards ever move to a cluster.
package store

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/predikat-id/predikat/pkg/platform/fault"
	"github.com/predikat-id/predikat/pkg/platform/redisx"
	"github.com/predikat-id/predikat/services/ranking/internal/board"
)

// LayoutVersion is the version of the key layout above. A service finding
// boards of another version (or none) rebuilds them from the stream. 2:
// fences; boards of version 1 may hold a record a close refused, so they
// are rebuilt. 3: entries and board counts say which records are synthetic
// data; boards of version 2 say nothing, so they are rebuilt.
const LayoutVersion = 3

// Base is the key prefix of the current layout.
var Base = fmt.Sprintf("rk:v%d:", LayoutVersion)

var layout = strconv.Itoa(LayoutVersion)

// Stream fields of the sequence high-water hash.
const (
	SeqAssessments = "assessments"
	SeqRounds      = "rounds"
)

// Errors the consumer acts on.
var (
	// ErrNoLayout: Redis has no boards of the current layout (empty,
	// flushed, restarted without data, or built by another version). A
	// rebuild is needed.
	ErrNoLayout = errors.New("redis has no boards of the current layout: a rebuild is needed")
	// ErrBusy: a rebuild (possibly by another replica) holds the boards.
	ErrBusy = errors.New("a board rebuild is running")
	// ErrBehind: Redis's applied sequence is below a floor the service
	// knows it reached: Redis lost writes (restored from an older
	// snapshot, a failover to a lagging replica). A rebuild is needed.
	ErrBehind = errors.New("redis holds an older state than was applied (restored from an older snapshot?): a rebuild is needed")
)

// Store is safe for concurrent use.
type Store struct {
	rdb redis.UniversalClient
}

// New returns a store over a Redis client with bounded timeouts (see
// redisx.NewClient).
func New(rdb redis.UniversalClient) *Store { return &Store{rdb: rdb} }

// Client is the underlying Redis client.
func (s *Store) Client() redis.UniversalClient { return s.rdb }

// Tag is the hash-tagged round part of a key: "{ombudsman:2024}".
func Tag(scheme string, year int32) string { return "{" + RoundKey(scheme, year) + "}" }

// RoundKey is "scheme:year".
func RoundKey(scheme string, year int32) string { return scheme + ":" + strconv.Itoa(int(year)) }

// GenPrefix is the key prefix of one generation of a round.
func GenPrefix(tag, gen string) string { return Base + tag + ":g" + gen + ":" }

// Unavailable turns a Redis error into the fault callers see: Unavailable
// for an unreachable Redis, the error itself otherwise.
func Unavailable(err error) error {
	if err == nil {
		return nil
	}
	if redisx.IsUnavailable(err) {
		return fault.Unavailablef("ranking store (Redis) unreachable, try again: %v", err)
	}
	return err
}

// LoadScripts loads every script into Redis's script cache, so pipelines of
// EVALSHA work. It is called again after NOSCRIPT (a restarted Redis).
func (s *Store) LoadScripts(ctx context.Context) error {
	for _, sc := range allScripts {
		if err := sc.Load(ctx, s.rdb).Err(); err != nil {
			return err
		}
	}
	return nil
}

// Outcome of applying one event.
type Outcome int

// Outcomes.
const (
	Applied Outcome = iota + 1
	Duplicate
	Stale
	// Fenced is a record past the fence of the close that replaced the
	// round revision it was decided on: refused, never on a board.
	Fenced
)

func (o Outcome) String() string {
	return map[Outcome]string{Applied: "applied", Duplicate: "duplicate", Stale: "stale", Fenced: "fenced"}[o]
}

// applyChunk is how many records one call of the apply script takes.
// Redis runs a script to its end before it serves anyone else, so a
// chunk is kept to a fraction of a millisecond (the reads of the boards
// should not wait behind a long batch); within one, what the records of a
// round repeat is written once.
const applyChunk = 32

// appendApplyArgs appends one record's arguments to the apply script's,
// led by their count.
func appendApplyArgs(args []any, r board.Record) []any {
	n := 14 + 2*len(r.Groups) + 2*len(r.Bands)
	args = append(args, n, Tag(r.Scheme, r.Year), RoundKey(r.Scheme, r.Year), r.Scheme, r.Year, r.Institution,
		r.Entry.Seq, EncodeEntry(r.Entry), r.RoundID, r.SchemeVersion, r.Precision, r.BandInfo.Code, EncodeBand(r.BandInfo),
		r.RoundRevision, len(r.Groups))
	for _, g := range r.Groups {
		args = append(args, g.Code, EncodeGroup(g))
	}
	for _, b := range r.Bands {
		args = append(args, b.Code, EncodeBand(b))
	}
	return args
}

// Apply applies records in one pipeline and returns one outcome per record.
// If any record met ErrNoLayout, ErrBusy or ErrBehind, that error is
// returned (records of an earlier chunk may have been applied: applying
// again is harmless).
func (s *Store) Apply(ctx context.Context, recs []board.Record) ([]Outcome, error) {
	return s.ApplyFrom(ctx, 0, recs)
}

// ApplyFrom is Apply for a caller that knows Redis's applied sequence of
// ASSESSMENTS reached floor: a Redis below it lost writes, and the script
// refuses with ErrBehind instead of applying. The check sits in the script
// because a newer event raising the high-water mark would otherwise hide
// the loss for good.
func (s *Store) ApplyFrom(ctx context.Context, floor uint64, recs []board.Record) ([]Outcome, error) {
	if len(recs) == 0 {
		return nil, nil
	}
	for attempt := 0; ; attempt++ {
		pipe := s.rdb.Pipeline()
		cmds := make([]*redis.Cmd, 0, (len(recs)+applyChunk-1)/applyChunk)
		for lo := 0; lo < len(recs); lo += applyChunk {
			args := []any{layout, Base, floor}
			for _, r := range recs[lo:min(lo+applyChunk, len(recs))] {
				args = appendApplyArgs(args, r)
			}
			cmds = append(cmds, applyScript.EvalSha(ctx, pipe, nil, args...))
		}
		_, err := pipe.Exec(ctx)
		if err != nil && redis.HasErrorPrefix(err, "NOSCRIPT") && attempt == 0 {
			if err := s.LoadScripts(ctx); err != nil {
				return nil, err
			}
			continue
		}
		return outcomes(recs, cmds)
	}
}

// outcomes decodes the apply script's answers: per chunk, one answer per
// record or one refusal of them all.
func outcomes(recs []board.Record, cmds []*redis.Cmd) ([]Outcome, error) {
	out := make([]Outcome, 0, len(recs))
	for c, cmd := range cmds {
		chunk := recs[c*applyChunk : min((c+1)*applyChunk, len(recs))]
		if err := cmd.Err(); err != nil {
			return nil, fmt.Errorf("apply %s of %s and %d more: %w", chunk[0].Institution, chunk[0].RoundID, len(chunk)-1, err)
		}
		answers, ok := cmd.Val().([]any)
		if !ok {
			return nil, refusal(cmd.Val())
		}
		if len(answers) != len(chunk) {
			return nil, fmt.Errorf("apply script answered %d of %d records", len(answers), len(chunk))
		}
		for i, a := range answers {
			o, err := outcome(a)
			if err != nil {
				return nil, fmt.Errorf("apply %s of %s: %w", chunk[i].Institution, chunk[i].RoundID, err)
			}
			out = append(out, o)
		}
	}
	return out, nil
}

// outcome decodes the apply script's answer for one record.
func outcome(a any) (Outcome, error) {
	switch a {
	case replyOK:
		return Applied, nil
	case replyDup:
		return Duplicate, nil
	case replyStale:
		return Stale, nil
	case replyFenced:
		return Fenced, nil
	}
	return 0, fmt.Errorf("apply script answered %v", a)
}

// refusal is the error of a write script that applied nothing: what the
// apply and round scripts answer when the layout is missing, a rebuild
// runs or Redis is behind the floor.
func refusal(v any) error {
	switch v {
	case replyNoLayout:
		return ErrNoLayout
	case replyBusy:
		return ErrBusy
	case replyBehind:
		return ErrBehind
	}
	return fmt.Errorf("ranking write script answered %v", v)
}

// RoundEvent is a RoundChanged or RoundPublished reduced to what boards need.
type RoundEvent struct {
	Scheme        string
	Year          int32
	RoundID       string
	SchemeVersion string
	Final         bool
	Seq           uint64
	Fences        []Fence
}

// Fence is the fence of a close (see eventsv1.AssessmentFence): records
// decided on RoundRevision count only up to ASSESSMENTS sequence Seq.
type Fence struct {
	RoundRevision, Seq uint64
}

// Refuses reports whether the fence leaves out a record decided on round
// revision rr stored at sequence seq.
func (f Fence) Refuses(rr, seq uint64) bool { return rr != 0 && rr == f.RoundRevision && seq > f.Seq }

// ApplyRound applies a round event.
func (s *Store) ApplyRound(ctx context.Context, e RoundEvent) error {
	return s.ApplyRoundFrom(ctx, 0, e)
}

// ApplyRoundFrom is ApplyRound with the floor of ROUNDS (see ApplyFrom).
func (s *Store) ApplyRoundFrom(ctx context.Context, floor uint64, e RoundEvent) error {
	state := statePending
	if e.Final {
		state = stateFinal
	}
	args := []any{layout, Base, Tag(e.Scheme, e.Year), RoundKey(e.Scheme, e.Year),
		e.Scheme, e.Year, e.RoundID, e.SchemeVersion, state, e.Seq, floor}
	for _, f := range e.Fences {
		args = append(args, f.RoundRevision, f.Seq)
	}
	v, err := roundScript.Run(ctx, s.rdb, nil, args...).Text()
	if err != nil {
		return err
	}
	if v == replyOK {
		return nil
	}
	return refusal(v)
}

// Bump records that seq of stream (SeqAssessments or SeqRounds) was handled
// without a change (an event that can never be applied).
func (s *Store) Bump(ctx context.Context, stream string, seq uint64) error {
	return bumpScript.Run(ctx, s.rdb, nil, Base, stream, seq).Err()
}

// State is what the supervisor checks.
type State struct {
	// LayoutOK: boards of the current layout are there.
	LayoutOK bool
	// Rebuilding: some replica holds the rebuild mark.
	Rebuilding bool
	// Applied is the highest stream sequence applied, per stream field.
	Applied map[string]uint64
}

// State reads the layout version, the rebuild mark and the applied
// sequences.
func (s *Store) State(ctx context.Context) (State, error) {
	pipe := s.rdb.Pipeline()
	l := pipe.Get(ctx, LayoutKey)
	m := pipe.Exists(ctx, MarkKey)
	q := pipe.HGetAll(ctx, Base+keySeq)
	if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		return State{}, err
	}
	st := State{LayoutOK: l.Val() == layout, Rebuilding: m.Val() == 1, Applied: map[string]uint64{}}
	for k, v := range q.Val() {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			return State{}, fmt.Errorf("applied sequence of %s %q: %w", k, v, err)
		}
		st.Applied[k] = n
	}
	return st, nil
}

// AcquireMark takes the rebuild mark for token, if nobody holds it.
func (s *Store) AcquireMark(ctx context.Context, token string, ttl time.Duration) (bool, error) {
	return s.rdb.SetNX(ctx, MarkKey, token, ttl).Result()
}

// RefreshMark extends the mark; false if it is no longer ours.
func (s *Store) RefreshMark(ctx context.Context, token string, ttl time.Duration) (bool, error) {
	n, err := refreshScript.Run(ctx, s.rdb, nil, token, ttl.Milliseconds()).Int()
	return n == 1, err
}

// ReleaseMark deletes the mark if it is still ours.
func (s *Store) ReleaseMark(ctx context.Context, token string) error {
	return releaseScript.Run(ctx, s.rdb, nil, token).Err()
}

// NewGen allocates a generation number.
func (s *Store) NewGen(ctx context.Context) (string, error) {
	n, err := s.rdb.Incr(ctx, Base+keyGenSeq).Result()
	return strconv.FormatInt(n, 10), err
}

// SwapRound is one round a rebuild switches to its new generation.
type SwapRound struct {
	Scheme, RoundID, Version string
	Year                     int32
	Gen                      string
	Precision                int // -1 when unknown (a round without scored records)
	Final                    bool
}

// GenRef names a generation: round tag and gen.
type GenRef struct{ Tag, Gen string }

// Swap switches rounds to their new generations, sets the layout version and
// the applied sequences, and releases the mark, atomically. With full set,
// rounds not listed are dropped. It returns the replaced generations.
func (s *Store) Swap(ctx context.Context, token string, full bool, rounds []SwapRound, seqAssessments, seqRounds uint64) ([]GenRef, error) {
	f := "0"
	if full {
		f = "1"
	}
	args := []any{token, layout, Base, f, seqAssessments, seqRounds, len(rounds)}
	for _, r := range rounds {
		state, prec := statePending, ""
		if r.Final {
			state = stateFinal
		}
		if r.Precision >= 0 {
			prec = strconv.Itoa(r.Precision)
		}
		args = append(args, Tag(r.Scheme, r.Year), RoundKey(r.Scheme, r.Year), r.Gen, r.RoundID, r.Version, prec, state, r.Scheme, r.Year)
	}
	v, err := swapScript.Run(ctx, s.rdb, nil, args...).Slice()
	if err != nil {
		return nil, err
	}
	return decodeSwap(v)
}

// AddPending records a generation being written, so a rebuild that dies
// halfway leaves nothing behind: the next one deletes it.
func (s *Store) AddPending(ctx context.Context, g GenRef) error {
	return s.rdb.SAdd(ctx, Base+keyPending, g.Tag+"|"+g.Gen).Err()
}

// DropPending deletes every generation a dead rebuild left half-written.
// Call it only while holding the mark.
func (s *Store) DropPending(ctx context.Context) error {
	refs, err := s.rdb.SMembers(ctx, Base+keyPending).Result()
	if err != nil {
		return err
	}
	for _, r := range refs {
		tag, gen, _ := strings.Cut(r, "|")
		if err := s.DeleteGen(ctx, GenRef{Tag: tag, Gen: gen}); err != nil {
			return err
		}
		if err := s.rdb.SRem(ctx, Base+keyPending, r).Err(); err != nil {
			return err
		}
	}
	return nil
}

// DeleteGen deletes every key of a generation (UNLINK: big sorted sets are
// freed in the background).
func (s *Store) DeleteGen(ctx context.Context, g GenRef) error {
	return s.unlinkMatching(ctx, GenPrefix(g.Tag, g.Gen)+"*", nil)
}

// Sweep deletes every key under rk: that is not part of the live layout:
// keys of another layout version and generations no round points to.
// keepGens are generations being written (not yet swapped in). Call it
// only while holding the mark.
func (s *Store) Sweep(ctx context.Context, keepGens []GenRef) error {
	live := map[string]bool{}
	for _, g := range keepGens {
		live[g.Tag+"|"+g.Gen] = true
	}
	rounds, err := s.rdb.SMembers(ctx, Base+keyRounds).Result()
	if err != nil {
		return err
	}
	for _, rk := range rounds {
		tag := "{" + rk + "}"
		gen, err := s.rdb.HGet(ctx, Base+tag+keyRound, roundGen).Result()
		if err != nil && !errors.Is(err, redis.Nil) {
			return err
		}
		if gen != "" {
			live[tag+"|"+gen] = true
		}
	}
	return s.unlinkMatching(ctx, "rk:*", func(key string) bool { return sweeps(key, live) })
}

// sweeps reports whether Sweep deletes key, given the live generations.
func sweeps(key string, live map[string]bool) bool {
	if key == LayoutKey || key == MarkKey {
		return false
	}
	rest, ok := strings.CutPrefix(key, Base)
	if !ok {
		return true // another layout version
	}
	if !strings.HasPrefix(rest, "{") {
		return false // genseq, seq, rounds, years:*, pending
	}
	end := strings.Index(rest, "}")
	if end < 0 {
		return true
	}
	tag, tail := rest[:end+1], rest[end+1:]
	if tail == keyRound || tail == keyFences || tail == keyFenceCheck {
		return false
	}
	gen, _, ok := strings.Cut(strings.TrimPrefix(tail, ":g"), ":")
	return !ok || !live[tag+"|"+gen]
}

func (s *Store) unlinkMatching(ctx context.Context, pattern string, del func(string) bool) error {
	var cursor uint64
	for {
		keys, next, err := s.rdb.Scan(ctx, cursor, pattern, 1000).Result()
		if err != nil {
			return err
		}
		var batch []string
		for _, k := range keys {
			if del == nil || del(k) {
				batch = append(batch, k)
			}
		}
		if len(batch) > 0 {
			if err := s.rdb.Unlink(ctx, batch...).Err(); err != nil {
				return err
			}
		}
		if next == 0 {
			return nil
		}
		cursor = next
	}
}

// Version is a text that changes whenever the boards may have changed
// (layout, rebuild mark, applied sequences, each round's generation and
// meta), and whether they are settled: boards of this layout are there and
// no rebuild holds them.
func (s *Store) Version(ctx context.Context) (string, bool, error) {
	v, err := versionScript.Run(ctx, s.rdb, nil, layout, Base).Slice()
	if err != nil {
		return "", false, Unavailable(err)
	}
	d := &replyDecoder{}
	text, settled := d.str(v, 0), d.int(v, 1) == 1
	return text, settled, d.err
}

// Years lists the years with a round of scheme within [from, to] (0: open).
func (s *Store) Years(ctx context.Context, scheme string, from, to int32) ([]int32, error) {
	lo, hi := "-inf", "+inf"
	if from > 0 {
		lo = strconv.Itoa(int(from))
	}
	if to > 0 {
		hi = strconv.Itoa(int(to))
	}
	ys, err := s.rdb.ZRangeByScore(ctx, Base+keyYears+scheme, &redis.ZRangeBy{Min: lo, Max: hi}).Result()
	if err != nil {
		return nil, Unavailable(err)
	}
	out := make([]int32, 0, len(ys))
	for _, y := range ys {
		n, err := strconv.ParseInt(y, 10, 32)
		if err != nil {
			return nil, fmt.Errorf("year %q of scheme %s: %w", y, scheme, err)
		}
		out = append(out, int32(n))
	}
	return out, nil
}

// run runs a read script and handles the common answers.
func (s *Store) run(ctx context.Context, sc *redis.Script, scheme string, year int32, args ...any) ([]any, error) {
	v, err := sc.Run(ctx, s.rdb, nil, args...).Slice()
	if err != nil {
		return nil, Unavailable(err)
	}
	status := ""
	if len(v) > 0 {
		status, _ = v[0].(string)
	}
	switch status {
	case replyOK:
		return v, nil
	case replyNoLayout:
		return nil, fault.Unavailablef("boards are being rebuilt from the assessment log; try again shortly")
	case replyNoRound:
		return nil, fault.NotFoundf("no round %s: nothing was recorded for scheme %q in %d", board.RoundID(scheme, year), scheme, year)
	}
	return nil, fmt.Errorf("ranking script answered %v", v)
}

// Standing reads an institution's standing in one round, with the previous
// round for movement.
func (s *Store) Standing(ctx context.Context, scheme string, year int32, inst string) (*board.Standing, error) {
	v, err := s.run(ctx, standingScript, scheme, year, layout, Base, scheme, year, inst)
	if err != nil {
		return nil, err
	}
	return decodeStanding(v, scheme, year)
}

// Page reads whole tie groups from the board, enough to fill size entries
// after the cursor score (or from the top).
func (s *Store) Page(ctx context.Context, scheme string, year int32, boardID string, size int, cursor *board.Cursor) (*board.TiePage, error) {
	cur := ""
	if cursor != nil {
		cur = strconv.FormatInt(cursor.Score, 10)
	}
	group, _ := board.SplitID(boardID)
	v, err := s.run(ctx, pageScript, scheme, year, layout, Base, Tag(scheme, year), boardID, size, cur, group)
	if err != nil {
		return nil, err
	}
	return decodePage(v, scheme, year, group)
}

// Statistics reads a board's statistics inputs.
func (s *Store) Statistics(ctx context.Context, scheme string, year int32, boardID string) (*board.BoardStats, error) {
	group, _ := board.SplitID(boardID)
	v, err := s.run(ctx, statsScript, scheme, year, layout, Base, Tag(scheme, year), boardID, group)
	if err != nil {
		return nil, err
	}
	return decodeStats(v, scheme, year, group)
}

// Boards lists a round's boards.
func (s *Store) Boards(ctx context.Context, scheme string, year int32) (board.Round, []board.BoardInfo, error) {
	v, err := s.run(ctx, boardsScript, scheme, year, layout, Base, Tag(scheme, year))
	if err != nil {
		return board.Round{}, nil, err
	}
	return decodeBoards(v, scheme, year)
}

// FenceChecks are the fences of a round whose check is still due: records
// applied before the fence was known may lie past it.
func (s *Store) FenceChecks(ctx context.Context, scheme string, year int32) ([]Fence, error) {
	m, err := s.rdb.HGetAll(ctx, Base+Tag(scheme, year)+keyFenceCheck).Result()
	if err != nil {
		return nil, err
	}
	return decodeFences(m)
}

// Fences are every fence known for a round.
func (s *Store) Fences(ctx context.Context, scheme string, year int32) ([]Fence, error) {
	m, err := s.rdb.HGetAll(ctx, Base+Tag(scheme, year)+keyFences).Result()
	if err != nil {
		return nil, err
	}
	return decodeFences(m)
}

func decodeFences(m map[string]string) ([]Fence, error) {
	out := make([]Fence, 0, len(m))
	for k, v := range m {
		rr, err1 := strconv.ParseUint(k, 10, 64)
		seq, err2 := strconv.ParseUint(v, 10, 64)
		if err := errors.Join(err1, err2); err != nil {
			return nil, fmt.Errorf("stored fence %s=%s: %w", k, v, err)
		}
		out = append(out, Fence{RoundRevision: rr, Seq: seq})
	}
	slices.SortFunc(out, func(a, b Fence) int { return cmp.Compare(a.RoundRevision, b.RoundRevision) })
	return out, nil
}

// FenceChecked clears the check of a fence once the records before it are
// known to be right.
func (s *Store) FenceChecked(ctx context.Context, scheme string, year int32, f Fence) error {
	return s.rdb.HDel(ctx, Base+Tag(scheme, year)+keyFenceCheck, strconv.FormatUint(f.RoundRevision, 10)).Err()
}

// SetFences stores a round's fences as a rebuild read them from the log,
// with no check due: the rebuild left out what they refuse.
func (s *Store) SetFences(ctx context.Context, scheme string, year int32, fences []Fence) error {
	if len(fences) == 0 {
		return nil
	}
	pipe := s.rdb.TxPipeline()
	for _, f := range fences {
		rr := strconv.FormatUint(f.RoundRevision, 10)
		pipe.HSet(ctx, Base+Tag(scheme, year)+keyFences, rr, f.Seq)
		pipe.HDel(ctx, Base+Tag(scheme, year)+keyFenceCheck, rr)
	}
	_, err := pipe.Exec(ctx)
	return err
}
