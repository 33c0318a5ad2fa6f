/*
 * tests/fuzz/fuzz_sshsig.c - libFuzzer target: SSHSIG parsing
 *
 * kr_sshsig_verify checks every commit signature a peer sends. The first
 * byte chooses how the rest is used: even, as the armoured text itself;
 * odd, as the binary SSHSIG blob, which is armoured here (base64 between
 * the BEGIN and END lines) so the fuzzer reaches the binary parser.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../sharing/sign.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
s_armour(kr_buf *out, const uint8_t *d, size_t n)
{
	static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

	kr_buf_adds(out, "-----BEGIN SSH SIGNATURE-----\n");
	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)d[i] << 16 | (i + 1 < n ? (uint32_t)d[i + 1] << 8 : 0) |
		    (i + 2 < n ? d[i + 2] : 0);
		kr_buf_addch(out, b64[v >> 18 & 63]);
		kr_buf_addch(out, b64[v >> 12 & 63]);
		kr_buf_addch(out, i + 1 < n ? b64[v >> 6 & 63] : '=');
		kr_buf_addch(out, i + 2 < n ? b64[v & 63] : '=');
		if (i % 54 == 51)
			kr_buf_addch(out, '\n');
	}
	kr_buf_adds(out, "\n-----END SSH SIGNATURE-----");
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char msg[] = "tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\nauthor x\n\nfuzz\n";
	kr_buf armour = KR_BUF_INIT;
	uint8_t signer[32];

	if (size == 0)
		return 0;
	if (data[0] & 1)
		s_armour(&armour, data + 1, size - 1);
	else
		kr_buf_add(&armour, data + 1, size - 1);
	kr_sshsig_verify(armour.ptr, armour.len, "git", msg, sizeof(msg) - 1, signer);
	kr_buf_release(&armour);
	kr_error_clear();
	return 0;
}
