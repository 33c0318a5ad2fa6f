/*
 * node/control.c - the CLI's pokes at a running node (<home>/control.sock)
 *
 * A unix stream socket, not a ZeroMQ one: a poke from `kairan publish`
 * then costs a connect, a line and a line back, with no ZeroMQ context,
 * CURVE handshake or ZAP round trip in the command. Admission is the
 * kernel's word on who the client is (SO_PEERCRED): only the daemon's own
 * user, the same user that can read keys/ (0600) and so could have spoken
 * CURVE with the node's own key before. It fails closed: a client whose
 * credentials cannot be read is refused like one of another user, and
 * both are logged. The client checks the server the same way, so an answer
 * from a socket someone else bound is not believed.
 *
 * A call (kr_control_call) is a line "CMD LENGTH" and LENGTH bytes after
 * it (at most KR_CONTROL_PAYLOAD_MAX), answered by "ok" or "error" on a
 * line and then what the handler said, up to the end of the stream: a
 * publish handed to the running node (node/cmd_content.c).
 *
 * Invariants: the daemon never blocks on a client (non-blocking accept and
 * reads, a line of at most CMD_MAX bytes and a payload of at most
 * KR_CONTROL_PAYLOAD_MAX, at most CLIENTS_MAX clients waiting, the oldest
 * dropped first). No ZeroMQ in this file.
 * Threads: the server side belongs to the serve loop's thread; the client
 * side may be called from any thread.
 */
#include "control.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "../proto/codec.h"
#include "../sharing/common.h"
#include "log.h"

#define CLIENTS_MAX 16
#define CMD_MAX 64                 /* longest line, newline included */
#define INFLIGHT_MAX (2 * KR_CONTROL_PAYLOAD_MAX) /* payloads being read, all clients together */
#define ANSWER_MS 2000             /* the most an answer waits for a slow reader */
#define REFUSAL_LOG_MS 60000

typedef struct {
	int fd;
	pid_t pid;
	size_t len;
	char buf[CMD_MAX];
	kr_buf payload;                /* a call's, once its line named a length */
	size_t want;
	int has_payload;
} s_client;

/* A call whose answer comes later (KR_CONTROL_LATER). */
typedef struct {
	int fd;
	pid_t pid;
	uint64_t ticket;
} s_later;

struct kr_control {
	int fd;
	int dirfd;                     /* the home, when its path is too long for sun_path */
	uid_t uid;
	char *path;                    /* the socket file, for unlink */
	s_client cl[CLIENTS_MAX];
	size_t n;
	size_t inflight;               /* the payload bytes the clients named and have not been answered */
	s_later *later;                /* calls to be answered by kr_control_answer */
	size_t nlater;
	uint64_t ticket;               /* the call being handled, or the next one */
};

/*
 * The address of home's control socket in *sa. A home whose path does not
 * fit sun_path (108 bytes) is reached through /proc/self/fd/N of a
 * descriptor of the directory, left in *dirfd (else -1) for the caller to
 * close. *path is the socket file's full name (caller frees).
 */
static int
s_addr(const char *home, struct sockaddr_un *sa, socklen_t *salen, int *dirfd, char **path)
{
	char *abs = realpath(home, NULL);
	int n;

	*dirfd = -1;
	*path = NULL;
	if (!abs)
		return kr_error(KR_ENOTFOUND, "%s: %s", home, strerror(errno));
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	*path = kr_sprintf("%s/control.sock", abs);
	n = snprintf(sa->sun_path, sizeof(sa->sun_path), "%s", *path);
	if (n < 0 || (size_t)n >= sizeof(sa->sun_path)) {
		if ((*dirfd = open(abs, O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0) {
			int rc = kr_error(KR_EIO, "%s: %s", abs, strerror(errno));
			free(abs);
			free(*path);
			*path = NULL;
			return rc;
		}
		snprintf(sa->sun_path, sizeof(sa->sun_path), "/proc/self/fd/%d/control.sock", *dirfd);
	}
	*salen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(sa->sun_path) + 1);
	free(abs);
	return 0;
}

/* The user and process at the other end of fd; -1 (errno set) when the kernel does not say. */
static int
s_peer(int fd, uid_t *uid, pid_t *pid)
{
	struct ucred cr;
	socklen_t len = sizeof(cr);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) < 0)
		return -1;
	if (len != sizeof(cr)) {
		errno = EPROTO;
		return -1;
	}
	*uid = cr.uid;
	*pid = cr.pid;
	return 0;
}

