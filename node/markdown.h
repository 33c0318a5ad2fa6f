/*
 * node/markdown.h - item bodies from Markdown to HTML (cmark)
 */
#ifndef KR_MARKDOWN_H
#define KR_MARKDOWN_H

#include "html.h"

/*
 * Appends md rendered as CommonMark with raw HTML disabled: raw HTML
 * blocks and inline tags become a comment, javascript:/vbscript:/file:/
 * data: link targets are emptied, invalid UTF-8 is replaced. Headings are
 * moved one level down (the page's own title is the h1). Returns 0, or
 * KR_ERROR if cmark could not parse (nothing appended then).
 */
int kr_markdown_html(kr_html *h, const char *md, size_t len);

#endif
