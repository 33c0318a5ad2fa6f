/*
 * node/webjson.h - reading JSON for the web endpoints (request bodies of
 * POST /retrieval and CKAN actions, dataset rows for the viewer)
 *
 * A document is walked as (path, scalar) pairs: object keys joined with
 * ".", array items as "[i]", e.g. retrieval_setting.top_k,
 * metadata_condition.conditions[0].name. The walk stops at depth 32; a
 * deeper document is refused, so a hostile body cannot exhaust the stack.
 */
#ifndef KR_WEBJSON_H
#define KR_WEBJSON_H

#include "../sharing/common.h"

enum { KR_JSON_STRING = 's', KR_JSON_NUMBER = 'n', KR_JSON_BOOL = 'b', KR_JSON_NULL = 'z' };

/* value: the string, or the number/true/false/null as text. Non-zero return stops the walk. */
typedef int (*kr_json_cb)(void *arg, const char *path, const char *value, int type);

/*
 * Walks json (len bytes); *toplevel gets '{', '[' or 0 for a scalar.
 * KR_EPROTO with jansson's message ("line 1 column 7: …") for invalid JSON
 * or a document nested deeper than 32.
 */
int kr_json_walk(const char *json, size_t len, int *toplevel, kr_json_cb cb, void *arg);

#endif
