/*
 * node/keyrot.h - a member rotating its own signing key (DESIGN §6)
 *
 * `kairan key rotate` leaves the new keys beside the current ones:
 *   keys/rotate.ed25519, keys/rotate.x25519   the new signing and transport keys
 *   keys/rotate.now                           switch without the board (--now)
 * The node goes on signing with keys/node.ed25519 until the membership
 * chain it holds rotates that key to the new one (or rotate.now exists).
 * Then, when the home is opened and no daemon runs on it, the switch:
 *   1. repos/OLD/<c>.git is linked into repos/NEW/<c>.git (objects shared,
 *      each collection renamed into place whole): no history is copied;
 *   2. manifests/NEW: the old key's last manifest re-signed by the new key,
 *      same seq, so the next manifest is the old seq + 1 (never 1 again);
 *   3. keys/retired/OLD.{ed25519,x25519}: the old keys, kept, not used;
 *   4. keys/rotate.* renamed over keys/node.* (the commit point).
 * Every step is skipped when already done, so a crash anywhere is finished
 * by the next open; a missing or damaged rotate.ed25519 switches nothing.
 * After the switch kr_keyrot_tidy drops the old key's items, heads and
 * manifest row from the state once (they are the new key's now: the old
 * key is no publisher of its own) and marks keys/retired/OLD.settled.
 */
#ifndef KR_KEYROT_H
#define KR_KEYROT_H

#include "home.h"

/*
 * Switches h (config and current keys loaded, transport set, store and
 * state not open) to the pending key when its time has come, reloading
 * h->key, h->tkey, h->fpr and the transport identity. 1: switched; 0: nothing to do (or not yet: the
 * reason is in kr_keyrot_pending); < 0: an error, the switch unfinished
 * (the next open goes on with it).
 */
int kr_keyrot_settle(kr_home *h);
/* Once per retired key: its items leave the index (state open, before reconcile). */
int kr_keyrot_tidy(kr_home *h);

typedef struct {
	int have;                   /* keys/rotate.ed25519 exists */
	int damaged;                /* and cannot be read (message in why) */
	int now;                    /* keys/rotate.now */
	int applied;                /* the chain rotates the current key to it */
	int daemon;                 /* a daemon runs on the home: it switches when restarted */
	char fpr[KR_FPR_HEX + 1];   /* the pending key */
	char *why;                  /* what is pending, in words (caller frees) */
} kr_keyrot_state;

/*
 * What is pending on an open home (h->key: the current key). A daemon
 * running on the home is told ("keyrot" on its control socket): when the
 * switch is due it restarts itself to make it (node/serve.c).
 */
void kr_keyrot_pending(kr_home *h, kr_keyrot_state *st);
/*
 * 1 when the switch is due on h (the next key readable, and the chain
 * rotates the current key to it, or --now), its fingerprint in fpr; for the
 * daemon itself, which must not poke its own control socket.
 */
int kr_keyrot_due(kr_home *h, char fpr[KR_FPR_HEX + 1]);
void kr_keyrot_state_clear(kr_keyrot_state *st);

#endif
