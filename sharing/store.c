/*
 * sharing/store.c - collections as bare git repositories (libgit2)
 *
 * Invariants: refs/heads/main of every repo is a verified head and moves
 * only by compare-and-swap; histories are linear. A commit's objects go to
 * disk as one pack once the commit is complete (s_collect), so a failure
 * writes nothing; a pack received before a failure stays unreferenced and
 * harmless until kr_store_drop_pack. This file alone talks to libgit2,
 * and to zlib for the pack writer. Not thread-safe: one kr_store per thread.
 *
 * The pack writer follows libgit2's packbuilder in shape (enumerate, then
 * write header, entries and a SHA-1 trailer) but never searches for deltas:
 * history here is linear, so the base for an object is simply the previous
 * version of the same path, which the receiver has or receives first.
 *
 * Memory (a long-running node): libgit2's parsed objects at most 16 MB for
 * the whole process, at most 128 pack files open and 64 MB of pack windows
 * mapped (kr_store_open); kr_store_sweep lets a thread's go. Beside those,
 * a pack of a whole history from several packs maps each of them whole
 * while it is written (s_reuse_open: clean file pages, unmapped when done).
 */
#include "store.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <git2.h>
#include <git2/sys/odb_backend.h>
#include <git2/sys/repository.h>
#include <pthread.h>

#include "../proto/codec.h"
#include "gitdl.h"
#include "zip.h"

#define MAIN_REF "refs/heads/main"

static void s_entry_header(kr_buf *b, int type, size_t size);
static void s_pack_header(kr_buf *b, size_t n);
static void s_pack_trailer(kr_buf *b, size_t start);
static void s_delta(kr_buf *d, const uint8_t *src, size_t slen, const uint8_t *tgt, size_t tlen);
static int s_write_pack(git_repository *repo, const kr_buf *pack, int sync, char name[64]);
static int s_idx_read(const char *path, git_oid **ids, size_t *n);
static uint32_t s_be32(const uint8_t *p);
static void s_pack_names(const char *dir, char ***names, size_t *n);
static size_t s_count_loose(const char *repo, size_t stop);
static int s_idx_has(const git_oid *ids, size_t n, const git_oid *id);

/*
 * A cached repository. libgit2 keeps every pack it ever loaded open and
 * mapped for the life of the repository's object database (git_odb_refresh
 * only adds packs), so a long-running process would hold on to each pack
 * that consolidation, here or in another thread or process, replaced.
 * pack_mtime is objects/pack's modification time when the odb was last
 * (re)opened: when the directory changed since, the odb is dropped before
 * the next use and reopened lazily on what is on disk now.
 */
typedef struct s_repo {
	char *path;
	char *packdir;
	git_repository *repo;
	struct timespec pack_mtime;
	double used;
	struct s_repo *next;
} s_repo;

struct kr_store {
	char *home;
	char *root;              /* <home>/repos */
	s_repo *repos;
	int durable;             /* kr_store_durable */
	kr_deflater zip;         /* a commit's pack (s_collect_pack): its ~270 kB are set up once, not per commit */
	char last_pack[64];      /* the pack the last kr_store_commit wrote (kr_store_last_pack) */
};

/*
 * fsync of what path names (a file or a directory). Missing is not an
 * error when missing_ok (an object that was already in a pack).
 */
static int
s_sync_path(const char *path, int missing_ok)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), rc = 0;

	if (fd < 0)
		return missing_ok && errno == ENOENT ? 0 : kr_error(KR_EIO, "%s: %s", path, strerror(errno));
	if (fsync(fd) < 0)
		rc = kr_error(KR_EIO, "%s: fsync: %s", path, strerror(errno));
	close(fd);
	return rc;
}

/* fsync of each of dir's entries listed in names (NULL-terminated), then of dir itself. */
static int
s_sync_in(const char *dir, const char *const *names)
{
	int rc = 0;

	for (size_t i = 0; names[i] && rc == 0; i++) {
		char *p = kr_sprintf("%s/%s", dir, names[i]);
		rc = s_sync_path(p, 0);
		free(p);
	}
	return rc == 0 ? s_sync_path(dir, 0) : rc;
}

/*
 * Reports libgit2's last error; some failed writes leave none, so errno
 * (ENOSPC on a full disk) is the fallback.
 */
static int
s_git_error(int code, const char *what)
{
	const git_error *e = git_error_last();
	int err = errno;

	if (err == ENOSPC || err == EDQUOT)
		return kr_error(KR_EIO, "%s: %s (the disk is full)", what, strerror(err));
	/* An operating-system failure is ours, never the peer's fault. */
	if (e && e->message && e->klass == GIT_ERROR_OS) {
		/* libgit2 names the failure with strerror, and errno may have moved on since (the pack indexer) */
		if (strstr(e->message, strerror(ENOSPC)) || strstr(e->message, strerror(EDQUOT)))
			return kr_error(KR_EIO, "%s: %s (the disk is full)", what, e->message);
		return kr_error(KR_EIO, "%s: %s", what, e->message);
	}
	if (e && e->message)
		return kr_error(code, "%s: %s", what, e->message);
	return kr_error(code, "%s: %s", what, err ? strerror(err) : "libgit2 error");
}

/*
 * A failed object read. Absent (GIT_ENOTFOUND) is KR_ENOTFOUND; anything
 * else (an inflate error, a broken pack) is damage on disk, KR_EIO, which
 * must never pass for "absent" or "empty".
 */
static int
s_read_error(int gitrc, const char *what)
{
	const git_error *e = git_error_last();

	if (gitrc == GIT_ENOTFOUND)
		return kr_error(KR_ENOTFOUND, "%s: %s", what, e && e->message ? e->message : "not found");
	return kr_error(KR_EIO, "%s: the repository is damaged: %s (see: kairan verify --full; "
	    "kairan repair)", what, e && e->message ? e->message : "read error");
}

static void
s_pack_mtime(const char *packdir, struct timespec *out)
{
	struct stat st;

	if (stat(packdir, &st) == 0)
		*out = st.st_mtim;
	else
		memset(out, 0, sizeof(*out));
}

/*
 * Drops the repo's object database (and with it every pack it holds open,
 * deleted ones included), its refdb, config and object cache when
 * objects/pack changed since they were opened. The git_repository itself
 * stays valid; libgit2 reopens the rest on the next use. Callers hold no
 * libgit2 object across kr_store calls, and anything that holds the odb
 * itself (a kr_packin) has its own reference.
 */
static void
s_repo_refresh(s_repo *r)
{
	struct timespec now;

	s_pack_mtime(r->packdir, &now);
	if (now.tv_sec == r->pack_mtime.tv_sec && now.tv_nsec == r->pack_mtime.tv_nsec)
		return;
	if (r->repo)
		git_repository__cleanup(r->repo);
	r->pack_mtime = now;
}

/* The cached repository repo is, or NULL. */
static s_repo *
s_repo_of(kr_store *s, const git_repository *repo)
{
	for (s_repo *r = s->repos; r; r = r->next)
		if (r->repo == repo)
			return r;
	return NULL;
}

/*
 * r's repository just added a pack and made its object database see it
 * (git_odb_refresh); before is objects/pack's modification time, and
 * names the packs there, from before that. When nothing else had changed
 * the directory since the odb was (re)opened and every one of those packs
 * is still there (another store's consolidation deletes them meanwhile),
 * the change is this one: the next use need not drop and reopen the
 * repository (s_repo_refresh). Otherwise it does, and lets the deleted
 * packs go.
 */
static void
s_repo_wrote(s_repo *r, const struct timespec *before, char *const *names, size_t n)
{
	char **now;
	size_t nnow, k = 0;

	if (!r || before->tv_sec != r->pack_mtime.tv_sec || before->tv_nsec != r->pack_mtime.tv_nsec)
		return;
	s_pack_names(r->packdir, &now, &nnow);
	while (k < n && kr_strv_has(now, nnow, names[k]))
		k++;
	if (k == n)
		s_pack_mtime(r->packdir, &r->pack_mtime);
	kr_strv_free(now, nnow);
}

static void
s_repo_free(s_repo *r)
{
	git_repository_free(r->repo);
	free(r->packdir);
	free(r->path);
	free(r);
}

/*
 * libgit2 1.5 as Debian builds it (mbedTLS backend) parses the whole system
 * CA bundle, /etc/ssl/certs/ca-certificates.crt, inside git_libgit2_init:
 * unconditionally, before git_libgit2_opts can be called, so
 * GIT_OPT_SET_SSL_CERT_LOCATIONS comes too late. That was more than half
 * the instructions of a short command (`kairan id`, `kairan publish`).
 * kairan never uses libgit2's transports (replication is its own protocol
 * over ZeroMQ, packs are written here), so no certificate is ever needed:
 * this definition, found before libmbedx509's by the dynamic linker,
 * loads none. It fails closed: should a TLS transport ever be used, no
 * server verifies. The error libgit2 records for it is cleared after
 * git_libgit2_init (s_git_init).
 */
int mbedtls_x509_crt_parse_file(void *chain, const char *path);
int
mbedtls_x509_crt_parse_file(void *chain, const char *path)
{
	(void)chain;
	(void)path;
	return -0x2900; /* MBEDTLS_ERR_X509_FILE_IO_ERROR: nothing loaded */
}

#if __has_include(<mbedtls/havege.h>)
#include <mbedtls/havege.h>
/*
 * The same init seeds a random generator for TLS, from every entropy
 * source mbedTLS 2 has: Debian's also gathers HAVEGE's timing noise, a
 * loop of 1.1 M instructions (4% of a `kairan publish`). With this
 * definition the HAVEGE state starts zeroed and unfilled, as
 * mbedtls_havege_init leaves it before its loop: it then adds nothing, and
 * the generator is seeded from the kernel's source (getrandom) alone; no
 * TLS connection is ever made with it anyway.
 */
void
mbedtls_havege_init(mbedtls_havege_state *hs)
{
	memset(hs, 0, sizeof(*hs));
}
#endif

/*
 * And it starts libssh2 for the ssh transport, which kairan never uses
 * either: libssh2_init loads OpenSSL's built-in engines and their error
 * strings (0.96 M instructions, 5% of a `kairan publish`). This
 * definition, found first as the one above, does nothing; libssh2 would
 * still initialise itself on a session's first use.
 */
int libssh2_init(int flags);
int
libssh2_init(int flags)
{
	(void)flags;
	return 0;
}

#ifndef KR_GIT_SONAME
#define KR_GIT_SONAME "libgit2.so.1.5"
#endif
static pthread_once_t s_git_once = PTHREAD_ONCE_INIT;
static int s_git_loaded;                /* kr_dl_load's answer: 0, or -1 / -2 with s_git_why */
static char s_git_why[200];

static void
s_git_load(void)
{
	static const kr_dlsym syms[] = { KR_GIT_FUNCTIONS(KR_DLSYM) };

	s_git_loaded = kr_dl_load(KR_GIT_SONAME, syms, sizeof(syms) / sizeof(syms[0]), s_git_why, sizeof(s_git_why));
}

/*
 * libgit2 loaded (gitdl.h), then git_libgit2_init without the residue of
 * the refused CA bundle: its count, or KR_ERROR when it cannot be loaded.
 */
static int
s_git_init(void)
{
	int n;

	pthread_once(&s_git_once, s_git_load);
	if (s_git_loaded == -1)
		return kr_error(KR_ERROR, "cannot load libgit2: %s (Debian package libgit2-1.5)", s_git_why);
	if (s_git_loaded == -2)
		return kr_error(KR_ERROR, "%s has no %s (libgit2 1.5 or later is needed)", KR_GIT_SONAME, s_git_why);
	n = git_libgit2_init();
	git_error_clear();
	return n;
}

void
kr_store_strict(int on)
{
	if (s_git_init() < 0)
		return; /* kr_store_open says why */
	git_libgit2_opts(GIT_OPT_ENABLE_STRICT_HASH_VERIFICATION, on);
	git_libgit2_shutdown();
}

int
kr_store_open(kr_store **out, const char *home)
{
	kr_store *s;
	int rc;

	if ((rc = s_git_init()) < 0)
		return rc;
	if (rc == 1) {
		git_libgit2_opts(GIT_OPT_ENABLE_STRICT_HASH_VERIFICATION, 0);
		/* Keep parsed trees of large collections in the object cache. */
		git_libgit2_opts(GIT_OPT_SET_CACHE_OBJECT_LIMIT, GIT_OBJECT_TREE, (size_t)4 << 20);
		/*
		 * Bounds for a long-running node that touches many repos: parsed
		 * objects cached across all of them (libgit2's default is 256 MB),
		 * and pack files open at once (default: unlimited, one descriptor
		 * each; the least recently used is closed and reopened on demand).
		 */
		git_libgit2_opts(GIT_OPT_SET_CACHE_MAX_SIZE, (ssize_t)(16 << 20));
		git_libgit2_opts(GIT_OPT_SET_MWINDOW_FILE_LIMIT, (size_t)128);
		/* and pack windows mapped at once, all repos together (default 8 GB) */
		git_libgit2_opts(GIT_OPT_SET_MWINDOW_MAPPED_LIMIT, (size_t)64 << 20);
		/*
		 * A repo's own config only: the user's and the system's git
		 * config (~/.gitconfig, $XDG_CONFIG_HOME/git/config,
		 * /etc/gitconfig) say nothing kairan reads, and were looked up
		 * and parsed again at each repo open and each time a new pack
		 * made a repo drop its config (every publish, every replicated
		 * update).
		 */
		git_libgit2_opts(GIT_OPT_SET_SEARCH_PATH, GIT_CONFIG_LEVEL_SYSTEM, "");
		git_libgit2_opts(GIT_OPT_SET_SEARCH_PATH, GIT_CONFIG_LEVEL_XDG, "");
		git_libgit2_opts(GIT_OPT_SET_SEARCH_PATH, GIT_CONFIG_LEVEL_GLOBAL, "");
		git_libgit2_opts(GIT_OPT_SET_SEARCH_PATH, GIT_CONFIG_LEVEL_PROGRAMDATA, "");
	}
	s = kr_calloc(1, sizeof(*s));
	s->home = kr_strdup(home);
	s->root = kr_sprintf("%s/repos", home);
	if ((rc = kr_mkdir_p(s->root, 0755)) < 0) {
		kr_store_destroy(&s);
		return rc;
	}
	*out = s;
	return 0;
}

void
kr_store_destroy(kr_store **sp)
{
	kr_store *s;

	if (!sp || !*sp)
		return;
	s = *sp;
	while (s->repos) {
		s_repo *r = s->repos;
		s->repos = r->next;
		s_repo_free(r);
	}
	kr_deflater_end(&s->zip);
	free(s->root);
	free(s->home);
	free(s);
	*sp = NULL;
	git_libgit2_shutdown();
}

void
kr_store_durable(kr_store *s, int on)
{
	s->durable = on;
}

const char *
kr_store_home(const kr_store *s)
{
	return s->home;
}

char *
kr_store_path(const kr_store *s, const char *pub, const char *coll)
{
	return kr_sprintf("%s/%s/%s.git", s->root, pub, coll);
}

/*
 * A new repo made durable: the files and directories that make it a repo
 * (what git_repository_open_bare needs), and its names in repos/<pub>/ and
 * repos/.
 */
static int
s_sync_skeleton(kr_store *s, const char *path, const char *pub)
{
	static const char *const top[] = { "HEAD", "config", "objects", "refs", NULL };
	static const char *const none[] = { NULL };
	char *objects = kr_sprintf("%s/objects", path), *refs = kr_sprintf("%s/refs", path);
	char *pubdir = kr_sprintf("%s/%s", s->root, pub);
	int rc;

	if ((rc = s_sync_in(objects, none)) == 0 && (rc = s_sync_in(refs, (const char *const[]){ "heads", NULL })) == 0 &&
	    (rc = s_sync_in(path, top)) == 0 && (rc = s_sync_in(pubdir, none)) == 0)
		rc = s_sync_in(s->root, none);
	free(objects);
	free(refs);
	free(pubdir);
	return rc;
}

/* Opens (and caches) a collection's repo; creates it when create is set. */
static int
s_repo_get(kr_store *s, const char *pub, const char *coll, int create, git_repository **out)
{
	char *path;
	struct stat st;
	s_repo *r;
	int rc = 0;

	/* pub and coll become a path under the home: nothing else may (log ../x, a peer's name) */
	if (!kr_is_hex(pub, KR_FPR_HEX) || !kr_collection_valid(coll))
		return kr_error(KR_EUSAGE, "'%s/%s' is not a publisher fingerprint and collection name", pub, coll);
	path = kr_store_path(s, pub, coll);

	for (r = s->repos; r; r = r->next)
		if (strcmp(r->path, path) == 0) {
			s_repo_refresh(r);
			r->used = kr_monotonic_ms();
			*out = r->repo;
			free(path);
			return 0;
		}
	r = kr_calloc(1, sizeof(*r));
	r->path = path;
	r->packdir = kr_sprintf("%s/objects/pack", path);
	r->used = kr_monotonic_ms();
	/* Before libgit2 lists the packs: a change after this is seen next time. */
	s_pack_mtime(r->packdir, &r->pack_mtime);
	if (stat(path, &st) == 0) {
		if (git_repository_open_bare(&r->repo, path) < 0)
			rc = s_git_error(KR_EIO, path);
	} else if (!create) {
		rc = kr_error(KR_ENOTFOUND, "no collection %s/%s", pub, coll);
	} else {
		git_repository_init_options opts;
		git_repository_init_options_init(&opts, GIT_REPOSITORY_INIT_OPTIONS_VERSION);
		opts.flags = GIT_REPOSITORY_INIT_BARE | GIT_REPOSITORY_INIT_MKPATH;
		opts.initial_head = "main";
		opts.description = "kairan collection";
		if (git_repository_init_ext(&r->repo, path, &opts) < 0)
			rc = s_git_error(KR_EIO, path);
		else if (s->durable)
			rc = s_sync_skeleton(s, path, pub);
	}
	if (rc < 0) {
		s_repo_free(r);
		return rc;
	}
	r->next = s->repos;
	s->repos = r;
	*out = r->repo;
	return 0;
}

long
kr_store_sweep(kr_store *s, int idle_ms)
{
	double now = kr_monotonic_ms();
	long next = -1;

	for (s_repo **pp = &s->repos; *pp;) {
		s_repo *r = *pp;
		if (now - r->used >= idle_ms) {
			*pp = r->next;
			s_repo_free(r);
		} else {
			long left = (long)(r->used + idle_ms - now) + 1;
			/* parsed commits and trees pile up with every update served */
			git_repository__cleanup(r->repo);
			s_pack_mtime(r->packdir, &r->pack_mtime);
			if (next < 0 || left < next)
				next = left;
			pp = &r->next;
		}
	}
	return next;
}

long long
kr_store_cached_memory(const kr_store *s, long long *limit, int *open_repos)
{
	ssize_t cur = 0, max = 0;
	int n = 0;

	git_libgit2_opts(GIT_OPT_GET_CACHED_MEMORY, &cur, &max);
	for (const s_repo *r = s->repos; r; r = r->next)
		n++;
	*limit = max;
	*open_repos = n;
	return cur;
}

static void
s_oid_out(uint8_t out[KR_OID_LEN], const git_oid *id)
{
	memcpy(out, id->id, KR_OID_LEN);
}

static void
s_oid_in(git_oid *id, const uint8_t in[KR_OID_LEN])
{
	git_oid_fromraw(id, in);
}

static char *
s_oid_str(const git_oid *id, char buf[GIT_OID_HEXSZ + 1])
{
	return git_oid_tostr(buf, GIT_OID_HEXSZ + 1, id);
}

int
kr_store_head(kr_store *s, const char *pub, const char *coll, uint8_t oid[KR_OID_LEN])
{
	git_repository *repo;
	git_oid id;
	int rc;

	if ((rc = s_repo_get(s, pub, coll, 0, &repo)) < 0)
		return rc;
	rc = git_reference_name_to_id(&id, repo, MAIN_REF);
	if (rc == GIT_ENOTFOUND)
		return kr_error(KR_ENOTFOUND, "collection %s/%s has no main branch yet", pub, coll);
	if (rc < 0)
		return s_git_error(KR_EIO, coll);
	s_oid_out(oid, &id);
	return 0;
}

int
kr_store_reachable(kr_store *s, const char *pub, const char *coll, const uint8_t commit[KR_OID_LEN])
{
	git_repository *repo;
	git_oid head, id;

	if (s_repo_get(s, pub, coll, 0, &repo) < 0 || git_reference_name_to_id(&head, repo, MAIN_REF) < 0) {
		git_error_clear();
		return 0;
	}
	s_oid_in(&id, commit);
	if (git_oid_equal(&head, &id))
		return 1;
	return git_graph_descendant_of(repo, &head, &id) == 1;
}

int
kr_store_descends(kr_store *s, const char *pub, const char *coll, const uint8_t a[KR_OID_LEN],
    const uint8_t b[KR_OID_LEN])
{
	git_repository *repo;
	git_oid x, y;

	if (s_repo_get(s, pub, coll, 0, &repo) < 0)
		return 0;
	s_oid_in(&x, a);
	s_oid_in(&y, b);
	if (git_oid_equal(&x, &y))
		return 1;
	return git_graph_descendant_of(repo, &x, &y) == 1;
}

int
kr_store_resolve(kr_store *s, const char *pub, const char *coll, const char *hex, uint8_t out[KR_OID_LEN])
{
	git_repository *repo;
	git_object *obj = NULL;
	git_oid id;
	size_t len = strlen(hex);
	int rc;

	if ((rc = s_repo_get(s, pub, coll, 0, &repo)) < 0)
		return rc;
	if (len < 4 || len > GIT_OID_HEXSZ || git_oid_fromstrn(&id, hex, len) < 0)
		return kr_error(KR_EUSAGE, "'%s' is not a commit id (4 to 40 hex digits)", hex);
	if (git_object_lookup_prefix(&obj, repo, &id, len, GIT_OBJECT_COMMIT) < 0)
		return s_git_error(KR_ENOTFOUND, hex);
	s_oid_out(out, git_object_id(obj));
	git_object_free(obj);
	return 0;
}

static int
s_cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int
s_list_dir(const char *dir, const char *suffix, char ***names, size_t *n)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	size_t cap = 0, slen = strlen(suffix);

	*names = NULL;
	*n = 0;
	if (!d)
		return errno == ENOENT ? 0 : kr_error(KR_EIO, "%s: %s", dir, strerror(errno));
	while ((e = readdir(d))) {
		size_t len = strlen(e->d_name);
		if (e->d_name[0] == '.' || len <= slen || strcmp(e->d_name + len - slen, suffix) != 0)
			continue;
		if (*n == cap) {
			cap = cap ? cap * 2 : 8;
			*names = kr_realloc(*names, cap * sizeof(char *));
		}
		(*names)[(*n)++] = kr_strndup(e->d_name, len - slen);
	}
	closedir(d);
	if (*n)
		qsort(*names, *n, sizeof(char *), s_cmp_str);
	return 0;
}

