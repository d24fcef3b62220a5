// Package store keeps the ranking boards in Redis. It owns the key layout,
// the Lua scripts that apply events atomically and read queries in one
// consistent step, and the bulk writer a rebuild fills new generations with.
//
// Layout (version board.LayoutVersion, every key under "rk:"):
//
//	rk:layout                      layout version the boards were built with
//	rk:rebuild                     rebuild mark (a token, with a TTL) while a rebuild runs
//	rk:v1:genseq                   generation counter
//	rk:v1:seq                      hash: highest stream sequence applied per stream
//	rk:v1:rounds                   set of "scheme:year"
//	rk:v1:years:<scheme>           sorted set of the years with a round
//	rk:v1:pending                  set of "tag|gen" generations a rebuild is writing
//	rk:v1:{scheme:year}:round      hash: gen, state (P/F), id, version, precision
//	rk:v1:{scheme:year}:g<gen>:e            hash institution -> encoded board.Entry
//	rk:v1:{scheme:year}:g<gen>:boards       set of board ids ("pemda:63")
//	rk:v1:{scheme:year}:g<gen>:groups       hash peer group -> board.Group
//	rk:v1:{scheme:year}:g<gen>:bands        hash band code -> board.Band
//	rk:v1:{scheme:year}:g<gen>:bandmax      hash band code -> best score seen
//	rk:v1:{scheme:year}:g<gen>:z:<board>    sorted set institution -> unscaled score
//	rk:v1:{scheme:year}:g<gen>:pop:<board>  hash n, sum, sumsq, b:<band>, r:<band>, rn, t
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
	"context"
	"errors"
	"fmt"
	"math/big"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/predikat-id/predikat/pkg/platform/fault"
	"github.com/predikat-id/predikat/pkg/platform/redisx"
	"github.com/predikat-id/predikat/services/ranking/internal/board"
)

// LayoutVersion is the version of the key layout above. A service finding
// boards of another version (or none) rebuilds them from the stream.
const LayoutVersion = 1

// Keys outside any layout version.
const (
	LayoutKey = "rk:layout"
	MarkKey   = "rk:rebuild"
)

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
)

func (o Outcome) String() string {
	return map[Outcome]string{Applied: "applied", Duplicate: "duplicate", Stale: "stale"}[o]
}

// ApplyArgs are the script arguments for one record.
func applyArgs(r board.Record) []any {
	args := []any{layout, Base, Tag(r.Scheme, r.Year), RoundKey(r.Scheme, r.Year), r.Scheme, r.Year, r.Institution,
		r.Entry.Seq, r.Entry.Encode(), r.RoundID, r.SchemeVersion, r.Precision, r.BandInfo.Code, r.BandInfo.Encode()}
	for _, g := range r.Groups {
		args = append(args, g.Code, g.Encode())
	}
	return args
}

// Apply applies records in one pipeline and returns one outcome per record.
// If any record met ErrNoLayout or ErrBusy, that error is returned (the
// records before it may have been applied: applying again is harmless).
func (s *Store) Apply(ctx context.Context, recs []board.Record) ([]Outcome, error) {
	if len(recs) == 0 {
		return nil, nil
	}
	for attempt := 0; ; attempt++ {
		pipe := s.rdb.Pipeline()
		cmds := make([]*redis.Cmd, len(recs))
		for i, r := range recs {
			cmds[i] = applyScript.EvalSha(ctx, pipe, nil, applyArgs(r)...)
		}
		_, err := pipe.Exec(ctx)
		if err != nil && redis.HasErrorPrefix(err, "NOSCRIPT") && attempt == 0 {
			if err := s.LoadScripts(ctx); err != nil {
				return nil, err
			}
			continue
		}
		out := make([]Outcome, len(recs))
		for i, c := range cmds {
			v, cerr := c.Text()
			if cerr != nil {
				return nil, fmt.Errorf("apply %s of %s: %w", recs[i].Institution, recs[i].RoundID, cerr)
			}
			switch v {
			case "OK":
				out[i] = Applied
			case "DUP":
				out[i] = Duplicate
			case "STALE":
				out[i] = Stale
			case "NOLAYOUT":
				return nil, ErrNoLayout
			case "BUSY":
				return nil, ErrBusy
			default:
				return nil, fmt.Errorf("apply script answered %q", v)
			}
		}
		return out, nil
	}
}

// RoundEvent is a RoundChanged or RoundPublished reduced to what boards need.
type RoundEvent struct {
	Scheme        string
	Year          int32
	RoundID       string
	SchemeVersion string
	Final         bool
	Seq           uint64
}

