/*
 * sharing/text.c - normalisation and bigram segmentation (utf8proc)
 *
 * A cluster is a base character and the combining marks after it (NFKC
 * composes ｶﾞ into ガ only when it sees both), normalised together with
 * utf8proc_decompose + utf8proc_normalize_utf32, without allocating. Each
 * resulting code point keeps its cluster's byte span.
 */
#include "text.h"

#include <string.h>

#include <utf8proc.h>

#define NORM_OPTS (UTF8PROC_STABLE | UTF8PROC_COMPAT | UTF8PROC_CASEFOLD | UTF8PROC_COMPOSE)
#define MAX_CLUSTER 32
#define MAX_WORD 256

enum { C_SEP, C_CJK, C_WORD };

typedef struct {
	int32_t cp;
	int cls;
	int start, end;
} s_char;

static int
s_combining(int32_t cp)
{
	utf8proc_category_t c = utf8proc_category(cp);

	return c == UTF8PROC_CATEGORY_MN || c == UTF8PROC_CATEGORY_MC || c == UTF8PROC_CATEGORY_ME ||
	    cp == 0xFF9E || cp == 0xFF9F;
}

/*
 * Common Japanese characters that NFKC and case folding leave as they are
 * and that are not combining marks (checked against utf8proc for every
 * code point of these ranges): alone in their cluster they skip utf8proc,
 * which was most of the time of the PII scan and of indexing.
 */
static inline int
s_stable(int32_t cp)
{
	return (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3041 && cp <= 0x3096) ||
	    (cp >= 0x30A1 && cp <= 0x30FA) || (cp >= 0x30FC && cp <= 0x30FE) ||
	    (cp >= 0x3001 && cp <= 0x3003) || (cp >= 0x3005 && cp <= 0x3007) ||
	    (cp >= 0x300C && cp <= 0x300F) || (cp >= 0x309D && cp <= 0x309E) ||
	    (cp >= 0x3400 && cp <= 0x4DBF);
}

static inline int32_t
s_fold_kana(int32_t cp)
{
	if (cp >= 0x30A1 && cp <= 0x30F6)
		return cp - 0x60; /* katakana -> hiragana */
	if (cp == 0x30FD || cp == 0x30FE)
		return cp - 0x60; /* ヽヾ -> ゝゞ */
	return cp;
}

