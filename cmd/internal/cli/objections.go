package cli

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	assessmentv1 "github.com/predikat-id/predikat/pkg/gen/predikat/assessment/v1"
)

// repeated is a flag given any number of times.
type repeated []string

func (r *repeated) String() string     { return strings.Join(*r, ", ") }
func (r *repeated) Set(v string) error { *r = append(*r, v); return nil }

func cmdObjectionsFile(fs *flag.FlagSet, s *session) func(context.Context, []string) error {
	round := fs.String("round", "", "round id, e.g. ombudsman-2024 (required)")
	inst := fs.String("institution", "", "the objecting institution's id (required)")
	reasons := fs.String("reasons", "", "why the institution objects (required)")
	rev := fs.Uint64("revision", 0, "the revision objected to (default: the current one)")
	var evidence repeated
	fs.Var(&evidence, "evidence", "a reference to evidence (document number, URL); repeatable")
	return func(ctx context.Context, args []string) error {
		if err := needArgs(args, 0, ""); err != nil {
			return err
		}
		if err := required("round", *round, "institution", *inst, "reasons", *reasons); err != nil {
			return err
		}
		resp, err := s.obj.FileObjection(ctx, &assessmentv1.FileObjectionRequest{RoundId: *round, InstitutionId: *inst,
			AgainstRevision: *rev, Reasons: *reasons, Evidence: evidence,
			RequestId: contentRequestID("objection", *round, *inst, strconv.FormatUint(*rev, 10), *reasons, strings.Join(evidence, "\x00"))})
		if err != nil {
			return err
		}
		if s.json {
			return s.emit(resp.GetObjection())
		}
		o := resp.GetObjection()
		verb := "filed"
		if !resp.GetCreated() {
			verb = "already filed (the same objection was sent before)"
		}
		line(s.out, "%s %s: %s objects to revision %d of round %s (%s %s); the window ends %s", verb, o.GetId(), o.GetInstitutionId(),
			o.GetAgainstRevision(), o.GetRoundId(), orDash(o.GetAgainstTotal()), o.GetAgainstBandCode(), o.GetWindowEndLocal())
		return nil
	}
}

func cmdObjectionsList(fs *flag.FlagSet, s *session) func(context.Context, []string) error {
	round := fs.String("round", "", "round id (required)")
	inst := fs.String("institution", "", "only this institution's")
	states := fs.String("state", "", "only these states, comma-separated: open, accepted, rejected")
	return func(ctx context.Context, args []string) error {
		if err := needArgs(args, 0, ""); err != nil {
			return err
		}
		if err := required("round", *round); err != nil {
			return err
		}
		req := &assessmentv1.ListObjectionsRequest{RoundId: *round, InstitutionId: *inst}
		vs, err := enumList("state", *states, assessmentv1.ObjectionState_value, "OBJECTION_STATE_", "open, accepted, rejected")
		if err != nil {
			return err
		}
		for _, v := range vs {
			req.States = append(req.States, assessmentv1.ObjectionState(v))
		}
		resp, err := s.obj.ListObjections(ctx, req)
		if err != nil {
			return err
		}
		if s.json {
			return s.emit(resp)
		}
		if w := resp.GetWindowEnd(); w != nil {
			line(s.out, "round %s: the last objection window ends %s", *round, w.AsTime().UTC().Format(time.RFC3339))
		}
		if len(resp.GetObjections()) == 0 {
			return s.none("objections")
		}
		return renderObjections(s.out, resp.GetObjections())
	}
}

