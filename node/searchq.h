/*
 * node/searchq.h - the filters of a search, checked the same way on every
 * path (kairan search, the web search page, /api/search)
 *
 * Closed vocabularies with the near miss named (cases -> case, 子育て ->
 * 子ども・子育て), the prefecture as 37, ３７, 香川県 or 香川, dates (since,
 * until) in every form kr_value_date reads (2024-07-01, 2024/7/1,
 * 令和6年7月1日, R6.7.1, full-width digits). Nothing is silently ignored:
 * a wrong value is an error naming the filter, the value and, when one is
 * near, the value meant. No I/O; any thread.
 */
#ifndef KR_NODE_SEARCHQ_H
#define KR_NODE_SEARCHQ_H

#include "../sharing/state.h"

typedef struct {
	char pref[3], since[11], until[11];     /* normalised values q points into */
	/* on error: */
	const char *param;              /* the filter's parameter name: kind, domain, pref, since, until, … */
	char *value;                    /* as given */
	const char *suggestion;         /* the value meant (static), or NULL */
	char *ja;                       /* the message in Japanese, for the pages */
} kr_searchq_norm;

/*
 * Checks q's filters and points q->pref, q->since and q->until at their
 * normalised forms in n. 0, or KR_EUSAGE with the English message set
 * (kr_errmsg) and n's error fields filled. Call kr_searchq_norm_clear after.
 */
int kr_searchq_check(kr_search_q *q, kr_searchq_norm *n);
void kr_searchq_norm_clear(kr_searchq_norm *n);

/* The command-line option of a parameter name ("popband" -> "--population-band"). */
const char *kr_searchq_option(const char *param);

#endif
