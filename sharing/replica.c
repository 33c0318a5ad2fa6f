/*
 * sharing/replica.c - applying, publishing and reconciling collections
 *
 * See replica.h for the order of writes. Item rows are derived from git:
 * s_index_range() walks the changed paths of a collection between two
 * commits, runs the same checks as publishing (policies/item.c), and
 * produces the rows; it is shared by publish, receipt and reconcile, so the
 * index can always be rebuilt from the repositories alone.
 *
 * What git does not hold is kept beside state.db as well: the last signed
 * manifest of each publisher in <home>/manifests/ (ours before it is
 * recorded, so no seq is ever signed twice). The same bytes go into each
 * of the publisher's repositories under refs/kairan/manifest, as soon as
 * the heads it names are in place, so a plain git mirror carries them. A refused update costs no
 * disk: the packs it brought are removed again, and the same signed
 * manifest is not fetched again from that peer. Used by one thread per
 * kr_replica (the daemon's loop and its worker each have their own).
 */
#include "replica.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../policies/dataset.h"
#include "../policies/item.h"
#include "fedstore.h"
#include "manifest.h"

#define DEFAULT_TTL (7 * 24 * 3600)
#define DEFAULT_MAX_COLLECTION ((uint64_t)1 << 30)

typedef struct {
	char *coll, *path;
	char blob[KR_OID_HEX + 1];
	kr_item item;                   /* item.id NULL: an attachment or a removal */
	int removed;
} s_change;

typedef struct {
	s_change *v;
	size_t n, cap;
} s_changes;

typedef struct {
	kr_replica *r;
	const char *pub, *coll;
	kr_policy pol;
	s_changes *out;
	kr_findings findings;
} s_index_ctx;

void
kr_replica_init(kr_replica *r, kr_store *store, kr_state *state, const kr_key *key,
    const char *name, const char *code)
{
	memset(r, 0, sizeof(*r));
	r->store = store;
	r->state = state;
	r->key = key;
	if (key)
		kr_hex(r->own, kr_key_pub(key), KR_FPR_LEN);
	r->own_name = name;
	r->own_code = code;
	r->max_collection_bytes = DEFAULT_MAX_COLLECTION;
	r->manifest_ttl = DEFAULT_TTL;
}

/* ---- the federation, as the receipt rules see it (DESIGN §6) ---------- */

struct kr_replica_fed {
	kr_fedstore f;
	struct stat st;                 /* of `verified` when f was read */
};

/* An apply's work after its commit, left to kr_replica_maintain (defer_maintenance). */
struct kr_replica_applied {
	char pub[KR_FPR_HEX + 1];
	uint8_t *bytes;                 /* the signed manifest it recorded */
	size_t len;
	char **colls;                   /* the collections it moved */
	size_t ncolls;
};

static void
s_applied_free(kr_replica *r)
{
	for (size_t i = 0; i < r->napplied; i++) {
		free(r->applied[i].bytes);
		kr_strv_free(r->applied[i].colls, r->applied[i].ncolls);
	}
	free(r->applied);
	r->applied = NULL;
	r->napplied = 0;
}

/* Forgets the federation read (not what publishes and applies left for kr_replica_maintain). */
static void
s_fed_release(kr_replica *r)
{
	if (r->fed) {
		kr_fedstore_close(&r->fed->f);
		free(r->fed);
		r->fed = NULL;
	}
}

void
kr_replica_release(kr_replica *r)
{
	s_applied_free(r);
	kr_strv_free(r->maint, r->nmaint);
	r->maint = NULL;
	r->nmaint = 0;
	free(r->own_ref);
	r->own_ref = NULL;
	r->own_ref_len = 0;
	s_fed_release(r);
}

const kr_membership *
kr_replica_federation(kr_replica *r)
{
	char *p = kr_sprintf("%s/federation/verified", kr_store_home(r->store));
	struct stat st;
	int have = stat(p, &st) == 0;

	free(p);
	if (!have) {
		s_fed_release(r);
		return NULL;
	}
	if (r->fed && r->fed->st.st_ino == st.st_ino && r->fed->st.st_size == st.st_size &&
	    r->fed->st.st_mtim.tv_sec == st.st_mtim.tv_sec && r->fed->st.st_mtim.tv_nsec == st.st_mtim.tv_nsec)
		return r->fed->f.have ? &r->fed->f.cur : NULL;
	s_fed_release(r);
	r->fed = kr_calloc(1, sizeof(*r->fed));
	if (kr_fedstore_open(&r->fed->f, kr_store_home(r->store)) < 0) {
		/* fail closed: no member is trusted through a chain that cannot be read */
		free(r->fed);
		r->fed = NULL;
		return NULL;
	}
	r->fed->st = st;
	return r->fed->f.have ? &r->fed->f.cur : NULL;
}

int
kr_replica_view_head(kr_replica *r, const char *pub, const char *coll, uint8_t at[KR_OID_LEN])
{
	const kr_membership *fed = kr_replica_federation(r);
	const kr_fed_revoked *rev;
	kr_state_head h;
	char hex[KR_OID_HEX + 1];
	uint8_t key[KR_FPR_LEN];
	int rc;

	if (!fed || kr_unhex(key, KR_FPR_LEN, pub) < 0 || !(rev = kr_fed_revocation(fed, key)) ||
	    rev->reason != KR_REVOKE_COMPROMISED)
		return 0;
	if ((rc = kr_state_head_get(r->state, pub, coll, &h)) == KR_ENOTFOUND) {
		kr_error_clear();
		return 0;
	}
	if (rc < 0)
		return rc;
	if (h.synced <= rev->since)
		return 0;
	if ((rc = kr_state_head_at(r->state, pub, coll, rev->since, hex)) == KR_ENOTFOUND) {
		kr_error_clear();
		return 2;
	}
	if (rc < 0)
		return rc;
	if (kr_unhex(at, KR_OID_LEN, hex) < 0 || kr_store_reachable(r->store, pub, coll, at) != 1) {
		kr_error_clear();
		return 2;
	}
	return 1;
}

static void s_changes_free(s_changes *c);
static int s_index_range(kr_replica *r, const char *pub, const char *coll, const char *lg_code,
    const uint8_t *old, const uint8_t newoid[KR_OID_LEN], s_changes *out);
static int s_record_changes(kr_replica *r, const char *pub, const s_changes *c, size_t from,
    const char *coll, const char *commit_hex);

/* One step's progress for r->progress: what the store and state callbacks are given. */
typedef struct {
	kr_replica *r;
	kr_progress p;
	uint64_t base;                  /* rows written by earlier batches (index) */
	int reported;
} s_progress;

/* end: 1 when the step is over, -1 when it stopped on an error (told only when something was). */
static void
s_progress_tell(s_progress *x, uint64_t done, uint64_t total, uint64_t bytes, int end)
{
	if (!x->r->progress || (end && !x->reported))
		return;
	x->p.done = done < total || !total ? done : total;
	x->p.total = total;
	x->p.bytes = bytes;
	x->p.end = end;
	x->reported = 1;
	x->r->progress(&x->p, x->r->progress_arg);
}

static void
s_progress_received(void *arg, uint64_t objects, uint64_t total, uint64_t bytes)
{
	s_progress_tell(arg, objects, total, bytes, 0);
}

static void
s_progress_rows(void *arg, size_t done, size_t n)
{
	s_progress *x = arg;

	(void)n;
	s_progress_tell(x, x->base + done, x->p.total, 0, 0);
}

/* The item rows of pub/coll as of commit at (NULL: none), in the open transaction. */
static int
s_view_at(kr_replica *r, const char *pub, const char *coll, const uint8_t *at)
{
	kr_state_manifest man = { 0 };
	s_changes changes = { 0 };
	char hex[KR_OID_HEX + 1];
	int rc;

	if ((rc = kr_state_items_drop(r->state, pub, coll)) < 0 || !at)
		return rc;
	if ((rc = kr_state_manifest_get(r->state, pub, &man)) < 0)
		return rc;
	kr_hex(hex, at, KR_OID_LEN);
	if ((rc = s_index_range(r, pub, coll, man.lg_code, NULL, at, &changes)) == 0)
		rc = s_record_changes(r, pub, &changes, 0, coll, hex);
	s_changes_free(&changes);
	kr_state_manifest_clear(&man);
	return rc;
}

int
kr_replica_revocations(kr_replica *r, size_t *changed)
{
	const kr_membership *fed = kr_replica_federation(r);
	int rc = 0;

	*changed = 0;
	for (size_t i = 0; fed && i < fed->nrevoked && rc == 0; i++) {
		const kr_fed_revoked *rev = &fed->revoked[i];
		char hex[KR_FPR_HEX + 1];
		kr_state_head *heads;
		size_t n;
		if (rev->reason != KR_REVOKE_COMPROMISED)
			continue;
		kr_hex(hex, rev->key, KR_FPR_LEN);
		if ((rc = kr_state_head_list(r->state, hex, &heads, &n)) < 0)
			break;
		for (size_t k = 0; k < n && rc == 0; k++) {
			uint8_t at[KR_OID_LEN];
			char *key, *done, want[KR_OID_HEX + 2];
			int v = kr_replica_view_head(r, hex, heads[k].collection, at);
			if (v <= 0) {
				rc = v;
				continue;
			}
			/* done before for this very view? (the rows are rebuilt only once) */
			if (v == 1)
				kr_hex(want, at, KR_OID_LEN);
			else
				strcpy(want, "-");
			key = kr_sprintf("view %s/%s", hex, heads[k].collection);
			done = kr_state_setting(r->state, key);
			if (!done || strcmp(done, want) != 0) {
				if ((rc = kr_state_begin(r->state)) == 0) {
					if ((rc = s_view_at(r, hex, heads[k].collection, v == 1 ? at : NULL)) == 0 &&
					    (rc = kr_state_setting_put(r->state, key, want)) == 0)
						rc = kr_state_commit(r->state);
					else
						kr_state_rollback(r->state);
				}
				if (rc == 0)
					(*changed)++;
			}
			kr_error_clear();
			free(done);
			free(key);
		}
		free(heads);
	}
	return rc;
}

static void
s_changes_free(s_changes *c)
{
	for (size_t i = 0; i < c->n; i++) {
		free(c->v[i].coll);
		free(c->v[i].path);
		kr_item_clear(&c->v[i].item);
	}
	free(c->v);
	memset(c, 0, sizeof(*c));
}

/* Records one changed path; the checks come after, see s_check_changes. */
static int
s_index_one(const char *path, const uint8_t *blob, void *arg)
{
	s_index_ctx *x = arg;
	s_change *c;

	if (x->out->n == x->out->cap) {
		x->out->cap = x->out->cap ? x->out->cap * 2 : 16;
		x->out->v = kr_realloc(x->out->v, x->out->cap * sizeof(s_change));
	}
	c = &x->out->v[x->out->n];
	memset(c, 0, sizeof(*c));
	if (blob)
		kr_hex(c->blob, blob, KR_OID_LEN);
	else
		c->removed = 1;
	c->coll = kr_strdup(x->coll);
	c->path = kr_strdup(path);
	x->out->n++;
	return 0;
}

typedef struct {
	kr_store *store;
	const char *pub;
	const kr_policy *pol;
	s_change *v;
	size_t n;
	kr_findings findings;
	int rc;
	char err[256];
	atomic_size_t *checked;         /* files checked by both jobs */
	s_progress *progress;           /* the calling thread's job tells it */
} s_check_job;

/* Reads and checks each changed file of the job. */
static void *
s_check_run(void *arg)
{
	s_check_job *j = arg;
	kr_buf data = KR_BUF_INIT;
	size_t counted = 0, blocking = 0, done;

	for (size_t i = 0; i < j->n && j->rc == 0; i++) {
		s_change *c = &j->v[i];
		uint8_t blob[KR_OID_LEN];
		/* refused already: a tree of 100,000 bad paths costs 100 checks, not 100,000 */
		for (; counted < j->findings.n; counted++)
			blocking += j->findings.v[counted].block != 0;
		if (blocking > KR_FINDINGS_PER_FILE)
			break;
		if (c->removed) {
			atomic_fetch_add(j->checked, 1);
			continue;
		}
		kr_unhex(blob, KR_OID_LEN, c->blob);
		kr_buf_clear(&data);
		if ((j->rc = kr_store_read_blob(j->store, j->pub, c->coll, blob, &data)) < 0) {
			snprintf(j->err, sizeof(j->err), "%s", kr_errmsg());
			break;
		}
		kr_item_check_received(&c->item, j->pol, c->coll, c->path, data.ptr, data.len, &j->findings);
		done = atomic_fetch_add(j->checked, 1) + 1;
		if (j->progress)
			s_progress_tell(j->progress, done, j->progress->p.total, 0, 0);
	}
	kr_buf_release(&data);
	return NULL;
}

/*
 * Checks changes v[0..n). A large set (a first sync) is split with a
 * second thread holding its own store handle: libgit2 objects are not
 * shared between threads, and there are two cores to use.
 */
#define PARALLEL_CHECK 512

static int
s_check_changes(kr_replica *r, const char *pub, const char *coll, const kr_policy *pol, s_change *v, size_t n,
    kr_findings *findings)
{
	atomic_size_t checked;
	s_progress pr = { .r = r, .p = { .step = KR_STEP_CHECK, .publisher = pub, .collection = coll, .total = n } };
	s_check_job a = { .store = r->store, .pub = pub, .pol = pol, .v = v, .n = n, .checked = &checked,
		.progress = r->progress ? &pr : NULL };
	s_check_job b = { .pub = pub, .pol = pol, .checked = &checked };
	pthread_t t;
	int threaded = 0;

	atomic_init(&checked, 0);

	if (n >= PARALLEL_CHECK && kr_store_open(&b.store, kr_store_home(r->store)) == 0) {
		a.n = n / 2;
		b.v = v + a.n;
		b.n = n - a.n;
		threaded = pthread_create(&t, NULL, s_check_run, &b) == 0;
		if (!threaded)
			a.n = n;
	}
	s_check_run(&a);
	/* this thread's half done first: it goes on telling the other's */
	while (threaded && a.progress) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 100 * 1000 * 1000;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		if (pthread_timedjoin_np(t, NULL, &ts) == 0) {
			threaded = 0;
			break;
		}
		s_progress_tell(&pr, atomic_load(&checked), n, 0, 0);
	}
	if (threaded)
		pthread_join(t, NULL);
	s_progress_tell(&pr, n, n, 0, a.rc == 0 && b.rc == 0 ? 1 : -1);
	kr_store_destroy(&b.store);
	for (size_t i = 0; i < b.findings.n; i++) {
		kr_finding *x = &b.findings.v[i];
		kr_findings_add(&a.findings, x->file, x->line, x->block, x->rule, "%s", x->message);
	}
	kr_findings_clear(&b.findings);
	for (size_t i = 0; i < a.findings.n; i++) {
		kr_finding *x = &a.findings.v[i];
		kr_findings_add(findings, x->file, x->line, x->block, x->rule, "%s", x->message);
	}
	kr_findings_clear(&a.findings);
	if (a.rc < 0)
		return kr_error(a.rc, "%s", a.err);
	if (b.rc < 0)
		return kr_error(b.rc, "%s", b.err);
	return 0;
}

