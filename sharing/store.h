/*
 * sharing/store.h - collections as bare git repositories
 *
 * One bare repo per (publisher, collection) under <home>/repos/<pub-hex>/
 * <collection>.git. refs/heads/main is always a verified head: objects may
 * arrive first (harmless while unreferenced), the ref moves only through
 * kr_store_cas() after the caller accepted the new history. History is
 * linear and signed. Not thread-safe: one kr_store per thread.
 */
#ifndef KR_STORE_H
#define KR_STORE_H

#include "common.h"
#include "sign.h"

typedef struct kr_store kr_store;

int kr_store_open(kr_store **out, const char *home);
/*
 * Whether every object read is re-hashed (process-wide, default off: the
 * indexer hashes every object it receives, and publish hashes what it
 * writes). `kairan verify` turns it on to catch damage on disk since.
 */
void kr_store_strict(int on);
void kr_store_destroy(kr_store **sp);
/*
 * Durable writes on this handle (on: a command that publishes): a new
 * repo's skeleton and kr_store_commit's objects (one pack: the pack, its
 * index and objects/pack) are fsynced before kr_store_commit returns, and the ref
 * kr_store_cas moved before it returns, so a ref never names an object a
 * crash could lose, and exit 0 means on disk. Off by default: a mirror's
 * objects can be fetched again. Consolidation (kr_store_maintain) syncs
 * its new pack before removing what it replaces, on or off.
 */
void kr_store_durable(kr_store *s, int on);
/*
 * For long-running processes, between operations (say once a second):
 * closes the repos not used for idle_ms, and makes the others drop what
 * libgit2 holds for them (object caches, the open packs, deleted ones
 * included) to reopen it on the next use. Each operation already drops a
 * repo's packs when objects/pack changed; this bounds what piles up in a
 * busy thread (every update parses new trees and commits) and releases
 * replaced packs in a thread that sits idle. Returns the milliseconds until
 * the next repo still open goes idle (when to sweep again), -1 when none is
 * open: an idle thread need not wake for this store.
 */
long kr_store_sweep(kr_store *s, int idle_ms);
/*
 * libgit2's parsed-object caches, all repos of all threads together
 * (bytes; *limit gets the budget kr_store_open set), and the repos this
 * store holds open.
 */
long long kr_store_cached_memory(const kr_store *s, long long *limit, int *open_repos);
/* The home a store was opened on (to open another handle in another thread). */
const char *kr_store_home(const kr_store *s);

/* Path of a collection's repo (caller frees). */
char *kr_store_path(const kr_store *s, const char *pub, const char *coll);
/* KR_ENOTFOUND when the repo or its main ref does not exist. */
int kr_store_head(kr_store *s, const char *pub, const char *coll, uint8_t oid[KR_OID_LEN]);
/* 1 if commit is the collection's head or one of its ancestors, else 0. */
int kr_store_reachable(kr_store *s, const char *pub, const char *coll, const uint8_t commit[KR_OID_LEN]);
/* 1 if commit a is b or descends from it. */
int kr_store_descends(kr_store *s, const char *pub, const char *coll, const uint8_t a[KR_OID_LEN],
    const uint8_t b[KR_OID_LEN]);

/* Resolves a full or abbreviated commit id (at least 4 hex digits). */
int kr_store_resolve(kr_store *s, const char *pub, const char *coll, const char *hex, uint8_t out[KR_OID_LEN]);
/* Names of the collections held for pub (sorted; free with kr_strv_free). */
int kr_store_collections(kr_store *s, const char *pub, char ***names, size_t *n);
/* Publishers (hex) that have a repos/ directory. */
int kr_store_publishers(kr_store *s, char ***names, size_t *n);

typedef struct {
	const char *path;       /* inside the collection, e.g. cases/x.md */
	const void *data;       /* NULL removes the path */
	size_t len;
} kr_store_file;

/*
 * Writes a signed commit on top of the current head that applies files,
 * without moving the ref (see kr_store_cas): its new objects (blobs, trees,
 * the commit) as one pack, no loose object. *changed is 0, and nothing is
 * written, when the tree would not change. The repo is created if needed.
 * pack (when not NULL) receives the pack for the announcement when the
 * one written holds every object the commit names that its parent does
 * not (none of them was in the repo already): that pack itself, or when
 * it is over 8 KiB, a thin one whose trees and changed files are deltas
 * against the parent's (whichever is smaller), if at most KR_INLINE_MAX
 * bytes; else it is left as it was.
 */
int kr_store_commit(kr_store *s, const char *pub, const char *coll,
    const kr_store_file *files, size_t nfiles, const char *message,
    const char *name, const char *email, const kr_key *key,
    uint8_t out[KR_OID_LEN], int *changed, kr_buf *pack);

/*
 * The pack ("pack-<hex>") the last kr_store_commit that changed something
 * wrote, "" otherwise: a publish refused after its commit drops it
 * (kr_store_drop_pack), as nothing will ever reach it.
 */
