/*
 * node/import.c - case records from a spreadsheet (CSV) into case items
 *
 * Japanese Excel saves CSV as Shift_JIS (CP932) unless told otherwise, so
 * the encoding is detected: a UTF-8 BOM or valid UTF-8 is UTF-8, anything
 * else is converted from CP932 (glibc iconv). Columns map to fields by
 * their header (Japanese or field names, --map to override). Every row
 * becomes a case item that goes through exactly the checks of publish.
 *
 * Invariant: no value is bent. Text cells are copied as they are (quoted
 * in YAML, so "yes" or "1.10" stay text); numbers and dates are read by
 * policies/values.c or refused with row, column and value; list cells
 * split only on line breaks (or an explicit --separator), never on 、,
 * which sentences contain; confidentiality and licence come from the row
 * or an explicit flag, never a default. An item's id comes from its
 * id/slug column or a stable hash of its title, so importing the same
 * sheet again gives the same items: an unchanged row gives the file as
 * last published, a changed one the next patch version with version_notes.
 * No I/O: `kairan import` (node/cmd_import.c) writes the files and finds
 * what was published, and the fuzzer (tests/fuzz/fuzz_import.c) drives
 * this with arbitrary bytes.
 */
#include "import.h"

#include <errno.h>
#include <iconv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../policies/frontmatter.h"
#include "../policies/values.h"
#include "../sharing/sign.h"

#define MAX_COLUMNS 64

/* header -> field */
static const char *const s_map[][2] = {
	{ "タイトル", "title" }, { "件名", "title" }, { "事例名", "title" }, { "スラッグ", "slug" },
	{ "ID", "slug" }, { "id", "slug" }, { "識別子", "slug" },
	{ "分野", "domains" }, { "AI用途", "ai_uses" }, { "活用方法", "ai_uses" }, { "用途", "ai_uses" },
	{ "導入方式", "deployment" }, { "段階", "stage" }, { "結果", "outcome" }, { "指標", "metric.name" },
	{ "指標名", "metric.name" }, { "単位", "metric.unit" }, { "目標", "metric.target" },
	{ "実績", "metric.achieved" }, { "人口", "population.value" }, { "人口年", "population.year" },
	{ "公開日", "published" }, { "更新日", "updated" }, { "本文", "body" }, { "概要", "body" },
	{ "出典", "source.title" }, { "出典資料", "source.title" }, { "出典発行者", "source.issuer" },
	{ "発行者", "source.issuer" }, { "リスク", "risks" }, { "対策", "mitigations" }, { "教訓", "lessons" },
	{ "ライセンス", "license" }, { "機密性", "confidentiality" }, { "版", "version" },
	{ "改訂理由", "version_notes" }, { "版の説明", "version_notes" },
};
static const char *const s_fields[] = {
	"title", "slug", "domains", "ai_uses", "deployment", "stage", "outcome", "metric.name",
	"metric.unit", "metric.target", "metric.achieved", "population.value", "population.year",
	"published", "updated", "body", "source.title", "source.issuer", "risks", "mitigations",
	"lessons", "license", "confidentiality", "version", "version_notes",
};
#define NFIELDS (sizeof(s_fields) / sizeof(s_fields[0]))
enum {
	F_TITLE, F_SLUG, F_DOMAINS, F_AI_USES, F_DEPLOYMENT, F_STAGE, F_OUTCOME, F_METRIC_NAME,
	F_METRIC_UNIT, F_METRIC_TARGET, F_METRIC_ACHIEVED, F_POP_VALUE, F_POP_YEAR,
	F_PUBLISHED, F_UPDATED, F_BODY, F_SOURCE_TITLE, F_SOURCE_ISSUER, F_RISKS, F_MITIGATIONS,
	F_LESSONS, F_LICENSE, F_CONFIDENTIALITY, F_VERSION, F_VERSION_NOTES,
};

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

/* A YAML double-quoted scalar: every character kept (a CR before LF is the line end). */
static void
s_yq(kr_buf *b, const char *s)
{
	kr_buf_addch(b, '"');
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			kr_buf_addf(b, "\\%c", c);
		else if (c == '\n')
			kr_buf_adds(b, "\\n");
		else if (c == '\r' && s[1] == '\n')
			;
		else if (c == '\t')
			kr_buf_adds(b, "\\t");
		else if (c < 0x20 || c == 0x7f)
			kr_buf_addf(b, "\\x%02x", c);
		else
			kr_buf_addch(b, (char)c);
	}
	kr_buf_addch(b, '"');
}

