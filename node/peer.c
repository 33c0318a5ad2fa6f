/*
 * node/peer.c - client side of the wire protocol (zmq DEALER)
 *
 * Pack transfer follows the zguide's file-transfer model: the client owns
 * the flow, keeping up to CREDIT chunk requests in flight and asking for
 * the next offset as each chunk arrives; the server holds no per-client
 * state. Replies on one connection arrive in order, so a chunk that is not
 * at the expected offset is a protocol error.
 *
 * A busy server answers EBUSY: the request is sent again after a short,
 * growing, jittered pause, for as long as the connection's timeout allows
 * (a fetch restarts from the last chunk it holds and ignores the replies
 * still in flight). Every wait ends early once the stop flag given to
 * kr_conn_cancel_on() is set, so a daemon stops promptly however many
 * peers it is waiting on.
 */
#include "peer.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "zmqdl.h"   /* <zmq.h>, libzmq loaded on first use */

#include "../sharing/manifest.h"
#include "federate.h"
#include "log.h"
#include "transport.h"

#define CHUNK (256u << 10)
#define CREDIT 8
#define SLICE_MS 100          /* longest wait between looks at the stop flag */
#define BUSY_FIRST_MS 20      /* first pause after EBUSY; doubles up to BUSY_MAX_MS */
#define BUSY_MAX_MS 400

struct kr_conn {
	void *sock;
	char *endpoint;
	int timeout_ms;
	uint64_t next_id;
	const atomic_int *stop;
	char *unkeyed;                /* not connected yet: the server key could not be learned (endpoint as given) */
	size_t not_held;              /* fetches the peer answered "not held here" (KR_WIRE_ENOTFOUND) */
};

/*
 * Connects c's socket with CURVE (transport.h). When the server's key
 * cannot be learned now (the node is down, or presents a changed key) the
 * connection stays unkeyed and the next request tries again, so the reason
 * reaches the caller as that request's error (and `peers` shows it).
 */
static int
s_connect(kr_conn *c, const char *endpoint)
{
	int rc = kr_transport_connect(c->sock, endpoint, NULL, 0, c->timeout_ms < 3000 ? c->timeout_ms : 3000);

	if (rc == KR_EUSAGE || rc == KR_EIO || rc == 0) {
		free(c->unkeyed);
		c->unkeyed = NULL;
		return rc;
	}
	if (!c->unkeyed)
		c->unkeyed = kr_strdup(endpoint);
	return rc;
}

#define QUARANTINE_LOG_MS (10 * 60 * 1000)

void
kr_log_quarantined(const char *endpoint, const char *publisher, uint64_t seq, const char *why)
{
	char key[160];
	size_t held;

	snprintf(key, sizeof(key), "quarantine %s %.16s", endpoint, publisher);
	if (!log_every(key, QUARANTINE_LOG_MS, &held))
		return;
	if (held)
		log_warnx("peer %s: publisher %.16s… seq %llu rejected (quarantined): %s (and %zu more rejections "
		    "from that peer in the last 10 minutes; kairan status lists the quarantine)", endpoint, publisher,
		    (unsigned long long)seq, why, held);
	else
		log_warnx("peer %s: publisher %.16s… seq %llu rejected (quarantined): %s", endpoint, publisher,
		    (unsigned long long)seq, why);
}

void
kr_log_not_held(const char *endpoint, const char *publisher, uint64_t seq, const char *why)
{
	log_info("peer %s: publisher %.16s… seq %llu not taken from it: %s; left to the peers that hold it",
	    endpoint, publisher, (unsigned long long)seq, why);
}

void *
kr_peer_context(void)
{
	return zmq_ctx_new();
}

void
kr_peer_context_end(void *zctx)
{
	if (zctx)
		zmq_ctx_term(zctx);
}

