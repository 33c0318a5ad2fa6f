/*
 * node/web.c - the only libmicrohttpd user: listening, limits, routing,
 * headers
 *
 * Threads: libmicrohttpd's own pool (MHD_OPTION_THREAD_POOL_SIZE), each
 * thread polling its share of the connections. A thread opens its own
 * kr_state and kr_store on its first request (pthread key; closed by the
 * key's destructor when the thread ends), so a page never shares a SQLite
 * connection or a libgit2 handle with the serve loop or the replication
 * worker. Handlers run only once a request is complete; slow clients cost a
 * connection slot, never a thread. Two more threads of this file: the
 * watchdog (header deadline, below) and the refresher, which renders stale
 * cached pages again with its own handles (see "the render cache").
 *
 * Limits (all bounded, none waits forever): connections in total and per
 * IP address, an idle timeout per connection, a deadline for a request's
 * headers (a client that trickles them a byte at a time, slowloris, keeps
 * the idle timer alive; a watchdog thread shuts such a socket down once
 * the headers have taken longer than the timeout, and libmicrohttpd then
 * closes it as any dead connection), the request line and
 * headers within the connection memory limit (libmicrohttpd answers
 * 414/431 past it), a body cap per request (413, decided from
 * Content-Length before any of it is read; a chunked body past the cap
 * closes the connection), at most 64 query parameters. Input that is not
 * valid UTF-8 or holds control characters gets a 400 page; unknown paths
 * and ids a Japanese 404; a method a route does not take a 405 with Allow.
 *
 * Every response carries Content-Security-Policy default-src 'self' with
 * frame-ancestors 'none', X-Content-Type-Options: nosniff and
 * Referrer-Policy; the pages need no script, so no value that slipped
 * past escaping could run either.
 */
#include "web.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "html.h"
#include "log.h"
#include "ports.h"
#include "webapp.h"
#include "webdata.h"

/*
 * libmicrohttpd is loaded when the pages start, not by every command: it
 * brings nine shared libraries (gnutls and its chain) that only `serve`
 * uses, and every `kairan` process paid for mapping and relocating them
 * (issue 13, start-up). The pointers keep the header's types, so calls
 * are checked as before; the names below stand for them.
 */
#ifndef KR_MHD_SONAME
#define KR_MHD_SONAME "libmicrohttpd.so.12"
#endif
#define MHD_FUNCTIONS(X) X(MHD_start_daemon) X(MHD_stop_daemon) X(MHD_get_daemon_info) \
	X(MHD_get_connection_info) X(MHD_lookup_connection_value) X(MHD_get_connection_values_n) \
	X(MHD_add_response_header) X(MHD_create_response_from_buffer) X(MHD_queue_response) \
	X(MHD_destroy_response) X(MHD_suspend_connection) X(MHD_resume_connection)
#define X(f) static __typeof__(f) *p_##f;
MHD_FUNCTIONS(X)
#undef X
static pthread_once_t s_mhd_once = PTHREAD_ONCE_INIT;
static char s_mhd_error[256];

static void
s_mhd_load(void)
{
	static const kr_dlsym syms[] = { MHD_FUNCTIONS(KR_DLSYM) };
	char why[200];
	int rc = kr_dl_load(KR_MHD_SONAME, syms, sizeof(syms) / sizeof(syms[0]), why, sizeof(why));

	if (rc == -1)
		snprintf(s_mhd_error, sizeof(s_mhd_error), "%s", why);
	else if (rc == -2)
		snprintf(s_mhd_error, sizeof(s_mhd_error), "%s: no %s", KR_MHD_SONAME, why);
}
#define MHD_start_daemon p_MHD_start_daemon
#define MHD_stop_daemon p_MHD_stop_daemon
#define MHD_get_daemon_info p_MHD_get_daemon_info
#define MHD_get_connection_info p_MHD_get_connection_info
#define MHD_lookup_connection_value p_MHD_lookup_connection_value
#define MHD_get_connection_values_n p_MHD_get_connection_values_n
#define MHD_add_response_header p_MHD_add_response_header
#define MHD_create_response_from_buffer p_MHD_create_response_from_buffer
#define MHD_queue_response p_MHD_queue_response
#define MHD_destroy_response p_MHD_destroy_response
#define MHD_suspend_connection p_MHD_suspend_connection
#define MHD_resume_connection p_MHD_resume_connection

#define MAX_PARAMS 64
/*
 * Each thread's SQLite connections (and a search's second one) read
 * state.db through a page cache of this many kB, not a mapping of the
 * file: the pages a mapping touches, and the kernel's neighbours of each
 * (fault-around), count in the node's RSS. 100,000 items, a few searches
 * on four threads: RSS 804 MB / PSS 182 MB mapped, 83 / 81 MB read; the
 * search page rendered as fast either way (issue 13).
 */
#define DB_CACHE_KB 2048
#define SCOPES 100                     /* prefectures: the first two digits of an lg_code */
#define GEN_RING 256                   /* versions whose time is remembered (s_moved_at) */

/* A connection, for the header deadline (under kr_web.lock). */
typedef struct s_conn {
	int fd;
	double mark;                   /* opened, or its last request finished (ms) */
	int in_request, shut;
	struct s_conn *prev, *next;
} s_conn;

struct kr_web {
	struct MHD_Daemon *d;
	pthread_mutex_t lock;
	s_conn *conns;
	pthread_t watchdog;
	int have_watchdog, stopping;
	pthread_cond_t dog_cond;       /* wakes the watchdog: a first connection, stop */
	pthread_mutex_t cache_lock;
	pthread_cond_t cache_cond;     /* a refresh was queued */
	struct s_cached *cache;        /* CACHE_ENTRIES */
	unsigned cache_clock;
	uint64_t gen;                  /* any change of the state, see s_sync */
	uint64_t content_gen;          /* a change of the heads or manifests (what search reads) */
	double gen_at[GEN_RING];       /* when gen reached each of its last values (ms) */
	double content_at[GEN_RING];   /* the same for content_gen */
	uint64_t board_gen;            /* the board's kinds, or a change of no one prefecture */
	uint64_t scope_gen[SCOPES];    /* the publishers of one prefecture */
	struct s_waiter *waiters;      /* suspended requests waiting for a render of their page */
	int draining;                  /* stopping: no request waits any more */
	char **snap;                   /* the heads and manifests last seen (s_snapshot) */
	size_t nsnap;
	int have_snap;
	kr_web_memo *memo;
	struct s_job **jobs;           /* REFRESH_QUEUE pending refreshes */
	size_t njobs;
	pthread_t refresher, warmer;
	int have_refresher, have_warmer, stopping_cache;
	kr_web_conf conf;              /* strings below are owned copies */
	char *home, *url, *name, *lg_code, *fpr, *keys, *host;
	char *actual;
	pthread_key_t key;
	int have_key;
};

/* One request in progress (libmicrohttpd's con_cls). */
typedef struct {
	kr_buf body;
	int started;
	int overflow;                  /* a chunked body passed the cap */
	int have_ver;
	uint64_t ver;                  /* its page's version when the request came (render cache) */
	int waits;                     /* renders by others it was suspended for */
} s_req;

typedef struct {
	kr_web_param *v;
	size_t n;
	int bad;                       /* invalid UTF-8, a control character or too many */
} s_params;

