package bench

import (
	"os"
	"testing"
)

// TestMain lets the test binary serve as the echo process: the harness
// re-executes its own binary for it (see echoServerEnv).
func TestMain(m *testing.M) {
	ServeChildIfAsked()
	os.Exit(m.Run())
}
