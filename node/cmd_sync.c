/*
 * node/cmd_sync.c - sync (one-shot catch-up), status, verify
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../policies/frontmatter.h"
#include "cli.h"
#include "federate.h"
#include "log.h"
#include "peer.h"
#include "progress.h"
#include "serve.h"

int
cmd_sync(kr_cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "timeout", required_argument, NULL, 't' }, { "help", no_argument, NULL, 'h' },
		{ "progress", no_argument, NULL, 'p' }, { "no-progress", no_argument, NULL, 'P' },
		{ NULL, 0, NULL, 0 },
	};
	kr_state_peer *peers;
	kr_progress_view view;
	size_t npeers;
	double timeout_s = 30;
	int o, failures = 0, progress = 0;
	void *zctx;

	optind = 0;
	while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (o) {
		case 't':
			timeout_s = strtod(optarg, NULL);
			if (timeout_s <= 0) {
				fprintf(stderr, _("kairan: sync: --timeout takes seconds, e.g. --timeout 10\n"));
				return 2;
			}
			break;
		case 'p': progress = 1; break;
		case 'P': progress = -1; break;
		case 'h': return printf(_("usage: kairan sync [--timeout S] [--[no-]progress]\n\nAsks every peer for "
		    "the latest manifests of the publishers followed through it, fetches and verifies what changed, "
		    "and exits: 0 when all is applied, 1 when a peer was unreachable or something failed "
		    "verification (see: kairan status).\n\nOn a terminal, a step of more than a second (receiving "
		    "a pack, checking files, indexing items) shows its progress on stderr; --progress shows it "
		    "anywhere, --no-progress nowhere.\n")), 0;
		default: return kr_cli_usage("sync");
		}
	}
	if (optind != argc)
		return kr_cli_usage("sync");
	if (kr_state_peers(c->h.state, &peers, &npeers) < 0)
		return kr_cli_fail("sync");
	if (npeers == 0) {
		printf(_("no peers to sync with (add one with: kairan follow ENDPOINT --publisher FPR)\n"));
		kr_state_peers_free(peers, npeers);
		return 0;
	}
	kr_progress_view_init(&view, progress);
	c->h.rep.progress = kr_progress_view_show;
	c->h.rep.progress_arg = &view;
	zctx = kr_peer_context();
	for (size_t i = 0; i < npeers; i++) {
		kr_conn *conn;
		kr_sync_result res;
		int ms = (int)(timeout_s * 1000), rc;

		if (ms > c->h.cfg.timeout_ms && c->h.cfg.timeout_ms > 0 && npeers > 1)
			ms = c->h.cfg.timeout_ms;
		if (kr_conn_open(&conn, zctx, peers[i].endpoint, ms) < 0) {
			fprintf(stderr, _("kairan: sync: %s\n"), kr_errmsg());
			failures++;
			continue;
		}
		rc = kr_peer_sync(&c->h, conn, peers[i].publishers, peers[i].npublishers, 1, NULL, NULL, &res);
		kr_progress_view_finish(&view);
		if (rc < 0) {
			fprintf(stderr, _("kairan: sync: peer %s: %s\n"), peers[i].endpoint, kr_errmsg());
			failures++;
		} else {
			char *name = kr_safe(res.name); /* the peer's own word: no escapes reach the terminal */
			printf(_("%s%s%s%s: %zu applied, %zu up to date, %zu rejected, %zu failed (%llu bytes)\n"),
			    peers[i].endpoint, name && *name ? " (" : "", name ? name : "",
			    name && *name ? ")" : "", res.applied, res.ignored, res.rejected, res.failed,
			    (unsigned long long)res.bytes);
			free(name);
			if (res.not_held)
				printf(_("%s: %zu manifest(s) name collections it does not hold (it joined for some kinds "
				    "only, or is catching up): not taken from it, left to the peers that hold them\n"), peers[i].endpoint,
				    res.not_held);
			for (size_t k = 0; k < res.nunserved; k++)
				fprintf(stderr, _("kairan: sync: peer %s does not serve publisher %s, followed through it "
				    "(ask its operator, or follow it elsewhere: kairan unfollow %s --publisher %s)\n"),
				    peers[i].endpoint, res.unserved[k], peers[i].endpoint, res.unserved[k]);
			if (res.fed_installed)
				printf(_("%s: membership chain: %zu new version(s) installed\n"), peers[i].endpoint,
				    res.fed_installed);
			if (res.rejected || res.failed || res.nunserved || res.fed_refused)
				failures++;
		}
		kr_strv_free(res.unserved, res.nunserved);
		free(res.announce);
		free(res.name);
		kr_conn_destroy(&conn);
	}
	kr_peer_context_end(zctx);
	c->h.rep.progress = NULL;
	kr_state_peers_free(peers, npeers);
	if (failures)
		fprintf(stderr, _("kairan: sync: %d peer(s) unreachable or with rejected updates "
		    "(see: kairan status)\n"), failures);
	return failures ? 1 : 0;
}

