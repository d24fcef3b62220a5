// Package scheme is the catalog of assessment scheme versions.
//
// Schemes are data, not code: every version (dimensions and weights, scale
// and precision, bands with their bounds and inclusivity, eligible kinds,
// peer groups, award and adjustment rules, source) is one JSON file under
// data/, named "<id>-<version>.json" and embedded in the binary. A file is
// protojson of assessmentv1.Scheme; unknown fields are errors, so a typo
// stops the service at start instead of being ignored.
//
// Load validates the whole catalog: weights sum to exactly 100, bands cover
// the scale without gap or overlap at the scale's precision, codes are
// unique, peer groups and award rules reference what exists, the years of
// the versions of one scheme do not overlap. A broken file is reported with
// the file, the field and the reason, e.g.
//
//	scheme data ombudsman-2022.json: bands[2].lower.value: "54,00x" is not a decimal: ...
//
// A loaded Catalog and its Versions are immutable and safe for concurrent
// use. Decimals are parsed once at load; nothing is re-parsed per call.
package scheme

import (
	"sync"

	"embed"
	"fmt"
	"google.golang.org/protobuf/proto"
	"io/fs"
	"path"
	"slices"
	"strings"

	assessmentv1 "github.com/predikat-id/predikat/pkg/gen/predikat/assessment/v1"
	registryv1 "github.com/predikat-id/predikat/pkg/gen/predikat/registry/v1"
	"github.com/predikat-id/predikat/pkg/platform/fault"
)

//go:embed data/*.json
var embedded embed.FS

// Catalog is the validated set of scheme versions.
type Catalog struct {
	// Versions registered at run time are added under mu; a Version itself
	// never changes.
	mu       sync.RWMutex
	versions []*Version            // ordered by scheme id, then first year
	byID     map[string][]*Version // scheme id -> versions ordered by first year
}

// Load reads and validates the catalog embedded in the binary.
func Load() (*Catalog, error) {
	sub, err := fs.Sub(embedded, "data")
	if err != nil {
		return nil, fmt.Errorf("scheme data: %w", err)
	}
	return LoadFS(sub)
}

// LoadFS reads and validates every *.json file at the root of fsys (other
// files and directories are ignored). Any broken file fails the whole load
// with an error naming the file, the field and the reason (a *DataError).
func LoadFS(fsys fs.FS) (*Catalog, error) {
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, fmt.Errorf("scheme data: %w", err)
	}
	c := &Catalog{byID: map[string][]*Version{}}
	for _, e := range entries {
		if e.IsDir() || path.Ext(e.Name()) != ".json" {
			continue
		}
		data, err := fs.ReadFile(fsys, e.Name())
		if err != nil {
			return nil, &DataError{File: e.Name(), Reason: err.Error()}
		}
		v, err := parseVersion(e.Name(), data)
		if err != nil {
			return nil, err
		}
		c.versions = append(c.versions, v)
	}
	if len(c.versions) == 0 {
		return nil, fmt.Errorf("scheme data: no <id>-<version>.json files")
	}
	sortVersions(c.versions)
	for _, v := range c.versions {
		if err := c.fits(v); err != nil {
			return nil, err
		}
		c.byID[v.p.GetId()] = append(c.byID[v.p.GetId()], v)
	}
	return c, nil
}

func sortVersions(vs []*Version) {
	slices.SortFunc(vs, func(a, b *Version) int {
		if n := strings.Compare(a.p.GetId(), b.p.GetId()); n != 0 {
			return n
		}
		return int(a.p.GetFirstYear()) - int(b.p.GetFirstYear())
	})
}

// fits checks v against the versions of its scheme: one version per
// scheme and year.
func (c *Catalog) fits(v *Version) error {
	for _, other := range c.byID[v.p.GetId()] {
		if yearsOverlap(v, other) {
			return &DataError{File: v.file, Field: "first_year", Reason: fmt.Sprintf(
				"years %s overlap version %q in %s (%s): one version per scheme and year",
				v.yearRange(), other.p.GetVersion(), other.file, other.yearRange())}
		}
	}
	return nil
}

// Add adds a version registered at run time. The same version again (same
// id, label and content) is no change (false); another version with that
// label is fault.Exists, for a version never changes once registered (a
// fix is a new version); years overlapping another version of the scheme
// are fault.FailedPrecondition.
func (c *Catalog) Add(v *Version) (bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.checkAddLocked(v); err != nil || c.hasLocked(v) {
		return false, err
	}
	c.versions = append(c.versions, v)
	sortVersions(c.versions)
	c.byID[v.p.GetId()] = append(c.byID[v.p.GetId()], v)
	sortVersions(c.byID[v.p.GetId()])
	return true, nil
}

// CheckAdd is what Add would refuse, without adding.
func (c *Catalog) CheckAdd(v *Version) error {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.checkAddLocked(v)
}

