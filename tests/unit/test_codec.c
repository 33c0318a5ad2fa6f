/* tests/unit/test_codec.c - wire round trips and hostile input */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../../proto/codec.h"

static void
s_manifest(kr_manifest *m, kr_head *heads)
{
	memset(m, 0, sizeof(*m));
	memset(m->publisher, 0xab, KR_FPR_LEN);
	m->seq = 42;
	m->issued = 1700000000;
	m->expires = 1700604800;
	m->name = (char *)"三豊市";
	m->lg_code = (char *)"372081";
	strcpy(heads[0].collection, "cases");
	memset(heads[0].commit, 0x11, KR_OID_LEN);
	heads[0].size = 4096;
	strcpy(heads[1].collection, "prompts");
	memset(heads[1].commit, 0x22, KR_OID_LEN);
	heads[1].size = 123;
	m->heads = heads;
	m->nheads = 2;
}

static void
test_manifest_roundtrip(void **state)
{
	kr_manifest m, back;
	kr_head heads[2];
	kr_buf b = KR_BUF_INIT;

	(void)state;
	s_manifest(&m, heads);
	kr_manifest_encode(&b, &m);
	assert_int_equal(kr_manifest_decode(&back, b.ptr, b.len), 0);
	assert_int_equal(back.seq, 42);
	assert_string_equal(back.name, "三豊市");
	assert_int_equal(back.nheads, 2);
	assert_string_equal(back.heads[1].collection, "prompts");
	assert_memory_equal(back.heads[0].commit, heads[0].commit, KR_OID_LEN);
	kr_manifest_clear(&back);
	kr_buf_release(&b);
}

static void
test_manifest_every_truncation_rejected_or_consistent(void **state)
{
	kr_manifest m, back;
	kr_head heads[2];
	kr_buf b = KR_BUF_INIT;

	(void)state;
	s_manifest(&m, heads);
	kr_manifest_encode(&b, &m);
	for (size_t n = 0; n < b.len; n++) {
		/* a prefix is either malformed or lacks required fixed-size fields */
		int rc = kr_manifest_decode(&back, b.ptr, n);
		if (rc == 0) {
			assert_true(back.nheads <= 2);
			kr_manifest_clear(&back);
		} else {
			assert_int_equal(rc, KR_EPROTO);
		}
	}
	kr_buf_release(&b);
}

static void
test_manifest_bad_fields(void **state)
{
	kr_manifest m, back;
	kr_head heads[2];
	kr_buf b = KR_BUF_INIT;

	(void)state;
	s_manifest(&m, heads);
	strcpy(heads[1].collection, "Cases!");
	kr_manifest_encode(&b, &m);
	assert_int_equal(kr_manifest_decode(&back, b.ptr, b.len), KR_EPROTO);
	assert_non_null(strstr(kr_errmsg(), "collection"));
	kr_buf_clear(&b);
	strcpy(heads[1].collection, "cases");
	kr_manifest_encode(&b, &m);
	assert_int_equal(kr_manifest_decode(&back, b.ptr, b.len), KR_EPROTO);
	assert_non_null(strstr(kr_errmsg(), "twice"));
	kr_buf_release(&b);
}

static void
test_oversized_rejected(void **state)
{
	size_t n = KR_MSG_MAX + 1;
	char *big = calloc(1, n);
	kr_manifest m;
	kr_request r;
	kr_reply p;
	kr_signed s;

	(void)state;
	assert_int_equal(kr_manifest_decode(&m, big, n), KR_EPROTO);
	assert_int_equal(kr_request_decode(&r, big, n), KR_EPROTO);
	assert_int_equal(kr_reply_decode(&p, big, n), KR_EPROTO);
	assert_int_equal(kr_signed_decode(&s, big, n), KR_EPROTO);
	assert_non_null(strstr(kr_errmsg(), "limit"));
	free(big);
}

