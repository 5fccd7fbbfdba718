#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Live policy swap with BPF LSM, inside the test VM (tests/vm/run.sh): the
# file twin of tests/integration/test_swap.sh. Three files in three data
# classes: A readable under both policies, B under neither, C under policy
# 2 only. The agent, a busy shell loop, reads all three with the shell's own
# `read` (no fork between reads), while the test swaps policy 1 and 2
# (renamed into place) $SWAPS times. Every read of A must succeed, every
# read of B fail, C both; one policy-applied record per swap; every record
# of C consistent with its generation (allowed only in even ones, by policy
# 2's family, which holds the same id as policy 1's other one). A policy
# whose rules would let the agent write the policy's directory is rejected
# (tests/vm/test_policy_guard.sh covers the start). A build whose swap
# deletes the old generation's rules before the switch fails here too (24
# reads of A refused in 157100, in one run).
#
#   tests/vm/run.sh tests/vm/test_swap.sh
# SC2034: SUITE is lib.sh's
# shellcheck disable=SC2034
set -u
SUITE=test_swap
AUDIT=/tmp/pf-audit/swap.jsonl
# shellcheck source=tests/vm/lib.sh
. /pinfold/tests/vm/lib.sh

SWAPS=60
S=$D/swap
POLDIR=/srv/swap-policy
POLICY=$POLDIR/policy.yaml

need_bpf_lsm
rm -rf $S $POLDIR
mkdir -p $S/a $S/b $S/c $S/x $S/bin $S/out $POLDIR
echo a > $S/a/f.txt
echo b > $S/b/f.txt
echo c > $S/c/f.txt
echo x > $S/x/f.txt

cat > $S/bin/looper.sh <<'EOF'
# read A, B and C until SIGTERM; then write the counts to OUT/result
A=$1 B=$2 C=$3 OUT=$4
exec 2>/dev/null
a_ok=0 a_bad=0 b_ok=0 b_bad=0 c_ok=0 c_bad=0 flips=0 last=none stop=0 i=0
trap 'stop=1' TERM
: > "$OUT/ready"
while [ $stop = 0 ]; do
	if read -r v < "$A"; then a_ok=$((a_ok + 1)); else a_bad=$((a_bad + 1)); fi
	# B and C now and then: each refusal is an event for the writer
	i=$((i + 1))
	[ $((i % 100)) = 0 ] || continue
	if read -r v < "$B"; then b_ok=$((b_ok + 1)); else b_bad=$((b_bad + 1)); fi
	if read -r v < "$C"; then now=ok c_ok=$((c_ok + 1)); else now=bad c_bad=$((c_bad + 1)); fi
	[ "$last" != none ] && [ "$now" != "$last" ] && flips=$((flips + 1))
	last=$now
done
echo "$a_ok $a_bad $b_ok $b_bad $c_ok $c_bad $flips" > "$OUT/result"
EOF

# policy N OWN-CLASS: both policies list the same classes in the same order;
# the family's third grant is x under policy 1 and c under policy 2
policy()
{
	cat <<EOF
version: 1
classes:
  swap.a: { trees: [$S/a] }
  swap.b: { trees: [$S/b] }
  swap.c: { trees: [$S/c] }
  swap.x: { trees: [$S/x] }
  swap.bin: { trees: [$S/bin] }
families:
  $1:
    grants:
      - { class: swap.bin, actions: read }
      - { class: swap.a, actions: read }
      - { class: $2, actions: read, audit: true }
agents:
  looper:
    families: [runtime, runtime-programs, $1]
    files:
      - { path: $S/out, access: read-write }
EOF
}
policy one swap.x > /tmp/p1.yaml
policy two swap.c > /tmp/p2.yaml

# put FILE: make FILE the policy: written beside it, renamed into place
put()
{
	cp "$1" $POLDIR/.policy.new && mv -f $POLDIR/.policy.new $POLICY
}

applied() { grep -c '"kind":"policy-applied"' $AUDIT; }

# verdict NAME DETAIL STATUS: ok when STATUS is 0, else bad with DETAIL
verdict()
{
	if [ "$3" = 0 ]; then ok "$1"; else bad "$1" "$2"; fi
}

# wait_applied N: until N policy-applied records, at most about 30 s
wait_applied()
{
	i=0
	while [ "$(applied)" -lt "$1" ]; do
		i=$((i + 1))
		[ $i -lt 1500 ] || return 1
		sleep 0.02
	done
}

put /tmp/p1.yaml
: > $AUDIT
$PF run --policy $POLICY --agent looper --audit $AUDIT -- \
	sh $S/bin/looper.sh $S/a/f.txt $S/b/f.txt $S/c/f.txt $S/out 2>/tmp/swap-stderr &
run=$!
i=0
while [ ! -e $S/out/ready ] && [ $i -lt 500 ]; do
	i=$((i + 1))
	sleep 0.05
done
if [ ! -e $S/out/ready ]; then
	bad agent-started "no ready file: $(head -c 600 /tmp/swap-stderr)"
	kill $run
	finish
	exit 1
