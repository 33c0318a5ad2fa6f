/* tests/unit/test_item.c - the envelope rules of CONTENT.md for publishing */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "../../policies/frontmatter.h"
#include "../../policies/item.h"
#include "../../policies/pii.h"
#include "../../policies/policy.h"

static const char good[] =
	"---\n"
	"kind: case\n"
	"id: 372081/case/gomi-chatbot-poc\n"
	"title: ごみ出し案内チャットボットの実証\n"
	"publisher: {lg_code: \"372081\", name: 三豊市}\n"
	"version: 1.0.0\n"
	"published: 2024-06-01\n"
	"updated: 2024-06-01\n"
	"license: PDL-1.0\n"
	"confidentiality: 機密性1\n"
	"domains: [住民問合せ対応, 環境・エネルギー]\n"
	"ai_uses: [対話生成]\n"
	"sources: [{title: 実証結果, issuer: 三豊市}]\n"
	"---\n"
	"本文\n";

static const kr_policy pol = { .lg_code = "372081", .max_item_bytes = 1 << 20 };

/* Replaces the line starting with prefix by repl (NULL deletes it). */
static void
edit(char *out, size_t cap, const char *prefix, const char *repl)
{
	const char *p = strstr(good, prefix), *nl = strchr(p, '\n');

	snprintf(out, cap, "%.*s%s%s", (int)(p - good), good, repl ? repl : "", nl + (repl ? 0 : 1));
}

static int
run(const char *text, kr_findings *f, kr_item *it)
{
	return kr_item_check(it, &pol, "cases/x.md", text, strlen(text), NULL, f);
}

static const kr_finding *
only_blocking(kr_findings *f)
{
	assert_int_equal(kr_findings_blocking(f), 1);
	for (size_t i = 0; i < f->n; i++)
		if (f->v[i].block)
			return &f->v[i];
	return NULL;
}

static void
test_good(void **state)
{
	kr_findings f = { 0 };
	kr_item it;

	(void)state;
	assert_int_equal(run(good, &f, &it), 0);
	assert_string_equal(it.path, "cases/gomi-chatbot-poc.md");
	assert_string_equal(it.collection, "cases");
	assert_string_equal(it.title, "ごみ出し案内チャットボットの実証");
	kr_item_clear(&it);
	kr_findings_clear(&f);
}

static void
test_confidentiality(void **state)
{
	char text[2048];
	kr_findings f = { 0 };
	kr_item it;
	const kr_finding *x;

	(void)state;
	edit(text, sizeof(text), "confidentiality:", "confidentiality: 機密性2");
	assert_int_equal(run(text, &f, &it), KR_EPOLICY);
	x = only_blocking(&f);
	assert_int_equal(x->line, 10);
	assert_string_equal(x->rule, "confidentiality");
	assert_string_equal(x->message, "confidentiality 機密性2 may not be published (set 機密性1 or keep it local)");
	kr_item_clear(&it);
	kr_findings_clear(&f);
}

static void
test_draft(void **state)
{
	char text[2048];
	kr_findings f = { 0 };
	kr_item it;

	(void)state;
	edit(text, sizeof(text), "license:", "license: PDL-1.0\ndraft: true");
	assert_int_equal(run(text, &f, &it), KR_EPOLICY);
	assert_string_equal(only_blocking(&f)->rule, "draft");
	kr_item_clear(&it);
	kr_findings_clear(&f);
}

static void
test_other_municipality(void **state)
{
	char text[2048];
	kr_findings f = { 0 };
	kr_item it;
	const kr_finding *x;

	(void)state;
	edit(text, sizeof(text), "publisher:", "publisher: {lg_code: \"142018\", name: 横須賀市}");
	assert_int_equal(run(text, &f, &it), KR_EPOLICY);
	x = &f.v[0];
	assert_string_equal(x->rule, "publisher.lg_code");
	assert_int_equal(x->line, 5);
	assert_non_null(strstr(x->message, "not this publisher's code 372081"));
	kr_item_clear(&it);
	kr_findings_clear(&f);
}