int
kr_store_collections(kr_store *s, const char *pub, char ***names, size_t *n)
{
	char *dir = kr_sprintf("%s/%s", s->root, pub);
	int rc = s_list_dir(dir, ".git", names, n);

	free(dir);
	return rc;
}

int
kr_store_publishers(kr_store *s, char ***names, size_t *n)
{
	char **all;
	size_t nall;
	int rc = s_list_dir(s->root, "", &all, &nall);

	/* s_list_dir with an empty suffix drops nothing but dot entries. */
	*names = all;
	*n = 0;
	for (size_t i = 0; i < nall; i++) {
		if (kr_is_hex(all[i], KR_FPR_HEX))
			all[(*n)++] = all[i];
		else
			free(all[i]);
	}
	return rc;
}

static int
s_cmp_oid(const void *a, const void *b)
{
	return git_oid_cmp(a, b);
}

/*
 * A commit's new objects, written as one pack. While kr_store_commit runs,
 * the repo uses an object database of its own (s_collect_open): this
 * backend first, then one that reads the repo's own (loose, packed)
 * through (s_through). Every object libgit2 writes (blobs, trees, the
 * commit) is kept in memory here and read back from here, then all of them
 * go to disk as one pack through the indexer (s_collect_pack). A durable
 * publish then syncs three names (pack, index, objects/pack) where loose
 * objects cost a sync per object and per fan-out directory, and a commit
 * that changes nothing, or fails, writes no file at all. s_collect_end
 * puts the repo's own object database back, its packs still open and
 * mapped (dropping it cost every publish a reopen of the repository).
 */
/* Keyed: ids come from peers, and their low bits can be ground offline to share a slot. */
static size_t
s_oid_hash(const git_oid *id)
{
	return (size_t)kr_hash(id->id, sizeof(id->id));
}

typedef struct {
	git_oid id;
	git_object_t type;
	void *data;
	size_t len;
} s_cobj;

typedef struct {
	git_odb_backend parent;        /* first: libgit2 hands back this pointer */
	s_cobj *v;
	size_t n, cap;
	size_t *slot;                  /* open addressing: index into v + 1, 0 free */
	size_t nslot;
	git_odb *real, *tmp;           /* the repo's own object database, and the one used meanwhile */
	git_oid asked;                 /* the object libgit2 last asked about (s_collect_freshen) */
	int asked_open;                /* ... and has not written since */
	int elsewhere;                 /* an object this commit names was found in the repo, not written here */
} s_collect;

static size_t
s_collect_find(const s_collect *c, const git_oid *id)
{
	if (!c->nslot)
		return 0;
	for (size_t i = s_oid_hash(id) & (c->nslot - 1);; i = (i + 1) & (c->nslot - 1))
		if (!c->slot[i] || git_oid_equal(&c->v[c->slot[i] - 1].id, id))
			return i;
}

static const s_cobj *
s_collect_get(const s_collect *c, const git_oid *id)
{
	size_t i = s_collect_find(c, id);

	return c->nslot && c->slot[i] ? &c->v[c->slot[i] - 1] : NULL;
}

static int
s_collect_write(git_odb_backend *b, const git_oid *id, const void *data, size_t len, git_object_t type)
{
	s_collect *c = (s_collect *)b;

	if (c->asked_open && git_oid_equal(&c->asked, id))
		c->asked_open = 0;
	if (s_collect_get(c, id))
		return 0;
	if ((c->n + 1) * 2 > c->nslot) {
		size_t old = c->nslot;
		size_t *was = c->slot;
		c->nslot = old ? old * 2 : 64;
		c->slot = kr_calloc(c->nslot, sizeof(size_t));
		for (size_t k = 0; k < old; k++)
			if (was[k])
				c->slot[s_collect_find(c, &c->v[was[k] - 1].id)] = was[k];
		free(was);
	}
	if (c->n == c->cap) {
		c->cap = c->cap ? c->cap * 2 : 16;
		c->v = kr_realloc(c->v, c->cap * sizeof(*c->v));
	}
	c->v[c->n] = (s_cobj){ *id, type, kr_malloc(len ? len : 1), len };
	memcpy(c->v[c->n].data, data, len);
	c->n++;
	c->slot[s_collect_find(c, id)] = c->n;
	return 0;
}

static int
s_collect_read(void **data, size_t *len, git_object_t *type, git_odb_backend *b, const git_oid *id)
{
	const s_cobj *o = s_collect_get((s_collect *)b, id);

	if (!o)
		return GIT_ENOTFOUND;
	if (!(*data = git_odb_backend_data_alloc(b, o->len ? o->len : 1)))
		return -1;
	memcpy(*data, o->data, o->len);
	*len = o->len;
	*type = o->type;
	return 0;
}

static int
s_collect_read_header(size_t *len, git_object_t *type, git_odb_backend *b, const git_oid *id)
{
	const s_cobj *o = s_collect_get((s_collect *)b, id);

	if (!o)
		return GIT_ENOTFOUND;
	*len = o->len;
	*type = o->type;
	return 0;
}

static int
s_collect_exists(git_odb_backend *b, const git_oid *id)
{
	return s_collect_get((s_collect *)b, id) != NULL;
}

/*
 * libgit2 asks every backend before each write whether the object is
 * there already (git_odb_write): one held here is; of one that is not, the
 * next call tells whether it was written here after all. An object found
 * in the repo's own object database (s_through) is not written again, so the pack lacks it
 * and is then no whole answer for a subscriber one commit behind
 * (c->elsewhere: kr_store_commit keeps no copy).
 */
static int
s_collect_freshen(git_odb_backend *b, const git_oid *id)
{
	s_collect *c = (s_collect *)b;

	if (s_collect_get(c, id))
		return 0;
	if (c->asked_open)
		c->elsewhere = 1;
	c->asked = *id;
	c->asked_open = 1;
	return 1;
}

/* What the collector held, given up with the object database it belongs to (s_collect_end). */
static void
s_collect_free(git_odb_backend *b)
{
	s_collect *c = (s_collect *)b;

	for (size_t i = 0; i < c->n; i++)
		free(c->v[i].data);
	free(c->v);
	free(c->slot);
	free(c);
}

/*
 * The repo's own object database, read through by the one a commit is
 * collected in: what the repo holds, found without a rescan of
 * objects/pack for every new object (each is looked for before it is
 * written).
 */
typedef struct {
	git_odb_backend parent;        /* first: libgit2 hands back this pointer */
	git_odb *real;                 /* a reference of its own */
} s_through;

static int
s_through_copy(void **data, size_t *len, git_object_t *type, git_odb_backend *b, git_odb_object *o)
{
	*len = git_odb_object_size(o);
	*type = git_odb_object_type(o);
	*data = git_odb_backend_data_alloc(b, *len ? *len : 1);
	if (*data)
		memcpy(*data, git_odb_object_data(o), *len);
	git_odb_object_free(o);
	return *data ? 0 : -1;
}

static int
s_through_read(void **data, size_t *len, git_object_t *type, git_odb_backend *b, const git_oid *id)
{
	git_odb_object *o;
	int rc = git_odb_read(&o, ((s_through *)b)->real, id);

	return rc < 0 ? rc : s_through_copy(data, len, type, b, o);
}

static int
s_through_read_prefix(git_oid *out, void **data, size_t *len, git_object_t *type, git_odb_backend *b,
    const git_oid *id, size_t n)
{
	git_odb_object *o;
	int rc = git_odb_read_prefix(&o, ((s_through *)b)->real, id, n);

	if (rc < 0)
		return rc;
	git_oid_cpy(out, git_odb_object_id(o));
	return s_through_copy(data, len, type, b, o);
}

static int
s_through_read_header(size_t *len, git_object_t *type, git_odb_backend *b, const git_oid *id)
{
	return git_odb_read_header(len, type, ((s_through *)b)->real, id);
}

static int
s_through_exists(git_odb_backend *b, const git_oid *id)
{
	return git_odb_exists_ext(((s_through *)b)->real, id, GIT_ODB_LOOKUP_NO_REFRESH);
}

static int
s_through_exists_prefix(git_oid *out, git_odb_backend *b, const git_oid *id, size_t n)
{
	return git_odb_exists_prefix(out, ((s_through *)b)->real, id, n);
}

static int
s_through_freshen(git_odb_backend *b, const git_oid *id)
{
	return s_through_exists(b, id) ? 0 : 1;
}

static void
s_through_free(git_odb_backend *b)
{
	git_odb_free(((s_through *)b)->real);
	free(b);
}

/*
 * Gives repo an object database of its own for one commit: a collector
 * (returned; it belongs to that database), then the repo's own read
 * through. s_collect_end puts the repo's own back.
 */
static int
s_collect_open(git_repository *repo, s_collect **out)
{
	s_collect *c = kr_calloc(1, sizeof(*c));
	s_through *t = kr_calloc(1, sizeof(*t));
	git_odb *tmp = NULL, *real = NULL;

	git_odb_init_backend(&c->parent, GIT_ODB_BACKEND_VERSION);
	c->parent.read = s_collect_read;
	c->parent.read_header = s_collect_read_header;
	c->parent.write = s_collect_write;
	c->parent.exists = s_collect_exists;
	c->parent.freshen = s_collect_freshen;
	c->parent.free = s_collect_free;
	git_odb_init_backend(&t->parent, GIT_ODB_BACKEND_VERSION);
	t->parent.read = s_through_read;
	t->parent.read_prefix = s_through_read_prefix;
	t->parent.read_header = s_through_read_header;
	t->parent.exists = s_through_exists;
	t->parent.exists_prefix = s_through_exists_prefix;
	t->parent.freshen = s_through_freshen;
	t->parent.free = s_through_free;
	if (git_repository_odb(&real, repo) < 0 || git_repository_odb(&t->real, repo) < 0 || git_odb_new(&tmp) < 0) {
		git_odb_free(real);
		git_odb_free(t->real);
		free(t);
		free(c);
		return s_git_error(KR_EIO, "opening the object database");
	}
	if (git_odb_add_backend(tmp, &c->parent, 1000) < 0) {
		s_through_free(&t->parent);
		free(c);
		git_odb_free(tmp);
		git_odb_free(real);
		return s_git_error(KR_EIO, "opening the object database");
	}
	if (git_odb_add_backend(tmp, &t->parent, 1) < 0) {
		s_through_free(&t->parent);
		git_odb_free(tmp); /* frees c */
		git_odb_free(real);
		return s_git_error(KR_EIO, "opening the object database");
	}
	c->real = real;
	c->tmp = tmp;
	git_repository_set_odb(repo, tmp);
	*out = c;
	return 0;
}

/* Puts repo's own object database back (what c holds is given up) and frees c. */
static void
s_collect_end(git_repository *repo, s_collect *c)
{
	git_odb *real = c->real, *tmp = c->tmp;

	git_repository_set_odb(repo, real);
	git_odb_free(tmp); /* frees c */
	git_odb_free(real);
}

/* git's order of tree entries: by name, a directory's as if it ended in '/'. */
static int
s_tree_cmp(const char *a, size_t al, int adir, const char *b, size_t bl, int bdir)
{
	size_t n = al < bl ? al : bl;
	int c = memcmp(a, b, n), ca, cb;

	if (c)
		return c;
	ca = al > n ? (unsigned char)a[n] : adir ? '/' : 0;
	cb = bl > n ? (unsigned char)b[n] : bdir ? '/' : 0;
	return ca - cb;
}

/*
 * The pack sent with the announcement (keep): what c collected, each tree
 * and each changed file as a delta against its version in the parent's
 * tree (base, NULL for a first commit) when that is less than half its
 * size. A subscriber takes it only on top of that parent, which it holds,
 * and resolves those deltas (s_resolve_entry; a thin pack, as a fetch gets). Whole,
 * the root tree of a collection of 600 items was 16 KB in every
 * announcement, and one of more than about 2,400 did not fit KR_INLINE_MAX
 * at all; as a delta it is the few entries that changed. A pack of at most
 * INLINE_WHOLE_MAX goes whole: resolving a delta cost a town more than the
 * bytes saved (announcement -> verified 2.3 -> 2.7 ms with a collection of
 * 50 items, when libgit2 appended the bases).
 */
#define INLINE_WHOLE_MAX 8192

static void
s_collect_thin(s_collect *c, git_repository *repo, const git_tree *tree, const git_tree *base, kr_deflater *zip,
    kr_buf *out)
{
	git_oid *bases = kr_calloc(c->n ? c->n : 1, sizeof(*bases));
	uint8_t *has = kr_calloc(c->n ? c->n : 1, 1);
	struct { git_oid n, b; } *st = NULL;
	size_t nst = 0, cap = 0, start = out->len;
	kr_buf delta = KR_BUF_INIT;
	int rc = 0;

	/* which base each collected tree and file has: the same path in the parent's tree */
	if (base) {
		st = kr_malloc(sizeof(*st) * (cap = 16));
		st[nst].n = *git_tree_id(tree);
		st[nst++].b = *git_tree_id(base);
	}
	while (nst > 0) {
		git_oid nid = st[nst - 1].n, bid = st[--nst].b;
		size_t k = s_collect_find(c, &nid), i;
		git_tree *nt = NULL, *bt = NULL;

		if (!c->slot[k] || has[i = c->slot[k] - 1])
			continue;
		has[i] = 1;
		bases[i] = bid;
		if (c->v[i].type != GIT_OBJECT_TREE)
			continue;
		/* both trees in git's order, walked side by side: an entry whose id did not change is not new */
		if (git_tree_lookup(&nt, repo, &nid) == 0 && git_tree_lookup(&bt, repo, &bid) == 0)
			for (size_t e = 0, f = 0, nb = git_tree_entrycount(bt); e < git_tree_entrycount(nt); e++) {
				const git_tree_entry *ne = git_tree_entry_byindex(nt, e), *be = NULL;
				const char *nn = git_tree_entry_name(ne);
				size_t nl = strlen(nn);
				int ndir = git_tree_entry_type(ne) == GIT_OBJECT_TREE, cmp = 1;
				for (; f < nb; f++) {
					const char *bn = git_tree_entry_name(be = git_tree_entry_byindex(bt, f));
					if ((cmp = s_tree_cmp(bn, strlen(bn), git_tree_entry_type(be) == GIT_OBJECT_TREE,
					    nn, nl, ndir)) >= 0)
						break;
				}
				if (f == nb || cmp != 0 || git_oid_equal(git_tree_entry_id(be), git_tree_entry_id(ne)) ||
				    !s_collect_get(c, git_tree_entry_id(ne)))
					continue;
				if (nst == cap)
					st = kr_realloc(st, sizeof(*st) * (cap *= 2));
				st[nst].n = *git_tree_entry_id(ne);
				st[nst++].b = *git_tree_entry_id(be);
			}
		git_tree_free(nt);
		git_tree_free(bt);
	}
	git_error_clear();
	s_pack_header(out, c->n);
	for (size_t i = 0; i < c->n && rc == 0 && out->len - start <= KR_INLINE_MAX; i++) {
		git_odb_object *b = NULL;
		kr_buf_clear(&delta);
		if (has[i] && c->v[i].len >= 64 && git_odb_read(&b, c->real, &bases[i]) == 0)
			s_delta(&delta, git_odb_object_data(b), git_odb_object_size(b), c->v[i].data, c->v[i].len);
		git_odb_object_free(b);
		if (delta.len && delta.len < c->v[i].len / 2) {
			s_entry_header(out, GIT_OBJECT_REF_DELTA, delta.len);
			kr_buf_add(out, bases[i].id, KR_OID_LEN);
			rc = kr_deflater_add(zip, out, delta.ptr, delta.len, KR_ZIP_FASTEST);
		} else {
			s_entry_header(out, c->v[i].type, c->v[i].len);
			rc = kr_deflater_add(zip, out, c->v[i].data, c->v[i].len, KR_ZIP_FASTEST);
		}
	}
	git_error_clear();
	if (rc == 0)
		s_pack_trailer(out, start);
	if (rc < 0 || out->len - start > KR_INLINE_MAX)
		out->len = start; /* none (it would not fit: the loop stopped early) */
	kr_buf_release(&delta);
	free(st);
	free(has);
	free(bases);
}

/*
 * Writes what c collected as one pack (synced with sync) after putting the
 * repo's own object database back (s_collect_end: c is freed); keep (when
 * not NULL) receives the pack for the announcement (s_collect_thin) when
 * the commit's objects are all in c, none found in the repo already.
 */
static int
s_collect_pack(kr_store *s, s_collect *c, git_repository *repo, int sync, kr_buf *keep, const git_tree *tree,
    const git_tree *base)
{
	int whole = !c->elsewhere && !c->asked_open;
	size_t kept = keep ? keep->len : 0;
	kr_buf pack = KR_BUF_INIT;
	kr_deflater *zip = &s->zip; /* one state for every entry of the pack, kept for the next */
	int rc = 0;

	s_pack_header(&pack, c->n);
	/* whole objects, no deltas: level 1, as libgit2 writes loose objects */
	for (size_t i = 0; i < c->n && rc == 0; i++) {
		s_entry_header(&pack, c->v[i].type, c->v[i].len);
		rc = kr_deflater_add(zip, &pack, c->v[i].data, c->v[i].len, KR_ZIP_FASTEST);
	}
	/* a small pack as it is: a town resolves no delta and appends no base */
	if (rc == 0 && keep && whole && base && pack.len + 20 > INLINE_WHOLE_MAX)
		s_collect_thin(c, repo, tree, base, zip, keep);
	s_collect_end(repo, c);
	if (rc == 0) {
		s_pack_trailer(&pack, 0);
		rc = s_write_pack(repo, &pack, sync, s->last_pack);
	}
	/* whole when that is no larger than the thin pack (or there is none) and fits */
	if (rc == 0 && keep && whole && pack.len <= KR_INLINE_MAX && (keep->len == kept || keep->len - kept >= pack.len)) {
		keep->len = kept;
		kr_buf_add(keep, pack.ptr, pack.len);
	}
	if (rc < 0 && keep)
		keep->len = kept;
	kr_buf_release(&pack);
	return rc;
}

const char *
kr_store_last_pack(const kr_store *s)
{
	return s->last_pack;
}

/*
 * git_tree_create_updated for what a publish does (files upserted or
 * removed), written from the parsed trees: libgit2's fills a treebuilder
 * (a map of every entry) for each tree on the way and sorts it again, 14 M
 * instructions of the 47 M a publish into a collection of 3,000 items took.
 * Each level merges its sorted entries with its sorted changes in one pass.
 * What this does not take (a name libgit2 would check further, a path
 * twice, a removal of what is not there, a file where a directory is or
 * the other way round) returns 1, and the caller asks libgit2, which
 * builds that tree or gives its error (trees this wrote meanwhile stay in
 * the commit's pack, unreferenced).
 */
typedef struct {
	const char *name;
	size_t len;
	int dir;                 /* a directory: its tree is new (or gone) */
	const git_tree_update *up; /* a file's update */
	git_oid id;              /* a directory's new tree */
	int empty;               /* a directory left empty: removed */
} s_tchange;

static int
s_tchange_cmp(const void *x, const void *y)
{
	const s_tchange *a = x, *b = y;

	return s_tree_cmp(a->name, a->len, a->dir, b->name, b->len, b->dir);
}

/* A name any check libgit2 makes of a tree entry's passes, as far as the quick look can tell. */
static int
s_tree_name_plain(const char *p, size_t len)
{
	if (len == 0 || len > 255 || p[0] == '.' || p[len - 1] == '.')
		return 0;
	for (size_t i = 0; i < len; i++)
		if (!((p[i] >= 'a' && p[i] <= 'z') || (p[i] >= 'A' && p[i] <= 'Z') || (p[i] >= '0' && p[i] <= '9') ||
		    p[i] == '.' || p[i] == '-' || p[i] == '_'))
			return 0;
	return 1;
}

/* One entry as git writes it: the mode in octal (no leading zero), a space, the name, NUL, the raw id. */
static void
s_tree_add(kr_buf *b, unsigned mode, const char *name, size_t len, const git_oid *id)
{
	char m[16];
	size_t i = sizeof(m);

	m[--i] = ' ';
	do
		m[--i] = (char)('0' + (mode & 7));
	while ((mode >>= 3) && i > 0);
	kr_buf_grow(b, sizeof(m) - i + len + 1 + GIT_OID_RAWSZ);
	memcpy(b->ptr + b->len, m + i, sizeof(m) - i);
	b->len += sizeof(m) - i;
	memcpy(b->ptr + b->len, name, len);
	b->len += len;
	b->ptr[b->len++] = '\0';
	memcpy(b->ptr + b->len, id->id, GIT_OID_RAWSZ);
	b->len += GIT_OID_RAWSZ;
	b->ptr[b->len] = '\0';
}

/*
 * The tree t (NULL: none yet) with ups[0..n) applied, each path from byte
 * off on below t; 0 (out, or *empty when nothing is left of a directory
 * below the root), 1 for libgit2 to do it, or an error.
 */
