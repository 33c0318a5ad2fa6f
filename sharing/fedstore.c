/*
 * sharing/fedstore.c - the membership chain on disk (see fedstore.h)
 */
#include "fedstore.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

static char *
s_version_path(const kr_fedstore *f, uint64_t v)
{
	return kr_sprintf("%s/chain/%06llu.kfm", f->dir, (unsigned long long)v);
}

void
kr_fedstore_id_hex(const kr_fedstore *f, char out[65])
{
	kr_hex(out, f->id, 32);
}

int
kr_fedstore_get(const kr_fedstore *f, uint64_t version, kr_buf *out)
{
	char *p;
	int rc;

	if (!f->have || version < 1 || version > f->cur.version)
		return kr_error(KR_ENOTFOUND, "membership version %llu is not held here",
		    (unsigned long long)version);
	p = s_version_path(f, version);
	rc = kr_file_read(out, p);
	free(p);
	return rc;
}

static int
s_write_marker(kr_fedstore *f)
{
	char *p = kr_sprintf("%s/verified", f->dir);
	char hash[65], id[65];
	uint8_t h[32];
	kr_buf b = KR_BUF_INIT;
	int rc;

	kr_sha256(h, f->cur_bytes.ptr, f->cur_bytes.len);
	kr_hex(hash, h, 32);
	kr_hex(id, f->id, 32);
	kr_buf_addf(&b, "%llu %s %s\n", (unsigned long long)f->cur.version, hash, id);
	rc = kr_file_write(p, b.ptr, b.len, 0644);
	kr_buf_release(&b);
	free(p);
	return rc;
}

/* Reads `verified` and the version it names; 0 with have = 0 when there is none. */
static int
s_load_marker(kr_fedstore *f)
{
	char *p = kr_sprintf("%s/verified", f->dir);
	kr_buf b = KR_BUF_INIT, bytes = KR_BUF_INIT;
	unsigned long long v;
	char hash[65], id[65], got[65];
	uint8_t h[32];
	kr_signed_multi sm;
	int rc;

	rc = kr_file_read(&b, p);
	free(p);
	if (rc == KR_ENOTFOUND) {
		kr_error_clear();
		return 0;
	}
	if (rc < 0)
		return rc;
	if (sscanf(b.ptr, "%llu %64[0-9a-f] %64[0-9a-f]", &v, hash, id) != 3 || v < 1 ||
	    kr_unhex(f->id, 32, id) < 0) {
		kr_buf_release(&b);
		return kr_error(KR_EIO, "%s/verified is damaged (remove the federation directory and "
		    "fetch the chain again with kairan join)", f->dir);
	}
	kr_buf_release(&b);
	p = s_version_path(f, v);
	rc = kr_file_read(&bytes, p);
	free(p);
	if (rc < 0)
		return kr_error_prefix(rc, "membership chain");
	kr_sha256(h, bytes.ptr, bytes.len);
	kr_hex(got, h, 32);
	if (strcmp(got, hash) != 0) {
		kr_buf_release(&bytes);
		return kr_error(KR_EVERIFY, "%s/chain/%06llu.kfm changed after it was verified "
		    "(restore it from a backup or another member)", f->dir, v);
	}
	if ((rc = kr_signed_multi_decode(&sm, bytes.ptr, bytes.len)) == 0) {
		rc = kr_membership_decode(&f->cur, sm.body.ptr, sm.body.len);
		kr_signed_multi_clear(&sm);
	}
	if (rc < 0) {
		kr_buf_release(&bytes);
		return kr_error_prefix(rc, "membership version %llu", v);
	}
	f->cur_bytes = bytes;
	f->have = f->pinned = 1;
	return 0;
}

/* Checks bytes as the version after f's newest (or the genesis). */
static int
s_check(kr_fedstore *f, const void *bytes, size_t len, kr_membership *out, kr_fed_tally *t)
{
	kr_signed_multi sm;
	int rc;

	memset(t, 0, sizeof(*t));
	t->old_board.missing = (kr_buf)KR_BUF_INIT;
	t->new_board.missing = (kr_buf)KR_BUF_INIT;
	if ((rc = kr_signed_multi_decode(&sm, bytes, len)) < 0)
		return rc;
	rc = kr_fed_check_next(out, f->have ? &f->cur : NULL, f->pinned ? f->id : NULL, &sm, t);
	if (rc == 0 && !f->have)
		kr_fed_id(f->id, sm.body.ptr, sm.body.len);
	kr_signed_multi_clear(&sm);
	return rc;
}