func cmdObjectionsDecide(fs *flag.FlagSet, s *session) func(context.Context, []string) error {
	round := fs.String("round", "", "round id (required)")
	inst := fs.String("institution", "", "the objecting institution's id (required)")
	accept := fs.Bool("accept", false, "accept: correct the record with --total or --band")
	reject := fs.Bool("reject", false, "reject: the record stands")
	reasons := fs.String("reasons", "", "the decision's reasons (required)")
	total := fs.String("total", "", "the corrected total, when accepting")
	band := fs.String("band", "", "the corrected band, when accepting a band-only result")
	return func(ctx context.Context, args []string) error {
		if err := needArgs(args, 1, "OBJECTION"); err != nil {
			return err
		}
		if err := required("round", *round, "institution", *inst, "reasons", *reasons); err != nil {
			return err
		}
		if *accept == *reject {
			return usagef("give --accept or --reject")
		}
		req := &assessmentv1.DecideObjectionRequest{RoundId: *round, InstitutionId: *inst, ObjectionId: args[0], Reasons: *reasons,
			Decision: assessmentv1.ObjectionState_OBJECTION_STATE_REJECTED}
		if *accept {
			in, err := correctionInput(*total, *band)
			if err != nil {
				return err
			}
			req.Decision, req.Input = assessmentv1.ObjectionState_OBJECTION_STATE_ACCEPTED, in
		} else if *total != "" || *band != "" {
			return usagef("--total and --band go with --accept")
		}
		req.RequestId = contentRequestID("decide", args[0], req.GetDecision().String(), req.GetInput().GetReportedTotal(),
			strings.ToUpper(req.GetInput().GetReportedBand()), *reasons)
		resp, err := s.obj.DecideObjection(ctx, req)
		if err != nil {
			return err
		}
		if s.json {
			return s.emit(resp)
		}
		o := resp.GetObjection()
		line(s.out, "objection %s is %s", o.GetId(), objectionStateText(o.GetState()))
		if c := resp.GetCorrection(); c != nil {
			line(s.out, "%s in %s corrected: revision %d, %s %s", c.GetInstitutionId(), c.GetRoundId(), c.GetRevision(), orDash(c.GetTotal()), c.GetBandCode())
		}
		return nil
	}
}

// contentRequestID makes a request idempotent by its content: sent again
// after a lost answer, it is the same request.
func contentRequestID(kind string, parts ...string) string {
	sum := sha256.Sum256([]byte(kind + "/v1\x00" + strings.Join(parts, "\x00")))
	return kind + "-" + hex.EncodeToString(sum[:16])
}

func objectionStateText(s assessmentv1.ObjectionState) string {
	return strings.ToLower(strings.TrimPrefix(s.String(), "OBJECTION_STATE_"))
}

func renderObjections(w io.Writer, list []*assessmentv1.Objection) error {
	t := newTable("OBJECTION", "INSTITUTION", "STATE", "AGAINST", "DECIDED BY", "RESULT", "REASONS")
	for _, o := range list {
		against := fmt.Sprintf("rev %d %s %s", o.GetAgainstRevision(), orDash(o.GetAgainstTotal()), o.GetAgainstBandCode())
		result := ""
		if o.GetCorrectionRevision() != 0 {
			result = fmt.Sprintf("rev %d %s %s", o.GetCorrectionRevision(), orDash(o.GetCorrectedTotal()), o.GetCorrectedBandCode())
		}
		reasons := o.GetReasons()
		if o.GetDecisionReasons() != "" {
			reasons += " / " + o.GetDecisionReasons()
		}
		t.add(o.GetId(), o.GetInstitutionId(), objectionStateText(o.GetState()), against, orDash(o.GetDecidedBy()), orDash(result), reasons)
	}
	return t.write(w)
}

// enumList reads a comma-separated flag of enum values written in lower
// case without their prefix ("open,closed"); an unknown one is a usage
// error listing the choices.
func enumList(flagName, list string, values map[string]int32, prefix, choices string) ([]int32, error) {
	var out []int32
	for v := range strings.SplitSeq(list, ",") {
		if v = strings.TrimSpace(v); v == "" {
			continue
		}
		n, ok := values[prefix+strings.ToUpper(v)]
		if !ok || n == 0 {
			return nil, usagef("--%s %q: one of %s", flagName, v, choices)
		}
		out = append(out, n)
	}
	return out, nil
}
