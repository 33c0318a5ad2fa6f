/*
 * node/web.h - the read-only web server inside `kairan serve` (DESIGN §10)
 *
 * Pages for staff and endpoints for other software on one port:
 * libmicrohttpd with its own pool of threads, each with its own SQLite and
 * git handles, so nothing here ever waits on, or makes wait, the zmq_poll
 * loop or the replication worker. Started and stopped by node/serve.c.
 */
#ifndef KR_WEB_H
#define KR_WEB_H

#include "../sharing/common.h"

typedef struct {
	const char *home;              /* data directory (each thread opens its own handles) */
	const char *url;               /* http://HOST:PORT to listen on */
	const char *name, *lg_code, *fpr; /* this node */
	const char *retrieval_keys;    /* Bearer keys for POST /retrieval, space-separated; NULL: none */
	unsigned threads;              /* 0: 4 */
	unsigned max_connections;      /* 0: 256 */
	unsigned per_ip;               /* 0: 128 */
	unsigned timeout_s;            /* idle connection timeout; 0: 10 */
	size_t max_body;               /* request body cap; 0: 64 KiB */
	/* the node's policy (accept.require_endorsement), read-only; outlives the server. NULL: none */
	const struct kr_policy_rules *rules;
} kr_web_conf;

typedef struct kr_web kr_web;

/*
 * Parses "http://HOST:PORT" (HOST: an IPv4 address, [IPv6], localhost or
 * a name; PORT 0 picks a free one). KR_EUSAGE with a message for anything
 * else.
 */
int kr_web_check_url(const char *url);

/*
 * Starts listening on conf->url with its own threads (conf is copied).
 * KR_EUSAGE for a bad URL, KR_EIO when the address cannot be bound.
 */
int kr_web_start(kr_web **out, const kr_web_conf *conf);
/* The URL actually listened on (port resolved), e.g. http://127.0.0.1:7480 */
const char *kr_web_url(const kr_web *w);
/* Stops accepting, finishes the requests in flight, joins the threads. NULL-safe. */
void kr_web_stop(kr_web **wp);

#endif
