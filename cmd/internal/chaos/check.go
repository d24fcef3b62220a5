package chaos

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"

	"github.com/predikat-id/predikat/pkg/decimal"
	"github.com/predikat-id/predikat/pkg/events"
	assessmentv1 "github.com/predikat-id/predikat/pkg/gen/predikat/assessment/v1"
	eventsv1 "github.com/predikat-id/predikat/pkg/gen/predikat/events/v1"
	rankingv1 "github.com/predikat-id/predikat/pkg/gen/predikat/ranking/v1"
	registryv1 "github.com/predikat-id/predikat/pkg/gen/predikat/registry/v1"
)

// readStream reads every message of a stream, in order, with an ordered
// consumer: the log itself, not any service's view of it.
func readStream(ctx context.Context, js jetstream.JetStream, name string) ([]jetstream.Msg, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	s, err := js.Stream(ctx, name)
	if err != nil {
		return nil, fmt.Errorf("stream %s: %w", name, err)
	}
	last := s.CachedInfo().State.LastSeq
	if last == 0 {
		return nil, nil
	}
	c, err := s.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{})
	if err != nil {
		return nil, fmt.Errorf("stream %s: %w", name, err)
	}
	var out []jetstream.Msg
	for ctx.Err() == nil {
		batch, err := c.Fetch(1000, jetstream.FetchMaxWait(2*time.Second))
		if err != nil {
			continue
		}
		for m := range batch.Messages() {
			out = append(out, m)
			if md, err := m.Metadata(); err == nil && md.Sequence.Stream >= last {
				return out, nil
			}
		}
	}
	return out, fmt.Errorf("stream %s: read %d messages up to sequence %d: %w", name, len(out), last, ctx.Err())
}

// WriteCheck is what the log says of the acknowledged writes.
type WriteCheck struct {
	Acked    int `json:"acked"`
	Created  int `json:"created"`  // acknowledged as new revisions (not a retry's replay)
	Rejected int `json:"rejected"` // definite non-retryable answers
	Unknown  int `json:"unknown"`  // no definite answer when the load stopped
	InLog    int `json:"in_log"`   // records of the round in ASSESSMENTS
	// RefusedInLog are records stored past a close's fence (their writers
	// were told FailedPrecondition).
	RefusedInLog int `json:"refused_in_log"`
	// Unexpected are writes refused with another code than
	// FailedPrecondition.
	Unexpected int `json:"unexpected_refusals"`
	Lost       int `json:"lost"` // acknowledged, not in the log
	// Duplicated counts request ids stored more than once.
	Duplicated int `json:"duplicated"`
	// RevisionMismatch counts acknowledged revisions the log stores under
	// another revision.
	RevisionMismatch int      `json:"revision_mismatch"`
	Examples         []string `json:"examples,omitempty"`
}

// logView is the round's records in ASSESSMENTS.
type logView struct {
	count    map[string]int    // request id: records
	revision map[string]uint64 // request id: revision of its (first) record
	latest   map[string]*eventsv1.AssessmentRecorded
	total    int
	refused  int // stored past a close's fence
}

// readFences collects every fence the round's events in ROUNDS carry, by
// the round revision each close replaced.
func readFences(ctx context.Context, js jetstream.JetStream, round string) (map[uint64]uint64, error) {
	msgs, err := readStream(ctx, js, events.Rounds)
	if err != nil {
		return nil, err
	}
	out := map[uint64]uint64{}
	for _, m := range msgs {
		body, err := events.DecodeMsg(m)
		if err != nil {
			return nil, fmt.Errorf("ROUNDS %s: %w", m.Subject(), err)
		}
		var fences []*eventsv1.AssessmentFence
		switch ev := body.(type) {
		case *eventsv1.RoundChanged:
			if ev.GetRound().GetId() == round {
				fences = ev.GetFences()
			}
		case *eventsv1.RoundPublished:
			if ev.GetRound().GetId() == round {
				fences = ev.GetFences()
			}
		}
		for _, f := range fences {
			out[f.GetRoundRevision()] = f.GetSequence()
		}
	}
	return out, nil
}

