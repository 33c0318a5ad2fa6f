/*
 * sharing/fedstore.h - a node's copy of its federation's membership chain
 *
 * Layout under <home>/federation/:
 *   chain/000001.kfm, 000002.kfm, ...   SignedMulti bytes exactly as signed
 *   verified                            "VERSION SHA256(file) FEDID\n"
 *   pinned                              "FEDID\n" (a join before the chain arrived)
 *
 * A version file is written aside and linked into place (never replaced),
 * then `verified` is renamed over. The chain is therefore always a valid
 * prefix: after a crash between the two, open re-verifies the files past
 * the marker; a file that fails the chain rule is moved aside, never
 * trusted. Files are all the state there is: a copy of the home carries
 * the chain. Installs take an exclusive flock on <dir>/lock and first
 * read what another thread or process installed meanwhile, so the same
 * version received twice at once is installed once and found held once.
 * A kr_fedstore is not thread-safe; one per thread.
 */
#ifndef KR_FEDSTORE_H
#define KR_FEDSTORE_H

#include "federation.h"

typedef struct {
	char *dir;                     /* <home>/federation */
	int have;                      /* a chain is installed */
	int pinned;                    /* id is known (have, or a pin) */
	uint8_t id[32];
	kr_membership cur;             /* the newest version, when have */
	kr_buf cur_bytes;              /* its SignedMulti bytes */
	size_t set_aside;              /* files open() refused and moved aside */
} kr_fedstore;

/* Opens (nothing installed is not an error: have = 0). */
int kr_fedstore_open(kr_fedstore *f, const char *home);
void kr_fedstore_close(kr_fedstore *f);

/* Pins a federation id before its chain is installed; refuses another id. */
int kr_fedstore_pin(kr_fedstore *f, const uint8_t id[32]);

enum { KR_FED_INSTALLED = 0, KR_FED_HELD = 1 };

/*
 * Installs the next version (the genesis when nothing is held) after the
 * chain rule; t says who signed. Returns KR_FED_INSTALLED, KR_FED_HELD when
 * this exact version is already held, or KR_EVERIFY (another version with
 * the same number is equivocation; older ones are refused as rollback).
 * On error nothing on disk changes.
 */
int kr_fedstore_install(kr_fedstore *f, const void *bytes, size_t len, kr_fed_tally *t);

/*
 * Installs the versions after the held one, as fetched from a peer (oldest
 * first; versions already held must be byte for byte the held ones).
 * Every version is checked against the chain rule first, in memory; only
 * when the whole chain passes is anything written, and the federation id
 * (fedid, or the pinned one; NULL: whatever the genesis says) is pinned
 * then. *installed counts the new versions. Errors: KR_EVERIFY/KR_EPROTO
 * naming the version and the reason (equivocation when a held version
 * number comes with other bytes), with nothing on disk changed.
 */
int kr_fedstore_install_chain(kr_fedstore *f, const uint8_t *fedid, const kr_buf *versions, size_t n,
    size_t *installed);

/*
 * Endpoints this node joined the federation through (`kairan join`), with
 * the prefectures (two-digit lg_code prefixes) and kinds it asked for
 * (empty: all). Kept in <home>/federation/joined, one line each.
 */
typedef struct {
	char *endpoint;
	char **prefs, **kinds;
	size_t nprefs, nkinds;
} kr_fed_join;

int kr_fedstore_joins(const kr_fedstore *f, kr_fed_join **out, size_t *n);
/* Adds or replaces the line of j->endpoint (atomic rewrite). */
int kr_fedstore_join_put(const kr_fedstore *f, const kr_fed_join *j);
void kr_fed_joins_free(kr_fed_join *v, size_t n);

/* Bytes of one held version (KR_ENOTFOUND past the newest). */
int kr_fedstore_get(const kr_fedstore *f, uint64_t version, kr_buf *out);

/* Federation id as 64 hex characters. */
void kr_fedstore_id_hex(const kr_fedstore *f, char out[65]);

#endif
