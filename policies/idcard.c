/*
 * policies/idcard.c - reading `kairan id --json` files (see idcard.h)
 */
#include "idcard.h"

#include <stdlib.h>
#include <string.h>

#include "../sharing/json.h"
#include "item.h"

int
kr_idcard_read(kr_idcard *c, const char *path)
{
	kr_buf b = KR_BUF_INIT;
	kr_json_where err;
	kr_json *o = NULL;
	const char *fpr, *tkey, *name, *code, *listen;
	char right[7];
	int rc;

	memset(c, 0, sizeof(*c));
	if ((rc = kr_file_read(&b, path)) < 0)
		return rc;
	kr_json_parse(&o, b.ptr, b.len, 0, &err);
	if (kr_json_type(o) != KR_JSON_OBJECT) {
		rc = kr_error(KR_EUSAGE, "%s:%d: not an identity card (make one with: kairan id --json > "
		    "FILE)%s%s", path, o ? 1 : err.line, o ? "" : ": ", o ? "" : err.text);
		goto done;
	}
	fpr = kr_json_str(o, "fingerprint");
	tkey = kr_json_str(o, "transport_key");
	name = kr_json_str(o, "name");
	code = kr_json_str(o, "lg_code");
	listen = kr_json_str(o, "listen");
	if (!fpr || kr_unhex(c->key, KR_FPR_LEN, fpr) < 0) {
		rc = kr_error(KR_EUSAGE, "%s: fingerprint is missing or not 64 hex digits", path);
		goto done;
	}
	if (!tkey || kr_unhex(c->transport, 32, tkey) < 0) {
		rc = kr_error(KR_EUSAGE, "%s: transport_key is missing or not 64 hex digits "
		    "(the card comes from an older kairan; run kairan id --json again)", path);
		goto done;
	}
	if (!name || !*name || strlen(name) > 256 || strchr(name, '\n')) {
		rc = kr_error(KR_EUSAGE, "%s: name is missing or not one line of at most 256 bytes", path);
		goto done;
	}
	if (!code || kr_lgcode_check(code, right) < 0) {
		rc = kr_error(KR_EUSAGE, "%s: lg_code %s", path, code ? kr_errmsg() : "is missing");
		goto done;
	}
	if (!listen || strncmp(listen, "tcp://", 6) != 0 || strlen(listen) > 256) {
		rc = kr_error(KR_EUSAGE, "%s: listen must be a tcp:// endpoint", path);
		goto done;
	}
	c->name = kr_strdup(name);
	c->lg_code = kr_strdup(code);
	c->listen = kr_strdup(listen);
done:
	kr_json_free(&o);
	kr_buf_release(&b);
	return rc;
}

void
kr_idcard_clear(kr_idcard *c)
{
	free(c->name);
	free(c->lg_code);
	free(c->listen);
	memset(c, 0, sizeof(*c));
}
