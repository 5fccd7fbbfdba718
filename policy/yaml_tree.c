// SPDX-License-Identifier: GPL-2.0-only
/*
 * yaml_tree.c - one YAML document as a tree of nodes, read literally.
 *
 * libyaml's event API gives every node its place. Anchors, aliases, tags
 * and a second document are refused as they are read, so that what the
 * schema checker sees is exactly what a reviewer reads.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "yaml_tree.h"

struct reader {
	yaml_parser_t parser;
	const char *buf;
	size_t len;
	struct policy_error *err;
};

void ynode_free(struct ynode *n)
{
	size_t i;

	if (!n)
		return;
	for (i = 0; i < n->n_kids; i++)
		ynode_free(n->kids[i]);
	free(n->kids);
	free(n->text);
	free(n);
}

static int node_add_kid(struct ynode *n, struct ynode *kid)
{
	if (n->n_kids == n->cap) {
		size_t cap = n->cap ? 2 * n->cap : 8;
		struct ynode **kids = realloc(n->kids, cap * sizeof(*kids));

		if (!kids)
			return -ENOMEM;
		n->kids = kids;
		n->cap = cap;
	}
	n->kids[n->n_kids++] = kid;
	return 0;
}

/* Line and column of byte offset off, for reader errors, which carry no mark. */
static void offset_place(const struct reader *r, size_t off, unsigned *line, unsigned *column)
{
	size_t i;

	*line = 1;
	*column = 1;
	for (i = 0; i < off && i < r->len; i++) {
		if (r->buf[i] == '\n') {
			(*line)++;
			*column = 1;
		} else if (((unsigned char)r->buf[i] & 0xc0) != 0x80) {
			(*column)++;
		}
	}
}

static int yaml_failed(struct reader *r)
{
	const yaml_parser_t *y = &r->parser;
	const char *problem = y->problem ? y->problem : "unknown error";
	unsigned line, column;

	if (y->error == YAML_MEMORY_ERROR) {
		policy_error_set(r->err, 0, 0, "out of memory");
		return -ENOMEM;
	}
	if (y->error == YAML_READER_ERROR) {
		offset_place(r, y->problem_offset, &line, &column);
		return policy_error_set(r->err, line, column, "invalid YAML text: %s", problem);
	}
	if (y->context)
		return policy_error_set(r->err, y->problem_mark.line + 1,
					y->problem_mark.column + 1, "invalid YAML: %s %s (%zu:%zu)",
					problem, y->context, y->context_mark.line + 1,
					y->context_mark.column + 1);
	return policy_error_set(r->err, y->problem_mark.line + 1, y->problem_mark.column + 1,
				"invalid YAML: %s", problem);
}

static int next_event(struct reader *r, yaml_event_t *ev)
{
	if (!yaml_parser_parse(&r->parser, ev))
		return yaml_failed(r);
	return 0;
}

/* Refuse what would make the text mean something other than it reads. */
static int check_literal(struct reader *r, const yaml_event_t *ev)
{
	const yaml_char_t *anchor = NULL, *tag = NULL;
	unsigned line = ev->start_mark.line + 1, column = ev->start_mark.column + 1;

	if (ev->type == YAML_ALIAS_EVENT)
		anchor = ev->data.alias.anchor;
	if (ev->type == YAML_SCALAR_EVENT) {
		anchor = ev->data.scalar.anchor;
		tag = ev->data.scalar.tag;
	} else if (ev->type == YAML_SEQUENCE_START_EVENT) {
		anchor = ev->data.sequence_start.anchor;
		tag = ev->data.sequence_start.tag;
	} else if (ev->type == YAML_MAPPING_START_EVENT) {
		anchor = ev->data.mapping_start.anchor;
		tag = ev->data.mapping_start.tag;
	}
	if (anchor || ev->type == YAML_ALIAS_EVENT)
		return policy_error_set(
			r->err, line, column,
			"YAML anchors and aliases are not allowed: a reviewer must be able to read the policy literally, every rule written out where it applies");
	if (tag)
		return policy_error_set(
			r->err, line, column,
			"YAML tags are not allowed: a reviewer must be able to read the policy literally");
	return 0;
}

static int build_node(struct reader *r, const yaml_event_t *ev, unsigned depth, struct ynode **out);

