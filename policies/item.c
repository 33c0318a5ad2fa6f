/*
 * policies/item.c - envelope validation shared by publish and receipt
 *
 * Messages follow git's style and always say how to fix the problem.
 */
#include "item.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "board.h"
#include "frontmatter.h"
#include "dataset.h"
#include "lines.h"
#include "pii.h"
#include "policy.h"

/* The rules in force: the node's, or the compiled-in defaults. */
static const kr_policy_rules *
s_rules(const kr_policy *pol)
{
	static kr_policy_rules dflt;
	static int loaded;

	if (pol->rules)
		return pol->rules;
	if (!loaded) { /* the defaults are compiled in and parse; checked by the unit tests */
		kr_policy_rules_init(&dflt);
		loaded = 1;
	}
	return &dflt;
}

static int
s_prefecture_code(const char *code)
{
	return code && strlen(code) == 6 && strncmp(code + 2, "000", 3) == 0;
}

static const char *const s_kinds[][2] = {
	{ "case", "cases" }, { "prompt", "prompts" }, { "guideline", "guidelines" }, { "dataset", "datasets" },
	/* the board's kinds (DESIGN §7; fields in policies/board.c) */
	{ "endorsement", "endorsements" }, { "consultation", "consultations" }, { "answer", "answers" },
	{ "adoption", "adoptions" },
};
static const char *const s_licenses[] = { "PDL-1.0", "CC-BY-4.0", "CC0-1.0" };
/*
 * The same licences as the Hugging Face Hub names them (its licence ids are
 * lower case; PDL is not on its list, so a card says license: other with
 * license_name: pdl-1.0 and license_link), accepted on input everywhere.
 */
static const struct {
	const char *spdx, *hub, *link;
} s_hub_licenses[] = {
	{ "PDL-1.0", "other", "https://www.digital.go.jp/resources/open_data/public_data_license_v1.0" },
	{ "CC-BY-4.0", "cc-by-4.0", "https://creativecommons.org/licenses/by/4.0/" },
	{ "CC0-1.0", "cc0-1.0", "https://creativecommons.org/publicdomain/zero/1.0/" },
};

const char *
kr_license_spdx(const char *license, const char *license_name)
{
	if (!license)
		return NULL;
	for (size_t i = 0; i < sizeof(s_hub_licenses) / sizeof(s_hub_licenses[0]); i++) {
		if (strcmp(license, s_hub_licenses[i].spdx) == 0)
			return s_hub_licenses[i].spdx;
		if (strcmp(s_hub_licenses[i].hub, "other") != 0 && strcmp(license, s_hub_licenses[i].hub) == 0)
			return s_hub_licenses[i].spdx;
	}
	if (strcmp(license, "other") == 0 && license_name)
		for (size_t i = 0; i < sizeof(s_hub_licenses) / sizeof(s_hub_licenses[0]); i++)
			if (strcasecmp(license_name, s_hub_licenses[i].spdx) == 0)
				return s_hub_licenses[i].spdx;
	return NULL;
}

int
kr_license_hub(const char *spdx, const char **hub, const char **name, const char **link)
{
	for (size_t i = 0; i < sizeof(s_hub_licenses) / sizeof(s_hub_licenses[0]); i++)
		if (strcmp(spdx, s_hub_licenses[i].spdx) == 0) {
			*hub = s_hub_licenses[i].hub;
			*name = strcmp(*hub, "other") == 0 ? "pdl-1.0" : NULL;
			*link = s_hub_licenses[i].link;
			return 0;
		}
	return kr_error(KR_EUSAGE, "no Hugging Face Hub id for licence '%s'", spdx);
}
static const char *const s_confidentiality[] = {
	"機密性1", "機密性2", "機密性3", "自治体機密性3A", "自治体機密性3B", "自治体機密性3C",
};

static void
s_finding_set(kr_finding *x, const char *file, int line, int block, const char *rule, char *message)
{
	x->file = kr_strdup(file);
	x->line = line;
	x->block = block;
	x->rule = kr_strdup(rule);
	x->message = message;
}

static kr_finding *
s_finding_new(kr_findings *f)
{
	if (f->n == f->cap) {
		f->cap = f->cap ? f->cap * 2 : 8;
		f->v = kr_realloc(f->v, f->cap * sizeof(*f->v));
	}
	return &f->v[f->n++];
}

static char *
s_more_message(size_t more)
{
	return kr_sprintf(kr_ngettext("… and %zu more finding in this file (only the first %d are listed: "
	    "fix those and check again)", "… and %zu more findings in this file (only the first %d are listed: "
	    "fix those and check again)", more), more, KR_FINDINGS_PER_FILE);
}

void
kr_findings_add(kr_findings *f, const char *file, int line, int block,
    const char *rule, const char *fmt, ...)
{
	kr_buf m = KR_BUF_INIT;
	va_list ap;

	if (f->levels && strncmp(rule, "pii.", 4) == 0) {
		const char *level = kr_policy_get(f->levels, rule);
		if (level && strcmp(level, "off") == 0)
			return;
		if (level)
			block = strcmp(level, "block") == 0;
	}
	if (f->n == 0 || f->run >= f->n || strcmp(f->v[f->run].file, file) != 0) {
		f->run = f->n;
		f->more_at = 0;
		f->more = 0;
	}
	if (strcmp(rule, KR_FINDINGS_MORE) != 0 && f->n - f->run >= KR_FINDINGS_PER_FILE) {
		kr_finding *x;
		if (!f->more_at) {
			s_finding_set(s_finding_new(f), file, 0, 0, KR_FINDINGS_MORE, NULL);
			f->more_at = f->n;
			f->more = 0;
		}
		x = &f->v[f->more_at - 1];
		x->block |= block != 0;
		free(x->message);
		x->message = s_more_message(++f->more);
		return;
	}
	va_start(ap, fmt);
	kr_buf_vaddf(&m, _(fmt), ap); /* fmt is a msgid */
	va_end(ap);
	if (strcmp(rule, KR_FINDINGS_MORE) == 0) {
		/* a summary copied from another list: it carries its count */
		const char *and = strstr(m.ptr, " and ");
		s_finding_set(s_finding_new(f), file, line, block, rule, kr_buf_detach(&m));
		f->more_at = f->n;
		f->more = and ? (size_t)strtoull(and + 5, NULL, 10) : 1;
		return;
	}
	s_finding_set(s_finding_new(f), file, line, block, rule, kr_buf_detach(&m));
}

