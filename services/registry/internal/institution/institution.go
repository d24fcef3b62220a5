// Package institution holds the registry's rules about institutions: which
// kind may sit in which region, what makes two institutions the same, and how
// an update mask changes a record. It is pure: storage and RPC live elsewhere.
package institution

import (
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strings"

	registryv1 "github.com/predikat-id/predikat/pkg/gen/predikat/registry/v1"
	"github.com/predikat-id/predikat/pkg/platform/fault"
	"github.com/predikat-id/predikat/pkg/platform/fold"
	"github.com/predikat-id/predikat/services/registry/internal/region"
	"google.golang.org/protobuf/proto"
)

// MaxNameLen bounds names; protovalidate enforces it too, this guards callers
// that build records in process (imports, the demo loader).
const MaxNameLen = 200

// Levels returns the region levels a kind may be registered at.
func Levels(k registryv1.InstitutionKind) []registryv1.RegionLevel {
	const (
		nat  = registryv1.RegionLevel_REGION_LEVEL_NATIONAL
		prov = registryv1.RegionLevel_REGION_LEVEL_PROVINCE
		reg  = registryv1.RegionLevel_REGION_LEVEL_REGENCY
		city = registryv1.RegionLevel_REGION_LEVEL_CITY
	)
	switch k {
	case registryv1.InstitutionKind_INSTITUTION_KIND_PROVINCIAL_GOVERNMENT:
		return []registryv1.RegionLevel{prov}
	case registryv1.InstitutionKind_INSTITUTION_KIND_REGENCY_GOVERNMENT:
		return []registryv1.RegionLevel{reg}
	case registryv1.InstitutionKind_INSTITUTION_KIND_CITY_GOVERNMENT:
		return []registryv1.RegionLevel{city}
	case registryv1.InstitutionKind_INSTITUTION_KIND_MINISTRY, registryv1.InstitutionKind_INSTITUTION_KIND_AGENCY:
		return []registryv1.RegionLevel{nat}
	case registryv1.InstitutionKind_INSTITUTION_KIND_POLICE_RESORT, registryv1.InstitutionKind_INSTITUTION_KIND_LAND_OFFICE:
		return []registryv1.RegionLevel{reg, city}
	case registryv1.InstitutionKind_INSTITUTION_KIND_PUBLIC_SERVICE_MALL:
		return []registryv1.RegionLevel{prov, reg, city}
	}
	return nil
}

// NormalizeRegion maps "no region" to the national code, so a ministry can
// be sent with an empty region_code.
func NormalizeRegion(k registryv1.InstitutionKind, code string) string {
	if code == "" && slices.Contains(Levels(k), registryv1.RegionLevel_REGION_LEVEL_NATIONAL) {
		return region.National
	}
	return code
}