/* The Hugging Face Hub's licence ids: accepted as the SPDX ids kairan records, and given back. */
static void
test_hub_licences(void **state)
{
	char text[2048];
	kr_findings f = { 0 };
	kr_item it;
	const char *hub, *name, *link;

	(void)state;
	assert_string_equal(kr_license_spdx("cc-by-4.0", NULL), "CC-BY-4.0");
	assert_string_equal(kr_license_spdx("cc0-1.0", NULL), "CC0-1.0");
	assert_string_equal(kr_license_spdx("PDL-1.0", NULL), "PDL-1.0");
	assert_string_equal(kr_license_spdx("other", "pdl-1.0"), "PDL-1.0");
	assert_null(kr_license_spdx("other", NULL));
	assert_null(kr_license_spdx("other", "mit"));
	assert_null(kr_license_spdx("mit", NULL));
	assert_int_equal(kr_license_hub("PDL-1.0", &hub, &name, &link), 0);
	assert_string_equal(hub, "other");
	assert_string_equal(name, "pdl-1.0");
	assert_non_null(strstr(link, "https://www.digital.go.jp/"));
	assert_int_equal(kr_license_hub("CC-BY-4.0", &hub, &name, &link), 0);
	assert_string_equal(hub, "cc-by-4.0");
	assert_null(name);

	edit(text, sizeof(text), "license:", "license: cc-by-4.0");
	assert_int_equal(run(text, &f, &it), 0);
	kr_item_clear(&it);
	kr_findings_clear(&f);
	edit(text, sizeof(text), "license:", "license: other\nlicense_name: pdl-1.0\n"
	    "license_link: https://www.digital.go.jp/resources/open_data/public_data_license_v1.0");
	assert_int_equal(run(text, &f, &it), 0);
	kr_item_clear(&it);
	kr_findings_clear(&f);
	edit(text, sizeof(text), "license:", "license: other\nlicense_name: pdl-1.0");
	assert_int_equal(run(text, &f, &it), KR_EPOLICY);
	assert_non_null(strstr(only_blocking(&f)->message, "license_link"));
	kr_item_clear(&it);
	kr_findings_clear(&f);
}

static void
test_licence_and_version(void **state)
{
	char text[2048];
	kr_findings f = { 0 };
	kr_item it;

	(void)state;
	edit(text, sizeof(text), "license:", "license: MIT");
	assert_int_equal(run(text, &f, &it), KR_EPOLICY);
	assert_non_null(strstr(only_blocking(&f)->message, "allowed: PDL-1.0, CC-BY-4.0, CC0-1.0"));
	kr_item_clear(&it);
	kr_findings_clear(&f);

	edit(text, sizeof(text), "version:", "version: 1.1.0");
	assert_int_equal(run(text, &f, &it), KR_EPOLICY);
	assert_string_equal(only_blocking(&f)->rule, "version_notes");
	kr_item_clear(&it);
	kr_findings_clear(&f);

	edit(text, sizeof(text), "version:", "version: v1");
	assert_int_equal(run(text, &f, &it), KR_EPOLICY);
	assert_string_equal(only_blocking(&f)->rule, "version");
	kr_item_clear(&it);
	kr_findings_clear(&f);
}

static void
test_missing_and_malformed(void **state)
{
	char text[2048];
	kr_findings f = { 0 };
	kr_item it;

	(void)state;
	edit(text, sizeof(text), "title:", NULL);
	assert_int_equal(run(text, &f, &it), KR_EPOLICY);
	assert_non_null(strstr(only_blocking(&f)->message, "required field 'title' is missing"));
	kr_item_clear(&it);
	kr_findings_clear(&f);

	edit(text, sizeof(text), "published:", "published: 2024-02-30");
	assert_int_equal(run(text, &f, &it), KR_EPOLICY);
	assert_string_equal(only_blocking(&f)->rule, "published");
	kr_item_clear(&it);
	kr_findings_clear(&f);

	assert_int_equal(run("no front matter\n", &f, &it), KR_EPOLICY);
	assert_string_equal(only_blocking(&f)->rule, "front-matter");
	kr_item_clear(&it);
	kr_findings_clear(&f);

	assert_int_equal(run("---\nkind: [unclosed\n---\n", &f, &it), KR_EPOLICY);
	assert_non_null(strstr(only_blocking(&f)->message, "not valid YAML"));
	kr_item_clear(&it);
	kr_findings_clear(&f);
}

