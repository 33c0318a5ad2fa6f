/*
 * tests/tools/benchsub.c - measuring helper for `make bench`
 *
 * A subscriber announces a manifest only after verifying and applying it,
 * so "verified on the subscriber" is measured by subscribing to the
 * subscribers' PUB sockets and waiting for the new seq.
 *
 *   benchsub latency KAIRAN PUBHOME SUB_ANNOUNCE N DIR PUB_ANNOUNCE
 *       N single-item publishes; prints count, then p50/p90/max of publish ->
 *       verified (ms from starting the CLI process), then p50/p90 of the
 *       publisher's announcement -> verified (replication alone), then
 *       p50/p90 of start -> announcement and p50 of start -> the CLI's exit
 *       (reaped once the town verified, so never below that). The CLI runs beside the wait
 *       (posix_spawn, no shell), so each arrival is timed when it happens.
 *   benchsub fanout KAIRAN PUBHOME ITEMFILE EP1 [EP2 ...]
 *       one publish; prints ms until every subscriber announced it
 *   benchsub packsize HOME PUB COLL WANT [HAVE]
 *       bytes of kairan's pack for WANT given HAVE
 *   benchsub packtime HOME PUB COLL WANT
 *       ms and bytes of kairan's pack of WANT's whole history (what a
 *       consolidation writes), from the packs the repository holds
 *   benchsub curvefan KAIRAN PUBHOME ITEMFILE HUB_LISTEN HUB_ANNOUNCE#KEY N curve|plain  (KEY: hex or Z85)
 *       N subscribers in this process, each with its own CURVE key (curve)
 *       or none (plain) and its own SUB and DEALER to one hub (a kairan
 *       node following PUBHOME's publisher): one publish, then each
 *       subscriber, on the hub's announcement, checks the manifest
 *       (kr_manifest_check: signature, seq), fetches the new pack over its
 *       DEALER and checks the pack's SHA-1 trailer. Prints ms until all N
 *       verified, and how many did. Real sockets, not N kairan processes
 *       (500 of those do not fit on a small machine beside the hub).
 */
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <zmq.h>

#include "../../node/home.h"
#include "../../sharing/manifest.h"
#include "../../node/transport.h"
#include "../../proto/codec.h"

static uint64_t
s_seq(const void *data, size_t len)
{
	kr_signed s;
	kr_manifest m;
	uint64_t seq = 0;

	if (kr_signed_decode(&s, data, len) == 0 && kr_manifest_decode(&m, s.body.ptr, s.body.len) == 0) {
		seq = m.seq;
		kr_manifest_clear(&m);
	}
	kr_signed_clear(&s);
	return seq;
}

/* Waits until every socket announced a seq >= want; returns ms, or -1 on timeout. */
static double
s_wait(void **socks, size_t n, uint64_t want, double t0, double timeout_ms)
{
	char *done = calloc(n, 1);
	size_t left = n;

	while (left) {
		zmq_pollitem_t *it = calloc(n, sizeof(*it));
		double rest = t0 + timeout_ms - kr_monotonic_ms();
		if (rest <= 0) {
			free(it);
			free(done);
			return -1;
		}
		for (size_t i = 0; i < n; i++)
			it[i] = (zmq_pollitem_t){ socks[i], 0, ZMQ_POLLIN, 0 };
		zmq_poll(it, (int)n, (long)rest);
		for (size_t i = 0; i < n; i++) {
			if (!(it[i].revents & ZMQ_POLLIN))
				continue;
			zmq_msg_t topic, body;
			zmq_msg_init(&topic);
			zmq_msg_init(&body);
			zmq_msg_recv(&topic, socks[i], 0);
			if (zmq_msg_more(&topic))
				zmq_msg_recv(&body, socks[i], 0);
			if (!done[i] && s_seq(zmq_msg_data(&body), zmq_msg_size(&body)) >= want) {
				done[i] = 1;
				left--;
			}
			zmq_msg_close(&topic);
			zmq_msg_close(&body);
		}
		free(it);
	}
	free(done);
	return kr_monotonic_ms() - t0;
}

