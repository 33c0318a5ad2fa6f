/*
 * policies/lines.h - where a line of an item ends, the same way everywhere
 *
 * A line ends at LF, at CRLF or at a bare CR, as in YAML (libyaml) and
 * CommonMark. Every check that splits an item into lines or counts them
 * (front matter fences, the PII scan, placeholders) uses this, so a file
 * saved by an old Mac editor, or crafted with bare CRs, is split the same
 * way and its line numbers agree with libyaml's.
 */
#ifndef KR_LINES_H
#define KR_LINES_H

#include <stddef.h>

/*
 * Length of the line starting at p (without its line end); *next is the
 * start of the following line, or end when this is the last one.
 */
static inline size_t
kr_line(const char *p, const char *end, const char **next)
{
	const char *q = p;

	while (q < end && *q != '\n' && *q != '\r')
		q++;
	*next = q == end ? end : q + 1 + (*q == '\r' && q + 1 < end && q[1] == '\n');
	return (size_t)(q - p);
}

/* Number of line ends in [p, end): the line number of end is 1 + this. */
static inline int
kr_line_count(const char *p, const char *end)
{
	int n = 0;

	for (; p < end; p++)
		n += *p == '\n' || (*p == '\r' && (p + 1 == end || p[1] != '\n'));
	return n;
}

#endif