/*
 * Appends to out the item changes of pub/coll from old (NULL: nothing) to
 * newoid, checking each changed file against the publisher's policy.
 * KR_EPOLICY names the first blocking finding.
 */
static int
s_index_range(kr_replica *r, const char *pub, const char *coll, const char *lg_code,
    const uint8_t *old, const uint8_t newoid[KR_OID_LEN], s_changes *out)
{
	s_index_ctx x = { .r = r, .pub = pub, .coll = coll, .out = out };
	int rc;

	size_t from = out->n;

	x.pol.lg_code = lg_code;
	x.pol.rules = r->rules;
	x.pol.pii = r->pii;
	x.pol.receiving = strcmp(pub, r->own) != 0; /* a peer's content: acceptance rules too */
	rc = kr_store_diff(r->store, pub, coll, old, newoid, s_index_one, &x);
	if (rc == 0)
		rc = s_check_changes(r, pub, coll, &x.pol, out->v + from, out->n - from, &x.findings);
	if (rc == 0 && kr_findings_blocking(&x.findings)) {
		for (size_t i = 0; i < x.findings.n; i++)
			if (x.findings.v[i].block) {
				kr_finding *f = &x.findings.v[i];
				rc = f->line ? kr_error(KR_EPOLICY, "%s:%d: %s", f->file, f->line, f->message)
				             : kr_error(KR_EPOLICY, "%s: %s", f->file, f->message);
				break;
			}
	}
	kr_findings_clear(&x.findings);
	return rc;
}

/* ---- the Q&A rows of datasets, indexed as items ------------------------- */

/* Whether path is a dataset's data file (datasets/SLUG/data/NAME.jsonl); *slug_len gets SLUG's length. */
static int
s_data_file(const char *coll, const char *path, size_t *slug_len)
{
	const char *p = path + 9, *slash;
	size_t l = strlen(path);

	if (strcmp(coll, "datasets") != 0 || strncmp(path, "datasets/", 9) != 0 || !(slash = strchr(p, '/')) ||
	    strncmp(slash, "/data/", 6) != 0 || l < 6 || strcmp(path + l - 6, ".jsonl") != 0)
		return 0;
	*slug_len = (size_t)(slash - p);
	return 1;
}

typedef struct {
	kr_state *state;
	const char *pub, *coll, *path, *blob, *commit;
	const kr_item *card;
	char pref[3];
} s_rows;

/*
 * One row as an item: DATASET-ID#ROW, the card's facets, the row's words
 * (question, answer, alternates, keywords) as its body, its 出典 as
 * headline. Its title is only "Q&A ROW": a row is found by its words but
 * ranks below items whose titles hold them, so forty rows about ごみ do not
 * push the cases about ごみ off the first page.
 */
static int
s_row_put(void *arg, const kr_dataset_row *row)
{
	s_rows *x = arg;
	const kr_item *card = x->card;
	kr_buf body = KR_BUF_INIT, meta = KR_BUF_INIT;
	char *path = kr_sprintf("%s#%s", x->path, row->id), *id = kr_sprintf("%s#%s", card->id, row->id);
	char *headline = kr_sprintf("出典：%s「%s」", row->issuer ? row->issuer :
	    card->pub_name ? card->pub_name : "", card->title ? card->title : "");
	char *title = kr_sprintf("Q&A %s", row->id);
	int rc;

	kr_buf_addf(&body, "%s\n%s\n", row->question, row->answer);
	if (*row->alt_questions)
		kr_buf_addf(&body, "%s\n", row->alt_questions);
	if (*row->keywords)
		kr_buf_addf(&body, "%s\n", row->keywords);
	kr_buf_adds(&meta, "");
	if (row->category)
		kr_buf_addf(&meta, "%s\n", row->category);
	if (row->source_title)
		kr_buf_addf(&meta, "%s\n", row->source_title);
	if (row->issuer)
		kr_buf_addf(&meta, "%s\n", row->issuer);
	{
		kr_state_item it = {
			.publisher = (char *)x->pub, .collection = (char *)x->coll, .path = path, .id = id,
			.kind = card->kind, .title = title, .version = card->version,
			.updated = (char *)(row->updated ? row->updated : card->updated),
			.blob = (char *)x->blob, .commit = (char *)x->commit, .body = body.ptr, .meta = meta.ptr,
			.lg_code = card->lg_code, .pref = card->lg_code ? x->pref : NULL, .domains = card->domains,
			.ai_uses = card->ai_uses, .published = card->published, .headline = headline,
		};
		rc = kr_state_item_put(x->state, &it);
	}
	kr_buf_release(&body);
	kr_buf_release(&meta);
	free(headline);
	free(title);
	free(id);
	free(path);
	return rc;
}

/*
 * Writes the rows of the data file at path (blobhex) of pub's coll at
 * commit as items, its old rows removed first. The card is read at the
 * same commit; a data file without a readable card has no rows.
 */
static int
s_index_rows(kr_replica *r, const char *pub, const char *coll, const char *path, const char *blobhex,
    const char *commit_hex, size_t slug_len)
{
	uint8_t oid[KR_OID_LEN], blob[KR_OID_LEN];
	char *card_path = kr_sprintf("datasets/%.*s/README.md", (int)slug_len, path + 9);
	kr_buf data = KR_BUF_INIT;
	kr_policy pol = { .rules = r->rules, .pii = r->pii };
	kr_findings junk = { 0 };
	kr_item card;
	s_rows x = { .state = r->state, .pub = pub, .coll = coll, .path = path, .blob = blobhex,
		.commit = commit_hex, .card = &card };
	int rc;

	memset(&card, 0, sizeof(card));
	if ((rc = kr_state_item_delete(r->state, pub, coll, path)) < 0)
		goto done;
	kr_unhex(oid, KR_OID_LEN, commit_hex);
	if (kr_store_read(r->store, pub, coll, oid, card_path, &data) < 0) {
		kr_error_clear(); /* rows of no card: nothing to name them by */
		goto done;
	}
	kr_item_check(&card, &pol, card_path, data.ptr, data.len, NULL, &junk);
	if (!card.id || !card.kind || strcmp(card.kind, "dataset") != 0)
		goto done;
	if (card.lg_code)
		memcpy(x.pref, card.lg_code, 2);
	kr_buf_clear(&data);
	kr_unhex(blob, KR_OID_LEN, blobhex);
	if ((rc = kr_store_read_blob(r->store, pub, coll, blob, &data)) < 0)
		goto done;
	rc = kr_dataset_rows(data.ptr, data.len, s_row_put, &x);
done:
	kr_item_clear(&card);
	kr_findings_clear(&junk);
	kr_buf_release(&data);
	free(card_path);
	return rc;
}

typedef struct {
	char *prefix;
	char **paths;
	char (*blobs)[KR_OID_HEX + 1];
	size_t n;
} s_data_files;

static int
s_data_file_add(const char *path, const uint8_t *blob, void *arg)
{
	s_data_files *d = arg;
	size_t sl;

	if (!blob || strncmp(path, d->prefix, strlen(d->prefix)) != 0 || !s_data_file("datasets", path, &sl))
		return 0;
	d->paths = kr_realloc(d->paths, (d->n + 1) * sizeof(char *));
	d->blobs = kr_realloc(d->blobs, (d->n + 1) * sizeof(*d->blobs));
	d->paths[d->n] = kr_strdup(path);
	kr_hex(d->blobs[d->n], blob, KR_OID_LEN);
	d->n++;
	return 0;
}

/* Re-indexes the rows of every data file of dataset card (its card changed at commit). */
static int
s_index_dataset(kr_replica *r, const char *pub, const char *coll, const kr_item *card, const char *commit_hex)
{
	uint8_t oid[KR_OID_LEN];
	s_data_files d = { 0 };
	int rc;

	if (!card->slug)
		return 0;
	d.prefix = kr_sprintf("datasets/%s/data/", card->slug);
	kr_unhex(oid, KR_OID_LEN, commit_hex);
	rc = kr_store_diff(r->store, pub, coll, NULL, oid, s_data_file_add, &d);
	for (size_t i = 0; i < d.n && rc == 0; i++)
		rc = s_index_rows(r, pub, coll, d.paths[i], d.blobs[i], commit_hex, strlen(card->slug));
	kr_strv_free(d.paths, d.n);
	free(d.blobs);
	free(d.prefix);
	return rc;
}

/* Whether the card of the dataset of data file path changed in c->v[from..]. */
static int
s_card_changed(const s_changes *c, size_t from, const char *coll, const char *path, size_t slug_len)
{
	for (size_t i = from; i < c->n; i++) {
		const s_change *ch = &c->v[i];
		if (strcmp(ch->coll, coll) == 0 && !ch->removed && ch->item.slug && strlen(ch->item.slug) == slug_len &&
		    strncmp(ch->item.slug, path + 9, slug_len) == 0 && ch->item.kind && strcmp(ch->item.kind, "dataset") == 0)
			return 1;
	}
	return 0;
}

/* Writes the rows batched in b[0..*nb) (kr_state_items_put: in bulk when many) and empties the batch. */
static int
s_items_flush(kr_replica *r, kr_state_item *b, size_t *nb, s_progress *pr)
{
	int rc = kr_state_items_put(r->state, b, *nb);

	pr->base += *nb;
	*nb = 0;
	return rc;
}

/*
 * Writes the item rows of changes made at commit (in the open
 * transaction), in the order of the changes: the items in a row are
 * batched, and a batch is written before a removal or a dataset's rows
 * that follow it, so each row gets the key it would get one by one.
 */
static int
s_record_changes(kr_replica *r, const char *pub, const s_changes *c, size_t from,
    const char *coll, const char *commit_hex)
{
	size_t cap = c->n > from ? c->n - from : 1, nb = 0;
	kr_state_item *batch = kr_calloc(cap, sizeof(*batch));
	char (*prefs)[3] = kr_calloc(cap, sizeof(*prefs));
	s_progress pr = { .r = r, .p = { .step = KR_STEP_INDEX, .publisher = pub, .collection = coll } };
	int rc = 0;

	if (r->progress) {
		for (size_t i = from; i < c->n; i++)
			pr.p.total += !c->v[i].removed && c->v[i].item.id && strcmp(c->v[i].coll, coll) == 0;
		kr_state_on_rows(r->state, s_progress_rows, &pr);
	}

	for (size_t i = from; i < c->n && rc == 0; i++) {
		const s_change *ch = &c->v[i];
		if (strcmp(ch->coll, coll) != 0)
			continue;
		if (ch->removed || !ch->item.id) {
			size_t sl;
			int data = !ch->removed && s_data_file(ch->coll, ch->path, &sl);
			/* a data file's rows; when its card changed too, the card brings them */
			if (data && s_card_changed(c, from, coll, ch->path, sl))
				continue;
			if ((rc = s_items_flush(r, batch, &nb, &pr)) < 0)
				break;
			rc = data ? s_index_rows(r, pub, ch->coll, ch->path, ch->blob, commit_hex, sl)
			          : kr_state_item_delete(r->state, pub, ch->coll, ch->path);
		} else {
			int dataset = ch->item.kind && strcmp(ch->item.kind, "dataset") == 0;
			kr_state_item *it = &batch[nb++];
			*it = (kr_state_item){
				.publisher = (char *)pub, .collection = ch->coll, .path = ch->path,
				.id = ch->item.id, .kind = ch->item.kind, .title = ch->item.title,
				.version = ch->item.version, .updated = ch->item.updated,
				.blob = (char *)ch->blob, .commit = (char *)commit_hex,
				.body = ch->item.body, .meta = ch->item.meta, .lg_code = ch->item.lg_code,
				.domains = ch->item.domains, .ai_uses = ch->item.ai_uses,
				.outcome = ch->item.outcome, .deployment = ch->item.deployment,
				.popband = ch->item.popband, .published = ch->item.published,
				.headline = ch->item.headline,
			};
			if (ch->item.lg_code) {
				memcpy(prefs[i - from], ch->item.lg_code, 2);
				it->pref = prefs[i - from];
			}
			/* a dataset card's rows come right after it */
			if (dataset && (rc = s_items_flush(r, batch, &nb, &pr)) == 0)
				rc = s_index_dataset(r, pub, ch->coll, &ch->item, commit_hex);
		}
	}
	if (rc == 0)
		rc = s_items_flush(r, batch, &nb, &pr);
	if (r->progress) {
		kr_state_on_rows(r->state, NULL, NULL);
		s_progress_tell(&pr, pr.p.total, pr.p.total, 0, rc == 0 ? 1 : -1);
	}
	free(prefs);
	free(batch);
	return rc;
}

/* ---- durable copies of signed manifests ------------------------------- */

/*
 * <home>/manifests/<publisher> holds the latest signed manifest of each
 * publisher this node accepted, and of this node itself, outside state.db:
 * after state.db is lost or damaged, kairan repair (or the next open of a
 * new state.db) restores them, and this node never signs a seq at or
 * below one it already issued. Our own copy is written before the
 * transaction that records it commits, so it is never behind what peers
 * may have seen; the others' after (they are a cache: sync refreshes them).
 */
