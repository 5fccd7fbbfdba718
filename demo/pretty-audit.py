#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Copy stdin to stdout, line by line, writing each "audit {json}" line that
demo/scenario.sh prints as one readable line. Terminal control sequences
(the VM firmware clears the screen on the console) are dropped; anything
else, including a record that does not parse, passes unchanged."""

import json
import re
import sys

AUDIT = re.compile(r'^(\s*)audit (\{.*\})\s*$')
CONTROL = re.compile(r'\x1b(\[[0-9;?]*[A-Za-z]|[A-Za-z])')


def short_time(t):
    """HH:MM:SS.mmm from an ISO 8601 time, else the value as given."""
    m = re.search(r'T(\d\d:\d\d:\d\d(?:\.\d{1,3})?)', str(t))
    return m.group(1) if m else str(t)


def enforced(v):
    """The record's "enforced" member: which rule kinds the kernel enforced."""
    if isinstance(v, dict):
        on = [k for k in ('network', 'files') if v.get(k) is True]
        off = [k for k in ('network', 'files') if v.get(k) is False]
        text = 'enforced: %s' % ('+'.join(on) if on else 'nothing')
        if off:
            text += ', NOT %s' % '+'.join(off)
        return text
    return 'enforced: %s' % v


def describe(r):
    who = '%-10s %-16s' % (r.get('agent', '?'), r.get('instance', '?'))
    when = short_time(r.get('time', '?'))
    if r.get('kind', 'decision') != 'decision':
        skip = ('schema', 'id', 'prev', 'retain', 'kind', 'time', 'agent', 'instance',
                'enforced', 'signature')
        rest = ' '.join('%s=%s' % (k, json.dumps(v)) for k, v in r.items() if k not in skip)
        return '%s  %s  %-19s %s  [%s]' % (when, who, r['kind'], rest,
                                           enforced(r.get('enforced')))
    why = r.get('reason', '')
    if r.get('rule'):
        why += ': ' + r['rule']
    return '%s  %s  pid %-6s %-5s %-10s %s  (%s) [%s]' % (
        when, who, r.get('pid', '?'), str(r.get('decision', '?')).upper(),
        r.get('action', '?'), r.get('object', '?'), why, enforced(r.get('enforced')))


def main():
    for line in iter(sys.stdin.readline, ''):
        line = CONTROL.sub('', line.rstrip('\r\n'))
        m = AUDIT.match(line)
        if m:
            try:
                line = '%s%s' % (m.group(1), describe(json.loads(m.group(2))))
            except (ValueError, TypeError, AttributeError):
                pass
        sys.stdout.write(line + '\n')
        sys.stdout.flush()
    return 0


if __name__ == '__main__':
    sys.exit(main())
