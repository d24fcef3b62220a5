package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/predikat-id/predikat/pkg/platform/auth"
	"github.com/predikat-id/predikat/pkg/platform/devpki"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

// credFlags are the --pki, --ca, --cert, --key and --token flags of a
// command that calls the services. Empty ones fall back to the dev PKI.
type credFlags struct {
	pki, ca, cert, key, token string
}

// defaultPKI is the dev stack's PKI directory: PREDIKAT_PKI, else "pki" in
// PREDIKAT_DATA (where "predikat dev --data" keeps its state), else
// ./.predikat/pki.
func (a *App) defaultPKI() string {
	return a.env("PREDIKAT_PKI", filepath.Join(a.env("PREDIKAT_DATA", ".predikat"), "pki"))
}

func (a *App) pkiFlag(fs *flag.FlagSet, p *string) {
	fs.StringVar(p, "pki", a.defaultPKI(), "dev PKI directory that \"predikat dev\" creates (env PREDIKAT_PKI)")
}

// defineCredFlags defines the credential flags of a command that calls the
// services. The defaults present the dev admin certificate, so against
// "make run" no flag is needed.
func (s *session) defineCredFlags(fs *flag.FlagSet) {
	a, c := s.app, &s.creds
	a.pkiFlag(fs, &c.pki)
	fs.StringVar(&c.ca, "ca", a.env("PREDIKAT_CA", ""), "PEM of the CA the services' certificates chain to; default ca.pem of --pki (env PREDIKAT_CA)")
	fs.StringVar(&c.cert, "cert", a.env("PREDIKAT_CERT", ""), "client certificate (PEM); default admin.pem of --pki unless --token is set (env PREDIKAT_CERT)")
	fs.StringVar(&c.key, "key", a.env("PREDIKAT_KEY", ""), "private key of --cert (PEM); default admin-key.pem of --pki (env PREDIKAT_KEY)")
	fs.StringVar(&c.token, "token", a.env("PREDIKAT_TOKEN", ""), "bearer token (JWT) sent on every call, e.g. from \"predikat token\" (env PREDIKAT_TOKEN)")
}

// clientCredentials resolves the flags into what the CLI presents. A token
// alone replaces the default admin certificate: the caller asked to be the
// token's subject, not the dev admin.
func (c credFlags) clientCredentials() auth.ClientCredentials {
	files := devpki.At(c.pki)
	cc := auth.ClientCredentials{CAFile: c.ca, CertFile: c.cert, KeyFile: c.key, Token: c.token}
	if cc.CAFile == "" {
		cc.CAFile = files.CA()
	}
	if cc.CertFile == "" && cc.KeyFile == "" && cc.Token == "" {
		cc.CertFile, cc.KeyFile = files.ClientCert("admin"), files.ClientKey("admin")
	}
	return cc
}

// dialOptions are the credentials options of every connection the session
// opens: App.Credentials when set (tests), the flags' otherwise.
func (s *session) dialOptions() ([]grpc.DialOption, error) {
	cc := s.creds.clientCredentials()
	if s.app.Credentials != nil {
		return s.app.Credentials(cc)
	}
	opts, err := cc.DialOptions()
	if err == nil {
		return opts, nil
	}
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w. The dev stack (make run) creates its credentials in %s; otherwise set --ca, --cert and --key, or --token (env PREDIKAT_CA, PREDIKAT_CERT, PREDIKAT_KEY, PREDIKAT_TOKEN)", err, s.creds.pki)
	}
	return nil, err
}

// connect opens the connection to one service: the one place the CLI
// dials, so every connection carries the same credentials and interceptor.
func (s *session) connect(e endpoint, target string) (*grpc.ClientConn, error) {
	if s.credOpts == nil {
		opts, err := s.dialOptions()
		if err != nil {
			opts = failCalls(err)
		}
		s.credOpts = append([]grpc.DialOption{}, opts...)
	}
	opts := append(append([]grpc.DialOption{}, s.credOpts...), grpc.WithChainUnaryInterceptor(s.interceptor(e, target)))
	return s.app.Dial(target, opts...)
}

