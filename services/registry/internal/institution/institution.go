// Package institution holds the registry's rules about institutions: which
// kind may sit in which region, what makes two institutions the same, and how
// an update mask changes a record. It is pure: storage and RPC live elsewhere,
// and its types are plain Go so the application layer can name them.
package institution

import (
	"maps"
	"slices"
	"strings"

	"github.com/predikat-id/predikat/pkg/platform/fault"
	"github.com/predikat-id/predikat/pkg/platform/fold"
	"github.com/predikat-id/predikat/services/registry/internal/region"
)

// MaxNameLen bounds names; protovalidate enforces it too, this guards callers
// that build records in process (imports, the demo loader).
const MaxNameLen = 200

// Levels returns the region levels a kind may be registered at.
func Levels(k Kind) []region.Level {
	switch k {
	case KindProvincialGovernment:
		return []region.Level{region.LevelProvince}
	case KindRegencyGovernment:
		return []region.Level{region.LevelRegency}
	case KindCityGovernment:
		return []region.Level{region.LevelCity}
	case KindMinistry, KindAgency:
		return []region.Level{region.LevelNational}
	case KindPoliceResort, KindLandOffice:
		return []region.Level{region.LevelRegency, region.LevelCity}
	case KindPublicServiceMall:
		return []region.Level{region.LevelProvince, region.LevelRegency, region.LevelCity}
	case KindServiceUnit:
		// A desk of a ministry sits at "00", a puskesmas in its regency.
		return []region.Level{region.LevelNational, region.LevelProvince, region.LevelRegency, region.LevelCity}
	}
	return nil
}

// NormalizeRegion maps "no region" to the national code, so a ministry can
// be sent with an empty region_code. Only kinds that are always national: a
// service unit may sit anywhere, so it must say where.
func NormalizeRegion(k Kind, code string) string {
	if code == "" && slices.Equal(Levels(k), []region.Level{region.LevelNational}) {
		return region.National
	}
	return code
}

// CheckPlacement verifies that kind k may sit in region r.
func CheckPlacement(k Kind, r *region.Region) error {
	levels := Levels(k)
	if len(levels) == 0 {
		return fault.Invalidf("institution kind is required (one of PROVINCIAL_GOVERNMENT, REGENCY_GOVERNMENT, CITY_GOVERNMENT, MINISTRY, AGENCY, POLICE_RESORT, LAND_OFFICE, PUBLIC_SERVICE_MALL, SERVICE_UNIT)")
	}
	if slices.Contains(levels, r.Level) {
		return nil
	}
	names := make([]string, len(levels))
	for i, l := range levels {
		names[i] = levelName(l)
	}
	return fault.Invalidf("a %s must be registered at a %s code, but region %s (%s) is a %s",
		KindName(k), strings.Join(names, " or "), r.Code, r.Name, levelName(r.Level))
}

// MaxYearlyServiceUsers bounds yearly_service_users, as protovalidate does.
const MaxYearlyServiceUsers = 1_000_000_000

// CheckKindFields verifies the fields whose rules depend on the kind. A
// service unit must name its parent institution: the unit is a desk of that
// body, which answers for its survey. Only a service unit carries a yearly
// number of service users (the survey's population); on any other kind the
// number would mean nothing, so it is refused rather than kept unused.
func CheckKindFields(in *Institution) error {
	if in.YearlyServiceUsers < 0 || in.YearlyServiceUsers > MaxYearlyServiceUsers {
		return fault.Invalidf("institution.yearly_service_users is %d; it must be 0 (unknown) to %d", in.YearlyServiceUsers, MaxYearlyServiceUsers)
	}
	if in.Kind != KindServiceUnit {
		if in.YearlyServiceUsers != 0 {
			return fault.Invalidf("institution.yearly_service_users is only for service units; a %s has none (leave it 0)", KindName(in.Kind))
		}
		return nil
	}
	if in.ParentID == "" {
		return fault.Invalidf("institution.parent_id is required for a service unit: name the institution it belongs to (its ministry, regency, police resort, ...)")
	}
	return nil
}

// CleanName trims and checks a name.
func CleanName(name string) (string, error) {
	name = strings.Join(strings.Fields(name), " ")
	switch {
	case name == "":
		return "", fault.Invalidf("institution name is required")
	case len(name) > MaxNameLen:
		return "", fault.Invalidf("institution name is %d bytes; at most %d are allowed", len(name), MaxNameLen)
	}
	return name, nil
}

// Fold is the comparison form of a name (pkg/fold, shared with ranking).
func Fold(name string) string { return fold.Name(name) }

// OrderKey is the stable listing order of an institution: folded name, then
// id. Page tokens carry it.
func OrderKey(in *Institution) string {
	return Fold(in.Name) + "\x00" + in.ID
}

