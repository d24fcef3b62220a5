// Package pagetoken makes opaque keyset page tokens. A token carries the sort
// key of the last item served and a fingerprint of the filters it was issued
// for, so a page never shifts when items are inserted before it (as offsets
// would) and a token cannot be replayed against other filters.
package pagetoken

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"

	"github.com/predikat-id/predikat/pkg/platform/fault"
	"google.golang.org/protobuf/proto"
)

type token struct {
	V      int    `json:"v"`
	Filter string `json:"f"`
	After  string `json:"a"`
}

// Fingerprint hashes the filter fields of a list request (pass a copy with
// page_size and page_token cleared).
func Fingerprint(filter proto.Message) string {
	b, _ := proto.MarshalOptions{Deterministic: true}.Marshal(filter)
	sum := sha256.Sum256(b)
	return base64.RawURLEncoding.EncodeToString(sum[:9])
}

// Encode returns the token for the page that starts after the key `after`.
func Encode(fingerprint, after string) string {
	b, _ := json.Marshal(token{V: 1, Filter: fingerprint, After: after})
	return base64.RawURLEncoding.EncodeToString(b)
}

// Decode returns the key to start after. An empty token is the first page.
func Decode(tok, fingerprint string) (string, error) {
	if tok == "" {
		return "", nil
	}
	b, err := base64.RawURLEncoding.DecodeString(tok)
	var t token
	if err != nil || json.Unmarshal(b, &t) != nil || t.V != 1 || t.After == "" {
		return "", fault.Invalidf("page_token is malformed: pass next_page_token from the previous response unchanged")
	}
	if t.Filter != fingerprint {
		return "", fault.Invalidf("page_token was issued for other filters: keep the filters of the first page, or start again without a token")
	}
	return t.After, nil
}

// DefaultPageSize is the page size of every List RPC whose caller names none.
const DefaultPageSize = 50
