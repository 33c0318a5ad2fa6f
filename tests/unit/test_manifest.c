/* tests/unit/test_manifest.c - each receipt rule of DESIGN §5, alone */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "../../sharing/manifest.h"

#define NOW 1800000000

static kr_key *pubk, *other;
static int trust_all = 1;

static int
trusted(const uint8_t pub[KR_FPR_LEN], void *arg)
{
	(void)arg;
	return trust_all && memcmp(pub, kr_key_pub(pubk), KR_FPR_LEN) == 0;
}

static int
setup(void **state)
{
	(void)state;
	return kr_key_generate(&pubk) || kr_key_generate(&other);
}

static int
teardown(void **state)
{
	(void)state;
	kr_key_destroy(&pubk);
	kr_key_destroy(&other);
	return 0;
}

/* Signed manifest of pubk (or signer) with seq, issued, expires and a head byte. */
static void
make(kr_buf *out, const kr_key *signer, uint64_t seq, int64_t issued, int64_t expires, uint8_t headbyte)
{
	kr_manifest m = { 0 };
	kr_head h = { .size = 100 };

	memcpy(m.publisher, kr_key_pub(signer), KR_FPR_LEN);
	m.seq = seq;
	m.issued = issued;
	m.expires = expires;
	m.name = (char *)"三豊市";
	m.lg_code = (char *)"372081";
	strcpy(h.collection, "cases");
	memset(h.commit, headbyte, KR_OID_LEN);
	m.heads = &h;
	m.nheads = 1;
	kr_buf_clear(out);
	assert_int_equal(kr_manifest_sign(out, &m, signer), 0);
}

/* The body bytes inside a Signed message, for use as "prev". */
static void
body_of(kr_buf *signed_bytes, kr_signed *s, kr_manifest_prev *prev, uint64_t seq)
{
	assert_int_equal(kr_signed_decode(s, signed_bytes->ptr, signed_bytes->len), 0);
	prev->seq = seq;
	prev->body = s->body.ptr;
	prev->body_len = s->body.len;
}

static int
check(kr_buf *b, const kr_manifest_prev *prev)
{
	kr_manifest m;
	uint8_t pub[KR_FPR_LEN];
	int rc = kr_manifest_check(&m, pub, b->ptr, b->len, trusted, NULL, prev, NOW);

	if (rc == KR_MANIFEST_ACCEPT)
		kr_manifest_clear(&m);
	return rc;
}

static void
test_accept(void **state)
{
	kr_buf b = KR_BUF_INIT;

	(void)state;
	make(&b, pubk, 1, NOW, NOW + 3600, 1);
	assert_int_equal(check(&b, NULL), KR_MANIFEST_ACCEPT);
	kr_buf_release(&b);
}

static void
test_bad_signature(void **state)
{
	kr_buf b = KR_BUF_INIT;
	kr_signed s;

	(void)state;
	make(&b, pubk, 1, NOW, NOW + 3600, 1);
	assert_int_equal(kr_signed_decode(&s, b.ptr, b.len), 0);
	s.sig[10] ^= 0x40;
	kr_buf_clear(&b);
	kr_signed_encode(&b, &s);
	kr_signed_clear(&s);
	assert_int_equal(check(&b, NULL), KR_EVERIFY);
	assert_non_null(strstr(kr_errmsg(), "bad signature"));
	kr_buf_release(&b);
}

static void
test_untrusted(void **state)
{
	kr_buf b = KR_BUF_INIT;

	(void)state;
	make(&b, other, 1, NOW, NOW + 3600, 1);
	assert_int_equal(check(&b, NULL), KR_EVERIFY);
	assert_non_null(strstr(kr_errmsg(), "not trusted"));
	kr_buf_release(&b);
}

static void
test_replay_lower_seq(void **state)
{
	kr_buf cur = KR_BUF_INIT, old = KR_BUF_INIT;
	kr_signed s;
	kr_manifest_prev prev;

	(void)state;
	make(&cur, pubk, 5, NOW, NOW + 3600, 5);
	make(&old, pubk, 4, NOW - 10, NOW + 3600, 4);
	body_of(&cur, &s, &prev, 5);
	assert_int_equal(check(&old, &prev), KR_MANIFEST_REPLAY);
	assert_non_null(strstr(kr_errmsg(), "replay"));
	assert_int_equal(check(&cur, &prev), KR_MANIFEST_IGNORE); /* the same one again */
	kr_signed_clear(&s);
	kr_buf_release(&cur);
	kr_buf_release(&old);
}

static void
test_equivocation(void **state)
{
	kr_buf cur = KR_BUF_INIT, twin = KR_BUF_INIT;
	kr_signed s;
	kr_manifest_prev prev;

	(void)state;
	make(&cur, pubk, 5, NOW, NOW + 3600, 5);
	make(&twin, pubk, 5, NOW, NOW + 3600, 6);
	body_of(&cur, &s, &prev, 5);
	assert_int_equal(check(&twin, &prev), KR_EVERIFY);
	assert_non_null(strstr(kr_errmsg(), "equivocation"));
	kr_signed_clear(&s);
	kr_buf_release(&cur);
	kr_buf_release(&twin);
}

