/*
 * node/pubmaint.h - what a publish handed to the running node leaves to
 * do, done after its subscribers fetched
 *
 * `kairan publish` hands its commit to a running node (node/control.h),
 * which announces it at once and, once the subscribers' fetches are served
 * (node/serve.c, s_copies_write), writes the copy of the new manifest
 * under refs/kairan/manifest before it answers. The consolidation of the
 * collections it moved (kr_store_maintain: a look at objects/pack, every
 * 17th publish a repack) would compete with the subscribers fetching the
 * publish and, a repack of a large collection taking seconds, hold up the
 * serve loop: a thread of its own, on its own store, does it
 * KR_PUBMAINT_DELAY_MS after the last publish handed over (at most
 * KR_PUBMAINT_WAIT_MS after the first one waiting), at a lower priority;
 * publishes in between are consolidated together. A pack written
 * meanwhile, its ref not moved yet, is kept (kr_store_maintain).
 */
#ifndef KR_PUBMAINT_H
#define KR_PUBMAINT_H

#include "home.h"

#define KR_PUBMAINT_DELAY_MS 500
#define KR_PUBMAINT_WAIT_MS 2000        /* publishes that keep coming wait no longer */

typedef struct kr_pubmaint kr_pubmaint;

/* Starts the thread (it opens its store on first use). KR_ERROR when it cannot. */
int kr_pubmaint_start(kr_pubmaint **out, const kr_home *h);
/* Takes the collections r's publish left to consolidate (r->maint) for the thread. */
void kr_pubmaint_take(kr_pubmaint *m, kr_replica *r);
/* Does what is waiting, then stops the thread. NULL-safe. */
void kr_pubmaint_stop(kr_pubmaint **mp);

#endif
