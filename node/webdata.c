/*
 * node/webdata.c - reads for the web pages and endpoints (see webdata.h)
 *
 * Composes kr_state_* (which items, which publishers), kr_store_* (the
 * signed files and their history) and kr_frontmatter_* (fields); holds no
 * state of its own except the per-thread digest cache in kr_web_ctx and
 * the memo the web threads share (kr_web_memo: versions per index row,
 * signature verdicts per head; bounded, least recently used out).
 * Runs on the web threads only.
 */
#include "webdata.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../policies/dataset.h"
#include "../sharing/sign.h"
#include "board.h"

int
kr_web_held(kr_web_ctx *c, const kr_state_item *it)
{
	kr_bgate g;
	int rc;

	kr_bgate_init(&g, c->conf->home, c->state, c->store, c->conf->rules);
	if (!kr_bgate_required(&g, it->kind))
		return 0;
	rc = kr_bgate_check(&g, it->id, it->version, it->kind, it->blob);
	kr_bgate_free(&g);
	return rc;
}

static char *
s_dup(const char *s)
{
	return s ? kr_strdup(s) : NULL;
}

int
kr_web_item_load(kr_web_ctx *c, const char *id, kr_web_item *out)
{
	uint8_t commit[KR_OID_LEN], blob[KR_OID_LEN];
	int bl, rc;

	memset(out, 0, sizeof(*out));
	out->text = (kr_buf)KR_BUF_INIT;
	if ((rc = kr_state_item_find(c->state, id, &out->items, &out->nitems)) < 0)
		return rc;
	out->it = &out->items[0];
	if ((rc = kr_web_held(c, out->it)) < 0) {
		/* policy.accept.require_endorsement: not shown, not served, on any page or endpoint */
		kr_web_item_free(out);
		return rc;
	}
	/*
	 * By the blob id the index recorded: reading by path would load the
	 * commit's trees, and a collection of 100,000 cases has a directory
	 * tree of megabytes (a third of an item page's time).
	 */
	if (out->it->blob && kr_unhex(blob, KR_OID_LEN, out->it->blob) == 0)
		rc = kr_store_read_blob(c->store, out->it->publisher, out->it->collection, blob, &out->text);
	else if ((rc = kr_unhex(commit, KR_OID_LEN, out->it->commit)) == 0)
		rc = kr_store_read(c->store, out->it->publisher, out->it->collection, commit, out->it->path, &out->text);
	if (rc < 0) {
		kr_web_item_free(out);
		return rc;
	}
	if (kr_frontmatter_parse(&out->fm, out->text.ptr, out->text.len, &out->body, &bl) < 0) {
		kr_error_clear();
		out->fm = NULL;
		out->body = out->text.ptr;
	}
	out->body_len = out->text.len - (size_t)(out->body - out->text.ptr);
	return 0;
}

void
kr_web_item_free(kr_web_item *x)
{
	kr_state_items_free(x->items, x->nitems);
	kr_buf_release(&x->text);
	kr_yaml_free(&x->fm);
	memset(x, 0, sizeof(*x));
}

/* ---- dataset rows -------------------------------------------------------- */

static int
s_row_found(void *arg, const kr_dataset_row *row)
{
	kr_web_row *x = arg;

	if (strcmp(row->id, x->row_id) != 0)
		return 0;
	x->question = kr_strdup(row->question);
	x->answer = kr_strdup(row->answer);
	x->alt_questions = kr_strdup(row->alt_questions);
	x->keywords = kr_strdup(row->keywords);
	x->category = s_dup(row->category);
	x->issuer = s_dup(row->issuer);
	x->source_title = s_dup(row->source_title);
	x->updated = s_dup(row->updated);
	return 1;
}

int
kr_web_row_load(kr_web_ctx *c, const char *id, kr_web_rowfile *file, kr_web_row *out)
{
	const char *hash = strchr(id, '#');
	kr_state_item *v = NULL;
	size_t n = 0;
	kr_web_rowfile own = { NULL, KR_BUF_INIT };
	kr_web_rowfile *f = file ? file : &own;
	char *ds_id = NULL, *path = NULL, *key = NULL;
	uint8_t commit[KR_OID_LEN];
	int rc;

	memset(out, 0, sizeof(*out));
	if (!hash || !hash[1])
		return kr_error(KR_ENOTFOUND, "%s is not a dataset row (DATASET-ID#ROW)", id);
	out->row_id = kr_strdup(hash + 1);
	ds_id = kr_strndup(id, (size_t)(hash - id));
	if ((rc = kr_state_item_find(c->state, id, &v, &n)) < 0)
		goto done;
	/* the row's data file: the item's path up to the '#' of its row id */
	if (!(hash = strrchr(v[0].path, '#')) || (rc = kr_unhex(commit, KR_OID_LEN, v[0].commit)) < 0) {
		rc = rc < 0 ? rc : kr_error(KR_ENOTFOUND, "%s: no data file recorded for the row", id);
		goto done;
	}
	path = kr_strndup(v[0].path, (size_t)(hash - v[0].path));
	key = kr_sprintf("%s\n%s\n%s\n%s", v[0].publisher, v[0].collection, v[0].commit, path);
	if (!f->key || strcmp(f->key, key) != 0) {
		free(f->key);
		f->key = NULL;
		kr_buf_clear(&f->text);
		if ((rc = kr_store_read(c->store, v[0].publisher, v[0].collection, commit, path, &f->text)) < 0)
			goto done;
		f->key = key;
		key = NULL;
	}
	if (kr_dataset_rows(f->text.ptr ? f->text.ptr : "", f->text.len, s_row_found, out) != 1) {
		rc = kr_error(KR_ENOTFOUND, "%s: no row %s in %s at %.12s", ds_id, out->row_id, path, v[0].commit);
		goto done;
	}
	rc = kr_web_item_load(c, ds_id, &out->ds);
done:
	if (rc < 0)
		kr_web_row_free(out);
	kr_state_items_free(v, n);
	free(own.key);
	kr_buf_release(&own.text);
	free(ds_id);
	free(path);
	free(key);
	return rc;
}

