/*
 * sharing/json.c - JSON read and written; the one file that includes
 * jansson.h (see json.h)
 *
 * A kr_json * is a jansson json_t * under a name of our own, so no other
 * file needs jansson.h; it is never dereferenced as anything else.
 * Invariant: the walk callback only ever sees decoded scalars; nothing
 * here interprets them. Any thread (jansson allocates per call).
 */
#include "json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#define MAX_DEPTH 32

#define J(v) ((json_t *)(v))

static int
s_walk(json_t *v, kr_buf *path, int depth, kr_json_cb cb, void *arg)
{
	size_t mark = path->len;
	int rc = 0;

	if (depth > MAX_DEPTH)
		return kr_error(KR_EPROTO, "JSON nested deeper than %d levels", MAX_DEPTH);
	if (json_is_object(v)) {
		const char *key;
		json_t *child;
		json_object_foreach(v, key, child) {
			if (mark)
				kr_buf_addch(path, '.');
			kr_buf_adds(path, key);
			rc = s_walk(child, path, depth + 1, cb, arg);
			path->len = mark;
			path->ptr[mark] = '\0';
			if (rc)
				return rc;
		}
	} else if (json_is_array(v)) {
		for (size_t i = 0; i < json_array_size(v); i++) {
			kr_buf_addf(path, "[%zu]", i);
			rc = s_walk(json_array_get(v, i), path, depth + 1, cb, arg);
			path->len = mark;
			path->ptr[mark] = '\0';
			if (rc)
				return rc;
		}
	} else if (json_is_string(v)) {
		rc = cb(arg, path->ptr, json_string_value(v), KR_JSON_STRING);
	} else if (json_is_integer(v)) {
		char num[32];
		snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		rc = cb(arg, path->ptr, num, KR_JSON_NUMBER);
	} else if (json_is_real(v)) {
		char num[64];
		snprintf(num, sizeof(num), "%.17g", json_real_value(v));
		rc = cb(arg, path->ptr, num, KR_JSON_NUMBER);
	} else if (json_is_boolean(v)) {
		rc = cb(arg, path->ptr, json_is_true(v) ? "true" : "false", KR_JSON_BOOL);
	} else {
		rc = cb(arg, path->ptr, "null", KR_JSON_NULL);
	}
	return rc;
}

int
kr_json_walk(const char *json, size_t len, int *toplevel, kr_json_cb cb, void *arg)
{
	kr_json *root = NULL;
	kr_buf path = KR_BUF_INIT;
	int rc;

	if (toplevel)
		*toplevel = 0;
	if ((rc = kr_json_parse(&root, json, len, KR_JSON_ANY, NULL)) < 0)
		return rc;
	if (toplevel)
		*toplevel = json_is_object(J(root)) ? '{' : json_is_array(J(root)) ? '[' : 0;
	kr_buf_grow(&path, 64);
	path.ptr[0] = '\0';
	rc = s_walk(J(root), &path, 0, cb, arg);
	kr_buf_release(&path);
	kr_json_free(&root);
	return rc;
}

int
kr_json_parse(kr_json **out, const char *text, size_t len, int flags, kr_json_where *where)
{
	json_error_t err;
	json_t *v = json_loadb(text, len, ((flags & KR_JSON_ANY) ? JSON_DECODE_ANY : 0) |
	    ((flags & KR_JSON_DUPKEYS) ? 0 : JSON_REJECT_DUPLICATES), &err);

	*out = (kr_json *)v;
	if (v)
		return 0;
	if (where) {
		where->line = err.line;
		where->column = err.column;
		snprintf(where->text, sizeof(where->text), "%s", err.text);
	}
	return kr_error(KR_EPROTO, "line %d column %d: %s", err.line, err.column, err.text);
}

void
kr_json_free(kr_json **jp)
{
	if (*jp)
		json_decref(J(*jp));
	*jp = NULL;
}

int
kr_json_type(const kr_json *v)
{
	switch (v ? json_typeof(J(v)) : JSON_NULL) {
	case JSON_OBJECT:
		return KR_JSON_OBJECT;
	case JSON_ARRAY:
		return KR_JSON_ARRAY;
	case JSON_STRING:
		return KR_JSON_STRING;
	case JSON_INTEGER:
	case JSON_REAL:
		return KR_JSON_NUMBER;
	case JSON_TRUE:
	case JSON_FALSE:
		return KR_JSON_BOOL;
	default:
		return v ? KR_JSON_NULL : 0;
	}
}

const kr_json *
kr_json_get(const kr_json *o, const char *key)
{
	return (const kr_json *)json_object_get(J(o), key);
}

const char *
kr_json_string(const kr_json *v)
{
	return json_is_string(J(v)) ? json_string_value(J(v)) : NULL;
}

const char *
kr_json_str(const kr_json *o, const char *key)
{
	return kr_json_string(kr_json_get(o, key));
}

size_t
kr_json_size(const kr_json *a)
{
	return json_array_size(J(a));
}

const kr_json *
kr_json_at(const kr_json *a, size_t i)
{
	return (const kr_json *)json_array_get(J(a), i);
}

void *
kr_json_next(const kr_json *o, void *it, const char **key, const kr_json **v)
{
	it = it ? json_object_iter_next(J(o), it) : json_object_iter(J(o));
	if (it) {
		*key = json_object_iter_key(it);
		*v = (const kr_json *)json_object_iter_value(it);
	}
	return it;
}

kr_json *
kr_json_object(void)
{
	return (kr_json *)json_object();
}

void
kr_json_set_str(kr_json *o, const char *key, const char *s)
{
	json_object_set_new(J(o), key, json_string(s));
}

void
kr_json_set(kr_json *o, const char *key, const kr_json *v)
{
	json_object_set(J(o), key, J(v));
}

void
kr_json_set_new(kr_json *o, const char *key, kr_json **vp)
{
	json_object_set_new(J(o), key, J(*vp));
	*vp = NULL;
}

void
kr_json_dump(kr_buf *out, const kr_json *v)
{
	char *s = json_dumps(J(v), JSON_COMPACT | JSON_ENCODE_ANY | JSON_PRESERVE_ORDER);

	kr_buf_adds(out, s ? s : "null");
	free(s);
}
