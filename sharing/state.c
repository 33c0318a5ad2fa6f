/*
 * sharing/state.c - SQLite state (the only file that includes sqlite3.h)
 *
 * Migrations are append-only: s_migrations[i] takes user_version i to i+1.
 * Every statement binds its values with s_bind()'s little type string
 * ("s" text, "I" int64, "b" blob as pointer + length, "n" NULL), so no value
 * is ever spliced into SQL text.
 *
 * items.body is kept deflated (s_body_pack; a short or incompressible
 * body stays text), with the home's preset dictionary once it has one
 * (body_dicts, s_body_dict_make): the view items_text gives it back as
 * text through kr_text(), and the search index (external content, the
 * body its first column) reads its text there (zlib through zip.c).
 */
#include "state.h"

#include <math.h>
#include <stdatomic.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "sqlitedl.h"

#include "searchcols.h"
#include "text.h"
#include "zip.h"

/* rows of a search waiting for their IDFs (s_collect's defer), kept for the next search */
typedef struct {
	int64_t *n;
	double *g;
	size_t cap, gcap;
} s_waitbuf;

typedef struct {
	uint32_t id;                            /* its Adler-32, which a stream names it by */
	kr_buf d;
} s_dict;

struct kr_state {
	sqlite3 *db;
	char *path;
	sqlite3_stmt *item_put, *item_delete;   /* hot during a large apply */
	int created;                            /* this open made the schema from nothing */
	kr_scols *scols;                        /* search filter/facet columns, see s_scols_fresh */
	int64_t scols_dv, scols_tc;             /* data_version and total_changes it was built at */
	int searched;                           /* a search ran on this connection */
	const struct s_pretok *pre;             /* the row being written's tokens, see kr_state_items_put */
	void (*rows_cb)(void *arg, size_t done, size_t n); /* kr_state_on_rows */
	void *rows_arg;
	/* bm25's n(q) of phrases already counted, as of scols_dv/scols_tc (see s_df_get) */
	char **df_key;
	int64_t *df_n;
	size_t df_len;
	int64_t df_dv, df_tc;
	s_waitbuf wait[2];                      /* the search's halves (see kr_state_search) */
	/*
	 * A search of many rows runs in two halves, the rows from split_mid
	 * on in a thread on a second, read-only connection (aux) at the same
	 * snapshot; split_min: the rows needed for it, 0 never.
	 */
	sqlite3 *aux;
	size_t split_min, scols_rows;
	int64_t split_mid;
	long long mmap_bytes;                   /* kr_state_bound_memory's, for aux too */
	int cache_kb, bounded;
	/*
	 * item bodies' preset dictionaries (table body_dicts), as read so far;
	 * dict_cur: the one new bodies are deflated with (the oldest), -1
	 * none, -2 not looked up in this transaction (s_body_dict)
	 */
	s_dict *dicts;
	size_t ndicts;
	int dict_cur;
	kr_deflater zip;                        /* for bodies written one at a time */
};

/*
 * The search index rebuilt as a first sync builds it (kr_state_items_put):
 * no merging while written, one merge at the end, FTS5's defaults after.
 */
#define FTS_REBUILD \
	"INSERT INTO items_fts(items_fts, rank) VALUES ('automerge', 0);" \
	"INSERT INTO items_fts(items_fts, rank) VALUES ('crisismerge', 1000);" \
	"INSERT INTO items_fts(items_fts) VALUES ('rebuild');" \
	"INSERT INTO items_fts(items_fts) VALUES ('optimize');" \
	"INSERT INTO items_fts(items_fts, rank) VALUES ('automerge', 4);" \
	"INSERT INTO items_fts(items_fts, rank) VALUES ('crisismerge', 16);"

static const char *const s_migrations[] = {
	/* 0 -> 1: the spine */
	"CREATE TABLE peers ("
	"  endpoint TEXT PRIMARY KEY,"
	"  added INTEGER NOT NULL,"
	"  node TEXT, name TEXT, announce TEXT,"
	"  last_ok INTEGER, last_error TEXT, last_error_at INTEGER);"
	"CREATE TABLE follows ("
	"  endpoint TEXT NOT NULL REFERENCES peers(endpoint) ON DELETE CASCADE,"
	"  publisher TEXT NOT NULL,"
	"  PRIMARY KEY (endpoint, publisher));"
	"CREATE TABLE manifests ("
	"  publisher TEXT PRIMARY KEY,"
	"  seq INTEGER NOT NULL,"
	"  issued INTEGER NOT NULL,"
	"  expires INTEGER NOT NULL,"
	"  name TEXT NOT NULL, lg_code TEXT NOT NULL,"
	"  signed BLOB NOT NULL,"
	"  received INTEGER NOT NULL,"
	"  peer TEXT);"
	"CREATE TABLE heads ("
	"  publisher TEXT NOT NULL,"
	"  collection TEXT NOT NULL,"
	"  commit_id TEXT NOT NULL,"
	"  size INTEGER NOT NULL,"
	"  synced INTEGER NOT NULL,"
	"  PRIMARY KEY (publisher, collection));"
	"CREATE TABLE items ("
	"  publisher TEXT NOT NULL,"
	"  collection TEXT NOT NULL,"
	"  path TEXT NOT NULL,"
	"  id TEXT NOT NULL,"
	"  kind TEXT NOT NULL,"
	"  title TEXT NOT NULL,"
	"  version TEXT NOT NULL,"
	"  updated TEXT,"
	"  blob TEXT NOT NULL,"
	"  commit_id TEXT NOT NULL,"
	"  PRIMARY KEY (publisher, collection, path));"
	"CREATE INDEX items_by_id ON items(id);"
	"CREATE TABLE quarantine ("
	"  n INTEGER PRIMARY KEY,"
	"  at INTEGER NOT NULL,"
	"  publisher TEXT, peer TEXT, collection TEXT, seq INTEGER,"
	"  reason TEXT NOT NULL);",
	/*
	 * 1 -> 2: search. items gets a stable integer key (external-content
	 * FTS5 refers to it), the searchable text and facet columns; the FTS
	 * index follows items through triggers. Rows are rebuilt from git.
	 */
	"CREATE TABLE items2 ("
	"  n INTEGER PRIMARY KEY,"
	"  publisher TEXT NOT NULL, collection TEXT NOT NULL, path TEXT NOT NULL,"
	"  id TEXT NOT NULL, kind TEXT NOT NULL, title TEXT NOT NULL, version TEXT NOT NULL,"
	"  updated TEXT, blob TEXT NOT NULL, commit_id TEXT NOT NULL,"
	"  body TEXT NOT NULL DEFAULT '', meta TEXT NOT NULL DEFAULT '',"
	"  lg_code TEXT, pref TEXT, domains TEXT, ai_uses TEXT, outcome TEXT, deployment TEXT,"
	"  popband TEXT, published TEXT, headline TEXT,"
	"  UNIQUE (publisher, collection, path));"
	"DROP TABLE items;"
	"ALTER TABLE items2 RENAME TO items;"
	"CREATE INDEX items_by_id ON items(id);"
	"CREATE VIRTUAL TABLE items_fts USING fts5(title, body, meta, content='items', "
	"  content_rowid='n', tokenize='kairan');"
	"CREATE TRIGGER items_fts_ai AFTER INSERT ON items BEGIN"
	"  INSERT INTO items_fts(rowid, title, body, meta) VALUES (new.n, new.title, new.body, new.meta);"
	"END;"
	"CREATE TRIGGER items_fts_ad AFTER DELETE ON items BEGIN"
	"  INSERT INTO items_fts(items_fts, rowid, title, body, meta)"
	"  VALUES ('delete', old.n, old.title, old.body, old.meta);"
	"END;"
	"CREATE TRIGGER items_fts_au AFTER UPDATE ON items BEGIN"
	"  INSERT INTO items_fts(items_fts, rowid, title, body, meta)"
	"  VALUES ('delete', old.n, old.title, old.body, old.meta);"
	"  INSERT INTO items_fts(rowid, title, body, meta) VALUES (new.n, new.title, new.body, new.meta);"
	"END;"
	"CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT);"
	"INSERT INTO settings VALUES ('reindex', '1');",
	/* 2 -> 3: separators take a token position; re-tokenise the index */
	"INSERT INTO items_fts(items_fts) VALUES ('rebuild');",
	/*
	 * 3 -> 4: bounded quarantine. One row per (peer, publisher, reason
	 * key) with a count and the first and last time seen (the key is the
	 * reason with its numbers and ids blanked, see s_reason_key); at most
	 * KR_QUARANTINE_MAX rows. rejected remembers, per publisher and peer,
	 * the last KR_REJECTED_KEEP signed manifests refused after their packs
	 * were fetched, so the same manifest is not fetched again from that peer.
	 */
	"CREATE TABLE quarantine2 ("
	"  n INTEGER PRIMARY KEY,"
	"  at INTEGER NOT NULL, last_at INTEGER NOT NULL, count INTEGER NOT NULL,"
	"  publisher TEXT, peer TEXT, collection TEXT, seq INTEGER,"
	"  reason TEXT NOT NULL, key TEXT NOT NULL);"
	"INSERT INTO quarantine2 (at, last_at, count, publisher, peer, collection, seq, reason, key)"
	"  SELECT min(at), max(at), count(*), publisher, peer, max(collection), max(seq), reason, reason"
	"  FROM quarantine GROUP BY publisher, peer, reason ORDER BY max(n);"
	"DROP TABLE quarantine;"
	"ALTER TABLE quarantine2 RENAME TO quarantine;"
	"CREATE UNIQUE INDEX quarantine_by_key ON quarantine(coalesce(peer, ''), coalesce(publisher, ''), key);"
	"CREATE INDEX quarantine_by_last ON quarantine(last_at);"
	"CREATE TABLE rejected ("
	"  publisher TEXT NOT NULL, peer TEXT NOT NULL,"
	"  manifest BLOB NOT NULL,"        /* SHA-256 of the Signed(Manifest) bytes */
	"  collection TEXT, reason TEXT NOT NULL, at INTEGER NOT NULL,"
	"  UNIQUE (publisher, peer, manifest));",
	/*
	 * search: the filter and facet columns as a covering index, so the
	 * search's in-memory copy (s_scols_fresh) is read without the bodies.
	 */
	"CREATE INDEX items_facets ON items(kind, outcome, pref, deployment, popband, publisher, lg_code, "
	"  updated, domains, ai_uses);",
	/*
	 * head_history: the heads this node recorded and when (its own clock),
	 * the last KR_HEAD_HISTORY of each collection, so the view can go back
	 * to what a compromised key had published before its `since` (DESIGN §6).
	 */
	"CREATE TABLE head_history ("
	"  publisher TEXT NOT NULL, collection TEXT NOT NULL,"
	"  commit_id TEXT NOT NULL, received INTEGER NOT NULL);"
	"CREATE INDEX head_history_by_coll ON head_history(publisher, collection, received);",
	/*
	 * search: the dataset rows' ids (DATASET-ID#ROW) alone, so the search's
	 * in-memory columns learn which rows group under one dataset without
	 * reading every item's id.
	 */
	"CREATE INDEX items_rows ON items(id) WHERE instr(id, '#') > 0;",
	/*
	 * bodies deflated (issue 13: they were 150 of 520 MB at 100,000
	 * items): the index reads their text through the view items_text, so
	 * the FTS5 table is made again over it and rebuilt (its tokens are
	 * the same).
	 */
	"DROP TRIGGER items_fts_ai;"
	"DROP TRIGGER items_fts_ad;"
	"DROP TRIGGER items_fts_au;"
	"DROP TABLE items_fts;"
	"UPDATE items SET body = kr_deflate(body) WHERE typeof(body) = 'text';"
	"CREATE VIEW items_text AS SELECT n, title, kr_text(body) AS body, meta FROM items;"
	"CREATE VIRTUAL TABLE items_fts USING fts5(title, body, meta, content='items_text', "
	"  content_rowid='n', tokenize='kairan');"
	"CREATE TRIGGER items_fts_ai AFTER INSERT ON items BEGIN"
	"  INSERT INTO items_fts(rowid, title, body, meta) VALUES (new.n, new.title, kr_text(new.body), new.meta);"
	"END;"
	"CREATE TRIGGER items_fts_ad AFTER DELETE ON items BEGIN"
	"  INSERT INTO items_fts(items_fts, rowid, title, body, meta)"
	"  VALUES ('delete', old.n, old.title, kr_text(old.body), old.meta);"
	"END;"
	"CREATE TRIGGER items_fts_au AFTER UPDATE ON items BEGIN"
	"  INSERT INTO items_fts(items_fts, rowid, title, body, meta)"
	"  VALUES ('delete', old.n, old.title, kr_text(old.body), old.meta);"
	"  INSERT INTO items_fts(rowid, title, body, meta) VALUES (new.n, new.title, kr_text(new.body), new.meta);"
	"END;"
	FTS_REBUILD,
	/*
	 * search: every row's blob without its body, so the board's gate
	 * (kr_search_q.keep) judges a match from the in-memory columns instead
	 * of reading its row (issue 13: 14,400 matches read 50 MB of item
	 * pages and took 30 ms); read beside %_docsize on the second
	 * connection while the first reads items_facets.
	 */
	"CREATE INDEX items_blob ON items(blob);",
	/*
	 * the body is FTS5's first column (issue 13: the index was 293 of
	 * 420 MB at 100,000 items). A position list names its column only
	 * when the column is not the first: 2 bytes on nearly every
	 * (token, row) of the index while the body came second, now on a
	 * title's few. Same tokens, same scores (s_bm25_w follows the order).
	 */
	"DROP TRIGGER items_fts_ai;"
	"DROP TRIGGER items_fts_ad;"
	"DROP TRIGGER items_fts_au;"
	"DROP TABLE items_fts;"
	"CREATE VIRTUAL TABLE items_fts USING fts5(body, title, meta, content='items_text', "
	"  content_rowid='n', tokenize='kairan');"
	"CREATE TRIGGER items_fts_ai AFTER INSERT ON items BEGIN"
	"  INSERT INTO items_fts(rowid, body, title, meta) VALUES (new.n, kr_text(new.body), new.title, new.meta);"
	"END;"
	"CREATE TRIGGER items_fts_ad AFTER DELETE ON items BEGIN"
	"  INSERT INTO items_fts(items_fts, rowid, body, title, meta)"
	"  VALUES ('delete', old.n, kr_text(old.body), old.title, old.meta);"
	"END;"
	"CREATE TRIGGER items_fts_au AFTER UPDATE ON items BEGIN"
	"  INSERT INTO items_fts(items_fts, rowid, body, title, meta)"
	"  VALUES ('delete', old.n, kr_text(old.body), old.title, old.meta);"
	"  INSERT INTO items_fts(rowid, body, title, meta) VALUES (new.n, kr_text(new.body), new.title, new.meta);"
	"END;"
	FTS_REBUILD,
	/*
	 * bodies deflated with a preset dictionary (issue 13: index size): a
	 * body of 1-2 KB deflated alone finds few repeats, and the text of one
	 * collection shares most of its phrases. Made once from the bodies of
	 * the first large write (s_body_dict_make), named in each stream by
	 * its Adler-32 (zlib's FDICT), never changed or deleted. Bodies
	 * deflated before it stay as they are.
	 */
	"CREATE TABLE body_dicts (n INTEGER PRIMARY KEY, id INTEGER NOT NULL UNIQUE, dict BLOB NOT NULL);",
};

/*
 * SQLite's error as what it is. A damaged file (SQLITE_CORRUPT,
 * SQLITE_NOTADB) says so and names the way out, whatever the caller was
 * doing: it must never read as "not found" or "not trusted".
 */
static int
s_dberr(kr_state *st, const char *what)
{
	int code = sqlite3_errcode(st->db) & 0xff;

	if (code == SQLITE_CORRUPT || code == SQLITE_NOTADB)
		return kr_error(KR_EIO, "%s is damaged: %s (%s); run: kairan repair (it rebuilds it from the "
		    "repositories and keeps the damaged file aside)", st->path, sqlite3_errmsg(st->db), what);
	if (code == SQLITE_FULL || code == SQLITE_IOERR)
		return kr_error(KR_EIO, "%s: %s: %s (is the disk full? nothing was changed; "
		    "free some space and retry)", st->path, what, sqlite3_errmsg(st->db));
	return kr_error(KR_EIO, "%s: %s: %s", st->path, what, sqlite3_errmsg(st->db));
}

static int
s_bind(sqlite3_stmt *stmt, const char *types, va_list ap)
{
	for (int i = 0; types[i]; i++) {
		int rc;
		switch (types[i]) {
		case 's': {
			const char *v = va_arg(ap, const char *);
			rc = v ? sqlite3_bind_text(stmt, i + 1, v, -1, SQLITE_TRANSIENT)
			       : sqlite3_bind_null(stmt, i + 1);
			break;
		}
		case 'I':
			rc = sqlite3_bind_int64(stmt, i + 1, va_arg(ap, int64_t));
			break;
		case 'b': {
			const void *p = va_arg(ap, const void *);
			size_t n = va_arg(ap, size_t);
			rc = sqlite3_bind_blob64(stmt, i + 1, p, n, SQLITE_TRANSIENT);
			break;
		}
		default:
			abort();
		}
		if (rc != SQLITE_OK)
			return rc;
	}
	return SQLITE_OK;
}

