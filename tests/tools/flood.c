/*
 * tests/tools/flood.c - an anonymous client that floods a node, and peers
 * that never answer (for tests of the daemon's limits)
 *
 *   flood EP --mode search|fetch|mixed [--seconds S] [--conns N] [--inflight K]
 *         [--publisher FPR --collection C --want HEX]
 *       N DEALER connections, each keeping K requests in flight for S
 *       seconds (or until SIGTERM): searches, and fetches of want with 1 to
 *       64 random haves (each asks the pack cache for a "new" pack). Reads
 *       every reply.
 *   flood EP --mode membership --federation FEDID ...
 *       Membership requests for the whole chain (from version 0).
 *   flood EP --mode noread ...
 *       the same requests, never reading a reply.
 *   flood EP --mode mute [--seconds S]
 *       binds a ROUTER at EP that completes the handshake and never answers.
 *   flood EP --mode silent [--seconds S]
 *       listens on EP (tcp://127.0.0.1:PORT) and accepts TCP connections
 *       without ever sending a byte.
 *
 * The client modes print one line of counts:
 *   flood MODE: sent=… answered=… busy=… (queue=… credit=…) errors=… unanswered=… p50=… ms
 * Written from proto/codec.h only (not node/peer.c), so it is a client
 * that is not kairan. Test code: exits 3 on setup errors, 2 on usage.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <zmq.h>

#include "../../node/transport.h"
#include "../../proto/codec.h"

#define MAX_CONNS 64
#define MAX_SAMPLES 100000

static volatile sig_atomic_t s_term;

static void
s_on_term(int sig)
{
	(void)sig;
	s_term = 1;
}

static const char *const s_queries[] = {
	"ごみ", "AI", "チャットボット 正答率", "議会答弁", "子育て", "生成AI 研修", "\"ごみ出し\"",
	"問合せ", "翻訳", "要約 -ごみ",
};

typedef struct {
	const char *mode;
	double seconds;
	int conns, inflight;
	uint8_t publisher[KR_FPR_LEN];
	char collection[KR_COLLECTION_MAX + 1];
	uint8_t want[KR_OID_LEN];
	int have_fetch;
	uint8_t fed[32];
	int have_fed;
} s_opts;

typedef struct {
	unsigned long sent, answered, busy, busy_queue, busy_credit, errors;
	double *ms;
	size_t nms;
} s_counts;

typedef struct {
	void *sock;
	int outstanding;
	uint64_t next_id;
	double sent_at[1024];          /* by id % 1024 */
} s_conn;

static void
s_usage(void)
{
	fprintf(stderr, "usage: flood EP --mode search|fetch|mixed|membership|noread|mute|silent [--seconds S] "
	    "[--conns N] [--inflight K] [--publisher FPR --collection C --want HEX] [--federation FEDID]\n");
	exit(2);
}

static void
s_request(const s_opts *o, uint64_t id, kr_buf *out)
{
	kr_request req = { .id = id };
	int fetch = strcmp(o->mode, "fetch") == 0 ||
	    ((strcmp(o->mode, "mixed") == 0 || strcmp(o->mode, "noread") == 0) && (id & 1));
	uint8_t (*haves)[KR_OID_LEN] = NULL;
	char *q = NULL;

	if (strcmp(o->mode, "membership") == 0) {
		req.type = KR_REQ_MEMBERSHIP;
		memcpy(req.fed, o->fed, 32);
		req.from_version = 0;
	} else if (fetch && o->have_fetch) {
		size_t n = 1 + (size_t)rand() % KR_MAX_HAVES;
		req.type = KR_REQ_FETCH;
		memcpy(req.publisher, o->publisher, KR_FPR_LEN);
		memcpy(req.collection, o->collection, sizeof(req.collection));
		memcpy(req.want, o->want, KR_OID_LEN);
		haves = calloc(n, KR_OID_LEN);
		for (size_t i = 0; i < n; i++)
			for (size_t j = 0; j < KR_OID_LEN; j++)
				haves[i][j] = (uint8_t)rand();
		req.haves = haves;
		req.nhaves = n;
		req.offset = 0;
		req.length = 256u << 10;
	} else {
		req.type = KR_REQ_SEARCH;
		q = strdup(s_queries[(size_t)rand() % (sizeof(s_queries) / sizeof(s_queries[0]))]);
		req.search[0] = q;
		req.limit = 20;
	}
	kr_request_encode(out, &req);
	free(haves);
	free(q);
}

static void
s_send(const s_opts *o, s_conn *c, s_counts *n, int flags)
{
	kr_buf out = KR_BUF_INIT;
	uint64_t id = ++c->next_id;

	s_request(o, id, &out);
	if (zmq_send(c->sock, out.ptr, out.len, flags) >= 0) {
		c->sent_at[id % 1024] = kr_monotonic_ms();
		c->outstanding++;
		n->sent++;
	}
	kr_buf_release(&out);
}