/* Whether s (n bytes) is only ASCII spaces and ideographic spaces. */
static size_t
s_trim_left(const char *p, size_t l)
{
	size_t k = 0;

	while (k < l && (p[k] == ' ' || p[k] == '\r' || (l - k >= 3 && strncmp(p + k, "　", 3) == 0)))
		k += p[k] == ' ' || p[k] == '\r' ? 1 : 3;
	return k;
}

static size_t
s_trim_right(const char *p, size_t l)
{
	while (l && (p[l - 1] == ' ' || p[l - 1] == '\r' || (l >= 3 && strncmp(p + l - 3, "　", 3) == 0)))
		l -= p[l - 1] == ' ' || p[l - 1] == '\r' ? 1 : 3;
	return l;
}

/* A YAML flow list from a cell split on line breaks and sep (NULL: none); items trimmed. */
static void
s_ylist(kr_buf *b, const char *cell, const char *sep)
{
	const char *p = cell;
	int first = 1;

	kr_buf_addch(b, '[');
	while (*p) {
		const char *nl = strchr(p, '\n'), *sp = sep && *sep ? strstr(p, sep) : NULL;
		const char *next = nl && (!sp || nl < sp) ? nl : sp;
		size_t l = next ? (size_t)(next - p) : strlen(p), k = s_trim_left(p, l);
		l = s_trim_right(p + k, l - k);
		if (l) {
			char *item = kr_strndup(p + k, l);
			if (!first)
				kr_buf_adds(b, ", ");
			s_yq(b, item);
			free(item);
			first = 0;
		}
		if (!next)
			break;
		p = next + (next == nl ? 1 : strlen(sep));
	}
	kr_buf_addch(b, ']');
}

/* One row's values, read exactly; strings owned. */
typedef struct {
	const char *cell[NFIELDS];      /* as the sheet holds them (borrowed; NULL or "" when empty) */
	char *pop_value, *pop_year, *target, *achieved, *unit;
	char published[11], updated[11];
	const char *version, *notes, *license, *conf;
} s_row_values;

static int
s_given(const char *s)
{
	return s && *s;
}

/* "C" for column 3, "AA" for 27: what a spreadsheet shows. */
static void
s_column_name(char out[8], size_t i)
{
	char tmp[8];
	size_t n = 0;

	for (i++; i && n < 7; i = (i - 1) / 26)
		tmp[n++] = (char)('A' + (i - 1) % 26);
	for (size_t k = 0; k < n; k++)
		out[k] = tmp[n - 1 - k];
	out[n] = '\0';
}

typedef struct {
	const kr_import *im;
	char **hdr;
	int col[MAX_COLUMNS];
	size_t nhdr;
	char *where;                    /* "FILE row N" */
	kr_findings *f;
	unsigned long failed;           /* 1 << field for each cell of the row that could not be read */
} s_reader;

/* The sheet's name for field i: "column C '人口'". */
static char *
s_column_of(const s_reader *r, int field)
{
	char letters[8];

	for (size_t i = 0; i < r->nhdr; i++)
		if (r->col[i] == field) {
			s_column_name(letters, i);
			return kr_sprintf("column %s '%s'", letters, r->hdr[i]);
		}
	return kr_sprintf("field %s", s_fields[field]);
}

static void
s_cell_error(const s_reader *r, int field, const char *why)
{
	char *c = s_column_of(r, field);

	((s_reader *)r)->failed |= 1ul << field;
	kr_findings_add(r->f, r->where, 0, 1, "import", "%s: %s", c, why);
	free(c);
}

/*
 * A number cell into *out (NULL when empty). units lists the units the
 * field takes ("" for none, '|' between); *unit_out (may be NULL) gets
 * the one the cell wrote. whole: no decimals.
 */
