/*
 * node/cmd_content.c - publish, log, show
 *
 * publish reads every file first and checks all of them; only when no file
 * has a blocking finding does it write anything (one signed commit per
 * touched collection, then one signed manifest). Walking a DIR, it refuses
 * symbolic links (they can lead out of DIR, or round in a loop) and
 * anything but directories and regular files, and goes at most
 * KR_WALK_DEPTH directories down.
 *
 * Everything printed from an item, a commit or a finding goes through
 * kr_buf_addsafe: content must not drive the terminal.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../policies/dataset.h"
#include "../policies/frontmatter.h"
#include "../policies/item.h"
#include "board.h"
#include "cli.h"
#include "control.h"
#include "log.h"
#include "serve.h"

#define KR_WALK_DEPTH 16

typedef struct {
	char *file;             /* as given on the command line, or found below a DIR */
	char *set_hint;         /* parent directory name */
	kr_buf data;
	int from_dir;
	char **rowfiles;        /* a dataset card's data/ files (*.jsonl): base names, sorted */
	kr_buf *rows;           /* and their contents */
	size_t nrows;
} s_input;

typedef struct {
	s_input *v;
	size_t n, cap;
} s_inputs;

static void
s_inputs_add(s_inputs *in, const char *file, int from_dir)
{
	s_input *x;
	char *dir, *slash;

	if (in->n == in->cap) {
		in->cap = in->cap ? in->cap * 2 : 32;
		in->v = kr_realloc(in->v, in->cap * sizeof(*in->v));
	}
	x = &in->v[in->n++];
	memset(x, 0, sizeof(*x));
	x->file = kr_strdup(file);
	x->from_dir = from_dir;
	dir = kr_strdup(file);
	if ((slash = strrchr(dir, '/'))) {
		*slash = '\0';
		slash = strrchr(dir, '/');
		x->set_hint = kr_strdup(slash ? slash + 1 : dir);
	}
	free(dir);
}

typedef struct {
	kr_pubfile *v;
	size_t n, cap;
} s_files;

static void
s_files_add(s_files *f, const char *coll, const char *path, const void *data, size_t len)
{
	if (f->n == f->cap) {
		f->cap = f->cap ? f->cap * 2 : 32;
		f->v = kr_realloc(f->v, f->cap * sizeof(*f->v));
	}
	f->v[f->n++] = (kr_pubfile){ coll, path, data, len };
}

static const kr_item *s_sort_items; /* qsort has no context argument */

static int
s_cmp_item_path(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;
	int c = strcmp(s_sort_items[x].path, s_sort_items[y].path);

	return c ? c : (x > y) - (x < y);
}

static int
s_cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Names in the directory open at fd (closed here), sorted, without dotfiles. */
static int
s_dir_names(int fd, const char *dir, char ***names, size_t *n)
{
	DIR *d = fdopendir(fd);
	struct dirent *e;
	size_t cap = 0;

	*names = NULL;
	*n = 0;
	if (!d) {
		close(fd);
		return kr_error(KR_EIO, "%s: cannot read directory: %s", dir, strerror(errno));
	}
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		if (*n == cap) {
			cap = cap ? cap * 2 : 32;
			*names = kr_realloc(*names, cap * sizeof(char *));
		}
		(*names)[(*n)++] = kr_strdup(e->d_name);
	}
	closedir(d);
	if (*n)
		qsort(*names, *n, sizeof(char *), s_cmp_str);
	return 0;
}

/* Opens a directory found while walking: a link to one is refused. */
static int
s_open_dir(const char *dir, int follow)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | (follow ? 0 : O_NOFOLLOW));

	if (fd < 0 && errno == ELOOP)
		return kr_error(KR_EUSAGE, "%s is a symbolic link (links are not followed: they can lead "
		    "outside the directory given, or round in a loop)", dir);
	if (fd < 0)
		return kr_error(errno == ENOENT ? KR_ENOTFOUND : KR_EIO, "%s: %s", dir, strerror(errno));
	return fd;
}

/*
 * Every *.md below dir, sorted; data/ directories belong to datasets.
 * depth 0 is the DIR the user named (followed if it is a link); below it a
 * symbolic link, a *.md that is not a regular file or a directory deeper
 * than KR_WALK_DEPTH is an error naming its path.
 */
static int
s_walk(s_inputs *in, const char *dir, int depth)
{
	char **names;
	size_t n;
	int fd, rc;

	if ((fd = s_open_dir(dir, depth == 0)) < 0)
		return fd;
	if ((rc = s_dir_names(fd, dir, &names, &n)) < 0)
		return rc;
	for (size_t i = 0; i < n && rc == 0; i++) {
		char *p = kr_sprintf("%s/%s", dir, names[i]);
		struct stat st;
		size_t len = strlen(names[i]);
		if (lstat(p, &st) < 0) {
			rc = kr_error(KR_EIO, "%s: %s", p, strerror(errno));
		} else if (S_ISLNK(st.st_mode)) {
			rc = kr_error(KR_EUSAGE, "%s is a symbolic link (links are not followed: they can lead "
			    "outside the directory given, or round in a loop; copy the file itself here)", p);
		} else if (S_ISDIR(st.st_mode)) {
			if (strcmp(names[i], "data") == 0)
				; /* a dataset's rows: read with its card */
			else if (depth >= KR_WALK_DEPTH)
				rc = kr_error(KR_EUSAGE, "%s is more than %d directories deep (items live at "
				    "most three below a collection)", p, KR_WALK_DEPTH);
			else
				rc = s_walk(in, p, depth + 1);
		} else if (len > 3 && strcmp(names[i] + len - 3, ".md") == 0) {
			if (!S_ISREG(st.st_mode))
				rc = kr_error(KR_EUSAGE, "%s is not a regular file", p);
			else
				s_inputs_add(in, p, 1);
		}
		free(p);
	}
	kr_strv_free(names, n);
	return rc;
}

