/*
 * tests/tools/groongabench.c - kairan's search beside Groonga on the same
 * generated corpus and the same queries (issue 13, `make bench`)
 *
 * kairan's side goes through the real state API (kr_state_items_put, the
 * bulk write of a first sync, kr_search_compile, kr_state_search: count, top 10 with
 * snippets, facet counts). Groonga's side is in-process libgroonga: a
 * table with the same title and body, facet columns that refer to key
 * tables (Groonga's idiom for drilldowns), a lexicon with
 * TokenBigram and NormalizerNFKC150("unify_kana", true) (katakana and
 * hiragana match each other, as kairan folds them), an index over title
 * and body built after the load (Groonga's fast static indexing), and per
 * query one `select` with the match, the facet filter, the count, the top
 * 10 by score (title weight 10) and a drilldown over every facet column,
 * with Groonga's query cache off. The match counts of the two engines are
 * compared on every query.
 *
 * Usage: groongabench DIR N_ITEMS N_QUERIES [--reuse]
 *        groongabench --files FILES_DIR DIR
 * (--files: Groonga alone loads and indexes the items in FILES_DIR, the
 * first-sync bench's Markdown files (title from the front matter, body
 * after it), into a new database in DIR, as it builds the one above;
 * prints the milliseconds, reading the files not included)
 * (--reuse: keep DIR's indexes from an earlier run with the same N_ITEMS
 * and only run the queries; the build figures are then not printed)
 * BENCH_CLOCK=cpu times queries and both index builds in process CPU
 * time instead of wall time (for comparing changes on a machine shared
 * with other work; a build's I/O waits are then not counted, for either).
 * BENCH_SLOW=1 prints each shape's slowest kairan query (to profile it).
 * Ends with: search vs groonga: worst p50 ratio R, worst p99 P ms
 * Single-threaded.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <groonga.h>

#include "../../sharing/search.h"
#include "../../sharing/state.h"
#include "searchcorpus.h"

static grn_ctx s_ctx;
static int s_cpu_clock;
static int s_slow;              /* BENCH_SLOW=1: name each shape's slowest query */

/* Milliseconds: wall (monotonic), or this process's CPU time with BENCH_CLOCK=cpu. */
static double
s_now(void)
{
	struct timespec ts;

	if (!s_cpu_clock)
		return kr_monotonic_ms();
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec * 1000 + (double)ts.tv_nsec / 1e6;
}

/* Runs one Groonga command; returns its output (static buffer, valid until the next call). */
static const char *
s_grn(const char *cmd)
{
	static kr_buf out = KR_BUF_INIT;
	char *s;
	unsigned int len;
	int flags;

	kr_buf_clear(&out);
	grn_ctx_send(&s_ctx, cmd, (unsigned int)strlen(cmd), 0);
	do {
		if (grn_ctx_recv(&s_ctx, &s, &len, &flags) != GRN_SUCCESS && s_ctx.rc != GRN_SUCCESS) {
			fprintf(stderr, "groongabench: %s: %s\n", cmd, s_ctx.errbuf);
			exit(2);
		}
		kr_buf_add(&out, s, len);
	} while (flags & GRN_CTX_MORE);
	kr_buf_addch(&out, '\0');
	if (s_ctx.rc != GRN_SUCCESS) {
		fprintf(stderr, "groongabench: %s: %s\n", cmd, s_ctx.errbuf);
		exit(2);
	}
	return out.ptr;
}

/* s as a double-quoted Groonga command argument. */
static void
s_arg(kr_buf *b, const char *s)
{
	kr_buf_addch(b, '"');
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			kr_buf_addch(b, '\\');
		kr_buf_addch(b, *s);
	}
	kr_buf_addch(b, '"');
}

/* Disk use (du) of the files in dir. */
static long
s_du(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	long n = 0;

	if (!d)
		return 0;
	while ((e = readdir(d))) {
		struct stat st;
		char *p = kr_sprintf("%s/%s", dir, e->d_name);
		if (stat(p, &st) == 0 && S_ISREG(st.st_mode))
			n += (long)st.st_blocks * 512;
		free(p);
	}
	closedir(d);
	return n;
}

