/*
 * node/home.c - creating and opening a node's data directory
 *
 * init writes everything into a temporary directory next to the target and
 * renames it into place, so a failed init leaves nothing behind and a
 * second init can never touch an existing home.
 */
#include "home.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../policies/item.h"
#include "keyrot.h"
#include "log.h"
#include "transport.h"
#include "web.h"

static const char s_config_template[] =
	"# kairan node configuration. Lines are `key = value`; # starts a comment.\n"
	"# Changes take effect when the node (kairan serve) restarts.\n"
	"\n"
	"# Who this node publishes as: the municipality or board and its\n"
	"# 6-digit 全国地方公共団体コード (check digit included).\n"
	"name = %s\n"
	"lg_code = %s\n"
	"\n"
	"# Where `kairan serve` answers requests (ROUTER) and announces (PUB).\n"
	"# Peers follow the listen endpoint; they learn the announce one from it.\n"
	"listen = tcp://127.0.0.1:7420\n"
	"announce = tcp://127.0.0.1:7421\n"
	"\n"
	"# Read-only web pages for staff, and endpoints for other software on the\n"
	"# same port (CKAN API, DCAT catalog, Dify's External Knowledge API).\n"
	"# `web = off` turns them off; web = http://0.0.0.0:7480 opens them to the\n"
	"# office network.\n"
	"web = http://127.0.0.1:7480\n"
	"# Keys a Dify instance may send (Authorization: Bearer KEY) to POST /retrieval,\n"
	"# space-separated; without any, /retrieval refuses every request.\n"
	"# web.retrieval_keys = KEY1 KEY2\n"
	"# Limits: threads, connections in all and per address, idle timeout (s).\n"
	"# web.threads = 4\n"
	"# web.max_connections = 256\n"
	"# web.per_ip = 128\n"
	"# web.timeout = 10\n"
	"\n"
	"# What may leave this node and what it accepts: the defaults are\n"
	"# policies/default.policy (compiled in); override any line here, e.g.\n"
	"# policy.accept.kinds = case guideline\n"
	"# policy.publish.co_publishers = 372081 372030\n"
	"# policy.pii.address = block\n"
	"\n"
	"# How long a manifest this node signs stays valid, and how long before\n"
	"# expiry the daemon signs a fresh one (seconds).\n"
	"manifest_ttl = 604800\n"
	"resign_before = 302400\n"
	"\n"
	"# Beacon interval and per-request peer timeout (milliseconds).\n"
	"beacon_ms = 2000\n"
	"timeout_ms = 5000\n"
	"\n"
	"# Memory for built packs kept for other subscribers (bytes).\n"
	"pack_cache_bytes = 134217728\n"
	"\n"
	"# kairan serve answers searches and builds packs on serve_workers threads.\n"
	"# At most serve_queue requests wait for them (all clients together) and\n"
	"# serve_credit per client connection; beyond that a client is told to\n"
	"# retry (EBUSY). Hello and snapshot are always answered at once.\n"
	"serve_workers = 2\n"
	"serve_queue = 256\n"
	"serve_credit = 8\n"
	"\n"
	"# Every link is encrypted and authenticated (CURVE, keys/node.x25519). In a\n"
	"# federation only its current members and the nodes added with\n"
	"# `kairan admit ID.json` may connect; outside one, any client key may,\n"
	"# unless transport.admit = listed. (`transport = plain` is for tests only.)\n"
	"# transport.admit = any\n"
	"\n"
	"# Personal-information scan: numbers and addresses this office publishes on\n"
	"# purpose (comma-separated), so they are not reported.\n"
	"# pii_allow_phones = 0875-73-3011\n"
	"# pii_allow_addresses = 高瀬町下勝間2373-1\n";

char *
kr_home_path(const char *opt)
{
	const char *env = getenv("KAIRAN_HOME"), *home = getenv("HOME");

	if (opt && *opt)
		return kr_strdup(opt);
	if (env && *env)
		return kr_strdup(env);
	return kr_sprintf("%s/.local/share/kairan", home && *home ? home : ".");
}

static int
s_rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

