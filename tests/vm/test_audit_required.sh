#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Audit-required classes with BPF LSM, inside the test VM (tests/vm/run.sh).
# Every access to phi.notes (audit: required) is recorded, allowed or not, with
# the path kept as a keyed hash (log_paths: keyed-hash). An access that cannot
# be recorded is refused, whatever the agent's grants:
#   - the audit log's filesystem is full: the writer holds records in memory
#     and tells the kernel, which refuses phi.notes (reason audit-unavailable)
#     while reference stays readable; once there is space the held records are
#     written, an audit-blocked record says for how long, and phi.notes opens;
#   - the writer is stopped and the agent fills its ring: phi.notes is refused
#     (no event can be queued), reference still opens, and the events that
#     could not be queued are one events-lost record with their exact count;
#   - the log's filesystem has less room than --audit-reserve-bytes: phi.notes
#     is refused before any write fails, and opens again once there is room.
# The log verifies afterwards (pinfold audit verify). And pinfold refuses to run
# an agent whose rules reach the audit keys or the log: it could forge or cut
# its own records.
set -u
SUITE=test_audit_required
POLICY=tests/vm/audit-policy.yaml
# shellcheck source=tests/vm/lib.sh
. /pinfold/tests/vm/lib.sh

A=/srv/aud
LOGDIR=/tmp/audfull
AUDIT=$LOGDIR/audit.jsonl
KEY=/tmp/audkeys/signing.pem
FLOOD=/pinfold/build/tests/pf-flood
S=$A/sync
N=$A/notes/jane-doe.txt
R=$A/ref/r.txt
X=$A/sealed/x.txt

need_bpf_lsm
rm -rf $A $LOGDIR /tmp/audkeys
mkdir -p $A/notes $A/ref $A/sync $A/sealed $LOGDIR /tmp/audkeys
echo note > $N
echo ref > $R
echo x > $X
chmod 777 $S
# room for the records of a full ring (4 MiB of events, about 5 MiB of records) and more
mount -t tmpfs -o size=32m,mode=0700 tmpfs $LOGDIR || { bad mount "cannot mount a tmpfs"; finish; exit; }
$PF audit keygen --key $KEY > /dev/null || bad keygen "pinfold audit keygen failed"

# wait_for MARK [TENTHS]: until the agent (or the test) leaves MARK in $S
wait_for()
{
	t=0
	while [ ! -e "$S/$1" ] && [ $t -lt "${2:-600}" ]; do
		sleep 0.1
		t=$((t + 1))
	done
	[ -e "$S/$1" ]
}

# result NAME EXPECT FILE: what the agent's probe wrote into $S/FILE
result()
{
	got=$(cat "$S/$3" 2>/dev/null)
	[ "$got" = "$2" ] && ok "$1" || bad "$1" "agent's probe said '$got', expected '$2'"
}

cat > $S/agent.sh <<AGENT
w() { while [ ! -e $S/\$1 ]; do sleep 0.1; done; }
$PROBE read $N > $S/p1-notes
touch $S/p1
w go2
$FLOOD $X 40 > /dev/null
sleep 1
$PROBE read $N > $S/p2-notes
$PROBE read $R > $S/p2-ref
touch $S/p2
w go3b
$PROBE read $N > $S/p3-notes
touch $S/p3
w go4
# more than a ring holds: about 6 600 file events (PF_RINGBUF_SIZE)
$FLOOD $X 12000 > $S/p4-flood
$PROBE read $N > $S/p4-notes
$PROBE read $R > $S/p4-ref
touch $S/p4
w go5
AGENT

# --- the guard: no agent may reach the keys or the log -----------------------------
for agent in keyreader logwriter; do
	$PF run --policy $POLICY --agent $agent --audit $AUDIT --audit-key $KEY -- true \
		2>/tmp/stderr
	rc=$?
	case $agent in
	keyreader) want="may read $KEY" ;;
	*) want="may" ;;
	esac
	if [ $rc = 2 ] && grep -q "refusing to run agent $agent: agent $agent $want" /tmp/stderr &&
		grep -q "so it could forge or cut its own audit records" /tmp/stderr; then
		ok "$agent-refused"
	else
		bad "$agent-refused" "exit $rc: $(cat /tmp/stderr)"
	fi
