package devpki

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"strings"
)

// role is one role of the dev policy and the permissions it grants.
type role struct {
	name  string
	perms []string
}

// roles is the dev policy's roles, in the order the file lists them.
var roles = []role{
	{"public", []string{"schemes.read", "rounds.read", "awards.read", "registry.read", "assessments.read.published", "boards.read.published", "ceremonies.read", "certificates.verify"}},
	{"reader", []string{"schemes.read", "rounds.read", "awards.read", "registry.read", "registry.watch", "assessments.read", "assessments.compute", "boards.read", "objections.read", "ceremonies.read", "certificates.verify", "surveys.read"}},
	{"registry-editor", []string{"registry.read", "registry.regions.write", "registry.institutions.write"}},
	{"assessor", []string{"schemes.read", "rounds.read", "registry.read", "assessments.read", "assessments.compute", "assessments.record"}},
	{"round-manager", []string{"schemes.read", "rounds.read", "rounds.manage", "registry.read", "objections.read"}},
	// A reviewer decides objections, never on a record it assessed (the
	// service checks that on every decision).
	{"reviewer", []string{"schemes.read", "rounds.read", "registry.read", "assessments.read", "objections.read", "objections.decide"}},
	// An institution's own account: bound to its institution (the binding
	// names it), it reads its provisional result and rank and objects.
	{"institution", []string{"assessments.read", "boards.read", "objections.read", "objections.file", "surveys.read"}},
	// A collector of a service unit's citizen satisfaction survey: submits
	// its responses, states its own survey and reads its result. Bind it
	// with institutions: [<the unit>] so it collects for that unit alone;
	// public gets nothing of surveys (a result is provisional until the
	// round is published).
	{"survey-collector", []string{"schemes.read", "rounds.read", "registry.read", "surveys.submit", "surveys.define", "surveys.read"}},
	{"scheme-registrar", []string{"schemes.read", "schemes.register"}},
	{"award-officer", []string{"awards.read", "awards.manage", "registry.read", "ceremonies.read", "ceremonies.manage"}},
	{"operator", []string{"boards.rebuild", "boards.read"}},
	{"service", []string{"registry.read", "registry.watch"}},
	{"admin", []string{"*"}},
}

// The dev policy's institution account: the principal of a dev token with
// subject "hss", bound to the institution role of DevInstitution.
const (
	DevInstitutionAccount = "user:hss"
	DevInstitution        = "pemkab-hss"
)

// Roles are the role names of the dev policy: `predikat token --role`
// takes one of them.
func Roles() []string {
	out := make([]string, len(roles))
	for i, r := range roles {
		out[i] = r.name
	}
	return out
}

// policyYAML renders the dev policy: the roles, the certificate identities
// of the services and the two users, and one group per role so that a dev
// token's groups pick its roles.
func policyYAML() string {
	var b strings.Builder
	b.WriteString("# Access policy of the dev stack, written once by \"predikat dev\": edit it\n")
	b.WriteString("# freely, it is not overwritten (delete it to get this one back).\n")
	b.WriteString("roles:\n")
	for _, r := range roles {
		fmt.Fprintf(&b, "  %s: [%s]\n", r.name, strings.Join(quoteAll(r.perms), ", "))
	}
	// Callers with no credential get nothing. The key is left out rather
	// than written as an empty list, which the policy parser refuses.
	b.WriteString("# anonymous: [public] would let callers with no credential do what public may.\n")
	b.WriteString("bindings:\n")
	services := make([]string, 0, len(Services))
	for _, s := range Services {
		if s != "registry" { // the registry calls no other service
			services = append(services, ServiceURI(s))
		}
	}
	fmt.Fprintf(&b, "  - principals: [%s]\n    roles: [service]\n", strings.Join(services, ", "))
	fmt.Fprintf(&b, "  - principals: [%s]\n    roles: [admin]\n", UserURI("admin"))
	fmt.Fprintf(&b, "  - principals: [%s]\n    roles: [reader]\n", UserURI("reader"))
	b.WriteString("  # An institution's own account: the token subject hss (`predikat token --role public\n")
	b.WriteString("  # --subject hss`) reads the provisional result of Hulu Sungai Selatan and objects to it.\n")
	fmt.Fprintf(&b, "  - principals: [%s]\n    roles: [institution]\n    institutions: [%s]\n", DevInstitutionAccount, DevInstitution)
	b.WriteString("  # one group per role, for dev tokens: `predikat token --role X` puts X in the token's groups\n")
	for _, r := range roles {
		if r.name == "institution" {
			continue // only ever bound to one institution, as above
		}
		fmt.Fprintf(&b, "  - groups: [%s]\n    roles: [%s]\n", r.name, r.name)
	}
	return b.String()
}

// quoteAll quotes what YAML would not read as a plain string ("*" is an
// alias marker).
func quoteAll(perms []string) []string {
	out := make([]string, len(perms))
	for i, p := range perms {
		if p == "*" {
			p = `"*"`
		}
		out[i] = p
	}
	return out
}

// ensurePolicy writes the dev policy only when there is none: the file is
// the developer's to edit.
func (f *Files) ensurePolicy(log *slog.Logger) error {
	_, err := os.Stat(f.Policy())
	if err == nil {
		return nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("devpki: %w", err)
	}
	if err := writeFile(f.Policy(), []byte(policyYAML()), 0o644); err != nil {
		return err
	}
	log.Info("dev PKI: wrote the access policy", "policy", f.Policy())
	return nil
}
