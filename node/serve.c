/*
 * node/serve.c - the serve loop: one zmq_poll over every socket
 *
 * Sockets: ROUTER (requests), PUB (manifests and beacons), a control
 * ROUTER on ipc://<home>/control.sock (pokes from the CLI), one SUB per
 * peer, and an inproc PAIR to the replication worker. The worker (CZMQ
 * actor pattern) owns its own kr_home handles and DEALER connections and
 * does everything that waits on a peer: hello, snapshot, fetch, verify,
 * apply. The loop never blocks on the network; it shares messages with the
 * worker, never memory.
 *
 * Clone pattern: for each peer the loop subscribes first (after the
 * worker's hello told it where), then asks the worker for a snapshot; a
 * beacon whose digest differs from the one the last snapshot returned
 * triggers another snapshot.
 */
#include "serve.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zmq.h>

#include "../sharing/manifest.h"
#include "../sharing/search.h"
#include "log.h"
#include "peer.h"
#include "web.h"

#define PIPE_EP "inproc://kairan-worker"
#define HELLO_RETRY_MS 3000

static volatile sig_atomic_t s_stop;

static void
s_on_signal(int sig)
{
	(void)sig;
	s_stop = 1;
}

/* ---- frames ---------------------------------------------------------- */

static int
s_sendv(void *sock, const char *const *frames, const size_t *lens, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (zmq_send(sock, frames[i], lens[i], i + 1 < n ? ZMQ_SNDMORE : 0) < 0)
			return -1;
	return 0;
}

static int
s_sends(void *sock, const char *a, const char *b, const void *c, size_t clen)
{
	const char *f[3] = { a, b, c };
	size_t l[3] = { strlen(a), b ? strlen(b) : 0, clen };

	return s_sendv(sock, f, l, c ? 3 : b ? 2 : 1);
}

typedef struct {
	zmq_msg_t part[8];
	size_t n;
	int truncated;
} s_frames;

static int
s_recv_frames(void *sock, s_frames *f)
{
	f->n = 0;
	f->truncated = 0;
	for (;;) {
		zmq_msg_t tmp;
		zmq_msg_t *m = f->n < 8 ? &f->part[f->n] : &tmp;
		zmq_msg_init(m);
		if (zmq_msg_recv(m, sock, ZMQ_DONTWAIT) < 0) {
			zmq_msg_close(m);
			for (size_t i = 0; i < f->n; i++)
				zmq_msg_close(&f->part[i]);
			f->n = 0;
			return -1;
		}
		int more = zmq_msg_more(m);
		if (f->n < 8)
			f->n++;
		else {
			zmq_msg_close(&tmp);
			f->truncated = 1;
		}
		if (!more)
			return 0;
	}
}

static void
s_frames_close(s_frames *f)
{
	for (size_t i = 0; i < f->n; i++)
		zmq_msg_close(&f->part[i]);
	f->n = 0;
}

static char *
s_frame_str(s_frames *f, size_t i)
{
	return kr_strndup(zmq_msg_data(&f->part[i]), zmq_msg_size(&f->part[i]));
}

static int
s_frame_is(s_frames *f, size_t i, const char *s)
{
	return i < f->n && zmq_msg_size(&f->part[i]) == strlen(s) &&
	    memcmp(zmq_msg_data(&f->part[i]), s, strlen(s)) == 0;
}

/* ---- the worker ------------------------------------------------------ */

typedef struct s_wconn {
	kr_conn *conn;
	struct s_wconn *next;
} s_wconn;

typedef struct {
	void *zctx;
	char *home;
	int timeout_ms;
	void *pipe;
	kr_home h;
	s_wconn *conns;
} s_worker;

static kr_conn *
s_worker_conn(s_worker *w, const char *endpoint)
{
	s_wconn *c;

	for (c = w->conns; c; c = c->next)
		if (strcmp(kr_conn_endpoint(c->conn), endpoint) == 0)
			return c->conn;
	c = kr_calloc(1, sizeof(*c));
	if (kr_conn_open(&c->conn, w->zctx, endpoint, w->timeout_ms) < 0) {
		free(c);
		return NULL;
	}
	c->next = w->conns;
	w->conns = c;
	return c->conn;
}

/* After a failed exchange a DEALER may still get the late reply; start afresh. */
static void
s_worker_drop(s_worker *w, const char *endpoint)
{
	for (s_wconn **pp = &w->conns; *pp; pp = &(*pp)->next)
		if (strcmp(kr_conn_endpoint((*pp)->conn), endpoint) == 0) {
			s_wconn *c = *pp;
			*pp = c->next;
			kr_conn_destroy(&c->conn);
			free(c);
			return;
		}
}

static void
s_worker_applied(const char *pub, void *arg)
{
	s_worker *w = arg;

	s_sends(w->pipe, "applied", pub, NULL, 0);
}

