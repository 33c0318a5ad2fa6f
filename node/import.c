/*
 * node/import.c - case records from a spreadsheet (CSV) into case items
 *
 * Japanese Excel saves CSV as Shift_JIS (CP932) unless told otherwise, so
 * the encoding is detected: a UTF-8 BOM or valid UTF-8 is UTF-8, anything
 * else is converted from CP932 (glibc iconv). Columns map to fields by
 * their header (Japanese or field names, --map to override). Every row
 * becomes a case item that goes through exactly the checks of publish.
 * No I/O: `kairan import` (node/cmd_import.c) writes the files, and the
 * fuzzer (tests/fuzz/fuzz_import.c) drives this with arbitrary bytes.
 */
#include "import.h"

#include <errno.h>
#include <iconv.h>
#include <stdlib.h>
#include <string.h>

#define MAX_COLUMNS 64

/* header -> field; lists are split on 、 ; , / */
static const char *const s_map[][2] = {
	{ "タイトル", "title" }, { "件名", "title" }, { "事例名", "title" }, { "スラッグ", "slug" },
	{ "分野", "domains" }, { "AI用途", "ai_uses" }, { "活用方法", "ai_uses" }, { "用途", "ai_uses" },
	{ "導入方式", "deployment" }, { "段階", "stage" }, { "結果", "outcome" }, { "指標", "metric.name" },
	{ "指標名", "metric.name" }, { "単位", "metric.unit" }, { "目標", "metric.target" },
	{ "実績", "metric.achieved" }, { "人口", "population.value" }, { "人口年", "population.year" },
	{ "公開日", "published" }, { "更新日", "updated" }, { "本文", "body" }, { "概要", "body" },
	{ "出典", "source.title" }, { "出典資料", "source.title" }, { "出典発行者", "source.issuer" },
	{ "発行者", "source.issuer" }, { "リスク", "risks" }, { "対策", "mitigations" }, { "教訓", "lessons" },
	{ "ライセンス", "license" }, { "機密性", "confidentiality" }, { "版", "version" },
};
static const char *const s_fields[] = {
	"title", "slug", "domains", "ai_uses", "deployment", "stage", "outcome", "metric.name",
	"metric.unit", "metric.target", "metric.achieved", "population.value", "population.year",
	"published", "updated", "body", "source.title", "source.issuer", "risks", "mitigations",
	"lessons", "license", "confidentiality", "version",
};
#define NFIELDS (sizeof(s_fields) / sizeof(s_fields[0]))

static int
s_field_index(const char *name)
{
	for (size_t i = 0; i < NFIELDS; i++)
		if (strcmp(s_fields[i], name) == 0)
			return (int)i;
	return -1;
}

static int
s_valid_utf8(const unsigned char *s, size_t n)
{
	for (size_t i = 0; i < n;) {
		unsigned char c = s[i];
		size_t l = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
		if (!l || i + l > n)
			return 0;
		for (size_t k = 1; k < l; k++)
			if ((s[i + k] & 0xC0) != 0x80)
				return 0;
		i += l;
	}
	return 1;
}

/* Converts CP932 to UTF-8; KR_EUSAGE naming the byte offset on failure. */
static int
s_from_cp932(kr_buf *out, const char *in, size_t len)
{
	iconv_t cd = iconv_open("UTF-8", "CP932");
	char *src = (char *)in;
	size_t left = len;

	if (cd == (iconv_t)-1)
		return kr_error(KR_EIO, "this system cannot convert from CP932 (Shift_JIS)");
	kr_buf_grow(out, len * 2 + 16);
	while (left) {
		char *dst = out->ptr + out->len;
		size_t room = out->cap - out->len - 1, before = room;
		size_t r = iconv(cd, &src, &left, &dst, &room);
		out->len += before - room;
		if (r == (size_t)-1) {
			if (errno == E2BIG) {
				kr_buf_grow(out, len);
				continue;
			}
			iconv_close(cd);
			return kr_error(KR_EUSAGE, "the file is neither UTF-8 nor Shift_JIS/CP932 "
			    "(bad byte at offset %zu): save it as CSV UTF-8", (size_t)(src - in));
		}
	}
	out->ptr[out->len] = '\0';
	iconv_close(cd);
	return 0;
}

/* RFC 4180: the next record's fields (caller frees); NULL at the end. */
static char **
s_csv_record(const char **pp, const char *end, size_t *nfields)
{
	const char *p = *pp;
	char **f = NULL;
	size_t n = 0;

	if (p >= end)
		return NULL;
	for (;;) {
		kr_buf v = KR_BUF_INIT;
		if (*p == '"') {
			for (p++; p < end; p++) {
				if (*p == '"') {
					if (p + 1 < end && p[1] == '"') {
						kr_buf_addch(&v, '"');
						p++;
					} else {
						p++;
						break;
					}
				} else if (*p == '\r' && p + 1 < end && p[1] == '\n') {
					/* CRLF inside a quoted field is a line break */
				} else {
					kr_buf_addch(&v, *p);
				}
			}
		} else {
			while (p < end && *p != ',' && *p != '\n' && *p != '\r')
				kr_buf_addch(&v, *p++);
		}
		f = kr_realloc(f, (n + 1) * sizeof(char *));
		f[n++] = kr_buf_detach(&v);
		if (p < end && *p == ',') {
			p++;
			continue;
		}
		if (p < end && *p == '\r')
			p++;
		if (p < end && *p == '\n')
			p++;
		break;
	}
	*pp = p;
	*nfields = n;
	return f;
}

