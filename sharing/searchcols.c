/*
 * sharing/searchcols.c - the search's filter and facet columns in memory
 *
 * Each column interns its values (code 0 is NULL) and keeps one uint32
 * code per row, indexed by items.n; the two list columns (domains,
 * ai_uses) keep a slice of a flat code array per row. A row exists when
 * its kind code is non-zero (items.kind is NOT NULL). Facet counts are
 * arrays indexed by code, so counting a match is a few increments; the top
 * k is a binary max-heap of the k best so far (the worst on top). Rows
 * of a dataset (items DATASET-ID#ROW) carry their dataset's code: a query
 * ranks at most KR_SEARCH_ROWS_SHOWN of each dataset (its best, kept per
 * dataset apart from the heap) and counts the rest.
 * No I/O, no locking: one kr_scols per kr_state, used by its thread.
 */
#include "searchcols.h"

#include <stdlib.h>
#include <string.h>

#define NSCALAR KR_SCOL_DOMAINS

typedef struct {
	char **v;               /* v[code], v[0] unused (NULL) */
	uint32_t n, cap;
	uint32_t *slot;         /* open addressing: code or 0 */
	uint32_t nslot;
} s_intern;

struct kr_scols {
	s_intern in[KR_SCOL_N];
	uint32_t *code[NSCALAR];        /* per row */
	uint32_t *lstart[2];            /* per row: slice of flat[] */
	uint16_t *llen[2];
	uint32_t *flat[2];
	size_t nflat[2], capflat[2];
	int32_t *ntok;
	s_intern grp;                   /* dataset ids */
	uint32_t *group;                /* per row: its dataset's code, 0 for an item */
	uint8_t (*blob)[KR_OID_LEN + 1]; /* per row: the blob the board judges it by; [0] 1 when set */
	size_t cap;                     /* rows allocated: n < cap */
	/* the previous row's raw values: rows read in index order repeat them */
	char *last[KR_SCOL_N];
	uint32_t last_code[NSCALAR];
	int64_t last_n;
};

static uint32_t
s_hash(const char *s)
{
	return (uint32_t)kr_hash(s, strlen(s));
}

/* The code of s, 0 if absent (add: intern it). */
static uint32_t
s_code(s_intern *in, const char *s, int add)
{
	uint32_t h, i;

	if (!s)
		return 0;
	if (in->nslot) {
		for (h = s_hash(s), i = h & (in->nslot - 1); in->slot[i]; i = (i + 1) & (in->nslot - 1))
			if (strcmp(in->v[in->slot[i]], s) == 0)
				return in->slot[i];
	}
	if (!add)
		return 0;
	if (in->n + 1 >= in->cap) {
		in->cap = in->cap ? in->cap * 2 : 16;
		in->v = kr_realloc(in->v, in->cap * sizeof(char *));
		if (in->n == 0)
			in->n = 1;      /* code 0 is NULL */
	}
	if ((in->n + 1) * 2 > in->nslot) {
		uint32_t ns = in->nslot ? in->nslot * 2 : 64;
		free(in->slot);
		in->slot = kr_calloc(ns, sizeof(uint32_t));
		in->nslot = ns;
		for (uint32_t c = 1; c < in->n; c++) {
			for (i = s_hash(in->v[c]) & (ns - 1); in->slot[i]; i = (i + 1) & (ns - 1))
				;
			in->slot[i] = c;
		}
	}
	in->v[in->n] = kr_strdup(s);
	for (i = s_hash(s) & (in->nslot - 1); in->slot[i]; i = (i + 1) & (in->nslot - 1))
		;
	in->slot[i] = in->n;
	return in->n++;
}

kr_scols *
kr_scols_new(void)
{
	kr_scols *c = kr_calloc(1, sizeof(kr_scols));

	c->last_n = -1;
	return c;
}

void
kr_scols_destroy(kr_scols **cp)
{
	kr_scols *c;

	if (!cp || !(c = *cp))
		return;
	for (int k = 0; k < KR_SCOL_N; k++) {
		for (uint32_t i = 1; i < c->in[k].n; i++)
			free(c->in[k].v[i]);
		free(c->in[k].v);
		free(c->in[k].slot);
	}
	for (uint32_t i = 1; i < c->grp.n; i++)
		free(c->grp.v[i]);
	free(c->grp.v);
	free(c->grp.slot);
	free(c->group);
	free(c->blob);
	for (int k = 0; k < NSCALAR; k++)
		free(c->code[k]);
	for (int k = 0; k < KR_SCOL_N; k++)
		free(c->last[k]);
	for (int k = 0; k < 2; k++) {
		free(c->lstart[k]);
		free(c->llen[k]);
		free(c->flat[k]);
	}
	free(c->ntok);
	free(c);
	*cp = NULL;
}