static void
test_future_issued(void **state)
{
	kr_buf b = KR_BUF_INIT;

	(void)state;
	make(&b, pubk, 1, NOW + KR_FUTURE_SKEW + 1, NOW + 7200, 1);
	assert_int_equal(check(&b, NULL), KR_EVERIFY);
	assert_non_null(strstr(kr_errmsg(), "future"));
	make(&b, pubk, 1, NOW + KR_FUTURE_SKEW, NOW + 7200, 1);
	assert_int_equal(check(&b, NULL), KR_MANIFEST_ACCEPT);
	kr_buf_release(&b);
}

static void
test_expired(void **state)
{
	kr_buf b = KR_BUF_INIT;

	(void)state;
	make(&b, pubk, 1, NOW - 7200, NOW, 1);
	assert_int_equal(check(&b, NULL), KR_EVERIFY);
	assert_non_null(strstr(kr_errmsg(), "stale"));
	kr_buf_release(&b);
}

static void
test_digest_order_independent(void **state)
{
	kr_pubseq a[2], b[2];
	uint8_t da[16], db[16];

	(void)state;
	memset(a, 0, sizeof(a));
	a[0].pub[0] = 1; a[0].seq = 3;
	a[1].pub[0] = 2; a[1].seq = 9;
	b[0] = a[1];
	b[1] = a[0];
	kr_manifest_digest(da, a, 2);
	kr_manifest_digest(db, b, 2);
	assert_memory_equal(da, db, 16);
	b[0].seq = 10;
	kr_manifest_digest(db, b, 2);
	assert_memory_not_equal(da, db, 16);
}

/* DESIGN §6 receipt rules: one membership, each verdict of kr_manifest_trust. */
static void
test_federation_trust(void **state)
{
	kr_fed_member mem[2];
	kr_fed_revoked rev;
	kr_membership m;
	uint8_t stranger[KR_FPR_LEN];

	(void)state;
	memset(mem, 0, sizeof(mem));
	memset(&rev, 0, sizeof(rev));
	memset(&m, 0, sizeof(m));
	memset(stranger, 7, sizeof(stranger));
	mem[0].lg_code = (char *)"372081";
	mem[0].name = (char *)"三豊市";
	mem[0].roles = KR_ROLE_MEMBER;
	memcpy(mem[0].key, kr_key_pub(pubk), KR_FPR_LEN);
	mem[1].lg_code = (char *)"372013";
	mem[1].name = (char *)"高松市";
	mem[1].roles = KR_ROLE_MEMBER;
	memset(mem[1].key, 9, KR_FPR_LEN);
	m.name = (char *)"香川県生成AI連携";
	m.version = 2;
	m.expires = NOW + 86400;
	m.members = mem;
	m.nmembers = 2;

	/* outside any federation: the pin decides */
	assert_int_equal(kr_manifest_trust(NULL, stranger, "372081", 0, NOW), 0);
	assert_int_equal(kr_manifest_trust(NULL, stranger, "372081", 1, NOW), 1);
	/* a member with its own code, pinned or not */
	assert_int_equal(kr_manifest_trust(&m, kr_key_pub(pubk), "372081", 0, NOW), 1);
	/* a member signing for another member's code: refused, even pinned */
	assert_int_equal(kr_manifest_trust(&m, kr_key_pub(pubk), "372013", 1, NOW), KR_EVERIFY);
	/* a stranger claiming a member's code: refused, even pinned */
	assert_int_equal(kr_manifest_trust(&m, stranger, "372013", 1, NOW), KR_EVERIFY);
	assert_non_null(strstr(kr_errmsg(), "one key per municipality"));
	/* a stranger with a code nobody holds: the pin decides */
	assert_int_equal(kr_manifest_trust(&m, stranger, "372048", 0, NOW), 0);
	assert_int_equal(kr_manifest_trust(&m, stranger, "372048", 1, NOW), 1);
	/* a member's membership past valid_until: only a pin trusts it */
	mem[0].valid_until = NOW - 1;
	assert_int_equal(kr_manifest_trust(&m, kr_key_pub(pubk), "372081", 0, NOW), KR_EVERIFY);
	assert_int_equal(kr_manifest_trust(&m, kr_key_pub(pubk), "372081", 1, NOW), 1);
	mem[0].valid_until = 0;
	/* retired and compromised keys publish nothing new, whatever pins them */
	memset(rev.key, 7, KR_FPR_LEN);
	rev.reason = KR_REVOKE_RETIRED;
	rev.since = NOW - 10;
	m.revoked = &rev;
	m.nrevoked = 1;
	assert_int_equal(kr_manifest_trust(&m, stranger, "372048", 1, NOW), KR_EVERIFY);
	assert_non_null(strstr(kr_errmsg(), "retired"));
	rev.reason = KR_REVOKE_COMPROMISED;
	assert_int_equal(kr_manifest_trust(&m, stranger, "372048", 1, NOW), KR_EVERIFY);
	assert_non_null(strstr(kr_errmsg(), "compromised"));
	/* an expired newest version: read-only for members, never a refusal to quarantine */
	m.expires = NOW - 1;
	assert_int_equal(kr_manifest_trust(&m, kr_key_pub(pubk), "372081", 0, NOW), KR_MANIFEST_STALE);
	assert_non_null(strstr(kr_errmsg(), "stale since"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_accept),
		cmocka_unit_test(test_bad_signature),
		cmocka_unit_test(test_untrusted),
		cmocka_unit_test(test_replay_lower_seq),
		cmocka_unit_test(test_equivocation),
		cmocka_unit_test(test_future_issued),
		cmocka_unit_test(test_expired),
		cmocka_unit_test(test_digest_order_independent),
		cmocka_unit_test(test_federation_trust),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