int
kr_conn_open(kr_conn **out, void *zctx, const char *endpoint, int timeout_ms)
{
	kr_conn *c = kr_calloc(1, sizeof(*c));
	int linger = 0, rc;
	int64_t maxmsg = KR_MSG_MAX + 1024;

	c->sock = zmq_socket(zctx, ZMQ_DEALER);
	c->endpoint = kr_strndup(endpoint, strcspn(endpoint, "#")); /* the key, if given, is pinned */
	c->timeout_ms = timeout_ms;
	kr_random(&c->next_id, sizeof(c->next_id));
	c->next_id &= 0xffffffffffffull;
	if (!c->sock) {
		kr_conn_destroy(&c);
		return kr_error(KR_EIO, "zmq_socket: %s", zmq_strerror(zmq_errno()));
	}
	zmq_setsockopt(c->sock, ZMQ_LINGER, &linger, sizeof(linger));
	zmq_setsockopt(c->sock, ZMQ_MAXMSGSIZE, &maxmsg, sizeof(maxmsg));
	/* CURVE, with the server key given, listed, pinned or introduced (transport.h) */
	if ((rc = s_connect(c, endpoint)) < 0 && !c->unkeyed) {
		kr_conn_destroy(&c);
		return rc;
	}
	kr_error_clear();
	*out = c;
	return 0;
}

void
kr_conn_destroy(kr_conn **cp)
{
	if (!cp || !*cp)
		return;
	if ((*cp)->sock)
		zmq_close((*cp)->sock);
	free((*cp)->unkeyed);
	free((*cp)->endpoint);
	free(*cp);
	*cp = NULL;
}

const char *
kr_conn_endpoint(const kr_conn *c)
{
	return c->endpoint;
}

void
kr_conn_cancel_on(kr_conn *c, const atomic_int *stop)
{
	c->stop = stop;
}

static int
s_stopping(const kr_conn *c)
{
	return c->stop && atomic_load(c->stop);
}

static int
s_stopped(const kr_conn *c)
{
	return kr_error(KR_ETIMEOUT, "%s: no longer waiting (stopping)", c->endpoint);
}

/* Pauses before asking a busy peer again: *pause_ms, then doubled. */
static int
s_busy_pause(kr_conn *c, int *pause_ms)
{
	uint32_t r;
	double until;

	kr_random(&r, sizeof(r));
	until = kr_monotonic_ms() + *pause_ms / 2 + r % (unsigned)(*pause_ms / 2 + 1);
	log_debug("peer %s: busy; asking again in %.0f ms", c->endpoint, until - kr_monotonic_ms());
	*pause_ms = *pause_ms * 2 > BUSY_MAX_MS ? BUSY_MAX_MS : *pause_ms * 2;
	for (;;) {
		double left = until - kr_monotonic_ms();
		struct timespec ts;
		if (s_stopping(c))
			return s_stopped(c);
		if (left <= 0)
			return 0;
		if (left > SLICE_MS)
			left = SLICE_MS;
		ts.tv_sec = 0;
		ts.tv_nsec = (long)(left * 1e6);
		nanosleep(&ts, NULL);
	}
}

static int
s_send(kr_conn *c, kr_request *req)
{
	kr_buf b = KR_BUF_INIT;
	int rc;

	if (c->unkeyed && (rc = s_connect(c, c->unkeyed)) < 0)
		return rc;
	req->id = ++c->next_id;
	kr_request_encode(&b, req);
	rc = zmq_send(c->sock, b.ptr, b.len, 0);
	kr_buf_release(&b);
	return rc < 0 ? kr_error(KR_EIO, "%s: send: %s", c->endpoint, zmq_strerror(zmq_errno())) : 0;
}