enum { M_GET = 1, M_POST = 2 };

static const char s_csp[] = "default-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

/* ---- URL of the listener ----------------------------------------------- */

/* Splits http://HOST:PORT; host and port are heap strings. */
static int
s_split_url(const char *url, char **host, char **port)
{
	const char *h, *colon, *end;

	*host = *port = NULL;
	if (!url || strncmp(url, "http://", 7) != 0)
		return kr_error(KR_EUSAGE, "web address '%s' must look like http://127.0.0.1:7480 "
		    "(or be off)", url ? url : "");
	h = url + 7;
	end = h + strcspn(h, "/");
	if (*end && strcmp(end, "/") != 0)
		return kr_error(KR_EUSAGE, "web address '%s' must not have a path", url);
	if (*h == '[') {
		const char *rb = memchr(h, ']', (size_t)(end - h));
		if (!rb || rb[1] != ':')
			return kr_error(KR_EUSAGE, "web address '%s': an IPv6 host is written [::1]:PORT", url);
		*host = kr_strndup(h + 1, (size_t)(rb - h - 1));
		colon = rb + 1;
	} else {
		colon = NULL;
		for (const char *p = h; p < end; p++)
			if (*p == ':')
				colon = p;
		if (!colon)
			return kr_error(KR_EUSAGE, "web address '%s' needs a port, e.g. http://127.0.0.1:7480", url);
		*host = kr_strndup(h, (size_t)(colon - h));
	}
	*port = kr_strndup(colon + 1, (size_t)(end - colon - 1));
	if (!**host || !**port || strspn(*port, "0123456789") != strlen(*port) || strlen(*port) > 5 ||
	    atoi(*port) > 65535) {
		free(*host);
		free(*port);
		*host = *port = NULL;
		return kr_error(KR_EUSAGE, "web address '%s' needs a host and a port from 0 to 65535", url);
	}
	return 0;
}

int
kr_web_check_url(const char *url)
{
	char *host, *port;
	int rc = s_split_url(url, &host, &port);

	free(host);
	free(port);
	return rc;
}

/* ---- per-thread handles ------------------------------------------------ */

/* A thread's handles and what its connection last said of the state (see s_sync). */
typedef struct {
	kr_web_ctx c;                  /* first: the kr_web_ctx handed out is this struct */
	int64_t data_version;          /* PRAGMA data_version of c.state when last read, -1 before */
} s_tctx;

static void
s_ctx_free(void *p)
{
	kr_web_ctx *c = p;

	kr_state_destroy(&c->state);
	kr_store_destroy(&c->store);
	free(c);
}

/* This thread's handles, opened on first use; NULL (and logged) if the home cannot be opened. */
static kr_web_ctx *
s_ctx(kr_web *w)
{
	kr_web_ctx *c = pthread_getspecific(w->key);
	char *p;

	if (c)
		return c;
	c = kr_calloc(1, sizeof(s_tctx));
	((s_tctx *)c)->data_version = -1;
	c->conf = &w->conf;
	c->memo = w->memo;
	p = kr_sprintf("%s/state.db", w->home);
	if (kr_state_open(&c->state, p) < 0 || kr_state_bound_memory(c->state, 0, DB_CACHE_KB) < 0 ||
	    kr_store_open(&c->store, w->home) < 0) {
		log_warnx("web: opening %s: %s", w->home, kr_errmsg());
		free(p);
		s_ctx_free(c);
		return NULL;
	}
	free(p);
	pthread_setspecific(w->key, c);
	return c;
}

/* ---- request helpers --------------------------------------------------- */

const char *
kr_web_param_get(const kr_web_req *r, const char *key)
{
	for (size_t i = 0; i < r->nparams; i++)
		if (strcmp(r->params[i].key, key) == 0)
			return r->params[i].value;
	return NULL;
}

/* Valid UTF-8 without C0 controls (tab, CR and LF allowed) or DEL. */
static int
s_clean(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)s[i];
		if ((ch < 0x20 && ch != '\t' && ch != '\n' && ch != '\r') || ch == 0x7F)
			return 0;
	}
	return kr_utf8_valid(s, len);
}

static enum MHD_Result
s_param(void *cls, enum MHD_ValueKind kind, const char *key, size_t key_size, const char *value,
    size_t value_size)
{
	s_params *p = cls;

	(void)kind;
	if (p->n == MAX_PARAMS || !s_clean(key, key_size) || (value && !s_clean(value, value_size))) {
		p->bad = 1;
		return MHD_NO;
	}
	p->v[p->n].key = key;
	p->v[p->n].value = value ? value : "";
	p->v[p->n].value_len = value ? value_size : 0;
	p->n++;
	return MHD_YES;
}

/*
 * Decodes %XX and '+' (HTML forms and Python's urlencode send spaces as
 * '+'), in place. A decoded NUL becomes 0x01 so that the string keeps its
 * length and s_clean() refuses it.
 */
static size_t
s_unescape(void *cls, struct MHD_Connection *conn, char *s)
{
	char *r = s, *wp = s;

	(void)cls;
	(void)conn;
	while (*r) {
		if (*r == '+') {
			*wp++ = ' ';
			r++;
		} else if (*r == '%' && r[1] && r[2] && strchr("0123456789abcdefABCDEF", r[1]) &&
		    strchr("0123456789abcdefABCDEF", r[2])) {
			char hex[3] = { r[1], r[2], 0 };
			char ch = (char)strtol(hex, NULL, 16);
			*wp++ = ch ? ch : '\x01';
			r += 3;
		} else {
			*wp++ = *r++;
		}
	}
	*wp = '\0';
	return (size_t)(wp - s);
}

