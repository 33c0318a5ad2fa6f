/*
 * policies/dataset.h - the JSONL rows of a RAG dataset (CONTENT.md)
 *
 * Each line is one JSON object: id (unique within the dataset), question,
 * answer, source {issuer, ...}, updated (ISO date); optional
 * alt_questions[], category, keywords[], valid_from, superseded_by. Rows
 * are also scanned for personal information. Findings name the file and
 * the row (line). JSON is read and written through sharing/json.h.
 */
#ifndef KR_DATASET_H
#define KR_DATASET_H

#include "item.h"

void kr_dataset_check_rows(const char *file, const char *data, size_t len, const kr_policy *pol,
    kr_findings *f);

/*
 * Appends the rows of jsonl in format "jsonl" (rows as they are, with an
 * "attribution" field), "dify-csv" (header question,answer, RFC 4180
 * quoting, CRLF; header set for the first file; the caller writes the
 * UTF-8 BOM once; a cell starting with = + - @ tab or CR gets a leading '
 * against spreadsheet formula injection, see kr_buf_addcsvcell) or "langchain"
 * (id "DATASET-ID#ROW-ID", page_content "Q: …\nA: …\n\n出典：…", flat metadata
 * with the attribution too). attribution is the 出典 line. Rows that
 * are not valid JSON are skipped and counted in *skipped.
 */
int kr_dataset_export(kr_buf *out, const char *format, int header, const char *dataset_id,
    const char *jsonl, size_t len, const char *attribution, size_t *rows, size_t *skipped);

/* One Q&A row, its strings borrowed for the callback; lists joined with "\n". */
typedef struct {
	const char *id, *question, *answer, *updated;
	const char *alt_questions, *keywords;   /* "" when none */
	const char *category, *issuer, *source_title; /* NULL when none */
	int line;
} kr_dataset_row;

/*
 * Calls cb with each row of jsonl that has an id, a question and an
 * answer (rows kr_dataset_check_rows refuses otherwise are skipped); a
 * non-zero return stops and is returned.
 */
int kr_dataset_rows(const char *jsonl, size_t len, int (*cb)(void *arg, const kr_dataset_row *row), void *arg);

/*
 * Appends row_id of jsonl to out for a reader: question, answer,
 * alternates, keywords, category, source, updated, then attribution
 * (the 出典 line, may be NULL) and the row as published. KR_ENOTFOUND
 * when no row has that id.
 */
int kr_dataset_row_text(kr_buf *out, const char *jsonl, size_t len, const char *row_id, const char *attribution);
/*
 * The card's configs[].data_files (a path, a glob, a list of them, or a
 * list of {split, path}) must each name a file that travels with it:
 * data/<name> for the names in rowfiles (the *.jsonl in data/ beside the
 * card). A path that matches nothing is a blocking finding at its line.
 */
void kr_dataset_check_data_files(const char *file, const char *card, size_t len, char *const *rowfiles,
    size_t n, kr_findings *f);

#endif