void
kr_home_remove_tree(const char *path)
{
	nftw(path, s_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/*
 * A new home is built aside and put in place in one step. Beside path
 * (path.WHAT.PID, then one rename) when path does not exist; inside it
 * (path/.WHAT.PID, then each entry moved up, config last: a home is a
 * directory with a config) when path is an empty directory its user may
 * not replace, such as the /var/lib/kairan systemd's StateDirectory= made.
 */
char *
kr_home_staging(const char *path, const char *what, int *in_place)
{
	struct stat st;
	char *tmp, *cfgpath;
	DIR *d;
	struct dirent *de;
	int exists, entries = 0;

	*in_place = 0;
	if (stat(path, &st) < 0) {
		tmp = kr_sprintf("%s.%s.%d", path, what, (int)getpid());
		goto made;
	}
	cfgpath = kr_sprintf("%s/config", path);
	exists = access(cfgpath, F_OK) == 0;
	free(cfgpath);
	if (exists) {
		kr_error(KR_EEXISTS, "%s is already a kairan home; nothing was changed "
		    "(use another --home, or remove it first)", path);
		return NULL;
	}
	if (!S_ISDIR(st.st_mode) || !(d = opendir(path))) {
		kr_error(KR_EEXISTS, "%s exists and is not a directory this user can use; nothing was changed", path);
		return NULL;
	}
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
			entries++;
	closedir(d);
	if (entries) {
		kr_error(KR_EEXISTS, "%s exists and is not empty; nothing was changed", path);
		return NULL;
	}
	*in_place = 1;
	tmp = kr_sprintf("%s/.%s.%d", path, what, (int)getpid());
made:
	kr_home_remove_tree(tmp);
	if (kr_mkdir_p(tmp, 0700) < 0) {
		free(tmp);
		return NULL;
	}
	return tmp;
}

int
kr_home_staging_commit(const char *tmp, const char *path, int in_place)
{
	DIR *d;
	struct dirent *de;
	int rc = 0;

	if (!in_place) {
		if (rename(tmp, path) < 0)
			return kr_error(KR_EIO, "%s: %s", path, strerror(errno));
		return 0;
	}
	if (!(d = opendir(tmp)))
		return kr_error(KR_EIO, "%s: %s", tmp, strerror(errno));
	while (rc == 0 && (de = readdir(d))) {
		char *from, *to;
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0 || strcmp(de->d_name, "config") == 0)
			continue;
		from = kr_sprintf("%s/%s", tmp, de->d_name);
		to = kr_sprintf("%s/%s", path, de->d_name);
		if (rename(from, to) < 0)
			rc = kr_error(KR_EIO, "%s: %s", to, strerror(errno));
		free(from);
		free(to);
	}
	closedir(d);
	if (rc == 0) {
		char *from = kr_sprintf("%s/config", tmp), *to = kr_sprintf("%s/config", path);
		if (rename(from, to) < 0)
			rc = kr_error(KR_EIO, "%s: %s", to, strerror(errno));
		free(from);
		free(to);
	}
	if (rc < 0) {
		/* back out what moved: path is an empty directory again */
		if ((d = opendir(path))) {
			while ((de = readdir(d))) {
				char *e = kr_sprintf("%s/%s", path, de->d_name);
				if (de->d_name[0] != '.')
					kr_home_remove_tree(e);
				free(e);
			}
			closedir(d);
		}
		return rc;
	}
	rmdir(tmp);
	return 0;
}

int
kr_home_init(const char *path, const char *name, const char *lg_code)
{
	return kr_home_init_keys(path, name, lg_code, NULL, NULL);
}

int
kr_home_init_keys(const char *path, const char *name, const char *lg_code, const kr_key *with_key,
    const kr_key *with_tkey)
{
	char *tmp = NULL, *p = NULL, right[7];
	kr_key *key = NULL;
	kr_state *state = NULL;
	kr_buf cfg = KR_BUF_INIT;
	int rc, in_place = 0;

	if (kr_lgcode_check(lg_code, right) < 0)
		return kr_error(KR_EUSAGE, "--lg-code %s", kr_errmsg());
	if (!name[0] || strchr(name, '\n'))
		return kr_error(KR_EUSAGE, "--name must be a non-empty single line");
	if (!(tmp = kr_home_staging(path, "init", &in_place)))
		return KR_EEXISTS;
	p = kr_sprintf("%s/keys", tmp);
	if ((rc = kr_mkdir_p(p, 0700)) < 0)
		goto done;
	free(p);
	p = kr_sprintf("%s/keys/node.ed25519", tmp);
	if (with_key ? (rc = kr_key_save(with_key, p)) < 0
	    : ((rc = kr_key_generate(&key)) < 0 || (rc = kr_key_save(key, p)) < 0))
		goto done;
	free(p);
	p = kr_sprintf("%s/keys/node.x25519", tmp);
	kr_key_destroy(&key);
	if (with_tkey ? (rc = kr_key_save(with_tkey, p)) < 0
	    : ((rc = kr_tkey_generate(&key)) < 0 || (rc = kr_key_save(key, p)) < 0))
		goto done;
	free(p);
	kr_buf_addf(&cfg, s_config_template, name, lg_code);
	p = kr_sprintf("%s/config", tmp);
	if ((rc = kr_file_write(p, cfg.ptr, cfg.len, 0644)) < 0)
		goto done;
	free(p);
	p = kr_sprintf("%s/state.db", tmp);
	if ((rc = kr_state_open(&state, p)) < 0)
		goto done;
	kr_state_destroy(&state);
	free(p);
	p = kr_sprintf("%s/repos", tmp);
	if ((rc = kr_mkdir_p(p, 0755)) < 0)
		goto done;
	if ((rc = kr_home_staging_commit(tmp, path, in_place)) < 0)
		goto done;
	chmod(path, 0755);
done:
	if (rc < 0 && tmp)
		kr_home_remove_tree(tmp);
	kr_key_destroy(&key);
	kr_buf_release(&cfg);
	free(tmp);
	free(p);
	return rc;
}

static int
s_parse_u64(const char *v, uint64_t *out)
{
	char *end;
	unsigned long long x;

	errno = 0;
	x = strtoull(v, &end, 10);
	if (errno || end == v || *end || v[0] == '-')
		return -1;
	*out = x;
	return 0;
}

/*
 * tcp://HOST:PORT (HOST a name, an address, [IPv6] or *; PORT 1-65535 or *
 * for any) or ipc://PATH: what zmq_bind takes from a config. 0 or
 * KR_EUSAGE with the reason.
 */
int
kr_config_endpoint_check(const char *ep)
{
	const char *host, *colon, *c;
	unsigned long port;
	char *end;

	if (strncmp(ep, "ipc://", 6) == 0) {
		if (!ep[6])
			return kr_error(KR_EUSAGE, "'%s' names no socket path (e.g. ipc:///run/kairan/node.sock)", ep);
		return 0;
	}
	if (strncmp(ep, "tcp://", 6) != 0)
		return kr_error(KR_EUSAGE, "'%s' is not an endpoint: it must look like tcp://127.0.0.1:7420", ep);
	host = ep + 6;
	if (!(colon = strrchr(host, ':')) || colon == host)
		return kr_error(KR_EUSAGE, "'%s' needs a host and a port, like tcp://127.0.0.1:7420", ep);
	if (host[0] == '[' ? colon[-1] != ']' : memchr(host, ':', (size_t)(colon - host)) != NULL)
		return kr_error(KR_EUSAGE, "'%s': write an IPv6 address in brackets, like tcp://[::1]:7420", ep);
	for (c = host; c < colon; c++)
		if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
		    strchr(".-_:[]*%", *c)))
			return kr_error(KR_EUSAGE, "'%s': the host may not contain '%c'", ep, *c);
	if (strcmp(colon + 1, "*") == 0)
		return 0;
	errno = 0;
	port = strtoul(colon + 1, &end, 10);
	if (errno || end == colon + 1 || *end || colon[1] == '-' || colon[1] == '+' || port < 1 || port > 65535)
		return kr_error(KR_EUSAGE, "'%s': the port must be a number from 1 to 65535", ep);
	return 0;
}