/* Prepares sql and binds the values; caller steps and finalises. */
static int
s_prep(kr_state *st, sqlite3_stmt **stmt, const char *sql, const char *types, ...)
{
	va_list ap;
	int rc;

	if (sqlite3_prepare_v2(st->db, sql, -1, stmt, NULL) != SQLITE_OK)
		return s_dberr(st, "prepare");
	va_start(ap, types);
	rc = s_bind(*stmt, types, ap);
	va_end(ap);
	if (rc != SQLITE_OK) {
		sqlite3_finalize(*stmt);
		return s_dberr(st, "bind");
	}
	return 0;
}

/* Runs a statement that returns no rows; *changes gets the row count. */
static int
s_run(kr_state *st, int *changes, const char *sql, const char *types, ...)
{
	sqlite3_stmt *stmt;
	va_list ap;
	int rc;

	if (sqlite3_prepare_v2(st->db, sql, -1, &stmt, NULL) != SQLITE_OK)
		return s_dberr(st, "prepare");
	va_start(ap, types);
	rc = s_bind(stmt, types, ap);
	va_end(ap);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(stmt);
	sqlite3_finalize(stmt);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		return s_dberr(st, "write");
	if (changes)
		*changes = sqlite3_changes(st->db);
	return 0;
}

static char *
s_col(sqlite3_stmt *stmt, int i)
{
	const unsigned char *t = sqlite3_column_text(stmt, i);

	return t ? kr_strdup((const char *)t) : NULL;
}

static void
s_colcpy(char *dst, size_t cap, sqlite3_stmt *stmt, int i)
{
	const unsigned char *t = sqlite3_column_text(stmt, i);

	snprintf(dst, cap, "%s", t ? (const char *)t : "");
}

/* ---- the FTS5 tokenizer: sharing/text.c seen through FTS5's interface ---- */

typedef struct {
	void *ctx;
	int (*xToken)(void *, int, const char *, int, int, int);
} s_tok_ctx;

/* The tokenizer instance: its connection's kr_state, for the tokens made ahead (st->pre). */
typedef struct {
	kr_state *st;
} s_tokenizer;

/*
 * A row's search text tokenised ahead of its write (kr_state_items_put):
 * for each column its text and its tokens, each a s_pretok_hdr and the
 * token's bytes. Tokens are a function of the text alone, so FTS5 gets
 * them from here whenever it asks for exactly this text.
 */
typedef struct s_pretok {
	const char *text[3];
	int len[3];
	size_t off[4];                  /* column k's tokens: tok.ptr[off[k]..off[k + 1]) */
	kr_buf tok;
	const char *body;               /* the row's body, and as stored (s_body_pack) */
	kr_buf z;                       /* when packed */
	int packed;
} s_pretok;

typedef struct {
	int32_t start, end;
	uint16_t len;
	uint8_t colocated;
} s_pretok_hdr;

static int
s_tok_create(void *arg, const char **argv, int argc, Fts5Tokenizer **out)
{
	s_tokenizer *t = kr_calloc(1, sizeof(*t));

	(void)argv;
	(void)argc;
	t->st = arg;
	*out = (Fts5Tokenizer *)t;
	return SQLITE_OK;
}

static void
s_tok_delete(Fts5Tokenizer *t)
{
	free(t);
}

static int
s_tok_emit(void *arg, int colocated, const char *tok, int len, int start, int end)
{
	s_tok_ctx *c = arg;

	return c->xToken(c->ctx, colocated ? FTS5_TOKEN_COLOCATED : 0, tok, len, start, end);
}

/* Replays column k's tokens made ahead. */
static int
s_tok_replay(const s_pretok *p, int k, s_tok_ctx *c)
{
	const char *q = p->tok.ptr + p->off[k], *e = p->tok.ptr + p->off[k + 1];
	int rc = SQLITE_OK;

	while (q < e && rc == SQLITE_OK) {
		s_pretok_hdr h;
		memcpy(&h, q, sizeof(h));
		q += sizeof(h);
		rc = c->xToken(c->ctx, h.colocated ? FTS5_TOKEN_COLOCATED : 0, q, h.len, h.start, h.end);
		q += h.len;
	}
	return rc;
}

static int
s_tok_tokenize(Fts5Tokenizer *t, void *ctx, int flags, const char *text, int len,
    int (*xToken)(void *, int, const char *, int, int, int))
{
	s_tok_ctx c = { ctx, xToken };
	const s_pretok *p = ((s_tokenizer *)t)->st ? ((s_tokenizer *)t)->st->pre : NULL;

	if (p && !(flags & FTS5_TOKENIZE_QUERY))
		for (int k = 0; k < 3; k++)
			if (p->len[k] == len && memcmp(p->text[k], text, (size_t)len) == 0)
				return s_tok_replay(p, k, &c);
	return kr_text_tokenize(text, len, (flags & FTS5_TOKENIZE_QUERY) ? KR_TEXT_QUERY : KR_TEXT_DOCUMENT,
	    s_tok_emit, &c);
}

/*
 * kr_collect(items_fts, ctx): the search's per-match step (see
 * kr_state_search). For each row the MATCH yields it asks the in-memory
 * columns whether the row passes the filters (counting its facets), then
 * scores it exactly as FTS5's bm25(items_fts, 1.0, 10.0, 3.0) would, but
 * with the row's token count from memory instead of a %_docsize lookup,
 * and offers the score to the top k. With a single phrase the IDF is a
 * positive constant factor: it is applied to the top k at the end, from
 * the number of rows visited, instead of a second pass over the doclist.
 */
typedef struct {
	const kr_scols *cols;           /* what run counts over (q->keep's publisher, kind and blob too) */
	kr_scols_run *run;
	const kr_search_q *q;
	int init, nphrase, stale;
	double *idf, *freq, avgdl;
	int64_t nrow, visited;
	kr_state *df;                   /* its n(q) cache may be used, or NULL */
	s_waitbuf *wait;                /* where rows wait for their IDFs; NULL: they do not */
	char **phrase;                  /* the match's phrases (its quoted strings), nphrases of them */
	int nphrases;
	/*
	 * A conjunction of several phrases waits for its IDFs: each phrase is
	 * in every row the match yields, so once c->visited reaches half the
	 * rows, each IDF is s_idf's floor with nothing counted (two common
	 * terms: the slow case, which counted each one's doclist first).
	 * Until then the rows that pass keep n and their phrases' bm25 terms
	 * (in the kr_state's buffers, kept for the next search); floor: the
	 * IDFs are known, rows are scored as they come; idf_pass: the second
	 * statement of kr_state_search, whose one row counts the phrases.
	 */
	int defer, floor, idf_pass;
	size_t nrows;
} s_collect;

static const double s_bm25_w[3] = { 1.0, 10.0, 3.0 };   /* FTS5's columns: body, title, front matter */

static double
s_idf(int64_t nrow, int64_t nhit)
{
	double idf = log(((double)nrow - (double)nhit + 0.5) / ((double)nhit + 0.5));

	return idf <= 0.0 ? 1e-6 : idf;
}

/*
 * The document frequency cache: in a query of several phrases each one's
 * IDF needs the number of rows holding it alone, a scan of its whole
 * doclist (most of the time of two common terms). It is a property of
 * the snapshot, so it is kept per connection until the data changes
 * (the same data_version and total_changes as the in-memory columns).
 */
#define DF_MAX 1024

static void
s_df_clear(kr_state *st)
{
	for (size_t i = 0; i < st->df_len; i++)
		free(st->df_key[i]);
	st->df_len = 0;
}

static int
s_df_get(kr_state *st, const char *phrase, int64_t *n)
{
	for (size_t i = 0; i < st->df_len; i++)
		if (strcmp(st->df_key[i], phrase) == 0) {
			*n = st->df_n[i];
			return 1;
		}
	return 0;
}

static void
s_df_put(kr_state *st, const char *phrase, int64_t n)
{
	if (st->df_len == DF_MAX)
		s_df_clear(st);
	if (!st->df_key) {
		st->df_key = kr_calloc(DF_MAX, sizeof(char *));
		st->df_n = kr_calloc(DF_MAX, sizeof(int64_t));
	}
	st->df_key[st->df_len] = kr_strdup(phrase);
	st->df_n[st->df_len++] = n;
}

/* The quoted strings of an FTS5 match, in order (FTS5 numbers its phrases so). */
static size_t
s_phrases(const char *match, char ***out)
{
	size_t n = 0;

	*out = NULL;
	for (const char *p = strchr(match, '"'); p; p = strchr(p, '"')) {
		const char *e = p + 1;
		while (*e && !(*e == '"' && e[1] != '"'))
			e += *e == '"' ? 2 : 1;
		if (!*e)
			break;
		*out = kr_realloc(*out, (n + 1) * sizeof(char *));
		(*out)[n++] = kr_strndup(p, (size_t)(e + 1 - p));
		p = e + 1;
	}
	return n;
}

/* Whether match (kr_search_compile's) is phrases joined by AND only: no OR, no NOT. */
static int
s_conjunction(const char *match)
{
	for (const char *p = match; *p;) {
		if (*p == '"') {
			for (p++; *p && !(*p == '"' && p[1] != '"'); p += *p == '"' ? 2 : 1)
				;
			if (*p)
				p++;
		} else if (*p == '(' || *p == ')' || *p == ' ') {
			p++;
		} else if (strncmp(p, "AND", 3) == 0 && (p[3] == ' ' || p[3] == '(')) {
			p += 3;
		} else {
			return 0;
		}
	}
	return 1;
}

/*
 * A phrase's document count for its IDF, counted up to half the rows:
 * from there on s_idf gives its floor whatever the rest of the count, so
 * the scan of a common term's doclist stops halfway (SQLITE_DONE ends
 * xQueryPhrase without an error).
 */
typedef struct {
	int64_t n, half;
} s_count;

static int
s_count_cb(const Fts5ExtensionApi *api, Fts5Context *fts, void *arg)
{
	s_count *c = arg;

	(void)api;
	(void)fts;
	return ++c->n >= c->half ? SQLITE_DONE : SQLITE_OK;
}

/* Each phrase's IDF (several phrases): its count from the cache, else up to half the rows. */
static int
s_collect_idf(const Fts5ExtensionApi *api, Fts5Context *fts, s_collect *c)
{
	int rc;

	for (int i = 0; i < c->nphrase; i++) {
		int64_t nhit = 0;
		int cached = c->df && c->nphrases == c->nphrase;
		if (cached && s_df_get(c->df, c->phrase[i], &nhit)) {
			c->idf[i] = s_idf(c->nrow, nhit);
			continue;
		}
		s_count cnt = { 0, (c->nrow + 1) / 2 };
		if ((rc = api->xQueryPhrase(fts, i, &cnt, s_count_cb)) != SQLITE_OK)
			return rc;
		nhit = cnt.n;
		if (cached)
			s_df_put(c->df, c->phrase[i], nhit);
		c->idf[i] = s_idf(c->nrow, nhit);
	}
	return SQLITE_OK;
}

/* The waiting rows scored with the IDFs now known, and offered in the order they came. */
static void
s_collect_flush(s_collect *c)
{
	const s_waitbuf *w = c->wait;

	for (size_t r = 0; r < c->nrows; r++) {
		double score = 0;
		for (int i = 0; i < c->nphrase; i++)
			score += c->idf[i] * w->g[r * (size_t)c->nphrase + (size_t)i];
		kr_scols_offer(c->run, w->n[r], -1.0 * score);
	}
	c->nrows = 0;
}

/* Phrase i's bm25 term without its IDF, in a row of ntok tokens (k1 1.2, b 0.75). */
static double
s_bm25_g(const s_collect *c, int i, int ntok)
{
	const double k1 = 1.2, b = 0.75;

	return (c->freq[i] * (k1 + 1.0)) / (c->freq[i] + k1 * (1 - b + b * (double)ntok / c->avgdl));
}

static void
s_collect_fn(const Fts5ExtensionApi *api, Fts5Context *fts, sqlite3_context *ctx, int nval, sqlite3_value **val)
{
	s_collect *c = nval == 1 ? sqlite3_value_pointer(val[0], "kr_collect") : NULL;
	double score = 0;
	int64_t n;
	int ntok, rc;

	if (!c) {
		sqlite3_result_error(ctx, "kr_collect() is internal to kairan search", -1);
		return;
	}
	if (!c->init) {
		sqlite3_int64 nrow = 0, ntoken = 0;
		c->init = 1;
		c->nphrase = api->xPhraseCount(fts);
		c->idf = kr_calloc((size_t)c->nphrase + 1, sizeof(double));
		c->freq = kr_calloc((size_t)c->nphrase + 1, sizeof(double));
		if ((rc = api->xRowCount(fts, &nrow)) != SQLITE_OK ||
		    (rc = api->xColumnTotalSize(fts, -1, &ntoken)) != SQLITE_OK) {
			sqlite3_result_error_code(ctx, rc);
			return;
		}
		c->nrow = nrow;
		c->avgdl = nrow ? (double)ntoken / (double)nrow : 1.0;
		c->defer = c->nphrase > 1 && c->wait && c->nphrases == c->nphrase && s_conjunction(c->q->match);
		if (c->nphrase > 1 && !c->defer && (rc = s_collect_idf(api, fts, c)) != SQLITE_OK) {
			sqlite3_result_error_code(ctx, rc);
			return;
		}
	}
	if (c->idf_pass) {
		if (c->idf_pass == 1 && (rc = s_collect_idf(api, fts, c)) != SQLITE_OK) {
			sqlite3_result_error_code(ctx, rc);
			return;
		}
		c->idf_pass = 2;
		return;
	}
	c->visited++;
	if (c->defer && !c->floor && (double)c->visited * 2 >= (double)c->nrow) {
		/* every phrase is in half the rows or more: its IDF is the floor (s_idf), whatever its count */
		c->floor = 1;
		for (int i = 0; i < c->nphrase; i++)
			c->idf[i] = s_idf(c->nrow, c->visited);
		s_collect_flush(c);
	}
	n = api->xRowid(fts);
	if (c->q->keep) {
		const char *pub, *kind;
		char blob[KR_OID_HEX + 1];
		if (kr_scols_item(c->cols, n, &pub, &kind, blob) < 0)
			goto stale;
		if (!c->q->keep(c->q->keep_arg, n, pub, kind, *blob ? blob : NULL))
			return;         /* left out of hits, total and facets */
	}
	switch (kr_scols_pass(c->run, n, &ntok)) {
	case -1:
		goto stale;
	case 0:
		return;
	}
	/*
	 * each phrase's weighted frequency straight from its position list
	 * (xPhraseFirst/Next), not through xInstCount, which builds and sorts
	 * one array of every phrase's instances per row
	 */
	for (int i = 0; i < c->nphrase; i++) {
		Fts5PhraseIter it;
		int ic, io;
		double f = 0;
		if ((rc = api->xPhraseFirst(fts, i, &it, &ic, &io)) != SQLITE_OK) {
			sqlite3_result_error_code(ctx, rc);
			return;
		}
		for (; ic >= 0; api->xPhraseNext(fts, &it, &ic, &io))
			f += ic < 3 ? s_bm25_w[ic] : 1.0;
		c->freq[i] = f;
	}
	if (c->defer && !c->floor) {
		s_waitbuf *w = c->wait;
		if (c->nrows == w->cap) {
			w->cap = w->cap ? w->cap * 2 : 1024;
			w->n = kr_realloc(w->n, w->cap * sizeof(*w->n));
		}
		if ((c->nrows + 1) * (size_t)c->nphrase > w->gcap) {
			w->gcap = w->cap * (size_t)c->nphrase;
			w->g = kr_realloc(w->g, w->gcap * sizeof(*w->g));
		}
		w->n[c->nrows] = n;
		for (int i = 0; i < c->nphrase; i++)
			w->g[c->nrows * (size_t)c->nphrase + (size_t)i] = s_bm25_g(c, i, ntok);
		c->nrows++;
		return;
	}
	for (int i = 0; i < c->nphrase; i++) {
		double g = s_bm25_g(c, i, ntok);
		score += c->nphrase > 1 ? c->idf[i] * g : g;
	}
	kr_scols_offer(c->run, n, -1.0 * score);
	return;
stale:
	c->stale = 1;
	sqlite3_result_error(ctx, "search columns out of date", -1);
}

/*
 * A body as stored: text when short or when deflating does not pay,
 * else a blob of its length (4 bytes, little-endian) and its zlib stream
 * (it is written once per change and read for snippets): with the preset
 * dictionary dict at BODY_DICT_LEVEL, or with none (NULL) at the fastest.
 * Returns 1 with the blob in *z, 0 to store the text.
 */
#define BODY_PACK_MIN 256
#define BODY_DICT 32768                 /* a dictionary's bytes at most (s_body_dict_make) */
#define BODY_DICT_FROM 32               /* from this many bodies */
#define BODY_DICT_LEVEL 3               /* with one (without: the fastest) */

static int s_register_fts(kr_state *st);

