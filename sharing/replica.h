/*
 * sharing/replica.h - a node's collections kept consistent with its state
 *
 * Every change to what a node holds goes through here, in one order:
 * objects first (unreferenced, harmless), then every check, then each ref
 * by compare-and-swap, then one SQLite transaction recording manifest,
 * heads and items. A failure before the refs move changes nothing; a crash
 * after is repaired by kr_replica_reconcile() on the next start.
 */
#ifndef KR_REPLICA_H
#define KR_REPLICA_H

#include "../proto/codec.h"
#include "sign.h"
#include "state.h"
#include "store.h"

/* Where a long apply is, for a person watching (kairan sync or reindex on a terminal). */
typedef enum { KR_STEP_RECEIVE, KR_STEP_CHECK, KR_STEP_INDEX } kr_step;

typedef struct {
	kr_step step;
	const char *publisher;          /* fingerprint (hex) */
	const char *collection;
	uint64_t done, total;           /* objects (receive: total 0 until the pack says), files (check), rows (index) */
	uint64_t bytes;                 /* receive: pack bytes so far */
	int end;                        /* 1: the step is over; -1: it stopped on an error */
} kr_progress;

typedef struct {
	kr_store *store;
	kr_state *state;
	const kr_key *key;
	char own[KR_FPR_HEX + 1];
	const char *own_name, *own_code;
	uint64_t max_collection_bytes;  /* local cap on any one fetch */
	const struct kr_policy_rules *rules; /* NULL: the compiled-in defaults */
	const void *pii;                /* kr_pii_allow of this node (policies/item.h) */
	int64_t manifest_ttl;           /* seconds a manifest we sign stays valid */
	/* what a successful publish should tell its user ("restores withdrawn item …"); may be NULL */
	void (*notice)(const char *msg, void *arg);
	void *notice_arg;
	/*
	 * Not NULL: called as an apply (or a reindex) receives a pack over
	 * 256 KiB, checks files and writes rows, from the calling thread, often
	 * (the callee decides when to show it); a step that was reported ends
	 * with end = 1, or -1 when it stopped on an error (before the error is
	 * told). kairan sync, join and reindex draw it; a node's replication
	 * workers log it (node/progress.c).
	 */
	void (*progress)(const kr_progress *p, void *arg);
	void *progress_arg;
	struct kr_replica_fed *fed;     /* the federation's newest version, reloaded when it changes */
	/*
	 * 1: kr_replica_publish leaves the consolidation of the repositories it
	 * moved (kr_store_maintain: a look at objects/pack, every 17th publish
	 * a repack) and the copy of the new manifest under refs/kairan/manifest
	 * to kr_replica_maintain, so a command can hand the new manifest to the
	 * running node first; an apply leaves what follows its commit (the
	 * manifest's copies in manifests/ and under refs/kairan/manifest, the
	 * consolidation), so a node's worker announces first. 0: each does it
	 * all before returning.
	 */
	int defer_maintenance;
	char **maint;                   /* collections of ours waiting for kr_replica_maintain */
	size_t nmaint;
	uint8_t *own_ref;               /* our new signed manifest, for refs/kairan/manifest (kr_replica_maintain) */
	size_t own_ref_len;
	struct kr_replica_applied *applied; /* applies waiting for kr_replica_maintain */
	size_t napplied;
	/*
	 * Not NULL: kr_replica_publish adds the pack of each commit it makes
	 * (when it holds every new object and all fit in KR_INLINE_MAX; thin
	 * over 8 KiB, kr_store_commit), for
	 * the node to announce with the manifest (proto/kairan.proto
	 * InlinePacks). The caller clears it.
	 */
	kr_inline *inline_out;
} kr_replica;

/* How a pack gets here: from a peer over the wire, or a test double. */
typedef struct {
	/*
	 * Streams the pack that takes coll from have (NULL: nothing) to want
	 * into in, refusing to take more than max bytes. Transient trouble
	 * (timeout, peer lacks the commit) is KR_ETIMEOUT/KR_EIO/KR_ENOTFOUND;
	 * a lie (oversized, malformed) is KR_EPROTO or KR_EVERIFY.
	 */
	int (*fetch)(void *arg, const char *pub, const char *coll, const uint8_t want[KR_OID_LEN],
	    const uint8_t *have, uint64_t max, kr_packin *in, uint64_t *bytes);
	void *arg;
	const char *peer;               /* endpoint, for logs and quarantine */
	/*
	 * The collections of other publishers to hold (NULL: all), e.g. only
	 * "cases" for a town that joined for some kinds (kairan join --kind).
	 * The whole signed manifest is still verified; a collection left out
	 * is neither fetched nor recorded as a head, so it is never missing,
	 * behind or quarantined; one let in later is fetched at the same seq.
	 */
	char *const *colls;
	size_t ncolls;
	/*
	 * The packs the peer announced with this manifest (NULL: none): one
	 * for a collection whose head here is its base is taken instead of a
	 * fetch; one the indexer refuses is dropped and the pack fetched. What
	 * it brings is checked as a fetched pack is.
	 */
	const kr_inline *offered;
} kr_fetcher;

typedef struct {
	int applied;                    /* 1: new state recorded */
	char publisher[KR_FPR_HEX + 1];
	uint64_t seq;
	size_t changed;                 /* collections that moved */
	size_t continued;               /* of them, continued from a rotated-away key (DESIGN §6) */
	uint64_t bytes;                 /* pack bytes received */
	int quarantined;
	size_t packs_dropped;           /* packs of a refused update removed again */
	uint64_t bytes_dropped;
	double ms_fetch, ms_verify, ms_index, ms_record; /* where the time went */
	size_t inlined;                 /* collections taken from the announcement (fx->offered), not fetched */
} kr_apply;

