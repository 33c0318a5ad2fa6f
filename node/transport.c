/*
 * node/transport.c - CURVE + ZAP on every socket, admission, server keys
 *
 * See transport.h for the rules (which key a client uses, who is admitted,
 * the introduction). Files under <home>/transport/:
 *   pins       "ENDPOINT HEXKEY HOW NODEFPR ISSUED PINNED_AT" per line;
 *              HOW is given, publisher or tofu
 *   admitted   "HEXKEY NODEFPR LGCODE NAME" per line (`kairan admit`)
 * Both are rewritten whole (temp file, rename) under an flock on
 * transport/lock, so the daemon and a CLI never lose each other's lines.
 *
 * Threads: s_id is written by kr_transport_init before threads start (and
 * again, identically, by later opens of the same home), read by all. The
 * guard thread owns the ZAP socket and the UDP introduction socket; its
 * caches (membership, admitted) are its own.
 */
#include "transport.h"

#include <arpa/inet.h>
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "zmqdl.h"   /* <zmq.h>, libzmq loaded on first use */

#include "../sharing/fedstore.h"
#include "log.h"

#ifndef ZMQ_ZAP_ENFORCE_DOMAIN
#define ZMQ_ZAP_ENFORCE_DOMAIN 93    /* libzmq 4.3 (draft in its header, present in the library) */
#endif

#define ZAP_EP "inproc://zeromq.zap.01"
#define INTRO_ASK "kairan1?"
#define INTRO_ANSWER "kairan1!"
#define INTRO_ASK_LEN 256            /* a request is larger than its answer: no amplification */
#define INTRO_BODY_LEN (32 + 32 + 8)
#define INTRO_LEN (8 + INTRO_BODY_LEN + 64)
#define INTRO_TYPE "transport"
#define INTRO_PER_SECOND 200         /* answers, all addresses together */
#define INTRO_RETRY_MS 250
#define INTRO_CHECK_MS 300           /* a pinned key's check at connect time */
#define REFUSAL_LOG_MS 60000         /* one refusal line per address per minute */

/* ---- identity ------------------------------------------------------------ */

static struct {
	pthread_mutex_t lock;
	int set, plain, admit_listed;
	char *home;
	uint8_t pub[32], sec[32];
	char zpub[41], zsec[41];
} s_id = { .lock = PTHREAD_MUTEX_INITIALIZER };

static const atomic_int *s_cancel;   /* set: introductions stop waiting (a daemon stopping) */

void
kr_transport_cancel_on(const atomic_int *stop)
{
	s_cancel = stop;
}

static void
s_set_keys(const uint8_t pub[32], const uint8_t sec[32])
{
	memcpy(s_id.pub, pub, 32);
	memcpy(s_id.sec, sec, 32);
	zmq_z85_encode(s_id.zpub, s_id.pub, 32);
	zmq_z85_encode(s_id.zsec, s_id.sec, 32);
}

void
kr_transport_init(const char *home, const kr_key *tkey, int plain, int admit_listed)
{
	uint8_t sec[32];

	pthread_mutex_lock(&s_id.lock);
	if (!s_id.set || !s_id.home || strcmp(s_id.home, home) != 0 || memcmp(s_id.pub, kr_key_pub(tkey), 32) != 0) {
		if (kr_key_secret(tkey, sec) == 0) {
			free(s_id.home);
			s_id.home = kr_strdup(home);
			s_set_keys(kr_key_pub(tkey), sec);
			s_id.plain = plain;
			s_id.admit_listed = admit_listed;
			s_id.set = 1;
		}
		memset(sec, 0, sizeof(sec));
	}
	pthread_mutex_unlock(&s_id.lock);
}

void
kr_transport_init_tool(void)
{
	const char *env = getenv("KAIRAN_TRANSPORT");
	char zpub[41], zsec[41];
	uint8_t pub[32], sec[32];

	const char *home = getenv("KAIRAN_TOOL_HOME");
	kr_key *k = NULL;
	char *p = home ? kr_sprintf("%s/keys/node.x25519", home) : NULL;

	/* KAIRAN_TOOL_HOME: the tool speaks with that home's transport key (a test admits it) */
	if (p && kr_tkey_load(&k, p) < 0) {
		fprintf(stderr, _("KAIRAN_TOOL_HOME: %s\n"), kr_errmsg());
		exit(3);
	}
	free(p);
	pthread_mutex_lock(&s_id.lock);
	if (k && kr_key_secret(k, sec) == 0) {
		s_set_keys(kr_key_pub(k), sec);
		s_id.plain = env && strcmp(env, "plain") == 0;
		s_id.set = 1;
	} else if (zmq_curve_keypair(zpub, zsec) == 0) {
		zmq_z85_decode(pub, zpub);
		zmq_z85_decode(sec, zsec);
		s_set_keys(pub, sec);
		s_id.plain = env && strcmp(env, "plain") == 0;
		s_id.set = 1;
	}
	pthread_mutex_unlock(&s_id.lock);
	memset(sec, 0, sizeof(sec));
	kr_key_destroy(&k);
}

int
kr_transport_plain(void)
{
	return s_id.plain;
}

void
kr_transport_public_z85(char out[41])
{
	memcpy(out, s_id.zpub, 41);
}

/* ---- endpoints and keys ------------------------------------------------ */

static int
s_parse_key(uint8_t key[32], const char *s)
{
	size_t n = strlen(s);

	if (n == 40 && zmq_z85_decode(key, s))
		return 0;
	if (n == 64 && kr_unhex(key, 32, s) == 0)
		return 0;
	return kr_error(KR_EUSAGE, "'%s' is not a transport key (40 Z85 or 64 hex characters, from "
	    "kairan id on that node)", s);
}

