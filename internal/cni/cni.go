// Package cni is tcwire's CNI plugin mode: with CNI_COMMAND in the
// environment, the tcwire binary is a chained CNI plugin, a drop-in for tc-redirect-tap (netconf "type": "tcwire", or
// the binary installed under tc-redirect-tap's name). The JSON is in
// types.go; the wiring is package tcwire's, the one `tcwire attach` uses.
//
//	ADD     refuses a CNI_NETNS that is the plugin's own namespace (the
//	        host's), finds the veth in CNI_NETNS (prevResult's interface
//	        whose sandbox is CNI_NETNS; else CNI_IFNAME; never a device
//	        neither names), creates the tap (tap0 unless told) or
//	        reuses it, wires both ways, returns prevResult + the tap + the
//	        VM's interface. A repeated ADD converges.
//	DEL     removes what ADD made — its filters, the ingress qdisc when that
//	        leaves it empty (never a clsact), the tap only if it carries
//	        tcwire's alias and no process (the VM) holds it open — and
//	        succeeds when it is already gone, when
//	        CNI_NETNS is empty or when the namespace no longer exists.
//	CHECK   verifies the tap (exists, is a tap, is tcwire's, is up, MTU,
//	        owner and group), the qdiscs and both redirects, and the VM's
//	        interface in prevResult.
//	STATUS  wires lo to itself in a throwaway network namespace: success
//	        when the kernel has (or loads) sch_ingress, cls_u32 and
//	        act_mirred, error 50 naming the missing module otherwise.
//	GC      succeeds and removes nothing: tcwire's taps and filters live in
//	        the containers' namespaces and go with them, and GC names no
//	        namespace, so there is nothing tcwire could attribute to a
//	        stale attachment.
//	VERSION 0.3.0, 0.3.1, 0.4.0, 1.0.0, 1.1.0.

package cni

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/tcwire/tcwire"
	"github.com/tcwire/tcwire/internal/netns"
	"github.com/tcwire/tcwire/link"
	"github.com/tcwire/tcwire/nl"
)

// cniEnv is what the CNI protocol passes in environment variables.
type cniEnv struct {
	Command, ContainerID, NetNS, IfName, Args string
}

func cniEnvFrom(getenv func(string) string) cniEnv {
	return cniEnv{
		Command:     getenv("CNI_COMMAND"),
		ContainerID: getenv("CNI_CONTAINERID"),
		NetNS:       getenv("CNI_NETNS"),
		IfName:      getenv("CNI_IFNAME"),
		Args:        getenv("CNI_ARGS"),
	}
}

// Main runs one CNI command: the result (or nothing) on stdout and exit
// status 0, or a CNI error object on stdout, its message on stderr and exit
// status 1.
func Main(getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) int {
	env := cniEnvFrom(getenv)
	b, err := io.ReadAll(stdin)
	var out any
	var cerr *cniError
	if err != nil {
		cerr = cniErrorf(cniErrIO, "reading the network configuration from stdin: %v", err)
	} else {
		out, cerr = cniRun(env, b)
	}
	if cerr != nil {
		if cerr.CNIVersion == "" {
			cerr.CNIVersion = replyVersion(b)
		}
		json.NewEncoder(stdout).Encode(cerr)
		fmt.Fprintf(stderr, "tcwire: CNI %s: %s\n", env.Command, cerr.Error())
		return 1
	}
	if out != nil {
		if err := json.NewEncoder(stdout).Encode(out); err != nil {
			fmt.Fprintf(stderr, "tcwire: CNI %s: writing the result: %v\n", env.Command, err)
			return 1
		}
	}
	return 0
}

// replyVersion is the cniVersion of the input when tcwire speaks it, else
// the newest one.
func replyVersion(stdin []byte) string {
	var v struct {
		CNIVersion string `json:"cniVersion"`
	}
	if json.Unmarshal(stdin, &v) == nil && slices.Contains(cniSupportedVersions, v.CNIVersion) {
		return v.CNIVersion
	}
	return cniLatest
}

