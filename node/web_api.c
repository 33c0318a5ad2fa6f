/*
 * node/web_api.c - JSON for other software: /api/search and /api/items
 * (the fields of `kairan search --json`), the CKAN action API subset that
 * Japanese aggregators harvest with (package_list, package_show,
 * package_search with q, fq, rows, start, sort, in CKAN's envelope), the
 * DCAT catalog /catalog.jsonld (paged with hydra, as ckanext-dcat reads
 * it) and each publisher's signed manifest, as received, under
 * /manifests/<fingerprint>
 *
 * CKAN mapping: a kairan dataset is a package whose name is
 * <lg_code>-<slug> and whose id is a UUID derived from the kairan id (CKAN
 * names may not hold "/"); its organization is the publisher (name: the
 * lg_code); each export format is a resource with size and SHA-256 (hash,
 * hash_algorithm as ckanext-dcat maps them). metadata_modified is when
 * this node's copy of the dataset's collection last changed, so a
 * harvester asking for "modified since my last run" never misses what
 * arrived late from a peer; metadata_created is the publisher's date.
 *
 * Runs on the web threads (node/web.c). Output is JSON built with
 * kr_buf_addjson, so every value is a JSON string literal.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "../sharing/search.h"
#include "board.h"
#include "html.h"
#include "webdata.h"
#include "../sharing/json.h"
#include "searchq.h"

#define CKAN_MAX_ROWS 1000
#define CKAN_MAX_DATASETS 10000
#define DCAT_PAGE 100

static void
s_json_error(kr_web_resp *out, int status, const char *msg)
{
	out->status = status;
	out->type = "application/json; charset=utf-8";
	kr_buf_clear(&out->body);
	kr_buf_adds(&out->body, "{\"error\":");
	kr_buf_addjson(&out->body, msg);
	kr_buf_adds(&out->body, "}\n");
}

/* ---- /api/search ------------------------------------------------------------ */

/* /api/search's "url" of a hit: its page on this server (a dataset row's own page) */
static void
s_hit_url(kr_buf *out, const char *id, void *base)
{
	kr_web_item_url(out, base, id);
}

/* endorsed=1 (or true): only versions the board endorsed, as kairan search --endorsed */
static int
s_endorsed_param(const kr_web_req *r)
{
	const char *v = kr_web_param_get(r, "endorsed");

	return v && (strcmp(v, "1") == 0 || strcmp(v, "true") == 0);
}

/* 400 for a filter that is not right: the Japanese message, the English detail, the value meant. */
static void
s_filter_error(kr_web_resp *out, const kr_searchq_norm *n)
{
	kr_buf *b = &out->body;

	out->status = 400;
	out->type = "application/json; charset=utf-8";
	kr_buf_clear(b);
	kr_buf_adds(b, "{");
	kr_buf_addjson_kv(b, "error", n->ja, 0);
	kr_buf_addjson_kv(b, "detail", kr_errmsg(), 1);
	kr_buf_addjson_kv(b, "parameter", n->param, 1);
	kr_buf_addjson_kv(b, "value", n->value, 1);
	kr_buf_addjson_kv(b, "suggestion", n->suggestion, 1);
	kr_buf_adds(b, "}\n");
}

int
kr_api_search(kr_web_ctx *c, const kr_web_req *r, kr_web_resp *out)
{
	const char *q = kr_web_param_get(r, "q"), *lim = kr_web_param_get(r, "limit");
	kr_search_q sq = { .limit = 10 };
	kr_search_result res;
	kr_searchq_norm norm = { 0 };
	kr_bgate g;
	kr_buf match = KR_BUF_INIT;
	kr_buf *b = &out->body;
	char **extra = NULL, *doc = NULL;
	int rc = 0;

	kr_bgate_init(&g, c->conf->home, c->state, c->store, c->conf->rules);
	if (!q || !*q) {
		s_json_error(out, 400, "q is required (the query, as kairan search takes it)");
		goto done;
	}
	if (lim) {
		long n = strtol(lim, NULL, 10);
		if (n < 1 || n > 1000) {
			s_json_error(out, 400, "limit takes 1 to 1000");
			goto done;
		}
		sq.limit = (size_t)n;
	}
	if (kr_search_compile(q, &match) < 0) {
		s_json_error(out, 400, kr_errmsg());
		kr_error_clear();
		goto done;
	}
	sq.match = match.ptr;
	sq.kind = kr_web_param_get(r, "kind");
	sq.domain = kr_web_param_get(r, "domain");
	sq.ai_use = kr_web_param_get(r, "ai_use");
	sq.outcome = kr_web_param_get(r, "outcome");
	sq.deployment = kr_web_param_get(r, "deployment");
	sq.publisher = kr_web_param_get(r, "publisher");
	sq.pref = kr_web_param_get(r, "pref");
	sq.popband = kr_web_param_get(r, "popband");
	sq.since = kr_web_param_get(r, "since");
	sq.until = kr_web_param_get(r, "until");
	{
		/* an empty parameter (a form's blank field) is no filter */
		const char **fields[] = { &sq.kind, &sq.domain, &sq.ai_use, &sq.outcome, &sq.deployment,
			&sq.publisher, &sq.pref, &sq.popband, &sq.since, &sq.until };
		for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
			if (*fields[i] && !**fields[i])
				*fields[i] = NULL;
	}
	/* the same check as kairan search: nothing silently ignored */
	if (kr_searchq_check(&sq, &norm) < 0) {
		s_filter_error(out, &norm);
		kr_error_clear();
		goto done;
	}
	if (s_endorsed_param(r))
		g.only_endorsed = 1;
	g.count = 1;
	g.kind_asked = sq.kind != NULL;
	kr_bgate_attach(&g, &sq);
	sq.rows_all = kr_web_param_get(r, "rows") && strcmp(kr_web_param_get(r, "rows"), "all") == 0;
	if ((rc = kr_state_search(c->state, &sq, &res)) < 0) {
		if (rc == KR_EUSAGE) {
			s_json_error(out, 400, kr_errmsg());
			kr_error_clear();
			rc = 0;
		}
		goto done;
	}
	/* the same document as `kairan search --json` (node/cmd_search.c), the board's verdict computed here */
	out->type = "application/json; charset=utf-8";
	extra = kr_bgate_hits_json(&g, &res);
	doc = kr_bgate_summary_json(&g);
	kr_search_result_json(b, &res, q, extra, doc, s_hit_url, (void *)r->base);
	kr_strv_free(extra, res.nhits);
	free(doc);
	kr_search_result_free(&res);
done:
	kr_searchq_norm_clear(&norm);
	kr_bgate_free(&g);
	kr_buf_release(&match);
	return rc;
}

/* ---- /api/items/<id> ---------------------------------------------------------- */

static int
s_is_number(const char *s)
{
	size_t i = 0, digits = 0;

	if (s[i] == '-')
		i++;
	while (s[i] >= '0' && s[i] <= '9')
		i++, digits++;
	if (s[i] == '.') {
		i++;
		if (!(s[i] >= '0' && s[i] <= '9'))
			return 0;
		while (s[i] >= '0' && s[i] <= '9')
			i++;
	}
	return digits > 0 && digits < 16 && s[i] == '\0' && !(s[0] == '0' && s[1] >= '0' && s[1] <= '9');
}

