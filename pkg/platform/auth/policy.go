package auth

import (
	"fmt"
	"os"
	"slices"
	"sort"
	"strings"
)

// Scope is what a call acts on, as far as bindings can be limited to it:
// the scheme and the institution its request names, and the province it
// concerns ("" when it names none).
type Scope struct {
	Scheme      string
	Institution string
	Province    string
}

// Policy is authorization as data: roles hold permissions; bindings grant
// roles to principals and groups, optionally only for some schemes or
// institutions; anonymous callers get the roles listed for them.
// Everything not granted is denied.
type Policy struct {
	name      string
	roles     map[string]map[string]bool
	anonymous []string
	bindings  []binding
}

// binding grants roles to principals and groups, within optional scopes.
type binding struct {
	principals   []string
	groups       []string
	roles        []string
	schemes      []string
	institutions []string
	provinces    []string
}

// wildcard is the permission that stands for every permission.
const wildcard = "*"

// LoadPolicy reads and validates a policy file.
func LoadPolicy(path string) (*Policy, error) {
	data, err := os.ReadFile(path) //nolint:gosec // the path is operator configuration
	if err != nil {
		return nil, fmt.Errorf("load policy: %w", err)
	}
	return ParsePolicy(path, data)
}

// Name is the file the policy was read from.
func (p *Policy) Name() string { return p.name }

// Check returns nil when a role granted to pr holds perm within a binding
// whose scopes admit sc; otherwise an error for codes.PermissionDenied
// naming what is missing and for whom.
func (p *Policy) Check(pr Principal, perm string, sc Scope) error {
	for _, r := range p.anonymous {
		if p.holds(r, perm) {
			return nil
		}
	}
	for i := range p.bindings {
		b := &p.bindings[i]
		if b.matches(pr) && b.admits(sc) && p.anyHolds(b.roles, perm) {
			return nil
		}
	}
	return &DeniedError{Permission: perm, Scope: sc, Principal: pr}
}

// BindsGroup reports whether some binding grants roles to members of
// group (whatever else the caller holds, anonymous roles included).
func (p *Policy) BindsGroup(group string) bool {
	for i := range p.bindings {
		if slices.Contains(p.bindings[i].groups, group) && len(p.bindings[i].roles) > 0 {
			return true
		}
	}
	return false
}

// Roles lists the roles granted to pr, whatever their scope, sorted.
func (p *Policy) Roles(pr Principal) []string {
	out := slices.Clone(p.anonymous)
	for i := range p.bindings {
		if p.bindings[i].matches(pr) {
			out = append(out, p.bindings[i].roles...)
		}
	}
	sort.Strings(out)
	return slices.Compact(out)
}

func (p *Policy) holds(role, perm string) bool {
	perms := p.roles[role]
	return perms[perm] || perms[wildcard]
}

func (p *Policy) anyHolds(roles []string, perm string) bool {
	for _, r := range roles {
		if p.holds(r, perm) {
			return true
		}
	}
	return false
}

// matches reports whether the binding names pr or one of its groups. The
// anonymous principal is never named by a binding.
func (b *binding) matches(pr Principal) bool {
	if pr.Anonymous() {
		return false
	}
	if slices.Contains(b.principals, pr.ID) {
		return true
	}
	for _, g := range pr.Groups {
		if slices.Contains(b.groups, g) {
			return true
		}
	}
	return false
}

// admits reports whether a call in sc is within the binding's scopes; a
// scoped binding never admits a call that names no value for the scope,
// as such a call is not provably inside it.
func (b *binding) admits(sc Scope) bool {
	if b.schemes != nil && !slices.Contains(b.schemes, sc.Scheme) {
		return false
	}
	if b.institutions != nil && !slices.Contains(b.institutions, sc.Institution) {
		return false
	}
	if b.provinces != nil && !slices.Contains(b.provinces, sc.Province) {
		return false
	}
	return true
}

// needsProvince reports whether a binding of pr is limited to provinces:
// only then is a call's province worth looking up.
func (p *Policy) needsProvince(pr Principal) bool {
	for i := range p.bindings {
		if p.bindings[i].provinces != nil && p.bindings[i].matches(pr) {
			return true
		}
	}
	return false
}

// scoped reports whether a binding of pr is limited to schemes,
// institutions or provinces: only then is placing an award worth a lookup.
func (p *Policy) scoped(pr Principal) bool {
	for i := range p.bindings {
		b := &p.bindings[i]
		if (b.schemes != nil || b.institutions != nil || b.provinces != nil) && b.matches(pr) {
			return true
		}
	}
	return false
}

// isProvinceCode reports whether s is a Kemendagri province code: two
// digits.
func isProvinceCode(s string) bool {
	return len(s) == 2 && s[0] >= '0' && s[0] <= '9' && s[1] >= '0' && s[1] <= '9'
}

// ProvinceOfRegion is the province a region code lies in: "63.01" and
// "63.01.01" are in "63", "63" is itself; "" for anything else (the
// national scope "00" included).
func ProvinceOfRegion(code string) string {
	p, _, _ := strings.Cut(code, ".")
	if !isProvinceCode(p) || p == "00" {
		return ""
	}
	return p
}

// DeniedError says which permission a principal lacks for a call.
type DeniedError struct {
	Permission string
	Scope      Scope
	Principal  Principal
}

func (e *DeniedError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "permission %q", e.Permission)
	var on []string
	if e.Scope.Scheme != "" {
		on = append(on, fmt.Sprintf("scheme %q", e.Scope.Scheme))
	}
	if e.Scope.Institution != "" {
		on = append(on, fmt.Sprintf("institution %q", e.Scope.Institution))
	}
	if e.Scope.Province != "" {
		on = append(on, fmt.Sprintf("province %q", e.Scope.Province))
	}
	if len(on) > 0 {
		b.WriteString(" on " + strings.Join(on, ", "))
	}
	b.WriteString(" is not granted to " + e.Principal.String())
	return b.String()
}
