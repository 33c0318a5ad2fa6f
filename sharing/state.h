/*
 * sharing/state.h - the node's SQLite state: manifests, heads, items,
 * peers and follows, quarantine
 *
 * state.db is in WAL mode with a busy timeout, so a CLI command and a
 * running daemon can use one home at once. Writes that belong together go
 * inside kr_state_begin()/kr_state_commit() (BEGIN IMMEDIATE). The schema
 * is versioned with PRAGMA user_version and migrated on open. Strings in
 * returned structs are owned by the struct; free with the *_clear/_free
 * function next to it. One kr_state per thread.
 */
#ifndef KR_STATE_H
#define KR_STATE_H

#include "common.h"

typedef struct kr_state kr_state;

/*
 * Opens (creating and migrating as needed) the state at path. A damaged
 * file is reported as such by every call that meets the damage: "…
 * state.db is damaged: …; run: kairan repair" (KR_EIO), never as a
 * missing row.
 */
int kr_state_open(kr_state **out, const char *path);
/* 1 if this open created the schema from nothing (a new or lost state.db). */
int kr_state_created(const kr_state *st);
/*
 * Copies the whole database, as of one moment, to a new file dest
 * (SQLite's online backup: writers in other connections and processes go
 * on meanwhile) and checks the copy (PRAGMA quick_check). dest must not
 * exist; on failure it is removed.
 */
int kr_state_backup(kr_state *st, const char *dest);
void kr_state_destroy(kr_state **sp);
/* Frees the page cache this connection holds (long-running threads, when idle). */
void kr_state_release_memory(kr_state *st);
/*
 * Bounds what this connection holds however large state.db grows (a
 * long-running process with several connections): at most mmap_bytes of
 * state.db mapped (0: reads copy pages into the page cache instead; every
 * mapping counts again in the process's RSS), at most cache_kb of page
 * cache. kr_state_open's defaults suit a short command and searches.
 */
int kr_state_bound_memory(kr_state *st, long long mmap_bytes, int cache_kb);
/*
 * What SQLite holds (a long-running node's memory report): bytes its
 * allocator has out for all connections of the process, the page caches'
 * share of them, and the highest of both since the process started; the
 * page cache, schema and statements of this connection alone.
 */
typedef struct {
	long long used, used_max, pagecache, pagecache_max;
	int conn_cache, conn_schema, conn_stmt;
} kr_state_mem;
void kr_state_memory(kr_state *st, kr_state_mem *m);
/*
 * Durable commits on this connection (on: a command that publishes): each
 * commit is on disk (the WAL fsynced) before it returns. Off (the default,
 * synchronous=NORMAL) a commit may be lost to a power cut, never torn.
 * Outside a transaction only.
 */
int kr_state_durable(kr_state *st, int on);
int kr_state_begin(kr_state *st);
int kr_state_commit(kr_state *st);
void kr_state_rollback(kr_state *st);

typedef struct {
	char publisher[KR_FPR_HEX + 1];
	uint64_t seq;
	int64_t issued, expires, received;
	char *name, *lg_code, *peer;
	kr_buf signed_bytes;            /* serialised Signed(Manifest), as received */
} kr_state_manifest;

int kr_state_manifest_get(kr_state *st, const char *pub, kr_state_manifest *out);
int kr_state_manifest_put(kr_state *st, const kr_state_manifest *m);
int kr_state_manifest_list(kr_state *st, kr_state_manifest **out, size_t *n);
void kr_state_manifest_clear(kr_state_manifest *m);
void kr_state_manifests_free(kr_state_manifest *v, size_t n);

typedef struct {
	char publisher[KR_FPR_HEX + 1];
	char collection[64];
	char commit[KR_OID_HEX + 1];
	uint64_t size;
	int64_t synced;
} kr_state_head;

int kr_state_head_get(kr_state *st, const char *pub, const char *coll, kr_state_head *out);
/* Also appends to the head history (the last KR_HEAD_HISTORY per collection). */
int kr_state_head_put(kr_state *st, const kr_state_head *h);
#define KR_HEAD_HISTORY 64
/* The last head of pub/coll this node recorded at or before t (its clock); KR_ENOTFOUND if none kept. */
int kr_state_head_at(kr_state *st, const char *pub, const char *coll, int64_t t, char commit[KR_OID_HEX + 1]);
/* pub NULL: every head. */
int kr_state_head_list(kr_state *st, const char *pub, kr_state_head **out, size_t *n);

typedef struct {
	char *publisher, *collection, *path, *id, *kind, *title, *version, *updated, *blob, *commit;
	/* searchable text and facets (NULL: none) */
	char *body, *meta, *lg_code, *pref, *domains, *ai_uses, *outcome, *deployment;
	char *popband, *published, *headline;
	char *pub_name, *pub_code;      /* filled by kr_state_item_find */
} kr_state_item;