/* Front matter as JSON: unquoted numbers and booleans typed, everything else a string. */
static void
s_yaml_json(kr_buf *b, const kr_yaml *y, int depth)
{
	if (!y || depth > 32) {
		kr_buf_adds(b, "null");
		return;
	}
	if (y->type == KR_YAML_SCALAR) {
		if (!y->quoted && (strcmp(y->value, "true") == 0 || strcmp(y->value, "false") == 0 || s_is_number(y->value)))
			kr_buf_adds(b, y->value);
		else
			kr_buf_addjson(b, y->value);
	} else if (y->type == KR_YAML_SEQ) {
		kr_buf_addch(b, '[');
		for (size_t i = 0; i < y->n; i++) {
			if (i)
				kr_buf_addch(b, ',');
			s_yaml_json(b, y->items[i], depth + 1);
		}
		kr_buf_addch(b, ']');
	} else {
		kr_buf_addch(b, '{');
		for (size_t i = 0; i < y->n; i++) {
			if (i)
				kr_buf_addch(b, ',');
			kr_buf_addjson(b, y->keys[i]);
			kr_buf_addch(b, ':');
			s_yaml_json(b, y->items[i], depth + 1);
		}
		kr_buf_addch(b, '}');
	}
}

int
kr_api_item(kr_web_ctx *c, const kr_web_req *r, kr_web_resp *out)
{
	kr_web_item x;
	kr_web_version *v = NULL;
	kr_web_fresh f;
	size_t nv = 0;
	kr_buf *b = &out->body;
	char *attr, *headline;
	int rc;

	if ((rc = kr_web_item_load(c, r->id, &x)) == KR_ENOTFOUND) {
		kr_error_clear();
		s_json_error(out, 404, "no such item on this node");
		return 0;
	}
	if (rc == KR_EPOLICY) {
		/* held back by policy.accept.require_endorsement: said, with why */
		s_json_error(out, 403, kr_errmsg());
		kr_error_clear();
		return 0;
	}
	if (rc < 0)
		return rc;
	if (kr_web_history(c, x.it, &v, &nv) < 0)
		kr_error_clear();
	kr_web_freshness(c, x.it->publisher, &f);
	attr = kr_web_attribution(x.fm, x.it->pub_name ? x.it->pub_name : x.it->publisher, 1);
	headline = kr_web_headline(x.fm);
	out->type = "application/json; charset=utf-8";
	kr_buf_adds(b, "{");
	kr_buf_addjson_kv(b, "id", x.it->id, 0);
	kr_buf_addjson_kv(b, "title", x.it->title, 1);
	kr_buf_addjson_kv(b, "publisher", x.it->publisher, 1);
	kr_buf_addjson_kv(b, "publisher_name", x.it->pub_name, 1);
	kr_buf_addjson_kv(b, "lg_code", x.it->pub_code, 1);
	kr_buf_addjson_kv(b, "kind", x.it->kind, 1);
	kr_buf_addjson_kv(b, "version", x.it->version, 1);
	kr_buf_addjson_kv(b, "updated", x.it->updated, 1);
	kr_buf_addjson_kv(b, "outcome", x.fm ? kr_yaml_str(x.fm, "outcome") : NULL, 1);
	kr_buf_addjson_kv(b, "headline", headline, 1);
	kr_buf_addjson_kv(b, "collection", x.it->collection, 1);
	kr_buf_addjson_kv(b, "path", x.it->path, 1);
	kr_buf_addjson_kv(b, "commit", x.it->commit, 1);
	kr_buf_addjson_kv(b, "blob", x.it->blob, 1);
	kr_buf_addjson_kv(b, "attribution", attr, 1);
	if (!kr_board_kind(x.it->kind)) {
		kr_bgate g;
		const kr_bview *bv;
		kr_bgate_init(&g, c->conf->home, c->state, c->store, c->conf->rules);
		if ((bv = kr_bgate_view(&g))) {
			kr_buf_adds(b, ",\"board\":");
			kr_bview_json(bv, x.it->blob, b);
		}
		kr_error_clear();
		kr_bgate_free(&g);
	}
	kr_buf_adds(b, ",\"front_matter\":");
	if (x.fm)
		s_yaml_json(b, x.fm, 0);
	else
		kr_buf_adds(b, "null");
	kr_buf_adds(b, ",\"body\":");
	{
		char *body = kr_strndup(x.body, x.body_len);
		kr_buf_addjson(b, body);
		free(body);
	}
	kr_buf_addf(b, ",\"manifest\":{\"known\":%s,\"seq\":%llu,\"issued\":%lld,\"expires\":%lld,\"stale\":%s}",
	    f.known ? "true" : "false", (unsigned long long)f.seq, (long long)f.issued, (long long)f.expires,
	    f.stale ? "true" : "false");
	kr_buf_adds(b, ",\"versions\":[");
	for (size_t i = 0; i < nv; i++) {
		kr_buf_adds(b, i ? ",{" : "{");
		kr_buf_addjson_kv(b, "commit", v[i].commit, 0);
		kr_buf_addf(b, ",\"time\":%lld,\"present\":%s", (long long)v[i].time, v[i].present ? "true" : "false");
		kr_buf_addjson_kv(b, "version", v[i].version, 1);
		kr_buf_addjson_kv(b, "edition", v[i].edition, 1);
		kr_buf_addjson_kv(b, "updated", v[i].updated, 1);
		kr_buf_addjson_kv(b, "version_notes", v[i].notes, 1);
		kr_buf_adds(b, "}");
	}
	kr_buf_adds(b, "]}\n");
	free(attr);
	free(headline);
	kr_web_fresh_clear(&f);
	kr_web_versions_free(v, nv);
	kr_web_item_free(&x);
	return 0;
}

/* ---- /manifests/<fingerprint> -------------------------------------------------- */

int
kr_api_manifest(kr_web_ctx *c, const kr_web_req *r, kr_web_resp *out)
{
	kr_state_manifest m;

	if (kr_state_manifest_get(c->state, r->arg, &m) < 0) {
		kr_error_clear();
		s_json_error(out, 404, "no manifest of this publisher on this node");
		return 0;
	}
	out->type = "application/octet-stream";
	out->disposition = kr_sprintf("attachment; filename=\"%.16s-%llu.manifest\"", r->arg, (unsigned long long)m.seq);
	kr_buf_add(&out->body, m.signed_bytes.ptr, m.signed_bytes.len);
	kr_state_manifest_clear(&m);
	return 0;
}

/* ---- datasets as CKAN packages and DCAT datasets ------------------------------- */

typedef struct {
	kr_item_row *row;
	kr_web_item x;
	int loaded;
	char uuid[37], name[160];
	double score;                  /* search relevance (higher first), 0 without q */
} s_pkg;

static const char *
s_license_url(const char *lic)
{
	if (!lic)
		return "https://www.digital.go.jp/resources/open_data/public_data_license_v1.0";
	if (strcmp(lic, "CC-BY-4.0") == 0 || strcmp(lic, "cc-by-4.0") == 0)
		return "https://creativecommons.org/licenses/by/4.0/";
	if (strcmp(lic, "CC0-1.0") == 0 || strcmp(lic, "cc0-1.0") == 0)
		return "https://creativecommons.org/publicdomain/zero/1.0/";
	return "https://www.digital.go.jp/resources/open_data/public_data_license_v1.0";
}

static const char *
s_license_id(const char *lic)
{
	if (lic && (strcmp(lic, "CC-BY-4.0") == 0 || strcmp(lic, "cc-by-4.0") == 0))
		return "cc-by-4.0";
	if (lic && (strcmp(lic, "CC0-1.0") == 0 || strcmp(lic, "cc0-1.0") == 0))
		return "cc-zero";
	return "pdl-1.0";
}

