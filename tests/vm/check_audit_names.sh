#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# check_audit_names.sh: run tests/vm/audit_names.sh in the test VM and
# check its audit log here: every line is JSON, each denied name reads back as
# the bytes it was (path, or path_hex when not UTF-8), the flood's records
# alternate 1 1 2 as written, and audit show prints no raw control character.
set -u
here=$(cd "$(dirname "$0")/../.." && pwd)
out=$(mktemp /tmp/check-audit-names.XXXXXX)
"$here/tests/vm/run.sh" "$here/tests/vm/audit_names.sh" >"$out" 2>&1
vrc=$?
grep -a '^PASS\|^FAIL\|passed,' "$out"
python3 - "$out" "$vrc" <<'PY'
import base64, json, re, sys
text = open(sys.argv[1], "rb").read().replace(b"\r", b"")
def block(tag):
    m = re.search(rb"%s-BEGIN\n(.*?)\n%s-END" % (tag, tag), text, re.S)
    return base64.b64decode(b"".join(l for l in m.group(1).split(b"\n") if re.fullmatch(rb"[A-Za-z0-9+/=]+", l))) if m else None
log, show = block(b"AUDIT-NAMES"), block(b"SHOW-NAMES")
fails = 0
def fail(name, why):
    global fails
    fails += 1
    print("FAIL %s: %s" % (name, why))
if log is None:
    fail("vm", "no log from the VM (exit %s)" % sys.argv[2]); sys.exit(1)
recs = []
for n, line in enumerate(log.split(b"\n")[:-1], 1):
    try:
        recs.append(json.loads(line.decode("utf-8")))
    except Exception as e:
        fail("json", "line %d: %s: %r" % (n, e, line[:200]))
S = b"/srv/data/ehr/sealed/"
def raw(r):
    return bytes.fromhex(r["path_hex"]) if "path_hex" in r else r["path"].encode()
denied = [raw(r) for r in recs if r.get("kind") == "decision" and r.get("decision") == "deny"
          and r.get("action") == "open-write"]
want = [b'q"b\\c', b"nl\nx", b"ctl\x01\x1b[31m\x7f", b"bad\xff\xfe\xc0\xaf", b"half\xc3",
        b"surr\xed\xa0\x80", b"ok\xc3\xa9", b"sl\\u0000", b"L" * 255]
for w in want:
    if S + w not in denied:
        fail("name", "no denial record naming %r" % (S + w))
    else:
        print("PASS name %r" % w[:20])
deep = [d for d in denied if d.endswith(b"/f") and d.count(b"/") > 60]
if deep:
    print("PASS deep (%d bytes%s)" % (len(deep[0]), ""))
else:
    print("NOTE deep: no full deep path (truncated ones: %r)" %
          [ (len(d), d[:40]) for d in denied if b"ddddd" in d][:2])
flood = [d[-1:] for d in denied if d.startswith(S + b"a" * 64)]
exp = [b"1", b"1", b"2"] * 300
if flood != exp:
    i = next((i for i, (a, b) in enumerate(zip(flood, exp)) if a != b), min(len(flood), len(exp)))
    fail("flood", "%d flood records; first difference at %d: %r" % (len(flood), i, flood[i:i + 6]))
else:
    print("PASS flood 900 records alternate as written")
bad = [(i, show[i]) for i in range(len(show or b"")) if (show[i] < 0x20 and show[i] != 0x0a) or show[i] == 0x7f]
if show is None or bad:
    fail("show", "raw control bytes in audit show: %r" % bad[:8])
else:
    print("PASS show-no-control")
if sys.argv[2] != "0":
    fail("vm", "VM script exit %s" % sys.argv[2])
sys.exit(1 if fails else 0)
PY
rc=$?
echo "console: $out"
exit $rc