/*
 * A row of a dataset's data file is an item too, at path "FILE#ROW-ID"
 * with id "DATASET-ID#ROW-ID" (searchable like any item); deleting FILE
 * deletes its rows. kr_state_item_count and kr_state_item_list count and
 * list items only, not rows.
 */
int kr_state_item_put(kr_state *st, const kr_state_item *it);
/*
 * kr_state_item_put of v[0..n) in order, in the open transaction, with the
 * same rows and search index as a loop of it would write: a batch of many
 * is written in bulk (see state.c). Stops at the first error, after which
 * the caller must roll back.
 */
int kr_state_items_put(kr_state *st, const kr_state_item *v, size_t n);
/* Calls cb(arg, done, n) as kr_state_items_put writes rows, for a person watching a long write (NULL: none). */
void kr_state_on_rows(kr_state *st, void (*cb)(void *arg, size_t done, size_t n), void *arg);
int kr_state_item_delete(kr_state *st, const char *pub, const char *coll, const char *path);
int kr_state_items_drop(kr_state *st, const char *pub, const char *coll);
/*
 * coll of pub continues under the key that replaced pub (a rotation,
 * DESIGN §6): pub's items, head and, once it has no head left, manifest row
 * of it go (in the caller's transaction), so pub is no publisher of its own.
 */
int kr_state_rotated_away(kr_state *st, const char *pub, const char *coll);
/* Items with this id, newest publisher first; KR_ENOTFOUND if none. */
int kr_state_item_find(kr_state *st, const char *id, kr_state_item **out, size_t *n);
int kr_state_item_count(kr_state *st, const char *pub, const char *coll, int64_t *n);
void kr_state_items_free(kr_state_item *v, size_t n);

typedef struct {
	char *endpoint, *node, *name, *announce, *last_error;
	int64_t added, last_ok, last_error_at;
	char **publishers;
	size_t npublishers;
} kr_state_peer;

/* Adds the peer (if new) and the publishers it should be asked for. */
int kr_state_follow(kr_state *st, const char *endpoint, char *const *pubs, size_t npubs);
/* pub NULL removes the peer and all its follows. KR_ENOTFOUND if nothing matched. */
int kr_state_unfollow(kr_state *st, const char *endpoint, const char *pub);
int kr_state_peers(kr_state *st, kr_state_peer **out, size_t *n);
void kr_state_peers_free(kr_state_peer *v, size_t n);
/* Records the outcome of talking to a peer (error NULL: success). */
int kr_state_peer_seen(kr_state *st, const char *endpoint, const char *node,
    const char *name, const char *announce, const char *error);
/* 1 if some follow pins this publisher, 0 if none, or an error. */
int kr_state_pinned(kr_state *st, const char *pub);
int kr_state_pinned_list(kr_state *st, char ***out, size_t *n);

/* Small persistent flags ("reindex" after a schema change). NULL if unset. */
char *kr_state_setting(kr_state *st, const char *key);
int kr_state_setting_put(kr_state *st, const char *key, const char *value);

/* A search, already compiled to an FTS5 MATCH expression (see search.h). */
typedef struct {
	const char *match;
	const char *kind, *domain, *ai_use, *outcome, *deployment;
	const char *publisher;          /* fingerprint or lg_code */
	const char *pref, *popband, *since;
	const char *until;              /* updated on or before this day (YYYY-MM-DD), or NULL */
	size_t limit;
	/*
	 * 0: the rows of one dataset (items DATASET-ID#ROW) take at most
	 * KR_SEARCH_ROWS_SHOWN places in the ranking, so one Q&A sheet cannot
	 * fill a page; 1: every row is ranked (recall checks, "show all rows").
	 * Total and facets count every match either way.
	 */
	int rows_all;
	/*
	 * Optional: called for every match before it is counted, with its row
	 * (items.n) and what the in-memory columns hold of it: publisher, kind
	 * and blob (a dataset row's: its dataset card's, the blob the board
	 * endorses). A match it returns 0 for is left out of hits, total and
	 * facets (the board's verdict: --endorsed,
	 * policy.accept.require_endorsement).
	 */
	int (*keep)(void *arg, int64_t n, const char *publisher, const char *kind, const char *blob);
	void *keep_arg;
	int keep_threads;               /* keep may be called from two threads at once (a search in halves) */
} kr_search_q;

typedef struct {
	char *id, *title, *publisher, *pub_name, *pub_code, *kind, *version, *updated;
	char *outcome, *headline, *snippet, *collection, *path;
	double rank;
	size_t more_rows;               /* on a dataset's last ranked row: its other matching rows */
} kr_search_hit;