static void
s_grow(kr_scols *c, int64_t n)
{
	size_t cap = c->cap ? c->cap : 1024, old = c->cap;

	while ((size_t)n >= cap)
		cap *= 2;
	for (int k = 0; k < NSCALAR; k++) {
		c->code[k] = kr_realloc(c->code[k], cap * sizeof(uint32_t));
		memset(c->code[k] + old, 0, (cap - old) * sizeof(uint32_t));
	}
	for (int k = 0; k < 2; k++) {
		c->lstart[k] = kr_realloc(c->lstart[k], cap * sizeof(uint32_t));
		c->llen[k] = kr_realloc(c->llen[k], cap * sizeof(uint16_t));
		memset(c->llen[k] + old, 0, (cap - old) * sizeof(uint16_t));
	}
	c->ntok = kr_realloc(c->ntok, cap * sizeof(int32_t));
	memset(c->ntok + old, 0, (cap - old) * sizeof(int32_t));
	c->group = kr_realloc(c->group, cap * sizeof(uint32_t));
	memset(c->group + old, 0, (cap - old) * sizeof(uint32_t));
	c->blob = kr_realloc(c->blob, cap * sizeof(*c->blob));
	memset(c->blob + old, 0, (cap - old) * sizeof(*c->blob));
	c->cap = cap;
}

static void s_list(kr_scols *c, int l, int64_t n, const char *p);

void
kr_scols_row(kr_scols *c, int64_t n, const char *const v[KR_SCOL_N])
{
	if (n < 0)
		return;
	if ((size_t)n >= c->cap)
		s_grow(c, n);
	for (int k = 0; k < KR_SCOL_N; k++) {
		/* same as the previous row (both NULL, or equal text): nothing to intern */
		int same = c->last_n >= 0 && ((!v[k] && !c->last[k]) ||
		    (v[k] && c->last[k] && strcmp(v[k], c->last[k]) == 0));
		if (k < NSCALAR) {
			c->code[k][n] = same ? c->last_code[k] : s_code(&c->in[k], v[k], 1);
			c->last_code[k] = c->code[k][n];
		} else if (same) {
			c->lstart[k - NSCALAR][n] = c->lstart[k - NSCALAR][c->last_n];
			c->llen[k - NSCALAR][n] = c->llen[k - NSCALAR][c->last_n];
		} else {
			s_list(c, k - NSCALAR, n, v[k]);
		}
		if (!same) {
			free(c->last[k]);
			c->last[k] = v[k] ? kr_strdup(v[k]) : NULL;
		}
	}
	if (!c->code[KR_SCOL_KIND][n])
		c->code[KR_SCOL_KIND][n] = s_code(&c->in[KR_SCOL_KIND], "", 1);
	c->last_n = n;
}

/* Row n's list column l from "\nA\nB\n" (empty items skipped). */
static void
s_list(kr_scols *c, int l, int64_t n, const char *p)
{
	c->lstart[l][n] = (uint32_t)c->nflat[l];
	c->llen[l][n] = 0;
	while (p && *p && c->llen[l][n] < UINT16_MAX) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		if (len) {
			char *one = kr_strndup(p, len);
			if (c->nflat[l] == c->capflat[l]) {
				c->capflat[l] = c->capflat[l] ? c->capflat[l] * 2 : 1024;
				c->flat[l] = kr_realloc(c->flat[l], c->capflat[l] * sizeof(uint32_t));
			}
			c->flat[l][c->nflat[l]++] = s_code(&c->in[NSCALAR + l], one, 1);
			c->llen[l][n]++;
			free(one);
		}
		p += len + (nl ? 1 : 0);
	}
}

void
kr_scols_doclen(kr_scols *c, int64_t n, int ntokens)
{
	if (n >= 0 && (size_t)n < c->cap)
		c->ntok[n] = ntokens;
}

void
kr_scols_group(kr_scols *c, int64_t n, const char *dataset)
{
	if (n < 0)
		return;
	if ((size_t)n >= c->cap)
		s_grow(c, n);
	c->group[n] = s_code(&c->grp, dataset, 1);
}

void
kr_scols_blob(kr_scols *c, int64_t n, const uint8_t oid[KR_OID_LEN])
{
	if (n < 0 || (size_t)n >= c->cap)
		return;
	c->blob[n][0] = 1;
	memcpy(c->blob[n] + 1, oid, KR_OID_LEN);
}

