/*
 * node/cmd_backup.c - kairan backup DIR / kairan restore DIR: a whole home,
 * copied while the node serves, and put back on another machine
 *
 * A backup is a directory laid out like a home. Order of the copy, so that
 * what it holds is what a crash at one moment would have left (the state
 * kr_home_open already knows how to reconcile, DESIGN §5):
 *   1. state.db by SQLite's online backup (one read transaction);
 *   2. everything else of the home but repos/ and manifests/ (config,
 *      keys, follows, federation/, …);
 *   3. each repository: its refs before its objects, so every object the
 *      copied refs name is found; objects/ is listed again until no new
 *      file appears (a consolidation writes its new pack before removing
 *      the old ones), then every reachable object of the copy is read and
 *      re-hashed (kr_store_verify_objects), the repository copied again if
 *      one is missing;
 *   4. manifests/ last: our saved manifest is written before the state
 *      that records it commits, so the copy's is never behind its refs.
 * It is written to DIR.partial-PID and renamed to DIR at the end: a
 * failed backup leaves no DIR. restore copies a backup into a new home the
 * same way (all or nothing, kr_home_staging: also into the empty
 * /var/lib/kairan of the service), opens it (schema migrations, reconcile:
 * refs ahead of state.db get a fresh manifest above the last seq) and only
 * then puts it in place; it refuses a home that exists.
 */
#include "cli.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define COPY_ROUNDS 5        /* listings of objects/ until nothing new appears */
#define REPO_TRIES 3         /* copies of one repository until it verifies */

typedef struct {
	size_t files, repos, objects;
	uint64_t bytes;
} s_stats;

