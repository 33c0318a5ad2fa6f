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
#include <stdint.h>

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
 * The most a call carries, and the most files a publish handed to the node
 * may name (a larger publish is made by the command itself).
 */
#define KR_CONTROL_PAYLOAD_MAX (16 << 20)
#define KR_CONTROL_PUB_FILES 1000

/*
 * What a node does with a command: 0 when cmd is known (a call: done), -1
 * otherwise (a call: failed, reply saying why). payload is NULL for a
 * poke, a call's bytes (len of them) else; reply takes what a call's
 * answer carries.
 */
typedef int (*kr_control_handler)(const char *cmd, const void *payload, size_t len, kr_buf *reply, void *arg);

/*
 * What a handler returns to answer a call later: the client is not read
 * from again and waits until kr_control_answer names the call's ticket
 * (kr_control_ticket while the handler runs) or kr_control_close closes it.
 * Pokes are always answered at once.
 */
#define KR_CONTROL_LATER 1
uint64_t kr_control_ticket(const kr_control *c);
/* Answers a call left for later: rc 0 "ok", else "error", then reply (may be NULL). */
void kr_control_answer(kr_control *c, uint64_t ticket, int rc, const kr_buf *reply);

/*
 * Accepts waiting clients and reads what the polled descriptors have; for
 * each complete poke or call from an admitted client calls handle, and
 * answers a poke "ok" (or "unknown"), a call "ok" or "error" and the
 * reply. Never blocks reading; an answer waits for a slow reader at most
 * a second at a time.
 */
void kr_control_serve(kr_control *c, kr_control_handler handle, void *arg);

/*
 * Tells a running daemon of this home to act now ("announce": our manifest
 * changed; "reload": peers changed; "federation": a new membership version;
 * "keyrot": see whether a key rotation is due; "ping": only whether one
 * runs). Only home->home is used. KR_ENOTFOUND when no daemon runs (not
 * an error for the caller); KR_ETIMEOUT when one took the poke and did not
 * answer within timeout_ms.
 */
int kr_control_poke(const kr_home *h, const char *cmd, int timeout_ms);
/*
 * A call: cmd with len bytes of payload, answered within timeout_ms.
 * 0 with what the node replied in *answer; KR_ENOTFOUND when no node runs
 * or it went away before it took the payload (it did nothing);
 * KR_ETIMEOUT when it took it and gave no answer in time or went away
 * (whether it acted is not known, the message says so); KR_ERROR when it
 * refused, its reason in *answer; KR_EUSAGE when it does not know cmd.
 */
int kr_control_call(const kr_home *h, const char *cmd, const void *payload, size_t len, int timeout_ms,
    kr_buf *answer);

/*
 * A publish handed to the running node (`kairan publish` while `kairan
 * serve` runs): the files and commit message as kr_replica_publish takes
 * them, length-prefixed. Decoded, the files' data point into the payload.
 */
typedef struct {
	kr_pubfile *files;
	size_t n;
	char *message;
	char *locale;                   /* the command's messages' locale (LC_MESSAGES), or NULL */
} kr_control_pub;

/* locale: the command's LC_MESSAGES (setlocale(LC_MESSAGES, NULL)), so the node answers in its language; NULL: none */
void kr_control_pub_encode(kr_buf *out, const kr_pubfile *files, size_t n, const char *message, const char *locale);
/* 0, or KR_EPROTO when payload is not a whole, well-formed publish. */
int kr_control_pub_decode(kr_control_pub *out, const void *payload, size_t len);
void kr_control_pub_clear(kr_control_pub *p);

#endif
