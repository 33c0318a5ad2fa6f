/*
 * node/board.c - the board's verdicts, consultations and adoptions as this
 * node holds them (see board.h)
 *
 * Sizes: one row per board item this node holds; a tally walks the
 * endorsements once per question, which is fine for the hundreds a
 * federation writes. The text read here was verified and checked when it
 * arrived (DESIGN §5); it is parsed again, never trusted further.
 */
#include "board.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../sharing/fedstore.h"

static const char *const s_kinds[] = { "endorsement", "consultation", "answer", "adoption" };

/* Earlier versions of the chain, for telling retired board members from others. */
static void
s_past(const kr_fedstore *f, kr_membership **out, size_t *n)
{
	*out = NULL;
	*n = 0;
	if (!f->have || f->cur.version < 2)
		return;
	*out = kr_calloc((size_t)f->cur.version - 1, sizeof(**out));
	for (uint64_t v = 1; v < f->cur.version; v++) {
		kr_buf b = KR_BUF_INIT;
		kr_signed_multi s = { 0 };
		if (kr_fedstore_get(f, v, &b) == 0 && kr_signed_multi_decode(&s, b.ptr, b.len) == 0 &&
		    kr_membership_decode(&(*out)[*n], s.body.ptr, s.body.len) == 0)
			(*n)++;
		kr_signed_multi_clear(&s);
		kr_buf_release(&b);
	}
}

int
kr_bview_load(kr_bview *bv, const char *home, kr_state *st, kr_store *store, const char *own_fpr)
{
	kr_fedstore fed;
	kr_membership *past = NULL;
	const kr_membership **pp = NULL;
	size_t npast = 0, cap = 0;
	char iso[32];
	int rc = 0;

	memset(bv, 0, sizeof(*bv));
	kr_time_iso(iso, kr_now());
	memcpy(bv->today, iso, 10);
	kr_time_iso(iso, kr_now() - (int64_t)KR_CONSULT_IDLE_DAYS * 86400);
	memcpy(bv->idle_before, iso, 10);
	if (kr_fedstore_open(&fed, home) < 0)
		return KR_EIO;
	if (fed.have) {
		bv->federated = 1;
		bv->threshold = fed.cur.threshold;
		bv->nboard = fed.cur.nboard;
		bv->fed_name = kr_strdup(fed.cur.name ? fed.cur.name : "");
		s_past(&fed, &past, &npast);
		pp = kr_calloc(npast + 1, sizeof(*pp));
		for (size_t i = 0; i < npast; i++)
			pp[i] = &past[i];
	}
	{
		uint8_t k[KR_FPR_LEN], canon[KR_FPR_LEN];
		bv->own_standing = fed.have && kr_unhex(k, KR_FPR_LEN, own_fpr) == 0 ?
		    kr_board_standing(&fed.cur, pp, npast, k, canon) : KR_BOARD_OUTSIDE;
	}
	for (size_t kind = 0; kind < 4 && rc == 0; kind++) {
		kr_item_filter f = { .kind = s_kinds[kind], .order = KR_LIST_ID, .limit = 1000000 };
		kr_item_row *rows = NULL;
		size_t nrows = 0, total = 0;
		if ((rc = kr_state_item_list(st, &f, &rows, &nrows, &total)) < 0)
			break;
		for (size_t i = 0; i < nrows; i++) {
			kr_item_row *row = &rows[i];
			kr_bview_item *x;
			kr_buf text = KR_BUF_INIT;
			uint8_t blob[KR_OID_LEN], key[KR_FPR_LEN];
			if (!row->blob || kr_unhex(blob, KR_OID_LEN, row->blob) < 0 ||
			    kr_store_read_blob(store, row->publisher, row->collection, blob, &text) < 0) {
				kr_buf_release(&text);
				kr_error_clear();
				continue;
			}
			if (bv->n == cap) {
				cap = cap ? cap * 2 : 32;
				bv->v = kr_realloc(bv->v, cap * sizeof(*bv->v));
			}
			x = &bv->v[bv->n];
			memset(x, 0, sizeof(*x));
			if (kr_board_parse(&x->r, text.ptr, text.len) < 0) {
				kr_buf_release(&text);
				kr_error_clear();
				continue;
			}
			kr_buf_release(&text);
			bv->n++;
			x->publisher = kr_strdup(row->publisher);
			x->collection = kr_strdup(row->collection);
			x->path = kr_strdup(row->path);
			x->blob = kr_strdup(row->blob);
			x->commit = kr_strdup(row->commit ? row->commit : "");
			x->order = kr_sprintf("%s %020lld", x->r.updated ? x->r.updated : "", (long long)row->synced);
			x->standing = KR_BOARD_OUTSIDE;
			memset(x->canon, 0, sizeof(x->canon));
			if (kr_unhex(key, KR_FPR_LEN, row->publisher) == 0) {
				memcpy(x->canon, key, KR_FPR_LEN);
				if (fed.have)
					x->standing = kr_board_standing(&fed.cur, pp, npast, key, x->canon);
			}
		}
		kr_item_rows_free(rows, nrows);
	}
	for (size_t i = 0; i < npast; i++)
		kr_membership_clear(&past[i]);
	free(past);
	free(pp);
	kr_fedstore_close(&fed);
	if (rc < 0)
		kr_bview_free(bv);
	return rc;
}

