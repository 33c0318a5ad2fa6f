/*
 * tests/tools/searchoracle.c - differential recall of search against a substring oracle
 *
 * For N random substrings (1-5 characters) of the normalised indexed text
 * of the items in HOME, the set of items `search` returns must equal the
 * set whose normalised title, body or front-matter text contains the
 * substring. Substrings hold no separators, and never cut a Latin/digit
 * word (those are whole-word tokens by design). Prints the first
 * mismatches and a summary; exits 1 on any mismatch.
 *
 * Then pairs of words (a substring checked above and the first character of
 * the next one) are searched twice in the same process, as a long-running
 * node searches: as they are, and with an exclusion that matches nothing.
 * A conjunction waits for its words' IDFs (the floor once half the rows
 * matched, else counted after the pass); the exclusion makes the words be
 * counted first. Totals, hits and ranks (as doubles) must be equal.
 *
 * Then every substring, and every other one with a word after it, is
 * searched on one connection and in two halves (the upper on a second
 * connection and thread, as a node searches many rows), a third of them
 * with a keep callback (as the board's gate), every tenth with the
 * in-memory columns built again each way (their token counts read on the
 * second connection): totals, hits, ranks, facets and the rows the
 * callback kept must be equal, and every row the callback is given (its
 * publisher, kind and blob, a dataset row's its card's, from the in-memory
 * columns) must be what SQL reads of that row.
 *
 * Usage: searchoracle HOME N SEED
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "../../node/home.h"
#include "../../sharing/search.h"
#include "../../sharing/text.h"

typedef struct {
	char *id;
	kr_buf col[3];          /* normalised title, body, meta */
} s_item;

typedef struct {
	s_item *v;
	size_t n;
} s_items;

static int
s_load(void *arg, const char *id, const char *title, const char *body, const char *meta)
{
	s_items *it = arg;
	const char *src[3] = { title, body, meta };
	s_item *x;

	it->v = kr_realloc(it->v, (it->n + 1) * sizeof(s_item));
	x = &it->v[it->n++];
	x->id = kr_strdup(id);
	for (int c = 0; c < 3; c++) {
		x->col[c] = (kr_buf)KR_BUF_INIT;
		kr_text_normalize(&x->col[c], src[c] ? src[c] : "", src[c] ? strlen(src[c]) : 0);
		kr_buf_addch(&x->col[c], '\0'); /* never empty */
		x->col[c].len--;
	}
	return 0;
}

/* Decodes the UTF-8 code points of s into cps (returns count) with byte offsets. */
static size_t
s_cps(const char *s, size_t len, uint32_t *cps, size_t *off)
{
	size_t n = 0;

	for (size_t i = 0; i < len;) {
		off[n] = i;
		i += kr_utf8_next(s + i, len - i, &cps[n++]);
	}
	off[n] = len;
	return n;
}

/* 0 separator, 1 CJK, 2 word: the classes of sharing/text.c, via its tokenizer. */
static int
s_cls(uint32_t cp)
{
	char u[8];
	int k = 0;

	if (cp < 0x80)
		u[k++] = (char)cp;
	else if (cp < 0x800) {
		u[k++] = (char)(0xC0 | cp >> 6);
		u[k++] = (char)(0x80 | (cp & 0x3F));
	} else if (cp < 0x10000) {
		u[k++] = (char)(0xE0 | cp >> 12);
		u[k++] = (char)(0x80 | ((cp >> 6) & 0x3F));
		u[k++] = (char)(0x80 | (cp & 0x3F));
	} else {
		u[k++] = (char)(0xF0 | cp >> 18);
		u[k++] = (char)(0x80 | ((cp >> 12) & 0x3F));
		u[k++] = (char)(0x80 | ((cp >> 6) & 0x3F));
		u[k++] = (char)(0x80 | (cp & 0x3F));
	}
	if (kr_text_count(u, k, KR_TEXT_QUERY) == 0)
		return 0;
	/* CJK characters tokenise alone in document mode as one unigram; words too: tell them apart by script */
	return (cp >= 0x3041 && cp <= 0x30FF) || (cp >= 0x3400 && cp <= 0x9FFF) || cp == 0x3005 ||
	    cp == 0x3006 || cp == 0x3007 || (cp >= 0xF900 && cp <= 0xFAFF) || cp >= 0x20000 ? 1 : 2;
}