static int
s_body_pack(const char *text, size_t len, kr_buf *z, kr_deflater *zip, const kr_buf *dict)
{
	if (len < BODY_PACK_MIN || len > 0x7fffffff)
		return 0;
	kr_buf_clear(z);
	for (int i = 0; i < 4; i++)
		kr_buf_addch(z, (char)(len >> (8 * i)));
	if (kr_deflater_add_dict(zip, z, text, len, dict ? BODY_DICT_LEVEL : KR_ZIP_FASTEST, dict ? dict->ptr : NULL,
	    dict ? dict->len : 0) < 0) {
		kr_error_clear();
		return 0;
	}
	return z->len < len;
}

/* The preset dictionary named id, from st's cache or body_dicts (then kept); NULL if there is none. */
static const s_dict *
s_dict_find(kr_state *st, uint32_t id)
{
	sqlite3_stmt *stmt;
	const s_dict *found = NULL;

	for (size_t i = 0; i < st->ndicts; i++)
		if (st->dicts[i].id == id)
			return &st->dicts[i];
	if (sqlite3_prepare_v2(st->db, "SELECT dict FROM body_dicts WHERE id = ?", -1, &stmt, NULL) != SQLITE_OK)
		return NULL;
	sqlite3_bind_int64(stmt, 1, id);
	/* a row whose bytes are not what its id names (a damaged file) is not used */
	if (sqlite3_step(stmt) == SQLITE_ROW && sqlite3_column_blob(stmt, 0) &&
	    kr_zip_dict_id(sqlite3_column_blob(stmt, 0), (size_t)sqlite3_column_bytes(stmt, 0)) == id) {
		s_dict *d;
		st->dicts = kr_realloc(st->dicts, (st->ndicts + 1) * sizeof(*st->dicts));
		d = &st->dicts[st->ndicts++];
		d->id = id;
		d->d = (kr_buf)KR_BUF_INIT;
		kr_buf_add(&d->d, sqlite3_column_blob(stmt, 0), (size_t)sqlite3_column_bytes(stmt, 0));
		found = d;
	}
	sqlite3_finalize(stmt);
	return found;
}

/* kr_unzip's dictionary lookup for kr_text (arg: the kr_state). */
static const void *
s_dict_get(void *arg, uint32_t id, size_t *len)
{
	const s_dict *d = s_dict_find(arg, id);

	*len = d ? d->d.len : 0;
	return d ? d->d.ptr : NULL;
}

/* The dictionary new bodies are deflated with (the oldest of body_dicts), or NULL. */
static const kr_buf *
s_body_dict(kr_state *st)
{
	sqlite3_stmt *stmt;

	if (st->dict_cur == -2) {
		st->dict_cur = -1;
		if (sqlite3_prepare_v2(st->db, "SELECT id FROM body_dicts ORDER BY n LIMIT 1", -1, &stmt,
		    NULL) != SQLITE_OK)
			return NULL;
		if (sqlite3_step(stmt) == SQLITE_ROW) {
			const s_dict *d = s_dict_find(st, (uint32_t)sqlite3_column_int64(stmt, 0));
			if (d)
				st->dict_cur = (int)(d - st->dicts);
		}
		sqlite3_finalize(stmt);
	}
	return st->dict_cur >= 0 ? &st->dicts[st->dict_cur].d : NULL;
}

/* Forgets the dictionaries read (a rollback may have taken one away): each is looked up again. */
static void
s_dict_forget(kr_state *st)
{
	for (size_t i = 0; i < st->ndicts; i++)
		kr_buf_release(&st->dicts[i].d);
	free(st->dicts);
	st->dicts = NULL;
	st->ndicts = 0;
	st->dict_cur = -2;
}

/*
 * Whether dictionary d pays on the bodies of v[0..n) it was not made
 * from (BODY_DICT_FROM of them, between those it was): deflated with it,
 * they must take a tenth of their text less than deflated alone. Setting
 * a 32 KB dictionary costs zlib about 40 us a body; text that deflates
 * well alone (a tenth of its size or less) cannot gain that much.
 */
static int
s_body_dict_pays(const kr_state_item *v, size_t n, const kr_buf *d)
{
	kr_deflater alone = { 0 }, with = { 0 };
	kr_buf z = KR_BUF_INIT;
	size_t text = 0, saved = 0;

	for (size_t k = 0; k < BODY_DICT_FROM; k++) {
		const char *b = v[(2 * k + 1) * n / (2 * BODY_DICT_FROM)].body;
		size_t len = b ? strlen(b) : 0, z1;
		if (len < BODY_PACK_MIN)
			continue;
		kr_buf_clear(&z);
		if (kr_deflater_add(&alone, &z, b, len, KR_ZIP_FASTEST) < 0)
			break;
		z1 = z.len;
		kr_buf_clear(&z);
		if (kr_deflater_add_dict(&with, &z, b, len, BODY_DICT_LEVEL, d->ptr, d->len) < 0)
			break;
		text += len;
		saved += z1 > z.len ? z1 - z.len : 0;
	}
	kr_error_clear();
	kr_deflater_end(&alone);
	kr_deflater_end(&with);
	kr_buf_release(&z);
	return text > 0 && saved * 10 >= text;
}

/*
 * With no dictionary yet, one made from the bodies of the rows v[0..n)
 * about to be written: the first BODY_DICT / BODY_DICT_FROM bytes of
 * BODY_DICT_FROM bodies spread over them. On the bench's 100,000 bodies
 * of 1-2 KB, zlib then keeps 0.24 of their text instead of 0.47 (level 3;
 * level 6 gains 0.01 for a third more time, 16 KB loses 0.01); the
 * shipped samples, each deflated with the others' text, 0.33 instead of
 * 0.66. Written in the caller's transaction, so it is there exactly when
 * the bodies deflated with it are. Less than 4 KB of text, or a
 * dictionary that would not pay (s_body_dict_pays): none yet.
 */
static int
s_body_dict_make(kr_state *st, const kr_state_item *v, size_t n)
{
	kr_buf d = KR_BUF_INIT;
	int rc = 0;

	if (s_body_dict(st))
		return 0;
	for (size_t k = 0; k < BODY_DICT_FROM; k++) {
		const char *b = v[k * n / BODY_DICT_FROM].body;
		size_t len = b ? strlen(b) : 0;
		if (len >= BODY_PACK_MIN)
			kr_buf_add(&d, b, len < BODY_DICT / BODY_DICT_FROM ? len : BODY_DICT / BODY_DICT_FROM);
	}
	if (d.len >= BODY_DICT / 8 && s_body_dict_pays(v, n, &d)) {
		rc = s_run(st, NULL, "INSERT OR IGNORE INTO body_dicts (id, dict) VALUES (?, ?)", "Ib",
		    (int64_t)kr_zip_dict_id(d.ptr, d.len), d.ptr, d.len);
		st->dict_cur = -2;      /* the oldest, this one unless another process made one first */
	}
	kr_buf_release(&d);
	return rc;
}

/* A stored body that cannot be read back: SQLITE_CORRUPT, so s_dberr names `kairan repair`. */
static void
s_text_corrupt(sqlite3_context *ctx, const char *why)
{
	sqlite3_result_error(ctx, why, -1);
	sqlite3_result_error_code(ctx, SQLITE_CORRUPT);
}

/*
 * kr_text(body): a stored body as text (a text body as it is). The length
 * in a blob's header is checked against what its stream can hold (deflate
 * expands at most 1032 times) and SQLite's length limit before anything is
 * allocated, and must be exactly what the stream inflates to.
 */
static void
s_text_fn(sqlite3_context *ctx, int nval, sqlite3_value **val)
{
	const unsigned char *p;
	size_t want;
	int n;
	char *out;

	(void)nval;
	if (sqlite3_value_type(val[0]) != SQLITE_BLOB) {
		sqlite3_result_value(ctx, val[0]);
		return;
	}
	p = sqlite3_value_blob(val[0]);
	n = sqlite3_value_bytes(val[0]);
	if (n < 5) {
		s_text_corrupt(ctx, "kr_text: a stored body is cut short");
		return;
	}
	want = (size_t)p[0] | (size_t)p[1] << 8 | (size_t)p[2] << 16 | (size_t)p[3] << 24;
	if (want < BODY_PACK_MIN || want > (size_t)(n - 4) * 1032 ||
	    want > (size_t)sqlite3_limit(sqlite3_context_db_handle(ctx), SQLITE_LIMIT_LENGTH, -1)) {
		s_text_corrupt(ctx, "kr_text: a stored body's length is not what its stream can hold");
		return;
	}
	if (!(out = sqlite3_malloc64(want))) {
		sqlite3_result_error_nomem(ctx);
		return;
	}
	if (kr_unzip(out, want, p + 4, (size_t)(n - 4), s_dict_get, sqlite3_user_data(ctx)) < 0) {
		sqlite3_free(out);
		s_text_corrupt(ctx, "kr_text: a stored body does not inflate to its length");
		return;
	}
	sqlite3_result_text64(ctx, out, want, sqlite3_free, SQLITE_UTF8);
}

/* kr_deflate(text): the body as stored (s_body_pack); for the migration. */
static void
s_deflate_fn(sqlite3_context *ctx, int nval, sqlite3_value **val)
{
	kr_buf z = KR_BUF_INIT;
	kr_deflater zip = { 0 };
	const char *t = (const char *)sqlite3_value_text(val[0]);

	(void)nval;
	if (t && s_body_pack(t, (size_t)sqlite3_value_bytes(val[0]), &z, &zip, NULL))
		sqlite3_result_blob64(ctx, z.ptr, z.len, SQLITE_TRANSIENT);
	else
		sqlite3_result_value(ctx, val[0]);
	kr_deflater_end(&zip);
	kr_buf_release(&z);
}