const char *kr_store_last_pack(const kr_store *s);

/* Moves refs/heads/main from old (NULL: no ref yet) to new, atomically. */
int kr_store_cas(kr_store *s, const char *pub, const char *coll,
    const uint8_t *old, const uint8_t newoid[KR_OID_LEN]);

/* The blob at path in commit; KR_ENOTFOUND if absent. */
int kr_store_read(kr_store *s, const char *pub, const char *coll,
    const uint8_t commit[KR_OID_LEN], const char *path, kr_buf *out);

/* The blob with this id (as reported by kr_store_diff). */
int kr_store_read_blob(kr_store *s, const char *pub, const char *coll,
    const uint8_t blob[KR_OID_LEN], kr_buf *out);

/*
 * The versions of one path, newest first: each commit (from main back to
 * the root) where the blob at path differs from the one before it. cb
 * gets the commit and the blob id (NULL when the path was absent).
 */
typedef int (*kr_store_path_cb)(const uint8_t commit[KR_OID_LEN], int64_t time, const uint8_t *blob, void *arg);
int kr_store_path_history(kr_store *s, const char *pub, const char *coll, const char *path,
    kr_store_path_cb cb, void *arg);

/*
 * Called per blob path that differs from old to new (blob NULL: removed).
 * Tree walks here are iterative and refuse (KR_EVERIFY, naming the tree) a
 * tree nested more than 3 directories deep, where no item lives, and a
 * diff of more than 100,000 changed files and directories.
 */
typedef int (*kr_store_change_cb)(const char *path, const uint8_t *blob, void *arg);
int kr_store_diff(kr_store *s, const char *pub, const char *coll,
    const uint8_t *old, const uint8_t newoid[KR_OID_LEN], kr_store_change_cb cb, void *arg);
/*
 * Walks the trees of every commit in (old, new], as the pack writer will:
 * KR_EVERIFY when one is nested too deep. kr_store_diff sees only the two
 * ends; this catches a deep tree hidden in an intermediate commit.
 */
int kr_store_check_trees(kr_store *s, const char *pub, const char *coll,
    const uint8_t *old, const uint8_t newoid[KR_OID_LEN]);

/*
 * Checks that new descends from old by a linear chain (old NULL: from the
 * root) in which every commit carries a valid SSHSIG by key. Errors name the
 * commit: KR_EVERIFY for "not a fast-forward", "unsigned", "signed by
 * another key"; KR_ENOTFOUND when an object is missing.
 */
int kr_store_verify_range(kr_store *s, const char *pub, const char *coll,
    const uint8_t *old, const uint8_t newoid[KR_OID_LEN], const uint8_t key[KR_FPR_LEN],
    size_t *ncommits);

typedef struct {
	uint8_t oid[KR_OID_LEN];
	int64_t time;
	const char *author;
	const char *message;
	int signed_ok;          /* SSHSIG verifies against the repo's publisher */
} kr_commit_info;
typedef int (*kr_store_log_cb)(const kr_commit_info *c, void *arg);
int kr_store_log(kr_store *s, const char *pub, const char *coll, size_t max,
    kr_store_log_cb cb, void *arg);
/* The same, from commit start (NULL: the main ref), which need not be referenced yet. */
int kr_store_log_at(kr_store *s, const char *pub, const char *coll, const uint8_t *start, size_t max,
    kr_store_log_cb cb, void *arg);

/*
 * Pack of the objects needed to go from the first usable have (an ancestor
 * of want) to want; thin (deltas may refer to objects of that have). No
 * delta search: an object is deltified only against the previous version of
 * the same path, so a first sync costs one pass over the objects.
 */
int kr_store_pack(kr_store *s, const char *pub, const char *coll,
    const uint8_t want[KR_OID_LEN], const uint8_t (*haves)[KR_OID_LEN], size_t nhaves,
    kr_buf *out);
/*
 * What a pack of want for these haves would be built from: the first have
 * that is want or its ancestor (*has_base 1, base set), moved back along
 * want's line to a shared bucket boundary when it is far behind (a pack
 * many subscribers share; see s_share_base), else the whole history
 * (*has_base 0). kr_store_pack(want, &base, *has_base) builds the
 * same pack, so (publisher, collection, want, base) names a pack by what
 * it contains: haves this node does not hold change nothing. KR_ENOTFOUND
 * when want is not the collection's head or behind it (only verified
 * history is served).
 */
int kr_store_pack_base(kr_store *s, const char *pub, const char *coll, const uint8_t want[KR_OID_LEN],
    const uint8_t (*haves)[KR_OID_LEN], size_t nhaves, uint8_t base[KR_OID_LEN], int *has_base);
/*
 * Upper bound of the pack bytes for the objects new in (old, new]: a head's
 * signed size is the previous size plus this, so any honest pack of the
 * head from any have fits in it.
 */
