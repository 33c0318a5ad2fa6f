/*
 * tests/unit/test_federation.c - the membership chain rule (DESIGN §6), one
 * rule a test, including the TUF regression set: a key counted twice,
 * threshold 0 and above n, a version skip, a rollback, N+1 signed by only
 * one of the two boards, expired intermediate vs. newest versions. And the
 * store on disk: two threads installing the same version at once.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../../sharing/federation.h"
#include "../../sharing/fedstore.h"

#define NOW 1800000000
#define NK 6

static kr_key *k[NK];                 /* k[0..2] first board, k[3..4] a second, k[5] outsider */
static const char *const names[NK] = { "香川県", "高松市", "観音寺市", "丸亀市", "坂出市", "よそ者" };
static const char *const codes[NK] = { "370002", "372013", "372056", "372021", "372030", "131016" };

static int
setup(void **state)
{
	(void)state;
	for (int i = 0; i < NK; i++)
		if (kr_key_generate(&k[i]) < 0)
			return -1;
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	for (int i = 0; i < NK; i++)
		kr_key_destroy(&k[i]);
	return 0;
}

/* A document with board seats from keys[] (terminated by -1) and one member per seat. */
static void
doc(kr_buf *body, uint64_t version, const uint8_t *fedid, uint32_t threshold, const int *seats,
    int64_t expires)
{
	kr_membership m = { 0 };
	kr_fed_seat s[NK];
	kr_fed_member mem[NK];
	size_t n = 0;

	for (; seats[n] >= 0; n++) {
		memcpy(s[n].key, kr_key_pub(k[seats[n]]), KR_FPR_LEN);
		s[n].name = (char *)names[seats[n]];
		s[n].lg_code = (char *)codes[seats[n]];
		memset(&mem[n], 0, sizeof(mem[n]));
		memcpy(mem[n].key, kr_key_pub(k[seats[n]]), KR_FPR_LEN);
		mem[n].name = (char *)names[seats[n]];
		mem[n].lg_code = (char *)codes[seats[n]];
		mem[n].roles = KR_ROLE_BOARD | KR_ROLE_MEMBER;
	}
	m.name = (char *)"香川県生成AI連携";
	m.version = version;
	if (fedid) {
		memcpy(m.federation, fedid, 32);
		m.has_federation = 1;
	}
	m.issued = NOW - 100;
	m.expires = expires;
	m.threshold = threshold;
	m.board = s;
	m.nboard = n;
	m.members = mem;
	m.nmembers = n;
	kr_buf_clear(body);
	kr_membership_encode(body, &m);
}

/* Signed by signers[] (terminated by -1); a signer may appear twice on purpose. */
static void
sign_by(kr_signed_multi *sm, const kr_buf *body, const int *signers)
{
	memset(sm, 0, sizeof(*sm));
	sm->body = (kr_buf)KR_BUF_INIT;
	kr_buf_add(&sm->body, body->ptr, body->len);
	for (size_t i = 0; signers[i] >= 0; i++) {
		uint8_t sig[64];
		assert_int_equal(kr_signed_sign(k[signers[i]], KR_FED_TYPE, body->ptr, body->len, sig), 0);
		sm->sigs = kr_realloc(sm->sigs, (sm->nsigs + 1) * sizeof(*sm->sigs));
		memcpy(sm->sigs[sm->nsigs].key, kr_key_pub(k[signers[i]]), KR_FPR_LEN);
		memcpy(sm->sigs[sm->nsigs].sig, sig, 64);
		sm->nsigs++;
	}
}

static const int board1[] = { 0, 1, 2, -1 };
static kr_membership genesis;
static uint8_t fedid[32];

/* Verifies next against cur; returns the rc, keeps the error text. */
static int
try_next(const kr_membership *cur, const uint8_t *id, const kr_buf *body, const int *signers,
    kr_membership *out)
{
	kr_signed_multi sm;
	kr_fed_tally t;
	kr_membership tmp;
	int rc;

	sign_by(&sm, body, signers);
	rc = kr_fed_check_next(out ? out : &tmp, cur, id, &sm, &t);
	if (rc == 0 && !out)
		kr_membership_clear(&tmp);
	kr_fed_tally_release(&t);
	kr_signed_multi_clear(&sm);
	return rc;
}