static char *
s_manifest_path(const kr_replica *r, const char *pub)
{
	return pub ? kr_sprintf("%s/manifests/%s", kr_store_home(r->store), pub)
	           : kr_sprintf("%s/manifests", kr_store_home(r->store));
}

/*
 * The same bytes under refs/kairan/manifest in each of pub's collections
 * held here, so a plain `git clone --mirror` of any of them carries what
 * `kairan audit` needs (DESIGN §12).
 */
static int
s_manifest_refs(kr_replica *r, const char *pub, const void *bytes, size_t len)
{
	char **colls = NULL;
	size_t n = 0;
	uint64_t seq = kr_signed_manifest_seq(bytes, len);
	int rc;

	if ((rc = kr_store_collections(r->store, pub, &colls, &n)) < 0)
		return rc;
	for (size_t i = 0; i < n && rc == 0; i++) {
		/* never back: another thread may have written a newer one already */
		/* nor again: the same bytes are there already (a node's start, s_settle_copies) */
		kr_buf cur = KR_BUF_INIT;
		int newer = kr_store_manifest_ref_get(r->store, pub, colls[i], &cur) == 0 &&
		    ((cur.len == len && memcmp(cur.ptr, bytes, len) == 0) || kr_signed_manifest_seq(cur.ptr, cur.len) > seq);
		kr_buf_release(&cur);
		kr_error_clear();
		if (!newer && (rc = kr_store_manifest_ref_set(r->store, pub, colls[i], bytes, len)) < 0)
			kr_error_prefix(rc, "collection %s", colls[i]);
	}
	kr_strv_free(colls, n);
	return rc;
}

/* fsync of a directory, so the names just renamed into it survive a power cut. */
static int
s_sync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), rc = 0;

	if (fd < 0 || fsync(fd) < 0)
		rc = kr_error(KR_EIO, "%s: fsync: %s", dir, strerror(errno));
	if (fd >= 0)
		close(fd);
	return rc;
}

static int s_manifest_load(kr_replica *r, const char *pub, kr_manifest *m, kr_buf *bytes);

/*
 * Another publisher's manifest is saved under an flock(2) on manifests/
 * (each caller opens the directory itself, so it holds between the threads
 * of a daemon and between processes), and never over a newer one: two
 * workers may apply the same publisher from two peers, and one's deferred
 * save (kr_replica_maintain) may come after the other's newer one. -1 when
 * the lock cannot be taken (the save goes on without it); *newer is 1
 * when a saved copy, checked, has a higher seq, 2 when it has seq.
 */
static int
s_manifest_lock(kr_replica *r, const char *dir, const char *pub, uint64_t seq, int *newer)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	kr_manifest saved;

	*newer = 0;
	while (fd >= 0 && flock(fd, LOCK_EX) < 0) {
		if (errno != EINTR) {
			close(fd);
			fd = -1;
		}
	}
	if (s_manifest_load(r, pub, &saved, NULL) == 0) {
		*newer = saved.seq > seq ? 1 : saved.seq == seq ? 2 : 0;
		kr_manifest_clear(&saved);
	}
	kr_error_clear(); /* none yet, or damaged: replaced */
	return fd;
}

/*
 * Written whole, then renamed into place (a name of its own: two threads of
 * a daemon may save at once). Our own manifest is durable, name included,
 * before it returns: its seq is the floor of the next one signed (s_issue),
 * and it is announced next. A mirrored one can be fetched again; it never
 * replaces a newer one, nor does its copy under refs/kairan/manifest; one
 * of the same seq is kept, and its refs' copies are written where they
 * are older (a collection fetched again at the same seq). *wrote (may be
 * NULL) tells whether the file was written.
 */
static int
s_manifest_save_x(kr_replica *r, const char *pub, const void *bytes, size_t len, int *wrote)
{
	char *dir = s_manifest_path(r, NULL), *path = s_manifest_path(r, pub), *tmp;
	int own = strcmp(pub, r->own) == 0, lock = -1, newer = 0;
	uint64_t nonce;
	int rc;

	if (wrote)
		*wrote = 0;
	kr_random(&nonce, sizeof(nonce));
	tmp = kr_sprintf("%s.%016llx", path, (unsigned long long)nonce);
	if ((rc = kr_mkdir_p(dir, 0755)) == 0 && !own)
		lock = s_manifest_lock(r, dir, pub, kr_signed_manifest_seq(bytes, len), &newer);
	if (newer == 1)
		goto done;
	if (rc == 0 && newer == 0 && (rc = kr_file_write(tmp, bytes, len, 0644)) == 0 && rename(tmp, path) < 0) {
		rc = kr_error(KR_EIO, "%s: %s", path, strerror(errno));
		unlink(tmp);
	}
	if (wrote)
		*wrote = rc == 0 && newer == 0;
	if (rc == 0 && strcmp(pub, r->own) == 0)
		rc = s_sync_dir(dir);
	if (rc == 0 && strcmp(pub, r->own) == 0 && r->defer_maintenance) {
		/* a deferred publish: the copy for plain git mirrors once the node announced (kr_replica_maintain) */
		free(r->own_ref);
		r->own_ref = kr_malloc(len ? len : 1);
		memcpy(r->own_ref, bytes, len);
		r->own_ref_len = len;
	} else if (rc == 0 && s_manifest_refs(r, pub, bytes, len) < 0) {
		kr_error_clear(); /* a copy for plain git mirrors, written again with the next manifest */
	}
done:
	if (lock >= 0)
		close(lock); /* and so unlocked */
	free(tmp);
	free(dir);
	free(path);
	return rc;
}

static int
s_manifest_save(kr_replica *r, const char *pub, const void *bytes, size_t len)
{
	return s_manifest_save_x(r, pub, bytes, len, NULL);
}

/*
 * Reads and checks pub's saved manifest: signed by pub, well-formed. 0
 * with *m (and *bytes, when given) filled; KR_ENOTFOUND if there is none;
 * KR_EVERIFY if the file is damaged.
 */
static int
s_manifest_load(kr_replica *r, const char *pub, kr_manifest *m, kr_buf *bytes)
{
	char *path = s_manifest_path(r, pub);
	kr_buf b = KR_BUF_INIT;
	kr_signed s = { .body = KR_BUF_INIT };
	uint8_t key[KR_FPR_LEN];
	int rc;

	memset(m, 0, sizeof(*m));
	if ((rc = kr_file_read(&b, path)) < 0)
		goto done;
	kr_unhex(key, KR_FPR_LEN, pub);
	if (kr_signed_decode(&s, b.ptr, b.len) < 0 || memcmp(s.key, key, KR_FPR_LEN) != 0 ||
	    kr_signed_verify(key, KR_MANIFEST_TYPE, s.body.ptr, s.body.len, s.sig) < 0 ||
	    kr_manifest_decode(m, s.body.ptr, s.body.len) < 0 || memcmp(m->publisher, key, KR_FPR_LEN) != 0) {
		kr_manifest_clear(m);
		rc = kr_error(KR_EVERIFY, "%s is damaged: it is not a manifest signed by %.16s… (move it aside "
		    "to go on; the next seq then comes from state.db and from peers)", path, pub);
		goto done;
	}
	if (bytes)
		kr_buf_add(bytes, b.ptr, b.len);
done:
	kr_signed_clear(&s);
	kr_buf_release(&b);
	free(path);
	return rc;
}

/*
 * The highest seq this node signed, by state.db and by its saved copy;
 * same (when given) tells whether state.db's manifest is the bytes given.
 * A saved copy byte for byte the one state.db holds is the usual case (a
 * publish writes both): its seq is state.db's, and its signature (made
 * here, or checked when state.db took it) is not checked again. Any other
 * copy (newer than state.db after a crash, or damaged) is read and checked.
 */
static int
s_own_floor(kr_replica *r, uint64_t *state_seq, uint64_t *floor, const void *bytes, size_t len, int *same)
{
	kr_state_manifest cur;
	kr_manifest saved;
	int rc, held = 0;

	*state_seq = 0;
	if (same)
		*same = 0;
	if ((rc = kr_state_manifest_get(r->state, r->own, &cur)) == 0) {
		char *path = s_manifest_path(r, r->own);
		kr_buf copy = KR_BUF_INIT;
		*state_seq = cur.seq;
		if (same)
			*same = cur.signed_bytes.len == len && memcmp(cur.signed_bytes.ptr, bytes, len) == 0;
		held = kr_file_read(&copy, path) == 0 && copy.len == cur.signed_bytes.len &&
		    memcmp(copy.ptr, cur.signed_bytes.ptr, copy.len) == 0;
		kr_buf_release(&copy);
		free(path);
		kr_state_manifest_clear(&cur);
	} else if (rc != KR_ENOTFOUND) {
		return rc;
	}
	*floor = *state_seq;
	if (held) {
		kr_error_clear();
		return 0;
	}
	if ((rc = s_manifest_load(r, r->own, &saved, NULL)) == 0) {
		if (saved.seq > *floor)
			*floor = saved.seq;
		kr_manifest_clear(&saved);
	} else if (rc != KR_ENOTFOUND) {
		return rc;
	}
	kr_error_clear();
	return 0;
}

/* ---- applying a received manifest ------------------------------------- */

static void
s_quarantine(kr_replica *r, const char *pub, const char *peer, const char *coll,
    int64_t seq, const char *reason)
{
	/* Best effort: failing to record must not hide the original error. */
	char *saved = kr_strdup(reason);

	if (kr_state_begin(r->state) == 0) {
		if (kr_state_quarantine_add(r->state, pub, peer, coll, seq, saved) == 0)
			kr_state_commit(r->state);
		else
			kr_state_rollback(r->state);
	}
	kr_error(KR_EVERIFY, "%s", saved);
	free(saved);
}

static int
s_is_rejection(int rc)
{
	return rc == KR_EVERIFY || rc == KR_EPROTO || rc == KR_EPOLICY;
}

typedef struct {
	const kr_head *h;
	int had_old;
	uint8_t old[KR_OID_LEN];
	size_t first_change;
	int seeded;                     /* continued from a rotated-away key's collection */
	char pred[KR_FPR_HEX + 1];      /* that key */
} s_moved;

typedef struct {
	char coll[KR_COLLECTION_MAX + 1];
	char name[64];
} s_written;

/* One apply in progress: what its steps share. */
typedef struct {
	kr_replica *r;
	const void *bytes;
	size_t len;
	const kr_fetcher *fx;
	kr_apply *res;
	char hex[KR_FPR_HEX + 1];
	uint8_t digest[32];             /* SHA-256 of the signed bytes */
	kr_manifest m;
	s_changes changes;
	s_moved *moved;
	size_t nmoved;
	const char *failed_coll;
	s_written *written;             /* packs this apply added */
	size_t nwritten;
	char code[16];                  /* the lg_code the manifest claims (for the trust question) */
	int fetch_only;                 /* the packs announced with it are not taken (the retry in kr_replica_apply) */
} s_apply;

/* Whether this apply holds coll (kr_fetcher.colls: NULL is every collection). */
static int
s_wanted(const kr_fetcher *fx, const char *coll)
{
	if (!fx->colls)
		return 1;
	for (size_t i = 0; i < fx->ncolls; i++)
		if (strcmp(fx->colls[i], coll) == 0)
			return 1;
	return 0;
}

static int
s_trusted(const uint8_t pub[KR_FPR_LEN], void *arg)
{
	(void)pub;
	return *(const int *)arg;
}

/* Reads the claimed publisher; a message that does not even decode is quarantined. */
static int
s_apply_peek(s_apply *a)
{
	kr_signed s;
	kr_manifest peek;
	int rc;

	if ((rc = kr_signed_decode(&s, a->bytes, a->len)) < 0 ||
	    (rc = kr_manifest_decode(&peek, s.body.ptr, s.body.len)) < 0) {
		kr_signed_clear(&s);
		s_quarantine(a->r, NULL, a->fx->peer, NULL, 0, kr_errmsg());
		a->res->quarantined = 1;
		return KR_EPROTO;
	}
	kr_hex(a->hex, peek.publisher, KR_FPR_LEN);
	snprintf(a->code, sizeof(a->code), "%s", peek.lg_code ? peek.lg_code : "");
	a->res->seq = peek.seq;
	kr_manifest_clear(&peek);
	kr_signed_clear(&s);
	strcpy(a->res->publisher, a->hex);
	kr_sha256(a->digest, a->bytes, a->len);
	return 0;
}

/*
 * Our own manifest, as a peer holds it. Only its seq matters to us: if it
 * is above what this node remembers (state.db or its saved copy lost), the
 * saved floor rises to it and, when the manifest we offer is older or
 * another one with the same seq (signed again after a loss: subscribers
 * would see equivocation), a fresh one is signed above it (res->applied,
 * so it is announced) — as long as our repositories hold what that
 * manifest names.
 */
static int
s_apply_own(s_apply *a)
{
	kr_replica *r = a->r;
	kr_signed s = { .body = KR_BUF_INIT };
	kr_manifest m = { 0 };
	uint64_t state_seq, floor, seq;
	int rc, same;

	if (!r->key)
		return 0;
	if (kr_signed_decode(&s, a->bytes, a->len) < 0 ||
	    memcmp(s.key, kr_key_pub(r->key), KR_FPR_LEN) != 0 ||
	    kr_signed_verify(kr_key_pub(r->key), KR_MANIFEST_TYPE, s.body.ptr, s.body.len, s.sig) < 0 ||
	    kr_manifest_decode(&m, s.body.ptr, s.body.len) < 0) {
		kr_signed_clear(&s);
		s_quarantine(r, a->hex, a->fx->peer, NULL, 0, "a manifest in this node's own name that it did not sign");
		a->res->quarantined = 1;
		return KR_EVERIFY;
	}
	kr_signed_clear(&s);
	if ((rc = s_own_floor(r, &state_seq, &floor, a->bytes, a->len, &same)) < 0)
		goto done;
	if (m.seq > floor && (rc = s_manifest_save(r, r->own, a->bytes, a->len)) < 0)
		goto done;
	/* What we offer is newer, or is this very manifest: nothing to do. */
	if (state_seq > m.seq || same)
		goto done;
	for (size_t i = 0; i < m.nheads; i++) {
		uint8_t ref[KR_OID_LEN];
		if (kr_store_head(r->store, r->own, m.heads[i].collection, ref) < 0 ||
		    !kr_store_descends(r->store, r->own, m.heads[i].collection, ref, m.heads[i].commit)) {
			char want[KR_OID_HEX + 1];
			kr_hex(want, m.heads[i].commit, KR_OID_LEN);
			rc = kr_error(KR_ECONFLICT, "peer %s holds this node's manifest seq %llu, whose %s is at %.12s, "
			    "which this node's repository does not hold: restore repos/%s/%s.git before publishing",
			    a->fx->peer ? a->fx->peer : "?", (unsigned long long)m.seq, m.heads[i].collection, want,
			    r->own, m.heads[i].collection);
			goto done;
		}
	}
	if ((rc = kr_replica_issue(r, &seq)) == 0) {
		a->res->applied = 1;
		a->res->seq = seq;
	}
done:
	kr_manifest_clear(&m);
	return rc;
}