static void
s_advance(kr_fedstore *f, kr_membership *next, const void *bytes, size_t len)
{
	kr_membership_clear(&f->cur);
	f->cur = *next;
	kr_buf_clear(&f->cur_bytes);
	kr_buf_add(&f->cur_bytes, bytes, len);
	f->have = f->pinned = 1;
}

/* Files past the marker: a crash after linking a version but before the marker, or a copy. */
static int
s_catch_up(kr_fedstore *f)
{
	int advanced = 0;

	for (int walked = 0; walked < KR_FED_MAX_VERSIONS; walked++) {
		uint64_t v = f->have ? f->cur.version + 1 : 1;
		char *p = s_version_path(f, v);
		kr_buf b = KR_BUF_INIT;
		kr_membership next;
		kr_fed_tally t = { { 0, 0, 0, KR_BUF_INIT }, { 0, 0, 0, KR_BUF_INIT } };
		int rc = kr_file_read(&b, p);

		if (rc == KR_ENOTFOUND) {
			kr_error_clear();
			free(p);
			kr_buf_release(&b);
			break;
		}
		if (rc == 0)
			rc = s_check(f, b.ptr, b.len, &next, &t);
		kr_fed_tally_release(&t);
		if (rc < 0) {
			/* Never trusted: set aside with the reason beside it. */
			char *aside = kr_sprintf("%s.refused-%lld", p, (long long)time(NULL));
			char *why = kr_sprintf("%s.why", aside);
			kr_file_write(why, kr_errmsg(), strlen(kr_errmsg()), 0644);
			rename(p, aside);
			f->set_aside++;
			free(aside);
			free(why);
			free(p);
			kr_buf_release(&b);
			break;
		}
		s_advance(f, &next, b.ptr, b.len);
		advanced = 1;
		free(p);
		kr_buf_release(&b);
	}
	return advanced ? s_write_marker(f) : 0;
}

int
kr_fedstore_open(kr_fedstore *f, const char *home)
{
	char *p;
	kr_buf b = KR_BUF_INIT;
	int rc;

	memset(f, 0, sizeof(*f));
	f->cur_bytes = (kr_buf)KR_BUF_INIT;
	f->dir = kr_sprintf("%s/federation", home);
	if ((rc = s_load_marker(f)) < 0)
		goto fail;
	if (!f->have) {
		p = kr_sprintf("%s/pinned", f->dir);
		rc = kr_file_read(&b, p);
		free(p);
		if (rc == 0) {
			if (b.len < 64 || kr_unhex(f->id, 32, (b.ptr[64] = '\0', b.ptr)) < 0) {
				rc = kr_error(KR_EIO, "%s/pinned is damaged", f->dir);
				goto fail;
			}
			f->pinned = 1;
		} else if (rc != KR_ENOTFOUND) {
			goto fail;
		}
		kr_error_clear();
	}
	if ((rc = s_catch_up(f)) < 0)
		goto fail;
	kr_buf_release(&b);
	return 0;
fail:
	kr_buf_release(&b);
	kr_fedstore_close(f);
	return rc;
}

void
kr_fedstore_close(kr_fedstore *f)
{
	free(f->dir);
	kr_membership_clear(&f->cur);
	kr_buf_release(&f->cur_bytes);
	memset(f, 0, sizeof(*f));
	f->cur_bytes = (kr_buf)KR_BUF_INIT;
}

static int
s_mkdirs(const kr_fedstore *f)
{
	char *p = kr_sprintf("%s/chain", f->dir);
	int rc = kr_mkdir_p(p, 0755);

	free(p);
	return rc;
}