void
kr_bview_free(kr_bview *bv)
{
	for (size_t i = 0; i < bv->n; i++) {
		kr_bview_item *x = &bv->v[i];
		kr_board_rec_clear(&x->r);
		free(x->publisher); free(x->collection); free(x->path); free(x->blob); free(x->commit);
		free(x->order);
	}
	free(bv->v);
	free(bv->fed_name);
	memset(bv, 0, sizeof(*bv));
}

static int
s_is(const kr_bview_item *x, const char *kind)
{
	return x->r.kind && strcmp(x->r.kind, kind) == 0;
}

/* 期限切れ: an endorsement's review_by date (YYYY-MM-DD) is before today (KAIRAN_NOW for tests). */
static int
s_expired(const kr_bview *bv, const kr_bview_item *x)
{
	return x->r.review_by && *x->r.review_by && strcmp(x->r.review_by, bv->today) < 0;
}

void
kr_bview_verdict(const kr_bview *bv, const char *blob, kr_board_verdict *out,
    size_t **idx, size_t *nidx, kr_board_vote **votes)
{
	kr_board_vote *v = kr_calloc(bv->n + 1, sizeof(*v));
	size_t *ix = kr_calloc(bv->n + 1, sizeof(*ix)), n = 0;

	for (size_t i = 0; i < bv->n; i++) {
		const kr_bview_item *x = &bv->v[i];
		if (!s_is(x, "endorsement") || !x->r.target_blob || !blob || strcmp(x->r.target_blob, blob) != 0)
			continue;
		memcpy(v[n].canon, x->canon, KR_FPR_LEN);
		v[n].standing = x->standing;
		v[n].verdict = x->r.verdict;
		v[n].order = x->order;
		v[n].expired = s_expired(bv, x);
		ix[n++] = i;
	}
	kr_board_tally(v, n, bv->federated ? bv->threshold : 0, out);
	if (idx)
		*idx = ix;
	else
		free(ix);
	if (nidx)
		*nidx = n;
	if (votes)
		*votes = v;
	else
		free(v);
}

char *
kr_bview_badge(const kr_bview *bv, const char *blob)
{
	kr_board_verdict vd;

	kr_bview_verdict(bv, blob, &vd, NULL, NULL, NULL);
	if (!vd.verdict)
		return NULL;
	return kr_sprintf("ボード%s %zu/%u", vd.verdict, strcmp(vd.verdict, "注意") == 0 ? vd.caution : vd.positive,
	    vd.threshold);
}

int
kr_bview_held(const kr_bview *bv, const kr_policy_rules *rules, const char *kind, const char *blob)
{
	kr_board_verdict vd;

	if (!kind || !kr_policy_has(rules, "accept.require_endorsement", kind))
		return 0;
	kr_bview_verdict(bv, blob, &vd, NULL, NULL, NULL);
	return !vd.endorsed;
}

static int
s_status(const char *s)
{
	for (int i = 0; s && i < 3; i++)
		if (strcmp(s, kr_adopt_statuses[i]) == 0)
			return i;
	return -1;
}

