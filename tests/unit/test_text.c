/* tests/unit/test_text.c - normalisation and bigram segmentation, with real Japanese */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include <utf8proc.h>

#include "../../sharing/text.h"

/* Tokens rendered as "tok@start-end" with "+" marking colocated ones, space separated. */
static int
collect(void *ctx, int colocated, const char *tok, int len, int start, int end)
{
	kr_buf *b = ctx;

	if (len == 1 && tok[0] == '\x1f')
		kr_buf_addf(b, "%s_@%d-%d", b->len ? " " : "", start, end); /* a separator gap */
	else
		kr_buf_addf(b, "%s%s%.*s@%d-%d", b->len ? " " : "", colocated ? "+" : "", len, tok, start, end);
	return 0;
}

static void
expect(const char *text, int mode, const char *want)
{
	kr_buf b = KR_BUF_INIT;

	kr_text_tokenize(text, (int)strlen(text), mode, collect, &b);
	if (strcmp(b.ptr, want) != 0)
		fprintf(stderr, "text %s mode %d\n got  %s\n want %s\n", text, mode, b.ptr, want);
	assert_string_equal(b.ptr, want);
	kr_buf_release(&b);
}

static void
test_document_bigrams_with_colocated_unigrams(void **state)
{
	(void)state;
	/* ご(0-3) み(3-6) 出(6-9) し(9-12) */
	expect("ごみ出し", KR_TEXT_DOCUMENT,
	    "ごみ@0-6 +ご@0-3 み出@3-9 +み@3-6 出し@6-12 +出@6-9 し@9-12");
	expect("ごみ", KR_TEXT_DOCUMENT, "ごみ@0-6 +ご@0-3 み@3-6");
	expect("市", KR_TEXT_DOCUMENT, "市@0-3");
}

static void
test_katakana_folds_to_hiragana(void **state)
{
	(void)state;
	expect("ゴミ", KR_TEXT_DOCUMENT, "ごみ@0-6 +ご@0-3 み@3-6");
	/* half-width katakana with a voiced mark composes: ｶﾞ -> が */
	expect("ｶﾞｲﾄﾞ", KR_TEXT_QUERY, "がい@0-9 いど@6-15");
}

static void
test_width_and_case(void **state)
{
	(void)state;
	expect("ＡＩ", KR_TEXT_DOCUMENT, "ai@0-6");
	expect("AI", KR_TEXT_DOCUMENT, "ai@0-2");
	expect("ChatGPT 2024年", KR_TEXT_DOCUMENT, "chatgpt@0-7 _@7-8 2024@8-12 年@12-15");
	expect("９４．１％", KR_TEXT_DOCUMENT, "94@0-6 _@6-9 1@9-12");
}

static void
test_query_forms(void **state)
{
	(void)state;
	expect("ご", KR_TEXT_QUERY, "ご@0-3");
	expect("ごみ", KR_TEXT_QUERY, "ごみ@0-6");
	expect("ごみ出し", KR_TEXT_QUERY, "ごみ@0-6 み出@3-9 出し@6-12");
	/* the phrase goes on after a run: its last character keeps its position */
	expect("出しAI", KR_TEXT_QUERY, "出し@0-6 し@3-6 ai@6-8");
	expect("AIし", KR_TEXT_QUERY, "ai@0-2 し@2-5");
	expect("ごみ、出し", KR_TEXT_QUERY, "ごみ@0-6 み@3-6 _@6-9 出し@9-15");
	/* separators take one position, so adjacency is exact */
	expect("AI に", KR_TEXT_QUERY, "ai@0-2 _@2-3 に@3-6");
	expect("  ごみ。 ", KR_TEXT_QUERY, "ごみ@2-8");
	expect("、。", KR_TEXT_QUERY, "");
}

static void
test_one_cluster_many_characters(void **state)
{
	(void)state;
	/* ㍿ (one character) normalises to 株式会社: every token spans it */
	expect("㍿", KR_TEXT_QUERY, "株式@0-3 式会@0-3 会社@0-3");
}

static void
test_normalize(void **state)
{
	kr_buf b = KR_BUF_INIT;
	const char *s = "Ｃｈａｔ ＧＰＴとチャットボット";

	(void)state;
	kr_text_normalize(&b, s, strlen(s));
	assert_string_equal(b.ptr, "chat gptとちゃっとぼっと");
	kr_buf_release(&b);
}

static void
test_invalid_utf8_is_a_separator(void **state)
{
	(void)state;
	expect("ご\xffみ", KR_TEXT_DOCUMENT, "ご@0-3 _@3-4 み@4-7");
}

/*
 * The fast path for common Japanese characters (no utf8proc call) gives
 * what utf8proc's NFKC + case folding gives, then kana folding: every code
 * point from U+3000 to U+9FFF, alone and before a combining voiced mark.
 */
