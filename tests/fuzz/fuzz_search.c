/*
 * tests/fuzz/fuzz_search.c - libFuzzer target: the search query parser
 *
 * The bytes are a query as typed after `kairan search` or received in a
 * peer's Search request (kr_search_compile, which also tokenizes each term).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../sharing/search.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *q = kr_strndup((const char *)data, size); /* a query is a C string: it ends at a NUL */
	kr_buf match = KR_BUF_INIT;

	kr_search_compile(q, &match);
	kr_buf_release(&match);
	free(q);
	kr_error_clear();
	return 0;
}