/* A YAML double-quoted scalar. */
static void
s_yq(kr_buf *b, const char *s)
{
	kr_buf_addch(b, '"');
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			kr_buf_addch(b, '\\');
		if (*s == '\n')
			kr_buf_adds(b, "\\n");
		else if (*s != '\r')
			kr_buf_addch(b, *s);
	}
	kr_buf_addch(b, '"');
}

/* A YAML flow list from a cell split on 、 ; , ／ / and line breaks. */
static void
s_ylist(kr_buf *b, const char *cell)
{
	const char *seps[] = { "、", "；", "，", "／", ";", ",", "/", "\n" };
	const char *p = cell;
	int first = 1;

	kr_buf_addch(b, '[');
	while (*p) {
		const char *next = NULL;
		size_t sl = 0;
		for (size_t i = 0; i < sizeof(seps) / sizeof(seps[0]); i++) {
			const char *q = strstr(p, seps[i]);
			if (q && (!next || q < next)) {
				next = q;
				sl = strlen(seps[i]);
			}
		}
		{
			size_t l = next ? (size_t)(next - p) : strlen(p);
			while (l && (*p == ' ' || strncmp(p, "　", 3) == 0)) {
				size_t s = *p == ' ' ? 1 : 3;
				p += s;
				l -= s;
			}
			while (l && p[l - 1] == ' ')
				l--;
			if (l) {
				char *item = kr_strndup(p, l);
				if (!first)
					kr_buf_adds(b, ", ");
				s_yq(b, item);
				free(item);
				first = 0;
			}
		}
		if (!next)
			break;
		p = next + sl;
	}
	kr_buf_addch(b, ']');
}

/* Builds a case item from one row's fields (v[i] for s_fields[i], may be NULL). */
static char *
s_case(const kr_import *im, char *const *v, const char *slug)
{
	kr_buf b = KR_BUF_INIT;
	char today[32];
	const char *pub = v[s_field_index("published")], *upd = v[s_field_index("updated")];

	kr_time_iso(today, kr_now());
	today[10] = '\0';
	kr_buf_adds(&b, "---\nkind: case\n");
	kr_buf_addf(&b, "id: %s/case/%s\ntitle: ", im->lg_code, slug);
	s_yq(&b, v[s_field_index("title")] ? v[s_field_index("title")] : "");
	kr_buf_addf(&b, "\npublisher: {lg_code: \"%s\", name: ", im->lg_code);
	s_yq(&b, im->name);
	kr_buf_addf(&b, "}\nversion: %s\n", v[s_field_index("version")] ? v[s_field_index("version")] : "1.0.0");
	kr_buf_addf(&b, "published: %s\nupdated: %s\n", pub && *pub ? pub : today,
	    upd && *upd ? upd : pub && *pub ? pub : today);
	kr_buf_addf(&b, "license: %s\nconfidentiality: %s\n",
	    v[s_field_index("license")] && *v[s_field_index("license")] ? v[s_field_index("license")] : "PDL-1.0",
	    v[s_field_index("confidentiality")] && *v[s_field_index("confidentiality")] ? v[s_field_index("confidentiality")] : "機密性1");
	{
		static const char *const lists[] = { "domains", "ai_uses", "risks", "mitigations", "lessons" };
		for (size_t i = 0; i < 5; i++) {
			const char *cell = v[s_field_index(lists[i])];
			if (cell && *cell) {
				kr_buf_addf(&b, "%s: ", lists[i]);
				s_ylist(&b, cell);
				kr_buf_addch(&b, '\n');
			}
		}
	}
	{
		static const char *const scalars[] = { "deployment", "stage", "outcome" };
		for (size_t i = 0; i < 3; i++) {
			const char *cell = v[s_field_index(scalars[i])];
			if (cell && *cell)
				kr_buf_addf(&b, "%s: %s\n", scalars[i], cell);
		}
	}
	if (v[s_field_index("population.value")] && *v[s_field_index("population.value")]) {
		kr_buf_addf(&b, "population: {value: %s", v[s_field_index("population.value")]);
		if (v[s_field_index("population.year")] && *v[s_field_index("population.year")])
			kr_buf_addf(&b, ", year: %s", v[s_field_index("population.year")]);
		kr_buf_adds(&b, "}\n");
	}
	if (v[s_field_index("metric.name")] && *v[s_field_index("metric.name")] &&
	    v[s_field_index("metric.achieved")] && *v[s_field_index("metric.achieved")]) {
		kr_buf_adds(&b, "metrics:\n  - {name: ");
		s_yq(&b, v[s_field_index("metric.name")]);
		kr_buf_adds(&b, ", unit: ");
		s_yq(&b, v[s_field_index("metric.unit")] ? v[s_field_index("metric.unit")] : "");
		if (v[s_field_index("metric.target")] && *v[s_field_index("metric.target")])
			kr_buf_addf(&b, ", target: %s", v[s_field_index("metric.target")]);
		kr_buf_addf(&b, ", achieved: %s}\n", v[s_field_index("metric.achieved")]);
	}
	if (v[s_field_index("source.title")] && *v[s_field_index("source.title")]) {
		kr_buf_adds(&b, "sources:\n  - {title: ");
		s_yq(&b, v[s_field_index("source.title")]);
		kr_buf_adds(&b, ", issuer: ");
		s_yq(&b, v[s_field_index("source.issuer")] && *v[s_field_index("source.issuer")] ?
		    v[s_field_index("source.issuer")] : im->name);
		kr_buf_adds(&b, "}\n");
	}
	kr_buf_adds(&b, "---\n");
	if (v[s_field_index("body")])
		kr_buf_adds(&b, v[s_field_index("body")]);
	kr_buf_addch(&b, '\n');
	return kr_buf_detach(&b);
}

