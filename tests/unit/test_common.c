/* tests/unit/test_common.c - text made safe to print, JSON and CSV cells, kr_mkdir_p, kr_strv_has, zlib streams */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../../sharing/common.h"
#include "../../sharing/zip.h"

static void
safe(const char *in, int mode, const char *want)
{
	kr_buf b = KR_BUF_INIT;

	kr_buf_addsafe(&b, in, strlen(in), mode);
	assert_string_equal(b.ptr, want);
	kr_buf_release(&b);
}

static void
test_controls_are_dropped(void **state)
{
	(void)state;
	safe("題名\x1b[31m赤\x1b[0m", KR_SAFE_LINE, "題名[31m赤[0m");
	safe("\x1b]0;pwned\x07title", KR_SAFE_LINE, "]0;pwnedtitle");
	safe("a\x7f" "b\xc2\x9b" "31mc", KR_SAFE_LINE, "ab31mc");   /* DEL and C1 CSI */
	safe("\xe2\x80\xae" "exe.txt", KR_SAFE_LINE, "exe.txt");  /* U+202E */
	safe("\xe2\x81\xa6x\xe2\x81\xa9\xe2\x80\x8f", KR_SAFE_LINE, "x"); /* U+2066, U+2069, U+200F */
	safe("ＡＩ活用 ごみ", KR_SAFE_LINE, "ＡＩ活用 ごみ");
}

static void
test_lines_and_invalid_utf8(void **state)
{
	(void)state;
	safe("one\ntwo\tthree\r\n", KR_SAFE_LINE, "one two three  ");
	safe("one\r\ntwo\rthree\n\tfour", KR_SAFE_TEXT, "one\r\ntwo\nthree\n\tfour");
	safe("a\xff\xc0\xaf" "b", KR_SAFE_LINE, "a???b");           /* stray byte and an overlong '/' */
	safe("\xed\xa0\x80", KR_SAFE_LINE, "???");                  /* a surrogate */
	safe("\xe3\x81", KR_SAFE_LINE, "??");                       /* cut short */
	{
		char s[] = "x\x1b[2Jy";
		assert_int_equal(kr_safe_inplace(s, strlen(s), KR_SAFE_LINE), 5);
		assert_string_equal(s, "x[2Jy");
	}
}

static void
test_errors_are_one_safe_line(void **state)
{
	(void)state;
	kr_error(KR_EPROTO, "peer said: %s", "bad\n12:00 kairan[info]: forged\x1b[2J");
	assert_string_equal(kr_errmsg(), "peer said: bad 12:00 kairan[info]: forged[2J");
}

static void
test_json_escapes_what_a_terminal_would_obey(void **state)
{
	kr_buf b = KR_BUF_INIT;

	(void)state;
	kr_buf_addjson(&b, "a\x1b[1m\x7f\xc2\x85\xe2\x80\xae\"\\\n\xff" "ご");
	assert_string_equal(b.ptr, "\"a\\u001b[1m\\u007f\\u0085\\u202e\\\"\\\\\\n\\ufffdご\"");
	kr_buf_release(&b);
}

