/*
 * node/cli.c - the command table, shared helpers, and the node commands
 * (init, id, allowed-signers, follow, unfollow, peers, serve, help)
 *
 * Conventions (git's CodingGuidelines): errors go to stderr as
 * "kairan: CMD: what went wrong (how to fix it)"; exit 0 ok, 1 failure,
 * 2 usage; --json for scripts; --help on every command.
 */
#include "cli.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "federate.h"
#include "log.h"
#include "serve.h"
#include "transport.h"
#include "web.h"

/* args and help are msgids (extracted by po/cmdtable.py), translated where printed. */
const kr_cmd kr_commands[] = {
	{ "init", cmd_init, 0, "--name NAME --lg-code CODE", "create a node's home: key, config, state" },
	{ "id", cmd_id, CMD_NEEDS_HOME | CMD_IDENTITY, "[--fingerprint] [--json]", "print this node's identity" },
	{ "check", cmd_check, CMD_NEEDS_HOME, "FILE|DIR... [--json]", "run publish's checks without publishing" },
	{ "publish", cmd_publish, CMD_NEEDS_HOME | CMD_OWN | CMD_HANDS_OVER, "FILE|DIR... [-m MSG]", "check, commit, sign and announce items" },
	{ "withdraw", cmd_withdraw, CMD_NEEDS_HOME | CMD_OWN, "ID -m REASON", "remove an item with a signed, reasoned commit" },
	{ "import", cmd_import, CMD_NEEDS_HOME, "FILE.csv --kind case [-o DIR] [--map 'HEADER=field,...']", "case records from a spreadsheet into item files" },
	{ "export", cmd_export, CMD_NEEDS_HOME, "DATASET-ID [--format jsonl|dify-csv|langchain|hf] [-o FILE|DIR]", "export a Q&A dataset for a RAG tool" },
	{ "diff", cmd_diff, CMD_NEEDS_HOME, "ID [REV1 [REV2]]", "what changed between two versions of an item" },
	{ "derive", cmd_derive, CMD_NEEDS_HOME, "TEMPLATE-ID --slug SLUG [-o DIR]", "start your own guideline from a template" },
	{ "log", cmd_log, CMD_NEEDS_HOME, "[[PUBLISHER/]COLLECTION] [-n N] [--json]", "history of a collection" },
	{ "show", cmd_show, CMD_NEEDS_HOME, "ID[@COMMIT]", "print an item as published" },
	{ "search", cmd_search, CMD_NEEDS_HOME, "QUERY [--kind K] [--domain D] [--outcome O] [--pref NN] ... [--remote] [--json]", "find items in Japanese, with facets" },
	{ "reindex", cmd_reindex, CMD_NEEDS_HOME, "[--[no-]progress]", "rebuild the item and search index from git" },
	{ "allowed-signers", cmd_allowed_signers, CMD_NEEDS_HOME, "", "trusted keys for git verify-commit" },
	{ "follow", cmd_follow, CMD_NEEDS_HOME, "ENDPOINT[#KEY] --publisher FPR [--publisher FPR...]", "subscribe to publishers through a peer" },
	{ "unfollow", cmd_unfollow, CMD_NEEDS_HOME, "ENDPOINT [--publisher FPR]", "stop following a peer or one publisher" },
	{ "peers", cmd_peers, CMD_NEEDS_HOME, "[--json]", "list peers and what they are followed for" },
	{ "serve", cmd_serve, CMD_NEEDS_HOME, "[--listen EP] [--announce EP] [--web URL|off]", "run the node: answer, announce, replicate" },
	{ "sync", cmd_sync, CMD_NEEDS_HOME, "[--timeout S] [--[no-]progress]", "catch up with every peer once, then exit" },
	{ "status", cmd_status, CMD_NEEDS_HOME, "[--json]", "heads, seq, freshness and quarantine" },
	{ "verify", cmd_verify, CMD_NEEDS_HOME, "[--full]", "re-check every local replica (--full: every object)" },
	{ "repair", cmd_repair, 0, "", "rebuild a lost or damaged state.db; set damaged packs aside" },
	{ "audit", cmd_audit, 0, "DIR (--publisher FPR | --federation FEDID --chain PATH) [--collection NAME] [--min-seq N] [--json]", "prove a plain git mirror of a collection authentic" },
	{ "federation", cmd_federation, CMD_NEEDS_HOME, "create|propose|sign|apply|show ...", "the board's membership document: build, sign, install, show" },
	{ "admit", cmd_admit, CMD_NEEDS_HOME, "ID.json | --remove KEY|FPR | --list", "let a node outside the federation connect (its transport key)" },
	{ "unpin", cmd_unpin, CMD_NEEDS_HOME, "ENDPOINT", "forget a peer's pinned transport key (the next contact learns it again)" },
	{ "join", cmd_join, CMD_NEEDS_HOME, "ENDPOINT --federation FEDID [--pref NN...] [--kind K...] [--[no-]progress]", "join a federation: fetch and check its chain, replicate its members" },
	{ "endorse", cmd_endorse, CMD_NEEDS_HOME, "ID [--version V] --verdict 推奨|条件付き推奨|注意 [--conditions T] [-m COMMENT] [--review-by DATE]", "a board member endorses an item version" },
	{ "consult", cmd_consult, CMD_NEEDS_HOME, "ask|list|show|answer|accept|close ...", "相談: ask the board, answer, accept, close" },
	{ "adopt", cmd_adopt, CMD_NEEDS_HOME, "ID --version V --status 検討中|採用|不採用 [-m NOTE] [--metric NAME=VALUE]...", "report adopting (or not) an item" },
	{ "config", cmd_config, 0, "check [--ports]", "check the config and keys as serve reads them (file:line)" },
	{ "key", cmd_key, 0, "export --passphrase-file F [-o OUT] | import FILE --passphrase-file F --name N --lg-code C | rotate [-o NEW-ID.json] [--now] [--id]", "the node's keys, encrypted, for safekeeping" },
	{ "backup", cmd_backup, CMD_NEEDS_HOME, "DIR", "copy the whole home to DIR, also while serving" },
	{ "restore", cmd_restore, 0, "DIR", "make a new home from a backup" },
	{ "help", cmd_help, 0, "", "list commands" },
	{ NULL, NULL, 0, NULL, NULL },
};

