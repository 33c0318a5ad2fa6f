/*
 * policies/idcard.c - reading `kairan id --json` files (see idcard.h)
 */
#include "idcard.h"

#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "item.h"

static const char *
s_field(json_t *o, const char *name)
{
	json_t *v = json_object_get(o, name);

	return json_is_string(v) ? json_string_value(v) : NULL;
}

int
kr_idcard_read(kr_idcard *c, const char *path)
{
	kr_buf b = KR_BUF_INIT;
	json_error_t err;
	json_t *o = NULL;
	const char *fpr, *tkey, *name, *code, *listen;
	char right[7];
	int rc;

	memset(c, 0, sizeof(*c));
	if ((rc = kr_file_read(&b, path)) < 0)
		return rc;
	if (!(o = json_loadb(b.ptr, b.len, JSON_REJECT_DUPLICATES, &err)) || !json_is_object(o)) {
		rc = kr_error(KR_EUSAGE, "%s:%d: not an identity card (make one with: kairan id --json > "
		    "FILE)%s%s", path, o ? 1 : err.line, o ? "" : ": ", o ? "" : err.text);
		goto done;
	}
	fpr = s_field(o, "fingerprint");
	tkey = s_field(o, "transport_key");
	name = s_field(o, "name");
	code = s_field(o, "lg_code");
	listen = s_field(o, "listen");
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
	json_decref(o);
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