/* A connected stream socket to home's control socket, or -1 with errno (ENOENT, ECONNREFUSED: no node). */
static int
s_connect(const struct sockaddr_un *sa, socklen_t salen, int timeout_ms)
{
	struct timeval tv = { timeout_ms / 1000, (timeout_ms % 1000) * 1000 };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0), err;

	if (fd < 0)
		return -1;
	/* a full backlog makes connect wait: at most timeout_ms */
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (const struct sockaddr *)sa, salen) < 0) {
		err = errno;
		close(fd);
		errno = err;
		return -1;
	}
	return fd;
}

int
kr_control_listen(kr_control **out, const char *home)
{
	kr_control *c = kr_calloc(1, sizeof(*c));
	struct sockaddr_un sa;
	socklen_t salen;
	int rc, probe;

	c->fd = -1;
	c->uid = geteuid();
	if ((rc = s_addr(home, &sa, &salen, &c->dirfd, &c->path)) < 0)
		goto fail;
	if ((probe = s_connect(&sa, salen, 300)) >= 0) {
		close(probe);
		rc = kr_error(KR_EEXISTS, "%s: a running node answers on it", c->path);
		goto fail;
	}
	if (errno == ECONNREFUSED && unlink(c->path) < 0 && errno != ENOENT) {
		rc = kr_error(KR_EIO, "%s: a stale socket that cannot be removed: %s", c->path, strerror(errno));
		goto fail;
	}
	if ((c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) < 0 ||
	    bind(c->fd, (const struct sockaddr *)&sa, salen) < 0) {
		rc = kr_error(KR_EIO, "%s: %s", c->path, strerror(errno));
		goto fail;
	}
	/* the mode is a courtesy (SO_PEERCRED is the check); set before anyone can connect */
	if (chmod(c->path, 0600) < 0 || listen(c->fd, CLIENTS_MAX) < 0) {
		rc = kr_error(KR_EIO, "%s: %s", c->path, strerror(errno));
		unlink(c->path);
		goto fail;
	}
	*out = c;
	return 0;
fail:
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	free(c->path);
	c->path = NULL;
	kr_control_close(&c);
	return rc;
}

static void
s_forget(kr_control *c, size_t i)
{
	if (c->cl[i].has_payload)
		c->inflight -= c->cl[i].want;
	kr_buf_release(&c->cl[i].payload);
	c->cl[i] = c->cl[--c->n];
}

static void
s_drop(kr_control *c, size_t i)
{
	close(c->cl[i].fd);
	s_forget(c, i);
}

void
kr_control_close(kr_control **cp)
{
	kr_control *c;

	if (!cp || !*cp)
		return;
	c = *cp;
	while (c->n)
		s_drop(c, c->n - 1);
	for (size_t i = 0; i < c->nlater; i++) {
		log_debug("control socket %s: pid %d closed without its answer", c->path, (int)c->later[i].pid);
		close(c->later[i].fd);
	}
	free(c->later);
	if (c->fd >= 0) {
		close(c->fd);
		unlink(c->path);
	}
	if (c->dirfd >= 0)
		close(c->dirfd);
	free(c->path);
	free(c);
	*cp = NULL;
}

size_t
kr_control_fds(const kr_control *c, int *fds, size_t max)
{
	size_t n = 0;

	if (!c || max == 0)
		return 0;
	fds[n++] = c->fd;
	for (size_t i = 0; i < c->n && n < max; i++)
		fds[n++] = c->cl[i].fd;
	return n;
}

