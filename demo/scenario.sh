#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# scenario.sh - the healthcare demo scenario, on whatever kernel it runs on.
#
#   scenario.sh [--parts auto|net|all] [--require-files]
#
# Writes the synthetic site (demo/gen-data.sh), starts the backends on
# loopback (build/tests/pf-serve), runs the five agents confined by
# build/pinfold with the policy folder policy/examples/healthcare, and judges
# every attempt: an expected allow must succeed and leave an allow record (the
# policy audits every use of data and backends), an expected denial must fail
# with the errno of the enforcing hook (EPERM network, EACCES files) AND leave
# a deny record in the audit file, and no other denial may be recorded (that
# would be something the agents' programs need and the policy misses). Exit
# status 0 when all of that holds, 1 otherwise, 2 on a usage or setup error.
#
# --parts auto (default) asks pinfold: when it refuses to run without BPF LSM,
# the scenario runs again with --allow-degraded and only the network attempts
# (pinfold cannot enforce file rules there, so judging them would be
# meaningless). --require-files makes that case a failure (used in the VM).
#
# Runs under busybox sh with no python: it is also the script of the VM run.
# Audit records are printed raw, one per line, as "audit {...}"; demo/run.sh
# formats them on the host.
set -u

repo=$(cd "${0%/*}/.." && pwd)
PINFOLD=$repo/build/pinfold
PROBE=$repo/build/tests/pf-probe
SERVE=$repo/build/tests/pf-serve
POLICY=${PF_DEMO_POLICY:-$repo/policy/examples/healthcare} # another for checking the checks
DATA=/srv/pinfold-demo
OUT=${PF_DEMO_OUT:-/tmp/pinfold-demo-out}
AGENTS="scheduling documentation billing crm support"
# name proto address port banner, one server a line: the backends of
# policy/examples/healthcare/10-backends.yaml, and the EHR's bulk export node
# that the policy excepts (it answers, but no agent may reach it)
BACKENDS="ehr tcp 127.0.0.1 18081 ehr-fhir-ok
ehr-export tcp 127.0.0.9 18081 ehr-bulk-export-ok
billing tcp 127.0.0.1 18082 billing-db-ok
crm tcp 127.0.0.1 18083 crm-api-ok
helpdesk tcp 127.0.0.1 18084 helpdesk-ok
dns udp 127.0.0.53 18053 dns-ok"
SERVE_SECS=600 # backends exit by themselves after this
AGENT_SECS=120 # an agent still running after this is killed and fails

parts=auto
require_files=0
while [ $# -gt 0 ]; do
	case $1 in
	--parts)
		parts=${2:-}
		shift
		;;
	--require-files) require_files=1 ;;
	*)
		echo "usage: scenario.sh [--parts auto|net|all] [--require-files]" >&2
		exit 2
		;;
	esac
	shift
done
case $parts in
auto | net | all) ;;
*)
	echo "scenario: unknown --parts value: $parts" >&2
	exit 2
	;;
esac

die()
{
	echo "scenario: $*" >&2
	exit 2
}

heading()
{
	echo
	echo "=== $* ==="
}

[ "$(id -u)" = 0 ] || die "must run as root (pinfold loads BPF programs)"
for f in "$PINFOLD" "$PROBE" "$SERVE"; do
	[ -x "$f" ] || die "missing $f: build it first (make tests)"
done
[ -r "$POLICY" ] || die "missing $POLICY"

rm -rf "$OUT"
mkdir -p "$OUT" || die "cannot create $OUT"

# --- the site ------------------------------------------------------------------
heading "synthetic site (no real patient data) below $DATA"
sh "$repo/demo/gen-data.sh" "$DATA" || die "generating the data failed"

