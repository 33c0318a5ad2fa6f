/*
 * policies/dataset.c - JSONL row checks and exports (JSON through sharing/json.h)
 *
 * Rows end at LF (a CR before it is JSON whitespace); a bare CR inside a
 * row is refused by name, since the exports split rows the same way.
 * Linear in the file: one parse per row, ids sorted once; findings are
 * capped per file by kr_findings_add.
 */
#include "dataset.h"

#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

#include "../sharing/json.h"
#include "frontmatter.h"
#include "pii.h"

typedef struct {
	char **v;
	size_t n, cap;
} s_ids;

static int
s_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void
kr_dataset_check_rows(const char *file, const char *data, size_t len, const kr_policy *pol, kr_findings *f)
{
	const char *p = data, *end = data + len;
	s_ids ids = { 0 };
	int row = 0;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t l = nl ? (size_t)(nl - p) : (size_t)(end - p);
		kr_json_where err;
		kr_json *o;
		const char *id, *q, *a, *upd;

		row++;
		if (l == 0 || (l == 1 && *p == '\r')) {
			p += l + 1;
			continue;
		}
		{
			/* rows end at LF (CRLF too, \r being JSON whitespace), here and in every export */
			const char *cr = memchr(p, '\r', l);
			if (cr && cr != p + l - 1) {
				kr_findings_add(f, file, row, 1, "jsonl", "row %d contains a bare CR (\\r) line end: "
				    "JSONL rows end with LF or CRLF (save the file with Unix or Windows line ends)", row);
				p += l + 1;
				continue;
			}
		}
		if (kr_json_parse(&o, p, l, 0, &err) < 0)
			kr_error_clear(); /* a finding, named below */
		if (kr_json_type(o) != KR_JSON_OBJECT) {
			kr_findings_add(f, file, row, 1, "jsonl", "row %d is not a JSON object%s%s (column %d)", row,
			    o ? "" : ": ", o ? "" : err.text, o ? 0 : err.column);
			kr_json_free(&o);
			p += l + 1;
			continue;
		}
		id = kr_json_str(o, "id");
		q = kr_json_str(o, "question");
		a = kr_json_str(o, "answer");
		upd = kr_json_str(o, "updated");
		if (!id || !*id)
			kr_findings_add(f, file, row, 1, "jsonl.id", "row %d has no id (a string unique in the dataset)", row);
		else {
			if (ids.n == ids.cap) {
				ids.cap = ids.cap ? ids.cap * 2 : 64;
				ids.v = kr_realloc(ids.v, ids.cap * sizeof(char *));
			}
			ids.v[ids.n++] = kr_strdup(id);
		}
		if (!q || !*q)
			kr_findings_add(f, file, row, 1, "jsonl.question", "row %d has no question", row);
		if (!a || !*a)
			kr_findings_add(f, file, row, 1, "jsonl.answer", "row %d has no answer", row);
		if (!kr_json_str(kr_json_get(o, "source"), "issuer"))
			kr_findings_add(f, file, row, 1, "jsonl.source",
			    "row %d needs source: {\"issuer\": \"…\"} (where the answer comes from)", row);
		if (!upd || strlen(upd) != 10 || upd[4] != '-' || upd[7] != '-')
			kr_findings_add(f, file, row, 1, "jsonl.updated", "row %d needs updated as an ISO date (YYYY-MM-DD)", row);
		{
			/* personal information in the question or answer, reported at this row */
			kr_findings pf = { 0 };
			const char *texts[2] = { q, a };
			for (int t = 0; t < 2; t++)
				if (texts[t])
					kr_pii_scan(file, texts[t], strlen(texts[t]), pol ? pol->pii : NULL, &pf);
			for (size_t i = 0; i < pf.n; i++)
				kr_findings_add(f, file, row, pf.v[i].block, pf.v[i].rule, "row %d: %s", row, pf.v[i].message);
			kr_findings_clear(&pf);
		}
		kr_json_free(&o);
		p += l + 1;
	}
	if (ids.n > 1) {
		qsort(ids.v, ids.n, sizeof(char *), s_cmp);
		for (size_t i = 1; i < ids.n; i++)
			if (strcmp(ids.v[i], ids.v[i - 1]) == 0)
				kr_findings_add(f, file, 0, 1, "jsonl.id", "id \"%s\" is used by more than one row "
				    "(ids must be unique in the dataset)", ids.v[i]);
	}
	kr_strv_free(ids.v, ids.n);
}

