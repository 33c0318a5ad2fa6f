/*
 * policies/policy.h - a node's policy: the text defaults plus its overrides
 *
 * policies/default.policy is compiled in (kr_default_policy); a node's
 * config overrides any key with a "policy." line. Unknown keys are errors,
 * so a typo cannot silently loosen a rule.
 */
#ifndef KR_POLICY_H
#define KR_POLICY_H

#include "../sharing/common.h"

typedef struct kr_policy_rules {
	char **keys, **values;
	size_t n;
} kr_policy_rules;

extern const char kr_default_policy[];

/* Parses the defaults; KR_ERROR names the line on a syntax error. */
int kr_policy_rules_init(kr_policy_rules *r);
/* Overrides key (without "policy."); KR_ERROR for an unknown key. */
int kr_policy_rules_set(kr_policy_rules *r, const char *key, const char *value);
void kr_policy_rules_clear(kr_policy_rules *r);

/* The value of key ("" if empty, NULL if unknown). */
const char *kr_policy_get(const kr_policy_rules *r, const char *key);
/* 1 if word is one of the space-separated words of key. */
int kr_policy_has(const kr_policy_rules *r, const char *key, const char *word);
uint64_t kr_policy_size(const kr_policy_rules *r, const char *key, uint64_t dflt);

#endif