static void
test_vocabularies_suggest_the_nearest(void **state)
{
	char text[2048];
	kr_findings f = { 0 };
	kr_item it;
	const kr_finding *x;

	(void)state;
	edit(text, sizeof(text), "domains:", "domains: [住民問い合わせ対応]");
	assert_int_equal(run(text, &f, &it), KR_EPOLICY);
	x = only_blocking(&f);
	assert_string_equal(x->rule, "domains");
	assert_int_equal(x->line, 11);
	assert_non_null(strstr(x->message, "did you mean '住民問合せ対応'?"));
	assert_non_null(strstr(x->message, "allowed: 庁内一般業務,"));
	kr_item_clear(&it);
	kr_findings_clear(&f);

	edit(text, sizeof(text), "ai_uses:", "ai_uses: [要約]");
	assert_int_equal(run(text, &f, &it), KR_EPOLICY);
	x = only_blocking(&f);
	assert_string_equal(x->rule, "ai_uses");
	kr_item_clear(&it);
	kr_findings_clear(&f);

	edit(text, sizeof(text), "ai_uses:", "ai_uses: [対話生成]\noutcome: 見送った");
	assert_int_equal(run(text, &f, &it), KR_EPOLICY);
	assert_non_null(strstr(only_blocking(&f)->message, "did you mean '見送り'?"));
	kr_item_clear(&it);
	kr_findings_clear(&f);

	edit(text, sizeof(text), "domains:", NULL);
	assert_int_equal(run(text, &f, &it), KR_EPOLICY);
	assert_non_null(strstr(only_blocking(&f)->message, "required field 'domains' is missing"));
	kr_item_clear(&it);
	kr_findings_clear(&f);
}

static void
test_case_fields(void **state)
{
	char text[2048];
	kr_findings f = { 0 };
	kr_item it;

	(void)state;
	edit(text, sizeof(text), "ai_uses:", "ai_uses: [対話生成]\ndeployment: SaaS");
	assert_int_equal(run(text, &f, &it), KR_EPOLICY);
	assert_string_equal(only_blocking(&f)->rule, "deployment");
	assert_non_null(strstr(only_blocking(&f)->message, "allowed: webサービス, 組織向けプラットフォーム"));
	kr_item_clear(&it);
	kr_findings_clear(&f);

	edit(text, sizeof(text), "ai_uses:", "ai_uses: [対話生成]\nstage: 実証");
	assert_int_equal(run(text, &f, &it), KR_EPOLICY);
	assert_string_equal(only_blocking(&f)->rule, "stage");
	kr_item_clear(&it);
	kr_findings_clear(&f);

	edit(text, sizeof(text), "ai_uses:", "ai_uses: [対話生成]\nmetrics: [{name: 正答率, unit: \"%\", achieved: 九四}]");
	assert_int_equal(run(text, &f, &it), KR_EPOLICY);
	assert_non_null(strstr(only_blocking(&f)->message, "must be a number"));
	kr_item_clear(&it);
	kr_findings_clear(&f);

	edit(text, sizeof(text), "ai_uses:", "ai_uses: [対話生成]\npopulation: {value: 約6万}");
	assert_int_equal(run(text, &f, &it), KR_EPOLICY);
	assert_string_equal(only_blocking(&f)->rule, "population");
	kr_item_clear(&it);
	kr_findings_clear(&f);
}

