#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Smoke test of the test VM: is everything pinfold's VM tests rely on there?
#
#   tests/vm/run.sh tests/vm/test_smoke.sh
#
# Runs inside the guest (busybox sh). Checks that BPF LSM is active, kernel BTF is
# there, cgroup2 and bpffs are mounted and usable, veth pairs can be made, loopback
# carries TCP over 127.0.0.1 and ::1, and that a BPF LSM program really loads, attaches
# and denies: smoke_lsm.bpf.c through vm_lsm_smoke denies opens of one inode, matched
# by inode so a hard link is denied too, and stops denying once detached. Last, that
# build/pinfold (when built) can be executed, i.e. the image has its libraries.
# One PASS, FAIL or SKIP line per check; the exit status is the number of failures.

passed=0
failed=0
loader=/pinfold/build/vm/vm_lsm_smoke
dir=/srv/pf-smoke

pass()
{
	passed=$((passed + 1))
	echo "PASS $*"
}

fail()
{
	failed=$((failed + 1))
	echo "FAIL $*"
}

skip()
{
	echo "SKIP $*"
}

# check NAME DETAIL CMD...: PASS when CMD succeeds
check()
{
	name=$1
	detail=$2
	shift 2
	if "$@"; then
		pass "$name: $detail"
	else
		fail "$name: $detail"
	fi
}

# mounted DIR FSTYPE: DIR is a mount point of type FSTYPE (from mountinfo)
mounted()
{
	awk -v dir="$1" -v type="$2" '
		{ for (i = 7; i <= NF; i++) if ($i == "-") break }
		$5 == dir && $(i + 1) == type { found = 1 }
		END { exit !found }' /proc/self/mountinfo
}

lsm_has_bpf()
{
	tr ',' '\n' < /sys/kernel/security/lsm | grep -qx bpf
}

# A child cgroup takes a process and shows in its /proc/PID/cgroup.
cgroup_usable()
{
	local cg=/sys/fs/cgroup/pf-smoke got

	mkdir "$cg" || return 1
	got=$(sh -c "echo \$\$ > $cg/cgroup.procs && cat /proc/self/cgroup")
	rmdir "$cg"
	[ "$got" = "0::/pf-smoke" ]
}

bpffs_usable()
{
	mkdir /sys/fs/bpf/pf-smoke && rmdir /sys/fs/bpf/pf-smoke
}

veth_pair()
{
	ip link add pfsmoke0 type veth peer name pfsmoke1 && ip link del pfsmoke0
}

# tcp_loopback ADDR URLHOST PORT: busybox httpd on ADDR serves a file that wget fetches
tcp_loopback()
{
	local addr=$1 urlhost=$2 port=$3 pid got i=0

	mkdir -p /tmp/pf-www
	echo "pf-smoke $port" > /tmp/pf-www/hello.txt
	httpd -f -p "$addr:$port" -h /tmp/pf-www &
	pid=$!
	while [ $i -lt 50 ]; do
		# busybox 1.35's wget -T crashes (SIGSEGV): bound it with timeout instead
		got=$(timeout 5 wget -q -O - "http://$urlhost:$port/hello.txt" 2>/dev/null) && break
		usleep 100000
		i=$((i + 1))
	done
	kill "$pid"
	wait "$pid" 2>/dev/null
	[ "$got" = "pf-smoke $port" ] || {
		echo "  fetched: '$got'"
		return 1
	}
}

check lsm "bpf in /sys/kernel/security/lsm ($(cat /sys/kernel/security/lsm))" lsm_has_bpf
check btf "/sys/kernel/btf/vmlinux present (CO-RE needs it)" test -s /sys/kernel/btf/vmlinux
check cgroup2 "cgroup2 mounted at /sys/fs/cgroup" mounted /sys/fs/cgroup cgroup2
check cgroup2-move "a process moves into a child cgroup" cgroup_usable
check bpffs "bpffs mounted at /sys/fs/bpf" mounted /sys/fs/bpf bpf
check bpffs-dir "a directory can be made in bpffs" bpffs_usable
check srv "/srv is its own tmpfs" mounted /srv tmpfs
check veth "a veth pair can be made (veth module)" veth_pair
check tcp4 "TCP over 127.0.0.1" tcp_loopback 127.0.0.1 127.0.0.1 8401
check tcp6 "TCP over ::1" tcp_loopback '[::1]' '[::1]' 8402

# BPF LSM: deny opens of one inode while attached.
mkdir -p "$dir"
echo secret > "$dir/secret"
echo public > "$dir/public"
ln "$dir/secret" "$dir/alias"
if [ ! -x "$loader" ]; then
	fail "lsm-load: $loader missing (tests/vm/smoke.mk did not build it)"
else
	out=$("$loader" "$dir/secret" sh -c "
		cd $dir
		cat secret; echo secret=\$?
		cat alias; echo alias=\$?
		cat public; echo public=\$?
		bpftool prog show 2>&1" 2>&1)
	status=$?
	echo "$out" | sed 's/^/  | /'
	if [ $status -ne 0 ] || ! echo "$out" | grep -qx attached; then
		fail "lsm-load: vm_lsm_smoke exited $status without attaching lsm/file_open"
	else
		pass "lsm-load: lsm/file_open loaded and attached"
		check lsm-deny "open of the denied inode fails with EPERM" \
			sh -c 'echo "$1" | grep -qx secret=1 &&
				echo "$1" | grep -q "secret.*Operation not permitted"' - "$out"
		check lsm-deny-link "open through a hard link is denied too (inode match)" \
			sh -c 'echo "$1" | grep -qx alias=1' - "$out"
		check lsm-allow "other files still open" \
			sh -c 'echo "$1" | grep -qx public && echo "$1" | grep -qx public=0' - "$out"
		check lsm-count "the program counted 2 denials" \
			sh -c 'echo "$1" | grep -qx "denials 2"' - "$out"
		if command -v bpftool >/dev/null; then
			check lsm-listed "bpftool lists the lsm program while attached" \
				sh -c 'echo "$1" | grep -Eq "^[0-9]+: lsm +name file_open "' - "$out"
		else
			skip "lsm-listed: bpftool not in the image"
		fi
		check lsm-detach "the inode opens again once detached" \
			sh -c "[ \"\$(cat $dir/secret)\" = secret ]"
	fi
fi

if [ -e /pinfold/build/pinfold ]; then
	/pinfold/build/pinfold --help >/dev/null 2>&1
	status=$?
	check pinfold-exec "build/pinfold executes (exit $status to --help)" \
		test $status -ne 126 -a $status -ne 127
else
	skip "pinfold-exec: build/pinfold not built"
fi

echo "smoke: $passed checks passed, $failed failed"
exit $failed