/* Takes the clients waiting on the listening socket: this node's user only. */
static void
s_accept(kr_control *c)
{
	for (int k = 0; k < CLIENTS_MAX; k++) {
		int fd = accept4(c->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		uid_t uid;
		pid_t pid;
		size_t held;

		if (fd < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR && errno != ECONNABORTED)
				log_warn("control socket %s: accept", c->path);
			return;
		}
		if (s_peer(fd, &uid, &pid) < 0) {
			if (log_every("control: no credentials", REFUSAL_LOG_MS, &held))
				log_warn("control socket %s: refused a client whose user the kernel does not tell "
				    "(%zu more held back)", c->path, held);
			close(fd);
			continue;
		}
		if (uid != c->uid) {
			if (log_every("control: other user", REFUSAL_LOG_MS, &held))
				log_warnx("control socket %s: refused a client running as uid %u (pid %d): only this "
				    "node's user (uid %u) may control it (%zu more held back)", c->path, (unsigned)uid,
				    (int)pid, (unsigned)c->uid, held);
			close(fd);
			continue;
		}
		if (c->n == CLIENTS_MAX) {
			log_debug("control socket %s: pid %d waited too long for its line; dropped", c->path,
			    (int)c->cl[0].pid);
			s_drop(c, 0);
		}
		c->cl[c->n++] = (s_client){ .fd = fd, .pid = pid };
	}
}

/*
 * A call's line "CMD LENGTH": the length of what follows, after the
 * command is cut at its space; 0 and *len 0 for a poke, -1 when the
 * length is not a number or more than KR_CONTROL_PAYLOAD_MAX.
 */
static int
s_call_line(char *line, size_t *len)
{
	char *sp = strchr(line, ' '), *end;
	unsigned long long v;

	*len = 0;
	if (!sp)
		return 0;
	*sp = '\0';
	errno = 0;
	v = strtoull(sp + 1, &end, 10);
	if (errno || end == sp + 1 || *end || sp[1] == '-' || v > KR_CONTROL_PAYLOAD_MAX)
		return -1;
	*len = (size_t)v;
	return 1;
}

/*
 * Sends all of data to a client that waits for it (the socket's buffer may
 * be smaller), for at most ANSWER_MS in all; -1 if it left or read too slowly.
 */
static int
s_send_all(int fd, const char *data, size_t len)
{
	double end = kr_monotonic_ms() + ANSWER_MS;

	while (len) {
		struct pollfd p = { fd, POLLOUT, 0 };
		ssize_t w = send(fd, data, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
			double left = end - kr_monotonic_ms();
			if (left <= 0 || poll(&p, 1, (int)left + 1) <= 0)
				return -1;
			continue;
		}
		if (w <= 0)
			return -1;
		data += w;
		len -= (size_t)w;
	}
	return 0;
}

