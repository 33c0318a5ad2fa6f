/*
 * node/serve.h - the daemon (`kairan serve`) and the CLI's poke at it
 */
#ifndef KR_SERVE_H
#define KR_SERVE_H

#include "home.h"

/*
 * Runs until SIGINT/SIGTERM (0), or until a key rotation is due on the home
 * (KR_SERVE_RESTART: everything is stopped and closed; opening the home
 * again makes the switch, node/keyrot.h, so the caller executes the same
 * command again). Endpoints NULL take the config's.
 */
#define KR_SERVE_RESTART 1
int kr_serve(kr_home *h, const char *listen, const char *announce);
/* Executes this process's own command line again (same PID); returns only on failure, logged. */
void kr_serve_reexec(void);

/*
 * Tells a running daemon of this home to act now ("announce": our manifest
 * changed; "reload": peers changed; "federation": a new membership version;
 * "keyrot": see whether a key rotation is due). KR_ENOTFOUND when no daemon answers
 * within timeout_ms; that is not an error for the caller.
 */
int kr_control_poke(const kr_home *h, const char *cmd, int timeout_ms);

#endif
