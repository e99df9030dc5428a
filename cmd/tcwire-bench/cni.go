package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/tcwire/tcwire/bench"
	"github.com/tcwire/tcwire/internal/netns"
)

// The CNI contenders: `cnitool add` and `cnitool del` of a conflist that
// chains ptp (host-local IPAM) and the tap plugin under test, tcwire or
// tc-redirect-tap, ADD and DEL latency side by side. The host is played by
// a namespace, as in cmd/tcwire's CNI tests: ptp puts its host end there.

// Where the programs come from. tc-redirect-tap is not on the Go module
// proxy: its row is skipped unless its binary is given.
const (
	envTcRedirectTap = "TCWIRE_BENCH_TC_REDIRECT_TAP"
	envCNIBin        = "TCWIRE_CNI_BIN" // cnitool, ptp, host-local (make cni-plugins: bin/cni)
)

type cniContender struct {
	name, desc string
	bin        string // the plugin's binary; "" with skipped set
	skipped    string
}

func (h *harness) cniContenders() []cniContender {
	trt := cniContender{name: "tc-redirect-tap", desc: "awslabs/tc-redirect-tap, chained after ptp", bin: h.TcRedirectTap}
	if trt.bin == "" {
		trt.skipped = fmt.Sprintf("not on the Go module proxy; give its binary with --tc-redirect-tap PATH (or %s=PATH)", envTcRedirectTap)
	}
	return []cniContender{
		{name: "tcwire", desc: "tcwire as a chained plugin (\"type\": \"tcwire\") after ptp", bin: h.tcwireBin},
		trt,
	}
}

// cniBin is the directory holding cnitool, ptp and host-local.
func (h *harness) cniBin() (string, error) {
	dir := os.Getenv(envCNIBin)
	if dir == "" {
		dir = filepath.Join(filepath.Dir(h.tcwireBin), "cni")
	}
	for _, tool := range []string{"cnitool", "ptp", "host-local"} {
		if _, err := os.Stat(filepath.Join(dir, tool)); err != nil {
			return "", fmt.Errorf("%s not found (`make cni-plugins` builds bin/cni; %s names another directory)", filepath.Join(dir, tool), envCNIBin)
		}
	}
	return dir, nil
}

func (h *harness) runCNI() []bench.CNI {
	cs := h.cniContenders()
	skipAll := func(why string) []bench.CNI {
		var out []bench.CNI
		for _, c := range cs {
			out = append(out, bench.CNI{Name: c.name, Description: c.desc, Skipped: why})
		}
		return out
	}
	if h.tcwireBin == "" {
		return skipAll("no tcwire binary (--tcwire)")
	}
	dir, err := h.cniBin()
	if err != nil {
		return skipAll(err.Error())
	}
	host, err := newCNIHost(dir, cs)
	if err != nil {
		h.fail("cni: %v", err)
		return nil
	}
	defer host.close()
	type acc struct{ add, del []float64 }
	accs := make([]acc, len(cs))
	var run []int
	for i, c := range cs {
		if c.skipped == "" {
			run = append(run, i)
		}
	}
	for round := range h.rounds {
		for _, i := range rotate(run, round) {
			add, del, err := host.trial(cs[i])
			if err != nil {
				h.fail("cni %s: %v", cs[i].name, err)
				run = slices.DeleteFunc(run, func(j int) bool { return j == i })
				accs[i] = acc{}
				break
			}
			accs[i].add = append(accs[i].add, add)
			accs[i].del = append(accs[i].del, del)
		}
		h.progress("cni: round %d/%d done", round+1, h.rounds)
	}
	var out []bench.CNI
	for i, c := range cs {
		r := bench.CNI{Name: c.name, Description: c.desc, Skipped: c.skipped}
		if a := accs[i]; len(a.add) > 0 {
			r.AddMs, r.AddMin, r.AddMax = median(a.add), slices.Min(a.add), slices.Max(a.add)
			r.DelMs, r.DelMin, r.DelMax = median(a.del), slices.Min(a.del), slices.Max(a.del)
			r.Trials = len(a.add)
		} else if r.Skipped == "" {
			r.Skipped = "failed (see errors)"
		}
		out = append(out, r)
	}
	return out
}

// cniHost is the namespace playing the host, a conflist per contender and
// a private /var/lib for cnitool's cache.
type cniHost struct {
	ns, dir, path string
}

func newCNIHost(cniBin string, cs []cniContender) (*cniHost, error) {
	ns, err := newNS("cnihost", false)
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "tcwire-bench-cni")
	if err != nil {
		delNS(ns)
		return nil, err
	}
	h := &cniHost{ns: ns, dir: dir}
	fail := func(err error) (*cniHost, error) { h.close(); return nil, err }
	path := []string{cniBin}
	for k, c := range cs {
		if c.skipped != "" {
			continue
		}
		bin, err := filepath.Abs(c.bin)
		if err != nil {
			return fail(err)
		}
		path = append(path, filepath.Dir(bin))
		// Each contender has its own subnet: a trial's DEL frees its
		// address, but the two must never meet.
		conf := fmt.Sprintf(`{"cniVersion": "0.4.0", "name": %q, "plugins": [`+
			`{"type": "ptp", "ipMasq": false, "ipam": {"type": "host-local", "subnet": "10.%d.0.0/16", "dataDir": %q}}, {"type": %q}]}`,
			c.name, 90+k, filepath.Join(dir, "ipam"), filepath.Base(bin))
		if err := os.MkdirAll(filepath.Join(dir, "net.d"), 0o755); err != nil {
			return fail(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "net.d", c.name+".conflist"), []byte(conf), 0o644); err != nil {
			return fail(err)
		}
	}
	if err := os.MkdirAll(filepath.Join(dir, "lib"), 0o755); err != nil {
		return fail(err)
	}
	h.path = strings.Join(path, ":")
	return h, nil
}

func (h *cniHost) close() {
	delNS(h.ns)
	os.RemoveAll(h.dir)
}

// cnitool runs `cnitool VERB NET NETNS` in the host namespace and returns
// its wall time.
func (h *cniHost) cnitool(verb, net, netns string) (time.Duration, error) {
	script := `mount --bind "$LIBDIR" /var/lib && exec cnitool "$@"`
	cmd := exec.Command("ip", "netns", "exec", h.ns, "env", "PATH="+h.path+":"+os.Getenv("PATH"),
		"CNI_PATH="+h.path, "NETCONFPATH="+filepath.Join(h.dir, "net.d"), "LIBDIR="+filepath.Join(h.dir, "lib"),
		"sh", "-c", script, "sh", verb, net, netns)
	start := time.Now()
	out, err := cmd.CombinedOutput()
	el := time.Since(start)
	if err != nil {
		return 0, fmt.Errorf("cnitool %s %s: %v: %s", verb, net, err, strings.TrimSpace(string(out)))
	}
	return el, nil
}

// trial is one ADD and one DEL for a fresh container namespace, in ms.
func (h *cniHost) trial(c cniContender) (add, del float64, err error) {
	ctr, err := newNS("cnictr", false)
	if err != nil {
		return 0, 0, err
	}
	defer delNS(ctr)
	path := netns.Dir + "/" + ctr
	a, err := h.cnitool("add", c.name, path)
	if err != nil {
		return 0, 0, err
	}
	d, err := h.cnitool("del", c.name, path)
	if err != nil {
		return 0, 0, err
	}
	return a.Seconds() * 1e3, d.Seconds() * 1e3, nil
}