/* Receives the next reply whose id is in [lo, hi]; others are stale. */
static int
s_recv(kr_conn *c, uint64_t lo, uint64_t hi, kr_reply *rep)
{
	double deadline = kr_monotonic_ms() + c->timeout_ms;

	for (;;) {
		zmq_pollitem_t it = { c->sock, 0, ZMQ_POLLIN, 0 };
		double left = deadline - kr_monotonic_ms();
		zmq_msg_t msg;
		int rc;

		if (s_stopping(c))
			return s_stopped(c);
		if (left <= 0) {
			/* a node that changed its transport key looks like a silent one: ask why */
			int why = kr_transport_check(c->endpoint, SLICE_MS * 5);
			if (why < 0)
				return why;
			return kr_error(KR_ETIMEOUT, "%s did not answer within %d ms%s", c->endpoint, c->timeout_ms,
			    why > 0 ? " (it rotated its transport key; the new one is pinned now)" : "");
		}
		if (zmq_poll(&it, 1, (long)(left < SLICE_MS ? left : SLICE_MS)) < 0) {
			if (zmq_errno() == EINTR)
				continue;
			return kr_error(KR_EIO, "%s: poll: %s", c->endpoint, zmq_strerror(zmq_errno()));
		}
		if (!(it.revents & ZMQ_POLLIN))
			continue;
		zmq_msg_init(&msg);
		if (zmq_msg_recv(&msg, c->sock, 0) < 0) {
			zmq_msg_close(&msg);
			return kr_error(KR_EIO, "%s: recv: %s", c->endpoint, zmq_strerror(zmq_errno()));
		}
		if (zmq_msg_more(&msg)) {
			/* A reply is one frame: drain the rest and refuse it. */
			do {
				zmq_msg_close(&msg);
				zmq_msg_init(&msg);
			} while (zmq_msg_recv(&msg, c->sock, 0) >= 0 && zmq_msg_more(&msg));
			zmq_msg_close(&msg);
			return kr_error(KR_EPROTO, "%s sent a multi-frame reply", c->endpoint);
		}
		rc = kr_reply_decode(rep, zmq_msg_data(&msg), zmq_msg_size(&msg));
		zmq_msg_close(&msg);
		if (rc < 0)
			return kr_error_prefix(rc, "%s sent a malformed reply", c->endpoint);
		if (rep->id >= lo && rep->id <= hi)
			return 0;
		kr_reply_clear(rep);
	}
}

int
kr_conn_call(kr_conn *c, kr_request *req, kr_reply *rep)
{
	double give_up = kr_monotonic_ms() + c->timeout_ms;
	int rc, pause_ms = BUSY_FIRST_MS;

	for (;;) {
		if ((rc = s_send(c, req)) < 0)
			return rc;
		if ((rc = s_recv(c, req->id, req->id, rep)) < 0)
			return rc;
		if (rep->type != KR_REP_ERROR || rep->code != KR_WIRE_EBUSY)
			break;
		kr_reply_clear(rep);
		if (kr_monotonic_ms() >= give_up)
			return kr_error(KR_ETIMEOUT, "%s stayed busy for %d ms", c->endpoint, c->timeout_ms);
		if ((rc = s_busy_pause(c, &pause_ms)) < 0)
			return rc;
	}
	if (rep->type == KR_REP_ERROR) {
		rc = kr_error(rep->code == KR_WIRE_ENOTFOUND ? KR_ENOTFOUND : KR_EIO, "%s: %s",
		    c->endpoint, rep->text ? rep->text : "error");
		kr_reply_clear(rep);
	}
	return rc;
}

