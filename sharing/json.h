/*
 * sharing/json.h - JSON read and written: the project's one jansson user
 *
 * Two ways to read. kr_json_walk visits a document as (path, scalar)
 * pairs: object keys joined with ".", array items as "[i]", e.g.
 * retrieval_setting.top_k, metadata_condition.conditions[0].name (request
 * bodies of POST /retrieval and CKAN actions, dataset rows for the
 * viewer); the walk stops at depth 32, so a hostile body cannot exhaust
 * the stack. kr_json_parse gives a tree asked by key with typed getters
 * (identity cards, dataset rows). One writer: kr_json_object, kr_json_set*,
 * kr_json_dump (compact, keys in the order they were set).
 *
 * Ownership: kr_json_parse and kr_json_object return a tree the caller
 * frees with kr_json_free; every const kr_json * and const char * read
 * from it is borrowed and lives until the tree is freed. Any thread: no
 * shared state (jansson allocates per call).
 */
#ifndef KR_JSON_H
#define KR_JSON_H

#include "common.h"

/* kinds of values, as kr_json_type and the walk callback report them */
enum {
	KR_JSON_STRING = 's', KR_JSON_NUMBER = 'n', KR_JSON_BOOL = 'b', KR_JSON_NULL = 'z',
	KR_JSON_OBJECT = '{', KR_JSON_ARRAY = '['
};

/* value: the string, or the number/true/false/null as text. Non-zero return stops the walk. */
typedef int (*kr_json_cb)(void *arg, const char *path, const char *value, int type);

/*
 * Walks json (len bytes); *toplevel gets '{', '[' or 0 for a scalar.
 * KR_EPROTO with jansson's message ("line 1 column 7: …") for invalid JSON
 * or a document nested deeper than 32.
 */
int kr_json_walk(const char *json, size_t len, int *toplevel, kr_json_cb cb, void *arg);

typedef struct kr_json kr_json;

/* Where a parse failed: line and column (from 1) and jansson's message. */
typedef struct {
	int line, column;
	char text[160];
} kr_json_where;

enum {
	KR_JSON_ANY = 1,     /* any value at the top, not only an object or an array */
	KR_JSON_DUPKEYS = 2  /* a key given twice in one object is accepted (the last wins) */
};

/*
 * Parses len bytes of text into *out (caller frees: kr_json_free).
 * KR_EPROTO "line L column C: MESSAGE" for invalid JSON, a top-level scalar
 * without KR_JSON_ANY or a repeated key without KR_JSON_DUPKEYS; then *out
 * is NULL and where, if given, says where.
 */
int kr_json_parse(kr_json **out, const char *text, size_t len, int flags, kr_json_where *where);
/* NULL-safe; sets *jp = NULL. */
void kr_json_free(kr_json **jp);

/* KR_JSON_OBJECT, _ARRAY, _STRING, _NUMBER, _BOOL or _NULL; 0 for a NULL v. */
int kr_json_type(const kr_json *v);
/* The member key of o; NULL when o is not an object or has no such key. */
const kr_json *kr_json_get(const kr_json *o, const char *key);
/* v's text when v is a string, else NULL. */
const char *kr_json_string(const kr_json *v);
/* kr_json_string(kr_json_get(o, key)): the member if it is a string. */
const char *kr_json_str(const kr_json *o, const char *key);
/* Items of an array (0 for anything else), and item i of it. */
size_t kr_json_size(const kr_json *a);
const kr_json *kr_json_at(const kr_json *a, size_t i);
/*
 * The members of object o in order:
 *   for (void *it = kr_json_next(o, NULL, &k, &v); it; it = kr_json_next(o, it, &k, &v))
 * NULL at the end, or at once when o is not an object.
 */
void *kr_json_next(const kr_json *o, void *it, const char **key, const kr_json **v);

/* A new empty object, to be filled with the kr_json_set* calls below. */
kr_json *kr_json_object(void);
/* Sets key of o to the string s; nothing is set when s is NULL or not UTF-8. */
void kr_json_set_str(kr_json *o, const char *key, const char *s);
/* Sets key of o to v (shared with v's tree, which must outlive o's use). */
void kr_json_set(kr_json *o, const char *key, const kr_json *v);
/* Sets key of o to *vp, which o now owns; *vp = NULL. */
void kr_json_set_new(kr_json *o, const char *key, kr_json **vp);
/* Appends v as compact JSON (no spaces, keys in order), or "null" when it cannot be encoded. */
void kr_json_dump(kr_buf *out, const kr_json *v);

#endif