int
kr_scols_item(const kr_scols *c, int64_t n, const char **publisher, const char **kind,
    char blob[KR_OID_HEX + 1])
{
	uint32_t k;

	if (n < 0 || (size_t)n >= c->cap || !(k = c->code[KR_SCOL_KIND][n]))
		return -1;
	*kind = *c->in[KR_SCOL_KIND].v[k] ? c->in[KR_SCOL_KIND].v[k] : NULL;
	k = c->code[KR_SCOL_PUBLISHER][n];
	*publisher = k ? c->in[KR_SCOL_PUBLISHER].v[k] : NULL;
	if (c->blob[n][0])
		kr_hex(blob, c->blob[n] + 1, KR_OID_LEN);
	else
		blob[0] = '\0';
	return 0;
}

/* ---- one query ---- */

/* The facets reported, by kr_search_result index, and the column each counts. */
static const int s_facet_col[KR_NFACETS] = { KR_SCOL_KIND, KR_SCOL_OUTCOME, KR_SCOL_DOMAINS, KR_SCOL_PREF,
	KR_SCOL_AIUSES, KR_SCOL_DEPLOYMENT, KR_SCOL_POPBAND };

typedef struct {
	int64_t n;
	double rank;
} s_best;

/* One dataset's matching rows in a query: how many, and the best ranked. */
typedef struct {
	size_t count, nbest;
	s_best best[KR_SEARCH_ROWS_SHOWN];
} s_group;

struct kr_scols_run {
	const kr_scols *c;
	uint32_t want[NSCALAR];         /* 0: no filter on this column */
	uint32_t want_pub, want_lg;     /* the publisher filter: either */
	int pub_filter;
	uint32_t want_list[2];
	unsigned char *since_ok;        /* per updated code: within since and until, or NULL */
	int none;                       /* a filter value no row has */
	size_t *count[KR_NFACETS];
	size_t total;
	s_best *heap;
	size_t nheap, limit;
	s_group *grp;                   /* by dataset code; NULL: every row ranked */
};

kr_scols_run *
kr_scols_run_new(const kr_scols *c, const kr_search_q *q, size_t limit)
{
	kr_scols_run *r = kr_calloc(1, sizeof(*r));
	const char *eq[NSCALAR] = { q->kind, q->outcome, q->pref, q->deployment, q->popband };
	const char *lists[2] = { q->domain, q->ai_use };

	r->c = c;
	r->limit = limit;
	r->heap = kr_calloc(limit ? limit : 1, sizeof(s_best));
	for (int k = 0; k < KR_SCOL_PUBLISHER; k++)
		if (eq[k] && !(r->want[k] = s_code((s_intern *)&c->in[k], eq[k], 0)))
			r->none = 1;
	if (q->publisher) {
		r->pub_filter = 1;
		r->want_pub = s_code((s_intern *)&c->in[KR_SCOL_PUBLISHER], q->publisher, 0);
		r->want_lg = s_code((s_intern *)&c->in[KR_SCOL_LGCODE], q->publisher, 0);
		if (!r->want_pub && !r->want_lg)
			r->none = 1;
	}
	for (int l = 0; l < 2; l++)
		if (lists[l] && !(r->want_list[l] = s_code((s_intern *)&c->in[NSCALAR + l], lists[l], 0)))
			r->none = 1;
	if (q->since) {
		const s_intern *in = &c->in[KR_SCOL_UPDATED];
		r->since_ok = kr_calloc(in->n + 1, 1);
		for (uint32_t i = 1; i < in->n; i++)
			r->since_ok[i] = strcmp(in->v[i], q->since) >= 0;
	}
	if (q->until) {
		/* the same table as since: a day passes both bounds or is left out */
		const s_intern *in = &c->in[KR_SCOL_UPDATED];
		if (!r->since_ok) {
			r->since_ok = kr_calloc(in->n + 1, 1);
			for (uint32_t i = 1; i < in->n; i++)
				r->since_ok[i] = 1;
		}
		for (uint32_t i = 1; i < in->n; i++)
			r->since_ok[i] = r->since_ok[i] && strncmp(in->v[i], q->until, 10) <= 0;
	}
	for (int f = 0; f < KR_NFACETS; f++)
		r->count[f] = kr_calloc(c->in[s_facet_col[f]].n + 1, sizeof(size_t));
	if (!q->rows_all && c->grp.n > 1)
		r->grp = kr_calloc(c->grp.n, sizeof(s_group));
	return r;
}

