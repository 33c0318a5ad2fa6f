/*
 * tests/tools/hostile.c - a peer that speaks the protocol and lies
 *
 * Holds a real publisher's home (so it can sign as that publisher) and
 * answers hello/snapshot/fetch like a node, except in the way --mode says:
 *
 *   honest      the publisher's real manifest and packs
 *   badsig      a new manifest (seq+1) with one bit of its signature flipped
 *   replay      a validly signed manifest with seq-1
 *   equivocate  a second, different manifest with the current seq
 *   expired     a new manifest (seq+1) that expired an hour ago
 *   nonff       a new manifest whose head is a new root commit (history rewritten)
 *   otherkey    a new head commit signed by a key that is not the publisher's
 *   truncated   a new head, but the pack is cut short
 *   oversize    a new head, but the manifest allows fewer bytes than the pack
 *   garbage     random bytes for every reply and announcement
 *   confidential  a correctly signed new commit with a 機密性2 item (the
 *               publisher bypassed its own policy)
 *   mynumber    a correctly signed new commit whose item carries a マイナンバー
 *
 * Usage: hostile --home PUBHOME --listen EP --announce EP --mode MODE
 *        hostile --home PUBHOME --listen EP --announce EP --flood MS [--flood-kb KB]
 * Runs until killed. Test code: exits on any setup error.
 *
 * --flood MS (instead of --mode) is a relay gone bad: every MS ms it signs
 * a new manifest (seq one higher each time) whose cases head is a commit
 * signed by another key carrying KB (default 1024) of random bytes, so
 * every subscriber fetches a pack and then refuses it; it announces each
 * one and sends beacons with a changing digest, so subscribers also ask
 * for snapshots in between. SIGUSR1 stops signing new ones; the beacons
 * go on, re-offering the last. stderr logs "flood: seq +N", "snapshot"
 * and "fetch" lines, for tests to count.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zmq.h>

#include "../../node/home.h"
#include "../../proto/codec.h"
#include "../../sharing/manifest.h"

static const char *mode;
static kr_home pubh;
static kr_store *scratch;       /* for the rewritten history of nonff */
static kr_buf manifest;         /* Signed bytes to offer */
static char coll[64] = "cases";
static uint8_t newhead[KR_OID_LEN];
static int have_newhead;

static void
die(const char *what)
{
	fprintf(stderr, "hostile: %s: %s\n", what, kr_errmsg());
	exit(3);
}

/* The publisher's current manifest, re-signed with changes. */
static void
craft(int64_t seq_delta, int64_t expires_delta, const uint8_t *head, uint64_t size)
{
	kr_state_manifest cur;
	kr_signed s;
	kr_manifest m;

	if (kr_state_manifest_get(pubh.state, pubh.fpr, &cur) < 0)
		die("no manifest");
	if (kr_signed_decode(&s, cur.signed_bytes.ptr, cur.signed_bytes.len) < 0 ||
	    kr_manifest_decode(&m, s.body.ptr, s.body.len) < 0)
		die("decode");
	m.seq = (uint64_t)((int64_t)m.seq + seq_delta);
	m.issued = kr_now() - 60;
	m.expires = expires_delta < 0 ? kr_now() - 3600 : kr_now() + 86400 + expires_delta;
	for (size_t i = 0; i < m.nheads; i++)
		if (head && strcmp(m.heads[i].collection, coll) == 0) {
			memcpy(m.heads[i].commit, head, KR_OID_LEN);
			if (size)
				m.heads[i].size = size;
		}
	kr_buf_clear(&manifest);
	if (kr_manifest_sign(&manifest, &m, pubh.key) < 0)
		die("sign");
	kr_manifest_clear(&m);
	kr_signed_clear(&s);
	kr_state_manifest_clear(&cur);
}

static void new_commit_with(const kr_key *key, kr_store *store, const char *item);

static void
new_commit(const kr_key *key, kr_store *store)
{
	new_commit_with(key, store, NULL);
}