// containerIDPattern is the spec's rule for CNI_CONTAINERID.
var containerIDPattern = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_.\-]*$`)

// cniRun dispatches on CNI_COMMAND. The output is nil for commands that
// print nothing on success.
func cniRun(env cniEnv, stdin []byte) (any, *cniError) {
	if env.Command == "VERSION" {
		// Answered in the version asked for when tcwire speaks it, else
		// in the newest: never in a version tcwire does not speak.
		return &cniVersionResult{CNIVersion: replyVersion(stdin), SupportedVersions: cniSupportedVersions}, nil
	}
	var need []string
	switch env.Command {
	case "ADD", "CHECK":
		need = []string{"CNI_CONTAINERID", "CNI_NETNS", "CNI_IFNAME"}
	case "DEL":
		need = []string{"CNI_CONTAINERID", "CNI_IFNAME"}
	case "STATUS", "GC":
	default:
		return nil, cniErrorf(cniErrInvalidEnv, "CNI_COMMAND=%q: want ADD, DEL, CHECK, STATUS, GC or VERSION", env.Command)
	}
	if cerr := checkEnv(env, need); cerr != nil {
		return nil, cerr
	}
	conf, cerr := parseNetConf(stdin)
	if cerr != nil {
		if conf != nil && slices.Contains(cniSupportedVersions, conf.CNIVersion) {
			cerr.CNIVersion = conf.CNIVersion
		}
		return nil, cerr
	}
	args, cerr := parseCNIArgs(env.Args)
	if cerr != nil {
		return nil, cerr
	}
	knobs, cerr := resolveKnobs(conf, args)
	if cerr == nil {
		switch env.Command {
		case "ADD":
			var r *cniResult
			if r, cerr = cniAddCmd(env, conf, knobs); cerr == nil {
				return r, nil
			}
		case "DEL":
			cerr = cniDelCmd(env, conf, knobs)
		case "CHECK":
			cerr = cniCheckCmd(env, conf, knobs)
		case "STATUS":
			cerr = cniStatusCmd()
		case "GC":
			// Nothing to do: see the comment at the top of this file.
		}
	}
	if cerr != nil {
		cerr.CNIVersion = conf.CNIVersion
	}
	return nil, cerr
}

// checkEnv reports the required variables that are missing or malformed.
func checkEnv(env cniEnv, need []string) *cniError {
	values := map[string]string{"CNI_CONTAINERID": env.ContainerID, "CNI_NETNS": env.NetNS, "CNI_IFNAME": env.IfName}
	var bad []string
	for _, n := range need {
		if values[n] == "" {
			bad = append(bad, n+" is missing")
		}
	}
	if env.ContainerID != "" && !containerIDPattern.MatchString(env.ContainerID) {
		bad = append(bad, fmt.Sprintf("CNI_CONTAINERID=%q is not a container ID (alphanumerics, then also _ . -)", env.ContainerID))
	}
	if env.IfName != "" {
		if err := link.CheckName(env.IfName); err != nil {
			bad = append(bad, fmt.Sprintf("CNI_IFNAME: %v", err))
		}
	}
	if len(bad) > 0 {
		return cniErrorf(cniErrInvalidEnv, "%s", strings.Join(bad, "; "))
	}
	return nil
}

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

func cniAddCmd(env cniEnv, conf *cniNetConf, o tcwire.Options) (*cniResult, *cniError) {
	if conf.PrevResult == nil {
		return nil, cniErrorf(cniErrInvalidConfig, "prevResult is missing: tcwire is a chained plugin and goes after the plugin that creates the veth (ptp, bridge, Cilium …)")
	}
	if cerr := usableNetNS(env.NetNS); cerr != nil {
		return nil, cerr
	}
	devName, vethIndex, cerr := resolveVeth(env, conf.PrevResult, o.Tap)
	if cerr != nil {
		return nil, cerr
	}
	o.NetNS, o.Dev = env.NetNS, devName
	a, err := tcwire.Attach(context.Background(), o)
	if err != nil {
		return nil, kernelError(fmt.Sprintf("cannot wire %s to %s", devName, o.Tap), err)
	}
	return buildResult(conf.PrevResult, conf.CNIVersion, cniAdd{
		ContainerID: env.ContainerID,
		NetNS:       env.NetNS,
		VethIndex:   vethIndex,
		VethMAC:     a.MAC.String(),
		TapName:     a.Tap,
		TapMAC:      a.TapMAC.String(),
		TapMTU:      int(a.MTU),
	}, sameNetNS(env.NetNS)), nil
}

func cniDelCmd(env cniEnv, conf *cniNetConf, o tcwire.Options) *cniError {
	if env.NetNS == "" || netns.Gone(env.NetNS) {
		return nil // the namespace took the tap and the filters with it
	}
	if cerr := usableNetNS(env.NetNS); cerr != nil {
		return cerr
	}
	ctx := context.Background()
	o.NetNS = env.NetNS
	// The tap's own redirect names the veth best; else the veth as ADD
	// found it, to clear a redirect into a tap that is gone; else
	// CNI_IFNAME, to delete a tap that is wired to nothing.
	rows, err := tcwire.ReadRedirects(ctx, env.NetNS, o.Tap)
	switch {
	case errors.Is(err, tcwire.ErrNotFound):
	case errors.Is(err, unix.ENOENT) && netns.Gone(env.NetNS):
		return nil // deleted meanwhile
	case err != nil:
		return kernelError("cannot read "+o.Tap+"'s redirects", err)
	}
	for _, r := range rows {
		if r.Wire && r.TargetIndex != 0 {
			o.Dev = r.Target
			break
		}
	}
	if o.Dev == "" {
		o.Dev, _, _ = resolveVeth(env, conf.PrevResult, o.Tap)
	}
	if o.Dev == "" {
		o.Dev = env.IfName
	}
	if err := tcwire.Detach(ctx, o); err != nil && !errors.Is(err, tcwire.ErrNotFound) {
		return kernelError(fmt.Sprintf("cannot unwire %s from %s", o.Dev, o.Tap), err)
	}
	return nil
}

func cniCheckCmd(env cniEnv, conf *cniNetConf, o tcwire.Options) *cniError {
	if conf.PrevResult == nil {
		return cniErrorf(cniErrInvalidConfig, "prevResult is missing: CHECK needs the result of ADD")
	}
	if cerr := usableNetNS(env.NetNS); cerr != nil {
		return cerr
	}
	devName, _, cerr := resolveVeth(env, conf.PrevResult, o.Tap)
	if cerr != nil {
		return cerr
	}
	o.NetNS, o.Dev = env.NetNS, devName
	problems, err := tcwire.Check(context.Background(), o)
	if err != nil {
		return kernelError("cannot read the wiring of "+devName+" and "+o.Tap, err)
	}
	var p []string
	for _, pr := range problems {
		p = append(p, pr.What)
	}
	if len(p) == 0 {
		// The wiring is right: then the result must say what ADD did.
		mac, err := devMAC(env.NetNS, devName)
		if err != nil {
			return kernelError("cannot look "+devName+" up", err)
		}
		p = checkResult(conf.PrevResult, env, mac, o.Tap)
	}
	if len(p) > 0 {
		return &cniError{Code: cniErrCheck, Msg: fmt.Sprintf("%s and %s are not as ADD left them", devName, o.Tap),
			Details: strings.Join(p, "; ")}
	}
	return nil
}

func devMAC(ns, name string) (net.HardwareAddr, error) {
	c, err := nl.Dial(&nl.Config{NetNS: ns})
	if err != nil {
		return nil, err
	}
	defer c.Close()
	l, err := link.Lookup(c, name)
	if err != nil {
		return nil, err
	}
	return l.MAC, nil
}

// checkResult lists what prevResult lacks of what ADD returned: the tap in
// the namespace and the VM's interface with the veth's MAC.
func checkResult(prev *cniResult, env cniEnv, mac net.HardwareAddr, tap string) []string {
	same := sameNetNS(env.NetNS)
	var p []string
	if !slices.ContainsFunc(prev.Interfaces, func(in cniInterface) bool { return in.Name == tap && in.Sandbox != "" && same(in.Sandbox) }) {
		p = append(p, fmt.Sprintf("prevResult lacks the tap %s with sandbox %s", tap, env.NetNS))
	}
	i := slices.IndexFunc(prev.Interfaces, func(in cniInterface) bool { return in.Name == tap && in.Sandbox == env.ContainerID })
	switch {
	case i < 0:
		p = append(p, fmt.Sprintf("prevResult lacks the VM's interface %s with sandbox %s", tap, env.ContainerID))
	case !strings.EqualFold(prev.Interfaces[i].MAC, mac.String()):
		p = append(p, fmt.Sprintf("prevResult gives the VM's interface MAC %s, but the veth has %s", prev.Interfaces[i].MAC, mac))
	}
	return p
}

// kernelError turns a failure of the wiring into a CNI error: 101 naming
// the module for a kernel without sch_ingress/cls_u32/act_mirred, 102 for
// a conflict with another redirect or device, 103 for a missing device, 11
// for EAGAIN (a transient refusal: retry), 100 otherwise.
// netconfKey names an option as the network configuration spells it.
var netconfKey = map[string]string{"queues": "queues", "mtu": "mtu", "owner": "tapUID", "group": "tapGID", "tap": "tapName", "dev": "CNI_IFNAME", "netns": "CNI_NETNS"}

func kernelError(msg string, err error) *cniError {
	e := &cniError{Code: cniErrKernel, Msg: msg, Details: err.Error()}
	var me *tcwire.ModuleError
	var oe *tcwire.OptionError
	switch {
	case errors.As(err, &oe):
		e.Code = cniErrInvalidConfig
		e.Msg = fmt.Sprintf("network configuration: %q is %s: %s", netconfKey[oe.Option], oe.Value, oe.Why)
	case errors.As(err, &me):
		e.Code = cniErrMissingModule
		e.Msg = fmt.Sprintf("%s: the kernel lacks %s (modprobe %s)", msg, me.Module, strings.ReplaceAll(me.Module, " or ", " / "))
	case errors.Is(err, tcwire.ErrConflict), errors.Is(err, tcwire.ErrNotTap), errors.Is(err, tcwire.ErrInvalid):
		e.Code = cniErrConflict
	case errors.Is(err, tcwire.ErrNotFound):
		e.Code = cniErrNotFound
	case errors.Is(err, tcwire.ErrBusy):
		e.Code = cniErrTryAgain
	}
	return e
}

// cniStatusCmd answers STATUS with tcwire.Probe: what ADD does to the
// kernel, in a throwaway namespace. A plugin run without the capabilities
// ADD needs is told so, not the kernel blamed.
func cniStatusCmd() *cniError {
	if missing := missingCaps(); len(missing) > 0 {
		return cniErrorf(cniErrNotAvailable, "the plugin runs without %s (uid %d): it cannot wire devices; a container runtime runs it as root",
			strings.Join(missing, " and "), os.Geteuid())
	}
	if err := tcwire.Probe(context.Background()); err != nil {
		e := kernelError("tcwire cannot wire devices on this kernel", err)
		e.Code = cniErrNotAvailable
		return e
	}
	return nil
}

// missingCaps names the capabilities ADD needs that the process lacks in
// its effective set: CAP_NET_ADMIN for the wiring, CAP_SYS_ADMIN to enter
// CNI_NETNS.
func missingCaps() []string {
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	if err := unix.Capget(&hdr, &data[0]); err != nil {
		return nil // cannot tell: Probe will
	}
	var missing []string
	for _, c := range []struct {
		bit  uint
		name string
	}{{unix.CAP_NET_ADMIN, "CAP_NET_ADMIN"}, {unix.CAP_SYS_ADMIN, "CAP_SYS_ADMIN"}} {
		if data[c.bit/32].Effective&(1<<(c.bit%32)) == 0 {
			missing = append(missing, c.name)
		}
	}
	return missing
}