void
kr_web_row_free(kr_web_row *x)
{
	if (x->ds.items)
		kr_web_item_free(&x->ds);
	free(x->row_id);
	free(x->question);
	free(x->answer);
	free(x->alt_questions);
	free(x->keywords);
	free(x->category);
	free(x->issuer);
	free(x->source_title);
	free(x->updated);
	memset(x, 0, sizeof(*x));
}

/* ---- versions ------------------------------------------------------------ */

typedef struct {
	kr_web_version *v;
	size_t n;
} s_hist;

static int
s_hist_add(const uint8_t commit[KR_OID_LEN], int64_t time, const uint8_t *blob, void *arg)
{
	s_hist *h = arg;
	kr_web_version *v;

	if (h->n == KR_WEB_MAX_VERSIONS)
		return 1;
	h->v = kr_realloc(h->v, (h->n + 1) * sizeof(*h->v));
	v = &h->v[h->n++];
	memset(v, 0, sizeof(*v));
	kr_hex(v->commit, commit, KR_OID_LEN);
	if (blob)
		kr_hex(v->blob, blob, KR_OID_LEN);
	v->present = blob != NULL;
	v->time = time;
	return 0;
}

/* ---- the memo the web threads share ------------------------------------ */

#define MEMO_HISTORIES 256             /* item pages whose versions are kept */
#define MEMO_HEADS 64                  /* head commits whose signature verdict is kept */
#define CHIST_COLLS 8                  /* collections whose paths' versions are kept (below) */

typedef struct {
	char *key;                     /* publisher, collection, path, row commit, row blob */
	kr_web_version *v;
	size_t n;
	unsigned used;
} s_memo_hist;

typedef struct {
	char *key;                     /* publisher, collection, head commit */
	kr_web_headsig sig;
	unsigned used;
} s_memo_head;

struct kr_web_memo {
	pthread_mutex_t lock;
	s_memo_hist hist[MEMO_HISTORIES];
	s_memo_head head[MEMO_HEADS];
	struct s_chist *chist[CHIST_COLLS];
	size_t chist_versions;         /* versions in them all */
	unsigned clock;
};

static void s_chist_free(struct s_chist *x);

kr_web_memo *
kr_web_memo_new(void)
{
	kr_web_memo *m = kr_calloc(1, sizeof(*m));

	pthread_mutex_init(&m->lock, NULL);
	return m;
}

void
kr_web_memo_free(kr_web_memo *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < MEMO_HISTORIES; i++) {
		free(m->hist[i].key);
		kr_web_versions_free(m->hist[i].v, m->hist[i].n);
	}
	for (size_t i = 0; i < MEMO_HEADS; i++)
		free(m->head[i].key);
	for (size_t i = 0; i < CHIST_COLLS; i++)
		s_chist_free(m->chist[i]);
	pthread_mutex_destroy(&m->lock);
	free(m);
}

static kr_web_version *
s_versions_copy(const kr_web_version *v, size_t n)
{
	kr_web_version *c = n ? kr_calloc(n, sizeof(*c)) : NULL;

	for (size_t i = 0; i < n; i++) {
		c[i] = v[i];
		c[i].version = s_dup(v[i].version);
		c[i].edition = s_dup(v[i].edition);
		c[i].updated = s_dup(v[i].updated);
		c[i].notes = s_dup(v[i].notes);
	}
	return c;
}

/* Copies key's versions into *out (under the memo's lock); 0 when not kept. */
static int
s_memo_hist_get(kr_web_memo *m, const char *key, kr_web_version **out, size_t *n)
{
	int found = 0;

	pthread_mutex_lock(&m->lock);
	for (size_t i = 0; i < MEMO_HISTORIES; i++) {
		s_memo_hist *e = &m->hist[i];
		if (e->key && strcmp(e->key, key) == 0) {
			e->used = ++m->clock;
			*out = s_versions_copy(e->v, e->n);
			*n = e->n;
			found = 1;
			break;
		}
	}
	pthread_mutex_unlock(&m->lock);
	return found;
}

static void
s_memo_hist_put(kr_web_memo *m, const char *key, const kr_web_version *v, size_t n)
{
	s_memo_hist *e;

	pthread_mutex_lock(&m->lock);
	e = &m->hist[0];
	for (size_t i = 0; i < MEMO_HISTORIES; i++) {
		if (m->hist[i].key && strcmp(m->hist[i].key, key) == 0) {
			e = &m->hist[i];
			break;
		}
		if (m->hist[i].used < e->used)
			e = &m->hist[i];
	}
	free(e->key);
	kr_web_versions_free(e->v, e->n);
	e->key = kr_strdup(key);
	e->v = s_versions_copy(v, n);
	e->n = n;
	e->used = ++m->clock;
	pthread_mutex_unlock(&m->lock);
}

