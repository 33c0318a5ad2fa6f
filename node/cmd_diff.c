/*
 * node/cmd_diff.c - diff and derive
 *
 * diff compares two versions of an item with node/textdiff.c (lines, and
 * a changed line character by character) and prints it in git's
 * word-diff style, [-removed-]{+added+}.
 * The output is the publisher's text, so it is made safe before printing
 * (kr_safe_inplace: no terminal escapes, no bidi overrides).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../policies/frontmatter.h"
#include "../policies/item.h"
#include "cli.h"
#include "textdiff.h"

/* `kairan diff` output: git's word-diff style, [-removed-]{+added+}. */
static void
s_render(const kr_diff_ev *ev, void *arg)
{
	kr_buf *out = arg;

	switch (ev->op) {
	case KR_DIFF_SAME_LINE: break;
	case KR_DIFF_HUNK: kr_buf_addf(out, "@@ line %zu @@\n", ev->bline); break;
	case KR_DIFF_DEL_LINE: kr_buf_addf(out, "- %.*s\n", (int)ev->len, ev->text); break;
	case KR_DIFF_ADD_LINE: kr_buf_addf(out, "+ %.*s\n", (int)ev->len, ev->text); break;
	case KR_DIFF_CHG_BEGIN: kr_buf_adds(out, "~ "); break;
	case KR_DIFF_SAME: kr_buf_add(out, ev->text, ev->len); break;
	case KR_DIFF_DEL: kr_buf_addf(out, "[-%.*s-]", (int)ev->len, ev->text); break;
	case KR_DIFF_ADD: kr_buf_addf(out, "{+%.*s+}", (int)ev->len, ev->text); break;
	case KR_DIFF_CHG_END: kr_buf_addch(out, '\n'); break;
	case KR_DIFF_TOOLONG: kr_buf_adds(out, "(too long to compare line by line)\n"); break;
	}
}

typedef struct {
	uint8_t (*commits)[KR_OID_LEN];
	uint8_t (*blobs)[KR_OID_LEN];
	int *present;
	size_t n;
} s_hist;

static int
s_hist_add(const uint8_t commit[KR_OID_LEN], int64_t time, const uint8_t *blob, void *arg)
{
	s_hist *h = arg;

	(void)time;
	h->commits = kr_realloc(h->commits, (h->n + 1) * KR_OID_LEN);
	h->blobs = kr_realloc(h->blobs, (h->n + 1) * KR_OID_LEN);
	h->present = kr_realloc(h->present, (h->n + 1) * sizeof(int));
	memcpy(h->commits[h->n], commit, KR_OID_LEN);
	if (blob)
		memcpy(h->blobs[h->n], blob, KR_OID_LEN);
	h->present[h->n++] = blob != NULL;
	return 0;
}

/* version and edition of an item text (caller frees). */
static void
s_version(const char *text, size_t len, char **version, char **edition)
{
	kr_yaml *fm = NULL;
	const char *body;
	int bl;

	*version = *edition = NULL;
	if (kr_frontmatter_parse(&fm, text, len, &body, &bl) == 0) {
		const char *v = kr_yaml_str(fm, "version"), *e = kr_yaml_str(fm, "edition");
		*version = v ? kr_strdup(v) : NULL;
		*edition = e ? kr_strdup(e) : NULL;
	}
	kr_yaml_free(&fm);
}

/*
 * REV: a commit (4+ hex digits), a version (1.0.0) or an edition (第1版),
 * looked up in the path's history; the index in h, or -1.
 */
static int
s_rev(kr_cli *c, const char *pub, const char *coll, const s_hist *h, const char *rev)
{
	uint8_t oid[KR_OID_LEN];

	for (size_t i = 0; i < h->n; i++) {
		kr_buf t = KR_BUF_INIT;
		char *v, *e;
		int hit;
		if (!h->present[i] || kr_store_read_blob(c->h.store, pub, coll, h->blobs[i], &t) < 0)
			continue;
		s_version(t.ptr, t.len, &v, &e);
		hit = (v && strcmp(v, rev) == 0) || (e && strcmp(e, rev) == 0);
		free(v);
		free(e);
		kr_buf_release(&t);
		if (hit)
			return (int)i;
	}
	if (kr_store_resolve(c->h.store, pub, coll, rev, oid) == 0) {
		/* the path as of that commit: the newest change at or before it (h is newest first) */
		for (size_t i = 0; i < h->n; i++)
			if (kr_store_descends(c->h.store, pub, coll, oid, h->commits[i]))
				return (int)i;
	}
	kr_error_clear();
	return -1;
}