size_t
kr_bview_adoptions(const kr_bview *bv, const char *item_id, size_t counts[3], size_t **idx)
{
	size_t *ix = kr_calloc(bv->n + 1, sizeof(*ix)), n = 0;

	counts[0] = counts[1] = counts[2] = 0;
	for (size_t i = 0; i < bv->n; i++) {
		const kr_bview_item *x = &bv->v[i];
		int later = 0;
		if (!s_is(x, "adoption") || !x->r.target_id || strcmp(x->r.target_id, item_id) != 0 ||
		    s_status(x->r.status) < 0)
			continue;
		/* one municipality, one report: its latest */
		for (size_t j = 0; j < bv->n && !later; j++) {
			const kr_bview_item *y = &bv->v[j];
			if (j != i && s_is(y, "adoption") && y->r.target_id && strcmp(y->r.target_id, item_id) == 0 &&
			    strcmp(y->publisher, x->publisher) == 0 && s_status(y->r.status) >= 0)
				later = strcmp(y->order, x->order) > 0 || (strcmp(y->order, x->order) == 0 && j > i);
		}
		if (later)
			continue;
		counts[s_status(x->r.status)]++;
		ix[n++] = i;
	}
	if (idx)
		*idx = ix;
	else
		free(ix);
	return n;
}

const kr_bview_item *
kr_bview_find(const kr_bview *bv, const char *kind, const char *id)
{
	for (size_t i = 0; id && i < bv->n; i++)
		if (s_is(&bv->v[i], kind) && bv->v[i].r.id && strcmp(bv->v[i].r.id, id) == 0)
			return &bv->v[i];
	return NULL;
}

static int
s_counts(int standing)
{
	return standing == KR_BOARD_SEAT || standing == KR_BOARD_RETIRED;
}

const char *
kr_bview_consult_state(const kr_bview *bv, const kr_bview_item *c, const kr_bview_item **accepted)
{
	int answers = 0, board_accepted = 0;
	const char *acc = NULL, *state, *last = c->r.updated ? c->r.updated : c->r.published;

	for (size_t i = 0; i < bv->n; i++) {
		const kr_bview_item *x = &bv->v[i];
		if (!s_is(x, "answer") || !x->r.consultation || strcmp(x->r.consultation, c->r.id) != 0 ||
		    !s_counts(x->standing))
			continue;
		if (x->r.accepted_answer) {
			board_accepted = 1;
			acc = x->r.accepted_answer;
		} else {
			answers++;
		}
		if (x->r.updated && (!last || strcmp(x->r.updated, last) > 0))
			last = x->r.updated;
	}
	state = kr_consult_state(c->r.state, answers, board_accepted,
	    last && strncmp(last, bv->idle_before, 10) < 0);
	if (strcmp(state, "解決") == 0 && c->r.accepted_answer)
		acc = c->r.accepted_answer; /* the asker's choice stands */
	if (accepted)
		*accepted = strcmp(state, "解決") == 0 ? kr_bview_find(bv, "answer", acc) : NULL;
	return state;
}

int
kr_bview_consult_open(const kr_bview *bv, const kr_bview_item *x, const char **state)
{
	const char *st;

	if (state)
		*state = NULL;
	if (!s_is(x, "consultation") || !x->r.id)
		return 0;
	st = kr_bview_consult_state(bv, x, NULL);
	if (state)
		*state = st;
	return strcmp(st, "受付") == 0 || strcmp(st, "回答済") == 0;
}

int
kr_bview_needs_review(const kr_bview *bv, const kr_bview_item *a)
{
	return a->r.review_by && strcmp(a->r.review_by, bv->today) < 0;
}