/*
 * ---- the versions of every path of a collection (kept in the memo) ----
 *
 * An item opened for the first time used to walk its collection's history
 * on its own, loading two root-to-leaf trees per commit (at 100,000 cases
 * a tree is megabytes: 177 ms for one page). Instead one pass per
 * collection records, for every path, the commits where its blob changed
 * (kr_store_diff of each commit against its parent), and later heads add
 * only their new commits. The walk costs what one item's walk cost; every
 * item of the collection is then a lookup, and the refresher does that
 * pass when the pages start (kr_web_history_warm), so even the first page
 * is cheap. A collection too large to keep (CHIST_MAX_VERSIONS in all, or
 * a history longer than CHIST_MAX_COMMITS) is walked per item as before.
 */
#define CHIST_MAX_VERSIONS 250000      /* over every kept collection (about 120 bytes each) */
#define CHIST_MAX_COMMITS 4096
#define CHIST_NONE UINT32_MAX

typedef struct {
	uint8_t commit[KR_OID_LEN], blob[KR_OID_LEN];
	int64_t time;
	uint32_t older;                /* the version before it of the same path, CHIST_NONE */
	uint8_t present;
} s_pver;

typedef struct {
	char *path;                    /* NULL: an empty slot */
	uint32_t newest;
} s_pslot;

typedef struct s_chist {
	char *pub, *coll;
	uint8_t head[KR_OID_LEN];      /* the versions are those up to this commit */
	s_pslot *slot;                 /* open addressing, a power of two */
	size_t cap, npaths;
	s_pver *v;
	size_t nv, capv;
	unsigned used;
	int busy;                      /* a thread is extending it: it is not dropped meanwhile */
} s_chist;

/* One commit's changes, while building (outside the memo's lock). */
typedef struct {
	uint8_t commit[KR_OID_LEN];
	int64_t time;
} s_ccommit;

typedef struct {
	char *path;
	uint8_t blob[KR_OID_LEN];
	uint8_t present;
	uint32_t commit;               /* index into the commits */
} s_cchange;

typedef struct {
	s_ccommit *c;
	size_t n;
	const uint8_t *stop;           /* the head already recorded, NULL: to the root */
	int reached;
	s_cchange *ch;
	size_t nch, capch;
	uint32_t cur;
} s_cbuild;

static s_pslot *
s_chist_slot(s_chist *x, const char *path)
{
	size_t i = (size_t)kr_hash(path, strlen(path)) & (x->cap - 1);

	while (x->slot[i].path && strcmp(x->slot[i].path, path) != 0)
		i = (i + 1) & (x->cap - 1);
	return &x->slot[i];
}

static void
s_chist_grow(s_chist *x)
{
	s_pslot *old = x->slot;
	size_t ocap = x->cap;

	x->cap = ocap ? ocap * 2 : 1024;
	x->slot = kr_calloc(x->cap, sizeof(s_pslot));
	for (size_t i = 0; i < ocap; i++)
		if (old[i].path)
			*s_chist_slot(x, old[i].path) = old[i];
	free(old);
}

static void
s_chist_free(s_chist *x)
{
	if (!x)
		return;
	for (size_t i = 0; i < x->cap; i++)
		free(x->slot[i].path);
	free(x->slot);
	free(x->v);
	free(x->pub);
	free(x->coll);
	free(x);
}

static int
s_cb_commit(const kr_commit_info *ci, void *arg)
{
	s_cbuild *b = arg;

	if (b->stop && memcmp(ci->oid, b->stop, KR_OID_LEN) == 0) {
		b->reached = 1;
		return 1;
	}
	if (b->n == CHIST_MAX_COMMITS)
		return kr_error(KR_ERROR, "history longer than %d commits", CHIST_MAX_COMMITS);
	b->c = kr_realloc(b->c, (b->n + 1) * sizeof(*b->c));
	memcpy(b->c[b->n].commit, ci->oid, KR_OID_LEN);
	b->c[b->n].time = ci->time;
	b->n++;
	return 0;
}

static int
s_cb_change(const char *path, const uint8_t *blob, void *arg)
{
	s_cbuild *b = arg;
	s_cchange *x;

	if (b->nch == CHIST_MAX_VERSIONS)
		return kr_error(KR_ERROR, "more than %d versions", CHIST_MAX_VERSIONS);
	if (b->nch == b->capch) {
		b->capch = b->capch ? b->capch * 2 : 1024;
		b->ch = kr_realloc(b->ch, b->capch * sizeof(*b->ch));
	}
	x = &b->ch[b->nch++];
	x->path = kr_strdup(path);
	x->present = blob != NULL;
	if (blob)
		memcpy(x->blob, blob, KR_OID_LEN);
	x->commit = b->cur;
	return 0;
}

static void
s_cbuild_free(s_cbuild *b)
{
	for (size_t i = 0; i < b->nch; i++)
		free(b->ch[i].path);
	free(b->ch);
	free(b->c);
}

/*
 * The changes of the commits after from (NULL: from the root) up to head,
 * oldest first, into b. Runs outside the memo's lock (git reads only).
 */
