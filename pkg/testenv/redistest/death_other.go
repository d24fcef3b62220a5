//go:build !linux

package redistest

import "os/exec"

// setDeathSignal is a no-op where the kernel has no parent-death signal; the
// t.Cleanup kill still covers every test that ends normally.
func setDeathSignal(*exec.Cmd) {}