void kr_replica_init(kr_replica *r, kr_store *store, kr_state *state, const kr_key *key,
    const char *name, const char *code);

/* Frees what the replica cached (the membership document); r stays usable. */
void kr_replica_release(kr_replica *r);

/*
 * The newest membership version of this node's federation (borrowed,
 * valid until the next call on r), or NULL outside any federation. Read
 * again from <home>/federation when its `verified` marker changed.
 */
const kr_membership *kr_replica_federation(kr_replica *r);

/*
 * Applies the revocations of the newest membership version to what this
 * node holds (DESIGN §6): each collection a compromised key's manifest
 * moved after its `since` (this node's receipt time) shows again what this
 * node held at `since` (its head history), or nothing when it held nothing
 * then; what arrived after leaves the view and search. Repositories and
 * manifests stay, as evidence. One transaction per collection, each done
 * once; *changed counts them. Call after installing a version.
 */
int kr_replica_revocations(kr_replica *r, size_t *changed);

/*
 * Which state of pub/coll the view shows: 0 its head; 1 the older head in
 * *at (a compromised key's collection as held at its `since`); 2 none.
 */
int kr_replica_view_head(kr_replica *r, const char *pub, const char *coll, uint8_t at[KR_OID_LEN]);

/*
 * Applies a Signed(Manifest) received from fx->peer. Returns 0 when it was
 * applied or ignored (res->applied tells), KR_EVERIFY/KR_EPROTO/KR_EPOLICY
 * when it was rejected (a quarantine row was written), or a transient
 * error (nothing written).
 */
int kr_replica_apply(kr_replica *r, const void *signed_bytes, size_t len,
    const kr_fetcher *fx, kr_apply *res);

typedef struct {
	const char *collection;
	const char *path;
	const void *data;               /* NULL removes the path */
	size_t len;
} kr_pubfile;

/*
 * Publishes files of this node: one signed commit per touched collection,
 * refs moved, items indexed, then a new signed manifest (seq + 1). Nothing
 * is issued when nothing changed (res->applied = 0). A version means one
 * content: different content under a published id and version (a
 * dataset's data files count as its content), a version below the
 * published one, or a new version without version_notes is KR_EPOLICY
 * naming the version to use; so is a withdrawn id published again at a
 * version not above its last one. Restoring a withdrawn item is told
 * through r->notice once published.
 */
int kr_replica_publish(kr_replica *r, const kr_pubfile *files, size_t n,
    const char *message, kr_apply *res);

/*
 * What deferred publishes and applies left (see defer_maintenance), best
 * effort, in the order they were made: the manifests' copies (never
 * replacing a newer one), then, when consolidate, consolidation (without
 * it, the next publish or apply of the collection consolidates: a node
 * that is stopping does not repack a whole history first).
 */
void kr_replica_maintain(kr_replica *r, int consolidate);

/*
 * A node's start: where a stop or crash came between an apply's (or a
 * publish's) commit and its deferred copies, manifests/PUB and
 * refs/kairan/manifest of PUB's collections are written again from the
 * manifest state.db holds (never over a newer one, and only where they
 * differ). Best effort, as the copies are. Returns how many other
 * publishers' saved manifests were older than state.db's.
 */
size_t kr_replica_settle_copies(kr_replica *r);

/* Signs a fresh manifest of this node's current heads (seq + 1). */
int kr_replica_issue(kr_replica *r, uint64_t *seq);

/*
 * Re-indexes every collection whose ref and recorded head differ (and
 * signs a new manifest when our own moved); a collection that cannot be
 * indexed is skipped and reported through problem (may be NULL).
 */
int kr_replica_reconcile(kr_replica *r, void (*problem)(const char *msg, void *arg), void *arg, size_t *fixed);
/*
 * The same for this node's own collections alone: what a publish reads
 * and signs (its heads, its items). Mirrored ones wait for the next full
 * open (the daemon's start, any other command).
 */
int kr_replica_reconcile_own(kr_replica *r, size_t *fixed);

/* Saves this node's manifest in <home>/manifests/ if no copy is there yet (homes made before it). */
int kr_replica_keep(kr_replica *r);

/*
 * Rebuilds the item rows (and so the search index) of every collection
 * from its ref, one transaction per collection. A collection whose content
 * no longer passes the checks keeps no rows and is reported via problem().
 */
int kr_replica_reindex(kr_replica *r, void (*problem)(const char *msg, void *arg), void *arg,
    size_t *collections, size_t *items);

/*
 * Re-checks every local replica: signatures, linear history, refs equal to
 * the recorded and signed heads; with full, first reads and re-hashes
 * every reachable object (naming each damaged one and its repository).
 * problem(msg) per failure; returns their count, or an error of state.db.
 */
int kr_replica_verify_all(kr_replica *r, int full, void (*problem)(const char *msg, void *arg),
    void *arg, size_t *checked, size_t *objects);

/*
 * What state.db holds that git does not, back from the copies kept beside
 * it (after state.db was lost or rebuilt): the signed manifests saved in
 * <home>/manifests/, each checked against its publisher's key, another
 * publisher's only if this state pins it. One transaction.
 */
int kr_replica_restore_manifests(kr_replica *r, void (*problem)(const char *msg, void *arg), void *arg,
    size_t *restored);

/*
 * Reads every object of every collection; a mirrored collection with
 * damaged objects has its damaged packs set aside and its ref dropped, so
 * the next sync fetches it again (the manifest held still names it). This
 * node's own collections cannot be fetched back and are only reported.
 * Returns how many damaged collections are left as they were, or an error.
 */
int kr_replica_set_aside_damaged(kr_replica *r, void (*problem)(const char *msg, void *arg), void *arg,
    size_t *reset, size_t *objects);

#endif
