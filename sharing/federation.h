/*
 * sharing/federation.h - membership documents and the chain rule of DESIGN §6
 *
 * Pure functions over bytes, like manifest.h: no I/O, so every rule of the
 * chain (TUF's root rotation) is unit-tested alone. The caller stores the
 * chain and decides what to do with the verdicts.
 */
#ifndef KR_FEDERATION_H
#define KR_FEDERATION_H

#include "../proto/codec.h"
#include "sign.h"

#define KR_FED_TYPE "membership"
#define KR_FED_MAX_VERSIONS 1024      /* longest chain a node walks */

/* Federation id: SHA-256 of the genesis (version 1) body. */
void kr_fed_id(uint8_t out[32], const void *genesis_body, size_t len);

/*
 * Checks one document's own meaning: threshold 1..board size, version >= 1,
 * version 1 without a federation id and later versions with one, expires
 * after issued, no revoked key still on the board or among members.
 * *warn is set when threshold equals the board size (one lost key then
 * freezes the federation).
 */
int kr_fed_validate(const kr_membership *m, int *warn);

/* Adds k's signature over s->body ("kairan/1 membership\0" || body); refuses a second one by k. */
int kr_fed_sign(kr_signed_multi *s, const kr_key *k);

/*
 * How many distinct keys of a board signed: filled by kr_fed_tally. The
 * names of board seats that did not sign (for "missing: 観音寺市") go into
 * missing, "、"-separated.
 */
typedef struct {
	size_t have, need, seats;
	kr_buf missing;
} kr_fed_count;

typedef struct {
	kr_fed_count old_board, new_board;
} kr_fed_tally;

void kr_fed_tally_release(kr_fed_tally *t);

/*
 * Verifies every signature of s against the two boards (old may be NULL for
 * version 1): each must be by a key on either board, valid, and no key may
 * sign twice (one key counts once, whatever it claims). Fills t. Returns 0
 * when both thresholds are met, KR_EVERIFY with "2 of 3 board signatures;
 * missing: …" when one is not, KR_EVERIFY naming the offending key for a
 * stray, duplicate or bad signature. t must be zeroed (KR_BUF_INIT buffers)
 * or filled by an earlier call; release it with kr_fed_tally_release.
 */
int kr_fed_check_sigs(const kr_signed_multi *s, const kr_membership *old, const kr_membership *new,
    kr_fed_tally *t);

/*
 * The chain rule: next (signed bytes) may follow cur (NULL: next must be a
 * genesis whose id is fedid, or any genesis when fedid is NULL). next must
 * name fedid, be exactly cur->version + 1, be valid (kr_fed_validate) and
 * carry the thresholds of cur's board and of its own. Expiry is not checked
 * here: only the newest version's matters (kr_fed_stale). On success *out
 * holds the decoded document. Errors: KR_EVERIFY/KR_EPROTO with the reason.
 * t is (re)initialised here; release it afterwards whatever the result.
 */
int kr_fed_check_next(kr_membership *out, const kr_membership *cur, const uint8_t *fedid,
    const kr_signed_multi *next, kr_fed_tally *t);

/* 1 if the newest version has expired at now: the node is then read-only, never unusable. */
int kr_fed_stale(const kr_membership *newest, int64_t now);

/*
 * The receipt rule of DESIGN §6 for one manifest's signing key and claimed
 * lg_code, against the newest version (now: this node's clock):
 *   KR_FED_MEMBER       a current member whose lg_code matches: accept
 *   KR_FED_RETIRED      revoked as retired (or rotated away): nothing new
 *                       is accepted; what was accepted before stays valid
 *   KR_FED_COMPROMISED  nothing new; what this node received after
 *                       (*rev)->since leaves the view
 *   KR_FED_STRANGER     not a member, another municipality's key, or a
 *                       membership past valid_until: not trusted through the
 *                       federation (a pin may still trust it)
 * A message saying why is set (kr_errmsg) for every verdict but the first.
 */
enum { KR_FED_MEMBER = 0, KR_FED_RETIRED, KR_FED_COMPROMISED, KR_FED_STRANGER };
int kr_fed_publisher(const kr_membership *m, const uint8_t key[KR_FPR_LEN], const char *lg_code,
    int64_t now, const kr_fed_revoked **rev);

/* The key that replaced key by rotation, following a chain of rotations (NULL: none). */
const uint8_t *kr_fed_successor(const kr_membership *m, const uint8_t key[KR_FPR_LEN]);

/* Lookups in one version (borrowed pointers, NULL when absent). */
const kr_fed_member *kr_fed_member_by_key(const kr_membership *m, const uint8_t key[KR_FPR_LEN]);
const kr_fed_member *kr_fed_member_by_code(const kr_membership *m, const char *lg_code);
const kr_fed_seat *kr_fed_seat_by_key(const kr_membership *m, const uint8_t key[KR_FPR_LEN]);
const kr_fed_revoked *kr_fed_revocation(const kr_membership *m, const uint8_t key[KR_FPR_LEN]);

#endif
