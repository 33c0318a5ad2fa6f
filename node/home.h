/*
 * node/home.h - a node's data directory: config, key, state, store
 *
 * Layout (DESIGN §2):
 *   config          documented key = value text
 *   keys/node.ed25519   signing key
 *   keys/node.x25519    transport key (CURVE); made on first open if missing
 *   federation/         the membership chain, when this node is in one
 *   state.db        SQLite, WAL
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
/* Opens everything and reconciles refs with state. */
int kr_home_open(kr_home *h, const char *path);
void kr_home_close(kr_home *h);
int kr_config_load(kr_config *c, const char *path);
void kr_config_clear(kr_config *c);
/* ipc endpoint of the daemon's control socket (caller frees). */
char *kr_home_control(const kr_home *h);

#endif