/* Like s_wait, recording when each socket got there (at[i], ms since t0). */
static double
s_wait_each(void **socks, size_t n, uint64_t want, double t0, double timeout_ms, double *at)
{
	size_t left = n;

	for (size_t i = 0; i < n; i++)
		at[i] = -1;
	while (left) {
		zmq_pollitem_t it[8];
		double rest = t0 + timeout_ms - kr_monotonic_ms();
		if (rest <= 0 || n > 8)
			return -1;
		for (size_t i = 0; i < n; i++)
			it[i] = (zmq_pollitem_t){ socks[i], 0, ZMQ_POLLIN, 0 };
		zmq_poll(it, (int)n, (long)rest + 1);
		for (size_t i = 0; i < n; i++) {
			zmq_msg_t topic, body;
			if (!(it[i].revents & ZMQ_POLLIN))
				continue;
			zmq_msg_init(&topic);
			zmq_msg_init(&body);
			zmq_msg_recv(&topic, socks[i], 0);
			if (zmq_msg_more(&topic))
				zmq_msg_recv(&body, socks[i], 0);
			if (at[i] < 0 && s_seq(zmq_msg_data(&body), zmq_msg_size(&body)) >= want) {
				at[i] = kr_monotonic_ms() - t0;
				left--;
			}
			zmq_msg_close(&topic);
			zmq_msg_close(&body);
		}
	}
	return kr_monotonic_ms() - t0;
}

static uint64_t
s_own_seq(const char *home)
{
	kr_home h;
	kr_state_manifest m;
	uint64_t seq = 0;

	if (kr_home_open(&h, home) < 0)
		return 0;
	if (kr_state_manifest_get(h.state, h.fpr, &m) == 0) {
		seq = m.seq;
		kr_state_manifest_clear(&m);
	}
	kr_home_close(&h);
	return seq;
}

static void *
s_sub(void *ctx, const char *ep, const char *fpr)
{
	void *s = zmq_socket(ctx, ZMQ_SUB);
	char topic[80];

	snprintf(topic, sizeof(topic), "m/%s", fpr);
	zmq_setsockopt(s, ZMQ_SUBSCRIBE, topic, strlen(topic));
	/* ep carries the node's key (ANNOUNCE#KEY): an announce port answers no introductions */
	if (kr_transport_connect(s, ep, NULL, KR_TRANSPORT_NO_INTRO, 0) < 0) {
		fprintf(stderr, "benchsub: %s\n", kr_errmsg());
		exit(3);
	}
	return s;
}

static char *
s_fpr(const char *home)
{
	kr_home h;
	char *f;

	if (kr_home_open(&h, home) < 0) {
		fprintf(stderr, "benchsub: %s\n", kr_errmsg());
		exit(3);
	}
	f = kr_strdup(h.fpr);
	kr_home_close(&h);
	return f;
}

static int
s_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* ---- curvefan ------------------------------------------------------------ */

typedef struct {
	void *sub, *dealer;
	int state;                     /* 0 waiting for the manifest, 1 fetching, 2 verified */
	kr_buf pack;
	uint64_t total;
} s_fan;

static int
s_trust_one(const uint8_t pub[KR_FPR_LEN], void *arg)
{
	return memcmp(pub, arg, KR_FPR_LEN) == 0;
}

static void
s_fan_key(void *sock, const uint8_t server[32], int curve)
{
	char pub[41], sec[41];

	if (!curve)
		return;
	zmq_curve_keypair(pub, sec);
	zmq_setsockopt(sock, ZMQ_CURVE_SERVERKEY, server, 32);
	zmq_setsockopt(sock, ZMQ_CURVE_PUBLICKEY, pub, 40);
	zmq_setsockopt(sock, ZMQ_CURVE_SECRETKEY, sec, 40);
}

static void
s_fan_fetch(s_fan *f, const kr_request *tmpl, uint64_t offset)
{
	kr_request req = *tmpl;
	kr_buf b = KR_BUF_INIT;

	req.id = offset + 1;
	req.offset = offset;
	kr_request_encode(&b, &req);
	zmq_send(f->dealer, b.ptr, b.len, ZMQ_DONTWAIT);
	kr_buf_release(&b);
}