void
kr_bview_describe(const kr_bview *bv, const char *item_id, const char *blob, kr_buf *out)
{
	kr_board_verdict vd;
	kr_board_vote *votes = NULL;
	size_t *ix = NULL, n = 0, counts[3], *ax = NULL, na;

	kr_bview_verdict(bv, blob, &vd, &ix, &n, &votes);
	if (n) {
		kr_buf_addf(out, "ボードの推奨 (%zu件):\n", n);
		for (size_t i = 0; i < n; i++) {
			const kr_bview_item *x = &bv->v[ix[i]];
			kr_buf_addf(out, "  %s %s (%s) %s — %s%s%s\n", x->r.verdict ? x->r.verdict : "?",
			    x->r.pub_name ? x->r.pub_name : "?", x->r.lg_code ? x->r.lg_code : "?",
			    x->r.updated ? x->r.updated : "", kr_board_standing_name(x->standing),
			    votes[i].replaced ? "（同じ鍵の後の推奨で置き換え）" : "",
			    votes[i].expired && !votes[i].replaced ? "（期限切れ: 数えない）" : "");
			if (x->r.conditions)
				kr_buf_addf(out, "    条件: %s\n", x->r.conditions);
			if (x->r.comment)
				kr_buf_addf(out, "    コメント: %s\n", x->r.comment);
			if (x->r.review_by)
				kr_buf_addf(out, "    見直し期限: %s%s\n", x->r.review_by,
				    votes[i].expired ? "（期限切れ: 見直しの推奨があるまで判定に数えない）" : "");
		}
	}
	if (bv->federated)
		kr_buf_addf(out, "ボードの判定: %s（この版を推奨した委員 %zu人 / 必要 %u人）\n",
		    vd.verdict ? vd.verdict : "未推奨", vd.positive, vd.threshold);
	else if (n)
		kr_buf_adds(out, "ボードの判定: 未推奨（この node は連携のメンバー名簿を持っていません）\n");
	na = kr_bview_adoptions(bv, item_id, counts, &ax);
	if (na) {
		kr_buf_addf(out, "利用報告: 検討中 %zu、採用 %zu、不採用 %zu（%zu団体）\n", counts[0], counts[1], counts[2], na);
		for (size_t i = 0; i < na; i++) {
			const kr_bview_item *x = &bv->v[ax[i]];
			kr_buf_addf(out, "  %s %s (%s) 版 %s%s%s%s%s\n", x->r.status, x->r.pub_name ? x->r.pub_name : "?",
			    x->r.lg_code ? x->r.lg_code : "?", x->r.target_version ? x->r.target_version : "?",
			    x->r.note ? " — " : "", x->r.note ? x->r.note : "",
			    x->r.metrics ? " 指標: " : "", x->r.metrics ? x->r.metrics : "");
		}
	}
	free(ix);
	free(ax);
	free(votes);
}

/* ---- the board as a gate and a filter (kr_bgate) ------------------------- */

void
kr_bgate_init(kr_bgate *g, const char *home, kr_state *st, kr_store *store, const kr_policy_rules *rules)
{
	memset(g, 0, sizeof(*g));
	g->home = home;
	g->st = st;
	g->store = store;
	g->rules = rules;
}

const kr_bview *
kr_bgate_view(kr_bgate *g)
{
	if (g->failed)
		return NULL;
	if (!g->loaded) {
		if (kr_bview_load(&g->bv, g->home, g->st, g->store, "") < 0) {
			g->failed = 1;
			return NULL;
		}
		g->loaded = 1;
	}
	return &g->bv;
}

int
kr_bgate_required(const kr_bgate *g, const char *kind)
{
	return g->rules && kind && !kr_board_kind(kind) &&
	    kr_policy_has(g->rules, "accept.require_endorsement", kind);
}

int
kr_bgate_check(kr_bgate *g, const char *id, const char *version, const char *kind, const char *blob)
{
	const kr_bview *bv;
	kr_board_verdict vd;

	if (!kr_bgate_required(g, kind))
		return 0;
	if (!(bv = kr_bgate_view(g)))
		return KR_EIO;
	kr_bview_verdict(bv, blob, &vd, NULL, NULL, NULL);
	if (vd.endorsed)
		return 0;
	return kr_error(KR_EPOLICY, "%s（版 %s）はボードの推奨待ちのため表示・配布を控えています: このノードは %s を"
	    "ボードが推奨した版だけ使います（policy.accept.require_endorsement = %s）。この版を推奨した委員 %zu人 / "
	    "必要 %u人", id ? id : "?", version ? version : "?", kind, kr_policy_get(g->rules,
	    "accept.require_endorsement"), vd.positive, vd.threshold);
}