/*
 * kairan's index of the corpus as a first sync writes one: every row in
 * one kr_state_items_put (the bulk path: rows and FTS5 entries without
 * the per-row triggers, one merge at the end), in one transaction.
 */
static double
s_kairan_build(kr_state *st, const sc_corpus *c)
{
	kr_state_item *v = kr_calloc((size_t)c->n, sizeof(*v));
	char (*keys)[3][64] = kr_calloc((size_t)c->n, sizeof(*keys));
	double t0 = s_now();

	for (int i = 0; i < c->n; i++) {
		snprintf(keys[i][0], sizeof(keys[i][0]), "372081/case/b%d", i);
		snprintf(keys[i][1], sizeof(keys[i][1]), "cases/b%d.md", i);
		snprintf(keys[i][2], sizeof(keys[i][2]), "\n%s\n", c->domains[i]);
		v[i] = (kr_state_item){ .publisher = (char *)"00", .collection = (char *)"cases", .path = keys[i][1],
			.id = keys[i][0], .kind = (char *)"case", .title = c->titles[i], .version = (char *)"1.0.0",
			.updated = (char *)"2024-06-01", .blob = (char *)"0", .commit = (char *)"0",
			.body = c->bodies[i], .meta = (char *)"", .lg_code = (char *)"372081", .pref = (char *)"37",
			.domains = keys[i][2], .outcome = (char *)c->outcomes[i] };
	}
	if (kr_state_begin(st) < 0 || kr_state_items_put(st, v, (size_t)c->n) < 0 || kr_state_commit(st) < 0) {
		fprintf(stderr, "groongabench: %s\n", kr_errmsg());
		exit(2);
	}
	free(v);
	free(keys);
	return s_now() - t0;
}

static double
s_groonga_build(const char *dir, const sc_corpus *c)
{
	char *path = kr_sprintf("%s/db", dir);
	double t0;

	mkdir(dir, 0700);
	if (!grn_db_create(&s_ctx, path, NULL)) {
		fprintf(stderr, "groongabench: %s: %s\n", path, s_ctx.errbuf);
		exit(2);
	}
	free(path);
	t0 = s_now();
	s_grn("table_create Items TABLE_NO_KEY");
	s_grn("column_create Items title COLUMN_SCALAR ShortText");
	s_grn("column_create Items body COLUMN_SCALAR Text");
	/* facet columns refer to key tables, Groonga's idiom for fast drilldowns */
	s_grn("table_create Kinds TABLE_HASH_KEY ShortText");
	s_grn("table_create Outcomes TABLE_HASH_KEY ShortText");
	s_grn("table_create Domains TABLE_HASH_KEY ShortText");
	s_grn("table_create Prefs TABLE_HASH_KEY ShortText");
	s_grn("column_create Items kind COLUMN_SCALAR Kinds");
	s_grn("column_create Items outcome COLUMN_SCALAR Outcomes");
	s_grn("column_create Items domain COLUMN_SCALAR Domains");
	s_grn("column_create Items pref COLUMN_SCALAR Prefs");
	for (int i = 0; i < c->n;) {
		kr_buf v = KR_BUF_INIT;
		kr_buf_addch(&v, '[');
		for (int k = 0; k < 1000 && i < c->n; k++, i++) {
			kr_buf_adds(&v, k ? ",{\"title\":" : "{\"title\":");
			kr_buf_addjson(&v, c->titles[i]);
			kr_buf_adds(&v, ",\"body\":");
			kr_buf_addjson(&v, c->bodies[i]);
			kr_buf_adds(&v, ",\"kind\":\"case\",\"outcome\":");
			kr_buf_addjson(&v, c->outcomes[i]);
			kr_buf_adds(&v, ",\"domain\":");
			kr_buf_addjson(&v, c->domains[i]);
			kr_buf_adds(&v, ",\"pref\":\"37\"}");
		}
		kr_buf_addch(&v, ']');
		if (grn_load(&s_ctx, GRN_CONTENT_JSON, "Items", 5, NULL, 0, v.ptr, (unsigned int)v.len,
		    NULL, 0, NULL, 0) != GRN_SUCCESS) {
			fprintf(stderr, "groongabench: load: %s\n", s_ctx.errbuf);
			exit(2);
		}
		kr_buf_release(&v);
	}
	s_grn("table_create Terms TABLE_PAT_KEY ShortText --default_tokenizer TokenBigram "
	    "--normalizer 'NormalizerNFKC150(\"unify_kana\", true)'");
	s_grn("column_create Terms items_index COLUMN_INDEX|WITH_POSITION|WITH_SECTION Items title,body");
	return s_now() - t0;
}

