package link

import (
	"fmt"

	"github.com/tcwire/tcwire/internal/uapi"

	"github.com/tcwire/tcwire/nl"
)

// Kinds (IFLA_INFO_KIND) this package creates or decodes.
const (
	KindVeth    = "veth"
	KindBridge  = "bridge"
	KindMacvlan = "macvlan"
	KindMacvtap = "macvtap"
)

// Veth describes a veth pair to create.
type Veth struct {
	// Name is the device created in the connection's namespace.
	Name string
	// Peer is the other end's name.
	Peer string
	// PeerNetNS, when set, is the network namespace (name under
	// /run/netns, or path) the peer is created in.
	PeerNetNS string
}

// createRequest starts an `ip link add` request: RTM_NEWLINK with
// NLM_F_REQUEST|NLM_F_ACK|NLM_F_EXCL|NLM_F_CREATE and a zeroed ifinfomsg.
func createRequest(cmd string, attrs func(e *nl.Encoder)) nl.Request {
	e := nl.NewEncoder(Ifinfomsg{}.Append(nil))
	attrs(e)
	return nl.Request{Type: uapi.RTM_NEWLINK, Flags: nl.FlagsCreate, Data: e.Bytes(), Cmd: cmd}
}

// AddVethRequest creates a veth pair, as
// `ip link add NAME type veth peer name PEER [netns PEERNETNS]`:
//
//	IFLA_IFNAME NAME
//	IFLA_LINKINFO
//		IFLA_INFO_KIND "veth"
//		IFLA_INFO_DATA
//			VETH_INFO_PEER: struct ifinfomsg (zero), then
//				[IFLA_NET_NS_FD peerNSFD]
//				IFLA_IFNAME PEER
//
// None of the nests carries NLA_F_NESTED, as with `ip`. peerNSFD, an open
// descriptor of v.PeerNetNS, is used only when v.PeerNetNS is set.
func AddVethRequest(v Veth, peerNSFD int) nl.Request {
	cmd := fmt.Sprintf("ip link add %s type veth peer name %s", v.Name, v.Peer)
	if v.PeerNetNS != "" {
		cmd += " netns " + v.PeerNetNS
	}
	// The peer is a struct ifinfomsg followed by attributes, so it is built
	// on its own and written as VETH_INFO_PEER's raw payload.
	peer := nl.NewEncoder(Ifinfomsg{}.Append(nil))
	if v.PeerNetNS != "" {
		peer.Uint32(uapi.IFLA_NET_NS_FD, uint32(peerNSFD))
	}
	peer.String(uapi.IFLA_IFNAME, v.Peer)
	return createRequest(cmd, func(e *nl.Encoder) {
		e.String(uapi.IFLA_IFNAME, v.Name)
		e.Nest(uapi.IFLA_LINKINFO, func(e *nl.Encoder) {
			e.Attr(uapi.IFLA_INFO_KIND, []byte(KindVeth))
			e.Nest(uapi.IFLA_INFO_DATA, func(e *nl.Encoder) {
				e.Attr(VETH_INFO_PEER, peer.Bytes())
			})
		})
	})
}
