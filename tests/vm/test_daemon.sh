#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# pinfold daemon with BPF LSM, inside the test VM (tests/vm/run.sh): file
# rules hold an agent launched through the daemon; they go on holding it
# while the daemon is killed (SIGKILL), its file denials meanwhile wait in
# its ring, and a restarted daemon adopts the instance and writes them.
# The host's tests/integration/test_daemon.sh covers reloads, admins and
# network rules.
#
#   tests/vm/run.sh tests/vm/test_daemon.sh
# SC2034: SUITE is lib.sh's
# shellcheck disable=SC2034
set -u
SUITE=test_daemon
AUDIT=/tmp/pf-audit/daemon.jsonl
# shellcheck source=tests/vm/lib.sh
. /pinfold/tests/vm/lib.sh

need_bpf_lsm

W=$D/daemon
rm -rf $W
mkdir -p $W/ro $W/secret $W/rounds /etc/pinfold-vm
echo shared > $W/ro/f.txt
echo hidden > $W/secret/f.txt
cat > /etc/pinfold-vm/daemon.yaml <<EOF
version: 1
classes:
  d.ro: { trees: [$W/ro] }
  d.rounds: { trees: [$W/rounds] }
  d.probe: { trees: [/pinfold/build] }
families:
  d:
    grants:
      - { class: d.probe, actions: [read, exec] }
      - { class: d.ro, actions: read }
      - { class: d.rounds, actions: read-write }
agents:
  reader:
    families: [runtime, runtime-programs, d]
EOF

start_daemon()
{
	$PF daemon --policy /etc/pinfold-vm/daemon.yaml --audit $AUDIT >> /tmp/daemon.log 2>&1 &
	DPID=$!
	# loading and verifying every program takes 10 s and more under TCG on a
	# busy host: a minute, then it has failed to start
	i=0
	while ! $PF status > /dev/null 2>&1; do
		i=$((i + 1))
		[ $i -lt 600 ] || return 1
		sleep 0.1
	done
	echo "daemon answered after about $((i / 10)) s"
}

if start_daemon; then
	ok "daemon starts"
else
	bad "daemon starts" "$(cat /tmp/daemon.log)"
	finish
	exit 1
fi
if $PF status | grep -q "BPF LSM:.*enforced"; then
	ok "status: BPF LSM enforced"
else
	bad "status: BPF LSM enforced" "$($PF status 2>&1)"
fi

# the agent reads the secret (denied) and the shared file (allowed) each
# round, when go.N appears
$PF run --agent reader -- sh -c '
	i=0
	while [ $i -lt 6 ]; do
		while [ ! -e "$0/go.$i" ]; do sleep 0.05; done
		"$1" read "$2" > "$0/out.$i.secret" 2>&1
		"$1" read "$3" > "$0/out.$i.ro" 2>&1
		: > "$0/done.$i"
		i=$((i + 1))
	done' $W/rounds $PROBE $W/secret/f.txt $W/ro/f.txt > /tmp/agent.log 2>&1 &
AGENT=$!

round()
{
	: > $W/rounds/go.$1
	i=0
	while [ ! -e $W/rounds/done.$1 ]; do
		i=$((i + 1))
		[ $i -lt 200 ] || return 1
		sleep 0.05
	done
}

# judged ROUND: the secret was denied and the shared file read
judged()
{
	grep -q '^err' $W/rounds/out.$1.secret && grep -q '^ok' $W/rounds/out.$1.ro
}

round 0
if judged 0; then ok "through the daemon: the secret denied, the shared file read"
else bad "through the daemon" "$(cat $W/rounds/out.0.*) $(cat /tmp/agent.log)"; fi

kill -KILL $DPID
wait $DPID 2> /dev/null
round 1 && round 2 && round 3
if judged 1 && judged 2 && judged 3; then
	ok "daemon killed: file rules still hold (3 rounds)"
else
	bad "daemon killed" "$(cat $W/rounds/out.*) $(cat /tmp/agent.log)"
fi
secret_before=$(grep -F '"decision":"deny"' $AUDIT | grep -cF "$W/secret/f.txt")

start_daemon || bad "restart" "$(cat /tmp/daemon.log)"
if $PF status | grep -q "(adopted)"; then ok "the instance is adopted"
else bad "the instance is adopted" "$($PF status 2>&1)"; fi
round 4 && round 5
if judged 4 && judged 5; then ok "after the restart: the secret denied, the shared file read"
else bad "after the restart" "$(cat $W/rounds/out.*)"; fi
wait $AGENT
sleep 1.2
secret_after=$(grep -F '"decision":"deny"' $AUDIT | grep -cF "$W/secret/f.txt")
if [ "$secret_before" = 1 ] && [ "$secret_after" = 6 ]; then
	ok "the 3 denials made while no daemon ran are records (1 before the kill, 6 in all)"
else
	bad "downtime records" "before the restart $secret_before, after $secret_after, want 1 and 6"
fi
if grep -qF '"kind":"events-lost"' $AUDIT; then
	bad "no loss" "$(grep -F events-lost $AUDIT)"
else
	ok "no event lost across the kill"
fi
# the launcher's connection died with the first daemon: no status to report
if grep -F '"kind":"instance-exit"' $AUDIT | grep -qF '"status":null,"status_from":"unknown"'; then
	ok "instance-exit recorded, its status unknown (the launcher's connection died)"
else
	bad "instance-exit recorded" "$(grep -F '"decision":"deny"' $AUDIT | tail -3) $(tail -3 $AUDIT)"
fi
if $PF audit verify --log $AUDIT > /tmp/verify.out 2>&1; then ok "the log verifies"
else bad "the log verifies" "$(cat /tmp/verify.out)"; fi

# an agent cannot reach the control socket: it cannot ask for another instance
$PF run --agent reader -- $PF run --agent reader -- true > /tmp/hop.out 2>&1
if [ $? != 0 ] && grep -F '"action":"unix-connect"' $AUDIT | grep -qF '/run/pinfold/control.sock'; then
	ok "an agent cannot reach the control socket (unix-connect denied and recorded)"
else
	bad "control socket from an agent" "$(cat /tmp/hop.out) $(grep -F unix $AUDIT | tail -2)"
fi

$PF unload --force > /dev/null 2>&1
wait $DPID 2> /dev/null
finish
