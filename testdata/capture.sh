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
# The tc command runs under
#   strace -f -yy -X verbose -s 0 -e trace=sendmsg,sendto,recvmsg,recvfrom \
#          -e write=all -e read=all
# which hex-dumps every buffer sent and every buffer received; -yy names the
# socket (NETLINK:[ROUTE:pid]) and -X verbose prints flags as numbers with their
# names in comments. internal/fixture parses the result.
#
# File format (see internal/fixture/doc.go):
#   # comment lines
#   cmd: <the tc command>
#   setup: <one line per command run before it, inside the namespace>
#   ifindex: eth0=N peer0=N tap0=N
#   exit: <tc's exit status; nonzero only for the cases meant to fail>
#   --- strace
#   <raw strace output>
#   --- stdout          (only when tc printed something)
#   <tc's stdout, verbatim>
#   --- stderr          (only when tc printed something)
#   <tc's stderr, verbatim>
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
if [ "$(id -u)" -ne 0 ]; then
	echo "$0: must run as root (network namespaces, tc)" >&2
	exit 1
fi
for tool in ip tc strace; do
	command -v "$tool" >/dev/null || {
		echo "$0: $tool not found" >&2
		exit 1
	}
done

OUT="$1/tc"
mkdir -p "$OUT"

NS="tcwire-capture-$$-${RANDOM}"
TMP="$(mktemp -d)"
cleanup() {
	ip netns del "$NS" 2>/dev/null || true
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

nsx() { ip netns exec "$NS" "$@"; }

ip netns add "$NS"
nsx ip link set lo up
nsx ip link add eth0 type veth peer name peer0
nsx ip tuntap add tap0 mode tap
nsx ip link set eth0 address 02:00:00:00:00:01
nsx ip link set peer0 address 02:00:00:00:00:02
nsx ip link set tap0 address 02:00:00:00:00:03

ifindex() { nsx ip -o link show dev "$1" | cut -d: -f1; }
IFINDEX="eth0=$(ifindex eth0) peer0=$(ifindex peer0) tap0=$(ifindex tap0)"

TCVER="$(tc -V | sed -n 's/.*\(iproute2-[^ ,]*\).*/\1/p')"
STRACEVER="$(strace -V | sed -n '1s/.*version //p')"
STRACE=(strace -f -yy -X verbose -s 0
	-e trace=sendmsg,sendto,recvmsg,recvfrom -e write=all -e read=all)

reset_state() {
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

CASES=()

# capture NAME EXIT CMD [SETUP...]
#   EXIT is the exit status tc must return (0, or nonzero for error cases).
capture() {
	local name="$1" want="$2" cmd="$3"
	shift 3
	local setup line
	local -a argv
	CASES+=("$name")

	reset_state
	for setup in "$@"; do
		read -ra argv <<<"$setup"
		nsx "${argv[@]}" >/dev/null
	done

	read -ra argv <<<"$cmd"
	local rc=0
	nsx "${STRACE[@]}" -o "$TMP/strace" "${argv[@]}" >"$TMP/stdout" 2>"$TMP/stderr" || rc=$?
	if [ "$rc" -ne "$want" ]; then
		echo "$0: case $name: '$cmd' exited $rc, want $want" >&2
		cat "$TMP/stderr" >&2
		exit 1
	fi
	if ! grep -q '^[0-9]*  *+++ exited with' "$TMP/strace"; then
		echo "$0: case $name: strace output looks incomplete" >&2
		exit 1
	fi

	{
		echo "# captured by testdata/capture.sh: $TCVER, kernel $(uname -r), strace $STRACEVER"
		echo "# namespace: ip link set lo up; ip link add eth0 type veth peer name peer0;" \
			"ip tuntap add tap0 mode tap; MACs eth0 02:00:00:00:00:01," \
			"peer0 02:00:00:00:00:02, tap0 02:00:00:00:00:03; all but lo down"
		echo "# traced with: ${STRACE[*]} $cmd"
		echo "cmd: $cmd"
		for setup in "$@"; do
			echo "setup: $setup"
		done
		echo "ifindex: $IFINDEX"
		echo "exit: $rc"
		echo "--- strace"
		cat "$TMP/strace"
		if [ -s "$TMP/stdout" ]; then
			echo "--- stdout"
			cat "$TMP/stdout"
		fi
		if [ -s "$TMP/stderr" ]; then
			echo "--- stderr"
			cat "$TMP/stderr"
		fi
	} >"$TMP/$name.fixture"
}

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

# All cases captured: replace the old set.
set +f
for f in "$OUT"/*.fixture; do
	[ -e "$f" ] || continue
	keep=0
	for name in "${CASES[@]}"; do
		[ "$f" = "$OUT/$name.fixture" ] && keep=1
	done
	[ "$keep" -eq 1 ] || rm -f "$f"
done
for name in "${CASES[@]}"; do
	mv "$TMP/$name.fixture" "$OUT/$name.fixture"
done
echo "captured ${#CASES[@]} fixtures in $OUT ($IFINDEX)"
