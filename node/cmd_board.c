/*
 * node/cmd_board.c - the board at work: endorse, consult, adopt, export --faq
 *
 * Everything written here is an ordinary item (policies/board.c) in one of
 * this node's own collections, made as text, passed through the same gate
 * as publish (kr_item_check: 機密性1, PII scan, vocabularies) and
 * published as one signed commit and a new signed manifest. So the board's
 * work replicates and verifies like any other content and stock git
 * verifies every commit. A refusal writes nothing.
 *
 * One file per question, so a later statement replaces an earlier one:
 *   endorsements/<target>-<blob12>.md   one per endorsed item version
 *   answers/<consultation>.md           a board member's answer
 *   answers/<consultation>-accept.md    a board member's acceptance
 *   adoptions/<target>.md               a town's latest report on an item
 *   consultations/<date>-<n>.md         a town's question; its state moves on
 *
 * Everything printed from items goes through kr_buf_addsafe.
 */
#include <assert.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../policies/frontmatter.h"
#include "board.h"
#include "cli.h"
#include "serve.h"

#define SLUG_MAX 100

static void
s_today(char out[11], int64_t plus_days)
{
	char iso[32];

	kr_time_iso(iso, kr_now() + plus_days * 86400);
	memcpy(out, iso, 10);
	out[10] = '\0';
}

/* A YAML double-quoted scalar: nothing the user typed can change the structure. */
static void
s_yq(kr_buf *b, const char *s)
{
	kr_buf_addch(b, '"');
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		if (ch == '"' || ch == '\\')
			kr_buf_addf(b, "\\%c", ch);
		else if (ch == '\n')
			kr_buf_adds(b, "\\n");
		else if (ch == '\t')
			kr_buf_adds(b, "\\t");
		else if (ch >= 0x20 && ch != 0x7f)
			kr_buf_addch(b, (char)ch);
	}
	kr_buf_addch(b, '"');
}

/*
 * One option of a board command, for s_opts: --name (and -letter when
 * set). With val it takes a value (the last one given is kept); with list
 * a value each time it is given, appended (list has room for argc, *n
 * counts); otherwise it takes none and sets *flag to 1 (flag may be NULL).
 */
typedef struct {
	const char *name;
	char letter;
	const char **val;
	const char **list;
	size_t *n;
	int *flag;
} s_opt;

#define S_OPTS_MAX 12

/*
 * Reads argv's options by the table opts (ended by a NULL name), with
 * --help/-h beside them, as getopt_long does. Returns -1 when they were
 * read (the operands start at argv[optind]), else the exit code to return
 * at once: 0 after printing help, 2 after the usage of usage_cmd.
 */
static int
s_opts(int argc, char **argv, const s_opt *opts, const char *usage_cmd, const char *help)
{
	struct option lo[S_OPTS_MAX + 2];
	char shorts[2 * S_OPTS_MAX + 2];
	size_t n = 0, sl = 0;
	int o;

	for (; opts[n].name; n++) {
		assert(n < S_OPTS_MAX);
		lo[n] = (struct option){ opts[n].name, opts[n].val || opts[n].list ? required_argument : no_argument,
			NULL, opts[n].letter ? opts[n].letter : 256 + (int)n };
		if (opts[n].letter) {
			shorts[sl++] = opts[n].letter;
			shorts[sl++] = ':';
		}
	}
	lo[n] = (struct option){ "help", no_argument, NULL, 'h' };
	lo[n + 1] = (struct option){ NULL, 0, NULL, 0 };
	shorts[sl++] = 'h';
	shorts[sl] = '\0';
	optind = 0;
	while ((o = getopt_long(argc, argv, shorts, lo, NULL)) != -1) {
		size_t i = 0;
		if (o == 'h') {
			fputs(help, stdout);
			return 0;
		}
		while (i < n && (o >= 256 ? (size_t)(o - 256) != i : opts[i].letter != o))
			i++;
		if (i == n)
			return kr_cli_usage(usage_cmd);
		if (opts[i].val)
			*opts[i].val = optarg;
		else if (opts[i].list)
			opts[i].list[(*opts[i].n)++] = optarg;
		else if (opts[i].flag)
			*opts[i].flag = 1;
	}
	return -1;
}

/* "name: \"v\"\n" when v is given; nothing otherwise. */
static void
s_yfield(kr_buf *b, const char *name, const char *v)
{
	if (!v)
		return;
	kr_buf_addf(b, "%s: ", name);
	s_yq(b, v);
	kr_buf_addch(b, '\n');
}

/* The items of a "、"-joined list (as kr_board_rec keeps domains), quoted and joined with ", ". */
static void
s_ylist(kr_buf *b, const char *list)
{
	for (const char *d = list; d && *d;) {
		const char *sep = strstr(d, "、");
		size_t l = sep ? (size_t)(sep - d) : strlen(d);
		char *one = kr_strndup(d, l);
		if (d != list)
			kr_buf_adds(b, ", ");
		s_yq(b, one);
		free(one);
		d += l + (sep ? strlen("、") : 0);
	}
}

/* A body file's text after the front matter, ending with a newline. */
static void
s_body(kr_buf *b, const kr_buf *body)
{
	kr_buf_add(b, body->ptr, body->len);
	if (body->len && body->ptr[body->len - 1] != '\n')
		kr_buf_addch(b, '\n');
}

/* Safe on one line, for the terminal. */
static void
s_out(kr_buf *b, const char *s)
{
	if (s)
		kr_buf_addsafe(b, s, strlen(s), KR_SAFE_LINE);
}

/* "372081/case/gomi-chatbot-poc" -> "372081-case-gomi-chatbot-poc", cut to max bytes. */
static char *
s_id_slug(const char *id, size_t max)
{
	char *s = kr_strdup(id);

	for (char *p = s; *p; p++)
		if (*p == '/')
			*p = '-';
	if (strlen(s) > max)
		s[max] = '\0';
	while (*s && s[strlen(s) - 1] == '-')
		s[strlen(s) - 1] = '\0';
	return s;
}

/*
 * This node's current copy of its own item id (version and published
 * date), for rewriting it: version gets the next patch number, published
 * stays. Neither is set when the node has no such item yet.
 */
static void
s_own_prev(kr_cli *c, const char *id, char **version, char **published, kr_board_rec *prev)
{
	kr_state_item *it = NULL;
	size_t n = 0;

	*version = NULL;
	*published = NULL;
	memset(prev, 0, sizeof(*prev));
	if (kr_state_item_find(c->h.state, id, &it, &n) < 0) {
		kr_error_clear();
		return;
	}
	for (size_t i = 0; i < n; i++) {
		kr_buf text = KR_BUF_INIT;
		uint8_t blob[KR_OID_LEN];
		if (strcmp(it[i].publisher, c->h.fpr) != 0 || kr_unhex(blob, KR_OID_LEN, it[i].blob) < 0 ||
		    kr_store_read_blob(c->h.store, it[i].publisher, it[i].collection, blob, &text) < 0 ||
		    kr_board_parse(prev, text.ptr, text.len) < 0) {
			kr_buf_release(&text);
			kr_error_clear();
			continue;
		}
		kr_buf_release(&text);
		if (prev->version) {
			long a = 1, b = 0, p = 0;
			sscanf(prev->version, "%ld.%ld.%ld", &a, &b, &p);
			*version = kr_sprintf("%ld.%ld.%ld", a, b, p + 1);
		}
		if (prev->published)
			*published = kr_strdup(prev->published);
		break;
	}
	kr_state_items_free(it, n);
}

