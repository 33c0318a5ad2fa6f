/*
 * tests/unit/test_board.c - the board's verdict and a consultation's state
 * (DESIGN §7), one rule a test: threshold distinct keys, one key counted
 * once however often it endorses, a rotated member counted once across its
 * two keys, retired keys still counting, compromised and outside keys
 * never, 注意 as the board's warning, the consultation state machine, and
 * the fields of the four kinds as kr_item_check reports them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../../policies/board.h"
#include "../../sharing/board.h"

/* Keys are plain bytes here: the verdict never checks a signature. */
enum { SEAT1, SEAT2, SEAT3, RETIRED_BOARD, RETIRED_TOWN, COMPROMISED, ROTATED_OLD, OUTSIDER, NKEYS };
static uint8_t keys[NKEYS][KR_FPR_LEN];
static kr_fed_seat cur_seats[3], past_seats[4];
static kr_fed_revoked revoked[4];
static kr_membership cur, past;
static const kr_membership *pasts[1] = { &past };

static int
setup(void **state)
{
	(void)state;
	for (int i = 0; i < NKEYS; i++)
		memset(keys[i], 0x10 + i, KR_FPR_LEN);
	/* the current board: SEAT1..3 (SEAT3 is ROTATED_OLD's successor), threshold 2 */
	for (int i = 0; i < 3; i++)
		memcpy(cur_seats[i].key, keys[SEAT1 + i], KR_FPR_LEN);
	cur.board = cur_seats;
	cur.nboard = 3;
	cur.threshold = 2;
	cur.version = 2;
	/* the past board held RETIRED_BOARD, COMPROMISED and ROTATED_OLD */
	memcpy(past_seats[0].key, keys[SEAT1], KR_FPR_LEN);
	memcpy(past_seats[1].key, keys[RETIRED_BOARD], KR_FPR_LEN);
	memcpy(past_seats[2].key, keys[COMPROMISED], KR_FPR_LEN);
	memcpy(past_seats[3].key, keys[ROTATED_OLD], KR_FPR_LEN);
	past.board = past_seats;
	past.nboard = 4;
	past.version = 1;
	memcpy(revoked[0].key, keys[RETIRED_BOARD], KR_FPR_LEN);
	revoked[0].reason = KR_REVOKE_RETIRED;
	memcpy(revoked[1].key, keys[RETIRED_TOWN], KR_FPR_LEN);
	revoked[1].reason = KR_REVOKE_RETIRED;
	memcpy(revoked[2].key, keys[COMPROMISED], KR_FPR_LEN);
	revoked[2].reason = KR_REVOKE_COMPROMISED;
	memcpy(revoked[3].key, keys[ROTATED_OLD], KR_FPR_LEN);
	revoked[3].reason = KR_REVOKE_RETIRED;
	memcpy(revoked[3].replaced_by, keys[SEAT3], KR_FPR_LEN);
	revoked[3].has_replacement = 1;
	cur.revoked = revoked;
	cur.nrevoked = 4;
	return 0;
}

static int
standing(int who, uint8_t canon[KR_FPR_LEN])
{
	return kr_board_standing(&cur, pasts, 1, keys[who], canon);
}

static void
test_standing(void **state)
{
	uint8_t canon[KR_FPR_LEN];

	(void)state;
	assert_int_equal(standing(SEAT1, canon), KR_BOARD_SEAT);
	assert_memory_equal(canon, keys[SEAT1], KR_FPR_LEN);
	assert_int_equal(standing(OUTSIDER, canon), KR_BOARD_OUTSIDE);
	assert_int_equal(standing(COMPROMISED, canon), KR_BOARD_COMPROMISED);
	assert_int_equal(standing(RETIRED_BOARD, canon), KR_BOARD_RETIRED);
	/* retired, but never on the board: a town's old key is no board key */
	assert_int_equal(standing(RETIRED_TOWN, canon), KR_BOARD_OUTSIDE);
	/* rotated away: counts as the key that replaced it */
	assert_int_equal(standing(ROTATED_OLD, canon), KR_BOARD_SEAT);
	assert_memory_equal(canon, keys[SEAT3], KR_FPR_LEN);
	/* without the past versions a retired key cannot be told from a town's */
	assert_int_equal(kr_board_standing(&cur, NULL, 0, keys[RETIRED_BOARD], canon), KR_BOARD_OUTSIDE);
}

static kr_board_vote
vote(int who, const char *verdict, const char *order)
{
	kr_board_vote v = { 0 };

	v.standing = kr_board_standing(&cur, pasts, 1, keys[who], v.canon);
	v.verdict = verdict;
	v.order = order;
	return v;
}