/* 1 when a finding for file would only be counted in its "… and N more". */
static int
s_capped(const kr_findings *f, const char *file)
{
	return f->run < f->n && f->n - f->run >= KR_FINDINGS_PER_FILE && strcmp(f->v[f->run].file, file) == 0;
}

size_t
kr_findings_blocking(const kr_findings *f)
{
	size_t n = 0;

	for (size_t i = 0; i < f->n; i++)
		n += f->v[i].block != 0;
	return n;
}

void
kr_findings_clear(kr_findings *f)
{
	for (size_t i = 0; i < f->n; i++) {
		free(f->v[i].file);
		free(f->v[i].rule);
		free(f->v[i].message);
	}
	free(f->v);
	memset(f, 0, sizeof(*f));
}

const char *
kr_kind_collection(const char *kind)
{
	for (size_t i = 0; i < sizeof(s_kinds) / sizeof(s_kinds[0]); i++)
		if (strcmp(kind, s_kinds[i][0]) == 0)
			return s_kinds[i][1];
	return NULL;
}

int
kr_lgcode_check(const char *code, char right[7])
{
	static const int w[5] = { 6, 5, 4, 3, 2 };
	int sum = 0, check;

	right[0] = '\0';
	if (strlen(code) != 6 || strspn(code, "0123456789") != 6)
		return kr_error(KR_EPOLICY, "'%s' is not a 6-digit 全国地方公共団体コード", code);
	for (int i = 0; i < 5; i++)
		sum += (code[i] - '0') * w[i];
	check = (11 - sum % 11) % 10;
	if (code[0] == '0' && code[1] == '0')
		return kr_error(KR_EPOLICY, "'%s': prefecture number 00 does not exist (01-47)", code);
	if ((code[0] - '0') * 10 + (code[1] - '0') > 47)
		return kr_error(KR_EPOLICY, "'%s': prefecture number %.2s does not exist (01-47)", code, code);
	if (code[5] - '0' != check) {
		memcpy(right, code, 5);
		right[5] = (char)('0' + check);
		right[6] = '\0';
		return kr_error(KR_EPOLICY, "'%s' has a wrong check digit (did you mean %s?)", code, right);
	}
	return 0;
}

static int
s_slug_valid(const char *s)
{
	return *s && strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789-") == strlen(s) && strlen(s) <= 100;
}

static int
s_date_valid(const char *s)
{
	int y, m, d;
	char tail;
	static const int days[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

	if (strlen(s) != 10 || sscanf(s, "%4d-%2d-%2d%c", &y, &m, &d, &tail) != 3)
		return 0;
	if (s[4] != '-' || s[7] != '-' || y < 1868 || m < 1 || m > 12 || d < 1 || d > days[m - 1])
		return 0;
	return !(m == 2 && d == 29 && !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0));
}

/* Parses MAJOR.MINOR.PATCH[-pre]; 0 if not semver. */
static int
s_semver(const char *s, long v[3])
{
	const char *p = s;

	for (int i = 0; i < 3; i++) {
		char *end;
		if (*p < '0' || *p > '9' || (p[0] == '0' && p[1] >= '0' && p[1] <= '9'))
			return 0;
		v[i] = strtol(p, &end, 10);
		p = end;
		if (i < 2 && *p++ != '.')
			return 0;
	}
	return *p == '\0' || (*p == '-' && p[1]) || (*p == '+' && p[1]);
}

static void
s_list(kr_buf *b, const char *const *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		kr_buf_addf(b, "%s%s", i ? ", " : "", v[i]);
}

static int
s_in(const char *s, const char *const *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(s, v[i]) == 0)
			return 1;
	return 0;
}

static int s_line(const kr_yaml *fm, const char *key);

/* ---- closed vocabularies (CONTENT.md) ------------------------------ */

static const char *const s_domains[] = {
	"庁内一般業務", "選挙管理・議会支援", "福祉・介護", "子ども・子育て", "広報", "人材育成・採用",
	"政策立案", "健康・医療", "まちづくり", "住民問合せ対応", "防災・減災", "住民窓口業務",
	"財務・経理", "環境・エネルギー", "観光", "教育・文化",
};
static const char *const s_ai_uses[] = {
	"文書作成", "添削・翻訳", "コード生成", "アイデア出し", "対話生成", "情報抽出・要約", "データ処理・分析",
};
static const char *const s_deployments[] = {
	"webサービス", "組織向けプラットフォーム", "クラウド構築", "オンプレ構築", "不明",
};
static const char *const s_stages[] = { "推進体制構築", "企画", "PoC", "結果確認", "導入" };
static const char *const s_outcomes[] = { "本格導入", "継続実証", "見送り", "中止" };
static const char *const s_networks[] = { "LGWAN", "インターネット接続系", "クラウド接続系" };
#define N(a) (sizeof(a) / sizeof((a)[0]))

/* Code points of a UTF-8 string (at most max). */
static size_t
s_codepoints(const char *s, uint32_t *out, size_t max)
{
	size_t n = 0;

	while (*s && n < max)
		s += kr_utf8_next(s, strlen(s), &out[n++]);
	return n;
}

