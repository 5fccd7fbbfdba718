#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# test_check.sh - `pinfold check` as a user meets it: every bad policy in
# tests/policies/bad exits 2 with one "FILE:LINE:COL: error:" line at the
# place its "# expect:" header names; a policy that run would refuse (a tree
# that does not exist, too many port rules on one prefix) is refused by check
# too; good policies pass once their trees exist.
#
#   tests/integration/test_check.sh        (after make)
set -u

# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

pf_init

for f in "$PF_ROOT"/tests/policies/bad/*.yaml; do
	name=$(basename "$f" .yaml)
	place=$(sed -n '1s/^# expect: \([0-9]*:[0-9]*\) .*/\1/p' "$f")
	"$PINFOLD" check "$f" >/dev/null 2>"$PF_TMP/err"
	rc=$?
	lines=$(wc -l <"$PF_TMP/err")
	if [ "$rc" = 2 ] && [ "$lines" = 1 ] && grep -q "^$f:$place: error: " "$PF_TMP/err"; then
		pass "bad-$name"
	else
		fail "bad-$name" "exit $rc, $lines lines, expected $f:$place: $(cat "$PF_TMP/err")"
	fi
done

cat >"$PF_TMP/missing.yaml" <<YAML
version: 1
agents:
  a:
    files:
      - path: $PF_TMP/does-not-exist
        access: read
YAML
"$PINFOLD" check "$PF_TMP/missing.yaml" 2>"$PF_TMP/err"
rc=$?
check missing-tree-refused "exit $rc: $(cat "$PF_TMP/err")" \
	grep -q "missing.yaml:5:9: error: tree does not exist" "$PF_TMP/err"

{
	printf 'version: 1\nagents:\n  a:\n    network:\n'
	for p in $(seq 1001 1017); do printf '      - {to: 10.0.0.0/8, port: %s, proto: tcp}\n' "$p"; done
} >"$PF_TMP/crowded.yaml"
"$PINFOLD" check "$PF_TMP/crowded.yaml" 2>"$PF_TMP/err"
rc=$?
check crowded-prefix-refused "exit $rc: $(cat "$PF_TMP/err")" test "$rc" = 2

for f in "$PF_ROOT"/tests/policies/good/*.yaml; do
	name=$(basename "$f" .yaml)
	# the good policies name trees that need not exist here: make them in a
	# scratch root and point the policy there
	python3 - "$f" "$PF_TMP/root" >"$PF_TMP/good.yaml" <<'PY'
import os, re, sys
text, root = open(sys.argv[1]).read(), sys.argv[2]
def move(m):
    os.makedirs(root + m.group(3), exist_ok=True)
    return m.group(1) + m.group(2) + root + m.group(3) + m.group(2)
print(re.sub(r"(path:\s*)(['\"]?)(/[^'\",}\n]*)\2", move, text), end="")
PY
	out=$("$PINFOLD" check "$PF_TMP/good.yaml" 2>&1)
	check "good-$name" "$out" test "$?" = 0
done

pf_finish
