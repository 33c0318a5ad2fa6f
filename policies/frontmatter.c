/*
 * policies/frontmatter.c - front matter parsing over libyaml's event API
 *
 * What a peer sends is parsed here before anything else looks at it, so
 * the cost is bounded before libyaml runs and while it runs:
 *
 *   - the front matter is at most KR_FRONTMATTER_MAX_BYTES, checked while
 *     looking for the closing fence, before libyaml sees a byte;
 *   - the tree is built from parser events, never with yaml_parser_load():
 *     its composer registers anchors in a list searched linearly (tens of
 *     thousands of anchors cost tens of seconds). Nesting deeper than
 *     DEPTH_LIMIT, more than ALIAS_LIMIT anchors and aliases, or more than
 *     NODE_LIMIT values or BYTES_LIMIT of text (aliases are copied, so
 *     "billion laughs" counts in full) stop the parse at the event that
 *     crossed the line;
 *   - libyaml's scanner looks at most 1,024 characters ahead for a simple
 *     key, so stopping at depth 32 also bounds its per-token work.
 *
 * Lines end at LF, CRLF or CR (policies/lines.h), as libyaml counts them.
 * No recursion deeper than DEPTH_LIMIT. Thread-safe (no shared state).
 */
#include "frontmatter.h"

#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "lines.h"

#define NODE_LIMIT 20000
#define DEPTH_LIMIT 32
#define ALIAS_LIMIT 100
#define BYTES_LIMIT (1u << 20)   /* text after aliases are expanded */

int
kr_frontmatter_present(const char *text, size_t len)
{
	if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0) {
		text += 3;
		len -= 3;
	}
	return len >= 4 && memcmp(text, "---", 3) == 0 && (text[3] == '\n' || text[3] == '\r');
}

typedef struct {
	kr_yaml *node;          /* the open sequence or mapping */
	char *key;              /* mapping: the key whose value comes next */
	char *anchor;           /* registered when the collection closes */
} s_frame;

typedef struct {
	char *name;
	const kr_yaml *node;    /* a collection in the tree, or own */
	kr_yaml *own;           /* an anchored scalar's copy (it may become a key) */
} s_anchor;

typedef struct {
	int line_offset;
	size_t budget;          /* values left to create */
	size_t bytes;           /* scalar bytes left to create */
	s_frame stack[DEPTH_LIMIT + 1];
	int depth;
	s_anchor anchors[ALIAS_LIMIT];
	size_t nanchors, naliases;
	kr_yaml *root;
	int line;               /* of the event that failed */
	const char *why;        /* static text of a failure */
	char *alias;            /* the alias that names no anchor */
} s_builder;

/* Appends to a node's arrays, doubling at powers of two. */
static void
s_append(kr_yaml *y, char *key, kr_yaml *item)
{
	if (y->n == 0 || (y->n >= 4 && (y->n & (y->n - 1)) == 0)) {
		size_t cap = y->n ? y->n * 2 : 4;
		y->items = kr_realloc(y->items, cap * sizeof(*y->items));
		if (y->type == KR_YAML_MAP)
			y->keys = kr_realloc(y->keys, cap * sizeof(*y->keys));
	}
	if (y->type == KR_YAML_MAP)
		y->keys[y->n] = key;
	y->items[y->n++] = item;
}

static kr_yaml *
s_node(s_builder *b, kr_yaml_type type, const yaml_mark_t *mark)
{
	kr_yaml *y;

	if (b->budget == 0) {
		b->why = "front matter has more than 20000 values (keep it to the fields of CONTENT.md)";
		return NULL;
	}
	b->budget--;
	y = kr_calloc(1, sizeof(*y));
	y->type = type;
	y->line = (int)mark->line + b->line_offset;
	return y;
}

/* Sets a scalar's text, charged to the byte budget (aliases copy text). */
static int
s_value(s_builder *b, kr_yaml *y, const char *v, size_t len)
{
	if (len > b->bytes) {
		b->why = "front matter expands to more than 1 MB of text through aliases";
		return -1;
	}
	b->bytes -= len;
	y->value = kr_strndup(v, len);
	return 0;
}

/* A copy of an anchored node for an alias, at depth; charged to the budgets. */
static kr_yaml *
s_clone(s_builder *b, const kr_yaml *src, int depth)
{
	yaml_mark_t mark = { 0 };
	kr_yaml *y;

	if (depth > DEPTH_LIMIT) {
		b->why = "front matter is nested more than 32 levels deep";
		return NULL;
	}
	mark.line = (size_t)(src->line - b->line_offset);
	if (!(y = s_node(b, src->type, &mark)))
		return NULL;
	y->quoted = src->quoted;
	if (src->value && s_value(b, y, src->value, strlen(src->value)) < 0) {
		kr_yaml_free(&y);
		return NULL;
	}
	for (size_t i = 0; i < src->n; i++) {
		kr_yaml *c = s_clone(b, src->items[i], depth + 1);
		if (!c) {
			kr_yaml_free(&y);
			return NULL;
		}
		s_append(y, src->type == KR_YAML_MAP ? kr_strdup(src->keys[i]) : NULL, c);
	}
	return y;
}

