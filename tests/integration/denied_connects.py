# SPDX-License-Identifier: GPL-2.0-only
"""Connects that a confined agent makes to be denied, for tests that count
records: deny(port, n) connects n times to 127.0.0.1:port and returns how
many the kernel refused with EPERM. As a command: denied_connects.py N PORT
prints that count."""
import socket
import sys


def deny(port, n):
    denied = 0
    for _ in range(n):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            s.connect(("127.0.0.1", port))
        except PermissionError:
            denied += 1
        except OSError:
            pass
        s.close()
    return denied


if __name__ == "__main__":
    print(deny(int(sys.argv[2]), int(sys.argv[1])))