int
kr_import_csv(const kr_import *im, const char *data, size_t len)
{
	kr_buf text = KR_BUF_INIT;
	const char *p, *end;
	int col[MAX_COLUMNS], row = 1, rc = 0;
	char **hdr = NULL;
	size_t nhdr = 0;

	if (len >= 3 && memcmp(data, "\xef\xbb\xbf", 3) == 0)
		kr_buf_add(&text, data + 3, len - 3);
	else if (s_valid_utf8((const unsigned char *)data, len))
		kr_buf_add(&text, data, len);
	else if ((rc = s_from_cp932(&text, data, len)) < 0)
		goto done;
	p = text.ptr;
	end = text.ptr + text.len;
	hdr = s_csv_record(&p, end, &nhdr);
	if (!hdr || nhdr > MAX_COLUMNS) {
		rc = kr_error(KR_EUSAGE, "%s: no header row (or more than %d columns)", im->file, MAX_COLUMNS);
		goto done;
	}
	for (size_t i = 0; i < nhdr; i++) {
		const char *name = hdr[i], *field = NULL;
		while (*name == ' ')
			name++;
		for (size_t k = 0; k < sizeof(s_map) / sizeof(s_map[0]) && !field; k++)
			if (strcmp(name, s_map[k][0]) == 0)
				field = s_map[k][1];
		if (im->map) { /* --map 'HEADER=field,...' wins */
			char *m = kr_strdup(im->map), *save = NULL;
			for (char *e = strtok_r(m, ",", &save); e; e = strtok_r(NULL, ",", &save)) {
				char *eq = strchr(e, '=');
				if (eq && (size_t)(eq - e) == strlen(name) && strncmp(e, name, (size_t)(eq - e)) == 0 &&
				    s_field_index(eq + 1) >= 0)
					field = s_fields[s_field_index(eq + 1)];
			}
			free(m);
		}
		if (!field && s_field_index(name) >= 0)
			field = name;
		col[i] = field ? s_field_index(field) : -1;
		if (col[i] < 0 && im->unused_column)
			im->unused_column(im->arg, name);
	}
	for (size_t nf; rc == 0;) {
		char **rec = s_csv_record(&p, end, &nf);
		char *v[NFIELDS] = { 0 }, *slug, *item, *where;
		kr_findings f = { 0 };
		kr_item it;
		int empty = 1;

		if (!rec)
			break;
		row++;
		for (size_t i = 0; i < nf && i < nhdr; i++) {
			if (col[i] >= 0)
				v[col[i]] = rec[i];
			empty &= rec[i][0] == '\0';
		}
		if (empty) {
			kr_strv_free(rec, nf);
			continue;
		}
		slug = v[s_field_index("slug")] && *v[s_field_index("slug")] ? kr_strdup(v[s_field_index("slug")])
		                                                              : kr_sprintf("imported-%d", row);
		item = s_case(im, v, slug);
		where = kr_sprintf("%s row %d", im->file, row);
		kr_item_check(&it, im->pol, where, item, strlen(item), NULL, &f);
		rc = im->row(im->arg, row, slug, item, &f);
		free(where);
		kr_item_clear(&it);
		kr_findings_clear(&f);
		free(item);
		free(slug);
		kr_strv_free(rec, nf);
	}
done:
	kr_strv_free(hdr, nhdr);
	kr_buf_release(&text);
	return rc;
}