/*
 * Parses the text of a config into c. Every problem (unknown or duplicate
 * setting, bad value or endpoint) is reported as "PATH:LINE: …" through
 * problem() and parsing goes on, so `kairan config check` names them all;
 * returns their count. c keeps the values of the lines that were good.
 */
static int
s_config_parse(kr_config *c, const char *path, char *text,
    void (*problem)(const char *msg, void *arg), void *arg)
{
	typedef struct { char *key; int line; } s_seen;
	s_seen *seen = NULL;
	size_t nseen = 0;
	char *line, *next;
	int lineno = 0, problems = 0;

#define PROBLEM(fmt, ...) do { /* fmt is a msgid */ \
		char *m_ = kr_sprintf(_(fmt), __VA_ARGS__); \
		problem(m_, arg); \
		free(m_); \
		problems++; \
	} while (0)
	for (line = text; line; line = next) {
		char *eq, *k, *v, *e;
		uint64_t n;
		size_t i;
		if ((next = strchr(line, '\n')))
			*next++ = '\0';
		lineno++;
		while (*line == ' ' || *line == '\t')
			line++;
		if (*line == '#' || *line == '\0' || *line == '\r')
			continue;
		if (!(eq = strchr(line, '='))) {
			PROBLEM("%s:%d: expected `key = value`", path, lineno);
			continue;
		}
		*eq = '\0';
		k = line;
		v = eq + 1;
		for (e = eq - 1; e >= k && (*e == ' ' || *e == '\t'); e--)
			*e = '\0';
		while (*v == ' ' || *v == '\t')
			v++;
		for (e = v + strlen(v) - 1; e >= v && (*e == ' ' || *e == '\t' || *e == '\r'); e--)
			*e = '\0';
		for (i = 0; i < nseen && strcmp(seen[i].key, k) != 0; i++)
			;
		if (i < nseen) {
			PROBLEM("%s:%d: duplicate setting '%s' (first set on line %d; keep one of them)",
			    path, lineno, k, seen[i].line);
			continue;
		}
		seen = kr_realloc(seen, (nseen + 1) * sizeof(*seen));
		seen[nseen++] = (s_seen){ kr_strdup(k), lineno };
		if ((strcmp(k, "listen") == 0 || strcmp(k, "announce") == 0) && kr_config_endpoint_check(v) < 0) {
			PROBLEM("%s:%d: %s: %s", path, lineno, k, kr_errmsg());
			continue;
		}
		if (strcmp(k, "web") == 0 && strcmp(v, "off") != 0 && kr_web_check_url(v) < 0) {
			PROBLEM("%s:%d: web: %s", path, lineno, kr_errmsg());
			continue;
		}
#define STR(key, field) if (strcmp(k, key) == 0) { free(c->field); c->field = kr_strdup(v); continue; }
#define NUM(key, field, type) if (strcmp(k, key) == 0) { \
			if (s_parse_u64(v, &n) < 0) { PROBLEM("%s:%d: %s must be a number", path, lineno, key); continue; } \
			c->field = (type)n; continue; }
		STR("name", name)
		STR("lg_code", lg_code)
		STR("listen", listen)
		STR("announce", announce)
		STR("web", web)
		STR("web.retrieval_keys", web_retrieval_keys)
		NUM("web.threads", web_threads, unsigned)
		NUM("web.timeout", web_timeout, unsigned)
		NUM("web.max_connections", web_max_connections, unsigned)
		NUM("web.per_ip", web_per_ip, unsigned)
		if (strncmp(k, "policy.", 7) == 0) {
			if (kr_policy_rules_set(&c->rules, k + 7, v) < 0)
				PROBLEM("%s:%d: %s", path, lineno, kr_errmsg());
			continue;
		}
		/* older names for two policy settings */
		if (strcmp(k, "max_item_bytes") == 0) {
			kr_policy_rules_set(&c->rules, "publish.max_item_bytes", v);
			kr_policy_rules_set(&c->rules, "accept.max_item_bytes", v);
		}
		if (strcmp(k, "max_collection_bytes") == 0)
			kr_policy_rules_set(&c->rules, "accept.max_collection_bytes", v);
		STR("pii_allow_phones", pii_allow_phones)
		STR("pii_allow_addresses", pii_allow_addresses)
		NUM("max_collection_bytes", max_collection_bytes, uint64_t)
		NUM("max_item_bytes", max_item_bytes, size_t)
		NUM("manifest_ttl", manifest_ttl, int64_t)
		NUM("resign_before", resign_before, int64_t)
		NUM("beacon_ms", beacon_ms, int)
		NUM("timeout_ms", timeout_ms, int)
		NUM("pack_cache_bytes", pack_cache_bytes, size_t)
		NUM("serve_workers", serve_workers, int)
		NUM("serve_queue", serve_queue, int)
		NUM("serve_credit", serve_credit, int)
		if (strcmp(k, "transport") == 0) {
			if (strcmp(v, "curve") != 0 && strcmp(v, "plain") != 0) {
				PROBLEM("%s:%d: transport must be curve or plain", path, lineno);
				continue;
			}
			c->transport_plain = strcmp(v, "plain") == 0;
			continue;
		}
		if (strcmp(k, "transport.admit") == 0) {
			if (strcmp(v, "any") != 0 && strcmp(v, "listed") != 0) {
				PROBLEM("%s:%d: transport.admit must be any or listed", path, lineno);
				continue;
			}
			c->admit_listed = strcmp(v, "listed") == 0;
			continue;
		}