int
kr_dataset_export(kr_buf *out, const char *format, int header, const char *dataset_id,
    const char *jsonl, size_t len, const char *attribution, size_t *rows, size_t *skipped)
{
	const char *p = jsonl, *end = jsonl + len;
	int csv = strcmp(format, "dify-csv") == 0, lc = strcmp(format, "langchain") == 0;

	if (!csv && !lc && strcmp(format, "jsonl") != 0)
		return kr_error(KR_EUSAGE, "unknown format '%s' (jsonl, dify-csv or langchain)", format);
	if (csv && header)
		kr_buf_adds(out, "question,answer\r\n");
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t l = nl ? (size_t)(nl - p) : (size_t)(end - p);
		kr_json *o = NULL;
		const char *q, *a;

		if (l && kr_json_parse(&o, p, l, KR_JSON_DUPKEYS, NULL) < 0)
			kr_error_clear(); /* counted as skipped */
		p += l + 1;
		if (!l)
			continue;
		if (kr_json_type(o) != KR_JSON_OBJECT || !(q = kr_json_str(o, "question")) ||
		    !(a = kr_json_str(o, "answer"))) {
			(*skipped)++;
			kr_json_free(&o);
			continue;
		}
		(*rows)++;
		if (csv) {
			kr_buf ans = KR_BUF_INIT;
			kr_buf_addf(&ans, "%s\n\n%s", a, attribution);
			kr_buf_addcsvcell(out, q); /* neutralised: the file may be opened in a spreadsheet */
			kr_buf_addch(out, ',');
			kr_buf_addcsvcell(out, ans.ptr);
			kr_buf_adds(out, "\r\n");
			kr_buf_release(&ans);
		} else if (lc) {
			kr_json *doc = kr_json_object(), *meta = kr_json_object();
			const char *key;
			const kr_json *v;
			kr_buf pc = KR_BUF_INIT;
			const char *rid = kr_json_str(o, "id");
			/*
			 * id: stable across exports, for a vector store's upsert; the 出典
			 * line ends the text too, since stock loaders keep page_content
			 * and drop or replace metadata
			 */
			if (rid && *rid) {
				char *docid = kr_sprintf("%s#%s", dataset_id, rid);
				kr_json_set_str(doc, "id", docid);
				free(docid);
			}
			kr_buf_addf(&pc, "Q: %s\nA: %s\n\n%s", q, a, attribution);
			kr_json_set_str(doc, "page_content", pc.ptr);
			/* flat metadata: scalars as they are, lists joined, objects flattened one level */
			for (void *it = kr_json_next(o, NULL, &key, &v); it; it = kr_json_next(o, it, &key, &v)) {
				if (strcmp(key, "question") == 0 || strcmp(key, "answer") == 0)
					continue;
				if (kr_json_type(v) == KR_JSON_ARRAY) {
					kr_buf j = KR_BUF_INIT;
					for (size_t i = 0; i < kr_json_size(v); i++)
						if (kr_json_string(kr_json_at(v, i)))
							kr_buf_addf(&j, "%s%s", j.len ? ", " : "", kr_json_string(kr_json_at(v, i)));
					kr_json_set_str(meta, key, j.ptr);
					kr_buf_release(&j);
				} else if (kr_json_type(v) == KR_JSON_OBJECT) {
					const char *k2;
					const kr_json *v2;
					for (void *i2 = kr_json_next(v, NULL, &k2, &v2); i2; i2 = kr_json_next(v, i2, &k2, &v2)) {
						if (kr_json_type(v2) == KR_JSON_STRING || kr_json_type(v2) == KR_JSON_NUMBER) {
							char *name = kr_sprintf("%s_%s", key, k2);
							kr_json_set(meta, name, v2);
							free(name);
						}
					}
				} else {
					kr_json_set(meta, key, v);
				}
			}
			kr_json_set_str(meta, "dataset", dataset_id);
			kr_json_set_str(meta, "attribution", attribution);
			kr_json_set_new(doc, "metadata", &meta);
			kr_json_dump(out, doc);
			kr_buf_addch(out, '\n');
			kr_json_free(&doc);
			kr_buf_release(&pc);
		} else {
			kr_json_set_str(o, "attribution", attribution);
			kr_json_dump(out, o);
			kr_buf_addch(out, '\n');
		}
		kr_json_free(&o);
	}
	return 0;
}

