/*
 * node/serve.c - the serve loop: one zmq_poll over every socket
 *
 * Sockets: ROUTER (requests), PUB (manifests and beacons), the control
 * socket <home>/control.sock (pokes from the CLI: a unix stream socket,
 * node/control.c, polled through its descriptors), one SUB per
 * peer, an inproc PAIR to each replication worker and to each pool
 * worker. Threads, each with its own handles (kr_store is one per thread;
 * SQLite connections too), share messages with the loop, never memory
 * (the CZMQ actor pattern):
 *
 *   - the loop answers Hello and Snapshot at once (the manifest list is
 *     kept between beacons), and chunks of packs already built; it never
 *     blocks on the network, on git or on a search;
 *   - REPL_WORKERS replication workers do everything that waits on a
 *     peer: hello, snapshot, fetch, verify, apply. One peer's jobs go to
 *     one worker at a time, in order; other peers' go to the others, so a
 *     peer that does not answer (timeout_ms per attempt) holds up only the
 *     worker waiting on it (a hub replicating many members);
 *   - serve_workers pool workers answer searches and membership chains,
 *     find which pack a fetch names (resolve) and build packs.
 *
 * Clients and their limits (a client is one ROUTER connection). Requests a
 * connection sends are answered in order. One that the loop cannot answer
 * at once waits in the connection's queue; a connection has at most one
 * request with a pool worker, and connections take turns. At most
 * serve_credit requests wait per connection and serve_queue in all (and
 * WAITING_BYTES_MAX of request bytes); beyond that the client gets EBUSY
 * (peer.c asks again after a pause). When the whole queue is full, the
 * newest request of the connection with the most waiting is refused in
 * favour of one from a connection with fewer, so a flood cannot lock out
 * a well-behaved client. Replies queue per connection up to REPLY_HWM
 * messages (a chunk is at most CHUNK_SERVE_MAX); a client that does not
 * read its replies loses the newest ones (ZMQ_ROUTER_MANDATORY, sent with
 * ZMQ_DONTWAIT), so it never grows this process. Across all connections,
 * replies libzmq has not yet written stay under REPLY_BYTES_MAX (counted
 * back as libzmq frees them); beyond that a chunk request gets EBUSY, so
 * many connections that do not read cannot add up either.
 *
 * Packs are cached by what they contain: (publisher, collection, want, the
 * have the pack starts from), the have being one this node holds and
 * found to be want's ancestor (kr_store_pack_base), so unknown haves do not
 * make new packs; the cache holds pack_cache_bytes at most, and drops
 * packs nobody asked for in PACK_IDLE_MS. Requests for a pack being built
 * wait for that build. A memo maps the exact request (publisher,
 * collection, want, haves) to its pack, so the chunks after the first are
 * answered by the loop; the memo has ALIAS_MAX slots and a flood only
 * evicts memo entries, never packs.
 *
 * Clone pattern: for each peer the loop subscribes first (after the
 * worker's hello told it where), then asks the worker for a snapshot; a
 * beacon whose digest differs from the one the last snapshot returned
 * triggers another snapshot. A snapshot in which something failed (a busy
 * or broken peer) records no digest, so a later beacon asks again: the
 * next beacon after one failure, then after 2, 4, 8... beacon intervals
 * up to SNAPSHOT_BACKOFF_MAX_MS while failures follow each other, so a
 * peer failing for hours is neither hammered nor logged every beacon.
 * Announced manifests are applied as they come, whatever the backoff.
 *
 * Long running: every thread tidies about once a second while it works or
 * holds repos open (s_tidy): libgit2 caches and packs (replaced ones
 * included), its SQLite page cache, and malloc_trim; so descriptors,
 * mappings and RSS follow what the node holds, not how many updates it has
 * seen.
 *
 * Memory budgets: malloc keeps ARENAS_MAX arenas and maps every block of
 * 128 KB or more (unmapped at free); the SQLite connections of the loop and
 * the replication workers map no state.db and keep at most DB_CACHE_KB of
 * page cache each, the pool workers' SQLite's defaults (2 MB, state.db
 * mapped for searches); libgit2's parsed objects take at most 16 MB for
 * the process, its pack windows 64 MB mapped in at most 128 open packs
 * (sharing/store.c); packs cached for fetches pack_cache_bytes, replies
 * not yet written REPLY_BYTES_MAX, requests waiting WAITING_BYTES_MAX.
 * Caches and pages are let go after work (s_tidy). Transient: a
 * consolidation holds the collection's new pack while it writes it. The
 * "memory" poke logs the figures (s_log_memory; tests/t0091, make bench).
 *
 * Idle: no thread wakes on a timer of its own. The loop sleeps until a
 * message or its nearest deadline (next beacon, a peer's hello retry, a
 * cached pack's expiry, a busy summary, the systemd watchdog, a tidy);
 * workers sleep until a job or "stop"; a signal wakes the loop through
 * s_sigpipe. An idle town wakes for its beacons and its peers' and little
 * else (tests/t0083).
 *
 * Stopping: SIGTERM/SIGINT are taken by the loop thread only; it tells the
 * workers (a message, and a flag that peer.c looks at every 100 ms while it
 * waits on a peer) and waits at most STOP_GRACE_MS for them. A worker still
 * busy after that (a long verify, a large pack build) is left to the
 * process exit: every write it makes is all-or-nothing (SQLite
 * transactions, refs by CAS).
 */
#include "serve.h"

#include <errno.h>
#include <locale.h>
#include <fcntl.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "zmqdl.h"   /* <zmq.h>, libzmq loaded on first use */

#include "../sharing/manifest.h"
#include "../sharing/search.h"
#include "board.h"
#include "control.h"
#include "pubmaint.h"
#include "federate.h"
#include "keyrot.h"
#include "log.h"
#include "peer.h"
#include "ports.h"
#include "progress.h"
#include "service.h"
#include "transport.h"
#include "web.h"

#define PIPE_EP "inproc://kairan-worker-%d"
#define CONTROL_FDS 17               /* the control socket and the clients whose line is awaited */
#define REPL_WORKERS 4               /* replication workers: a dead peer holds up one, not all */
#define REPL_QUEUE_MAX 4096          /* announcements waiting for a replication worker */
#define POOL_EP "inproc://kairan-pool-%d"
#define HELLO_RETRY_MS 3000          /* a peer that is down is tried again after this, */
#define HELLO_RETRY_MAX_MS 15000     /* doubling while it stays down, up to this */
#define SNAPSHOT_BACKOFF_MAX_MS 30000 /* a peer whose snapshots keep failing is asked at most this seldom */
#define REPLY_HWM 16                 /* replies queued per client connection */
#define REQUEST_HWM 64               /* requests queued per client connection before TCP pushes back */
#define ANNOUNCE_HWM 128             /* announcements queued per subscriber (libzmq's default: 1,000) */
#define CHUNK_SERVE_MAX (256u << 10) /* largest chunk this node sends */
#define REPLY_BYTES_MAX (64u << 20)  /* replies waiting for all clients together */
#define ALIAS_MAX 4096               /* request -> pack memo slots */
#define PACKS_MAX 1024               /* packs cached, whatever their size */
#define PACK_IDLE_MS 120000          /* a pack nobody asked for this long is dropped */
#define WAITING_BYTES_MAX (16u << 20)
#define IDLE_MS 1000                 /* an idle thread tidies this often */
#define REPO_IDLE_MS 30000           /* repos unused this long are closed */
#define STOP_GRACE_MS 1500
#define COPY_IDLE_MS 10               /* s_server.copies: written once the loop is idle this long */
#define COPY_WAIT_MS 200              /* or this long after a publish at most */
#define BUSY_LOG_MS 10000            /* refusals are summed up in the log this often */
/*
 * SQLite connections of the loop and the replication workers: state.db not
 * mapped (each connection's mapping counts again in RSS and grows with the
 * file: +6 MB over 900 new items), a page cache of DB_CACHE_KB freed after
 * work. The pool workers keep kr_state_open's mapping: searches read
 * through it.
 */
#define DB_CACHE_KB 1024
#define ARENAS_MAX 2                 /* malloc arenas for ~12 threads that mostly sleep */

static atomic_int s_signalled;  /* SIGTERM or SIGINT arrived */
static atomic_int s_stopping;   /* tells every thread to stop (outlives kr_serve) */
static struct timespec s_signalled_at;
static int s_sigpipe[2] = { -1, -1 };  /* the handler writes, the loop polls: no signal is missed between two polls */

static void
s_on_signal(int sig)
{
	int saved = errno;

	(void)sig;
	if (!atomic_load(&s_signalled))
		clock_gettime(CLOCK_MONOTONIC, &s_signalled_at);   /* async-signal-safe */
	atomic_store(&s_signalled, 1);
	if (s_sigpipe[1] >= 0)
		(void)!write(s_sigpipe[1], "", 1);
	errno = saved;
}

/* What a thread has to tidy and when (s_tidy). */
typedef struct {
	double last;                 /* when it last tidied */
	int open;                    /* its store still holds repos open */
	int dirty;                   /* work done since it last tidied */
} s_tidy_state;

static long
s_ms_until(double at, double now)
{
	return at <= now ? 0 : (long)(at - now) + 1;
}

/*
 * What a long-running thread does about once a second while it works or
 * holds repos open (REPO_IDLE_MS after its last use of one): its store
 * drops libgit2's caches and packs (replaced ones included, so no thread
 * keeps a deleted pack mapped) and closes repos unused for REPO_IDLE_MS;
 * after work, its SQLite connection frees its page cache (which otherwise
 * fills up to its limit as state.db grows) and memory freed since (a pack
 * of a whole history, a large apply) goes back to the system, so the
 * node's RSS follows what it holds, not what it once held or how many
 * updates it has seen. Returns the thread's poll timeout: the milliseconds
 * until it has something to tidy, -1 when nothing (an idle thread with no
 * repo open sleeps until a message comes).
 */