static void
s_worker_sync(s_worker *w, const char *endpoint, int do_hello)
{
	kr_state_peer *peers = NULL;
	size_t npeers = 0;
	char **pubs = NULL;
	size_t npubs = 0;
	kr_sync_result res;
	kr_conn *c;
	int rc;

	kr_state_peers(w->h.state, &peers, &npeers);
	for (size_t i = 0; i < npeers; i++)
		if (strcmp(peers[i].endpoint, endpoint) == 0) {
			pubs = peers[i].publishers;
			npubs = peers[i].npublishers;
		}
	if (!(c = s_worker_conn(w, endpoint))) {
		s_sends(w->pipe, "down", endpoint, kr_errmsg(), strlen(kr_errmsg()));
		kr_state_peers_free(peers, npeers);
		return;
	}
	rc = kr_peer_sync(&w->h, c, pubs, npubs, do_hello, s_worker_applied, w, &res);
	if (rc < 0) {
		log_warnx("peer %s: %s", endpoint, kr_errmsg());
		s_worker_drop(w, endpoint);
		s_sends(w->pipe, "down", endpoint, kr_errmsg(), strlen(kr_errmsg()));
	} else {
		const char *f[4] = { "synced", endpoint, (const char *)res.digest, res.announce ? res.announce : "" };
		size_t l[4] = { 6, strlen(endpoint), 16, res.announce ? strlen(res.announce) : 0 };
		s_sendv(w->pipe, f, l, 4);
		if (res.applied || res.rejected)
			log_info("peer %s: snapshot: %zu applied, %zu rejected, %zu failed",
			    endpoint, res.applied, res.rejected, res.failed);
	}
	free(res.announce);
	free(res.name);
	kr_state_peers_free(peers, npeers);
}

static void
s_worker_manifest(s_worker *w, const char *endpoint, const void *data, size_t len)
{
	kr_conn *c = s_worker_conn(w, endpoint);
	kr_fetcher fx;
	kr_apply a;
	int rc;

	if (!c)
		return;
	kr_conn_fetcher(&fx, c);
	rc = kr_replica_apply(&w->h.rep, data, len, &fx, &a);
	if (rc < 0) {
		log_warnx("peer %s: publisher %.16s… seq %llu %s: %s", endpoint, a.publisher,
		    (unsigned long long)a.seq, a.quarantined ? "rejected (quarantined)" : "not applied",
		    kr_errmsg());
		if (!a.quarantined)
			s_worker_drop(w, endpoint);
	} else if (a.applied) {
		log_info("publisher %.16s…: seq %llu verified and applied from %s (%zu collections, %llu bytes)",
		    a.publisher, (unsigned long long)a.seq, endpoint, a.changed, (unsigned long long)a.bytes);
		log_debug("publisher %.16s…: fetch %.1f ms, verify %.1f ms, check+index %.1f ms, refs+state %.1f ms",
		    a.publisher, a.ms_fetch, a.ms_verify, a.ms_index, a.ms_record);
		s_worker_applied(a.publisher, w);
	}
}

static void *
s_worker_main(void *arg)
{
	s_worker *w = arg;

	for (;;) {
		s_frames f;
		zmq_pollitem_t it = { w->pipe, 0, ZMQ_POLLIN, 0 };

		if (zmq_poll(&it, 1, -1) < 0) {
			if (zmq_errno() == EINTR)
				continue;
			break;
		}
		if (s_recv_frames(w->pipe, &f) < 0)
			continue;
		if (s_frame_is(&f, 0, "stop")) {
			s_frames_close(&f);
			break;
		}
		if ((s_frame_is(&f, 0, "hello") || s_frame_is(&f, 0, "snapshot")) && f.n >= 2) {
			char *ep = s_frame_str(&f, 1);
			s_worker_sync(w, ep, s_frame_is(&f, 0, "hello"));
			free(ep);
		} else if (s_frame_is(&f, 0, "manifest") && f.n >= 3) {
			char *ep = s_frame_str(&f, 1);
			s_worker_manifest(w, ep, zmq_msg_data(&f.part[2]), zmq_msg_size(&f.part[2]));
			free(ep);
		}
		s_frames_close(&f);
	}
	while (w->conns) {
		s_wconn *c = w->conns;
		w->conns = c->next;
		kr_conn_destroy(&c->conn);
		free(c);
	}
	s_sends(w->pipe, "stopped", NULL, NULL, 0);
	return NULL;
}

/* ---- pack cache ------------------------------------------------------ */

typedef struct s_pack {
	uint8_t key[32];
	kr_buf data;
	double used;
	struct s_pack *next;
} s_pack;

typedef struct {
	s_pack *head;
	size_t bytes, budget;
	size_t builds, hits;
} s_cache;

static s_pack *
s_cache_get(s_cache *c, const uint8_t key[32])
{
	for (s_pack *p = c->head; p; p = p->next)
		if (memcmp(p->key, key, 32) == 0) {
			p->used = kr_monotonic_ms();
			c->hits++;
			return p;
		}
	return NULL;
}

