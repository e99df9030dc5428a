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
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"

	"github.com/tcwire/tcwire"
	"github.com/tcwire/tcwire/link"
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

// netconfKey names an option as the network configuration spells it.
var netconfKey = map[string]string{"queues": "queues", "mtu": "mtu", "owner": "tapUID", "group": "tapGID", "tap": "tapName", "dev": "CNI_IFNAME", "netns": "CNI_NETNS"}

// kernelError turns a failure of the wiring into a CNI error: 101 naming
// the module for a kernel without sch_ingress/cls_u32/act_mirred, 102 for
// a conflict with another redirect or device, 103 for a missing device, 11
// for EAGAIN (a transient refusal: retry), 100 otherwise.
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
