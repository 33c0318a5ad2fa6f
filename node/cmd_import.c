/*
 * node/cmd_import.c - `kairan import`: case records from a spreadsheet
 * (CSV) into item files (the parsing is node/import.c)
 *
 * Every row becomes a case file that goes through exactly the checks of
 * publish; rows that fail are listed with the reason, and no file is
 * written for them. A slug becomes a file name, so it is checked here too.
 * What this node last published of each id is read here (state and
 * store) so that node/import.c can keep an unchanged row as it was and
 * give a changed one the next version.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "import.h"

typedef struct {
	kr_cli *c;
	const char *outdir, *file;
	int written, failed, made;      /* made: outdir exists (created at the first file) */
	int unchanged, bumped;
	kr_buf versions;                /* "row N: ID 1.0.0 -> 1.0.1" lines, printed at the end */
} s_ctx;

/* This node's item id as last published (its signed file), or NULL. */
static char *
s_previous(void *arg, const char *id)
{
	s_ctx *x = arg;
	kr_state_item *it = NULL;
	size_t n = 0;
	char *text = NULL;

	if (kr_state_item_find(x->c->h.state, id, &it, &n) < 0) {
		kr_error_clear();
		return NULL;
	}
	for (size_t i = 0; i < n && !text; i++) {
		uint8_t commit[KR_OID_LEN];
		kr_buf data = KR_BUF_INIT;
		if (strcmp(it[i].publisher, x->c->h.rep.own) != 0 || kr_unhex(commit, KR_OID_LEN, it[i].commit) < 0)
			continue;
		if (kr_store_read(x->c->h.store, it[i].publisher, it[i].collection, commit, it[i].path, &data) == 0)
			text = kr_buf_detach(&data);
		kr_buf_release(&data);
	}
	kr_error_clear();
	kr_state_items_free(it, n);
	return text;
}

static void
s_versioned(void *arg, int row, const char *id, const char *old_version, const char *new_version)
{
	s_ctx *x = arg;

	if (strcmp(old_version, new_version) == 0) {
		x->unchanged++;
	} else {
		x->bumped++;
		kr_buf_addf(&x->versions, _("row %d: %s changed: version %s -> %s\n"), row, id, old_version, new_version);
	}
}

static void
s_unused(void *arg, const char *header)
{
	char *shown = kr_safe(header);

	(void)arg;
	fprintf(stderr, _("kairan: import: column '%s' is not used (map it with --map '%s=FIELD')\n"), shown, shown);
	free(shown);
}

static int
s_row(void *arg, int row, const char *slug, const char *item, const kr_findings *f)
{
	s_ctx *x = arg;

	if (kr_findings_blocking(f)) {
		for (size_t i = 0; i < f->n; i++)
			if (f->v[i].block) {
				char *file = kr_safe(f->v[i].file), *msg = kr_safe(f->v[i].message);
				fprintf(stderr, _("kairan: import: %s: %s [%s]\n"), file, msg, f->v[i].rule);
				free(file);
				free(msg);
			}
		x->failed++;
	} else if (strspn(slug, "abcdefghijklmnopqrstuvwxyz0123456789-") != strlen(slug) || !*slug) {
		/* the checks refuse such an id already; the slug becomes a path, so never rely on that alone */
		char *shown = kr_safe(slug);
		fprintf(stderr, _("kairan: import: %s row %d: slug '%s' must be lower-case ASCII letters, "
		    "digits and '-'\n"), x->file, row, shown);
		free(shown);
		x->failed++;
	} else {
		char *path = kr_sprintf("%s/%s.md", x->outdir, slug);
		if ((!x->made && kr_mkdir_p(x->outdir, 0755) < 0) || kr_file_write(path, item, strlen(item), 0644) < 0) {
			fprintf(stderr, _("kairan: import: %s\n"), kr_errmsg());
			x->failed++;
		} else {
			x->written++;
		}
		x->made = 1;
		free(path);
	}
	return 0;
}