static void
make_genesis(void)
{
	kr_buf b = KR_BUF_INIT;
	const int signers[] = { 0, 2, -1 };

	kr_membership_clear(&genesis);
	doc(&b, 1, NULL, 2, board1, NOW + 86400);
	kr_fed_id(fedid, b.ptr, b.len);
	assert_int_equal(try_next(NULL, fedid, &b, signers, &genesis), 0);
	kr_buf_release(&b);
}

static void
test_genesis_two_of_three(void **state)
{
	kr_buf b = KR_BUF_INIT;
	const int one[] = { 1, -1 };
	uint8_t other[32];

	(void)state;
	make_genesis();
	assert_int_equal(genesis.version, 1);
	assert_int_equal(genesis.nboard, 3);
	doc(&b, 1, NULL, 2, board1, NOW + 86400);
	assert_int_equal(try_next(NULL, fedid, &b, one, NULL), KR_EVERIFY);
	assert_non_null(strstr(kr_errmsg(), "1 of 2"));
	assert_non_null(strstr(kr_errmsg(), "missing: 香川県、観音寺市"));
	/* A genesis that is not the pinned federation. */
	memset(other, 7, 32);
	assert_int_equal(try_next(NULL, other, &b, board1, NULL), KR_EVERIFY);
	assert_non_null(strstr(kr_errmsg(), "not the federation that was pinned"));
	kr_buf_release(&b);
}

static void
test_key_counted_twice(void **state)
{
	kr_buf b = KR_BUF_INIT;
	const int twice[] = { 1, 1, -1 };

	(void)state;
	doc(&b, 1, NULL, 2, board1, NOW + 86400);
	assert_int_equal(try_next(NULL, NULL, &b, twice, NULL), KR_EVERIFY);
	assert_non_null(strstr(kr_errmsg(), "signed twice"));
	kr_buf_release(&b);
}

static void
test_threshold_bounds(void **state)
{
	kr_buf b = KR_BUF_INIT;
	kr_membership m;
	int warn;

	(void)state;
	doc(&b, 1, NULL, 0, board1, NOW + 86400);
	assert_int_equal(try_next(NULL, NULL, &b, board1, NULL), KR_EVERIFY);
	assert_non_null(strstr(kr_errmsg(), "threshold 0"));
	doc(&b, 1, NULL, 4, board1, NOW + 86400);
	assert_int_equal(try_next(NULL, NULL, &b, board1, NULL), KR_EVERIFY);
	assert_non_null(strstr(kr_errmsg(), "threshold 4 is outside 1..3"));
	doc(&b, 1, NULL, 3, board1, NOW + 86400);
	assert_int_equal(kr_membership_decode(&m, b.ptr, b.len), 0);
	assert_int_equal(kr_fed_validate(&m, &warn), 0);
	assert_int_equal(warn, 1);
	kr_membership_clear(&m);
	kr_buf_release(&b);
}

static void
test_version_skip_and_rollback(void **state)
{
	kr_buf b = KR_BUF_INIT;
	kr_membership v2 = { 0 };

	(void)state;
	make_genesis();
	doc(&b, 3, fedid, 2, board1, NOW + 86400);
	assert_int_equal(try_next(&genesis, fedid, &b, board1, NULL), KR_EVERIFY);
	assert_non_null(strstr(kr_errmsg(), "skips version 2"));
	doc(&b, 2, fedid, 2, board1, NOW + 86400);
	assert_int_equal(try_next(&genesis, fedid, &b, board1, &v2), 0);
	/* Back to 1 (and a second 2) once 2 is held. */
	doc(&b, 1, NULL, 2, board1, NOW + 86400);
	assert_int_equal(try_next(&v2, fedid, &b, board1, NULL), KR_EVERIFY);
	assert_non_null(strstr(kr_errmsg(), "not newer"));
	doc(&b, 2, fedid, 1, board1, NOW + 86400);
	assert_int_equal(try_next(&v2, fedid, &b, board1, NULL), KR_EVERIFY);
	kr_membership_clear(&v2);
	kr_buf_release(&b);
}