static s_pack *
s_cache_put(s_cache *c, const uint8_t key[32], kr_buf *data)
{
	s_pack *p = kr_calloc(1, sizeof(*p));

	memcpy(p->key, key, 32);
	p->data = *data;
	*data = (kr_buf)KR_BUF_INIT;
	p->used = kr_monotonic_ms();
	p->next = c->head;
	c->head = p;
	c->bytes += p->data.len;
	c->builds++;
	while (c->bytes > c->budget && c->head->next) {
		s_pack **oldest = &c->head, **pp;
		for (pp = &c->head; *pp; pp = &(*pp)->next)
			if ((*pp)->used < (*oldest)->used)
				oldest = pp;
		if (*oldest == p)
			break;
		s_pack *victim = *oldest;
		*oldest = victim->next;
		c->bytes -= victim->data.len;
		kr_buf_release(&victim->data);
		free(victim);
	}
	return p;
}

static void
s_cache_free(s_cache *c)
{
	while (c->head) {
		s_pack *p = c->head;
		c->head = p->next;
		kr_buf_release(&p->data);
		free(p);
	}
}

/* ---- the loop -------------------------------------------------------- */

typedef struct {
	char *endpoint;
	char **pubs;
	size_t npubs;
	void *sub;
	char *announce;
	int busy, again, up;
	int have_digest;
	uint8_t digest[16];
	double retry_at;
	int mark;
} s_peer;

typedef struct {
	kr_home *h;
	void *zctx, *router, *pub, *control, *pipe;
	char *listen_ep, *announce_ep;
	s_peer *peers;
	size_t npeers;
	s_cache cache;
	double next_beacon;
} s_server;

static void
s_announce(s_server *s, const char *pub)
{
	kr_state_manifest m;
	char topic[2 + KR_FPR_HEX + 1];
	const char *f[2];
	size_t l[2];

	if (kr_state_manifest_get(s->h->state, pub, &m) < 0)
		return;
	snprintf(topic, sizeof(topic), "m/%s", pub);
	f[0] = topic;
	l[0] = strlen(topic);
	f[1] = m.signed_bytes.ptr;
	l[1] = m.signed_bytes.len;
	s_sendv(s->pub, f, l, 2);
	log_debug("publisher %.16s…: announced seq %llu", pub, (unsigned long long)m.seq);
	kr_state_manifest_clear(&m);
}

/* Digest over every (publisher, seq) this node holds. */
static void
s_digest(s_server *s, uint8_t out[16])
{
	kr_state_manifest *ms;
	size_t n;
	kr_pubseq *set;

	if (kr_state_manifest_list(s->h->state, &ms, &n) < 0) {
		memset(out, 0, 16);
		return;
	}
	set = kr_calloc(n, sizeof(*set));
	for (size_t i = 0; i < n; i++) {
		kr_unhex(set[i].pub, KR_FPR_LEN, ms[i].publisher);
		set[i].seq = ms[i].seq;
	}
	kr_manifest_digest(out, set, n);
	free(set);
	kr_state_manifests_free(ms, n);
}

static void
s_beacon(s_server *s)
{
	kr_beacon b;
	kr_buf out = KR_BUF_INIT;
	const char *f[2] = { "b", NULL };
	size_t l[2] = { 1, 0 };

	memcpy(b.node, kr_key_pub(s->h->key), KR_FPR_LEN);
	b.time = kr_now();
	s_digest(s, b.digest);
	kr_beacon_encode(&out, &b);
	f[1] = out.ptr;
	l[1] = out.len;
	s_sendv(s->pub, f, l, 2);
	kr_buf_release(&out);
}

static void
s_reply(s_server *s, zmq_msg_t *identity, kr_reply *rep)
{
	kr_buf out = KR_BUF_INIT;

	kr_reply_encode(&out, rep);
	zmq_send(s->router, zmq_msg_data(identity), zmq_msg_size(identity), ZMQ_SNDMORE);
	zmq_send(s->router, out.ptr, out.len, 0);
	kr_buf_release(&out);
}

static void
s_reply_error(s_server *s, zmq_msg_t *identity, uint64_t id, uint32_t code, const char *text)
{
	kr_reply rep = { .id = id, .type = KR_REP_ERROR, .code = code, .text = (char *)text };

	s_reply(s, identity, &rep);
}

