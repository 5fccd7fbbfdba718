#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# The scheduling agent books appointments: it reads the appointment slots and
# talks to the EHR's scheduling API. Claims and money are none of its business.
# shellcheck source=demo/agents/lib.sh
. "${0%/*}/lib.sh"

D=/srv/pinfold-demo
try allow "read the appointment slots" read $D/ehr/schedule/2025-03-03.txt
try allow "ask the EHR API for a slot" connect 127.0.0.1 18081 tcp
try deny "book by editing the slot file" write $D/ehr/schedule/2025-03-03.txt
try deny "query the billing database" connect 127.0.0.1 18082 tcp
