/*
 * node/webdata.h - what the pages and endpoints read, composed from
 * sharing/ and policies/: an item with its front matter, its versions,
 * a dataset's rows and exports, a publisher's freshness, labels in
 * Japanese
 *
 * Everything here reads through the calling thread's kr_web_ctx handles;
 * nothing writes. Strings returned in structs are owned by the struct.
 */
#ifndef KR_WEBDATA_H
#define KR_WEBDATA_H

#include "../policies/frontmatter.h"
#include "webapp.h"

/* An item as this node holds it: the newest of its rows, its text and front matter. */
typedef struct {
	kr_state_item *items;          /* kr_state_item_find, newest first */
	size_t nitems;
	const kr_state_item *it;       /* items[0] */
	kr_buf text;                   /* the file exactly as signed */
	kr_yaml *fm;                   /* NULL if the front matter does not parse */
	const char *body;              /* Markdown after the front matter (into text) */
	size_t body_len;
} kr_web_item;

/*
 * KR_ENOTFOUND when the id is not held here; KR_EPOLICY (a message in
 * Japanese) when policy.accept.require_endorsement holds this version back.
 */
int kr_web_item_load(kr_web_ctx *c, const char *id, kr_web_item *out);
/* 0, or KR_EPOLICY when policy.accept.require_endorsement holds this version back (node/board.h). */
int kr_web_held(kr_web_ctx *c, const kr_state_item *it);
void kr_web_item_free(kr_web_item *x);

/*
 * A row of a dataset's data file as the search index holds it
 * ("DATASET-ID#ROW", kr_state_item_put): the dataset's card and the row's
 * fields. file, when set, keeps the last data file read across calls (a
 * result page often holds several rows of one file); free it with
 * kr_buf_release(&file->text) and free(file->key). KR_ENOTFOUND when the
 * row is not held here.
 */
typedef struct {
	kr_web_item ds;                /* the dataset's card */
	char *row_id, *question, *answer, *alt_questions, *keywords; /* lists "\n"-joined, "" if none */
	char *category, *issuer, *source_title, *updated;             /* NULL if none */
} kr_web_row;

typedef struct {
	char *key;
	kr_buf text;
} kr_web_rowfile;

int kr_web_row_load(kr_web_ctx *c, const char *id, kr_web_rowfile *file, kr_web_row *out);
void kr_web_row_free(kr_web_row *x);

/* One version of an item's file (newest first). */
typedef struct {
	char commit[KR_OID_HEX + 1], blob[KR_OID_HEX + 1];
	int64_t time;                  /* commit time */
	int present;                   /* 0: the file was absent (withdrawn) at this commit */
	char *version, *edition, *updated, *notes;
} kr_web_version;

#define KR_WEB_MAX_VERSIONS 200

/*
 * The versions of it's file, newest first. Walking a collection's history
 * loads every commit's tree (megabytes for 100,000 cases), so the answer
 * is kept in c->memo under the blob and commit of it's index row: the
 * history of a path changes only when the path does, and the row then
 * names another blob or commit (a later commit to other paths keeps it).
 */
int kr_web_history(kr_web_ctx *c, const kr_state_item *it, kr_web_version **out, size_t *n);
void kr_web_versions_free(kr_web_version *v, size_t n);
/*
 * Records the versions of every path of the content collections held, in
 * c->memo, while there is room (a few collections), so that the first
 * open of an item reads its 版の履歴 from there instead of walking its
 * collection's history. Run by the web's refresher thread at start.
 */
void kr_web_history_warm(kr_web_ctx *c);
/* A collection's head commit and its signature as checked (SSHSIG by the publisher's key). */
typedef struct {
	int seen;                      /* 0: no head (nothing published yet) */
	int ok;                        /* the signature verifies */
	char oid[KR_OID_HEX + 1];
	int64_t time;
} kr_web_headsig;

/* Checked once per head in c->memo: a commit's signature never changes. */
void kr_web_head_signature(kr_web_ctx *c, const char *pub, const char *coll, kr_web_headsig *out);

/* The file as it was in version v. */
int kr_web_version_text(kr_web_ctx *c, const kr_state_item *it, const kr_web_version *v, kr_buf *out);

/*
 * 出典 line: 「出典：三豊市「…」（第2版）、CC-BY-4.0」, marking derived
 * content; with_version 0 gives exactly the line `kairan export` writes
 * for a dataset's rows.
 */
char *kr_web_attribution(const kr_yaml *fm, const char *fallback_name, int with_version);
/* A case's headline metric, "正答率 94.1% / 目標 99%" (NULL: none). */
char *kr_web_headline(const kr_yaml *fm);

/* Export formats of a dataset, as `kairan export` writes them. */
typedef struct {
	const char *name;              /* jsonl, dify-csv, langchain */
	const char *label;             /* Japanese */
	const char *type;              /* Content-Type */
	const char *suffix;            /* file name ending */
	const char *ckan_format;       /* CKAN/DCAT format name */
} kr_web_format;

extern const kr_web_format kr_web_formats[3];
const kr_web_format *kr_web_format_find(const char *name);

/* The rows of a dataset (every .jsonl file under data/, in path order, concatenated). */
int kr_web_dataset_jsonl(kr_web_ctx *c, const kr_state_item *it, kr_buf *out);
/* The dataset exported as format; *rows counts the rows written. */
int kr_web_export(kr_web_ctx *c, const kr_web_item *x, const kr_web_format *f, kr_buf *out, size_t *rows);
/* Size and SHA-256 (hex) of that export, cached per thread by commit. */
int kr_web_export_digest(kr_web_ctx *c, const kr_web_item *x, const kr_web_format *f, size_t *size,
    char sha256[65], size_t *rows);

/* What this node knows of a publisher's manifest. */
typedef struct {
	int known, stale;
	uint64_t seq;
	int64_t issued, expires, received;
	char *name, *lg_code, *peer;
} kr_web_fresh;

void kr_web_freshness(kr_web_ctx *c, const char *publisher, kr_web_fresh *f);
void kr_web_fresh_clear(kr_web_fresh *f);

/* Japanese names: kinds, front-matter keys. Unknown values come back as given. */
const char *kr_web_kind_label(const char *kind);
const char *kr_web_key_label(const char *key);

/* "2024-06-01 10:00 UTC" */
void kr_web_time(char out[32], int64_t t);
/* A stable UUID (RFC 9562 version 8, from SHA-256) naming s, for CKAN ids. */
void kr_web_uuid(char out[37], const char *s);

#endif