done

# a hard link of a key into a tree the agent reads: the key is read through it
mkdir -p $A/k2
$PF audit keygen --key $A/k2/sign.pem > /dev/null
ln $A/k2/sign.pem $A/ref/k.pem
$PF run --policy $POLICY --agent clerk --audit /tmp/pf-audit/hl.jsonl --audit-key $A/k2/sign.pem \
	-- true 2>/tmp/stderr
rc=$?
if [ $rc = 2 ] && grep -q "$A/k2/sign.pem has 2 hard links: agent clerk may read it" /tmp/stderr; then
	ok key-hard-link-refused
else
	bad key-hard-link-refused "exit $rc: $(cat /tmp/stderr)"
fi
rm -f $A/ref/k.pem

$PF run --policy $POLICY --agent clerk --audit $AUDIT --audit-key $KEY --audit-reserve-bytes 0 \
	-- sh $S/agent.sh 2>/tmp/stderr &
run=$!

# --- phase 1: recorded, hashed -------------------------------------------------
wait_for p1 || bad p1 "the agent did not start: $(cat /tmp/stderr)"
result notes-read-allowed ok p1-notes
sleep 1
if grep -q jane-doe $AUDIT; then
	bad path-hashed "the log holds the path of a keyed-hash class: $(grep jane-doe $AUDIT)"
else
	ok path-hashed
fi
n=$(grep -F '"action":"open-read"' $AUDIT | grep -F '"decision":"allow"' |
	grep -cF '"class":"phi.notes"')
[ "$n" = 1 ] && ok required-allow-recorded ||
	bad required-allow-recorded "$n allow records of phi.notes, expected 1: $(cat $AUDIT)"
hash=$($PF audit hash-path --key /tmp/audkeys/audit-paths.key $N | cut -d' ' -f1)
grep -qF "\"object\":\"$hash\"" $AUDIT && ok object-is-hmac ||
	bad object-is-hmac "no record with object $hash (pinfold audit hash-path): $(cat $AUDIT)"

# --- phase 2: the log's filesystem is full ---------------------------------------
# keep it full: space the writer frees by cutting back a failed write is
# taken again, as other writers on a busy disk would
dd if=/dev/zero of=$LOGDIR/filler bs=4k 2>/dev/null
(while [ ! -e $S/go3 ]; do
	cat /dev/zero >> $LOGDIR/filler 2>/dev/null
	sleep 0.05
done) &
refill=$!
touch $S/go2
wait_for p2 || bad p2 "the agent did not get through phase 2"
result notes-refused-disk-full "err EACCES" p2-notes
result reference-readable-disk-full ok p2-ref
grep -q "class phi.notes is audit-required, and the audit log cannot take records" /tmp/stderr &&
	ok refusal-says-why || bad refusal-says-why "no such denial line: $(cat /tmp/stderr)"
grep -q "No space left on device" /tmp/stderr && ok disk-full-said ||
	bad disk-full-said "stderr does not name the error: $(cat /tmp/stderr)"

# --- phase 3: space again -------------------------------------------------------------
touch $S/go3
wait $refill
rm -f $LOGDIR/filler
sleep 3
touch $S/go3b
wait_for p3 || bad p3 "the agent did not get through phase 3"
result notes-readable-again ok p3-notes
sleep 1
# a write that lands in the file's last page while the next one cannot may
# block and unblock the writer more than once
n=$(grep -c '"kind":"audit-blocked".*"error":"No space left on device"' $AUDIT)
[ "$n" -ge 1 ] && ok audit-blocked-recorded ||
	bad audit-blocked-recorded "no audit-blocked record naming the error"
n=$(grep -F '"reason_code":"audit-unavailable"' $AUDIT | grep -c '"class":"phi.notes"')
[ "$n" = 1 ] && ok refusal-recorded-after ||
	bad refusal-recorded-after "$n audit-unavailable records, expected 1 (held, then written)"

