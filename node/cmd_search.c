/*
 * node/cmd_search.c - search and reindex
 *
 * A hit shows id, title, publisher (name and code), kind, version, a
 * snippet with the matched terms in 【】, and for cases the outcome and
 * headline metric; then facet counts over every match.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../sharing/search.h"
#include "cli.h"
#include "peer.h"

#define RRF_K 60.0

/* A hit of the merged list: strings borrowed from the local result or a peer's reply. */
typedef struct {
	const char *id, *title, *pub_name, *lg_code, *kind, *version, *snippet, *outcome, *headline;
	char publisher[KR_FPR_HEX + 1];
	double score;
	int local;
	const char *via;                /* first peer that had it */
	kr_buf sources;
} s_merged;

static const char *const s_facet_names[4] = { "kind", "outcome", "domain", "prefecture" };

static void
s_json_str(kr_buf *b, const char *key, const char *v, int comma)
{
	if (comma)
		kr_buf_addch(b, ',');
	kr_buf_addjson(b, key);
	kr_buf_addch(b, ':');
	if (v)
		kr_buf_addjson(b, v);
	else
		kr_buf_adds(b, "null");
}

static void
s_print_json(const kr_search_result *r, const char *query)
{
	kr_buf b = KR_BUF_INIT;

	kr_buf_adds(&b, "{");
	s_json_str(&b, "query", query, 0);
	kr_buf_addf(&b, ",\"total\":%zu,\"hits\":[", r->total);
	for (size_t i = 0; i < r->nhits; i++) {
		const kr_search_hit *h = &r->hits[i];
		kr_buf_adds(&b, i ? ",{" : "{");
		s_json_str(&b, "id", h->id, 0);
		s_json_str(&b, "title", h->title, 1);
		s_json_str(&b, "publisher", h->publisher, 1);
		s_json_str(&b, "publisher_name", h->pub_name, 1);
		s_json_str(&b, "lg_code", h->pub_code, 1);
		s_json_str(&b, "kind", h->kind, 1);
		s_json_str(&b, "version", h->version, 1);
		s_json_str(&b, "updated", h->updated, 1);
		s_json_str(&b, "outcome", h->outcome, 1);
		s_json_str(&b, "headline", h->headline, 1);
		s_json_str(&b, "snippet", h->snippet, 1);
		kr_buf_addf(&b, ",\"rank\":%.4f,\"source\":\"local\"}", h->rank);
	}
	kr_buf_adds(&b, "],\"facets\":{");
	for (int f = 0; f < 4; f++) {
		kr_buf_addf(&b, "%s\"%s\":{", f ? "," : "", s_facet_names[f]);
		for (size_t i = 0; i < r->nfacets[f]; i++) {
			if (i)
				kr_buf_addch(&b, ',');
			kr_buf_addjson(&b, r->facets[f][i].value);
			kr_buf_addf(&b, ":%zu", r->facets[f][i].count);
		}
		kr_buf_addch(&b, '}');
	}
	kr_buf_adds(&b, "}}\n");
	fputs(b.ptr, stdout);
	kr_buf_release(&b);
}

/* A snippet on one line (caller frees). */
static char *
s_one_line(const char *s)
{
	char *out = kr_strdup(s ? s : "");

	for (char *p = out; *p; p++)
		if (*p == '\n' || *p == '\r' || *p == '\t')
			*p = ' ';
	return out;
}

static void
s_print_text(const kr_search_result *r)
{
	for (size_t i = 0; i < r->nhits; i++) {
		const kr_search_hit *h = &r->hits[i];
		char *snip = s_one_line(h->snippet);
		printf("%s  %s\n  %s (%s) · %s %s", h->id, h->title, h->pub_name ? h->pub_name : "?",
		    h->pub_code ? h->pub_code : "?", h->kind, h->version);
		if (h->outcome)
			printf(" · %s", h->outcome);
		if (h->headline)
			printf(" · %s", h->headline);
		printf("\n  %s\n", snip);
		free(snip);
	}
	printf("%s%zu hit(s)", r->nhits ? "\n" : "", r->total);
	if (r->total > r->nhits)
		printf(" (showing %zu; more with --limit)", r->nhits);
	printf("\n");
	for (int f = 0; f < 4; f++) {
		if (!r->nfacets[f])
			continue;
		printf("  %s:", s_facet_names[f]);
		for (size_t i = 0; i < r->nfacets[f]; i++) {
			const char *name = f == KR_FACET_PREF ? kr_pref_name(r->facets[f][i].value) : NULL;
			printf("%s %s%s%s %zu", i ? "," : "", r->facets[f][i].value, name ? " " : "",
			    name ? name : "", r->facets[f][i].count);
		}
		printf("\n");
	}
	if (r->nhits)
		printf("open one with: kairan show ID\n");
}