static const char *
s_ago(char buf[64], int64_t t)
{
	int64_t d = kr_now() - t;

	if (t == 0)
		return _("never");
	if (d < 120)
		snprintf(buf, 64, _("%llds ago"), (long long)d);
	else if (d < 7200)
		snprintf(buf, 64, _("%lldmin ago"), (long long)(d / 60));
	else if (d < 172800)
		snprintf(buf, 64, _("%lldh ago"), (long long)(d / 3600));
	else
		snprintf(buf, 64, _("%lld days ago"), (long long)(d / 86400));
	return buf;
}

typedef struct {
	kr_cli *c;
	kr_buf *text, *json;
	int json_mode;
	size_t count;
} s_tmplctx;

/* One guideline of this node: does the template it applies have a newer version here? */
static int
s_check_template(const char *path, const uint8_t *blob, void *arg)
{
	s_tmplctx *x = arg;
	kr_buf t = KR_BUF_INIT;
	kr_yaml *fm = NULL;
	const char *body;
	int bl;

	if (!blob || kr_store_read_blob(x->c->h.store, x->c->h.fpr, "guidelines", blob, &t) < 0 ||
	    kr_frontmatter_parse(&fm, t.ptr, t.len, &body, &bl) < 0)
		goto done;
	{
		const kr_yaml *d = kr_yaml_get(fm, "derived_from");
		const char *own = kr_yaml_str(fm, "id");
		for (size_t i = 0; d && d->type == KR_YAML_SEQ && i < d->n; i++) {
			const char *tid = kr_yaml_str(d->items[i], "id"), *tv = kr_yaml_str(d->items[i], "version");
			const char *rel = kr_yaml_str(d->items[i], "relation");
			kr_state_item *it;
			size_t n;
			if (!tid || !tv || !rel || strcmp(rel, "ひな型適用") != 0 ||
			    kr_state_item_find(x->c->h.state, tid, &it, &n) < 0) {
				kr_error_clear();
				continue;
			}
			if (strcmp(it[0].version, tv) != 0) {
				x->count++;
				if (x->json_mode) {
					kr_buf_adds(x->json, x->count > 1 ? ",{\"guideline\":" : "{\"guideline\":");
					kr_buf_addjson(x->json, own ? own : path);
					kr_buf_adds(x->json, ",\"template\":");
					kr_buf_addjson(x->json, tid);
					kr_buf_adds(x->json, ",\"derived_from_version\":");
					kr_buf_addjson(x->json, tv);
					kr_buf_adds(x->json, ",\"template_version\":");
					kr_buf_addjson(x->json, it[0].version);
					kr_buf_adds(x->json, "}");
				} else {
					kr_buf_addf(x->text, "  %s applies template %s %s; the template is now %s\n"
					    "    see what changed: kairan diff %s %s\n", own ? own : path, tid, tv,
					    it[0].version, tid, tv);
				}
			}
			kr_state_items_free(it, n);
		}
	}
done:
	(void)path;
	kr_yaml_free(&fm);
	kr_buf_release(&t);
	return 0;
}