/* The strings of a JSON list joined with "\n" (non-strings skipped); caller releases. */
static void
s_join(kr_buf *b, const kr_json *v)
{
	kr_buf_clear(b);
	kr_buf_adds(b, "");
	for (size_t i = 0; i < kr_json_size(v); i++)
		if (kr_json_string(kr_json_at(v, i)))
			kr_buf_addf(b, "%s%s", b->len ? "\n" : "", kr_json_string(kr_json_at(v, i)));
}

int
kr_dataset_rows(const char *jsonl, size_t len, int (*cb)(void *arg, const kr_dataset_row *row), void *arg)
{
	const char *p = jsonl, *end = jsonl + len;
	kr_buf alt = KR_BUF_INIT, kw = KR_BUF_INIT;
	int line = 0, rc = 0;

	while (p < end && rc == 0) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t l = nl ? (size_t)(nl - p) : (size_t)(end - p);
		kr_json *o = NULL;
		kr_dataset_row row = { 0 };
		const kr_json *src;

		if (l && kr_json_parse(&o, p, l, 0, NULL) < 0)
			kr_error_clear(); /* a row the checks refuse: skipped */
		line++;
		p += l + 1;
		if (kr_json_type(o) != KR_JSON_OBJECT || !(row.id = kr_json_str(o, "id")) || !*row.id ||
		    !(row.question = kr_json_str(o, "question")) || !(row.answer = kr_json_str(o, "answer"))) {
			kr_json_free(&o);
			continue;
		}
		row.updated = kr_json_str(o, "updated");
		s_join(&alt, kr_json_get(o, "alt_questions"));
		s_join(&kw, kr_json_get(o, "keywords"));
		row.alt_questions = alt.ptr;
		row.keywords = kw.ptr;
		row.category = kr_json_str(o, "category");
		src = kr_json_get(o, "source");
		row.issuer = kr_json_str(src, "issuer");
		row.source_title = kr_json_str(src, "title");
		row.line = line;
		rc = cb(arg, &row);
		kr_json_free(&o);
	}
	kr_buf_release(&alt);
	kr_buf_release(&kw);
	return rc;
}

typedef struct {
	const char *want, *attribution;
	kr_buf *out;
	const char *jsonl;
	size_t len;
} s_find;

static int
s_row_print(void *arg, const kr_dataset_row *row)
{
	s_find *x = arg;
	const char *p = x->jsonl;

	if (strcmp(row->id, x->want) != 0)
		return 0;
	kr_buf_addf(x->out, "Q: %s\nA: %s\n", row->question, row->answer);
	if (*row->alt_questions) {
		kr_buf_adds(x->out, "別の聞き方:\n");
		for (const char *a = row->alt_questions; *a;) {
			size_t l = strcspn(a, "\n");
			kr_buf_addf(x->out, "  - %.*s\n", (int)l, a);
			a += l + (a[l] == '\n');
		}
	}
	if (*row->keywords) {
		kr_buf_adds(x->out, "キーワード: ");
		for (const char *k = row->keywords; *k; k++) {
			if (*k == '\n')
				kr_buf_adds(x->out, "、");
			else
				kr_buf_addch(x->out, *k);
		}
		kr_buf_addch(x->out, '\n');
	}
	if (row->category)
		kr_buf_addf(x->out, "カテゴリ: %s\n", row->category);
	if (row->issuer)
		kr_buf_addf(x->out, "情報源: %s%s%s%s\n", row->issuer, row->source_title ? "「" : "",
		    row->source_title ? row->source_title : "", row->source_title ? "」" : "");
	if (row->updated)
		kr_buf_addf(x->out, "更新日: %s\n", row->updated);
	if (x->attribution)
		kr_buf_addf(x->out, "%s\n", x->attribution);
	/* the row as published: line row->line of the file */
	for (int i = 1; i < row->line; i++)
		p = (const char *)memchr(p, '\n', (size_t)(x->jsonl + x->len - p)) + 1;
	{
		const char *e = memchr(p, '\n', (size_t)(x->jsonl + x->len - p));
		size_t l = e ? (size_t)(e - p) : (size_t)(x->jsonl + x->len - p);
		if (l && p[l - 1] == '\r')
			l--;
		kr_buf_adds(x->out, "\n");
		kr_buf_add(x->out, p, l);
		kr_buf_addch(x->out, '\n');
	}
	return 1;
}

