/*
 * tests/unit/test_store.c - kr_store_commit writes the trees git makes
 *
 * kr_store_commit builds each commit's tree itself (s_tree_update), and
 * asks libgit2 only for what it does not take. Random publishes (files
 * added, replaced and removed, nested directories, names that sort next to
 * a directory's, names it leaves to libgit2, directories emptied) go into a
 * store; each is replayed into a shadow repository with the git CLI
 * (update-index, write-tree), and the two trees must be the same object.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "../../sharing/sign.h"
#include "../../sharing/store.h"

#define PUB "cd34cd34cd34cd34cd34cd34cd34cd34cd34cd34cd34cd34cd34cd34cd34cd34"

static char s_root[64];

/* The first line git prints for cmd (run under sh in the shadow repository), into out. */
static void
s_git(char *out, size_t len, const char *fmt, ...)
{
	char cmd[1024];
	va_list ap;
	FILE *p;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	p = popen(cmd, "r");
	assert_non_null(p);
	out[0] = '\0';
	if (!fgets(out, (int)len, p))
		out[0] = '\0';
	out[strcspn(out, "\n")] = '\0';
	assert_int_equal(pclose(p), 0);
}

static const char *const s_dirs[] = { "cases", "cases/sub", "cases/sub/deep", "prompts/a", "prompts/a-b",
	"datasets/d1/data", "" };
static const char *const s_names[] = { "n0.md", "n1.md", "n2.md", "sub.md", "sub-x.md", "sub0.md", "a.md",
	"deep.jsonl", "data.md", "Z.md", "ケース.md", "x~1.md", "zz_last.md", "b" };

static void
test_trees_as_git_makes_them(void **state)
{
	enum { MAXPATHS = sizeof(s_dirs) / sizeof(s_dirs[0]) * sizeof(s_names) / sizeof(s_names[0]) };
	char *paths[MAXPATHS];
	size_t dirof[MAXPATHS];
	int have[MAXPATHS] = { 0 }, npaths = 0;
	kr_store *s;
	kr_key *key;
	char *home, *shadow, *repo, line[256], cmp[256];
	uint8_t head[KR_OID_LEN];
	int has_head = 0, rounds = 0, libgit2_names = 0, emptied = 0;
	unsigned seed = 20261203;
	(void)state;

	snprintf(s_root, sizeof(s_root), "/tmp/kairan-store.XXXXXX");
	assert_non_null(mkdtemp(s_root));
	home = kr_sprintf("%s/home", s_root);
	shadow = kr_sprintf("%s/shadow", s_root);
	mkdir(home, 0700);
	assert_int_equal(kr_key_generate(&key), 0);
	assert_int_equal(kr_store_open(&s, home), 0);
	s_git(line, sizeof(line), "git init -q %s && echo ok", shadow);
	/* the names left to libgit2 at the top only: a round that has one is libgit2's whole */
	for (size_t d = 0; d < sizeof(s_dirs) / sizeof(s_dirs[0]); d++)
		for (size_t n = 0; n < sizeof(s_names) / sizeof(s_names[0]); n++) {
			if (*s_dirs[d] && (strstr(s_names[n], "ケース") || strchr(s_names[n], '~')))
				continue;
			dirof[npaths] = d;
			paths[npaths++] = *s_dirs[d] ? kr_sprintf("%s/%s", s_dirs[d], s_names[n]) : kr_strdup(s_names[n]);
		}
	for (int r = 0; r < 150; r++) {
		kr_store_file f[16];
		kr_buf data[16];
		int nf = 0, changed = 0, used[MAXPATHS] = { 0 };
		uint8_t out[KR_OID_LEN];
		/* a first publish of many; later ones of a few; every 25th removes most of what is there */
		int want = r == 0 ? 12 : 1 + (int)(rand_r(&seed) % 6);
		/* every 20th round empties one directory (and the ones only it held) */
		if (r % 20 == 19) {
			size_t d = (size_t)(r / 20) % (sizeof(s_dirs) / sizeof(s_dirs[0]) - 1);
			for (int k = 0; k < npaths; k++) {
				if (!have[k] || dirof[k] != d)
					continue;
				used[k] = 1;
				data[nf] = (kr_buf)KR_BUF_INIT;
				f[nf].path = paths[k];
				f[nf].data = NULL;
				f[nf++].len = 0;
				emptied++;
			}
			want = 0;
		}
		for (int i = 0; i < want; i++) {
			int k = (int)(rand_r(&seed) % npaths), rm;
			if (used[k])
				continue;
			used[k] = 1;
			rm = have[k] && (r % 25 == 24 || rand_r(&seed) % 3 == 0);
			data[nf] = (kr_buf)KR_BUF_INIT;
			f[nf].path = paths[k];
			if (rm) {
				f[nf].data = NULL;
				f[nf].len = 0;
			} else {
				kr_buf_addf(&data[nf], "round %d, %s, %u\n", r, paths[k], rand_r(&seed) % 4);
				f[nf].data = data[nf].ptr;
				f[nf].len = data[nf].len;
			}
			libgit2_names += strstr(paths[k], "ケース") || strchr(paths[k], '~');
			nf++;
		}
		assert_int_equal(kr_store_commit(s, PUB, "cases", f, (size_t)nf, "round", "t", "t@example.jp", key, out,
		    &changed, NULL), 0);
		/* the same in the shadow repository's index: one update-index per round (blobs named, not written) */
		{
			kr_buf info = KR_BUF_INIT;
			FILE *p;
			for (int i = 0; i < nf; i++) {
				int k = 0;
				while (paths[k] != f[i].path)
					k++;
				if (!f[i].data) {
					kr_buf_addf(&info, "0 %040d\t%s\n", 0, f[i].path);
					have[k] = 0;
				} else {
					kr_sha1 *h = kr_sha1_new();
					uint8_t id[20];
					char hex[41], hdr[32];
					int hl = snprintf(hdr, sizeof(hdr), "blob %zu", f[i].len);
					kr_sha1_update(h, hdr, (size_t)hl + 1);
					kr_sha1_update(h, f[i].data, f[i].len);
					kr_sha1_final(&h, id);
					kr_hex(hex, id, 20);
					kr_buf_addf(&info, "100644 %s\t%s\n", hex, f[i].path);
					have[k] = 1;
				}
				kr_buf_release(&data[i]);
			}
			snprintf(line, sizeof(line), "git -C %s update-index --index-info", shadow);
			p = popen(line, "w");
			assert_non_null(p);
			fwrite(info.ptr, 1, info.len, p);
			assert_int_equal(pclose(p), 0);
			kr_buf_release(&info);
		}
		s_git(cmp, sizeof(cmp), "git -C %s write-tree --missing-ok", shadow);
		if (!changed)
			continue;
		assert_int_equal(kr_store_cas(s, PUB, "cases", has_head ? head : NULL, out), 0);
		memcpy(head, out, KR_OID_LEN);
		has_head = 1;
		repo = kr_store_path(s, PUB, "cases");
		s_git(line, sizeof(line), "git --git-dir=%s rev-parse main^{tree}", repo);
		free(repo);
		if (strcmp(line, cmp) != 0)
			fail_msg("round %d: kairan's tree %s, git's %s", r, line, cmp);
		rounds++;
	}
	repo = kr_store_path(s, PUB, "cases");
	s_git(line, sizeof(line), "git --git-dir=%s fsck --strict --no-dangling 2>&1 && echo ok", repo);
	free(repo);
	print_message("%d commits compared, %d files removed to empty a directory, %d of the files' names left to "
	    "libgit2\n", rounds, emptied, libgit2_names);
	assert_true(rounds > 100);
	assert_true(libgit2_names > 0);
	assert_true(emptied > 0);
	kr_store_destroy(&s);
	kr_key_destroy(&key);
	for (int k = 0; k < npaths; k++)
		free(paths[k]);
	s_git(line, sizeof(line), "rm -rf %s && echo ok", s_root);
	free(home);
	free(shadow);
}

