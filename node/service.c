/*
 * node/service.c - sd_notify for kairan serve under systemd
 *
 * deploy/systemd/kairan.service is Type=notify with WatchdogSec: READY=1
 * once the sockets are bound, WATCHDOG=1 from the serve loop, STOPPING=1
 * on SIGTERM. Outside systemd (no NOTIFY_SOCKET) every call is a no-op.
 * Called from the serve loop's thread only.
 *
 * The notify protocol itself (sd_notify(3): one datagram of KEY=VALUE
 * lines to the AF_UNIX socket named by $NOTIFY_SOCKET, '@' for the
 * abstract namespace; the watchdog from $WATCHDOG_USEC for $WATCHDOG_PID)
 * is these few lines: linking libsystemd for it loaded seven shared
 * libraries (libgcrypt, liblzma, libzstd, ...) into every kairan command.
 */
#include "service.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

/* Sends one notification; 0 outside systemd, 1 sent, -1 failed (ignored: systemd acts on silence). */
static int
s_notify(const char *msg)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	size_t len;
	socklen_t salen;
	int fd, ok;

	if (!path || (path[0] != '/' && path[0] != '@') || (len = strlen(path)) < 2 || len >= sizeof(sa.sun_path))
		return 0;
	memcpy(sa.sun_path, path, len);
	if (path[0] == '@')
		sa.sun_path[0] = '\0'; /* abstract: the address length counts, not a NUL */
	salen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len + (path[0] == '/'));
	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0)
		return -1;
	ok = sendto(fd, msg, strlen(msg), MSG_NOSIGNAL, (struct sockaddr *)&sa, salen) >= 0;
	close(fd);
	return ok ? 1 : -1;
}

/* The watchdog interval systemd asks of this process, in µs; 0: none. */
static uint64_t
s_watchdog_enabled(void)
{
	const char *usec = getenv("WATCHDOG_USEC"), *pid = getenv("WATCHDOG_PID");
	char *end;
	unsigned long long v;

	if (!usec || !*usec)
		return 0;
	if (pid && *pid && strtol(pid, NULL, 10) != (long)getpid())
		return 0;
	v = strtoull(usec, &end, 10);
	return *end ? 0 : (uint64_t)v;
}

static uint64_t s_watchdog_usec;   /* 0: not asked for */
static uint64_t s_last_ping;
static int s_checked;

static uint64_t
s_now_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

void
kr_service_ready(const char *status)
{
	char msg[512];

	snprintf(msg, sizeof(msg), "READY=1\nSTATUS=%s", status);
	s_notify(msg);
	if (!s_checked) {
		s_checked = 1;
		s_watchdog_usec = s_watchdog_enabled();
	}
	if (s_watchdog_usec) {
		s_notify("WATCHDOG=1");
		s_last_ping = s_now_usec();
	}
}

void
kr_service_watchdog(void)
{
	uint64_t now;

	if (!s_watchdog_usec)
		return;
	now = s_now_usec();
	if (now - s_last_ping < s_watchdog_usec / 2)
		return;
	s_notify("WATCHDOG=1");
	s_last_ping = now;
}

long
kr_service_watchdog_ms(void)
{
	uint64_t now, due;

	if (!s_watchdog_usec)
		return -1;
	now = s_now_usec();
	due = s_last_ping + s_watchdog_usec / 2;
	return due <= now ? 0 : (long)((due - now) / 1000) + 1;
}

void
kr_service_stopping(void)
{
	s_notify("STOPPING=1");
}

void
kr_service_reloading(void)
{
	s_notify("RELOADING=1");
}