/* http://Host from the request when it is a plausible host[:port], else the listener's URL. */
static char *
s_base(kr_web *w, struct MHD_Connection *conn)
{
	const char *host = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_HOST);

	if (host && *host && strlen(host) < 256 &&
	    strspn(host, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-:[]") == strlen(host))
		return kr_sprintf("http://%s", host);
	return kr_strdup(w->actual);
}

/* ---- routing ----------------------------------------------------------- */

static int
s_segment_ok(const char *s, size_t n, const char *allowed, size_t max)
{
	return n > 0 && n <= max && strspn(s, allowed) >= n;
}

/*
 * "/items/<lg>/<kind>/<slug>[/sub[/arg]]": fills id, sub and arg (heap
 * strings in *id etc.). "/items/<id>/rows/ROW" is a dataset row's page:
 * ROW, already percent-decoded, is all the rest (a row id may hold '/').
 */
static int
s_item_path(const char *rest, char **id, char **sub, char **arg)
{
	const char *seg[6];
	size_t len[6], n = 0;
	const char *p = rest;
	const char *s1 = strchr(rest, '/'), *s2 = s1 ? strchr(s1 + 1, '/') : NULL;
	const char *s3 = s2 ? strchr(s2 + 1, '/') : NULL;

	if (s3 && strncmp(s3, "/rows/", 6) == 0 && s3[6] && strlen(s3 + 6) <= 256) {
		char *prefix = kr_strndup(rest, (size_t)(s3 - rest));
		int ok = s_item_path(prefix, id, sub, arg) && !**sub;
		free(prefix);
		if (!ok) {
			free(*id);
			free(*sub);
			free(*arg);
			*id = *sub = *arg = NULL;
			return 0;
		}
		free(*sub);
		*sub = kr_strdup("rows");
		*arg = kr_strdup(s3 + 6);
		return 1;
	}

	while (*p && n < 6) {
		const char *slash = strchr(p, '/');
		seg[n] = p;
		len[n] = slash ? (size_t)(slash - p) : strlen(p);
		n++;
		if (!slash)
			break;
		p = slash + 1;
		if (!*p)
			return 0;          /* a trailing slash is another URL */
	}
	if (*p && n == 6)
		return 0;
	if (n < 3 || n > 5 || len[0] != 6 || !s_segment_ok(seg[0], 6, "0123456789", 6) ||
	    !s_segment_ok(seg[1], len[1], "abcdefghijklmnopqrstuvwxyz", 32) ||
	    !s_segment_ok(seg[2], len[2], "abcdefghijklmnopqrstuvwxyz0123456789-", 128))
		return 0;
	*id = kr_sprintf("%.*s/%.*s/%.*s", (int)len[0], seg[0], (int)len[1], seg[1], (int)len[2], seg[2]);
	*sub = n >= 4 ? kr_strndup(seg[3], len[3]) : kr_strdup("");
	*arg = n == 5 ? kr_strndup(seg[4], len[4]) : NULL;
	if ((n == 4 && strcmp(*sub, "diff") && strcmp(*sub, "rows") && strcmp(*sub, "raw")) ||
	    (n == 5 && (strcmp(*sub, "export") || !s_segment_ok(*arg, len[4], "abcdefghijklmnopqrstuvwxyz-", 32)))) {
		free(*id);
		free(*sub);
		free(*arg);
		*id = *sub = *arg = NULL;
		return 0;
	}
	return 1;
}

/* Picks the handler for path; *methods gets the methods it takes. NULL: not found. */
static kr_web_handler
s_route(kr_web_req *r, unsigned *methods, char **id, char **sub, char **arg)
{
	const char *p = r->path;

	*methods = M_GET;
	if (strcmp(p, "/") == 0)
		return kr_page_recent;
	if (strcmp(p, "/search") == 0)
		return kr_page_search;
	if (strcmp(p, "/federation") == 0)
		return kr_page_federation;
	if (strcmp(p, "/status") == 0)
		return kr_page_status;
	if (strcmp(p, "/static/kairan.css") == 0)
		return kr_page_css;
	if (strcmp(p, "/api/search") == 0)
		return kr_api_search;
	if (strcmp(p, "/catalog.jsonld") == 0)
		return kr_api_catalog;
	if (strcmp(p, "/retrieval") == 0) {
		*methods = M_POST;
		return kr_api_retrieval;
	}
	if (strncmp(p, "/items/", 7) == 0 && s_item_path(p + 7, id, sub, arg)) {
		r->id = *id;
		r->sub = *sub;
		r->arg = *arg;
		if (!**sub)
			return kr_page_item;
		if (strcmp(*sub, "diff") == 0)
			return kr_page_diff;
		if (strcmp(*sub, "rows") == 0)
			return kr_page_rows;
		if (strcmp(*sub, "raw") == 0)
			return kr_page_raw;
		return kr_page_export;
	}
	if (strncmp(p, "/api/items/", 11) == 0 && s_item_path(p + 11, id, sub, arg) && !**sub) {
		r->id = *id;
		r->sub = *sub;
		return kr_api_item;
	}
	if (strncmp(p, "/api/3/action/", 14) == 0 || strncmp(p, "/api/action/", 12) == 0) {
		const char *name = p + (p[5] == '3' ? 14 : 12);
		if (s_segment_ok(name, strlen(name), "abcdefghijklmnopqrstuvwxyz_", 64)) {
			*arg = kr_strdup(name);
			r->arg = *arg;
			*methods = M_GET | M_POST;
			return kr_api_ckan;
		}
	}
	if (strncmp(p, "/manifests/", 11) == 0 && strlen(p + 11) == KR_FPR_HEX && kr_is_hex(p + 11, KR_FPR_HEX)) {
		*arg = kr_strdup(p + 11);
		r->arg = *arg;
		return kr_api_manifest;
	}
	return NULL;
}

/* ---- the render cache ---------------------------------------------------- */

/*
 * The answer to a GET is kept (shared by the web threads, under cache_lock)
 * with the version of what it depends on when it was rendered. What moved
 * is found by s_sync: when a thread's connection sees a commit by another
 * connection (the replication worker applying a manifest, a CLI command;
 * SQLite's data_version is a per-connection counter, never comparable
 * across threads), it reads the heads and manifests and compares them with
 * the last ones seen, and moves
 *   - gen, always: the pages over everything (新着, status, the APIs that
 *     list) depend on it;
 *   - content_gen when a head or a manifest line moved: the search page
 *     and /api/search read only the index, the publishers and the board's
 *     collections, all of which move with a head or a manifest, so a
 *     change of peers, quarantine or settings leaves them cached;
 *   - scope_gen[NN] for a change to the content collections or the manifest
 *     of a publisher whose lg_code starts with NN: an item's pages (/items/
 *     and /api/items/ of an id NN…) depend on it and on board_gen. A
 *     publisher publishes ids of its own prefecture only (policies/item.c:
 *     a received item's lg_code shares the publisher's first two digits),
 *     so replicating 三豊市 (37…) leaves 豊田市's (23…) pages cached;
 *   - board_gen for a change to the board's collections (endorsements,
 *     consultations, answers, adoptions: every item's verdict and
 *     adoptions), to a publisher without a manifest or lg_code, and when a
 *     thread cannot read the snapshot (everything item-scoped).
 *
 * One render per page and version (single flight): a request that finds
 * its page being rendered (by another request or by the refresher) is
 * suspended (MHD_suspend_connection: its thread goes on serving its other
 * connections) and resumed when that render ends; it then takes that
 * answer if it was rendered at or after the version the request came at,
 * else one of the resumed requests renders again. So twenty requests of a
 * page that just went stale cost one render, and no web thread ever sits
 * waiting for another's.
 *
 * What a request may be given, by the kind of page:
 *   - an item's pages are never older than a change they depend on that
 *     the node had applied when the request came: an answer of an older
 *     version is never served (t0080);
 *   - the pages over everything (search, 新着, status, the listing APIs),
 *     while busy (asked for within the last CACHE_BUSY_MS), may be served
 *     from their last answer for up to CACHE_LAG_MS after the state moved
 *     past it, and beyond that only while the refresher renders the page
 *     again (it does so as soon as CACHE_REFRESH_MS after its last render)
 *     and never from an answer rendered more than CACHE_STALE_MS ago: such
 *     a page lags an arrival by at most half a second plus one render of
 *     it (a search of 100,000 items on a loaded machine takes one to three
 *     seconds: waiting for it would stall every connection), and says at
 *     what time it was read. A node that replicates several times
 *     a second therefore never makes the requests of a popular search
 *     wait. A page nobody else keeps asking for is rendered for the
 *     request that comes after an arrival.
 * An entry of the current version older than CACHE_MS (freshness verdicts
 * depend on the clock) is still served, for up to CACHE_STALE_MS, while
 * the refresher renders it again. An answer that cannot be kept (a 403, a
 * 500) drops the entry it replaces. The key is everything an answer
 * depends on: base URL, path, parameters. X-Kairan-Cache says hit (the
 * current version, or the render the request waited for), stale (the
 * previous version of a listing page, within CACHE_LAG_MS) or miss
 * (rendered for this request).
 */
#define CACHE_MS 5000.0
#define CACHE_STALE_MS 10000.0
#define CACHE_BUSY_MS 500.0
#define CACHE_LAG_MS 1000.0           /* a busy listing page lags the state by at most this */
#define CACHE_REFRESH_MS 500.0        /* a page is rendered again by the refresher at most twice a second */
#define CACHE_WAITS 4                 /* others' renders a request waits for before it renders itself */
#define CACHE_MAX_BODY ((size_t)1 << 20)
#define CACHE_ENTRIES 128
#define REFRESH_QUEUE 32

#define SCOPE_ALL (-1)                /* a page over everything: any change (gen) */
#define SCOPE_CONTENT (-2)            /* search: a change of heads or manifests (content_gen) */

enum { C_HIT, C_STALE, C_RENDER, C_WAIT };

/* A suspended request, waiting for a render of its page. */
typedef struct s_waiter {
	struct MHD_Connection *conn;
	char *key;
	struct s_waiter *next;
} s_waiter;

typedef struct s_cached {
	char *key;
	int status;
	const char *type;
	kr_buf body;
	char *disposition;
	uint64_t gen;                  /* s_version of its scope when rendered */
	double at;                     /* when rendered (ms) */
	double asked;                  /* when last served or stored (CACHE_BUSY_MS) */
	unsigned used;
	int refreshing;                /* a render is under way or queued: requests wait for it */
} s_cached;                            /* status 0: no answer yet, only a render under way */

/* A request to render again, with copies of everything the handler reads. */
typedef struct s_job {
	kr_web_handler fn;
	int scope;
	char *key, *path, *id, *sub, *arg, *base;
	kr_web_param params[MAX_PARAMS];
	size_t nparams;
} s_job;

/*
 * The prefecture an item's pages depend on (NN of the id NNxxxx/…);
 * SCOPE_CONTENT for the search page and API, SCOPE_ALL for the other
 * pages over everything.
 */
static int
s_scope(kr_web_handler fn, const kr_web_req *r)
{
	if (r->id && r->id[0] >= '0' && r->id[0] <= '9' && r->id[1] >= '0' && r->id[1] <= '9')
		return (r->id[0] - '0') * 10 + (r->id[1] - '0');
	return fn == kr_page_search || fn == kr_api_search ? SCOPE_CONTENT : SCOPE_ALL;
}

static char *
s_cache_key(const kr_web_req *r)
{
	kr_buf k = KR_BUF_INIT;

	kr_buf_addf(&k, "%s\x1f%s", r->base, r->path);
	for (size_t i = 0; i < r->nparams; i++)
		kr_buf_addf(&k, "\x1f%s\x1e%s", r->params[i].key, r->params[i].value);
	return kr_buf_detach(&k);
}

/* The entry used least recently (caller holds cache_lock). */
static s_cached *
s_cache_lru(kr_web *w)
{
	s_cached *e = &w->cache[0];

	for (size_t i = 1; i < CACHE_ENTRIES; i++)
		if (w->cache[i].used < e->used)
			e = &w->cache[i];
	return e;
}

static s_cached *
s_cache_find(kr_web *w, const char *key)
{
	for (size_t i = 0; i < CACHE_ENTRIES; i++)
		if (w->cache[i].key && strcmp(w->cache[i].key, key) == 0)
			return &w->cache[i];
	return NULL;
}

static s_job *
s_job_new(kr_web_handler fn, const char *key, int scope, const kr_web_req *r)
{
	s_job *j = kr_calloc(1, sizeof(*j));

	j->fn = fn;
	j->scope = scope;
	j->key = kr_strdup(key);
	j->path = kr_strdup(r->path);
	j->id = r->id ? kr_strdup(r->id) : NULL;
	j->sub = r->sub ? kr_strdup(r->sub) : NULL;
	j->arg = r->arg ? kr_strdup(r->arg) : NULL;
	j->base = kr_strdup(r->base);
	for (size_t i = 0; i < r->nparams; i++) {
		j->params[i].key = kr_strdup(r->params[i].key);
		j->params[i].value = kr_strdup(r->params[i].value);
		j->params[i].value_len = r->params[i].value_len;
	}
	j->nparams = r->nparams;
	return j;
}

static void
s_job_free(s_job *j)
{
	for (size_t i = 0; i < j->nparams; i++) {
		free((char *)j->params[i].key);
		free((char *)j->params[i].value);
	}
	free(j->key); free(j->path); free(j->id); free(j->sub); free(j->arg); free(j->base);
	free(j);
}

static int
s_cmp_line(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int
s_content_coll(const char *coll)
{
	return strcmp(coll, "cases") == 0 || strcmp(coll, "guidelines") == 0 || strcmp(coll, "prompts") == 0 ||
	    strcmp(coll, "datasets") == 0;
}

/*
 * The heads and manifests as this thread's connection reads them, one line
 * each, sorted: "H\x1fNN\x1fpublisher\x1fcollection\x1fcommit" and
 * "M\x1fNN\x1fpublisher\x1fseq\x1fissued\x1fexpires\x1fname", NN the scope
 * a change of the line moves ("--": board_gen).
 */
static int
s_snapshot(kr_web_ctx *c, char ***out, size_t *n)
{
	kr_state_manifest *m = NULL;
	kr_state_head *h = NULL;
	size_t nm = 0, nh = 0, k = 0;
	char **v;
	int rc;

	*out = NULL;
	*n = 0;
	if ((rc = kr_state_manifest_list(c->state, &m, &nm)) < 0)
		return rc;
	if ((rc = kr_state_head_list(c->state, NULL, &h, &nh)) < 0) {
		kr_state_manifests_free(m, nm);
		return rc;
	}
	v = kr_calloc(nm + nh + 1, sizeof(char *));
	for (size_t i = 0; i < nm; i++) {
		const char *lg = m[i].lg_code;
		int ok = lg && strlen(lg) == 6 && strspn(lg, "0123456789") == 6;
		v[k++] = kr_sprintf("M\x1f%.2s\x1f%s\x1f%llu\x1f%lld\x1f%lld\x1f%s", ok ? lg : "--", m[i].publisher,
		    (unsigned long long)m[i].seq, (long long)m[i].issued, (long long)m[i].expires, m[i].name ? m[i].name : "");
	}
	for (size_t i = 0; i < nh; i++) {
		const char *lg = NULL;
		for (size_t j = 0; j < nm && !lg; j++)
			if (strcmp(m[j].publisher, h[i].publisher) == 0)
				lg = m[j].lg_code;
		if (!lg || strlen(lg) != 6 || strspn(lg, "0123456789") != 6 || !s_content_coll(h[i].collection))
			lg = "--";
		v[k++] = kr_sprintf("H\x1f%.2s\x1f%s\x1f%s\x1f%s", lg, h[i].publisher, h[i].collection, h[i].commit);
	}
	kr_state_manifests_free(m, nm);
	free(h);
	qsort(v, k, sizeof(char *), s_cmp_line);
	*out = v;
	*n = k;
	return 0;
}

/* A line that appeared or went: moves its scope (under cache_lock). */
static void
s_bump(kr_web *w, const char *line)
{
	const char *nn = line + 2;

	if (nn[0] >= '0' && nn[0] <= '9' && nn[1] >= '0' && nn[1] <= '9')
		w->scope_gen[(nn[0] - '0') * 10 + (nn[1] - '0')]++;
	else
		w->board_gen++;
}

/*
 * Brings the generations up to what this thread's connection sees, before
 * it renders or serves: when the connection reports a commit by another
 * connection since it last looked (or has never looked), what moved is
 * found as above. Two threads may report the same commit; that costs a
 * render at most, never an answer older than the state the request saw.
 */
static void
s_sync(kr_web *w, kr_web_ctx *c)
{
	s_tctx *t = (s_tctx *)c;
	int64_t dv = kr_state_data_version(c->state);
	char **snap = NULL;
	size_t n = 0;
	int have, moved = 0;
	double now;

	if (dv >= 0 && dv == t->data_version)
		return;
	have = dv >= 0 && s_snapshot(c, &snap, &n) == 0;
	kr_error_clear();
	pthread_mutex_lock(&w->cache_lock);
	now = kr_monotonic_ms();
	w->gen++;
	w->gen_at[w->gen % GEN_RING] = now;
	t->data_version = dv;
	if (!have || !w->have_snap) {
		w->board_gen++;
		moved = 1;
	} else {
		size_t i = 0, j = 0;
		while (i < w->nsnap || j < n) {
			int d = i == w->nsnap ? 1 : j == n ? -1 : strcmp(w->snap[i], snap[j]);
			if (d < 0)
				s_bump(w, w->snap[i++]), moved = 1;
			else if (d > 0)
				s_bump(w, snap[j++]), moved = 1;
			else
				i++, j++;
		}
	}
	if (moved) {
		w->content_gen++;
		w->content_at[w->content_gen % GEN_RING] = now;
	}
	if (have) {
		kr_strv_free(w->snap, w->nsnap);
		w->snap = snap;
		w->nsnap = n;
		w->have_snap = 1;
		snap = NULL;
		n = 0;
	}
	pthread_mutex_unlock(&w->cache_lock);
	kr_strv_free(snap, n);
}

/* The version an entry of scope is rendered at (under cache_lock): it moves whenever any it depends on does. */
static uint64_t
s_version(const kr_web *w, int scope)
{
	if (scope == SCOPE_ALL)
		return w->gen;
	if (scope == SCOPE_CONTENT)
		return w->content_gen;
	return w->scope_gen[scope] + w->board_gen;
}

/*
 * When the version of a page over everything moved past g (ms, under
 * cache_lock); 0 when it has not, or so long ago that it is not
 * remembered.
 */
static double
s_moved_at(const kr_web *w, int scope, uint64_t g)
{
	uint64_t cur = scope == SCOPE_ALL ? w->gen : w->content_gen;
	const double *at = scope == SCOPE_ALL ? w->gen_at : w->content_at;

	if (scope >= 0 || g >= cur || cur - g >= GEN_RING)
		return 0;
	return at[(g + 1) % GEN_RING];
}

/* Queues a render of e by the refresher unless one is under way or e was rendered just now (under cache_lock). */
static void
s_refresh(kr_web *w, s_cached *e, kr_web_handler fn, const kr_web_req *r, int scope, double now)
{
	if (e->refreshing || now - e->at < CACHE_REFRESH_MS || w->njobs == REFRESH_QUEUE || w->draining)
		return;
	e->refreshing = 1;
	w->jobs[w->njobs++] = s_job_new(fn, e->key, scope, r);
	pthread_cond_signal(&w->cache_cond);
}

/* Resumes the requests waiting for a render of key (under cache_lock). */
static void
s_wake(kr_web *w, const char *key)
{
	for (s_waiter **p = &w->waiters; *p;) {
		s_waiter *x = *p;
		if (key && strcmp(x->key, key) != 0) {
			p = &x->next;
			continue;
		}
		*p = x->next;
		MHD_resume_connection(x->conn);
		free(x->key);
		free(x);
	}
}

/*
 * What to do with a GET of key (see "the render cache"): C_HIT or C_STALE
 * with out filled; C_WAIT when another render of the page is under way and
 * the request was suspended until it ends (the caller answers nothing
 * now); C_RENDER when the caller renders, then calls s_cache_put with *ver
 * (which ends the render it took over and resumes those waiting for it).
 */
static int
s_cache_get(kr_web *w, kr_web_handler fn, const kr_web_req *r, const char *key, int scope, s_req *q,
    struct MHD_Connection *conn, uint64_t *ver, kr_web_resp *out)
{
	int how = C_RENDER;
	double now;
	s_cached *e;

	pthread_mutex_lock(&w->cache_lock);
	now = kr_monotonic_ms();
	*ver = s_version(w, scope);
	if (!q->have_ver) {
		q->ver = *ver;
		q->have_ver = 1;
	}
	e = s_cache_find(w, key);
	if (!e) {
		/* an entry without an answer yet: those who come meanwhile wait for this render */
		e = s_cache_lru(w);
		free(e->key);
		free(e->disposition);
		e->disposition = NULL;
		kr_buf_clear(&e->body);
		e->key = kr_strdup(key);
		e->status = 0;
		e->gen = 0;
		e->at = e->asked = now;
		e->used = ++w->cache_clock;
		e->refreshing = 1;
		goto done;
	}
	if (e->status && now - e->at < CACHE_STALE_MS) {
		if (e->gen >= q->ver) {
			/* the version the request came at, or later */
			how = C_HIT;
		} else if (scope < 0 && now - e->asked < CACHE_BUSY_MS) {
			double moved = s_moved_at(w, scope, e->gen);
			if (moved > 0) {
				/* the refresher renders it (queued now unless under way or just done) */
				s_refresh(w, e, fn, r, scope, now);
				if (now - moved < CACHE_LAG_MS || e->refreshing || now - e->at < CACHE_REFRESH_MS)
					how = C_STALE;
			}
		}
		if (how != C_RENDER) {
			/* an item's page of an older version is rendered by the next request (it may not be served) */
			if ((scope < 0 && e->gen != *ver) || (e->gen == *ver && now - e->at >= CACHE_MS))
				s_refresh(w, e, fn, r, scope, now);
			e->used = ++w->cache_clock;
			e->asked = now;
			out->status = e->status;
			out->type = e->type;
			kr_buf_add(&out->body, e->body.ptr, e->body.len);
			out->disposition = e->disposition ? kr_strdup(e->disposition) : NULL;
			goto done;
		}
	}
	/* (not e->asked: a burst after a quiet spell must not make the page look busy and get the old answer) */
	if (e->refreshing && q->waits < CACHE_WAITS && conn && !w->draining) {
		s_waiter *x = kr_calloc(1, sizeof(*x));
		x->conn = conn;
		x->key = kr_strdup(key);
		x->next = w->waiters;
		w->waiters = x;
		q->waits++;
		/* under cache_lock: the render's end (s_wake) cannot resume it before it is suspended */
		MHD_suspend_connection(conn);
		how = C_WAIT;
		goto done;
	}
	e->refreshing = 1;
done:
	pthread_mutex_unlock(&w->cache_lock);
	return how;
}

/*
 * Keeps out as key's answer of version gen, unless a later one is kept
 * already; an answer that cannot be kept drops an earlier one instead.
 * Either way the requests waiting for key's render are resumed.
 */
static void
s_cache_put(kr_web *w, const char *key, uint64_t gen, const kr_web_resp *out)
{
	s_cached *e;

	pthread_mutex_lock(&w->cache_lock);
	s_wake(w, key);
	e = s_cache_find(w, key);
	if (e && e->status && e->gen > gen) {
		e->refreshing = 0;
		pthread_mutex_unlock(&w->cache_lock);
		return;
	}
	if (out->body.len > CACHE_MAX_BODY || (out->status != 200 && out->status != 404)) {
		if (e) {
			free(e->key);
			e->key = NULL;
			free(e->disposition);
			e->disposition = NULL;
			kr_buf_clear(&e->body);
			e->status = 0;
			e->refreshing = 0;
		}
		pthread_mutex_unlock(&w->cache_lock);
		return;
	}
	if (!e) {
		e = s_cache_lru(w);
		free(e->key);
		e->key = kr_strdup(key);
	}
	free(e->disposition);
	kr_buf_clear(&e->body);
	e->status = out->status;
	e->type = out->type;
	kr_buf_add(&e->body, out->body.ptr, out->body.len);
	e->disposition = out->disposition ? kr_strdup(out->disposition) : NULL;
	e->gen = gen;
	e->refreshing = 0;
	e->at = e->asked = kr_monotonic_ms();
	e->used = ++w->cache_clock;
	pthread_mutex_unlock(&w->cache_lock);
}

/* The refresher: renders stale entries again with its own handles, oldest request first. */
static void *
s_refresher(void *arg)
{
	kr_web *w = arg;
	kr_web_ctx *c = NULL;

	for (;;) {
		s_job *j;
		int put = 0;
		pthread_mutex_lock(&w->cache_lock);
		while (!w->stopping_cache && w->njobs == 0)
			pthread_cond_wait(&w->cache_cond, &w->cache_lock);
		if (w->stopping_cache) {
			pthread_mutex_unlock(&w->cache_lock);
			break;
		}
		j = w->jobs[0];
		memmove(w->jobs, w->jobs + 1, --w->njobs * sizeof(s_job *));
		pthread_mutex_unlock(&w->cache_lock);
		if (!c)
			c = s_ctx(w);
		if (c) {
			kr_web_req r = { .method = "GET", .path = j->path, .id = j->id, .sub = j->sub, .arg = j->arg,
				.params = j->params, .nparams = j->nparams, .body = "", .base = j->base };
			kr_web_resp out = { .status = 200, .body = KR_BUF_INIT };
			uint64_t gen;
			s_sync(w, c);
			pthread_mutex_lock(&w->cache_lock);
			gen = s_version(w, j->scope);
			pthread_mutex_unlock(&w->cache_lock);
			kr_error_clear();
			if (j->fn(c, &r, &out) == 0) {
				s_cache_put(w, j->key, gen, &out);
				put = 1;
			} else {
				log_warnx("web: rendering %s again: %s", j->path, kr_errmsg());
			}
			kr_buf_release(&out.body);
			free(out.disposition);
		}
		if (!put) {
			pthread_mutex_lock(&w->cache_lock);
			{
				s_cached *e = s_cache_find(w, j->key);
				if (e)
					e->refreshing = 0;
				s_wake(w, j->key);
			}
			pthread_mutex_unlock(&w->cache_lock);
		}
		s_job_free(j);
	}
	return NULL;
}

/*
 * The warmer: records the versions of the largest collections' paths
 * (kr_web_history_warm) once, on its own handles, so that neither the
 * refresher's renders nor the first item pages wait for it.
 */
static void *
s_warmer(void *arg)
{
	kr_web *w = arg;
	kr_web_ctx *c = s_ctx(w);

	if (c)
		kr_web_history_warm(c);
	return NULL;
}

/* ---- responses --------------------------------------------------------- */

/* cache: "hit" or "miss" for an answer the render cache may keep, else NULL */
static enum MHD_Result
s_queue(struct MHD_Connection *conn, kr_web_resp *out, int is_css, const char *cache)
{
	size_t len = out->body.len;
	char *body = kr_buf_detach(&out->body);
	struct MHD_Response *resp = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
	enum MHD_Result rc;

	if (!resp) {
		free(body);
		return MHD_NO;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, out->type ? out->type : "text/plain; charset=utf-8");
	MHD_add_response_header(resp, "Content-Security-Policy", s_csp);
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(resp, "X-Frame-Options", "DENY");
	MHD_add_response_header(resp, "Referrer-Policy", "same-origin");
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, is_css ? "max-age=3600" : "no-cache");
	if (out->disposition)
		MHD_add_response_header(resp, "Content-Disposition", out->disposition);
	if (out->allow)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, out->allow);
	if (out->authenticate)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE, out->authenticate);
	if (cache)
		MHD_add_response_header(resp, "X-Kairan-Cache", cache);
	rc = MHD_queue_response(conn, (unsigned)(out->status ? out->status : 200), resp);
	MHD_destroy_response(resp);
	free(out->disposition);
	out->disposition = NULL;
	return rc;
}

