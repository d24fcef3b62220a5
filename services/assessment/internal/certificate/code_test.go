package certificate

import (
	"errors"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

var codeShape = regexp.MustCompile(`^PKT-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}$`)

func TestCodeIsStableAndShaped(t *testing.T) {
	seen := map[string]string{}
	for i := 0; i < 2000; i++ {
		id := "award-" + strings.Repeat("x", i%7) + string(rune('a'+i%26)) + strconv.Itoa(i)
		c := Code(id)
		if !codeShape.MatchString(c) {
			t.Fatalf("Code(%q) = %q, not PKT-XXXX-XXXX-XXXX in Crockford base32", id, c)
		}
		if prev, ok := seen[c]; ok {
			t.Fatalf("Code(%q) = Code(%q) = %s", id, prev, c)
		}
		seen[c] = id
		back, err := ParseCode(c)
		if err != nil || back != c {
			t.Fatalf("ParseCode(Code(%q)) = %q, %v; want %q", id, back, err, c)
		}
	}
}

func TestCodePinned(t *testing.T) {
	// A code printed on paper must resolve for as long as the award
	// exists, so the derivation must never change silently. These are the
	// first 60 bits of SHA-256("predikat/certificate/verification-code/v1"
	// NUL id) in Crockford base32, computed apart from Code (with Python's
	// hashlib).
	tests := map[string]string{
		"":                                  "PKT-TEVY-4AK7-VEA6",
		"award-2024-ombudsman-hss-predikat": "PKT-M2CQ-DRWH-2DZG",
	}
	for id, want := range tests {
		if got := Code(id); got != want {
			t.Errorf("Code(%q) = %s, want %s", id, got, want)
		}
	}
}

func TestParseCodeNormalises(t *testing.T) {
	code := Code("award-2024-ombudsman-hss-predikat")
	body := strings.ReplaceAll(strings.TrimPrefix(code, "PKT-"), "-", "")
	confuse := strings.NewReplacer("0", "O", "1", "l")
	tests := []string{
		code,
		strings.ToLower(code),
		"PKT" + body,
		body,
		strings.ToLower(body),
		"  pkt " + body[:4] + " " + body[4:8] + " " + body[8:] + "\n",
		"PKT--" + body[:6] + "-" + body[6:],
		confuse.Replace(code),
		strings.ReplaceAll(code, "1", "I"),
		strings.ToLower(confuse.Replace(code)),
	}
	for _, in := range tests {
		got, err := ParseCode(in)
		if err != nil || got != code {
			t.Errorf("ParseCode(%q) = %q, %v; want %q", in, got, err, code)
		}
	}
	// O, I and L read as 0, 1, 1.
	got, err := ParseCode("PKT-OIL0-1234-5678")
	if err != nil || got != "PKT-0110-1234-5678" {
		t.Errorf("ParseCode(PKT-OIL0-1234-5678) = %q, %v", got, err)
	}
}

func TestParseCodeRefuses(t *testing.T) {
	tests := []struct{ in, rule string }{
		{"", "empty"},
		{"   - -", "empty"},
		{"PKT-1234-5678", "followed by 12 characters"},
		{"PKT-1234-5678-9ABC-D", "followed by 12 characters"},
		{"ABC-1234-5678-9ABC", "starts with PKT"},
		{"PKT-1234-5678-9ABU", "not in Crockford base32"},
		{"PKT-1234-5678-9AB*", "not in Crockford base32"},
		{"PKT-1234-5678-9ABé", "not in Crockford base32"},
		{"PKT_1234_5678_9ABC", "followed by 12 characters"},
	}
	for _, tt := range tests {
		got, err := ParseCode(tt.in)
		if err == nil {
			t.Errorf("ParseCode(%q) = %q, want an error", tt.in, got)
			continue
		}
		if !errors.Is(err, ErrMalformedCode) || !strings.Contains(err.Error(), tt.rule) {
			t.Errorf("ParseCode(%q) error = %v, want ErrMalformedCode naming %q", tt.in, err, tt.rule)
		}
	}
}
