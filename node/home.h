/*
 * node/home.h - a node's data directory: config, key, state, store
 *
 * Layout (DESIGN §2):
 *   config          documented key = value text
 *   keys/node.ed25519   signing key
 *   keys/node.x25519    transport key (CURVE); made on first open if missing
 *   federation/         the membership chain, when this node is in one
 *   state.db        SQLite, WAL (rebuildable: kairan repair)
 *   follows         peers and pinned publishers, kept with state.db
 *   manifests/<publisher>  last signed manifest of each (ours before it is recorded)
 *   repos/<publisher>/<collection>.git
 */
#ifndef KR_HOME_H
#define KR_HOME_H

#include "../policies/item.h"
#include "../policies/policy.h"
#include "../sharing/replica.h"

typedef struct {
	char *name, *lg_code;
	char *listen, *announce;
	char *web;                  /* http://HOST:PORT of the web pages, or "off" */
	char *web_retrieval_keys;   /* Bearer keys for POST /retrieval (Dify), space-separated */
	unsigned web_threads;       /* web server threads (0: its default) */
	unsigned web_timeout;       /* idle web connection timeout, seconds (0: default) */
	unsigned web_max_connections, web_per_ip; /* web connection limits (0: defaults) */
	uint64_t max_collection_bytes;
	size_t max_item_bytes;
	int64_t manifest_ttl;       /* seconds */
	int64_t resign_before;      /* re-sign when fewer seconds than this remain */
	int beacon_ms;
	int timeout_ms;             /* one request to a peer */
	size_t pack_cache_bytes;
	int serve_workers;          /* threads answering searches and building packs */
	int serve_queue;            /* requests waiting for them, all clients together */
	int serve_credit;           /* requests waiting, per client connection */
	int transport_plain;        /* transport = plain: no CURVE (tests and tools only) */
	int admit_listed;           /* transport.admit = listed: outside a federation, only admitted keys */
	char *pii_allow_phones, *pii_allow_addresses;
	kr_pii_allow pii;       /* points into the two above */
	kr_policy_rules rules;  /* policies/default.policy + policy.* lines */
} kr_config;

typedef struct {
	char *home;
	kr_config cfg;
	kr_key *key;
	kr_key *tkey;               /* X25519 transport key */
	kr_store *store;
	kr_state *state;
	kr_replica rep;
	char fpr[KR_FPR_HEX + 1];
} kr_home;

/* --home, else $KAIRAN_HOME, else ~/.local/share/kairan (caller frees). */
char *kr_home_path(const char *opt);
/* Creates a new home; refuses (KR_EEXISTS) if one exists at path. */
int kr_home_init(const char *path, const char *name, const char *lg_code);
/*
 * Where to build a new home for path (caller frees; NULL and KR_EEXISTS if
 * a home or anything else is there): beside it, or inside it when path is
 * an empty directory (*in_place). kr_home_staging_commit puts it in place:
 * one rename, or each entry moved in with config last.
 */
char *kr_home_staging(const char *path, const char *what, int *in_place);
int kr_home_staging_commit(const char *tmp, const char *path, int in_place);
/*
 * Removes path and everything under it, links not followed, as far as it
 * can (no error): for directories of our own that are given up, such as a
 * half-made home, backup or restore, or a repository copy to make again.
 */
void kr_home_remove_tree(const char *path);
/* The same with the given keys (kairan key import; tkey NULL: a new one). */
int kr_home_init_keys(const char *path, const char *name, const char *lg_code, const kr_key *key,
    const kr_key *tkey);
/*
 * Opens everything and reconciles refs with state. A state.db that had to
 * be created anew (lost) is filled from the follows file, the saved
 * manifests and the repositories before anything else reads it.
 */
int kr_home_open(kr_home *h, const char *path);
/*
 * The same for a command that only writes this node's own collections
 * (publish, withdraw): of the repositories only this node's own are
 * tidied and reconciled with state; mirrored ones wait for the next
 * kr_home_open (the daemon's start, any other command). A lost state.db
 * or a requested reindex is still rebuilt whole.
 */
int kr_home_open_own(kr_home *h, const char *path);
/*
 * Opens only who the node is: config and keys (a due key rotation is
 * made, as kr_home_open makes it); no store, no state, nothing reconciled
 * (h->store and h->state stay NULL). For commands that only print the
 * identity (kairan id), so they start as fast as git's plumbing.
 */
int kr_home_open_identity(kr_home *h, const char *path);
/*
 * Opens only the config (h->cfg; no keys, store or state): for a command
 * that checks its input here and hands the rest to the running node
 * (publish), opening the rest itself when no node runs.
 */
int kr_home_open_config(kr_home *h, const char *path);

/* Rewrites <home>/follows from state (inside the caller's transaction). */
int kr_home_save_follows(kr_home *h);

typedef struct {
	size_t follows, manifests, collections; /* restored into the new state.db */
	size_t reset;                   /* mirrored collections whose damaged packs went aside */
	size_t damaged_left;            /* own collections with damage repair cannot fetch back */
	size_t objects;                 /* objects read and re-hashed */
	char *aside;                    /* where the old state.db went (caller frees; NULL: there was none) */
} kr_repair_report;

/*
 * kairan repair: (1) reads every object of every collection and sets the
 * damaged packs of mirrored collections aside (kr_replica_set_aside_damaged);
 * (2) builds a new state.db next to the old one from the follows file (or,
 * without one, the old state.db if it still lists them), the saved
 * manifests and the repositories; (3) moves the old state.db to
 * state.db.damaged-<time> and the new one into place by a rename. All or
 * nothing for state.db: any failure before the rename leaves it as it was.
 * The daemon must not be running. problem() gets each finding.
 */
int kr_home_repair(const char *path, void (*problem)(const char *msg, void *arg), void *arg,
    kr_repair_report *rep);
void kr_home_close(kr_home *h);
/*
 * Reads a config: defaults, then path. Refuses (KR_ERROR, "PATH:LINE: …")
 * an unknown or duplicate setting, a value that does not parse, an
 * endpoint or web address that does not parse; the first problem is the
 * message, with how many more there are.
 */
int kr_config_load(kr_config *c, const char *path);
/*
 * The same checks, reporting every problem through problem() (one
 * "PATH:LINE: …" each); returns their count, or an error reading path.
 */
int kr_config_check(const char *path, void (*problem)(const char *msg, void *arg), void *arg);
/* 0 if ep is an endpoint serve can bind (tcp://HOST:PORT, ipc://PATH), else KR_EUSAGE with why. */
int kr_config_endpoint_check(const char *ep);
void kr_config_clear(kr_config *c);

#endif