int kr_store_pack_bound(kr_store *s, const char *pub, const char *coll,
    const uint8_t *old, const uint8_t newoid[KR_OID_LEN], uint64_t *bound);

/*
 * Streams a received pack into the collection's object database (nothing
 * is referenced yet). A received pack only ever adds a pack file: the
 * indexer completes a thin pack inside it and writes no loose objects.
 * Each entry is read as it arrives: a pack whose entries inflate to, or
 * whose objects make, more than cap bytes in all (the collection's signed
 * size, at most the node's cap), or that holds an object twice or a delta
 * before its base, is refused by kr_packin_append (or, for a pack over
 * 256 KiB read on its own thread, by kr_packin_commit), before anything
 * would allocate what it claims (KR_EVERIFY; a damaged or cut pack
 * KR_EPROTO).
 */
typedef struct kr_packin kr_packin;
int kr_packin_new(kr_packin **out, kr_store *s, const char *pub, const char *coll, uint64_t cap);
int kr_packin_append(kr_packin *in, const void *data, size_t len);
int kr_packin_commit(kr_packin *in);
/*
 * Calls cb(arg, objects, total, bytes) as a pack over 256 KiB comes in
 * (objects of total taken in, 0 while the count is unknown; pack bytes),
 * for a person watching a long fetch.
 */
void kr_packin_on_progress(kr_packin *in, void (*cb)(void *arg, uint64_t objects, uint64_t total, uint64_t bytes),
    void *arg);
/* After a commit: the name ("pack-<hex>") of the pack file it added, NULL if that file was there before. */
const char *kr_packin_written(const kr_packin *in);
void kr_packin_destroy(kr_packin **inp);

/*
 * Removes pack name (added by an intake whose update was then rejected)
 * unless it holds an object reachable from refs/heads/main that no other
 * pack or loose file holds: a verified head never loses an object. 1 when
 * removed (*bytes: its size), 0 when kept, or an error.
 */
int kr_store_drop_pack(kr_store *s, const char *pub, const char *coll, const char *name, uint64_t *bytes);

/*
 * Reads every object reachable from refs/heads/main (commits, trees,
 * blobs), inflating and re-hashing each, and calls cb for each one that is
 * missing, unreadable or not what its id says (what: "blob cases/x.md").
 * Returns the number of damaged objects, or an error; *objects counts
 * the objects visited.
 */
typedef void (*kr_store_damage_cb)(const uint8_t oid[KR_OID_LEN], const char *what, const char *why, void *arg);
int kr_store_verify_objects(kr_store *s, const char *pub, const char *coll, kr_store_damage_cb cb,
    void *arg, size_t *objects);

/*
 * Moves the pack files and loose objects holding the given (damaged)
 * objects into <repo>/damaged-<time>/ and removes refs/heads/main (its last
 * value is kept there, in a file named main): the collection is then not
 * held, and the next sync fetches it again whole. *where (caller frees)
 * is that directory.
 */
int kr_store_set_aside(kr_store *s, const char *pub, const char *coll, const uint8_t (*oids)[KR_OID_LEN],
    size_t n, char **where);

/*
 * Housekeeping in the spirit of `git gc --auto`: once a collection holds
 * more than a few packs besides its layers, or many loose objects (each
 * fetch and each publish adds a pack), the newest part of the history is
 * written as one new layer (as git repack --geometric; the layers are
 * listed in the repo's kairan-layers file) and the packs and loose objects
 * it replaces are removed. Object lookups stay fast, and a long history
 * is not packed again whole each time. Nothing writes loose
 * objects any more (kr_store_commit writes a pack), so they (left by an
 * older kairan; a scan of 256 directories) are counted only when
 * count_loose is set; the next consolidation removes them anyway. *done
 * tells whether it ran.
 */
int kr_store_maintain(kr_store *s, const char *pub, const char *coll, int count_loose, int *done);

/* Removes stale temporary files from interrupted pack writes. */
void kr_store_tidy(kr_store *s, const char *pub, const char *coll);

/*
 * refs/kairan/manifest: the publisher's latest Signed(Manifest) bytes as a
 * blob in each of its collections, so that `git clone --mirror` carries
 * what `kairan audit` needs. Set replaces it (and unlinks the loose blob
 * it replaced); get reads it (KR_ENOTFOUND when there is none).
 */
int kr_store_manifest_ref_set(kr_store *s, const char *pub, const char *coll, const void *bytes, size_t len);
int kr_store_manifest_ref_get(kr_store *s, const char *pub, const char *coll, kr_buf *out);
/*
 * A store over one bare repository at gitdir (a plain mirror anywhere),
 * which every other function then reaches as pub/coll; nothing is created.
 */
int kr_store_open_mirror(kr_store **out, const char *gitdir, const char *pub, const char *coll);

#endif