static int
s_chist_read(kr_web_ctx *c, const char *pub, const char *coll, const uint8_t *from,
    const uint8_t head[KR_OID_LEN], s_cbuild *b)
{
	int rc;

	b->stop = from;
	if ((rc = kr_store_log_at(c->store, pub, coll, head, 0, s_cb_commit, b)) < 0)
		return rc;
	if (from && !b->reached)
		return kr_error(KR_ERROR, "%s/%s: head is not a descendant of the one recorded", pub, coll);
	/* b->c is newest first; its last commit's parent is from (or none) */
	for (size_t i = b->n; i-- > 0;) {
		const uint8_t *parent = i + 1 < b->n ? b->c[i + 1].commit : from;
		b->cur = (uint32_t)i;
		if ((rc = kr_store_diff(c->store, pub, coll, parent, b->c[i].commit, s_cb_change, b)) < 0)
			return rc;
	}
	return 0;
}

/* Adds b's changes, oldest commit first, to x (under the memo's lock). */
static void
s_chist_add(kr_web_memo *m, s_chist *x, s_cbuild *b)
{
	/* b->ch holds the commits in the order diffed: oldest first */
	if (x->nv + b->nch > x->capv) {
		x->capv = x->nv + b->nch + (x->nv + b->nch) / 2 + 16;
		x->v = kr_realloc(x->v, x->capv * sizeof(*x->v));
	}
	for (size_t i = 0; i < b->nch; i++) {
		s_cchange *ch = &b->ch[i];
		s_pslot *sl;
		s_pver *v;
		if ((x->npaths + 1) * 2 > x->cap)
			s_chist_grow(x);
		sl = s_chist_slot(x, ch->path);
		if (!sl->path) {
			sl->path = ch->path;
			ch->path = NULL;
			sl->newest = CHIST_NONE;
			x->npaths++;
		}
		v = &x->v[x->nv];
		memset(v, 0, sizeof(*v));
		memcpy(v->commit, b->c[ch->commit].commit, KR_OID_LEN);
		v->time = b->c[ch->commit].time;
		memcpy(v->blob, ch->blob, KR_OID_LEN);
		v->present = ch->present;
		v->older = sl->newest;
		sl->newest = (uint32_t)x->nv++;
	}
	m->chist_versions += b->nch;
}

/* pub/coll's record and its slot, or NULL (under the memo's lock). */
static s_chist *
s_chist_find(kr_web_memo *m, const char *pub, const char *coll, size_t *slot)
{
	for (size_t i = 0; i < CHIST_COLLS; i++)
		if (m->chist[i] && strcmp(m->chist[i]->pub, pub) == 0 && strcmp(m->chist[i]->coll, coll) == 0) {
			*slot = i;
			return m->chist[i];
		}
	return NULL;
}

/* x's newest version of path names commit (hex) (under the memo's lock). */
static int
s_chist_current(s_chist *x, const char *path, const char *commit)
{
	s_pslot *sl;
	char hex[KR_OID_HEX + 1];

	if (!commit || !x->cap || !(sl = s_chist_slot(x, path))->path)
		return 0;
	kr_hex(hex, x->v[sl->newest].commit, KR_OID_LEN);
	return strcmp(hex, commit) == 0;
}

/*
 * path's versions into *out from the collection's record: as it is when
 * its newest version of path is the commit the index row names (commit,
 * hex; later commits did not touch path), else brought up to the head
 * first (built the first time, extended by the new commits later). 1
 * when answered; 0 when the caller walks the path itself (too large to
 * keep, being extended by another thread, an error).
 */
