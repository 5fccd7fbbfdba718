#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# test_audit_chain.sh - the chained, signed audit log (docs/audit.md): records
# written by pinfold run verify; every kind of tampering with a copy of the log
# makes verify fail naming the kind and the line; two writers at once, and a
# second run after a first, make one chain; rotation makes .gz files verify
# walks; prune turns expired records into stubs verify accepts, and a stub
# forged for a record still kept fails.
#
#   tests/integration/test_audit_chain.sh        (root; after make tests)

# SC2317: functions such as verify_ok are called through check
# shellcheck disable=SC2317
set -u

# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

pf_init

P=$(pf_free_ports 2) || { echo "FAIL setup: no free ports"; exit 1; }
DENY_PORT=$P
ALLOW_PORT=$((P + 1))
KEY=$PF_TMP/keys/sign.pem
PUB=$PF_TMP/keys/sign.pub.pem
TREE=$PF_TMP/ehr
mkdir -p "$PF_TMP/keys" "$TREE"
echo chart >"$TREE/chart.txt"
chmod 0755 "$PF_TMP" "$TREE"
chmod 0644 "$TREE/chart.txt"

# Connects to DENY_PORT are denied (decision records kept 6 years), audited
# connects to ALLOW_PORT allowed (routine records), reads below TREE denied
# where BPF LSM enforces files (phi records).
cat >"$PF_TMP/policy.yaml" <<YAML
version: 1
classes:
  phi.charts:
    trees: [$TREE]
backends:
  allowed:
    destinations:
      - { to: 127.0.0.1, port: $ALLOW_PORT, proto: tcp }
families:
  chain:
    grants:
      - { backend: allowed, actions: [connect], audit: true }
agents:
  chain:
    families: [runtime, runtime-programs, chain]
YAML

HAVE_LSM=0
pf_bpf_lsm && HAVE_LSM=1

# agent N [GO]: the agent's work: N denied and N allowed connects, and (with
# BPF LSM) N denied reads of a chart; after the file GO exists, when given
agent()
{
	[ -n "${2:-}" ] && echo "while [ ! -e $2 ]; do sleep 0.02; done;"
	echo "python3 $PF_ROOT/tests/integration/denied_connects.py $1 $DENY_PORT >/dev/null;
		python3 $PF_ROOT/tests/integration/denied_connects.py $1 $ALLOW_PORT >/dev/null;
		for i in \$(seq $((HAVE_LSM * $1))); do cat $TREE/chart.txt 2>/dev/null; done; true"
}

# run LOG N [RUN OPTIONS...]: one confined run writing to LOG; GO: as for agent
run()
{
	local log=$1 n=$2
	shift 2

	"$PINFOLD" run --policy "$PF_TMP/policy.yaml" --agent chain --allow-degraded --no-watch \
		--audit "$log" --audit-key "$KEY" "$@" -- sh -c "$(agent "$n" "${GO:-}")" \
		>>"$PF_TMP/run.out" 2>>"$PF_TMP/run.err" </dev/null
}

# verify LOG [ARGS...]: pinfold audit verify; output in $PF_TMP/verify.out, status in VRC
verify()
{
	local log=$1
	shift

	"$PINFOLD" audit verify --log "$log" --key "$PUB" "$@" >"$PF_TMP/verify.out" \
		2>"$PF_TMP/verify.err"
	VRC=$?
}

verify_ok()
{
	verify "$@"
	[ "$VRC" = 0 ] && grep -q ': ok$' "$PF_TMP/verify.out" && return 0
	echo "    verify exit $VRC: $(head -c 600 "$PF_TMP/verify.out" "$PF_TMP/verify.err")"
	return 1
}

# ids LOG: the ids of LOG's current file, in order, one per line
ids()
{
	python3 -c 'import json, sys
for line in open(sys.argv[1]):
    print(json.loads(line)["id"])' "$1"
}

# ---- keys ----

pf_exec "$PINFOLD" audit keygen --key "$KEY"
check keygen "exit $PF_RC: $(pf_got) $(pf_stderr)" \
	test "$PF_RC" = 0 -a -s "$KEY" -a -s "$PUB" -a -s "$PF_TMP/keys/audit-paths.key"