/*
 * One line (text, printed) or one JSON object's members after its
 * "endpoint" (fields) about the peer at endpoint; 0 when there is nothing
 * to say about it.
 */
typedef int (*s_peer_say)(kr_cli *c, const char *endpoint, kr_buf *fields);

/*
 * What say has to say about each peer: printed, or (json) a JSON array of
 * {"endpoint":…, fields…} into json. A peer list that cannot be read is
 * an empty one.
 */
static void
s_status_peers(kr_cli *c, const kr_state_peer *p, size_t n, s_peer_say say, kr_buf *json)
{
	size_t k = 0;

	if (json)
		kr_buf_adds(json, "[");
	for (size_t i = 0; i < n; i++) {
		kr_buf fields = KR_BUF_INIT;
		if (say(c, p[i].endpoint, json ? &fields : NULL) && json) {
			kr_buf_adds(json, k++ ? ",{\"endpoint\":" : "{\"endpoint\":");
			kr_buf_addjson(json, p[i].endpoint);
			kr_buf_add(json, fields.ptr, fields.len);
			kr_buf_adds(json, "}");
		}
		kr_buf_release(&fields);
	}
	if (json)
		kr_buf_adds(json, "]");
}

/* Followed publishers a peer never served: said, not silent. */
static int
s_say_unserved(kr_cli *c, const char *endpoint, kr_buf *fields)
{
	char *uns = kr_fed_unserved(&c->h, endpoint);
	int said = uns != NULL;

	if (uns && fields) {
		kr_buf_adds(fields, ",\"publishers\":");
		kr_buf_addjson(fields, uns);
	} else if (uns) {
		printf(_("peer %s does not serve publisher(s) followed through it: %s\n"), endpoint, uns);
	}
	free(uns);
	return said;
}

/* What this node joined its federation for through endpoint (join --pref/--kind). */
static int
s_say_filter(kr_cli *c, const char *endpoint, kr_buf *fields)
{
	kr_buf prefs = KR_BUF_INIT, kinds = KR_BUF_INIT;
	int joined = kr_fed_joined_through(&c->h, endpoint, &prefs, &kinds);

	if (joined && fields) {
		kr_buf_adds(fields, ",\"prefs\":");
		kr_buf_addjson(fields, prefs.len ? prefs.ptr : "");
		kr_buf_adds(fields, ",\"kinds\":");
		kr_buf_addjson(fields, kinds.len ? kinds.ptr : "");
	} else if (joined && kinds.len) {
		printf(_("joined through %s for kinds %s only%s%s: other kinds are not replicated "
		    "(widen with kairan join %s --federation FEDID --kind …)\n"), endpoint, kinds.ptr,
		    prefs.len ? _(", prefectures ") : "", prefs.len ? prefs.ptr : "", endpoint);
	} else if (joined) {
		printf(_("joined through %s for every kind%s%s\n"), endpoint,
		    prefs.len ? _(", prefectures ") : "", prefs.len ? prefs.ptr : "");
	}
	kr_buf_release(&prefs);
	kr_buf_release(&kinds);
	return joined;
}

/*
 * Which collections of other publishers this node still follows. A
 * publisher is asked of each peer whose wanted list names it
 * (kr_fed_wanted), and each such peer lets in the collections of its join
 * --kind filter, or all. A collection held that none of them lets in (the
 * filter was narrowed after it arrived) is 対象外: kept as it is, no longer
 * updated, so its sync time says nothing. Only worked out when some join
 * has a kind filter; a publisher no peer asks for is left as it was.
 */
typedef struct {
	char **want, **colls;          /* publishers asked of the peer; collections let in (NULL: all) */
	size_t nwant, ncolls;
} s_route;

