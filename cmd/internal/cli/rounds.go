package cli

import (
	"context"
	"flag"
	"fmt"
	"strings"

	"github.com/predikat-id/predikat/cmd/internal/cli/importfile"
	assessmentv1 "github.com/predikat-id/predikat/pkg/gen/predikat/assessment/v1"
)

func cmdRoundsCreate(fs *flag.FlagSet, s *session) func(context.Context, []string) error {
	req := &assessmentv1.CreateRoundRequest{}
	fs.StringVar(&req.SchemeId, "scheme", "", "scheme id: ombudsman, sakip, rb, pekppp, mpp, berakhlak, skm")
	year := fs.Int("year", 0, "assessment year, e.g. 2024")
	fs.StringVar(&req.Title, "title", "", "title (default \"<scheme name> <year>\")")
	fs.StringVar(&req.CollectionStart, "from", "", "first day of data collection, YYYY-MM-DD")
	fs.StringVar(&req.CollectionEnd, "to", "", "last day of data collection, YYYY-MM-DD")
	fs.StringVar(&req.SchemeVersion, "version", "", "scheme version to apply (default: the one in force that year)")
	fs.StringVar(&req.Notes, "notes", "", "free text")
	return func(ctx context.Context, args []string) error {
		if err := needArgs(args, 0, ""); err != nil {
			return err
		}
		if err := required("scheme", req.SchemeId, "year", nonZero(*year)); err != nil {
			return err
		}
		req.Year = int32(*year)
		resp, err := s.asm.CreateRound(ctx, req)
		if err != nil {
			return err
		}
		r := resp.GetRound()
		line(s.out, "created round %s (%s, scheme version %s, %s)", r.GetId(), r.GetTitle(), r.GetSchemeVersion(), roundStateText(r.GetState()))
		return nil
	}
}

func cmdRoundsClose(fs *flag.FlagSet, s *session) func(context.Context, []string) error {
	return func(ctx context.Context, args []string) error {
		if err := needArgs(args, 1, "ROUND (e.g. ombudsman-2024)"); err != nil {
			return err
		}
		resp, err := s.asm.CloseRound(ctx, &assessmentv1.CloseRoundRequest{RoundId: args[0]})
		if err != nil {
			return err
		}
		line(s.out, "round %s is %s (%d records)", resp.GetRound().GetId(), roundStateText(resp.GetRound().GetState()), resp.GetRound().GetAssessmentCount())
		return nil
	}
}

func cmdRoundsReopen(fs *flag.FlagSet, s *session) func(context.Context, []string) error {
	reason := fs.String("reason", "", "why (required)")
	return func(ctx context.Context, args []string) error {
		if err := needArgs(args, 1, "ROUND"); err != nil {
			return err
		}
		if err := required("reason", *reason); err != nil {
			return err
		}
		resp, err := s.asm.ReopenRound(ctx, &assessmentv1.ReopenRoundRequest{RoundId: args[0], Reason: *reason})
		if err != nil {
			return err
		}
		line(s.out, "round %s is %s", resp.GetRound().GetId(), roundStateText(resp.GetRound().GetState()))
		return nil
	}
}

func cmdRoundsPublish(fs *flag.FlagSet, s *session) func(context.Context, []string) error {
	c := ceremonyFlags(fs)
	force := fs.String("force-reason", "", "publish although objections are open or a window runs, and why")
	return func(ctx context.Context, args []string) error {
		if err := needArgs(args, 1, "ROUND"); err != nil {
			return err
		}
		req := &assessmentv1.PublishRoundRequest{RoundId: args[0], ForceReason: *force}
		var err error
		if req.Ceremony, req.PresentedBy, err = c.build(false); err != nil {
			return err
		}
		resp, err := s.asm.PublishRound(ctx, req)
		if err != nil {
			return err
		}
		line(s.out, "round %s is %s: %d awards granted, %d already granted", resp.GetRound().GetId(),
			roundStateText(resp.GetRound().GetState()), resp.GetAwardsGranted(), resp.GetAwardsExisting())
		return nil
	}
}

func cmdRoundsList(fs *flag.FlagSet, s *session) func(context.Context, []string) error {
	scheme := fs.String("scheme", "", "only this scheme")
	year := fs.Int("year", 0, "only this year")
	states := fs.String("state", "", "only these states, comma-separated: open, closed, published")
	return func(ctx context.Context, args []string) error {
		if err := needArgs(args, 0, ""); err != nil {
			return err
		}
		req := &assessmentv1.ListRoundsRequest{SchemeId: *scheme, Year: int32(*year), PageSize: 1000}
		vs, err := enumList("state", *states, assessmentv1.RoundState_value, "ROUND_STATE_", "open, closed, published")
		if err != nil {
			return err
		}
		for _, v := range vs {
			req.States = append(req.States, assessmentv1.RoundState(v))
		}
		all, err := allPages(ctx, req, func(r *assessmentv1.ListRoundsRequest, t string) { r.PageToken = t },
			s.asm.ListRounds, (*assessmentv1.ListRoundsResponse).GetRounds)
		if err != nil {
			return err
		}
		if len(all) == 0 {
			return s.none("rounds")
		}
		if s.json {
			for _, r := range all {
				if err := s.emit(r); err != nil {
					return err
				}
			}
			return nil
		}
		return renderRounds(s.out, all)
	}
}

