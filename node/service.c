/*
 * node/service.c - sd_notify for kairan serve under systemd; the only
 * libsystemd user
 *
 * deploy/systemd/kairan.service is Type=notify with WatchdogSec: READY=1
 * once the sockets are bound, WATCHDOG=1 from the serve loop, STOPPING=1
 * on SIGTERM. Outside systemd (no NOTIFY_SOCKET) every call is a no-op.
 * Called from the serve loop's thread only.
 */
#include "service.h"

#include <stdint.h>
#include <time.h>

#include <systemd/sd-daemon.h>

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
	sd_notifyf(0, "READY=1\nSTATUS=%s", status);
	if (!s_checked) {
		uint64_t usec = 0;
		s_checked = 1;
		if (sd_watchdog_enabled(0, &usec) > 0)
			s_watchdog_usec = usec;
	}
	if (s_watchdog_usec) {
		sd_notify(0, "WATCHDOG=1");
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
	sd_notify(0, "WATCHDOG=1");
	s_last_ping = now;
}

void
kr_service_stopping(void)
{
	sd_notify(0, "STOPPING=1");
}
