#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# test_audit_show.sh - `pinfold audit show` and `pinfold audit tail` on a real
# log. Agents run under `pinfold run` and make allowed (audited) and denied
# connects to pf-serve on loopback; one names itself with a terminal escape
# and a bidi override. Then, against what the records themselves say (read
# here with Python's json):
#   - show --json gives the records themselves, byte for byte, and each
#     filter (--agent, --instance, --denied, --action, --kind, --since,
#     --until, relative and date times) exactly the records it should;
#   - the readable lines: one per record, a denial and an allowed connect
#     exactly as documented, the escaped command name, no raw control byte;
#   - tail -n N, tail with a filter;
#   - the same log split into rotated .gz files reads the same; a corrupt
#     .gz is said and the rest still read;
#   - tail -f prints records written after it started, once each, also
#     across the writer's own rotations (--audit-rotate-bytes).
#
#   tests/integration/test_audit_show.sh        (root; after make tests)

# SC2317: functions such as tail_ready are called through check and pf_wait
# shellcheck disable=SC2317
set -u

# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

pf_init

servers()
{
	pf_serve_start v4 --addr 127.0.0.1 --tcp "$B" --tcp $((B + 1))
}

pf_serve_on_free_ports 2 servers
P0=$B P1=$((B + 1))
cat >"$PF_TMP/policy.yaml" <<YAML
version: 1
agents:
  shower:
    network:
      - { to: 127.0.0.1, port: $P0, proto: tcp, audit: true }
  other: {}
YAML
"$PINFOLD" audit keygen --key "$PF_TMP/key.pem" >/dev/null ||
	{ echo "FAIL setup: pinfold audit keygen"; exit 1; }
mkdir "$PF_TMP/log"
BASE=$PF_TMP/log/audit.jsonl

# The agent: connects ALLOWED times to P0 and DENIED times to P1 (optionally
# named COMM first), prints how many of each went as expected.
cat >"$PF_TMP/agent.py" <<'PY'
import ctypes, os, socket, sys
sys.path.insert(0, sys.argv[1])
from denied_connects import deny
p0, p1, n_ok, n_deny = map(int, sys.argv[2:6])
if len(sys.argv) > 6:
    # PR_SET_NAME: the command name the kernel reports for this task
    ctypes.CDLL(None).prctl(15, os.fsencode(sys.argv[6]), 0, 0, 0)
ok = 0
for _ in range(n_ok):
    socket.create_connection(("127.0.0.1", p0), timeout=5).close()
    ok += 1
print(ok, deny(p1, n_deny))
PY

# agent NAME ALLOWED DENIED [COMM] -- [RUN OPTIONS]: one confined run into $BASE
agent()
{
	local name=$1 n_ok=$2 n_deny=$3 comm=() want
	shift 3
	if [ "$1" != -- ]; then
		comm=("$1")
		shift
	fi
	shift
	want="$n_ok $n_deny"
	"$PINFOLD" run --policy "$PF_TMP/policy.yaml" --agent "$name" --allow-degraded --no-watch \
		--audit "$BASE" --audit-key "$PF_TMP/key.pem" "$@" -- \
		python3 "$PF_TMP/agent.py" "$PF_ROOT/tests/integration" "$P0" "$P1" "$n_ok" "$n_deny" \
		"${comm[@]}" >"$PF_TMP/agent.out" 2>"$PF_TMP/agent.err"
	[ "$(cat "$PF_TMP/agent.out")" = "$want" ] || {
		echo "FAIL setup: agent $name printed '$(cat "$PF_TMP/agent.out")', want '$want'" \
			"(stderr: $(head -c 400 "$PF_TMP/agent.err" | tr '\n' '|'))"
		exit 1
	}
}

