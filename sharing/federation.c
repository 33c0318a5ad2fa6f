/*
 * sharing/federation.c - the membership chain (DESIGN §6)
 *
 * TUF's root rotation, with the lessons of its bugs: a key is the raw
 * 32-byte Ed25519 key, never a key-id field that two entries could share;
 * one key counts once however many signatures it attaches (python-tuf 2020,
 * go-tuf 2022); version N+1 needs the threshold of version N's board AND of
 * its own; and only the newest version's expiry matters, which makes a node
 * stale, never unusable. Signatures cover the body bytes exactly as they
 * travel. No I/O here.
 */
#include "federation.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

void
kr_fed_id(uint8_t out[32], const void *genesis_body, size_t len)
{
	kr_sha256(out, genesis_body, len);
}

static int
s_on_board(const kr_membership *m, const uint8_t key[KR_FPR_LEN])
{
	return m && kr_fed_seat_by_key(m, key) != NULL;
}

int
kr_fed_validate(const kr_membership *m, int *warn)
{
	char hex[KR_FPR_HEX + 1];

	if (warn)
		*warn = 0;
	if (m->version < 1)
		return kr_error(KR_EVERIFY, "membership version is 0 (versions start at 1)");
	if (m->version == 1 && m->has_federation)
		return kr_error(KR_EVERIFY, "membership version 1 names a federation id (the genesis defines it)");
	if (m->version > 1 && !m->has_federation)
		return kr_error(KR_EVERIFY, "membership version %llu does not name its federation",
		    (unsigned long long)m->version);
	if (m->threshold < 1 || m->threshold > m->nboard)
		return kr_error(KR_EVERIFY, "threshold %u is outside 1..%zu (the board has %zu seats)",
		    m->threshold, m->nboard, m->nboard);
	if (m->expires <= m->issued)
		return kr_error(KR_EVERIFY, "membership version %llu expires before it is issued",
		    (unsigned long long)m->version);
	for (size_t i = 0; i < m->nrevoked; i++) {
		kr_hex(hex, m->revoked[i].key, KR_FPR_LEN);
		if (s_on_board(m, m->revoked[i].key))
			return kr_error(KR_EVERIFY, "revoked key %.16s… is still on the board", hex);
		if (kr_fed_member_by_key(m, m->revoked[i].key))
			return kr_error(KR_EVERIFY, "revoked key %.16s… is still listed as a member", hex);
	}
	/* The board is the members with the board role: one list cannot drift from the other. */
	for (size_t i = 0; i < m->nboard; i++) {
		const kr_fed_member *x = kr_fed_member_by_key(m, m->board[i].key);
		if (!x || !(x->roles & KR_ROLE_BOARD))
			return kr_error(KR_EVERIFY, "board seat %s (%s) is not a member with the board role",
			    m->board[i].name, m->board[i].lg_code);
	}
	for (size_t i = 0; i < m->nmembers; i++)
		if ((m->members[i].roles & KR_ROLE_BOARD) && !s_on_board(m, m->members[i].key))
			return kr_error(KR_EVERIFY, "member %s (%s) has the board role but no board seat",
			    m->members[i].name, m->members[i].lg_code);
	if (warn && m->threshold == m->nboard)
		*warn = 1;
	return 0;
}

int
kr_fed_sign(kr_signed_multi *s, const kr_key *k)
{
	uint8_t sig[64];
	int rc;

	for (size_t i = 0; i < s->nsigs; i++)
		if (memcmp(s->sigs[i].key, kr_key_pub(k), KR_FPR_LEN) == 0)
			return kr_error(KR_EEXISTS, "this node has already signed this document");
	if (s->nsigs >= KR_FED_MAX_SIGS)
		return kr_error(KR_EUSAGE, "the document already carries %d signatures", KR_FED_MAX_SIGS);
	if ((rc = kr_signed_sign(k, KR_FED_TYPE, s->body.ptr, s->body.len, sig)) < 0)
		return rc;
	s->sigs = kr_realloc(s->sigs, (s->nsigs + 1) * sizeof(*s->sigs));
	memcpy(s->sigs[s->nsigs].key, kr_key_pub(k), KR_FPR_LEN);
	memcpy(s->sigs[s->nsigs].sig, sig, 64);
	s->nsigs++;
	return 0;
}

void
kr_fed_tally_release(kr_fed_tally *t)
{
	kr_buf_release(&t->old_board.missing);
	kr_buf_release(&t->new_board.missing);
}

