/*
 * node/html.h - HTML built escape-by-default (git's strbuf_addstr_xml_quoted,
 * SQLite's %q)
 *
 * A kr_html is a distinct type, not a kr_buf, so kr_buf_adds() cannot
 * reach it by accident. Its ordinary appends (kr_html_text, _textf, _attr)
 * escape & < > " ' and replace invalid UTF-8 and control characters, so
 * any value from a publisher, a peer or a query is inert text. Markup goes
 * in only through kr_html_tag(), which accepts string literals and nothing
 * else (the macro pastes "" before its argument, so a variable does not
 * compile), and through kr_html__trusted(), reserved for the output of a
 * sanitiser (node/markdown.c, cmark with raw HTML disabled).
 *
 * Links: kr_html_href() writes an href only for our own paths ("/…",
 * "?…", "#…") and http(s) URLs; anything else (javascript:, data:, a
 * protocol-relative "//host") is refused and the caller shows text instead.
 * Thread-agnostic: a kr_html belongs to whoever builds the page.
 */
#ifndef KR_HTML_H
#define KR_HTML_H

#include "../sharing/common.h"

typedef struct {
	kr_buf out;
} kr_html;

#define KR_HTML_INIT { KR_BUF_INIT }

/* Escaped text. NULL appends nothing. */
void kr_html_text(kr_html *h, const char *s);
void kr_html_textn(kr_html *h, const char *s, size_t n);
/* printf, then the whole result escaped (so the format carries no markup). */
void kr_html_textf(kr_html *h, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Trusted markup: string literals only. */
#define kr_html_tag(h, lit) kr_html__trusted((h), "" lit, sizeof(lit) - 1)
/* Only for markup a sanitiser produced (node/markdown.c); never for values. */
void kr_html__trusted(kr_html *h, const char *markup, size_t len);

/* Appends what another builder holds (escaped by construction). */
void kr_html_append(kr_html *h, const kr_html *other);

/* ` name="value"`, value escaped; name is a literal attribute name. */
void kr_html_attr(kr_html *h, const char *name, const char *value);
/*
 * ` href="url"` when url is one of ours or http(s) (see kr_url_safe);
 * returns 1 if written, 0 if refused (nothing is appended then).
 */
int kr_html_href(kr_html *h, const char *url);
/* <a href="url">text</a> for a safe url, else the text and the url as text. */
void kr_html_link(kr_html *h, const char *url, const char *text);

/* 1 if url may be a link target: "/path" (not "//"), "?…", "#…", http:// or https://. */
int kr_url_safe(const char *url);
/* Appends s percent-encoded for a URL query value or path segment (RFC 3986 unreserved kept). */
void kr_url_add(kr_buf *b, const char *s);
/*
 * Appends base (may be "" or NULL) and the page of item id: /items/ID, or
 * for a dataset row "DATASET-ID#ROW" (a '#' would start a fragment)
 * /items/DATASET-ID/rows/ROW with ROW percent-encoded.
 */
void kr_web_item_url(kr_buf *b, const char *base, const char *id);

/* 1 if s[0..len) is well-formed UTF-8 (no overlongs, surrogates or code points past U+10FFFF). */
int kr_utf8_valid(const char *s, size_t len);

char *kr_html_detach(kr_html *h, size_t *len);
void kr_html_release(kr_html *h);

#endif