/* Copies one regular file with its mode; KR_ENOTFOUND if it vanished first. */
static int
s_copy_file(const char *src, const char *dst, mode_t mode, s_stats *st)
{
	char buf[65536];
	ssize_t n;
	int in, out, rc = 0;

	if ((in = open(src, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0)
		return errno == ENOENT ? KR_ENOTFOUND : kr_error(KR_EIO, "%s: %s", src, strerror(errno));
	if ((out = open(dst, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, (mode & 07777) | 0200)) < 0) {
		rc = kr_error(KR_EIO, "%s: %s", dst, strerror(errno));
		close(in);
		return rc;
	}
	while ((n = read(in, buf, sizeof(buf))) > 0) {
		if (write(out, buf, (size_t)n) != n) {
			rc = kr_error(KR_EIO, "%s: %s", dst, strerror(errno));
			break;
		}
		st->bytes += (uint64_t)n;
	}
	if (n < 0 && rc == 0)
		rc = kr_error(KR_EIO, "%s: %s", src, strerror(errno));
	if (rc == 0 && fsync(out) < 0)
		rc = kr_error(KR_EIO, "%s: %s", dst, strerror(errno));
	close(in);
	if (close(out) < 0 && rc == 0)
		rc = kr_error(KR_EIO, "%s: %s", dst, strerror(errno));
	if (rc == 0)
		chmod(dst, mode & 07777);
	st->files++;
	return rc;
}

/* What a copy of a home leaves out: the live database (copied by SQLite), the daemon's socket, half-made files. */
static int
s_skip(const char *name, int top)
{
	if (top && (strncmp(name, "state.db", 8) == 0 || strcmp(name, "control.sock") == 0))
		return 1;
	return strstr(name, ".partial-") != NULL || strstr(name, ".init.") != NULL;
}

/*
 * Copies the tree src into dst (made if missing, same modes), leaving out
 * the names in skip (at the top) and s_skip(); with only_new, files dst
 * already has are not copied again. Files that vanish meanwhile are
 * skipped; sockets, links and devices are left out.
 */
static int
s_copy_tree(const char *src, const char *dst, const char *const *skip, int top, int only_new, s_stats *st)
{
	DIR *d;
	struct dirent *de;
	struct stat sb;
	int rc = 0;

	if (stat(src, &sb) < 0)
		return errno == ENOENT ? 0 : kr_error(KR_EIO, "%s: %s", src, strerror(errno));
	if (mkdir(dst, sb.st_mode & 07777) < 0 && errno != EEXIST)
		return kr_error(KR_EIO, "%s: %s", dst, strerror(errno));
	if (!(d = opendir(src)))
		return errno == ENOENT ? 0 : kr_error(KR_EIO, "%s: %s", src, strerror(errno));
	while (rc == 0 && (de = readdir(d))) {
		char *s, *t;
		int skipped = strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0 || s_skip(de->d_name, top);
		for (size_t i = 0; skip && skip[i] && !skipped; i++)
			skipped = strcmp(de->d_name, skip[i]) == 0;
		if (skipped)
			continue;
		s = kr_sprintf("%s/%s", src, de->d_name);
		t = kr_sprintf("%s/%s", dst, de->d_name);
		if (lstat(s, &sb) < 0) {
			if (errno != ENOENT)
				rc = kr_error(KR_EIO, "%s: %s", s, strerror(errno));
		} else if (S_ISDIR(sb.st_mode)) {
			rc = s_copy_tree(s, t, NULL, 0, only_new, st);
		} else if (S_ISREG(sb.st_mode) && !(only_new && access(t, F_OK) == 0)) {
			if ((rc = s_copy_file(s, t, sb.st_mode, st)) == KR_ENOTFOUND) {
				kr_error_clear();
				rc = 0;
			}
		}
		free(s);
		free(t);
	}
	closedir(d);
	return rc;
}

/* Files under dir (recursively), to see whether another listing found new ones. */
static size_t
s_count_files(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	size_t n = 0;

	if (!d)
		return 0;
	while ((de = readdir(d))) {
		char *p;
		struct stat sb;
		if (de->d_name[0] == '.')
			continue;
		p = kr_sprintf("%s/%s", dir, de->d_name);
		if (lstat(p, &sb) == 0)
			n += S_ISDIR(sb.st_mode) ? s_count_files(p) : 1;
		free(p);
	}
	closedir(d);
	return n;
}

/* One repository: everything but objects/ (the refs), then objects/ until a listing brings nothing new. */
static int
s_copy_repo(const char *src, const char *dst, s_stats *st)
{
	static const char *const no_objects[] = { "objects", NULL };
	char *so = kr_sprintf("%s/objects", src), *to = kr_sprintf("%s/objects", dst);
	int rc;

	if ((rc = s_copy_tree(src, dst, no_objects, 0, 0, st)) == 0) {
		size_t before = (size_t)-1, after = 0;
		for (int round = 0; round < COPY_ROUNDS && rc == 0 && before != after; round++) {
			before = s_count_files(to);
			rc = s_copy_tree(so, to, NULL, 0, 1, st);
			after = s_count_files(to);
		}
	}
	free(so);
	free(to);
	return rc;
}

typedef struct {
	const char *repo;
	size_t n;
	char first[256];
} s_damage;

static void
s_on_damage(const uint8_t oid[KR_OID_LEN], const char *what, const char *why, void *arg)
{
	s_damage *d = arg;
	char hex[KR_OID_HEX + 1];

	if (d->n++ == 0) {
		kr_hex(hex, oid, KR_OID_LEN);
		snprintf(d->first, sizeof(d->first), "%s %s: %s", what, hex, why);
	}
}

/* Copies every repository of home into dst and checks each copy's objects, again if needed. */
static int
s_copy_repos(const char *home, const char *dst, s_stats *st)
{
	kr_store *src_store = NULL, *copy = NULL;
	char **pubs = NULL, *rs = kr_sprintf("%s/repos", home), *rd = kr_sprintf("%s/repos", dst);
	size_t npubs = 0;
	int rc;

	if ((rc = kr_mkdir_p(rd, 0755)) < 0 || (rc = kr_store_open(&src_store, home)) < 0 ||
	    (rc = kr_store_publishers(src_store, &pubs, &npubs)) < 0)
		goto done;
	for (size_t p = 0; p < npubs && rc == 0; p++) {
		char **colls = NULL;
		size_t ncolls = 0;
		if ((rc = kr_store_collections(src_store, pubs[p], &colls, &ncolls)) < 0)
			break;
		for (size_t c = 0; c < ncolls && rc == 0; c++) {
			char *s = kr_sprintf("%s/%s/%s.git", rs, pubs[p], colls[c]);
			char *t = kr_sprintf("%s/%s/%s.git", rd, pubs[p], colls[c]);
			char *pd = kr_sprintf("%s/%s", rd, pubs[p]);
			s_damage dmg = { t, 0, "" };
			for (int tries = 0; tries < REPO_TRIES && rc == 0; tries++) {
				size_t objects = 0;
				if (tries > 0)
					kr_home_remove_tree(t);
				memset(&dmg, 0, sizeof(dmg));
				if ((rc = kr_mkdir_p(pd, 0755)) < 0 || (rc = s_copy_repo(s, t, st)) < 0)
					break;
				kr_store_destroy(&copy);
				if ((rc = kr_store_open(&copy, dst)) < 0)
					break;
				rc = kr_store_verify_objects(copy, pubs[p], colls[c], s_on_damage, &dmg, &objects);
				if (rc == KR_ENOTFOUND) /* no main ref: a collection set aside, nothing to check */
					rc = 0;
				if (rc < 0)
					break;
				st->objects += objects;
				if (dmg.n == 0)
					break;
				rc = 0;
			}
			if (rc == 0 && dmg.n > 0)
				rc = kr_error(KR_EIO, "%s: %zu objects missing or damaged in the copy after %d tries "
				    "(first: %s); check the original with: kairan verify --full", t, dmg.n, REPO_TRIES,
				    dmg.first);
			if (rc == 0)
				st->repos++;
			free(s);
			free(t);
			free(pd);
		}
		kr_strv_free(colls, ncolls);
	}
done:
	kr_strv_free(pubs, npubs);
	kr_store_destroy(&src_store);
	kr_store_destroy(&copy);
	free(rs);
	free(rd);
	return rc;
}

/* DIR must not exist, or be an empty directory (removed so the rename can take its name). */
static int
s_target_free(const char *dir, const char *what)
{
	struct stat sb;

	if (stat(dir, &sb) < 0)
		return errno == ENOENT ? 0 : kr_error(KR_EIO, "%s: %s", dir, strerror(errno));
	if (rmdir(dir) < 0) {
		char *cfg = kr_sprintf("%s/config", dir);
		int home = access(cfg, F_OK) == 0;
		free(cfg);
		return kr_error(KR_EEXISTS, "%s %s%s; nothing was changed (choose a new directory)", what, dir,
		    home ? " is already a kairan home" : " exists and is not empty");
	}
	return 0;
}

/*
 * The one argument DIR of backup and restore: 0 with *dir set, or the
 * exit code (0 after printing help, 2 for a usage error) with *dir NULL.
 */
static int
s_dir_arg(const char *cmd, int argc, char **argv, const char *help, const char **dir)
{
	*dir = NULL;
	if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		fputs(help, stdout);
		return 0;
	}
	if (argc != 2 || argv[1][0] == '-')
		return kr_cli_usage(cmd);
	*dir = argv[1];
	return 0;
}

/* The seq of this node's last manifest in state, 0 when there is none yet. */
static uint64_t
s_last_seq(kr_state *state, const char *fpr)
{
	kr_state_manifest m;
	uint64_t seq = 0;

	if (kr_state_manifest_get(state, fpr, &m) == 0) {
		seq = m.seq;
		kr_state_manifest_clear(&m);
	}
	kr_error_clear();
	return seq;
}

int
cmd_backup(kr_cli *c, int argc, char **argv)
{
	static const char *const later[] = { "repos", "manifests", NULL };
	const char *dir;
	char *tmp = NULL, *p = NULL, iso[32];
	s_stats st = { 0 };
	kr_buf info = KR_BUF_INIT;
	uint64_t seq;
	int rc;

	if ((rc = s_dir_arg("backup", argc, argv, _("usage: kairan [--home DIR] backup DIR\n\n"
	    "Copies the whole home into the new directory DIR, also while `kairan serve`\n"
	    "runs: state.db by SQLite's online backup, the git repositories refs first,\n"
	    "every object of the copy re-read. DIR holds the signing key: keep it as\n"
	    "safe as the home. Put it back with: kairan --home NEW restore DIR\n"), &dir)) || !dir)
		return rc;
	if ((rc = s_target_free(dir, "backup directory")) < 0)
		goto fail;
	tmp = kr_sprintf("%s.partial-%d", dir, (int)getpid());
	kr_home_remove_tree(tmp);
	if ((rc = kr_mkdir_p(tmp, 0700)) < 0)
		goto fail;
	p = kr_sprintf("%s/state.db", tmp);
	if ((rc = kr_state_backup(c->h.state, p)) < 0 ||
	    (rc = s_copy_tree(c->h.home, tmp, later, 1, 0, &st)) < 0 ||
	    (rc = s_copy_repos(c->h.home, tmp, &st)) < 0)
		goto fail;
	free(p);
	p = kr_sprintf("%s/manifests", c->h.home);
	{
		char *t = kr_sprintf("%s/manifests", tmp);
		rc = s_copy_tree(p, t, NULL, 0, 0, &st);
		free(t);
		if (rc < 0)
			goto fail;
	}
	seq = s_last_seq(c->h.state, c->h.fpr);
	kr_time_iso(iso, kr_now());
	kr_buf_addf(&info, "# kairan backup (restore with: kairan --home NEW restore DIR)\n"
	    "made = %s\nfrom = %s\nname = %s\nlg_code = %s\nfingerprint = %s\nseq = %llu\n",
	    iso, c->h.home, c->h.cfg.name, c->h.cfg.lg_code, c->h.fpr, (unsigned long long)seq);
	free(p);
	p = kr_sprintf("%s/BACKUP", tmp);
	if ((rc = kr_file_write(p, info.ptr, info.len, 0644)) < 0)
		goto fail;
	if (rename(tmp, dir) < 0) {
		rc = kr_error(KR_EIO, "%s: %s", dir, strerror(errno));
		goto fail;
	}
	printf(_("backed up %s (%s, %s) to %s: state.db at seq %llu, %zu repositories (%zu objects re-read), "
	    "%zu files, %llu KB\n"), c->h.home, c->h.cfg.name, c->h.cfg.lg_code, dir, (unsigned long long)seq,
	    st.repos, st.objects, st.files, (unsigned long long)(st.bytes / 1024));
	rc = 0;
	goto done;
fail:
	kr_cli_fail("backup");
	if (tmp)
		kr_home_remove_tree(tmp);
	rc = 1;
done:
	free(tmp);
	free(p);
	kr_buf_release(&info);
	return rc;
}

int
cmd_restore(kr_cli *c, int argc, char **argv)
{
	const char *dir;
	char *tmp = NULL, *p = NULL, *msg = NULL;
	s_stats st = { 0 };
	kr_home h;
	int rc, opened = 0, in_place = 0;

	if ((rc = s_dir_arg("restore", argc, argv, _("usage: kairan [--home NEW] restore DIR\n\n"
	    "Makes the new home NEW from the backup DIR (kairan backup), opens it (schema\n"
	    "migrations; refs ahead of state.db get a manifest above the last seq) and\n"
	    "then puts it in place. Refuses a home that exists. Stop the old node for\n"
	    "good first: two nodes with one key would sign conflicting manifests.\n"), &dir)) || !dir)
		return rc;
	memset(&h, 0, sizeof(h));
	for (const char *const *need = (const char *const[]){ "config", "keys/node.ed25519", "state.db", NULL };
	    *need; need++) {
		free(p);
		p = kr_sprintf("%s/%s", dir, *need);
		if (access(p, F_OK) < 0) {
			rc = kr_error(KR_ENOTFOUND, "%s is not a kairan backup (no %s; make one with: kairan backup DIR)",
			    dir, *need);
			goto fail;
		}
	}
	if (!(tmp = kr_home_staging(c->home_path, "restore", &in_place))) {
		rc = KR_EEXISTS;
		goto fail;
	}
	if ((rc = s_copy_tree(dir, tmp, (const char *const[]){ "BACKUP", NULL }, 0, 0, &st)) < 0)
		goto fail;
	if (!in_place)
		chmod(tmp, 0755);
	if ((rc = kr_home_open(&h, tmp)) < 0)
		goto fail;
	opened = 1;
	msg = kr_sprintf(_("restored %s (%s, %s) into %s: fingerprint %s, seq %llu, %zu files\n"), dir, h.cfg.name,
	    h.cfg.lg_code, c->home_path, h.fpr, (unsigned long long)s_last_seq(h.state, h.fpr), st.files);
	kr_home_close(&h);
	opened = 0;
	if ((rc = kr_home_staging_commit(tmp, c->home_path, in_place)) < 0)
		goto fail;
	fputs(msg, stdout);
	printf(_("the node that was backed up must not serve any more; start this one with: kairan --home %s serve\n"),
	    c->home_path);
	rc = 0;
	goto done;
fail:
	kr_cli_fail("restore");
	if (opened)
		kr_home_close(&h);
	if (tmp)
		kr_home_remove_tree(tmp);
	rc = 1;
done:
	free(tmp);
	free(p);
	free(msg);
	return rc;
}