int
kr_bgate_keep(void *arg, int64_t n, const char *pub, const char *kind, const char *blob)
{
	kr_bgate *g = arg;
	const kr_bview *bv;
	kr_board_verdict vd;

	(void)n, (void)pub;
	/*
	 * Consultations and answers are knowledge to find; an endorsement or an
	 * adoption report is shown with the item it is about (badge, counts),
	 * so it is a hit of its own only when the search names a kind.
	 */
	if (kind && kr_board_kind(kind))
		return !g->only_endorsed && (g->kind_asked || strcmp(kind, "consultation") == 0 ||
		    strcmp(kind, "answer") == 0);
	if (!kr_bgate_required(g, kind) && !g->only_endorsed && !g->count)
		return 1;
	if (!(bv = kr_bgate_view(g))) {
		/* the board cannot be read: a required kind is held back (never shown unchecked) */
		kr_error_clear();
		if (kr_bgate_required(g, kind)) {
			g->held++;
			return 0;
		}
		return !g->only_endorsed;
	}
	if (g->indexed) {
		size_t lo = 0, hi = g->neb;
		vd.endorsed = g->none_ok;
		while (blob && lo < hi) {
			size_t mid = lo + (hi - lo) / 2;
			int cmp = strcmp(blob, g->eblob[mid]);
			if (cmp == 0) {
				vd.endorsed = g->eok[mid];
				break;
			}
			if (cmp < 0)
				hi = mid;
			else
				lo = mid + 1;
		}
	} else {
		kr_bview_verdict(bv, blob, &vd, NULL, NULL, NULL);
	}
	if (!vd.endorsed && kr_bgate_required(g, kind)) {
		g->held++;
		return 0;
	}
	if (g->only_endorsed && !vd.endorsed)
		return 0;
	if (vd.endorsed)
		g->endorsed++;
	else
		g->unendorsed++;
	return 1;
}

static int
s_strcmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void
kr_bgate_attach(kr_bgate *g, kr_search_q *q)
{
	const char *req = g->rules ? kr_policy_get(g->rules, "accept.require_endorsement") : NULL;
	const kr_bview *bv;
	kr_board_verdict vd;
	size_t n = 0;

	q->keep = kr_bgate_keep;
	q->keep_arg = g;
	q->keep_threads = 1;
	if (g->indexed || (!g->only_endorsed && !g->count && !(req && *req)))
		return;
	if (!(bv = kr_bgate_view(g))) {
		kr_error_clear();       /* failed: kr_bgate_keep holds back what it must, as without this */
		return;
	}
	g->eblob = kr_calloc(bv->n + 1, sizeof(char *));
	for (size_t i = 0; i < bv->n; i++)
		if (s_is(&bv->v[i], "endorsement") && bv->v[i].r.target_blob)
			g->eblob[n++] = bv->v[i].r.target_blob;
	qsort(g->eblob, n, sizeof(char *), s_strcmp);
	g->neb = 0;
	for (size_t i = 0; i < n; i++)
		if (g->neb == 0 || strcmp(g->eblob[g->neb - 1], g->eblob[i]) != 0)
			g->eblob[g->neb++] = g->eblob[i];
	g->eok = kr_calloc(g->neb + 1, 1);
	for (size_t i = 0; i < g->neb; i++) {
		kr_bview_verdict(bv, g->eblob[i], &vd, NULL, NULL, NULL);
		g->eok[i] = vd.endorsed != 0;
	}
	/* a blob no endorsement names: the verdict of no votes */
	kr_bview_verdict(bv, NULL, &vd, NULL, NULL, NULL);
	g->none_ok = vd.endorsed != 0;
	g->indexed = 1;
}

void
kr_bgate_free(kr_bgate *g)
{
	free(g->eblob);         /* the strings are the view's */
	free(g->eok);
	if (g->loaded)
		kr_bview_free(&g->bv);
	memset(g, 0, sizeof(*g));
}

int
kr_bgate_blob(kr_state *st, const char *id, const char *publisher, const char *version, char blob[KR_OID_HEX + 1])
{
	kr_state_item *it;
	size_t n;
	int found = 0;

	if (kr_state_item_find(st, id, &it, &n) < 0) {
		kr_error_clear();
		return 0;
	}
	for (size_t k = 0; k < n && !found; k++) {
		if (strcmp(it[k].publisher, publisher) != 0 || !it[k].blob ||
		    (version && (!it[k].version || strcmp(it[k].version, version) != 0)))
			continue;
		snprintf(blob, KR_OID_HEX + 1, "%s", it[k].blob);
		found = 1;
	}
	kr_state_items_free(it, n);
	return found;
}

