/*
 * node/cmd_search.c - search and reindex
 *
 * A hit shows id, title, publisher (name and code), kind, version, a
 * snippet with the matched terms in 【】, and for cases the outcome and
 * headline metric; then facet counts over every match.
 *
 * With --remote, peers' answers are claims, not facts: a remote hit is
 * shown as verified only when this node holds that item at that version
 * from that publisher (its signature checked when it arrived), and then
 * with what this node holds; anything else is "未検証 (unverified), from
 * peer X" and never shown under a publisher's name as if it were theirs.
 * Every string printed, local or remote, goes through kr_buf_addsafe.
 */
#include <getopt.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../policies/item.h"
#include "../policies/values.h"
#include "../sharing/search.h"
#include "board.h"
#include "cli.h"
#include "progress.h"
#include "peer.h"
#include "searchq.h"

#define RRF_K 60.0
#define UNVERIFIED "未検証 (unverified)"

/* A hit of the merged list; strings owned, already made safe (kr_safe). */
typedef struct {
	char *id, *title, *pub_name, *lg_code, *kind, *version, *snippet, *outcome, *headline;
	char *updated;
	char publisher[KR_FPR_HEX + 1];
	double score;
	int local;                      /* in this node's own answer */
	int verified;                   /* this node holds id at version from publisher */
	const char *via;                /* endpoint of the first peer that had it */
	char *via_name;
	kr_buf sources;
	char *board;                    /* verified: the verdict this node computes (JSON members), else NULL */
	char *badge;                    /* verified and endorsed or warned: "ボード推奨 2/2" */
} s_merged;

static const char *const s_facet_names[KR_NFACETS] = { "kind", "outcome", "domain", "prefecture", "ai_use", "deployment",
	"popband" };

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

/* Appends s (NULL: dflt) made safe, on one line. */
static void
s_add(kr_buf *b, const char *s, const char *dflt)
{
	if (!s)
		s = dflt;
	kr_buf_addsafe(b, s, strlen(s), KR_SAFE_LINE);
}


/*
 * The board's part of a search: the verdict on every match (kept or left
 * out by --endorsed and policy.accept.require_endorsement, and counted
 * for the facet), and per shown hit a badge and the adoption counts.
 */
typedef struct {
	kr_bgate g;                     /* the view, policy.accept.require_endorsement and --endorsed */
	const kr_bview *bv;
	const kr_policy_rules *rules;
	char **lines;                   /* per hit: "ボード推奨 2/2 · 利用報告 採用 1、不採用 1" or NULL */
} s_board;

/* Badges and adoption counts of the hits shown. */
static void
s_board_lines(kr_cli *c, s_board *sb, const kr_search_result *r)
{
	sb->lines = kr_calloc(r->nhits + 1, sizeof(char *));
	for (size_t i = 0; i < r->nhits; i++) {
		kr_state_item *it;
		size_t n, counts[3], na;
		char *badge = NULL;
		kr_buf b = KR_BUF_INIT;
		if (kr_board_kind(r->hits[i].kind))
			continue;
		if (kr_state_item_find(c->h.state, r->hits[i].id, &it, &n) == 0) {
			for (size_t k = 0; k < n && !badge; k++)
				if (strcmp(it[k].publisher, r->hits[i].publisher) == 0)
					badge = kr_bview_badge(sb->bv, it[k].blob);
			kr_state_items_free(it, n);
		}
		kr_error_clear();
		na = kr_bview_adoptions(sb->bv, r->hits[i].id, counts, NULL);
		if (badge)
			kr_buf_addf(&b, "[%s]", badge);
		if (na)
			kr_buf_addf(&b, "%s利用報告 検討中 %zu、採用 %zu、不採用 %zu", b.len ? " · " : "", counts[0],
			    counts[1], counts[2]);
		sb->lines[i] = b.len ? kr_buf_detach(&b) : NULL;
		kr_buf_release(&b);
		free(badge);
	}
}

static void
s_board_free(s_board *sb, size_t nhits)
{
	if (sb->lines)
		kr_strv_free(sb->lines, nhits);
	kr_bgate_free(&sb->g);
}

