/* tests/unit/test_item.c - the envelope rules of CONTENT.md for publishing */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "../../policies/item.h"
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

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good),
		cmocka_unit_test(test_confidentiality),
		cmocka_unit_test(test_draft),
		cmocka_unit_test(test_other_municipality),
		cmocka_unit_test(test_licence_and_version),
		cmocka_unit_test(test_missing_and_malformed),
		cmocka_unit_test(test_vocabularies_suggest_the_nearest),
		cmocka_unit_test(test_derived_needs_modifications),
		cmocka_unit_test(test_case_fields),
		cmocka_unit_test(test_guideline_fields),
		cmocka_unit_test(test_default_policy_parses),
		cmocka_unit_test(test_received_layout),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
