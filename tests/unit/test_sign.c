/* tests/unit/test_sign.c - Ed25519 keys, SSHSIG and typed wire signatures */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "../../sharing/sign.h"

static kr_key *a, *b;

static int
setup(void **state)
{
	(void)state;
	return kr_key_generate(&a) || kr_key_generate(&b);
}

static int
teardown(void **state)
{
	(void)state;
	kr_key_destroy(&a);
	kr_key_destroy(&b);
	assert_null(a);
	return 0;
}

static const char msg[] = "tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\nauthor 三豊市 <x> 1 +0000\n\nテスト\n";

static void
test_sshsig_roundtrip(void **state)
{
	kr_buf arm = KR_BUF_INIT;
	uint8_t signer[32];

	(void)state;
	assert_int_equal(kr_sshsig_sign(&arm, a, "git", msg, sizeof(msg) - 1), 0);
	assert_true(strncmp(arm.ptr, "-----BEGIN SSH SIGNATURE-----\n", 30) == 0);
	assert_true(arm.ptr[arm.len - 1] == '-'); /* no trailing newline */
	assert_int_equal(kr_sshsig_verify(arm.ptr, arm.len, "git", msg, sizeof(msg) - 1, signer), 0);
	assert_memory_equal(signer, kr_key_pub(a), 32);
	kr_buf_release(&arm);
}

static void
test_sshsig_wrong_key(void **state)
{
	kr_buf arm = KR_BUF_INIT;
	uint8_t signer[32];

	(void)state;
	assert_int_equal(kr_sshsig_sign(&arm, b, "git", msg, sizeof(msg) - 1), 0);
	assert_int_equal(kr_sshsig_verify(arm.ptr, arm.len, "git", msg, sizeof(msg) - 1, signer), 0);
	/* verifies, but as b's signature: the caller's key check refuses it */
	assert_memory_not_equal(signer, kr_key_pub(a), 32);
	kr_buf_release(&arm);
}

static void
test_sshsig_flipped_bit(void **state)
{
	kr_buf arm = KR_BUF_INIT;
	char copy[sizeof(msg)];
	uint8_t signer[32];

	(void)state;
	assert_int_equal(kr_sshsig_sign(&arm, a, "git", msg, sizeof(msg) - 1), 0);
	memcpy(copy, msg, sizeof(msg));
	copy[5] ^= 1;
	assert_int_equal(kr_sshsig_verify(arm.ptr, arm.len, "git", copy, sizeof(msg) - 1, signer), KR_EVERIFY);
	/* a flipped bit inside the signature value (last base64 line) */
	{
		char *end = strstr(arm.ptr, "\n-----END");
		end[-3] = end[-3] == 'A' ? 'B' : 'A';
		assert_int_equal(kr_sshsig_verify(arm.ptr, arm.len, "git", msg, sizeof(msg) - 1, signer), KR_EVERIFY);
	}
	kr_buf_release(&arm);
}

static void
test_sshsig_wrong_namespace(void **state)
{
	kr_buf arm = KR_BUF_INIT;
	uint8_t signer[32];

	(void)state;
	assert_int_equal(kr_sshsig_sign(&arm, a, "file", msg, sizeof(msg) - 1), 0);
	assert_int_equal(kr_sshsig_verify(arm.ptr, arm.len, "git", msg, sizeof(msg) - 1, signer), KR_EVERIFY);
	assert_non_null(strstr(kr_errmsg(), "namespace"));
	kr_buf_release(&arm);
}

static void
test_sshsig_garbage_armour(void **state)
{
	uint8_t signer[32];
	const char *bad[] = {
		"", "-----BEGIN SSH SIGNATURE-----\n", "-----BEGIN SSH SIGNATURE-----\n!!!!\n-----END SSH SIGNATURE-----",
		"-----BEGIN SSH SIGNATURE-----\nU1NIU0lH\n-----END SSH SIGNATURE-----",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(kr_sshsig_verify(bad[i], strlen(bad[i]), "git", msg, 3, signer), KR_EVERIFY);
}

static void
test_typed_signature(void **state)
{
	uint8_t sig[64];
	const char body[] = "manifest body";

	(void)state;
	assert_int_equal(kr_signed_sign(a, "manifest", body, sizeof(body), sig), 0);
	assert_int_equal(kr_signed_verify(kr_key_pub(a), "manifest", body, sizeof(body), sig), 0);
	assert_int_equal(kr_signed_verify(kr_key_pub(a), "endorsement", body, sizeof(body), sig), KR_EVERIFY);
	assert_int_equal(kr_signed_verify(kr_key_pub(b), "manifest", body, sizeof(body), sig), KR_EVERIFY);
}

/* base64 both ways (libsodium's, strict): the OpenSSH form of a known key, appended; a valid armour with one
 * character of its base64 made invalid, or its padding moved inside, is refused */
static void
test_base64(void **state)
{
	kr_buf out = KR_BUF_INIT, arm = KR_BUF_INIT;
	uint8_t pub[32], signer[32];
	char *p;

	(void)state;
	assert_int_equal(kr_unhex(pub, 32, "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"), 0);
	kr_buf_adds(&out, "key: ");
	kr_ssh_pubkey(&out, pub);
	assert_string_equal(out.ptr, "key: ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAINdamAGCsQq31Uv+08lkBzoO4XLz2qYjJa8CGmj3B1Ea");
	assert_int_equal(out.len, strlen(out.ptr));
	assert_int_equal(kr_sshsig_sign(&arm, a, "git", msg, sizeof(msg) - 1), 0);
	p = strchr(arm.ptr, '\n') + 5;
	*p = '*';
	assert_int_equal(kr_sshsig_verify(arm.ptr, arm.len, "git", msg, sizeof(msg) - 1, signer), KR_EVERIFY);
	*p = '=';
	assert_int_equal(kr_sshsig_verify(arm.ptr, arm.len, "git", msg, sizeof(msg) - 1, signer), KR_EVERIFY);
	kr_buf_release(&out);
	kr_buf_release(&arm);
}

/* RFC 8032 7.1 TEST 1 (empty message); then the same with one bit flipped, and a small-order key. */
static void
test_rfc8032_vector(void **state)
{
	uint8_t pub[32], sig[64], zero[32] = { 0 }, one[32] = { 1 };

	(void)state;
	assert_int_equal(kr_unhex(pub, 32, "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"), 0);
	assert_int_equal(kr_unhex(sig, 64, "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"), 0);
	assert_int_equal(kr_sig_verify_raw(pub, "", 0, sig), 0);
	sig[10] ^= 0x04;
	assert_int_equal(kr_sig_verify_raw(pub, "", 0, sig), KR_EVERIFY);
	/* the identity point (encoded 1, 0...) as a key with R = identity and S = 0 verifies any message under
	 * a lax check: refused */
	memset(sig, 0, sizeof(sig));
	sig[0] = 1;
	assert_int_equal(kr_sig_verify_raw(one, "anything", 8, sig), KR_EVERIFY);
	assert_int_equal(kr_sig_verify_raw(zero, "anything", 8, sig), KR_EVERIFY);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sshsig_roundtrip),
		cmocka_unit_test(test_sshsig_wrong_key),
		cmocka_unit_test(test_sshsig_flipped_bit),
		cmocka_unit_test(test_sshsig_wrong_namespace),
		cmocka_unit_test(test_sshsig_garbage_armour),
		cmocka_unit_test(test_typed_signature),
		cmocka_unit_test(test_rfc8032_vector),
		cmocka_unit_test(test_base64),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
