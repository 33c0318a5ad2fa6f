/*
 * sharing/search.c - query language -> FTS5 expression
 *
 * Parsing is a single left-to-right pass over terms; no user text ever
 * reaches FTS5 outside a quoted string (quotes doubled), so no query can
 * produce an FTS5 syntax error or inject an operator.
 */
#include "search.h"

#include <stdlib.h>
#include <string.h>

#include "text.h"

typedef struct {
	char *text;
	int neg, or_next;
} s_term;

/* Length of a whitespace character at p (ASCII space/tab/newline or U+3000), else 0. */
static int
s_space(const char *p)
{
	if (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
		return 1;
	if ((unsigned char)p[0] == 0xE3 && (unsigned char)p[1] == 0x80 && (unsigned char)p[2] == 0x80)
		return 3;
	return 0;
}

/* Length of a double quote at p ("  ＂  “  ”), else 0. */
static int
s_quote(const char *p)
{
	if (*p == '"')
		return 1;
	if ((unsigned char)p[0] == 0xEF && (unsigned char)p[1] == 0xBC && (unsigned char)p[2] == 0x82)
		return 3;
	if ((unsigned char)p[0] == 0xE2 && (unsigned char)p[1] == 0x80 &&
	    ((unsigned char)p[2] == 0x9C || (unsigned char)p[2] == 0x9D))
		return 3;
	return 0;
}

int
kr_search_compile(const char *q, kr_buf *match)
{
	s_term *t = NULL;
	size_t n = 0, cap = 0, npos = 0;
	const char *p = q;
	int rc = 0, pending_or = 0;

	while (*p) {
		int sp = s_space(p), qt, neg = 0;
		const char *start;
		char *text;

		if (sp) {
			p += sp;
			continue;
		}
		if (*p == '-' && p[1] && !s_space(p + 1)) {
			neg = 1;
			p++;
		}
		if ((qt = s_quote(p))) {
			p += qt;
			start = p;
			while (*p && !s_quote(p))
				p++;
			if (!*p) {
				rc = kr_error(KR_EUSAGE, "the query has an unbalanced quote: close the phrase "
				    "with \" or remove the quote");
				goto done;
			}
			text = kr_strndup(start, (size_t)(p - start));
			p += s_quote(p);
		} else {
			start = p;
			while (*p && !s_space(p) && !s_quote(p))
				p++;
			text = kr_strndup(start, (size_t)(p - start));
			if (!neg && strcmp(text, "OR") == 0) {
				free(text);
				if (n == 0 || pending_or || t[n - 1].neg) {
					rc = kr_error(KR_EUSAGE, "OR needs a word on each side (e.g. ごみ OR 資源)");
					goto done;
				}
				pending_or = 1;
				continue;
			}
		}
		{
			if (kr_text_count(text, (int)strlen(text), KR_TEXT_QUERY) == 0) {
				/* punctuation only: nothing to look for */
				free(text);
				if (pending_or)
					pending_or = 0;
				continue;
			}
		}
		if (pending_or && neg) {
			free(text);
			rc = kr_error(KR_EUSAGE, "OR cannot be followed by an exclusion (-word)");
			goto done;
		}
		if (n == cap) {
			cap = cap ? cap * 2 : 8;
			t = kr_realloc(t, cap * sizeof(*t));
		}
		if (pending_or)
			t[n - 1].or_next = 1;
		pending_or = 0;
		t[n].text = text;
		t[n].neg = neg;
		t[n].or_next = 0;
		npos += !neg;
		n++;
	}
	if (pending_or) {
		rc = kr_error(KR_EUSAGE, "OR needs a word on each side (e.g. ごみ OR 資源)");
		goto done;
	}
	if (npos == 0) {
		rc = kr_error(KR_EUSAGE, n ? "a query needs at least one word to look for, not only "
		    "exclusions (-word)" : "the query is empty: give a word to look for (e.g. ごみ)");
		goto done;
	}
	kr_buf_addch(match, '(');
	for (size_t i = 0, first = 1; i < n; i++) {
		if (t[i].neg)
			continue;
		if (!first)
			kr_buf_adds(match, " AND ");
		first = 0;
		if (t[i].or_next) {
			kr_buf_addch(match, '(');
			for (; t[i].or_next; i++) {
				kr_buf_addquoted(match, t[i].text);
				kr_buf_adds(match, " OR ");
			}
			kr_buf_addquoted(match, t[i].text);
			kr_buf_addch(match, ')');
		} else {
			kr_buf_addquoted(match, t[i].text);
		}
	}
	kr_buf_addch(match, ')');
	for (size_t i = 0; i < n; i++)
		if (t[i].neg) {
			kr_buf_adds(match, " NOT ");
			kr_buf_addquoted(match, t[i].text);
		}
done:
	for (size_t i = 0; i < n; i++)
		free(t[i].text);
	free(t);
	return rc;
}

static const char *const s_prefs[48] = {
	NULL, "北海道", "青森県", "岩手県", "宮城県", "秋田県", "山形県", "福島県", "茨城県", "栃木県",
	"群馬県", "埼玉県", "千葉県", "東京都", "神奈川県", "新潟県", "富山県", "石川県", "福井県",
	"山梨県", "長野県", "岐阜県", "静岡県", "愛知県", "三重県", "滋賀県", "京都府", "大阪府",
	"兵庫県", "奈良県", "和歌山県", "鳥取県", "島根県", "岡山県", "広島県", "山口県", "徳島県",
	"香川県", "愛媛県", "高知県", "福岡県", "佐賀県", "長崎県", "熊本県", "大分県", "宮崎県",
	"鹿児島県", "沖縄県",
};

const char *
kr_pref_name(const char *code)
{
	int n;

	if (!code || strlen(code) < 2 || code[0] < '0' || code[0] > '4' || code[1] < '0' || code[1] > '9')
		return NULL;
	n = (code[0] - '0') * 10 + (code[1] - '0');
	return n >= 1 && n <= 47 ? s_prefs[n] : NULL;
}

static const char *const s_facet_keys[KR_NFACETS] = { "kind", "outcome", "domain", "prefecture", "ai_use", "deployment",
	"popband" };

void
kr_search_result_json(kr_buf *b, const kr_search_result *r, const char *query, char *const *hit_extra,
    const char *doc_extra, kr_search_url_fn url, void *url_arg)
{
	kr_buf_adds(b, "{");
	kr_buf_addjson_kv(b, "query", query, 0);
	kr_buf_addf(b, ",\"total\":%zu,\"hits\":[", r->total);
	for (size_t i = 0; i < r->nhits; i++) {
		const kr_search_hit *h = &r->hits[i];
		kr_buf_adds(b, i ? ",{" : "{");
		kr_buf_addjson_kv(b, "id", h->id, 0);
		kr_buf_addjson_kv(b, "title", h->title, 1);
		kr_buf_addjson_kv(b, "publisher", h->publisher, 1);
		kr_buf_addjson_kv(b, "publisher_name", h->pub_name, 1);
		kr_buf_addjson_kv(b, "lg_code", h->pub_code, 1);
		kr_buf_addjson_kv(b, "kind", h->kind, 1);
		kr_buf_addjson_kv(b, "version", h->version, 1);
		kr_buf_addjson_kv(b, "updated", h->updated, 1);
		kr_buf_addjson_kv(b, "outcome", h->outcome, 1);
		kr_buf_addjson_kv(b, "headline", h->headline, 1);
		kr_buf_addjson_kv(b, "snippet", h->snippet, 1);
		if (h->more_rows)
			kr_buf_addf(b, ",\"more_rows\":%zu", h->more_rows);
		if (url) {
			kr_buf u = KR_BUF_INIT;
			url(&u, h->id, url_arg);
			kr_buf_addjson_kv(b, "url", u.ptr, 1);
			kr_buf_release(&u);
		}
		kr_buf_addf(b, ",\"rank\":%.4f,\"source\":\"local\",\"verified\":true", h->rank);
		if (hit_extra && hit_extra[i]) {
			kr_buf_addch(b, ',');
			kr_buf_adds(b, hit_extra[i]);
		}
		kr_buf_addch(b, '}');
	}
	kr_buf_addf(b, "],\"rows_folded\":%zu,\"facets\":{", r->rows_folded);
	for (int f = 0; f < KR_NFACETS; f++) {
		kr_buf_addf(b, "%s\"%s\":{", f ? "," : "", s_facet_keys[f]);
		for (size_t i = 0; i < r->nfacets[f]; i++) {
			if (i)
				kr_buf_addch(b, ',');
			kr_buf_addjson(b, r->facets[f][i].value);
			kr_buf_addf(b, ":%zu", r->facets[f][i].count);
		}
		kr_buf_addch(b, '}');
	}
	kr_buf_adds(b, "}");
	if (doc_extra) {
		kr_buf_addch(b, ',');
		kr_buf_adds(b, doc_extra);
	}
	kr_buf_adds(b, "}\n");
}