/* What every connection needs before the schema: the body functions, then FTS5's tokenizer. */
static int
s_register_functions(kr_state *st)
{
	const int flags = SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS;

	if (sqlite3_create_function_v2(st->db, "kr_text", 1, flags, st, s_text_fn, NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_create_function_v2(st->db, "kr_deflate", 1, flags, NULL, s_deflate_fn, NULL, NULL,
	    NULL) != SQLITE_OK)
		return s_dberr(st, "registering the body functions");
	return s_register_fts(st);
}

/* FTS5's tokenizer and kr_collect on db (tokens made ahead come from st, or none when NULL); -1 if not */
static int
s_register_fts_on(sqlite3 *db, kr_state *st)
{
	fts5_api *api = NULL;
	sqlite3_stmt *stmt;
	fts5_tokenizer tok = { s_tok_create, s_tok_delete, s_tok_tokenize };

	if (sqlite3_prepare_v2(db, "SELECT fts5(?1)", -1, &stmt, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_pointer(stmt, 1, (void *)&api, "fts5_api_ptr", NULL);
	sqlite3_step(stmt);
	sqlite3_finalize(stmt);
	if (!api || api->xCreateTokenizer(api, "kairan", st, &tok, NULL) != SQLITE_OK ||
	    api->xCreateFunction(api, "kr_collect", NULL, s_collect_fn, NULL) != SQLITE_OK)
		return -1;
	return 0;
}

static int
s_register_fts(kr_state *st)
{
	if (s_register_fts_on(st->db, st) < 0)
		return kr_error(KR_EIO, "%s: cannot register the search tokenizer (is FTS5 in this SQLite?)", st->path);
	return 0;
}

/* PRAGMA user_version: the schema's version (0 for a new file). */
static int
s_user_version(kr_state *st, int *version)
{
	sqlite3_stmt *stmt;
	int rc = 0;

	if (sqlite3_prepare_v2(st->db, "PRAGMA user_version", -1, &stmt, NULL) != SQLITE_OK)
		return s_dberr(st, "reading schema version");
	if (sqlite3_step(stmt) == SQLITE_ROW)
		*version = sqlite3_column_int(stmt, 0);
	else
		rc = s_dberr(st, "reading schema version");
	sqlite3_finalize(stmt);
	return rc;
}

static int
s_migrate(kr_state *st)
{
	const int latest = (int)(sizeof(s_migrations) / sizeof(s_migrations[0]));
	int version, migrated = 0;

	if (s_user_version(st, &version) < 0)
		return KR_EIO;
	st->created = version == 0;
	if (version > latest)
		return kr_error(KR_ERROR, "%s: schema version %d is newer than this kairan (%d); "
		    "upgrade kairan", st->path, version, latest);
	while (version < latest) {
		char pragma[64];
		if (kr_state_begin(st) < 0)
			return KR_EIO;
		/* read again under the write lock: another process may have migrated while this one waited */
		if (s_user_version(st, &version) < 0) {
			kr_state_rollback(st);
			return KR_EIO;
		}
		if (version >= latest) {
			kr_state_rollback(st);
			break;
		}
		snprintf(pragma, sizeof(pragma), "PRAGMA user_version = %d", version + 1);
		if (sqlite3_exec(st->db, s_migrations[version], NULL, NULL, NULL) != SQLITE_OK ||
		    sqlite3_exec(st->db, pragma, NULL, NULL, NULL) != SQLITE_OK) {
			int rc = s_dberr(st, "migrating schema");
			kr_state_rollback(st);
			return rc;
		}
		if (kr_state_commit(st) < 0)
			return KR_EIO;
		version++;
		migrated = 1;
	}
	/* a migration rewrites tables whole: the WAL it leaves is as large, and would stay */
	if (migrated)
		sqlite3_exec(st->db, "PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL);
	return 0;
}

/*
 * SQLite's heap through malloc with a size before each block, counted
 * with atomics: SQLite's own count (SQLITE_CONFIG_MEMSTATUS) takes one
 * process-wide mutex at every allocation, and the two halves of a search
 * (kr_state_search) allocate at every row: with it on they took 2-3 times
 * as long side by side as one after the other. Page-cache counts
 * (SQLITE_STATUS_PAGECACHE_OVERFLOW) are SQLite's, kept without it.
 */
static _Atomic long long s_sq_used, s_sq_max;

#define SQ_HDR 16       /* keeps malloc's alignment */

static void
s_sq_count(long long delta)
{
	long long now = atomic_fetch_add_explicit(&s_sq_used, delta, memory_order_relaxed) + delta;
	long long max = atomic_load_explicit(&s_sq_max, memory_order_relaxed);

	while (now > max && !atomic_compare_exchange_weak_explicit(&s_sq_max, &max, now, memory_order_relaxed,
	    memory_order_relaxed))
		;
}

static void *
s_sq_malloc(int n)
{
	char *p = malloc((size_t)n + SQ_HDR);

	if (!p)
		return NULL;
	*(size_t *)p = (size_t)n;
	s_sq_count(n);
	return p + SQ_HDR;
}

static void
s_sq_free(void *v)
{
	char *p;

	if (!v)
		return;
	p = (char *)v - SQ_HDR;
	s_sq_count(-(long long)*(size_t *)p);
	free(p);
}

static int
s_sq_size(void *v)
{
	return v ? (int)*(size_t *)((char *)v - SQ_HDR) : 0;
}

static void *
s_sq_realloc(void *v, int n)
{
	char *p, *q;
	size_t old;

	if (!v)
		return s_sq_malloc(n);
	p = (char *)v - SQ_HDR;
	old = *(size_t *)p;
	if (!(q = realloc(p, (size_t)n + SQ_HDR)))
		return NULL;
	*(size_t *)q = (size_t)n;
	s_sq_count((long long)n - (long long)old);
	return q + SQ_HDR;
}

static int
s_sq_roundup(int n)
{
	return (n + 7) & ~7;
}

static int
s_sq_init(void *arg)
{
	(void)arg;
	return SQLITE_OK;
}

static void
s_sq_shutdown(void *arg)
{
	(void)arg;
}

#ifndef KR_SQLITE_SONAME
#define KR_SQLITE_SONAME "libsqlite3.so.0"
#endif

/*
 * Before SQLite initialises: no page-cache slab per connection. By default
 * a connection's cache takes 20 pages (~87 KB) in one block at its first
 * read and keeps the block until it closes, whatever
 * sqlite3_db_release_memory frees; a serving node holds seven connections
 * (loop, replication and pool workers), 600 KB resident for nothing while
 * idle (issue 13, idle PSS). Pages are then allocated one by one and go
 * back when released.
 */
static void
s_sqlite_load(void)
{
	static const kr_dlsym syms[] = { KR_SQLITE_FUNCTIONS(KR_DLSYM) };
	static const sqlite3_mem_methods mem = { s_sq_malloc, s_sq_free, s_sq_realloc, s_sq_size, s_sq_roundup,
		s_sq_init, s_sq_shutdown, NULL };

	kr_dl_require(KR_SQLITE_SONAME, syms, sizeof(syms) / sizeof(syms[0]), "libsqlite3-0");
	p_sqlite3_config(SQLITE_CONFIG_PAGECACHE, (void *)NULL, 0, 0);
	p_sqlite3_config(SQLITE_CONFIG_MALLOC, &mem);
	p_sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
	p_sqlite3_initialize();
}

/* SQLite loaded (sqlitedl.h) and configured, once per process. */
static void
s_sqlite_ready(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	pthread_once(&once, s_sqlite_load);
}

int
kr_state_open(kr_state **out, const char *path)
{
	kr_state *st;
	int rc;

	s_sqlite_ready();
	st = kr_calloc(1, sizeof(*st));
	st->path = kr_strdup(path);
	st->split_min = KR_SEARCH_SPLIT_ROWS;
	st->dict_cur = -2;
	if (sqlite3_open_v2(path, &st->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
	    SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		rc = s_dberr(st, "open");
		kr_state_destroy(&st);
		return rc;
	}
	sqlite3_busy_timeout(st->db, 10000);
	/*
	 * Reads of a large index go through the page cache without copies:
	 * the whole file, up to 1 GiB (a node of 100,000 items has about
	 * 520 MB; past 256 MB, every page of the search index beyond it was
	 * read() into SQLite's 2 MB cache, 7% of a common 6-character query
	 * at 100,000 items). Address space, not memory: the pages are the
	 * kernel's page cache, and a serving node bounds it (kr_state_bound_memory).
	 */
	/*
	 * Temporary tables and indices in memory, not in a file: SQLite looks
	 * for a writable /var/tmp, /tmp or working directory, and a sandbox
	 * (systemd's, bwrap's) may give none; migration 8 needs one (t0053).
	 */
	if (sqlite3_exec(st->db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA mmap_size=1073741824;"
	    "PRAGMA foreign_keys=ON; PRAGMA temp_store=MEMORY;", NULL, NULL, NULL) != SQLITE_OK) {
		rc = s_dberr(st, "configure");
		kr_state_destroy(&st);
		return rc;
	}
	if ((rc = s_register_functions(st)) < 0 || (rc = s_migrate(st)) < 0) {
		kr_state_destroy(&st);
		return rc;
	}
	*out = st;
	return 0;
}

int
kr_state_backup(kr_state *st, const char *dest)
{
	sqlite3 *d = NULL;
	sqlite3_backup *b;
	sqlite3_stmt *stmt = NULL;
	int rc = 0, step, tries = 0;

	if (sqlite3_open_v2(dest, &d, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
	    NULL) != SQLITE_OK) {
		rc = kr_error(KR_EIO, "%s: %s", dest, d ? sqlite3_errmsg(d) : "cannot open");
		goto done;
	}
	if (!(b = sqlite3_backup_init(d, "main", st->db, "main"))) {
		rc = kr_error(KR_EIO, "%s: backup: %s", dest, sqlite3_errmsg(d));
		goto done;
	}
	/* all pages in one step: one read transaction, so one consistent moment */
	while ((step = sqlite3_backup_step(b, -1)) == SQLITE_BUSY || step == SQLITE_LOCKED) {
		if (++tries > 200)
			break;
		sqlite3_sleep(50);
	}
	sqlite3_backup_finish(b);
	if (step != SQLITE_DONE) {
		rc = kr_error(KR_EIO, "%s: backup of %s: %s", dest, st->path, sqlite3_errstr(step));
		goto done;
	}
	if (sqlite3_prepare_v2(d, "PRAGMA quick_check", -1, &stmt, NULL) != SQLITE_OK ||
	    sqlite3_step(stmt) != SQLITE_ROW || strcmp((const char *)sqlite3_column_text(stmt, 0), "ok") != 0)
		rc = kr_error(KR_EIO, "%s: the copy of %s does not check out: %s", dest, st->path,
		    stmt && sqlite3_column_text(stmt, 0) ? (const char *)sqlite3_column_text(stmt, 0) : sqlite3_errmsg(d));
done:
	sqlite3_finalize(stmt);
	if (d && sqlite3_close(d) != SQLITE_OK && rc == 0)
		rc = kr_error(KR_EIO, "%s: closing the copy: %s", dest, sqlite3_errmsg(d));
	if (rc < 0)
		unlink(dest);
	return rc;
}

int
kr_state_created(const kr_state *st)
{
	return st->created;
}

/* The search's waiting-row buffers, grown by a search and kept for the next. */
static void
s_wait_release(kr_state *st)
{
	for (int h = 0; h < 2; h++) {
		free(st->wait[h].n);
		free(st->wait[h].g);
		memset(&st->wait[h], 0, sizeof(st->wait[h]));
	}
}

void
kr_state_destroy(kr_state **sp)
{
	if (!sp || !*sp)
		return;
	sqlite3_finalize((*sp)->item_put);
	sqlite3_finalize((*sp)->item_delete);
	kr_scols_destroy(&(*sp)->scols);
	s_df_clear(*sp);
	free((*sp)->df_key);
	free((*sp)->df_n);
	s_wait_release(*sp);
	s_dict_forget(*sp);
	kr_deflater_end(&(*sp)->zip);
	sqlite3_close_v2((*sp)->aux);
	sqlite3_close_v2((*sp)->db);
	free((*sp)->path);
	free(*sp);
	*sp = NULL;
}

void
kr_state_release_memory(kr_state *st)
{
	sqlite3_db_release_memory(st->db);
	sqlite3_close_v2(st->aux);      /* opened again by the next search of many rows */
	st->aux = NULL;
	kr_scols_destroy(&st->scols);   /* rebuilt by the next search */
	s_wait_release(st);
}

int
kr_state_bound_memory(kr_state *st, long long mmap_bytes, int cache_kb)
{
	char pragma[96];

	snprintf(pragma, sizeof(pragma), "PRAGMA mmap_size=%lld; PRAGMA cache_size=-%d;", mmap_bytes, cache_kb);
	if (sqlite3_exec(st->db, pragma, NULL, NULL, NULL) != SQLITE_OK)
		return s_dberr(st, "bounding memory");
	st->mmap_bytes = mmap_bytes;
	st->cache_kb = cache_kb;
	st->bounded = 1;
	if (st->aux && sqlite3_exec(st->aux, pragma, NULL, NULL, NULL) != SQLITE_OK)
		return kr_error(KR_EIO, "%s: bounding memory: %s", st->path, sqlite3_errmsg(st->aux));
	return 0;
}

void
kr_state_memory(kr_state *st, kr_state_mem *m)
{
	sqlite3_int64 cur = 0, hi = 0;
	int c = 0, h = 0;

	memset(m, 0, sizeof(*m));
	m->used = atomic_load(&s_sq_used), m->used_max = atomic_load(&s_sq_max);
	/* SQLITE_CONFIG_PAGECACHE is off (s_sqlite_load): every page is an "overflow" page from the heap */
	sqlite3_status64(SQLITE_STATUS_PAGECACHE_OVERFLOW, &cur, &hi, 0);
	m->pagecache = cur, m->pagecache_max = hi;
	sqlite3_db_status(st->db, SQLITE_DBSTATUS_CACHE_USED, &c, &h, 0);
	m->conn_cache = c;
	sqlite3_db_status(st->db, SQLITE_DBSTATUS_SCHEMA_USED, &c, &h, 0);
	m->conn_schema = c;
	sqlite3_db_status(st->db, SQLITE_DBSTATUS_STMT_USED, &c, &h, 0);
	m->conn_stmt = c;
}

int
kr_state_durable(kr_state *st, int on)
{
	/* in WAL mode FULL syncs the WAL at every commit; NORMAL only at checkpoints */
	if (sqlite3_exec(st->db, on ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL", NULL, NULL,
	    NULL) != SQLITE_OK)
		return s_dberr(st, "setting synchronous");
	return 0;
}

int
kr_state_begin(kr_state *st)
{
	if (sqlite3_exec(st->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
		return s_dberr(st, "begin");
	if (st->dict_cur == -1)
		st->dict_cur = -2;      /* another process may have made one since */
	return 0;
}

int
kr_state_commit(kr_state *st)
{
	if (sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
		int rc = s_dberr(st, "commit");
		kr_state_rollback(st);
		return rc;
	}
	return 0;
}

void
kr_state_rollback(kr_state *st)
{
	if (!sqlite3_get_autocommit(st->db))
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
	kr_scols_destroy(&st->scols);   /* it may hold rows that were rolled back */
	s_dict_forget(st);
}

/* ---- manifests ------------------------------------------------------ */

#define MANIFEST_COLS "publisher, seq, issued, expires, name, lg_code, signed, received, peer"

static void
s_manifest_row(sqlite3_stmt *stmt, kr_state_manifest *m)
{
	memset(m, 0, sizeof(*m));
	s_colcpy(m->publisher, sizeof(m->publisher), stmt, 0);
	m->seq = (uint64_t)sqlite3_column_int64(stmt, 1);
	m->issued = sqlite3_column_int64(stmt, 2);
	m->expires = sqlite3_column_int64(stmt, 3);
	m->name = s_col(stmt, 4);
	m->lg_code = s_col(stmt, 5);
	m->signed_bytes = (kr_buf)KR_BUF_INIT;
	kr_buf_add(&m->signed_bytes, sqlite3_column_blob(stmt, 6), (size_t)sqlite3_column_bytes(stmt, 6));
	m->received = sqlite3_column_int64(stmt, 7);
	m->peer = s_col(stmt, 8);
}

int
kr_state_manifest_get(kr_state *st, const char *pub, kr_state_manifest *out)
{
	sqlite3_stmt *stmt;
	int rc;

	if ((rc = s_prep(st, &stmt, "SELECT " MANIFEST_COLS " FROM manifests WHERE publisher = ?", "s", pub)) < 0)
		return rc;
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW) {
		s_manifest_row(stmt, out);
		rc = 0;
	} else {
		rc = rc == SQLITE_DONE ? kr_error(KR_ENOTFOUND, "no manifest for %.16s…", pub)
		                       : s_dberr(st, "reading manifest");
	}
	sqlite3_finalize(stmt);
	return rc;
}

int
kr_state_manifest_put(kr_state *st, const kr_state_manifest *m)
{
	return s_run(st, NULL, "INSERT OR REPLACE INTO manifests (" MANIFEST_COLS ") "
	    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", "sIIIssbIs",
	    m->publisher, (int64_t)m->seq, m->issued, m->expires,
	    m->name ? m->name : "", m->lg_code ? m->lg_code : "",
	    m->signed_bytes.ptr, m->signed_bytes.len, m->received, m->peer);
}

int
kr_state_manifest_list(kr_state *st, kr_state_manifest **out, size_t *n)
{
	sqlite3_stmt *stmt;
	size_t cap = 0;
	int rc;

	*out = NULL;
	*n = 0;
	if ((rc = s_prep(st, &stmt, "SELECT " MANIFEST_COLS " FROM manifests ORDER BY publisher", "")) < 0)
		return rc;
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		if (*n == cap) {
			cap = cap ? cap * 2 : 16;
			*out = kr_realloc(*out, cap * sizeof(**out));
		}
		s_manifest_row(stmt, &(*out)[(*n)++]);
	}
	sqlite3_finalize(stmt);
	return rc == SQLITE_DONE ? 0 : s_dberr(st, "listing manifests");
}

void
kr_state_manifest_clear(kr_state_manifest *m)
{
	free(m->name);
	free(m->lg_code);
	free(m->peer);
	kr_buf_release(&m->signed_bytes);
	memset(m, 0, sizeof(*m));
}

void
kr_state_manifests_free(kr_state_manifest *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		kr_state_manifest_clear(&v[i]);
	free(v);
}

/* ---- heads ---------------------------------------------------------- */

static void
s_head_row(sqlite3_stmt *stmt, kr_state_head *h)
{
	s_colcpy(h->publisher, sizeof(h->publisher), stmt, 0);
	s_colcpy(h->collection, sizeof(h->collection), stmt, 1);
	s_colcpy(h->commit, sizeof(h->commit), stmt, 2);
	h->size = (uint64_t)sqlite3_column_int64(stmt, 3);
	h->synced = sqlite3_column_int64(stmt, 4);
}

int
kr_state_head_get(kr_state *st, const char *pub, const char *coll, kr_state_head *out)
{
	sqlite3_stmt *stmt;
	int rc;

	if ((rc = s_prep(st, &stmt, "SELECT publisher, collection, commit_id, size, synced FROM heads "
	    "WHERE publisher = ? AND collection = ?", "ss", pub, coll)) < 0)
		return rc;
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW) {
		s_head_row(stmt, out);
		rc = 0;
	} else {
		rc = rc == SQLITE_DONE ? KR_ENOTFOUND : s_dberr(st, "reading head");
	}
	sqlite3_finalize(stmt);
	return rc;
}

int
kr_state_head_put(kr_state *st, const kr_state_head *h)
{
	int rc = s_run(st, NULL, "INSERT OR REPLACE INTO heads (publisher, collection, commit_id, size, synced) "
	    "VALUES (?, ?, ?, ?, ?)", "sssII", h->publisher, h->collection, h->commit,
	    (int64_t)h->size, h->synced);

	if (rc == 0)
		rc = s_run(st, NULL, "INSERT INTO head_history (publisher, collection, commit_id, received) "
		    "VALUES (?, ?, ?, ?)", "sssI", h->publisher, h->collection, h->commit, h->synced);
	if (rc == 0)
		rc = s_run(st, NULL, "DELETE FROM head_history WHERE rowid IN (SELECT rowid FROM head_history "
		    "WHERE publisher = ? AND collection = ? ORDER BY received DESC, rowid DESC LIMIT -1 OFFSET ?)",
		    "ssI", h->publisher, h->collection, (int64_t)KR_HEAD_HISTORY);
	return rc;
}

int
kr_state_head_at(kr_state *st, const char *pub, const char *coll, int64_t t, char commit[KR_OID_HEX + 1])
{
	sqlite3_stmt *stmt;
	int rc;

	if ((rc = s_prep(st, &stmt, "SELECT commit_id FROM head_history WHERE publisher = ? AND collection = ? "
	    "AND received <= ? ORDER BY received DESC, rowid DESC LIMIT 1", "ssI", pub, coll, t)) < 0)
		return rc;
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW && sqlite3_column_text(stmt, 0) &&
	    strlen((const char *)sqlite3_column_text(stmt, 0)) == KR_OID_HEX) {
		memcpy(commit, sqlite3_column_text(stmt, 0), KR_OID_HEX + 1);
		rc = 0;
	} else if (rc == SQLITE_ROW || rc == SQLITE_DONE) {
		rc = kr_error(KR_ENOTFOUND, "no head of %.16s…/%s recorded by then", pub, coll);
	} else {
		rc = s_dberr(st, "head_history");
	}
	sqlite3_finalize(stmt);
	return rc;
}

int
kr_state_head_list(kr_state *st, const char *pub, kr_state_head **out, size_t *n)
{
	sqlite3_stmt *stmt;
	size_t cap = 0;
	int rc;

	*out = NULL;
	*n = 0;
	rc = pub ? s_prep(st, &stmt, "SELECT publisher, collection, commit_id, size, synced FROM heads "
	    "WHERE publisher = ? ORDER BY collection", "s", pub)
	         : s_prep(st, &stmt, "SELECT publisher, collection, commit_id, size, synced FROM heads "
	    "ORDER BY publisher, collection", "");
	if (rc < 0)
		return rc;
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		if (*n == cap) {
			cap = cap ? cap * 2 : 16;
			*out = kr_realloc(*out, cap * sizeof(**out));
		}
		s_head_row(stmt, &(*out)[(*n)++]);
	}
	sqlite3_finalize(stmt);
	return rc == SQLITE_DONE ? 0 : s_dberr(st, "listing heads");
}

/* ---- items ---------------------------------------------------------- */

/* Runs a cached statement (prepared once per connection) with text values. */
/*
 * Runs a cached statement with v[0..n) bound as text (NULL: null), except
 * v[body] (body >= 0), bound as stored (s_body_pack).
 */
static int
s_run_cached(kr_state *st, sqlite3_stmt **cache, int body, const char *sql, const char *const *v, int n)
{
	kr_buf z = KR_BUF_INIT;
	int rc;

	if (!*cache && sqlite3_prepare_v3(st->db, sql, -1, SQLITE_PREPARE_PERSISTENT, cache, NULL) != SQLITE_OK)
		return s_dberr(st, "prepare");
	for (int i = 0; i < n; i++) {
		const struct s_pretok *pre = st->pre && i == body && st->pre->body == v[i] ? st->pre : NULL;
		if (pre && pre->packed)
			rc = sqlite3_bind_blob64(*cache, i + 1, pre->z.ptr, pre->z.len, SQLITE_STATIC);
		else if (v[i] && i == body && !pre && s_body_pack(v[i], strlen(v[i]), &z, &st->zip, s_body_dict(st)))
			rc = sqlite3_bind_blob64(*cache, i + 1, z.ptr, z.len, SQLITE_STATIC);
		else
			rc = v[i] ? sqlite3_bind_text(*cache, i + 1, v[i], -1, SQLITE_STATIC) : sqlite3_bind_null(*cache, i + 1);
		if (rc != SQLITE_OK) {
			kr_buf_release(&z);
			return s_dberr(st, "bind");
		}
	}
	rc = sqlite3_step(*cache);
	kr_buf_release(&z);
	sqlite3_reset(*cache);
	sqlite3_clear_bindings(*cache);
	return rc == SQLITE_DONE ? 0 : s_dberr(st, "write");
}

int
kr_state_item_put(kr_state *st, const kr_state_item *it)
{
	const char *v[] = { it->publisher, it->collection, it->path, it->id, it->kind, it->title,
		it->version, it->updated, it->blob, it->commit, it->body ? it->body : "",
		it->meta ? it->meta : "", it->lg_code, it->pref, it->domains, it->ai_uses, it->outcome,
		it->deployment, it->popband, it->published, it->headline };

	/* An upsert, not INSERT OR REPLACE: REPLACE would skip the FTS delete trigger. */
	return s_run_cached(st, &st->item_put, 10, "INSERT INTO items (publisher, collection, path, id, "
	    "kind, title, version, updated, blob, commit_id, body, meta, lg_code, pref, domains, "
	    "ai_uses, outcome, deployment, popband, published, headline) VALUES "
	    "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
	    "ON CONFLICT (publisher, collection, path) DO UPDATE SET id = excluded.id, "
	    "kind = excluded.kind, title = excluded.title, version = excluded.version, "
	    "updated = excluded.updated, blob = excluded.blob, commit_id = excluded.commit_id, "
	    "body = excluded.body, meta = excluded.meta, lg_code = excluded.lg_code, "
	    "pref = excluded.pref, domains = excluded.domains, ai_uses = excluded.ai_uses, "
	    "outcome = excluded.outcome, deployment = excluded.deployment, popband = excluded.popband, "
	    "published = excluded.published, headline = excluded.headline", v, 21);
}

/*
 * Bulk writes (a first sync, a large publish). Through the triggers, each
 * row is a statement that writes two tables, so SQLite opens a statement
 * savepoint for it, and FTS5 writes its pending index to disk at every
 * savepoint: one tiny segment per row, merged again and again (43% of a
 * 10,000-item first sync, perf). Here the two insert triggers are dropped
 * for the batch, inside the caller's transaction; each row's FTS5 entry is
 * written by an insert of its own (the old entry deleted first when the
 * row replaces one), its text tokenised ahead on a second thread (s_bulk);
 * FTS5 keeps up to BULK_HASH of index in memory; and the triggers are
 * created again from their own text before returning. A batch at least
 * as large as the index it joins (a first sync, a large import) is
 * merged once at the end instead of as it goes: FTS5's automatic merges
 * are off while it is written (each merged the same entries again, level
 * by level) and an 'optimize' then leaves the index as one segment, which
 * a query of a common term reads as one list instead of merging ~20
 * (a write of 100,000 items: see the commit). A failure returns the
 * error with the triggers possibly still dropped: the caller rolls
 * back, which restores them and the settings (as does a crash).
 */
#define BULK_ROWS 64                    /* fewer: row by row through the triggers */
#define BULK_HASH (16 << 20)
#define FTS5_HASH 1048576               /* FTS5's default (FTS5_DEFAULT_HASHSIZE) */
#define FTS5_AUTOMERGE 4                /* FTS5's default (FTS5_DEFAULT_AUTOMERGE) */
#define FTS5_CRISISMERGE 16             /* FTS5's default (FTS5_DEFAULT_CRISISMERGE) */
#define BULK_CRISIS 1000                /* segments of one level before FTS5 must merge (its maximum is 2000) */

/* Runs a cached statement with v[0..n) bound (NULL: null), stepping once; rc SQLITE_ROW or SQLITE_DONE. */
static int
s_step_cached(kr_state *st, sqlite3_stmt **cache, const char *sql, const char *const *v, int n)
{
	if (!*cache && sqlite3_prepare_v3(st->db, sql, -1, SQLITE_PREPARE_PERSISTENT, cache, NULL) != SQLITE_OK)
		return s_dberr(st, "prepare");
	sqlite3_reset(*cache);
	sqlite3_clear_bindings(*cache);
	for (int i = 0; i < n; i++)
		if ((v[i] ? sqlite3_bind_text(*cache, i + 1, v[i], -1, SQLITE_STATIC)
		          : sqlite3_bind_null(*cache, i + 1)) != SQLITE_OK)
			return s_dberr(st, "bind");
	return sqlite3_step(*cache);
}

/* The FTS5 entry of row n: 'delete' (with the row's old text) or insert. */
static int
s_fts_write(kr_state *st, sqlite3_stmt **cache, const char *sql, int64_t n, const char *title,
    const char *body, const char *meta)
{
	const char *v[] = { title, body, meta };
	int rc;

	if (!*cache && sqlite3_prepare_v3(st->db, sql, -1, SQLITE_PREPARE_PERSISTENT, cache, NULL) != SQLITE_OK)
		return s_dberr(st, "prepare");
	sqlite3_reset(*cache);
	if (sqlite3_bind_int64(*cache, 1, n) != SQLITE_OK)
		return s_dberr(st, "bind");
	for (int i = 0; i < 3; i++)
		if (sqlite3_bind_text(*cache, i + 2, v[i], -1, SQLITE_STATIC) != SQLITE_OK)
			return s_dberr(st, "bind");
	rc = sqlite3_step(*cache);
	sqlite3_reset(*cache);
	return rc == SQLITE_DONE ? 0 : s_dberr(st, "writing the search index");
}

/* One row and its FTS5 entry, the insert triggers dropped. */
static int
s_item_put_bulk(kr_state *st, const kr_state_item *it, sqlite3_stmt **old, sqlite3_stmt **del,
    sqlite3_stmt **ins)
{
	const char *key[] = { it->publisher, it->collection, it->path };
	int64_t n = 0;
	int rc;

	/* the row this one replaces, if any: its FTS5 entry goes with its old text */
	rc = s_step_cached(st, old, "SELECT n, title, kr_text(body), meta FROM items WHERE publisher = ? AND collection = ? "
	    "AND path = ?", key, 3);
	if (rc == SQLITE_ROW) {
		n = sqlite3_column_int64(*old, 0);
		rc = s_fts_write(st, del, "INSERT INTO items_fts(items_fts, rowid, title, body, meta) "
		    "VALUES ('delete', ?, ?, ?, ?)", n, (const char *)sqlite3_column_text(*old, 1),
		    (const char *)sqlite3_column_text(*old, 2), (const char *)sqlite3_column_text(*old, 3));
		sqlite3_reset(*old);
		if (rc < 0)
			return rc;
	} else if (rc != SQLITE_DONE) {
		rc = s_dberr(st, "reading an item");
		sqlite3_reset(*old);
		return rc;
	}
	sqlite3_reset(*old);
	if ((rc = kr_state_item_put(st, it)) < 0)
		return rc;
	if (!n)
		n = sqlite3_last_insert_rowid(st->db);
	return s_fts_write(st, ins, "INSERT INTO items_fts(rowid, title, body, meta) VALUES (?, ?, ?, ?)", n,
	    it->title, it->body ? it->body : "", it->meta ? it->meta : "");
}

/*
 * The search text of the rows ahead is tokenised, and their bodies
 * deflated, on a second thread (the tokenizer and zlib are most of what
 * is left of the write once the savepoints are gone) while this one writes
 * rows and FTS5 takes the tokens from st->pre; at most BULK_AHEAD rows
 * ahead, so memory stays bounded whatever the count. The other core is
 * idle meanwhile: the checks are done.
 *
 * A body goes to whichever thread claims it first (zclaim): the helper
 * claims it after the row's tokens only while it is ahead of the writer,
 * and the writer claims a body not yet claimed when it gets to its row. So
 * when zlib with a dictionary makes the helper the slower of the two, the
 * writer takes bodies over and neither waits long. (A third thread for
 * the bodies was slower on two cores: 5.6 against 4.7 s for 30,000 rows.)
 */
#define BULK_AHEAD 64

typedef struct {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	const kr_state_item *v;
	size_t n, made, written;        /* rows; rows tokenised; rows written */
	int stop;
	s_pretok slot[BULK_AHEAD];
	/* per slot: 1 + the last row whose body was claimed / deflated in it */
	atomic_size_t zclaim[BULK_AHEAD];
	size_t zdone[BULK_AHEAD];
	kr_buf dict;                    /* the bodies' dictionary (a copy: st's cache may move), or empty */
	kr_deflater zip, zip_writer;    /* the helper's, the writer's */
} s_bulk;

/* Claims row i's body for the calling thread; 0 if the other thread has. */
static int
s_bulk_claim(s_bulk *b, size_t i)
{
	size_t was = i >= BULK_AHEAD ? i - BULK_AHEAD + 1 : 0;

	return atomic_compare_exchange_strong(&b->zclaim[i % BULK_AHEAD], &was, i + 1);
}

/* Deflates row i's body into its slot (after s_bulk_claim) and says it is there. */
static void
s_bulk_body(s_bulk *b, size_t i, kr_deflater *zip)
{
	s_pretok *p = &b->slot[i % BULK_AHEAD];

	p->body = b->v[i].body ? b->v[i].body : "";
	p->packed = s_body_pack(p->body, strlen(p->body), &p->z, zip, b->dict.len ? &b->dict : NULL);
	pthread_mutex_lock(&b->mu);
	b->zdone[i % BULK_AHEAD] = i + 1;
	pthread_cond_broadcast(&b->cv);
	pthread_mutex_unlock(&b->mu);
}

static int
s_pretok_add(void *ctx, int colocated, const char *tok, int len, int start, int end)
{
	kr_buf *b = ctx;
	s_pretok_hdr h = { .start = start, .end = end, .len = (uint16_t)len, .colocated = colocated != 0 };

	kr_buf_grow(b, sizeof(h) + (size_t)len);
	memcpy(b->ptr + b->len, &h, sizeof(h));
	memcpy(b->ptr + b->len + sizeof(h), tok, (size_t)len);
	b->len += sizeof(h) + (size_t)len;
	b->ptr[b->len] = '\0';
	return 0;
}

static void
s_pretok_fill(s_pretok *p, const kr_state_item *it)
{
	const char *cols[3] = { it->title ? it->title : "", it->body ? it->body : "", it->meta ? it->meta : "" };

	kr_buf_clear(&p->tok);
	for (int k = 0; k < 3; k++) {
		p->text[k] = cols[k];
		p->len[k] = (int)strlen(cols[k]);
		p->off[k] = p->tok.len;
		kr_text_tokenize(p->text[k], p->len[k], KR_TEXT_DOCUMENT, s_pretok_add, &p->tok);
	}
	p->off[3] = p->tok.len;
}

static void *
s_bulk_run(void *arg)
{
	s_bulk *b = arg;

	for (size_t i = 0; i < b->n; i++) {
		size_t ahead;
		int stop;
		pthread_mutex_lock(&b->mu);
		while (!b->stop && i - b->written >= BULK_AHEAD)
			pthread_cond_wait(&b->cv, &b->mu);
		ahead = i - b->written;
		stop = b->stop;
		pthread_mutex_unlock(&b->mu);
		if (stop)
			break;
		s_pretok_fill(&b->slot[i % BULK_AHEAD], &b->v[i]);
		pthread_mutex_lock(&b->mu);
		b->made = i + 1;
		pthread_cond_broadcast(&b->cv);
		pthread_mutex_unlock(&b->mu);
		/* the body too while ahead; close to the writer, it is left for the writer */
		if (ahead >= 2 && s_bulk_claim(b, i))
			s_bulk_body(b, i, &b->zip);
	}
	return NULL;
}

/*
 * An FTS5 setting (key: 'hashsize', 'automerge', 'crisismerge'): set to v,
 * the old value in *was (-1: not set, FTS5's default).
 */
static int
s_fts_set(kr_state *st, const char *key, int64_t v, int64_t *was)
{
	sqlite3_stmt *stmt;
	int rc;

	if (was) {
		*was = -1;
		if ((rc = s_prep(st, &stmt, "SELECT v FROM items_fts_config WHERE k = ?", "s", key)) < 0)
			return rc;
		if (sqlite3_step(stmt) == SQLITE_ROW)
			*was = sqlite3_column_int64(stmt, 0);
		sqlite3_finalize(stmt);
	}
	return s_run(st, NULL, "INSERT INTO items_fts(items_fts, rank) VALUES (?, ?)", "sI", key, v);
}

/* The batch of n rows is at least as large as the index it joins (rows' keys as upper bound). */
static int
s_bulk_large(kr_state *st, size_t n, int *large)
{
	sqlite3_stmt *stmt;
	int rc;

	*large = 0;
	if ((rc = s_prep(st, &stmt, "SELECT coalesce(max(n), 0) FROM items", "")) < 0)
		return rc;
	if (sqlite3_step(stmt) == SQLITE_ROW)
		*large = (int64_t)n >= sqlite3_column_int64(stmt, 0);
	sqlite3_finalize(stmt);
	return 0;
}

int
kr_state_items_put(kr_state *st, const kr_state_item *v, size_t n)
{
	sqlite3_stmt *trig = NULL, *old = NULL, *del = NULL, *ins = NULL;
	char *sql[2] = { NULL, NULL };
	const kr_buf *dict;
	int64_t hash = -1, automerge = -1, crisis = -1;
	size_t ntrig = 0;
	s_bulk *b;
	pthread_t t;
	int rc = 0, threaded, large = 0;

	if (n < BULK_ROWS) {
		for (size_t i = 0; i < n && rc == 0; i++)
			rc = kr_state_item_put(st, &v[i]);
		if (rc == 0 && st->rows_cb && n)
			st->rows_cb(st->rows_arg, n, n);
		return rc;
	}
	if ((rc = s_prep(st, &trig, "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'items' "
	    "AND name IN ('items_fts_ai', 'items_fts_au') ORDER BY name", "")) < 0)
		return rc;
	while (ntrig < 2 && sqlite3_step(trig) == SQLITE_ROW)
		sql[ntrig++] = s_col(trig, 0);
	sqlite3_finalize(trig);
	if (ntrig != 2 || !sql[0] || !sql[1]) {
		/* not the schema this was written for: row by row, through whatever triggers there are */
		for (size_t i = 0; i < n && rc == 0; i++)
			if ((rc = kr_state_item_put(st, &v[i])) == 0 && st->rows_cb)
				st->rows_cb(st->rows_arg, i + 1, n);
		goto done;
	}
	if ((rc = s_bulk_large(st, n, &large)) < 0 ||
	    (rc = s_run(st, NULL, "DROP TRIGGER items_fts_ai", "")) < 0 ||
	    (rc = s_run(st, NULL, "DROP TRIGGER items_fts_au", "")) < 0 ||
	    (rc = s_fts_set(st, "hashsize", BULK_HASH, &hash)) < 0 ||
	    (large && (rc = s_fts_set(st, "automerge", 0, &automerge)) < 0) ||
	    (large && (rc = s_fts_set(st, "crisismerge", BULK_CRISIS, &crisis)) < 0) ||
	    (rc = s_body_dict_make(st, v, n)) < 0)
		goto done;
	b = kr_calloc(1, sizeof(*b));
	for (size_t i = 0; i < BULK_AHEAD; i++)
		atomic_init(&b->zclaim[i], 0);
	if ((dict = s_body_dict(st)))
		kr_buf_add(&b->dict, dict->ptr, dict->len);
	pthread_mutex_init(&b->mu, NULL);
	pthread_cond_init(&b->cv, NULL);
	b->v = v;
	b->n = n;
	threaded = pthread_create(&t, NULL, s_bulk_run, b) == 0;
	for (size_t i = 0; i < n && rc == 0; i++) {
		if (threaded) {
			pthread_mutex_lock(&b->mu);
			while (b->made <= i)
				pthread_cond_wait(&b->cv, &b->mu);
			pthread_mutex_unlock(&b->mu);
			if (s_bulk_claim(b, i))
				s_bulk_body(b, i, &b->zip_writer);
			pthread_mutex_lock(&b->mu);
			while (b->zdone[i % BULK_AHEAD] != i + 1)
				pthread_cond_wait(&b->cv, &b->mu);
			pthread_mutex_unlock(&b->mu);
			st->pre = &b->slot[i % BULK_AHEAD];
		}
		rc = s_item_put_bulk(st, &v[i], &old, &del, &ins);
		st->pre = NULL;
		if (rc == 0 && st->rows_cb)
			st->rows_cb(st->rows_arg, i + 1, n);
		if (threaded) {
			pthread_mutex_lock(&b->mu);
			b->written = i + 1;
			pthread_cond_broadcast(&b->cv);
			pthread_mutex_unlock(&b->mu);
		}
	}
	if (threaded) {
		pthread_mutex_lock(&b->mu);
		b->stop = 1;
		pthread_cond_broadcast(&b->cv);
		pthread_mutex_unlock(&b->mu);
		pthread_join(t, NULL);
	}
	for (size_t i = 0; i < BULK_AHEAD; i++) {
		kr_buf_release(&b->slot[i].tok);
		kr_buf_release(&b->slot[i].z);
	}
	pthread_cond_destroy(&b->cv);
	pthread_mutex_destroy(&b->mu);
	kr_buf_release(&b->dict);
	kr_deflater_end(&b->zip);
	kr_deflater_end(&b->zip_writer);
	free(b);
	sqlite3_finalize(old);
	sqlite3_finalize(del);
	sqlite3_finalize(ins);
	/* the segments written merged into one (the pending index first) */
	if (rc == 0 && large)
		rc = s_run(st, NULL, "INSERT INTO items_fts(items_fts) VALUES ('optimize')", "");
	/* as they were: later writes flush at FTS5's size and merge as FTS5 does */
	if (rc == 0)
		rc = s_fts_set(st, "hashsize", hash < 0 ? FTS5_HASH : hash, NULL);
	if (rc == 0 && large)
		rc = s_fts_set(st, "automerge", automerge < 0 ? FTS5_AUTOMERGE : automerge, NULL);
	if (rc == 0 && large)
		rc = s_fts_set(st, "crisismerge", crisis < 0 ? FTS5_CRISISMERGE : crisis, NULL);
	if (rc == 0 && sqlite3_exec(st->db, sql[0], NULL, NULL, NULL) != SQLITE_OK)
		rc = s_dberr(st, "restoring the search index trigger");
	if (rc == 0 && sqlite3_exec(st->db, sql[1], NULL, NULL, NULL) != SQLITE_OK)
		rc = s_dberr(st, "restoring the search index trigger");
done:
	free(sql[0]);
	free(sql[1]);
	return rc;
}

void
kr_state_on_rows(kr_state *st, void (*cb)(void *arg, size_t done, size_t n), void *arg)
{
	st->rows_cb = cb;
	st->rows_arg = arg;
}

int
kr_state_item_delete(kr_state *st, const char *pub, const char *coll, const char *path)
{
	const char *v[] = { pub, coll, path };

	/* and the rows indexed from a dataset's data file at path ("path#ROW-ID") */
	return s_run_cached(st, &st->item_delete, -1, "DELETE FROM items WHERE publisher = ?1 AND "
	    "collection = ?2 AND (path = ?3 OR substr(path, 1, length(?3) + 1) = ?3 || '#')", v, 3);
}

int
kr_state_items_drop(kr_state *st, const char *pub, const char *coll)
{
	return s_run(st, NULL, "DELETE FROM items WHERE publisher = ? AND collection = ?", "ss", pub, coll);
}

int
kr_state_rotated_away(kr_state *st, const char *pub, const char *coll)
{
	int rc;

	if ((rc = s_run(st, NULL, "DELETE FROM items WHERE publisher = ? AND collection = ?", "ss", pub, coll)) < 0 ||
	    (rc = s_run(st, NULL, "DELETE FROM heads WHERE publisher = ? AND collection = ?", "ss", pub, coll)) < 0)
		return rc;
	return s_run(st, NULL, "DELETE FROM manifests WHERE publisher = ? AND NOT EXISTS "
	    "(SELECT 1 FROM heads WHERE publisher = ?)", "ss", pub, pub);
}

int
kr_state_item_find(kr_state *st, const char *id, kr_state_item **out, size_t *n)
{
	sqlite3_stmt *stmt;
	size_t cap = 0;
	int rc;

	*out = NULL;
	*n = 0;
	if ((rc = s_prep(st, &stmt, "SELECT i.publisher, i.collection, i.path, i.id, i.kind, i.title, "
	    "i.version, i.updated, i.blob, i.commit_id, m.name, m.lg_code FROM items i "
	    "LEFT JOIN manifests m ON m.publisher = i.publisher WHERE i.id = ? "
	    "ORDER BY i.updated DESC", "s", id)) < 0)
		return rc;
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		kr_state_item *it;
		if (*n == cap) {
			cap = cap ? cap * 2 : 4;
			*out = kr_realloc(*out, cap * sizeof(**out));
		}
		it = &(*out)[(*n)++];
		it->publisher = s_col(stmt, 0);
		it->collection = s_col(stmt, 1);
		it->path = s_col(stmt, 2);
		it->id = s_col(stmt, 3);
		it->kind = s_col(stmt, 4);
		it->title = s_col(stmt, 5);
		it->version = s_col(stmt, 6);
		it->updated = s_col(stmt, 7);
		it->blob = s_col(stmt, 8);
		it->commit = s_col(stmt, 9);
		it->pub_name = s_col(stmt, 10);
		it->pub_code = s_col(stmt, 11);
	}
	sqlite3_finalize(stmt);
	if (rc != SQLITE_DONE)
		return s_dberr(st, "finding item");
	return *n ? 0 : kr_error(KR_ENOTFOUND, "no item %s on this node", id);
}

int
kr_state_item_count(kr_state *st, const char *pub, const char *coll, int64_t *n)
{
	sqlite3_stmt *stmt;
	int rc;

	if ((rc = s_prep(st, &stmt, "SELECT count(*) FROM items WHERE publisher = ? AND collection = ? "
	    "AND instr(path, '#') = 0",
	    "ss", pub, coll)) < 0)
		return rc;
	rc = sqlite3_step(stmt);
	*n = rc == SQLITE_ROW ? sqlite3_column_int64(stmt, 0) : 0;
	sqlite3_finalize(stmt);
	return rc == SQLITE_ROW ? 0 : s_dberr(st, "counting items");
}

char *
kr_state_setting(kr_state *st, const char *key)
{
	sqlite3_stmt *stmt;
	char *v = NULL;

	if (s_prep(st, &stmt, "SELECT value FROM settings WHERE key = ?", "s", key) < 0)
		return NULL;
	if (sqlite3_step(stmt) == SQLITE_ROW)
		v = s_col(stmt, 0);
	sqlite3_finalize(stmt);
	return v;
}

int
kr_state_setting_put(kr_state *st, const char *key, const char *value)
{
	if (!value)
		return s_run(st, NULL, "DELETE FROM settings WHERE key = ?", "s", key);
	return s_run(st, NULL, "INSERT OR REPLACE INTO settings (key, value) VALUES (?, ?)", "ss", key, value);
}

/* ---- search ----------------------------------------------------------- */

/* A row's token count from its FTS5 %_docsize blob: one varint (SQLite's format) per column. */
static int
s_docsize(const unsigned char *p, int len)
{
	int ntok = 0;

	for (int i = 0; p && i < len;) {
		uint64_t v = 0;
		int k = 0;
		while (i < len && k < 8 && (p[i] & 0x80)) {
			v = (v << 7) | (p[i++] & 0x7f);
			k++;
		}
		if (i < len)
			v = k == 8 ? (v << 8) | p[i++] : (v << 7) | p[i++];
		ntok += (int)v;
	}
	return ntok;
}

#define SCOLS_COLS "n, kind, outcome, pref, deployment, popband, publisher, lg_code, updated, domains, ai_uses"
#define SCOLS_SELECT "SELECT " SCOLS_COLS " FROM items"
#define SCOLS_SELECT_ID "SELECT " SCOLS_COLS ", blob, id FROM items"

static void
s_scols_add(kr_scols *c, sqlite3_stmt *stmt)
{
	const char *v[KR_SCOL_N];

	for (int k = 0; k < KR_SCOL_N; k++)
		v[k] = (const char *)sqlite3_column_text(stmt, k + 1);
	kr_scols_row(c, sqlite3_column_int64(stmt, 0), v);
}

/*
 * A dataset's card: its blob is what the board endorses, so its rows are
 * judged by it. The last one looked up is kept (rows come in id order).
 */
typedef struct {
	sqlite3_stmt *stmt;             /* the card's blob by (id, publisher) */
	char *ds, *pub, *blob;          /* the last looked up; blob NULL when it has no card */
} s_cards;

static void
s_cards_clear(s_cards *k)
{
	sqlite3_finalize(k->stmt);
	free(k->ds);
	free(k->pub);
	free(k->blob);
}

/*
 * Row n with item id `id`: a dataset row (DATASET-ID#ROW) groups under
 * DATASET-ID and is judged by its card's blob (its own without a card).
 * -1 when the card cannot be read.
 */
static int
s_scols_group(kr_state *st, kr_scols *c, s_cards *k, int64_t n, const char *id)
{
	const char *hash = id ? strchr(id, '#') : NULL, *pub, *kind;
	char own[KR_OID_HEX + 1];
	uint8_t oid[KR_OID_LEN];
	int rc;

	if (!hash)
		return 0;
	{
		char *ds = kr_strndup(id, (size_t)(hash - id));
		kr_scols_group(c, n, ds);
		free(ds);
	}
	if (kr_scols_item(c, n, &pub, &kind, own) < 0 || !pub)
		return 0;
	if (!k->ds || strncmp(k->ds, id, (size_t)(hash - id)) != 0 || k->ds[hash - id] || strcmp(k->pub, pub) != 0) {
		free(k->ds);
		free(k->pub);
		free(k->blob);
		k->ds = kr_strndup(id, (size_t)(hash - id));
		k->pub = kr_strdup(pub);
		k->blob = NULL;
		if (!k->stmt && s_prep(st, &k->stmt, "SELECT blob FROM items WHERE id = ? AND publisher = ?", "") < 0)
			return -1;
		sqlite3_bind_text(k->stmt, 1, k->ds, -1, SQLITE_STATIC);
		sqlite3_bind_text(k->stmt, 2, k->pub, -1, SQLITE_STATIC);
		if ((rc = sqlite3_step(k->stmt)) == SQLITE_ROW)
			k->blob = kr_strdup((const char *)sqlite3_column_text(k->stmt, 0));
		sqlite3_reset(k->stmt);
		if (rc != SQLITE_ROW && rc != SQLITE_DONE)
			return -1;
	}
	if (k->blob && kr_unhex(oid, KR_OID_LEN, k->blob) == 0)
		kr_scols_blob(c, n, oid);
	return 0;
}

/*
 * The filter and facet columns of every row, kept in st->scols as of the
 * current read transaction: rebuilt when another connection committed
 * (data_version) or this one wrote (total_changes) since they were built.
 * One sequential read of a covering index (items_facets), and of FTS5's
 * %_docsize table and of items_blob (on the second connection at once
 * when there are many rows). A dataset row's blob is then its card's.
 * *fresh is 1 if they are current without a rebuild; with build 0 a stale
 * copy is dropped and not rebuilt.
 */
static int s_split_begin(kr_state *st);

/*
 * Every row's token count from FTS5's %_docsize and its blob from
 * items_blob (s_scols_fresh): read on the second connection while the
 * first reads the facet columns, or after them on the first.
 */
typedef struct {
	sqlite3 *db;
	int64_t *n;
	int32_t *ntok;
	size_t len, cap;
	int64_t *bn;
	uint8_t (*blob)[KR_OID_LEN];
	size_t blen, bcap;
	int rc;
} s_doclens;

static void *
s_doclens_run(void *arg)
{
	s_doclens *d = arg;
	sqlite3_stmt *stmt;

	if (sqlite3_prepare_v2(d->db, "SELECT id, sz FROM items_fts_docsize", -1, &stmt, NULL) != SQLITE_OK) {
		d->rc = SQLITE_ERROR;
		return NULL;
	}
	while ((d->rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		if (d->len == d->cap) {
			d->cap = d->cap ? d->cap * 2 : 4096;
			d->n = kr_realloc(d->n, d->cap * sizeof(*d->n));
			d->ntok = kr_realloc(d->ntok, d->cap * sizeof(*d->ntok));
		}
		d->n[d->len] = sqlite3_column_int64(stmt, 0);
		d->ntok[d->len++] = s_docsize(sqlite3_column_blob(stmt, 1), sqlite3_column_bytes(stmt, 1));
	}
	sqlite3_finalize(stmt);
	if (d->rc != SQLITE_DONE)
		return NULL;
	if (sqlite3_prepare_v2(d->db, "SELECT n, blob FROM items INDEXED BY items_blob", -1, &stmt, NULL) != SQLITE_OK) {
		d->rc = SQLITE_ERROR;
		return NULL;
	}
	while ((d->rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		const char *hex = (const char *)sqlite3_column_text(stmt, 1);
		if (d->blen == d->bcap) {
			d->bcap = d->bcap ? d->bcap * 2 : 4096;
			d->bn = kr_realloc(d->bn, d->bcap * sizeof(*d->bn));
			d->blob = kr_realloc(d->blob, d->bcap * sizeof(*d->blob));
		}
		/* a blob that is not one (never written so) leaves its row without: judged as having none */
		if (hex && kr_unhex(d->blob[d->blen], KR_OID_LEN, hex) == 0)
			d->bn[d->blen++] = sqlite3_column_int64(stmt, 0);
	}
	sqlite3_finalize(stmt);
	return NULL;
}

static void
s_doclens_free(s_doclens *d)
{
	free(d->n);
	free(d->ntok);
	free(d->bn);
	free(d->blob);
}

/* The highest rowid of items (0 when empty or unreadable): how large the columns will be. */
static int64_t
s_rowid_max(kr_state *st)
{
	sqlite3_stmt *stmt;
	int64_t n = 0;

	if (sqlite3_prepare_v2(st->db, "SELECT max(rowid) FROM items", -1, &stmt, NULL) != SQLITE_OK)
		return 0;
	if (sqlite3_step(stmt) == SQLITE_ROW)
		n = sqlite3_column_int64(stmt, 0);
	sqlite3_finalize(stmt);
	return n;
}

static int
s_scols_fresh(kr_state *st, int build, int *fresh)
{
	sqlite3_stmt *stmt;
	int64_t dv, tc = sqlite3_total_changes64(st->db);
	int rc, par = 0;
	s_doclens dl = { 0 };
	pthread_t tid;

	*fresh = 0;
	if ((rc = s_prep(st, &stmt, "PRAGMA data_version", "")) < 0)
		return rc;
	if (sqlite3_step(stmt) != SQLITE_ROW) {
		sqlite3_finalize(stmt);
		return s_dberr(st, "searching");
	}
	dv = sqlite3_column_int64(stmt, 0);
	sqlite3_finalize(stmt);
	if (st->scols && st->scols_dv == dv && st->scols_tc == tc) {
		*fresh = 1;
		return 0;
	}
	kr_scols_destroy(&st->scols);
	if (!build)
		return 0;
	if ((rc = s_prep(st, &stmt, SCOLS_SELECT, "")) < 0)
		return rc;
	/* many rows: the token counts are read on the second connection meanwhile */
	if (st->split_min && s_rowid_max(st) >= (int64_t)st->split_min && s_split_begin(st)) {
		dl.db = st->aux;
		if (pthread_create(&tid, NULL, s_doclens_run, &dl) == 0)
			par = 1;
		else
			sqlite3_exec(st->aux, "COMMIT", NULL, NULL, NULL);
	}
	st->scols = kr_scols_new();
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW)
		s_scols_add(st->scols, stmt);
	sqlite3_finalize(stmt);
	if (par) {
		pthread_join(tid, NULL);
		sqlite3_exec(st->aux, "COMMIT", NULL, NULL, NULL);
		par = dl.rc == SQLITE_DONE;
	}
	if (rc == SQLITE_DONE && !par) {
		/* on this connection (few rows, or the second one failed) */
		s_doclens_free(&dl);
		memset(&dl, 0, sizeof(dl));
		dl.db = st->db;
		s_doclens_run(&dl);
		rc = dl.rc;
	}
	if (rc != SQLITE_DONE) {
		kr_scols_destroy(&st->scols);
		s_doclens_free(&dl);
		return s_dberr(st, "searching");
	}
	for (size_t i = 0; i < dl.len; i++)
		kr_scols_doclen(st->scols, dl.n[i], dl.ntok[i]);
	for (size_t i = 0; i < dl.blen; i++)
		kr_scols_blob(st->scols, dl.bn[i], dl.blob[i]);
	s_doclens_free(&dl);
	/* the dataset rows, from their partial index (items_rows) */
	if (rc != SQLITE_DONE ||
	    (rc = s_prep(st, &stmt, "SELECT n, id FROM items WHERE instr(id, '#') > 0", "")) < 0) {
		kr_scols_destroy(&st->scols);
		return rc < 0 ? rc : s_dberr(st, "searching");
	}
	{
		s_cards k = { 0 };
		while ((rc = sqlite3_step(stmt)) == SQLITE_ROW &&
		    s_scols_group(st, st->scols, &k, sqlite3_column_int64(stmt, 0),
		    (const char *)sqlite3_column_text(stmt, 1)) == 0)
			;
		s_cards_clear(&k);
	}
	sqlite3_finalize(stmt);
	if (rc != SQLITE_DONE) {
		kr_scols_destroy(&st->scols);
		return s_dberr(st, "searching");
	}
	st->scols_dv = dv;
	st->scols_tc = tc;
	st->scols_rows = kr_scols_rows(st->scols, &st->split_mid);
	*fresh = 1;
	return 0;
}

/*
 * Without current columns, the first query of a connection that matches
 * few rows does not pay for reading every row's: *out gets the columns of just its matches (at most
 * SCOLS_PARTIAL rows, each looked up by n), and is NULL when it matches
 * more (then build them all). Errors in the MATCH itself are left to the
 * search proper, which reports them.
 */
#define SCOLS_PARTIAL 2000

static int
s_scols_partial(kr_state *st, const char *match, kr_scols **out)
{
	sqlite3_stmt *stmt, *row = NULL, *dsz = NULL;
	s_cards cards = { 0 };
	int64_t *ns = kr_calloc(SCOLS_PARTIAL + 1, sizeof(int64_t));
	size_t n = 0;
	int rc;

	*out = NULL;
	if ((rc = s_prep(st, &stmt, "SELECT rowid FROM items_fts WHERE items_fts MATCH ?", "s", match)) < 0) {
		free(ns);
		return rc;
	}
	while (n <= SCOLS_PARTIAL && (rc = sqlite3_step(stmt)) == SQLITE_ROW)
		ns[n++] = sqlite3_column_int64(stmt, 0);
	sqlite3_finalize(stmt);
	if (n > SCOLS_PARTIAL || (rc != SQLITE_DONE && rc != SQLITE_ROW)) {
		free(ns);
		return 0;
	}
	if ((rc = s_prep(st, &row, SCOLS_SELECT_ID " WHERE n = ?", "")) < 0 ||
	    (rc = s_prep(st, &dsz, "SELECT sz FROM items_fts_docsize WHERE id = ?", "")) < 0)
		goto done;
	*out = kr_scols_new();
	for (size_t i = 0; i < n; i++) {
		sqlite3_bind_int64(row, 1, ns[i]);
		sqlite3_bind_int64(dsz, 1, ns[i]);
		if ((rc = sqlite3_step(row)) == SQLITE_ROW) {
			s_scols_add(*out, row);
			const char *hex = (const char *)sqlite3_column_text(row, KR_SCOL_N + 1);
			uint8_t oid[KR_OID_LEN];
			if (hex && kr_unhex(oid, KR_OID_LEN, hex) == 0)
				kr_scols_blob(*out, ns[i], oid);
			if (s_scols_group(st, *out, &cards, ns[i], (const char *)sqlite3_column_text(row, KR_SCOL_N + 2)) < 0)
				rc = SQLITE_ERROR;
		}
		if (rc != SQLITE_ROW && rc != SQLITE_DONE)
			break;
		if ((rc = sqlite3_step(dsz)) == SQLITE_ROW)
			kr_scols_doclen(*out, ns[i], s_docsize(sqlite3_column_blob(dsz, 0), sqlite3_column_bytes(dsz, 0)));
		if (rc != SQLITE_ROW && rc != SQLITE_DONE)
			break;
		sqlite3_reset(row);
		sqlite3_reset(dsz);
		rc = 0;
	}
	if (rc != 0) {
		kr_scols_destroy(out);
		rc = s_dberr(st, "searching");
	}
done:
	s_cards_clear(&cards);
	sqlite3_finalize(row);
	sqlite3_finalize(dsz);
	free(ns);
	return rc;
}

/* Reads the best rows in full, with a snippet, into out->hits. */
static int
s_search_hits(kr_state *st, const kr_search_q *q, const int64_t *ns, const double *ranks, const size_t *more,
    size_t nbest, kr_search_result *out)
{
	sqlite3_stmt *stmt;
	int rc;

	if ((rc = s_prep(st, &stmt, "SELECT i.id, i.title, i.publisher, m.name, i.lg_code, i.kind, "
	    "i.version, i.updated, i.outcome, i.headline, i.collection, i.path, "
	    "snippet(items_fts, -1, '【', '】', '…', 16) FROM items_fts JOIN items i ON i.n = items_fts.rowid "
	    "LEFT JOIN manifests m ON m.publisher = i.publisher WHERE items_fts MATCH ? AND items_fts.rowid = ?",
	    "s", q->match)) < 0)
		return rc;
	out->hits = kr_calloc(nbest, sizeof(*out->hits));
	for (size_t k = 0; k < nbest; k++) {
		sqlite3_bind_int64(stmt, 2, ns[k]);
		/* a row that cannot be read (a damaged body) fails the search: counted, it must be shown */
		if ((rc = sqlite3_step(stmt)) != SQLITE_ROW && rc != SQLITE_DONE) {
			rc = s_dberr(st, "reading a hit");
			sqlite3_finalize(stmt);
			return rc;
		}
		if (rc == SQLITE_ROW) {
			kr_search_hit *h = &out->hits[out->nhits++];
			h->id = s_col(stmt, 0);
			h->title = s_col(stmt, 1);
			h->publisher = s_col(stmt, 2);
			h->pub_name = s_col(stmt, 3);
			h->pub_code = s_col(stmt, 4);
			h->kind = s_col(stmt, 5);
			h->version = s_col(stmt, 6);
			h->updated = s_col(stmt, 7);
			h->outcome = s_col(stmt, 8);
			h->headline = s_col(stmt, 9);
			h->collection = s_col(stmt, 10);
			h->path = s_col(stmt, 11);
			h->snippet = s_col(stmt, 12);
			h->rank = ranks[k];
			h->more_rows = more[k];
		}
		sqlite3_reset(stmt);
	}
	sqlite3_finalize(stmt);
	return 0;
}

/*
 * Steps kr_collect over every row of match on db, then tail: "", " LIMIT
 * 1", or a bound on the rowid with ?3 (bound); returns the last
 * sqlite3_step code, or -1 when the statement cannot be made (the message
 * is db's).
 */
static int
s_collect_run(sqlite3 *db, s_collect *c, const char *match, const char *tail, int64_t bound)
{
	sqlite3_stmt *stmt;
	char *sql = kr_sprintf("SELECT kr_collect(items_fts, ?2) FROM items_fts WHERE items_fts MATCH ?1%s", tail);
	int rc;

	rc = sqlite3_prepare_v2(db, sql, -1, &stmt, NULL);
	free(sql);
	if (rc != SQLITE_OK)
		return -1;
	sqlite3_bind_text(stmt, 1, match, -1, SQLITE_STATIC);
	sqlite3_bind_pointer(stmt, 2, c, "kr_collect", NULL);
	if (strstr(tail, "?3"))
		sqlite3_bind_int64(stmt, 3, bound);
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW)
		;
	sqlite3_finalize(stmt);
	return rc;
}

/* What a collector holds (not the phrases, which may be shared); ready to start again. */
static void
s_collect_clear(s_collect *c)
{
	kr_scols_run_destroy(&c->run);
	free(c->idf);
	free(c->freq);
	memset(c, 0, sizeof(*c));
}

void
kr_state_search_split(kr_state *st, size_t min_rows)
{
	st->split_min = min_rows;
}

/* FTS5's structure and averages records, which change with every write of the index. */
static int
s_fts_version(sqlite3 *db, kr_buf *out)
{
	sqlite3_stmt *stmt;
	int rc;

	if (sqlite3_prepare_v2(db, "SELECT id, block FROM items_fts_data WHERE id IN (1, 10) ORDER BY id", -1,
	    &stmt, NULL) != SQLITE_OK)
		return -1;
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		kr_buf_addf(out, "%lld:%d:", (long long)sqlite3_column_int64(stmt, 0), sqlite3_column_bytes(stmt, 1));
		kr_buf_add(out, sqlite3_column_blob(stmt, 1), (size_t)sqlite3_column_bytes(stmt, 1));
	}
	sqlite3_finalize(stmt);
	return rc == SQLITE_DONE && out->len ? 0 : -1;
}

