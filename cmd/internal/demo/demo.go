// Package demo loads the Kalimantan Selatan demo data: the province's
// institutions (its governments, police resorts, land offices and public
// service malls) and every figure and award the seed news articles publish,
// each with its source. Nothing is invented: a figure an article does not
// give is absent, not estimated.
//
// The data are embedded files in the formats of the predikat CLI, so each
// can also be imported by hand:
//
//	data/institutions.csv     predikat institutions import
//	data/past_heads.csv       earlier heads, oldest first
//	data/rounds.json          rounds to create, close and publish (with ceremony)
//	data/assessments/*.csv    predikat assessments import --round <scheme>-<year>
//	data/awards.json          manual ceremony awards (GrantAward requests)
//	data/ceremonies.json      ceremonies held with the awards presented at them
//
// Load is idempotent: institutions that exist are left alone, records and
// manual awards carry deterministic request ids, and rounds move forward only
// (create, close, publish), so calling it twice changes nothing.
package demo

import (
	"bytes"
	"context"
	"embed"
	"encoding/json"
	"fmt"
	"log/slog"
	"path"
	"slices"

	"github.com/predikat-id/predikat/cmd/internal/cli/importfile"
	assessmentv1 "github.com/predikat-id/predikat/pkg/gen/predikat/assessment/v1"
	registryv1 "github.com/predikat-id/predikat/pkg/gen/predikat/registry/v1"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/fieldmaskpb"
)

//go:embed data
var files embed.FS

// Clients are the services Load writes to.
type Clients struct {
	Registry   registryv1.RegistryServiceClient
	Assessment assessmentv1.AssessmentServiceClient
	// Ceremonies, if set, gets the demo's ceremonies (served by the
	// assessment service beside Assessment); nil leaves them out.
	Ceremonies assessmentv1.CeremonyServiceClient
}

// Data is the parsed demo data.
type Data struct {
	// Institutions in load order (parents first).
	Institutions []importfile.InstitutionRow
	// PastHeads are the earlier heads of an institution, oldest first; its
	// current head is the one in Institutions.
	PastHeads map[string][]*registryv1.Head
	Rounds    []Round
	Awards    []*assessmentv1.GrantAwardRequest
	// Ceremonies are held after the rounds and awards, in file order.
	Ceremonies []Ceremony
}

// Round is one round to create, fill, close and publish.
type Round struct {
	Create      *assessmentv1.CreateRoundRequest
	File        string // results file under data/assessments
	Assessments []importfile.AssessmentRow
	Publish     *assessmentv1.PublishRoundRequest
}

// ID is the round id, "<scheme>-<year>".
func (r Round) ID() string { return fmt.Sprintf("%s-%d", r.Create.GetSchemeId(), r.Create.GetYear()) }

// Parse reads and checks the embedded data.
func Parse() (*Data, error) {
	d := &Data{}
	var err error
	if d.Institutions, err = parseInstitutions(); err != nil {
		return nil, err
	}
	if d.PastHeads, err = parsePastHeads(); err != nil {
		return nil, err
	}
	if d.Rounds, err = parseRounds(); err != nil {
		return nil, err
	}
	if d.Awards, err = parseAwards(); err != nil {
		return nil, err
	}
	if d.Ceremonies, err = parseCeremonies(); err != nil {
		return nil, err
	}
	return d, nil
}

func openData(name string) (*bytes.Reader, error) {
	b, err := files.ReadFile(path.Join("data", name))
	if err != nil {
		return nil, err
	}
	return bytes.NewReader(b), nil
}

func parseInstitutions() ([]importfile.InstitutionRow, error) {
	r, err := openData("institutions.csv")
	if err != nil {
		return nil, err
	}
	return importfile.ParseInstitutions("data/institutions.csv", r)
}

// parsePastHeads reads the earlier heads of each institution, in file
// order (oldest first).
func parsePastHeads() (map[string][]*registryv1.Head, error) {
	r, err := openData("past_heads.csv")
	if err != nil {
		return nil, err
	}
	heads, err := importfile.ReadTable("data/past_heads.csv", r, []string{"institution_id", "head_name", "head_title", "head_term_start"}, nil)
	if err != nil {
		return nil, err
	}
	out := map[string][]*registryv1.Head{}
	for _, rec := range heads.Records {
		if rec.Get("head_name") == "" {
			return nil, rec.Errorf("head_name", "required")
		}
		id := rec.Get("institution_id")
		out[id] = append(out[id], &registryv1.Head{Name: rec.Get("head_name"), Title: rec.Get("head_title"), TermStart: rec.Get("head_term_start")})
	}
	return out, nil
}

// roundSpec is one round of data/rounds.json.
type roundSpec struct {
	Create      json.RawMessage `json:"create"`
	Assessments string          `json:"assessments"`
	Publish     json.RawMessage `json:"publish"`
}