// CheckPlacement verifies that kind k may sit in region r.
func CheckPlacement(k registryv1.InstitutionKind, r *registryv1.Region) error {
	levels := Levels(k)
	if len(levels) == 0 {
		return fault.Invalidf("institution kind is required (one of PROVINCIAL_GOVERNMENT, REGENCY_GOVERNMENT, CITY_GOVERNMENT, MINISTRY, AGENCY, POLICE_RESORT, LAND_OFFICE, PUBLIC_SERVICE_MALL)")
	}
	if slices.Contains(levels, r.GetLevel()) {
		return nil
	}
	names := make([]string, len(levels))
	for i, l := range levels {
		names[i] = levelName(l)
	}
	return fault.Invalidf("a %s must be registered at a %s code, but region %s (%s) is a %s",
		kindName(k), strings.Join(names, " or "), r.GetCode(), r.GetName(), levelName(r.GetLevel()))
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

// IdentityKey is the uniqueness key of (kind, region, name). It is a hash so
// it is always a valid KV key whatever the name contains.
func IdentityKey(k registryv1.InstitutionKind, regionCode, name string) string {
	sum := sha256.Sum256([]byte(k.String() + "|" + regionCode + "|" + Fold(name)))
	return hex.EncodeToString(sum[:16])
}

// UpdatablePaths are the field-mask paths UpdateInstitution accepts.
var UpdatablePaths = []string{"name", "region_code", "parent_id", "head", "aliases", "external_ids"}

// ApplyMask returns a copy of cur with the masked fields taken from upd.
// Replacing the head moves the previous one to past_heads, closing its term
// on the day the new one starts when the caller did not say otherwise.
func ApplyMask(cur, upd *registryv1.Institution, paths []string) (*registryv1.Institution, error) {
	if len(paths) == 0 {
		return nil, fault.Invalidf("update_mask is empty: name at least one of %s", strings.Join(UpdatablePaths, ", "))
	}
	next := proto.Clone(cur).(*registryv1.Institution)
	for _, p := range paths {
		switch p {
		case "name":
			next.Name = upd.GetName()
		case "region_code":
			next.RegionCode = upd.GetRegionCode()
		case "parent_id":
			next.ParentId = upd.GetParentId()
		case "head":
			if old := cur.GetHead(); old != nil && !proto.Equal(old, upd.GetHead()) && old.GetName() != upd.GetHead().GetName() {
				closed := proto.Clone(old).(*registryv1.Head)
				if closed.TermEnd == "" {
					closed.TermEnd = upd.GetHead().GetTermStart()
				}
				next.PastHeads = append(next.PastHeads, closed)
			}
			next.Head = upd.GetHead()
		case "aliases":
			next.Aliases = upd.GetAliases()
		case "external_ids":
			next.ExternalIds = upd.GetExternalIds()
		case "kind":
			return nil, fault.Invalidf("kind cannot change: retire this institution and register a new one")
		default:
			return nil, fault.Invalidf("update_mask path %q is not updatable; use %s", p, strings.Join(UpdatablePaths, ", "))
		}
	}
	return next, nil
}

// CheckHead validates a head's term.
func CheckHead(h *registryv1.Head) error {
	if h == nil {
		return nil
	}
	if h.GetTermStart() != "" && h.GetTermEnd() != "" && h.GetTermEnd() < h.GetTermStart() {
		return fault.Invalidf("head %s: term_end %s is before term_start %s", h.GetName(), h.GetTermEnd(), h.GetTermStart())
	}
	return nil
}

// Matches reports whether inst passes a list filter. Words of the query must
// all appear in the folded name or an alias.
func Matches(inst *registryv1.Institution, kinds []registryv1.InstitutionKind, regionCode string, status registryv1.InstitutionStatus, words []string) bool {
	if len(kinds) > 0 && !slices.Contains(kinds, inst.GetKind()) {
		return false
	}
	if regionCode != "" && !region.Contains(regionCode, inst.GetRegionCode()) {
		return false
	}
	if status != registryv1.InstitutionStatus_INSTITUTION_STATUS_UNSPECIFIED && inst.GetStatus() != status {
		return false
	}
	if len(words) == 0 {
		return true
	}
	hay := Fold(inst.GetName())
	for _, a := range inst.GetAliases() {
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

func kindName(k registryv1.InstitutionKind) string {
	return strings.ToLower(strings.ReplaceAll(strings.TrimPrefix(k.String(), "INSTITUTION_KIND_"), "_", " "))
}

func levelName(l registryv1.RegionLevel) string {
	switch l {
	case registryv1.RegionLevel_REGION_LEVEL_NATIONAL:
		return "national (\"00\" or empty)"
	case registryv1.RegionLevel_REGION_LEVEL_PROVINCE:
		return "province (\"63\")"
	case registryv1.RegionLevel_REGION_LEVEL_REGENCY:
		return "regency (\"63.06\")"
	case registryv1.RegionLevel_REGION_LEVEL_CITY:
		return "city (\"63.71\")"
	}
	return "unknown level"
}
