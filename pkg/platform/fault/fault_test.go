package fault

import (
	"fmt"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

func TestWrappedFaultKeepsItsCode(t *testing.T) {
	for k, want := range codeOf {
		err := fmt.Errorf("create institution: %w", newf(k, "boom %d", 1))
		st, ok := status.FromError(err)
		if !ok || st.Code() != want {
			t.Errorf("kind %d: got %v (ok=%v), want %v", k, st.Code(), ok, want)
		}
		if !Is(err, k) {
			t.Errorf("kind %d: Is = false", k)
		}
	}
	if st, _ := status.FromError(fmt.Errorf("plain")); st.Code() != codes.Unknown {
		t.Errorf("plain error: got %v", st.Code())
	}
}
