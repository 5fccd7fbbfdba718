# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0-only
# lib.sh - shared helpers for the host integration tests (bash); source it,
# then call pf_init. A test prints "PASS name" or "FAIL name: detail" per
# check, and ends with pf_finish, which exits 1 if any check failed. pf_skip
# exits 77 with the reason as the last line. PF_KEEP=1 keeps the temp dir.

PF_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
PINFOLD=${PINFOLD:-$PF_ROOT/build/pinfold}
PF_PROBE=$PF_ROOT/build/tests/pf-probe
PF_SERVE=$PF_ROOT/build/tests/pf-serve
PF_TMP=
PF_PIDS=()
declare -A PF_SERVE_PIDS=()
PF_PASSED=0
PF_FAILED=0

pass()
{
	PF_PASSED=$((PF_PASSED + 1))
	echo "PASS $1"
}

# fail NAME DETAIL
fail()
{
	PF_FAILED=$((PF_FAILED + 1))
	echo "FAIL $1: $2"
}

# check NAME DETAIL CMD...: pass if CMD succeeds, else fail with DETAIL
check()
{
	local name=$1 detail=$2
	shift 2

	if "$@"; then
		pass "$name"
	else
		fail "$name" "$detail"
	fi
}

pf_skip()
{
	echo "SKIP: $*"
	exit 77
}

pf_finish()
{
	echo "$PF_PASSED checks passed, $PF_FAILED failed"
	[ "$PF_FAILED" -eq 0 ] || exit 1
	exit 0
}

# pf_daemon_stop: stop the daemon started in the background as $DPID (SIGTERM:
# it drains every ring first), and forget it
pf_daemon_stop()
{
	if [ -n "${DPID:-}" ] && kill -0 "$DPID" 2>/dev/null; then
		kill -TERM "$DPID"
		wait "$DPID" 2>/dev/null
	fi
	DPID=
}

pf_cleanup()
{
	local pid

	for pid in "${PF_PIDS[@]}"; do
		kill "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	done
	PF_PIDS=()
	if [ -n "$PF_TMP" ]; then
		if [ "${PF_KEEP:-0}" = 1 ]; then
			echo "kept $PF_TMP" >&2
		else
			rm -rf "$PF_TMP"
		fi
	fi
}

# pf_init: root and built binaries (pinfold, pf-probe, pf-serve) required; a temp
# dir and cleanup traps
pf_init()
{
	local f

	[ "$(id -u)" = 0 ] || pf_skip "needs root (cgroups, BPF)"
	for f in "$PINFOLD" "$PF_PROBE" "$PF_SERVE"; do
		[ -x "$f" ] || { echo "FAIL setup: $f not built (make tests)"; exit 1; }
	done
	command -v python3 >/dev/null || { echo "FAIL setup: python3 missing (make deps)"; exit 1; }

	PF_TMP=$(mktemp -d /tmp/pinfold-test.XXXXXX) || exit 1
	trap pf_cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
}

# pf_bpf_lsm: succeeds when BPF LSM programs can be used on this kernel. Being
# listed in /sys/kernel/security/lsm is not enough: a kernel may list bpf and
# still refuse its programs (this CI host does, with EPERM). So a trivial LSM
# program ("return 0" on file_open) is loaded, never attached, and closed.
pf_bpf_lsm()
{
	local sec=/sys/kernel/security rc

	# left mounted: pinfold mounts it too, and may be using it in another run
	if [ ! -e "$sec/lsm" ] && [ -d "$sec" ]; then
		mount -t securityfs securityfs "$sec" 2>/dev/null
	fi
	grep -qw bpf "$sec/lsm" 2>/dev/null || return 1
	if ! command -v bpftool >/dev/null; then
		echo "note: bpftool missing, BPF LSM assumed usable as it is listed" >&2
		return 0
	fi
	bpftool btf dump file /sys/kernel/btf/vmlinux 2>/dev/null | python3 -c '
import ctypes, os, re, struct, sys
m = re.search(r"^\[(\d+)\] FUNC .bpf_lsm_file_open.", sys.stdin.read(), re.M)
if not m:
    sys.exit(1)
# union bpf_attr for BPF_PROG_LOAD (5): prog_type LSM (29), 2 insns, license,
# expected_attach_type BPF_LSM_MAC (27) at 68, attach_btf_id at 108
insns = ctypes.create_string_buffer(bytes.fromhex("b700000000000000" "9500000000000000"), 16)
lic = ctypes.create_string_buffer(b"GPL")
attr = bytearray(128)
struct.pack_into("=IIQQ", attr, 0, 29, 2, ctypes.addressof(insns), ctypes.addressof(lic))
struct.pack_into("=I", attr, 68, 27)
struct.pack_into("=I", attr, 108, int(m.group(1)))
buf = ctypes.create_string_buffer(bytes(attr), len(attr))
nr = {"x86_64": 321, "aarch64": 280}.get(os.uname().machine)  # bpf(2)
if nr is None:
    sys.exit(2)
fd = ctypes.CDLL(None, use_errno=True).syscall(nr, 5, buf, len(attr))
if fd < 0:
    sys.exit(1)
os.close(fd)
'
	rc=$?
	[ $rc = 2 ] && echo "note: bpf(2) number unknown here, BPF LSM assumed usable" >&2
	[ $rc = 0 ] || [ $rc = 2 ]
}

