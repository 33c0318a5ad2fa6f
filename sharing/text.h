/*
 * sharing/text.h - Japanese-aware normalisation and segmentation for search
 *
 * Text is normalised per character cluster (NFKC + casefold, katakana
 * folded to hiragana) and split into runs: CJK runs (kanji, kana, ー, 々)
 * and word runs (Latin letters, digits, other scripts), separated by
 * everything else. Following Groonga's TokenBigram:
 *
 *   document  each CJK character gives its unigram, colocated with the
 *             bigram that starts at it, so a 1-character query is an
 *             exact token and phrases line up position by position;
 *             a word run gives one lower-cased token.
 *   query     a CJK run gives its bigrams (a 1-character run its unigram),
 *             plus the last character's unigram when the phrase goes on,
 *             so "出しAI" and "ごみ出し" match exactly where the text does.
 *
 * Offsets are byte offsets into the original text, for snippets. This
 * module alone uses utf8proc; it knows nothing about SQLite.
 */
#ifndef KR_TEXT_H
#define KR_TEXT_H

#include "common.h"

/* colocated: same position as the previous token. Non-zero return stops. */
typedef int (*kr_token_cb)(void *ctx, int colocated, const char *tok, int len, int start, int end);

enum { KR_TEXT_DOCUMENT = 0, KR_TEXT_QUERY = 1 };

int kr_text_tokenize(const char *text, int len, int mode, kr_token_cb cb, void *ctx);

/* Number of tokens text gives in mode (0: nothing searchable in it). */
int kr_text_count(const char *text, int len, int mode);

/* Appends the normalised form of text (what search matches against). */
void kr_text_normalize(kr_buf *out, const char *text, size_t len);

/*
 * The UTF-8 decoder of the three above (exposed for tests): the length of
 * the character at s (avail bytes there), *cp its code point; negative
 * for invalid UTF-8, exactly when utf8proc_iterate says so.
 */
int kr_text_decode(const char *s, int avail, int32_t *cp);

/* Its encoder (exposed for tests): as utf8proc_encode_char, up to 4 bytes at dst. */
int kr_text_encode(char *dst, int32_t cp);

#endif