static void
s_number(const s_reader *r, const char *cell, int field, int whole, const char *units,
    char **out, char **unit_out)
{
	char *n = NULL, *u = NULL;

	*out = NULL;
	if (!s_given(cell))
		return;
	if (kr_value_number(cell, &n, &u) < 0) {
		s_cell_error(r, field, kr_errmsg());
		kr_error_clear();
		return;
	}
	if (whole && strchr(n, '.')) {
		char *why = kr_sprintf(_("'%s' must be a whole number"), cell);
		s_cell_error(r, field, why);
		free(why);
	} else if (units) {
		int ok = 0;
		for (const char *w = units; !ok;) {
			size_t l = strcspn(w, "|");
			ok = strlen(u) == l && strncmp(u, w, l) == 0;
			if (!w[l])
				break;
			w += l + 1;
		}
		if (!ok) {
			char *why = kr_sprintf(_("'%s': the unit '%s' does not belong here"), cell, u);
			s_cell_error(r, field, why);
			free(why);
		} else {
			*out = n;
			n = NULL;
		}
	} else {
		*out = n;
		n = NULL;
	}
	if (unit_out && *out)
		*unit_out = u;
	else
		free(u);
	free(n);
}

static void
s_date(const s_reader *r, const char *cell, int field, char out[11])
{
	out[0] = '\0';
	if (s_given(cell) && kr_value_date(cell, out) < 0) {
		s_cell_error(r, field, kr_errmsg());
		kr_error_clear();
	}
}

/* Reads a row's cells into x, with a finding for each that cannot be read exactly. */
static void
s_read_row(const s_reader *r, char *const *v, s_row_values *x)
{
	const kr_import *im = r->im;
	char *tu = NULL, *au = NULL;

	memset(x, 0, sizeof(*x));
	for (size_t i = 0; i < NFIELDS; i++)
		x->cell[i] = v[i];
	s_number(r, v[F_POP_VALUE], F_POP_VALUE, 1, "|人", &x->pop_value, NULL);
	s_number(r, v[F_POP_YEAR], F_POP_YEAR, 1, "|年", &x->pop_year, NULL);
	s_number(r, v[F_METRIC_TARGET], F_METRIC_TARGET, 0, NULL, &x->target, &tu);
	s_number(r, v[F_METRIC_ACHIEVED], F_METRIC_ACHIEVED, 0, NULL, &x->achieved, &au);
	/* the unit: the 単位 column, or what the cells wrote; never two different ones */
	{
		const char *given = s_given(v[F_METRIC_UNIT]) ? v[F_METRIC_UNIT] : NULL;
		char *norm = given ? kr_value_halfwidth(given) : NULL;
		const char *cells[2] = { au, tu };
		int fields[2] = { F_METRIC_ACHIEVED, F_METRIC_TARGET };
		const char *unit = given;
		for (int k = 0; k < 2; k++) {
			if (!cells[k] || !*cells[k])
				continue;
			if (!unit) {
				unit = cells[k];
			} else if (strcmp(cells[k], unit) != 0 && !(norm && strcmp(cells[k], norm) == 0)) {
				char *why = kr_sprintf(_("'%s' is in %s but the unit is '%s'"), v[fields[k]], cells[k], unit);
				s_cell_error(r, fields[k], why);
				free(why);
			}
		}
		x->unit = unit ? kr_strdup(unit) : NULL;
		free(norm);
	}
	free(tu);
	free(au);
	s_date(r, v[F_PUBLISHED], F_PUBLISHED, x->published);
	s_date(r, v[F_UPDATED], F_UPDATED, x->updated);
	x->version = s_given(v[F_VERSION]) ? v[F_VERSION] : NULL;
	x->notes = s_given(v[F_VERSION_NOTES]) ? v[F_VERSION_NOTES] : NULL;
	x->license = s_given(v[F_LICENSE]) ? v[F_LICENSE] : im->license;
	x->conf = s_given(v[F_CONFIDENTIALITY]) ? v[F_CONFIDENTIALITY] : im->confidentiality;
	if (!x->license) {
		((s_reader *)r)->failed |= 1ul << F_LICENSE;
		kr_findings_add(r->f, r->where, 0, 1, "import", "the row does not state its licence "
		    "(add a ライセンス column, or give --license PDL-1.0|CC-BY-4.0|CC0-1.0 for every row)");
	}
	if (!x->conf) {
		((s_reader *)r)->failed |= 1ul << F_CONFIDENTIALITY;
		kr_findings_add(r->f, r->where, 0, 1, "import", "the row does not state its confidentiality "
		    "(add a 機密性 column, or give --confidentiality 機密性1 for every row that may be published)");
	}
}

/*
 * Whether a finding of the publish checks only repeats a cell already
 * refused (a date that could not be read is missing, so "updated is
 * before published" would follow from it, not from the sheet).
 */