static int
s_chist_versions(kr_web_ctx *c, const char *pub, const char *coll, const char *path, const char *commit,
    kr_web_version **out, size_t *n)
{
	kr_web_memo *m = c->memo;
	uint8_t head[KR_OID_LEN], from[KR_OID_LEN];
	s_chist *x;
	s_cbuild b = { 0 };
	int have_from = 0, answered = 0, rc;
	size_t slot;

	*out = NULL;
	*n = 0;
	pthread_mutex_lock(&m->lock);
	if ((x = s_chist_find(m, pub, coll, &slot)) && s_chist_current(x, path, commit))
		goto answer;
	pthread_mutex_unlock(&m->lock);
	if (kr_store_head(c->store, pub, coll, head) < 0) {
		kr_error_clear();
		return 0;
	}
	pthread_mutex_lock(&m->lock);
	if ((x = s_chist_find(m, pub, coll, &slot)) && memcmp(x->head, head, KR_OID_LEN) == 0)
		goto answer;
	if ((x && x->busy) || m->chist_versions >= CHIST_MAX_VERSIONS) {
		pthread_mutex_unlock(&m->lock);
		return 0;
	}
	if (x) {
		x->busy = 1;
		memcpy(from, x->head, KR_OID_LEN);
		have_from = 1;
	}
	pthread_mutex_unlock(&m->lock);

	rc = s_chist_read(c, pub, coll, have_from ? from : NULL, head, &b);
	kr_error_clear();

	pthread_mutex_lock(&m->lock);
	/* a record marked busy is never dropped (below), so x is still this collection's */
	if (have_from)
		x->busy = 0;
	else
		x = s_chist_find(m, pub, coll, &slot);
	if (rc < 0 || m->chist_versions + b.nch > CHIST_MAX_VERSIONS || (!have_from && x)) {
		/* failed, too large, or another thread recorded it meanwhile */
		pthread_mutex_unlock(&m->lock);
		s_cbuild_free(&b);
		return 0;
	}
	if (!x) {
		slot = CHIST_COLLS;
		for (size_t i = 0; i < CHIST_COLLS; i++) {
			if (!m->chist[i]) {
				slot = i;
				break;
			}
			if (!m->chist[i]->busy && (slot == CHIST_COLLS || m->chist[i]->used < m->chist[slot]->used))
				slot = i;
		}
		if (slot == CHIST_COLLS) {
			pthread_mutex_unlock(&m->lock);
			s_cbuild_free(&b);
			return 0;
		}
		if (m->chist[slot]) {
			m->chist_versions -= m->chist[slot]->nv;
			s_chist_free(m->chist[slot]);
		}
		x = m->chist[slot] = kr_calloc(1, sizeof(s_chist));
		x->pub = kr_strdup(pub);
		x->coll = kr_strdup(coll);
	}
	s_chist_add(m, x, &b);
	memcpy(x->head, head, KR_OID_LEN);
	s_cbuild_free(&b);
answer:
	x->used = ++m->clock;
	if (x->cap) {
		s_pslot *sl = s_chist_slot(x, path);
		size_t k = 0;
		for (uint32_t i = sl->path ? sl->newest : CHIST_NONE; i != CHIST_NONE && k < KR_WEB_MAX_VERSIONS;
		    i = x->v[i].older)
			k++;
		*out = k ? kr_calloc(k, sizeof(**out)) : NULL;
		k = 0;
		for (uint32_t i = sl->path ? sl->newest : CHIST_NONE; i != CHIST_NONE && k < KR_WEB_MAX_VERSIONS;
		    i = x->v[i].older) {
			kr_web_version *v = &(*out)[k++];
			kr_hex(v->commit, x->v[i].commit, KR_OID_LEN);
			if (x->v[i].present)
				kr_hex(v->blob, x->v[i].blob, KR_OID_LEN);
			v->present = x->v[i].present;
			v->time = x->v[i].time;
		}
		*n = k;
	}
	answered = 1;
	pthread_mutex_unlock(&m->lock);
	return answered;
}

/* The walk itself: every commit of the collection, newest first. */
static int
s_history_walk(kr_web_ctx *c, const kr_state_item *it, kr_web_version **out, size_t *n)
{
	s_hist h = { 0 };
	int rc;

	*out = NULL;
	*n = 0;
	rc = kr_store_path_history(c->store, it->publisher, it->collection, it->path, s_hist_add, &h);
	if (rc < 0) {
		kr_web_versions_free(h.v, h.n);
		return rc;
	}
	*out = h.v;
	*n = h.n;
	return 0;
}

/* Each version's version, edition, updated and notes, from its file. */
static void
s_versions_fill(kr_web_ctx *c, const kr_state_item *it, kr_web_version *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		kr_buf t = KR_BUF_INIT;
		kr_yaml *fm = NULL;
		const char *body;
		int bl;
		if (!v[i].present || kr_web_version_text(c, it, &v[i], &t) < 0) {
			kr_error_clear();
			kr_buf_release(&t);
			continue;
		}
		if (kr_frontmatter_parse(&fm, t.ptr, t.len, &body, &bl) == 0) {
			v[i].version = s_dup(kr_yaml_str(fm, "version"));
			v[i].edition = s_dup(kr_yaml_str(fm, "edition"));
			v[i].updated = s_dup(kr_yaml_str(fm, "updated"));
			v[i].notes = s_dup(kr_yaml_str(fm, "version_notes"));
		}
		kr_error_clear();
		kr_yaml_free(&fm);
		kr_buf_release(&t);
	}
}

static int
s_head_larger(const void *a, const void *b)
{
	uint64_t x = ((const kr_state_head *)a)->size, y = ((const kr_state_head *)b)->size;

	return x < y ? 1 : x > y ? -1 : 0;
}

void
kr_web_history_warm(kr_web_ctx *c)
{
	kr_state_head *h = NULL;
	size_t nh = 0;

	if (!c->memo || kr_state_head_list(c->state, NULL, &h, &nh) < 0) {
		kr_error_clear();
		return;
	}
	/* the largest collections first: a walk of theirs is what costs */
	qsort(h, nh, sizeof(*h), s_head_larger);
	for (size_t i = 0; i < nh; i++) {
		kr_web_version *v;
		size_t n;
		const char *coll = h[i].collection;
		int room = 0;
		if (strcmp(coll, "cases") && strcmp(coll, "guidelines") && strcmp(coll, "prompts") && strcmp(coll, "datasets"))
			continue;
		pthread_mutex_lock(&c->memo->lock);
		for (size_t j = 0; j < CHIST_COLLS; j++)
			room += !c->memo->chist[j];
		pthread_mutex_unlock(&c->memo->lock);
		if (!room)
			break;                 /* warming never pushes out a record pages use */
		if (s_chist_versions(c, h[i].publisher, coll, "", NULL, &v, &n))
			kr_web_versions_free(v, n);
	}
	kr_error_clear();
	free(h);
}

