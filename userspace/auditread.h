/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * auditread.h - read an audit log's files in order, line by line.
 *
 * A log named BASE is its rotated files BASE.NNNNNNNNNNNN.gz (gzip, NNN..
 * the id of the file's first record), oldest first by that number, then
 * BASE itself, plain text. The reader hands out each line with the file and
 * line number it came from, whatever the line holds: judging it is the
 * caller's part (see docs/audit.md).
 */
#ifndef PINFOLD_AUDITREAD_H
#define PINFOLD_AUDITREAD_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>

/* The longest line handed out; a longer one is -EMSGSIZE (see auditread_next). */
#define AUDITREAD_MAX_LINE (16u << 20)

struct auditread; /* walks a log's files in order, plain and .gz, line by line */

/*
 * A reader of log base: its files as auditread_files lists them. 0, or
 * -errno with a one-line reason in err (-ENOENT: the log has no file).
 */
int auditread_open(struct auditread **r, const char *base, char *err, size_t errlen);

/*
 * A reader of the files given (NULL-terminated, copied), in that order. A
 * name ending in ".gz" is read as gzip, any other as plain text. 0 or
 * -errno with a one-line reason in err.
 */
int auditread_open_files(struct auditread **r, char *const *files, char *err, size_t errlen);

/*
 * The next line: 1 with *line (NUL-terminated, no '\n'; valid until the
 * next call; len counts a NUL inside it too), *file (the file's path),
 * *lineno (1-based) and *whole (false: the file ended without '\n'); 0 at
 * the end; -errno on a read error (a corrupt gzip too: -EBADMSG). After an
 * error the next call goes on with the next file. A line longer than
 * AUDITREAD_MAX_LINE is -EMSGSIZE, with *file and *lineno set, and the
 * next call goes on after it.
 */
int auditread_next(struct auditread *r, const char **line, size_t *len, const char **file,
		   unsigned long *lineno, bool *whole);

/*
 * Follow mode, for a file that grows (tail -f): at the end of the last
 * file a line without '\n' is held back instead of handed out, and a later
 * auditread_next returns what was appended since. Plain files only.
 */
void auditread_set_follow(struct auditread *r, bool follow);

/*
 * The file being read (the last one, at the end) as fstat sees it, to tell
 * whether its path now names another file. 0 or -errno (-ENOENT: none open).
 */
int auditread_stat(const struct auditread *r, struct stat *st);

void auditread_close(struct auditread *r);

/*
 * The files of log base in order (rotated by number, then base), those that
 * exist, NULL-terminated; of a rotated file that is there both plain and
 * compressed, the plain one (a reader that finds it gone by the time it
 * opens it reads its .gz), malloc'ed (free with auditread_files_free); NULL
 * with errno when the directory cannot be read or memory runs out.
 */
char **auditread_files(const char *base);

void auditread_files_free(char **files);

/*
 * The number in a rotated file's name (BASE.NNNNNNNNNNNN.gz, or
 * BASE.NNNNNNNNNNNN while it waits to be compressed), the id of its first
 * record; 0 when name is not one of base's rotated files.
 */
unsigned long long auditread_rotated_number(const char *base, const char *name);

#endif /* PINFOLD_AUDITREAD_H */