void
kr_bview_json(const kr_bview *bv, const char *blob, kr_buf *out)
{
	kr_board_verdict vd;
	kr_board_vote *votes = NULL;
	size_t *ix = NULL, n = 0;
	char *badge;

	kr_bview_verdict(bv, blob, &vd, &ix, &n, &votes);
	badge = kr_bview_badge(bv, blob);
	kr_buf_adds(out, "{");
	kr_buf_addjson_kv(out, "label", "ボードの判定", 0);
	kr_buf_addjson_kv(out, "verdict", vd.verdict ? vd.verdict : "未推奨", 1);
	kr_buf_addjson_kv(out, "badge", badge, 1);
	kr_buf_addf(out, ",\"endorsed\":%s,\"positive\":%zu,\"caution\":%zu,\"threshold\":%u,\"federated\":%s",
	    vd.endorsed ? "true" : "false", vd.positive, vd.caution, vd.threshold, bv->federated ? "true" : "false");
	kr_buf_adds(out, ",\"endorsements\":[");
	for (size_t i = 0; i < n; i++) {
		const kr_bview_item *x = &bv->v[ix[i]];
		kr_buf_adds(out, i ? ",{" : "{");
		kr_buf_addjson_kv(out, "verdict", x->r.verdict, 0);
		kr_buf_addjson_kv(out, "by", x->r.pub_name, 1);
		kr_buf_addjson_kv(out, "lg_code", x->r.lg_code, 1);
		kr_buf_addjson_kv(out, "publisher", x->publisher, 1);
		kr_buf_addjson_kv(out, "standing", kr_board_standing_name(x->standing), 1);
		kr_buf_addjson_kv(out, "updated", x->r.updated, 1);
		kr_buf_addjson_kv(out, "review_by", x->r.review_by, 1);
		kr_buf_addjson_kv(out, "conditions", x->r.conditions, 1);
		/* the same words as show: 期限切れ, 置き換え, the standing */
		kr_buf_addjson_kv(out, "state", votes[i].replaced ? "同じ鍵の後の推奨で置き換え" :
		    votes[i].expired ? "期限切れ" : votes[i].counted ? "有効" : "数えない", 1);
		kr_buf_addf(out, ",\"expired\":%s,\"replaced\":%s,\"counted\":%s}", votes[i].expired ? "true" : "false",
		    votes[i].replaced ? "true" : "false", votes[i].counted ? "true" : "false");
	}
	kr_buf_adds(out, "]}");
	free(badge);
	free(ix);
	free(votes);
}

char **
kr_bgate_hits_json(kr_bgate *g, const kr_search_result *r)
{
	char **v = kr_calloc(r->nhits + 1, sizeof(char *));
	const kr_bview *bv = kr_bgate_view(g);

	if (!bv) {
		kr_error_clear();
		return v;
	}
	for (size_t i = 0; i < r->nhits; i++) {
		const kr_search_hit *h = &r->hits[i];
		char blob[KR_OID_HEX + 1];
		size_t counts[3], na;
		kr_buf b = KR_BUF_INIT;
		if (!h->id || !h->publisher || kr_board_kind(h->kind ? h->kind : "") ||
		    !kr_bgate_blob(g->st, h->id, h->publisher, h->version, blob))
			continue;
		kr_buf_adds(&b, "\"board\":");
		kr_bview_json(bv, blob, &b);
		na = kr_bview_adoptions(bv, h->id, counts, NULL);
		kr_buf_addf(&b, ",\"adoptions\":{\"検討中\":%zu,\"採用\":%zu,\"不採用\":%zu,\"municipalities\":%zu}",
		    counts[0], counts[1], counts[2], na);
		v[i] = kr_buf_detach(&b);
		kr_buf_release(&b);
	}
	return v;
}

char *
kr_bgate_summary_json(kr_bgate *g)
{
	kr_buf b = KR_BUF_INIT;
	char *out;

	kr_buf_addf(&b, "\"board\":{\"endorsed\":%zu,\"unendorsed\":%zu,\"held\":%zu", g->endorsed, g->unendorsed,
	    g->held);
	kr_buf_addjson_kv(&b, "require_endorsement", g->rules ? kr_policy_get(g->rules,
	    "accept.require_endorsement") : "", 1);
	kr_buf_adds(&b, "}");
	out = kr_buf_detach(&b);
	kr_buf_release(&b);
	return out;
}
