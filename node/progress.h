/*
 * node/progress.h - progress of long work, as git's progress.c
 *
 * One line per step of an apply (receiving a pack, checking files,
 * writing rows). On a terminal it is redrawn in place and ended with
 * "done" on a line of its own; a daemon logs it every few seconds
 * instead. Nothing is shown for a step that ends within the delay (1 s on
 * a terminal, 10 s in a log; KAIRAN_PROGRESS_DELAY seconds for both, as
 * GIT_PROGRESS_DELAY), so everyday syncs print what they always did.
 */
#ifndef KR_PROGRESS_H
#define KR_PROGRESS_H

#include "../sharing/replica.h"

typedef struct {
	int on;                  /* show at all */
	int tty;                 /* stderr is a terminal: redraw in place, clearing the rest of the line */
	int log;                 /* a daemon's log: a line every delay, through log_info */
	double delay_ms;
	double start, drawn;     /* when the step began, when it was last shown (ms); drawn 0: not yet */
	kr_step step;
	char coll[64];
	int active;              /* a step is under way */
	int open;                /* a line is drawn and not ended */
	unsigned pct;
} kr_progress_view;

/* mode: 1 draws, 0 draws when stderr is a terminal (--progress, and neither flag, as git), -1 never. */
void kr_progress_view_init(kr_progress_view *v, int mode);
/* For a daemon: a log line when a step has run for the delay, then one per delay, and its end. */
void kr_progress_view_init_log(kr_progress_view *v);
/* A kr_replica.progress callback (arg: the view). */
void kr_progress_view_show(const kr_progress *p, void *arg);
/* Ends a line left open (a step that failed), before anything else is written. */
void kr_progress_view_finish(kr_progress_view *v);

#endif