/* Puts a finished node where it belongs: root, sequence item, map key or value. */
static int
s_place(s_builder *b, kr_yaml *y)
{
	s_frame *top;

	if (b->depth == 0) {
		if (!b->root)
			b->root = y;
		else
			kr_yaml_free(&y);
		return 0;
	}
	top = &b->stack[b->depth - 1];
	if (top->node->type == KR_YAML_SEQ) {
		s_append(top->node, NULL, y);
	} else if (!top->key) {
		if (y->type != KR_YAML_SCALAR) {
			b->why = "front matter keys must be plain words";
			kr_yaml_free(&y);
			return -1;
		}
		top->key = y->value ? y->value : kr_strdup("");
		y->value = NULL;
		kr_yaml_free(&y);
	} else {
		s_append(top->node, top->key, y);
		top->key = NULL;
	}
	return 0;
}

/* Registers an anchor; a scalar's is kept as a copy of its own. */
static int
s_anchor_add(s_builder *b, const yaml_char_t *name, const kr_yaml *y)
{
	s_anchor *a;

	if (!name)
		return 0;
	if (b->nanchors + b->naliases >= ALIAS_LIMIT) {
		b->why = "front matter uses more than 100 YAML anchors and aliases";
		return -1;
	}
	a = &b->anchors[b->nanchors++];
	a->name = kr_strdup((const char *)name);
	if (y->type == KR_YAML_SCALAR) {
		a->own = kr_calloc(1, sizeof(*a->own));
		*a->own = *y;
		a->own->value = kr_strdup(y->value);
		a->node = a->own;
	} else {
		a->node = y;
	}
	return 0;
}

/* Handles one parser event; -1 with b->why set stops the parse. */
static int
s_event(s_builder *b, const yaml_event_t *ev)
{
	kr_yaml *y;

	b->line = (int)ev->start_mark.line + b->line_offset;
	switch (ev->type) {
	case YAML_SCALAR_EVENT:
		if (!(y = s_node(b, KR_YAML_SCALAR, &ev->start_mark)))
			return -1;
		if (s_value(b, y, (const char *)ev->data.scalar.value, ev->data.scalar.length) < 0) {
			kr_yaml_free(&y);
			return -1;
		}
		y->quoted = ev->data.scalar.style == YAML_SINGLE_QUOTED_SCALAR_STYLE ||
		    ev->data.scalar.style == YAML_DOUBLE_QUOTED_SCALAR_STYLE;
		if (s_anchor_add(b, ev->data.scalar.anchor, y) < 0) {
			kr_yaml_free(&y);
			return -1;
		}
		return s_place(b, y);
	case YAML_SEQUENCE_START_EVENT:
	case YAML_MAPPING_START_EVENT: {
		const yaml_char_t *anchor = ev->type == YAML_SEQUENCE_START_EVENT ?
		    ev->data.sequence_start.anchor : ev->data.mapping_start.anchor;
		if (b->depth >= DEPTH_LIMIT) {
			b->why = "front matter is nested more than 32 levels deep";
			return -1;
		}
		if (!(y = s_node(b, ev->type == YAML_SEQUENCE_START_EVENT ? KR_YAML_SEQ : KR_YAML_MAP,
		    &ev->start_mark)))
			return -1;
		if (anchor && b->nanchors + b->naliases >= ALIAS_LIMIT) {
			b->why = "front matter uses more than 100 YAML anchors and aliases";
			kr_yaml_free(&y);
			return -1;
		}
		/* attached now (the parent owns it), completed as events arrive */
		if (s_place(b, y) < 0)
			return -1;
		b->stack[b->depth].node = y;
		b->stack[b->depth].key = NULL;
		b->stack[b->depth].anchor = anchor ? kr_strdup((const char *)anchor) : NULL;
		b->depth++;
		return 0;
	}
	case YAML_SEQUENCE_END_EVENT:
	case YAML_MAPPING_END_EVENT: {
		s_frame *top = &b->stack[--b->depth];
		int rc = 0;
		free(top->key); /* a key without a value cannot happen in valid YAML */
		top->key = NULL;
		if (top->anchor)
			rc = s_anchor_add(b, (const yaml_char_t *)top->anchor, top->node);
		free(top->anchor);
		top->anchor = NULL;
		return rc;
	}
	case YAML_ALIAS_EVENT: {
		const kr_yaml *src = NULL;
		if (b->nanchors + b->naliases >= ALIAS_LIMIT) {
			b->why = "front matter uses more than 100 YAML anchors and aliases";
			return -1;
		}
		b->naliases++;
		for (size_t i = b->nanchors; i-- > 0 && !src;)
			if (strcmp(b->anchors[i].name, (const char *)ev->data.alias.anchor) == 0)
				src = b->anchors[i].node;
		if (!src) {
			b->why = "front matter uses an alias that names no complete anchor before it";
			b->alias = kr_strdup((const char *)ev->data.alias.anchor);
			return -1;
		}
		if (!(y = s_clone(b, src, b->depth)))
			return -1;
		return s_place(b, y);
	}
	default:
		return 0;
	}
}

