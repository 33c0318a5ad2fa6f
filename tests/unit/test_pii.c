/*
 * tests/unit/test_pii.c - the personal-information scan against a corpus
 *
 * tests/fixtures/pii/positives.tsv: every line must give its finding at
 * its level (recall 100%). negatives.txt and the shipped samples: no
 * blocking finding (0 false positives). Run from the repository root.
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../../policies/pii.h"

static void
test_check_digits(void **state)
{
	(void)state;
	assert_true(kr_pii_mynumber_valid("123456789018"));
	assert_false(kr_pii_mynumber_valid("123456789012"));
	assert_true(kr_pii_corporate_valid("8000020130001"));
	assert_false(kr_pii_corporate_valid("7000020130001"));
}

static void
test_positives_all_found(void **state)
{
	kr_buf text = KR_BUF_INIT;
	size_t total = 0, found = 0;
	char *line, *save = NULL;

	(void)state;
	assert_int_equal(kr_file_read(&text, "tests/fixtures/pii/positives.tsv"), 0);
	for (line = strtok_r(text.ptr, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *rule = line, *level, *sample;
		kr_findings f = { 0 };
		int hit = 0;
		if (*line == '#')
			continue;
		level = strchr(rule, '\t');
		assert_non_null(level);
		*level++ = '\0';
		sample = strchr(level, '\t');
		assert_non_null(sample);
		*sample++ = '\0';
		kr_pii_scan("t", sample, strlen(sample), NULL, &f);
		for (size_t i = 0; i < f.n; i++)
			hit |= strcmp(f.v[i].rule, rule) == 0 && f.v[i].block == (strcmp(level, "block") == 0);
		if (!hit) {
			fprintf(stderr, "missed: %s %s: %s (got %zu finding(s)%s%s)\n", rule, level, sample, f.n,
			    f.n ? ": " : "", f.n ? f.v[0].rule : "");
		}
		total++;
		found += hit;
		kr_findings_clear(&f);
	}
	fprintf(stderr, "pii recall: %zu of %zu synthetic positives found\n", found, total);
	assert_int_equal(found, total);
	kr_buf_release(&text);
}

static size_t
s_blocking(const char *text, size_t len, const char *what)
{
	kr_findings f = { 0 };
	size_t n;

	kr_pii_scan(what, text, len, NULL, &f);
	n = kr_findings_blocking(&f);
	for (size_t i = 0; i < f.n; i++)
		if (f.v[i].block)
			fprintf(stderr, "false positive: %s:%d: %s\n", what, f.v[i].line, f.v[i].message);
	kr_findings_clear(&f);
	return n;
}

static size_t
s_scan_tree(const char *dir, size_t *files)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	size_t n = 0;

	while (d && (e = readdir(d))) {
		char *p;
		size_t l = strlen(e->d_name);
		if (e->d_name[0] == '.')
			continue;
		p = kr_sprintf("%s/%s", dir, e->d_name);
		if (e->d_type == DT_DIR) {
			n += s_scan_tree(p, files);
		} else if ((l > 3 && strcmp(e->d_name + l - 3, ".md") == 0) || (l > 6 && strcmp(e->d_name + l - 6, ".jsonl") == 0)) {
			kr_buf t = KR_BUF_INIT;
			if (kr_file_read(&t, p) == 0) {
				n += s_blocking(t.ptr, t.len, p);
				(*files)++;
			}
			kr_buf_release(&t);
		}
		free(p);
	}
	if (d)
		closedir(d);
	return n;
}

static void
test_no_blocking_false_positives(void **state)
{
	kr_buf text = KR_BUF_INIT;
	size_t fp = 0, files = 0;

	(void)state;
	assert_int_equal(kr_file_read(&text, "tests/fixtures/pii/negatives.txt"), 0);
	fp += s_blocking(text.ptr, text.len, "negatives.txt");
	fp += s_scan_tree("deploy/samples", &files);
	fprintf(stderr, "pii: %zu blocking false positive(s) over negatives.txt and %zu shipped sample file(s)\n",
	    fp, files);
	assert_true(files > 0);
	assert_int_equal(fp, 0);
	kr_buf_release(&text);
}

static void
test_allow_lists(void **state)
{
	kr_pii_allow allow = { .phones = "0875-73-3011, 0875-73-3012", .addresses = "高瀬町下勝間2373-1" };
	kr_findings f = { 0 };
	const char *t = "三豊市役所 0875‐73‐3011 香川県三豊市高瀬町下勝間2373-1\n別の番号 0875-73-9999\n";

	(void)state;
	kr_pii_scan("t", t, strlen(t), &allow, &f);
	assert_int_equal(f.n, 1);
	assert_int_equal(f.v[0].line, 2);
	assert_string_equal(f.v[0].rule, "pii.phone");
	kr_findings_clear(&f);
}

/* The level of the first finding of rule in text: 1 block, 0 warn, -1 none. */
static int
level_of(const char *text, const char *rule)
{
	kr_findings f = { 0 };
	int level = -1;

	kr_pii_scan("t", text, strlen(text), NULL, &f);
	for (size_t i = 0; i < f.n && level < 0; i++)
		if (strcmp(f.v[i].rule, rule) == 0)
			level = f.v[i].block != 0;
	kr_findings_clear(&f);
	return level;
}

/*
 * Each context word, in any width, case or kana, before or after the
 * number on its line, raises the number's finding; on another line, or
 * cut by a line end, it does not.
 */
static void
test_context_words(void **state)
{
	static const struct {
		const char *rule, *number, *words[6];
		int without; /* the level without a context word */
	} cases[] = {
		{ "pii.mynumber", "123456789018", { "個人番号", "マイナンバー", "ﾏｲﾅﾝﾊﾞｰ", "My Number", "MYNUMBER", NULL }, 0 },
		{ "pii.birthdate", "2001年4月1日", { "生年月日", "誕生日", NULL }, -1 },
		{ "pii.address", "本町1-2-3", { "自宅", "住所", "様方", "在住", "お住まい", "オ住マイ" }, 0 },
	};

	(void)state;
	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		char buf[256];
		snprintf(buf, sizeof(buf), "記録 %s です", cases[c].number);
		assert_int_equal(level_of(buf, cases[c].rule), cases[c].without);
		for (size_t i = 0; i < 6 && cases[c].words[i]; i++) {
			const char *w = cases[c].words[i];
			size_t half = strlen(w) / 2;
			snprintf(buf, sizeof(buf), "%s %s", w, cases[c].number);
			if (level_of(buf, cases[c].rule) != 1)
				fail_msg("%s: %s", cases[c].rule, buf);
			snprintf(buf, sizeof(buf), "連絡先 %s (%s)", cases[c].number, w);
			if (level_of(buf, cases[c].rule) != 1)
				fail_msg("%s: %s", cases[c].rule, buf);
			snprintf(buf, sizeof(buf), "%s\n記録 %s", w, cases[c].number);
			if (level_of(buf, cases[c].rule) != cases[c].without)
				fail_msg("%s: %s", cases[c].rule, buf);
			snprintf(buf, sizeof(buf), "%.*s\n%s %s", (int)half, w, w + half, cases[c].number);
			if (level_of(buf, cases[c].rule) != cases[c].without && strlen(w) > 3)
				fail_msg("%s: %s", cases[c].rule, buf);
		}
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_check_digits),
		cmocka_unit_test(test_positives_all_found),
		cmocka_unit_test(test_no_blocking_false_positives),
		cmocka_unit_test(test_allow_lists),
		cmocka_unit_test(test_context_words),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