static void
new_commit_with(const kr_key *key, kr_store *store, const char *custom)
{
	static const char item[] =
		"---\nkind: case\nid: 372081/case/hostile-extra\ntitle: 追加された事例\n"
		"publisher: {lg_code: \"372081\", name: 三豊市}\nversion: 1.0.0\npublished: 2024-06-01\n"
		"updated: 2024-06-01\nlicense: PDL-1.0\nconfidentiality: 機密性1\ndomains: [住民問合せ対応]\n"
		"ai_uses: [対話生成]\nsources: [{title: 資料, issuer: 三豊市}]\n---\n本文\n";
	kr_store_file f = { "cases/hostile-extra.md", custom ? custom : item, custom ? strlen(custom) : sizeof(item) - 1 };
	int changed;

	if (kr_store_commit(store, pubh.fpr, coll, &f, 1, "extra\n", "三豊市", "x@kairan.invalid",
	    key, newhead, &changed) < 0 || !changed)
		die("commit");
	have_newhead = 1;
}

static void
setup(void)
{
	kr_state_manifest cur;

	if (kr_state_manifest_get(pubh.state, pubh.fpr, &cur) < 0)
		die("the publisher home has no manifest (publish something first)");
	kr_buf_add(&manifest, cur.signed_bytes.ptr, cur.signed_bytes.len);
	kr_state_manifest_clear(&cur);
	if (strcmp(mode, "honest") == 0 || strcmp(mode, "garbage") == 0) {
		return;
	} else if (strcmp(mode, "badsig") == 0) {
		kr_signed s;
		craft(1, 0, NULL, 0);
		kr_signed_decode(&s, manifest.ptr, manifest.len);
		s.sig[7] ^= 0x01;
		kr_buf_clear(&manifest);
		kr_signed_encode(&manifest, &s);
		kr_signed_clear(&s);
	} else if (strcmp(mode, "replay") == 0) {
		craft(-1, 0, NULL, 0);
	} else if (strcmp(mode, "equivocate") == 0) {
		craft(0, 1234, NULL, 0);
	} else if (strcmp(mode, "expired") == 0) {
		craft(1, -1, NULL, 0);
	} else if (strcmp(mode, "nonff") == 0) {
		new_commit(pubh.key, scratch);
		craft(1, 0, newhead, 1 << 20);
	} else if (strcmp(mode, "otherkey") == 0) {
		kr_key *other;
		kr_key_generate(&other);
		new_commit(other, pubh.store);
		kr_key_destroy(&other);
		craft(1, 0, newhead, 0);
	} else if (strcmp(mode, "truncated") == 0) {
		new_commit(pubh.key, pubh.store);
		craft(1, 0, newhead, 0);
	} else if (strcmp(mode, "confidential") == 0 || strcmp(mode, "mynumber") == 0) {
		int conf = strcmp(mode, "confidential") == 0;
		char *it = kr_sprintf("---\nkind: case\nid: 372081/case/hostile-extra\ntitle: 内部の検討資料\n"
		    "publisher: {lg_code: \"372081\", name: 三豊市}\nversion: 1.0.0\npublished: 2024-06-01\n"
		    "updated: 2024-06-01\nlicense: PDL-1.0\nconfidentiality: %s\ndomains: [住民問合せ対応]\n"
		    "ai_uses: [対話生成]\nsources: [{title: 資料, issuer: 三豊市}]\n---\n%s\n",
		    conf ? "機密性2" : "機密性1", conf ? "内部資料。" : "申請者の個人番号 1234 5678 9018 を確認した。");
		new_commit_with(pubh.key, pubh.store, it);
		free(it);
		craft(1, 0, newhead, 0);
	} else if (strcmp(mode, "oversize") == 0) {
		new_commit(pubh.key, pubh.store);
		craft(1, 0, newhead, 40);
	} else {
		fprintf(stderr, "hostile: unknown mode %s\n", mode);
		exit(2);
	}
}

/* ---- --flood: the same refused update, re-signed again and again ---- */

static int flood_ms;
static size_t flood_kb = 1024;
static int64_t flood_seq;
static volatile sig_atomic_t flood_paused;

static void
flood_pause(int sig)
{
	(void)sig;
	flood_paused = 1;
}

static void
flood_next(void)
{
	craft(++flood_seq, 0, newhead, (uint64_t)flood_kb * 2048 + (1 << 20));
	fprintf(stderr, "hostile: flood: seq +%lld\n", (long long)flood_seq);
}

