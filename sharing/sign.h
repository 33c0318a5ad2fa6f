/*
 * sharing/sign.h - node keys, SSHSIG commit signatures, typed wire signatures
 *
 * A node's identity is one Ed25519 key; its fingerprint is the raw 32-byte
 * public key (hex in paths and topics). Commits carry OpenSSH SSHSIG
 * signatures (namespace "git", sha512) so stock `git verify-commit` agrees
 * with us. Wire statements are signed over "kairan/1 " || type || "\0" ||
 * body, so a signature can never be replayed as another message type.
 * This module alone talks to OpenSSL and libsodium.
 */
#ifndef KR_SIGN_H
#define KR_SIGN_H

#include "common.h"

typedef struct kr_key kr_key;

int kr_key_generate(kr_key **out);
/* Loads a PEM private key; refuses a file readable by group or others. */
int kr_key_load(kr_key **out, const char *path);
/* Writes PEM (PKCS#8) with mode 0600; fails if the file exists. */
int kr_key_save(const kr_key *k, const char *path);
const uint8_t *kr_key_pub(const kr_key *k); /* 32 bytes, borrowed */
/*
 * A node's keys for safekeeping: k, then tk unless NULL, each as an
 * encrypted PKCS#8 PEM block (AES-256-CBC, key from pass by PBKDF2)
 * appended to out.
 */
int kr_key_export(kr_buf *out, const kr_key *k, const kr_key *tk, const char *pass);
/*
 * Reads what kr_key_export wrote: the signing key into *k and the
 * transport key, if the export has one, into *tk (else NULL). A wrong
 * passphrase is KR_EVERIFY "wrong passphrase"; anything else that is not an
 * encrypted export, KR_ERROR. Nothing is set on failure.
 */
int kr_key_import(const void *pem, size_t len, const char *pass, kr_key **k, kr_key **tk);
/*
 * The transport key (X25519, DESIGN §6): separate from the signing key,
 * used by ZeroMQ CURVE, whose keys are the same raw 32 bytes. Saved and
 * destroyed like a signing key; kr_key_sign_* must not be given one.
 */
int kr_tkey_generate(kr_key **out);
int kr_tkey_load(kr_key **out, const char *path);
/* The raw 32-byte private key (for zmq's CURVE_SECRETKEY); wipe it after use. */
int kr_key_secret(const kr_key *k, uint8_t out[32]);
void kr_key_destroy(kr_key **kp);

int kr_key_sign_raw(const kr_key *k, const void *msg, size_t len, uint8_t sig[64]);
/* 0 if sig is pub's signature of msg, else KR_EVERIFY. */
int kr_sig_verify_raw(const uint8_t pub[32], const void *msg, size_t len, const uint8_t sig[64]);

/* Typed wire signature, see the file comment. */
int kr_signed_sign(const kr_key *k, const char *type, const void *body, size_t len, uint8_t sig[64]);
int kr_signed_verify(const uint8_t pub[32], const char *type, const void *body, size_t len, const uint8_t sig[64]);

/* "ssh-ed25519 AAAA..." (no newline). */
void kr_ssh_pubkey(kr_buf *out, const uint8_t pub[32]);
/*
 * SSHSIG over msg in namespace ns, armoured, without a trailing newline
 * (what git_commit_create_with_signature wants).
 */
int kr_sshsig_sign(kr_buf *armour, const kr_key *k, const char *ns, const void *msg, size_t len);
/*
 * Checks an armoured SSHSIG over msg in namespace ns and returns the signing
 * key in signer (the caller decides whether that key is the right one).
 * Errors: KR_EVERIFY with the reason (bad armour, wrong namespace, bad sig).
 */
int kr_sshsig_verify(const char *armour, size_t alen, const char *ns,
    const void *msg, size_t len, uint8_t signer[32]);

void kr_sha256(uint8_t out[32], const void *data, size_t len);
typedef struct kr_sha1 kr_sha1;
kr_sha1 *kr_sha1_new(void);
void kr_sha1_update(kr_sha1 *h, const void *data, size_t len);
void kr_sha1_final(kr_sha1 **hp, uint8_t out[20]); /* frees *hp */
void kr_random(void *buf, size_t len);

#endif
