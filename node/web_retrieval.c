/*
 * node/web_retrieval.c - Dify's External Knowledge API: POST /retrieval
 *
 * A town's own Dify uses this node's search as a knowledge base without
 * copying anything. Dify sends
 *   Authorization: Bearer KEY        (keys: web.retrieval_keys in the config)
 *   {"knowledge_id", "query", "retrieval_setting": {"top_k", "score_threshold"},
 *    "metadata_condition"?: {"logical_operator", "conditions": [{name, comparison_operator, value}]}}
 * and reads {"records": [{"content", "score", "title", "metadata": {…}}]}.
 * Errors are Dify's: 403 with error_code 1001 (the header is not "Bearer
 * KEY") or 1002 (the key is not accepted), 404 with 2001 (no such
 * knowledge_id); a body that is not such a request is a 400 with 1003.
 * When Dify registers the endpoint it POSTs with the key and no body:
 * that is the 400, which Dify accepts (it refuses only 403, 404 and 502).
 *
 * knowledge_id picks a scope: "all"; a kind (case, guideline, prompt,
 * dataset, consultation); a publisher's 6-digit lg_code; or "endorsed".
 *
 * Matching: Dify sends the user's question as it was typed, so the query
 * is not ANDed as in kairan search: its tokens (the same bigrams the index
 * uses) are ORed and candidates come from the FTS index by bm25: items
 * and Q&A rows alike (the replica indexes each row as DATASET-ID#ROW), a
 * row coming back as a record of its own (the row's text, its own URL
 * /items/DATASET-ID/rows/ROW, its dataset's 出典), so rows never take an
 * item's result slot and are never dropped. Each candidate's score is the
 * share of the query's distinct tokens it contains (1 for one in its
 * title or question, 0.7 for one only in the body or answer), so 0–1 and
 * comparable across items and rows; score_threshold and top_k apply to it.
 * Every record names its 出典 in metadata.
 *
 * Runs on the web threads (node/web.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../sharing/text.h"
#include "board.h"
#include "html.h"
#include "webdata.h"
#include "../sharing/json.h"

#define MAX_TOKENS 64
#define MAX_TOP_K 100
#define MAX_CANDIDATES 3000
#define CONTENT_MAX 4000

typedef struct {
	char *name[4];                 /* one or more metadata names */
	size_t nnames;
	char op[16];
	char *value[16];               /* string value(s) */
	size_t nvalues;
	int has_value;
} s_cond;

typedef struct {
	char *knowledge_id, *query;
	long top_k;
	double threshold;
	int have_top_k, have_query, have_kid;
	int or_op;
	s_cond conds[16];
	size_t nconds;
	int bad;                       /* a field of the wrong type */
} s_request;

typedef struct {
	double score, rank;
	kr_buf title, content, meta;   /* meta: the metadata object's members, JSON */
	char *metakv[16][2];           /* the same, as strings, for conditions */
	size_t nkv;
} s_record;

typedef struct {
	char *v[MAX_TOKENS];
	size_t n;
} s_tokens;

/* ---- the request ------------------------------------------------------------- */

static int
s_cond_index(const char *path, const char **rest)
{
	/* metadata_condition.conditions[N].field */
	const char *p = path + strlen("metadata_condition.conditions[");
	char *end;
	long n = strtol(p, &end, 10);

	if (end == p || *end != ']' || n < 0 || n >= 16)
		return -1;
	*rest = end + 1;
	return (int)n;
}