/* An error page for a request that never reached a handler. */
static enum MHD_Result
s_refuse(kr_web *w, struct MHD_Connection *conn, const char *path, int status, const char *reason,
    const char *allow)
{
	kr_web_resp out = { .status = status, .body = KR_BUF_INIT, .allow = allow };
	kr_web_req r = { .method = "GET", .path = path, .body = "", .base = w->actual };

	kr_page_error(s_ctx(w), &r, &out, status, reason);
	return s_queue(conn, &out, 0, NULL);
}

static enum MHD_Result
s_access(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
    const char *version, const char *upload, size_t *upload_size, void **con_cls)
{
	kr_web *w = cls;
	s_req *q = *con_cls;
	kr_web_req r = { 0 };
	kr_web_resp out = { .status = 200, .body = KR_BUF_INIT };
	kr_web_param params[MAX_PARAMS];
	s_params pl = { params, 0, 0 };
	unsigned methods = 0, m;
	kr_web_handler fn;
	kr_web_ctx *c;
	char *id = NULL, *sub = NULL, *arg = NULL, *base = NULL, *key = NULL;
	uint64_t sv = 0;              /* the version of what the page depends on, for the render cache */
	int scope = SCOPE_ALL;
	double t0 = kr_monotonic_ms();
	enum MHD_Result rc;
	int hrc;

	(void)version;
	m = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0 ? M_GET : strcmp(method, "POST") == 0 ? M_POST : 0;
	if (!q) {
		const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
		const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
		if (ci && ci->socket_context) {
			pthread_mutex_lock(&w->lock);
			((s_conn *)ci->socket_context)->in_request = 1;
			pthread_mutex_unlock(&w->lock);
		}
		q = kr_calloc(1, sizeof(*q));
		*con_cls = q;
		if (cl && strtoull(cl, NULL, 10) > w->conf.max_body)
			return s_refuse(w, conn, url, 413, "送られたデータが大きすぎます。", NULL);
		return MHD_YES;
	}
	if (*upload_size) {
		if (q->body.len + *upload_size > w->conf.max_body)
			q->overflow = 1;
		else
			kr_buf_add(&q->body, upload, *upload_size);
		*upload_size = 0;
		return MHD_YES;
	}
	if (q->overflow)
		return MHD_NO;         /* a chunked body past the cap: close */

	r.method = method;
	r.path = url;
	r.body = q->body.ptr;
	r.body_len = q->body.len;
	if (!s_clean(url, strlen(url)) || strstr(url, "//")) {
		rc = s_refuse(w, conn, "/", 404, "そのページは見つかりません。", NULL);
		goto done;
	}
	if (!(fn = s_route(&r, &methods, &id, &sub, &arg))) {
		rc = s_refuse(w, conn, url, 404, "そのページは見つかりません。", NULL);
		goto done;
	}
	if (!(methods & m)) {
		rc = s_refuse(w, conn, url, 405, "この操作はできません（このサーバーは読み取り専用です）。",
		    methods & M_POST ? (methods & M_GET ? "GET, HEAD, POST" : "POST") : "GET, HEAD");
		goto done;
	}
	MHD_get_connection_values_n(conn, MHD_GET_ARGUMENT_KIND, s_param, &pl);
	if (pl.bad || !s_clean(r.body, r.body_len)) {
		rc = s_refuse(w, conn, url, 400, "要求に使えない文字（不正なUTF-8や制御文字）か、多すぎる項目が含まれています。", NULL);
		goto done;
	}
	if (!(c = s_ctx(w))) {
		rc = s_refuse(w, conn, url, 503, "いまはデータを読み出せません。しばらくしてから試してください。", NULL);
		goto done;
	}
	base = s_base(w, conn);
	r.params = params;
	r.nparams = pl.n;
	r.authorization = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
	r.content_type = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
	r.base = base;
	kr_error_clear();
	if (m == M_GET && fn != kr_page_federation) {
		int how;
		s_sync(w, c);
		scope = s_scope(fn, &r);
		key = s_cache_key(&r);
		if ((how = s_cache_get(w, fn, &r, key, scope, q, conn, &sv, &out)) == C_WAIT) {
			/* resumed when the render under way ends; this function is then called again */
			rc = MHD_YES;
			goto done;
		}
		if (how != C_RENDER) {
			log_debug("web: %s %s %d (%.1f ms, from the render cache)", method, url, out.status, kr_monotonic_ms() - t0);
			rc = s_queue(conn, &out, fn == kr_page_css, how == C_HIT ? "hit" : "stale");
			goto done;
		}
	}
	if ((hrc = fn(c, &r, &out)) == KR_EPOLICY) {
		/* held back by policy.accept.require_endorsement (node/webdata.c): said, not hidden as a 500 */
		char *why = kr_strdup(kr_errmsg());
		kr_buf_release(&out.body);
		free(out.disposition);
		out = (kr_web_resp){ .body = KR_BUF_INIT };
		kr_page_error(c, &r, &out, 403, why);
		free(why);
		kr_error_clear();
	} else if (hrc < 0) {
		log_warnx("web: %s %s: %s", method, url, kr_errmsg());
		kr_buf_release(&out.body);
		free(out.disposition);
		out = (kr_web_resp){ .body = KR_BUF_INIT };
		kr_page_error(c, &r, &out, 500, "内部の処理に失敗しました。管理者はノードのログを確認してください。");
	}
	if (key)
		s_cache_put(w, key, sv, &out);
	log_debug("web: %s %s %d (%.1f ms)", method, url, out.status, kr_monotonic_ms() - t0);
	rc = s_queue(conn, &out, fn == kr_page_css, key ? "miss" : NULL);
done:
	free(key);
	free(id);
	free(sub);
	free(arg);
	free(base);
	return rc;
}

