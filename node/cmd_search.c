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

static void
s_print_text(const kr_search_result *r)
{
	for (size_t i = 0; i < r->nhits; i++) {
		const kr_search_hit *h = &r->hits[i];
		char *snip = kr_strdup(h->snippet ? h->snippet : "");
		for (char *p = snip; *p; p++)
			if (*p == '\n' || *p == '\r')
				*p = ' ';
		printf("%s  %s\n  %s (%s) · %s %s", h->id, h->title, h->pub_name ? h->pub_name : "?",
		    h->pub_code ? h->pub_code : "?", h->kind, h->version);
		if (h->outcome)
			printf(" · %s", h->outcome);
		if (h->headline)
			printf(" · %s", h->headline);
		printf("\n  %s\n", snip);
		free(snip);
	}
	printf("%s%zu hit(s)%s", r->nhits ? "\n" : "", r->total,
	    r->total > r->nhits ? kr_sprintf(" (showing %zu; more with --limit)", r->nhits) : "");
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
		{ NULL, 0, NULL, 0 },
	};
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
		case 'p':
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
		    "katakana/hiragana do not matter. Example: kairan search 'チャットボット 正答率' --outcome 見送り\n"), 0;
		default: return kr_cli_usage("search");
		}
	}
	if (optind == argc)
		return kr_cli_usage("search");
	for (int i = optind; i < argc; i++)
		kr_buf_addf(&query, "%s%s", i > optind ? " " : "", argv[i]);
	if (kr_search_compile(query.ptr, &match) < 0) {
		fprintf(stderr, "kairan: search: %s\n", kr_errmsg());
		kr_buf_release(&query);
		return 2;
	}
	q.match = match.ptr;
	if (kr_state_search(c->h.state, &q, &r) < 0) {
		rc = kr_cli_fail("search");
	} else {
		if (json)
			s_print_json(&r, query.ptr);
		else
			s_print_text(&r);
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
