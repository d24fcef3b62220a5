//go:build !linux

package redisx

import "os/exec"

// setDeathSignal is a no-op where the kernel has no parent-death signal;
// StartLocal's context and Stop still end the child.
func setDeathSignal(*exec.Cmd) {}
