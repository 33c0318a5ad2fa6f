/*
 * sharing/sign.c - Ed25519 keys and signatures (libsodium, OpenSSL; loaded on first use, cryptodl.h)
 *
 * SSHSIG layout (OpenSSH PROTOCOL.sshsig): the signed blob is
 *   "SSHSIG" || string(namespace) || string("") || string("sha512") ||
 *   string(SHA-512(message))
 * and the armoured signature is
 *   "SSHSIG" || uint32 1 || string(pubkey) || string(namespace) ||
 *   string("") || string("sha512") || string(sig)
 * with pubkey = string("ssh-ed25519") || string(32 bytes) and
 * sig = string("ssh-ed25519") || string(64 bytes). All helpers are
 * reentrant; keys are immutable after load.
 *
 * A key is held as its raw 32 bytes. Signing and verifying (Ed25519) and
 * SHA-2 go through libsodium, SHA-1 through OpenSSL's digest functions themselves:
 * OpenSSL 3's EVP layer builds its provider and name tables on first use
 * (5.3 M instructions: a fifth of a `kairan publish`, a third of `kairan
 * id`), which a short command signing twice does not need. Ed25519
 * signatures are deterministic (RFC 8032): the same bytes either way.
 * libsodium's verify takes a third of OpenSSL's instructions (its field
 * arithmetic in 64-bit limbs; OpenSSL's ed25519 verify was a fifth of a
 * town's replication work under callgrind) and is the stricter of the
 * two: it also refuses small-order keys and R points, which no honest
 * signer makes. PEM files and key generation stay with OpenSSL's EVP.
 */
#include "sign.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/proverr.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <pthread.h>
#include <sodium.h>

#include "cryptodl.h"

struct kr_key {
	int type;                       /* EVP_PKEY_ED25519 or EVP_PKEY_X25519 */
	uint8_t priv[32];               /* Ed25519: the seed; X25519: the scalar */
	uint8_t pub[32];
	uint8_t sk[64];                 /* Ed25519: libsodium's secret key (seed || pub) */
};

#ifndef KR_CRYPTO_SONAME
#define KR_CRYPTO_SONAME "libcrypto.so.3"
#endif
#ifndef KR_SODIUM_SONAME
#define KR_SODIUM_SONAME "libsodium.so.23"
#endif

/*
 * OpenSSL reads no configuration file (openssl.cnf) unless OPENSSL_CONF
 * names one: the system's file sets up TLS and providers kairan does not
 * use (it signs with Ed25519 and hashes with SHA-2 from the default
 * provider, whatever the file says). This runs before kairan's first call
 * into OpenSSL, and no library calls it before (libssh2, which libgit2
 * loads, is never started: see sharing/store.c): the first initialisation
 * decides. libsodium picks its implementations for this CPU when it is
 * loaded (s_sodium_load).
 */
static void
s_sodium_load(void)
{
	static const kr_dlsym sodium[] = { KR_SODIUM_FUNCTIONS(KR_DLSYM) };

	kr_dl_require(KR_SODIUM_SONAME, sodium, sizeof(sodium) / sizeof(sodium[0]), "libsodium23");
	if (p_sodium_init() < 0)
		abort();
}

static void
s_sodium_ready(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	pthread_once(&once, s_sodium_load);
}

static void
s_crypto_load(void)
{
	static const kr_dlsym crypto[] = { KR_CRYPTO_FUNCTIONS(KR_DLSYM) };

	kr_dl_require(KR_CRYPTO_SONAME, crypto, sizeof(crypto) / sizeof(crypto[0]), "libssl3");
	p_OPENSSL_init_crypto(getenv("OPENSSL_CONF") ? OPENSSL_INIT_LOAD_CONFIG : OPENSSL_INIT_NO_LOAD_CONFIG, NULL);
}

static void
s_crypto_ready(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	pthread_once(&once, s_crypto_load);
}

