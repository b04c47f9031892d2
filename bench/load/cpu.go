package main

import (
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"
)

// cpuSample is the CPU time used so far by the server, by this generator
// and by the whole machine, so that a run says where the cores went: on a
// machine of two cores, a generator or another process taking one of them
// is part of the latency measured.
type cpuSample struct {
	server, self, machine       float64 // seconds
	serverOK, selfOK, machineOK bool
	cores                       int // the machine's, whatever this process may use
}

// takeCPU samples the server's process_cpu_seconds_total, this process's
// CPU time and the machine's busy time (Linux's /proc/stat).
func takeCPU(c *http.Client, base string) cpuSample {
	var s cpuSample
	var err error
	s.server, err = serverMetric(c, base, "process_cpu_seconds_total")
	s.serverOK = err == nil
	s.self, s.selfOK = selfCPU()
	s.machine, s.cores, s.machineOK = machineBusy()
	return s
}

// since formats the cores each used between s0 and s, over elapsed.
func (s cpuSample) since(s0 cpuSample, elapsed time.Duration) string {
	cores := func(a, b float64) float64 { return (a - b) / elapsed.Seconds() }
	var parts []string
	if s.serverOK && s0.serverOK {
		parts = append(parts, fmt.Sprintf("server %.2f cores", cores(s.server, s0.server)))
	}
	if s.selfOK && s0.selfOK {
		parts = append(parts, fmt.Sprintf("generator %.2f", cores(s.self, s0.self)))
	}
	if s.machineOK && s0.machineOK {
		busy := cores(s.machine, s0.machine)
		if s.serverOK && s.selfOK {
			// Negative within the clock's rounding when nothing else ran.
			other := busy - cores(s.server, s0.server) - cores(s.self, s0.self)
			parts = append(parts, fmt.Sprintf("other processes %.2f", max(other, 0)))
		}
		parts = append(parts, fmt.Sprintf("machine busy %.2f of %d", busy, s.cores))
	}
	if len(parts) == 0 {
		return "not measured"
	}
	return strings.Join(parts, ", ")
}

// machineBusy returns the seconds all CPUs spent busy (user, nice, system,
// irq, softirq, steal) since boot and the number of CPUs, from /proc/stat;
// false elsewhere.
func machineBusy() (float64, int, bool) {
	data, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, 0, false
	}
	lines := strings.Split(string(data), "\n")
	cores := 0
	for _, l := range lines[1:] {
		if strings.HasPrefix(l, "cpu") {
			cores++
		}
	}
	f := strings.Fields(lines[0])
	if len(f) < 9 || f[0] != "cpu" {
		return 0, 0, false
	}
	var ticks float64
	for _, i := range []int{1, 2, 3, 6, 7, 8} { // not idle (4) nor iowait (5)
		v, err := strconv.ParseFloat(f[i], 64)
		if err != nil {
			return 0, 0, false
		}
		ticks += v
	}
	const userHZ = 100 // the kernel's USER_HZ, 100 on every Linux ABI Go supports
	return ticks / userHZ, cores, true
}