# --- phase 4: the ring is full ------------------------------------------------------------
kill -STOP $run
touch $S/go4
wait_for p4 || bad p4 "the agent did not get through phase 4"
result notes-refused-ring-full "err EACCES" p4-notes
result reference-readable-ring-full ok p4-ref
result flood-denied "ok 0 12000 0" p4-flood
kill -CONT $run
touch $S/go5
wait $run

# every event numbered is a record or counted lost, exactly
denials=$(grep -F '"action":"open-read"' $AUDIT | grep -F "\"object\":\"$X\"" |
	grep -cF '"decision":"deny"')
lost=$(grep '"kind":"events-lost"' $AUDIT | sed 's/.*"count":\([0-9]*\).*/\1/' |
	awk '{s += $1} END {print s + 0}')
notes_denied=$(grep -F '"class":"phi.notes"' $AUDIT | grep -cF '"decision":"deny"')
# 12040 denied opens of X (phase 2's and the flood) and the phase 4 notes
# open, whose event could not be queued: it is lost too, not recorded
[ "$lost" -gt 0 ] && ok ring-overflowed || bad ring-overflowed "no events-lost record"
[ $((denials + lost)) = 12041 ] && ok lost-count-exact ||
	bad lost-count-exact "$denials denial records of $X + $lost lost != 12041"
[ "$notes_denied" = 1 ] && ok notes-denials-recorded ||
	bad notes-denials-recorded "$notes_denied denial records of phi.notes, expected 1"
grep -q '"kind":"events-lost".*"first_seq"' $AUDIT && ok lost-range-given ||
	bad lost-range-given "events-lost without first_seq: $(grep events-lost $AUDIT)"
out=$($PF audit verify --log $AUDIT --key ${KEY%.pem}.pub.pem 2>&1) && ok log-verifies ||
	bad log-verifies "$out"

# --- the reserve: less room than 1 MiB on the log's filesystem ------------------------
rm -f $S/r*
cat > $S/agent2.sh <<AGENT
w() { while [ ! -e $S/\$1 ]; do sleep 0.1; done; }
w r1
$PROBE read $N > $S/r1-notes
$PROBE read $R > $S/r1-ref
touch $S/r1done
w r2
$PROBE read $N > $S/r2-notes
touch $S/r2done
AGENT
$PF run --policy $POLICY --agent clerk --audit $AUDIT --audit-key $KEY \
	--audit-reserve-bytes 1048576 -- sh $S/agent2.sh 2>/tmp/stderr2 &
run=$!
sleep 1
# leave 512 KiB free, whatever the log holds by now
free=$(df -k $LOGDIR | awk 'NR == 2 { print $4 }')
dd if=/dev/zero of=$LOGDIR/filler bs=1k count=$((free - 512)) 2>/dev/null
sleep 2
touch $S/r1
wait_for r1done || bad r1 "the agent did not get through"
result notes-refused-low-space "err EACCES" r1-notes
result reference-readable-low-space ok r1-ref
grep -q "less than 1048576 bytes are free for the audit log $AUDIT" /tmp/stderr2 &&
	ok low-space-said || bad low-space-said "$(cat /tmp/stderr2)"
rm -f $LOGDIR/filler
sleep 2
touch $S/r2
wait_for r2done || bad r2 "the agent did not get through"
result notes-readable-with-room ok r2-notes
wait $run
n=$(grep -F '"reason_code":"audit-unavailable"' $AUDIT | grep -c '"class":"phi.notes"')
[ "$n" = 2 ] && ok low-space-refusal-recorded ||
	bad low-space-refusal-recorded "$n audit-unavailable records in all, expected 2"
grep -q '"kind":"audit-blocked".*"error":"less than 1048576 bytes are free' $AUDIT &&
	ok low-space-blocked-record || bad low-space-blocked-record "$(grep audit-blocked $AUDIT)"
out=$($PF audit verify --log $AUDIT --key ${KEY%.pem}.pub.pem 2>&1) && ok log-verifies-after ||
	bad log-verifies-after "$out"
umount $LOGDIR
finish