#undef STR
#undef NUM
		PROBLEM("%s:%d: unknown setting '%s' (the settings are listed in kairan-config(5))", path, lineno, k);
	}
	if (!c->name || !c->lg_code)
		PROBLEM("%s: name and lg_code must be set", path);
	if (c->serve_workers < 1 || c->serve_workers > 64)
		PROBLEM("%s: serve_workers must be 1 to 64", path);
	if (c->serve_queue < 1 || c->serve_queue > 65536)
		PROBLEM("%s: serve_queue must be 1 to 65536", path);
	if (c->serve_credit < 1 || c->serve_credit > 1024)
		PROBLEM("%s: serve_credit must be 1 to 1024", path);
#undef PROBLEM
	for (size_t i = 0; i < nseen; i++)
		free(seen[i].key);
	free(seen);
	kr_error_clear();
	return problems;
}

typedef struct {
	kr_buf first;
	int n;
} s_problems;

static void
s_first_problem(const char *msg, void *arg)
{
	s_problems *p = arg;

	if (p->n++ == 0)
		kr_buf_adds(&p->first, msg);
}

/* The defaults, then path; problems go to problem(). Returns their count, or an error reading path. */
static int
s_config_read(kr_config *c, const char *path, void (*problem)(const char *msg, void *arg), void *arg)
{
	kr_buf text = KR_BUF_INIT;
	int rc;

	memset(c, 0, sizeof(*c));
	if ((rc = kr_policy_rules_init(&c->rules)) < 0)
		return rc;
	c->max_collection_bytes = (uint64_t)1 << 30;
	c->max_item_bytes = KR_DEFAULT_MAX_ITEM;
	c->manifest_ttl = 7 * 24 * 3600;
	c->resign_before = c->manifest_ttl / 2;
	c->beacon_ms = 2000;
	c->timeout_ms = 5000;
	c->pack_cache_bytes = (size_t)128 << 20;
	c->serve_workers = 2;
	c->serve_queue = 256;
	c->serve_credit = 8;
	if ((rc = kr_file_read(&text, path)) < 0) {
		kr_config_clear(c);
		return rc;
	}
	rc = s_config_parse(c, path, text.ptr, problem, arg);
	kr_buf_release(&text);
	if (!c->listen)
		c->listen = kr_strdup("tcp://127.0.0.1:7420");
	if (!c->announce)
		c->announce = kr_strdup("tcp://127.0.0.1:7421");
	if (!c->web)
		c->web = kr_strdup("http://127.0.0.1:7480");
	c->pii.phones = c->pii_allow_phones;
	c->pii.addresses = c->pii_allow_addresses;
	c->max_collection_bytes = kr_policy_size(&c->rules, "accept.max_collection_bytes", c->max_collection_bytes);
	c->max_item_bytes = (size_t)kr_policy_size(&c->rules, "publish.max_item_bytes", c->max_item_bytes);
	return rc;
}

