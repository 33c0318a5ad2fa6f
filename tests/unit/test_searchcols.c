/* tests/unit/test_searchcols.c - a search's columns, counts and best rows (sharing/searchcols.c) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../../sharing/searchcols.h"

#define NROWS 3000

static const char *const s_kinds[] = { "case", "prompt", "guideline", "dataset" };
static const char *const s_outcomes[] = { "本格導入", "継続実証", "見送り", NULL };
static const char *const s_domains[] = { "\n福祉\n", "\n防災\n教育\n", "", "\nごみ\n福祉\n防災\n" };

/* NROWS rows (n from 1, every seventh left out), a third of them rows of 40 datasets */
static kr_scols *
s_columns(unsigned *seed)
{
	kr_scols *c = kr_scols_new();

	for (int64_t n = 1; n <= NROWS; n++) {
		const char *v[KR_SCOL_N] = { 0 };
		if (n % 7 == 0)
			continue;
		v[KR_SCOL_KIND] = s_kinds[rand_r(seed) % 4];
		v[KR_SCOL_OUTCOME] = s_outcomes[rand_r(seed) % 4];
		v[KR_SCOL_DOMAINS] = s_domains[rand_r(seed) % 4];
		v[KR_SCOL_PUBLISHER] = "abc";
		v[KR_SCOL_UPDATED] = "2026-11-30";
		kr_scols_row(c, n, v);
		kr_scols_doclen(c, n, 100 + (int)(n % 50));
		if (rand_r(seed) % 3 == 0) {
			char ds[32];
			snprintf(ds, sizeof(ds), "ds-%d", rand_r(seed) % 40);
			kr_scols_group(c, n, ds);
		}
	}
	return c;
}

/* The rows a query matches, each with a rank: few distinct ranks, so ties are many. */
static void
s_offer(kr_scols_run *r, int64_t from, int64_t to, const double *rank)
{
	for (int64_t n = from; n < to; n++) {
		int ntok, pass;
		if (rank[n] < 0)
			continue;
		assert_true((pass = kr_scols_pass(r, n, &ntok)) >= 0);
		if (pass)
			kr_scols_offer(r, n, rank[n]);
	}
}

static void
s_same(kr_search_result *a, kr_search_result *b, int64_t *na, int64_t *nb, double *ra, double *rb,
    size_t *ma, size_t *mb, size_t ka, size_t kb)
{
	assert_int_equal(a->total, b->total);
	assert_int_equal(a->rows_folded, b->rows_folded);
	assert_int_equal(ka, kb);
	for (size_t i = 0; i < ka; i++) {
		assert_int_equal(na[i], nb[i]);
		assert_memory_equal(&ra[i], &rb[i], sizeof(double));
		assert_int_equal(ma[i], mb[i]);
	}
	for (int f = 0; f < KR_NFACETS; f++) {
		assert_int_equal(a->nfacets[f], b->nfacets[f]);
		for (size_t i = 0; i < a->nfacets[f]; i++) {
			assert_string_equal(a->facets[f][i].value, b->facets[f][i].value);
			assert_int_equal(a->facets[f][i].count, b->facets[f][i].count);
		}
	}
}

/*
 * Two runs over the rows below and from a split point, merged, give what
 * one run over all of them gives: totals, folded rows, facets, the best
 * rows in order with their ranks (ties by n) and "more rows" of datasets.
 */
static void
test_merge(void **state)
{
	unsigned seed = 13;
	kr_scols *c = s_columns(&seed);
	double *rank = malloc((NROWS + 1) * sizeof(double));
	int64_t mid;

	(void)state;
	assert_int_equal(kr_scols_rows(c, &mid), NROWS - NROWS / 7);
	assert_true(mid > NROWS / 2 - 10 && mid < NROWS / 2 + 10);
	for (int round = 0; round < 200; round++) {
		kr_search_q q = { .rows_all = round % 2, .kind = round % 5 == 0 ? "case" : NULL,
			.domain = round % 7 == 0 ? "福祉" : NULL };
		size_t limit = (size_t)(round % 4 == 0 ? 0 : 1 + rand_r(&seed) % 60);
		int64_t split = 1 + rand_r(&seed) % (NROWS + 1);
		kr_scols_run *one = kr_scols_run_new(c, &q, limit), *lo = kr_scols_run_new(c, &q, limit),
		    *hi = kr_scols_run_new(c, &q, limit);
		kr_search_result a = { 0 }, b = { 0 };
		int64_t *na, *nb;
		double *ra, *rb;
		size_t *ma, *mb, ka, kb;

		for (int64_t n = 0; n <= NROWS; n++)
			rank[n] = n % 7 == 0 || rand_r(&seed) % 4 == 0 ? -1 : -(double)(rand_r(&seed) % 9) / 4;
		s_offer(one, 1, NROWS + 1, rank);
		s_offer(lo, 1, split, rank);
		s_offer(hi, split, NROWS + 1, rank);
		kr_scols_merge(lo, hi);
		ka = kr_scols_finish(one, 1.5, &a, &na, &ra, &ma);
		kb = kr_scols_finish(lo, 1.5, &b, &nb, &rb, &mb);
		s_same(&a, &b, na, nb, ra, rb, ma, mb, ka, kb);
		if (limit && !q.rows_all && !q.kind && !q.domain && a.rows_folded == 0)
			fail_msg("round %d: %zu matches and no dataset rows folded", round, a.total);
		kr_search_result_free(&a);
		kr_search_result_free(&b);
		free(na), free(nb), free(ra), free(rb), free(ma), free(mb);
		kr_scols_run_destroy(&one);
		kr_scols_run_destroy(&lo);
		kr_scols_run_destroy(&hi);
	}
	free(rank);
	kr_scols_destroy(&c);
}

/* What the board's gate is given of a row: its publisher, kind and blob, as set; unknown rows are stale. */
static void
test_item(void **state)
{
	kr_scols *c = kr_scols_new();
	const char *v[KR_SCOL_N] = { 0 }, *pub, *kind;
	uint8_t oid[KR_OID_LEN];
	char blob[KR_OID_HEX + 1];

	(void)state;
	v[KR_SCOL_KIND] = "case";
	v[KR_SCOL_PUBLISHER] = "abc";
	kr_scols_row(c, 5, v);
	v[KR_SCOL_KIND] = NULL;
	v[KR_SCOL_PUBLISHER] = NULL;
	kr_scols_row(c, 9, v);
	for (int i = 0; i < KR_OID_LEN; i++)
		oid[i] = (uint8_t)(0xa0 + i);
	kr_scols_blob(c, 5, oid);
	assert_int_equal(kr_scols_item(c, 5, &pub, &kind, blob), 0);
	assert_string_equal(pub, "abc");
	assert_string_equal(kind, "case");
	assert_string_equal(blob, "a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3");
	assert_int_equal(kr_scols_item(c, 9, &pub, &kind, blob), 0);
	assert_null(pub);
	assert_null(kind);
	assert_string_equal(blob, "");
	assert_int_equal(kr_scols_item(c, 7, &pub, &kind, blob), -1);          /* no such row */
	assert_int_equal(kr_scols_item(c, 1 << 20, &pub, &kind, blob), -1);
	assert_int_equal(kr_scols_item(c, -1, &pub, &kind, blob), -1);
	kr_scols_destroy(&c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_merge),
		cmocka_unit_test(test_item),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