static void
test_csv_cells_cannot_be_formulas(void **state)
{
	static const char *const cases[][2] = {
		{ "=HYPERLINK(\"http://x\",\"y\")", "\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\"" },
		{ "+1", "\"'+1\"" }, { "-2", "\"'-2\"" }, { "@SUM(A1)", "\"'@SUM(A1)\"" },
		{ "\tx", "\"'\tx\"" }, { "\rx", "\"'\rx\"" }, { "＝1", "\"'＝1\"" },
		{ "a=1", "\"a=1\"" }, { "ごみ", "\"ごみ\"" }, { "", "\"\"" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		kr_buf b = KR_BUF_INIT;
		kr_buf_addcsvcell(&b, cases[i][0]);
		assert_string_equal(b.ptr, cases[i][1]);
		kr_buf_release(&b);
	}
}

static void
test_mkdir_p_empty(void **state)
{
	(void)state;
	assert_int_equal(kr_mkdir_p("", 0755), KR_EUSAGE);
}

static void
test_strv_has(void **state)
{
	char cases[] = "cases", prompts[] = "prompts";
	char *v[] = { cases, prompts };

	(void)state;
	assert_true(kr_strv_has(v, 2, "prompts"));
	assert_false(kr_strv_has(v, 2, "prompt"));
	assert_false(kr_strv_has(v, 1, "prompts"));
	assert_false(kr_strv_has(NULL, 0, "cases"));
}

/* kr_unhex and kr_is_hex on every pair of bytes, against sscanf's %x and strchr: either case, nothing else */
static void
test_hex_every_byte_pair(void **state)
{
	static const char digits[] = "0123456789abcdefABCDEF";

	(void)state;
	for (int a = 1; a < 256; a++)
		for (int b = 1; b < 256; b++) {
			char h[3] = { (char)a, (char)b, 0 };
			int ok = strchr(digits, a) && strchr(digits, b);
			uint8_t o = 0;
			unsigned v = 0;
			assert_int_equal(kr_unhex(&o, 1, h) == 0, ok);
			assert_int_equal(kr_is_hex(h, 2), ok);
			if (ok) {
				assert_int_equal(sscanf(h, "%2x", &v), 1);
				assert_int_equal(o, v);
			}
		}
	{
		uint8_t o[2];
		assert_int_equal(kr_unhex(o, 2, "abc"), KR_ERROR);     /* the length is exact */
		assert_int_equal(kr_unhex(o, 1, "abc"), KR_ERROR);
	}
}

/* zip.c's dictionary lookup for the tests: arg is the one dictionary known (a kr_buf), or NULL */
static const void *
s_dict(void *arg, uint32_t id, size_t *len)
{
	const kr_buf *d = arg;

	if (!d || kr_zip_dict_id(d->ptr, d->len) != id)
		return NULL;
	*len = d->len;
	return d->ptr;
}

static void
test_zip_with_a_preset_dictionary(void **state)
{
	kr_buf dict = KR_BUF_INIT, other = KR_BUF_INIT, text = KR_BUF_INIT, plain = KR_BUF_INIT, z = KR_BUF_INIT;
	kr_deflater d = { 0 };
	char *out;

	(void)state;
	for (int i = 0; i < 40; i++)
		kr_buf_addf(&dict, "住民からの問合せに生成AIで回答案を作り、職員が確認した（第%d回）。", i);
	kr_buf_adds(&other, "ごみの分別と収集日の案内をチャットボットで試した。");
	for (int i = 0; i < 12; i++)
		kr_buf_addf(&text, "第%d回：住民からの問合せに生成AIで回答案を作り、職員が確認してから返信した。", i * 7);
	out = malloc(text.len);
	/* without a dictionary, then with one: smaller, and it reads back only with the same bytes */
	assert_int_equal(kr_deflater_add(&d, &plain, text.ptr, text.len, 1), 0);
	assert_int_equal(kr_deflater_add_dict(&d, &z, text.ptr, text.len, 3, dict.ptr, dict.len), 0);
	assert_true(z.len < plain.len);
	assert_int_equal(kr_unzip(out, text.len, plain.ptr, plain.len, NULL, NULL), 0);
	assert_memory_equal(out, text.ptr, text.len);
	memset(out, 0, text.len);
	assert_int_equal(kr_unzip(out, text.len, z.ptr, z.len, s_dict, &dict), 0);
	assert_memory_equal(out, text.ptr, text.len);
	assert_int_equal(kr_unzip(out, text.len, z.ptr, z.len, NULL, NULL), -1);      /* no lookup */
	assert_int_equal(kr_unzip(out, text.len, z.ptr, z.len, s_dict, &other), -1);  /* another dictionary */
	assert_int_equal(kr_unzip(out, text.len, z.ptr, z.len, s_dict, NULL), -1);    /* none known */
	/* the length must be exact, the stream whole, and nothing may follow it */
	assert_int_equal(kr_unzip(out, text.len - 1, z.ptr, z.len, s_dict, &dict), -1);
	assert_int_equal(kr_unzip(out, text.len, z.ptr, z.len - 1, s_dict, &dict), -1);
	kr_buf_addch(&z, 0);
	assert_int_equal(kr_unzip(out, text.len, z.ptr, z.len, s_dict, &dict), -1);
	/* the same state again, with no dictionary: a plain stream as before */
	kr_buf_clear(&z);
	assert_int_equal(kr_deflater_add(&d, &z, text.ptr, text.len, 3), 0);
	assert_int_equal(kr_unzip(out, text.len, z.ptr, z.len, NULL, NULL), 0);
	assert_memory_equal(out, text.ptr, text.len);
	kr_deflater_end(&d);
	free(out);
	kr_buf_release(&dict);
	kr_buf_release(&other);
	kr_buf_release(&text);
	kr_buf_release(&plain);
	kr_buf_release(&z);
}

/* SipHash-2-4's reference vectors (key 00..0f, input 00..len-1), checked with `openssl mac -macopt hexkey:... SIPHASH`. */
static void
test_siphash_reference(void **state)
{
	static const struct { size_t len; uint64_t h; } v[] = {
		{ 0, 0x726fdb47dd0e0e31ULL }, { 1, 0x74f839c593dc67fdULL },
		{ 7, 0xab0200f58b01d137ULL }, { 8, 0x93f5f5799a932462ULL },
		{ 15, 0xa129ca6149be45e5ULL }, { 63, 0x958a324ceb064572ULL },
	};
	uint8_t key[16], in[64];
	(void)state;

	for (int i = 0; i < 16; i++)
		key[i] = (uint8_t)i;
	for (int i = 0; i < 64; i++)
		in[i] = (uint8_t)i;
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		assert_true(kr_siphash(key, in, v[i].len) == v[i].h);
}

/*
 * Ids that share their first 8 bytes (the slot of the store's id sets
 * before kr_hash) spread over a table's slots as random ones would:
 * 65,536 of them in 65,536 slots fill about 1 - 1/e of the slots, and
 * linear probing over twice the slots stays short. Unkeyed, all took one
 * slot, and the probes were quadratic (about 2^31).
 */
static void
test_hash_spreads_ground_ids(void **state)
{
	enum { N = 65536 };
	uint8_t *used = calloc(N, 1);
	uint8_t (*table)[20] = calloc(2 * N, 20), id[20], zero[20] = { 0 };
	size_t filled = 0, probes = 0;
	(void)state;

	memset(id, 0x5a, sizeof(id));
	for (uint32_t i = 0; i < N; i++) {
		uint64_t h;
		memcpy(id + 16, &i, sizeof(i));
		h = kr_hash(id, sizeof(id));
		assert_true(h == kr_hash(id, sizeof(id)));
		filled += !used[h & (N - 1)];
		used[h & (N - 1)] = 1;
		for (size_t k = h & (2 * N - 1);; k = (k + 1) & (2 * N - 1), probes++)
			if (memcmp(table[k], zero, 20) == 0) {
				memcpy(table[k], id, 20);
				break;
			}
	}
	assert_in_range(filled, N * 6 / 10, N * 7 / 10);
	assert_true(probes < 2 * (size_t)N);
	free(used);
	free(table);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_controls_are_dropped),
		cmocka_unit_test(test_lines_and_invalid_utf8),
		cmocka_unit_test(test_errors_are_one_safe_line),
		cmocka_unit_test(test_json_escapes_what_a_terminal_would_obey),
		cmocka_unit_test(test_csv_cells_cannot_be_formulas),
		cmocka_unit_test(test_mkdir_p_empty),
		cmocka_unit_test(test_strv_has),
		cmocka_unit_test(test_hex_every_byte_pair),
		cmocka_unit_test(test_zip_with_a_preset_dictionary),
		cmocka_unit_test(test_siphash_reference),
		cmocka_unit_test(test_hash_spreads_ground_ids),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