int
cmd_import(kr_cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "kind", required_argument, NULL, 'k' }, { "output", required_argument, NULL, 'o' },
		{ "map", required_argument, NULL, 'm' }, { "help", no_argument, NULL, 'h' },
		{ "separator", required_argument, NULL, 's' }, { "notes", required_argument, NULL, 'n' },
		{ "confidentiality", required_argument, NULL, 'c' }, { "license", required_argument, NULL, 'l' },
		{ NULL, 0, NULL, 0 },
	};
	const char *kind = NULL, *outdir = "imported", *map = NULL;
	kr_buf raw = KR_BUF_INIT;
	kr_policy pol = { .lg_code = c->h.cfg.lg_code, .pii = &c->h.cfg.pii, .rules = &c->h.cfg.rules };
	s_ctx x = { .c = c, .versions = KR_BUF_INIT };
	kr_import im = { .lg_code = c->h.cfg.lg_code, .name = c->h.cfg.name, .pol = &pol,
		.unused_column = s_unused, .previous = s_previous, .versioned = s_versioned,
		.row = s_row, .arg = &x };
	int o;

	optind = 0;
	while ((o = getopt_long(argc, argv, "k:o:m:s:n:c:l:h", opts, NULL)) != -1) {
		switch (o) {
		case 'k': kind = optarg; break;
		case 'o': outdir = optarg; break;
		case 'm': map = optarg; break;
		case 's': im.separator = optarg; break;
		case 'n': im.notes = optarg; break;
		case 'c': im.confidentiality = optarg; break;
		case 'l': im.license = optarg; break;
		case 'h': return printf(_("usage: kairan import FILE.csv --kind case [-o DIR] [--map 'HEADER=field,...']\n"
		    "       [--confidentiality 機密性1] [--license PDL-1.0] [--separator SEP] [--notes WHY]\n\n"
		    "Turns case records kept in a spreadsheet into item files under DIR (default ./imported),\n"
		    "ready for kairan publish. CSV from Excel is fine: UTF-8 (with or without BOM) or\n"
		    "Shift_JIS/CP932. Headers may be Japanese (ID, タイトル, 分野, AI用途, 結果, 指標, 目標, 実績,\n"
		    "人口, 公開日, 本文, 出典, 機密性, ライセンス, 改訂理由 ...) or field names; --map adds your own.\n"
		    "Numbers may have separators, full-width digits and a unit (62,000人, 35%%); dates may be\n"
		    "2024/6/1, 2024年6月1日, 令和6年6月1日 or R6.6.1. A cell that cannot be read exactly is an\n"
		    "error naming row, column and value. List cells (分野, 教訓 ...) split on line breaks only,\n"
		    "or also on --separator. Each row states its 機密性 and ライセンス, or the flags give them.\n"
		    "Ids come from the ID/スラッグ column or the title, so importing the sheet again updates the\n"
		    "same items: a changed row becomes the next version, with 改訂理由 or --notes as version_notes.\n"
		    "Each row passes the checks of publish or is listed with the reason.\n")), 0;
		default: return kr_cli_usage("import");
		}
	}
	if (optind != argc - 1 || !kind) {
		fprintf(stderr, _("kairan: import: give the CSV file and --kind case\n"));
		return 2;
	}
	if (!*outdir) {
		fprintf(stderr, _("kairan: import: -o needs a directory name (e.g. -o imported)\n"));
		return 2;
	}
	if (strcmp(kind, "case") != 0) {
		fprintf(stderr, _("kairan: import: only --kind case is supported (case records kept in spreadsheets)\n"));
		return 2;
	}
	if (kr_file_read(&raw, argv[optind]) < 0)
		return kr_cli_fail("import");
	x.outdir = outdir;
	x.file = im.file = argv[optind];
	im.map = map;
	if (kr_import_csv(&im, raw.ptr, raw.len) < 0) {
		kr_buf_release(&raw);
		kr_buf_release(&x.versions);
		return kr_cli_fail("import");
	}
	kr_buf_release(&raw);
	fputs(x.versions.ptr ? x.versions.ptr : "", stdout);
	printf(_("%d case file(s) written to %s/; %d row(s) refused"), x.written, outdir, x.failed);
	if (x.unchanged || x.bumped)
		printf(_("; %d unchanged since published, %d new version(s)"), x.unchanged, x.bumped);
	printf("%s\n", x.written ? "\nnext: kairan publish DIR" : "");
	kr_buf_release(&x.versions);
	return x.failed ? 1 : 0;
}