static int
s_class(int32_t cp)
{
	utf8proc_category_t c;

	if ((cp >= 0x3041 && cp <= 0x309F) || (cp >= 0x30A0 && cp <= 0x30FA) || cp == 0x30FC ||
	    cp == 0x3005 || cp == 0x3006 || cp == 0x3007 ||
	    (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3400 && cp <= 0x4DBF) ||
	    (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0x20000 && cp <= 0x3134F))
		return C_CJK;
	if (cp < 0x80) /* ASCII: letters and digits are words, the rest separates (test_text.c checks utf8proc agrees) */
		return (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z') || (cp >= '0' && cp <= '9') ? C_WORD : C_SEP;
	c = utf8proc_category(cp);
	if ((c >= UTF8PROC_CATEGORY_LU && c <= UTF8PROC_CATEGORY_LO) ||
	    (c >= UTF8PROC_CATEGORY_ND && c <= UTF8PROC_CATEGORY_NO) ||
	    (c >= UTF8PROC_CATEGORY_MN && c <= UTF8PROC_CATEGORY_ME))
		return C_WORD;
	return C_SEP;
}

/*
 * utf8proc_iterate for the characters text is made of, without the call:
 * 1- to 3-byte sequences are decoded here with exactly its rules (no
 * overlong forms, no surrogates, a truncated sequence is invalid); a
 * 4-byte or invalid lead byte goes to utf8proc_iterate. Returns the
 * sequence's length, or a negative number for invalid UTF-8. The unit
 * test compares it with utf8proc_iterate over every 1- to 3-byte input.
 */
static inline utf8proc_ssize_t
s_decode(const unsigned char *s, int avail, utf8proc_int32_t *cp)
{
	unsigned c = s[0];

	if (c < 0x80) {
		*cp = (utf8proc_int32_t)c;
		return 1;
	}
	if (c >= 0xC2 && c < 0xE0) {
		if (avail < 2 || (s[1] & 0xC0) != 0x80)
			return -1;
		*cp = (utf8proc_int32_t)(((c & 0x1F) << 6) | (s[1] & 0x3F));
		return 2;
	}
	if (c >= 0xE0 && c < 0xF0) {
		unsigned v;
		if (avail < 3 || (s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80 || (c == 0xED && s[1] > 0x9F))
			return -1;
		v = ((c & 0x0F) << 12) | ((unsigned)(s[1] & 0x3F) << 6) | (s[2] & 0x3F);
		if (v < 0x800)
			return -1;
		*cp = (utf8proc_int32_t)v;
		return 3;
	}
	return utf8proc_iterate(s, avail, cp);
}

int
kr_text_decode(const char *s, int avail, int32_t *cp)
{
	utf8proc_int32_t c = 0;
	int n = avail > 0 ? (int)s_decode((const unsigned char *)s, avail, &c) : -1;

	*cp = c;
	return n;
}

typedef struct {
	const char *text;
	int len, pos;           /* byte position of the next cluster */
	s_char pend[MAX_CLUSTER];
	int npend, ipend;
} s_reader;

/* The next normalised character; 0 at the end of the text. */
static int
s_next(s_reader *r, s_char *out)
{
	while (r->ipend == r->npend) {
		utf8proc_int32_t cps[MAX_CLUSTER];
		utf8proc_int32_t cp;
		utf8proc_ssize_t n;
		int start = r->pos, end;

		if (r->pos >= r->len)
			return 0;
		n = s_decode((const unsigned char *)r->text + r->pos, r->len - r->pos, &cp);
		if (n <= 0) { /* invalid UTF-8: a separator byte */
			r->pos++;
			r->npend = r->ipend = 0;
			out->cp = ' ';
			out->cls = C_SEP;
			out->start = start;
			out->end = r->pos;
			return 1;
		}
		end = r->pos + (int)n;
		/* the cluster: this character and the combining marks after it */
		for (int k = 0; k < MAX_CLUSTER - 8 && end < r->len; k++) {
			utf8proc_int32_t nx;
			utf8proc_ssize_t m = s_decode((const unsigned char *)r->text + end, r->len - end, &nx);
			if (m <= 0 || nx < 0x300 || s_stable(nx) || !s_combining(nx))
				break;
			end += (int)m;
		}
		r->pos = end;
		if (end - start == 1 && (unsigned char)r->text[start] < 0x80) {
			/* ASCII fast path */
			char c = r->text[start];
			cps[0] = c >= 'A' && c <= 'Z' ? c + 32 : c;
			n = 1;
		} else if (end - start == (int)n && s_stable(cp)) {
			cps[0] = cp; /* alone and stable: NFKC and case folding would give it back */
			n = 1;
		} else {
			n = utf8proc_decompose((const utf8proc_uint8_t *)r->text + start, end - start, cps,
			    MAX_CLUSTER, (utf8proc_option_t)((NORM_OPTS & ~UTF8PROC_COMPOSE) | UTF8PROC_DECOMPOSE));
			if (n < 0 || n > MAX_CLUSTER)
				n = 0;
			else
				n = utf8proc_normalize_utf32(cps, n, (utf8proc_option_t)NORM_OPTS);
			if (n < 0)
				n = 0;
		}
		r->npend = r->ipend = 0;
		for (utf8proc_ssize_t i = 0; i < n; i++) {
			s_char *c = &r->pend[r->npend++];
			c->cp = s_fold_kana(cps[i]);
			c->cls = s_class(c->cp);
			c->start = start;
			c->end = end;
		}
	}
	*out = r->pend[r->ipend++];
	return 1;
}

/* utf8proc_encode_char without the call (every token is encoded through here). */
static inline int
s_utf8(char *dst, int32_t cp)
{
	unsigned char *d = (unsigned char *)dst;

	if (cp < 0)
		return 0;
	if (cp < 0x80) {
		d[0] = (unsigned char)cp;
		return 1;
	}
	if (cp < 0x800) {
		d[0] = (unsigned char)(0xC0 | (cp >> 6));
		d[1] = (unsigned char)(0x80 | (cp & 0x3F));
		return 2;
	}
	if (cp < 0x10000) {
		d[0] = (unsigned char)(0xE0 | (cp >> 12));
		d[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
		d[2] = (unsigned char)(0x80 | (cp & 0x3F));
		return 3;
	}
	return (int)utf8proc_encode_char(cp, d);
}

int
kr_text_encode(char *dst, int32_t cp)
{
	return s_utf8(dst, cp);
}

typedef struct {
	kr_token_cb cb;
	void *ctx;
	int mode;
	int any;                /* a token was emitted */
	int pending;            /* query: a run's last unigram, emitted only if the phrase goes on */
	s_char pend_c;
	int gap, gap_start, gap_end; /* separators since the last token */
} s_emit;

/*
 * Separators between two tokens take one position, as a token no query
 * can produce, so a phrase matches only where the text is adjacent:
 * "AIに" does not match "AI に".
 */
static const char s_gap_token[] = "\x1f";

static int
s_tok(s_emit *e, int colocated, const char *tok, int len, int start, int end)
{
	int rc;

	if (e->pending) {
		char u[8];
		e->pending = 0;
		if ((rc = e->cb(e->ctx, 0, u, s_utf8(u, e->pend_c.cp), e->pend_c.start, e->pend_c.end)) != 0)
			return rc;
	}
	if (e->gap && !colocated) {
		e->gap = 0;
		if ((rc = e->cb(e->ctx, 0, s_gap_token, 1, e->gap_start, e->gap_end)) != 0)
			return rc;
	}
	e->any = 1;
	return e->cb(e->ctx, colocated, tok, len, start, end);
}

int
kr_text_tokenize(const char *text, int len, int mode, kr_token_cb cb, void *ctx)
{
	s_reader r = { .text = text, .len = len };
	s_emit e = { .cb = cb, .ctx = ctx, .mode = mode };
	s_char c, prev = { 0 };
	int have_prev = 0, runlen = 0, rc = 0;
	char word[MAX_WORD + 8];
	int wlen = 0, wstart = 0, wend = 0;

	for (;;) {
		int more = s_next(&r, &c);

		/* close a word run */
		if (wlen && (!more || c.cls != C_WORD)) {
			if ((rc = s_tok(&e, 0, word, wlen, wstart, wend)) != 0)
				return rc;
			wlen = 0;
		}
		/* close a CJK run */
		if (have_prev && (!more || c.cls != C_CJK)) {
			char u[8];
			int n = s_utf8(u, prev.cp);
			if (mode == KR_TEXT_DOCUMENT || runlen == 1) {
				if ((rc = s_tok(&e, 0, u, n, prev.start, prev.end)) != 0)
					return rc;
			} else {
				e.pending = 1;
				e.pend_c = prev;
			}
			have_prev = 0;
			runlen = 0;
		}
		if (!more)
			break;
		if (c.cls == C_SEP) {
			if ((e.any || e.pending) && !e.gap) {
				e.gap = 1;
				e.gap_start = c.start;
			}
			e.gap_end = c.end;
		} else if (c.cls == C_WORD) {
			if (wlen == 0)
				wstart = c.start;
			if (wlen < MAX_WORD) {
				char u[8];
				int n = s_utf8(u, c.cp);
				if (wlen + n <= MAX_WORD) {
					memcpy(word + wlen, u, (size_t)n);
					wlen += n;
				}
			}
			wend = c.end;
		} else if (c.cls == C_CJK) {
			if (have_prev) {
				char bi[16], u[8];
				int n = s_utf8(bi, prev.cp);
				n += s_utf8(bi + n, c.cp);
				if ((rc = s_tok(&e, 0, bi, n, prev.start, c.end)) != 0)
					return rc;
				if (mode == KR_TEXT_DOCUMENT &&
				    (rc = s_tok(&e, 1, u, s_utf8(u, prev.cp), prev.start, prev.end)) != 0)
					return rc;
			}
			prev = c;
			have_prev = 1;
			runlen++;
		}
	}
	(void)e.any;
	return 0;
}

static int
s_count_one(void *ctx, int colocated, const char *tok, int len, int start, int end)
{
	(void)colocated; (void)tok; (void)len; (void)start; (void)end;
	(*(int *)ctx)++;
	return 0;
}

int
kr_text_count(const char *text, int len, int mode)
{
	int n = 0;

	kr_text_tokenize(text, len, mode, s_count_one, &n);
	return n;
}

/*
 * What s_next gives, without classes or offsets: a character that is
 * alone in its cluster (the next byte cannot start a combining mark, or
 * starts a stable character) and stable (ASCII, or s_stable) is copied,
 * case- or kana-folded, without a call; anything else goes through s_next.
 * Most of the PII scan's time was here (it normalises every line).
 */
void
kr_text_normalize(kr_buf *out, const char *text, size_t len)
{
	s_reader r = { .text = text, .len = (int)len };
	const unsigned char *u = (const unsigned char *)text;
	s_char c;

	kr_buf_grow(out, len);
	while (r.pos < r.len) {
		int p = r.pos, n = 1;
		utf8proc_int32_t cp = u[p], nx;
		if (out->len + 4 >= out->cap)
			kr_buf_grow(out, 4);
		if (cp >= 0x80 && (u[p] < 0xE0 || u[p] >= 0xF0 || (n = (int)s_decode(u + p, r.len - p, &cp)) != 3 ||
		    !s_stable(cp)))
			n = 0; /* not ASCII, not a stable 3-byte character */
		/* a character below U+0300 has a lead byte below 0xCC: never a combining mark */
		if (n && p + n < r.len && u[p + n] >= 0xCC &&
		    (s_decode(u + p + n, r.len - p - n, &nx) <= 0 ? 0 : !s_stable(nx) && s_combining(nx)))
			n = 0; /* a combining mark follows: the whole cluster through s_next */
		if (n == 1) {
			out->ptr[out->len++] = (char)(cp >= 'A' && cp <= 'Z' ? cp + 32 : cp);
			r.pos++;
			continue;
		}
		if (n == 3) {
			if (s_fold_kana(cp) != cp)
				out->len += (size_t)s_utf8(out->ptr + out->len, s_fold_kana(cp));
			else {
				memcpy(out->ptr + out->len, u + p, 3); /* stable: its own bytes */
				out->len += 3;
			}
			r.pos += 3;
			continue;
		}
		/* one cluster, all of its characters */
		if (!s_next(&r, &c))
			break;
		for (;;) {
			if (out->len + 4 >= out->cap)
				kr_buf_grow(out, 4);
			out->len += (size_t)s_utf8(out->ptr + out->len, c.cp);
			if (r.ipend == r.npend || !s_next(&r, &c))
				break;
		}
	}
	out->ptr[out->len] = '\0';
}
