/*
 * node/cmd_join.c - kairan join: become a replica of a federation
 *
 * `kairan join ENDPOINT --federation FEDID [--pref NN ...] [--kind K ...]`
 * fetches the membership chain from ENDPOINT, checks every version against
 * the chain rule from the genesis whose SHA-256 is FEDID, and only then pins the id,
 * installs the chain and records ENDPOINT as the way to every member's
 * publications (optionally only those of some prefectures, and only the
 * collections of some kinds). A wrong id, a bad kind or a chain the rule
 * refuses changes nothing. Running join again for the same endpoint
 * replaces its filter: a wider one is fetched by the sync that follows,
 * at the seq already held, with no new publication needed. Then one sync
 * through the endpoint, so the town has the members' publications at
 * once; the running daemon (if any) is told to follow along.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../policies/item.h"
#include "cli.h"
#include "federate.h"
#include "progress.h"
#include "serve.h"

/* translated where printed */
static const char *const s_join_usage = N_(
	"usage: kairan join ENDPOINT --federation FEDID [--pref NN ...] [--kind K ...] [--timeout S]\n"
	"                   [--[no-]progress]\n\n"
	"Fetches the federation's membership chain from ENDPOINT (any member or hub), checks it from\n"
	"the genesis named by FEDID (64 hex characters, given by the prefecture), pins it, and from\n"
	"then on replicates every member's publications through ENDPOINT with no fingerprint typed.\n"
	"--pref NN (two digits, e.g. 37 for 香川県; repeatable) keeps only those prefectures' members.\n"
	"--kind K (case, prompt, guideline, dataset, endorsement, consultation, answer, adoption;\n"
	"repeatable) holds only the collections of those kinds: every manifest is still verified whole,\n"
	"the other collections are not fetched and never reported missing. Running join again for the\n"
	"same ENDPOINT replaces the filter (without --kind: every kind); what it lets in is fetched at once.\n"
	"A wrong id or a broken chain is refused with the reason, and nothing is changed.\n"
	"On a terminal, a step of the first sync that takes more than a second (receiving a pack,\n"
	"checking files, indexing items) shows its progress on stderr; --progress shows it anywhere,\n"
	"--no-progress nowhere.\n");

static int
s_pref_valid(const char *s)
{
	return strlen(s) == 2 && strspn(s, "0123456789") == 2 && atoi(s) >= 1 && atoi(s) <= 47;
}

