#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# The explain-versus-kernel table, file rows, inside the test VM
# (tests/vm/run.sh): every read, write, create, delete and exec row of
# tests/explain-table.txt is judged by `pinfold explain` and for real under
# `pinfold run`; both must give the row's verdict, and explain's output must
# hold the row's TEXT when it has one. Any disagreement fails the test and
# prints the row. Explain judges first: a create or delete changes the tree.
set -u
SUITE=test_explain
POLICY=tests/vm/explain-policy.yaml
AUDIT=/tmp/pf-audit/explain.jsonl
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
		$D/billing $D/drop $D/trash $D/bin $D/ehr/mnt $D/secret/mnt /mnt/ehr-view
	for f in ehr/a.txt ehr/notes/n.txt ehr/sealed/old.txt ehr/sealed/deeper/d.txt \
		ehr/sealed/inbox/i.txt ref/r.txt secret/granted.txt secret/s.txt loose.txt \
		billing/b.txt ehr/del.txt ehr/sealed/del.txt ehr/sealed/inbox/del.txt \
		trash/del.txt drop/del.txt ref/del.txt del.txt; do
		echo data > $D/$f || return 1
	done
	# busybox runs the applet its name says: each copy runs true
	bb=/bin/busybox
	for f in bin/true ref/true ehr/true; do
		cp -L "$bb" $D/$f && chmod 755 $D/$f || return 1
	done
	ln -s ../ref/true $D/bin/to-ref-true
	ln -s $D/ehr/a.txt $D/ehr/inside
	ln -s ../secret/s.txt $D/ehr/escape
	ln -s ../secret/s.txt $D/ehr/del-link
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

# explain_verdict ACTION PATH: allow, deny, or "error (exit N)"; output in /tmp/explain.out
explain_verdict()
{
	case $1 in
	read) set -- --open "$2" ;;
	write) set -- --open "$2" --write ;;
	*) set -- "--$1" "$2" ;;
	esac
	$PF explain --policy $POLICY --agent table "$@" >/tmp/explain.out 2>&1
	rc=$?
	case $rc in
	0) echo allow ;;
	1) echo deny ;;
	*) echo "error (exit $rc)" ;;
	esac
}

# kernel_verdict ACTION PATH: allow, deny, or what went wrong
kernel_verdict()
{
	: > $AUDIT
	if [ "$1" = exec ]; then
		$PF run --policy $POLICY --agent table --audit $AUDIT -- "$2" \
			>/tmp/kernel.out 2>/tmp/kernel.err
		rc=$?
		case $rc in
		0) echo allow ;;
		126) grep -q "Permission denied" /tmp/kernel.err && echo deny ||
			echo "error: exit 126: $(head -c 300 /tmp/kernel.err)" ;;
		*) echo "error: exit $rc: $(head -c 300 /tmp/kernel.err)" ;;
		esac
		return
	fi
	case $1 in
	create) op="mkdir" ;;
	delete) op="unlink" ;;
	*) op=$1 ;;
	esac
	out=$($PF run --policy $POLICY --agent table --audit $AUDIT -- $PROBE $op "$2" \
		2>/tmp/kernel.err)
	case "$out" in
	ok*) echo allow ;;
	# a directory: the open succeeded, the read cannot
	"err EISDIR") echo allow ;;
	"err EACCES") echo deny ;;
	*) echo "error: probe said '$out': $(head -c 300 /tmp/kernel.err)" ;;
	esac
}

# subst TEXT: the table's placeholders replaced
subst()
{
	echo "$1" | sed -e "s|@D@|$D|g" -e "s|@DEEP254@|$DEEP254|g" -e "s|@DEEP255@|$DEEP255|g"
}

if ! setup; then
	echo "FAIL setup: cannot build the data trees under $D"
	teardown
	exit 1
fi
rows=0
while read -r line; do
	case $line in
	read\ * | write\ * | create\ * | delete\ * | exec\ *) ;;
	*) continue ;;
	esac
	rows=$((rows + 1))
	text=
	case $line in
	*" | "*) text=$(subst "${line#* | }") ;;
	esac
	row=${line%% | *}
	set -f
	# shellcheck disable=SC2086 # split the row into its words
	set -- $row
	set +f
	if [ $# != 3 ] || { [ "$3" != allow ] && [ "$3" != deny ]; }; then
		bad "bad row" "$line"
		continue
	fi
	path=$(subst "$2")
	e=$(explain_verdict "$1" "$path")
	k=$(kernel_verdict "$1" "$path")
	if [ "$e" != "$3" ] || [ "$k" != "$3" ]; then
		bad "$row" "explain says $e, kernel says $k"
		echo "  explain: $(head -c 800 /tmp/explain.out)"
	elif [ -n "$text" ] && ! grep -qF -- "$text" /tmp/explain.out; then
		bad "$row" "explain does not say '$text': $(head -c 800 /tmp/explain.out)"
	else
		ok "$row"
	fi
done < tests/explain-table.txt

# Where explain cannot follow the kernel (a bind mount of a subdirectory: the
# kernel walks the bound filesystem, explain the mount point's parents), it
# must say so rather than answer silently.
mkdir -p $D/ehr/view
mount --bind $D/secret $D/ehr/view
explain_verdict read $D/ehr/view/s.txt > /dev/null
if grep -q "note: $D/ehr/view is a bind mount of a subdirectory: the kernel may judge otherwise" /tmp/explain.out; then
	ok "bind mount of a subdirectory: explain warns"
else
	bad "bind mount of a subdirectory" "no warning: $(cat /tmp/explain.out)"
fi
umount $D/ehr/view
teardown

for kind in read write create delete exec; do
	n=$(grep -c "^$kind " tests/explain-table.txt)
	if [ "$n" -lt 3 ]; then
		bad "the table has $kind rows" "only $n"
	fi
done
if [ $rows -lt 40 ]; then
	bad "the table has file rows" "only $rows"
fi
finish
