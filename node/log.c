/*
 * node/log.c - stderr logging with optional journald priorities
 *
 * Thread-safe: each line is formatted in full and written with one fputs
 * on an unbuffered stream. Lines quote peers (names, error texts, ids), so
 * each is made safe before it is written (kr_safe_inplace): no escape
 * sequence reaches a terminal or journal, and no newline inside a quoted
 * string can forge a second log line.
 *
 * Under systemd (the journal): when stderr is the stream systemd set up
 * for the journal (JOURNAL_STREAM=DEV:INODE names it, systemd.exec(5)),
 * each line is "<P>text" with P the syslog priority (3 fatal, 4 warn, 6
 * info, 7 debug), which journald records as the entry's priority and
 * strips; no time stamp (the journal has its own). Anywhere else (a
 * terminal, a file, a child whose stderr was redirected) lines are
 * "HH:MM:SS kairan[level]: text".
 *
 * Formats are msgids: log_warn, log_warnx, log_info, fatal and fatalx
 * translate them (sharing/i18n.h); the level tag stays English (a log key),
 * and log_debug stays English (for developers, like git's trace output).
 */
#include "log.h"

#include "../sharing/common.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static int s_verbose;
static int s_journal;

#define EVERY_SLOTS 256
static struct {
	char key[160];
	double at;
	size_t held;
} s_every[EVERY_SLOTS];
static pthread_mutex_t s_every_lock = PTHREAD_MUTEX_INITIALIZER;

/* JOURNAL_STREAM is inherited by children whose stderr may go elsewhere: compare it with fd 2. */
static int
s_stderr_is_journal(void)
{
	const char *js = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	if (!js || sscanf(js, "%llu:%llu", &dev, &ino) != 2 || fstat(STDERR_FILENO, &st) < 0)
		return 0;
	return (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

void
log_init(int verbose)
{
	s_verbose = verbose;
	s_journal = s_stderr_is_journal();
	setvbuf(stderr, NULL, _IONBF, 0);
}

const char *
log_prefix(int prio)
{
	static const char *const p[8] = { "<0>", "<1>", "<2>", "<3>", "<4>", "<5>", "<6>", "<7>" };

	return s_journal && prio >= 0 && prio < 8 ? p[prio] : "";
}

int
log_every(const char *key, int ms, size_t *held)
{
	double now = kr_monotonic_ms();
	size_t slot = EVERY_SLOTS, oldest = 0;
	int ok;

	pthread_mutex_lock(&s_every_lock);
	for (size_t i = 0; i < EVERY_SLOTS; i++) {
		if (s_every[i].key[0] && strncmp(s_every[i].key, key, sizeof(s_every[i].key) - 1) == 0) {
			slot = i;
			break;
		}
		if (s_every[i].at < s_every[oldest].at)
			oldest = i;
	}
	if (slot == EVERY_SLOTS) {
		slot = oldest;
		snprintf(s_every[slot].key, sizeof(s_every[slot].key), "%s", key);
		s_every[slot].at = -1e18;
		s_every[slot].held = 0;
	}
	ok = now - s_every[slot].at >= ms;
	if (ok) {
		*held = s_every[slot].held;
		s_every[slot].held = 0;
		s_every[slot].at = now;
	} else {
		s_every[slot].held++;
	}
	pthread_mutex_unlock(&s_every_lock);
	return ok;
}

static void
s_log(int prio, const char *tag, const char *fmt, va_list ap, const char *suffix)
{
	char line[2048], stamp[32] = "";
	size_t n = 0;

	if (s_journal) {
		n += (size_t)snprintf(line, sizeof(line), "<%d>", prio);
	} else {
		time_t t = time(NULL);
		struct tm tm;
		localtime_r(&t, &tm);
		strftime(stamp, sizeof(stamp), "%H:%M:%S", &tm);
		n += (size_t)snprintf(line, sizeof(line), "%s kairan[%s]: ", stamp, tag);
	}
	if (n < sizeof(line))
		n += (size_t)vsnprintf(line + n, sizeof(line) - n, fmt, ap);
	if (suffix && n < sizeof(line))
		n += (size_t)snprintf(line + n, sizeof(line) - n, ": %s", suffix);
	if (n >= sizeof(line) - 1)
		n = sizeof(line) - 2;
	line[n] = '\0';
	n = kr_safe_inplace(line, n, KR_SAFE_LINE);
	line[n++] = '\n';
	line[n] = '\0';
	fputs(line, stderr);
}

void
log_warn(const char *fmt, ...)
{
	va_list ap;
	const char *e = strerror(errno);

	va_start(ap, fmt);
	s_log(4, "warn", _(fmt), ap, e);
	va_end(ap);
}

void
log_warnx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	s_log(4, "warn", _(fmt), ap, NULL);
	va_end(ap);
}

void
log_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	s_log(6, "info", _(fmt), ap, NULL);
	va_end(ap);
}

void
log_debug(const char *fmt, ...)
{
	va_list ap;

	if (!s_verbose)
		return;
	va_start(ap, fmt);
	s_log(7, "debug", fmt, ap, NULL);
	va_end(ap);
}

void
fatal(const char *fmt, ...)
{
	va_list ap;
	const char *e = strerror(errno);

	va_start(ap, fmt);
	s_log(3, "fatal", _(fmt), ap, e);
	va_end(ap);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	s_log(3, "fatal", _(fmt), ap, NULL);
	va_end(ap);
	exit(1);
}
