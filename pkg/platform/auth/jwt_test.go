package auth

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

func hs256Token(t *testing.T) string {
	t.Helper()
	return signWith(t, jose.SigningKey{Algorithm: jose.HS256, Key: []byte("0123456789abcdef0123456789abcdef")}, "k1", validClaims("alice"))
}

func noneToken(claims map[string]any) string {
	enc := func(v any) string {
		b, _ := json.Marshal(v)
		return base64.RawURLEncoding.EncodeToString(b)
	}
	return enc(map[string]string{"alg": "none", "typ": "JWT", "kid": "k1"}) + "." + enc(claims) + "."
}

func TestJWTConfigRefusesWeakAlgorithms(t *testing.T) {
	for _, alg := range []string{"none", "HS256", "hs512", "XX1"} {
		_, err := NewJWTVerifier(JWTConfig{JWKSFile: "x", Issuer: testIss, Audience: testAud, Algorithms: []string{alg}})
		if err == nil || !strings.Contains(err.Error(), "algorithm") {
			t.Fatalf("%s: got %v", alg, err)
		}
	}
	if _, err := NewJWTVerifier(JWTConfig{JWKSFile: "x", Audience: testAud}); err == nil {
		t.Fatal("issuer not required")
	}
}

func TestJWKSFileReloadsOnChange(t *testing.T) {
	path := t.TempDir() + "/jwks.json"
	old, rotated := newIssuer(t, "k1"), newIssuer(t, "k2")
	writeFile(t, path, old.jwks(t))
	v, err := NewJWTVerifier(JWTConfig{JWKSFile: path, Issuer: testIss, Audience: testAud})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(context.Background(), old.sign(t, validClaims("a"))); err != nil {
		t.Fatal(err)
	}
	writeFile(t, path, rotated.jwks(t))
	// An unknown kid forces a re-read, so the rotated key works at once.
	p, err := v.Verify(context.Background(), rotated.sign(t, validClaims("b")))
	if err != nil || p.ID != "user:b" {
		t.Fatalf("%+v %v", p, err)
	}
}

func TestJWKSURLRefreshesOnUnknownKid(t *testing.T) {
	saved := minRefetch
	minRefetch = 0
	t.Cleanup(func() { minRefetch = saved })
	old, rotated := newIssuer(t, "k1"), newIssuer(t, "k2")
	var current atomic.Pointer[[]byte]
	data := old.jwks(t)
	current.Store(&data)
	var fetches atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		fetches.Add(1)
		_, _ = w.Write(*current.Load())
	}))
	defer srv.Close()
	v, err := NewJWTVerifier(JWTConfig{JWKSURL: srv.URL, Issuer: testIss, Audience: testAud, RefreshEvery: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(context.Background(), old.sign(t, validClaims("a"))); err != nil {
		t.Fatal(err)
	}
	if n := fetches.Load(); n != 1 {
		t.Fatalf("fetched %d times, want 1 (cached)", n)
	}
	data = rotated.jwks(t)
	current.Store(&data)
	if _, err := v.Verify(context.Background(), rotated.sign(t, validClaims("b"))); err != nil {
		t.Fatal(err)
	}
	if n := fetches.Load(); n != 2 {
		t.Fatalf("fetched %d times, want 2", n)
	}
}

func TestJWTLeeway(t *testing.T) {
	iss := newIssuer(t, "k1")
	path := t.TempDir() + "/jwks.json"
	writeFile(t, path, iss.jwks(t))
	v, err := NewJWTVerifier(JWTConfig{JWKSFile: path, Issuer: testIss, Audience: testAud})
	if err != nil {
		t.Fatal(err)
	}
	c := validClaims("a")
	c["exp"] = time.Now().Add(-10 * time.Second).Unix()
	if _, err := v.Verify(context.Background(), iss.sign(t, c)); err != nil {
		t.Fatalf("within the default 30s leeway: %v", err)
	}
	c["groups"] = "not-a-list"
	if _, err := v.Verify(context.Background(), iss.sign(t, c)); err == nil {
		t.Fatal("groups as a string accepted")
	}
}