// readAssessments reads the round's records from ASSESSMENTS; a record a
// close's fence refused counts as stored (its request id was answered) but
// is nobody's latest.
func readAssessments(ctx context.Context, js jetstream.JetStream, round string) (*logView, error) {
	fences, err := readFences(ctx, js, round)
	if err != nil {
		return nil, err
	}
	msgs, err := readStream(ctx, js, events.Assessments)
	if err != nil {
		return nil, err
	}
	v := &logView{count: map[string]int{}, revision: map[string]uint64{}, latest: map[string]*eventsv1.AssessmentRecorded{}}
	for _, m := range msgs {
		body, err := events.DecodeMsg(m)
		if err != nil {
			return nil, fmt.Errorf("ASSESSMENTS %s: %w", m.Subject(), err)
		}
		ev, ok := body.(*eventsv1.AssessmentRecorded)
		if !ok || ev.GetAssessment().GetRoundId() != round {
			continue
		}
		a := ev.GetAssessment()
		v.total++
		if v.count[a.GetRequestId()] == 0 {
			v.revision[a.GetRequestId()] = a.GetRevision()
		}
		v.count[a.GetRequestId()]++
		md, err := m.Metadata()
		if err != nil {
			return nil, err
		}
		if f, ok := fences[ev.GetRoundRevision()]; ok && ev.GetRoundRevision() != 0 && md.Sequence.Stream > f {
			v.refused++
			continue
		}
		v.latest[a.GetInstitutionId()] = ev
	}
	return v, nil
}

func checkWrites(v *logView, acked []write, rejected map[string]string, unknown []string) WriteCheck {
	c := WriteCheck{Acked: len(acked), Rejected: len(rejected), Unknown: len(unknown), InLog: v.total, RefusedInLog: v.refused}
	example := func(s string, a ...any) {
		if len(c.Examples) < 10 {
			c.Examples = append(c.Examples, fmt.Sprintf(s, a...))
		}
	}
	for _, w := range acked {
		if w.Created {
			c.Created++
		}
		switch {
		case v.count[w.RequestID] == 0:
			c.Lost++
			example("lost: %s (revision %d, acknowledged %s)", w.RequestID, w.Revision, w.Acked.Format(time.TimeOnly))
		case v.revision[w.RequestID] != w.Revision:
			c.RevisionMismatch++
			example("revision: %s acknowledged as %d, stored as %d", w.RequestID, w.Revision, v.revision[w.RequestID])
		}
	}
	for id, code := range rejected {
		// The only definite refusal a well-formed write may meet is the
		// round closing under it.
		if code != codes.FailedPrecondition.String() {
			c.Unexpected++
			example("refused: %s with %s", id, code)
		}
	}
	for id, n := range v.count {
		if n > 1 {
			c.Duplicated++
			example("duplicated: %s stored %d times", id, n)
		}
	}
	return c
}

// AwardCheck is what AWARDS and the subscriber say of the awards.
type AwardCheck struct {
	InStream          int `json:"in_stream"` // AwardGranted of the round
	DuplicateSubjects int `json:"duplicate_subjects"`
	DuplicateIDs      int `json:"duplicate_ids"`
	Received          int `json:"received"` // distinct award ids the subscriber got
	MissingAtSub      int `json:"missing_at_subscriber"`
	// Expected is the rule awards the scheme's rules give the log's
	// latest records; Missing were not granted, Unearned were granted
	// without being earned.
	Expected int `json:"expected"`
	Missing  int `json:"missing"`
	Unearned int `json:"unearned"`
	// PublishGranted and PublishExisting are the final PublishRound
	// answer; their sum is every award of the round.
	PublishGranted  int      `json:"publish_granted"`
	PublishExisting int      `json:"publish_existing"`
	Examples        []string `json:"examples,omitempty"`
}

// grantedAwards is the round's grants in AWARDS.
type grantedAwards struct {
	subjects, ids map[string]int
	rules         map[string]bool // "rule/institution" of the rule awards
}