/* A dataset card's rows: every *.jsonl in data/ beside it, sorted by name; no data/ is none. */
static int
s_read_rows(s_input *x)
{
	char *dir = kr_strdup(x->file), *slash = strrchr(dir, '/'), *datadir, **names = NULL;
	size_t n = 0;
	int fd, rc = 0;

	if (slash)
		*slash = '\0';
	datadir = slash ? kr_sprintf("%s/data", dir) : kr_strdup("data");
	free(dir);
	if ((fd = s_open_dir(datadir, 0)) < 0) {
		rc = fd == KR_ENOTFOUND ? 0 : fd;
		if (rc == 0)
			kr_error_clear();
		free(datadir);
		return rc;
	}
	if ((rc = s_dir_names(fd, datadir, &names, &n)) < 0) {
		free(datadir);
		return rc;
	}
	x->rowfiles = kr_calloc(n, sizeof(char *));
	x->rows = kr_calloc(n, sizeof(kr_buf));
	for (size_t i = 0; i < n && rc == 0; i++) {
		size_t l = strlen(names[i]);
		char *p;
		if (l < 7 || strcmp(names[i] + l - 6, ".jsonl") != 0)
			continue;
		p = kr_sprintf("%s/%s", datadir, names[i]);
		x->rows[x->nrows] = (kr_buf)KR_BUF_INIT;
		if ((rc = kr_file_read_regular(&x->rows[x->nrows], p)) == 0)
			x->rowfiles[x->nrows++] = kr_strdup(names[i]);
		else
			kr_buf_release(&x->rows[x->nrows]);
		free(p);
	}
	kr_strv_free(names, n);
	free(datadir);
	return rc;
}

static int s_id_path(const char *id, char **coll, char **path);

/*
 * Reads every FILE or DIR (recursively, *.md; a file without front matter
 * found in a directory is skipped) and checks each item exactly as publish
 * does, plus duplicates between inputs. Returns KR_EIO (message printed)
 * when an input cannot be read.
 */
static int
s_load(kr_cli *c, const char *cmd, char **args, int nargs, s_inputs *in, kr_item **itemsp,
    kr_findings *f, size_t *skipped)
{
	kr_policy pol = { .lg_code = c->h.cfg.lg_code, .pii = &c->h.cfg.pii, .rules = &c->h.cfg.rules };
	kr_item *items;

	for (int i = 0; i < nargs; i++) {
		struct stat st;
		if (stat(args[i], &st) < 0) {
			fprintf(stderr, _("kairan: %s: %s: no such file or directory\n"), cmd, args[i]);
			return KR_EIO;
		}
		if (S_ISDIR(st.st_mode)) {
			char *dir = kr_strdup(args[i]);
			size_t l = strlen(dir);
			int rc;
			while (l > 1 && dir[l - 1] == '/')
				dir[--l] = '\0';
			rc = s_walk(in, dir, 0);
			free(dir);
			if (rc < 0) {
				fprintf(stderr, _("kairan: %s: %s; nothing was %s\n"), cmd, kr_errmsg(),
				    strcmp(cmd, "publish") == 0 ? "published" : "checked");
				return rc;
			}
		} else {
			s_inputs_add(in, args[i], 0);
		}
	}
	items = *itemsp = kr_calloc(in->n, sizeof(*items));
	for (size_t i = 0; i < in->n; i++) {
		s_input *x = &in->v[i];
		if ((x->from_dir ? kr_file_read_regular(&x->data, x->file) : kr_file_read(&x->data, x->file)) < 0) {
			fprintf(stderr, "kairan: %s: %s\n", cmd, kr_errmsg());
			return KR_EIO;
		}
		if (x->from_dir && !kr_frontmatter_present(x->data.ptr, x->data.len)) {
			(*skipped)++;
			continue; /* a README or notes file beside the items */
		}
		kr_item_check(&items[i], &pol, x->file, x->data.ptr, x->data.len, x->set_hint, f);
		if (items[i].kind && strcmp(items[i].kind, "dataset") == 0) {
			/* the rows travel with the card: check them the same way */
			if (s_read_rows(x) < 0) {
				fprintf(stderr, "kairan: %s: %s\n", cmd, kr_errmsg());
				return KR_EIO;
			}
			kr_dataset_check_data_files(x->file, x->data.ptr, x->data.len, x->rowfiles, x->nrows, f);
			for (size_t r = 0; r < x->nrows; r++) {
				char *pth = kr_sprintf("%.*sdata/%s", (int)(strrchr(x->file, '/') ?
				    strrchr(x->file, '/') - x->file + 1 : 0), x->file, x->rowfiles[r]);
				kr_dataset_check_rows(pth, x->rows[r].ptr, x->rows[r].len, &pol, f);
				free(pth);
			}
		}
	}
	/* Two inputs must not claim one item or one path: sort, compare neighbours. */
	{
		size_t *order = kr_calloc(in->n, sizeof(size_t)), m = 0;
		for (size_t i = 0; i < in->n; i++)
			if (items[i].path)
				order[m++] = i;
		s_sort_items = items;
		qsort(order, m, sizeof(size_t), s_cmp_item_path);
		for (size_t i = 1; i < m; i++)
			if (strcmp(items[order[i]].path, items[order[i - 1]].path) == 0)
				kr_findings_add(f, in->v[order[i]].file, 0, 1, "duplicate",
				    "item %s is also given by %s (publish one of them)", items[order[i]].id,
				    in->v[order[i - 1]].file);
		free(order);
	}
	return 0;
}

static void
s_inputs_free(s_inputs *in, kr_item *items)
{
	for (size_t i = 0; i < in->n; i++) {
		free(in->v[i].file);
		free(in->v[i].set_hint);
		kr_buf_release(&in->v[i].data);
		for (size_t r = 0; r < in->v[i].nrows; r++)
			kr_buf_release(&in->v[i].rows[r]);
		free(in->v[i].rows);
		kr_strv_free(in->v[i].rowfiles, in->v[i].nrows);
		if (items)
			kr_item_clear(&items[i]);
	}
	free(in->v);
	free(items);
}

