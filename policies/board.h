/*
 * policies/board.h - the board's kinds as content (DESIGN §7, CONTENT.md)
 *
 * endorsement, consultation, answer and adoption are items like any other:
 * the same envelope, the same gate (機密性1, PII scan), one collection each
 * on the node that writes them. This file holds their fields and closed
 * vocabularies (checked at publish and at receipt through item.c) and a
 * reader that turns a checked item's text into a kr_board_rec for the
 * views (verdicts, consultation states, adoption counts). No I/O.
 */
#ifndef KR_BOARD_KINDS_H
#define KR_BOARD_KINDS_H

#include "item.h"
#include "frontmatter.h"

/* Closed vocabularies. */
extern const char *const kr_verdicts[3];        /* 推奨, 条件付き推奨, 注意 */
extern const char *const kr_consult_states[6];  /* 受付, 回答済, 解決, 重複, 取下げ, 期限切れ */
extern const char *const kr_adopt_statuses[3];  /* 検討中, 採用, 不採用 */

/* 1 if kind is one of the four board kinds. */
int kr_board_kind(const char *kind);

/*
 * The per-kind fields of a board item with front matter fm and body
 * [body, end): findings name file, line, field and the allowed values.
 */
void kr_board_kind_rules(const kr_yaml *fm, const char *kind, const char *body, const char *end,
    const char *file, kr_findings *f);

/* A board item as the views need it; every string owned (NULL: absent). */
typedef struct {
	char *kind, *id, *title, *version, *published, *updated, *lg_code, *pub_name;
	char *target_id, *target_version, *target_blob;         /* endorsement, adoption */
	char *verdict, *conditions, *comment, *review_by;       /* endorsement (review_by: answer too) */
	char *consultation, *accepted_answer;                   /* answer; accepted_answer: consultation too */
	char *state, *duplicate_of, *context, *department;      /* consultation */
	char *domains;                                          /* "、"-joined */
	char *status, *note, *metrics;                          /* adoption; metrics "name=value, …" */
	char *body;                                             /* without surrounding blank lines */
} kr_board_rec;

/* Reads a board item's fields (it need not be valid: absent fields stay NULL). */
int kr_board_parse(kr_board_rec *out, const char *text, size_t len);
void kr_board_rec_clear(kr_board_rec *r);

#endif