func parseRounds() ([]Round, error) {
	var rounds struct {
		Rounds []roundSpec `json:"rounds"`
	}
	if err := readJSON("rounds.json", &rounds); err != nil {
		return nil, err
	}
	var out []Round
	for i, spec := range rounds.Rounds {
		rd, err := parseRound(i, spec)
		if err != nil {
			return nil, err
		}
		out = append(out, rd)
	}
	return out, nil
}

// parseRound reads the i-th (from 0) round of data/rounds.json with its
// results file.
func parseRound(i int, spec roundSpec) (Round, error) {
	rd := Round{Create: &assessmentv1.CreateRoundRequest{}, Publish: &assessmentv1.PublishRoundRequest{}, File: spec.Assessments}
	if err := protojson.Unmarshal(spec.Create, rd.Create); err != nil {
		return Round{}, fmt.Errorf("data/rounds.json: round %d: create: %w", i+1, err)
	}
	if len(spec.Publish) > 0 {
		if err := protojson.Unmarshal(spec.Publish, rd.Publish); err != nil {
			return Round{}, fmt.Errorf("data/rounds.json: round %s: publish: %w", rd.ID(), err)
		}
	}
	rd.Publish.RoundId = rd.ID()
	r, err := openData(path.Join("assessments", spec.Assessments))
	if err != nil {
		return Round{}, fmt.Errorf("data/rounds.json: round %s: %w", rd.ID(), err)
	}
	if rd.Assessments, err = importfile.ParseAssessments("data/assessments/"+spec.Assessments, r, nil); err != nil {
		return Round{}, err
	}
	return rd, nil
}

func parseAwards() ([]*assessmentv1.GrantAwardRequest, error) {
	var awards struct {
		Awards []json.RawMessage `json:"awards"`
	}
	if err := readJSON("awards.json", &awards); err != nil {
		return nil, err
	}
	var out []*assessmentv1.GrantAwardRequest
	for i, raw := range awards.Awards {
		req := &assessmentv1.GrantAwardRequest{}
		if err := protojson.Unmarshal(raw, req); err != nil {
			return nil, fmt.Errorf("data/awards.json: award %d: %w", i+1, err)
		}
		out = append(out, req)
	}
	return out, nil
}

func readJSON(name string, v any) error {
	b, err := files.ReadFile(path.Join("data", name))
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("data/%s: %w", name, err)
	}
	return nil
}

// Load writes the demo data through the services' APIs. It is meant for an
// empty system, and safe on one that has it already: nothing changes then.
func Load(ctx context.Context, c Clients, log *slog.Logger) error {
	if log == nil {
		log = slog.Default()
	}
	d, err := Parse()
	if err != nil {
		return fmt.Errorf("demo data: %w", err)
	}
	if err := loadInstitutions(ctx, c, log, d); err != nil {
		return err
	}
	for _, r := range d.Rounds {
		if err := loadRound(ctx, c, log, r); err != nil {
			return err
		}
	}
	if err := loadAwards(ctx, c, log, d); err != nil {
		return err
	}
	if c.Ceremonies == nil {
		log.Info("demo ceremonies left out: no ceremony client")
		return nil
	}
	return loadCeremonies(ctx, c, log, d)
}

func loadInstitutions(ctx context.Context, c Clients, log *slog.Logger, d *Data) error {
	created, existing, headChanges := 0, 0, 0
	for _, row := range d.Institutions {
		req := proto.Clone(row.Request).(*registryv1.CreateInstitutionRequest)
		id := req.GetInstitutionId()
		// Register with the earliest head, then replace it in turn, so the
		// registry's past_heads tells the history the articles give.
		heads := append(slices.Clone(d.PastHeads[id]), req.GetInstitution().GetHead())
		if req.GetInstitution().GetHead() == nil {
			heads = nil
		} else {
			req.Institution.Head = heads[0]
		}
		var cur *registryv1.Institution
		resp, err := c.Registry.CreateInstitution(ctx, req)
		switch {
		case err == nil:
			created++
			cur = resp.GetInstitution()
		case status.Code(err) == codes.AlreadyExists:
			got, gerr := c.Registry.GetInstitution(ctx, &registryv1.GetInstitutionRequest{Id: id})
			if gerr != nil {
				return fmt.Errorf("demo institution %s (data/institutions.csv:%d): %w", id, row.Line, err)
			}
			existing++
			cur = got.GetInstitution()
		default:
			return fmt.Errorf("demo institution %s (data/institutions.csv:%d): %w", id, row.Line, err)
		}
		n, err := advanceHead(ctx, c, log, cur, heads)
		if err != nil {
			return fmt.Errorf("demo institution %s: head: %w", id, err)
		}
		headChanges += n
	}
	log.Info("demo institutions", "created", created, "existing", existing, "head_changes", headChanges)
	return nil
}