static int
s_req_field(void *arg, const char *path, const char *value, int type)
{
	s_request *q = arg;

	if (strcmp(path, "knowledge_id") == 0) {
		q->bad |= type != KR_JSON_STRING;
		free(q->knowledge_id);
		q->knowledge_id = kr_strdup(value);
		q->have_kid = 1;
	} else if (strcmp(path, "query") == 0) {
		q->bad |= type != KR_JSON_STRING;
		free(q->query);
		q->query = kr_strdup(value);
		q->have_query = 1;
	} else if (strcmp(path, "retrieval_setting.top_k") == 0) {
		q->bad |= type != KR_JSON_NUMBER;
		q->top_k = strtol(value, NULL, 10);
		q->have_top_k = 1;
	} else if (strcmp(path, "retrieval_setting.score_threshold") == 0) {
		q->bad |= type != KR_JSON_NUMBER && type != KR_JSON_NULL;
		q->threshold = type == KR_JSON_NUMBER ? strtod(value, NULL) : 0;
	} else if (strcmp(path, "metadata_condition.logical_operator") == 0) {
		q->or_op = strcmp(value, "or") == 0;
	} else if (strncmp(path, "metadata_condition.conditions[", 30) == 0) {
		const char *rest;
		int i = s_cond_index(path, &rest);
		s_cond *c;
		if (i < 0)
			return 0;
		if ((size_t)i >= q->nconds)
			q->nconds = (size_t)i + 1;
		c = &q->conds[i];
		if (strncmp(rest, ".name", 5) == 0 && c->nnames < 4) {
			c->name[c->nnames++] = kr_strdup(value);
		} else if (strcmp(rest, ".comparison_operator") == 0) {
			snprintf(c->op, sizeof(c->op), "%s", value);
		} else if (strncmp(rest, ".value", 6) == 0 && type != KR_JSON_NULL && c->nvalues < 16) {
			c->value[c->nvalues++] = kr_strdup(value);
			c->has_value = 1;
		}
	}
	return 0;
}

static void
s_request_free(s_request *q)
{
	free(q->knowledge_id);
	free(q->query);
	for (size_t i = 0; i < 16; i++) {
		for (size_t k = 0; k < q->conds[i].nnames; k++)
			free(q->conds[i].name[k]);
		for (size_t k = 0; k < q->conds[i].nvalues; k++)
			free(q->conds[i].value[k]);
	}
}

static void
s_error(kr_web_resp *out, int status, int code, const char *msg)
{
	out->status = status;
	out->type = "application/json; charset=utf-8";
	kr_buf_clear(&out->body);
	kr_buf_addf(&out->body, "{\"error_code\":%d,\"error_msg\":", code);
	kr_buf_addjson(&out->body, msg);
	kr_buf_adds(&out->body, "}\n");
}

/* Compares in time independent of where two strings first differ. */
static int
s_key_equal(const char *a, size_t alen, const char *b, size_t blen)
{
	unsigned char d = alen != blen;

	for (size_t i = 0; i < alen; i++)
		d |= (unsigned char)(a[i] ^ b[i < blen ? i : 0]);
	return blen > 0 && d == 0;
}

static int
s_key_allowed(const char *keys, const char *key)
{
	const char *p = keys;
	size_t klen = strlen(key);
	int ok = 0;

	while (p && *p) {
		size_t l;
		p += strspn(p, " \t,");
		l = strcspn(p, " \t,");
		if (l)
			ok |= s_key_equal(key, klen, p, l);
		p += l;
	}
	return ok;
}

/* ---- matching ------------------------------------------------------------------- */

static int
s_token(void *ctx, int colocated, const char *tok, int len, int start, int end)
{
	s_tokens *t = ctx;

	(void)colocated;
	(void)start;
	(void)end;
	if (len <= 0 || (len == 1 && tok[0] == '\x1f') || t->n == MAX_TOKENS)
		return 0;
	for (size_t i = 0; i < t->n; i++)
		if (strlen(t->v[i]) == (size_t)len && memcmp(t->v[i], tok, (size_t)len) == 0)
			return 0;
	t->v[t->n++] = kr_strndup(tok, (size_t)len);
	return 0;
}

/* Share of the query tokens in head (weight 1) or else in rest (0.7). */
static double
s_coverage(const s_tokens *t, const char *head, const char *rest)
{
	kr_buf h = KR_BUF_INIT, r = KR_BUF_INIT;
	double sum = 0;

	if (t->n == 0)
		return 0;
	kr_text_normalize(&h, head ? head : "", head ? strlen(head) : 0);
	kr_text_normalize(&r, rest ? rest : "", rest ? strlen(rest) : 0);
	for (size_t i = 0; i < t->n; i++)
		sum += strstr(h.ptr, t->v[i]) ? 1.0 : strstr(r.ptr, t->v[i]) ? 0.7 : 0;
	kr_buf_release(&h);
	kr_buf_release(&r);
	return sum / (double)t->n;
}

/* At most max bytes of s, cut at a character boundary. */
static void
s_add_capped(kr_buf *b, const char *s, size_t len, size_t max)
{
	if (len > max) {
		len = max;
		while (len > 0 && ((unsigned char)s[len] & 0xC0) == 0x80)
			len--;
	}
	kr_buf_add(b, s, len);
}