static s_route *
s_routes(kr_cli *c, const kr_state_peer *p, size_t n)
{
	kr_fedstore f;
	kr_fed_join *j = NULL;
	size_t nj = 0;
	int filtered = 0;
	s_route *r;

	if (kr_fedstore_open(&f, c->h.home) < 0) {
		kr_error_clear();
		return NULL;
	}
	if (kr_fedstore_joins(&f, &j, &nj) == 0)
		for (size_t k = 0; k < nj; k++)
			filtered |= j[k].nkinds > 0;
	kr_error_clear();
	kr_fed_joins_free(j, nj);
	kr_fedstore_close(&f);
	if (!filtered)
		return NULL;
	r = kr_calloc(n + 1, sizeof(*r));
	for (size_t i = 0; i < n; i++) {
		int joined;
		if (kr_fed_wanted(&c->h, p[i].endpoint, p[i].publishers, p[i].npublishers, &r[i].want, &r[i].nwant,
		    &joined) < 0 || kr_fed_collections(&c->h, p[i].endpoint, &r[i].colls, &r[i].ncolls) < 0) {
			/* unreadable: this peer asks for nothing (no collection is called 対象外 for it) */
			kr_strv_free(r[i].want, r[i].nwant);
			kr_strv_free(r[i].colls, r[i].ncolls);
			memset(&r[i], 0, sizeof(r[i]));
			kr_error_clear();
		}
	}
	return r;
}

static void
s_routes_free(s_route *r, size_t n)
{
	for (size_t i = 0; r && i < n; i++) {
		kr_strv_free(r[i].want, r[i].nwant);
		kr_strv_free(r[i].colls, r[i].ncolls);
	}
	free(r);
}

/* 0 when publisher pub's collection coll is 対象外 here (see s_route); else 1. */
static int
s_followed(const s_route *r, size_t n, const char *pub, const char *coll)
{
	int asked = 0;

	for (size_t i = 0; r && i < n; i++) {
		if (!kr_strv_has(r[i].want, r[i].nwant, pub))
			continue;
		asked = 1;
		if (!r[i].colls || kr_strv_has(r[i].colls, r[i].ncolls, coll))
			return 1;
	}
	return !asked;
}

