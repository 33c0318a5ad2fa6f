/*
 * node/keyrot.c - a member rotating its own signing key (see keyrot.h)
 *
 * Invariants: the node signs with exactly one key, keys/node.ed25519; the
 * switch to the pending key happens only when the held membership chain
 * names it as the current key's successor (or the operator said --now),
 * only when no daemon runs on the home, and every step is idempotent, so
 * an interrupted switch is finished by the next open and never half-done
 * in a way that loses history or restarts seq. Threads: called from
 * kr_home_open, on the opening thread, before anything else uses the home.
 */
#include "keyrot.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../sharing/fedstore.h"
#include "../sharing/manifest.h"
#include "serve.h"
#include "transport.h"

static int
s_exists(const char *path)
{
	return access(path, F_OK) == 0;
}

static void
s_fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
}

/*
 * from → to, a new directory: files under objects/ hard-linked (git never
 * changes an object file), every other file copied (refs, config, HEAD:
 * written again by this node), lock files left out.
 */
static int
s_link_tree(const char *from, const char *to, int objects)
{
	DIR *d;
	struct dirent *e;
	int rc = 0;

	if (mkdir(to, 0755) < 0 && errno != EEXIST)
		return kr_error(KR_EIO, "%s: %s", to, strerror(errno));
	if (!(d = opendir(from)))
		return kr_error(KR_EIO, "%s: %s", from, strerror(errno));
	while (rc == 0 && (e = readdir(d))) {
		char *f, *t;
		struct stat st;
		size_t nl = strlen(e->d_name);

		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0 ||
		    (nl > 5 && strcmp(e->d_name + nl - 5, ".lock") == 0))
			continue;
		f = kr_sprintf("%s/%s", from, e->d_name);
		t = kr_sprintf("%s/%s", to, e->d_name);
		if (lstat(f, &st) < 0) {
			rc = kr_error(KR_EIO, "%s: %s", f, strerror(errno));
		} else if (S_ISDIR(st.st_mode)) {
			rc = s_link_tree(f, t, objects || strcmp(e->d_name, "objects") == 0);
		} else if (S_ISREG(st.st_mode)) {
			if (objects) {
				if (link(f, t) < 0 && errno != EEXIST)
					rc = kr_error(KR_EIO, "%s → %s: %s", f, t, strerror(errno));
			} else {
				kr_buf b = KR_BUF_INIT;
				if ((rc = kr_file_read(&b, f)) == 0)
					rc = kr_file_write(t, b.ptr, b.len, (int)(st.st_mode & 0777));
				kr_buf_release(&b);
			}
		}
		free(f);
		free(t);
	}
	closedir(d);
	return rc;
}

/* Step 1: every collection of old, linked under new (each renamed into place whole). */
static int
s_link_repos(const char *home, const char *old, const char *new)
{
	char *from = kr_sprintf("%s/repos/%s", home, old), *to = kr_sprintf("%s/repos/%s", home, new);
	DIR *d = opendir(from);
	struct dirent *e;
	int rc = 0;

	if (!d) {
		rc = errno == ENOENT ? 0 : kr_error(KR_EIO, "%s: %s", from, strerror(errno));
		goto done;
	}
	if (mkdir(to, 0755) < 0 && errno != EEXIST) {
		rc = kr_error(KR_EIO, "%s: %s", to, strerror(errno));
		goto done;
	}
	while (rc == 0 && (e = readdir(d))) {
		size_t nl = strlen(e->d_name);
		char *f, *t, *tmp;
		if (e->d_name[0] == '.' || nl < 5 || strcmp(e->d_name + nl - 4, ".git") != 0)
			continue;
		f = kr_sprintf("%s/%s", from, e->d_name);
		t = kr_sprintf("%s/%s", to, e->d_name);
		tmp = kr_sprintf("%s/.%s.rotating", to, e->d_name);
		if (!s_exists(t)) {
			kr_home_remove_tree(tmp);         /* a crash's leftover */
			if ((rc = s_link_tree(f, tmp, 0)) == 0 && rename(tmp, t) < 0)
				rc = kr_error(KR_EIO, "%s: %s", t, strerror(errno));
			if (rc < 0)
				kr_home_remove_tree(tmp);
		}
		free(f);
		free(t);
		free(tmp);
	}
	if (rc == 0)
		s_fsync_dir(to);
done:
	if (d)
		closedir(d);
	free(from);
	free(to);
	return rc;
}