static void
s_print_text(const kr_search_result *r, const s_board *sb)
{
	kr_buf b = KR_BUF_INIT;

	for (size_t i = 0; i < r->nhits; i++) {
		const kr_search_hit *h = &r->hits[i];
		s_add(&b, h->id, "?");
		kr_buf_adds(&b, "  ");
		s_add(&b, h->title, "");
		kr_buf_adds(&b, "\n  ");
		s_add(&b, h->pub_name, "?");
		kr_buf_adds(&b, " (");
		s_add(&b, h->pub_code, "?");
		kr_buf_adds(&b, ") · ");
		s_add(&b, h->kind, "?");
		kr_buf_adds(&b, " ");
		s_add(&b, h->version, "?");
		if (h->outcome) {
			kr_buf_adds(&b, " · ");
			s_add(&b, h->outcome, "");
		}
		if (h->headline) {
			kr_buf_adds(&b, " · ");
			s_add(&b, h->headline, "");
		}
		kr_buf_adds(&b, "\n  ");
		s_add(&b, h->snippet, "");
		kr_buf_adds(&b, "\n");
		if (h->more_rows)
			kr_buf_addf(&b, _("  … 同じデータセットの他の%zu行 (every row: --all-rows)\n"), h->more_rows);
		if (sb && sb->lines && sb->lines[i]) {
			kr_buf_adds(&b, "  ");
			s_add(&b, sb->lines[i], "");
			kr_buf_adds(&b, "\n");
		}
	}
	kr_buf_addf(&b, _("%s%zu hit(s)"), r->nhits ? "\n" : "", r->total);
	if (r->total > r->nhits + r->rows_folded)
		kr_buf_addf(&b, _(" (showing %zu; more with --limit)"), r->nhits);
	if (r->rows_folded)
		kr_buf_addf(&b, _(" (%zu more Q&A row(s) folded under their datasets; every row: --all-rows)"),
		    r->rows_folded);
	kr_buf_adds(&b, "\n");
	for (int f = 0; f < KR_NFACETS; f++) {
		if (!r->nfacets[f])
			continue;
		kr_buf_addf(&b, "  %s:", s_facet_names[f]);
		for (size_t i = 0; i < r->nfacets[f]; i++) {
			const char *name = f == KR_FACET_PREF ? kr_pref_name(r->facets[f][i].value) : NULL;
			kr_buf_adds(&b, i ? ", " : " ");
			s_add(&b, r->facets[f][i].value, "");
			if (name)
				kr_buf_addf(&b, " %s", name);
			kr_buf_addf(&b, " %zu", r->facets[f][i].count);
		}
		kr_buf_adds(&b, "\n");
	}
	if (sb && (sb->g.endorsed || sb->g.only_endorsed || sb->bv->federated))
		kr_buf_addf(&b, _("  board: ボード推奨 %zu, 未推奨 %zu\n"), sb->g.endorsed, sb->g.unendorsed);
	if (sb && sb->g.held)
		kr_buf_addf(&b, _("  (%zu match(es) held back: not endorsed by the board, and "
		    "policy.accept.require_endorsement = %s)\n"), sb->g.held,
		    kr_policy_get(sb->rules, "accept.require_endorsement"));
	if (r->nhits)
		kr_buf_adds(&b, _("open one with: kairan show ID\n"));
	fputs(b.ptr, stdout);
	kr_buf_release(&b);
}

/* The entry for (id, version, publisher), appended empty if new (*created set). */
static s_merged *
s_merge_find(s_merged **v, size_t *n, const char *id, const char *version, const char *pub, int *created)
{
	*created = 0;
	for (size_t i = 0; i < *n; i++)
		if (strcmp((*v)[i].id, id) == 0 && strcmp((*v)[i].version, version ? version : "") == 0 &&
		    strcmp((*v)[i].publisher, pub) == 0)
			return &(*v)[i];
	*v = kr_realloc(*v, (*n + 1) * sizeof(s_merged));
	memset(&(*v)[*n], 0, sizeof(s_merged));
	(*v)[*n].sources = (kr_buf)KR_BUF_INIT;
	*created = 1;
	return &(*v)[(*n)++];
}