/*
 * Front matter common to every board item of this node, up to and
 * including confidentiality; the caller adds the kind's fields, "---" and
 * the body.
 */
static void
s_envelope(kr_cli *c, kr_buf *b, const char *kind, const char *id, const char *title,
    const char *version, const char *published, const char *confidentiality)
{
	char today[11];

	s_today(today, 0);
	kr_buf_addf(b, "---\nkind: %s\nid: %s\ntitle: ", kind, id);
	s_yq(b, title);
	kr_buf_addf(b, "\npublisher: {lg_code: \"%s\", name: ", c->h.cfg.lg_code);
	s_yq(b, c->h.cfg.name);
	kr_buf_addf(b, "}\nversion: %s\npublished: %s\nupdated: %s\nlicense: PDL-1.0\nconfidentiality: %s\n",
	    version ? version : "1.0.0", published ? published : today, today,
	    confidentiality ? confidentiality : "機密性1");
	/* a rewrite of this node's own record is a new version, which says why (publish requires it) */
	if (version)
		kr_buf_addf(b, "version_notes: %s が %s にこの記録を書き直した（同じ鍵の以前の版を置き換える）\n",
		    c->h.cfg.name, today);
}

/*
 * s_envelope for a record this node may have written before: a rewrite
 * keeps its published date and takes the next version. *prev gets the
 * earlier record (cleared, and empty when there is none); prev may be NULL.
 */
static void
s_own_envelope(kr_cli *c, kr_buf *b, const char *kind, const char *id, const char *title, kr_board_rec *prev)
{
	kr_board_rec mine;
	char *pv, *pp;

	s_own_prev(c, id, &pv, &pp, prev ? prev : &mine);
	if (!prev)
		kr_board_rec_clear(&mine);
	s_envelope(c, b, kind, id, title, pv, pp, NULL);
	free(pv);
	free(pp);
}

/*
 * Checks text as publish would and publishes it as path of coll with a
 * signed commit whose message is msgfmt, formatted. Prints what
 * happened; 0 or 1.
 */
static int
s_write(kr_cli *c, const char *cmd, const char *coll, const char *path, const kr_buf *text, const char *msgfmt, ...)
    __attribute__((format(printf, 6, 7)));
static int
s_write(kr_cli *c, const char *cmd, const char *coll, const char *path, const kr_buf *text, const char *msgfmt, ...)
{
	kr_buf msg = KR_BUF_INIT;
	va_list ap;
	kr_policy pol = { .lg_code = c->h.cfg.lg_code, .pii = &c->h.cfg.pii, .rules = &c->h.cfg.rules };
	kr_findings f = { 0 };
	kr_item it;
	kr_apply res;
	kr_pubfile file = { coll, path, text->ptr, text->len };
	int rc = 1;

	va_start(ap, msgfmt);
	kr_buf_vaddf(&msg, msgfmt, ap);
	va_end(ap);
	kr_item_check(&it, &pol, path, text->ptr, text->len, NULL, &f);
	kr_cli_print_findings(cmd, &f);
	if (kr_findings_blocking(&f)) {
		fprintf(stderr, _("kairan: %s: %zu problem(s); nothing was written\n"), cmd, kr_findings_blocking(&f));
		goto done;
	}
	if (!it.path || strcmp(it.path, path) != 0 || strcmp(it.collection, coll) != 0) {
		fprintf(stderr, _("kairan: %s: internal: item would live at %s, not %s; nothing was written\n"), cmd,
		    it.path ? it.path : "?", path);
		goto done;
	}
	if (kr_replica_publish(&c->h.rep, &file, 1, msg.ptr, &res) < 0) {
		fprintf(stderr, _("kairan: %s: %s; nothing was written\n"), cmd, kr_errmsg());
		goto done;
	}
	rc = 0;
	if (!res.applied) {
		printf(_("nothing changed: %s already says exactly this\n"), it.id);
		goto done;
	}
	printf(_("wrote %s (%s %s) as a signed commit; manifest seq %llu\n"), it.id, coll, it.version,
	    (unsigned long long)res.seq);
	if (kr_control_poke(&c->h, "announce", 2000) == 0)
		printf(_("announced to peers by the running node\n"));
	else
		printf(_("no node is running on this home: peers get it once `kairan serve` runs\n"));
done:
	kr_item_clear(&it);
	kr_findings_clear(&f);
	kr_buf_release(&msg);
	return rc;
}

/* ---- finding the version of an item this node holds --------------------- */

typedef struct {
	kr_cli *c;
	const kr_state_item *it;
	const char *want;
	char blob[KR_OID_HEX + 1];
	kr_buf held;                    /* versions seen, for the error */
} s_verfind;

static int
s_ver_one(const uint8_t commit[KR_OID_LEN], int64_t t, const uint8_t *blob, void *arg)
{
	s_verfind *x = arg;
	kr_buf text = KR_BUF_INIT;
	kr_board_rec r;

	(void)commit;
	(void)t;
	if (!blob || x->blob[0])
		return 0;
	if (kr_store_read_blob(x->c->h.store, x->it->publisher, x->it->collection, blob, &text) == 0 &&
	    kr_board_parse(&r, text.ptr, text.len) == 0) {
		if (r.version && strcmp(r.version, x->want) == 0)
			kr_hex(x->blob, blob, KR_OID_LEN);
		else if (r.version && !strstr(x->held.ptr ? x->held.ptr : "", r.version))
			kr_buf_addf(&x->held, "%s%s", x->held.len ? ", " : "", r.version);
		kr_board_rec_clear(&r);
	}
	kr_error_clear();
	kr_buf_release(&text);
	return 0;
}

/*
 * The item id as this node holds it: *it (free with kr_state_items_free)
 * and the blob of version (NULL: the current one). Errors print and
 * return 1: an item or version not held here cannot be endorsed or
 * reported on.
 */
static int
s_target(kr_cli *c, const char *cmd, const char *id, const char *version, kr_state_item **it, size_t *n,
    char blob[KR_OID_HEX + 1], const char **held_version)
{
	s_verfind x = { .c = c, .want = version };

	*it = NULL;
	*n = 0;
	if (kr_state_item_find(c->h.state, id, it, n) < 0) {
		char *shown = kr_safe(id);
		fprintf(stderr, _("kairan: %s: no item %s on this node (only what this node holds and has "
		    "verified can be %s; see kairan search or kairan sync)\n"), cmd, shown,
		    strcmp(cmd, "endorse") == 0 ? "endorsed" : "reported on");
		free(shown);
		return 1;
	}
	if (kr_board_kind((*it)[0].kind)) {
		fprintf(stderr, _("kairan: %s: %s is a %s, not an item the board reviews (case, prompt, guideline, "
		    "dataset)\n"), cmd, (*it)[0].id, (*it)[0].kind);
		return 1;
	}
	*held_version = (*it)[0].version;
	if (!version || strcmp(version, (*it)[0].version) == 0) {
		snprintf(blob, KR_OID_HEX + 1, "%s", (*it)[0].blob);
		return 0;
	}
	x.it = &(*it)[0];
	kr_buf_adds(&x.held, (*it)[0].version);
	if (kr_store_path_history(c->h.store, (*it)[0].publisher, (*it)[0].collection, (*it)[0].path,
	    s_ver_one, &x) < 0) {
		kr_buf_release(&x.held);
		return kr_cli_fail(cmd);
	}
	if (!x.blob[0]) {
		char *shown = kr_safe(version);
		fprintf(stderr, _("kairan: %s: this node holds no version %s of %s (versions held: %s)\n"), cmd, shown,
		    (*it)[0].id, x.held.ptr);
		free(shown);
		kr_buf_release(&x.held);
		return 1;
	}
	kr_buf_release(&x.held);
	memcpy(blob, x.blob, KR_OID_HEX + 1);
	*held_version = version;
	return 0;
}

