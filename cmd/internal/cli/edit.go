package cli

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"

	"google.golang.org/protobuf/types/known/fieldmaskpb"

	"github.com/predikat-id/predikat/pkg/decimal"
	assessmentv1 "github.com/predikat-id/predikat/pkg/gen/predikat/assessment/v1"
	registryv1 "github.com/predikat-id/predikat/pkg/gen/predikat/registry/v1"
)

func cmdInstitutionsGet(_ *flag.FlagSet, s *session) func(context.Context, []string) error {
	return func(ctx context.Context, args []string) error {
		if err := needArgs(args, 1, "ID"); err != nil {
			return err
		}
		resp, err := s.reg.GetInstitution(ctx, &registryv1.GetInstitutionRequest{Id: args[0]})
		if err != nil {
			return err
		}
		if s.json {
			return s.emit(resp.GetInstitution())
		}
		return renderInstitutionDetail(s.out, resp.GetInstitution())
	}
}

func cmdInstitutionsUpdate(fs *flag.FlagSet, s *session) func(context.Context, []string) error {
	name := fs.String("name", "", "new name")
	region := fs.String("region", "", "new region code, e.g. 63.06")
	parent := fs.String("parent", "", "new parent institution id (\"-\" for none)")
	headName := fs.String("head-name", "", "the head now in office (the previous one moves to past heads)")
	headTitle := fs.String("head-title", "", "the head's title, e.g. Bupati")
	headStart := fs.String("head-term-start", "", "the head's term start, YYYY-MM-DD")
	aliases := fs.String("aliases", "", "every alias, separated by ';' (\"-\" for none)")
	return func(ctx context.Context, args []string) error {
		if err := needArgs(args, 1, "ID"); err != nil {
			return err
		}
		cur, err := s.reg.GetInstitution(ctx, &registryv1.GetInstitutionRequest{Id: args[0]})
		if err != nil {
			return err
		}
		in := &registryv1.Institution{Id: args[0]}
		var paths []string
		set := func(v, path string, apply func(string)) {
			if v != "" {
				apply(v)
				paths = append(paths, path)
			}
		}
		set(*name, "name", func(v string) { in.Name = v })
		set(*region, "region_code", func(v string) { in.RegionCode = v })
		set(*parent, "parent_id", func(v string) { in.ParentId = strings.TrimPrefix(v, "-") })
		set(*aliases, "aliases", func(v string) {
			for _, a := range strings.Split(strings.TrimPrefix(v, "-"), ";") {
				if a = strings.TrimSpace(a); a != "" {
					in.Aliases = append(in.Aliases, a)
				}
			}
		})
		if *headName != "" || *headTitle != "" || *headStart != "" {
			if err := required("head-name", *headName); err != nil {
				return err
			}
			in.Head = &registryv1.Head{Name: *headName, Title: *headTitle, TermStart: *headStart}
			paths = append(paths, "head")
		}
		if len(paths) == 0 {
			return usagef("nothing to change: give --name, --region, --parent, --head-name or --aliases")
		}
		resp, err := s.reg.UpdateInstitution(ctx, &registryv1.UpdateInstitutionRequest{Institution: in,
			UpdateMask: &fieldmaskpb.FieldMask{Paths: paths}, ExpectedRevision: cur.GetInstitution().GetRevision()})
		if err != nil {
			return err
		}
		if s.json {
			return s.emit(resp.GetInstitution())
		}
		_, err = fmt.Fprintf(s.out, "updated %s (%s): revision %d\n", args[0], strings.Join(paths, ", "), resp.GetInstitution().GetRevision())
		return err
	}
}

func cmdInstitutionsRetire(fs *flag.FlagSet, s *session) func(context.Context, []string) error {
	reason := fs.String("reason", "", "why it is retired (required), e.g. \"merged into pemkab-x\"")
	return func(ctx context.Context, args []string) error {
		if err := needArgs(args, 1, "ID"); err != nil {
			return err
		}
		if err := required("reason", *reason); err != nil {
			return err
		}
		cur, err := s.reg.GetInstitution(ctx, &registryv1.GetInstitutionRequest{Id: args[0]})
		if err != nil {
			return err
		}
		resp, err := s.reg.RetireInstitution(ctx, &registryv1.RetireInstitutionRequest{Id: args[0], Reason: *reason,
			ExpectedRevision: cur.GetInstitution().GetRevision()})
		if err != nil {
			return err
		}
		if s.json {
			return s.emit(resp.GetInstitution())
		}
		_, err = fmt.Fprintf(s.out, "retired %s: %s\n", args[0], *reason)
		return err
	}
}

