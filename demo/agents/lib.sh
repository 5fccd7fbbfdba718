# SPDX-License-Identifier: GPL-2.0-only
#
# lib.sh - sourced by the demo agents. Runs confined, under busybox sh too.
#
# try EXPECT WHAT OP ARG... makes one access through pf-probe and prints one
# line for demo/scenario.sh to judge:
#   attempt|PART|EXPECT|WHAT|OP ARG...|PROBE OUTPUT
# PART is "net" for connect and sendto, "files" otherwise. Attempts whose part
# is not in $PARTS (the agent's first argument: "net", "files" or "all") are
# skipped, so that a host without BPF LSM runs only what it can enforce.
# EXPECT is what the scenario expects (allow or deny); the agent itself does
# not judge, it only reports what the kernel answered.

PROBE=${0%/*}/pf-probe
PARTS=${1:-all}

try()
{
	expect=$1
	what=$2
	shift 2
	case $1 in
	connect | sendto) part=net ;;
	*) part=files ;;
	esac
	case " $PARTS " in
	*" all "* | *" $part "*) ;;
	*) return 0 ;;
	esac
	out=$("$PROBE" "$@" 2>&1) || true
	echo "attempt|$part|$expect|$what|$*|$out"
}
