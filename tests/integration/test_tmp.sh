#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# test_tmp.sh - the private temporary directory of an instance
# (/run/pinfold/tmp/SLOT.AGENT.PID) is removed whatever an agent left in it,
# however deep; and what cannot be removed (a file made immutable) never
# stops a later run on the same slot: it is moved aside to
# /run/pinfold/tmp/.stale and reported.
#
# Stale directories are made here by the test itself, as root, for the slot
# the next run is expected to take (the slot the run before took); when
# another run took that slot meanwhile, the case is tried again.
#
#   tests/integration/test_tmp.sh        (root; after make tests)
# shellcheck disable=SC2317 # functions called by trap, stale_case and check
set -u

# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

pf_init

tmpdir=/run/pinfold/tmp
stale=$tmpdir/.stale
policy=$PF_TMP/policy.yaml
cat > "$policy" <<'YAML'
version: 1
agents:
  tmpuser:
    families: [runtime, runtime-programs]
YAML
made=("$tmpdir/.build$$")

not() { ! "$@"; }

# undo DIR: remove a directory this test made, and what a run moved aside of it
undo()
{
	local d

	for d in "$1" "$stale/${1##*/}"*; do
		[ -e "$d" ] || continue
		umount "$d/d/mnt" 2>/dev/null
		chattr -R -i "$d" 2>/dev/null
		rm -rf "$d"
	done
}

cleanup_made()
{
	local d

	for d in "${made[@]}"; do
		undo "$d"
	done
	pf_cleanup
}
trap cleanup_made EXIT

# run_agent NAME CMD: run CMD as the agent; its TMPDIR into $PF_TMP/NAME.tmpdir,
# stderr into $PF_TMP/NAME.err, exit status into $rc
run_agent()
{
	local name=$1
	shift

	"$PINFOLD" run --policy "$policy" --agent tmpuser --allow-degraded --no-watch \
		--audit "$PF_TMP/$name.jsonl" -- sh -c "echo \"\$TMPDIR\" > $PF_TMP/$name.tmpdir; $*" \
		2>"$PF_TMP/$name.err"
	rc=$?
}

# slot_of NAME: the slot the run NAME took, from its TMPDIR
slot_of()
{
	local t

	t=$(cat "$PF_TMP/$1.tmpdir" 2>/dev/null)
	t=${t##*/}
	echo "${t%%.*}"
}

# nest DIR DEPTH: DIR and DEPTH directories nested below it, a file at the bottom.
# Made relative to the deepest directory, as an agent would: a path that long
# could not be named at once.
nest()
{
	python3 - "$1" "$2" <<'PY'
import os, sys
root, depth = sys.argv[1], int(sys.argv[2])
os.mkdir(root, 0o700)
fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY)
for i in range(depth):
    os.mkdir("d", 0o700, dir_fd=fd)
    nfd = os.open("d", os.O_RDONLY | os.O_DIRECTORY, dir_fd=fd)
    os.close(fd)
    fd = nfd
with open(os.open("bottom", os.O_WRONLY | os.O_CREAT, 0o600, dir_fd=fd), "w") as f:
    f.write("x")
os.close(fd)
PY
}

# 1. An agent nests 5000 directories in its tmp: removed at its exit.
run_agent deep "mkdir -p \"\$TMPDIR/top\" && cd \"\$TMPDIR/top\" &&
	python3 -c 'import os