int
kr_config_load(kr_config *c, const char *path)
{
	s_problems p = { KR_BUF_INIT, 0 };
	int rc = s_config_read(c, path, s_first_problem, &p);

	if (rc > 0) {
		if (p.n > 1)
			rc = kr_error(KR_ERROR, "%s (and %d more problems; see: kairan config check)", p.first.ptr, p.n - 1);
		else
			rc = kr_error(KR_ERROR, "%s", p.first.ptr);
		kr_config_clear(c);
	}
	kr_buf_release(&p.first);
	return rc;
}

int
kr_config_check(const char *path, void (*problem)(const char *msg, void *arg), void *arg)
{
	kr_config c;
	int rc = s_config_read(&c, path, problem, arg);

	if (rc >= 0)
		kr_config_clear(&c);
	return rc;
}

void
kr_config_clear(kr_config *c)
{
	free(c->name);
	free(c->lg_code);
	free(c->listen);
	free(c->announce);
	free(c->web);
	free(c->web_retrieval_keys);
	free(c->pii_allow_phones);
	free(c->pii_allow_addresses);
	kr_policy_rules_clear(&c->rules);
	memset(c, 0, sizeof(*c));
}

/* The transport key; a home made before federation gets one now (DESIGN §6 migration). */
static int
s_tkey_open(kr_home *h)
{
	char *p = kr_sprintf("%s/keys/node.x25519", h->home);
	int rc = kr_tkey_load(&h->tkey, p);

	if (rc == KR_ENOTFOUND) {
		/* Written aside and linked into place, so nobody reads half a key. */
		char *tmp = kr_tmp_name(p, "new");
		kr_key *k = NULL;
		unlink(tmp);
		if ((rc = kr_tkey_generate(&k)) == 0 && (rc = kr_key_save(k, tmp)) == 0 &&
		    link(tmp, p) < 0 && errno != EEXIST)    /* EEXIST: another process made it first */
			rc = kr_error(KR_EIO, "%s: %s", p, strerror(errno));
		unlink(tmp);
		free(tmp);
		kr_key_destroy(&k);
		if (rc == 0)
			rc = kr_tkey_load(&h->tkey, p);
	}
	free(p);
	return rc;
}

/* ---- follows, kept outside state.db --------------------------------- */

/*
 * <home>/follows lists the peers and the publishers pinned through each,
 * one line per peer: "ENDPOINT FPR FPR…". follow and unfollow rewrite it
 * in the same step as state.db, so a lost or damaged state.db can be
 * rebuilt without asking anyone which publishers to trust.
 */
static const char s_follows_header[] =
	"# kairan: the peers this node follows and the publishers it pins through each.\n"
	"# Kept by `kairan follow` / `kairan unfollow`; `kairan repair` (or a lost\n"
	"# state.db) restores the follows from here. One line per peer:\n"
	"# ENDPOINT [PUBLISHER-FINGERPRINT ...]\n";