check keygen-private-0600 "mode $(stat -c %a "$KEY")" test "$(stat -c %a "$KEY")" = 600
no_second_keygen()
{
	! "$PINFOLD" audit keygen --key "$KEY" 2>/dev/null
}
check keygen-refuses-overwrite "a second keygen replaced the key" no_second_keygen

# ---- one run, then a second one on the same log ----

LOG=$PF_TMP/one/audit.jsonl
mkdir -p "$PF_TMP/one"
run "$LOG" 20
check run-writes-records "no records: $(tail -c 400 "$PF_TMP/run.err")" test -s "$LOG"
check run-verifies "verify failed" verify_ok "$LOG"
check summary-line "summary: $(cat "$PF_TMP/verify.out")" \
	grep -Eq "^$LOG: [0-9]+ records in 1 file, ids 1\.\.[0-9]+, 1 checkpoint verified, head at [0-9]+: ok$" \
	"$PF_TMP/verify.out"
check closes-with-checkpoint "last record: $(tail -n 1 "$LOG" | head -c 200)" \
	grep -q '"kind":"checkpoint",.*"why":"close"' <(tail -n 1 "$LOG")
first_end=$(wc -l <"$LOG")
run "$LOG" 5
check second-run-continues "ids $(ids "$LOG" | tr '\n' ' ' | head -c 300)" \
	test "$(ids "$LOG" | sed -n "$((first_end + 1))p")" = $((first_end + 1))
check second-run-verifies "verify failed" verify_ok "$LOG"

# ---- tampering, each on a copy of that log ----