int
cmd_join(kr_cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "federation", required_argument, NULL, 'f' }, { "pref", required_argument, NULL, 'p' },
		{ "timeout", required_argument, NULL, 't' }, { "kind", required_argument, NULL, 'k' },
		{ "help", no_argument, NULL, 'h' },
		{ "progress", no_argument, NULL, 'g' }, { "no-progress", no_argument, NULL, 'G' },
		{ NULL, 0, NULL, 0 },
	};
	const char *fedhex = NULL, *endpoint;
	kr_progress_view view;
	int progress = 0;
	char **prefs = NULL, **kinds = NULL, idhex[65];
	size_t nprefs = 0, nkinds = 0, installed = 0;
	uint8_t id[32];
	double timeout_s = 30;
	kr_fedstore f;
	int o, rc, f_open = 0, exit_code = 1;
	void *zctx = NULL;
	kr_conn *conn = NULL;
	kr_buf *v = NULL;
	size_t nv = 0;

	optind = 0;
	while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (o) {
		case 'f': fedhex = optarg; break;
		case 'p':
			if (!s_pref_valid(optarg)) {
				fprintf(stderr, _("kairan: join: --pref %s: a prefecture is two digits 01..47 "
				    "(the first two of its lg_code, e.g. 37 for 香川県)\n"), optarg);
				exit_code = 2;
				goto done;
			}
			prefs = kr_realloc(prefs, (nprefs + 1) * sizeof(char *));
			prefs[nprefs++] = kr_strdup(optarg);
			break;
		case 'k':
			/* the closed vocabulary of CONTENT.md: a slip is named with the allowed values */
			if (kr_vocab_check("kind", optarg) < 0 || !kr_kind_collection(optarg)) {
				fprintf(stderr, _("kairan: join: --kind %s: %s (nothing was changed)\n"), optarg,
				    kr_errmsg());
				kr_error_clear();
				exit_code = 2;
				goto done;
			}
			if (!kr_strv_has(kinds, nkinds, optarg)) {
				kinds = kr_realloc(kinds, (nkinds + 1) * sizeof(char *));
				kinds[nkinds++] = kr_strdup(optarg);
			}
			break;
		case 't':
			if ((timeout_s = strtod(optarg, NULL)) <= 0) {
				fprintf(stderr, _("kairan: join: --timeout takes seconds, e.g. --timeout 10\n"));
				exit_code = 2;
				goto done;
			}
			break;
		case 'g': progress = 1; break;
		case 'G': progress = -1; break;
		case 'h': fputs(_(s_join_usage), stdout); exit_code = 0; goto done;
		default: exit_code = kr_cli_usage("join"); goto done;
		}
	}
	if (optind + 1 != argc || !fedhex) {
		exit_code = kr_cli_usage("join");
		goto done;
	}
	endpoint = argv[optind];
	if (strlen(fedhex) != 64 || kr_unhex(id, 32, fedhex) < 0) {
		fprintf(stderr, _("kairan: join: --federation %s: a federation id is 64 hex characters "
		    "(kairan federation show prints it)\n"), fedhex);
		exit_code = 2;
		goto done;
	}
	if (kr_fedstore_open(&f, c->h.home) < 0)
		goto fail;
	f_open = 1;
	if (f.pinned && memcmp(f.id, id, 32) != 0) {
		kr_fedstore_id_hex(&f, idhex);
		fprintf(stderr, _("kairan: join: this node already belongs to federation %s; "
		    "it can be in one federation only (nothing was changed)\n"), idhex);
		goto done;
	}
	zctx = kr_peer_context();
	if (kr_conn_open(&conn, zctx, endpoint, (int)(timeout_s * 1000)) < 0)
		goto fail;
	rc = kr_peer_chain(conn, id, f.have ? f.cur.version : 0, &v, &nv);
	if (rc == KR_ENOTFOUND) {
		fprintf(stderr, _("kairan: join: %s does not hold federation %s: %s (check the id; nothing "
		    "was changed)\n"), endpoint, fedhex, kr_errmsg());
		goto done;
	}
	if (rc < 0)
		goto fail;
	if (!f.have && nv == 0) {
		fprintf(stderr, _("kairan: join: %s sent no membership document (nothing was changed)\n"), endpoint);
		goto done;
	}
	if (kr_fedstore_install_chain(&f, id, v, nv, &installed) < 0) {
		fprintf(stderr, _("kairan: join: the chain from %s is refused: %s (nothing was changed)\n"),
		    endpoint, kr_errmsg());
		goto done;
	}
	{
		kr_fed_join j = { .endpoint = (char *)endpoint, .prefs = prefs, .nprefs = nprefs, .kinds = kinds,
			.nkinds = nkinds };
		if ((rc = kr_fedstore_join_put(&f, &j)) < 0)
			goto fail;
		if ((rc = kr_state_begin(c->h.state)) < 0)
			goto fail;
		if ((rc = kr_state_follow(c->h.state, endpoint, NULL, 0)) == 0 &&
		    (rc = kr_home_save_follows(&c->h)) == 0)
			rc = kr_state_commit(c->h.state);
		else
			kr_state_rollback(c->h.state);
		if (rc < 0)
			goto fail;
		if (kr_fed_installed(&c->h, &f) < 0)
			fprintf(stderr, _("kairan: join: %s\n"), kr_errmsg());
	}
	kr_fedstore_id_hex(&f, idhex);
	printf(_("joined federation %s (%s), membership version %llu (%zu new), %zu member(s)\n"
	    "federation id: %s\nthrough: %s"), f.cur.name, kr_fed_stale(&f.cur, kr_now()) ? "stale" : "current",
	    (unsigned long long)f.cur.version, installed, f.cur.nmembers, idhex, endpoint);
	for (size_t i = 0; i < nprefs; i++)
		printf("%s%s", i ? ", " : _(" (prefectures "), prefs[i]);
	printf("%s", nprefs ? ")" : "");
	for (size_t i = 0; i < nkinds; i++)
		printf("%s%s", i ? ", " : _(" (kinds "), kinds[i]);
	printf("%s\n", nkinds ? _(" only: the other collections are not fetched)") : "");
	{
		kr_sync_result res;
		kr_progress_view_init(&view, progress);
		c->h.rep.progress = kr_progress_view_show;
		c->h.rep.progress_arg = &view;
		rc = kr_peer_sync(&c->h, conn, NULL, 0, 1, NULL, NULL, &res);
		kr_progress_view_finish(&view);
		c->h.rep.progress = NULL;
		if (rc < 0) {
			fprintf(stderr, _("kairan: join: first sync through %s: %s (the node keeps trying: "
			    "kairan sync)\n"), endpoint, kr_errmsg());
		} else {
			printf(_("%s: %zu applied, %zu up to date, %zu rejected, %zu failed (%llu bytes)\n"), endpoint,
			    res.applied, res.ignored, res.rejected, res.failed, (unsigned long long)res.bytes);
		}
		kr_strv_free(res.unserved, res.nunserved);
		free(res.announce);
		free(res.name);
	}
	if (kr_control_poke(&c->h, "federation", 1000) == 0)
		printf(_("the running node picked it up\n"));
	exit_code = 0;
	goto done;
fail:
	fprintf(stderr, _("kairan: join: %s\n"), kr_errmsg());
done:
	kr_bufs_free(v, nv);
	kr_conn_destroy(&conn);
	kr_peer_context_end(zctx);
	if (f_open)
		kr_fedstore_close(&f);
	kr_strv_free(prefs, nprefs);
	kr_strv_free(kinds, nkinds);
	return exit_code;
}