void
kr_control_serve(kr_control *c, kr_control_handler handle, void *arg)
{
	if (!c)
		return;
	s_accept(c);
	for (size_t i = 0; i < c->n;) {
		s_client *cl = &c->cl[i];
		ssize_t r;
		char *nl;

		if (cl->has_payload) {
			if (cl->payload.len < cl->want) {
				size_t chunk = cl->want - cl->payload.len < 65536 ? cl->want - cl->payload.len : 65536;
				r = read(cl->fd, cl->payload.ptr + cl->payload.len, chunk);
				if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
					i++;
					continue;
				}
				if (r <= 0) {
					s_drop(c, i);    /* gone before all of it came */
					continue;
				}
				cl->payload.len += (size_t)r;
				if (cl->payload.len < cl->want) {
					i++;
					continue;
				}
			}
		} else {
			r = read(cl->fd, cl->buf + cl->len, sizeof(cl->buf) - 1 - cl->len);
			if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
				i++;
				continue;
			}
			if (r <= 0) {
				s_drop(c, i);    /* gone before its line was complete */
				continue;
			}
			cl->len += (size_t)r;
			cl->buf[cl->len] = '\0';
			if (!(nl = memchr(cl->buf, '\n', cl->len))) {
				if (cl->len < sizeof(cl->buf) - 1) {
					i++;
					continue;
				}
				log_warnx("control socket %s: pid %d sent more than %d bytes without a newline; closed",
				    c->path, (int)cl->pid, CMD_MAX - 1);
				s_drop(c, i);
				continue;
			}
			*nl = '\0';
			{
				size_t rest = cl->len - (size_t)(nl + 1 - cl->buf);
				int call = s_call_line(cl->buf, &cl->want);
				if (call < 0) {
					log_warnx("control socket %s: pid %d sent a call without a length of at most %d "
					    "bytes; closed", c->path, (int)cl->pid, KR_CONTROL_PAYLOAD_MAX);
					s_drop(c, i);
					continue;
				}
				if (call && c->inflight + cl->want > INFLIGHT_MAX) {
					static const char busy[] = "error\nthe node is taking other publishes; try again\n";
					log_warnx("control socket %s: pid %d: a call of %zu bytes beside %zu already being "
					    "read; refused", c->path, (int)cl->pid, cl->want, c->inflight);
					s_send_all(cl->fd, busy, sizeof(busy) - 1);
					s_drop(c, i);
					continue;
				}
				if (call) {
					/* what came with the line is the payload's start; the rest is read into place */
					cl->has_payload = 1;
					c->inflight += cl->want;
					kr_buf_grow(&cl->payload, cl->want);
					kr_buf_add(&cl->payload, nl + 1, rest < cl->want ? rest : cl->want);
					if (cl->payload.len < cl->want)
						continue;       /* read again at once: more may be waiting */
				}
			}
		}
		{
			kr_buf reply = KR_BUF_INIT;
			int rc = handle(cl->buf, cl->has_payload ? (cl->payload.ptr ? cl->payload.ptr : "") : NULL,
			    cl->payload.len, &reply, arg);
			kr_buf head = KR_BUF_INIT;
			if (rc == KR_CONTROL_LATER && cl->has_payload) {
				c->later = kr_realloc(c->later, (c->nlater + 1) * sizeof(*c->later));
				c->later[c->nlater++] = (s_later){ cl->fd, cl->pid, c->ticket++ };
				kr_buf_release(&reply);
				s_forget(c, i);
				continue;
			}
			c->ticket++;
			if (!cl->has_payload)
				kr_buf_adds(&head, rc == 0 ? "ok\n" : "unknown\n");
			else
				kr_buf_adds(&head, rc == 0 ? "ok\n" : "error\n");
			kr_buf_add(&head, reply.ptr, reply.len);
			if (s_send_all(cl->fd, head.ptr, head.len) < 0)
				log_debug("control socket %s: pid %d left before its answer", c->path, (int)cl->pid);
			kr_buf_release(&head);
			kr_buf_release(&reply);
		}
		s_drop(c, i);
	}
}

uint64_t
kr_control_ticket(const kr_control *c)
{
	return c->ticket;
}

void
kr_control_answer(kr_control *c, uint64_t ticket, int rc, const kr_buf *reply)
{
	for (size_t i = 0; i < c->nlater; i++) {
		kr_buf head = KR_BUF_INIT;
		if (c->later[i].ticket != ticket)
			continue;
		kr_buf_adds(&head, rc == 0 ? "ok\n" : "error\n");
		if (reply)
			kr_buf_add(&head, reply->ptr, reply->len);
		if (s_send_all(c->later[i].fd, head.ptr, head.len) < 0)
			log_debug("control socket %s: pid %d left before its answer", c->path, (int)c->later[i].pid);
		kr_buf_release(&head);
		close(c->later[i].fd);
		c->later[i] = c->later[--c->nlater];
		return;
	}
}

/*
 * Sends a poke (payload NULL: "CMD") or a call ("CMD LENGTH" and the
 * payload) and reads the answer: the whole of it for a call, the line for
 * a poke.
 */
