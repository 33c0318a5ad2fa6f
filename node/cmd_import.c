/*
 * node/cmd_import.c - case records from a spreadsheet (CSV) into item files
 *
 * Japanese Excel saves CSV as Shift_JIS (CP932) unless told otherwise, so
 * the encoding is detected: a UTF-8 BOM or valid UTF-8 is UTF-8, anything
 * else is converted from CP932 (glibc iconv). Columns map to fields by
 * their header (Japanese or field names, --map to override). Every row
 * becomes a case file that goes through exactly the checks of publish;
 * rows that fail are listed with the reason, and no file is written for
 * them.
 */
#include <errno.h>
#include <getopt.h>
#include <iconv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../policies/item.h"
#include "cli.h"

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
s_case(kr_cli *c, char *const *v, const char *slug)
{
	kr_buf b = KR_BUF_INIT;
	char today[32];
	const char *pub = v[s_field_index("published")], *upd = v[s_field_index("updated")];

	kr_time_iso(today, kr_now());
	today[10] = '\0';
	kr_buf_adds(&b, "---\nkind: case\n");
	kr_buf_addf(&b, "id: %s/case/%s\ntitle: ", c->h.cfg.lg_code, slug);
	s_yq(&b, v[s_field_index("title")] ? v[s_field_index("title")] : "");
	kr_buf_addf(&b, "\npublisher: {lg_code: \"%s\", name: ", c->h.cfg.lg_code);
	s_yq(&b, c->h.cfg.name);
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
		    v[s_field_index("source.issuer")] : c->h.cfg.name);
		kr_buf_adds(&b, "}\n");
	}
	kr_buf_adds(&b, "---\n");
	if (v[s_field_index("body")])
		kr_buf_adds(&b, v[s_field_index("body")]);
	kr_buf_addch(&b, '\n');
	return kr_buf_detach(&b);
}

int
cmd_import(kr_cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "kind", required_argument, NULL, 'k' }, { "output", required_argument, NULL, 'o' },
		{ "map", required_argument, NULL, 'm' }, { "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *kind = NULL, *outdir = "imported", *map = NULL, *p, *end;
	kr_buf raw = KR_BUF_INIT, text = KR_BUF_INIT;
	kr_policy pol = { .lg_code = c->h.cfg.lg_code, .pii = &c->h.cfg.pii, .rules = &c->h.cfg.rules };
	int col[64], o, rc = 1, row = 1, written = 0, failed = 0;
	char **hdr;
	size_t nhdr;

	optind = 0;
	while ((o = getopt_long(argc, argv, "k:o:m:h", opts, NULL)) != -1) {
		switch (o) {
		case 'k': kind = optarg; break;
		case 'o': outdir = optarg; break;
		case 'm': map = optarg; break;
		case 'h': return printf("usage: kairan import FILE.csv --kind case [-o DIR] [--map 'HEADER=field,...']\n\n"
		    "Turns case records kept in a spreadsheet into item files under DIR (default ./imported),\n"
		    "ready for kairan publish. CSV from Excel is fine: UTF-8 (with or without BOM) or\n"
		    "Shift_JIS/CP932. Headers may be Japanese (タイトル, 分野, AI用途, 結果, 指標, 目標, 実績,\n"
		    "本文, 出典 ...) or field names; --map adds your own. Each row passes the checks of\n"
		    "publish or is listed with the reason.\n"), 0;
		default: return kr_cli_usage("import");
		}
	}
	if (optind != argc - 1 || !kind) {
		fprintf(stderr, "kairan: import: give the CSV file and --kind case\n");
		return 2;
	}
	if (strcmp(kind, "case") != 0) {
		fprintf(stderr, "kairan: import: only --kind case is supported (case records kept in spreadsheets)\n");
		return 2;
	}
	if (kr_file_read(&raw, argv[optind]) < 0)
		return kr_cli_fail("import");
	if (raw.len >= 3 && memcmp(raw.ptr, "\xef\xbb\xbf", 3) == 0)
		kr_buf_add(&text, raw.ptr + 3, raw.len - 3);
	else if (s_valid_utf8((const unsigned char *)raw.ptr, raw.len))
		kr_buf_add(&text, raw.ptr, raw.len);
	else if (s_from_cp932(&text, raw.ptr, raw.len) < 0) {
		kr_buf_release(&raw);
		return kr_cli_fail("import");
	}
	kr_buf_release(&raw);
	p = text.ptr;
	end = text.ptr + text.len;
	hdr = s_csv_record(&p, end, &nhdr);
	if (!hdr || nhdr > 64) {
		fprintf(stderr, "kairan: import: %s: no header row (or more than 64 columns)\n", argv[optind]);
		goto done;
	}
	for (size_t i = 0; i < nhdr; i++) {
		const char *name = hdr[i], *field = NULL;
		col[i] = -1;
		while (*name == ' ')
			name++;
		for (size_t k = 0; k < sizeof(s_map) / sizeof(s_map[0]) && !field; k++)
			if (strcmp(name, s_map[k][0]) == 0)
				field = s_map[k][1];
		if (map) { /* --map 'HEADER=field,...' wins */
			char *m = kr_strdup(map), *save = NULL;
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
		if (col[i] < 0)
			fprintf(stderr, "kairan: import: column '%s' is not used (map it with --map '%s=FIELD')\n", name, name);
	}
	kr_mkdir_p(outdir, 0755);
	for (size_t nf; ; ) {
		char **rec = s_csv_record(&p, end, &nf);
		char *v[NFIELDS] = { 0 }, *slug, *item;
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
		item = s_case(c, v, slug);
		{
			char *where = kr_sprintf("%s row %d", argv[optind], row);
			kr_item_check(&it, &pol, where, item, strlen(item), NULL, &f);
			free(where);
		}
		if (kr_findings_blocking(&f)) {
			for (size_t i = 0; i < f.n; i++)
				if (f.v[i].block)
					fprintf(stderr, "kairan: import: %s: %s [%s]\n", f.v[i].file, f.v[i].message, f.v[i].rule);
			failed++;
		} else {
			char *path = kr_sprintf("%s/%s.md", outdir, slug);
			if (kr_file_write(path, item, strlen(item), 0644) < 0) {
				fprintf(stderr, "kairan: import: %s\n", kr_errmsg());
				failed++;
			} else {
				written++;
			}
			free(path);
		}
		kr_item_clear(&it);
		kr_findings_clear(&f);
		free(item);
		free(slug);
		kr_strv_free(rec, nf);
	}
	printf("%d case file(s) written to %s/; %d row(s) refused%s\n", written, outdir, failed,
	    written ? "\nnext: kairan publish DIR" : "");
	rc = failed ? 1 : 0;
	kr_strv_free(hdr, nhdr);
done:
	kr_buf_release(&text);
	return rc;
}