/* The kids of a sequence or mapping, up to its end event. */
static int build_kids(struct reader *r, struct ynode *n, yaml_event_type_t end, unsigned depth)
{
	yaml_event_t ev;
	struct ynode *kid;
	int err;

	for (;;) {
		err = next_event(r, &ev);
		if (err)
			return err;
		if (ev.type == end) {
			yaml_event_delete(&ev);
			return 0;
		}
		err = build_node(r, &ev, depth + 1, &kid);
		yaml_event_delete(&ev);
		if (err)
			return err;
		err = node_add_kid(n, kid);
		if (err) {
			ynode_free(kid);
			return err;
		}
	}
}

/* The node that starts with event ev, read to its end. */
static int build_node(struct reader *r, const yaml_event_t *ev, unsigned depth, struct ynode **out)
{
	struct ynode *n;
	int err;

	err = check_literal(r, ev);
	if (err)
		return err;
	if (depth > YNODE_NEST_MAX)
		return policy_error_set(r->err, ev->start_mark.line + 1, ev->start_mark.column + 1,
					"nested too deeply: at most %d levels", YNODE_NEST_MAX);

	n = calloc(1, sizeof(*n));
	if (!n)
		return -ENOMEM;
	n->line = ev->start_mark.line + 1;
	n->column = ev->start_mark.column + 1;

	switch (ev->type) {
	case YAML_SCALAR_EVENT:
		n->kind = YNODE_SCALAR;
		n->len = ev->data.scalar.length;
		n->plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
		n->text = malloc(n->len + 1);
		if (!n->text) {
			err = -ENOMEM;
			break;
		}
		memcpy(n->text, ev->data.scalar.value, n->len);
		n->text[n->len] = '\0';
		if (strlen(n->text) != n->len)
			err = policy_error_set(r->err, n->line, n->column, "NUL byte in a value");
		break;
	case YAML_SEQUENCE_START_EVENT:
		n->kind = YNODE_SEQUENCE;
		err = build_kids(r, n, YAML_SEQUENCE_END_EVENT, depth);
		break;
	case YAML_MAPPING_START_EVENT:
		n->kind = YNODE_MAPPING;
		err = build_kids(r, n, YAML_MAPPING_END_EVENT, depth);
		break;
	default:
		err = policy_error_set(r->err, n->line, n->column,
				       "invalid YAML: unexpected event %d", ev->type);
		break;
	}
	if (err) {
		ynode_free(n);
		return err;
	}
	*out = n;
	return 0;
}

/*
 * The one document of the stream, or NULL when the stream holds none. A
 * second document is an error: it would be easy to overlook in review.
 */
static int build_document(struct reader *r, struct ynode **root)
{
	yaml_event_t ev;
	int err;

	*root = NULL;
	for (;;) {
		err = next_event(r, &ev);
		if (err)
			goto fail;
		if (ev.type == YAML_STREAM_END_EVENT)
			break;
		if (ev.type == YAML_DOCUMENT_START_EVENT && *root) {
			err = policy_error_set(
				r->err, ev.start_mark.line + 1, ev.start_mark.column + 1,
				"a second YAML document is not allowed: a policy is one document, so that a reviewer reads all of it");
			yaml_event_delete(&ev);
			goto fail;
		}
		if (ev.type == YAML_SCALAR_EVENT || ev.type == YAML_SEQUENCE_START_EVENT ||
		    ev.type == YAML_MAPPING_START_EVENT || ev.type == YAML_ALIAS_EVENT) {
			err = build_node(r, &ev, 1, root);
			if (err) {
				yaml_event_delete(&ev);
				goto fail;
			}
		}
		yaml_event_delete(&ev);
	}
	yaml_event_delete(&ev);
	return 0;
fail:
	ynode_free(*root);
	*root = NULL;
	return err;
}

int ynode_read(const char *buf, size_t len, struct ynode **root, struct policy_error *err)
{
	struct reader r = {.buf = buf, .len = len, .err = err};
	int rc;

	*root = NULL;
	if (!yaml_parser_initialize(&r.parser))
		return -ENOMEM;
	yaml_parser_set_input_string(&r.parser, (const unsigned char *)buf, len);
	rc = build_document(&r, root);
	yaml_parser_delete(&r.parser);
	return rc;
}

/* ---- helpers for schema checkers ---- */

