/*
 * tests/tools/fedgen.c - a long membership chain for `make bench`, fast
 *
 *   fedgen HOME N    writes versions 1..N of a federation whose board is
 *                    HOME's key (threshold 1) into HOME/federation/chain/,
 *                    each version signed by that key (old and new board
 *                    alike), without the `verified` marker: the next open
 *                    of HOME verifies the whole chain from the genesis.
 *
 * Only what the CLI ceremony would produce, 1,000 times over, without
 * 3,000 process starts. Single-threaded test tool.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../sharing/federation.h"

int
main(int argc, char **argv)
{
	kr_key *k = NULL;
	kr_membership m = { 0 };
	kr_fed_seat seat;
	kr_fed_member mem;
	char *p, *dir;
	long n;
	int rc = 1;

	if (argc != 3 || (n = strtol(argv[2], NULL, 10)) < 1 || n > KR_FED_MAX_VERSIONS) {
		fprintf(stderr, "usage: fedgen HOME N (1..%d)\n", KR_FED_MAX_VERSIONS);
		return 2;
	}
	p = kr_sprintf("%s/keys/node.ed25519", argv[1]);
	if (kr_key_load(&k, p) < 0) {
		fprintf(stderr, "fedgen: %s\n", kr_errmsg());
		free(p);
		return 1;
	}
	free(p);
	dir = kr_sprintf("%s/federation/chain", argv[1]);
	if (kr_mkdir_p(dir, 0755) < 0)
		goto done;
	memset(&seat, 0, sizeof(seat));
	memcpy(seat.key, kr_key_pub(k), KR_FPR_LEN);
	seat.name = (char *)"香川県";
	seat.lg_code = (char *)"370002";
	memset(&mem, 0, sizeof(mem));
	mem.lg_code = (char *)"370002";
	mem.name = (char *)"香川県";
	mem.roles = KR_ROLE_BOARD | KR_ROLE_MEMBER;
	memcpy(mem.key, kr_key_pub(k), KR_FPR_LEN);
	m.name = (char *)"測定用連携";
	m.threshold = 1;
	m.board = &seat;
	m.nboard = 1;
	m.members = &mem;
	m.nmembers = 1;
	for (long v = 1; v <= n; v++) {
		kr_signed_multi sm = { .body = KR_BUF_INIT };
		kr_buf out = KR_BUF_INIT;
		m.version = (uint64_t)v;
		m.issued = kr_now() - (n - v);
		m.expires = m.issued + 365 * 86400;
		if (kr_membership_encode(&sm.body, &m) < 0 || kr_fed_sign(&sm, k) < 0 ||
		    kr_signed_multi_encode(&out, &sm) < 0)
			goto fail;
		if (v == 1) {
			kr_fed_id(m.federation, sm.body.ptr, sm.body.len);
			m.has_federation = 1;
		}
		p = kr_sprintf("%s/%06ld.kfm", dir, v);
		rc = kr_file_write(p, out.ptr, out.len, 0644);
		free(p);
		kr_buf_release(&out);
		kr_signed_multi_clear(&sm);
		if (rc < 0)
			goto fail;
	}
	rc = 0;
	goto done;
fail:
	fprintf(stderr, "fedgen: %s\n", kr_errmsg());
	rc = 1;
done:
	free(dir);
	kr_key_destroy(&k);
	return rc;
}
