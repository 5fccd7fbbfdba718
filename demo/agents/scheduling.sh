#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# The scheduling agent books appointments: it reads the appointment slots,
# books through the EHR's API and asks the clinic's DNS resolver. Charts,
# claims and the EHR's bulk export are none of its business.
# shellcheck source=demo/agents/lib.sh
. "${0%/*}/lib.sh"

D=/srv/pinfold-demo
try allow "read the appointment slots" read $D/ehr/schedule/2025-03-03.txt
try allow "ask the EHR API for a slot" connect 127.0.0.1 18081 tcp
try allow "ask the clinic's DNS resolver" sendto 127.0.0.53 18053 udp
try deny "book by editing the slot file" write $D/ehr/schedule/2025-03-03.txt
try deny "read a patient chart" read $D/ehr/charts/SYN-000007.txt
try deny "pull every record (EHR bulk export)" connect 127.0.0.9 18081 tcp
try deny "query the billing database" connect 127.0.0.1 18082 tcp