static void
s_merged_clear(s_merged *x)
{
	free(x->id); free(x->title); free(x->pub_name); free(x->lg_code); free(x->kind);
	free(x->version); free(x->snippet); free(x->outcome); free(x->headline);
	free(x->updated);
	free(x->via_name);
	free(x->board);
	free(x->badge);
	kr_buf_release(&x->sources);
}

static void
s_merged_free(s_merged *m, size_t n)
{
	for (size_t i = 0; i < n; i++)
		s_merged_clear(&m[i]);
	free(m);
}

static int
s_merged_cmp(const void *a, const void *b)
{
	const s_merged *x = a, *y = b;

	return x->score < y->score ? 1 : x->score > y->score ? -1 : strcmp(x->id, y->id);
}

/*
 * Whether this node holds item id at version from publisher pub; if so,
 * fills x's display fields from what it holds (the peer's are not used).
 */
static int
s_verify_hit(kr_cli *c, s_merged *x, const char *id, const char *pub, const char *version)
{
	kr_state_item *it;
	size_t n;
	int found = 0;

	if (kr_state_item_find(c->h.state, id, &it, &n) < 0) {
		kr_error_clear();
		return 0;
	}
	for (size_t i = 0; i < n && !found; i++) {
		if (strcmp(it[i].publisher, pub) != 0 || !it[i].version || strcmp(it[i].version, version) != 0)
			continue;
		found = 1;
		x->title = kr_safe(it[i].title ? it[i].title : "");
		x->pub_name = kr_safe(it[i].pub_name);
		x->lg_code = kr_safe(it[i].pub_code);
		x->kind = kr_safe(it[i].kind);
	}
	kr_state_items_free(it, n);
	return found;
}

/* One peer's hit merged in: verified against this node, or kept as the peer's claim. */
static void
s_merge_peer_hit(kr_cli *c, s_merged **m, size_t *nm, const kr_wire_hit *h, size_t rank,
    const kr_state_peer *peer)
{
	char pub[KR_FPR_HEX + 1];
	s_merged *x;
	int created;

	kr_hex(pub, h->publisher, KR_FPR_LEN);
	x = s_merge_find(m, nm, h->id, h->version, pub, &created);
	if (created) {
		x->id = kr_strdup(h->id);
		x->version = kr_strdup(h->version);
		x->updated = kr_safe(h->updated);
		snprintf(x->publisher, sizeof(x->publisher), "%s", pub);
		if (!(x->verified = s_verify_hit(c, x, h->id, pub, h->version))) {
			/* the peer's claim, shown as such */
			x->title = kr_safe(h->title);
			x->pub_name = kr_safe(h->pub_name);
			x->lg_code = kr_safe(h->lg_code);
			x->kind = kr_safe(h->kind);
			x->snippet = kr_safe(h->snippet);
			x->outcome = kr_safe(h->outcome);
			x->headline = kr_safe(h->headline);
		}
	}
	if (!x->via) {
		x->via = peer->endpoint;
		x->via_name = kr_safe(peer->name);
	}
	x->score += 1.0 / (RRF_K + (double)rank + 1);
	kr_buf_adds(&x->sources, x->sources.len ? ", " : "");
	s_add(&x->sources, peer->name ? peer->name : peer->endpoint, "?");
}

