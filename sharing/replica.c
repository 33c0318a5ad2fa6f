/*
 * sharing/replica.c - applying, publishing and reconciling collections
 *
 * See replica.h for the order of writes. Item rows are derived from git:
 * s_index_range() walks the changed paths of a collection between two
 * commits, runs the same checks as publishing (policies/item.c), and
 * produces the rows; it is shared by publish, receipt and reconcile, so the
 * index can always be rebuilt from the repositories alone.
 */
#include "replica.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../policies/item.h"
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
} s_check_job;

/* Reads and checks each changed file of the job. */
static void *
s_check_run(void *arg)
{
	s_check_job *j = arg;
	kr_buf data = KR_BUF_INIT;
	size_t counted = 0, blocking = 0;

	for (size_t i = 0; i < j->n && j->rc == 0; i++) {
		s_change *c = &j->v[i];
		uint8_t blob[KR_OID_LEN];
		/* refused already: a tree of 100,000 bad paths costs 100 checks, not 100,000 */
		for (; counted < j->findings.n; counted++)
			blocking += j->findings.v[counted].block != 0;
		if (blocking > KR_FINDINGS_PER_FILE)
			break;
		if (c->removed)
			continue;
		kr_unhex(blob, KR_OID_LEN, c->blob);
		kr_buf_clear(&data);
		if ((j->rc = kr_store_read_blob(j->store, j->pub, c->coll, blob, &data)) < 0) {
			snprintf(j->err, sizeof(j->err), "%s", kr_errmsg());
			break;
		}
		kr_item_check_received(&c->item, j->pol, c->coll, c->path, data.ptr, data.len, &j->findings);
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
s_check_changes(kr_replica *r, const char *pub, const kr_policy *pol, s_change *v, size_t n,
    kr_findings *findings)
{
	s_check_job a = { .store = r->store, .pub = pub, .pol = pol, .v = v, .n = n };
	s_check_job b = { .pub = pub, .pol = pol };
	pthread_t t;
	int threaded = 0;

	if (n >= PARALLEL_CHECK && kr_store_open(&b.store, kr_store_home(r->store)) == 0) {
		a.n = n / 2;
		b.v = v + a.n;
		b.n = n - a.n;
		threaded = pthread_create(&t, NULL, s_check_run, &b) == 0;
		if (!threaded)
			a.n = n;
	}
	s_check_run(&a);
	if (threaded)
		pthread_join(t, NULL);
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
		rc = s_check_changes(r, pub, &x.pol, out->v + from, out->n - from, &x.findings);
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

/* Writes the item rows of changes made at commit (in the open transaction). */
static int
s_record_changes(kr_replica *r, const char *pub, const s_changes *c, size_t from,
    const char *coll, const char *commit_hex)
{
	int rc = 0;

	for (size_t i = from; i < c->n && rc == 0; i++) {
		const s_change *ch = &c->v[i];
		if (strcmp(ch->coll, coll) != 0)
			continue;
		if (ch->removed || !ch->item.id) {
			rc = kr_state_item_delete(r->state, pub, ch->coll, ch->path);
		} else {
			char pref[3] = "";
			kr_state_item it = {
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
				memcpy(pref, ch->item.lg_code, 2);
				it.pref = pref;
			}
			rc = kr_state_item_put(r->state, &it);
		}
	}
	return rc;
}

static int
s_trusted(const uint8_t pub[KR_FPR_LEN], void *arg)
{
	kr_replica *r = arg;
	char hex[KR_FPR_HEX + 1];

	kr_hex(hex, pub, KR_FPR_LEN);
	return kr_state_pinned(r->state, hex);
}

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
} s_moved;

int
kr_replica_apply(kr_replica *r, const void *signed_bytes, size_t len,
    const kr_fetcher *fx, kr_apply *res)
{
	kr_manifest m;
	kr_state_manifest prev;
	kr_signed prev_signed = { .body = KR_BUF_INIT };
	kr_manifest_prev pv, *pvp = NULL;
	uint8_t pub[KR_FPR_LEN];
	char hex[KR_FPR_HEX + 1];
	s_changes changes = { 0 };
	s_moved *moved = NULL;
	size_t nmoved = 0;
	const char *failed_coll = NULL;
	double t = 0;
	int rc, have_prev;

	memset(res, 0, sizeof(*res));
	memset(&prev, 0, sizeof(prev));
	memset(&m, 0, sizeof(m));
	/* Peek at the claimed publisher to find what we accepted before. */
	{
		kr_signed s;
		kr_manifest peek;
		if ((rc = kr_signed_decode(&s, signed_bytes, len)) < 0 ||
		    (rc = kr_manifest_decode(&peek, s.body.ptr, s.body.len)) < 0) {
			kr_signed_clear(&s);
			s_quarantine(r, NULL, fx->peer, NULL, 0, kr_errmsg());
			res->quarantined = 1;
			return KR_EPROTO;
		}
		kr_hex(hex, peek.publisher, KR_FPR_LEN);
		kr_manifest_clear(&peek);
		kr_signed_clear(&s);
	}
	strcpy(res->publisher, hex);
	if (strcmp(hex, r->own) == 0)
		return 0; /* we are the authority on our own state */
	have_prev = kr_state_manifest_get(r->state, hex, &prev) == 0;
	if (have_prev && kr_signed_decode(&prev_signed, prev.signed_bytes.ptr, prev.signed_bytes.len) == 0) {
		pv.seq = prev.seq;
		pv.body = prev_signed.body.ptr;
		pv.body_len = prev_signed.body.len;
		pvp = &pv;
	}
	rc = kr_manifest_check(&m, pub, signed_bytes, len, s_trusted, r, pvp, kr_now());
	if (rc == KR_MANIFEST_IGNORE) {
		rc = 0;
		goto done;
	}
	if (rc == KR_MANIFEST_REPLAY) {
		/* Recorded once per (publisher, peer, seq): a lagging relay must not flood. */
		char *why = kr_strdup(kr_errmsg());
		kr_state_quarantine *q;
		size_t nq;
		int seen = 0;
		if (kr_state_quarantine_list(r->state, 50, &q, &nq) == 0) {
			for (size_t i = 0; i < nq && !seen; i++)
				seen = q[i].publisher && strcmp(q[i].publisher, hex) == 0 && q[i].peer && fx->peer &&
				    strcmp(q[i].peer, fx->peer) == 0 && strcmp(q[i].reason, why) == 0;
			kr_state_quarantine_free(q, nq);
		}
		if (!seen)
			s_quarantine(r, hex, fx->peer, NULL, 0, why);
		kr_error(KR_EVERIFY, "%s", why);
		free(why);
		res->quarantined = 1;
		rc = KR_EVERIFY;
		goto done;
	}
	if (rc < 0) {
		s_quarantine(r, hex, fx->peer, NULL, 0, kr_errmsg());
		res->quarantined = 1;
		goto done;
	}
	res->seq = m.seq;
	{
		char right[7];
		if (kr_lgcode_check(m.lg_code, right) < 0) {
			rc = kr_error(KR_EVERIFY, "manifest of %.16s… seq %llu: lg_code %s", hex,
			    (unsigned long long)m.seq, kr_errmsg());
			s_quarantine(r, hex, fx->peer, NULL, (int64_t)m.seq, kr_errmsg());
			res->quarantined = 1;
			goto done;
		}
	}

	/* Fetch, verify and index every head that moved. */
	moved = kr_calloc(m.nheads, sizeof(*moved));
	for (size_t i = 0; i < m.nheads; i++) {
		const kr_head *h = &m.heads[i];
		s_moved *mv = &moved[nmoved];
		uint64_t cap = h->size < r->max_collection_bytes ? h->size : r->max_collection_bytes;
		kr_packin *in = NULL;
		uint64_t got = 0;
		size_t ncommits = 0;

		mv->h = h;
		mv->had_old = kr_store_head(r->store, hex, h->collection, mv->old) == 0;
		kr_error_clear();
		if (mv->had_old && memcmp(mv->old, h->commit, KR_OID_LEN) == 0)
			continue;
		failed_coll = h->collection;
		if (!kr_collection_valid(h->collection)) {
			rc = kr_error(KR_EPROTO, "bad collection name");
			goto rejected;
		}
		kr_store_tidy(r->store, hex, h->collection);
		if ((rc = kr_packin_new(&in, r->store, hex, h->collection)) < 0)
			goto done;
		t = kr_monotonic_ms();
		rc = fx->fetch(fx->arg, hex, h->collection, h->commit, mv->had_old ? mv->old : NULL, cap, in, &got);
		res->bytes += got;
		if (rc == 0)
			rc = kr_packin_commit(in);
		kr_packin_destroy(&in);
		res->ms_fetch += kr_monotonic_ms() - t;
		if (rc < 0) {
			kr_error_prefix(rc, "collection %s", h->collection);
			goto rejected;
		}
		t = kr_monotonic_ms();
		rc = kr_store_verify_range(r->store, hex, h->collection, mv->had_old ? mv->old : NULL,
		    h->commit, m.publisher, &ncommits);
		/* the diff below walks the new head's tree; the trees of commits before it, here */
		if (rc == 0 && ncommits > 1)
			rc = kr_store_check_trees(r->store, hex, h->collection, mv->had_old ? mv->old : NULL, h->commit);
		res->ms_verify += kr_monotonic_ms() - t;
		if (rc < 0) {
			kr_error_prefix(rc, "collection %s", h->collection);
			if (rc == KR_ENOTFOUND)
				rc = KR_EVERIFY;
			goto rejected;
		}
		mv->first_change = changes.n;
		t = kr_monotonic_ms();
		rc = s_index_range(r, hex, h->collection, m.lg_code, mv->had_old ? mv->old : NULL,
		    h->commit, &changes);
		res->ms_index += kr_monotonic_ms() - t;
		if (rc < 0) {
			kr_error_prefix(rc, "collection %s", h->collection);
			if (rc == KR_ENOTFOUND || rc == KR_EIO)
				rc = KR_EVERIFY;
			goto rejected;
		}
		nmoved++;
	}
	failed_coll = NULL;

	/* Every check passed: move the refs, then record. */
	t = kr_monotonic_ms();
	for (size_t i = 0; i < nmoved; i++) {
		if ((rc = kr_store_cas(r->store, hex, moved[i].h->collection,
		    moved[i].had_old ? moved[i].old : NULL, moved[i].h->commit)) < 0)
			goto done; /* someone else moved it: they verified it; reconcile converges */
	}
	if ((rc = kr_state_begin(r->state)) < 0)
		goto done;
	{
		kr_state_manifest sm = { 0 };
		strcpy(sm.publisher, hex);
		sm.seq = m.seq;
		sm.issued = m.issued;
		sm.expires = m.expires;
		sm.name = m.name;
		sm.lg_code = m.lg_code;
		sm.peer = (char *)fx->peer;
		sm.received = kr_now();
		sm.signed_bytes = (kr_buf){ (char *)signed_bytes, len, 0 };
		rc = kr_state_manifest_put(r->state, &sm);
	}
	for (size_t i = 0; i < m.nheads && rc == 0; i++) {
		kr_state_head sh = { 0 }, cur;
		strcpy(sh.publisher, hex);
		strcpy(sh.collection, m.heads[i].collection);
		kr_hex(sh.commit, m.heads[i].commit, KR_OID_LEN);
		sh.size = m.heads[i].size;
		sh.synced = kr_now();
		if (kr_state_head_get(r->state, hex, sh.collection, &cur) == 0 &&
		    strcmp(cur.commit, sh.commit) == 0 && cur.size == sh.size)
			continue;
		rc = kr_state_head_put(r->state, &sh);
	}
	for (size_t i = 0; i < nmoved && rc == 0; i++) {
		char commit_hex[KR_OID_HEX + 1];
		kr_hex(commit_hex, moved[i].h->commit, KR_OID_LEN);
		if (!moved[i].had_old)
			rc = kr_state_items_drop(r->state, hex, moved[i].h->collection);
		if (rc == 0)
			rc = s_record_changes(r, hex, &changes, moved[i].first_change,
			    moved[i].h->collection, commit_hex);
	}
	if (rc == 0)
		rc = kr_state_commit(r->state);
	else
		kr_state_rollback(r->state);
	res->ms_record = kr_monotonic_ms() - t;
	if (rc == 0) {
		res->applied = 1;
		res->changed = nmoved;
		for (size_t i = 0; i < nmoved; i++) {
			int packed;
			kr_store_maintain(r->store, hex, moved[i].h->collection, 0, &packed);
		}
	}
	goto done;

rejected:
	if (s_is_rejection(rc)) {
		char *why = kr_strdup(kr_errmsg());
		s_quarantine(r, hex, fx->peer, failed_coll, (int64_t)m.seq, why);
		free(why);
		res->quarantined = 1;
	}
done:
	s_changes_free(&changes);
	free(moved);
	kr_manifest_clear(&m);
	kr_signed_clear(&prev_signed);
	kr_state_manifest_clear(&prev);
	return rc;
}

/* The signed manifest of our current heads, seq + 1, stored in the open transaction. */
static int
s_issue(kr_replica *r, uint64_t *seq)
{
	kr_state_manifest cur = { 0 }, sm = { 0 };
	kr_state_head *heads;
	kr_manifest m = { 0 };
	kr_buf signed_bytes = KR_BUF_INIT;
	size_t n;
	int rc;

	if ((rc = kr_state_head_list(r->state, r->own, &heads, &n)) < 0)
		return rc;
	memcpy(m.publisher, kr_key_pub(r->key), KR_FPR_LEN);
	m.seq = kr_state_manifest_get(r->state, r->own, &cur) == 0 ? cur.seq + 1 : 1;
	kr_state_manifest_clear(&cur);
	kr_error_clear();
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
	if ((rc = kr_manifest_sign(&signed_bytes, &m, r->key)) == 0) {
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
	} touched;
	touched *t = kr_calloc(n, sizeof(*t));
	kr_store_file *sf = kr_calloc(n, sizeof(*sf));
	s_changes changes = { 0 };
	size_t nt = 0, moved = 0;
	char email[64];
	int rc = 0;

	memset(res, 0, sizeof(*res));
	strcpy(res->publisher, r->own);
	snprintf(email, sizeof(email), "%s@kairan.invalid", r->own_code);
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
		if ((rc = kr_store_commit(r->store, r->own, t[j].coll, sf, k, message, r->own_name,
		    email, r->key, t[j].newoid, &changed)) < 0)
			break;
		if (!changed) {
			t[j].coll = NULL;
			continue;
		}
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
		moved++;
	}
	if (rc < 0 || moved == 0)
		goto done;
	for (size_t j = 0; j < nt && rc == 0; j++)
		if (t[j].coll)
			rc = kr_store_cas(r->store, r->own, t[j].coll, t[j].had_old ? t[j].old : NULL, t[j].newoid);
	if (rc < 0)
		goto done;
	if ((rc = kr_state_begin(r->state)) < 0)
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
			if (t[j].coll)
				kr_store_maintain(r->store, r->own, t[j].coll, 1, &packed);
		}
	}
