#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Extended attributes, file times and memfds with BPF LSM, inside the test VM
# (tests/vm/run.sh). Setting or removing an attribute (setxattr) and changing
# a file's times (setattr: utimensat, futimens) change the file: they need
# write where it is, even through a descriptor opened for reading. A memfd is
# the agent's own file: sizing it, or one received over SCM_RIGHTS, is allowed.
# Each denial has an allowed twin, and each case checks the audit file holds
# exactly the one record it should leave, and that a refusal changed nothing.
set -u
SUITE=test_xattr
POLICY=tests/vm/files-policy.yaml
AUDIT=/tmp/pf-audit/xattr.jsonl
# shellcheck source=tests/vm/lib.sh
. /pinfold/tests/vm/lib.sh

# in a class granted write: connecting to a path socket needs write (test_unix.sh)
SOCK=$D/ehr/pass.sock


# probe NAME EXPECT ACTION OBJECT RECORDS -- PROBE-ARGS...: one confined probe
# run as the clerk; RECORDS deny records of ACTION on OBJECT
probe()
{
	name=$1 expect=$2 action=$3 object=$4 want=$5
	shift 6
	: > $AUDIT
	out=$($PF run --policy $POLICY --agent clerk --audit $AUDIT -- $PROBE "$@" 2>/tmp/stderr)
	check_denials "$name" "$expect" "$action" "$want" "\"object\":\"$object\""
}

# same NAME WHAT WANT GOT: an unconfined look after a case (WHAT) found WANT
same()
{
	[ "$4" = "$3" ] && ok "$1" || bad "$1" "$2 is '$4', expected '$3'"
}

need_bpf_lsm
[ "$(id -u)" = 0 ] || {
	echo "SKIP $SUITE: trusted.* attributes need root"
	exit 77
}
rm -rf $D
# every tree files-policy.yaml names must exist
mkdir -p $D/ehr/sealed $D/ehr/psych $D/ref $D/secret $D/audited $D/bin $D/rbin $D/ledger \
	$D/shred $D/inbox $D/drop $D/rt/work/x/secret
echo chart > $D/ehr/a.txt
echo ref > $D/ref/r.txt
echo secret > $D/secret/s.txt
A=$D/ehr/a.txt
R=$D/ref/r.txt
S=$D/secret/s.txt

# tmpfs took user.* attributes only in 6.6; before, trusted.* (root) is what it has
X=user.pf
if [ "$($PROBE setxattr $A $X v)" != ok ]; then
	X=trusted.pf
	if [ "$($PROBE setxattr $A $X v)" != ok ]; then
		echo "SKIP $SUITE: /srv (tmpfs) takes neither user.* nor trusted.* attributes"
		exit 77
	fi
fi
echo "# attribute name $X"
$PROBE removexattr $A $X > /dev/null

# --- extended attributes: setxattr needs write ------------------------------------
probe setxattr-readonly-denied "err EACCES" setxattr $R 1 -- setxattr $R $X v
same setxattr-readonly-unset "$X on $R" "err ENODATA" "$($PROBE getxattr $R $X)"
probe setxattr-no-class-denied "err EACCES" setxattr $S 1 -- setxattr $S $X v
probe setxattr-writable-allowed ok setxattr $A 0 -- setxattr $A $X v
same setxattr-writable-set "$X on $A" "ok v" "$($PROBE getxattr $A $X)"
# a descriptor opened for reading (allowed) does not make the change a read
probe fsetxattr-readonly-denied "err EACCES" setxattr $R 1 -- fsetxattr $R $X w
same fsetxattr-readonly-unset "$X on $R" "err ENODATA" "$($PROBE getxattr $R $X)"
probe fsetxattr-writable-allowed ok setxattr $A 0 -- fsetxattr $A $X w
same fsetxattr-writable-set "$X on $A" "ok w" "$($PROBE getxattr $A $X)"
# removing one is a change too
$PROBE setxattr $R $X kept > /dev/null
probe removexattr-readonly-denied "err EACCES" setxattr $R 1 -- removexattr $R $X
same removexattr-readonly-kept "$X on $R" "ok kept" "$($PROBE getxattr $R $X)"
probe removexattr-writable-allowed ok setxattr $A 0 -- removexattr $A $X
same removexattr-writable-gone "$X on $A" "err ENODATA" "$($PROBE getxattr $A $X)"

# --- times: setattr needs write -----------------------------------------------------
# NULL times (now) need only write access under DAC; explicit ones ownership
$PROBE utimens $R 1000000 > /dev/null
probe utimens-now-readonly-denied "err EACCES" setattr $R 1 -- utimens $R now
same utimens-now-readonly-unchanged "mtime of $R" 1000000 "$(stat -c %Y $R)"
probe utimens-set-readonly-denied "err EACCES" setattr $R 1 -- utimens $R 2000000
same utimens-set-readonly-unchanged "mtime of $R" 1000000 "$(stat -c %Y $R)"
probe utimens-now-no-class-denied "err EACCES" setattr $S 1 -- utimens $S now
probe utimens-set-writable-allowed ok setattr $A 0 -- utimens $A 2000000
same utimens-set-writable-changed "mtime of $A" 2000000 "$(stat -c %Y $A)"
probe utimens-now-writable-allowed ok setattr $A 0 -- utimens $A now
# futimens on a descriptor opened O_RDONLY: the open is allowed, the change not
probe futimens-readonly-denied "err EACCES" setattr $R 1 -- futimens $R now
same futimens-readonly-unchanged "mtime of $R" 1000000 "$(stat -c %Y $R)"
probe futimens-set-readonly-denied "err EACCES" setattr $R 1 -- futimens $R 3000000
probe futimens-writable-allowed ok setattr $A 0 -- futimens $A 3000000
same futimens-writable-changed "mtime of $A" 3000000 "$(stat -c %Y $A)"