static void
test_request_reply_roundtrip(void **state)
{
	uint8_t haves[2][KR_OID_LEN];
	kr_request req = { .id = 7, .type = KR_REQ_FETCH, .offset = 262144, .length = 262144 }, rq;
	kr_reply rep = { .id = 7, .type = KR_REP_CHUNK, .offset = 10, .total = 20 }, rp;
	kr_buf b = KR_BUF_INIT;

	(void)state;
	memset(req.publisher, 1, KR_FPR_LEN);
	memset(req.want, 2, KR_OID_LEN);
	memset(haves, 3, sizeof(haves));
	strcpy(req.collection, "cases");
	req.haves = haves;
	req.nhaves = 2;
	kr_request_encode(&b, &req);
	assert_int_equal(kr_request_decode(&rq, b.ptr, b.len), 0);
	assert_int_equal(rq.type, KR_REQ_FETCH);
	assert_int_equal(rq.nhaves, 2);
	assert_int_equal(rq.offset, 262144);
	assert_string_equal(rq.collection, "cases");
	kr_request_clear(&rq);

	kr_buf_clear(&b);
	rep.data = (const uint8_t *)"0123456789";
	rep.data_len = 10;
	kr_reply_encode(&b, &rep);
	assert_int_equal(kr_reply_decode(&rp, b.ptr, b.len), 0);
	assert_int_equal(rp.type, KR_REP_CHUNK);
	assert_int_equal(rp.data_len, 10);
	assert_memory_equal(rp.data, "0123456789", 10);
	kr_reply_clear(&rp);

	/* length 0 (proto3: absent) is the default; a huge one is refused */
	kr_buf_clear(&b);
	req.length = 0;
	kr_request_encode(&b, &req);
	assert_int_equal(kr_request_decode(&rq, b.ptr, b.len), 0);
	assert_int_equal(rq.length, KR_CHUNK_DEFAULT);
	kr_request_clear(&rq);
	kr_buf_clear(&b);
	req.length = KR_CHUNK_MAX + 1;
	kr_request_encode(&b, &req);
	assert_int_equal(kr_request_decode(&rq, b.ptr, b.len), KR_EPROTO);
	/* the id of a request that does not decode can still be read, to echo it */
	assert_int_equal(kr_request_peek_id(b.ptr, b.len), 7);
	assert_int_equal(kr_request_peek_id("\x08", 1), 0);
	kr_buf_release(&b);
}

static void
test_search_roundtrip(void **state)
{
	kr_request req = { .id = 9, .type = KR_REQ_SEARCH, .limit = 20 }, rq;
	kr_wire_hit hit = { .id = (char *)"372081/case/gomi-chatbot-poc", .title = (char *)"ごみ出し案内",
		.kind = (char *)"case", .version = (char *)"1.0.0", .headline = (char *)"正答率 94.1% / 目標 99%" };
	kr_reply rep = { .id = 9, .type = KR_REP_SEARCH, .hits = &hit, .nhits = 1, .total = 3 }, rp;
	kr_buf b = KR_BUF_INIT;

	(void)state;
	req.search[0] = (char *)"チャットボット 正答率";
	req.search[4] = (char *)"見送り";
	kr_request_encode(&b, &req);
	assert_int_equal(kr_request_decode(&rq, b.ptr, b.len), 0);
	assert_int_equal(rq.type, KR_REQ_SEARCH);
	assert_string_equal(rq.search[0], "チャットボット 正答率");
	assert_string_equal(rq.search[4], "見送り");
	assert_null(rq.search[1]);
	kr_request_clear(&rq);

	kr_buf_clear(&b);
	req.limit = 0;
	kr_request_encode(&b, &req);
	assert_int_equal(kr_request_decode(&rq, b.ptr, b.len), 0);
	assert_int_equal(rq.limit, KR_SEARCH_DEFAULT_LIMIT);
	kr_request_clear(&rq);
	kr_buf_clear(&b);
	req.limit = KR_MAX_HITS + 1;
	kr_request_encode(&b, &req);
	assert_int_equal(kr_request_decode(&rq, b.ptr, b.len), KR_EPROTO);
	kr_buf_clear(&b);
	req.limit = 5;
	req.search[0] = NULL;
	kr_request_encode(&b, &req);
	assert_int_equal(kr_request_decode(&rq, b.ptr, b.len), KR_EPROTO);
	assert_non_null(strstr(kr_errmsg(), "no query"));

	kr_buf_clear(&b);
	memset(hit.publisher, 7, KR_FPR_LEN);
	kr_reply_encode(&b, &rep);
	assert_int_equal(kr_reply_decode(&rp, b.ptr, b.len), 0);
	assert_int_equal(rp.nhits, 1);
	assert_int_equal(rp.total, 3);
	assert_string_equal(rp.hits[0].headline, "正答率 94.1% / 目標 99%");
	assert_string_equal(rp.hits[0].outcome, "");
	kr_reply_clear(&rp);
	kr_buf_release(&b);
}