static void
s_meta(s_record *rec, const char *key, const char *value)
{
	if (!value || rec->nkv == 16)
		return;
	if (rec->meta.len)
		kr_buf_addch(&rec->meta, ',');
	kr_buf_addjson(&rec->meta, key);
	kr_buf_addch(&rec->meta, ':');
	kr_buf_addjson(&rec->meta, value);
	rec->metakv[rec->nkv][0] = kr_strdup(key);
	rec->metakv[rec->nkv][1] = kr_strdup(value);
	rec->nkv++;
}

static void
s_record_free(s_record *rec)
{
	kr_buf_release(&rec->title);
	kr_buf_release(&rec->content);
	kr_buf_release(&rec->meta);
	for (size_t i = 0; i < rec->nkv; i++) {
		free(rec->metakv[i][0]);
		free(rec->metakv[i][1]);
	}
}

static const char *
s_meta_get(const s_record *rec, const char *key)
{
	for (size_t i = 0; i < rec->nkv; i++)
		if (strcmp(rec->metakv[i][0], key) == 0)
			return rec->metakv[i][1];
	return NULL;
}

/* One condition of metadata_condition against a record (Dify's operators). */
static int
s_cond_match(const s_cond *c, const s_record *rec)
{
	for (size_t k = 0; k < c->nnames; k++) {
		const char *v = s_meta_get(rec, c->name[k]), *want = c->nvalues ? c->value[0] : "";
		const char *op = c->op;
		size_t vl = v ? strlen(v) : 0, wl = strlen(want);
		int hit = 0;
		if (strcmp(op, "empty") == 0)
			hit = !v || !*v;
		else if (strcmp(op, "not empty") == 0)
			hit = v && *v;
		else if (!v)
			hit = strcmp(op, "not contains") == 0 || strcmp(op, "is not") == 0 || strcmp(op, "not in") == 0 ||
			    strcmp(op, "≠") == 0;
		else if (strcmp(op, "contains") == 0)
			hit = strstr(v, want) != NULL;
		else if (strcmp(op, "not contains") == 0)
			hit = strstr(v, want) == NULL;
		else if (strcmp(op, "start with") == 0)
			hit = strncmp(v, want, wl) == 0;
		else if (strcmp(op, "end with") == 0)
			hit = vl >= wl && strcmp(v + vl - wl, want) == 0;
		else if (strcmp(op, "is") == 0)
			hit = strcmp(v, want) == 0;
		else if (strcmp(op, "is not") == 0)
			hit = strcmp(v, want) != 0;
		else if (strcmp(op, "in") == 0 || strcmp(op, "not in") == 0) {
			for (size_t i = 0; i < c->nvalues; i++)
				hit |= strcmp(v, c->value[i]) == 0;
			if (strcmp(op, "not in") == 0)
				hit = !hit;
		} else if (strcmp(op, "before") == 0)
			hit = strcmp(v, want) < 0;
		else if (strcmp(op, "after") == 0)
			hit = strcmp(v, want) > 0;
		else {
			char *e1, *e2;
			double a = strtod(v, &e1), b = strtod(want, &e2);
			if (e1 == v || e2 == want)
				hit = 0;
			else if (strcmp(op, "=") == 0)
				hit = a == b;
			else if (strcmp(op, "≠") == 0)
				hit = a != b;
			else if (strcmp(op, ">") == 0)
				hit = a > b;
			else if (strcmp(op, "<") == 0)
				hit = a < b;
			else if (strcmp(op, "≥") == 0)
				hit = a >= b;
			else if (strcmp(op, "≤") == 0)
				hit = a <= b;
		}
		if (hit)
			return 1;
	}
	return 0;
}

static int
s_conds_match(const s_request *q, const s_record *rec)
{
	int any = 0, all = 1;

	if (q->nconds == 0)
		return 1;
	for (size_t i = 0; i < q->nconds; i++) {
		int m = s_cond_match(&q->conds[i], rec);
		any |= m;
		all &= m;
	}
	return q->or_op ? any : all;
}

typedef struct {
	s_record *v;
	size_t n;
} s_records;