static void
test_guideline_fields(void **state)
{
	static const char g[] =
		"---\nkind: guideline\nid: 372081/guideline/g\ntitle: 指針\n"
		"publisher: {lg_code: \"372081\", name: 三豊市}\nversion: 1.0.0\nedition: 1版\n"
		"published: 2024-06-01\nupdated: 2024-06-01\nlicense: CC-BY-4.0\nconfidentiality: 機密性1\n"
		"domains: [庁内一般業務]\napplies_to: {network: インターネット}\n---\n## 1 目的\n";
	kr_findings f = { 0 };
	kr_item it;
	int edition = 0, network = 0;

	(void)state;
	assert_int_equal(kr_item_check(&it, &pol, "g.md", g, strlen(g), NULL, &f), KR_EPOLICY);
	for (size_t i = 0; i < f.n; i++) {
		edition |= strcmp(f.v[i].rule, "edition") == 0 && strstr(f.v[i].message, "第N版") != NULL;
		network |= strcmp(f.v[i].rule, "network") == 0 &&
		    strstr(f.v[i].message, "did you mean 'インターネット接続系'") != NULL;
	}
	assert_true(edition);
	assert_true(network);
	kr_item_clear(&it);
	kr_findings_clear(&f);
}

static void
test_derived_needs_modifications(void **state)
{
	char text[2048];
	kr_findings f = { 0 };
	kr_item it;

	(void)state;
	edit(text, sizeof(text), "ai_uses:", "ai_uses: [対話生成]\nderived_from: [{id: 370002/guideline/t, version: 1.0.0, relation: ひな型適用}]");
	assert_int_equal(run(text, &f, &it), KR_EPOLICY);
	assert_non_null(strstr(only_blocking(&f)->message, "modifications"));
	kr_item_clear(&it);
	kr_findings_clear(&f);
}

static void
test_default_policy_parses(void **state)
{
	kr_policy_rules r;

	(void)state;
	assert_int_equal(kr_policy_rules_init(&r), 0);
	assert_string_equal(kr_policy_get(&r, "publish.confidentiality"), "機密性1");
	assert_true(kr_policy_has(&r, "publish.licenses", "CC0-1.0"));
	assert_false(kr_policy_has(&r, "publish.licenses", "CC0"));
	assert_true(kr_policy_has(&r, "accept.kinds", "dataset"));
	assert_string_equal(kr_policy_get(&r, "pii.mynumber"), "block");
	assert_int_equal(kr_policy_rules_set(&r, "accept.kinds", "case"), 0);
	assert_false(kr_policy_has(&r, "accept.kinds", "prompt"));
	assert_int_equal(kr_policy_rules_set(&r, "publish.bogus", "1"), KR_ERROR);
	assert_non_null(strstr(kr_errmsg(), "unknown policy setting 'publish.bogus'"));
	kr_policy_rules_clear(&r);
}

static void
test_received_layout(void **state)
{
	kr_findings f = { 0 };
	kr_item it;

	(void)state;
	assert_int_equal(kr_item_check_received(&it, &pol, "cases", "cases/gomi-chatbot-poc.md",
	    good, strlen(good), &f), 0);
	kr_item_clear(&it);
	assert_int_equal(kr_item_check_received(&it, &pol, "cases", "cases/elsewhere.md",
	    good, strlen(good), &f), KR_EPOLICY);
	kr_item_clear(&it);
	kr_findings_clear(&f);
	assert_int_equal(kr_item_check_received(&it, &pol, "cases", "cases/run.sh", "x", 1, &f), KR_EPOLICY);
	kr_item_clear(&it);
	kr_findings_clear(&f);
}


/* ---- hostile input: crashes, quadratic work, unbounded findings -------- */

static double
cpu_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Every check of kr_item_check on text must end well within a second (CPU). */
#ifdef __SANITIZE_ADDRESS__
#define FAST 10.0
#else
#define FAST 2.0
#endif

static int
has_finding(const kr_findings *f, const char *rule, const char *text)
{
	for (size_t i = 0; i < f->n; i++)
		if (strcmp(f->v[i].rule, rule) == 0 && (!text || strstr(f->v[i].message, text)))
			return 1;
	return 0;
}