static int
s_fetch(void *arg, const char *pub, const char *coll, const uint8_t want[KR_OID_LEN],
    const uint8_t *have, uint64_t max, kr_packin *in, uint64_t *bytes)
{
	kr_conn *c = arg;
	kr_request req = { .type = KR_REQ_FETCH };
	uint8_t haves[1][KR_OID_LEN];
	uint64_t total = 0, next = 0, received = 0, first_id = 0;
	size_t inflight = 0;
	int rc = 0, known = 0, pause_ms = BUSY_FIRST_MS;
	double busy_since = 0;

	*bytes = 0;
	kr_unhex(req.publisher, KR_FPR_LEN, pub);
	snprintf(req.collection, sizeof(req.collection), "%s", coll);
	memcpy(req.want, want, KR_OID_LEN);
	if (have) {
		memcpy(haves[0], have, KR_OID_LEN);
		req.haves = haves;
		req.nhaves = 1;
	}
	req.length = CHUNK;
	for (;;) {
		kr_reply rep;
		/* Before the size is known only one request is out. */
		while ((known ? next < total : next == 0) && inflight < (known ? CREDIT : 1)) {
			req.offset = next;
			if ((rc = s_send(c, &req)) < 0)
				return rc;
			if (!first_id)
				first_id = req.id;
			next += CHUNK;
			inflight++;
		}
		if (known && received == total)
			break;
		if ((rc = s_recv(c, first_id, c->next_id, &rep)) < 0)
			return rc;
		inflight--;
		if (rep.type == KR_REP_ERROR && rep.code == KR_WIRE_EBUSY) {
			/* Ask again from the last chunk held; replies to the rest are stale. */
			kr_reply_clear(&rep);
			if (!busy_since)
				busy_since = kr_monotonic_ms();
			else if (kr_monotonic_ms() - busy_since > c->timeout_ms)
				return kr_error(KR_ETIMEOUT, "%s stayed busy for %d ms", c->endpoint, c->timeout_ms);
			if ((rc = s_busy_pause(c, &pause_ms)) < 0)
				return rc;
			next = received;
			inflight = 0;
			first_id = 0;
			continue;
		}
		if (rep.type == KR_REP_ERROR && rep.code == KR_WIRE_ENOTFOUND) {
			/* it offered a manifest naming a commit it does not hold (join --kind left it out there) */
			char hex[KR_OID_HEX + 1];
			kr_hex(hex, want, KR_OID_LEN);
			c->not_held++;
			rc = kr_error(KR_ENOTFOUND, "not held there (commit %.12s; it answered: %s)", hex,
			    rep.text ? rep.text : "not held here");
			kr_reply_clear(&rep);
			return rc;
		}
		if (rep.type == KR_REP_ERROR) {
			rc = kr_error(KR_EIO, "%s: %s", c->endpoint, rep.text ? rep.text : "error");
			kr_reply_clear(&rep);
			return rc;
		}
		if (rep.type != KR_REP_CHUNK) {
			kr_reply_clear(&rep);
			return kr_error(KR_EPROTO, "%s answered a fetch with something else", c->endpoint);
		}
		if (!known) {
			total = rep.total;
			known = 1;
			if (total > max) {
				kr_reply_clear(&rep);
				return kr_error(KR_EVERIFY, "peer %s offers a pack of %llu bytes, more than the "
				    "%llu the signed manifest (or the local cap) allows", c->endpoint,
				    (unsigned long long)total, (unsigned long long)max);
			}
		}
		if (rep.total != total || rep.offset != received ||
		    rep.data_len != (total - received < CHUNK ? total - received : CHUNK)) {
			kr_reply_clear(&rep);
			return kr_error(KR_EPROTO, "peer %s sent a chunk out of place (offset %llu, "
			    "expected %llu of %llu)", c->endpoint, (unsigned long long)rep.offset,
			    (unsigned long long)received, (unsigned long long)total);
		}
		rc = rep.data_len ? kr_packin_append(in, rep.data, rep.data_len) : 0;
		received += rep.data_len;
		busy_since = 0;
		pause_ms = BUSY_FIRST_MS;
		*bytes = received;
		kr_reply_clear(&rep);
		if (rc < 0)
			return rc;
		if (received == total)
			break;
	}
	return 0;
}

void
kr_conn_fetcher(kr_fetcher *fx, kr_conn *c)
{
	fx->fetch = s_fetch;
	fx->arg = c;
	fx->peer = c->endpoint;
	fx->colls = NULL;
	fx->ncolls = 0;
	fx->offered = NULL;
}

/*
 * kr_replica_apply of a manifest the peer on c offered, through fx. A
 * failure because the peer does not hold a collection its manifest names
 * is *not_held: nothing changed, the peer is not at fault, and the peers
 * that hold it serve it (not a failure, not a quarantine).
 */