/* The code point starting at byte i of s. */
static uint32_t
s_cp_at(const char *s, size_t len, size_t i)
{
	uint32_t cp;

	kr_utf8_next(s + i, len - i, &cp);
	return cp;
}

/*
 * Whether hay contains needle where search would find it: a needle that
 * starts (ends) with a Latin/digit character must not continue a word on
 * that side, because words are whole tokens.
 */
static int
s_contains(const char *hay, const char *needle, int first_word, int last_word)
{
	size_t hl = strlen(hay), nl = strlen(needle);

	for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle)) {
		size_t at = (size_t)(p - hay), e = at + nl;
		if (first_word && at > 0) {
			size_t b = at - 1;
			while (b > 0 && ((unsigned char)hay[b] & 0xC0) == 0x80)
				b--;
			if (s_cls(s_cp_at(hay, hl, b)) == 2)
				continue;
		}
		if (last_word && e < hl && s_cls(s_cp_at(hay, hl, e)) == 2)
			continue;
		return 1;
	}
	return 0;
}

/* kr_state_search of q, limit 50, every row ranked; 0 or -1 (printed) */
static int
s_search(kr_state *st, const char *q, kr_search_result *r)
{
	kr_buf match = KR_BUF_INIT;
	kr_search_q sq = { .limit = 50, .rows_all = 1 };
	int rc;

	if ((rc = kr_search_compile(q, &match)) == 0) {
		sq.match = match.ptr;
		rc = kr_state_search(st, &sq, r);
	}
	if (rc < 0)
		printf("not ok: query %s: %s\n", q, kr_errmsg());
	kr_buf_release(&match);
	return rc;
}

/* The first character of s (UTF-8), quoted. */
static void
s_first_char(kr_buf *q, const char *s)
{
	size_t l = 1;

	while (s[l] && ((unsigned char)s[l] & 0xC0) == 0x80)
		l++;
	kr_buf_addf(q, " \"%.*s\"", (int)l, s);
}

/* The ranking check (see the top); returns the number of mismatches. */
static int
s_ranks(kr_state *st, char **needles, size_t n)
{
	static const char *const none = "ぬゑぬゑ";
	kr_search_result r, x;
	int bad = 0, checked = 0, found = 0;

	if (s_search(st, none, &r) < 0)
		return 1;
	if (r.total != 0) {
		printf("ranks: \"%s\" is in %zu items; no exclusion that matches nothing\n", none, r.total);
		kr_search_result_free(&r);
		return 1;
	}
	kr_search_result_free(&r);
	for (size_t i = 0; i + 1 < n; i++) {
		kr_buf q = KR_BUF_INIT, qx = KR_BUF_INIT;
		/* a substring and a character; every third pair two characters (common words) */
		if (i % 3 == 2)
			s_first_char(&q, needles[i]);
		else
			kr_buf_addf(&q, "\"%s\"", needles[i]);
		s_first_char(&q, needles[i + 1]);
		kr_buf_addf(&qx, "%s -%s", q.ptr, none);
		if (s_search(st, q.ptr, &r) < 0 || s_search(st, qx.ptr, &x) < 0) {
			bad++;
		} else {
			int same = r.total == x.total && r.nhits == x.nhits;
			for (size_t j = 0; same && j < r.nhits; j++)
				same = strcmp(r.hits[j].id, x.hits[j].id) == 0 &&
				    memcmp(&r.hits[j].rank, &x.hits[j].rank, sizeof(double)) == 0;
			if (!same && bad++ < 10)
				printf("ranked differently: %s: %zu matches, %zu hits; with an exclusion %zu, %zu\n",
				    q.ptr, r.total, r.nhits, x.total, x.nhits);
			found += r.total > 0;
			checked++;
			kr_search_result_free(&r);
			kr_search_result_free(&x);
		}
		kr_buf_release(&q);
		kr_buf_release(&qx);
	}
	printf("%d pairs of words ranked alike with and without an exclusion (%d found something): %d mismatches\n",
	    checked, found, bad);
	return bad;
}