for i in range(5000):
    os.mkdir(\"d\"); os.chdir(\"d\")
open(\"f\", \"w\").write(\"x\")'"
tmp=$(cat "$PF_TMP/deep.tmpdir")
made+=("$tmp")
check deep-run-ok "run exited $rc: $(cat "$PF_TMP/deep.err")" test "$rc" = 0
check deep-tmp-named "TMPDIR was '$tmp'" test "${tmp#"$tmpdir"/}" != "$tmp"
check deep-tmp-removed "$tmp is still there: $(cat "$PF_TMP/deep.err")" test ! -e "$tmp"
check deep-no-message "stderr: $(cat "$PF_TMP/deep.err")" \
	not grep -Eq "remove|stale|temporary" "$PF_TMP/deep.err"
last_slot=$(slot_of deep)
[ -n "$last_slot" ] || { echo "FAIL setup: no slot known"; pf_finish; }

# stale_case NAME DEPTH [SETUP]: a stale tmp of the next run's slot, DEPTH deep,
# then SETUP DIR if given; then a run. Sets $stale_dir; 0, 1 when twenty runs in
# a row took another slot than the one before (other tests run meanwhile), 2
# when SETUP failed. A stale tmp made for a slot the run did not take is undone
# at once, before another run meets it.
stale_case()
{
	local name=$1 depth=$2 setup=${3:-} try slot

	for try in $(seq 20); do
		stale_dir="$tmpdir/$last_slot.tmpuser.stale$$-$name-$try"
		made+=("$stale_dir")
		# made under a name no run removes, then put in place at once
		undo "$tmpdir/.build$$"
		nest "$tmpdir/.build$$" "$depth"
		mv -T "$tmpdir/.build$$" "$stale_dir"
		if [ -n "$setup" ]; then
			"$setup" "$stale_dir" || return 2
		fi
		run_agent "$name" true
		slot=$(slot_of "$name")
		[ "$slot" = "$last_slot" ] && return 0
		undo "$stale_dir"
		[ -n "$slot" ] && last_slot=$slot
	done
	return 1
}

lock_file() { touch "$1/locked" && chattr +i "$1/locked" 2>/dev/null; }

# 2. A stale tmp 200 directories deep (more than the 128 an earlier removal
# followed) of the slot is removed, and the run starts.
if stale_case nest200 200; then
	check stale-nest-run-ok "run exited $rc: $(cat "$PF_TMP/nest200.err")" test "$rc" = 0
	check stale-nest-removed "$stale_dir is still there: $(cat "$PF_TMP/nest200.err")" \
		test ! -e "$stale_dir"
	check stale-nest-not-quarantined "moved aside: $(ls "$stale" 2>/dev/null)" \
		test ! -e "$stale/${stale_dir##*/}"
else
	fail stale-nest "twenty runs in a row took another slot than the run before"
fi

# 3. 5000 deep, made by root directly
if stale_case nest5000 5000; then
	check stale-deep-run-ok "run exited $rc: $(cat "$PF_TMP/nest5000.err")" test "$rc" = 0
	check stale-deep-removed "$stale_dir is still there" test ! -e "$stale_dir"
else
	fail stale-deep "twenty runs in a row took another slot than the run before"
fi

# 4. An immutable file in a stale tmp: the tmp cannot be removed; it is moved
# aside, the run says so and starts.
stale_case immutable 3 lock_file
case $? in
0)
	check stale-immutable-run-ok "run exited $rc: $(cat "$PF_TMP/immutable.err")" \
		test "$rc" = 0
	check stale-immutable-moved "$stale_dir is still there" test ! -e "$stale_dir"
	q=$stale/${stale_dir##*/}
	made+=("$q")
	check stale-immutable-quarantined "not in $stale: $(ls "$stale" 2>/dev/null)" \
		test -e "$q/locked"
	check stale-immutable-reported "stderr: $(cat "$PF_TMP/immutable.err")" \
		grep -q "moved it to $q" "$PF_TMP/immutable.err"
	# the rest of the tree went: only what could not be removed stays
	check stale-immutable-rest-removed "$(find "$q" | head -5)" test ! -e "$q/d"
	;;
2)
	echo "note: chattr +i refused on $tmpdir's filesystem: immutable case not run"
	;;
*)
	fail stale-immutable "twenty runs in a row took another slot than the run before"
	;;
esac

