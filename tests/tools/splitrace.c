/*
 * tests/tools/splitrace.c - a search in two halves while another process writes
 *
 * A search of many rows runs its upper half on a second connection, which
 * must see what the first sees (sharing/state.c, s_split_begin). Here a
 * writer process deletes a group of 100 items spread over the whole rowid
 * range in one transaction, then puts the group back in another, over and
 * over, while this process searches in two halves (forced) for the word
 * every item holds. Any consistent snapshot holds whole groups only, so
 * every total must be a multiple of 100, and the kind facet must add up to
 * it. A half that read a later snapshot than the other would miss part of
 * a group.
 *
 * Usage: splitrace DB SECONDS
 * Prints the number of searches and of wrong totals; exits 1 on any.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../sharing/search.h"
#include "../../sharing/state.h"

#define GROUPS 20
#define PER 100

static int
s_put(kr_state *st, int i, int gen)
{
	char path[64], id[64], body[256], blob[48], pub[] = "racepub", coll[] = "race", kind[] = "case",
	    kind2[] = "prompt", title[] = "群の試験", version[] = "1", updated[] = "2026-12-02",
	    commit[] = "0000000000000000000000000000000000000000";
	kr_state_item it = { .publisher = pub, .collection = coll, .kind = i % 2 ? kind : kind2, .title = title,
		.version = version, .updated = updated, .commit = commit };

	snprintf(path, sizeof(path), "cases/item-%05d.md", i);
	snprintf(id, sizeof(id), "race-%05d", i);
	snprintf(body, sizeof(body), "合図語を含む本文です。群%02d の%d版。ごみ収集の事例。", i % GROUPS, gen);
	snprintf(blob, sizeof(blob), "%040d", i * 7 + gen);
	it.path = path, it.id = id, it.body = body, it.blob = blob;
	return kr_state_item_put(st, &it);
}

/* Deletes group g whole, then puts it back, until killed. */
static int
s_writer(const char *db)
{
	kr_state *st;

	if (kr_state_open(&st, db) < 0)
		return 1;
	for (int gen = 1;; gen++) {
		int g = gen % GROUPS;
		for (int pass = 0; pass < 2; pass++) {
			if (kr_state_begin(st) < 0)
				return 1;
			for (int i = g; i < GROUPS * PER; i += GROUPS) {
				char path[64];
				snprintf(path, sizeof(path), "cases/item-%05d.md", i);
				if ((pass == 0 ? kr_state_item_delete(st, "racepub", "race", path) : s_put(st, i, gen)) < 0)
					return 1;
			}
			if (kr_state_commit(st) < 0)
				return 1;
		}
	}
}

int
main(int argc, char **argv)
{
	kr_state *st;
	kr_buf match = KR_BUF_INIT;
	kr_search_q q = { .limit = 10 };
	double until;
	int searches = 0, wrong = 0, status;
	pid_t pid;

	if (argc != 3) {
		fprintf(stderr, "usage: splitrace DB SECONDS\n");
		return 2;
	}
	if (kr_state_open(&st, argv[1]) < 0 || kr_state_begin(st) < 0) {
		fprintf(stderr, "splitrace: %s\n", kr_errmsg());
		return 2;
	}
	for (int i = 0; i < GROUPS * PER; i++)
		if (s_put(st, i, 0) < 0) {
			fprintf(stderr, "splitrace: %s\n", kr_errmsg());
			return 2;
		}
	if (kr_state_commit(st) < 0 || kr_search_compile("合図語", &match) < 0) {
		fprintf(stderr, "splitrace: %s\n", kr_errmsg());
		return 2;
	}
	q.match = match.ptr;
	kr_state_search_split(st, 1);
	if ((pid = fork()) == 0)
		_exit(s_writer(argv[1]));
	until = kr_monotonic_ms() + atof(argv[2]) * 1000;
	while (kr_monotonic_ms() < until) {
		kr_search_result r;
		size_t kinds = 0;
		if (kr_state_search(st, &q, &r) < 0) {
			fprintf(stderr, "splitrace: search: %s\n", kr_errmsg());
			wrong++;
			break;
		}
		for (size_t j = 0; j < r.nfacets[KR_FACET_KIND]; j++)
			kinds += r.facets[KR_FACET_KIND][j].count;
		if (r.total % PER != 0 || kinds != r.total) {
			if (wrong < 10)
				printf("wrong: %zu matches (kinds add up to %zu)\n", r.total, kinds);
			wrong++;
		}
		searches++;
		kr_search_result_free(&r);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	if (!WIFSIGNALED(status)) {
		fprintf(stderr, "splitrace: the writer stopped early: %s\n", kr_errmsg());
		wrong++;
	}
	printf("%d searches in two halves beside a writer: %d wrong totals\n", searches, wrong);
	kr_buf_release(&match);
	kr_state_destroy(&st);
	return wrong ? 1 : 0;
}
