#!/usr/bin/env bash
# Capture golden netlink fixtures from the installed iproute2 `tc`.
#
# usage: testdata/capture.sh OUTDIR        (as root; `make fixtures` runs it)
#
# Writes OUTDIR/tc/<case>.fixture, one file per case, and removes stale
# *.fixture files there. Every case runs inside one throwaway network namespace
# (deleted on exit, also on failure) holding lo (up), a veth pair eth0/peer0 and a
# tap tap0 (all three down, with fixed MAC addresses so the link dump tc does
# first is as stable as the kernel allows). Before each case the ingress/clsact
# qdiscs of eth0 and tap0 are deleted, then the case's setup lines are run, so
# no fixture depends on another.
#
# The tc command runs under strace, and the file format is the one
# internal/fixture parses: see testdata/capture-lib.sh, which holds the parts
# shared with testdata/link/capture.sh.
#
# Output is deterministic apart from netlink seq/pid numbers, strace's pid
# column, and what the kernel derives from the clock: IFLA_INET6_CACHEINFO
# (tstamp, reachable_time) in the RTM_NEWLINK dump and action timestamps
# (TCA_*_TM) in filter dumps.
set -euo pipefail
set -f # no globbing of case words

if [ $# -ne 1 ]; then
	echo "usage: $0 OUTDIR" >&2
	exit 2
fi
. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/capture-lib.sh"
capture_require "network namespaces, tc" ip tc

OUT="$1/tc"
mkdir -p "$OUT"

NS="tcwire-capture-$$-${RANDOM}"
CAPTURE_NETNS=("$NS")
capture_start

capture_base_netns
nsx ip tuntap add tap0 mode tap
nsx ip link set tap0 address 02:00:00:00:00:03

ifindex() { nsx ip -o link show dev "$1" | cut -d: -f1; }
IFINDEX="eth0=$(ifindex eth0) peer0=$(ifindex peer0) tap0=$(ifindex tap0)"

CAPTURE_SCRIPT=testdata/capture.sh
CAPTURE_TOOLVER="$(iproute2_version tc)"
CAPTURE_NAMESPACE="ip link set lo up; ip link add eth0 type veth peer name peer0; ip tuntap add tap0 mode tap; MACs eth0 02:00:00:00:00:01, peer0 02:00:00:00:00:02, tap0 02:00:00:00:00:03; all but lo down"

# capture_prepare, a hook of capture (capture-lib.sh), resets the namespace
# before each case: no ingress/clsact qdisc, no mirred action left. The
# namespace and its indexes are the same for every case.
capture_prepare() {
	local dev kind
	for dev in eth0 tap0; do
		for kind in clsact ingress; do
			nsx tc qdisc del dev "$dev" "$kind" 2>/dev/null || true
		done
		if nsx tc qdisc show dev "$dev" | grep -qE 'qdisc (ingress|clsact)'; then
			echo "$0: could not reset qdiscs on $dev" >&2
			exit 1
		fi
	done
	# Filters (and their actions) are freed asynchronously after the qdisc
	# goes: wait for the mirred actions to be gone so indexes restart at 1.
	local i
	for i in $(seq 50); do
		[ -n "$(nsx tc actions list action mirred 2>/dev/null)" ] || return 0
		sleep 0.1
	done
	echo "$0: stray mirred actions in $NS" >&2
	exit 1
}

capture_ifindex() { echo "$IFINDEX"; }

ING='tc qdisc add dev eth0 ingress'
CLS='tc qdisc add dev eth0 clsact'
ING_TAP='tc qdisc add dev tap0 ingress'
U32='protocol all u32 match u8 0 0'
REDIR='action mirred egress redirect dev tap0'
ADD="tc filter add dev eth0 parent ffff:"

# Qdiscs.
capture qdisc-add-ingress 0 "$ING"
capture qdisc-del-ingress 0 'tc qdisc del dev eth0 ingress' "$ING"
capture qdisc-add-clsact 0 "$CLS"
capture qdisc-del-clsact 0 'tc qdisc del dev eth0 clsact' "$CLS"
capture qdisc-add-ingress-tap 0 "$ING_TAP"

# Filter adds: the canonical redirect, both halves, and variations.
capture filter-add-redirect 0 "$ADD $U32 $REDIR" "$ING"
capture filter-add-redirect-tap 0 \
	"tc filter add dev tap0 parent ffff: $U32 action mirred egress redirect dev eth0" "$ING_TAP"
capture filter-add-redirect-pref 0 "$ADD pref 10 $U32 $REDIR" "$ING"
capture filter-add-redirect-pref-handle 0 "$ADD pref 10 handle 800::800 $U32 $REDIR" "$ING"
capture filter-add-redirect-protocol-ip 0 "$ADD protocol ip u32 match u8 0 0 $REDIR" "$ING"
capture filter-add-redirect-clsact-ingress 0 "tc filter add dev eth0 ingress $U32 $REDIR" "$CLS"
capture filter-add-mirror 0 "$ADD $U32 action mirred egress mirror dev tap0" "$ING"
capture filter-add-mirror-pipe 0 "$ADD $U32 action mirred egress mirror dev tap0 pipe" "$ING"
capture filter-add-ingress-redirect 0 "$ADD $U32 action mirred ingress redirect dev tap0" "$ING"
capture filter-add-match-ip-protocol 0 "$ADD protocol all u32 match ip protocol 1 0xff $REDIR" "$ING"
capture filter-add-u16-u32-keys 0 \
	"$ADD protocol all u32 match u16 0x0800 0xffff at 12 match u32 0x0a000001 0xffffffff at 16 $REDIR" "$ING"
capture filter-add-action-cookie 0 "$ADD $U32 $REDIR cookie 0123456789abcdef" "$ING"
# mirred's parser does not take a control after `redirect`: tc reads `pipe`
# as a second action (gact pipe), which this kernel lacks (ENOENT).
capture filter-add-redirect-pipe 2 "$ADD $U32 $REDIR pipe" "$ING"

# Replace and deletes.
capture filter-replace 0 \
	"tc filter replace dev eth0 parent ffff: pref 10 handle 800::800 $U32 $REDIR" \
	"$ING" "$ADD pref 10 $U32 $REDIR"
capture filter-del-one 0 \
	'tc filter del dev eth0 parent ffff: pref 49152 handle 800::800 protocol all u32' \
	"$ING" "$ADD $U32 $REDIR"
capture filter-del-pref 0 'tc filter del dev eth0 parent ffff: pref 49152' \
	"$ING" "$ADD $U32 $REDIR"
capture filter-flush 0 'tc filter del dev eth0 parent ffff:' "$ING" "$ADD $U32 $REDIR"

# Errors the kernel reports with extack text.
capture qdisc-add-clsact-over-ingress 2 "$CLS" "$ING"
capture qdisc-del-ingress-missing 2 'tc qdisc del dev eth0 ingress'

# Dumps (multipart replies); stdout holds tc's own rendering.
capture dump-filter-show 0 'tc -d filter show dev eth0 parent ffff:' \
	"$ING" "$ADD $U32 $REDIR" "$ADD pref 10 $U32 $REDIR"
capture dump-filter-show-clsact 0 'tc -d filter show dev eth0 ingress' \
	"$CLS" "tc filter add dev eth0 ingress $U32 $REDIR"
capture dump-qdisc-show 0 'tc -d qdisc show dev eth0' "$ING"
capture dump-qdisc-show-all 0 'tc -d qdisc show' "$ING" "$ING_TAP"

capture_install "$OUT"
echo "captured ${#CASES[@]} fixtures in $OUT ($IFINDEX)"