int
kr_cli_fail(const char *cmd)
{
	fprintf(stderr, "%skairan: %s: %s\n", log_prefix(3), cmd, kr_errmsg());
	return 1;
}

void
kr_cli_print_findings(const char *cmd, const kr_findings *f)
{
	kr_buf b = KR_BUF_INIT;

	for (size_t i = 0; i < f->n; i++) {
		const kr_finding *x = &f->v[i];
		kr_buf_addf(&b, "kairan: %s: ", cmd);
		kr_buf_addsafe(&b, x->file, strlen(x->file), KR_SAFE_LINE);
		if (x->line)
			kr_buf_addf(&b, ":%d", x->line);
		kr_buf_addf(&b, ": %s", x->block ? "" : _("warning: "));
		kr_buf_addsafe(&b, x->message, strlen(x->message), KR_SAFE_LINE);
		kr_buf_addf(&b, " [%s]\n", x->rule);
	}
	fputs(b.ptr ? b.ptr : "", stderr);
	kr_buf_release(&b);
}

static const kr_cmd *
s_find(const char *name)
{
	for (const kr_cmd *c = kr_commands; c->name; c++)
		if (strcmp(c->name, name) == 0)
			return c;
	return NULL;
}

int
kr_cli_usage(const char *cmd)
{
	const kr_cmd *c = s_find(cmd);

	fprintf(stderr, _("usage: kairan [--home DIR] %s %s\n"), cmd, c ? _(c->args) : "");
	return 2;
}

static int
s_help(const char *cmd)
{
	const kr_cmd *c = s_find(cmd);

	printf(_("usage: kairan [--home DIR] %s %s\n\n%s\n"), cmd, _(c->args), _(c->help));
	return 0;
}

/* getopt_long over a command's argv; returns the option or -1, reporting misuse. */
static int
s_getopt(int argc, char **argv, const char *shortopts, const struct option *longopts)
{
	return getopt_long(argc, argv, shortopts, longopts, NULL);
}