static int
s_tree_level(git_repository *repo, git_odb *odb, const git_tree *t, const git_tree_update *const *ups, size_t n,
    size_t off, int root, git_oid *out, int *empty)
{
	s_tchange *ch = kr_calloc(n ? n : 1, sizeof(*ch));
	size_t nch = 0, ne = t ? git_tree_entrycount(t) : 0, e = 0, c = 0, kept = 0;
	kr_buf b = KR_BUF_INIT;
	int rc = 0;

	for (size_t i = 0; i < n && rc == 0;) {
		const char *p = ups[i]->path + off, *slash = strchr(p, '/');
		s_tchange *x = &ch[nch++];
		x->name = p;
		x->len = slash ? (size_t)(slash - p) : strlen(p);
		x->dir = slash != NULL;
		if (!s_tree_name_plain(x->name, x->len)) {
			rc = 1;
			break;
		}
		if (!x->dir) {
			x->up = ups[i++];
			/* the same path twice, or a file where the next update wants a directory */
			if (i < n && strncmp(ups[i]->path + off, x->name, x->len) == 0 &&
			    (ups[i]->path[off + x->len] == '\0' || ups[i]->path[off + x->len] == '/'))
				rc = 1;
			continue;
		}
		{
			size_t j = i;
			while (j < n && strncmp(ups[j]->path + off, x->name, x->len + 1) == 0)
				j++;
			/* a file and a directory of one name: j stops at neither (strcmp order puts "a" first) */
			char *nm = kr_strndup(x->name, x->len);
			const git_tree_entry *te = t ? git_tree_entry_byname(t, nm) : NULL;
			git_tree *sub = NULL;
			free(nm);
			if (te && git_tree_entry_type(te) != GIT_OBJECT_TREE)
				rc = 1;
			else if (te && git_tree_lookup(&sub, repo, git_tree_entry_id(te)) < 0)
				rc = s_git_error(KR_EIO, "reading a tree");
			else
				rc = s_tree_level(repo, odb, sub, ups + i, j - i, off + x->len + 1, 0, &x->id, &x->empty);
			git_tree_free(sub);
			i = j;
		}
	}
	if (rc == 0)
		qsort(ch, nch, sizeof(*ch), s_tchange_cmp);
	for (size_t k = 0; rc == 0 && k < nch; k++) {
		/* a file where a directory is (or the other way round): libgit2 decides */
		char *nm = kr_strndup(ch[k].name, ch[k].len);
		const git_tree_entry *te = t ? git_tree_entry_byname(t, nm) : NULL;
		free(nm);
		if (te && (git_tree_entry_type(te) == GIT_OBJECT_TREE) != ch[k].dir)
			rc = 1;
		else if (!te && !ch[k].dir && ch[k].up->action == GIT_TREE_UPDATE_REMOVE)
			rc = 1; /* not there: libgit2's error */
		else if (k && s_tchange_cmp(&ch[k - 1], &ch[k]) == 0)
			rc = 1;
		else if (ch[k].dir) {
			/* a file of the same name: not next to it in git's order ("a", "a-b", "a/") */
			s_tchange file = ch[k];
			file.dir = 0;
			if (bsearch(&file, ch, nch, sizeof(*ch), s_tchange_cmp))
				rc = 1;
		}
	}
	while (rc == 0 && (e < ne || c < nch)) {
		const git_tree_entry *te = e < ne ? git_tree_entry_byindex(t, e) : NULL;
		int cmp;
		if (!te)
			cmp = 1;
		else if (c == nch)
			cmp = -1;
		else {
			const char *en = git_tree_entry_name(te);
			cmp = s_tree_cmp(en, strlen(en), git_tree_entry_type(te) == GIT_OBJECT_TREE,
			    ch[c].name, ch[c].len, ch[c].dir);
		}
		if (cmp < 0) {
			const char *en = git_tree_entry_name(te);
			s_tree_add(&b, git_tree_entry_filemode_raw(te), en, strlen(en), git_tree_entry_id(te));
			kept++;
			e++;
			continue;
		}
		if (cmp == 0)
			e++; /* replaced, or removed */
		if (ch[c].dir) {
			if (!ch[c].empty) {
				s_tree_add(&b, GIT_FILEMODE_TREE, ch[c].name, ch[c].len, &ch[c].id);
				kept++;
			}
		} else if (ch[c].up->action == GIT_TREE_UPDATE_UPSERT) {
			s_tree_add(&b, ch[c].up->filemode, ch[c].name, ch[c].len, &ch[c].up->id);
			kept++;
		}
		c++;
	}
	if (rc == 0) {
		*empty = !root && kept == 0;
		if (!*empty && git_odb_write(out, odb, b.ptr ? b.ptr : "", b.len, GIT_OBJECT_TREE) < 0)
			rc = s_git_error(KR_EIO, "writing a tree");
	}
	kr_buf_release(&b);
	free(ch);
	return rc;
}

static int
s_tree_paths_cmp(const void *x, const void *y)
{
	return strcmp((*(const git_tree_update *const *)x)->path, (*(const git_tree_update *const *)y)->path);
}

static int
s_tree_update(git_oid *out, git_repository *repo, const git_tree *base, const git_tree_update *ups, size_t n)
{
	const git_tree_update **v = kr_calloc(n ? n : 1, sizeof(*v));
	git_odb *odb = NULL;
	int rc, empty = 0;

	for (size_t i = 0; i < n; i++)
		v[i] = &ups[i];
	qsort(v, n, sizeof(*v), s_tree_paths_cmp);
	if (git_repository_odb(&odb, repo) < 0)
		rc = s_git_error(KR_EIO, "building tree");
	else
		rc = s_tree_level(repo, odb, base, v, n, 0, 1, out, &empty);
	git_odb_free(odb);
	free(v);
	return rc;
}

int
kr_store_commit(kr_store *s, const char *pub, const char *coll,
    const kr_store_file *files, size_t nfiles, const char *message,
    const char *name, const char *email, const kr_key *key,
    uint8_t out[KR_OID_LEN], int *changed, kr_buf *pack)
{
	git_repository *repo = NULL;
	git_commit *parent = NULL;
	git_tree *base = NULL, *tree = NULL;
	git_tree_update *ups = kr_calloc(nfiles, sizeof(*ups));
	git_signature *sig = NULL;
	git_buf cbuf = GIT_BUF_INIT;
	kr_buf armour = KR_BUF_INIT;
	git_oid head, treeid, commit;
	s_collect *col = NULL;
	s_repo *sr;
	struct timespec before = { 0 };
	char **had = NULL;              /* the packs there before this one (s_repo_wrote) */
	size_t nhad = 0, nups = 0;
	int rc, have_head;

	*changed = 0;
	s->last_pack[0] = '\0';
	if ((rc = s_repo_get(s, pub, coll, 1, &repo)) < 0)
		goto done;
	rc = git_reference_name_to_id(&head, repo, MAIN_REF);
	have_head = rc == 0;
	if (rc < 0 && rc != GIT_ENOTFOUND) {
		rc = s_git_error(KR_EIO, coll);
		goto done;
	}
	if (have_head) {
		if (git_commit_lookup(&parent, repo, &head) < 0 || git_commit_tree(&base, parent) < 0) {
			rc = s_git_error(KR_EIO, "reading head commit");
			goto done;
		}
	}
	/* every object from here on goes into one pack (s_collect_pack), none loose */
	if ((rc = s_collect_open(repo, &col)) < 0)
		goto done;
	for (size_t i = 0; i < nfiles; i++) {
		git_tree_entry *e = NULL;
		int exists = base && git_tree_entry_bypath(&e, base, files[i].path) == 0, same;
		git_oid blob;

		/*
		 * A file as the head holds it already (a publish of a whole
		 * directory hands every file over) is left as it is, its blob not
		 * written again: then the commit's pack holds every object the
		 * commit made (kr_store_commit's pack for the announcement).
		 */
		same = exists && files[i].data && git_tree_entry_filemode(e) == GIT_FILEMODE_BLOB &&
		    git_odb_hash(&blob, files[i].data, files[i].len, GIT_OBJECT_BLOB) == 0 &&
		    git_oid_equal(&blob, git_tree_entry_id(e));
		git_tree_entry_free(e);
		git_error_clear();
		errno = 0;
		if (same)
			continue;
		if (!files[i].data) {
			if (!exists)
				continue;
			ups[nups].action = GIT_TREE_UPDATE_REMOVE;
		} else {
			if (git_blob_create_from_buffer(&blob, repo, files[i].data, files[i].len) < 0) {
				rc = s_git_error(KR_EIO, files[i].path);
				goto done;
			}
			ups[nups].action = GIT_TREE_UPDATE_UPSERT;
			ups[nups].id = blob;
			ups[nups].filemode = GIT_FILEMODE_BLOB;
		}
		ups[nups++].path = files[i].path;
	}
	if ((rc = s_tree_update(&treeid, repo, base, ups, nups)) < 0)
		goto done;
	if (rc == 1 && git_tree_create_updated(&treeid, repo, base, nups, ups) < 0) {
		rc = s_git_error(KR_EIO, "building tree");
		goto done;
	}
	if (base && git_oid_equal(&treeid, git_tree_id(base))) {
		rc = 0;
		goto done;
	}
	if (git_tree_lookup(&tree, repo, &treeid) < 0 ||
	    git_signature_new(&sig, name, email, (git_time_t)kr_now(), 0) < 0) {
		rc = s_git_error(KR_EIO, "preparing commit");
		goto done;
	}
	{
		const git_commit *parents[1] = { parent };
		if (git_commit_create_buffer(&cbuf, repo, sig, sig, NULL, message, tree,
		    parent ? 1 : 0, parents) < 0) {
			rc = s_git_error(KR_EIO, "building commit");
			goto done;
		}
	}
	if ((rc = kr_sshsig_sign(&armour, key, "git", cbuf.ptr, cbuf.size)) < 0)
		goto done;
	if (git_commit_create_with_signature(&commit, repo, cbuf.ptr, armour.ptr, "gpgsig") < 0) {
		rc = s_git_error(KR_EIO, "writing signed commit");
		goto done;
	}
	/* on disk (durable: synced) before any ref can name it (kr_store_cas) */
	if ((sr = s_repo_of(s, repo))) {
		s_pack_mtime(sr->packdir, &before);
		s_pack_names(sr->packdir, &had, &nhad);
	}
	rc = s_collect_pack(s, col, repo, s->durable, pack, tree, base);
	col = NULL;
	if (rc < 0)
		goto done;
	s_repo_wrote(sr, &before, had, nhad);
	s_oid_out(out, &commit);
	*changed = 1;
	rc = 0;
done:
	if (col)
		s_collect_end(repo, col); /* what was not written is given up */
	if (rc < 0 && repo)
		git_repository__cleanup(repo); /* nor kept parsed (the trees of a commit not made) */
	kr_strv_free(had, nhad);
	git_buf_dispose(&cbuf);
	kr_buf_release(&armour);
	git_signature_free(sig);
	git_tree_free(tree);
	git_tree_free(base);
	git_commit_free(parent);
	free(ups);
	return rc;
}

int
kr_store_cas(kr_store *s, const char *pub, const char *coll,
    const uint8_t *old, const uint8_t newoid[KR_OID_LEN])
{
	git_repository *repo;
	git_reference *ref = NULL;
	git_oid id, cur;
	int rc;

	if ((rc = s_repo_get(s, pub, coll, 1, &repo)) < 0)
		return rc;
	s_oid_in(&id, newoid);
	if (old) {
		s_oid_in(&cur, old);
		rc = git_reference_create_matching(&ref, repo, MAIN_REF, &id, 1, &cur, "kairan: fast-forward");
	} else {
		rc = git_reference_create(&ref, repo, MAIN_REF, &id, 0, "kairan: first head");
	}
	git_reference_free(ref);
	if (rc == GIT_EMODIFIED || rc == GIT_EEXISTS)
		return kr_error(KR_ECONFLICT, "collection %s/%s: main moved underneath us", pub, coll);
	if (rc < 0)
		return s_git_error(KR_EIO, "updating refs/heads/main");
	if (s->durable) {
		/* the ref file (written aside, renamed into place) and the directory naming it */
		char *heads = kr_sprintf("%srefs/heads", git_repository_path(repo));
		rc = s_sync_in(heads, (const char *const[]){ "main", NULL });
		if (rc < 0)
			kr_error_prefix(rc, "collection %s/%s: refs/heads/main moved but is not on disk", pub, coll);
		free(heads);
	}
	return rc;
}

static int
s_commit_tree(git_repository *repo, const uint8_t commit[KR_OID_LEN], git_tree **out)
{
	git_commit *c = NULL;
	git_oid id;
	char hex[GIT_OID_HEXSZ + 1];
	int rc = 0;

	s_oid_in(&id, commit);
	if ((rc = git_commit_lookup(&c, repo, &id)) < 0 || (rc = git_commit_tree(out, c)) < 0)
		rc = s_read_error(rc, s_oid_str(&id, hex));
	git_commit_free(c);
	return rc;
}

int
kr_store_read(kr_store *s, const char *pub, const char *coll,
    const uint8_t commit[KR_OID_LEN], const char *path, kr_buf *out)
{
	git_repository *repo;
	git_tree *tree = NULL;
	git_tree_entry *e = NULL;
	git_blob *blob = NULL;
	int rc;

	if ((rc = s_repo_get(s, pub, coll, 0, &repo)) < 0 || (rc = s_commit_tree(repo, commit, &tree)) < 0)
		return rc;
	if ((rc = git_tree_entry_bypath(&e, tree, path)) < 0) {
		rc = rc == GIT_ENOTFOUND ? kr_error(KR_ENOTFOUND, "%s: not in this version of %s", path, coll)
		                         : s_read_error(rc, path);
	} else if (git_tree_entry_type(e) != GIT_OBJECT_BLOB) {
		rc = kr_error(KR_ENOTFOUND, "%s: not a file in this version of %s", path, coll);
	} else if ((rc = git_blob_lookup(&blob, repo, git_tree_entry_id(e))) < 0) {
		/* a tree names it: absent or not, the repository is damaged */
		char hex[GIT_OID_HEXSZ + 1];
		char *what = kr_sprintf("%s/%s: object %s (%s)", pub, coll, s_oid_str(git_tree_entry_id(e), hex), path);
		rc = s_read_error(rc == GIT_ENOTFOUND ? GIT_ERROR : rc, what);
		free(what);
	} else {
		kr_buf_add(out, git_blob_rawcontent(blob), (size_t)git_blob_rawsize(blob));
	}
	git_blob_free(blob);
	git_tree_entry_free(e);
	git_tree_free(tree);
	return rc;
}

int
kr_store_path_history(kr_store *s, const char *pub, const char *coll, const char *path,
    kr_store_path_cb cb, void *arg)
{
	git_repository *repo;
	git_oid cur;
	int rc;

	if ((rc = s_repo_get(s, pub, coll, 0, &repo)) < 0)
		return rc;
	if (git_reference_name_to_id(&cur, repo, MAIN_REF) < 0) {
		git_error_clear();
		return 0;
	}
	/* Walk back; report a commit when the blob differs from its parent's. */
	for (;;) {
		git_commit *c = NULL, *p = NULL;
		git_tree *t = NULL, *pt = NULL;
		git_tree_entry *e = NULL, *pe = NULL;
		int here, there;

		if ((rc = git_commit_lookup(&c, repo, &cur)) < 0 || (rc = git_commit_tree(&t, c)) < 0) {
			git_commit_free(c);
			return s_read_error(rc == GIT_ENOTFOUND ? GIT_ERROR : rc, "reading history");
		}
		/* an entry that is absent is a fact; one that cannot be read is damage */
		rc = git_tree_entry_bypath(&e, t, path);
		here = rc == 0;
		there = 0;
		if ((rc == 0 || rc == GIT_ENOTFOUND) && git_commit_parentcount(c) > 0) {
			if ((rc = git_commit_parent(&p, c, 0)) < 0 || (rc = git_commit_tree(&pt, p)) < 0)
				rc = rc == GIT_ENOTFOUND ? GIT_ERROR : rc; /* a parent named but unreadable */
			else
				there = (rc = git_tree_entry_bypath(&pe, pt, path)) == 0;
		}
		if (rc < 0 && rc != GIT_ENOTFOUND) {
			rc = s_read_error(rc, "reading history");
			git_tree_entry_free(e);
			git_tree_entry_free(pe);
			git_tree_free(t);
			git_tree_free(pt);
			git_commit_free(p);
			git_commit_free(c);
			return rc;
		}
		rc = 0;
		git_error_clear();
		if (here != there || (here && !git_oid_equal(git_tree_entry_id(e), git_tree_entry_id(pe)))) {
			uint8_t cid[KR_OID_LEN];
			s_oid_out(cid, &cur);
			rc = cb(cid, (int64_t)git_commit_time(c), here ? git_tree_entry_id(e)->id : NULL, arg);
		}
		git_tree_entry_free(e);
		git_tree_entry_free(pe);
		git_tree_free(t);
		git_tree_free(pt);
		if (rc != 0 || !p) {
			git_commit_free(p);
			git_commit_free(c);
			return rc < 0 ? rc : 0;
		}
		cur = *git_commit_id(p);
		git_commit_free(p);
		git_commit_free(c);
	}
}

int
kr_store_read_blob(kr_store *s, const char *pub, const char *coll,
    const uint8_t blob[KR_OID_LEN], kr_buf *out)
{
	git_repository *repo;
	git_blob *b;
	git_oid id;
	int rc;

	if ((rc = s_repo_get(s, pub, coll, 0, &repo)) < 0)
		return rc;
	s_oid_in(&id, blob);
	if ((rc = git_blob_lookup(&b, repo, &id)) < 0) {
		char hex[GIT_OID_HEXSZ + 1];
		char *what = kr_sprintf("%s/%s: object %s", pub, coll, s_oid_str(&id, hex));
		rc = s_read_error(rc, what);
		free(what);
		return rc;
	}
	kr_buf_add(out, git_blob_rawcontent(b), (size_t)git_blob_rawsize(b));
	git_blob_free(b);
	return 0;
}

/* ---- tree walks ------------------------------------------------------ */

/*
 * Every walk over trees is iterative, over an explicit stack of at most
 * MAX_DEPTH + 1 levels: a tree from a peer nested tens of thousands of
 * levels deep is refused at level MAX_DEPTH + 1 instead of overflowing the
 * C stack (git's core.maxTreeDepth answers the same attack). Items live at
 * most three directories deep (datasets/<slug>/data/x.jsonl, DESIGN §3).
 *
 * A diff visits paths, not objects: a few kilobytes of trees whose entries
 * all name one subtree give millions of paths, so a diff visits at most
 * MAX_DIFF_ENTRIES differing entries. The pack enumeration visits each
 * tree object once (a set), so its cost is linear in the objects.
 */
#define MAX_DEPTH 3
#define MAX_DIFF_ENTRIES 100000

static int
s_too_deep(const char *path)
{
	return kr_error(KR_EVERIFY, "tree %s is nested more than %d directories deep (items live at most %d "
	    "deep, as in datasets/<slug>/data/x.jsonl; refused like git's core.maxTreeDepth)",
	    path, MAX_DEPTH, MAX_DEPTH);
}

typedef struct {
	git_tree *old, *newt;   /* either may be NULL; owned unless at the root */
	size_t i, j;            /* next entry of newt, then of old (removals) */
	size_t plen;            /* prefix length at this tree: "datasets/" */
} s_diff_frame;

/* Pushes the trees with ids o, n (either NULL) as the next level of the diff. */
static int
s_diff_push(git_repository *repo, s_diff_frame *st, int *depth, const git_oid *o, const git_oid *n,
    kr_buf *prefix)
{
	s_diff_frame *fr;

	kr_buf_addch(prefix, '/');
	if (*depth > MAX_DEPTH)
		return s_too_deep(prefix->ptr);
	fr = &st[(*depth)++];
	memset(fr, 0, sizeof(*fr));
	fr->plen = prefix->len;
	if ((n && git_tree_lookup(&fr->newt, repo, n) < 0) || (o && git_tree_lookup(&fr->old, repo, o) < 0)) {
		prefix->ptr[--prefix->len] = '\0';
		return s_git_error(KR_ENOTFOUND, prefix->ptr);
	}
	return 0;
}

/*
 * Calls cb for each blob path that differs between old and newt (either
 * may be NULL), depth first in entry order: changed and new paths of a
 * tree, then the ones it removed.
 */
static int
s_diff_trees(git_repository *repo, const git_tree *old, const git_tree *newt,
    kr_store_change_cb cb, void *arg)
{
	s_diff_frame st[MAX_DEPTH + 1];
	kr_buf prefix = KR_BUF_INIT;
	size_t visited = 0;
	int depth = 1, rc = 0;

	kr_buf_grow(&prefix, 256);
	memset(st, 0, sizeof(st));
	st[0].old = (git_tree *)old;
	st[0].newt = (git_tree *)newt;
	while (depth > 0 && rc == 0) {
		s_diff_frame *fr = &st[depth - 1];
		size_t nn = fr->newt ? git_tree_entrycount(fr->newt) : 0;
		size_t no = fr->old ? git_tree_entrycount(fr->old) : 0;
		const git_tree_entry *e = NULL, *o = NULL;

		if (fr->i < nn) {
			e = git_tree_entry_byindex(fr->newt, fr->i++);
			o = fr->old ? git_tree_entry_byname(fr->old, git_tree_entry_name(e)) : NULL;
			if (o && git_oid_equal(git_tree_entry_id(o), git_tree_entry_id(e)) &&
			    git_tree_entry_type(o) == git_tree_entry_type(e))
				continue;
		} else if (fr->j < no) {
			o = git_tree_entry_byindex(fr->old, fr->j++);
			if (fr->newt && git_tree_entry_byname(fr->newt, git_tree_entry_name(o)))
				continue;
		} else {
			if (depth > 1) {
				git_tree_free(fr->old);
				git_tree_free(fr->newt);
			}
			depth--;
			continue;
		}
		prefix.len = fr->plen;
		kr_buf_adds(&prefix, git_tree_entry_name(e ? e : o));
		if (++visited > MAX_DIFF_ENTRIES) {
			rc = kr_error(KR_EVERIFY, "more than %d files and directories changed in one update "
			    "(at %s): refused as a hostile or broken tree", MAX_DIFF_ENTRIES, prefix.ptr);
			break;
		}
		if (e && git_tree_entry_type(e) != GIT_OBJECT_TREE && git_tree_entry_type(e) != GIT_OBJECT_BLOB) {
			rc = kr_error(KR_EVERIFY, "%s: submodules are not content", prefix.ptr);
			break;
		}
		if (o && e && git_tree_entry_type(o) != git_tree_entry_type(e)) {
			/* a file became a directory or the reverse: at most one side is a tree */
			if (git_tree_entry_type(o) != GIT_OBJECT_TREE)
				rc = cb(prefix.ptr, NULL, arg);
			if (rc == 0 && git_tree_entry_type(e) != GIT_OBJECT_TREE)
				rc = cb(prefix.ptr, git_tree_entry_id(e)->id, arg);
			if (rc == 0 && git_tree_entry_type(o) == GIT_OBJECT_TREE)
				rc = s_diff_push(repo, st, &depth, git_tree_entry_id(o), NULL, &prefix);
			else if (rc == 0 && git_tree_entry_type(e) == GIT_OBJECT_TREE)
				rc = s_diff_push(repo, st, &depth, NULL, git_tree_entry_id(e), &prefix);
		} else if (e && git_tree_entry_type(e) == GIT_OBJECT_TREE) {
			rc = s_diff_push(repo, st, &depth, o ? git_tree_entry_id(o) : NULL, git_tree_entry_id(e), &prefix);
		} else if (e) {
			rc = cb(prefix.ptr, git_tree_entry_id(e)->id, arg);
		} else if (git_tree_entry_type(o) == GIT_OBJECT_TREE) {
			rc = s_diff_push(repo, st, &depth, git_tree_entry_id(o), NULL, &prefix);
		} else {
			rc = cb(prefix.ptr, NULL, arg);
		}
	}
	/* on an error: the levels still open */
	for (int d = depth - 1; d >= 1; d--) {
		git_tree_free(st[d].old);
		git_tree_free(st[d].newt);
	}
	kr_buf_release(&prefix);
	return rc;
}

