/*
 * node/web_pages.c - the pages for municipal staff, in Japanese, rendered
 * on the server and complete without JavaScript: 新着, 検索, an item,
 * 差分, the dataset viewer and downloads, 連携・ボード, 状態, errors
 *
 * Invariant: every value that comes from an item, a peer, the config or
 * the request reaches the page through kr_html_text/_attr/_link (node/
 * html.c), item bodies through cmark with raw HTML off (node/markdown.c);
 * markup is only ever a string literal. No inline style or script, so the
 * CSP default-src 'self' holds for every page.
 *
 * Accessibility (JIS X 8341-3:2016 AA, WCAG 2.1 AA): lang="ja", one h1 per
 * page and headings in order, a skip link, labelled form controls, tables
 * with captions and header cells, the current page marked aria-current,
 * visible focus, colours at 4.5:1 or better; changes in a diff are also
 * named in text (（削除）/（追加）), not only by colour.
 *
 * Runs on the web threads (node/web.c), with that thread's kr_web_ctx.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../sharing/fedstore.h"
#include "../sharing/search.h"
#include "../sharing/text.h"
#include "board.h"
#include "html.h"
#include "markdown.h"
#include "searchq.h"
#include "textdiff.h"
#include "webdata.h"
#include "../sharing/json.h"

enum { NAV_NONE = -1, NAV_RECENT, NAV_SEARCH, NAV_FEDERATION, NAV_STATUS };

#define SEARCH_PAGE 20
#define SEARCH_MAX_PAGES 50
#define RECENT_PAGE 50
#define ROWS_PAGE 100

static const char s_css[] =
	"*{box-sizing:border-box}\n"
	"html{font-family:\"IPAPGothic\",\"Noto Sans CJK JP\",\"Hiragino Sans\",\"Yu Gothic\",sans-serif;"
	"line-height:1.7;color:#1a1a1a;background:#fff}\n"
	"body{margin:0}\n"
	"a{color:#0b4fa8}\n"
	"a:visited{color:#5b2d8f}\n"
	"a:focus,button:focus,input:focus,select:focus,summary:focus{outline:3px solid #c25100;outline-offset:2px}\n"
	".skip{position:absolute;left:-9999px;top:0;background:#fff;padding:.5em;z-index:10}\n"
	".skip:focus{left:.5em}\n"
	".vh{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}\n"
	"header{background:#16325c;color:#fff;padding:.5em 1em}\n"
	"header a,header a:visited{color:#fff}\n"
	"header .site{margin:0;font-weight:bold}\n"
	"header nav ul{list-style:none;margin:.3em 0;padding:0;display:flex;flex-wrap:wrap;gap:1.2em}\n"
	"header nav a[aria-current]{text-decoration:underline 3px}\n"
	"header form{margin:.3em 0}\n"
	"header label{margin-right:.4em}\n"
	"main{max-width:72em;margin:0 auto;padding:1em}\n"
	"footer{border-top:1px solid #767676;padding:1em;font-size:.9em;color:#333}\n"
	"footer a{color:#0b4fa8}\n"
	"table{border-collapse:collapse;margin:.5em 0 1.5em;width:100%}\n"
	"caption{text-align:left;font-weight:bold;padding:.3em 0}\n"
	"th,td{border:1px solid #767676;padding:.3em .5em;text-align:left;vertical-align:top}\n"
	"th{background:#eef1f5}\n"
	".key{display:block;font-size:.8em;color:#4a4a4a;font-weight:normal}\n"
	".meta{color:#3d3d3d}\n"
	".hit{border-bottom:1px solid #c8c8c8;padding:.5em 0}\n"
	".hit h3{margin:.2em 0}\n"
	"mark{background:#fff0a0;color:#1a1a1a}\n"
	".outcome{font-weight:bold}\n"
	".verdict{border:2px solid #2e6b30;padding:.5em 1em;background:#f1f8f1}\n"
	".verdict.stale{border-color:#a33a00;background:#fff4ec}\n"
	".facets{display:grid;grid-template-columns:repeat(auto-fill,minmax(14em,1fr));gap:0 1.5em}\n"
	".facets ul{padding-left:1.2em;margin:.2em 0 1em}\n"
	".chips{list-style:none;padding:0;display:flex;flex-wrap:wrap;gap:.5em}\n"
	".chips li{border:1px solid #767676;border-radius:1em;padding:0 .7em}\n"
	".diff{font-family:monospace,\"IPAGothic\";white-space:pre-wrap;word-break:break-all;border:1px solid #767676}\n"
	".diff div{padding:0 .5em}\n"
	".diff .ln{display:inline-block;min-width:4em;color:#4a4a4a;user-select:none}\n"
	".diff .same{color:#333}\n"
	".diff .hunk{background:#eef1f5;color:#1a1a1a;font-weight:bold;font-size:1em;margin:0;padding:.2em .5em}\n"
	"del{background:#ffe1e1;color:#7a0000;text-decoration:line-through}\n"
	"ins{background:#d9f2d9;color:#0a4a0a;text-decoration:underline}\n"
	".diff .del{background:#fff0f0}\n"
	".diff .add{background:#eefaee}\n"
	".pager{display:flex;gap:1em;flex-wrap:wrap;list-style:none;padding:0}\n"
	"dl.summary{display:grid;grid-template-columns:max-content 1fr;gap:.2em 1em}\n"
	"dl.summary dt{font-weight:bold}\n"
	"dl.summary dd{margin:0}\n"
	"input[type=search],input[type=text]{font-size:1em;padding:.2em;min-width:16em}\n"
	"button{font-size:1em;padding:.2em .8em}\n";

/* ---- the page around the content ------------------------------------------- */

/*
 * "HH:MM:SS 時点": when a listing was read. node/web.c may serve a busy
 * listing up to a second behind what arrived (its render cache); the page
 * says so instead of passing it off as the present.
 */
static void
s_as_of(kr_html *h)
{
	time_t now = time(NULL);
	struct tm tm;
	char at[16];

	if (!localtime_r(&now, &tm) || !strftime(at, sizeof(at), "%H:%M:%S", &tm))
		return;
	kr_html_tag(h, "<p class=\"as-of\">");
	kr_html_textf(h, "%s 時点の内容です（届いたばかりのものは1秒ほどで載ります）。", at);
	kr_html_tag(h, "</p>");
}