static void
s_handle_fetch(s_server *s, zmq_msg_t *identity, kr_request *req)
{
	char pub[KR_FPR_HEX + 1];
	uint8_t key[32];
	kr_buf k = KR_BUF_INIT;
	s_pack *p;
	kr_reply rep = { .id = req->id, .type = KR_REP_CHUNK };

	kr_hex(pub, req->publisher, KR_FPR_LEN);
	kr_buf_add(&k, req->publisher, KR_FPR_LEN);
	kr_buf_adds(&k, req->collection);
	kr_buf_add(&k, req->want, KR_OID_LEN);
	for (size_t i = 0; i < req->nhaves; i++)
		kr_buf_add(&k, req->haves[i], KR_OID_LEN);
	kr_sha256(key, k.ptr, k.len);
	kr_buf_release(&k);

	if (!(p = s_cache_get(&s->cache, key))) {
		kr_buf pack = KR_BUF_INIT;
		char want[KR_OID_HEX + 1];
		double t0 = kr_monotonic_ms();
		kr_hex(want, req->want, KR_OID_LEN);
		/* Serve only verified history: want must be our head or behind it. */
		if (!kr_store_reachable(s->h->store, pub, req->collection, req->want)) {
			s_reply_error(s, identity, req->id, KR_WIRE_ENOTFOUND, "commit not held here (yet)");
			return;
		}
		if (kr_store_pack(s->h->store, pub, req->collection, req->want,
		    (const uint8_t (*)[KR_OID_LEN])req->haves, req->nhaves, &pack) < 0) {
			log_warnx("publisher %.16s…/%s: building pack: %s", pub, req->collection, kr_errmsg());
			s_reply_error(s, identity, req->id, KR_WIRE_EINTERNAL, "cannot build pack");
			kr_buf_release(&pack);
			return;
		}
		p = s_cache_put(&s->cache, key, &pack);
		log_debug("publisher %.16s…/%s: built pack for %.12s (%zu bytes, %.1f ms)", pub,
		    req->collection, want, p->data.len, kr_monotonic_ms() - t0);
	}
	if (req->offset > p->data.len) {
		s_reply_error(s, identity, req->id, KR_WIRE_EBADREQ, "offset beyond the end of the pack");
		return;
	}
	rep.offset = req->offset;
	rep.total = p->data.len;
	rep.data = (const uint8_t *)p->data.ptr + req->offset;
	rep.data_len = p->data.len - req->offset < req->length ? p->data.len - req->offset : req->length;
	s_reply(s, identity, &rep);
}

/* Answers a peer's search from this node's own index. */
static void
s_handle_search(s_server *s, zmq_msg_t *identity, kr_request *req)
{
	kr_buf match = KR_BUF_INIT;
	kr_search_q q = { .limit = req->limit };
	kr_search_result r;
	kr_reply rep = { .id = req->id, .type = KR_REP_SEARCH };
	const char **f[KR_SEARCH_FIELDS] = { &q.match, &q.kind, &q.domain, &q.ai_use, &q.outcome,
		&q.deployment, &q.publisher, &q.pref, &q.popband, &q.since };

	if (kr_search_compile(req->search[0], &match) < 0) {
		s_reply_error(s, identity, req->id, KR_WIRE_EBADREQ, kr_errmsg());
		kr_buf_release(&match);
		return;
	}
	for (int i = 1; i < KR_SEARCH_FIELDS; i++)
		*f[i] = req->search[i];
	q.match = match.ptr;
	if (kr_state_search(s->h->state, &q, &r) < 0) {
		s_reply_error(s, identity, req->id, KR_WIRE_EINTERNAL, kr_errmsg());
		kr_buf_release(&match);
		return;
	}
	rep.hits = kr_calloc(r.nhits, sizeof(kr_wire_hit));
	rep.nhits = r.nhits;
	rep.total = r.total;
	for (size_t i = 0; i < r.nhits; i++) {
		kr_wire_hit *w = &rep.hits[i];
		kr_search_hit *h = &r.hits[i];
		w->id = h->id; w->title = h->title; w->pub_name = h->pub_name; w->lg_code = h->pub_code;
		w->kind = h->kind; w->version = h->version; w->snippet = h->snippet;
		w->outcome = h->outcome; w->headline = h->headline; w->updated = h->updated;
		kr_unhex(w->publisher, KR_FPR_LEN, h->publisher);
	}
	s_reply(s, identity, &rep);
	log_debug("search from a peer: %zu of %zu hits", r.nhits, r.total);
	free(rep.hits);
	kr_search_result_free(&r);
	kr_buf_release(&match);
}

