package cni

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/tcwire/tcwire/internal/netns"
	"github.com/tcwire/tcwire/link"
	"github.com/tcwire/tcwire/nl"
)

// Where to wire in CNI_NETNS: the namespace checked (usableNetNS), and the
// veth found from prevResult or CNI_IFNAME (resolveVeth).

// sameNetNS returns a matcher for sandboxes that name the namespace at
// netns: the same path, or another path to the same namespace
// (/var/run/netns/x and /run/netns/x).
func sameNetNS(netns string) func(string) bool {
	want, werr := os.Stat(netns)
	return func(sandbox string) bool {
		if filepath.Clean(sandbox) == filepath.Clean(netns) {
			return true
		}
		if werr != nil || !strings.HasPrefix(sandbox, "/") {
			return false
		}
		got, err := os.Stat(sandbox)
		return err == nil && os.SameFile(got, want)
	}
}

// resolveVeth finds the device to wire the tap to, and its index in
// prevResult (-1 when prevResult does not list it): prevResult's interface
// in CNI_NETNS; else CNI_IFNAME when the namespace has a device of that
// name. Never a device that nothing names: the namespace's only device may
// be anything (the host's NIC, when CNI_NETNS is wrong).
func resolveVeth(env cniEnv, prev *cniResult, tapName string) (string, int, *cniError) {
	if tapName == env.IfName {
		return "", -1, cniErrorf(cniErrInvalidConfig, "the tap's name %s is CNI_IFNAME, the container's veth: give the tap a name of its own (tapName, %s)", tapName, argTapName)
	}
	same := sameNetNS(env.NetNS)
	if i, name := findVeth(prev, same, env.IfName, tapName); name != "" {
		return name, i, nil
	}
	c, err := nl.Dial(&nl.Config{NetNS: env.NetNS})
	if err != nil {
		return "", -1, &cniError{Code: cniErrKernel, Msg: "cannot enter CNI_NETNS " + env.NetNS, Details: err.Error()}
	}
	defer c.Close()
	ls, errs := link.LookupNames(c, env.IfName, tapName)
	for _, err := range errs {
		if err != nil && !link.IsNotFound(err) {
			return "", -1, &cniError{Code: cniErrKernel, Msg: "cannot look up the devices of " + env.NetNS, Details: err.Error()}
		}
	}
	if ls[0] != nil {
		return env.IfName, -1, nil
	}
	// findVeth skips prevResult's interface named like the tap (it is the
	// tap, after an ADD): when that is no tap, the names clash.
	if tap := ls[1]; tap != nil && tap.Kind != link.KindTun && prev != nil &&
		slices.ContainsFunc(prev.Interfaces, func(in cniInterface) bool { return in.Name == tapName && in.Sandbox != "" && same(in.Sandbox) }) {
		return "", -1, &cniError{Code: cniErrConflict, Msg: fmt.Sprintf("the tap's name %s is the veth's", tapName),
			Details: fmt.Sprintf("prevResult's interface in %s is %s, a %s, not a tap: give the tap a name of its own (tapName, %s)", env.NetNS, tapName, kindName(tap.Kind), argTapName)}
	}
	return "", -1, &cniError{Code: cniErrNotFound,
		Msg: fmt.Sprintf("no veth to wire in %s", env.NetNS),
		Details: fmt.Sprintf("prevResult lists no interface with sandbox %s, and CNI_IFNAME %s names no device there; tcwire wires only a device one of them names",
			env.NetNS, env.IfName)}
}

func kindName(kind string) string {
	if kind == "" {
		return "device"
	}
	return kind
}

// usableNetNS refuses a CNI_NETNS that does not exist (any more), is no
// network namespace, or is the plugin's own: the runtime's namespace is the
// host's, and tcwire never wires the host.
func usableNetNS(netnsPath string) *cniError {
	if netns.Gone(netnsPath) {
		return cniErrorf(cniErrNotFound, "CNI_NETNS %s: no such network namespace", netnsPath)
	}
	own, err := netns.IsOwn(netnsPath)
	switch {
	case err != nil:
		return &cniError{Code: cniErrInvalidEnv, Msg: fmt.Sprintf("CNI_NETNS %s is not a network namespace", netnsPath), Details: err.Error()}
	case own:
		return cniErrorf(cniErrInvalidEnv, "CNI_NETNS %s is the plugin's own network namespace (the host's): tcwire wires only a container's", netnsPath)
	}
	return nil
}