int
kr_web_history(kr_web_ctx *c, const kr_state_item *it, kr_web_version **out, size_t *n)
{
	char *key = NULL;
	int rc;

	*out = NULL;
	*n = 0;
	if (c->memo && it->commit && it->blob) {
		key = kr_sprintf("%s\n%s\n%s\n%s\n%s", it->publisher, it->collection, it->path, it->commit, it->blob);
		if (s_memo_hist_get(c->memo, key, out, n)) {
			free(key);
			return 0;
		}
	}
	if (c->memo && s_chist_versions(c, it->publisher, it->collection, it->path, it->commit, out, n))
		rc = 0;
	else
		rc = s_history_walk(c, it, out, n);
	if (rc == 0)
		s_versions_fill(c, it, *out, *n);
	/*
	 * Kept only when the walk ends where the row does: were the row ahead
	 * of the repository's head (never, as replication writes the objects
	 * first, but a kept answer must not hide a version), it is walked again.
	 */
	if (rc == 0 && key && *n && (*out)[0].present && strcmp((*out)[0].blob, it->blob) == 0)
		s_memo_hist_put(c->memo, key, *out, *n);
	free(key);
	return rc;
}

static int
s_headsig_cb(const kr_commit_info *ci, void *arg)
{
	kr_web_headsig *x = arg;

	x->seen = 1;
	x->ok = ci->signed_ok;
	x->time = ci->time;
	kr_hex(x->oid, ci->oid, KR_OID_LEN);
	return 1;
}

void
kr_web_head_signature(kr_web_ctx *c, const char *pub, const char *coll, kr_web_headsig *out)
{
	uint8_t head[KR_OID_LEN];
	char hex[KR_OID_HEX + 1];
	char *key = NULL;

	memset(out, 0, sizeof(*out));
	if (c->memo && kr_store_head(c->store, pub, coll, head) == 0) {
		kr_hex(hex, head, KR_OID_LEN);
		key = kr_sprintf("%s\n%s\n%s", pub, coll, hex);
		pthread_mutex_lock(&c->memo->lock);
		for (size_t i = 0; i < MEMO_HEADS; i++) {
			s_memo_head *e = &c->memo->head[i];
			if (e->key && strcmp(e->key, key) == 0) {
				e->used = ++c->memo->clock;
				*out = e->sig;
				pthread_mutex_unlock(&c->memo->lock);
				free(key);
				return;
			}
		}
		pthread_mutex_unlock(&c->memo->lock);
	}
	kr_error_clear();
	kr_store_log(c->store, pub, coll, 1, s_headsig_cb, out);
	kr_error_clear();
	/* kept under the head it checked (the head may have moved between the two reads) */
	if (key && out->seen && strcmp(out->oid, hex) == 0) {
		s_memo_head *e;
		pthread_mutex_lock(&c->memo->lock);
		e = &c->memo->head[0];
		for (size_t i = 1; i < MEMO_HEADS; i++)
			if (c->memo->head[i].used < e->used)
				e = &c->memo->head[i];
		free(e->key);
		e->key = key;
		key = NULL;
		e->sig = *out;
		e->used = ++c->memo->clock;
		pthread_mutex_unlock(&c->memo->lock);
	}
	free(key);
}

int
kr_web_version_text(kr_web_ctx *c, const kr_state_item *it, const kr_web_version *v, kr_buf *out)
{
	uint8_t blob[KR_OID_LEN];

	if (!v->present)
		return 0;
	if (kr_unhex(blob, KR_OID_LEN, v->blob) < 0)
		return kr_error(KR_EPROTO, "bad blob id");
	return kr_store_read_blob(c->store, it->publisher, it->collection, blob, out);
}

void
kr_web_versions_free(kr_web_version *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].version);
		free(v[i].edition);
		free(v[i].updated);
		free(v[i].notes);
	}
	free(v);
}

/* ---- 出典 and headline ---------------------------------------------------- */

char *
kr_web_attribution(const kr_yaml *fm, const char *fallback_name, int with_version)
{
	kr_buf b = KR_BUF_INIT;
	const kr_yaml *pub, *der;
	const char *name, *title, *lic, *ed;

	if (!fm)
		return kr_sprintf("出典：%s", fallback_name ? fallback_name : "");
	pub = kr_yaml_get(fm, "publisher");
	der = kr_yaml_get(fm, "derived_from");
	name = pub ? kr_yaml_str(pub, "name") : NULL;
	title = kr_yaml_str(fm, "title");
	lic = kr_yaml_str(fm, "license");
	if (lic && kr_license_spdx(lic, kr_yaml_str(fm, "license_name")))
		lic = kr_license_spdx(lic, kr_yaml_str(fm, "license_name")); /* a Hub card's cc-by-4.0 reads CC-BY-4.0 */
	ed = kr_yaml_str(fm, "edition") ? kr_yaml_str(fm, "edition") : kr_yaml_str(fm, "version");
	/* the same words as `kairan export` (node/cmd_content.c), so a row and its page agree */
	kr_buf_addf(&b, "出典：%s「%s」", name ? name : fallback_name ? fallback_name : "", title ? title : "");
	if (with_version && ed)
		kr_buf_addf(&b, "（%s）", ed);
	if (der && der->type == KR_YAML_SEQ && der->n) {
		const char *src = kr_yaml_str(der->items[0], "id");
		kr_buf_addf(&b, "（%s を加工して作成）", src ? src : "");
	}
	kr_buf_addf(&b, "、%s", lic ? lic : "PDL-1.0");
	return kr_buf_detach(&b);
}