/* Step 2: the old key's last manifest, re-signed by the new key at the same seq: the floor of the next one. */
static int
s_floor_manifest(const char *home, const char *old, const kr_key *newkey, const char *newfpr)
{
	char *op = kr_sprintf("%s/manifests/%s", home, old), *np = kr_sprintf("%s/manifests/%s", home, newfpr);
	kr_buf b = KR_BUF_INIT, out = KR_BUF_INIT;
	kr_signed s = { .body = KR_BUF_INIT };
	kr_manifest m = { 0 };
	uint8_t okey[KR_FPR_LEN];
	int rc = 0;

	if (s_exists(np))
		goto done;
	if ((rc = kr_file_read(&b, op)) == KR_ENOTFOUND) {
		rc = 0;                 /* it never published: nothing to continue */
		kr_error_clear();
		goto done;
	}
	if (rc < 0)
		goto done;
	kr_unhex(okey, KR_FPR_LEN, old);
	if (kr_signed_decode(&s, b.ptr, b.len) < 0 || memcmp(s.key, okey, KR_FPR_LEN) != 0 ||
	    kr_signed_verify(okey, KR_MANIFEST_TYPE, s.body.ptr, s.body.len, s.sig) < 0 ||
	    kr_manifest_decode(&m, s.body.ptr, s.body.len) < 0) {
		rc = kr_error(KR_EVERIFY, "%s is not a manifest signed by %.16s…: the new key cannot learn the seq "
		    "to continue from (restore it, then open the home again)", op, old);
		goto done;
	}
	memcpy(m.publisher, kr_key_pub(newkey), KR_FPR_LEN);
	if ((rc = kr_manifest_sign(&out, &m, newkey)) == 0)
		rc = kr_file_write(np, out.ptr, out.len, 0644);
done:
	kr_manifest_clear(&m);
	kr_signed_clear(&s);
	kr_buf_release(&b);
	kr_buf_release(&out);
	free(op);
	free(np);
	return rc;
}

/* Step 3: keys/node.<ext> kept as keys/retired/OLD.<ext> (a link: the file stays whole throughout). */
static int
s_retire(const char *home, const char *old, const char *ext)
{
	char *cur = kr_sprintf("%s/keys/node.%s", home, ext), *dir = kr_sprintf("%s/keys/retired", home);
	char *dst = kr_sprintf("%s/%s.%s", dir, old, ext);
	int rc = 0;

	if (!s_exists(dst) && s_exists(cur) && ((rc = kr_mkdir_p(dir, 0700)) < 0 || link(cur, dst) < 0)) {
		if (rc == 0)
			rc = kr_error(KR_EIO, "%s: %s", dst, strerror(errno));
	}
	if (rc == 0)
		s_fsync_dir(dir);
	free(cur);
	free(dir);
	free(dst);
	return rc;
}

/* Whether the held chain rotates cur to next. */
static int
s_chain_rotates(const char *home, const uint8_t cur[KR_FPR_LEN], const uint8_t next[KR_FPR_LEN], uint64_t *version)
{
	kr_fedstore f;
	const uint8_t *succ;
	int yes = 0;

	*version = 0;
	if (kr_fedstore_open(&f, home) < 0) {
		kr_error_clear();
		return 0;
	}
	if (f.have) {
		*version = f.cur.version;
		yes = (succ = kr_fed_successor(&f.cur, cur)) && memcmp(succ, next, KR_FPR_LEN) == 0;
	}
	kr_fedstore_close(&f);
	return yes;
}

void
kr_keyrot_state_clear(kr_keyrot_state *st)
{
	free(st->why);
	memset(st, 0, sizeof(*st));
}

int
kr_keyrot_due(kr_home *h, char fpr[KR_FPR_HEX + 1])
{
	char *p = kr_sprintf("%s/keys/rotate.ed25519", h->home), *now = kr_sprintf("%s/keys/rotate.now", h->home);
	kr_key *k = NULL;
	uint64_t version;
	int due = 0;

	if (s_exists(p) && kr_key_load(&k, p) == 0) {
		kr_hex(fpr, kr_key_pub(k), KR_FPR_LEN);
		due = s_exists(now) || s_chain_rotates(h->home, kr_key_pub(h->key), kr_key_pub(k), &version);
	}
	kr_error_clear();
	kr_key_destroy(&k);
	free(p);
	free(now);
	return due;
}

