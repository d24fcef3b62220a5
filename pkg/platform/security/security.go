// Package security is how a service proves who it is and decides who may
// call it: its certificate (served on its port and presented to the
// registry), the CA its callers' certificates must chain to, the JWKS of
// bearer tokens, and the access policy. Every service takes the same flags,
// and none starts without a certificate and a policy: there is no insecure
// mode to forget to switch off.
package security

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/predikat-id/predikat/pkg/platform/auth"
	"github.com/predikat-id/predikat/pkg/platform/config"
	"github.com/predikat-id/predikat/pkg/platform/devpki"
	"github.com/predikat-id/predikat/pkg/platform/grpcserver"
	"google.golang.org/grpc"
)

// DefaultPolicyPoll is how often the policy file is re-read.
const DefaultPolicyPoll = 5 * time.Second

// Config is a service's identity and access settings.
type Config struct {
	// CertFile and KeyFile are the service's certificate and key (PEM).
	CertFile, KeyFile string
	// CAFile is the CA (PEM) that signs callers' client certificates and the
	// other services' server certificates.
	CAFile string
	// PolicyFile is the access policy (YAML), re-read every PolicyPoll.
	PolicyFile string
	PolicyPoll time.Duration
	// JWT configures bearer tokens; no JWKS means tokens are refused.
	JWT auth.JWTConfig
	// HealthAddr is the plaintext health port for probes ("" for none).
	HealthAddr string
}

// Flags registers the settings on fs, with PREDIKAT_* environment defaults.
func (c *Config) Flags(fs *flag.FlagSet) {
	fs.StringVar(&c.CertFile, "tls-cert", config.Env("PREDIKAT_TLS_CERT", ""), "this service's certificate, PEM (env PREDIKAT_TLS_CERT)")
	fs.StringVar(&c.KeyFile, "tls-key", config.Env("PREDIKAT_TLS_KEY", ""), "its private key, PEM (env PREDIKAT_TLS_KEY)")
	fs.StringVar(&c.CAFile, "tls-ca", config.Env("PREDIKAT_TLS_CA", ""), "CA of client and peer certificates, PEM (env PREDIKAT_TLS_CA)")
	fs.StringVar(&c.PolicyFile, "policy", config.Env("PREDIKAT_POLICY", ""), "access policy, YAML; re-read when it changes (env PREDIKAT_POLICY)")
	fs.DurationVar(&c.PolicyPoll, "policy-poll", DefaultPolicyPoll, "how often the policy file is re-read")
	fs.StringVar(&c.JWT.JWKSFile, "jwks-file", config.Env("PREDIKAT_JWKS_FILE", ""), "JWKS of bearer tokens, a file (env PREDIKAT_JWKS_FILE)")
	fs.StringVar(&c.JWT.JWKSURL, "jwks-url", config.Env("PREDIKAT_JWKS_URL", ""), "or a URL (env PREDIKAT_JWKS_URL)")
	fs.StringVar(&c.JWT.Issuer, "jwt-issuer", config.Env("PREDIKAT_JWT_ISSUER", ""), "required issuer of bearer tokens (env PREDIKAT_JWT_ISSUER)")
	fs.StringVar(&c.JWT.Audience, "jwt-audience", config.Env("PREDIKAT_JWT_AUDIENCE", ""), "required audience of bearer tokens (env PREDIKAT_JWT_AUDIENCE)")
	fs.StringVar(&c.HealthAddr, "health-addr", config.Env("PREDIKAT_HEALTH_ADDR", ""), "plaintext port serving gRPC health alone, for probes (env PREDIKAT_HEALTH_ADDR)")
}

