/*
 * tests/tools/fakepeer.c - a peer that answers searches with what it is told
 *
 * Speaks only the wire codec: Hello (with --name, which may hold escape
 * sequences), an empty Snapshot, and Search, answered with the hits of
 * --hits FILE whatever the query. It can claim any publisher, any title:
 * the test checks what the asking node makes of that.
 *
 * FILE: one hit per line, tab-separated
 *   id  publisher-hex  version  kind  publisher-name  lg_code  title  snippet
 * where \n \t \\ and \xHH stand for those bytes, so a test can write an
 * ESC (\x1b) or a bidi override (\xe2\x80\xae) without a raw byte in its
 * source. A title or snippet of the form @N@c is c repeated N times.
 *
 * Usage: fakepeer --listen EP --hits FILE [--name NAME]
 * Runs until killed. Test code: exits on any setup error.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zmq.h>

#include "../../node/transport.h"
#include "../../proto/codec.h"

#define MAX_FIELDS 8

/* Decodes the escapes of one field in place. */
static void
s_unescape(char *s)
{
	char *w = s;

	for (char *r = s; *r; r++) {
		if (*r != '\\' || !r[1]) {
			*w++ = *r;
			continue;
		}
		r++;
		if (*r == 'n')
			*w++ = '\n';
		else if (*r == 't')
			*w++ = '\t';
		else if (*r == 'x' && r[1] && r[2]) {
			char hex[3] = { r[1], r[2], 0 };
			*w++ = (char)strtoul(hex, NULL, 16);
			r += 2;
		} else
			*w++ = *r;
	}
	*w = '\0';
}

/* "@N@c": c repeated N times (a long title without a long test line). */
static char *
s_expand(const char *f)
{
	kr_buf b = KR_BUF_INIT;
	char *at;
	long n;

	if (f[0] != '@' || !(at = strchr(f + 1, '@')) || (n = strtol(f + 1, NULL, 10)) <= 0)
		return kr_strdup(f);
	for (long i = 0; i < n; i++)
		kr_buf_adds(&b, at + 1);
	return kr_buf_detach(&b);
}