done:
	s_changes_free(&changes);
	free(sf);
	free(t);
	return rc;
}

int
kr_replica_reconcile(kr_replica *r, size_t *fixed)
{
	char **pubs = NULL;
	size_t npubs = 0;
	int rc, own_moved = 0;

	*fixed = 0;
	if ((rc = kr_store_publishers(r->store, &pubs, &npubs)) < 0)
		return rc;
	for (size_t p = 0; p < npubs && rc == 0; p++) {
		char **colls = NULL;
		size_t ncolls = 0;
		kr_state_manifest man;
		const char *code = NULL;
		int have_man = kr_state_manifest_get(r->state, pubs[p], &man) == 0;

		code = strcmp(pubs[p], r->own) == 0 ? r->own_code : have_man ? man.lg_code : NULL;
		if ((rc = kr_store_collections(r->store, pubs[p], &colls, &ncolls)) < 0)
			break;
		for (size_t c = 0; c < ncolls && rc == 0; c++) {
			uint8_t ref[KR_OID_LEN];
			kr_state_head sh;
			char refhex[KR_OID_HEX + 1];
			s_changes changes = { 0 };

			kr_store_tidy(r->store, pubs[p], colls[c]);
			if (kr_store_head(r->store, pubs[p], colls[c], ref) < 0) {
				kr_error_clear();
				continue;
			}
			kr_hex(refhex, ref, KR_OID_LEN);
			if (kr_state_head_get(r->state, pubs[p], colls[c], &sh) == 0 && strcmp(sh.commit, refhex) == 0)
				continue;
			/* The ref moved but the state did not follow (a crash between the two). */
			if (!code || s_index_range(r, pubs[p], colls[c], code, NULL, ref, &changes) < 0) {
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
		const char *code = strcmp(pubs[p], r->own) == 0 ? r->own_code :
		    kr_state_manifest_get(r->state, pubs[p], &man) == 0 ? man.lg_code : NULL;

		kr_store_collections(r->store, pubs[p], &colls, &ncolls);
		for (size_t c = 0; c < ncolls && rc == 0; c++) {
			uint8_t ref[KR_OID_LEN];
			char refhex[KR_OID_HEX + 1];
			s_changes changes = { 0 };

			if (!code || kr_store_head(r->store, pubs[p], colls[c], ref) < 0) {
				kr_error_clear();
				continue;
			}
			kr_hex(refhex, ref, KR_OID_LEN);
			int ok = s_index_range(r, pubs[p], colls[c], code, NULL, ref, &changes) == 0;
			if (!ok && problem) {
				char *msg = kr_sprintf("%.16s…/%s: %s (its items are left out of the index)",
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

int
kr_replica_verify_all(kr_replica *r, void (*problem)(const char *msg, void *arg),
    void *arg, size_t *checked)
{
	char **pubs = NULL;
	size_t npubs = 0;
	int failures = 0, rc;

	*checked = 0;
	if ((rc = kr_store_publishers(r->store, &pubs, &npubs)) < 0)
		return rc;
	for (size_t p = 0; p < npubs; p++) {
		char **colls = NULL;
		size_t ncolls = 0;
		uint8_t key[KR_FPR_LEN];
		kr_state_manifest man;
		kr_manifest m = { 0 };
		int have_man = kr_state_manifest_get(r->state, pubs[p], &man) == 0;

		kr_unhex(key, KR_FPR_LEN, pubs[p]);
		if (have_man) {
			kr_signed s;
			if (kr_signed_decode(&s, man.signed_bytes.ptr, man.signed_bytes.len) < 0 ||
			    kr_signed_verify(key, KR_MANIFEST_TYPE, s.body.ptr, s.body.len, s.sig) < 0 ||
			    kr_manifest_decode(&m, s.body.ptr, s.body.len) < 0) {
				char *msg = kr_sprintf("%.16s…: stored manifest does not verify", pubs[p]);
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
			if (kr_store_verify_range(r->store, pubs[p], colls[c], NULL, ref, key, &n) < 0) {
				char *msg = kr_sprintf("%.16s…/%s: %s", pubs[p], colls[c], kr_errmsg());
				problem(msg, arg);
				free(msg);
				failures++;
				continue;
			}
			if (kr_state_head_get(r->state, pubs[p], colls[c], &sh) < 0 || strcmp(sh.commit, refhex) != 0) {
				char *msg = kr_sprintf("%.16s…/%s: ref %s is not the recorded head "
				    "(restart the node or run kairan sync to reconcile)", pubs[p], colls[c], refhex);
				problem(msg, arg);
				free(msg);
				failures++;
			}
			for (size_t i = 0; i < m.nheads; i++)
				if (strcmp(m.heads[i].collection, colls[c]) == 0 &&
				    memcmp(m.heads[i].commit, ref, KR_OID_LEN) != 0) {
					char *msg = kr_sprintf("%.16s…/%s: ref %s differs from the signed manifest's head",
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