static void
s_handle_request(s_server *s)
{
	s_frames f;
	kr_request req;

	if (s_recv_frames(s->router, &f) < 0)
		return;
	if (f.n != 2 || f.truncated) {
		if (f.n >= 1)
			s_reply_error(s, &f.part[0], 0, KR_WIRE_EBADREQ, "a request is one frame");
		s_frames_close(&f);
		return;
	}
	if (kr_request_decode(&req, zmq_msg_data(&f.part[1]), zmq_msg_size(&f.part[1])) < 0) {
		log_debug("request: %s", kr_errmsg());
		s_reply_error(s, &f.part[0], 0, KR_WIRE_EBADREQ, kr_errmsg());
		s_frames_close(&f);
		return;
	}
	switch (req.type) {
	case KR_REQ_HELLO: {
		kr_reply rep = { .id = req.id, .type = KR_REP_HELLO, .version = KR_PROTO_VERSION,
			.name = s->h->cfg.name, .lg_code = s->h->cfg.lg_code, .announce = s->announce_ep };
		memcpy(rep.node, kr_key_pub(s->h->key), KR_FPR_LEN);
		s_reply(s, &f.part[0], &rep);
		break;
	}
	case KR_REQ_SNAPSHOT: {
		kr_state_manifest *ms;
		size_t n, k = 0;
		kr_reply rep = { .id = req.id, .type = KR_REP_SNAPSHOT };
		if (kr_state_manifest_list(s->h->state, &ms, &n) < 0) {
			s_reply_error(s, &f.part[0], req.id, KR_WIRE_EINTERNAL, "state unavailable");
			break;
		}
		rep.manifests = kr_calloc(n, sizeof(kr_buf));
		for (size_t i = 0; i < n; i++) {
			uint8_t p[KR_FPR_LEN];
			int want = req.npublishers == 0;
			kr_unhex(p, KR_FPR_LEN, ms[i].publisher);
			for (size_t j = 0; j < req.npublishers && !want; j++)
				want = memcmp(req.publishers[j], p, KR_FPR_LEN) == 0;
			if (want)
				rep.manifests[k++] = ms[i].signed_bytes;
		}
		rep.nmanifests = k;
		s_digest(s, rep.digest);
		s_reply(s, &f.part[0], &rep);
		free(rep.manifests);
		kr_state_manifests_free(ms, n);
		break;
	}
	case KR_REQ_FETCH:
		s_handle_fetch(s, &f.part[0], &req);
		break;
	case KR_REQ_SEARCH:
		s_handle_search(s, &f.part[0], &req);
		break;
	}
	kr_request_clear(&req);
	s_frames_close(&f);
}

static s_peer *
s_peer_find(s_server *s, const char *endpoint)
{
	for (size_t i = 0; i < s->npeers; i++)
		if (strcmp(s->peers[i].endpoint, endpoint) == 0)
			return &s->peers[i];
	return NULL;
}

static void
s_peer_close(s_peer *p)
{
	if (p->sub)
		zmq_close(p->sub);
	free(p->endpoint);
	free(p->announce);
	kr_strv_free(p->pubs, p->npubs);
	memset(p, 0, sizeof(*p));
}

static void
s_ask_worker(s_server *s, s_peer *p, const char *what)
{
	if (p->busy) {
		p->again = 1;
		return;
	}
	p->busy = 1;
	s_sends(s->pipe, what, p->endpoint, NULL, 0);
}

/* Re-reads peers and follows from state: new peers get a hello. */
static void
s_load_peers(s_server *s)
{
	kr_state_peer *sp;
	size_t n;

	if (kr_state_peers(s->h->state, &sp, &n) < 0) {
		log_warnx("reading peers: %s", kr_errmsg());
		return;
	}
	for (size_t i = 0; i < s->npeers; i++)
		s->peers[i].mark = 0;
	for (size_t i = 0; i < n; i++) {
		s_peer *p = s_peer_find(s, sp[i].endpoint);
		if (!p) {
			s->peers = kr_realloc(s->peers, (s->npeers + 1) * sizeof(s_peer));
			p = &s->peers[s->npeers++];
			memset(p, 0, sizeof(*p));
			p->endpoint = kr_strdup(sp[i].endpoint);
			log_info("peer %s: following %zu publisher(s)", p->endpoint, sp[i].npublishers);
		} else {
			kr_strv_free(p->pubs, p->npubs);
		}
		p->pubs = sp[i].publishers;
		p->npubs = sp[i].npublishers;
		sp[i].publishers = NULL;
		sp[i].npublishers = 0;
		p->mark = 1;
		if (p->sub)
			for (size_t j = 0; j < p->npubs; j++) {
				char topic[2 + KR_FPR_HEX + 1];
				snprintf(topic, sizeof(topic), "m/%s", p->pubs[j]);
				zmq_setsockopt(p->sub, ZMQ_SUBSCRIBE, topic, strlen(topic));
			}
		if (p->up)
			s_ask_worker(s, p, "snapshot");
	}
	for (size_t i = 0; i < s->npeers;) {
		if (!s->peers[i].mark) {
			log_info("peer %s: unfollowed", s->peers[i].endpoint);
			s_peer_close(&s->peers[i]);
			s->peers[i] = s->peers[--s->npeers];
		} else {
			i++;
		}
	}
	kr_state_peers_free(sp, n);
}

/* The announce endpoint a peer gave, with a wildcard host replaced by the peer's. */
static char *
s_resolve_announce(const char *peer, const char *announce)
{
	const char *host = strstr(announce, "://"), *port;
	const char *phost = strstr(peer, "://"), *pport;

	if (!host || !phost)
		return kr_strdup(announce);
	host += 3;
	phost += 3;
	port = strrchr(host, ':');
	pport = strrchr(phost, ':');
	if (!port || !pport)
		return kr_strdup(announce);
	if (strncmp(host, "*:", 2) == 0 || strncmp(host, "0.0.0.0:", 8) == 0)
		return kr_sprintf("tcp://%.*s%s", (int)(pport - phost), phost, port);
	return kr_strdup(announce);
}

