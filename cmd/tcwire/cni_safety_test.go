package main

// The CNI plugin never wires the host, and says what is wrong truly
// (issue 19, kinds 4 and 8).

import (
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"github.com/tcwire/tcwire/internal/nstest"
)

// pluginIn runs the plugin inside ns (as a runtime in that namespace
// would), with CNI_NETNS set to netnsPath.
func pluginIn(t *testing.T, ns *nstest.NS, cmd, netnsPath, stdin string, env ...string) result {
	t.Helper()
	c := exec.Command("ip", "netns", "exec", ns.Name, tcwireBin)
	c.Env = append(os.Environ(), "CNI_COMMAND="+cmd, "CNI_CONTAINERID=ctr1", "CNI_IFNAME=eth0", "CNI_NETNS="+netnsPath)
	c.Env = append(c.Env, env...)
	c.Stdin = strings.NewReader(stdin)
	return runCmd(t, c, "tcwire "+cmd)
}

// untouched fails t when ns has a tap or an ingress qdisc on dev: what a
// refused ADD must not leave.
func untouched(t *testing.T, ns *nstest.NS, dev string) {
	t.Helper()
	if q := ns.Run("tc", "qdisc", "show", "dev", dev, "ingress"); strings.TrimSpace(q) != "" {
		t.Errorf("a refused ADD left a qdisc on %s: %s", dev, q)
	}
	if tuns := ns.Run("ip", "-o", "link", "show", "type", "tun"); strings.TrimSpace(tuns) != "" {
		t.Errorf("a refused ADD left a tap: %s", tuns)
	}
}

// loneNIC is a namespace whose only device besides lo is nic0, a veth
// whose peer is in another namespace: the host's NIC, as the plugin sees
// it when CNI_NETNS is its own namespace.
func loneNIC(t *testing.T) *nstest.NS {
	ns := nstest.New(t)
	far := nstest.New(t)
	ns.Run("ip", "link", "add", "nic0", "type", "veth", "peer", "name", "far0", "netns", far.Name)
	ns.Run("ip", "link", "set", "nic0", "up")
	return ns
}

// TestCNIPluginNeverWiresHost: CNI_NETNS naming the plugin's own namespace,
// however it is spelled (/proc/self/ns/net, the bind mount `ip netns`
// made, /proc/PID/ns/net of a process in it), is refused by ADD, CHECK and
// DEL; and in another namespace, ADD never picks the only device when
// neither prevResult nor CNI_IFNAME names it.
func TestCNIPluginNeverWiresHost(t *testing.T) {
	host := loneNIC(t)
	sleeper := exec.Command("ip", "netns", "exec", host.Name, "sleep", "60")
	if err := sleeper.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sleeper.Process.Kill(); sleeper.Wait() })
	prev := `{"cniVersion":"1.0.0","interfaces":[{"name":"eth0","sandbox":"/run/netns/elsewhere"}]}`
	conf := `{"cniVersion":"1.0.0","name":"n","type":"tcwire","prevResult":` + prev + `}`
	for _, path := range []string{"/proc/self/ns/net", host.Path(), "/proc/" + strconv.Itoa(sleeper.Process.Pid) + "/ns/net", "/proc/thread-self/ns/net"} {
		for _, cmd := range []string{"ADD", "CHECK", "DEL"} {
			e := cniErr(t, pluginIn(t, host, cmd, path, conf, "CNI_IFNAME=nic1"))
			if e.Code != 4 || !strings.Contains(e.Msg, "plugin's own network namespace") {
				t.Errorf("%s with CNI_NETNS %s: %+v, want code 4 naming the plugin's own namespace", cmd, path, e)
			}
		}
	}
	untouched(t, host, "nic0")

	// From outside: the namespace is not the plugin's, but nothing names
	// nic0, so ADD must not take it.
	e := cniErr(t, cniPlugin(t, "ADD", host, conf))
	if e.Code != cniErrNotFound || !strings.Contains(e.Msg, "no veth") || !strings.Contains(e.Details, "CNI_IFNAME eth0 names no device") {
		t.Errorf("ADD with nothing naming nic0: %+v", e)
	}
	e = cniErr(t, cniPlugin(t, "ADD", host, `{"cniVersion":"1.0.0","name":"n","type":"tcwire","prevResult":{}}`))
	if e.Code != cniErrNotFound {
		t.Errorf("ADD with an empty prevResult: %+v", e)
	}
	untouched(t, host, "nic0")
	// Named by CNI_IFNAME, it is wired.
	mustPlugin(t, "ADD", host, conf, "CNI_IFNAME=nic0")
	if !strings.Contains(ingressFilters(t, host, "nic0"), "tap0") {
		t.Errorf("ADD with CNI_IFNAME=nic0 did not wire nic0:\n%s", ingressFilters(t, host, "nic0"))
	}
}