# records FILTER [FILES...]: the lines of the files (default $BASE; .gz read
# as gzip) whose record r makes the Python expression FILTER true
records()
{
	local filter=$1
	shift
	[ $# -gt 0 ] || set -- "$BASE"
	python3 - "$filter" "$@" <<'PY'
import gzip, json, sys
expr, files = sys.argv[1], sys.argv[2:]
for name in files:
    opener = gzip.open if name.endswith(".gz") else open
    with opener(name, "rb") as f:
        for line in f:
            r = json.loads(line)
            if eval(expr):
                sys.stdout.buffer.write(line)
PY
}

# same NAME MIN FILTER SHOW-ARGS...: `pinfold audit show --json SHOW-ARGS`
# prints exactly the records of $BASE that FILTER selects, at least MIN of them
same()
{
	local name=$1 min=$2 filter=$3 n
	shift 3

	records "$filter" "$BASE" >"$PF_TMP/want"
	n=$(wc -l <"$PF_TMP/want")
	pf_exec "$PINFOLD" audit show --log "$BASE" --json "$@"
	if [ "$n" -lt "$min" ]; then
		fail "$name" "only $n records selected by '$filter', want at least $min: the check proves nothing"
	elif [ "$PF_RC" != 0 ]; then
		fail "$name" "exit $PF_RC (stderr: $(pf_stderr))"
	elif ! cmp -s "$PF_TMP/want" "$PF_OUT"; then
		fail "$name" "want $n lines, got $(wc -l <"$PF_OUT"): $(diff "$PF_TMP/want" "$PF_OUT" |
			head -c 600 | tr '\n' '|')"
	else
		pass "$name"
	fi
}

# same_out NAME WANT-FILE CMD...: CMD exits 0 and prints exactly WANT-FILE
same_out()
{
	local name=$1 want=$2
	shift 2

	pf_exec "$@"
	if [ "$PF_RC" != 0 ]; then
		fail "$name" "exit $PF_RC (stderr: $(pf_stderr))"
	elif ! cmp -s "$want" "$PF_OUT"; then
		fail "$name" "want $(wc -l <"$want") lines, got $(wc -l <"$PF_OUT"): $(diff "$want" \
			"$PF_OUT" | head -c 600 | tr '\n' '|')"
	else
		pass "$name"
	fi
}

# ---- a log of three runs ----

agent shower 2 3 -- --on-behalf-of alice --task T-17
agent other 0 1 -- --task T-18
agent other 0 2 $'ev\e[2J\xe2\x80\xaeil' --
pf_audit_valid "$BASE" >/dev/null || { echo "FAIL setup: $BASE is not JSON Lines"; exit 1; }
nrec=$(wc -l <"$BASE")
inst1=$(records 'r["kind"] == "instance-start" and r["agent"] == "shower"' |
	python3 -c 'import json, sys; print(json.loads(sys.stdin.readline())["instance"])')
echo "log $BASE: $nrec records, first instance $inst1"

# ---- show --json: the records, filtered ----

same "show: every record, as written" "$nrec" 'True'
same "show --denied" 6 'r.get("decision") == "deny"' --denied
same "show --agent shower" 7 'r.get("agent") == "shower"' --agent shower
same "show --agent other --denied" 3 'r.get("agent") == "other" and r.get("decision") == "deny"' \
	--agent other --denied
same "show --instance" 7 "r.get(\"instance\") == \"$inst1\"" --instance "$inst1"
same "show --action connect" 8 'r.get("action") == "connect"' --action connect
same "show --kind instance-start --kind instance-exit" 6 \
	'r["kind"] in ("instance-start", "instance-exit")' --kind instance-start --kind instance-exit
same "show --kind checkpoint" 1 'r["kind"] == "checkpoint"' --kind checkpoint
same "show --since 1h (all are newer)" "$nrec" 'True' --since 1h
same "show --until 1h (none is older)" 0 'False' --until 1h
yesterday=$(date -u -d yesterday +%F)
same "show --since a date" "$nrec" 'True' --since "$yesterday"
same "show --until a date" 0 'False' --until "$yesterday"

# a window cut at the times of two denials: from the second, before the fifth
t2=$(records 'r.get("decision") == "deny"' | sed -n 2p |
	python3 -c 'import json, sys; print(json.loads(sys.stdin.read())["time"])')
t5=$(records 'r.get("decision") == "deny"' | sed -n 5p |
	python3 -c 'import json, sys; print(json.loads(sys.stdin.read())["time"])')
same "show --since T --until T (RFC 3339)" 3 \
	"\"$t2\" <= r.get(\"time\", \"\") < \"$t5\"" --since "$t2" --until "$t5"