static void
s_handle_worker(s_server *s)
{
	s_frames f;

	if (s_recv_frames(s->pipe, &f) < 0)
		return;
	if (s_frame_is(&f, 0, "applied") && f.n >= 2) {
		char *pub = s_frame_str(&f, 1);
		s_announce(s, pub);
		free(pub);
	} else if ((s_frame_is(&f, 0, "synced") || s_frame_is(&f, 0, "down")) && f.n >= 2) {
		char *ep = s_frame_str(&f, 1);
		s_peer *p = s_peer_find(s, ep);
		if (p && s_frame_is(&f, 0, "down")) {
			p->busy = 0;
			p->up = 0;
			p->retry_at = kr_monotonic_ms() + HELLO_RETRY_MS;
		} else if (p) {
			char *ann = f.n >= 4 ? s_frame_str(&f, 3) : kr_strdup("");
			p->busy = 0;
			p->up = 1;
			if (zmq_msg_size(&f.part[2]) == 16) {
				memcpy(p->digest, zmq_msg_data(&f.part[2]), 16);
				p->have_digest = 1;
			}
			if (*ann && !p->sub) {
				/* First contact: subscribe, then snapshot again (Clone pattern). */
				p->announce = s_resolve_announce(p->endpoint, ann);
				p->sub = zmq_socket(s->zctx, ZMQ_SUB);
				int linger = 0;
				int64_t maxmsg = KR_MSG_MAX;
				zmq_setsockopt(p->sub, ZMQ_LINGER, &linger, sizeof(linger));
				zmq_setsockopt(p->sub, ZMQ_MAXMSGSIZE, &maxmsg, sizeof(maxmsg));
				zmq_setsockopt(p->sub, ZMQ_SUBSCRIBE, "b", 1);
				for (size_t j = 0; j < p->npubs; j++) {
					char topic[2 + KR_FPR_HEX + 1];
					snprintf(topic, sizeof(topic), "m/%s", p->pubs[j]);
					zmq_setsockopt(p->sub, ZMQ_SUBSCRIBE, topic, strlen(topic));
				}
				if (zmq_connect(p->sub, p->announce) < 0) {
					log_warnx("peer %s: cannot subscribe to %s: %s", p->endpoint, p->announce,
					    zmq_strerror(zmq_errno()));
				} else {
					log_info("peer %s: subscribed to %s", p->endpoint, p->announce);
					p->again = 1;
				}
			}
			free(ann);
			if (p->again) {
				p->again = 0;
				s_ask_worker(s, p, "snapshot");
			}
		}
		free(ep);
	}
	s_frames_close(&f);
}

static void
s_handle_sub(s_server *s, s_peer *p)
{
	s_frames f;

	if (s_recv_frames(p->sub, &f) < 0)
		return;
	if (f.n == 2 && !f.truncated && s_frame_is(&f, 0, "b")) {
		kr_beacon b;
		if (kr_beacon_decode(&b, zmq_msg_data(&f.part[1]), zmq_msg_size(&f.part[1])) == 0 &&
		    (!p->have_digest || memcmp(b.digest, p->digest, 16) != 0)) {
			log_debug("peer %s: beacon digest changed; asking for a snapshot", p->endpoint);
			s_ask_worker(s, p, "snapshot");
		}
	} else if (f.n == 2 && !f.truncated && zmq_msg_size(&f.part[0]) == 2 + KR_FPR_HEX &&
	    memcmp(zmq_msg_data(&f.part[0]), "m/", 2) == 0) {
		const char *fr[3] = { "manifest", p->endpoint, zmq_msg_data(&f.part[1]) };
		size_t l[3] = { 8, strlen(p->endpoint), zmq_msg_size(&f.part[1]) };
		s_sendv(s->pipe, fr, l, 3);
	} else {
		log_debug("peer %s: ignored a malformed announcement", p->endpoint);
	}
	s_frames_close(&f);
}

static void
s_handle_control(s_server *s)
{
	s_frames f;

	if (s_recv_frames(s->control, &f) < 0)
		return;
	if (f.n == 2) {
		if (s_frame_is(&f, 1, "announce")) {
			s_announce(s, s->h->fpr);
			log_info("publisher %.16s… (this node): new manifest announced", s->h->fpr);
		} else if (s_frame_is(&f, 1, "reload")) {
			s_load_peers(s);
		}
		zmq_send(s->control, zmq_msg_data(&f.part[0]), zmq_msg_size(&f.part[0]), ZMQ_SNDMORE);
		zmq_send(s->control, "ok", 2, 0);
	}
	s_frames_close(&f);
}

