/*
 * sharing/zip.c - zlib streams (see zip.h)
 */
#include "zip.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

_Static_assert(KR_ZIP_DEFAULT == Z_DEFAULT_COMPRESSION && KR_ZIP_FASTEST == Z_BEST_SPEED, "zlib's levels");

void
kr_deflater_end(kr_deflater *d)
{
	if (!d || !d->z)
		return;
	deflateEnd(d->z);
	free(d->z);
	d->z = NULL;
}

int
kr_deflater_add(kr_deflater *d, kr_buf *out, const void *data, size_t len, int level)
{
	z_stream *z = d->z;
	uLong bound;
	int zrc;

	if (len > UINT32_MAX)
		return kr_error(KR_ERROR, "zlib: %zu bytes is more than one stream takes", len);
	if (z && d->level == level) {
		if (deflateReset(z) != Z_OK)
			return kr_error(KR_ERROR, "zlib: deflateReset failed");
	} else {
		kr_deflater_end(d);
		if (!(z = calloc(1, sizeof(*z))))
			return kr_error(KR_ERROR, "zlib: out of memory");
		if (deflateInit(z, level) != Z_OK) {
			free(z);
			return kr_error(KR_ERROR, "zlib: deflateInit failed");
		}
		d->z = z;
		d->level = level;
	}
	bound = deflateBound(z, (uLong)len);
	kr_buf_grow(out, bound);
	z->next_in = (Bytef *)data;
	z->avail_in = (uInt)len;
	z->next_out = (Bytef *)out->ptr + out->len;
	z->avail_out = (uInt)bound;
	zrc = deflate(z, Z_FINISH);
	if (zrc != Z_STREAM_END) {
		out->ptr[out->len] = '\0';
		return kr_error(KR_ERROR, "zlib: deflate failed");
	}
	out->len += bound - z->avail_out;
	out->ptr[out->len] = '\0';
	return 0;
}

int
kr_zip(kr_buf *out, const void *data, size_t len)
{
	uLongf zlen;

	if (len > UINT32_MAX)
		return kr_error(KR_ERROR, "zlib: %zu bytes is more than one stream takes", len);
	zlen = compressBound((uLong)len);
	kr_buf_grow(out, zlen);
	if (compress2((Bytef *)out->ptr + out->len, &zlen, (const Bytef *)data, (uLong)len, KR_ZIP_FASTEST) != Z_OK) {
		out->ptr[out->len] = '\0';
		return kr_error(KR_ERROR, "zlib: compress failed");
	}
	out->len += zlen;
	out->ptr[out->len] = '\0';
	return 0;
}

int
kr_unzip(void *dst, size_t want, const void *src, size_t len)
{
	uLongf got = want;

	if (want > UINT32_MAX || len > UINT32_MAX)
		return -1;
	if (uncompress(dst, &got, src, (uLong)len) != Z_OK || got != want)
		return -1;
	return 0;
}
