/*
 * tests/unit/test_packin.c - every pack is read and its deltas resolved as
 * it arrives (sharing/store.c s_scan_feed, s_resolve_entry), and a small
 * one goes to the indexer whole (s_resolve_pack): the objects are what the
 * publisher made, no base is appended, and a damaged delta of any kind is
 * refused or gives other objects, never a crash or a wrong object under
 * the right name. A pack that claims more than its cap, lies about its
 * sizes, holds an object twice, puts a delta before its base or asks for
 * too much work is refused before the indexer sees it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "../../sharing/sign.h"
#include "../../sharing/store.h"
#include "../../sharing/zip.h"

#define PUB "ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12"
#define NFILES 4000
#define CAP ((uint64_t)1 << 30) /* a node's default max_collection_bytes */

static char s_root[64];
static kr_key *s_key;
static uint8_t s_c1[KR_OID_LEN], s_c2[KR_OID_LEN];
static kr_buf s_inline = KR_BUF_INIT; /* the pack kr_store_commit made for c2's announcement */
static kr_buf s_full = KR_BUF_INIT;   /* everything up to c1 */
static kr_buf s_thin = KR_BUF_INIT;   /* c1..c2 as a fetch gets it */

static char *
s_home(const char *name)
{
	char *p = kr_sprintf("%s/%s", s_root, name);
	mkdir(p, 0700);
	return p;
}

static void
s_file(kr_store_file *f, kr_buf *b, size_t i, const char *extra)
{
	kr_buf_clear(b);
	kr_buf_addf(b, "---\nid: 372081/case/item-%zu\ntitle: 事例 %zu%s\n---\n住民からの問合せに回答した。%zu\n", i, i,
	    extra, i);
	f->path = kr_sprintf("cases/item-%zu.md", i);
	f->data = kr_strdup(b->ptr);
	f->len = b->len;
}

static int
s_setup(void **state)
{
	kr_store *s;
	kr_store_file *fs = kr_calloc(NFILES, sizeof(*fs)), two[2];
	kr_buf b = KR_BUF_INIT;
	uint8_t have[1][KR_OID_LEN];
	int changed;

	(void)state;
	snprintf(s_root, sizeof(s_root), "/tmp/kairan-packin.XXXXXX");
	assert_non_null(mkdtemp(s_root));
	assert_int_equal(kr_key_generate(&s_key), 0);
	{
		char *home = s_home("pub");
		assert_int_equal(kr_store_open(&s, home), 0);
		free(home);
	}
	for (size_t i = 0; i < NFILES; i++)
		s_file(&fs[i], &b, i, "");
	assert_int_equal(kr_store_commit(s, PUB, "cases", fs, NFILES, "first", "t", "t@example.jp", s_key, s_c1,
	    &changed, NULL), 0);
	assert_int_equal(kr_store_cas(s, PUB, "cases", NULL, s_c1), 0);
	s_file(&two[0], &b, 7, " 改訂"); /* changed */
	s_file(&two[1], &b, NFILES, "");  /* new */
	assert_int_equal(kr_store_commit(s, PUB, "cases", two, 2, "second", "t", "t@example.jp", s_key, s_c2,
	    &changed, &s_inline), 0);
	assert_int_equal(kr_store_cas(s, PUB, "cases", s_c1, s_c2), 0);
	assert_int_equal(kr_store_pack(s, PUB, "cases", s_c1, NULL, 0, &s_full), 0);
	memcpy(have[0], s_c1, KR_OID_LEN);
	assert_int_equal(kr_store_pack(s, PUB, "cases", s_c2, (const uint8_t (*)[KR_OID_LEN])have, 1, &s_thin), 0);
	kr_store_destroy(&s);
	for (size_t i = 0; i < NFILES; i++) {
		free((char *)fs[i].path);
		free((void *)fs[i].data);
	}
	for (size_t i = 0; i < 2; i++) {
		free((char *)two[i].path);
		free((void *)two[i].data);
	}
	free(fs);
	kr_buf_release(&b);
	return 0;
}

static int
s_teardown(void **state)
{
	char *cmd = kr_sprintf("rm -rf '%s'", s_root);

	(void)state;
	assert_int_equal(system(cmd), 0);
	free(cmd);
	kr_key_destroy(&s_key);
	kr_buf_release(&s_inline);
	kr_buf_release(&s_full);
	kr_buf_release(&s_thin);
	return 0;
}

/* A town at c1 (a new home under s_root). */
static kr_store *
s_town(const char *name)
{
	kr_store *s;
	kr_packin *in;
	char *home = s_home(name);

	assert_int_equal(kr_store_open(&s, home), 0);
	free(home);
	assert_int_equal(kr_packin_new(&in, s, PUB, "cases", CAP), 0);
	assert_int_equal(kr_packin_append(in, s_full.ptr, s_full.len), 0);
	assert_int_equal(kr_packin_commit(in), 0);
	kr_packin_destroy(&in);
	assert_int_equal(kr_store_cas(s, PUB, "cases", NULL, s_c1), 0);
	return s;
}

