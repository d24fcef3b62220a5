package auth

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	yaml "go.yaml.in/yaml/v3"
)

// ParsePolicy parses and validates a policy; name (the file) prefixes
// every error with the line at fault, "name:line: reason", so an operator
// can fix a rejected ConfigMap without guessing.
func ParsePolicy(name string, data []byte) (*Policy, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	ps := &policyParser{name: name, p: &Policy{name: name, roles: map[string]map[string]bool{}}}
	if err := ps.document(&doc); err != nil {
		return nil, err
	}
	return ps.p, nil
}

type policyParser struct {
	name string
	p    *Policy
}

func (ps *policyParser) errf(n *yaml.Node, format string, args ...any) error {
	return fmt.Errorf("%s:%d: %s", ps.name, n.Line, fmt.Sprintf(format, args...))
}

func (ps *policyParser) document(doc *yaml.Node) error {
	if doc.Kind == 0 || len(doc.Content) == 0 {
		return fmt.Errorf("%s:1: empty policy", ps.name)
	}
	root := doc.Content[0]
	fields, err := ps.mapping(root, "roles", "anonymous", "bindings")
	if err != nil {
		return err
	}
	roles, ok := fields["roles"]
	if !ok {
		return ps.errf(root, "roles is required")
	}
	if err := ps.roles(roles); err != nil {
		return err
	}
	if n, ok := fields["anonymous"]; ok {
		if ps.p.anonymous, err = ps.roleNames(n, "anonymous"); err != nil {
			return err
		}
	}
	if n, ok := fields["bindings"]; ok {
		return ps.bindings(n)
	}
	return nil
}

// mapping returns the values of a mapping by key, refusing keys outside
// allowed and duplicates: a misspelt key would otherwise be ignored and
// grant less, or more, than the author meant.
func (ps *policyParser) mapping(n *yaml.Node, allowed ...string) (map[string]*yaml.Node, error) {
	if n.Kind != yaml.MappingNode {
		return nil, ps.errf(n, "expected a mapping with keys %s", strings.Join(allowed, ", "))
	}
	out := map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if !slices.Contains(allowed, k.Value) {
			return nil, ps.errf(k, "unknown key %q (expected one of %s)", k.Value, strings.Join(allowed, ", "))
		}
		if _, dup := out[k.Value]; dup {
			return nil, ps.errf(k, "duplicate key %q", k.Value)
		}
		out[k.Value] = v
	}
	return out, nil
}

func (ps *policyParser) roles(n *yaml.Node) error {
	if n.Kind != yaml.MappingNode {
		return ps.errf(n, "roles must map role names to lists of permissions")
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if err := ps.word(k, "role name"); err != nil {
			return err
		}
		if _, dup := ps.p.roles[k.Value]; dup {
			return ps.errf(k, "role %q defined twice", k.Value)
		}
		perms, err := ps.strings(v, "permissions of role "+k.Value, "permission")
		if err != nil {
			return err
		}
		set := map[string]bool{}
		for _, perm := range perms {
			set[perm] = true
		}
		ps.p.roles[k.Value] = set
	}
	return nil
}

// word checks a name or permission: non-empty, one token.
func (ps *policyParser) word(n *yaml.Node, what string) error {
	if n.Kind != yaml.ScalarNode {
		return ps.errf(n, "%s must be a string", what)
	}
	if strings.TrimSpace(n.Value) == "" {
		return ps.errf(n, "empty %s", what)
	}
	if strings.ContainsAny(n.Value, " \t\n") {
		return ps.errf(n, "%s %q contains white space", what, n.Value)
	}
	return nil
}

// strings reads a non-empty sequence (what) of single words (item).
func (ps *policyParser) strings(n *yaml.Node, what, item string) ([]string, error) {
	if n.Kind != yaml.SequenceNode {
		return nil, ps.errf(n, "%s must be a list", what)
	}
	if len(n.Content) == 0 {
		return nil, ps.errf(n, "%s is an empty list", what)
	}
	out := make([]string, 0, len(n.Content))
	for _, v := range n.Content {
		if err := ps.word(v, item); err != nil {
			return nil, err
		}
		out = append(out, v.Value)
	}
	return out, nil
}

// roleNames reads a list of roles that the roles section defines.
func (ps *policyParser) roleNames(n *yaml.Node, what string) ([]string, error) {
	names, err := ps.strings(n, what, "role name")
	if err != nil {
		return nil, err
	}
	for i, r := range names {
		if _, ok := ps.p.roles[r]; !ok {
			return nil, ps.errf(n.Content[i], "role %q is not defined in roles", r)
		}
	}
	return names, nil
}

func (ps *policyParser) bindings(n *yaml.Node) error {
	if n.Kind != yaml.SequenceNode {
		return ps.errf(n, "bindings must be a list")
	}
	for _, item := range n.Content {
		b, err := ps.binding(item)
		if err != nil {
			return err
		}
		ps.p.bindings = append(ps.p.bindings, b)
	}
	return nil
}

func (ps *policyParser) binding(n *yaml.Node) (binding, error) {
	f, err := ps.mapping(n, "principals", "groups", "roles", "schemes", "institutions", "provinces")
	if err != nil {
		return binding{}, err
	}
	if f["principals"] == nil && f["groups"] == nil {
		return binding{}, ps.errf(n, "binding names neither principals nor groups")
	}
	if f["roles"] == nil {
		return binding{}, ps.errf(n, "binding grants no roles")
	}
	var b binding
	var errs []error
	b.roles, err = ps.roleNames(f["roles"], "roles")
	errs = append(errs, err)
	b.principals, err = ps.optional(f["principals"], "principals")
	errs = append(errs, err)
	b.groups, err = ps.optional(f["groups"], "groups")
	errs = append(errs, err)
	b.schemes, err = ps.optional(f["schemes"], "schemes")
	errs = append(errs, err)
	b.institutions, err = ps.optional(f["institutions"], "institutions")
	errs = append(errs, err)
	b.provinces, err = ps.optional(f["provinces"], "provinces")
	errs = append(errs, err)
	for _, pc := range b.provinces {
		if !isProvinceCode(pc) || pc == "00" {
			errs = append(errs, ps.errf(f["provinces"], "province %q is not a two-digit Kemendagri province code (e.g. \"63\"; national bodies lie in no province)", pc))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return binding{}, err
	}
	return b, nil
}

// optional reads a list that may be absent (nil) but not empty: an empty
// scope list would otherwise read as "no scope", granting everywhere.
func (ps *policyParser) optional(n *yaml.Node, what string) ([]string, error) {
	if n == nil {
		return nil, nil
	}
	return ps.strings(n, what, strings.TrimSuffix(what, "s"))
}
