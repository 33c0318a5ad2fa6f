/*
 * node/transport.h - CURVE on every socket, who may connect (ZAP), whom we
 * connect to (server keys: given, from the membership document, pinned,
 * introduced)
 *
 * Every zmq socket of kairan is set up here (DESIGN §6 Transport):
 *
 *   server sockets (ROUTER, PUB)  kr_transport_serve()
 *   client sockets (DEALER, SUB)  kr_transport_connect()
 *
 * (The CLI's control socket is not a zmq socket: node/control.h.)
 *
 * A client must know the server's X25519 key before it connects. In order:
 *   1. an endpoint that carries it, tcp://host:7420#<z85 key> (`kairan id`
 *      prints it; `follow` and `join` take it, and it is then pinned);
 *   2. the membership document: a member listing that endpoint;
 *   3. a pin in <home>/transport/pins;
 *   4. first contact: an introduction (below), then pinned.
 *
 * Introduction. CURVE cannot be spoken without the server's key, so a node
 * answers a UDP datagram on its listen port number (UDP and TCP ports are
 * separate: nothing more to configure) with a statement signed by its
 * Ed25519 node key: "kairan/1 transport\0" || node key || transport key ||
 * issued. The client checks the signature and pins (transport key, node
 * key). When the node key is a publisher this node follows through that
 * endpoint, the key is authenticated by that fingerprint ("publisher");
 * otherwise (a hub relaying others) it is trust on first use ("tofu"), as
 * ssh does; the content is verified end to end either way. Later, a
 * different key is accepted only when the pinned node key signed it with a
 * newer issued time (a rotation vouched for by the same identity); any
 * other change is refused with a message saying how to accept it. A
 * request is 256 bytes and the answer 144, so the port cannot amplify a
 * spoofed flood; answers are rate-limited too.
 *
 * Admission (the ZAP handler, RFC 27, on inproc://zeromq.zap.01 in the
 * daemon's context, bound before any server socket; every server socket
 * has a non-empty ZMQ_ZAP_DOMAIN and ZMQ_ZAP_ENFORCE_DOMAIN=1, so a missing
 * handler refuses rather than admits):
 *   - every domain: this node's own key; in a federation the current
 *     members' transport keys (revoked or expired members excluded) plus
 *     <home>/transport/admitted (`kairan admit ID.json`), minus keys whose
 *     node key the federation revoked; outside a federation any key unless
 *     `transport.admit = listed`, then only the admitted ones.
 * Refusals are logged with address and key, at most once a minute per
 * address. `transport = plain` (tests and tools only) turns all of it off;
 * nothing ever falls back to plain by itself.
 *
 * Threads: the identity (kr_transport_init) is process-wide and set before
 * threads start; connect/pin functions may be called from any thread (the
 * pins file is rewritten under a lock). The handler runs its own thread.
 */
#ifndef KR_TRANSPORT_H
#define KR_TRANSPORT_H

#include <stdatomic.h>
#include <stdint.h>

#include "../sharing/sign.h"

/*
 * Sets this process's transport identity: home (pins, admitted, the
 * membership document live under it), its X25519 key, plain or CURVE and
 * whether outside a federation only listed clients are admitted. Called by
 * kr_home_open; a second call for the same home and key changes nothing
 * (a rotated key, node/keyrot.c, replaces the identity).
 */
void kr_transport_init(const char *home, const kr_key *tkey, int plain, int admit_listed);
/* Test tools: a fresh key (or $KAIRAN_TOOL_HOME's), no home; plain when $KAIRAN_TRANSPORT is "plain". */
void kr_transport_init_tool(void);
int kr_transport_plain(void);
/* Introductions stop waiting once *stop is non-zero (a daemon stopping); stop must outlive them. */
void kr_transport_cancel_on(const atomic_int *stop);

/* This node's public key in Z85 (41 bytes with the NUL). */
void kr_transport_public_z85(char out[41]);

/*
 * Splits "ENDPOINT#KEY" (KEY: 40 Z85 or 64 hex characters). *bare is the
 * endpoint alone (caller frees); *has_key says whether key was filled.
 * KR_EUSAGE for a malformed key.
 */
int kr_transport_split(const char *endpoint, char **bare, uint8_t key[32], int *has_key);

enum { KR_TRANSPORT_NO_INTRO = 1 };

/*
 * Makes sock a CURVE client of endpoint's server (the key as in the file
 * comment; key_of, when not NULL, names the endpoint whose key to use, e.g.
 * the request endpoint of a node whose announce endpoint this is) and
 * connects it to the bare endpoint. An introduction may wait up to
 * timeout_ms (not with KR_TRANSPORT_NO_INTRO). Errors: KR_ENOTFOUND (no
 * key could be learned), KR_EVERIFY (a changed key, with what to do),
 * KR_EUSAGE, KR_EIO.
 */
int kr_transport_connect(void *sock, const char *endpoint, const char *key_of, int flags, int timeout_ms);

/*
 * After a request to endpoint timed out: asks for its introduction and, if
 * it now presents another key than the pinned one, returns KR_EVERIFY
 * with the refusal and how to accept it (or re-pins a rotation its pinned
 * node key signed, returning 1). 0 when nothing is wrong with the key.
 */
int kr_transport_check(const char *endpoint, int timeout_ms);

/* Pins endpoint's server key as given by the user ("EP#KEY"); 0 without a key. */
int kr_transport_pin_given(const char *endpoint);
/* Removes endpoint's pin (the next contact learns the key again). */
int kr_transport_unpin(const char *endpoint);

/*
 * Makes sock a CURVE server with this node's key and the given ZAP domain
 * (non-empty), ZAP enforced. Call after kr_guard_start. Logs and returns
 * KR_EIO if libzmq refuses an option (a socket is never left open).
 */
int kr_transport_serve(void *sock, const char *domain);
/* "CURVE" or "NULL": the mechanism sock was set up with (ZMQ_MECHANISM). */
const char *kr_transport_mechanism(void *sock);
/* The ZAP domain of this node's public sockets: the federation id, or "kairan". */
void kr_transport_domain(char out[65]);

/*
 * The guard: the ZAP handler (bound on inproc://zeromq.zap.01 in zctx by
 * kr_guard_start, before any server socket exists) and the introduction
 * port, answered by one thread started by kr_guard_run once the listen
 * endpoint is bound. node_key signs the introduction. Both are no-ops in
 * plain mode.
 */
typedef struct kr_guard kr_guard;
int kr_guard_start(kr_guard **out, void *zctx);
int kr_guard_run(kr_guard *g, const kr_key *node_key, const char *listen_actual);
void kr_guard_stop(kr_guard **gp);

/*
 * <home>/transport/admitted: extra client keys, from ID cards. add replaces
 * an entry with the same transport key; remove by transport key or node
 * fingerprint (hex). list prints one line each.
 */
int kr_admit_add(const char *home, const uint8_t tkey[32], const uint8_t node[32], const char *lg_code,
    const char *name);
int kr_admit_remove(const char *home, const char *key_hex);
int kr_admit_list(const char *home, void (*each)(const char *line, void *arg), void *arg);

#endif