static void
test_one_is_not_enough_two_are(void **state)
{
	kr_board_vote v[2] = { vote(SEAT1, "推奨", "a"), vote(SEAT2, "推奨", "b") };
	kr_board_verdict vd;

	(void)state;
	kr_board_tally(v, 1, 2, &vd);
	assert_false(vd.endorsed);
	assert_null(vd.verdict);
	assert_int_equal(vd.positive, 1);
	kr_board_tally(v, 2, 2, &vd);
	assert_true(vd.endorsed);
	assert_string_equal(vd.verdict, "推奨");
	assert_true(v[0].counted && v[1].counted);
}

static void
test_one_key_counts_once(void **state)
{
	kr_board_vote v[3] = { vote(SEAT1, "推奨", "2024-01-01"), vote(SEAT1, "推奨", "2024-02-01"),
		vote(SEAT1, "推奨", "2024-02-01") };
	kr_board_verdict vd;

	(void)state;
	kr_board_tally(v, 3, 2, &vd);
	assert_false(vd.endorsed);
	assert_int_equal(vd.positive, 1);
	assert_true(v[0].replaced);     /* older */
	assert_true(v[1].replaced);     /* a tie: the later in the list wins */
	assert_false(v[2].replaced);
	assert_true(v[2].counted);
	/* the later endorsement replaces: a key that turned to 注意 no longer recommends */
	v[2].verdict = "注意";
	kr_board_tally(v, 3, 1, &vd);
	assert_int_equal(vd.positive, 0);
	assert_int_equal(vd.caution, 1);
	assert_string_equal(vd.verdict, "注意");
}

static void
test_rotated_member_counts_once(void **state)
{
	kr_board_vote v[2] = { vote(ROTATED_OLD, "推奨", "a"), vote(SEAT3, "推奨", "b") };
	kr_board_verdict vd;

	(void)state;
	kr_board_tally(v, 2, 2, &vd);
	assert_int_equal(vd.positive, 1);
	assert_false(vd.endorsed);
}

static void
test_who_counts(void **state)
{
	kr_board_vote v[4] = { vote(COMPROMISED, "推奨", "a"), vote(OUTSIDER, "推奨", "a"),
		vote(RETIRED_TOWN, "推奨", "a"), vote(SEAT1, "推奨", "a") };
	kr_board_vote w[2] = { vote(RETIRED_BOARD, "推奨", "a"), vote(SEAT2, "条件付き推奨", "a") };
	kr_board_verdict vd;

	(void)state;
	kr_board_tally(v, 4, 2, &vd);
	assert_false(vd.endorsed);
	assert_int_equal(vd.positive, 1);
	assert_false(v[0].counted || v[1].counted || v[2].counted);
	/* a retired board member's endorsement counts; one condition makes the verdict conditional */
	kr_board_tally(w, 2, 2, &vd);
	assert_true(vd.endorsed);
	assert_string_equal(vd.verdict, "条件付き推奨");
	/* no federation: threshold 0 endorses nothing */
	kr_board_tally(w, 2, 0, &vd);
	assert_false(vd.endorsed);
}

static void
test_expired_does_not_count(void **state)
{
	kr_board_vote v[3] = { vote(SEAT1, "推奨", "2024-01-01"), vote(SEAT2, "推奨", "2024-01-01"),
		vote(SEAT1, "推奨", "2024-03-01") };
	kr_board_verdict vd;

	(void)state;
	kr_board_tally(v, 2, 2, &vd);
	assert_true(vd.endorsed);
	/* past its review_by (期限切れ): shown, not counted */
	v[1].expired = 1;
	kr_board_tally(v, 2, 2, &vd);
	assert_false(vd.endorsed);
	assert_int_equal(vd.positive, 1);
	assert_false(v[1].counted);
	/* a member's later, expired endorsement replaces the earlier one: it no longer counts */
	v[1].expired = 0;
	v[2].expired = 1;
	kr_board_tally(v, 3, 2, &vd);
	assert_true(v[0].replaced);
	assert_false(v[2].counted);
	assert_int_equal(vd.positive, 1);
	assert_false(vd.endorsed);
}

static void
test_consult_state(void **state)
{
	(void)state;
	assert_string_equal(kr_consult_state("受付", 0, 0, 0), "受付");
	assert_string_equal(kr_consult_state("受付", 1, 0, 0), "回答済");
	assert_string_equal(kr_consult_state("受付", 1, 1, 0), "解決");
	assert_string_equal(kr_consult_state("解決", 0, 0, 0), "解決");
	assert_string_equal(kr_consult_state("取下げ", 3, 1, 0), "取下げ");
	assert_string_equal(kr_consult_state("重複", 1, 0, 0), "重複");
	assert_string_equal(kr_consult_state(NULL, 0, 0, 0), "受付");
	/* idle for KR_CONSULT_IDLE_DAYS: open ones lapse, settled ones stand */
	assert_string_equal(kr_consult_state("受付", 0, 0, 1), "期限切れ");
	assert_string_equal(kr_consult_state("受付", 2, 0, 1), "期限切れ");
	assert_string_equal(kr_consult_state("受付", 1, 1, 1), "解決");
	assert_string_equal(kr_consult_state("解決", 0, 0, 1), "解決");
	assert_string_equal(kr_consult_state("取下げ", 0, 0, 1), "取下げ");
}

