#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# File enforcement with BPF LSM, inside the test VM (tests/vm/run.sh): every
# case runs pf-probe confined by `pinfold run`, checks the errno it got, and
# checks the audit file holds exactly the one record the case should leave.
# Each denial has an allowed twin, so a rule that denies everything fails.
# Each right (read, write, create, delete, exec) is checked where it is held
# and where only the others are.
set -u
SUITE=test_files
POLICY=tests/vm/files-policy.yaml
AUDIT=/tmp/pf-audit/files.jsonl
# shellcheck source=tests/vm/lib.sh
. /pinfold/tests/vm/lib.sh

AGENT=clerk
PROG=$PROBE

setup()
{
	rm -rf $D
	mkdir -p $D/ehr/sealed $D/ehr/psych $D/ref $D/secret $D/audited $D/bin $D/rbin \
		$D/ledger $D/shred $D/inbox $D/drop
	echo chart > $D/ehr/a.txt
	echo chart > $D/ehr/b.txt
	echo old > $D/ehr/sealed/old.txt
	echo note > $D/ehr/psych/n.txt
	echo ref > $D/ref/r.txt
	echo secret > $D/secret/s.txt
	echo seen > $D/audited/x.txt
	ln -s $D/secret/s.txt $D/ehr/escape
	ln -s $D/ehr/a.txt $D/ehr/inside
	cp $PROBE $D/bin/pf-probe
	cp $PROBE $D/rbin/pf-probe
	echo entry > $D/ledger/e.txt
	echo old > $D/shred/x.txt
	echo old > $D/shred/y.txt
	echo mail > $D/inbox/existing.txt
	for f in m n p q; do echo chart > $D/ehr/$f.txt; done
	mkdir -p $D/rt/work/x/secret $D/rt/work/y $D/rt/work/w
	echo sealed > $D/rt/work/x/secret/s.txt
	echo a > $D/rt/work/w/a.txt
	echo b > $D/rt/work/w/b.txt
}

# count_records ACTION OBJECT DECISION: records in the audit file matching all three
count_records()
{
	grep -F "\"action\":\"$1\"" $AUDIT | grep -F "\"object\":\"$2\"" |
		grep -cF "\"decision\":\"$3\""
}

# case NAME EXPECT ACTION OBJECT DECISION RECORDS -- PROBE-ARGS...
# runs $PROG (the probe, or a copy) confined as $AGENT; EXPECT is its output
# ("ok" or "err EACCES"; "none" when it must not run at all, "fail" when it
# is started but fails before its operation); RECORDS is how many matching
# records the audit file must gain (0 or 1)
case_()
{
	name=$1 expect=$2 action=$3 object=$4 decision=$5 records=$6
	shift 7
	: > $AUDIT
	out=$($PF run --policy $POLICY --agent $AGENT --audit $AUDIT -- $PROG "$@" 2>/tmp/stderr)
	status=$?
	case "$expect:$out" in
	none:) [ $status = 126 ] || { bad "$name" "exit status $status, expected 126"; return; } ;;
	none:*) bad "$name" "the program ran and said '$out'; stderr: $(cat /tmp/stderr)"; return ;;
	fail:) [ $status != 0 ] || { bad "$name" "exit status 0, expected a failure"; return; } ;;
	fail:*) bad "$name" "the program ran and said '$out'; stderr: $(cat /tmp/stderr)"; return ;;
	"$expect:$expect"*) ;;
	*) bad "$name" "probe said '$out', expected '$expect'; stderr: $(cat /tmp/stderr)"; return ;;
	esac
	n=$(count_records "$action" "$object" "$decision")
	if [ "$n" != "$records" ]; then
		bad "$name" "$n audit records for $action $object $decision, expected $records"
		cat $AUDIT
		return
	fi
	if [ "$decision" = deny ] && [ "$records" = 1 ] && ! grep -q "pinfold: denied $action $object" /tmp/stderr; then
		bad "$name" "no denial line on stderr: $(cat /tmp/stderr)"
		return
	fi
	ok "$name"
}

need_bpf_lsm
setup

case_ read-allowed "ok" open-read $D/ehr/a.txt deny 0 -- read $D/ehr/a.txt
case_ read-denied "err EACCES" open-read $D/secret/s.txt deny 1 -- read $D/secret/s.txt
# the deepest tree decides: a class nested in a writable one, granted nothing
case_ read-nested-class-denied "err EACCES" open-read $D/ehr/psych/n.txt deny 1 -- \
	read $D/ehr/psych/n.txt
