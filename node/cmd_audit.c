/*
 * node/cmd_audit.c - kairan audit: prove a plain git mirror authentic
 *
 * An auditor holds only `git clone --mirror` of one collection (DESIGN
 * §12) and the publisher's fingerprint, or the federation id and a copy of
 * its membership chain. No home, no state.db, no node: everything comes
 * from the mirror, which carries the publisher's latest Signed(Manifest)
 * under refs/kairan/manifest (written by every publish and re-sign).
 *
 * The verdict, in order (the first failure is the reason printed):
 *   1. refs/kairan/manifest is a Signed(Manifest) whose signature is valid,
 *      made by the expected key (--publisher), or by a current member of
 *      the federation whose chain verifies from its genesis (--federation),
 *      and the key is the manifest's publisher;
 *   2. it is in force: issued not in the future, expires not passed
 *      (a rolled-back mirror carries an older manifest, which expires);
 *      --min-seq rejects one older than a seq the auditor saw before;
 *   3. it lists this collection, and refs/heads/main is exactly the signed
 *      head (not behind it: rolled back; not past it: edited);
 *   4. every commit from that head to the root is signed (SSHSIG) by the
 *      publisher and history is linear;
 *   5. every object reachable from it reads back and re-hashes to its id.
 * Nothing is written anywhere. Exit 0 authentic, 1 not, 2 usage.
 */
#include <dirent.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "../sharing/federation.h"
#include "../sharing/manifest.h"
#include "../sharing/store.h"
#include "cli.h"

/* translated where printed */
static const char *const s_usage = N_(
    "usage: kairan audit DIR (--publisher FPR | --federation FEDID --chain PATH)\n"
    "                    [--collection NAME] [--min-seq N] [--json]\n\n"
    "Proves that DIR, a plain `git clone --mirror` of one kairan collection, is\n"
    "what its publisher signed, with nothing but the mirror: the signed manifest\n"
    "under refs/kairan/manifest (key, signature, expiry), refs/heads/main at the\n"
    "signed head, every commit signed by the publisher, every object re-hashed.\n\n"
    "  --publisher FPR     the publisher's fingerprint (kairan id --fingerprint)\n"
    "  --federation FEDID  instead: any current member of this federation, whose\n"
    "  --chain PATH        membership chain is PATH (a directory of 000001.kfm …,\n"
    "                      or a node's home or federation/ directory)\n"
    "  --collection NAME   the collection (default: DIR's name without .git)\n"
    "  --min-seq N         refuse a manifest older than seq N (one you saw before)\n"
    "  --json              the verdict as one JSON object\n");

typedef struct {
	const char *dir;
	char coll[KR_COLLECTION_MAX + 1];
	char fpr[KR_FPR_HEX + 1];
	const char *fedid_hex, *chain;
	uint64_t min_seq;
	int json;
	/* what was found, for the report */
	kr_manifest m;
	const kr_head *head;
	size_t ncommits, nobjects, damaged;
	char *signer_name;
	uint64_t fed_version;
} s_audit;

static void
s_time(char out[32], int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	strftime(out, 32, "%Y-%m-%d %H:%M:%S UTC", &tm);
}

static int
s_cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The chain files (*.kfm, sorted) in path, path/chain or path/federation/chain. */
static int
s_chain_files(const char *path, char ***files, size_t *n)
{
	const char *const sub[] = { "", "/chain", "/federation/chain" };
	size_t cap = 0;

	*files = NULL;
	*n = 0;
	for (size_t i = 0; i < sizeof(sub) / sizeof(sub[0]) && *n == 0; i++) {
		char *dir = kr_sprintf("%s%s", path, sub[i]);
		DIR *d = opendir(dir);
		struct dirent *e;
		while (d && (e = readdir(d))) {
			size_t l = strlen(e->d_name);
			if (l < 5 || strcmp(e->d_name + l - 4, ".kfm") != 0)
				continue;
			if (*n == cap) {
				cap = cap ? cap * 2 : 8;
				*files = kr_realloc(*files, cap * sizeof(char *));
			}
			(*files)[(*n)++] = kr_sprintf("%s/%s", dir, e->d_name);
		}
		if (d)
			closedir(d);
		free(dir);
	}
	if (*n == 0)
		return kr_error(KR_ENOTFOUND, "%s holds no membership chain (*.kfm files, as in a node's "
		    "federation/chain/)", path);
	qsort(*files, *n, sizeof(char *), s_cmp_str);
	return 0;
}

