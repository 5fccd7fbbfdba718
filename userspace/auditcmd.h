/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * auditcmd.h - `pinfold audit SUBCOMMAND`: show, tail, verify, prune, keygen.
 */
#ifndef PINFOLD_AUDITCMD_H
#define PINFOLD_AUDITCMD_H

/* `pinfold audit ARGS` (argv[0] is "audit"); returns the exit status. */
int audit_main(int argc, char **argv);

#endif /* PINFOLD_AUDITCMD_H */