/* ---- the kinds' fields (policies/board.c through kr_item_check) ---------- */

#define ENVELOPE(kind, slug) "---\nkind: " kind "\nid: 372013/" kind "/" slug "\ntitle: テスト\n" \
	"publisher: {lg_code: \"372013\", name: 高松市}\nversion: 1.0.0\npublished: 2024-06-01\n" \
	"updated: 2024-06-01\nlicense: PDL-1.0\nconfidentiality: 機密性1\n"
#define BLOB "0123456789abcdef0123456789abcdef01234567"

/* The rules of the blocking findings of text, space-separated ("" when it passes). */
static char *
rules_of(const char *text)
{
	kr_policy pol = { .lg_code = "372013" };
	kr_findings f = { 0 };
	kr_item it;
	kr_buf b = KR_BUF_INIT;

	kr_item_check(&it, &pol, "x.md", text, strlen(text), NULL, &f);
	for (size_t i = 0; i < f.n; i++)
		if (f.v[i].block)
			kr_buf_addf(&b, "%s%s", b.len ? " " : "", f.v[i].rule);
	kr_item_clear(&it);
	kr_findings_clear(&f);
	return b.len ? kr_buf_detach(&b) : kr_strdup("");
}

static void
expect(const char *text, const char *want)
{
	char *got = rules_of(text);

	assert_string_equal(got, want);
	free(got);
}

static void
test_kinds(void **state)
{
	(void)state;
	expect(ENVELOPE("endorsement", "e1") "target: {id: 372081/guideline/g, version: 1.0.0, blob: " BLOB "}\n"
	    "verdict: 推奨\nreview_by: 2027-03-31\n---\n推奨します。\n", "");
	expect(ENVELOPE("endorsement", "e2") "target: {id: 372081/guideline/g, version: 1.0.0}\n"
	    "verdict: 条件付き推奨\nreview_by: 2027-02-30\n---\nx\n", "target.blob conditions review_by");
	expect(ENVELOPE("endorsement", "e3") "target: {id: 372081/guideline/g, version: 1.0.0, blob: " BLOB "}\n"
	    "verdict: おすすめ\nreview_by: 2027-03-31\n---\nx\n", "verdict");
	expect(ENVELOPE("consultation", "c1") "domains: [住民問合せ対応]\nasked_by: {department: 環境課}\n"
	    "state: 受付\n---\n質問です。\n", "");
	expect(ENVELOPE("consultation", "c2") "domains: [住民問合せ対応]\nasked_by: {department: 環境課, name: 山田}\n"
	    "state: 解決\n---\n\n", "question asked_by accepted_answer");
	expect(ENVELOPE("consultation", "c3") "asked_by: {department: 環境課}\nstate: 重複\n---\n質問\n",
	    "domains duplicate_of");
	expect(ENVELOPE("answer", "a1") "consultation: 372081/consultation/c1\nreview_by: 2027-03-31\n---\n回答\n", "");
	expect(ENVELOPE("answer", "a2") "consultation: 372081/case/c1\n---\n\n", "consultation answer review_by");
	expect(ENVELOPE("answer", "a3") "consultation: 372081/consultation/c1\naccepted_answer: 372013/answer/a1\n---\n\n", "");
	expect(ENVELOPE("adoption", "d1") "target: {id: 372081/case/x, version: 1.0.0}\nstatus: 採用\n"
	    "metrics: [{name: 削減時間, achieved: 120}]\n---\n報告\n", "");
	expect(ENVELOPE("adoption", "d2") "target: {id: 372081/case/x, version: 1.0.0}\nstatus: 不採用\n"
	    "metrics: [{name: 削減時間, achieved: 多い}]\n---\n報告\n", "note metrics");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_standing),
		cmocka_unit_test(test_one_is_not_enough_two_are),
		cmocka_unit_test(test_one_key_counts_once),
		cmocka_unit_test(test_rotated_member_counts_once),
		cmocka_unit_test(test_who_counts),
		cmocka_unit_test(test_expired_does_not_count),
		cmocka_unit_test(test_consult_state),
		cmocka_unit_test(test_kinds),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
