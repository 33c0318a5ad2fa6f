/*
 * policies/dataset.c - JSONL row checks (jansson)
 */
#include "dataset.h"

#include <stdlib.h>
#include <string.h>

#include <jansson.h>

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

static const char *
s_str(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	return json_is_string(v) ? json_string_value(v) : NULL;
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
		json_error_t err;
		json_t *o;
		const char *id, *q, *a, *upd;

		row++;
		if (l == 0 || (l == 1 && *p == '\r')) {
			p += l + 1;
			continue;
		}
		o = json_loadb(p, l, JSON_REJECT_DUPLICATES, &err);
		if (!o || !json_is_object(o)) {
			kr_findings_add(f, file, row, 1, "jsonl", "row %d is not a JSON object%s%s (column %d)", row,
			    o ? "" : ": ", o ? "" : err.text, o ? 0 : err.column);
			json_decref(o);
			p += l + 1;
			continue;
		}
		id = s_str(o, "id");
		q = s_str(o, "question");
		a = s_str(o, "answer");
		upd = s_str(o, "updated");
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
		if (!json_is_object(json_object_get(o, "source")) || !s_str(json_object_get(o, "source"), "issuer"))
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
		json_decref(o);
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
