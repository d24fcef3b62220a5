package pagetoken

import (
	"testing"

	"github.com/predikat-id/predikat/pkg/platform/fault"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

func TestRoundTripAndRejects(t *testing.T) {
	fa, fb := Fingerprint(wrapperspb.String("63")), Fingerprint(wrapperspb.String("64"))
	if fa == fb {
		t.Fatal("different filters share a fingerprint")
	}
	tok := Encode(fa, "hulu sungai selatan\x00pemkab-hss")
	got, err := Decode(tok, fa)
	if err != nil || got != "hulu sungai selatan\x00pemkab-hss" {
		t.Fatalf("Decode = %q, %v", got, err)
	}
	if got, err := Decode("", fa); err != nil || got != "" {
		t.Fatalf("empty token = %q, %v", got, err)
	}
	for _, bad := range []string{"!!!", "bm90IGpzb24", Encode(fa, "")} {
		if _, err := Decode(bad, fa); !fault.Is(err, fault.Invalid) {
			t.Errorf("Decode(%q): want Invalid, got %v", bad, err)
		}
	}
	if _, err := Decode(tok, fb); !fault.Is(err, fault.Invalid) {
		t.Errorf("token reused with other filters: want Invalid, got %v", err)
	}
}
