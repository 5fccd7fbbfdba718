#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# bench.sh - run pinfold's benchmark rows and print one table:
#
#   row | measured | baseline | ratio
#
# Each row compares what pinfold achieves with a baseline measured in the
# same run, on the same machine; ratio = measured / baseline. Nothing here
# passes or fails on timing: a row fails only when it cannot measure. A row
# is one executable, tests/bench/row-NAME.sh or OUT/bench/row-NAME (built
# from tests/bench/row-NAME.c); lib.sh says what it prints.
#
#   tests/bench/bench.sh [NAME...]     no NAME: every row (root; make bench
#                                      builds what it needs and runs this)
#
# Environment: OUT (the build folder, default build), PINFOLD (default
# OUT/pinfold), BENCH_DIR (where rows keep their files, default /var/tmp: it
# must be a disk, since the audit rows time syncs), BENCH_SECONDS and
# BENCH_BUDGET (lib.sh). The table goes to stdout, progress to stderr. Exit
# 1, with the reason in one line, when there is nothing it can measure, or
# when a row failed.
set -u

cd "$(dirname "$0")/../.." || exit 1
root=$(pwd)
OUT=${OUT:-build}
case $OUT in
/*) ;;
*) OUT=$root/$OUT ;;
esac
export PF_ROOT=$root BENCH_BIN=$OUT/bench PINFOLD=${PINFOLD:-$OUT/pinfold}
export BENCH_DIR=${BENCH_DIR:-/var/tmp}
work=
start=$SECONDS
load=$(cut -d' ' -f1-3 /proc/loadavg)

die()
{
	echo "bench: $*" >&2
	exit 1
}

cleanup()
{
	[ -n "$work" ] && rm -rf "$work"
}

# rows NAME...: the executables of the rows named, or of every row
rows()
{
	local name f found

	if [ $# = 0 ]; then
		for f in tests/bench/row-*.sh "$BENCH_BIN"/row-*; do
			[ -x "$f" ] && echo "$f"
		done
		return 0
	fi
	for name in "$@"; do
		found=
		for f in "tests/bench/row-$name.sh" "$BENCH_BIN/row-$name"; do
			[ -x "$f" ] && found=$f
		done
		[ -n "$found" ] || die "no row $name (tests/bench/row-$name.sh or $BENCH_BIN/row-$name)"
		echo "$found"
	done
}

# table FILE: the collected row lines of FILE as the table, then its notes
table()
{
	awk -F '\t' '
	function group(n,    s) {
		s = sprintf("%.0f", n)
		while (s ~ /[0-9][0-9][0-9][0-9]/)
			sub(/[0-9][0-9][0-9]($|,)/, ",&", s)
		return s
	}
	function ratio(r) {
		return r >= 100 ? sprintf("%.0f", r) : sprintf("%.3g", r)
	}
	function add(a, b, c, d) {
		n++; cell[n, 1] = a; cell[n, 2] = b; cell[n, 3] = c; cell[n, 4] = d
		for (i = 1; i <= 4; i++)
			if (length(cell[n, i]) > w[i])
				w[i] = length(cell[n, i])
	}
	BEGIN { add("row", "measured", "baseline", "ratio") }
	$1 == "row" {
		bound = sub(/^>=/, "", $3) ? ">=" : ""
		add($2, bound group($3) " " $5, group($4) " " $5,
		    $4 > 0 ? bound ratio($3 / $4) : "-")
	}
	$1 == "fail" { add($2, "-", "-", "cannot measure: " $3) }
	$1 == "note" { notes[++m] = $2 }
	END {
		for (r = 1; r <= n; r++)
			printf "%-*s | %-*s | %-*s | %s\n", w[1], cell[r, 1], w[2], cell[r, 2],
			       w[3], cell[r, 3], cell[r, 4]
		for (r = 1; r <= m; r++)
			print "- " notes[r]
	}' "$1"
}

[ "$(id -u)" = 0 ] || die "cannot measure: needs root (BPF programs, cgroups)"
busy=$(pgrep -f 'tests/integration/test_|tests/run-all\.sh' | head -n 1)
[ -z "$busy" ] ||
	die "cannot measure: a test suite is running (pid $busy); its load would be measured too"
[ -d "$BENCH_DIR" ] || die "cannot measure: BENCH_DIR $BENCH_DIR is not a directory"
list=$(rows "$@") || exit 1
[ -n "$list" ] || die "no rows in tests/bench or $BENCH_BIN"
mapfile -t execs <<<"$list"

work=$(mktemp -d "$BENCH_DIR/pinfold-bench.XXXXXX") || die "cannot create a folder in $BENCH_DIR"
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

failed=0
for f in "${execs[@]}"; do
	name=$(basename "$f" .sh)
	name=${name#row-}
	echo "bench: $name" >&2
	mkdir "$work/$name" || die "cannot create $work/$name"
	BENCH_TMP=$work/$name "$f" >"$work/$name.out"
	status=$?
	grep -E $'^(row|note|fail)\t' "$work/$name.out" >>"$work/lines"
	if [ $status != 0 ]; then
		failed=$((failed + 1))
		grep -q $'^fail\t' "$work/$name.out" ||
			printf 'fail\t%s\texit %s\n' "$name" "$status" >>"$work/lines"
	fi
	rm -rf "${work:?}/$name"
done

model=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
echo "pinfold bench $(date -u +%Y-%m-%dT%H:%MZ): ${model:-$(uname -m)}, $(nproc) CPUs," \
	"Linux $(uname -r), load $load before the run"
table "$work/lines"
echo "bench: ${#execs[@]} row files in $((SECONDS - start)) s, $failed failed" >&2
[ $failed = 0 ]
