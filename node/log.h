/*
 * node/log.h - logging in the style of OpenBSD's log.c
 *
 * One line per event, naming its subject ("peer tcp://…: …"). Under systemd
 * (stderr is the stream JOURNAL_STREAM names) lines carry <3>/<4>/<6>/<7>
 * priority prefixes; see log.c.
 */
#ifndef KR_LOG_H
#define KR_LOG_H

void log_init(int verbose);
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));   /* adds strerror(errno) */
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
/* "<P>" when stderr is the journal stream (for lines written without log_*), else "". */
const char *log_prefix(int prio);
void fatalx(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

#endif