# 5. The agent makes a file of its own tmp immutable (root, degraded mode: its
# files are not enforced here): its exit moves the tmp aside, and says so.
run_agent locked "touch \"\$TMPDIR/locked\" && mkdir \"\$TMPDIR/sub\" && touch \"\$TMPDIR/sub/x\" &&
	chattr +i \"\$TMPDIR/locked\""
tmp=$(cat "$PF_TMP/locked.tmpdir")
if [ "$rc" = 0 ] && grep -q "cannot remove" "$PF_TMP/locked.err"; then
	q=$stale/${tmp##*/}
	made+=("$q" "$tmp")
	check exit-immutable-moved "$tmp is still there: $(cat "$PF_TMP/locked.err")" \
		test ! -e "$tmp"
	check exit-immutable-quarantined "not in $stale: $(ls "$stale" 2>/dev/null)" \
		test -e "$q/locked"
	check exit-immutable-reported "stderr: $(cat "$PF_TMP/locked.err")" \
		grep -q "moved it to $q" "$PF_TMP/locked.err"
	check exit-immutable-rest-removed "$(find "$q" | head -5)" test ! -e "$q/sub"
elif [ "$rc" = 0 ] && [ ! -e "$tmp" ]; then
	echo "note: chattr +i failed in the agent: exit case not run ($(cat "$PF_TMP/locked.err"))"
else
	fail exit-immutable "run exited $rc: $(cat "$PF_TMP/locked.err")"
fi

# 6. Symbolic links in a stale tmp to a directory outside: the links go,
# what they lead to stays.
outside=$PF_TMP/outside
mkdir -p "$outside/keep"
touch "$outside/keep/file"
links() { ln -s "$outside" "$1/link" && ln -s "$outside/keep" "$1/d/keep"; }
if stale_case symlink 2 links; then
	check symlink-run-ok "run exited $rc: $(cat "$PF_TMP/symlink.err")" test "$rc" = 0
	check symlink-stale-removed "$stale_dir is still there" test ! -e "$stale_dir"
	check symlink-target-kept "$outside/keep/file is gone" test -e "$outside/keep/file"
else
	fail symlink "twenty runs in a row took another slot than the run before"
fi

# 7. A bind mount in a stale tmp: not entered, what it shows stays; the tree is
# moved aside with the mount, which is then undone here.
mkdir -p "$outside/mounted"
touch "$outside/mounted/file"
bind() { mkdir "$1/d/mnt" && mount --bind "$outside/mounted" "$1/d/mnt"; }
stale_case mount 1 bind
case $? in
0)
	q=$stale/${stale_dir##*/}
	made+=("$q")
	check mount-run-ok "run exited $rc: $(cat "$PF_TMP/mount.err")" test "$rc" = 0
	check mount-target-kept "$outside/mounted/file is gone" test -e "$outside/mounted/file"
	check mount-quarantined "not in $stale: $(cat "$PF_TMP/mount.err")" \
		mountpoint -q "$q/d/mnt"
	umount "$q/d/mnt" 2>/dev/null
	;;
2)
	echo "note: mount --bind failed: mount case not run"
	;;
*)
	fail mount "twenty runs in a row took another slot than the run before"
	;;
esac
# 8. A stale tmp that is itself immutable can be neither removed nor moved:
# the run says so and starts all the same (its own tmp has another name).
lock_dir() { chattr +i "$1" 2>/dev/null; }
stale_case lockeddir 1 lock_dir
case $? in
0)
	check locked-dir-run-ok "run exited $rc: $(cat "$PF_TMP/lockeddir.err")" test "$rc" = 0
	check locked-dir-reported "stderr: $(cat "$PF_TMP/lockeddir.err")" \
		grep -q "left it in place" "$PF_TMP/lockeddir.err"
	;;
2)
	echo "note: chattr +i refused: locked directory case not run"
	;;
*)
	fail locked-dir "twenty runs in a row took another slot than the run before"
	;;
esac

pf_finish
