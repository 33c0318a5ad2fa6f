/*
 * tests/tools/searchbench.c - search over 100,000 generated items, beside
 * SQLite's trigram tokenizer with a LIKE fallback for 1-2 character terms
 *
 * kairan's side goes through the real state API (kr_state_item_put, the
 * triggers, kr_search_compile, kr_state_search with facets). The baseline
 * is built here with sqlite3 directly: the same text in an FTS5 table with
 * tokenize='trigram' (which cannot match under 3 characters, hence LIKE).
 *
 * Usage: searchbench DIR N_ITEMS N_QUERIES
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sqlite3.h>

#include "../../sharing/search.h"
#include "../../sharing/state.h"
#include "../../sharing/text.h"
#include "searchcorpus.h"

/* Baseline query: trigram MATCH for terms of 3+ characters, LIKE for shorter ones; top 10 + count. */
static double
s_baseline(sqlite3 *db, char **terms, int nterms, int phrase, const char *outcome)
{
	kr_buf sql = KR_BUF_INIT, match = KR_BUF_INIT, like = KR_BUF_INIT;
	sqlite3_stmt *st;
	double t0 = kr_monotonic_ms();
	int short_terms = 0;

	for (int i = 0; i < nterms; i++) {
		size_t chars = 0;
		for (const char *p = terms[i]; *p; p++)
			chars += ((unsigned char)*p & 0xC0) != 0x80;
		if (chars < 3) {
			kr_buf_addf(&like, " AND (d.title LIKE '%%%s%%' OR d.body LIKE '%%%s%%')", terms[i], terms[i]);
			short_terms++;
		} else {
			kr_buf_addf(&match, "%s\"%s\"", match.len ? (phrase ? " + " : " AND ") : "", terms[i]);
		}
	}
	for (int pass = 0; pass < 2; pass++) {
		kr_buf_clear(&sql);
		if (match.len)
			kr_buf_addf(&sql, "SELECT %s FROM tri JOIN docs d ON d.rowid = tri.rowid WHERE tri MATCH '%s'%s%s%s%s",
			    pass ? "count(*)" : "d.rowid", match.ptr, like.ptr, outcome ? " AND d.outcome = '" : "",
			    outcome ? outcome : "", outcome ? "'" : "");
		else
			kr_buf_addf(&sql, "SELECT %s FROM docs d WHERE 1%s%s%s%s", pass ? "count(*)" : "d.rowid",
			    like.ptr, outcome ? " AND d.outcome = '" : "", outcome ? outcome : "", outcome ? "'" : "");
		if (!pass)
			kr_buf_adds(&sql, match.len ? " ORDER BY tri.rank LIMIT 10" : " LIMIT 10");
		if (sqlite3_prepare_v2(db, sql.ptr, -1, &st, NULL) != SQLITE_OK) {
			fprintf(stderr, "baseline: %s\n", sqlite3_errmsg(db));
			exit(3);
		}
		while (sqlite3_step(st) == SQLITE_ROW)
			;
		sqlite3_finalize(st);
	}
	(void)short_terms;
	kr_buf_release(&sql);
	kr_buf_release(&match);
	kr_buf_release(&like);
	return kr_monotonic_ms() - t0;
}

