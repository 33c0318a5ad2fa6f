/*
 * tests/fuzz/fuzz_codec.c - libFuzzer target: every wire decoder
 *
 * The bytes are handed to each decoder in turn (manifest, signed, beacon,
 * request, reply), exactly as a frame from the network would be; what
 * decodes is encoded again and decoded a second time, which must succeed.
 */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../proto/codec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	kr_manifest m;
	kr_signed s;
	kr_beacon b;
	kr_request q;
	kr_reply r;
	kr_buf again = KR_BUF_INIT;

	if (kr_manifest_decode(&m, data, size) == 0) {
		kr_manifest_encode(&again, &m);
		kr_manifest_clear(&m);
		assert(kr_manifest_decode(&m, again.ptr, again.len) == 0);
		kr_manifest_clear(&m);
		kr_buf_clear(&again);
	}
	if (kr_signed_decode(&s, data, size) == 0) {
		kr_signed_encode(&again, &s);
		kr_signed_clear(&s);
		assert(kr_signed_decode(&s, again.ptr, again.len) == 0);
		kr_signed_clear(&s);
		kr_buf_clear(&again);
	}
	if (kr_beacon_decode(&b, data, size) == 0) {
		kr_beacon_encode(&again, &b);
		assert(kr_beacon_decode(&b, again.ptr, again.len) == 0);
		kr_buf_clear(&again);
	}
	if (kr_request_decode(&q, data, size) == 0) {
		kr_request_encode(&again, &q);
		kr_request_clear(&q);
		assert(kr_request_decode(&q, again.ptr, again.len) == 0);
		kr_request_clear(&q);
		kr_buf_clear(&again);
	}
	if (kr_reply_decode(&r, data, size) == 0) {
		kr_reply_encode(&again, &r);
		kr_reply_clear(&r);
		assert(kr_reply_decode(&r, again.ptr, again.len) == 0);
		kr_reply_clear(&r);
	}
	kr_buf_release(&again);
	kr_error_clear();
	return 0;
}