static int
s_apply(kr_home *h, kr_conn *c, const kr_fetcher *fx, const void *bytes, size_t len, kr_apply *a,
    int *not_held)
{
	size_t before = c->not_held;
	int rc = kr_replica_apply(&h->rep, bytes, len, fx, a);

	*not_held = rc < 0 && !a->quarantined && c->not_held > before;
	return rc;
}

/* The fetcher for c, holding only the collections of the kinds joined through it for (join --kind). */
static void
s_fetcher(kr_home *h, kr_conn *c, kr_fetcher *fx, char ***colls, size_t *ncolls)
{
	kr_conn_fetcher(fx, c);
	/* a filter that cannot be read: all, said in the log */
	if (kr_fed_collections(h, c->endpoint, colls, ncolls) < 0) {
		log_warnx("peer %s: the join filter: %s", c->endpoint, kr_errmsg());
		kr_error_clear();
	}
	fx->colls = *colls;
	fx->ncolls = *ncolls;
}

int
kr_peer_apply(kr_home *h, kr_conn *c, const void *bytes, size_t len, const void *packs, size_t plen,
    kr_apply *a, int *not_held)
{
	kr_fetcher fx;
	kr_inline offered = { 0 };
	char **colls = NULL;
	size_t ncolls = 0;
	int rc;

	s_fetcher(h, c, &fx, &colls, &ncolls);
	/* packs that do not decode are no offer: the manifest is applied by fetching */
	if (plen && kr_inline_decode(&offered, packs, plen) < 0) {
		log_debug("peer %s: the packs announced with a manifest: %s", c->endpoint, kr_errmsg());
		kr_error_clear();
	}
	fx.offered = offered.n ? &offered : NULL;
	rc = s_apply(h, c, &fx, bytes, len, a, not_held);
	kr_inline_clear(&offered);
	kr_strv_free(colls, ncolls);
	return rc;
}

void
kr_peer_ask_all(char *const *endpoints, size_t n, kr_request *req, int deadline_ms,
    kr_peer_answer *out)
{
	void *ctx = zmq_ctx_new();
	void **socks = kr_calloc(n, sizeof(void *));
	double t0 = kr_monotonic_ms();
	size_t left = 0;
	kr_buf msg = KR_BUF_INIT;

	req->id = 1;
	kr_request_encode(&msg, req);
	for (size_t i = 0; i < n; i++) {
		int linger = 0;
		int64_t maxmsg = KR_MSG_MAX + 1024;
		memset(&out[i], 0, sizeof(out[i]));
		out[i].endpoint = endpoints[i];
		socks[i] = zmq_socket(ctx, ZMQ_DEALER);
		zmq_setsockopt(socks[i], ZMQ_LINGER, &linger, sizeof(linger));
		zmq_setsockopt(socks[i], ZMQ_MAXMSGSIZE, &maxmsg, sizeof(maxmsg));
		if (kr_transport_connect(socks[i], endpoints[i], NULL, 0, deadline_ms < 1000 ? deadline_ms : 1000) < 0) {
			out[i].error = kr_sprintf("cannot reach: %s", kr_errmsg());
			zmq_close(socks[i]);
			socks[i] = NULL;
			continue;
		}
		if (zmq_send(socks[i], msg.ptr, msg.len, ZMQ_DONTWAIT) < 0) {
			out[i].error = kr_sprintf("cannot reach: %s", zmq_strerror(zmq_errno()));
			zmq_close(socks[i]);
			socks[i] = NULL;
			continue;
		}
		left++;
	}
	while (left) {
		zmq_pollitem_t *it = kr_calloc(n, sizeof(*it));
		double rest = t0 + deadline_ms - kr_monotonic_ms();
		if (rest <= 0) {
			free(it);
			break;
		}
		for (size_t i = 0; i < n; i++)
			it[i] = (zmq_pollitem_t){ socks[i], 0, socks[i] ? ZMQ_POLLIN : 0, 0 };
		zmq_poll(it, (int)n, (long)rest + 1);
		for (size_t i = 0; i < n; i++) {
			zmq_msg_t m;
			if (!socks[i] || !(it[i].revents & ZMQ_POLLIN))
				continue;
			zmq_msg_init(&m);
			if (zmq_msg_recv(&m, socks[i], 0) >= 0) {
				if (kr_reply_decode(&out[i].rep, zmq_msg_data(&m), zmq_msg_size(&m)) < 0) {
					out[i].error = kr_sprintf("malformed reply: %s", kr_errmsg());
				} else if (out[i].rep.type == KR_REP_ERROR) {
					/* the peer's words, shown to the user: made safe here once */
					out[i].error = kr_safe(out[i].rep.text ? out[i].rep.text : "error");
					kr_reply_clear(&out[i].rep);
				} else if (req->type == KR_REQ_SEARCH && out[i].rep.type != KR_REP_SEARCH) {
					out[i].error = kr_strdup("answered a search with something else");
					kr_reply_clear(&out[i].rep);
				} else {
					out[i].answered = 1;
				}
				out[i].ms = kr_monotonic_ms() - t0;
			}
			zmq_msg_close(&m);
			zmq_close(socks[i]);
			socks[i] = NULL;
			left--;
		}
		free(it);
	}
	for (size_t i = 0; i < n; i++) {
		if (socks[i]) {
			out[i].error = kr_sprintf("no answer within %d ms", deadline_ms);
			zmq_close(socks[i]);
		}
	}
	free(socks);
	kr_buf_release(&msg);
	zmq_ctx_term(ctx);
}