#define KR_SEARCH_ROWS_SHOWN 3

typedef struct {
	char *value;
	size_t count;
} kr_facet;

enum { KR_FACET_KIND, KR_FACET_OUTCOME, KR_FACET_DOMAIN, KR_FACET_PREF,
	KR_FACET_AIUSE, KR_FACET_DEPLOYMENT, KR_FACET_POPBAND, KR_NFACETS };

typedef struct {
	kr_search_hit *hits;
	size_t nhits, total;
	size_t rows_folded;             /* matching rows left out of the ranking (see rows_all) */
	kr_facet *facets[KR_NFACETS];   /* kind, outcome, domain, prefecture, ai_use, deployment, popband */
	size_t nfacets[KR_NFACETS];
} kr_search_result;

/* Calls cb with the indexed text of every item (title, body, front-matter values). */
typedef int (*kr_state_text_cb)(void *arg, const char *id, const char *title, const char *body,
    const char *meta);
int kr_state_item_texts(kr_state *st, kr_state_text_cb cb, void *arg);

/* Runs q: the best q->limit hits by bm25 (title above body) and facet counts over all matches. */
int kr_state_search(kr_state *st, const kr_search_q *q, kr_search_result *out);
/*
 * From how many indexed rows a search runs in two halves, one on another
 * thread and connection (both cores): KR_SEARCH_SPLIT_ROWS unless set; 0
 * never. The result is the same either way, ties included.
 */
#define KR_SEARCH_SPLIT_ROWS 10000
void kr_state_search_split(kr_state *st, size_t min_rows);
void kr_search_result_free(kr_search_result *r);

/*
 * Quarantine: one row per (peer, publisher, kind of reason), counted. The
 * same refusal again (numbers and ids aside) only bumps count and last_at
 * and keeps the latest wording; past KR_QUARANTINE_MAX rows the ones seen
 * longest ago are dropped, so a hostile peer cannot grow the table.
 */
#define KR_QUARANTINE_MAX 1000

typedef struct {
	int64_t at, last_at, seq, count;
	char *publisher, *peer, *collection, *reason;
} kr_state_quarantine;

int kr_state_quarantine_add(kr_state *st, const char *pub, const char *peer,
    const char *coll, int64_t seq, const char *reason);
/* The max rows seen most recently, latest first. */
int kr_state_quarantine_list(kr_state *st, size_t max, kr_state_quarantine **out, size_t *n);
/* Rows held and refusals counted in them. */
int kr_state_quarantine_totals(kr_state *st, int64_t *rows, int64_t *events);
void kr_state_quarantine_free(kr_state_quarantine *v, size_t n);

/*
 * The last KR_REJECTED_KEEP manifests of pub refused from peer after
 * their packs were fetched, by SHA-256 of their signed bytes (a few, not
 * one: announcements and snapshots of a flood may arrive out of order).
 * get: 0 and the reason (caller frees) when this manifest is remembered,
 * KR_ENOTFOUND otherwise.
 */
#define KR_REJECTED_KEEP 16

int kr_state_rejected_get(kr_state *st, const char *pub, const char *peer, const uint8_t manifest[32],
    char **reason);
int kr_state_rejected_put(kr_state *st, const char *pub, const char *peer, const uint8_t manifest[32],
    const char *coll, const char *reason);

/* ---- listing items without a search (web pages, CKAN, DCAT; issue 10) ---- */

enum { KR_LIST_RECENT = 0, KR_LIST_ID = 1 };

typedef struct {
	const char *kind;               /* NULL: any */
	const char *publisher;          /* fingerprint or lg_code; NULL: any */
	int64_t synced_since;           /* only collections whose head changed at or after this (0: any) */
	int order;                      /* KR_LIST_RECENT: newest head change first, then updated; KR_LIST_ID */
	size_t offset, limit;           /* limit 0: count only */
} kr_item_filter;

typedef struct {
	char *id, *kind, *title, *version, *updated, *published, *publisher, *collection, *path;
	char *commit, *blob, *pub_name, *pub_code, *outcome, *headline, *domains;
	int64_t synced;                 /* when this node's head of the collection last changed */
} kr_item_row;

/* Items matching f in f->order; *total counts every match. */
int kr_state_item_list(kr_state *st, const kr_item_filter *f, kr_item_row **out, size_t *n, size_t *total);
void kr_item_rows_free(kr_item_row *v, size_t n);

/* Changes whenever another connection has committed since (PRAGMA data_version): for caches. */
int64_t kr_state_data_version(kr_state *st);

#endif
