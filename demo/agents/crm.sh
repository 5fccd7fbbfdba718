#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# The CRM agent plans outreach from de-identified summaries and talks to the
# CRM API. It may not see contact PII nor any PHI, nor reach the EHR.
# shellcheck source=demo/agents/lib.sh
. "${0%/*}/lib.sh"

D=/srv/pinfold-demo
try allow "read a de-identified summary" read $D/crm/deidentified/summary-2025-Q1.csv
try allow "call the CRM API" connect 127.0.0.1 18083 tcp
try deny "read the contact list (PII)" read $D/crm/contacts/contacts-0001.csv
try deny "read the appointment slots (PHI)" read $D/ehr/schedule/2025-03-03.txt
try deny "reach the EHR API" connect 127.0.0.1 18081 tcp