# pf_wait SECS CMD...: run CMD every 20 ms until it succeeds (0) or SECS
# seconds have passed (1)
pf_wait()
{
	local deadline

	deadline=$(($(date +%s%N) + $1 * 1000000000))
	shift
	until "$@"; do
		[ "$(date +%s%N)" -lt "$deadline" ] || return 1
		sleep 0.02
	done
}

# pf_port_used PORT: is PORT bound or connected locally, TCP or UDP, any family?
pf_port_used()
{
	ss -Htuan 2>/dev/null | awk -v p="$1" '{ n = split($5, a, ":"); if (a[n] == p) f = 1 }
		END { exit !f }'
}

# pf_free_ports N: print a base port B such that B .. B+N-1 look free. Below
# the ephemeral range, so that the kernel does not hand them out meanwhile;
# pf_serve_start still fails if one was taken since, and the caller retries.
pf_free_ports()
{
	local n=$1 base i used _

	for _ in $(seq 50); do
		base=$((20000 + RANDOM % 12000))
		used=0
		for ((i = 0; i < n; i++)); do
			if pf_port_used $((base + i)); then
				used=1
				break
			fi
		done
		if [ $used = 0 ]; then
			echo "$base"
			return 0
		fi
	done
	return 1
}

# pf_serve_start NAME ARGS...: start pf-serve ARGS in the background and wait
# until it listens; its ready file is $PF_TMP/NAME.ready. 0, or 1 if it died.
pf_serve_start()
{
	local name=$1 ready="$PF_TMP/$1.ready" pid i
	shift

	rm -f "$ready"
	"$PF_SERVE" "$@" --ready-file "$ready" --timeout "${PF_SERVE_TIMEOUT:-300}" \
		2>"$PF_TMP/$name.log" &
	pid=$!
	for ((i = 0; i < 100; i++)); do
		if [ -e "$ready" ]; then
			PF_PIDS+=("$pid")
			PF_SERVE_PIDS[$name]=$pid
			return 0
		fi
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
	kill "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	return 1
}

# pf_serve_stop NAME
pf_serve_stop()
{
	local pid=${PF_SERVE_PIDS[$1]:-} p
	local -a left=()

	[ -n "$pid" ] || return 0
	kill "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	unset "PF_SERVE_PIDS[$1]"
	for p in "${PF_PIDS[@]}"; do
		[ "$p" = "$pid" ] || left+=("$p")
	done
	PF_PIDS=("${left[@]}")
}

# pf_serve_on_free_ports N START: set B to the first of N free loopback ports
# and run START, a function that starts pf-serve listeners (pf_serve_start)
# on ports from B on; when one cannot start, stop every listener and try
# other ports, five times in all. Then, on failure, say why and exit 1.
pf_serve_on_free_ports()
{
	local n=$1 start=$2 name _

	for _ in 1 2 3 4 5; do
		# shellcheck disable=SC2034 # B is for START and the caller
		B=$(pf_free_ports "$n") || break
		"$start" && return 0
		for name in "${!PF_SERVE_PIDS[@]}"; do
			pf_serve_stop "$name"
		done
	done
	echo "FAIL setup: cannot start pf-serve on loopback: $(cat "$PF_TMP"/*.log 2>/dev/null)"
	exit 1
}

# pf_policy TEMPLATE OUT VAR=VALUE...: OUT is TEMPLATE with each @VAR@ replaced
pf_policy()
{
	local tpl=$1 out=$2 kv
	local -a args=()
	shift 2

	for kv in "$@"; do
		args+=(-e "s|@${kv%%=*}@|${kv#*=}|g")
	done
	sed "${args[@]}" "$tpl" >"$out" || return 1
	if grep -n '@[A-Z0-9_]*@' "$out" >&2; then
		echo "pf_policy: placeholders left in $out" >&2
		return 1
	fi
}