static void
flood_setup(void)
{
	size_t len = flood_kb * 1024;
	char *data = kr_calloc(len ? len : 1, 1);
	kr_store_file f = { "cases/flood.bin", data, len };
	kr_key *other;
	int changed;

	for (size_t i = 0; i < len; i++)
		data[i] = (char)rand();
	kr_key_generate(&other);
	if (kr_store_commit(pubh.store, pubh.fpr, coll, &f, 1, "flood\n", "三豊市", "x@kairan.invalid",
	    other, newhead, &changed) < 0 || !changed)
		die("flood commit");
	kr_key_destroy(&other);
	free(data);
	flood_next();
}

/* The current manifest on its topic, and a beacon whose digest never matches a snapshot's. */
static void
flood_announce(void *pub, int with_manifest)
{
	char topic[2 + KR_FPR_HEX + 1];
	kr_beacon b;
	kr_buf out = KR_BUF_INIT;

	if (with_manifest) {
		snprintf(topic, sizeof(topic), "m/%s", pubh.fpr);
		zmq_send(pub, topic, strlen(topic), ZMQ_SNDMORE);
		zmq_send(pub, manifest.ptr, manifest.len, 0);
	}
	memcpy(b.node, kr_key_pub(pubh.key), KR_FPR_LEN);
	b.time = kr_now();
	for (int i = 0; i < 16; i++)
		b.digest[i] = (uint8_t)rand();
	kr_beacon_encode(&out, &b);
	zmq_send(pub, "b", 1, ZMQ_SNDMORE);
	zmq_send(pub, out.ptr, out.len, 0);
	kr_buf_release(&out);
}

static void
garbage(kr_buf *b)
{
	size_t n = 1 + (size_t)(rand() % 300);

	kr_buf_clear(b);
	for (size_t i = 0; i < n; i++)
		kr_buf_addch(b, (char)rand());
}

static void
reply(void *router, zmq_msg_t *id, kr_reply *rep)
{
	kr_buf out = KR_BUF_INIT;

	if (strcmp(mode, "garbage") == 0)
		garbage(&out);
	else
		kr_reply_encode(&out, rep);
	zmq_send(router, zmq_msg_data(id), zmq_msg_size(id), ZMQ_SNDMORE);
	zmq_send(router, out.ptr, out.len, 0);
	kr_buf_release(&out);
}