# ---- readable lines ----

pf_exec "$PINFOLD" audit show --log "$BASE"
n=$(wc -l <"$PF_OUT")
check "show: one readable line per record" "$n lines for $nrec records, exit $PF_RC" \
	[ "$n" = "$nrec" -a "$PF_RC" = 0 ]
cp "$PF_OUT" "$PF_TMP/readable"

# The lines docs/audit.md shows for a denial and an allowed connect, built
# here from the records: time in UTC to the millisecond, #id, what, who, why.
records 'r.get("kind") == "decision" and r.get("agent") == "shower"' | python3 -c '
import json, sys
from datetime import datetime
for line in sys.stdin:
    r = json.loads(line)
    t = datetime.strptime(r["time"], "%Y-%m-%dT%H:%M:%S.%fZ")
    ts = t.strftime("%Y-%m-%d %H:%M:%S.") + "%03dZ" % (t.microsecond // 1000)
    word = "DENY" if r["decision"] == "deny" else r["decision"]
    place = r.get("rule_at") or (r.get("rule") or r.get("decided_by") or "").split(" ")[0]
    print("%s #%d %s %s %s agent %s (%s) pid %d %s uid %d for alice task T-17: %s%s" % (
        ts, r["id"], word, r["action"], r["object"], r["agent"], r["instance"], r["pid"],
        r["comm"], r["uid"], r["reason"], " [%s]" % place if place else ""))
' >"$PF_TMP/want.readable"
n=$(wc -l <"$PF_TMP/want.readable")
check "show: 5 decisions of shower to compare" "$n" [ "$n" = 5 ]
missing=$(grep -vxFf "$PF_TMP/readable" "$PF_TMP/want.readable")
check "show: readable denial and allowed lines as documented" \
	"not printed: $(echo "$missing" | head -c 600 | tr '\n' '|'); got: $(grep -F " $inst1)" \
	"$PF_TMP/readable" | head -c 600 | tr '\n' '|')" [ -z "$missing" ]
want=" allow connect 127\.0\.0\.1:$P0/tcp agent shower .*: allowed by rule"
want+=" \[.*/policy\.yaml:[0-9]*:[0-9]*\]$"
check "show: allowed connects name their grant's place" "$(pf_stderr)" \
	grep -q "$want" "$PF_TMP/readable"
want=" DENY connect 127\.0\.0\.1:$P1/tcp agent other (.*) pid [0-9]* python3 uid 0"
check "show: denials in capitals" "$(head -c 400 "$PF_TMP/readable")" \
	grep -q "$want task T-18: " "$PF_TMP/readable"
want="#[0-9]* instance-start agent shower ($inst1) for alice task T-17:"
check "show: instance-start line" "$(head -c 400 "$PF_TMP/readable")" \
	grep -q "$want policy $PF_TMP/policy.yaml, generation 1" "$PF_TMP/readable"
check "show: checkpoint line names its key" "$(grep checkpoint "$PF_TMP/readable" | head -n 2)" \
	grep -q "#[0-9]* checkpoint signed by key [0-9a-f]\{16\}" "$PF_TMP/readable"
check "show: the escape and bidi override of a command name are shown escaped" \
	"$(grep -F ' DENY ' "$PF_TMP/readable" | tail -n 1)" \
	grep -qF ' ev\x1b[2J\u202eil uid 0: ' "$PF_TMP/readable"
# no_raw_controls FILE: FILE holds no C0 control, DEL or U+202E
no_raw_controls() { ! LC_ALL=C grep -q $'[\x01-\x1f\x7f]\|\xe2\x80\xae' "$1"; }
check "show: no raw control or bidi character reaches the terminal" \
	"$(LC_ALL=C grep -c $'[\x01-\x1f\x7f]\|\xe2\x80\xae' "$PF_TMP/readable") lines hold one" \
	no_raw_controls "$PF_TMP/readable"

# ---- tail ----