/* A manifest arrived on f's SUB: check it and ask for the pack it names. */
static void
s_fan_manifest(s_fan *f, const void *data, size_t len, uint8_t fpr[KR_FPR_LEN], uint64_t want,
    const kr_manifest *old, kr_request *tmpl)
{
	kr_manifest m;
	uint8_t pub[KR_FPR_LEN];
	uint8_t have[1][KR_OID_LEN];

	if (f->state != 0 || kr_manifest_check(&m, pub, data, len, s_trust_one, fpr, NULL, kr_now()) != KR_MANIFEST_ACCEPT)
		return;
	if (m.seq >= want) {
		for (size_t i = 0; i < m.nheads; i++) {
			const kr_head *h = &m.heads[i];
			for (size_t j = 0; j < old->nheads; j++)
				if (strcmp(old->heads[j].collection, h->collection) == 0 &&
				    memcmp(old->heads[j].commit, h->commit, KR_OID_LEN) != 0) {
					memset(tmpl, 0, sizeof(*tmpl));
					tmpl->type = KR_REQ_FETCH;
					memcpy(tmpl->publisher, fpr, KR_FPR_LEN);
					snprintf(tmpl->collection, sizeof(tmpl->collection), "%s", h->collection);
					memcpy(tmpl->want, h->commit, KR_OID_LEN);
					memcpy(have[0], old->heads[j].commit, KR_OID_LEN);
					tmpl->haves = have;
					tmpl->nhaves = 1;
					tmpl->length = 256u << 10;
					f->state = 1;
					s_fan_fetch(f, tmpl, 0);
					tmpl->haves = NULL;
				}
		}
	}
	kr_manifest_clear(&m);
}

static int
s_pack_ok(const kr_buf *p)
{
	uint8_t sum[20];
	kr_sha1 *h;

	if (p->len < 32 || memcmp(p->ptr, "PACK", 4) != 0)
		return 0;
	h = kr_sha1_new();
	kr_sha1_update(h, p->ptr, p->len - 20);
	kr_sha1_final(&h, sum);
	return memcmp(sum, p->ptr + p->len - 20, 20) == 0;
}

