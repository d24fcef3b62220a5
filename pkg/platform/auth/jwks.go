package auth

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// Bounds of the JWKS sources.
const (
	defaultRefreshEvery = 5 * time.Minute
	maxJWKSBytes        = 1 << 20
	fetchTimeout        = 10 * time.Second
)

// minRefetch rate-limits fetches triggered by tokens naming an unknown
// key: a flood of forged kids must not become a flood of requests to the
// identity provider. A variable so tests can shorten it.
var minRefetch = 10 * time.Second

// keySource yields the current key set; refresh asks for a newer one
// because a token named a key the set lacks.
type keySource interface {
	keys(ctx context.Context) (*jose.JSONWebKeySet, error)
	refresh(ctx context.Context) (*jose.JSONWebKeySet, error)
}

func parseJWKS(data []byte) (*jose.JSONWebKeySet, error) {
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(data, &set); err != nil {
		return nil, fmt.Errorf("parse JWKS: %w", err)
	}
	if len(set.Keys) == 0 {
		return nil, errors.New("parse JWKS: no keys")
	}
	return &set, nil
}

// fileKeys reads a JWKS file and re-reads it when its content changes
// (a mounted Secret or ConfigMap is swapped through a symlink, so the
// content is what is compared).
type fileKeys struct {
	path string

	mu      sync.Mutex
	raw     []byte
	set     *jose.JSONWebKeySet
	checked time.Time
}

// fileRecheck bounds how often a verification re-reads the file.
const fileRecheck = time.Second

func newFileKeys(path string) (*fileKeys, error) {
	f := &fileKeys{path: path}
	if _, err := f.load(true); err != nil {
		return nil, err
	}
	return f, nil
}

func (f *fileKeys) load(force bool) (*jose.JSONWebKeySet, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !force && time.Since(f.checked) < fileRecheck {
		return f.set, nil
	}
	f.checked = time.Now()
	data, err := os.ReadFile(f.path)
	if err != nil {
		return f.keep(fmt.Errorf("read JWKS file: %w", err))
	}
	if f.set != nil && bytes.Equal(data, f.raw) {
		return f.set, nil
	}
	set, err := parseJWKS(data)
	if err != nil {
		return f.keep(fmt.Errorf("%s: %w", f.path, err))
	}
	f.raw, f.set = data, set
	return set, nil
}

// keep returns the last good set when a re-read fails, so a file caught
// mid-write does not lock every caller out.
func (f *fileKeys) keep(err error) (*jose.JSONWebKeySet, error) {
	if f.set != nil {
		return f.set, nil
	}
	return nil, err
}

func (f *fileKeys) keys(context.Context) (*jose.JSONWebKeySet, error) { return f.load(false) }

func (f *fileKeys) refresh(context.Context) (*jose.JSONWebKeySet, error) { return f.load(true) }

// urlKeys fetches a JWKS over HTTP(S), refreshes it periodically, and on
// demand (an unknown kid) at most once per minRefetch.
type urlKeys struct {
	url    string
	every  time.Duration
	client *http.Client

	mu        sync.Mutex
	set       *jose.JSONWebKeySet
	fetched   time.Time
	attempted time.Time
}

func newURLKeys(ctx context.Context, url string, every time.Duration) (*urlKeys, error) {
	u := &urlKeys{url: url, every: every, client: &http.Client{Timeout: fetchTimeout}}
	if _, err := u.fetch(ctx); err != nil {
		return nil, err
	}
	return u, nil
}

func (u *urlKeys) fetch(ctx context.Context) (*jose.JSONWebKeySet, error) {
	u.attempted = time.Now()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.url, nil)
	if err != nil {
		return nil, fmt.Errorf("JWKS request: %w", err)
	}
	resp, err := u.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("fetch JWKS: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("fetch JWKS %s: status %s", u.url, resp.Status)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxJWKSBytes))
	if err != nil {
		return nil, fmt.Errorf("read JWKS %s: %w", u.url, err)
	}
	set, err := parseJWKS(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", u.url, err)
	}
	u.set, u.fetched = set, time.Now()
	return set, nil
}

// keys returns the set, refetching it when it is older than the refresh
// period; a failed refetch keeps the previous set in use.
func (u *urlKeys) keys(ctx context.Context) (*jose.JSONWebKeySet, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if time.Since(u.fetched) >= u.every && time.Since(u.attempted) >= minRefetch {
		if set, err := u.fetch(ctx); err == nil {
			return set, nil
		}
	}
	return u.set, nil
}

func (u *urlKeys) refresh(ctx context.Context) (*jose.JSONWebKeySet, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if time.Since(u.attempted) < minRefetch {
		return u.set, nil
	}
	if set, err := u.fetch(ctx); err == nil {
		return set, nil
	}
	return u.set, nil
}