static void
s_builder_clear(s_builder *b)
{
	for (int i = 0; i < b->depth; i++) {
		free(b->stack[i].key);
		free(b->stack[i].anchor);
	}
	for (size_t i = 0; i < b->nanchors; i++) {
		free(b->anchors[i].name);
		kr_yaml_free(&b->anchors[i].own);
	}
	free(b->alias);
}

/*
 * Finds the closing fence. start is the first line of the YAML (line 2).
 * Returns the end of the YAML, or NULL with the error set.
 */
static const char *
s_fence(const char *start, const char *end, const char **body, int *body_line)
{
	const char *p = start, *next;
	int line = 2;

	for (; p < end; p = next, line++) {
		size_t l = kr_line(p, end, &next);
		if (l == 3 && memcmp(p, "---", 3) == 0) {
			*body = next;
			*body_line = line + 1;
			return p;
		}
		if ((size_t)(next - start) > KR_FRONTMATTER_MAX_BYTES)
			break; /* this line crossed the limit */
	}
	if (p < end) {
		kr_error(KR_EPOLICY, "line %d: front matter is longer than %u bytes (the limit; put long text "
		    "in the body after the closing '---')", line, (unsigned)KR_FRONTMATTER_MAX_BYTES);
		return NULL;
	}
	kr_error(KR_EPOLICY, "line 1: front matter is not closed (add a '---' line after it)");
	return NULL;
}

int
kr_frontmatter_parse(kr_yaml **out, const char *text, size_t len,
    const char **body, int *body_line)
{
	yaml_parser_t parser;
	s_builder b;
	const char *start, *end, *fin = text + len;
	int rc = 0, done = 0;

	*out = NULL;
	if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0) {
		text += 3;
		len -= 3;
	}
	if (!kr_frontmatter_present(text, len))
		return kr_error(KR_EPOLICY, "line 1: no front matter (the file must start with a '---' line)");
	if (memchr(text, '\0', len))
		return kr_error(KR_EPOLICY, "the file contains a NUL byte (not a text file)");
	kr_line(text, fin, &start);
	if (!(end = s_fence(start, fin, body, body_line)))
		return KR_EPOLICY;

	memset(&b, 0, sizeof(b));
	b.line_offset = 2;
	b.budget = NODE_LIMIT;
	b.bytes = BYTES_LIMIT;
	yaml_parser_initialize(&parser);
	yaml_parser_set_input_string(&parser, (const unsigned char *)start, (size_t)(end - start));
	while (!done && rc == 0) {
		yaml_event_t ev;
		if (!yaml_parser_parse(&parser, &ev)) {
			rc = kr_error(KR_EPOLICY, "line %d: front matter is not valid YAML: %s",
			    (int)parser.problem_mark.line + 2, parser.problem ? parser.problem : "syntax error");
			break;
		}
		/* the first document only, as a front matter has one */
		done = ev.type == YAML_DOCUMENT_END_EVENT || ev.type == YAML_STREAM_END_EVENT;
		if (s_event(&b, &ev) < 0) {
			rc = b.alias ? kr_error(KR_EPOLICY, "line %d: %s (*%s)", b.line, b.why, b.alias)
			             : kr_error(KR_EPOLICY, "line %d: %s", b.line, b.why);
		}
		yaml_event_delete(&ev);
	}
	if (rc == 0 && (!b.root || b.root->type != KR_YAML_MAP))
		rc = kr_error(KR_EPOLICY, "line 2: front matter must be a mapping of fields (key: value)");
	if (rc == 0)
		*out = b.root;
	else
		kr_yaml_free(&b.root);
	s_builder_clear(&b);
	yaml_parser_delete(&parser);
	return rc;
}

const kr_yaml *
kr_yaml_get(const kr_yaml *map, const char *key)
{
	if (!map || map->type != KR_YAML_MAP)
		return NULL;
	for (size_t i = 0; i < map->n; i++)
		if (map->keys[i] && strcmp(map->keys[i], key) == 0)
			return map->items[i];
	return NULL;
}

const char *
kr_yaml_str(const kr_yaml *map, const char *key)
{
	const kr_yaml *v = kr_yaml_get(map, key);

	return v && v->type == KR_YAML_SCALAR ? v->value : NULL;
}

void
kr_yaml_free(kr_yaml **yp)
{
	kr_yaml *y;

	if (!yp || !*yp)
		return;
	y = *yp;
	for (size_t i = 0; i < y->n; i++) {
		if (y->keys)
			free(y->keys[i]);
		if (y->items)
			kr_yaml_free(&y->items[i]);
	}
	free(y->keys);
	free(y->items);
	free(y->value);
	free(y);
	*yp = NULL;
}