/* Verifies the chain from its genesis (whose id must be fedid) to the newest version, into *cur. */
static int
s_chain(const char *path, const uint8_t fedid[32], kr_membership *cur)
{
	char **files;
	size_t n;
	int rc, have = 0;

	memset(cur, 0, sizeof(*cur));
	if ((rc = s_chain_files(path, &files, &n)) < 0)
		return rc;
	for (size_t i = 0; i < n && rc == 0; i++) {
		kr_buf b = KR_BUF_INIT;
		kr_signed_multi sm = { .body = KR_BUF_INIT };
		kr_membership next;
		kr_fed_tally t = { { 0, 0, 0, KR_BUF_INIT }, { 0, 0, 0, KR_BUF_INIT } };
		memset(&next, 0, sizeof(next));
		if ((rc = kr_file_read(&b, files[i])) == 0 && (rc = kr_signed_multi_decode(&sm, b.ptr, b.len)) == 0 &&
		    (rc = kr_fed_check_next(&next, have ? cur : NULL, fedid, &sm, &t)) == 0) {
			kr_membership_clear(cur);
			*cur = next;
			have = 1;
		} else {
			kr_membership_clear(&next);
			kr_error_prefix(rc, "%s", files[i]);
		}
		kr_fed_tally_release(&t);
		kr_signed_multi_clear(&sm);
		kr_buf_release(&b);
	}
	kr_strv_free(files, n);
	if (rc < 0 && have)
		kr_membership_clear(cur);
	return rc;
}

/* Step 1: the signed manifest and who signed it. */
static int
s_manifest(s_audit *a, kr_store *st, const uint8_t *fedid)
{
	kr_buf bytes = KR_BUF_INIT;
	kr_signed s = { .body = KR_BUF_INIT };
	char got[KR_FPR_HEX + 1];
	int rc;

	if ((rc = kr_store_manifest_ref_get(st, a->fpr, a->coll, &bytes)) < 0) {
		if (rc == KR_ENOTFOUND)
			rc = kr_error(KR_EVERIFY, "%s has no refs/kairan/manifest: make the mirror with "
			    "`git clone --mirror` (which copies refs/kairan/*) of a collection published by a "
			    "kairan node that writes it", a->dir);
		goto done;
	}
	if ((rc = kr_signed_decode(&s, bytes.ptr, bytes.len)) < 0) {
		rc = kr_error(KR_EVERIFY, "refs/kairan/manifest is not a Signed manifest: %s", kr_errmsg());
		goto done;
	}
	kr_hex(got, s.key, KR_FPR_LEN);
	if (fedid) {
		kr_membership fm;
		const kr_fed_revoked *rev = NULL;
		char fh[65];
		kr_hex(fh, fedid, 32);
		if ((rc = s_chain(a->chain, fedid, &fm)) < 0) {
			kr_error_prefix(rc, "the membership chain of federation %.16s… does not verify", fh);
			goto done;
		}
		a->fed_version = fm.version;
		{
			kr_manifest peek;
			memset(&peek, 0, sizeof(peek));
			if (kr_manifest_decode(&peek, s.body.ptr, s.body.len) < 0) {
				rc = kr_error(KR_EVERIFY, "refs/kairan/manifest: %s", kr_errmsg());
				kr_membership_clear(&fm);
				goto done;
			}
			if (kr_fed_publisher(&fm, s.key, peek.lg_code, kr_now(), &rev) != KR_FED_MEMBER) {
				rc = kr_error(KR_EVERIFY, "the manifest is signed by %s, which federation %.16s… "
				    "(version %llu) does not trust as %s: %s", got, fh, (unsigned long long)fm.version,
				    peek.lg_code ? peek.lg_code : "?", kr_errmsg());
				kr_manifest_clear(&peek);
				kr_membership_clear(&fm);
				goto done;
			}
			kr_manifest_clear(&peek);
		}
		kr_membership_clear(&fm);
		memcpy(a->fpr, got, sizeof(a->fpr));
	} else if (strcmp(got, a->fpr) != 0) {
		rc = kr_error(KR_EVERIFY, "the manifest is signed by another key (%s), not by the publisher %s: "
		    "the mirror was re-signed by someone else", got, a->fpr);
		goto done;
	}
	if ((rc = kr_signed_verify(s.key, KR_MANIFEST_TYPE, s.body.ptr, s.body.len, s.sig)) < 0) {
		rc = kr_error(KR_EVERIFY, "the manifest's signature does not verify with %s: the manifest was edited",
		    got);
		goto done;
	}
	if ((rc = kr_manifest_decode(&a->m, s.body.ptr, s.body.len)) < 0) {
		rc = kr_error(KR_EVERIFY, "refs/kairan/manifest: %s", kr_errmsg());
		goto done;
	}
	if (memcmp(a->m.publisher, s.key, KR_FPR_LEN) != 0)
		rc = kr_error(KR_EVERIFY, "the manifest names another publisher than the key that signed it");
done:
	kr_signed_clear(&s);
	kr_buf_release(&bytes);
	return rc;
}