int
kr_dataset_row_text(kr_buf *out, const char *jsonl, size_t len, const char *row_id, const char *attribution)
{
	s_find x = { .want = row_id, .attribution = attribution, .out = out, .jsonl = jsonl, .len = len };

	if (kr_dataset_rows(jsonl, len, s_row_print, &x) != 1)
		return kr_error(KR_ENOTFOUND, "no row with id '%s'", row_id);
	return 0;
}

/* One data_files path (a name or a glob, relative to the card's folder) against the data/ files. */
static void
s_data_file(const char *file, const kr_yaml *v, char *const *rowfiles, size_t n, kr_findings *f)
{
	const char *path = v->value;
	int glob = strpbrk(path, "*?[") != NULL, found = 0;

	for (size_t i = 0; i < n && !found; i++) {
		char *have = kr_sprintf("data/%s", rowfiles[i]);
		found = glob ? fnmatch(path, have, FNM_PATHNAME) == 0 : strcmp(path, have) == 0;
		free(have);
	}
	if (!found) {
		kr_buf list = KR_BUF_INIT;
		for (size_t i = 0; i < n; i++)
			kr_buf_addf(&list, "%sdata/%s", i ? ", " : "", rowfiles[i]);
		kr_findings_add(f, file, v->line, 1, "data_files", "data_files %s '%s' matches no file beside the "
		    "card (it has: %s); the Hugging Face Hub and `datasets` would fail to load it", glob ? "pattern" : "path",
		    path, list.len ? list.ptr : "no data/*.jsonl");
		kr_buf_release(&list);
	}
}

/* A data_files value: a path, a list of paths, or a list of {split, path} (path: one or a list). */
static void
s_data_files(const char *file, const kr_yaml *v, char *const *rowfiles, size_t n, kr_findings *f)
{
	if (v->type == KR_YAML_SCALAR) {
		s_data_file(file, v, rowfiles, n, f);
		return;
	}
	if (v->type == KR_YAML_MAP) {
		const kr_yaml *p = kr_yaml_get(v, "path");
		if (!p)
			kr_findings_add(f, file, v->line, 1, "data_files", "a data_files entry needs path: (e.g. "
			    "{split: train, path: data/qa.jsonl})");
		else if (p->type == KR_YAML_MAP)
			kr_findings_add(f, file, p->line, 1, "data_files", "data_files path must be a file name or a list of them");
		else
			s_data_files(file, p, rowfiles, n, f);
		return;
	}
	for (size_t i = 0; i < v->n; i++)
		s_data_files(file, v->items[i], rowfiles, n, f);
}

void
kr_dataset_check_data_files(const char *file, const char *card, size_t len, char *const *rowfiles, size_t n,
    kr_findings *f)
{
	kr_yaml *fm = NULL;
	const char *body;
	int bl;
	const kr_yaml *configs;

	if (kr_frontmatter_parse(&fm, card, len, &body, &bl) < 0) {
		kr_error_clear(); /* reported by the item check */
		return;
	}
	configs = kr_yaml_get(fm, "configs");
	for (size_t i = 0; configs && configs->type == KR_YAML_SEQ && i < configs->n; i++) {
		const kr_yaml *df = kr_yaml_get(configs->items[i], "data_files");
		if (df)
			s_data_files(file, df, rowfiles, n, f);
	}
	kr_yaml_free(&fm);
}
