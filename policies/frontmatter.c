/*
 * policies/frontmatter.c - front matter parsing over libyaml's document API
 *
 * libyaml resolves aliases to shared nodes; copying them into a tree could
 * grow exponentially ("billion laughs"), so the copy is capped at
 * NODE_LIMIT nodes and the nesting at DEPTH_LIMIT.
 */
#include "frontmatter.h"

#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#define NODE_LIMIT 20000
#define DEPTH_LIMIT 32

int
kr_frontmatter_present(const char *text, size_t len)
{
	if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0) {
		text += 3;
		len -= 3;
	}
	return len >= 4 && memcmp(text, "---", 3) == 0 && (text[3] == '\n' || text[3] == '\r');
}

static kr_yaml *
s_copy(yaml_document_t *doc, yaml_node_t *node, int line_offset, int depth, size_t *budget, int *err)
{
	kr_yaml *y;

	if (!node || depth > DEPTH_LIMIT || (*budget)-- == 0) {
		*err = 1;
		return NULL;
	}
	y = kr_calloc(1, sizeof(*y));
	y->line = (int)node->start_mark.line + line_offset;
	switch (node->type) {
	case YAML_SCALAR_NODE:
		y->type = KR_YAML_SCALAR;
		y->value = kr_strndup((const char *)node->data.scalar.value, node->data.scalar.length);
		y->quoted = node->data.scalar.style == YAML_SINGLE_QUOTED_SCALAR_STYLE ||
		    node->data.scalar.style == YAML_DOUBLE_QUOTED_SCALAR_STYLE;
		break;
	case YAML_SEQUENCE_NODE: {
		yaml_node_item_t *it = node->data.sequence.items.start;
		y->type = KR_YAML_SEQ;
		y->n = (size_t)(node->data.sequence.items.top - it);
		y->items = kr_calloc(y->n, sizeof(*y->items));
		for (size_t i = 0; i < y->n && !*err; i++)
			y->items[i] = s_copy(doc, yaml_document_get_node(doc, it[i]), line_offset, depth + 1, budget, err);
		break;
	}
	case YAML_MAPPING_NODE: {
		yaml_node_pair_t *p = node->data.mapping.pairs.start;
		y->type = KR_YAML_MAP;
		y->n = (size_t)(node->data.mapping.pairs.top - p);
		y->keys = kr_calloc(y->n, sizeof(*y->keys));
		y->items = kr_calloc(y->n, sizeof(*y->items));
		for (size_t i = 0; i < y->n && !*err; i++) {
			yaml_node_t *k = yaml_document_get_node(doc, p[i].key);
			if (!k || k->type != YAML_SCALAR_NODE) {
				*err = 2;
				y->line = k ? (int)k->start_mark.line + line_offset : y->line;
				break;
			}
			y->keys[i] = kr_strndup((const char *)k->data.scalar.value, k->data.scalar.length);
			y->items[i] = s_copy(doc, yaml_document_get_node(doc, p[i].value), line_offset, depth + 1, budget, err);
		}
		break;
	}
	default:
		y->type = KR_YAML_SCALAR;
		y->value = kr_strdup("");
	}
	return y;
}

int
kr_frontmatter_parse(kr_yaml **out, const char *text, size_t len,
    const char **body, int *body_line)
{
	yaml_parser_t parser;
	yaml_document_t doc;
	const char *start, *end = NULL, *p;
	size_t budget = NODE_LIMIT;
	int line = 2, err = 0, rc = 0;
	yaml_node_t *root;

	*out = NULL;
	if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0) {
		text += 3;
		len -= 3;
	}
	if (!kr_frontmatter_present(text, len))
		return kr_error(KR_EPOLICY, "line 1: no front matter (the file must start with a '---' line)");
	if (memchr(text, '\0', len))
		return kr_error(KR_EPOLICY, "the file contains a NUL byte (not a text file)");
	start = (const char *)memchr(text, '\n', len) + 1;
	for (p = start; p < text + len; line++) {
		const char *nl = memchr(p, '\n', (size_t)(text + len - p));
		size_t l = nl ? (size_t)(nl - p) : (size_t)(text + len - p);
		if (l && p[l - 1] == '\r')
			l--;
		if (l == 3 && memcmp(p, "---", 3) == 0) {
			end = p;
			*body = nl ? nl + 1 : text + len;
			*body_line = line + 1;
			break;
		}
		if (!nl)
			break;
		p = nl + 1;
	}
	if (!end)
		return kr_error(KR_EPOLICY, "line 1: front matter is not closed (add a '---' line after it)");

	yaml_parser_initialize(&parser);
	yaml_parser_set_input_string(&parser, (const unsigned char *)start, (size_t)(end - start));
	if (!yaml_parser_load(&parser, &doc)) {
		rc = kr_error(KR_EPOLICY, "line %d: front matter is not valid YAML: %s",
		    (int)parser.problem_mark.line + 2, parser.problem ? parser.problem : "syntax error");
		yaml_parser_delete(&parser);
		return rc;
	}
	root = yaml_document_get_root_node(&doc);
	if (!root || root->type != YAML_MAPPING_NODE) {
		rc = kr_error(KR_EPOLICY, "line 2: front matter must be a mapping of fields (key: value)");
	} else {
		*out = s_copy(&doc, root, 2, 0, &budget, &err);
		if (err) {
			rc = kr_error(KR_EPOLICY, err == 2 ? "front matter keys must be plain words"
			    : "front matter is too large or too deeply nested");
			kr_yaml_free(out);
		}
	}
	yaml_document_delete(&doc);
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
