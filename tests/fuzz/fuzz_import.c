/*
 * tests/fuzz/fuzz_import.c - libFuzzer target: CSV import
 *
 * The bytes are a spreadsheet export given to `kairan import --kind case`
 * (node/import.c: encoding detection, CSV records, header mapping, the
 * case item built from each row and its checks); nothing is written.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../node/import.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
s_row(void *arg, int row, const char *slug, const char *item, const kr_findings *f)
{
	(void)arg;
	(void)row;
	(void)f;
	return strlen(slug) + strlen(item) > 0 ? 0 : -1;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	kr_buf csv = KR_BUF_INIT;
	kr_policy pol = { .lg_code = "372081" };
	kr_import im = { .lg_code = "372081", .name = "三豊市", .pol = &pol, .file = "fuzz.csv",
		.map = "件名X=title,メモ=body", .row = s_row };

	kr_buf_add(&csv, data, size);
	kr_buf_grow(&csv, 0);
	kr_import_csv(&im, csv.ptr, csv.len);
	kr_buf_release(&csv);
	kr_error_clear();
	return 0;
}