# The agents' programs live at a fixed path that the policy names, so that
# the same policy serves this repository wherever it is checked out (on the
# host, in the VM at /pinfold).
mkdir -p "$DATA/bin"
cp "$PROBE" "$DATA/bin/pf-probe" || die "cannot copy pf-probe"
cp "$repo"/demo/agents/*.sh "$DATA/bin/" || die "cannot copy the agent scripts"
echo "agent programs: $(cd "$DATA/bin" && echo *)"

# --- backends ------------------------------------------------------------------
SERVER_PIDS=
stop_servers()
{
	for pid in $SERVER_PIDS; do
		kill "$pid" 2>/dev/null
	done
	for pid in $SERVER_PIDS; do
		wait "$pid" 2>/dev/null
	done
	SERVER_PIDS=
}
trap stop_servers EXIT
trap 'exit 2' INT TERM

heading "backends on loopback"
printf '%s\n' "$BACKENDS" >"$OUT/backends"
while read -r name proto addr port banner; do
	rm -f "$OUT/$name.ready"
	"$SERVE" "--$proto" "$port" --addr "$addr" --banner "$banner" \
		--ready-file "$OUT/$name.ready" --timeout "$SERVE_SECS" \
		>"$OUT/$name.serve.log" 2>&1 &
	SERVER_PIDS="$SERVER_PIDS $!"
done <"$OUT/backends"
while read -r name proto addr port banner; do
	n=0
	while [ ! -e "$OUT/$name.ready" ] && [ "$n" -lt 30 ]; do
		sleep 1
		n=$((n + 1))
	done
	[ -e "$OUT/$name.ready" ] || die "backend $name did not start: $(cat "$OUT/$name.serve.log")"
	echo "  $name on $addr:$port/$proto, answers \"$banner\""
done <"$OUT/backends"

# --- what this kernel lets pinfold enforce ----------------------------------------
heading "what pinfold can enforce on this kernel ($(uname -r))"
secfs=/sys/kernel/security
if [ ! -r "$secfs/lsm" ] && ! grep -qs " $secfs securityfs " /proc/mounts; then
	mount -t securityfs securityfs "$secfs" 2>/dev/null
fi
if [ -r "$secfs/lsm" ]; then
	lsms=$(cat "$secfs/lsm")
	echo "active LSMs: $lsms"
	case ",$lsms," in
	*,bpf,*) echo "  bpf is among them (whether the kernel accepts its programs, pinfold tells)" ;;
	*) echo "  bpf is not among them: BPF LSM programs cannot run here" ;;
	esac
else
	echo "active LSMs: unknown ($secfs/lsm unreadable)"
fi

DEGRADED=
if [ "$parts" = auto ]; then
	# Ask pinfold itself, with a do-nothing agent run.
	if "$PINFOLD" run --policy "$POLICY" --agent scheduling --audit "$OUT/probe.audit" \
		-- /bin/true >"$OUT/probe.out" 2>&1; then
		parts=all
		echo "pinfold run: full enforcement available (network and files)"
	else
		echo "pinfold run refused without --allow-degraded:"
		sed 's/^/  | /' "$OUT/probe.out"
		if "$PINFOLD" run --policy "$POLICY" --agent scheduling --allow-degraded --no-watch \
			--audit "$OUT/probe.audit" -- /bin/true >"$OUT/probe.out" 2>&1; then
			parts=net
			DEGRADED=--allow-degraded
			echo "with --allow-degraded it runs, enforcing the network only:"
			sed 's/^/  | /' "$OUT/probe.out"
			echo "so here the agents make their network attempts only; their file"
			echo "attempts need BPF LSM (demo/run.sh runs them in a VM)"
		else
			echo "pinfold run fails even with --allow-degraded:"
			sed 's/^/  | /' "$OUT/probe.out"
			die "cannot run agents under pinfold here"
		fi
	fi
elif [ "$parts" = net ]; then
	DEGRADED=--allow-degraded
	echo "asked for the network part only (--allow-degraded)"
fi
if [ "$require_files" = 1 ] && [ "$parts" != all ]; then
	heading "result"
	echo "enforced on kernel $(uname -r): network (file rules refused, see above)"
	echo "FAIL: file rules must be enforced here, but pinfold cannot (see above)"
	exit 1
fi

# --- the agents ------------------------------------------------------------------
# audit_table FILE: "DECISION ACTION OBJECT" for each JSON record of FILE.
# A minimal reader of flat JSON objects (string values unescaped one level),
# enough for pinfold's records and free of python, which the VM lacks.
# NEEDSWORK: \uXXXX escapes are not decoded; an object with non-ASCII bytes would never match
audit_table()
{
	[ -s "$1" ] || return 0
	awk '
	function get(line, key,    s, v, i, c) {
		v = ""
		if (!match(line, "\"" key "\"[ \t]*:[ \t]*"))
			return v
		s = substr(line, RSTART + RLENGTH)
		if (substr(s, 1, 1) != "\"") {
			if (match(s, /^[^,} \t]*/))
				v = substr(s, 1, RLENGTH)
			return v
		}
		for (i = 2; i <= length(s); i++) {
			c = substr(s, i, 1)
			if (c == "\\") {
				i++
				v = v substr(s, i, 1)
			} else if (c == "\"") {
				break
			} else {
				v = v c
			}
		}
		return v
	}
	{ print get($0, "decision") " " get($0, "action") " " get($0, "object") }' "$1"
}

