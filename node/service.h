/*
 * node/service.h - telling systemd how the node is doing (Type=notify)
 *
 * All calls do nothing when the process was not started by systemd
 * (no NOTIFY_SOCKET), so serve calls them unconditionally.
 */
#ifndef KR_SERVICE_H
#define KR_SERVICE_H

/* READY=1 with a STATUS= line: the sockets are bound, requests are answered. */
void kr_service_ready(const char *status);
/*
 * WATCHDOG=1, at most every half WatchdogSec (a cheap call otherwise): the
 * serve loop calls it each round, so a loop stuck for WatchdogSec gets the
 * node restarted.
 */
void kr_service_watchdog(void);
/* Milliseconds until kr_service_watchdog has a ping to send (0: now), -1 when no watchdog is asked for. */
long kr_service_watchdog_ms(void);
/* STOPPING=1: shutting down on SIGTERM. */
void kr_service_stopping(void);
/* RELOADING=1: stopping to execute itself again (same PID); READY=1 follows. */
void kr_service_reloading(void);

#endif
