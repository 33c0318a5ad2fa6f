/*
 * sharing/zip.h - zlib streams (the only file that includes zlib.h)
 *
 * Three users: the pack writer (store.c) deflates every entry of a pack
 * with one reusable state, the pack intake (store.c) inflates every entry
 * a peer sends to see what it claims before libgit2 does, and state.c
 * keeps item bodies deflated (with a preset dictionary made from the
 * bodies themselves).
 * Neither thread-safe nor shared: a kr_deflater belongs to its caller.
 */
#ifndef KR_ZIP_H
#define KR_ZIP_H

#include <stddef.h>
#include <stdint.h>

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

/*
 * kr_deflater_add with a preset dictionary (dlen bytes; NULL: none), as
 * zlib's format allows: the stream names it by its Adler-32
 * (kr_zip_dict_id), and only an inflate given the same bytes reads it.
 */
int kr_deflater_add_dict(kr_deflater *d, kr_buf *out, const void *data, size_t len, int level,
    const void *dict, size_t dlen);

/* The Adler-32 a zlib stream names its preset dictionary by. */
uint32_t kr_zip_dict_id(const void *dict, size_t len);

/* The preset dictionary named id, its length in *len; NULL if unknown. */
typedef const void *kr_zip_dict_fn(void *arg, uint32_t id, size_t *len);

/*
 * Inflates the zlib stream src (len bytes) into dst, which holds want
 * bytes; a stream that names a preset dictionary gets it from dict(arg,
 * ...) (dict NULL: such a stream is refused). Returns 0 when the stream
 * is whole, nothing follows it, and it inflates to exactly want bytes,
 * else -1 (no error set: the caller says what was damaged).
 */
int kr_unzip(void *dst, size_t want, const void *src, size_t len, kr_zip_dict_fn *dict, void *arg);

/*
 * The zlib stream at the start of src (up to len bytes, more may follow,
 * as in a pack) inflated into dst, which holds want bytes. Returns the
 * bytes the stream took from src, or -1 when it is damaged, cut short,
 * or does not inflate to exactly want bytes.
 */
long kr_unzip_prefix(void *dst, size_t want, const void *src, size_t len);

/*
 * zlib streams one after another, fed in pieces as they arrive (a pack
 * being fetched): what each inflates to is counted and its first bytes
 * kept; the rest is thrown away. Zero-initialise; kr_inflater_end frees it.
 */
typedef struct {
	void *z;
	int open;          /* a stream has begun and not ended */
	uint64_t out;      /* what it inflated to so far (after it ended: in all) */
	uint8_t head[24];  /* its first bytes (out of them, when fewer) */
} kr_inflater;

/*
 * Feeds src (len bytes) to the current stream, or to a new one when the
 * last one ended; what it inflates to is appended to keep (NULL: thrown
 * away). Returns the bytes of src it took: all of them, or fewer when the
 * stream ended there (*ended = 1; what follows is not its). Returns -1
 * when the stream is damaged or inflates to more than limit bytes, which
 * it stops at (no error set: the caller says where).
 */
long kr_inflater_feed(kr_inflater *f, const void *src, size_t len, uint64_t limit, kr_buf *keep, int *ended);

/* Frees f's state; f can be used again. NULL-safe. */
void kr_inflater_end(kr_inflater *f);

#endif
