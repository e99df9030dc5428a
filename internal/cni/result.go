package cni

import (
	"net"
	"slices"
	"strings"
)

// The ADD result: the veth found in prevResult, then prevResult with the
// tap and the VM's interface added, in the netconf's version.

// findVeth picks the container's veth out of prevResult: the interface in
// the container's namespace (sameNetNS says which sandboxes are), the one
// named ifname when there are several, never the tap itself. It returns
// its index and name, or -1 and "".
func findVeth(prev *cniResult, sameNetNS func(string) bool, ifname, tapName string) (int, string) {
	if prev == nil {
		return -1, ""
	}
	found := -1
	for i, in := range prev.Interfaces {
		if in.Sandbox == "" || in.Name == tapName || !sameNetNS(in.Sandbox) {
			continue
		}
		if in.Name == ifname {
			return i, in.Name
		}
		if found < 0 {
			found = i
		}
	}
	if found < 0 {
		return -1, ""
	}
	return found, prev.Interfaces[found].Name
}

// cniAdd is what ADD did, for the result.
type cniAdd struct {
	ContainerID string // CNI_CONTAINERID: the VM interface's sandbox
	NetNS       string // CNI_NETNS: the tap's sandbox
	VethIndex   int    // the veth's index in prevResult.interfaces, or -1
	VethMAC     string // the VM's NIC must use it
	TapName     string
	TapMAC      string
	TapMTU      int
}

// buildResult is prevResult plus the tap (in the container's namespace)
// and the VM's interface (the tap's name, the veth's MAC, the container ID
// as sandbox) with the veth's addresses copied to it — the shape
// firecracker-go-sdk reads. Addresses without an interface index (Cilium's)
// are copied too. Calling it on its own output changes nothing, so a
// repeated ADD answers the same.
func buildResult(prev *cniResult, version string, a cniAdd, sameNetNS func(string) bool) *cniResult {
	r := &cniResult{}
	if prev != nil {
		r.Interfaces = slices.Clone(prev.Interfaces)
		r.IPs = slices.Clone(prev.IPs)
		r.Routes = prev.Routes
		r.DNS = prev.DNS
	}
	mtu := 0
	if version == "1.1.0" {
		mtu = a.TapMTU
	}
	upsert := func(match func(cniInterface) bool, in cniInterface) int {
		for i, old := range r.Interfaces {
			if match(old) {
				r.Interfaces[i] = in
				return i
			}
		}
		r.Interfaces = append(r.Interfaces, in)
		return len(r.Interfaces) - 1
	}
	upsert(func(in cniInterface) bool { return in.Name == a.TapName && in.Sandbox != "" && sameNetNS(in.Sandbox) },
		cniInterface{Name: a.TapName, MAC: a.TapMAC, MTU: mtu, Sandbox: a.NetNS})
	vm := upsert(func(in cniInterface) bool { return in.Name == a.TapName && in.Sandbox == a.ContainerID },
		cniInterface{Name: a.TapName, MAC: a.VethMAC, MTU: mtu, Sandbox: a.ContainerID})
	n := len(r.IPs)
	for _, ip := range r.IPs[:n] {
		if ip.Interface != nil && (a.VethIndex < 0 || *ip.Interface != a.VethIndex) {
			continue
		}
		if slices.ContainsFunc(r.IPs, func(o cniIP) bool { return o.Interface != nil && *o.Interface == vm && o.Address == ip.Address }) {
			continue
		}
		ip.Interface = &vm
		r.IPs = append(r.IPs, ip)
	}
	r.setVersion(version)
	return r
}

// setVersion stamps r with version and gives its ips the "version" field
// that 0.x requires and 1.x does not have.
func (r *cniResult) setVersion(version string) {
	r.CNIVersion = version
	v1 := strings.HasPrefix(version, "1.")
	for i := range r.IPs {
		ip := &r.IPs[i]
		// Copy the index, so that results never share it.
		if ip.Interface != nil {
			ip.Interface = new(*ip.Interface)
		}
		if v1 {
			ip.Version = ""
		} else if addr, _, err := net.ParseCIDR(ip.Address); err == nil {
			ip.Version = ipVersion(addr)
		}
	}
}