int
cmd_check(kr_cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' }, { "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 },
	};
	s_inputs in = { 0 };
	kr_findings f = { 0 };
	kr_item *items = NULL;
	size_t skipped = 0, nitems = 0;
	int o, json = 0, rc;

	optind = 0;
	while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (o) {
		case 'j': json = 1; break;
		case 'h': return printf(_("usage: kairan check FILE|DIR... [--json]\n\n"
		    "Runs every check publish runs, without publishing: exit 0 when nothing blocks,\n"
		    "1 when something does; warnings are printed either way.\n")), 0;
		default: return kr_cli_usage("check");
		}
	}
	if (optind == argc)
		return kr_cli_usage("check");
	if (s_load(c, "check", argv + optind, argc - optind, &in, &items, &f, &skipped) < 0) {
		s_inputs_free(&in, items);
		kr_findings_clear(&f);
		return 1;
	}
	for (size_t i = 0; i < in.n; i++)
		nitems += items[i].id != NULL;
	if (json) {
		kr_buf b = KR_BUF_INIT;
		kr_buf_addf(&b, "{\"items\":%zu,\"blocking\":%zu,\"findings\":[", nitems, kr_findings_blocking(&f));
		for (size_t i = 0; i < f.n; i++) {
			kr_buf_adds(&b, i ? ",{\"file\":" : "{\"file\":");
			kr_buf_addjson(&b, f.v[i].file);
			kr_buf_addf(&b, ",\"line\":%d,\"level\":\"%s\",\"rule\":", f.v[i].line, f.v[i].block ? "block" : "warn");
			kr_buf_addjson(&b, f.v[i].rule);
			kr_buf_adds(&b, ",\"message\":");
			kr_buf_addjson(&b, f.v[i].message);
			kr_buf_adds(&b, "}");
		}
		kr_buf_adds(&b, "]}\n");
		fputs(b.ptr, stdout);
		kr_buf_release(&b);
	} else {
		kr_cli_print_findings("check", &f);
		printf(_("%zu item(s) checked: %zu blocking problem(s), %zu warning(s)%s\n"), nitems,
		    kr_findings_blocking(&f), f.n - kr_findings_blocking(&f),
		    kr_findings_blocking(&f) ? "" : "; ready to publish");
	}
	rc = kr_findings_blocking(&f) ? 1 : 0;
	s_inputs_free(&in, items);
	kr_findings_clear(&f);
	return rc;
}

/*
 * What a publish does once its node announced (kr_replica_maintain: the
 * copy under refs/kairan/manifest, and every 17th publish a repack of the
 * collection) runs at a lower priority: the node serving the new pack and
 * subscribers fetching and checking it on the same machine go first.
 */
static void
s_after_announce(kr_cli *c)
{
	errno = 0;
	if (nice(10) == -1 && errno != 0)
		log_debug("nice: %s", strerror(errno));
	kr_replica_maintain(&c->h.rep, 1);
}

/* What publish has to tell beyond the count (a withdrawn item restored). */
static void
s_publish_notice(const char *msg, void *arg)
{
	char *shown = kr_safe(msg);

	(void)arg;
	printf("%s\n", shown);
	free(shown);
}

/* A publish handed to the node running on this home is answered within this (node/control.h has its limits). */
#define PUBLISH_CALL_MS 60000

/*
 * Hands the checked files to the node running on this home, which
 * commits, signs and announces them where its repositories, state.db and
 * key are open already (node/serve.c): 1 when it answered (*rc its
 * outcome, printed as a publish here prints it), 0 when no node runs, the
 * publish is too large to hand over (KR_CONTROL_PUB_FILES files,
 * KR_CONTROL_PAYLOAD_MAX bytes) or the node does not take it (an older
 * kairan): then this process publishes. A node that took the publish and
 * gave no answer may have made it: that is said, and nothing is done
 * here (publishing the same files again is safe).
 */
static int
s_publish_handed(kr_cli *c, const kr_pubfile *files, size_t n, size_t nitems, const char *msg,
    size_t skipped, int *rc)
{
	kr_buf payload = KR_BUF_INIT, answer = KR_BUF_INIT;
	unsigned long long seq;
	size_t changed;
	int applied, used = 0, r;

	if (n > KR_CONTROL_PUB_FILES)
		return 0;
	kr_control_pub_encode(&payload, files, n, msg, setlocale(LC_MESSAGES, NULL));
	if (payload.len > KR_CONTROL_PAYLOAD_MAX) {
		kr_buf_release(&payload);
		return 0;
	}
	r = kr_control_call(&c->h, "publish", payload.ptr, payload.len, PUBLISH_CALL_MS, &answer);
	kr_buf_release(&payload);
	if (r == KR_ERROR) {
		char *why = kr_safe(answer.ptr ? answer.ptr : "");
		fprintf(stderr, _("kairan: publish: %s; nothing was published\n"), why);
		free(why);
		*rc = 1;
		used = 1;
	} else if (r == KR_ETIMEOUT) {
		fprintf(stderr, _("kairan: publish: %s: whether it published is not known; its log and `kairan "
		    "status` (the seq) tell; publishing the same files again is safe\n"), kr_errmsg());
		*rc = 1;
		used = 1;
	} else if (r == 0 && sscanf(answer.ptr, "%d %zu %llu", &applied, &changed, &seq) == 3) {
		/* the notices first, as a publish made here prints them */
		const char *nl = strchr(answer.ptr, '\n');
		for (const char *p = nl ? nl + 1 : ""; *p;) {
			const char *e = strchr(p, '\n');
			char *line = kr_strndup(p, e ? (size_t)(e - p) : strlen(p));
			s_publish_notice(line, NULL);
			free(line);
			p = e ? e + 1 : p + strlen(p);
		}
		if (!applied) {
			printf(_("nothing to publish: all %zu item(s) are already published as they are\n"), nitems);
		} else {
			printf(_("published %zu item(s) in %zu collection(s) as %s (%s); manifest seq %llu\n"), nitems,
			    changed, c->h.cfg.name, c->h.cfg.lg_code, seq);
			if (skipped)
				printf(_("skipped %zu file(s) without front matter\n"), skipped);
			printf(_("announced to peers by the running node\n"));
		}
		*rc = 0;
		used = 1;
	}
	kr_error_clear();
	kr_buf_release(&answer);
	return used;
}

