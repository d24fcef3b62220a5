package chaos

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/predikat-id/predikat/pkg/decimal"
	"github.com/predikat-id/predikat/pkg/events"
	assessmentv1 "github.com/predikat-id/predikat/pkg/gen/predikat/assessment/v1"
	eventsv1 "github.com/predikat-id/predikat/pkg/gen/predikat/events/v1"
	rankingv1 "github.com/predikat-id/predikat/pkg/gen/predikat/ranking/v1"
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
	Lost     int `json:"lost"`     // acknowledged, not in the log
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
}

func readAssessments(ctx context.Context, js jetstream.JetStream, round string) (*logView, error) {
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
		v.latest[a.GetInstitutionId()] = ev
	}
	return v, nil
}

func checkWrites(v *logView, acked []write, rejected map[string]string, unknown []string) WriteCheck {
	c := WriteCheck{Acked: len(acked), Rejected: len(rejected), Unknown: len(unknown), InLog: v.total}
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
	// PublishGranted and PublishExisting are the final PublishRound
	// answer; their sum is every award of the round.
	PublishGranted  int      `json:"publish_granted"`
	PublishExisting int      `json:"publish_existing"`
	Examples        []string `json:"examples,omitempty"`
}

func readAwards(ctx context.Context, js jetstream.JetStream, round string) (subjects, ids map[string]int, err error) {
	msgs, err := readStream(ctx, js, events.Awards)
	if err != nil {
		return nil, nil, err
	}
	subjects, ids = map[string]int{}, map[string]int{}
	for _, m := range msgs {
		body, err := events.DecodeMsg(m)
		if err != nil {
			return nil, nil, fmt.Errorf("AWARDS %s: %w", m.Subject(), err)
		}
		g, ok := body.(*eventsv1.AwardGranted)
		if !ok || g.GetAward().GetRoundId() != round {
			continue
		}
		subjects[m.Subject()]++
		ids[g.GetAward().GetId()]++
	}
	return subjects, ids, nil
}

func checkAwards(subjects, ids map[string]int, received map[string]bool, pub *assessmentv1.PublishRoundResponse) AwardCheck {
	c := AwardCheck{InStream: len(ids), Received: len(received),
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
