#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# The explain-versus-kernel table, file rows, inside the test VM
# (tests/vm/run.sh): every "open" row of tests/explain-table.txt is judged by
# `pinfold explain` and for real by pf-probe under `pinfold run`; both must
# give the row's verdict. Any disagreement fails the test and prints the row.
set -u
SUITE=test_explain
POLICY=tests/vm/explain-policy.yaml
AUDIT=/tmp/explain-audit.jsonl
# shellcheck source=tests/vm/lib.sh
. /pinfold/tests/vm/lib.sh

need_bpf_lsm

# deep N: "d/d/.../d", N components
deep()
{
	p=d
	i=1
	while [ "$i" -lt "$1" ]; do p=$p/d; i=$((i + 1)); done
	echo "$p"
}

DEEP254=$(deep 254)
DEEP255=$(deep 255)

setup()
{
	rm -rf $D
	mkdir -p $D/ehr/notes $D/ehr/sealed/deeper $D/ehr/sealed/inbox $D/ref $D/secret \
		$D/ehr/mnt $D/secret/mnt /mnt/ehr-view
	for f in ehr/a.txt ehr/notes/n.txt ehr/sealed/old.txt ehr/sealed/deeper/d.txt \
		ehr/sealed/inbox/i.txt ref/r.txt secret/granted.txt secret/s.txt loose.txt; do
		echo data > $D/$f || return 1
	done
	ln -s $D/ehr/a.txt $D/ehr/inside
	ln -s ../secret/s.txt $D/ehr/escape
	ln -s $D/ehr/a.txt $D/ref/to-ehr
	ln -s sealed/old.txt $D/ehr/to-sealed
	ln -s $D/secret/granted.txt $D/ehr/to-granted
	mount -t tmpfs tmpfs $D/ehr/mnt && echo data > $D/ehr/mnt/m.txt || return 1
	mount -t tmpfs tmpfs $D/secret/mnt && echo data > $D/secret/mnt/m.txt || return 1
	mount --bind $D/ehr /mnt/ehr-view || return 1
	mkdir -p "$D/ehr/$DEEP254" "$D/ehr/$DEEP255" &&
		echo data > "$D/ehr/$DEEP254/f.txt" && echo data > "$D/ehr/$DEEP255/f.txt"
}

teardown()
{
	umount /mnt/ehr-view $D/ehr/mnt $D/secret/mnt 2>/dev/null
}

# explain_verdict PATH MODE: allow, deny, or "error (exit N)"
explain_verdict()
{
	if [ "$2" = write ]; then
		$PF explain --policy $POLICY --agent table --open "$1" --write >/tmp/explain.out 2>&1
	else
		$PF explain --policy $POLICY --agent table --open "$1" >/tmp/explain.out 2>&1
	fi
	case $? in
	0) echo allow ;;
	1) echo deny ;;
	*) echo "error (exit $?)" ;;
	esac
}

# kernel_verdict PATH MODE: allow, deny, or what the probe said
kernel_verdict()
{
	: > $AUDIT
	out=$($PF run --policy $POLICY --agent table --audit $AUDIT -- $PROBE "$2" "$1" \
		2>/tmp/kernel.err)
	case "$out" in
	ok*) echo allow ;;
	# a directory: the open succeeded, the read cannot
	"err EISDIR") echo allow ;;
	"err EACCES") echo deny ;;
	*) echo "error: probe said '$out': $(head -c 300 /tmp/kernel.err)" ;;
	esac
}

if ! setup; then
	echo "FAIL setup: cannot build the data trees under $D"
	teardown
	exit 1
fi
rows=0
while read -r kind tpath mode want extra; do
	[ "$kind" = open ] || continue
	rows=$((rows + 1))
	row="open $tpath $mode $want"
	path=$(echo "$tpath" | sed -e "s|@D@|$D|g" -e "s|@DEEP254@|$DEEP254|g" \
		-e "s|@DEEP255@|$DEEP255|g")
	if [ -n "$extra" ] || { [ "$mode" != read ] && [ "$mode" != write ]; } ||
		{ [ "$want" != allow ] && [ "$want" != deny ]; }; then
		echo "FAIL bad row: $row $extra"
		fail=$((fail + 1))
		continue
	fi
	e=$(explain_verdict "$path" "$mode")
	k=$(kernel_verdict "$path" "$mode")
	if [ "$e" = "$want" ] && [ "$k" = "$want" ]; then
		echo "PASS $row"
		pass=$((pass + 1))
	else
		echo "FAIL $row: explain says $e, kernel says $k"
		echo "  explain: $(head -c 600 /tmp/explain.out)"
		fail=$((fail + 1))
	fi
done < tests/explain-table.txt

# Where explain cannot follow the kernel (a bind mount of a subdirectory: the
# kernel walks the bound filesystem, explain the mount point's parents), it
# must say so rather than answer silently.
mkdir -p $D/ehr/view
mount --bind $D/secret $D/ehr/view
explain_verdict $D/ehr/view/s.txt read > /dev/null
if grep -q "note: $D/ehr/view is a bind mount of a subdirectory: the kernel may judge otherwise" /tmp/explain.out; then
	echo "PASS bind mount of a subdirectory: explain warns"
	pass=$((pass + 1))
else
	echo "FAIL bind mount of a subdirectory: no warning: $(cat /tmp/explain.out)"
	fail=$((fail + 1))
fi
umount $D/ehr/view
teardown

if [ $rows -lt 20 ]; then
	echo "FAIL only $rows open rows in the table"
	fail=$((fail + 1))
fi
finish
