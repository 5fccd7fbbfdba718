#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Run pinfold's test suites and sum up.
#
#   tests/run-all.sh [unit|host|vm]...     no argument: all three, in that order
#
#   unit  build/tests/test_*: cmocka unit tests, one per tests/unit/test_*.c
#   host  tests/integration/test_*.sh: real kernel, cgroups and sockets (root)
#   vm    tests/vm/test_*.sh, each run inside the test VM by tests/vm/run.sh SCRIPT;
#         tests/vm/check_*.sh, each booting the VM itself and judging its output here
#
# Each suite exits 0 to pass, 77 to skip (its last line of output says why) and
# anything else to fail; one line is printed per suite, its output goes to
# build/test-logs/KIND/NAME.log (V=1 prints it too). The last line is
# "N passed, N failed, N skipped", counting suites; the exit status is 1 when
# any suite failed. Build first: make tests.
#
# Environment: V=1 verbose; PF_TEST_TIMEOUT seconds per unit or host suite
# (default 900), PF_VM_TIMEOUT per VM suite (default 3600).
set -u

cd "$(dirname "$0")/.." || exit 1
root=$(pwd)
logs="$root/build/test-logs"

passed=0
failed=0
skipped=0

# result KIND NAME STATUS LOG: print the suite's line and count it
result()
{
	local kind=$1 name=$2 status=$3 log=$4 reason

	case $status in
	0)
		passed=$((passed + 1))
		printf 'PASS  %s/%s\n' "$kind" "$name"
		;;
	77)
		skipped=$((skipped + 1))
		reason=$(grep -v '^[[:space:]]*$' "$log" 2>/dev/null | tail -n 1 |
			sed 's/^SKIP:*[[:space:]]*//')
		printf 'SKIP  %s/%s: %s\n' "$kind" "$name" "${reason:-no reason given}"
		;;
	124)
		failed=$((failed + 1))
		printf 'FAIL  %s/%s: timed out, see %s\n' "$kind" "$name" "${log#"$root"/}"
		;;
	*)
		failed=$((failed + 1))
		printf 'FAIL  %s/%s: exit %s, see %s\n' "$kind" "$name" "$status" "${log#"$root"/}"
		;;
	esac
}

# run_suite KIND NAME TIMEOUT CMD...: run one suite with its output in its log
run_suite()
{
	local kind=$1 name=$2 secs=$3 log status
	shift 3

	log="$logs/$kind/$name.log"
	mkdir -p "$logs/$kind"
	if [ "${V:-0}" = 1 ]; then
		printf '=== %s/%s\n' "$kind" "$name"
		timeout -k 10 "$secs" "$@" </dev/null 2>&1 | tee "$log"
		status=${PIPESTATUS[0]}
	else
		timeout -k 10 "$secs" "$@" </dev/null >"$log" 2>&1
		status=$?
	fi
	result "$kind" "$name" "$status" "$log"
}

# fail_suite KIND NAME WHY: a suite that could not even start counts as failed
fail_suite()
{
	failed=$((failed + 1))
	printf 'FAIL  %s/%s: %s\n' "$1" "$2" "$3"
}

run_unit()
{
	local src name bin

	for src in tests/unit/test_*.c; do
		[ -e "$src" ] || continue
		name=$(basename "$src" .c)
		bin="build/tests/$name"
		if [ ! -x "$bin" ]; then
			fail_suite unit "$name" "$bin not built (make tests)"
			continue
		fi
		run_suite unit "$name" "${PF_TEST_TIMEOUT:-900}" "$bin"
	done
}

run_host()
{
	local script

	for script in tests/integration/test_*.sh; do
		[ -e "$script" ] || continue
		run_suite host "$(basename "$script" .sh)" "${PF_TEST_TIMEOUT:-900}" "$script"
	done
}

run_vm()
{
	local script name

	for script in tests/vm/test_*.sh; do
		[ -e "$script" ] || continue
		name=$(basename "$script" .sh)
		# a VM suite that cannot run is a failure, never a pass or a skip
		if [ ! -x tests/vm/run.sh ]; then
			fail_suite vm "$name" "tests/vm/run.sh missing or not executable"
			continue
		fi
		run_suite vm "$name" "${PF_VM_TIMEOUT:-3600}" tests/vm/run.sh "$script"
	done
	# a check_*.sh boots the VM itself and judges what the guest printed,
	# where the guest has no python3 to judge it
	for script in tests/vm/check_*.sh; do
		[ -e "$script" ] || continue
		run_suite vm "$(basename "$script" .sh)" "${PF_VM_TIMEOUT:-3600}" "$script"
	done
}

kinds=("$@")
[ ${#kinds[@]} -eq 0 ] && kinds=(unit host vm)
for kind in "${kinds[@]}"; do
	case $kind in
	unit | host | vm) ;;
	*)
		echo "usage: tests/run-all.sh [unit|host|vm]..." >&2
		exit 2
		;;
	esac
done

for kind in "${kinds[@]}"; do
	"run_$kind"
done

printf '%d passed, %d failed, %d skipped\n' "$passed" "$failed" "$skipped"
[ "$failed" -eq 0 ]
