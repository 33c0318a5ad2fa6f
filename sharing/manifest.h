/*
 * sharing/manifest.h - signing manifests and the receipt rules of DESIGN §5
 *
 * Pure functions over bytes: no I/O, so every rule is unit-tested alone.
 */
#ifndef KR_MANIFEST_H
#define KR_MANIFEST_H

#include "../proto/codec.h"
#include "federation.h"
#include "sign.h"

#define KR_MANIFEST_TYPE "manifest"
#define KR_FUTURE_SKEW 300          /* issued may be at most 5 min ahead */

/* Serialises m, signs it with k (k must be m's publisher), and returns Signed bytes. */
int kr_manifest_sign(kr_buf *out, const kr_manifest *m, const kr_key *k);

typedef struct {
	uint64_t seq;
	const void *body;               /* body bytes of the accepted manifest */
	size_t body_len;
} kr_manifest_prev;

enum {
	KR_MANIFEST_ACCEPT = 0,
	KR_MANIFEST_IGNORE = 1,         /* the same manifest again */
	KR_MANIFEST_REPLAY = 2          /* an older seq: not applied, worth recording */
};

/*
 * Decodes and checks Signed(Manifest) bytes: well-formed; the signing key is
 * the manifest's publisher; trusted (the caller's decision, passed in);
 * signature valid; seq above prev's (lower: ignore as replay; equal with
 * other bytes: equivocation); issued at most KR_FUTURE_SKEW ahead of now;
 * expires after now. Returns KR_MANIFEST_ACCEPT with *m filled,
 * KR_MANIFEST_IGNORE, KR_MANIFEST_REPLAY (message set), or KR_EVERIFY/KR_EPROTO with the reason (quarantine).
 * Even on failure *pub holds the claimed publisher when it could be read.
 * is_trusted(pub, arg) answers the trust question.
 */
int kr_manifest_check(kr_manifest *m, uint8_t pub[KR_FPR_LEN], const void *signed_bytes, size_t len,
    int (*is_trusted)(const uint8_t pub[KR_FPR_LEN], void *arg), void *arg,
    const kr_manifest_prev *prev, int64_t now);

/*
 * The trust question of DESIGN §6 for a manifest signed by pub claiming
 * lg_code, asked before its signature is checked. fed is the newest
 * membership version (NULL: this node is in no federation); pinned says
 * whether a follow pins pub. Returns 1 (trusted: a current member whose
 * lg_code matches, or a pinned outside publisher), 0 (a stranger nobody
 * pinned), or KR_EVERIFY with the reason: a retired, rotated-away or
 * compromised key publishes nothing new, whatever pins it; a key may not
 * sign for another member's lg_code, nor a member's key for another
 * code (one key per municipality). KR_MANIFEST_STALE (message set): pub
 * is a member but the newest version has expired, so the node is
 * read-only for the federation's publishers ("stale since …") until the
 * board renews it; what is held stays, and nothing is quarantined.
 */
#define KR_MANIFEST_STALE 2
int kr_manifest_trust(const kr_membership *fed, const uint8_t pub[KR_FPR_LEN], const char *lg_code,
    int pinned, int64_t now);

/* 16-byte digest of a (publisher, seq) set, order-independent. */
typedef struct {
	uint8_t pub[KR_FPR_LEN];
	uint64_t seq;
} kr_pubseq;
void kr_manifest_digest(uint8_t out[16], kr_pubseq *set, size_t n);

#endif