/*
 * st->aux, read-only, with st->db's memory bounds; -1 when it cannot be
 * opened (then one connection answers: a passing failure is tried again
 * by the next search, FTS5 missing never).
 */
static int
s_aux_open(kr_state *st)
{
	char pragma[128];

	if (st->bounded)
		snprintf(pragma, sizeof(pragma), "PRAGMA mmap_size=%lld; PRAGMA cache_size=-%d; PRAGMA temp_store=MEMORY;",
		    st->mmap_bytes, st->cache_kb);
	else
		snprintf(pragma, sizeof(pragma), "PRAGMA mmap_size=1073741824; PRAGMA temp_store=MEMORY;");
	if (sqlite3_open_v2(st->path, &st->aux, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK ||
	    sqlite3_busy_timeout(st->aux, 1000) != SQLITE_OK ||
	    sqlite3_exec(st->aux, pragma, NULL, NULL, NULL) != SQLITE_OK) {
		sqlite3_close_v2(st->aux);
		st->aux = NULL;
		return -1;
	}
	if (s_register_fts_on(st->aux, NULL) < 0) {
		sqlite3_close_v2(st->aux);
		st->aux = NULL;
		st->split_min = 0;
		return -1;
	}
	return 0;
}

/*
 * The second connection of a split search in a read transaction that
 * sees what st->db's (already open) sees: 1, or 0 when it cannot (then
 * the search runs on one connection). The index's records are compared:
 * a commit between the two reads shows there.
 */
static int
s_split_begin(kr_state *st)
{
	kr_buf mine = KR_BUF_INIT, theirs = KR_BUF_INIT;
	int same;

	if (!st->aux && s_aux_open(st) < 0)
		return 0;
	if (s_fts_version(st->db, &mine) < 0 || sqlite3_exec(st->aux, "BEGIN", NULL, NULL, NULL) != SQLITE_OK) {
		kr_buf_release(&mine);
		return 0;
	}
	same = s_fts_version(st->aux, &theirs) == 0 && mine.len == theirs.len &&
	    memcmp(mine.ptr, theirs.ptr, mine.len) == 0;
	if (!same)
		sqlite3_exec(st->aux, "COMMIT", NULL, NULL, NULL);
	kr_buf_release(&mine);
	kr_buf_release(&theirs);
	return same;
}

/* The upper half of a split search: the rows from `from` on, on the second connection. */
typedef struct {
	kr_state *st;
	s_collect c;
	int64_t from;
	int rc;
} s_half;

static void *
s_half_run(void *arg)
{
	s_half *h = arg;

	h->rc = s_collect_run(h->st->aux, &h->c, h->c.q->match, " AND rowid >= ?3", h->from);
	return NULL;
}

/*
 * The halves of a waiting conjunction scored with the IDFs of all the
 * rows: the floor when half the rows or more matched, else the phrases
 * counted by one row of a second statement on st->db (as one pass does).
 */
static int
s_collect_idf_all(kr_state *st, s_collect *c, s_collect *up, int64_t visited)
{
	s_collect *any = c->init ? c : up;
	int rc;

	if (!any || !any->defer || ((c->floor || !c->nrows) && (!up || up->floor || !up->nrows)))
		return 0;
	if ((double)visited * 2 >= (double)any->nrow) {
		for (s_collect *h = c; h; h = h == c ? up : NULL)
			for (int i = 0; h->init && i < h->nphrase; i++)
				h->idf[i] = s_idf(h->nrow, visited);
	} else {
		c->idf_pass = 1;
		if ((rc = s_collect_run(st->db, c, c->q->match, " LIMIT 1", 0)) != SQLITE_DONE || c->idf_pass != 2)
			return s_dberr(st, rc == -1 ? "preparing search" : "searching");
		if (up && up->init)
			memcpy(up->idf, c->idf, (size_t)c->nphrase * sizeof(double));
	}
	s_collect_flush(c);
	if (up)
		s_collect_flush(up);
	return 0;
}

/* What one try of kr_state_search holds: the partial columns, both halves' collectors and the phrases they share. */
static void
s_search_clear(kr_scols **part, s_collect *up, s_collect *c)
{
	kr_scols_destroy(part);
	s_collect_clear(up);
	kr_strv_free(c->phrase, (size_t)c->nphrases);
	s_collect_clear(c);
}

/*
 * One pass over the matches (kr_collect above): FTS5 yields the matching
 * rowids, the in-memory columns filter them and count the facets, the
 * bm25 score goes to a bounded heap; no row outside the best `limit` is
 * read from `items`. Then only those rows are read in full with a
 * snippet. All of it in one read transaction (a savepoint), so the
 * columns, the index and the rows are the same snapshot.
 *
 * Over many rows (st->split_min) the pass runs in two halves by rowid,
 * the upper one on another thread and connection at the same snapshot;
 * their counts, facets and best rows merge into what one pass gives.
 */
int
kr_state_search(kr_state *st, const kr_search_q *q, kr_search_result *out)
{
	size_t limit = q->limit ? q->limit : 10, nbest;
	s_collect c = { 0 };
	s_half up = { 0 };
	int64_t *ns = NULL;
	double *ranks = NULL;
	size_t *more = NULL;
	kr_scols *part = NULL;          /* the columns of few matches only */
	int rc, tries = 0, fresh, split = 0, serial = 0;
	int outer = !sqlite3_get_autocommit(st->db);    /* within a write: its changes are this connection's */
	int64_t visited;
	s_collect *any;

	memset(out, 0, sizeof(*out));
	if (sqlite3_exec(st->db, "SAVEPOINT kr_search", NULL, NULL, NULL) != SQLITE_OK)
		return s_dberr(st, "searching");
again:
	/*
	 * current columns, else (the first search of this connection: a
	 * command, not a server) those of few matches, else build them all
	 */
	if ((rc = s_scols_fresh(st, 0, &fresh)) < 0 ||
	    (!fresh && !st->searched && (rc = s_scols_partial(st, q->match, &part)) < 0) ||
	    (!fresh && !part && (rc = s_scols_fresh(st, 1, &fresh)) < 0))
		goto done;
	c.cols = part ? part : st->scols;
	c.run = kr_scols_run_new(c.cols, q, limit);
	c.q = q;
	if (!part) {
		/* the columns are current: so is what the cache counted at the same data_version */
		if (st->df_dv != st->scols_dv || st->df_tc != st->scols_tc) {
			s_df_clear(st);
			st->df_dv = st->scols_dv;
			st->df_tc = st->scols_tc;
		}
		c.df = st;
		c.wait = &st->wait[0];
		c.nphrases = (int)s_phrases(q->match, &c.phrase);
	}
	/*
	 * two halves: a query whose IDFs both can know alone (one phrase, or
	 * a conjunction that waits for them), a q->keep that may be called
	 * from two threads, and no write of this connection's open
	 */
	split = !serial && !part && (!q->keep || q->keep_threads) && !outer && st->split_min &&
	    st->scols_rows >= st->split_min && (c.nphrases <= 1 || s_conjunction(q->match)) && s_split_begin(st);
	if (split) {
		up.st = st;
		up.from = st->split_mid;
		up.c.cols = st->scols;
		up.c.run = kr_scols_run_new(st->scols, q, limit);
		up.c.q = q;
		up.c.wait = &st->wait[1];
		up.c.phrase = c.phrase;
		up.c.nphrases = c.nphrases;
		pthread_t tid;
		if (pthread_create(&tid, NULL, s_half_run, &up) != 0) {
			sqlite3_exec(st->aux, "COMMIT", NULL, NULL, NULL);
			s_collect_clear(&up.c);
			split = 0;
		} else {
			rc = s_collect_run(st->db, &c, q->match, " AND rowid < ?3", up.from);
			pthread_join(tid, NULL);
			sqlite3_exec(st->aux, "COMMIT", NULL, NULL, NULL);
			if (rc == SQLITE_DONE && up.rc != SQLITE_DONE) {
				if (up.c.stale) {
					c.stale = 1;
					rc = SQLITE_ERROR;
				} else {
					/* the second connection failed (busy, say): once more on this one alone */
					serial = 1;
					goto retry;
				}
			}
		}
	}
	if (!split)
		rc = s_collect_run(st->db, &c, q->match, "", 0);
	if (rc == -1) {
		rc = s_dberr(st, "preparing search");
		goto done;
	}
	if (rc != SQLITE_DONE) {
		int code = sqlite3_errcode(st->db) & 0xff;
		if (c.stale && tries++ == 0) {
			/* cannot happen within one snapshot; rebuild once rather than answer wrongly */
			kr_scols_destroy(&st->scols);
			s_df_clear(st);
			goto retry;
		}
		if (c.stale)
			rc = kr_error(KR_EIO, "%s: searching: search columns out of date (run: kairan repair)", st->path);
		else if (code == SQLITE_CORRUPT || code == SQLITE_NOTADB || code == SQLITE_IOERR)
			rc = s_dberr(st, "searching");
		else
			rc = kr_error(KR_EUSAGE, "search failed: %s", sqlite3_errmsg(st->db));
		goto done;
	}
	visited = c.visited + (split ? up.c.visited : 0);
	if ((rc = s_collect_idf_all(st, &c, split ? &up.c : NULL, visited)) < 0)
		goto done;
	if (split)
		kr_scols_merge(c.run, up.c.run);
	/* one phrase: its IDF, a positive constant, scales the kept scores (bm25's exact value) */
	any = c.init || !split ? &c : &up.c;
	nbest = kr_scols_finish(c.run, any->nphrase == 1 ? s_idf(any->nrow, visited) : 1.0, out, &ns, &ranks, &more);
	rc = nbest ? s_search_hits(st, q, ns, ranks, more, nbest, out) : 0;
	goto done;
retry:
	s_search_clear(&part, &up.c, &c);
	goto again;
done:
	st->searched = 1;
	if (rc < 0) {
		sqlite3_exec(st->db, "ROLLBACK TO kr_search", NULL, NULL, NULL);
		kr_search_result_free(out);
	}
	sqlite3_exec(st->db, "RELEASE kr_search", NULL, NULL, NULL);
	s_search_clear(&part, &up.c, &c);
	free(ns);
	free(ranks);
	free(more);
	return rc;
}

int
kr_state_item_texts(kr_state *st, kr_state_text_cb cb, void *arg)
{
	sqlite3_stmt *stmt;
	int rc;

	if ((rc = s_prep(st, &stmt, "SELECT id, title, kr_text(body), meta FROM items ORDER BY n", "")) < 0)
		return rc;
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW)
		if (cb(arg, (const char *)sqlite3_column_text(stmt, 0), (const char *)sqlite3_column_text(stmt, 1),
		    (const char *)sqlite3_column_text(stmt, 2), (const char *)sqlite3_column_text(stmt, 3)) != 0)
			break;
	sqlite3_finalize(stmt);
	return rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : s_dberr(st, "reading items");
}