int
cmd_publish(kr_cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "message", required_argument, NULL, 'm' }, { "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	s_inputs in = { 0 };
	kr_findings f = { 0 };
	kr_item *items = NULL;
	s_files files = { 0 };
	char **paths = NULL;
	size_t nattach = 0, nrows = 0, skipped = 0;
	kr_buf msg = KR_BUF_INIT;
	const char *message = NULL;
	kr_apply res;
	int o, rc = 1;

	optind = 0;
	while ((o = getopt_long(argc, argv, "m:h", opts, NULL)) != -1) {
		switch (o) {
		case 'm': message = optarg; break;
		case 'h': return printf(_("usage: kairan publish FILE|DIR... [-m MSG]\n\n"
		    "Checks every item, then writes one signed commit per collection and a\n"
		    "signed manifest, and tells a running node to announce it.\n")), 0;
		default: return kr_cli_usage("publish");
		}
	}
	if (optind == argc)
		return kr_cli_usage("publish");
	if (s_load(c, "publish", argv + optind, argc - optind, &in, &items, &f, &skipped) < 0)
		goto done;
	kr_cli_print_findings("publish", &f);
	if (kr_findings_blocking(&f)) {
		fprintf(stderr, _("kairan: publish: %zu problem(s); nothing was published\n"), kr_findings_blocking(&f));
		goto done;
	}
	for (size_t i = 0; i < in.n; i++)
		nrows += in.v[i].nrows;
	paths = kr_calloc(nrows + 1, sizeof(char *));
	for (size_t i = 0; i < in.n; i++) {
		if (!items[i].path)
			continue;
		s_files_add(&files, items[i].collection, items[i].path, in.v[i].data.ptr, in.v[i].data.len);
		/* a dataset card's data files (read and checked with it) travel with it */
		for (size_t r = 0; r < in.v[i].nrows; r++) {
			paths[nattach] = kr_sprintf("datasets/%s/data/%s", items[i].slug, in.v[i].rowfiles[r]);
			s_files_add(&files, "datasets", paths[nattach], in.v[i].rows[r].ptr, in.v[i].rows[r].len);
			nattach++;
		}
	}
	if (files.n == 0) {
		fprintf(stderr, _("kairan: publish: no items found (an item is a .md file with front matter)\n"));
		goto done;
	}
	if (message) {
		kr_buf_adds(&msg, message);
		kr_buf_adds(&msg, "\n");
	} else {
		kr_buf_addf(&msg, "publish: %zu item(s)\n\n", files.n - nattach);
		for (size_t i = 0; i < in.n; i++)
			if (items[i].id)
				kr_buf_addf(&msg, "%s %s\n", items[i].id, items[i].version);
	}
	if (!c->h.state) {
		/* opened for handing over (CMD_HANDS_OVER): the running node publishes, else this process */
		if (s_publish_handed(c, files.v, files.n, files.n - nattach, msg.ptr, skipped, &rc))
			goto done;
		kr_home_close(&c->h);
		if (kr_home_open_own(&c->h, c->home_path) < 0) {
			kr_cli_fail("publish");
			goto done;
		}
	}
	c->h.rep.notice = s_publish_notice;
	c->h.rep.defer_maintenance = 1; /* the running node hears of it first, see below */
	if (kr_replica_publish(&c->h.rep, files.v, files.n, msg.ptr, &res) < 0) {
		fprintf(stderr, _("kairan: publish: %s; nothing was published\n"), kr_errmsg());
		goto done;
	}
	rc = 0;
	if (!res.applied) {
		printf(_("nothing to publish: all %zu item(s) are already published as they are\n"), files.n - nattach);
		goto done;
	}
	printf(_("published %zu item(s) in %zu collection(s) as %s (%s); manifest seq %llu\n"),
	    files.n - nattach, res.changed, c->h.cfg.name, c->h.cfg.lg_code, (unsigned long long)res.seq);
	if (skipped)
		printf(_("skipped %zu file(s) without front matter\n"), skipped);
	switch (kr_control_poke(&c->h, "announce", 2000)) {
	case 0:
		printf(_("announced to peers by the running node\n"));
		break;
	case KR_ENOTFOUND:
		printf(_("no node is running on this home: peers get it once `kairan serve` runs\n"));
		break;
	default:
		printf(_("the node running on this home did not answer: peers get it with its next beacon\n"));
		break;
	}
	fflush(stdout);
	/* consolidation after the announcement: peers fetch while this repacks */
	s_after_announce(c);
done:
	s_inputs_free(&in, items);
	kr_strv_free(paths, nattach);
	free(files.v);
	kr_buf_release(&msg);
	kr_findings_clear(&f);
	return rc;
}

typedef struct {
	int json, first;
	const char *pub, *coll;
	kr_buf *out;
} s_logctx;

static int
s_log_one(const kr_commit_info *ci, void *arg)
{
	s_logctx *x = arg;
	char oid[KR_OID_HEX + 1], when[32];
	const char *nl = strchr(ci->message, '\n');

	kr_hex(oid, ci->oid, KR_OID_LEN);
	kr_time_iso(when, ci->time);
	if (x->json) {
		kr_buf_adds(x->out, x->first ? "{\"collection\":" : ",{\"collection\":");
		kr_buf_addjson(x->out, x->coll);
		kr_buf_adds(x->out, ",\"publisher\":");
		kr_buf_addjson(x->out, x->pub);
		kr_buf_adds(x->out, ",\"commit\":");
		kr_buf_addjson(x->out, oid);
		kr_buf_addf(x->out, ",\"time\":%lld,\"signed\":%s,\"author\":", (long long)ci->time,
		    ci->signed_ok ? "true" : "false");
		kr_buf_addjson(x->out, ci->author);
		kr_buf_adds(x->out, ",\"message\":");
		kr_buf_addjson(x->out, ci->message);
		kr_buf_adds(x->out, "}");
	} else {
		kr_buf line = KR_BUF_INIT;
		kr_buf_addf(&line, "%.12s %s %s %s ", oid, when, ci->signed_ok ? "signed" : "UNSIGNED", x->coll);
		/* the first line of the message, as the publisher wrote it, made safe */
		kr_buf_addsafe(&line, ci->message, nl ? (size_t)(nl - ci->message) : strlen(ci->message), KR_SAFE_LINE);
		kr_buf_addch(&line, '\n');
		fputs(line.ptr, stdout);
		kr_buf_release(&line);
	}
	x->first = 0;
	return 0;
}