static int
s_ossl_error(int code, const char *what)
{
	unsigned long e = ERR_get_error();
	char msg[256] = "";

	if (e)
		ERR_error_string_n(e, msg, sizeof(msg));
	ERR_clear_error();
	return kr_error(code, "%s%s%s", what, e ? ": " : "", msg);
}

/* A key from its raw private bytes: the public key is derived, as OpenSSL derives it. */
static kr_key *
s_key_from_raw(const uint8_t priv[32], int type)
{
	kr_key *k = kr_calloc(1, sizeof(*k));

	k->type = type;
	memcpy(k->priv, priv, 32);
	if (type == EVP_PKEY_ED25519)
		crypto_sign_seed_keypair(k->pub, k->sk, priv);
	else
		crypto_scalarmult_base(k->pub, priv); /* X25519: the scalar is clamped inside */
	return k;
}

/* Takes pkey (freed here) when it is a key of type. */
static int
s_key_from_pkey(kr_key **out, EVP_PKEY *pkey, int type)
{
	uint8_t raw[32];
	size_t len = sizeof(raw);
	int ok;

	if (EVP_PKEY_get_id(pkey) != type) {
		EVP_PKEY_free(pkey);
		return kr_error(KR_ERROR, "not an %s key", type == EVP_PKEY_ED25519 ? "Ed25519" : "X25519");
	}
	ok = EVP_PKEY_get_raw_private_key(pkey, raw, &len) == 1 && len == 32;
	EVP_PKEY_free(pkey);
	if (!ok)
		return s_ossl_error(KR_ERROR, "reading private key");
	*out = s_key_from_raw(raw, type);
	sodium_memzero(raw, sizeof(raw));
	return 0;
}

/* The same key as OpenSSL's EVP_PKEY, for PEM files (caller frees); NULL on failure. */
static EVP_PKEY *
s_pkey(const kr_key *k)
{
	return EVP_PKEY_new_raw_private_key(k->type, NULL, k->priv, 32);
}

static int
s_generate(kr_key **out, int type)
{
	EVP_PKEY *pkey = NULL;
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_id(type, NULL);

	if (!ctx || EVP_PKEY_keygen_init(ctx) != 1 || EVP_PKEY_keygen(ctx, &pkey) != 1) {
		EVP_PKEY_CTX_free(ctx);
		return s_ossl_error(KR_ERROR, "generating a key");
	}
	EVP_PKEY_CTX_free(ctx);
	return s_key_from_pkey(out, pkey, type);
}

int
kr_key_generate(kr_key **out)
{
	return s_generate(out, EVP_PKEY_ED25519);
}

int
kr_tkey_generate(kr_key **out)
{
	return s_generate(out, EVP_PKEY_X25519);
}

/*
 * An unencrypted PKCS#8 PEM of an Ed25519 or X25519 key exactly as
 * kr_key_save writes it (RFC 8410: a 16-byte DER prefix naming the
 * algorithm, then the 32-byte private key), read directly into priv with
 * libsodium alone (so `kairan id` and the other commands that only read
 * their key load no libcrypto); -1 for anything else, which then goes
 * through PEM_read_PrivateKey.
 */
static int
s_read_plain(FILE *f, int type, uint8_t priv[32])
{
	static const char begin[] = "-----BEGIN PRIVATE KEY-----\n", end[] = "-----END PRIVATE KEY-----\n";
	uint8_t der[16] = { 0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65,
		type == EVP_PKEY_ED25519 ? 0x70 : 0x6e, 0x04, 0x22, 0x04, 0x20 };
	char text[160];
	unsigned char raw[51]; /* 64 base64 characters decode to 48 bytes (+ slack) */
	size_t n = fread(text, 1, sizeof(text) - 1, f);
	size_t lb = sizeof(begin) - 1, le = sizeof(end) - 1, got = 0;
	int rc = -1;

	text[n] = '\0';
	if (n == lb + 65 + le && memcmp(text, begin, lb) == 0 && text[lb + 64] == '\n' &&
	    memcmp(text + lb + 65, end, le) == 0 &&
	    sodium_base642bin(raw, sizeof(raw), text + lb, 64, NULL, &got, NULL, sodium_base64_VARIANT_ORIGINAL) == 0 &&
	    got == 48 && memcmp(raw, der, sizeof(der)) == 0) {
		memcpy(priv, raw + 16, 32);
		rc = 0;
	}
	sodium_memzero(raw, sizeof(raw));
	sodium_memzero(text, sizeof(text));
	return rc;
}