int
cmd_status(kr_cli *c, int argc, char **argv)
{
	kr_state_manifest *ms;
	kr_state_quarantine *q;
	kr_state_peer *peers = NULL;
	s_route *routes;
	size_t nm, nq, npeers = 0;
	int json = argc == 2 && strcmp(argv[1], "--json") == 0;
	int64_t now = kr_now();
	kr_buf out = KR_BUF_INIT;

	if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0))
		return printf(_("usage: kairan status [--json]\n\nPer publisher: seq, issued, expires "
		    "(stale since…), and per collection the head, items and last sync; then the latest "
		    "quarantined updates.\n")), 0;
	if (argc > 2 || (argc == 2 && !json))
		return kr_cli_usage("status");
	if (kr_state_manifest_list(c->h.state, &ms, &nm) < 0 || kr_state_quarantine_list(c->h.state, 20, &q, &nq) < 0)
		return kr_cli_fail("status");
	if (kr_state_peers(c->h.state, &peers, &npeers) < 0) {
		kr_error_clear(); /* said as no peers */
		peers = NULL;
		npeers = 0;
	}
	routes = s_routes(c, peers, npeers);
	if (json)
		kr_buf_adds(&out, "{\"node\":{\"fingerprint\":");
	if (json) {
		kr_buf_addjson(&out, c->h.fpr);
		kr_buf_adds(&out, ",\"name\":");
		kr_buf_addjson(&out, c->h.cfg.name);
		kr_buf_adds(&out, ",\"lg_code\":");
		kr_buf_addjson(&out, c->h.cfg.lg_code);
		kr_buf_adds(&out, "},\"federation\":");
		if (kr_fed_describe(&c->h, NULL, &out) < 0)
			return kr_cli_fail("status");
		kr_buf_adds(&out, ",\"unserved\":");
		s_status_peers(c, peers, npeers, s_say_unserved, &out);
		kr_buf_adds(&out, ",\"joined\":");
		s_status_peers(c, peers, npeers, s_say_filter, &out);
		kr_buf_adds(&out, ",\"publishers\":[");
	} else {
		kr_buf fed = KR_BUF_INIT;
		printf(_("node %s (%s) %s\n"), c->h.cfg.name, c->h.cfg.lg_code, c->h.fpr);
		if (kr_fed_describe(&c->h, &fed, NULL) < 0)
			return kr_cli_fail("status");
		if (fed.len)
			printf("%s\n", fed.ptr);
		kr_buf_release(&fed);
		s_status_peers(c, peers, npeers, s_say_filter, NULL);
		s_status_peers(c, peers, npeers, s_say_unserved, NULL);
	}
	for (size_t i = 0; i < nm; i++) {
		kr_state_head *heads;
		size_t nh = 0;
		char issued[32], expires[32], ago[64];
		int own = strcmp(ms[i].publisher, c->h.fpr) == 0, stale = ms[i].expires <= now;

		kr_time_iso(issued, ms[i].issued);
		kr_time_iso(expires, ms[i].expires);
		kr_state_head_list(c->h.state, ms[i].publisher, &heads, &nh);
		if (json) {
			kr_buf_adds(&out, i ? ",{\"publisher\":" : "{\"publisher\":");
			kr_buf_addjson(&out, ms[i].publisher);
			kr_buf_adds(&out, ",\"name\":");
			kr_buf_addjson(&out, ms[i].name);
			kr_buf_adds(&out, ",\"lg_code\":");
			kr_buf_addjson(&out, ms[i].lg_code);
			kr_buf_addf(&out, ",\"own\":%s,\"seq\":%llu,\"issued\":%lld,\"expires\":%lld,\"stale\":%s,"
			    "\"received\":%lld,\"peer\":", own ? "true" : "false", (unsigned long long)ms[i].seq,
			    (long long)ms[i].issued, (long long)ms[i].expires, stale ? "true" : "false",
			    (long long)ms[i].received);
			kr_buf_addjson(&out, ms[i].peer ? ms[i].peer : "");
			kr_buf_adds(&out, ",\"collections\":[");
		} else {
			char *name = kr_safe(ms[i].name), *code = kr_safe(ms[i].lg_code);
			printf(_("\n%s %s (%s) %s\n  seq %llu, issued %s, expires %s%s%s\n"), own ? _("publisher (this node)")
			    : _("publisher"), name, code, ms[i].publisher, (unsigned long long)ms[i].seq,
			    issued, expires, stale ? _(" — STALE since ") : "", stale ? expires : "");
			free(name);
			free(code);
			if (!own)
				printf(_("  received %s from %s\n"), s_ago(ago, ms[i].received), ms[i].peer ? ms[i].peer : "?");
		}
		for (size_t j = 0; j < nh; j++) {
			int64_t items = 0;
			int followed = own || s_followed(routes, npeers, ms[i].publisher, heads[j].collection);
			kr_state_item_count(c->h.state, heads[j].publisher, heads[j].collection, &items);
			if (json) {
				kr_buf_adds(&out, j ? ",{\"collection\":" : "{\"collection\":");
				kr_buf_addjson(&out, heads[j].collection);
				kr_buf_adds(&out, ",\"head\":");
				kr_buf_addjson(&out, heads[j].commit);
				kr_buf_addf(&out, ",\"items\":%lld,\"size\":%llu,\"synced\":%lld,\"followed\":%s}",
				    (long long)items, (unsigned long long)heads[j].size, (long long)heads[j].synced,
				    followed ? "true" : "false");
			} else if (followed) {
				printf(_("  %-11s %.12s  %lld item(s)  synced %s\n"), heads[j].collection, heads[j].commit,
				    (long long)items, s_ago(ago, heads[j].synced));
			} else {
				printf(_("  %-11s %.12s  %lld item(s)  対象外 (not followed: no join --kind lets it in any "
				    "more; kept as held, not updated)\n"), heads[j].collection, heads[j].commit, (long long)items);
			}
		}
		if (json)
			kr_buf_adds(&out, "]}");
		free(heads);
	}
	if (json) {
		kr_buf_adds(&out, "],\"quarantine\":[");
	} else if (nm == 0) {
		printf(_("\nnothing published or followed yet\n"));
	}
	if (!json && nq) {
		int64_t rows = 0, events = 0;
		kr_state_quarantine_totals(c->h.state, &rows, &events);
		printf(_("\nquarantine: %lld refusal(s) in %lld row(s), one per peer, publisher and kind of reason "
		    "(at most %d kept; latest first):\n"), (long long)events, (long long)rows, KR_QUARANTINE_MAX);
	}
	for (size_t i = 0; i < nq; i++) {
		char at[32], last[32];
		kr_time_iso(at, q[i].at);
		kr_time_iso(last, q[i].last_at);
		if (json) {
			kr_buf_addf(&out, "%s{\"at\":%lld,\"last_at\":%lld,\"count\":%lld,\"seq\":%lld,\"publisher\":",
			    i ? "," : "", (long long)q[i].at, (long long)q[i].last_at, (long long)q[i].count,
			    (long long)q[i].seq);
			kr_buf_addjson(&out, q[i].publisher ? q[i].publisher : "");
			kr_buf_adds(&out, ",\"peer\":");
			kr_buf_addjson(&out, q[i].peer ? q[i].peer : "");
			kr_buf_adds(&out, ",\"collection\":");
			kr_buf_addjson(&out, q[i].collection ? q[i].collection : "");
			kr_buf_adds(&out, ",\"reason\":");
			kr_buf_addjson(&out, q[i].reason);
			kr_buf_adds(&out, "}");
		} else if (q[i].count > 1) {
			printf(_("  %s from %s: %s\n    %lld times, first %s\n"), last, q[i].peer ? q[i].peer : "?",
			    q[i].reason, (long long)q[i].count, at);
		} else {
			char *reason = kr_safe(q[i].reason);
			printf(_("  %s from %s: %s\n"), at, q[i].peer ? q[i].peer : "?", reason);
			free(reason);
		}
	}
	{
		/* templates this node's guidelines apply, and whether they moved on */
		uint8_t head[KR_OID_LEN];
		kr_buf text = KR_BUF_INIT;
		s_tmplctx x = { .c = c, .text = &text, .json = &out, .json_mode = json };
		if (json)
			kr_buf_adds(&out, "],\"templates\":[");
		if (kr_store_head(c->h.store, c->h.fpr, "guidelines", head) == 0)
			kr_store_diff(c->h.store, c->h.fpr, "guidelines", NULL, head, s_check_template, &x);
		kr_error_clear();
		if (!json && x.count) {
			text.len = kr_safe_inplace(text.ptr, text.len, KR_SAFE_TEXT); /* ids and versions from items */
			printf(_("\ntemplates with a newer version:\n%s"), text.ptr);
		}
		kr_buf_release(&text);
	}
	if (json)
		kr_buf_adds(&out, "]");
	kr_board_status(c, json, &out); /* open consultations, adoption reports (node/cmd_board.c) */
	if (json) {
		kr_buf_adds(&out, "}\n");
		fputs(out.ptr, stdout);
	}
	kr_buf_release(&out);
	s_routes_free(routes, npeers);
	kr_state_peers_free(peers, npeers);
	kr_state_manifests_free(ms, nm);
	kr_state_quarantine_free(q, nq);
	return 0;
}

