/*
 * node/control.h - the CLI's pokes at a running node: <home>/control.sock,
 * a unix stream socket admitting this node's own user only
 *
 * A poke is one line ("announce\n") answered by one line ("ok\n") once the
 * daemon has acted on it. The daemon admits a client only when the kernel
 * says (SO_PEERCRED) it runs as the daemon's own user; anyone else is
 * refused and logged, and so is a failure to learn who it is. The client
 * checks the same of the server before it believes an answer.
 */
#ifndef KR_CONTROL_H
#define KR_CONTROL_H

#include <stddef.h>

#include "home.h"

typedef struct kr_control kr_control;

/*
 * Binds home's control socket (mode 0600), replacing a stale socket file
 * that no process answers on. KR_EEXISTS when a node answers on it,
 * KR_EIO otherwise.
 */
int kr_control_listen(kr_control **out, const char *home);
/* Closes the socket and its clients and removes the socket file. NULL-safe. */
void kr_control_close(kr_control **cp);

/*
 * The descriptors to poll for reading (the listening socket, then clients
 * that have not sent their line yet), at most max; returns how many.
 */
size_t kr_control_fds(const kr_control *c, int *fds, size_t max);

/*
 * Accepts waiting clients and reads what the polled descriptors have; for
 * each complete line from an admitted client calls handle(cmd, arg), which
 * returns 0 when cmd is known, and answers "ok" (or "unknown"). Never
 * blocks.
 */
void kr_control_serve(kr_control *c, int (*handle)(const char *cmd, void *arg), void *arg);

/*
 * Tells a running daemon of this home to act now ("announce": our manifest
 * changed; "reload": peers changed; "federation": a new membership version;
 * "keyrot": see whether a key rotation is due; "ping": only whether one
 * runs). Only home->home is used. KR_ENOTFOUND when no daemon answers
 * within timeout_ms; that is not an error for the caller.
 */
int kr_control_poke(const kr_home *h, const char *cmd, int timeout_ms);

#endif