static void
s_classify(s_counts *n, const kr_reply *rep, double ms)
{
	if (rep->type == KR_REP_ERROR && rep->code == KR_WIRE_EBUSY) {
		n->busy++;
		if (rep->text && strstr(rep->text, "connection"))
			n->busy_credit++;
		else
			n->busy_queue++;
		return;
	}
	if (rep->type == KR_REP_ERROR)
		n->errors++;
	else
		n->answered++;
	if (n->nms < MAX_SAMPLES)
		n->ms[n->nms++] = ms;
}

static int
s_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static int
s_client(const char *ep, const s_opts *o)
{
	void *ctx = zmq_ctx_new();
	s_conn conns[MAX_CONNS];
	s_counts n = { 0 };
	double end = kr_monotonic_ms() + o->seconds * 1000;
	int noread = strcmp(o->mode, "noread") == 0;
	unsigned long unanswered = 0;

	n.ms = calloc(MAX_SAMPLES, sizeof(double));
	{
		/* no SA_RESTART: zmq_poll returns, and the counts are printed */
		struct sigaction sa;
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = s_on_term;
		sigaction(SIGTERM, &sa, NULL);
	}
	kr_transport_init_tool();
	for (int i = 0; i < o->conns; i++) {
		int linger = 0;
		memset(&conns[i], 0, sizeof(conns[i]));
		conns[i].sock = zmq_socket(ctx, ZMQ_DEALER);
		zmq_setsockopt(conns[i].sock, ZMQ_LINGER, &linger, sizeof(linger));
		if (kr_transport_connect(conns[i].sock, ep, NULL, 0, 3000) < 0) {
			fprintf(stderr, "flood: cannot connect to %s: %s\n", ep, kr_errmsg());
			return 3;
		}
	}
	while (!s_term && kr_monotonic_ms() < end) {
		zmq_pollitem_t it[MAX_CONNS];
		if (noread) {
			/* Send as fast as the node takes them; never read. */
			int any = 0;
			for (int i = 0; i < o->conns; i++) {
				unsigned long before = n.sent;
				s_send(o, &conns[i], &n, ZMQ_DONTWAIT);
				any |= n.sent != before;
			}
			if (!any) {
				struct timespec ts = { 0, 1000000 };
				nanosleep(&ts, NULL);
			}
			continue;
		}
		for (int i = 0; i < o->conns; i++)
			while (conns[i].outstanding < o->inflight) {
				unsigned long before = n.sent;
				s_send(o, &conns[i], &n, ZMQ_DONTWAIT);
				if (n.sent == before)
					break;
			}
		for (int i = 0; i < o->conns; i++)
			it[i] = (zmq_pollitem_t){ conns[i].sock, 0, ZMQ_POLLIN, 0 };
		if (zmq_poll(it, o->conns, 100) <= 0)
			continue;
		for (int i = 0; i < o->conns; i++) {
			zmq_msg_t m;
			if (!(it[i].revents & ZMQ_POLLIN))
				continue;
			for (;;) {
				zmq_msg_init(&m);
				if (zmq_msg_recv(&m, conns[i].sock, ZMQ_DONTWAIT) < 0) {
					zmq_msg_close(&m);
					break;
				}
				kr_reply rep;
				if (kr_reply_decode(&rep, zmq_msg_data(&m), zmq_msg_size(&m)) == 0) {
					s_classify(&n, &rep, kr_monotonic_ms() - conns[i].sent_at[rep.id % 1024]);
					kr_reply_clear(&rep);
				} else {
					n.errors++;
				}
				zmq_msg_close(&m);
				if (conns[i].outstanding > 0)
					conns[i].outstanding--;
			}
		}
	}
	for (int i = 0; i < o->conns; i++) {
		unanswered += (unsigned long)conns[i].outstanding;
		zmq_close(conns[i].sock);
	}
	qsort(n.ms, n.nms, sizeof(double), s_cmp);
	printf("flood %s: sent=%lu answered=%lu busy=%lu (queue=%lu credit=%lu) errors=%lu unanswered=%lu "
	    "p50=%.1f ms\n", o->mode, n.sent, n.answered, n.busy, n.busy_queue, n.busy_credit, n.errors,
	    noread ? n.sent : unanswered, n.nms ? n.ms[n.nms / 2] : -1.0);
	free(n.ms);
	zmq_ctx_term(ctx);
	return 0;
}