/*
 * Signature, trust, seq, times and lg_code (DESIGN §5 steps 1-3). 0: go
 * on and fetch; 1: nothing to do (the manifest is held); or the error,
 * quarantined when it is a refusal. A state.db that cannot answer is an
 * error of its own, never "not trusted" or "nothing held before".
 */
static int
s_apply_check(s_apply *a)
{
	kr_replica *r = a->r;
	kr_state_manifest prev = { 0 };
	kr_signed prev_signed = { .body = KR_BUF_INIT };
	kr_manifest_prev pv, *pvp = NULL;
	uint8_t pub[KR_FPR_LEN];
	int trusted, rc;

	if ((trusted = kr_state_pinned(r->state, a->hex)) < 0)
		return trusted;
	if ((rc = kr_state_manifest_get(r->state, a->hex, &prev)) == 0) {
		if (kr_signed_decode(&prev_signed, prev.signed_bytes.ptr, prev.signed_bytes.len) == 0) {
			pv.seq = prev.seq;
			pv.body = prev_signed.body.ptr;
			pv.body_len = prev_signed.body.len;
			pvp = &pv;
		}
	} else if (rc != KR_ENOTFOUND) {
		return rc;
	}
	kr_error_clear();
	{
		uint8_t claimed[KR_FPR_LEN];
		kr_unhex(claimed, KR_FPR_LEN, a->hex);
		trusted = kr_manifest_trust(kr_replica_federation(r), claimed, a->code, trusted, kr_now());
	}
	if (trusted == KR_MANIFEST_STALE) {
		/* Not the publisher's doing: nothing quarantined, nothing dropped; applied once renewed. */
		rc = prev.signed_bytes.len == a->len && memcmp(prev.signed_bytes.ptr, a->bytes, a->len) == 0 ? 1 :
		    KR_EVERIFY;
		if (rc == 1)
			kr_error_clear();
		goto done;
	}
	if (trusted < 0) {
		/* A revoked key's manifest held from before stays valid: only a new one is refused. */
		if (prev.signed_bytes.len == a->len && memcmp(prev.signed_bytes.ptr, a->bytes, a->len) == 0) {
			kr_error_clear();
			rc = 1;
			goto done;
		}
		kr_error_prefix(KR_EVERIFY, "manifest of %.16s…", a->hex);
		s_quarantine(r, a->hex, a->fx->peer, NULL, 0, kr_errmsg());
		a->res->quarantined = 1;
		rc = KR_EVERIFY;
		goto done;
	}
	rc = kr_manifest_check(&a->m, pub, a->bytes, a->len, s_trusted, &trusted, pvp, kr_now());
	if (rc == KR_MANIFEST_IGNORE) {
		/*
		 * Held already; fetch again only a wanted collection no longer here
		 * (set aside by repair, or let in by a wider join --kind).
		 */
		rc = 1;
		if (kr_manifest_decode(&a->m, prev_signed.body.ptr, prev_signed.body.len) == 0) {
			for (size_t i = 0; i < a->m.nheads && rc == 1; i++) {
				uint8_t ref[KR_OID_LEN];
				int hr;
				if (!s_wanted(a->fx, a->m.heads[i].collection))
					continue;
				hr = kr_store_head(r->store, a->hex, a->m.heads[i].collection, ref);
				if (hr == KR_ENOTFOUND)
					rc = 0;
				else if (hr < 0)
					rc = hr;
			}
			if (rc == 1)
				kr_manifest_clear(&a->m);
		}
		kr_error_clear();
		if (rc == 0)
			a->res->seq = a->m.seq;
		goto done;
	}
	if (rc == KR_MANIFEST_REPLAY || rc < 0) {
		/* Counted once per (publisher, peer, kind of reason): a lagging relay cannot flood. */
		s_quarantine(r, a->hex, a->fx->peer, NULL, 0, kr_errmsg());
		a->res->quarantined = 1;
		rc = rc < 0 ? rc : KR_EVERIFY;
		goto done;
	}
	a->res->seq = a->m.seq;
	{
		char right[7];
		if (kr_lgcode_check(a->m.lg_code, right) < 0) {
			rc = kr_error(KR_EVERIFY, "manifest of %.16s… seq %llu: lg_code %s", a->hex,
			    (unsigned long long)a->m.seq, kr_errmsg());
			s_quarantine(r, a->hex, a->fx->peer, NULL, (int64_t)a->m.seq, kr_errmsg());
			a->res->quarantined = 1;
		}
	}
done:
	kr_signed_clear(&prev_signed);
	kr_state_manifest_clear(&prev);
	return rc;
}

/* A manifest this peer offered before and that was refused after its fetch: not fetched again. */
static int
s_apply_remembered(s_apply *a)
{
	char *why;
	int rc;

	if ((rc = kr_state_rejected_get(a->r->state, a->hex, a->fx->peer, a->digest, &why)) == KR_ENOTFOUND) {
		kr_error_clear();
		return 0;
	}
	if (rc < 0)
		return rc;
	s_quarantine(a->r, a->hex, a->fx->peer, NULL, (int64_t)a->m.seq, why);
	kr_error(KR_EVERIFY, "%s (refused before; not fetched again until the publisher's manifest changes)", why);
	free(why);
	a->res->quarantined = 1;
	return KR_EVERIFY;
}

/* The pack the peer announced for h from what this node holds (mv), or NULL. */
static const kr_inline_pack *
s_offered(const s_apply *a, const s_moved *mv)
{
	const kr_inline *o = a->fx->offered;

	for (size_t i = 0; o && !a->fetch_only && i < o->n; i++) {
		const kr_inline_pack *p = &o->v[i];
		if (strcmp(p->collection, mv->h->collection) == 0 &&
		    memcmp(p->want, mv->h->commit, KR_OID_LEN) == 0 && p->has_base == mv->had_old &&
		    (!p->has_base || memcmp(p->base, mv->old, KR_OID_LEN) == 0))
			return p;
	}
	return NULL;
}

/*
 * Fetches one head's pack into the collection's objects, or takes the one
 * the announcement brought (s_offered); remembers the pack it added.
 */
static int
s_apply_fetch_one(s_apply *a, s_moved *mv, uint64_t cap)
{
	const kr_head *h = mv->h;
	const kr_inline_pack *o = s_offered(a, mv);
	kr_packin *in = NULL;
	uint64_t got = 0;
	double t = kr_monotonic_ms();
	s_progress pr = { .r = a->r, .p = { .step = KR_STEP_RECEIVE, .publisher = a->hex, .collection = h->collection } };
	int rc;

	kr_store_tidy(a->r->store, a->hex, h->collection);
	if ((rc = kr_packin_new(&in, a->r->store, a->hex, h->collection, cap)) < 0)
		return rc;
	if (o && o->pack.len <= cap) {
		/* the indexer checks every entry; what it lacks or lies about, the checks after this refuse */
		if ((rc = kr_packin_append(in, o->pack.ptr, o->pack.len)) == 0)
			rc = kr_packin_commit(in);
		if (rc == 0) {
			a->res->inlined++;
			got = o->pack.len;
		} else {
			kr_error_clear();
			kr_packin_destroy(&in);
			if ((rc = kr_packin_new(&in, a->r->store, a->hex, h->collection, cap)) < 0)
				return rc;
			o = NULL;
		}
	} else {
		o = NULL;
	}
	if (!o) {
		if (a->r->progress)
			kr_packin_on_progress(in, s_progress_received, &pr);
		rc = a->fx->fetch(a->fx->arg, a->hex, h->collection, h->commit, mv->had_old ? mv->old : NULL, cap,
		    in, &got);
	}
	a->res->bytes += got;
	if (rc == 0 && (o || (rc = kr_packin_commit(in)) == 0) && kr_packin_written(in)) {
		s_written *w;
		a->written = kr_realloc(a->written, (a->nwritten + 1) * sizeof(*a->written));
		w = &a->written[a->nwritten++];
		snprintf(w->coll, sizeof(w->coll), "%s", h->collection);
		snprintf(w->name, sizeof(w->name), "%s", kr_packin_written(in));
	}
	s_progress_tell(&pr, pr.p.total, pr.p.total, pr.p.bytes, rc == 0 ? 1 : -1);
	kr_packin_destroy(&in);
	a->res->ms_fetch += kr_monotonic_ms() - t;
	return rc;
}

/* Hard-links every file of dir (one level) into to; 0 or KR_EIO. */
static int
s_link_dir(const char *dir, const char *to)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int rc = 0;

	if (!d)
		return errno == ENOENT ? 0 : kr_error(KR_EIO, "%s: %s", dir, strerror(errno));
	if ((rc = kr_mkdir_p(to, 0755)) < 0) {
		closedir(d);
		return rc;
	}
	while (rc == 0 && (e = readdir(d))) {
		char *a, *b;
		if (e->d_name[0] == '.')
			continue;
		a = kr_sprintf("%s/%s", dir, e->d_name);
		b = kr_sprintf("%s/%s", to, e->d_name);
		if (link(a, b) < 0 && errno != EEXIST && errno != EISDIR && errno != EPERM)
			rc = kr_error(KR_EIO, "linking %s: %s", a, strerror(errno));
		free(a);
		free(b);
	}
	closedir(d);
	return rc;
}

/*
 * Rotation (DESIGN §6): a collection new to this publisher whose key
 * replaced another member key that published the same collection here
 * continues it. The old key's objects are hard-linked into the new
 * repository (nothing fetched twice), the fetch and the signature check
 * then start at the old head: the commits before it were verified under
 * the old key, each one after it must be signed by the new key. 1 when
 * seeded, 0 when there is nothing to continue, or an error.
 */
static int
s_apply_continue(s_apply *a, s_moved *mv)
{
	const kr_membership *fed = kr_replica_federation(a->r);
	const kr_head *h = mv->h;
	const kr_fed_revoked *pred = NULL;
	kr_packin *in = NULL;
	char *from, *to;
	int rc;

	for (size_t i = 0; fed && i < fed->nrevoked && !pred; i++)
		if (fed->revoked[i].has_replacement &&
		    memcmp(fed->revoked[i].replaced_by, a->m.publisher, KR_FPR_LEN) == 0)
			pred = &fed->revoked[i];
	if (!pred)
		return 0;
	kr_hex(mv->pred, pred->key, KR_FPR_LEN);
	if (kr_store_head(a->r->store, mv->pred, h->collection, mv->old) < 0) {
		kr_error_clear();
		return 0;
	}
	if ((rc = kr_packin_new(&in, a->r->store, a->hex, h->collection, 0)) < 0)
		return rc;
	kr_packin_destroy(&in); /* (made only to make the repository) */
	from = kr_store_path(a->r->store, mv->pred, h->collection);
	to = kr_store_path(a->r->store, a->hex, h->collection);
	for (int i = -1; i < 256 && rc == 0; i++) {
		char *fd, *td;
		if (i < 0) {
			fd = kr_sprintf("%s/objects/pack", from);
			td = kr_sprintf("%s/objects/pack", to);
		} else {
			fd = kr_sprintf("%s/objects/%02x", from, i);
			td = kr_sprintf("%s/objects/%02x", to, i);
		}
		if (i < 0 || access(fd, F_OK) == 0)
			rc = s_link_dir(fd, td);
		free(fd);
		free(td);
	}
	free(from);
	free(to);
	if (rc < 0)
		return rc;
	mv->had_old = mv->seeded = 1;
	a->res->continued++;
	return 1;
}

typedef struct {
	uint8_t (*v)[KR_OID_LEN];
	size_t n;
} s_rot_oids;

static int
s_collect_oid(const kr_commit_info *c, void *arg)
{
	s_rot_oids *o = arg;

	o->v = kr_realloc(o->v, (o->n + 1) * KR_OID_LEN);
	memcpy(o->v[o->n++], c->oid, KR_OID_LEN);
	return 0;
}

/*
 * A collection whose history spans rotations, fetched whole (this node
 * never held it under the old key): walking back from the head, each
 * commit must be signed by the current key or, once that stops, by the key
 * it replaced, and so on back along the rotations in the newest document
 * (never forward again). Returns 0 when every commit verifies that way,
 * else the first refusal. Called only after the plain check failed.
 */
static int
s_verify_rotated(s_apply *a, const kr_head *h, size_t *ncommits)
{
	const kr_membership *fed = kr_replica_federation(a->r);
	const uint8_t *keys[16];
	size_t nkeys = 1, k = 0;
	s_rot_oids o = { 0 };
	int rc;

	keys[0] = a->m.publisher;
	while (fed && nkeys < 16) {
		const uint8_t *prev = NULL;
		for (size_t i = 0; i < fed->nrevoked && !prev; i++)
			if (fed->revoked[i].has_replacement &&
			    memcmp(fed->revoked[i].replaced_by, keys[nkeys - 1], KR_FPR_LEN) == 0)
				prev = fed->revoked[i].key;
		if (!prev)
			break;
		keys[nkeys++] = prev;
	}
	if (nkeys == 1)
		return KR_EVERIFY; /* no rotation behind this key: the plain refusal stands */
	if ((rc = kr_store_log_at(a->r->store, a->hex, h->collection, h->commit, 0, s_collect_oid, &o)) < 0)
		goto done;
	*ncommits = o.n;
	for (size_t i = 0; i < o.n && rc == 0; i++) {
		size_t one;
		const uint8_t *parent = i + 1 < o.n ? o.v[i + 1] : NULL;
		while ((rc = kr_store_verify_range(a->r->store, a->hex, h->collection, parent, o.v[i], keys[k],
		    &one)) == KR_EVERIFY && k + 1 < nkeys)
			k++;
	}
	if (rc == 0)
		kr_error_clear();
done:
	free(o.v);
	return rc;
}