// Validate names every missing setting.
func (c Config) Validate() error {
	var missing []string
	for _, f := range []struct{ v, flag string }{
		{c.CertFile, "--tls-cert"}, {c.KeyFile, "--tls-key"}, {c.CAFile, "--tls-ca"}, {c.PolicyFile, "--policy"},
	} {
		if f.v == "" {
			missing = append(missing, f.flag)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("security: %s required: every port is TLS-only and every call is checked against the policy", strings.Join(missing, ", "))
	}
	if (c.JWT.JWKSFile != "" || c.JWT.JWKSURL != "") && (c.JWT.Issuer == "" || c.JWT.Audience == "") {
		return errors.New("security: a JWKS needs --jwt-issuer and --jwt-audience: tokens are checked against both")
	}
	return nil
}

// Server returns the options that make a gRPC port TLS-only, authenticate
// every caller and authorize every call against the policy, which it keeps
// current until ctx ends. opts give the interceptors what only the service
// knows (where an institution lies, for bindings scoped to provinces).
func (c Config) Server(ctx context.Context, log *slog.Logger, opts ...auth.Option) (Serving, error) {
	if err := c.Validate(); err != nil {
		return Serving{}, err
	}
	tlsCfg, err := auth.ServerTLS(c.CertFile, c.KeyFile, c.CAFile)
	if err != nil {
		return Serving{}, fmt.Errorf("security: server TLS: %w", err)
	}
	var verifier *auth.JWTVerifier
	if c.JWT.JWKSFile != "" || c.JWT.JWKSURL != "" {
		if verifier, err = auth.NewJWTVerifier(c.JWT); err != nil {
			return Serving{}, fmt.Errorf("security: bearer tokens: %w", err)
		}
	}
	poll := c.PolicyPoll
	if poll <= 0 {
		poll = DefaultPolicyPoll
	}
	policy, err := auth.WatchPolicy(ctx, c.PolicyFile, poll, log)
	if err != nil {
		return Serving{}, fmt.Errorf("security: %w", err)
	}
	authn := auth.NewAuthenticator(verifier)
	return Serving{
		Apply: func(o *grpcserver.Options) {
			o.TLS = tlsCfg
			o.Unary = append(o.Unary, auth.UnaryServerInterceptor(authn, policy, opts...))
			o.Stream = append(o.Stream, auth.StreamServerInterceptor(authn, policy, opts...))
			o.HealthAddr = c.HealthAddr
		},
	}, nil
}

// Serving carries the server settings to grpcserver.New.
type Serving struct {
	// Apply sets TLS, the auth interceptors and the health port on o.
	Apply func(o *grpcserver.Options)
}

// Client is how the service calls its peers: with its own certificate.
func (c Config) Client() auth.ClientCredentials {
	return auth.ClientCredentials{CAFile: c.CAFile, CertFile: c.CertFile, KeyFile: c.KeyFile}
}

// Dial connects to a peer service with the service's own certificate.
func (c Config) Dial(target string) (*grpc.ClientConn, error) { return DialWith(c.Client(), target) }

// DialWith connects to target presenting creds: the one way every client of
// the project (services, CLI harnesses, tests) dials a Predikat port.
func DialWith(creds auth.ClientCredentials, target string) (*grpc.ClientConn, error) {
	opts, err := creds.DialOptions()
	if err != nil {
		return nil, fmt.Errorf("security: client credentials: %w", err)
	}
	return grpcserver.Dial(target, opts...)
}

// CheckDeclared refuses a server one of whose methods states no access
// rule: such a method could only ever be denied, or, worse, be let through
// by a later change of the interceptor.
func CheckDeclared(s *grpc.Server) error {
	if err := auth.CheckDeclared(s.GetServiceInfo()); err != nil {
		return fmt.Errorf("security: %w", err)
	}
	return nil
}

// Dev is the configuration of a service on the dev PKI that make run, the
// benchmark and the tests create (devpki.Ensure): its certificate, the dev
// CA, the dev policy and the dev token key.
func Dev(f *devpki.Files, service string) Config {
	return Config{
		CertFile: f.ServiceCert(service), KeyFile: f.ServiceKey(service), CAFile: f.CA(),
		PolicyFile: f.Policy(), PolicyPoll: time.Second,
		JWT: auth.JWTConfig{JWKSFile: f.JWKS(), Issuer: devpki.Issuer, Audience: devpki.Audience},
	}
}

// DevClient is a dev user's credentials (devpki's "admin" or "reader").
func DevClient(f *devpki.Files, user string) auth.ClientCredentials {
	return auth.ClientCredentials{CAFile: f.CA(), CertFile: f.ClientCert(user), KeyFile: f.ClientKey(user)}
}