// advanceHead moves an institution's head forward through heads (oldest
// first) from the one it has now. An institution whose head is not in the
// list was changed by someone else: it is left alone.
func advanceHead(ctx context.Context, c Clients, log *slog.Logger, cur *registryv1.Institution, heads []*registryv1.Head) (int, error) {
	if len(heads) == 0 {
		return 0, nil
	}
	at := slices.IndexFunc(heads, func(h *registryv1.Head) bool { return h.GetName() == cur.GetHead().GetName() })
	if at < 0 {
		log.Warn("demo institution has a head the demo data does not know; left unchanged", "institution", cur.GetId(), "head", cur.GetHead().GetName())
		return 0, nil
	}
	changes := 0
	for _, h := range heads[at+1:] {
		resp, err := c.Registry.UpdateInstitution(ctx, &registryv1.UpdateInstitutionRequest{
			Institution: &registryv1.Institution{Id: cur.GetId(), Head: h}, UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"head"}},
			ExpectedRevision: cur.GetRevision(),
		})
		if err != nil {
			return changes, err
		}
		cur = resp.GetInstitution()
		changes++
	}
	return changes, nil
}

func loadRound(ctx context.Context, c Clients, log *slog.Logger, r Round) error {
	id := r.ID()
	fail := func(step string, err error) error { return fmt.Errorf("demo round %s: %s: %w", id, step, err) }
	round, err := getOrCreateRound(ctx, c, r)
	if err != nil {
		return fail("create", err)
	}
	recorded, unchanged := 0, 0
	reopened := false
	for _, row := range r.Assessments {
		resp, err := c.Assessment.RecordAssessment(ctx, row.Request(id))
		if status.Code(err) == codes.FailedPrecondition && round.GetState() == assessmentv1.RoundState_ROUND_STATE_CLOSED && !reopened {
			// Closed before all its records were in (an earlier load that
			// stopped halfway): reopen it and record the rest.
			if _, rerr := c.Assessment.ReopenRound(ctx, &assessmentv1.ReopenRoundRequest{RoundId: id, Reason: "demo data: records missing"}); rerr != nil {
				return fail("reopen", rerr)
			}
			reopened = true
			round.State = assessmentv1.RoundState_ROUND_STATE_OPEN
			resp, err = c.Assessment.RecordAssessment(ctx, row.Request(id))
		}
		if err != nil {
			return fail(fmt.Sprintf("record %s (%s:%d)", row.InstitutionID, "data/assessments/"+r.File, row.Line), err)
		}
		if resp.GetCreated() {
			recorded++
		} else {
			unchanged++
		}
	}
	if round.GetState() == assessmentv1.RoundState_ROUND_STATE_OPEN {
		if _, err := c.Assessment.CloseRound(ctx, &assessmentv1.CloseRoundRequest{RoundId: id}); err != nil {
			return fail("close", err)
		}
	}
	// Publishing a published round grants nothing new; it finishes a
	// publication that stopped halfway.
	pub, err := c.Assessment.PublishRound(ctx, r.Publish)
	if err != nil {
		return fail("publish", err)
	}
	log.Info("demo round", "round", id, "recorded", recorded, "unchanged", unchanged,
		"awards_granted", pub.GetAwardsGranted(), "awards_existing", pub.GetAwardsExisting())
	return nil
}

func getOrCreateRound(ctx context.Context, c Clients, r Round) (*assessmentv1.Round, error) {
	got, err := c.Assessment.GetRound(ctx, &assessmentv1.GetRoundRequest{RoundId: r.ID()})
	if err == nil {
		return got.GetRound(), nil
	}
	if status.Code(err) != codes.NotFound {
		return nil, err
	}
	created, err := c.Assessment.CreateRound(ctx, r.Create)
	if status.Code(err) == codes.AlreadyExists {
		if got, err = c.Assessment.GetRound(ctx, &assessmentv1.GetRoundRequest{RoundId: r.ID()}); err != nil {
			return nil, err
		}
		return got.GetRound(), nil
	}
	if err != nil {
		return nil, err
	}
	return created.GetRound(), nil
}

func loadAwards(ctx context.Context, c Clients, log *slog.Logger, d *Data) error {
	granted, existing := 0, 0
	for _, req := range d.Awards {
		resp, err := c.Assessment.GrantAward(ctx, req)
		if err != nil {
			return fmt.Errorf("demo award %s (%s): %w", req.GetRequestId(), req.GetInstitutionId(), err)
		}
		if resp.GetCreated() {
			granted++
		} else {
			existing++
		}
	}
	log.Info("demo awards", "granted", granted, "existing", existing)
	return nil
}