static const char *
s_license_title(const char *lic)
{
	if (lic && (strcmp(lic, "CC-BY-4.0") == 0 || strcmp(lic, "cc-by-4.0") == 0))
		return "クリエイティブ・コモンズ 表示 4.0 国際";
	if (lic && (strcmp(lic, "CC0-1.0") == 0 || strcmp(lic, "cc0-1.0") == 0))
		return "CC0 1.0 全世界 パブリック・ドメイン提供";
	return "公共データ利用規約（第1.0版）";
}

/* "2024-07-01T10:00:00.000000", CKAN's timestamp form (UTC, no zone). */
static void
s_ckan_time(char out[40], int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	strftime(out, 40, "%Y-%m-%dT%H:%M:%S.000000", &tm);
}

/* Seconds since the epoch of an ISO date or date-time (UTC; fraction and Z ignored); -1 if not one. */
static int64_t
s_parse_time(const char *s)
{
	struct tm tm = { 0 };
	int y, mo, d, h = 0, mi = 0, se = 0, n = 0;

	if (sscanf(s, "%4d-%2d-%2d%n", &y, &mo, &d, &n) != 3 || n != 10)
		return -1;
	if (s[10] == 'T' || s[10] == ' ') {
		if (sscanf(s + 11, "%2d:%2d:%2d", &h, &mi, &se) < 2)
			return -1;
	} else if (s[10] != '\0' && s[10] != 'Z') {
		return -1;
	}
	if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60)
		return -1;
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = se;
	return (int64_t)timegm(&tm);
}

static int
s_pkg_load(kr_web_ctx *c, s_pkg *p)
{
	int rc;

	if (p->loaded)
		return 0;
	if ((rc = kr_web_item_load(c, p->row->id, &p->x)) < 0)
		return rc;
	p->loaded = 1;
	return 0;
}

static void
s_pkgs_free(s_pkg *v, size_t n, kr_item_row *rows, size_t nrows)
{
	for (size_t i = 0; i < n; i++)
		if (v[i].loaded)
			kr_web_item_free(&v[i].x);
	free(v);
	kr_item_rows_free(rows, nrows);
}

/* Every dataset this node holds (at most CKAN_MAX_DATASETS), with its CKAN id and name. */
static int
s_datasets(kr_web_ctx *c, int64_t synced_since, s_pkg **out, size_t *n, kr_item_row **rows, size_t *nrows)
{
	kr_item_filter f = { .kind = "dataset", .order = KR_LIST_ID, .limit = CKAN_MAX_DATASETS,
		.synced_since = synced_since };
	size_t total;
	kr_bgate g;
	int rc;

	*out = NULL;
	*n = 0;
	if ((rc = kr_state_item_list(c->state, &f, rows, nrows, &total)) < 0)
		return rc;
	*out = kr_calloc(*nrows + 1, sizeof(s_pkg));
	kr_bgate_init(&g, c->conf->home, c->state, c->store, c->conf->rules);
	for (size_t i = 0; i < *nrows; i++) {
		s_pkg *p;
		const char *slug = strrchr((*rows)[i].id, '/');
		/* policy.accept.require_endorsement: a held-back version is no package (list, show, search, DCAT) */
		if (kr_bgate_check(&g, (*rows)[i].id, (*rows)[i].version, (*rows)[i].kind, (*rows)[i].blob) < 0) {
			kr_error_clear();
			continue;
		}
		p = &(*out)[(*n)++];
		p->row = &(*rows)[i];
		kr_web_uuid(p->uuid, p->row->id);
		snprintf(p->name, sizeof(p->name), "%.6s-%s", p->row->id, slug ? slug + 1 : p->row->id);
	}
	kr_bgate_free(&g);
	return 0;
}

static void
s_ckan_resource(kr_buf *b, kr_web_ctx *c, const kr_web_req *r, s_pkg *p, const kr_web_format *f, int pos,
    const char *modified)
{
	char rid[37], sha[65];
	kr_buf key = KR_BUF_INIT, url = KR_BUF_INIT;
	size_t size = 0, rows = 0;
	int have = kr_web_export_digest(c, &p->x, f, &size, sha, &rows) == 0;

	kr_error_clear();
	kr_buf_addf(&key, "%s#%s", p->row->id, f->name);
	kr_web_uuid(rid, key.ptr);
	kr_buf_addf(&url, "%s/items/%s/export/%s", r->base, p->row->id, f->name);
	kr_buf_adds(b, pos ? ",{" : "{");
	kr_buf_addjson_kv(b, "id", rid, 0);
	kr_buf_addjson_kv(b, "package_id", p->uuid, 1);
	kr_buf_addjson_kv(b, "name", f->label, 1);
	kr_buf_addjson_kv(b, "description", "kairan export の形式。各行に出典の行がつきます。", 1);
	kr_buf_addjson_kv(b, "format", f->ckan_format, 1);
	{
		char mt[64];
		snprintf(mt, sizeof(mt), "%.*s", (int)strcspn(f->type, ";"), f->type);
		kr_buf_addjson_kv(b, "mimetype", mt, 1);
	}
	kr_buf_addjson_kv(b, "url", url.ptr, 1);
	if (have) {
		kr_buf_addf(b, ",\"size\":%zu", size);
		kr_buf_addjson_kv(b, "hash", sha, 1);
		kr_buf_addjson_kv(b, "hash_algorithm", "http://spdx.org/rdf/terms#checksumAlgorithm_sha256", 1);
	}
	kr_buf_addjson_kv(b, "created", modified, 1);
	kr_buf_addjson_kv(b, "last_modified", modified, 1);
	kr_buf_addjson_kv(b, "state", "active", 1);
	kr_buf_addf(b, ",\"position\":%d,\"url_type\":null}", pos);
	kr_buf_release(&key);
	kr_buf_release(&url);
}