void
kr_search_result_free(kr_search_result *r)
{
	for (size_t i = 0; i < r->nhits; i++) {
		kr_search_hit *h = &r->hits[i];
		free(h->id); free(h->title); free(h->publisher); free(h->pub_name); free(h->pub_code);
		free(h->kind); free(h->version); free(h->updated); free(h->outcome); free(h->headline);
		free(h->snippet); free(h->collection); free(h->path);
	}
	free(r->hits);
	for (int f = 0; f < KR_NFACETS; f++) {
		for (size_t i = 0; i < r->nfacets[f]; i++)
			free(r->facets[f][i].value);
		free(r->facets[f]);
	}
	memset(r, 0, sizeof(*r));
}

void
kr_state_items_free(kr_state_item *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		kr_state_item *it = &v[i];
		free(it->publisher); free(it->collection); free(it->path); free(it->id);
		free(it->kind); free(it->title); free(it->version); free(it->updated);
		free(it->blob); free(it->commit); free(it->pub_name); free(it->pub_code);
	}
	free(v);
}

/* ---- peers and follows ---------------------------------------------- */

int
kr_state_follow(kr_state *st, const char *endpoint, char *const *pubs, size_t npubs)
{
	int rc;

	if ((rc = s_run(st, NULL, "INSERT OR IGNORE INTO peers (endpoint, added) VALUES (?, ?)",
	    "sI", endpoint, kr_now())) < 0)
		return rc;
	for (size_t i = 0; i < npubs && rc == 0; i++)
		rc = s_run(st, NULL, "INSERT OR IGNORE INTO follows (endpoint, publisher) VALUES (?, ?)",
		    "ss", endpoint, pubs[i]);
	return rc;
}

