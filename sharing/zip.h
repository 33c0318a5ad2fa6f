/*
 * sharing/zip.h - zlib streams (the only file that includes zlib.h)
 *
 * Two users: the pack writer (store.c) deflates every entry of a pack
 * with one reusable state, and state.c keeps item bodies deflated.
 * Neither thread-safe nor shared: a kr_deflater belongs to its caller.
 */
#ifndef KR_ZIP_H
#define KR_ZIP_H

#include <stddef.h>

#include "common.h"

/* zlib's levels, without its header */
enum { KR_ZIP_DEFAULT = -1, KR_ZIP_FASTEST = 1 };

/* One deflate state reused for many streams (deflateInit allocates and
 * clears ~270 KB; a pack has thousands of entries). Zero-initialise it. */
typedef struct {
	void *z;
	int level;
} kr_deflater;

/*
 * Appends to out one complete zlib stream of data at level (zlib's 0..9,
 * -1 its default). Returns 0, or KR_ERROR (zlib failed; out's length as
 * before). Resets d's state when the level is the same, else makes a new one.
 */
int kr_deflater_add(kr_deflater *d, kr_buf *out, const void *data, size_t len, int level);

/* Frees d's state; d can be used again. NULL-safe. */
void kr_deflater_end(kr_deflater *d);

/* Appends a zlib stream of data at the fastest level. Returns 0 or KR_ERROR. */
int kr_zip(kr_buf *out, const void *data, size_t len);

/*
 * Inflates the zlib stream src (len bytes) into dst, which holds want
 * bytes. Returns 0 when the stream is whole and inflates to exactly want
 * bytes, else -1 (no error set: the caller says what was damaged).
 */
int kr_unzip(void *dst, size_t want, const void *src, size_t len);

#endif
