#!/usr/bin/env bash
# Capture golden netlink fixtures for package link from the installed
# iproute2 `ip` and `bridge`.
#
# usage: testdata/link/capture.sh [OUTDIR]   (as root; OUTDIR defaults to the
#                                            directory of this script)
#
# Writes OUTDIR/<case>.fixture, one file per case, in the format of
# testdata/capture.sh (parsed by internal/fixture), and removes stale
# *.fixture files there.
#
# Every case runs in a network namespace of its own, created for it and
# deleted after it (also on failure), so no case depends on another and the
# interface indexes are the same in every fixture. The namespace holds:
#   lo (up, index 1), a veth pair peer0 (2) / eth0 (3) and a bridge br0 (4),
#   all down, with fixed MAC addresses: eth0 02:00:00:00:00:01,
#   peer0 02:00:00:00:00:02, br0 02:00:00:00:00:04.
# A second namespace, $OTHER, exists during each case too, for the cases that
# move a device or create a veth peer in another namespace (its name is fixed
# so that the command lines stored in the fixtures are).
# Then the case's setup lines run inside the namespace, then the traced
# command, under strace as testdata/capture-lib.sh (shared with
# testdata/capture.sh) describes.
#
# Nothing is created or changed in the root network namespace. (A macvtap
# made in a case gets a /dev/tapN node from devtmpfs; it goes away with the
# namespace.)
#
# Header lines (see internal/fixture/doc.go): cmd, setup (one per command),
# ifindex (every device of the namespace after the setup, name=index), exit.
# Output is deterministic apart from netlink seq/pid numbers, strace's pid
# column, descriptor numbers (IFLA_NET_NS_FD carries one) and what the kernel
# derives from the clock or counts (statistics, bridge timers,
# IFLA_INET6_CACHEINFO) in the replies.
set -euo pipefail
set -f # no globbing of case words

OUT="${1:-$(cd "$(dirname "$0")" && pwd)}"
. "$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/capture-lib.sh"
capture_require "network namespaces" ip bridge
mkdir -p "$OUT"

NS="tcwire-linkcap-$$-${RANDOM}"
OTHER="tcwire-capture-other"
if ip netns list | grep -qw "$OTHER"; then
	echo "$0: namespace $OTHER exists already (another capture running?)" >&2
	exit 1
fi
CAPTURE_NETNS=("$NS" "$OTHER")
capture_start

CAPTURE_SCRIPT=testdata/link/capture.sh
CAPTURE_TOOLVER="$(iproute2_version ip)"
CAPTURE_NAMESPACE="ip link set lo up; ip link add eth0 type veth peer name peer0; ip link add br0 type bridge; MACs eth0 02:00:00:00:00:01, peer0 02:00:00:00:00:02, br0 02:00:00:00:00:04; all but lo down; other namespace: $OTHER (empty)"

# capture_prepare, a hook of capture (capture-lib.sh), makes $NS afresh
# (with the base devices) and an empty $OTHER before each case.
capture_prepare() {
	ip netns del "$NS" 2>/dev/null || true
	ip netns del "$OTHER" 2>/dev/null || true
	ip netns add "$OTHER"
	capture_base_netns
	nsx ip link add br0 type bridge
	nsx ip link set br0 address 02:00:00:00:00:04
}

# capture_ifindex, the other hook, prints "name=index" for every device of
# $NS, after the case's setup.
capture_ifindex() {
	nsx ip -o link show | sed -n 's/^\([0-9]*\): \([^:@ ]*\)[:@].*/\2=\1/p' | tr '\n' ' ' | sed 's/ $//'
}

MASTER='ip link set dev eth0 master br0'
MAC=02:00:00:00:00:aa

# Lookups and dumps (the replies seed the decoder fuzz targets).
capture link-show 0 'ip link show dev eth0'
capture link-show-missing 1 'ip link show dev nosuch0'
capture link-show-bridge 0 'ip -d link show dev br0'
capture link-show-port 0 'ip -d link show dev eth0' "$MASTER"
capture link-show-macvtap 0 'ip -d link show dev mvtap0' \
	'ip link add mvtap0 link eth0 address 02:00:00:00:00:05 type macvtap mode bridge'