static void
test_both_boards_must_sign(void **state)
{
	kr_buf b = KR_BUF_INIT;
	const int board2[] = { 3, 4, -1 };
	const int old_only[] = { 0, 1, -1 };
	const int new_only[] = { 3, 4, -1 };
	const int both[] = { 0, 1, 3, 4, -1 };
	const int one_short[] = { 0, 3, 4, -1 };
	kr_membership v2 = { 0 };

	(void)state;
	make_genesis();
	doc(&b, 2, fedid, 2, board2, NOW + 86400);
	assert_int_equal(try_next(&genesis, fedid, &b, old_only, NULL), KR_EVERIFY);
	assert_non_null(strstr(kr_errmsg(), "0 of 2 signatures of the new board"));
	assert_int_equal(try_next(&genesis, fedid, &b, new_only, NULL), KR_EVERIFY);
	assert_non_null(strstr(kr_errmsg(), "0 of 2 signatures of the current board"));
	assert_int_equal(try_next(&genesis, fedid, &b, one_short, NULL), KR_EVERIFY);
	assert_non_null(strstr(kr_errmsg(), "1 of 2"));
	assert_int_equal(try_next(&genesis, fedid, &b, both, &v2), 0);
	assert_int_equal(v2.nboard, 2);
	kr_membership_clear(&v2);
	kr_buf_release(&b);
}

static void
test_stray_and_bad_signatures(void **state)
{
	kr_buf b = KR_BUF_INIT;
	const int stray[] = { 0, 1, 5, -1 };
	kr_signed_multi sm;
	kr_membership out;
	kr_fed_tally t;

	(void)state;
	make_genesis();
	doc(&b, 2, fedid, 2, board1, NOW + 86400);
	assert_int_equal(try_next(&genesis, fedid, &b, stray, NULL), KR_EVERIFY);
	assert_non_null(strstr(kr_errmsg(), "neither the current nor the proposed board"));
	/* A body changed after signing. */
	sign_by(&sm, &b, board1);
	sm.body.ptr[sm.body.len - 1] ^= 1;
	assert_true(kr_fed_check_next(&out, &genesis, fedid, &sm, &t) < 0);
	kr_fed_tally_release(&t);
	kr_signed_multi_clear(&sm);
	kr_buf_release(&b);
}

static void
test_another_federation(void **state)
{
	kr_buf b = KR_BUF_INIT;
	uint8_t other[32];

	(void)state;
	make_genesis();
	memset(other, 9, 32);
	doc(&b, 2, other, 2, board1, NOW + 86400);
	assert_int_equal(try_next(&genesis, fedid, &b, board1, NULL), KR_EVERIFY);
	assert_non_null(strstr(kr_errmsg(), "another federation"));
	kr_buf_release(&b);
}

static void
test_expiry(void **state)
{
	kr_buf b = KR_BUF_INIT;
	kr_membership v2 = { 0 }, v3 = { 0 };

	(void)state;
	make_genesis();
	/* An expired intermediate version is fine; only the newest one's expiry matters. */
	doc(&b, 2, fedid, 2, board1, NOW - 10);
	assert_int_equal(try_next(&genesis, fedid, &b, board1, &v2), 0);
	assert_true(kr_fed_stale(&v2, NOW));
	doc(&b, 3, fedid, 2, board1, NOW + 86400);
	assert_int_equal(try_next(&v2, fedid, &b, board1, &v3), 0);
	assert_false(kr_fed_stale(&v3, NOW));
	kr_membership_clear(&v2);
	kr_membership_clear(&v3);
	kr_buf_release(&b);
}

