# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0-only
# lib.sh - shared helpers for the benchmark rows (bash); source it. A row is
# one executable, tests/bench/row-NAME.sh or OUT/bench/row-NAME (built from
# tests/bench/row-NAME.c), run by bench.sh. It says what it measured on
# stdout, one tab-separated line each, which bench.sh turns into the table:
#
#   row   NAME  MEASURED  BASELINE  UNIT   one table row; the ratio is
#                                          MEASURED / BASELINE; MEASURED may
#                                          start with ">=" (a lower bound)
#   note  TEXT                             printed under the table
#   fail  NAME  REASON                     the row could not measure
#
# Anything else on stdout is ignored; stderr is progress, shown as it runs.
# A row exits 0 when it measured all its rows, nonzero when one could not be.
# Rows never judge timing: a row fails only when it cannot measure (or, for
# a zero-loss rate, when no rate at all is free of loss).
#
# bench.sh gives each row, in the environment: PF_ROOT (the source tree),
# PINFOLD (the pinfold binary), BENCH_BIN (OUT/bench), BENCH_TMP (a fresh
# directory of its own, removed after it, on the filesystem of BENCH_DIR),
# BENCH_SECONDS (the length of one trial) and BENCH_BUDGET (the seconds one
# search may spend).

# BENCH_RATE, BENCH_STATUS and BENCH_FAILED are for the rows that source this
# shellcheck disable=SC2034

BENCH_SECONDS=${BENCH_SECONDS:-2}
BENCH_BUDGET=${BENCH_BUDGET:-30}
# a rate search gives up below this many events a second
BENCH_MIN_RATE=${BENCH_MIN_RATE:-100}
# a search stops when the rate that lost is within this factor of the one that did not
BENCH_PRECISION=${BENCH_PRECISION:-1.1}
# 1 once a row failed (bench_fail_row): the exit status a row ends with
BENCH_FAILED=0

bench_log()
{
	echo "  $*" >&2
}

# bench_row NAME MEASURED BASELINE UNIT
bench_row()
{
	printf 'row\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4"
}

bench_note()
{
	printf 'note\t%s\n' "$*"
}

# bench_cannot REASON: a trial cannot measure; says why on stderr, and keeps
# it in BENCH_TMP/why for the row's fail line (bench_why)
bench_cannot()
{
	echo "$*" >&2
	echo "$*" >"$BENCH_TMP/why"
}

bench_why()
{
	tail -n 1 "$BENCH_TMP/why" 2>/dev/null || echo "no reason given"
}

# bench_fail_row NAME REASON: the table row NAME cannot be measured; the
# others go on
bench_fail_row()
{
	printf 'fail\t%s\t%s\n' "$1" "$2"
	BENCH_FAILED=1
}

# bench_fail NAME REASON: nothing more can be measured; exits
bench_fail()
{
	bench_fail_row "$1" "$2"
	exit 1
}

# bench_group N: N with its digits in groups of three (1,234,567)
bench_group()
{
	sed ':a;s/\B[0-9]\{3\}\>/,&/;ta' <<<"$1"
}

# bench_calc EXPR: print awk's value of EXPR, rounded to an integer
bench_calc()
{
	awk "BEGIN { printf \"%.0f\", $1 }"
}

# bench_search NAME TRIAL [NAME TRIAL]...: for each NAME, the highest rate,
# in events a second, that its TRIAL sustains without losing one event, in
# BENCH_RATE[NAME], with BENCH_STATUS[NAME]: 0 found, 1 no rate of
# BENCH_MIN_RATE or more was free of loss, 3 the budget ran out first. The
# searches take turns, one trial each, so that a change in the machine's load
# (other work) falls on all of them alike. Returns 2 when a trial could not
# measure (bench_why says why), else 0. Progress goes to stderr.
#
# TRIAL RATE offers RATE events a second (0: as fast as it can) for one trial
# and prints "ok ACHIEVED" (no event lost) or "loss ACHIEVED TAKEN", ACHIEVED
# being the rate it really offered and TAKEN the rate at which the path took
# events while losing; it exits nonzero, after bench_cannot, when it cannot
# measure.
#
# The flat-out trial first: without loss, the generator and not the path was
# the limit, and the answer is ">=ACHIEVED". Else the rate the path took
# flat out bounds the answer. The answer is the highest rate that had no
# loss below the lowest rate that had (one loss anywhere below a rate
# disqualifies it), and that passed twice: the search halves down until a
# rate passes, bisects (geometric) until the rates with and without loss
# are within BENCH_PRECISION, runs the answer again, and steps down by
# BENCH_PRECISION when a loss turns up below it. Rates are those achieved,
# not those asked for; a rate the generator fell short of by more than half
# a step (got < r / sqrt(BENCH_PRECISION)) counts as out of its reach. Loss
# need not grow with the rate (a consumer kept busy sleeps less), which is
# why a loss below a rate disqualifies it. Stops after BENCH_BUDGET seconds
# a search; an answer not yet run twice is then said on stderr.
declare -A BENCH_RATE BENCH_STATUS BS_TRIAL BS_OKS BS_LOSSES BS_CONFIRMED
BS_LO=0
BS_HI=0