int
kr_cli_publisher(kr_cli *c, const char *arg, char out[KR_FPR_HEX + 1])
{
	kr_state_manifest *ms;
	size_t n, hits = 0;

	if (strcmp(arg, "self") == 0 || strcmp(arg, c->h.cfg.lg_code) == 0) {
		strcpy(out, c->h.fpr);
		return 0;
	}
	if (kr_is_hex(arg, KR_FPR_HEX)) {
		strcpy(out, arg);
		return 0;
	}
	if (kr_state_manifest_list(c->h.state, &ms, &n) < 0)
		return KR_EIO;
	for (size_t i = 0; i < n; i++) {
		int prefix = strlen(arg) >= 8 && strncmp(ms[i].publisher, arg, strlen(arg)) == 0;
		if (prefix || strcmp(ms[i].lg_code, arg) == 0) {
			strcpy(out, ms[i].publisher);
			hits++;
		}
	}
	kr_state_manifests_free(ms, n);
	if (hits == 1)
		return 0;
	return kr_error(hits ? KR_EUSAGE : KR_ENOTFOUND, hits ? "'%s' matches several publishers; give the full fingerprint"
	    : "no publisher '%s' on this node (see: kairan status)", arg);
}

int
kr_cli_item(kr_cli *c, const char *cmd, const char *id, const char *kind,
    kr_state_item **items, size_t *n, kr_buf *text)
{
	uint8_t commit[KR_OID_LEN];

	*items = NULL;
	*n = 0;
	if (kr_state_item_find(c->h.state, id, items, n) < 0)
		return kr_cli_fail(cmd);
	if (kind && strcmp((*items)[0].kind, kind) != 0) {
		fprintf(stderr, _("kairan: %s: %s is a %s, not a %s\n"), cmd, id, (*items)[0].kind, kind);
		return 1;
	}
	if (kr_unhex(commit, KR_OID_LEN, (*items)[0].commit) < 0 ||
	    kr_store_read(c->h.store, (*items)[0].publisher, (*items)[0].collection, commit,
	    (*items)[0].path, text) < 0)
		return kr_cli_fail(cmd);
	return 0;
}

int
cmd_init(kr_cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "name", required_argument, NULL, 'n' }, { "lg-code", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 },
	};
	const char *name = NULL, *code = NULL;
	kr_home h;
	int o;

	optind = 0;
	while ((o = s_getopt(argc, argv, "h", opts)) != -1) {
		switch (o) {
		case 'n': name = optarg; break;
		case 'c': code = optarg; break;
		case 'h': return s_help("init");
		default: return kr_cli_usage("init");
		}
	}
	if (!name || !code || optind != argc) {
		fprintf(stderr, _("kairan: init: --name and --lg-code are required "
		    "(e.g. --name 三豊市 --lg-code 372081)\n"));
		return kr_cli_usage("init");
	}
	{
		int rc = kr_home_init(c->home_path, name, code);
		if (rc < 0) {
			kr_cli_fail("init");
			return rc == KR_EUSAGE ? 2 : 1;
		}
	}
	if (kr_home_open(&h, c->home_path) < 0)
		return kr_cli_fail("init");
	printf(_("initialised %s (%s) in %s\n"), name, code, c->home_path);
	printf(_("fingerprint: %s\n"), h.fpr);
	printf(_("next: kairan --home %s publish DIR   or   kairan --home %s follow ENDPOINT --publisher FPR\n"),
	    c->home_path, c->home_path);
	kr_home_close(&h);
	return 0;
}