case_ write-allowed "ok" open-write $D/ehr/a.txt deny 0 -- write $D/ehr/a.txt
case_ write-readonly-denied "err EACCES" open-write $D/ref/r.txt deny 1 -- write $D/ref/r.txt
case_ write-nested-readonly-denied "err EACCES" open-write $D/ehr/sealed/old.txt deny 1 -- \
	write $D/ehr/sealed/old.txt
case_ truncate-allowed "ok" truncate $D/ehr/b.txt deny 0 -- truncate $D/ehr/b.txt
case_ truncate-readonly-denied "err EACCES" truncate $D/ref/r.txt deny 1 -- truncate $D/ref/r.txt
case_ otrunc-readonly-denied "err EACCES" truncate $D/ref/r.txt deny 1 -- read-trunc $D/ref/r.txt
case_ create-allowed "ok" create $D/ehr/new.txt deny 0 -- create $D/ehr/new.txt
case_ create-denied "err EACCES" create $D/ref/new.txt deny 1 -- create $D/ref/new.txt
case_ mkdir-denied "err EACCES" create $D/ref/dir deny 1 -- mkdir $D/ref/dir
case_ unlink-allowed "ok" unlink $D/ehr/new.txt deny 0 -- unlink $D/ehr/new.txt
case_ unlink-denied "err EACCES" unlink $D/ref/r.txt deny 1 -- unlink $D/ref/r.txt
case_ rename-allowed "ok" rename $D/ehr/b.txt deny 0 -- rename $D/ehr/b.txt $D/ehr/c.txt
case_ rename-out-denied "err EACCES" rename $D/ref/moved.txt deny 1 -- \
	rename $D/ehr/c.txt $D/ref/moved.txt
case_ rename-in-denied "err EACCES" rename $D/secret/s.txt deny 1 -- \
	rename $D/secret/s.txt $D/ehr/s.txt
case_ link-allowed "ok" link $D/ehr/a.txt deny 0 -- link $D/ehr/a.txt $D/ehr/a2.txt
case_ link-in-denied "err EACCES" link $D/secret/s.txt deny 1 -- \
	link $D/secret/s.txt $D/ehr/s-link
case_ link-readonly-denied "err EACCES" link $D/ref/r.txt deny 1 -- \
	link $D/ref/r.txt $D/ehr/r-link
case_ symlink-inside-allowed "ok" open-read $D/ehr/a.txt deny 0 -- read $D/ehr/inside
case_ symlink-escape-denied "err EACCES" open-read $D/secret/s.txt deny 1 -- \
	read $D/ehr/escape
case_ audited-read-recorded "ok" open-read $D/audited/x.txt allow 1 -- read $D/audited/x.txt

# exec is its own right: a program in a class granted read alone can be
# read but not run; the ELF interpreter is opened for execution too.
PROG=$D/bin/pf-probe
case_ exec-allowed "ok" exec $D/bin/pf-probe deny 0 -- read $D/ehr/a.txt
PROG=$D/rbin/pf-probe
case_ exec-readonly-denied none exec $D/rbin/pf-probe deny 1 -- read $D/ehr/a.txt
PROG=$PROBE
case_ read-of-program-allowed "ok" open-read $D/rbin/pf-probe deny 0 -- read $D/rbin/pf-probe
interp=$(readlink -f /lib64/ld-linux-x86-64.so.2)
AGENT=stranded
case_ exec-interpreter-denied none exec "$interp" deny 1 -- read $D/ehr/a.txt
AGENT=clerk

# write, create and delete stand apart: a ledger's entries change but are
# neither added nor removed, a shredder's go but never change, a drop
# directory takes new names only.
case_ write-without-create-allowed "ok" open-write $D/ledger/e.txt deny 0 -- write $D/ledger/e.txt
case_ create-without-create-denied "err EACCES" create $D/ledger/new.txt deny 1 -- \
	create $D/ledger/new.txt
case_ unlink-without-delete-denied "err EACCES" unlink $D/ledger/e.txt deny 1 -- \
	unlink $D/ledger/e.txt
case_ unlink-with-delete-allowed "ok" unlink $D/shred/x.txt deny 0 -- unlink $D/shred/x.txt
case_ write-without-write-denied "err EACCES" open-write $D/shred/y.txt deny 1 -- \
	write $D/shred/y.txt