static void
test_strict_decoding(void **state)
{
	kr_buf b = KR_BUF_INIT;
	kr_membership m = { 0 }, d;
	kr_fed_seat s;
	kr_fed_member mem[2];

	(void)state;
	memcpy(s.key, kr_key_pub(k[0]), KR_FPR_LEN);
	s.name = (char *)"香川県";
	s.lg_code = (char *)"370002";
	memset(mem, 0, sizeof(mem));
	for (int i = 0; i < 2; i++) {
		memcpy(mem[i].key, kr_key_pub(k[i]), KR_FPR_LEN);
		mem[i].name = (char *)names[i];
		mem[i].lg_code = (char *)codes[i];
		mem[i].roles = KR_ROLE_MEMBER;
	}
	m.name = (char *)"テスト連携";
	m.version = 1;
	m.threshold = 1;
	m.issued = NOW;
	m.expires = NOW + 10;
	m.board = &s;
	m.nboard = 1;
	m.members = mem;
	m.nmembers = 2;
	kr_membership_encode(&b, &m);
	assert_int_equal(kr_membership_decode(&d, b.ptr, b.len), 0);
	assert_int_equal(d.members[1].roles, KR_ROLE_MEMBER);
	kr_membership_clear(&d);
	/* Every truncation is refused or decodes to something smaller, never crashes. */
	for (size_t n = 0; n < b.len; n++)
		if (kr_membership_decode(&d, b.ptr, n) == 0)
			kr_membership_clear(&d);
	/* Two keys for one municipality. */
	mem[1].lg_code = (char *)codes[0];
	kr_buf_clear(&b);
	kr_membership_encode(&b, &m);
	assert_int_equal(kr_membership_decode(&d, b.ptr, b.len), KR_EPROTO);
	assert_non_null(strstr(kr_errmsg(), "two keys"));
	/* One key twice. */
	mem[1].lg_code = (char *)codes[1];
	memcpy(mem[1].key, mem[0].key, KR_FPR_LEN);
	kr_buf_clear(&b);
	kr_membership_encode(&b, &m);
	assert_int_equal(kr_membership_decode(&d, b.ptr, b.len), KR_EPROTO);
	assert_non_null(strstr(kr_errmsg(), "key twice"));
	/* No role. */
	memcpy(mem[1].key, kr_key_pub(k[1]), KR_FPR_LEN);
	mem[1].roles = 0;
	kr_buf_clear(&b);
	kr_membership_encode(&b, &m);
	assert_int_equal(kr_membership_decode(&d, b.ptr, b.len), KR_EPROTO);
	assert_non_null(strstr(kr_errmsg(), "roles"));
	/* A name that would reach a board member's terminal as an escape sequence. */
	mem[1].roles = KR_ROLE_MEMBER;
	mem[1].name = (char *)"観音寺市\x1b[2J";
	kr_buf_clear(&b);
	kr_membership_encode(&b, &m);
	assert_int_equal(kr_membership_decode(&d, b.ptr, b.len), KR_EPROTO);
	mem[1].name = (char *)names[1];
	/* Over 1 MB. */
	kr_buf_clear(&b);
	kr_buf_grow(&b, KR_FED_DOC_MAX + 1);
	memset(b.ptr, 0, KR_FED_DOC_MAX + 1);
	assert_int_equal(kr_membership_decode(&d, b.ptr, KR_FED_DOC_MAX + 1), KR_EPROTO);
	assert_non_null(strstr(kr_errmsg(), "exceeds"));
	kr_buf_release(&b);
}

static void
test_sign_once(void **state)
{
	kr_buf b = KR_BUF_INIT;
	kr_signed_multi sm = { KR_BUF_INIT, NULL, 0 }, back;
	kr_buf wire = KR_BUF_INIT;

	(void)state;
	doc(&b, 1, NULL, 2, board1, NOW + 86400);
	kr_buf_add(&sm.body, b.ptr, b.len);
	assert_int_equal(kr_fed_sign(&sm, k[0]), 0);
	assert_int_equal(kr_fed_sign(&sm, k[0]), KR_EEXISTS);
	assert_int_equal(kr_fed_sign(&sm, k[1]), 0);
	kr_signed_multi_encode(&wire, &sm);
	assert_int_equal(kr_signed_multi_decode(&back, wire.ptr, wire.len), 0);
	assert_int_equal(back.nsigs, 2);
	assert_memory_equal(back.body.ptr, b.ptr, b.len);
	kr_signed_multi_clear(&back);
	kr_signed_multi_clear(&sm);
	kr_buf_release(&wire);
	kr_buf_release(&b);
}