static void
s_count(kr_fed_count *c, const kr_membership *board, const char *signed_by)
{
	c->need = board->threshold;
	c->seats = board->nboard;
	c->have = 0;
	kr_buf_clear(&c->missing);
	for (size_t i = 0; i < board->nboard; i++) {
		if (signed_by[i]) {
			c->have++;
			continue;
		}
		if (c->missing.len)
			kr_buf_adds(&c->missing, "、");
		kr_buf_adds(&c->missing, *board->board[i].name ? board->board[i].name : board->board[i].lg_code);
	}
}

/* Marks in signed_by[] each seat of board whose key signed (the sigs are already distinct and valid). */
static void
s_mark(char *signed_by, const kr_membership *board, const kr_signed_multi *s)
{
	for (size_t i = 0; i < board->nboard; i++)
		for (size_t j = 0; j < s->nsigs; j++)
			if (memcmp(board->board[i].key, s->sigs[j].key, KR_FPR_LEN) == 0)
				signed_by[i] = 1;
}

int
kr_fed_check_sigs(const kr_signed_multi *s, const kr_membership *old, const kr_membership *new,
    kr_fed_tally *t)
{
	char hex[KR_FPR_HEX + 1];
	char *old_by = NULL, *new_by = NULL;
	int rc = 0;

	kr_fed_tally_release(t);
	memset(t, 0, sizeof(*t));
	t->old_board.missing = (kr_buf)KR_BUF_INIT;
	t->new_board.missing = (kr_buf)KR_BUF_INIT;
	for (size_t i = 0; i < s->nsigs; i++) {
		kr_hex(hex, s->sigs[i].key, KR_FPR_LEN);
		for (size_t j = 0; j < i; j++)
			if (memcmp(s->sigs[j].key, s->sigs[i].key, KR_FPR_LEN) == 0)
				return kr_error(KR_EVERIFY, "key %.16s… signed twice (one key counts once)", hex);
		if (!s_on_board(old, s->sigs[i].key) && !s_on_board(new, s->sigs[i].key))
			return kr_error(KR_EVERIFY, "signature by %.16s…, a key on neither the current nor the "
			    "proposed board", hex);
		if (kr_signed_verify(s->sigs[i].key, KR_FED_TYPE, s->body.ptr, s->body.len, s->sigs[i].sig) < 0)
			return kr_error(KR_EVERIFY, "bad signature by %.16s… (the document was changed after it "
			    "was signed, or the signature is damaged)", hex);
	}
	new_by = kr_calloc(new->nboard, 1);
	s_mark(new_by, new, s);
	s_count(&t->new_board, new, new_by);
	if (old) {
		old_by = kr_calloc(old->nboard, 1);
		s_mark(old_by, old, s);
		s_count(&t->old_board, old, old_by);
		if (t->old_board.have < t->old_board.need)
			rc = kr_error(KR_EVERIFY, "%zu of %zu signatures of the current board (version %llu); "
			    "missing: %s", t->old_board.have, t->old_board.need, (unsigned long long)old->version,
			    t->old_board.missing.ptr);
	}
	if (rc == 0 && t->new_board.have < t->new_board.need)
		rc = kr_error(KR_EVERIFY, "%zu of %zu signatures of the %s; missing: %s",
		    t->new_board.have, t->new_board.need, old ? "new board" : "board", t->new_board.missing.ptr);
	free(old_by);
	free(new_by);
	return rc;
}

int
kr_fed_check_next(kr_membership *out, const kr_membership *cur, const uint8_t *fedid,
    const kr_signed_multi *next, kr_fed_tally *t)
{
	kr_membership m;
	uint8_t id[32];
	int rc;

	memset(out, 0, sizeof(*out));
	memset(t, 0, sizeof(*t));
	t->old_board.missing = (kr_buf)KR_BUF_INIT;
	t->new_board.missing = (kr_buf)KR_BUF_INIT;
	if ((rc = kr_membership_decode(&m, next->body.ptr, next->body.len)) < 0)
		return rc;
	if (!cur) {
		if (m.version != 1) {
			rc = kr_error(KR_EVERIFY, "expected the genesis (version 1), got version %llu",
			    (unsigned long long)m.version);
			goto done;
		}
		kr_fed_id(id, next->body.ptr, next->body.len);
		if (fedid && memcmp(id, fedid, 32) != 0) {
			rc = kr_error(KR_EVERIFY, "this genesis is not the federation that was pinned "
			    "(its id differs)");
			goto done;
		}
	} else {
		assert(fedid);
		if (m.has_federation && memcmp(m.federation, fedid, 32) != 0) {
			rc = kr_error(KR_EVERIFY, "the document belongs to another federation (%s)", m.name);
			goto done;
		}
		if (m.version <= cur->version) {
			rc = kr_error(KR_EVERIFY, "version %llu is not newer than the held version %llu "
			    "(rollback or a proposal made against an older version)",
			    (unsigned long long)m.version, (unsigned long long)cur->version);
			goto done;
		}
		if (m.version != cur->version + 1) {
			rc = kr_error(KR_EVERIFY, "version %llu skips version %llu (versions follow one by one)",
			    (unsigned long long)m.version, (unsigned long long)cur->version + 1);
			goto done;
		}
	}
	if ((rc = kr_fed_validate(&m, NULL)) < 0)
		goto done;
	if ((rc = kr_fed_check_sigs(next, cur, &m, t)) < 0)
		goto done;
	*out = m;
	return 0;
done:
	kr_membership_clear(&m);
	return rc;
}

