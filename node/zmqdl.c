/*
 * node/zmqdl.c - libzmq loaded on first use; Z85 without it
 *
 * See zmqdl.h. The table is filled once (pthread_once) and only read
 * after, so any thread may call through it. The Z85 codec is ZeroMQ RFC
 * 32's, byte for byte what libzmq's zmq_z85_encode/decode give.
 */
#define KR_ZMQDL_SELF
#include "zmqdl.h"

#include <pthread.h>
#include <string.h>

#include "../sharing/common.h"

#ifndef KR_ZMQ_SONAME
#define KR_ZMQ_SONAME "libzmq.so.5"
#endif

static kr_zmq_api s_api;
static pthread_once_t s_once = PTHREAD_ONCE_INIT;

static void
s_load(void)
{
#define S_SYM(f) { #f, &s_api.f },
	static const kr_dlsym syms[] = { KR_ZMQ_FUNCTIONS(S_SYM) };
#undef S_SYM

	kr_dl_require(KR_ZMQ_SONAME, syms, sizeof(syms) / sizeof(syms[0]), "libzmq5");
}

const kr_zmq_api *
kr_zmq(void)
{
	pthread_once(&s_once, s_load);
	return &s_api;
}

static const char s_z85[] = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#";

char *
kr_z85_encode(char *dest, const uint8_t *data, size_t size)
{
	size_t o = 0;

	if (size % 4)
		return NULL;
	for (size_t i = 0; i < size; i += 4) {
		uint32_t v = (uint32_t)data[i] << 24 | (uint32_t)data[i + 1] << 16 | (uint32_t)data[i + 2] << 8 | data[i + 3];
		for (int d = 4; d >= 0; d--) {
			dest[o + (size_t)d] = s_z85[v % 85];
			v /= 85;
		}
		o += 5;
	}
	dest[o] = '\0';
	return dest;
}

uint8_t *
kr_z85_decode(uint8_t *dest, const char *string)
{
	size_t len = strlen(string), o = 0;

	if (len % 5)
		return NULL;
	for (size_t i = 0; i < len; i += 5) {
		uint64_t v = 0;
		for (int d = 0; d < 5; d++) {
			const char *c = string[i + (size_t)d] ? strchr(s_z85, string[i + (size_t)d]) : NULL;
			if (!c)
				return NULL;
			v = v * 85 + (uint64_t)(c - s_z85);
		}
		if (v > UINT32_MAX)
			return NULL;
		dest[o++] = (uint8_t)(v >> 24);
		dest[o++] = (uint8_t)(v >> 16);
		dest[o++] = (uint8_t)(v >> 8);
		dest[o++] = (uint8_t)v;
	}
	return dest;
}