/*
 * What s_apply_fetch did, undone for another try: the packs it added are
 * removed (those of the announcement that did not hold), nothing else was
 * recorded yet.
 */
static void
s_apply_undo(s_apply *a)
{
	for (size_t i = 0; i < a->nwritten; i++) {
		uint64_t bytes = 0;
		if (kr_store_drop_pack(a->r->store, a->hex, a->written[i].coll, a->written[i].name, &bytes) < 0)
			kr_error_clear();
	}
	free(a->written);
	a->written = NULL;
	a->nwritten = 0;
	free(a->moved);
	a->moved = NULL;
	a->nmoved = 0;
	s_changes_free(&a->changes);
	memset(&a->changes, 0, sizeof(a->changes));
	a->failed_coll = NULL;
	a->res->inlined = 0;
	a->res->continued = 0;
	a->res->bytes = 0;
}

/* DESIGN §5 step 4: fetch, verify and index every head that moved. */
static int
s_apply_fetch(s_apply *a)
{
	kr_replica *r = a->r;
	const kr_manifest *m = &a->m;
	double t;
	int rc;
	size_t ncommits;

	a->moved = kr_calloc(m->nheads ? m->nheads : 1, sizeof(*a->moved));
	for (size_t i = 0; i < m->nheads; i++) {
		const kr_head *h = &m->heads[i];
		s_moved *mv = &a->moved[a->nmoved];
		uint64_t cap = h->size < r->max_collection_bytes ? h->size : r->max_collection_bytes;

		if (!s_wanted(a->fx, h->collection))
			continue; /* left out by this node's join --kind: verified in the manifest, not held */
		mv->h = h;
		mv->had_old = kr_store_head(r->store, a->hex, h->collection, mv->old) == 0;
		kr_error_clear();
		if (mv->had_old && memcmp(mv->old, h->commit, KR_OID_LEN) == 0)
			continue;
		a->failed_coll = h->collection;
		if (!kr_collection_valid(h->collection))
			return kr_error(KR_EPROTO, "bad collection name");
		if (!mv->had_old && (rc = s_apply_continue(a, mv)) < 0)
			return kr_error_prefix(rc, "collection %s", h->collection);
		if ((rc = s_apply_fetch_one(a, mv, cap)) < 0)
			return kr_error_prefix(rc, "collection %s", h->collection);
		t = kr_monotonic_ms();
		ncommits = 0;
		rc = kr_store_verify_range(r->store, a->hex, h->collection, mv->had_old ? mv->old : NULL,
		    h->commit, m->publisher, &ncommits);
		if (rc == KR_EVERIFY && !mv->had_old) {
			/* fetched whole: its older commits may be by the key this one replaced */
			char *why = kr_strdup(kr_errmsg());
			rc = s_verify_rotated(a, h, &ncommits);
			if (rc == KR_EVERIFY)
				kr_error(KR_EVERIFY, "%s", why);
			free(why);
		}
		/* the diff below walks the new head's tree; the trees of commits before it, here */
		if (rc == 0 && ncommits > 1)
			rc = kr_store_check_trees(r->store, a->hex, h->collection, mv->had_old ? mv->old : NULL,
			    h->commit);
		a->res->ms_verify += kr_monotonic_ms() - t;
		if (rc < 0) {
			kr_error_prefix(rc, "collection %s", h->collection);
			return rc == KR_ENOTFOUND ? KR_EVERIFY : rc;
		}
		mv->first_change = a->changes.n;
		t = kr_monotonic_ms();
		rc = s_index_range(r, a->hex, h->collection, m->lg_code, mv->had_old && !mv->seeded ? mv->old : NULL,
		    h->commit, &a->changes);
		a->res->ms_index += kr_monotonic_ms() - t;
		if (rc < 0) {
			kr_error_prefix(rc, "collection %s", h->collection);
			return rc == KR_ENOTFOUND || rc == KR_EIO ? KR_EVERIFY : rc;
		}
		a->nmoved++;
	}
	a->failed_coll = NULL;
	return 0;
}

/*
 * What follows an apply's commit: pub's manifest saved in manifests/ (and
 * so under refs/kairan/manifest), then the consolidation of colls.
 */
static void
s_applied_settle(kr_replica *r, const char *pub, const void *bytes, size_t len, char **colls, size_t ncolls)
{
	if (s_manifest_save(r, pub, bytes, len) < 0)
		kr_error_clear(); /* a cache for kairan repair: sync refreshes it */
	for (size_t i = 0; i < ncolls; i++) {
		int packed;
		if (kr_store_maintain(r->store, pub, colls[i], 0, &packed) < 0)
			kr_error_clear();
	}
}

/* DESIGN §5 step 5: refs by compare-and-swap, then one transaction. */
static int
s_apply_record(s_apply *a)
{
	kr_replica *r = a->r;
	const kr_manifest *m = &a->m;
	double t = kr_monotonic_ms();
	int rc = 0;

	for (size_t i = 0; i < a->nmoved; i++) {
		if ((rc = kr_store_cas(r->store, a->hex, a->moved[i].h->collection,
		    a->moved[i].had_old && !a->moved[i].seeded ? a->moved[i].old : NULL, a->moved[i].h->commit)) < 0)
			return rc; /* someone else moved it: they verified it; reconcile converges */
	}
	/*
	 * The signed manifest beside the heads it names, for plain git mirrors
	 * (kairan audit). A copy: if it cannot be written, replication goes on
	 * and the next manifest writes it; an audit of a stale copy fails, it
	 * never passes. (Deferred: written after the commit, in kr_replica_maintain.)
	 */
	if (a->nmoved && !r->defer_maintenance && s_manifest_refs(r, a->hex, a->bytes, a->len) < 0)
		kr_error_clear();
	if ((rc = kr_state_begin(r->state)) < 0)
		return rc;
	{
		kr_state_manifest sm = { 0 };
		strcpy(sm.publisher, a->hex);
		sm.seq = m->seq;
		sm.issued = m->issued;
		sm.expires = m->expires;
		sm.name = m->name;
		sm.lg_code = m->lg_code;
		sm.peer = (char *)a->fx->peer;
		sm.received = kr_now();
		sm.signed_bytes = (kr_buf){ (char *)a->bytes, a->len, 0 };
		rc = kr_state_manifest_put(r->state, &sm);
	}
	for (size_t i = 0; i < m->nheads && rc == 0; i++) {
		kr_state_head sh = { 0 }, cur;
		if (!s_wanted(a->fx, m->heads[i].collection))
			continue; /* not held here: no head, so never reported missing or behind */
		strcpy(sh.publisher, a->hex);
		strcpy(sh.collection, m->heads[i].collection);
		kr_hex(sh.commit, m->heads[i].commit, KR_OID_LEN);
		sh.size = m->heads[i].size;
		sh.synced = kr_now();
		if (kr_state_head_get(r->state, a->hex, sh.collection, &cur) == 0 &&
		    strcmp(cur.commit, sh.commit) == 0 && cur.size == sh.size)
			continue;
		rc = kr_state_head_put(r->state, &sh);
	}
	for (size_t i = 0; i < a->nmoved && rc == 0; i++) {
		char commit_hex[KR_OID_HEX + 1];
		kr_hex(commit_hex, a->moved[i].h->commit, KR_OID_LEN);
		if (!a->moved[i].had_old || a->moved[i].seeded)
			rc = kr_state_items_drop(r->state, a->hex, a->moved[i].h->collection);
		/* rotation: the items now live under the new key, once */
		if (rc == 0 && a->moved[i].seeded)
			rc = kr_state_rotated_away(r->state, a->moved[i].pred, a->moved[i].h->collection);
		if (rc == 0)
			rc = s_record_changes(r, a->hex, &a->changes, a->moved[i].first_change,
			    a->moved[i].h->collection, commit_hex);
	}
	if (rc == 0)
		rc = kr_state_commit(r->state);
	else
		kr_state_rollback(r->state);
	a->res->ms_record = kr_monotonic_ms() - t;
	if (rc < 0)
		return rc;
	a->res->applied = 1;
	a->res->changed = a->nmoved;
	if (r->defer_maintenance) {
		struct kr_replica_applied *d;
		r->applied = kr_realloc(r->applied, (r->napplied + 1) * sizeof(*r->applied));
		d = &r->applied[r->napplied++];
		memcpy(d->pub, a->hex, sizeof(d->pub));
		d->bytes = kr_malloc(a->len ? a->len : 1);
		memcpy(d->bytes, a->bytes, a->len);
		d->len = a->len;
		d->colls = kr_calloc(a->nmoved ? a->nmoved : 1, sizeof(char *));
		for (size_t i = 0; i < a->nmoved; i++)
			d->colls[i] = kr_strdup(a->moved[i].h->collection);
		d->ncolls = a->nmoved;
		return 0;
	}
	s_applied_settle(r, a->hex, a->bytes, a->len, NULL, 0);
	for (size_t i = 0; i < a->nmoved; i++) {
		int packed;
		kr_store_maintain(r->store, a->hex, a->moved[i].h->collection, 0, &packed);
	}
	return 0;
}

/*
 * A refusal after the fetch: quarantined, remembered for this peer (the
 * same signed manifest is not fetched again), and the packs this apply
 * added are removed, so a hostile peer costs no disk.
 */
static void
s_apply_reject(s_apply *a)
{
	kr_replica *r = a->r;
	char *why = kr_strdup(kr_errmsg());

	s_quarantine(r, a->hex, a->fx->peer, a->failed_coll, (int64_t)a->m.seq, why);
	a->res->quarantined = 1;
	if (kr_state_begin(r->state) == 0) {
		if (kr_state_rejected_put(r->state, a->hex, a->fx->peer, a->digest, a->failed_coll, why) == 0)
			kr_state_commit(r->state);
		else
			kr_state_rollback(r->state);
	}
	for (size_t i = 0; i < a->nwritten; i++) {
		uint64_t bytes = 0;
		if (kr_store_drop_pack(r->store, a->hex, a->written[i].coll, a->written[i].name, &bytes) == 1) {
			a->res->packs_dropped++;
			a->res->bytes_dropped += bytes;
		}
	}
	kr_error(KR_EVERIFY, "%s", why);
	free(why);
}

/*
 * A ref moved between our fetch and our compare-and-swap: another worker
 * applied this publisher's manifest from another peer (one hub announcing
 * what a second peer relays). When what it recorded is this seq or newer,
 * ours is held already: ignored, not a failure. Otherwise the conflict
 * stands and the next beacon converges.
 */
static int
s_apply_raced(s_apply *a)
{
	kr_state_manifest now = { 0 };
	int held = kr_state_manifest_get(a->r->state, a->hex, &now) == 0 && now.seq >= a->m.seq;

	kr_state_manifest_clear(&now);
	if (!held)
		return KR_ECONFLICT;
	kr_error_clear();
	return 0;
}

int
kr_replica_apply(kr_replica *r, const void *signed_bytes, size_t len,
    const kr_fetcher *fx, kr_apply *res)
{
	s_apply a = { .r = r, .bytes = signed_bytes, .len = len, .fx = fx, .res = res };
	int rc;

	memset(res, 0, sizeof(*res));
	if ((rc = s_apply_peek(&a)) < 0)
		return rc;
	if (strcmp(a.hex, r->own) == 0)
		return s_apply_own(&a); /* we are the authority on our own state */
	if ((rc = s_apply_check(&a)) != 0) {
		rc = rc == 1 ? 0 : rc;
		goto done;
	}
	if ((rc = s_apply_remembered(&a)) < 0)
		goto done;
	rc = s_apply_fetch(&a);
	if (s_is_rejection(rc) && res->inlined) {
		/*
		 * Something the announcement's packs brought was refused: before
		 * the manifest is, its packs are fetched from the peer as they
		 * would have been (what fails then is the peer's answer).
		 */
		kr_error_clear();
		s_apply_undo(&a);
		a.fetch_only = 1;
		rc = s_apply_fetch(&a);
	}
	if (rc == 0) {
		rc = s_apply_record(&a);
		if (rc == KR_ECONFLICT)
			rc = s_apply_raced(&a);
	} else if (s_is_rejection(rc)) {
		s_apply_reject(&a);
	}
done:
	s_changes_free(&a.changes);
	free(a.moved);
	free(a.written);
	kr_manifest_clear(&a.m);
	return rc;
}

/* The signed manifest of our current heads, seq + 1, stored in the open transaction. */
static int
s_issue(kr_replica *r, uint64_t *seq)
{
	kr_state_manifest sm = { 0 };
	kr_state_head *heads;
	kr_manifest m = { 0 };
	kr_buf signed_bytes = KR_BUF_INIT;
	uint64_t state_seq, floor;
	size_t n;
	int rc;

	if ((rc = s_own_floor(r, &state_seq, &floor, NULL, 0, NULL)) < 0)
		return rc;
	if ((rc = kr_state_head_list(r->state, r->own, &heads, &n)) < 0)
		return rc;
	memcpy(m.publisher, kr_key_pub(r->key), KR_FPR_LEN);
	m.seq = floor + 1; /* never at or below a seq already signed, even if state.db forgot it */
	m.issued = kr_now();
	m.expires = m.issued + r->manifest_ttl;
	m.name = (char *)r->own_name;
	m.lg_code = (char *)r->own_code;
	m.heads = kr_calloc(n, sizeof(kr_head));
	m.nheads = n;
	for (size_t i = 0; i < n; i++) {
		snprintf(m.heads[i].collection, sizeof(m.heads[i].collection), "%s", heads[i].collection);
		kr_unhex(m.heads[i].commit, KR_OID_LEN, heads[i].commit);
		m.heads[i].size = heads[i].size;
	}
	/* Saved before the transaction commits, so the copy is never behind what peers saw. */
	if ((rc = kr_manifest_sign(&signed_bytes, &m, r->key)) == 0 &&
	    (rc = s_manifest_save(r, r->own, signed_bytes.ptr, signed_bytes.len)) == 0) {
		strcpy(sm.publisher, r->own);
		sm.seq = m.seq;
		sm.issued = m.issued;
		sm.expires = m.expires;
		sm.name = m.name;
		sm.lg_code = m.lg_code;
		sm.received = m.issued;
		sm.signed_bytes = signed_bytes;
		rc = kr_state_manifest_put(r->state, &sm);
	}
	if (seq)
		*seq = m.seq;
	free(m.heads);
	free(heads);
	kr_buf_release(&signed_bytes);
	return rc;
}

