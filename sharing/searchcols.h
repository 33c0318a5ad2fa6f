/*
 * sharing/searchcols.h - the search's filter and facet columns in memory
 *
 * A copy of the facet and filter columns of `items` (and each row's token
 * count), one small integer code per value, indexed by items.n. The search
 * (sharing/state.c) finds the matches with FTS5 and, per match, asks this
 * module whether the row passes the query's filters, counts its facets and
 * offers its score to a bounded heap of the best `limit` rows, so no match
 * outside the top k reads its row. `items` stays the source of truth: the
 * owner rebuilds a kr_scols whenever the database changed.
 */
#ifndef KR_SEARCHCOLS_H
#define KR_SEARCHCOLS_H

#include <stdint.h>

#include "state.h"

/* The columns kept, in the order kr_scols_row takes them. */
enum {
	KR_SCOL_KIND, KR_SCOL_OUTCOME, KR_SCOL_PREF, KR_SCOL_DEPLOYMENT, KR_SCOL_POPBAND,
	KR_SCOL_PUBLISHER, KR_SCOL_LGCODE, KR_SCOL_UPDATED,
	KR_SCOL_DOMAINS, KR_SCOL_AIUSES,        /* "\nA\nB\n" lists */
	KR_SCOL_N
};

typedef struct kr_scols kr_scols;
typedef struct kr_scols_run kr_scols_run;

kr_scols *kr_scols_new(void);
void kr_scols_destroy(kr_scols **cp);
/* Adds row n (values may be NULL) or sets its token count. */
void kr_scols_row(kr_scols *c, int64_t n, const char *const v[KR_SCOL_N]);
void kr_scols_doclen(kr_scols *c, int64_t n, int ntokens);
/* Row n is a row of the dataset `dataset` (its id before '#'): grouped in the ranking. */
void kr_scols_group(kr_scols *c, int64_t n, const char *dataset);
/* Row n's blob as the board's gate judges it (a dataset row's: its card's). */
void kr_scols_blob(kr_scols *c, int64_t n, const uint8_t oid[KR_OID_LEN]);
/*
 * What the board's gate (kr_search_q.keep) is given of row n: 0, or -1
 * if n is unknown to c (stale). *kind is NULL for an empty kind, blob ""
 * when the row has none.
 */
int kr_scols_item(const kr_scols *c, int64_t n, const char **publisher, const char **kind,
    char blob[KR_OID_HEX + 1]);

/*
 * One query over c with q's filters, keeping the best `limit` rows
 * (lowest rank first, ties by lower n). Unless q->rows_all, the rows of
 * one dataset take at most KR_SEARCH_ROWS_SHOWN places in that ranking
 * (its best ones); the others are counted (total, facets, more_rows)
 * but not ranked. Caller destroys it.
 */
kr_scols_run *kr_scols_run_new(const kr_scols *c, const kr_search_q *q, size_t limit);
void kr_scols_run_destroy(kr_scols_run **rp);
/*
 * Row n matched the text query: 1 if it also passes the filters (then it
 * is counted in the total and the facets), 0 if not, -1 if n is unknown to
 * c (c is stale). *ntokens gets the row's token count.
 */
int kr_scols_pass(kr_scols_run *r, int64_t n, int *ntokens);
/* Offers a passing row with its rank (lower is better) to the top k. */
void kr_scols_offer(kr_scols_run *r, int64_t n, double rank);
/*
 * Adds what src counted and kept to r (both runs of the same query over
 * the same columns, each over its own rows): the result is that of one
 * run over both, ties included. src is left as it was.
 */
void kr_scols_merge(kr_scols_run *r, const kr_scols_run *src);
/*
 * The number of rows, and in *mid the n that splits them in two halves
 * of (about) equal size: rows below it, and rows from it on.
 */
size_t kr_scols_rows(const kr_scols *c, int64_t *mid);
/* Number of passing rows so far. */
size_t kr_scols_total(const kr_scols_run *r);
/*
 * The result: out->total, out->rows_folded and out->facets (sorted by
 * count, then value), and the best rows sorted, as *ns, *ranks and *more
 * (caller frees all three; more[i]: the matching rows of hit i's dataset
 * left out of the ranking, given on the dataset's last ranked row, else
 * 0) with their number returned. rank_scale multiplies every rank first.
 */
size_t kr_scols_finish(kr_scols_run *r, double rank_scale, kr_search_result *out, int64_t **ns,
    double **ranks, size_t **more);

#endif