static int
s_in(const char *v, const char *const *allowed, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		if (strcmp(v, allowed[i]) == 0)
			return 1;
	return 0;
}

static int
s_date_arg(const char *cmd, const char *opt, const char *v)
{
	if (kr_date_valid(v))
		return 0;
	fprintf(stderr, _("kairan: %s: %s '%s' is not an ISO date (YYYY-MM-DD, 西暦)\n"), cmd, opt, v);
	return 2;
}

/* ---- endorse ------------------------------------------------------------ */

int
cmd_endorse(kr_cli *c, int argc, char **argv)
{
	const char *version = NULL, *verdict = NULL, *conditions = NULL, *comment = NULL, *review = NULL;
	const s_opt opts[] = {
		{ .name = "version", .val = &version }, { .name = "verdict", .val = &verdict },
		{ .name = "conditions", .val = &conditions }, { .name = "message", .letter = 'm', .val = &comment },
		{ .name = "review-by", .val = &review }, { .name = NULL },
	};
	const char *held_version;
	kr_state_item *it = NULL;
	size_t n = 0;
	char blob[KR_OID_HEX + 1], review_dflt[11], *slug = NULL, *base, *id = NULL, *path = NULL, *title = NULL;
	kr_board_rec prev = { 0 };
	kr_bview bv;
	kr_buf b = KR_BUF_INIT;
	int o, rc = 1;

	if ((o = s_opts(argc, argv, opts, "endorse", _("usage: kairan endorse ID [--version V] --verdict "
	    "推奨|条件付き推奨|注意 [--conditions TEXT] [-m COMMENT] [--review-by DATE]\n\n"
	    "On a board member's node: writes a signed endorsement of that exact version of the item\n"
	    "(its git blob) in this node's endorsements collection. The version is endorsed by the\n"
	    "board once threshold distinct board keys endorse it; endorsing the same version again\n"
	    "replaces this node's earlier endorsement. --review-by defaults to a year from today.\n"))) >= 0)
		return o;
	if (optind != argc - 1 || !verdict)
		return kr_cli_usage("endorse");
	if (!s_in(verdict, kr_verdicts, 3)) {
		fprintf(stderr, _("kairan: endorse: verdict '%s' is not allowed (allowed: 推奨, 条件付き推奨, 注意)\n"), verdict);
		return 2;
	}
	if (strcmp(verdict, "条件付き推奨") == 0 && !conditions) {
		fprintf(stderr, _("kairan: endorse: 条件付き推奨 needs --conditions TEXT (the conditions of the recommendation)\n"));
		return 2;
	}
	if (review && s_date_arg("endorse", "--review-by", review))
		return 2;
	if (s_target(c, "endorse", argv[optind], version, &it, &n, blob, &held_version))
		goto done;
	if (kr_bview_load(&bv, c->h.home, c->h.state, c->h.store, c->h.fpr) < 0) {
		rc = kr_cli_fail("endorse");
		goto done;
	}
	if (!bv.federated)
		fprintf(stderr, _("kairan: endorse: warning: this node holds no federation membership, so no board: "
		    "the endorsement is published but counts nowhere until it does\n"));
	else if (bv.own_standing != KR_BOARD_SEAT)
		fprintf(stderr, _("kairan: endorse: warning: this node's key is not on the board of %s: its "
		    "endorsement is shown as such and never counts\n"), bv.fed_name);
	kr_bview_free(&bv);

	s_today(review_dflt, 365);
	base = s_id_slug(it[0].id, SLUG_MAX - 14);
	slug = kr_sprintf("%s-%.12s", base, blob);
	free(base);
	id = kr_sprintf("%s/endorsement/%s", c->h.cfg.lg_code, slug);
	path = kr_sprintf("endorsements/%s.md", slug);
	title = kr_sprintf("%s: %s（%s）", verdict, it[0].title ? it[0].title : it[0].id, held_version);
	s_own_envelope(c, &b, "endorsement", id, title, &prev);
	kr_buf_addf(&b, "target: {id: %s, version: ", it[0].id);
	s_yq(&b, held_version);
	kr_buf_addf(&b, ", blob: %s}\nverdict: %s\n", blob, verdict);
	s_yfield(&b, "conditions", conditions);
	s_yfield(&b, "comment", comment);
	kr_buf_addf(&b, "review_by: %s\n---\n%s（%s）は %s の版 %s を「%s」とします。\n",
	    review ? review : review_dflt, c->h.cfg.name, c->h.cfg.lg_code, it[0].id, held_version, verdict);
	if (conditions)
		kr_buf_addf(&b, "\n条件: %s\n", conditions);
	if (comment)
		kr_buf_addf(&b, "\n%s\n", comment);
	if (prev.verdict)
		printf(_("replaces this node's earlier endorsement of this version (%s, %s)\n"), prev.verdict,
		    prev.updated ? prev.updated : "?");
	rc = s_write(c, "endorse", "endorsements", path, &b, "endorse: %s %s %s\n\nblob %s\n", it[0].id, held_version,
	    verdict, blob);
done:
	kr_board_rec_clear(&prev);
	kr_state_items_free(it, n);
	free(slug); free(id); free(path); free(title);
	kr_buf_release(&b);
	return rc;
}

/* ---- adopt -------------------------------------------------------------- */