static int
s_load(kr_key **out, const char *path, int type)
{
	struct stat st;
	EVP_PKEY *pkey;
	uint8_t priv[32];
	FILE *f;

	if (stat(path, &st) < 0)
		return kr_error(errno == ENOENT ? KR_ENOTFOUND : KR_EIO,
		    "%s: %s", path, strerror(errno));
	if (st.st_mode & 077)
		return kr_error(KR_ERROR, "%s: key is readable by others "
		    "(mode %03o); run: chmod 600 %s", path,
		    (unsigned)(st.st_mode & 0777), path);
	if (!(f = fopen(path, "r")))
		return kr_error(KR_EIO, "%s: %s", path, strerror(errno));
	/* the form kr_key_save writes, without OpenSSL's decoder search or its EVP layer */
	if (s_read_plain(f, type, priv) == 0) {
		fclose(f);
		*out = s_key_from_raw(priv, type);
		sodium_memzero(priv, sizeof(priv));
		return 0;
	}
	rewind(f);
	pkey = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	if (!pkey)
		return kr_error_prefix(s_ossl_error(KR_ERROR, "not a PEM private key"), "%s", path);
	if (s_key_from_pkey(out, pkey, type) < 0)
		return kr_error_prefix(KR_ERROR, "%s", path);
	return 0;
}

int
kr_key_load(kr_key **out, const char *path)
{
	return s_load(out, path, EVP_PKEY_ED25519);
}

int
kr_tkey_load(kr_key **out, const char *path)
{
	return s_load(out, path, EVP_PKEY_X25519);
}

int
kr_key_secret(const kr_key *k, uint8_t out[32])
{
	memcpy(out, k->priv, 32);
	return 0;
}

int
kr_key_save(const kr_key *k, const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	FILE *f;
	int ok;

	if (fd < 0)
		return kr_error(errno == EEXIST ? KR_EEXISTS : KR_EIO, "%s: %s",
		    path, strerror(errno));
	f = fdopen(fd, "w");
	{
		EVP_PKEY *pkey = s_pkey(k);
		ok = f && pkey && PEM_write_PrivateKey(f, pkey, NULL, NULL, 0, NULL, NULL) == 1;
		EVP_PKEY_free(pkey);
	}
	if (f) {
		ok = ok && fflush(f) == 0 && fsync(fd) == 0;
		fclose(f);
	}
	if (!ok) {
		unlink(path);
		return s_ossl_error(KR_EIO, path);
	}
	return 0;
}

/* ---- passphrase-protected export (kairan key export / import) -------- */

int
kr_key_export(kr_buf *out, const kr_key *k, const kr_key *tk, const char *pass)
{
	BIO *bio = BIO_new(BIO_s_mem());
	const kr_key *keys[2] = { k, tk };
	char *data;
	long len;
	int ok = bio != NULL;

	for (int i = 0; i < 2 && ok; i++)
		if (keys[i]) {
			EVP_PKEY *pkey = s_pkey(keys[i]);
			ok = pkey && PEM_write_bio_PKCS8PrivateKey(bio, pkey, EVP_aes_256_cbc(), pass,
			    (int)strlen(pass), NULL, NULL) == 1;
			EVP_PKEY_free(pkey);
		}
	if (ok && (len = BIO_get_mem_data(bio, &data)) > 0)
		kr_buf_add(out, data, (size_t)len);
	BIO_free(bio);
	return ok ? 0 : s_ossl_error(KR_ERROR, "encrypting the key");
}

