package auth

import (
	"crypto/x509"
	"errors"
)

// certPrincipal names the holder of a verified client certificate: its
// first URI SAN (a SPIFFE ID), or else its subject CN.
func certPrincipal(leaf *x509.Certificate) (Principal, error) {
	for _, u := range leaf.URIs {
		if s := u.String(); s != "" {
			return Principal{ID: s, Via: ViaMTLS}, nil
		}
	}
	if cn := leaf.Subject.CommonName; cn != "" {
		return Principal{ID: "cn:" + cn, Via: ViaMTLS}, nil
	}
	return Principal{}, errors.New("client certificate names neither a URI SAN nor a common name")
}