int
cmd_adopt(kr_cli *c, int argc, char **argv)
{
	const char *version = NULL, *status = NULL, *note = NULL, *held_version;
	const char **metrics = kr_calloc((size_t)argc + 1, sizeof(char *));
	size_t nmetrics = 0, n = 0;
	const s_opt opts[] = {
		{ .name = "version", .val = &version }, { .name = "status", .val = &status },
		{ .name = "message", .letter = 'm', .val = &note }, { .name = "metric", .list = metrics, .n = &nmetrics },
		{ .name = NULL },
	};
	kr_state_item *it = NULL;
	char blob[KR_OID_HEX + 1], *slug = NULL, *id = NULL, *path = NULL, *title = NULL;
	kr_buf b = KR_BUF_INIT;
	int o, rc = 1;

	if ((o = s_opts(argc, argv, opts, "adopt", _("usage: kairan adopt ID --version V --status 検討中|採用|不採用 "
	    "[-m NOTE] [--metric NAME=VALUE]...\n\n"
	    "On the adopting town's node: a signed adoption report (利用報告) in this node's adoptions\n"
	    "collection. The publisher and every searcher see how many municipalities considered,\n"
	    "adopted and declined the item, with the notes; 不採用 needs a note (-m). A later report\n"
	    "on the same item replaces this node's earlier one.\n"))) >= 0) {
		free(metrics);
		return o;
	}
	if (optind != argc - 1 || !version || !status) {
		free(metrics);
		return kr_cli_usage("adopt");
	}
	if (!s_in(status, kr_adopt_statuses, 3)) {
		fprintf(stderr, _("kairan: adopt: status '%s' is not allowed (allowed: 検討中, 採用, 不採用)\n"), status);
		free(metrics);
		return 2;
	}
	for (size_t i = 0; i < nmetrics; i++) {
		const char *eq = strchr(metrics[i], '=');
		char *end = NULL;
		if (!eq || eq == metrics[i] || !eq[1] || (strtod(eq + 1, &end), *end != '\0')) {
			fprintf(stderr, _("kairan: adopt: --metric '%s' must be NAME=NUMBER (e.g. 削減時間=120)\n"), metrics[i]);
			free(metrics);
			return 2;
		}
	}
	if (s_target(c, "adopt", argv[optind], version, &it, &n, blob, &held_version))
		goto done;
	slug = s_id_slug(it[0].id, SLUG_MAX);
	id = kr_sprintf("%s/adoption/%s", c->h.cfg.lg_code, slug);
	path = kr_sprintf("adoptions/%s.md", slug);
	title = kr_sprintf("利用報告（%s）: %s", status, it[0].title ? it[0].title : it[0].id);
	s_own_envelope(c, &b, "adoption", id, title, NULL);
	kr_buf_addf(&b, "target: {id: %s, version: ", it[0].id);
	s_yq(&b, held_version);
	kr_buf_addf(&b, "}\nstatus: %s\n", status);
	s_yfield(&b, "note", note);
	if (nmetrics) {
		kr_buf_adds(&b, "metrics:\n");
		for (size_t i = 0; i < nmetrics; i++) {
			const char *eq = strchr(metrics[i], '=');
			char *name = kr_strndup(metrics[i], (size_t)(eq - metrics[i]));
			kr_buf_adds(&b, "  - {name: ");
			s_yq(&b, name);
			kr_buf_addf(&b, ", achieved: %s}\n", eq + 1);
			free(name);
		}
	}
	kr_buf_addf(&b, "---\n%s（%s）は %s の版 %s について「%s」と報告します。\n", c->h.cfg.name, c->h.cfg.lg_code,
	    it[0].id, held_version, status);
	if (note)
		kr_buf_addf(&b, "\n%s\n", note);
	rc = s_write(c, "adopt", "adoptions", path, &b, "adopt: %s %s %s\n", it[0].id, held_version, status);
done:
	kr_state_items_free(it, n);
	free(metrics);
	free(slug); free(id); free(path); free(title);
	kr_buf_release(&b);
	return rc;
}

/* ---- consult ------------------------------------------------------------ */

/* Days from date (YYYY-MM-DD) to today; 0 if it cannot be read. */
static long
s_age_days(const char *date, const char *today)
{
	struct tm a = { 0 }, b = { 0 };

	if (!date || sscanf(date, "%d-%d-%d", &a.tm_year, &a.tm_mon, &a.tm_mday) != 3 ||
	    sscanf(today, "%d-%d-%d", &b.tm_year, &b.tm_mon, &b.tm_mday) != 3)
		return 0;
	a.tm_year -= 1900; a.tm_mon -= 1;
	b.tm_year -= 1900; b.tm_mon -= 1;
	return (long)((timegm(&b) - timegm(&a)) / 86400);
}

/* The consultation cid as this node holds it; prints and returns NULL if absent. */
static const kr_bview_item *
s_consultation(const kr_bview *bv, const char *cmd, const char *cid)
{
	const kr_bview_item *x = kr_bview_find(bv, "consultation", cid);

	if (!x) {
		char *shown = kr_safe(cid);
		fprintf(stderr, _("kairan: consult %s: no consultation %s on this node (see: kairan consult list)\n"),
		    cmd, shown);
		free(shown);
	}
	return x;
}

static int
s_closed(const char *state)
{
	return strcmp(state, "取下げ") == 0 || strcmp(state, "重複") == 0;
}

/*
 * Rewrites this node's own consultation x with a new state (and what goes
 * with it): the question, context and domains stay as asked.
 */
static int
s_consult_rewrite(kr_cli *c, const char *cmd, const kr_bview_item *x, const char *state,
    const char *accepted, const char *duplicate_of)
{
	kr_buf b = KR_BUF_INIT;
	int rc;

	s_own_envelope(c, &b, "consultation", x->r.id, x->r.title ? x->r.title : x->r.id, NULL);
	kr_buf_adds(&b, "domains: [");
	s_ylist(&b, x->r.domains);
	kr_buf_adds(&b, "]\nasked_by: {department: ");
	s_yq(&b, x->r.department ? x->r.department : "");
	kr_buf_adds(&b, "}\n");
	s_yfield(&b, "context", x->r.context);
	kr_buf_addf(&b, "state: %s\n", state);
	if (accepted)
		kr_buf_addf(&b, "accepted_answer: %s\n", accepted);
	if (duplicate_of)
		kr_buf_addf(&b, "duplicate_of: %s\n", duplicate_of);
	kr_buf_addf(&b, "---\n%s\n", x->r.body ? x->r.body : "");
	rc = s_write(c, cmd, "consultations", x->path, &b, "consult %s: %s %s%s%s\n", cmd, x->r.id, state,
	    accepted ? " " : "", accepted ? accepted : "");
	kr_buf_release(&b);
	return rc;
}

static int
s_consult_ask(kr_cli *c, int argc, char **argv)
{
	const char *title = NULL, *bodyfile = NULL, *context = NULL, *dept = NULL, *slug = NULL, *conf = NULL;
	const char **domains = kr_calloc((size_t)argc + 1, sizeof(char *));
	size_t nd = 0;
	const s_opt opts[] = {
		{ .name = "title", .val = &title }, { .name = "body-file", .val = &bodyfile },
		{ .name = "domain", .list = domains, .n = &nd }, { .name = "context", .val = &context },
		{ .name = "department", .val = &dept }, { .name = "slug", .val = &slug },
		{ .name = "confidentiality", .val = &conf }, { .name = NULL },
	};
	char today[11], *gen = NULL, *id = NULL, *path = NULL;
	kr_buf body = KR_BUF_INIT, b = KR_BUF_INIT;
	int o, rc = 1;

	if ((o = s_opts(argc, argv, opts, "consult", _("usage: kairan consult ask --title T --body-file F --domain "
	    "D... --department DEPT [--context TEXT] [--slug S] [--confidentiality C]\n\n"
	    "Asks the board (相談): a signed consultation in this node's consultations collection,\n"
	    "through the same gate as publish (機密性1 only, PII scan, the 16 分野). asked_by names a\n"
	    "department, never a person.\n"))) >= 0) {
		free(domains);
		return o;
	}
	if (optind != argc || !title || !bodyfile || !nd || !dept) {
		fprintf(stderr, _("kairan: consult ask: --title, --body-file, at least one --domain and --department "
		    "(the asking department, never a person) are needed\n"));
		free(domains);
		return 2;
	}
	if (kr_file_read(&body, bodyfile) < 0) {
		rc = kr_cli_fail("consult ask");
		goto done;
	}
	s_today(today, 0);
	if (!slug) {
		/* <date>-<n>: the first free number of the day */
		for (int i = 1; i < 10000 && !slug; i++) {
			kr_state_item *it;
			size_t n;
			free(gen);
			gen = kr_sprintf("%.4s%.2s%.2s-%d", today, today + 5, today + 8, i);
			free(id);
			id = kr_sprintf("%s/consultation/%s", c->h.cfg.lg_code, gen);
			if (kr_state_item_find(c->h.state, id, &it, &n) < 0) {
				kr_error_clear();
				slug = gen;
			} else {
				kr_state_items_free(it, n);
			}
		}
	}
	free(id);
	id = kr_sprintf("%s/consultation/%s", c->h.cfg.lg_code, slug);
	path = kr_sprintf("consultations/%s.md", slug);
	s_envelope(c, &b, "consultation", id, title, NULL, NULL, conf);
	kr_buf_adds(&b, "domains: [");
	for (size_t i = 0; i < nd; i++) {
		if (i)
			kr_buf_adds(&b, ", ");
		s_yq(&b, domains[i]);
	}
	kr_buf_adds(&b, "]\nasked_by: {department: ");
	s_yq(&b, dept);
	kr_buf_adds(&b, "}\n");
	s_yfield(&b, "context", context);
	kr_buf_adds(&b, "state: 受付\n---\n");
	s_body(&b, &body);
	rc = s_write(c, "consult ask", "consultations", path, &b, "consult ask: %s\n", id);
	if (rc == 0)
		printf(_("consultation %s: 受付 (board members answer it with: kairan consult answer %s --body-file F)\n"),
		    id, id);
done:
	free(domains);
	free(gen); /* slug points into it, or into argv */
	free(id);
	free(path);
	kr_buf_release(&body);
	kr_buf_release(&b);
	return rc;
}