static void
s_remote_json(kr_buf *out, const char *query, const s_merged *m, size_t nm, const kr_state_peer *peers,
    const kr_peer_answer *ans, size_t npeers)
{
	kr_buf_adds(out, "{");
	s_json_str(out, "query", query, 0);
	kr_buf_adds(out, ",\"hits\":[");
	for (size_t i = 0; i < nm; i++) {
		const s_merged *x = &m[i];
		kr_buf_adds(out, i ? ",{" : "{");
		s_json_str(out, "id", x->id, 0);
		s_json_str(out, "title", x->title, 1);
		kr_buf_addf(out, ",\"verified\":%s", x->verified ? "true" : "false");
		if (x->verified) {
			s_json_str(out, "publisher", x->publisher, 1);
			s_json_str(out, "publisher_name", x->pub_name, 1);
			s_json_str(out, "lg_code", x->lg_code, 1);
		} else {
			/* what the peer claims, under names no script takes for an attribution */
			s_json_str(out, "status", UNVERIFIED, 1);
			s_json_str(out, "claimed_publisher", x->publisher, 1);
			s_json_str(out, "claimed_publisher_name", x->pub_name, 1);
			s_json_str(out, "claimed_lg_code", x->lg_code, 1);
			s_json_str(out, "from_peer", x->via, 1);
			s_json_str(out, "from_peer_name", x->via_name, 1);
		}
		s_json_str(out, "kind", x->kind, 1);
		s_json_str(out, "version", x->version, 1);
		s_json_str(out, "outcome", x->outcome, 1);
		s_json_str(out, "headline", x->headline, 1);
		s_json_str(out, "snippet", x->snippet, 1);
		s_json_str(out, "sources", x->sources.ptr, 1);
		kr_buf_addf(out, ",\"local\":%s,\"score\":%.5f", x->local ? "true" : "false", x->score);
		if (x->board) {
			/* recomputed on this node from the endorsements it holds; a peer's word is never taken */
			kr_buf_addch(out, ',');
			kr_buf_adds(out, x->board);
		}
		if (!x->verified)
			s_json_str(out, "follow", x->via, 1);
		kr_buf_adds(out, "}");
	}
	kr_buf_adds(out, "],\"peers\":[");
	for (size_t p = 0; p < npeers; p++) {
		kr_buf_adds(out, p ? ",{" : "{");
		s_json_str(out, "endpoint", peers[p].endpoint, 0);
		s_json_str(out, "name", peers[p].name, 1);
		kr_buf_addf(out, ",\"answered\":%s,\"hits\":%zu,\"malformed_hits\":%zu,\"ms\":%.1f",
		    ans[p].answered ? "true" : "false", ans[p].answered ? ans[p].rep.nhits : 0,
		    ans[p].answered ? ans[p].rep.hits_dropped : 0, ans[p].ms);
		s_json_str(out, "error", ans[p].error, 1);
		kr_buf_adds(out, "}");
	}
	kr_buf_adds(out, "]}\n");
}