int
kr_store_diff(kr_store *s, const char *pub, const char *coll,
    const uint8_t *old, const uint8_t newoid[KR_OID_LEN], kr_store_change_cb cb, void *arg)
{
	git_repository *repo;
	git_tree *ot = NULL, *nt = NULL;
	int rc;

	if ((rc = s_repo_get(s, pub, coll, 0, &repo)) < 0)
		return rc;
	if ((rc = s_commit_tree(repo, newoid, &nt)) == 0 && (!old || (rc = s_commit_tree(repo, old, &ot)) == 0))
		rc = s_diff_trees(repo, ot, nt, cb, arg);
	git_tree_free(ot);
	git_tree_free(nt);
	return rc;
}
/* Checks one commit's SSHSIG; signer must equal key (when key is given). */
static int
s_check_signature(git_repository *repo, const git_oid *id, const uint8_t key[KR_FPR_LEN])
{
	git_buf sig = GIT_BUF_INIT, data = GIT_BUF_INIT;
	uint8_t signer[KR_FPR_LEN];
	char hex[GIT_OID_HEXSZ + 1];
	int rc;

	s_oid_str(id, hex);
	rc = git_commit_extract_signature(&sig, &data, repo, (git_oid *)id, NULL);
	if (rc == GIT_ENOTFOUND) {
		rc = kr_error(KR_EVERIFY, "commit %s is not signed", hex);
	} else if (rc < 0) {
		rc = s_git_error(KR_ENOTFOUND, hex);
	} else if ((rc = kr_sshsig_verify(sig.ptr, sig.size, "git", data.ptr, data.size, signer)) < 0) {
		rc = kr_error_prefix(rc, "commit %s", hex);
	} else if (memcmp(signer, key, KR_FPR_LEN) != 0) {
		char got[KR_FPR_HEX + 1];
		kr_hex(got, signer, KR_FPR_LEN);
		rc = kr_error(KR_EVERIFY, "commit %s is signed by another key (%.16s…), not the publisher's", hex, got);
	}
	git_buf_dispose(&sig);
	git_buf_dispose(&data);
	return rc;
}

int
kr_store_verify_range(kr_store *s, const char *pub, const char *coll,
    const uint8_t *old, const uint8_t newoid[KR_OID_LEN], const uint8_t key[KR_FPR_LEN],
    size_t *ncommits)
{
	git_repository *repo;
	git_oid cur, stop;
	char hex[GIT_OID_HEXSZ + 1];
	size_t n = 0;
	int rc;

	if ((rc = s_repo_get(s, pub, coll, 0, &repo)) < 0)
		return rc;
	s_oid_in(&cur, newoid);
	if (old)
		s_oid_in(&stop, old);
	for (;;) {
		git_commit *c;
		unsigned parents;

		if (old && git_oid_equal(&cur, &stop))
			break;
		if (git_commit_lookup(&c, repo, &cur) < 0) {
			rc = s_git_error(KR_ENOTFOUND, s_oid_str(&cur, hex));
			break;
		}
		parents = git_commit_parentcount(c);
		if ((rc = s_check_signature(repo, &cur, key)) < 0) {
			git_commit_free(c);
			break;
		}
		n++;
		if (parents > 1) {
			rc = kr_error(KR_EVERIFY, "commit %s is a merge; history must be linear", s_oid_str(&cur, hex));
			git_commit_free(c);
			break;
		}
		if (parents == 0) {
			git_commit_free(c);
			if (old) {
				char oh[GIT_OID_HEXSZ + 1];
				git_oid nid;
				s_oid_in(&nid, newoid);
				rc = kr_error(KR_EVERIFY, "%s is not a fast-forward of %s (history was rewritten)",
				    s_oid_str(&nid, hex), s_oid_str(&stop, oh));
			}
			break;
		}
		cur = *git_commit_parent_id(c, 0);
		git_commit_free(c);
	}
	if (ncommits)
		*ncommits = n;
	return rc;
}

int
kr_store_log(kr_store *s, const char *pub, const char *coll, size_t max,
    kr_store_log_cb cb, void *arg)
{
	return kr_store_log_at(s, pub, coll, NULL, max, cb, arg);
}

int
kr_store_log_at(kr_store *s, const char *pub, const char *coll, const uint8_t *start, size_t max,
    kr_store_log_cb cb, void *arg)
{
	git_repository *repo;
	git_oid cur;
	uint8_t key[KR_FPR_LEN];
	int rc;

	if ((rc = s_repo_get(s, pub, coll, 0, &repo)) < 0)
		return rc;
	if (start)
		s_oid_in(&cur, start);
	else if (git_reference_name_to_id(&cur, repo, MAIN_REF) < 0)
		return 0;
	if (kr_unhex(key, KR_FPR_LEN, pub) < 0)
		return kr_error(KR_ERROR, "%s is not a publisher fingerprint", pub);
	for (size_t i = 0; max == 0 || i < max; i++) {
		git_commit *c;
		kr_commit_info info;
		const git_signature *a;

		if ((rc = git_commit_lookup(&c, repo, &cur)) < 0)
			return s_read_error(rc == GIT_ENOTFOUND ? GIT_ERROR : rc, "reading history");
		a = git_commit_author(c);
		s_oid_out(info.oid, &cur);
		info.time = (int64_t)git_commit_time(c);
		info.author = a->name;
		info.message = git_commit_message(c);
		info.signed_ok = s_check_signature(repo, &cur, key) == 0;
		kr_error_clear();
		rc = cb(&info, arg);
		if (rc != 0 || git_commit_parentcount(c) == 0) {
			git_commit_free(c);
			return rc < 0 ? rc : 0;
		}
		cur = *git_commit_parent_id(c, 0);
		git_commit_free(c);
	}
	return 0;
}

/* ---- pack writer ---------------------------------------------------- */

#define WINDOW 8          /* earlier blobs tried as bases in a small pack */
#define CACHE_EVERY_COMMITS 64   /* libgit2 caches dropped this often in a history walk */
#define CACHE_EVERY_OBJECTS 1024 /* and this often while writing a pack */
#define SMALL_PACK 512    /* objects; above this a pack is a (first) sync */
/*
 * Longest chain of deltas in a pack (git's pack.depth). Each version of an
 * item or tree is a delta against the one before: a consolidated history
 * of 2,000 versions of a tree was one chain of 2,000, which every read of
 * the head resolved (git ls-tree HEAD 187 ms) and every consolidation
 * inflated again.
 */
#define MAX_DELTA_DEPTH 50

typedef struct {
	git_oid oid;
	git_oid base;
	int has_base;
	git_object_t type;
} s_entry;

typedef struct {
	git_repository *repo;
	git_odb *odb;
	s_entry *v;
	size_t n, cap;
	git_oid *set;            /* open addressing; zero oid = empty */
	uint32_t *setix;         /* beside each: its index in v */
	size_t setcap, setn;
} s_objlist;

static int
s_set_put(s_objlist *l, const git_oid *id, uint32_t ix)
{
	if ((l->setn + 1) * 2 > l->setcap) {
		git_oid *old = l->set;
		uint32_t *oldix = l->setix;
		size_t oldcap = l->setcap;
		l->setcap = oldcap ? oldcap * 2 : 1024;
		l->set = kr_calloc(l->setcap, sizeof(git_oid));
		l->setix = kr_calloc(l->setcap, sizeof(uint32_t));
		l->setn = 0;
		for (size_t i = 0; i < oldcap; i++)
			if (!git_oid_is_zero(&old[i]))
				s_set_put(l, &old[i], oldix[i]);
		free(old);
		free(oldix);
	}
	for (size_t i = s_oid_hash(id) & (l->setcap - 1); ; i = (i + 1) & (l->setcap - 1)) {
		if (git_oid_is_zero(&l->set[i])) {
			l->set[i] = *id;
			l->setix[i] = ix;
			l->setn++;
			return 1;
		}
		if (git_oid_equal(&l->set[i], id))
			return 0;
	}
}

/* Adds id, to be listed next (s_list_add); 0 when it is listed already. */
static int
s_set_add(s_objlist *l, const git_oid *id)
{
	return s_set_put(l, id, (uint32_t)l->n);
}

/* id's index in l->v, SIZE_MAX when it is not listed. */
static size_t
s_set_find(const s_objlist *l, const git_oid *id)
{
	if (!l->setcap)
		return SIZE_MAX;
	for (size_t i = s_oid_hash(id) & (l->setcap - 1); ; i = (i + 1) & (l->setcap - 1)) {
		if (git_oid_is_zero(&l->set[i]))
			return SIZE_MAX;
		if (git_oid_equal(&l->set[i], id))
			return l->setix[i];
	}
}

static void
s_list_add(s_objlist *l, const git_oid *id, git_object_t type, const git_oid *base)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 256;
		l->v = kr_realloc(l->v, l->cap * sizeof(s_entry));
	}
	l->v[l->n].oid = *id;
	l->v[l->n].type = type;
	l->v[l->n].has_base = base != NULL;
	if (base)
		l->v[l->n].base = *base;
	l->n++;
}

/*
 * For a new path in an incremental pack: the blob next to it by name in the
 * old tree, which the subscriber has. Items of one collection resemble each
 * other (same front matter, same phrases), so it is a good delta base.
 */
static const git_oid *
s_sibling_base(const git_tree *ot, const char *name)
{
	size_t lo = 0, hi = git_tree_entrycount(ot);

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (strcmp(git_tree_entry_name(git_tree_entry_byindex(ot, mid)), name) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (size_t d = 0; d < 4; d++) {
		const git_tree_entry *e = NULL;
		if (lo >= d + 1 && (e = git_tree_entry_byindex(ot, lo - d - 1)) && git_tree_entry_type(e) == GIT_OBJECT_BLOB)
			return git_tree_entry_id(e);
		if ((e = git_tree_entry_byindex(ot, lo + d)) && git_tree_entry_type(e) == GIT_OBJECT_BLOB)
			return git_tree_entry_id(e);
	}
	return NULL;
}

typedef struct {
	git_tree *nt, *ot;      /* ot may be NULL */
	size_t i;               /* next entry of nt */
} s_enum_frame;

/*
 * Opens tree newid (against oldid, may be NULL) as level *depth of the
 * walk, unless it is oldid or already listed. name is its entry name.
 */
static int
s_enum_push(s_objlist *l, s_enum_frame *st, int *depth, const git_oid *oldid, const git_oid *newid,
    const char *name)
{
	s_enum_frame *fr;
	char hex[GIT_OID_HEXSZ + 1];

	if ((oldid && git_oid_equal(oldid, newid)) || !s_set_add(l, newid))
		return 0;
	s_list_add(l, newid, GIT_OBJECT_TREE, oldid);
	if (*depth > MAX_DEPTH) {
		char *what = kr_sprintf("%s (in %s)", s_oid_str(newid, hex), name);
		int rc = s_too_deep(what);
		free(what);
		return rc;
	}
	fr = &st[(*depth)++];
	memset(fr, 0, sizeof(*fr));
	if (git_tree_lookup(&fr->nt, l->repo, newid) < 0 || (oldid && git_tree_lookup(&fr->ot, l->repo, oldid) < 0))
		return s_git_error(KR_ENOTFOUND, s_oid_str(newid, hex));
	return 0;
}

/* Adds newid's tree and whatever under it differs from oldid's (may be NULL). */
static int
s_enum_tree(s_objlist *l, const git_oid *oldid, const git_oid *newid)
{
	s_enum_frame st[MAX_DEPTH + 1];
	int depth = 0, rc;

	rc = s_enum_push(l, st, &depth, oldid, newid, "the root tree");
	while (depth > 0 && rc == 0) {
		s_enum_frame *fr = &st[depth - 1];
		const git_tree_entry *e, *o;
		const git_oid *id;
		int same_type;

		if (fr->i == git_tree_entrycount(fr->nt)) {
			git_tree_free(fr->nt);
			git_tree_free(fr->ot);
			depth--;
			continue;
		}
		e = git_tree_entry_byindex(fr->nt, fr->i++);
		o = fr->ot ? git_tree_entry_byname(fr->ot, git_tree_entry_name(e)) : NULL;
		id = git_tree_entry_id(e);
		same_type = o && git_tree_entry_type(o) == git_tree_entry_type(e);
		if (same_type && git_oid_equal(git_tree_entry_id(o), id))
			continue;
		if (git_tree_entry_type(e) == GIT_OBJECT_TREE) {
			rc = s_enum_push(l, st, &depth, same_type ? git_tree_entry_id(o) : NULL, id, git_tree_entry_name(e));
		} else if (git_tree_entry_type(e) == GIT_OBJECT_BLOB) {
			const git_oid *base = same_type ? git_tree_entry_id(o) : NULL;
			if (!base && !o && fr->ot && l->n < SMALL_PACK)
				base = s_sibling_base(fr->ot, git_tree_entry_name(e));
			if (s_set_add(l, id))
				s_list_add(l, id, GIT_OBJECT_BLOB, base);
		} else {
			rc = kr_error(KR_EVERIFY, "tree entry %s is not a blob or tree", git_tree_entry_name(e));
		}
	}
	while (depth > 0) {
		depth--;
		git_tree_free(st[depth].nt);
		git_tree_free(st[depth].ot);
	}
	return rc;
}

/* Enumerates the objects new in (base, want], oldest commit first. */
static int
s_enumerate(s_objlist *l, const git_oid *base, const git_oid *want)
{
	git_oid *chain = NULL;
	size_t nchain = 0, cap = 0;
	git_oid cur = *want;
	int rc = 0;

	for (;;) {
		git_commit *c;
		if (base && git_oid_equal(&cur, base))
			break;
		if (git_commit_lookup(&c, l->repo, &cur) < 0) {
			char hex[GIT_OID_HEXSZ + 1];
			rc = s_git_error(KR_ENOTFOUND, s_oid_str(&cur, hex));
			goto done;
		}
		if (nchain == cap) {
			cap = cap ? cap * 2 : 64;
			chain = kr_realloc(chain, cap * sizeof(*chain));
		}
		chain[nchain++] = cur;
		if (git_commit_parentcount(c) == 0) {
			git_commit_free(c);
			break;
		}
		cur = *git_commit_parent_id(c, 0);
		git_commit_free(c);
	}
	for (size_t i = nchain; i-- > 0 && rc == 0;) {
		git_commit *c = NULL, *p = NULL;
		if (git_commit_lookup(&c, l->repo, &chain[i]) < 0) {
			rc = s_git_error(KR_ENOTFOUND, "commit");
			break;
		}
		/* a commit resembles its parent (same author, similar message) */
		if (s_set_add(l, &chain[i]))
			s_list_add(l, &chain[i], GIT_OBJECT_COMMIT,
			    git_commit_parentcount(c) > 0 ? git_commit_parent_id(c, 0) : NULL);
		if (git_commit_parentcount(c) > 0 && git_commit_parent(&p, c, 0) < 0)
			rc = s_git_error(KR_ENOTFOUND, "parent commit");
		if (rc == 0)
			rc = s_enum_tree(l, p ? git_commit_tree_id(p) : NULL, git_commit_tree_id(c));
		git_commit_free(p);
		git_commit_free(c);
		/*
		 * A long history parses every version of every tree once; libgit2
		 * would cache them all (up to its limit, then evict at random):
		 * drop them as we go, so a whole-history walk stays small.
		 */
		if ((nchain - i) % CACHE_EVERY_COMMITS == 0)
			git_repository__cleanup(l->repo);
	}
done:
	free(chain);
	return rc;
}

static void
s_objlist_free(s_objlist *l)
{
	free(l->v);
	free(l->set);
	free(l->setix);
}

static void
s_varint(kr_buf *b, uint64_t v)
{
	while (v >= 0x80) {
		kr_buf_addch(b, (char)(0x80 | (v & 0x7f)));
		v >>= 7;
	}
	kr_buf_addch(b, (char)v);
}

static void
s_delta_copy(kr_buf *d, size_t off, size_t len)
{
	while (len > 0) {
		size_t n = len > 0x10000 ? 0x10000 : len;
		uint8_t op[8];
		size_t k = 1;

		op[0] = 0x80;
		for (int i = 0; i < 4; i++)
			if ((off >> (8 * i)) & 0xff) {
				op[0] |= (uint8_t)(1 << i);
				op[k++] = (uint8_t)(off >> (8 * i));
			}
		for (int i = 0; i < 3; i++)
			if ((n >> (8 * i)) & 0xff) {
				op[0] |= (uint8_t)(0x10 << i);
				op[k++] = (uint8_t)(n >> (8 * i));
			}
		kr_buf_add(d, op, k);
		off += n;
		len -= n;
	}
}

static void
s_delta_insert(kr_buf *d, const uint8_t *p, size_t len)
{
	while (len > 0) {
		size_t n = len > 127 ? 127 : len;
		kr_buf_addch(d, (char)n);
		kr_buf_add(d, p, n);
		p += n;
		len -= n;
	}
}

#define BLOCK 16

static uint32_t
s_block_hash(const uint8_t *p)
{
	uint64_t a, b;

	memcpy(&a, p, 8);
	memcpy(&b, p + 8, 8);
	a = (a ^ (b * 0x9e3779b97f4a7c15ull)) * 0xff51afd7ed558ccdull;
	return (uint32_t)(a >> 32);
}

/*
 * A git delta from src to tgt, in the shape of git's diff-delta: src is
 * indexed in 16-byte blocks, every position of tgt is looked up, and a hit
 * is extended forwards and backwards into a copy; the rest is inserted.
 * Linear in the sizes; an edited item or a tree with one entry more turns
 * into a few copies and one short insert.
 */
static void
s_delta(kr_buf *d, const uint8_t *src, size_t slen, const uint8_t *tgt, size_t tlen)
{
	size_t nblocks = slen / BLOCK, cap = 16, i = 0, ins = 0;
	uint32_t *table;

	s_varint(d, slen);
	s_varint(d, tlen);
	while (cap < nblocks * 2)
		cap *= 2;
	table = kr_calloc(cap, sizeof(uint32_t)); /* block offset + 1; 0 = empty */
	for (size_t b = nblocks; b-- > 0;) /* earlier blocks win */
		table[s_block_hash(src + b * BLOCK) & (cap - 1)] = (uint32_t)(b * BLOCK + 1);
	while (nblocks && i + BLOCK <= tlen) {
		uint32_t e = table[s_block_hash(tgt + i) & (cap - 1)];
		size_t so, len;

		if (!e || memcmp(src + e - 1, tgt + i, BLOCK) != 0) {
			i++;
			continue;
		}
		so = e - 1;
		len = BLOCK;
		while (so + len < slen && i + len < tlen && src[so + len] == tgt[i + len])
			len++;
		while (i > ins && so > 0 && src[so - 1] == tgt[i - 1]) {
			i--;
			so--;
			len++;
		}
		s_delta_insert(d, tgt + ins, i - ins);
		s_delta_copy(d, so, len);
		i += len;
		ins = i;
	}
	s_delta_insert(d, tgt + ins, tlen - ins);
	free(table);
}

/* A version-2 pack's header for n entries, appended to b. */
static void
s_pack_header(kr_buf *b, size_t n)
{
	uint8_t hdr[12] = { 'P', 'A', 'C', 'K', 0, 0, 0, 2, (uint8_t)(n >> 24), (uint8_t)(n >> 16), (uint8_t)(n >> 8),
		(uint8_t)n };

	kr_buf_add(b, hdr, sizeof(hdr));
}

/* The SHA-1 trailer of the pack that starts at b->ptr + start, appended to b. */
static void
s_pack_trailer(kr_buf *b, size_t start)
{
	kr_sha1 *h = kr_sha1_new();
	uint8_t sum[20];

	kr_sha1_update(h, b->ptr + start, b->len - start);
	kr_sha1_final(&h, sum);
	kr_buf_add(b, sum, 20);
}

static void
s_entry_header(kr_buf *b, int type, size_t size)
{
	uint8_t c = (uint8_t)((type << 4) | (size & 15));

	size >>= 4;
	while (size) {
		kr_buf_addch(b, (char)(c | 0x80));
		c = size & 0x7f;
		size >>= 7;
	}
	kr_buf_addch(b, (char)c);
}

static uint64_t
s_bound(size_t raw)
{
	return (uint64_t)raw + raw / 512 + 64;
}

/* The first have that is want's ancestor (or want itself); NULL if none. */
static int
s_pick_base(git_repository *repo, const git_oid *want, const uint8_t (*haves)[KR_OID_LEN],
    size_t nhaves, git_oid *base)
{
	for (size_t i = 0; i < nhaves; i++) {
		git_oid h;
		git_commit *c;
		s_oid_in(&h, haves[i]);
		if (git_oid_equal(&h, want)) {
			*base = h;
			return 1;
		}
		if (git_commit_lookup(&c, repo, &h) < 0)
			continue;
		git_commit_free(c);
		if (git_graph_descendant_of(repo, want, &h) == 1) {
			*base = h;
			return 1;
		}
	}
	git_error_clear();
	return 0;
}

/*
 * git's pack reuse, in its simplest form: when a subscriber has nothing and
 * the repo's objects are exactly one pack holding exactly the n objects
 * reachable from want (no loose objects, the index counts n), that pack
 * file is the answer as it is. Returns 1 when out got the pack.
 */
static int
s_reuse_pack(const char *repo, size_t n, kr_buf *out)
{
	char *dir = kr_sprintf("%s/objects/pack", repo), *idx = NULL, *pack;
	DIR *d = opendir(dir);
	struct dirent *e;
	kr_buf b = KR_BUF_INIT;
	int packs = 0, ok = 0;

	while (d && (e = readdir(d))) {
		size_t l = strlen(e->d_name);
		if (l > 4 && strcmp(e->d_name + l - 4, ".idx") == 0) {
			packs++;
			free(idx);
			idx = kr_sprintf("%s/%s", dir, e->d_name);
		} else if (strncmp(e->d_name, "pack_git2_", 10) == 0) {
			packs = 99; /* a pack is being written: not now */
		}
	}
	if (d)
		closedir(d);
	if (packs != 1 || s_count_loose(repo, 1) > 0)
		goto done;
	/* idx v2: magic, version, 256 fan-out entries; the last is the object count */
	if (kr_file_read(&b, idx) < 0 || b.len < 8 + 256 * 4 || memcmp(b.ptr, "\377tOc\0\0\0\2", 8) != 0)
		goto done;
	{
		const uint8_t *c = (const uint8_t *)b.ptr + 8 + 255 * 4;
		size_t count = (size_t)c[0] << 24 | (size_t)c[1] << 16 | (size_t)c[2] << 8 | c[3];
		if (count != n)
			goto done;
	}
	pack = kr_strndup(idx, strlen(idx) - 4);
	kr_buf_adds(&b, ""); /* keep b alive; reuse below */
	kr_buf_clear(&b);
	{
		char *p = kr_sprintf("%s.pack", pack);
		size_t start = out->len;
		ok = kr_file_read(out, p) == 0 && out->len - start >= 32 &&
		    memcmp(out->ptr + start, "PACK", 4) == 0;
		if (!ok) {
			out->len = start;
			if (out->cap)
				out->ptr[start] = '\0';
		}
		free(p);
	}
	free(pack);
done:
	kr_error_clear();
	kr_buf_release(&b);
	free(idx);
	free(dir);
	return ok;
}

/*
 * Packs for subscribers that are far behind are shared. A base found more
 * than SHARE_EXACT commits behind want moves back along want's
 * first-parent line to a bucket boundary: the distance d rounds up to a
 * multiple of max(8, 2^floor(log2 d) / 4). Towns 17 to 24 commits behind
 * all get the one pack from 24 back, which holds at most a quarter more
 * commits than each needed (objects they hold are harmless in a pack); a
 * hub whose hundreds of towns fell behind to as many different seqs builds
 * tens of packs, not hundreds (the 500-town soak, 2026-12-01: 1,420
 * builds, towns waiting minutes for theirs). Live replication, a few
 * commits behind, gets its exact pack. A base not on the line within
 * SHARE_WALK_MAX commits is kept as it is.
 */
#define SHARE_EXACT 8
#define SHARE_WALK_MAX 4096

static void
s_share_base(git_repository *repo, const git_oid *want, git_oid *base)
{
	git_oid cur = *want, best = *base;
	size_t d = SIZE_MAX, target = 0;

	for (size_t i = 0; i <= SHARE_WALK_MAX; i++) {
		git_commit *c;
		int end;
		if (d == SIZE_MAX && git_oid_equal(&cur, base)) {
			size_t step = 1;
			if ((d = i) <= SHARE_EXACT)
				return;
			while (step * 2 <= d)
				step *= 2;
			step = step / 4 > 8 ? step / 4 : 8;
			target = (d + step - 1) / step * step;
		}
		if (git_commit_lookup(&c, repo, &cur) < 0)
			break;
		if (d != SIZE_MAX)
			best = cur; /* the farthest commit read on the line, from the base on */
		end = (d != SIZE_MAX && i == target) || git_commit_parentcount(c) == 0;
		if (!end)
			cur = *git_commit_parent_id(c, 0);
		git_commit_free(c);
		if (end)
			break;
	}
	git_error_clear();
	*base = best;
}

int
kr_store_pack_base(kr_store *s, const char *pub, const char *coll, const uint8_t want[KR_OID_LEN],
    const uint8_t (*haves)[KR_OID_LEN], size_t nhaves, uint8_t base[KR_OID_LEN], int *has_base)
{
	git_repository *repo;
	git_oid w, b;
	char hex[KR_OID_HEX + 1];

	*has_base = 0;
	memset(base, 0, KR_OID_LEN);
	if (!kr_store_reachable(s, pub, coll, want)) {
		kr_hex(hex, want, KR_OID_LEN);
		return kr_error(KR_ENOTFOUND, "commit %s is not in %.16s…/%s here (yet)", hex, pub, coll);
	}
	if (s_repo_get(s, pub, coll, 0, &repo) < 0)
		return KR_ENOTFOUND;
	s_oid_in(&w, want);
	if (s_pick_base(repo, &w, haves, nhaves, &b)) {
		s_share_base(repo, &w, &b);
		s_oid_out(base, &b);
		*has_base = 1;
	}
	return 0;
}

/*
 * git's pack reuse, object by object: an object the repository's packs
 * already hold whole, or as a delta against another object of the new
 * pack, is copied into it as it is (header, base id, compressed data),
 * not read, resolved, diffed and compressed again. A consolidation of a
 * long history was mostly that. libgit2's indexer, which every written
 * pack goes through, inflates and hashes each entry: a damaged copy
 * gives another id, the object it should have been is then missing from
 * the new pack, and the packs that hold it are kept (kr_store_maintain).
 */
typedef struct {
	const uint8_t *p;        /* the whole entry in a mapped pack, NULL if none */
	size_t len;
	git_oid base;            /* a delta's base */
} s_rawent;

typedef struct {
	s_rawent whole, delta;   /* per object of the pack being written (as l->v) */
} s_raw;

typedef struct {
	s_raw *v;
	void **maps;
	size_t *lens, nmaps;
} s_reuse;

typedef struct {
	uint64_t off;
	uint32_t pos;
} s_offpos;

static int
s_offpos_cmp(const void *a, const void *b)
{
	const s_offpos *x = a, *y = b;
	return x->off < y->off ? -1 : x->off > y->off;
}

/* The entries of one pack (idx: its index, read) for the objects of l. */
static void
s_reuse_pack_entries(s_reuse *ru, const s_objlist *l, const uint8_t *idx, size_t idxlen,
    const uint8_t *pack, size_t packlen)
{
	uint32_t n;
	const uint8_t *ids, *offs, *big;
	s_offpos *o;

	if (idxlen < 8 + 256 * 4 || memcmp(idx, "\377tOc", 4) != 0 || s_be32(idx + 4) != 2)
		return;
	n = s_be32(idx + 8 + 255 * 4);
	if (packlen < 12 + 20 || memcmp(pack, "PACK", 4) != 0 ||
	    idxlen < 8 + 256 * 4 + (size_t)n * (20 + 4 + 4) + 40)
		return;
	ids = idx + 8 + 256 * 4;
	offs = ids + (size_t)n * (20 + 4);
	big = offs + (size_t)n * 4;
	o = kr_calloc(n ? n : 1, sizeof(*o));
	for (uint32_t i = 0; i < n; i++) {
		uint32_t v = s_be32(offs + (size_t)i * 4);
		if (v & 0x80000000u) {
			size_t k = v & 0x7fffffffu;
			if (big + (k + 1) * 8 > idx + idxlen - 40) {
				free(o);
				return;
			}
			o[i].off = (uint64_t)s_be32(big + k * 8) << 32 | s_be32(big + k * 8 + 4);
		} else {
			o[i].off = v;
		}
		o[i].pos = i;
	}
	qsort(o, n, sizeof(*o), s_offpos_cmp);
	for (uint32_t i = 0; i < n; i++) {
		uint64_t off = o[i].off, end = i + 1 < n ? o[i + 1].off : packlen - 20;
		git_oid id;
		size_t j, h;
		uint8_t c;
		int type;
		s_rawent *e;

		if (off < 12 || end > packlen - 20 || end <= off)
			continue;
		git_oid_fromraw(&id, ids + (size_t)o[i].pos * 20);
		if ((j = s_set_find(l, &id)) == SIZE_MAX)
			continue;
		h = (size_t)off;
		c = pack[h++];
		type = (c >> 4) & 7;
		while ((c & 0x80) && h < end)
			c = pack[h++];
		if (c & 0x80)
			continue;
		if (type == GIT_OBJECT_REF_DELTA) {
			if (h + 20 > end)
				continue;
			e = &ru->v[j].delta;
			git_oid_fromraw(&e->base, pack + h);
		} else if (type >= GIT_OBJECT_COMMIT && type <= GIT_OBJECT_TAG && type == (int)l->v[j].type) {
			e = &ru->v[j].whole;
		} else {
			continue; /* an offset delta (a pack git wrote) or a wrong type: read as usual */
		}
		e->p = pack + off;
		e->len = (size_t)(end - off);
	}
	free(o);
}

/* Maps the repository's packs and finds the entries of l's objects in them. */
static void
s_reuse_open(s_reuse *ru, const char *repo, const s_objlist *l)
{
	char *dir = kr_sprintf("%s/objects/pack", repo);
	char **names;
	size_t nnames;

	memset(ru, 0, sizeof(*ru));
	ru->v = kr_calloc(l->n ? l->n : 1, sizeof(*ru->v));
	s_pack_names(dir, &names, &nnames);
	for (size_t i = 0; i < nnames; i++) {
		char *pp = kr_sprintf("%s/%s.pack", dir, names[i]);
		kr_buf idx = KR_BUF_INIT;
		struct stat st;
		int fd = open(pp, O_RDONLY | O_CLOEXEC);
		void *map;

		free(pp);
		if (fd < 0)
			continue;
		pp = kr_sprintf("%s/%s.idx", dir, names[i]);
		if (fstat(fd, &st) == 0 && st.st_size >= 32 && kr_file_read(&idx, pp) == 0 &&
		    (map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0)) != MAP_FAILED) {
			ru->maps = kr_realloc(ru->maps, (ru->nmaps + 1) * sizeof(*ru->maps));
			ru->lens = kr_realloc(ru->lens, (ru->nmaps + 1) * sizeof(*ru->lens));
			ru->maps[ru->nmaps] = map;
			ru->lens[ru->nmaps++] = (size_t)st.st_size;
			s_reuse_pack_entries(ru, l, (const uint8_t *)idx.ptr, idx.len, map, (size_t)st.st_size);
		}
		kr_error_clear();
		kr_buf_release(&idx);
		free(pp);
		close(fd);
	}
	kr_strv_free(names, nnames);
	free(dir);
}

