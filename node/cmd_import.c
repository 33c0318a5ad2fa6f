/*
 * node/cmd_import.c - `kairan import`: case records from a spreadsheet
 * (CSV) into item files (the parsing is node/import.c)
 *
 * Every row becomes a case file that goes through exactly the checks of
 * publish; rows that fail are listed with the reason, and no file is
 * written for them. A slug becomes a file name, so it is checked here too.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "import.h"

typedef struct {
	const char *outdir, *file;
	int written, failed, made;      /* made: outdir exists (created at the first file) */
} s_ctx;

static void
s_unused(void *arg, const char *header)
{
	char *shown = kr_safe(header);

	(void)arg;
	fprintf(stderr, "kairan: import: column '%s' is not used (map it with --map '%s=FIELD')\n", shown, shown);
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
				fprintf(stderr, "kairan: import: %s: %s [%s]\n", file, msg, f->v[i].rule);
				free(file);
				free(msg);
			}
		x->failed++;
	} else if (strspn(slug, "abcdefghijklmnopqrstuvwxyz0123456789-") != strlen(slug) || !*slug) {
		/* the checks refuse such an id already; the slug becomes a path, so never rely on that alone */
		char *shown = kr_safe(slug);
		fprintf(stderr, "kairan: import: %s row %d: slug '%s' must be lower-case ASCII letters, "
		    "digits and '-'\n", x->file, row, shown);
		free(shown);
		x->failed++;
	} else {
		char *path = kr_sprintf("%s/%s.md", x->outdir, slug);
		if ((!x->made && kr_mkdir_p(x->outdir, 0755) < 0) || kr_file_write(path, item, strlen(item), 0644) < 0) {
			fprintf(stderr, "kairan: import: %s\n", kr_errmsg());
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
		{ NULL, 0, NULL, 0 },
	};
	const char *kind = NULL, *outdir = "imported", *map = NULL;
	kr_buf raw = KR_BUF_INIT;
	kr_policy pol = { .lg_code = c->h.cfg.lg_code, .pii = &c->h.cfg.pii, .rules = &c->h.cfg.rules };
	s_ctx x = { 0 };
	kr_import im = { .lg_code = c->h.cfg.lg_code, .name = c->h.cfg.name, .pol = &pol,
		.unused_column = s_unused, .row = s_row, .arg = &x };
	int o;

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
	if (!*outdir) {
		fprintf(stderr, "kairan: import: -o needs a directory name (e.g. -o imported)\n");
		return 2;
	}
	if (strcmp(kind, "case") != 0) {
		fprintf(stderr, "kairan: import: only --kind case is supported (case records kept in spreadsheets)\n");
		return 2;
	}
	if (kr_file_read(&raw, argv[optind]) < 0)
		return kr_cli_fail("import");
	x.outdir = outdir;
	x.file = im.file = argv[optind];
	im.map = map;
	if (kr_import_csv(&im, raw.ptr, raw.len) < 0) {
		kr_buf_release(&raw);
		return kr_cli_fail("import");
	}
	kr_buf_release(&raw);
	printf("%d case file(s) written to %s/; %d row(s) refused%s\n", x.written, outdir, x.failed,
	    x.written ? "\nnext: kairan publish DIR" : "");
	return x.failed ? 1 : 0;
}