/* One CKAN package dict. */
static int
s_ckan_package(kr_buf *b, kr_web_ctx *c, const kr_web_req *r, s_pkg *p, kr_bgate *g)
{
	char modified[40], org[37], *attr, *notes;
	const char *lic, *published;
	const kr_yaml *tags;
	kr_buf url = KR_BUF_INIT, created = KR_BUF_INIT;
	int rc, ntags = 0;

	if ((rc = s_pkg_load(c, p)) < 0)
		return rc;
	s_ckan_time(modified, p->row->synced);
	kr_web_uuid(org, p->row->publisher);
	lic = p->x.fm ? kr_yaml_str(p->x.fm, "license") : NULL;
	published = p->row->published ? p->row->published : p->row->updated;
	if (published && strlen(published) == 10)
		kr_buf_addf(&created, "%sT00:00:00.000000", published);
	else
		kr_buf_adds(&created, modified);
	attr = kr_web_attribution(p->x.fm, p->row->pub_name ? p->row->pub_name : p->row->publisher, 0);
	notes = kr_strndup(p->x.body, p->x.body_len);
	kr_buf_addf(&url, "%s/items/%s", r->base, p->row->id);
	kr_buf_adds(b, "{");
	kr_buf_addjson_kv(b, "id", p->uuid, 0);
	kr_buf_addjson_kv(b, "name", p->name, 1);
	kr_buf_addjson_kv(b, "title", p->row->title, 1);
	kr_buf_addjson_kv(b, "notes", notes, 1);
	kr_buf_addjson_kv(b, "type", "dataset", 1);
	kr_buf_addjson_kv(b, "state", "active", 1);
	kr_buf_adds(b, ",\"private\":false,\"isopen\":true");
	kr_buf_addjson_kv(b, "version", p->row->version, 1);
	kr_buf_addjson_kv(b, "license_id", s_license_id(lic), 1);
	kr_buf_addjson_kv(b, "license_title", s_license_title(lic), 1);
	kr_buf_addjson_kv(b, "license_url", s_license_url(lic), 1);
	kr_buf_addjson_kv(b, "metadata_created", created.ptr, 1);
	kr_buf_addjson_kv(b, "metadata_modified", modified, 1);
	kr_buf_addjson_kv(b, "author", p->row->pub_name, 1);
	kr_buf_addjson_kv(b, "maintainer", p->row->pub_name, 1);
	kr_buf_addjson_kv(b, "url", url.ptr, 1);
	kr_buf_addjson_kv(b, "owner_org", org, 1);
	kr_buf_adds(b, ",\"organization\":{");
	kr_buf_addjson_kv(b, "id", org, 0);
	kr_buf_addjson_kv(b, "name", p->row->pub_code, 1);
	kr_buf_addjson_kv(b, "title", p->row->pub_name, 1);
	kr_buf_addjson_kv(b, "description", "", 1);
	kr_buf_addjson_kv(b, "type", "organization", 1);
	kr_buf_addjson_kv(b, "state", "active", 1);
	kr_buf_addjson_kv(b, "image_url", "", 1);
	kr_buf_adds(b, ",\"is_organization\":true,\"approval_status\":\"approved\"}");
	kr_buf_adds(b, ",\"tags\":[");
	tags = p->x.fm ? kr_yaml_get(p->x.fm, "task_categories") : NULL;
	for (size_t i = 0; tags && tags->type == KR_YAML_SEQ && i < tags->n; i++)
		if (tags->items[i]->type == KR_YAML_SCALAR) {
			kr_buf_adds(b, ntags++ ? ",{" : "{");
			kr_buf_addjson_kv(b, "name", tags->items[i]->value, 0);
			kr_buf_addjson_kv(b, "display_name", tags->items[i]->value, 1);
			kr_buf_adds(b, ",\"state\":\"active\",\"vocabulary_id\":null}");
		}
	tags = p->x.fm ? kr_yaml_get(p->x.fm, "domains") : NULL;
	for (size_t i = 0; tags && tags->type == KR_YAML_SEQ && i < tags->n; i++)
		if (tags->items[i]->type == KR_YAML_SCALAR) {
			kr_buf_adds(b, ntags++ ? ",{" : "{");
			kr_buf_addjson_kv(b, "name", tags->items[i]->value, 0);
			kr_buf_addjson_kv(b, "display_name", tags->items[i]->value, 1);
			kr_buf_adds(b, ",\"state\":\"active\",\"vocabulary_id\":null}");
		}
	{
		/* the board's verdict as a tag too (harvesters facet on tags): ボード推奨 */
		const kr_bview *bv = kr_bgate_view(g);
		kr_board_verdict vd = { 0 };
		kr_error_clear();
		if (bv)
			kr_bview_verdict(bv, p->row->blob, &vd, NULL, NULL, NULL);
		if (vd.verdict) {
			char *tag = kr_sprintf("ボード%s", vd.verdict);
			kr_buf_adds(b, ntags++ ? ",{" : "{");
			kr_buf_addjson_kv(b, "name", tag, 0);
			kr_buf_addjson_kv(b, "display_name", tag, 1);
			kr_buf_adds(b, ",\"state\":\"active\",\"vocabulary_id\":null}");
			free(tag);
		}
	}
	kr_buf_addf(b, "],\"num_tags\":%d,\"groups\":[],\"relationships_as_object\":[],\"relationships_as_subject\":[]", ntags);
	kr_buf_adds(b, ",\"extras\":[");
	{
		kr_buf man = KR_BUF_INIT;
		const kr_bview *bv = kr_bgate_view(g);
		kr_board_verdict vd = { 0 };
		char *badge = NULL;
		kr_error_clear();
		if (bv) {
			kr_bview_verdict(bv, p->row->blob, &vd, NULL, NULL, NULL);
			badge = kr_bview_badge(bv, p->row->blob);
		}
		kr_buf_addf(&man, "%s/manifests/%s", r->base, p->row->publisher);
		const char *extras[][2] = {
			{ "kairan_id", p->row->id }, { "publisher_fingerprint", p->row->publisher },
			{ "lg_code", p->row->pub_code }, { "attribution", attr }, { "signed_manifest", man.ptr },
			{ "commit", p->row->commit },
			/* the words of show, computed on this node from the endorsements it holds */
			{ "ボードの判定", bv ? (vd.verdict ? vd.verdict : "未推奨") : NULL }, { "board_badge", badge },
		};
		for (size_t i = 0; i < sizeof(extras) / sizeof(extras[0]); i++) {
			kr_buf_adds(b, i ? ",{" : "{");
			kr_buf_addjson_kv(b, "key", extras[i][0], 0);
			kr_buf_addjson_kv(b, "value", extras[i][1] ? extras[i][1] : "", 1);
			kr_buf_adds(b, "}");
		}
		kr_buf_release(&man);
		free(badge);
	}
	kr_buf_adds(b, "],\"resources\":[");
	for (size_t i = 0; i < sizeof(kr_web_formats) / sizeof(kr_web_formats[0]); i++)
		s_ckan_resource(b, c, r, p, &kr_web_formats[i], (int)i, modified);
	kr_buf_addf(b, "],\"num_resources\":%zu}", sizeof(kr_web_formats) / sizeof(kr_web_formats[0]));
	free(attr);
	free(notes);
	kr_buf_release(&url);
	kr_buf_release(&created);
	return 0;
}

/* CKAN's envelope around a result already in result (JSON text). */
static void
s_ckan_ok(kr_web_resp *out, const kr_web_req *r, const char *action, const kr_buf *result)
{
	kr_buf *b = &out->body;
	kr_buf help = KR_BUF_INIT;

	kr_buf_addf(&help, "%s/api/3/action/help_show?name=%s", r->base, action);
	out->type = "application/json; charset=utf-8";
	kr_buf_adds(b, "{");
	kr_buf_addjson_kv(b, "help", help.ptr, 0);
	kr_buf_adds(b, ",\"success\":true,\"result\":");
	kr_buf_add(b, result->ptr, result->len);
	kr_buf_adds(b, "}\n");
	kr_buf_release(&help);
}

/* CKAN's error envelope: {"help", "success": false, "error": {"__type", "message" | field: [..]}} */
static void
s_ckan_err(kr_web_resp *out, const kr_web_req *r, const char *action, int status, const char *type,
    const char *field, const char *message)
{
	kr_buf *b = &out->body;
	kr_buf help = KR_BUF_INIT;

	kr_buf_clear(b);
	kr_buf_addf(&help, "%s/api/3/action/help_show?name=%s", r->base, action);
	out->status = status;
	out->type = "application/json; charset=utf-8";
	kr_buf_adds(b, "{");
	kr_buf_addjson_kv(b, "help", help.ptr, 0);
	kr_buf_adds(b, ",\"success\":false,\"error\":{");
	kr_buf_addjson_kv(b, "__type", type, 0);
	if (field) {
		kr_buf_adds(b, ",");
		kr_buf_addjson(b, field);
		kr_buf_adds(b, ":[");
		kr_buf_addjson(b, message);
		kr_buf_adds(b, "]");
	} else {
		kr_buf_addjson_kv(b, "message", message, 1);
	}
	kr_buf_adds(b, "}}\n");
	kr_buf_release(&help);
}

/* Parameters of a CKAN action: the query string, or a JSON object body (as ckanapi POSTs). */
typedef struct {
	char *id, *q, *fq, *sort, *rows, *start, *limit, *offset;
} s_ckan_args;