#define fail_node(err, n, ...) policy_error_set(err, (n)->line, (n)->column, __VA_ARGS__)

const char *ynode_quote(char *buf, size_t size, const char *s, size_t len)
{
	size_t o = 0, i;

	buf[o++] = '"';
	for (i = 0; i < len && o + 8 < size; i++) {
		unsigned char c = (unsigned char)s[i];

		if (i == YNODE_QUOTE_MAX) {
			o += snprintf(buf + o, size - o, "...");
			break;
		}
		if (c == '"' || c == '\\')
			o += snprintf(buf + o, size - o, "\\%c", c);
		else if (c < 0x20 || c >= 0x7f)
			o += snprintf(buf + o, size - o, "\\x%02x", c);
		else
			buf[o++] = (char)c;
	}
	buf[o++] = '"';
	buf[o] = '\0';
	return buf;
}

bool ynode_is_empty(const struct ynode *n)
{
	return n->kind == YNODE_SCALAR && n->plain && n->len == 0;
}

const char *ynode_found(char *buf, size_t size, const struct ynode *n)
{
	if (n->kind == YNODE_MAPPING)
		return "a mapping";
	if (n->kind == YNODE_SEQUENCE)
		return "a sequence";
	if (ynode_is_empty(n))
		return "an empty value";
	return ynode_quote(buf, size, n->text, n->len);
}

int ynode_need_scalar(struct policy_error *err, const struct ynode *n, const char *what)
{
	char q[YNODE_QUOTE_SIZE];

	if (n->kind != YNODE_SCALAR || ynode_is_empty(n))
		return fail_node(err, n, "expected %s, found %s", what,
				 ynode_found(q, sizeof(q), n));
	return 0;
}

static void field_list(char *buf, size_t size, const struct ynode_field *fields, size_t n_fields)
{
	size_t i, o = 0;

	buf[0] = '\0';
	for (i = 0; i < n_fields && o < size; i++)
		o += snprintf(buf + o, size - o, "%s%s", i ? ", " : "", fields[i].key);
}

int ynode_get_fields(struct policy_error *err, const struct ynode *map, const char *what,
		     const struct ynode_field *fields, size_t n_fields, const struct ynode **vals)
{
	const struct ynode *keys[YNODE_FIELDS_MAX] = {0};
	char q[YNODE_QUOTE_SIZE], list[128];
	size_t i, f;

	if (n_fields > YNODE_FIELDS_MAX)
		return -E2BIG;
	if (map->kind != YNODE_MAPPING)
		return fail_node(err, map, "expected a mapping for %s, found %s", what,
				 ynode_found(q, sizeof(q), map));
	for (f = 0; f < n_fields; f++)
		vals[f] = NULL;

	for (i = 0; i + 1 < map->n_kids; i += 2) {
		const struct ynode *key = map->kids[i];

		if (key->kind != YNODE_SCALAR)
			return fail_node(err, key, "expected a key in %s, found %s", what,
					 ynode_found(q, sizeof(q), key));
		for (f = 0; f < n_fields; f++)
			if (!strcmp(key->text, fields[f].key))
				break;
		if (f == n_fields) {
			field_list(list, sizeof(list), fields, n_fields);
			return fail_node(err, key, "unknown key %s in %s: expected one of %s",
					 ynode_quote(q, sizeof(q), key->text, key->len), what,
					 list);
		}
		if (vals[f])
			return fail_node(err, key, "duplicate key \"%s\" in %s, first at %u:%u",
					 fields[f].key, what, keys[f]->line, keys[f]->column);
		keys[f] = key;
		vals[f] = map->kids[i + 1];
	}

	for (f = 0; f < n_fields; f++)
		if (fields[f].required && !vals[f])
			return fail_node(err, map, "missing key \"%s\" in %s", fields[f].key, what);
	return 0;
}

int ynode_bool(struct policy_error *err, const struct ynode *n, const char *key, bool *out)
{
	char q[YNODE_QUOTE_SIZE];

	if (n->kind == YNODE_SCALAR && n->plain && !strcmp(n->text, "true")) {
		*out = true;
		return 0;
	}
	if (n->kind == YNODE_SCALAR && n->plain && !strcmp(n->text, "false")) {
		*out = false;
		return 0;
	}
	return fail_node(err, n, "expected true or false for %s, found %s", key,
			 ynode_found(q, sizeof(q), n));
}
