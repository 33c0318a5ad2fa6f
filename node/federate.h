/*
 * node/federate.h - this node's place in its federation, as the peer
 * code sees it: catching the membership chain up from a peer, which
 * publishers to ask a joined endpoint for, and a hub's follows
 */
#ifndef KR_FEDERATE_H
#define KR_FEDERATE_H

#include "../sharing/fedstore.h"
#include "home.h"
#include "peer.h"

/*
 * Asks the peer on c for the versions after the one held, and installs
 * them all or none (kr_fedstore_install_chain). A node outside any
 * federation, or a peer that is not in this node's federation, is not an
 * error (0, nothing installed). A chain the rule refuses, or equivocation,
 * is KR_EVERIFY with the reason; it is also recorded in quarantine against
 * the peer. *installed counts new versions; when some arrived a hub's
 * follows are brought up to date.
 */
int kr_fed_catch_up(kr_home *h, kr_conn *c, size_t *installed);

/*
 * The publishers to ask endpoint for: pubs, plus, when this node joined its
 * federation through endpoint, every current member's key (but this
 * node's) whose lg_code is in one of the prefectures asked for. *out is
 * a new vector (caller frees with kr_strv_free); *joined says whether
 * endpoint is one this node joined through.
 */
int kr_fed_wanted(kr_home *h, const char *endpoint, char *const *pubs, size_t npubs, char ***out,
    size_t *nout, int *joined);

/*
 * A hub replicates every member from the endpoints in the document: when
 * this node is a current member with the hub role, each other member's
 * first endpoint becomes a peer joined through (asked for every member's
 * publications, trusted through the document, never pinned). The peer
 * rows are written in one transaction, the follows file rewritten.
 * *added counts new endpoints. Not a hub: 0, nothing done.
 */
int kr_fed_hub_follow(kr_home *h, const kr_fedstore *f, size_t *added);

/*
 * After a new membership version was installed in f: a hub follows new
 * members, and the items a compromised key published after its `since`
 * leave the view (kr_replica_revocations). Problems are logged, and
 * returned (the version stays installed).
 */
int kr_fed_installed(kr_home *h, const kr_fedstore *f);

/*
 * What `status` and `peers` say about the federation: text is one line,
 * "federation NAME version N, current until DATE (id …)" or "…, stale since
 * DATE: read-only until the board renews it"; json an object (or "null"
 * outside any federation). Either may be NULL.
 */
int kr_fed_describe(kr_home *h, kr_buf *text, kr_buf *json);

/*
 * 1 if this node joined its federation through endpoint (kairan join), else
 * 0; prefs and kinds (either may be NULL) receive the filter asked for,
 * comma-separated (nothing added: all).
 */
int kr_fed_joined_through(kr_home *h, const char *endpoint, kr_buf *prefs, kr_buf *kinds);

/*
 * The collections to hold of what endpoint serves: those of the kinds this
 * node joined through it for (join --kind case → "cases"). *colls is NULL
 * when every collection is held (no --kind, or not joined through
 * endpoint); else a vector the caller frees with kr_strv_free(*colls, *n).
 */
int kr_fed_collections(kr_home *h, const char *endpoint, char ***colls, size_t *n);

/* The followed publishers endpoint never served (last sync), space-separated; caller frees (NULL: none). */
char *kr_fed_unserved(kr_home *h, const char *endpoint);

#endif