static int
s_ckan_arg(void *arg, const char *path, const char *value, int type)
{
	s_ckan_args *a = arg;
	char **slot = strcmp(path, "id") == 0 ? &a->id : strcmp(path, "q") == 0 ? &a->q
	    : strcmp(path, "fq") == 0 ? &a->fq : strcmp(path, "sort") == 0 ? &a->sort
	    : strcmp(path, "rows") == 0 ? &a->rows : strcmp(path, "start") == 0 ? &a->start
	    : strcmp(path, "limit") == 0 ? &a->limit : strcmp(path, "offset") == 0 ? &a->offset : NULL;

	if (slot && type != KR_JSON_NULL) {
		free(*slot);
		*slot = kr_strdup(value);
	}
	return 0;
}

static void
s_ckan_args_free(s_ckan_args *a)
{
	free(a->id); free(a->q); free(a->fq); free(a->sort); free(a->rows); free(a->start);
	free(a->limit); free(a->offset);
}

/* A non-negative integer within max; -1 when s is not one. */
static long
s_uint(const char *s, long max)
{
	char *end;
	long n;

	if (!s || !*s || strspn(s, "0123456789") != strlen(s) || strlen(s) > 9)
		return -1;
	n = strtol(s, &end, 10);
	return n > max ? max : n;
}

/* One fq/q clause: field:value or field:[A TO B], optionally negated. */
typedef struct {
	int neg;
	char field[32];
	char *value;                   /* exact value, or NULL for a range */
	int64_t lo, hi;                /* range bounds (-1: open) */
	int lo_is_time;
} s_clause;

static void
s_clauses_free(s_clause *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i].value);
	free(v);
}

/*
 * Parses Solr-style clauses separated by spaces: [+|-]field:value,
 * field:"quoted value", field:[FROM TO UNTIL] with * for an open end.
 * Fields: metadata_modified, metadata_created (ranges), id, name,
 * organization, license_id, tags, res_format (values). KR_EUSAGE names
 * what could not be read.
 */
static int
s_parse_clauses(const char *s, s_clause **out, size_t *n)
{
	static const char *const fields[] = { "metadata_modified", "metadata_created", "id", "name",
		"organization", "license_id", "tags", "res_format", NULL };
	const char *p = s;

	*out = NULL;
	*n = 0;
	while (*p) {
		s_clause cl = { .lo = -1, .hi = -1 };
		const char *colon;
		size_t fl;
		int known = 0;
		while (*p == ' ')
			p++;
		if (!*p)
			break;
		if (*p == '+' || *p == '-')
			cl.neg = *p++ == '-';
		if (!(colon = strchr(p, ':')) || (fl = (size_t)(colon - p)) == 0 || fl >= sizeof(cl.field) ||
		    strspn(p, "abcdefghijklmnopqrstuvwxyz_") < fl)
			return kr_error(KR_EUSAGE, "cannot read the filter at '%.40s' (expected field:value)", p);
		memcpy(cl.field, p, fl);
		for (size_t i = 0; fields[i]; i++)
			known |= strcmp(fields[i], cl.field) == 0;
		if (!known)
			return kr_error(KR_EUSAGE, "unknown field '%s' in the filter", cl.field);
		p = colon + 1;
		if (*p == '[' || *p == '{') {
			char a[64], b[64];
			const char *close = strpbrk(p, "]}");
			int m;
			if (!close || sscanf(p + 1, "%63s TO %63s%n", a, b, &m) != 2)
				return kr_error(KR_EUSAGE, "cannot read the range at '%.40s' (expected [FROM TO UNTIL])", p);
			if (strncmp(cl.field, "metadata_", 9) != 0)
				return kr_error(KR_EUSAGE, "a range only works on metadata_modified or metadata_created");
			if (b[strlen(b) - 1] == ']' || b[strlen(b) - 1] == '}')
				b[strlen(b) - 1] = '\0';
			if (strcmp(a, "*") != 0 && (cl.lo = s_parse_time(a)) < 0)
				return kr_error(KR_EUSAGE, "'%s' is not a date or time (e.g. 2024-06-01T00:00:00Z)", a);
			if (strcmp(b, "*") != 0 && strcmp(b, "NOW") != 0 && (cl.hi = s_parse_time(b)) < 0)
				return kr_error(KR_EUSAGE, "'%s' is not a date or time", b);
			cl.lo_is_time = 1;
			p = close + 1;
		} else if (*p == '"') {
			const char *q = strchr(p + 1, '"');
			if (!q)
				return kr_error(KR_EUSAGE, "unbalanced quote in the filter");
			cl.value = kr_strndup(p + 1, (size_t)(q - p - 1));
			p = q + 1;
		} else {
			size_t l = strcspn(p, " ");
			cl.value = kr_strndup(p, l);
			p += l;
		}
		if (cl.value && strncmp(cl.field, "metadata_", 9) == 0) {
			free(cl.value);
			return kr_error(KR_EUSAGE, "%s takes a range, e.g. [2024-06-01T00:00:00Z TO *]", cl.field);
		}
		*out = kr_realloc(*out, (*n + 1) * sizeof(s_clause));
		(*out)[(*n)++] = cl;
	}
	return 0;
}

static int
s_clause_match(kr_web_ctx *c, s_pkg *p, const s_clause *cl)
{
	int hit = 0;

	if (!cl->value) {
		int64_t t = strcmp(cl->field, "metadata_modified") == 0 ? p->row->synced
		    : s_parse_time(p->row->published ? p->row->published : p->row->updated ? p->row->updated : "");
		hit = t >= 0 && (cl->lo < 0 || t >= cl->lo) && (cl->hi < 0 || t <= cl->hi);
	} else if (strcmp(cl->field, "id") == 0) {
		hit = strcmp(cl->value, p->uuid) == 0 || strcmp(cl->value, p->row->id) == 0;
	} else if (strcmp(cl->field, "name") == 0) {
		hit = strcmp(cl->value, p->name) == 0;
	} else if (strcmp(cl->field, "organization") == 0) {
		hit = (p->row->pub_code && strcmp(cl->value, p->row->pub_code) == 0) || strcmp(cl->value, p->row->publisher) == 0;
	} else if (strcmp(cl->field, "res_format") == 0) {
		for (size_t i = 0; i < sizeof(kr_web_formats) / sizeof(kr_web_formats[0]); i++)
			hit |= strcasecmp(cl->value, kr_web_formats[i].ckan_format) == 0;
	} else if (s_pkg_load(c, p) == 0 && p->x.fm) {
		if (strcmp(cl->field, "license_id") == 0) {
			hit = strcmp(cl->value, s_license_id(kr_yaml_str(p->x.fm, "license"))) == 0;
		} else {
			const char *keys[] = { "task_categories", "domains" };
			for (size_t k = 0; k < 2; k++) {
				const kr_yaml *t = kr_yaml_get(p->x.fm, keys[k]);
				for (size_t i = 0; t && t->type == KR_YAML_SEQ && i < t->n; i++)
					hit |= t->items[i]->type == KR_YAML_SCALAR && strcmp(t->items[i]->value, cl->value) == 0;
			}
		}
	}
	kr_error_clear();
	return cl->neg ? !hit : hit;
}

/* Sort keys of package_search: "field dir[, field dir]". */
typedef struct {
	int field[3];                  /* 0 score, 1 id, 2 name, 3 title_string, 4 metadata_modified, 5 metadata_created */
	int desc[3];
	int n;
} s_sort;

static _Thread_local const s_sort *s_tl_sort;  /* qsort has no context argument; set per call */