func readAwards(ctx context.Context, js jetstream.JetStream, round string) (*grantedAwards, error) {
	msgs, err := readStream(ctx, js, events.Awards)
	if err != nil {
		return nil, err
	}
	g := &grantedAwards{subjects: map[string]int{}, ids: map[string]int{}, rules: map[string]bool{}}
	for _, m := range msgs {
		body, err := events.DecodeMsg(m)
		if err != nil {
			return nil, fmt.Errorf("AWARDS %s: %w", m.Subject(), err)
		}
		ev, ok := body.(*eventsv1.AwardGranted)
		if !ok || ev.GetAward().GetRoundId() != round {
			continue
		}
		a := ev.GetAward()
		g.subjects[m.Subject()]++
		g.ids[a.GetId()]++
		if code := a.GetBasis().GetRuleCode(); code != "" {
			g.rules[code+"/"+a.GetInstitution().GetId()] = true
		}
	}
	return g, nil
}

func checkAwards(g *grantedAwards, expected, received map[string]bool, pub *assessmentv1.PublishRoundResponse) AwardCheck {
	subjects, ids := g.subjects, g.ids
	c := AwardCheck{InStream: len(ids), Received: len(received), Expected: len(expected),
		PublishGranted: int(pub.GetAwardsGranted()), PublishExisting: int(pub.GetAwardsExisting())}
	example := func(s string, a ...any) {
		if len(c.Examples) < 10 {
			c.Examples = append(c.Examples, fmt.Sprintf(s, a...))
		}
	}
	for s, n := range subjects {
		if n > 1 {
			c.DuplicateSubjects++
			example("subject %s granted %d times", s, n)
		}
	}
	for id, n := range ids {
		if n > 1 {
			c.DuplicateIDs++
			example("award id %s granted %d times", id, n)
		}
		if !received[id] {
			c.MissingAtSub++
			example("award %s not received by the subscriber", id)
		}
	}
	for k := range expected {
		if !g.rules[k] {
			c.Missing++
			example("award %s earned by the log's records, not granted", k)
		}
	}
	for k := range g.rules {
		if !expected[k] {
			c.Unearned++
			example("award %s granted, not earned by the log's records", k)
		}
	}
	return c
}

// BoardCheck compares the ranking boards with the latest record of each
// institution in the log.
type BoardCheck struct {
	Boards   int      `json:"boards"`
	Expected int      `json:"expected_entries"`
	Matching int      `json:"matching"`
	Missing  int      `json:"missing"`
	Extra    int      `json:"extra"`
	Wrong    int      `json:"wrong"` // present with another revision or score
	Examples []string `json:"examples,omitempty"`
}

// expectedBoards places each institution's latest record on the boards of
// its peer groups: national ("00") and its province, as each group ranks.
func expectedBoards(v *logView) map[*rankingv1.BoardKey]map[string]*assessmentv1.Assessment {
	keys := map[string]*rankingv1.BoardKey{}
	out := map[*rankingv1.BoardKey]map[string]*assessmentv1.Assessment{}
	for _, ev := range v.latest {
		a := ev.GetAssessment()
		for _, g := range ev.GetPeerGroups() {
			for _, sc := range g.GetScopes() {
				scope := events.National
				if sc == assessmentv1.ScopeKind_SCOPE_KIND_PROVINCE {
					scope = a.GetInstitution().GetProvinceCode()
				}
				id := g.GetCode() + "/" + scope
				k, ok := keys[id]
				if !ok {
					k = &rankingv1.BoardKey{SchemeId: a.GetSchemeId(), Year: a.GetYear(), PeerGroup: g.GetCode(), Scope: scope}
					keys[id] = k
					out[k] = map[string]*assessmentv1.Assessment{}
				}
				out[k][a.GetInstitutionId()] = a
			}
		}
	}
	return out
}

