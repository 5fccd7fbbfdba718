#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# vm-open.sh - the guest's side of the open() rows (busybox sh, in the test
# VM, run by tests/vm/run.sh for tests/bench/row-open.sh). The kernel's
# command line names the programs and the sizes:
#   pf.openbench=PATH pf.pinfold=PATH pf.open=ROUNDS,FIRST,REPEAT,RAW
# (RAW 1: every trial's figures on stderr too)
# openbench prints the rows, each line starting with PF-BENCH and a tab.
set -u

ob='' pf='' sizes=''
# shellcheck disable=SC2013 # the command line is one line of words
for arg in $(cat /proc/cmdline); do
	case "$arg" in
	pf.openbench=*) ob=${arg#pf.openbench=} ;;
	pf.pinfold=*) pf=${arg#pf.pinfold=} ;;
	pf.open=*) sizes=${arg#pf.open=} ;;
	esac
done
if [ -z "$ob" ] || [ -z "$pf" ] || [ -z "$sizes" ]; then
	printf 'PF-BENCH\tfail\topen()\tthe kernel command line names no pf.openbench, pf.pinfold or pf.open\n'
	exit 1
fi
if ! grep -qw bpf /sys/kernel/security/lsm; then
	printf 'PF-BENCH\tfail\topen()\tBPF LSM is not active in the VM kernel\n'
	exit 1
fi
# audit logs in a directory of root's only, as pinfold run requires; the
# signing key in /etc/pinfold, as on an installed host
mkdir -m 0700 /tmp/pf-audit
"$pf" audit keygen >/dev/null 2>&1
IFS=,
# shellcheck disable=SC2086 # split at the commas
set -- $sizes
unset IFS
[ "${4:-0}" = 1 ] && export OPENBENCH_RAW=1
PINFOLD=$pf "$ob" vm "$1" "$2" "$3"
