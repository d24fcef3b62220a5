package redisx

import (
	"os/exec"
	"syscall"
)

// setDeathSignal asks the kernel to SIGKILL redis-server when its parent
// dies, so a killed dev stack leaves no server behind. (The signal is tied
// to the OS thread that started the child; Go keeps its threads alive
// unless a goroutine exits while locked to one, which nothing here does.)
func setDeathSignal(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