static void
s_begin(kr_html *h, kr_web_ctx *c, const char *title, int nav)
{
	static const char *const names[] = { "新着", "検索", "連携・ボード", "状態" };
	static const char *const paths[] = { "/", "/search", "/federation", "/status" };

	kr_html_tag(h, "<!DOCTYPE html>\n<html lang=\"ja\"><head><meta charset=\"utf-8\">"
	    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>");
	kr_html_text(h, title);
	kr_html_text(h, " — kairan ");
	kr_html_text(h, c ? c->conf->name : "");
	kr_html_tag(h, "</title><link rel=\"stylesheet\" href=\"/static/kairan.css\"></head>\n<body>"
	    "<a class=\"skip\" href=\"#main\">本文へ移動</a><header><p class=\"site\"><a href=\"/\">kairan</a> ");
	kr_html_text(h, c ? c->conf->name : "");
	if (c && c->conf->lg_code && *c->conf->lg_code) {
		kr_html_text(h, "（");
		kr_html_text(h, c->conf->lg_code);
		kr_html_text(h, "）");
	}
	kr_html_tag(h, "</p><nav aria-label=\"サイト内\"><ul>");
	for (int i = 0; i < 4; i++) {
		kr_html_tag(h, "<li><a");
		kr_html_href(h, paths[i]);
		if (i == nav)
			kr_html_tag(h, " aria-current=\"page\"");
		kr_html_tag(h, ">");
		kr_html_text(h, names[i]);
		kr_html_tag(h, "</a></li>");
	}
	kr_html_tag(h, "</ul></nav>");
	if (nav != NAV_SEARCH)
		kr_html_tag(h, "<form role=\"search\" action=\"/search\" method=\"get\"><label for=\"q-top\">"
		    "事例・ガイドラインを検索</label><input id=\"q-top\" name=\"q\" type=\"search\">"
		    "<button type=\"submit\">検索</button></form>");
	kr_html_tag(h, "</header>\n<main id=\"main\">");
}

static void
s_end(kr_html *h, kr_web_ctx *c, kr_web_resp *out)
{
	kr_html_tag(h, "</main>\n<footer><p>kairan — 自治体の生成AI活用の知見を回覧する仕組み。");
	if (c) {
		kr_html_text(h, "このノード：");
		kr_html_text(h, c->conf->name);
		kr_html_text(h, "（鍵 ");
		kr_html_textf(h, "%.16s…", c->conf->fpr);
		kr_html_text(h, "）");
	}
	kr_html_tag(h, "</p><p>ほかのソフトウェア向け：<a href=\"/api/3/action/package_list\">CKAN API</a>、"
	    "<a href=\"/catalog.jsonld\">DCAT カタログ</a>、<a href=\"/api/search?q=AI\">検索 API</a></p>"
	    "</footer></body></html>\n");
	out->type = "text/html; charset=utf-8";
	kr_buf_release(&out->body);
	out->body = h->out;
	h->out = (kr_buf)KR_BUF_INIT;
}

/* <a href="/items/ID[/sub]">text</a>; a dataset row's id (DATASET-ID#ROW) links to its own page */
static void
s_item_link(kr_html *h, const char *id, const char *text, const char *sub)
{
	kr_buf u = KR_BUF_INIT;

	if (sub)
		kr_buf_addf(&u, "/items/%s/%s", id, sub);
	else
		kr_web_item_url(&u, NULL, id);
	kr_html_link(h, u.ptr, text);
	kr_buf_release(&u);
}

/* A snippet with FTS5's 【】 marks as <mark>, everything else escaped. */
static void
s_snippet(kr_html *h, const char *s)
{
	while (s && *s) {
		const char *open = strstr(s, "【"), *close;
		if (!open) {
			kr_html_text(h, s);
			return;
		}
		kr_html_textn(h, s, (size_t)(open - s));
		open += strlen("【");
		if (!(close = strstr(open, "】"))) {
			kr_html_text(h, open);
			return;
		}
		kr_html_tag(h, "<mark>");
		kr_html_textn(h, open, (size_t)(close - open));
		kr_html_tag(h, "</mark>");
		s = close + strlen("】");
	}
}

static size_t
s_page_param(const kr_web_req *r, size_t max)
{
	const char *p = kr_web_param_get(r, "page");
	long n = p ? strtol(p, NULL, 10) : 1;

	return n < 1 ? 1 : (size_t)n > max ? max : (size_t)n;
}

/* Pager links: the current page marked, earlier/later pages linked (url ends with "page="). */
static void
s_pager(kr_html *h, const char *url, size_t page, size_t pages)
{
	kr_buf u = KR_BUF_INIT;

	if (pages <= 1)
		return;
	kr_html_tag(h, "<nav aria-label=\"ページ送り\"><ul class=\"pager\">");
	if (page > 1) {
		kr_buf_addf(&u, "%s%zu", url, page - 1);
		kr_html_tag(h, "<li><a rel=\"prev\"");
		kr_html_href(h, u.ptr);
		kr_html_tag(h, ">前のページ</a></li>");
	}
	for (size_t p = 1; p <= pages; p++) {
		if (pages > 12 && p > 2 && p + 2 < pages && (p + 3 < page || p > page + 3))
			continue;
		kr_buf_clear(&u);
		kr_buf_addf(&u, "%s%zu", url, p);
		kr_html_tag(h, "<li>");
		if (p == page) {
			kr_html_tag(h, "<a aria-current=\"page\"");
		} else {
			kr_html_tag(h, "<a");
		}
		kr_html_href(h, u.ptr);
		kr_html_tag(h, ">");
		kr_html_textf(h, "%zu", p);
		kr_html_tag(h, "<span class=\"vh\">ページ目</span></a></li>");
	}
	if (page < pages) {
		kr_buf_clear(&u);
		kr_buf_addf(&u, "%s%zu", url, page + 1);
		kr_html_tag(h, "<li><a rel=\"next\"");
		kr_html_href(h, u.ptr);
		kr_html_tag(h, ">次のページ</a></li>");
	}
	kr_html_tag(h, "</ul></nav>");
	kr_buf_release(&u);
}

/* ---- errors ----------------------------------------------------------------- */

void
kr_page_error(kr_web_ctx *c, const kr_web_req *r, kr_web_resp *out, int status, const char *reason)
{
	kr_html h = KR_HTML_INIT;
	const char *title = status == 404 ? "ページが見つかりません" : status == 400 ? "要求を処理できません"
	    : status == 405 ? "この操作はできません" : status == 413 ? "データが大きすぎます"
	    : status == 503 ? "一時的に利用できません" : status == 403 ? "ボードの推奨待ちです" : "内部エラー";

	out->status = status;
	s_begin(&h, c, title, NAV_NONE);
	kr_html_tag(&h, "<h1>");
	kr_html_text(&h, title);
	kr_html_tag(&h, "</h1><p>");
	kr_html_text(&h, reason);
	kr_html_tag(&h, "</p>");
	if (r && r->path) {
		kr_html_tag(&h, "<p>要求されたアドレス：<code>");
		kr_html_text(&h, r->path);
		kr_html_tag(&h, "</code></p>");
	}
	kr_html_tag(&h, "<p><a href=\"/\">新着へ戻る</a>、または <a href=\"/search\">検索</a> してください。</p>");
	s_end(&h, c, out);
}

int
kr_page_css(kr_web_ctx *c, const kr_web_req *r, kr_web_resp *out)
{
	(void)c;
	(void)r;
	out->type = "text/css; charset=utf-8";
	kr_buf_add(&out->body, s_css, sizeof(s_css) - 1);
	return 0;
}

/* ---- 新着 --------------------------------------------------------------------- */

static const char *const s_kind_order[] = { "case", "guideline", "prompt", "dataset" };

/* "最新" or "期限切れ（… 以降）" for a publisher's manifest, remembered per page. */
typedef struct {
	char pub[KR_FPR_HEX + 1];
	kr_web_fresh f;
} s_fresh_memo;

static const kr_web_fresh *
s_fresh(kr_web_ctx *c, s_fresh_memo *memo, size_t *n, size_t cap, const char *pub)
{
	for (size_t i = 0; i < *n; i++)
		if (strcmp(memo[i].pub, pub) == 0)
			return &memo[i].f;
	if (*n == cap)
		return NULL;
	snprintf(memo[*n].pub, sizeof(memo[*n].pub), "%s", pub);
	kr_web_freshness(c, pub, &memo[*n].f);
	return &memo[(*n)++].f;
}

static void
s_fresh_text(kr_html *h, const kr_web_fresh *f)
{
	char t[32];

	if (!f || !f->known) {
		kr_html_text(h, "不明");
		return;
	}
	kr_web_time(t, f->expires);
	if (f->stale)
		kr_html_textf(h, "期限切れ（%s 以降、新しい署名が届いていません）", t);
	else
		kr_html_textf(h, "最新（署名の有効期限 %s）", t);
}

int
kr_page_recent(kr_web_ctx *c, const kr_web_req *r, kr_web_resp *out)
{
	kr_html h = KR_HTML_INIT;
	const char *kind = kr_web_param_get(r, "kind");
	kr_item_filter f = { .order = KR_LIST_RECENT, .limit = RECENT_PAGE };
	kr_item_row *rows = NULL;
	size_t n = 0, total = 0, page, nmemo = 0;
	s_fresh_memo memo[64];
	kr_buf url = KR_BUF_INIT;
	kr_bgate g;
	int rc;

	if (kind && !*kind)
		kind = NULL;
	f.kind = kind;
	kr_bgate_init(&g, c->conf->home, c->state, c->store, c->conf->rules);
	page = s_page_param(r, 1000);
	f.offset = (page - 1) * RECENT_PAGE;
	if ((rc = kr_state_item_list(c->state, &f, &rows, &n, &total)) < 0) {
		kr_bgate_free(&g);
		return rc;
	}
	s_begin(&h, c, "新着", NAV_RECENT);
	kr_html_tag(&h, "<h1>新着</h1><p>このノードに届いた事例・ガイドライン・プロンプト・データセットです。"
	    "どれも発行元の署名を確かめてから取り込んでいます。</p>");
	s_as_of(&h);
	kr_html_tag(&h, "<nav aria-label=\"種類で絞り込み\"><ul class=\"chips\"><li>");
	if (kind)
		kr_html_tag(&h, "<a href=\"/\">すべて</a>");
	else
		kr_html_tag(&h, "<a href=\"/\" aria-current=\"page\">すべて</a>");
	kr_html_tag(&h, "</li>");
	for (size_t i = 0; i < sizeof(s_kind_order) / sizeof(s_kind_order[0]); i++) {
		kr_buf u = KR_BUF_INIT;
		kr_buf_addf(&u, "/?kind=%s", s_kind_order[i]);
		kr_html_tag(&h, "<li><a");
		kr_html_href(&h, u.ptr);
		if (kind && strcmp(kind, s_kind_order[i]) == 0)
			kr_html_tag(&h, " aria-current=\"page\"");
		kr_html_tag(&h, ">");
		kr_html_text(&h, kr_web_kind_label(s_kind_order[i]));
		kr_html_tag(&h, "</a></li>");
		kr_buf_release(&u);
	}
	kr_html_tag(&h, "</ul></nav>");
	if (total == 0) {
		kr_html_tag(&h, "<p>まだ何も届いていません。発行元をフォローすると、ここに表示されます"
		    "（<code>kairan follow</code>）。</p>");
	} else {
		kr_html_tag(&h, "<table><caption>");
		kr_html_textf(&h, "%zu件中 %zu–%zu件目（届いた順）", total, f.offset + (n ? 1 : 0), f.offset + n);
		kr_html_tag(&h, "</caption><thead><tr><th scope=\"col\">届いた日時</th><th scope=\"col\">種類</th>"
		    "<th scope=\"col\">題名</th><th scope=\"col\">発行者</th><th scope=\"col\">版</th>"
		    "<th scope=\"col\">鮮度</th></tr></thead><tbody>");
		for (size_t i = 0; i < n; i++) {
			char t[32];
			kr_web_time(t, rows[i].synced);
			kr_html_tag(&h, "<tr><td>");
			kr_html_text(&h, t);
			kr_html_tag(&h, "</td><td>");
			kr_html_text(&h, kr_web_kind_label(rows[i].kind));
			kr_html_tag(&h, "</td><td>");
			if (kr_bgate_required(&g, rows[i].kind) &&
			    kr_bgate_check(&g, rows[i].id, rows[i].version, rows[i].kind, rows[i].blob) < 0) {
				/* policy.accept.require_endorsement: not even its title until the board endorses it */
				kr_error_clear();
				kr_html_text(&h, "（ボードの推奨待ちのため表示を控えています）");
			} else {
				s_item_link(&h, rows[i].id, rows[i].title, NULL);
				if (rows[i].outcome) {
					kr_html_tag(&h, " <span class=\"outcome\">");
					kr_html_textf(&h, "（%s）", rows[i].outcome);
					kr_html_tag(&h, "</span>");
				}
			}
			kr_html_tag(&h, "</td><td>");
			kr_html_textf(&h, "%s（%s）", rows[i].pub_name ? rows[i].pub_name : "?",
			    rows[i].pub_code ? rows[i].pub_code : "?");
			kr_html_tag(&h, "</td><td>");
			kr_html_text(&h, rows[i].version);
			kr_html_tag(&h, "</td><td>");
			s_fresh_text(&h, s_fresh(c, memo, &nmemo, sizeof(memo) / sizeof(memo[0]), rows[i].publisher));
			kr_html_tag(&h, "</td></tr>");
		}
		kr_html_tag(&h, "</tbody></table>");
		kr_buf_addf(&url, "/?%s%s%spage=", kind ? "kind=" : "", kind ? kind : "", kind ? "&" : "");
		s_pager(&h, url.ptr, page, (total + RECENT_PAGE - 1) / RECENT_PAGE);
	}
	s_end(&h, c, out);
	for (size_t i = 0; i < nmemo; i++)
		kr_web_fresh_clear(&memo[i].f);
	kr_item_rows_free(rows, n);
	kr_buf_release(&url);
	kr_bgate_free(&g);
	return 0;
}

/* ---- 検索 --------------------------------------------------------------------- */

/* The filters of `kairan search`, in its option order: parameter, label. */
static const char *const s_filters[][2] = {
	{ "kind", "種類" }, { "domain", "分野" }, { "ai_use", "AIの用途" }, { "outcome", "結果" },
	{ "deployment", "導入方式" }, { "publisher", "発行者" }, { "pref", "都道府県" },
	{ "popband", "人口規模" }, { "since", "更新日（以降）" }, { "until", "更新日（以前）" },
	{ "rows", "Q&Aの行" },           /* rows=all: every dataset row ranked (kr_search_q.rows_all) */
};
#define NFILTERS (sizeof(s_filters) / sizeof(s_filters[0]))

/* /search?… with the current query and filters, key set to value (NULL: removed), without page. */
static void
s_search_url(kr_buf *u, const kr_web_req *r, const char *key, const char *value)
{
	const char *q = kr_web_param_get(r, "q");
	int first = 1;

	kr_buf_adds(u, "/search?");
	if (q) {
		kr_buf_adds(u, "q=");
		kr_url_add(u, q);
		first = 0;
	}
	for (size_t i = 0; i < NFILTERS; i++) {
		const char *v = strcmp(s_filters[i][0], key ? key : "") == 0 ? value : kr_web_param_get(r, s_filters[i][0]);
		if (!v || !*v)
			continue;
		kr_buf_addf(u, "%s%s=", first ? "" : "&", s_filters[i][0]);
		kr_url_add(u, v);
		first = 0;
	}
}

/*
 * One facet as links with the engine's counts for the current query (the
 * same numbers as kairan search --json); nothing when no match has a value.
 */
static void
s_facet(kr_html *h, const kr_web_req *r, const char *key, const char *label, const kr_search_result *res, int f)
{
	const char *cur = kr_web_param_get(r, key);
	const kr_facet *counts = res->facets[f];

	if (res->nfacets[f] == 0)
		return;
	kr_html_tag(h, "<div><h3>");
	kr_html_text(h, label);
	kr_html_tag(h, "</h3><ul>");
	for (size_t i = 0; i < res->nfacets[f]; i++) {
		const char *v = counts[i].value;
		const char *shown = strcmp(key, "kind") == 0 ? kr_web_kind_label(v)
		    : strcmp(key, "pref") == 0 && kr_pref_name(v) ? kr_pref_name(v) : v;
		kr_buf u = KR_BUF_INIT;
		s_search_url(&u, r, key, v);
		kr_html_tag(h, "<li><a");
		kr_html_href(h, u.ptr);
		if (cur && strcmp(cur, v) == 0)
			kr_html_tag(h, " aria-current=\"true\"");
		kr_html_tag(h, ">");
		kr_html_text(h, shown);
		kr_html_tag(h, "</a>");
		kr_html_tag(h, "<span class=\"count\"");
		kr_html_attr(h, "data-facet", key);
		kr_html_attr(h, "data-value", v);
		kr_html_tag(h, ">");
		kr_html_textf(h, "（%zu件）", counts[i].count);
		kr_html_tag(h, "</span></li>");
		kr_buf_release(&u);
	}
	kr_html_tag(h, "</ul></div>");
}

static void
s_search_form(kr_html *h, const kr_web_req *r, const char *q)
{
	kr_html_tag(h, "<form role=\"search\" action=\"/search\" method=\"get\"><p><label for=\"q\">検索語</label> "
	    "<input id=\"q\" name=\"q\" type=\"search\" aria-describedby=\"q-help\"");
	kr_html_attr(h, "value", q ? q : "");
	kr_html_tag(h, "> <button type=\"submit\">検索</button></p>");
	for (size_t i = 0; i < NFILTERS; i++) {
		const char *v = kr_web_param_get(r, s_filters[i][0]);
		if (!v || !*v || strcmp(s_filters[i][0], "since") == 0)
			continue;
		kr_html_tag(h, "<input type=\"hidden\"");
		kr_html_attr(h, "name", s_filters[i][0]);
		kr_html_attr(h, "value", v);
		kr_html_tag(h, ">");
	}
	kr_html_tag(h, "<p><label for=\"since\">更新日がこの日以降</label> <input id=\"since\" name=\"since\" type=\"date\"");
	kr_html_attr(h, "value", kr_web_param_get(r, "since") ? kr_web_param_get(r, "since") : "");
	kr_html_tag(h, "></p><p id=\"q-help\">言葉を空白で区切るとすべてを含むもの、<code>\"…\"</code> で語句、"
	    "<code>-語</code> でその語を含まないもの、<code>A OR B</code> でどちらかを探します。"
	    "ひらがな・カタカナ、全角・半角の違いは区別しません（<code>kairan search</code> と同じ検索です）。</p></form>");
}

/* A hit's board badge (ボード推奨 2/2), computed here from the endorsements this node holds. */
static void
s_hit_badge(kr_html *h, kr_web_ctx *c, kr_bgate *g, const kr_search_hit *x)
{
	const kr_bview *bv;
	char blob[KR_OID_HEX + 1], *badge;

	if (!x->kind || kr_board_kind(x->kind) || !kr_bgate_blob(c->state, x->id, x->publisher, x->version, blob) ||
	    !(bv = kr_bgate_view(g))) {
		kr_error_clear();
		return;
	}
	if ((badge = kr_bview_badge(bv, blob))) {
		kr_html_text(h, "・");
		kr_html_tag(h, "<span class=\"board-badge\">");
		kr_html_text(h, badge);
		kr_html_tag(h, "</span>");
		free(badge);
	}
}

int
kr_page_search(kr_web_ctx *c, const kr_web_req *r, kr_web_resp *out)
{
	kr_html h = KR_HTML_INIT;
	const char *q = kr_web_param_get(r, "q");
	kr_search_q sq = { 0 };
	kr_search_result res = { 0 };
	kr_buf match = KR_BUF_INIT, url = KR_BUF_INIT, pref2 = KR_BUF_INIT;
	char pub[KR_FPR_HEX + 1];
	size_t page = s_page_param(r, SEARCH_MAX_PAGES);
	int searched = 0, active = 0, rc = 0;
	kr_searchq_norm norm = { 0 };
	kr_bgate g;

	kr_bgate_init(&g, c->conf->home, c->state, c->store, c->conf->rules);

	s_begin(&h, c, q && *q ? q : "検索", NAV_SEARCH);
	kr_html_tag(&h, "<h1>検索</h1>");
	s_search_form(&h, r, q);
	for (size_t i = 0; i < NFILTERS; i++)
		if (kr_web_param_get(r, s_filters[i][0]) && *kr_web_param_get(r, s_filters[i][0]))
			active++;
	if (active) {
		kr_html_tag(&h, "<h2>絞り込みの条件</h2><ul class=\"chips\">");
		for (size_t i = 0; i < NFILTERS; i++) {
			const char *v = kr_web_param_get(r, s_filters[i][0]);
			kr_buf u = KR_BUF_INIT;
			if (!v || !*v)
				continue;
			s_search_url(&u, r, s_filters[i][0], NULL);
			kr_html_tag(&h, "<li>");
			kr_html_textf(&h, "%s：%s ", s_filters[i][1], strcmp(s_filters[i][0], "kind") == 0
			    ? kr_web_kind_label(v) : strcmp(s_filters[i][0], "rows") == 0 ? "すべて表示" : v);
			kr_html_tag(&h, "<a");
			kr_html_href(&h, u.ptr);
			kr_html_tag(&h, ">解除<span class=\"vh\">（");
			kr_html_text(&h, s_filters[i][1]);
			kr_html_tag(&h, "）</span></a></li>");
			kr_buf_release(&u);
		}
		kr_html_tag(&h, "</ul>");
	}
	if (q && *q) {
		if (kr_search_compile(q, &match) < 0) {
			kr_html_tag(&h, "<p role=\"alert\">検索語を読み取れませんでした（");
			kr_html_text(&h, kr_errmsg());
			kr_html_tag(&h, "）。引用符の対応や、除外だけの検索になっていないかを確かめてください。</p>");
			kr_error_clear();
		} else {
			const char *p = kr_web_param_get(r, "publisher");
			sq.match = match.ptr;
			sq.kind = kr_web_param_get(r, "kind");
			sq.domain = kr_web_param_get(r, "domain");
			sq.ai_use = kr_web_param_get(r, "ai_use");
			sq.outcome = kr_web_param_get(r, "outcome");
			sq.deployment = kr_web_param_get(r, "deployment");
			sq.pref = kr_web_param_get(r, "pref");
			if (sq.pref && strlen(sq.pref) == 1) {
				kr_buf_addf(&pref2, "0%s", sq.pref);
				sq.pref = pref2.ptr;
			}
			sq.popband = kr_web_param_get(r, "popband");
			sq.since = kr_web_param_get(r, "since");
			sq.until = kr_web_param_get(r, "until");
			sq.rows_all = kr_web_param_get(r, "rows") && strcmp(kr_web_param_get(r, "rows"), "all") == 0;
			if (p && *p) {
				/* a fingerprint, or an lg_code as kairan search --publisher takes it */
				snprintf(pub, sizeof(pub), "%s", p);
				sq.publisher = pub;
			}
			{
				const char **fields[] = { &sq.kind, &sq.domain, &sq.ai_use, &sq.outcome, &sq.deployment,
					&sq.publisher, &sq.pref, &sq.popband, &sq.since, &sq.until };
				for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
					if (*fields[i] && !**fields[i])
						*fields[i] = NULL;
			}
			sq.limit = page * SEARCH_PAGE;
			kr_bgate_attach(&g, &sq);       /* policy.accept.require_endorsement */
			g.kind_asked = sq.kind && *sq.kind;
			if (kr_searchq_check(&sq, &norm) < 0) {
				/* the same check as kairan search: a filter that is not right is said, never ignored */
				out->status = 400;
				kr_html_tag(&h, "<p role=\"alert\" class=\"filter-error\">");
				kr_html_text(&h, norm.ja);
				if (norm.suggestion) {
					kr_buf u = KR_BUF_INIT;
					s_search_url(&u, r, norm.param, norm.suggestion);
					kr_html_tag(&h, " <a");
					kr_html_href(&h, u.ptr);
					kr_html_tag(&h, ">");
					kr_html_textf(&h, "「%s」で探す", norm.suggestion);
					kr_html_tag(&h, "</a>");
					kr_buf_release(&u);
				}
				kr_html_tag(&h, "</p>");
				kr_error_clear();
			} else if ((rc = kr_state_search(c->state, &sq, &res)) < 0) {
				if (rc != KR_EUSAGE)
					goto done;
				kr_html_tag(&h, "<p role=\"alert\">この検索語では探せませんでした。別の言葉で試してください。</p>");
				kr_error_clear();
				rc = 0;
			} else {
				searched = 1;
			}
		}
	}
	if (searched) {
		size_t from = (page - 1) * SEARCH_PAGE;
		kr_html_tag(&h, "<h2 id=\"results\">検索結果</h2><p role=\"status\">");
		if (g.held)
			kr_html_textf(&h, "（ボードの推奨待ちで表示を控えたもの %zu件） ", g.held);
		if (res.total == 0)
			kr_html_textf(&h, "「%s」に合うものは見つかりませんでした。", q);
		else
			kr_html_textf(&h, "「%s」：%zu件（%zu–%zu件目）", q, res.total, res.nhits > from ? from + 1 : 0,
			    res.nhits);
		kr_html_tag(&h, "</p>");
		s_as_of(&h);
		for (size_t i = from; i < res.nhits; i++) {
			const kr_search_hit *x = &res.hits[i];
			kr_html_tag(&h, "<article class=\"hit\"><h3>");
			s_item_link(&h, x->id, x->title, NULL);
			kr_html_tag(&h, "</h3><p class=\"meta\">");
			kr_html_textf(&h, "%s（%s）・%s・%s", x->pub_name ? x->pub_name : "?", x->pub_code ? x->pub_code : "?",
			    kr_web_kind_label(x->kind), x->version ? x->version : "");
			if (x->outcome) {
				kr_html_text(&h, "・");
				kr_html_tag(&h, "<span class=\"outcome\">");
				kr_html_text(&h, x->outcome);
				kr_html_tag(&h, "</span>");
			}
			if (x->headline) {
				kr_html_text(&h, "・");
				kr_html_text(&h, x->headline);
			}
			s_hit_badge(&h, c, &g, x);
			kr_html_tag(&h, "</p><p>");
			s_snippet(&h, x->snippet);
			kr_html_tag(&h, "</p>");
			if (x->more_rows) {
				/* the dataset's other matching rows, folded (kr_search_q.rows_all) */
				kr_buf u = KR_BUF_INIT;
				s_search_url(&u, r, "rows", "all");
				kr_html_tag(&h, "<p class=\"more-rows\"><a");
				kr_html_href(&h, u.ptr);
				kr_html_tag(&h, ">");
				kr_html_textf(&h, "同じデータセットの他の%zu行", x->more_rows);
				kr_html_tag(&h, "</a></p>");
				kr_buf_release(&u);
			}
			kr_html_tag(&h, "</article>");
		}
		s_search_url(&url, r, NULL, NULL);
		kr_buf_adds(&url, "&page=");
		{
			/* the ranked matches: rows folded under their datasets are not on any page */
			size_t pages = (res.total - res.rows_folded + SEARCH_PAGE - 1) / SEARCH_PAGE;
			s_pager(&h, url.ptr, page, pages > SEARCH_MAX_PAGES ? SEARCH_MAX_PAGES : pages);
		}
		kr_html_tag(&h, "<h2>絞り込み</h2><div class=\"facets\">");
		s_facet(&h, r, "kind", "種類", &res, KR_FACET_KIND);
		s_facet(&h, r, "outcome", "結果", &res, KR_FACET_OUTCOME);
		s_facet(&h, r, "domain", "分野", &res, KR_FACET_DOMAIN);
		s_facet(&h, r, "pref", "都道府県", &res, KR_FACET_PREF);
		s_facet(&h, r, "ai_use", "AIの用途", &res, KR_FACET_AIUSE);
		s_facet(&h, r, "deployment", "導入方式", &res, KR_FACET_DEPLOYMENT);
		s_facet(&h, r, "popband", "人口規模", &res, KR_FACET_POPBAND);
		{
			/* publishers this node holds, by code (what kairan search --publisher takes) */
			kr_state_manifest *ms;
			size_t nm;
			if (kr_state_manifest_list(c->state, &ms, &nm) == 0) {
				const char *cur = kr_web_param_get(r, "publisher");
				kr_html_tag(&h, "<div><h3>発行者</h3><ul>");
				for (size_t i = 0; i < nm; i++) {
					kr_buf u = KR_BUF_INIT;
					s_search_url(&u, r, "publisher", ms[i].lg_code);
					kr_html_tag(&h, "<li><a");
					kr_html_href(&h, u.ptr);
					if (cur && strcmp(cur, ms[i].lg_code) == 0)
						kr_html_tag(&h, " aria-current=\"true\"");
					kr_html_tag(&h, ">");
					kr_html_textf(&h, "%s（%s）", ms[i].name, ms[i].lg_code);
					kr_html_tag(&h, "</a></li>");
					kr_buf_release(&u);
				}
				kr_html_tag(&h, "</ul></div>");
				kr_state_manifests_free(ms, nm);
			}
			kr_error_clear();
		}
		kr_html_tag(&h, "</div>");
	} else if (!q || !*q) {
		kr_html_tag(&h, "<h2>探し方の例</h2><ul>");
		{
			static const char *const examples[] = { "ごみ", "議会答弁", "チャットボット 正答率", "子育て" };
			for (size_t i = 0; i < 4; i++) {
				kr_buf u = KR_BUF_INIT;
				kr_buf_adds(&u, "/search?q=");
				kr_url_add(&u, examples[i]);
				kr_html_tag(&h, "<li>");
				kr_html_link(&h, u.ptr, examples[i]);
				kr_html_tag(&h, "</li>");
				kr_buf_release(&u);
			}
		}
		kr_html_tag(&h, "</ul><p>見送り・中止の事例も探せます：<a href=\"/search?q=AI&amp;outcome=%E8%A6%8B%E9%80%81%E3%82%8A\">"
		    "「AI」で結果が見送りのもの</a></p>");
	}
	s_end(&h, c, out);
done:
	kr_html_release(&h);
	kr_search_result_free(&res);
	kr_buf_release(&match);
	kr_buf_release(&url);
	kr_buf_release(&pref2);
	kr_searchq_norm_clear(&norm);
	kr_bgate_free(&g);
	return rc;
}

/* ---- item ------------------------------------------------------------------- */

static int
s_is_id(const char *s)
{
	size_t n = strlen(s);
	const char *a = strchr(s, '/'), *b = a ? strchr(a + 1, '/') : NULL;

	return n < 160 && a && b && a - s == 6 && strspn(s, "0123456789") == 6 && b > a + 1 &&
	    strspn(b + 1, "abcdefghijklmnopqrstuvwxyz0123456789-") == strlen(b + 1) && b[1];
}

/* A front-matter value: scalars as text, sequences as lists, maps as "key：value" pairs. */
static void
s_yaml_html(kr_html *h, const kr_yaml *y, int depth)
{
	if (!y)
		return;
	if (depth > 6) {
		kr_html_text(h, "…");
		return;
	}
	if (y->type == KR_YAML_SCALAR) {
		kr_html_text(h, y->value);
	} else if (y->type == KR_YAML_SEQ) {
		if (y->n == 0)
			return;
		kr_html_tag(h, "<ul>");
		for (size_t i = 0; i < y->n; i++) {
			kr_html_tag(h, "<li>");
			s_yaml_html(h, y->items[i], depth + 1);
			kr_html_tag(h, "</li>");
		}
		kr_html_tag(h, "</ul>");
	} else {
		for (size_t i = 0; i < y->n; i++) {
			const kr_yaml *v = y->items[i];
			if (i)
				kr_html_text(h, "、");
			kr_html_text(h, kr_web_key_label(y->keys[i]));
			kr_html_text(h, "：");
			if (v->type == KR_YAML_SCALAR && strcmp(y->keys[i], "url") == 0)
				kr_html_link(h, v->value, v->value);
			else if (v->type == KR_YAML_SCALAR && strcmp(y->keys[i], "id") == 0 && s_is_id(v->value))
				s_item_link(h, v->value, v->value, NULL);
			else
				s_yaml_html(h, v, depth + 1);
		}
	}
}

/* 署名と鮮度: the head commit's signature checked now, and the manifest's freshness. */
static void
s_verdict(kr_html *h, kr_web_ctx *c, const kr_state_item *it)
{
	kr_web_fresh f;
	char t[32];

	kr_web_freshness(c, it->publisher, &f);
	if (f.known && !f.stale)
		kr_html_tag(h, "<div class=\"verdict\">");
	else
		kr_html_tag(h, "<div class=\"verdict stale\">");
	kr_html_tag(h, "<h2>署名と鮮度</h2><p>");
	kr_html_text(h, "発行元の鍵：");
	kr_html_tag(h, "<code>");
	kr_html_textf(h, "%.16s…", it->publisher);
	kr_html_tag(h, "</code>（");
	kr_html_text(h, f.name ? f.name : it->pub_name ? it->pub_name : "?");
	kr_html_tag(h, "）。");
	kr_html_text(h, "この項目を含む履歴は、受け取ったときに全コミットの署名（SSHSIG, Ed25519）を検証してから取り込みました。");
	kr_html_tag(h, "</p><p>");
	if (!f.known) {
		kr_html_text(h, "署名された目録（manifest）がこのノードにありません。");
	} else {
		kr_web_time(t, f.issued);
		kr_html_textf(h, "目録 第%llu号（%s 署名）。", (unsigned long long)f.seq, t);
		kr_html_tag(h, "<strong>");
		s_fresh_text(h, &f);
		kr_html_tag(h, "</strong>");
	}
	kr_html_tag(h, "</p></div>");
	kr_web_fresh_clear(&f);
}

/* The head's own signature, as checked (once per head commit: node/webdata.c). */
static void
s_headsig_html(kr_html *h, kr_web_ctx *c, const kr_state_item *it)
{
	kr_web_headsig x;
	char t[32];

	kr_web_head_signature(c, it->publisher, it->collection, &x);
	if (!x.seen)
		return;
	kr_web_time(t, x.time);
	kr_html_tag(h, "<p>");
	if (x.ok)
		kr_html_textf(h, "先頭コミット %.12s（%s）の署名：有効（このノードが検証）。", x.oid, t);
	else
		kr_html_textf(h, "先頭コミット %.12s（%s）の署名：確認できません。ノードの管理者は kairan verify を実行してください。",
		    x.oid, t);
	kr_html_tag(h, "</p>");
}

static void
s_downloads(kr_html *h, kr_web_ctx *c, const kr_web_item *x)
{
	kr_html_tag(h, "<ul>");
	for (size_t i = 0; i < sizeof(kr_web_formats) / sizeof(kr_web_formats[0]); i++) {
		const kr_web_format *f = &kr_web_formats[i];
		size_t size = 0, rows = 0;
		char sha[65];
		kr_buf u = KR_BUF_INIT;
		kr_buf_addf(&u, "/items/%s/export/%s", x->it->id, f->name);
		kr_html_tag(h, "<li><a");
		kr_html_href(h, u.ptr);
		kr_html_tag(h, " download>");
		kr_html_text(h, f->label);
		kr_html_tag(h, "</a>");
		if (kr_web_export_digest(c, x, f, &size, sha, &rows) == 0) {
			kr_html_textf(h, "（%zu行、%zuバイト、SHA-256 ", rows, size);
			kr_html_tag(h, "<code>");
			kr_html_textf(h, "%.16s…", sha);
			kr_html_tag(h, "</code>）");
		}
		kr_error_clear();
		kr_html_tag(h, "</li>");
		kr_buf_release(&u);
	}
	kr_html_tag(h, "</ul>");
}

/*
 * 推奨 and 利用報告 (DESIGN §7), between the 出典 line and the body: who
 * endorsed this exact blob (verdict, conditions, review_by, whether it
 * counts), the board's verdict, and how many municipalities report
 * 検討中・採用・不採用 with their notes. Nothing when the node is in no
 * federation and holds no report: an empty heading would only mislead.
 */
static void
s_board(kr_html *h, kr_web_ctx *c, const kr_state_item *it)
{
	kr_bview bv;
	kr_board_verdict vd;
	kr_board_vote *votes = NULL;
	size_t *ix = NULL, n = 0, *ax = NULL, na, counts[3];

	if (kr_board_kind(it->kind) || kr_bview_load(&bv, c->conf->home, c->state, c->store, "") < 0) {
		kr_error_clear();
		return;
	}
	kr_bview_verdict(&bv, it->blob, &vd, &ix, &n, &votes);
	if (bv.federated || n) {
		kr_html_tag(h, "<h2>ボードの推奨</h2><p class=\"board-verdict\">");
		/* the words of show (node/board.c kr_bview_describe) */
		kr_html_textf(h, "ボードの判定: %s（この版を推奨した委員 %zu人 / 必要 %u人）",
		    vd.verdict ? vd.verdict : "未推奨", vd.positive, vd.threshold);
		kr_html_tag(h, "</p>");
	}
	if (n) {
		kr_html_tag(h, "<table><caption>この版への推奨</caption><thead><tr><th scope=\"col\">判定</th>"
		    "<th scope=\"col\">委員</th><th scope=\"col\">条件・コメント</th><th scope=\"col\">見直し期限</th>"
		    "<th scope=\"col\">数えるか</th></tr></thead><tbody>");
		for (size_t i = 0; i < n; i++) {
			const kr_bview_item *x = &bv.v[ix[i]];
			kr_html_tag(h, "<tr><td>");
			kr_html_text(h, x->r.verdict ? x->r.verdict : "?");
			kr_html_tag(h, "</td><td>");
			kr_html_textf(h, "%s（%s）", x->r.pub_name ? x->r.pub_name : "?", x->r.lg_code ? x->r.lg_code : "?");
			kr_html_tag(h, "</td><td>");
			kr_html_textf(h, "%s%s%s", x->r.conditions ? "条件: " : "", x->r.conditions ? x->r.conditions : "",
			    x->r.comment ? x->r.comment : "");
			kr_html_tag(h, "</td><td>");
			kr_html_textf(h, "%s%s", x->r.review_by ? x->r.review_by : "", votes[i].expired ? "（期限切れ）" : "");
			kr_html_tag(h, "</td><td>");
			kr_html_text(h, votes[i].replaced ? "同じ鍵の後の推奨で置き換え" :
			    votes[i].expired ? "期限切れ: 数えない" : kr_board_standing_name(x->standing));
			kr_html_tag(h, "</td></tr>");
		}
		kr_html_tag(h, "</tbody></table>");
	}
	na = kr_bview_adoptions(&bv, it->id, counts, &ax);
	if (na) {
		kr_html_tag(h, "<h2>利用報告</h2><p>");
		kr_html_textf(h, "検討中 %zu、採用 %zu、不採用 %zu（%zu団体）", counts[0], counts[1], counts[2], na);
		kr_html_tag(h, "</p><ul class=\"adoptions\">");
		for (size_t i = 0; i < na; i++) {
			const kr_bview_item *x = &bv.v[ax[i]];
			kr_html_tag(h, "<li>");
			kr_html_textf(h, "%s %s（%s）版 %s", x->r.status, x->r.pub_name ? x->r.pub_name : "?",
			    x->r.lg_code ? x->r.lg_code : "?", x->r.target_version ? x->r.target_version : "?");
			if (x->r.note)
				kr_html_textf(h, " — %s", x->r.note);
			if (x->r.metrics)
				kr_html_textf(h, "（指標: %s）", x->r.metrics);
			kr_html_tag(h, "</li>");
		}
		kr_html_tag(h, "</ul>");
	}
	free(ix);
	free(ax);
	free(votes);
	kr_bview_free(&bv);
}

int
kr_page_item(kr_web_ctx *c, const kr_web_req *r, kr_web_resp *out)
{
	kr_html h = KR_HTML_INIT;
	kr_web_item x;
	kr_web_version *v = NULL;
	size_t nv = 0;
	char *attr = NULL, *headline = NULL;
	const char *title, *outcome;
	int rc;

	if ((rc = kr_web_item_load(c, r->id, &x)) == KR_ENOTFOUND) {
		kr_error_clear();
		kr_page_error(c, r, out, 404, "その項目はこのノードにありません（取り下げられたか、まだ届いていません）。");
		return 0;
	}
	if (rc < 0)
		return rc;
	title = x.it->title;
	outcome = x.fm ? kr_yaml_str(x.fm, "outcome") : NULL;
	headline = kr_web_headline(x.fm);
	attr = kr_web_attribution(x.fm, x.it->pub_name ? x.it->pub_name : x.it->publisher, 1);
	if (kr_web_history(c, x.it, &v, &nv) < 0)
		kr_error_clear();

	s_begin(&h, c, title, NAV_NONE);
	kr_html_tag(&h, "<h1>");
	kr_html_text(&h, title);
	kr_html_tag(&h, "</h1><dl class=\"summary\"><dt>種類</dt><dd>");
	kr_html_text(&h, kr_web_kind_label(x.it->kind));
	kr_html_tag(&h, "</dd><dt>発行者</dt><dd>");
	kr_html_textf(&h, "%s（%s）", x.it->pub_name ? x.it->pub_name : "?", x.it->pub_code ? x.it->pub_code : "?");
	kr_html_tag(&h, "</dd><dt>版</dt><dd>");
	kr_html_text(&h, x.it->version);
	if (x.fm && kr_yaml_str(x.fm, "edition")) {
		kr_html_text(&h, "（");
		kr_html_text(&h, kr_yaml_str(x.fm, "edition"));
		kr_html_text(&h, "）");
	}
	kr_html_tag(&h, "</dd><dt>更新日</dt><dd>");
	kr_html_text(&h, x.it->updated ? x.it->updated : "");
	kr_html_tag(&h, "</dd>");
	if (outcome) {
		kr_html_tag(&h, "<dt>結果</dt><dd class=\"outcome\">");
		kr_html_text(&h, outcome);
		kr_html_tag(&h, "</dd>");
	}
	if (headline) {
		kr_html_tag(&h, "<dt>主な指標</dt><dd>");
		kr_html_text(&h, headline);
		kr_html_tag(&h, "</dd>");
	}
	kr_html_tag(&h, "<dt>ID</dt><dd><code>");
	kr_html_text(&h, x.it->id);
	kr_html_tag(&h, "</code></dd></dl>");

	s_verdict(&h, c, x.it);
	s_headsig_html(&h, c, x.it);

	kr_html_tag(&h, "<h2>出典</h2><p>");
	kr_html_text(&h, attr);
	kr_html_tag(&h, "</p>");

	s_board(&h, c, x.it);

	if (strcmp(x.it->kind, "dataset") == 0) {
		kr_html_tag(&h, "<h2>データ</h2><p>");
		s_item_link(&h, x.it->id, "行を一覧で見る・絞り込む", "rows");
		kr_html_tag(&h, "</p><h3>ダウンロード</h3>");
		s_downloads(&h, c, &x);
	}

	kr_html_tag(&h, "<h2>本文</h2><div class=\"body\">");
	if (kr_markdown_html(&h, x.body, x.body_len) < 0) {
		kr_error_clear();
		kr_html_tag(&h, "<pre>");
		kr_html_textn(&h, x.body, x.body_len);
		kr_html_tag(&h, "</pre>");
	}
	kr_html_tag(&h, "</div>");

	kr_html_tag(&h, "<h2>項目</h2>");
	if (x.fm && x.fm->type == KR_YAML_MAP) {
		kr_html_tag(&h, "<table><caption>前付け（front matter）の全項目</caption><tbody>");
		for (size_t i = 0; i < x.fm->n; i++) {
			kr_html_tag(&h, "<tr><th scope=\"row\">");
			kr_html_text(&h, kr_web_key_label(x.fm->keys[i]));
			kr_html_tag(&h, "<span class=\"key\">");
			kr_html_text(&h, x.fm->keys[i]);
			kr_html_tag(&h, "</span></th><td>");
			s_yaml_html(&h, x.fm->items[i], 0);
			kr_html_tag(&h, "</td></tr>");
		}
		kr_html_tag(&h, "</tbody></table>");
	} else {
		kr_html_tag(&h, "<p>前付けを読み取れませんでした。</p>");
	}

	kr_html_tag(&h, "<h2>版の履歴</h2>");
	if (nv == 0) {
		kr_html_tag(&h, "<p>履歴を読み出せませんでした。</p>");
	} else {
		kr_html_tag(&h, "<table><caption>");
		kr_html_textf(&h, "%zu件の版（新しい順）", nv);
		kr_html_tag(&h, "</caption><thead><tr><th scope=\"col\">版</th><th scope=\"col\">更新日</th>"
		    "<th scope=\"col\">改訂理由</th><th scope=\"col\">コミット</th><th scope=\"col\">差分</th></tr></thead><tbody>");
		for (size_t i = 0; i < nv; i++) {
			kr_html_tag(&h, "<tr><td>");
			if (!v[i].present)
				kr_html_text(&h, "（取り下げ）");
			else
				kr_html_textf(&h, "%s%s%s%s", v[i].edition ? v[i].edition : "", v[i].edition ? "（" : "",
				    v[i].version ? v[i].version : "?", v[i].edition ? "）" : "");
			kr_html_tag(&h, "</td><td>");
			kr_html_text(&h, v[i].updated ? v[i].updated : "");
			kr_html_tag(&h, "</td><td>");
			kr_html_text(&h, v[i].notes ? v[i].notes : "");
			kr_html_tag(&h, "</td><td><code>");
			kr_html_textf(&h, "%.10s", v[i].commit);
			kr_html_tag(&h, "</code></td><td>");
			if (i + 1 < nv) {
				kr_buf u = KR_BUF_INIT;
				kr_buf_addf(&u, "/items/%s/diff?a=%s&b=%s", x.it->id, v[i + 1].commit, v[i].commit);
				kr_html_tag(&h, "<a");
				kr_html_href(&h, u.ptr);
				kr_html_tag(&h, ">");
				kr_html_text(&h, "前の版との差分");
				kr_html_tag(&h, "<span class=\"vh\">（");
				kr_html_textf(&h, "%s", v[i].edition ? v[i].edition : v[i].version ? v[i].version : v[i].commit);
				kr_html_tag(&h, "）</span></a>");
				kr_buf_release(&u);
			} else {
				kr_html_text(&h, "最初の版");
			}
			kr_html_tag(&h, "</td></tr>");
		}
		kr_html_tag(&h, "</tbody></table>");
	}
	kr_html_tag(&h, "<p>");
	s_item_link(&h, x.it->id, "署名されたとおりの原文（テキスト）", "raw");
	kr_html_text(&h, "・");
	{
		kr_buf u = KR_BUF_INIT;
		kr_buf_addf(&u, "/api/items/%s", x.it->id);
		kr_html_link(&h, u.ptr, "JSON");
		kr_buf_release(&u);
	}
	kr_html_tag(&h, "</p>");
	s_end(&h, c, out);
	kr_html_release(&h);
	kr_web_versions_free(v, nv);
	free(attr);
	free(headline);
	kr_web_item_free(&x);
	return 0;
}

int
kr_page_raw(kr_web_ctx *c, const kr_web_req *r, kr_web_resp *out)
{
	kr_web_item x;
	int rc;

	if ((rc = kr_web_item_load(c, r->id, &x)) == KR_ENOTFOUND) {
		kr_error_clear();
		kr_page_error(c, r, out, 404, "その項目はこのノードにありません。");
		return 0;
	}
	if (rc < 0)
		return rc;
	out->type = "text/plain; charset=utf-8";
	kr_buf_add(&out->body, x.text.ptr, x.text.len);
	kr_web_item_free(&x);
	return 0;
}

/* ---- 差分 ----------------------------------------------------------------------- */

typedef struct {
	kr_html *h;
	const char *ctx[2];            /* the last two unchanged lines (context before a hunk) */
	size_t ctxlen[2], ctxline[2], nctx;
	size_t after;                  /* unchanged lines still to show after a hunk */
	int in_hunk;
} s_diffout;

static void
s_diff_line(kr_html *h, const char *cls, size_t line, const char *text, size_t len, const char *label)
{
	kr_html_tag(h, "<div class=\"");
	kr_html_text(h, cls);
	kr_html_tag(h, "\"><span class=\"ln\">");
	if (line)
		kr_html_textf(h, "%zu", line);
	kr_html_tag(h, "</span>");
	if (label) {
		int del = strcmp(cls, "del") == 0;
		if (del)
			kr_html_tag(h, "<del><span class=\"vh\">");
		else
			kr_html_tag(h, "<ins><span class=\"vh\">");
		kr_html_text(h, label);
		kr_html_tag(h, "</span>");
		kr_html_textn(h, text, len);
		if (del)
			kr_html_tag(h, "</del>");
		else
			kr_html_tag(h, "</ins>");
	} else {
		kr_html_textn(h, text, len);
	}
	kr_html_tag(h, "</div>");
}

static void
s_diff_ev(const kr_diff_ev *ev, void *arg)
{
	s_diffout *d = arg;
	kr_html *h = d->h;

	switch (ev->op) {
	case KR_DIFF_SAME_LINE:
		if (d->after) {
			s_diff_line(h, "same", ev->bline, ev->text, ev->len, NULL);
			d->after--;
			break;
		}
		d->ctx[0] = d->ctx[1];
		d->ctxlen[0] = d->ctxlen[1];
		d->ctxline[0] = d->ctxline[1];
		d->ctx[1] = ev->text;
		d->ctxlen[1] = ev->len;
		d->ctxline[1] = ev->bline;
		if (d->nctx < 2)
			d->nctx++;
		break;
	case KR_DIFF_HUNK:
		kr_html_tag(h, "<h3 class=\"hunk\">");
		kr_html_textf(h, "%zu行目（新しい版）", ev->bline);
		kr_html_tag(h, "</h3>");
		for (size_t i = 2 - d->nctx; i < 2; i++)
			s_diff_line(h, "same", d->ctxline[i], d->ctx[i], d->ctxlen[i], NULL);
		d->nctx = 0;
		d->after = 2;
		break;
	case KR_DIFF_DEL_LINE:
		s_diff_line(h, "del", ev->aline, ev->text, ev->len, "（削除）");
		break;
	case KR_DIFF_ADD_LINE:
		s_diff_line(h, "add", ev->bline, ev->text, ev->len, "（追加）");
		break;
	case KR_DIFF_CHG_BEGIN:
		kr_html_tag(h, "<div class=\"chg\"><span class=\"ln\">");
		kr_html_textf(h, "%zu", ev->bline);
		kr_html_tag(h, "</span><span class=\"vh\">（変更された行）</span>");
		break;
	case KR_DIFF_SAME:
		kr_html_textn(h, ev->text, ev->len);
		break;
	case KR_DIFF_DEL:
		kr_html_tag(h, "<del><span class=\"vh\">（削除）</span>");
		kr_html_textn(h, ev->text, ev->len);
		kr_html_tag(h, "</del>");
		break;
	case KR_DIFF_ADD:
		kr_html_tag(h, "<ins><span class=\"vh\">（追加）</span>");
		kr_html_textn(h, ev->text, ev->len);
		kr_html_tag(h, "</ins>");
		break;
	case KR_DIFF_CHG_END:
		kr_html_tag(h, "</div>");
		break;
	case KR_DIFF_TOOLONG:
		kr_html_tag(h, "<p>行が多すぎるため、行ごとの比較はできませんでした。</p>");
		break;
	}
}

static void
s_version_label(kr_html *h, const kr_web_version *v)
{
	if (!v->present) {
		kr_html_textf(h, "取り下げ（%.10s）", v->commit);
		return;
	}
	kr_html_textf(h, "%s%s%s%s・%s（%.10s）", v->edition ? v->edition : "", v->edition ? "（" : "",
	    v->version ? v->version : "?", v->edition ? "）" : "", v->updated ? v->updated : "", v->commit);
}

/* The index of the version named by a commit id or a prefix of at least 7 digits; -1 if none. */
static int
s_find_version(const kr_web_version *v, size_t n, const char *want)
{
	size_t l = want ? strlen(want) : 0;

	if (l < 7 || l > KR_OID_HEX || !kr_is_hex(want, l))
		return -1;
	for (size_t i = 0; i < n; i++)
		if (strncmp(v[i].commit, want, l) == 0)
			return (int)i;
	return -1;
}

static void
s_version_select(kr_html *h, const char *name, const char *label, const kr_web_version *v, size_t n, int sel)
{
	kr_html_tag(h, "<p><label");
	kr_html_attr(h, "for", name);
	kr_html_tag(h, ">");
	kr_html_text(h, label);
	kr_html_tag(h, "</label> <select");
	kr_html_attr(h, "id", name);
	kr_html_attr(h, "name", name);
	kr_html_tag(h, ">");
	for (size_t i = 0; i < n; i++) {
		kr_html_tag(h, "<option");
		kr_html_attr(h, "value", v[i].commit);
		if ((int)i == sel)
			kr_html_tag(h, " selected");
		kr_html_tag(h, ">");
		s_version_label(h, &v[i]);
		kr_html_tag(h, "</option>");
	}
	kr_html_tag(h, "</select></p>");
}

int
kr_page_diff(kr_web_ctx *c, const kr_web_req *r, kr_web_resp *out)
{
	kr_html h = KR_HTML_INIT;
	kr_web_item x;
	kr_web_version *v = NULL;
	size_t nv = 0, changes;
	kr_buf ta = KR_BUF_INIT, tb = KR_BUF_INIT, u = KR_BUF_INIT;
	const char *pa = kr_web_param_get(r, "a"), *pb = kr_web_param_get(r, "b");
	int a, b, rc;
	s_diffout d = { .h = &h };

	if ((rc = kr_web_item_load(c, r->id, &x)) == KR_ENOTFOUND) {
		kr_error_clear();
		kr_page_error(c, r, out, 404, "その項目はこのノードにありません。");
		return 0;
	}
	if (rc < 0)
		return rc;
	if ((rc = kr_web_history(c, x.it, &v, &nv)) < 0)
		goto done;
	a = pa ? s_find_version(v, nv, pa) : nv > 1 ? 1 : 0;
	b = pb ? s_find_version(v, nv, pb) : 0;
	if (a < 0 || b < 0 || nv == 0) {
		kr_page_error(c, r, out, 404, "指定された版はこの項目の履歴にありません。");
		goto done;
	}
	if ((rc = kr_web_version_text(c, x.it, &v[a], &ta)) < 0 || (rc = kr_web_version_text(c, x.it, &v[b], &tb)) < 0)
		goto done;
	s_begin(&h, c, "差分", NAV_NONE);
	kr_html_tag(&h, "<h1>差分：");
	kr_html_text(&h, x.it->title);
	kr_html_tag(&h, "</h1><p>");
	s_item_link(&h, x.it->id, "項目のページへ戻る", NULL);
	kr_html_tag(&h, "</p><form method=\"get\"");
	kr_buf_addf(&u, "/items/%s/diff", x.it->id);
	kr_html_attr(&h, "action", u.ptr);
	kr_html_tag(&h, "><h2>比べる版</h2>");
	s_version_select(&h, "a", "比較元（古い版）", v, nv, a);
	s_version_select(&h, "b", "比較先（新しい版）", v, nv, b);
	kr_html_tag(&h, "<p><button type=\"submit\">比較する</button></p></form><h2>変更点</h2><p>");
	kr_html_text(&h, "比較元：");
	s_version_label(&h, &v[a]);
	kr_html_tag(&h, "<br>");
	kr_html_text(&h, "比較先：");
	s_version_label(&h, &v[b]);
	kr_html_tag(&h, "</p><p>削除は<del>取り消し線</del>、追加は<ins>下線</ins>で示し、"
	    "読み上げでは（削除）（追加）と伝えます。変わった行は文字単位で比べています。</p><div class=\"diff\">");
	changes = kr_textdiff(ta.ptr, ta.len, tb.ptr, tb.len, s_diff_ev, &d);
	kr_html_tag(&h, "</div><p role=\"status\">");
	if (changes == 0)
		kr_html_text(&h, "この2つの版に違いはありません。");
	else
		kr_html_textf(&h, "%zu行が変わりました。", changes);
	kr_html_tag(&h, "</p>");
	s_end(&h, c, out);
	rc = 0;
done:
	kr_html_release(&h);
	kr_buf_release(&ta);
	kr_buf_release(&tb);
	kr_buf_release(&u);
	kr_web_versions_free(v, nv);
	kr_web_item_free(&x);
	return rc;
}

/* ---- the dataset viewer and downloads ------------------------------------------ */

typedef struct {
	kr_buf id, question, answer, category, issuer, updated, extra;
} s_row;

static int
s_row_field(void *arg, const char *path, const char *value, int type)
{
	s_row *row = arg;

	(void)type;
	if (strcmp(path, "id") == 0)
		kr_buf_adds(&row->id, value);
	else if (strcmp(path, "question") == 0)
		kr_buf_adds(&row->question, value);
	else if (strcmp(path, "answer") == 0)
		kr_buf_adds(&row->answer, value);
	else if (strcmp(path, "category") == 0)
		kr_buf_adds(&row->category, value);
	else if (strcmp(path, "source.issuer") == 0)
		kr_buf_adds(&row->issuer, value);
	else if (strcmp(path, "updated") == 0)
		kr_buf_adds(&row->updated, value);
	else if (strncmp(path, "alt_questions[", 14) == 0 || strncmp(path, "keywords[", 9) == 0)
		kr_buf_addf(&row->extra, "%s\n", value);
	return 0;
}

static void
s_row_clear(s_row *row)
{
	kr_buf_clear(&row->id);
	kr_buf_clear(&row->question);
	kr_buf_clear(&row->answer);
	kr_buf_clear(&row->category);
	kr_buf_clear(&row->issuer);
	kr_buf_clear(&row->updated);
	kr_buf_clear(&row->extra);
}

static void
s_row_release(s_row *row)
{
	kr_buf_release(&row->id);
	kr_buf_release(&row->question);
	kr_buf_release(&row->answer);
	kr_buf_release(&row->category);
	kr_buf_release(&row->issuer);
	kr_buf_release(&row->updated);
	kr_buf_release(&row->extra);
}

/* Whether every space-separated word of the filter appears in the row (normalised: ゴミ = ごみ). */
static int
s_row_matches(const s_row *row, char **words, size_t nwords)
{
	kr_buf all = KR_BUF_INIT, norm = KR_BUF_INIT;
	int ok = 1;

	if (nwords == 0)
		return 1;
	kr_buf_addf(&all, "%s\n%s\n%s\n%s\n%s\n%s", row->id.ptr, row->question.ptr, row->answer.ptr,
	    row->category.ptr, row->extra.ptr, row->issuer.ptr);
	kr_text_normalize(&norm, all.ptr, all.len);
	for (size_t i = 0; i < nwords && ok; i++)
		ok = strstr(norm.ptr, words[i]) != NULL;
	kr_buf_release(&all);
	kr_buf_release(&norm);
	return ok;
}

/*
 * The next row of the data file from *p: 1 with row filled, 0 at the end.
 * Blank lines are skipped, lines that are not a JSON object counted in *bad.
 */
static int
s_row_next(const char **p, const char *end, s_row *row, size_t *bad)
{
	while (*p < end) {
		const char *nl = memchr(*p, '\n', (size_t)(end - *p));
		size_t l = nl ? (size_t)(nl - *p) : (size_t)(end - *p);
		const char *line = *p;
		int top;
		*p += l + 1;
		if (l == 0 || (l == 1 && *line == '\r'))
			continue;
		s_row_clear(row);
		if (kr_json_walk(line, l, &top, s_row_field, row) < 0 || top != '{') {
			kr_error_clear();
			(*bad)++;
			continue;
		}
		return 1;
	}
	return 0;
}

/* <a href="/items/DATASET-ID/rows/ROW">ROW</a> */
static void
s_row_link(kr_html *h, const char *dataset, const char *row_id)
{
	kr_buf id = KR_BUF_INIT, u = KR_BUF_INIT;

	kr_buf_addf(&id, "%s#%s", dataset, row_id);
	kr_web_item_url(&u, NULL, id.ptr);
	kr_html_link(h, u.ptr, row_id);
	kr_buf_release(&id);
	kr_buf_release(&u);
}

/*
 * The dataset viewer: /items/ID/rows (?q= filter, ?page=), and a row's own
 * page /items/ID/rows/ROW (r->arg): that row in full first, then the page
 * of the viewer that holds it, the row marked (its <tr> has id="row-N",
 * N its position, and aria-current).
 */
int
kr_page_rows(kr_web_ctx *c, const kr_web_req *r, kr_web_resp *out)
{
	kr_html h = KR_HTML_INIT;
	kr_web_item x;
	kr_buf jsonl = KR_BUF_INIT, u = KR_BUF_INIT;
	const char *want = r->arg;
	const char *q = want ? NULL : kr_web_param_get(r, "q");
	size_t page = s_page_param(r, 100000), from, matched = 0, shown = 0, bad = 0, nwords = 0, pos = 0;
	char **words = NULL;
	s_row row = { KR_BUF_INIT, KR_BUF_INIT, KR_BUF_INIT, KR_BUF_INIT, KR_BUF_INIT, KR_BUF_INIT, KR_BUF_INIT };
	int rc, found = 0;

	if ((rc = kr_web_item_load(c, r->id, &x)) == KR_ENOTFOUND || (rc == 0 && strcmp(x.it->kind, "dataset") != 0)) {
		if (rc == 0)
			kr_web_item_free(&x);
		kr_error_clear();
		kr_page_error(c, r, out, 404, "そのデータセットはこのノードにありません。");
		return 0;
	}
	if (rc < 0)
		return rc;
	if ((rc = kr_web_dataset_jsonl(c, x.it, &jsonl)) < 0)
		goto done;
	if (want) {
		/* the row's position, and so the viewer's page that holds it */
		const char *p = jsonl.ptr, *end = jsonl.ptr + jsonl.len;
		size_t ignored = 0;
		while (!found && s_row_next(&p, end, &row, &ignored)) {
			if (strcmp(row.id.ptr ? row.id.ptr : "", want) == 0)
				found = 1;
			else
				pos++;
		}
		if (!found) {
			kr_page_error(c, r, out, 404, "その行はこのデータセットにありません（行IDが変わったか、取り下げられました）。");
			rc = 0;
			goto done;
		}
		page = pos / ROWS_PAGE + 1;
	}
	if (q && *q) {
		/* the filter's words, normalised like the rows (NFKC makes 全角スペース a space) */
		kr_buf norm = KR_BUF_INIT;
		char *save = NULL;
		kr_text_normalize(&norm, q, strlen(q));
		for (char *w = strtok_r(norm.ptr, " \t", &save); w && nwords < 16; w = strtok_r(NULL, " \t", &save)) {
			words = kr_realloc(words, (nwords + 1) * sizeof(char *));
			words[nwords++] = kr_strdup(w);
		}
		kr_buf_release(&norm);
	}
	from = (page - 1) * ROWS_PAGE;
	if (want) {
		kr_buf t = KR_BUF_INIT;
		kr_buf_addf(&t, "行 %s", want);
		s_begin(&h, c, t.ptr, NAV_NONE);
		kr_buf_release(&t);
		kr_html_tag(&h, "<h1>");
		kr_html_text(&h, x.it->title);
		kr_html_tag(&h, "：行 ");
		kr_html_text(&h, want);
		kr_html_tag(&h, "</h1><dl class=\"summary row\" id=\"row\"><dt>質問</dt><dd>");
		kr_html_text(&h, row.question.ptr);
		kr_html_tag(&h, "</dd><dt>回答</dt><dd>");
		kr_html_text(&h, row.answer.ptr);
		kr_html_tag(&h, "</dd>");
		if (row.extra.len) {
			kr_html_tag(&h, "<dt>別の聞き方・キーワード</dt><dd>");
			kr_html_text(&h, row.extra.ptr);
			kr_html_tag(&h, "</dd>");
		}
		kr_html_tag(&h, "<dt>カテゴリ</dt><dd>");
		kr_html_text(&h, row.category.ptr);
		kr_html_tag(&h, "</dd><dt>出典</dt><dd>");
		{
			char *attr = kr_web_attribution(x.fm, x.it->pub_name ? x.it->pub_name : x.it->publisher, 1);
			if (row.issuer.len)
				kr_html_textf(&h, "%s（", row.issuer.ptr);
			kr_html_text(&h, attr);
			if (row.issuer.len)
				kr_html_text(&h, "）");
			free(attr);
		}
		kr_html_tag(&h, "</dd><dt>更新日</dt><dd>");
		kr_html_text(&h, row.updated.ptr);
		kr_html_tag(&h, "</dd></dl><p>");
		s_item_link(&h, x.it->id, "データセットのページへ戻る", NULL);
		kr_html_tag(&h, "</p>");
	} else {
		s_begin(&h, c, "データの一覧", NAV_NONE);
		kr_html_tag(&h, "<h1>");
		kr_html_text(&h, x.it->title);
		kr_html_tag(&h, "：データの一覧</h1><p>");
		s_item_link(&h, x.it->id, "データセットのページへ戻る", NULL);
		kr_html_tag(&h, "</p>");
	}
	kr_html_tag(&h, "<form method=\"get\"");
	kr_buf_addf(&u, "/items/%s/rows", x.it->id);
	kr_html_attr(&h, "action", u.ptr);
	kr_html_tag(&h, "><p><label for=\"rq\">行を絞り込む</label> <input id=\"rq\" name=\"q\" type=\"search\"");
	kr_html_attr(&h, "value", q ? q : "");
	kr_html_tag(&h, "> <button type=\"submit\">絞り込む</button></p></form><h2>ダウンロード</h2>");
	s_downloads(&h, c, &x);
	kr_html_tag(&h, "<h2>行</h2><table><caption>");
	/* the rows are built first (into rowsh) so the caption can count them */
	{
		const char *p = jsonl.ptr, *end = jsonl.ptr + jsonl.len;
		kr_html rowsh = KR_HTML_INIT;
		while (s_row_next(&p, end, &row, &bad)) {
			if (!s_row_matches(&row, words, nwords))
				continue;
			if (matched++ < from || shown >= ROWS_PAGE)
				continue;
			shown++;
			if (want && matched - 1 == pos) {
				char rid[32];
				snprintf(rid, sizeof(rid), "row-%zu", pos + 1);
				kr_html_tag(&rowsh, "<tr class=\"current\" aria-current=\"true\"");
				kr_html_attr(&rowsh, "id", rid);
				kr_html_tag(&rowsh, "><th scope=\"row\">");
			} else {
				kr_html_tag(&rowsh, "<tr><th scope=\"row\">");
			}
			s_row_link(&rowsh, x.it->id, row.id.ptr ? row.id.ptr : "");
			kr_html_tag(&rowsh, "</th><td>");
			kr_html_text(&rowsh, row.question.ptr);
			kr_html_tag(&rowsh, "</td><td>");
			kr_html_text(&rowsh, row.answer.ptr);
			kr_html_tag(&rowsh, "</td><td>");
			kr_html_text(&rowsh, row.category.ptr);
			kr_html_tag(&rowsh, "</td><td>");
			kr_html_text(&rowsh, row.issuer.ptr);
			kr_html_tag(&rowsh, "</td><td>");
			kr_html_text(&rowsh, row.updated.ptr);
			kr_html_tag(&rowsh, "</td></tr>");
		}
		if (matched == 0)
			kr_html_text(&h, q && *q ? "絞り込みに合う行はありません" : "行がありません");
		else
			kr_html_textf(&h, "%zu行中 %zu–%zu行目%s", matched, shown ? from + 1 : 0, from + shown,
			    q && *q ? "（絞り込み後）" : "");
		kr_html_tag(&h, "</caption><thead><tr><th scope=\"col\">ID</th><th scope=\"col\">質問</th>"
		    "<th scope=\"col\">回答</th><th scope=\"col\">カテゴリ</th><th scope=\"col\">出典</th>"
		    "<th scope=\"col\">更新日</th></tr></thead><tbody>");
		kr_html_append(&h, &rowsh);
		kr_html_release(&rowsh);
	}
	kr_html_tag(&h, "</tbody></table>");
	if (bad)
		kr_html_textf(&h, "（JSONとして読めない行が%zu行あり、表示していません）", bad);
	kr_buf_clear(&u);
	kr_buf_addf(&u, "/items/%s/rows?", x.it->id);
	if (q && *q) {
		kr_buf_adds(&u, "q=");
		kr_url_add(&u, q);
		kr_buf_addch(&u, '&');
	}
	kr_buf_adds(&u, "page=");
	s_pager(&h, u.ptr, page, (matched + ROWS_PAGE - 1) / ROWS_PAGE);
	s_end(&h, c, out);
	rc = 0;
done:
	kr_html_release(&h);
	s_row_release(&row);
	kr_strv_free(words, nwords);
	kr_buf_release(&jsonl);
	kr_buf_release(&u);
	kr_web_item_free(&x);
	return rc;
}

int
kr_page_export(kr_web_ctx *c, const kr_web_req *r, kr_web_resp *out)
{
	kr_web_item x;
	const kr_web_format *f = kr_web_format_find(r->arg);
	size_t rows;
	kr_buf name = KR_BUF_INIT;
	int rc;

	if (!f) {
		kr_page_error(c, r, out, 404, "その形式では書き出せません（jsonl、dify-csv、langchain のいずれかです）。");
		return 0;
	}
	if ((rc = kr_web_item_load(c, r->id, &x)) == KR_ENOTFOUND || (rc == 0 && strcmp(x.it->kind, "dataset") != 0)) {
		if (rc == 0)
			kr_web_item_free(&x);
		kr_error_clear();
		kr_page_error(c, r, out, 404, "そのデータセットはこのノードにありません。");
		return 0;
	}
	if (rc < 0)
		return rc;
	if ((rc = kr_web_export(c, &x, f, &out->body, &rows)) == 0) {
		/* 372081/dataset/gomi-qa -> 372081-gomi-qa-dify.csv (ASCII only: ids are) */
		const char *slug = strrchr(x.it->id, '/') + 1;
		kr_buf_addf(&name, "%.6s-%s%s", x.it->id, slug, f->suffix);
		out->type = f->type;
		out->disposition = kr_sprintf("attachment; filename=\"%s\"; filename*=UTF-8''%s", name.ptr, name.ptr);
	}
	kr_buf_release(&name);
	kr_web_item_free(&x);
	return rc;
}

/* ---- 連携・ボード -------------------------------------------------------------------- */

static void
s_key_short(kr_html *h, const uint8_t key[KR_FPR_LEN])
{
	char hex[KR_FPR_HEX + 1];

	kr_hex(hex, key, KR_FPR_LEN);
	kr_html_tag(h, "<code>");
	kr_html_textf(h, "%.16s…", hex);
	kr_html_tag(h, "</code>");
}

static void
s_federation(kr_html *h, kr_fedstore *f)
{
	const kr_membership *m = &f->cur;
	char idhex[65], t1[32], t2[32];
	int stale = kr_fed_stale(m, kr_now());

	kr_fedstore_id_hex(f, idhex);
	kr_web_time(t1, m->issued);
	kr_web_time(t2, m->expires);
	kr_html_tag(h, "<dl class=\"summary\"><dt>連携の名前</dt><dd>");
	kr_html_text(h, m->name);
	kr_html_tag(h, "</dd><dt>連携ID</dt><dd><code>");
	kr_html_text(h, idhex);
	kr_html_tag(h, "</code></dd><dt>名簿の版</dt><dd>");
	kr_html_textf(h, "第%llu版（%s 発行、%s まで有効）", (unsigned long long)m->version, t1, t2);
	kr_html_tag(h, "</dd><dt>状態</dt><dd>");
	kr_html_text(h, stale ? "名簿の有効期限が切れています。新しい版が届くまで、このノードは読み取り専用です。"
	                      : "有効");
	kr_html_tag(h, "</dd></dl><h2>ボード（共同アドバイザリーボード）</h2><p>");
	kr_html_textf(h, "%zu人のうち%u人の署名で名簿を変更できます。", m->nboard, m->threshold);
	kr_html_tag(h, "</p><table><caption>ボードの席</caption><thead><tr><th scope=\"col\">名前</th>"
	    "<th scope=\"col\">団体コード</th><th scope=\"col\">鍵</th></tr></thead><tbody>");
	for (size_t i = 0; i < m->nboard; i++) {
		kr_html_tag(h, "<tr><td>");
		kr_html_text(h, m->board[i].name);
		kr_html_tag(h, "</td><td>");
		kr_html_text(h, m->board[i].lg_code);
		kr_html_tag(h, "</td><td>");
		s_key_short(h, m->board[i].key);
		kr_html_tag(h, "</td></tr>");
	}
	kr_html_tag(h, "</tbody></table><h2>参加団体</h2><table><caption>");
	kr_html_textf(h, "%zu団体", m->nmembers);
	kr_html_tag(h, "</caption><thead><tr><th scope=\"col\">名前</th><th scope=\"col\">団体コード</th>"
	    "<th scope=\"col\">役割</th><th scope=\"col\">接続先</th><th scope=\"col\">有効期限</th>"
	    "<th scope=\"col\">鍵</th></tr></thead><tbody>");
	for (size_t i = 0; i < m->nmembers; i++) {
		const kr_fed_member *x = &m->members[i];
		kr_html_tag(h, "<tr><td>");
		kr_html_text(h, x->name);
		kr_html_tag(h, "</td><td>");
		kr_html_text(h, x->lg_code);
		kr_html_tag(h, "</td><td>");
		kr_html_textf(h, "%s%s%s", x->roles & KR_ROLE_BOARD ? "ボード " : "", x->roles & KR_ROLE_HUB ? "拠点 " : "",
		    x->roles & KR_ROLE_MEMBER ? "参加団体" : "");
		kr_html_tag(h, "</td><td>");
		for (size_t j = 0; j < x->nendpoints; j++) {
			if (j)
				kr_html_tag(h, "<br>");
			kr_html_text(h, x->endpoints[j]);
		}
		kr_html_tag(h, "</td><td>");
		if (x->valid_until) {
			kr_web_time(t1, x->valid_until);
			kr_html_text(h, t1);
		} else {
			kr_html_text(h, "定めなし");
		}
		kr_html_tag(h, "</td><td>");
		s_key_short(h, x->key);
		kr_html_tag(h, "</td></tr>");
	}
	kr_html_tag(h, "</tbody></table>");
	if (m->nrevoked) {
		kr_html_tag(h, "<h2>失効した鍵</h2><table><caption>失効した鍵と理由</caption><thead><tr>"
		    "<th scope=\"col\">鍵</th><th scope=\"col\">理由</th><th scope=\"col\">時点</th></tr></thead><tbody>");
		for (size_t i = 0; i < m->nrevoked; i++) {
			kr_web_time(t1, m->revoked[i].since);
			kr_html_tag(h, "<tr><td>");
			s_key_short(h, m->revoked[i].key);
			kr_html_tag(h, "</td><td>");
			kr_html_text(h, m->revoked[i].reason == KR_REVOKE_COMPROMISED ? "漏えい（以後に受け取ったものは無効）"
			    : m->revoked[i].has_replacement ? "鍵の交換" : "退任");
			kr_html_tag(h, "</td><td>");
			kr_html_text(h, t1);
			kr_html_tag(h, "</td></tr>");
		}
		kr_html_tag(h, "</tbody></table>");
	}
}

/*
 * The board's work (DESIGN §7): recent endorsements (verdict, the item
 * version, who, review date, whether it counts) and open consultations
 * with their age. Nothing when this node holds none of either.
 */
static void
s_board_work(kr_html *h, kr_web_ctx *c)
{
	kr_bview bv;
	size_t shown = 0;

	if (kr_bview_load(&bv, c->conf->home, c->state, c->store, "") < 0) {
		kr_error_clear();
		return;
	}
	for (size_t i = bv.n; i-- > 0 && shown < 20;) {
		const kr_bview_item *x = &bv.v[i];
		if (!x->r.kind || strcmp(x->r.kind, "endorsement") != 0)
			continue;
		if (!shown++)
			kr_html_tag(h, "<h2>ボードの推奨</h2><table><caption>この node が持つ推奨（新しい順、最大20件）</caption>"
			    "<thead><tr><th scope=\"col\">判定</th><th scope=\"col\">対象</th><th scope=\"col\">委員</th>"
			    "<th scope=\"col\">見直し期限</th><th scope=\"col\">数えるか</th></tr></thead><tbody>");
		kr_html_tag(h, "<tr><td>");
		kr_html_text(h, x->r.verdict ? x->r.verdict : "?");
		kr_html_tag(h, "</td><td>");
		if (x->r.target_id)
			s_item_link(h, x->r.target_id, x->r.target_id, NULL);
		kr_html_textf(h, " 版 %s", x->r.target_version ? x->r.target_version : "?");
		kr_html_tag(h, "</td><td>");
		kr_html_textf(h, "%s（%s）", x->r.pub_name ? x->r.pub_name : "?", x->r.lg_code ? x->r.lg_code : "?");
		kr_html_tag(h, "</td><td>");
		kr_html_text(h, x->r.review_by ? x->r.review_by : "");
		kr_html_tag(h, "</td><td>");
		kr_html_text(h, kr_board_standing_name(x->standing));
		kr_html_tag(h, "</td></tr>");
	}
	if (shown)
		kr_html_tag(h, "</tbody></table>");
	shown = 0;
	for (size_t i = 0; i < bv.n; i++) {
		const kr_bview_item *x = &bv.v[i];
		const char *state;
		if (!kr_bview_consult_open(&bv, x, &state))
			continue;
		if (!shown++)
			kr_html_tag(h, "<h2>受付中の相談</h2><ul class=\"consultations\">");
		kr_html_tag(h, "<li>");
		s_item_link(h, x->r.id, x->r.title ? x->r.title : x->r.id, NULL);
		kr_html_textf(h, "（%s、%s %s、%s から）", state, x->r.pub_name ? x->r.pub_name : "?",
		    x->r.department ? x->r.department : "", x->r.published ? x->r.published : "?");
		kr_html_tag(h, "</li>");
	}
	if (shown)
		kr_html_tag(h, "</ul>");
	kr_bview_free(&bv);
}

int
kr_page_federation(kr_web_ctx *c, const kr_web_req *r, kr_web_resp *out)
{
	kr_html h = KR_HTML_INIT;
	kr_fedstore f;
	char **pinned = NULL;
	size_t npinned = 0;

	(void)r;
	s_begin(&h, c, "連携・ボード", NAV_FEDERATION);
	kr_html_tag(&h, "<h1>連携・ボード</h1>");
	if (kr_fedstore_open(&f, c->conf->home) < 0) {
		kr_html_tag(&h, "<p role=\"alert\">連携の名簿を読み出せませんでした（");
		kr_html_text(&h, kr_errmsg());
		kr_html_tag(&h, "）。</p>");
		kr_error_clear();
	} else {
		if (f.have) {
			s_federation(&h, &f);
		} else if (f.pinned) {
			char idhex[65];
			kr_fedstore_id_hex(&f, idhex);
			kr_html_tag(&h, "<p>このノードは連携ID <code>");
			kr_html_text(&h, idhex);
			kr_html_tag(&h, "</code> に参加する設定ですが、名簿はまだ届いていません。</p>");
		} else {
			kr_html_tag(&h, "<p>このノードはどの連携（フェデレーション）にも参加していません。"
			    "ボードの名簿がないため、信頼する発行者は一つずつ登録されています"
			    "（<code>kairan follow --publisher</code>）。</p>");
		}
		kr_fedstore_close(&f);
	}
	s_board_work(&h, c);
	kr_html_tag(&h, "<h2>個別に信頼している発行者</h2>");
	if (kr_state_pinned_list(c->state, &pinned, &npinned) < 0 || npinned == 0) {
		kr_error_clear();
		kr_html_tag(&h, "<p>ありません。</p>");
	} else {
		kr_html_tag(&h, "<table><caption>kairan follow --publisher で登録された鍵</caption><thead><tr>"
		    "<th scope=\"col\">発行者</th><th scope=\"col\">団体コード</th><th scope=\"col\">鍵</th>"
		    "<th scope=\"col\">鮮度</th></tr></thead><tbody>");
		for (size_t i = 0; i < npinned; i++) {
			kr_web_fresh fr;
			kr_web_freshness(c, pinned[i], &fr);
			kr_html_tag(&h, "<tr><td>");
			kr_html_text(&h, fr.name ? fr.name : "（まだ目録が届いていません）");
			kr_html_tag(&h, "</td><td>");
			kr_html_text(&h, fr.lg_code ? fr.lg_code : "");
			kr_html_tag(&h, "</td><td><code>");
			kr_html_textf(&h, "%.16s…", pinned[i]);
			kr_html_tag(&h, "</code></td><td>");
			s_fresh_text(&h, &fr);
			kr_html_tag(&h, "</td></tr>");
			kr_web_fresh_clear(&fr);
		}
		kr_html_tag(&h, "</tbody></table>");
	}
	kr_strv_free(pinned, npinned);
	s_end(&h, c, out);
	return 0;
}

/* ---- 状態 ---------------------------------------------------------------------------- */

int
kr_page_status(kr_web_ctx *c, const kr_web_req *r, kr_web_resp *out)
{
	kr_html h = KR_HTML_INIT;
	kr_state_manifest *ms = NULL;
	kr_state_quarantine *q = NULL;
	kr_state_peer *peers = NULL;
	size_t nm = 0, nq = 0, np = 0;
	char t[32];
	int rc;

	(void)r;
	if ((rc = kr_state_manifest_list(c->state, &ms, &nm)) < 0 ||
	    (rc = kr_state_quarantine_list(c->state, 20, &q, &nq)) < 0 ||
	    (rc = kr_state_peers(c->state, &peers, &np)) < 0)
		goto done;
	s_begin(&h, c, "状態", NAV_STATUS);
	kr_html_tag(&h, "<h1>状態</h1><dl class=\"summary\"><dt>このノード</dt><dd>");
	kr_html_textf(&h, "%s（%s）", c->conf->name, c->conf->lg_code);
	kr_html_tag(&h, "</dd><dt>鍵</dt><dd><code>");
	kr_html_text(&h, c->conf->fpr);
	kr_html_tag(&h, "</code></dd></dl>");

	kr_html_tag(&h, "<h2>件数</h2><table><caption>このノードが持っている項目（ハーベスト用の数）</caption>"
	    "<thead><tr><th scope=\"col\">種類</th><th scope=\"col\">件数</th></tr></thead><tbody>");
	for (size_t i = 0; i < sizeof(s_kind_order) / sizeof(s_kind_order[0]); i++) {
		kr_item_filter f = { .kind = s_kind_order[i] };
		kr_item_row *rows;
		size_t n, total = 0;
		if (kr_state_item_list(c->state, &f, &rows, &n, &total) < 0)
			kr_error_clear();
		kr_html_tag(&h, "<tr><th scope=\"row\">");
		kr_html_text(&h, kr_web_kind_label(s_kind_order[i]));
		kr_html_tag(&h, "</th><td>");
		kr_html_textf(&h, "%zu", total);
		kr_html_tag(&h, "</td></tr>");
	}
	kr_html_tag(&h, "</tbody></table><p>データセットは <a href=\"/api/3/action/package_list\">CKAN API</a> と "
	    "<a href=\"/catalog.jsonld\">DCAT カタログ</a> で取得できます。");
	kr_html_text(&h, c->conf->retrieval_keys && *c->conf->retrieval_keys
	    ? "Dify の外部ナレッジAPI（POST /retrieval）は有効です。"
	    : "Dify の外部ナレッジAPI（POST /retrieval）は鍵が設定されていないため使えません（設定 web.retrieval_keys）。");
	kr_html_tag(&h, "</p>");

	kr_html_tag(&h, "<h2>発行者と鮮度</h2>");
	if (nm == 0) {
		kr_html_tag(&h, "<p>まだ発行も購読もしていません。</p>");
	} else {
		kr_html_tag(&h, "<table><caption>署名された目録（manifest）ごとの状態</caption><thead><tr>"
		    "<th scope=\"col\">発行者</th><th scope=\"col\">目録</th><th scope=\"col\">鮮度</th>"
		    "<th scope=\"col\">受け取り元</th><th scope=\"col\">コレクションの先頭</th></tr></thead><tbody>");
		for (size_t i = 0; i < nm; i++) {
			kr_web_fresh f = { .known = 1, .seq = ms[i].seq, .issued = ms[i].issued, .expires = ms[i].expires,
				.stale = ms[i].expires <= kr_now() };
			kr_state_head *heads = NULL;
			size_t nh = 0;
			kr_html_tag(&h, "<tr><th scope=\"row\">");
			kr_html_textf(&h, "%s（%s）", ms[i].name, ms[i].lg_code);
			if (strcmp(ms[i].publisher, c->conf->fpr) == 0)
				kr_html_text(&h, "・このノード");
			kr_html_tag(&h, "</th><td>");
			kr_web_time(t, ms[i].issued);
			kr_html_textf(&h, "第%llu号（%s）", (unsigned long long)ms[i].seq, t);
			kr_html_tag(&h, "</td><td>");
			s_fresh_text(&h, &f);
			kr_html_tag(&h, "</td><td>");
			kr_web_time(t, ms[i].received);
			kr_html_textf(&h, "%s（%s）", ms[i].peer && *ms[i].peer ? ms[i].peer : "このノード", t);
			kr_html_tag(&h, "</td><td>");
			if (kr_state_head_list(c->state, ms[i].publisher, &heads, &nh) < 0)
				kr_error_clear();
			kr_html_tag(&h, "<ul>");
			for (size_t j = 0; j < nh; j++) {
				int64_t items = 0;
				kr_state_item_count(c->state, heads[j].publisher, heads[j].collection, &items);
				kr_web_time(t, heads[j].synced);
				kr_html_tag(&h, "<li>");
				kr_html_textf(&h, "%s %.10s（%lld件、%s 更新）", heads[j].collection, heads[j].commit,
				    (long long)items, t);
				kr_html_tag(&h, "</li>");
			}
			kr_html_tag(&h, "</ul></td></tr>");
			free(heads);
		}
		kr_html_tag(&h, "</tbody></table>");
	}

	kr_html_tag(&h, "<h2>接続先（ピア）</h2>");
	if (np == 0) {
		kr_html_tag(&h, "<p>接続先はありません。</p>");
	} else {
		kr_html_tag(&h, "<table><caption>フォローしている接続先</caption><thead><tr><th scope=\"col\">接続先</th>"
		    "<th scope=\"col\">名前</th><th scope=\"col\">最後に成功</th><th scope=\"col\">最後の失敗</th>"
		    "<th scope=\"col\">発行者の数</th></tr></thead><tbody>");
		for (size_t i = 0; i < np; i++) {
			kr_html_tag(&h, "<tr><td>");
			kr_html_text(&h, peers[i].endpoint);
			kr_html_tag(&h, "</td><td>");
			kr_html_text(&h, peers[i].name ? peers[i].name : "");
			kr_html_tag(&h, "</td><td>");
			if (peers[i].last_ok) {
				kr_web_time(t, peers[i].last_ok);
				kr_html_text(&h, t);
			} else {
				kr_html_text(&h, "まだありません");
			}
			kr_html_tag(&h, "</td><td>");
			if (peers[i].last_error) {
				kr_web_time(t, peers[i].last_error_at);
				kr_html_textf(&h, "%s：%s", t, peers[i].last_error);
			}
			kr_html_tag(&h, "</td><td>");
			kr_html_textf(&h, "%zu", peers[i].npublishers);
			kr_html_tag(&h, "</td></tr>");
		}
		kr_html_tag(&h, "</tbody></table>");
	}

	kr_html_tag(&h, "<h2>隔離（受け取りを拒んだ更新）</h2>");
	if (nq == 0) {
		kr_html_tag(&h, "<p>ありません。</p>");
	} else {
		kr_html_tag(&h, "<table><caption>新しい順に最大20件</caption><thead><tr><th scope=\"col\">日時</th>"
		    "<th scope=\"col\">送ってきた接続先</th><th scope=\"col\">発行者</th><th scope=\"col\">理由</th>"
		    "</tr></thead><tbody>");
		for (size_t i = 0; i < nq; i++) {
			kr_web_time(t, q[i].at);
			kr_html_tag(&h, "<tr><td>");
			kr_html_text(&h, t);
			kr_html_tag(&h, "</td><td>");
			kr_html_text(&h, q[i].peer ? q[i].peer : "");
			kr_html_tag(&h, "</td><td><code>");
			kr_html_textf(&h, "%.16s", q[i].publisher ? q[i].publisher : "");
			kr_html_tag(&h, "</code></td><td>");
			kr_html_text(&h, q[i].reason);
			kr_html_tag(&h, "</td></tr>");
		}
		kr_html_tag(&h, "</tbody></table>");
	}
	s_end(&h, c, out);
	rc = 0;
done:
	kr_html_release(&h);
	kr_state_manifests_free(ms, nm);
	kr_state_quarantine_free(q, nq);
	kr_state_peers_free(peers, np);
	return rc;
}
