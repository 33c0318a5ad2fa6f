/*
 * sharing/search.h - the search query language, compiled to FTS5
 *
 *   ごみ チャットボット      both (whitespace, including 全角スペース, is AND)
 *   "ごみ出し 案内"          a phrase
 *   -議会                    not
 *   ごみ OR 資源             either (binds tighter than AND: a b OR c = a AND (b OR c))
 *
 * Every term is passed to FTS5 as a quoted string, so the kairan tokenizer
 * (sharing/text.c, query mode) decides its tokens: any length, full- or
 * half-width, katakana or hiragana. Terms that hold no searchable
 * character (only punctuation) are dropped.
 */
#ifndef KR_SEARCH_H
#define KR_SEARCH_H

#include "common.h"
#include "state.h"

/* Compiles q into an FTS5 MATCH expression; KR_EUSAGE with a message for a malformed query. */
int kr_search_compile(const char *q, kr_buf *match);

/*
 * Appends the JSON document of `kairan search --json` and /api/search for
 * this node's own answer r to query (one writer, so the two stay equal).
 * hit_extra (NULL, or r->nhits entries, each NULL or JSON members without
 * braces) is added to each hit, doc_extra (NULL or members) to the document:
 * the board's verdict, which this layer does not know (node/board.h).
 * url, when set, appends the address of hit id (its "url" field; the web
 * server's pages, node/html.c kr_web_item_url); the CLI has none.
 */
typedef void (*kr_search_url_fn)(kr_buf *out, const char *id, void *arg);
void kr_search_result_json(kr_buf *b, const kr_search_result *r, const char *query, char *const *hit_extra,
    const char *doc_extra, kr_search_url_fn url, void *url_arg);

/* Name of a prefecture by its two-digit number ("37" -> 香川県), or NULL. */
const char *kr_pref_name(const char *code);

#endif