/* --files: the items of dir's Markdown files as a corpus (title and body). */
static void
s_corpus_of_files(sc_corpus *c, const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	size_t cap = 0;

	if (!d) {
		fprintf(stderr, "groongabench: %s: cannot open\n", dir);
		exit(2);
	}
	memset(c, 0, sizeof(*c));
	while ((e = readdir(d))) {
		char *p = kr_sprintf("%s/%s", dir, e->d_name), *t, *b, *nl;
		kr_buf text = KR_BUF_INIT;
		if (e->d_name[0] == '.' || kr_file_read(&text, p) < 0) {
			free(p);
			continue;
		}
		free(p);
		t = strstr(text.ptr, "\ntitle: ");
		b = strncmp(text.ptr, "---\n", 4) == 0 ? strstr(text.ptr + 4, "\n---\n") : NULL;
		if (!t || !b || t > b) {
			fprintf(stderr, "groongabench: %s/%s: no title in its front matter\n", dir, e->d_name);
			exit(2);
		}
		t += strlen("\ntitle: ");
		nl = strchr(t, '\n');
		if ((size_t)c->n == cap) {
			cap = cap ? cap * 2 : 1024;
			c->titles = kr_realloc(c->titles, cap * sizeof(char *));
			c->bodies = kr_realloc(c->bodies, cap * sizeof(char *));
			c->outcomes = kr_realloc(c->outcomes, cap * sizeof(char *));
			c->domains = kr_realloc(c->domains, cap * sizeof(char *));
		}
		c->titles[c->n] = kr_strndup(t, (size_t)(nl - t));
		c->bodies[c->n] = kr_strdup(b + 5);
		c->outcomes[c->n] = "";
		c->domains[c->n] = "住民問合せ対応";
		c->bytes += text.len;
		c->n++;
		kr_buf_release(&text);
	}
	closedir(d);
}

/* One Groonga query; returns the match count. */
static long
s_groonga_query(char **terms, int nterms, int phrase, const char *outcome)
{
	kr_buf cmd = KR_BUF_INIT, q = KR_BUF_INIT;
	const char *out, *p;
	long count;

	for (int i = 0; i < nterms; i++)
		kr_buf_addf(&q, phrase ? "%s\"%s\"" : "%s%s", i ? " " : "", terms[i]);
	kr_buf_adds(&cmd, "select Items --match_columns 'title * 10 || body' --query ");
	s_arg(&cmd, q.ptr);
	if (outcome) {
		kr_buf_adds(&cmd, " --filter ");
		kr_buf_clear(&q);
		kr_buf_adds(&q, "outcome == \"");
		kr_buf_adds(&q, outcome);
		kr_buf_adds(&q, "\"");
		s_arg(&cmd, q.ptr);
	}
	kr_buf_adds(&cmd, " --output_columns _id,_score,title --sort_keys -_score --limit 10"
	    " --drilldown kind,outcome,domain,pref --drilldown_limit -1 --cache no");
	out = s_grn(cmd.ptr);
	p = strstr(out, "[[[");
	count = p ? atol(p + 3) : -1;
	kr_buf_release(&cmd);
	kr_buf_release(&q);
	return count;
}