void
kr_peer_answers_free(kr_peer_answer *a, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(a[i].error);
		if (a[i].answered)
			kr_reply_clear(&a[i].rep);
	}
}

#define CHAIN_BYTES_MAX (64u << 20)

/*
 * A publisher followed through a peer (follow --publisher) that the peer's
 * snapshot did not name, and that this node holds nothing of, is never
 * served there: said in res->unserved and kept as the setting
 * "unserved <endpoint>" for status and peers, so it is not silent.
 */
static void
s_unserved(kr_home *h, const char *endpoint, char *const *pubs, size_t npubs, const kr_reply *rep,
    kr_sync_result *res)
{
	kr_buf list = KR_BUF_INIT;
	char *key = kr_sprintf("unserved %s", endpoint), *old;

	for (size_t i = 0; i < npubs; i++) {
		uint8_t p[KR_FPR_LEN];
		int served = 0;
		kr_state_manifest m;
		kr_unhex(p, KR_FPR_LEN, pubs[i]);
		for (size_t k = 0; k < rep->nmanifests && !served; k++) {
			kr_signed sg;
			if (kr_signed_decode(&sg, rep->manifests[k].ptr, rep->manifests[k].len) == 0) {
				served = memcmp(sg.key, p, KR_FPR_LEN) == 0;
				kr_signed_clear(&sg);
			}
		}
		if (!served && kr_state_manifest_get(h->state, pubs[i], &m) == 0) {
			served = 1; /* held from before: the peer may simply lag */
			kr_state_manifest_clear(&m);
		}
		kr_error_clear();
		if (served)
			continue;
		res->unserved = kr_realloc(res->unserved, (res->nunserved + 1) * sizeof(char *));
		res->unserved[res->nunserved++] = kr_strdup(pubs[i]);
		kr_buf_addf(&list, "%s%s", list.len ? " " : "", pubs[i]);
	}
	old = kr_state_setting(h->state, key);
	if (strcmp(old ? old : "", list.len ? list.ptr : "") != 0)
		kr_state_setting_put(h->state, key, list.len ? list.ptr : "");
	free(old);
	free(key);
	kr_buf_release(&list);
}

void
kr_bufs_free(kr_buf *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		kr_buf_release(&v[i]);
	free(v);
}