/* The next encrypted key of bio; KR_ENOTFOUND at the end, KR_EVERIFY for a wrong passphrase. */
static int
s_import_one(BIO *bio, const char *pass, int type, kr_key **out)
{
	EVP_PKEY *pkey = PEM_read_bio_PrivateKey(bio, NULL, NULL, (void *)pass);
	unsigned long e;
	int no_start = 0, bad_decrypt = 0;
	char first[256] = "";

	if (pkey)
		return s_key_from_pkey(out, pkey, type);
	/* the queue holds the decoder's complaints too: look for the decryption's own */
	for (int i = 0; (e = ERR_get_error()) != 0 && i < 64; i++) {
		int lib = ERR_GET_LIB(e), reason = ERR_GET_REASON(e);
		if (!first[0])
			ERR_error_string_n(e, first, sizeof(first));
		no_start |= lib == ERR_LIB_PEM && reason == PEM_R_NO_START_LINE;
		bad_decrypt |= (lib == ERR_LIB_PROV && reason == PROV_R_BAD_DECRYPT) ||
		    (lib == ERR_LIB_EVP && reason == EVP_R_BAD_DECRYPT) || (lib == ERR_LIB_PEM && reason == PEM_R_BAD_DECRYPT);
	}
	ERR_clear_error();
	if (bad_decrypt)
		return kr_error(KR_EVERIFY, "wrong passphrase (nothing was written)");
	if (no_start)
		return KR_ENOTFOUND;
	return kr_error(KR_ERROR, "not a kairan key export: %s", first);
}

int
kr_key_import(const void *pem, size_t len, const char *pass, kr_key **k, kr_key **tk)
{
	BIO *bio;
	int rc;

	*k = NULL;
	*tk = NULL;
	if (len > (1 << 20) || !memmem(pem, len, "-----BEGIN ENCRYPTED PRIVATE KEY-----", 37))
		return kr_error(KR_ERROR, "not a kairan key export (no ENCRYPTED PRIVATE KEY block; "
		    "make one with: kairan key export --passphrase-file FILE)");
	if (!(bio = BIO_new_mem_buf(pem, (int)len)))
		return s_ossl_error(KR_ERROR, "reading the export");
	if ((rc = s_import_one(bio, pass, EVP_PKEY_ED25519, k)) == KR_ENOTFOUND)
		rc = kr_error(KR_ERROR, "not a kairan key export (no signing key in it)");
	if (rc == 0 && (rc = s_import_one(bio, pass, EVP_PKEY_X25519, tk)) == KR_ENOTFOUND)
		rc = 0; /* an export without a transport key: a new one is made on first open */
	BIO_free(bio);
	ERR_clear_error();
	if (rc < 0) {
		kr_key_destroy(k);
		kr_key_destroy(tk);
	}
	return rc;
}

const uint8_t *
kr_key_pub(const kr_key *k)
{
	return k->pub;
}

void
kr_key_destroy(kr_key **kp)
{
	if (!kp || !*kp)
		return;
	sodium_memzero(*kp, sizeof(**kp));
	free(*kp);
	*kp = NULL;
}

int
kr_key_sign_raw(const kr_key *k, const void *msg, size_t len, uint8_t sig[64])
{
	if (k->type != EVP_PKEY_ED25519)
		return kr_error(KR_ERROR, "signing: not an Ed25519 key");
	if (crypto_sign_detached(sig, NULL, msg, len, k->sk) != 0)
		return kr_error(KR_ERROR, "signing failed");
	return 0;
}

int
kr_sig_verify_raw(const uint8_t pub[32], const void *msg, size_t len, const uint8_t sig[64])
{
	return crypto_sign_verify_detached(sig, msg, len, pub) == 0 ? 0 : kr_error(KR_EVERIFY, "signature does not verify");
}

static void
s_typed_message(kr_buf *m, const char *type, const void *body, size_t len)
{
	kr_buf_adds(m, "kairan/1 ");
	kr_buf_adds(m, type);
	kr_buf_add(m, "", 1);
	kr_buf_add(m, body, len);
}