/* good with every "\n" replaced by eol */
static char *
with_line_ends(const char *eol)
{
	kr_buf b = KR_BUF_INIT;

	for (const char *p = good; *p; p++)
		if (*p == '\n')
			kr_buf_adds(&b, eol);
		else
			kr_buf_addch(&b, *p);
	return kr_buf_detach(&b);
}

static void
test_bare_cr(void **state)
{
	static const char *const broken[] = { "---\r", "---\r\n", "---\rkind: case\r", "\xef\xbb\xbf---\r",
	    "---\r---\r", "---\n\r", "---\r\r\r\r" };
	kr_findings f = { 0 };
	kr_item it;

	(void)state;
	/* a file that is just "---\r" crashed check, publish and the replication worker */
	for (size_t i = 0; i < sizeof(broken) / sizeof(broken[0]); i++) {
		assert_int_equal(run(broken[i], &f, &it), KR_EPOLICY);
		assert_true(kr_findings_blocking(&f) >= 1);
		kr_item_clear(&it);
		kr_findings_clear(&f);
	}
	assert_int_equal(run("---\r", &f, &it), KR_EPOLICY);
	assert_string_equal(only_blocking(&f)->rule, "front-matter");
	assert_non_null(strstr(only_blocking(&f)->message, "not closed"));
	kr_item_clear(&it);
	kr_findings_clear(&f);

	/* CR and CRLF are line ends like LF, with the same line numbers */
	for (int k = 0; k < 2; k++) {
		char *text = with_line_ends(k ? "\r" : "\r\n"), *conf = strstr(text, "機密性1");
		assert_int_equal(run(text, &f, &it), 0);
		assert_string_equal(it.path, "cases/gomi-chatbot-poc.md");
		kr_item_clear(&it);
		kr_findings_clear(&f);
		conf[strlen("機密性")] = '2';
		assert_int_equal(run(text, &f, &it), KR_EPOLICY);
		assert_int_equal(only_blocking(&f)->line, 10);
		kr_item_clear(&it);
		kr_findings_clear(&f);
		free(text);
	}
}

static char *
prompt_with_body(const char *vars, const char *body)
{
	return kr_sprintf("---\nkind: prompt\nid: 372081/prompt/p\ntitle: 題\n"
	    "publisher: {lg_code: \"372081\", name: 三豊市}\nversion: 1.0.0\npublished: 2024-06-01\n"
	    "updated: 2024-06-01\nlicense: PDL-1.0\nconfidentiality: 機密性1\ndomains: [広報]\n"
	    "ai_uses: [文書作成]\n%s---\n%s", vars, body);
}

static void
test_placeholders_linear(void **state)
{
	kr_findings f = { 0 };
	kr_item it;
	kr_buf body = KR_BUF_INIT;
	char *text;
	double t;

	(void)state;
	/* 60 KB of "{{" then "}}": the old scan kept a finding per "{{" quoting the rest (quadratic, OOM) */
	for (int i = 0; i < 30000; i++)
		kr_buf_adds(&body, "{{");
	kr_buf_adds(&body, "}}\n");
	text = prompt_with_body("", body.ptr);
	t = cpu_seconds();
	assert_int_equal(kr_item_check(&it, &pol, "prompts/general/p.md", text, strlen(text), NULL, &f), KR_EPOLICY);
	t = cpu_seconds() - t;
	print_message("60 KB of '{{': %.3f s, %zu finding(s)\n", t, f.n);
	assert_true(t < FAST);
	assert_int_equal(f.n, 1); /* the "{{}}" at the end, once */
	assert_true(has_finding(&f, "variables", "uses {{}} but"));
	assert_int_equal(f.v[0].line, 14);
	kr_item_clear(&it);
	kr_findings_clear(&f);
	free(text);

	/* 20,000 uses of one undeclared name: reported once, at its first line */
	kr_buf_clear(&body);
	kr_buf_adds(&body, "一行目\n");
	for (int i = 0; i < 20000; i++)
		kr_buf_adds(&body, "{{x}}{{y}}\n");
	text = prompt_with_body("variables: [{name: y, description: d, example: e}]\n", body.ptr);
	t = cpu_seconds();
	assert_int_equal(kr_item_check(&it, &pol, "prompts/general/p.md", text, strlen(text), NULL, &f), KR_EPOLICY);
	t = cpu_seconds() - t;
	print_message("20,000 '{{x}}' lines: %.3f s\n", t);
	assert_true(t < FAST);
	assert_int_equal(f.n, 1);
	assert_true(has_finding(&f, "variables", "uses {{x}} but"));
	assert_int_equal(f.v[0].line, 16);
	kr_item_clear(&it);
	kr_findings_clear(&f);
	free(text);

	/* declared names pass; "{{{y}}}" is {{y}} in braces */
	text = prompt_with_body("variables: [{name: y, description: d, example: e}]\n", "{{y}} {{{y}}} {{ not\n");
	assert_int_equal(kr_item_check(&it, &pol, "prompts/general/p.md", text, strlen(text), NULL, &f), 0);
	kr_item_clear(&it);
	kr_findings_clear(&f);
	free(text);
	kr_buf_release(&body);
}