static void
s_remote_text(kr_buf *out, const s_merged *m, size_t nm, const kr_state_peer *peers,
    const kr_peer_answer *ans, size_t npeers, size_t answered, const s_board *sb)
{
	size_t unverified = 0;

	for (size_t i = 0; i < nm; i++) {
		const s_merged *x = &m[i];
		s_add(out, x->id, "?");
		kr_buf_adds(out, "  ");
		s_add(out, x->title, "");
		if (x->verified) {
			kr_buf_adds(out, "\n  ");
			s_add(out, x->pub_name, "?");
			kr_buf_adds(out, " (");
			s_add(out, x->lg_code, "?");
			kr_buf_adds(out, ") · ");
		} else {
			unverified++;
			kr_buf_addf(out, "\n  " UNVERIFIED ", from peer %s%s%s%s: not held on this node; the peer says: ",
			    x->via, x->via_name ? " (" : "", x->via_name ? x->via_name : "", x->via_name ? ")" : "");
			s_add(out, x->pub_name, "?");
			kr_buf_adds(out, " (");
			s_add(out, x->lg_code, "?");
			kr_buf_addf(out, _(", key %.16s…) · "), x->publisher);
		}
		s_add(out, x->kind, "?");
		kr_buf_adds(out, " ");
		s_add(out, x->version, "?");
		if (x->outcome && *x->outcome) {
			kr_buf_adds(out, " · ");
			s_add(out, x->outcome, "");
		}
		if (x->headline && *x->headline) {
			kr_buf_adds(out, " · ");
			s_add(out, x->headline, "");
		}
		if (x->snippet && *x->snippet) {
			kr_buf_adds(out, "\n  ");
			s_add(out, x->snippet, "");
		}
		kr_buf_addf(out, _("\n  from: %s\n"), x->sources.ptr);
		if (x->badge) {
			kr_buf_adds(out, "  [");
			s_add(out, x->badge, "");
			kr_buf_adds(out, "]\n");
		}
		if (!x->verified)
			kr_buf_addf(out, _("  not on this node; to get it: kairan follow %s --publisher %s\n"), x->via,
			    x->publisher);
	}
	kr_buf_addf(out, _("%s%zu hit(s); this node and %zu of %zu peer(s) answered\n"), nm ? "\n" : "", nm,
	    answered, npeers);
	if (unverified)
		kr_buf_addf(out, "%zu hit(s) " UNVERIFIED ": claims of the peer that sent them, not checked "
		    "against a signature held here\n", unverified);
	if (sb->g.held)
		kr_buf_addf(out, _("(%zu hit(s) held back: not endorsed by the board as this node sees it, and "
		    "policy.accept.require_endorsement = %s)\n"), sb->g.held,
		    kr_policy_get(sb->rules, "accept.require_endorsement"));
	for (size_t p = 0; p < npeers; p++) {
		kr_buf_addf(out, "  %s", peers[p].endpoint);
		if (peers[p].name) {
			kr_buf_adds(out, " (");
			s_add(out, peers[p].name, "");
			kr_buf_adds(out, ")");
		}
		if (ans[p].answered) {
			kr_buf_addf(out, _(": %zu hit(s) in %.0f ms"), ans[p].rep.nhits, ans[p].ms);
			if (ans[p].rep.hits_dropped)
				kr_buf_addf(out, _("; %zu malformed hit(s) left out"), ans[p].rep.hits_dropped);
			kr_buf_adds(out, "\n");
		} else {
			kr_buf_adds(out, _(": did not answer ("));
			s_add(out, ans[p].error, "?");
			kr_buf_adds(out, ")\n");
		}
	}
}

/*
 * --remote: the local answer and every peer's, merged by reciprocal rank
 * (score = sum of 1 / (60 + rank)), de-duplicated by (id, version,
 * publisher), each remote hit verified against this node.
 */
/*
 * The board on a merged answer, decided here: a verified hit gets the
 * verdict this node computes from the endorsements it holds (never the
 * peer's word); a version policy.accept.require_endorsement holds back is
 * left out, and so is an unverified hit of such a kind (nothing here can
 * show it endorsed), and with --endorsed anything not endorsed. A peer
 * hit updated after --until is left out too (the wire has no until).
 * Compacts m in place; returns the new count.
 */
static size_t
s_remote_board(kr_cli *c, s_board *sb, s_merged *m, size_t nm, const char *until)
{
	const kr_bview *bv = kr_bgate_view(&sb->g);
	size_t keep = 0;

	kr_error_clear();
	for (size_t i = 0; i < nm; i++) {
		s_merged *x = &m[i];
		char blob[KR_OID_HEX + 1];
		int drop = 0, board_kind = x->kind && kr_board_kind(x->kind);
		if (until && x->updated && *x->updated && strncmp(x->updated, until, 10) > 0) {
			drop = 1;
		} else if (x->verified && bv && !board_kind &&
		    kr_bgate_blob(c->h.state, x->id, x->publisher, x->version, blob)) {
			kr_board_verdict vd;
			kr_buf b = KR_BUF_INIT;
			kr_bview_verdict(bv, blob, &vd, NULL, NULL, NULL);
			if (kr_bgate_check(&sb->g, x->id, x->version, x->kind, blob) < 0) {
				kr_error_clear();
				sb->g.held++;
				drop = 1;
			} else if (sb->g.only_endorsed && !vd.endorsed) {
				drop = 1;
			} else {
				kr_buf_adds(&b, "\"board\":");
				kr_bview_json(bv, blob, &b);
				x->board = kr_buf_detach(&b);
				x->badge = kr_bview_badge(bv, blob);
			}
			kr_buf_release(&b);
		} else if (!board_kind && (kr_bgate_required(&sb->g, x->kind) || sb->g.only_endorsed)) {
			if (!sb->g.only_endorsed)
				sb->g.held++;
			drop = 1;
		}
		if (drop) {
			s_merged_clear(x);
			continue;
		}
		if (keep != i)
			m[keep] = *x;
		keep++;
	}
	return keep;
}

