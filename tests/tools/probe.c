/*
 * tests/tools/probe.c - a well-behaved second client, for tests that attack a node
 *
 *   probe hello EP [--count N] [--within MS]
 *       N Hello requests one after another on a fresh DEALER; prints
 *       "hello p50=… max=… ms" and exits 1 if any reply took longer than
 *       MS (default 100) or never came (waits at most 2 s for each).
 *       The connection is set up first (introduction, CURVE handshake,
 *       the node's ZAP check) and timed apart: "setup … ms", bounded by
 *       HANDSHAKE_MS; the Hellos are timed on the established connection.
 *
 * Written against the codec only, not node/peer.c, so it checks the
 * node from the outside. Test code: exits 3 on setup errors.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zmq.h>

#include "../../node/transport.h"
#include "../../proto/codec.h"

#define HANDSHAKE_MS 1000   /* introduction + CURVE handshake + ZAP, under load */

static int
s_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static int
s_hello(const char *ep, int count, double within)
{
	void *ctx = zmq_ctx_new(), *sock = zmq_socket(ctx, ZMQ_DEALER);
	double *ms = calloc((size_t)count, sizeof(double));
	int linger = 0, bad = 0;
	void *mon = zmq_socket(ctx, ZMQ_PAIR);
	double setup0 = kr_monotonic_ms(), setup = -1;

	zmq_setsockopt(sock, ZMQ_LINGER, &linger, sizeof(linger));
	zmq_setsockopt(mon, ZMQ_LINGER, &linger, sizeof(linger));
	kr_transport_init_tool();
	zmq_socket_monitor(sock, "inproc://probe-monitor", ZMQ_EVENT_HANDSHAKE_SUCCEEDED | ZMQ_EVENT_HANDSHAKE_FAILED_AUTH |
	    ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL | ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL);
	zmq_connect(mon, "inproc://probe-monitor");
	if (kr_transport_connect(sock, ep, NULL, 0, 3000) < 0) {
		fprintf(stderr, "probe: cannot connect to %s: %s\n", ep, kr_errmsg());
		exit(3);
	}
	while (setup < 0 && kr_monotonic_ms() - setup0 < 2000) {
		zmq_pollitem_t it = { mon, 0, ZMQ_POLLIN, 0 };
		zmq_msg_t ev;
		if (zmq_poll(&it, 1, 100) <= 0)
			continue;
		zmq_msg_init(&ev);
		if (zmq_msg_recv(&ev, mon, 0) >= 0 && zmq_msg_size(&ev) >= 2) {
			uint16_t event;
			memcpy(&event, zmq_msg_data(&ev), 2);
			if (event == ZMQ_EVENT_HANDSHAKE_SUCCEEDED)
				setup = kr_monotonic_ms() - setup0;
			else {
				fprintf(stderr, "probe: %s refused the handshake (event %u)\n", ep, event);
				exit(1);
			}
		}
		while (zmq_msg_more(&ev)) {
			zmq_msg_close(&ev);
			zmq_msg_init(&ev);
			zmq_msg_recv(&ev, mon, 0);
		}
		zmq_msg_close(&ev);
	}
	if (setup < 0 || setup > HANDSHAKE_MS)
		bad++;
	for (int i = 0; i < count; i++) {
		kr_request req = { .id = (uint64_t)i + 1, .type = KR_REQ_HELLO };
		kr_buf out = KR_BUF_INIT;
		double t0 = kr_monotonic_ms();
		int got = 0;

		kr_request_encode(&out, &req);
		zmq_send(sock, out.ptr, out.len, 0);
		kr_buf_release(&out);
		while (!got) {
			zmq_pollitem_t it = { sock, 0, ZMQ_POLLIN, 0 };
			double rest = t0 + 2000 - kr_monotonic_ms();
			if (rest <= 0 || zmq_poll(&it, 1, (long)rest) <= 0)
				break;
			zmq_msg_t m;
			zmq_msg_init(&m);
			if (zmq_msg_recv(&m, sock, 0) >= 0) {
				kr_reply rep;
				if (kr_reply_decode(&rep, zmq_msg_data(&m), zmq_msg_size(&m)) == 0) {
					got = rep.id == req.id && rep.type == KR_REP_HELLO;
					kr_reply_clear(&rep);
				}
			}
			zmq_msg_close(&m);
		}
		ms[i] = got ? kr_monotonic_ms() - t0 : 1e9;
		if (!got || ms[i] > within)
			bad++;
	}
	printf("setup %.1f ms, hello ms:", setup);
	for (int i = 0; i < count; i++)
		printf(" %.1f", ms[i] >= 1e9 ? -1.0 : ms[i]);
	printf("; ");
	qsort(ms, (size_t)count, sizeof(double), s_cmp);
	printf("hello p50=%.1f max=%.1f ms (%d of %d over %.0f ms)\n", ms[count / 2],
	    ms[count - 1] >= 1e9 ? -1.0 : ms[count - 1], bad, count, within);
	free(ms);
	zmq_socket_monitor(sock, NULL, 0);
	zmq_close(mon);
	zmq_close(sock);
	zmq_ctx_term(ctx);
	return bad ? 1 : 0;
}

int
main(int argc, char **argv)
{
	int count = 5;
	double within = 100;

	if (argc < 3 || strcmp(argv[1], "hello") != 0) {
		fprintf(stderr, "usage: probe hello EP [--count N] [--within MS]\n");
		return 2;
	}
	for (int i = 3; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--count") == 0)
			count = atoi(argv[i + 1]);
		else if (strcmp(argv[i], "--within") == 0)
			within = atof(argv[i + 1]);
	}
	if (count < 1)
		count = 1;
	return s_hello(argv[2], count, within);
}