static size_t
s_answers(const kr_bview *bv, const char *cid, size_t *idx)
{
	size_t n = 0;

	for (size_t i = 0; i < bv->n; i++) {
		const kr_bview_item *x = &bv->v[i];
		if (x->r.kind && strcmp(x->r.kind, "answer") == 0 && x->r.consultation &&
		    strcmp(x->r.consultation, cid) == 0 && !x->r.accepted_answer)
			idx[n++] = i;
	}
	return n;
}

static int
s_consult_list(kr_cli *c, int argc, char **argv)
{
	const char *want = NULL;
	int o, json = 0;
	const s_opt opts[] = {
		{ .name = "state", .val = &want }, { .name = "json", .flag = &json }, { .name = NULL },
	};
	kr_bview bv;
	kr_buf b = KR_BUF_INIT;
	size_t shown = 0, *idx;

	if ((o = s_opts(argc, argv, opts, "consult", _("usage: kairan consult list [--state 受付|回答済|解決|重複|取下げ|期限切れ] [--json]\n\n"
	    "Every consultation this node holds (its own and those it mirrors), with its state as\n"
	    "DESIGN §7 derives it, its age and its answers.\n"))) >= 0)
		return o;
	if (optind != argc)
		return kr_cli_usage("consult");
	if (want && !s_in(want, kr_consult_states, 6)) {
		fprintf(stderr, _("kairan: consult list: state '%s' is not one of 受付, 回答済, 解決, 重複, 取下げ, 期限切れ\n"), want);
		return 2;
	}
	if (kr_bview_load(&bv, c->h.home, c->h.state, c->h.store, c->h.fpr) < 0)
		return kr_cli_fail("consult list");
	idx = kr_calloc(bv.n + 1, sizeof(*idx));
	if (json)
		kr_buf_adds(&b, "{\"consultations\":[");
	for (size_t i = 0; i < bv.n; i++) {
		const kr_bview_item *x = &bv.v[i], *acc;
		const char *state;
		size_t na;
		if (!x->r.kind || strcmp(x->r.kind, "consultation") != 0 || !x->r.id)
			continue;
		state = kr_bview_consult_state(&bv, x, &acc);
		if (want && strcmp(want, state) != 0)
			continue;
		na = s_answers(&bv, x->r.id, idx);
		if (json) {
			kr_buf_adds(&b, shown ? ",{" : "{");
			kr_buf_addjson_kv(&b, "id", x->r.id, 0);
			kr_buf_addjson_kv(&b, "title", x->r.title, 1);
			kr_buf_addjson_kv(&b, "state", state, 1);
			kr_buf_addjson_kv(&b, "asked_by", x->r.department, 1);
			kr_buf_addjson_kv(&b, "publisher", x->publisher, 1);
			kr_buf_addjson_kv(&b, "lg_code", x->r.lg_code, 1);
			kr_buf_addjson_kv(&b, "published", x->r.published, 1);
			kr_buf_addjson_kv(&b, "accepted_answer", acc ? acc->r.id : x->r.accepted_answer, 1);
			kr_buf_addjson_kv(&b, "duplicate_of", x->r.duplicate_of, 1);
			kr_buf_addf(&b, ",\"answers\":%zu,\"age_days\":%ld}", na, s_age_days(x->r.published, bv.today));
		} else {
			kr_buf_addf(&b, "%s  %s  ", x->r.id, state);
			s_out(&b, x->r.title);
			kr_buf_adds(&b, "\n  ");
			s_out(&b, x->r.pub_name);
			kr_buf_adds(&b, " ");
			s_out(&b, x->r.department);
			kr_buf_addf(&b, " · %s (%ld日前) · 回答 %zu件", x->r.published ? x->r.published : "?",
			    s_age_days(x->r.published, bv.today), na);
			if (acc)
				kr_buf_addf(&b, " · 採用された回答 %s", acc->r.id);
			kr_buf_adds(&b, "\n");
		}
		shown++;
	}
	if (json)
		kr_buf_adds(&b, "]}\n");
	else
		kr_buf_addf(&b, "%s%zu consultation(s)\n", shown ? "\n" : "", shown);
	fputs(b.ptr, stdout);
	kr_buf_release(&b);
	free(idx);
	kr_bview_free(&bv);
	return 0;
}