static int
s_search_remote(kr_cli *c, s_board *sb, const char *query, const char *const *fields,
    const kr_search_result *local, size_t limit, int deadline_ms, int json, const char *until)
{
	kr_state_peer *peers = NULL;
	size_t npeers = 0, nm = 0, answered = 0;
	char **eps;
	kr_peer_answer *ans;
	kr_request req = { .type = KR_REQ_SEARCH, .limit = (uint32_t)limit };
	s_merged *m = NULL;
	kr_buf out = KR_BUF_INIT;

	if (kr_state_peers(c->h.state, &peers, &npeers) < 0)
		return kr_cli_fail("search");
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
		int created;
		s_merged *x = s_merge_find(&m, &nm, h->id, h->version, h->publisher, &created);
		if (created) {
			x->id = kr_strdup(h->id);
			x->version = kr_strdup(h->version ? h->version : "");
			x->updated = kr_safe(h->updated);
			snprintf(x->publisher, sizeof(x->publisher), "%s", h->publisher);
			x->title = kr_safe(h->title); x->pub_name = kr_safe(h->pub_name);
			x->lg_code = kr_safe(h->pub_code); x->kind = kr_safe(h->kind);
			x->snippet = kr_safe(h->snippet); x->outcome = kr_safe(h->outcome);
			x->headline = kr_safe(h->headline);
		}
		x->local = x->verified = 1;
		x->score += 1.0 / (RRF_K + (double)r + 1);
		kr_buf_adds(&x->sources, _("this node"));
	}
	for (size_t p = 0; p < npeers; p++) {
		if (!ans[p].answered)
			continue;
		answered++;
		for (size_t r = 0; r < ans[p].rep.nhits; r++)
			s_merge_peer_hit(c, &m, &nm, &ans[p].rep.hits[r], r, &peers[p]);
	}
	nm = s_remote_board(c, sb, m, nm, until);
	if (nm)
		qsort(m, nm, sizeof(*m), s_merged_cmp);

	if (json)
		s_remote_json(&out, query, m, nm < limit ? nm : limit, peers, ans, npeers);
	else
		s_remote_text(&out, m, nm < limit ? nm : limit, peers, ans, npeers, answered, sb);
	fputs(out.ptr, stdout);
	s_merged_free(m, nm);
	kr_buf_release(&out);
	kr_peer_answers_free(ans, npeers);
	free(ans);
	free(eps);
	kr_state_peers_free(peers, npeers);
	return 0;
}

/*
 * Checks and normalises the filters of q (node/searchq.c, the same check
 * as the web's): closed vocabularies (with the nearest value for a slip),
 * the prefecture as number or name, the dates in any form kr_value_date
 * reads, the publisher's code. 2 (usage, the message printed) when one is
 * wrong, else 0.
 */