/* r and x alike: totals, folded rows, hits (ids, ranks as doubles, more rows) and every facet count. */
static int
s_same(const kr_search_result *r, const kr_search_result *x)
{
	if (r->total != x->total || r->rows_folded != x->rows_folded || r->nhits != x->nhits)
		return 0;
	for (size_t j = 0; j < r->nhits; j++)
		if (strcmp(r->hits[j].id, x->hits[j].id) != 0 || r->hits[j].more_rows != x->hits[j].more_rows ||
		    memcmp(&r->hits[j].rank, &x->hits[j].rank, sizeof(double)) != 0)
			return 0;
	for (int f = 0; f < KR_NFACETS; f++) {
		if (r->nfacets[f] != x->nfacets[f])
			return 0;
		for (size_t j = 0; j < r->nfacets[f]; j++)
			if (strcmp(r->facets[f][j].value, x->facets[f][j].value) != 0 ||
			    r->facets[f][j].count != x->facets[f][j].count)
				return 0;
	}
	return 1;
}

/*
 * Each row's publisher, kind and the blob the board judges it by (a
 * dataset row's: its card's), read here by SQL from state.db, by n: what
 * keep must be given from the search's in-memory columns.
 */
typedef struct {
	char **pub, **kind, **blob;
	int64_t n;
} s_rowsql;

static s_rowsql s_rows;
static _Atomic size_t s_keep_calls, s_keep_bad;

static int
s_rowsql_load(const char *home)
{
	char *path = kr_sprintf("%s/state.db", home);
	sqlite3 *db = NULL;
	sqlite3_stmt *stmt = NULL;
	int rc = -1;

	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "SELECT coalesce(max(n), 0) FROM items", -1, &stmt, NULL) != SQLITE_OK ||
	    sqlite3_step(stmt) != SQLITE_ROW)
		goto done;
	s_rows.n = sqlite3_column_int64(stmt, 0) + 1;
	s_rows.pub = kr_calloc((size_t)s_rows.n, sizeof(char *));
	s_rows.kind = kr_calloc((size_t)s_rows.n, sizeof(char *));
	s_rows.blob = kr_calloc((size_t)s_rows.n, sizeof(char *));
	sqlite3_finalize(stmt);
	if (sqlite3_prepare_v2(db, "SELECT i.n, i.publisher, i.kind, CASE WHEN instr(i.id, '#') > 0 THEN "
	    "coalesce((SELECT d.blob FROM items d WHERE d.id = substr(i.id, 1, instr(i.id, '#') - 1) AND "
	    "d.publisher = i.publisher), i.blob) ELSE i.blob END FROM items i", -1, &stmt, NULL) != SQLITE_OK)
		goto done;
	while (sqlite3_step(stmt) == SQLITE_ROW) {
		int64_t n = sqlite3_column_int64(stmt, 0);
		if (n < 0 || n >= s_rows.n)
			goto done;
		s_rows.pub[n] = kr_strdup((const char *)sqlite3_column_text(stmt, 1));
		s_rows.kind[n] = kr_strdup((const char *)sqlite3_column_text(stmt, 2));
		s_rows.blob[n] = kr_strdup((const char *)sqlite3_column_text(stmt, 3));
	}
	rc = 0;
done:
	if (rc < 0)
		fprintf(stderr, "searchoracle: %s: %s\n", path, db ? sqlite3_errmsg(db) : "cannot open");
	sqlite3_finalize(stmt);
	sqlite3_close(db);
	free(path);
	return rc;
}

static int
s_str_same(const char *a, const char *b)
{
	return a && b ? strcmp(a, b) == 0 : !*(a ? a : b ? b : "");
}

/*
 * A keep that may run on two threads: the rows whose blob ends in an even
 * hex digit, counted; every call's row checked against the SQL.
 */
static _Atomic size_t s_kept;

static int
s_keep_even(void *arg, int64_t n, const char *pub, const char *kind, const char *blob)
{
	size_t l = blob ? strlen(blob) : 0;

	(void)arg;
	s_keep_calls++;
	if (n < 0 || n >= s_rows.n || !s_rows.blob[n] || !s_str_same(pub, s_rows.pub[n]) ||
	    !s_str_same(kind, s_rows.kind[n]) || !s_str_same(blob, s_rows.blob[n])) {
		if (s_keep_bad++ < 5)
			printf("mismatch: keep given row %lld as %s %s %s, the SQL reads %s %s %s\n", (long long)n,
			    pub ? pub : "(null)", kind ? kind : "(null)", blob ? blob : "(null)",
			    n >= 0 && n < s_rows.n && s_rows.pub[n] ? s_rows.pub[n] : "(no row)",
			    n >= 0 && n < s_rows.n && s_rows.kind[n] ? s_rows.kind[n] : "",
			    n >= 0 && n < s_rows.n && s_rows.blob[n] ? s_rows.blob[n] : "");
	}
	if (!l || strchr("02468ace", blob[l - 1]) == NULL)
		return 0;
	s_kept++;
	return 1;
}