func (c *Catalog) hasLocked(v *Version) bool {
	for _, other := range c.byID[v.p.GetId()] {
		if other.p.GetVersion() == v.p.GetVersion() {
			return true
		}
	}
	return false
}

func (c *Catalog) checkAddLocked(v *Version) error {
	for _, other := range c.byID[v.p.GetId()] {
		if other.p.GetVersion() != v.p.GetVersion() {
			continue
		}
		if SameContent(other.p, v.p) {
			return nil
		}
		where := "a built-in version"
		if other.registered {
			where = "registered"
		}
		return fault.Existsf("scheme %s version %q already exists (%s) with other content: a version never changes once it exists; register the fix as a new version", v.p.GetId(), v.p.GetVersion(), where)
	}
	if err := c.fits(v); err != nil {
		return fault.Preconditionf("%s", err.(*DataError).Reason)
	}
	return nil
}

func yearsOverlap(a, b *Version) bool { return YearsOverlap(a.p, b.p) }

// YearsOverlap reports whether two versions are in force in a common year
// (a last year of 0 is open-ended): one version per scheme and year.
func YearsOverlap(a, b *assessmentv1.Scheme) bool {
	const open = int32(1<<31 - 1)
	end := func(p *assessmentv1.Scheme) int32 {
		if p.GetLastYear() == 0 {
			return open
		}
		return p.GetLastYear()
	}
	return a.GetFirstYear() <= end(b) && b.GetFirstYear() <= end(a)
}

// List returns the versions matching every given filter, ordered by scheme
// id then first year: schemeID "" means every scheme, year 0 every year (else
// only versions in force that year), kind UNSPECIFIED any kind (else only
// versions under which the kind is eligible). The slice is new; the versions
// are shared and immutable.
func (c *Catalog) List(schemeID string, year int32, kind registryv1.InstitutionKind) []*Version {
	c.mu.RLock()
	defer c.mu.RUnlock()
	var out []*Version
	for _, v := range c.versions {
		if (schemeID == "" || v.p.GetId() == schemeID) &&
			(year == 0 || v.InForce(year)) &&
			(kind == registryv1.InstitutionKind_INSTITUTION_KIND_UNSPECIFIED || v.Eligible(kind)) {
			out = append(out, v)
		}
	}
	return out
}

// SchemeIDs returns the ids of the schemes in the catalog, sorted.
func (c *Catalog) SchemeIDs() []string {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.idsLocked()
}

func (c *Catalog) idsLocked() []string {
	ids := make([]string, 0, len(c.byID))
	for id := range c.byID {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// Get returns one version of a scheme by its exact label, e.g. ("ombudsman",
// "2022"). An unknown scheme or version is a fault.NotFound naming what
// exists.
func (c *Catalog) Get(schemeID, version string) (*Version, error) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	vs, err := c.scheme(schemeID)
	if err != nil {
		return nil, err
	}
	for _, v := range vs {
		if v.p.GetVersion() == version {
			return v, nil
		}
	}
	return nil, fault.NotFoundf("scheme %s has no version %q; versions: %s", schemeID, version, describe(vs))
}

// ForYear returns the version of a scheme in force in year. None is a
// fault.NotFound naming the versions that exist and their years.
func (c *Catalog) ForYear(schemeID string, year int32) (*Version, error) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	vs, err := c.scheme(schemeID)
	if err != nil {
		return nil, err
	}
	for _, v := range vs {
		if v.InForce(year) {
			return v, nil
		}
	}
	return nil, fault.NotFoundf("no version of scheme %s is in force in %d; versions: %s", schemeID, year, describe(vs))
}

func (c *Catalog) scheme(schemeID string) ([]*Version, error) {
	vs, ok := c.byID[schemeID]
	if !ok {
		return nil, fault.NotFoundf("scheme %q not found; schemes: %s", schemeID, strings.Join(c.idsLocked(), ", "))
	}
	return vs, nil
}

func describe(vs []*Version) string {
	parts := make([]string, len(vs))
	for i, v := range vs {
		parts[i] = fmt.Sprintf("%s (%s)", v.p.GetVersion(), v.yearRange())
	}
	return strings.Join(parts, ", ")
}

// DataError is a broken scheme data file: which file, which field (a path
// such as "bands[2].lower.value"; empty for the file as a whole) and why.
type DataError struct {
	File   string
	Field  string
	Reason string
}

func (e *DataError) Error() string {
	if e.Field == "" {
		return fmt.Sprintf("scheme data %s: %s", e.File, e.Reason)
	}
	return fmt.Sprintf("scheme data %s: %s: %s", e.File, e.Field, e.Reason)
}

// SameContent reports whether two versions say the same, whoever
// registered them and when.
func SameContent(a, b *assessmentv1.Scheme) bool {
	strip := func(p *assessmentv1.Scheme) *assessmentv1.Scheme {
		c := proto.Clone(p).(*assessmentv1.Scheme)
		c.RegisteredBy, c.RegisterTime = "", nil
		return c
	}
	return proto.Equal(strip(a), strip(b))
}
