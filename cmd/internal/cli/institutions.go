package cli

import (
	"context"
	"flag"
	"fmt"
	"os"
	"regexp"
	"strings"

	"github.com/predikat-id/predikat/cmd/internal/cli/importfile"
	registryv1 "github.com/predikat-id/predikat/pkg/gen/predikat/registry/v1"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
)

var (
	provincePattern = regexp.MustCompile(`^[0-9]{2}$`)
	regionPattern   = regexp.MustCompile(`^[0-9]{2}(\.[0-9]{2})?$`)
)

func checkProvince(p string) error {
	if p != "" && !provincePattern.MatchString(p) {
		return usagef("--province %q is not a two-digit province code such as 63 (00 for national bodies)", p)
	}
	return nil
}

func cmdInstitutionsImport(fs *flag.FlagSet, s *session) func(context.Context, []string) error {
	dry := fs.Bool("dry-run", false, "check the file without registering anything")
	return func(ctx context.Context, args []string) error {
		if err := needArgs(args, 1, "FILE.csv"); err != nil {
			return err
		}
		return s.importInstitutions(ctx, args[0], *dry)
	}
}

func cmdInstitutionsList(fs *flag.FlagSet, s *session) func(context.Context, []string) error {
	province := fs.String("province", "", "only this province and its regencies and cities, e.g. 63")
	region := fs.String("region", "", "only this region code, e.g. 63.06 (a province code includes its regencies and cities)")
	kinds := fs.String("kind", "", "only these kinds, comma-separated: "+importfile.KindTokens)
	query := fs.String("query", "", "words that must all appear in the name or an alias")
	state := fs.String("status", "", "only active or retired institutions (default both)")
	return func(ctx context.Context, args []string) error {
		if err := needArgs(args, 0, ""); err != nil {
			return err
		}
		req, err := institutionsRequest(*province, *region, *kinds, *query, *state)
		if err != nil {
			return err
		}
		return s.listInstitutions(ctx, req)
	}
}

// institutionsRequest builds the request of "institutions list" from its
// flags.
func institutionsRequest(province, region, kinds, query, state string) (*registryv1.ListInstitutionsRequest, error) {
	req := &registryv1.ListInstitutionsRequest{Query: query, PageSize: 1000}
	if err := checkProvince(province); err != nil {
		return nil, err
	}
	switch {
	case province != "" && region != "":
		return nil, usagef("give --province or --region, not both")
	case region != "" && !regionPattern.MatchString(region):
		return nil, usagef("--region %q is not a region code such as 63 or 63.06", region)
	}
	req.RegionCode = province + region
	ks, err := importfile.ParseKinds(kinds)
	if err != nil {
		return nil, usagef("--kind: %v", err)
	}
	req.Kinds = ks
	switch strings.ToLower(state) {
	case "", "all":
	case "active":
		req.Status = registryv1.InstitutionStatus_INSTITUTION_STATUS_ACTIVE
	case "retired":
		req.Status = registryv1.InstitutionStatus_INSTITUTION_STATUS_RETIRED
	default:
		return nil, usagef("--status %q: one of active, retired", state)
	}
	return req, nil
}

// listInstitutions prints every page of the answer.
func (s *session) listInstitutions(ctx context.Context, req *registryv1.ListInstitutionsRequest) error {
	var all []*registryv1.Institution
	for {
		resp, err := s.reg.ListInstitutions(ctx, req)
		if err != nil {
			return err
		}
		for _, in := range resp.GetInstitutions() {
			if s.json {
				if err := s.emit(in); err != nil {
					return err
				}
			}
		}
		all = append(all, resp.GetInstitutions()...)
		if req.PageToken = resp.GetNextPageToken(); req.PageToken == "" {
			break
		}
	}
	if len(all) == 0 {
		return s.none("institutions match")
	}
	if s.json {
		return nil
	}
	return renderInstitutions(s.out, all)
}

