#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# row-audit.sh - the audit rows (issue 5): sustained events per second from
# the kernel to a synced audit file with zero loss, against the raw ring
# buffer consume rate measured in the same run. See lib.sh for how a row
# reports, bench.sh for how it is run.
#
# Measured: an agent under pinfold run, whose policy denies every connect,
# connects one TCP socket to 127.0.0.1 over and over at a steady rate (gen
# connect); each attempt is one decision event, through the instance's ring
# buffer and pinfold's writer, to one record in the audit file. A trial lost
# nothing when every attempt is a decision record and no events-lost record
# was written. Rows, where pinfold run has the options:
#   batch   --audit-sync batch (the default), the log never rotated
#   rotate  the same, the log rotating once in the middle of each
#           trial: it starts as a copy of a template log just short of
#           ROTATE_BYTES, so that a trial of seconds crosses a rotation of
#           the full size
#   none    --audit-sync none, never rotated
# A pinfold run without --audit-sync gets one row, with its defaults.
#
# Baseline: ringbench, the same size of record (a network event,
# PF_EVENT_SHORT_SIZE) through a ring of the same size (PF_RINGBUF_SIZE),
# woken as pinfold's ring is (each time its data crosses a multiple of
# PF_RINGBUF_WAKE_BYTES) and
# consumed by libbpf as pinfold's writer does (epoll, looking at least every
# PF_RINGBUF_POLL_MS), with a callback that only counts; it lost nothing
# when every record produced was consumed and none was dropped.
#
# Each figure is the highest rate, in events a second, of a trial of
# BENCH_SECONDS without loss (bench_search).

# the trial functions are called by name, through bench_search
# shellcheck disable=SC2317
set -u

# shellcheck source=tests/bench/lib.sh
. "$(dirname "$0")/lib.sh"

GEN=$BENCH_BIN/gen
RINGBENCH=$BENCH_BIN/ringbench
# the connects are denied before any packet: nothing needs to listen there
PORT=9
TRIALS=$BENCH_TMP/trials
# the size at which the rotate row's log rotates: the writer's default
ROTATE_BYTES=$((64 << 20))
TEMPLATE=$BENCH_TMP/template/audit.jsonl

for f in "$PINFOLD" "$GEN" "$RINGBENCH"; do
	[ -x "$f" ] || bench_fail audit "$f not built (make bench builds it)"
done

# gen_said OUT: "ATTEMPTS SECONDS RATE" from the generator's line in OUT
gen_said()
{
	awk '$1 == "gen:" && $2 == "attempts" { print $3, $5, $7 }' <<<"$1"
}

# ring_trial RATE: one ringbench trial; prints "ok RATE" or "loss RATE TAKEN"
ring_trial()
{
	local out a s r p c d

	out=$("$RINGBENCH" -- "$GEN" getppid "$1" "$BENCH_SECONDS" 2>"$BENCH_TMP/ring.err") || {
		bench_cannot "$(tail -n 1 "$BENCH_TMP/ring.err")"
		return 1
	}
	read -r a s r < <(gen_said "$out")
	read -r p c d < <(awk '$1 == "ringbench:" && $2 == "produced" { print $3, $5, $7 }' <<<"$out")
	if [ -z "${a:-}" ] || [ -z "${p:-}" ] || [ $((p + d)) != "$a" ]; then
		bench_cannot "ringbench: its records do not add up to the generator's calls: $out"
		return 1
	fi
	if [ "$d" = 0 ] && [ "$c" = "$p" ]; then
		echo "ok $r"
	else
		echo "loss $r $(bench_calc "$c / $s")"
	fi | tee -a "$TRIALS.ring"
}

# audit_count BASE PATTERN: lines matching PATTERN in the log BASE, its
# rotated files (BASE.N.gz, or BASE.N not yet compressed) included
audit_count()
{
	local f

	for f in "$1".*.gz "$1".[0-9]*[0-9] "$1"; do
		[ -e "$f" ] || continue
		case $f in
		*.gz) zcat "$f" ;;
		*) cat "$f" ;;
		esac
	done | LC_ALL=C grep -c "$2"
}

# audit_prefill BASE RATE SECS: BASE a copy of the template, cut at a record
# so that a trial at RATE reaches ROTATE_BYTES a third of the way in
audit_prefill()
{
	local rate=$2 ahead

	[ "$rate" != 0 ] || rate=10000 # flat out: below what the writer takes, so that it rotates
	ahead=$(bench_calc "$rate * $3 * $RECORD_BYTES / 3")
	[ "$ahead" -lt $((ROTATE_BYTES / 2)) ] || ahead=$((ROTATE_BYTES / 2))
	head -c $((ROTATE_BYTES - ahead)) "$TEMPLATE" | sed '$d' >"$1"
}

