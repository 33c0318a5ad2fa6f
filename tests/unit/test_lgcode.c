/* tests/unit/test_lgcode.c - 全国地方公共団体コード check digits (FACTS.md table) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "../../policies/item.h"

static const char *const valid[] = {
	"102016", "100005", "372081", "370002", "142018", "141500", "130001", "131083",
	"131229", "131016", "132098", "131032", "024121", "082201", "352136", "281000",
	"111007", "112241", "222216", "442020", "422126", "062081", "310000", "232114",
};

static void
test_valid_codes(void **state)
{
	char right[7];

	(void)state;
	for (size_t i = 0; i < sizeof(valid) / sizeof(valid[0]); i++)
		assert_int_equal(kr_lgcode_check(valid[i], right), 0);
}

static void
test_wrong_digit_names_right_one(void **state)
{
	char right[7];

	(void)state;
	assert_int_equal(kr_lgcode_check("142017", right), KR_EPOLICY);
	assert_string_equal(right, "142018");
	assert_non_null(strstr(kr_errmsg(), "did you mean 142018"));
	/* r = 0 gives 1, r = 1 gives 0 */
	assert_int_equal(kr_lgcode_check("024120", right), KR_EPOLICY);
	assert_string_equal(right, "024121");
}

static void
test_malformed(void **state)
{
	char right[7];

	(void)state;
	assert_int_equal(kr_lgcode_check("37208", right), KR_EPOLICY);
	assert_int_equal(kr_lgcode_check("3720811", right), KR_EPOLICY);
	assert_int_equal(kr_lgcode_check("37208a", right), KR_EPOLICY);
	assert_int_equal(kr_lgcode_check("", right), KR_EPOLICY);
	assert_int_equal(kr_lgcode_check("５７２０８１", right), KR_EPOLICY);
	assert_int_equal(kr_lgcode_check("482011", right), KR_EPOLICY); /* prefecture 48 */
	assert_string_equal(right, "");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid_codes),
		cmocka_unit_test(test_wrong_digit_names_right_one),
		cmocka_unit_test(test_malformed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
