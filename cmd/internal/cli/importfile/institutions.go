package importfile

import (
	"fmt"
	"io"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/predikat-id/predikat/pkg/events"
	registryv1 "github.com/predikat-id/predikat/pkg/gen/predikat/registry/v1"
)

// Institution columns. id, name, kind and region_code are required; aliases
// are separated by ';'; yearly_service_users is a service unit's population
// (its survey's sample-size check), empty or 0 when unknown.
var (
	InstitutionColumns         = []string{"id", "name", "kind", "region_code"}
	InstitutionOptionalColumns = []string{"parent_id", "head_name", "head_title", "head_term_start", "aliases", "yearly_service_users"}
)

// maxYearlyServiceUsers is the registry's bound on yearly_service_users.
const maxYearlyServiceUsers = 1_000_000_000

var (
	idPattern     = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)
	regionPattern = regexp.MustCompile(`^[0-9]{2}(\.[0-9]{2})?$`)
)

// kindAliases are everyday spellings accepted beside the event contract's
// kind tokens and enum names (events.ParseKindToken). They are looked up
// without hyphens, underscores or spaces ("unit-layanan" is "unitlayanan").
var kindAliases = map[string]registryv1.InstitutionKind{
	"pemko":       registryv1.InstitutionKind_INSTITUTION_KIND_CITY_GOVERNMENT,
	"polresta":    registryv1.InstitutionKind_INSTITUTION_KIND_POLICE_RESORT,
	"ministry":    registryv1.InstitutionKind_INSTITUTION_KIND_MINISTRY,
	"agency":      registryv1.InstitutionKind_INSTITUTION_KIND_AGENCY,
	"unitlayanan": registryv1.InstitutionKind_INSTITUTION_KIND_SERVICE_UNIT,
}

// KindTokens lists the short kind names, for help texts: the event
// contract's tokens, with the one alias people type most.
var KindTokens = func() string {
	toks := events.KindTokens()
	for i, t := range toks {
		switch t {
		case events.KindToken(registryv1.InstitutionKind_INSTITUTION_KIND_CITY_GOVERNMENT):
			toks[i] = t + " (pemko)"
		case events.KindToken(registryv1.InstitutionKind_INSTITUTION_KIND_SERVICE_UNIT):
			toks[i] = t + " (unitlayanan)"
		}
	}
	return strings.Join(toks, ", ")
}()

// ParseKind reads an institution kind: "pemkab", "polres", "kantah",
// "REGENCY_GOVERNMENT", "regency-government",
// "INSTITUTION_KIND_LAND_OFFICE", "unitlayanan", "serviceunit", ...
func ParseKind(s string) (registryv1.InstitutionKind, error) {
	word := strings.ToLower(strings.TrimSpace(s))
	if k, ok := kindAliases[strings.NewReplacer("-", "", "_", "", " ", "").Replace(word)]; ok {
		return k, nil
	}
	if k, ok := events.ParseKindToken(strings.ReplaceAll(word, "-", "_")); ok {
		return k, nil
	}
	return 0, fmt.Errorf("unknown institution kind %q (one of %s)", s, KindTokens)
}

// ParseKinds reads a comma-separated list of kinds; "" is none.
func ParseKinds(s string) ([]registryv1.InstitutionKind, error) {
	var out []registryv1.InstitutionKind
	for part := range strings.SplitSeq(s, ",") {
		if part = strings.TrimSpace(part); part == "" {
			continue
		}
		k, err := ParseKind(part)
		if err != nil {
			return nil, err
		}
		out = append(out, k)
	}
	return out, nil
}

// InstitutionRow is one line of an institution file, as the request that
// registers it.
type InstitutionRow struct {
	Line    int
	Request *registryv1.CreateInstitutionRequest
}

// ParseInstitutions reads an institution file: one institution per line,
// with a caller-chosen id so the import can be repeated. It checks what can
// be checked without the registry (id, kind, region code and date formats,
// duplicate ids) and returns the rows ordered so that a parent named in the
// file comes before its children.
func ParseInstitutions(file string, r io.Reader) ([]InstitutionRow, error) {
	t, err := ReadTable(file, r, InstitutionColumns, InstitutionOptionalColumns)
	if err != nil {
		return nil, err
	}
	rows := make([]InstitutionRow, 0, len(t.Records))
	lineOf := map[string]int{}
	for _, rec := range t.Records {
		req, err := institutionRequest(rec)
		if err != nil {
			return nil, err
		}
		if prev, dup := lineOf[req.GetInstitutionId()]; dup {
			return nil, rec.Errorf("id", "%q is already on line %d", req.GetInstitutionId(), prev)
		}
		lineOf[req.GetInstitutionId()] = rec.Line
		rows = append(rows, InstitutionRow{Line: rec.Line, Request: req})
	}
	return orderByParent(file, rows)
}

func institutionRequest(rec Record) (*registryv1.CreateInstitutionRequest, error) {
	id := rec.Get("id")
	if err := checkID(rec, id); err != nil {
		return nil, err
	}
	in := &registryv1.Institution{}
	// One reader per column or group of columns, in a fixed order: a line
	// with several faults always reports the same one.
	for _, read := range []func(Record, string, *registryv1.Institution) error{
		readName, readKind, readRegion, readParent, readHead, readAliases, readServiceUsers,
	} {
		if err := read(rec, id, in); err != nil {
			return nil, err
		}
	}
	return &registryv1.CreateInstitutionRequest{InstitutionId: id, Institution: in}, nil
}

