/*
 * node/pubmaint.c - the deferred part of publishes handed to the node
 *
 * Threads: the serve loop calls kr_pubmaint_take and kr_pubmaint_stop;
 * the thread alone touches its store. What is waiting is guarded by lock.
 */
#include "pubmaint.h"

#include <errno.h>
#include <pthread.h>
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
	struct timespec due;            /* KR_PUBMAINT_DELAY_MS after the last take */
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
		pthread_mutex_unlock(&m->lock);
		if (!store && kr_store_open(&store, m->h->home) < 0) {
			log_warnx("publish maintenance: %s (the next publish or start does it)", kr_errmsg());
			kr_error_clear();
		}
		if (store) {
			r.store = store;
			kr_replica_maintain(&r);
			kr_store_sweep(store, 0); /* no pack of a replaced set stays open or mapped here */
		}
		kr_replica_release(&r);
		pthread_mutex_lock(&m->lock);
	}
	pthread_mutex_unlock(&m->lock);
	kr_store_destroy(&store);
	return NULL;
}

int
kr_pubmaint_start(kr_pubmaint **out, const kr_home *h)
{
	kr_pubmaint *m = kr_calloc(1, sizeof(*m));
	pthread_condattr_t ca;

	m->h = h;
	pthread_mutex_init(&m->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&m->cond, &ca);
	pthread_condattr_destroy(&ca);
	if (pthread_create(&m->thread, NULL, s_main, m) != 0) {
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
	clock_gettime(CLOCK_MONOTONIC, &m->due);
	m->due.tv_sec += KR_PUBMAINT_DELAY_MS / 1000;
	m->due.tv_nsec += (long)(KR_PUBMAINT_DELAY_MS % 1000) * 1000000L;
	if (m->due.tv_nsec >= 1000000000L) {
		m->due.tv_sec++;
		m->due.tv_nsec -= 1000000000L;
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