static uint32_t
s_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* The object count of the pack named name in s's cases repository. */
static uint32_t
s_written_count(kr_store *s, const char *name)
{
	char *repo = kr_store_path(s, PUB, "cases");
	char *p = kr_sprintf("%s/objects/pack/%s.idx", repo, name);
	kr_buf b = KR_BUF_INIT;
	uint32_t n;

	assert_int_equal(kr_file_read(&b, p), 0);
	n = s_be32((const uint8_t *)b.ptr + 8 + 255 * 4);
	kr_buf_release(&b);
	free(p);
	free(repo);
	return n;
}

/*
 * Takes pack into s, given in pieces of piece bytes (0: at once), with
 * cap; 0 or the error, whose message goes to msg (when not NULL).
 */
static int
s_take_cap(kr_store *s, const kr_buf *pack, char name[64], uint64_t cap, size_t piece, kr_buf *msg)
{
	kr_packin *in;
	int rc = 0;

	assert_int_equal(kr_packin_new(&in, s, PUB, "cases", cap), 0);
	for (size_t at = 0; at < pack->len && rc == 0; at += piece ? piece : pack->len)
		rc = kr_packin_append(in, pack->ptr + at, piece && pack->len - at > piece ? piece : pack->len - at);
	if (rc == 0)
		rc = kr_packin_commit(in);
	if (rc == 0 && name)
		snprintf(name, 64, "%s", kr_packin_written(in) ? kr_packin_written(in) : "");
	if (rc < 0 && msg)
		kr_buf_addf(msg, "%s", kr_errmsg());
	kr_packin_destroy(&in);
	kr_error_clear();
	return rc;
}

/*
 * s_take_cap in a child given 20 s: a pack that makes the intake loop for
 * ever fails the test instead of hanging it.
 */
