/*
 * node/progress.c - progress of long work, as git's progress.c
 */
#include "progress.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../sharing/i18n.h"
#include "log.h"

static void
s_delay(kr_progress_view *v, double ms)
{
	const char *d = getenv("KAIRAN_PROGRESS_DELAY");
	char *end;

	v->delay_ms = ms;
	if (d && *d) {
		double s = strtod(d, &end);
		if (*end == '\0' && s >= 0 && s < 86400)
			v->delay_ms = s * 1000;
	}
}

void
kr_progress_view_init(kr_progress_view *v, int mode)
{
	memset(v, 0, sizeof(*v));
	v->tty = isatty(STDERR_FILENO);
	v->on = mode > 0 || (mode == 0 && v->tty);
	s_delay(v, 1000);
}

void
kr_progress_view_init_log(kr_progress_view *v)
{
	memset(v, 0, sizeof(*v));
	v->on = v->log = 1;
	s_delay(v, 10000);
}

/* The step's line, translated, without its end. */
static void
s_line(char *buf, size_t len, const kr_progress_view *v, const kr_progress *p)
{
	unsigned long long done = p->done, total = p->total;
	double mib = (double)p->bytes / (1024 * 1024);

	switch (p->step) {
	case KR_STEP_RECEIVE:
		if (total)
			snprintf(buf, len, _("%s: receiving objects %3u%% (%llu/%llu), %.1f MiB"), v->coll, v->pct,
			    done, total, mib);
		else
			snprintf(buf, len, _("%s: receiving objects: %.1f MiB"), v->coll, mib);
		break;
	case KR_STEP_CHECK:
		snprintf(buf, len, _("%s: checking files %3u%% (%llu/%llu)"), v->coll, v->pct, done, total);
		break;
	case KR_STEP_INDEX:
		snprintf(buf, len, _("%s: indexing items %3u%% (%llu/%llu)"), v->coll, v->pct, done, total);
		break;
	}
}

static void
s_show(kr_progress_view *v, const kr_progress *p, int end)
{
	char line[256];

	s_line(line, sizeof(line), v, p);
	if (v->log) {
		size_t n = strlen(line);
		if (end) {
			snprintf(line + n, sizeof(line) - n, "%s", _(", done.\n"));
			line[strcspn(line, "\n")] = '\0';
		}
		/* two workers may apply two publishers' "cases" at once */
		log_info("publisher %.16s…: %s", p->publisher ? p->publisher : "", line);
		return;
	}
	fprintf(stderr, "\r%s%s%s", line, v->tty ? "\033[K" : "", end ? _(", done.\n") : "");
	fflush(stderr);
	v->open = !end;
}

void
kr_progress_view_show(const kr_progress *p, void *arg)
{
	kr_progress_view *v = arg;
	double now;
	unsigned pct;

	if (!v->on)
		return;
	now = kr_monotonic_ms();
	if (!v->active || p->step != v->step || strncmp(v->coll, p->collection, sizeof(v->coll) - 1) != 0) {
		kr_progress_view_finish(v);
		v->active = 1;
		v->step = p->step;
		snprintf(v->coll, sizeof(v->coll), "%s", p->collection);
		v->start = now;
		v->drawn = 0;
	}
	pct = p->total ? (unsigned)(p->done * 100 / p->total) : 0;
	if (p->end > 0) {
		if (v->drawn) {
			v->pct = 100;
			s_show(v, p, 1);
		}
		v->active = 0;
		return;
	}
	if (p->end < 0) {
		/* stopped on an error, told next on a line of its own */
		kr_progress_view_finish(v);
		return;
	}
	if (now - v->start < v->delay_ms)
		return;
	/* a log: once per delay (at least a second); a terminal: at most 20 times a second, twice when nothing moved */
	if (v->drawn && (v->log ? now - v->drawn < (v->delay_ms > 1000 ? v->delay_ms : 1000) :
	    now - v->drawn < 50 || (pct == v->pct && now - v->drawn < 500)))
		return;
	v->pct = pct;
	v->drawn = now;
	s_show(v, p, 0);
}

void
kr_progress_view_finish(kr_progress_view *v)
{
	if (v->open) {
		fputc('\n', stderr);
		fflush(stderr);
	}
	v->open = 0;
	v->active = 0;
}