int
cmd_id(kr_cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "fingerprint", no_argument, NULL, 'f' }, { "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 },
	};
	int o, fpr_only = 0, json = 0;
	kr_buf ssh = KR_BUF_INIT, out = KR_BUF_INIT;
	char tkey[65], zkey[41], *endpoint;

	optind = 0;
	while ((o = s_getopt(argc, argv, "h", opts)) != -1) {
		switch (o) {
		case 'f': fpr_only = 1; break;
		case 'j': json = 1; break;
		case 'h': return s_help("id");
		default: return kr_cli_usage("id");
		}
	}
	if (optind != argc)
		return kr_cli_usage("id");
	if (fpr_only) {
		printf("%s\n", c->h.fpr);
		return 0;
	}
	kr_ssh_pubkey(&ssh, kr_key_pub(c->h.key));
	kr_hex(tkey, kr_key_pub(c->h.tkey), 32);
	kr_transport_public_z85(zkey);
	endpoint = kr_sprintf("%s#%s", c->h.cfg.listen, zkey);
	if (json) {
		kr_buf_adds(&out, "{\"fingerprint\":");
		kr_buf_addjson(&out, c->h.fpr);
		kr_buf_adds(&out, ",\"ssh\":");
		kr_buf_addjson(&out, ssh.ptr);
		kr_buf_adds(&out, ",\"transport_key\":");
		kr_buf_addjson(&out, tkey);
		kr_buf_adds(&out, ",\"name\":");
		kr_buf_addjson(&out, c->h.cfg.name);
		kr_buf_adds(&out, ",\"lg_code\":");
		kr_buf_addjson(&out, c->h.cfg.lg_code);
		kr_buf_adds(&out, ",\"listen\":");
		kr_buf_addjson(&out, c->h.cfg.listen);
		kr_buf_adds(&out, ",\"announce\":");
		kr_buf_addjson(&out, c->h.cfg.announce);
		kr_buf_adds(&out, ",\"endpoint\":");
		kr_buf_addjson(&out, endpoint);
		kr_buf_adds(&out, "}\n");
		fputs(out.ptr, stdout);
	} else {
		printf(_("name:        %s\nlg_code:     %s\nfingerprint: %s\nssh:         %s\n"
		    "transport:   %s\nlisten:      %s\nannounce:    %s\nendpoint:    %s\n"), c->h.cfg.name,
		    c->h.cfg.lg_code, c->h.fpr, ssh.ptr, tkey, c->h.cfg.listen, c->h.cfg.announce, endpoint);
	}
	free(endpoint);
	kr_buf_release(&ssh);
	kr_buf_release(&out);
	return 0;
}

/* A unix time as ssh-keygen's allowed_signers wants it: YYYYMMDDHHMMSSZ. */
static void
s_ssh_time(char out[20], int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	strftime(out, 20, "%Y%m%d%H%M%SZ", &tm);
}

/* One allowed_signers line; after/before 0: no bound. */
static void
s_signer_line(const uint8_t pub[KR_FPR_LEN], int64_t after, int64_t before)
{
	char hex[KR_FPR_HEX + 1], a[20], b[20];
	kr_buf ssh = KR_BUF_INIT;

	kr_hex(hex, pub, KR_FPR_LEN);
	kr_ssh_pubkey(&ssh, pub);
	if (after)
		s_ssh_time(a, after);
	if (before)
		s_ssh_time(b, before);
	printf("%s namespaces=\"git\"%s%s%s%s%s%s %s\n", hex, after ? ",valid-after=\"" : "", after ? a : "",
	    after ? "\"" : "", before ? ",valid-before=\"" : "", before ? b : "", before ? "\"" : "", ssh.ptr);
	kr_buf_release(&ssh);
}

/*
 * Pinned publishers and this node, then, in a federation, every current
 * member and every revoked key with its validity window (DESIGN §6): a key
 * rotated away or retired is valid before its revocation, the key that
 * replaced it after, so stock `git verify-commit` (which checks a commit
 * at its committer time) passes on old and new commits alike.
 */