// readBoard reads every entry of a board through the ranking service.
func readBoard(ctx context.Context, rk rankingv1.RankingServiceClient, key *rankingv1.BoardKey) ([]*rankingv1.LeaderboardEntry, error) {
	var out []*rankingv1.LeaderboardEntry
	token := ""
	for {
		var resp *rankingv1.GetLeaderboardResponse
		_, _, err := retry(ctx, func(ctx context.Context) (err error) {
			resp, err = rk.GetLeaderboard(ctx, &rankingv1.GetLeaderboardRequest{Board: key, PageSize: 1000, PageToken: token})
			return err
		})
		if err != nil {
			return nil, err
		}
		out = append(out, resp.GetEntries()...)
		if token = resp.GetNextPageToken(); token == "" {
			return out, nil
		}
	}
}

func checkBoards(ctx context.Context, rk rankingv1.RankingServiceClient, v *logView) (BoardCheck, error) {
	var c BoardCheck
	example := func(s string, a ...any) {
		if len(c.Examples) < 10 {
			c.Examples = append(c.Examples, fmt.Sprintf(s, a...))
		}
	}
	for key, want := range expectedBoards(v) {
		c.Boards++
		c.Expected += len(want)
		entries, err := readBoard(ctx, rk, key)
		if err != nil {
			return c, fmt.Errorf("board %s/%s: %w", key.GetPeerGroup(), key.GetScope(), err)
		}
		seen := map[string]bool{}
		for _, e := range entries {
			seen[e.GetInstitutionId()] = true
			a, ok := want[e.GetInstitutionId()]
			switch {
			case !ok:
				c.Extra++
				example("board %s/%s: %s is on it, not in the log", key.GetPeerGroup(), key.GetScope(), e.GetInstitutionId())
			case e.GetRevision() != a.GetRevision() || !sameScore(e.GetScore(), a.GetTotal()):
				c.Wrong++
				example("board %s/%s: %s revision %d score %s, the log's latest is revision %d total %s", key.GetPeerGroup(), key.GetScope(),
					e.GetInstitutionId(), e.GetRevision(), e.GetScore(), a.GetRevision(), a.GetTotal())
			default:
				c.Matching++
			}
		}
		for id := range want {
			if !seen[id] {
				c.Missing++
				example("board %s/%s: %s missing", key.GetPeerGroup(), key.GetScope(), id)
			}
		}
	}
	return c, nil
}

func sameScore(a, b string) bool {
	da, err1 := decimal.Parse(a)
	db, err2 := decimal.Parse(b)
	if err := errors.Join(err1, err2); err != nil {
		return a == b
	}
	return da.Cmp(db) == 0
}

// InstitutionCheck is what the registry's bucket says of the institutions
// created under load.
type InstitutionCheck struct {
	Acked   int `json:"acked"`
	Unknown int `json:"unknown"` // no definite answer when the load stopped
	InStore int `json:"in_store"`
	Lost    int `json:"lost"` // acknowledged, not stored
	// Duplicated counts names stored under more than one id: a retry that
	// created a second institution.
	Duplicated int      `json:"duplicated"`
	Examples   []string `json:"examples,omitempty"`
}

// checkInstitutions reads every institution from the registry's bucket,
// as the log holds it, and compares it with what the load was told.
func checkInstitutions(ctx context.Context, js jetstream.JetStream, created map[string]string) (InstitutionCheck, error) {
	var c InstitutionCheck
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	kv, err := js.KeyValue(ctx, "registry_institutions")
	if err != nil {
		return c, fmt.Errorf("registry bucket: %w", err)
	}
	keys, err := kv.ListKeys(ctx)
	if err != nil {
		return c, fmt.Errorf("registry bucket keys: %w", err)
	}
	byName := map[string][]string{}
	stored := map[string]bool{}
	for k := range keys.Keys() {
		e, err := kv.Get(ctx, k)
		if err != nil {
			return c, fmt.Errorf("institution %s: %w", k, err)
		}
		var in registryv1.Institution
		if err := proto.Unmarshal(e.Value(), &in); err != nil {
			return c, fmt.Errorf("institution %s: %w", k, err)
		}
		if strings.HasPrefix(in.GetName(), newInstitutionName) {
			c.InStore++
			stored[k] = true
			byName[in.GetName()] = append(byName[in.GetName()], k)
		}
	}
	example := func(s string, a ...any) {
		if len(c.Examples) < 10 {
			c.Examples = append(c.Examples, fmt.Sprintf(s, a...))
		}
	}
	for req, id := range created {
		switch {
		case id == "":
			c.Unknown++
		case !stored[id]:
			c.Acked++
			c.Lost++
			example("institution %s (request %s) acknowledged, not stored", id, req)
		default:
			c.Acked++
		}
	}
	for name, ids := range byName {
		if len(ids) > 1 {
			c.Duplicated++
			example("institution %q stored %d times: %v", name, len(ids), ids)
		}
	}
	return c, nil
}

