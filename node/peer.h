/*
 * node/peer.h - talking to one peer's ROUTER as a client
 *
 * A kr_conn is a DEALER socket to a peer. Requests carry ids; a reply with
 * another id (left over from a request that timed out) is dropped. Used by
 * `kairan sync` and by the daemon's replication worker, never by two
 * threads at once.
 */
#ifndef KR_PEER_H
#define KR_PEER_H

#include <stdatomic.h>

#include "../proto/codec.h"
#include "home.h"

typedef struct kr_conn kr_conn;

/* A ZeroMQ context for connections (one per process or thread group). */
void *kr_peer_context(void);
void kr_peer_context_end(void *zctx);
/*
 * Logs a rejected (quarantined) manifest, at most once per peer and
 * publisher every 10 minutes: a peer that repeats it at every beacon adds to
 * the quarantine row's count (kairan status), not a log line a second.
 */
void kr_log_quarantined(const char *endpoint, const char *publisher, uint64_t seq, const char *why);
/* The log line for a manifest the peer at endpoint does not hold all of (left to the peers that hold it). */
void kr_log_not_held(const char *endpoint, const char *publisher, uint64_t seq, const char *why);

int kr_conn_open(kr_conn **out, void *zctx, const char *endpoint, int timeout_ms);
void kr_conn_destroy(kr_conn **cp);
const char *kr_conn_endpoint(const kr_conn *c);
/*
 * Every wait on c (a reply, a pause before asking a busy peer again) ends
 * within about 100 ms once *stop is non-zero, failing with KR_ETIMEOUT
 * ("stopping"); nothing is then recorded against the peer. stop is
 * borrowed and must outlive c.
 */
void kr_conn_cancel_on(kr_conn *c, const atomic_int *stop);

/*
 * Sends req and waits for the reply with its id (KR_ETIMEOUT, KR_EPROTO).
 * An EBUSY answer is retried after a pause until the timeout has passed.
 */
int kr_conn_call(kr_conn *c, kr_request *req, kr_reply *rep);

/* A kr_fetcher whose arg is a kr_conn (see replica.h). */
void kr_conn_fetcher(kr_fetcher *fx, kr_conn *c);

/*
 * Applies one signed manifest the peer on c offered (kr_replica_apply),
 * fetching from it only the collections of the kinds this node joined
 * through it for (join --kind, kr_fed_collections). When the peer does not
 * hold a collection its manifest names (it answers a fetch "not held
 * here", as a town that joined for some kinds does for the others), the
 * apply fails with nothing changed and *not_held is 1: not the peer's
 * fault and not a failure to report; the peers that hold it serve it.
 * packs (plen bytes, InlinePacks; NULL: none) are the packs the peer
 * announced with the manifest: those that fit are taken instead of
 * fetching (kr_fetcher.offered).
 */
int kr_peer_apply(kr_home *h, kr_conn *c, const void *bytes, size_t len, const void *packs, size_t plen,
    kr_apply *a, int *not_held);

typedef struct {
	size_t applied, ignored, rejected, failed;
	size_t not_held;              /* manifests naming collections the peer does not hold: left to others */
	uint64_t bytes;
	uint8_t digest[16];           /* the peer's digest at snapshot time */
	char *announce;               /* from hello (caller frees) */
	char *name;
	char **unserved;              /* followed publishers the peer never served (kr_strv_free) */
	size_t nunserved;
	size_t fed_installed;         /* membership versions installed from this peer */
	int fed_refused;              /* the peer's membership chain was refused (logged, quarantined) */
} kr_sync_result;

/* One peer's answer to a fan-out request. */
typedef struct {
	const char *endpoint;
	int answered;
	char *error;                  /* why not (caller frees) */
	kr_reply rep;                 /* valid when answered */
	double ms;
} kr_peer_answer;

/*
 * Sends req to every endpoint at once and waits until all have answered or
 * deadline_ms has passed. A slow or dead peer only costs the deadline.
 */
void kr_peer_ask_all(char *const *endpoints, size_t n, kr_request *req, int deadline_ms,
    kr_peer_answer *out);
void kr_peer_answers_free(kr_peer_answer *a, size_t n);

/*
 * Asks the peer for the membership chain of federation fed after version
 * from (DESIGN §6), reply after reply, until it holds the newest the peer
 * has. Bounded: at most KR_FED_MAX_VERSIONS versions and 64 MB in all; a
 * reply that does not move forward, or versions not in order, is
 * KR_EPROTO. *out (caller frees with kr_bufs_free) holds the SignedMulti
 * bytes, oldest first, unchecked: the caller runs the chain rule.
 */
int kr_peer_chain(kr_conn *c, const uint8_t fed[32], uint64_t from, kr_buf **out, size_t *n);
void kr_bufs_free(kr_buf *v, size_t n);

/*
 * Hello, then Snapshot of the publishers followed through this peer, then
 * apply each manifest. on_applied(pub) is called for each new state (so a
 * daemon can relay it). Returns 0 if the peer answered (even if some
 * manifests were rejected: see res), or the transport error.
 */
int kr_peer_sync(kr_home *h, kr_conn *c, char *const *pubs, size_t npubs, int do_hello,
    void (*on_applied)(const char *pub, void *arg), void *arg, kr_sync_result *res);

#endif