static int
s_follows_from_failed(const s_reader *r, const char *rule)
{
	static const struct {
		const char *rule;
		unsigned long fields;
	} deps[] = {
		{ "published", 1ul << F_PUBLISHED }, { "updated", 1ul << F_PUBLISHED | 1ul << F_UPDATED },
		{ "metrics", 1ul << F_METRIC_TARGET | 1ul << F_METRIC_ACHIEVED | 1ul << F_METRIC_UNIT },
		{ "population", 1ul << F_POP_VALUE | 1ul << F_POP_YEAR },
		{ "license", 1ul << F_LICENSE }, { "confidentiality", 1ul << F_CONFIDENTIALITY },
	};

	for (size_t i = 0; i < sizeof(deps) / sizeof(deps[0]); i++)
		if (strcmp(rule, deps[i].rule) == 0)
			return (r->failed & deps[i].fields) != 0;
	return 0;
}

static void
s_row_values_clear(s_row_values *x)
{
	free(x->pop_value); free(x->pop_year); free(x->target); free(x->achieved); free(x->unit);
}

/* Builds the case item of a row: version, dates and notes as given. */
static char *
s_case(const kr_import *im, const s_row_values *x, const char *slug, const char *version,
    const char *published, const char *updated, const char *notes)
{
	kr_buf b = KR_BUF_INIT;
	static const int lists[] = { F_DOMAINS, F_AI_USES, F_RISKS, F_MITIGATIONS, F_LESSONS };
	static const int scalars[] = { F_DEPLOYMENT, F_STAGE, F_OUTCOME };

	kr_buf_adds(&b, "---\nkind: case\n");
	kr_buf_addf(&b, "id: %s/case/%s\ntitle: ", im->lg_code, slug);
	s_yq(&b, s_given(x->cell[F_TITLE]) ? x->cell[F_TITLE] : "");
	kr_buf_addf(&b, "\npublisher: {lg_code: \"%s\", name: ", im->lg_code);
	s_yq(&b, im->name);
	kr_buf_adds(&b, "}\nversion: ");
	s_yq(&b, version);
	if (notes) {
		kr_buf_adds(&b, "\nversion_notes: ");
		s_yq(&b, notes);
	}
	kr_buf_addf(&b, "\npublished: %s\nupdated: %s\nlicense: ", published, updated);
	s_yq(&b, x->license ? x->license : "");
	kr_buf_adds(&b, "\nconfidentiality: ");
	s_yq(&b, x->conf ? x->conf : "");
	kr_buf_addch(&b, '\n');
	for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++) {
		const char *cell = x->cell[lists[i]];
		if (s_given(cell)) {
			kr_buf_addf(&b, "%s: ", s_fields[lists[i]]);
			s_ylist(&b, cell, im->separator);
			kr_buf_addch(&b, '\n');
		}
	}
	for (size_t i = 0; i < sizeof(scalars) / sizeof(scalars[0]); i++) {
		const char *cell = x->cell[scalars[i]];
		if (s_given(cell)) {
			kr_buf_addf(&b, "%s: ", s_fields[scalars[i]]);
			s_yq(&b, cell);
			kr_buf_addch(&b, '\n');
		}
	}
	if (x->pop_value) {
		kr_buf_addf(&b, "population: {value: %s", x->pop_value);
		if (x->pop_year)
			kr_buf_addf(&b, ", year: %s", x->pop_year);
		kr_buf_adds(&b, "}\n");
	}
	if (s_given(x->cell[F_METRIC_NAME]) || x->achieved || x->target) {
		kr_buf_adds(&b, "metrics:\n  - {name: ");
		s_yq(&b, s_given(x->cell[F_METRIC_NAME]) ? x->cell[F_METRIC_NAME] : "");
		kr_buf_adds(&b, ", unit: ");
		s_yq(&b, x->unit ? x->unit : "");
		if (x->target)
			kr_buf_addf(&b, ", target: %s", x->target);
		if (x->achieved)
			kr_buf_addf(&b, ", achieved: %s", x->achieved);
		kr_buf_adds(&b, "}\n");
	}
	if (s_given(x->cell[F_SOURCE_TITLE])) {
		kr_buf_adds(&b, "sources:\n  - {title: ");
		s_yq(&b, x->cell[F_SOURCE_TITLE]);
		kr_buf_adds(&b, ", issuer: ");
		s_yq(&b, s_given(x->cell[F_SOURCE_ISSUER]) ? x->cell[F_SOURCE_ISSUER] : im->name);
		kr_buf_adds(&b, "}\n");
	}
	kr_buf_adds(&b, "---\n");
	if (x->cell[F_BODY]) {
		/* the body as written, its line ends made LF */
		for (const char *p = x->cell[F_BODY]; *p; p++)
			if (!(*p == '\r' && p[1] == '\n'))
				kr_buf_addch(&b, *p);
	}
	kr_buf_addch(&b, '\n');
	return kr_buf_detach(&b);
}