int
kr_transport_split(const char *endpoint, char **bare, uint8_t key[32], int *has_key)
{
	const char *hash = strchr(endpoint, '#');

	*has_key = 0;
	*bare = NULL;
	if (!hash) {
		*bare = kr_strdup(endpoint);
		return 0;
	}
	if (s_parse_key(key, hash + 1) < 0)
		return kr_error_prefix(KR_EUSAGE, "endpoint %.*s", (int)(hash - endpoint), endpoint);
	*bare = kr_strndup(endpoint, (size_t)(hash - endpoint));
	*has_key = 1;
	return 0;
}

/* "tcp://HOST:PORT" -> host and port (host without brackets); -1 if not tcp. */
static int
s_host_port(const char *ep, char *host, size_t hostlen, char *port, size_t portlen)
{
	const char *h, *colon;

	if (strncmp(ep, "tcp://", 6) != 0)
		return -1;
	h = ep + 6;
	if (!(colon = strrchr(h, ':')) || colon == h || !colon[1])
		return -1;
	if (*h == '[' && colon[-1] == ']')
		snprintf(host, hostlen, "%.*s", (int)(colon - h - 2), h + 1);
	else
		snprintf(host, hostlen, "%.*s", (int)(colon - h), h);
	snprintf(port, portlen, "%s", colon + 1);
	return 0;
}

/* ---- the files ----------------------------------------------------------- */

static char *
s_path(const char *home, const char *name)
{
	return kr_sprintf("%s/transport/%s", home, name);
}

/* Takes the lock on <home>/transport (the directory is made if missing); returns the fd. */
static int
s_lock(const char *home)
{
	char *dir = kr_sprintf("%s/transport", home), *p = s_path(home, "lock");
	int fd;

	kr_mkdir_p(dir, 0700);
	fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		kr_error(KR_EIO, "%s: %s", p, strerror(errno));
	else
		flock(fd, LOCK_EX);
	free(dir);
	free(p);
	return fd;
}

static void
s_unlock(int fd)
{
	if (fd >= 0)
		close(fd);
}

typedef struct {
	char *endpoint;
	uint8_t key[32], node[32];
	char how[16];
	int64_t issued, at;
} s_pin;

static void
s_pins_free(s_pin *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(p[i].endpoint);
	free(p);
}

/* Calls each for every line of <home>/<name> but comments; a missing file has none. */
static int
s_lines(const char *home, const char *name, void (*each)(const char *line, void *arg), void *arg)
{
	char *path = s_path(home, name);
	kr_buf text = KR_BUF_INIT;
	char *line, *save = NULL;
	int rc = kr_file_read(&text, path);

	free(path);
	if (rc == KR_ENOTFOUND) {
		kr_error_clear();
		return 0;
	}
	if (rc < 0)
		return rc;
	for (line = strtok_r(text.ptr, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		if (*line != '#')
			each(line, arg);
	kr_buf_release(&text);
	return 0;
}

typedef struct {
	s_pin *v;
	size_t n;
} s_pins;

static void
s_pin_line(const char *line, void *arg)
{
	s_pins *ps = arg;
	char ep[KR_ENDPOINT_MAX + 1], key[65], node[65], how[16];
	long long issued, at;
	s_pin p = { 0 };

	if (sscanf(line, "%256s %64s %15s %64s %lld %lld", ep, key, how, node, &issued, &at) != 6 ||
	    kr_unhex(p.key, 32, key) < 0 || kr_unhex(p.node, 32, node) < 0)
		return;
	p.endpoint = kr_strdup(ep);
	snprintf(p.how, sizeof(p.how), "%s", how);
	p.issued = issued;
	p.at = at;
	ps->v = kr_realloc(ps->v, (ps->n + 1) * sizeof(s_pin));
	ps->v[ps->n++] = p;
}

static int
s_pins_read(const char *home, s_pin **out, size_t *n)
{
	s_pins ps = { NULL, 0 };
	int rc = s_lines(home, "pins", s_pin_line, &ps);

	*out = ps.v;
	*n = ps.n;
	return rc;
}

static int
s_pins_write(const char *home, const s_pin *p, size_t n)
{
	kr_buf b = KR_BUF_INIT;
	char *path = s_path(home, "pins");
	int rc;

	kr_buf_adds(&b, "# kairan: transport keys of the nodes this node connects to (see kairan help follow).\n"
	    "# ENDPOINT KEY HOW(given|publisher|tofu) NODE-FINGERPRINT ISSUED PINNED-AT\n");
	for (size_t i = 0; i < n; i++) {
		char key[65], node[65];
		kr_hex(key, p[i].key, 32);
		kr_hex(node, p[i].node, 32);
		kr_buf_addf(&b, "%s %s %s %s %lld %lld\n", p[i].endpoint, key, p[i].how, node,
		    (long long)p[i].issued, (long long)p[i].at);
	}
	rc = kr_file_write(path, b.ptr, b.len, 0600);
	free(path);
	kr_buf_release(&b);
	return rc;
}

static const s_pin *
s_pin_find(const s_pin *p, size_t n, const char *ep)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(p[i].endpoint, ep) == 0)
			return &p[i];
	return NULL;
}

/* A process without a home (a test tool) keeps what it learned in memory, for its other connections. */
static struct {
	char ep[KR_ENDPOINT_MAX + 1];
	uint8_t key[32];
	int set;
} s_toolpin;