int
kr_peer_chain(kr_conn *c, const uint8_t fed[32], uint64_t from, kr_buf **out, size_t *n)
{
	uint64_t bytes = 0, at = from;
	int rc = 0;

	*out = NULL;
	*n = 0;
	for (;;) {
		kr_request req = { .type = KR_REQ_MEMBERSHIP, .from_version = at };
		kr_reply rep;

		memcpy(req.fed, fed, 32);
		if ((rc = kr_conn_call(c, &req, &rep)) < 0)
			break;
		if (rep.type == KR_REP_ERROR) {
			rc = kr_error(rep.code == KR_WIRE_ENOTFOUND ? KR_ENOTFOUND : KR_EPROTO,
			    "peer %s: %s", c->endpoint, rep.text ? rep.text : "error");
			kr_reply_clear(&rep);
			break;
		}
		if (rep.type != KR_REP_MEMBERSHIP) {
			kr_reply_clear(&rep);
			rc = kr_error(KR_EPROTO, "peer %s answered a membership request with something else", c->endpoint);
			break;
		}
		if (rep.newest <= at) {
			kr_reply_clear(&rep);
			break;
		}
		if (rep.nversions == 0 || rep.newest > KR_FED_MAX_VERSIONS ||
		    *n + rep.nversions > KR_FED_MAX_VERSIONS) {
			kr_reply_clear(&rep);
			rc = kr_error(KR_EPROTO, "peer %s: membership reply with %zu versions towards version %llu "
			    "(empty, or past %d versions)", c->endpoint, rep.nversions,
			    (unsigned long long)rep.newest, KR_FED_MAX_VERSIONS);
			break;
		}
		*out = kr_realloc(*out, (*n + rep.nversions) * sizeof(kr_buf));
		for (size_t i = 0; i < rep.nversions; i++) {
			bytes += rep.versions[i].len;
			(*out)[(*n)++] = rep.versions[i];
			rep.versions[i] = (kr_buf)KR_BUF_INIT;
		}
		at += rep.nversions;
		kr_reply_clear(&rep);
		if (bytes > CHAIN_BYTES_MAX) {
			rc = kr_error(KR_EPROTO, "peer %s: membership chain over %u MB", c->endpoint, CHAIN_BYTES_MAX >> 20);
			break;
		}
	}
	if (rc < 0) {
		kr_bufs_free(*out, *n);
		*out = NULL;
		*n = 0;
	}
	return rc;
}

