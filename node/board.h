/*
 * node/board.h - what the board did, as this node holds it
 *
 * A kr_bview is read from the node's own and mirrored collections of the
 * board kinds (endorsements, consultations, answers, adoptions) and its
 * federation chain: every item parsed once (policies/board.c), every
 * endorser's standing decided once (sharing/board.c). show, search,
 * status, the board commands and the web pages ask it questions. Built
 * per command or per request; owns everything it holds. One per thread.
 */
#ifndef KR_NODE_BOARD_H
#define KR_NODE_BOARD_H

#include <stdatomic.h>
#include "../policies/board.h"
#include "../policies/policy.h"
#include "../sharing/board.h"
#include "../sharing/state.h"
#include "../sharing/store.h"

typedef struct {
	kr_board_rec r;
	char *publisher, *collection, *path, *blob, *commit;
	char *order;                    /* "updated synced": later sorts higher */
	int standing;                   /* KR_BOARD_* of the publisher's key */
	uint8_t canon[KR_FPR_LEN];
} kr_bview_item;

typedef struct {
	int federated;                  /* a membership chain is installed */
	uint32_t threshold;
	size_t nboard;
	char *fed_name;
	int own_standing;               /* this node's key */
	kr_bview_item *v;
	size_t n;
	char today[11];
	char idle_before[11];           /* a consultation last touched before this day is 期限切れ */
} kr_bview;

/* Reads everything; an unreadable item is skipped (the index says it exists, git decides). */
int kr_bview_load(kr_bview *bv, const char *home, kr_state *st, kr_store *store, const char *own_fpr);
void kr_bview_free(kr_bview *bv);

/*
 * The board's verdict on one item version (blob, 40 hex). idx (may be
 * NULL; caller frees) receives the indexes of its endorsements in bv->v.
 */
void kr_bview_verdict(const kr_bview *bv, const char *blob, kr_board_verdict *out,
    size_t **idx, size_t *nidx, kr_board_vote **votes);
/* "ボード推奨 2/2", "ボード条件付き推奨 2/2", "ボード注意 2/2" or NULL when none. */
char *kr_bview_badge(const kr_bview *bv, const char *blob);
/*
 * 1 when policy.accept.require_endorsement names kind and the board has
 * not endorsed blob: the item is kept but held back from search and show.
 */
int kr_bview_held(const kr_bview *bv, const kr_policy_rules *rules, const char *kind, const char *blob);

/* Latest adoption report per municipality on item_id: counts[0..2] by 検討中, 採用, 不採用. */
size_t kr_bview_adoptions(const kr_bview *bv, const char *item_id, size_t counts[3], size_t **idx);

/* An item of the view by id (NULL: none). */
const kr_bview_item *kr_bview_find(const kr_bview *bv, const char *kind, const char *id);
/*
 * A consultation's state as DESIGN §7 says (the asker's field and the
 * board's answers and acceptances); *accepted is the accepted answer, if
 * this node holds it.
 */
const char *kr_bview_consult_state(const kr_bview *bv, const kr_bview_item *c, const kr_bview_item **accepted);
/*
 * 1 when item x is an open consultation (受付 or 回答済 by
 * kr_bview_consult_state): the one test of "open" for status and the web
 * pages. *state (may be NULL) receives the state of a consultation.
 */
int kr_bview_consult_open(const kr_bview *bv, const kr_bview_item *x, const char **state);
/* 1 when the answer's review_by date has passed (要見直し). */
int kr_bview_needs_review(const kr_bview *bv, const kr_bview_item *a);

/*
 * What show and the web page say about an item version: each endorsement
 * (who, verdict, conditions, whether it counts), the board verdict, and
 * the adoption counts with every report's note. Plain text lines; empty
 * when the board said nothing about it.
 */
void kr_bview_describe(const kr_bview *bv, const char *item_id, const char *blob, kr_buf *out);

