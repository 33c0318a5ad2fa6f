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
 * Invariants: the daemon never blocks on a client (non-blocking accept and
 * reads, a line of at most CMD_MAX bytes, at most CLIENTS_MAX clients
 * waiting, the oldest dropped first). No ZeroMQ in this file.
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

#include "../sharing/common.h"
#include "log.h"

#define CLIENTS_MAX 16
#define CMD_MAX 64                 /* longest line, newline included */
#define REFUSAL_LOG_MS 60000

typedef struct {
	int fd;
	pid_t pid;
	size_t len;
	char buf[CMD_MAX];
} s_client;

struct kr_control {
	int fd;
	int dirfd;                     /* the home, when its path is too long for sun_path */
	uid_t uid;
	char *path;                    /* the socket file, for unlink */
	s_client cl[CLIENTS_MAX];
	size_t n;
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
s_drop(kr_control *c, size_t i)
{
	close(c->cl[i].fd);
	c->cl[i] = c->cl[--c->n];
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

void
kr_control_serve(kr_control *c, int (*handle)(const char *cmd, void *arg), void *arg)
{
	if (!c)
		return;
	s_accept(c);
	for (size_t i = 0; i < c->n;) {
		s_client *cl = &c->cl[i];
		ssize_t r = read(cl->fd, cl->buf + cl->len, sizeof(cl->buf) - 1 - cl->len);
		char *nl;

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
			const char *reply = handle(cl->buf, arg) == 0 ? "ok\n" : "unknown\n";
			if (send(cl->fd, reply, strlen(reply), MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
				log_debug("control socket %s: pid %d left before its answer", c->path, (int)cl->pid);
		}
		s_drop(c, i);
	}
}

int
kr_control_poke(const kr_home *h, const char *cmd, int timeout_ms)
{
	struct sockaddr_un sa;
	socklen_t salen;
	char *path = NULL, line[CMD_MAX + 1], reply[16];
	size_t got = 0;
	double end = kr_monotonic_ms() + timeout_ms;
	int dirfd = -1, fd = -1, rc;
	int n = snprintf(line, sizeof(line), "%s\n", cmd);
	uid_t uid;
	pid_t pid;

	if (n < 0 || n >= CMD_MAX)
		return kr_error(KR_EUSAGE, "control command '%s' is too long", cmd);
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
	if (send(fd, line, (size_t)n, MSG_NOSIGNAL) != n) {
		rc = KR_ENOTFOUND;
		goto done;
	}
	rc = KR_ENOTFOUND;
	while (got < sizeof(reply) - 1) {
		struct pollfd p = { fd, POLLIN, 0 };
		double left = end - kr_monotonic_ms();
		ssize_t r;
		if (left <= 0 || poll(&p, 1, (int)left + 1) <= 0)
			break;
		if ((r = read(fd, reply + got, sizeof(reply) - 1 - got)) <= 0)
			break;
		got += (size_t)r;
		reply[got] = '\0';
		if (strchr(reply, '\n')) {
			if (strcmp(reply, "ok\n") == 0)
				rc = 0;
			else
				rc = kr_error(KR_EUSAGE, "the running node does not know the control command '%s'", cmd);
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
