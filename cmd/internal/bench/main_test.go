package bench

import (
	"os"
	"testing"
)

// TestMain lets the test binary serve as the echo process: the harness
// re-executes its own binary for it (see echoServerEnv).
func TestMain(m *testing.M) {
	ServeEchoIfAsked()
	os.Exit(m.Run())
}
