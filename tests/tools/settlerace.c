/*
 * tests/tools/settlerace.c - a deferred save of an older manifest after a
 * newer one (t0081)
 *
 * The interleaving two replication workers of a town's node can meet: one
 * applies a publisher's manifest (seq N) and leaves saving it in manifests/
 * and under refs/kairan/manifest for after its job (defer_maintenance);
 * meanwhile the publisher publishes again and the other worker applies and
 * saves seq N+1; then the first one's job ends (kr_replica_maintain). Here
 * the two workers are two handles on the same town home in one process,
 * and the publish in between is the command given.
 *
 * Prints the seqs (the deferred one, the newer one, and those of the saved
 * copy and of the copy under refs/kairan/manifest afterwards) and exits 0
 * when both copies are still the newer one.
 *
 * Usage: settlerace TOWN-HOME PUBLISHER-FPR COMMAND [ARG...]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../node/home.h"
#include "../../node/peer.h"
#include "../../sharing/common.h"
#include "../../sharing/manifest.h"

/* The town's only peer: hello, snapshot, apply (as kairan sync). */
static int
s_sync(kr_home *h, void *zctx)
{
	kr_state_peer *peers = NULL;
	size_t n = 0;
	kr_conn *c = NULL;
	kr_sync_result res;
	int rc;

	if ((rc = kr_state_peers(h->state, &peers, &n)) < 0)
		return rc;
	if (n != 1) {
		kr_state_peers_free(peers, n);
		return kr_error(KR_EUSAGE, "the town follows %zu peers, not 1", n);
	}
	if ((rc = kr_conn_open(&c, zctx, peers[0].endpoint, 10000)) == 0)
		rc = kr_peer_sync(h, c, peers[0].publishers, peers[0].npublishers, 1, NULL, NULL, &res);
	if (rc == 0 && res.applied != 1)
		rc = kr_error(KR_EIO, "%zu manifest(s) applied, not 1 (%zu failed, %zu rejected)", res.applied,
		    res.failed, res.rejected);
	kr_conn_destroy(&c);
	kr_state_peers_free(peers, n);
	return rc;
}

static uint64_t
s_state_seq(kr_home *h, const char *pub)
{
	kr_state_manifest sm;
	uint64_t seq = 0;

	if (kr_state_manifest_get(h->state, pub, &sm) == 0) {
		seq = sm.seq;
		kr_state_manifest_clear(&sm);
	}
	return seq;
}

int
main(int argc, char **argv)
{
	kr_home first, second;
	kr_buf saved = KR_BUF_INIT, ref = KR_BUF_INIT;
	uint64_t deferred, newer, saved_seq, ref_seq;
	void *zctx;
	char *path;
	pid_t pid;
	int status;

	if (argc < 4) {
		fprintf(stderr, "usage: settlerace TOWN-HOME PUBLISHER-FPR COMMAND [ARG...]\n");
		return 2;
	}
	zctx = kr_peer_context();
	if (kr_home_open(&first, argv[1]) < 0 || kr_home_open(&second, argv[1]) < 0) {
		fprintf(stderr, "settlerace: %s\n", kr_errmsg());
		return 2;
	}
	first.rep.defer_maintenance = 1;
	if (s_sync(&first, zctx) < 0) {
		fprintf(stderr, "settlerace: first sync: %s\n", kr_errmsg());
		return 2;
	}
	deferred = s_state_seq(&first, argv[2]);
	if ((pid = fork()) == 0) {
		execvp(argv[3], argv + 3);
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		fprintf(stderr, "settlerace: %s failed\n", argv[3]);
		return 2;
	}
	if (s_sync(&second, zctx) < 0) {
		fprintf(stderr, "settlerace: second sync: %s\n", kr_errmsg());
		return 2;
	}
	newer = s_state_seq(&second, argv[2]);
	kr_replica_maintain(&first.rep, 1); /* the first worker's job ends */
	path = kr_sprintf("%s/manifests/%s", argv[1], argv[2]);
	if (kr_file_read(&saved, path) < 0 || kr_store_manifest_ref_get(second.store, argv[2], "cases", &ref) < 0) {
		fprintf(stderr, "settlerace: %s\n", kr_errmsg());
		return 2;
	}
	saved_seq = kr_signed_manifest_seq(saved.ptr, saved.len);
	ref_seq = kr_signed_manifest_seq(ref.ptr, ref.len);
	printf("deferred seq %llu, newer seq %llu; afterwards manifests/ holds seq %llu, refs/kairan/manifest seq %llu\n",
	    (unsigned long long)deferred, (unsigned long long)newer, (unsigned long long)saved_seq,
	    (unsigned long long)ref_seq);
	kr_buf_release(&saved);
	kr_buf_release(&ref);
	free(path);
	kr_home_close(&second);
	kr_home_close(&first);
	kr_peer_context_end(zctx);
	return newer > deferred && saved_seq == newer && ref_seq == newer ? 0 : 1;
}