int
cmd_diff(kr_cli *c, int argc, char **argv)
{
	kr_state_item *it = NULL;
	size_t n = 0;
	s_hist h = { 0 };
	int a = 1, b = 0, rc = 1;
	kr_buf ta = KR_BUF_INIT, tb = KR_BUF_INIT, out = KR_BUF_INIT;
	char *va, *ea, *vb, *eb, ha[KR_OID_HEX + 1], hb[KR_OID_HEX + 1];

	if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0))
		return printf(_("usage: kairan diff ID [REV1 [REV2]]\n\n"
		    "Shows what changed in an item between two versions (default: the previous\n"
		    "version and the current one). REV is a commit, a version (1.0.0) or an edition\n"
		    "(第1版). Changed lines are shown character by character: [-removed-]{+added+}.\n")), 0;
	if (argc < 2 || argc > 4)
		return kr_cli_usage("diff");
	if (kr_state_item_find(c->h.state, argv[1], &it, &n) < 0)
		return kr_cli_fail("diff");
	if (kr_store_path_history(c->h.store, it[0].publisher, it[0].collection, it[0].path, s_hist_add, &h) < 0) {
		kr_cli_fail("diff");
		goto done;
	}
	if (h.n == 0) {
		fprintf(stderr, _("kairan: diff: no history for %s\n"), argv[1]);
		goto done;
	}
	if (argc >= 3 && (a = s_rev(c, it[0].publisher, it[0].collection, &h, argv[2])) < 0) {
		fprintf(stderr, _("kairan: diff: %s: no version, edition or commit '%s' in its history "
		    "(see: kairan log %s)\n"), argv[1], argv[2], it[0].collection);
		goto done;
	}
	if (argc == 4 && (b = s_rev(c, it[0].publisher, it[0].collection, &h, argv[3])) < 0) {
		fprintf(stderr, _("kairan: diff: %s: no version, edition or commit '%s' in its history\n"), argv[1], argv[3]);
		goto done;
	}
	if (argc == 2 && h.n < 2) {
		printf(_("%s has only one version so far\n"), argv[1]);
		rc = 0;
		goto done;
	}
	if ((h.present[a] && kr_store_read_blob(c->h.store, it[0].publisher, it[0].collection, h.blobs[a], &ta) < 0) ||
	    (h.present[b] && kr_store_read_blob(c->h.store, it[0].publisher, it[0].collection, h.blobs[b], &tb) < 0)) {
		kr_cli_fail("diff");
		goto done;
	}
	s_version(ta.ptr, ta.len, &va, &ea);
	s_version(tb.ptr, tb.len, &vb, &eb);
	kr_hex(ha, h.commits[a], KR_OID_LEN);
	kr_hex(hb, h.commits[b], KR_OID_LEN);
	kr_buf_addf(&out, "--- %s @%.10s (version %s%s%s)\n+++ %s @%.10s (version %s%s%s)\n", argv[1], ha,
	    va ? va : "?", ea ? ", " : "", ea ? ea : "", argv[1], hb, vb ? vb : "?", eb ? ", " : "", eb ? eb : "");
	if (kr_textdiff(ta.ptr, ta.len, tb.ptr, tb.len, s_render, &out) == 0)
		kr_buf_adds(&out, "(no changes)\n");
	/* the lines are the publisher's text: nothing in them may drive the terminal */
	out.len = kr_safe_inplace(out.ptr, out.len, KR_SAFE_TEXT);
	fputs(out.ptr, stdout);
	free(va); free(ea); free(vb); free(eb);
	rc = 0;
done:
	free(h.commits);
	free(h.blobs);
	free(h.present);
	kr_buf_release(&ta);
	kr_buf_release(&tb);
	kr_buf_release(&out);
	kr_state_items_free(it, n);
	return rc;
}

/* Front-matter keys derive writes itself; the template's are dropped. */
static const char *const s_derive_own[] = {
	"kind", "id", "publisher", "version", "version_notes", "edition", "published", "updated",
	"derived_from", "history", "draft", "license",
};

