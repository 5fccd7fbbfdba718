# SPDX-License-Identifier: GPL-2.0-only
#
# lib.sh - sourced by the demo agents. Runs confined, under busybox sh too.
#
# try EXPECT WHAT OP ARG... makes one access and prints one line for
# demo/scenario.sh to judge:
#   attempt|PART|EXPECT|WHAT|OP ARG...|RESULT
# RESULT is pf-probe's line ("ok ...", "err ENAME"). OP is a pf-probe
# operation, or "exec PATH": run PATH with no arguments, as an agent that
# follows an instruction to run a file would. PART is "net" for connect and
# sendto, "files" otherwise. Attempts whose part is not in $PARTS (the
# agent's first argument: "net", "files" or "all") are skipped, so that a
# host without BPF LSM runs only what it can enforce. EXPECT is what the
# scenario expects (allow or deny); the agent itself does not judge, it only
# reports what the kernel answered.

PROBE=${0%/*}/pf-probe
PARTS=${1:-all}

# run_file PATH: "ok" when PATH ran, "err EACCES" when the kernel refused to
# execute it, otherwise what the shell said. pf-probe has no exec operation;
# the shell's "Permission denied" (exit 126) is how EACCES from execve shows.
run_file()
{
	_out=$("$1" 2>&1 </dev/null)
	_rc=$?
	case $_rc:$_out in
	0:*) echo ok ;;
	126:*"ermission denied"*) echo "err EACCES" ;;
	*) echo "err exit $_rc: $(echo "$_out" | tr '\n' ' ')" ;;
	esac
}

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
	if [ "$1" = exec ]; then
		out=$(run_file "$2")
	else
		out=$("$PROBE" "$@" 2>&1) || true
	fi
	echo "attempt|$part|$expect|$what|$*|$out"
}