static void
s_problem(const char *msg, void *arg)
{
	fprintf(stderr, "kairan: %s: %s\n", (const char *)arg, msg);
}

int
cmd_verify(kr_cli *c, int argc, char **argv)
{
	size_t checked, objects;
	int failures, full = 0;

	if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0))
		return printf(_("usage: kairan verify [--full]\n\nRe-checks every collection held: every commit "
		    "signed by its publisher, history linear, refs equal to the recorded and signed heads.\n"
		    "--full first reads every object reachable from each head (commits, trees, blobs),\n"
		    "inflating and re-hashing it, and names each damaged object and its repository\n"
		    "(then: kairan repair).\n")), 0;
	if (argc == 2 && strcmp(argv[1], "--full") == 0)
		full = 1;
	else if (argc != 1)
		return kr_cli_usage("verify");
	kr_store_strict(1);
	failures = kr_replica_verify_all(&c->h.rep, full, s_problem, (void *)"verify", &checked, &objects);
	if (failures < 0)
		return kr_cli_fail("verify");
	if (failures) {
		fprintf(stderr, _("kairan: verify: %d problem(s) in %zu collection(s)%s\n"), failures, checked,
		    full ? " (run: kairan repair)" : "");
		return 1;
	}
	if (full)
		printf(_("verified %zu collection(s) and %zu object(s): every object reads and matches its id, "
		    "every commit signed by its publisher, history linear, heads as recorded\n"), checked, objects);
	else
		printf(_("verified %zu collection(s): every commit signed by its publisher, history linear, "
		    "heads as recorded\n"), checked);
	return 0;
}

