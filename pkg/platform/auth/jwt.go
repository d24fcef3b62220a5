package auth

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// JWTConfig says which bearer tokens a server accepts.
type JWTConfig struct {
	// JWKSFile is a JWKS JSON file, re-read when its content changes.
	JWKSFile string
	// JWKSURL is an http(s) URL of a JWKS, fetched at start, refreshed every
	// RefreshEvery and when a token names an unknown key (rate-limited).
	JWKSURL string
	// RefreshEvery is the JWKSURL refresh period; default 5m.
	RefreshEvery time.Duration
	// Issuer is the required "iss".
	Issuer string
	// Audience must be one of the token's "aud".
	Audience string
	// Algorithms allowed; default RS256, ES256, EdDSA. "none" and the HMAC
	// algorithms are refused: a shared secret would let every service that
	// verifies tokens also mint them.
	Algorithms []string
	// Leeway tolerated on exp, nbf and iat; default 30s.
	Leeway time.Duration
}

// DefaultAlgorithms are the signature algorithms accepted when the
// configuration names none.
var DefaultAlgorithms = []string{"RS256", "ES256", "EdDSA"}

// JWTVerifier checks bearer tokens against a JWKS.
type JWTVerifier struct {
	src      keySource
	issuer   string
	audience string
	algs     []jose.SignatureAlgorithm
	leeway   time.Duration
	now      func() time.Time
}

// NewJWTVerifier validates cfg and loads the key set once, so a
// misconfigured server fails at start rather than on the first call.
func NewJWTVerifier(cfg JWTConfig) (*JWTVerifier, error) {
	if err := validateJWTConfig(cfg); err != nil {
		return nil, err
	}
	algs, err := allowedAlgorithms(cfg.Algorithms)
	if err != nil {
		return nil, err
	}
	src, err := newKeySource(cfg)
	if err != nil {
		return nil, err
	}
	leeway := cfg.Leeway
	if leeway == 0 {
		leeway = 30 * time.Second
	}
	return &JWTVerifier{
		src: src, issuer: cfg.Issuer, audience: cfg.Audience,
		algs: algs, leeway: leeway, now: time.Now,
	}, nil
}

func validateJWTConfig(cfg JWTConfig) error {
	switch {
	case cfg.Issuer == "":
		return errors.New("JWT config: issuer is required")
	case cfg.Audience == "":
		return errors.New("JWT config: audience is required")
	case (cfg.JWKSFile == "") == (cfg.JWKSURL == ""):
		return errors.New("JWT config: exactly one of JWKS file and JWKS URL is required")
	case cfg.Leeway < 0 || cfg.RefreshEvery < 0:
		return errors.New("JWT config: leeway and refresh period must not be negative")
	}
	return nil
}

func allowedAlgorithms(names []string) ([]jose.SignatureAlgorithm, error) {
	if len(names) == 0 {
		names = DefaultAlgorithms
	}
	algs := make([]jose.SignatureAlgorithm, 0, len(names))
	for _, n := range names {
		if strings.EqualFold(n, "none") || strings.HasPrefix(strings.ToUpper(n), "HS") {
			return nil, fmt.Errorf("JWT config: algorithm %q is never accepted", n)
		}
		if !knownAlgorithm(n) {
			return nil, fmt.Errorf("JWT config: unknown signature algorithm %q", n)
		}
		algs = append(algs, jose.SignatureAlgorithm(n))
	}
	return algs, nil
}

func knownAlgorithm(n string) bool {
	return slices.Contains([]jose.SignatureAlgorithm{
		jose.RS256, jose.RS384, jose.RS512, jose.PS256, jose.PS384, jose.PS512,
		jose.ES256, jose.ES384, jose.ES512, jose.EdDSA,
	}, jose.SignatureAlgorithm(n))
}

func newKeySource(cfg JWTConfig) (keySource, error) {
	if cfg.JWKSFile != "" {
		return newFileKeys(cfg.JWKSFile)
	}
	if !strings.HasPrefix(cfg.JWKSURL, "https://") && !strings.HasPrefix(cfg.JWKSURL, "http://") {
		return nil, fmt.Errorf("JWT config: JWKS URL %q is not http or https", cfg.JWKSURL)
	}
	every := cfg.RefreshEvery
	if every == 0 {
		every = defaultRefreshEvery
	}
	ctx, cancel := context.WithTimeout(context.Background(), fetchTimeout)
	defer cancel()
	return newURLKeys(ctx, cfg.JWKSURL, every)
}