int
kr_replica_issue(kr_replica *r, uint64_t *seq)
{
	int rc;

	if ((rc = kr_state_begin(r->state)) < 0)
		return rc;
	if ((rc = s_issue(r, seq)) == 0)
		return kr_state_commit(r->state);
	kr_state_rollback(r->state);
	return rc;
}

/* ---- what a version means (publishing our own items) ------------------ */

/* Compares two semver strings (kr_item_check validated them); a pre-release sorts below its release. */
static int
s_semver_cmp(const char *a, const char *b)
{
	unsigned long x[3] = { 0 }, y[3] = { 0 };
	int na = 0, nb = 0;
	const char *pa, *pb;

	sscanf(a, "%lu.%lu.%lu%n", &x[0], &x[1], &x[2], &na);
	sscanf(b, "%lu.%lu.%lu%n", &y[0], &y[1], &y[2], &nb);
	for (int i = 0; i < 3; i++)
		if (x[i] != y[i])
			return x[i] < y[i] ? -1 : 1;
	pa = a + na;
	pb = b + nb;
	if (*pa != '-' && *pb != '-')
		return 0;
	if (*pa != '-' || *pb != '-')
		return *pa == '-' ? -1 : 1;
	return strcmp(pa, pb) < 0 ? -1 : strcmp(pa, pb) > 0;
}

/* The next patch version after v ("1.0.0" -> "1.0.1"); caller frees. */
static char *
s_next_patch(const char *v)
{
	unsigned long x[3] = { 0 };

	sscanf(v, "%lu.%lu.%lu", &x[0], &x[1], &x[2]);
	return kr_sprintf("%lu.%lu.%lu", x[0], x[1], x[2] + 1);
}

static int
s_newest_blob(const uint8_t commit[KR_OID_LEN], int64_t time, const uint8_t *blob, void *arg)
{
	(void)commit;
	(void)time;
	if (!blob)
		return 0;
	memcpy(arg, blob, KR_OID_LEN);
	return 1;
}

/*
 * The version of the item this node last published at coll/path, from
 * history (the path is not at the head: it was withdrawn). 0 and
 * *version (caller frees); KR_ENOTFOUND when the path never held one.
 */
static int
s_withdrawn_version(kr_replica *r, const char *coll, const char *path, char **version)
{
	uint8_t blob[KR_OID_LEN], none[KR_OID_LEN] = { 0 };
	kr_buf data = KR_BUF_INIT;
	kr_policy pol = { .lg_code = r->own_code, .rules = r->rules, .pii = r->pii };
	kr_findings junk = { 0 };
	kr_item it;
	int rc;

	*version = NULL;
	memset(blob, 0, sizeof(blob));
	if ((rc = kr_store_path_history(r->store, r->own, coll, path, s_newest_blob, blob)) < 0)
		return rc;
	if (memcmp(blob, none, KR_OID_LEN) == 0)
		return KR_ENOTFOUND;
	if ((rc = kr_store_read_blob(r->store, r->own, coll, blob, &data)) < 0)
		return rc;
	kr_item_check(&it, &pol, path, data.ptr, data.len, NULL, &junk);
	if (it.version) {
		*version = it.version;
		it.version = NULL;
	}
	kr_item_clear(&it);
	kr_findings_clear(&junk);
	kr_buf_release(&data);
	return *version ? 0 : KR_ENOTFOUND;
}

typedef struct {
	uint8_t (*v)[KR_OID_LEN];
	size_t n;
} s_history;

static int
s_history_add(const kr_commit_info *ci, void *arg)
{
	s_history *o = arg;

	o->v = kr_realloc(o->v, (o->n + 1) * sizeof(*o->v));
	memcpy(o->v[o->n++], ci->oid, KR_OID_LEN);
	return 0;
}

static int
s_removal(const char *path, const uint8_t *blob, void *arg)
{
	(void)path;
	if (!blob)
		*(int *)arg = 1;
	return 0;
}

/* settings key: this node's coll had no path removed up to (and including) the commit it names */
#define NO_REMOVAL_KEY "history-without-removal:"

/*
 * Whether no commit of our coll up to head ever removed a path (so no id
 * in it was ever withdrawn): 1 yes, 0 no, or an error. Remembered in
 * state settings against the head, moved on by every publish that
 * removes nothing, so the history is walked at most once (a home made
 * before, or a state.db rebuilt).
 */
static int
s_never_removed(kr_replica *r, const char *coll, const uint8_t head[KR_OID_LEN])
{
	char hex[KR_OID_HEX + 1], *key = kr_sprintf(NO_REMOVAL_KEY "%s", coll), *v;
	s_history o = { 0 };
	int found = 0, rc = 0;

	kr_hex(hex, head, KR_OID_LEN);
	if ((v = kr_state_setting(r->state, key))) {
		rc = strcmp(v, hex) == 0; /* another head: something was removed since */
		goto done;
	}
	if ((rc = kr_store_log(r->store, r->own, coll, 0, s_history_add, &o)) < 0)
		goto done;
	/* newest first, a linear history: each commit against the one before it */
	for (size_t i = 0; i + 1 < o.n && !found && rc == 0; i++)
		rc = kr_store_diff(r->store, r->own, coll, o.v[i + 1], o.v[i], s_removal, &found);
	if (rc == 0 && o.n && memcmp(o.v[0], head, KR_OID_LEN) != 0)
		found = 1; /* the log and the head disagree: assume the worst */
	if (rc == 0 && !found)
		rc = kr_state_setting_put(r->state, key, hex);
	if (rc == 0)
		rc = !found;
done:
	free(o.v);
	free(v);
	free(key);
	return rc;
}

/* This node's published version of id (caller frees), or NULL. */
static char *
s_published_version(kr_replica *r, const char *id)
{
	kr_state_item *v = NULL;
	size_t n = 0;
	char *version = NULL;

	if (kr_state_item_find(r->state, id, &v, &n) < 0) {
		kr_error_clear();
		return NULL;
	}
	for (size_t i = 0; i < n && !version; i++)
		if (strcmp(v[i].publisher, r->own) == 0 && v[i].version)
			version = kr_strdup(v[i].version);
	kr_state_items_free(v, n);
	return version;
}

/* A change of a dataset's data file (datasets/SLUG/data/...): its card's id, else NULL. */
static char *
s_data_card(const kr_replica *r, const s_change *ch)
{
	const char *p = ch->path + strlen("datasets/"), *slash;

	if (strcmp(ch->coll, "datasets") != 0 || strncmp(ch->path, "datasets/", 9) != 0 ||
	    !(slash = strchr(p, '/')) || strncmp(slash, "/data/", 6) != 0)
		return NULL;
	return kr_sprintf("%s/dataset/%.*s", r->own_code, (int)(slash - p), p);
}

/*
 * Checks what the changes c->v[from..] of our collection coll do to
 * versions (see kr_replica_publish); KR_EPOLICY names the item and the
 * version to use. A new id is looked up in history only when
 * may_be_withdrawn (the collection ever lost a path). Restored withdrawn
 * items are added to notices.
 */
static int
s_check_versions(kr_replica *r, const s_changes *c, size_t from, const char *coll, int may_be_withdrawn,
    kr_buf *notices)
{
	int rc = 0;

	for (size_t i = from; i < c->n && rc == 0; i++) {
		const s_change *ch = &c->v[i];
		const kr_item *it = &ch->item;
		char *pv = NULL, *next = NULL, *card;

		if (strcmp(ch->coll, coll) != 0 || ch->removed)
			continue;
		if (!it->id) {
			/* a data file is content of its dataset: a changed one needs a changed card version */
			int card_changed = 0;
			if (!(card = s_data_card(r, ch)))
				continue;
			for (size_t k = from; k < c->n && !card_changed; k++)
				card_changed = c->v[k].item.id && strcmp(c->v[k].item.id, card) == 0;
			if (!card_changed && (pv = s_published_version(r, card))) {
				next = s_next_patch(pv);
				rc = kr_error(KR_EPOLICY, "%s: %s changed but the dataset card still says version %s, "
				    "which is already published with other rows: bump the card to %s and add "
				    "version_notes (why the rows changed)", card, ch->path, pv, next);
			}
			free(card);
		} else if (it->version && (pv = s_published_version(r, it->id))) {
			int cmp = s_semver_cmp(it->version, pv);
			next = s_next_patch(pv);
			if (cmp == 0)
				rc = kr_error(KR_EPOLICY, "%s version %s is already published with different content: "
				    "bump to %s and add version_notes (why it changed)", it->id, pv, next);
			else if (cmp < 0)
				rc = kr_error(KR_EPOLICY, "%s version %s is below the published version %s: "
				    "a new version goes up (use %s and add version_notes)", it->id, it->version, pv, next);
			else if (!it->notes)
				rc = kr_error(KR_EPOLICY, "%s version %s replaces the published %s: add version_notes "
				    "(why it changed, 改訂理由)", it->id, it->version, pv);
		} else if (it->version && may_be_withdrawn) {
			int w = s_withdrawn_version(r, ch->coll, ch->path, &pv);
			if (w == KR_ENOTFOUND) {
				kr_error_clear(); /* never published before: a new item */
			} else if (w < 0) {
				rc = w;
			} else {
				next = s_next_patch(pv);
				if (s_semver_cmp(it->version, pv) <= 0)
					rc = kr_error(KR_EPOLICY, "%s was withdrawn at version %s: publishing it again "
					    "restores a withdrawn item and needs a new version (use %s and add "
					    "version_notes saying why it returns)", it->id, pv, next);
				else if (!it->notes)
					rc = kr_error(KR_EPOLICY, "%s was withdrawn at version %s: publishing %s restores "
					    "it; add version_notes saying why it returns", it->id, pv, it->version);
				else
					kr_buf_addf(notices, "%s: restores a withdrawn item (withdrawn at version %s, "
					    "now %s)\n", it->id, pv, it->version);
			}
		}
		free(pv);
		free(next);
	}
	return rc;
}

/* Adds a commit's pack to what the announcement carries, while all fit (KR_INLINE_PACKS, KR_INLINE_MAX). */
static void
s_inline_add(kr_inline *o, const char *coll, const uint8_t *base, const uint8_t want[KR_OID_LEN],
    const kr_buf *pack)
{
	size_t total = pack->len;
	kr_inline_pack *p;

	for (size_t i = 0; i < o->n; i++)
		total += o->v[i].pack.len;
	if (o->n == KR_INLINE_PACKS || total > KR_INLINE_MAX)
		return;
	o->v = kr_realloc(o->v, (o->n + 1) * sizeof(*o->v));
	p = &o->v[o->n++];
	memset(p, 0, sizeof(*p));
	snprintf(p->collection, sizeof(p->collection), "%s", coll);
	if ((p->has_base = base != NULL))
		memcpy(p->base, base, KR_OID_LEN);
	memcpy(p->want, want, KR_OID_LEN);
	p->pack = (kr_buf)KR_BUF_INIT;
	kr_buf_add(&p->pack, pack->ptr, pack->len);
}