static int
s_consult_show(kr_cli *c, int argc, char **argv)
{
	kr_bview bv;
	const kr_bview_item *x, *acc;
	kr_buf b = KR_BUF_INIT;
	size_t *idx, na;
	const char *state;

	if (argc != 2 || argv[1][0] == '-') {
		if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0))
			return printf(_("usage: kairan consult show CID\n\nA consultation: its question, state, "
			    "and every answer this node holds (the accepted one marked, one past its review_by\n"
			    "date marked 要見直し).\n")), 0;
		return kr_cli_usage("consult");
	}
	if (kr_bview_load(&bv, c->h.home, c->h.state, c->h.store, c->h.fpr) < 0)
		return kr_cli_fail("consult show");
	if (!(x = s_consultation(&bv, "show", argv[1]))) {
		kr_bview_free(&bv);
		return 1;
	}
	state = kr_bview_consult_state(&bv, x, &acc);
	kr_buf_addf(&b, "%s  [%s]\n", x->r.id, state);
	s_out(&b, x->r.title);
	kr_buf_adds(&b, "\n相談元: ");
	s_out(&b, x->r.pub_name);
	kr_buf_addf(&b, " (%s) ", x->r.lg_code ? x->r.lg_code : "?");
	s_out(&b, x->r.department);
	kr_buf_addf(&b, " · %s (%ld日前)\n分野: ", x->r.published ? x->r.published : "?",
	    s_age_days(x->r.published, bv.today));
	s_out(&b, x->r.domains);
	if (x->r.context) {
		kr_buf_adds(&b, "\n背景: ");
		s_out(&b, x->r.context);
	}
	if (x->r.duplicate_of)
		kr_buf_addf(&b, "\n重複: %s を参照", x->r.duplicate_of);
	kr_buf_adds(&b, "\n\n問い合わせ:\n");
	kr_buf_addsafe(&b, x->r.body ? x->r.body : "", x->r.body ? strlen(x->r.body) : 0, KR_SAFE_TEXT);
	kr_buf_adds(&b, "\n");
	idx = kr_calloc(bv.n + 1, sizeof(*idx));
	na = s_answers(&bv, x->r.id, idx);
	for (size_t i = 0; i < na; i++) {
		const kr_bview_item *a = &bv.v[idx[i]];
		kr_buf_addf(&b, "\n回答 %s%s%s\n  ", a->r.id, acc == a ? "  [採用]" : "",
		    kr_bview_needs_review(&bv, a) ? "  [要見直し: review_by を過ぎています]" : "");
		s_out(&b, a->r.pub_name);
		kr_buf_addf(&b, " (%s) · %s · %s · 見直し期限 %s\n", a->r.lg_code ? a->r.lg_code : "?",
		    kr_board_standing_name(a->standing), a->r.updated ? a->r.updated : "?",
		    a->r.review_by ? a->r.review_by : "?");
		kr_buf_addsafe(&b, a->r.body ? a->r.body : "", a->r.body ? strlen(a->r.body) : 0, KR_SAFE_TEXT);
		kr_buf_adds(&b, "\n");
	}
	if (!na)
		kr_buf_adds(&b, "\n(回答はまだありません)\n");
	fputs(b.ptr, stdout);
	free(idx);
	kr_buf_release(&b);
	kr_bview_free(&bv);
	return 0;
}

static int
s_consult_answer(kr_cli *c, int argc, char **argv)
{
	const char *bodyfile = NULL, *review = NULL, *source = NULL, *state;
	const s_opt opts[] = {
		{ .name = "body-file", .val = &bodyfile }, { .name = "review-by", .val = &review },
		{ .name = "source", .val = &source }, { .name = NULL },
	};
	kr_bview bv;
	const kr_bview_item *x;
	kr_buf body = KR_BUF_INIT, b = KR_BUF_INIT;
	char review_dflt[11], *slug = NULL, *id = NULL, *path = NULL, *title = NULL;
	int o, rc = 1, loaded = 0;

	if ((o = s_opts(argc, argv, opts, "consult", _("usage: kairan consult answer CID --body-file F [--review-by DATE] "
	    "[--source TITLE]\n\nOn a board member's node: a signed answer in this node's answers "
	    "collection. Answering again\nreplaces this node's earlier answer. --review-by defaults to "
	    "a year from today.\n"))) >= 0)
		return o;
	if (optind != argc - 1 || !bodyfile)
		return kr_cli_usage("consult");
	if (review && s_date_arg("consult answer", "--review-by", review))
		return 2;
	if (kr_bview_load(&bv, c->h.home, c->h.state, c->h.store, c->h.fpr) < 0)
		return kr_cli_fail("consult answer");
	loaded = 1;
	if (bv.own_standing != KR_BOARD_SEAT) {
		fprintf(stderr, _("kairan: consult answer: this node's key %.16s… is not on the board%s%s: only "
		    "board members answer consultations; nothing was written\n"), c->h.fpr,
		    bv.federated ? " of " : " (no federation membership is installed)", bv.federated ? bv.fed_name : "");
		goto done;
	}
	if (!(x = s_consultation(&bv, "answer", argv[optind])))
		goto done;
	state = kr_bview_consult_state(&bv, x, NULL);
	if (s_closed(state)) {
		fprintf(stderr, _("kairan: consult answer: consultation %s is %s%s%s: it takes no answers; nothing "
		    "was written\n"), x->r.id, state, x->r.duplicate_of ? "; answer " : "",
		    x->r.duplicate_of ? x->r.duplicate_of : "");
		goto done;
	}
	if (kr_file_read(&body, bodyfile) < 0) {
		rc = kr_cli_fail("consult answer");
		goto done;
	}
	s_today(review_dflt, 365);
	slug = s_id_slug(x->r.id, SLUG_MAX);
	id = kr_sprintf("%s/answer/%s", c->h.cfg.lg_code, slug);
	path = kr_sprintf("answers/%s.md", slug);
	title = kr_sprintf("回答: %s", x->r.title ? x->r.title : x->r.id);
	s_own_envelope(c, &b, "answer", id, title, NULL);
	if (x->r.domains && *x->r.domains) {
		kr_buf_adds(&b, "domains: [");
		s_ylist(&b, x->r.domains);
		kr_buf_adds(&b, "]\n");
	}
	kr_buf_addf(&b, "consultation: %s\nreview_by: %s\n", x->r.id, review ? review : review_dflt);
	if (source) {
		kr_buf_adds(&b, "sources: [{title: ");
		s_yq(&b, source);
		kr_buf_adds(&b, ", issuer: ");
		s_yq(&b, c->h.cfg.name);
		kr_buf_adds(&b, "}]\n");
	}
	kr_buf_adds(&b, "---\n");
	s_body(&b, &body);
	rc = s_write(c, "consult answer", "answers", path, &b, "consult answer: %s answers %s\n", id, x->r.id);
done:
	if (loaded)
		kr_bview_free(&bv);
	free(slug); free(id); free(path); free(title);
	kr_buf_release(&body);
	kr_buf_release(&b);
	return rc;
}

static int
s_consult_accept(kr_cli *c, int argc, char **argv)
{
	const char *aid = NULL, *state;
	const s_opt opts[] = { { .name = "answer", .val = &aid }, { .name = NULL } };
	kr_bview bv;
	const kr_bview_item *x, *a;
	int o, rc = 1;

	if ((o = s_opts(argc, argv, opts, "consult", _("usage: kairan consult accept CID --answer AID\n\nThe asking town (or a "
	    "board member) accepts an answer: the consultation is then 解決, searchable\nwith its "
	    "answer and exported by kairan export --faq.\n"))) >= 0)
		return o;
	if (optind != argc - 1 || !aid)
		return kr_cli_usage("consult");
	if (kr_bview_load(&bv, c->h.home, c->h.state, c->h.store, c->h.fpr) < 0)
		return kr_cli_fail("consult accept");
	if (!(x = s_consultation(&bv, "accept", argv[optind])))
		goto done;
	state = kr_bview_consult_state(&bv, x, NULL);
	if (s_closed(state)) {
		fprintf(stderr, _("kairan: consult accept: consultation %s is %s; nothing was written\n"), x->r.id, state);
		goto done;
	}
	a = kr_bview_find(&bv, "answer", aid);
	if (!a || a->r.accepted_answer || !a->r.consultation || strcmp(a->r.consultation, x->r.id) != 0) {
		char *shown = kr_safe(aid);
		fprintf(stderr, _("kairan: consult accept: %s is not an answer to %s held on this node (see: kairan "
		    "consult show %s); nothing was written\n"), shown, x->r.id, x->r.id);
		free(shown);
		goto done;
	}
	if (a->standing != KR_BOARD_SEAT && a->standing != KR_BOARD_RETIRED) {
		fprintf(stderr, _("kairan: consult accept: answer %s is not by a board member (%s); nothing was written\n"),
		    a->r.id, kr_board_standing_name(a->standing));
		goto done;
	}
	if (strcmp(x->publisher, c->h.fpr) == 0) {
		rc = s_consult_rewrite(c, "consult accept", x, "解決", a->r.id, NULL);
	} else if (bv.own_standing == KR_BOARD_SEAT) {
		/* a board member's decision, in its own answers collection */
		char *slug = s_id_slug(x->r.id, SLUG_MAX - 7), *id, *path, *title;
		kr_buf b = KR_BUF_INIT;
		id = kr_sprintf("%s/answer/%s-accept", c->h.cfg.lg_code, slug);
		path = kr_sprintf("answers/%s-accept.md", slug);
		title = kr_sprintf("解決: %s", x->r.title ? x->r.title : x->r.id);
		s_own_envelope(c, &b, "answer", id, title, NULL);
		kr_buf_addf(&b, "consultation: %s\naccepted_answer: %s\n---\nボード委員 %s（%s）は回答 %s を採用し、"
		    "相談 %s を解決とします。\n", x->r.id, a->r.id, c->h.cfg.name, c->h.cfg.lg_code, a->r.id, x->r.id);
		rc = s_write(c, "consult accept", "answers", path, &b, "consult accept: %s accepts %s\n", x->r.id, a->r.id);
		kr_buf_release(&b);
		free(slug); free(id); free(path); free(title);
	} else {
		fprintf(stderr, _("kairan: consult accept: consultation %s was asked by %s (%s), not this node, and this "
		    "node is not on the board: only the asking town or a board member accepts an answer; nothing "
		    "was written\n"), x->r.id, x->r.pub_name ? x->r.pub_name : "?", x->r.lg_code ? x->r.lg_code : "?");
	}
done:
	kr_bview_free(&bv);
	return rc;
}