static int
s_take_guarded(kr_store *s, const kr_buf *pack, uint64_t cap, size_t piece, kr_buf *msg)
{
	int fds[2], status;
	pid_t pid;
	char buf[1024];
	ssize_t got;

	assert_int_equal(pipe(fds), 0);
	if ((pid = fork()) == 0) {
		kr_buf m = KR_BUF_INIT;
		int rc;
		close(fds[0]);
		alarm(20);
		rc = s_take_cap(s, pack, NULL, cap, piece, &m);
		if (write(fds[1], m.ptr, m.len) < 0)
			_exit(101);
		_exit(-rc);
	}
	assert_true(pid > 0);
	close(fds[1]);
	while ((got = read(fds[0], buf, sizeof(buf))) > 0)
		kr_buf_add(msg, buf, (size_t)got);
	close(fds[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	if (!WIFEXITED(status))
		fail_msg("the intake did not return within 20 s (signal %d)", WIFSIGNALED(status) ? WTERMSIG(status) : 0);
	return -WEXITSTATUS(status);
}

/* Takes pack into s; 0 or the error. */
static int
s_take(kr_store *s, const kr_buf *pack, char name[64])
{
	return s_take_cap(s, pack, name, CAP, 0, NULL);
}

/* The files in s's cases/objects/pack, one name after another. */
static void
s_pack_files(kr_store *s, kr_buf *out)
{
	char *repo = kr_store_path(s, PUB, "cases");
	char *cmd = kr_sprintf("ls -a '%s/objects/pack'", repo);
	FILE *f = popen(cmd, "r");
	char line[256];

	assert_non_null(f);
	kr_buf_clear(out);
	while (fgets(line, sizeof(line), f))
		kr_buf_addf(out, "%s", line);
	assert_int_equal(pclose(f), 0);
	free(cmd);
	free(repo);
}

/*
 * c2's two files as the publisher wrote them (all: both must be there;
 * else what can be read must be that, and something missing is fine).
 */
static void
s_check_c2(kr_store *s, int all)
{
	static const char *const path[] = { "cases/item-7.md", "cases/item-4000.md" };
	static const char *const want[] = { "事例 7 改訂", "住民からの問合せに回答した。4000" };
	kr_buf b = KR_BUF_INIT;

	for (int i = 0; i < 2; i++) {
		int rc = kr_store_read(s, PUB, "cases", s_c2, path[i], &b);
		kr_error_clear();
		if (all)
			assert_int_equal(rc, 0);
		if (rc == 0)
			assert_non_null(strstr(b.ptr, want[i]));
		kr_buf_clear(&b);
	}
	kr_buf_release(&b);
}

/* Entries of a version-2 pack of whole and REF_DELTA entries: type, header start, data start, end. */
typedef struct {
	int type;
	size_t start, data, end;
	uint64_t size;
	uint64_t made; /* the object's size (a delta's: its target's) */
} s_ent;

static size_t
s_entries(const kr_buf *pack, s_ent *v, size_t max)
{
	const uint8_t *p = (const uint8_t *)pack->ptr;
	uint32_t n = s_be32(p + 8);
	size_t pos = 12;
	kr_buf tmp = KR_BUF_INIT;

	assert_true(n <= max);
	for (uint32_t k = 0; k < n; k++) {
		uint8_t c = p[pos];
		int shift = 4;
		long used;
		v[k].start = pos++;
		v[k].type = (c >> 4) & 7;
		v[k].size = c & 15;
		while (c & 0x80) {
			c = p[pos++];
			v[k].size |= (uint64_t)(c & 0x7f) << shift;
			shift += 7;
		}
		if (v[k].type == 7)
			pos += 20;
		v[k].data = pos;
		kr_buf_clear(&tmp);
		kr_buf_grow(&tmp, v[k].size + 1);
		used = kr_unzip_prefix(tmp.ptr, v[k].size, p + pos, pack->len - 20 - pos);
		assert_true(used > 0);
		pos += (size_t)used;
		v[k].end = pos;
		v[k].made = v[k].size;
		if (v[k].type == 7) { /* base size, then target size */
			const uint8_t *d = (const uint8_t *)tmp.ptr;
			for (int j = 0; j < 2; j++) {
				v[k].made = 0;
				for (int sh = 0;; sh += 7) {
					v[k].made |= (uint64_t)(*d & 0x7f) << sh;
					if (!(*d++ & 0x80))
						break;
				}
			}
		}
	}
	kr_buf_release(&tmp);
	return n;
}

static void
test_inline_pack_is_thin_and_resolved(void **state)
{
	kr_store *s = s_town("town-inline");
	s_ent v[16];
	size_t n = s_entries(&s_inline, v, 16), deltas = 0;
	char name[64];

	(void)state;
	for (size_t i = 0; i < n; i++)
		deltas += v[i].type == 7;
	/* the root tree, cases/ and the changed file, against c1's */
	assert_true(deltas >= 2);
	assert_true(s_inline.len < 8192);
	assert_int_equal(s_take(s, &s_inline, name), 0);
	/* every object once, none appended: libgit2's fix-thin would add each base */
	assert_int_equal(s_written_count(s, name), n);
	s_check_c2(s, 1);
	kr_store_destroy(&s);
}

static void
test_fetched_thin_pack_resolved(void **state)
{
	kr_store *s = s_town("town-fetch");
	s_ent v[64];
	size_t n = s_entries(&s_thin, v, 64);
	char name[64];

	(void)state;
	{
		size_t deltas = 0;
		for (size_t i = 0; i < n; i++)
			deltas += v[i].type == 7;
		assert_true(deltas >= 1); /* thin: else nothing is resolved and the count below proves nothing */
	}
	assert_int_equal(s_take(s, &s_thin, name), 0);
	assert_int_equal(s_written_count(s, name), n);
	s_check_c2(s, 1);
	kr_store_destroy(&s);
}

/* A pack entry's header, type and size (git's encoding), appended to b. */
static void
s_hdr(kr_buf *b, int type, uint64_t size)
{
	uint8_t c = (uint8_t)((type << 4) | (size & 15));

	for (size >>= 4; size; size >>= 7) {
		kr_buf_addch(b, (char)(c | 0x80));
		c = size & 0x7f;
	}
	kr_buf_addch(b, (char)c);
}

static void
s_varint(kr_buf *b, uint64_t v)
{
	for (;; v >>= 7) {
		kr_buf_addch(b, (char)((v & 0x7f) | (v >= 0x80 ? 0x80 : 0)));
		if (v < 0x80)
			break;
	}
}

/*
 * A delta entry of the delta d appended to e: REF_DELTA against base (20
 * bytes), or OFS_DELTA ofs bytes back when base is NULL.
 */
static void
s_delta_raw(kr_buf *e, const uint8_t *base, uint64_t ofs, const kr_buf *d)
{
	kr_deflater z = { 0 };

	s_hdr(e, base ? 7 : 6, d->len);
	if (base) {
		kr_buf_add(e, base, 20);
	} else { /* git's offset encoding */
		uint8_t o[10];
		int i = 9;
		o[i] = ofs & 0x7f;
		while (ofs >>= 7)
			o[--i] = 0x80 | (--ofs & 0x7f);
		kr_buf_add(e, o + i, (size_t)(10 - i));
	}
	assert_int_equal(kr_deflater_add(&z, e, d->ptr, d->len, 1), 0);
	kr_deflater_end(&z);
}

/* The pack with entry k's inflated data replaced by d (dlen bytes), header and trailer made again. */
static void
s_rebuild(const kr_buf *pack, const s_ent *v, size_t n, size_t k, const void *d, size_t dlen, kr_buf *out)
{
	kr_deflater z = { 0 };
	kr_sha1 *h;
	uint8_t sum[20];

	kr_buf_clear(out);
	kr_buf_add(out, pack->ptr, v[k].start);
	s_hdr(out, v[k].type, dlen);
	if (v[k].type == 7)
		kr_buf_add(out, pack->ptr + v[k].data - 20, 20);
	assert_int_equal(kr_deflater_add(&z, out, d, dlen, 1), 0);
	kr_buf_add(out, pack->ptr + v[k].end, v[n - 1].end - v[k].end);
	h = kr_sha1_new();
	kr_sha1_update(h, out->ptr, out->len);
	kr_sha1_final(&h, sum);
	kr_buf_add(out, sum, 20);
	kr_deflater_end(&z);
}

/*
 * Every delta of the inline pack damaged in ways a hostile peer could
 * (each instruction byte changed, truncated, extended, sizes that lie),
 * inside a valid zlib stream and pack: each take either fails cleanly or
 * leaves objects whose names are their contents (git's rule, which the
 * indexer enforces): c2, if reachable, reads exactly as the publisher
 * wrote it.
 */
static void
test_damaged_deltas(void **state)
{
	kr_store *s = s_town("town-hostile");
	s_ent v[16];
	size_t n = s_entries(&s_inline, v, 16), tries = 0, taken = 0;
	kr_buf d = KR_BUF_INIT, bad = KR_BUF_INIT, out = KR_BUF_INIT;

	(void)state;
	srand(13);
	for (size_t k = 0; k < n; k++) {
		if (v[k].type != 7)
			continue;
		kr_buf_clear(&d);
		kr_buf_grow(&d, v[k].size + 1);
		assert_true(kr_unzip_prefix(d.ptr, v[k].size, s_inline.ptr + v[k].data, s_inline.len - 20 - v[k].data) > 0);
		d.len = v[k].size;
		for (size_t i = 0; i < d.len + 40; i++) {
			kr_buf_clear(&bad);
			kr_buf_add(&bad, d.ptr, d.len);
			if (i < d.len)
				bad.ptr[i] = (char)(i % 3 == 0 ? bad.ptr[i] ^ 0x80 : i % 3 == 1 ? 0 : rand());
			else if (i < d.len + 20)
				bad.len = (size_t)rand() % d.len; /* cut short */
			else
				for (int j = 0; j < 1 + rand() % 8; j++)
					kr_buf_addch(&bad, (char)rand()); /* more after */
			s_rebuild(&s_inline, v, n, k, bad.ptr, bad.len, &out);
			tries++;
			if (s_take(s, &out, NULL) == 0) {
				taken++;
				s_check_c2(s, 0);
			}
		}
	}
	assert_true(tries > 100);
	print_message("# %zu damaged deltas, %zu packs taken (objects under their own names)\n", tries, taken);
	/* and the real one still goes in after all that */
	assert_int_equal(s_take(s, &s_inline, NULL), 0);
	s_check_c2(s, 1);
	kr_buf_release(&d);
	kr_buf_release(&bad);
	kr_buf_release(&out);
	kr_store_destroy(&s);
}

/*
 * A delta of a few hundred kilobytes (a few hundred bytes deflated) that
 * asks for copies of a 100-byte object the town holds until the object is
 * 17 MiB: resolved here like any delta (one object in the pack written, no
 * base appended). At 65 MiB it is more than the resolver holds in memory
 * (RESOLVE_MEM_MAX): it goes on in a file, mapped, with the same result.
 */
static void
s_bomb(int mib)
{
	kr_store *s = s_town(mib == 17 ? "town-bomb17" : "town-bomb65");
	kr_store_file f;
	kr_buf b = KR_BUF_INIT, d = KR_BUF_INIT, pack = KR_BUF_INIT, hdr = KR_BUF_INIT;
	kr_deflater z = { 0 };
	uint8_t id[20], sum[20];
	kr_sha1 *h;
	size_t blen, k, tlen;
	char name[64];

	s_file(&f, &b, 3, ""); /* item-3 as c1 holds it */
	blen = f.len;
	assert_true(blen < 128);
	kr_buf_addf(&hdr, "blob %zu", blen);
	h = kr_sha1_new();
	kr_sha1_update(h, hdr.ptr, hdr.len + 1);
	kr_sha1_update(h, f.data, f.len);
	kr_sha1_final(&h, id);
	k = ((size_t)mib << 20) / blen;
	tlen = k * blen;
	s_varint(&d, blen); /* source size, then target size */
	s_varint(&d, tlen);
	for (size_t i = 0; i < k; i++) { /* copy blen bytes from offset 0 */
		kr_buf_addch(&d, (char)0x90);
		kr_buf_addch(&d, (char)blen);
	}
	kr_buf_add(&pack, "PACK\0\0\0\2\0\0\0\1", 12);
	s_hdr(&pack, 7, d.len);
	kr_buf_add(&pack, id, 20);
	assert_int_equal(kr_deflater_add(&z, &pack, d.ptr, d.len, 9), 0);
	h = kr_sha1_new();
	kr_sha1_update(h, pack.ptr, pack.len);
	kr_sha1_final(&h, sum);
	kr_buf_add(&pack, sum, 20);
	assert_true(pack.len < 256 * 1024);
	assert_int_equal(s_take(s, &pack, name), 0);
	assert_int_equal(s_written_count(s, name), 1);
	free((char *)f.path);
	free((void *)f.data);
	kr_deflater_end(&z);
	kr_buf_release(&b);
	kr_buf_release(&d);
	kr_buf_release(&pack);
	kr_buf_release(&hdr);
	kr_store_destroy(&s);
}

static void
test_delta_bomb_bounded(void **state)
{
	(void)state;
	s_bomb(17);
	s_bomb(65);
}

/* A pack of n entries made of the bytes e (elen), its header and trailer added. */
static void
s_pack_of(kr_buf *out, uint32_t n, const void *e, size_t elen)
{
	uint8_t hdr[12] = { 'P', 'A', 'C', 'K', 0, 0, 0, 2, (uint8_t)(n >> 24), (uint8_t)(n >> 16), (uint8_t)(n >> 8),
		(uint8_t)n };
	uint8_t sum[20];
	kr_sha1 *h = kr_sha1_new();

	kr_buf_clear(out);
	kr_buf_add(out, hdr, 12);
	kr_buf_add(out, e, elen);
	kr_sha1_update(h, out->ptr, out->len);
	kr_sha1_final(&h, sum);
	kr_buf_add(out, sum, 20);
}

/*
 * A pack is read as it arrives, in pieces of any size: the whole history,
 * the thin fetch and the inline pack go in fed a byte at a time, 7 and
 * 4096 bytes at a time, and give the pack they give at once.
 */
static void
test_scan_pieces(void **state)
{
	static const size_t pieces[] = { 1, 7, 4096 };
	const kr_buf *packs[] = { &s_full, &s_thin, &s_inline };
	char got[64];

	(void)state;
	for (size_t i = 0; i < 3; i++) {
		kr_store *s = s_town(i == 0 ? "town-p0" : i == 1 ? "town-p1" : "town-p2");
		assert_int_equal(s_take(s, packs[i], NULL), 0);
		for (size_t j = 0; j < 3; j++) {
			assert_int_equal(s_take_cap(s, packs[i], got, CAP, pieces[j], NULL), 0);
			assert_string_equal(got, ""); /* the same pack: there already */
		}
		if (i > 0)
			s_check_c2(s, 1);
		kr_store_destroy(&s);
	}
}

/*
 * What a pack's objects make, in all, against the cap: the whole history
 * goes in with a cap of exactly that, and is refused one byte below it,
 * whole or in pieces, with nothing left in objects/pack.
 */
static void
test_scan_cap(void **state)
{
	kr_store *s;
	static s_ent v[NFILES + 16];
	size_t n = s_entries(&s_full, v, NFILES + 16);
	uint64_t made = 0;
	kr_buf before = KR_BUF_INIT, after = KR_BUF_INIT, msg = KR_BUF_INIT;
	char *home = s_home("town-cap");

	(void)state;
	for (size_t i = 0; i < n; i++)
		made += v[i].made;
	print_message("# the whole history: %zu bytes, %zu entries, making %llu bytes\n", s_full.len, n,
	    (unsigned long long)made);
	assert_int_equal(kr_store_open(&s, home), 0);
	free(home);
	{ /* the repository, empty */
		kr_packin *in;
		assert_int_equal(kr_packin_new(&in, s, PUB, "cases", 0), 0);
		kr_packin_destroy(&in);
	}
	/* past 256 KiB a pack streams, and its scan runs on a thread of its own */
	assert_true(s_full.len > 2 * 256 * 1024);
	s_pack_files(s, &before);
	assert_int_equal(s_take_cap(s, &s_full, NULL, made - 1, 0, &msg), KR_EVERIFY);
	assert_non_null(strstr(msg.ptr, "more than the"));
	/* in pieces: refused near the end (by the scan's thread) and near the start (before it) */
	kr_buf_clear(&msg);
	assert_int_equal(s_take_cap(s, &s_full, NULL, made - 1, 1000, &msg), KR_EVERIFY);
	assert_non_null(strstr(msg.ptr, "pack entry 4003 of 4003"));
	kr_buf_clear(&msg);
	assert_int_equal(s_take_cap(s, &s_full, NULL, made / 8, 1000, &msg), KR_EVERIFY);
	assert_non_null(strstr(msg.ptr, "more than the"));
	s_pack_files(s, &after);
	assert_string_equal(before.ptr, after.ptr);
	assert_int_equal(s_take_cap(s, &s_full, NULL, made, 1000, NULL), 0);
	assert_int_equal(kr_store_cas(s, PUB, "cases", NULL, s_c1), 0);
	kr_buf_release(&before);
	kr_buf_release(&after);
	kr_buf_release(&msg);
	kr_store_destroy(&s);
}

/*
 * Claims a pack cannot make good, each refused before any indexer
 * allocates them (the fuzzer found libgit2's indexer allocating a delta's
 * claimed 2 GiB at once), with the entry and what it claims in the error.
 */
static void
test_scan_claims(void **state)
{
	kr_store *s = s_town("town-claims");
	kr_buf e = KR_BUF_INIT, pack = KR_BUF_INIT, msg = KR_BUF_INIT, before = KR_BUF_INIT, after = KR_BUF_INIT;
	kr_deflater z = { 0 };

	(void)state;
	s_pack_files(s, &before);
	/* a REF_DELTA against c1's commit claiming an object of 2 GiB (the fuzzer's input, in effect) */
	{
		static const uint8_t d[] = { 0x10, 0x80, 0x80, 0x80, 0x80, 0x08, 0x90, 0x10 };
		kr_buf_addch(&e, (char)(0x70 | sizeof(d)));
		kr_buf_add(&e, s_c1, 20);
		assert_int_equal(kr_deflater_add(&z, &e, d, sizeof(d), 1), 0);
		s_pack_of(&pack, 1, e.ptr, e.len);
		assert_int_equal(s_take_cap(s, &pack, NULL, CAP, 0, &msg), KR_EVERIFY);
		assert_non_null(strstr(msg.ptr, "2147483648"));
		assert_non_null(strstr(msg.ptr, "entry 1 of 1"));
	}
	/* a blob whose header claims more than its data inflates to, and one whose data runs past it */
	for (int more = 0; more < 2; more++) {
		kr_buf_clear(&e);
		kr_buf_clear(&msg);
		kr_buf_addch(&e, (char)(0x30 | (more ? 4 : 12)));
		assert_int_equal(kr_deflater_add(&z, &e, "ごみの", 9, 1), 0);
		s_pack_of(&pack, 1, e.ptr, e.len);
		assert_int_equal(s_take_cap(s, &pack, NULL, CAP, 3, &msg), KR_EPROTO);
		assert_non_null(strstr(msg.ptr, "entry 1 of 1"));
	}
	/* a header whose size runs past 64 bits */
	kr_buf_clear(&e);
	kr_buf_add(&e, "\xb0\xff\xff\xff\xff\xff\xff\xff\xff\x7f", 10);
	s_pack_of(&pack, 1, e.ptr, e.len);
	assert_int_equal(s_take_cap(s, &pack, NULL, CAP, 0, NULL), KR_EPROTO);
	/* a count no pack of this size could hold */
	kr_buf_clear(&e);
	s_pack_of(&pack, 0xffffffffu, e.ptr, 0);
	assert_int_equal(s_take_cap(s, &pack, NULL, CAP, 0, NULL), KR_EVERIFY);
	/* cut short (the indexer never commits), and bytes after the trailer */
	kr_buf_clear(&e);
	kr_buf_addch(&e, (char)0x39);
	assert_int_equal(kr_deflater_add(&z, &e, "ごみの", 9, 1), 0);
	s_pack_of(&pack, 1, e.ptr, e.len);
	pack.len--;
	kr_buf_clear(&msg);
	assert_int_equal(s_take_cap(s, &pack, NULL, CAP, 0, &msg), KR_EPROTO);
	assert_non_null(strstr(msg.ptr, "cut short"));
	pack.len++;
	kr_buf_addch(&pack, 0);
	kr_buf_clear(&msg);
	assert_int_equal(s_take_cap(s, &pack, NULL, CAP, 0, &msg), KR_EPROTO);
	assert_non_null(strstr(msg.ptr, "after its end"));
	pack.len--;
	s_pack_files(s, &after);
	assert_string_equal(before.ptr, after.ptr); /* nothing left behind */
	assert_int_equal(s_take_cap(s, &pack, NULL, CAP, 0, NULL), 0); /* and that blob, whole, goes in */
	kr_deflater_end(&z);
	kr_buf_release(&e);
	kr_buf_release(&pack);
	kr_buf_release(&msg);
	kr_buf_release(&before);
	kr_buf_release(&after);
	kr_store_destroy(&s);
}

/* A whole entry of type holding data (len bytes), appended to e. */
static void
s_whole(kr_buf *e, int type, const void *data, size_t len)
{
	kr_deflater z = { 0 };

	s_hdr(e, type, len);
	assert_int_equal(kr_deflater_add(&z, e, data, len, 1), 0);
	kr_deflater_end(&z);
}

/*
 * A delta entry appended to e: REF_DELTA against base (20 bytes), or
 * OFS_DELTA ofs bytes back when base is NULL; the delta copies the first
 * blen bytes of a base of blen bytes, then inserts add.
 */
static void
s_delta_entry(kr_buf *e, const uint8_t *base, uint64_t ofs, size_t blen, const char *add)
{
	kr_buf d = KR_BUF_INIT;
	size_t alen = strlen(add);

	assert_true(blen > 0 && blen < 65536 && alen < 128);
	s_varint(&d, blen);
	s_varint(&d, blen + alen);
	kr_buf_addch(&d, (char)0xb0);
	kr_buf_addch(&d, (char)(blen & 0xff));
	kr_buf_addch(&d, (char)(blen >> 8));
	if (alen) {
		kr_buf_addch(&d, (char)alen);
		kr_buf_add(&d, add, alen);
	}
	s_delta_raw(e, base, ofs, &d);
	kr_buf_release(&d);
}

static void
s_blob_id(const void *data, size_t len, uint8_t id[20])
{
	char hdr[32];
	int n = snprintf(hdr, sizeof(hdr), "blob %zu", len) + 1;
	kr_sha1 *h = kr_sha1_new();

	kr_sha1_update(h, hdr, (size_t)n);
	kr_sha1_update(h, data, len);
	kr_sha1_final(&h, id);
}

/*
 * Packs libgit2 1.5's indexer cannot take: with a delta that makes an
 * object the pack holds already, it loops for ever (an 87-byte pack hung
 * a sync); with many deltas against one base over 1 MiB, it inflates the
 * base again for each; with deltas before their bases, it tries each
 * again in a pass for each one resolved. Each is refused as it is read,
 * held or streamed, with nothing left in objects/pack; and a pack of
 * offset deltas kairan does not write, but git does, goes in whole.
 */
static void
test_resolve_refuses_loops(void **state)
{
	kr_store *s = s_town("town-loops");
	kr_buf e = KR_BUF_INIT, pack = KR_BUF_INIT, msg = KR_BUF_INIT, a = KR_BUF_INIT, before = KR_BUF_INIT,
	    after = KR_BUF_INIT, noise = KR_BUF_INIT;
	uint8_t ida[20];
	char name[64];

	(void)state;
	for (int i = 0; i < 8; i++)
		kr_buf_addf(&a, "ごみの分別を生成AIで案内した事例、その%d。", i);
	s_blob_id(a.ptr, a.len, ida);
	srand(7);
	for (int i = 0; i < 300000; i++)
		kr_buf_addch(&noise, (char)rand());
	s_pack_files(s, &before);

	/*
	 * A, then a delta against A that makes A: held; streamed behind 300 KB
	 * of noise; and streamed behind 65 MiB of zeros too, past what the
	 * resolver holds in memory (its arena goes on in a file)
	 */
	for (int streamed = 0; streamed < 3; streamed++) {
		kr_buf zeros = KR_BUF_INIT;
		kr_buf_clear(&e);
		kr_buf_clear(&msg);
		if (streamed == 2) {
			kr_buf_grow(&zeros, 65u << 20);
			memset(zeros.ptr, 0, 65u << 20);
			zeros.len = 65u << 20;
			s_whole(&e, 3, zeros.ptr, zeros.len);
		}
		if (streamed)
			s_whole(&e, 3, noise.ptr, noise.len);
		s_whole(&e, 3, a.ptr, a.len);
		s_delta_entry(&e, ida, 0, a.len, "");
		s_pack_of(&pack, 2 + (uint32_t)streamed, e.ptr, e.len);
		assert_true(streamed ? pack.len > 256 * 1024 : pack.len < 1024);
		assert_int_equal(s_take_guarded(s, &pack, CAP, 65536, &msg), KR_EPROTO);
		assert_non_null(strstr(msg.ptr, "again"));
		kr_buf_release(&zeros);
	}
	/*
	 * A delta against X (a file the town holds) that makes something new,
	 * then one against W (another) that makes X: libgit2, appending X to
	 * fix the thin pack, then finds the second delta's object there and
	 * loops. Streamed (the indexer gets it as it came).
	 */
	{
		kr_store_file fx, fw;
		kr_buf bx = KR_BUF_INIT, bw = KR_BUF_INIT, d = KR_BUF_INIT;
		uint8_t idx[20], idw[20];
		s_file(&fx, &bx, 1, "");
		s_file(&fw, &bw, 2, "");
		s_blob_id(fx.data, fx.len, idx);
		s_blob_id(fw.data, fw.len, idw);
		kr_buf_clear(&e);
		kr_buf_clear(&msg);
		s_whole(&e, 3, noise.ptr, noise.len);
		s_delta_entry(&e, idx, 0, fx.len, "追記");
		/* against W, making X: insert X's bytes, 100 at a time */
		s_varint(&d, fw.len);
		s_varint(&d, fx.len);
		for (size_t at = 0; at < fx.len; at += 100) {
			size_t n = fx.len - at < 100 ? fx.len - at : 100;
			kr_buf_addch(&d, (char)n);
			kr_buf_add(&d, (const char *)fx.data + at, n);
		}
		s_delta_raw(&e, idw, 0, &d);
		s_pack_of(&pack, 3, e.ptr, e.len);
		assert_int_equal(s_take_guarded(s, &pack, CAP, 65536, &msg), KR_EPROTO);
		assert_non_null(strstr(msg.ptr, "again"));
		free((char *)fx.path);
		free((void *)fx.data);
		free((char *)fw.path);
		free((void *)fw.data);
		kr_buf_release(&bx);
		kr_buf_release(&bw);
		kr_buf_release(&d);
	}
	/* a held pack with a delta, its checksum wrong: refused (the pack the indexer gets has a new one) */
	kr_buf_clear(&e);
	kr_buf_clear(&msg);
	s_whole(&e, 3, a.ptr, a.len);
	s_delta_entry(&e, ida, 0, a.len, "追記");
	s_pack_of(&pack, 2, e.ptr, e.len);
	pack.ptr[pack.len - 1] ^= 1;
	assert_int_equal(s_take_guarded(s, &pack, CAP, 0, &msg), KR_EPROTO);
	assert_non_null(strstr(msg.ptr, "checksum"));
	/* a delta before its base */
	kr_buf_clear(&e);
	kr_buf_clear(&msg);
	s_delta_entry(&e, ida, 0, a.len, "追記");
	s_whole(&e, 3, a.ptr, a.len);
	s_pack_of(&pack, 2, e.ptr, e.len);
	assert_int_equal(s_take_guarded(s, &pack, CAP, 0, &msg), KR_EPROTO);
	assert_non_null(strstr(msg.ptr, "neither before it in the pack nor in the repository"));
	/* 40 offset deltas of 4 bytes against one 1 MiB base, with a cap of 4 MiB: over the work bound */
	{
		kr_buf zeros = KR_BUF_INIT;
		uint64_t at;
		kr_buf_grow(&zeros, 1 << 20);
		memset(zeros.ptr, 0, 1 << 20);
		zeros.len = 1 << 20;
		kr_buf_clear(&e);
		kr_buf_clear(&msg);
		s_whole(&e, 3, zeros.ptr, zeros.len);
		for (int i = 0; i < 40; i++) {
			kr_buf d = KR_BUF_INIT;
			at = 12 + e.len;
			/* copy nothing, insert 4 bytes: the base is still read whole for each */
			s_varint(&d, zeros.len);
			s_varint(&d, 4);
			kr_buf_addf(&d, "%c%04d", 4, i);
			s_delta_raw(&e, NULL, at - 12, &d);
			kr_buf_release(&d);
		}
		s_pack_of(&pack, 41, e.ptr, e.len);
		assert_int_equal(s_take_guarded(s, &pack, 4u << 20, 0, &msg), KR_EVERIFY);
		assert_non_null(strstr(msg.ptr, "bytes of work"));
		kr_buf_release(&zeros);
	}
	s_pack_files(s, &after);
	assert_string_equal(before.ptr, after.ptr);
	/* A and an offset delta against it (as git writes): both go in whole */
	kr_buf_clear(&e);
	s_whole(&e, 3, a.ptr, a.len);
	{
		size_t at = 12 + e.len;
		s_delta_entry(&e, NULL, at - 12, a.len, "追記");
	}
	s_pack_of(&pack, 2, e.ptr, e.len);
	assert_int_equal(s_take_cap(s, &pack, name, CAP, 0, NULL), 0);
	assert_int_equal(s_written_count(s, name), 2);
	kr_buf_release(&e);
	kr_buf_release(&pack);
	kr_buf_release(&msg);
	kr_buf_release(&a);
	kr_buf_release(&before);
	kr_buf_release(&after);
	kr_buf_release(&noise);
	kr_store_destroy(&s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_inline_pack_is_thin_and_resolved),
		cmocka_unit_test(test_fetched_thin_pack_resolved),
		cmocka_unit_test(test_damaged_deltas),
		cmocka_unit_test(test_delta_bomb_bounded),
		cmocka_unit_test(test_scan_pieces),
		cmocka_unit_test(test_scan_cap),
		cmocka_unit_test(test_scan_claims),
		cmocka_unit_test(test_resolve_refuses_loops),
	};

	return cmocka_run_group_tests(tests, s_setup, s_teardown);
}