int
kr_fed_stale(const kr_membership *newest, int64_t now)
{
	return newest->expires <= now;
}

int
kr_fed_publisher(const kr_membership *m, const uint8_t key[KR_FPR_LEN], const char *lg_code,
    int64_t now, const kr_fed_revoked **rev)
{
	const kr_fed_member *x = kr_fed_member_by_key(m, key);
	const kr_fed_revoked *r = kr_fed_revocation(m, key);
	char hex[KR_FPR_HEX + 1], when[32];

	kr_hex(hex, key, KR_FPR_LEN);
	if (rev)
		*rev = r;
	if (r) {
		kr_time_iso(when, r->since);
		if (r->reason == KR_REVOKE_COMPROMISED) {
			kr_error(KR_EVERIFY, "key %.16s… was revoked as compromised on %s (membership version %llu)",
			    hex, when, (unsigned long long)m->version);
			return KR_FED_COMPROMISED;
		}
		kr_error(KR_EVERIFY, "key %.16s… was %s on %s: it publishes nothing new", hex,
		    r->has_replacement ? "replaced by a new key" : "retired", when);
		return KR_FED_RETIRED;
	}
	if (!x) {
		kr_error(KR_EVERIFY, "key %.16s… is not a member of %s", hex, m->name);
		return KR_FED_STRANGER;
	}
	if (strcmp(x->lg_code, lg_code) != 0) {
		kr_error(KR_EVERIFY, "key %.16s… belongs to %s (%s) but signs for lg_code %s "
		    "(one key per municipality)", hex, x->name, x->lg_code, lg_code);
		return KR_FED_STRANGER;
	}
	if (x->valid_until && x->valid_until <= now) {
		kr_time_iso(when, x->valid_until);
		kr_error(KR_EVERIFY, "the membership of %s (%s) ended on %s", x->name, x->lg_code, when);
		return KR_FED_STRANGER;
	}
	return KR_FED_MEMBER;
}

const uint8_t *
kr_fed_successor(const kr_membership *m, const uint8_t key[KR_FPR_LEN])
{
	const uint8_t *at = NULL;
	const kr_fed_revoked *r;

	/* At most one step per revocation, so a cycle in a hostile document cannot loop. */
	for (size_t steps = 0; steps <= m->nrevoked && (r = kr_fed_revocation(m, at ? at : key)) &&
	    r->has_replacement; steps++)
		at = r->replaced_by;
	return at;
}

const kr_fed_member *
kr_fed_member_by_key(const kr_membership *m, const uint8_t key[KR_FPR_LEN])
{
	for (size_t i = 0; i < m->nmembers; i++)
		if (memcmp(m->members[i].key, key, KR_FPR_LEN) == 0)
			return &m->members[i];
	return NULL;
}

const kr_fed_member *
kr_fed_member_by_code(const kr_membership *m, const char *lg_code)
{
	for (size_t i = 0; i < m->nmembers; i++)
		if (strcmp(m->members[i].lg_code, lg_code) == 0)
			return &m->members[i];
	return NULL;
}

const kr_fed_seat *
kr_fed_seat_by_key(const kr_membership *m, const uint8_t key[KR_FPR_LEN])
{
	for (size_t i = 0; i < m->nboard; i++)
		if (memcmp(m->board[i].key, key, KR_FPR_LEN) == 0)
			return &m->board[i];
	return NULL;
}

const kr_fed_revoked *
kr_fed_revocation(const kr_membership *m, const uint8_t key[KR_FPR_LEN])
{
	for (size_t i = 0; i < m->nrevoked; i++)
		if (memcmp(m->revoked[i].key, key, KR_FPR_LEN) == 0)
			return &m->revoked[i];
	return NULL;
}