int
cmd_log(kr_cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' }, { "max", required_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 },
	};
	char pub[KR_FPR_HEX + 1];
	char **colls = NULL;
	size_t ncolls = 0, max = 0;
	kr_buf out = KR_BUF_INIT;
	s_logctx x = { .first = 1, .out = &out };
	int o, rc = 0;

	optind = 0;
	while ((o = getopt_long(argc, argv, "n:h", opts, NULL)) != -1) {
		switch (o) {
		case 'j': x.json = 1; break;
		case 'n': max = (size_t)strtoul(optarg, NULL, 10); break;
		case 'h': return printf(_("usage: kairan log [[PUBLISHER/]COLLECTION] [-n N] [--json]\n\n"
		    "History of this node's collections, or of a mirrored publisher's\n"
		    "(PUBLISHER: fingerprint, prefix or lg_code).\n")), 0;
		default: return kr_cli_usage("log");
		}
	}
	if (argc - optind > 1)
		return kr_cli_usage("log");
	strcpy(pub, c->h.fpr);
	if (optind < argc) {
		char *arg = kr_strdup(argv[optind]), *slash = strchr(arg, '/');
		const char *coll = slash ? slash + 1 : arg;
		/* the collection becomes a path under the home: only a valid name may */
		if (!kr_collection_valid(coll)) {
			char *shown = kr_safe(coll);
			fprintf(stderr, _("kairan: log: '%s' is not a collection name (lower-case ASCII letters, "
			    "digits and '-', e.g. cases or 372081/cases)\n"), shown);
			free(shown);
			free(arg);
			return 2;
		}
		if (slash) {
			*slash = '\0';
			if (kr_cli_publisher(c, arg, pub) < 0) {
				free(arg);
				return kr_cli_fail("log");
			}
		}
		colls = kr_calloc(1, sizeof(char *));
		colls[0] = kr_strdup(coll);
		ncolls = 1;
		free(arg);
	} else if (kr_store_collections(c->h.store, pub, &colls, &ncolls) < 0) {
		return kr_cli_fail("log");
	}
	x.pub = pub;
	if (x.json)
		kr_buf_adds(&out, "[");
	for (size_t i = 0; i < ncolls && rc == 0; i++) {
		x.coll = colls[i];
		if (kr_store_log(c->h.store, pub, colls[i], max, s_log_one, &x) < 0)
			rc = kr_cli_fail("log");
	}
	if (x.json) {
		kr_buf_adds(&out, "]\n");
		if (rc == 0)
			fputs(out.ptr, stdout);
	} else if (ncolls == 0) {
		printf(_("nothing published yet (see: kairan publish)\n"));
	}
	kr_buf_release(&out);
	kr_strv_free(colls, ncolls);
	return rc;
}

/* Writes an item's text to stdout made safe for a terminal (lines, tabs and CRLF kept). */
static void
s_print_item(const kr_buf *data)
{
	kr_buf b = KR_BUF_INIT;

	kr_buf_addsafe(&b, data->ptr, data->len, KR_SAFE_TEXT);
	if (b.len && b.ptr[b.len - 1] != '\n')
		kr_buf_addch(&b, '\n');
	fwrite(b.ptr, 1, b.len, stdout);
	kr_buf_release(&b);
}

static char *s_attribution(const char *card, size_t len, const char *fallback_name);

/*
 * A dataset row (item path "FILE#ROW-ID"): the row read from FILE at
 * commit, for a reader, with the 出典 line of its card at that commit.
 */
static int
s_show_row(kr_cli *c, const kr_state_item *it, const uint8_t commit[KR_OID_LEN])
{
	const char *hash = strchr(it->path, '#'), *slash;
	char *file = kr_strndup(it->path, (size_t)(hash - it->path)), *card_path = NULL, *attr = NULL;
	kr_buf data = KR_BUF_INIT, card = KR_BUF_INIT, out = KR_BUF_INIT;
	int rc;

	if ((rc = kr_store_read(c->h.store, it->publisher, it->collection, commit, file, &data)) < 0)
		goto done;
	if ((slash = strstr(file, "/data/"))) {
		card_path = kr_sprintf("%.*s/README.md", (int)(slash - file), file);
		if (kr_store_read(c->h.store, it->publisher, it->collection, commit, card_path, &card) == 0)
			attr = s_attribution(card.ptr, card.len, it->pub_name ? it->pub_name : it->publisher);
		kr_error_clear();
	}
	kr_buf_addf(&out, "%s  (%s の行 %s)\n", it->id, file, hash + 1);
	if ((rc = kr_dataset_row_text(&out, data.ptr, data.len, hash + 1, attr)) < 0) {
		rc = kr_error(KR_ENOTFOUND, "%s: %s in %s (see: kairan reindex)", it->id, kr_errmsg(), file);
		goto done;
	}
	s_print_item(&out);
done:
	kr_buf_release(&data);
	kr_buf_release(&card);
	kr_buf_release(&out);
	free(attr);
	free(card_path);
	free(file);
	return rc;
}

/*
 * KR_EPOLICY when policy.accept.require_endorsement holds this item back
 * (its kind needs the board's endorsement and this version has none).
 */
static int
s_board_held(kr_cli *c, const kr_state_item *it)
{
	kr_bview bv;
	int held;

	if (!kr_policy_has(&c->h.cfg.rules, "accept.require_endorsement", it->kind))
		return 0;
	if (kr_bview_load(&bv, c->h.home, c->h.state, c->h.store, c->h.fpr) < 0)
		return KR_EIO;
	held = kr_bview_held(&bv, &c->h.cfg.rules, it->kind, it->blob);
	if (held) {
		kr_board_verdict vd;
		kr_bview_verdict(&bv, it->blob, &vd, NULL, NULL, NULL);
		kr_error(KR_EPOLICY, "%s version %s is held back: this node uses %s items only once the board "
		    "endorsed that version (policy.accept.require_endorsement = %s), and %zu of %u board members "
		    "have endorsed it", it->id, it->version, it->kind,
		    kr_policy_get(&c->h.cfg.rules, "accept.require_endorsement"), vd.positive, vd.threshold);
	}
	kr_bview_free(&bv);
	return held ? KR_EPOLICY : 0;
}

/* After the item: its endorsements, the board's verdict and adoption reports (nothing if none). */
static void
s_board_describe(kr_cli *c, const kr_state_item *it)
{
	kr_bview bv;
	kr_buf b = KR_BUF_INIT, shown = KR_BUF_INIT;

	if ((kr_board_kind(it->kind) && strcmp(it->kind, "consultation") != 0) ||
	    kr_bview_load(&bv, c->h.home, c->h.state, c->h.store, c->h.fpr) < 0) {
		kr_error_clear();
		return;
	}
	if (strcmp(it->kind, "consultation") == 0) {
		/* its state as the board's answers make it (kairan consult show has the answers) */
		const kr_bview_item *x = kr_bview_find(&bv, "consultation", it->id), *acc = NULL;
		if (x)
			kr_buf_addf(&b, "状態: %s%s%s（回答は kairan consult show %s）\n",
			    kr_bview_consult_state(&bv, x, &acc), acc ? "、採用された回答 " : "", acc ? acc->r.id : "", it->id);
	} else {
		kr_bview_describe(&bv, it->id, it->blob, &b);
	}
	if (b.len) {
		kr_buf_addsafe(&shown, b.ptr, b.len, KR_SAFE_TEXT);
		printf("\n-- ボード%s%s%s --\n%s", bv.fed_name ? "（" : "", bv.fed_name ? bv.fed_name : "",
		    bv.fed_name ? "）" : "", shown.ptr);
	}
	kr_buf_release(&b);
	kr_buf_release(&shown);
	kr_bview_free(&bv);
}

