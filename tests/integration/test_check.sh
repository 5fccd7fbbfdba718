#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# test_check.sh - `pinfold check` as a user meets it: every bad policy in
# tests/policies/bad (a file, or a folder NAME.d whose one file with an
# "# expect:" header names the place) exits 2 with one "FILE:LINE:COL:
# error:" line at the place its "# expect:" header names; a policy that run
# would refuse (a tree that does not exist, too many port rules on one
# prefix) is refused by check too; good policies (files and folders) pass
# once their trees exist; the example policies in policy/examples check
# clean (no error, no warning) once the demo's synthetic site exists, and
# not before.
#
#   tests/integration/test_check.sh        (after make)
set -u

# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

pf_init

# expect_header FILE: the LINE:COL of FILE's "# expect:" first line, or nothing
expect_header()
{
	sed -n '1s/^# expect: \([0-9]*:[0-9]*\) .*/\1/p' "$1"
}

for pol in "$PF_ROOT"/tests/policies/bad/*.yaml "$PF_ROOT"/tests/policies/bad/*.d; do
	[ -e "$pol" ] || continue
	name=$(basename "${pol%.yaml}")
	f=$pol
	if [ -d "$pol" ]; then
		f=
		for g in "$pol"/*.yaml; do
			[ -n "$(expect_header "$g")" ] && f=$g
		done
		if [ -z "$f" ]; then
			fail "bad-$name" "no file in $pol has an \"# expect:\" header"
			continue
		fi
	fi
	place=$(expect_header "$f")
	"$PINFOLD" check "$pol" >/dev/null 2>"$PF_TMP/err"
	rc=$?
	lines=$(grep -vc ': warning: ' "$PF_TMP/err")
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

# crowded N: a policy with N port rules on one prefix
crowded()
{
	printf 'version: 1\nagents:\n  a:\n    network:\n'
	for p in $(seq 1001 $((1000 + $1))); do
		printf '      - {to: 10.0.0.0/8, port: %s, proto: tcp}\n' "$p"
	done
}
max=$(sed -n 's/^[[:space:]]*PF_PORTS_PER_PREFIX = \([0-9]*\),.*/\1/p' "$PF_ROOT/bpf/pinfold.h")
crowded "$max" >"$PF_TMP/full.yaml"
"$PINFOLD" check "$PF_TMP/full.yaml" >/dev/null 2>"$PF_TMP/err"
rc=$?
check full-prefix-accepted "exit $rc with $max rules: $(cat "$PF_TMP/err")" test "$rc" = 0
crowded $((max + 1)) >"$PF_TMP/crowded.yaml"
"$PINFOLD" check "$PF_TMP/crowded.yaml" 2>"$PF_TMP/err"
rc=$?
check crowded-prefix-refused "exit $rc with $((max + 1)) rules: $(cat "$PF_TMP/err")" \
	grep -q "crowded.yaml:[0-9]*:[0-9]*: error: too many port rules" "$PF_TMP/err"

# move_trees SRC DST ROOT: the policy file SRC at DST, every absolute path
# in it (a files rule's path, a class's tree) moved below ROOT, where it is
# made as a directory. A path is a plain or quoted scalar after a space, "["
# or ",": that leaves out CIDRs such as ::/0 and 10.0.0.0/8. Comment lines
# are copied as they are.
move_trees()
{
	python3 - "$@" <<'PY'
import os, re, sys
src, dst, root = sys.argv[1:4]
PATH = re.compile(r"""(?<=[\s\[,])(?:(["'])(/[^"'\n]*)\1|(/[^"',}\]\s#]*))""")
def move(m):
    quote = m.group(1) or ""
    path = m.group(2) if quote else m.group(3)
    os.makedirs(root + path, exist_ok=True)
    return quote + root + path + quote
with open(src) as f, open(dst, "w") as out:
    for line in f:
        out.write(line if line.lstrip().startswith("#") else PATH.sub(move, line))
PY
}

for pol in "$PF_ROOT"/tests/policies/good/*.yaml "$PF_ROOT"/tests/policies/good/*.d; do
	[ -e "$pol" ] || continue
	name=$(basename "${pol%.yaml}")
	# the good policies name trees that need not exist here: make them in a
	# scratch root and point the policy there
	copy=$PF_TMP/good/${pol##*/}
	if [ -d "$pol" ]; then
		mkdir -p "$copy"
		for g in "$pol"/*.yaml; do
			move_trees "$g" "$copy/${g##*/}" "$PF_TMP/root"
		done
	else
		mkdir -p "${copy%/*}"
		move_trees "$pol" "$copy" "$PF_TMP/root"
	fi
	out=$("$PINFOLD" check "$copy" 2>&1)
	check "good-$name" "$out" test "$?" = 0
done

# The examples name the demo's site below /srv/pinfold-demo. Rather than
# regenerate that (a demo may be using it), the demo's own generator writes the
# site into a scratch root below /srv (the only place it writes), and each
# example is checked as a copy whose paths point there.
site=$(mktemp -d /srv/pinfold-check.XXXXXX) || exit 1
trap 'pf_cleanup; rm -rf "$site"' EXIT
sh "$PF_ROOT/demo/gen-data.sh" "$site" >"$PF_TMP/gen.log" 2>&1 ||
	fail gen-data "$(cat "$PF_TMP/gen.log")"

# example_copy SRC DST: the example SRC (a file or a folder of *.yaml) at DST,
# with /srv/pinfold-demo replaced by the scratch site
example_copy()
{
	local f

	if [ -d "$1" ]; then
		mkdir -p "$2"
		for f in "$1"/*.yaml; do
			sed "s|/srv/pinfold-demo|$site|g" "$f" >"$2/${f##*/}" || return 1
		done
	else
		sed "s|/srv/pinfold-demo|$site|g" "$1" >"$2"
	fi
}

n_examples=0
for ex in "$PF_ROOT"/policy/examples/*; do
	[ -d "$ex" ] || [ "${ex%.yaml}" != "$ex" ] || continue
	name=$(basename "$ex" .yaml)
	n_examples=$((n_examples + 1))
	copy=$PF_TMP/examples/${ex##*/}
	example_copy "$ex" "$copy" || { fail "example-$name" "cannot copy $ex"; continue; }
	"$PINFOLD" check "$copy" >"$PF_TMP/out" 2>"$PF_TMP/err"
	rc=$?
	if [ "$rc" = 0 ] && ! grep -q 'error:\|warning:' "$PF_TMP/out" "$PF_TMP/err"; then
		pass "example-$name"
	else
		fail "example-$name" "exit $rc: $(cat "$PF_TMP/out" "$PF_TMP/err")"
	fi
done
check examples-found "no example policy in $PF_ROOT/policy/examples" test "$n_examples" -gt 0

# Without the site, the healthcare example is refused at the tree that is
# missing: the demo's data is what makes it check clean.
hc=$PF_TMP/examples/healthcare
if [ -d "$hc" ]; then
	rm -rf "$site/support/kb"
	place=$(awk -v p="$site/support/kb" 'i = index($0, p) { print NR ":" i; exit }' \
		"$hc/00-classes.yaml")
	"$PINFOLD" check "$hc" >/dev/null 2>"$PF_TMP/err"
	rc=$?
	check example-needs-site "exit $rc, expected $hc/00-classes.yaml:$place: $(cat "$PF_TMP/err")" \
		grep -q "^$hc/00-classes.yaml:$place: error: tree does not exist" "$PF_TMP/err"
else
	fail example-needs-site "policy/examples/healthcare is missing"
fi

pf_finish
