/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * report.h - the one line a probe prints, shared by the test helpers.
 *
 * A probe performs one operation and prints "ok", "ok REPLY" or "err ENAME",
 * ENAME being the symbolic errno name, so that a test tells EPERM (an LSM
 * "never" refusal, a cgroup socket program) from EACCES (a denied open). The
 * functions are static: each probe is one translation unit and gets its own
 * copy, and one that does not use both does not warn.
 */
#ifndef PF_TESTS_REPORT_H
#define PF_TESTS_REPORT_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

/* exit status of a probe whose operation failed; 2 is kept for usage errors */
#define REPORT_EXIT_FAILED 1

/* packed by hand: one name a line would be 90 lines */
/* clang-format off */
#define REPORT_E(name) [name] = #name
static const char *const report_errno_names[] = {
	REPORT_E(EPERM), REPORT_E(ENOENT), REPORT_E(ESRCH), REPORT_E(EINTR), REPORT_E(EIO),
	REPORT_E(ENXIO), REPORT_E(E2BIG), REPORT_E(ENOEXEC), REPORT_E(EBADF), REPORT_E(ECHILD),
	REPORT_E(EAGAIN), REPORT_E(ENOMEM), REPORT_E(EACCES), REPORT_E(EFAULT),
	REPORT_E(ENOTBLK), REPORT_E(EBUSY), REPORT_E(EEXIST), REPORT_E(EXDEV), REPORT_E(ENODEV),
	REPORT_E(ENOTDIR), REPORT_E(EISDIR), REPORT_E(EINVAL), REPORT_E(ENFILE),
	REPORT_E(EMFILE), REPORT_E(ENOTTY), REPORT_E(ETXTBSY), REPORT_E(EFBIG), REPORT_E(ENOSPC),
	REPORT_E(ESPIPE), REPORT_E(EROFS), REPORT_E(EMLINK), REPORT_E(EPIPE), REPORT_E(EDOM),
	REPORT_E(ERANGE), REPORT_E(EDEADLK), REPORT_E(ENAMETOOLONG), REPORT_E(ENOLCK),
	REPORT_E(ENOSYS), REPORT_E(ENOTEMPTY), REPORT_E(ELOOP), REPORT_E(ENOMSG),
	REPORT_E(EIDRM), REPORT_E(ENOSTR), REPORT_E(ENODATA), REPORT_E(ETIME), REPORT_E(ENOSR),
	REPORT_E(ENOLINK), REPORT_E(EPROTO), REPORT_E(EBADMSG), REPORT_E(EOVERFLOW),
	REPORT_E(EILSEQ), REPORT_E(EUSERS), REPORT_E(ENOTSOCK), REPORT_E(EDESTADDRREQ),
	REPORT_E(EMSGSIZE), REPORT_E(EPROTOTYPE), REPORT_E(ENOPROTOOPT),
	REPORT_E(EPROTONOSUPPORT), REPORT_E(ESOCKTNOSUPPORT), REPORT_E(EOPNOTSUPP),
	REPORT_E(EPFNOSUPPORT), REPORT_E(EAFNOSUPPORT), REPORT_E(EADDRINUSE),
	REPORT_E(EADDRNOTAVAIL), REPORT_E(ENETDOWN), REPORT_E(ENETUNREACH),
	REPORT_E(ENETRESET), REPORT_E(ECONNABORTED), REPORT_E(ECONNRESET), REPORT_E(ENOBUFS),
	REPORT_E(EISCONN), REPORT_E(ENOTCONN), REPORT_E(ESHUTDOWN), REPORT_E(ETOOMANYREFS),
	REPORT_E(ETIMEDOUT), REPORT_E(ECONNREFUSED), REPORT_E(EHOSTDOWN),
	REPORT_E(EHOSTUNREACH), REPORT_E(EALREADY), REPORT_E(EINPROGRESS), REPORT_E(ESTALE),
	REPORT_E(EDQUOT), REPORT_E(ECANCELED), REPORT_E(EOWNERDEAD),
	REPORT_E(ENOTRECOVERABLE), REPORT_E(ERFKILL), REPORT_E(EHWPOISON),
};
#undef REPORT_E
/* clang-format on */

/* The symbolic name of a positive errno, or "E<number>" for one not listed. */
static inline const char *errno_name(int err)
{
	static char buf[16];

	if (err > 0 && (size_t)err < sizeof(report_errno_names) / sizeof(report_errno_names[0]) &&
	    report_errno_names[err])
		return report_errno_names[err];
	snprintf(buf, sizeof(buf), "E%d", err);
	return buf;
}

/* Print the outcome line; err is 0 or a positive errno. Returns the exit status. */
static inline int report(int err, const char *reply)
{
	if (err) {
		printf("err %s\n", errno_name(err));
		return REPORT_EXIT_FAILED;
	}
	if (reply)
		printf("ok %s\n", reply);
	else
		printf("ok\n");
	return EXIT_SUCCESS;
}

#endif /* PF_TESTS_REPORT_H */