/* A long title is cut, a hit without an identity is left out: neither costs the rest of the answer. */
static void
test_search_reply_one_bad_hit(void **state)
{
	kr_buf b = KR_BUF_INIT, title = KR_BUF_INIT;
	kr_wire_hit hits[3] = {
		{ .id = (char *)"372081/case/a", .version = (char *)"1.0.0" },
		{ .id = (char *)"372081/case/b", .version = (char *)"1.0.0" },
		{ .id = (char *)"", .version = (char *)"1.0.0" },
	};
	kr_reply rep = { .id = 3, .type = KR_REP_SEARCH, .hits = hits, .nhits = 3, .total = 3 }, rp;

	(void)state;
	for (int i = 0; i < 700; i++)
		kr_buf_adds(&title, "ご"); /* 2,100 bytes, 3-byte characters */
	hits[0].title = title.ptr;
	for (int i = 0; i < 3; i++)
		memset(hits[i].publisher, 7, KR_FPR_LEN);
	kr_reply_encode(&b, &rep);
	assert_int_equal(kr_reply_decode(&rp, b.ptr, b.len), 0);
	assert_int_equal(rp.nhits, 2);
	assert_int_equal(rp.hits_dropped, 1);
	assert_string_equal(rp.hits[1].id, "372081/case/b");
	/* cut on a character boundary at most 1,024 bytes in, then "…" */
	assert_int_equal(strlen(rp.hits[0].title), 1023 + strlen("…"));
	assert_int_equal(strcmp(rp.hits[0].title + 1023, "…"), 0);
	kr_reply_clear(&rp);
	kr_buf_release(&title);
	kr_buf_release(&b);
}

static void
test_garbage_never_crashes(void **state)
{
	uint8_t buf[512];
	unsigned seed = 12345;

	(void)state;
	for (int i = 0; i < 20000; i++) {
		size_t n = (size_t)(rand_r(&seed) % sizeof(buf));
		kr_manifest m;
		kr_request r;
		kr_reply p;
		kr_signed s;
		kr_beacon bc;
		kr_inline in;
		for (size_t j = 0; j < n; j++)
			buf[j] = (uint8_t)rand_r(&seed);
		if (kr_manifest_decode(&m, buf, n) == 0)
			kr_manifest_clear(&m);
		if (kr_request_decode(&r, buf, n) == 0)
			kr_request_clear(&r);
		if (kr_reply_decode(&p, buf, n) == 0)
			kr_reply_clear(&p);
		if (kr_signed_decode(&s, buf, n) == 0)
			kr_signed_clear(&s);
		kr_beacon_decode(&bc, buf, n);
		if (kr_inline_decode(&in, buf, n) == 0)
			kr_inline_clear(&in);
	}
}