int
cmd_show(kr_cli *c, int argc, char **argv)
{
	kr_state_item *it;
	size_t n;
	char *id, *at;
	uint8_t commit[KR_OID_LEN];
	kr_buf data = KR_BUF_INIT;
	int rc = 0;

	if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0))
		return printf(_("usage: kairan show ID[@COMMIT]\n\nPrints an item (e.g. 372081/case/gomi-chatbot-poc, or a dataset's"
		    " Q&A row: 370002/dataset/gomi-qa#q001)"
		    " as its publisher signed it, at the current head or at COMMIT (4 to 40 hex digits).\n"
		    "Control characters in it (terminal escapes, bidi overrides) are not printed.\n")), 0;
	if (argc != 2)
		return kr_cli_usage("show");
	id = kr_strdup(argv[1]);
	if ((at = strchr(id, '@')))
		*at++ = '\0';
	if (at && (strlen(at) < 4 || strlen(at) > KR_OID_HEX || !kr_is_hex(at, strlen(at)))) {
		char *shown = kr_safe(at);
		fprintf(stderr, _("kairan: show: '%s' is not a commit id (4 to 40 hex digits, from kairan log)\n"), shown);
		free(shown);
		free(id);
		return 2;
	}
	if (kr_state_item_find(c->h.state, id, &it, &n) < 0) {
		/* withdrawn (or never here): with @COMMIT, read it from history */
		char *coll = NULL, *path = NULL, pub[KR_FPR_HEX + 1];
		char code[8];
		snprintf(code, sizeof(code), "%.6s", id);
		if (at && s_id_path(id, &coll, &path) == 0 && kr_cli_publisher(c, code, pub) == 0 &&
		    kr_store_resolve(c->h.store, pub, coll, at, commit) == 0 &&
		    kr_store_read(c->h.store, pub, coll, commit, path, &data) == 0) {
			s_print_item(&data);
			kr_buf_release(&data);
			free(coll);
			free(path);
			free(id);
			return 0;
		}
		free(coll);
		free(path);
		kr_error(KR_ENOTFOUND, "no item %s on this node (see: kairan status; a withdrawn item "
		    "can still be read with ID@COMMIT, the commit from kairan log)", id);
		free(id);
		return kr_cli_fail("show");
	}
	if (at)
		rc = kr_store_resolve(c->h.store, it[0].publisher, it[0].collection, at, commit);
	else
		rc = kr_unhex(commit, KR_OID_LEN, it[0].commit);
	if (rc == 0 && strchr(it[0].path, '#')) {
		rc = s_show_row(c, &it[0], commit) < 0 ? kr_cli_fail("show") : 0;
		kr_state_items_free(it, n);
		free(id);
		return rc;
	}
	if (rc == 0 && !at)
		rc = s_board_held(c, &it[0]);
	if (rc == 0)
		rc = kr_store_read(c->h.store, it[0].publisher, it[0].collection, commit, it[0].path, &data);
	if (rc < 0) {
		rc = kr_cli_fail("show");
	} else {
		s_print_item(&data);
		if (!at)
			s_board_describe(c, &it[0]);
	}
	kr_buf_release(&data);
	kr_state_items_free(it, n);
	free(id);
	return rc;
}

/* Paths of a tree under a prefix, collected from kr_store_diff. */
typedef struct {
	char *prefix;
	char **v;
	size_t n;
} s_under;

static int
s_under_add(const char *path, const uint8_t *blob, void *arg)
{
	s_under *u = arg;

	if (blob && strncmp(path, u->prefix, strlen(u->prefix)) == 0) {
		u->v = kr_realloc(u->v, (u->n + 1) * sizeof(char *));
		u->v[u->n++] = kr_strdup(path);
	}
	return 0;
}

/* The collection and path an id lives at, from the id alone (prompts need their set). */
static int
s_id_path(const char *id, char **coll, char **path)
{
	const char *s1 = strchr(id, '/'), *s2 = s1 ? strchr(s1 + 1, '/') : NULL;
	char *kind;
	const char *c;

	if (!s2 || s1 - id != 6 || strspn(id, "0123456789") != 6 || !s2[1] ||
	    strspn(s2 + 1, "abcdefghijklmnopqrstuvwxyz0123456789-") != strlen(s2 + 1))
		return kr_error(KR_EUSAGE, "'%s' is not an item id (<lg_code>/<kind>/<slug>)", id);
	kind = kr_strndup(s1 + 1, (size_t)(s2 - s1 - 1));
	c = kr_kind_collection(kind);
	if (!c || strcmp(kind, "prompt") == 0) {
		free(kind);
		return kr_error(KR_ENOTFOUND, "no item %s on this node", id);
	}
	*coll = kr_strdup(c);
	*path = strcmp(kind, "dataset") == 0 ? kr_sprintf("datasets/%s/README.md", s2 + 1)
	                                     : kr_sprintf("%s/%s.md", c, s2 + 1);
	free(kind);
	return 0;
}

int
cmd_withdraw(kr_cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "message", required_argument, NULL, 'm' }, { "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *reason = NULL;
	kr_state_item *it;
	size_t n;
	s_files files = { 0 };
	s_under under = { 0 };
	kr_buf msg = KR_BUF_INIT;
	kr_apply res;
	int o, rc = 1;

	optind = 0;
	while ((o = getopt_long(argc, argv, "m:h", opts, NULL)) != -1) {
		switch (o) {
		case 'm': reason = optarg; break;
		case 'h': return printf(_("usage: kairan withdraw ID -m REASON\n\n"
		    "Removes an item of this node with a signed commit that states why. Subscribers\n"
		    "drop it from their view and search; its history stays readable (kairan show ID@COMMIT).\n")), 0;
		default: return kr_cli_usage("withdraw");
		}
	}
	if (optind != argc - 1 || !reason || !*reason) {
		fprintf(stderr, _("kairan: withdraw: give the item id and the reason (-m \"…\"), e.g.\n"
		    "  kairan withdraw 372081/case/gomi-chatbot-poc -m \"見直し中のため取り下げ\"\n"));
		return 2;
	}
	if (kr_state_item_find(c->h.state, argv[optind], &it, &n) < 0)
		return kr_cli_fail("withdraw");
	for (size_t i = 0; i < n; i++) {
		uint8_t head[KR_OID_LEN];
		if (strcmp(it[i].publisher, c->h.fpr) != 0)
			continue;
		if (strcmp(it[i].kind, "dataset") == 0) {
			/* the card and every data file under datasets/<slug>/ */
			under.prefix = kr_strndup(it[i].path, strlen(it[i].path) - strlen("README.md"));
			if (kr_store_head(c->h.store, c->h.fpr, "datasets", head) == 0)
				kr_store_diff(c->h.store, c->h.fpr, "datasets", NULL, head, s_under_add, &under);
			for (size_t k = 0; k < under.n; k++)
				s_files_add(&files, "datasets", under.v[k], NULL, 0);
		} else {
			s_files_add(&files, it[i].collection, it[i].path, NULL, 0);
		}
		break;
	}
	if (files.n == 0) {
		fprintf(stderr, _("kairan: withdraw: %s is not this node's item (only its publisher can withdraw it)\n"), argv[optind]);
		kr_state_items_free(it, n);
		return 1;
	}
	kr_buf_addf(&msg, "withdraw: %s\n\n%s\n", argv[optind], reason);
	c->h.rep.defer_maintenance = 1;
	if (kr_replica_publish(&c->h.rep, files.v, files.n, msg.ptr, &res) < 0) {
		fprintf(stderr, _("kairan: withdraw: %s; nothing was changed\n"), kr_errmsg());
	} else {
		printf(_("withdrew %s (manifest seq %llu); the reason is in the signed commit\n"), argv[optind],
		    (unsigned long long)res.seq);
		if (kr_control_poke(&c->h, "announce", 2000) == 0)
			printf(_("announced to peers by the running node\n"));
		rc = 0;
		fflush(stdout);
		s_after_announce(c); /* after the announcement */
	}
	kr_strv_free(under.v, under.n);
	free(under.prefix);
	free(files.v);
	kr_buf_release(&msg);
	kr_state_items_free(it, n);
	return rc;
}