static long
s_tidy(kr_store *st, kr_state *db, s_tidy_state *t)
{
	double now = kr_monotonic_ms();

	if ((t->dirty || t->open) && now - t->last >= IDLE_MS) {
		int open = st && kr_store_sweep(st, REPO_IDLE_MS) >= 0;
		if (db && t->dirty)
			kr_state_release_memory(db);
		if (t->dirty || !open)
			malloc_trim(0);
		t->last = now;
		t->dirty = 0;
		t->open = open;
	}
	return t->dirty || t->open ? s_ms_until(t->last + IDLE_MS, now) : -1;
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

static void
s_free_buf(void *data, void *hint)
{
	(void)hint;
	free(data);
}

/* Bytes of replies libzmq still holds for clients (freed from its I/O thread). */
static atomic_size_t s_reply_bytes;

static void
s_free_reply(void *data, void *hint)
{
	atomic_fetch_sub(&s_reply_bytes, (size_t)(uintptr_t)hint);
	free(data);
}

/* Sends b's bytes as one frame, counted in s_reply_bytes until libzmq frees them. */
static int
s_send_reply_buf(void *sock, kr_buf *b, int flags)
{
	zmq_msg_t m;
	size_t len = b->len;
	char *p = kr_buf_detach(b);

	atomic_fetch_add(&s_reply_bytes, len);
	zmq_msg_init_data(&m, p, len, s_free_reply, (void *)(uintptr_t)len);
	if (zmq_msg_send(&m, sock, flags) < 0) {
		zmq_msg_close(&m);
		return -1;
	}
	return 0;
}

/* Sends b's bytes as one frame without copying them; b is emptied. */
static int
s_send_buf(void *sock, kr_buf *b, int flags)
{
	zmq_msg_t m;
	size_t len = b->len;
	char *p = kr_buf_detach(b);

	zmq_msg_init_data(&m, p, len, s_free_buf, NULL);
	if (zmq_msg_send(&m, sock, flags) < 0) {
		zmq_msg_close(&m);
		return -1;
	}
	return 0;
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

/* ---- the replication worker ------------------------------------------ */

typedef struct s_wconn {
	kr_conn *conn;
	struct s_wconn *next;
} s_wconn;

typedef struct {
	void *zctx;
	int timeout_ms;
	void *pipe;
	kr_home h;
	s_wconn *conns;
	const atomic_int *stop;
	kr_progress_view progress;      /* a long apply (a first sync) in the log */
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
	kr_conn_cancel_on(c->conn, w->stop);
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
	if (rc < 0 && atomic_load(w->stop)) {
		/* stopping: not the peer's fault */
	} else if (rc < 0) {
		log_warnx("peer %s: %s", endpoint, kr_errmsg());
		s_worker_drop(w, endpoint);
		s_sends(w->pipe, "down", endpoint, kr_errmsg(), strlen(kr_errmsg()));
	} else {
		/*
		 * The peer's digest is recorded as held only when nothing failed
		 * for a reason that may pass (a busy or slow peer): otherwise the
		 * next beacon, digest unchanged, would not ask again, and a town
		 * that met a busy hub would stay behind until the next publication.
		 */
		const char *f[4] = { "synced", endpoint, (const char *)res.digest, res.announce ? res.announce : "" };
		size_t l[4] = { 6, strlen(endpoint), res.failed ? 0 : 16, res.announce ? strlen(res.announce) : 0 };
		s_sendv(w->pipe, f, l, 4);
		if (res.applied || res.rejected)
			log_info("peer %s: snapshot: %zu applied, %zu rejected, %zu failed",
			    endpoint, res.applied, res.rejected, res.failed);
	}
	for (size_t k = 0; k < res.nunserved; k++)
		log_warnx("peer %s: does not serve publisher %.16s…, followed through it", endpoint, res.unserved[k]);
	kr_strv_free(res.unserved, res.nunserved);
	if (res.fed_installed)
		s_sends(w->pipe, "fedchanged", endpoint, NULL, 0);
	free(res.announce);
	free(res.name);
	kr_state_peers_free(peers, npeers);
}

static void
s_worker_manifest(s_worker *w, const char *endpoint, const void *data, size_t len, const void *packs,
    size_t plen)
{
	kr_conn *c = s_worker_conn(w, endpoint);
	kr_apply a;
	int rc, not_held;

	if (!c)
		return;
	rc = kr_peer_apply(&w->h, c, data, len, packs, plen, &a, &not_held);
	if (rc < 0 && atomic_load(w->stop)) {
		log_debug("publisher %.16s… seq %llu: not applied (stopping)", a.publisher,
		    (unsigned long long)a.seq);
	} else if (rc < 0 && a.quarantined) {
		kr_log_quarantined(endpoint, a.publisher, a.seq, kr_errmsg());
	} else if (rc < 0 && not_held) {
		kr_log_not_held(endpoint, a.publisher, a.seq, kr_errmsg());
	} else if (rc == KR_ECONFLICT) {
		/* another peer's copy is being applied beside this one: the next beacon converges */
		log_info("peer %s: publisher %.16s… seq %llu: %s", endpoint, a.publisher,
		    (unsigned long long)a.seq, kr_errmsg());
	} else if (rc < 0) {
		log_warnx("peer %s: publisher %.16s… seq %llu not applied: %s", endpoint, a.publisher,
		    (unsigned long long)a.seq, kr_errmsg());
		s_worker_drop(w, endpoint);
	} else if (a.applied) {
		if (a.inlined)
			log_info("publisher %.16s…: seq %llu verified and applied from %s (%zu collections, %llu bytes; "
			    "%zu of them from the announcement, not fetched)", a.publisher, (unsigned long long)a.seq,
			    endpoint, a.changed, (unsigned long long)a.bytes, a.inlined);
		else
			log_info("publisher %.16s…: seq %llu verified and applied from %s (%zu collections, %llu bytes)",
			    a.publisher, (unsigned long long)a.seq, endpoint, a.changed, (unsigned long long)a.bytes);
		log_debug("publisher %.16s…: fetch %.1f ms, verify %.1f ms, check+index %.1f ms, refs+state %.1f ms",
		    a.publisher, a.ms_fetch, a.ms_verify, a.ms_index, a.ms_record);
		s_worker_applied(a.publisher, w);
	}
}

/*
 * A peer announced a membership version: the next one is installed after
 * the chain rule; one further ahead makes us ask that peer for the chain.
 * Equivocation or a refused chain is logged and quarantined, never
 * installed.
 */
static void
s_worker_membership(s_worker *w, const char *endpoint, const void *data, size_t len)
{
	kr_fedstore f;
	kr_signed_multi sm;
	kr_membership m;
	uint64_t have;
	int ahead = 0, rc;

	if (kr_fedstore_open(&f, w->h.home) < 0) {
		log_warnx("federation: %s", kr_errmsg());
		return;
	}
	have = f.have ? f.cur.version : 0;
	if (!f.pinned || kr_signed_multi_decode(&sm, data, len) < 0) {
		kr_fedstore_close(&f);
		return;
	}
	if (kr_membership_decode(&m, sm.body.ptr, sm.body.len) == 0) {
		ahead = m.version > have + 1;
		kr_membership_clear(&m);
	}
	kr_signed_multi_clear(&sm);
	if (ahead || !f.have) {
		kr_conn *c = s_worker_conn(w, endpoint);
		size_t installed = 0;
		kr_fedstore_close(&f);
		if (!c)
			return;
		if (kr_fed_catch_up(&w->h, c, &installed) < 0)
			log_warnx("federation: chain from %s refused: %s", endpoint, kr_errmsg());
		else if (installed)
			s_sends(w->pipe, "fedchanged", endpoint, NULL, 0);
		return;
	}
	{
		kr_fed_tally t;
		rc = kr_fedstore_install(&f, data, len, &t);
		kr_fed_tally_release(&t);
	}
	if (rc == KR_FED_INSTALLED) {
		log_info("federation: membership version %llu from %s verified and installed",
		    (unsigned long long)f.cur.version, endpoint);
		kr_fed_installed(&w->h, &f);
		s_sends(w->pipe, "fedchanged", endpoint, NULL, 0);
	} else if (rc < 0) {
		char *why = kr_sprintf("membership announced by %s: %s", endpoint, kr_errmsg());
		log_warnx("federation: %s", why);
		if (kr_state_begin(w->h.state) == 0) {
			if (kr_state_quarantine_add(w->h.state, NULL, endpoint, NULL, 0, why) == 0)
				kr_state_commit(w->h.state);
			else
				kr_state_rollback(w->h.state);
		}
		free(why);
	}
	kr_fedstore_close(&f);
}

static void *
s_worker_main(void *arg)
{
	s_worker *w = arg;
	s_tidy_state tidy = { .dirty = 1 };   /* what opening its handles read is let go at once */

	while (!atomic_load(w->stop)) {
		s_frames f;
		zmq_pollitem_t it = { w->pipe, 0, ZMQ_POLLIN, 0 };
		/* no timer of its own: a job or "stop" wakes it */
		int n = zmq_poll(&it, 1, s_tidy(w->h.store, w->h.state, &tidy));

		if (n < 0 && zmq_errno() != EINTR)
			break;
		if (n <= 0)
			continue;
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
		} else if (s_frame_is(&f, 0, "membership") && f.n >= 3) {
			char *ep = s_frame_str(&f, 1);
			s_worker_membership(w, ep, zmq_msg_data(&f.part[2]), zmq_msg_size(&f.part[2]));
			free(ep);
		} else if (s_frame_is(&f, 0, "manifest") && f.n >= 3) {
			char *ep = s_frame_str(&f, 1);
			s_worker_manifest(w, ep, zmq_msg_data(&f.part[2]), zmq_msg_size(&f.part[2]),
			    f.n >= 4 ? zmq_msg_data(&f.part[3]) : NULL, f.n >= 4 ? zmq_msg_size(&f.part[3]) : 0);
			free(ep);
		}
		/* what the job's applies left once they are announced: manifests' copies, consolidation (not when stopping) */
		kr_replica_maintain(&w->h.rep, !atomic_load(w->stop));
		/* the loop may give this worker's peer to another worker once all its jobs are done */
		s_sends(w->pipe, "done", NULL, NULL, 0);
		s_frames_close(&f);
		tidy.dirty = 1;
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

/* ---- the pool: searches, pack resolves and builds --------------------- */

enum { S_JOB_SEARCH = 1, S_JOB_RESOLVE, S_JOB_BUILD, S_JOB_MEMBERSHIP };
enum { S_RES_REPLY = 1, S_RES_RESOLVED, S_RES_BUILT, S_RES_FAILED };

/* Loop -> worker: [s_job][the request as the client sent it]. */
typedef struct {
	int kind;
	int has_base;                   /* build: from base, else the whole history */
	uint8_t base[KR_OID_LEN];
} s_job;

/* Worker -> loop: [s_result][reply bytes | pack | error text]. */
typedef struct {
	int kind;
	int has_base;
	uint8_t key[32];                /* resolved: the pack's name */
	uint8_t base[KR_OID_LEN];
	double ms;
} s_result;

/* A pool worker's own side; the loop never touches it after the start. */
typedef struct {
	void *pipe;
	kr_store *store;
	kr_state *state;
	const atomic_int *stop;
	const char *home;
	const kr_policy_rules *rules;   /* accept.require_endorsement, for answers to searches */
} s_poolw;

/* (publisher, collection, want, base): what a pack contains. */
static void
s_pack_key(uint8_t key[32], const kr_request *req, int has_base, const uint8_t base[KR_OID_LEN])
{
	kr_buf k = KR_BUF_INIT;

	kr_buf_add(&k, req->publisher, KR_FPR_LEN);
	kr_buf_add(&k, req->collection, strlen(req->collection) + 1);
	kr_buf_add(&k, req->want, KR_OID_LEN);
	kr_buf_addch(&k, (char)has_base);
	if (has_base)
		kr_buf_add(&k, base, KR_OID_LEN);
	kr_sha256(key, k.ptr, k.len);
	kr_buf_release(&k);
}

static void
s_encode_error(kr_buf *out, uint64_t id, uint32_t code, const char *text)
{
	kr_reply rep = { .id = id, .type = KR_REP_ERROR, .code = code, .text = (char *)text };

	kr_reply_encode(out, &rep);
}

/* Answers a peer's search from this node's own index (an encoded reply in out). */
static void
s_pool_search(s_poolw *w, kr_request *req, kr_buf *out)
{
	kr_buf match = KR_BUF_INIT;
	kr_search_q q = { .limit = req->limit };
	kr_search_result r;
	kr_reply rep = { .id = req->id, .type = KR_REP_SEARCH };
	const char **f[KR_SEARCH_FIELDS] = { &q.match, &q.kind, &q.domain, &q.ai_use, &q.outcome,
		&q.deployment, &q.publisher, &q.pref, &q.popband, &q.since };
	kr_bgate g;

	/* what this node holds back from itself (policy.accept.require_endorsement) it does not serve either */
	kr_bgate_init(&g, w->home, w->state, w->store, w->rules);
	kr_bgate_attach(&g, &q);
	g.kind_asked = q.kind && *q.kind;

	if (kr_search_compile(req->search[0], &match) < 0) {
		s_encode_error(out, req->id, KR_WIRE_EBADREQ, kr_errmsg());
		kr_buf_release(&match);
		return;
	}
	for (int i = 1; i < KR_SEARCH_FIELDS; i++)
		*f[i] = req->search[i];
	q.match = match.ptr;
	if (kr_state_search(w->state, &q, &r) < 0) {
		s_encode_error(out, req->id, KR_WIRE_EINTERNAL, kr_errmsg());
		kr_buf_release(&match);
		kr_bgate_free(&g);
		return;
	}
	rep.hits = kr_calloc(r.nhits, sizeof(kr_wire_hit));
	rep.nhits = r.nhits;
	rep.total = r.total;
	for (size_t i = 0; i < r.nhits; i++) {
		kr_wire_hit *wh = &rep.hits[i];
		kr_search_hit *h = &r.hits[i];
		wh->id = h->id; wh->title = h->title; wh->pub_name = h->pub_name; wh->lg_code = h->pub_code;
		wh->kind = h->kind; wh->version = h->version; wh->snippet = h->snippet;
		wh->outcome = h->outcome; wh->headline = h->headline; wh->updated = h->updated;
		kr_unhex(wh->publisher, KR_FPR_LEN, h->publisher);
	}
	kr_reply_encode(out, &rep);
	log_debug("search from a peer: %zu of %zu hits (%zu held back: not endorsed)", r.nhits, r.total, g.held);
	free(rep.hits);
	kr_search_result_free(&r);
	kr_buf_release(&match);
	kr_bgate_free(&g);
}

/*
 * Membership{federation, from_version}: the versions after from_version,
 * oldest first, at most KR_FED_MAX_REPLY_VERSIONS and about
 * KR_FED_REPLY_BYTES per reply (the client asks again from the last).
 * Read from <home>/federation on each request: the files are the chain.
 * Runs in a pool worker (a long chain is read and encoded off the loop);
 * the encoded reply goes into out.
 */
static void
s_pool_membership(s_poolw *w, const kr_request *req, kr_buf *out)
{
	kr_reply rep = { .id = req->id, .type = KR_REP_MEMBERSHIP };
	kr_fedstore f;
	size_t bytes = 0;

	if (kr_fedstore_open(&f, kr_store_home(w->store)) < 0) {
		log_warnx("federation: %s", kr_errmsg());
		s_encode_error(out, req->id, KR_WIRE_EINTERNAL, "membership chain unavailable");
		return;
	}
	if (!f.have || memcmp(f.id, req->fed, 32) != 0) {
		char want[65];
		kr_hex(want, req->fed, 32);
		kr_buf msg = KR_BUF_INIT;
		kr_buf_addf(&msg, "this node holds no chain of federation %.16s…", want);
		s_encode_error(out, req->id, KR_WIRE_ENOTFOUND, msg.ptr);
		kr_buf_release(&msg);
		kr_fedstore_close(&f);
		return;
	}
	rep.newest = f.cur.version;
	rep.versions = kr_calloc(KR_FED_MAX_REPLY_VERSIONS, sizeof(kr_buf));
	for (uint64_t v = req->from_version + 1; v <= f.cur.version && rep.nversions < KR_FED_MAX_REPLY_VERSIONS; v++) {
		kr_buf b = KR_BUF_INIT;
		if (kr_fedstore_get(&f, v, &b) < 0) {
			log_warnx("federation: %s", kr_errmsg());
			kr_buf_release(&b);
			break;
		}
		if (rep.nversions > 0 && bytes + b.len > KR_FED_REPLY_BYTES) {
			kr_buf_release(&b);
			break;
		}
		bytes += b.len;
		rep.versions[rep.nversions++] = b;
	}
	if (rep.nversions == 0 && req->from_version < f.cur.version)
		s_encode_error(out, req->id, KR_WIRE_EINTERNAL, "membership chain unreadable");
	else
		kr_reply_encode(out, &rep);
	for (size_t i = 0; i < rep.nversions; i++)
		kr_buf_release(&rep.versions[i]);
	free(rep.versions);
	kr_fedstore_close(&f);
}

/*
 * One job, in a pool worker: a search answered in full, a fetch resolved to
 * the pack it names (or refused), or a pack built. The result goes back to
 * the loop as [s_result][payload].
 */
static void
s_pool_job(s_poolw *w, const s_job *job, const void *data, size_t len)
{
	s_result res = { 0 };
	kr_request req;
	kr_buf out = KR_BUF_INIT;
	char pub[KR_FPR_HEX + 1];
	double t0 = kr_monotonic_ms();
	int rc;

	if (kr_request_decode(&req, data, len) < 0) {
		/* the loop decoded it once already: cannot happen */
		res.kind = S_RES_REPLY;
		s_encode_error(&out, kr_request_peek_id(data, len), KR_WIRE_EINTERNAL, kr_errmsg());
		goto send;
	}
	kr_hex(pub, req.publisher, KR_FPR_LEN);
	switch (job->kind) {
	case S_JOB_SEARCH:
		res.kind = S_RES_REPLY;
		s_pool_search(w, &req, &out);
		break;
	case S_JOB_MEMBERSHIP:
		res.kind = S_RES_REPLY;
		s_pool_membership(w, &req, &out);
		break;
	case S_JOB_RESOLVE:
		rc = kr_store_pack_base(w->store, pub, req.collection, req.want,
		    (const uint8_t (*)[KR_OID_LEN])req.haves, req.nhaves, res.base, &res.has_base);
		if (rc < 0) {
			res.kind = S_RES_REPLY;
			s_encode_error(&out, req.id, rc == KR_ENOTFOUND ? KR_WIRE_ENOTFOUND : KR_WIRE_EINTERNAL,
			    rc == KR_ENOTFOUND ? "commit not held here (yet)" : "cannot read the collection");
			if (rc != KR_ENOTFOUND)
				log_warnx("publisher %.16s…/%s: %s", pub, req.collection, kr_errmsg());
			break;
		}
		res.kind = S_RES_RESOLVED;
		s_pack_key(res.key, &req, res.has_base, res.base);
		break;
	case S_JOB_BUILD:
		rc = kr_store_pack(w->store, pub, req.collection, req.want,
		    job->has_base ? (const uint8_t (*)[KR_OID_LEN])job->base : NULL, job->has_base ? 1 : 0, &out);
		res.has_base = job->has_base;
		memcpy(res.base, job->base, KR_OID_LEN);
		/* keyed either way: a failed build must find its cache entry to drop it and answer its waiters */
		s_pack_key(res.key, &req, job->has_base, job->base);
		if (rc < 0) {
			log_warnx("publisher %.16s…/%s: building pack: %s", pub, req.collection, kr_errmsg());
			res.kind = S_RES_FAILED;
			kr_buf_clear(&out);
			kr_buf_adds(&out, "cannot build pack");
		} else {
			res.kind = S_RES_BUILT;
		}
		break;
	}
	kr_request_clear(&req);
send:
	res.ms = kr_monotonic_ms() - t0;
	zmq_send(w->pipe, &res, sizeof(res), ZMQ_SNDMORE);
	/* a reply for a client is counted from here; a pack is the cache's */
	if (res.kind == S_RES_REPLY)
		s_send_reply_buf(w->pipe, &out, 0);
	else
		s_send_buf(w->pipe, &out, 0);
	kr_error_clear();
}

static void *
s_pool_main(void *arg)
{
	s_poolw *w = arg;
	s_tidy_state tidy = { .dirty = 1 };   /* what opening its handles read is let go at once */

	while (!atomic_load(w->stop)) {
		s_frames f;
		zmq_pollitem_t it = { w->pipe, 0, ZMQ_POLLIN, 0 };
		/* no timer of its own: a job or "stop" wakes it */
		int n = zmq_poll(&it, 1, s_tidy(w->store, w->state, &tidy));

		if (n < 0 && zmq_errno() != EINTR)
			break;
		if (n <= 0)
			continue;
		if (s_recv_frames(w->pipe, &f) < 0)
			continue;
		if (s_frame_is(&f, 0, "stop")) {
			s_frames_close(&f);
			break;
		}
		if (f.n == 2 && zmq_msg_size(&f.part[0]) == sizeof(s_job)) {
			s_job job;
			memcpy(&job, zmq_msg_data(&f.part[0]), sizeof(job));
			s_pool_job(w, &job, zmq_msg_data(&f.part[1]), zmq_msg_size(&f.part[1]));
			tidy.dirty = 1;
		}
		s_frames_close(&f);
	}
	s_sends(w->pipe, "stopped", NULL, NULL, 0);
	return NULL;
}

/* ---- the loop's view of clients, requests and packs -------------------- */

enum { R_QUEUED, R_POOL, R_WAITING };

struct s_client;

typedef struct s_req {
	struct s_client *cl;
	zmq_msg_t frame;                /* the request as received */
	kr_request req;
	uint8_t digest[32];             /* fetch: (publisher, collection, want, haves) */
	int state;
	struct s_req *next;             /* the client's queue */
	struct s_req *wnext;            /* waiters for a pack being built */
} s_req;

/* A client connection with requests waiting. */
typedef struct s_client {
	uint8_t id[256];
	size_t idlen;
	s_req *head, *tail;
	size_t n;
	int ready;                      /* in the ring of clients whose head needs a worker */
	struct s_client *next;          /* all clients */
	struct s_client *rnext;         /* the ring */
} s_client;

typedef struct s_pack {
	uint8_t key[32];
	int ready;
	zmq_msg_t data;                 /* the pack, when ready */
	double used;
	s_req *waiters;
	struct s_pack *next;
} s_pack;

typedef struct {
	uint8_t req[32], key[32];
	int used;
} s_alias;

typedef struct {
	s_pack *head;
	size_t n, bytes, budget;
	size_t builds, hits, waits;
	s_alias *alias;                 /* ALIAS_MAX slots, direct-mapped */
} s_cache;

typedef struct {
	void *pipe;                     /* loop end */
	pthread_t thread;
	int started, stopped;
	s_req *req;                     /* what it works on, NULL when idle */
	s_poolw w;                      /* its own side */
} s_slot;

/*
 * A replication worker, seen from the loop. Jobs for one peer go to one
 * worker at a time (the one that has jobs for it, else an idle one), so a
 * peer's exchanges stay in order and a peer that does not answer holds up
 * only the worker that waits on it.
 */
typedef struct {
	void *pipe;                     /* loop end */
	pthread_t thread;
	int started, stopped;
	char *ep;                       /* the peer it has jobs for, NULL when idle */
	size_t jobs;                    /* sent, "done" not yet received */
	s_worker *w;                    /* its own side (heap: a busy worker may outlive kr_serve) */
} s_rslot;

/* A job waiting for a replication worker. */
typedef struct s_rjob {
	char *what, *ep;
	char *fold;                     /* a newer job with the same what, ep and fold replaces it (NULL: never) */
	kr_buf data;
	int has_data;
	kr_buf extra;                   /* a manifest's inline packs (s_announce_inline), sent as a fourth frame */
	struct s_rjob *next;
} s_rjob;

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
	int downs;                  /* attempts in a row that found the peer down */
	int fails;                  /* snapshots in a row in which something failed */
	double snapshot_at;         /* after fails: no beacon asks for a snapshot before this */
	int mark;
	kr_buf inlined;             /* the last manifest it announced with its packs: the plain copy after it is dropped */
} s_peer;

typedef struct {
	kr_home *h;
	void *zctx, *router, *pub;
	kr_control *control;
	kr_pubmaint *pubmaint;          /* what publishes handed to this node left to do; started on the first */
	/*
	 * Publishes handed over, announced, whose commands wait for the copy of
	 * their manifest for plain git mirrors (s_copies_write): written once
	 * the loop has had COPY_IDLE_MS with nothing to do, so subscribers'
	 * fetches are served first, or COPY_WAIT_MS after the oldest.
	 */
	struct s_copy {
		uint64_t ticket;        /* the command's call (kr_control_answer) */
		kr_buf reply;
		uint8_t *ref;
		size_t ref_len;
		double at;
	} *copies;
	size_t ncopies;
	/* the replication workers and the jobs waiting for one */
	s_rslot rw[REPL_WORKERS];
	int nrw;
	s_rjob *rq_head, *rq_tail;
	size_t rq_n;
	char *listen_ep, *announce_ep;
	s_peer *peers;
	size_t npeers;
	s_cache cache;
	double next_beacon;
	/* the pool */
	s_slot *slots;
	int nslots;
	/* clients with requests waiting */
	s_client *clients, *ring_head, *ring_tail;
	size_t waiting, waiting_bytes;
	size_t busy_queue, busy_credit, busy_replies, dropped;  /* since the last log line */
	size_t busy_total, dropped_total;
	double busy_logged;
	/* the manifests this node holds, kept between beacons */
	kr_state_manifest *snap;
	size_t nsnap;
	int snap_ok;
	uint8_t snap_digest[16];
	int restart;                /* a key switch is due: stop, and kr_serve says KR_SERVE_RESTART */
} s_server;

/* ---- pack cache -------------------------------------------------------- */

static s_pack *
s_cache_find(s_cache *c, const uint8_t key[32])
{
	for (s_pack *p = c->head; p; p = p->next)
		if (memcmp(p->key, key, 32) == 0)
			return p;
	return NULL;
}

static s_pack *
s_cache_add(s_cache *c, const uint8_t key[32])
{
	s_pack *p = kr_calloc(1, sizeof(*p));

	memcpy(p->key, key, 32);
	zmq_msg_init(&p->data);
	p->used = kr_monotonic_ms();
	p->next = c->head;
	c->head = p;
	c->n++;
	return p;
}

static void
s_cache_remove(s_cache *c, s_pack *victim)
{
	for (s_pack **pp = &c->head; *pp; pp = &(*pp)->next)
		if (*pp == victim) {
			*pp = victim->next;
			break;
		}
	if (victim->ready)
		c->bytes -= zmq_msg_size(&victim->data);
	zmq_msg_close(&victim->data);
	free(victim);
	c->n--;
}

/* Drops the least recently used ready packs beyond the budget (never keep). */
static void
s_cache_trim(s_cache *c, const s_pack *keep)
{
	while (c->bytes > c->budget || c->n > PACKS_MAX) {
		s_pack *oldest = NULL;
		for (s_pack *p = c->head; p; p = p->next)
			if (p->ready && p != keep && (!oldest || p->used < oldest->used))
				oldest = p;
		if (!oldest)
			break;
		s_cache_remove(c, oldest);
	}
}

/*
 * Drops ready packs nobody asked for in PACK_IDLE_MS: subscribers fetch an
 * update within seconds of its announcement, so memory follows what is
 * being fetched, not the budget.
 */
static void
s_cache_expire(s_cache *c, double now)
{
	for (s_pack *p = c->head, *next; p; p = next) {
		next = p->next;
		if (p->ready && now - p->used > PACK_IDLE_MS)
			s_cache_remove(c, p);
	}
}

static void
s_cache_free(s_cache *c)
{
	while (c->head)
		s_cache_remove(c, c->head);
	free(c->alias);
}

static s_alias *
s_alias_slot(s_cache *c, const uint8_t req[32])
{
	size_t i;

	memcpy(&i, req, sizeof(i));
	return &c->alias[i % ALIAS_MAX];
}

static s_pack *
s_alias_get(s_cache *c, const uint8_t req[32])
{
	s_alias *a = s_alias_slot(c, req);

	return a->used && memcmp(a->req, req, 32) == 0 ? s_cache_find(c, a->key) : NULL;
}

static void
s_alias_put(s_cache *c, const uint8_t req[32], const uint8_t key[32])
{
	s_alias *a = s_alias_slot(c, req);

	memcpy(a->req, req, 32);
	memcpy(a->key, key, 32);
	a->used = 1;
}

/* ---- replies ----------------------------------------------------------- */

/*
 * Every reply starts with the client's identity, sent without waiting: when
 * the client's queue is full (it does not read) or it is gone, nothing is
 * encoded and the reply is dropped.
 */
static int
s_reply_begin(s_server *s, const void *id, size_t idlen)
{
	if (zmq_send(s->router, id, idlen, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0) {
		s->dropped++;
		s->dropped_total++;
		return -1;
	}
	return 0;
}

static void
s_reply(s_server *s, const void *id, size_t idlen, kr_reply *rep)
{
	kr_buf out = KR_BUF_INIT;

	if (s_reply_begin(s, id, idlen) < 0)
		return;
	kr_reply_encode(&out, rep);
	s_send_reply_buf(s->router, &out, ZMQ_DONTWAIT);
}

static void
s_reply_error(s_server *s, const void *id, size_t idlen, uint64_t reqid, uint32_t code, const char *text)
{
	kr_reply rep = { .id = reqid, .type = KR_REP_ERROR, .code = code, .text = (char *)text };

	s_reply(s, id, idlen, &rep);
}

/* Many clients that do not read: the others wait their turn. */
static void
s_busy_replies(s_server *s, const void *id, size_t idlen, uint64_t reqid)
{
	s->busy_replies++;
	s->busy_total++;
	s_reply_error(s, id, idlen, reqid, KR_WIRE_EBUSY, "busy: too many replies are waiting for "
	    "clients to read them; ask again shortly");
}

/* A worker's encoded reply, passed on as it is. */
static void
s_reply_msg(s_server *s, const void *id, size_t idlen, uint64_t reqid, zmq_msg_t *m)
{
	if (atomic_load(&s_reply_bytes) > REPLY_BYTES_MAX + zmq_msg_size(m)) {
		s_busy_replies(s, id, idlen, reqid);
		return;
	}
	if (s_reply_begin(s, id, idlen) < 0)
		return;
	if (zmq_msg_send(m, s->router, ZMQ_DONTWAIT) < 0) {
		s->dropped++;
		s->dropped_total++;
	}
}

/* One chunk of a built pack: only the chunk is copied, never the pack. */
static void
s_reply_chunk(s_server *s, const void *id, size_t idlen, const kr_request *req, s_pack *p)
{
	size_t total = zmq_msg_size(&p->data), len;
	kr_reply rep = { .id = req->id, .type = KR_REP_CHUNK };

	p->used = kr_monotonic_ms();
	if (req->offset > total) {
		s_reply_error(s, id, idlen, req->id, KR_WIRE_EBADREQ, "offset beyond the end of the pack");
		return;
	}
	len = total - req->offset;
	if (len > req->length)
		len = req->length;
	if (len > CHUNK_SERVE_MAX)
		len = CHUNK_SERVE_MAX;
	if (atomic_load(&s_reply_bytes) + len > REPLY_BYTES_MAX) {
		s_busy_replies(s, id, idlen, req->id);
		return;
	}
	rep.offset = req->offset;
	rep.total = total;
	rep.data = (const uint8_t *)zmq_msg_data(&p->data) + req->offset;
	rep.data_len = len;
	s_reply(s, id, idlen, &rep);
}

static void
s_busy(s_server *s, const void *id, size_t idlen, uint64_t reqid, int credit)
{
	char text[128];

	if (credit) {
		snprintf(text, sizeof(text), "busy: this connection already has %d requests waiting; "
		    "ask again shortly", s->h->cfg.serve_credit);
		s->busy_credit++;
	} else {
		snprintf(text, sizeof(text), "busy: %zu requests are waiting here; ask again shortly", s->waiting);
		s->busy_queue++;
	}
	s->busy_total++;
	s_reply_error(s, id, idlen, reqid, KR_WIRE_EBUSY, text);
}

/* ---- manifests (snapshot and beacon) ----------------------------------- */

static void
s_snap_drop(s_server *s)
{
	if (s->snap_ok)
		kr_state_manifests_free(s->snap, s->nsnap);
	s->snap = NULL;
	s->nsnap = 0;
	s->snap_ok = 0;
}

/* The manifests this node holds and their digest; reloaded after a change. */
static int
s_snap(s_server *s)
{
	kr_pubseq *set;

	if (s->snap_ok)
		return 0;
	if (kr_state_manifest_list(s->h->state, &s->snap, &s->nsnap) < 0) {
		log_warnx("reading manifests: %s", kr_errmsg());
		return -1;
	}
	s->snap_ok = 1;
	set = kr_calloc(s->nsnap, sizeof(*set));
	for (size_t i = 0; i < s->nsnap; i++) {
		kr_unhex(set[i].pub, KR_FPR_LEN, s->snap[i].publisher);
		set[i].seq = s->snap[i].seq;
	}
	kr_manifest_digest(s->snap_digest, set, s->nsnap);
	free(set);
	return 0;
}

static void
s_announce(s_server *s, const char *pub)
{
	kr_state_manifest m;
	char topic[2 + KR_FPR_HEX + 1];
	const char *f[2];
	size_t l[2];

	s_snap_drop(s);
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

/*
 * Our own new manifest with the packs of the commits it names, on the
 * topic "m/" + us + "+", just before the plain announcement: a subscriber
 * one commit behind applies it without fetching, and drops the plain one
 * that follows (s_handle_sub); older nodes ignore the topic and take the
 * plain one.
 */
static void
s_announce_inline(s_server *s, const kr_inline *packs)
{
	kr_state_manifest m;
	kr_buf body = KR_BUF_INIT;
	char topic[2 + KR_FPR_HEX + 2];
	const char *f[3];
	size_t l[3];

	if (!packs->n || kr_state_manifest_get(s->h->state, s->h->fpr, &m) < 0) {
		kr_error_clear();
		return;
	}
	kr_inline_encode(&body, packs);
	snprintf(topic, sizeof(topic), "m/%s+", s->h->fpr);
	f[0] = topic;
	l[0] = strlen(topic);
	f[1] = m.signed_bytes.ptr;
	l[1] = m.signed_bytes.len;
	f[2] = body.ptr;
	l[2] = body.len;
	s_sendv(s->pub, f, l, 3);
	kr_buf_release(&body);
	kr_state_manifest_clear(&m);
}

static void
s_beacon(s_server *s)
{
	kr_beacon b;
	kr_buf out = KR_BUF_INIT;
	const char *f[2] = { "b", NULL };
	size_t l[2] = { 1, 0 };

	/* The CLI may have changed state without reaching us: look again. */
	s_snap_drop(s);
	memcpy(b.node, kr_key_pub(s->h->key), KR_FPR_LEN);
	b.time = kr_now();
	if (s_snap(s) == 0)
		memcpy(b.digest, s->snap_digest, 16);
	else
		memset(b.digest, 0, 16);
	kr_beacon_encode(&out, &b);
	f[1] = out.ptr;
	l[1] = out.len;
	s_sendv(s->pub, f, l, 2);
	kr_buf_release(&out);
}

static void
s_answer_hello(s_server *s, const void *id, size_t idlen, const kr_request *req)
{
	kr_reply rep = { .id = req->id, .type = KR_REP_HELLO, .version = KR_PROTO_VERSION,
		.name = s->h->cfg.name, .lg_code = s->h->cfg.lg_code, .announce = s->announce_ep };

	memcpy(rep.node, kr_key_pub(s->h->key), KR_FPR_LEN);
	s_reply(s, id, idlen, &rep);
}

static void
s_answer_snapshot(s_server *s, const void *id, size_t idlen, const kr_request *req)
{
	kr_reply rep = { .id = req->id, .type = KR_REP_SNAPSHOT };
	size_t k = 0;

	if (s_snap(s) < 0) {
		s_reply_error(s, id, idlen, req->id, KR_WIRE_EINTERNAL, "state unavailable");
		return;
	}
	rep.manifests = kr_calloc(s->nsnap, sizeof(kr_buf));
	for (size_t i = 0; i < s->nsnap; i++) {
		uint8_t p[KR_FPR_LEN];
		int want = req->npublishers == 0;
		kr_unhex(p, KR_FPR_LEN, s->snap[i].publisher);
		for (size_t j = 0; j < req->npublishers && !want; j++)
			want = memcmp(req->publishers[j], p, KR_FPR_LEN) == 0;
		if (want)
			rep.manifests[k++] = s->snap[i].signed_bytes;
	}
	rep.nmanifests = k;
	memcpy(rep.digest, s->snap_digest, 16);
	s_reply(s, id, idlen, &rep);
	free(rep.manifests);
}

/* Announces the newest membership version on PUB ("f/" + federation id), when there is a chain. */
static void
s_fed_announce(s_server *s)
{
	kr_fedstore f;
	char topic[2 + 64 + 1];
	const char *fr[2];
	size_t l[2];

	if (kr_fedstore_open(&f, s->h->home) < 0) {
		log_warnx("federation: %s", kr_errmsg());
		return;
	}
	if (f.have) {
		memcpy(topic, "f/", 2);
		kr_fedstore_id_hex(&f, topic + 2);
		fr[0] = topic;
		l[0] = 2 + 64;
		fr[1] = f.cur_bytes.ptr;
		l[1] = f.cur_bytes.len;
		s_sendv(s->pub, fr, l, 2);
		log_info("federation %.16s…: announced membership version %llu", topic + 2,
		    (unsigned long long)f.cur.version);
	}
	kr_fedstore_close(&f);
}

/* ---- requests ---------------------------------------------------------- */

enum { D_ANSWERED, D_WAIT, D_POOL };

/*
 * Answers req at once if the loop can (hello, snapshot, a chunk of a pack
 * built already): D_ANSWERED. D_WAIT: the pack it names is being built
 * (*pack set). D_POOL: it needs a worker.
 */
static int
s_direct(s_server *s, const void *id, size_t idlen, const kr_request *req, const uint8_t digest[32],
    s_pack **pack)
{
	s_pack *p;

	switch (req->type) {
	case KR_REQ_HELLO:
		s_answer_hello(s, id, idlen, req);
		return D_ANSWERED;
	case KR_REQ_SNAPSHOT:
		s_answer_snapshot(s, id, idlen, req);
		return D_ANSWERED;
	case KR_REQ_MEMBERSHIP:
		return D_POOL;      /* a chain of 1,024 versions is read and encoded off the loop */
	case KR_REQ_FETCH:
		if (!(p = s_alias_get(&s->cache, digest)))
			return D_POOL;
		if (!p->ready) {
			*pack = p;
			return D_WAIT;
		}
		s->cache.hits++;
		s_reply_chunk(s, id, idlen, req, p);
		return D_ANSWERED;
	default:
		return D_POOL;
	}
}

static void
s_fetch_digest(uint8_t out[32], const kr_request *req)
{
	kr_buf k = KR_BUF_INIT;

	kr_buf_add(&k, req->publisher, KR_FPR_LEN);
	kr_buf_add(&k, req->collection, strlen(req->collection) + 1);
	kr_buf_add(&k, req->want, KR_OID_LEN);
	for (size_t i = 0; i < req->nhaves; i++)
		kr_buf_add(&k, req->haves[i], KR_OID_LEN);
	kr_sha256(out, k.ptr, k.len);
	kr_buf_release(&k);
}

static s_client *
s_client_find(s_server *s, const void *id, size_t idlen)
{
	for (s_client *c = s->clients; c; c = c->next)
		if (c->idlen == idlen && memcmp(c->id, id, idlen) == 0)
			return c;
	return NULL;
}

static void
s_req_free(s_server *s, s_req *r)
{
	s->waiting--;
	s->waiting_bytes -= zmq_msg_size(&r->frame);
	zmq_msg_close(&r->frame);
	kr_request_clear(&r->req);
	free(r);
}

static void
s_client_free(s_server *s, s_client *cl)
{
	for (s_client **pp = &s->clients; *pp; pp = &(*pp)->next)
		if (*pp == cl) {
			*pp = cl->next;
			break;
		}
	if (cl->ready) {
		s_client *prev = NULL;
		for (s_client *c = s->ring_head; c; prev = c, c = c->rnext)
			if (c == cl) {
				if (prev)
					prev->rnext = c->rnext;
				else
					s->ring_head = c->rnext;
				if (s->ring_tail == c)
					s->ring_tail = prev;
				break;
			}
	}
	while (cl->head) {
		s_req *r = cl->head;
		cl->head = r->next;
		s_req_free(s, r);
	}
	free(cl);
}

static void
s_ring_push(s_server *s, s_client *cl)
{
	if (cl->ready)
		return;
	cl->ready = 1;
	cl->rnext = NULL;
	if (s->ring_tail)
		s->ring_tail->rnext = cl;
	else
		s->ring_head = cl;
	s->ring_tail = cl;
}

static s_client *
s_ring_pop(s_server *s)
{
	s_client *cl = s->ring_head;

	if (cl) {
		s->ring_head = cl->rnext;
		if (!s->ring_head)
			s->ring_tail = NULL;
		cl->ready = 0;
		cl->rnext = NULL;
	}
	return cl;
}

/*
 * Works through a client's queue from the head: answers what the loop can,
 * parks a fetch on the pack being built, or lists the client for a worker.
 * Frees the client when its queue is empty (cl is then gone).
 */
static void
s_advance(s_server *s, s_client *cl)
{
	s_req *r;

	while ((r = cl->head) && r->state == R_QUEUED) {
		s_pack *p = NULL;
		int d = s_direct(s, cl->id, cl->idlen, &r->req, r->digest, &p);
		if (d == D_ANSWERED) {
			cl->head = r->next;
			if (!cl->head)
				cl->tail = NULL;
			cl->n--;
			s_req_free(s, r);
			continue;
		}
		if (d == D_WAIT) {
			r->state = R_WAITING;
			r->wnext = p->waiters;
			p->waiters = r;
			s->cache.waits++;
		} else {
			s_ring_push(s, cl);
		}
		return;
	}
	if (!cl->head)
		s_client_free(s, cl);
}

/* The head request of its client is done: next one. */
static void
s_finish(s_server *s, s_req *r)
{
	s_client *cl = r->cl;

	cl->head = r->next;
	if (!cl->head)
		cl->tail = NULL;
	cl->n--;
	s_req_free(s, r);
	s_advance(s, cl);
}

static void
s_send_job(s_slot *slot, s_req *r, int kind, int has_base, const uint8_t *base)
{
	s_job job = { .kind = kind, .has_base = has_base };
	zmq_msg_t copy;

	if (base)
		memcpy(job.base, base, KR_OID_LEN);
	zmq_msg_init(&copy);
	zmq_msg_copy(&copy, &r->frame);
	zmq_send(slot->pipe, &job, sizeof(job), ZMQ_SNDMORE);
	zmq_msg_send(&copy, slot->pipe, 0);
	r->state = R_POOL;
	slot->req = r;
}

/* Hands the next client in turn to each idle worker. */
static void
s_dispatch(s_server *s)
{
	for (int i = 0; i < s->nslots && s->ring_head; i++) {
		s_slot *slot = &s->slots[i];
		s_client *cl;
		if (slot->req || slot->stopped)
			continue;
		while ((cl = s_ring_pop(s))) {
			s_req *r = cl->head;
			if (r && r->state == R_QUEUED) {
				s_send_job(slot, r, r->req.type == KR_REQ_SEARCH ? S_JOB_SEARCH :
				    r->req.type == KR_REQ_MEMBERSHIP ? S_JOB_MEMBERSHIP : S_JOB_RESOLVE, 0, NULL);
				break;
			}
		}
	}
}

/*
 * Queues a request the loop cannot answer now, within serve_credit per
 * connection and serve_queue in all; when everything is full, a connection
 * with fewer waiting displaces the newest request of the one with most.
 * Returns the client, or NULL when req was refused (EBUSY sent).
 */
static s_client *
s_admit(s_server *s, s_client *cl, zmq_msg_t *identity, zmq_msg_t *frame, kr_request *req,
    const uint8_t digest[32])
{
	size_t have = cl ? cl->n : 0, bytes = zmq_msg_size(frame);
	s_req *r;

	if (have >= (size_t)s->h->cfg.serve_credit) {
		s_busy(s, zmq_msg_data(identity), zmq_msg_size(identity), req->id, 1);
		return NULL;
	}
	if (s->waiting >= (size_t)s->h->cfg.serve_queue || s->waiting_bytes + bytes > WAITING_BYTES_MAX) {
		s_client *big = NULL;
		for (s_client *c = s->clients; c; c = c->next)
			if (!big || c->n > big->n)
				big = c;
		if (!big || big->n < 2 || big->n <= have + 1) {
			s_busy(s, zmq_msg_data(identity), zmq_msg_size(identity), req->id, 0);
			return NULL;
		}
		/* big's newest request waits behind its head: refuse that one instead */
		{
			s_req *prev = big->head, *victim;
			while (prev->next != big->tail)
				prev = prev->next;
			victim = big->tail;
			prev->next = NULL;
			big->tail = prev;
			big->n--;
			s_busy(s, big->id, big->idlen, victim->req.id, 0);
			s_req_free(s, victim);
		}
	}
	if (!cl) {
		cl = kr_calloc(1, sizeof(*cl));
		cl->idlen = zmq_msg_size(identity) < sizeof(cl->id) ? zmq_msg_size(identity) : sizeof(cl->id);
		memcpy(cl->id, zmq_msg_data(identity), cl->idlen);
		cl->next = s->clients;
		s->clients = cl;
	}
	r = kr_calloc(1, sizeof(*r));
	r->cl = cl;
	zmq_msg_init(&r->frame);
	zmq_msg_move(&r->frame, frame);
	r->req = *req;
	memset(req, 0, sizeof(*req));
	memcpy(r->digest, digest, 32);
	r->state = R_QUEUED;
	if (cl->tail)
		cl->tail->next = r;
	else
		cl->head = r;
	cl->tail = r;
	cl->n++;
	s->waiting++;
	s->waiting_bytes += bytes;
	return cl;
}

static void
s_handle_request(s_server *s)
{
	s_frames f;
	kr_request req;
	uint8_t digest[32] = { 0 };
	s_client *cl;
	s_pack *p = NULL;

	if (s_recv_frames(s->router, &f) < 0)
		return;
	if (f.n != 2 || f.truncated) {
		/* error replies echo the request id whenever it can be read (docs/protocol.md) */
		uint64_t rid = f.n >= 2 && !f.truncated ?
		    kr_request_peek_id(zmq_msg_data(&f.part[f.n - 1]), zmq_msg_size(&f.part[f.n - 1])) : 0;
		if (f.n == 3 && !f.truncated && zmq_msg_size(&f.part[1]) == 0) {
			/* a REQ socket's envelope: answer in it, so the client reads the refusal instead of hanging */
			kr_reply rep = { .id = rid, .type = KR_REP_ERROR, .code = KR_WIRE_EBADREQ,
				.text = (char *)"kairan answers DEALER sockets only (a REQ socket allows one request "
				    "in flight; pack transfer keeps several): see docs/protocol.md" };
			if (s_reply_begin(s, zmq_msg_data(&f.part[0]), zmq_msg_size(&f.part[0])) == 0 &&
			    zmq_send(s->router, "", 0, ZMQ_SNDMORE | ZMQ_DONTWAIT) == 0) {
				kr_buf out = KR_BUF_INIT;
				kr_reply_encode(&out, &rep);
				s_send_reply_buf(s->router, &out, ZMQ_DONTWAIT);
			}
		} else if (f.n >= 1) {
			s_reply_error(s, zmq_msg_data(&f.part[0]), zmq_msg_size(&f.part[0]), rid, KR_WIRE_EBADREQ,
			    "a request is one frame (the Request message) after the DEALER's identity");
		}
		s_frames_close(&f);
		return;
	}
	if (kr_request_decode(&req, zmq_msg_data(&f.part[1]), zmq_msg_size(&f.part[1])) < 0) {
		log_debug("request: %s", kr_errmsg());
		s_reply_error(s, zmq_msg_data(&f.part[0]), zmq_msg_size(&f.part[0]),
		    kr_request_peek_id(zmq_msg_data(&f.part[1]), zmq_msg_size(&f.part[1])), KR_WIRE_EBADREQ, kr_errmsg());
		s_frames_close(&f);
		return;
	}
	if (req.type == KR_REQ_FETCH)
		s_fetch_digest(digest, &req);
	cl = s_client_find(s, zmq_msg_data(&f.part[0]), zmq_msg_size(&f.part[0]));
	/* Behind earlier requests of the same connection: wait in turn. */
	if (!cl && s_direct(s, zmq_msg_data(&f.part[0]), zmq_msg_size(&f.part[0]), &req, digest, &p) == D_ANSWERED) {
		kr_request_clear(&req);
		s_frames_close(&f);
		return;
	}
	if ((cl = s_admit(s, cl, &f.part[0], &f.part[1], &req, digest))) {
		s_advance(s, cl);
		s_dispatch(s);
	}
	kr_request_clear(&req);
	s_frames_close(&f);
}

/* A pack arrived, or its build failed: answer everyone who waited for it. */
static void
s_pack_done(s_server *s, s_pack *p, s_req *builder, const char *failed)
{
	s_req *w = p->waiters;

	p->waiters = NULL;
	if (builder) {
		if (failed)
			s_reply_error(s, builder->cl->id, builder->cl->idlen, builder->req.id, KR_WIRE_EINTERNAL, failed);
		else
			s_reply_chunk(s, builder->cl->id, builder->cl->idlen, &builder->req, p);
	}
	for (s_req *r = w; r; r = r->wnext) {
		if (failed)
			s_reply_error(s, r->cl->id, r->cl->idlen, r->req.id, KR_WIRE_EINTERNAL, failed);
		else
			s_reply_chunk(s, r->cl->id, r->cl->idlen, &r->req, p);
	}
	if (failed)
		s_cache_remove(&s->cache, p);
	else
		s_cache_trim(&s->cache, p);
	if (builder)
		s_finish(s, builder);
	while (w) {
		s_req *next = w->wnext;
		s_finish(s, w);
		w = next;
	}
}

/*
 * A pool worker's result for the request it had: passes a reply on, caches
 * a built pack and answers everyone waiting for it, or (resolved) answers
 * from a pack already built, waits for one being built, or has the same
 * worker build it. Then the worker takes the next client in turn.
 */
static void
s_handle_pool(s_server *s, s_slot *slot)
{
	s_frames f;
	s_result res;
	s_req *r = slot->req;
	s_pack *p;

	if (s_recv_frames(slot->pipe, &f) < 0)
		return;
	if (s_frame_is(&f, 0, "stopped")) {
		slot->stopped = 1;
		s_frames_close(&f);
		return;
	}
	if (f.n != 2 || zmq_msg_size(&f.part[0]) != sizeof(res) || !r) {
		s_frames_close(&f);
		return;
	}
	memcpy(&res, zmq_msg_data(&f.part[0]), sizeof(res));
	slot->req = NULL;
	switch (res.kind) {
	case S_RES_REPLY:
		s_reply_msg(s, r->cl->id, r->cl->idlen, r->req.id, &f.part[1]);
		s_finish(s, r);
		break;
	case S_RES_RESOLVED:
		s_alias_put(&s->cache, r->digest, res.key);
		if ((p = s_cache_find(&s->cache, res.key)) && p->ready) {
			s->cache.hits++;
			s_reply_chunk(s, r->cl->id, r->cl->idlen, &r->req, p);
			s_finish(s, r);
		} else if (p) {
			r->state = R_WAITING;
			r->wnext = p->waiters;
			p->waiters = r;
			s->cache.waits++;
		} else {
			/* The first to ask for this pack: the same worker builds it. */
			s_cache_add(&s->cache, res.key);
			s_send_job(slot, r, S_JOB_BUILD, res.has_base, res.base);
		}
		break;
	case S_RES_BUILT:
	case S_RES_FAILED:
		if (!(p = s_cache_find(&s->cache, res.key)) && res.kind == S_RES_BUILT)
			p = s_cache_add(&s->cache, res.key);
		if (res.kind == S_RES_BUILT) {
			char pub[KR_FPR_HEX + 1];
			zmq_msg_move(&p->data, &f.part[1]);
			p->ready = 1;
			s->cache.bytes += zmq_msg_size(&p->data);
			s->cache.builds++;
			kr_hex(pub, r->req.publisher, KR_FPR_LEN);
			log_debug("publisher %.16s…/%s: built pack (%zu bytes, %.1f ms, %s)", pub, r->req.collection,
			    zmq_msg_size(&p->data), res.ms, res.has_base ? "incremental" : "whole history");
			s_pack_done(s, p, r, NULL);
		} else if (p) {
			char *why = s_frame_str(&f, 1);
			s_pack_done(s, p, r, why);
			free(why);
		} else {
			s_reply_error(s, r->cl->id, r->cl->idlen, r->req.id, KR_WIRE_EINTERNAL, "cannot build pack");
			s_finish(s, r);
		}
		break;
	default:
		s_finish(s, r);
		break;
	}
	s_frames_close(&f);
	s_dispatch(s);
}

static void
s_log_busy(s_server *s, double now)
{
	if (now - s->busy_logged < BUSY_LOG_MS)
		return;
	if (s->busy_queue || s->busy_credit || s->busy_replies || s->dropped)
		log_warnx("clients: %zu requests refused as busy (%zu with the queue full, %zu over a "
		    "connection's credit, %zu with too many replies unread), %zu replies dropped for clients "
		    "that do not read, in the last %d s", s->busy_queue + s->busy_credit + s->busy_replies,
		    s->busy_queue, s->busy_credit, s->busy_replies, s->dropped, BUSY_LOG_MS / 1000);
	s->busy_queue = s->busy_credit = s->busy_replies = s->dropped = 0;
	s->busy_logged = now;
}

/* ---- peers ------------------------------------------------------------- */

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
	kr_buf_release(&p->inlined);
	memset(p, 0, sizeof(*p));
}

/*
 * Sends a job to an idle worker; 0 when none can take it, or when a
 * worker is still busy with this peer: a peer has one job out at a time,
 * so its exchanges stay in order and what waits can still be folded.
 */
static int
s_rw_route(s_server *s, const char *what, const char *ep, const void *data, size_t len, int has_data,
    const void *extra, size_t elen)
{
	s_rslot *to = NULL;

	for (int i = 0; i < s->nrw; i++)
		if (s->rw[i].ep && strcmp(s->rw[i].ep, ep) == 0)
			return 0;
	for (int i = 0; i < s->nrw && !to; i++)
		if (!s->rw[i].ep && s->rw[i].started && !s->rw[i].stopped)
			to = &s->rw[i];
	if (!to)
		return 0;
	to->ep = kr_strdup(ep);
	to->jobs++;
	if (has_data) {
		const char *fr[4] = { what, ep, data, extra };
		size_t l[4] = { strlen(what), strlen(ep), len, elen };
		s_sendv(to->pipe, fr, l, elen ? 4 : 3);
	} else {
		s_sends(to->pipe, what, ep, NULL, 0);
	}
	return 1;
}

static void
s_rjob_free(s_rjob *j)
{
	free(j->what);
	free(j->ep);
	free(j->fold);
	kr_buf_release(&j->data);
	kr_buf_release(&j->extra);
	free(j);
}

/* Takes *pp (whose predecessor is prev) out of the waiting jobs. */
static s_rjob *
s_rq_unlink(s_server *s, s_rjob **pp, s_rjob *prev)
{
	s_rjob *j = *pp;

	*pp = j->next;
	if (s->rq_tail == j)
		s->rq_tail = prev;
	s->rq_n--;
	return j;
}

/* Hands waiting jobs, oldest first, to the workers that can take them. */
static void
s_rw_drain(s_server *s)
{
	s_rjob **pp = &s->rq_head, *prev = NULL;

	while (*pp) {
		s_rjob *j = *pp;
		if (s_rw_route(s, j->what, j->ep, j->data.ptr, j->data.len, j->has_data, j->extra.ptr, j->extra.len)) {
			s_rjob_free(s_rq_unlink(s, pp, prev));
		} else {
			prev = j;
			pp = &j->next;
		}
	}
}

/*
 * A job for a replication worker (hello/snapshot: no data; manifest,
 * membership: the announcement). Waits in order behind earlier jobs
 * when no worker can take it. A waiting job with the same what, peer and
 * fold key (one publisher's manifest) is replaced by the newer one, which
 * goes to the back: a town that fell behind applies the newest manifest
 * once instead of every seq it missed, in order after everything that
 * came before it. Past REPL_QUEUE_MAX an announcement is dropped (the
 * next beacon's snapshot brings what it carried).
 */
static int
s_to_worker_x(s_server *s, const char *what, const char *ep, const char *fold, const void *data, size_t len,
    int has_data, const void *extra, size_t elen)
{
	s_rjob *j;

	if (!s->rq_head && s_rw_route(s, what, ep, data, len, has_data, extra, elen))
		return 1;
	if (fold) {
		s_rjob **pp = &s->rq_head, *prev = NULL;
		for (; *pp; prev = *pp, pp = &(*pp)->next)
			if ((*pp)->fold && strcmp((*pp)->fold, fold) == 0 && strcmp((*pp)->what, what) == 0 &&
			    strcmp((*pp)->ep, ep) == 0) {
				log_debug("peer %s: %s %.16s…: a newer announcement replaces the waiting one", ep, what, fold);
				s_rjob_free(s_rq_unlink(s, pp, prev));
				break;
			}
	}
	if (s->rq_n >= REPL_QUEUE_MAX && has_data) {
		log_debug("peer %s: %s dropped: %zu jobs wait for a replication worker", ep, what, s->rq_n);
		return 0;
	}
	j = kr_calloc(1, sizeof(*j));
	j->what = kr_strdup(what);
	j->ep = kr_strdup(ep);
	j->fold = fold ? kr_strdup(fold) : NULL;
	j->data = (kr_buf)KR_BUF_INIT;
	j->extra = (kr_buf)KR_BUF_INIT;
	if ((j->has_data = has_data))
		kr_buf_add(&j->data, data, len);
	if (elen)
		kr_buf_add(&j->extra, extra, elen);
	if (s->rq_tail)
		s->rq_tail->next = j;
	else
		s->rq_head = j;
	s->rq_tail = j;
	s->rq_n++;
	s_rw_drain(s);
	return 1;
}

static void
s_to_worker(s_server *s, const char *what, const char *ep, const char *fold, const void *data, size_t len,
    int has_data)
{
	(void)s_to_worker_x(s, what, ep, fold, data, len, has_data, NULL, 0);
}

static void
s_ask_worker(s_server *s, s_peer *p, const char *what)
{
	if (p->busy) {
		p->again = 1;
		return;
	}
	p->busy = 1;
	s_to_worker(s, what, p->endpoint, NULL, NULL, 0, 0);
}

/*
 * Subscribes p's SUB to the manifests of the publishers followed through
 * it, and of the federation members when this node joined through it.
 */
static void
s_subscribe(s_server *s, s_peer *p)
{
	char **want;
	size_t n;
	int joined;

	if (kr_fed_wanted(s->h, p->endpoint, p->pubs, p->npubs, &want, &n, &joined) < 0)
		log_warnx("peer %s: federation: %s", p->endpoint, kr_errmsg());
	for (size_t j = 0; j < n; j++) {
		char topic[2 + KR_FPR_HEX + 1];
		snprintf(topic, sizeof(topic), "m/%s", want[j]);
		zmq_setsockopt(p->sub, ZMQ_SUBSCRIBE, topic, strlen(topic));
	}
	kr_strv_free(want, n);
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
			s_subscribe(s, p);
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

/*
 * A new membership version may give a member's endpoint another transport
 * key (a key rotation): a subscription made under the old key would retry
 * its handshake forever. Such a subscription is closed and made again
 * after the next hello (which snapshots what was announced in between);
 * every other subscription, a retired member's included, stays.
 */
static int
s_member_key_changed(const kr_membership *m, const char *endpoint, const uint8_t key[32])
{
	char *bare = NULL, *mbare = NULL;
	uint8_t k[32];
	int has, changed = 0;

	if (kr_transport_split(endpoint, &bare, k, &has) < 0) {
		kr_error_clear();
		return 0;
	}
	for (size_t i = 0; i < m->nmembers && !changed; i++) {
		if (!m->members[i].has_curve)
			continue;
		for (size_t e = 0; e < m->members[i].nendpoints && !changed; e++) {
			if (kr_transport_split(m->members[i].endpoints[e], &mbare, k, &has) < 0) {
				kr_error_clear();
				continue;
			}
			changed = strcmp(mbare, bare) == 0 && memcmp(m->members[i].curve, key, 32) != 0;
			free(mbare);
		}
	}
	free(bare);
	return changed;
}

static void
s_peers_reconnect(s_server *s)
{
	const kr_membership *m = kr_replica_federation(&s->h->rep);

	for (size_t i = 0; m && i < s->npeers; i++) {
		s_peer *p = &s->peers[i];
		uint8_t key[32];
		size_t len = sizeof(key);
		if (!p->sub || zmq_getsockopt(p->sub, ZMQ_CURVE_SERVERKEY, key, &len) != 0 || len != 32 ||
		    !s_member_key_changed(m, p->endpoint, key))
			continue;
		log_info("peer %s: the membership gives it another transport key: subscribing again", p->endpoint);
		zmq_close(p->sub);
		p->sub = NULL;
		if (!p->busy) {
			p->up = 0;
			p->retry_at = 0;
		}
	}
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

/*
 * A key rotation that has come due (the membership version rotating this
 * node's key arrived, or `key rotate --now`) is made by opening the home
 * (node/keyrot.h), which needs the daemon gone: the node stops as on
 * SIGTERM and executes itself again, same PID, same endpoints.
 */
static void
s_maybe_rekey(s_server *s)
{
	char fpr[KR_FPR_HEX + 1];

	if (s->restart || !kr_keyrot_due(s->h, fpr))
		return;
	log_info("key rotation: this node switches from %.16s… to %.16s…: restarting itself to sign with the new key",
	    s->h->fpr, fpr);
	s->restart = 1;
}

/* After a snapshot in which something failed: when a beacon may ask again (see the file header). */
/* first, doubled for each of the n - 1 failures before this one, at most max */
static double
s_backoff(double first, int n, double max)
{
	for (int i = 1; i < n && first < max; i++)
		first *= 2;
	return first < max ? first : max;
}

static void
s_snapshot_backoff(s_server *s, s_peer *p)
{
	double wait = s_backoff(s->h->cfg.beacon_ms, ++p->fails, SNAPSHOT_BACKOFF_MAX_MS);

	p->snapshot_at = kr_monotonic_ms() + wait;
	if (p->fails >= 3)
		log_info("peer %s: %d snapshots in a row failed; asking again in %.0f s", p->endpoint, p->fails,
		    wait / 1000);
}

static void
s_handle_worker(s_server *s, s_rslot *slot)
{
	s_frames f;

	if (s_recv_frames(slot->pipe, &f) < 0)
		return;
	if (s_frame_is(&f, 0, "done")) {
		if (slot->jobs > 0 && --slot->jobs == 0) {
			free(slot->ep);
			slot->ep = NULL;
		}
		s_rw_drain(s);
	} else if (s_frame_is(&f, 0, "applied") && f.n >= 2) {
		char *pub = s_frame_str(&f, 1);
		s_announce(s, pub);
		free(pub);
	} else if (s_frame_is(&f, 0, "fedchanged")) {
		/* a new membership version: pass it on, and a hub may follow new members */
		s_fed_announce(s);
		s_peers_reconnect(s);
		s_load_peers(s);
		s_maybe_rekey(s);
	} else if ((s_frame_is(&f, 0, "synced") || s_frame_is(&f, 0, "down")) && f.n >= 2) {
		char *ep = s_frame_str(&f, 1);
		s_peer *p = s_peer_find(s, ep);
		if (p && s_frame_is(&f, 0, "down")) {
			p->busy = 0;
			p->up = 0;
			p->retry_at = kr_monotonic_ms() + s_backoff(HELLO_RETRY_MS, ++p->downs, HELLO_RETRY_MAX_MS);
			if (p->downs == 3)
				log_info("peer %s: down 3 times in a row; tried again every %d s at most", p->endpoint,
				    HELLO_RETRY_MAX_MS / 1000);
		} else if (p) {
			char *ann = f.n >= 4 ? s_frame_str(&f, 3) : kr_strdup("");
			p->busy = 0;
			p->up = 1;
			p->downs = 0;
			if (zmq_msg_size(&f.part[2]) == 16) {
				memcpy(p->digest, zmq_msg_data(&f.part[2]), 16);
				p->have_digest = 1;
				if (p->fails > 2)
					log_info("peer %s: a snapshot succeeded again after %d that failed", p->endpoint,
					    p->fails);
				p->fails = 0;
			} else {
				p->have_digest = 0;     /* something failed: a later beacon asks again */
				s_snapshot_backoff(s, p);
			}
			if (*ann && !p->sub) {
				/* First contact: subscribe, then snapshot again (Clone pattern). */
				free(p->announce);
				p->announce = s_resolve_announce(p->endpoint, ann);
				p->sub = zmq_socket(s->zctx, ZMQ_SUB);
				int linger = 0;
				int64_t maxmsg = KR_MSG_MAX;
				zmq_setsockopt(p->sub, ZMQ_LINGER, &linger, sizeof(linger));
				zmq_setsockopt(p->sub, ZMQ_MAXMSGSIZE, &maxmsg, sizeof(maxmsg));
				zmq_setsockopt(p->sub, ZMQ_SUBSCRIBE, "b", 1);
				zmq_setsockopt(p->sub, ZMQ_SUBSCRIBE, "f/", 2);
				s_subscribe(s, p);
				/* the announce endpoint is the same node: the key of the endpoint we talked to */
				if (kr_transport_connect(p->sub, p->announce, p->endpoint, KR_TRANSPORT_NO_INTRO, 0) < 0) {
					log_warnx("peer %s: cannot subscribe to %s: %s", p->endpoint, p->announce, kr_errmsg());
					zmq_close(p->sub);
					p->sub = NULL;
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

/* The publisher an "m/" topic (its first frame) names. */
static void
s_topic_fpr(s_frames *f, char fpr[KR_FPR_HEX + 1])
{
	memcpy(fpr, (const char *)zmq_msg_data(&f->part[0]) + 2, KR_FPR_HEX);
	fpr[KR_FPR_HEX] = '\0';
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
			if (p->fails && kr_monotonic_ms() < p->snapshot_at) {
				log_debug("peer %s: beacon digest changed; the last snapshot failed, asking again later",
				    p->endpoint);
			} else {
				log_debug("peer %s: beacon digest changed; asking for a snapshot", p->endpoint);
				s_ask_worker(s, p, "snapshot");
			}
		}
	} else if (f.n == 2 && !f.truncated && zmq_msg_size(&f.part[0]) == 2 + 64 &&
	    memcmp(zmq_msg_data(&f.part[0]), "f/", 2) == 0) {
		/* every membership version: each is checked against the one before it */
		s_to_worker(s, "membership", p->endpoint, NULL, zmq_msg_data(&f.part[1]), zmq_msg_size(&f.part[1]), 1);
	} else if (f.n == 2 && !f.truncated && zmq_msg_size(&f.part[0]) == 2 + KR_FPR_HEX &&
	    memcmp(zmq_msg_data(&f.part[0]), "m/", 2) == 0) {
		char fpr[KR_FPR_HEX + 1];
		s_topic_fpr(&f, fpr);
		if (p->inlined.len && p->inlined.len == zmq_msg_size(&f.part[1]) &&
		    memcmp(p->inlined.ptr, zmq_msg_data(&f.part[1]), p->inlined.len) == 0)
			log_debug("peer %s: publisher %.16s…: the same manifest again, without its packs", p->endpoint,
			    fpr);
		else
			s_to_worker(s, "manifest", p->endpoint, fpr, zmq_msg_data(&f.part[1]),
			    zmq_msg_size(&f.part[1]), 1);
		kr_buf_release(&p->inlined);
	} else if (f.n == 3 && !f.truncated && zmq_msg_size(&f.part[0]) == 2 + KR_FPR_HEX + 1 &&
	    memcmp(zmq_msg_data(&f.part[0]), "m/", 2) == 0 &&
	    ((const char *)zmq_msg_data(&f.part[0]))[2 + KR_FPR_HEX] == '+') {
		/*
		 * A publisher's own manifest and its packs (s_announce_inline); the
		 * plain copy that follows is dropped once this one is queued. Packs
		 * larger than a node sends are not kept: the manifest alone is.
		 */
		char fpr[KR_FPR_HEX + 1];
		size_t plen = zmq_msg_size(&f.part[2]);
		s_topic_fpr(&f, fpr);
		kr_buf_release(&p->inlined);
		if (plen > KR_INLINE_FRAME_MAX)
			log_debug("peer %s: publisher %.16s…: %zu bytes of packs with a manifest, more than a node sends",
			    p->endpoint, fpr, plen);
		else if (s_to_worker_x(s, "manifest", p->endpoint, fpr, zmq_msg_data(&f.part[1]),
		    zmq_msg_size(&f.part[1]), 1, zmq_msg_data(&f.part[2]), plen))
			kr_buf_add(&p->inlined, zmq_msg_data(&f.part[1]), zmq_msg_size(&f.part[1]));
	} else {
		log_debug("peer %s: ignored a malformed announcement", p->endpoint);
	}
	s_frames_close(&f);
}

/*
 * "memory": one log line of what the process holds, by owner, for whoever
 * chases growth (tests/t0091, make bench section 7): malloc's bytes in use
 * (a leak raises them) beside its free bytes kept in the arenas
 * (fragmentation raises those, and malloc_trim gives back only whole free
 * pages), SQLite's and libgit2's own counts, and the loop's packs and
 * replies. RSS and mappings are /proc's to tell.
 */
static void
s_log_memory(s_server *s)
{
	struct mallinfo2 mi = mallinfo2();
	kr_state_mem db;
	long long git_limit = 0;
	int repos = 0;
	long long git = kr_store_cached_memory(s->h->store, &git_limit, &repos);

	kr_state_memory(s->h->state, &db);
	log_info("memory: malloc %zu kB in use (%zu kB of it in %zu mapped chunks), %zu kB free in its arenas "
	    "(%zu kB taken from the system, %zu kB releasable at the top); SQLite %lld kB (highest %lld kB), page "
	    "caches %lld kB (highest %lld kB), the loop's connection %d kB; libgit2 object caches %lld kB (budget "
	    "%lld kB), %d repos open in the loop; packs cached %zu kB (%zu); replies unsent %zu kB",
	    (mi.uordblks + mi.hblkhd) >> 10, mi.hblkhd >> 10, mi.hblks, mi.fordblks >> 10, mi.arena >> 10,
	    mi.keepcost >> 10, db.used >> 10, db.used_max >> 10, db.pagecache >> 10,
	    db.pagecache_max >> 10, (db.conn_cache + db.conn_schema + db.conn_stmt) >> 10, git >> 10,
	    git_limit >> 10, repos, s->cache.bytes >> 10, s->cache.n, atomic_load(&s_reply_bytes) >> 10);
}

/* A publish's notice ("restores withdrawn item …"), one line of the answer. */
static void
s_publish_notice(const char *msg, void *arg)
{
	kr_buf_addf(arg, "%s\n", msg);
}

/*
 * `kairan publish` handed its checked items to this node: committed,
 * signed and announced here, where the repositories, state.db and key are
 * open already; the answer is "APPLIED CHANGED SEQ" and the notices, one
 * a line, or why nothing was published. The consolidation a publish leaves
 * goes to the maintenance thread (node/pubmaint.h).
 */
static int
s_control_publish(s_server *s, const void *payload, size_t len, kr_buf *reply)
{
	kr_control_pub p = { 0 };
	kr_apply res;
	kr_buf notices = KR_BUF_INIT;
	kr_replica *r = &s->h->rep;
	kr_config cfg = { 0 };
	kr_inline packs = { 0 };
	char *path = kr_sprintf("%s/config", s->h->home);
	locale_t lang = (locale_t)0, was = (locale_t)0;
	int rc;

	/* what it says (a refusal, a notice) in the command's language, as the command would have said it */
	if ((rc = kr_control_pub_decode(&p, payload, len)) == 0 && p.locale &&
	    (lang = newlocale(LC_MESSAGES_MASK, p.locale, (locale_t)0)) != (locale_t)0)
		was = uselocale(lang);
	/*
	 * The config as the command read it, on disk now (the node's own is
	 * from its start): the same policy checks, name and limits as a
	 * publish made by the command itself.
	 */
	if (rc == 0 && (rc = kr_config_load(&cfg, path)) == 0) {
		kr_replica saved = *r;
		r->rules = &cfg.rules;
		r->pii = &cfg.pii;
		r->own_name = cfg.name;
		r->own_code = cfg.lg_code;
		r->manifest_ttl = cfg.manifest_ttl;
		r->max_collection_bytes = cfg.max_collection_bytes;
		r->notice = s_publish_notice;
		r->notice_arg = &notices;
		r->defer_maintenance = 1;
		r->inline_out = &packs;
		rc = kr_replica_publish(r, p.files, p.n, p.message, &res);
		r->inline_out = NULL;
		r->rules = saved.rules;
		r->pii = saved.pii;
		r->own_name = saved.own_name;
		r->own_code = saved.own_code;
		r->manifest_ttl = saved.manifest_ttl;
		r->max_collection_bytes = saved.max_collection_bytes;
		r->notice = NULL;
		r->notice_arg = NULL;
		r->defer_maintenance = 0;
	}
	if (rc < 0)
		kr_buf_adds(reply, kr_errmsg());
	if (lang) {
		uselocale(was);
		freelocale(lang);
	}
	free(path);
	kr_config_clear(&cfg);
	if (rc < 0) {
		log_warnx("a publish handed to this node: %s; nothing was published", kr_errmsg());
		kr_error_clear();
		kr_control_pub_clear(&p);
		kr_buf_release(&notices);
		return -1;
	}
	if (res.applied) {
		s_announce_inline(s, &packs);
		kr_inline_clear(&packs);
		s_announce(s, s->h->fpr);
		log_info("publisher %.16s… (this node): %zu file(s) published here, seq %llu announced", s->h->fpr,
		    p.n, (unsigned long long)res.seq);
	}
	if (!s->pubmaint && kr_pubmaint_start(&s->pubmaint, s->h) < 0) {
		log_warnx("%s: the consolidation is done now", kr_errmsg());
		kr_error_clear();
	} else {
		kr_pubmaint_take(s->pubmaint, r);
	}
	kr_buf_addf(reply, "%d %zu %llu\n", res.applied, res.changed, (unsigned long long)res.seq);
	kr_buf_add(reply, notices.ptr, notices.len);
	kr_buf_release(&notices);
	kr_control_pub_clear(&p);
	/*
	 * The manifest's copy for plain git mirrors is written before the
	 * answer, so a mirror made after the command carries it; but after
	 * the subscribers' fetches, which the announcement just started. A
	 * publish that changed nothing waits behind the copies still to be
	 * written, so a mirror made after it carries the newest manifest too.
	 */
	if ((r->own_ref || s->ncopies) && !r->nmaint) {
		struct s_copy *c;
		s->copies = kr_realloc(s->copies, (s->ncopies + 1) * sizeof(*s->copies));
		c = &s->copies[s->ncopies++];
		c->ticket = kr_control_ticket(s->control);
		c->reply = *reply;
		*reply = (kr_buf)KR_BUF_INIT;
		c->ref = r->own_ref;
		c->ref_len = r->own_ref_len;
		c->at = kr_monotonic_ms();
		r->own_ref = NULL;
		r->own_ref_len = 0;
		return KR_CONTROL_LATER;
	}
	kr_replica_maintain(r, 1);
	return 0;
}

/* Writes the copies publishes left (in order: the newest last), then answers their commands. */
static void
s_copies_write(s_server *s)
{
	kr_replica *r = &s->h->rep;

	for (size_t i = 0; i < s->ncopies; i++) {
		struct s_copy *c = &s->copies[i];
		free(r->own_ref);               /* one a failed publish left: older than c's */
		r->own_ref = c->ref;
		r->own_ref_len = c->ref_len;
		kr_replica_maintain(r, 1);      /* frees ref */
		kr_control_answer(s->control, c->ticket, 0, &c->reply);
		kr_buf_release(&c->reply);
	}
	free(s->copies);
	s->copies = NULL;
	s->ncopies = 0;
}

/*
 * A poke or call from the CLI (node/control.c admitted it): 0 when cmd is
 * known, answered after acting.
 */
static int
s_handle_control(const char *cmd, const void *payload, size_t len, kr_buf *reply, void *arg)
{
	s_server *s = arg;

	if (payload)
		return strcmp(cmd, "publish") == 0 ? s_control_publish(s, payload, len, reply) : -1;
	if (strcmp(cmd, "announce") == 0) {
		s_announce(s, s->h->fpr);
		log_info("publisher %.16s… (this node): new manifest announced", s->h->fpr);
	} else if (strcmp(cmd, "reload") == 0) {
		s_load_peers(s);
	} else if (strcmp(cmd, "federation") == 0) {
		s_fed_announce(s);
		s_peers_reconnect(s);
		s_load_peers(s);
		s_maybe_rekey(s);
	} else if (strcmp(cmd, "keyrot") == 0) {
		s_maybe_rekey(s);
	} else if (strcmp(cmd, "memory") == 0) {
		s_log_memory(s);
	} else if (strcmp(cmd, "ping") != 0) {
		char *shown = kr_safe(cmd);
		log_warnx("control socket: unknown command '%s'", shown);
		free(shown);
		return -1;
	}
	return 0;
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

/*
 * A server socket bound on ep: CURVE with the ZAP domain (kr_transport_serve)
 * before it binds, so no connection is ever taken in without the handler.
 */
static void *
s_bind(s_server *s, int type, const char *ep, const char *domain, char **actual)
{
	void *sock = zmq_socket(s->zctx, type);
	char buf[256];
	size_t len = sizeof(buf);
	int linger = 0;
	int64_t maxmsg = KR_MSG_MAX;

	zmq_setsockopt(sock, ZMQ_LINGER, &linger, sizeof(linger));
	if (type == ZMQ_ROUTER)
		zmq_setsockopt(sock, ZMQ_MAXMSGSIZE, &maxmsg, sizeof(maxmsg));
	if (actual && type == ZMQ_ROUTER) {
		/* The request socket: bounded queues both ways, replies dropped when full. */
		int sndhwm = REPLY_HWM, rcvhwm = REQUEST_HWM, mandatory = 1;
		zmq_setsockopt(sock, ZMQ_SNDHWM, &sndhwm, sizeof(sndhwm));
		zmq_setsockopt(sock, ZMQ_RCVHWM, &rcvhwm, sizeof(rcvhwm));
		zmq_setsockopt(sock, ZMQ_ROUTER_MANDATORY, &mandatory, sizeof(mandatory));
	} else if (type == ZMQ_PUB) {
		/*
		 * A subscriber that reads slowly holds at most this many
		 * announcements here; older ones are dropped, and its next
		 * beacon's snapshot brings what they carried. With libzmq's
		 * 1,000, the 500-town soak's hub grew 64 -> 99 MB while its
		 * starved towns fell behind (2026-12-01, run 7).
		 */
		int sndhwm = ANNOUNCE_HWM;
		zmq_setsockopt(sock, ZMQ_SNDHWM, &sndhwm, sizeof(sndhwm));
	}
	if (kr_transport_serve(sock, domain) < 0) {
		zmq_close(sock);
		return NULL;
	}
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

/* ---- start and stop ---------------------------------------------------- */

/*
 * How long the loop may sleep when no message comes: until the nearest of
 * the next beacon, a hello retry of a peer that is down, a cached pack's
 * expiry (checked at most every IDLE_MS, since `expired`), the summary of
 * refused requests, the systemd watchdog ping, and the tidy (tidy_ms, -1:
 * none). Never a fixed tick: an idle node wakes for its beacons.
 */
static long
s_loop_timeout(s_server *s, double now, double expired, long tidy_ms)
{
	double at = s->next_beacon;
	long ms, dog;

	for (size_t i = 0; i < s->npeers; i++)
		if (!s->peers[i].up && !s->peers[i].busy && s->peers[i].retry_at < at)
			at = s->peers[i].retry_at;
	for (s_pack *p = s->cache.head; p; p = p->next) {
		double due = p->used + PACK_IDLE_MS;
		if (due < expired + IDLE_MS)
			due = expired + IDLE_MS;
		if (p->ready && due < at)
			at = due;
	}
	if ((s->busy_queue || s->busy_credit || s->busy_replies || s->dropped) && s->busy_logged + BUSY_LOG_MS < at)
		at = s->busy_logged + BUSY_LOG_MS;
	ms = s_ms_until(at, now);
	if (tidy_ms >= 0 && tidy_ms < ms)
		ms = tidy_ms;
	if ((dog = kr_service_watchdog_ms()) >= 0 && dog < ms)
		ms = dog;
	return ms;
}

/*
 * The loop: until SIGTERM/SIGINT, or a poll failure (returned). Replies
 * from the pool come first in each round: they free queue room.
 */
static int
s_run(s_server *s)
{
	s_tidy_state tidy = { 0 };
	double expired = 0;
	long tidy_ms = -1;
	int rc = 0;

	while (!atomic_load(&s_signalled) && !s->restart) {
		zmq_pollitem_t items[2 + CONTROL_FDS + REPL_WORKERS + 64 + 256];
		int cfds[CONTROL_FDS];
		size_t n = 0, first_rw, first_pool, first_sub, ncfd = kr_control_fds(s->control, cfds, CONTROL_FDS);
		double now = kr_monotonic_ms();
		long timeout;
		int control_ready = 0, events;

		items[n++] = (zmq_pollitem_t){ s->router, 0, ZMQ_POLLIN, 0 };
		items[n++] = (zmq_pollitem_t){ NULL, s_sigpipe[0], ZMQ_POLLIN, 0 };
		for (size_t i = 0; i < ncfd; i++)
			items[n++] = (zmq_pollitem_t){ NULL, cfds[i], ZMQ_POLLIN, 0 };
		first_rw = n;
		for (int i = 0; i < s->nrw; i++)
			items[n++] = (zmq_pollitem_t){ s->rw[i].pipe, 0, ZMQ_POLLIN, 0 };
		first_pool = n;
		for (int i = 0; i < s->nslots; i++)
			items[n++] = (zmq_pollitem_t){ s->slots[i].pipe, 0, ZMQ_POLLIN, 0 };
		first_sub = n;
		for (size_t i = 0; i < s->npeers && n < sizeof(items) / sizeof(items[0]); i++)
			items[n++] = (zmq_pollitem_t){ s->peers[i].sub, 0, s->peers[i].sub ? ZMQ_POLLIN : 0, 0 };
		timeout = s_loop_timeout(s, now, expired, tidy_ms);
		if (s->ncopies && timeout > COPY_IDLE_MS)
			timeout = COPY_IDLE_MS;
		if ((events = zmq_poll(items, (int)n, timeout)) < 0) {
			if (zmq_errno() == EINTR)
				continue;
			rc = kr_error(KR_EIO, "poll: %s", zmq_strerror(zmq_errno()));
			break;
		}
		for (size_t i = first_pool; i < first_sub; i++)
			if (items[i].revents & ZMQ_POLLIN)
				s_handle_pool(s, &s->slots[i - first_pool]);
		if (items[0].revents & ZMQ_POLLIN)
			for (int k = 0; k < 64 && (zmq_poll(items, 1, 0) > 0); k++)
				s_handle_request(s);
		for (size_t i = 2; i < 2 + ncfd; i++)
			control_ready |= (items[i].revents & ZMQ_POLLIN) != 0;
		if (control_ready)
			kr_control_serve(s->control, s_handle_control, s);
		if (s->ncopies && (events == 0 || kr_monotonic_ms() - s->copies[0].at >= COPY_WAIT_MS))
			s_copies_write(s);
		if (items[1].revents & ZMQ_POLLIN) {
			char drain[16];
			while (read(s_sigpipe[0], drain, sizeof(drain)) > 0)
				;
			continue;
		}
		for (size_t i = first_rw; i < first_pool; i++)
			if (items[i].revents & ZMQ_POLLIN)
				s_handle_worker(s, &s->rw[i - first_rw]);
		for (size_t i = first_sub; i < n; i++)
			if ((items[i].revents & ZMQ_POLLIN) && i - first_sub < s->npeers)
				s_handle_sub(s, &s->peers[i - first_sub]);
		/* beacons from peers alone leave nothing to tidy */
		for (size_t i = 0; i < first_sub; i++)
			if (items[i].revents & ZMQ_POLLIN)
				tidy.dirty = 1;
		now = kr_monotonic_ms();
		if (now >= s->next_beacon) {
			s_maybe_resign(s);
			s_beacon(s);
			s->next_beacon = now + s->h->cfg.beacon_ms;
		}
		if (now - expired >= IDLE_MS) {
			s_cache_expire(&s->cache, now);
			expired = now;
		}
		tidy_ms = s_tidy(s->h->store, s->h->state, &tidy);
		s_log_busy(s, now);
		kr_service_watchdog();
		for (size_t i = 0; i < s->npeers; i++)
			if (!s->peers[i].up && !s->peers[i].busy && now >= s->peers[i].retry_at)
				s_ask_worker(s, &s->peers[i], "hello");
	}
	return rc;
}

/* Opens the pool workers' own handles here, so a failure is reported at once. */
static int
s_pool_start(s_server *s)
{
	char *dbpath = kr_sprintf("%s/state.db", s->h->home);
	int rc = 0;

	s->nslots = s->h->cfg.serve_workers;
	s->slots = kr_calloc((size_t)s->nslots, sizeof(s_slot));
	for (int i = 0; i < s->nslots && rc == 0; i++) {
		s_slot *slot = &s->slots[i];
		char ep[64];
		snprintf(ep, sizeof(ep), POOL_EP, i);
		slot->pipe = zmq_socket(s->zctx, ZMQ_PAIR);
		slot->w.pipe = zmq_socket(s->zctx, ZMQ_PAIR);
		slot->w.stop = &s_stopping;
		slot->w.home = s->h->home;
		slot->w.rules = &s->h->cfg.rules;
		if (zmq_bind(slot->pipe, ep) < 0 || zmq_connect(slot->w.pipe, ep) < 0) {
			rc = kr_error(KR_EIO, "pool pipe: %s", zmq_strerror(zmq_errno()));
			break;
		}
		if ((rc = kr_store_open(&slot->w.store, s->h->home)) < 0 ||
		    (rc = kr_state_open(&slot->w.state, dbpath)) < 0)
			break;
		if (pthread_create(&slot->thread, NULL, s_pool_main, &slot->w) != 0) {
			rc = kr_error(KR_ERROR, "cannot start pool worker %d", i);
			break;
		}
		slot->started = 1;
	}
	free(dbpath);
	return rc;
}

/*
 * Stops every thread within STOP_GRACE_MS of now. Returns 1 when all have
 * stopped (their handles are closed), 0 when some are still busy (their
 * handles are left to the process exit).
 */
static int
s_stop_threads(s_server *s)
{
	double deadline = kr_monotonic_ms() + STOP_GRACE_MS;
	int all = 1;

	atomic_store(&s_stopping, 1);
	for (int i = 0; i < s->nrw; i++)
		if (s->rw[i].started && !s->rw[i].stopped)
			s_sends(s->rw[i].pipe, "stop", NULL, NULL, 0);
	for (int i = 0; i < s->nslots; i++)
		if (s->slots[i].started && !s->slots[i].stopped)
			s_sends(s->slots[i].pipe, "stop", NULL, NULL, 0);
	for (;;) {
		zmq_pollitem_t items[REPL_WORKERS + 64];
		int n = 0, pending = 0;
		double left = deadline - kr_monotonic_ms();

		for (int i = 0; i < s->nrw; i++) {
			int wait = s->rw[i].started && !s->rw[i].stopped;
			items[n++] = (zmq_pollitem_t){ s->rw[i].pipe, 0, wait ? ZMQ_POLLIN : 0, 0 };
			pending += wait;
		}
		for (int i = 0; i < s->nslots; i++) {
			int wait = s->slots[i].started && !s->slots[i].stopped;
			items[n++] = (zmq_pollitem_t){ s->slots[i].pipe, 0, wait ? ZMQ_POLLIN : 0, 0 };
			pending += wait;
		}
		if (!pending || left <= 0)
			break;
		if (zmq_poll(items, n, (long)left + 1) < 0 && zmq_errno() != EINTR)
			break;
		for (int i = 0; i < n; i++) {
			s_frames f;
			if (!(items[i].revents & ZMQ_POLLIN) || s_recv_frames(items[i].socket, &f) < 0)
				continue;
			if (s_frame_is(&f, 0, "stopped")) {
				if (i < s->nrw)
					s->rw[i].stopped = 1;
				else
					s->slots[i - s->nrw].stopped = 1;
			}
			s_frames_close(&f);
		}
	}
	for (int i = 0; i < s->nrw; i++) {
		s_rslot *r = &s->rw[i];
		if (r->started && !r->stopped) {
			all = 0;
			continue;
		}
		if (r->started)
			pthread_join(r->thread, NULL);
		kr_home_close(&r->w->h);
		if (r->w->pipe)
			zmq_close(r->w->pipe);
		if (r->pipe)
			zmq_close(r->pipe);
		free(r->w);
		free(r->ep);
		r->w = NULL;
		r->pipe = NULL;
	}
	for (int i = 0; i < s->nslots; i++) {
		s_slot *slot = &s->slots[i];
		if (slot->started && !slot->stopped) {
			all = 0;
			continue;
		}
		if (slot->started)
			pthread_join(slot->thread, NULL);
		kr_store_destroy(&slot->w.store);
		kr_state_destroy(&slot->w.state);
		if (slot->w.pipe)
			zmq_close(slot->w.pipe);
		if (slot->pipe)
			zmq_close(slot->pipe);
	}
	return all;
}

int
kr_serve(kr_home *h, const char *listen, const char *announce)
{
	s_server s = { 0 };
	kr_web *web = NULL;
	kr_guard *guard = NULL;
	char domain[65];
	struct sigaction sa;
	sigset_t block, old;
	int rc = 0, clean = 1;
	double stop_at = 0, web_ms = 0, threads_ms = 0;

	/*
	 * Large transient buffers (pack chunks, packs, a whole history being
	 * consolidated) are mapped and unmapped: glibc otherwise raises this
	 * threshold after the first such free and leaves them in the heap,
	 * where what stays allocated around them keeps the pages resident.
	 */
	mallopt(M_MMAP_THRESHOLD, 128 << 10);
	/* one arena per thread otherwise, each keeping what its thread once used */
	mallopt(M_ARENA_MAX, ARENAS_MAX);
	s.h = h;
	if (kr_state_bound_memory(h->state, 0, DB_CACHE_KB) < 0)
		log_warnx("%s", kr_errmsg());
	s.cache.budget = h->cfg.pack_cache_bytes;
	s.cache.alias = kr_calloc(ALIAS_MAX, sizeof(s_alias));
	s.zctx = zmq_ctx_new();
	/* CURVE's encryption runs on libzmq's I/O threads: two, so a flood on one connection
	 * does not queue every other client's handshake and requests behind it */
	zmq_ctx_set(s.zctx, ZMQ_IO_THREADS, 2);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = s_on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	/* Threads started from here on leave SIGINT/SIGTERM to this one. */
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &block, &old);
	if (s_sigpipe[0] < 0 && pipe2(s_sigpipe, O_CLOEXEC | O_NONBLOCK) < 0) {
		rc = kr_error(KR_EIO, "serve: cannot make the signal pipe: %s", strerror(errno));
		goto done;
	}

	if (kr_control_poke(h, "ping", 300) == 0) {
		rc = kr_error(KR_EEXISTS, "another kairan serve is already running on %s", h->home);
		goto done;
	}
	/* a port in use is said (with who holds it) before anything else starts */
	if ((rc = kr_port_check(listen ? listen : h->cfg.listen)) < 0 ||
	    (rc = kr_port_check(announce ? announce : h->cfg.announce)) < 0)
		goto done;
	kr_transport_cancel_on(&s_stopping);
	/* the ZAP handler first: a CURVE server socket never exists without it */
	if ((rc = kr_guard_start(&guard, s.zctx)) < 0)
		goto done;
	kr_transport_domain(domain);
	if (!(s.router = s_bind(&s, ZMQ_ROUTER, listen ? listen : h->cfg.listen, domain, &s.listen_ep)) ||
	    !(s.pub = s_bind(&s, ZMQ_PUB, announce ? announce : h->cfg.announce, domain, &s.announce_ep))) {
		rc = KR_EIO;
		goto done;
	}
	if (kr_control_listen(&s.control, h->home) < 0)
		log_warnx("control socket: %s (a CLI publish will reach peers at the next beacon)", kr_errmsg());
	if ((rc = kr_guard_run(guard, h->key, s.listen_ep)) < 0)
		goto done;
	if (kr_transport_plain())
		log_warnx("node %s: transport = plain: links are not encrypted and any client may connect "
		    "(for tests only)", h->cfg.name);
	log_info("transport: requests %s, announcements %s, control %s (ZAP domain %s)",
	    kr_transport_mechanism(s.router), kr_transport_mechanism(s.pub),
	    s.control ? "unix socket, this user only" : "none", kr_transport_plain() ? "none" : domain);
	/* the replication workers, each with its own handles */
	for (s.nrw = 0; s.nrw < REPL_WORKERS; s.nrw++) {
		s_rslot *r = &s.rw[s.nrw];
		char ep[64];
		snprintf(ep, sizeof(ep), PIPE_EP, s.nrw);
		r->w = kr_calloc(1, sizeof(*r->w));
		r->w->zctx = s.zctx;
		r->w->timeout_ms = h->cfg.timeout_ms;
		r->w->stop = &s_stopping;
		r->pipe = zmq_socket(s.zctx, ZMQ_PAIR);
		r->w->pipe = zmq_socket(s.zctx, ZMQ_PAIR);
		if (zmq_bind(r->pipe, ep) < 0 || zmq_connect(r->w->pipe, ep) < 0) {
			rc = kr_error(KR_EIO, "replication worker pipe: %s", zmq_strerror(zmq_errno()));
			s.nrw++;
			goto done;
		}
		if ((rc = kr_home_open(&r->w->h, h->home)) < 0) {
			s.nrw++;
			goto done;
		}
		if (kr_state_bound_memory(r->w->h.state, 0, DB_CACHE_KB) < 0)
			log_warnx("replication worker %d: %s", s.nrw, kr_errmsg());
		/* what follows an apply's commit waits until it is announced (s_worker_applied) */
		r->w->h.rep.defer_maintenance = 1;
		kr_progress_view_init_log(&r->w->progress);
		r->w->h.rep.progress = kr_progress_view_show;
		r->w->h.rep.progress_arg = &r->w->progress;
		if (pthread_create(&r->thread, NULL, s_worker_main, r->w) != 0) {
			rc = kr_error(KR_ERROR, "cannot start a replication worker");
			s.nrw++;
			goto done;
		}
		r->started = 1;
	}
	if ((rc = s_pool_start(&s)) < 0)
		goto done;
	if (strcmp(h->cfg.web, "off") != 0) {
		/* the web pages: their own threads and handles (node/web.c), never this loop's */
		kr_web_conf wc = { .home = h->home, .url = h->cfg.web, .name = h->cfg.name, .lg_code = h->cfg.lg_code,
			.fpr = h->fpr, .retrieval_keys = h->cfg.web_retrieval_keys, .threads = h->cfg.web_threads,
			.rules = &h->cfg.rules,
			.timeout_s = h->cfg.web_timeout, .max_connections = h->cfg.web_max_connections, .per_ip = h->cfg.web_per_ip };
		if ((rc = kr_web_start(&web, &wc)) == KR_EUSAGE)
			goto done;
		if (rc < 0)
			log_warnx("%s; this node runs without its web pages", kr_errmsg());
		else
			log_info("web pages on %s/", kr_web_url(web));
		rc = 0;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);

	/* Make sure we have a signed manifest to offer, fresh enough. */
	{
		kr_state_manifest m;
		if (kr_state_manifest_get(h->state, h->fpr, &m) < 0)
			kr_replica_issue(&h->rep, NULL);
		else
			kr_state_manifest_clear(&m);
	}
	s_maybe_resign(&s);
	{
		size_t n = kr_replica_settle_copies(&h->rep);
		if (n)
			log_info("%zu publisher(s): the saved manifest was older than the one applied (the node stopped "
			    "before writing it): written again, with the copies for git mirrors", n);
	}
	log_info("node %s (%s, %.16s…): listening on %s, announcing on %s (%d workers, queue %d, %d per connection)",
	    h->cfg.name, h->cfg.lg_code, h->fpr, s.listen_ep, s.announce_ep, s.nslots, h->cfg.serve_queue,
	    h->cfg.serve_credit);
	s_load_peers(&s);
	for (size_t i = 0; i < s.npeers; i++)
		s_ask_worker(&s, &s.peers[i], "hello");
	s_announce(&s, h->fpr);
	{
		char *status = kr_sprintf("listening on %s, announcing on %s", s.listen_ep, s.announce_ep);
		kr_service_ready(status);
		free(status);
	}

	rc = s_run(&s);
	if (rc == 0 && s.restart)
		kr_service_reloading();
	else
		kr_service_stopping();
	stop_at = atomic_load(&s_signalled) ? s_signalled_at.tv_sec * 1e3 + s_signalled_at.tv_nsec / 1e6 :
	    kr_monotonic_ms();
	log_info("node %s: shutting down (pack cache: %zu builds, %zu hits, %zu waits; %zu requests refused "
	    "as busy, %zu replies dropped)", h->cfg.name, s.cache.builds, s.cache.hits, s.cache.waits,
	    s.busy_total, s.dropped_total);
done:
	s_copies_write(&s);             /* commands waiting get their answer */
	kr_web_stop(&web);
	kr_pubmaint_stop(&s.pubmaint);
	web_ms = kr_monotonic_ms();
	if (rc < 0)
		pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (s.nrw || s.slots) {
		clean = s_stop_threads(&s);
		if (!clean)
			log_warnx("node %s: stopped without waiting for a busy worker (%.0f ms); what it was "
			    "writing is all-or-nothing and is checked at the next start", h->cfg.name,
			    kr_monotonic_ms() - stop_at);
	}
	while (s.rq_head) {
		s_rjob *j = s.rq_head;
		s.rq_head = j->next;
		s_rjob_free(j);
	}
	for (size_t i = 0; i < s.npeers; i++)
		s_peer_close(&s.peers[i]);
	free(s.peers);
	while (s.clients)
		s_client_free(&s, s.clients);
	s_cache_free(&s.cache);
	s_snap_drop(&s);
	if (clean)
		free(s.slots);
	if (s.router)
		zmq_close(s.router);
	if (s.pub)
		zmq_close(s.pub);
	kr_control_close(&s.control);
	free(s.listen_ep);
	free(s.announce_ep);
	kr_guard_stop(&guard);
	threads_ms = kr_monotonic_ms();
	if (!clean) {
		/*
		 * A thread is still inside libgit2, SQLite or OpenSSL: exit now,
		 * without the exit handlers (OpenSSL's would free what it uses).
		 */
		fflush(NULL);
		if (rc == 0 && s.restart)
			kr_serve_reexec();   /* its descriptors are close-on-exec; returns only on failure */
		_exit(rc < 0 ? 1 : 0);
	}
	zmq_ctx_term(s.zctx);
	if (stop_at > 0)
		log_info("node %s: stopped in %.0f ms (the loop and web pages %.0f ms, threads and handles %.0f ms, "
		    "connections %.0f ms)", h->cfg.name, kr_monotonic_ms() - stop_at, web_ms - stop_at,
		    threads_ms - web_ms, kr_monotonic_ms() - threads_ms);
	return rc == 0 && s.restart ? KR_SERVE_RESTART : rc;
}

void
kr_serve_reexec(void)
{
	char buf[65536], *argv[256];
	ssize_t n = 0, r;
	size_t argc = 0;
	int fd = open("/proc/self/cmdline", O_RDONLY | O_CLOEXEC);

	while (fd >= 0 && (size_t)n < sizeof(buf) - 1 && (r = read(fd, buf + n, sizeof(buf) - 1 - (size_t)n)) > 0)
		n += r;
	if (fd >= 0)
		close(fd);
	buf[n] = '\0';
	for (ssize_t i = 0; i < n && argc < sizeof(argv) / sizeof(argv[0]) - 1; i += (ssize_t)strlen(buf + i) + 1)
		argv[argc++] = buf + i;
	argv[argc] = NULL;
	if (argc > 0)
		execv("/proc/self/exe", argv);
	log_warnx("cannot execute kairan again (%s): start it again to sign with the new key", strerror(errno));
}