/* A ROUTER that takes every request and never answers. */
static int
s_mute(const char *ep, double seconds)
{
	void *ctx = zmq_ctx_new(), *sock;
	int linger = 0;
	double end = kr_monotonic_ms() + seconds * 1000;
	kr_guard *guard = NULL;
	kr_key *id = NULL;

	/* a CURVE server like a node: its own ZAP handler, an introduction signed by a throwaway key */
	kr_transport_init_tool();
	if (kr_guard_start(&guard, ctx) < 0 || kr_key_generate(&id) < 0) {
		fprintf(stderr, "flood: %s\n", kr_errmsg());
		return 3;
	}
	sock = zmq_socket(ctx, ZMQ_ROUTER);
	zmq_setsockopt(sock, ZMQ_LINGER, &linger, sizeof(linger));
	if (kr_transport_serve(sock, "kairan") < 0 || zmq_bind(sock, ep) < 0 || kr_guard_run(guard, id, ep) < 0) {
		fprintf(stderr, "flood: cannot bind %s: %s\n", ep, zmq_strerror(zmq_errno()));
		return 3;
	}
	while (kr_monotonic_ms() < end) {
		zmq_msg_t m;
		zmq_pollitem_t it = { sock, 0, ZMQ_POLLIN, 0 };
		if (zmq_poll(&it, 1, 200) <= 0)
			continue;
		zmq_msg_init(&m);
		zmq_msg_recv(&m, sock, 0);
		zmq_msg_close(&m);
	}
	zmq_close(sock);
	kr_guard_stop(&guard);
	kr_key_destroy(&id);
	zmq_ctx_term(ctx);
	return 0;
}

/* Accepts TCP connections and holds them, silent. */
static int
s_silent(const char *ep, double seconds)
{
	const char *port = strrchr(ep, ':');
	struct sockaddr_in a = { .sin_family = AF_INET };
	int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1, held[256], nheld = 0;
	double end = kr_monotonic_ms() + seconds * 1000;

	if (!port || fd < 0)
		return 3;
	a.sin_port = htons((uint16_t)atoi(port + 1));
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(fd, 16) < 0) {
		fprintf(stderr, "flood: cannot listen on %s\n", ep);
		return 3;
	}
	while (kr_monotonic_ms() < end) {
		struct timeval tv = { 0, 200000 };
		fd_set r;
		FD_ZERO(&r);
		FD_SET(fd, &r);
		if (select(fd + 1, &r, NULL, NULL, &tv) > 0 && nheld < 256) {
			int c = accept(fd, NULL, NULL);
			if (c >= 0)
				held[nheld++] = c;
		}
	}
	for (int i = 0; i < nheld; i++)
		close(held[i]);
	close(fd);
	return 0;
}

int
main(int argc, char **argv)
{
	s_opts o = { .mode = "mixed", .seconds = 10, .conns = 1, .inflight = 8 };
	const char *ep;

	if (argc < 2 || argv[1][0] == '-')
		s_usage();
	ep = argv[1];
	for (int i = 2; i < argc; i++) {
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!v)
			s_usage();
		if (strcmp(argv[i], "--mode") == 0)
			o.mode = v;
		else if (strcmp(argv[i], "--seconds") == 0)
			o.seconds = atof(v);
		else if (strcmp(argv[i], "--conns") == 0)
			o.conns = atoi(v);
		else if (strcmp(argv[i], "--inflight") == 0)
			o.inflight = atoi(v);
		else if (strcmp(argv[i], "--publisher") == 0) {
			if (kr_unhex(o.publisher, KR_FPR_LEN, v) < 0)
				s_usage();
		} else if (strcmp(argv[i], "--collection") == 0)
			snprintf(o.collection, sizeof(o.collection), "%s", v);
		else if (strcmp(argv[i], "--want") == 0) {
			if (kr_unhex(o.want, KR_OID_LEN, v) < 0)
				s_usage();
			o.have_fetch = 1;
		} else if (strcmp(argv[i], "--federation") == 0) {
			if (kr_unhex(o.fed, 32, v) < 0)
				s_usage();
			o.have_fed = 1;
		} else
			s_usage();
		i++;
	}
	if (o.conns < 1 || o.conns > MAX_CONNS || o.inflight < 1 || o.inflight > 512)
		s_usage();
	srand((unsigned)getpid() ^ (unsigned)time(NULL));
	if (strcmp(o.mode, "mute") == 0)
		return s_mute(ep, o.seconds);
	if (strcmp(o.mode, "silent") == 0)
		return s_silent(ep, o.seconds);
	if (strcmp(o.mode, "search") && strcmp(o.mode, "fetch") && strcmp(o.mode, "mixed") &&
	    strcmp(o.mode, "noread") && strcmp(o.mode, "membership"))
		s_usage();
	if (strcmp(o.mode, "membership") == 0 && !o.have_fed)
		s_usage();
	if (strcmp(o.mode, "fetch") == 0 && !o.have_fetch)
		s_usage();
	return s_client(ep, &o);
}