static void
test_findings_capped(void **state)
{
	kr_findings f = { 0 };
	kr_item it;
	kr_buf fm = KR_BUF_INIT;
	char *text;
	const kr_finding *last;
	double t;

	(void)state;
	/* 4,000 values outside the vocabulary: 100 findings, then one "… and N more" */
	kr_buf_adds(&fm, "domains: [");
	for (int i = 0; i < 4000; i++)
		kr_buf_addf(&fm, "%s不明%d", i ? ", " : "", i);
	kr_buf_adds(&fm, "]\nai_uses: [対話生成]\n");
	text = kr_sprintf("---\nkind: case\nid: 372081/case/x\ntitle: 題\n"
	    "publisher: {lg_code: \"372081\", name: 三豊市}\nversion: 1.0.0\npublished: 2024-06-01\n"
	    "updated: 2024-06-01\nlicense: PDL-1.0\nconfidentiality: 機密性1\n%s"
	    "sources: [{title: 資料, issuer: 三豊市}]\n---\n本文\n", fm.ptr);
	t = cpu_seconds();
	assert_int_equal(run(text, &f, &it), KR_EPOLICY);
	t = cpu_seconds() - t;
	print_message("4,000 bad domains: %.3f s, %zu findings\n", t, f.n);
	assert_true(t < FAST);
	assert_int_equal(f.n, KR_FINDINGS_PER_FILE + 1);
	last = &f.v[f.n - 1];
	assert_string_equal(last->rule, KR_FINDINGS_MORE);
	assert_true(last->block);
	assert_non_null(strstr(last->message, "… and 3900 more findings in this file"));
	/* a summary copied into another list keeps its count */
	{
		kr_findings g = { 0 };
		for (size_t i = 0; i < f.n; i++)
			kr_findings_add(&g, f.v[i].file, f.v[i].line, f.v[i].block, f.v[i].rule, "%s", f.v[i].message);
		kr_findings_add(&g, "cases/x.md", 3, 1, "domains", "one more");
		assert_int_equal(g.n, f.n);
		assert_non_null(strstr(g.v[g.n - 1].message, "… and 3901 more findings"));
		kr_findings_add(&g, "cases/y.md", 3, 0, "domains", "another file");
		assert_int_equal(g.n, f.n + 1);
		assert_int_equal(kr_findings_blocking(&g), KR_FINDINGS_PER_FILE + 1);
		kr_findings_clear(&g);
	}
	kr_item_clear(&it);
	kr_findings_clear(&f);
	free(text);
	kr_buf_release(&fm);
}

static kr_buf
repeat(const char *head, const char *unit, size_t bytes, const char *tail)
{
	kr_buf b = KR_BUF_INIT;

	kr_buf_adds(&b, head);
	while (b.len < bytes)
		kr_buf_adds(&b, unit);
	kr_buf_adds(&b, tail);
	return b;
}