func cmdAssessmentsImport(fs *flag.FlagSet, s *session) func(context.Context, []string) error {
	round := fs.String("round", "", "round id, e.g. ombudsman-2024 (required)")
	dry := fs.Bool("dry-run", false, "check the file without recording anything")
	batch := fs.Int("batch", 500, "lines per atomic batch (each stored whole or not at all), 1 to 1000")
	return func(ctx context.Context, args []string) error {
		if err := needArgs(args, 1, "FILE.csv"); err != nil {
			return err
		}
		if err := required("round", *round); err != nil {
			return err
		}
		if *batch < 1 || *batch > 1000 {
			return usagef("--batch %d: 1 to 1000 lines", *batch)
		}
		return s.importAssessments(ctx, args[0], *round, *dry, *batch)
	}
}

func cmdAssessmentsList(fs *flag.FlagSet, s *session) func(context.Context, []string) error {
	round := fs.String("round", "", "round id (required)")
	province := fs.String("province", "", "only institutions of this province")
	kinds := fs.String("kind", "", "only these kinds, comma-separated: "+importfile.KindTokens)
	bands := fs.String("band", "", "only these band codes, comma-separated")
	return func(ctx context.Context, args []string) error {
		if err := needArgs(args, 0, ""); err != nil {
			return err
		}
		if err := required("round", *round); err != nil {
			return err
		}
		if err := checkProvince(*province); err != nil {
			return err
		}
		req := &assessmentv1.ListAssessmentsRequest{RoundId: *round, ProvinceCode: *province, PageSize: 1000}
		ks, err := importfile.ParseKinds(*kinds)
		if err != nil {
			return usagef("--kind: %v", err)
		}
		req.Kinds = ks
		for b := range strings.SplitSeq(*bands, ",") {
			if b = strings.TrimSpace(b); b != "" {
				req.BandCodes = append(req.BandCodes, b)
			}
		}
		all, err := allPages(ctx, req, func(r *assessmentv1.ListAssessmentsRequest, t string) { r.PageToken = t },
			s.asm.ListAssessments, (*assessmentv1.ListAssessmentsResponse).GetAssessments)
		if err != nil {
			return err
		}
		if len(all) == 0 {
			return s.none("records")
		}
		if s.json {
			for _, a := range all {
				if err := s.emit(a); err != nil {
					return err
				}
			}
			return nil
		}
		return renderAssessments(s.out, all)
	}
}

func nonZero(n int) string {
	if n == 0 {
		return ""
	}
	return fmt.Sprint(n)
}

// ceremony holds the ceremony and presenter flags shared by publish and
// grant.
type ceremony struct {
	name, place, date, by, office *string
}

func ceremonyFlags(fs *flag.FlagSet) *ceremony {
	return &ceremony{
		name:   fs.String("ceremony", "", "name of the ceremony, e.g. \"Rapat Koordinasi Pelayanan Publik se-Kalimantan Selatan\""),
		place:  fs.String("place", "", "venue and town, e.g. \"Gedung Mahligai Pancasila, Banjarmasin\""),
		date:   fs.String("date", "", "day of the ceremony, YYYY-MM-DD"),
		by:     fs.String("presented-by", "", "official who presents the awards, e.g. \"Purwadi Arianto\""),
		office: fs.String("office", "", "office of the presenter, e.g. \"Wakil Menteri PAN-RB\""),
	}
}

func (c *ceremony) build(needed bool) (*assessmentv1.Ceremony, *assessmentv1.PresentedBy, error) {
	var cer *assessmentv1.Ceremony
	switch {
	case *c.name != "":
		if *c.date == "" {
			return nil, nil, usagef("--ceremony needs --date YYYY-MM-DD")
		}
		cer = &assessmentv1.Ceremony{Name: *c.name, Place: *c.place, Date: *c.date}
	case needed:
		return nil, nil, usagef("missing --ceremony (with --date and --place)")
	case *c.place != "" || *c.date != "":
		return nil, nil, usagef("--place and --date describe a ceremony: add --ceremony NAME")
	}
	var by *assessmentv1.PresentedBy
	if *c.by != "" || *c.office != "" {
		by = &assessmentv1.PresentedBy{Name: *c.by, Office: *c.office}
	}
	return cer, by, nil
}
