/*
 * node/zmqdl.h - libzmq, loaded when a command first needs it
 *
 * Include this instead of <zmq.h> (node/serve.c, node/peer.c,
 * node/transport.c): the calls read as before and keep the header's
 * types, but each goes through a pointer that kr_zmq() fills by dlopen of
 * KR_ZMQ_SONAME on first use. libzmq and what it needs (libstdc++,
 * libsodium, libpgm, libnorm, the Kerberos libraries: 14 of kairan's 33
 * shared libraries, half the symbols ld.so binds at start-up) are then
 * loaded only by commands that open a socket (serve, sync, publish's poke
 * of the running node, remote search ...), not by `kairan id`, `check`,
 * `show`, `log`, a local `search` (issue 13, start-up).
 *
 * Z85 (zmq_z85_encode/decode, which every home open uses for the
 * transport key) is done here, not by libzmq, so naming a key loads
 * nothing. A libzmq that cannot be loaded is fatal at the first call,
 * with its name and the Debian package.
 */
#ifndef KR_ZMQDL_H
#define KR_ZMQDL_H

#include <stddef.h>
#include <stdint.h>

#include <zmq.h>

#define KR_ZMQ_FUNCTIONS(X) X(zmq_bind) X(zmq_close) X(zmq_connect) X(zmq_ctx_new) X(zmq_ctx_set) \
	X(zmq_ctx_term) X(zmq_curve_keypair) X(zmq_errno) X(zmq_getsockopt) X(zmq_msg_close) X(zmq_msg_copy) \
	X(zmq_msg_data) X(zmq_msg_init) X(zmq_msg_init_data) X(zmq_msg_more) X(zmq_msg_move) X(zmq_msg_recv) \
	X(zmq_msg_send) X(zmq_msg_size) X(zmq_poll) X(zmq_recv) X(zmq_send) X(zmq_setsockopt) X(zmq_socket) \
	X(zmq_strerror)

typedef struct {
#define KR_ZMQ_MEMBER(f) __typeof__(f) *f;
	KR_ZMQ_FUNCTIONS(KR_ZMQ_MEMBER)
#undef KR_ZMQ_MEMBER
} kr_zmq_api;

/* libzmq's functions, loaded on the first call (any thread); exits with a message if it cannot be. */
const kr_zmq_api *kr_zmq(void);

/* Z85 (ZeroMQ RFC 32), as libzmq's: NULL when size is not a multiple of 4 / the text not Z85. */
char *kr_z85_encode(char *dest, const uint8_t *data, size_t size);
uint8_t *kr_z85_decode(uint8_t *dest, const char *string);

#ifndef KR_ZMQDL_SELF   /* zmqdl.c names the real functions */
#define zmq_bind (kr_zmq()->zmq_bind)
#define zmq_close (kr_zmq()->zmq_close)
#define zmq_connect (kr_zmq()->zmq_connect)
#define zmq_ctx_new (kr_zmq()->zmq_ctx_new)
#define zmq_ctx_set (kr_zmq()->zmq_ctx_set)
#define zmq_ctx_term (kr_zmq()->zmq_ctx_term)
#define zmq_curve_keypair (kr_zmq()->zmq_curve_keypair)
#define zmq_errno (kr_zmq()->zmq_errno)
#define zmq_getsockopt (kr_zmq()->zmq_getsockopt)
#define zmq_msg_close (kr_zmq()->zmq_msg_close)
#define zmq_msg_copy (kr_zmq()->zmq_msg_copy)
#define zmq_msg_data (kr_zmq()->zmq_msg_data)
#define zmq_msg_init (kr_zmq()->zmq_msg_init)
#define zmq_msg_init_data (kr_zmq()->zmq_msg_init_data)
#define zmq_msg_more (kr_zmq()->zmq_msg_more)
#define zmq_msg_move (kr_zmq()->zmq_msg_move)
#define zmq_msg_recv (kr_zmq()->zmq_msg_recv)
#define zmq_msg_send (kr_zmq()->zmq_msg_send)
#define zmq_msg_size (kr_zmq()->zmq_msg_size)
#define zmq_poll (kr_zmq()->zmq_poll)
#define zmq_recv (kr_zmq()->zmq_recv)
#define zmq_send (kr_zmq()->zmq_send)
#define zmq_setsockopt (kr_zmq()->zmq_setsockopt)
#define zmq_socket (kr_zmq()->zmq_socket)
#define zmq_strerror (kr_zmq()->zmq_strerror)
#define zmq_z85_encode kr_z85_encode
#define zmq_z85_decode kr_z85_decode
#endif

#endif