# audit_object PART OP ARG...: how the audit names the object of an attempt
audit_object()
{
	part=$1
	shift
	if [ "$part" = net ]; then
		echo "$2:$3/$4"
	else
		echo "$2"
	fi
}

# audit_action PART OP: the audit action an attempt is judged as
audit_action()
{
	case $2 in
	connect) echo connect ;;
	sendto) echo sendmsg ;;
	read) echo open-read ;;
	write) echo open-write ;;
	create | mkdir | symlink) echo create ;;
	unlink | rmdir) echo unlink ;;
	rename) echo rename ;;
	link) echo link ;;
	exec) echo exec ;;
	esac
}

fail()
{
	echo "$*" >>"$OUT/failures"
}
: >"$OUT/failures"
: >"$OUT/blocked"
: >"$OUT/expected-denials"

run_agent()
{
	agent=$1
	audit=$OUT/$agent.audit.jsonl
	heading "agent $agent (parts: $parts)"
	echo "\$ pinfold run --policy ${POLICY#"$repo"/} --agent $agent --audit $audit${DEGRADED:+ $DEGRADED --no-watch} \\"
	echo "      --on-behalf-of front-desk --task DEMO-$agent -- /bin/sh $DATA/bin/$agent.sh $parts"
	set -- "$PINFOLD" run --policy "$POLICY" --agent "$agent" --audit "$audit" \
		--on-behalf-of front-desk --task "DEMO-$agent"
	[ -n "$DEGRADED" ] && set -- "$@" "$DEGRADED" --no-watch
	set -- "$@" -- /bin/sh "$DATA/bin/$agent.sh" "$parts"
	if command -v timeout >/dev/null 2>&1; then
		set -- timeout "$AGENT_SECS" "$@"
	fi
	"$@" >"$OUT/$agent.out" 2>"$OUT/$agent.err"
	rc=$?

	audit_table "$audit" >"$OUT/$agent.audit.table"
	# the log is chained and signed: nothing in it may have been changed or lost
	if verified=$("$PINFOLD" audit verify --log "$audit" 2>&1); then
		echo "  \$ pinfold audit verify --log $audit"
		echo "  $verified"
	else
		echo "  WRONG: the audit log does not verify: $verified"
		fail "$agent: pinfold audit verify: $verified"
	fi
	n_attempts=0
	while IFS='|' read -r tag part expect what op result; do
		[ "$tag" = attempt ] || continue
		n_attempts=$((n_attempts + 1))
		# shellcheck disable=SC2086 # op is "OP ARG..." by construction
		action=$(audit_action $part $op)
		# shellcheck disable=SC2086
		object=$(audit_object $part $op)
		if [ "$part" = net ]; then
			errno=EPERM
		else
			errno=EACCES
		fi
		case $result in
		ok*) got=ALLOWED ;;
		"err $errno") got=BLOCKED ;;
		*) got=FAILED ;;
		esac
		printf '  %-8s %-38s %s\n' "$got" "$what" "$op"
		printf '           %-38s -> %s\n' "" "$result"
		if [ "$expect" = allow ]; then
			if [ "$got" != ALLOWED ]; then
				echo "           WRONG: expected ALLOWED"
				fail "$agent: $what ($op) should be allowed, got: $result"
			elif grep -qxF "deny $action $object" "$OUT/$agent.audit.table"; then
				echo "           WRONG: allowed, yet audited as denied"
				fail "$agent: $what ($op) allowed but has a deny record"
			elif ! grep -qxF "allow $action $object" "$OUT/$agent.audit.table"; then
				# every grant on data and backends of the demo policy has audit: true
				echo "           WRONG: allowed, but no audit record \"allow $action $object\""
				fail "$agent: $what ($op) allowed without the audit record its rule asks for"
			fi
		else
			echo "$agent $action $object" >>"$OUT/expected-denials"
			if [ "$got" != BLOCKED ]; then
				echo "           WRONG: expected BLOCKED (err $errno)"
				fail "$agent: $what ($op) should be blocked with $errno, got: $result"
			elif ! grep -qxF "deny $action $object" "$OUT/$agent.audit.table"; then
				echo "           WRONG: blocked, but no audit record \"deny $action $object\""
				fail "$agent: $what ($op) blocked without an audit record"
			else
				printf '%-13s %-38s %s\n' "$agent" "$what" "$op" >>"$OUT/blocked"
			fi
		fi
	done <"$OUT/$agent.out"

	if [ -s "$OUT/$agent.err" ]; then
		echo "  the agent's stderr (pinfold explains each denial there):"
		sed 's/^/    /' "$OUT/$agent.err"
	fi
	echo "  exit status $rc"
	if [ "$n_attempts" = 0 ]; then
		fail "$agent: made no attempt (exit status $rc); its output: $(cat "$OUT/$agent.out")"
	fi
}

