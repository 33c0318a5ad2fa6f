/*
 * node/textdiff.c - line and character diff (see textdiff.h)
 *
 * Memory is bounded: the line table is refused past 16 M cells (reported
 * as KR_DIFF_TOOLONG) and a line pair past 2,000 code points each is shown
 * as removed-then-added rather than compared. No state; any thread.
 */
#include "textdiff.h"

#include <stdlib.h>
#include <string.h>

typedef struct {
	char **v;
	size_t n;
} s_lines;

static void
s_split(s_lines *l, const char *text, size_t len)
{
	const char *p = text, *end = text + len;

	l->v = NULL;
	l->n = 0;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		l->v = kr_realloc(l->v, (l->n + 1) * sizeof(char *));
		l->v[l->n++] = kr_strndup(p, n);
		p += n + 1;
	}
}

/* Code points of s, for the character-level diff. */
static size_t
s_cps(const char *s, uint32_t **out, size_t **off)
{
	size_t n = 0, len = strlen(s);

	*out = kr_calloc(len + 1, sizeof(uint32_t));
	*off = kr_calloc(len + 2, sizeof(size_t));
	for (size_t i = 0; i < len;) {
		(*off)[n] = i;
		i += kr_utf8_next(s + i, len - i, &(*out)[n++]);
	}
	(*off)[n] = len;
	return n;
}

static void
s_emit(kr_diff_cb cb, void *arg, kr_diff_op op, const char *text, size_t len, size_t aline, size_t bline)
{
	kr_diff_ev ev = { op, text, len, aline, bline };

	cb(&ev, arg);
}

/* One changed line, character by character: runs of SAME, DEL and ADD segments. */
static void
s_char_diff(const char *a, const char *c, size_t aline, size_t bline, kr_diff_cb cb, void *arg)
{
	uint32_t *x, *y;
	size_t *xo, *yo, nx = s_cps(a, &x, &xo), ny = s_cps(c, &y, &yo);
	unsigned short *t;
	size_t i = 0, j = 0;

	s_emit(cb, arg, KR_DIFF_CHG_BEGIN, NULL, 0, aline, bline);
	if (nx > 2000 || ny > 2000) {
		s_emit(cb, arg, KR_DIFF_DEL, a, strlen(a), aline, bline);
		s_emit(cb, arg, KR_DIFF_ADD, c, strlen(c), aline, bline);
		goto done;
	}
	t = kr_calloc((nx + 1) * (ny + 1), sizeof(unsigned short));
#define T(i, j) t[(i) * (ny + 1) + (j)]
	for (size_t p = nx; p-- > 0;)
		for (size_t q = ny; q-- > 0;)
			T(p, q) = x[p] == y[q] ? (unsigned short)(T(p + 1, q + 1) + 1)
			                       : (T(p + 1, q) > T(p, q + 1) ? T(p + 1, q) : T(p, q + 1));
	while (i < nx || j < ny) {
		if (i < nx && j < ny && x[i] == y[j]) {
			size_t s = i;
			while (i < nx && j < ny && x[i] == y[j]) {
				i++;
				j++;
			}
			s_emit(cb, arg, KR_DIFF_SAME, a + xo[s], xo[i] - xo[s], aline, bline);
			continue;
		}
		if (i < nx && (j == ny || T(i + 1, j) >= T(i, j + 1))) {
			size_t s = i;
			while (i < nx && (j == ny || T(i + 1, j) >= T(i, j + 1)) && !(j < ny && x[i] == y[j]))
				i++;
			s_emit(cb, arg, KR_DIFF_DEL, a + xo[s], xo[i] - xo[s], aline, bline);
		} else {
			size_t s = j;
			while (j < ny && (i == nx || T(i + 1, j) < T(i, j + 1)) && !(i < nx && x[i] == y[j]))
				j++;
			s_emit(cb, arg, KR_DIFF_ADD, c + yo[s], yo[j] - yo[s], aline, bline);
		}
	}
#undef T
	free(t);
done:
	s_emit(cb, arg, KR_DIFF_CHG_END, NULL, 0, aline, bline);
	free(x); free(y); free(xo); free(yo);
}

/*
 * Whether two lines are versions of one line: the same YAML key, or at
 * least 40% of their characters in common (2 * LCS / total).
 */
