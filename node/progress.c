/*
 * node/progress.c - progress of long work on stderr, as git's progress.c
 */
#include "progress.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../sharing/i18n.h"

void
kr_progress_view_init(kr_progress_view *v, int mode)
{
	const char *d = getenv("KAIRAN_PROGRESS_DELAY");
	char *end;

	memset(v, 0, sizeof(*v));
	v->tty = isatty(STDERR_FILENO);
	v->on = mode > 0 || (mode == 0 && v->tty);
	v->delay_ms = 1000;
	if (d && *d) {
		double s = strtod(d, &end);
		if (*end == '\0' && s >= 0 && s < 86400)
			v->delay_ms = s * 1000;
	}
}

static void
s_draw(kr_progress_view *v, const kr_progress *p, int end)
{
	unsigned long long done = p->done, total = p->total;
	double mib = (double)p->bytes / (1024 * 1024);

	fputc('\r', stderr);
	switch (p->step) {
	case KR_STEP_RECEIVE:
		if (total)
			fprintf(stderr, _("%s: receiving objects %3u%% (%llu/%llu), %.1f MiB"), v->coll, v->pct,
			    done, total, mib);
		else
			fprintf(stderr, _("%s: receiving objects: %.1f MiB"), v->coll, mib);
		break;
	case KR_STEP_CHECK:
		fprintf(stderr, _("%s: checking files %3u%% (%llu/%llu)"), v->coll, v->pct, done, total);
		break;
	case KR_STEP_INDEX:
		fprintf(stderr, _("%s: indexing items %3u%% (%llu/%llu)"), v->coll, v->pct, done, total);
		break;
	}
	if (v->tty)
		fputs("\033[K", stderr);
	if (end)
		fputs(_(", done.\n"), stderr);
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
	if (p->end) {
		if (v->drawn) {
			v->pct = 100;
			s_draw(v, p, 1);
		}
		v->active = 0;
		return;
	}
	/* not before the delay; then at most 20 times a second, and twice a second when nothing moved */
	if (now - v->start < v->delay_ms || (v->drawn && (now - v->drawn < 50 ||
	    (pct == v->pct && now - v->drawn < 500))))
		return;
	v->pct = pct;
	v->drawn = now;
	s_draw(v, p, 0);
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
