#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Routes to a file other than its plain name, with BPF LSM, inside the test VM
# (tests/vm/run.sh): /proc/self/root, /proc/self/fd of an O_PATH descriptor,
# another task's /proc/PID/root, file handles, openat2's RESOLVE_ flags,
# symlinked directories, and mounts made by other means than mount(2). A file
# is judged by its inode wherever the name came from: each route to a denied
# file must be refused with exactly one record, and the same route to an
# allowed file must work with none. These are regression tests: a failure here
# is a bypass.
#
# Covered elsewhere, not repeated here (tests/vm/test_files.sh): a file
# symlink out of an allowed tree (symlink-escape-denied, symlink-inside-allowed),
# a hard link from a denied tree into an allowed one (link-in-denied), a rename
# of a denied file into an allowed tree (rename-in-denied), mount(2) of a bind
# (bind-mount-denied), pivot_root (pivot-root-denied), user namespaces
# (userns-denied), and /proc/1/root counted by target (proc-root-of-other-task-denied).
set -u
SUITE=test_paths
POLICY=tests/vm/files-policy.yaml
AUDIT=/tmp/pf-audit/paths.jsonl
# shellcheck source=tests/vm/lib.sh
. /pinfold/tests/vm/lib.sh


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

need_bpf_lsm
[ "$(id -u)" = 0 ] || {
	echo "SKIP $SUITE: file handles and mounts need root"
	exit 77
}
rm -rf $D
# every tree files-policy.yaml names must exist
mkdir -p $D/ehr/sealed $D/ehr/psych $D/ref $D/secret $D/audited $D/bin $D/rbin $D/ledger \
	$D/shred $D/inbox $D/drop $D/rt/work/x/secret $D/ehr/mnt
echo chart > $D/ehr/a.txt
echo ref > $D/ref/r.txt
echo secret > $D/secret/s.txt
ln -s ../secret/s.txt $D/ehr/rel-escape
ln -s /secret/s.txt $D/ehr/rooted-escape
ln -s /ehr/a.txt $D/ehr/rooted-inside
ln -s ../secret $D/ehr/secret-dir
ln -s ../ref $D/ehr/ref-dir
S=$D/secret/s.txt
A=$D/ehr/a.txt
R=$D/ref/r.txt

# --- /proc/self/root and /proc/self/fd ----------------------------------------
# the magic links land on the inode itself: the path walked through /proc is
# not what is judged
probe proc-self-root-read-denied "err EACCES" open-read $S 1 -- read /proc/self/root$S
probe proc-self-root-read-allowed ok open-read $A 0 -- read /proc/self/root$A
probe proc-self-root-write-readonly-denied "err EACCES" open-write $R 1 -- write /proc/self/root$R
probe proc-self-root-write-allowed ok open-write $A 0 -- write /proc/self/root$A
# O_PATH opens read nothing and are not judged; reopening one through
# /proc/self/fd is a real open, judged as any other
probe opath-reopen-read-denied "err EACCES" open-read $S 1 -- opath-reopen $S r
probe opath-reopen-read-allowed ok open-read $A 0 -- opath-reopen $A r
probe opath-reopen-write-readonly-denied "err EACCES" open-write $R 1 -- opath-reopen $R w
probe opath-reopen-write-allowed ok open-write $A 0 -- opath-reopen $A w

# --- another task's /proc/PID/root ---------------------------------------------
# pid 1 is outside the instance: following its root link is the ptrace check,
# refused before any file is opened (the file itself would be allowed)
: > $AUDIT
out=$($PF run --policy $POLICY --agent clerk --audit $AUDIT -- $PROBE read /proc/1/root$A \
	2>/tmp/stderr)
check_denials proc-1-root-denied-as-ptrace "err EACCES" ptrace 1 '"target_pid":1,'
n=$(grep -F '"action":"ptrace"' $AUDIT | grep -cF '"reason_code":"other-task"')
[ "$n" = 1 ] && ok proc-1-root-reason-other-task ||
	bad proc-1-root-reason-other-task "no other-task record: $(cat $AUDIT)"