/* 出典 line for a card: 「出典：香川県「ごみ出し案内 Q&A」（CC-BY-4.0）」, marking derived content. */
static char *
s_attribution(const char *card, size_t len, const char *fallback_name)
{
	kr_yaml *fm = NULL;
	const char *body;
	int bl;
	kr_buf b = KR_BUF_INIT;

	if (kr_frontmatter_parse(&fm, card, len, &body, &bl) < 0)
		return kr_sprintf("出典：%s", fallback_name);
	{
		const kr_yaml *pub = kr_yaml_get(fm, "publisher"), *der = kr_yaml_get(fm, "derived_from");
		const char *name = pub ? kr_yaml_str(pub, "name") : NULL, *title = kr_yaml_str(fm, "title");
		const char *lic = kr_yaml_str(fm, "license");
		kr_buf_addf(&b, "出典：%s「%s」", name ? name : fallback_name, title ? title : "");
		if (der && der->type == KR_YAML_SEQ && der->n) {
			const char *src = kr_yaml_str(der->items[0], "id");
			kr_buf_addf(&b, "（%s を加工して作成）", src ? src : "");
		}
		/* a Hugging Face card's cc-by-4.0, or other + license_name: pdl-1.0, reads as its SPDX id */
		if (lic && kr_license_spdx(lic, kr_yaml_str(fm, "license_name")))
			lic = kr_license_spdx(lic, kr_yaml_str(fm, "license_name"));
		kr_buf_addf(&b, "、%s", lic ? lic : "PDL-1.0");
	}
	kr_yaml_free(&fm);
	return kr_buf_detach(&b);
}

/*
 * The card as the Hugging Face Hub reads it: its top-level license lines
 * (license, license_name, license_link) replaced by the Hub's form of the
 * same licence (cc-by-4.0; PDL as other + license_name + license_link),
 * everything else byte for byte.
 */
static int
s_hub_card(kr_buf *out, const char *card, size_t len)
{
	kr_yaml *fm = NULL;
	const char *body, *hub, *name, *link, *spdx, *p = card, *end = card + len;
	int bl, infm = 0, done = 0, rc;

	if ((rc = kr_frontmatter_parse(&fm, card, len, &body, &bl)) < 0)
		return rc;
	spdx = kr_license_spdx(kr_yaml_str(fm, "license") ? kr_yaml_str(fm, "license") : "PDL-1.0",
	    kr_yaml_str(fm, "license_name"));
	kr_yaml_free(&fm);
	if (!spdx || (rc = kr_license_hub(spdx, &hub, &name, &link)) < 0)
		return kr_error(KR_EPOLICY, "the card's licence has no Hugging Face Hub id");
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t l = nl ? (size_t)(nl - p) + 1 : (size_t)(end - p);
		int fence = l >= 3 && strncmp(p, "---", 3) == 0 && (l == 3 || p[3] == '\n' || p[3] == '\r');
		if (fence)
			infm = !done && !infm ? 1 : (infm ? (done = 1, 0) : 0);
		if (infm && !fence && (strncmp(p, "license:", 8) == 0 || strncmp(p, "license_name:", 13) == 0 ||
		    strncmp(p, "license_link:", 13) == 0)) {
			if (strncmp(p, "license:", 8) == 0) {
				kr_buf_addf(out, "license: %s\n", hub);
				if (name)
					kr_buf_addf(out, "license_name: %s\n", name);
				kr_buf_addf(out, "license_link: %s\n", link);
			}
		} else {
			kr_buf_add(out, p, l);
		}
		p += l;
	}
	return 0;
}

/* export --format hf: DIR/README.md (the card, Hub licence ids) and DIR/data/<file>.jsonl as published. */
static int
s_export_hf(const char *dir, const kr_buf *card, char **names, kr_buf *rows, size_t n)
{
	kr_buf hc = KR_BUF_INIT;
	char *p = NULL;
	int rc;

	if ((rc = s_hub_card(&hc, card->ptr, card->len)) < 0)
		goto done;
	p = kr_sprintf("%s/data", dir);
	if ((rc = kr_mkdir_p(p, 0755)) < 0)
		goto done;
	free(p);
	p = kr_sprintf("%s/README.md", dir);
	if ((rc = kr_file_write(p, hc.ptr, hc.len, 0644)) < 0)
		goto done;
	for (size_t i = 0; i < n && rc == 0; i++) {
		free(p);
		p = kr_sprintf("%s/data/%s", dir, names[i]);
		rc = kr_file_write(p, rows[i].ptr, rows[i].len, 0644);
	}
done:
	free(p);
	kr_buf_release(&hc);
	return rc;
}