int
cmd_allowed_signers(kr_cli *c, int argc, char **argv)
{
	char **pinned;
	size_t n;
	kr_fedstore f;
	const kr_membership *m = NULL;

	if (argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0))
		return s_help("allowed-signers");
	if (argc != 1)
		return kr_cli_usage("allowed-signers");
	if (kr_state_pinned_list(c->h.state, &pinned, &n) < 0)
		return kr_cli_fail("allowed-signers");
	if (kr_fedstore_open(&f, c->h.home) < 0) {
		kr_strv_free(pinned, n);
		return kr_cli_fail("allowed-signers");
	}
	if (f.have)
		m = &f.cur;
	for (size_t i = 0; i <= n; i++) {
		const char *fpr = i < n ? pinned[i] : c->h.fpr;
		uint8_t pub[KR_FPR_LEN];
		if (i < n && strcmp(fpr, c->h.fpr) == 0)
			continue;
		kr_unhex(pub, KR_FPR_LEN, fpr);
		/* the federation's lines below say it with the right window */
		if (m && (kr_fed_member_by_key(m, pub) || kr_fed_revocation(m, pub)))
			continue;
		s_signer_line(pub, 0, 0);
	}
	for (size_t i = 0; m && i < m->nmembers; i++) {
		int64_t after = 0;
		for (size_t r = 0; r < m->nrevoked; r++)
			if (m->revoked[r].has_replacement &&
			    memcmp(m->revoked[r].replaced_by, m->members[i].key, KR_FPR_LEN) == 0)
				after = m->revoked[r].since;
		s_signer_line(m->members[i].key, after, 0);
	}
	for (size_t r = 0; m && r < m->nrevoked; r++)
		s_signer_line(m->revoked[r].key, 0, m->revoked[r].since);
	kr_fedstore_close(&f);
	kr_strv_free(pinned, n);
	return 0;
}

static int
s_endpoint_valid(const char *ep)
{
	const char *colon;

	if (strncmp(ep, "ipc://", 6) == 0 || strncmp(ep, "inproc://", 9) == 0)
		return strlen(ep) > 6;
	if (strncmp(ep, "tcp://", 6) != 0)
		return 0;
	colon = strrchr(ep + 6, ':');
	return colon && colon > ep + 6 && colon[1] && strspn(colon + 1, "0123456789") == strlen(colon + 1);
}

int
cmd_follow(kr_cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "publisher", required_argument, NULL, 'p' }, { "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char **pubs = kr_calloc((size_t)argc, sizeof(char *));
	size_t n = 0;
	int o, rc = 0, has_key = 0;
	char *ep = NULL;
	uint8_t key[32];

	optind = 0;
	while ((o = s_getopt(argc, argv, "h", opts)) != -1) {
		switch (o) {
		case 'p':
			if (!kr_is_hex(optarg, KR_FPR_HEX)) {
				fprintf(stderr, _("kairan: follow: --publisher '%s' is not a fingerprint "
				    "(64 hex digits, from: kairan id --fingerprint on that node)\n"), optarg);
				free(pubs);
				return 2;
			}
			pubs[n++] = optarg;
			break;
		case 'h':
			free(pubs);
			return s_help("follow");
		default:
			free(pubs);
			return kr_cli_usage("follow");
		}
	}
	if (optind != argc - 1 || n == 0) {
		fprintf(stderr, _("kairan: follow: give one ENDPOINT and at least one --publisher\n"));
		free(pubs);
		return kr_cli_usage("follow");
	}
	/* ENDPOINT#KEY: the server's transport key, as `kairan id` prints it, pinned below */
	if (kr_transport_split(argv[optind], &ep, key, &has_key) < 0 || !s_endpoint_valid(ep)) {
		if (ep)
			fprintf(stderr, _("kairan: follow: '%s' is not an endpoint (e.g. tcp://127.0.0.1:7420)\n"), ep);
		else
			fprintf(stderr, _("kairan: follow: %s\n"), kr_errmsg());
		free(ep);
		free(pubs);
		return 2;
	}
	for (size_t i = 0; i < n; i++)
		if (strcmp(pubs[i], c->h.fpr) == 0) {
			fprintf(stderr, _("kairan: follow: %.16s… is this node's own key\n"), pubs[i]);
			free(ep);
			free(pubs);
			return 2;
		}
	if (has_key && (rc = kr_transport_pin_given(argv[optind])) < 0) {
		free(ep);
		free(pubs);
		return kr_cli_fail("follow");
	}
	if ((rc = kr_state_begin(c->h.state)) == 0) {
		if ((rc = kr_state_follow(c->h.state, ep, pubs, n)) == 0 &&
		    (rc = kr_home_save_follows(&c->h)) == 0)
			rc = kr_state_commit(c->h.state);
		else
			kr_state_rollback(c->h.state);
	}
	if (rc < 0) {
		free(ep);
		free(pubs);
		return kr_cli_fail("follow");
	}
	for (size_t i = 0; i < n; i++)
		printf(_("following %s via %s\n"), pubs[i], ep);
	if (has_key)
		printf(_("its transport key is pinned: %s\n"), strchr(argv[optind], '#') + 1);
	if (kr_control_poke(&c->h, "reload", 1000) == 0)
		printf(_("the running node picked this up\n"));
	else
		printf(_("next: kairan --home %s serve   (or: kairan --home %s sync)\n"), c->home_path, c->home_path);
	free(ep);
	free(pubs);
	return 0;
}