static int
s_curvefan(char **argv)
{
	const char *k = argv[2], *home = argv[3], *listen = argv[5];
	char *announce = NULL;
	uint8_t server[32];
	int has_key = 0;
	size_t n = (size_t)atoi(argv[7]), done = 0, sent_fetch = 0;
	int curve = strcmp(argv[8], "curve") == 0;
	char *fpr_hex = s_fpr(home), topic[80];
	uint8_t fpr[KR_FPR_LEN];
	void *ctx = zmq_ctx_new();
	s_fan *fan = calloc(n, sizeof(*fan));
	zmq_pollitem_t *it = calloc(2 * n, sizeof(*it));
	kr_manifest old = { 0 };
	kr_request tmpl[1];
	uint64_t want;
	double t0, last = 0, man_first = 0, man_last = 0, settle = 0;
	char *cmd;

	if (kr_transport_split(argv[6], &announce, server, &has_key) < 0 || (curve && !has_key)) {
		fprintf(stderr, "benchsub: curvefan needs HUB_ANNOUNCE#KEY\n");
		return 2;
	}
	zmq_ctx_set(ctx, ZMQ_IO_THREADS, 2);
	zmq_ctx_set(ctx, ZMQ_MAX_SOCKETS, (int)(2 * n + 64));
	kr_unhex(fpr, KR_FPR_LEN, fpr_hex);
	{
		kr_home h;
		kr_state_manifest sm;
		kr_signed sg;
		if (kr_home_open(&h, home) < 0 || kr_state_manifest_get(h.state, h.fpr, &sm) < 0 ||
		    kr_signed_decode(&sg, sm.signed_bytes.ptr, sm.signed_bytes.len) < 0 ||
		    kr_manifest_decode(&old, sg.body.ptr, sg.body.len) < 0) {
			fprintf(stderr, "benchsub: %s\n", kr_errmsg());
			return 3;
		}
		want = sm.seq + 1;
		kr_signed_clear(&sg);
		kr_state_manifest_clear(&sm);
		kr_home_close(&h);
	}
	snprintf(topic, sizeof(topic), "m/%s", fpr_hex);
	for (size_t i = 0; i < n; i++) {
		int linger = 0;
		fan[i].sub = zmq_socket(ctx, ZMQ_SUB);
		fan[i].dealer = zmq_socket(ctx, ZMQ_DEALER);
		zmq_setsockopt(fan[i].sub, ZMQ_LINGER, &linger, sizeof(linger));
		zmq_setsockopt(fan[i].dealer, ZMQ_LINGER, &linger, sizeof(linger));
		zmq_setsockopt(fan[i].sub, ZMQ_SUBSCRIBE, topic, strlen(topic));
		s_fan_key(fan[i].sub, server, curve);
		s_fan_key(fan[i].dealer, server, curve);
		if (zmq_connect(fan[i].sub, announce) < 0 || zmq_connect(fan[i].dealer, listen) < 0) {
			fprintf(stderr, "benchsub: subscriber %zu: %s\n", i, zmq_strerror(zmq_errno()));
			return 3;
		}
		it[2 * i] = (zmq_pollitem_t){ fan[i].sub, 0, ZMQ_POLLIN, 0 };
		it[2 * i + 1] = (zmq_pollitem_t){ fan[i].dealer, 0, ZMQ_POLLIN, 0 };
	}
	/*
	 * Ready when every DEALER answered a Hello and every SUB got a beacon
	 * (so its handshake and subscription are done): then nothing but the
	 * delivery of the new item is timed.
	 */
	{
		kr_request hello = { .id = 1, .type = KR_REQ_HELLO };
		kr_buf hb = KR_BUF_INIT;
		size_t ready = 0;
		char *ok = calloc(2 * n, 1);
		double s0 = kr_monotonic_ms();
		kr_request_encode(&hb, &hello);
		for (size_t i = 0; i < n; i++) {
			zmq_setsockopt(fan[i].sub, ZMQ_SUBSCRIBE, "b", 1);
			zmq_send(fan[i].dealer, hb.ptr, hb.len, ZMQ_DONTWAIT);
		}
		while (ready < 2 * n && kr_monotonic_ms() - s0 < 120000) {
			if (zmq_poll(it, (int)(2 * n), 500) <= 0)
				continue;
			for (size_t i = 0; i < 2 * n; i++) {
				zmq_msg_t m;
				if (!(it[i].revents & ZMQ_POLLIN))
					continue;
				zmq_msg_init(&m);
				zmq_msg_recv(&m, it[i].socket, 0);
				while (zmq_msg_more(&m)) {
					zmq_msg_close(&m);
					zmq_msg_init(&m);
					zmq_msg_recv(&m, it[i].socket, 0);
				}
				zmq_msg_close(&m);
				if (!ok[i]) {
					ok[i] = 1;
					ready++;
				}
			}
		}
		for (size_t i = 0; i < n; i++)
			zmq_setsockopt(fan[i].sub, ZMQ_UNSUBSCRIBE, "b", 1);
		settle = kr_monotonic_ms() - s0;
		kr_buf_release(&hb);
		free(ok);
		if (ready < 2 * n) {
			fprintf(stderr, "benchsub: only %zu of %zu sockets connected within 120 s\n", ready, 2 * n);
			return 1;
		}
		zmq_poll(NULL, 0, 200);
	}
	cmd = kr_sprintf("%s --home %s publish %s >/dev/null", k, home, argv[4]);
	t0 = kr_monotonic_ms();
	if (system(cmd) != 0) {
		fprintf(stderr, "benchsub: publish failed\n");
		return 1;
	}
	while (done < n && kr_monotonic_ms() - t0 < 60000) {
		if (zmq_poll(it, (int)(2 * n), 500) <= 0)
			continue;
		for (size_t i = 0; i < n; i++) {
			s_fan *f = &fan[i];
			zmq_msg_t a, b;
			if (it[2 * i].revents & ZMQ_POLLIN) {
				zmq_msg_init(&a);
				zmq_msg_init(&b);
				zmq_msg_recv(&a, f->sub, 0);
				if (zmq_msg_more(&a))
					zmq_msg_recv(&b, f->sub, 0);
				if (zmq_msg_size(&a) > 2 && memcmp(zmq_msg_data(&a), "m/", 2) == 0) {
					int before = f->state;
					s_fan_manifest(f, zmq_msg_data(&b), zmq_msg_size(&b), fpr, want, &old, tmpl);
					if (before == 0 && f->state == 1) {
						sent_fetch++;
						man_last = kr_monotonic_ms() - t0;
						if (!man_first)
							man_first = man_last;
					}
				}
				zmq_msg_close(&a);
				zmq_msg_close(&b);
			}
			if (it[2 * i + 1].revents & ZMQ_POLLIN) {
				kr_reply rep;
				zmq_msg_init(&a);
				zmq_msg_recv(&a, f->dealer, 0);
				if (f->state == 1 && kr_reply_decode(&rep, zmq_msg_data(&a), zmq_msg_size(&a)) == 0) {
					if (rep.type == KR_REP_CHUNK && rep.offset == f->pack.len) {
						kr_buf_add(&f->pack, rep.data, rep.data_len);
						f->total = rep.total;
						if (f->pack.len < f->total) {
							s_fan_fetch(f, tmpl, f->pack.len);
						} else if (s_pack_ok(&f->pack)) {
							f->state = 2;
							done++;
							last = kr_monotonic_ms() - t0;
						}
					} else if (rep.type == KR_REP_ERROR && rep.code == KR_WIRE_EBUSY) {
						s_fan_fetch(f, tmpl, f->pack.len);   /* asked again at once: the hub paces us */
					}
					kr_reply_clear(&rep);
				}
				zmq_msg_close(&a);
			}
		}
	}
	printf("%.1f %zu %zu %.1f %.1f %.0f\n", done == n ? last : -1.0, done, sent_fetch, man_first, man_last, settle);
	for (size_t i = 0; i < n; i++) {
		zmq_close(fan[i].sub);
		zmq_close(fan[i].dealer);
		kr_buf_release(&fan[i].pack);
	}
	kr_manifest_clear(&old);
	zmq_ctx_term(ctx);
	free(fan);
	free(it);
	free(announce);
	free(cmd);
	free(fpr_hex);
	return done == n ? 0 : 1;
}