func cmdAssessmentsCorrect(fs *flag.FlagSet, s *session) func(context.Context, []string) error {
	round := fs.String("round", "", "the round, e.g. ombudsman-2024 (required)")
	inst := fs.String("institution", "", "the institution (required)")
	total := fs.String("total", "", "the corrected total, e.g. 96,52")
	band := fs.String("band", "", "the corrected band, for a band-only record")
	reason := fs.String("reason", "", "why (required): it is kept with the revision")
	revision := fs.Uint64("revision", 0, "the revision corrected (default: the current one)")
	return func(ctx context.Context, args []string) error {
		if err := needArgs(args, 0, ""); err != nil {
			return err
		}
		if err := required("round", *round, "institution", *inst, "reason", *reason); err != nil {
			return err
		}
		in, err := correctionInput(*total, *band)
		if err != nil {
			return err
		}
		rev := *revision
		if rev == 0 {
			cur, err := s.asm.GetAssessment(ctx, &assessmentv1.GetAssessmentRequest{RoundId: *round, InstitutionId: *inst})
			if err != nil {
				return err
			}
			rev = cur.GetAssessment().GetRevision()
		}
		r, err := s.asm.GetRound(ctx, &assessmentv1.GetRoundRequest{RoundId: *round})
		if err != nil {
			return err
		}
		id := correctionRequestID(*round, *inst, rev, in, *reason)
		var a *assessmentv1.Assessment
		var created bool
		var granted, revoked []string
		if r.GetRound().GetState() == assessmentv1.RoundState_ROUND_STATE_PUBLISHED {
			// A published result changes with its awards reconciled.
			resp, err := s.asm.CorrectPublishedAssessment(ctx, &assessmentv1.CorrectPublishedAssessmentRequest{RoundId: *round, InstitutionId: *inst,
				Input: in, CorrectsRevision: rev, Reason: *reason, RequestId: id})
			if err != nil {
				return err
			}
			a, created, granted, revoked = resp.GetAssessment(), resp.GetCreated(), resp.GetAwardsGranted(), resp.GetAwardsRevoked()
		} else {
			resp, err := s.asm.RecordAssessment(ctx, &assessmentv1.RecordAssessmentRequest{RoundId: *round, InstitutionId: *inst,
				Input: in, CorrectsRevision: rev, Reason: *reason, RequestId: id})
			if err != nil {
				return err
			}
			a, created = resp.GetAssessment(), resp.GetCreated()
		}
		if s.json {
			return s.emit(a)
		}
		verb := "corrected"
		if !created {
			verb = "already corrected (the same correction was sent before)"
		}
		_, err = fmt.Fprintf(s.out, "%s %s in %s: revision %d, %s %s\n", verb, *inst, *round, a.GetRevision(), orDash(a.GetTotal()), a.GetBandCode())
		if err == nil && len(granted)+len(revoked) > 0 {
			_, err = fmt.Fprintf(s.out, "awards granted: %s; revoked: %s\n", orDash(strings.Join(granted, ", ")), orDash(strings.Join(revoked, ", ")))
		}
		return err
	}
}

// correctionInput is the corrected result: exactly one of a total or a band.
func correctionInput(total, band string) (*assessmentv1.AssessmentInput, error) {
	switch {
	case (total == "") == (band == ""):
		return nil, usagef("give --total or --band")
	case total != "":
		d, err := decimal.Parse(total)
		if err != nil {
			return nil, usagef("--total %q is not a decimal number (write 96,52 or 96.52)", total)
		}
		return &assessmentv1.AssessmentInput{Result: &assessmentv1.AssessmentInput_ReportedTotal{ReportedTotal: d.String()}}, nil
	}
	return &assessmentv1.AssessmentInput{Result: &assessmentv1.AssessmentInput_ReportedBand{ReportedBand: band}}, nil
}

// correctionRequestID makes a correction idempotent: the same correction of
// the same revision, sent again after a lost answer, is one revision.
func correctionRequestID(round, inst string, rev uint64, in *assessmentv1.AssessmentInput, reason string) string {
	return contentRequestID("correct", round, inst, fmt.Sprint(rev), in.GetReportedTotal(), strings.ToUpper(in.GetReportedBand()), reason)
}

func renderInstitutionDetail(w io.Writer, in *registryv1.Institution) error {
	t := newTable("FIELD", "VALUE")
	status := "active"
	if in.GetStatus() == registryv1.InstitutionStatus_INSTITUTION_STATUS_RETIRED {
		status = "retired"
	}
	t.add("id", in.GetId())
	t.add("name", in.GetName())
	t.add("kind", kindText(in.GetKind()))
	t.add("region", in.GetRegionCode()+" (province "+orDash(in.GetProvinceCode())+")")
	t.add("parent", orDash(in.GetParentId()))
	t.add("status", status)
	if h := in.GetHead(); h.GetName() != "" {
		t.add("head", strings.TrimSpace(h.GetTitle()+" "+h.GetName()+" (from "+orDash(h.GetTermStart())+")"))
	}
	t.add("aliases", orDash(strings.Join(in.GetAliases(), "; ")))
	t.add("revision", fmt.Sprint(in.GetRevision()))
	return t.write(w)
}