func (s *session) importInstitutions(ctx context.Context, path string, dry bool) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	rows, err := importfile.ParseInstitutions(path, f)
	if err != nil {
		return err
	}
	known, err := s.checkInstitutions(ctx, path, rows)
	if err != nil {
		return err
	}
	if dry {
		fmt.Fprintf(s.out, "%s: %d institutions checked with the registry: %d to register, %d already registered (nothing registered)\n",
			path, len(rows), len(rows)-known, known)
		return nil
	}
	bar := newProgress(s.err, s.progress, "institutions", len(rows))
	defer bar.finish()
	created, unchanged := 0, 0
	for _, row := range rows {
		id := row.Request.GetInstitutionId()
		_, err := s.reg.CreateInstitution(ctx, row.Request)
		switch {
		case err == nil:
			created++
		case status.Code(err) == codes.AlreadyExists:
			cur, gerr := s.reg.GetInstitution(ctx, &registryv1.GetInstitutionRequest{Id: id})
			if gerr != nil {
				// Not this id: the same kind, region and name under another id.
				return fmt.Errorf("%s:%d: %s: %w", path, row.Line, id, err)
			}
			if diff := institutionDiff(row.Request.GetInstitution(), cur.GetInstitution()); diff != "" {
				bar.finish()
				line(s.err, "%s:%d: %s is already registered with a different %s; left unchanged", path, row.Line, id, diff)
			}
			unchanged++
		default:
			return fmt.Errorf("%s:%d: %s: %w", path, row.Line, id, err)
		}
		bar.step()
	}
	bar.finish()
	fmt.Fprintf(s.out, "%s: %d created, %d unchanged\n", path, created, unchanged)
	return nil
}

// institutionDiff names the identifying fields where the registry differs
// from the file.
func institutionDiff(want, have *registryv1.Institution) string {
	var d []string
	if want.GetName() != have.GetName() {
		d = append(d, "name")
	}
	if want.GetKind() != have.GetKind() {
		d = append(d, "kind")
	}
	if want.GetRegionCode() != have.GetRegionCode() {
		d = append(d, "region")
	}
	if want.GetParentId() != have.GetParentId() {
		d = append(d, "parent")
	}
	if want.GetHead() != nil && !proto.Equal(want.GetHead(), have.GetHead()) && want.GetHead().GetName() != have.GetHead().GetName() {
		d = append(d, "head")
	}
	return strings.Join(d, ", ")
}

// checkInstitutions checks a whole file against the registry before the
// first write: every region known, every parent in the file or
// registered, no name already registered under another id. Every problem
// is listed (and nothing is written); it returns how many ids are
// registered already.
func (s *session) checkInstitutions(ctx context.Context, path string, rows []importfile.InstitutionRow) (int, error) {
	regions, err := s.reg.ListRegions(ctx, &registryv1.ListRegionsRequest{})
	if err != nil {
		return 0, err
	}
	region := map[string]bool{"00": true}
	for _, r := range regions.GetRegions() {
		region[r.GetCode()] = true
	}
	insts, err := s.allInstitutions(ctx)
	if err != nil {
		return 0, err
	}
	byID := map[string]bool{}
	byIdentity := map[string]string{}
	identity := func(in *registryv1.Institution) string {
		return fmt.Sprintf("%d|%s|%s", in.GetKind(), in.GetRegionCode(), importfile.NormalizeName(in.GetName()))
	}
	for _, in := range insts {
		byID[in.GetId()] = true
		byIdentity[identity(in)] = in.GetId()
	}
	inFile := map[string]bool{}
	for _, row := range rows {
		inFile[row.Request.GetInstitutionId()] = true
	}
	var problems importfile.Problems
	known := 0
	for _, row := range rows {
		in, id := row.Request.GetInstitution(), row.Request.GetInstitutionId()
		if !region[in.GetRegionCode()] {
			problems = append(problems, fmt.Errorf("%s:%d: region_code: %q is not a region the registry knows (predikat regions list; predikat regions add)", path, row.Line, in.GetRegionCode()))
		}
		if p := in.GetParentId(); p != "" && !inFile[p] && !byID[p] {
			problems = append(problems, fmt.Errorf("%s:%d: parent_id: %q is neither in the file nor registered", path, row.Line, p))
		}
		switch other, taken := byIdentity[identity(in)]; {
		case byID[id]:
			known++
		case taken && other != id:
			problems = append(problems, fmt.Errorf("%s:%d: %s %q in region %s is already registered as %q", path, row.Line,
				kindText(in.GetKind()), in.GetName(), in.GetRegionCode(), other))
		}
	}
	if len(problems) > 0 {
		return 0, problems
	}
	return known, nil
}