static s_merged *
s_merge_find(s_merged **v, size_t *n, const char *id, const char *version)
{
	for (size_t i = 0; i < *n; i++)
		if (strcmp((*v)[i].id, id) == 0 && strcmp((*v)[i].version ? (*v)[i].version : "",
		    version ? version : "") == 0)
			return &(*v)[i];
	*v = kr_realloc(*v, (*n + 1) * sizeof(s_merged));
	memset(&(*v)[*n], 0, sizeof(s_merged));
	(*v)[*n].sources = (kr_buf)KR_BUF_INIT;
	return &(*v)[(*n)++];
}

static int
s_merged_cmp(const void *a, const void *b)
{
	const s_merged *x = a, *y = b;

	return x->score < y->score ? 1 : x->score > y->score ? -1 : strcmp(x->id, y->id);
}

/*
 * --remote: the local answer and every peer's, merged by reciprocal rank
 * (score = sum of 1 / (60 + rank)), de-duplicated by (id, version).
 */
static int
s_search_remote(kr_cli *c, const char *query, const char *const *fields, const kr_search_result *local,
    size_t limit, int deadline_ms, int json)
{
	kr_state_peer *peers = NULL;
	size_t npeers = 0, nm = 0, answered = 0;
	char **eps;
	kr_peer_answer *ans;
	kr_request req = { .type = KR_REQ_SEARCH, .limit = (uint32_t)limit };
	s_merged *m = NULL;
	kr_buf out = KR_BUF_INIT;

	kr_state_peers(c->h.state, &peers, &npeers);
	eps = kr_calloc(npeers + 1, sizeof(char *));
	ans = kr_calloc(npeers + 1, sizeof(*ans));
	for (size_t i = 0; i < npeers; i++)
		eps[i] = peers[i].endpoint;
	req.search[0] = (char *)query;
	for (int i = 1; i < KR_SEARCH_FIELDS; i++)
		req.search[i] = (char *)fields[i];
	kr_peer_ask_all(eps, npeers, &req, deadline_ms, ans);

	for (size_t r = 0; r < local->nhits; r++) {
		const kr_search_hit *h = &local->hits[r];
		s_merged *x = s_merge_find(&m, &nm, h->id, h->version);
		if (!x->id) {
			x->id = h->id; x->title = h->title; x->pub_name = h->pub_name; x->lg_code = h->pub_code;
			x->kind = h->kind; x->version = h->version; x->snippet = h->snippet;
			x->outcome = h->outcome; x->headline = h->headline;
			snprintf(x->publisher, sizeof(x->publisher), "%s", h->publisher);
		}
		x->local = 1;
		x->score += 1.0 / (RRF_K + (double)r + 1);
		kr_buf_adds(&x->sources, "this node");
	}
	for (size_t p = 0; p < npeers; p++) {
		const char *who = peers[p].name ? peers[p].name : peers[p].endpoint;
		if (!ans[p].answered)
			continue;
		answered++;
		for (size_t r = 0; r < ans[p].rep.nhits; r++) {
			const kr_wire_hit *h = &ans[p].rep.hits[r];
			s_merged *x = s_merge_find(&m, &nm, h->id, h->version);
			if (!x->id) {
				x->id = h->id; x->title = h->title; x->pub_name = h->pub_name; x->lg_code = h->lg_code;
				x->kind = h->kind; x->version = h->version; x->snippet = h->snippet;
				x->outcome = h->outcome; x->headline = h->headline;
				kr_hex(x->publisher, h->publisher, KR_FPR_LEN);
			}
			if (!x->via)
				x->via = peers[p].endpoint;
			x->score += 1.0 / (RRF_K + (double)r + 1);
			kr_buf_addf(&x->sources, "%s%s", x->sources.len ? ", " : "", who);
		}
	}
	if (nm)
		qsort(m, nm, sizeof(*m), s_merged_cmp);
	if (nm > limit)
		nm = limit;

	if (json) {
		kr_buf_adds(&out, "{");
		s_json_str(&out, "query", query, 0);
		kr_buf_adds(&out, ",\"hits\":[");
		for (size_t i = 0; i < nm; i++) {
			kr_buf_adds(&out, i ? ",{" : "{");
			s_json_str(&out, "id", m[i].id, 0);
			s_json_str(&out, "title", m[i].title, 1);
			s_json_str(&out, "publisher", m[i].publisher, 1);
			s_json_str(&out, "publisher_name", m[i].pub_name, 1);
			s_json_str(&out, "lg_code", m[i].lg_code, 1);
			s_json_str(&out, "kind", m[i].kind, 1);
			s_json_str(&out, "version", m[i].version, 1);
			s_json_str(&out, "outcome", m[i].outcome, 1);
			s_json_str(&out, "headline", m[i].headline, 1);
			s_json_str(&out, "snippet", m[i].snippet, 1);
			s_json_str(&out, "sources", m[i].sources.ptr, 1);
			kr_buf_addf(&out, ",\"local\":%s,\"score\":%.5f", m[i].local ? "true" : "false", m[i].score);
			if (!m[i].local)
				s_json_str(&out, "follow", m[i].via, 1);
			kr_buf_adds(&out, "}");
		}
		kr_buf_adds(&out, "],\"peers\":[");
		for (size_t p = 0; p < npeers; p++) {
			kr_buf_adds(&out, p ? ",{" : "{");
			s_json_str(&out, "endpoint", peers[p].endpoint, 0);
			s_json_str(&out, "name", peers[p].name, 1);
			kr_buf_addf(&out, ",\"answered\":%s,\"hits\":%zu,\"ms\":%.1f", ans[p].answered ? "true" : "false",
			    ans[p].answered ? ans[p].rep.nhits : 0, ans[p].ms);
			s_json_str(&out, "error", ans[p].error, 1);
			kr_buf_adds(&out, "}");
		}
		kr_buf_adds(&out, "]}\n");
		fputs(out.ptr, stdout);
	} else {
		for (size_t i = 0; i < nm; i++) {
			printf("%s  %s\n  %s (%s) · %s %s", m[i].id, m[i].title, m[i].pub_name ? m[i].pub_name : "?",
			    m[i].lg_code ? m[i].lg_code : "?", m[i].kind, m[i].version);
			if (m[i].outcome && *m[i].outcome)
				printf(" · %s", m[i].outcome);
			if (m[i].headline && *m[i].headline)
				printf(" · %s", m[i].headline);
			{
				char *snip = s_one_line(m[i].snippet);
				printf("\n  %s\n  from: %s\n", snip, m[i].sources.ptr);
				free(snip);
			}
			if (!m[i].local)
				printf("  not on this node; to get it: kairan follow %s --publisher %s\n", m[i].via, m[i].publisher);
		}
		printf("%s%zu hit(s); this node and %zu of %zu peer(s) answered\n", nm ? "\n" : "", nm, answered, npeers);
		for (size_t p = 0; p < npeers; p++) {
			if (ans[p].answered)
				printf("  %s%s%s%s: %zu hit(s) in %.0f ms\n", peers[p].endpoint, peers[p].name ? " (" : "",
				    peers[p].name ? peers[p].name : "", peers[p].name ? ")" : "", ans[p].rep.nhits, ans[p].ms);
			else
				printf("  %s%s%s%s: did not answer (%s)\n", peers[p].endpoint, peers[p].name ? " (" : "",
				    peers[p].name ? peers[p].name : "", peers[p].name ? ")" : "", ans[p].error ? ans[p].error : "?");
		}
	}
	for (size_t i = 0; i < (nm > limit ? nm : nm); i++)
		kr_buf_release(&m[i].sources);
	free(m);
	kr_buf_release(&out);
	kr_peer_answers_free(ans, npeers);
	free(ans);
	free(eps);
	kr_state_peers_free(peers, npeers);
	return 0;
}