static void
s_reuse_close(s_reuse *ru)
{
	for (size_t i = 0; i < ru->nmaps; i++)
		munmap(ru->maps[i], ru->lens[i]);
	free(ru->maps);
	free(ru->lens);
	free(ru->v);
	memset(ru, 0, sizeof(*ru));
}

/*
 * The pack of the objects new in (base, want] (base NULL: everything
 * reachable from want). A thin pack may hold deltas against objects of
 * base's history, which the receiver has; a pack kept on disk may not
 * (thin 0): every delta's base is in the pack itself.
 */
static int
s_pack_build(kr_store *s, const char *pub, const char *coll, const git_oid *w, const git_oid *basep, int thin,
    kr_buf *out)
{
	s_objlist l = { 0 };
	git_oid base;
	kr_buf tmp = KR_BUF_INIT, delta = KR_BUF_INIT;
	kr_deflater zip = { 0 }; /* one state for every entry of the pack */
	uint16_t *depth = NULL;  /* each entry's delta chain in the pack, 0 when whole */
	s_reuse ru = { 0 };
	uint64_t rawtotal = 0;
	size_t start = out->len;
	int rc, have_base, level;

	if ((rc = s_repo_get(s, pub, coll, 0, &l.repo)) < 0)
		return rc;
	if ((have_base = basep != NULL))
		base = *basep;
	if ((rc = s_enumerate(&l, have_base ? &base : NULL, w)) < 0)
		goto done;
	if (!have_base) {
		char *repo = kr_store_path(s, pub, coll);
		int reused = s_reuse_pack(repo, l.n, out);
		/* a whole history from several packs: what they hold is copied as it is */
		if (!reused)
			s_reuse_open(&ru, repo, &l);
		free(repo);
		if (reused)
			goto done;
	}
	/* after the walk, which drops the repo's odb now and then */
	if (git_repository_odb(&l.odb, l.repo) < 0) {
		rc = s_git_error(KR_EIO, "opening object database");
		goto done;
	}
	for (size_t i = 0; i < l.n; i++) {
		size_t len;
		git_object_t t;
		if (git_odb_read_header(&len, &t, l.odb, &l.v[i].oid) == 0)
			rawtotal += len;
	}
	/* Small packs are optimised for bytes, large ones for time. */
	level = rawtotal < (1u << 20) ? KR_ZIP_DEFAULT : KR_ZIP_FASTEST;

	depth = kr_calloc(l.n ? l.n : 1, sizeof(*depth));
	s_pack_header(out, l.n);
	for (size_t i = 0; i < l.n; i++) {
		git_odb_object *obj = NULL, *bobj = NULL;
		const uint8_t *data;
		size_t len;
		int used_delta = 0;

		if (i && i % CACHE_EVERY_OBJECTS == 0) {
			/* the odb caches what it reads: start a fresh one now and then */
			git_odb_free(l.odb);
			l.odb = NULL;
			git_repository__cleanup(l.repo);
			if (git_repository_odb(&l.odb, l.repo) < 0) {
				rc = s_git_error(KR_EIO, "opening object database");
				goto done;
			}
		}
		if (ru.v) {
			const s_rawent *d = &ru.v[i].delta, *whole = &ru.v[i].whole, *use = NULL;
			size_t j = d->p ? s_set_find(&l, &d->base) : SIZE_MAX;
			if (j != SIZE_MAX && j < i && depth[j] < MAX_DELTA_DEPTH) {
				use = d;
				depth[i] = (uint16_t)(depth[j] + 1);
			} else if (whole->p) {
				/* whole as it is, unless a delta against its previous version can be made here */
				size_t b = l.v[i].has_base ? s_set_find(&l, &l.v[i].base) : SIZE_MAX;
				if (b == SIZE_MAX || b >= i || depth[b] >= MAX_DELTA_DEPTH)
					use = whole;
			}
			if (use) {
				kr_buf_add(out, use->p, use->len);
				continue;
			}
		}
		if (git_odb_read(&obj, l.odb, &l.v[i].oid) < 0) {
			rc = s_git_error(KR_ENOTFOUND, "reading object for pack");
			goto done;
		}
		data = git_odb_object_data(obj);
		len = git_odb_object_size(obj);
		if (len >= 64) {
			/*
			 * Candidates: the previous version of the same path, and in
			 * a small (incremental) pack also the last few blobs already
			 * in it. A first sync never searches.
			 */
			const git_oid *cand[1 + WINDOW];
			size_t ncand = 0, best = SIZE_MAX, best_j = SIZE_MAX;
			const git_oid *best_base = NULL;

			if (l.v[i].has_base)
				cand[ncand++] = &l.v[i].base;
			if (l.n <= SMALL_PACK && l.v[i].type == GIT_OBJECT_BLOB)
				for (size_t j = i, k = 0; j-- > 0 && k < WINDOW;)
					if (l.v[j].type == GIT_OBJECT_BLOB) {
						cand[ncand++] = &l.v[j].oid;
						k++;
					}
			for (size_t c = 0; c < ncand; c++) {
				size_t j = s_set_find(&l, cand[c]); /* a base in this pack: its chain */
				if (j == SIZE_MAX ? !thin : j >= i || depth[j] >= MAX_DELTA_DEPTH)
					continue;
				if (git_odb_read(&bobj, l.odb, cand[c]) == 0 && git_odb_object_type(bobj) == l.v[i].type) {
					kr_buf_clear(&tmp);
					s_delta(&tmp, git_odb_object_data(bobj), git_odb_object_size(bobj), data, len);
					if (tmp.len < best) {
						best = tmp.len;
						best_base = cand[c];
						best_j = j;
						kr_buf_clear(&delta);
						kr_buf_add(&delta, tmp.ptr, tmp.len);
					}
				}
				git_odb_object_free(bobj);
				bobj = NULL;
			}
			if (best_base && delta.len < len / 2) {
				s_entry_header(out, GIT_OBJECT_REF_DELTA, delta.len);
				kr_buf_add(out, best_base->id, KR_OID_LEN);
				rc = kr_deflater_add(&zip, out, delta.ptr, delta.len, level);
				used_delta = 1;
				depth[i] = (uint16_t)(best_j == SIZE_MAX ? 1 : depth[best_j] + 1);
			}
		}
		git_error_clear();
		if (!used_delta) {
			s_entry_header(out, l.v[i].type, len);
			rc = kr_deflater_add(&zip, out, data, len, level);
		}
		git_odb_object_free(bobj);
		git_odb_object_free(obj);
		if (rc < 0)
			goto done;
	}
	s_pack_trailer(out, start);
done:
	if (rc < 0) {
		out->len = start;
		if (out->cap)
			out->ptr[start] = '\0';
	}
	kr_buf_release(&tmp);
	kr_buf_release(&delta);
	kr_deflater_end(&zip);
	s_reuse_close(&ru);
	free(depth);
	git_odb_free(l.odb);
	s_objlist_free(&l);
	/*
	 * A pack of the whole history parsed every version of every tree, and
	 * libgit2 caches parsed trees (up to the cache limit): release them
	 * now rather than let a long-running process carry them.
	 */
	if (!have_base)
		git_repository__cleanup(l.repo);
	return rc;
}

int
kr_store_pack(kr_store *s, const char *pub, const char *coll,
    const uint8_t want[KR_OID_LEN], const uint8_t (*haves)[KR_OID_LEN], size_t nhaves,
    kr_buf *out)
{
	git_repository *repo;
	git_oid w, base;
	int rc;

	if ((rc = s_repo_get(s, pub, coll, 0, &repo)) < 0)
		return rc;
	s_oid_in(&w, want);
	return s_pack_build(s, pub, coll, &w, s_pick_base(repo, &w, haves, nhaves, &base) ? &base : NULL, 1, out);
}

int
kr_store_check_trees(kr_store *s, const char *pub, const char *coll,
    const uint8_t *old, const uint8_t newoid[KR_OID_LEN])
{
	s_objlist l = { 0 };
	git_oid w, o;
	int rc;

	if ((rc = s_repo_get(s, pub, coll, 0, &l.repo)) < 0)
		return rc;
	s_oid_in(&w, newoid);
	if (old)
		s_oid_in(&o, old);
	rc = s_enumerate(&l, old ? &o : NULL, &w);
	s_objlist_free(&l);
	return rc;
}

int
kr_store_pack_bound(kr_store *s, const char *pub, const char *coll,
    const uint8_t *old, const uint8_t newoid[KR_OID_LEN], uint64_t *bound)
{
	s_objlist l = { 0 };
	git_oid w, o;
	int rc;

	*bound = old ? 0 : 32; /* pack header and trailer */
	if ((rc = s_repo_get(s, pub, coll, 0, &l.repo)) < 0)
		return rc;
	s_oid_in(&w, newoid);
	if (old)
		s_oid_in(&o, old);
	if ((rc = s_enumerate(&l, old ? &o : NULL, &w)) == 0 && git_repository_odb(&l.odb, l.repo) < 0)
		rc = s_git_error(KR_EIO, "opening object database");
	if (rc == 0) {
		for (size_t i = 0; i < l.n; i++) {
			size_t len;
			git_object_t t;
			if (git_odb_read_header(&len, &t, l.odb, &l.v[i].oid) < 0) {
				rc = s_git_error(KR_ENOTFOUND, "object header");
				break;
			}
			*bound += s_bound(len);
		}
	}
	git_odb_free(l.odb);
	s_objlist_free(&l);
	return rc;
}

/* ---- pack intake ---------------------------------------------------- */

/*
 * Writes pack into the repo through libgit2's indexer (as
 * git_odb_write_pack does) and makes the odb see it. With sync, the pack,
 * its index and the directory naming them are on disk before it returns.
 */
static int
s_write_pack(git_repository *repo, const kr_buf *pack, int sync, char name[64])
{
	git_odb *odb = NULL;
	git_indexer *idx = NULL;
	git_indexer_options opts;
	git_indexer_progress stats;
	char *dir = kr_sprintf("%sobjects/pack", git_repository_path(repo));
	int rc = 0;

	git_indexer_options_init(&opts, GIT_INDEXER_OPTIONS_VERSION);
	if (git_repository_odb(&odb, repo) < 0 || git_indexer_new(&idx, dir, 0, odb, &opts) < 0 ||
	    git_indexer_append(idx, pack->ptr, pack->len, &stats) < 0 || git_indexer_commit(idx, &stats) < 0) {
		rc = s_git_error(KR_EIO, "writing objects");
	} else {
		if (sync) {
			char *p = kr_sprintf("pack-%s.pack", git_indexer_name(idx));
			char *i = kr_sprintf("pack-%s.idx", git_indexer_name(idx));
			rc = s_sync_in(dir, (const char *const[]){ p, i, NULL });
			free(p);
			free(i);
		}
		git_odb_refresh(odb);
		if (name)
			snprintf(name, 64, "pack-%s", git_indexer_name(idx));
	}
	git_indexer_free(idx);
	git_odb_free(odb);
	free(dir);
	return rc;
}

/*
 * A received pack goes through libgit2's indexer directly (as
 * git_odb_write_pack would), so the intake knows the name of the pack it
 * wrote and whether that file is new: a rejected apply removes exactly
 * the packs it added (kr_store_drop_pack), never one that was there.
 */
/*
 * What a pack claims, read as it arrives (s_scan_feed), before libgit2's
 * indexer resolves anything. The indexer allocates each delta's claimed
 * size at once when it commits: a 23-byte delta claiming gigabytes made
 * it malloc 2 GiB, and a few KB of copy instructions can then fill them.
 * So every entry is inflated here (into the resolver's arena), and a pack is
 * refused when its entries inflate to, or its objects make, more than cap
 * bytes in all: the collection's signed size, which counts each object it
 * ever held (and at most the node's max_collection_bytes). Entry sizes
 * are held to what they say; a delta's object size is its first bytes.
 */
/*
 * Every object of the pack, resolved as its entry ends (s_resolve_entry):
 * its id, so a pack that holds one object twice is refused (libgit2 1.5's
 * indexer, resolving a delta that makes an object the pack already holds,
 * loops for ever and leaks each result), and its data, so a delta's base
 * is read once and deltas are applied here under a bound of work (the
 * indexer inflates a base over 1 MiB again for each delta against it, and
 * tries unresolved deltas again in a pass for each one resolved). A
 * delta's base must come before it in the pack, or be in the repository:
 * what kairan writes. Bases read from the repository are kept here too,
 * not as pack entries.
 */
typedef struct {
	git_oid id;
	uint64_t at, end;        /* the entry's bytes in the pack; at 0: a base read from the repository */
	size_t off, len;         /* its data in the arena */
	uint8_t type;            /* GIT_OBJECT_COMMIT .. _TAG */
	uint8_t delta;           /* it came as a delta */
} s_obj;

typedef struct {
	int deltas;
	size_t dup;              /* the object held twice (s_resolve_add gave SIZE_MAX - 1) */
	size_t nentries, capentries;
	git_odb *odb;
	char *dir;               /* where the arena spills (the repository's objects/pack) */
	s_obj *v;
	size_t n, cap;
	uint32_t *set;           /* open addressing, index + 1 into v, by id */
	size_t setcap;
	uint32_t *entries;       /* index into v of each pack entry, in pack order */
	kr_buf arena;            /* every object's data; the current entry's after them */
	int fd;                  /* the arena is this file, mapped, once past RESOLVE_MEM_MAX (else -1) */
	size_t start;            /* where the current entry's data begins in the arena */
	uint64_t work, work_max; /* bytes of bases and deltas read, objects made */
	git_oid base;            /* the current REF_DELTA's base */
	uint64_t base_at;        /* the current OFS_DELTA's base entry */
} s_resolve;

/*
 * What the objects of a pack may hold in memory while resolved. Past it
 * the arena is a file (unlinked, in the repository's objects/pack),
 * mapped: its pages are the page cache's, written back and dropped under
 * memory pressure, and it is at most about the signed size (the scan's
 * bound on what the entries inflate to and the objects make).
 */
#define RESOLVE_MEM_MAX (64u << 20)

