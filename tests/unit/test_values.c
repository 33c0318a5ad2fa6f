/* tests/unit/test_values.c - numbers and dates as Japanese offices write them (policies/values.c) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../../policies/item.h"
#include "../../policies/values.h"

static void
s_num(const char *in, const char *want, const char *want_unit)
{
	char *out, *unit;

	if (kr_value_number(in, &out, &unit) != 0)
		fail_msg("'%s' refused: %s", in, kr_errmsg());
	assert_string_equal(out, want);
	assert_string_equal(unit, want_unit);
	free(out);
	free(unit);
}

static void
s_num_bad(const char *in, const char *why)
{
	char *out, *unit;

	assert_int_equal(kr_value_number(in, &out, &unit), KR_EUSAGE);
	assert_null(out);
	assert_null(unit);
	if (!strstr(kr_errmsg(), why))
		fail_msg("'%s': message '%s' does not say '%s'", in, kr_errmsg(), why);
}

static void
test_numbers(void **state)
{
	(void)state;
	s_num("62,000", "62000", "");
	s_num("1,200時間", "1200", "時間");
	s_num("35%", "35", "%");
	s_num("３５％", "35", "%");
	s_num("６２，０００人", "62000", "人");
	s_num(" 94.1 ", "94.1", "");
	s_num("1,234,567.25円", "1234567.25", "円");
	s_num("▲3", "-3", "");
	s_num("−12", "-12", "");
	s_num("0", "0", "");
	s_num("007", "7", "");
	s_num("-0", "0", "");
	s_num("12 件", "12", "件");
	/* Excel's currency cells: ¥, ￥, and the backslash CP932 maps the yen mark to */
	s_num("¥1,000", "1000", "円");
	s_num("￥１，０００", "1000", "円");
	s_num("\\62,000", "62000", "円");
	s_num("-¥1,000", "-1000", "円");
	s_num("¥-1,000", "-1000", "円");
	s_num("▲¥500", "-500", "円");
}

static void
test_numbers_refused(void **state)
{
	(void)state;
	s_num_bad("", "no digits");
	s_num_bad("約100", "no digits");
	s_num_bad("1,20", "thousands separator");
	s_num_bad("1234,000", "thousands separator");
	s_num_bad("1,2345", "thousands separator");
	s_num_bad("3,5", "thousands separator");
	s_num_bad("62.", "after the decimal point");
	s_num_bad("1.5万", "not a unit");
	s_num_bad("100程度", "not a unit");
	s_num_bad("1.000,5", "after the decimal point");
}

static void
s_date(const char *in, const char *want)
{
	char out[11];

	if (kr_value_date(in, out) != 0)
		fail_msg("'%s' refused: %s", in, kr_errmsg());
	assert_string_equal(out, want);
}

static void
s_date_bad(const char *in, const char *why)
{
	char out[11];

	assert_int_equal(kr_value_date(in, out), KR_EUSAGE);
	assert_string_equal(out, "");
	if (!strstr(kr_errmsg(), why))
		fail_msg("'%s': message '%s' does not say '%s'", in, kr_errmsg(), why);
}

static void
test_dates(void **state)
{
	(void)state;
	s_date("2024-06-01", "2024-06-01");
	/* a day of the week that matches, and a date cell saved with its (midnight) time */
	s_date("令和6年6月1日(土)", "2024-06-01");
	s_date("令和６年６月１日（土）", "2024-06-01");
	s_date("2024年6月1日 土曜日", "2024-06-01");
	s_date("2024/6/1 (土曜)", "2024-06-01");
	s_date("2024/6/1 0:00", "2024-06-01");
	s_date("2024/6/1(土) 00:00:00", "2024-06-01");
	s_date("2024-06-01T00:00:00", "2024-06-01");
	s_date("2024/6/1", "2024-06-01");
	s_date("2024.6.1", "2024-06-01");
	s_date("2024年6月1日", "2024-06-01");
	s_date("2024年 6月 1日", "2024-06-01");
	s_date("２０２４／６／１", "2024-06-01");
	s_date("２０２４年６月１日", "2024-06-01");
	s_date("令和6年6月1日", "2024-06-01");
	s_date("令和６年６月１日", "2024-06-01");
	s_date("令和元年5月1日", "2019-05-01");
	s_date("平成31年4月30日", "2019-04-30");
	s_date("平成元年1月8日", "1989-01-08");
	s_date("昭和64年1月7日", "1989-01-07");
	s_date("R6.6.1", "2024-06-01");
	s_date("r6.6.1", "2024-06-01");
	s_date("Ｒ６．６．１", "2024-06-01");
	s_date("H30/4/1", "2018-04-01");
	s_date("R06.06.01", "2024-06-01");
	s_date("2024/2/29", "2024-02-29");
	s_date("大正15年12月24日", "1926-12-24");
	s_date("明治45年7月29日", "1912-07-29");
}

