package stack

import (
	"os/exec"
	"syscall"
)

// setDeathSignal kills a service process when the harness dies without
// stopping it (a test binary killed on timeout), so none outlives it.
func setDeathSignal(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
