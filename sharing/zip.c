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
	return kr_deflater_add_dict(d, out, data, len, level, NULL, 0);
}

int
kr_deflater_add_dict(kr_deflater *d, kr_buf *out, const void *data, size_t len, int level,
    const void *dict, size_t dlen)
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
	/* before deflateBound, which then counts the 4 bytes naming it */
	if (dict && dlen && deflateSetDictionary(z, dict, (uInt)dlen) != Z_OK)
		return kr_error(KR_ERROR, "zlib: deflateSetDictionary failed");
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

uint32_t
kr_zip_dict_id(const void *dict, size_t len)
{
	return (uint32_t)adler32(adler32(0, NULL, 0), dict, (uInt)len);
}

int
kr_unzip(void *dst, size_t want, const void *src, size_t len, kr_zip_dict_fn *dict, void *arg)
{
	z_stream z = { 0 };
	int zrc;

	if (want > UINT32_MAX || len > UINT32_MAX || inflateInit(&z) != Z_OK)
		return -1;
	z.next_in = (Bytef *)src;
	z.avail_in = (uInt)len;
	z.next_out = dst;
	z.avail_out = (uInt)want;
	zrc = inflate(&z, Z_FINISH);
	if (zrc == Z_NEED_DICT) {
		size_t dlen = 0;
		const void *d = dict ? dict(arg, (uint32_t)z.adler, &dlen) : NULL;
		if (d && inflateSetDictionary(&z, d, (uInt)dlen) == Z_OK)
			zrc = inflate(&z, Z_FINISH);
	}
	/* whole, exactly want bytes, and nothing after the stream */
	if (zrc != Z_STREAM_END || z.total_out != want || z.avail_in != 0)
		zrc = Z_DATA_ERROR;
	inflateEnd(&z);
	return zrc == Z_STREAM_END ? 0 : -1;
}

long
kr_unzip_prefix(void *dst, size_t want, const void *src, size_t len)
{
	z_stream z = { 0 };
	uint8_t spare;
	int zrc;

	if (want > UINT32_MAX || inflateInit(&z) != Z_OK)
		return -1;
	z.next_in = (Bytef *)src;
	z.avail_in = (uInt)(len > UINT32_MAX ? UINT32_MAX : len);
	z.next_out = want ? dst : &spare; /* zlib wants somewhere to write, even nothing */
	z.avail_out = want ? (uInt)want : 1;
	zrc = inflate(&z, Z_FINISH);
	if (zrc != Z_STREAM_END || z.total_out != want)
		zrc = Z_DATA_ERROR;
	inflateEnd(&z);
	return zrc == Z_STREAM_END ? (long)z.total_in : -1;
}

long
kr_inflater_feed(kr_inflater *f, const void *src, size_t len, uint64_t limit, kr_buf *keep, int *ended)
{
	z_stream *z = f->z;
	uint8_t scratch[32768];
	size_t n;
	int zrc;

	*ended = 0;
	if (!z) {
		if (!(z = calloc(1, sizeof(*z))))
			return -1;
		if (inflateInit(z) != Z_OK) {
			free(z);
			return -1;
		}
		f->z = z;
	} else if (!f->open && inflateReset(z) != Z_OK) {
		return -1;
	}
	if (!f->open) {
		f->open = 1;
		f->out = 0;
	}
	z->next_in = (Bytef *)src;
	z->avail_in = (uInt)(len > UINT32_MAX ? UINT32_MAX : len);
	do {
		uint8_t *to = scratch;
		size_t room = sizeof(scratch);
		if (keep) { /* straight into keep, up to one byte past limit (which is refused) */
			uint64_t left = limit - f->out;
			room = left < sizeof(scratch) ? (size_t)left + 1 : sizeof(scratch);
			kr_buf_grow(keep, room);
			to = (uint8_t *)keep->ptr + keep->len;
		}
		z->next_out = to;
		z->avail_out = (uInt)room;
		zrc = inflate(z, Z_NO_FLUSH);
		n = room - z->avail_out;
		if (f->out < sizeof(f->head))
			memcpy(f->head + f->out, to, n < sizeof(f->head) - f->out ? n : sizeof(f->head) - f->out);
		f->out += n;
		if (keep) {
			keep->len += n;
			keep->ptr[keep->len] = '\0';
		}
		if (f->out > limit || (zrc != Z_OK && zrc != Z_STREAM_END && zrc != Z_BUF_ERROR)) {
			f->open = 0;
			return -1;
		}
		if (zrc == Z_STREAM_END) {
			f->open = 0;
			*ended = 1;
			break;
		}
		if (zrc == Z_BUF_ERROR)
			break; /* all of src taken; the stream goes on in the next piece */
	} while (z->avail_in > 0 || z->avail_out == 0);
	return (long)((const Bytef *)z->next_in - (const Bytef *)src);
}

void
kr_inflater_end(kr_inflater *f)
{
	if (!f || !f->z)
		return;
	inflateEnd(f->z);
	free(f->z);
	f->z = NULL;
	f->open = 0;
}