int
kr_home_save_follows(kr_home *h)
{
	kr_state_peer *peers;
	size_t n;
	kr_buf b = KR_BUF_INIT;
	char *path;
	int rc;

	if ((rc = kr_state_peers(h->state, &peers, &n)) < 0)
		return rc;
	kr_buf_adds(&b, s_follows_header);
	for (size_t i = 0; i < n; i++) {
		kr_buf_adds(&b, peers[i].endpoint);
		for (size_t j = 0; j < peers[i].npublishers; j++)
			kr_buf_addf(&b, " %s", peers[i].publishers[j]);
		kr_buf_addch(&b, '\n');
	}
	path = kr_sprintf("%s/follows", h->home);
	rc = kr_file_write(path, b.ptr, b.len, 0644);
	free(path);
	kr_buf_release(&b);
	kr_state_peers_free(peers, n);
	return rc;
}

/* Reads <home>/follows into st (one transaction); KR_ENOTFOUND if there is no such file. */
static int
s_follows_restore(kr_state *st, const char *home, size_t *npubs)
{
	char *path = kr_sprintf("%s/follows", home);
	kr_buf text = KR_BUF_INIT;
	char *line, *save = NULL;
	int lineno = 0, rc;

	*npubs = 0;
	if ((rc = kr_file_read(&text, path)) < 0 || (rc = kr_state_begin(st)) < 0) {
		free(path);
		kr_buf_release(&text);
		return rc;
	}
	for (line = strtok_r(text.ptr, "\n", &save); line && rc == 0; line = strtok_r(NULL, "\n", &save)) {
		char *tok, *tsave = NULL, *ep, **pubs = NULL;
		size_t np = 0;
		lineno++;
		if (*line == '#' || !(ep = strtok_r(line, " \t\r", &tsave)))
			continue;
		while (rc == 0 && (tok = strtok_r(NULL, " \t\r", &tsave))) {
			if (!kr_is_hex(tok, KR_FPR_HEX)) {
				rc = kr_error(KR_ERROR, "%s:%d: '%s' is not a publisher fingerprint", path, lineno, tok);
				break;
			}
			pubs = kr_realloc(pubs, (np + 1) * sizeof(char *));
			pubs[np++] = tok;
		}
		if (rc == 0)
			rc = kr_state_follow(st, ep, pubs, np);
		*npubs += np;
		free(pubs);
	}
	if (rc == 0)
		rc = kr_state_commit(st);
	else
		kr_state_rollback(st);
	free(path);
	kr_buf_release(&text);
	return rc;
}

/* The config alone. */
static int
s_open_config(kr_home *h, const char *path)
{
	char *p;
	int rc;

	memset(h, 0, sizeof(*h));
	h->home = kr_strdup(path);
	p = kr_sprintf("%s/config", path);
	rc = kr_config_load(&h->cfg, p);
	free(p);
	if (rc == KR_ENOTFOUND)
		rc = kr_error(KR_ENOTFOUND, "%s is not a kairan home (create one with: kairan --home %s init "
		    "--name NAME --lg-code CODE)", path, path);
	return rc;
}

/* Config and keys (a due key rotation made): who the node is, nothing it holds. */
static int
s_open_base(kr_home *h, const char *path)
{
	char *p;
	int rc;

	if ((rc = s_open_config(h, path)) < 0)
		return rc;
	p = kr_sprintf("%s/keys/node.ed25519", path);
	rc = kr_key_load(&h->key, p);
	free(p);
	if (rc < 0)
		return rc;
	kr_hex(h->fpr, kr_key_pub(h->key), KR_FPR_LEN);
	if ((rc = s_tkey_open(h)) < 0)
		return rc;
	kr_transport_init(h->home, h->tkey, h->cfg.transport_plain, h->cfg.admit_listed);
	/* a key rotation whose time has come (node/keyrot.h); unfinished, the old key goes on */
	if (kr_keyrot_settle(h) < 0) {
		log_warnx("key rotation not finished (the next open goes on with it): %s", kr_errmsg());
		kr_error_clear();
	}
	return 0;
}

/* Only the config (h->cfg) and the path: what a command that hands its work to the running node needs. */
int
kr_home_open_config(kr_home *h, const char *path)
{
	int rc = s_open_config(h, path);

	if (rc < 0)
		kr_home_close(h);
	return rc;
}

int
kr_home_open_identity(kr_home *h, const char *path)
{
	int rc = s_open_base(h, path);

	if (rc < 0)
		kr_home_close(h);
	return rc;
}

static void
s_replica_setup(kr_home *h)
{
	kr_replica_init(&h->rep, h->store, h->state, h->key, h->cfg.name, h->cfg.lg_code);
	h->rep.max_collection_bytes = h->cfg.max_collection_bytes;
	h->rep.rules = &h->cfg.rules;
	h->rep.pii = &h->cfg.pii;
	h->rep.manifest_ttl = h->cfg.manifest_ttl;
}

/*
 * Fills a new, empty state from what the home keeps outside it: the
 * follows, then the signed manifests (checked against the follows), then
 * heads and items from the repositories (kr_replica_reconcile, which also
 * signs a fresh manifest of ours above the last one saved).
 */
