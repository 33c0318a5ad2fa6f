/*
 * policies/pii.h - personal information in items (FACTS.md patterns)
 *
 * Runs on each line after NFKC. Every finding has a level (block or warn),
 * a rule id (pii.mynumber, pii.phone-mobile, ...), the matched text and its
 * line. Numbers a node publishes on purpose (its office phone, its
 * address) are allow-listed in the node's config.
 */
#ifndef KR_PII_H
#define KR_PII_H

#include "item.h"

void kr_pii_scan(const char *file, const char *text, size_t len, const kr_pii_allow *allow,
    kr_findings *f);

/* Check digits (exposed for tests): 1 valid, 0 not. */
int kr_pii_mynumber_valid(const char *twelve_digits);
int kr_pii_corporate_valid(const char *thirteen_digits);

#endif