/* The packs a publisher announces with its manifest: round trip, and every limit refused whole. */
static void
test_inline_packs(void **state)
{
	kr_inline_pack v[KR_INLINE_PACKS + 1];
	kr_inline in = { v, 2 }, back;
	kr_buf b = KR_BUF_INIT;

	(void)state;
	memset(v, 0, sizeof(v));
	for (size_t i = 0; i < KR_INLINE_PACKS + 1; i++) {
		strcpy(v[i].collection, "cases");
		memset(v[i].want, 0x40 + (int)i, KR_OID_LEN);
		v[i].pack = (kr_buf)KR_BUF_INIT;
		kr_buf_adds(&v[i].pack, "PACK");
	}
	strcpy(v[1].collection, "prompts");
	v[1].has_base = 1;
	memset(v[1].base, 0x33, KR_OID_LEN);
	kr_inline_encode(&b, &in);
	assert_int_equal(kr_inline_decode(&back, b.ptr, b.len), 0);
	assert_int_equal(back.n, 2);
	assert_string_equal(back.v[0].collection, "cases");
	assert_int_equal(back.v[0].has_base, 0);
	assert_memory_equal(back.v[0].want, v[0].want, KR_OID_LEN);
	assert_int_equal(back.v[0].pack.len, 4);
	assert_memory_equal(back.v[0].pack.ptr, "PACK", 4);
	assert_string_equal(back.v[1].collection, "prompts");
	assert_int_equal(back.v[1].has_base, 1);
	assert_memory_equal(back.v[1].base, v[1].base, KR_OID_LEN);
	kr_inline_clear(&back);
	/* every one of these is refused, nothing kept */
	in.n = KR_INLINE_PACKS + 1;
	kr_buf_clear(&b);
	kr_inline_encode(&b, &in);
	assert_int_equal(kr_inline_decode(&back, b.ptr, b.len), KR_EPROTO);
	assert_int_equal(back.n, 0);
	assert_null(back.v);
	in.n = 2;
	strcpy(v[1].collection, "Prompts");
	kr_buf_clear(&b);
	kr_inline_encode(&b, &in);
	assert_int_equal(kr_inline_decode(&back, b.ptr, b.len), KR_EPROTO);
	strcpy(v[1].collection, "prompts");
	kr_buf_grow(&v[1].pack, KR_INLINE_MAX);
	memset(v[1].pack.ptr, 'x', KR_INLINE_MAX);
	v[1].pack.len = KR_INLINE_MAX; /* with the 4 bytes of v[0]: one over */
	kr_buf_clear(&b);
	kr_inline_encode(&b, &in);
	assert_int_equal(kr_inline_decode(&back, b.ptr, b.len), KR_EPROTO);
	assert_non_null(strstr(kr_errmsg(), "inline packs of more than"));
	v[1].pack.len = KR_INLINE_MAX - 4; /* exactly the limit */
	kr_buf_clear(&b);
	kr_inline_encode(&b, &in);
	assert_int_equal(kr_inline_decode(&back, b.ptr, b.len), 0);
	kr_inline_clear(&back);
	/* a want that is not 20 bytes, a truncated message */
	kr_buf_clear(&b);
	kr_inline_encode(&b, &in);
	assert_int_equal(kr_inline_decode(&back, b.ptr, b.len - 1), KR_EPROTO);
	for (size_t i = 0; i < KR_INLINE_PACKS + 1; i++)
		kr_buf_release(&v[i].pack);
	kr_buf_release(&b);
	kr_error_clear();
}

