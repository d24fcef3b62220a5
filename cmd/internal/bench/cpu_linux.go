//go:build linux

package bench

import (
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// clockTick is USER_HZ, the unit of /proc's CPU times: 100 on every Linux
// the harness is meant for.
const clockTick = 10 * time.Millisecond

// processCPU returns the CPU time the stack has used (user and system):
// this process with the service processes it runs (--processes), and the
// redis-server child apart; children at clock-tick resolution.
func processCPU() (self, redis time.Duration) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err == nil {
		self = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	me := os.Getpid()
	for _, pid := range childPIDs(me) {
		d := time.Duration(procTicks(pid)) * clockTick
		if isRedis(pid) {
			redis += d
		} else {
			self += d
		}
	}
	return self, redis
}

func isRedis(pid string) bool {
	b, err := os.ReadFile("/proc/" + pid + "/comm")
	return err == nil && strings.HasPrefix(strings.TrimSpace(string(b)), "redis-server")
}

func childPIDs(parent int) []string {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var out []string
	for _, e := range ents {
		if _, err := strconv.Atoi(e.Name()); err == nil && ppid(e.Name()) == parent {
			out = append(out, e.Name())
		}
	}
	return out
}

// cpuTicks returns the machine's busy and total CPU ticks (/proc/stat) and
// the ticks spent by this process and its children still running (the
// redis-server), so a cell can tell how much of the machine other
// processes took while it ran.
func cpuTicks() (busy, total, ours int64, ok bool) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, 0, 0, false
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 8 || f[0] != "cpu" {
		return 0, 0, 0, false
	}
	for i, v := range f[1:] {
		n, _ := strconv.ParseInt(v, 10, 64)
		total += n
		if i != 3 && i != 4 { // idle, iowait
			busy += n
		}
	}
	self := os.Getpid()
	ours = procTicks(strconv.Itoa(self))
	for _, pid := range childPIDs(self) {
		ours += procTicks(pid)
	}
	return busy, total, ours, true
}

// statFields returns the fields of /proc/pid/stat after the command name.
func statFields(pid string) []string {
	b, err := os.ReadFile("/proc/" + pid + "/stat")
	if err != nil {
		return nil
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return nil
	}
	return strings.Fields(s[i+1:])
}

func ppid(pid string) int {
	f := statFields(pid)
	if len(f) < 2 {
		return 0
	}
	n, _ := strconv.Atoi(f[1])
	return n
}

// procTicks is utime+stime of a process (fields 14 and 15 of stat).
func procTicks(pid string) int64 {
	f := statFields(pid)
	if len(f) < 13 {
		return 0
	}
	u, _ := strconv.ParseInt(f[11], 10, 64)
	s, _ := strconv.ParseInt(f[12], 10, 64)
	return u + s
}