int
kr_signed_sign(const kr_key *k, const char *type, const void *body, size_t len, uint8_t sig[64])
{
	kr_buf m = KR_BUF_INIT;
	int rc;

	s_typed_message(&m, type, body, len);
	rc = kr_key_sign_raw(k, m.ptr, m.len, sig);
	kr_buf_release(&m);
	return rc;
}

int
kr_signed_verify(const uint8_t pub[32], const char *type, const void *body, size_t len, const uint8_t sig[64])
{
	kr_buf m = KR_BUF_INIT;
	int rc;

	s_typed_message(&m, type, body, len);
	rc = kr_sig_verify_raw(pub, m.ptr, m.len, sig);
	kr_buf_release(&m);
	return rc;
}

/* SSH wire encoding helpers. */
static void
s_u32(kr_buf *b, uint32_t v)
{
	uint8_t p[4] = { (uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v };

	kr_buf_add(b, p, 4);
}

static void
s_string(kr_buf *b, const void *data, size_t len)
{
	s_u32(b, (uint32_t)len);
	kr_buf_add(b, data, len);
}

static void
s_cstring(kr_buf *b, const char *s)
{
	s_string(b, s, strlen(s));
}

static void
s_pubkey_blob(kr_buf *b, const uint8_t pub[32])
{
	s_cstring(b, "ssh-ed25519");
	s_string(b, pub, 32);
}

static void
s_base64(kr_buf *out, const void *data, size_t len)
{
	size_t need = sodium_base64_ENCODED_LEN(len, sodium_base64_VARIANT_ORIGINAL); /* with its NUL */

	kr_buf_grow(out, need);
	sodium_bin2base64(out->ptr + out->len, need, data, len, sodium_base64_VARIANT_ORIGINAL);
	out->len += need - 1;
}

void
kr_ssh_pubkey(kr_buf *out, const uint8_t pub[32])
{
	kr_buf blob = KR_BUF_INIT;

	s_pubkey_blob(&blob, pub);
	kr_buf_adds(out, "ssh-ed25519 ");
	s_base64(out, blob.ptr, blob.len);
	kr_buf_release(&blob);
}

static void
s_sshsig_signed_data(kr_buf *b, const char *ns, const char *hashalg, const uint8_t *digest, size_t dlen)
{
	kr_buf_add(b, "SSHSIG", 6);
	s_cstring(b, ns);
	s_cstring(b, "");
	s_cstring(b, hashalg);
	s_string(b, digest, dlen);
}

int
kr_sshsig_sign(kr_buf *armour, const kr_key *k, const char *ns, const void *msg, size_t len)
{
	uint8_t digest[64], sig[64];
	kr_buf tbs = KR_BUF_INIT, blob = KR_BUF_INIT, sigblob = KR_BUF_INIT, b64 = KR_BUF_INIT;
	int rc;

	crypto_hash_sha512(digest, msg, len);
	s_sshsig_signed_data(&tbs, ns, "sha512", digest, 64);
	if ((rc = kr_key_sign_raw(k, tbs.ptr, tbs.len, sig)) < 0)
		goto done;

	kr_buf_add(&blob, "SSHSIG", 6);
	s_u32(&blob, 1);
	{
		kr_buf pk = KR_BUF_INIT;
		s_pubkey_blob(&pk, k->pub);
		s_string(&blob, pk.ptr, pk.len);
		kr_buf_release(&pk);
	}
	s_cstring(&blob, ns);
	s_cstring(&blob, "");
	s_cstring(&blob, "sha512");
	s_cstring(&sigblob, "ssh-ed25519");
	s_string(&sigblob, sig, 64);
	s_string(&blob, sigblob.ptr, sigblob.len);

	s_base64(&b64, blob.ptr, blob.len);
	kr_buf_adds(armour, "-----BEGIN SSH SIGNATURE-----\n");
	for (size_t off = 0; off < b64.len; off += 70) {
		size_t n = b64.len - off < 70 ? b64.len - off : 70;
		kr_buf_add(armour, b64.ptr + off, n);
		kr_buf_addch(armour, '\n');
	}
	kr_buf_adds(armour, "-----END SSH SIGNATURE-----");
done:
	kr_buf_release(&tbs);
	kr_buf_release(&blob);
	kr_buf_release(&sigblob);
	kr_buf_release(&b64);
	return rc;
}

/* A cursor over SSH wire data; any overrun sets bad. */
typedef struct {
	const uint8_t *p, *end;
	int bad;
} s_reader;

static uint32_t
s_get_u32(s_reader *r)
{
	if (r->bad || r->end - r->p < 4) {
		r->bad = 1;
		return 0;
	}
	uint32_t v = (uint32_t)r->p[0] << 24 | (uint32_t)r->p[1] << 16 |
	    (uint32_t)r->p[2] << 8 | r->p[3];
	r->p += 4;
	return v;
}

static const uint8_t *
s_get_string(s_reader *r, size_t *len)
{
	uint32_t n = s_get_u32(r);
	const uint8_t *s;

	if (r->bad || (size_t)(r->end - r->p) < n) {
		r->bad = 1;
		*len = 0;
		return (const uint8_t *)"";
	}
	s = r->p;
	r->p += n;
	*len = n;
	return s;
}

static int
s_equals(const uint8_t *s, size_t len, const char *want)
{
	return len == strlen(want) && memcmp(s, want, len) == 0;
}

int
kr_sshsig_verify(const char *armour, size_t alen, const char *ns,
    const void *msg, size_t len, uint8_t signer[32])
{
	static const char begin[] = "-----BEGIN SSH SIGNATURE-----";
	static const char end[] = "-----END SSH SIGNATURE-----";
	kr_buf b64 = KR_BUF_INIT, tbs = KR_BUF_INIT;
	uint8_t *raw = NULL, digest[64];
	const uint8_t *pk, *gotns, *hashalg, *sigblob, *s;
	size_t pklen, nslen, hlen, siglen, n;
	const char *p, *stop;
	s_reader r, pr, sr;
	int rawlen, rc = KR_EVERIFY;

	if (alen < sizeof(begin) || memcmp(armour, begin, sizeof(begin) - 1) != 0)
		return kr_error(KR_EVERIFY, "signature is not an SSH signature armour");
	p = armour + sizeof(begin) - 1;
	stop = NULL;
	for (const char *q = p; q + sizeof(end) - 1 <= armour + alen; q++)
		if (memcmp(q, end, sizeof(end) - 1) == 0) {
			stop = q;
			break;
		}
	if (!stop)
		return kr_error(KR_EVERIFY, "SSH signature armour has no END line");
	for (; p < stop; p++)
		if (*p != '\n' && *p != '\r' && *p != ' ')
			kr_buf_addch(&b64, *p);
	if (b64.len == 0 || b64.len % 4) {
		rc = kr_error(KR_EVERIFY, "SSH signature armour is not valid base64");
		goto done;
	}
	raw = kr_malloc(b64.len);
	if (sodium_base642bin(raw, b64.len, b64.ptr, b64.len, NULL, &n, NULL, sodium_base64_VARIANT_ORIGINAL) < 0) {
		rc = kr_error(KR_EVERIFY, "SSH signature armour is not valid base64");
		goto done;
	}
	rawlen = (int)n;
	r = (s_reader){ raw, raw + rawlen, 0 };
	if (rawlen < 10 || memcmp(raw, "SSHSIG", 6) != 0) {
		rc = kr_error(KR_EVERIFY, "SSH signature has no SSHSIG magic");
		goto done;
	}
	r.p += 6;
	if (s_get_u32(&r) != 1 && !r.bad) {
		rc = kr_error(KR_EVERIFY, "SSH signature version is not 1");
		goto done;
	}
	pk = s_get_string(&r, &pklen);
	gotns = s_get_string(&r, &nslen);
	(void)s_get_string(&r, &n); /* reserved */
	hashalg = s_get_string(&r, &hlen);
	sigblob = s_get_string(&r, &siglen);
	if (r.bad || r.p != r.end) {
		rc = kr_error(KR_EVERIFY, "SSH signature is truncated or has trailing data");
		goto done;
	}
	pr = (s_reader){ pk, pk + pklen, 0 };
	s = s_get_string(&pr, &n);
	if (!s_equals(s, n, "ssh-ed25519")) {
		rc = kr_error(KR_EVERIFY, "SSH signature key is not ssh-ed25519");
		goto done;
	}
	s = s_get_string(&pr, &n);
	if (pr.bad || n != 32 || pr.p != pr.end) {
		rc = kr_error(KR_EVERIFY, "SSH signature key is malformed");
		goto done;
	}
	memcpy(signer, s, 32);
	if (!s_equals(gotns, nslen, ns)) {
		rc = kr_error(KR_EVERIFY, "SSH signature namespace is '%.*s', expected '%s'",
		    (int)(nslen > 64 ? 64 : nslen), (const char *)gotns, ns);
		goto done;
	}
	if (s_equals(hashalg, hlen, "sha512")) {
		crypto_hash_sha512(digest, msg, len);
		n = 64;
	} else if (s_equals(hashalg, hlen, "sha256")) {
		crypto_hash_sha256(digest, msg, len);
		n = 32;
	} else {
		rc = kr_error(KR_EVERIFY, "SSH signature hash algorithm is not sha512 or sha256");
		goto done;
	}
	s_sshsig_signed_data(&tbs, ns, s_equals(hashalg, hlen, "sha512") ? "sha512" : "sha256", digest, n);
	sr = (s_reader){ sigblob, sigblob + siglen, 0 };
	s = s_get_string(&sr, &n);
	if (!s_equals(s, n, "ssh-ed25519")) {
		rc = kr_error(KR_EVERIFY, "SSH signature is not an ssh-ed25519 signature");
		goto done;
	}
	s = s_get_string(&sr, &n);
	if (sr.bad || n != 64) {
		rc = kr_error(KR_EVERIFY, "SSH signature value is malformed");
		goto done;
	}
	rc = kr_sig_verify_raw(signer, tbs.ptr, tbs.len, s);
done:
	free(raw);
	kr_buf_release(&b64);
	kr_buf_release(&tbs);
	return rc;
}

void
kr_sha256(uint8_t out[32], const void *data, size_t len)
{
	crypto_hash_sha256(out, data, len);
}

/*
 * SHA-1 (pack checksums) through OpenSSL's SHA1_* functions: deprecated
 * since 3.0 in favour of EVP, but the same implementation without the
 * provider tables (see the file comment) a one-item publish would build
 * for its pack's trailer alone.
 */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
struct kr_sha1 {
	SHA_CTX ctx;
};

kr_sha1 *
kr_sha1_new(void)
{
	kr_sha1 *h = kr_malloc(sizeof(*h));

	if (SHA1_Init(&h->ctx) != 1)
		abort();
	return h;
}

void
kr_sha1_update(kr_sha1 *h, const void *data, size_t len)
{
	SHA1_Update(&h->ctx, data, len);
}

void
kr_sha1_final(kr_sha1 **hp, uint8_t out[20])
{
	SHA1_Final(out, &(*hp)->ctx);
	free(*hp);
	*hp = NULL;
}
#pragma GCC diagnostic pop

/*
 * The kernel's generator (getrandom, blocking only until it is seeded):
 * OpenSSL's DRBG would be instantiated first, 3.3 M instructions for the
 * few bytes a command draws (a manifest's temporary name), a tenth of a
 * whole `kairan publish`. Ed25519 signing draws nothing.
 */
void
kr_random(void *buf, size_t len)
{
	unsigned char *p = buf;

	while (len > 0) {
		ssize_t n = getrandom(p, len, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (RAND_bytes(p, (int)len) != 1)
				abort();
			return;
		}
		p += n;
		len -= (size_t)n;
	}
}