/* Step 2: in force. */
static int
s_in_force(s_audit *a)
{
	int64_t now = kr_now();
	char t[32];

	if (a->m.issued > now + KR_FUTURE_SKEW) {
		s_time(t, a->m.issued);
		return kr_error(KR_EVERIFY, "the manifest (seq %llu) claims to be issued at %s, in the future",
		    (unsigned long long)a->m.seq, t);
	}
	if (a->m.expires <= now) {
		s_time(t, a->m.expires);
		return kr_error(KR_EVERIFY, "the manifest (seq %llu) expired at %s: the mirror is stale or "
		    "was rolled back to an older state (a live publisher re-signs before expiry)",
		    (unsigned long long)a->m.seq, t);
	}
	if (a->m.seq < a->min_seq)
		return kr_error(KR_EVERIFY, "the manifest is seq %llu, older than seq %llu seen before: "
		    "the mirror was rolled back", (unsigned long long)a->m.seq, (unsigned long long)a->min_seq);
	return 0;
}

/* Step 3: refs/heads/main is the signed head. */
static int
s_head(s_audit *a, kr_store *st)
{
	uint8_t main[KR_OID_LEN];
	char mh[KR_OID_HEX + 1], sh[KR_OID_HEX + 1];
	int rc;

	for (size_t i = 0; i < a->m.nheads && !a->head; i++)
		if (strcmp(a->m.heads[i].collection, a->coll) == 0)
			a->head = &a->m.heads[i];
	if (!a->head) {
		kr_buf names = KR_BUF_INIT;
		for (size_t i = 0; i < a->m.nheads; i++)
			kr_buf_addf(&names, "%s%s", i ? ", " : "", a->m.heads[i].collection);
		rc = kr_error(KR_EVERIFY, "the signed manifest (seq %llu) lists no collection '%s' (it lists: %s; "
		    "name it with --collection)", (unsigned long long)a->m.seq, a->coll, names.len ? names.ptr : "none");
		kr_buf_release(&names);
		return rc;
	}
	kr_hex(sh, a->head->commit, KR_OID_LEN);
	if ((rc = kr_store_head(st, a->fpr, a->coll, main)) < 0)
		return kr_error(KR_EVERIFY, "the mirror has no refs/heads/main; the publisher signed %s", sh);
	kr_hex(mh, main, KR_OID_LEN);
	if (memcmp(main, a->head->commit, KR_OID_LEN) == 0)
		return 0;
	if (kr_store_descends(st, a->fpr, a->coll, main, a->head->commit))
		return kr_error(KR_EVERIFY, "refs/heads/main is at %s, past the signed head %s (seq %llu): "
		    "commits were added that the publisher did not sign into a manifest (edited)", mh, sh,
		    (unsigned long long)a->m.seq);
	if (kr_store_descends(st, a->fpr, a->coll, a->head->commit, main))
		return kr_error(KR_EVERIFY, "refs/heads/main is at %s, behind the signed head %s (seq %llu): "
		    "the mirror was rolled back", mh, sh, (unsigned long long)a->m.seq);
	return kr_error(KR_EVERIFY, "refs/heads/main is at %s, but the publisher signed %s (seq %llu) and "
	    "the two histories differ: the mirror was edited", mh, sh, (unsigned long long)a->m.seq);
}

static void
s_damage(const uint8_t oid[KR_OID_LEN], const char *what, const char *why, void *arg)
{
	s_audit *a = arg;
	char hex[KR_OID_HEX + 1];

	kr_hex(hex, oid, KR_OID_LEN);
	if (a->damaged < 20)
		fprintf(stderr, _("kairan: audit: %s: %s %s: %s\n"), a->dir, what, hex, why);
}