static void
test_dates_refused(void **state)
{
	(void)state;
	s_date_bad("2023/2/29", "not a day of the calendar");
	s_date_bad("2024/6/1(日)", "is a 土曜日, not 日曜日");
	s_date_bad("2024/6/1 10:00", "has a time of day (10:00:00)");
	s_date_bad("2024/6/1 0:00:01", "has a time of day (00:00:01)");
	s_date_bad("2024/6/1 土", "not a date kairan can read");
	s_date_bad("2024/13/1", "not a day of the calendar");
	s_date_bad("2024/6/31", "not a day of the calendar");
	s_date_bad("平成31年5月1日", "that day is in the next era");
	s_date_bad("令和元年4月30日", "令和 runs from 2019-05-01");
	s_date_bad("昭和64年1月8日", "next era");
	s_date_bad("24/6/1", "two-digit year");
	s_date_bad("45444", "Excel serial number");
	s_date_bad("6月1日", "can read exactly");
	s_date_bad("令和年6月1日", "can read exactly");
	s_date_bad("令和0年6月1日", "can read exactly");
	s_date_bad("X6.6.1", "can read exactly");
	s_date_bad("", "can read exactly");
	s_date_bad("1600-01-01", "before 1868");
}

static void
test_halfwidth(void **state)
{
	char *s = kr_value_halfwidth("　ＡＢＣ１２３　髙﨑①　");

	(void)state;
	assert_string_equal(s, "ABC123 髙﨑①");
	free(s);
}

static void
test_prefectures(void **state)
{
	char out[3];
	static const char *const ok[][2] = {
		{ "37", "37" }, { "7", "07" }, { "07", "07" }, { "３７", "37" }, { "香川県", "37" }, { "香川", "37" },
		{ "北海道", "01" }, { "東京都", "13" }, { "東京", "13" }, { "大阪府", "27" }, { "京都", "26" },
		{ "沖縄県", "47" }, { " 香川県 ", "37" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		if (kr_value_pref(ok[i][0], out) != 0)
			fail_msg("'%s' refused: %s", ok[i][0], kr_errmsg());
		assert_string_equal(out, ok[i][1]);
	}
	assert_int_equal(kr_value_pref("48", out), KR_EUSAGE);
	assert_int_equal(kr_value_pref("0", out), KR_EUSAGE);
	assert_int_equal(kr_value_pref("香川件", out), KR_EUSAGE);
	assert_non_null(strstr(kr_errmsg(), "did you mean 香川県 (37)"));
	assert_int_equal(kr_value_pref("Kagawa", out), KR_EUSAGE);
	assert_int_equal(kr_value_pref("", out), KR_EUSAGE);
}

static void
test_vocabulary_suggestions(void **state)
{
	(void)state;
	assert_int_equal(kr_vocab_check("kind", "case"), 0);
	assert_int_equal(kr_vocab_check("domain", "子ども・子育て"), 0);
	assert_int_equal(kr_vocab_check("popband", "5-20万"), 0);
	assert_int_equal(kr_vocab_check("kind", "cases"), KR_EUSAGE);
	assert_non_null(strstr(kr_errmsg(), "did you mean 'case'?"));
	assert_int_equal(kr_vocab_check("domain", "子育て"), KR_EUSAGE);
	assert_non_null(strstr(kr_errmsg(), "did you mean '子ども・子育て'?"));
	assert_int_equal(kr_vocab_check("outcome", "見送った"), KR_EUSAGE);
	assert_non_null(strstr(kr_errmsg(), "did you mean '見送り'?"));
	assert_int_equal(kr_vocab_check("deployment", "zzzzzzzzzz"), KR_EUSAGE);
	assert_null(strstr(kr_errmsg(), "did you mean"));
	assert_non_null(strstr(kr_errmsg(), "allowed: webサービス"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_numbers),
		cmocka_unit_test(test_numbers_refused),
		cmocka_unit_test(test_dates),
		cmocka_unit_test(test_dates_refused),
		cmocka_unit_test(test_halfwidth),
		cmocka_unit_test(test_prefectures),
		cmocka_unit_test(test_vocabulary_suggestions),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
