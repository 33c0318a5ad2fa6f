/*
 * node/markdown.c - the only cmark user
 *
 * Invariant: cmark runs without CMARK_OPT_UNSAFE, so what it returns holds
 * no markup from the input other than what CommonMark itself produces
 * (paragraphs, headings, lists, emphasis, code, links with safe targets);
 * that is why its output may go through kr_html__trusted(). Any thread:
 * cmark keeps no global state between calls.
 */
#include "markdown.h"

#include <stdlib.h>
#include <string.h>

#include <cmark.h>

int
kr_markdown_html(kr_html *h, const char *md, size_t len)
{
	int opts = CMARK_OPT_DEFAULT | CMARK_OPT_VALIDATE_UTF8;
	cmark_node *doc = cmark_parse_document(md ? md : "", md ? len : 0, opts);
	cmark_iter *it;
	cmark_event_type ev;
	char *out;

	if (!doc)
		return kr_error(KR_ERROR, "markdown: cannot parse");
	it = cmark_iter_new(doc);
	while ((ev = cmark_iter_next(it)) != CMARK_EVENT_DONE) {
		cmark_node *n = cmark_iter_get_node(it);
		if (ev == CMARK_EVENT_ENTER && cmark_node_get_type(n) == CMARK_NODE_HEADING) {
			int level = cmark_node_get_heading_level(n);
			cmark_node_set_heading_level(n, level < 6 ? level + 1 : 6);
		}
	}
	cmark_iter_free(it);
	out = cmark_render_html(doc, opts);
	cmark_node_free(doc);
	if (!out)
		return kr_error(KR_ERROR, "markdown: cannot render");
	kr_html__trusted(h, out, strlen(out));
	free(out);
	return 0;
}