int
kr_replica_publish(kr_replica *r, const kr_pubfile *files, size_t n,
    const char *message, kr_apply *res)
{
	typedef struct {
		const char *coll;
		int had_old;
		uint8_t old[KR_OID_LEN], newoid[KR_OID_LEN];
		uint64_t size;
		size_t first_change;
		int clean;              /* nothing was ever removed from it, nor is now */
		char pack[64];          /* the pack its commit wrote (dropped if the publish fails before its ref moves) */
		int ref_moved;
	} touched;
	touched *t = kr_calloc(n, sizeof(*t));
	kr_store_file *sf = kr_calloc(n, sizeof(*sf));
	s_changes changes = { 0 };
	size_t nt = 0, moved = 0;
	char email[64];
	int rc = 0;
	kr_buf notices = KR_BUF_INIT, pack = KR_BUF_INIT;

	memset(res, 0, sizeof(*res));
	strcpy(res->publisher, r->own);
	snprintf(email, sizeof(email), "%s@kairan.invalid", r->own_code);
	/* what we sign is on disk before the caller can announce it: objects and refs here, the manifest in s_issue */
	kr_store_durable(r->store, 1);
	{
		/* a saved manifest of ours that cannot be read stops it before any ref moves (s_issue reads it again) */
		uint64_t state_seq, floor;
		if ((rc = s_own_floor(r, &state_seq, &floor, NULL, 0, NULL)) < 0)
			goto done;
	}
	for (size_t i = 0; i < n; i++) {
		size_t j;
		for (j = 0; j < nt && strcmp(t[j].coll, files[i].collection) != 0; j++)
			;
		if (j == nt)
			t[nt++].coll = files[i].collection;
	}
	/* One signed commit per collection; refs stay put until all are written. */
	for (size_t j = 0; j < nt && rc == 0; j++) {
		size_t k = 0;
		int changed;
		kr_state_head sh;
		for (size_t i = 0; i < n; i++)
			if (strcmp(files[i].collection, t[j].coll) == 0)
				sf[k++] = (kr_store_file){ files[i].path, files[i].data, files[i].len };
		t[j].had_old = kr_store_head(r->store, r->own, t[j].coll, t[j].old) == 0;
		kr_error_clear();
		pack.len = 0;
		if ((rc = kr_store_commit(r->store, r->own, t[j].coll, sf, k, message, r->own_name,
		    email, r->key, t[j].newoid, &changed, r->inline_out ? &pack : NULL)) < 0)
			break;
		if (!changed) {
			t[j].coll = NULL;
			continue;
		}
		snprintf(t[j].pack, sizeof(t[j].pack), "%s", kr_store_last_pack(r->store));
		if (pack.len)
			s_inline_add(r->inline_out, t[j].coll, t[j].had_old ? t[j].old : NULL, t[j].newoid, &pack);
		t[j].size = kr_state_head_get(r->state, r->own, t[j].coll, &sh) == 0 && t[j].had_old ? sh.size : 0;
		{
			uint64_t add;
			if ((rc = kr_store_pack_bound(r->store, r->own, t[j].coll, t[j].had_old ? t[j].old : NULL,
			    t[j].newoid, &add)) < 0)
				break;
			t[j].size += add;
		}
		t[j].first_change = changes.n;
		if ((rc = s_index_range(r, r->own, t[j].coll, r->own_code, t[j].had_old ? t[j].old : NULL,
		    t[j].newoid, &changes)) < 0)
			break;
		t[j].clean = !t[j].had_old || (rc = s_never_removed(r, t[j].coll, t[j].old)) == 1;
		if (rc < 0 || (rc = s_check_versions(r, &changes, t[j].first_change, t[j].coll, !t[j].clean,
		    &notices)) < 0)
			break;
		for (size_t i = t[j].first_change; i < changes.n; i++)
			t[j].clean &= !changes.v[i].removed;
		moved++;
	}
	if (rc < 0 || moved == 0)
		goto done;
	for (size_t j = 0; j < nt && rc == 0; j++)
		if (t[j].coll && (rc = kr_store_cas(r->store, r->own, t[j].coll, t[j].had_old ? t[j].old : NULL,
		    t[j].newoid)) == 0)
			t[j].ref_moved = 1;
	if (rc < 0)
		goto done;
	if ((rc = kr_state_durable(r->state, 1)) < 0 || (rc = kr_state_begin(r->state)) < 0)
		goto done;
	for (size_t j = 0; j < nt && rc == 0; j++) {
		kr_state_head sh = { 0 };
		if (!t[j].coll)
			continue;
		strcpy(sh.publisher, r->own);
		snprintf(sh.collection, sizeof(sh.collection), "%s", t[j].coll);
		kr_hex(sh.commit, t[j].newoid, KR_OID_LEN);
		sh.size = t[j].size;
		sh.synced = kr_now();
		if ((rc = kr_state_head_put(r->state, &sh)) == 0)
			rc = s_record_changes(r, r->own, &changes, t[j].first_change, t[j].coll, sh.commit);
		if (rc == 0 && t[j].clean) {
			char *key = kr_sprintf(NO_REMOVAL_KEY "%s", t[j].coll);
			rc = kr_state_setting_put(r->state, key, sh.commit);
			free(key);
		}
	}
	if (rc == 0)
		rc = s_issue(r, &res->seq);
	if (rc == 0)
		rc = kr_state_commit(r->state);
	else
		kr_state_rollback(r->state);
	if (rc == 0) {
		res->applied = 1;
		res->changed = moved;
		for (size_t j = 0; j < nt; j++) {
			int packed;
			if (!t[j].coll)
				continue;
			if (r->defer_maintenance) {
				r->maint = kr_realloc(r->maint, (r->nmaint + 1) * sizeof(char *));
				r->maint[r->nmaint++] = kr_strdup(t[j].coll);
			} else {
				kr_store_maintain(r->store, r->own, t[j].coll, 0, &packed);
			}
		}
		for (const char *p = notices.ptr; r->notice && p && *p;) {
			const char *nl = strchr(p, '\n');
			char *line = kr_strndup(p, (size_t)(nl - p));
			r->notice(line, r->notice_arg);
			free(line);
			p = nl + 1;
		}
	}
done:
	if (r->inline_out && rc < 0)
		kr_inline_clear(r->inline_out);
	if (rc < 0) {
		/*
		 * Commits written for a publish that then failed (a refusal, most
		 * often) are reached by no ref, ever: their packs go, or each
		 * refusal left one for good (and more than 16 made every publish
		 * consolidate). kr_store_drop_pack keeps a pack the head needs.
		 */
		char *why = kr_strdup(kr_errmsg());
		for (size_t j = 0; j < nt; j++) {
			uint64_t bytes;
			if (t[j].coll && t[j].pack[0] && !t[j].ref_moved)
				kr_store_drop_pack(r->store, r->own, t[j].coll, t[j].pack, &bytes);
		}
		kr_error(rc, "%s", why);
		free(why);
	}
	kr_buf_release(&pack);
	kr_store_durable(r->store, 0);
	/* (after a failure the connection stays FULL, its error kept: later commits cost more, lose nothing) */
	if (rc == 0 && kr_state_durable(r->state, 0) < 0)
		kr_error_clear();
	kr_buf_release(&notices);
	s_changes_free(&changes);
	free(sf);
	free(t);
	return rc;
}

size_t
kr_replica_settle_copies(kr_replica *r)
{
	char **pubs = NULL;
	size_t npubs = 0, rewritten = 0;

	if (kr_store_publishers(r->store, &pubs, &npubs) < 0) {
		kr_error_clear();
		return 0;
	}
	for (size_t p = 0; p < npubs; p++) {
		kr_state_manifest man;
		const kr_buf *b = &man.signed_bytes;
		if (kr_state_manifest_get(r->state, pubs[p], &man) < 0) {
			kr_error_clear();
			continue;
		}
		if (strcmp(pubs[p], r->own) != 0) {
			/*
			 * manifests/PUB too (ours is written, durably, before its
			 * publish is announced), and the refs' copies, under the
			 * lock a worker or another process saves under
			 */
			int wrote = 0;
			if (s_manifest_save_x(r, pubs[p], b->ptr, b->len, &wrote) < 0)
				kr_error_clear();
			rewritten += wrote;
		} else if (s_manifest_refs(r, pubs[p], b->ptr, b->len) < 0) {
			kr_error_clear();
		}
		kr_state_manifest_clear(&man);
	}
	kr_strv_free(pubs, npubs);
	return rewritten;
}

void
kr_replica_maintain(kr_replica *r, int consolidate)
{
	for (size_t i = 0; i < r->napplied; i++) {
		struct kr_replica_applied *d = &r->applied[i];
		s_applied_settle(r, d->pub, d->bytes, d->len, d->colls, consolidate ? d->ncolls : 0);
	}
	s_applied_free(r);
	if (r->own_ref && s_manifest_refs(r, r->own, r->own_ref, r->own_ref_len) < 0)
		kr_error_clear(); /* as in s_manifest_save: written again with the next manifest */
	free(r->own_ref);
	r->own_ref = NULL;
	r->own_ref_len = 0;
	for (size_t i = 0; consolidate && i < r->nmaint; i++) {
		int packed;
		/* best effort, as after an immediate publish: the next publish or start tries again */
		if (kr_store_maintain(r->store, r->own, r->maint[i], 0, &packed) < 0)
			kr_error_clear();
	}
	kr_strv_free(r->maint, r->nmaint);
	r->maint = NULL;
	r->nmaint = 0;
}

/*
 * The key that continues pub's collections (DESIGN §6 rotation), or 0: the
 * successor named by the newest membership document, or this node's own
 * key when pub is one of its retired keys (keys/retired/PUB.ed25519,
 * kairan key rotate, also --now outside a federation).
 */
static int
s_successor(kr_replica *r, const char *pub, char out[KR_FPR_HEX + 1])
{
	const kr_membership *fed = kr_replica_federation(r);
	uint8_t key[KR_FPR_LEN];
	char *p;
	int own;

	if (kr_unhex(key, KR_FPR_LEN, pub) < 0)
		return 0;
	for (size_t i = 0; fed && i < fed->nrevoked; i++)
		if (fed->revoked[i].has_replacement && memcmp(fed->revoked[i].key, key, KR_FPR_LEN) == 0) {
			kr_hex(out, fed->revoked[i].replaced_by, KR_FPR_LEN);
			return 1;
		}
	p = kr_sprintf("%s/keys/retired/%s.ed25519", kr_store_home(r->store), pub);
	own = strcmp(pub, r->own) != 0 && access(p, F_OK) == 0;
	free(p);
	if (own)
		strcpy(out, r->own);
	return own;
}

/*
 * 1 when coll of pub continues under the key that replaced pub and that
 * key's collection is held here: the items live there, once, and pub is no
 * publisher of its own any more (a rebuilt state.db must not list it).
 */
static int
s_rotated_away(kr_replica *r, const char *pub, const char *coll)
{
	char succ[KR_FPR_HEX + 1];
	uint8_t ref[KR_OID_LEN];

	if (!s_successor(r, pub, succ))
		return 0;
	if (kr_store_head(r->store, succ, coll, ref) < 0) {
		kr_error_clear();
		return 0;
	}
	return 1;
}

/* kr_replica_reconcile over every publisher held here, or only this node's own (own_only). */
static int
s_reconcile(kr_replica *r, int own_only, void (*problem)(const char *msg, void *arg), void *arg, size_t *fixed)
{
	char **pubs = NULL;
	size_t npubs = 0;
	int rc = 0, own_moved = 0;

	*fixed = 0;
	if (own_only) {
		pubs = kr_calloc(1, sizeof(char *));
		pubs[npubs++] = kr_strdup(r->own);
	} else if ((rc = kr_store_publishers(r->store, &pubs, &npubs)) < 0) {
		return rc;
	}
	for (size_t p = 0; p < npubs && rc == 0; p++) {
		char **colls = NULL;
		size_t ncolls = 0;
		kr_state_manifest man;
		const char *code = NULL;
		int have_man = (rc = kr_state_manifest_get(r->state, pubs[p], &man)) == 0;

		if (rc < 0 && rc != KR_ENOTFOUND)
			break;
		kr_error_clear();
		code = strcmp(pubs[p], r->own) == 0 ? r->own_code : have_man ? man.lg_code : NULL;
		if ((rc = kr_store_collections(r->store, pubs[p], &colls, &ncolls)) < 0) {
			if (have_man)
				kr_state_manifest_clear(&man);
			break;
		}
		for (size_t c = 0; c < ncolls && rc == 0; c++) {
			uint8_t ref[KR_OID_LEN];
			kr_state_head sh;
			char refhex[KR_OID_HEX + 1];
			s_changes changes = { 0 };

			if (s_rotated_away(r, pubs[p], colls[c]))
				continue; /* continued under the new key: indexed there */
			kr_store_tidy(r->store, pubs[p], colls[c]);
			if (kr_store_head(r->store, pubs[p], colls[c], ref) < 0) {
				kr_error_clear();
				continue;
			}
			kr_hex(refhex, ref, KR_OID_LEN);
			if ((rc = kr_state_head_get(r->state, pubs[p], colls[c], &sh)) == 0 && strcmp(sh.commit, refhex) == 0)
				continue;
			if (rc < 0 && rc != KR_ENOTFOUND)
				break;
			rc = 0;
			/* The ref moved but the state did not follow (a crash between the two, or a new state.db). */
			if (!code || s_index_range(r, pubs[p], colls[c], code, NULL, ref, &changes) < 0) {
				if (problem) {
					char *msg = code ? kr_sprintf("%.16s…/%s: %s (not indexed)", pubs[p], colls[c], kr_errmsg())
					    : kr_sprintf(_("%.16s…/%s: no manifest of this publisher is held, so it is not "
					    "indexed until the next sync"), pubs[p], colls[c]);
					problem(msg, arg);
					free(msg);
				}
				s_changes_free(&changes);
				kr_error_clear();
				continue;
			}
			if ((rc = kr_state_begin(r->state)) == 0) {
				kr_state_head nh = { 0 };
				uint64_t bound = 0;
				strcpy(nh.publisher, pubs[p]);
				snprintf(nh.collection, sizeof(nh.collection), "%s", colls[c]);
				strcpy(nh.commit, refhex);
				kr_store_pack_bound(r->store, pubs[p], colls[c], NULL, ref, &bound);
				nh.size = bound;
				nh.synced = kr_now();
				rc = kr_state_items_drop(r->state, pubs[p], colls[c]);
				if (rc == 0)
					rc = kr_state_head_put(r->state, &nh);
				if (rc == 0)
					rc = s_record_changes(r, pubs[p], &changes, 0, colls[c], refhex);
				if (rc == 0)
					rc = kr_state_commit(r->state);
				else
					kr_state_rollback(r->state);
			}
			if (rc == 0) {
				(*fixed)++;
				if (strcmp(pubs[p], r->own) == 0)
					own_moved = 1;
			}
			s_changes_free(&changes);
		}
		kr_strv_free(colls, ncolls);
		if (have_man)
			kr_state_manifest_clear(&man);
	}
	kr_strv_free(pubs, npubs);
	if (rc == 0 && own_moved && r->key)
		rc = kr_replica_issue(r, NULL);
	return rc;
}

int
kr_replica_reconcile(kr_replica *r, void (*problem)(const char *msg, void *arg), void *arg, size_t *fixed)
{
	return s_reconcile(r, 0, problem, arg, fixed);
}

int
kr_replica_reconcile_own(kr_replica *r, size_t *fixed)
{
	return s_reconcile(r, 1, NULL, NULL, fixed);
}

