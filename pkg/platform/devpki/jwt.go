package devpki

import (
	"crypto"
	"crypto/ecdsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// ensureJWT keeps the signing key (or makes one) and writes the JWKS that
// matches it.
func (f *Files) ensureJWT(log *slog.Logger) error {
	key, err := loadKey(f.JWTKey())
	if err != nil {
		if key, err = newKey(); err != nil {
			return err
		}
		if err := writeKey(f.JWTKey(), key); err != nil {
			return err
		}
		log.Info("dev PKI: created a token signing key", "key", f.JWTKey())
	}
	kid, err := keyID(key)
	if err != nil {
		return err
	}
	set := jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{
		Key: &key.PublicKey, KeyID: kid, Algorithm: string(jose.ES256), Use: "sig",
	}}}
	data, err := json.MarshalIndent(set, "", "  ")
	if err != nil {
		return fmt.Errorf("devpki: JWKS: %w", err)
	}
	written, err := writeIfChanged(f.JWKS(), append(data, '\n'), 0o644)
	if written {
		log.Info("dev PKI: wrote the JWKS", "jwks", f.JWKS(), "kid", kid)
	}
	return err
}

// keyID is the key's RFC 7638 thumbprint: derived from the key, so it needs
// no file of its own and changes exactly when the key does.
func keyID(key *ecdsa.PrivateKey) (string, error) {
	jwk := jose.JSONWebKey{Key: &key.PublicKey}
	sum, err := jwk.Thumbprint(crypto.SHA256)
	if err != nil {
		return "", fmt.Errorf("devpki: key id: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(sum), nil
}

// groupsClaim carries the caller's groups; the policy binds groups to roles.
type groupsClaim struct {
	Groups []string `json:"groups"`
}

// IssueToken signs a dev bearer token (ES256, with the key's kid in the
// header) for subject, carrying groups, valid from now for ttl, with the
// dev Issuer and Audience. It reads the signing key of f, which Ensure
// created.
func IssueToken(f *Files, subject string, groups []string, ttl time.Duration) (string, error) {
	if subject == "" {
		return "", errors.New("devpki: a token needs a subject")
	}
	if ttl <= 0 {
		return "", fmt.Errorf("devpki: token lifetime %v is not positive", ttl)
	}
	key, err := loadKey(f.JWTKey())
	if err != nil {
		return "", fmt.Errorf("%w (start the dev stack, \"make run\", to create the dev PKI)", err)
	}
	kid, err := keyID(key)
	if err != nil {
		return "", err
	}
	signer, err := jose.NewSigner(
		jose.SigningKey{Algorithm: jose.ES256, Key: jose.JSONWebKey{Key: key, KeyID: kid}},
		(&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		return "", fmt.Errorf("devpki: signer: %w", err)
	}
	now := time.Now()
	claims := jwt.Claims{
		Issuer:    Issuer,
		Audience:  jwt.Audience{Audience},
		Subject:   subject,
		IssuedAt:  jwt.NewNumericDate(now),
		NotBefore: jwt.NewNumericDate(now),
		Expiry:    jwt.NewNumericDate(now.Add(ttl)),
	}
	if groups == nil {
		groups = []string{}
	}
	token, err := jwt.Signed(signer).Claims(claims).Claims(groupsClaim{Groups: groups}).Serialize()
	if err != nil {
		return "", fmt.Errorf("devpki: sign token: %w", err)
	}
	return token, nil
}