static void
s_report(const s_audit *a, int ok, const char *why)
{
	char issued[32] = "", expires[32] = "", head[KR_OID_HEX + 1] = "";

	if (a->m.issued)
		s_time(issued, a->m.issued);
	if (a->m.expires)
		s_time(expires, a->m.expires);
	if (a->head)
		kr_hex(head, a->head->commit, KR_OID_LEN);
	if (a->json) {
		kr_buf b = KR_BUF_INIT;
		kr_buf_adds(&b, "{\"authentic\":");
		kr_buf_adds(&b, ok ? "true" : "false");
		kr_buf_adds(&b, ",\"mirror\":");
		kr_buf_addjson(&b, a->dir);
		kr_buf_adds(&b, ",\"collection\":");
		kr_buf_addjson(&b, a->coll);
		kr_buf_adds(&b, ",\"publisher\":");
		kr_buf_addjson(&b, a->fpr);
		kr_buf_adds(&b, ",\"name\":");
		kr_buf_addjson(&b, a->m.name ? a->m.name : "");
		kr_buf_adds(&b, ",\"lg_code\":");
		kr_buf_addjson(&b, a->m.lg_code ? a->m.lg_code : "");
		kr_buf_addf(&b, ",\"seq\":%llu,\"issued\":%lld,\"expires\":%lld,\"head\":",
		    (unsigned long long)a->m.seq, (long long)a->m.issued, (long long)a->m.expires);
		kr_buf_addjson(&b, head);
		kr_buf_addf(&b, ",\"commits\":%zu,\"objects\":%zu", a->ncommits, a->nobjects);
		if (a->fedid_hex)
			kr_buf_addf(&b, ",\"federation_version\":%llu", (unsigned long long)a->fed_version);
		kr_buf_adds(&b, ",\"reason\":");
		kr_buf_addjson(&b, ok ? "" : why);
		kr_buf_adds(&b, "}\n");
		fputs(b.ptr, stdout);
		kr_buf_release(&b);
	}
	if (!ok) {
		kr_buf b = KR_BUF_INIT;
		kr_buf_adds(&b, _("kairan: audit: "));
		kr_buf_addsafe(&b, a->dir, strlen(a->dir), KR_SAFE_LINE);
		kr_buf_adds(&b, _(": NOT authentic: "));
		kr_buf_addsafe(&b, why, strlen(why), KR_SAFE_LINE);
		kr_buf_addch(&b, '\n');
		fputs(b.ptr, stderr);
		kr_buf_release(&b);
	} else if (!a->json) {
		kr_buf b = KR_BUF_INIT;
		kr_buf_adds(&b, _("authentic: "));
		kr_buf_addsafe(&b, a->dir, strlen(a->dir), KR_SAFE_LINE);
		kr_buf_addf(&b, _("\n  collection %s of "), a->coll);
		kr_buf_addsafe(&b, a->m.name ? a->m.name : "", a->m.name ? strlen(a->m.name) : 0, KR_SAFE_LINE);
		kr_buf_addf(&b, _(" (%s), publisher %s\n"), a->m.lg_code ? a->m.lg_code : "", a->fpr);
		if (a->fedid_hex)
			kr_buf_addf(&b, _("  a member of federation %.16s… (membership version %llu)\n"), a->fedid_hex,
			    (unsigned long long)a->fed_version);
		kr_buf_addf(&b, _("  manifest seq %llu, issued %s, expires %s\n"), (unsigned long long)a->m.seq, issued,
		    expires);
		kr_buf_addf(&b, _("  refs/heads/main = signed head %s\n"), head);
		kr_buf_addf(&b, _("  %zu commit(s) signed by the publisher, %zu object(s) re-hashed\n"), a->ncommits,
		    a->nobjects);
		fputs(b.ptr, stdout);
		kr_buf_release(&b);
	}
}

