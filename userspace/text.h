/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * text.h - UTF-8 checking and escaping of untrusted bytes.
 */
#ifndef PINFOLD_TEXT_H
#define PINFOLD_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/*
 * Length of the valid UTF-8 sequence at s (n bytes available), or 0 when
 * s[0] does not start one (RFC 3629: no overlongs, surrogates, or code
 * points above U+10FFFF).
 */
size_t text_utf8_seq_len(const unsigned char *s, size_t n);

/* The code point of the valid sequence s[0..len). */
uint32_t text_utf8_decode(const unsigned char *s, size_t len);

/*
 * s[0..n) as a malloc'ed NUL-terminated valid UTF-8 string, each byte
 * outside a valid sequence (and NUL) replaced by U+FFFD; *replaced says
 * whether any was. NULL with errno ENOMEM.
 */
char *text_utf8_sanitize(const char *s, size_t n, bool *replaced);

/* s[0..n) in lowercase hex, malloc'ed; NULL with errno ENOMEM. */
char *text_hex(const char *s, size_t n);

/*
 * Write s[0..n) to f so that nothing in it can act on a terminal or hide
 * text (see text.c); with quote, '"' is escaped too.
 */
void text_put_escaped(FILE *f, const char *s, size_t n, bool quote);

#endif /* PINFOLD_TEXT_H */