/*
 * The slug of a row: its id/slug cell (a whole id of this node is taken
 * too), else "case-" and 12 hex digits of SHA-256 of the title, so the
 * same title gives the same item every time. NULL (finding added) when
 * there is neither.
 */
static char *
s_slug(const s_reader *r, const s_row_values *x)
{
	const char *cell = x->cell[F_SLUG], *title = x->cell[F_TITLE];

	if (s_given(cell)) {
		char *h = kr_value_halfwidth(cell), *prefix = kr_sprintf("%s/case/", r->im->lg_code), *slug;
		slug = kr_strdup(strncmp(h, prefix, strlen(prefix)) == 0 ? h + strlen(prefix) : h);
		free(prefix);
		free(h);
		return slug;
	}
	if (s_given(title)) {
		uint8_t d[32];
		char hex[65], *t = kr_value_halfwidth(title);
		kr_sha256(d, t, strlen(t));
		kr_hex(hex, d, 32);
		free(t);
		return kr_sprintf("case-%.12s", hex);
	}
	kr_findings_add(r->f, r->where, 0, 1, "import", "the row has neither an id (ID or スラッグ column) nor a title");
	return NULL;
}

/* MAJOR.MINOR.(PATCH+1) of a semver, NULL if v is not one. */
static char *
s_bump(const char *v)
{
	unsigned long a, b, c;
	int n = 0;

	if (sscanf(v, "%lu.%lu.%lu%n", &a, &b, &c, &n) != 3 || n == 0)
		return NULL;
	return kr_sprintf("%lu.%lu.%lu", a, b, c + 1);
}

/*
 * The item of one row: new (version 1.0.0 unless the row says), as
 * published before (the row did not change), or the next version of it.
 */
static char *
s_row_item(const s_reader *r, int row, const s_row_values *x, const char *slug)
{
	const kr_import *im = r->im;
	char today[32], *id = kr_sprintf("%s/case/%s", im->lg_code, slug), *prev = NULL, *item = NULL;
	kr_yaml *fm = NULL;
	const char *body;
	int body_line;

	kr_time_iso(today, kr_now());
	today[10] = '\0';
	if (im->previous)
		prev = im->previous(im->arg, id);
	if (prev && kr_frontmatter_parse(&fm, prev, strlen(prev), &body, &body_line) == 0 &&
	    kr_yaml_str(fm, "version") && kr_yaml_str(fm, "published") && kr_yaml_str(fm, "updated")) {
		const char *pv = kr_yaml_str(fm, "version"), *pn = kr_yaml_str(fm, "version_notes");
		const char *pub = x->published[0] ? x->published : kr_yaml_str(fm, "published");
		const char *upd = x->updated[0] ? x->updated : kr_yaml_str(fm, "updated");
		char *same = s_case(im, x, slug, x->version ? x->version : pv, pub, upd, x->notes ? x->notes : pn);
		if (strcmp(same, prev) == 0) {
			item = same;
			if (im->versioned)
				im->versioned(im->arg, row, id, pv, pv);
		} else {
			/* changed: the next version, saying why */
			const char *notes = x->notes && (!pn || strcmp(x->notes, pn) != 0) ? x->notes : im->notes;
			char *next = x->version ? kr_strdup(x->version) : s_bump(pv);
			free(same);
			if (!notes)
				kr_findings_add(r->f, r->where, 0, 1, "import", "the row changed since %s %s was published: "
				    "say why in a 改訂理由 column or with --notes \"…\" (it becomes version_notes of %s)",
				    id, pv, next ? next : "the next version");
			if (!next)
				kr_findings_add(r->f, r->where, 0, 1, "import", "%s was published as version '%s', "
				    "which is not semver: give the next version in a 版 column", id, pv);
			item = s_case(im, x, slug, next ? next : pv, pub, x->updated[0] ? x->updated : today,
			    notes);
			if (im->versioned && next)
				im->versioned(im->arg, row, id, pv, next);
			free(next);
		}
	} else {
		const char *pub = x->published[0] ? x->published : today;
		item = s_case(im, x, slug, x->version ? x->version : "1.0.0", pub,
		    x->updated[0] ? x->updated : pub, x->notes);
	}
	kr_yaml_free(&fm);
	free(prev);
	free(id);
	return item;
}