// UpdatablePaths are the field-mask paths UpdateInstitution accepts.
var UpdatablePaths = []string{"name", "region_code", "parent_id", "head", "aliases", "external_ids", "yearly_service_users"}

// ApplyMask returns a copy of cur with the masked fields taken from upd.
// Replacing the head moves the previous one to past_heads, closing its term
// on the day the new one starts when the caller did not say otherwise.
func ApplyMask(cur, upd *Institution, paths []string) (*Institution, error) {
	if len(paths) == 0 {
		return nil, fault.Invalidf("update_mask is empty: name at least one of %s", strings.Join(UpdatablePaths, ", "))
	}
	next := cur.Clone()
	for _, p := range paths {
		if err := applyPath(next, cur, upd, p); err != nil {
			return nil, err
		}
	}
	return next, nil
}

func applyPath(next, cur, upd *Institution, path string) error {
	switch path {
	case "name":
		next.Name = upd.Name
	case "region_code":
		next.RegionCode = upd.RegionCode
	case "parent_id":
		next.ParentID = upd.ParentID
	case "head":
		replaceHead(next, cur.Head, upd.Head)
	case "aliases":
		next.Aliases = slices.Clone(upd.Aliases)
	case "external_ids":
		next.ExternalIDs = maps.Clone(upd.ExternalIDs)
	case "yearly_service_users":
		next.YearlyServiceUsers = upd.YearlyServiceUsers
	case "kind":
		return fault.Invalidf("kind cannot change: retire this institution and register a new one")
	default:
		return fault.Invalidf("update_mask path %q is not updatable; use %s", path, strings.Join(UpdatablePaths, ", "))
	}
	return nil
}

// replaceHead sets next's head to h. A different person (not a corrected
// title or term of the same one) sends the old head to the history.
func replaceHead(next *Institution, old, h *Head) {
	if old != nil && old.Name != headName(h) {
		closed := cloneHead(old)
		if closed.TermEnd == "" && h != nil {
			closed.TermEnd = h.TermStart
		}
		next.PastHeads = append(next.PastHeads, closed)
	}
	next.Head = cloneHead(h)
}

func headName(h *Head) string {
	if h == nil {
		return ""
	}
	return h.Name
}

// CheckHead validates a head's term.
func CheckHead(h *Head) error {
	if h == nil {
		return nil
	}
	if h.TermStart != "" && h.TermEnd != "" && h.TermEnd < h.TermStart {
		return fault.Invalidf("head %s: term_end %s is before term_start %s", h.Name, h.TermEnd, h.TermStart)
	}
	return nil
}

// StaleRevision is the answer to a write made against an old revision.
func StaleRevision(id string, current, expected uint64) error {
	return fault.Conflictf("institution %q is at revision %d, not %d: it changed since you read it; get it again and reapply your change", id, current, expected)
}

// Filter selects institutions for a listing; zero fields select everything.
type Filter struct {
	Kinds      []Kind
	RegionCode string
	Status     Status
	// Words must all appear in the folded name or an alias (QueryWords).
	Words []string
}

// Keep reports whether in passes f.
func (f Filter) Keep(in *Institution) bool {
	return Matches(in, f.Kinds, f.RegionCode, f.Status, f.Words)
}

// Matches reports whether inst passes a list filter. Words of the query must
// all appear in the folded name or an alias.
func Matches(inst *Institution, kinds []Kind, regionCode string, status Status, words []string) bool {
	if len(kinds) > 0 && !slices.Contains(kinds, inst.Kind) {
		return false
	}
	if regionCode != "" && !region.Contains(regionCode, inst.RegionCode) {
		return false
	}
	if status != StatusUnspecified && inst.Status != status {
		return false
	}
	if len(words) == 0 {
		return true
	}
	hay := Fold(inst.Name)
	for _, a := range inst.Aliases {
		hay += " | " + Fold(a)
	}
	for _, w := range words {
		if !strings.Contains(hay, w) {
			return false
		}
	}
	return true
}

// QueryWords splits a search query into folded words.
func QueryWords(q string) []string { return strings.Fields(Fold(q)) }

// KindName is the kind in words for messages ("police resort").
func KindName(k Kind) string {
	return strings.ToLower(strings.ReplaceAll(strings.TrimPrefix(k.String(), "INSTITUTION_KIND_"), "_", " "))
}

// KindLabel is the kind as the storage layer's messages have always spelled
// it ("police_resort").
func KindLabel(k Kind) string {
	return strings.ToLower(strings.TrimPrefix(k.String(), "INSTITUTION_KIND_"))
}

func levelName(l region.Level) string {
	switch l {
	case region.LevelNational:
		return "national (\"00\" or empty)"
	case region.LevelProvince:
		return "province (\"63\")"
	case region.LevelRegency:
		return "regency (\"63.06\")"
	case region.LevelCity:
		return "city (\"63.71\")"
	}
	return "unknown level"
}