static s_record *
s_records_add(s_records *rs)
{
	s_record *rec;

	rs->v = kr_realloc(rs->v, (rs->n + 1) * sizeof(s_record));
	rec = &rs->v[rs->n++];
	memset(rec, 0, sizeof(*rec));
	rec->title = rec->content = rec->meta = (kr_buf)KR_BUF_INIT;
	return rec;
}

static int
s_record_cmp(const void *a, const void *b)
{
	const s_record *x = a, *y = b;

	if (x->score != y->score)
		return x->score < y->score ? 1 : -1;
	return x->rank < y->rank ? -1 : x->rank > y->rank;
}

/*
 * A dataset row the index found (DATASET-ID#ROW, indexed by the replica
 * with its question, answer, alternates and keywords) as a record of its
 * own: content the row's text, its own URL, its dataset's 出典. A row that
 * can no longer be read is left out (and logged by nothing: the index
 * catches up with the next replication).
 */
static void
s_row_record(kr_web_ctx *c, const kr_web_req *r, const s_tokens *t, const char *id, double rank,
    kr_web_rowfile *file, s_records *rs)
{
	kr_web_row x;
	kr_buf head = KR_BUF_INIT, rest = KR_BUF_INIT, url = KR_BUF_INIT;
	s_record *rec;
	char *attr;

	if (kr_web_row_load(c, id, file, &x) < 0) {
		kr_error_clear();
		return;
	}
	kr_buf_addf(&head, "%s\n%s\n%s", x.question, x.alt_questions, x.keywords);
	kr_buf_addf(&rest, "%s\n%s", x.answer, x.category ? x.category : "");
	attr = kr_web_attribution(x.ds.fm, x.ds.it->pub_name ? x.ds.it->pub_name : x.ds.it->publisher, 0);
	rec = s_records_add(rs);
	rec->score = s_coverage(t, head.ptr, rest.ptr);
	rec->rank = rank;
	kr_buf_addf(&rec->title, "%s（%s）", x.ds.it->title, x.row_id);
	kr_buf_addf(&rec->content, "Q: %s\nA: %s", x.question, x.answer);
	kr_web_item_url(&url, r->base, id);
	s_meta(rec, "id", id);
	s_meta(rec, "kind", "dataset_row");
	s_meta(rec, "dataset", x.ds.it->id);
	s_meta(rec, "row_id", x.row_id);
	s_meta(rec, "publisher", x.ds.it->pub_name ? x.ds.it->pub_name : "");
	s_meta(rec, "lg_code", x.ds.it->pub_code ? x.ds.it->pub_code : "");
	s_meta(rec, "version", x.ds.it->version);
	s_meta(rec, "updated", x.updated ? x.updated : x.ds.it->updated ? x.ds.it->updated : "");
	s_meta(rec, "category", x.category ? x.category : "");
	s_meta(rec, "url", url.ptr);
	s_meta(rec, "出典", attr);
	free(attr);
	kr_buf_release(&head);
	kr_buf_release(&rest);
	kr_buf_release(&url);
	kr_web_row_free(&x);
}

/*
 * Items and dataset rows found by the index, through the board's gate g
 * (policy.accept.require_endorsement; only endorsed ones for knowledge
 * "endorsed"); each item with the board's verdict in metadata.
 */
