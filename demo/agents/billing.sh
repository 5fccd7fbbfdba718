#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# The billing agent prepares claims: it reads claims, writes remittances to its
# outbox and talks to the billing database. Claims themselves are read-only;
# clinical charts and the CRM are off limits.
# shellcheck source=demo/agents/lib.sh
. "${0%/*}/lib.sh"

D=/srv/pinfold-demo
try allow "read a claim" read $D/billing/claims/CLM-2025-0001.json
try allow "write a remittance to the outbox" create $D/billing/outbox/remittance-2025-03.txt
try allow "query the billing database" connect 127.0.0.1 18082 tcp
try deny "alter a claim" write $D/billing/claims/CLM-2025-0001.json
try deny "read a patient chart" read $D/ehr/charts/SYN-000007.txt
try deny "push patient balances to the CRM API" connect 127.0.0.1 18083 tcp