fi

t0=$(date +%s)
n=1
while [ $n -le $SWAPS ]; do
	if [ $((n % 2)) = 1 ]; then put /tmp/p2.yaml; else put /tmp/p1.yaml; fi
	if ! wait_applied $n; then
		bad "swap-$n" "no policy-applied record: $(tail -c 400 /tmp/swap-stderr)"
		break
	fi
	sleep 0.05
	n=$((n + 1))
done
swapped=$((n - 1))
echo "note: $swapped swaps in $(($(date +%s) - t0)) s"
[ $swapped = $SWAPS ]
verdict "$SWAPS swaps applied" "$swapped applied" $?

# a policy whose rules let the agent write its own policy is rejected, and
# the one in force stays
gen=$((swapped + 1))
policy one swap.x > /tmp/p3.yaml
echo "      - { path: $POLDIR, access: read-write }" >> /tmp/p3.yaml
put /tmp/p3.yaml
i=0
while ! grep -qF '"kind":"policy-rejected"' $AUDIT && [ $i -lt 500 ]; do
	i=$((i + 1))
	sleep 0.02
done
grep -F '"kind":"policy-rejected"' $AUDIT | grep -qF "\"generation\":$gen" &&
	grep -qE "^pinfold: policy change rejected, generation $gen stays in force: .*agent looper may .*own files rule $POLDIR" /tmp/swap-stderr &&
	[ "$(applied)" = "$swapped" ]
verdict self-writable-policy-rejected \
	"$(applied) applied; $(grep -F policy-rejected $AUDIT | head -c 400); stderr: $(tail -c 400 /tmp/swap-stderr)" $?

kill -TERM $run
wait $run
rc=$?
[ $rc = 0 ]
verdict agent-exit "pinfold run exited $rc: $(tail -c 400 /tmp/swap-stderr)" $?

# shellcheck disable=SC2046
set -- $(cat $S/out/result 2>/dev/null)
if [ $# != 7 ]; then
	bad agent-result "no result: $(cat $S/out/result 2>/dev/null)"
	finish
	exit
fi
echo "note: A read $1 times ($2 failed); B $3 read, $4 refused; C $5 read, $6 refused; $7 flips"
[ "$1" -gt 100 ] && [ "$2" = 0 ]
verdict every-read-of-a "$1 ok, $2 failed" $?
[ "$3" = 0 ] && [ "$4" -gt 10 ]
verdict every-read-of-b-refused "$3 ok, $4 refused" $?
[ "$5" -gt 0 ] && [ "$6" -gt 0 ] && [ "$7" -ge $((swapped / 4)) ]
verdict c-flips "$5 ok, $6 refused, $7 flips in $swapped swaps" $?

n=$(applied)
[ "$n" = "$swapped" ]
verdict one-record-per-swap "$n records, $swapped swaps" $?

# every decision about A, B or C is consistent with its generation (grep
# first: awk over every record is slow under TCG)
grep -F '"kind":"decision"' $AUDIT > /tmp/swap-decisions
obj() { grep -F "\"object\":\"$1\"" /tmp/swap-decisions; }
# gens: the generation of each record on stdin, one a line
gens() { sed -n 's/.*"generation":\([0-9]*\).*/\1/p'; }
na=$(obj $S/a/f.txt | grep -c .)
nb=$(obj $S/b/f.txt | grep -c .)
nb_allowed=$(obj $S/b/f.txt | grep -cF '"decision":"allow"')
obj $S/c/f.txt | grep -F '"decision":"allow"' > /tmp/swap-c-allowed
obj $S/c/f.txt | grep -F '"decision":"deny"' > /tmp/swap-c-refused
nca=$(grep -c . /tmp/swap-c-allowed)
ncd=$(grep -c . /tmp/swap-c-refused)
ca_wrong=$(grep -vF '"family":"two"' /tmp/swap-c-allowed | grep -c .)
ca_wrong=$((ca_wrong + $(gens < /tmp/swap-c-allowed | grep -c '[13579]$')))
cd_wrong=$(gens < /tmp/swap-c-refused | grep -c '[02468]$')
c_class=$(grep -vF '"class":"swap.c"' /tmp/swap-c-allowed /tmp/swap-c-refused | grep -c .)
echo "note: records: $nb of B, $nca of C allowed, $ncd of C refused"
[ "$na" = 0 ] && [ "$nb_allowed" = 0 ] && [ "$nb" -gt 0 ]
verdict a-and-b-records "$na records of A, $nb_allowed of B allowed, $nb of B" $?
[ "$nca" -gt 0 ] && [ "$ncd" -gt 0 ] && [ "$ca_wrong" = 0 ] && [ "$cd_wrong" = 0 ] &&
	[ "$c_class" = 0 ]
verdict records-match-generations \
	"C: $ca_wrong allowed records not of policy 2 or in an odd generation, $cd_wrong refused in an even one, $c_class not of class swap.c: $(head -c 400 /tmp/swap-c-allowed)" $?

finish