int
cmd_search(kr_cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "kind", required_argument, NULL, 'k' }, { "domain", required_argument, NULL, 'd' },
		{ "ai-use", required_argument, NULL, 'a' }, { "outcome", required_argument, NULL, 'o' },
		{ "deployment", required_argument, NULL, 'm' }, { "publisher", required_argument, NULL, 'p' },
		{ "pref", required_argument, NULL, 'r' }, { "population-band", required_argument, NULL, 'b' },
		{ "since", required_argument, NULL, 's' }, { "limit", required_argument, NULL, 'l' },
		{ "json", no_argument, NULL, 'j' }, { "help", no_argument, NULL, 'h' },
		{ "remote", no_argument, NULL, 'R' }, { "deadline", required_argument, NULL, 'D' },
		{ NULL, 0, NULL, 0 },
	};
	int remote = 0, deadline = 800;
	size_t limit_shown;
	const char *raw_pub = NULL;
	kr_search_q q = { .limit = 10 };
	kr_search_result r;
	kr_buf match = KR_BUF_INIT, query = KR_BUF_INIT;
	char pub[KR_FPR_HEX + 1];
	int o, json = 0, rc = 0;

	optind = 0;
	while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (o) {
		case 'k': q.kind = optarg; break;
		case 'd': q.domain = optarg; break;
		case 'a': q.ai_use = optarg; break;
		case 'o': q.outcome = optarg; break;
		case 'm': q.deployment = optarg; break;
		case 'R': remote = 1; break;
		case 'D':
			deadline = atoi(optarg);
			if (deadline <= 0 || deadline > 60000) {
				fprintf(stderr, "kairan: search: --deadline takes milliseconds (1 to 60000)\n");
				return 2;
			}
			break;
		case 'p':
			raw_pub = optarg;
			if (kr_cli_publisher(c, optarg, pub) == 0)
				q.publisher = pub;
			else
				q.publisher = optarg; /* an lg_code not yet known here matches nothing */
			break;
		case 'r':
			if (strlen(optarg) == 1) {
				static char two[3];
				snprintf(two, sizeof(two), "0%s", optarg);
				q.pref = two;
			} else {
				q.pref = optarg;
			}
			break;
		case 'b': q.popband = optarg; break;
		case 's': q.since = optarg; break;
		case 'l':
			q.limit = (size_t)strtoul(optarg, NULL, 10);
			if (q.limit == 0 || q.limit > 1000) {
				fprintf(stderr, "kairan: search: --limit takes 1 to 1000\n");
				return 2;
			}
			break;
		case 'j': json = 1; break;
		case 'h': return printf("usage: kairan search QUERY [--kind K] [--domain D] [--ai-use U] "
		    "[--outcome O] [--deployment M] [--publisher FPR|CODE] [--pref NN] "
		    "[--population-band B] [--since DATE] [--limit N] [--json]\n\n"
		    "Finds items held on this node. Words are ANDed; \"…\" is a phrase, -word excludes,\n"
		    "a OR b either. Any word length works (ごみ, AI); full-/half-width and\n"
		    "katakana/hiragana do not matter. Example: kairan search 'チャットボット 正答率' --outcome 見送り\n"
		    "--remote also asks every peer (each answers from its own index within --deadline MS,\n"
		    "default 800) and merges the answers by reciprocal rank.\n"), 0;
		default: return kr_cli_usage("search");
		}
	}
	if (optind == argc)
		return kr_cli_usage("search");
	limit_shown = q.limit;
	for (int i = optind; i < argc; i++)
		kr_buf_addf(&query, "%s%s", i > optind ? " " : "", argv[i]);
	if (kr_search_compile(query.ptr, &match) < 0) {
		fprintf(stderr, "kairan: search: %s\n", kr_errmsg());
		kr_buf_release(&query);
		return 2;
	}
	q.match = match.ptr;
	if (remote) /* every node compiles the query itself; local ranks count fully */
		q.limit = q.limit < 50 ? 50 : q.limit;
	if (kr_state_search(c->h.state, &q, &r) < 0) {
		rc = kr_cli_fail("search");
	} else {
		if (remote) {
			const char *fields[KR_SEARCH_FIELDS] = { NULL, q.kind, q.domain, q.ai_use, q.outcome,
				q.deployment, raw_pub, q.pref, q.popband, q.since };
			rc = s_search_remote(c, query.ptr, fields, &r, limit_shown, deadline, json);
		} else if (json) {
			s_print_json(&r, query.ptr);
		} else {
			s_print_text(&r);
		}
		kr_search_result_free(&r);
	}
	kr_buf_release(&match);
	kr_buf_release(&query);
	return rc;
}

static void
s_problem(const char *msg, void *arg)
{
	(void)arg;
	fprintf(stderr, "kairan: reindex: %s\n", msg);
}

int
cmd_reindex(kr_cli *c, int argc, char **argv)
{
	size_t colls, items;

	if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0))
		return printf("usage: kairan reindex\n\nRebuilds the item index (and search) of every "
		    "collection from its git history.\n"), 0;
	if (argc != 1)
		return kr_cli_usage("reindex");
	if (kr_replica_reindex(&c->h.rep, s_problem, NULL, &colls, &items) < 0)
		return kr_cli_fail("reindex");
	printf("reindexed %zu item(s) in %zu collection(s)\n", items, colls);
	return 0;
}
