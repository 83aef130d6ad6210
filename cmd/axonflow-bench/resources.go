package main

import (
	"sync"
	"time"
)

// cpuUsage is the CPU time spent during one measurement, by process. A
// negative value means unknown (no pid given). Durations are CPU time;
// divide by Wall for cores in use.
type cpuUsage struct {
	Wall    time.Duration `json:"wall_ns"`
	Server  time.Duration `json:"server_cpu_ns"`
	Redis   time.Duration `json:"redis_cpu_ns"`
	Loadgen time.Duration `json:"loadgen_cpu_ns"`
	// Machine is the busy time of all CPUs (from /proc/stat); Machine minus
	// the three above is what other processes on the machine used.
	Machine time.Duration `json:"machine_busy_ns"`
	NCPU    int           `json:"ncpu"`
}

// cores returns d as a number of CPUs busy over the wall time (-1 when d is
// unknown).
func (c cpuUsage) cores(d time.Duration) float64 {
	if d < 0 || c.Wall <= 0 {
		return -1
	}
	return d.Seconds() / c.Wall.Seconds()
}

// other is the CPU time of processes other than server, Redis and the load
// generator (never negative; unknown parts count as zero).
func (c cpuUsage) other() time.Duration {
	o := c.Machine - max(c.Server, 0) - max(c.Redis, 0) - c.Loadgen
	return max(o, 0)
}

// rssSample is the server's resident memory at one point of a phase.
type rssSample struct {
	At       time.Duration `json:"at_ns"`    // since the phase started
	Progress int           `json:"progress"` // e.g. users imported so far
	RSS      int64         `json:"rss_bytes"`
}

// monitor measures CPU of the server, Redis and this process, the machine's
// busy time, and samples the server's RSS, between start and stop.
type monitor struct {
	serverPid, redisPid int
	redisCPU            func() (time.Duration, bool) // when redisPid is 0 (INFO)
	t0                  time.Time
	srv0, red0, self0   time.Duration
	busy0               time.Duration
	ncpu                int

	peakReset bool
	stopc     chan struct{}
	done      chan struct{}
	mu        sync.Mutex
	samples   []rssSample
	maxRSS    int64
}

// startCPU starts measuring; pids of 0 are unknown.
func startCPU(serverPid, redisPid int) *monitor {
	return startMonitor(serverPid, redisPid, nil, 0, nil)
}

// startMonitor starts measuring; with a server pid it also resets the
// server's peak RSS and samples its RSS every interval (with progress()
// recorded beside each sample, when given).
func startMonitor(serverPid, redisPid int, redisCPU func() (time.Duration, bool), interval time.Duration, progress func() int) *monitor {
	m := &monitor{serverPid: serverPid, redisPid: redisPid, redisCPU: redisCPU}
	if serverPid > 0 {
		m.peakReset = resetPeakRSS(serverPid) == nil
		m.srv0, _ = procCPU(serverPid)
	}
	m.red0 = m.readRedisCPU()
	m.busy0, _, m.ncpu, _ = machineCPU()
	m.self0 = selfCPU()
	m.t0 = time.Now()
	if serverPid > 0 && interval > 0 {
		m.stopc, m.done = make(chan struct{}), make(chan struct{})
		go m.sample(interval, progress)
	}
	return m
}

func (m *monitor) readRedisCPU() time.Duration {
	if m.redisPid > 0 {
		if d, err := procCPU(m.redisPid); err == nil {
			return d
		}
	}
	if m.redisCPU != nil {
		if d, ok := m.redisCPU(); ok {
			return d
		}
	}
	return -1
}

func (m *monitor) sample(interval time.Duration, progress func() int) {
	defer close(m.done)
	tk := time.NewTicker(interval)
	defer tk.Stop()
	take := func() {
		rss, _, err := procMem(m.serverPid)
		if err != nil {
			return
		}
		s := rssSample{At: time.Since(m.t0), RSS: rss}
		if progress != nil {
			s.Progress = progress()
		}
		m.mu.Lock()
		m.samples = append(m.samples, s)
		m.maxRSS = max(m.maxRSS, rss)
		m.mu.Unlock()
	}
	take()
	for {
		select {
		case <-m.stopc:
			take()
			return
		case <-tk.C:
			take()
		}
	}
}

// stop ends the measurement.
func (m *monitor) stop() cpuUsage {
	u := cpuUsage{Wall: time.Since(m.t0), Server: -1, Redis: -1, NCPU: m.ncpu}
	u.Loadgen = selfCPU() - m.self0
	if busy, _, _, err := machineCPU(); err == nil {
		u.Machine = busy - m.busy0
	}
	if m.serverPid > 0 {
		if d, err := procCPU(m.serverPid); err == nil {
			u.Server = d - m.srv0
		}
	}
	if r := m.readRedisCPU(); r >= 0 && m.red0 >= 0 {
		u.Redis = r - m.red0
	}
	if m.stopc != nil {
		close(m.stopc)
		<-m.done
	}
	return u
}

// peakRSS is the server's peak RSS during the measurement: VmHWM when it
// could be reset at the start (exact), else the largest sample, else the
// lifetime VmHWM; the bool reports whether the figure covers only this
// measurement.
func (m *monitor) peakRSS() (int64, bool) {
	if m.serverPid <= 0 {
		return 0, false
	}
	_, hwm, err := procMem(m.serverPid)
	if err == nil && m.peakReset {
		return hwm, true
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.maxRSS > 0 && err != nil {
		return m.maxRSS, true
	}
	return hwm, false
}

func (m *monitor) rssSamples() []rssSample {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]rssSample(nil), m.samples...)
}