# audit_run KIND RATE SECONDS ERR: one pinfold trial of row KIND, its audit
# log in a fresh directory, pinfold's stderr (a line for each denial) into
# ERR; prints "ok RATE" or "loss RATE TAKEN"
audit_run()
{
	local kind=$1 rate=$2 secs=$3 err=$4 dir=$BENCH_TMP/trial opts=() out a s r n lost

	rm -rf "$dir"
	mkdir -p "$dir" || return 1
	case $kind in
	batch | none) opts+=(--audit-sync "$kind" --audit-rotate-bytes 0) ;;
	rotate)
		opts+=(--audit-sync batch --audit-rotate-bytes "$ROTATE_BYTES")
		audit_prefill "$dir/audit.jsonl" "$rate" "$secs" || return 1
		;;
	esac
	[ -n "$KEY" ] && opts+=(--audit-key "$KEY")
	if ! "$PINFOLD" run --policy "$BENCH_TMP/policy.yaml" --agent bench --allow-degraded \
		--no-watch --audit "$dir/audit.jsonl" "${opts[@]}" -- \
		"$GEN" connect "$PORT" "$rate" "$secs" >"$dir/out" 2>"$err"; then
		bench_cannot "pinfold run failed: $(grep -v '^pinfold: denied ' "$err" | tail -n 1)"
		return 1
	fi
	out=$(cat "$dir/out")
	read -r a s r < <(gen_said "$out")
	if [ -z "${a:-}" ]; then
		bench_cannot "the generator said nothing under pinfold run: $out"
		return 1
	fi
	# the template's records are the agent fill's
	n=$(audit_count "$dir/audit.jsonl" '"kind":"decision",.*"agent":"bench",.*"action":"connect"')
	lost=$(audit_count "$dir/audit.jsonl" '"kind":"events-lost",.*"agent":"bench"')
	if [ "$n" -gt "$a" ]; then
		bench_cannot "$n connect records for $a attempts: the count is not the generator's"
		return 1
	fi
	# a trial that lost events lost them, rotation or not
	if [ "$kind" = rotate ] && [ "$n" = "$a" ] && ! ls "$dir"/audit.jsonl.*.gz >/dev/null 2>&1; then
		bench_cannot "the log did not rotate at $ROTATE_BYTES bytes"
		return 1
	fi
	rm -rf "$dir"
	if [ "$n" = "$a" ] && [ "$lost" = 0 ]; then
		echo "ok $r"
	else
		echo "loss $r $(bench_calc "$n / $s")"
	fi | tee -a "$TRIALS.$kind"
}

audit_default_trial()
{
	audit_run default "$1" "$BENCH_SECONDS" /dev/null
}

audit_batch_trial()
{
	audit_run batch "$1" "$BENCH_SECONDS" /dev/null
}

audit_rotate_trial()
{
	audit_run rotate "$1" "$BENCH_SECONDS" /dev/null
}

audit_none_trial()
{
	audit_run none "$1" "$BENCH_SECONDS" /dev/null
}

# template: the log the rotate trials start from, records of the agent
# fill, more than ROTATE_BYTES of them; sets RECORD_BYTES, their mean size
template()
{
	local size=0 lines _

	mkdir -p "$(dirname "$TEMPLATE")" || return 1
	for _ in 1 2 3 4 5; do
		"$PINFOLD" run --policy "$BENCH_TMP/policy.yaml" --agent fill --allow-degraded \
			--no-watch --audit "$TEMPLATE" --audit-sync none --audit-rotate-bytes 0 \
			${KEY:+--audit-key "$KEY"} -- "$GEN" connect "$PORT" 0 1 \
			>/dev/null 2>"$BENCH_TMP/template.err" || break
		size=$(stat -c %s "$TEMPLATE")
		[ "$size" -le "$ROTATE_BYTES" ] || break
	done
	if [ "$size" -le "$ROTATE_BYTES" ]; then
		bench_cannot "cannot write a template log of $ROTATE_BYTES bytes:" \
			"$(grep -v '^pinfold: denied ' "$BENCH_TMP/template.err" | tail -n 1)"
		return 1
	fi
	lines=$(wc -l <"$TEMPLATE")
	RECORD_BYTES=$((size / lines))
}

# row NAME KIND: the table row of KIND's search, or its fail line
row()
{
	case ${BENCH_STATUS["audit $2"]} in
	0) bench_row "$1" "${BENCH_RATE["audit $2"]}" "$RING" events/s ;;
	1) bench_fail_row "$1" "no rate of $BENCH_MIN_RATE events/s or more was free of loss" ;;
	*) bench_fail_row "$1" "no rate free of loss found within the time budget" ;;
	esac
}