static int
s_check_filters(kr_search_q *q, kr_searchq_norm *norm, const char *raw_pub)
{
	if (kr_searchq_check(q, norm) < 0) {
		char *msg = kr_safe(kr_errmsg());
		fprintf(stderr, _("kairan: search: %s: %s\n"), kr_searchq_option(norm->param), msg);
		free(msg);
		return 2;
	}
	if (raw_pub && q->publisher == raw_pub) {
		/* not known here: a 全国地方公共団体コード with a wrong check digit is a typo, not a miss */
		char right[7];
		if (strlen(raw_pub) == 6 && strspn(raw_pub, "0123456789") == 6 && kr_lgcode_check(raw_pub, right) < 0) {
			char *msg = kr_safe(kr_errmsg());
			fprintf(stderr, _("kairan: search: --publisher %s\n"), msg);
			free(msg);
			return 2;
		}
		if (!(strlen(raw_pub) == 6 && strspn(raw_pub, "0123456789") == 6) &&
		    !(strlen(raw_pub) == KR_FPR_HEX && kr_is_hex(raw_pub, KR_FPR_HEX))) {
			char *shown = kr_safe(raw_pub);
			fprintf(stderr, _("kairan: search: --publisher '%s' is neither a 6-digit 全国地方公共団体コード "
			    "nor a publisher fingerprint (see: kairan status)\n"), shown);
			free(shown);
			return 2;
		}
	}
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
		{ "endorsed", no_argument, NULL, 'E' }, { "until", required_argument, NULL, 'U' },
		{ "all-rows", no_argument, NULL, 'A' },
		{ NULL, 0, NULL, 0 },
	};
	int remote = 0, deadline = 800;
	size_t limit_shown;
	const char *raw_pub = NULL;
	kr_search_q q = { .limit = 10 };
	kr_search_result r;
	kr_buf match = KR_BUF_INIT, query = KR_BUF_INIT;
	char pub[KR_FPR_HEX + 1];
	kr_searchq_norm norm = { 0 };
	int o, json = 0, rc = 0;
	s_board sb = { .rules = &c->h.cfg.rules };

	kr_bgate_init(&sb.g, c->h.home, c->h.state, c->h.store, &c->h.cfg.rules);
	sb.g.count = 1;

	optind = 0;
	while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (o) {
		case 'E': sb.g.only_endorsed = 1; break;
		case 'U': q.until = optarg; break;
		case 'A': q.rows_all = 1; break;
		case 'k': q.kind = optarg; break;
		case 'd': q.domain = optarg; break;
		case 'a': q.ai_use = optarg; break;
		case 'o': q.outcome = optarg; break;
		case 'm': q.deployment = optarg; break;
		case 'R': remote = 1; break;
		case 'D':
			deadline = atoi(optarg);
			if (deadline <= 0 || deadline > 60000) {
				fprintf(stderr, _("kairan: search: --deadline takes milliseconds (1 to 60000)\n"));
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
		case 'r': q.pref = optarg; break;
		case 'b': q.popband = optarg; break;
		case 's': q.since = optarg; break;
		case 'l':
			q.limit = strspn(optarg, "0123456789") == strlen(optarg) && strlen(optarg) <= 4 ?
			    (size_t)strtoul(optarg, NULL, 10) : 0;
			if (q.limit == 0 || q.limit > 1000) {
				fprintf(stderr, _("kairan: search: --limit takes 1 to 1000\n"));
				return 2;
			}
			break;
		case 'j': json = 1; break;
		case 'h': return printf(_("usage: kairan search QUERY [--kind K] [--domain D] [--ai-use U] "
		    "[--outcome O] [--deployment M] [--publisher FPR|CODE] [--pref NN|NAME] "
		    "[--population-band B] [--since DATE] [--until DATE] [--limit N] [--endorsed] [--all-rows] [--json]\n\n"
		    "Finds items held on this node. Words are ANDed; \"…\" is a phrase, -word excludes,\n"
		    "a OR b either. Any word length works (ごみ, AI); full-/half-width and\n"
		    "katakana/hiragana do not matter. Example: kairan search 'チャットボット 正答率' --outcome 見送り\n"
		    "--remote also asks every peer (each answers from its own index within --deadline MS,\n"
		    "default 800) and merges the answers by reciprocal rank.\n"
		    "Filters take the values of CONTENT.md (a near miss is named: --kind cases -> case);\n"
		    "--pref takes 37, 香川県 or 香川; --since and --until (updated on or after / on or before)\n"
		    "take 2024-07-01, 2024/7/1, 令和6年7月1日, R6.7.1 or full-width digits.\n"
		    "A Q&A dataset shows at most %d of its matching rows in the ranking, with the number of\n"
		    "the others (all are in the count and facets); --all-rows ranks every row.\n"
		    "--endorsed keeps only item versions the federation's board endorsed (≥ threshold board keys).\n"), KR_SEARCH_ROWS_SHOWN), 0;
		default: return kr_cli_usage("search");
		}
	}
	if (optind == argc)
		return kr_cli_usage("search");
	if (s_check_filters(&q, &norm, raw_pub)) {
		kr_searchq_norm_clear(&norm);
		return 2;
	}
	limit_shown = q.limit;
	for (int i = optind; i < argc; i++)
		kr_buf_addf(&query, "%s%s", i > optind ? " " : "", argv[i]);
	if (kr_search_compile(query.ptr, &match) < 0) {
		fprintf(stderr, _("kairan: search: %s\n"), kr_errmsg());
		kr_buf_release(&query);
		return 2;
	}
	q.match = match.ptr;
	sb.g.kind_asked = q.kind != NULL;
	if (!(sb.bv = kr_bgate_view(&sb.g))) {
		kr_buf_release(&match);
		kr_buf_release(&query);
		kr_searchq_norm_clear(&norm);
		return kr_cli_fail("search");
	}
	/* always: the counts in --json are the same as /api/search's (one document, node/web_api.c) */
	kr_bgate_attach(&sb.g, &q);
	if (remote) /* every node compiles the query itself; local ranks count fully */
		q.limit = q.limit < 50 ? 50 : q.limit;
	if (kr_state_search(c->h.state, &q, &r) < 0) {
		rc = kr_cli_fail("search");
		kr_bgate_free(&sb.g);
	} else {
		if (remote) {
			const char *fields[KR_SEARCH_FIELDS] = { NULL, q.kind, q.domain, q.ai_use, q.outcome,
				q.deployment, raw_pub, q.pref, q.popband, q.since };
			rc = s_search_remote(c, &sb, query.ptr, fields, &r, limit_shown, deadline, json, q.until);
		} else if (json) {
			char **extra = kr_bgate_hits_json(&sb.g, &r), *doc = kr_bgate_summary_json(&sb.g);
			kr_buf b = KR_BUF_INIT;
			kr_search_result_json(&b, &r, query.ptr, extra, doc, NULL, NULL);
			fputs(b.ptr, stdout);
			kr_buf_release(&b);
			kr_strv_free(extra, r.nhits);
			free(doc);
		} else {
			s_board_lines(c, &sb, &r);
			s_print_text(&r, &sb);
		}
		s_board_free(&sb, r.nhits);
		kr_search_result_free(&r);
	}
	kr_buf_release(&match);
	kr_buf_release(&query);
	kr_searchq_norm_clear(&norm);
	return rc;
}