int
kr_fedstore_pin(kr_fedstore *f, const uint8_t id[32])
{
	char hex[65], *p;
	int rc;

	if (f->pinned)
		return memcmp(f->id, id, 32) == 0 ? 0 :
		    kr_error(KR_EEXISTS, "this node already belongs to another federation");
	if ((rc = s_mkdirs(f)) < 0)
		return rc;
	kr_hex(hex, id, 32);
	hex[64] = '\n';
	p = kr_sprintf("%s/pinned", f->dir);
	rc = kr_file_write(p, hex, 65, 0644);
	free(p);
	if (rc == 0) {
		memcpy(f->id, id, 32);
		f->pinned = 1;
	}
	return rc;
}

/* Is this the version we hold under that number? 1 same, 0 different, < 0 error. */
static int
s_same_as_held(kr_fedstore *f, uint64_t v, const kr_signed_multi *sm)
{
	kr_buf held = KR_BUF_INIT;
	kr_signed_multi hs;
	int rc, same;

	if ((rc = kr_fedstore_get(f, v, &held)) < 0)
		return rc;
	if ((rc = kr_signed_multi_decode(&hs, held.ptr, held.len)) < 0) {
		kr_buf_release(&held);
		return rc;
	}
	same = hs.body.len == sm->body.len && memcmp(hs.body.ptr, sm->body.ptr, sm->body.len) == 0;
	kr_signed_multi_clear(&hs);
	kr_buf_release(&held);
	return same;
}

/*
 * Installs are one at a time in a home, across threads and processes: a
 * node's workers can receive the same announcement at once (from the hub
 * and from its publisher), and `kairan federation apply` can run beside
 * the daemon. flock(2) on <dir>/lock; each caller opens its own
 * descriptor, so threads of one process exclude each other too. Returns
 * the descriptor (close releases) or an error.
 */
static int
s_lock(const kr_fedstore *f)
{
	char *p = kr_sprintf("%s/lock", f->dir);
	int fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC, 0644);

	if (fd < 0) {
		int rc = kr_error(KR_EIO, "%s: %s", p, strerror(errno));
		free(p);
		return rc;
	}
	while (flock(fd, LOCK_EX) < 0) {
		if (errno != EINTR) {
			int rc = kr_error(KR_EIO, "%s: flock: %s", p, strerror(errno));
			close(fd);
			free(p);
			return rc;
		}
	}
	free(p);
	return fd;
}

/* Under the lock: what another installer added since f was opened, read into f. */
static int
s_refresh(kr_fedstore *f)
{
	kr_fedstore now;
	char *home = kr_strndup(f->dir, strlen(f->dir) - strlen("/federation"));
	int rc = kr_fedstore_open(&now, home);

	free(home);
	if (rc < 0)
		return rc;
	if (now.have && (!f->have || now.cur.version > f->cur.version)) {
		now.set_aside += f->set_aside;
		kr_fedstore_close(f);
		*f = now;
	} else {
		kr_fedstore_close(&now);
	}
	return 0;
}

static int s_install(kr_fedstore *f, const void *bytes, size_t len, kr_fed_tally *t);

int
kr_fedstore_install(kr_fedstore *f, const void *bytes, size_t len, kr_fed_tally *t)
{
	int fd, rc;

	memset(t, 0, sizeof(*t));
	t->old_board.missing = (kr_buf)KR_BUF_INIT;
	t->new_board.missing = (kr_buf)KR_BUF_INIT;
	if ((rc = s_mkdirs(f)) < 0)
		return rc;
	if ((fd = s_lock(f)) < 0)
		return fd;
	if ((rc = s_refresh(f)) == 0)
		rc = s_install(f, bytes, len, t);
	close(fd);
	return rc;
}