static int
s_consult_close(kr_cli *c, int argc, char **argv)
{
	const char *dup = NULL, *state;
	int withdraw = 0, o, rc = 1;
	const s_opt opts[] = {
		{ .name = "duplicate-of", .val = &dup }, { .name = "withdraw", .flag = &withdraw }, { .name = NULL },
	};
	kr_bview bv;
	const kr_bview_item *x;

	if ((o = s_opts(argc, argv, opts, "consult", _("usage: kairan consult close CID --duplicate-of CID2 | --withdraw\n\n"
	    "The asking town closes its consultation: 重複 (pointing at the canonical one) or 取下げ.\n"))) >= 0)
		return o;
	if (optind != argc - 1 || (!dup) == !withdraw)
		return kr_cli_usage("consult");
	if (kr_bview_load(&bv, c->h.home, c->h.state, c->h.store, c->h.fpr) < 0)
		return kr_cli_fail("consult close");
	if (!(x = s_consultation(&bv, "close", argv[optind])))
		goto done;
	if (strcmp(x->publisher, c->h.fpr) != 0) {
		fprintf(stderr, _("kairan: consult close: consultation %s was asked by %s (%s): only the asking town "
		    "closes it; nothing was written\n"), x->r.id, x->r.pub_name ? x->r.pub_name : "?",
		    x->r.lg_code ? x->r.lg_code : "?");
		goto done;
	}
	state = kr_bview_consult_state(&bv, x, NULL);
	if (s_closed(state) || strcmp(state, "解決") == 0) {
		fprintf(stderr, _("kairan: consult close: consultation %s is already %s; nothing was written\n"), x->r.id, state);
		goto done;
	}
	if (dup && (strcmp(dup, x->r.id) == 0 || !kr_bview_find(&bv, "consultation", dup))) {
		char *shown = kr_safe(dup);
		fprintf(stderr, _("kairan: consult close: --duplicate-of %s must be another consultation held on this "
		    "node; nothing was written\n"), shown);
		free(shown);
		goto done;
	}
	rc = s_consult_rewrite(c, "consult close", x, dup ? "重複" : "取下げ", NULL, dup);
done:
	kr_bview_free(&bv);
	return rc;
}

int
cmd_consult(kr_cli *c, int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*fn)(kr_cli *, int, char **);
	} subs[] = {
		{ "ask", s_consult_ask }, { "list", s_consult_list }, { "show", s_consult_show },
		{ "answer", s_consult_answer }, { "accept", s_consult_accept }, { "close", s_consult_close },
	};

	if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0))
		return printf(_("usage: kairan consult ask|list|show|answer|accept|close ...\n\n"
		    "相談: a town asks (ask), board members answer (answer), the town or a board member\n"
		    "accepts an answer (accept), the town closes a duplicate or withdraws (close).\n"
		    "States: 受付 → 回答済 → 解決, or 重複, 取下げ, 期限切れ. kairan consult SUB --help for each.\n")), 0;
	for (size_t i = 0; argc >= 2 && i < sizeof(subs) / sizeof(subs[0]); i++)
		if (strcmp(argv[1], subs[i].name) == 0)
			return subs[i].fn(c, argc - 1, argv + 1);
	return kr_cli_usage("consult");
}

/* ---- export --faq ------------------------------------------------------- */

static void
s_csv(kr_buf *b, const char *s, int last)
{
	kr_buf_addch(b, '"');
	for (; s && *s; s++) {
		if (*s == '"')
			kr_buf_addch(b, '"');
		kr_buf_addch(b, *s);
	}
	kr_buf_adds(b, last ? "\"\r\n" : "\",");
}

