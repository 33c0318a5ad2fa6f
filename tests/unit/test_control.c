/* tests/unit/test_control.c - a publish handed over the control socket (node/control.c) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../../node/control.h"

static const char s_body[] = "---\nkind: case\nid: 372081/case/gomi\ntitle: ごみ分別の問合せ\n---\n本文\n";
static const unsigned char s_bin[] = { 0, 1, 2, 0xff, 0, '\n' };

static void
s_encode(kr_buf *b)
{
	kr_pubfile f[3] = {
		{ "cases", "cases/gomi.md", s_body, sizeof(s_body) - 1 },
		{ "datasets", "datasets/qa/data/qa.jsonl", s_bin, sizeof(s_bin) },
		{ "datasets", "datasets/qa/data/empty.csv", "", 0 },
	};
	kr_control_pub_encode(b, f, 3, "publish: 1 item(s)\n\n372081/case/gomi 1.0.0\n", "ja_JP.UTF-8");
}

/* What is encoded is decoded as it was, binary data and empty files included. */
static void
test_round_trip(void **state)
{
	kr_buf b = KR_BUF_INIT;
	kr_control_pub p;

	(void)state;
	s_encode(&b);
	assert_int_equal(kr_control_pub_decode(&p, b.ptr, b.len), 0);
	assert_int_equal(p.n, 3);
	assert_string_equal(p.message, "publish: 1 item(s)\n\n372081/case/gomi 1.0.0\n");
	assert_string_equal(p.locale, "ja_JP.UTF-8");
	assert_string_equal(p.files[0].collection, "cases");
	assert_string_equal(p.files[0].path, "cases/gomi.md");
	assert_int_equal(p.files[0].len, sizeof(s_body) - 1);
	assert_memory_equal(p.files[0].data, s_body, sizeof(s_body) - 1);
	assert_string_equal(p.files[1].path, "datasets/qa/data/qa.jsonl");
	assert_int_equal(p.files[1].len, sizeof(s_bin));
	assert_memory_equal(p.files[1].data, s_bin, sizeof(s_bin));
	assert_int_equal(p.files[2].len, 0);
	kr_control_pub_clear(&p);
	kr_buf_release(&b);
}

/* Every prefix of a payload, and one byte more, is refused whole. */
static void
test_truncated_and_trailing(void **state)
{
	kr_buf b = KR_BUF_INIT;
	kr_control_pub p;

	(void)state;
	s_encode(&b);
	for (size_t len = 0; len < b.len; len++) {
		assert_int_equal(kr_control_pub_decode(&p, b.ptr, len), KR_EPROTO);
		assert_null(p.files);
		assert_null(p.message);
	}
	kr_buf_addch(&b, 'x');
	assert_int_equal(kr_control_pub_decode(&p, b.ptr, b.len), KR_EPROTO);
	kr_error_clear();
	kr_buf_release(&b);
}

/* A NUL in a name, an empty name, no files, or a count beyond what the bytes can hold: refused. */
static void
test_malformed(void **state)
{
	kr_control_pub p;
	kr_buf b = KR_BUF_INIT;
	kr_pubfile nul = { "cases", "cases/ab.md", "x", 1 };
	static const unsigned char lie[] = { 0, 0, 0, 0, 0, 0, 0, 1, 'm', 0x7f, 0xff, 0xff, 0xff };

	(void)state;
	kr_control_pub_encode(&b, &nul, 1, "m", NULL);
	/* a NUL inside the name, its length unchanged */
	{
		unsigned char *q = memmem(b.ptr, b.len, "cases/ab.md", 11);
		assert_non_null(q);
		q[7] = '\0';
	}
	assert_int_equal(kr_control_pub_decode(&p, b.ptr, b.len), KR_EPROTO);
	b.len = 0;
	kr_pubfile empty = { "cases", "", "x", 1 };
	kr_control_pub_encode(&b, &empty, 1, "m", NULL);
	assert_int_equal(kr_control_pub_decode(&p, b.ptr, b.len), KR_EPROTO);
	b.len = 0;
	kr_control_pub_encode(&b, NULL, 0, "m", NULL);
	assert_int_equal(kr_control_pub_decode(&p, b.ptr, b.len), KR_EPROTO);
	b.len = 0;
	kr_pubfile one = { "cases", "cases/a.md", "x", 1 };
	kr_control_pub_encode(&b, &one, 1, "m", "ja_JP.UTF-8; rm -rf /");         /* not a locale's name */
	assert_int_equal(kr_control_pub_decode(&p, b.ptr, b.len), KR_EPROTO);
	assert_int_equal(kr_control_pub_decode(&p, lie, sizeof(lie)), KR_EPROTO);
	kr_error_clear();
	kr_buf_release(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_truncated_and_trailing),
		cmocka_unit_test(test_malformed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