// tokenClaims are the claims a Predikat token is read for.
type tokenClaims struct {
	jwt.Claims
	Groups []string `json:"groups"`
}

// Verify checks raw's signature against the key set, its algorithm, and
// its iss, aud, exp (required), nbf and iat claims; the principal is
// "user:"+sub with the token's groups.
func (v *JWTVerifier) Verify(ctx context.Context, raw string) (Principal, error) {
	tok, err := jwt.ParseSigned(raw, v.algs)
	if err != nil {
		return Principal{}, fmt.Errorf("malformed token or algorithm not allowed: %w", err)
	}
	if len(tok.Headers) != 1 {
		return Principal{}, errors.New("token must carry exactly one signature")
	}
	claims, err := v.verifySignature(ctx, tok)
	if err != nil {
		return Principal{}, err
	}
	if err := v.validateClaims(claims); err != nil {
		return Principal{}, err
	}
	return Principal{ID: "user:" + claims.Subject, Groups: claims.Groups, Via: ViaJWT}, nil
}

// verifySignature tries the keys the token may be signed with; if none
// matches its kid the set is refreshed once, since the issuer may have
// rotated keys since the last fetch.
func (v *JWTVerifier) verifySignature(ctx context.Context, tok *jwt.JSONWebToken) (*tokenClaims, error) {
	h := tok.Headers[0]
	set, err := v.src.keys(ctx)
	if err != nil {
		return nil, fmt.Errorf("key set unavailable: %w", err)
	}
	cands := candidateKeys(set, h)
	if len(cands) == 0 {
		if set, err = v.src.refresh(ctx); err == nil && set != nil {
			cands = candidateKeys(set, h)
		}
	}
	if len(cands) == 0 {
		return nil, fmt.Errorf("signature: no key in the key set for kid %q and alg %s", h.KeyID, h.Algorithm)
	}
	var last error
	for _, k := range cands {
		var c tokenClaims
		if last = tok.Claims(k.Key, &c); last == nil {
			return &c, nil
		}
	}
	return nil, fmt.Errorf("signature: %w", last)
}

// candidateKeys are the public signing keys of set that fit the header:
// the token's kid (or every key when it names none), and an alg and use
// compatible with the token's. Private or symmetric keys in a JWKS are
// never used: a verifier must not be able to sign.
func candidateKeys(set *jose.JSONWebKeySet, h jose.Header) []jose.JSONWebKey {
	var out []jose.JSONWebKey
	for _, k := range set.Keys {
		switch {
		case h.KeyID != "" && k.KeyID != h.KeyID,
			!k.IsPublic(),
			k.Algorithm != "" && k.Algorithm != h.Algorithm,
			k.Use != "" && k.Use != "sig":
			continue
		}
		out = append(out, k)
	}
	return out
}

func (v *JWTVerifier) validateClaims(c *tokenClaims) error {
	if c.Expiry == nil {
		return errors.New("expiry (exp) is required")
	}
	if c.Subject == "" {
		return errors.New("subject (sub) is required")
	}
	err := c.ValidateWithLeeway(jwt.Expected{
		Issuer:      v.issuer,
		AnyAudience: jwt.Audience{v.audience},
		Time:        v.now(),
	}, v.leeway)
	if err != nil {
		return claimError(err, c)
	}
	return nil
}

// claimError says plainly which claim failed, since the caller sees it.
func claimError(err error, c *tokenClaims) error {
	switch {
	case errors.Is(err, jwt.ErrExpired):
		return fmt.Errorf("token expired at %s", c.Expiry.Time().UTC().Format(time.RFC3339))
	case errors.Is(err, jwt.ErrInvalidIssuer):
		return fmt.Errorf("issuer (iss) %q is not the expected one", c.Issuer)
	case errors.Is(err, jwt.ErrInvalidAudience):
		return fmt.Errorf("audience (aud) %v does not include this service", []string(c.Audience))
	case errors.Is(err, jwt.ErrNotValidYet):
		return errors.New("token not valid yet (nbf)")
	case errors.Is(err, jwt.ErrIssuedInTheFuture):
		return errors.New("token issued in the future (iat)")
	}
	return fmt.Errorf("claims: %w", err)
}
