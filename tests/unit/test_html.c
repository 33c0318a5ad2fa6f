/* tests/unit/test_html.c - the escape-by-default builder, cmark with raw HTML off, the diff events */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../../node/html.h"
#include "../../node/markdown.h"
#include "../../node/textdiff.h"

static char *
text_of(const char *in)
{
	kr_html h = KR_HTML_INIT;

	kr_html_text(&h, in);
	return kr_html_detach(&h, NULL);
}

static void
test_text_escapes_markup(void **state)
{
	char *s = text_of("<script>alert('x')</script> & \"q\"");

	(void)state;
	assert_string_equal(s, "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot;");
	free(s);
	s = text_of("三豊市 <b>見送り</b>");
	assert_string_equal(s, "三豊市 &lt;b&gt;見送り&lt;/b&gt;");
	free(s);
}

static void
test_invalid_utf8_and_controls(void **state)
{
	char *s = text_of("a\xff\xfe" "b\xc0\xaf" "c\x01\x1b[31md\n");

	(void)state;
	/* each invalid byte becomes U+FFFD; an overlong '/' too; controls vanish */
	assert_string_equal(s, "a\xEF\xBF\xBD\xEF\xBF\xBD" "b\xEF\xBF\xBD\xEF\xBF\xBD" "c[31md\n");
	free(s);
	assert_int_equal(kr_utf8_valid("ごみ", strlen("ごみ")), 1);
	assert_int_equal(kr_utf8_valid("\xed\xa0\x80", 3), 0);   /* a surrogate */
	assert_int_equal(kr_utf8_valid("\xe3\x81", 2), 0);       /* truncated */
	assert_int_equal(kr_utf8_valid("\xf4\x90\x80\x80", 4), 0); /* past U+10FFFF */
}

static void
test_attributes_cannot_be_closed(void **state)
{
	kr_html h = KR_HTML_INIT;
	char *s;

	(void)state;
	kr_html_tag(&h, "<input");
	kr_html_attr(&h, "value", "\" onfocus=\"alert(1)");
	kr_html_tag(&h, ">");
	s = kr_html_detach(&h, NULL);
	assert_string_equal(s, "<input value=\"&quot; onfocus=&quot;alert(1)\">");
	free(s);
}

static void
test_links_only_to_safe_targets(void **state)
{
	kr_html h = KR_HTML_INIT;
	char *s;

	(void)state;
	assert_int_equal(kr_url_safe("/items/372081/case/x"), 1);
	assert_int_equal(kr_url_safe("?q=ごみ"), 1);
	assert_int_equal(kr_url_safe("https://www.city.mitoyo.lg.jp/"), 1);
	assert_int_equal(kr_url_safe("javascript:alert(1)"), 0);
	assert_int_equal(kr_url_safe("JaVaScRiPt:alert(1)"), 0);
	assert_int_equal(kr_url_safe(" javascript:alert(1)"), 0);
	assert_int_equal(kr_url_safe("data:text/html,<b>"), 0);
	assert_int_equal(kr_url_safe("//evil.example/"), 0);
	assert_int_equal(kr_url_safe("/\\evil.example/"), 0);
	kr_html_link(&h, "javascript:alert(1)", "出典");
	s = kr_html_detach(&h, NULL);
	assert_null(strstr(s, "<a"));
	assert_non_null(strstr(s, "出典"));
	free(s);
	kr_html_link(&h, "https://example.jp/?a=1&b=\"2\"", "資料");
	s = kr_html_detach(&h, NULL);
	assert_string_equal(s, "<a href=\"https://example.jp/?a=1&amp;b=&quot;2&quot;\">資料</a>");
	free(s);
}

static void
test_url_encoding(void **state)
{
	kr_buf b = KR_BUF_INIT;

	(void)state;
	kr_url_add(&b, "ごみ &\"/<>");
	assert_string_equal(b.ptr, "%E3%81%94%E3%81%BF%20%26%22%2F%3C%3E");
	kr_buf_release(&b);
}

static void
test_markdown_has_no_raw_html(void **state)
{
	kr_html h = KR_HTML_INIT;
	char *s;

	(void)state;
	assert_int_equal(kr_markdown_html(&h, "# 見出し\n\n<script>alert(1)</script>\n\n"
	    "段落 <img src=x onerror=alert(1)> [リンク](javascript:alert(1)) [安全](https://example.jp/)\n",
	    strlen("# 見出し\n\n<script>alert(1)</script>\n\n"
	    "段落 <img src=x onerror=alert(1)> [リンク](javascript:alert(1)) [安全](https://example.jp/)\n")), 0);
	s = kr_html_detach(&h, NULL);
	assert_null(strstr(s, "<script"));
	assert_null(strstr(s, "<img"));
	assert_null(strstr(s, "javascript:"));
	assert_non_null(strstr(s, "<h2>見出し</h2>"));   /* moved one level down */
	assert_non_null(strstr(s, "<a href=\"https://example.jp/\">安全</a>"));
	free(s);
}

static void
collect(const kr_diff_ev *ev, void *arg)
{
	kr_buf *b = arg;
	static const char *const names[] = { "=", "@", "-", "+", "~", "s", "d", "a", "/", "!" };

	if (ev->op == KR_DIFF_SAME_LINE)
		return;
	kr_buf_addf(b, "%s%.*s|", names[ev->op], (int)ev->len, ev->text ? ev->text : "");
}

static void
test_diff_events(void **state)
{
	const char *a = "第1版\n個人情報は入力しない。\n終わり\n";
	const char *c = "第2版\n個人情報や機密情報は入力しない。\n追加の行\n終わり\n";
	kr_buf b = KR_BUF_INIT;

	(void)state;
	assert_int_equal(kr_textdiff(a, strlen(a), c, strlen(c), collect, &b), 3);
	assert_string_equal(b.ptr, "@|~|s第|d1|a2|s版|/|~|s個人情報|aや機密情報|sは入力しない。|/|+追加の行|");
	kr_buf_release(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_text_escapes_markup),
		cmocka_unit_test(test_invalid_utf8_and_controls),
		cmocka_unit_test(test_attributes_cannot_be_closed),
		cmocka_unit_test(test_links_only_to_safe_targets),
		cmocka_unit_test(test_url_encoding),
		cmocka_unit_test(test_markdown_has_no_raw_html),
		cmocka_unit_test(test_diff_events),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