static int
s_state_rebuild(kr_home *h, void (*problem)(const char *msg, void *arg), void *arg, kr_repair_report *rep)
{
	size_t pubs = 0, manifests = 0, fixed = 0;
	int rc;

	if ((rc = s_follows_restore(h->state, h->home, &pubs)) < 0 && rc != KR_ENOTFOUND)
		return rc;
	if (rc == KR_ENOTFOUND && problem)
		problem("no follows file in this home: no followed publisher was restored", arg);
	kr_error_clear();
	if ((rc = kr_replica_restore_manifests(&h->rep, problem, arg, &manifests)) < 0 ||
	    (rc = kr_replica_reconcile(&h->rep, problem, arg, &fixed)) < 0)
		return rc;
	{
		/* reconcile indexed whole collections: a compromised key's late items leave the view again */
		size_t dropped = 0;
		if ((rc = kr_replica_revocations(&h->rep, &dropped)) < 0)
			return rc;
	}
	/* reconcile indexed every collection: the schema's own request for a reindex is met */
	if ((rc = kr_state_setting_put(h->state, "reindex", NULL)) < 0)
		return rc;
	if (rep) {
		rep->follows = pubs;
		rep->manifests = manifests;
		rep->collections = fixed;
	}
	return 0;
}

static int
s_open(kr_home *h, const char *path, int own_only)
{
	char *p;
	size_t fixed = 0;
	int rc;

	if ((rc = s_open_base(h, path)) < 0 || (rc = kr_store_open(&h->store, path)) < 0)
		goto fail;
	p = kr_sprintf("%s/state.db", path);
	rc = kr_state_open(&h->state, p);
	free(p);
	if (rc < 0)
		goto fail;
	s_replica_setup(h);
	if ((rc = kr_keyrot_tidy(h)) < 0)
		goto fail;
	if (kr_state_created(h->state)) {
		/* state.db was lost (or this is a new home): take back what the home keeps beside it */
		if ((rc = s_state_rebuild(h, NULL, NULL, NULL)) < 0)
			goto fail;
	} else {
		char *f = kr_sprintf("%s/follows", path);
		int missing = access(f, F_OK) != 0;
		free(f);
		/* homes made before the copies outside state.db existed (best effort: a read-only user goes on) */
		if (missing)
			kr_home_save_follows(h);
		kr_replica_keep(&h->rep);
		kr_error_clear();
	}
	if ((rc = own_only ? kr_replica_reconcile_own(&h->rep, &fixed)
	                   : kr_replica_reconcile(&h->rep, NULL, NULL, &fixed)) < 0)
		goto fail;
	{
		/* A schema change asked for the item index to be rebuilt from git. */
		char *flag = kr_state_setting(h->state, "reindex");
		if (flag) {
			size_t colls, items;
			if ((rc = kr_replica_reindex(&h->rep, NULL, NULL, &colls, &items)) == 0)
				rc = kr_state_setting_put(h->state, "reindex", NULL);
			free(flag);
			if (rc < 0)
				goto fail;
		}
	}
	return 0;
fail:
	kr_home_close(h);
	return rc;
}

int
kr_home_open(kr_home *h, const char *path)
{
	return s_open(h, path, 0);
}

int
kr_home_open_own(kr_home *h, const char *path)
{
	return s_open(h, path, 1);
}

/* Copies the follows of a damaged state.db, if it still answers, into st. */
static int
s_follows_salvage(kr_state *st, const char *old_path, size_t *npubs)
{
	kr_state *old = NULL;
	kr_state_peer *peers = NULL;
	size_t n = 0;
	int rc;

	*npubs = 0;
	if ((rc = kr_state_open(&old, old_path)) < 0 || (rc = kr_state_peers(old, &peers, &n)) < 0) {
		kr_state_destroy(&old);
		return rc;
	}
	if ((rc = kr_state_begin(st)) == 0) {
		for (size_t i = 0; i < n && rc == 0; i++) {
			rc = kr_state_follow(st, peers[i].endpoint, peers[i].publishers, peers[i].npublishers);
			*npubs += peers[i].npublishers;
		}
		if (rc == 0)
			rc = kr_state_commit(st);
		else
			kr_state_rollback(st);
	}
	kr_state_peers_free(peers, n);
	kr_state_destroy(&old);
	return rc;
}

static void
s_unlink_db(const char *path)
{
	char *p;

	unlink(path);
	p = kr_sprintf("%s-wal", path);
	unlink(p);
	free(p);
	p = kr_sprintf("%s-shm", path);
	unlink(p);
	free(p);
}

/*
 * Puts the rebuilt state in place: the old state.db (and its -wal, -shm)
 * moves to state.db.damaged-<time>, the new one takes its name by one
 * rename. Before that rename nothing is lost: a failure puts the WAL back.
 */
