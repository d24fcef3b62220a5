package redistest

import (
	"os/exec"
	"syscall"
)

// setDeathSignal asks the kernel to SIGKILL redis-server when the test
// binary dies, so a killed or timed-out `go test` leaves no server behind.
// (The signal is tied to the thread that started the child; Go keeps its
// threads alive unless a goroutine exits while locked to one, which nothing
// here does.)
func setDeathSignal(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
