#!/usr/bin/env bash
# test_netns.sh where namespaces can be made but not entered: the chroot
# case. A root directory that is not a mount point, with this machine's
# /usr, /etc and /dev bound into it, inside a private mount namespace of
# our own; test_netns.sh run in it with chroot must say why in one line and
# exit 77 (skipped), and leave no namespace and no /run/netns mount or
# directory behind.
# Usage: test_netns_chroot.sh TEST_NETNS_SH
# Needs root and a private mount namespace (unshare --mount); without
# them, exits 77 itself.
set -euo pipefail
SCRIPT=$(realpath "$1")
skip() { echo "SKIP test_netns_chroot: $*"; exit 77; }

if [ "${CW_INSIDE:-}" != 1 ]; then
	[ "$(id -u)" -eq 0 ] || skip "needs root (mount, chroot)"
	for c in unshare chroot mountpoint ip; do
		command -v "$c" >/dev/null || skip "no $c"
	done
	err=$(unshare --mount true 2>&1) || skip "no private mount namespace here (unshare --mount: $err)"
	ROOT=$(mktemp -d /tmp/cw-chroot-XXXXXX)
	rc=0
	CW_INSIDE=1 CW_ROOT=$ROOT unshare --mount -- "$0" "$@" || rc=$?
	# The mounts lived in the namespace, and ended with it. Remove the
	# root only when nothing is mounted below it (in this namespace).
	if grep -q " ${ROOT}[/ ]" /proc/self/mountinfo; then
		echo "FAIL something is still mounted below $ROOT; left in place"
		exit 1
	fi
	rm -rf --one-file-system "$ROOT"
	exit "$rc"
fi

# ---- inside the private mount namespace -------------------------------------
R=$CW_ROOT
failures=0 total=0
check() { # check NAME EXPECTED ACTUAL
	total=$((total + 1))
	if [ "$2" = "$3" ]; then echo "ok   $1"
	else echo "FAIL $1: expected [$2], got [$3]"; failures=$((failures + 1)); fi
}
# unshare made every mount private: nothing done here reaches the host
for d in usr etc dev; do
	mkdir "$R/$d"
	mount --rbind "/$d" "$R/$d"
done
for d in bin sbin lib lib32 lib64 libx32; do # merged /usr: links; else bind
	if [ -L "/$d" ]; then ln -s "$(readlink "/$d")" "$R/$d"
	elif [ -d "/$d" ]; then mkdir "$R/$d"; mount --rbind "/$d" "$R/$d"; fi
done
mkdir "$R/proc" "$R/sys" "$R/run" "$R/tmp" "$R/src"
mount -t proc proc "$R/proc"
mount --bind "$(dirname "$SCRIPT")" "$R/src"
in_root() { chroot "$R" "$@"; }

# The fixture is the chroot case, or this test proves nothing.
rc=0; in_root mountpoint -q / || rc=$?
check "inside the root, / is not a mount point (mountpoint exits 32)" 32 "$rc"

rc=0
out=$(in_root "/src/$(basename "$SCRIPT")" /bin/false /bin/false 2>&1) || rc=$?
printf '%s\n' "$out" | sed 's/^/     | /'
check "test_netns.sh exits 77 (skipped)" 77 "$rc"
check "it says why in one line" 1 "$(printf '%s\n' "$out" | wc -l)"
case "$out" in
"SKIP test_netns: cannot enter a network namespace here (ip netns exec:"*"/ is not a mount point"*)
	check "the line names the step that failed and why" yes yes ;;
*) check "the line names the step that failed and why" "SKIP test_netns: cannot enter ... (ip netns exec: ... / is not a mount point ...)" "$out" ;;
esac
mounted=$(awk -v p="$R/run/netns" '$5 == p' /proc/self/mountinfo)
check "no run/netns mount is left behind" "" "$mounted"
check "no run/netns directory is left behind" absent \
	"$([ -e "$R/run/netns" ] && echo present || echo absent)"
check "ip netns list is empty" "" "$(in_root ip netns list 2>&1)"

echo "$((total - failures)) passed, $failures failed"
[ "$failures" -eq 0 ]