/* Room for need more bytes (and a NUL) in r's arena, spilling it to a file past RESOLVE_MEM_MAX; 0 or KR_EIO. */
static int
s_arena_reserve(s_resolve *r, uint64_t need)
{
	kr_buf *a = &r->arena;
	size_t cap;
	void *map;

	if (need > SIZE_MAX / 4 - a->len)
		return kr_error(KR_EIO, "resolving a pack: %llu bytes do not fit in memory", (unsigned long long)need);
	if (a->len + need + 1 <= a->cap)
		return 0;
	if (r->fd < 0 && a->len + need + 1 <= RESOLVE_MEM_MAX) {
		kr_buf_grow(a, (size_t)need);
		return 0;
	}
	cap = a->cap > (1u << 20) ? a->cap : 1u << 20;
	while (cap < a->len + need + 1)
		cap *= 2;
	if (r->fd < 0) {
		int fd = open(r->dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
		if (fd < 0) {
			char *t = kr_sprintf("%s/tmp_resolve_XXXXXX", r->dir);
			if ((fd = mkostemp(t, O_CLOEXEC)) >= 0)
				unlink(t);
			free(t);
		}
		if (fd < 0 || ftruncate(fd, (off_t)cap) < 0 ||
		    (map = mmap(NULL, cap, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0)) == MAP_FAILED) {
			int e = errno;
			if (fd >= 0)
				close(fd);
			return kr_error(KR_EIO, "resolving a pack: a file of %zu bytes in %s: %s", cap, r->dir, strerror(e));
		}
		{
			size_t len = a->len;
			if (len)
				memcpy(map, a->ptr, len);
			((char *)map)[len] = '\0';
			kr_buf_release(a);
			a->ptr = map;
			a->len = len;
		}
		r->fd = fd;
	} else {
		if (ftruncate(r->fd, (off_t)cap) < 0 || (map = mremap(a->ptr, a->cap, cap, MREMAP_MAYMOVE)) == MAP_FAILED)
			return kr_error(KR_EIO, "resolving a pack: a file of %zu bytes in %s: %s", cap, r->dir,
			    strerror(errno));
		a->ptr = map;
	}
	a->cap = cap;
	return 0;
}

typedef struct {
	uint64_t cap;
	uint64_t inflated, made; /* so far */
	uint64_t at;             /* pack offset of the next byte */
	uint64_t entry_at;       /* where the current entry began */
	uint32_t count, seen;
	enum { SCAN_HEADER, SCAN_ENTRY, SCAN_DATA, SCAN_TRAILER, SCAN_DONE } state;
	uint8_t hdr[32];         /* the pack's or an entry's header, so far */
	size_t hlen;
	int type;
	uint64_t size;
	kr_inflater z;
	s_resolve r;
} s_scan;

static size_t
s_resolve_slot(const s_resolve *r, const git_oid *id)
{
	return s_oid_hash(id) & (r->setcap - 1);
}

/* v's index of id, or SIZE_MAX. */
static size_t
s_resolve_find(const s_resolve *r, const git_oid *id)
{
	if (!r->setcap)
		return SIZE_MAX;
	for (size_t k = s_resolve_slot(r, id);; k = (k + 1) & (r->setcap - 1)) {
		if (!r->set[k])
			return SIZE_MAX;
		if (git_oid_equal(&r->v[r->set[k] - 1].id, id))
			return r->set[k] - 1;
	}
}

/*
 * Adds an object of type to v: its len bytes at r->arena's offset start,
 * the arena's end (inflated or made there), or data (read from the
 * repository; start ignored). Its index; SIZE_MAX - 1 when the pack holds
 * it already, or when a delta makes an object read from the repository as
 * a base (libgit2's indexer, appending that base to fix a thin pack, then
 * finds the delta's object there and loops); SIZE_MAX with an error.
 */
static size_t
s_resolve_add(s_resolve *r, int type, const void *data, size_t start, size_t len, uint64_t at, uint64_t end,
    int delta)
{
	char hdr[64];
	int hl = snprintf(hdr, sizeof(hdr), "%s %zu", git_object_type2string((git_object_t)type), len) + 1;
	kr_sha1 *h;
	s_obj *o;
	size_t k;

	if (data) {
		if (s_arena_reserve(r, len) < 0)
			return SIZE_MAX;
		start = r->arena.len;
		memcpy(r->arena.ptr + start, data, len);
		r->arena.len += len;
	}
	if (r->n == r->cap) {
		r->cap = r->cap ? 2 * r->cap : 64;
		r->v = kr_realloc(r->v, r->cap * sizeof(*r->v));
	}
	if (2 * (r->n + 1) > r->setcap) {
		free(r->set);
		r->setcap = r->setcap ? 2 * r->setcap : 128;
		r->set = kr_calloc(r->setcap, sizeof(*r->set));
		for (size_t i = 0; i < r->n; i++) {
			k = s_resolve_slot(r, &r->v[i].id);
			while (r->set[k])
				k = (k + 1) & (r->setcap - 1);
			r->set[k] = (uint32_t)i + 1;
		}
	}
	o = &r->v[r->n];
	memset(o, 0, sizeof(*o));
	h = kr_sha1_new();
	kr_sha1_update(h, hdr, (size_t)hl);
	kr_sha1_update(h, r->arena.ptr + start, len);
	kr_sha1_final(&h, o->id.id);
	if ((k = s_resolve_find(r, &o->id)) != SIZE_MAX) {
		if (r->v[k].at || delta) {
			r->dup = k;
			return SIZE_MAX - 1;
		}
		/* a base read from the repository, now in the pack whole too (the same bytes: the same id) */
		r->v[k].at = at;
		r->v[k].end = end;
		r->arena.len = start;
		return k;
	}
	o->at = at;
	o->end = end;
	o->off = start;
	o->len = len;
	o->type = (uint8_t)type;
	o->delta = (uint8_t)delta;
	k = s_resolve_slot(r, &o->id);
	while (r->set[k])
		k = (k + 1) & (r->setcap - 1);
	r->set[k] = (uint32_t)r->n + 1;
	return r->n++;
}

static void
s_resolve_free(s_resolve *r)
{
	free(r->v);
	free(r->set);
	free(r->entries);
	if (r->fd >= 0) {
		if (r->arena.cap)
			munmap(r->arena.ptr, r->arena.cap);
		close(r->fd);
		r->arena = (kr_buf)KR_BUF_INIT;
	}
	kr_buf_release(&r->arena);
	free(r->dir);
	memset(r, 0, sizeof(*r));
	r->fd = -1;
}

/*
 * An entry header in h (n bytes): 1 with its type, size and where its
 * base (a delta's id or offset) begins, 0 when more is needed, -1 when bad.
 */
static int
s_scan_entry(const uint8_t *h, size_t n, int *type, uint64_t *size, size_t *base)
{
	size_t i = 0;
	int shift = 4;

	*type = (h[0] >> 4) & 7;
	*size = h[0] & 15;
	while (h[i] & 0x80) {
		if (++i == n)
			return 0;
		if (shift > 60 || (shift == 60 && (h[i] & 0x70)))
			return -1; /* more than 64 bits */
		*size |= (uint64_t)(h[i] & 0x7f) << shift;
		shift += 7;
	}
	*base = ++i;
	if (*type == GIT_OBJECT_REF_DELTA)
		return n - i >= 20 ? 1 : 0;
	if (*type == GIT_OBJECT_OFS_DELTA) {
		for (int k = 0; i < n; i++, k++)
			if (k == 9)
				return -1;
			else if (!(h[i] & 0x80))
				return 1;
		return 0;
	}
	return *type == 0 || *type == 5 ? -1 : 1;
}

/* A delta's base and object sizes, git's varints at its start (n bytes): the bytes they take, or -1. */
static long
s_delta_sizes(const uint8_t *d, size_t n, uint64_t sz[2])
{
	size_t i = 0;

	for (int k = 0; k < 2; k++) {
		sz[k] = 0;
		for (int sh = 0;; sh += 7) {
			if (i == n || sh > 56)
				return -1;
			sz[k] |= (uint64_t)(d[i] & 0x7f) << sh;
			if (!(d[i++] & 0x80))
				break;
		}
	}
	return (long)i;
}

/* The entry sc is at claims (made: an object of, else: to inflate to) claim bytes, past sc->cap. */
static int
s_scan_over(s_scan *sc, uint64_t claim, int made)
{
	if (made)
		return kr_error(KR_EVERIFY, "pack entry %u of %u (at byte %llu) makes an object of %llu bytes: with "
		    "the entries before it, more than the %llu bytes the signed manifest (or the local cap) allows",
		    sc->seen + 1, sc->count, (unsigned long long)sc->entry_at, (unsigned long long)claim,
		    (unsigned long long)sc->cap);
	return kr_error(KR_EVERIFY, "pack entry %u of %u (at byte %llu) inflates to %llu bytes: with the entries "
	    "before it, more than the %llu bytes the signed manifest (or the local cap) allows", sc->seen + 1,
	    sc->count, (unsigned long long)sc->entry_at, (unsigned long long)claim, (unsigned long long)sc->cap);
}

static int s_patch_delta(kr_buf *out, const uint8_t *base, size_t blen, const uint8_t *d, size_t dlen, size_t max);

/*
 * The entry that just ended (its data inflated at sc->r.start, the end of
 * the arena; a delta's object made is made bytes), resolved and added to
 * sc->r; 0 or an error.
 */
static int
s_resolve_entry(s_scan *sc, uint64_t made)
{
	s_resolve *r = &sc->r;
	size_t i, b = SIZE_MAX, dlen = (size_t)sc->size;

	if (sc->type < GIT_OBJECT_OFS_DELTA) {
		i = s_resolve_add(r, sc->type, NULL, r->start, dlen, sc->entry_at, sc->at, 0);
	} else {
		if (sc->type == GIT_OBJECT_OFS_DELTA) {
			size_t lo = 0, hi = r->nentries;
			while (lo < hi) {
				size_t mid = (lo + hi) / 2;
				if (r->v[r->entries[mid]].at < r->base_at)
					lo = mid + 1;
				else
					hi = mid;
			}
			if (lo < r->nentries && r->v[r->entries[lo]].at == r->base_at)
				b = r->entries[lo];
		} else if ((b = s_resolve_find(r, &r->base)) == SIZE_MAX) {
			git_odb_object *o = NULL;
			if (git_odb_exists_ext(r->odb, &r->base, GIT_ODB_LOOKUP_NO_REFRESH) &&
			    git_odb_read(&o, r->odb, &r->base) == 0) {
				/* kept after the delta's data: the delta moves up over it below */
				b = s_resolve_add(r, git_odb_object_type(o), git_odb_object_data(o), 0, git_odb_object_size(o),
				    0, 0, 0);
				git_odb_object_free(o);
				if (b == SIZE_MAX)
					return KR_EIO;
				if (b == SIZE_MAX - 1)
					b = SIZE_MAX; /* (cannot be: it was not there) */
			}
			git_error_clear();
		}
		if (b == SIZE_MAX)
			return kr_error(KR_EPROTO, "pack entry %u of %u (at byte %llu) is a delta whose base is neither "
			    "before it in the pack nor in the repository", sc->seen + 1, sc->count,
			    (unsigned long long)sc->entry_at);
		r->work += r->v[b].len + dlen + made;
		if (r->work > r->work_max)
			return kr_error(KR_EVERIFY, "pack entry %u of %u (at byte %llu): its deltas and their bases "
			    "come to more than %llu bytes of work, four times what the signed manifest (or the "
			    "local cap) allows", sc->seen + 1, sc->count, (unsigned long long)sc->entry_at,
			    (unsigned long long)r->work_max);
		if (s_arena_reserve(r, made + 1) < 0)
			return KR_EIO;
		{
			size_t at = r->arena.len, olen;
			const uint8_t *base = (const uint8_t *)r->arena.ptr + r->v[b].off;
			if (s_patch_delta(&r->arena, base, r->v[b].len, (const uint8_t *)r->arena.ptr + r->start, dlen,
			    (size_t)made) < 0)
				return kr_error(KR_EPROTO, "pack entry %u of %u (at byte %llu) is a delta that does not fit "
				    "its base", sc->seen + 1, sc->count, (unsigned long long)sc->entry_at);
			/* the object over the delta's data (and a base read for it, which stays in v: it moves too) */
			olen = r->arena.len - at;
			if (b + 1 == r->n && r->v[b].at == 0 && r->v[b].off >= r->start) {
				/* the base read for this delta sits between: keep it, put the object after it */
				memmove(r->arena.ptr + r->start, r->arena.ptr + r->v[b].off, r->v[b].len);
				r->v[b].off = r->start;
				r->start += r->v[b].len;
			}
			memmove(r->arena.ptr + r->start, r->arena.ptr + at, olen);
			r->arena.len = r->start + olen;
		}
		r->deltas++;
		i = s_resolve_add(r, r->v[b].type, NULL, r->start, r->arena.len - r->start, sc->entry_at, sc->at, 1);
	}
	if (i == SIZE_MAX - 1) {
		char hex[GIT_OID_HEXSZ + 1];
		return kr_error(KR_EPROTO, "pack entry %u of %u (at byte %llu) is object %s again", sc->seen + 1,
		    sc->count, (unsigned long long)sc->entry_at, s_oid_str(&r->v[r->dup].id, hex));
	}
	if (r->nentries == r->capentries) {
		r->capentries = r->capentries ? 2 * r->capentries : 64;
		r->entries = kr_realloc(r->entries, r->capentries * sizeof(*r->entries));
	}
	r->entries[r->nentries++] = (uint32_t)i;
	return 0;
}

/* Reads the next len bytes of the pack; 0, or an error saying which entry and why. */
static int
s_scan_feed(s_scan *sc, const uint8_t *p, size_t len)
{
	while (len > 0) {
		long used;
		uint64_t made;
		size_t i;
		int ended, r;

		switch (sc->state) {
		case SCAN_HEADER:
			sc->hdr[sc->hlen++] = *p++;
			len--;
			sc->at++;
			if (sc->hlen < 12)
				break;
			sc->count = s_be32(sc->hdr + 8);
			if (memcmp(sc->hdr, "PACK", 4) != 0 || (s_be32(sc->hdr + 4) != 2 && s_be32(sc->hdr + 4) != 3))
				return kr_error(KR_EPROTO, "not a pack: no PACK header of version 2 or 3");
			/* an entry is at least 9 bytes (its header and an empty zlib stream) */
			if (sc->count > sc->cap / 9)
				return kr_error(KR_EVERIFY, "the pack says it holds %u objects: more than the %llu bytes "
				    "the signed manifest (or the local cap) allows can hold", sc->count,
				    (unsigned long long)sc->cap);
			sc->hlen = 0;
			sc->state = sc->count ? SCAN_ENTRY : SCAN_TRAILER;
			break;
		case SCAN_ENTRY:
			if (sc->hlen == 0)
				sc->entry_at = sc->at;
			sc->hdr[sc->hlen++] = *p++;
			len--;
			sc->at++;
			if ((r = s_scan_entry(sc->hdr, sc->hlen, &sc->type, &sc->size, &i)) < 0 || (r == 0 &&
			    sc->hlen == sizeof(sc->hdr)))
				return kr_error(KR_EPROTO, "pack entry %u of %u (at byte %llu): its header does not parse",
				    sc->seen + 1, sc->count, (unsigned long long)sc->entry_at);
			if (r == 0)
				break;
			if (sc->size > sc->cap - sc->inflated)
				return s_scan_over(sc, sc->size, 0);
			sc->inflated += sc->size;
			if (sc->type < GIT_OBJECT_OFS_DELTA) {
				if (sc->size > sc->cap - sc->made)
					return s_scan_over(sc, sc->size, 1);
				sc->made += sc->size;
			}
			if ((r = s_arena_reserve(&sc->r, sc->size + 1)) < 0)
				return r;
			sc->r.start = sc->r.arena.len;
			if (sc->type == GIT_OBJECT_REF_DELTA) {
				git_oid_fromraw(&sc->r.base, sc->hdr + i);
			} else if (sc->type == GIT_OBJECT_OFS_DELTA) {
				uint64_t ofs = sc->hdr[i] & 0x7f;
				while (sc->hdr[i++] & 0x80)
					ofs = ((ofs + 1) << 7) | (sc->hdr[i] & 0x7f);
				if (ofs == 0 || ofs > sc->entry_at - 12)
					return kr_error(KR_EPROTO, "pack entry %u of %u (at byte %llu) is a delta whose base "
					    "would be outside the pack", sc->seen + 1, sc->count,
					    (unsigned long long)sc->entry_at);
				sc->r.base_at = sc->entry_at - ofs;
			}
			sc->hlen = 0;
			sc->state = SCAN_DATA;
			break;
		case SCAN_DATA:
			if ((used = kr_inflater_feed(&sc->z, p, len, sc->size, &sc->r.arena, &ended)) < 0)
				return kr_error(KR_EPROTO, "pack entry %u of %u (at byte %llu) is damaged, or inflates to "
				    "more than the %llu bytes it says", sc->seen + 1, sc->count,
				    (unsigned long long)sc->entry_at, (unsigned long long)sc->size);
			p += used;
			len -= (size_t)used;
			sc->at += (uint64_t)used;
			if (!ended)
				break;
			if (sc->z.out != sc->size)
				return kr_error(KR_EPROTO, "pack entry %u of %u (at byte %llu) inflates to %llu bytes, "
				    "not the %llu it says", sc->seen + 1, sc->count, (unsigned long long)sc->entry_at,
				    (unsigned long long)sc->z.out, (unsigned long long)sc->size);
			made = 0;
			if (sc->type >= GIT_OBJECT_OFS_DELTA) {
				uint64_t dsz[2];
				if (s_delta_sizes(sc->z.head, sc->size < sizeof(sc->z.head) ? (size_t)sc->size :
				    sizeof(sc->z.head), dsz) < 0)
					return kr_error(KR_EPROTO, "pack entry %u of %u (at byte %llu) is a delta without "
					    "its sizes", sc->seen + 1, sc->count, (unsigned long long)sc->entry_at);
				if ((made = dsz[1]) > sc->cap - sc->made)
					return s_scan_over(sc, made, 1);
				sc->made += made;
			}
			if ((r = s_resolve_entry(sc, made)) < 0)
				return r;
			sc->state = ++sc->seen == sc->count ? SCAN_TRAILER : SCAN_ENTRY;
			break;
		case SCAN_TRAILER:
			used = (long)(20 - sc->hlen < len ? 20 - sc->hlen : len);
			sc->hlen += (size_t)used;
			p += used;
			len -= (size_t)used;
			sc->at += (uint64_t)used;
			if (sc->hlen == 20)
				sc->state = SCAN_DONE;
			break;
		case SCAN_DONE:
			return kr_error(KR_EPROTO, "the pack goes on after its end (byte %llu)", (unsigned long long)sc->at);
		}
	}
	return 0;
}

/*
 * A large pack's scan runs beside the indexer, on the other core: libgit2
 * only streams and hashes while it takes the pack in (what it claims is
 * allocated when it commits), so the two read the same bytes at once and
 * kr_packin_commit waits for the scan's verdict. Inline, the scan added a
 * tenth to a first sync of 10,000 files. The pieces wait in one buffer,
 * which takes a piece while it holds less than SCAN_QUEUE_MAX bytes. What
 * the indexer may take in after the scan has refused a pack, before the
 * intake hears of it (and stops), is that much pack plus a piece or two
 * (up to about 2.5 MiB with 256 KiB pieces; deflate makes at most 1032
 * times as much to hash).
 */
#define SCAN_QUEUE_MAX (1u << 20)

typedef struct {
	pthread_t th;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	kr_buf queue;            /* bytes for the scan, in order */
	int closed;              /* nothing more comes (or stop: the intake is given up) */
	int rc;                  /* the scan's verdict, once it failed */
	char *msg;               /* and its message (kr_error is per thread) */
	s_scan *sc;
} s_scanner;

static void *
s_scanner_run(void *arg)
{
	s_scanner *t = arg;
	kr_buf work = KR_BUF_INIT;

	pthread_mutex_lock(&t->mu);
	for (;;) {
		kr_buf tmp;
		int rc;
		while (!t->queue.len && !t->closed)
			pthread_cond_wait(&t->cv, &t->mu);
		if (!t->queue.len)
			break;
		tmp = work;
		work = t->queue;
		t->queue = tmp;
		kr_buf_clear(&t->queue);
		pthread_cond_broadcast(&t->cv); /* room again */
		pthread_mutex_unlock(&t->mu);
		rc = s_scan_feed(t->sc, (const uint8_t *)work.ptr, work.len);
		pthread_mutex_lock(&t->mu);
		if (rc < 0) {
			t->rc = rc;
			t->msg = kr_strdup(kr_errmsg());
			kr_error_clear();
			t->closed = 1;
			kr_buf_release(&t->queue);
			pthread_cond_broadcast(&t->cv);
			break;
		}
	}
	pthread_mutex_unlock(&t->mu);
	kr_buf_release(&work);
	return NULL;
}

/* Starts a scan of what comes next on its own thread; NULL when no thread could be made (scan inline). */
static s_scanner *
s_scanner_start(s_scan *sc)
{
	s_scanner *t = kr_calloc(1, sizeof(*t));

	sigset_t all, old;
	int rc;

	t->sc = sc;
	t->queue = (kr_buf)KR_BUF_INIT;
	pthread_mutex_init(&t->mu, NULL);
	pthread_cond_init(&t->cv, NULL);
	/* signals are the caller's (node/serve.c): this thread takes none */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	rc = pthread_create(&t->th, NULL, s_scanner_run, t);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		pthread_cond_destroy(&t->cv);
		pthread_mutex_destroy(&t->mu);
		free(t);
		return NULL;
	}
	return t;
}

/* The scan's error, raised on this thread (0 while it has found none). */
static int
s_scanner_verdict(s_scanner *t)
{
	return t->rc < 0 ? kr_error(t->rc, "%s", t->msg) : 0;
}

/* Queues len bytes for the scan (waiting while the queue is full); 0, or the scan's error. */
static int
s_scanner_feed(s_scanner *t, const void *data, size_t len)
{
	int rc;

	pthread_mutex_lock(&t->mu);
	while (t->queue.len >= SCAN_QUEUE_MAX && !t->closed)
		pthread_cond_wait(&t->cv, &t->mu);
	if (!t->closed) {
		kr_buf_add(&t->queue, data, len);
		pthread_cond_broadcast(&t->cv);
	}
	rc = s_scanner_verdict(t);
	pthread_mutex_unlock(&t->mu);
	return rc;
}

/* Ends the scan and frees t; its verdict (stop: without reading what is queued, and no verdict). NULL-safe. */
static int
s_scanner_end(s_scanner **tp, int stop)
{
	s_scanner *t = *tp;
	int rc;

	if (!t)
		return 0;
	pthread_mutex_lock(&t->mu);
	t->closed = 1;
	if (stop)
		kr_buf_clear(&t->queue);
	pthread_cond_broadcast(&t->cv);
	pthread_mutex_unlock(&t->mu);
	pthread_join(t->th, NULL);
	rc = stop ? 0 : s_scanner_verdict(t);
	kr_buf_release(&t->queue);
	free(t->msg);
	pthread_cond_destroy(&t->cv);
	pthread_mutex_destroy(&t->mu);
	free(t);
	*tp = NULL;
	return rc;
}

struct kr_packin {
	kr_store *s;
	git_repository *repo;
	struct timespec mtime;   /* objects/pack's when the intake began (s_repo_wrote) */
	git_odb *odb;
	git_indexer *idx;
	git_indexer_progress stats;
	char **before;           /* pack names present when the intake began */
	size_t nbefore;
	char name[64];           /* "pack-<hex>" once committed and new, else "" */
	kr_buf held;             /* a small pack, held until the commit (s_resolve_pack) */
	int streaming;           /* more than HELD_PACK_MAX: straight to the indexer */
	s_scan scan;             /* what it claims, read before the indexer sees it */
	s_scanner *scanner;      /* streaming: the scan, on its own thread */
	void (*progress)(void *arg, uint64_t objects, uint64_t total, uint64_t bytes);
	void *progress_arg;
	uint64_t appended;       /* bytes given to the indexer */
};

