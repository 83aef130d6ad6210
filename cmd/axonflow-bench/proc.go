package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// clockTicks is USER_HZ, the unit of utime/stime in /proc/<pid>/stat and of
// /proc/stat. It is 100 on every Linux architecture Go supports (the kernel
// ABI fixes it; sysconf(_SC_CLK_TCK) returns it).
const clockTicks = 100

// procCPU returns utime+stime of pid from /proc/<pid>/stat.
func procCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	return parseStatCPU(b)
}

// parseStatCPU reads utime (field 14) and stime (field 15) of a
// /proc/<pid>/stat line. The command name (field 2) is in parentheses and
// may contain spaces, so fields are counted after the last ')'.
func parseStatCPU(b []byte) (time.Duration, error) {
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, fmt.Errorf("malformed stat line %q", b)
	}
	f := strings.Fields(string(b[i+1:]))
	// f[0] is field 3 (state), so field k is f[k-3].
	if len(f) < 13 {
		return 0, fmt.Errorf("stat line has %d fields after the name", len(f))
	}
	ut, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("malformed utime/stime %q %q", f[11], f[12])
	}
	return ticks(ut + st), nil
}

func ticks(n int64) time.Duration { return time.Duration(n) * time.Second / clockTicks }

// procMem returns VmRSS and VmHWM (peak RSS) of pid in bytes.
func procMem(pid int) (rss, hwm int64, err error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0, err
	}
	return parseStatusMem(b)
}

// parseStatusMem reads VmRSS and VmHWM ("VmHWM:   12345 kB") of a
// /proc/<pid>/status file, in bytes.
func parseStatusMem(b []byte) (rss, hwm int64, err error) {
	sc := bufio.NewScanner(bytes.NewReader(b))
	found := 0
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok || (k != "VmRSS" && k != "VmHWM") {
			continue
		}
		f := strings.Fields(v)
		if len(f) != 2 || f[1] != "kB" {
			return 0, 0, fmt.Errorf("malformed %s line %q", k, sc.Text())
		}
		n, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			return 0, 0, fmt.Errorf("malformed %s line %q", k, sc.Text())
		}
		if k == "VmRSS" {
			rss = n << 10
		} else {
			hwm = n << 10
		}
		found++
	}
	if found != 2 {
		return 0, 0, fmt.Errorf("VmRSS/VmHWM not found (kernel thread or exited process?)")
	}
	return rss, hwm, nil
}

// resetPeakRSS resets pid's VmHWM to its current RSS (Linux ≥ 4.0: writing
// 5 to /proc/<pid>/clear_refs), so each phase reports its own peak. It needs
// the right to ptrace pid (same user); the caller falls back to the
// lifetime peak when it fails.
func resetPeakRSS(pid int) error {
	return os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", pid), []byte("5"), 0)
}

// machineCPU returns the busy and total time of all CPUs from /proc/stat
// (busy = everything but idle and iowait), and the number of CPUs.
func machineCPU() (busy, total time.Duration, ncpu int, err error) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, 0, 0, err
	}
	return parseProcStat(b)
}

func parseProcStat(b []byte) (busy, total time.Duration, ncpu int, err error) {
	sc := bufio.NewScanner(bytes.NewReader(b))
	seen := false
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "cpu ") {
			f := strings.Fields(line)[1:]
			var sum, idle int64
			for i, s := range f {
				n, err := strconv.ParseInt(s, 10, 64)
				if err != nil {
					return 0, 0, 0, fmt.Errorf("malformed /proc/stat cpu line %q", line)
				}
				// guest and guest_nice (fields 9, 10) are already in user/nice.
				if i >= 8 {
					continue
				}
				sum += n
				if i == 3 || i == 4 { // idle, iowait
					idle += n
				}
			}
			busy, total, seen = ticks(sum-idle), ticks(sum), true
		} else if strings.HasPrefix(line, "cpu") {
			ncpu++
		}
	}
	if !seen {
		return 0, 0, 0, fmt.Errorf("no cpu line in /proc/stat")
	}
	return busy, total, ncpu, nil
}

// selfCPU returns the user+system CPU time of this process (the load
// generator).
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