int
cmd_unfollow(kr_cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "publisher", required_argument, NULL, 'p' }, { "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *pub = NULL;
	int o, rc;

	optind = 0;
	while ((o = s_getopt(argc, argv, "h", opts)) != -1) {
		switch (o) {
		case 'p': pub = optarg; break;
		case 'h': return s_help("unfollow");
		default: return kr_cli_usage("unfollow");
		}
	}
	if (optind != argc - 1)
		return kr_cli_usage("unfollow");
	if ((rc = kr_state_begin(c->h.state)) == 0) {
		if ((rc = kr_state_unfollow(c->h.state, argv[optind], pub)) == 0 &&
		    (rc = kr_home_save_follows(&c->h)) == 0)
			rc = kr_state_commit(c->h.state);
		else
			kr_state_rollback(c->h.state);
	}
	if (rc < 0)
		return kr_cli_fail("unfollow");
	printf(_("no longer following %s%s%s (mirrored content stays until removed)\n"),
	    pub ? pub : argv[optind], pub ? " via " : "", pub ? argv[optind] : "");
	kr_control_poke(&c->h, "reload", 1000);
	return 0;
}

int
cmd_peers(kr_cli *c, int argc, char **argv)
{
	kr_state_peer *p;
	size_t n;
	int json = argc == 2 && strcmp(argv[1], "--json") == 0;
	kr_buf out = KR_BUF_INIT;

	if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0))
		return s_help("peers");
	if (argc > 2 || (argc == 2 && !json))
		return kr_cli_usage("peers");
	if (kr_state_peers(c->h.state, &p, &n) < 0)
		return kr_cli_fail("peers");
	if (json) {
		kr_buf_adds(&out, "[");
	} else {
		kr_buf fed = KR_BUF_INIT;
		if (kr_fed_describe(&c->h, &fed, NULL) == 0 && fed.len)
			printf("%s\n", fed.ptr);
		kr_error_clear();
		kr_buf_release(&fed);
	}
	for (size_t i = 0; i < n; i++) {
		char ok[32] = "never", err[32] = "";
		if (p[i].last_ok)
			kr_time_iso(ok, p[i].last_ok);
		if (p[i].last_error_at)
			kr_time_iso(err, p[i].last_error_at);
		if (json) {
			kr_buf_adds(&out, i ? ",{\"endpoint\":" : "{\"endpoint\":");
			kr_buf_addjson(&out, p[i].endpoint);
			kr_buf_adds(&out, ",\"name\":");
			kr_buf_addjson(&out, p[i].name ? p[i].name : "");
			kr_buf_adds(&out, ",\"announce\":");
			kr_buf_addjson(&out, p[i].announce ? p[i].announce : "");
			kr_buf_addf(&out, ",\"last_ok\":%lld,\"last_error\":", (long long)p[i].last_ok);
			kr_buf_addjson(&out, p[i].last_error ? p[i].last_error : "");
			kr_buf_adds(&out, ",\"publishers\":[");
			for (size_t j = 0; j < p[i].npublishers; j++) {
				if (j)
					kr_buf_addch(&out, ',');
				kr_buf_addjson(&out, p[i].publishers[j]);
			}
			{
				char *uns = kr_fed_unserved(&c->h, p[i].endpoint);
				kr_buf prefs = KR_BUF_INIT, kinds = KR_BUF_INIT;
				int joined = kr_fed_joined_through(&c->h, p[i].endpoint, &prefs, &kinds);
				kr_buf_addf(&out, "],\"federation\":%s,\"prefs\":", joined ? "true" : "false");
				kr_buf_addjson(&out, prefs.ptr);
				kr_buf_adds(&out, ",\"kinds\":");
				kr_buf_addjson(&out, kinds.len ? kinds.ptr : "");
				kr_buf_release(&kinds);
				kr_buf_adds(&out, ",\"unserved\":");
				kr_buf_addjson(&out, uns ? uns : "");
				kr_buf_release(&prefs);
				free(uns);
			}
			kr_buf_adds(&out, "}");
		} else {
			/* a peer's name is its own word: no escapes reach the terminal */
			char *name = kr_safe(p[i].name), *last = kr_safe(p[i].last_error);
			printf(_("%s%s%s%s\n  last ok: %s\n"), p[i].endpoint, name ? " (" : "",
			    name ? name : "", name ? ")" : "", ok);
			if (last)
				printf(_("  last error: %s at %s\n"), last, err);
			free(name);
			free(last);
			for (size_t j = 0; j < p[i].npublishers; j++)
				printf(_("  follows %s\n"), p[i].publishers[j]);
			{
				char *uns = kr_fed_unserved(&c->h, p[i].endpoint);
				kr_buf prefs = KR_BUF_INIT, kinds = KR_BUF_INIT;
				if (kr_fed_joined_through(&c->h, p[i].endpoint, &prefs, &kinds)) {
					printf(_("  federation: every member's publications%s%s%s\n"), prefs.len ? " (prefectures " : "",
					    prefs.ptr, prefs.len ? ")" : "");
					if (kinds.len)
						printf(_("  kinds replicated: %s only (others are not fetched; widen with: kairan "
						    "join %s --federation FEDID --kind …)\n"), kinds.ptr, p[i].endpoint);
				}
				kr_buf_release(&kinds);
				if (uns)
					printf(_("  does not serve (followed through it, never received): %s\n"), uns);
				kr_buf_release(&prefs);
				free(uns);
			}
		}
	}
	if (json) {
		kr_buf_adds(&out, "]\n");
		fputs(out.ptr, stdout);
	} else if (n == 0) {
		printf(_("no peers (add one with: kairan follow ENDPOINT --publisher FPR)\n"));
	}
	kr_buf_release(&out);
	kr_state_peers_free(p, n);
	return 0;
}