int
main(int argc, char **argv)
{
	void *ctx;

	if (argc >= 9 && strcmp(argv[1], "curvefan") == 0)
		return s_curvefan(argv);
	ctx = zmq_ctx_new();

	if (argc >= 8 && strcmp(argv[1], "latency") == 0) {
		const char *k = argv[2], *home = argv[3];
		int n = atoi(argv[5]);
		char *fpr = s_fpr(home);
		void *sub = s_sub(ctx, argv[4], fpr), *psub = s_sub(ctx, argv[7], fpr);
		double *lat = calloc((size_t)n, sizeof(double)), *rep = calloc((size_t)n, sizeof(double));
		double *ann = calloc((size_t)n, sizeof(double)), *ex = calloc((size_t)n, sizeof(double));
		int got = 0;
		posix_spawn_file_actions_t fa;
		extern char **environ;

		posix_spawn_file_actions_init(&fa);
		posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
		zmq_poll(NULL, 0, 300); /* let the subscription settle */
		for (int i = 0; i < n; i++) {
			char *file = kr_sprintf("%s/lat-%d.md", argv[6], i);
			char *args[] = { (char *)k, (char *)"--home", (char *)home, (char *)"publish", file, NULL };
			uint64_t want = s_own_seq(home) + 1;
			double t0 = kr_monotonic_ms(), ms;
			pid_t pid;
			int status;
			if (posix_spawn(&pid, k, &fa, NULL, args, environ) != 0) {
				fprintf(stderr, "benchsub: cannot run %s\n", k);
				return 1;
			}
			{
				void *both[2] = { psub, sub };
				double at[2];
				ms = s_wait_each(both, 2, want, t0, 5000, at);
				if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
					fprintf(stderr, "benchsub: publish failed\n");
					return 1;
				}
				if (ms >= 0) {
					rep[got] = at[1] - at[0];
					ann[got] = at[0];
					ex[got] = kr_monotonic_ms() - t0;
					lat[got++] = at[1];
				}
			}
			free(file);
		}
		posix_spawn_file_actions_destroy(&fa);
		qsort(lat, (size_t)got, sizeof(double), s_cmp);
		qsort(rep, (size_t)got, sizeof(double), s_cmp);
		qsort(ann, (size_t)got, sizeof(double), s_cmp);
		qsort(ex, (size_t)got, sizeof(double), s_cmp);
		printf("%d %.1f %.1f %.1f %.1f %.1f %.1f %.1f %.1f\n", got, got ? lat[got / 2] : -1,
		    got ? lat[got * 9 / 10] : -1, got ? lat[got - 1] : -1, got ? rep[got / 2] : -1,
		    got ? rep[got * 9 / 10] : -1, got ? ann[got / 2] : -1, got ? ann[got * 9 / 10] : -1,
		    got ? ex[got / 2] : -1);
		return got == n ? 0 : 1;
	}
	if (argc >= 6 && strcmp(argv[1], "fanout") == 0) {
		const char *k = argv[2], *home = argv[3];
		size_t n = (size_t)argc - 5;
		char *fpr = s_fpr(home);
		void **subs = calloc(n, sizeof(void *));
		char *cmd = kr_sprintf("%s --home %s publish %s >/dev/null", k, home, argv[4]);
		uint64_t want = s_own_seq(home) + 1;
		double t0, ms;

		for (size_t i = 0; i < n; i++)
			subs[i] = s_sub(ctx, argv[5 + i], fpr);
		zmq_poll(NULL, 0, 1000);
		t0 = kr_monotonic_ms();
		if (system(cmd) != 0)
			return 1;
		ms = s_wait(subs, n, want, t0, 30000);
		printf("%.1f\n", ms);
		return ms < 0;
	}
	if (argc >= 6 && strcmp(argv[1], "packsize") == 0) {
		kr_store *s;
		uint8_t want[KR_OID_LEN], have[1][KR_OID_LEN];
		kr_buf pack = KR_BUF_INIT;
		if (kr_store_open(&s, argv[2]) < 0 || kr_unhex(want, KR_OID_LEN, argv[5]) < 0 ||
		    (argc > 6 && kr_unhex(have[0], KR_OID_LEN, argv[6]) < 0) ||
		    kr_store_pack(s, argv[3], argv[4], want, (const uint8_t (*)[KR_OID_LEN])have, argc > 6, &pack) < 0) {
			fprintf(stderr, "benchsub: %s\n", kr_errmsg());
			return 1;
		}
		printf("%zu\n", pack.len);
		return 0;
	}
	if (argc >= 6 && strcmp(argv[1], "packtime") == 0) {
		kr_store *s;
		uint8_t want[KR_OID_LEN];
		kr_buf pack = KR_BUF_INIT;
		double t0;
		if (kr_store_open(&s, argv[2]) < 0 || kr_unhex(want, KR_OID_LEN, argv[5]) < 0) {
			fprintf(stderr, "benchsub: %s\n", kr_errmsg());
			return 1;
		}
		t0 = kr_monotonic_ms();
		if (kr_store_pack(s, argv[3], argv[4], want, NULL, 0, &pack) < 0) {
			fprintf(stderr, "benchsub: %s\n", kr_errmsg());
			return 1;
		}
		printf("%.0f %zu\n", kr_monotonic_ms() - t0, pack.len);
		return 0;
	}
	fprintf(stderr, "usage: see tests/tools/benchsub.c\n");
	return 2;
}