/*
 * A file and a directory of one name in one publish ("a", "a-b", "a/x":
 * not next to each other in git's order) is refused, as libgit2 refuses
 * it, not written as a tree that names "a" twice (review of ec66428).
 */
static void
test_file_and_directory_of_one_name(void **state)
{
	kr_store *s;
	kr_key *key;
	char root[64], *home, *repo, line[256];
	const kr_store_file f[] = {
		{ .path = "cases/a", .data = "1\n", .len = 2 },
		{ .path = "cases/a-b", .data = "2\n", .len = 2 },
		{ .path = "cases/a/x", .data = "3\n", .len = 2 },
	};
	uint8_t out[KR_OID_LEN];
	int changed = 0;
	(void)state;

	snprintf(root, sizeof(root), "/tmp/kairan-store.XXXXXX");
	assert_non_null(mkdtemp(root));
	home = kr_sprintf("%s/home", root);
	mkdir(home, 0700);
	assert_int_equal(kr_key_generate(&key), 0);
	assert_int_equal(kr_store_open(&s, home), 0);
	assert_true(kr_store_commit(s, PUB, "cases", f, 3, "df", "t", "t@example.jp", key, out, &changed, NULL) < 0);
	/* and each half alone is taken */
	assert_int_equal(kr_store_commit(s, PUB, "cases", f, 2, "files", "t", "t@example.jp", key, out, &changed, NULL), 0);
	assert_int_equal(kr_store_cas(s, PUB, "cases", NULL, out), 0);
	repo = kr_store_path(s, PUB, "cases");
	s_git(line, sizeof(line), "git --git-dir=%s fsck --strict --no-dangling 2>&1 && git --git-dir=%s ls-tree "
	    "main:cases | wc -l", repo, repo);
	assert_string_equal(line, "2");
	free(repo);
	kr_store_destroy(&s);
	kr_key_destroy(&key);
	s_git(line, sizeof(line), "rm -rf %s && echo ok", root);
	free(home);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_trees_as_git_makes_them),
		cmocka_unit_test(test_file_and_directory_of_one_name),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