static int
s_items(kr_web_ctx *c, const kr_web_req *r, const s_tokens *t, const char *kind, const char *publisher,
    size_t limit, kr_bgate *g, s_records *rs, size_t *total)
{
	kr_buf match = KR_BUF_INIT;
	kr_search_q sq = { .kind = kind, .publisher = publisher, .limit = limit, .rows_all = 1 };
	kr_search_result res;
	kr_web_rowfile file = { NULL, KR_BUF_INIT };
	const kr_bview *bv;
	int rc;

	kr_bgate_attach(g, &sq);
	g->kind_asked = kind != NULL;

	for (size_t i = 0; i < t->n; i++) {
		if (i)
			kr_buf_adds(&match, " OR ");
		kr_buf_addquoted(&match, t->v[i]);
	}
	sq.match = match.ptr;
	if ((rc = kr_state_search(c->state, &sq, &res)) < 0) {
		kr_buf_release(&match);
		return rc;
	}
	*total = res.total;
	for (size_t i = 0; i < res.nhits; i++) {
		kr_web_item x;
		s_record *rec;
		char *attr, *headline, *body;
		kr_buf url = KR_BUF_INIT;
		if (strchr(res.hits[i].id, '#')) {
			s_row_record(c, r, t, res.hits[i].id, res.hits[i].rank, &file, rs);
			continue;
		}
		if (kr_web_item_load(c, res.hits[i].id, &x) < 0) {
			kr_error_clear();
			continue;
		}
		rec = s_records_add(rs);
		body = kr_strndup(x.body, x.body_len);
		rec->score = s_coverage(t, x.it->title, body);
		rec->rank = res.hits[i].rank;
		attr = kr_web_attribution(x.fm, x.it->pub_name ? x.it->pub_name : x.it->publisher, 1);
		headline = kr_web_headline(x.fm);
		kr_buf_adds(&rec->title, x.it->title);
		kr_buf_addf(&rec->content, "%s\n", x.it->title);
		if (x.fm && kr_yaml_str(x.fm, "outcome"))
			kr_buf_addf(&rec->content, "結果：%s\n", kr_yaml_str(x.fm, "outcome"));
		if (headline)
			kr_buf_addf(&rec->content, "指標：%s\n", headline);
		s_add_capped(&rec->content, x.body, x.body_len, CONTENT_MAX);
		kr_web_item_url(&url, r->base, x.it->id);
		s_meta(rec, "id", x.it->id);
		s_meta(rec, "kind", x.it->kind);
		s_meta(rec, "publisher", x.it->pub_name ? x.it->pub_name : "");
		s_meta(rec, "lg_code", x.it->pub_code ? x.it->pub_code : "");
		s_meta(rec, "version", x.it->version);
		s_meta(rec, "updated", x.it->updated ? x.it->updated : "");
		s_meta(rec, "url", url.ptr);
		s_meta(rec, "出典", attr);
		if (x.fm && kr_yaml_str(x.fm, "outcome"))
			s_meta(rec, "outcome", kr_yaml_str(x.fm, "outcome"));
		if (headline)
			s_meta(rec, "headline", headline);
		if (!kr_board_kind(x.it->kind) && (bv = kr_bgate_view(g))) {
			/* the words of show, computed here from the endorsements this node holds */
			kr_board_verdict vd;
			char *badge = kr_bview_badge(bv, x.it->blob);
			kr_bview_verdict(bv, x.it->blob, &vd, NULL, NULL, NULL);
			s_meta(rec, "board", badge ? badge : "");
			s_meta(rec, "ボードの判定", vd.verdict ? vd.verdict : "未推奨");
			free(badge);
		}
		kr_error_clear();
		free(attr);
		free(headline);
		free(body);
		kr_buf_release(&url);
		kr_web_item_free(&x);
	}
	kr_search_result_free(&res);
	kr_buf_release(&match);
	free(file.key);
	kr_buf_release(&file.text);
	return 0;
}

/* ---- the endpoint ---------------------------------------------------------------- */