# --- file flags (chattr): setattr needs write ----------------------------------------
# FS_IOC_SETFLAGS and FS_IOC_FSSETXATTR go through a descriptor opened for reading;
# +i freezes a file, -a lets an append-only log be rewritten. tmpfs has the flags
# since 6.0, so the 6.1 VM's /srv takes them
TAMPER=/pinfold/build/tests/pf-tamper
# flags NAME EXPECT OBJECT RECORDS -- PF-TAMPER-ARGS...: as probe, run pf-tamper
flags()
{
	name=$1 expect=$2 object=$3 want=$4
	shift 5
	: > $AUDIT
	out=$($PF run --policy $POLICY --agent clerk --audit $AUDIT -- $TAMPER "$@" 2>/tmp/stderr)
	check_denials "$name" "$expect" setattr "$want" "\"object\":\"$object\""
}
if [ "$($TAMPER setflags $A +i)" != ok ] || [ "$($TAMPER setflags $A -i)" != ok ]; then
	bad flags-supported "chattr +i unconfined on $A said '$($TAMPER setflags $A +i)' \
($(stat -f -c %T $A)): the flag cases prove nothing"
else
	ok flags-supported
	before=$($TAMPER getflags $R)
	flags setflags-immutable-readonly-denied "err EACCES" $R 1 -- setflags $R +i
	same setflags-immutable-readonly-unchanged "flags of $R" "$before" "$($TAMPER getflags $R)"
	flags setflags-append-readonly-denied "err EACCES" $R 1 -- setflags $R +a
	same setflags-append-readonly-unchanged "flags of $R" "$before" "$($TAMPER getflags $R)"
	flags fssetxattr-immutable-readonly-denied "err EACCES" $R 1 -- fssetxattr $R +i
	same fssetxattr-immutable-readonly-unchanged "flags of $R" "$before" \
		"$($TAMPER getflags $R)"
	# an append-only file where the agent may only read stays append-only
	$TAMPER setflags $R -i > /dev/null
	$TAMPER setflags $R +a > /dev/null
	appended=$($TAMPER getflags $R)
	flags setflags-clear-append-readonly-denied "err EACCES" $R 1 -- setflags $R -a
	same setflags-clear-append-readonly-kept "flags of $R" "$appended" \
		"$($TAMPER getflags $R)"
	flags fssetxattr-clear-append-readonly-denied "err EACCES" $R 1 -- fssetxattr $R -a
	$TAMPER setflags $R -a > /dev/null
	# where it may write, the flags are its to set and clear
	before=$($TAMPER getflags $A)
	flags setflags-immutable-writable-allowed ok $A 0 -- setflags $A +i
	same setflags-immutable-writable-set "writing to $A" "err EPERM" "$($PROBE write $A)"
	flags setflags-clear-immutable-writable-allowed ok $A 0 -- setflags $A -i
	flags fssetxattr-append-writable-allowed ok $A 0 -- fssetxattr $A +a
	flags fssetxattr-clear-append-writable-allowed ok $A 0 -- fssetxattr $A -a
	# whatever happened, the tree must stay removable
	$TAMPER setflags $A -i > /dev/null
	$TAMPER setflags $A -a > /dev/null
	same flags-writable-restored "flags of $A" "$before" "$($TAMPER getflags $A)"
fi

# --- memfds: the agent's own files ------------------------------------------------------
# a memfd lives on a kernel-internal mount in no class; ftruncate is how one is
# sized, and refusing it would break every program that uses one
: > $AUDIT
out=$($PF run --policy $POLICY --agent clerk --audit $AUDIT -- $PROBE memfd-truncate - \
	2>/tmp/stderr)
check_denials memfd-truncate-allowed ok truncate 0 '"object"'
# one received over SCM_RIGHTS is like a pipe: the sender's, not a file of the policy
: > $AUDIT
rm -f $SOCK
$PROBE send-fd $SOCK memfd:pf-shared w > /tmp/sender &
sender=$!
out=$($PF run --policy $POLICY --agent clerk --audit $AUDIT -- $PROBE recv-fd $SOCK 2>/tmp/stderr)
wait $sender
if [ "$(cat /tmp/sender)" != ok ]; then
	bad memfd-received-allowed "the sender said '$(cat /tmp/sender)': the test proves nothing"
else
	check_denials memfd-received-allowed ok receive-fd 0 '"object"'
fi

finish