/* The chain request and reply (DESIGN §6 distribution), with their limits. */
static void
test_membership_request_reply(void **state)
{
	kr_request req = { .id = 7, .type = KR_REQ_MEMBERSHIP, .from_version = 41 }, rq;
	kr_reply rep = { .id = 7, .type = KR_REP_MEMBERSHIP, .newest = 43 }, rp;
	kr_buf b = KR_BUF_INIT, v[KR_FED_MAX_REPLY_VERSIONS + 1];

	(void)state;
	memset(req.fed, 0xab, 32);
	kr_request_encode(&b, &req);
	assert_int_equal(kr_request_decode(&rq, b.ptr, b.len), 0);
	assert_int_equal(rq.type, KR_REQ_MEMBERSHIP);
	assert_int_equal(rq.from_version, 41);
	assert_memory_equal(rq.fed, req.fed, 32);
	kr_request_clear(&rq);
	kr_buf_clear(&b);
	for (size_t i = 0; i <= KR_FED_MAX_REPLY_VERSIONS; i++) {
		v[i] = (kr_buf)KR_BUF_INIT;
		kr_buf_addf(&v[i], "version %zu", i);
	}
	rep.versions = v;
	rep.nversions = 2;
	kr_reply_encode(&b, &rep);
	assert_int_equal(kr_reply_decode(&rp, b.ptr, b.len), 0);
	assert_int_equal(rp.type, KR_REP_MEMBERSHIP);
	assert_int_equal(rp.newest, 43);
	assert_int_equal(rp.nversions, 2);
	assert_string_equal(rp.versions[1].ptr, "version 1");
	kr_reply_clear(&rp);
	/* more versions than a reply may carry: refused by the decoder (built by
	 * hand: Reply{id 7, membership{versions "x" x 65, newest 100}}) */
	kr_buf_clear(&b);
	rep.nversions = KR_FED_MAX_REPLY_VERSIONS;
	kr_reply_encode(&b, &rep);
	assert_int_equal(kr_reply_decode(&rp, b.ptr, b.len), 0);
	assert_int_equal(rp.nversions, KR_FED_MAX_REPLY_VERSIONS);
	kr_reply_clear(&rp);
	kr_buf_clear(&b);
	{
		size_t inner = (KR_FED_MAX_REPLY_VERSIONS + 1) * 3 + 2;
		kr_buf_add(&b, "\x08\x07\x3a", 3);
		kr_buf_addch(&b, (char)(0x80 | (inner & 0x7f)));
		kr_buf_addch(&b, (char)(inner >> 7));
		for (int i = 0; i <= KR_FED_MAX_REPLY_VERSIONS; i++)
			kr_buf_add(&b, "\x0a\x01x", 3);
		kr_buf_add(&b, "\x10\x64", 2);
	}
	assert_int_equal(kr_reply_decode(&rp, b.ptr, b.len), KR_EPROTO);
	assert_non_null(strstr(kr_errmsg(), "limit"));
	/* an empty version is refused */
	kr_buf_clear(&b);
	kr_buf_clear(&v[0]);
	rep.nversions = 1;
	kr_reply_encode(&b, &rep);
	assert_int_equal(kr_reply_decode(&rp, b.ptr, b.len), KR_EPROTO);
	/* a federation id that is not 32 bytes is refused */
	{
		static const uint8_t bad[] = { 0x32, 0x03, 0x0a, 0x01, 0x00 }; /* membership{federation: 1 byte} */
		assert_int_equal(kr_request_decode(&rq, bad, sizeof(bad)), KR_EPROTO);
	}
	for (size_t i = 0; i <= KR_FED_MAX_REPLY_VERSIONS; i++)
		kr_buf_release(&v[i]);
	kr_buf_release(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_membership_request_reply),
		cmocka_unit_test(test_manifest_roundtrip),
		cmocka_unit_test(test_manifest_every_truncation_rejected_or_consistent),
		cmocka_unit_test(test_manifest_bad_fields),
		cmocka_unit_test(test_oversized_rejected),
		cmocka_unit_test(test_request_reply_roundtrip),
		cmocka_unit_test(test_search_roundtrip),
		cmocka_unit_test(test_search_reply_one_bad_hit),
		cmocka_unit_test(test_garbage_never_crashes),
		cmocka_unit_test(test_inline_packs),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
