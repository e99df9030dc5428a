package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
)

// Result is what the program prints.
type Result struct {
	Attaches int     `json:"attaches"`
	TotalNs  int64   `json:"total_ns"`
	Allocs   float64 `json:"allocs_per_attach"`
	Bytes    float64 `json:"bytes_per_attach"`
}

func parsePairs(s string) ([][2]int, error) {
	var out [][2]int
	for _, p := range strings.Split(s, ",") {
		a, b, ok := strings.Cut(p, ":")
		if !ok {
			return nil, fmt.Errorf("pair %q: want A:B", p)
		}
		x, err1 := strconv.Atoi(a)
		y, err2 := strconv.Atoi(b)
		if err1 != nil || err2 != nil || x <= 0 || y <= 0 {
			return nil, fmt.Errorf("pair %q: want two interface indexes", p)
		}
		out = append(out, [2]int{x, y})
	}
	return out, nil
}

// Run attaches every pair in the namespace at nsPath and measures it; the
// handle is made before the clock starts.
func Run(nsPath string, pairs [][2]int) (Result, error) {
	ns, err := netns.GetFromPath(nsPath)
	if err != nil {
		return Result{}, err
	}
	defer ns.Close()
	h, err := netlink.NewHandleAt(ns)
	if err != nil {
		return Result{}, err
	}
	defer h.Close()
	old := debug.SetGCPercent(-1)
	defer debug.SetGCPercent(old)
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	start := time.Now()
	for _, p := range pairs {
		if err := Attach(h, p[0], p[1]); err != nil {
			return Result{}, err
		}
	}
	total := time.Since(start)
	runtime.ReadMemStats(&m1)
	n := float64(len(pairs))
	return Result{Attaches: len(pairs), TotalNs: total.Nanoseconds(),
		Allocs: float64(m1.Mallocs-m0.Mallocs) / n, Bytes: float64(m1.TotalAlloc-m0.TotalAlloc) / n}, nil
}

func main() {
	nsPath := flag.String("netns", "", "network namespace path (/run/netns/NAME)")
	pairsFlag := flag.String("pairs", "", "A:B,… interface index pairs to wire")
	flag.Parse()
	if *nsPath == "" || *pairsFlag == "" {
		flag.Usage()
		os.Exit(2)
	}
	pairs, err := parsePairs(*pairsFlag)
	if err != nil {
		fmt.Fprintln(os.Stderr, "tcwire-bench-vishvananda:", err)
		os.Exit(2)
	}
	r, err := Run(*nsPath, pairs)
	if err != nil {
		fmt.Fprintln(os.Stderr, "tcwire-bench-vishvananda:", err)
		os.Exit(1)
	}
	json.NewEncoder(os.Stdout).Encode(r)
}