/* Parses YAML front matter yaml; returns the error message (or "") and the CPU time. */
static char *
parse_yaml(const char *yaml, double *secs)
{
	char *text = kr_sprintf("---\n%s\n---\nbody\n", yaml);
	kr_yaml *y = NULL;
	const char *body;
	int bl, rc;
	double t = cpu_seconds();

	rc = kr_frontmatter_parse(&y, text, strlen(text), &body, &bl);
	*secs = cpu_seconds() - t;
	kr_yaml_free(&y);
	free(text);
	return kr_strdup(rc < 0 ? kr_errmsg() : "");
}

static void
test_yaml_bounded(void **state)
{
	static const struct {
		const char *what, *head, *unit, *tail;
		size_t bytes;
		const char *expect;
	} cases[] = {
		{ "200 KB of nested flow sequences", "a: ", "[", "", 200 << 10, "longer than 65536 bytes" },
		{ "60 KB of nested flow sequences", "a: ", "[", "", 60 << 10, "nested more than 32 levels" },
		{ "60 KB of nested flow mappings", "a: ", "{a: ", "", 60 << 10, "nested more than 32 levels" },
		{ "60 KB of nested flow, closed", "a: ", "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[", "]", 60 << 10,
		    "nested more than 32 levels" },
		{ "block nesting", "a:\n", "- ", "x", 4 << 10, "nested more than 32 levels" },
		{ "60 KB of anchors", "a: [", "&a1 x, ", "]", 60 << 10, "more than 100 YAML anchors" },
		{ "60 KB of aliases", "a: &a x\nb: [", "*a, ", "]", 60 << 10, "more than 100 YAML anchors" },
		{ "20,000 values", "a: [", "x, ", "]", 60 << 10, "more than 20000 values" },
		{ "an alias before its anchor", "a: *b\nb: &b x", "", "", 0, "names no complete anchor" },
	};
	kr_buf laughs = KR_BUF_INIT;
	double t;
	char *msg;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		kr_buf y = repeat(cases[i].head, cases[i].unit, cases[i].bytes, cases[i].tail);
		msg = parse_yaml(y.ptr, &t);
		print_message("%s: %.3f s: %s\n", cases[i].what, t, msg);
		assert_true(t < FAST);
		assert_non_null(strstr(msg, cases[i].expect));
		assert_non_null(strstr(msg, "line "));
		free(msg);
		kr_buf_release(&y);
	}
	/* "billion laughs": each level doubles, 60 levels; refused by the node or text budget */
	kr_buf_adds(&laughs, "l0: &l0 [\"ha ha ha ha ha ha ha ha ha ha ha ha ha ha ha ha\"]\n");
	for (int i = 1; i < 40; i++)
		kr_buf_addf(&laughs, "l%d: &l%d [*l%d, *l%d]\n", i, i, i - 1, i - 1);
	msg = parse_yaml(laughs.ptr, &t);
	print_message("billion laughs: %.3f s: %s\n", t, msg);
	assert_true(t < FAST);
	assert_true(strstr(msg, "more than 20000 values") || strstr(msg, "more than 100 YAML anchors") ||
	    strstr(msg, "nested more than 32"));
	free(msg);
	kr_buf_release(&laughs);
	/* a few anchors and aliases are fine */
	msg = parse_yaml("base: &b {name: x}\nlist: [*b, *b]\nk: &k key\n*k : v", &t);
	assert_string_equal(msg, "");
	free(msg);
	/* and the limits hold through kr_item_check, as a finding */
	{
		kr_buf y = repeat("---\nkind: case\nx: ", "[", 100 << 10, "\n---\n");
		kr_findings f = { 0 };
		kr_item it;
		t = cpu_seconds();
		assert_int_equal(run(y.ptr, &f, &it), KR_EPOLICY);
		assert_true(cpu_seconds() - t < FAST);
		assert_string_equal(only_blocking(&f)->rule, "front-matter");
		kr_item_clear(&it);
		kr_findings_clear(&f);
		kr_buf_release(&y);
	}
}