static void
test_fast_path_equals_utf8proc(void **state)
{
	(void)state;
	for (int32_t cp = 0x3000; cp <= 0x9FFF; cp++) {
		for (int mark = 0; mark < 2; mark++) {
			utf8proc_uint8_t in[16];
			utf8proc_int32_t cps[32];
			utf8proc_ssize_t l = utf8proc_encode_char(cp, in), n;
			kr_buf got = KR_BUF_INIT, want = KR_BUF_INIT;
			if (cp >= 0xD800 && cp <= 0xDFFF)
				continue;
			if (mark)
				l += utf8proc_encode_char(0x3099, in + l);
			n = utf8proc_decompose(in, l, cps, 32, (utf8proc_option_t)(UTF8PROC_STABLE | UTF8PROC_COMPAT |
			    UTF8PROC_CASEFOLD | UTF8PROC_DECOMPOSE));
			assert_true(n > 0);
			n = utf8proc_normalize_utf32(cps, n, (utf8proc_option_t)(UTF8PROC_STABLE | UTF8PROC_COMPAT |
			    UTF8PROC_CASEFOLD | UTF8PROC_COMPOSE));
			for (utf8proc_ssize_t i = 0; i < n; i++) {
				utf8proc_uint8_t u[4];
				int32_t c = cps[i];
				if ((c >= 0x30A1 && c <= 0x30F6) || c == 0x30FD || c == 0x30FE)
					c -= 0x60;
				kr_buf_add(&want, u, (size_t)utf8proc_encode_char(c, u));
			}
			kr_text_normalize(&got, (const char *)in, (size_t)l);
			if (got.len != want.len || memcmp(got.ptr, want.ptr, got.len) != 0)
				fail_msg("U+%04X%s: got %s, want %s", (unsigned)cp, mark ? " U+3099" : "", got.ptr, want.ptr);
			kr_buf_release(&got);
			kr_buf_release(&want);
		}
	}
}

/*
 * The decoder in front of utf8proc (kr_text_decode) says what
 * utf8proc_iterate says, for every 1-, 2- and 3-byte input and every
 * shorter one: same length or same refusal, same code point.
 */
static void
test_decoder_equals_utf8proc_iterate(void **state)
{
	(void)state;
	for (int avail = 1; avail <= 3; avail++)
		for (unsigned v = 0; v < 1u << (8 * avail); v++) {
			/* bytes past avail are continuation bytes: a decoder reading them would go wrong */
			unsigned char in[4] = { 0x80, 0x80, 0x80, 0x80 };
			utf8proc_int32_t want = -1;
			int32_t got = -1;
			utf8proc_ssize_t w;
			int g;
			for (int i = 0; i < avail; i++)
				in[i] = (unsigned char)(v >> (8 * (avail - 1 - i)));
			w = utf8proc_iterate(in, avail, &want);
			g = kr_text_decode((const char *)in, avail, &got);
			if (w < 0 ? g >= 0 : g != (int)w || got != want)
				fail_msg("%02X %02X %02X (%d bytes): got %d U+%04X, want %d U+%04X", in[0], in[1], in[2],
				    avail, g, (unsigned)got, (int)w, (unsigned)want);
		}
}

/*
 * kr_text_normalize by the book: clusters (a character and the combining
 * marks after it, at most 24), each through utf8proc's NFKC + case
 * folding, then katakana folded to hiragana; an invalid byte is a space.
 */
static int
ref_combining(int32_t cp)
{
	utf8proc_category_t c = utf8proc_category(cp);

	return c == UTF8PROC_CATEGORY_MN || c == UTF8PROC_CATEGORY_MC || c == UTF8PROC_CATEGORY_ME ||
	    cp == 0xFF9E || cp == 0xFF9F;
}

static void
ref_normalize(kr_buf *out, const unsigned char *s, utf8proc_ssize_t len)
{
	utf8proc_ssize_t pos = 0;

	while (pos < len) {
		utf8proc_int32_t cp, cps[32];
		utf8proc_ssize_t n = utf8proc_iterate(s + pos, len - pos, &cp), end;
		if (n <= 0) {
			kr_buf_addch(out, ' ');
			pos++;
			continue;
		}
		end = pos + n;
		for (int k = 0; k < 24 && end < len; k++) {
			utf8proc_int32_t nx;
			utf8proc_ssize_t m = utf8proc_iterate(s + end, len - end, &nx);
			if (m <= 0 || !ref_combining(nx))
				break;
			end += m;
		}
		n = utf8proc_decompose(s + pos, end - pos, cps, 32, (utf8proc_option_t)(UTF8PROC_STABLE |
		    UTF8PROC_COMPAT | UTF8PROC_CASEFOLD | UTF8PROC_DECOMPOSE));
		n = n < 0 || n > 32 ? 0 : utf8proc_normalize_utf32(cps, n, (utf8proc_option_t)(UTF8PROC_STABLE |
		    UTF8PROC_COMPAT | UTF8PROC_CASEFOLD | UTF8PROC_COMPOSE));
		for (utf8proc_ssize_t i = 0; i < n; i++) {
			utf8proc_uint8_t u[4];
			int32_t c = cps[i];
			if ((c >= 0x30A1 && c <= 0x30F6) || c == 0x30FD || c == 0x30FE)
				c -= 0x60;
			kr_buf_add(out, u, (size_t)utf8proc_encode_char(c, u));
		}
		pos = end;
	}
}