static int
s_state_swap(const char *home, const char *tmp, char **aside)
{
	char *db = kr_sprintf("%s/state.db", home), stamp[32], iso[32];
	char *wal = kr_sprintf("%s-wal", db), *shm = kr_sprintf("%s-shm", db);
	char *awal = NULL, *ashm = NULL;
	size_t k = 0;
	int rc = 0, moved_wal = 0, fd;

	kr_time_iso(iso, kr_now());
	for (const char *c = iso; *c; c++)
		if (*c != ':' && *c != '-')
			stamp[k++] = *c;
	stamp[k] = '\0';
	*aside = kr_sprintf("%s/state.db.damaged-%s", home, stamp);
	awal = kr_sprintf("%s-wal", *aside);
	ashm = kr_sprintf("%s-shm", *aside);
	if (access(db, F_OK) == 0) {
		if (link(db, *aside) < 0) {
			rc = kr_error(KR_EIO, "%s: %s", *aside, strerror(errno));
			goto done;
		}
		/* a stale WAL must never meet the new file */
		if (rename(wal, awal) == 0)
			moved_wal = 1;
		else if (errno != ENOENT)
			rc = kr_error(KR_EIO, "%s: %s", wal, strerror(errno));
		if (rc == 0 && rename(shm, ashm) < 0 && errno != ENOENT)
			rc = kr_error(KR_EIO, "%s: %s", shm, strerror(errno));
	} else {
		free(*aside);
		*aside = NULL;
	}
	if (rc == 0 && rename(tmp, db) < 0)
		rc = kr_error(KR_EIO, "%s: %s", db, strerror(errno));
	if (rc < 0) {
		if (moved_wal)
			rename(awal, wal);
		if (*aside)
			unlink(*aside);
		free(*aside);
		*aside = NULL;
		goto done;
	}
	if ((fd = open(home, O_RDONLY | O_DIRECTORY)) >= 0) {
		fsync(fd);
		close(fd);
	}
done:
	free(db);
	free(wal);
	free(shm);
	free(awal);
	free(ashm);
	return rc;
}

int
kr_home_repair(const char *path, void (*problem)(const char *msg, void *arg), void *arg, kr_repair_report *rep)
{
	kr_home h;
	char *tmp = NULL, *db = NULL;
	int rc;

	memset(rep, 0, sizeof(*rep));
	if ((rc = s_open_base(&h, path)) < 0 || (rc = kr_store_open(&h.store, path)) < 0)
		goto done;
	/* 1. objects: damaged packs of mirrored collections go aside (the next sync re-fetches them) */
	kr_replica_init(&h.rep, h.store, NULL, h.key, h.cfg.name, h.cfg.lg_code);
	if ((rc = kr_replica_set_aside_damaged(&h.rep, problem, arg, &rep->reset, &rep->objects)) < 0)
		goto done;
	rep->damaged_left = (size_t)rc;
	/* 2. a new state.db beside the old one, filled from git and the copies kept in the home */
	db = kr_sprintf("%s/state.db", path);
	tmp = kr_sprintf("%s/state.db.repair-%d", path, (int)getpid());
	s_unlink_db(tmp);
	if ((rc = kr_state_open(&h.state, tmp)) < 0)
		goto done;
	s_replica_setup(&h);
	{
		char *f = kr_sprintf("%s/follows", path);
		int have_file = access(f, F_OK) == 0;
		free(f);
		if (!have_file && access(db, F_OK) == 0) {
			size_t n = 0;
			if (s_follows_salvage(h.state, db, &n) == 0) {
				problem("no follows file: the follows were read from the old state.db", arg);
				if ((rc = kr_home_save_follows(&h)) < 0)
					goto done;
			} else {
				char *msg = kr_sprintf(_("no follows file, and the old state.db cannot list them (%s): "
				    "follow your peers again after the repair"), kr_errmsg());
				problem(msg, arg);
				free(msg);
			}
			kr_error_clear();
		}
	}
	if ((rc = s_state_rebuild(&h, problem, arg, rep)) < 0)
		goto done;
	kr_state_destroy(&h.state); /* the last connection: its WAL is folded in */
	/* 3. one rename puts it in place */
	rc = s_state_swap(path, tmp, &rep->aside);
done:
	if (rc < 0 && tmp)
		s_unlink_db(tmp);
	kr_home_close(&h);
	free(tmp);
	free(db);
	return rc;
}

void
kr_home_close(kr_home *h)
{
	kr_replica_release(&h->rep);
	kr_store_destroy(&h->store);
	kr_state_destroy(&h->state);
	kr_key_destroy(&h->key);
	kr_key_destroy(&h->tkey);
	kr_config_clear(&h->cfg);
	free(h->home);
	memset(h, 0, sizeof(*h));
}