static void
test_receipt_rule(void **state)
{
	kr_membership m = { 0 };
	kr_fed_seat seat;
	kr_fed_member mem[2];
	kr_fed_revoked rv[3];
	const kr_fed_revoked *r;

	(void)state;
	memset(mem, 0, sizeof(mem));
	memset(rv, 0, sizeof(rv));
	memcpy(seat.key, kr_key_pub(k[0]), KR_FPR_LEN);
	seat.name = (char *)names[0];
	seat.lg_code = (char *)codes[0];
	for (int i = 0; i < 2; i++) {
		memcpy(mem[i].key, kr_key_pub(k[i]), KR_FPR_LEN);
		mem[i].name = (char *)names[i];
		mem[i].lg_code = (char *)codes[i];
		mem[i].roles = i ? KR_ROLE_MEMBER : KR_ROLE_BOARD;
	}
	mem[1].valid_until = NOW + 10;
	/* k[2] compromised; k[3] rotated to k[4], k[4] rotated to k[1]. */
	memcpy(rv[0].key, kr_key_pub(k[2]), KR_FPR_LEN);
	rv[0].reason = KR_REVOKE_COMPROMISED;
	rv[0].since = NOW - 50;
	memcpy(rv[1].key, kr_key_pub(k[3]), KR_FPR_LEN);
	rv[1].reason = KR_REVOKE_RETIRED;
	memcpy(rv[1].replaced_by, kr_key_pub(k[4]), KR_FPR_LEN);
	rv[1].has_replacement = 1;
	memcpy(rv[2].key, kr_key_pub(k[4]), KR_FPR_LEN);
	rv[2].reason = KR_REVOKE_RETIRED;
	memcpy(rv[2].replaced_by, kr_key_pub(k[1]), KR_FPR_LEN);
	rv[2].has_replacement = 1;
	m.name = (char *)"香川県生成AI連携";
	m.version = 4;
	m.threshold = 1;
	m.board = &seat;
	m.nboard = 1;
	m.members = mem;
	m.nmembers = 2;
	m.revoked = rv;
	m.nrevoked = 3;

	assert_int_equal(kr_fed_publisher(&m, kr_key_pub(k[1]), codes[1], NOW, &r), KR_FED_MEMBER);
	/* Two keys cannot claim one municipality: k[1] signing for 香川県's code. */
	assert_int_equal(kr_fed_publisher(&m, kr_key_pub(k[1]), codes[0], NOW, &r), KR_FED_STRANGER);
	assert_non_null(strstr(kr_errmsg(), "one key per municipality"));
	assert_int_equal(kr_fed_publisher(&m, kr_key_pub(k[1]), codes[1], NOW + 10, &r), KR_FED_STRANGER);
	assert_non_null(strstr(kr_errmsg(), "ended"));
	assert_int_equal(kr_fed_publisher(&m, kr_key_pub(k[2]), codes[2], NOW, &r), KR_FED_COMPROMISED);
	assert_int_equal(r->since, NOW - 50);
	assert_int_equal(kr_fed_publisher(&m, kr_key_pub(k[3]), codes[3], NOW, &r), KR_FED_RETIRED);
	assert_int_equal(kr_fed_publisher(&m, kr_key_pub(k[5]), codes[5], NOW, &r), KR_FED_STRANGER);
	assert_memory_equal(kr_fed_successor(&m, kr_key_pub(k[3])), kr_key_pub(k[1]), KR_FPR_LEN);
	assert_null(kr_fed_successor(&m, kr_key_pub(k[1])));
	/* A cycle of rotations in a hostile document ends. */
	memcpy(rv[2].replaced_by, kr_key_pub(k[3]), KR_FPR_LEN);
	assert_non_null(kr_fed_successor(&m, kr_key_pub(k[3])));
}

/*
 * Two threads of one node install the same version at once (a worker got
 * the announcement from the hub, another from the publisher). One
 * installs it, the other finds it held; neither fails. Before, both
 * wrote the same temporary names ("verified.tmp.PID") and the loser's
 * rename failed with ENOENT, so the revocations it carried were not
 * applied (t0025 failed 2 runs in 18).
 */