char *
kr_web_headline(const kr_yaml *fm)
{
	const kr_yaml *ms = fm ? kr_yaml_get(fm, "metrics") : NULL, *m;
	const char *name, *unit, *achieved, *target;

	if (!ms || ms->type != KR_YAML_SEQ || ms->n == 0 || (m = ms->items[0])->type != KR_YAML_MAP)
		return NULL;
	name = kr_yaml_str(m, "name");
	unit = kr_yaml_str(m, "unit");
	achieved = kr_yaml_str(m, "achieved");
	target = kr_yaml_str(m, "target");
	if (!name || !achieved)
		return NULL;
	unit = unit ? unit : "";
	return target ? kr_sprintf("%s %s%s / 目標 %s%s", name, achieved, unit, target, unit)
	              : kr_sprintf("%s %s%s", name, achieved, unit);
}

/* ---- datasets -------------------------------------------------------------- */

const kr_web_format kr_web_formats[3] = {
	{ "jsonl", "JSONL（行ごとのJSON、出典つき）", "application/jsonl; charset=utf-8", ".jsonl", "JSONL" },
	{ "dify-csv", "Dify Q&A CSV（UTF-8 BOM付き）", "text/csv; charset=utf-8; header=present", "-dify.csv", "CSV" },
	{ "langchain", "LangChain JSONL（page_content と metadata）", "application/jsonl; charset=utf-8", "-langchain.jsonl", "JSONL" },
};

const kr_web_format *
kr_web_format_find(const char *name)
{
	for (size_t i = 0; i < sizeof(kr_web_formats) / sizeof(kr_web_formats[0]); i++)
		if (name && strcmp(kr_web_formats[i].name, name) == 0)
			return &kr_web_formats[i];
	return NULL;
}

typedef struct {
	char *prefix;
	char **v;
	size_t n;
} s_files;

static int
s_files_add(const char *path, const uint8_t *blob, void *arg)
{
	s_files *f = arg;
	size_t l = strlen(path);

	if (blob && strncmp(path, f->prefix, strlen(f->prefix)) == 0 && l > 6 && strcmp(path + l - 6, ".jsonl") == 0) {
		f->v = kr_realloc(f->v, (f->n + 1) * sizeof(char *));
		f->v[f->n++] = kr_strdup(path);
	}
	return 0;
}

static int
s_cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

#define MAX_DATASET_BYTES ((size_t)64 << 20)

int
kr_web_dataset_jsonl(kr_web_ctx *c, const kr_state_item *it, kr_buf *out)
{
	uint8_t commit[KR_OID_LEN];
	s_files f = { 0 };
	size_t plen = strlen(it->path);
	int rc;

	if (plen < 9 || strcmp(it->path + plen - 9, "README.md") != 0)
		return kr_error(KR_ENOTFOUND, "%s is not a dataset card", it->id);
	if ((rc = kr_unhex(commit, KR_OID_LEN, it->commit)) < 0)
		return rc;
	f.prefix = kr_sprintf("%.*sdata/", (int)(plen - 9), it->path);
	rc = kr_store_diff(c->store, it->publisher, it->collection, NULL, commit, s_files_add, &f);
	if (f.n > 1)
		qsort(f.v, f.n, sizeof(char *), s_cmp_str);
	for (size_t i = 0; i < f.n && rc == 0; i++) {
		size_t before = out->len;
		rc = kr_store_read(c->store, it->publisher, it->collection, commit, f.v[i], out);
		if (rc == 0 && out->len > before && out->ptr[out->len - 1] != '\n')
			kr_buf_addch(out, '\n');
		if (rc == 0 && out->len > MAX_DATASET_BYTES)
			rc = kr_error(KR_EPROTO, "%s: rows larger than %zu MB", it->id, MAX_DATASET_BYTES >> 20);
	}
	kr_strv_free(f.v, f.n);
	free(f.prefix);
	return rc;
}

int
kr_web_export(kr_web_ctx *c, const kr_web_item *x, const kr_web_format *f, kr_buf *out, size_t *rows)
{
	kr_buf jsonl = KR_BUF_INIT;
	char *attr = kr_web_attribution(x->fm, x->it->pub_name ? x->it->pub_name : x->it->publisher, 0);
	size_t skipped = 0;
	int rc;

	*rows = 0;
	if ((rc = kr_web_dataset_jsonl(c, x->it, &jsonl)) == 0) {
		if (strcmp(f->name, "dify-csv") == 0)
			kr_buf_adds(out, "\xef\xbb\xbf"); /* Dify expects UTF-8 with a BOM */
		rc = kr_dataset_export(out, f->name, 1, x->it->id, jsonl.ptr, jsonl.len, attr, rows, &skipped);
	}
	kr_buf_release(&jsonl);
	free(attr);
	return rc;
}

