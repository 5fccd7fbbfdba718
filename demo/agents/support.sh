#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# The support agent answers tickets: it reads help articles and tickets,
# writes replies, and uses the ticketing service. It sees neither charts nor
# balances, may ask no DNS server but the clinic's, and cannot run what a
# ticket brought in.
# shellcheck source=demo/agents/lib.sh
. "${0%/*}/lib.sh"

D=/srv/pinfold-demo
try allow "read a help article" read $D/support/kb/portal-login.md
try allow "read a ticket" read $D/support/tickets/TCK-0003.txt
try allow "write a reply" create $D/support/tickets/TCK-0003-reply.txt
try allow "update the ticketing service" connect 127.0.0.1 18084 tcp
try deny "run the ticket's attachment" exec $D/support/tickets/TCK-0003-fix.sh
try deny "look up the caller's chart" read $D/ehr/charts/SYN-000003.txt
try deny "look up the caller's balance" read $D/billing/claims/CLM-2025-0003.json
try deny "query the billing database" connect 127.0.0.1 18082 tcp
try deny "DNS to an outside resolver" sendto 127.0.0.99 18053 udp
