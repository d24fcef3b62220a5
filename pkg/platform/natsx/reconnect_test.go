package natsx

import (
	"testing"
	"time"
)

func TestReconnectDelayBacksOffWithinBounds(t *testing.T) {
	for attempts := -1; attempts < 100; attempts++ {
		want := reconnectBaseDelay << max(0, min(attempts-1, 16))
		if want > reconnectMaxDelay || attempts > 17 {
			want = reconnectMaxDelay
		}
		for range 50 {
			d := reconnectDelay(attempts)
			if d < want/2 || d > want {
				t.Fatalf("reconnectDelay(%d) = %s, want in [%s, %s]", attempts, d, want/2, want)
			}
		}
	}
	if reconnectDelay(1) > time.Second {
		t.Fatal("first retry is not quick")
	}
}