int
kr_web_export_digest(kr_web_ctx *c, const kr_web_item *x, const kr_web_format *f, size_t *size,
    char sha256[65], size_t *rows)
{
	char key[32];
	uint8_t md[32], k[32];
	kr_buf in = KR_BUF_INIT, out = KR_BUF_INIT;
	kr_web_digest *slot = &c->digests[0];
	int rc;

	kr_buf_addf(&in, "%s\n%s\n%s\n%s", x->it->publisher, x->it->commit, x->it->path, f->name);
	kr_sha256(k, in.ptr, in.len);
	kr_buf_release(&in);
	memcpy(key, k, sizeof(key));
	for (size_t i = 0; i < sizeof(c->digests) / sizeof(c->digests[0]); i++) {
		kr_web_digest *d = &c->digests[i];
		if (d->used && memcmp(d->key, key, sizeof(key)) == 0) {
			d->used = (int)++c->digest_clock;
			*size = d->size;
			*rows = d->rows;
			memcpy(sha256, d->sha256, 65);
			return 0;
		}
		if (d->used < slot->used)
			slot = d;
	}
	if ((rc = kr_web_export(c, x, f, &out, rows)) < 0) {
		kr_buf_release(&out);
		return rc;
	}
	kr_sha256(md, out.ptr, out.len);
	*size = out.len;
	kr_hex(sha256, md, 32);
	kr_buf_release(&out);
	memcpy(slot->key, key, sizeof(key));
	slot->size = *size;
	slot->rows = *rows;
	memcpy(slot->sha256, sha256, 65);
	slot->used = (int)++c->digest_clock;
	return 0;
}

/* ---- publishers ------------------------------------------------------------ */

void
kr_web_freshness(kr_web_ctx *c, const char *publisher, kr_web_fresh *f)
{
	kr_state_manifest m;

	memset(f, 0, sizeof(*f));
	if (kr_state_manifest_get(c->state, publisher, &m) < 0) {
		kr_error_clear();
		return;
	}
	f->known = 1;
	f->seq = m.seq;
	f->issued = m.issued;
	f->expires = m.expires;
	f->received = m.received;
	f->stale = m.expires <= kr_now();
	f->name = m.name;
	f->lg_code = m.lg_code;
	f->peer = m.peer;
	m.name = m.lg_code = m.peer = NULL;
	kr_state_manifest_clear(&m);
}

void
kr_web_fresh_clear(kr_web_fresh *f)
{
	free(f->name);
	free(f->lg_code);
	free(f->peer);
	memset(f, 0, sizeof(*f));
}

/* ---- labels ------------------------------------------------------------------ */

static const char *const s_kinds[][2] = {
	{ "case", "導入事例" }, { "prompt", "プロンプト" }, { "guideline", "利用ガイドライン" },
	{ "dataset", "データセット" }, { "consultation", "相談" }, { "endorsement", "推奨" },
	{ "adoption", "利用報告" }, { "answer", "回答" },
};

const char *
kr_web_kind_label(const char *kind)
{
	for (size_t i = 0; kind && i < sizeof(s_kinds) / sizeof(s_kinds[0]); i++)
		if (strcmp(s_kinds[i][0], kind) == 0)
			return s_kinds[i][1];
	return kind ? kind : "";
}

static const char *const s_keys[][2] = {
	{ "kind", "種類" }, { "id", "ID" }, { "title", "題名" }, { "publisher", "発行者" },
	{ "version", "バージョン" }, { "version_notes", "改訂理由" }, { "edition", "版" },
	{ "published", "公開日" }, { "updated", "更新日" }, { "license", "ライセンス" },
	{ "confidentiality", "機密性" }, { "draft", "下書き" }, { "domains", "分野" },
	{ "ai_uses", "AIの用途" }, { "ai_use", "AIの用途" }, { "derived_from", "派生元" },
	{ "sources", "出典資料" }, { "ai_generated", "AIによる作成" }, { "org_class", "団体区分" },
	{ "population", "人口" }, { "deployment", "導入方式" }, { "system", "システム" },
	{ "period", "期間" }, { "stage", "段階" }, { "outcome", "結果" }, { "metrics", "指標" },
	{ "cost", "費用" }, { "risks", "リスク" }, { "mitigations", "対策" }, { "lessons", "教訓" },
	{ "partners", "協力先" }, { "scene", "利用場面" }, { "variables", "変数" },
	{ "allowed_input", "入力してよい情報" }, { "checks", "確認事項" }, { "tested_with", "検証環境" },
	{ "effect_estimate", "効果の見込み" }, { "history", "改訂履歴" }, { "applies_to", "適用範囲" },
	{ "classification_map", "分類の対応" }, { "prohibitions", "禁止事項" },
	{ "obligations", "遵守事項" }, { "required_training", "必要な研修" }, { "language", "言語" },
	{ "pretty_name", "表示名" }, { "task_categories", "タスク" }, { "size_categories", "規模" },
	{ "configs", "データ構成" }, { "set", "プロンプト集" }, { "co_publishers", "共同発行" },
};

const char *
kr_web_key_label(const char *key)
{
	for (size_t i = 0; key && i < sizeof(s_keys) / sizeof(s_keys[0]); i++)
		if (strcmp(s_keys[i][0], key) == 0)
			return s_keys[i][1];
	return key ? key : "";
}

void
kr_web_time(char out[32], int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	strftime(out, 32, "%Y-%m-%d %H:%M UTC", &tm);
}

void
kr_web_uuid(char out[37], const char *s)
{
	uint8_t md[32];

	kr_sha256(md, s, strlen(s));
	md[6] = (uint8_t)((md[6] & 0x0F) | 0x80);   /* version 8 */
	md[8] = (uint8_t)((md[8] & 0x3F) | 0x80);   /* variant RFC 9562 */
	snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
	    md[0], md[1], md[2], md[3], md[4], md[5], md[6], md[7], md[8], md[9], md[10], md[11], md[12],
	    md[13], md[14], md[15]);
}