static void
s_problem(const char *msg, void *arg)
{
	char *shown = kr_safe(msg); /* names items and quotes their content */

	kr_progress_view_finish(arg); /* on a line of its own */
	fprintf(stderr, _("kairan: reindex: %s\n"), shown);
	free(shown);
}

int
cmd_reindex(kr_cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "progress", no_argument, NULL, 'p' }, { "no-progress", no_argument, NULL, 'P' },
		{ "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 },
	};
	kr_progress_view view;
	size_t colls, items;
	int o, progress = 0, rc;

	optind = 0;
	while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (o) {
		case 'p': progress = 1; break;
		case 'P': progress = -1; break;
		case 'h': return printf(_("usage: kairan reindex [--[no-]progress]\n\nRebuilds the item index (and "
		    "search) of every collection from its git history. On a terminal, checking the files and "
		    "indexing the items show their progress on stderr after a second; --progress shows it "
		    "anywhere, --no-progress nowhere.\n")), 0;
		default: return kr_cli_usage("reindex");
		}
	}
	if (optind != argc)
		return kr_cli_usage("reindex");
	kr_progress_view_init(&view, progress);
	c->h.rep.progress = kr_progress_view_show;
	c->h.rep.progress_arg = &view;
	rc = kr_replica_reindex(&c->h.rep, s_problem, &view, &colls, &items);
	kr_progress_view_finish(&view);
	c->h.rep.progress = NULL;
	if (rc < 0)
		return kr_cli_fail("reindex");
	printf(_("reindexed %zu item(s) in %zu collection(s)\n"), items, colls);
	return 0;
}