int
cmd_repair(kr_cli *c, int argc, char **argv)
{
	kr_repair_report rep;
	kr_home probe = { 0 };

	if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0))
		return printf(_("usage: kairan repair\n\n"
		    "Rebuilds what a lost or damaged state.db held, and sets damaged objects aside:\n"
		    "  1. reads every object of every collection; a mirrored collection with damaged\n"
		    "     objects has those packs moved to <repo>/damaged-<time>/ and its ref dropped,\n"
		    "     so the next `kairan sync` (or the running node) fetches it again from a peer;\n"
		    "  2. builds a new state.db from the repositories, the follows file and the\n"
		    "     signed manifests kept in the home (manifests/), and signs a fresh manifest of\n"
		    "     this node above the last seq it issued;\n"
		    "  3. moves the old state.db to state.db.damaged-<time> and puts the new one in\n"
		    "     place with one rename: until then nothing is changed.\n"
		    "Quarantine history and peer contact times start afresh. Stop `kairan serve` first.\n")), 0;
	if (argc != 1)
		return kr_cli_usage("repair");
	probe.home = (char *)c->home_path;
	if (kr_control_poke(&probe, "ping", 300) == 0) {
		fprintf(stderr, _("kairan: repair: a kairan serve is running on %s; stop it first (it holds state.db open)\n"),
		    c->home_path);
		return 1;
	}
	kr_store_strict(1);
	if (kr_home_repair(c->home_path, s_problem, (void *)"repair", &rep) < 0) {
		fprintf(stderr, _("kairan: repair: %s; state.db was not changed\n"), kr_errmsg());
		free(rep.aside);
		return 1;
	}
	printf(_("rebuilt state.db from the repositories: %zu followed publisher(s), %zu signed manifest(s), "
	    "%zu collection(s) indexed\n"), rep.follows, rep.manifests, rep.collections);
	if (rep.aside)
		printf(_("the old state.db is kept as %s\n"), rep.aside);
	printf(_("read and re-hashed %zu object(s)"), rep.objects);
	if (rep.reset)
		printf(_("; %zu mirrored collection(s) had damaged packs set aside: run kairan sync (or start "
		    "kairan serve) to fetch them again"), rep.reset);
	printf("\n");
	free(rep.aside);
	if (rep.damaged_left) {
		fprintf(stderr, _("kairan: repair: %zu collection(s) of this node are damaged and were left as "
		    "they are (see above)\n"), rep.damaged_left);
		return 1;
	}
	return 0;
}