static void
s_completed(void *cls, struct MHD_Connection *conn, void **con_cls, enum MHD_RequestTerminationCode toe)
{
	kr_web *w = cls;
	s_req *q = *con_cls;
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);

	(void)toe;
	if (ci && ci->socket_context) {
		pthread_mutex_lock(&w->lock);
		((s_conn *)ci->socket_context)->in_request = 0;
		((s_conn *)ci->socket_context)->mark = kr_monotonic_ms();
		pthread_mutex_unlock(&w->lock);
	}
	if (q) {
		kr_buf_release(&q->body);
		free(q);
	}
	*con_cls = NULL;
}

/* Connections opened and closed: the registry the watchdog reads. */
static void
s_connection(void *cls, struct MHD_Connection *conn, void **socket_context, enum MHD_ConnectionNotificationCode toe)
{
	kr_web *w = cls;
	s_conn *c = *socket_context;

	pthread_mutex_lock(&w->lock);
	if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
		const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
		c = kr_calloc(1, sizeof(*c));
		c->fd = ci ? ci->connect_fd : -1;
		c->mark = kr_monotonic_ms();
		c->next = w->conns;
		if (w->conns)
			w->conns->prev = c;
		w->conns = c;
		*socket_context = c;
		if (!c->next)
			pthread_cond_signal(&w->dog_cond);
	} else if (c) {
		/* libmicrohttpd closes the socket only after this returns: the fd is never reused under us */
		if (c->prev)
			c->prev->next = c->next;
		else
			w->conns = c->next;
		if (c->next)
			c->next->prev = c->prev;
		free(c);
		*socket_context = NULL;
	}
	pthread_mutex_unlock(&w->lock);
}