/*
 * kr_text_normalize (its copy-through path for ASCII and common Japanese
 * characters, s_next for the rest) equals the reference on random text
 * mixing both with what must not take the short path: combining marks
 * after ASCII and after kanji, half-width kana with voiced marks,
 * full-width letters, precomposed and 4-byte characters, invalid and
 * truncated UTF-8, line ends.
 */
static void
test_normalize_equals_reference(void **state)
{
	static const char *const parts[] = {
		"a", "Z", "7", " ", "-", "@", "\n", "\r\n", "\r", "住", "民", "々", "、", "。", "「", "カ", "ガ", "ヴ", "ヷ", "ー",
		"ｶ", "ﾞ", "ﾟ", "ﾊ", "\xe3\x82\x99", "\xcc\x81", "\xcc\xa3", "é", "Ａ", "１", "①", "Ⅻ", "ẞ", "ǅ",
		"\xf0\xa0\xae\xb7", "\xff", "\xe3", "\xe3\x81", "\xed\xa0\x80", "\xc0\xaf", "\xe2\x80\x90", "㈱", "ﬁ", "\x00",
	};
	const size_t np = sizeof(parts) / sizeof(parts[0]);
	unsigned seed = 12345;

	(void)state;
	for (int round = 0; round < 200000; round++) {
		kr_buf in = KR_BUF_INIT, got = KR_BUF_INIT, want = KR_BUF_INIT;
		int k = 1 + round % 12;
		for (int i = 0; i < k; i++) {
			const char *p;
			seed = seed * 1103515245u + 12345u;
			p = parts[(seed >> 16) % np];
			kr_buf_add(&in, p, p[0] ? strlen(p) : 1);
		}
		kr_text_normalize(&got, in.ptr, in.len);
		ref_normalize(&want, (const unsigned char *)in.ptr, (utf8proc_ssize_t)in.len);
		if (got.len != want.len || memcmp(got.ptr, want.ptr, got.len) != 0) {
			kr_buf hex = KR_BUF_INIT;
			for (size_t i = 0; i < in.len; i++)
				kr_buf_addf(&hex, "%02X", (unsigned char)in.ptr[i]);
			fail_msg("input %s: got %zu bytes, want %zu", hex.ptr, got.len, want.len);
		}
		kr_buf_release(&in);
		kr_buf_release(&got);
		kr_buf_release(&want);
	}
}

/*
 * ASCII classes without utf8proc: a character is part of a word exactly
 * when utf8proc calls it a letter, a digit or a mark ("x?y" is one token
 * then, else two and the gap between them).
 */
static void
test_ascii_classes_equal_utf8proc(void **state)
{
	(void)state;
	for (int c = 1; c < 0x80; c++) {
		utf8proc_category_t cat = utf8proc_category(c);
		int word = (cat >= UTF8PROC_CATEGORY_LU && cat <= UTF8PROC_CATEGORY_LO) ||
		    (cat >= UTF8PROC_CATEGORY_ND && cat <= UTF8PROC_CATEGORY_NO) ||
		    (cat >= UTF8PROC_CATEGORY_MN && cat <= UTF8PROC_CATEGORY_ME);
		char s[4] = { 'x', (char)c, 'y', 0 };
		if (kr_text_count(s, 3, KR_TEXT_DOCUMENT) != (word ? 1 : 3))
			fail_msg("0x%02X: %d tokens, utf8proc says %s", c, kr_text_count(s, 3, KR_TEXT_DOCUMENT),
			    word ? "word" : "separator");
	}
}

/* The encoder gives utf8proc_encode_char's bytes for every value around the code space. */
static void
test_encoder_equals_utf8proc(void **state)
{
	(void)state;
	for (int32_t cp = -2; cp <= 0x110001; cp++) {
		utf8proc_uint8_t want[8] = { 0 };
		char got[8] = { 0 };
		utf8proc_ssize_t w = utf8proc_encode_char(cp, want);
		int g = kr_text_encode(got, cp);
		if (g != (int)w || memcmp(got, want, (size_t)(w > 0 ? w : 0)) != 0)
			fail_msg("U+%04X: %d bytes, want %d", (unsigned)cp, g, (int)w);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_document_bigrams_with_colocated_unigrams),
		cmocka_unit_test(test_katakana_folds_to_hiragana),
		cmocka_unit_test(test_width_and_case),
		cmocka_unit_test(test_query_forms),
		cmocka_unit_test(test_one_cluster_many_characters),
		cmocka_unit_test(test_normalize),
		cmocka_unit_test(test_invalid_utf8_is_a_separator),
		cmocka_unit_test(test_fast_path_equals_utf8proc),
		cmocka_unit_test(test_decoder_equals_utf8proc_iterate),
		cmocka_unit_test(test_normalize_equals_reference),
		cmocka_unit_test(test_ascii_classes_equal_utf8proc),
		cmocka_unit_test(test_encoder_equals_utf8proc),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
