/*
 * tests/fuzz/replay.c - runs a libFuzzer target's inputs without libFuzzer
 *
 * Linked with one tests/fuzz/fuzz_*.c by the ordinary compiler, so
 * `make check` replays every seed (tests/fuzz/corpus/<target>/) and every
 * input that once crashed (tests/fuzz/regress/<target>/) without clang:
 * an input that crashes again crashes this process (under
 * SANITIZE=address,undefined, with the sanitizer's report).
 *
 * Usage: replay_<target> FILE|DIR...   prints "<target>: N input(s) replayed"
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../../sharing/common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static size_t s_count;

static int
s_replay(const char *path)
{
	struct stat st;
	kr_buf b = KR_BUF_INIT;

	if (stat(path, &st) < 0) {
		fprintf(stderr, "replay: %s: no such file or directory\n", path);
		return 1;
	}
	if (S_ISDIR(st.st_mode)) {
		DIR *d = opendir(path);
		struct dirent *e;
		int rc = 0;
		while (d && (e = readdir(d))) {
			char *p;
			if (e->d_name[0] == '.')
				continue;
			p = kr_sprintf("%s/%s", path, e->d_name);
			rc |= s_replay(p);
			free(p);
		}
		if (d)
			closedir(d);
		return rc;
	}
	if (kr_file_read(&b, path) < 0) {
		fprintf(stderr, "replay: %s\n", kr_errmsg());
		return 1;
	}
	{
		/* an exact-size copy, so an over-read past the input is caught as under libFuzzer */
		uint8_t *copy = kr_malloc(b.len);
		memcpy(copy, b.ptr, b.len);
		LLVMFuzzerTestOneInput(copy, b.len);
		free(copy);
	}
	kr_buf_release(&b);
	s_count++;
	return 0;
}

int
main(int argc, char **argv)
{
	int rc = 0;
	const char *name = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];

	for (int i = 1; i < argc; i++)
		rc |= s_replay(argv[i]);
	printf("%s: %zu input(s) replayed\n", name, s_count);
	return rc;
}