static void
s_maybe_resign(s_server *s)
{
	kr_state_manifest m;
	int64_t now = kr_now();

	if (kr_state_manifest_get(s->h->state, s->h->fpr, &m) < 0) {
		kr_error_clear();
		return;
	}
	if (m.expires - now < s->h->cfg.resign_before) {
		uint64_t seq;
		if (kr_replica_issue(&s->h->rep, &seq) == 0) {
			log_info("publisher %.16s… (this node): manifest re-signed as seq %llu before expiry",
			    s->h->fpr, (unsigned long long)seq);
			s_announce(s, s->h->fpr);
		} else {
			log_warnx("re-signing manifest: %s", kr_errmsg());
		}
	}
	kr_state_manifest_clear(&m);
}

static void *
s_bind(s_server *s, int type, const char *ep, char **actual)
{
	void *sock = zmq_socket(s->zctx, type);
	char buf[256];
	size_t len = sizeof(buf);
	int linger = 0;
	int64_t maxmsg = KR_MSG_MAX;

	zmq_setsockopt(sock, ZMQ_LINGER, &linger, sizeof(linger));
	if (type == ZMQ_ROUTER)
		zmq_setsockopt(sock, ZMQ_MAXMSGSIZE, &maxmsg, sizeof(maxmsg));
	if (zmq_bind(sock, ep) < 0) {
		kr_error(KR_EIO, "cannot bind %s: %s", ep, zmq_strerror(zmq_errno()));
		zmq_close(sock);
		return NULL;
	}
	if (actual) {
		zmq_getsockopt(sock, ZMQ_LAST_ENDPOINT, buf, &len);
		*actual = kr_strdup(buf);
	}
	return sock;
}