static size_t
s_load(const char *path, kr_wire_hit **out)
{
	kr_buf file = KR_BUF_INIT;
	kr_wire_hit *hits = NULL;
	size_t n = 0;
	char *save = NULL;

	if (kr_file_read(&file, path) < 0) {
		fprintf(stderr, "fakepeer: %s\n", kr_errmsg());
		exit(3);
	}
	for (char *line = strtok_r(file.ptr, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *f[MAX_FIELDS] = { 0 }, *p = line;
		kr_wire_hit *h;
		for (int i = 0; i < MAX_FIELDS && p; i++) {
			char *tab = strchr(p, '\t');
			if (tab)
				*tab = '\0';
			f[i] = p;
			p = tab ? tab + 1 : NULL;
		}
		if (!f[MAX_FIELDS - 1]) {
			fprintf(stderr, "fakepeer: %s: a line needs %d tab-separated fields\n", path, MAX_FIELDS);
			exit(3);
		}
		for (int i = 0; i < MAX_FIELDS; i++)
			s_unescape(f[i]);
		hits = kr_realloc(hits, (n + 1) * sizeof(*hits));
		h = &hits[n++];
		memset(h, 0, sizeof(*h));
		if (kr_unhex(h->publisher, KR_FPR_LEN, f[1]) < 0) {
			fprintf(stderr, "fakepeer: %s: '%s' is not a publisher fingerprint\n", path, f[1]);
			exit(3);
		}
		h->id = kr_strdup(f[0]);
		h->version = kr_strdup(f[2]);
		h->kind = kr_strdup(f[3]);
		h->pub_name = kr_strdup(f[4]);
		h->lg_code = kr_strdup(f[5]);
		h->title = s_expand(f[6]);
		h->snippet = s_expand(f[7]);
		h->outcome = kr_strdup("");
		h->headline = kr_strdup("");
		h->updated = kr_strdup("2024-06-01");
	}
	kr_buf_release(&file);
	*out = hits;
	return n;
}

static void
s_reply(void *router, zmq_msg_t *id, const kr_reply *rep)
{
	kr_buf out = KR_BUF_INIT;

	kr_reply_encode(&out, rep);
	zmq_send(router, zmq_msg_data(id), zmq_msg_size(id), ZMQ_SNDMORE);
	zmq_send(router, out.ptr, out.len, 0);
	kr_buf_release(&out);
}

int
main(int argc, char **argv)
{
	kr_guard *guard = NULL;
	kr_key *intro_key = NULL;
	const char *listen = NULL, *hitsfile = NULL;
	char *name = kr_strdup("fakepeer");
	kr_wire_hit *hits;
	size_t nhits;
	void *ctx, *router;

	for (int i = 1; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--listen") == 0)
			listen = argv[i + 1];
		else if (strcmp(argv[i], "--hits") == 0)
			hitsfile = argv[i + 1];
		else if (strcmp(argv[i], "--name") == 0) {
			free(name);
			name = kr_strdup(argv[i + 1]);
			s_unescape(name);
		}
	}
	if (!listen || !hitsfile) {
		fprintf(stderr, "usage: fakepeer --listen EP --hits FILE [--name NAME]\n");
		return 2;
	}
	nhits = s_load(hitsfile, &hits);
	/* CURVE like a node: its own ZAP handler, an introduction signed by a throwaway key */
	ctx = zmq_ctx_new();
	kr_transport_init_tool();
	if (kr_guard_start(&guard, ctx) < 0 || kr_key_generate(&intro_key) < 0) {
		fprintf(stderr, "fakepeer: %s\n", kr_errmsg());
		return 3;
	}
	router = zmq_socket(ctx, ZMQ_ROUTER);
	if (kr_transport_serve(router, "kairan") < 0 || zmq_bind(router, listen) < 0 ||
	    kr_guard_run(guard, intro_key, listen) < 0) {
		fprintf(stderr, "fakepeer: bind %s: %s\n", listen, zmq_strerror(zmq_errno()));
		return 3;
	}
	fprintf(stderr, "fakepeer: %zu hit(s) on %s\n", nhits, listen);
	for (;;) {
		zmq_msg_t id, body;
		kr_request req;
		kr_reply rep = { 0 };
		uint8_t digest[16] = { 0 };

		zmq_msg_init(&id);
		zmq_msg_init(&body);
		if (zmq_msg_recv(&id, router, 0) < 0 || zmq_msg_recv(&body, router, 0) < 0)
			return 3;
		if (kr_request_decode(&req, zmq_msg_data(&body), zmq_msg_size(&body)) == 0) {
			rep.id = req.id;
			if (req.type == KR_REQ_HELLO) {
				rep.type = KR_REP_HELLO;
				rep.version = KR_PROTO_VERSION;
				memset(rep.node, 0xfa, KR_FPR_LEN);
				rep.name = name;
				rep.lg_code = (char *)"000000";
				rep.announce = (char *)"";
			} else if (req.type == KR_REQ_SNAPSHOT) {
				rep.type = KR_REP_SNAPSHOT;
				memcpy(rep.digest, digest, sizeof(digest));
			} else if (req.type == KR_REQ_SEARCH) {
				rep.type = KR_REP_SEARCH;
				rep.hits = hits;
				rep.nhits = nhits;
				rep.total = nhits;
			} else {
				rep.type = KR_REP_ERROR;
				rep.code = KR_WIRE_ENOTFOUND;
				rep.text = (char *)"fakepeer holds nothing";
			}
			s_reply(router, &id, &rep);
			kr_request_clear(&req);
		}
		zmq_msg_close(&id);
		zmq_msg_close(&body);
	}
}
