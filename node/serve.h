/*
 * node/serve.h - the daemon (`kairan serve`) and the CLI's poke at it
 */
#ifndef KR_SERVE_H
#define KR_SERVE_H

#include "home.h"

/* Runs until SIGINT/SIGTERM; endpoints NULL take the config's. */
int kr_serve(kr_home *h, const char *listen, const char *announce);

/*
 * Tells a running daemon of this home to act now ("announce": our manifest
 * changed; "reload": peers changed). KR_ENOTFOUND when no daemon answers
 * within timeout_ms; that is not an error for the caller.
 */
int kr_control_poke(const kr_home *h, const char *cmd, int timeout_ms);

#endif
