#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# The demo's script inside the test VM (tests/vm/run.sh demo/vm-guest.sh ...):
# the whole scenario, where BPF LSM must enforce the file rules.
exec sh /pinfold/demo/scenario.sh --parts auto --require-files