/* Replaces (or adds, or with key NULL removes) endpoint's pin, under the lock. */
static int
s_pin_set(const char *ep, const uint8_t *key, const uint8_t *node, const char *how, int64_t issued)
{
	s_pin *p = NULL;
	size_t n = 0, i;
	int fd, rc;

	if (!s_id.home) {
		pthread_mutex_lock(&s_id.lock);
		if (key) {
			snprintf(s_toolpin.ep, sizeof(s_toolpin.ep), "%s", ep);
			memcpy(s_toolpin.key, key, 32);
			s_toolpin.set = 1;
		}
		pthread_mutex_unlock(&s_id.lock);
		return 0;
	}
	if ((fd = s_lock(s_id.home)) < 0)
		return KR_EIO;
	if ((rc = s_pins_read(s_id.home, &p, &n)) == 0) {
		for (i = 0; i < n && strcmp(p[i].endpoint, ep) != 0; i++)
			;
		if (!key) {
			if (i < n) {
				free(p[i].endpoint);
				p[i] = p[--n];
			} else {
				rc = kr_error(KR_ENOTFOUND, "no transport key is pinned for %s", ep);
			}
		} else {
			if (i == n) {
				p = kr_realloc(p, (n + 1) * sizeof(s_pin));
				memset(&p[n], 0, sizeof(s_pin));
				p[n++].endpoint = kr_strdup(ep);
			}
			memcpy(p[i].key, key, 32);
			if (node)
				memcpy(p[i].node, node, 32);
			else
				memset(p[i].node, 0, 32);
			snprintf(p[i].how, sizeof(p[i].how), "%s", how);
			p[i].issued = issued;
			p[i].at = kr_now();
		}
		if (rc == 0)
			rc = s_pins_write(s_id.home, p, n);
	}
	s_pins_free(p, n);
	s_unlock(fd);
	return rc;
}

int
kr_transport_pin_given(const char *endpoint)
{
	char *bare;
	uint8_t key[32];
	int has, rc;

	if ((rc = kr_transport_split(endpoint, &bare, key, &has)) < 0)
		return rc;
	if (has)
		rc = s_pin_set(bare, key, NULL, "given", 0);
	free(bare);
	return rc;
}

int
kr_transport_unpin(const char *endpoint)
{
	return s_pin_set(endpoint, NULL, NULL, NULL, 0);
}

