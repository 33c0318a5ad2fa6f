/*
 * node/searchq.c - the filters of a search, checked (see searchq.h)
 */
#include "searchq.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "../policies/item.h"
#include "../policies/values.h"

static const struct {
	const char *param, *field, *option, *label;
	size_t off;
} s_vocab[] = {
	{ "kind", "kind", "--kind", "種類", offsetof(kr_search_q, kind) },
	{ "domain", "domain", "--domain", "分野", offsetof(kr_search_q, domain) },
	{ "ai_use", "ai_use", "--ai-use", "AIの使い方", offsetof(kr_search_q, ai_use) },
	{ "outcome", "outcome", "--outcome", "結果", offsetof(kr_search_q, outcome) },
	{ "deployment", "deployment", "--deployment", "導入形態", offsetof(kr_search_q, deployment) },
	{ "popband", "popband", "--population-band", "人口規模", offsetof(kr_search_q, popband) },
};

const char *
kr_searchq_option(const char *param)
{
	for (size_t i = 0; i < sizeof(s_vocab) / sizeof(s_vocab[0]); i++)
		if (strcmp(param, s_vocab[i].param) == 0)
			return s_vocab[i].option;
	if (strcmp(param, "pref") == 0)
		return "--pref";
	if (strcmp(param, "since") == 0)
		return "--since";
	if (strcmp(param, "until") == 0)
		return "--until";
	return param;
}

/* Fills n's error fields; the English message stays set. */
static int
s_fail(kr_searchq_norm *n, int rc, const char *param, const char *value, const char *suggestion, char *ja)
{
	n->param = param;
	n->value = kr_strdup(value);
	n->suggestion = suggestion;
	n->ja = ja;
	return rc;
}

static int
s_date(kr_searchq_norm *n, const char *param, const char *label, const char **v, char out[11])
{
	int rc;

	if (!*v)
		return 0;
	if ((rc = kr_value_date(*v, out)) < 0)
		return s_fail(n, rc, param, *v, NULL, kr_sprintf("%s '%s' を日付として正確に読めません（2024-07-01、"
		    "2024/7/1、令和6年7月1日、R6.7.1 のように書いてください）。", label, *v));
	*v = out;
	return 0;
}

int
kr_searchq_check(kr_search_q *q, kr_searchq_norm *n)
{
	int rc;

	memset(n, 0, sizeof(*n));
	for (size_t i = 0; i < sizeof(s_vocab) / sizeof(s_vocab[0]); i++) {
		const char *v = *(const char **)((char *)q + s_vocab[i].off);
		const char *near;
		if (!v || (rc = kr_vocab_check(s_vocab[i].field, v)) == 0)
			continue;
		near = kr_vocab_nearest(s_vocab[i].field, v);
		return s_fail(n, rc, s_vocab[i].param, v, near, near ?
		    kr_sprintf("%s「%s」は使える値ではありません。もしかして「%s」ですか？", s_vocab[i].label, v, near) :
		    kr_sprintf("%s「%s」は使える値ではありません（使える値は docs/content.md にあります）。",
		    s_vocab[i].label, v));
	}
	if (q->pref) {
		if ((rc = kr_value_pref(q->pref, n->pref)) < 0)
			return s_fail(n, rc, "pref", q->pref, NULL, kr_sprintf("都道府県「%s」が分かりません（37、香川県、"
			    "香川のように、01〜47 の番号か名前で指定してください）。", q->pref));
		q->pref = n->pref;
	}
	if ((rc = s_date(n, "since", "いつから", &q->since, n->since)) < 0 ||
	    (rc = s_date(n, "until", "いつまで", &q->until, n->until)) < 0)
		return rc;
	if (q->since && q->until && strcmp(q->since, q->until) > 0) {
		rc = kr_error(KR_EUSAGE, "--since %s is after --until %s: no day is in between", q->since, q->until);
		return s_fail(n, rc, "until", q->until, NULL, kr_sprintf("いつまで（%s）がいつから（%s）より前です。",
		    q->until, q->since));
	}
	return 0;
}

void
kr_searchq_norm_clear(kr_searchq_norm *n)
{
	free(n->value);
	free(n->ja);
	memset(n, 0, sizeof(*n));
}