static int
s_call(const kr_home *h, const char *cmd, const void *payload, size_t len, int timeout_ms, kr_buf *answer)
{
	struct sockaddr_un sa;
	socklen_t salen;
	char *path = NULL, line[CMD_MAX + 32];
	double end = kr_monotonic_ms() + timeout_ms;
	int dirfd = -1, fd = -1, rc;
	int n = payload ? snprintf(line, sizeof(line), "%s %zu\n", cmd, len) : snprintf(line, sizeof(line), "%s\n", cmd);
	uid_t uid;
	pid_t pid;

	if (n < 0 || (size_t)n >= sizeof(line) || strlen(cmd) >= CMD_MAX - 1 || strchr(cmd, ' ') || strchr(cmd, '\n'))
		return kr_error(KR_EUSAGE, "control command '%s' is not one word of fewer than %d bytes", cmd, CMD_MAX - 1);
	if (payload && len > KR_CONTROL_PAYLOAD_MAX)
		return kr_error(KR_EUSAGE, "%zu bytes are more than a control call takes (%d)", len, KR_CONTROL_PAYLOAD_MAX);
	if ((rc = s_addr(h->home, &sa, &salen, &dirfd, &path)) < 0)
		goto done;
	if ((fd = s_connect(&sa, salen, timeout_ms)) < 0) {
		rc = KR_ENOTFOUND;    /* no socket, or no node on it */
		goto done;
	}
	if (s_peer(fd, &uid, &pid) < 0 || uid != geteuid()) {
		rc = kr_error(KR_EVERIFY, "%s is not this user's node's socket (held by another user); not poking it",
		    path);
		goto done;
	}
	rc = KR_ENOTFOUND;          /* gone before it took all of it: it did nothing */
	if (send(fd, line, (size_t)n, MSG_NOSIGNAL) != n)
		goto done;
	for (size_t off = 0; payload && off < len;) {
		ssize_t w = send(fd, (const char *)payload + off, len - off, MSG_NOSIGNAL);
		if (w <= 0)
			goto done;
		off += (size_t)w;
	}
	/* taken: without its answer, whether it acted is not known */
	rc = kr_error(KR_ETIMEOUT, "the node running on %s took '%s' but did not answer within %d s", h->home, cmd,
	    (timeout_ms + 999) / 1000);
	for (;;) {
		struct pollfd p = { fd, POLLIN, 0 };
		double left = end - kr_monotonic_ms();
		ssize_t r;
		if (left <= 0 || poll(&p, 1, (int)left + 1) <= 0)
			break;
		kr_buf_grow(answer, 4096);
		if ((r = read(fd, answer->ptr + answer->len, 4096)) <= 0) {
			if (payload && r == 0 && memchr(answer->ptr, '\n', answer->len)) {
				kr_error_clear();
				rc = 0;         /* a call's answer ends with the stream */
			} else if (r == 0) {
				rc = kr_error(KR_ETIMEOUT, "the node running on %s took '%s' and went away before "
				    "answering", h->home, cmd);
			}
			break;
		}
		answer->len += (size_t)r;
		answer->ptr[answer->len] = '\0';
		if (!payload && memchr(answer->ptr, '\n', answer->len)) {
			kr_error_clear();
			rc = 0;
			break;
		}
	}
done:
	if (fd >= 0)
		close(fd);
	if (dirfd >= 0)
		close(dirfd);
	free(path);
	return rc;
}

int
kr_control_poke(const kr_home *h, const char *cmd, int timeout_ms)
{
	kr_buf answer = KR_BUF_INIT;
	int rc = s_call(h, cmd, NULL, 0, timeout_ms, &answer);

	if (rc == 0 && strcmp(answer.ptr, "ok\n") != 0)
		rc = kr_error(KR_EUSAGE, "the running node does not know the control command '%s'", cmd);
	kr_buf_release(&answer);
	return rc;
}

int
kr_control_call(const kr_home *h, const char *cmd, const void *payload, size_t len, int timeout_ms,
    kr_buf *answer)
{
	kr_buf got = KR_BUF_INIT;
	const char *nl;
	int rc = s_call(h, cmd, payload ? payload : "", len, timeout_ms, &got);

	if (rc == 0 && (nl = memchr(got.ptr, '\n', got.len))) {
		size_t head = (size_t)(nl + 1 - got.ptr);
		kr_buf_add(answer, nl + 1, got.len - head);
		if (strncmp(got.ptr, "ok\n", 3) != 0)
			rc = strncmp(got.ptr, "error\n", 6) == 0 ? KR_ERROR : KR_EUSAGE;
	}
	kr_buf_release(&got);
	return rc;
}

/* ---- a publish handed to the node ------------------------------------- */

