/*
 * node/pubmaint.c - the deferred part of publishes handed to the node
 *
 * Threads: the serve loop calls kr_pubmaint_take and kr_pubmaint_stop;
 * the thread alone touches its store. What is waiting is guarded by lock.
 */
#include "pubmaint.h"

#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

struct kr_pubmaint {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	const kr_home *h;               /* its home, key and config: read only */
	/* waiting (under lock) */
	char **colls;
	size_t ncolls;
	struct timespec first;          /* the first take not done yet */
	struct timespec due;            /* KR_PUBMAINT_DELAY_MS after the last take, at most KR_PUBMAINT_WAIT_MS after the first */
	int stop;
};

static void *
s_main(void *arg)
{
	kr_pubmaint *m = arg;
	kr_store *store = NULL;

	/* below the loop, the pool and the replication workers (a thread's own nice value on Linux) */
	errno = 0;
	if (setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), 10) < 0 && errno)
		log_debug("publish maintenance: setpriority: %s", strerror(errno));
	pthread_mutex_lock(&m->lock);
	for (;;) {
		kr_replica r;
		while (!m->stop && !m->ncolls)
			pthread_cond_wait(&m->cond, &m->lock);
		if (!m->ncolls)
			break;
		/* quiet for a while: subscribers fetch first, and the next publish is done with this one */
		while (!m->stop && pthread_cond_timedwait(&m->cond, &m->lock, &m->due) != ETIMEDOUT)
			;
		kr_replica_init(&r, NULL, NULL, m->h->key, m->h->cfg.name, m->h->cfg.lg_code);
		r.maint = m->colls;
		r.nmaint = m->ncolls;
		m->colls = NULL;
		m->ncolls = 0;
		m->first = (struct timespec){ 0, 0 };
		pthread_mutex_unlock(&m->lock);
		if (!store && kr_store_open(&store, m->h->home) < 0) {
			log_warnx("publish maintenance: %s (the next publish or start does it)", kr_errmsg());
			kr_error_clear();
		}
		if (store) {
			r.store = store;
			kr_replica_maintain(&r, 1);
			kr_store_sweep(store, 0); /* no pack of a replaced set stays open or mapped here */
		}
		kr_replica_release(&r);
		/* a repack's buffers (a whole collection) go back to the system, as the other threads' do (s_tidy) */
		malloc_trim(0);
		pthread_mutex_lock(&m->lock);
	}
	pthread_mutex_unlock(&m->lock);
	kr_store_destroy(&store);
	return NULL;
}

/* t + ms */
static struct timespec
s_after(struct timespec t, long ms)
{
	t.tv_sec += ms / 1000;
	t.tv_nsec += (ms % 1000) * 1000000L;
	if (t.tv_nsec >= 1000000000L) {
		t.tv_sec++;
		t.tv_nsec -= 1000000000L;
	}
	return t;
}

static int
s_before(struct timespec a, struct timespec b)
{
	return a.tv_sec < b.tv_sec || (a.tv_sec == b.tv_sec && a.tv_nsec < b.tv_nsec);
}

int
kr_pubmaint_start(kr_pubmaint **out, const kr_home *h)
{
	kr_pubmaint *m = kr_calloc(1, sizeof(*m));
	pthread_condattr_t ca;
	sigset_t all, old;
	int rc;

	m->h = h;
	pthread_mutex_init(&m->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&m->cond, &ca);
	pthread_condattr_destroy(&ca);
	/* signals are the serve loop's (node/serve.c): this thread takes none */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	rc = pthread_create(&m->thread, NULL, s_main, m);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		pthread_cond_destroy(&m->cond);
		pthread_mutex_destroy(&m->lock);
		free(m);
		return kr_error(KR_ERROR, "cannot start the publish maintenance thread");
	}
	*out = m;
	return 0;
}

void
kr_pubmaint_take(kr_pubmaint *m, kr_replica *r)
{
	pthread_mutex_lock(&m->lock);
	for (size_t i = 0; i < r->nmaint; i++) {
		if (kr_strv_has(m->colls, m->ncolls, r->maint[i])) {
			free(r->maint[i]);
			continue;
		}
		m->colls = kr_realloc(m->colls, (m->ncolls + 1) * sizeof(char *));
		m->colls[m->ncolls++] = r->maint[i];
	}
	free(r->maint);
	r->maint = NULL;
	r->nmaint = 0;
	{
		struct timespec now, cap;
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (!m->first.tv_sec && !m->first.tv_nsec)
			m->first = now;
		/* quiet for a moment, but no later than a while after the first: a steady stream is consolidated too */
		m->due = s_after(now, KR_PUBMAINT_DELAY_MS);
		cap = s_after(m->first, KR_PUBMAINT_WAIT_MS);
		if (s_before(cap, m->due))
			m->due = cap;
	}
	pthread_cond_signal(&m->cond);
	pthread_mutex_unlock(&m->lock);
}

void
kr_pubmaint_stop(kr_pubmaint **mp)
{
	kr_pubmaint *m;

	if (!mp || !(m = *mp))
		return;
	pthread_mutex_lock(&m->lock);
	m->stop = 1;
	pthread_cond_signal(&m->cond);
	pthread_mutex_unlock(&m->lock);
	pthread_join(m->thread, NULL);
	kr_strv_free(m->colls, m->ncolls);
	pthread_cond_destroy(&m->cond);
	pthread_mutex_destroy(&m->lock);
	free(m);
	*mp = NULL;
}