// failCalls makes a connection whose every call fails with err, before
// anything is sent. Missing credentials are reported on the first call, not
// when dialing (which, like grpc.NewClient, never fails on what it cannot
// reach): a usage mistake is still reported as one, and what needs no
// call (--dry-run) still works without a PKI.
func failCalls(err error) []grpc.DialOption {
	return []grpc.DialOption{
		// Never used to send: the interceptor ends every call first.
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithChainUnaryInterceptor(func(context.Context, string, any, any, *grpc.ClientConn, grpc.UnaryInvoker, ...grpc.CallOption) error {
			return err
		}),
		grpc.WithChainStreamInterceptor(func(context.Context, *grpc.StreamDesc, *grpc.ClientConn, string, grpc.Streamer, ...grpc.CallOption) (grpc.ClientStream, error) {
			return nil, err
		}),
	}
}

// cmdToken prints a dev bearer token. It only reads the dev PKI: the stack
// that will verify the token is the one that created the key.
func cmdToken(fs *flag.FlagSet, s *session) func(context.Context, []string) error {
	var pki, roles, subject string
	s.app.pkiFlag(fs, &pki)
	fs.StringVar(&roles, "role", "", "role(s) of the dev policy, comma-separated: "+strings.Join(devpki.Roles(), ", "))
	fs.StringVar(&subject, "subject", "", "the token's subject (sub); default dev-ROLE")
	ttl := fs.Duration("ttl", time.Hour, "how long the token is valid")
	return func(_ context.Context, args []string) error {
		if err := needArgs(args, 0, ""); err != nil {
			return err
		}
		if err := required("role", roles); err != nil {
			return err
		}
		groups := splitList(roles)
		if slices.Contains(groups, "institution") {
			// Bound by name to one institution, never to a group any token
			// could claim.
			return usagef("--role institution: an institution's account is bound to its institution by name in the policy, not by a role in the token; "+
				"the dev policy binds the subject %s to %s: predikat token --role public --subject %s",
				strings.TrimPrefix(devpki.DevInstitutionAccount, "user:"), devpki.DevInstitution, strings.TrimPrefix(devpki.DevInstitutionAccount, "user:"))
		}
		if err := checkTokenGroups(devpki.At(pki), groups); err != nil {
			return err
		}
		if subject == "" {
			subject = "dev-" + strings.Join(groups, "+")
		}
		if *ttl <= 0 {
			return usagef("--ttl must be positive")
		}
		token, err := devpki.IssueToken(devpki.At(pki), subject, groups, *ttl)
		if err != nil {
			return err
		}
		_, err = fmt.Fprintln(s.out, token)
		return err
	}
}

// checkTokenGroups refuses a group that no binding of the dev policy
// gives a role: a token carrying only such a group (a typo such as
// "round-manger") would be issued and then refused on every call. The
// policy is the one the stack reads (edited or not); without one, the
// roles of the dev policy are the known ones.
func checkTokenGroups(pki *devpki.Files, groups []string) error {
	var known []string
	// The dev policy binds a group to every role but institution, which
	// it binds to an account by name.
	grants := func(g string) bool { return g != "institution" && slices.Contains(devpki.Roles(), g) }
	where := "the dev policy"
	if p, err := auth.LoadPolicy(pki.Policy()); err == nil {
		// A group some binding names, even one whose roles everyone holds
		// anonymously too (public, when the operator opens results).
		grants = p.BindsGroup
		where = pki.Policy()
	}
	for _, r := range devpki.Roles() {
		if grants(r) {
			known = append(known, r)
		}
	}
	for _, g := range groups {
		if !grants(g) {
			return usagef("--role %q: no binding of %s gives that group a role, so every call with the token would be refused; the roles it gives by group: %s",
				g, where, strings.Join(known, ", "))
		}
	}
	return nil
}

// splitList splits a comma-separated flag value, dropping empty items.
func splitList(v string) []string {
	var out []string
	for p := range strings.SplitSeq(v, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