int
kr_peer_sync(kr_home *h, kr_conn *c, char *const *pubs, size_t npubs, int do_hello,
    void (*on_applied)(const char *pub, void *arg), void *arg, kr_sync_result *res)
{
	kr_request req = { 0 };
	kr_reply rep;
	kr_fetcher fx;
	char **want = NULL, **colls = NULL;
	size_t nwant = 0, ncolls = 0;
	int rc, joined = 0;

	memset(res, 0, sizeof(*res));
	if (do_hello) {
		req.type = KR_REQ_HELLO;
		if ((rc = kr_conn_call(c, &req, &rep)) < 0)
			goto down;
		if (rep.type != KR_REP_HELLO) {
			kr_reply_clear(&rep);
			rc = kr_error(KR_EPROTO, "%s answered hello with something else", c->endpoint);
			goto down;
		}
		res->announce = kr_strdup(rep.announce);
		res->name = kr_strdup(rep.name);
		{
			char node[KR_FPR_HEX + 1];
			kr_hex(node, rep.node, KR_FPR_LEN);
			kr_state_peer_seen(h->state, c->endpoint, node, rep.name, rep.announce, NULL);
		}
		kr_reply_clear(&rep);
	}
	/* The membership chain first: the receipt rules below use its newest version. */
	{
		size_t installed;
		if ((rc = kr_fed_catch_up(h, c, &installed)) < 0) {
			if (s_stopping(c) || rc == KR_ETIMEOUT)
				goto down;
			log_warnx("peer %s: federation: %s", c->endpoint, kr_errmsg());
			res->fed_refused = 1;
		}
		res->fed_installed = installed;
	}
	if ((rc = kr_fed_wanted(h, c->endpoint, pubs, npubs, &want, &nwant, &joined)) < 0)
		return rc;
	if (joined && nwant == 0) {
		/* joined, and no member but this node yet: nothing to ask for */
		kr_strv_free(want, nwant);
		kr_state_peer_seen(h->state, c->endpoint, NULL, NULL, NULL, NULL);
		return 0;
	}
	memset(&req, 0, sizeof(req));
	req.type = KR_REQ_SNAPSHOT;
	/* and our own manifest, as the peer holds it: after a lost state.db it tells our last seq */
	req.publishers = kr_calloc(nwant + 1, KR_FPR_LEN);
	req.npublishers = nwant + (nwant > 0);
	for (size_t i = 0; i < nwant; i++)
		kr_unhex(req.publishers[i], KR_FPR_LEN, want[i]);
	if (nwant > 0)
		kr_unhex(req.publishers[nwant], KR_FPR_LEN, h->fpr);
	kr_strv_free(want, nwant);
	rc = kr_conn_call(c, &req, &rep);
	free(req.publishers);
	if (rc < 0)
		goto down;
	if (rep.type != KR_REP_SNAPSHOT) {
		kr_reply_clear(&rep);
		rc = kr_error(KR_EPROTO, "%s answered snapshot with something else", c->endpoint);
		goto down;
	}
	memcpy(res->digest, rep.digest, 16);
	s_fetcher(h, c, &fx, &colls, &ncolls);
	for (size_t i = 0; i < rep.nmanifests; i++) {
		kr_apply a;
		int not_held;
		int arc = s_apply(h, c, &fx, rep.manifests[i].ptr, rep.manifests[i].len, &a, &not_held);
		res->bytes += a.bytes;
		if (arc < 0 && not_held) {
			res->not_held++;
			kr_log_not_held(c->endpoint, a.publisher, a.seq, kr_errmsg());
		} else if (arc < 0) {
			if (a.quarantined) {
				res->rejected++;
				kr_log_quarantined(c->endpoint, a.publisher, a.seq, kr_errmsg());
			} else if (arc == KR_ECONFLICT) {
				res->failed++; /* applied beside us from another peer: asked again at the next beacon */
				log_info("peer %s: publisher %.16s…: %s", c->endpoint, a.publisher, kr_errmsg());
			} else {
				res->failed++;
				log_warnx("peer %s: publisher %.16s…: %s", c->endpoint, a.publisher, kr_errmsg());
			}
		} else if (a.applied) {
			res->applied++;
			log_info("publisher %.16s…: seq %llu verified and applied from %s (%zu collections, %llu bytes)",
			    a.publisher, (unsigned long long)a.seq, c->endpoint, a.changed, (unsigned long long)a.bytes);
			if (a.continued)
				log_info("publisher %.16s…: %zu collection(s) continued from its previous key (rotation), "
				    "not fetched again", a.publisher, a.continued);
			log_debug("publisher %.16s…: fetch %.1f ms, verify %.1f ms, check+index %.1f ms, refs+state %.1f ms",
			    a.publisher, a.ms_fetch, a.ms_verify, a.ms_index, a.ms_record);
			if (on_applied)
				on_applied(a.publisher, arg);
		} else {
			res->ignored++;
		}
	}
	kr_strv_free(colls, ncolls);
	s_unserved(h, c->endpoint, pubs, npubs, &rep, res);
	kr_reply_clear(&rep);
	kr_state_peer_seen(h->state, c->endpoint, NULL, NULL, NULL, NULL);
	return 0;
down:
	if (s_stopping(c))
		return rc; /* not the peer's fault: record nothing */
	{
		char *why = kr_strdup(kr_errmsg());
		kr_state_peer_seen(h->state, c->endpoint, NULL, NULL, NULL, why);
		if (rc == KR_EPROTO) {
			/* A peer that speaks garbage is a hostile or broken peer: keep a record. */
			if (kr_state_begin(h->state) == 0) {
				if (kr_state_quarantine_add(h->state, NULL, c->endpoint, NULL, 0, why) == 0)
					kr_state_commit(h->state);
				else
					kr_state_rollback(h->state);
			}
			res->rejected++;
		}
		kr_error(rc, "%s", why);
		free(why);
	}
	return rc;
}