void
kr_scols_run_destroy(kr_scols_run **rp)
{
	kr_scols_run *r;

	if (!rp || !(r = *rp))
		return;
	for (int f = 0; f < KR_NFACETS; f++)
		free(r->count[f]);
	free(r->since_ok);
	free(r->grp);
	free(r->heap);
	free(r);
	*rp = NULL;
}

static int
s_in_list(const kr_scols *c, int l, int64_t n, uint32_t code)
{
	const uint32_t *v = c->flat[l] + c->lstart[l][n];

	for (uint16_t i = 0; i < c->llen[l][n]; i++)
		if (v[i] == code)
			return 1;
	return 0;
}

int
kr_scols_pass(kr_scols_run *r, int64_t n, int *ntokens)
{
	const kr_scols *c = r->c;

	if (n < 0 || (size_t)n >= c->cap || !c->code[KR_SCOL_KIND][n])
		return -1;
	*ntokens = c->ntok[n];
	if (r->none)
		return 0;
	for (int k = 0; k < KR_SCOL_PUBLISHER; k++)
		if (r->want[k] && c->code[k][n] != r->want[k])
			return 0;
	if (r->pub_filter && !((r->want_pub && c->code[KR_SCOL_PUBLISHER][n] == r->want_pub) ||
	    (r->want_lg && c->code[KR_SCOL_LGCODE][n] == r->want_lg)))
		return 0;
	if (r->since_ok && !r->since_ok[c->code[KR_SCOL_UPDATED][n]])
		return 0;
	for (int l = 0; l < 2; l++)
		if (r->want_list[l] && !s_in_list(c, l, n, r->want_list[l]))
			return 0;
	r->total++;
	r->count[KR_FACET_KIND][c->code[KR_SCOL_KIND][n]]++;
	r->count[KR_FACET_OUTCOME][c->code[KR_SCOL_OUTCOME][n]]++;
	r->count[KR_FACET_PREF][c->code[KR_SCOL_PREF][n]]++;
	r->count[KR_FACET_DEPLOYMENT][c->code[KR_SCOL_DEPLOYMENT][n]]++;
	r->count[KR_FACET_POPBAND][c->code[KR_SCOL_POPBAND][n]]++;
	for (int l = 0; l < 2; l++) {
		const uint32_t *v = c->flat[l] + c->lstart[l][n];
		size_t *count = r->count[l ? KR_FACET_AIUSE : KR_FACET_DOMAIN];
		for (uint16_t i = 0; i < c->llen[l][n]; i++)
			count[v[i]]++;
	}
	return 1;
}

/* a is worse than b: a higher rank, or the same rank and a higher n. */
static int
s_worse(const s_best *a, const s_best *b)
{
	return a->rank > b->rank || (a->rank == b->rank && a->n > b->n);
}

/* x among its dataset's best rows, if it is one of them. */
static void
s_group_keep(s_group *gr, s_best x)
{
	size_t i = 0;

	if (gr->nbest < KR_SEARCH_ROWS_SHOWN) {
		gr->best[gr->nbest++] = x;
		return;
	}
	for (size_t j = 1; j < KR_SEARCH_ROWS_SHOWN; j++)
		if (s_worse(&gr->best[j], &gr->best[i]))
			i = j;
	if (s_worse(&gr->best[i], &x))
		gr->best[i] = x;
}

/* x in the heap of the best `limit`, if it is one of them. */
static void
s_heap_keep(kr_scols_run *r, s_best x)
{
	size_t i;

	if (r->nheap == r->limit) {
		if (!s_worse(&r->heap[0], &x))
			return;
		/* replace the worst and sift down */
		i = 0;
		for (;;) {
			size_t l = 2 * i + 1, m = i;
			const s_best *big = &x;
			if (l < r->nheap && s_worse(&r->heap[l], big)) {
				m = l;
				big = &r->heap[l];
			}
			if (l + 1 < r->nheap && s_worse(&r->heap[l + 1], big))
				m = l + 1;
			if (m == i)
				break;
			r->heap[i] = r->heap[m];
			i = m;
		}
		r->heap[i] = x;
		return;
	}
	for (i = r->nheap++; i > 0 && s_worse(&x, &r->heap[(i - 1) / 2]); i = (i - 1) / 2)
		r->heap[i] = r->heap[(i - 1) / 2];
	r->heap[i] = x;
}

void
kr_scols_offer(kr_scols_run *r, int64_t n, double rank)
{
	s_best x = { n, rank };
	uint32_t g;

	if (!r->limit)
		return;
	if (r->grp && (g = r->c->group[n]) != 0) {
		/* a dataset's row: kept among its dataset's best, not in the heap */
		r->grp[g].count++;
		s_group_keep(&r->grp[g], x);
		return;
	}
	s_heap_keep(r, x);
}

