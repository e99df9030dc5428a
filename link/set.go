package link

import (
	"fmt"
	"net"
	"strings"

	"github.com/tcwire/tcwire/internal/uapi"

	"github.com/tcwire/tcwire/nl"
)

// setRequest is the RTM_NEWLINK `ip link set` sends: NLM_F_REQUEST|NLM_F_ACK,
// ifinfomsg with only ifi_index (and the flags being changed), then attrs.
// iproute2 6.1 resolves the name first and sends no IFLA_IFNAME.
func setRequest(ifi Ifinfomsg, cmd string, attrs func(e *nl.Encoder)) nl.Request {
	e := nl.NewEncoder(ifi.Append(nil))
	if attrs != nil {
		attrs(e)
	}
	return nl.Request{Type: uapi.RTM_NEWLINK, Flags: nl.FlagsAck, Data: e.Bytes(), Cmd: cmd}
}

// SetUpRequest sets a device up: ifi_flags and ifi_change IFF_UP, as
// `ip link set dev NAME up`. name is used only in Cmd.
func SetUpRequest(ifindex int32, name string) nl.Request {
	return setRequest(Ifinfomsg{Index: ifindex, Flags: uapi.IFF_UP, Change: uapi.IFF_UP},
		"ip link set dev "+name+" up", nil)
}

// SetDownRequest sets a device down: ifi_change IFF_UP, ifi_flags 0, as
// `ip link set dev NAME down`.
func SetDownRequest(ifindex int32, name string) nl.Request {
	return setRequest(Ifinfomsg{Index: ifindex, Change: uapi.IFF_UP},
		"ip link set dev "+name+" down", nil)
}

// SetAllmultiRequest turns IFF_ALLMULTI on or off: ifi_change
// IFF_ALLMULTI, ifi_flags IFF_ALLMULTI or 0, as
// `ip link set dev NAME allmulticast on|off`. A macvtap (or macvlan) with
// it on passes every multicast frame, 01:80:c2:00:00:0X included, up to
// its reader.
func SetAllmultiRequest(ifindex int32, name string, on bool) nl.Request {
	ifi, word := Ifinfomsg{Index: ifindex, Change: uapi.IFF_ALLMULTI}, "off"
	if on {
		ifi.Flags, word = uapi.IFF_ALLMULTI, "on"
	}
	return setRequest(ifi, "ip link set dev "+name+" allmulticast "+word, nil)
}

// SetMTURequest sets the MTU (IFLA_MTU), as `ip link set dev NAME mtu MTU`.
func SetMTURequest(ifindex int32, name string, mtu uint32) nl.Request {
	return setRequest(Ifinfomsg{Index: ifindex}, fmt.Sprintf("ip link set dev %s mtu %d", name, mtu),
		func(e *nl.Encoder) { e.Uint32(uapi.IFLA_MTU, mtu) })
}

// SetMACRequest sets the hardware address (IFLA_ADDRESS), as
// `ip link set dev NAME address MAC`.
func SetMACRequest(ifindex int32, name string, mac net.HardwareAddr) nl.Request {
	return setRequest(Ifinfomsg{Index: ifindex}, fmt.Sprintf("ip link set dev %s address %s", name, mac),
		func(e *nl.Encoder) { e.Attr(uapi.IFLA_ADDRESS, mac) })
}

// SetAliasRequest sets the alias (IFLA_IFALIAS), as
// `ip link set dev NAME alias ALIAS`. Like `ip`, it writes the alias without
// a NUL terminator; an empty alias removes it.
func SetAliasRequest(ifindex int32, name, alias string) nl.Request {
	return setRequest(Ifinfomsg{Index: ifindex}, fmt.Sprintf("ip link set dev %s alias %s", name, shellQuote(alias)),
		func(e *nl.Encoder) { e.Attr(uapi.IFLA_IFALIAS, []byte(alias)) })
}

// SetAliasByNameRequest is SetAliasRequest for the device called name, found
// by the kernel by IFLA_IFNAME (ifi_index 0): sent in the same sendmsg as
// the RTM_NEWLINK that creates the device (which ignores IFLA_IFALIAS), it
// marks the device before the syscall returns, so no kill falls between a
// device's creation and its mark.
func SetAliasByNameRequest(name, alias string) nl.Request {
	return setRequest(Ifinfomsg{}, fmt.Sprintf("ip link set dev %s alias %s", name, shellQuote(alias)),
		func(e *nl.Encoder) {
			e.String(uapi.IFLA_IFNAME, name)
			e.Attr(uapi.IFLA_IFALIAS, []byte(alias))
		})
}

