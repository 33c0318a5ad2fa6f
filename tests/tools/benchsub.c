/*
 * tests/tools/benchsub.c - measuring helper for `make bench`
 *
 * A subscriber announces a manifest only after verifying and applying it,
 * so "verified on the subscriber" is measured by subscribing to the
 * subscribers' PUB sockets and waiting for the new seq.
 *
 *   benchsub latency KAIRAN PUBHOME SUB_ANNOUNCE N DIR PUB_ANNOUNCE
 *       N single-item publishes; prints count, then p50/p90/max of publish ->
 *       verified (ms, the CLI process included), then p50/p90 of the
 *       publisher's announcement -> verified (replication alone)
 *   benchsub fanout KAIRAN PUBHOME ITEMFILE EP1 [EP2 ...]
 *       one publish; prints ms until every subscriber announced it
 *   benchsub packsize HOME PUB COLL WANT [HAVE]
 *       bytes of kairan's pack for WANT given HAVE
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zmq.h>

#include "../../node/home.h"
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

int
main(int argc, char **argv)
{
	void *ctx = zmq_ctx_new();

	if (argc >= 8 && strcmp(argv[1], "latency") == 0) {
		const char *k = argv[2], *home = argv[3];
		int n = atoi(argv[5]);
		char *fpr = s_fpr(home);
		void *sub = s_sub(ctx, argv[4], fpr), *psub = s_sub(ctx, argv[7], fpr);
		double *lat = calloc((size_t)n, sizeof(double)), *rep = calloc((size_t)n, sizeof(double));
		int got = 0;

		zmq_poll(NULL, 0, 300); /* let the subscription settle */
		for (int i = 0; i < n; i++) {
			char *file = kr_sprintf("%s/lat-%d.md", argv[6], i);
			char *cmd = kr_sprintf("%s --home %s publish %s >/dev/null", k, home, file);
			uint64_t want = s_own_seq(home) + 1;
			double t0 = kr_monotonic_ms(), ms;
			if (system(cmd) != 0) {
				fprintf(stderr, "benchsub: publish failed\n");
				return 1;
			}
			{
				void *both[2] = { psub, sub };
				double at[2];
				ms = s_wait_each(both, 2, want, t0, 5000, at);
				if (ms >= 0) {
					rep[got] = at[1] - at[0];
					lat[got++] = at[1];
				}
			}
			free(cmd);
			free(file);
		}
		qsort(lat, (size_t)got, sizeof(double), s_cmp);
		qsort(rep, (size_t)got, sizeof(double), s_cmp);
		printf("%d %.1f %.1f %.1f %.1f %.1f\n", got, got ? lat[got / 2] : -1, got ? lat[got * 9 / 10] : -1,
		    got ? lat[got - 1] : -1, got ? rep[got / 2] : -1, got ? rep[got * 9 / 10] : -1);
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
	fprintf(stderr, "usage: see tests/tools/benchsub.c\n");
	return 2;
}