for agent in $AGENTS; do
	run_agent "$agent"
done
stop_servers

if [ -n "${PF_VM:-}" ]; then
	kept="the VM's files are gone with it"
else
	kept="files kept in $OUT"
fi

# --- summary ---------------------------------------------------------------------
heading "what was blocked"
if [ -s "$OUT/blocked" ]; then
	sed 's/^/  /' "$OUT/blocked"
else
	echo "  nothing"
fi

heading "audit records (one JSON line each, from --audit)"
for agent in $AGENTS; do
	f=$OUT/$agent.audit.jsonl
	[ -s "$f" ] || continue
	sed 's/^/audit /' "$f"
done

# A denial that is not one of the scenario's means the policy misses
# something the agents' programs need: the demo would not be clean.
for agent in $AGENTS; do
	[ -s "$OUT/$agent.audit.table" ] || continue
	grep '^deny ' "$OUT/$agent.audit.table" | sort | uniq -c | while read -r n _ action object; do
		grep -qxF "$agent $action $object" "$OUT/expected-denials" ||
			echo "$agent: unexpected denial ($n times): $action $object"
	done
done >>"$OUT/failures"
FAILURES=$(grep -c . "$OUT/failures")

heading "enforced here"
# demo/run.sh reads the "enforced on kernel" line
if [ "$parts" = all ]; then
	echo "enforced on kernel $(uname -r): network, files"
	echo "  network rules by cgroup connect/sendmsg programs, file rules by BPF LSM programs"
else
	echo "enforced on kernel $(uname -r): network"
	echo "  network rules by cgroup connect/sendmsg programs; file rules NOT enforced (BPF LSM"
	echo "  unusable, see above), so no file attempt was made or judged here"
fi

heading "result"
if [ "$FAILURES" -gt 0 ]; then
	echo "FAIL: $FAILURES problem(s):"
	sed 's/^/  /' "$OUT/failures"
	echo "($kept)"
	exit 1
fi
n_blocked=$(grep -c . "$OUT/blocked")
echo "PASS: every expected allow was allowed, every expected denial ($n_blocked) was"
echo "blocked with its audit record ($kept)"
exit 0