# --- file handles ----------------------------------------------------------------
# open_by_handle_at names no path at all: the inode it finds decides
probe handle-open-read-denied "err EACCES" open-read $S 1 -- handle-open $S r
probe handle-open-read-allowed ok open-read $A 0 -- handle-open $A r
probe handle-open-write-readonly-denied "err EACCES" open-write $R 1 -- handle-open $R w
probe handle-open-write-allowed ok open-write $A 0 -- handle-open $A w

# --- openat2 ---------------------------------------------------------------------
# RESOLVE_ flags confine the walk to a directory, not the policy to it: a
# denied file reached by ".." or a relative symlink that stays beneath the
# starting directory is still denied
probe openat2-beneath-dotdot-denied "err EACCES" open-read $S 1 -- \
	openat2 $D ehr/../secret/s.txt beneath
probe openat2-beneath-symlink-denied "err EACCES" open-read $S 1 -- \
	openat2 $D ehr/rel-escape beneath
probe openat2-beneath-allowed ok open-read $A 0 -- openat2 $D ref/../ehr/a.txt beneath
probe openat2-nosymlinks-dotdot-denied "err EACCES" open-read $S 1 -- \
	openat2 $D/ehr ../secret/s.txt nosymlinks
probe openat2-nosymlinks-allowed ok open-read $A 0 -- openat2 $D/ehr ../ehr/a.txt nosymlinks
# in root, "/" is the starting directory: /secret/s.txt there is $D/secret/s.txt
probe openat2-inroot-denied "err EACCES" open-read $S 1 -- openat2 $D /secret/s.txt inroot
probe openat2-inroot-symlink-denied "err EACCES" open-read $S 1 -- \
	openat2 $D ehr/rooted-escape inroot
probe openat2-inroot-allowed ok open-read $A 0 -- openat2 $D ehr/rooted-inside inroot

# --- a symlinked directory ------------------------------------------------------
# test_files.sh has a symlink to a file; through a linked directory the
# walk goes on below the link's target
probe symlink-dir-escape-denied "err EACCES" open-read $S 1 -- read $D/ehr/secret-dir/s.txt
probe symlink-dir-allowed ok open-read $R 0 -- read $D/ehr/ref-dir/r.txt

# --- mounts by other means ---------------------------------------------------------
# mount(2) in the agent's own namespace is refused (test_files.sh); so are a
# bind made in a new mount namespace (shared mounts would propagate it back),
# a tree cloned by open_tree and placed by move_mount, and a new filesystem
# placed by fsmount and move_mount. Each twin runs unconfined: the same
# calls work there, so the refusal is pinfold's.
M=$D/ehr/mnt
mounted() { grep -q " $M " /proc/mounts; }
probe unshare-bind-denied "err EPERM" mount $M 1 -- new-mount unshare-bind $D/secret $M
probe open-tree-move-denied "err EPERM" mount $M 1 -- new-mount open-tree $D/secret $M
probe fsmount-move-denied "err EPERM" mount $M 1 -- new-mount fsmount tmpfs $M
if mounted; then
	bad mounts-denied-left-nothing "$(grep " $M " /proc/mounts)"
	umount $M
else
	ok mounts-denied-left-nothing
fi
out=$($PROBE new-mount unshare-bind $D/secret $M 2>&1)
[ "$out" = ok ] && ok unshare-bind-unconfined-works ||
	bad unshare-bind-unconfined-works "said '$out': the test proves nothing"
mounted && umount $M
for how in open-tree fsmount; do
	src=$D/secret
	[ $how = fsmount ] && src=tmpfs
	out=$($PROBE new-mount $how $src $M 2>&1)
	if [ "$out" = ok ] && mounted; then
		ok $how-move-unconfined-works
		umount $M
	else
		bad $how-move-unconfined-works "said '$out': the test proves nothing"
	fi
done

finish