static int
s_install(kr_fedstore *f, const void *bytes, size_t len, kr_fed_tally *t)
{
	kr_signed_multi sm;
	kr_membership peek, next;
	char *p = NULL, *tmp = NULL;
	int rc;

	if ((rc = kr_signed_multi_decode(&sm, bytes, len)) < 0)
		return rc;
	rc = kr_membership_decode(&peek, sm.body.ptr, sm.body.len);
	if (rc == 0 && f->have && peek.version <= f->cur.version) {
		int same = s_same_as_held(f, peek.version, &sm);
		if (same == 1)
			rc = KR_FED_HELD;
		else if (same == 0)
			rc = kr_error(KR_EVERIFY, peek.version == f->cur.version ?
			    "equivocation: two different documents claim membership version %llu" :
			    "version %llu is older than the held version (rollback refused)",
			    (unsigned long long)peek.version);
		else
			rc = same;
	}
	kr_membership_clear(&peek);
	kr_signed_multi_clear(&sm);
	if (rc != 0)
		return rc;
	if ((rc = s_check(f, bytes, len, &next, t)) < 0)
		return rc;
	p = s_version_path(f, next.version);
	tmp = kr_tmp_name(p, "new");
	if ((rc = kr_file_write(tmp, bytes, len, 0644)) < 0)
		goto done;
	/* link, not rename: a version file is never replaced, so two racing applies cannot both win. */
	if (link(tmp, p) < 0) {
		rc = errno == EEXIST ?
		    kr_error(KR_EVERIFY, "equivocation: another document was installed as membership "
		    "version %llu meanwhile", (unsigned long long)next.version) :
		    kr_error(KR_EIO, "%s: %s", p, strerror(errno));
		goto done;
	}
	s_advance(f, &next, bytes, len);
	memset(&next, 0, sizeof(next));
	rc = s_write_marker(f);
done:
	if (tmp)
		unlink(tmp);
	kr_membership_clear(&next);
	free(tmp);
	free(p);
	return rc;
}

int
kr_fedstore_install_chain(kr_fedstore *f, const uint8_t *fedid, const kr_buf *versions, size_t n,
    size_t *installed)
{
	kr_membership prev = { 0 }, next;
	const kr_membership *cur = f->have ? &f->cur : NULL;
	uint8_t id[32];
	int have_id = 0, rc = 0;
	size_t first = n;

	*installed = 0;
	if (f->pinned) {
		memcpy(id, f->id, 32);
		have_id = 1;
		if (fedid && memcmp(fedid, f->id, 32) != 0)
			return kr_error(KR_EEXISTS, "this node already belongs to another federation");
	} else if (fedid) {
		memcpy(id, fedid, 32);
		have_id = 1;
	}
	if (n > KR_FED_MAX_VERSIONS)
		return kr_error(KR_EPROTO, "a chain of %zu versions is longer than %d", n, KR_FED_MAX_VERSIONS);
	/* 1. the whole chain, in memory */
	for (size_t i = 0; i < n && rc == 0; i++) {
		kr_signed_multi sm;
		kr_membership peek;
		kr_fed_tally t = { { 0, 0, 0, KR_BUF_INIT }, { 0, 0, 0, KR_BUF_INIT } };

		if ((rc = kr_signed_multi_decode(&sm, versions[i].ptr, versions[i].len)) < 0) {
			kr_error_prefix(rc, "membership document %zu of %zu received", i + 1, n);
			break;
		}
		if ((rc = kr_membership_decode(&peek, sm.body.ptr, sm.body.len)) < 0) {
			kr_signed_multi_clear(&sm);
			kr_error_prefix(rc, "membership document %zu of %zu received", i + 1, n);
			break;
		}
		if (first == n && f->have && peek.version <= f->cur.version) {
			int same = s_same_as_held(f, peek.version, &sm);
			if (same == 0)
				rc = kr_error(KR_EVERIFY, "equivocation: the peer's membership version %llu differs "
				    "from the one held here", (unsigned long long)peek.version);
			else if (same < 0)
				rc = same;
		} else {
			if (first == n)
				first = i;
			rc = kr_fed_check_next(&next, cur, have_id ? id : NULL, &sm, &t);
			if (rc == 0) {
				if (!have_id) {
					kr_fed_id(id, sm.body.ptr, sm.body.len);
					have_id = 1;
				}
				kr_membership_clear(&prev);
				prev = next;
				cur = &prev;
			} else {
				kr_error_prefix(rc, "membership version %llu", (unsigned long long)peek.version);
			}
		}
		kr_fed_tally_release(&t);
		kr_membership_clear(&peek);
		kr_signed_multi_clear(&sm);
	}
	kr_membership_clear(&prev);
	if (rc < 0)
		return rc;
	if (!have_id)
		return kr_error(KR_ENOTFOUND, "no membership document received");
	/* 2. all of it passed: pin, then install one by one (each a valid prefix) */
	if ((rc = kr_fedstore_pin(f, id)) < 0)
		return rc;
	for (size_t i = first; i < n; i++) {
		kr_fed_tally t;
		rc = kr_fedstore_install(f, versions[i].ptr, versions[i].len, &t);
		kr_fed_tally_release(&t);
		if (rc < 0)
			return rc;
		if (rc == KR_FED_INSTALLED)
			(*installed)++;
	}
	return 0;
}

