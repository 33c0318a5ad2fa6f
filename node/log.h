/*
 * node/log.h - logging in the style of OpenBSD's log.c
 *
 * One line per event, naming its subject ("peer tcp://…: …"). Under systemd
 * (stderr is the stream JOURNAL_STREAM names) lines carry <3>/<4>/<6>/<7>
 * priority prefixes; see log.c.
 */
#ifndef KR_LOG_H
#define KR_LOG_H

#include <stddef.h>

void log_init(int verbose);
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));   /* adds strerror(errno) */
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
/* "<P>" when stderr is the journal stream (for lines written without log_*), else "". */
const char *log_prefix(int prio);
void fatalx(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
/*
 * Rate limit for lines a peer can repeat at will (refused connections, the
 * same rejected manifest at every beacon): 1 when a line about key may be
 * written now, with *held set to how many were held back since the last
 * one; 0 while the last line about key is younger than ms. Keys beyond the
 * table's 256 slots take the oldest slot. Thread-safe.
 */
int log_every(const char *key, int ms, size_t *held);

#endif