/* q searched on one connection and in two halves (kr_state_search_split); 1 if the results differ */
static int
s_split_one(kr_state *st, const char *q, int rows_all, const char *kind, int keep, int rebuild, int *found)
{
	kr_buf match = KR_BUF_INIT;
	kr_search_q sq = { .limit = 10, .rows_all = rows_all, .kind = kind, .keep = keep ? s_keep_even : NULL,
		.keep_threads = 1 };
	size_t kept;
	kr_search_result r, x;
	int bad = 0;

	if (kr_search_compile(q, &match) < 0) {
		printf("not ok: query %s: %s\n", q, kr_errmsg());
		return 1;
	}
	sq.match = match.ptr;
	kr_state_search_split(st, 0);
	s_kept = 0;
	if (rebuild)
		kr_state_release_memory(st);    /* the in-memory columns built again, on one connection */
	if (kr_state_search(st, &sq, &r) < 0) {
		printf("not ok: query %s: %s\n", q, kr_errmsg());
		kr_buf_release(&match);
		return 1;
	}
	kept = s_kept;
	s_kept = 0;
	kr_state_search_split(st, 1);
	if (rebuild)
		kr_state_release_memory(st);    /* and on two: token counts read by the second */
	if (kr_state_search(st, &sq, &x) < 0) {
		printf("not ok: query %s in two halves: %s\n", q, kr_errmsg());
		bad = 1;
	} else {
		bad = !s_same(&r, &x) || s_kept != kept;
		if (bad)
			printf("split differently: %s%s%s%s: %zu matches, %zu hits; in two halves %zu, %zu\n", q,
			    kind ? " kind:" : "", kind ? kind : "", keep ? " (kept: even blobs)" : "", r.total, r.nhits,
			    x.total, x.nhits);
		kr_search_result_free(&x);
	}
	*found += r.total > 0;
	kr_search_result_free(&r);
	kr_buf_release(&match);
	return bad;
}

/*
 * A search of many rows runs in two halves on two connections: each
 * substring, and each pair of words, with and without datasets' rows
 * folded and with a kind filter, must give the same result either way.
 */
static int
s_split(kr_state *st, char **needles, size_t n)
{
	int bad = 0, checked = 0, found = 0;

	for (size_t i = 0; i < n; i++) {
		kr_buf q = KR_BUF_INIT;
		kr_buf_addf(&q, "\"%s\"", needles[i]);
		if (i + 1 < n && i % 2)
			s_first_char(&q, needles[i + 1]);
		for (int all = 0; all < 2; all++) {
			bad += s_split_one(st, q.ptr, all, NULL, i % 3 == 0, all == 0 && i % 10 == 0, &found);
			checked++;
		}
		if (i % 4 == 0) {
			bad += s_split_one(st, q.ptr, 0, "case", i % 3 == 1, 0, &found);
			checked++;
		}
		kr_buf_release(&q);
	}
	kr_state_search_split(st, KR_SEARCH_SPLIT_ROWS);
	printf("%d searches alike on one connection and in two halves (%d found something): %d mismatches\n",
	    checked, found, bad);
	printf("%zu rows given to keep: %zu not as the SQL reads them\n", (size_t)s_keep_calls, (size_t)s_keep_bad);
	if (s_keep_calls == 0 || s_keep_bad)
		bad++;
	return bad;
}