#define RACE_ROUNDS 40

static pthread_barrier_t race_barrier;
static kr_buf race_wire[RACE_ROUNDS + 1];
static char race_home[64];

typedef struct {
	int installed, held, failed;
	char why[256];
} race_count;

static void *
race_installer(void *arg)
{
	race_count *c = arg;

	for (int v = 2; v <= RACE_ROUNDS; v++) {
		kr_fedstore f;
		kr_fed_tally t;
		int rc;

		pthread_barrier_wait(&race_barrier);
		if ((rc = kr_fedstore_open(&f, race_home)) == 0) {
			rc = kr_fedstore_install(&f, race_wire[v].ptr, race_wire[v].len, &t);
			kr_fed_tally_release(&t);
			kr_fedstore_close(&f);
		}
		if (rc == KR_FED_INSTALLED)
			c->installed++;
		else if (rc == KR_FED_HELD)
			c->held++;
		else if (!c->failed++)
			snprintf(c->why, sizeof(c->why), "version %d: %s", v, kr_errmsg());
		kr_error_clear();
	}
	return NULL;
}

static void
test_store_race(void **state)
{
	kr_buf b = KR_BUF_INIT;
	const int signers[] = { 0, 2, -1 };
	race_count c[2] = { { 0 } };
	pthread_t th[2];
	kr_fedstore f;
	kr_fed_tally t;
	char cmd[128];

	(void)state;
	make_genesis();
	strcpy(race_home, "/tmp/kr-fedrace.XXXXXX");
	assert_non_null(mkdtemp(race_home));
	for (int v = 1; v <= RACE_ROUNDS; v++) {
		kr_signed_multi sm;
		doc(&b, (uint64_t)v, v == 1 ? NULL : fedid, 2, board1, NOW + 86400);
		sign_by(&sm, &b, signers);
		race_wire[v] = (kr_buf)KR_BUF_INIT;
		kr_signed_multi_encode(&race_wire[v], &sm);
		kr_signed_multi_clear(&sm);
	}
	assert_int_equal(kr_fedstore_open(&f, race_home), 0);
	assert_int_equal(kr_fedstore_install(&f, race_wire[1].ptr, race_wire[1].len, &t), KR_FED_INSTALLED);
	kr_fed_tally_release(&t);
	kr_fedstore_close(&f);
	pthread_barrier_init(&race_barrier, NULL, 2);
	for (int i = 0; i < 2; i++)
		pthread_create(&th[i], NULL, race_installer, &c[i]);
	for (int i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	pthread_barrier_destroy(&race_barrier);
	if (c[0].failed || c[1].failed)
		fail_msg("%d and %d installs failed: %s; %s", c[0].failed, c[1].failed, c[0].why, c[1].why);
	assert_int_equal(c[0].installed + c[1].installed, RACE_ROUNDS - 1);
	assert_int_equal(c[0].held + c[1].held, RACE_ROUNDS - 1);
	assert_int_equal(kr_fedstore_open(&f, race_home), 0);
	assert_int_equal(f.cur.version, RACE_ROUNDS);
	kr_fedstore_close(&f);
	for (int v = 1; v <= RACE_ROUNDS; v++)
		kr_buf_release(&race_wire[v]);
	kr_buf_release(&b);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", race_home);
	assert_int_equal(system(cmd), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_genesis_two_of_three),
		cmocka_unit_test(test_key_counted_twice),
		cmocka_unit_test(test_threshold_bounds),
		cmocka_unit_test(test_version_skip_and_rollback),
		cmocka_unit_test(test_both_boards_must_sign),
		cmocka_unit_test(test_stray_and_bad_signatures),
		cmocka_unit_test(test_another_federation),
		cmocka_unit_test(test_expiry),
		cmocka_unit_test(test_strict_decoding),
		cmocka_unit_test(test_sign_once),
		cmocka_unit_test(test_receipt_rule),
		cmocka_unit_test(test_store_race),
	};
	int rc = cmocka_run_group_tests(tests, setup, teardown);

	kr_membership_clear(&genesis);
	return rc;
}
