/*
 * node/html.c - the escape-by-default HTML builder (see html.h)
 *
 * Invariant: every byte that reaches kr_html.out through kr_html_text,
 * kr_html_textn, kr_html_textf or kr_html_attr is either plain UTF-8 text
 * without & < > " ' or one of their entities, so a value can never open a
 * tag, close an attribute or start a character reference. Invalid UTF-8
 * becomes U+FFFD and C0/C1 controls other than tab and newline are
 * dropped. No state; any thread.
 */
#include "html.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/*
 * Length of the well-formed UTF-8 sequence at s (at most len bytes) and
 * its code point, or 0 when it is not well formed.
 */
static size_t
s_utf8(const unsigned char *s, size_t len, uint32_t *cp)
{
	unsigned char c = s[0];
	size_t n;
	uint32_t v, min;

	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c >= 0xC2 && c <= 0xDF) {
		n = 2; v = c & 0x1F; min = 0x80;
	} else if (c >= 0xE0 && c <= 0xEF) {
		n = 3; v = c & 0x0F; min = 0x800;
	} else if (c >= 0xF0 && c <= 0xF4) {
		n = 4; v = c & 0x07; min = 0x10000;
	} else {
		return 0;
	}
	if (len < n)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		v = v << 6 | (s[i] & 0x3F);
	}
	if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
		return 0;
	*cp = v;
	return n;
}

int
kr_utf8_valid(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;
	uint32_t cp;

	while (i < len) {
		size_t n = s_utf8(p + i, len - i, &cp);
		if (n == 0)
			return 0;
		i += n;
	}
	return 1;
}

void
kr_html_textn(kr_html *h, const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;

	if (!s)
		return;
	kr_buf_grow(&h->out, len + len / 8);
	while (i < len) {
		uint32_t cp;
		size_t n = s_utf8(p + i, len - i, &cp);
		if (n == 0) {
			kr_buf_adds(&h->out, "\xEF\xBF\xBD"); /* U+FFFD */
			i++;
			continue;
		}
		switch (cp) {
		case '&': kr_buf_adds(&h->out, "&amp;"); break;
		case '<': kr_buf_adds(&h->out, "&lt;"); break;
		case '>': kr_buf_adds(&h->out, "&gt;"); break;
		case '"': kr_buf_adds(&h->out, "&quot;"); break;
		case '\'': kr_buf_adds(&h->out, "&#39;"); break;
		default:
			if ((cp < 0x20 && cp != '\n' && cp != '\t') || cp == 0x7F || (cp >= 0x80 && cp < 0xA0))
				break;
			kr_buf_add(&h->out, s + i, n);
		}
		i += n;
	}
}

void
kr_html_text(kr_html *h, const char *s)
{
	if (s)
		kr_html_textn(h, s, strlen(s));
}

void
kr_html_textf(kr_html *h, const char *fmt, ...)
{
	kr_buf tmp = KR_BUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	kr_buf_vaddf(&tmp, fmt, ap);
	va_end(ap);
	kr_html_textn(h, tmp.ptr, tmp.len);
	kr_buf_release(&tmp);
}

void
kr_html__trusted(kr_html *h, const char *markup, size_t len)
{
	kr_buf_add(&h->out, markup, len);
}

void
kr_html_append(kr_html *h, const kr_html *other)
{
	kr_buf_add(&h->out, other->out.ptr, other->out.len);
}

void
kr_html_attr(kr_html *h, const char *name, const char *value)
{
	kr_buf_addch(&h->out, ' ');
	kr_buf_adds(&h->out, name);
	kr_buf_adds(&h->out, "=\"");
	kr_html_text(h, value ? value : "");
	kr_buf_addch(&h->out, '"');
}

int
kr_url_safe(const char *url)
{
	if (!url || !*url)
		return 0;
	if (url[0] == '/')
		return url[1] != '/' && url[1] != '\\';
	if (url[0] == '?' || url[0] == '#')
		return 1;
	return strncasecmp(url, "https://", 8) == 0 || strncasecmp(url, "http://", 7) == 0;
}

int
kr_html_href(kr_html *h, const char *url)
{
	if (!kr_url_safe(url))
		return 0;
	kr_html_attr(h, "href", url);
	return 1;
}

void
kr_html_link(kr_html *h, const char *url, const char *text)
{
	if (url && kr_url_safe(url)) {
		kr_html_tag(h, "<a");
		kr_html_href(h, url);
		kr_html_tag(h, ">");
		kr_html_text(h, text && *text ? text : url);
		kr_html_tag(h, "</a>");
		return;
	}
	kr_html_text(h, text);
	if (url && *url) {
		kr_html_text(h, text ? "（" : "");
		kr_html_text(h, url);
		kr_html_text(h, text ? "）" : "");
	}
}

void
kr_url_add(kr_buf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";

	for (const unsigned char *p = (const unsigned char *)s; p && *p; p++) {
		if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
		    *p == '-' || *p == '.' || *p == '_' || *p == '~') {
			kr_buf_addch(b, (char)*p);
		} else {
			kr_buf_addch(b, '%');
			kr_buf_addch(b, hex[*p >> 4]);
			kr_buf_addch(b, hex[*p & 15]);
		}
	}
}

void
kr_web_item_url(kr_buf *b, const char *base, const char *id)
{
	const char *hash = strchr(id, '#');

	kr_buf_adds(b, base ? base : "");
	if (!hash) {
		kr_buf_addf(b, "/items/%s", id);
		return;
	}
	kr_buf_addf(b, "/items/%.*s/rows/", (int)(hash - id), id);
	kr_url_add(b, hash + 1);
}

char *
kr_html_detach(kr_html *h, size_t *len)
{
	if (len)
		*len = h->out.len;
	return kr_buf_detach(&h->out);
}

void
kr_html_release(kr_html *h)
{
	kr_buf_release(&h->out);
}
