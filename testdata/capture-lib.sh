# Shared part of the fixture capture scripts: testdata/capture.sh (tc) and
# testdata/link/capture.sh (ip, bridge). Sourced, not run; needs bash.
#
# A script using it:
#   1. calls capture_require WHY TOOL... (root, and the tools besides strace);
#   2. sets CAPTURE_NETNS to the namespaces to delete on exit, then calls
#      capture_start (temporary directory, exit traps);
#   3. sets CAPTURE_SCRIPT and CAPTURE_TOOLVER (the first header comment),
#      CAPTURE_NAMESPACE (the second) and NS (where nsx runs commands), and
#      defines two hooks:
#        capture_prepare    run before each case's setup lines (reset or
#                           recreate the namespace);
#        capture_ifindex    print the case's "ifindex:" value, after setup;
#   4. calls capture NAME EXIT CMD [SETUP...] once per case;
#   5. calls capture_install OUTDIR to replace the old fixtures.
#
# Every command runs under
#   strace -f -yy -X verbose -s 0 -e trace=sendmsg,sendto,recvmsg,recvfrom \
#          -e write=all -e read=all
# which hex-dumps every buffer sent and every buffer received; -yy names the
# socket (NETLINK:[ROUTE:pid]) and -X verbose prints flags as numbers with
# their names in comments. internal/fixture parses the result.
#
# Fixture file format (see internal/fixture/doc.go):
#   # comment lines
#   cmd: <the traced command>
#   setup: <one line per command run before it, inside the namespace>
#   ifindex: name=N ...
#   exit: <the command's exit status; nonzero only for the cases meant to fail>
#   --- strace
#   <raw strace output>
#   --- stdout          (only when the command printed something)
#   <its stdout, verbatim>
#   --- stderr          (only when the command printed something)
#   <its stderr, verbatim>

STRACE=(strace -f -yy -X verbose -s 0
	-e trace=sendmsg,sendto,recvmsg,recvfrom -e write=all -e read=all)
CASES=()
CAPTURE_NETNS=()

# capture_require WHY TOOL...: fail unless root (WHY says what for) and every
# TOOL, and strace, is installed.
capture_require() {
	local why="$1" tool
	shift
	if [ "$(id -u)" -ne 0 ]; then
		echo "$0: must run as root ($why)" >&2
		exit 1
	fi
	for tool in "$@" strace; do
		command -v "$tool" >/dev/null || {
			echo "$0: $tool not found" >&2
			exit 1
		}
	done
}

# iproute2_version TOOL prints TOOL's iproute2 version ("iproute2-6.1.0").
iproute2_version() {
	"$1" -V | sed -n 's/.*\(iproute2-[^ ,]*\).*/\1/p'
}

# capture_cleanup deletes the namespaces of CAPTURE_NETNS and the temporary
# directory; capture_start installs it for exit, also on failure.
capture_cleanup() {
	local ns
	for ns in "${CAPTURE_NETNS[@]}"; do
		ip netns del "$ns" 2>/dev/null || true
	done
	rm -rf "$TMP"
}

capture_start() {
	STRACEVER="$(strace -V | sed -n '1s/.*version //p')"
	TMP="$(mktemp -d)"
	trap capture_cleanup EXIT
	trap 'exit 130' INT TERM
}

nsx() { ip netns exec "$NS" "$@"; }

# capture_base_netns makes $NS with what both scripts' namespaces start with:
# lo up, and a veth pair eth0/peer0, down, with fixed MAC addresses (eth0
# 02:00:00:00:00:01, peer0 02:00:00:00:00:02) so that the link dumps are as
# stable as the kernel allows.
capture_base_netns() {
	ip netns add "$NS"
	nsx ip link set lo up
	nsx ip link add eth0 type veth peer name peer0
	nsx ip link set eth0 address 02:00:00:00:00:01
	nsx ip link set peer0 address 02:00:00:00:00:02
}

# capture NAME EXIT CMD [SETUP...]
#   EXIT is the status CMD must return (0, or nonzero for error cases). The
#   fixture goes to $TMP/NAME.fixture until capture_install.
capture() {
	local name="$1" want="$2" cmd="$3"
	shift 3
	local setup idx
	local -a argv
	CASES+=("$name")

	capture_prepare
	for setup in "$@"; do
		read -ra argv <<<"$setup"
		nsx "${argv[@]}" >/dev/null
	done
	idx="$(capture_ifindex)"

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
		echo "# captured by $CAPTURE_SCRIPT: $CAPTURE_TOOLVER, kernel $(uname -r), strace $STRACEVER"
		echo "# namespace: $CAPTURE_NAMESPACE"
		echo "# traced with: ${STRACE[*]} $cmd"
		echo "cmd: $cmd"
		for setup in "$@"; do
			echo "setup: $setup"
		done
		echo "ifindex: $idx"
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

# capture_install OUTDIR: all cases captured, replace the old set there
# (stale *.fixture files are removed).
capture_install() {
	local out="$1" f name keep
	set +f
	for f in "$out"/*.fixture; do
		[ -e "$f" ] || continue
		keep=0
		for name in "${CASES[@]}"; do
			[ "$f" = "$out/$name.fixture" ] && keep=1
		done
		[ "$keep" -eq 1 ] || rm -f "$f"
	done
	set -f
	for name in "${CASES[@]}"; do
		mv "$TMP/$name.fixture" "$out/$name.fixture"
	done
}
