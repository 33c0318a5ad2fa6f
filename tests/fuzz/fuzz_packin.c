/*
 * tests/fuzz/fuzz_packin.c - libFuzzer target: a pack a peer sends
 *
 * kr_packin takes every pack a town fetches or finds in an announcement;
 * each entry is read and resolved as it arrives (sharing/store.c
 * s_scan_feed, s_resolve_entry), and a small pack goes to libgit2's
 * indexer with its objects whole (s_resolve_pack); a larger one streams to
 * it while the scan runs on a thread of its own (s_scanner_*). `make fuzz`
 * builds with KR_HELD_PACK_MAX at 1 KiB instead of 256 KiB, so that
 * inputs take both ways. A repository with one commit is made once; the
 * first byte of the input chooses how the rest is used:
 * - even: entries of a pack; the header (with a count from the second
 *   byte) and the SHA-1 trailer are added here, so the parser is reached
 *   past the trailer check;
 * - odd: the inflated data of one REF_DELTA against an object the
 *   repository holds (the second byte chooses which), deflated and framed
 *   here, so the fuzzer writes delta instructions directly.
 * The first byte's other seven bits, k, give the pieces the pack is
 * handed over in, as a peer's chunks arrive: k * k bytes (1 to 16,129),
 * or all at once for 0. So the scan stops and goes on anywhere in an
 * entry, and a pack can be held for a few pieces before it streams, as one
 * over 256 KiB is.
 * A pack that goes in is dropped again, so the repository stays small.
 */
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../sharing/sign.h"
#include "../../sharing/store.h"
#include "../../sharing/zip.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define PUB "ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12"

static kr_store *s_store;
static char s_dir[] = "/tmp/kairan-fuzz-packin.XXXXXX";
static uint8_t s_bases[3][20];   /* a blob, the cases/ tree, the root tree's commit (ids of objects held) */
static size_t s_blen[3];

static void
s_sha(uint8_t out[20], const void *a, size_t alen, const void *b, size_t blen)
{
	kr_sha1 *h = kr_sha1_new();

	kr_sha1_update(h, a, alen);
	if (blen)
		kr_sha1_update(h, b, blen);
	kr_sha1_final(&h, out);
}

static int
s_rm(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* the repository goes with the process */
static void
s_cleanup(void)
{
	kr_store_destroy(&s_store);
	nftw(s_dir, s_rm, 16, FTW_DEPTH | FTW_PHYS);
}

static void
s_init(void)
{
	kr_store_file f[4];
	kr_key *key = NULL;
	uint8_t c1[KR_OID_LEN];
	char body[4][160];
	int changed;

	if (!mkdtemp(s_dir) || kr_key_generate(&key) < 0 || kr_store_open(&s_store, s_dir) < 0)
		abort();
	atexit(s_cleanup);
	for (int i = 0; i < 4; i++) {
		snprintf(body[i], sizeof(body[i]), "---\nid: 372081/case/f-%d\ntitle: 事例 %d\n---\n住民からの問合せに回答した。%d\n",
		    i, i, i);
		f[i].path = i == 0 ? "cases/f-0.md" : i == 1 ? "cases/f-1.md" : i == 2 ? "cases/f-2.md" : "cases/f-3.md";
		f[i].data = body[i];
		f[i].len = strlen(body[i]);
	}
	if (kr_store_commit(s_store, PUB, "cases", f, 4, "seed", "t", "t@example.jp", key, c1, &changed, NULL) < 0 ||
	    kr_store_cas(s_store, PUB, "cases", NULL, c1) < 0)
		abort();
	/* bases the deltas may name: blobs of the files (their ids computed as git does) */
	for (int i = 0; i < 3; i++) {
		char hdr[32];
		int n = snprintf(hdr, sizeof(hdr), "blob %zu", f[i].len);
		s_sha(s_bases[i], hdr, (size_t)n + 1, f[i].data, f[i].len);
		s_blen[i] = f[i].len;
	}
	kr_key_destroy(&key);
}

static void
s_header(kr_buf *b, int type, size_t size)
{
	uint8_t c = (uint8_t)((type << 4) | (size & 15));

	size >>= 4;
	while (size) {
		kr_buf_addch(b, (char)(c | 0x80));
		c = size & 0x7f;
		size >>= 7;
	}
	kr_buf_addch(b, (char)c);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	kr_buf pack = KR_BUF_INIT;
	kr_packin *in = NULL;
	uint8_t sum[20];
	size_t piece;

	if (!s_store)
		s_init();
	if (size < 2)
		return 0;
	if (data[0] % 2 == 0) {
		uint8_t hdr[12] = { 'P', 'A', 'C', 'K', 0, 0, 0, 2, 0, 0, 0, (uint8_t)(data[1] % 16) };
		kr_buf_add(&pack, hdr, 12);
		kr_buf_add(&pack, data + 2, size - 2);
	} else {
		kr_deflater z = { 0 };
		uint8_t hdr[12] = { 'P', 'A', 'C', 'K', 0, 0, 0, 2, 0, 0, 0, 1 };
		kr_buf_add(&pack, hdr, 12);
		s_header(&pack, 7, size - 2);
		kr_buf_add(&pack, s_bases[data[1] % 3], 20);
		if (kr_deflater_add(&z, &pack, data + 2, size - 2, 1) < 0)
			abort();
		kr_deflater_end(&z);
	}
	s_sha(sum, pack.ptr, pack.len, NULL, 0);
	kr_buf_add(&pack, sum, 20);
	if (!(piece = (size_t)(data[0] >> 1) * (data[0] >> 1)))
		piece = pack.len;
	if (kr_packin_new(&in, s_store, PUB, "cases", (uint64_t)1 << 30) == 0) {
		int rc = 0;
		for (size_t at = 0; at < pack.len && rc == 0; at += piece)
			rc = kr_packin_append(in, pack.ptr + at, pack.len - at < piece ? pack.len - at : piece);
		if (rc == 0 && kr_packin_commit(in) == 0 && kr_packin_written(in)) {
			uint64_t bytes;
			kr_store_drop_pack(s_store, PUB, "cases", kr_packin_written(in), &bytes);
		}
		kr_packin_destroy(&in);
	}
	kr_error_clear();
	kr_buf_release(&pack);
	return 0;
}