/*
 * A pack of at most HELD_PACK_MAX bytes is held until it is whole, and
 * what the indexer gets is its objects whole (s_resolve_pack): each delta
 * resolved here as the pack was read (s_resolve_entry), the object
 * deflated at level 1, no base copied. The indexer then resolves nothing.
 * A thin pack's bases the repository has already; libgit2's indexer would
 * append each, deflated at zlib's default level (with a collection of
 * 3,000 items, its 135 KB tree took 6 of the 6.5 ms a town spent taking
 * each update's pack). A larger pack streams to the indexer as it comes,
 * and is resolved beside it only to be checked. (`make fuzz` builds with
 * KR_HELD_PACK_MAX far lower, so that its inputs, at most 64 KiB, take
 * both ways.)
 */
#ifdef KR_HELD_PACK_MAX
#define HELD_PACK_MAX KR_HELD_PACK_MAX
#else
#define HELD_PACK_MAX (256 * 1024)
#endif

/*
 * git's patch-delta: base and the delta d give the object, appended to
 * out; -1 if d does not fit base or its object would be over max bytes.
 */
static int
s_patch_delta(kr_buf *out, const uint8_t *base, size_t blen, const uint8_t *d, size_t dlen, size_t max)
{
	const uint8_t *end = d + dlen;
	uint64_t sz[2];
	size_t start = out->len, made = 0;
	long used = s_delta_sizes(d, dlen, sz);

	if (used < 0)
		return -1;
	d += used;
	if (sz[0] != blen || sz[1] > max)
		return -1;
	kr_buf_grow(out, (size_t)sz[1] + 1);
	while (d < end) {
		uint8_t op = *d++;
		size_t off = 0, n = 0;
		if (op & 0x80) {
			for (int i = 0; i < 4; i++)
				if (op & (1 << i)) {
					if (d == end)
						return -1;
					off |= (size_t)*d++ << (8 * i);
				}
			for (int i = 0; i < 3; i++)
				if (op & (0x10 << i)) {
					if (d == end)
						return -1;
					n |= (size_t)*d++ << (8 * i);
				}
			if (n == 0)
				n = 0x10000;
			if (off > blen || n > blen - off || n > sz[1] - made)
				return -1;
			memcpy(out->ptr + out->len, base + off, n);
		} else if (op) {
			n = op;
			if (n > (size_t)(end - d) || n > sz[1] - made)
				return -1;
			memcpy(out->ptr + out->len, d, n);
			d += n;
		} else {
			return -1; /* reserved */
		}
		out->len += n;
		made += n;
	}
	if (made != sz[1]) {
		out->len = start;
		return -1;
	}
	return 0;
}

/*
 * The held pack p (n bytes), read whole by sc, with its deltas resolved:
 * 1 with that pack in out, 0 when it had no delta (it goes as it came).
 */
static int
s_resolve_pack(const s_scan *sc, kr_deflater *zip, const uint8_t *p, size_t n, kr_buf *out)
{
	const s_resolve *r = &sc->r;
	uint8_t sum[20];
	kr_sha1 *h;

	if (!r->deltas)
		return 0; /* (the indexer checks its trailer) */
	h = kr_sha1_new();
	kr_sha1_update(h, p, n - 20);
	kr_sha1_final(&h, sum);
	if (memcmp(sum, p + n - 20, 20) != 0)
		return kr_error(KR_EPROTO, "the pack's checksum does not match its bytes");
	s_pack_header(out, (uint32_t)r->nentries);
	for (size_t k = 0; k < r->nentries; k++) {
		const s_obj *o = &r->v[r->entries[k]];
		if (!o->delta) {
			kr_buf_add(out, p + o->at, (size_t)(o->end - o->at));
			continue;
		}
		s_entry_header(out, o->type, o->len);
		if (kr_deflater_add(zip, out, r->arena.ptr + o->off, o->len, KR_ZIP_FASTEST) < 0) {
			out->len = 0;
			return kr_error_prefix(KR_ERROR, "resolving a pack");
		}
	}
	s_pack_trailer(out, 0);
	return 1;
}

int
kr_packin_new(kr_packin **out, kr_store *s, const char *pub, const char *coll, uint64_t cap)
{
	git_repository *repo;
	git_indexer_options opts;
	kr_packin *in;
	char *dir;
	int rc;

	if ((rc = s_repo_get(s, pub, coll, 1, &repo)) < 0)
		return rc;
	in = kr_calloc(1, sizeof(*in));
	in->s = s;
	in->repo = repo;
	in->scan.cap = cap;
	in->scan.r.fd = -1;
	in->scan.r.work_max = cap > (UINT64_MAX - (16u << 20)) / 4 ? UINT64_MAX : 4 * cap + (16u << 20);
	dir = kr_sprintf("%s/objects/pack", git_repository_path(repo));
	s_pack_mtime(dir, &in->mtime);
	s_pack_names(dir, &in->before, &in->nbefore);
	git_indexer_options_init(&opts, GIT_INDEXER_OPTIONS_VERSION);
	if (git_repository_odb(&in->odb, repo) < 0 || git_indexer_new(&in->idx, dir, 0, in->odb, &opts) < 0) {
		rc = s_git_error(KR_EIO, "opening pack writer");
		kr_packin_destroy(&in);
	} else {
		in->scan.r.odb = in->odb;
		in->scan.r.dir = kr_strdup(dir);
	}
	free(dir);
	if (rc == 0)
		*out = in;
	return rc;
}

int
kr_packin_append(kr_packin *in, const void *data, size_t len)
{
	int rc;

	if (!in->streaming && len <= HELD_PACK_MAX - in->held.len) {
		if ((rc = s_scan_feed(&in->scan, data, len)) < 0)
			return rc;
		kr_buf_add(&in->held, data, len); /* small so far: held for s_resolve_pack */
		return 0;
	}
	if (in->scanner)
		rc = s_scanner_feed(in->scanner, data, len);
	else if (in->streaming || !(in->scanner = s_scanner_start(&in->scan)))
		rc = s_scan_feed(&in->scan, data, len);
	else
		rc = s_scanner_feed(in->scanner, data, len);
	if (rc < 0)
		return rc;
	if (!in->streaming) {
		in->streaming = 1;
		if (in->held.len && git_indexer_append(in->idx, in->held.ptr, in->held.len, &in->stats) < 0) {
			kr_buf_release(&in->held);
			return s_git_error(KR_EPROTO, "pack data rejected");
		}
		in->appended = in->held.len;
		kr_buf_release(&in->held);
	}
	if (git_indexer_append(in->idx, data, len, &in->stats) < 0)
		return s_git_error(KR_EPROTO, "pack data rejected");
	in->appended += len;
	if (in->progress)
		in->progress(in->progress_arg, in->stats.received_objects, in->stats.total_objects, in->appended);
	return 0;
}

void
kr_packin_on_progress(kr_packin *in, void (*cb)(void *arg, uint64_t objects, uint64_t total, uint64_t bytes),
    void *arg)
{
	in->progress = cb;
	in->progress_arg = arg;
}

int
kr_packin_commit(kr_packin *in)
{
	char name[64];
	int fresh = 1, rc;

	if ((rc = s_scanner_end(&in->scanner, 0)) < 0)
		return rc;
	if (in->streaming)
		s_resolve_free(&in->scan.r); /* checked: the indexer resolves it */
	if (in->scan.state != SCAN_DONE)
		return kr_error(KR_EPROTO, "the pack is cut short (at byte %llu, %u of its %u entries read)",
		    (unsigned long long)in->scan.at, in->scan.seen, in->scan.count);
	if (!in->streaming && in->held.len) {
		kr_buf fixed = KR_BUF_INIT;
		const kr_buf *use = &in->held;
		if ((rc = s_resolve_pack(&in->scan, &in->s->zip, (const uint8_t *)in->held.ptr, in->held.len,
		    &fixed)) < 0) {
			kr_buf_release(&fixed);
			return rc;
		}
		if (rc)
			use = &fixed;
		rc = git_indexer_append(in->idx, use->ptr, use->len, &in->stats);
		kr_buf_release(&fixed);
		kr_buf_release(&in->held);
		s_resolve_free(&in->scan.r);
		in->streaming = 1;
		if (rc < 0)
			return s_git_error(KR_EPROTO, "pack data rejected");
	}
	if (git_indexer_commit(in->idx, &in->stats) < 0)
		return s_git_error(KR_EPROTO, "pack is incomplete or corrupt");
	snprintf(name, sizeof(name), "pack-%s", git_indexer_name(in->idx));
	for (size_t i = 0; i < in->nbefore && fresh; i++)
		fresh = strcmp(in->before[i], name) != 0;
	if (fresh)
		snprintf(in->name, sizeof(in->name), "%s", name);
	git_odb_refresh(in->odb); /* let readers of this repo see the new pack */
	s_repo_wrote(s_repo_of(in->s, in->repo), &in->mtime, in->before, in->nbefore);
	return 0;
}

const char *
kr_packin_written(const kr_packin *in)
{
	return in->name[0] ? in->name : NULL;
}

void
kr_packin_destroy(kr_packin **inp)
{
	kr_packin *in;

	if (!inp || !*inp)
		return;
	in = *inp;
	s_scanner_end(&in->scanner, 1);
	git_indexer_free(in->idx);
	git_odb_free(in->odb);
	kr_strv_free(in->before, in->nbefore);
	kr_buf_release(&in->held);
	kr_inflater_end(&in->scan.z);
	s_resolve_free(&in->scan.r);
	free(in);
	*inp = NULL;
}

/* Removes files in dir whose name has prefix/suffix and are older than age seconds. */
static void
s_tidy_dir(const char *dir, const char *prefix, const char *suffix, int age)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	time_t now = time(NULL);

	while (d && (e = readdir(d))) {
		size_t l = strlen(e->d_name), sl = strlen(suffix);
		struct stat st;
		char *p;
		if (strncmp(e->d_name, prefix, strlen(prefix)) != 0 || l < sl || strcmp(e->d_name + l - sl, suffix) != 0)
			continue;
		p = kr_sprintf("%s/%s", dir, e->d_name);
		if (stat(p, &st) == 0 && now - st.st_mtime >= age)
			unlink(p);
		free(p);
	}
	if (d)
		closedir(d);
}

#define MAX_PACKS 16
#define MAX_LOOSE 256

/* Names (without extension) of the packs in dir. */
static void
s_pack_names(const char *dir, char ***names, size_t *n)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	size_t cap = 0;

	*names = NULL;
	*n = 0;
	while (d && (e = readdir(d))) {
		size_t l = strlen(e->d_name);
		if (l <= 5 || strcmp(e->d_name + l - 5, ".pack") != 0 || strncmp(e->d_name, "pack-", 5) != 0)
			continue;
		if (*n == cap) {
			cap = cap ? cap * 2 : 16;
			*names = kr_realloc(*names, cap * sizeof(char *));
		}
		(*names)[(*n)++] = kr_strndup(e->d_name, l - 5);
	}
	if (d)
		closedir(d);
}

/*
 * Calls fn with each file in objects/00 .. objects/ff of repo (dir: that
 * directory, name: the file's name) until fn returns nonzero.
 */
static void
s_loose_each(const char *repo, int (*fn)(const char *dir, const char *name, void *arg), void *arg)
{
	int stop = 0;

	for (int i = 0; i < 256 && !stop; i++) {
		char *sub = kr_sprintf("%s/objects/%02x", repo, i);
		DIR *d = opendir(sub);
		struct dirent *e;
		while (!stop && d && (e = readdir(d)))
			if (e->d_name[0] != '.')
				stop = fn(sub, e->d_name, arg);
		if (d)
			closedir(d);
		free(sub);
	}
}

struct s_loose_count {
	size_t n, stop;
};

static int
s_loose_count1(const char *dir, const char *name, void *arg)
{
	struct s_loose_count *c = arg;

	(void)dir;
	(void)name;
	return ++c->n >= c->stop;
}

static size_t
s_count_loose(const char *repo, size_t stop)
{
	struct s_loose_count c = { 0, stop };

	s_loose_each(repo, s_loose_count1, &c);
	return c.n;
}

struct s_loose_packed {
	const git_oid *ids;      /* sorted: a pack index's */
	size_t n;
};

/* Deletes a loose object the pack holds. */
static int
s_loose_drop1(const char *dir, const char *name, void *arg)
{
	const struct s_loose_packed *pk = arg;
	char hex[GIT_OID_HEXSZ + 1];
	git_oid id;
	size_t dl = strlen(dir);

	if (dl < 2 || strlen(name) != GIT_OID_HEXSZ - 2)
		return 0;
	snprintf(hex, sizeof(hex), "%s%s", dir + dl - 2, name);
	if (git_oid_fromstrn(&id, hex, GIT_OID_HEXSZ) == 0 && s_idx_has(pk->ids, pk->n, &id)) {
		char *p = kr_sprintf("%s/%s", dir, name);
		unlink(p);
		free(p);
	}
	git_error_clear();
	return 0;
}

/*
 * Consolidation keeps layers, as git repack --geometric does: packs this
 * function wrote, oldest first, each holding what one range of the
 * history added ((top of the layer below, top]), listed in the repo's
 * kairan-layers file ("<pack name> <top commit>" per line). Everything
 * else in objects/pack (packs a fetch or a publish wrote) is newer. A
 * consolidation packs the newest range, (top of the layer it keeps, head],
 * into one new layer; it takes in each layer from the top down while that
 * layer holds fewer than twice the objects taken so far. Each object is
 * thus packed again about log2(history) times in all, where packing the
 * whole history every MAX_PACKS applies grew with the history: at 2,000
 * commits half a second and tens of MB each time.
 */
#define LAYERS_FILE "kairan-layers"
#define MAX_LAYERS 64

typedef struct {
	char name[64];           /* "pack-<hex>" */
	git_oid top;
	uint32_t count;          /* objects, from its index */
} s_layer;

/* The object count of a version-2 pack index (0 if it cannot be read). */
static uint32_t
s_idx_count(const char *dir, const char *name)
{
	char *path = kr_sprintf("%s/%s.idx", dir, name);
	uint8_t h[8 + 256 * 4];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	uint32_t n = 0;

	if (fd >= 0 && pread(fd, h, sizeof(h), 0) == (ssize_t)sizeof(h) && memcmp(h, "\377tOc", 4) == 0 &&
	    s_be32(h + 4) == 2)
		n = s_be32(h + 8 + 255 * 4);
	if (fd >= 0)
		close(fd);
	free(path);
	return n;
}

/*
 * The layers listed in repo's file, each a pack in names. Anything else
 * (no file, a line that does not parse, a pack that is gone) gives none:
 * the next consolidation is then of the whole history, as before layers.
 * With counts, each layer's object count too (from its index; one with
 * none is not a layer either): only a consolidation needs them, and every
 * apply asks whether to consolidate.
 */