// SetMasterRequest enslaves a device to master (IFLA_MASTER), as
// `ip link set dev NAME master MASTER`.
func SetMasterRequest(ifindex int32, name string, master int32, masterName string) nl.Request {
	return setRequest(Ifinfomsg{Index: ifindex}, fmt.Sprintf("ip link set dev %s master %s", name, masterName),
		func(e *nl.Encoder) { e.Uint32(uapi.IFLA_MASTER, uint32(master)) })
}

// SetNoMasterRequest releases a device from its master (IFLA_MASTER 0), as
// `ip link set dev NAME nomaster`.
func SetNoMasterRequest(ifindex int32, name string) nl.Request {
	return setRequest(Ifinfomsg{Index: ifindex}, "ip link set dev "+name+" nomaster",
		func(e *nl.Encoder) { e.Uint32(uapi.IFLA_MASTER, 0) })
}

// SetNetNSRequest moves a device to the network namespace open as file
// descriptor nsfd (IFLA_NET_NS_FD), as `ip link set dev NAME netns NETNS`;
// netns is used only in Cmd. The descriptor must stay open until the
// request is acknowledged.
func SetNetNSRequest(ifindex int32, name string, nsfd int, netns string) nl.Request {
	return setRequest(Ifinfomsg{Index: ifindex}, fmt.Sprintf("ip link set dev %s netns %s", name, netns),
		func(e *nl.Encoder) { e.Uint32(uapi.IFLA_NET_NS_FD, uint32(nsfd)) })
}

// DeleteRequest deletes a device: RTM_DELLINK with NLM_F_REQUEST|NLM_F_ACK
// and only ifi_index, as `ip link del dev NAME`. Deleting one end of a veth
// pair deletes both.
func DeleteRequest(ifindex int32, name string) nl.Request {
	r := setRequest(Ifinfomsg{Index: ifindex}, "ip link del dev "+name, nil)
	r.Type = uapi.RTM_DELLINK
	return r
}

// set looks name up and sends the request build makes for its index. Errors
// name the device and keep the kernel's errno.
func set(c *nl.Conn, name string, build func(ifindex int32) nl.Request) error {
	l, err := Lookup(c, name)
	if err != nil {
		return err
	}
	if err := c.Exec(build(l.Index)); err != nil {
		return fmt.Errorf("link %s: %w", name, err)
	}
	return nil
}

// SetUp sets the device called name up.
func SetUp(c *nl.Conn, name string) error {
	return set(c, name, func(i int32) nl.Request { return SetUpRequest(i, name) })
}

// SetDown sets the device called name down.
func SetDown(c *nl.Conn, name string) error {
	return set(c, name, func(i int32) nl.Request { return SetDownRequest(i, name) })
}

// SetAllmulti turns IFF_ALLMULTI on or off on the device called name.
func SetAllmulti(c *nl.Conn, name string, on bool) error {
	return set(c, name, func(i int32) nl.Request { return SetAllmultiRequest(i, name, on) })
}

// SetMTU sets the MTU of the device called name.
func SetMTU(c *nl.Conn, name string, mtu uint32) error {
	return set(c, name, func(i int32) nl.Request { return SetMTURequest(i, name, mtu) })
}

// SetMAC sets the hardware address of the device called name.
func SetMAC(c *nl.Conn, name string, mac net.HardwareAddr) error {
	return set(c, name, func(i int32) nl.Request { return SetMACRequest(i, name, mac) })
}

// SetAlias sets the alias of the device called name; "" removes it.
func SetAlias(c *nl.Conn, name, alias string) error {
	return set(c, name, func(i int32) nl.Request { return SetAliasRequest(i, name, alias) })
}

// SetMaster enslaves the device called name to the device called master.
func SetMaster(c *nl.Conn, name, master string) error {
	m, err := Lookup(c, master)
	if err != nil {
		return fmt.Errorf("link %s: master: %w", name, err)
	}
	return set(c, name, func(i int32) nl.Request { return SetMasterRequest(i, name, m.Index, master) })
}

// SetNoMaster releases the device called name from its master.
func SetNoMaster(c *nl.Conn, name string) error {
	return set(c, name, func(i int32) nl.Request { return SetNoMasterRequest(i, name) })
}

// Delete deletes the device called name. A device that does not exist gives
// an error satisfying IsNotFound.
func Delete(c *nl.Conn, name string) error {
	return set(c, name, func(i int32) nl.Request { return DeleteRequest(i, name) })
}

// shellQuote quotes s for a Cmd line when it is empty or holds characters
// a shell would treat specially.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.,:/@+=%") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