static char *
s_joined_path(const kr_fedstore *f)
{
	return kr_sprintf("%s/joined", f->dir);
}

static void
s_split_list(const char *s, char ***out, size_t *n)
{
	*out = NULL;
	*n = 0;
	if (strcmp(s, "-") == 0)
		return;
	while (*s) {
		size_t l = strcspn(s, ",");
		if (l) {
			*out = kr_realloc(*out, (*n + 1) * sizeof(char *));
			(*out)[(*n)++] = kr_strndup(s, l);
		}
		s += l + (s[l] == ',');
	}
}

int
kr_fedstore_joins(const kr_fedstore *f, kr_fed_join **out, size_t *n)
{
	char *p = s_joined_path(f), *line, *save = NULL;
	kr_buf b = KR_BUF_INIT;
	int rc;

	*out = NULL;
	*n = 0;
	rc = kr_file_read(&b, p);
	free(p);
	if (rc == KR_ENOTFOUND) {
		kr_error_clear();
		return 0;
	}
	if (rc < 0)
		return rc;
	for (line = strtok_r(b.ptr, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *t1 = strchr(line, '\t'), *t2 = t1 ? strchr(t1 + 1, '\t') : NULL;
		kr_fed_join *j;
		if (!t1 || !t2)
			continue;
		*t1 = *t2 = '\0';
		*out = kr_realloc(*out, (*n + 1) * sizeof(**out));
		j = &(*out)[(*n)++];
		j->endpoint = kr_strdup(line);
		s_split_list(t1 + 1, &j->prefs, &j->nprefs);
		s_split_list(t2 + 1, &j->kinds, &j->nkinds);
	}
	kr_buf_release(&b);
	return 0;
}

static void
s_add_list(kr_buf *b, char *const *v, size_t n)
{
	if (n == 0)
		kr_buf_adds(b, "-");
	for (size_t i = 0; i < n; i++)
		kr_buf_addf(b, "%s%s", i ? "," : "", v[i]);
}

int
kr_fedstore_join_put(const kr_fedstore *f, const kr_fed_join *j)
{
	kr_fed_join *v;
	size_t n;
	kr_buf b = KR_BUF_INIT;
	char *p;
	int rc;

	if ((rc = kr_fedstore_joins(f, &v, &n)) < 0)
		return rc;
	for (size_t i = 0; i < n; i++) {
		if (strcmp(v[i].endpoint, j->endpoint) == 0)
			continue;
		kr_buf_addf(&b, "%s\t", v[i].endpoint);
		s_add_list(&b, v[i].prefs, v[i].nprefs);
		kr_buf_adds(&b, "\t");
		s_add_list(&b, v[i].kinds, v[i].nkinds);
		kr_buf_adds(&b, "\n");
	}
	kr_buf_addf(&b, "%s\t", j->endpoint);
	s_add_list(&b, j->prefs, j->nprefs);
	kr_buf_adds(&b, "\t");
	s_add_list(&b, j->kinds, j->nkinds);
	kr_buf_adds(&b, "\n");
	kr_fed_joins_free(v, n);
	if ((rc = s_mkdirs(f)) == 0) {
		p = s_joined_path(f);
		rc = kr_file_write(p, b.ptr, b.len, 0644);
		free(p);
	}
	kr_buf_release(&b);
	return rc;
}

void
kr_fed_joins_free(kr_fed_join *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].endpoint);
		kr_strv_free(v[i].prefs, v[i].nprefs);
		kr_strv_free(v[i].kinds, v[i].nkinds);
	}
	free(v);
}