static int
s_pkg_cmp(const void *pa, const void *pb)
{
	const s_pkg *a = pa, *b = pb;
	const s_sort *s = s_tl_sort;

	for (int i = 0; i < s->n; i++) {
		int r = 0;
		switch (s->field[i]) {
		case 0: r = a->score < b->score ? -1 : a->score > b->score ? 1 : 0; break;
		case 1: r = strcmp(a->uuid, b->uuid); break;
		case 2: r = strcmp(a->name, b->name); break;
		case 3: r = strcmp(a->row->title, b->row->title); break;
		case 4: r = a->row->synced < b->row->synced ? -1 : a->row->synced > b->row->synced; break;
		case 5: r = strcmp(a->row->published ? a->row->published : "", b->row->published ? b->row->published : ""); break;
		}
		if (r)
			return s->desc[i] ? -r : r;
	}
	return strcmp(a->uuid, b->uuid);
}

static int
s_parse_sort(const char *spec, s_sort *s)
{
	static const char *const names[] = { "score", "id", "name", "title_string", "metadata_modified",
		"metadata_created" };
	char *copy = kr_strdup(spec), *save = NULL;
	int rc = 0;

	s->n = 0;
	for (char *part = strtok_r(copy, ",", &save); part; part = strtok_r(NULL, ",", &save)) {
		char field[32] = "", dir[8] = "asc";
		int k = -1;
		if (s->n == 3 || sscanf(part, " %31s %7s", field, dir) < 1) {
			rc = kr_error(KR_EUSAGE, "cannot read sort '%s' (e.g. \"id asc\")", spec);
			break;
		}
		for (int i = 0; i < 6; i++)
			if (strcmp(names[i], field) == 0)
				k = i;
		if (k < 0 || (strcmp(dir, "asc") != 0 && strcmp(dir, "desc") != 0)) {
			rc = kr_error(KR_EUSAGE, "cannot sort by '%s %s' (score, id, name, title_string, "
			    "metadata_modified or metadata_created; asc or desc)", field, dir);
			break;
		}
		s->field[s->n] = k;
		s->desc[s->n++] = strcmp(dir, "desc") == 0;
	}
	free(copy);
	return rc;
}

static int
s_ckan_search(kr_web_ctx *c, const kr_web_req *r, kr_web_resp *out, const s_ckan_args *a)
{
	s_pkg *pkgs = NULL;
	kr_item_row *rows = NULL;
	size_t npkgs = 0, nrows = 0, count = 0;
	s_clause *cl = NULL;
	size_t ncl = 0;
	long nrow = a->rows ? s_uint(a->rows, CKAN_MAX_ROWS) : 10, start = a->start ? s_uint(a->start, 1L << 30) : 0;
	s_sort sort;
	kr_buf res = KR_BUF_INIT, match = KR_BUF_INIT, fq = KR_BUF_INIT;
	const char *q = a->q;
	int rc = 0, fulltext = 0;
	kr_bgate g;

	kr_bgate_init(&g, c->conf->home, c->state, c->store, c->conf->rules); /* allocates nothing until used */

	if (nrow < 0) {
		s_ckan_err(out, r, "package_search", 409, "Validation Error", "rows", "Invalid integer");
		return 0;
	}
	if (start < 0) {
		s_ckan_err(out, r, "package_search", 409, "Validation Error", "start", "Invalid integer");
		return 0;
	}
	if (s_parse_sort(a->sort ? a->sort : "score desc, metadata_modified desc", &sort) < 0) {
		s_ckan_err(out, r, "package_search", 409, "Search Query Error", NULL, kr_errmsg());
		kr_error_clear();
		return 0;
	}
	/* q: everything, field:value clauses (added to fq), or words for the kairan search */
	if (q && (strcmp(q, "*:*") == 0 || strspn(q, " ") == strlen(q)))
		q = NULL;
	if (a->fq)
		kr_buf_adds(&fq, a->fq);
	if (q && strchr(q, ':')) {
		kr_buf_addf(&fq, " %s", q);
		q = NULL;
	}
	if (s_parse_clauses(fq.ptr, &cl, &ncl) < 0) {
		s_ckan_err(out, r, "package_search", 409, "Search Query Error", NULL, kr_errmsg());
		kr_error_clear();
		goto done;
	}
	if ((rc = s_datasets(c, 0, &pkgs, &npkgs, &rows, &nrows)) < 0)
		goto done;
	if (q) {
		kr_search_q sq = { .kind = "dataset", .limit = CKAN_MAX_DATASETS };
		kr_search_result sr;
		if (kr_search_compile(q, &match) < 0) {
			s_ckan_err(out, r, "package_search", 409, "Search Query Error", NULL, kr_errmsg());
			kr_error_clear();
			goto done;
		}
		sq.match = match.ptr;
		if ((rc = kr_state_search(c->state, &sq, &sr)) < 0) {
			if (rc != KR_EUSAGE)
				goto done;
			rc = 0;
			s_ckan_err(out, r, "package_search", 409, "Search Query Error", NULL, kr_errmsg());
			kr_error_clear();
			goto done;
		}
		fulltext = 1;
		for (size_t i = 0; i < npkgs; i++) {
			pkgs[i].score = -1;
			for (size_t k = 0; k < sr.nhits; k++)
				if (strcmp(sr.hits[k].id, pkgs[i].row->id) == 0 && strcmp(sr.hits[k].publisher, pkgs[i].row->publisher) == 0)
					pkgs[i].score = -sr.hits[k].rank; /* bm25: lower is better */
		}
		kr_search_result_free(&sr);
	}
	/* filter in place */
	{
		size_t keep = 0;
		for (size_t i = 0; i < npkgs; i++) {
			int ok = !fulltext || pkgs[i].score >= 0;
			for (size_t k = 0; k < ncl && ok; k++)
				ok = s_clause_match(c, &pkgs[i], &cl[k]);
			if (ok) {
				s_pkg tmp = pkgs[keep];
				pkgs[keep++] = pkgs[i];
				pkgs[i] = tmp;
			}
		}
		count = keep;
	}
	s_tl_sort = &sort;
	if (count > 1)
		qsort(pkgs, count, sizeof(s_pkg), s_pkg_cmp);
	kr_buf_addf(&res, "{\"count\":%zu", count);
	kr_buf_addjson_kv(&res, "sort", a->sort ? a->sort : "score desc, metadata_modified desc", 1);
	kr_buf_adds(&res, ",\"facets\":{},\"search_facets\":{},\"results\":[");
	for (size_t i = (size_t)start, k = 0; i < count && k < (size_t)nrow; i++, k++) {
		if (k)
			kr_buf_addch(&res, ',');
		if ((rc = s_ckan_package(&res, c, r, &pkgs[i], &g)) < 0)
			goto done;
	}
	kr_buf_adds(&res, "]}");
	s_ckan_ok(out, r, "package_search", &res);
done:
	s_clauses_free(cl, ncl);
	s_pkgs_free(pkgs, npkgs, rows, nrows);
	kr_bgate_free(&g);
	kr_buf_release(&res);
	kr_buf_release(&match);
	kr_buf_release(&fq);
	return rc;
}

