/*
 * policies/policy.c - parsing and reading policy rules
 */
#include "policy.h"

#include <stdlib.h>
#include <string.h>

static char *
s_trim(const char *s, size_t len)
{
	while (len && (*s == ' ' || *s == '\t')) {
		s++;
		len--;
	}
	while (len && (s[len - 1] == ' ' || s[len - 1] == '\t' || s[len - 1] == '\r'))
		len--;
	return kr_strndup(s, len);
}

int
kr_policy_rules_init(kr_policy_rules *r)
{
	const char *p = kr_default_policy;
	int line = 0;

	memset(r, 0, sizeof(*r));
	while (*p) {
		const char *nl = strchr(p, '\n'), *eq;
		size_t l = nl ? (size_t)(nl - p) : strlen(p);
		line++;
		if (l && p[0] != '#') {
			eq = memchr(p, '=', l);
			if (!eq) {
				kr_policy_rules_clear(r);
				return kr_error(KR_ERROR, "default policy line %d: expected key = value", line);
			}
			r->keys = kr_realloc(r->keys, (r->n + 1) * sizeof(char *));
			r->values = kr_realloc(r->values, (r->n + 1) * sizeof(char *));
			r->keys[r->n] = s_trim(p, (size_t)(eq - p));
			r->values[r->n] = s_trim(eq + 1, l - (size_t)(eq - p) - 1);
			r->n++;
		}
		p += l + (nl ? 1 : 0);
	}
	return 0;
}

int
kr_policy_rules_set(kr_policy_rules *r, const char *key, const char *value)
{
	kr_buf known = KR_BUF_INIT;

	if (strcmp(key, "accept.require_endorsement") == 0) {
		/* a misspelt kind would silently let unendorsed items through */
		static const char *const kinds[] = { "case", "prompt", "guideline", "dataset" };
		for (const char *w = value; *w;) {
			size_t l = strcspn(w, " "), k;
			for (k = 0; l && k < 4 && !(strlen(kinds[k]) == l && strncmp(w, kinds[k], l) == 0); k++)
				;
			if (l && k == 4)
				return kr_error(KR_ERROR, "policy.accept.require_endorsement: '%.*s' is not a kind the "
				    "board endorses (case, prompt, guideline, dataset)", (int)l, w);
			w += l + (w[l] == ' ');
		}
	}
	for (size_t i = 0; i < r->n; i++)
		if (strcmp(r->keys[i], key) == 0) {
			free(r->values[i]);
			r->values[i] = kr_strdup(value);
			return 0;
		}
	for (size_t i = 0; i < r->n; i++)
		kr_buf_addf(&known, "%s%s", i ? ", " : "", r->keys[i]);
	kr_error(KR_ERROR, "unknown policy setting '%s' (known: %s)", key, known.ptr);
	kr_buf_release(&known);
	return KR_ERROR;
}

void
kr_policy_rules_clear(kr_policy_rules *r)
{
	kr_strv_free(r->keys, r->n);
	kr_strv_free(r->values, r->n);
	memset(r, 0, sizeof(*r));
}

const char *
kr_policy_get(const kr_policy_rules *r, const char *key)
{
	for (size_t i = 0; r && i < r->n; i++)
		if (strcmp(r->keys[i], key) == 0)
			return r->values[i];
	return NULL;
}

int
kr_policy_has(const kr_policy_rules *r, const char *key, const char *word)
{
	const char *v = kr_policy_get(r, key), *p;
	size_t wl = strlen(word);

	for (p = v; p && (p = strstr(p, word)); p += wl)
		if ((p == v || p[-1] == ' ') && (p[wl] == '\0' || p[wl] == ' '))
			return 1;
	return 0;
}

uint64_t
kr_policy_size(const kr_policy_rules *r, const char *key, uint64_t dflt)
{
	const char *v = kr_policy_get(r, key);
	char *end;
	unsigned long long n;

	if (!v || !*v)
		return dflt;
	n = strtoull(v, &end, 10);
	return *end ? dflt : (uint64_t)n;
}
