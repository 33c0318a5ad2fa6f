/*
 * tests/fuzz/fuzz_dataset.c - libFuzzer target: a dataset's JSONL rows
 *
 * The rows are checked as publish and receipt check them
 * (kr_dataset_check_rows) and exported in every format.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../policies/dataset.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const formats[] = { "jsonl", "dify-csv", "langchain" };
	kr_buf rows = KR_BUF_INIT;
	kr_policy pol = { .lg_code = "372081" };
	kr_findings f = { 0 };

	kr_buf_add(&rows, data, size);
	kr_buf_grow(&rows, 0);
	kr_dataset_check_rows("data/qa.jsonl", rows.ptr, rows.len, &pol, &f);
	kr_findings_clear(&f);
	for (size_t i = 0; i < 3; i++) {
		kr_buf out = KR_BUF_INIT;
		size_t n = 0, skipped = 0;
		kr_dataset_export(&out, formats[i], 1, "372081/dataset/qa", rows.ptr, rows.len,
		    "出典：三豊市「ごみ出し Q&A」、CC-BY-4.0", &n, &skipped);
		kr_buf_release(&out);
	}
	kr_buf_release(&rows);
	kr_error_clear();
	return 0;
}