int
kr_api_ckan(kr_web_ctx *c, const kr_web_req *r, kr_web_resp *out)
{
	s_ckan_args a = { 0 };
	s_pkg *pkgs = NULL;
	kr_item_row *rows = NULL;
	size_t npkgs = 0, nrows = 0;
	kr_buf res = KR_BUF_INIT;
	const char *action = r->arg;
	int rc = 0;
	kr_bgate g;

	kr_bgate_init(&g, c->conf->home, c->state, c->store, c->conf->rules);

	/* arguments: the query string, and a JSON object body for POST */
	{
		const char *names[] = { "id", "q", "fq", "sort", "rows", "start", "limit", "offset" };
		for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
			const char *v = kr_web_param_get(r, names[i]);
			if (v)
				s_ckan_arg(&a, names[i], v, KR_JSON_STRING);
		}
	}
	if (strcmp(r->method, "POST") == 0 && r->body_len) {
		int top;
		if (kr_json_walk(r->body, r->body_len, &top, s_ckan_arg, &a) < 0 || top != '{') {
			s_ckan_err(out, r, action, 400, "Bad Request", NULL, "Bad request - JSON Error: the body must be a JSON object");
			kr_error_clear();
			goto done;
		}
	}
	if (strcmp(action, "package_search") == 0) {
		rc = s_ckan_search(c, r, out, &a);
	} else if (strcmp(action, "package_list") == 0) {
		long limit = a.limit ? s_uint(a.limit, CKAN_MAX_DATASETS) : CKAN_MAX_DATASETS;
		long offset = a.offset ? s_uint(a.offset, 1L << 30) : 0;
		if (limit < 0 || offset < 0) {
			s_ckan_err(out, r, action, 409, "Validation Error", limit < 0 ? "limit" : "offset", "Invalid integer");
			goto done;
		}
		if ((rc = s_datasets(c, 0, &pkgs, &npkgs, &rows, &nrows)) < 0)
			goto done;
		s_tl_sort = &(s_sort){ .field = { 2 }, .n = 1 };
		if (npkgs > 1)
			qsort(pkgs, npkgs, sizeof(s_pkg), s_pkg_cmp);
		kr_buf_adds(&res, "[");
		for (size_t i = (size_t)offset, k = 0; i < npkgs && k < (size_t)limit; i++, k++) {
			if (k)
				kr_buf_addch(&res, ',');
			kr_buf_addjson(&res, pkgs[i].name);
		}
		kr_buf_adds(&res, "]");
		s_ckan_ok(out, r, action, &res);
	} else if (strcmp(action, "package_show") == 0) {
		s_pkg *hit = NULL;
		if (!a.id || !*a.id) {
			s_ckan_err(out, r, action, 409, "Validation Error", "id", "Missing value");
			goto done;
		}
		if ((rc = s_datasets(c, 0, &pkgs, &npkgs, &rows, &nrows)) < 0)
			goto done;
		for (size_t i = 0; i < npkgs && !hit; i++)
			if (strcmp(a.id, pkgs[i].uuid) == 0 || strcmp(a.id, pkgs[i].name) == 0 || strcmp(a.id, pkgs[i].row->id) == 0)
				hit = &pkgs[i];
		if (!hit) {
			s_ckan_err(out, r, action, 404, "Not Found Error", NULL, "Not found");
			goto done;
		}
		if ((rc = s_ckan_package(&res, c, r, hit, &g)) < 0)
			goto done;
		s_ckan_ok(out, r, action, &res);
	} else {
		kr_buf msg = KR_BUF_INIT;
		kr_buf_addf(&msg, "Bad request - Action name not known: %s", action);
		s_ckan_err(out, r, action, 400, "Bad Request", NULL, msg.ptr);
		kr_buf_release(&msg);
	}
done:
	s_pkgs_free(pkgs, npkgs, rows, nrows);
	s_ckan_args_free(&a);
	kr_bgate_free(&g);
	kr_buf_release(&res);
	return rc;
}

/* ---- /catalog.jsonld ----------------------------------------------------------- */

static void
s_dcat_page_url(kr_buf *b, const kr_web_req *r, size_t page, const char *since)
{
	kr_buf_addf(b, "%s/catalog.jsonld?", r->base);
	if (since) {
		kr_buf_adds(b, "modified_since=");
		kr_url_add(b, since);
		kr_buf_addch(b, '&');
	}
	kr_buf_addf(b, "page=%zu", page);
}