int
kr_serve(kr_home *h, const char *listen, const char *announce)
{
	s_server s = { 0 };
	s_worker w = { 0 };
	kr_web *web = NULL;
	pthread_t thread;
	struct sigaction sa;
	char *control_ep = kr_home_control(h);
	int rc = 0, have_thread = 0;

	s.h = h;
	s.cache.budget = h->cfg.pack_cache_bytes;
	s.zctx = zmq_ctx_new();
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = s_on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (kr_control_poke(h, "ping", 300) == 0) {
		rc = kr_error(KR_EEXISTS, "another kairan serve is already running on %s", h->home);
		goto done;
	}
	if (!(s.router = s_bind(&s, ZMQ_ROUTER, listen ? listen : h->cfg.listen, &s.listen_ep)) ||
	    !(s.pub = s_bind(&s, ZMQ_PUB, announce ? announce : h->cfg.announce, &s.announce_ep))) {
		rc = KR_EIO;
		goto done;
	}
	if (!(s.control = s_bind(&s, ZMQ_ROUTER, control_ep, NULL)))
		log_warnx("control socket: %s (a CLI publish will reach peers at the next beacon)", kr_errmsg());
	s.pipe = zmq_socket(s.zctx, ZMQ_PAIR);
	zmq_bind(s.pipe, PIPE_EP);
	w.zctx = s.zctx;
	w.timeout_ms = h->cfg.timeout_ms;
	w.pipe = zmq_socket(s.zctx, ZMQ_PAIR);
	zmq_connect(w.pipe, PIPE_EP);
	if ((rc = kr_home_open(&w.h, h->home)) < 0)
		goto done;
	if (pthread_create(&thread, NULL, s_worker_main, &w) != 0) {
		rc = kr_error(KR_ERROR, "cannot start the replication worker");
		goto done;
	}
	have_thread = 1;
	if (strcmp(h->cfg.web, "off") != 0) {
		/* the web pages: their own threads and handles (node/web.c), never this loop's */
		kr_web_conf wc = { .home = h->home, .url = h->cfg.web, .name = h->cfg.name, .lg_code = h->cfg.lg_code,
			.fpr = h->fpr, .retrieval_keys = h->cfg.web_retrieval_keys, .threads = h->cfg.web_threads,
			.timeout_s = h->cfg.web_timeout, .max_connections = h->cfg.web_max_connections, .per_ip = h->cfg.web_per_ip };
		if ((rc = kr_web_start(&web, &wc)) == KR_EUSAGE)
			goto done;
		if (rc < 0)
			log_warnx("%s; this node runs without its web pages", kr_errmsg());
		else
			log_info("web pages on %s/", kr_web_url(web));
		rc = 0;
	}

	/* Make sure we have a signed manifest to offer, fresh enough. */
	{
		kr_state_manifest m;
		if (kr_state_manifest_get(h->state, h->fpr, &m) < 0)
			kr_replica_issue(&h->rep, NULL);
		else
			kr_state_manifest_clear(&m);
	}
	s_maybe_resign(&s);
	log_info("node %s (%s, %.16s…): listening on %s, announcing on %s", h->cfg.name,
	    h->cfg.lg_code, h->fpr, s.listen_ep, s.announce_ep);
	s_load_peers(&s);
	for (size_t i = 0; i < s.npeers; i++)
		s_ask_worker(&s, &s.peers[i], "hello");
	s_announce(&s, h->fpr);

	while (!s_stop) {
		zmq_pollitem_t items[4 + 256];
		size_t n = 0, first_sub;
		double now = kr_monotonic_ms();
		long timeout;

		items[n++] = (zmq_pollitem_t){ s.router, 0, ZMQ_POLLIN, 0 };
		items[n++] = (zmq_pollitem_t){ s.control, 0, s.control ? ZMQ_POLLIN : 0, 0 };
		items[n++] = (zmq_pollitem_t){ s.pipe, 0, ZMQ_POLLIN, 0 };
		first_sub = n;
		for (size_t i = 0; i < s.npeers && n < sizeof(items) / sizeof(items[0]); i++)
			items[n++] = (zmq_pollitem_t){ s.peers[i].sub, 0, s.peers[i].sub ? ZMQ_POLLIN : 0, 0 };
		timeout = (long)(s.next_beacon - now);
		if (timeout < 0)
			timeout = 0;
		if (timeout > 500)
			timeout = 500;
		if (zmq_poll(items, (int)n, timeout) < 0) {
			if (zmq_errno() == EINTR)
				continue;
			rc = kr_error(KR_EIO, "poll: %s", zmq_strerror(zmq_errno()));
			break;
		}
		if (items[0].revents & ZMQ_POLLIN)
			for (int k = 0; k < 64 && (zmq_poll(items, 1, 0) > 0); k++)
				s_handle_request(&s);
		if (items[1].revents & ZMQ_POLLIN)
			s_handle_control(&s);
		if (items[2].revents & ZMQ_POLLIN)
			s_handle_worker(&s);
		for (size_t i = first_sub; i < n; i++)
			if ((items[i].revents & ZMQ_POLLIN) && i - first_sub < s.npeers)
				s_handle_sub(&s, &s.peers[i - first_sub]);
		now = kr_monotonic_ms();
		if (now >= s.next_beacon) {
			s_maybe_resign(&s);
			s_beacon(&s);
			s.next_beacon = now + h->cfg.beacon_ms;
		}
		for (size_t i = 0; i < s.npeers; i++)
			if (!s.peers[i].up && !s.peers[i].busy && now >= s.peers[i].retry_at)
				s_ask_worker(&s, &s.peers[i], "hello");
	}
	log_info("node %s: shutting down (pack cache: %zu builds, %zu hits)", h->cfg.name,
	    s.cache.builds, s.cache.hits);
done:
	kr_web_stop(&web);
	if (have_thread) {
		s_sends(s.pipe, "stop", NULL, NULL, 0);
		/* Wait for the worker to finish its current step; it never leaves state half-written. */
		for (;;) {
			s_frames f;
			zmq_pollitem_t it = { s.pipe, 0, ZMQ_POLLIN, 0 };
			if (zmq_poll(&it, 1, 1000) <= 0 && zmq_errno() != EINTR)
				continue;
			if (s_recv_frames(s.pipe, &f) < 0)
				continue;
			int stopped = s_frame_is(&f, 0, "stopped");
			s_frames_close(&f);
			if (stopped)
				break;
		}
		pthread_join(thread, NULL);
	}
	kr_home_close(&w.h);
	for (size_t i = 0; i < s.npeers; i++)
		s_peer_close(&s.peers[i]);
	free(s.peers);
	s_cache_free(&s.cache);
	if (w.pipe)
		zmq_close(w.pipe);
	if (s.pipe)
		zmq_close(s.pipe);
	if (s.router)
		zmq_close(s.router);
	if (s.pub)
		zmq_close(s.pub);
	if (s.control) {
		zmq_close(s.control);
		unlink(control_ep + 6);
	}
	zmq_ctx_term(s.zctx);
	free(s.listen_ep);
	free(s.announce_ep);
	free(control_ep);
	return rc;
}

int
kr_control_poke(const kr_home *h, const char *cmd, int timeout_ms)
{
	char *ep = kr_home_control(h);
	void *ctx, *sock;
	int linger = 0, rc = KR_ENOTFOUND;
	zmq_pollitem_t it;

	if (access(ep + 6, F_OK) != 0) {
		free(ep);
		return KR_ENOTFOUND;
	}
	ctx = zmq_ctx_new();
	sock = zmq_socket(ctx, ZMQ_DEALER);
	zmq_setsockopt(sock, ZMQ_LINGER, &linger, sizeof(linger));
	if (zmq_connect(sock, ep) == 0 && zmq_send(sock, cmd, strlen(cmd), ZMQ_DONTWAIT) >= 0) {
		it = (zmq_pollitem_t){ sock, 0, ZMQ_POLLIN, 0 };
		if (zmq_poll(&it, 1, timeout_ms) > 0) {
			char buf[8];
			if (zmq_recv(sock, buf, sizeof(buf), 0) >= 0)
				rc = 0;
		}
	}
	zmq_close(sock);
	zmq_ctx_term(ctx);
	free(ep);
	return rc;
}
