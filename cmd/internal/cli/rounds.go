package cli

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/predikat-id/predikat/cmd/internal/cli/importfile"
	assessmentv1 "github.com/predikat-id/predikat/pkg/gen/predikat/assessment/v1"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

func init() {
	register(&spec{
		path: "rounds create", uses: useAssessment,
		summary: "open the round of a scheme for a year",
		about: `Opens the round of a scheme for a year (id "<scheme>-<year>"), applying the
scheme version in force that year unless --version names one.`,
		examples: []string{
			"predikat rounds create --scheme ombudsman --year 2024 --from 2024-03-01 --to 2024-11-30",
			"predikat rounds create --scheme sakip --year 2024 --title \"Evaluasi SAKIP 2024\"",
		},
		setup: func(fs *flag.FlagSet, s *session) func(context.Context, []string) error {
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
				fmt.Fprintf(s.out, "created round %s (%s, scheme version %s, %s)\n", r.GetId(), r.GetTitle(), r.GetSchemeVersion(), roundStateText(r.GetState()))
				return nil
			}
		},
	})
	register(&spec{
		path: "rounds close", args: "ROUND", uses: useAssessment,
		summary:  "stop a round taking records",
		examples: []string{"predikat rounds close ombudsman-2024"},
		setup: func(fs *flag.FlagSet, s *session) func(context.Context, []string) error {
			return func(ctx context.Context, args []string) error {
				if err := needArgs(args, 1, "ROUND (e.g. ombudsman-2024)"); err != nil {
					return err
				}
				resp, err := s.asm.CloseRound(ctx, &assessmentv1.CloseRoundRequest{RoundId: args[0]})
				if err != nil {
					return err
				}
				fmt.Fprintf(s.out, "round %s is %s (%d records)\n", resp.GetRound().GetId(), roundStateText(resp.GetRound().GetState()), resp.GetRound().GetAssessmentCount())
				return nil
			}
		},
	})
	register(&spec{
		path: "rounds reopen", args: "ROUND", uses: useAssessment,
		summary:  "let a closed round take records again",
		examples: []string{"predikat rounds reopen ombudsman-2024 --reason \"late submissions from Polres Tapin\""},
		setup: func(fs *flag.FlagSet, s *session) func(context.Context, []string) error {
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
				fmt.Fprintf(s.out, "round %s is %s\n", resp.GetRound().GetId(), roundStateText(resp.GetRound().GetState()))
				return nil
			}
		},
	})
	register(&spec{
		path: "rounds publish", args: "ROUND", uses: useAssessment,
		summary: "freeze a closed round and grant its awards",
		about: `Publishes a CLOSED round: its results become final and the scheme's band,
rank and category awards are granted (each exactly once; publishing again
finishes a publication that stopped halfway). The ceremony and presenter
are copied onto every award granted.`,
		examples: []string{
			`predikat rounds publish ombudsman-2024 --ceremony "Penganugerahan Predikat Kepatuhan Penyelenggaraan Pelayanan Publik 2024" --place "Ballroom Swiss-Belhotel Banjarmasin" --date 2024-12-11`,
			`predikat rounds publish sakip-2024 --ceremony "Rapat Koordinasi Pelayanan Publik se-Kalimantan Selatan" --place "Gedung Mahligai Pancasila, Banjarmasin" --date 2025-04-17 --presented-by "Purwadi Arianto" --office "Wakil Menteri PAN-RB"`,
		},
		setup: func(fs *flag.FlagSet, s *session) func(context.Context, []string) error {
			c := ceremonyFlags(fs)
			return func(ctx context.Context, args []string) error {
				if err := needArgs(args, 1, "ROUND"); err != nil {
					return err
				}
				req := &assessmentv1.PublishRoundRequest{RoundId: args[0]}
				var err error
				if req.Ceremony, req.PresentedBy, err = c.build(false); err != nil {
					return err
				}
				resp, err := s.asm.PublishRound(ctx, req)
				if err != nil {
					return err
				}
				fmt.Fprintf(s.out, "round %s is %s: %d awards granted, %d already granted\n", resp.GetRound().GetId(),
					roundStateText(resp.GetRound().GetState()), resp.GetAwardsGranted(), resp.GetAwardsExisting())
				return nil
			}
		},
	})
	register(&spec{
		path: "rounds list", uses: useAssessment, read: true,
		summary:  "list rounds, newest year first",
		examples: []string{"predikat rounds list", "predikat rounds list --scheme ombudsman", "predikat rounds list --state open,closed --json"},
		setup: func(fs *flag.FlagSet, s *session) func(context.Context, []string) error {
			scheme := fs.String("scheme", "", "only this scheme")
			year := fs.Int("year", 0, "only this year")
			states := fs.String("state", "", "only these states, comma-separated: open, closed, published")
			return func(ctx context.Context, args []string) error {
				if err := needArgs(args, 0, ""); err != nil {
					return err
				}
				req := &assessmentv1.ListRoundsRequest{SchemeId: *scheme, Year: int32(*year), PageSize: 1000}
				for st := range strings.SplitSeq(*states, ",") {
					if st = strings.TrimSpace(st); st == "" {
						continue
					}
					v, ok := assessmentv1.RoundState_value["ROUND_STATE_"+strings.ToUpper(st)]
					if !ok || v == 0 {
						return usagef("--state %q: one of open, closed, published", st)
					}
					req.States = append(req.States, assessmentv1.RoundState(v))
				}
				var all []*assessmentv1.Round
				for {
					resp, err := s.asm.ListRounds(ctx, req)
					if err != nil {
						return err
					}
					all = append(all, resp.GetRounds()...)
					if req.PageToken = resp.GetNextPageToken(); req.PageToken == "" {
						break
					}
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
		},
	})
	register(&spec{
		path: "assessments import", args: "FILE.csv", uses: useAssessment,
		summary: "record a round's published results from a CSV file (repeatable)",
		about: `Records the results of one round from a CSV file. Columns (header line
required): institution_id, total, band, source_title, source_publisher,
source_url, source_date, source_note, notes, respondents; institution_id and
one of total/band are required. Each line gives exactly one of a total
(Indonesian decimal comma accepted: quote it, "96,52") or a band ("BB").

Each line's request id is derived from the round, the institution and the
line's content, so importing the same file again records nothing new. A
changed line for an institution that already has a record is refused: that
is a correction, with a reason, not an import. An error names the file, the
line and the field.`,
		examples: []string{
			"predikat assessments import ombudsman-2024.csv --round ombudsman-2024",
			"predikat assessments import results.csv --round sakip-2024 --dry-run",
		},
		setup: func(fs *flag.FlagSet, s *session) func(context.Context, []string) error {
			round := fs.String("round", "", "round id, e.g. ombudsman-2024 (required)")
			dry := fs.Bool("dry-run", false, "check the file without recording anything")
			return func(ctx context.Context, args []string) error {
				if err := needArgs(args, 1, "FILE.csv"); err != nil {
					return err
				}
				if err := required("round", *round); err != nil {
					return err
				}
				return s.importAssessments(ctx, args[0], *round, *dry)
			}
		},
	})
	register(&spec{
		path: "assessments list", uses: useAssessment, read: true,
		summary:  "list the records of a round",
		examples: []string{"predikat assessments list --round ombudsman-2024", "predikat assessments list --round sakip-2024 --province 63 --json"},
		setup: func(fs *flag.FlagSet, s *session) func(context.Context, []string) error {
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
				var all []*assessmentv1.Assessment
				for {
					resp, err := s.asm.ListAssessments(ctx, req)
					if err != nil {
						return err
					}
					all = append(all, resp.GetAssessments()...)
					if req.PageToken = resp.GetNextPageToken(); req.PageToken == "" {
						break
					}
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
		},
	})
}

func nonZero(n int) string {
	if n == 0 {
		return ""
	}
	return fmt.Sprint(n)
}

func (s *session) importAssessments(ctx context.Context, path, roundID string, dry bool) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	rows, err := importfile.ParseAssessments(path, f, roundID)
	if err != nil {
		return err
	}
	if dry {
		fmt.Fprintf(s.out, "%s: %d records for %s, well-formed (nothing recorded)\n", path, len(rows), roundID)
		return nil
	}
	// Fail early, and clearly, on an unknown round.
	if _, err := s.asm.GetRound(ctx, &assessmentv1.GetRoundRequest{RoundId: roundID}); err != nil {
		return err
	}
	bar := newProgress(s.err, s.progress, roundID, len(rows))
	defer bar.finish()
	recorded, unchanged := 0, 0
	for _, row := range rows {
		resp, err := s.asm.RecordAssessment(ctx, row.Request(roundID))
		if err != nil {
			if status.Code(err) == codes.Aborted {
				return fmt.Errorf("%s:%d: %s: %w; the institution already has a record with other figures: a changed line is a correction, not an import", path, row.Line, row.InstitutionID, err)
			}
			return fmt.Errorf("%s:%d: %s: %w", path, row.Line, row.InstitutionID, err)
		}
		if resp.GetCreated() {
			recorded++
		} else {
			unchanged++
		}
		bar.step()
	}
	bar.finish()
	fmt.Fprintf(s.out, "%s: %d recorded, %d unchanged in %s\n", path, recorded, unchanged, roundID)
	return nil
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
