/*
 * policies/item.h - what an item is and whether it may be published or accepted
 *
 * The same checks run when a node publishes and when it receives (defence
 * in depth): envelope fields of CONTENT.md, the publisher's own
 * 全国地方公共団体コード, only 機密性1, never a draft, a licence from the
 * closed list, size caps. Every problem becomes a finding naming file,
 * line, rule and the fix; nothing is written while a blocking finding
 * exists. Later per-kind schemas and the PII scan add findings here.
 */
#ifndef KR_ITEM_H
#define KR_ITEM_H

#include "../sharing/common.h"

typedef struct {
	char *file;
	int line;               /* 0: the whole file */
	char *rule;             /* e.g. "confidentiality" */
	char *message;
	int block;              /* 1 refuses, 0 warns */
} kr_finding;

struct kr_policy_rules;

/*
 * Findings are capped per file: after KR_FINDINGS_PER_FILE findings in a
 * row for one file, further ones only count in one last finding of rule
 * KR_FINDINGS_MORE ("… and N more"), which blocks if any of them does.
 * So whatever a file holds, its findings take bounded memory. Zero-
 * initialise; free with kr_findings_clear.
 */
#define KR_FINDINGS_PER_FILE 100
#define KR_FINDINGS_MORE "findings"

typedef struct {
	kr_finding *v;
	size_t n, cap;
	/* kept by kr_findings_add */
	size_t run;             /* first finding of the last file's run */
	size_t more_at;         /* 1 + index of that run's KR_FINDINGS_MORE finding, 0: none */
	size_t more;            /* how many findings it stands for */
	/* while set, pii.* findings take their level (block, warn, off) from it */
	const struct kr_policy_rules *levels;
} kr_findings;

/* Adds a finding; fmt is a msgid (translated before it is formatted). */
void kr_findings_add(kr_findings *f, const char *file, int line, int block,
    const char *rule, const char *fmt, ...) __attribute__((format(printf, 6, 7)));
size_t kr_findings_blocking(const kr_findings *f);
void kr_findings_clear(kr_findings *f);

typedef struct {
	char *kind, *id, *slug, *title, *version, *published, *updated;
	char *lg_code, *pub_name;
	char *collection;       /* cases, prompts, guidelines, datasets */
	char *path;             /* where it lives in the collection */
	/* for search: text and facets */
	char *body;             /* Markdown after the front matter */
	char *meta;             /* searchable front-matter values, one per line */
	char *domains, *ai_uses;/* "\n"-delimited with a leading and trailing "\n" */
	char *outcome, *deployment, *popband, *headline;
	char *notes;            /* version_notes (NULL: none) */
} kr_item;

/* What a node publishes on purpose: not personal information (see pii.h). */
typedef struct {
	const char *phones;     /* comma-separated, any formatting: "0875-73-3011, 0875-73-3012" */
	const char *addresses;  /* comma-separated substrings: "高瀬町下勝間2373-1" */
} kr_pii_allow;

typedef struct {
	const char *lg_code;    /* the publisher's own code */
	size_t max_item_bytes;  /* per file; 0: from the rules */
	const kr_pii_allow *pii;/* the node's allow-lists (NULL: none) */
	const struct kr_policy_rules *rules; /* policies/policy.h (NULL: the defaults) */
	int receiving;          /* checking what a peer sent, not what we publish */
} kr_policy;

#define KR_DEFAULT_MAX_ITEM (1u << 20)

/*
 * Checks a Markdown item. set_hint names the prompt set when the front
 * matter has no `set:` (the directory the file came from). Returns 0 when
 * there is no blocking finding, KR_EPOLICY otherwise; fills *out either way
 * as far as the fields allow.
 */
int kr_item_check(kr_item *out, const kr_policy *pol, const char *file,
    const char *text, size_t len, const char *set_hint, kr_findings *f);

/*
 * Checks a file received at path in collection coll: it must be an item at
 * the path its front matter implies, or a dataset's JSONL data file.
 * out->id is NULL for a data file.
 */
int kr_item_check_received(kr_item *out, const kr_policy *pol, const char *coll,
    const char *path, const char *data, size_t len, kr_findings *f);

void kr_item_clear(kr_item *it);

/*
 * Checks value against the closed vocabulary (CONTENT.md) of field:
 * "kind", "domain", "ai_use", "outcome", "deployment", "stage" or
 * "popband" (any other field is a programming error). 0 when allowed;
 * KR_EUSAGE naming the nearest value when it looks like a slip
 * ("cases" -> case, "子育て" -> 子ども・子育て) and the allowed values.
 */
int kr_vocab_check(const char *field, const char *value);
/* The allowed value of field nearest to value (a slip), or NULL when none is near or value is allowed. */
const char *kr_vocab_nearest(const char *field, const char *value);
struct kr_yaml;
/*
 * For the per-kind rules of other files (policies/board.c): field of fm
 * must hold values of allowed (a list when list is set); a finding names
 * the allowed values and the nearest one.
 */
void kr_item_vocab(const struct kr_yaml *fm, const char *field, int required, int list,
    const char *const *allowed, size_t n, const char *file, kr_findings *f);
/* 1 if s is an ISO date YYYY-MM-DD that exists. */
int kr_date_valid(const char *s);

/* Collection for a kind ("case" -> "cases"), NULL for an unknown kind. */
const char *kr_kind_collection(const char *kind);

/*
 * Validates a six-digit 全国地方公共団体コード. On a wrong check digit, right
 * receives the code with the correct digit. 0 valid, KR_EPOLICY otherwise
 * (message says why).
 */
int kr_lgcode_check(const char *code, char right[7]);

/*
 * Licences: the SPDX id kairan records (PDL-1.0, CC-BY-4.0, CC0-1.0) for a
 * card's license (and license_name when license is the Hub's "other"),
 * accepting the Hugging Face Hub's lower-case ids; NULL if unknown.
 * kr_license_hub gives the Hub's form back: hub id, license_name (NULL
 * unless hub is "other") and the licence's address.
 */
const char *kr_license_spdx(const char *license, const char *license_name);
int kr_license_hub(const char *spdx, const char **hub, const char **name, const char **link);

#endif