# pf_exec CMD...: run CMD, stdout in $PF_OUT, stderr in $PF_ERR, status in $PF_RC
pf_exec()
{
	PF_OUT="$PF_TMP/last.out"
	PF_ERR="$PF_TMP/last.err"
	"$@" >"$PF_OUT" 2>"$PF_ERR" </dev/null
	PF_RC=$?
}

# What the last pf_exec printed: its first stdout line, its stderr as one line
pf_got()
{
	head -n 1 "$PF_OUT"
}

pf_stderr()
{
	head -c 400 "$PF_ERR" | tr '\n' '|'
}

# expect NAME WANT CMD...: run CMD (pf-probe, possibly confined) and compare
# its result line with WANT. "ok..." must also exit 0 and "err..." exit 1, so
# that a confined run also shows the probe's status came through.
expect()
{
	local name=$1 want=$2 got rc_want
	shift 2

	pf_exec "$@"
	got=$(pf_got)
	case $want in
	ok*) rc_want=0 ;;
	err*) rc_want=1 ;;
	*) rc_want=$PF_RC ;;
	esac
	if [ "$got" != "$want" ]; then
		fail "$name" "want '$want', got '$got' (exit $PF_RC; stderr: $(pf_stderr))"
	elif [ "$PF_RC" != "$rc_want" ]; then
		fail "$name" "printed '$got' but exited $PF_RC, want $rc_want (stderr: $(pf_stderr))"
	else
		pass "$name"
	fi
}

# pf_audit_valid FILE: every line of FILE is one JSON object; says which is not
pf_audit_valid()
{
	python3 - "$1" <<'EOF'
import json, sys
bad = 0
with open(sys.argv[1], "rb") as f:
    data = f.read()
if data and not data.endswith(b"\n"):
    print("last line has no newline")
    bad = 1
for n, line in enumerate(data.split(b"\n")[:-1] if data else [], 1):
    try:
        rec = json.loads(line.decode("utf-8"))
        if not isinstance(rec, dict):
            raise ValueError("not an object")
    except Exception as e:
        print("line %d: %s: %r" % (n, e, line[:120]))
        bad = 1
sys.exit(bad)
EOF
}

# pf_audit_count FILE FILTER...: print how many JSON records of FILE match
# every FILTER: KEY=VALUE (a string member equal to VALUE, or another member
# whose JSON text is VALUE), KEY!=VALUE (no such member equal to VALUE) or
# KEY alone (the member exists); KEY may be a dotted path such as
# enforced.files. Lines that are not JSON are skipped.
pf_audit_count()
{
	python3 - "$@" <<'EOF'
import json, sys

def member(rec, key):
    for part in key.split("."):
        if not isinstance(rec, dict) or part not in rec:
            return None, False
        rec = rec[part]
    return rec, True

def parse(arg):
    if "!=" in arg:
        key, want = arg.split("!=", 1)
        return key, want, True
    key, want = (arg.split("=", 1) + [None])[:2]
    return key, want, False

path, filters = sys.argv[1], [parse(a) for a in sys.argv[2:]]
count = 0
try:
    lines = open(path, encoding="utf-8", errors="replace").readlines()
except FileNotFoundError:
    lines = []  # no audit file: no records
for line in lines:
    try:
        rec = json.loads(line)
    except ValueError:
        continue
    ok = True
    for key, want, negated in filters:
        val, found = member(rec, key)
        equal = found and want is not None and \
            (val if isinstance(val, str) else json.dumps(val)) == want
        if negated:
            matches = not equal
        else:
            matches = found and (want is None or equal)
        if not matches:
            ok = False
            break
    count += ok
print(count)
EOF
}

# pf_audit_show FILE: the records of FILE on one line, for failure details
# pf_audit_lost FILE: the events the kernel could not queue, summed over the
# file's events-lost records
pf_audit_lost()
{
	python3 -c '
import json, sys
print(sum(r.get("count", 0) for r in map(json.loads, open(sys.argv[1]))
          if r.get("kind") == "events-lost"))' "$1"
}

pf_audit_show()
{
	[ -s "$1" ] || { echo "(no records)"; return; }
	head -c 600 "$1" | tr '\n' ' '
}