/*
 * The board as a gate and a filter for every path that shows or serves
 * items: show, search (kr_bgate_keep as kr_search_q.keep), the web pages
 * and endpoints (pages, /api, CKAN, Dify retrieval), the answers to peers'
 * searches. policy.accept.require_endorsement holds back an unendorsed
 * version of a kind it names; only_endorsed (--endorsed) keeps endorsed
 * versions only. The view is read when first needed, so a node without the
 * policy pays nothing. Not shared between threads, except kr_bgate_keep
 * after kr_bgate_attach.
 */
typedef struct {
	const char *home;
	kr_state *st;
	kr_store *store;
	const kr_policy_rules *rules;   /* NULL: nothing required */
	int only_endorsed;              /* in: keep only endorsed versions (board kinds aside) */
	int count;                      /* in: count endorsed/unendorsed even without a need to filter */
	int kind_asked;                 /* in: the search names a kind: endorsements and adoptions are hits */
	_Atomic size_t endorsed, unendorsed, held;      /* out: what kr_bgate_keep saw */
	kr_bview bv;
	int loaded, failed;
	/* kr_bgate_attach's: the blobs endorsements name, sorted, each with its verdict */
	char **eblob;
	unsigned char *eok;
	size_t neb;
	int none_ok, indexed;
} kr_bgate;

void kr_bgate_init(kr_bgate *g, const char *home, kr_state *st, kr_store *store, const kr_policy_rules *rules);
void kr_bgate_free(kr_bgate *g);
/* The view, read now if not yet; NULL (error set) when it cannot be read. */
const kr_bview *kr_bgate_view(kr_bgate *g);
/* 1 when policy.accept.require_endorsement names kind (a content kind, not a board one). */
int kr_bgate_required(const kr_bgate *g, const char *kind);
/*
 * 0 when this version may be shown; KR_EPOLICY with a message in Japanese
 * (what is held back, why, how many endorsed it) when it is held back.
 */
int kr_bgate_check(kr_bgate *g, const char *id, const char *version, const char *kind, const char *blob);
/* A kr_search_q.keep callback (arg: the kr_bgate); counts what it keeps and holds back. */
int kr_bgate_keep(void *arg, int64_t n, const char *pub, const char *kind, const char *blob);
/*
 * Makes g q's keep (kr_bgate_keep): reads the view now if a row may need
 * it, and indexes the verdict of every blob an endorsement names, so a
 * row costs a binary search and the search may call it from two threads
 * at once (kr_search_q.keep_threads). Its error, if the view cannot be
 * read, is kr_bgate_keep's to handle, as before.
 */
void kr_bgate_attach(kr_bgate *g, kr_search_q *q);
/* The blob (hex) of id from publisher (at version, NULL: any) as this node holds it: 1, else 0. */
int kr_bgate_blob(kr_state *st, const char *id, const char *publisher, const char *version,
    char blob[KR_OID_HEX + 1]);
/*
 * The JSON "board" object for a version, the words of show: {"label":
 * "ボードの判定", "verdict": 推奨|条件付き推奨|注意|未推奨, "badge", "endorsed",
 * "positive", "caution", "threshold", "endorsements": [{verdict, by, state:
 * 有効|期限切れ|数えない|置き換え, expired, counted, ...}]}.
 */
void kr_bview_json(const kr_bview *bv, const char *blob, kr_buf *out);

/*
 * Per hit of r (r->nhits entries, NULL where none; kr_strv_free): JSON
 * members `"board":{kr_bview_json},"adoptions":{...}` for
 * kr_search_result_json, the verdict recomputed from what this node holds.
 */
char **kr_bgate_hits_json(kr_bgate *g, const kr_search_result *r);
/* `"board":{"endorsed":N,"unendorsed":N,"held":N,"require_endorsement":"…"}` (caller frees). */
char *kr_bgate_summary_json(kr_bgate *g);

#endif
