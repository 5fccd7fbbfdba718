#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# test_show.sh - `pinfold show` as a user meets it: for every policy in
# tests/policies/good the text has one block per agent with its closing line,
# --json is one JSON document with the same agents and rules, --agent keeps
# one block; an unknown agent and a bad policy exit 2 with the message a user
# needs; and show runs without root, as nothing in it touches the kernel.
#
#   tests/integration/test_show.sh        (after make)
set -u

# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

# show needs neither root nor the test helpers: no pf_init
command -v python3 >/dev/null || { echo "FAIL setup: python3 missing (make deps)"; exit 1; }
PF_TMP=$(mktemp -d /tmp/pinfold-test.XXXXXX) || exit 1
trap pf_cleanup EXIT

# agents_of FILE: the agent names of show's JSON document in FILE, one a line
agents_of()
{
	python3 -c 'import json, sys
for a in json.load(open(sys.argv[1]))["agents"]:
    print(a["name"])' "$1"
}

# same_content TEXT JSON: every rule of the JSON is a line of the text, at its
# place, and each agent's block ends with its counts
same_content()
{
	python3 - "$1" "$2" <<'PY'
import json, sys
text, doc = open(sys.argv[1]).read().split("\n"), json.load(open(sys.argv[2]))
for a in doc["agents"]:
    start = text.index("agent %s, mode %s  at %s:%d:%d" % (a["name"], a["mode"], doc["policy"],
                                                            a["line"], a["column"]))
    end = next(i for i in range(start, len(text)) if text[i].startswith("  %s: " % a["name"]))
    block = text[start:end + 1]
    for r in a["files"]:
        want = "    %-10s  %s%s  at %s:%d:%d" % (r["access"], r["path"],
                                                 "  audited" if r["audited"] else "",
                                                 doc["policy"], r["line"], r["column"])
        assert want in block, "missing %r in %r" % (want, block)
    paths = [r["path"] for r in a["files"]]
    assert paths == sorted(paths), "trees not sorted: %r" % paths
    for r in a["network"]:
        port = str(r["port_lo"]) if r["port_lo"] == r["port_hi"] else "%d-%d" % (r["port_lo"], r["port_hi"])
        dest = r["host"] + " port " + port + "  host name, resolved by run" if r["host"] else r["net"] + " port " + port
        want = "    %-3s  %s%s  at %s:%d:%d" % (r["proto"], dest, "  audited" if r["audited"] else "",
                                                doc["policy"], r["line"], r["column"])
        assert want in block, "missing %r in %r" % (want, block)
        assert r["rule"].startswith("%s:%d:%d network " % (doc["policy"], r["line"], r["column"]))
    if not a["files"]:
        assert "  files: nothing, no tree is allowed" in block, block
    if not a["network"]:
        assert "  network: nothing, no destination is allowed" in block, block
    c = a["counts"]
    assert (c["trees"], c["destinations"]) == (len(a["files"]), len(a["network"]))
    assert c["read"] + c["read_write"] == c["trees"] and c["tcp"] + c["udp"] == c["destinations"]
    assert block[-1].startswith("  %s: %d tree" % (a["name"], c["trees"])), block[-1]
    assert a["denials_applied"] == (a["mode"] == "enforce")
PY
}

for f in "$PF_ROOT"/tests/policies/good/*.yaml; do
	name=$(basename "$f" .yaml)
	"$PINFOLD" show --policy "$f" >"$PF_TMP/text" 2>"$PF_TMP/err"
	rc=$?
	"$PINFOLD" show --policy "$f" --json >"$PF_TMP/json" 2>>"$PF_TMP/err"
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
		"$PINFOLD" show --policy "$f" --agent "$agent" >"$PF_TMP/one" 2>&1
		rc=$?
		blocks=$(grep '^agent ' "$PF_TMP/one")
		check "good-$name-agent-$agent" "exit $rc: $blocks" \
			test "$rc" = 0 -a "$blocks" = "$(grep "^agent $agent, " "$PF_TMP/text")"
	done
done

# the healthcare example, read by hand: what a reviewer must see
hc=$PF_ROOT/tests/policies/good/healthcare.yaml
"$PINFOLD" show --policy "$hc" --agent billing >"$PF_TMP/billing"
for line in \
	"agent billing, mode enforce  at $hc:13:3" \
	"    read-write  /srv/pinfold-demo/billing  audited  at $hc:20:9" \
	"    tcp  127.0.0.1/32 port 18082  audited  at $hc:15:9" \
	"  billing: 1 tree (0 read, 1 read-write), 1 destination (1 tcp, 0 udp), 2 audited; everything else is denied"; do
	check "healthcare-billing: $line" "$(cat "$PF_TMP/billing")" grep -qxF -- "$line" "$PF_TMP/billing"
done
"$PINFOLD" show --policy "$PF_ROOT/tests/policies/good/minimal.yaml" >"$PF_TMP/idle"
check minimal-says-nothing "$(cat "$PF_TMP/idle")" grep -qx '  files: nothing, no tree is allowed' \
	"$PF_TMP/idle"

"$PINFOLD" show --policy "$hc" --agent nobody >"$PF_TMP/out" 2>"$PF_TMP/err"
rc=$?
check unknown-agent-exit-2 "exit $rc" test "$rc" = 2
check unknown-agent-names-agents "$(cat "$PF_TMP/err")" grep -qx \
	"pinfold: no agent 'nobody' in $hc; its agents: scheduling, billing, crm" "$PF_TMP/err"
check unknown-agent-prints-nothing "$(cat "$PF_TMP/out")" test ! -s "$PF_TMP/out"

for f in "$PF_ROOT"/tests/policies/bad/*.yaml; do
	name=$(basename "$f" .yaml)
	place=$(sed -n '1s/^# expect: \([0-9]*:[0-9]*\) .*/\1/p' "$f")
	"$PINFOLD" show --policy "$f" --json >"$PF_TMP/out" 2>"$PF_TMP/err"
	rc=$?
	if [ "$rc" = 2 ] && [ ! -s "$PF_TMP/out" ] && [ "$(wc -l <"$PF_TMP/err")" = 1 ] &&
		grep -q "^$f:$place: error: " "$PF_TMP/err"; then
		pass "bad-$name"
	else
		fail "bad-$name" "exit $rc, expected $f:$place: $(cat "$PF_TMP/err")"
	fi
done

"$PINFOLD" show --agent billing >/dev/null 2>"$PF_TMP/err"
rc=$?
check missing-policy-is-usage "exit $rc: $(cat "$PF_TMP/err")" test "$rc" = 2

# no root, no capabilities: show reads a file and prints
cp "$hc" "$PF_TMP/hc.yaml"
chmod 755 "$PF_TMP" && chmod 644 "$PF_TMP/hc.yaml"
if [ "$(id -u)" = 0 ]; then
	out=$(setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all \
		"$PINFOLD" show --policy "$PF_TMP/hc.yaml" 2>&1)
	check show-without-root "exit $?: $out" grep -q '^agent crm, mode enforce' <<<"$out"
else
	out=$("$PINFOLD" show --policy "$PF_TMP/hc.yaml" 2>&1)
	check show-without-root "exit $?: $out" grep -q '^agent crm, mode enforce' <<<"$out"
fi

pf_finish