int
kr_replica_reindex(kr_replica *r, void (*problem)(const char *msg, void *arg), void *arg,
    size_t *collections, size_t *items)
{
	char **pubs = NULL;
	size_t npubs = 0;
	int rc;

	*collections = *items = 0;
	if ((rc = kr_store_publishers(r->store, &pubs, &npubs)) < 0)
		return rc;
	for (size_t p = 0; p < npubs && rc == 0; p++) {
		char **colls = NULL;
		size_t ncolls = 0;
		kr_state_manifest man = { 0 };
		const char *code = r->own_code;

		if (strcmp(pubs[p], r->own) != 0) {
			if ((rc = kr_state_manifest_get(r->state, pubs[p], &man)) < 0 && rc != KR_ENOTFOUND)
				break;
			code = rc == 0 ? man.lg_code : NULL;
			rc = 0;
			kr_error_clear();
		}
		if ((rc = kr_store_collections(r->store, pubs[p], &colls, &ncolls)) < 0) {
			kr_state_manifest_clear(&man);
			break;
		}
		for (size_t c = 0; c < ncolls && rc == 0; c++) {
			uint8_t ref[KR_OID_LEN];
			char refhex[KR_OID_HEX + 1];
			s_changes changes = { 0 };

			if (!code || kr_store_head(r->store, pubs[p], colls[c], ref) < 0) {
				kr_error_clear();
				continue;
			}
			if (s_rotated_away(r, pubs[p], colls[c])) {
				/* continued under the new key: its items are listed there, once */
				if ((rc = kr_state_items_drop(r->state, pubs[p], colls[c])) < 0)
					break;
				continue;
			}
			{
				/* a compromised key's collection shows what was held at its `since`, or nothing */
				uint8_t at[KR_OID_LEN];
				int v = kr_replica_view_head(r, pubs[p], colls[c], at);
				if (v < 0) {
					rc = v;
					break;
				}
				if (v == 2) {
					if ((rc = kr_state_items_drop(r->state, pubs[p], colls[c])) < 0)
						break;
					continue;
				}
				if (v == 1)
					memcpy(ref, at, KR_OID_LEN);
			}
			kr_hex(refhex, ref, KR_OID_LEN);
			rc = s_index_range(r, pubs[p], colls[c], code, NULL, ref, &changes);
			if (rc == KR_EIO || rc == KR_ENOTFOUND) {
				/* an object that cannot be read is damage, not content to leave out */
				kr_error_prefix(rc, "%.16s…/%s", pubs[p], colls[c]);
				s_changes_free(&changes);
				break;
			}
			int ok = rc == 0;
			rc = 0;
			if (!ok && problem) {
				char *msg = kr_sprintf(_("%.16s…/%s: %s (its items are left out of the index)"),
				    pubs[p], colls[c], kr_errmsg());
				problem(msg, arg);
				free(msg);
			}
			if ((rc = kr_state_begin(r->state)) == 0) {
				rc = kr_state_items_drop(r->state, pubs[p], colls[c]);
				if (rc == 0 && ok)
					rc = s_record_changes(r, pubs[p], &changes, 0, colls[c], refhex);
				if (rc == 0)
					rc = kr_state_commit(r->state);
				else
					kr_state_rollback(r->state);
			}
			for (size_t i = 0; ok && rc == 0 && i < changes.n; i++)
				*items += changes.v[i].item.id != NULL;
			(*collections)++;
			s_changes_free(&changes);
		}
		kr_strv_free(colls, ncolls);
		kr_state_manifest_clear(&man);
	}
	kr_strv_free(pubs, npubs);
	return rc;
}

typedef struct {
	void (*problem)(const char *msg, void *arg);
	void *arg;
	const char *pub, *coll;
	char *repo;
} s_damage_ctx;

static void
s_damage_report(const uint8_t oid[KR_OID_LEN], const char *what, const char *why, void *arg)
{
	s_damage_ctx *x = arg;
	char hex[KR_OID_HEX + 1];
	char *msg;

	kr_hex(hex, oid, KR_OID_LEN);
	msg = kr_sprintf("%.16s…/%s: object %s (%s) is damaged: %s (in %s)", x->pub, x->coll, hex, what, why, x->repo);
	x->problem(msg, x->arg);
	free(msg);
}

/* Damaged object ids, collected (and reported through the inner context). */
typedef struct {
	uint8_t (*v)[KR_OID_LEN];
	size_t n;
	s_damage_ctx *inner;
} s_oids;

static void
s_damage_collect(const uint8_t oid[KR_OID_LEN], const char *what, const char *why, void *arg)
{
	s_oids *o = arg;

	o->v = kr_realloc(o->v, (o->n + 1) * KR_OID_LEN);
	memcpy(o->v[o->n++], oid, KR_OID_LEN);
	s_damage_report(oid, what, why, o->inner);
}

int
kr_replica_verify_all(kr_replica *r, int full, void (*problem)(const char *msg, void *arg),
    void *arg, size_t *checked, size_t *objects)
{
	char **pubs = NULL;
	size_t npubs = 0;
	int failures = 0, rc;

	*checked = 0;
	*objects = 0;
	if ((rc = kr_store_publishers(r->store, &pubs, &npubs)) < 0)
		return rc;
	for (size_t p = 0; p < npubs; p++) {
		char **colls = NULL;
		size_t ncolls = 0;
		uint8_t key[KR_FPR_LEN];
		kr_state_manifest man;
		kr_manifest m = { 0 };
		int have_man = (rc = kr_state_manifest_get(r->state, pubs[p], &man)) == 0;

		if (rc < 0 && rc != KR_ENOTFOUND) {
			kr_strv_free(pubs, npubs);
			return rc;
		}
		kr_error_clear();
		kr_unhex(key, KR_FPR_LEN, pubs[p]);
		if (have_man) {
			kr_signed s;
			if (kr_signed_decode(&s, man.signed_bytes.ptr, man.signed_bytes.len) < 0 ||
			    kr_signed_verify(key, KR_MANIFEST_TYPE, s.body.ptr, s.body.len, s.sig) < 0 ||
			    kr_manifest_decode(&m, s.body.ptr, s.body.len) < 0) {
				char *msg = kr_sprintf(_("%.16s…: stored manifest does not verify"), pubs[p]);
				problem(msg, arg);
				free(msg);
				failures++;
			}
			kr_signed_clear(&s);
		}
		kr_store_collections(r->store, pubs[p], &colls, &ncolls);
		for (size_t c = 0; c < ncolls; c++) {
			uint8_t ref[KR_OID_LEN];
			size_t n = 0;
			kr_state_head sh;
			char refhex[KR_OID_HEX + 1];

			if (kr_store_head(r->store, pubs[p], colls[c], ref) < 0)
				continue;
			(*checked)++;
			kr_hex(refhex, ref, KR_OID_LEN);
			if (full) {
				/* every object, before anything reads them through the checks below */
				s_damage_ctx x = { problem, arg, pubs[p], colls[c], kr_store_path(r->store, pubs[p], colls[c]) };
				size_t nobj = 0;
				int damaged = kr_store_verify_objects(r->store, pubs[p], colls[c], s_damage_report, &x, &nobj);
				*objects += nobj;
				free(x.repo);
				if (damaged < 0) {
					char *msg = kr_sprintf("%.16s…/%s: %s", pubs[p], colls[c], kr_errmsg());
					problem(msg, arg);
					free(msg);
					failures++;
					continue;
				}
				failures += damaged;
				if (damaged)
					continue;
			}
			if (kr_store_verify_range(r->store, pubs[p], colls[c], NULL, ref, key, &n) < 0) {
				char *msg = kr_sprintf("%.16s…/%s: %s", pubs[p], colls[c], kr_errmsg());
				problem(msg, arg);
				free(msg);
				failures++;
				continue;
			}
			if ((rc = kr_state_head_get(r->state, pubs[p], colls[c], &sh)) < 0 && rc != KR_ENOTFOUND) {
				char *msg = kr_sprintf("%.16s…/%s: %s", pubs[p], colls[c], kr_errmsg());
				problem(msg, arg);
				free(msg);
				failures++;
			} else if (rc < 0 || strcmp(sh.commit, refhex) != 0) {
				char *msg = kr_sprintf(_("%.16s…/%s: ref %s is not the recorded head "
				    "(restart the node or run kairan sync to reconcile)"), pubs[p], colls[c], refhex);
				problem(msg, arg);
				free(msg);
				failures++;
			}
			for (size_t i = 0; i < m.nheads; i++)
				if (strcmp(m.heads[i].collection, colls[c]) == 0 &&
				    memcmp(m.heads[i].commit, ref, KR_OID_LEN) != 0) {
					char *msg = kr_sprintf(_("%.16s…/%s: ref %s differs from the signed manifest's head"),
					    pubs[p], colls[c], refhex);
					problem(msg, arg);
					free(msg);
					failures++;
				}
		}
		kr_manifest_clear(&m);
		kr_strv_free(colls, ncolls);
		if (have_man)
			kr_state_manifest_clear(&man);
	}
	kr_strv_free(pubs, npubs);
	kr_error_clear();
	return failures;
}

/*
 * Whether a saved manifest of pub goes back into a new state.db, by the
 * receipt rules (DESIGN §6), not only the pins: 1 for a pinned publisher
 * or a member of the federation (stale or not: what is held stays), and
 * for a revoked key that was not replaced (what it published before stays
 * valid; kr_replica_revocations takes a compromised key's late items out of
 * the view again); 2 for a key rotated to a successor whose manifest is
 * saved here (not a publisher of its own any more); else 0.
 */
static int
s_restorable(kr_replica *r, const char *pub, const kr_manifest *m, int pinned)
{
	const kr_membership *fed = kr_replica_federation(r);
	char succ[KR_FPR_HEX + 1];
	int t;

	if (s_successor(r, pub, succ)) {
		char *p = s_manifest_path(r, succ);
		int held = access(p, F_OK) == 0;
		free(p);
		if (held)
			return 2;
	}
	if (pinned || !fed)
		return pinned;
	t = kr_manifest_trust(fed, m->publisher, m->lg_code, 0, kr_now());
	kr_error_clear();
	if (t == 1 || t == KR_MANIFEST_STALE)
		return 1;
	for (size_t i = 0; i < fed->nrevoked; i++)
		if (memcmp(fed->revoked[i].key, m->publisher, KR_FPR_LEN) == 0)
			return 1;
	return 0;
}

int
kr_replica_restore_manifests(kr_replica *r, void (*problem)(const char *msg, void *arg), void *arg,
    size_t *restored)
{
	char *dir = s_manifest_path(r, NULL);
	DIR *d = opendir(dir);
	struct dirent *e;
	int rc;

	*restored = 0;
	if (!d) {
		free(dir);
		return 0; /* nothing was ever saved */
	}
	if ((rc = kr_state_begin(r->state)) < 0) {
		closedir(d);
		free(dir);
		return rc;
	}
	while (rc == 0 && (e = readdir(d))) {
		kr_manifest m;
		kr_buf bytes = KR_BUF_INIT;
		kr_state_manifest sm = { 0 };
		int pinned;

		if (!kr_is_hex(e->d_name, KR_FPR_HEX))
			continue;
		if (s_manifest_load(r, e->d_name, &m, &bytes) < 0) {
			if (problem)
				problem(kr_errmsg(), arg);
			kr_error_clear();
			continue;
		}
		pinned = strcmp(e->d_name, r->own) == 0 ? 1 : kr_state_pinned(r->state, e->d_name);
		if (pinned >= 0 && strcmp(e->d_name, r->own) != 0)
			pinned = s_restorable(r, e->d_name, &m, pinned);
		if (pinned == 2) {
			/* a rotated-away key: its collections continue under the new key's manifest */
		} else if (pinned < 0) {
			rc = pinned;
		} else if (!pinned) {
			if (problem) {
				char *msg = kr_sprintf(_("%s/%s: publisher %.16s… is not followed; its manifest was not "
				    "restored"), dir, e->d_name, e->d_name);
				problem(msg, arg);
				free(msg);
			}
		} else {
			strcpy(sm.publisher, e->d_name);
			sm.seq = m.seq;
			sm.issued = m.issued;
			sm.expires = m.expires;
			sm.name = m.name;
			sm.lg_code = m.lg_code;
			sm.received = kr_now();
			sm.signed_bytes = bytes;
			if ((rc = kr_state_manifest_put(r->state, &sm)) == 0)
				(*restored)++;
		}
		kr_manifest_clear(&m);
		kr_buf_release(&bytes);
	}
	closedir(d);
	free(dir);
	if (rc == 0)
		return kr_state_commit(r->state);
	kr_state_rollback(r->state);
	return rc;
}

int
kr_replica_set_aside_damaged(kr_replica *r, void (*problem)(const char *msg, void *arg), void *arg,
    size_t *reset, size_t *objects)
{
	char **pubs = NULL;
	size_t npubs = 0;
	int left = 0, rc;

	*reset = *objects = 0;
	if ((rc = kr_store_publishers(r->store, &pubs, &npubs)) < 0)
		return rc;
	for (size_t p = 0; p < npubs && rc == 0; p++) {
		char **colls = NULL;
		size_t ncolls = 0;

		if ((rc = kr_store_collections(r->store, pubs[p], &colls, &ncolls)) < 0)
			break;
		for (size_t c = 0; c < ncolls && rc == 0; c++) {
			s_oids bad = { 0 };
			s_damage_ctx x = { problem, arg, pubs[p], colls[c], kr_store_path(r->store, pubs[p], colls[c]) };
			size_t nobj = 0;
			int damaged;

			bad.inner = &x;
			damaged = kr_store_verify_objects(r->store, pubs[p], colls[c], s_damage_collect, &bad, &nobj);
			*objects += nobj;
			if (damaged < 0) {
				rc = damaged;
			} else if (damaged > 0 && strcmp(pubs[p], r->own) == 0) {
				char *msg = kr_sprintf(_("%s: this node's own collection cannot be fetched back from peers: "
				    "restore it from a backup, or with git from a peer that mirrors it"), x.repo);
				problem(msg, arg);
				free(msg);
				left++;
			} else if (damaged > 0) {
				char *where = NULL;
				if ((rc = kr_store_set_aside(r->store, pubs[p], colls[c],
				    (const uint8_t (*)[KR_OID_LEN])bad.v, bad.n, &where)) == 0) {
					char *msg = kr_sprintf(_("%.16s…/%s: damaged packs moved to %s; the next kairan sync "
					    "(or the running node) fetches this collection again from a peer"), pubs[p],
					    colls[c], where);
					problem(msg, arg);
					free(msg);
					(*reset)++;
				}
				free(where);
			}
			free(bad.v);
			free(x.repo);
		}
		kr_strv_free(colls, ncolls);
	}
	kr_strv_free(pubs, npubs);
	return rc < 0 ? rc : left;
}

int
kr_replica_keep(kr_replica *r)
{
	char *path = s_manifest_path(r, r->own);
	kr_state_manifest cur;
	int rc = 0;

	if (access(path, F_OK) != 0 && (rc = kr_state_manifest_get(r->state, r->own, &cur)) == 0) {
		rc = s_manifest_save(r, r->own, cur.signed_bytes.ptr, cur.signed_bytes.len);
		kr_state_manifest_clear(&cur);
	} else if (rc == KR_ENOTFOUND) {
		kr_error_clear();
		rc = 0;
	}
	free(path);
	return rc;
}