bench_search()
{
	local deadline=$((SECONDS + BENCH_BUDGET * $# / 2)) name active=() left

	while [ $# -ge 2 ]; do
		BS_TRIAL[$1]=$2 BS_OKS[$1]='' BS_LOSSES[$1]='' BS_CONFIRMED[$1]=0
		active+=("$1")
		shift 2
	done
	while [ ${#active[@]} -gt 0 ] && [ "$SECONDS" -lt "$deadline" ]; do
		left=()
		for name in "${active[@]}"; do
			bench_step "$name"
			case $? in
			0) left+=("$name") ;;
			1) ;;
			*) return 2 ;;
			esac
		done
		active=("${left[@]}")
	done
	for name in "${active[@]}"; do
		bench_bounds "$name"
		BENCH_RATE[$name]=$BS_LO BENCH_STATUS[$name]=0
		[ "$BS_LO" != 0 ] || BENCH_STATUS[$name]=3
		[ "$BS_LO" = 0 ] || [ "${BS_CONFIRMED[$name]}" = "$BS_LO" ] ||
			bench_log "$name: out of time before a second run at $BS_LO/s"
	done
	return 0
}

# bench_bounds NAME: BS_HI, the lowest rate that lost; BS_LO, the highest
# below it that did not (0: none)
bench_bounds()
{
	local x

	BS_HI=
	for x in ${BS_LOSSES[$1]}; do
		[ -z "$BS_HI" ] || [ "$x" -lt "$BS_HI" ] && BS_HI=$x
	done
	BS_LO=0
	for x in ${BS_OKS[$1]}; do
		[ "$x" -lt "$BS_HI" ] && [ "$x" -gt "$BS_LO" ] && BS_LO=$x
	done
}

# bench_step NAME: one trial of NAME's search; 0 when the search goes on, 1
# when it ended (BENCH_RATE and BENCH_STATUS set), 2 when the trial could not
# measure
bench_step()
{
	local name=$1 trial=${BS_TRIAL[$1]} verdict got taken r step=2

	if [ -z "${BS_LOSSES[$name]}" ]; then
		bench_trial "$name" "$trial" 0 || return 2
		if [ "$verdict" = ok ]; then
			BENCH_RATE[$name]=">=$got" BENCH_STATUS[$name]=0
			return 1
		fi
		BS_LOSSES[$name]=$taken
		return 0
	fi
	bench_bounds "$name"
	if [ "$BS_LO" = 0 ]; then
		[ -z "${BS_OKS[$name]}" ] || step=$BENCH_PRECISION
		r=$(bench_calc "$BS_HI / $step")
	elif awk "BEGIN { exit !($BS_HI > $BS_LO * $BENCH_PRECISION) }"; then
		r=$(bench_calc "sqrt($BS_LO * $BS_HI)")
	elif [ "${BS_CONFIRMED[$name]}" != "$BS_LO" ]; then
		r=$BS_LO
	else
		BENCH_RATE[$name]=$BS_LO BENCH_STATUS[$name]=0
		return 1
	fi
	if [ "$r" -lt "$BENCH_MIN_RATE" ]; then
		BENCH_RATE[$name]=0 BENCH_STATUS[$name]=1
		return 1
	fi

	bench_trial "$name" "$trial" "$r" || return 2
	if [ "$verdict" != ok ]; then
		BS_LOSSES[$name]+=" $got"
		return 0
	fi
	BS_OKS[$name]+=" $got"
	if [ "$r" = "$BS_LO" ]; then
		BS_CONFIRMED[$name]=$((got > BS_LO ? got : BS_LO))
	elif awk "BEGIN { exit !($got * $BENCH_PRECISION < $r) }"; then
		BS_LOSSES[$name]+=" $r" # out of the generator's reach
	fi
	return 0
}

# bench_trial NAME TRIAL RATE: one trial; sets verdict, got and taken
bench_trial()
{
	local out

	out=$("$2" "$3") || return 1
	read -r verdict got taken <<<"$out"
	taken=${taken:-$got}
	case $verdict in
	ok) bench_log "$1: asked $3/s, offered $got/s: no loss" ;;
	loss) bench_log "$1: asked $3/s, offered $got/s: loss (took $taken/s)" ;;
	*)
		bench_cannot "$1: a trial printed '$out'"
		return 1
		;;
	esac
}