int
cmd_serve(kr_cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "listen", required_argument, NULL, 'l' }, { "announce", required_argument, NULL, 'a' },
		{ "web", required_argument, NULL, 'w' }, { "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 },
	};
	const char *listen = NULL, *announce = NULL, *web = NULL;
	int o;

	optind = 0;
	while ((o = s_getopt(argc, argv, "h", opts)) != -1) {
		switch (o) {
		case 'l': listen = optarg; break;
		case 'a': announce = optarg; break;
		case 'w': web = optarg; break;
		case 'h': return s_help("serve");
		default: return kr_cli_usage("serve");
		}
	}
	if (optind != argc)
		return kr_cli_usage("serve");
	if (web) {
		if (strcmp(web, "off") != 0 && kr_web_check_url(web) < 0) {
			fprintf(stderr, _("kairan: serve: --web: %s\n"), kr_errmsg());
			return 2;
		}
		free(c->h.cfg.web);
		c->h.cfg.web = kr_strdup(web);
	}
	switch (kr_serve(&c->h, listen, announce)) {
	case 0: return 0;
	case KR_SERVE_RESTART: c->reexec = 1; return 0;
	default: return kr_cli_fail("serve");
	}
}

int
cmd_help(kr_cli *c, int argc, char **argv)
{
	(void)c;
	if (argc == 2 && s_find(argv[1]))
		return s_help(argv[1]);
	printf("%s", _("kairan — share generative-AI know-how between local governments\n\ncommands:\n"));
	for (const kr_cmd *k = kr_commands; k->name; k++)
		printf("  %-16s %s\n", k->name, _(k->help));
	printf("%s", _("\nglobal options: --home DIR (else $KAIRAN_HOME, else ~/.local/share/kairan), -v\n"));
	return 0;
}
