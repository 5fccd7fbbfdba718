#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# The guard against an agent changing its own policy, with BPF LSM, inside
# the test VM (tests/vm/run.sh): pinfold run refuses to watch (exit 2, one
# line naming the file and the grant, the agent not started) a policy that
# the agent's rules let it write, create files beside, or delete or rename
# on the way to it, a link on that way included; and a policy of an agent
# in audit mode, which no file rule holds, when it runs as root. It watches
# a policy the agent may only read, and runs with --no-watch. The host's
# tests/integration/test_swap.sh covers hosts without BPF LSM, and the VM's
# test_swap.sh a swap to a policy the agent could change.
#
#   tests/vm/run.sh tests/vm/test_policy_guard.sh
# SC2034: SUITE is lib.sh's
# shellcheck disable=SC2034
set -u
SUITE=test_policy_guard
AUDIT=/tmp/pf-audit/guard.jsonl
# shellcheck source=tests/vm/lib.sh
. /pinfold/tests/vm/lib.sh

need_bpf_lsm

G=$D/guard
rm -rf $G
mkdir -p $G/rw/policy.d $G/ro $G/del/ro $G/out

# classes rw (read-write) and ro (read, also nested below del); agent guard
# may also delete, and so rename, names below del
cat > /tmp/guard.yaml <<EOF
version: 1
classes:
  guard.rw: { trees: [$G/rw] }
  guard.ro: { trees: [$G/ro, $G/del/ro] }
families:
  guard-data:
    grants:
      - { class: guard.rw, actions: read-write }
      - { class: guard.ro, actions: read }
agents:
  guard:
    families: [runtime, runtime-programs, guard-data]
    files:
      - { path: $G/out, access: read-write }
      - { path: $G/del, access: [read, delete] }
  auditor:
    mode: audit
    families: [runtime, runtime-programs, guard-data]
EOF
for f in rw/policy.yaml rw/policy.d/agents.yaml ro/policy.yaml del/ro/policy.yaml; do
	cp /tmp/guard.yaml $G/$f
done
ln -s $G/ro/policy.yaml $G/del/link.yaml
MARK=$G/out/ran

# refused NAME PATTERN ARGS...: pinfold run ARGS refuses to watch: exit 2,
# the agent not started, one line saying so that matches PATTERN (grep -E)
refused()
{
	name=$1 pattern=$2
	shift 2
	rm -f $MARK
	$PF run "$@" --audit $AUDIT -- sh -c ": > $MARK" 2>/tmp/guard-stderr
	rc=$?
	n=$(grep -c '^pinfold: refusing to watch policy ' /tmp/guard-stderr)
	if [ $rc != 2 ]; then
		bad "$name" "exit $rc, want 2: $(head -c 600 /tmp/guard-stderr)"
	elif [ -e $MARK ]; then
		bad "$name" "the agent ran"
	elif [ "$n" != 1 ] || ! grep -qE "^pinfold: refusing to watch policy $pattern" /tmp/guard-stderr; then
		bad "$name" "want one line matching '$pattern': $(head -c 600 /tmp/guard-stderr)"
	else
		ok "$name"
	fi
}

# runs NAME WATCHED ARGS...: pinfold run ARGS runs the agent, watching the
# policy (WATCHED true) or not
runs()
{
	name=$1 watched=$2
	shift 2
	rm -f $MARK
	: > $AUDIT
	$PF run "$@" --audit $AUDIT -- sh -c ": > $MARK" 2>/tmp/guard-stderr
	rc=$?
	if [ $rc != 0 ] || [ ! -e $MARK ]; then
		bad "$name" "exit $rc: $(head -c 600 /tmp/guard-stderr)"
	elif ! grep -F '"kind":"instance-start"' $AUDIT | grep -qF "\"watched\":$watched"; then
		bad "$name" "no instance-start with watched $watched: $(head -c 600 $AUDIT)"
	else
		ok "$name"
	fi
}

refused policy-in-a-class-the-agent-may-write \
	"$G/rw/policy.yaml: agent guard may write $G/rw/policy.yaml: family guard-data grants read, write, create, delete on class guard.rw" \
	--policy $G/rw/policy.yaml --agent guard
refused policy-directory-in-a-class-the-agent-may-write \
	"$G/rw/policy.d: agent guard may .*family guard-data grants read, write, create, delete on class guard.rw" \
	--policy $G/rw/policy.d --agent guard
refused policy-below-a-directory-the-agent-may-rename \
	"$G/del/ro/policy.yaml: agent guard may delete or rename $G/del: its own files rule $G/del" \
	--policy $G/del/ro/policy.yaml --agent guard
refused policy-through-a-link-the-agent-may-rename \
	"$G/del/link.yaml: agent guard may delete or rename $G/del/link.yaml: its own files rule $G/del" \
	--policy $G/del/link.yaml --agent guard
refused policy-of-an-agent-in-audit-mode \
	"$G/ro/policy.yaml: agent auditor runs in audit mode, .*as root" \
	--policy $G/ro/policy.yaml --agent auditor
runs policy-in-a-class-the-agent-may-only-read true --policy $G/ro/policy.yaml --agent guard
runs writable-policy-with-no-watch false --policy $G/rw/policy.yaml --agent guard --no-watch
runs audit-mode-with-no-watch false --policy $G/ro/policy.yaml --agent auditor --no-watch

finish
