// Package devpki is the local public key infrastructure of a development
// stack: a CA, a certificate per service, client certificates for the CLI,
// a JWT signing key with its JWKS, a starting access policy, a certificate
// for the embedded NATS server and a password per NATS user, all kept
// in one directory (".predikat/pki" under "predikat dev").
//
// Nothing here is for production: the CA key sits next to the certificates
// it signs, so whoever can read the directory can mint any identity. It
// exists so that a laptop runs the same TLS 1.3, client-certificate and
// bearer-token checks as a cluster, with no setup.
package devpki

import (
	"crypto/ecdsa"
	"crypto/x509"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"
)

const (
	// Issuer is the "iss" of every dev token; the services' JWKS
	// verification expects it.
	Issuer = "https://predikat.local/dev"
	// Audience is the "aud" of every dev token.
	Audience = "predikat"

	// CAName is the dev CA's common name.
	CAName = "Predikat dev CA"
)

// Services are the services that get a certificate, each for serving and
// for calling the others.
var Services = []string{"registry", "assessment", "ranking"}

// Clients are the users that get a client certificate: admin is what the
// CLI presents by default; reader is there to try a restricted caller.
var Clients = []string{"admin", "reader"}

// ServiceURI is the identity (URI SAN) of a service's certificate.
func ServiceURI(name string) string { return "spiffe://predikat/service/" + name }

// UserURI is the identity (URI SAN) of a user's client certificate.
func UserURI(name string) string { return "spiffe://predikat/user/" + name }

// Files names the files of a dev PKI directory. Its methods only build
// paths; Ensure creates the files.
type Files struct {
	Dir string
}

// At names the files of the PKI in dir without touching the disk: for
// readers of a PKI that "predikat dev" (Ensure) created.
func At(dir string) *Files { return &Files{Dir: dir} }

func (f *Files) path(name string) string { return filepath.Join(f.Dir, name) }

// CA is the CA certificate (PEM): what clients and servers trust.
func (f *Files) CA() string { return f.path("ca.pem") }

// CAKey is the CA's private key (PEM, PKCS #8).
func (f *Files) CAKey() string { return f.path("ca-key.pem") }

// ServiceCert is the certificate of a service (PEM), for serving and for
// calling other services.
func (f *Files) ServiceCert(name string) string { return f.path(name + ".pem") }

// ServiceKey is the private key of ServiceCert.
func (f *Files) ServiceKey(name string) string { return f.path(name + "-key.pem") }

// ClientCert is the client certificate of a user (admin, reader).
func (f *Files) ClientCert(name string) string { return f.path(name + ".pem") }

// ClientKey is the private key of ClientCert.
func (f *Files) ClientKey(name string) string { return f.path(name + "-key.pem") }

// JWTKey is the ES256 token signing key (PEM, PKCS #8).
func (f *Files) JWTKey() string { return f.path("jwt-key.pem") }

// JWKS is the public key set the services verify tokens with.
func (f *Files) JWKS() string { return f.path("jwks.json") }

// Policy is the access policy (roles, bindings) the services enforce.
func (f *Files) Policy() string { return f.path("policy.yaml") }

// renewBefore counts a certificate that expires this soon as expired, so a
// stack started now does not see its certificates lapse the same day.
const renewBefore = 24 * time.Hour

// Ensure makes dir a complete dev PKI and returns its file names. The first
// call creates everything; later calls reuse what is there and regenerate
// only what is missing, unreadable, expired or no longer signed by the CA
// (a new CA re-issues every certificate). The policy file is written only
// when missing, so edits to it are kept. log may be nil.
func Ensure(dir string, log *slog.Logger) (*Files, error) {
	return ensure(dir, log, time.Now())
}

func ensure(dir string, log *slog.Logger, now time.Time) (*Files, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	f := At(dir)
	if err := ensureDir(dir); err != nil {
		return nil, err
	}
	ca, err := f.ensureCA(log, now)
	if err != nil {
		return nil, err
	}
	for _, l := range f.leaves() {
		if err := f.ensureLeaf(ca, l, log, now); err != nil {
			return nil, err
		}
	}
	if err := f.ensureJWT(log); err != nil {
		return nil, err
	}
	if err := f.ensurePolicy(log); err != nil {
		return nil, err
	}
	if err := f.ensureNATSPasswords(log); err != nil {
		return nil, err
	}
	return f, nil
}

// ensureDir creates dir private to its owner: it holds the CA key.
func ensureDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("devpki: %w", err)
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		return fmt.Errorf("devpki: %w", err)
	}
	return nil
}

// authority is the loaded CA: its certificate signs, its key is the signer.
type authority struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
}
