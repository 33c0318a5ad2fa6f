/*
 * tests/tools/maintrace.c - a consolidation between a publish's commit and
 * its ref (t0098)
 *
 * The interleaving a node can meet: its serve loop writes a publish's
 * commit (a pack of its own), then its maintenance thread (node/pubmaint.c,
 * its own kr_store) repacks the collection from the head it reads then,
 * and only then does the loop move the ref. After 17 publishes, so the
 * repack is due. Prints what the consolidation did and exits 0 when the
 * new head is whole afterwards (its item read back through a fresh store);
 * real git checks the repository in the test.
 *
 * Usage: maintrace HOME PUBLISHER-FPR
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../sharing/common.h"
#include "../../sharing/sign.h"
#include "../../sharing/store.h"

int
main(int argc, char **argv)
{
	kr_store *loop = NULL, *maint = NULL, *fresh = NULL;
	kr_key *key = NULL;
	uint8_t head[KR_OID_LEN], next[KR_OID_LEN];
	kr_buf out = KR_BUF_INIT;
	kr_store_file last = { "cases/last.md", "the last\n", 9 };
	char *kp;
	int changed, done;

	if (argc != 3) {
		fprintf(stderr, "usage: maintrace HOME PUBLISHER-FPR\n");
		return 2;
	}
	kp = kr_sprintf("%s/keys/node.ed25519", argv[1]);
	if (kr_key_load(&key, kp) < 0 || kr_store_open(&loop, argv[1]) < 0 || kr_store_open(&maint, argv[1]) < 0) {
		fprintf(stderr, "maintrace: %s\n", kr_errmsg());
		return 2;
	}
	for (int i = 0; i < 17; i++) {
		char path[64], data[64];
		snprintf(path, sizeof(path), "cases/r%d.md", i);
		snprintf(data, sizeof(data), "item %d\n", i);
		kr_store_file f = { path, data, strlen(data) };
		if (kr_store_head(loop, argv[2], "cases", head) < 0 ||
		    kr_store_commit(loop, argv[2], "cases", &f, 1, "m\n", "n", "e@x", key, next, &changed, NULL) < 0 ||
		    kr_store_cas(loop, argv[2], "cases", head, next) < 0) {
			fprintf(stderr, "maintrace: commit %d: %s\n", i, kr_errmsg());
			return 2;
		}
	}
	if (kr_store_head(loop, argv[2], "cases", head) < 0 ||
	    kr_store_commit(loop, argv[2], "cases", &last, 1, "m\n", "n", "e@x", key, next, &changed, NULL) < 0) {
		fprintf(stderr, "maintrace: %s\n", kr_errmsg());
		return 2;
	}
	kr_store_maintain(maint, argv[2], "cases", 0, &done);
	printf("consolidated between the commit and its ref: %s\n", done ? "yes" : "no");
	if (kr_store_cas(loop, argv[2], "cases", head, next) < 0) {
		printf("moving the ref: %s\n", kr_errmsg());
		return 1;
	}
	if (kr_store_open(&fresh, argv[1]) < 0 || kr_store_head(fresh, argv[2], "cases", head) < 0 ||
	    kr_store_read(fresh, argv[2], "cases", head, "cases/last.md", &out) < 0) {
		printf("reading the new head: %s\n", kr_errmsg());
		return 1;
	}
	printf("the new head reads back (%zu bytes)\n", out.len);
	kr_buf_release(&out);
	kr_store_destroy(&fresh);
	kr_store_destroy(&maint);
	kr_store_destroy(&loop);
	kr_key_destroy(&key);
	free(kp);
	return 0;
}