int
cmd_export_faq(kr_cli *c, int argc, char **argv)
{
	const char *format = "faq-csv", *outpath = NULL;
	const s_opt opts[] = {
		{ .name = "faq" }, { .name = "format", .letter = 'f', .val = &format },
		{ .name = "output", .letter = 'o', .val = &outpath }, { .name = NULL },
	};
	kr_bview bv;
	kr_buf out = KR_BUF_INIT;
	size_t rows = 0;
	int o, csv, dify, rc = 1;

	if ((o = s_opts(argc, argv, opts, "export", _("usage: kairan export --faq [--format faq-csv|dify-csv|jsonl] [-o FILE]\n\n"
	    "FAQ rows from every resolved consultation this node holds with its accepted answer:\n"
	    "faq-csv  ID,問い合わせ文,応答文,カテゴリ,出典 (the 子育てオープンデータ協議会 FAQ shape; UTF-8\n"
	    "         with a BOM, RFC 4180)\n"
	    "dify-csv question,answer (Dify Q&A import; the 出典 line ends the answer)\n"
	    "jsonl    one object a row: id, question, answer, category, attribution, answer_id\n"))) >= 0)
		return o;
	csv = strcmp(format, "faq-csv") == 0;
	dify = strcmp(format, "dify-csv") == 0;
	if (optind != argc || (!csv && !dify && strcmp(format, "jsonl") != 0)) {
		fprintf(stderr, _("kairan: export: --faq takes --format faq-csv, dify-csv or jsonl\n"));
		return 2;
	}
	if (kr_bview_load(&bv, c->h.home, c->h.state, c->h.store, c->h.fpr) < 0)
		return kr_cli_fail("export");
	if (csv || dify)
		kr_buf_adds(&out, "\xef\xbb\xbf");
	if (csv)
		kr_buf_adds(&out, "ID,問い合わせ文,応答文,カテゴリ,出典\r\n");
	else if (dify)
		kr_buf_adds(&out, "question,answer\r\n");
	for (size_t i = 0; i < bv.n; i++) {
		const kr_bview_item *x = &bv.v[i], *a;
		const char *state;
		char *attr;
		if (!x->r.kind || strcmp(x->r.kind, "consultation") != 0 || !x->r.id)
			continue;
		state = kr_bview_consult_state(&bv, x, &a);
		if (strcmp(state, "解決") != 0 || !a)
			continue;
		attr = kr_sprintf("出典：%s「%s」への%sの回答（%s 版 %s）、PDL-1.0", x->r.pub_name ? x->r.pub_name : "?",
		    x->r.title ? x->r.title : x->r.id, a->r.pub_name ? a->r.pub_name : "?", a->r.id,
		    a->r.version ? a->r.version : "?");
		if (csv) {
			s_csv(&out, x->r.id, 0);
			s_csv(&out, x->r.body, 0);
			s_csv(&out, a->r.body, 0);
			s_csv(&out, x->r.domains, 0);
			s_csv(&out, attr, 1);
		} else if (dify) {
			char *ans = kr_sprintf("%s\n\n%s", a->r.body ? a->r.body : "", attr);
			s_csv(&out, x->r.body, 0);
			s_csv(&out, ans, 1);
			free(ans);
		} else {
			kr_buf_adds(&out, "{");
			kr_buf_addjson_kv(&out, "id", x->r.id, 0);
			kr_buf_addjson_kv(&out, "question", x->r.body, 1);
			kr_buf_addjson_kv(&out, "answer", a->r.body, 1);
			kr_buf_addjson_kv(&out, "category", x->r.domains, 1);
			kr_buf_addjson_kv(&out, "attribution", attr, 1);
			kr_buf_addjson_kv(&out, "answer_id", a->r.id, 1);
			kr_buf_adds(&out, "}\n");
		}
		free(attr);
		rows++;
	}
	if (outpath) {
		if (kr_file_write(outpath, out.ptr, out.len, 0644) < 0) {
			kr_cli_fail("export");
			goto done;
		}
		fprintf(stderr, _("exported %zu FAQ row(s) as %s to %s\n"), rows, format, outpath);
	} else {
		if (isatty(STDOUT_FILENO))
			out.len = kr_safe_inplace(out.ptr, out.len, KR_SAFE_TEXT);
		fwrite(out.ptr, 1, out.len, stdout);
	}
	if (!rows)
		fprintf(stderr, _("kairan: export: no resolved consultation with its accepted answer on this node yet\n"));
	rc = 0;
done:
	kr_buf_release(&out);
	kr_bview_free(&bv);
	return rc;
}

/* ---- status: open consultations, adoption reports ---------------------- */

void
kr_board_status(kr_cli *c, int json, kr_buf *out)
{
	kr_bview bv;
	kr_buf b = KR_BUF_INIT;
	size_t open = 0, reports = 0;
	kr_item_filter f = { .publisher = c->h.fpr, .order = KR_LIST_ID, .limit = 1000000 };
	kr_item_row *rows = NULL;
	size_t nrows = 0, total = 0;

	if (kr_bview_load(&bv, c->h.home, c->h.state, c->h.store, c->h.fpr) < 0) {
		kr_error_clear();
		if (json)
			kr_buf_adds(out, ",\"board\":null");
		return;
	}
	if (json)
		kr_buf_addf(out, ",\"board\":{\"member\":%s,\"consultations\":[",
		    bv.own_standing == KR_BOARD_SEAT ? "true" : "false");
	/* a board member's node: the open consultations and their age */
	for (size_t i = 0; bv.own_standing == KR_BOARD_SEAT && i < bv.n; i++) {
		const kr_bview_item *x = &bv.v[i];
		const char *state;
		if (!kr_bview_consult_open(&bv, x, &state))
			continue;
		if (json) {
			kr_buf_adds(out, open ? ",{" : "{");
			kr_buf_addjson_kv(out, "id", x->r.id, 0);
			kr_buf_addjson_kv(out, "state", state, 1);
			kr_buf_addjson_kv(out, "title", x->r.title, 1);
			kr_buf_addjson_kv(out, "lg_code", x->r.lg_code, 1);
			kr_buf_addf(out, ",\"age_days\":%ld}", s_age_days(x->r.published, bv.today));
		} else {
			kr_buf_addf(&b, "  %s  %s  %ld日  ", x->r.id, state, s_age_days(x->r.published, bv.today));
			s_out(&b, x->r.pub_name);
			kr_buf_adds(&b, "「");
			s_out(&b, x->r.title);
			kr_buf_adds(&b, "」\n");
		}
		open++;
	}
	if (!json && bv.own_standing == KR_BOARD_SEAT)
		printf(_("\nopen consultations (相談, this node is on the board): %zu\n%s"), open, b.ptr ? b.ptr : "");
	kr_buf_clear(&b);
	if (json)
		kr_buf_adds(out, "],\"adoptions\":[");
	/* the publisher's view: adoption reports on its own items */
	if (kr_state_item_list(c->h.state, &f, &rows, &nrows, &total) < 0)
		kr_error_clear();
	for (size_t i = 0; i < nrows; i++) {
		size_t counts[3], *ix = NULL, na;
		if (kr_board_kind(rows[i].kind))
			continue;
		na = kr_bview_adoptions(&bv, rows[i].id, counts, &ix);
		if (na && json) {
			kr_buf_adds(out, reports ? ",{" : "{");
			kr_buf_addjson_kv(out, "id", rows[i].id, 0);
			kr_buf_addf(out, ",\"検討中\":%zu,\"採用\":%zu,\"不採用\":%zu,\"reports\":[", counts[0], counts[1],
			    counts[2]);
			for (size_t k = 0; k < na; k++) {
				const kr_bview_item *x = &bv.v[ix[k]];
				kr_buf_adds(out, k ? ",{" : "{");
				kr_buf_addjson_kv(out, "lg_code", x->r.lg_code, 0);
				kr_buf_addjson_kv(out, "name", x->r.pub_name, 1);
				kr_buf_addjson_kv(out, "status", x->r.status, 1);
				kr_buf_addjson_kv(out, "version", x->r.target_version, 1);
				kr_buf_addjson_kv(out, "note", x->r.note, 1);
				kr_buf_adds(out, "}");
			}
			kr_buf_adds(out, "]}");
		} else if (na) {
			kr_buf_addf(&b, "  %s: 検討中 %zu、採用 %zu、不採用 %zu\n", rows[i].id, counts[0], counts[1], counts[2]);
			for (size_t k = 0; k < na; k++) {
				const kr_bview_item *x = &bv.v[ix[k]];
				kr_buf_addf(&b, "    %s ", x->r.status);
				s_out(&b, x->r.pub_name);
				kr_buf_addf(&b, " (%s) 版 %s", x->r.lg_code ? x->r.lg_code : "?",
				    x->r.target_version ? x->r.target_version : "?");
				if (x->r.note) {
					kr_buf_adds(&b, " — ");
					s_out(&b, x->r.note);
				}
				if (x->r.metrics) {
					kr_buf_adds(&b, " 指標: ");
					s_out(&b, x->r.metrics);
				}
				kr_buf_adds(&b, "\n");
			}
		}
		reports += na != 0;
		free(ix);
	}
	if (json)
		kr_buf_adds(out, "]}");
	else if (reports)
		printf(_("\nadoption reports on this node's items (利用報告):\n%s"), b.ptr);
	kr_item_rows_free(rows, nrows);
	kr_buf_release(&b);
	kr_bview_free(&bv);
}
