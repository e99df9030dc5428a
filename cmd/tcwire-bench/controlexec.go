package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/tcwire/tcwire/internal/netns"
)

// The control plane's contenders that are other programs: the tcwire
// command, tc one command a process or -batch, and bench/vishvananda; and
// the count of their sendmsg calls under strace.

// straceSendmsgs runs a command under strace and counts its sendmsg and
// sendto calls on netlink sockets (iproute2 sends dumps with sendto).
func straceSendmsgs(name string, args ...string) (float64, error) {
	out, err := os.CreateTemp("", "tcwire-bench-strace")
	if err != nil {
		return 0, err
	}
	out.Close()
	defer os.Remove(out.Name())
	argv := append([]string{"-f", "-qq", "-e", "trace=sendmsg,sendto", "-e", "signal=none", "-o", out.Name(), name}, args...)
	if err := run("strace", argv...); err != nil {
		return 0, err
	}
	b, err := os.ReadFile(out.Name())
	if err != nil {
		return 0, err
	}
	n := 0
	for _, line := range strings.Split(string(b), "\n") {
		if strings.Contains(line, "nlmsg_len") {
			n++
		}
	}
	return float64(n), nil
}

func run(name string, args ...string) error {
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s %s: %v: %s", name, strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

func attachTcwireCLI(h *harness, ns string, pairs []cpPair) (attachResult, error) {
	if h.tcwireBin == "" {
		return attachResult{}, errors.New("no tcwire binary (--tcwire)")
	}
	start := time.Now()
	for _, p := range pairs {
		if err := run(h.tcwireBin, "--netns", ns, "attach", p.veth.Name, p.tap.Name); err != nil {
			return attachResult{}, err
		}
	}
	return attachResult{total: time.Since(start)}, nil
}

func tcCommands(p cpPair) [][]string {
	return [][]string{
		{"qdisc", "add", "dev", p.veth.Name, "ingress"},
		{"filter", "add", "dev", p.veth.Name, "parent", "ffff:", "protocol", "all", "u32", "match", "u8", "0", "0", "action", "mirred", "egress", "redirect", "dev", p.tap.Name},
		{"qdisc", "add", "dev", p.tap.Name, "ingress"},
		{"filter", "add", "dev", p.tap.Name, "parent", "ffff:", "protocol", "all", "u32", "match", "u8", "0", "0", "action", "mirred", "egress", "redirect", "dev", p.veth.Name},
	}
}

func attachTcCLI(h *harness, ns string, pairs []cpPair) (attachResult, error) {
	start := time.Now()
	for _, p := range pairs {
		for _, args := range tcCommands(p) {
			if err := run("tc", append([]string{"-n", ns}, args...)...); err != nil {
				return attachResult{}, err
			}
		}
	}
	return attachResult{total: time.Since(start)}, nil
}

func attachTcBatch(h *harness, ns string, pairs []cpPair) (attachResult, error) {
	dir, err := os.MkdirTemp("", "tcwire-bench-batch")
	if err != nil {
		return attachResult{}, err
	}
	defer os.RemoveAll(dir)
	files := make([]string, len(pairs))
	for i, p := range pairs {
		var b strings.Builder
		for _, args := range tcCommands(p) {
			b.WriteString(strings.Join(args, " ") + "\n")
		}
		files[i] = filepath.Join(dir, fmt.Sprintf("attach%d", i))
		if err := os.WriteFile(files[i], []byte(b.String()), 0o600); err != nil {
			return attachResult{}, err
		}
	}
	start := time.Now()
	for _, f := range files {
		if err := run("tc", "-n", ns, "-batch", f); err != nil {
			return attachResult{}, err
		}
	}
	return attachResult{total: time.Since(start)}, nil
}

// vishvanandaOut is what bench/vishvananda prints.
type vishvanandaOut struct {
	Attaches int     `json:"attaches"`
	TotalNs  int64   `json:"total_ns"`
	Allocs   float64 `json:"allocs_per_attach"`
	Bytes    float64 `json:"bytes_per_attach"`
}

func attachVishvananda(h *harness, ns string, pairs []cpPair) (attachResult, error) {
	if h.vishBin == "" {
		return attachResult{}, errors.New("no bench/vishvananda binary (--vishvananda)")
	}
	var spec []string
	for _, p := range pairs {
		spec = append(spec, fmt.Sprintf("%d:%d", p.veth.Index, p.tap.Index))
	}
	cmd := exec.Command(h.vishBin, "-netns", netns.Dir+"/"+ns, "-pairs", strings.Join(spec, ","))
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return attachResult{}, fmt.Errorf("%s: %w", h.vishBin, err)
	}
	var v vishvanandaOut
	if err := json.Unmarshal(out, &v); err != nil {
		return attachResult{}, fmt.Errorf("%s: output %q: %w", h.vishBin, out, err)
	}
	if v.Attaches != len(pairs) {
		return attachResult{}, fmt.Errorf("%s: %d attaches, want %d", h.vishBin, v.Attaches, len(pairs))
	}
	return attachResult{total: time.Duration(v.TotalNs), allocs: &v.Allocs, bytes: &v.Bytes}, nil
}