capture link-show-all 0 'ip link show'

# Link changes.
capture set-up 0 'ip link set dev eth0 up'
capture set-down 0 'ip link set dev eth0 down' 'ip link set dev eth0 up'
capture set-mtu 0 'ip link set dev eth0 mtu 9000'
capture set-address 0 "ip link set dev eth0 address $MAC"
capture set-alias 0 'ip link set dev eth0 alias tcwire'
capture set-master 0 "$MASTER"
capture set-nomaster 0 'ip link set dev eth0 nomaster' "$MASTER"
capture set-netns 0 "ip link set dev eth0 netns $OTHER"
capture del 0 'ip link del dev eth0'
capture del-missing 1 'ip link del dev nosuch0'

# Creation.
capture add-veth 0 'ip link add veth0 type veth peer name veth1'
capture add-veth-peer-netns 0 "ip link add veth0 type veth peer name veth1 netns $OTHER"
capture add-bridge 0 'ip link add br1 type bridge'
capture add-macvtap-bridge 0 'ip link add mvtap0 link eth0 type macvtap mode bridge'
capture add-macvtap-passthru 0 'ip link add mvtap0 link eth0 type macvtap mode passthru'
capture add-macvtap-vepa 0 'ip link add mvtap0 link eth0 type macvtap mode vepa'
capture add-macvtap-private 0 'ip link add mvtap0 link eth0 type macvtap mode private'
capture add-macvtap-default 0 'ip link add mvtap0 link eth0 type macvtap'
capture add-macvlan-bridge 0 'ip link add mvlan0 link eth0 type macvlan mode bridge'

# Bridge: port flags, static FDB entries, group_fwd_mask.
capture bridge-link-learning-off 0 'bridge link set dev eth0 learning off' "$MASTER"
capture bridge-link-learning-on 0 'bridge link set dev eth0 learning on' "$MASTER"
capture bridge-link-flood-off 0 'bridge link set dev eth0 flood off' "$MASTER"
capture bridge-link-learning-off-flood-off 0 'bridge link set dev eth0 learning off flood off' "$MASTER"
capture fdb-add-static 0 "bridge fdb add $MAC dev eth0 master static" "$MASTER"
capture fdb-del 0 "bridge fdb del $MAC dev eth0 master" "$MASTER" "bridge fdb add $MAC dev eth0 master static"
capture fdb-show 0 'bridge fdb show dev eth0' "$MASTER" "bridge fdb add $MAC dev eth0 master static"
capture group-fwd-mask 0 'ip link set dev br0 type bridge group_fwd_mask 0x4000'
capture fdb-replace-static 0 "bridge fdb replace $MAC dev eth0 master static" "$MASTER"

# A quiet device (issue 12): no IPv6 link-local address, so no RS/MLD/DAD.
LL=fe80::ff:fe00:1/64 # eth0's EUI-64 link-local address
capture set-addrgenmode-none 0 'ip link set dev eth0 addrgenmode none'
capture set-addrgenmode-eui64 0 'ip link set dev eth0 addrgenmode eui64' 'ip link set dev eth0 addrgenmode none'
capture link-show-addrgenmode 0 'ip -d link show dev eth0' 'ip link set dev eth0 addrgenmode none'
# eth0 up with the link-local address the kernel made (DAD done after 1 s)
# and an IPv4 address that `ip -6` must not show.
capture addr-show 0 'ip -6 addr show dev eth0' 'ip addr add 192.0.2.1/24 dev eth0' \
	'ip link set dev peer0 up' 'ip link set dev eth0 up' 'sleep 2'
capture addr-add 0 "ip addr add $LL dev eth0"
capture addr-del 0 "ip addr del $LL dev eth0" "ip addr add $LL dev eth0"
capture addr-del-missing 2 "ip addr del $LL dev eth0"

# Multicast to a macvtap's reader (issue 13).
capture set-allmulticast-on 0 'ip link set dev eth0 allmulticast on'
capture set-allmulticast-off 0 'ip link set dev eth0 allmulticast off' 'ip link set dev eth0 allmulticast on'

capture_install "$OUT"
echo "captured ${#CASES[@]} fixtures in $OUT"