case_ mkdir-with-create-allowed "ok" create $D/drop/d deny 0 -- mkdir $D/drop/d
# the name is made, but the open for writing that comes with it is refused
case_ create-without-write-denied "err EACCES" open-write $D/drop/f.txt deny 1 -- \
	create $D/drop/f.txt

# A rename makes a name where it lands and removes one where it leaves;
# over an existing file it removes that one too.
case_ rename-into-inbox-allowed "ok" rename $D/inbox/m.txt deny 0 -- \
	rename $D/ehr/m.txt $D/inbox/m.txt
case_ rename-over-without-delete-denied "err EACCES" unlink $D/inbox/existing.txt deny 1 -- \
	rename $D/ehr/n.txt $D/inbox/existing.txt
case_ rename-over-with-delete-allowed "ok" unlink $D/ehr/q.txt deny 0 -- \
	rename $D/ehr/p.txt $D/ehr/q.txt
case_ rename-out-without-delete-denied "err EACCES" rename $D/inbox/m.txt deny 1 -- \
	rename $D/inbox/m.txt $D/ehr/m2.txt

# A tree root stays where the policy names it: moving a directory that
# holds one (here the sealed class below a writable one), or removing or
# moving a root, is refused whatever the rights, or the next apply would tag
# a fresh directory at the old path and leave the data to the writable class.
W=$D/rt/work
case_ rename-dir-holding-tree-denied "err EACCES" rename $W/x deny 1 -- rename $W/x $W/x2
if [ -n "$(grep -F '"action":"rename"' $AUDIT | grep -F '"reason_code":"holds-tree"')" ]; then
	ok rename-dir-holding-tree-reason
else
	bad rename-dir-holding-tree-reason "no holds-tree record: $(cat $AUDIT)"
fi
if [ -f $W/x/secret/s.txt ] && [ ! -e $W/x2 ]; then
	ok rename-dir-holding-tree-left-in-place
else
	bad rename-dir-holding-tree-left-in-place "the tree moved: $(ls -R $W)"
fi
case_ rename-dir-holding-no-tree-allowed "ok" rename $W/y deny 0 -- rename $W/y $W/y2
case_ rename-tree-root-denied "err EACCES" rename $W/x/secret deny 1 -- \
	rename $W/x/secret $W/secret2
case_ rename-over-dir-holding-tree-denied "err EACCES" rename $W/x deny 1 -- \
	rename $W/y2 $W/x
case_ rmdir-tree-root-denied "err EACCES" unlink $W deny 1 -- rmdir $W

# A rename that leaves a whiteout makes a name at the source too: create there.
if [ "$($PROBE rename-whiteout /nonexistent /nonexistent2 2>/dev/null)" = "err ENOENT" ]; then
	case_ rename-whiteout-without-create-denied "err EACCES" create $D/shred/y.txt deny 1 -- \
		rename-whiteout $D/shred/y.txt $D/shred/y2.txt
	case_ rename-whiteout-with-create-allowed "ok" create $W/w/a.txt deny 0 -- \
		rename-whiteout $W/w/a.txt $W/w/a2.txt
	case_ exchange-dir-holding-tree-denied "err EACCES" rename $W/x deny 1 -- \
		rename-exchange $W/x $W/w
else
	echo "SKIP rename-whiteout, exchange: pf-probe has no rename-whiteout or rename-exchange"
fi

# A tree mounted elsewhere keeps its rules; a denied tree bound inside an
# allowed one gains nothing.
mkdir -p /mnt/ehr-view $D/ehr/view
mount --bind $D/ehr /mnt/ehr-view
mount --bind $D/secret $D/ehr/view
case_ bind-of-allowed-tree "ok" open-read $D/ehr/a.txt deny 0 -- read /mnt/ehr-view/a.txt
case_ bind-of-denied-tree "err EACCES" open-read $D/ehr/view/s.txt deny 1 -- \
	read $D/ehr/view/s.txt
umount $D/ehr/view /mnt/ehr-view

# An agent may not mount, so it cannot lay any filesystem inside an allowed
# tree; nor create a user namespace, in which an unprivileged agent could.
# The twins run unconfined: the same calls work there.
mkdir -p $D/ehr/mnt
case_ bind-mount-denied "err EPERM" mount $D/ehr/mnt deny 1 -- bind /srv $D/ehr/mnt
if $PROBE bind /srv $D/ehr/mnt >/dev/null && umount $D/ehr/mnt; then
	ok bind-mount-unconfined-works