int
cmd_export(kr_cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "format", required_argument, NULL, 'f' }, { "output", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 },
	};
	const char *format = "jsonl", *outpath = NULL;
	kr_state_item *it = NULL;
	size_t n = 0, rows = 0, skipped = 0;
	s_under files = { 0 };
	kr_buf card = KR_BUF_INIT, out = KR_BUF_INIT;
	uint8_t commit[KR_OID_LEN];
	char *attr = NULL, **hfnames = NULL;
	kr_buf *hfrows = NULL;
	size_t nhf = 0;
	int o, rc = 1, hf = 0;

	for (int i = 1; i < argc; i++) /* FAQ rows from resolved consultations: node/cmd_board.c */
		if (strcmp(argv[i], "--faq") == 0)
			return cmd_export_faq(c, argc, argv);
	optind = 0;
	while ((o = getopt_long(argc, argv, "f:o:h", opts, NULL)) != -1) {
		switch (o) {
		case 'f': format = optarg; break;
		case 'o': outpath = optarg; break;
		case 'h': return printf(_("usage: kairan export DATASET-ID [--format jsonl|dify-csv|langchain|hf] [-o FILE|DIR]\n\n"
		    "Exports a Q&A dataset for the RAG tool you already use:\n"
		    "  jsonl      the rows as published, with an attribution field\n"
		    "  dify-csv   Dify's Q&A import: UTF-8 with BOM, header question,answer (RFC 4180);\n"
		    "             a cell that starts with = + - @ (or a tab or CR) gets a leading ' so a\n"
		    "             spreadsheet shows it as text and never runs it as a formula (OWASP)\n"
		    "  langchain  JSONL of {id, page_content, metadata}: id is DATASET-ID#ROW-ID (stable, for\n"
		    "             upserts), page_content ends with the 出典 line, metadata has it too\n"
		    "  hf         -o DIR: a Hugging Face dataset folder, README.md (the card, with the Hub's\n"
		    "             licence ids: cc-by-4.0, cc0-1.0, or other + license_name: pdl-1.0 +\n"
		    "             license_link) and data/*.jsonl as jsonl writes them\n"
		    "Every row carries the 出典 (attribution) line the licence asks for.\n")), 0;
		default: return kr_cli_usage("export");
		}
	}
	if (optind != argc - 1)
		return kr_cli_usage("export");
	if (outpath && !*outpath) {
		fprintf(stderr, _("kairan: export: -o needs a file name\n"));
		return 2;
	}
	if (strcmp(format, "jsonl") != 0 && strcmp(format, "dify-csv") != 0 && strcmp(format, "langchain") != 0 &&
	    strcmp(format, "hf") != 0) {
		fprintf(stderr, _("kairan: export: unknown format '%s' (jsonl, dify-csv, langchain or hf)\n"), format);
		return 2;
	}
	if (strcmp(format, "hf") == 0 && !outpath) {
		fprintf(stderr, _("kairan: export: --format hf writes a folder: name it with -o DIR\n"));
		return 2;
	}
	hf = strcmp(format, "hf") == 0;
	if (kr_cli_item(c, "export", argv[optind], "dataset", &it, &n, &card) != 0)
		goto done;
	if (s_board_held(c, &it[0]) < 0) {
		/* policy.accept.require_endorsement: what show holds back is not exported either */
		kr_cli_fail("export");
		goto done;
	}
	kr_unhex(commit, KR_OID_LEN, it[0].commit);
	attr = s_attribution(card.ptr, card.len, it[0].pub_name ? it[0].pub_name : it[0].publisher);
	files.prefix = kr_sprintf("%.*sdata/", (int)(strlen(it[0].path) - strlen("README.md")), it[0].path);
	if (kr_store_diff(c->h.store, it[0].publisher, "datasets", NULL, commit, s_under_add, &files) < 0) {
		kr_cli_fail("export"); /* a file list that cannot be read is no file list: never zero rows */
		goto done;
	}
	if (strcmp(format, "dify-csv") == 0)
		kr_buf_adds(&out, "\xef\xbb\xbf"); /* Dify expects UTF-8 with a BOM */
	for (size_t i = 0, first = 1; i < files.n; i++) {
		kr_buf rowsbuf = KR_BUF_INIT;
		size_t l = strlen(files.v[i]);
		if (l < 6 || strcmp(files.v[i] + l - 6, ".jsonl") != 0)
			continue;
		if (kr_store_read(c->h.store, it[0].publisher, "datasets", commit, files.v[i], &rowsbuf) < 0) {
			kr_buf_release(&rowsbuf);
			kr_cli_fail("export");
			goto done;
		}
		if (hf) {
			/* each data file keeps its name, so the card's data_files still name it */
			hfnames = kr_realloc(hfnames, (nhf + 1) * sizeof(char *));
			hfrows = kr_realloc(hfrows, (nhf + 1) * sizeof(kr_buf));
			hfnames[nhf] = kr_strdup(files.v[i] + strlen(files.prefix));
			hfrows[nhf] = (kr_buf)KR_BUF_INIT;
			kr_dataset_export(&hfrows[nhf++], "jsonl", 0, argv[optind], rowsbuf.ptr, rowsbuf.len, attr,
			    &rows, &skipped);
		} else {
			kr_dataset_export(&out, format, (int)first, argv[optind], rowsbuf.ptr, rowsbuf.len, attr,
			    &rows, &skipped);
		}
		first = 0;
		kr_buf_release(&rowsbuf);
	}
	if (hf) {
		if (s_export_hf(outpath, &card, hfnames, hfrows, nhf) < 0) {
			kr_cli_fail("export");
			goto done;
		}
		fprintf(stderr, _("exported %zu row(s) of %s as a Hugging Face dataset folder in %s\n"), rows,
		    argv[optind], outpath);
	} else if (outpath) {
		if (kr_file_write(outpath, out.ptr, out.len, 0644) < 0) {
			kr_cli_fail("export");
			goto done;
		}
		fprintf(stderr, _("exported %zu row(s) of %s as %s to %s\n"), rows, argv[optind], format, outpath);
	} else {
		/* data for a file or a pipe, as it is; on a terminal, made safe like everything shown */
		if (isatty(STDOUT_FILENO))
			out.len = kr_safe_inplace(out.ptr, out.len, KR_SAFE_TEXT);
		fwrite(out.ptr, 1, out.len, stdout);
	}
	if (skipped)
		fprintf(stderr, _("kairan: export: %zu row(s) were not valid and were left out\n"), skipped);
	rc = 0;
done:
	free(attr);
	kr_strv_free(hfnames, nhf);
	for (size_t i = 0; i < nhf; i++)
		kr_buf_release(&hfrows[i]);
	free(hfrows);
	kr_strv_free(files.v, files.n);
	free(files.prefix);
	kr_buf_release(&card);
	kr_buf_release(&out);
	kr_state_items_free(it, n);
	return rc;
}
