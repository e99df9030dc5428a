package cni

// The JSON of the CNI protocol (network configuration, results, errors,
// VERSION), decoded and built with encoding/json only, as pure functions:
// commands.go and status.go do the kernel work, through package tcwire.
//
// Spec versions tcwire speaks, and what differs between them for a chained
// plugin that adds interfaces and copies addresses:
//
//   - 0.3.0, 0.3.1: result = cniVersion, interfaces (name, mac, sandbox),
//     ips (version "4"|"6" — required —, interface index, address,
//     gateway), routes (dst, gw), dns. 0.3.1 only clarified 0.3.0: the
//     result shape is the same. No CHECK; DEL gets no prevResult.
//   - 0.4.0: same result shape as 0.3.x; adds CHECK, and DEL (and CHECK)
//     get the ADD's result as prevResult.
//   - 1.0.0: ips lose "version" (the address says it); the rest of the
//     result is unchanged. Interface "mtu"/"socketPath"/"pciID" and the
//     extra route fields do not exist yet.
//   - 1.1.0: interfaces gain mtu, socketPath and pciID; routes gain mtu,
//     advmss, priority, table and scope; STATUS and GC appear, with error
//     codes 50/51 for STATUS; configuration lists may carry cniVersions.
//
// tcwire answers in the netconf's cniVersion (what the runtime asked for,
// as tc-redirect-tap does): "version" is filled in on every ip for 0.x and
// dropped for 1.x, and the interfaces tcwire adds carry an mtu only for
// 1.1.0. What a previous plugin put in its result is passed through; routes
// and dns are copied byte for byte.

import (
	"encoding/json"
	"fmt"
)

// cniSupportedVersions are the spec versions tcwire speaks, oldest first.
var cniSupportedVersions = []string{"0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0"}

// cniLatest is the newest version: the one errors and VERSION use when the
// input names none tcwire knows.
const cniLatest = "1.1.0"

// Error codes: 1-11 and 50-51 are the spec's well-known codes; 100+ are
// tcwire's own.
const (
	cniErrIncompatibleVersion = 1  // cniVersion tcwire does not speak
	cniErrUnknownContainer    = 3  // unused: tcwire never tells the runtime to skip cleanup
	cniErrInvalidEnv          = 4  // CNI_COMMAND, CNI_CONTAINERID, CNI_NETNS, CNI_IFNAME, CNI_ARGS
	cniErrIO                  = 5  // stdin could not be read
	cniErrDecode              = 6  // stdin is not JSON
	cniErrInvalidConfig       = 7  // a netconf or prevResult field has a bad type or value
	cniErrTryAgain            = 11 // EAGAIN from the kernel (transient): retry
	cniErrNotAvailable        = 50 // STATUS: ADD would fail on this kernel

	cniErrKernel        = 100 // a netlink or /dev/net/tun request failed
	cniErrMissingModule = 101 // the kernel lacks sch_ingress, cls_u32 or act_mirred
	cniErrConflict      = 102 // the veth redirects elsewhere, or the tap name is another device's
	cniErrNotFound      = 103 // the network namespace or the veth does not exist
	cniErrCheck         = 104 // CHECK: the wiring is not what ADD made
)

// cniError is the spec's error result, printed on stdout with a non-zero
// exit status.
type cniError struct {
	CNIVersion string `json:"cniVersion"`
	Code       uint   `json:"code"`
	Msg        string `json:"msg"`
	Details    string `json:"details,omitempty"`
}

func (e *cniError) Error() string {
	if e.Details != "" {
		return fmt.Sprintf("CNI error %d: %s: %s", e.Code, e.Msg, e.Details)
	}
	return fmt.Sprintf("CNI error %d: %s", e.Code, e.Msg)
}

func cniErrorf(code uint, format string, args ...any) *cniError {
	return &cniError{Code: code, Msg: fmt.Sprintf(format, args...)}
}

// cniVersionResult answers VERSION.
type cniVersionResult struct {
	CNIVersion        string   `json:"cniVersion"`
	SupportedVersions []string `json:"supportedVersions"`
}

// cniNetConf is the plugin configuration on stdin. Keys other than these
// (ipam, dns, runtimeConfig, capabilities …) are ignored.
//
// tcwire's own keys — tc-redirect-tap has CNI_ARGS only; these are the
// same knobs for a conflist (CNI_ARGS wins when both are given):
//
//	"tapName": "tap0"   the tap's name (default tap0; TC_REDIRECT_TAP_NAME)
//	"tapUID":  1000     the uid allowed to open it (TC_REDIRECT_TAP_UID;
//	                    default: the plugin's euid when tapGID is unset too)
//	"tapGID":  1000     the gid allowed to open it (TC_REDIRECT_TAP_GID)
//	"queues":  1        queues of a tap tcwire creates (1-256)
//	"mtu":     1500     the tap's MTU (default: the veth's)
//	"devAddrGenMode": "none"
//	                    silence the veth's own IPv6 (tcwire.Options.QuietDev):
//	                    no address generation, no link-local address; DEL
//	                    restores them. Its IPv4 addresses stay.
type cniNetConf struct {
	CNIVersion string `json:"cniVersion"`
	Name       string `json:"name"`
	Type       string `json:"type"`
	TapName    string `json:"tapName"`
	TapUID     *int64 `json:"tapUID"`
	TapGID     *int64 `json:"tapGID"`
	Queues     *int64 `json:"queues"`
	MTU        *int64 `json:"mtu"`
	DevGenMode string `json:"devAddrGenMode"`
	// Mode is tcwire's --mode; a CNI plugin wires with tc only.
	Mode    *string         `json:"mode"`
	RawPrev json.RawMessage `json:"prevResult"`

	// PrevResult is RawPrev decoded, nil when absent or null.
	PrevResult *cniResult `json:"-"`
}

// cniResult is a success result of any supported version: the union of
// their fields. Routes and dns are kept as they came.
type cniResult struct {
	CNIVersion string            `json:"cniVersion"`
	Interfaces []cniInterface    `json:"interfaces,omitempty"`
	IPs        []cniIP           `json:"ips,omitempty"`
	Routes     []json.RawMessage `json:"routes,omitempty"`
	DNS        json.RawMessage   `json:"dns,omitempty"`
}

type cniInterface struct {
	Name       string `json:"name"`
	MAC        string `json:"mac,omitempty"`
	MTU        int    `json:"mtu,omitempty"` // 1.1.0
	Sandbox    string `json:"sandbox,omitempty"`
	SocketPath string `json:"socketPath,omitempty"` // 1.1.0
	PciID      string `json:"pciID,omitempty"`      // 1.1.0
}

type cniIP struct {
	Version   string `json:"version,omitempty"` // 0.3.x and 0.4.0 only: "4" or "6"
	Interface *int   `json:"interface,omitempty"`
	Address   string `json:"address"`
	Gateway   string `json:"gateway,omitempty"`
}