static void
test_pii_linear(void **state)
{
	static const char *const units[] = { "1.", "1年", "x@", "a@b-", "町1-2", "生年月日 1990年1月1日生", "満", "0" };
	kr_pii_allow allow = { .phones = "0875-73-3011", .addresses = "高瀬町下勝間2373-1" };

	(void)state;
	/* one 1 MB line of each pattern: every look-around is bounded */
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		kr_buf line = repeat("", units[i], 1 << 20, "\n");
		kr_findings f = { 0 };
		double t = cpu_seconds();
		kr_pii_scan("t.md", line.ptr, line.len, &allow, &f);
		t = cpu_seconds() - t;
		print_message("1 MB line of '%s': %.3f s, %zu findings\n", units[i], t, f.n);
		assert_true(t < FAST);
		assert_true(f.n <= KR_FINDINGS_PER_FILE + 1);
		kr_findings_clear(&f);
		kr_buf_release(&line);
	}
	/* bare CR and CRLF end lines in the PII scan too */
	{
		static const char text[] = "一行目\r二行目\r\n個人番号 1234 5678 9018\r";
		kr_findings f = { 0 };
		kr_pii_scan("t.md", text, sizeof(text) - 1, NULL, &f);
		assert_int_equal(f.n, 1);
		assert_int_equal(f.v[0].line, 3);
		kr_findings_clear(&f);
	}
}

static void
test_dataset_rows_bounded(void **state)
{
	kr_findings f = { 0 };
	kr_item it;
	kr_buf rows = KR_BUF_INIT;
	double t;

	(void)state;
	/* a bare CR inside a row is refused by name */
	assert_int_equal(kr_item_check_received(&it, &pol, "datasets", "datasets/d/data/a.jsonl",
	    "{\"id\":\"1\"}\r{\"id\":\"2\"}\n", 22, &f), KR_EPOLICY);
	assert_true(has_finding(&f, "jsonl", "bare CR"));
	kr_item_clear(&it);
	kr_findings_clear(&f);
	/* 20,000 bad rows: 100 findings and a count */
	for (int i = 0; i < 20000; i++)
		kr_buf_adds(&rows, "{}\n");
	t = cpu_seconds();
	assert_int_equal(kr_item_check_received(&it, &pol, "datasets", "datasets/d/data/a.jsonl",
	    rows.ptr, rows.len, &f), KR_EPOLICY);
	t = cpu_seconds() - t;
	print_message("20,000 bad rows: %.3f s, %zu findings\n", t, f.n);
	assert_true(t < FAST);
	assert_int_equal(f.n, KR_FINDINGS_PER_FILE + 1);
	assert_non_null(strstr(f.v[f.n - 1].message, "more findings"));
	kr_item_clear(&it);
	kr_findings_clear(&f);
	kr_buf_release(&rows);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good),
		cmocka_unit_test(test_confidentiality),
		cmocka_unit_test(test_draft),
		cmocka_unit_test(test_other_municipality),
		cmocka_unit_test(test_licence_and_version),
		cmocka_unit_test(test_hub_licences),
		cmocka_unit_test(test_missing_and_malformed),
		cmocka_unit_test(test_vocabularies_suggest_the_nearest),
		cmocka_unit_test(test_derived_needs_modifications),
		cmocka_unit_test(test_case_fields),
		cmocka_unit_test(test_guideline_fields),
		cmocka_unit_test(test_default_policy_parses),
		cmocka_unit_test(test_received_layout),
		cmocka_unit_test(test_bare_cr),
		cmocka_unit_test(test_placeholders_linear),
		cmocka_unit_test(test_findings_capped),
		cmocka_unit_test(test_yaml_bounded),
		cmocka_unit_test(test_pii_linear),
		cmocka_unit_test(test_dataset_rows_bounded),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