static int
s_similar(const char *a, const char *c)
{
	const char *ka = strchr(a, ':'), *kc = strchr(c, ':');
	uint32_t *x, *y;
	size_t *xo, *yo, nx, ny, lcs;
	unsigned short *row;

	if (ka && kc && a[0] != ' ' && a[0] != '#' && ka - a == kc - c && strncmp(a, c, (size_t)(ka - a)) == 0 &&
	    strchr("abcdefghijklmnopqrstuvwxyz_", a[0]))
		return 1;
	nx = s_cps(a, &x, &xo);
	ny = s_cps(c, &y, &yo);
	if (nx == 0 || ny == 0 || nx > 2000 || ny > 2000) {
		free(x); free(y); free(xo); free(yo);
		return nx == 0 && ny == 0;
	}
	row = kr_calloc((ny + 1) * 2, sizeof(unsigned short));
	for (size_t i = 1; i <= nx; i++) {
		unsigned short *cur = row + (i % 2) * (ny + 1), *prev = row + ((i + 1) % 2) * (ny + 1);
		for (size_t j = 1; j <= ny; j++)
			cur[j] = x[i - 1] == y[j - 1] ? (unsigned short)(prev[j - 1] + 1)
			                              : (prev[j] > cur[j - 1] ? prev[j] : cur[j - 1]);
	}
	lcs = row[(nx % 2) * (ny + 1) + ny];
	free(row); free(x); free(y); free(xo); free(yo);
	return 2 * lcs * 10 >= 4 * (nx + ny);
}

/*
 * Line diff of a and b; returns the number of changed lines.
 * Removed-then-added runs are paired line by line and compared character
 * by character, what is left over is reported as removed or added.
 */
static size_t
s_diff(const s_lines *a, const s_lines *b, kr_diff_cb cb, void *arg)
{
	size_t n = a->n, m = b->n, i = 0, j = 0, changes = 0;
	unsigned int *t;

	if ((n + 1) * (m + 1) > 16u << 20) {
		s_emit(cb, arg, KR_DIFF_TOOLONG, NULL, 0, 0, 0);
		return 1;
	}
	t = kr_calloc((n + 1) * (m + 1), sizeof(unsigned int));
#define T(i, j) t[(i) * (m + 1) + (j)]
	for (size_t p = n; p-- > 0;)
		for (size_t q = m; q-- > 0;)
			T(p, q) = strcmp(a->v[p], b->v[q]) == 0 ? T(p + 1, q + 1) + 1
			                                        : (T(p + 1, q) > T(p, q + 1) ? T(p + 1, q) : T(p, q + 1));
	while (i < n || j < m) {
		size_t di, dj;
		if (i < n && j < m && strcmp(a->v[i], b->v[j]) == 0) {
			s_emit(cb, arg, KR_DIFF_SAME_LINE, a->v[i], strlen(a->v[i]), i + 1, j + 1);
			i++;
			j++;
			continue;
		}
		di = i;
		dj = j;
		while (i < n && (j == m || T(i + 1, j) >= T(i, j + 1)) && !(j < m && strcmp(a->v[i], b->v[j]) == 0))
			i++;
		while (j < m && (i == n || T(i + 1, j) < T(i, j + 1)) && !(i < n && strcmp(a->v[i], b->v[j]) == 0))
			j++;
		s_emit(cb, arg, KR_DIFF_HUNK, NULL, 0, di + 1, dj + 1);
		/* pair similar lines in order; show the rest as removed or added */
		for (size_t r = di, q = dj; r < i || q < j;) {
			if (r < i && q < j && s_similar(a->v[r], b->v[q])) {
				s_char_diff(a->v[r], b->v[q], r + 1, q + 1, cb, arg);
				r++;
				q++;
			} else if (r < i && q + 1 < j && s_similar(a->v[r], b->v[q + 1])) {
				/* an added line before a changed one */
				s_emit(cb, arg, KR_DIFF_ADD_LINE, b->v[q], strlen(b->v[q]), r + 1, q + 1);
				q++;
			} else if (r < i && (q == j || r - di <= q - dj)) {
				s_emit(cb, arg, KR_DIFF_DEL_LINE, a->v[r], strlen(a->v[r]), r + 1, q + 1);
				r++;
			} else {
				s_emit(cb, arg, KR_DIFF_ADD_LINE, b->v[q], strlen(b->v[q]), r + 1, q + 1);
				q++;
			}
			changes++;
		}
	}
#undef T
	free(t);
	return changes;
}

size_t
kr_textdiff(const char *a, size_t alen, const char *b, size_t blen, kr_diff_cb cb, void *arg)
{
	s_lines la, lb;
	size_t changes;

	s_split(&la, a, alen);
	s_split(&lb, b, blen);
	changes = s_diff(&la, &lb, cb, arg);
	kr_strv_free(la.v, la.n);
	kr_strv_free(lb.v, lb.n);
	return changes;
}
