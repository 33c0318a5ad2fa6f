/*
 * node/textdiff.h - what changed between two texts, line by line and, in a
 * changed line, character by character
 *
 * Lines are compared by longest common subsequence; a run of removed lines
 * followed by added ones is paired line by line where the two are versions
 * of one line (same YAML key, or 40% of their characters in common), and
 * such a pair is compared by code point: Japanese has no spaces, so words
 * are the wrong unit and whole-line diffs hide a one-character edit. The
 * result is a stream of events, rendered by `kairan diff` as
 * [-removed-]{+added+} and by the web pages as <del>/<ins>.
 */
#ifndef KR_TEXTDIFF_H
#define KR_TEXTDIFF_H

#include "../sharing/common.h"

typedef enum {
	KR_DIFF_SAME_LINE,  /* an unchanged line (context) */
	KR_DIFF_HUNK,       /* a run of changes starts at aline (old) / bline (new) */
	KR_DIFF_DEL_LINE,   /* a whole line removed */
	KR_DIFF_ADD_LINE,   /* a whole line added */
	KR_DIFF_CHG_BEGIN,  /* a changed line; SAME/DEL/ADD segments follow, then CHG_END */
	KR_DIFF_SAME,
	KR_DIFF_DEL,
	KR_DIFF_ADD,
	KR_DIFF_CHG_END,
	KR_DIFF_TOOLONG     /* too many lines to compare; nothing else follows */
} kr_diff_op;

typedef struct {
	kr_diff_op op;
	const char *text;       /* the line or segment (not NUL-terminated) */
	size_t len;
	size_t aline, bline;    /* 1-based line numbers in the old and new text */
} kr_diff_ev;

typedef void (*kr_diff_cb)(const kr_diff_ev *ev, void *arg);

/* Compares a and b; returns the number of changed lines (0: identical). */
size_t kr_textdiff(const char *a, size_t alen, const char *b, size_t blen, kr_diff_cb cb, void *arg);

#endif
