/*
 * sharing/manifest.c - manifest signatures and receipt rules
 *
 * The signature covers the body bytes exactly as they travel, so a relay
 * forwards what it received byte for byte and nobody re-serialises.
 */
#include "manifest.h"

#include <stdlib.h>
#include <string.h>

int
kr_manifest_sign(kr_buf *out, const kr_manifest *m, const kr_key *k)
{
	kr_signed s;
	int rc;

	if (memcmp(kr_key_pub(k), m->publisher, KR_FPR_LEN) != 0)
		return kr_error(KR_ERROR, "manifest publisher is not the signing key");
	memset(&s, 0, sizeof(s));
	s.body = (kr_buf)KR_BUF_INIT;
	kr_manifest_encode(&s.body, m);
	memcpy(s.key, kr_key_pub(k), KR_FPR_LEN);
	if ((rc = kr_signed_sign(k, KR_MANIFEST_TYPE, s.body.ptr, s.body.len, s.sig)) == 0)
		rc = kr_signed_encode(out, &s);
	kr_signed_clear(&s);
	return rc;
}

int
kr_manifest_check(kr_manifest *m, uint8_t pub[KR_FPR_LEN], const void *signed_bytes, size_t len,
    int (*is_trusted)(const uint8_t pub[KR_FPR_LEN], void *arg), void *arg,
    const kr_manifest_prev *prev, int64_t now)
{
	kr_signed s;
	char hex[KR_FPR_HEX + 1], when[32];
	int rc;

	memset(m, 0, sizeof(*m));
	memset(pub, 0, KR_FPR_LEN);
	if ((rc = kr_signed_decode(&s, signed_bytes, len)) < 0)
		return rc;
	if ((rc = kr_manifest_decode(m, s.body.ptr, s.body.len)) < 0)
		goto done;
	memcpy(pub, m->publisher, KR_FPR_LEN);
	kr_hex(hex, m->publisher, KR_FPR_LEN);
	if (memcmp(s.key, m->publisher, KR_FPR_LEN) != 0) {
		rc = kr_error(KR_EVERIFY, "manifest of %.16s… is signed by another key", hex);
		goto done;
	}
	if (!is_trusted(m->publisher, arg)) {
		rc = kr_error(KR_EVERIFY, "publisher %.16s… is not trusted here "
		    "(pin it with: kairan follow ENDPOINT --publisher %s)", hex, hex);
		goto done;
	}
	if ((rc = kr_signed_verify(m->publisher, KR_MANIFEST_TYPE, s.body.ptr, s.body.len, s.sig)) < 0) {
		rc = kr_error(KR_EVERIFY, "manifest of %.16s… seq %llu: bad signature", hex,
		    (unsigned long long)m->seq);
		goto done;
	}
	if (prev) {
		if (m->seq < prev->seq) {
			rc = KR_MANIFEST_REPLAY;
			kr_error(KR_MANIFEST_REPLAY, "replay: manifest of %.16s… seq %llu is older than accepted seq %llu",
			    hex, (unsigned long long)m->seq, (unsigned long long)prev->seq);
			goto done;
		}
		if (m->seq == prev->seq) {
			if (prev->body_len == s.body.len && memcmp(prev->body, s.body.ptr, s.body.len) == 0) {
				rc = KR_MANIFEST_IGNORE;
				kr_error(KR_MANIFEST_IGNORE, "manifest of %.16s… seq %llu already held", hex,
				    (unsigned long long)m->seq);
			} else {
				rc = kr_error(KR_EVERIFY, "equivocation: publisher %.16s… signed two different "
				    "manifests with seq %llu", hex, (unsigned long long)m->seq);
			}
			goto done;
		}
	}
	if (m->issued > now + KR_FUTURE_SKEW) {
		kr_time_iso(when, m->issued);
		rc = kr_error(KR_EVERIFY, "manifest of %.16s… seq %llu is issued in the future (%s); "
		    "check the clocks", hex, (unsigned long long)m->seq, when);
		goto done;
	}
	if (m->expires <= now) {
		kr_time_iso(when, m->expires);
		rc = kr_error(KR_EVERIFY, "manifest of %.16s… seq %llu expired at %s (stale since then)",
		    hex, (unsigned long long)m->seq, when);
		goto done;
	}
	rc = KR_MANIFEST_ACCEPT;
done:
	kr_signed_clear(&s);
	if (rc != KR_MANIFEST_ACCEPT)
		kr_manifest_clear(m);
	return rc;
}

static int
s_cmp_pubseq(const void *a, const void *b)
{
	return memcmp(((const kr_pubseq *)a)->pub, ((const kr_pubseq *)b)->pub, KR_FPR_LEN);
}

void
kr_manifest_digest(uint8_t out[16], kr_pubseq *set, size_t n)
{
	kr_buf b = KR_BUF_INIT;
	uint8_t h[32];

	qsort(set, n, sizeof(*set), s_cmp_pubseq);
	for (size_t i = 0; i < n; i++) {
		uint8_t seq[8];
		for (int j = 0; j < 8; j++)
			seq[j] = (uint8_t)(set[i].seq >> (56 - 8 * j));
		kr_buf_add(&b, set[i].pub, KR_FPR_LEN);
		kr_buf_add(&b, seq, 8);
	}
	kr_sha256(h, b.ptr, b.len);
	memcpy(out, h, 16);
	kr_buf_release(&b);
}

int
kr_manifest_trust(const kr_membership *fed, const uint8_t pub[KR_FPR_LEN], const char *lg_code,
    int pinned, int64_t now)
{
	const kr_fed_member *owner;
	char hex[KR_FPR_HEX + 1];

	if (!fed)
		return pinned ? 1 : 0;
	switch (kr_fed_publisher(fed, pub, lg_code ? lg_code : "", now, NULL)) {
	case KR_FED_MEMBER:
		if (kr_fed_stale(fed, now)) {
			char when[32];
			kr_time_iso(when, fed->expires);
			kr_error(KR_EVERIFY, "federation %s is stale since %s (membership version %llu expired): "
			    "read-only until the board renews it; what is held stays", fed->name, when,
			    (unsigned long long)fed->version);
			return KR_MANIFEST_STALE;
		}
		return 1;
	case KR_FED_RETIRED:
	case KR_FED_COMPROMISED:
		return KR_EVERIFY; /* message set by kr_fed_publisher */
	default:
		break;
	}
	kr_hex(hex, pub, KR_FPR_LEN);
	if ((owner = kr_fed_member_by_key(fed, pub))) {
		/* another code: refused outright; past valid_until: only a pin still trusts it */
		if (!lg_code || strcmp(owner->lg_code, lg_code) != 0 || !pinned)
			return KR_EVERIFY; /* message set by kr_fed_publisher */
		kr_error_clear();
		return 1;
	}
	if (lg_code && (owner = kr_fed_member_by_code(fed, lg_code)))
		return kr_error(KR_EVERIFY, "key %.16s… signs for lg_code %s, which is %s's in federation %s "
		    "under another key (one key per municipality)", hex, lg_code, owner->name, fed->name);
	kr_error_clear();
	return pinned ? 1 : 0;
}
