/*
 * tests/fuzz/fuzz_item.c - libFuzzer target: front matter and item checks
 *
 * One file, checked as `kairan check FILE` checks it (kr_item_check, the
 * default policy, prompt set "general") and as a replica checks a file it
 * received (kr_item_check_received at cases/x.md), plus the front matter
 * parser on its own. The bytes arrive NUL-terminated, as kr_file_read and
 * kr_store_read hand them over.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../policies/frontmatter.h"
#include "../../policies/item.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	kr_buf text = KR_BUF_INIT;
	kr_policy pol = { .lg_code = "372081" }, recv = { .lg_code = "372081", .receiving = 1 };
	kr_findings f = { 0 };
	kr_item it;
	kr_yaml *fm = NULL;
	const char *body;
	int bl;

	kr_buf_add(&text, data, size);
	kr_buf_grow(&text, 0);
	kr_frontmatter_present(text.ptr, text.len);
	if (kr_frontmatter_parse(&fm, text.ptr, text.len, &body, &bl) == 0)
		kr_yaml_free(&fm);
	kr_item_check(&it, &pol, "fuzz.md", text.ptr, text.len, "general", &f);
	kr_item_clear(&it);
	kr_findings_clear(&f);
	kr_item_check_received(&it, &recv, "cases", "cases/x.md", text.ptr, text.len, &f);
	kr_item_clear(&it);
	kr_findings_clear(&f);
	kr_buf_release(&text);
	kr_error_clear();
	return 0;
}