int
main(int argc, char **argv)
{
	kr_home h;
	s_items it = { 0 };
	unsigned seed;
	int n, done = 0, mismatches = 0, empty = 0;
	char **needles = NULL;
	size_t nneedles = 0;

	if (argc != 4) {
		fprintf(stderr, "usage: searchoracle HOME N SEED\n");
		return 2;
	}
	n = atoi(argv[2]);
	seed = (unsigned)strtoul(argv[3], NULL, 10);
	if (kr_home_open(&h, argv[1]) < 0 || kr_state_item_texts(h.state, s_load, &it) < 0 ||
	    s_rowsql_load(argv[1]) < 0) {
		fprintf(stderr, "searchoracle: %s\n", kr_errmsg());
		return 2;
	}
	if (it.n == 0) {
		fprintf(stderr, "searchoracle: no items in %s\n", argv[1]);
		return 2;
	}
	for (int attempt = 0; done < n && attempt < n * 50; attempt++) {
		s_item *x = &it.v[rand_r(&seed) % it.n];
		kr_buf *col = &x->col[rand_r(&seed) % 3];
		uint32_t *cps = kr_calloc(col->len + 1, sizeof(uint32_t));
		size_t *off = kr_calloc(col->len + 2, sizeof(size_t));
		size_t ncp = s_cps(col->ptr, col->len, cps, off), a, b, len;
		int ok = 1;

		if (ncp == 0)
			goto next;
		len = 1 + (size_t)(rand_r(&seed) % 5);
		a = (size_t)rand_r(&seed) % ncp;
		b = a + len;
		if (b > ncp)
			goto next;
		for (size_t i = a; i < b && ok; i++)
			ok = s_cls(cps[i]) != 0;
		/* never cut a Latin/digit word */
		if (ok && s_cls(cps[a]) == 2 && a > 0 && s_cls(cps[a - 1]) == 2)
			ok = 0;
		if (ok && s_cls(cps[b - 1]) == 2 && b < ncp && s_cls(cps[b]) == 2)
			ok = 0;
		if (!ok)
			goto next;
		{
			char *needle = kr_strndup(col->ptr + off[a], off[b] - off[a]);
			kr_buf q = KR_BUF_INIT, match = KR_BUF_INIT;
			kr_search_q sq = { .limit = 1000, .rows_all = 1 };
			kr_search_result r;
			size_t want = 0, got = 0, common = 0;

			kr_buf_addf(&q, "\"%s\"", needle);
			if (kr_search_compile(q.ptr, &match) < 0 || (sq.match = match.ptr,
			    kr_state_search(h.state, &sq, &r) < 0)) {
				printf("not ok: query %s: %s\n", needle, kr_errmsg());
				mismatches++;
			} else {
				for (size_t i = 0; i < it.n; i++) {
					int has = 0;
					for (int c = 0; c < 3 && !has; c++)
						has = s_contains(it.v[i].col[c].ptr, needle, s_cls(cps[a]) == 2,
						    s_cls(cps[b - 1]) == 2);
					if (!has)
						continue;
					want++;
					for (size_t j = 0; j < r.nhits; j++)
						if (strcmp(r.hits[j].id, it.v[i].id) == 0) {
							common++;
							break;
						}
				}
				got = r.total;
				/* more matches than the limit: every hit returned is one of them, and the total is exact */
				if (common != r.nhits || r.nhits != (want < sq.limit ? want : sq.limit) || got != want) {
					if (mismatches < 10)
						printf("mismatch: \"%s\": oracle %zu items, search %zu (%zu in common)\n",
						    needle, want, got, common);
					mismatches++;
				}
				empty += want == 0;
				kr_search_result_free(&r);
			}
			done++;
			needles = kr_realloc(needles, (nneedles + 1) * sizeof(char *));
			needles[nneedles++] = needle;
			kr_buf_release(&q);
			kr_buf_release(&match);
		}
next:
		free(cps);
		free(off);
	}
	printf("%d substrings checked over %zu items: %d mismatches\n", done, it.n, mismatches);
	mismatches += s_ranks(h.state, needles, nneedles);
	mismatches += s_split(h.state, needles, nneedles);
	kr_strv_free(needles, nneedles);
	for (size_t i = 0; i < it.n; i++) {
		free(it.v[i].id);
		for (int c = 0; c < 3; c++)
			kr_buf_release(&it.v[i].col[c]);
	}
	free(it.v);
	for (int64_t i = 0; i < s_rows.n; i++) {
		free(s_rows.pub[i]);
		free(s_rows.kind[i]);
		free(s_rows.blob[i]);
	}
	free(s_rows.pub);
	free(s_rows.kind);
	free(s_rows.blob);
	kr_home_close(&h);
	return mismatches || done < n ? 1 : 0;
}
