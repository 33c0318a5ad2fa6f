/*
 * node/serve.h - the daemon (`kairan serve`); the CLI's poke at it is node/control.h
 */
#ifndef KR_SERVE_H
#define KR_SERVE_H

#include "control.h"   /* kr_control_poke, for the commands that poke a running node */
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

#endif