int
kr_api_retrieval(kr_web_ctx *c, const kr_web_req *r, kr_web_resp *out)
{
	s_request q = { .top_k = 5 };
	s_tokens t = { 0 };
	s_records rs = { 0 };
	const char *auth = r->authorization, *kid;
	const char *kind = NULL, *publisher = NULL;
	int top, rc = 0;
	kr_bgate g;
	size_t written = 0;

	kr_bgate_init(&g, c->conf->home, c->state, c->store, c->conf->rules);

	if (!auth || strncmp(auth, "Bearer ", 7) != 0 || !auth[7] || strchr(auth + 7, ' ')) {
		s_error(out, 403, 1001, "Invalid Authorization header format. Expected 'Bearer <api-key>' format.");
		out->authenticate = "Bearer";
		return 0;
	}
	if (!c->conf->retrieval_keys || !s_key_allowed(c->conf->retrieval_keys, auth + 7)) {
		s_error(out, 403, 1002, "Authorization failed");
		return 0;
	}
	if (r->body_len == 0 || kr_json_walk(r->body, r->body_len, &top, s_req_field, &q) < 0 || top != '{') {
		kr_error_clear();
		s_error(out, 400, 1003, "The body must be a JSON object: {\"knowledge_id\", \"query\", "
		    "\"retrieval_setting\": {\"top_k\", \"score_threshold\"}}");
		goto done;
	}
	if (q.bad || !q.have_kid || !q.have_query || q.top_k < 1 || q.threshold < 0 || q.threshold > 1) {
		s_error(out, 400, 1003, "knowledge_id and query must be strings, retrieval_setting.top_k a positive "
		    "integer and score_threshold a number from 0 to 1");
		goto done;
	}
	if (q.top_k > MAX_TOP_K)
		q.top_k = MAX_TOP_K;
	kid = q.knowledge_id;
	if (strcmp(kid, "all") == 0) {
		/* every kind, dataset rows included */
	} else if (strcmp(kid, "case") == 0 || strcmp(kid, "guideline") == 0 || strcmp(kid, "prompt") == 0) {
		kind = kid;
	} else if (strcmp(kid, "dataset") == 0) {
		kind = kid;             /* the cards and their rows */
	} else if (strcmp(kid, "consultation") == 0) {
		/*
		 * Resolved consultations (DESIGN §7) are searched here once the
		 * kind exists; the index holds none yet, so the search finds none.
		 */
		kind = kid;
	} else if (strcmp(kid, "endorsed") == 0) {
		/* item versions endorsed by the board (threshold distinct current board keys on the blob) */
		g.only_endorsed = 1;
	} else if (strlen(kid) == 6 && strspn(kid, "0123456789") == 6) {
		kr_item_filter f = { .publisher = kid };
		kr_item_row *none;
		size_t n, total = 0;
		if ((rc = kr_state_item_list(c->state, &f, &none, &n, &total)) < 0)
			goto done;
		if (total == 0) {
			s_error(out, 404, 2001, "The knowledge does not exist");
			goto done;
		}
		publisher = kid;
	} else {
		s_error(out, 404, 2001, "The knowledge does not exist");
		goto done;
	}
	kr_text_tokenize(q.query, (int)strlen(q.query), KR_TEXT_QUERY, s_token, &t);
	/*
	 * Candidates by bm25, a window four times top_k; when fewer than top_k
	 * of them pass score_threshold and metadata_condition while the index
	 * holds more matches, a window four times wider, up to MAX_CANDIDATES:
	 * forty rows about ごみ never hide the case a condition asks for.
	 */
	for (size_t limit = (size_t)q.top_k * 4 < 40 ? 40 : (size_t)q.top_k * 4; t.n; limit *= 4) {
		size_t total = 0, pass = 0;
		for (size_t i = 0; i < rs.n; i++)
			s_record_free(&rs.v[i]);
		rs.n = 0;
		if (limit > MAX_CANDIDATES)
			limit = MAX_CANDIDATES;
		if ((rc = s_items(c, r, &t, kind, publisher, limit, &g, &rs, &total)) < 0)
			goto done;
		for (size_t i = 0; i < rs.n && pass < (size_t)q.top_k; i++)
			pass += rs.v[i].score >= q.threshold && s_conds_match(&q, &rs.v[i]);
		if (pass >= (size_t)q.top_k || total <= limit || limit == MAX_CANDIDATES)
			break;
	}
	if (rs.n > 1)
		qsort(rs.v, rs.n, sizeof(s_record), s_record_cmp);
	out->type = "application/json; charset=utf-8";
	kr_buf_adds(&out->body, "{\"records\":[");
	for (size_t i = 0; i < rs.n && written < (size_t)q.top_k; i++) {
		s_record *rec = &rs.v[i];
		if (rec->score < q.threshold || !s_conds_match(&q, rec))
			continue;
		kr_buf_adds(&out->body, written++ ? ",{\"content\":" : "{\"content\":");
		kr_buf_addjson(&out->body, rec->content.ptr);
		kr_buf_addf(&out->body, ",\"score\":%.4f,\"title\":", rec->score);
		kr_buf_addjson(&out->body, rec->title.ptr);
		kr_buf_adds(&out->body, ",\"metadata\":{");
		kr_buf_add(&out->body, rec->meta.ptr, rec->meta.len);
		kr_buf_adds(&out->body, "}}");
	}
	kr_buf_adds(&out->body, "]}\n");
done:
	for (size_t i = 0; i < rs.n; i++)
		s_record_free(&rs.v[i]);
	free(rs.v);
	for (size_t i = 0; i < t.n; i++)
		free(t.v[i]);
	s_request_free(&q);
	kr_bgate_free(&g);
	return rc;
}