int
kr_api_catalog(kr_web_ctx *c, const kr_web_req *r, kr_web_resp *out)
{
	const char *ps = kr_web_param_get(r, "page"), *since = kr_web_param_get(r, "modified_since");
	long page = ps ? s_uint(ps, 1L << 20) : 1;
	int64_t since_t = 0;
	s_pkg *pkgs = NULL;
	kr_item_row *rows = NULL;
	size_t npkgs = 0, nrows = 0, pages;
	kr_buf *b = &out->body, u = KR_BUF_INIT;
	int rc = 0;

	if (page < 1) {
		s_json_error(out, 400, "page takes 1, 2, …");
		return 0;
	}
	if (since && *since && (since_t = s_parse_time(since)) < 0) {
		s_json_error(out, 400, "modified_since takes an ISO date or time, e.g. 2024-06-01T00:00:00Z");
		return 0;
	}
	if ((rc = s_datasets(c, since_t, &pkgs, &npkgs, &rows, &nrows)) < 0)
		return rc;
	pages = npkgs ? (npkgs + DCAT_PAGE - 1) / DCAT_PAGE : 1;
	if ((size_t)page > pages) {
		s_json_error(out, 404, "no such page of the catalog");
		goto done;
	}
	out->type = "application/ld+json; charset=utf-8";
	kr_buf_adds(b, "{\"@context\":{\"dcat\":\"http://www.w3.org/ns/dcat#\",\"dct\":\"http://purl.org/dc/terms/\","
	    "\"foaf\":\"http://xmlns.com/foaf/0.1/\",\"spdx\":\"http://spdx.org/rdf/terms#\","
	    "\"hydra\":\"http://www.w3.org/ns/hydra/core#\",\"xsd\":\"http://www.w3.org/2001/XMLSchema#\","
	    "\"rdfs\":\"http://www.w3.org/2000/01/rdf-schema#\",\"owl\":\"http://www.w3.org/2002/07/owl#\","
	    "\"vcard\":\"http://www.w3.org/2006/vcard/ns#\"},\"@graph\":[");
	/* the catalog */
	kr_buf_addf(&u, "%s/catalog.jsonld", r->base);
	kr_buf_adds(b, "{");
	kr_buf_addjson_kv(b, "@id", u.ptr, 0);
	kr_buf_addjson_kv(b, "@type", "dcat:Catalog", 1);
	{
		kr_buf t = KR_BUF_INIT;
		kr_buf_addf(&t, "kairan %s（%s）のデータセット", c->conf->name, c->conf->lg_code);
		kr_buf_addjson_kv(b, "dct:title", t.ptr, 1);
		kr_buf_release(&t);
	}
	kr_buf_addjson_kv(b, "dct:description", "自治体の生成AI活用のためのQ&Aデータセット。どれも発行元の署名を検証したうえで配布しています。", 1);
	kr_buf_adds(b, ",\"dct:publisher\":{\"@type\":\"foaf:Organization\"");
	kr_buf_addjson_kv(b, "foaf:name", c->conf->name, 1);
	kr_buf_addjson_kv(b, "dct:identifier", c->conf->lg_code, 1);
	kr_buf_adds(b, "},\"foaf:homepage\":{");
	kr_buf_clear(&u);
	kr_buf_addf(&u, "%s/", r->base);
	kr_buf_addjson_kv(b, "@id", u.ptr, 0);
	kr_buf_adds(b, "},\"dcat:dataset\":[");
	for (size_t i = (size_t)(page - 1) * DCAT_PAGE, k = 0; i < npkgs && k < DCAT_PAGE; i++, k++) {
		kr_buf_clear(&u);
		kr_buf_addf(&u, "%s/items/%s", r->base, pkgs[i].row->id);
		kr_buf_adds(b, k ? ",{" : "{");
		kr_buf_addjson_kv(b, "@id", u.ptr, 0);
		kr_buf_adds(b, "}");
	}
	kr_buf_adds(b, "]}");
	/* the datasets and their distributions */
	for (size_t i = (size_t)(page - 1) * DCAT_PAGE, k = 0; i < npkgs && k < DCAT_PAGE; i++, k++) {
		s_pkg *p = &pkgs[i];
		char modified[40];
		const char *lic;
		char *attr, *notes;
		if ((rc = s_pkg_load(c, p)) < 0)
			goto done;
		lic = p->x.fm ? kr_yaml_str(p->x.fm, "license") : NULL;
		attr = kr_web_attribution(p->x.fm, p->row->pub_name ? p->row->pub_name : p->row->publisher, 0);
		notes = kr_strndup(p->x.body, p->x.body_len);
		{
			time_t tt = (time_t)p->row->synced;
			struct tm tm;
			gmtime_r(&tt, &tm);
			strftime(modified, sizeof(modified), "%Y-%m-%dT%H:%M:%SZ", &tm);
		}
		kr_buf_clear(&u);
		kr_buf_addf(&u, "%s/items/%s", r->base, p->row->id);
		kr_buf_adds(b, ",{");
		kr_buf_addjson_kv(b, "@id", u.ptr, 0);
		kr_buf_addjson_kv(b, "@type", "dcat:Dataset", 1);
		kr_buf_addjson_kv(b, "dct:identifier", p->row->id, 1);
		kr_buf_addjson_kv(b, "dct:title", p->row->title, 1);
		kr_buf_addjson_kv(b, "dct:description", notes, 1);
		kr_buf_addjson_kv(b, "dct:language", "ja", 1);
		kr_buf_addjson_kv(b, "owl:versionInfo", p->row->version, 1);
		kr_buf_addjson_kv(b, "dct:rights", attr, 1);
		if (p->row->published) {
			kr_buf_adds(b, ",\"dct:issued\":{");
			kr_buf_addjson_kv(b, "@value", p->row->published, 0);
			kr_buf_adds(b, ",\"@type\":\"xsd:date\"}");
		}
		kr_buf_adds(b, ",\"dct:modified\":{");
		kr_buf_addjson_kv(b, "@value", modified, 0);
		kr_buf_adds(b, ",\"@type\":\"xsd:dateTime\"},\"dcat:landingPage\":{");
		kr_buf_addjson_kv(b, "@id", u.ptr, 0);
		kr_buf_adds(b, "},\"dct:license\":{");
		kr_buf_addjson_kv(b, "@id", s_license_url(lic), 0);
		kr_buf_adds(b, "},\"dct:publisher\":{\"@type\":\"foaf:Organization\"");
		kr_buf_addjson_kv(b, "foaf:name", p->row->pub_name, 1);
		kr_buf_addjson_kv(b, "dct:identifier", p->row->pub_code, 1);
		kr_buf_adds(b, "},\"rdfs:seeAlso\":{");
		kr_buf_clear(&u);
		kr_buf_addf(&u, "%s/manifests/%s", r->base, p->row->publisher);
		kr_buf_addjson_kv(b, "@id", u.ptr, 0);
		kr_buf_adds(b, "},\"dcat:distribution\":[");
		for (size_t f = 0; f < sizeof(kr_web_formats) / sizeof(kr_web_formats[0]); f++) {
			kr_buf_clear(&u);
			kr_buf_addf(&u, "%s/items/%s/export/%s", r->base, p->row->id, kr_web_formats[f].name);
			kr_buf_adds(b, f ? ",{" : "{");
			kr_buf_addjson_kv(b, "@id", u.ptr, 0);
			kr_buf_adds(b, "}");
		}
		kr_buf_adds(b, "]}");
		for (size_t f = 0; f < sizeof(kr_web_formats) / sizeof(kr_web_formats[0]); f++) {
			const kr_web_format *fm = &kr_web_formats[f];
			size_t size = 0, nrow = 0;
			char sha[65], mt[64];
			int have = kr_web_export_digest(c, &p->x, fm, &size, sha, &nrow) == 0;
			kr_error_clear();
			snprintf(mt, sizeof(mt), "%.*s", (int)strcspn(fm->type, ";"), fm->type);
			kr_buf_clear(&u);
			kr_buf_addf(&u, "%s/items/%s/export/%s", r->base, p->row->id, fm->name);
			kr_buf_adds(b, ",{");
			kr_buf_addjson_kv(b, "@id", u.ptr, 0);
			kr_buf_addjson_kv(b, "@type", "dcat:Distribution", 1);
			kr_buf_addjson_kv(b, "dct:title", fm->label, 1);
			kr_buf_addjson_kv(b, "dct:format", fm->ckan_format, 1);
			kr_buf_addjson_kv(b, "dcat:mediaType", mt, 1);
			kr_buf_adds(b, ",\"dcat:downloadURL\":{");
			kr_buf_addjson_kv(b, "@id", u.ptr, 0);
			kr_buf_adds(b, "},\"dcat:accessURL\":{");
			kr_buf_addjson_kv(b, "@id", u.ptr, 0);
			kr_buf_adds(b, "},\"dct:license\":{");
			kr_buf_addjson_kv(b, "@id", s_license_url(lic), 0);
			kr_buf_adds(b, "}");
			if (have) {
				kr_buf_addf(b, ",\"dcat:byteSize\":{\"@value\":\"%zu\",\"@type\":\"xsd:nonNegativeInteger\"}", size);
				kr_buf_adds(b, ",\"spdx:checksum\":{\"@type\":\"spdx:Checksum\",\"spdx:algorithm\":"
				    "{\"@id\":\"spdx:checksumAlgorithm_sha256\"},\"spdx:checksumValue\":{");
				kr_buf_addjson_kv(b, "@value", sha, 0);
				kr_buf_adds(b, ",\"@type\":\"xsd:hexBinary\"}}");
			}
			kr_buf_adds(b, "}");
		}
		free(attr);
		free(notes);
	}
	/* paging, as ckanext-dcat writes and reads it */
	kr_buf_clear(&u);
	s_dcat_page_url(&u, r, (size_t)page, since);
	kr_buf_adds(b, ",{");
	kr_buf_addjson_kv(b, "@id", u.ptr, 0);
	kr_buf_addjson_kv(b, "@type", "hydra:PagedCollection", 1);
	kr_buf_addf(b, ",\"hydra:totalItems\":%zu,\"hydra:itemsPerPage\":%d", npkgs, DCAT_PAGE);
	kr_buf_clear(&u);
	s_dcat_page_url(&u, r, 1, since);
	kr_buf_addjson_kv(b, "hydra:first", u.ptr, 1);
	kr_buf_clear(&u);
	s_dcat_page_url(&u, r, pages, since);
	kr_buf_addjson_kv(b, "hydra:last", u.ptr, 1);
	if ((size_t)page < pages) {
		kr_buf_clear(&u);
		s_dcat_page_url(&u, r, (size_t)page + 1, since);
		kr_buf_addjson_kv(b, "hydra:next", u.ptr, 1);
	}
	if (page > 1) {
		kr_buf_clear(&u);
		s_dcat_page_url(&u, r, (size_t)page - 1, since);
		kr_buf_addjson_kv(b, "hydra:previous", u.ptr, 1);
	}
	kr_buf_adds(b, "}]}\n");
done:
	s_pkgs_free(pkgs, npkgs, rows, nrows);
	kr_buf_release(&u);
	return rc;
}