int
cmd_derive(kr_cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "slug", required_argument, NULL, 's' }, { "output", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 },
	};
	const char *slug = NULL, *outdir = "drafts";
	kr_state_item *it = NULL;
	size_t n = 0;
	kr_buf tmpl = KR_BUF_INIT, out = KR_BUF_INIT;
	char today[32], *path = NULL, *version = NULL, *edition = NULL;
	const char *p, *end, *fm_end;
	int o, rc = 1, skipping = 0;

	optind = 0;
	while ((o = getopt_long(argc, argv, "s:o:h", opts, NULL)) != -1) {
		switch (o) {
		case 's': slug = optarg; break;
		case 'o': outdir = optarg; break;
		case 'h': return printf(_("usage: kairan derive TEMPLATE-ID --slug SLUG [-o DIR]\n\n"
		    "Starts this node's own guideline from a template (e.g. the prefecture's ひな型):\n"
		    "writes DIR/SLUG.md (default ./drafts) as a draft with derived_from filled in.\n"
		    "Edit it, say what you changed in modifications, remove draft: true, then publish.\n"
		    "kairan status tells you when the template has a newer version.\n")), 0;
		default: return kr_cli_usage("derive");
		}
	}
	if (optind != argc - 1 || !slug) {
		fprintf(stderr, _("kairan: derive: give the template id and --slug (e.g. --slug ai-guideline)\n"));
		return 2;
	}
	if (strspn(slug, "abcdefghijklmnopqrstuvwxyz0123456789-") != strlen(slug) || !*slug) {
		char *shown = kr_safe(slug);
		fprintf(stderr, _("kairan: derive: slug '%s' must be lower-case ASCII letters, digits and '-'\n"), shown);
		free(shown);
		return 2;
	}
	if (!*outdir) {
		fprintf(stderr, _("kairan: derive: -o needs a directory name\n"));
		return 2;
	}
	if (kr_cli_item(c, "derive", argv[optind], "guideline", &it, &n, &tmpl) != 0)
		goto done;
	s_version(tmpl.ptr, tmpl.len, &version, &edition);
	kr_time_iso(today, kr_now());
	today[10] = '\0';
	kr_buf_addf(&out, "---\nkind: guideline\nid: %s/guideline/%s\n", c->h.cfg.lg_code, slug);
	kr_buf_addf(&out, "publisher: {lg_code: \"%s\", name: %s}\n", c->h.cfg.lg_code, c->h.cfg.name);
	kr_buf_addf(&out, "version: 1.0.0\nedition: 第1版\npublished: %s\nupdated: %s\ndraft: true\n", today, today);
	kr_buf_addf(&out, "license: CC-BY-4.0\nderived_from:\n  - {id: %s, version: %s, relation: ひな型適用, "
	    "modifications: （ひな型から変えた点をここに書く）}\n", argv[optind], version ? version : "1.0.0");
	kr_buf_addf(&out, "history:\n  - {edition: 第1版, date: %s, summary: %sのひな型を適用して制定}\n", today,
	    it[0].pub_name ? it[0].pub_name : argv[optind]);
	/* the template's other fields and body, as they are */
	p = tmpl.ptr + 4;
	end = tmpl.ptr + tmpl.len;
	fm_end = strstr(p, "\n---");
	for (const char *line = p; line && line < end;) {
		const char *nl = memchr(line, '\n', (size_t)(end - line));
		size_t l = nl ? (size_t)(nl - line) : (size_t)(end - line);
		if (fm_end && line > fm_end) {
			kr_buf_add(&out, line, (size_t)(end - line));
			break;
		}
		if (line[0] != ' ' && line[0] != '\t') {
			skipping = 0;
			for (size_t k = 0; k < sizeof(s_derive_own) / sizeof(s_derive_own[0]); k++) {
				size_t kl = strlen(s_derive_own[k]);
				if (l > kl && strncmp(line, s_derive_own[k], kl) == 0 && line[kl] == ':')
					skipping = 1;
			}
		}
		if (!skipping)
			kr_buf_add(&out, line, l + (nl ? 1 : 0));
		if (!nl)
			break;
		line = nl + 1;
	}
	if (kr_mkdir_p(outdir, 0755) < 0) {
		kr_cli_fail("derive");
		goto done;
	}
	path = kr_sprintf("%s/%s.md", outdir, slug);
	{
		FILE *exists = fopen(path, "r");
		if (exists) {
			fclose(exists);
			fprintf(stderr, _("kairan: derive: %s exists; nothing was written (use another --slug or -o)\n"), path);
			goto done;
		}
	}
	if (kr_file_write(path, out.ptr, out.len, 0644) < 0) {
		kr_cli_fail("derive");
		goto done;
	}
	printf(_("wrote %s from %s (version %s%s%s) as a draft\n"
	    "next: edit it, describe your changes in derived_from.modifications, remove draft: true,\n"
	    "      then kairan publish %s\n"), path, argv[optind], version ? version : "?",
	    edition ? ", " : "", edition ? edition : "", path);
	rc = 0;
done:
	free(path);
	free(version);
	free(edition);
	kr_buf_release(&tmpl);
	kr_buf_release(&out);
	kr_state_items_free(it, n);
	return rc;
}
