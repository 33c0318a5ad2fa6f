/*
 * sharing/board.c - the board's verdict and a consultation's state
 *
 * No I/O and no allocation: the caller (node/board.c) reads endorsements
 * from its collections and the chain from its fedstore.
 */
#include "board.h"

#include <string.h>

int
kr_board_standing(const kr_membership *cur, const kr_membership *const *past, size_t npast,
    const uint8_t key[KR_FPR_LEN], uint8_t canon[KR_FPR_LEN])
{
	const kr_fed_revoked *rev = kr_fed_revocation(cur, key);
	const uint8_t *succ = kr_fed_successor(cur, key);

	memcpy(canon, succ ? succ : key, KR_FPR_LEN);
	if (rev && rev->reason == KR_REVOKE_COMPROMISED)
		return KR_BOARD_COMPROMISED;
	if (kr_fed_seat_by_key(cur, canon))
		return KR_BOARD_SEAT;
	if (rev && rev->reason == KR_REVOKE_RETIRED)
		for (size_t i = 0; i < npast; i++)
			if (kr_fed_seat_by_key(past[i], key))
				return KR_BOARD_RETIRED;
	return KR_BOARD_OUTSIDE;
}

const char *
kr_board_standing_name(int standing)
{
	switch (standing) {
	case KR_BOARD_SEAT: return "ボード";
	case KR_BOARD_RETIRED: return "退任したボード委員（以前の推奨は有効）";
	case KR_BOARD_COMPROMISED: return "鍵失効（漏えい）: 数えない";
	default: return "ボード外: 数えない";
	}
}

void
kr_board_tally(kr_board_vote *v, size_t n, uint32_t threshold, kr_board_verdict *out)
{
	int conditional = 0;

	memset(out, 0, sizeof(*out));
	out->threshold = threshold;
	for (size_t i = 0; i < n; i++) {
		v[i].counted = 0;
		v[i].replaced = 0;
		/* the latest by this key replaces the others (a tie: the later in the list) */
		for (size_t j = 0; j < n && !v[i].replaced; j++) {
			int c;
			if (j == i || memcmp(v[j].canon, v[i].canon, KR_FPR_LEN) != 0)
				continue;
			c = strcmp(v[j].order ? v[j].order : "", v[i].order ? v[i].order : "");
			v[i].replaced = c > 0 || (c == 0 && j > i);
		}
		if (v[i].replaced || (v[i].standing != KR_BOARD_SEAT && v[i].standing != KR_BOARD_RETIRED) ||
		    !v[i].verdict || v[i].expired)
			continue;
		v[i].counted = 1;
		if (strcmp(v[i].verdict, "注意") == 0) {
			out->caution++;
		} else {
			out->positive++;
			conditional |= strcmp(v[i].verdict, "条件付き推奨") == 0;
		}
	}
	out->endorsed = threshold > 0 && out->positive >= threshold;
	if (out->endorsed)
		out->verdict = conditional ? "条件付き推奨" : "推奨";
	else if (threshold > 0 && out->caution >= threshold)
		out->verdict = "注意";
}

const char *
kr_consult_state(const char *own_state, int board_answers, int board_accepted, int idle)
{
	if (own_state && strcmp(own_state, "受付") != 0 && strcmp(own_state, "回答済") != 0)
		return own_state;       /* 解決, 重複, 取下げ, 期限切れ: the asker said so */
	if (board_accepted)
		return "解決";
	if (idle)
		return "期限切れ";      /* open, and nobody wrote on it for KR_CONSULT_IDLE_DAYS */
	return board_answers ? "回答済" : "受付";
}