void
kr_keyrot_pending(kr_home *h, kr_keyrot_state *st)
{
	char *p = kr_sprintf("%s/keys/rotate.ed25519", h->home), *now = kr_sprintf("%s/keys/rotate.now", h->home);
	kr_key *k = NULL;
	uint64_t version = 0;
	int rc;

	memset(st, 0, sizeof(*st));
	if (!s_exists(p))
		goto done;
	st->have = 1;
	st->now = s_exists(now);
	if ((rc = kr_key_load(&k, p)) < 0) {
		st->damaged = 1;
		st->why = kr_sprintf(_("%s cannot be read (%s): no switch will happen; this node goes on signing as "
		    "%s. Remove keys/rotate.* and run `kairan key rotate` again (the board then rotates %.16s… to "
		    "the new ID)"), p, kr_errmsg(), h->fpr, h->fpr);
		kr_error_clear();
		goto done;
	}
	kr_hex(st->fpr, kr_key_pub(k), KR_FPR_LEN);
	st->applied = s_chain_rotates(h->home, kr_key_pub(h->key), kr_key_pub(k), &version);
	st->daemon = (st->applied || st->now) && kr_control_poke(h, "keyrot", 300) == 0;
	kr_error_clear();
	if (st->daemon)
		st->why = kr_sprintf(_("the switch from %s to %s is due (%s); the daemon running on %s was told: it "
		    "restarts itself (same process) and signs with the new key"), h->fpr, st->fpr,
		    st->now ? "--now" : "the membership rotates it", h->home);
	else if (!st->applied && !st->now)
		st->why = version ?
		    kr_sprintf(_("a rotation from %s to %s is pending: the membership this node holds (version %llu) does "
		    "not rotate it yet. The board makes it with `kairan federation propose --rotate %s NEW-ID.json` "
		    "(NEW-ID.json: `kairan key rotate --id -o FILE` prints it again), signs it to its threshold and "
		    "applies it; this node switches once it holds that version (federation apply FILE, or sync). "
		    "Until then it signs as %s"), h->fpr, st->fpr, (unsigned long long)version, h->fpr, h->fpr) :
		    kr_sprintf(_("a rotation from %s to %s is pending, but this node is in no federation: no board will "
		    "apply it. Switch now with `kairan key rotate --now` (peers that pin %.16s… must then follow "
		    "%.16s…)"), h->fpr, st->fpr, h->fpr, st->fpr);
done:
	kr_key_destroy(&k);
	free(p);
	free(now);
}

static int
s_reload(kr_home *h)
{
	char *p = kr_sprintf("%s/keys/node.ed25519", h->home);
	kr_key *k = NULL, *tk = NULL;
	int rc;

	if ((rc = kr_key_load(&k, p)) == 0) {
		free(p);
		p = kr_sprintf("%s/keys/node.x25519", h->home);
		rc = kr_tkey_load(&tk, p);
	}
	free(p);
	if (rc < 0) {
		kr_key_destroy(&k);
		return rc;
	}
	kr_key_destroy(&h->key);
	kr_key_destroy(&h->tkey);
	h->key = k;
	h->tkey = tk;
	kr_hex(h->fpr, kr_key_pub(h->key), KR_FPR_LEN);
	kr_transport_init(h->home, h->tkey, h->cfg.transport_plain, h->cfg.admit_listed);
	return 0;
}