/* Edit distance between two short strings, by code point. */
static size_t
s_distance(const char *a, const char *b)
{
	uint32_t x[64], y[64];
	size_t nx = s_codepoints(a, x, 64), ny = s_codepoints(b, y, 64), row[65];

	for (size_t j = 0; j <= ny; j++)
		row[j] = j;
	for (size_t i = 1; i <= nx; i++) {
		size_t prev = row[0];
		row[0] = i;
		for (size_t j = 1; j <= ny; j++) {
			size_t cur = row[j];
			size_t sub = prev + (x[i - 1] != y[j - 1]);
			size_t del = row[j] + 1, ins = row[j - 1] + 1;
			row[j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
			prev = cur;
		}
	}
	return row[ny];
}

/* The allowed value nearest to v, if near enough to be a slip; else NULL. */
static const char *
s_nearest(const char *v, const char *const *allowed, size_t n)
{
	uint32_t tmp[64];
	size_t best = SIZE_MAX, len = s_codepoints(v, tmp, 64), contained = 0;
	const char *hit = NULL, *abbrev = NULL;

	/* an abbreviation of exactly one allowed value (住民問合せ -> 住民問合せ対応) */
	for (size_t i = 0; len >= 2 && i < n; i++)
		if (strstr(allowed[i], v)) {
			abbrev = allowed[i];
			contained++;
		}
	if (contained == 1)
		return abbrev;

	for (size_t i = 0; i < n; i++) {
		size_t d = s_distance(v, allowed[i]);
		if (d < best) {
			best = d;
			hit = allowed[i];
		}
	}
	return best <= (len < 6 ? 2 : len / 3) ? hit : NULL;
}

/*
 * Checks that field (a value or a list, as list says) holds only values
 * from allowed; names the allowed values and the nearest one.
 */
static void
s_vocab(const kr_yaml *fm, const char *field, int required, int list, const char *const *allowed,
    size_t n, const char *file, kr_findings *f)
{
	const kr_yaml *v = kr_yaml_get(fm, field);
	kr_buf all = KR_BUF_INIT;

	if (!v) {
		if (required) {
			s_list(&all, allowed, n);
			kr_findings_add(f, file, fm->line, 1, field, "required field '%s' is missing (one%s of: %s)",
			    field, list ? " or more" : "", all.ptr);
		}
		kr_buf_release(&all);
		return;
	}
	if (list && v->type == KR_YAML_SEQ && v->n == 0 && required) {
		s_list(&all, allowed, n);
		kr_findings_add(f, file, v->line, 1, field, "'%s' is empty (give one or more of: %s)", field, all.ptr);
	}
	for (size_t i = 0; i < (v->type == KR_YAML_SEQ ? v->n : 1); i++) {
		const kr_yaml *x = v->type == KR_YAML_SEQ ? v->items[i] : v;
		const char *near;
		if (x->type != KR_YAML_SCALAR || (v->type == KR_YAML_SEQ && !list) || (!list && v->type != KR_YAML_SCALAR)) {
			kr_findings_add(f, file, x->line, 1, field, "'%s' must be %s", field,
			    list ? "a list of values, e.g. [対話生成]" : "a single value");
			break;
		}
		if (s_in(x->value, allowed, n))
			continue;
		if (s_capped(f, file)) { /* only counted: skip the search for the nearest value */
			kr_findings_add(f, file, x->line, 1, field, "%s", x->value);
			continue;
		}
		kr_buf_clear(&all);
		s_list(&all, allowed, n);
		near = s_nearest(x->value, allowed, n);
		if (near)
			kr_findings_add(f, file, x->line, 1, field, "%s '%s' is not allowed: did you mean '%s'? (allowed: %s)",
			    field, x->value, near, all.ptr);
		else
			kr_findings_add(f, file, x->line, 1, field, "%s '%s' is not allowed (allowed: %s)",
			    field, x->value, all.ptr);
	}
	kr_buf_release(&all);
}

/*
 * The closed vocabulary of a search or import field: kind, domain(s),
 * ai_use(s), outcome, deployment, stage, popband. NULL for another name.
 */
static const char *const s_kind_names[] = { "case", "prompt", "guideline", "dataset" };
static const char *const s_popbands[] = { "<1万", "1-5万", "5-20万", "20万+" };

static const char *const *
s_vocabulary(const char *field, size_t *n)
{
	static const struct {
		const char *name;
		const char *const *v;
		size_t n;
	} t[] = {
		{ "kind", s_kind_names, N(s_kind_names) }, { "domain", s_domains, N(s_domains) },
		{ "domains", s_domains, N(s_domains) }, { "ai_use", s_ai_uses, N(s_ai_uses) },
		{ "ai_uses", s_ai_uses, N(s_ai_uses) }, { "outcome", s_outcomes, N(s_outcomes) },
		{ "deployment", s_deployments, N(s_deployments) }, { "stage", s_stages, N(s_stages) },
		{ "popband", s_popbands, N(s_popbands) },
	};

	for (size_t i = 0; i < N(t); i++)
		if (strcmp(field, t[i].name) == 0) {
			*n = t[i].n;
			return t[i].v;
		}
	return NULL;
}

int
kr_vocab_check(const char *field, const char *value)
{
	size_t n = 0;
	const char *const *v = s_vocabulary(field, &n), *near;
	kr_buf all = KR_BUF_INIT;
	int rc;

	assert(v);
	if (s_in(value, v, n))
		return 0;
	s_list(&all, v, n);
	near = s_nearest(value, v, n);
	if (near)
		rc = kr_error(KR_EUSAGE, "%s '%s' is not one of the values: did you mean '%s'? (allowed: %s)",
		    field, value, near, all.ptr);
	else
		rc = kr_error(KR_EUSAGE, "%s '%s' is not one of the values (allowed: %s)", field, value, all.ptr);
	kr_buf_release(&all);
	return rc;
}

const char *
kr_vocab_nearest(const char *field, const char *value)
{
	size_t n = 0;
	const char *const *v = s_vocabulary(field, &n);

	assert(v);
	return s_in(value, v, n) ? NULL : s_nearest(value, v, n);
}

/* ---- placeholders of a prompt ---------------------------------------- */

/*
 * A placeholder is {{NAME}}: NAME is at most PLACEHOLDER_MAX bytes with no
 * brace or line end ("{{{x}}}" is {{x}} in braces). Anything else is text.
 * The scan reads each byte of the body a bounded number of times, so a
 * body of 60,000 "{{" costs what any 120 KB body costs.
 */
#define PLACEHOLDER_MAX 128

typedef struct {
	const char *name;
	size_t len, order;
	int line;
} s_use;

static int
s_cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int
s_cmp_bytes(const char *a, size_t al, const char *b, size_t bl)
{
	int c = memcmp(a, b, al < bl ? al : bl);

	return c ? c : (al > bl) - (al < bl);
}

static int
s_cmp_declared(const void *key, const void *elem)
{
	const s_use *u = key;
	const char *name = *(const char *const *)elem;

	return s_cmp_bytes(u->name, u->len, name, strlen(name));
}

static int
s_cmp_use_name(const void *a, const void *b)
{
	const s_use *x = a, *y = b;
	int c = s_cmp_bytes(x->name, x->len, y->name, y->len);

	return c ? c : (x->order > y->order) - (x->order < y->order);
}

static int
s_cmp_use_order(const void *a, const void *b)
{
	const s_use *x = a, *y = b;

	return (x->order > y->order) - (x->order < y->order);
}

/*
 * Every {{name}} in the prompt body [body, end) is a declared variable;
 * each undeclared name is reported once, at the line of its first use.
 * O(n log n) in the body and the variables.
 */
static void
s_placeholders(const kr_yaml *fm, const char *body, const char *end, int body_line,
    const char *file, kr_findings *f)
{
	const kr_yaml *vars = kr_yaml_get(fm, "variables");
	const char **names = NULL;
	size_t nnames = 0, nu = 0, cap = 0, w = 0;
	s_use *u = NULL;
	const char *p = body, *counted = body;
	int line = body_line;

	if (vars && vars->type == KR_YAML_SEQ) {
		names = kr_calloc(vars->n + 1, sizeof(*names));
		for (size_t i = 0; i < vars->n; i++)
			if (kr_yaml_str(vars->items[i], "name"))
				names[nnames++] = kr_yaml_str(vars->items[i], "name");
		qsort(names, nnames, sizeof(*names), s_cmp_str);
	}
	for (; end - p >= 2; p++) {
		const char *n = p + 2, *q;
		if (p[0] != '{' || p[1] != '{')
			continue;
		while (n < end && *n == '{')
			n++;
		for (q = n; q < end && q - n <= PLACEHOLDER_MAX && *q != '{' && *q != '}' &&
		    *q != '\n' && *q != '\r'; q++)
			;
		if (end - q >= 2 && q[0] == '}' && q[1] == '}' && q - n <= PLACEHOLDER_MAX) {
			s_use use = { n, (size_t)(q - n), nu, 0 };
			line += kr_line_count(counted, n);
			counted = n;
			use.line = line;
			if (!nnames || !bsearch(&use, names, nnames, sizeof(*names), s_cmp_declared)) {
				if (nu == cap) {
					cap = cap ? cap * 2 : 16;
					u = kr_realloc(u, cap * sizeof(*u));
				}
				u[nu++] = use;
			}
			p = q + 1;
		} else {
			p = q - 1;
		}
	}
	/* once per name, in the order of first use */
	if (nu) {
		qsort(u, nu, sizeof(*u), s_cmp_use_name);
		for (size_t i = 0; i < nu; i++)
			if (i == 0 || s_cmp_bytes(u[i].name, u[i].len, u[w - 1].name, u[w - 1].len) != 0)
				u[w++] = u[i];
		qsort(u, w, sizeof(*u), s_cmp_use_order);
	}
	for (size_t i = 0; i < w; i++)
		kr_findings_add(f, file, u[i].line, 1, "variables", "the prompt uses {{%.*s}} but variables "
		    "does not declare it (add {name: %.*s, description: …, example: …})",
		    (int)u[i].len, u[i].name, (int)u[i].len, u[i].name);
	free(u);
	free(names);
}

/* Per-kind fields and vocabularies (CONTENT.md). */
static void
s_kind_rules(const kr_yaml *fm, const char *kind, const char *body, const char *body_end, int body_line,
    const char *file, kr_findings *f)
{
	if (strcmp(kind, "dataset") != 0) /* board kinds: only a consultation must say its 分野 */
		s_vocab(fm, "domains", !kr_board_kind(kind) || strcmp(kind, "consultation") == 0, 1, s_domains,
		    N(s_domains), file, f);
	if (kr_board_kind(kind))
		kr_board_kind_rules(fm, kind, body, body_end, file, f);
	if (strcmp(kind, "case") == 0) {
		s_vocab(fm, "ai_uses", 1, 1, s_ai_uses, N(s_ai_uses), file, f);
		s_vocab(fm, "deployment", 0, 0, s_deployments, N(s_deployments), file, f);
		s_vocab(fm, "stage", 0, 0, s_stages, N(s_stages), file, f);
		s_vocab(fm, "outcome", 0, 0, s_outcomes, N(s_outcomes), file, f);
		if (!kr_yaml_get(fm, "sources"))
			kr_findings_add(f, file, fm->line, 1, "sources",
			    "a case needs sources: [{title: …, issuer: …}] (where the facts come from)");
		{
			const kr_yaml *ms = kr_yaml_get(fm, "metrics"), *pop = kr_yaml_get(fm, "population");
			for (size_t i = 0; ms && ms->type == KR_YAML_SEQ && i < ms->n; i++) {
				const kr_yaml *m = ms->items[i];
				const char *a = kr_yaml_str(m, "achieved");
				char *end = NULL;
				if (!kr_yaml_str(m, "name") || !a)
					kr_findings_add(f, file, m->line, 1, "metrics",
					    "each metric needs name and achieved (e.g. {name: 正答率, unit: \"%%\", target: 99, achieved: 94.1})");
				else if ((strtod(a, &end), *end != '\0'))
					kr_findings_add(f, file, m->line, 1, "metrics", "metric achieved '%s' must be a number", a);
			}
			if (pop && kr_yaml_str(pop, "value")) {
				char *end;
				strtol(kr_yaml_str(pop, "value"), &end, 10);
				if (*end)
					kr_findings_add(f, file, pop->line, 1, "population",
					    "population.value '%s' must be a whole number (e.g. 62000)", kr_yaml_str(pop, "value"));
			}
		}
	} else if (strcmp(kind, "prompt") == 0) {
		s_vocab(fm, "ai_uses", 1, 1, s_ai_uses, N(s_ai_uses), file, f);
		s_vocab(fm, "ai_use", 0, 0, s_ai_uses, N(s_ai_uses), file, f);
		s_placeholders(fm, body, body_end, body_line, file, f);
	} else if (strcmp(kind, "guideline") == 0) {
		const char *ed = kr_yaml_str(fm, "edition");
		if (!ed)
			kr_findings_add(f, file, fm->line, 1, "edition", "a guideline needs edition: 第N版");
		else if (strncmp(ed, "第", 3) != 0 || strcmp(ed + strlen(ed) - 3, "版") != 0)
			kr_findings_add(f, file, s_line(fm, "edition"), 1, "edition",
			    "edition '%s' must read 第N版 (e.g. 第5版)", ed);
		{
			const kr_yaml *ap = kr_yaml_get(fm, "applies_to");
			if (ap && kr_yaml_get(ap, "network"))
				s_vocab(ap, "network", 0, 0, s_networks, N(s_networks), file, f);
		}
	} else if (strcmp(kind, "dataset") == 0) {
		const kr_yaml *lang = kr_yaml_get(fm, "language");
		int ja = 0;
		for (size_t i = 0; lang && lang->type == KR_YAML_SEQ && i < lang->n; i++)
			ja |= lang->items[i]->type == KR_YAML_SCALAR && strcmp(lang->items[i]->value, "ja") == 0;
		if (!ja)
			kr_findings_add(f, file, lang ? lang->line : fm->line, 1, "language",
			    "a dataset card needs language: [ja] (Hugging Face card layout)");
	}
	{
		const kr_yaml *d = kr_yaml_get(fm, "derived_from");
		static const char *const rel[] = { "改変", "抜粋", "翻訳", "ひな型適用" };
		for (size_t i = 0; d && d->type == KR_YAML_SEQ && i < d->n; i++) {
			const kr_yaml *x = d->items[i];
			const char *r = kr_yaml_str(x, "relation");
			if (!kr_yaml_str(x, "id"))
				kr_findings_add(f, file, x->line, 1, "derived_from", "derived_from needs the id of the source item");
			if (!r || !s_in(r, rel, 4))
				kr_findings_add(f, file, x->line, 1, "derived_from",
				    "derived_from relation must be one of 改変, 抜粋, 翻訳, ひな型適用");
			if (!kr_yaml_str(x, "modifications"))
				kr_findings_add(f, file, x->line, 1, "derived_from",
				    "derived_from needs modifications: what was changed (PDL-1.0 requires stating edits)");
		}
	}
}

/* Required scalar field: reports it missing and returns NULL. */
static const char *
s_need(const kr_yaml *fm, const char *key, const char *file, kr_findings *f, const char *hint)
{
	const kr_yaml *v = kr_yaml_get(fm, key);

	if (!v) {
		kr_findings_add(f, file, fm->line, 1, key, "required field '%s' is missing (%s)", key, hint);
		return NULL;
	}
	if (v->type != KR_YAML_SCALAR || !v->value[0]) {
		kr_findings_add(f, file, v->line, 1, key, "'%s' must be a single value (%s)", key, hint);
		return NULL;
	}
	return v->value;
}

static int
s_line(const kr_yaml *fm, const char *key)
{
	const kr_yaml *v = kr_yaml_get(fm, key);

	return v ? v->line : fm->line;
}

/* Front-matter keys that are bookkeeping, not something anyone searches for. */
static const char *const s_unsearched[] = {
	"kind", "id", "version", "published", "updated", "license", "confidentiality", "draft",
	"lg_code", "url", "date", "path", "split", "config_name", "value", "year",
};

static void
s_collect_values(kr_buf *b, const char *key, const kr_yaml *y)
{
	for (size_t i = 0; key && i < sizeof(s_unsearched) / sizeof(s_unsearched[0]); i++)
		if (strcmp(key, s_unsearched[i]) == 0)
			return;
	if (y->type == KR_YAML_SCALAR) {
		if (y->value[0]) {
			kr_buf_adds(b, y->value);
			kr_buf_addch(b, '\n');
		}
		return;
	}
	for (size_t i = 0; i < y->n; i++)
		s_collect_values(b, y->type == KR_YAML_MAP ? y->keys[i] : key, y->items[i]);
}

static char *
s_yaml_list(const kr_yaml *fm, const char *key)
{
	const kr_yaml *v = kr_yaml_get(fm, key);
	kr_buf b = KR_BUF_INIT;

	if (!v)
		return NULL;
	kr_buf_addch(&b, '\n');
	if (v->type == KR_YAML_SCALAR)
		kr_buf_addf(&b, "%s\n", v->value);
	for (size_t i = 0; v->type == KR_YAML_SEQ && i < v->n; i++)
		if (v->items[i]->type == KR_YAML_SCALAR)
			kr_buf_addf(&b, "%s\n", v->items[i]->value);
	return kr_buf_detach(&b);
}

/* The headline metric of a case: "正答率 94.1% / 目標 99%". */
static char *
s_headline(const kr_yaml *fm)
{
	const kr_yaml *ms = kr_yaml_get(fm, "metrics"), *m;
	const char *name, *unit, *achieved, *target;

	if (!ms || ms->type != KR_YAML_SEQ || ms->n == 0 || (m = ms->items[0])->type != KR_YAML_MAP)
		return NULL;
	name = kr_yaml_str(m, "name");
	unit = kr_yaml_str(m, "unit");
	achieved = kr_yaml_str(m, "achieved");
	target = kr_yaml_str(m, "target");
	if (!name || !achieved)
		return NULL;
	unit = unit ? unit : "";
	return target ? kr_sprintf("%s %s%s / 目標 %s%s", name, achieved, unit, target, unit)
	              : kr_sprintf("%s %s%s", name, achieved, unit);
}

static void
s_search_fields(kr_item *out, const kr_yaml *fm, const char *body, const char *end)
{
	const kr_yaml *pop = kr_yaml_get(fm, "population");
	const char *v;
	kr_buf meta = KR_BUF_INIT;

	out->body = kr_strndup(body, (size_t)(end - body));
	s_collect_values(&meta, NULL, fm);
	out->meta = kr_buf_detach(&meta);
	out->domains = s_yaml_list(fm, "domains");
	out->ai_uses = s_yaml_list(fm, "ai_uses");
	if ((v = kr_yaml_str(fm, "outcome")))
		out->outcome = kr_strdup(v);
	if ((v = kr_yaml_str(fm, "deployment")))
		out->deployment = kr_strdup(v);
	if (pop && (v = kr_yaml_str(pop, "value"))) {
		long n = strtol(v, NULL, 10);
		out->popband = kr_strdup(n < 10000 ? "<1万" : n < 50000 ? "1-5万" : n < 200000 ? "5-20万" : "20万+");
	}
	out->headline = s_headline(fm);
}

int
kr_item_check(kr_item *out, const kr_policy *pol, const char *file,
    const char *text, size_t len, const char *set_hint, kr_findings *f)
{
	size_t before = kr_findings_blocking(f);
	kr_yaml *fm = NULL;
	const kr_yaml *pub, *draft;
	const char *body, *kind, *id, *title, *version, *published, *updated, *license, *conf;
	int body_line;
	long sv[3];
	kr_buf allowed = KR_BUF_INIT;

	const kr_policy_rules *rules = s_rules(pol);
	size_t cap = pol->max_item_bytes ? pol->max_item_bytes :
	    (size_t)kr_policy_size(rules, pol->receiving ? "accept.max_item_bytes" : "publish.max_item_bytes", 1u << 20);

	memset(out, 0, sizeof(*out));
	if (len > cap) {
		/* refused as it is: no check reads further than the cap */
		kr_findings_add(f, file, 0, 1, "size", "item is %zu bytes, over the %zu byte limit "
		    "(split it, or raise policy.%s in the node config)", len, cap,
		    pol->receiving ? "accept.max_item_bytes" : "publish.max_item_bytes");
		return KR_EPOLICY;
	}
	if (kr_frontmatter_parse(&fm, text, len, &body, &body_line) < 0) {
		kr_findings_add(f, file, 0, 1, "front-matter", "%s", kr_errmsg());
		return KR_EPOLICY;
	}

	kind = s_need(fm, "kind", file, f, "one of case, prompt, guideline, dataset, "
	    "endorsement, consultation, answer, adoption");
	if (kind && !kr_kind_collection(kind)) {
		kr_findings_add(f, file, s_line(fm, "kind"), 1, "kind", "kind '%s' is not one of case, prompt, "
		    "guideline, dataset, endorsement, consultation, answer, adoption", kind);
		kind = NULL;
	}
	title = s_need(fm, "title", file, f, "a Japanese title, e.g. title: ごみ出し案内チャットボットの実証");
	version = s_need(fm, "version", file, f, "semver such as 1.0.0");
	published = s_need(fm, "published", file, f, "an ISO date such as 2024-06-01");
	updated = s_need(fm, "updated", file, f, "an ISO date such as 2024-06-01");
	license = s_need(fm, "license", file, f, "PDL-1.0, CC-BY-4.0 or CC0-1.0; on a Hugging Face card also "
	    "cc-by-4.0, cc0-1.0, or other with license_name: pdl-1.0");
	conf = s_need(fm, "confidentiality", file, f, "機密性1 for anything that is published");
	id = s_need(fm, "id", file, f, "<lg_code>/<kind>/<slug>, e.g. 372081/case/gomi-chatbot-poc");

	pub = kr_yaml_get(fm, "publisher");
	if (!pub || pub->type != KR_YAML_MAP) {
		kr_findings_add(f, file, pub ? pub->line : fm->line, 1, "publisher",
		    "publisher must be {lg_code: \"%s\", name: ...}", pol->lg_code ? pol->lg_code : "NNNNNN");
	} else {
		const char *code = kr_yaml_str(pub, "lg_code"), *name = kr_yaml_str(pub, "name");
		char right[7];
		int line = kr_yaml_get(pub, "lg_code") ? kr_yaml_get(pub, "lg_code")->line : pub->line;
		if (!code) {
			kr_findings_add(f, file, pub->line, 1, "publisher.lg_code",
			    "publisher.lg_code is missing (the 6-digit 全国地方公共団体コード, quoted)");
		} else if (kr_lgcode_check(code, right) < 0) {
			kr_findings_add(f, file, line, 1, "publisher.lg_code", "publisher.lg_code %s", kr_errmsg());
		} else if (pol->lg_code && strcmp(code, pol->lg_code) != 0 &&
		    !(s_prefecture_code(pol->lg_code) &&
		    (pol->receiving ? strncmp(code, pol->lg_code, 2) == 0
		                    : kr_policy_has(rules, "publish.co_publishers", code)))) {
			kr_findings_add(f, file, line, 1, "publisher.lg_code",
			    "publisher.lg_code %s is not this publisher's code %s "
			    "(a node publishes only its own items%s)", code, pol->lg_code,
			    s_prefecture_code(pol->lg_code) ? "; a board lists the municipalities it publishes for "
			    "in policy.publish.co_publishers" : "");
		} else {
			out->lg_code = kr_strdup(code);
		}
		if (!name || !*name)
			kr_findings_add(f, file, pub->line, 1, "publisher.name",
			    "publisher.name is missing (e.g. name: 三豊市)");
		else
			out->pub_name = kr_strdup(name);
	}

	if (id) {
		const char *s1 = strchr(id, '/'), *s2 = s1 ? strchr(s1 + 1, '/') : NULL;
		int line = s_line(fm, "id");
		if (!s1 || !s2 || strchr(s2 + 1, '/')) {
			kr_findings_add(f, file, line, 1, "id", "id '%s' is not <lg_code>/<kind>/<slug>", id);
		} else {
			char *code = kr_strndup(id, (size_t)(s1 - id));
			char *k = kr_strndup(s1 + 1, (size_t)(s2 - s1 - 1));
			const char *slug = s2 + 1;
			if (out->lg_code && strcmp(code, out->lg_code) != 0)
				kr_findings_add(f, file, line, 1, "id",
				    "id starts with %s but publisher.lg_code is %s (use %s/%s/%s)",
				    code, out->lg_code, out->lg_code, k, slug);
			if (kind && strcmp(k, kind) != 0)
				kr_findings_add(f, file, line, 1, "id",
				    "id says kind '%s' but kind is '%s'", k, kind);
			if (!s_slug_valid(slug))
				kr_findings_add(f, file, line, 1, "id",
				    "slug '%s' must be lower-case ASCII letters, digits and '-' (e.g. gomi-chatbot-poc)", slug);
			else
				out->slug = kr_strdup(slug);
			free(code);
			free(k);
		}
		out->id = kr_strdup(id);
	}
	if (version) {
		if (!s_semver(version, sv)) {
			kr_findings_add(f, file, s_line(fm, "version"), 1, "version",
			    "version '%s' is not semver (MAJOR.MINOR.PATCH, e.g. 1.0.0)", version);
		} else {
			out->version = kr_strdup(version);
			if (kr_yaml_str(fm, "version_notes") && *kr_yaml_str(fm, "version_notes"))
				out->notes = kr_strdup(kr_yaml_str(fm, "version_notes"));
			if ((sv[0] > 1 || (sv[0] == 1 && sv[1] >= 1)) && !kr_yaml_str(fm, "version_notes"))
				kr_findings_add(f, file, s_line(fm, "version"), 1, "version_notes",
				    "version %s needs version_notes: why this version changed (改訂理由)", version);
		}
	}
	if (published && !s_date_valid(published))
		kr_findings_add(f, file, s_line(fm, "published"), 1, "published",
		    "published '%s' is not an ISO date (YYYY-MM-DD, 西暦)", published);
	else if (published)
		out->published = kr_strdup(published);
	if (updated && !s_date_valid(updated))
		kr_findings_add(f, file, s_line(fm, "updated"), 1, "updated",
		    "updated '%s' is not an ISO date (YYYY-MM-DD, 西暦)", updated);
	else if (updated)
		out->updated = kr_strdup(updated);
	if (out->published && out->updated && strcmp(out->updated, out->published) < 0)
		kr_findings_add(f, file, s_line(fm, "updated"), 1, "updated",
		    "updated %s is before published %s", out->updated, out->published);
	if (license && strcmp(license, "other") == 0) {
		/* the Hub's form for a licence it does not list: license_name says which, license_link where */
		const char *name = kr_yaml_str(fm, "license_name"), *link = kr_yaml_str(fm, "license_link");
		const char *spdx = kr_license_spdx(license, name);
		if (!spdx) {
			kr_findings_add(f, file, s_line(fm, name ? "license_name" : "license"), 1, "license",
			    name ? "license_name '%s' is not a licence kairan knows (with license: other, write "
			    "license_name: pdl-1.0 and license_link)" : "license: other needs license_name "
			    "(pdl-1.0) and license_link%s", name ? name : "");
			license = NULL;
		} else {
			if (!link || strncmp(link, "https://", 8) != 0)
				kr_findings_add(f, file, s_line(fm, link ? "license_link" : "license"), 1, "license",
				    "license: other needs license_link: the licence's https:// address (for pdl-1.0: "
				    "https://www.digital.go.jp/resources/open_data/public_data_license_v1.0)");
			license = spdx;
		}
	} else if (license && kr_license_spdx(license, NULL)) {
		license = kr_license_spdx(license, NULL); /* cc-by-4.0 is CC-BY-4.0 */
	}
	if (license && (!s_in(license, s_licenses, 3) || !kr_policy_has(rules, "publish.licenses", license))) {
		kr_buf_clear(&allowed);
		for (const char *w = kr_policy_get(rules, "publish.licenses"); w && *w;) {
			size_t l = strcspn(w, " ");
			if (l)
				kr_buf_addf(&allowed, "%s%.*s", allowed.len ? ", " : "", (int)l, w);
			w += l + (w[l] == ' ');
		}
		kr_findings_add(f, file, s_line(fm, "license"), 1, "license",
		    "license '%s' is not allowed (allowed: %s)", license, allowed.ptr);
	}
	if (conf && !s_in(conf, s_confidentiality, 6)) {
		kr_buf_clear(&allowed);
		s_list(&allowed, s_confidentiality, 6);
		kr_findings_add(f, file, s_line(fm, "confidentiality"), 1, "confidentiality",
		    "confidentiality '%s' is not a known class (allowed: %s)", conf, allowed.ptr);
	} else if (conf && !kr_policy_has(rules, "publish.confidentiality", conf)) {
		kr_findings_add(f, file, s_line(fm, "confidentiality"), 1, "confidentiality",
		    "confidentiality %s may not be published (set %s or keep it local)", conf,
		    kr_policy_get(rules, "publish.confidentiality"));
	}
	if (kind)
		s_kind_rules(fm, kind, body, text + len, body_line, file, f);
	if (kind && pol->receiving && !kr_policy_has(rules, "accept.kinds", kind))
		kr_findings_add(f, file, 0, 1, "accept.kinds", "this node does not accept %s items "
		    "(policy.accept.kinds = %s)", kind, kr_policy_get(rules, "accept.kinds"));
	{
		const kr_policy_rules *saved = f->levels;
		f->levels = rules; /* block, warn or off per rule */
		kr_pii_scan(file, text, len, pol->pii, f);
		f->levels = saved;
	}
	draft = kr_yaml_get(fm, "draft");
	if (draft && (draft->type != KR_YAML_SCALAR || (strcmp(draft->value, "false") != 0 &&
	    strcmp(draft->value, "no") != 0)))
		kr_findings_add(f, file, draft->line, 1, "draft",
		    "draft items never leave this node (remove 'draft: true' when the item is ready)");

	if (title)
		out->title = kr_strdup(title);
	if (kind) {
		out->kind = kr_strdup(kind);
		out->collection = kr_strdup(kr_kind_collection(kind));
	}
	if (kind && out->slug) {
		if (strcmp(kind, "case") == 0 || strcmp(kind, "guideline") == 0 || kr_board_kind(kind)) {
			out->path = kr_sprintf("%s/%s.md", out->collection, out->slug);
		} else if (strcmp(kind, "dataset") == 0) {
			out->path = kr_sprintf("datasets/%s/README.md", out->slug);
		} else {
			const char *set = kr_yaml_str(fm, "set");
			if (!set)
				set = set_hint && s_slug_valid(set_hint) && strcmp(set_hint, "prompts") != 0 ? set_hint : "general";
			if (!s_slug_valid(set))
				kr_findings_add(f, file, s_line(fm, "set"), 1, "set",
				    "prompt set '%s' must be lower-case ASCII letters, digits and '-'", set);
			else
				out->path = kr_sprintf("prompts/%s/%s.md", set, out->slug);
		}
	}
	s_search_fields(out, fm, body, text + len);
	kr_buf_release(&allowed);
	kr_yaml_free(&fm);
	return kr_findings_blocking(f) > before ? KR_EPOLICY : 0;
}

int
kr_item_check_received(kr_item *out, const kr_policy *pol, const char *coll,
    const char *path, const char *data, size_t len, kr_findings *f)
{
	size_t clen = strlen(coll), before = kr_findings_blocking(f);
	const char *name = strrchr(path, '/');

	memset(out, 0, sizeof(*out));
	if (strncmp(path, coll, clen) != 0 || path[clen] != '/') {
		kr_findings_add(f, path, 0, 1, "layout", "file is outside collection %s/", coll);
		return KR_EPOLICY;
	}
	name = name ? name + 1 : path;
	if (strcmp(coll, "datasets") == 0 && strstr(path, "/data/") &&
	    strlen(name) > 6 && strcmp(name + strlen(name) - 6, ".jsonl") == 0) {
		uint64_t cap = kr_policy_size(s_rules(pol), "publish.max_dataset_file_bytes", 64u << 20);
		if (len > cap) {
			kr_findings_add(f, path, 0, 1, "size", "dataset file is %zu bytes, over the %llu byte "
			    "limit (policy.publish.max_dataset_file_bytes)", len, (unsigned long long)cap);
		} else {
			const kr_policy_rules *saved = f->levels;
			f->levels = s_rules(pol);
			kr_dataset_check_rows(path, data, len, pol, f);
			f->levels = saved;
		}
		return kr_findings_blocking(f) > before ? KR_EPOLICY : 0;
	}
	if (strlen(name) < 4 || strcmp(name + strlen(name) - 3, ".md") != 0) {
		kr_findings_add(f, path, 0, 1, "layout", "unexpected file in a collection (only items and dataset JSONL)");
		return KR_EPOLICY;
	}
	{
		/* prompts/<set>/<slug>.md: the set is the directory */
		char *hint = NULL;
		const char *s1 = strchr(path, '/');
		if (s1 && name > s1 + 1)
			hint = kr_strndup(s1 + 1, (size_t)(name - s1 - 2));
		kr_item_check(out, pol, path, data, len, hint, f);
		free(hint);
	}
	if (out->collection && strcmp(out->collection, coll) != 0)
		kr_findings_add(f, path, 0, 1, "layout", "a %s item does not belong in collection %s", out->kind, coll);
	else if (out->path && strcmp(out->path, path) != 0)
		kr_findings_add(f, path, 0, 1, "layout", "item %s belongs at %s, not %s", out->id, out->path, path);
	return kr_findings_blocking(f) > before ? KR_EPOLICY : 0;
}

void
kr_item_clear(kr_item *it)
{
	free(it->kind); free(it->id); free(it->slug); free(it->title); free(it->version);
	free(it->published); free(it->updated); free(it->lg_code); free(it->pub_name);
	free(it->collection); free(it->path);
	free(it->body); free(it->meta); free(it->domains); free(it->ai_uses);
	free(it->outcome); free(it->deployment); free(it->popband); free(it->headline);
	free(it->notes);
	memset(it, 0, sizeof(*it));
}

void
kr_item_vocab(const kr_yaml *fm, const char *field, int required, int list, const char *const *allowed,
    size_t n, const char *file, kr_findings *f)
{
	s_vocab(fm, field, required, list, allowed, n, file, f);
}

int
kr_date_valid(const char *s)
{
	return s_date_valid(s);
}