tail -n 3 "$BASE" >"$PF_TMP/want"
same_out "tail -n 3" "$PF_TMP/want" "$PINFOLD" audit tail -n 3 --json --log "$BASE"
tail -n 10 "$BASE" >"$PF_TMP/want"
same_out "tail: 10 by default" "$PF_TMP/want" "$PINFOLD" audit tail --json --log "$BASE"
records 'r.get("decision") == "deny"' | tail -n 4 >"$PF_TMP/want"
same_out "tail -n 4 --denied" "$PF_TMP/want" "$PINFOLD" audit tail -n 4 --denied --json \
	--log "$BASE"
tail -n 3 "$PF_TMP/readable" >"$PF_TMP/want"
same_out "tail -n 3, readable" "$PF_TMP/want" "$PINFOLD" audit tail -n 3 --log "$BASE"

# ---- rotated files: the same log as BASE.NNNNNNNNNNNN.gz files and BASE ----

ROT=$PF_TMP/rot
mkdir "$ROT"
# id of the first record of a file of lines
first_id()
{
	python3 -c 'import json, sys; print("%012d" % json.loads(sys.stdin.readline())["id"])'
}
a=$((nrec / 3)) b=$((2 * nrec / 3))
sed -n "1,${a}p" "$BASE" | gzip >"$ROT/audit.jsonl.$(sed -n 1p "$BASE" | first_id).gz"
sed -n "$((a + 1)),${b}p" "$BASE" | gzip >"$ROT/audit.jsonl.$(sed -n "$((a + 1))p" "$BASE" |
	first_id).gz"
sed -n "$((b + 1)),\$p" "$BASE" >"$ROT/audit.jsonl"
echo "rotated: $(cd "$ROT" && echo *)"

same_out "rotated: show --json reads every file, in order" "$BASE" \
	"$PINFOLD" audit show --json --log "$ROT/audit.jsonl"
same_out "rotated: readable lines as from one file" "$PF_TMP/readable" \
	"$PINFOLD" audit show --log "$ROT/audit.jsonl"
records 'r.get("decision") == "deny"' >"$PF_TMP/want"
same_out "rotated: show --denied" "$PF_TMP/want" \
	"$PINFOLD" audit show --denied --json --log "$ROT/audit.jsonl"
tail -n $((nrec - a + 2)) "$BASE" >"$PF_TMP/want"
same_out "rotated: tail -n over three files" "$PF_TMP/want" \
	"$PINFOLD" audit tail -n $((nrec - a + 2)) --json --log "$ROT/audit.jsonl"