func checkID(rec Record, id string) error {
	switch {
	case id == "":
		return rec.Errorf("id", "required (an id such as \"pemkab-hss\" makes the import repeatable)")
	case !idPattern.MatchString(id):
		return rec.Errorf("id", "%q is not an id: lowercase letters, digits and hyphens, at most 63, not starting or ending with a hyphen", id)
	}
	return nil
}

// readName sets the name with its runs of white space made single spaces.
func readName(rec Record, _ string, in *registryv1.Institution) error {
	in.Name = strings.Join(strings.Fields(rec.Get("name")), " ")
	if in.Name == "" {
		return rec.Errorf("name", "required")
	}
	if len(in.Name) > 200 {
		return rec.Errorf("name", "%d bytes; at most 200", len(in.Name))
	}
	return nil
}

func readKind(rec Record, _ string, in *registryv1.Institution) error {
	kind, err := ParseKind(rec.Get("kind"))
	if err != nil {
		return rec.Errorf("kind", "%v", err)
	}
	in.Kind = kind
	return nil
}

func readRegion(rec Record, _ string, in *registryv1.Institution) error {
	in.RegionCode = rec.Get("region_code")
	if !regionPattern.MatchString(in.RegionCode) {
		return rec.Errorf("region_code", "%q is not a Kemendagri code such as \"00\", \"63\", \"63.06\" or \"63.71\"", in.RegionCode)
	}
	return nil
}

// readParent sets the parent, which the institution with id cannot be.
func readParent(rec Record, id string, in *registryv1.Institution) error {
	p := rec.Get("parent_id")
	if p == "" {
		return nil
	}
	if !idPattern.MatchString(p) {
		return rec.Errorf("parent_id", "%q is not an id", p)
	}
	if p == id {
		return rec.Errorf("parent_id", "an institution cannot be its own parent")
	}
	in.ParentId = p
	return nil
}

// readHead sets the head from its three columns; a title or a term start
// needs a name.
func readHead(rec Record, _ string, in *registryv1.Institution) error {
	name, title, start := rec.Get("head_name"), rec.Get("head_title"), rec.Get("head_term_start")
	switch {
	case name != "":
		if len(name) > 200 || len(title) > 200 {
			return rec.Errorf("head_name", "name and title may have at most 200 bytes each")
		}
		if err := checkDate(start); err != nil {
			return rec.Errorf("head_term_start", "%v", err)
		}
		in.Head = &registryv1.Head{Name: name, Title: title, TermStart: start}
	case title != "" || start != "":
		return rec.Errorf("head_name", "required when head_title or head_term_start is given")
	}
	return nil
}

// readAliases sets the aliases, separated by ';' (empty ones are skipped).
func readAliases(rec Record, _ string, in *registryv1.Institution) error {
	for a := range strings.SplitSeq(rec.Get("aliases"), ";") {
		if a = strings.TrimSpace(a); a != "" {
			if len(a) > 200 {
				return rec.Errorf("aliases", "alias %q is longer than 200 bytes", a)
			}
			in.Aliases = append(in.Aliases, a)
		}
	}
	if len(in.Aliases) > 20 {
		return rec.Errorf("aliases", "%d aliases; at most 20", len(in.Aliases))
	}
	return nil
}

// readServiceUsers sets a service unit's yearly service users, and checks
// that a service unit names its parent (the registry requires it; saying so
// here points at the line).
func readServiceUsers(rec Record, _ string, in *registryv1.Institution) error {
	unit := in.GetKind() == registryv1.InstitutionKind_INSTITUTION_KIND_SERVICE_UNIT
	if unit && in.GetParentId() == "" {
		return rec.Errorf("parent_id", "required for a service unit (the institution it belongs to)")
	}
	s := strings.TrimSpace(rec.Get("yearly_service_users"))
	if s == "" {
		return nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 || n > maxYearlyServiceUsers {
		return rec.Errorf("yearly_service_users", "%q is not a whole number from 0 to %d", s, maxYearlyServiceUsers)
	}
	if n != 0 && !unit {
		return rec.Errorf("yearly_service_users", "only for service units; a %s has none", events.KindToken(in.GetKind()))
	}
	in.YearlyServiceUsers = n
	return nil
}

// checkDate accepts "" or a real calendar date "YYYY-MM-DD".
func checkDate(s string) error {
	if s == "" {
		return nil
	}
	if _, err := time.Parse(time.DateOnly, s); err != nil || len(s) != 10 {
		return fmt.Errorf("%q is not a date YYYY-MM-DD", s)
	}
	return nil
}

// orderByParent returns rows with every parent defined in the file before
// its children, otherwise in file order. A cycle is an error.
func orderByParent(file string, rows []InstitutionRow) ([]InstitutionRow, error) {
	byID := map[string]int{}
	for i, r := range rows {
		byID[r.Request.GetInstitutionId()] = i
	}
	const (
		unvisited = iota
		visiting
		done
	)
	state := make([]int, len(rows))
	out := make([]InstitutionRow, 0, len(rows))
	var visit func(i int) error
	visit = func(i int) error {
		switch state[i] {
		case done:
			return nil
		case visiting:
			return &Error{File: file, Line: rows[i].Line, Field: "parent_id", Msg: "parents form a cycle"}
		}
		state[i] = visiting
		if p, ok := byID[rows[i].Request.GetInstitution().GetParentId()]; ok {
			if err := visit(p); err != nil {
				return err
			}
		}
		state[i] = done
		out = append(out, rows[i])
		return nil
	}
	idx := make([]int, len(rows))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return rows[idx[a]].Line < rows[idx[b]].Line })
	for _, i := range idx {
		if err := visit(i); err != nil {
			return nil, err
		}
	}
	return out, nil
}