else
	bad bind-mount-unconfined-works "the same bind mount fails unconfined: the test proves nothing"
fi
case_ pivot-root-denied "err EPERM" mount $D/ehr deny 1 -- pivot $D/ehr $D/ehr/mnt
case_ userns-denied "err EPERM" userns-create "user namespace" deny 1 -- userns -
if [ "$($PROBE userns -)" = ok ]; then
	ok userns-unconfined-works
else
	bad userns-unconfined-works "unshare(CLONE_NEWUSER) fails unconfined: the test proves nothing"
fi

# Another task's /proc/PID/root (and ptrace, and setns through its pidfd)
# is out of reach: its mounts would be judged apart from the agent's own.
: > $AUDIT
out=$($PF run --policy $POLICY --agent clerk --audit $AUDIT -- $PROBE read /proc/1/root/etc/passwd \
	2>/dev/null)
n=$(grep -F '"action":"ptrace"' $AUDIT | grep -F '"target_pid":1,' | grep -cF '"decision":"deny"')
if [ "$out" = "err EACCES" ] && [ "$n" = 1 ]; then
	ok proc-root-of-other-task-denied
else
	bad proc-root-of-other-task-denied "probe said '$out', $n ptrace records: $(cat $AUDIT)"
fi

# Deep trees: far below a tree is still below it; past PF_WALK_STEPS the
# walk gives up and denies, with its reason, never allows.
deep=$D/ehr
i=0
while [ $i -lt 60 ]; do deep=$deep/d; i=$((i + 1)); done
mkdir -p $deep && echo deep > $deep/f.txt
case_ deep-60-allowed "ok" open-read $deep/f.txt deny 0 -- read $deep/f.txt
deeper=$D/ehr
i=0
while [ $i -lt 300 ]; do deeper=$deeper/d; i=$((i + 1)); done
mkdir -p $deeper && echo deeper > $deeper/f.txt
: > $AUDIT
out=$($PF run --policy $POLICY --agent clerk --audit $AUDIT -- $PROBE read $deeper/f.txt 2>/dev/null)
n=$(grep -F '"reason_code":"too-deep"' $AUDIT | grep -F '"path_truncated":true' |
	grep -cF '"decision":"deny"')
if [ "$out" = "err EACCES" ] && [ "$n" = 1 ]; then
	ok deep-300-denied-too-deep
else
	bad deep-300-denied-too-deep "probe said '$out', $n too-deep records"
fi

# Long names: the record keeps the start of the path, marks the cut, and
# the denial line suggests no rule for a path that does not exist.
L=$(printf '%0250d' 0 | tr 0 L)
mkdir -p "$D/secret/$L/$L/$L" && echo x > "$D/secret/$L/$L/$L/f"
: > $AUDIT
out=$($PF run --policy $POLICY --agent clerk --audit $AUDIT -- $PROBE read "$D/secret/$L/$L/$L/f" \
	2>/tmp/stderr)
head=$D/secret/LLLLLLLLLLLLLLLLLLLL
n=$(grep -F "\"path\":\"$head" $AUDIT | grep -F '…","path"' | grep -cF '"path_truncated":true')
if [ "$out" = "err EACCES" ] && [ "$n" = 1 ] && grep -q "the path is incomplete" /tmp/stderr; then
	ok long-names-cut-and-marked
else
	bad long-names-cut-and-marked "probe said '$out', $n marked records: $(cat $AUDIT /tmp/stderr)"
fi

# --- exec by mapping ---------------------------------------------------------
# Exec covers mapping a file's code, not only opening it for execution: a
# program in a class granted read alone cannot be run through the loader
# (ld.so reads it, then maps it with PROT_EXEC) nor mapped or mprotected
# executable by hand. Anonymous memory stays free for JITs.

# deny_records: deny records in the audit file, whatever their action
deny_records()
{
	grep -cF '"decision":"deny"' $AUDIT
}

if [ "$($PROBE map-exec $D/rbin/pf-probe)" = ok ] &&
	[ "$($PROBE mprotect-exec $D/rbin/pf-probe)" = ok ]; then
	ok map-exec-unconfined-works