/* Shuts down connections whose request headers have taken longer than the timeout. */
static void *
s_watchdog(void *arg)
{
	kr_web *w = arg;
	double deadline = w->conf.timeout_s * 1000.0;

	pthread_mutex_lock(&w->lock);
	while (!w->stopping) {
		size_t n = 0;
		struct timespec ts;
		if (!w->conns) {
			/* nothing to watch: an idle node's watchdog sleeps until a connection comes */
			pthread_cond_wait(&w->dog_cond, &w->lock);
			continue;
		}
		for (s_conn *c = w->conns; c; c = c->next) {
			if (!c->in_request && !c->shut && c->fd >= 0 && kr_monotonic_ms() - c->mark > deadline) {
				shutdown(c->fd, SHUT_RDWR);
				c->shut = 1;
				n++;
			}
		}
		if (n)
			log_debug("web: closed %zu connection(s) whose request headers took over %u s", n, w->conf.timeout_s);
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 250 * 1000 * 1000;
		if (ts.tv_nsec >= 1000 * 1000 * 1000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000 * 1000 * 1000;
		}
		pthread_cond_timedwait(&w->dog_cond, &w->lock, &ts);
	}
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

static void
s_mhd_log(void *cls, const char *fmt, va_list ap)
{
	char line[512];
	size_t n;

	(void)cls;
	vsnprintf(line, sizeof(line), fmt, ap);
	n = strlen(line);
	while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		line[--n] = '\0';
	log_debug("web: %s", line);
}

/* ---- start and stop ---------------------------------------------------- */

int
kr_web_start(kr_web **out, const kr_web_conf *conf)
{
	kr_web *w = kr_calloc(1, sizeof(*w));
	struct addrinfo hints = { 0 }, *ai = NULL;
	char *host = NULL, *port = NULL;
	const union MHD_DaemonInfo *info;
	unsigned flags = MHD_USE_AUTO_INTERNAL_THREAD | MHD_USE_ERROR_LOG | MHD_ALLOW_SUSPEND_RESUME;
	int rc, gai;

	*out = NULL;
	if ((rc = s_split_url(conf->url, &host, &port)) < 0)
		goto done;
	/* a port already taken is found before libmicrohttpd and its libraries are loaded for nothing */
	{
		char *ep = strchr(host, ':') ? kr_sprintf("tcp://[%s]:%s", host, port) : kr_sprintf("tcp://%s:%s", host, port);
		char why[512];
		int busy = kr_port_check(ep) == KR_EEXISTS;
		snprintf(why, sizeof(why), "%s", kr_errmsg());
		free(ep);
		kr_error_clear();
		if (busy) {
			rc = kr_error(KR_EIO, "web: cannot listen on %s (%s)", conf->url, why);
			goto done;
		}
	}
	pthread_once(&s_mhd_once, s_mhd_load);
	if (s_mhd_error[0]) {
		rc = kr_error(KR_ERROR, "web pages: cannot load libmicrohttpd (%s; Debian package libmicrohttpd12)",
		    s_mhd_error);
		goto done;
	}
	w->conf = *conf;
	w->conf.home = w->home = kr_strdup(conf->home);
	w->conf.url = w->url = kr_strdup(conf->url);
	w->conf.name = w->name = kr_strdup(conf->name ? conf->name : "");
	w->conf.lg_code = w->lg_code = kr_strdup(conf->lg_code ? conf->lg_code : "");
	w->conf.fpr = w->fpr = kr_strdup(conf->fpr ? conf->fpr : "");
	w->conf.retrieval_keys = w->keys = conf->retrieval_keys ? kr_strdup(conf->retrieval_keys) : NULL;
	if (!w->conf.threads)
		w->conf.threads = 4;
	if (!w->conf.max_connections)
		w->conf.max_connections = 256;
	if (!w->conf.per_ip)
		w->conf.per_ip = 128;
	if (!w->conf.timeout_s)
		w->conf.timeout_s = 10;
	if (!w->conf.max_body)
		w->conf.max_body = 64 * 1024;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV | AI_PASSIVE;
	if ((gai = getaddrinfo(strcmp(host, "*") == 0 ? "0.0.0.0" : host, port, &hints, &ai)) != 0) {
		rc = kr_error(KR_EUSAGE, "web address %s: %s", conf->url, gai_strerror(gai));
		goto done;
	}
	if (ai->ai_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	if (pthread_key_create(&w->key, s_ctx_free) != 0) {
		rc = kr_error(KR_ERROR, "web: no thread key");
		goto done;
	}
	w->have_key = 1;
	pthread_mutex_init(&w->lock, NULL);
	pthread_mutex_init(&w->cache_lock, NULL);
	pthread_cond_init(&w->cache_cond, NULL);
	w->memo = kr_web_memo_new();
	pthread_cond_init(&w->dog_cond, NULL);
	w->cache = kr_calloc(CACHE_ENTRIES, sizeof(s_cached));
	for (size_t i = 0; i < CACHE_ENTRIES; i++)
		w->cache[i].body = (kr_buf)KR_BUF_INIT;
	w->jobs = kr_calloc(REFRESH_QUEUE, sizeof(s_job *));
	if (pthread_create(&w->refresher, NULL, s_refresher, w) != 0) {
		rc = kr_error(KR_ERROR, "web: cannot start the page refresher");
		goto done;
	}
	w->have_refresher = 1;
	w->have_warmer = pthread_create(&w->warmer, NULL, s_warmer, w) == 0;
	w->d = MHD_start_daemon(flags, 0, NULL, NULL, s_access, w,
	    MHD_OPTION_SOCK_ADDR, ai->ai_addr,
	    MHD_OPTION_THREAD_POOL_SIZE, w->conf.threads,
	    MHD_OPTION_CONNECTION_LIMIT, w->conf.max_connections,
	    MHD_OPTION_PER_IP_CONNECTION_LIMIT, w->conf.per_ip,
	    MHD_OPTION_CONNECTION_TIMEOUT, w->conf.timeout_s,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)64 * 1024,
	    MHD_OPTION_UNESCAPE_CALLBACK, s_unescape, NULL,
	    MHD_OPTION_NOTIFY_COMPLETED, s_completed, w,
	    MHD_OPTION_NOTIFY_CONNECTION, s_connection, w,
	    MHD_OPTION_EXTERNAL_LOGGER, s_mhd_log, NULL,
	    MHD_OPTION_END);
	if (!w->d) {
		rc = kr_error(KR_EIO, "web: cannot listen on %s (%s)", conf->url,
		    errno ? strerror(errno) : "address in use or not available");
		goto done;
	}
	if (pthread_create(&w->watchdog, NULL, s_watchdog, w) != 0) {
		rc = kr_error(KR_ERROR, "web: cannot start the connection watchdog");
		goto done;
	}
	w->have_watchdog = 1;
	info = MHD_get_daemon_info(w->d, MHD_DAEMON_INFO_BIND_PORT);
	w->actual = ai->ai_family == AF_INET6 ? kr_sprintf("http://[%s]:%u", host, info ? info->port : 0)
	                                      : kr_sprintf("http://%s:%u", host, info ? info->port : 0);
	*out = w;
	w = NULL;
	rc = 0;
done:
	if (ai)
		freeaddrinfo(ai);
	free(host);
	free(port);
	kr_web_stop(&w);
	return rc;
}

const char *
kr_web_url(const kr_web *w)
{
	return w->actual;
}

void
kr_web_stop(kr_web **wp)
{
	kr_web *w = *wp;

	if (!w)
		return;
	if (w->have_watchdog) {
		pthread_mutex_lock(&w->lock);
		w->stopping = 1;
		pthread_cond_signal(&w->dog_cond);
		pthread_mutex_unlock(&w->lock);
		pthread_join(w->watchdog, NULL);
	}
	if (w->have_key) {
		/* libmicrohttpd must not be stopped with a connection suspended: every waiter resumes and renders */
		pthread_mutex_lock(&w->cache_lock);
		w->draining = 1;
		s_wake(w, NULL);
		pthread_mutex_unlock(&w->cache_lock);
	}
	if (w->d)
		MHD_stop_daemon(w->d);
	if (w->have_warmer)
		pthread_join(w->warmer, NULL);
	if (w->have_refresher) {
		pthread_mutex_lock(&w->cache_lock);
		w->stopping_cache = 1;
		pthread_cond_signal(&w->cache_cond);
		pthread_mutex_unlock(&w->cache_lock);
		pthread_join(w->refresher, NULL);
	}
	for (size_t i = 0; w->cache && i < CACHE_ENTRIES; i++) {
		free(w->cache[i].key);
		kr_buf_release(&w->cache[i].body);
		free(w->cache[i].disposition);
	}
	free(w->cache);
	for (size_t i = 0; i < w->njobs; i++)
		s_job_free(w->jobs[i]);
	free(w->jobs);
	kr_strv_free(w->snap, w->nsnap);
	if (w->have_key) {
		pthread_key_delete(w->key);
		pthread_mutex_destroy(&w->lock);
		pthread_mutex_destroy(&w->cache_lock);
		pthread_cond_destroy(&w->cache_cond);
		kr_web_memo_free(w->memo);
		pthread_cond_destroy(&w->dog_cond);
	}
	free(w->home);
	free(w->url);
	free(w->name);
	free(w->lg_code);
	free(w->fpr);
	free(w->keys);
	free(w->host);
	free(w->actual);
	free(w);
	*wp = NULL;
}
