/*
 * sharing/board.h - the board's verdict on an item version (DESIGN §7)
 *
 * Pure functions over a membership document and the endorsements a node
 * holds, like federation.h: no I/O, so each rule is unit-tested alone.
 *   - An item version (one blob) is endorsed by the board when at least
 *     threshold distinct current board keys endorse it (推奨 or
 *     条件付き推奨).
 *   - Key identity is the raw key; a key rotated away counts as the key
 *     that replaced it, so one member never counts twice.
 *   - A retired key's endorsements count (it held a seat when it gave
 *     them); a compromised key's never do; anyone else's are shown and
 *     never count.
 *   - One key's later endorsement of a blob replaces its earlier one.
 *   - An endorsement whose review_by date has passed is 期限切れ: shown,
 *     never counted, until its member endorses again (DESIGN §7).
 */
#ifndef KR_BOARD_H
#define KR_BOARD_H

#include "federation.h"

enum { KR_BOARD_SEAT = 0, KR_BOARD_RETIRED, KR_BOARD_COMPROMISED, KR_BOARD_OUTSIDE };

/*
 * How key stands with the board of cur; past are earlier versions of the
 * chain (to tell a retired board member from a retired town). canon
 * receives the key it counts as (its successor after a rotation).
 */
int kr_board_standing(const kr_membership *cur, const kr_membership *const *past, size_t npast,
    const uint8_t key[KR_FPR_LEN], uint8_t canon[KR_FPR_LEN]);
/* "ボード", "退任（有効）", "鍵失効（漏えい）: 数えない", "ボード外: 数えない" */
const char *kr_board_standing_name(int standing);

/* One endorsement of the blob being tallied. */
typedef struct {
	uint8_t canon[KR_FPR_LEN];
	int standing;                   /* KR_BOARD_* */
	const char *verdict;            /* 推奨, 条件付き推奨, 注意 */
	const char *order;              /* later sorts higher ("updated commit-time") */
	int expired;                    /* in: its review_by has passed (期限切れ): never counts */
	int counted;                    /* out: this one counts toward the verdict */
	int replaced;                   /* out: a later endorsement by the same key replaces it */
} kr_board_vote;

typedef struct {
	size_t positive;                /* distinct keys: 推奨 or 条件付き推奨 */
	size_t caution;                 /* distinct keys: 注意 */
	uint32_t threshold;
	int endorsed;
	const char *verdict;            /* 推奨, 条件付き推奨, 注意 (threshold keys warn), or NULL */
} kr_board_verdict;

/* Tallies the votes on one blob; sets counted and replaced on each. */
void kr_board_tally(kr_board_vote *v, size_t n, uint32_t threshold, kr_board_verdict *out);

/*
 * A consultation's state from the asker's own state field and what the
 * board did: 受付 → 回答済 (a board member answered) → 解決 (the asker or a
 * board member accepted an answer); 重複, 取下げ and 期限切れ stand. An
 * open one (受付, 回答済) is 期限切れ when idle: neither it nor any answer
 * to it changed for KR_CONSULT_IDLE_DAYS. A new answer, or the asker
 * updating it, opens it again: nothing is written when time passes.
 */
#define KR_CONSULT_IDLE_DAYS 180
const char *kr_consult_state(const char *own_state, int board_answers, int board_accepted, int idle);

#endif