static size_t
s_layers_read(const char *repo, const char *dir, char **names, size_t nnames, s_layer *v, int counts)
{
	char *path = kr_sprintf("%s/" LAYERS_FILE, repo);
	kr_buf b = KR_BUF_INIT;
	size_t n = 0;
	char *line, *save = NULL;

	if (kr_file_read(&b, path) < 0) {
		kr_error_clear();
		goto out;
	}
	for (line = strtok_r(b.ptr, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *sp = strchr(line, ' ');
		if (n == MAX_LAYERS || !sp || (size_t)(sp - line) >= sizeof(v[n].name) || strlen(sp + 1) != GIT_OID_HEXSZ ||
		    git_oid_fromstrn(&v[n].top, sp + 1, GIT_OID_HEXSZ) < 0) {
			n = 0;
			break;
		}
		memcpy(v[n].name, line, (size_t)(sp - line));
		v[n].name[sp - line] = '\0';
		for (size_t k = 0; k < n && sp; k++)
			if (strcmp(v[k].name, v[n].name) == 0)
				sp = NULL; /* listed twice: not a list this function wrote */
		if (!sp || !kr_strv_has(names, nnames, v[n].name) ||
		    (counts && !(v[n].count = s_idx_count(dir, v[n].name)))) {
			n = 0;
			break;
		}
		n++;
	}
out:
	git_error_clear();
	kr_buf_release(&b);
	free(path);
	return n;
}

static int
s_layers_write(const char *repo, const s_layer *v, size_t n)
{
	char *path = kr_sprintf("%s/" LAYERS_FILE, repo);
	kr_buf b = KR_BUF_INIT;
	int rc;

	for (size_t i = 0; i < n; i++) {
		char hex[GIT_OID_HEXSZ + 1];
		kr_buf_addf(&b, "%s %s\n", v[i].name, s_oid_str(&v[i].top, hex));
	}
	rc = kr_file_write(path, b.ptr ? b.ptr : "", b.len, 0644);
	kr_buf_release(&b);
	free(path);
	return rc;
}

/* Whether id is in the new pack's ids or in one of the kept layers' (read on first need). */
static int
s_held(const git_oid *id, const git_oid *all, size_t nall, const char *dir, const s_layer *kept, size_t nkept,
    git_oid **ids, size_t *nids, int *loaded)
{
	if (s_idx_has(all, nall, id))
		return 1;
	for (size_t i = 0; i < nkept; i++) {
		if (!loaded[i]) {
			char *p = kr_sprintf("%s/%s.idx", dir, kept[i].name);
			loaded[i] = 1;
			if (s_idx_read(p, &ids[i], &nids[i]) < 0)
				kr_error_clear(); /* unreadable: holds nothing, so nothing is deleted for it */
			free(p);
		}
		if (s_idx_has(ids[i], nids[i], id))
			return 1;
	}
	return 0;
}

int
kr_store_maintain(kr_store *s, const char *pub, const char *coll, int count_loose, int *done)
{
	char *repo = kr_store_path(s, pub, coll);
	char *dir = kr_sprintf("%s/objects/pack", repo);
	char **old = NULL;
	size_t nold = 0, nlay, keep;
	s_layer lay[MAX_LAYERS + 1];
	git_repository *r;
	git_oid head, *kids[MAX_LAYERS] = { 0 };
	size_t nkids[MAX_LAYERS] = { 0 };
	int loaded[MAX_LAYERS] = { 0 };
	uint64_t taken = 0;
	kr_buf pack = KR_BUF_INIT;
	git_oid *all = NULL;
	size_t nall = 0;
	char name[64] = "";
	int rc = 0, lockfd = -1, whole;

	*done = 0;
	s_pack_names(dir, &old, &nold);
	nlay = s_layers_read(repo, dir, old, nold, lay, 0);
	whole = count_loose && s_count_loose(repo, MAX_LOOSE + 1) > MAX_LOOSE;
	if (nold - nlay <= MAX_PACKS && !whole)
		goto out;
	/*
	 * One consolidation of a repository at a time (threads of a node, a
	 * kairan publish beside it): two would each delete what the other's
	 * new pack holds. The one that finds it taken leaves it to the other.
	 */
	if ((lockfd = open(repo, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 || flock(lockfd, LOCK_EX | LOCK_NB) < 0)
		goto out;
	kr_strv_free(old, nold);
	s_pack_names(dir, &old, &nold); /* again, under the lock: the other may just have finished */
	nlay = s_layers_read(repo, dir, old, nold, lay, 1);
	if (nold - nlay <= MAX_PACKS && !whole)
		goto out;
	if ((rc = s_repo_get(s, pub, coll, 0, &r)) < 0)
		goto out;
	if (git_reference_name_to_id(&head, r, MAIN_REF) < 0) {
		git_error_clear();
		goto out;
	}
	for (size_t i = 0; i < nold; i++) {
		int layer = 0;
		for (size_t k = 0; k < nlay && !layer; k++)
			layer = strcmp(lay[k].name, old[i]) == 0;
		if (!layer)
			taken += s_idx_count(dir, old[i]);
	}
	keep = whole ? 0 : nlay;
	while (keep > 0 && lay[keep - 1].count < 2 * taken)
		taken += lay[--keep].count;
	/* the new layer starts at the top of the one below it, which head must descend from */
	if (keep > 0 && (git_oid_equal(&lay[keep - 1].top, &head) ||
	    git_graph_descendant_of(r, &head, &lay[keep - 1].top) != 1)) {
		git_error_clear();
		if (git_oid_equal(&lay[keep - 1].top, &head))
			goto out; /* nothing newer than the layers: what else is there is not reachable yet */
		keep = 0;
	}
	/* on disk before what it replaces is removed, whatever the process: a crash must not lose both */
	if ((rc = s_pack_build(s, pub, coll, &head, keep ? &lay[keep - 1].top : NULL, 0, &pack)) < 0 ||
	    (rc = s_write_pack(r, &pack, 1, name)) < 0)
		goto out;
	for (size_t k = 0; k < keep; k++)
		if (strcmp(lay[k].name, name) == 0)
			goto out; /* identical to a layer kept (cannot be: it holds a newer range) */
	memcpy(lay[keep].name, name, sizeof(name));
	lay[keep].top = head;
	/* listed before anything is deleted: a crash now leaves packs the next consolidation takes in */
	if ((rc = s_layers_write(repo, lay, keep + 1)) < 0)
		goto out;
	{
		char *p = kr_sprintf("%s/%s.idx", dir, name);
		rc = s_idx_read(p, &all, &nall);
		free(p);
		if (rc < 0)
			goto out;
	}
	for (size_t i = 0; i < nold; i++) {
		static const char *const ext[] = { ".pack", ".idx", ".rev", ".bitmap", ".keep" };
		git_oid *ids = NULL;
		size_t nids = 0;
		char *idx;
		int contained = strcmp(old[i], name) != 0;

		for (size_t k = 0; k < keep && contained; k++)
			contained = strcmp(lay[k].name, old[i]) != 0;
		if (!contained)
			continue; /* the new layer, or one kept */
		/*
		 * Only a pack whose every object is in the new one or a layer
		 * kept: a commit written meanwhile (by this process's serve loop
		 * or another process) is in a pack of its own, its ref not moved
		 * yet, and not reachable from the head read above. Deleting it
		 * lost that publish.
		 */
		idx = kr_sprintf("%s/%s.idx", dir, old[i]);
		contained = s_idx_read(idx, &ids, &nids) == 0;
		for (size_t k = 0; contained && k < nids; k++)
			contained = s_held(&ids[k], all, nall, dir, lay, keep, kids, nkids, loaded);
		free(idx);
		free(ids);
		if (!contained)
			continue;
		for (size_t k = 0; k < sizeof(ext) / sizeof(ext[0]); k++) {
			char *p = kr_sprintf("%s/%s%s", dir, old[i], ext[k]);
			unlink(p);
			free(p);
		}
	}
	/*
	 * Loose objects the new pack holds: a look in the 256 directories,
	 * not a second walk of the whole history (half the consolidation).
	 */
	{
		struct s_loose_packed pk = { all, nall };
		s_loose_each(repo, s_loose_drop1, &pk);
	}
	/*
	 * libgit2 only ever adds packs to an open odb (git_odb_refresh too):
	 * drop it now, so this process releases the packs just deleted. Other
	 * kr_store handles notice objects/pack changed (s_repo_refresh).
	 */
	git_repository__cleanup(r);
	*done = 1;
out:
	kr_error_clear();
	git_error_clear();
	if (lockfd >= 0)
		close(lockfd);
	for (size_t k = 0; k < MAX_LAYERS; k++)
		free(kids[k]);
	kr_buf_release(&pack);
	free(all);
	kr_strv_free(old, nold);
	free(dir);
	free(repo);
	return rc;
}

void
kr_store_tidy(kr_store *s, const char *pub, const char *coll)
{
	char *repo = kr_store_path(s, pub, coll);
	char *dir;

	/*
	 * A process killed mid-write leaves libgit2's temporary pack
	 * (pack_git2_*) and ref lock files behind. A live writer holds a
	 * ref lock for microseconds and appends to its pack continuously, so
	 * only files older than that are left-overs.
	 */
	dir = kr_sprintf("%s/objects/pack", repo);
	s_tidy_dir(dir, "pack_git2_", "", 30);
	free(dir);
	s_tidy_dir(repo, LAYERS_FILE ".tmp.", "", 30); /* kr_file_write's, of a process killed meanwhile */
	dir = kr_sprintf("%s/refs/heads", repo);
	s_tidy_dir(dir, "", ".lock", 2);
	free(dir);
	dir = kr_sprintf("%s/refs/kairan", repo);
	s_tidy_dir(dir, "", ".lock", 2);
	free(dir);
	s_tidy_dir(repo, "packed-refs", ".lock", 2);
	free(repo);
}

/* ---- objects on disk: what an intake wrote, and damage ------------------ */

/* A set of object ids (open addressing; an all-zero id marks a free slot). */
typedef struct {
	git_oid *v;
	size_t cap, n;
} s_oidset;

static size_t
s_oidset_slot(const s_oidset *set, const git_oid *id)
{
	return s_oid_hash(id) & (set->cap - 1);
}

/* Adds id; 1 if it was new, 0 if already there. */
static int
s_oidset_add(s_oidset *set, const git_oid *id)
{
	size_t i;

	if (set->n * 2 >= set->cap) {
		s_oidset bigger = { kr_calloc(set->cap ? set->cap * 2 : 1024, sizeof(git_oid)),
			set->cap ? set->cap * 2 : 1024, 0 };
		for (size_t k = 0; k < set->cap; k++)
			if (!git_oid_is_zero(&set->v[k]))
				s_oidset_add(&bigger, &set->v[k]);
		free(set->v);
		*set = bigger;
	}
	for (i = s_oidset_slot(set, id); !git_oid_is_zero(&set->v[i]); i = (i + 1) & (set->cap - 1))
		if (git_oid_equal(&set->v[i], id))
			return 0;
	set->v[i] = *id;
	set->n++;
	return 1;
}

static uint32_t
s_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* The object ids a version-2 pack index lists (sorted, as in the file). */
static int
s_idx_read(const char *path, git_oid **ids, size_t *n)
{
	kr_buf b = KR_BUF_INIT;
	const uint8_t *p;
	uint32_t count;
	int rc;

	*ids = NULL;
	*n = 0;
	if ((rc = kr_file_read(&b, path)) < 0)
		return rc;
	p = (const uint8_t *)b.ptr;
	if (b.len < 8 + 256 * 4 || memcmp(p, "\377tOc", 4) != 0 || s_be32(p + 4) != 2 ||
	    b.len < 8 + 256 * 4 + (size_t)(count = s_be32(p + 8 + 255 * 4)) * 20) {
		kr_buf_release(&b);
		return kr_error(KR_EIO, "%s: not a readable version-2 pack index", path);
	}
	*ids = kr_calloc(count ? count : 1, sizeof(git_oid));
	for (uint32_t i = 0; i < count; i++)
		git_oid_fromraw(&(*ids)[i], p + 8 + 256 * 4 + (size_t)i * 20);
	*n = count;
	kr_buf_release(&b);
	return 0;
}

static int
s_idx_has(const git_oid *ids, size_t n, const git_oid *id)
{
	return n && bsearch(id, ids, n, sizeof(*ids), s_cmp_oid) != NULL;
}

/* Drops the cached handle of a repo, so packs removed from it are unmapped and closed. */
static void
s_repo_forget(kr_store *s, const char *pub, const char *coll)
{
	char *path = kr_store_path(s, pub, coll);

	for (s_repo **pp = &s->repos; *pp; pp = &(*pp)->next)
		if (strcmp((*pp)->path, path) == 0) {
			s_repo *r = *pp;
			*pp = r->next;
			s_repo_free(r);
			break;
		}
	free(path);
}

typedef struct {
	git_oid id;
	git_object_t type;
	char *path;
} s_walk_item;

/* Called per object; damage NULL when it read well. Non-zero stops the walk. */
typedef int (*s_walk_cb)(const git_oid *id, git_object_t type, const char *path, const char *damage, void *arg);

typedef struct {
	s_walk_item *v;
	size_t n, cap;
} s_walk_stack;

static void
s_walk_push(s_walk_stack *st, s_oidset *seen, const git_oid *id, git_object_t type, char *path)
{
	if (!s_oidset_add(seen, id)) {
		free(path);
		return;
	}
	if (st->n == st->cap) {
		st->cap = st->cap ? st->cap * 2 : 64;
		st->v = kr_realloc(st->v, st->cap * sizeof(*st->v));
	}
	st->v[st->n++] = (s_walk_item){ *id, type, path };
}

/* Queues the tree and parents a raw commit names; 0, or -1 if it is malformed. */
static int
s_walk_commit(s_walk_stack *st, s_oidset *seen, const char *p, size_t len)
{
	const char *end = p + len;
	int have_tree = 0;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t l = nl ? (size_t)(nl - p) : (size_t)(end - p);
		git_oid id;
		if (l == 45 && strncmp(p, "tree ", 5) == 0 && git_oid_fromstrn(&id, p + 5, 40) == 0) {
			s_walk_push(st, seen, &id, GIT_OBJECT_TREE, kr_strdup(""));
			have_tree = 1;
		} else if (l == 47 && strncmp(p, "parent ", 7) == 0 && git_oid_fromstrn(&id, p + 7, 40) == 0) {
			s_walk_push(st, seen, &id, GIT_OBJECT_COMMIT, kr_strdup(""));
		} else {
			break;
		}
		p += l + 1;
	}
	return have_tree ? 0 : -1;
}

/* Queues the entries of a raw tree (gitlinks are not objects here); -1 if malformed. */
static int
s_walk_tree(s_walk_stack *st, s_oidset *seen, const char *prefix, const char *p, size_t len)
{
	const char *end = p + len;

	while (p < end) {
		const char *sp = memchr(p, ' ', (size_t)(end - p));
		const char *nul = sp ? memchr(sp, '\0', (size_t)(end - sp)) : NULL;
		unsigned long mode;
		git_oid id;
		if (!nul || end - nul < 21)
			return -1;
		mode = strtoul(p, NULL, 8);
		git_oid_fromraw(&id, (const unsigned char *)nul + 1);
		if ((mode & 0170000) != 0160000)
			s_walk_push(st, seen, &id, (mode & 0170000) == 0040000 ? GIT_OBJECT_TREE : GIT_OBJECT_BLOB,
			    kr_sprintf("%s%s%.*s", prefix, *prefix ? "/" : "", (int)(nul - sp - 1), sp + 1));
		p = nul + 21;
	}
	return 0;
}

/*
 * Visits every object reachable from head once, iteratively (no depth
 * costs stack). Commits and trees are always read; blobs only when full,
 * which also re-hashes everything read. An object that is missing, cannot
 * be read, has another type than its parent says, or does not hash to its
 * id goes to cb with the damage, and its children are not visited.
 */
static int
s_walk(git_odb *odb, const git_oid *head, int full, s_walk_cb cb, void *arg, size_t *visited)
{
	s_walk_stack st = { 0 };
	s_oidset seen = { 0 };
	int stop = 0;

	*visited = 0;
	s_walk_push(&st, &seen, head, GIT_OBJECT_COMMIT, kr_strdup(""));
	while (st.n && !stop) {
		s_walk_item it = st.v[--st.n];
		git_odb_object *o = NULL;
		char damage[512] = "";
		int rc;

		(*visited)++;
		if (it.type == GIT_OBJECT_BLOB && !full) {
			stop = cb(&it.id, it.type, it.path, NULL, arg);
			free(it.path);
			continue;
		}
		if ((rc = git_odb_read(&o, odb, &it.id)) < 0) {
			const git_error *e = git_error_last();
			snprintf(damage, sizeof(damage), "%s", rc == GIT_ENOTFOUND ? "missing" :
			    e && e->message ? e->message : "cannot be read");
		} else if (git_odb_object_type(o) != it.type) {
			snprintf(damage, sizeof(damage), "is a %s where a %s was expected",
			    git_object_type2string(git_odb_object_type(o)), git_object_type2string(it.type));
		} else {
			const char *data = git_odb_object_data(o);
			size_t len = git_odb_object_size(o);
			git_oid check;
			if (full && (git_odb_hash(&check, data, len, it.type) < 0 || !git_oid_equal(&check, &it.id)))
				snprintf(damage, sizeof(damage), "its content does not match its id");
			else if (it.type == GIT_OBJECT_COMMIT && s_walk_commit(&st, &seen, data, len) < 0)
				snprintf(damage, sizeof(damage), "is not a well-formed commit");
			else if (it.type == GIT_OBJECT_TREE && s_walk_tree(&st, &seen, it.path, data, len) < 0)
				snprintf(damage, sizeof(damage), "is not a well-formed tree");
		}
		git_error_clear();
		stop = cb(&it.id, it.type, it.path, damage[0] ? damage : NULL, arg);
		git_odb_object_free(o);
		free(it.path);
	}
	while (st.n)
		free(st.v[--st.n].path);
	free(st.v);
	free(seen.v);
	return stop;
}

typedef struct {
	kr_store_damage_cb cb;
	void *arg;
	size_t damaged;
} s_verify_ctx;

static int
s_verify_visit(const git_oid *id, git_object_t type, const char *path, const char *damage, void *arg)
{
	s_verify_ctx *x = arg;
	char *what;

	if (!damage)
		return 0;
	x->damaged++;
	what = *path ? kr_sprintf("%s %s", git_object_type2string(type), path)
	             : kr_strdup(git_object_type2string(type));
	x->cb(id->id, what, damage, x->arg);
	free(what);
	return 0;
}

int
kr_store_verify_objects(kr_store *s, const char *pub, const char *coll, kr_store_damage_cb cb,
    void *arg, size_t *objects)
{
	git_repository *repo;
	git_odb *odb = NULL;
	git_oid head;
	s_verify_ctx x = { cb, arg, 0 };
	int rc;

	*objects = 0;
	if ((rc = s_repo_get(s, pub, coll, 0, &repo)) < 0)
		return rc;
	if ((rc = git_reference_name_to_id(&head, repo, MAIN_REF)) == GIT_ENOTFOUND) {
		git_error_clear();
		return 0;
	}
	if (rc < 0 || git_repository_odb(&odb, repo) < 0)
		return s_git_error(KR_EIO, coll);
	s_walk(odb, &head, 1, s_verify_visit, &x, objects);
	git_odb_free(odb);
	return (int)x.damaged;
}

typedef struct {
	const char *repo;            /* path */
	const git_oid *mine;         /* the pack about to go */
	size_t nmine;
	char **others;               /* the other packs' names */
	size_t nothers;
	git_oid **oids;              /* their indexes, read on first need */
	size_t *noids;
	int needed;                  /* a reachable object lives only in that pack */
} s_drop_ctx;

/* Is this reachable object in the pack about to go, and nowhere else? */
static int
s_drop_visit(const git_oid *id, git_object_t type, const char *path, const char *damage, void *arg)
{
	s_drop_ctx *x = arg;
	char hex[GIT_OID_HEXSZ + 1];
	char *loose;
	int elsewhere;

	(void)type;
	(void)path;
	if (damage) {
		x->needed = 1; /* cannot tell what the verified head needs: keep the pack */
		return 1;
	}
	if (!s_idx_has(x->mine, x->nmine, id))
		return 0;
	s_oid_str(id, hex);
	loose = kr_sprintf("%s/objects/%.2s/%s", x->repo, hex, hex + 2);
	elsewhere = access(loose, F_OK) == 0;
	free(loose);
	for (size_t i = 0; i < x->nothers && !elsewhere; i++) {
		if (!x->oids[i]) {
			char *p = kr_sprintf("%s/objects/pack/%s.idx", x->repo, x->others[i]);
			if (s_idx_read(p, &x->oids[i], &x->noids[i]) < 0)
				kr_error_clear();
			free(p);
		}
		elsewhere = s_idx_has(x->oids[i], x->noids[i], id);
	}
	if (!elsewhere)
		x->needed = 1;
	return x->needed;
}

static const char *const s_pack_exts[] = { ".pack", ".idx", ".rev", ".bitmap", ".keep" };

int
kr_store_drop_pack(kr_store *s, const char *pub, const char *coll, const char *name, uint64_t *bytes)
{
	char *repo = kr_store_path(s, pub, coll);
	char *dir = kr_sprintf("%s/objects/pack", repo);
	char *idx = kr_sprintf("%s/%s.idx", dir, name);
	s_drop_ctx x = { .repo = repo };
	git_oid *mine = NULL;
	size_t nmine = 0, visited;
	git_repository *r;
	git_oid head;
	struct stat st;
	int rc;

	*bytes = 0;
	if ((rc = s_idx_read(idx, &mine, &nmine)) < 0 || (rc = s_repo_get(s, pub, coll, 0, &r)) < 0)
		goto done;
	x.mine = mine;
	x.nmine = nmine;
	if (git_reference_name_to_id(&head, r, MAIN_REF) == 0) {
		git_odb *odb = NULL;
		char **all;
		size_t nall;
		s_pack_names(dir, &all, &nall);
		x.others = kr_calloc(nall ? nall : 1, sizeof(char *));
		for (size_t i = 0; i < nall; i++) {
			if (strcmp(all[i], name) == 0)
				free(all[i]);
			else
				x.others[x.nothers++] = all[i];
		}
		free(all);
		x.oids = kr_calloc(x.nothers ? x.nothers : 1, sizeof(git_oid *));
		x.noids = kr_calloc(x.nothers ? x.nothers : 1, sizeof(size_t));
		if (git_repository_odb(&odb, r) < 0)
			x.needed = 1;
		else
			s_walk(odb, &head, 0, s_drop_visit, &x, &visited);
		git_odb_free(odb);
	}
	git_error_clear();
	if (x.needed) {
		rc = 0;
		goto done;
	}
	{
		char *p = kr_sprintf("%s/%s.pack", dir, name);
		if (stat(p, &st) == 0)
			*bytes = (uint64_t)st.st_size;
		free(p);
	}
	for (size_t k = 0; k < sizeof(s_pack_exts) / sizeof(s_pack_exts[0]); k++) {
		char *p = kr_sprintf("%s/%s%s", dir, name, s_pack_exts[k]);
		unlink(p);
		free(p);
	}
	s_repo_forget(s, pub, coll);
	rc = 1;
done:
	for (size_t i = 0; i < x.nothers; i++)
		free(x.oids[i]);
	free(x.oids);
	free(x.noids);
	kr_strv_free(x.others, x.nothers);
	free(mine);
	free(idx);
	free(dir);
	free(repo);
	return rc;
}

int
kr_store_set_aside(kr_store *s, const char *pub, const char *coll, const uint8_t (*oids)[KR_OID_LEN],
    size_t n, char **where)
{
	char *repo = kr_store_path(s, pub, coll);
	char *dir = kr_sprintf("%s/objects/pack", repo);
	char *aside = NULL, stamp[32];
	char **packs = NULL;
	size_t npacks = 0;
	char *move = NULL;           /* per pack: holds a damaged object (or its index is unreadable) */
	git_repository *r;
	git_oid head;
	int rc, have_head;

	*where = NULL;
	if ((rc = s_repo_get(s, pub, coll, 0, &r)) < 0)
		goto done;
	have_head = git_reference_name_to_id(&head, r, MAIN_REF) == 0;
	git_error_clear();
	{
		char iso[32];
		size_t k = 0;
		kr_time_iso(iso, kr_now());
		for (const char *c = iso; *c; c++)
			if (*c != ':' && *c != '-')
				stamp[k++] = *c;
		stamp[k] = '\0';
	}
	aside = kr_sprintf("%s/damaged-%s", repo, stamp);
	if (mkdir(aside, 0755) < 0 && errno != EEXIST) {
		rc = kr_error(KR_EIO, "%s: %s", aside, strerror(errno));
		goto done;
	}
	s_pack_names(dir, &packs, &npacks);
	move = kr_calloc(npacks ? npacks : 1, 1);
	for (size_t i = 0; i < npacks; i++) {
		char *p = kr_sprintf("%s/%s.idx", dir, packs[i]);
		git_oid *ids;
		size_t nids;
		if (s_idx_read(p, &ids, &nids) < 0) {
			kr_error_clear();
			move[i] = 1;
		}
		for (size_t k = 0; k < n && !move[i]; k++) {
			git_oid id;
			git_oid_fromraw(&id, oids[k]);
			move[i] = s_idx_has(ids, nids, &id);
		}
		free(ids);
		free(p);
	}
	for (size_t i = 0; i < npacks && rc == 0; i++)
		for (size_t k = 0; move[i] && k < sizeof(s_pack_exts) / sizeof(s_pack_exts[0]); k++) {
			char *from = kr_sprintf("%s/%s%s", dir, packs[i], s_pack_exts[k]);
			char *to = kr_sprintf("%s/%s%s", aside, packs[i], s_pack_exts[k]);
			if (rename(from, to) < 0 && errno != ENOENT)
				rc = kr_error(KR_EIO, "moving %s aside: %s", from, strerror(errno));
			free(from);
			free(to);
		}
	for (size_t k = 0; k < n && rc == 0; k++) {
		char hex[GIT_OID_HEXSZ + 1];
		char *from, *to;
		kr_hex(hex, oids[k], KR_OID_LEN);
		from = kr_sprintf("%s/objects/%.2s/%s", repo, hex, hex + 2);
		to = kr_sprintf("%s/%s", aside, hex);
		if (rename(from, to) < 0 && errno != ENOENT)
			rc = kr_error(KR_EIO, "moving %s aside: %s", from, strerror(errno));
		free(from);
		free(to);
	}
	/* The head is no longer held: keep its id beside what was moved, then drop the ref. */
	if (rc == 0 && have_head) {
		char hex[GIT_OID_HEXSZ + 1], *p = kr_sprintf("%s/main", aside);
		char *line = kr_sprintf("%s\n", s_oid_str(&head, hex));
		if ((rc = kr_file_write(p, line, strlen(line), 0644)) == 0 && git_reference_remove(r, MAIN_REF) < 0)
			rc = s_git_error(KR_EIO, "removing refs/heads/main");
		free(line);
		free(p);
	}
	s_repo_forget(s, pub, coll);
	if (rc == 0) {
		*where = aside;
		aside = NULL;
	}
done:
	free(move);
	kr_strv_free(packs, npacks);
	free(aside);
	free(dir);
	free(repo);
	return rc;
}

/* ---- the signed manifest under refs/kairan/manifest ------------------------ */

#define MANIFEST_REF "refs/kairan/manifest"

int
kr_store_manifest_ref_set(kr_store *s, const char *pub, const char *coll, const void *bytes, size_t len)
{
	git_repository *repo;
	git_reference *ref = NULL;
	git_oid id, old;
	int rc, had_old;

	if ((rc = s_repo_get(s, pub, coll, 0, &repo)) < 0)
		return rc;
	had_old = git_reference_name_to_id(&old, repo, MANIFEST_REF) == 0;
	git_error_clear();
	if (git_blob_create_from_buffer(&id, repo, bytes, len) < 0)
		return s_git_error(KR_EIO, MANIFEST_REF);
	if (had_old && git_oid_equal(&old, &id))
		return 0;
	/* two threads of a daemon may write it at once: the loser waits for the lock (held microseconds) */
	for (int tries = 0;; tries++) {
		int grc = git_reference_create(&ref, repo, MANIFEST_REF, &id, 1, "kairan: signed manifest");
		if (grc == 0)
			break;
		if (grc != GIT_ELOCKED || tries == 50)
			return s_git_error(KR_EIO, MANIFEST_REF);
		git_error_clear();
		usleep(2000);
	}
	git_reference_free(ref);
	if (had_old) {
		/* the previous manifest was written loose by this function: nothing else refers to it */
		char hex[GIT_OID_HEXSZ + 1];
		char *p;
		s_oid_str(&old, hex);
		p = kr_sprintf("%s/objects/%.2s/%s", git_repository_path(repo), hex, hex + 2);
		unlink(p);
		free(p);
	}
	return 0;
}

int
kr_store_manifest_ref_get(kr_store *s, const char *pub, const char *coll, kr_buf *out)
{
	git_repository *repo;
	git_blob *blob;
	git_oid id;
	int rc;

	if ((rc = s_repo_get(s, pub, coll, 0, &repo)) < 0)
		return rc;
	if ((rc = git_reference_name_to_id(&id, repo, MANIFEST_REF)) == GIT_ENOTFOUND) {
		git_error_clear();
		return kr_error(KR_ENOTFOUND, "there is no %s", MANIFEST_REF);
	}
	if (rc < 0)
		return s_git_error(KR_EIO, MANIFEST_REF);
	if ((rc = git_blob_lookup(&blob, repo, &id)) < 0)
		return s_read_error(rc, MANIFEST_REF);
	if (git_blob_rawsize(blob) > KR_MSG_MAX) {
		git_blob_free(blob);
		return kr_error(KR_EVERIFY, "%s is %llu bytes, more than a manifest can be", MANIFEST_REF,
		    (unsigned long long)git_blob_rawsize(blob));
	}
	kr_buf_add(out, git_blob_rawcontent(blob), (size_t)git_blob_rawsize(blob));
	git_blob_free(blob);
	return 0;
}

int
kr_store_open_mirror(kr_store **out, const char *gitdir, const char *pub, const char *coll)
{
	kr_store *s;
	s_repo *r;
	struct stat st;
	int rc;

	if (!kr_is_hex(pub, KR_FPR_HEX) || !kr_collection_valid(coll))
		return kr_error(KR_EUSAGE, "'%s/%s' is not a publisher fingerprint and collection name", pub, coll);
	if (stat(gitdir, &st) < 0 || !S_ISDIR(st.st_mode))
		return kr_error(KR_ENOTFOUND, "%s: no such directory", gitdir);
	if ((rc = s_git_init()) < 0)
		return rc;
	s = kr_calloc(1, sizeof(*s));
	s->home = kr_strdup(gitdir);
	s->root = kr_strdup("(mirror)");
	r = kr_calloc(1, sizeof(*r));
	r->path = kr_store_path(s, pub, coll); /* the name the other functions look it up by */
	r->packdir = kr_sprintf("%s/objects/pack", gitdir);
	r->used = kr_monotonic_ms();
	s_pack_mtime(r->packdir, &r->pack_mtime);
	s->repos = r;
	if (git_repository_open_bare(&r->repo, gitdir) < 0) {
		rc = s_git_error(KR_EUSAGE, gitdir);
		kr_error_prefix(rc, "not a bare git repository (make one with git clone --mirror)");
		kr_store_destroy(&s);
		return rc;
	}
	*out = s;
	return 0;
}
