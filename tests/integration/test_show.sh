#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# test_show.sh - `pinfold show` as a user meets it: for every policy in
# tests/policies/good (files and directories) the text and --json agree:
# every agent has its block, every grant its line naming the family that
# gives it and the grant's place, every own rule its line, every class,
# backend and family its section, and the table of who may do what holds
# each agent's actions; --agent keeps one block; a directory policy read by
# hand shows what a reviewer must see (exceptions, hostnames, modes); an
# unknown agent and a bad policy exit 2 with the message a user needs; and
# show runs without root, as nothing in it touches the kernel.
#
#   tests/integration/test_show.sh        (after make; root for the isolation below)
#
# show resolves hostnames: every run is in a network namespace of its own,
# where a name /etc/hosts does not hold fails at once and nothing is sent.
set -u

# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

# show needs neither root nor the test helpers: no pf_init
command -v python3 >/dev/null || { echo "FAIL setup: python3 missing (make deps)"; exit 1; }
[ -x "$PINFOLD" ] || { echo "FAIL setup: $PINFOLD not built (make)"; exit 1; }
if [ "$(id -u)" = 0 ]; then
	ISOLATE=(unshare -n)
else
	ISOLATE=(unshare -rn)
fi
"${ISOLATE[@]}" true 2>/dev/null || pf_skip "cannot make a network namespace (${ISOLATE[*]})"
PF_TMP=$(mktemp -d /tmp/pinfold-test.XXXXXX) || exit 1
trap pf_cleanup EXIT

show()
{
	"${ISOLATE[@]}" "$PINFOLD" show "$@"
}

# agents_of FILE: the agent names of show's JSON document in FILE, one a line
agents_of()
{
	python3 -c 'import json, sys
for a in json.load(open(sys.argv[1]))["agents"]:
    print(a["name"])' "$1"
}

# same_content TEXT JSON: what the JSON document says is in the text, line for line
same_content()
{
	python3 - "$1" "$2" <<'PY'
import ipaddress, json, sys
text, doc = open(sys.argv[1]).read().split("\n"), json.load(open(sys.argv[2]))

def at(o):
    if o["file"] is None:
        return " (shipped with pinfold)"
    return " (at %s:%d:%d)" % (o["file"], o["line"], o["column"])

def dest(d):
    if d["host"]:
        s = d["host"]
    elif d["net"] == "::/0":
        s = "any"
    else:
        net = ipaddress.ip_network(d["net"])
        s = str(net.network_address) if net.prefixlen == net.max_prefixlen else d["net"]
    port = str(d["port_lo"]) if d["port_lo"] == d["port_hi"] else "%d-%d" % (d["port_lo"], d["port_hi"])
    return "%s port %s %s" % (s, port, d["proto"])

def resolved(d):
    if not d["host"]:
        return ""
    if d["addresses"] is None:
        return ", does not resolve here: " + d["resolve_error"]
    return ", resolves to " + ", ".join(d["addresses"])

def need(line, where):
    assert line in where, "missing %r in:\n%s" % (line, "\n".join(where))

agents = doc["agents"]
header = next(i for i, l in enumerate(text) if l.startswith("who may do what "))
columns = text[header + 1].split()
assert columns == [a["name"] for a in agents], (columns, text[header + 1])
for a in agents:
    start = text.index("agent %s, mode %s%s" % (a["name"], a["mode"], at(a)))
    end = next(i for i in range(start, len(text)) if text[i].startswith("  %s: " % a["name"]))
    block = text[start:end + 1]
    for g in a["grants"]:
        kind = "class" if "class" in g else "backend"
        need("  %s %s: %s from family %s%s%s" % (kind, g[kind], ", ".join(g["actions"]), g["family"],
                                               at(g), ", audited" if g["audited"] else ""), block)
    for r in a["own_files"]:
        need("  own files %s: %s%s%s" % (r["path"], ", ".join(r["actions"]), at(r),
                                        ", audited" if r["audited"] else ""), block)
    for r in a["own_network"]:
        need("  own network %s: %s%s%s%s" % (dest(r), ", ".join(r["actions"]), at(r), resolved(r),
                                            ", audited" if r["audited"] else ""), block)
    n, own = len(a["grants"]), len(a["own_files"]) + len(a["own_network"])
    closing = "  %s: %d %s, %d own %s; " % (a["name"], n, "grant" if n == 1 else "grants",
                                          own, "rule" if own == 1 else "rules")
    assert block[-1].startswith(closing), (block[-1], closing)
    assert ("would be denied" in block[-1]) == (not a["denials_applied"]), block[-1]
    nothing = ["class " + c for c in a["nothing_on"]["classes"]] + \
              ["backend " + b for b in a["nothing_on"]["backends"]]
    if nothing:
        need("  nothing on: " + ", ".join(nothing), block)
    # the table: this agent's column, for every class and backend it holds something on
    col = [a2["name"] for a2 in agents].index(a["name"])
    for kind, word, letters, bits in (
            ("classes", "class", "rwcdx", ["read", "write", "create", "delete", "exec"]),
            ("backends", "backend", "cs", ["connect", "send"])):
        for name, acts in a["may"][kind].items():
            row = next(l for l in text[header + 2:] if l.split()[:2] == [word, name])
            want = "".join(c if b in acts else "-" for c, b in zip(letters, bits))
            assert row.split()[2 + col] == want, (row, want)
for c in doc["classes"]:
    i = text.index(next(l for l in text if l.startswith("class %s%s" % (c["name"], at(c)))))
    for t in c["trees"]:
        line = "  tree " + t["path"] + (at(t) if t["file"] else "") + \
               (", skipped where missing" if t["optional"] else "")
        need(line, text[i:i + 2 + len(c["trees"])])
for b in doc["backends"]:
    i = text.index(next(l for l in text if l.startswith("backend %s%s" % (b["name"], at(b)))))
    for d in b["destinations"]:
        need("  to %s%s%s" % (dest(d), at(d), resolved(d)), text[i:])
    for e in b["except"]:
        assert any(l.startswith("  except ") and e["net"].replace("/32", "").replace("/128", "") in l
                   and at(e) in l for l in text[i:]), e
for f in doc["families"]:
    i = text.index(next(l for l in text if l.startswith("family %s%s" % (f["name"], at(f)))))
    need("  used by " + ", ".join(f["agents"]) if f["agents"] else "  used by no agent",
         text[i:i + 2 + len(f["grants"])])
PY
}