int
cmd_audit(kr_cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "publisher", required_argument, NULL, 'p' },
		{ "federation", required_argument, NULL, 'f' },
		{ "chain", required_argument, NULL, 'c' },
		{ "collection", required_argument, NULL, 'C' },
		{ "min-seq", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	s_audit a;
	kr_store *st = NULL;
	uint8_t fedid[32];
	const char *pub = NULL;
	char *dir = NULL;
	int o, rc, ok = 0;

	(void)c;
	memset(&a, 0, sizeof(a));
	optind = 1;
	while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (o) {
		case 'p': pub = optarg; break;
		case 'f': a.fedid_hex = optarg; break;
		case 'c': a.chain = optarg; break;
		case 'C': snprintf(a.coll, sizeof(a.coll), "%s", optarg); break;
		case 's': {
			char *end;
			a.min_seq = strtoull(optarg, &end, 10);
			if (*end || !*optarg) {
				fprintf(stderr, _("kairan: audit: --min-seq '%s' is not a number\n"), optarg);
				return 2;
			}
			break;
		}
		case 'j': a.json = 1; break;
		case 'h': fputs(_(s_usage), stdout); return 0;
		default: return kr_cli_usage("audit");
		}
	}
	if (optind + 1 != argc || (!pub == !a.fedid_hex) || (a.fedid_hex && !a.chain)) {
		fputs(_(s_usage), stderr);
		return 2;
	}
	if (pub && !kr_is_hex(pub, KR_FPR_HEX)) {
		fprintf(stderr, _("kairan: audit: --publisher needs the 64 hex digits of a fingerprint "
		    "(kairan id --fingerprint), not '%s'\n"), pub);
		return 2;
	}
	if (a.fedid_hex && (strlen(a.fedid_hex) != 64 || kr_unhex(fedid, 32, a.fedid_hex) < 0)) {
		fprintf(stderr, _("kairan: audit: --federation needs the 64 hex digits of a federation id "
		    "(kairan federation show), not '%s'\n"), a.fedid_hex);
		return 2;
	}
	/* the collection: --collection, else the mirror's directory name without .git */
	dir = kr_strdup(argv[optind]);
	{
		size_t l = strlen(dir);
		while (l > 1 && dir[l - 1] == '/')
			dir[--l] = '\0';
	}
	a.dir = dir;
	if (!a.coll[0]) {
		const char *base = strrchr(dir, '/') ? strrchr(dir, '/') + 1 : dir;
		size_t l = strlen(base);
		if (l > 4 && strcmp(base + l - 4, ".git") == 0)
			l -= 4;
		snprintf(a.coll, sizeof(a.coll), "%.*s", (int)l, base);
	}
	if (!kr_collection_valid(a.coll)) {
		fprintf(stderr, _("kairan: audit: '%s' is not a collection name; name it with --collection "
		    "(cases, prompts, guidelines, datasets …)\n"), a.coll);
		free(dir);
		return 2;
	}
	/* with --federation the key comes from the manifest: open under a placeholder name, then check */
	snprintf(a.fpr, sizeof(a.fpr), "%s", pub ? pub : "0000000000000000000000000000000000000000000000000000000000000000");
	if ((rc = kr_store_open_mirror(&st, dir, a.fpr, a.coll)) < 0) {
		kr_cli_fail("audit");
		free(dir);
		return rc == KR_EUSAGE ? 2 : 1;
	}
	if (a.fedid_hex) {
		rc = s_manifest(&a, st, fedid);
		if (rc == 0) {
			/* reopen under the member's key so the commit checks use it */
			kr_store_destroy(&st);
			rc = kr_store_open_mirror(&st, dir, a.fpr, a.coll);
		}
	} else {
		rc = s_manifest(&a, st, NULL);
	}
	if (rc == 0)
		rc = s_in_force(&a);
	if (rc == 0)
		rc = s_head(&a, st);
	if (rc == 0 && (rc = kr_store_verify_range(st, a.fpr, a.coll, NULL, a.head->commit, a.m.publisher,
	    &a.ncommits)) < 0)
		kr_error_prefix(rc, "history of %s", a.coll);
	if (rc == 0) {
		int d = kr_store_verify_objects(st, a.fpr, a.coll, s_damage, &a, &a.nobjects);
		if (d > 0)
			rc = kr_error(KR_EVERIFY, "%d object(s) reachable from the signed head are damaged or "
			    "missing (listed above): the mirror was edited or is corrupt", d);
		else
			rc = d;
	}
	ok = rc == 0;
	s_report(&a, ok, ok ? "" : kr_errmsg());
	kr_store_destroy(&st);
	kr_manifest_clear(&a.m);
	free(dir);
	return ok ? 0 : 1;
}