int
kr_state_unfollow(kr_state *st, const char *endpoint, const char *pub)
{
	int changes = 0, rc;

	if (pub)
		rc = s_run(st, &changes, "DELETE FROM follows WHERE endpoint = ? AND publisher = ?",
		    "ss", endpoint, pub);
	else
		rc = s_run(st, &changes, "DELETE FROM peers WHERE endpoint = ?", "s", endpoint);
	if (rc == 0 && changes == 0)
		rc = pub ? kr_error(KR_ENOTFOUND, "%s does not follow %s", endpoint, pub)
		         : kr_error(KR_ENOTFOUND, "no peer %s (see: kairan peers)", endpoint);
	return rc;
}

int
kr_state_peers(kr_state *st, kr_state_peer **out, size_t *n)
{
	sqlite3_stmt *stmt, *fs;
	size_t cap = 0;
	int rc;

	*out = NULL;
	*n = 0;
	if ((rc = s_prep(st, &stmt, "SELECT endpoint, node, name, announce, last_error, added, last_ok, "
	    "last_error_at FROM peers ORDER BY added, endpoint", "")) < 0)
		return rc;
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		kr_state_peer *p;
		size_t fcap = 0;
		if (*n == cap) {
			cap = cap ? cap * 2 : 8;
			*out = kr_realloc(*out, cap * sizeof(**out));
		}
		p = &(*out)[(*n)++];
		memset(p, 0, sizeof(*p));
		p->endpoint = s_col(stmt, 0);
		p->node = s_col(stmt, 1);
		p->name = s_col(stmt, 2);
		p->announce = s_col(stmt, 3);
		p->last_error = s_col(stmt, 4);
		p->added = sqlite3_column_int64(stmt, 5);
		p->last_ok = sqlite3_column_int64(stmt, 6);
		p->last_error_at = sqlite3_column_int64(stmt, 7);
		if (s_prep(st, &fs, "SELECT publisher FROM follows WHERE endpoint = ? ORDER BY publisher",
		    "s", p->endpoint) < 0) {
			rc = SQLITE_ERROR;
			break;
		}
		while ((rc = sqlite3_step(fs)) == SQLITE_ROW) {
			if (p->npublishers == fcap) {
				fcap = fcap ? fcap * 2 : 4;
				p->publishers = kr_realloc(p->publishers, fcap * sizeof(char *));
			}
			p->publishers[p->npublishers++] = s_col(fs, 0);
		}
		sqlite3_finalize(fs);
		if (rc != SQLITE_DONE)
			break;
	}
	sqlite3_finalize(stmt);
	if (rc != SQLITE_DONE) {
		rc = s_dberr(st, "listing peers");
		kr_state_peers_free(*out, *n);
		*out = NULL;
		*n = 0;
		return rc;
	}
	return 0;
}