// ApplyRound applies a round event.
func (s *Store) ApplyRound(ctx context.Context, e RoundEvent) error {
	state := "P"
	if e.Final {
		state = "F"
	}
	v, err := roundScript.Run(ctx, s.rdb, nil, layout, Base, Tag(e.Scheme, e.Year), RoundKey(e.Scheme, e.Year),
		e.Scheme, e.Year, e.RoundID, e.SchemeVersion, state, e.Seq).Text()
	if err != nil {
		return err
	}
	switch v {
	case "OK":
		return nil
	case "NOLAYOUT":
		return ErrNoLayout
	case "BUSY":
		return ErrBusy
	}
	return fmt.Errorf("round script answered %q", v)
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
	q := pipe.HGetAll(ctx, Base+"seq")
	if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		return State{}, err
	}
	st := State{LayoutOK: l.Val() == layout, Rebuilding: m.Val() == 1, Applied: map[string]uint64{}}
	for k, v := range q.Val() {
		n, _ := strconv.ParseUint(v, 10, 64)
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
	n, err := s.rdb.Incr(ctx, Base+"genseq").Result()
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
		state, prec := "P", ""
		if r.Final {
			state = "F"
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
	if str(v, 0) != "OK" {
		return nil, fmt.Errorf("rebuild mark lost before the swap (another replica took over?): %s", str(v, 0))
	}
	var old []GenRef
	for _, x := range list(v, 1) {
		tag, gen, _ := strings.Cut(fmt.Sprint(x), "|")
		old = append(old, GenRef{Tag: tag, Gen: gen})
	}
	return old, nil
}

// AddPending records a generation being written, so a rebuild that dies
// halfway leaves nothing behind: the next one deletes it.
func (s *Store) AddPending(ctx context.Context, g GenRef) error {
	return s.rdb.SAdd(ctx, Base+"pending", g.Tag+"|"+g.Gen).Err()
}

// DropPending deletes every generation a dead rebuild left half-written.
// Call it only while holding the mark.
func (s *Store) DropPending(ctx context.Context) error {
	refs, err := s.rdb.SMembers(ctx, Base+"pending").Result()
	if err != nil {
		return err
	}
	for _, r := range refs {
		tag, gen, _ := strings.Cut(r, "|")
		if err := s.DeleteGen(ctx, GenRef{Tag: tag, Gen: gen}); err != nil {
			return err
		}
		if err := s.rdb.SRem(ctx, Base+"pending", r).Err(); err != nil {
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
	rounds, err := s.rdb.SMembers(ctx, Base+"rounds").Result()
	if err != nil {
		return err
	}
	for _, rk := range rounds {
		tag := "{" + rk + "}"
		gen, err := s.rdb.HGet(ctx, Base+tag+":round", "gen").Result()
		if err != nil && !errors.Is(err, redis.Nil) {
			return err
		}
		if gen != "" {
			live[tag+"|"+gen] = true
		}
	}
	return s.unlinkMatching(ctx, "rk:*", func(key string) bool {
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
		if tail == ":round" {
			return false
		}
		gen, _, ok := strings.Cut(strings.TrimPrefix(tail, ":g"), ":")
		return !ok || !live[tag+"|"+gen]
	})
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

// Round is what a round's meta hash says.
type Round struct {
	Scheme    string
	Year      int32
	ID        string
	Version   string
	Precision int
	Final     bool
	Gen       string
}

func parseRound(v any, scheme string, year int32) Round {
	m := hash(v)
	r := Round{Scheme: scheme, Year: year, ID: m["id"], Version: m["version"], Final: m["state"] == "F", Gen: m["gen"]}
	if r.ID == "" {
		r.ID = board.RoundID(scheme, year)
	}
	r.Precision, _ = strconv.Atoi(m["precision"])
	return r
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
	ys, err := s.rdb.ZRangeByScore(ctx, Base+"years:"+scheme, &redis.ZRangeBy{Min: lo, Max: hi}).Result()
	if err != nil {
		return nil, Unavailable(err)
	}
	out := make([]int32, 0, len(ys))
	for _, y := range ys {
		n, _ := strconv.Atoi(y)
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
	switch str(v, 0) {
	case "OK":
		return v, nil
	case "NOLAYOUT":
		return nil, fault.Unavailablef("boards are being rebuilt from the assessment log; try again shortly")
	case "NOROUND":
		return nil, fault.NotFoundf("no round %s: nothing was recorded for scheme %q in %d", board.RoundID(scheme, year), scheme, year)
	}
	return nil, fmt.Errorf("ranking script answered %v", v)
}

// Standing is what GetStanding reads for one round.
type Standing struct {
	Round  Round
	Found  bool // the institution has a record in the round
	Entry  board.Entry
	Band   board.Band
	Boards []BoardStanding
	// Previous round of the scheme (PrevYear 0 when none).
	PrevYear  int32
	PrevRound Round
	PrevEntry *board.Entry
}

// BoardStanding is the institution's place on one board, now and in the
// previous round.
type BoardStanding struct {
	ID        string
	Group     board.Group
	Count     int64
	Higher    int64 // entries with a strictly better score
	Lower     int64 // entries with a strictly lower score
	UpdateMs  int64
	PrevCount int64
	PrevRank  int64 // 0 when not on the previous board
}

// Standing reads an institution's standing in one round, with the previous
// round for movement.
func (s *Store) Standing(ctx context.Context, scheme string, year int32, inst string) (*Standing, error) {
	v, err := s.run(ctx, standingScript, scheme, year, layout, Base, scheme, year, inst)
	if err != nil {
		return nil, err
	}
	st := &Standing{Round: parseRound(v[1], scheme, year)}
	raw := str(v, 2)
	if raw == "" {
		return st, nil
	}
	e, err := board.DecodeEntry(raw)
	if err != nil {
		return nil, err
	}
	st.Found, st.Entry = true, e
	st.Band = board.DecodeBand(e.Band, str(v, 4))
	if st.Band.Label == "" {
		st.Band.Code = e.Band
	}
	for _, b := range list(v, 3) {
		f := b.([]any)
		id := str(f, 0)
		group, _ := board.SplitID(id)
		st.Boards = append(st.Boards, BoardStanding{
			ID: id, Group: board.DecodeGroup(group, str(f, 5)), Count: num(f, 1), Higher: num(f, 2), Lower: num(f, 3), UpdateMs: num(f, 4),
		})
	}
	prev := list(v, 5)
	if len(prev) >= 3 {
		py, _ := strconv.Atoi(str(prev, 0))
		st.PrevYear = int32(py)
		st.PrevRound = parseRound(prev[1], scheme, st.PrevYear)
		if pe := str(prev, 2); pe != "" {
			e, err := board.DecodeEntry(pe)
			if err != nil {
				return nil, err
			}
			st.PrevEntry = &e
		}
		for i, b := range prev[3:] {
			if i < len(st.Boards) {
				f := b.([]any)
				st.Boards[i].PrevCount, st.Boards[i].PrevRank = num(f, 0), num(f, 1)
			}
		}
	}
	return st, nil
}

// Page is one leaderboard page's raw material.
type Page struct {
	Round    Round
	Group    *board.Group // nil when the round has no such peer group
	Count    int64
	UpdateMs int64
	Ties     []Tie
	Below    int64 // entries under the last tie group fetched
	Bands    map[string]board.Band
}

// Tie is every entry sharing one score, with its competition rank.
type Tie struct {
	Score   int64
	Rank    int64
	Members []string
	Entries []board.Entry // same order as Members
}

// Page reads whole tie groups from the board, enough to fill size entries
// after the cursor score (or from the top).
func (s *Store) Page(ctx context.Context, scheme string, year int32, boardID string, size int, cursor *board.Cursor) (*Page, error) {
	cur := ""
	if cursor != nil {
		cur = strconv.FormatInt(cursor.Score, 10)
	}
	group, _ := board.SplitID(boardID)
	v, err := s.run(ctx, pageScript, scheme, year, layout, Base, Tag(scheme, year), boardID, size, cur, group)
	if err != nil {
		return nil, err
	}
	p := &Page{Round: parseRound(v[1], scheme, year), Count: num(v, 3), UpdateMs: num(v, 4), Below: num(v, 6), Bands: map[string]board.Band{}}
	if len(v) > 7 {
		for code, val := range hash(v[7]) {
			p.Bands[code] = board.DecodeBand(code, val)
		}
	}
	if gm := str(v, 2); gm != "" {
		g := board.DecodeGroup(group, gm)
		p.Group = &g
	}
	for _, t := range list(v, 5) {
		f := t.([]any)
		score, err := strconv.ParseInt(str(f, 0), 10, 64)
		if err != nil {
			return nil, fmt.Errorf("board score %q: %w", str(f, 0), err)
		}
		tie := Tie{Score: score, Rank: num(f, 1)}
		for _, m := range list(f, 2) {
			tie.Members = append(tie.Members, fmt.Sprint(m))
		}
		for _, e := range list(f, 3) {
			ent, _ := board.DecodeEntry(fmt.Sprint(e))
			tie.Entries = append(tie.Entries, ent)
		}
		p.Ties = append(p.Ties, tie)
	}
	return p, nil
}

// Statistics is one board's statistics' raw material.
type Statistics struct {
	Round          Round
	Group          *board.Group
	Count          int64
	Stats          board.Stats
	Min, Max       int64
	LowMid, HighMd int64
	BandCounts     map[string]int64
	ReportedCounts map[string]int64
	ReportedTotal  int64
	Bands          map[string]board.Band
	BandMax        map[string]int64
	UpdateMs       int64
}

// Statistics reads a board's statistics inputs.
func (s *Store) Statistics(ctx context.Context, scheme string, year int32, boardID string) (*Statistics, error) {
	group, _ := board.SplitID(boardID)
	v, err := s.run(ctx, statsScript, scheme, year, layout, Base, Tag(scheme, year), boardID, group)
	if err != nil {
		return nil, err
	}
	st := &Statistics{Round: parseRound(v[1], scheme, year), Count: num(v, 4),
		BandCounts: map[string]int64{}, ReportedCounts: map[string]int64{}, Bands: map[string]board.Band{}, BandMax: map[string]int64{}}
	if gm := str(v, 2); gm != "" {
		g := board.DecodeGroup(group, gm)
		st.Group = &g
	}
	pop := hash(v[3])
	st.Stats = board.Stats{N: atoi(pop["n"]), Sum: bigOf(pop["sum"]), SumSq: bigOf(pop["sumsq"])}
	st.ReportedTotal = atoi(pop["rn"])
	st.UpdateMs = atoi(pop["t"])
	for k, val := range pop {
		if code, ok := strings.CutPrefix(k, "b:"); ok {
			st.BandCounts[code] = atoi(val)
		}
		if code, ok := strings.CutPrefix(k, "r:"); ok {
			st.ReportedCounts[code] = atoi(val)
		}
	}
	st.Min, st.Max, st.LowMid, st.HighMd = atoi(str(v, 5)), atoi(str(v, 6)), atoi(str(v, 7)), atoi(str(v, 8))
	for code, val := range hash(v[9]) {
		st.Bands[code] = board.DecodeBand(code, val)
	}
	for code, val := range hash(v[10]) {
		st.BandMax[code] = atoi(val)
	}
	return st, nil
}

// BoardInfo is one board of a round.
type BoardInfo struct {
	ID       string
	Group    board.Group
	Count    int64
	UpdateMs int64
}

// Boards lists a round's boards.
func (s *Store) Boards(ctx context.Context, scheme string, year int32) (Round, []BoardInfo, error) {
	v, err := s.run(ctx, boardsScript, scheme, year, layout, Base, Tag(scheme, year))
	if err != nil {
		return Round{}, nil, err
	}
	r := parseRound(v[1], scheme, year)
	groups := hash(v[2])
	var out []BoardInfo
	for _, b := range list(v, 3) {
		f := b.([]any)
		id := str(f, 0)
		g, _ := board.SplitID(id)
		out = append(out, BoardInfo{ID: id, Group: board.DecodeGroup(g, groups[g]), Count: num(f, 1), UpdateMs: num(f, 2)})
	}
	return r, out, nil
}

// Reply helpers: Lua tables arrive as []any, strings as string, integers
// as int64.

func str(v []any, i int) string {
	if i >= len(v) || v[i] == nil {
		return ""
	}
	switch x := v[i].(type) {
	case string:
		return x
	case int64:
		return strconv.FormatInt(x, 10)
	}
	return fmt.Sprint(v[i])
}

func num(v []any, i int) int64 {
	if i >= len(v) {
		return 0
	}
	switch x := v[i].(type) {
	case int64:
		return x
	case string:
		return atoi(x)
	}
	return 0
}

func list(v []any, i int) []any {
	if i >= len(v) {
		return nil
	}
	l, _ := v[i].([]any)
	return l
}

func hash(v any) map[string]string {
	m := map[string]string{}
	switch x := v.(type) {
	case []any:
		for i := 0; i+1 < len(x); i += 2 {
			m[fmt.Sprint(x[i])] = fmt.Sprint(x[i+1])
		}
	case map[any]any:
		for k, val := range x {
			m[fmt.Sprint(k)] = fmt.Sprint(val)
		}
	}
	return m
}

func atoi(s string) int64 {
	n, _ := strconv.ParseInt(s, 10, 64)
	return n
}

func bigOf(s string) *big.Int {
	b, ok := new(big.Int).SetString(s, 10)
	if !ok {
		return new(big.Int)
	}
	return b
}
