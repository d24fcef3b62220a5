package importfile

import (
	"fmt"
	"strings"

	"github.com/predikat-id/predikat/pkg/events"
	registryv1 "github.com/predikat-id/predikat/pkg/gen/predikat/registry/v1"
	"github.com/predikat-id/predikat/pkg/platform/fold"
)

// Matcher finds the registered institution a line names: by id, or by name
// or alias, narrowed by kind and region when the line gives them. Names
// are compared without case, punctuation or repeated spaces, with the
// usual short forms written out ("Pemkab HSS" is "Pemerintah Kabupaten
// HSS", "Kab." is "Kabupaten").
type Matcher struct {
	byID   map[string]*registryv1.Institution
	byName map[string][]*registryv1.Institution
}

// NewMatcher indexes the registered institutions.
func NewMatcher(list []*registryv1.Institution) *Matcher {
	m := &Matcher{byID: map[string]*registryv1.Institution{}, byName: map[string][]*registryv1.Institution{}}
	for _, in := range list {
		m.byID[in.GetId()] = in
		seen := map[string]bool{}
		for _, n := range append([]string{in.GetName()}, in.GetAliases()...) {
			if k := NormalizeName(n); k != "" && !seen[k] {
				seen[k] = true
				m.byName[k] = append(m.byName[k], in)
			}
		}
	}
	return m
}

var shortForms = map[string]string{
	"pemkab": "pemerintah kabupaten", "pemkot": "pemerintah kota", "pemprov": "pemerintah provinsi",
	"kab": "kabupaten", "prov": "provinsi", "kemen": "kementerian",
}

// NormalizeName is the form names are compared in: the registry's own
// (fold.Name) with the short forms written out.
func NormalizeName(s string) string {
	fields := strings.Fields(fold.Name(s))
	for i, f := range fields {
		if long, ok := shortForms[f]; ok {
			fields[i] = long
		}
	}
	return strings.Join(fields, " ")
}

// Match sets row.InstitutionID (and its kind) from the registry, or says
// why it cannot: no such id, no such name, a name several institutions
// carry (listing them), a retired institution.
func (m *Matcher) Match(row *AssessmentRow) (*registryv1.Institution, error) {
	if row.InstitutionID != "" {
		in, ok := m.byID[row.InstitutionID]
		if !ok {
			return nil, lineErr(row, "institution_id", "%q is not registered", row.InstitutionID)
		}
		return in, active(row, in)
	}
	var found []*registryv1.Institution
	for _, in := range m.byName[NormalizeName(row.Name)] {
		if row.Kind != 0 && in.GetKind() != row.Kind {
			continue
		}
		if row.RegionCode != "" && in.GetRegionCode() != row.RegionCode && provinceOf(in) != row.RegionCode {
			continue
		}
		found = append(found, in)
	}
	switch len(found) {
	case 0:
		return nil, lineErr(row, "institution", "no registered institution is named %q%s (register it, add an alias, or give its institution_id)", row.Name, narrowing(row))
	case 1:
		row.InstitutionID = found[0].GetId()
		return found[0], active(row, found[0])
	}
	var names []string
	for _, in := range found {
		names = append(names, fmt.Sprintf("%s (%s, %s)", in.GetId(), events.KindToken(in.GetKind()), in.GetRegionCode()))
	}
	return nil, lineErr(row, "institution", "%q%s matches %d institutions: %s; add a kind or region_code column, or give the institution_id", row.Name, narrowing(row), len(found), strings.Join(names, ", "))
}

func narrowing(row *AssessmentRow) string {
	var parts []string
	if row.Kind != 0 {
		parts = append(parts, "kind "+events.KindToken(row.Kind))
	}
	if row.RegionCode != "" {
		parts = append(parts, "region "+row.RegionCode)
	}
	if len(parts) == 0 {
		return ""
	}
	return " (" + strings.Join(parts, ", ") + ")"
}

func active(row *AssessmentRow, in *registryv1.Institution) error {
	if in.GetStatus() == registryv1.InstitutionStatus_INSTITUTION_STATUS_RETIRED {
		return lineErr(row, "institution", "%s is retired: it takes no new records", in.GetId())
	}
	return nil
}

func lineErr(row *AssessmentRow, col, format string, args ...any) error {
	return &Error{File: row.File, Line: row.Line, Field: col, Msg: fmt.Sprintf(format, args...)}
}

// provinceOf is the institution's province: the first two digits of its
// Kemendagri region code.
func provinceOf(in *registryv1.Institution) string {
	if p := in.GetProvinceCode(); p != "" {
		return p
	}
	if r := in.GetRegionCode(); len(r) >= 2 {
		return r[:2]
	}
	return ""
}
