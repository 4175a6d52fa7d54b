package main

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"syscall"
)

// clockTicks is Linux's USER_HZ, the unit of utime and stime in /proc/P/stat.
// It is 100 on every mainstream kernel build; reading it needs sysconf (cgo).
const clockTicks = 100

// procSample is one reading of a process's memory and CPU.
type procSample struct {
	RSSBytes   int64
	CPUSeconds float64
}

// readProc samples /proc/<pid>/status (VmRSS) and /proc/<pid>/stat (utime+stime).
func readProc(pid int) (procSample, error) {
	var s procSample
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return s, fmt.Errorf("read RSS of pid %d (is it running, on this machine?): %w", pid, err)
	}
	for line := range bytes.SplitSeq(status, []byte("\n")) {
		rest, ok := bytes.CutPrefix(line, []byte("VmRSS:"))
		if !ok {
			continue
		}
		f := bytes.Fields(rest)
		if len(f) < 1 {
			break
		}
		kb, err := strconv.ParseInt(string(f[0]), 10, 64)
		if err != nil {
			return s, fmt.Errorf("pid %d: VmRSS %q: %w", pid, rest, err)
		}
		s.RSSBytes = kb << 10
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return s, fmt.Errorf("read CPU of pid %d: %w", pid, err)
	}
	cpu, err := parseStatCPU(stat)
	if err != nil {
		return s, fmt.Errorf("pid %d: %w", pid, err)
	}
	s.CPUSeconds = cpu
	return s, nil
}

// parseStatCPU returns utime+stime in seconds from a /proc/P/stat line. The
// command name (field 2) may hold spaces and parentheses, so fields are
// counted from the last ')'.
func parseStatCPU(stat []byte) (float64, error) {
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, fmt.Errorf("stat %q: no command name", stat)
	}
	f := bytes.Fields(stat[i+1:])
	// f[0] is field 3 (state); utime and stime are fields 14 and 15.
	if len(f) < 13 {
		return 0, fmt.Errorf("stat: %d fields after the name, want at least 13", len(f))
	}
	ut, err1 := strconv.ParseInt(string(f[11]), 10, 64)
	st, err2 := strconv.ParseInt(string(f[12]), 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("stat: utime %q stime %q are not numbers", f[11], f[12])
	}
	return float64(ut+st) / clockTicks, nil
}

// sampleProcs sums readProc over pids.
func sampleProcs(pids []int) (procSample, error) {
	var sum procSample
	for _, p := range pids {
		s, err := readProc(p)
		if err != nil {
			return sum, err
		}
		sum.RSSBytes += s.RSSBytes
		sum.CPUSeconds += s.CPUSeconds
	}
	return sum, nil
}

// raiseNoFile lifts RLIMIT_NOFILE to its hard limit: every connection is a
// file descriptor, and the usual soft limit (1024) stops a run long before
// the ephemeral ports do. It returns the limit now in force.
func raiseNoFile() (uint64, error) {
	var r syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &r); err != nil {
		return 0, fmt.Errorf("getrlimit: %w", err)
	}
	if r.Cur < r.Max {
		r.Cur = r.Max
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &r); err != nil {
			return 0, fmt.Errorf("setrlimit NOFILE to %d: %w", r.Max, err)
		}
	}
	return r.Cur, nil
}
