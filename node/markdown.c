/*
 * node/markdown.c - the only cmark user
 *
 * Invariant: cmark runs without CMARK_OPT_UNSAFE, so what it returns holds
 * no markup from the input other than what CommonMark itself produces
 * (paragraphs, headings, lists, emphasis, code, links with safe targets);
 * that is why its output may go through kr_html__trusted(). Any thread:
 * cmark keeps no global state between calls.
 *
 * libcmark is loaded (dlopen, by KR_CMARK_SONAME from the Makefile) on the
 * first item page, not linked: only the web pages render Markdown, and
 * every other command and every node without pages paid for mapping and
 * relocating it (its entity table alone is ~2,000 relocated pointers, a
 * private copy in each process; issue 13, start-up and idle PSS).
 */
#include "markdown.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmark.h>

#include "log.h"

#ifndef KR_CMARK_SONAME
#define KR_CMARK_SONAME "libcmark.so.0.30.2"
#endif
#define CMARK_FUNCTIONS(X) X(cmark_parse_document) X(cmark_iter_new) X(cmark_iter_next) \
	X(cmark_iter_get_node) X(cmark_iter_free) X(cmark_node_get_type) X(cmark_node_get_heading_level) \
	X(cmark_node_set_heading_level) X(cmark_render_html) X(cmark_node_free)
#define X(f) static __typeof__(f) *p_##f;
CMARK_FUNCTIONS(X)
#undef X
static pthread_once_t s_cmark_once = PTHREAD_ONCE_INIT;
static char s_cmark_error[256];

static void
s_cmark_load(void)
{
	static const kr_dlsym syms[] = { CMARK_FUNCTIONS(KR_DLSYM) };
	char why[200];
	int rc = kr_dl_load(KR_CMARK_SONAME, syms, sizeof(syms) / sizeof(syms[0]), why, sizeof(why));

	if (rc == 0)
		return;
	if (rc == -1)
		snprintf(s_cmark_error, sizeof(s_cmark_error), "%s (Debian package libcmark0.30.2)", why);
	else
		snprintf(s_cmark_error, sizeof(s_cmark_error), "%s: no %s", KR_CMARK_SONAME, why);
	log_warnx("item pages show their bodies as plain text: %s", s_cmark_error);
}

int
kr_markdown_html(kr_html *h, const char *md, size_t len)
{
	int opts = CMARK_OPT_DEFAULT | CMARK_OPT_VALIDATE_UTF8;
	cmark_node *doc;
	cmark_iter *it;
	cmark_event_type ev;
	char *out;

	pthread_once(&s_cmark_once, s_cmark_load);
	if (s_cmark_error[0])
		return kr_error(KR_ERROR, "markdown: %s", s_cmark_error);
	if (!(doc = p_cmark_parse_document(md ? md : "", md ? len : 0, opts)))
		return kr_error(KR_ERROR, "markdown: cannot parse");
	it = p_cmark_iter_new(doc);
	while ((ev = p_cmark_iter_next(it)) != CMARK_EVENT_DONE) {
		cmark_node *n = p_cmark_iter_get_node(it);
		if (ev == CMARK_EVENT_ENTER && p_cmark_node_get_type(n) == CMARK_NODE_HEADING) {
			int level = p_cmark_node_get_heading_level(n);
			p_cmark_node_set_heading_level(n, level < 6 ? level + 1 : 6);
		}
	}
	p_cmark_iter_free(it);
	out = p_cmark_render_html(doc, opts);
	p_cmark_node_free(doc);
	if (!out)
		return kr_error(KR_ERROR, "markdown: cannot render");
	kr_html__trusted(h, out, strlen(out));
	free(out);
	return 0;
}
