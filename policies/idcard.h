/*
 * policies/idcard.h - a node's identity card: the output of `kairan id --json`
 *
 * Board members pass these files to each other to build a federation
 * (DESIGN §6). Reading one checks what a membership document will rely
 * on: a 32-byte signing key, a 32-byte transport key, a name, an lg_code
 * with a valid check digit, a listen endpoint. JSON is read through
 * sharing/json.h, as everywhere.
 */
#ifndef KR_IDCARD_H
#define KR_IDCARD_H

#include "../sharing/common.h"

typedef struct {
	uint8_t key[KR_FPR_LEN];
	uint8_t transport[32];
	char *name, *lg_code, *listen;
} kr_idcard;

/* Reads path; errors name the file and the field (KR_EUSAGE, KR_ENOTFOUND, KR_EIO). */
int kr_idcard_read(kr_idcard *c, const char *path);
void kr_idcard_clear(kr_idcard *c);

#endif
