package main

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/tcwire/tcwire/bench"
	"github.com/tcwire/tcwire/link"
	"github.com/tcwire/tcwire/nl"
)

func hostFacts() bench.Host {
	var h bench.Host
	var u unix.Utsname
	if unix.Uname(&u) == nil {
		h.Kernel = unix.ByteSliceToString(u.Release[:])
	}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(l, "model name") {
				if i := strings.IndexByte(l, ':'); i > 0 {
					h.CPUModel = strings.TrimSpace(l[i+1:])
					break
				}
			}
		}
	}
	h.Cores = runtime.NumCPU()
	h.GoVersion = runtime.Version()
	h.Date = time.Now().UTC().Format("2006-01-02 15:04 UTC")
	if out, err := exec.Command("tc", "-V").Output(); err == nil {
		h.TC = strings.TrimSpace(string(out))
	}
	return h
}

// loadAvg is the first three fields of /proc/loadavg: other work on the
// host shows in the spread of the figures.
func loadAvg() string {
	b, _ := os.ReadFile("/proc/loadavg")
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return ""
	}
	return strings.Join(f[:3], " ")
}

// cpuBusy returns the busy time of all CPUs (user, nice, system, irq,
// softirq from /proc/stat) in nanoseconds.
func cpuBusy() int64 {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0
	}
	line, _, _ := bytes.Cut(b, []byte("\n"))
	f := strings.Fields(string(line))
	if len(f) < 8 || f[0] != "cpu" {
		return 0
	}
	var busy int64
	for _, i := range []int{1, 2, 3, 6, 7} { // user nice system irq softirq
		v, _ := strconv.ParseInt(f[i], 10, 64)
		busy += v
	}
	return busy * int64(time.Second) / 100 // USER_HZ
}

// procCPU returns this process's user+system time.
func procCPU() time.Duration {
	var ru unix.Rusage
	unix.Getrusage(unix.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

var ksoftirqd []string

// softirqThreads finds the ksoftirqd/N threads' schedstat files.
func softirqThreads() []string {
	if ksoftirqd != nil {
		return ksoftirqd
	}
	ksoftirqd = []string{}
	dirs, _ := os.ReadDir("/proc")
	for _, d := range dirs {
		if d.Name()[0] < '0' || d.Name()[0] > '9' {
			continue
		}
		comm, err := os.ReadFile("/proc/" + d.Name() + "/comm")
		if err == nil && strings.HasPrefix(string(comm), "ksoftirqd/") {
			ksoftirqd = append(ksoftirqd, "/proc/"+d.Name()+"/schedstat")
		}
	}
	return ksoftirqd
}

// harnessCPU is this process's CPU time (which includes the softirq work
// done on its threads: tick-based accounting charges it to the task) plus
// the ksoftirqd threads' run time, in nanoseconds. Other processes on the
// host do not count.
func harnessCPU() int64 {
	ns := int64(procCPU())
	for _, f := range softirqThreads() {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		if fs := strings.Fields(string(b)); len(fs) > 0 {
			v, _ := strconv.ParseInt(fs[0], 10, 64)
			ns += v
		}
	}
	return ns
}

// softnetDrops sums the second column of /proc/net/softnet_stat (backlog
// drops), over all CPUs.
func softnetDrops() uint64 {
	f, err := os.Open("/proc/net/softnet_stat")
	if err != nil {
		return 0
	}
	defer f.Close()
	var sum uint64
	s := bufio.NewScanner(f)
	for s.Scan() {
		fs := strings.Fields(s.Text())
		if len(fs) > 1 {
			v, _ := strconv.ParseUint(fs[1], 16, 64)
			sum += v
		}
	}
	return sum
}

// slabUnreclaim returns SUnreclaim of /proc/meminfo in bytes.
func slabUnreclaim() int64 {
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "SUnreclaim:") {
			f := strings.Fields(l)
			v, _ := strconv.ParseInt(f[1], 10, 64)
			return v * 1024
		}
	}
	return 0
}

// devDrops sums rx_dropped and tx_dropped (IFLA_STATS64) of every device
// of the namespace c is in.
func devDrops(c *nl.Conn) uint64 {
	msgs, err := c.Dump(link.ListRequest())
	if err != nil {
		return 0
	}
	var sum uint64
	for _, m := range msgs {
		if len(m.Data) < link.IfinfomsgLen {
			continue
		}
		attrs, err := nl.ParseAttrs(m.Data[link.IfinfomsgLen:])
		if err != nil {
			continue
		}
		for _, a := range attrs {
			if a.Type == unix.IFLA_STATS64 && len(a.Data) >= 64 {
				// rx_packets tx_packets rx_bytes tx_bytes rx_errors
				// tx_errors rx_dropped tx_dropped …
				sum += binary.NativeEndian.Uint64(a.Data[48:]) + binary.NativeEndian.Uint64(a.Data[56:])
			}
		}
	}
	return sum
}

func fmtDur(d time.Duration) string { return fmt.Sprintf("%.1fs", d.Seconds()) }