int
main(int argc, char **argv)
{
	char *path, *bpath;
	kr_state *st;
	sqlite3 *db;
	int nitems, nq;
	double t0, ours_build, base_build;

	if (argc != 4) {
		fprintf(stderr, "usage: searchbench DIR N_ITEMS N_QUERIES\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IONBF, 0);
	nitems = atoi(argv[2]);
	nq = atoi(argv[3]);
	path = kr_sprintf("%s/bench-state.db", argv[1]);
	bpath = kr_sprintf("%s/bench-trigram.db", argv[1]);
	remove(path);
	remove(bpath);
	if (kr_state_open(&st, path) < 0) {
		fprintf(stderr, "searchbench: %s\n", kr_errmsg());
		return 2;
	}
	sqlite3_open(bpath, &db);
	sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
	    "CREATE TABLE docs (rowid INTEGER PRIMARY KEY, title, body, outcome);"
	    "CREATE VIRTUAL TABLE tri USING fts5(title, body, content='docs', content_rowid='rowid', tokenize='trigram');",
	    NULL, NULL, NULL);

	/* Generate the corpus once; both sides index the same text. */
	sc_corpus c;
	sc_corpus_make(&c, nitems);
	char **bodies = c.bodies, **titles = c.titles;
	const char **outs = c.outcomes, **doms = c.domains;
	size_t bytes = c.bytes;
	t0 = kr_monotonic_ms();
	kr_state_begin(st);
	for (int i = 0; i < nitems; i++) {
		char id[64], path_[64], dom[64];
		snprintf(id, sizeof(id), "372081/case/b%d", i);
		snprintf(path_, sizeof(path_), "cases/b%d.md", i);
		snprintf(dom, sizeof(dom), "\n%s\n", doms[i]);
		kr_state_item it = { .publisher = (char *)"00", .collection = (char *)"cases", .path = path_,
			.id = id, .kind = (char *)"case", .title = titles[i], .version = (char *)"1.0.0",
			.updated = (char *)"2024-06-01", .blob = (char *)"0", .commit = (char *)"0",
			.body = bodies[i], .meta = (char *)"", .lg_code = (char *)"372081", .pref = (char *)"37",
			.domains = dom, .outcome = (char *)outs[i] };
		if (kr_state_item_put(st, &it) < 0) {
			fprintf(stderr, "searchbench: %s\n", kr_errmsg());
			return 2;
		}
	}
	kr_state_commit(st);
	ours_build = kr_monotonic_ms() - t0;

	t0 = kr_monotonic_ms();
	sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
	{
		sqlite3_stmt *ins;
		sqlite3_prepare_v2(db, "INSERT INTO docs (rowid, title, body, outcome) VALUES (?, ?, ?, ?)", -1, &ins, NULL);
		for (int i = 0; i < nitems; i++) {
			sqlite3_bind_int(ins, 1, i + 1);
			sqlite3_bind_text(ins, 2, titles[i], -1, SQLITE_STATIC);
			sqlite3_bind_text(ins, 3, bodies[i], -1, SQLITE_STATIC);
			sqlite3_bind_text(ins, 4, outs[i], -1, SQLITE_STATIC);
			sqlite3_step(ins);
			sqlite3_reset(ins);
		}
		sqlite3_finalize(ins);
	}
	sqlite3_exec(db, "INSERT INTO tri(tri) VALUES('rebuild'); COMMIT;", NULL, NULL, NULL);
	base_build = kr_monotonic_ms() - t0;
	sqlite3_exec(db, "PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL);
	kr_state_destroy(&st);
	kr_state_open(&st, path);

	printf("corpus: %d items, %.1f MB of Japanese text\n", nitems, (double)bytes / 1e6);
	printf("index build: kairan %.1f s, %.0f MB (items + FTS)   trigram %.1f s, %.0f MB (docs + FTS)\n",
	    ours_build / 1000, (double)sc_size(path) / 1e6, base_build / 1000, (double)sc_size(bpath) / 1e6);
	printf("%-28s %21s   %21s   %s\n", "query shape", "kairan p50 / p99 ms", "trigram+LIKE p50 / p99 ms",
	    "matches (mean)");

	const sc_shape *shapes = sc_shapes;
	double worst_p50 = 0, worst_p99 = 0;
	for (size_t s = 0; s < SC_N(sc_shapes); s++) {
		double *ours = kr_calloc((size_t)nq, sizeof(double)), *base = kr_calloc((size_t)nq, sizeof(double));
		double matches = 0;
		for (int i = 0; i < nq; i++) {
			char *terms[2];
			int nt;
			kr_buf q = KR_BUF_INIT, match = KR_BUF_INIT;
			kr_search_q sq = { .limit = 10, .outcome = shapes[s].facet ? SC_FACET_OUTCOME : NULL };
			kr_search_result r;
			nt = sc_query(&c, &shapes[s], terms, &q);
			t0 = kr_monotonic_ms();
			if (kr_search_compile(q.ptr, &match) < 0 || (sq.match = match.ptr, kr_state_search(st, &sq, &r) < 0)) {
				fprintf(stderr, "searchbench: %s: %s\n", q.ptr, kr_errmsg());
				return 2;
			}
			ours[i] = kr_monotonic_ms() - t0;
			matches += (double)r.total;
			kr_search_result_free(&r);
			base[i] = s_baseline(db, terms, nt, shapes[s].phrase, sq.outcome);
			for (int k = 0; k < nt; k++)
				free(terms[k]);
			kr_buf_release(&q);
			kr_buf_release(&match);
		}
		printf("%-28s %9.1f / %-9.1f   %9.1f / %-9.1f   %8.0f\n", shapes[s].name, sc_pct(ours, nq, 50),
		    sc_pct(ours, nq, 99), sc_pct(base, nq, 50), sc_pct(base, nq, 99), matches / nq);
		if (sc_pct(ours, nq, 50) > worst_p50)
			worst_p50 = sc_pct(ours, nq, 50);
		if (sc_pct(ours, nq, 99) > worst_p99)
			worst_p99 = sc_pct(ours, nq, 99);
		free(ours);
		free(base);
	}
	printf("worst shape: p50 %.1f ms, p99 %.1f ms   [target p50 <= 5 ms, p99 <= 50 ms]\n", worst_p50, worst_p99);
	sqlite3_close(db);
	kr_state_destroy(&st);
	return 0;
}