else
	bad map-exec-unconfined-works "an executable mapping fails unconfined: the tests prove nothing"
fi

PROG=$interp
case_ loader-readonly-denied fail map-exec $D/rbin/pf-probe deny 1 -- \
	$D/rbin/pf-probe read $D/ehr/a.txt
n=$(deny_records)
[ "$n" = 1 ] && ok loader-readonly-one-record ||
	bad loader-readonly-one-record "$n deny records, expected 1: $(cat $AUDIT)"
case_ loader-exec-class-allowed "ok" map-exec $D/bin/pf-probe deny 0 -- \
	$D/bin/pf-probe read $D/ehr/a.txt
n=$(deny_records)
[ "$n" = 0 ] && ok loader-exec-class-no-record ||
	bad loader-exec-class-no-record "$n deny records, expected 0: $(cat $AUDIT)"
PROG=$PROBE

case_ map-exec-readonly-denied "err EACCES" map-exec $D/rbin/pf-probe deny 1 -- \
	map-exec $D/rbin/pf-probe
case_ map-exec-data-denied "err EACCES" map-exec $D/ehr/a.txt deny 1 -- map-exec $D/ehr/a.txt
case_ map-exec-exec-class-allowed "ok" map-exec $D/bin/pf-probe deny 0 -- \
	map-exec $D/bin/pf-probe
case_ mprotect-exec-readonly-denied "err EACCES" map-exec $D/rbin/pf-probe deny 1 -- \
	mprotect-exec $D/rbin/pf-probe
case_ mprotect-exec-exec-class-allowed "ok" map-exec $D/bin/pf-probe deny 0 -- \
	mprotect-exec $D/bin/pf-probe
# shared anonymous memory is a kernel-internal file: still anonymous
for kind in private shared; do
	: > $AUDIT
	out=$($PF run --policy $POLICY --agent clerk --audit $AUDIT -- $PROBE anon-exec $kind \
		2>/tmp/stderr)
	n=$(grep -cF '"action":"map-exec"' $AUDIT)
	if [ "$out" = ok ] && [ "$n" = 0 ]; then
		ok anon-exec-$kind-allowed
	else
		bad anon-exec-$kind-allowed "probe said '$out', $n map-exec records: $(cat $AUDIT)"
	fi
done

# a memfd is a file in no class: mapped executable, it is denied as its exec is
: > $AUDIT
out=$($PF run --policy $POLICY --agent clerk --audit $AUDIT -- $PROBE memfd-exec - 2>/tmp/stderr)
n=$(grep -F '"action":"map-exec"' $AUDIT | grep -F '"object":"/memfd:pf-probe' |
	grep -cF '"decision":"deny"')
if [ "$out" = "err EACCES" ] && [ "$n" = 1 ] && [ "$(deny_records)" = 1 ]; then
	ok memfd-exec-denied
else
	bad memfd-exec-denied "probe said '$out', $n map-exec records: $(cat $AUDIT)"
fi

# audit mode reports the mapping and lets the program run
: > $AUDIT
out=$($PF run --policy $POLICY --agent clerk-audit --audit $AUDIT --no-watch -- \
	$interp $D/rbin/pf-probe read $D/ehr/a.txt 2>/tmp/stderr)
n=$(grep -F "\"object\":\"$D/rbin/pf-probe\"" $AUDIT | grep -F '"action":"map-exec"' |
	grep -cF '"applied":false')
if [ "$out" = ok ] && [ "$n" = 1 ] && [ "$(deny_records)" = 1 ] &&
	grep -q "^pinfold: would deny map-exec $D/rbin/pf-probe " /tmp/stderr; then
	ok loader-readonly-audit-mode
else
	bad loader-readonly-audit-mode "probe said '$out', $n not-applied map-exec records: \
$(cat $AUDIT /tmp/stderr)"
fi

# the kernel maps a statically linked program itself: runtime-programs holds exec for it
: > $AUDIT
out=$($PF run --policy $POLICY --agent clerk-shell --audit $AUDIT -- /bin/sh -c "cat $D/ref/r.txt" \
	2>/tmp/stderr)
n=$(deny_records)
if [ "$out" = ref ] && [ "$n" = 0 ]; then
	ok runtime-programs-run
else
	bad runtime-programs-run "the shell said '$out', $n deny records: $(cat $AUDIT /tmp/stderr)"
fi

finish
