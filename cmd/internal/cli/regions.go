package cli

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"

	registryv1 "github.com/predikat-id/predikat/pkg/gen/predikat/registry/v1"
)

// regionLevels are the --level words of "regions list".
var regionLevels = map[string]registryv1.RegionLevel{
	"national": registryv1.RegionLevel_REGION_LEVEL_NATIONAL,
	"province": registryv1.RegionLevel_REGION_LEVEL_PROVINCE,
	"regency":  registryv1.RegionLevel_REGION_LEVEL_REGENCY,
	"city":     registryv1.RegionLevel_REGION_LEVEL_CITY,
}

func cmdRegionsList(fs *flag.FlagSet, s *session) func(context.Context, []string) error {
	province := fs.String("province", "", "only this province and its regencies and cities, e.g. 63")
	level := fs.String("level", "", "only this level: national, province, regency or city")
	return func(ctx context.Context, args []string) error {
		if err := needArgs(args, 0, ""); err != nil {
			return err
		}
		if err := checkProvince(*province); err != nil {
			return err
		}
		req := &registryv1.ListRegionsRequest{ProvinceCode: *province}
		if *level != "" {
			l, ok := regionLevels[strings.ToLower(*level)]
			if !ok {
				return usagef("--level %q: want national, province, regency or city", *level)
			}
			req.Level = l
		}
		resp, err := s.reg.ListRegions(ctx, req)
		if err != nil {
			return err
		}
		if len(resp.GetRegions()) == 0 {
			return s.none("regions match")
		}
		if s.json {
			return emitAll(s, resp.GetRegions())
		}
		return renderRegions(s.out, resp.GetRegions())
	}
}

func cmdRegionsAdd(_ *flag.FlagSet, s *session) func(context.Context, []string) error {
	return func(ctx context.Context, args []string) error {
		if err := needArgs(args, 2, "CODE and NAME"); err != nil {
			return err
		}
		resp, err := s.reg.CreateRegion(ctx, &registryv1.CreateRegionRequest{Code: args[0], Name: args[1]})
		if err != nil {
			return err
		}
		if s.json {
			return s.emit(resp.GetRegion())
		}
		r := resp.GetRegion()
		_, err = fmt.Fprintf(s.out, "added %s %s (%s of %s)\n", r.GetCode(), r.GetName(), levelText(r.GetLevel()), r.GetParentCode())
		return err
	}
}

func levelText(l registryv1.RegionLevel) string {
	for word, v := range regionLevels {
		if v == l {
			return word
		}
	}
	return "-"
}

func renderRegions(w io.Writer, list []*registryv1.Region) error {
	t := newTable("CODE", "NAME", "LEVEL", "PROVINCE", "ORIGIN")
	for _, r := range list {
		origin := "built in"
		if !r.GetBuiltin() {
			origin = "added"
		}
		t.add(r.GetCode(), r.GetName(), levelText(r.GetLevel()), orDash(r.GetProvinceCode()), origin)
	}
	return t.write(w)
}