// TestCNIPluginTruthfulErrors: a tap named like the veth is called so;
// a 0.2.0 prevResult's address reaches the VM in a 1.0.0 result; STATUS
// run without capabilities says so rather than blame the kernel.
func TestCNIPluginTruthfulErrors(t *testing.T) {
	ns := vethNS(t)
	conf := `{"cniVersion":"1.0.0","name":"n","type":"tcwire","prevResult":{"cniVersion":"1.0.0","interfaces":[{"name":"eth0","sandbox":"` + ns.Path() + `"}]}}`
	e := cniErr(t, cniPlugin(t, "ADD", ns, conf, "CNI_ARGS=TC_REDIRECT_TAP_NAME=eth0"))
	if !strings.Contains(e.Msg, "the tap's name eth0 is CNI_IFNAME") {
		t.Errorf("tap named CNI_IFNAME: %+v", e)
	}
	// prevResult's veth is peer0 and CNI_IFNAME another name: the tap's
	// name is the veth's.
	conf2 := `{"cniVersion":"1.0.0","name":"n","type":"tcwire","tapName":"peer0","prevResult":{"cniVersion":"1.0.0","interfaces":[{"name":"peer0","sandbox":"` + ns.Path() + `"}]}}`
	e = cniErr(t, cniPlugin(t, "ADD", ns, conf2, "CNI_IFNAME=net1"))
	if e.Code != cniErrConflict || !strings.Contains(e.Msg, "the tap's name peer0 is the veth's") || !strings.Contains(e.Details, "veth, not a tap") {
		t.Errorf("tap named like prevResult's veth: %+v", e)
	}
	untouched(t, ns, "eth0")
	untouched(t, ns, "peer0")

	// A 0.2.0 result (ip4) inside a 1.0.0 netconf: the VM gets its address.
	old := `{"cniVersion":"1.0.0","name":"n","type":"tcwire","prevResult":{"cniVersion":"0.2.0","ip4":{"ip":"10.7.0.2/24","gateway":"10.7.0.1"}}}`
	r := parseOut(t, mustPlugin(t, "ADD", ns, old))
	if got := r.addressesOf(1); len(got) != 1 || !strings.HasPrefix(got[0], "10.7.0.2/24 gw 10.7.0.1") {
		t.Errorf("VM addresses %v, want 10.7.0.2/24 from ip4: %+v", got, r)
	}
	if r.CNIVersion != "1.0.0" {
		t.Errorf("result version %s", r.CNIVersion)
	}

	nstest.RequireTool(t, "setpriv")
	c := exec.Command("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=-all", "--bounding-set=-all", tcwireBin)
	c.Env = append(os.Environ(), "CNI_COMMAND=STATUS")
	c.Stdin = strings.NewReader(`{"cniVersion":"1.1.0","name":"n","type":"tcwire"}`)
	e = cniErr(t, runCmd(t, c, "tcwire STATUS as nobody"))
	if e.Code != 50 || !strings.Contains(e.Msg, "without CAP_NET_ADMIN") || strings.Contains(e.Msg, "kernel") {
		t.Errorf("STATUS without capabilities: %+v", e)
	}
}

// TestCNIDelKeepsTapInUse: DEL removes the wiring but leaves a tap the VM
// holds open (it can still write); once closed, DEL deletes it.
func TestCNIDelKeepsTapInUse(t *testing.T) {
	ns := vethNS(t)
	conf := `{"cniVersion":"1.0.0","name":"n","type":"tcwire","prevResult":{"cniVersion":"1.0.0","interfaces":[{"name":"eth0","sandbox":"` + ns.Path() + `"}]}}`
	mustPlugin(t, "ADD", ns, conf)
	f, release := holdTap(t, ns.Name, "tap0")
	mustPlugin(t, "DEL", ns, conf)
	if linkOf(t, ns, "tap0") == nil {
		t.Fatal("DEL deleted tap0 under the VM holding it")
	}
	if _, err := f.Write(vmFrame); err != nil {
		t.Errorf("the VM's write after DEL: %v", err)
	}
	if fl := ingressFilters(t, ns, "eth0"); strings.Contains(fl, "mirred") {
		t.Errorf("DEL left eth0 wired:\n%s", fl)
	}
	release()
	mustPlugin(t, "DEL", ns, conf)
	if linkOf(t, ns, "tap0") != nil {
		t.Error("DEL once closed left tap0")
	}
}