void
kr_state_peers_free(kr_state_peer *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].endpoint); free(v[i].node); free(v[i].name);
		free(v[i].announce); free(v[i].last_error);
		kr_strv_free(v[i].publishers, v[i].npublishers);
	}
	free(v);
}

int
kr_state_peer_seen(kr_state *st, const char *endpoint, const char *node,
    const char *name, const char *announce, const char *error)
{
	if (error)
		return s_run(st, NULL, "UPDATE peers SET last_error = ?, last_error_at = ? WHERE endpoint = ?",
		    "sIs", error, kr_now(), endpoint);
	return s_run(st, NULL, "UPDATE peers SET last_ok = ?, last_error = NULL, "
	    "node = coalesce(?, node), name = coalesce(?, name), announce = coalesce(?, announce) "
	    "WHERE endpoint = ?", "Issss", kr_now(), node, name, announce, endpoint);
}

int
kr_state_pinned(kr_state *st, const char *pub)
{
	sqlite3_stmt *stmt;
	int rc;

	if ((rc = s_prep(st, &stmt, "SELECT 1 FROM follows WHERE publisher = ? LIMIT 1", "s", pub)) < 0)
		return rc;
	rc = sqlite3_step(stmt);
	rc = rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : s_dberr(st, "reading pinned publishers");
	sqlite3_finalize(stmt);
	return rc;
}

int
kr_state_pinned_list(kr_state *st, char ***out, size_t *n)
{
	sqlite3_stmt *stmt;
	size_t cap = 0;
	int rc;

	*out = NULL;
	*n = 0;
	if ((rc = s_prep(st, &stmt, "SELECT DISTINCT publisher FROM follows ORDER BY publisher", "")) < 0)
		return rc;
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		if (*n == cap) {
			cap = cap ? cap * 2 : 8;
			*out = kr_realloc(*out, cap * sizeof(char *));
		}
		(*out)[(*n)++] = s_col(stmt, 0);
	}
	sqlite3_finalize(stmt);
	return rc == SQLITE_DONE ? 0 : s_dberr(st, "listing pinned publishers");
}

/* ---- quarantine ----------------------------------------------------- */

/*
 * The reason with what varies from one bad message to the next blanked: a
 * run of decimal digits becomes "#", a run of 7+ hex digits (an id) "…".
 * "replay: manifest of ab12… seq 41 is older than accepted seq 57" and the
 * same with seq 42 are one row, counted twice.
 */
static char *
s_reason_key(const char *reason)
{
	kr_buf b = KR_BUF_INIT;
	const char *p = reason;

	while (*p) {
		size_t hex = strspn(p, "0123456789abcdefABCDEF"), dec = strspn(p, "0123456789");
		if (hex >= 7) {
			kr_buf_adds(&b, "…");
			p += hex;
		} else if (dec) {
			kr_buf_addch(&b, '#');
			p += dec;
		} else {
			kr_buf_addch(&b, *p++);
		}
	}
	if (!b.ptr)
		kr_buf_adds(&b, "");
	return kr_buf_detach(&b);
}

int
kr_state_quarantine_add(kr_state *st, const char *pub, const char *peer,
    const char *coll, int64_t seq, const char *reason)
{
	char *key = s_reason_key(reason);
	int64_t now = kr_now();
	int changes = 0, rc;

	rc = s_run(st, &changes, "UPDATE quarantine SET count = count + 1, last_at = ?, reason = ?, "
	    "collection = coalesce(?, collection), seq = ? WHERE coalesce(peer, '') = coalesce(?, '') AND "
	    "coalesce(publisher, '') = coalesce(?, '') AND key = ?", "IssIsss", now, reason, coll, seq, peer, pub, key);
	if (rc == 0 && changes == 0)
		rc = s_run(st, NULL, "INSERT INTO quarantine (at, last_at, count, publisher, peer, collection, seq, "
		    "reason, key) VALUES (?, ?, 1, ?, ?, ?, ?, ?, ?)", "IIsssIss", now, now, pub, peer, coll, seq,
		    reason, key);
	/* The oldest-seen rows go first past the cap: a flood of new reasons cannot fill the disk. */
	if (rc == 0 && changes == 0)
		rc = s_run(st, NULL, "DELETE FROM quarantine WHERE n IN (SELECT n FROM quarantine "
		    "ORDER BY last_at, n LIMIT max(0, (SELECT count(*) FROM quarantine) - ?))", "I",
		    (int64_t)KR_QUARANTINE_MAX);
	free(key);
	return rc;
}

int
kr_state_quarantine_list(kr_state *st, size_t max, kr_state_quarantine **out, size_t *n)
{
	sqlite3_stmt *stmt;
	size_t cap = 0;
	int rc;

	*out = NULL;
	*n = 0;
	if ((rc = s_prep(st, &stmt, "SELECT at, seq, publisher, peer, collection, reason, count, last_at "
	    "FROM quarantine ORDER BY last_at DESC, n DESC LIMIT ?", "I", (int64_t)max)) < 0)
		return rc;
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		kr_state_quarantine *q;
		if (*n == cap) {
			cap = cap ? cap * 2 : 8;
			*out = kr_realloc(*out, cap * sizeof(**out));
		}
		q = &(*out)[(*n)++];
		q->at = sqlite3_column_int64(stmt, 0);
		q->seq = sqlite3_column_int64(stmt, 1);
		q->publisher = s_col(stmt, 2);
		q->peer = s_col(stmt, 3);
		q->collection = s_col(stmt, 4);
		q->reason = s_col(stmt, 5);
		q->count = sqlite3_column_int64(stmt, 6);
		q->last_at = sqlite3_column_int64(stmt, 7);
	}
	sqlite3_finalize(stmt);
	return rc == SQLITE_DONE ? 0 : s_dberr(st, "listing quarantine");
}

int
kr_state_quarantine_totals(kr_state *st, int64_t *rows, int64_t *events)
{
	sqlite3_stmt *stmt;
	int rc;

	if ((rc = s_prep(st, &stmt, "SELECT count(*), coalesce(sum(count), 0) FROM quarantine", "")) < 0)
		return rc;
	rc = sqlite3_step(stmt);
	*rows = rc == SQLITE_ROW ? sqlite3_column_int64(stmt, 0) : 0;
	*events = rc == SQLITE_ROW ? sqlite3_column_int64(stmt, 1) : 0;
	sqlite3_finalize(stmt);
	return rc == SQLITE_ROW ? 0 : s_dberr(st, "counting quarantine");
}

void
kr_state_quarantine_free(kr_state_quarantine *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].publisher); free(v[i].peer); free(v[i].collection); free(v[i].reason);
	}
	free(v);
}

/* ---- manifests refused after their packs were fetched ------------------ */

int
kr_state_rejected_get(kr_state *st, const char *pub, const char *peer, const uint8_t manifest[32],
    char **reason)
{
	sqlite3_stmt *stmt;
	int rc;

	*reason = NULL;
	if ((rc = s_prep(st, &stmt, "SELECT reason FROM rejected WHERE publisher = ? AND peer = ? AND manifest = ?",
	    "ssb", pub, peer ? peer : "", (const void *)manifest, (size_t)32)) < 0)
		return rc;
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW) {
		*reason = s_col(stmt, 0);
		rc = 0;
	} else {
		rc = rc == SQLITE_DONE ? KR_ENOTFOUND : s_dberr(st, "reading rejected manifests");
	}
	sqlite3_finalize(stmt);
	return rc;
}

int
kr_state_rejected_put(kr_state *st, const char *pub, const char *peer, const uint8_t manifest[32],
    const char *coll, const char *reason)
{
	int rc;

	if ((rc = s_run(st, NULL, "INSERT OR REPLACE INTO rejected (publisher, peer, manifest, collection, reason, at) "
	    "VALUES (?, ?, ?, ?, ?, ?)", "ssbssI", pub, peer ? peer : "", (const void *)manifest, (size_t)32,
	    coll, reason, kr_now())) < 0)
		return rc;
	return s_run(st, NULL, "DELETE FROM rejected WHERE publisher = ?1 AND peer = ?2 AND rowid NOT IN "
	    "(SELECT rowid FROM rejected WHERE publisher = ?1 AND peer = ?2 ORDER BY rowid DESC LIMIT ?3)",
	    "ssI", pub, peer ? peer : "", (int64_t)KR_REJECTED_KEEP);
}

/* ---- listing items without a search (web pages, CKAN, DCAT; issue 10) ---- */

/*
 * The WHERE of a listing with only the filters f sets: "(?1 IS NULL OR
 * i.kind = ?1)" would keep SQLite from using items_facets, so every
 * listing of a kind read the whole items table (100,000 items: seconds,
 * for the board's four kinds on every item page). Parameters keep their
 * numbers (?1 kind, ?2 publisher, ?3 synced_since) whichever are used.
 */
static void
s_list_where(kr_buf *sql, const kr_item_filter *f)
{
	kr_buf_adds(sql, " FROM items i LEFT JOIN heads h ON h.publisher = i.publisher AND h.collection = i.collection"
	    " LEFT JOIN manifests m ON m.publisher = i.publisher"
	    " WHERE coalesce(h.synced, 0) >= ?3 AND instr(i.path, '#') = 0"); /* items, not dataset rows */
	if (f->kind)
		kr_buf_adds(sql, " AND i.kind = ?1");
	if (f->publisher)
		kr_buf_adds(sql, " AND (i.publisher = ?2 OR i.lg_code = ?2)");
}

int
kr_state_item_list(kr_state *st, const kr_item_filter *f, kr_item_row **out, size_t *n, size_t *total)
{
	sqlite3_stmt *stmt;
	kr_buf sql = KR_BUF_INIT;
	int rc;

	*out = NULL;
	*n = 0;
	*total = 0;
	kr_buf_adds(&sql, "SELECT count(*)");
	s_list_where(&sql, f);
	rc = s_prep(st, &stmt, sql.ptr, "ssI", f->kind, f->publisher, f->synced_since);
	kr_buf_release(&sql);
	if (rc < 0)
		return rc;
	if ((rc = sqlite3_step(stmt)) == SQLITE_ROW)
		*total = (size_t)sqlite3_column_int64(stmt, 0);
	sqlite3_finalize(stmt);
	if (rc != SQLITE_ROW)
		return s_dberr(st, "counting items");
	if (f->limit == 0 || f->offset >= *total)
		return 0;
	kr_buf_adds(&sql, "SELECT i.id, i.kind, i.title, i.version, i.updated, i.published, i.publisher, i.collection, "
	    "i.path, i.commit_id, i.blob, m.name, i.lg_code, i.outcome, i.headline, i.domains, coalesce(h.synced, 0)");
	s_list_where(&sql, f);
	kr_buf_adds(&sql, f->order == KR_LIST_ID ? " ORDER BY i.id, i.publisher LIMIT ?4 OFFSET ?5" :
	    " ORDER BY 17 DESC, i.updated DESC, i.id LIMIT ?4 OFFSET ?5");
	rc = s_prep(st, &stmt, sql.ptr, "ssIII", f->kind, f->publisher, f->synced_since, (int64_t)f->limit,
	    (int64_t)f->offset);
	kr_buf_release(&sql);
	if (rc < 0)
		return rc;
	*out = kr_calloc(f->limit < *total ? f->limit : *total, sizeof(**out));
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW && *n < f->limit) {
		kr_item_row *r = &(*out)[(*n)++];
		r->id = s_col(stmt, 0);
		r->kind = s_col(stmt, 1);
		r->title = s_col(stmt, 2);
		r->version = s_col(stmt, 3);
		r->updated = s_col(stmt, 4);
		r->published = s_col(stmt, 5);
		r->publisher = s_col(stmt, 6);
		r->collection = s_col(stmt, 7);
		r->path = s_col(stmt, 8);
		r->commit = s_col(stmt, 9);
		r->blob = s_col(stmt, 10);
		r->pub_name = s_col(stmt, 11);
		r->pub_code = s_col(stmt, 12);
		r->outcome = s_col(stmt, 13);
		r->headline = s_col(stmt, 14);
		r->domains = s_col(stmt, 15);
		r->synced = sqlite3_column_int64(stmt, 16);
	}
	sqlite3_finalize(stmt);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
		kr_item_rows_free(*out, *n);
		*out = NULL;
		*n = 0;
		return s_dberr(st, "listing items");
	}
	return 0;
}

void
kr_item_rows_free(kr_item_row *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		kr_item_row *r = &v[i];
		free(r->id); free(r->kind); free(r->title); free(r->version); free(r->updated);
		free(r->published); free(r->publisher); free(r->collection); free(r->path); free(r->commit);
		free(r->blob); free(r->pub_name); free(r->pub_code); free(r->outcome); free(r->headline);
		free(r->domains);
	}
	free(v);
}

int64_t
kr_state_data_version(kr_state *st)
{
	sqlite3_stmt *stmt;
	int64_t v = -1;

	if (sqlite3_prepare_v2(st->db, "PRAGMA data_version", -1, &stmt, NULL) != SQLITE_OK)
		return -1;
	if (sqlite3_step(stmt) == SQLITE_ROW)
		v = sqlite3_column_int64(stmt, 0);
	sqlite3_finalize(stmt);
	return v;
}
