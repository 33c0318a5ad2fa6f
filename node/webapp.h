/*
 * node/webapp.h - what node/web.c (libmicrohttpd, routing, headers,
 * limits) hands to the pages and endpoints, and what they hand back
 *
 * A handler gets the request already checked (method allowed for the
 * route, path split and validated, parameters decoded and valid UTF-8
 * without control characters, body within its cap) and fills a response:
 * status, content type and body. It never sees libmicrohttpd. Returning a
 * negative KR_E* code makes web.c answer a plain Japanese 500 page and log
 * the message; details never reach the client.
 *
 * Threads: every handler runs on one of the web threads, with that
 * thread's kr_web_ctx (its own kr_state and kr_store).
 */
#ifndef KR_WEBAPP_H
#define KR_WEBAPP_H

#include "../sharing/state.h"
#include "../sharing/store.h"
#include "web.h"

typedef struct {
	char key[32];                  /* dataset commit + path + format digest */
	size_t size;
	char sha256[65];
	size_t rows;
	int used;
} kr_web_digest;

/*
 * What the web threads share besides the render cache (node/webdata.c):
 * an item's 版の履歴 per (collection, path, the blob and commit its index
 * row names) and a head commit's signature verdict per (publisher,
 * collection, head). Under its own lock; NULL in a kr_web_ctx: no memo.
 */
typedef struct kr_web_memo kr_web_memo;
kr_web_memo *kr_web_memo_new(void);
void kr_web_memo_free(kr_web_memo *m);

typedef struct {
	const kr_web_conf *conf;
	kr_state *state;
	kr_store *store;
	kr_web_digest digests[64];     /* export sizes and digests, per thread */
	unsigned digest_clock;
	kr_web_memo *memo;             /* shared by every web thread (web.c owns it) */
} kr_web_ctx;

typedef struct {
	const char *key, *value;
	size_t value_len;
} kr_web_param;

typedef struct {
	const char *method;            /* "GET", "HEAD" or "POST" */
	const char *path;              /* decoded, without the query string */
	const char *id;                /* /items/<id>/…: the item id (lg_code/kind/slug), else NULL */
	const char *sub;               /* after the id: "", "diff", "rows", "raw", "export" */
	const char *arg;               /* /export/<arg>, /api/3/action/<arg>, /manifests/<arg> */
	const kr_web_param *params;    /* query string */
	size_t nparams;
	const char *body;              /* POST body (NUL-terminated), "" otherwise */
	size_t body_len;
	const char *authorization, *content_type;
	const char *base;              /* http://host[:port] for absolute links */
} kr_web_req;

typedef struct {
	int status;                    /* 200 unless set */
	const char *type;              /* Content-Type (static string) */
	kr_buf body;
	char *disposition;             /* Content-Disposition (heap), or NULL */
	const char *allow;             /* Allow, for 405 */
	const char *authenticate;      /* WWW-Authenticate, for 401 */
} kr_web_resp;

/* The first value of a query parameter, or NULL. */
const char *kr_web_param_get(const kr_web_req *r, const char *key);

typedef int (*kr_web_handler)(kr_web_ctx *c, const kr_web_req *r, kr_web_resp *out);

/* node/web_pages.c: HTML for staff */
int kr_page_recent(kr_web_ctx *c, const kr_web_req *r, kr_web_resp *out);
int kr_page_search(kr_web_ctx *c, const kr_web_req *r, kr_web_resp *out);
int kr_page_item(kr_web_ctx *c, const kr_web_req *r, kr_web_resp *out);
int kr_page_diff(kr_web_ctx *c, const kr_web_req *r, kr_web_resp *out);
int kr_page_rows(kr_web_ctx *c, const kr_web_req *r, kr_web_resp *out);
int kr_page_raw(kr_web_ctx *c, const kr_web_req *r, kr_web_resp *out);
int kr_page_export(kr_web_ctx *c, const kr_web_req *r, kr_web_resp *out);
int kr_page_federation(kr_web_ctx *c, const kr_web_req *r, kr_web_resp *out);
int kr_page_status(kr_web_ctx *c, const kr_web_req *r, kr_web_resp *out);
int kr_page_css(kr_web_ctx *c, const kr_web_req *r, kr_web_resp *out);
/* A Japanese error page (404 not found, 400 bad request, 405, 413, 500) with a short reason. */
void kr_page_error(kr_web_ctx *c, const kr_web_req *r, kr_web_resp *out, int status, const char *reason);

/* node/web_api.c: JSON for software */
int kr_api_search(kr_web_ctx *c, const kr_web_req *r, kr_web_resp *out);
int kr_api_item(kr_web_ctx *c, const kr_web_req *r, kr_web_resp *out);
int kr_api_ckan(kr_web_ctx *c, const kr_web_req *r, kr_web_resp *out);
int kr_api_catalog(kr_web_ctx *c, const kr_web_req *r, kr_web_resp *out);
int kr_api_manifest(kr_web_ctx *c, const kr_web_req *r, kr_web_resp *out);

/* node/web_retrieval.c: Dify's External Knowledge API */
int kr_api_retrieval(kr_web_ctx *c, const kr_web_req *r, kr_web_resp *out);

#endif