/* The publishers <home>/follows pins through ep (caller frees with kr_strv_free). */
static char **
s_followed(const char *ep, size_t *n)
{
	char *path = kr_sprintf("%s/follows", s_id.home);
	kr_buf text = KR_BUF_INIT;
	char *line, *save = NULL, **out = NULL;

	*n = 0;
	if (kr_file_read(&text, path) == 0)
		for (line = strtok_r(text.ptr, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
			char *tsave = NULL, *tok = strtok_r(line, " \t\r", &tsave);
			if (*line == '#' || !tok || strcmp(tok, ep) != 0)
				continue;
			while ((tok = strtok_r(NULL, " \t\r", &tsave))) {
				out = kr_realloc(out, (*n + 1) * sizeof(char *));
				out[(*n)++] = kr_strdup(tok);
			}
		}
	kr_error_clear();
	kr_buf_release(&text);
	free(path);
	return out;
}

/* ---- the membership document --------------------------------------------- */

static int
s_member_current(const kr_membership *m, const kr_fed_member *x, int64_t now)
{
	return x->has_curve && (!x->valid_until || x->valid_until > now) && !kr_fed_revocation(m, x->key);
}

/* The transport key of a current member listing ep (bare) among its endpoints. */
static int
s_member_key(const char *ep, uint8_t key[32])
{
	kr_fedstore f;
	int found = 0;

	if (!s_id.home || kr_fedstore_open(&f, s_id.home) < 0) {
		kr_error_clear();
		return 0;
	}
	for (size_t i = 0; f.have && !found && i < f.cur.nmembers; i++) {
		const kr_fed_member *x = &f.cur.members[i];
		if (!s_member_current(&f.cur, x, kr_now()))
			continue;
		for (size_t j = 0; j < x->nendpoints; j++) {
			size_t l = strcspn(x->endpoints[j], "#");
			if (strlen(ep) == l && strncmp(x->endpoints[j], ep, l) == 0) {
				memcpy(key, x->curve, 32);
				found = 1;
				break;
			}
		}
	}
	kr_fedstore_close(&f);
	return found;
}

void
kr_transport_domain(char out[65])
{
	kr_fedstore f;

	snprintf(out, 65, "kairan");
	if (s_id.home && kr_fedstore_open(&f, s_id.home) == 0) {
		if (f.pinned)
			kr_fedstore_id_hex(&f, out);
		kr_fedstore_close(&f);
	}
	kr_error_clear();
}

/* ---- introduction ------------------------------------------------------- */

typedef struct {
	uint8_t node[32], key[32];
	int64_t issued;
} s_intro;

static int
s_intro_parse(s_intro *in, const uint8_t *d, size_t len)
{
	if (len != INTRO_LEN || memcmp(d, INTRO_ANSWER, 8) != 0)
		return kr_error(KR_EPROTO, "not an introduction");
	if (kr_signed_verify(d + 8, INTRO_TYPE, d + 8, INTRO_BODY_LEN, d + 8 + INTRO_BODY_LEN) < 0)
		return kr_error(KR_EVERIFY, "the introduction's signature does not verify");
	memcpy(in->node, d + 8, 32);
	memcpy(in->key, d + 40, 32);
	in->issued = 0;
	for (int i = 0; i < 8; i++)
		in->issued = (in->issued << 8) | d[72 + i];
	return 0;
}

/* Asks ep (bare, tcp://) for its introduction; KR_ETIMEOUT without an answer in timeout_ms. */
static int
s_introduce(const char *ep, int timeout_ms, s_intro *out)
{
	struct addrinfo hints = { .ai_socktype = SOCK_DGRAM }, *ai = NULL;
	char host[256], port[16];
	uint8_t ask[INTRO_ASK_LEN] = INTRO_ASK, buf[INTRO_LEN + 1];
	double deadline = kr_monotonic_ms() + timeout_ms, next = 0;
	int fd = -1, rc;

	if (s_host_port(ep, host, sizeof(host), port, sizeof(port)) < 0)
		return kr_error(KR_ENOTFOUND, "%s: an introduction needs a tcp:// endpoint", ep);
	if ((rc = getaddrinfo(host, port, &hints, &ai)) != 0)
		return kr_error(KR_ENOTFOUND, "%s: %s", ep, gai_strerror(rc));
	fd = socket(ai->ai_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
		rc = kr_error(KR_EIO, "%s: %s", ep, strerror(errno));
		goto done;
	}
	rc = KR_ETIMEOUT;
	for (;;) {
		double now = kr_monotonic_ms();
		struct pollfd pfd = { fd, POLLIN, 0 };
		ssize_t n;
		if (now >= deadline || (s_cancel && atomic_load(s_cancel)))
			break;
		if (now >= next) {
			(void)send(fd, ask, sizeof(ask), 0);
			next = now + INTRO_RETRY_MS;
		}
		if (poll(&pfd, 1, (int)((next < deadline ? next : deadline) - now) + 1) <= 0)
			continue;
		n = recv(fd, buf, sizeof(buf), 0);
		if (n < 0 && errno == ECONNREFUSED) {
			/* ICMP port unreachable: nothing serves introductions there */
			rc = kr_error(KR_ETIMEOUT, "%s did not answer: nothing listens there (is the node running?)", ep);
			goto done;
		}
		if (n > 0 && s_intro_parse(out, buf, (size_t)n) == 0) {
			rc = 0;
			break;
		}
	}
	if (rc == KR_ETIMEOUT)
		rc = kr_error(KR_ETIMEOUT, "%s did not answer an introduction within %d ms (is the node running?)",
		    ep, timeout_ms);
done:
	if (fd >= 0)
		close(fd);
	freeaddrinfo(ai);
	return rc;
}

static void
s_key_z85(char out[41], const uint8_t key[32])
{
	zmq_z85_encode(out, key, 32);
}

/* The refusal of a changed key, with the command that accepts it. */
static int
s_changed(const char *ep, const s_pin *pin, const s_intro *in)
{
	char now[41], old[41], when[32], node[KR_FPR_HEX + 1];
	size_t np;
	char **pubs = s_followed(ep, &np);
	kr_buf accept = KR_BUF_INIT;
	int rc;

	s_key_z85(now, in->key);
	s_key_z85(old, pin->key);
	kr_hex(node, in->node, 32);
	kr_time_iso(when, pin->at);
	kr_buf_addf(&accept, "kairan follow '%s#%s'", ep, now);
	for (size_t i = 0; i < np; i++)
		kr_buf_addf(&accept, " --publisher %s", pubs[i]);
	if (!np)
		kr_buf_adds(&accept, " --publisher FPR");
	rc = kr_error(KR_EVERIFY, "transport key of %s changed: it presents %s (node %.16s…), not %s "
	    "pinned on %s (%s); refusing to connect. If that node's key changed on purpose, accept the "
	    "new one with: %s", ep, now, node, old, when, pin->how, accept.ptr);
	kr_strv_free(pubs, np);
	kr_buf_release(&accept);
	return rc;
}

/*
 * Pins what an introduction said: against the existing pin (a change must
 * be signed by the pinned node key, newer), else as a new pin.
 */
static int
s_pin_intro(const char *ep, const s_pin *pin, const s_intro *in)
{
	char **pubs;
	size_t np;
	const char *how = "tofu";
	char node[KR_FPR_HEX + 1];

	if (pin) {
		if (memcmp(pin->key, in->key, 32) == 0)
			return 0;
		if (memcmp(pin->node, in->node, 32) != 0 || in->issued <= pin->issued || !strcmp(pin->how, "given"))
			return s_changed(ep, pin, in);
		kr_hex(node, in->node, 32);
		log_info("peer %s: transport key rotated, vouched for by its node key %.16s…; pinned the new one",
		    ep, node);
		how = pin->how;
	} else {
		kr_hex(node, in->node, 32);
		pubs = s_followed(ep, &np);
		for (size_t i = 0; i < np; i++)
			if (strcmp(pubs[i], node) == 0)
				how = "publisher";
		kr_strv_free(pubs, np);
		if (s_id.home)
			log_info("peer %s: transport key learned on first contact, signed by node %.16s… (%s); pinned",
		    ep, node, strcmp(how, "publisher") == 0 ? "the followed publisher" : "trust on first use");
	}
	return s_pin_set(ep, in->key, in->node, how, in->issued);
}

/* Where the server key of ep (bare) comes from, in the order of transport.h. */
static int
s_server_key(const char *ep, uint8_t key[32], int flags, int timeout_ms, const char **from)
{
	s_pin *pins = NULL;
	size_t n = 0;
	const s_pin *pin;
	s_intro in;
	int rc;

	if (s_member_key(ep, key)) {
		*from = "the membership document";
		return 0;
	}
	if (!s_id.home) {
		int hit;
		pthread_mutex_lock(&s_id.lock);
		if ((hit = s_toolpin.set && strcmp(s_toolpin.ep, ep) == 0))
			memcpy(key, s_toolpin.key, 32);
		pthread_mutex_unlock(&s_id.lock);
		if (hit) {
			*from = "learned";
			return 0;
		}
	}
	if (s_id.home && (rc = s_pins_read(s_id.home, &pins, &n)) < 0)
		return rc;
	if ((pin = s_pin_find(pins, n, ep))) {
		/*
		 * A key learned by introduction is checked against a fresh one (a
		 * local round trip): a rotation the pinned node key signed is taken
		 * now, any other change is refused now, not after a timeout. No
		 * answer (UDP filtered) keeps the pin.
		 */
		memcpy(key, pin->key, 32);
		*from = "pinned";
		rc = 0;
		if (strcmp(pin->how, "given") != 0 && !(flags & KR_TRANSPORT_NO_INTRO) &&
		    s_introduce(ep, INTRO_CHECK_MS, &in) == 0 && memcmp(in.key, pin->key, 32) != 0) {
			if ((rc = s_pin_intro(ep, pin, &in)) == 0) {
				memcpy(key, in.key, 32);
				*from = "rotated";
			}
		}
		if (rc == 0)
			kr_error_clear();    /* an unanswered check is not an error */
		s_pins_free(pins, n);
		return rc;
	}
	s_pins_free(pins, n);
	if (flags & KR_TRANSPORT_NO_INTRO)
		return kr_error(KR_ENOTFOUND, "no transport key known for %s", ep);
	if ((rc = s_introduce(ep, timeout_ms, &in)) < 0)
		return rc == KR_ETIMEOUT ? rc : kr_error_prefix(rc, "no transport key for %s (give it as %s#KEY, "
		    "KEY from kairan id on that node)", ep, ep);
	if ((rc = s_pin_intro(ep, NULL, &in)) < 0)
		return rc;
	memcpy(key, in.key, 32);
	*from = "introduced";
	return 0;
}

/* ---- client sockets --------------------------------------------------------- */

static int
s_curve_client(void *sock, const uint8_t server[32])
{
	char zs[41];

	zmq_z85_encode(zs, server, 32);
	if (zmq_setsockopt(sock, ZMQ_CURVE_SERVERKEY, zs, 40) < 0 ||
	    zmq_setsockopt(sock, ZMQ_CURVE_PUBLICKEY, s_id.zpub, 40) < 0 ||
	    zmq_setsockopt(sock, ZMQ_CURVE_SECRETKEY, s_id.zsec, 40) < 0)
		return kr_error(KR_EIO, "CURVE client: %s", zmq_strerror(zmq_errno()));
	return 0;
}

int
kr_transport_connect(void *sock, const char *endpoint, const char *key_of, int flags, int timeout_ms)
{
	char *bare = NULL, *kbare = NULL;
	uint8_t key[32];
	const char *from = "given";
	int has = 0, khas = 0, rc;

	if (!s_id.set)
		return kr_error(KR_ERROR, "transport not set up (no home opened)");
	if ((rc = kr_transport_split(endpoint, &bare, key, &has)) < 0)
		return rc;
	if (s_id.plain) {
		rc = zmq_connect(sock, bare) < 0 ? kr_error(KR_EUSAGE, "cannot connect to %s: %s", bare,
		    zmq_strerror(zmq_errno())) : 0;
		goto done;
	}
	if (key_of && (rc = kr_transport_split(key_of, &kbare, key, &khas)) < 0)
		goto done;
	if (has && !key_of)
		rc = s_pin_set(bare, key, NULL, "given", 0);
	else if (!khas)
		rc = s_server_key(kbare ? kbare : bare, key, flags, timeout_ms, &from);
	if (rc < 0 || (rc = s_curve_client(sock, key)) < 0)
		goto done;
	if (zmq_connect(sock, bare) < 0) {
		rc = kr_error(KR_EUSAGE, "cannot connect to %s: %s", bare, zmq_strerror(zmq_errno()));
		goto done;
	}
	{
		char z[41];
		s_key_z85(z, key);
		log_debug("peer %s: %s client, server key %s (%s)", bare, kr_transport_mechanism(sock), z, from);
	}
done:
	free(bare);
	free(kbare);
	return rc;
}

int
kr_transport_check(const char *endpoint, int timeout_ms)
{
	s_pin *pins = NULL;
	size_t n = 0;
	const s_pin *pin;
	s_intro in;
	char *bare;
	uint8_t key[32];
	int has, rc = 0;

	if (s_id.plain || !s_id.home || kr_transport_split(endpoint, &bare, key, &has) < 0) {
		kr_error_clear();
		return 0;
	}
	if (!has && s_pins_read(s_id.home, &pins, &n) == 0 && (pin = s_pin_find(pins, n, bare)) &&
	    !s_member_key(bare, key) && s_introduce(bare, timeout_ms, &in) == 0 &&
	    memcmp(in.key, pin->key, 32) != 0)
		rc = s_pin_intro(bare, pin, &in) < 0 ? KR_EVERIFY : 1;
	if (rc == 0)
		kr_error_clear();
	s_pins_free(pins, n);
	free(bare);
	return rc;
}

/* ---- server sockets ---------------------------------------------------- */

int
kr_transport_serve(void *sock, const char *domain)
{
	int one = 1;

	assert(domain && *domain);
	if (s_id.plain)
		return 0;
	if (!s_id.set)
		return kr_error(KR_ERROR, "transport not set up (no home opened)");
	if (zmq_setsockopt(sock, ZMQ_ZAP_DOMAIN, domain, strlen(domain)) < 0 ||
	    zmq_setsockopt(sock, ZMQ_ZAP_ENFORCE_DOMAIN, &one, sizeof(one)) < 0 ||
	    zmq_setsockopt(sock, ZMQ_CURVE_SERVER, &one, sizeof(one)) < 0 ||
	    zmq_setsockopt(sock, ZMQ_CURVE_SECRETKEY, s_id.zsec, 40) < 0)
		return kr_error(KR_EIO, "CURVE server (ZAP domain %s): %s; refusing to serve without it",
		    domain, zmq_strerror(zmq_errno()));
	return 0;
}

const char *
kr_transport_mechanism(void *sock)
{
	int m = -1;
	size_t len = sizeof(m);

	zmq_getsockopt(sock, ZMQ_MECHANISM, &m, &len);
	return m == ZMQ_CURVE ? "CURVE" : m == ZMQ_NULL ? "NULL" : m == ZMQ_PLAIN ? "PLAIN" : "unknown";
}

/* ---- the guard: ZAP and introductions ------------------------------------ */

struct kr_guard {
	void *zap;                     /* REP on ZAP_EP */
	int udp;                       /* introductions, -1: none */
	int wake[2];                   /* kr_guard_stop writes: the thread sleeps without a timeout */
	pthread_t thread;
	int started;
	atomic_int stop;
	uint8_t intro[INTRO_LEN];
	/* the thread's caches */
	struct stat fed_st, adm_st;
	int fed_have;
	kr_membership fed;
	uint8_t (*admitted)[32];
	uint8_t (*admitted_node)[32];
	size_t nadmitted;
	double intro_window;
	int intro_count;
	size_t admitted_total, refused_total;
};

static int
s_stat_changed(const char *path, struct stat *old)
{
	struct stat st;

	if (stat(path, &st) < 0)
		memset(&st, 0, sizeof(st));
	if (st.st_ino == old->st_ino && st.st_size == old->st_size && st.st_mtim.tv_sec == old->st_mtim.tv_sec &&
	    st.st_mtim.tv_nsec == old->st_mtim.tv_nsec && st.st_dev == old->st_dev)
		return 0;
	*old = st;
	return 1;
}

static void
s_admitted_free(kr_guard *g)
{
	free(g->admitted);
	free(g->admitted_node);
	g->admitted = NULL;
	g->admitted_node = NULL;
	g->nadmitted = 0;
}

static void
s_admitted_line(const char *line, void *arg)
{
	kr_guard *g = arg;
	char key[65], node[65];

	if (sscanf(line, "%64s %64s", key, node) != 2)
		return;
	g->admitted = kr_realloc(g->admitted, (g->nadmitted + 1) * 32);
	g->admitted_node = kr_realloc(g->admitted_node, (g->nadmitted + 1) * 32);
	if (kr_unhex(g->admitted[g->nadmitted], 32, key) == 0 && kr_unhex(g->admitted_node[g->nadmitted], 32, node) == 0)
		g->nadmitted++;
}

/* Re-reads the membership document and the admitted list when their files changed. */
static void
s_guard_refresh(kr_guard *g)
{
	char *marker = kr_sprintf("%s/federation/verified", s_id.home), *adm = s_path(s_id.home, "admitted");

	if (s_stat_changed(marker, &g->fed_st)) {
		kr_fedstore f;
		if (g->fed_have)
			kr_membership_clear(&g->fed);
		g->fed_have = 0;
		if (kr_fedstore_open(&f, s_id.home) == 0) {
			if (f.have) {
				/* keep our own copy: re-decode the newest version's body */
				kr_signed_multi sm;
				if (kr_signed_multi_decode(&sm, f.cur_bytes.ptr, f.cur_bytes.len) == 0) {
					if (kr_membership_decode(&g->fed, sm.body.ptr, sm.body.len) == 0)
						g->fed_have = 1;
					kr_signed_multi_clear(&sm);
				}
			}
			kr_fedstore_close(&f);
		}
		if (!g->fed_have)
			kr_error_clear();
		log_info("transport: admitting %s", g->fed_have ? "the federation's current members" :
		    s_id.admit_listed ? "listed clients only (transport.admit = listed)" : "any client key (outside a federation)");
	}
	if (s_stat_changed(adm, &g->adm_st)) {
		s_admitted_free(g);
		kr_admit_list(s_id.home, s_admitted_line, g);
		kr_error_clear();
	}
	free(marker);
	free(adm);
}

/* NULL if key may connect, else why not (every domain admits alike). */
static const char *
s_admit(kr_guard *g, const char *mechanism, const uint8_t *key, size_t keylen)
{
	int64_t now = kr_now();

	if (strcmp(mechanism, "CURVE") != 0 || keylen != 32)
		return "not CURVE";
	if (memcmp(key, s_id.pub, 32) == 0)
		return NULL;
	s_guard_refresh(g);
	for (size_t i = 0; i < g->nadmitted; i++)
		if (memcmp(g->admitted[i], key, 32) == 0) {
			if (g->fed_have && kr_fed_revocation(&g->fed, g->admitted_node[i]))
				return "admitted by kairan admit, but the federation revoked its node key";
			return NULL;
		}
	if (g->fed_have) {
		for (size_t i = 0; i < g->fed.nmembers; i++)
			if (memcmp(g->fed.members[i].curve, key, 32) == 0)
				return s_member_current(&g->fed, &g->fed.members[i], now) ? NULL :
				    "a member whose membership ended or whose key was revoked";
		return "not a current member of the federation, nor admitted (kairan admit)";
	}
	return s_id.admit_listed ? "not admitted (transport.admit = listed; kairan admit ID.json)" : NULL;
}

/* Logs a refusal, at most once a minute per address (log_every). */
static void
s_log_refusal(kr_guard *g, const char *addr, const char *domain, const uint8_t *key, size_t keylen, const char *why)
{
	char what[96], z[41] = "-";
	size_t held;

	g->refused_total++;
	snprintf(what, sizeof(what), "refused %s", addr);
	if (!log_every(what, REFUSAL_LOG_MS, &held))
		return;
	if (keylen == 32)
		s_key_z85(z, key);
	if (held)
		log_warnx("transport: refused a connection from %s with key %s (domain %s): %s "
		    "(and %zu more from that address in the last minute)", addr, z, domain, why, held);
	else
		log_warnx("transport: refused a connection from %s with key %s (domain %s): %s", addr, z, domain, why);
}

static void
s_zap_answer(kr_guard *g)
{
	zmq_msg_t f[8];
	int n = 0, more = 1;
	char domain[256] = "", addr[64] = "", mech[16] = "";
	const char *why;

	while (more && n < 8) {
		zmq_msg_init(&f[n]);
		if (zmq_msg_recv(&f[n], g->zap, 0) < 0) {
			zmq_msg_close(&f[n]);
			break;
		}
		more = zmq_msg_more(&f[n]);
		n++;
	}
	while (more) {                 /* more frames than any mechanism sends: drop them */
		zmq_msg_t x;
		zmq_msg_init(&x);
		if (zmq_msg_recv(&x, g->zap, 0) < 0)
			more = 0;
		else
			more = zmq_msg_more(&x);
		zmq_msg_close(&x);
	}
	if (n < 6) {
		for (int i = 0; i < n; i++)
			zmq_msg_close(&f[i]);
		return;
	}
#define S_COPY(dst, i) snprintf(dst, sizeof(dst), "%.*s", (int)zmq_msg_size(&f[i]), (const char *)zmq_msg_data(&f[i]))
	S_COPY(domain, 2);
	S_COPY(addr, 3);
	S_COPY(mech, 5);
#undef S_COPY
	why = s_admit(g, mech, n > 6 ? zmq_msg_data(&f[6]) : NULL, n > 6 ? zmq_msg_size(&f[6]) : 0);
	if (why)
		s_log_refusal(g, addr, domain, n > 6 ? zmq_msg_data(&f[6]) : NULL, n > 6 ? zmq_msg_size(&f[6]) : 0, why);
	else
		g->admitted_total++;
	zmq_send(g->zap, "1.0", 3, ZMQ_SNDMORE);
	zmq_send(g->zap, zmq_msg_data(&f[1]), zmq_msg_size(&f[1]), ZMQ_SNDMORE);
	zmq_send(g->zap, why ? "400" : "200", 3, ZMQ_SNDMORE);
	zmq_send(g->zap, why ? why : "OK", strlen(why ? why : "OK"), ZMQ_SNDMORE);
	zmq_send(g->zap, "", 0, ZMQ_SNDMORE);
	zmq_send(g->zap, "", 0, 0);
	for (int i = 0; i < n; i++)
		zmq_msg_close(&f[i]);
}

static void
s_intro_answer(kr_guard *g)
{
	uint8_t buf[INTRO_ASK_LEN + 1];
	struct sockaddr_storage from;
	socklen_t fl = sizeof(from);
	ssize_t n = recvfrom(g->udp, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl);
	double now = kr_monotonic_ms();

	if (n != INTRO_ASK_LEN || memcmp(buf, INTRO_ASK, 8) != 0)
		return;
	if (now - g->intro_window >= 1000) {
		g->intro_window = now;
		g->intro_count = 0;
	}
	if (g->intro_count++ >= INTRO_PER_SECOND)
		return;
	(void)sendto(g->udp, g->intro, sizeof(g->intro), 0, (struct sockaddr *)&from, fl);
}

static void *
s_guard_main(void *arg)
{
	kr_guard *g = arg;

	while (!atomic_load(&g->stop)) {
		/* no timeout: a handshake, an introduction or kr_guard_stop wakes it */
		zmq_pollitem_t it[3] = { { g->zap, 0, ZMQ_POLLIN, 0 }, { NULL, g->wake[0], ZMQ_POLLIN, 0 },
			{ NULL, g->udp, ZMQ_POLLIN, 0 } };
		int n = g->udp >= 0 ? 3 : 2;
		if (zmq_poll(it, n, -1) < 0) {
			if (zmq_errno() == ETERM)
				break;
			continue;
		}
		if (it[0].revents & ZMQ_POLLIN)
			s_zap_answer(g);
		if (n > 2 && (it[2].revents & ZMQ_POLLIN))
			s_intro_answer(g);
	}
	return NULL;
}

int
kr_guard_start(kr_guard **out, void *zctx)
{
	kr_guard *g;
	int linger = 0;

	*out = NULL;
	if (s_id.plain)
		return 0;
	g = kr_calloc(1, sizeof(*g));
	g->udp = -1;
	g->wake[0] = g->wake[1] = -1;
	if (pipe2(g->wake, O_CLOEXEC | O_NONBLOCK) < 0) {
		int rc = kr_error(KR_EIO, "cannot make the ZAP handler's wake pipe: %s", strerror(errno));
		kr_guard_stop(&g);
		return rc;
	}
	g->zap = zmq_socket(zctx, ZMQ_REP);
	zmq_setsockopt(g->zap, ZMQ_LINGER, &linger, sizeof(linger));
	if (!g->zap || zmq_bind(g->zap, ZAP_EP) < 0) {
		int rc = kr_error(KR_EIO, "cannot bind the ZAP handler on %s: %s", ZAP_EP, zmq_strerror(zmq_errno()));
		kr_guard_stop(&g);
		return rc;
	}
	memset(&g->fed_st, 0xff, sizeof(g->fed_st));   /* forces the first read */
	memset(&g->adm_st, 0xff, sizeof(g->adm_st));
	*out = g;
	return 0;
}

/* Binds the UDP introduction port on listen's host and port number. */
static int
s_intro_bind(kr_guard *g, const char *listen)
{
	struct addrinfo hints = { .ai_socktype = SOCK_DGRAM, .ai_flags = AI_PASSIVE }, *ai = NULL;
	char host[256], port[16];
	int fd, rc;

	if (s_host_port(listen, host, sizeof(host), port, sizeof(port)) < 0) {
		log_warnx("transport: %s is not tcp://: no introductions (clients need ENDPOINT#KEY)", listen);
		return 0;
	}
	if ((rc = getaddrinfo(strcmp(host, "*") == 0 ? NULL : host, port, &hints, &ai)) != 0)
		return kr_error(KR_EIO, "introductions on %s: %s", listen, gai_strerror(rc));
	fd = socket(ai->ai_family, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0 || bind(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
		rc = kr_error(KR_EIO, "introductions on udp %s:%s: %s", host, port, strerror(errno));
		if (fd >= 0)
			close(fd);
		freeaddrinfo(ai);
		return rc;
	}
	freeaddrinfo(ai);
	g->udp = fd;
	return 0;
}

int
kr_guard_run(kr_guard *g, const kr_key *node_key, const char *listen_actual)
{
	uint8_t *body;
	int64_t issued = kr_now();
	int rc;

	if (!g)
		return 0;
	memcpy(g->intro, INTRO_ANSWER, 8);
	body = g->intro + 8;
	memcpy(body, kr_key_pub(node_key), 32);
	memcpy(body + 32, s_id.pub, 32);
	/* issued: the transport key file's age would do too; the start time is newer at each start */
	for (int i = 0; i < 8; i++)
		body[64 + i] = (uint8_t)((uint64_t)issued >> (56 - 8 * i));
	if ((rc = kr_signed_sign(node_key, INTRO_TYPE, body, INTRO_BODY_LEN, body + INTRO_BODY_LEN)) < 0)
		return rc;
	if ((rc = s_intro_bind(g, listen_actual)) < 0)
		return rc;
	if (pthread_create(&g->thread, NULL, s_guard_main, g) != 0)
		return kr_error(KR_ERROR, "cannot start the transport guard thread");
	g->started = 1;
	return 0;
}

void
kr_guard_stop(kr_guard **gp)
{
	kr_guard *g = gp ? *gp : NULL;

	if (!g)
		return;
	atomic_store(&g->stop, 1);
	if (g->wake[1] >= 0)
		(void)!write(g->wake[1], "", 1);
	if (g->started)
		pthread_join(g->thread, NULL);
	if (g->started)
		log_info("transport: %zu connection(s) admitted, %zu refused", g->admitted_total, g->refused_total);
	if (g->zap)
		zmq_close(g->zap);
	if (g->udp >= 0)
		close(g->udp);
	for (int i = 0; i < 2; i++)
		if (g->wake[i] >= 0)
			close(g->wake[i]);
	if (g->fed_have)
		kr_membership_clear(&g->fed);
	s_admitted_free(g);
	free(g);
	*gp = NULL;
}

/* ---- admitted -------------------------------------------------------------- */

int
kr_admit_list(const char *home, void (*each)(const char *line, void *arg), void *arg)
{
	return s_lines(home, "admitted", each, arg);
}

typedef struct {
	kr_buf out;
	const char *drop;              /* hex key or node fingerprint */
	size_t dropped;
} s_rewrite;

static void
s_rewrite_line(const char *line, void *arg)
{
	s_rewrite *r = arg;
	size_t dl = strlen(r->drop);

	if ((strncmp(line, r->drop, dl) == 0 && line[dl] == ' ') ||
	    (strlen(line) > 65 + dl && strncmp(line + 65, r->drop, dl) == 0 && line[65 + dl] == ' ')) {
		r->dropped++;
		return;
	}
	kr_buf_adds(&r->out, line);
	kr_buf_addch(&r->out, '\n');
}

static const char s_admitted_header[] =
	"# kairan: client transport keys admitted besides the federation's members (kairan admit).\n"
	"# TRANSPORT-KEY NODE-FINGERPRINT LG-CODE NAME\n";

static int
s_admit_rewrite(const char *home, const char *drop, const char *add, size_t *dropped)
{
	s_rewrite r = { .out = KR_BUF_INIT, .drop = drop };
	char *path = s_path(home, "admitted");
	int fd = s_lock(home), rc;

	if (fd < 0) {
		free(path);
		return KR_EIO;
	}
	kr_buf_adds(&r.out, s_admitted_header);
	if ((rc = kr_admit_list(home, s_rewrite_line, &r)) == 0) {
		if (add)
			kr_buf_adds(&r.out, add);
		rc = kr_file_write(path, r.out.ptr, r.out.len, 0644);
	}
	if (dropped)
		*dropped = r.dropped;
	s_unlock(fd);
	kr_buf_release(&r.out);
	free(path);
	return rc;
}

int
kr_admit_add(const char *home, const uint8_t tkey[32], const uint8_t node[32], const char *lg_code,
    const char *name)
{
	char key[65], fpr[65], *line;
	int rc;

	kr_hex(key, tkey, 32);
	kr_hex(fpr, node, 32);
	line = kr_sprintf("%s %s %s %s", key, fpr, lg_code, name);
	for (char *p = line; *p; p++)   /* one line per entry, whatever the name holds */
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	line = kr_realloc(line, strlen(line) + 2);
	strcat(line, "\n");
	rc = s_admit_rewrite(home, key, line, NULL);
	free(line);
	return rc;
}

int
kr_admit_remove(const char *home, const char *key_hex)
{
	size_t dropped = 0;
	int rc = s_admit_rewrite(home, key_hex, NULL, &dropped);

	if (rc == 0 && !dropped)
		return kr_error(KR_ENOTFOUND, "%s is not admitted (kairan admit --list)", key_hex);
	return rc;
}
