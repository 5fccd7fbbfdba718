#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# demo/run.sh - `make demo`: five confined agents on a synthetic healthcare
# site, each making allowed and forbidden accesses; prints what was blocked,
# the audit records, and what was enforced where. Needs root and a build
# (make tests). Exit status 0 when every expected allow was allowed and every
# expected denial was blocked with its audit record, 1 otherwise.
#
# Part 1 runs demo/scenario.sh on this host. Where the kernel cannot run BPF
# LSM programs, pinfold enforces only the network there, so part 2 runs the
# same scenario, files included, in the test VM (tests/vm/run.sh: Debian's
# 6.1 kernel under qemu, where BPF LSM works).
set -u -o pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo" || exit 2
LOG=${PF_DEMO_LOG:-/tmp/pinfold-demo-log}
# What the VM needs beyond what tests/vm/run.sh always includes (build/ and tests/)
# (files one by one: tests/vm/mkinitramfs.sh fails on a folder whose last file is not ELF)
VM_FILES=(demo/scenario.sh demo/gen-data.sh demo/vm-guest.sh demo/agents/*.sh
	policy/examples/healthcare/*.yaml
	/etc/ld.so.cache) # the image has none of its own: the loader finds libraries as on the host

if [ "$(id -u)" != 0 ]; then
	echo "demo: must run as root (sudo make demo)" >&2
	exit 2
fi
mkdir -p "$LOG"

# Audit records come out raw from the scenario (the VM has no python);
# format them here when python3 is available.
pretty()
{
	if command -v python3 >/dev/null 2>&1; then
		python3 -u demo/pretty-audit.py
	else
		cat
	fi
}

part()
{
	echo
	echo "################################################################################"
	echo "# $*"
	echo "################################################################################"
}

# enforced LOGFILE: what the scenario said it enforced on which kernel, as
# "kernel K: WHAT", or nothing when it did not get that far
enforced()
{
	tr -d '\r' <"$1" | sed -n 's/^enforced on kernel \([^:]*\): \(.*\)$/kernel \1: \2/p' |
		head -n 1 | sed -e 's/: network, files$/: network and file rules enforced/' \
		-e 's/: network$/: network rules enforced, file rules NOT enforced (no usable BPF LSM)/' \
		-e 's/: network (file rules refused.*$/: network rules only; pinfold refused the file rules/'
}

cat <<'EOT'
pinfold healthcare demo
=======================
Five AI agents of a (synthetic) clinic run confined by pinfold, with the
policy in policy/examples/healthcare: data classes (charts, schedule, intake
drafts, claims, contacts, de-identified summaries, support tickets), backends
(EHR API less its bulk export node, billing DB, CRM API, helpdesk, DNS), and
per-job permission families. Each agent makes the accesses its job needs and
a few it must not make: data of a class it holds no grant on, an action its
grant does not include, the excepted EHR export node, a file it may write but
not run. The kernel decides, and pinfold writes an audit record for every
denial (and for every use of the audited data and backends).
No real patient data: every name, MRN and phone number is generated.
EOT

part "PART 1: on this host, kernel $(uname -r)"
PF_DEMO_OUT=/tmp/pinfold-demo-out demo/scenario.sh --parts auto 2>&1 | tee "$LOG/host.log" | pretty
host_rc=${PIPESTATUS[0]}
host_enforced=$(enforced "$LOG/host.log")

vm_rc=skip
vm_enforced=
case $host_enforced in
*": network and file rules enforced")
	echo
	echo "(this kernel enforces file rules itself: no VM needed)"
	;;
*)
	part "PART 2: inside a VM, Debian's 6.1 kernel with BPF LSM (files and network)"
	echo "This host's kernel cannot run BPF LSM programs, so part 1 enforced only the"
	echo "network rules. Here the same scenario runs in a qemu VM whose kernel has BPF LSM,"
	echo "so the file rules are enforced too. The output below is the VM's console."
	if [ ! -x tests/vm/run.sh ]; then
		echo "demo: tests/vm/run.sh is missing: the file rules were not shown" >&2
		vm_rc=1
	else
		tests/vm/run.sh demo/vm-guest.sh "${VM_FILES[@]}" 2>&1 | tee "$LOG/vm.log" | pretty
		vm_rc=${PIPESTATUS[0]}
		vm_enforced=$(enforced "$LOG/vm.log")
	fi
	;;
esac

part "What was enforced where"
echo "this host, ${host_enforced:-nothing (the scenario did not get that far)}"
if [ "$vm_rc" != skip ]; then
	echo "the VM,    ${vm_enforced:-nothing (the scenario did not get that far)}"
fi
echo "(network rules: cgroup connect/sendmsg BPF programs; file rules: BPF LSM programs;"
echo "each audit record says the same in its \"enforced\" member)"
echo "logs: $LOG"

status=0
if [ "$host_rc" = 0 ]; then
	echo "part 1 (host): PASS"
else
	echo "part 1 (host): FAIL (status $host_rc), see above"
	status=1
fi
case $vm_rc in
skip) ;;
0) echo "part 2 (VM):   PASS" ;;
*)
	echo "part 2 (VM):   FAIL (status $vm_rc), see above"
	status=1
	;;
esac
exit $status