// expectedAwards recomputes the round's rule awards from the log's latest
// records and the scheme's rules, independently of the service's own
// code: a BAND rule awards every record in its bands (of its peer group
// when it names one); a RANK rule awards ranks 1..top_n of each board of
// its peer group and scope, with competition ranks (ties share a rank),
// among records in its bands when it names any. Keys are "rule/institution".
func expectedAwards(s *assessmentv1.Scheme, v *logView) (map[string]bool, error) {
	out := map[string]bool{}
	for _, rule := range s.GetAwardRules() {
		switch rule.GetKind() {
		case assessmentv1.AwardBasisKind_AWARD_BASIS_KIND_BAND, assessmentv1.AwardBasisKind_AWARD_BASIS_KIND_CATEGORY:
			for _, ev := range v.latest {
				if inGroup(ev, rule.GetPeerGroup()) && inBands(ev.GetAssessment(), rule.GetBandCodes()) {
					out[rule.GetCode()+"/"+ev.GetAssessment().GetInstitutionId()] = true
				}
			}
		case assessmentv1.AwardBasisKind_AWARD_BASIS_KIND_RANK:
			if err := rankAwards(rule, v, out); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}

// rankAwards adds a RANK rule's awards: ranks 1..top_n of each board of its
// peer group and scope.
func rankAwards(rule *assessmentv1.AwardRule, v *logView, out map[string]bool) error {
	boards := map[string][]*assessmentv1.Assessment{}
	for _, ev := range v.latest {
		a := ev.GetAssessment()
		if !inGroup(ev, rule.GetPeerGroup()) || (len(rule.GetBandCodes()) > 0 && !inBands(a, rule.GetBandCodes())) {
			continue
		}
		scope := events.National
		if rule.GetScope() == assessmentv1.ScopeKind_SCOPE_KIND_PROVINCE {
			scope = a.GetInstitution().GetProvinceCode()
		}
		boards[scope] = append(boards[scope], a)
	}
	for _, recs := range boards {
		top, err := topN(recs, int(max(rule.GetTopN(), 1)))
		if err != nil {
			return err
		}
		for _, a := range top {
			out[rule.GetCode()+"/"+a.GetInstitutionId()] = true
		}
	}
	return nil
}

// inGroup reports whether the record's institution is in the peer group
// ("" is every group).
func inGroup(ev *eventsv1.AssessmentRecorded, group string) bool {
	return group == "" || slices.ContainsFunc(ev.GetPeerGroups(), func(g *assessmentv1.PeerGroup) bool { return g.GetCode() == group })
}

// inBands reports whether the record is in one of the bands.
func inBands(a *assessmentv1.Assessment, bands []string) bool {
	return slices.ContainsFunc(bands, func(b string) bool { return strings.EqualFold(b, a.GetBandCode()) })
}

// topN is every record whose competition rank by total is at most n: the
// records with fewer than n totals strictly above their own.
func topN(recs []*assessmentv1.Assessment, n int) ([]*assessmentv1.Assessment, error) {
	totals := make([]decimal.Decimal, len(recs))
	for i, a := range recs {
		d, err := decimal.Parse(a.GetTotal())
		if err != nil {
			return nil, fmt.Errorf("total of %s: %w", a.GetInstitutionId(), err)
		}
		totals[i] = d
	}
	var out []*assessmentv1.Assessment
	for i, a := range recs {
		above := 0
		for j := range recs {
			if totals[j].Cmp(totals[i]) > 0 {
				above++
			}
		}
		if above < n {
			out = append(out, a)
		}
	}
	return out, nil
}