void
kr_scols_merge(kr_scols_run *r, const kr_scols_run *src)
{
	const kr_scols *c = r->c;

	r->total += src->total;
	for (int f = 0; f < KR_NFACETS; f++)
		for (uint32_t i = 0; i <= c->in[s_facet_col[f]].n; i++)
			r->count[f][i] += src->count[f][i];
	for (size_t i = 0; i < src->nheap; i++)
		s_heap_keep(r, src->heap[i]);
	for (uint32_t g = 1; r->grp && g < c->grp.n; g++) {
		r->grp[g].count += src->grp[g].count;
		for (size_t i = 0; i < src->grp[g].nbest; i++)
			s_group_keep(&r->grp[g], src->grp[g].best[i]);
	}
}

size_t
kr_scols_rows(const kr_scols *c, int64_t *mid)
{
	size_t rows = 0, half = 0;

	for (size_t n = 0; n < c->cap; n++)
		rows += c->code[KR_SCOL_KIND][n] != 0;
	*mid = 0;
	for (size_t n = 0; n < c->cap; n++) {
		if (c->code[KR_SCOL_KIND][n] && half++ == rows / 2) {
			*mid = (int64_t)n;
			break;
		}
	}
	return rows;
}

size_t
kr_scols_total(const kr_scols_run *r)
{
	return r->total;
}

static int
s_best_cmp(const void *a, const void *b)
{
	return s_worse(a, b) ? 1 : s_worse(b, a) ? -1 : 0;
}

static int
s_facet_cmp(const void *a, const void *b)
{
	const kr_facet *x = a, *y = b;

	if (x->count != y->count)
		return x->count < y->count ? 1 : -1;
	return strcmp(x->value, y->value);
}

size_t
kr_scols_finish(kr_scols_run *r, double rank_scale, kr_search_result *out, int64_t **ns, double **ranks,
    size_t **more)
{
	const kr_scols *c = r->c;

	out->total = r->total;
	for (int f = 0; f < KR_NFACETS; f++) {
		const s_intern *in = &c->in[s_facet_col[f]];
		for (uint32_t i = 1; i < in->n; i++) {
			if (!r->count[f][i] || !in->v[i][0])
				continue;
			out->facets[f] = kr_realloc(out->facets[f], (out->nfacets[f] + 1) * sizeof(kr_facet));
			out->facets[f][out->nfacets[f]].value = kr_strdup(in->v[i]);
			out->facets[f][out->nfacets[f]++].count = r->count[f][i];
		}
		if (out->nfacets[f])
			qsort(out->facets[f], out->nfacets[f], sizeof(kr_facet), s_facet_cmp);
	}
	if (r->grp) {
		/* the datasets' best rows join the items' heap; then the best `limit` of both */
		size_t nall = r->nheap;
		for (uint32_t g = 1; g < c->grp.n; g++) {
			nall += r->grp[g].nbest;
			out->rows_folded += r->grp[g].count - r->grp[g].nbest;
		}
		r->heap = kr_realloc(r->heap, (nall ? nall : 1) * sizeof(s_best));
		for (uint32_t g = 1; g < c->grp.n; g++)
			for (size_t i = 0; i < r->grp[g].nbest; i++)
				r->heap[r->nheap++] = r->grp[g].best[i];
	}
	for (size_t i = 0; i < r->nheap; i++)
		r->heap[i].rank *= rank_scale;
	qsort(r->heap, r->nheap, sizeof(s_best), s_best_cmp);
	if (r->nheap > r->limit)
		r->nheap = r->limit;
	*ns = kr_calloc(r->nheap ? r->nheap : 1, sizeof(int64_t));
	*ranks = kr_calloc(r->nheap ? r->nheap : 1, sizeof(double));
	*more = kr_calloc(r->nheap ? r->nheap : 1, sizeof(size_t));
	for (size_t i = 0; i < r->nheap; i++) {
		(*ns)[i] = r->heap[i].n;
		(*ranks)[i] = r->heap[i].rank;
	}
	/* "N more rows of this dataset" goes on the dataset's last ranked row */
	for (size_t i = r->nheap; r->grp && i-- > 0;) {
		s_group *gr = &r->grp[c->group[r->heap[i].n]];
		if (c->group[r->heap[i].n] && gr->count > gr->nbest) {
			(*more)[i] = gr->count - gr->nbest;
			gr->count = gr->nbest;          /* said once */
		}
	}
	return r->nheap;
}