goods=("$PF_ROOT"/tests/policies/good/*.yaml "$PF_ROOT"/tests/policies/good/*.d)
for f in "${goods[@]}"; do
	name=$(basename "$f")
	show --policy "$f" >"$PF_TMP/text" 2>"$PF_TMP/err"
	rc=$?
	show --policy "$f" --json >"$PF_TMP/json" 2>>"$PF_TMP/err"
	rc_json=$?
	if [ "$rc" != 0 ] || [ "$rc_json" != 0 ] || [ -s "$PF_TMP/err" ]; then
		fail "good-$name" "exit $rc and $rc_json: $(cat "$PF_TMP/err")"
		continue
	fi
	head -n 1 "$PF_TMP/text" | grep -q "^policy $f, sha256 [0-9a-f]\{64\}, [0-9]* agents\?$"
	check "good-$name-header" "$(head -n 1 "$PF_TMP/text")" test "$?" = 0
	out=$(same_content "$PF_TMP/text" "$PF_TMP/json" 2>&1)
	check "good-$name-text-matches-json" "$out" test -z "$out"
	n_text=$(grep -c '^agent ' "$PF_TMP/text")
	n_json=$(agents_of "$PF_TMP/json" | wc -l)
	check "good-$name-one-block-per-agent" "$n_text text blocks, $n_json agents in json" \
		test "$n_text" = "$n_json" -a "$n_text" -gt 0

	for agent in $(agents_of "$PF_TMP/json"); do
		show --policy "$f" --agent "$agent" >"$PF_TMP/one" 2>&1
		rc=$?
		blocks=$(grep '^agent ' "$PF_TMP/one")
		check "good-$name-agent-$agent" "exit $rc: $blocks" \
			test "$rc" = 0 -a "$blocks" = "$(grep "^agent $agent, " "$PF_TMP/text")"
	done
done

# a directory policy, read by hand: what a reviewer must see
dir=$PF_ROOT/tests/policies/good/clinic.d
show --policy "$dir" >"$PF_TMP/clinic"
failed_before=$PF_FAILED
for line in \
	"policy $dir, sha256 $(show --policy "$dir" --json | python3 -c 'import json, sys; print(json.load(sys.stdin)["sha256"])'), 2 agents" \
	"                              scheduling  intake-bot" \
	"  class phi.clinical          r----       -----" \
	"  class phi.intake            -----       rwcd-" \
	"  class runtime.programs      -----       r---x" \
	"  backend ehr-fhir            c-          cs" \
	"  backend web                 --          --" \
	"agent scheduling, mode audit (at $dir/30-agents.yaml:3:3)" \
	"  class phi.clinical: read from family clinical-read (at $dir/20-backends.yaml:16:9)" \
	"  backend ehr-fhir: connect from family clinical-read (at $dir/20-backends.yaml:17:9)" \
	"  nothing on: class phi.intake, class billing.claims, backend web" \
	"  scheduling: 8 grants, 0 own rules; everything else would be denied (mode audit: denials recorded, not applied)" \
	"  class phi.intake: read, write, create, delete from family intake (at $dir/20-backends.yaml:20:9), audited" \
	"  own files /srv/scratch: read, write, create (at $dir/30-agents.yaml:9:9)" \
	"  own network 127.0.0.1 port 53 udp: send (at $dir/30-agents.yaml:11:9)" \
	"class phi.clinical (at $dir/10-classes.yaml:4:3): Charts and visit notes" \
	"  tree /srv/ehr/notes (at $dir/10-classes.yaml:6:30)" \
	"backend ehr-fhir (at $dir/20-backends.yaml:3:3): EHR FHIR API" \
	"  to 127.0.0.1 port 18081 tcp (at $dir/20-backends.yaml:6:9)" \
	"  to any port 443 tcp (at $dir/20-backends.yaml:10:9)" \
	"  except private = 10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16, 100.64.0.0/10, fc00::/7 (at $dir/20-backends.yaml:11:14)" \
	"  except link-local = 169.254.0.0/16, fe80::/10 (at $dir/20-backends.yaml:11:23)" \
	"  except 203.0.113.7 (at $dir/20-backends.yaml:11:45)" \
	"family intake (at $dir/20-backends.yaml:18:3)" \
	"  used by intake-bot"; do
	check "clinic: $line" "not in the text" grep -qxF -- "$line" "$PF_TMP/clinic"
done
[ "$PF_FAILED" = "$failed_before" ] || cat "$PF_TMP/clinic"

# a name that does not resolve is shown, with why (show runs in its own network namespace)
cat >"$PF_TMP/unresolved.yaml" <<'EOF'
version: 1
backends:
  ehr:
    destinations:
      - { to: ehr.example.internal, port: 443, proto: tcp }
families:
  ehr:
    grants:
      - { backend: ehr, actions: connect }
agents:
  a:
    families: [ehr]
EOF
show --policy "$PF_TMP/unresolved.yaml" >"$PF_TMP/out" 2>&1
check "an unresolvable name says so" "$(cat "$PF_TMP/out")" \
	grep -q '^  to ehr.example.internal port 443 tcp (at .*), does not resolve here: ' \
	"$PF_TMP/out"

# a name /etc/hosts holds is shown with its addresses
cat >"$PF_TMP/named.yaml" <<'EOF'
version: 1
backends:
  local:
    destinations:
      - { to: localhost, port: 8443, proto: tcp }
agents:
  a: {}
EOF
want=$(python3 -c '
import socket
seen = []
for ai in socket.getaddrinfo("localhost", None, socket.AF_UNSPEC, socket.SOCK_STREAM):
    if ai[4][0] not in seen:
        seen.append(ai[4][0])
print(", ".join(seen))')
show --policy "$PF_TMP/named.yaml" >"$PF_TMP/out" 2>&1
check "localhost resolves to $want" "$(cat "$PF_TMP/out")" grep -qxF -- \
	"  to localhost port 8443 tcp (at $PF_TMP/named.yaml:5:9), resolves to $want" "$PF_TMP/out"

show --policy "$dir" --agent nobody >"$PF_TMP/out" 2>"$PF_TMP/err"
rc=$?
check unknown-agent-exit-2 "exit $rc" test "$rc" = 2
check unknown-agent-names-agents "$(cat "$PF_TMP/err")" grep -qx \
	"pinfold: no agent 'nobody' in $dir; its agents: scheduling, intake-bot" "$PF_TMP/err"
check unknown-agent-prints-nothing "$(cat "$PF_TMP/out")" test ! -s "$PF_TMP/out"

# bad policies: a file, or a directory where the file with the "# expect:" header is wrong
for f in "$PF_ROOT"/tests/policies/bad/*.yaml "$PF_ROOT"/tests/policies/bad/*.d; do
	name=$(basename "$f")
	where=$f
	[ -d "$f" ] && where=$(grep -l '^# expect: ' "$f"/*.yaml | head -n 1)
	place=$(sed -n '1s/^# expect: \([0-9]*:[0-9]*\) .*/\1/p' "$where")
	show --policy "$f" --json >"$PF_TMP/out" 2>"$PF_TMP/err"
	rc=$?
	if [ "$rc" = 2 ] && [ ! -s "$PF_TMP/out" ] && [ "$(wc -l <"$PF_TMP/err")" = 1 ] &&
		grep -qF "$where:$place: error: " "$PF_TMP/err"; then
		pass "bad-$name"
	else
		fail "bad-$name" "exit $rc, expected $where:$place: $(cat "$PF_TMP/err")"
	fi
done

show --agent scheduling >/dev/null 2>"$PF_TMP/err"
rc=$?
check missing-policy-is-usage "exit $rc: $(cat "$PF_TMP/err")" test "$rc" = 2

# no root, no capabilities: show reads files and prints
cp -r "$dir" "$PF_TMP/clinic.d"
chmod -R a+rX "$PF_TMP"
if [ "$(id -u)" = 0 ]; then
	out=$(unshare -n setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all \
		"$PINFOLD" show --policy "$PF_TMP/clinic.d" 2>&1)
else
	out=$(show --policy "$PF_TMP/clinic.d" 2>&1)
fi
check show-without-root "exit $?: $out" grep -q '^agent intake-bot, mode enforce' <<<"$out"

pf_finish
