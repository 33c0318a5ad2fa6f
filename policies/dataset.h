/*
 * policies/dataset.h - the JSONL rows of a RAG dataset (CONTENT.md)
 *
 * Each line is one JSON object: id (unique within the dataset), question,
 * answer, source {issuer, ...}, updated (ISO date); optional
 * alt_questions[], category, keywords[], valid_from, superseded_by. Rows
 * are also scanned for personal information. Findings name the file and
 * the row (line). This module alone uses jansson.
 */
#ifndef KR_DATASET_H
#define KR_DATASET_H

#include "item.h"

void kr_dataset_check_rows(const char *file, const char *data, size_t len, const kr_policy *pol,
    kr_findings *f);

#endif