int
main(int argc, char **argv)
{
	char *path, *gdir;
	kr_state *st;
	int nq, mismatches = 0, nqueries = 0, reuse;
	sc_corpus c;
	double ours_build, grn_build, worst_ratio = 0, worst_p99 = 0, flushed_ms = 0;
	const char *worst_shape = "";

	if (argc == 4 && strcmp(argv[1], "--files") == 0) {
		if (grn_init() != GRN_SUCCESS || grn_ctx_init(&s_ctx, 0) != GRN_SUCCESS) {
			fprintf(stderr, "groongabench: cannot initialise libgroonga\n");
			return 2;
		}
		s_corpus_of_files(&c, argv[2]);
		printf("%.0f\n", s_groonga_build(argv[3], &c));
		return 0;
	}
	if (argc != 4 && !(argc == 5 && strcmp(argv[4], "--reuse") == 0)) {
		fprintf(stderr, "usage: groongabench DIR N_ITEMS N_QUERIES [--reuse]\n"
		    "       groongabench --files FILES_DIR DIR\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IONBF, 0);
	nq = atoi(argv[3]);
	s_cpu_clock = getenv("BENCH_CLOCK") && strcmp(getenv("BENCH_CLOCK"), "cpu") == 0;
	s_slow = getenv("BENCH_SLOW") && strcmp(getenv("BENCH_SLOW"), "1") == 0;
	path = kr_sprintf("%s/bench-state.db", argv[1]);
	gdir = kr_sprintf("%s/groonga", argv[1]);
	reuse = argc == 5 && access(path, F_OK) == 0;
	if (!reuse)
		remove(path);
	if (kr_state_open(&st, path) < 0) {
		fprintf(stderr, "groongabench: %s\n", kr_errmsg());
		return 2;
	}
	if (grn_init() != GRN_SUCCESS || grn_ctx_init(&s_ctx, 0) != GRN_SUCCESS) {
		fprintf(stderr, "groongabench: cannot initialise libgroonga\n");
		return 2;
	}

	sc_corpus_make(&c, atoi(argv[2]));
	if (reuse) {
		char *g = kr_sprintf("%s/db", gdir);
		if (!grn_db_open(&s_ctx, g)) {
			fprintf(stderr, "groongabench: %s: %s\n", g, s_ctx.errbuf);
			return 2;
		}
		free(g);
		printf("corpus: %d items (indexes reused)\n", c.n);
		goto queries;
	}
	ours_build = s_kairan_build(st, &c);
	kr_state_destroy(&st);          /* the last close checkpoints the WAL */
	if (kr_state_open(&st, path) < 0) {
		fprintf(stderr, "groongabench: %s\n", kr_errmsg());
		return 2;
	}
	grn_build = s_groonga_build(gdir, &c);
	/*
	 * Both builds leave hundreds of MB of dirty pages that the kernel
	 * writes back during the queries that follow (the p99 of both engines
	 * rose 2-3x, kairan's 3-character shape 41 -> 102-128 ms on a 2-core VM):
	 * written out first, so the queries are timed as a node answers them
	 * at rest, not while its disk is busy with a build.
	 */
	{
		double t0 = kr_monotonic_ms();
		sync();
		flushed_ms = kr_monotonic_ms() - t0;
	}

	printf("corpus: %d items, %.1f MB of Japanese text; Groonga %s, TokenBigram + "
	    "NormalizerNFKC150(\"unify_kana\", true)\n", c.n, (double)c.bytes / 1e6, grn_get_version());
	/* the size ratio to three places: it is within a percent of 1 */
	printf("index build: kairan %.1f s, %.1f MB (state.db: items + search index)   "
	    "Groonga %.1f s, %.1f MB (table + lexicon + index)   ratio %.2f / %.3f\n",
	    ours_build / 1000, (double)sc_size(path) / 1e6, grn_build / 1000, (double)s_du(gdir) / 1e6,
	    ours_build / grn_build, (double)sc_size(path) / (double)s_du(gdir));
	printf("both indexes written to disk before the queries (sync: %.0f ms, not in the build times)\n", flushed_ms);
queries:
	if (s_cpu_clock)
		printf("(build and query times in CPU time, BENCH_CLOCK=cpu)\n");
	{
		/*
		 * The first search of a process builds kairan's in-memory filter
		 * and facet columns (again after the data changes): timed on its
		 * own, not among the shapes below; Groonga's first one likewise.
		 */
		kr_buf match = KR_BUF_INIT;
		kr_search_q sq = { .limit = 10 };
		kr_search_result r;
		double t0 = s_now();
		if (kr_search_compile("市", &match) < 0 || (sq.match = match.ptr, kr_state_search(st, &sq, &r) < 0)) {
			fprintf(stderr, "groongabench: %s\n", kr_errmsg());
			return 2;
		}
		printf("first search of the process, not among the shapes below: kairan %.1f ms (builds its "
		    "in-memory columns)", s_now() - t0);
		{
			char *one[1] = { (char *)"市" };
			t0 = s_now();
			s_groonga_query(one, 1, 0, NULL);
			printf(", Groonga %.1f ms\n", s_now() - t0);
		}
		kr_search_result_free(&r);
		kr_buf_release(&match);
	}
	printf("%-26s %19s   %19s   %13s   %s\n", "query shape", "kairan p50 / p99 ms",
	    "Groonga p50 / p99 ms", "ratio p50/p99", "matches (mean)");

	for (size_t s = 0; s < SC_N(sc_shapes); s++) {
		const sc_shape *sh = &sc_shapes[s];
		double *ours = kr_calloc((size_t)nq, sizeof(double)), *grn = kr_calloc((size_t)nq, sizeof(double));
		double matches = 0, o50, o99, g50, g99, slow = -1;
		char *slow_q = NULL;
		size_t slow_n = 0;
		for (int i = 0; i < nq; i++) {
			char *terms[2];
			kr_buf q = KR_BUF_INIT, match = KR_BUF_INIT;
			kr_search_q sq = { .limit = 10, .outcome = sh->facet ? SC_FACET_OUTCOME : NULL };
			kr_search_result r;
			int nt = sc_query(&c, sh, terms, &q);
			long gcount;
			double t0 = s_now();

			if (kr_search_compile(q.ptr, &match) < 0 || (sq.match = match.ptr, kr_state_search(st, &sq, &r) < 0)) {
				fprintf(stderr, "groongabench: %s: %s\n", q.ptr, kr_errmsg());
				return 2;
			}
			ours[i] = s_now() - t0;
			if (ours[i] > slow) {
				slow = ours[i];
				free(slow_q);
				slow_q = kr_strdup(q.ptr);
				slow_n = r.total;
			}
			t0 = s_now();
			gcount = s_groonga_query(terms, nt, sh->phrase, sq.outcome);
			grn[i] = s_now() - t0;
			matches += (double)r.total;
			nqueries++;
			if (gcount != (long)r.total) {
				if (mismatches++ < 5)
					printf("  count differs for %s: kairan %zu, Groonga %ld\n", q.ptr, r.total, gcount);
			}
			kr_search_result_free(&r);
			for (int k = 0; k < nt; k++)
				free(terms[k]);
			kr_buf_release(&q);
			kr_buf_release(&match);
		}
		o50 = sc_pct(ours, nq, 50);
		o99 = sc_pct(ours, nq, 99);
		g50 = sc_pct(grn, nq, 50);
		g99 = sc_pct(grn, nq, 99);
		printf("%-26s %8.1f / %-8.1f   %8.1f / %-8.1f   %5.2f / %-5.2f   %8.0f\n", sh->name, o50, o99,
		    g50, g99, o50 / g50, o99 / g99, matches / nq);
		if (s_slow)
			printf("  slowest: %s %.1f ms (%zu matches)\n", slow_q, slow, slow_n);
		free(slow_q);
		if (o50 / g50 > worst_ratio) {
			worst_ratio = o50 / g50;
			worst_shape = sh->name;
		}
		if (o99 > worst_p99)
			worst_p99 = o99;
		free(ours);
		free(grn);
	}
	printf("match counts: %d of %d queries differ between kairan and Groonga\n", mismatches, nqueries);
	printf("targets: p50 <= Groonga's p50 (ratio <= 1) and p99 <= 50 ms on every shape; worst p50 ratio "
	    "on \"%s\"\n", worst_shape);
	printf("search vs groonga: worst p50 ratio %.2f, worst p99 %.1f ms\n", worst_ratio, worst_p99);
	kr_state_destroy(&st);
	grn_ctx_fin(&s_ctx);
	grn_fin();
	free(path);
	free(gdir);
	return 0;
}
