// SPDX-License-Identifier: GPL-2.0-only
/*
 * text.c - UTF-8 checking and escaping for what pinfold writes: audit
 * records take raw bytes from the kernel (paths, comms) and must stay valid
 * UTF-8; lines for a terminal must carry nothing that acts on it.
 *
 * Hand-written: json-c and glibc offer no strict UTF-8 validator (json-c
 * copies bytes >= 0x80 unchecked, iconv stops at the first bad byte rather
 * than replacing each one), and these are small, exhaustively tested.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "text.h"

/*
 * Length of the valid UTF-8 sequence at s (n bytes available), or 0 when
 * s[0] does not start one. Overlong forms, surrogates and code points above
 * U+10FFFF are invalid (RFC 3629).
 */
size_t text_utf8_seq_len(const unsigned char *s, size_t n)
{
	unsigned char lo = 0x80, hi = 0xbf;
	size_t len, i;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		len = 3;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		len = 4;
	else
		return 0; /* continuation byte, overlong lead C0/C1, or above U+10FFFF */

	/* the second byte's range excludes overlongs, surrogates, > U+10FFFF */
	if (s[0] == 0xe0)
		lo = 0xa0;
	else if (s[0] == 0xed)
		hi = 0x9f;
	else if (s[0] == 0xf0)
		lo = 0x90;
	else if (s[0] == 0xf4)
		hi = 0x8f;

	if (n < len || s[1] < lo || s[1] > hi)
		return 0;
	for (i = 2; i < len; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	return len;
}

/* The code point of the valid sequence s of len bytes. */
uint32_t text_utf8_decode(const unsigned char *s, size_t len)
{
	static const unsigned char lead_mask[] = {0, 0x7f, 0x1f, 0x0f, 0x07};
	uint32_t cp = s[0] & lead_mask[len];
	size_t i;

	for (i = 1; i < len; i++)
		cp = cp << 6 | (s[i] & 0x3f);
	return cp;
}

/*
 * s[0..n) as a malloc'ed, NUL-terminated, valid UTF-8 string: each byte
 * that is not part of a valid sequence becomes U+FFFD, and *replaced says
 * whether any did. NULL when out of memory.
 */
char *text_utf8_sanitize(const char *s, size_t n, bool *replaced)
{
	const unsigned char *u = (const unsigned char *)s;
	char *out = malloc(3 * n + 1);
	size_t i = 0, o = 0, len;

	*replaced = false;
	if (!out)
		return NULL;
	while (i < n) {
		len = text_utf8_seq_len(u + i, n - i);
		if (len) {
			memcpy(out + o, u + i, len);
			o += len;
			i += len;
			continue;
		}
		memcpy(out + o, "\xef\xbf\xbd", 3);
		o += 3;
		i++;
		*replaced = true;
	}
	out[o] = '\0';
	return out;
}

char *text_hex(const char *s, size_t n)
{
	static const char digits[] = "0123456789abcdef";
	char *out = malloc(2 * n + 1);
	size_t i;

	if (!out)
		return NULL;
	for (i = 0; i < n; i++) {
		out[2 * i] = digits[(unsigned char)s[i] >> 4];
		out[2 * i + 1] = digits[(unsigned char)s[i] & 0xf];
	}
	out[2 * n] = '\0';
	return out;
}

/*
 * Characters that break or reorder lines (U+061C, U+200E/F, U+2028..202E,
 * U+2066..2069), or that show as nothing, so that two different names look
 * the same: the soft hyphen, Hangul and Mongolian fillers, zero-width
 * spaces and joiners, word joiners and invisible operators, the byte order
 * mark, interlinear annotations and tag characters.
 */
static bool is_format_control(uint32_t cp)
{
	return cp == 0x00ad || cp == 0x061c || cp == 0x115f || cp == 0x1160 || cp == 0x180e ||
	       (cp >= 0x200b && cp <= 0x200f) || (cp >= 0x2028 && cp <= 0x202e) ||
	       (cp >= 0x2060 && cp <= 0x206f) || cp == 0x3164 || cp == 0xfeff || cp == 0xffa0 ||
	       (cp >= 0xfff9 && cp <= 0xfffb) || (cp >= 0xe0000 && cp <= 0xe007f);
}

/*
 * Write s[0..n) to f so that nothing in it can act on a terminal or hide
 * text: backslash, C0 and C1 controls, DEL, bidirectional and line
 * separator characters, and bytes outside valid UTF-8 are written as \\,
 * \n, \t, \r, \xNN (a byte) or \uNNNN or \UNNNNNNNN (a character), as are
 * characters that show as nothing (is_format_control). With quote, '"' is
 * written as \" too. The result is also a YAML double-quoted body, except
 * for \xNN of invalid bytes.
 */
void text_put_escaped(FILE *f, const char *s, size_t n, bool quote)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, len;
	uint32_t cp;

	while (i < n) {
		len = text_utf8_seq_len(u + i, n - i);
		if (!len) {
			fprintf(f, "\\x%02x", u[i++]);
			continue;
		}
		cp = text_utf8_decode(u + i, len);
		if (cp == '\\' || (quote && cp == '"'))
			fprintf(f, "\\%c", (char)cp);
		else if (cp == '\n')
			fputs("\\n", f);
		else if (cp == '\t')
			fputs("\\t", f);
		else if (cp == '\r')
			fputs("\\r", f);
		else if (cp < 0x20 || cp == 0x7f)
			fprintf(f, "\\x%02x", (unsigned)cp);
		else if ((cp >= 0x80 && cp < 0xa0) || is_format_control(cp))
			fprintf(f, cp > 0xffff ? "\\U%08x" : "\\u%04x", (unsigned)cp);
		else
			fwrite(u + i, 1, len, f);
		i += len;
	}
}