# tamper NAME MODE ARGS...: a copy of the log in $PF_TMP/t-NAME, changed by MODE
tamper()
{
	local dir=$PF_TMP/t-$1
	shift

	rm -rf "$dir"
	mkdir "$dir"
	cp "$LOG" "$LOG.head" "$dir/"
	python3 - "$dir/audit.jsonl" "$@" <<'EOF'
import hashlib, json, os, sys

path, mode, args = sys.argv[1], sys.argv[2], [int(a) for a in sys.argv[3:]]
lines = open(path, "rb").read().split(b"\n")[:-1]

def link(line):
    r = json.loads(line)
    sha = r["line_sha256"] if r["kind"] == "pruned" else hashlib.sha256(line).hexdigest()
    return hashlib.sha256(b"pinfold-audit-3\n%d\n%s\n%s\n" % (
        r["id"], r["retain"].encode(), sha.encode())).hexdigest().encode()

def relink(start):
    for i in range(start, len(lines)):
        prev = lines[i].index(b'"prev":"') + 8
        lines[i] = lines[i][:prev] + link(lines[i - 1]) + lines[i][prev + 64:]

def checkpoints():
    return [i for i, l in enumerate(lines) if b'"kind":"checkpoint"' in l]

tail = b"\n"
if mode == "edit":           # one byte of the object of line N
    i = args[0] - 1
    at = lines[i].index(b'"object":"') + 10
    lines[i] = lines[i][:at] + bytes([lines[i][at] ^ 1]) + lines[i][at + 1:]
elif mode == "delete":
    del lines[args[0] - 1]
elif mode == "insert":       # a copy of line A after line B
    lines.insert(args[1], lines[args[0] - 1])
elif mode == "swap":
    a, b = args[0] - 1, args[1] - 1
    lines[a], lines[b] = lines[b], lines[a]
elif mode == "cut-lines":
    del lines[-args[0]:]
elif mode == "cut-mid":      # the last line cut in half, no newline
    last = lines.pop()
    tail = b"\n" + last[: len(last) // 2]
elif mode == "recompute":    # an edit, then every link after it made to match
    i = args[0] - 1
    lines[i] = lines[i].replace(b'"decision":"deny"', b'"decision":"allow"', 1)
    relink(i + 1)
elif mode == "signature":    # the first checkpoint's signature replaced by the last one's
    c = checkpoints()
    sig = lines[c[-1]][lines[c[-1]].index(b'"signature":"') + 13:][:128]
    at = lines[c[0]].index(b'"signature":"') + 13
    lines[c[0]] = lines[c[0]][:at] + sig + lines[c[0]][at + 128:]
elif mode == "drop-head":
    os.unlink(path + ".head")
open(path, "wb").write(b"\n".join(lines) + (tail if lines else b""))
if mode == "signature":
    print(checkpoints()[0] + 1)
EOF
}

# expect_fault NAME REGEX MODE ARGS...: verify of the changed copy exits 1 with a
# line matching REGEX (FILE:LINE: record ID: KIND)
expect_fault()
{
	local name=$1 re=$2
	shift 2

	tamper "$name" "$@" >/dev/null
	verify "$PF_TMP/t-$name/audit.jsonl"
	echo "    $name: $(tr '\n' '|' <"$PF_TMP/verify.out" | head -c 700)"
	if [ "$VRC" != 1 ]; then
		fail "tamper-$name" "verify exited $VRC"
	elif ! grep -Eq "^$PF_TMP/t-$name/audit.jsonl$re" "$PF_TMP/verify.out"; then
		fail "tamper-$name" "no line matching '$re'"
	else
		pass "tamper-$name"
	fi
}

n=$(wc -l <"$LOG")
first_cp=$(grep -n '"kind":"checkpoint"' "$LOG" | head -n 1 | cut -d: -f1)
# line 5 is a decision of the first run (instance-start, then decisions)
expect_fault edit ":5: record 5: edited: " edit 5
expect_fault delete ":5: record 6: deleted: records 5\.\.5 missing" delete 5
expect_fault insert ":8: record 3: inserted: id 3 repeats " insert 3 7
expect_fault swap ":6: record 5: reordered: " swap 5 6
expect_fault cut-lines "\.head:1: record $n: truncated: the log ends at record $((n - 2))," cut-lines 2
expect_fault cut-mid ":$n: record $n: truncated: the file ends in a partial line" cut-mid
expect_fault recompute ":$first_cp: record $first_cp: bad signature: " recompute 5
expect_fault signature ":$first_cp: record $first_cp: bad signature: " signature
expect_fault drop-head "\.head:1: unsigned: the head is missing" drop-head

# ---- two writers at once ----

LOG2=$PF_TMP/two/audit.jsonl
mkdir -p "$PF_TMP/two"
# both agents start on one signal, once both writers run, so that their flushes interleave
GO=$PF_TMP/go run "$LOG2" 1000 &
a=$!
GO=$PF_TMP/go run "$LOG2" 1000 &
b=$!
pf_wait 10 test "$(pf_audit_count "$LOG2" kind=instance-start)" = 2
touch "$PF_TMP/go"
wait $a
wait $b
# how often the instance changes from one record to the next
turns=$(python3 -c 'import json, sys
inst = [json.loads(l).get("instance") for l in open(sys.argv[1])]
inst = [i for i in inst if i]
print(sum(a != b for a, b in zip(inst, inst[1:])))' "$LOG2")
echo "    two writers: the instance changes $turns times along the log"
check two-writers-interleaved "the writers took turns only $turns times: the test proves little" \
	test "$turns" -ge 3
check two-writers-verify "verify failed" verify_ok "$LOG2"
check two-writers-both-recorded "instance-start records: $(pf_audit_count "$LOG2" kind=instance-start)" \
	test "$(pf_audit_count "$LOG2" kind=instance-start)" = 2
check two-writers-ids-unique "ids repeat or skip" \
	test "$(ids "$LOG2" | sort -n | uniq | wc -l)" = "$(wc -l <"$LOG2")"

# ---- rotation: several .gz files, walked by verify ----

LOG3=$PF_TMP/rot/audit.jsonl
mkdir -p "$PF_TMP/rot"
run "$LOG3" 100 --audit-rotate-bytes 8192 --audit-sync always
run "$LOG3" 100 --audit-rotate-bytes 8192 --audit-sync none
gz=$(find "$PF_TMP/rot" -name 'audit.jsonl.*.gz' | wc -l)
check rotated-files "only $gz rotated files" test "$gz" -ge 2
check rotated-verify "verify failed" verify_ok "$LOG3"
check rotated-walked "summary: $(cat "$PF_TMP/verify.out")" \
	grep -q " in $((gz + 1)) files, ids 1\.\." "$PF_TMP/verify.out"
rotated_end_in_checkpoint()
{
	local f

	for f in "$PF_TMP"/rot/audit.jsonl.*.gz; do
		zcat "$f" | tail -n 1 | grep -q '"kind":"checkpoint",.*"why":"rotate"' || return 1
	done
}
check rotated-end-in-checkpoint "a rotated file does not end in a rotate checkpoint" \
	rotated_end_in_checkpoint

# ---- rotated files: named for their first record, one gzip stream each ----

# copy_dir NAME DIR: a copy of the log directory DIR in $PF_TMP/c-NAME
copy_dir()
{
	rm -rf "$PF_TMP/c-$1"
	cp -a "$2" "$PF_TMP/c-$1"
}

copy_dir trailing "$PF_TMP/rot"
first_gz=$(find "$PF_TMP/c-trailing" -name 'audit.jsonl.*.gz' | sort | head -n 1)
gz_lines=$(zcat "$first_gz" | wc -l)
echo "bytes after the stream" >>"$first_gz"
verify "$PF_TMP/c-trailing/audit.jsonl"
check gz-trailing-bytes "verify exit $VRC: $(head -c 400 "$PF_TMP/verify.out")" \
	grep -q "^$first_gz:$((gz_lines + 1)): not a record: " "$PF_TMP/verify.out"

copy_dir renamed "$PF_TMP/rot"
second_gz=$(find "$PF_TMP/c-renamed" -name 'audit.jsonl.*.gz' | sort | sed -n 2p)
number=${second_gz%.gz}
number=$((10#${number##*.}))
moved=$(printf '%s/audit.jsonl.%012d.gz' "$PF_TMP/c-renamed" $((number + 1)))
mv "$second_gz" "$moved"
verify "$PF_TMP/c-renamed/audit.jsonl"
check gz-renamed "verify exit $VRC: $(head -c 400 "$PF_TMP/verify.out")" \
	grep -q "^$moved:1: record $number: renamed: the file's name says its first record is $((number + 1))" \
	"$PF_TMP/verify.out"

# the records of the second file appended to the first as a second gzip stream
copy_dir moved "$PF_TMP/rot"
first_gz=$(find "$PF_TMP/c-moved" -name 'audit.jsonl.*.gz' | sort | sed -n 1p)
second_gz=$(find "$PF_TMP/c-moved" -name 'audit.jsonl.*.gz' | sort | sed -n 2p)
cat "$second_gz" >>"$first_gz"
rm "$second_gz"
verify "$PF_TMP/c-moved/audit.jsonl"
check gz-second-stream "verify exit $VRC: $(head -c 400 "$PF_TMP/verify.out")" \
	grep -q "^$first_gz:[0-9]*: not a record: " "$PF_TMP/verify.out"

# ---- a writer killed while compressing: plain rotated files are read, then compressed ----

# the newest rotated file plain beside a half-written .gz.tmp (killed while
# compressing it), the one before it both plain and gzip (killed between
# the rename and the unlink)
copy_dir uncompressed "$PF_TMP/rot"
L=$PF_TMP/c-uncompressed/audit.jsonl
shown=$("$PINFOLD" audit show --log "$L" --json 2>/dev/null | wc -l)
last_gz=$(find "$PF_TMP/c-uncompressed" -name 'audit.jsonl.*.gz' | sort | tail -n 1)
prev_gz=$(find "$PF_TMP/c-uncompressed" -name 'audit.jsonl.*.gz' | sort | tail -n 2 | head -n 1)
zcat "$last_gz" >"${last_gz%.gz}"
head -c 20 "$last_gz" >"$last_gz.tmp"
rm "$last_gz"
zcat "$prev_gz" >"${prev_gz%.gz}"
check uncompressed-verify "verify failed" verify_ok "$L"
check uncompressed-walked "summary: $(cat "$PF_TMP/verify.out")" \
	grep -q " in $((gz + 1)) files, ids 1\.\." "$PF_TMP/verify.out"
check uncompressed-show "show printed $("$PINFOLD" audit show --log "$L" --json 2>&1 | wc -l) of $shown" \
	test "$("$PINFOLD" audit show --log "$L" --json 2>/dev/null | wc -l)" = "$shown"
run "$L" 1
check uncompressed-compressed "left: $(find "$PF_TMP/c-uncompressed" -name 'audit.jsonl.[0-9]*' ! -name '*.gz')" \
	test -z "$(find "$PF_TMP/c-uncompressed" -name 'audit.jsonl.[0-9]*' ! -name '*.gz')"
check uncompressed-then-verify "verify failed" verify_ok "$L"

# the newest rotated files deleted, the current file emptied, the head deleted
copy_dir cut-rotated "$PF_TMP/rot"
L=$PF_TMP/c-cut-rotated/audit.jsonl
find "$PF_TMP/c-cut-rotated" -name 'audit.jsonl.*.gz' | sort | tail -n +2 | xargs rm --
: >"$L"
rm "$L.head"
verify "$L"
check emptied-with-rotated-truncated "verify exit $VRC: $(head -c 400 "$PF_TMP/verify.out")" \
	grep -q ": truncated: the head is missing and the current file is empty" "$PF_TMP/verify.out"
: >"$PF_TMP/run.err"
run "$L" 1
verify "$L"
check break-after-rotated-cut "verify exit $VRC: $(head -c 400 "$PF_TMP/verify.out")" \
	grep -q "^$L:1: record [0-9]*: chain-break: the writer that continued here found no head" \
	"$PF_TMP/verify.out"

# ---- prune ----

pf_exec "$PINFOLD" audit prune --log "$LOG3" --keep routine=0
stubs=$(for f in "$PF_TMP"/rot/audit.jsonl.*.gz; do zcat "$f"; done |
	grep -c '"retain":"routine","kind":"pruned"')
check prune-stubs "prune: $(pf_got) $(pf_stderr); $stubs stubs" test "$PF_RC" = 0 -a "$stubs" -gt 0
only_routine_pruned()
{
	! zcat "$PF_TMP"/rot/audit.jsonl.*.gz | grep -v '"retain":"routine"' | grep -q '"kind":"pruned"'
}
check prune-keeps-others "a record of another class was pruned" only_routine_pruned
check pruned-verifies "verify --keep routine=0 failed" verify_ok "$LOG3" --keep routine=0
verify "$LOG3"
check pruned-early-by-default "verify without --keep: exit $VRC" \
	grep -q ': pruned early: class routine is kept 365 days' "$PF_TMP/verify.out"

# a stub forged for a record still kept: phi where BPF LSM made some, else decision
class=decision
[ "$HAVE_LSM" = 1 ] && zcat "$PF_TMP"/rot/audit.jsonl.*.gz | grep -q '"retain":"phi"' && class=phi
forged=$(python3 - "$PF_TMP/rot" "$class" <<'EOF'
import glob, gzip, hashlib, json, sys

for path in sorted(glob.glob(sys.argv[1] + "/audit.jsonl.*.gz")):
    lines = gzip.open(path).read().split(b"\n")[:-1]
    for i, line in enumerate(lines):
        r = json.loads(line)
        if r["retain"] == sys.argv[2] and r["kind"] != "pruned":
            stub = {"schema": 3, "id": r["id"], "prev": r["prev"], "retain": r["retain"],
                    "kind": "pruned", "line_sha256": hashlib.sha256(line).hexdigest()}
            lines[i] = json.dumps(stub, separators=(",", ":")).encode()
            with gzip.open(path, "wb") as f:
                f.write(b"\n".join(lines) + b"\n")
            print("%s:%d: record %d" % (path, i + 1, r["id"]))
            sys.exit(0)
sys.exit(1)
EOF
)
verify "$LOG3" --keep routine=0
check forged-stub-fails "verify exit $VRC on a $class stub at $forged: $(head -c 400 "$PF_TMP/verify.out")" \
	grep -q "^$forged: pruned early: class $class is kept 2192 days" "$PF_TMP/verify.out"
no_chain_fault()
{
	! grep -Eq ": (edited|deleted|inserted|reordered):" "$PF_TMP/verify.out"
}
check forged-stub-chain-intact "the forged stub broke the chain instead" no_chain_fault

# a stub with a member prune does not write is not a stub
copy_dir stub-extra "$PF_TMP/rot"
python3 - "$PF_TMP/c-stub-extra" <<'PY'
import glob, gzip, sys

for path in sorted(glob.glob(sys.argv[1] + "/audit.jsonl.*.gz")):
    lines = gzip.open(path).read().split(b"\n")[:-1]
    for i, line in enumerate(lines):
        if b'"kind":"pruned"' in line:
            lines[i] = line[:-1] + b',"note":"x"}'
            with gzip.open(path, "wb") as f:
                f.write(b"\n".join(lines) + b"\n")
            print("%s:%d" % (path, i + 1))
            sys.exit(0)
sys.exit(1)
PY
verify "$PF_TMP/c-stub-extra/audit.jsonl" --keep routine=0
check stub-extra-member "verify exit $VRC: $(head -c 400 "$PF_TMP/verify.out")" \
	grep -q "\.gz:[0-9]*: not a record: " "$PF_TMP/verify.out"

# ---- --keep within bounds ----

pf_exec "$PINFOLD" audit prune --log "$LOG3" --keep decision=1000000
check keep-huge-prune-refused "prune exit $PF_RC: $(pf_stderr)" \
	test "$PF_RC" = 2 -a -n "$(grep 'at most 100000' "$PF_ERR")"
pf_exec "$PINFOLD" audit verify --log "$LOG3" --key "$PUB" --keep lifecycle=106752
check keep-huge-verify-refused "verify exit $PF_RC: $(pf_stderr)" \
	test "$PF_RC" = 2 -a -n "$(grep 'at most 100000' "$PF_ERR")"

# ---- a writer marks a tail it cannot prove (chain-break) ----

copy_dir cut "$PF_TMP/one"
L=$PF_TMP/c-cut/audit.jsonl
head -n 4 "$L" >"$L.x"
cat "$L.x" >"$L"
rm "$L.x" "$L.head"
: >"$PF_TMP/run.err"
run "$L" 1
verify "$L"
check break-head-missing "verify exit $VRC: $(head -c 400 "$PF_TMP/verify.out")" \
	grep -q "^$L:5: record 5: chain-break: the writer that continued here found no head: the records before it since the last checkpoint (ids 1\.\.4) are not proven$" \
	"$PF_TMP/verify.out"
check break-said "run said: $(grep -v 'denied\|degraded' "$PF_TMP/run.err" | head -c 300)" \
	grep -q "^pinfold: audit log $L: .*chain-break record 5" "$PF_TMP/run.err"

# cut, record 3 edited from deny to allow, the head spoilt
copy_dir edit "$PF_TMP/one"
L=$PF_TMP/c-edit/audit.jsonl
deny=$(grep -n '"decision":"deny"' "$L" | head -n 1 | cut -d: -f1)
head -n "$deny" "$L" | sed "${deny}s/\"decision\":\"deny\"/\"decision\":\"allow\"/" >"$L.x"
cat "$L.x" >"$L"
rm "$L.x"
sed -i 's/"signature":"./"signature":"x/' "$L.head"
run "$L" 1
verify "$L"
check break-head-not-signed "verify exit $VRC: $(head -c 400 "$PF_TMP/verify.out")" \
	grep -q "^$L:$((deny + 1)): record $((deny + 1)): chain-break: the writer that continued here found a head not signed by its key" \
	"$PF_TMP/verify.out"

copy_dir empty "$PF_TMP/one"
L=$PF_TMP/c-empty/audit.jsonl
: >"$L"
rm "$L.head"
verify "$L"
check emptied-log-no-records "verify exit $VRC: $(cat "$PF_TMP/verify.out")" \
	test "$VRC" = 0 -a "$(cat "$PF_TMP/verify.out")" = "$L: no records"

# ---- keygen --force: the old public key is kept, and verify takes both ----

mkdir -p "$PF_TMP/keys2" "$PF_TMP/rekey"
"$PINFOLD" audit keygen --key "$PF_TMP/keys2/sign.pem" >/dev/null
old_pub=$(python3 - "$PF_TMP/keys2/sign.pub.pem" <<'PY'
import base64, hashlib, sys
der = base64.b64decode("".join(l for l in open(sys.argv[1]) if not l.startswith("-----")))
print(hashlib.sha256(der[-32:]).hexdigest()[:16])
PY
)
old_pub=$PF_TMP/keys2/sign.$old_pub.pub.pem
KEY=$PF_TMP/keys2/sign.pem run "$PF_TMP/rekey/audit.jsonl" 3
pf_exec "$PINFOLD" audit keygen --key "$PF_TMP/keys2/sign.pem" --force
check keygen-keeps-old-public "keygen: $(pf_got) $(pf_stderr); $(ls "$PF_TMP/keys2")" test -s "$old_pub"
KEY=$PF_TMP/keys2/sign.pem run "$PF_TMP/rekey/audit.jsonl" 3
check rekey-no-break "a chain-break after keygen --force" \
	test "$(grep -c '"kind":"chain-break"' "$PF_TMP/rekey/audit.jsonl")" = 0
"$PINFOLD" audit verify --log "$PF_TMP/rekey/audit.jsonl" --key "$old_pub" \
	--key "$PF_TMP/keys2/sign.pub.pem" >"$PF_TMP/verify.out" 2>&1
VRC=$?
check verify-two-keys "verify exit $VRC: $(head -c 400 "$PF_TMP/verify.out")" \
	grep -q ': ok$' "$PF_TMP/verify.out"

# ---- links planted in the log directory, and open directories ----

mkdir -m 0777 "$PF_TMP/open"
: >"$PF_TMP/run.err"
run "$PF_TMP/open/audit.jsonl" 1
rc=$?
check open-dir-refused "exit $rc: $(tail -n 1 "$PF_TMP/run.err")" \
	test "$rc" = 2 -a -n "$(grep 'writable by group or others' "$PF_TMP/run.err")"

mkdir -m 0700 "$PF_TMP/links"
L=$PF_TMP/links/audit.jsonl
printf 'IMPORTANT\n' >"$PF_TMP/victim"
ln -s "$PF_TMP/victim" "$L.head.tmp"
ln -s "$PF_TMP/victim" "$L.000000000001.gz.tmp"
ln -s "$PF_TMP/victim" "$L.new"
run "$L" 3 --audit-rotate-bytes 1
check links-not-followed "the victim now holds: $(head -c 100 "$PF_TMP/victim" | od -c | head -n 2)" \
	test "$(cat "$PF_TMP/victim")" = IMPORTANT
check links-log-verifies "verify failed" verify_ok "$L"
# a writer cuts a partial last line: not of a file BASE links to
mkdir -m 0700 "$PF_TMP/links2"
printf 'keep me\nthis line has no newline' >"$PF_TMP/victim3"
ln -s "$PF_TMP/victim3" "$PF_TMP/links2/audit.jsonl"
: >"$PF_TMP/run.err"
run "$PF_TMP/links2/audit.jsonl" 1
rc=$?
check base-link-refused "exit $rc: $(tail -n 1 "$PF_TMP/run.err"); victim: $(od -c "$PF_TMP/victim3" | head -n 2)" \
	test "$rc" = 2 -a "$(cat "$PF_TMP/victim3")" = "$(printf 'keep me\nthis line has no newline')"
rm "$PF_TMP/links2/audit.jsonl" "$PF_TMP/links2/audit.jsonl.lock"
ln -s "$PF_TMP/victim2" "$PF_TMP/links2/audit.jsonl.lock"
run "$PF_TMP/links2/audit.jsonl" 1
rc=$?
check lock-link-refused "exit $rc: $(tail -n 1 "$PF_TMP/run.err")" \
	test "$rc" = 2 -a ! -e "$PF_TMP/victim2"

# ---- verify holds no lock while it prints ----

mkdir -p "$PF_TMP/slow"
seq 3000 | sed 's/^/not a record /' >"$PF_TMP/slow/audit.jsonl"
: >"$PF_TMP/slow/audit.jsonl.lock"
("$PINFOLD" audit verify --log "$PF_TMP/slow/audit.jsonl" --key "$PUB" | (sleep 4; cat >/dev/null)) &
reader=$!
sleep 1
check verify-reader-blocks-no-writer "a writer waited for a verify whose reader was slow" \
	timeout 2 flock -x "$PF_TMP/slow/audit.jsonl.lock" true
wait $reader

# ---- a rotation that fails says so once, and leaves the log consistent ----

mkdir -p "$PF_TMP/noroll"
L=$PF_TMP/noroll/audit.jsonl
run "$L" 2
if chattr +a "$L" 2>/dev/null; then
	: >"$PF_TMP/run.err"
	run "$L" 20 --audit-rotate-bytes 1
	chattr -a "$L"
	check rotation-failure-said "run said: $(grep -c 'cannot rotate' "$PF_TMP/run.err") lines" \
		test "$(grep -c 'cannot rotate the audit log' "$PF_TMP/run.err")" = 1
	check rotation-failure-consistent "verify failed" verify_ok "$L"
else
	echo "    (chattr +a not supported here: rotation failure not tried)"
fi

pf_finish