/* Maps the header: r->col[i] is the field of column i, or -1. */
static int
s_header(s_reader *r)
{
	const kr_import *im = r->im;

	for (size_t i = 0; i < r->nhdr; i++) {
		char *name = kr_value_halfwidth(r->hdr[i]);
		const char *field = NULL;
		free(r->hdr[i]);
		r->hdr[i] = name;
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
		r->col[i] = field ? s_field_index(field) : -1;
		for (size_t j = 0; j < i && r->col[i] >= 0; j++)
			if (r->col[j] == r->col[i]) {
				char a[8], b[8];
				s_column_name(a, j);
				s_column_name(b, i);
				return kr_error(KR_EUSAGE, "%s: columns %s '%s' and %s '%s' both give %s "
				    "(remove one, or map one elsewhere with --map)", im->file, a, r->hdr[j], b, name,
				    s_fields[r->col[i]]);
			}
		if (r->col[i] < 0 && im->unused_column)
			im->unused_column(im->arg, name);
	}
	return 0;
}

int
kr_import_csv(const kr_import *im, const char *data, size_t len)
{
	kr_buf text = KR_BUF_INIT;
	const char *p, *end;
	int row = 1, rc = 0;
	s_reader r = { .im = im };

	if (len >= 3 && memcmp(data, "\xef\xbb\xbf", 3) == 0)
		kr_buf_add(&text, data + 3, len - 3);
	else if (s_valid_utf8((const unsigned char *)data, len))
		kr_buf_add(&text, data, len);
	else if ((rc = s_from_cp932(&text, data, len)) < 0)
		goto done;
	p = text.ptr;
	end = text.ptr + text.len;
	r.hdr = s_csv_record(&p, end, &r.nhdr);
	if (!r.hdr || r.nhdr > MAX_COLUMNS) {
		rc = kr_error(KR_EUSAGE, "%s: no header row (or more than %d columns)", im->file, MAX_COLUMNS);
		goto done;
	}
	if ((rc = s_header(&r)) < 0)
		goto done;
	for (size_t nf; rc == 0;) {
		char **rec = s_csv_record(&p, end, &nf);
		char *v[NFIELDS] = { 0 }, *slug, *item = NULL;
		kr_findings f = { 0 };
		s_row_values x;
		kr_item it;
		int empty = 1;

		if (!rec)
			break;
		row++;
		for (size_t i = 0; i < nf; i++) {
			if (i < r.nhdr && r.col[i] >= 0)
				v[r.col[i]] = rec[i];
			empty &= rec[i][0] == '\0';
		}
		if (empty) {
			kr_strv_free(rec, nf);
			continue;
		}
		r.where = kr_sprintf("%s row %d", im->file, row);
		r.f = &f;
		r.failed = 0;
		if (nf > r.nhdr)
			kr_findings_add(&f, r.where, 0, 1, "import", "the row has %zu cells but the header only %zu "
			    "columns (a cell with a comma or line break must be in double quotes)", nf, r.nhdr);
		s_read_row(&r, v, &x);
		slug = s_slug(&r, &x);
		if (slug)
			item = s_row_item(&r, row, &x, slug);
		if (item) {
			kr_findings cf = { 0 };
			kr_item_check(&it, im->pol, r.where, item, strlen(item), NULL, &cf);
			for (size_t i = 0; i < cf.n; i++)
				if (!s_follows_from_failed(&r, cf.v[i].rule))
					kr_findings_add(&f, cf.v[i].file, cf.v[i].line, cf.v[i].block, cf.v[i].rule,
					    "%s", cf.v[i].message);
			kr_findings_clear(&cf);
		} else
			memset(&it, 0, sizeof(it));
		rc = im->row(im->arg, row, slug ? slug : "", item ? item : "", &f);
		free(r.where);
		r.where = NULL;
		kr_item_clear(&it);
		kr_findings_clear(&f);
		s_row_values_clear(&x);
		free(item);
		free(slug);
		kr_strv_free(rec, nf);
	}
done:
	kr_strv_free(r.hdr, r.nhdr);
	kr_buf_release(&text);
	return rc;
}
