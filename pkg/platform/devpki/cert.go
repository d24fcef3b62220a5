package devpki

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"net"
	"net/url"
	"os"
	"slices"
	"time"
)

const (
	caLifetime   = 10 * 365 * 24 * time.Hour
	leafLifetime = 365 * 24 * time.Hour
	// backdate lets a certificate be valid on a machine whose clock is a
	// little behind the one that issued it.
	backdate = time.Hour
)

// leaf is a certificate the CA issues: a service's (server and client
// auth) or a user's (client auth only).
type leaf struct {
	name, uri         string
	certPath, keyPath string
	server            bool
}

func (f *Files) leaves() []leaf {
	var out []leaf
	for _, s := range Services {
		out = append(out, leaf{name: s, uri: ServiceURI(s), certPath: f.ServiceCert(s), keyPath: f.ServiceKey(s), server: true})
	}
	for _, c := range Clients {
		out = append(out, leaf{name: c, uri: UserURI(c), certPath: f.ClientCert(c), keyPath: f.ClientKey(c)})
	}
	// The dev NATS server's certificate: server auth only, it calls no one.
	out = append(out, leaf{name: NATSServerName, uri: NATSServerURI, certPath: f.NATSCert(), keyPath: f.NATSKey(), server: true})
	return out
}

// ensureCA loads the CA, or makes a new one when it is missing, unreadable
// or about to expire.
func (f *Files) ensureCA(log *slog.Logger, now time.Time) (*authority, error) {
	cert, key, err := loadPair(f.CA(), f.CAKey())
	if err == nil && cert.IsCA && usable(cert, now) {
		return &authority{cert: cert, key: key}, nil
	}
	key, err = newKey()
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		Subject:               pkix.Name{CommonName: CAName, Organization: []string{"Predikat dev"}},
		NotBefore:             now.Add(-backdate),
		NotAfter:              now.Add(caLifetime),
		IsCA:                  true,
		BasicConstraintsValid: true,
		MaxPathLenZero:        true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
	}
	cert, err = sign(tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, err
	}
	if err := writePair(f.CA(), f.CAKey(), cert, key); err != nil {
		return nil, err
	}
	log.Info("dev PKI: created a CA", "cert", f.CA(), "expires", cert.NotAfter.Format(time.DateOnly))
	return &authority{cert: cert, key: key}, nil
}

// ensureLeaf keeps l's certificate when it is still valid for l under ca,
// and issues a new one otherwise.
func (f *Files) ensureLeaf(ca *authority, l leaf, log *slog.Logger, now time.Time) error {
	cert, _, err := loadPair(l.certPath, l.keyPath)
	if err == nil && leafValid(cert, ca, l, now) {
		return nil
	}
	key, err := newKey()
	if err != nil {
		return err
	}
	cert, err = sign(leafTemplate(l, ca, now), ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		return err
	}
	if err := writePair(l.certPath, l.keyPath, cert, key); err != nil {
		return err
	}
	log.Info("dev PKI: issued a certificate", "identity", l.uri, "cert", l.certPath, "expires", cert.NotAfter.Format(time.DateOnly))
	return nil
}

func leafTemplate(l leaf, ca *authority, now time.Time) *x509.Certificate {
	u, _ := url.Parse(l.uri) // built from constants: always parses
	// A certificate cannot outlive its CA.
	notAfter := now.Add(leafLifetime)
	if notAfter.After(ca.cert.NotAfter) {
		notAfter = ca.cert.NotAfter
	}
	tmpl := &x509.Certificate{
		Subject:     pkix.Name{CommonName: l.name, Organization: []string{"Predikat dev"}},
		NotBefore:   now.Add(-backdate),
		NotAfter:    notAfter,
		URIs:        []*url.URL{u},
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	if l.server {
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}
		tmpl.DNSNames = []string{"localhost", l.name}
		tmpl.IPAddresses = []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback}
	}
	return tmpl
}

// leafValid reports whether cert is still good for l: signed by ca, not
// about to expire, and naming l's identity (a layout change re-issues).
func leafValid(cert *x509.Certificate, ca *authority, l leaf, now time.Time) bool {
	if !usable(cert, now) || cert.CheckSignatureFrom(ca.cert) != nil {
		return false
	}
	if len(cert.URIs) != 1 || cert.URIs[0].String() != l.uri {
		return false
	}
	return !l.server || slices.Contains(cert.ExtKeyUsage, x509.ExtKeyUsageServerAuth)
}

func usable(cert *x509.Certificate, now time.Time) bool {
	return !now.Before(cert.NotBefore) && now.Add(renewBefore).Before(cert.NotAfter)
}

func newKey() (*ecdsa.PrivateKey, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("devpki: generate key: %w", err)
	}
	return key, nil
}

func sign(tmpl, parent *x509.Certificate, pub *ecdsa.PublicKey, signer *ecdsa.PrivateKey) (*x509.Certificate, error) {
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, fmt.Errorf("devpki: serial: %w", err)
	}
	tmpl.SerialNumber = serial
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, pub, signer)
	if err != nil {
		return nil, fmt.Errorf("devpki: sign %s: %w", tmpl.Subject.CommonName, err)
	}
	return x509.ParseCertificate(der)
}

// writePair writes the key before the certificate: a crash in between
// leaves a certificate that does not match its key, which the next Ensure
// sees and re-issues.
func writePair(certPath, keyPath string, cert *x509.Certificate, key *ecdsa.PrivateKey) error {
	if err := writeKey(keyPath, key); err != nil {
		return err
	}
	return writeFile(certPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw}), 0o644)
}

func writeKey(path string, key *ecdsa.PrivateKey) error {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return fmt.Errorf("devpki: marshal key: %w", err)
	}
	return writeFile(path, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600)
}

// loadPair reads a certificate and its key and checks that they belong
// together.
func loadPair(certPath, keyPath string) (*x509.Certificate, *ecdsa.PrivateKey, error) {
	cert, err := loadCert(certPath)
	if err != nil {
		return nil, nil, err
	}
	key, err := loadKey(keyPath)
	if err != nil {
		return nil, nil, err
	}
	if !key.PublicKey.Equal(cert.PublicKey) {
		return nil, nil, fmt.Errorf("devpki: %s does not match %s", keyPath, certPath)
	}
	return cert, key, nil
}

func loadCert(path string) (*x509.Certificate, error) {
	block, err := readPEM(path, "CERTIFICATE")
	if err != nil {
		return nil, err
	}
	return x509.ParseCertificate(block.Bytes)
}

func loadKey(path string) (*ecdsa.PrivateKey, error) {
	block, err := readPEM(path, "PRIVATE KEY")
	if err != nil {
		return nil, err
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("devpki: %s: %w", path, err)
	}
	ec, ok := k.(*ecdsa.PrivateKey)
	if !ok || ec.Curve != elliptic.P256() {
		return nil, fmt.Errorf("devpki: %s is not an ECDSA P-256 key", path)
	}
	return ec, nil
}

func readPEM(path, typ string) (*pem.Block, error) {
	data, err := os.ReadFile(path) //nolint:gosec // a path inside the PKI directory
	if err != nil {
		return nil, fmt.Errorf("devpki: %w", err)
	}
	block, _ := pem.Decode(data)
	if block == nil || block.Type != typ {
		return nil, errors.New("devpki: " + path + ": no " + typ + " PEM block")
	}
	return block, nil
}