int
main(int argc, char **argv)
{
	const char *home = NULL, *listen = NULL, *announce = NULL;
	void *ctx, *router, *pub;
	kr_buf pack = KR_BUF_INIT;
	char *tmp;

	for (int i = 1; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--home") == 0) home = argv[i + 1];
		else if (strcmp(argv[i], "--listen") == 0) listen = argv[i + 1];
		else if (strcmp(argv[i], "--announce") == 0) announce = argv[i + 1];
		else if (strcmp(argv[i], "--mode") == 0) mode = argv[i + 1];
		else if (strcmp(argv[i], "--flood") == 0) flood_ms = atoi(argv[i + 1]), mode = "flood";
		else if (strcmp(argv[i], "--flood-kb") == 0) flood_kb = (size_t)atoi(argv[i + 1]);
	}
	if (!home || !listen || !announce || !mode) {
		fprintf(stderr, "usage: hostile --home PUBHOME --listen EP --announce EP --mode MODE\n"
		    "       hostile --home PUBHOME --listen EP --announce EP --flood MS [--flood-kb KB]\n");
		return 2;
	}
	srand((unsigned)getpid());
	if (kr_home_open(&pubh, home) < 0)
		die(home);
	tmp = kr_sprintf("%s/hostile-scratch", home);
	if (kr_store_open(&scratch, tmp) < 0)
		die("scratch store");
	if (flood_ms) {
		kr_state_manifest cur;
		if (kr_state_manifest_get(pubh.state, pubh.fpr, &cur) < 0)
			die("the publisher home has no manifest (publish something first)");
		kr_state_manifest_clear(&cur);
		flood_setup();
		signal(SIGUSR1, flood_pause);
	} else {
		setup();
	}

	ctx = zmq_ctx_new();
	router = zmq_socket(ctx, ZMQ_ROUTER);
	pub = zmq_socket(ctx, ZMQ_PUB);
	if (zmq_bind(router, listen) < 0 || zmq_bind(pub, announce) < 0) {
		fprintf(stderr, "hostile: bind: %s\n", zmq_strerror(zmq_errno()));
		return 3;
	}
	fprintf(stderr, "hostile: serving mode %s on %s\n", mode, listen);
	double next_flood = kr_monotonic_ms() + flood_ms, next_beacon = kr_monotonic_ms() + flood_ms / 2.0;
	for (;;) {
		zmq_msg_t id, body;
		kr_request req;
		kr_reply rep = { 0 };
		zmq_pollitem_t it = { router, 0, ZMQ_POLLIN, 0 };
		long wait = 1000;

		if (flood_ms) {
			double now = kr_monotonic_ms();
			if (now >= next_flood) {
				if (!flood_paused)
					flood_next();
				flood_announce(pub, !flood_paused);
				next_flood = now + flood_ms;
				next_beacon = now + flood_ms / 2.0;
			} else if (now >= next_beacon) {
				flood_announce(pub, 0);
				next_beacon = next_flood;
			}
			wait = (long)((next_beacon < next_flood ? next_beacon : next_flood) - now) + 1;
			if (wait < 1)
				wait = 1;
		}
		if (zmq_poll(&it, 1, wait) <= 0) {
			/* announcements, for subscribers */
			if (strcmp(mode, "garbage") == 0) {
				kr_buf g = KR_BUF_INIT;
				garbage(&g);
				zmq_send(pub, "b", 1, ZMQ_SNDMORE);
				zmq_send(pub, g.ptr, g.len, 0);
				kr_buf_release(&g);
			}
			continue;
		}
		zmq_msg_init(&id);
		zmq_msg_init(&body);
		zmq_msg_recv(&id, router, 0);
		zmq_msg_recv(&body, router, 0);
		if (kr_request_decode(&req, zmq_msg_data(&body), zmq_msg_size(&body)) < 0) {
			zmq_msg_close(&id);
			zmq_msg_close(&body);
			continue;
		}
		rep.id = req.id;
		if (req.type == KR_REQ_HELLO) {
			rep.type = KR_REP_HELLO;
			rep.version = KR_PROTO_VERSION;
			memcpy(rep.node, kr_key_pub(pubh.key), KR_FPR_LEN);
			rep.name = (char *)"hostile";
			rep.lg_code = (char *)"372081";
			rep.announce = (char *)announce;
			reply(router, &id, &rep);
		} else if (req.type == KR_REQ_SNAPSHOT) {
			if (flood_ms)
				fprintf(stderr, "hostile: snapshot\n");
			rep.type = KR_REP_SNAPSHOT;
			rep.manifests = &manifest;
			rep.nmanifests = 1;
			reply(router, &id, &rep);
		} else if (req.type == KR_REQ_FETCH) {
			if (req.offset == 0 && flood_ms)
				fprintf(stderr, "hostile: fetch %s\n", req.collection);
			if (req.offset == 0) {
				kr_store *src = strcmp(mode, "nonff") == 0 ? scratch : pubh.store;
				uint8_t want[KR_OID_LEN];
				memcpy(want, req.want, KR_OID_LEN);
				kr_buf_clear(&pack);
				if (kr_store_pack(src, pubh.fpr, req.collection, want,
				    (const uint8_t (*)[KR_OID_LEN])req.haves, req.nhaves, &pack) < 0)
					die("pack");
				if (strcmp(mode, "truncated") == 0)
					pack.len = pack.len / 2;
			}
			rep.type = KR_REP_CHUNK;
			rep.offset = req.offset;
			rep.total = pack.len;
			rep.data = (const uint8_t *)pack.ptr + (req.offset < pack.len ? req.offset : pack.len);
			rep.data_len = req.offset >= pack.len ? 0 :
			    (pack.len - req.offset < req.length ? pack.len - req.offset : req.length);
			reply(router, &id, &rep);
		}
		kr_request_clear(&req);
		zmq_msg_close(&id);
		zmq_msg_close(&body);
	}
	(void)have_newhead;
	return 0;
}