# flat KIND: "OFFERED TAKEN" of the first (flat-out) trial of KIND
flat()
{
	awk '{ print $2, ($1 == "ok" ? $2 : $3); exit }' "$TRIALS.$1"
}

cat >"$BENCH_TMP/policy.yaml" <<YAML
version: 1
agents:
  bench:
    families: [runtime]
    files:
      - { path: $BENCH_BIN, access: [read, exec] }
  fill:
    families: [runtime]
    files:
      - { path: $BENCH_BIN, access: [read, exec] }
YAML

help=$("$PINFOLD" run --help 2>&1)
KEY=
if grep -q -- --audit-key <<<"$help"; then
	KEY=$BENCH_TMP/audit-signing.pem
	"$PINFOLD" audit keygen --key "$KEY" >/dev/null 2>"$BENCH_TMP/keygen.err" ||
		bench_fail audit "pinfold audit keygen failed: $(tail -n 1 "$BENCH_TMP/keygen.err")"
fi
kinds=(default)
grep -q -- --audit-sync <<<"$help" && kinds=(batch none)
grep -q -- --audit-rotate-bytes <<<"$help" && [ "${kinds[0]}" = batch ] &&
	kinds=(batch rotate none)

# a short trial whose stderr is kept: the reason, when pinfold cannot run here
audit_run "${kinds[0]}" 1000 0.2 "$BENCH_TMP/setup.err" >/dev/null ||
	bench_fail audit "$(bench_why)"
if [ "${kinds[1]:-}" = rotate ]; then
	bench_log "template log for the rotate row"
	template || bench_fail "audit rotate" "$(bench_why)"
fi
rm -f "$TRIALS".*

searches=("raw ring" ring_trial)
for k in "${kinds[@]}"; do
	searches+=("audit $k" "audit_${k}_trial")
done
bench_log "zero-loss rates: raw ring (ringbench), pinfold run: ${kinds[*]}"
bench_search "${searches[@]}" || bench_fail audit "$(bench_why)"
case ${BENCH_STATUS["raw ring"]} in
0)
	RING=${BENCH_RATE["raw ring"]}
	# the table takes a lower bound only as measured: the ring kept up
	# with the generator flat out, and the ratio is at most the one shown
	if [ "${RING#>=}" != "$RING" ]; then
		RING=${RING#>=}
		bench_note "the raw ring lost nothing flat out: its baseline is the generator's" \
			"rate, a lower bound (the ring can take more), so each ratio is an upper bound"
	fi
	;;
1) bench_fail audit "the raw ring lost events at every rate of $BENCH_MIN_RATE events/s or more" ;;
*) bench_fail audit "no rate free of loss found for the raw ring within the time budget" ;;
esac
for k in "${kinds[@]}"; do
	case $k in
	default) row "audit to file (writer without fsync), zero loss" "$k" ;;
	batch) row "audit to file, --audit-sync batch (default), no rotation, zero loss" "$k" ;;
	rotate) row "audit to file, --audit-sync batch, across a rotation, zero loss" "$k" ;;
	none) row "audit to file, --audit-sync none, no rotation, zero loss" "$k" ;;
	esac
done

bench_note "audit rows: measured = denied connects of a pinfold run agent, each one record in" \
	"the audit file; baseline = raw ring consume rate (ringbench: same record size, same" \
	"ring size and wake-ups, a consumer that only counts); each the highest rate of a" \
	"${BENCH_SECONDS} s trial without one event lost"
[ "${kinds[1]:-}" = rotate ] &&
	bench_note "across a rotation: the log starts $((ROTATE_BYTES >> 20)) MiB less a third of" \
		"the trial's records, so that it rotates (the writer's default size) in the" \
		"trial; records of ${RECORD_BYTES} bytes on average"
read -r fr ft < <(flat ring)
line="flat out, losing events: the raw ring took $(bench_group "$ft")"
line="$line of $(bench_group "$fr")/s offered"
for k in "${kinds[@]}"; do
	read -r fr ft < <(flat "$k")
	line="$line; pinfold ($k) $(bench_group "$ft") of $(bench_group "$fr")/s"
done
bench_note "$line"
fs=$(findmnt -rno FSTYPE,SOURCE --target "$BENCH_TMP" 2>/dev/null | head -n 1)
bench_note "audit files in ${BENCH_DIR:-$BENCH_TMP}, on ${fs:-an unknown filesystem}"
[ "${kinds[0]}" = default ] &&
	bench_note "this pinfold run has no --audit-sync: its writer never syncs the audit file"
exit "$BENCH_FAILED"
