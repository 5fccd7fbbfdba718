#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# The documentation agent drafts visit notes: it reads charts, queries the
# EHR's API and writes drafts into the intake area for a clinician to sign.
# It may not change a chart, remove a draft, nor see claims.
# shellcheck source=demo/agents/lib.sh
. "${0%/*}/lib.sh"

D=/srv/pinfold-demo
try allow "read a patient chart" read $D/ehr/charts/SYN-000012.txt
try allow "query the EHR API" connect 127.0.0.1 18081 tcp
try allow "write a draft note to intake" create $D/ehr/intake/draft-SYN-000012-2025-03-04.txt
try deny "edit the chart directly" write $D/ehr/charts/SYN-000012.txt
try deny "delete an unsigned draft" unlink $D/ehr/intake/draft-SYN-000003-2025-03-03.txt
try deny "read a claim" read $D/billing/claims/CLM-2025-0001.json
try deny "push notes to the CRM API" connect 127.0.0.1 18083 tcp
