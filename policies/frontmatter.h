/*
 * policies/frontmatter.h - YAML front matter of Markdown items as a small tree
 *
 * An item file is "---\n" YAML "---\n" body (lines end at LF, CRLF or CR).
 * The YAML becomes a tree of maps, sequences and scalars, each node
 * carrying the 1-based line of the file it came from so errors can point
 * at it. This module alone uses libyaml.
 *
 * Limits, checked before and while libyaml runs so that a peer's item
 * costs little to refuse: the front matter is at most
 * KR_FRONTMATTER_MAX_BYTES (64 KB); at most 32 levels of nesting (flow or
 * block), 100 anchors and aliases, 20,000 values and 1 MB of text once
 * aliases are expanded.
 */
#ifndef KR_FRONTMATTER_H
#define KR_FRONTMATTER_H

#include "../sharing/common.h"

#define KR_FRONTMATTER_MAX_BYTES 65536u

typedef enum { KR_YAML_SCALAR, KR_YAML_SEQ, KR_YAML_MAP } kr_yaml_type;

typedef struct kr_yaml {
	kr_yaml_type type;
	int line;
	char *value;            /* scalar text */
	int quoted;             /* the scalar was quoted: "true" is then a string */
	size_t n;
	char **keys;            /* map keys */
	struct kr_yaml **items; /* map values or sequence items */
} kr_yaml;

/*
 * Splits text into front matter and body and parses the front matter.
 * *body points into text; *body_line is its first line. Errors (KR_EPOLICY)
 * read "line N: what is wrong".
 */
int kr_frontmatter_parse(kr_yaml **out, const char *text, size_t len,
    const char **body, int *body_line);
/* 1 if text starts with a front matter fence ("---" line). */
int kr_frontmatter_present(const char *text, size_t len);
/* Map lookup; NULL if map is not a map or has no such key. */
const kr_yaml *kr_yaml_get(const kr_yaml *map, const char *key);
/* Scalar text of map[key], or NULL. */
const char *kr_yaml_str(const kr_yaml *map, const char *key);
void kr_yaml_free(kr_yaml **yp);

#endif
