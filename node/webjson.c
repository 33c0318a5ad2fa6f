/*
 * node/webjson.c - the web's jansson user: JSON documents as (path, scalar)
 * pairs (see webjson.h)
 *
 * Invariant: the callback only ever sees decoded scalars; nothing here
 * interprets them. Any thread (jansson allocates per call).
 */
#include "webjson.h"

#include <stdio.h>
#include <string.h>

#include <jansson.h>

#define MAX_DEPTH 32

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
	json_error_t err;
	json_t *root = json_loadb(json, len, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &err);
	kr_buf path = KR_BUF_INIT;
	int rc;

	if (toplevel)
		*toplevel = 0;
	if (!root)
		return kr_error(KR_EPROTO, "line %d column %d: %s", err.line, err.column, err.text);
	if (toplevel)
		*toplevel = json_is_object(root) ? '{' : json_is_array(root) ? '[' : 0;
	kr_buf_grow(&path, 64);
	path.ptr[0] = '\0';
	rc = s_walk(root, &path, 0, cb, arg);
	kr_buf_release(&path);
	json_decref(root);
	return rc;
}