int
kr_keyrot_settle(kr_home *h)
{
	kr_keyrot_state st;
	char old[KR_FPR_HEX + 1];
	char *ped = kr_sprintf("%s/keys/rotate.ed25519", h->home), *ptx = kr_sprintf("%s/keys/rotate.x25519", h->home);
	char *ned = kr_sprintf("%s/keys/node.ed25519", h->home), *ntx = kr_sprintf("%s/keys/node.x25519", h->home);
	char *now = kr_sprintf("%s/keys/rotate.now", h->home), *keys = kr_sprintf("%s/keys", h->home);
	char *retired = kr_sprintf("%s/keys/retired/%s.ed25519", h->home, h->fpr);
	char *lockp = kr_sprintf("%s/keys/rotate.lock", h->home);
	kr_key *nk = NULL;
	int rc = 0, lock = -1;

	memset(&st, 0, sizeof(st));
	if (!s_exists(ped) && !s_exists(retired))
		goto done;   /* nothing pending, and h's keys are the current ones */
	/*
	 * One switch at a time: a daemon restarting to switch and a command
	 * run in that moment (no daemon answers) both open the home. The one
	 * that waited finds the switch made and takes the keys it made.
	 */
	if ((lock = open(lockp, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) < 0 || flock(lock, LOCK_EX) < 0) {
		rc = kr_error(KR_EIO, "%s: %s", lockp, strerror(errno));
		goto done;
	}
	if (!s_exists(ped) && s_exists(retired)) {
		if ((rc = s_reload(h)) == 0)
			rc = 1;
		goto done;
	}
	kr_keyrot_pending(h, &st);
	if (!st.have || st.damaged || st.daemon || (!st.applied && !st.now))
		goto done;
	strcpy(old, h->fpr);
	if ((rc = kr_key_load(&nk, ped)) < 0 ||
	    (rc = s_link_repos(h->home, old, st.fpr)) < 0 ||
	    (rc = s_floor_manifest(h->home, old, nk, st.fpr)) < 0 ||
	    (rc = s_retire(h->home, old, "ed25519")) < 0 ||
	    (rc = s_retire(h->home, old, "x25519")) < 0)
		goto done;
	/* the transport key first: while rotate.ed25519 remains, the next open finishes the switch */
	if (s_exists(ptx) && rename(ptx, ntx) < 0) {
		rc = kr_error(KR_EIO, "%s: %s", ntx, strerror(errno));
		goto done;
	}
	if (rename(ped, ned) < 0) {
		rc = kr_error(KR_EIO, "%s: %s", ned, strerror(errno));
		goto done;
	}
	unlink(now);
	s_fsync_dir(keys);
	if ((rc = s_reload(h)) == 0)
		rc = 1;
done:
	if (lock >= 0)
		close(lock);   /* and the lock with it */
	kr_keyrot_state_clear(&st);
	kr_key_destroy(&nk);
	free(retired);
	free(lockp);
	free(ped);
	free(ptx);
	free(ned);
	free(ntx);
	free(now);
	free(keys);
	return rc;
}

int
kr_keyrot_tidy(kr_home *h)
{
	char *dir = kr_sprintf("%s/keys/retired", h->home);
	DIR *d = opendir(dir);
	struct dirent *e;
	int rc = 0;

	if (!d) {
		free(dir);
		return 0;
	}
	while (rc == 0 && (e = readdir(d))) {
		char fpr[KR_FPR_HEX + 1], *mark, **colls = NULL;
		size_t ncolls = 0;
		if (strlen(e->d_name) != KR_FPR_HEX + 8 || strcmp(e->d_name + KR_FPR_HEX, ".ed25519") != 0)
			continue;
		memcpy(fpr, e->d_name, KR_FPR_HEX);
		fpr[KR_FPR_HEX] = '\0';
		if (!kr_is_hex(fpr, KR_FPR_HEX) || strcmp(fpr, h->fpr) == 0)
			continue;
		mark = kr_sprintf("%s/%s.settled", dir, fpr);
		if (s_exists(mark)) {
			free(mark);
			continue;
		}
		/* its collections continue under this node's key: their items are listed there, once */
		if ((rc = kr_store_collections(h->store, fpr, &colls, &ncolls)) == KR_ENOTFOUND) {
			rc = 0;
			kr_error_clear();
		}
		if (rc == 0 && (rc = kr_state_begin(h->state)) == 0) {
			for (size_t i = 0; i < ncolls && rc == 0; i++)
				rc = kr_state_rotated_away(h->state, fpr, colls[i]);
			if (rc == 0)
				rc = kr_state_commit(h->state);
			else
				kr_state_rollback(h->state);
		}
		if (rc == 0)
			rc = kr_file_write(mark, "", 0, 0600);
		kr_strv_free(colls, ncolls);
		free(mark);
	}
	closedir(d);
	free(dir);
	return rc;
}