# a corrupt rotated file: said, with its name; the others are still read
cp -r "$ROT" "$PF_TMP/bad"
gz=("$PF_TMP/bad"/*.gz)
mid=${gz[1]}
head -c 30 "$mid" >"$mid.cut" && mv "$mid.cut" "$mid"
pf_exec "$PINFOLD" audit show --json --log "$PF_TMP/bad/audit.jsonl"
# said_corrupt NAME: the last run exited 1 and said NAME cannot be read
said_corrupt() { [ "$PF_RC" = 1 ] && grep -qF "$1: cannot read" "$PF_ERR"; }
check "corrupt .gz: exit 1, said on stderr" "exit $PF_RC, stderr: $(pf_stderr)" \
	said_corrupt "$(basename "$mid")"
{ sed -n "1,${a}p" "$BASE"; sed -n "$((b + 1)),\$p" "$BASE"; } >"$PF_TMP/want"
check "corrupt .gz: the other files' records all shown" \
	"$(diff "$PF_TMP/want" "$PF_OUT" | head -c 400 | tr '\n' '|')" cmp -s "$PF_TMP/want" "$PF_OUT"

# ---- tail -f ----

# tail_f OUT ARGS...: a tail -f in the background (at most 60 s), its pid in TAIL
tail_f()
{
	local out=$1
	shift
	timeout 60 "$PINFOLD" audit tail -f "$@" >"$out" 2>"$out.err" &
	TAIL=$!
	PF_PIDS+=("$TAIL")
	pf_wait 10 tail_ready || echo "note: tail -f has not opened $BASE after 10 s"
	sleep 0.3 # and read it to its end
}

# tail_ready: the tail -f under timeout $TAIL holds BASE open
tail_ready()
{
	local pid fd

	pid=$(pgrep -P "$TAIL") || return 1
	for fd in "/proc/$pid/fd"/*; do
		[ "$(readlink "$fd")" = "$BASE" ] && return 0
	done
	return 1
}

# lines_at_least FILE N
lines_at_least() { [ "$(wc -l <"$1")" -ge "$2" ]; }

n0=$(wc -l <"$BASE")
tail_f "$PF_TMP/follow" -n 0 --json --log "$BASE"
tail_f "$PF_TMP/follow.denied" -n 1 --denied --log "$BASE"
agent other 0 2 -- --on-behalf-of bob
tail -n +$((n0 + 1)) "$BASE" >"$PF_TMP/want"
n=$(wc -l <"$PF_TMP/want")
pf_wait 10 lines_at_least "$PF_TMP/follow" "$n"
sleep 0.5 # nothing more should come
check "tail -f: prints the records written after it started, once each" \
	"want $n lines, got: $(diff "$PF_TMP/want" "$PF_TMP/follow" | head -c 600 | tr '\n' '|')" \
	cmp -s "$PF_TMP/want" "$PF_TMP/follow"
pf_wait 10 lines_at_least "$PF_TMP/follow.denied" 3
want=" DENY connect 127\.0\.0\.1:$P1/tcp agent other (.*) pid [0-9]* python3 uid 0"
n=$(grep -c "$want for bob: " "$PF_TMP/follow.denied")
check "tail -f -n 1 --denied: the last denial, then the new ones, readable" \
	"$n new denials: $(head -c 600 "$PF_TMP/follow.denied" | tr '\n' '|')" \
	[ "$n" = 2 -a "$(wc -l <"$PF_TMP/follow.denied")" = 3 ]
kill "$TAIL" 2>/dev/null

# across the writer's own rotations: each record once, in order, whatever file it is in now
last=$(tail -n 1 "$BASE" | first_id)
tail_f "$PF_TMP/follow.rot" -n 0 --json --log "$BASE"
agent other 0 20 -- --audit-rotate-bytes 4096
agent shower 3 0 -- --audit-rotate-bytes 4096
rotated=("$BASE".*.gz)
[ -e "${rotated[0]}" ] || rotated=()
check "writer rotated the log" \
	"${#rotated[@]} $BASE.*.gz after runs with --audit-rotate-bytes 4096" [ "${#rotated[@]}" -ge 2 ]
records "r[\"id\"] > $((10#$last))" "${rotated[@]}" "$BASE" >"$PF_TMP/want"
n=$(wc -l <"$PF_TMP/want")
pf_wait 10 lines_at_least "$PF_TMP/follow.rot" "$n"
sleep 0.5
check "tail -f across rotations: $n records, once each, in order" \
	"$(diff "$PF_TMP/want" "$PF_TMP/follow.rot" | head -c 600 | tr '\n' '|')" \
	cmp -s "$PF_TMP/want" "$PF_TMP/follow.rot"
records 'True' "${rotated[@]}" "$BASE" >"$PF_TMP/want"
same_out "show reads the writer's rotated files" "$PF_TMP/want" \
	"$PINFOLD" audit show --json --log "$BASE"
kill "$TAIL" 2>/dev/null

# cut in place (no writer does that): tail -f says so and shows the file again,
# the writer's chain-break record included
agent other 0 3 --
tail_f "$PF_TMP/follow.cut" -n 0 --log "$BASE"
head -n 1 "$BASE" >"$PF_TMP/cut"
cat "$PF_TMP/cut" >"$BASE"
rm -f "$BASE.head"
sleep 0.5
agent other 0 1 --
pf_wait 10 grep -q CHAIN-BREAK "$PF_TMP/follow.cut"
check "tail -f: a log cut in place is said, and the chain-break shown" \
	"stderr: $(cat "$PF_TMP/follow.cut.err"); out: $(head -c 400 "$PF_TMP/follow.cut")" \
	grep -q "was cut in place" "$PF_TMP/follow.cut.err"
check "tail -f: the chain-break record after the cut" "$(head -c 600 "$PF_TMP/follow.cut")" \
	grep -q CHAIN-BREAK "$PF_TMP/follow.cut"
kill "$TAIL" 2>/dev/null

pf_finish
