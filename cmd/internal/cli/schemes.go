package cli

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"google.golang.org/protobuf/encoding/protojson"

	assessmentv1 "github.com/predikat-id/predikat/pkg/gen/predikat/assessment/v1"
)

func cmdSchemesList(fs *flag.FlagSet, s *session) func(context.Context, []string) error {
	scheme := fs.String("scheme", "", "only this scheme, e.g. ombudsman")
	year := fs.Int("year", 0, "only versions in force this year")
	return func(ctx context.Context, args []string) error {
		if err := needArgs(args, 0, ""); err != nil {
			return err
		}
		resp, err := s.asm.ListSchemes(ctx, &assessmentv1.ListSchemesRequest{SchemeId: *scheme, Year: int32(*year)})
		if err != nil {
			return err
		}
		if len(resp.GetSchemes()) == 0 {
			return s.none("scheme versions match")
		}
		if s.json {
			return emitAll(s, resp.GetSchemes())
		}
		return renderSchemes(s.out, resp.GetSchemes())
	}
}

func cmdSchemesShow(fs *flag.FlagSet, s *session) func(context.Context, []string) error {
	version := fs.String("version", "", "this version, e.g. 2022")
	year := fs.Int("year", 0, "the version in force this year (default: the latest version)")
	return func(ctx context.Context, args []string) error {
		if err := needArgs(args, 1, "SCHEME"); err != nil {
			return err
		}
		req := &assessmentv1.GetSchemeRequest{SchemeId: args[0]}
		switch {
		case *version != "" && *year != 0:
			return usagef("give --version or --year, not both")
		case *version != "":
			req.Selector = &assessmentv1.GetSchemeRequest_Version{Version: *version}
		case *year != 0:
			req.Selector = &assessmentv1.GetSchemeRequest_Year{Year: int32(*year)}
		default:
			all, err := s.asm.ListSchemes(ctx, &assessmentv1.ListSchemesRequest{SchemeId: args[0]})
			if err != nil {
				return err
			}
			if len(all.GetSchemes()) == 0 {
				return fmt.Errorf("scheme %q not found", args[0])
			}
			last := all.GetSchemes()[len(all.GetSchemes())-1]
			req.Selector = &assessmentv1.GetSchemeRequest_Version{Version: last.GetVersion()}
		}
		resp, err := s.asm.GetScheme(ctx, req)
		if err != nil {
			return err
		}
		// The file format: what "schemes add" takes.
		b, err := protojson.MarshalOptions{Multiline: true, Indent: "  "}.Marshal(resp.GetScheme())
		if err != nil {
			return err
		}
		_, err = fmt.Fprintln(s.out, string(b))
		return err
	}
}

func cmdSchemesAdd(_ *flag.FlagSet, s *session) func(context.Context, []string) error {
	return func(ctx context.Context, args []string) error {
		if err := needArgs(args, 1, "FILE.json"); err != nil {
			return err
		}
		b, err := os.ReadFile(args[0])
		if err != nil {
			return err
		}
		var v assessmentv1.Scheme
		if err := protojson.Unmarshal(b, &v); err != nil {
			return fmt.Errorf("%s: not a scheme version (the JSON of predikat.assessment.v1.Scheme, as \"predikat schemes show\" prints): %w", args[0], err)
		}
		resp, err := s.asm.RegisterSchemeVersion(ctx, &assessmentv1.RegisterSchemeVersionRequest{Scheme: &v})
		if err != nil {
			return fmt.Errorf("%s: %w", args[0], err)
		}
		if s.json {
			return s.emit(resp.GetScheme())
		}
		got := resp.GetScheme()
		name := fmt.Sprintf("%s %s (%s)%s", got.GetId(), got.GetVersion(), years(got), provisionalMark(got))
		switch {
		case got.GetRegisteredBy() == "":
			// The answer is the built-in version (no one registered it):
			// the file was that version unchanged.
			_, err = fmt.Fprintf(s.out, "already built in: %s; nothing registered, nothing changed\n", name)
		case !resp.GetCreated():
			_, err = fmt.Fprintf(s.out, "already registered (no change) %s\n", name)
		default:
			_, err = fmt.Fprintf(s.out, "registered %s\n", name)
		}
		return err
	}
}

func years(v *assessmentv1.Scheme) string {
	switch {
	case v.GetLastYear() == 0:
		return strconv.Itoa(int(v.GetFirstYear())) + "-"
	case v.GetLastYear() == v.GetFirstYear():
		return strconv.Itoa(int(v.GetFirstYear()))
	}
	return fmt.Sprintf("%d-%d", v.GetFirstYear(), v.GetLastYear())
}

func provisionalMark(v *assessmentv1.Scheme) string {
	if v.GetProvisional() {
		return ", provisional"
	}
	return ""
}

func renderSchemes(w io.Writer, list []*assessmentv1.Scheme) error {
	t := newTable("SCHEME", "VERSION", "YEARS", "SCALE", "BANDS", "ORIGIN", "NAME")
	for _, v := range list {
		var bands []string
		for _, b := range v.GetBands() {
			bands = append(bands, b.GetCode())
		}
		origin := "built in"
		if v.GetRegisteredBy() != "" {
			origin = "registered by " + v.GetRegisteredBy()
		}
		name := v.GetName()
		if v.GetProvisional() {
			name += " (provisional)"
		}
		t.add(v.GetId(), v.GetVersion(), years(v), v.GetScale().GetMin()+"-"+v.GetScale().GetMax(), strings.Join(bands, " "), origin, name)
	}
	return t.write(w)
}
