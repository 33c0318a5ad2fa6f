/*
 * sharing/cryptodl.h - OpenSSL's libcrypto and libsodium, loaded on first use
 *
 * Included by sharing/sign.c alone, after the libraries' headers: its
 * calls read as before and keep the headers' types, but each goes through
 * a pointer that s_crypto_ready and s_sodium_ready fill (pthread_once: any
 * thread, the first call of any of the library's functions) by dlopen of
 * KR_CRYPTO_SONAME, KR_SODIUM_SONAME. libsodium is then loaded only by
 * commands that read a key, sign, verify or hash, libcrypto only by those
 * that go beyond the plain key files kairan writes (a passphrase, a key
 * generated or exported) or hash SHA-1 (packs); neither by `kairan
 * publish` handing its items to the running node (issue 13, start-up).
 */
#ifndef KR_CRYPTODL_H
#define KR_CRYPTODL_H

#define KR_CRYPTO_FUNCTIONS(X) X(BIO_free) X(BIO_ctrl) X(BIO_new) X(BIO_new_mem_buf) X(BIO_s_mem) \
	X(ERR_clear_error) X(ERR_error_string_n) X(ERR_get_error) \
	X(EVP_PKEY_CTX_free) X(EVP_PKEY_CTX_new_id) X(EVP_PKEY_free) X(EVP_PKEY_get_id) \
	X(EVP_PKEY_get_raw_private_key) X(EVP_PKEY_keygen) X(EVP_PKEY_keygen_init) X(EVP_PKEY_new_raw_private_key) \
	X(EVP_aes_256_cbc) X(OPENSSL_init_crypto) X(PEM_read_PrivateKey) X(PEM_read_bio_PrivateKey) \
	X(PEM_write_PrivateKey) X(PEM_write_bio_PKCS8PrivateKey) X(RAND_bytes) X(SHA1_Final) X(SHA1_Init) \
	X(SHA1_Update)

#define KR_SODIUM_FUNCTIONS(X) X(crypto_hash_sha256) X(crypto_hash_sha512) X(crypto_scalarmult_base) \
	X(crypto_sign_detached) X(crypto_sign_seed_keypair) X(crypto_sign_verify_detached) X(sodium_base642bin) \
	X(sodium_bin2base64) X(sodium_init) X(sodium_memzero)

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"  /* SHA1_*: see kr_sha1_new */
#define X(f) static __typeof__(f) *p_##f;
KR_CRYPTO_FUNCTIONS(X)
KR_SODIUM_FUNCTIONS(X)
#undef X
#pragma GCC diagnostic pop
static void s_crypto_ready(void);
static void s_sodium_ready(void);

#define BIO_free (s_crypto_ready(), p_BIO_free)
#define BIO_ctrl (s_crypto_ready(), p_BIO_ctrl)
#define BIO_new (s_crypto_ready(), p_BIO_new)
#define BIO_new_mem_buf (s_crypto_ready(), p_BIO_new_mem_buf)
#define BIO_s_mem (s_crypto_ready(), p_BIO_s_mem)
#define ERR_clear_error (s_crypto_ready(), p_ERR_clear_error)
#define ERR_error_string_n (s_crypto_ready(), p_ERR_error_string_n)
#define ERR_get_error (s_crypto_ready(), p_ERR_get_error)
#define EVP_PKEY_CTX_free (s_crypto_ready(), p_EVP_PKEY_CTX_free)
#define EVP_PKEY_CTX_new_id (s_crypto_ready(), p_EVP_PKEY_CTX_new_id)
#define EVP_PKEY_free (s_crypto_ready(), p_EVP_PKEY_free)
#define EVP_PKEY_get_id (s_crypto_ready(), p_EVP_PKEY_get_id)
#define EVP_PKEY_get_raw_private_key (s_crypto_ready(), p_EVP_PKEY_get_raw_private_key)
#define EVP_PKEY_keygen (s_crypto_ready(), p_EVP_PKEY_keygen)
#define EVP_PKEY_keygen_init (s_crypto_ready(), p_EVP_PKEY_keygen_init)
#define EVP_PKEY_new_raw_private_key (s_crypto_ready(), p_EVP_PKEY_new_raw_private_key)
#define EVP_aes_256_cbc (s_crypto_ready(), p_EVP_aes_256_cbc)
#define OPENSSL_init_crypto (s_crypto_ready(), p_OPENSSL_init_crypto)
#define PEM_read_PrivateKey (s_crypto_ready(), p_PEM_read_PrivateKey)
#define PEM_read_bio_PrivateKey (s_crypto_ready(), p_PEM_read_bio_PrivateKey)
#define PEM_write_PrivateKey (s_crypto_ready(), p_PEM_write_PrivateKey)
#define PEM_write_bio_PKCS8PrivateKey (s_crypto_ready(), p_PEM_write_bio_PKCS8PrivateKey)
#define RAND_bytes (s_crypto_ready(), p_RAND_bytes)
#define SHA1_Final (s_crypto_ready(), p_SHA1_Final)
#define SHA1_Init (s_crypto_ready(), p_SHA1_Init)
#define SHA1_Update (s_crypto_ready(), p_SHA1_Update)
#define crypto_hash_sha256 (s_sodium_ready(), p_crypto_hash_sha256)
#define crypto_hash_sha512 (s_sodium_ready(), p_crypto_hash_sha512)
#define crypto_scalarmult_base (s_sodium_ready(), p_crypto_scalarmult_base)
#define crypto_sign_detached (s_sodium_ready(), p_crypto_sign_detached)
#define crypto_sign_seed_keypair (s_sodium_ready(), p_crypto_sign_seed_keypair)
#define crypto_sign_verify_detached (s_sodium_ready(), p_crypto_sign_verify_detached)
#define sodium_base642bin (s_sodium_ready(), p_sodium_base642bin)
#define sodium_bin2base64 (s_sodium_ready(), p_sodium_bin2base64)
#define sodium_init (s_sodium_ready(), p_sodium_init)
#define sodium_memzero (s_sodium_ready(), p_sodium_memzero)

#endif