static void
s_put32(kr_buf *b, size_t v)
{
	uint8_t x[4] = { (uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v };

	kr_buf_add(b, x, 4);
}

static void
s_putstr(kr_buf *b, const void *p, size_t len)
{
	s_put32(b, len);
	kr_buf_add(b, p, len);
}

void
kr_control_pub_encode(kr_buf *out, const kr_pubfile *files, size_t n, const char *message, const char *locale)
{
	s_putstr(out, locale ? locale : "", locale ? strlen(locale) : 0);
	s_putstr(out, message, strlen(message));
	s_put32(out, n);
	for (size_t i = 0; i < n; i++) {
		s_putstr(out, files[i].collection, strlen(files[i].collection));
		s_putstr(out, files[i].path, strlen(files[i].path));
		s_putstr(out, files[i].data, files[i].len);
	}
}

/* The next 32-bit big-endian number of p[*off..len) into *v; -1 past the end. */
static int
s_get32(const uint8_t *p, size_t len, size_t *off, size_t *v)
{
	if (len - *off < 4)
		return -1;
	*v = (size_t)p[*off] << 24 | (size_t)p[*off + 1] << 16 | (size_t)p[*off + 2] << 8 | p[*off + 3];
	*off += 4;
	return 0;
}

/* The next length-prefixed field of p[*off..len) into *field (its length *flen); -1 past the end. */
static int
s_getstr(const uint8_t *p, size_t len, size_t *off, const uint8_t **field, size_t *flen)
{
	size_t v;

	if (s_get32(p, len, off, &v) < 0)
		return -1;
	if (v > len - *off)
		return -1;
	*field = p + *off;
	*flen = v;
	*off += v;
	return 0;
}

/* A NUL-free field as a string (caller frees), NULL when it holds a NUL or is empty. */
static char *
s_text(const uint8_t *p, size_t len)
{
	return len && !memchr(p, '\0', len) ? kr_strndup((const char *)p, len) : NULL;
}

int
kr_control_pub_decode(kr_control_pub *out, const void *payload, size_t len)
{
	const uint8_t *p = payload, *f;
	size_t off = 0, flen, n;

	memset(out, 0, sizeof(*out));
	/* a locale's name, as setlocale gives it ("ja_JP.UTF-8"), or none */
	if (s_getstr(p, len, &off, &f, &flen) < 0 || flen > 64 || strspn((const char *)f,
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.@-") < flen)
		goto bad;
	out->locale = flen ? kr_strndup((const char *)f, flen) : NULL;
	if (s_getstr(p, len, &off, &f, &flen) < 0 || !(out->message = s_text(f, flen)) || s_get32(p, len, &off, &n) < 0)
		goto bad;
	/* each file takes 12 bytes at least: a count beyond that is a lie */
	if (n == 0 || n > KR_CONTROL_PUB_FILES || n > (len - off) / 12)
		goto bad;
	out->files = kr_calloc(n, sizeof(*out->files));
	for (size_t i = 0; i < n; i++) {
		kr_pubfile *x = &out->files[i];
		char *coll = NULL, *path = NULL;
		if (s_getstr(p, len, &off, &f, &flen) < 0 || !(coll = s_text(f, flen)) ||
		    s_getstr(p, len, &off, &f, &flen) < 0 || !(path = s_text(f, flen)) ||
		    s_getstr(p, len, &off, &f, &flen) < 0) {
			free(coll);
			free(path);
			goto bad;
		}
		x->collection = coll;
		x->path = path;
		out->n++;
		if (!kr_collection_valid(coll))
			goto bad;
		x->data = f;
		x->len = flen;
	}
	if (off != len)
		goto bad;
	return 0;
bad:
	kr_control_pub_clear(out);
	return kr_error(KR_EPROTO, "a publish handed over the control socket is malformed");
}

void
kr_control_pub_clear(kr_control_pub *p)
{
	for (size_t i = 0; i < p->n; i++) {
		free((char *)p->files[i].collection);
		free((char *)p->files[i].path);
	}
	free(p->files);
	free(p->message);
	free(p->locale);
	memset(p, 0, sizeof(*p));
}
