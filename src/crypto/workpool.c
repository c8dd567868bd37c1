/* SPDX-License-Identifier: Apache-2.0 */
/* Thread pool for slow work: a mutex-guarded FIFO and a few worker threads. */
#include "crypto/workpool.h"

#include <pthread.h>
#include <stdlib.h>

#include "core/log.h"

struct job {
	al_work_fn run, done;
	void *arg;
	struct job *next;
};

static struct {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct job *head, *tail;
	pthread_t *threads;
	size_t nthreads;
	bool running, stopping;
} pool = {.lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER};

static void *worker(void *unused)
{
	pthread_mutex_lock(&pool.lock);
	for (;;) {
		while (!pool.head && !pool.stopping)
			pthread_cond_wait(&pool.cond, &pool.lock);
		struct job *j = pool.head;
		if (!j)
			break; /* stopping and drained */
		pool.head = j->next;
		if (!pool.head)
			pool.tail = NULL;
		pthread_mutex_unlock(&pool.lock);
		j->run(j->arg);
		if (j->done)
			j->done(j->arg);
		free(j);
		pthread_mutex_lock(&pool.lock);
	}
	pthread_mutex_unlock(&pool.lock);
	return NULL;
}

bool al_workpool_start(size_t nthreads)
{
	if (pool.running)
		return true;
	pool.threads = calloc(nthreads, sizeof *pool.threads);
	if (!pool.threads)
		return false;
	pool.stopping = false;
	for (pool.nthreads = 0; pool.nthreads < nthreads; pool.nthreads++) {
		if (pthread_create(&pool.threads[pool.nthreads], NULL, worker, NULL) != 0) {
			al_error("work pool: cannot start thread %zu", pool.nthreads);
			break;
		}
	}
	pool.running = pool.nthreads > 0;
	return pool.running;
}

void al_workpool_stop(void)
{
	if (!pool.running)
		return;
	pthread_mutex_lock(&pool.lock);
	pool.stopping = true;
	pthread_cond_broadcast(&pool.cond);
	pthread_mutex_unlock(&pool.lock);
	for (size_t i = 0; i < pool.nthreads; i++)
		pthread_join(pool.threads[i], NULL);
	free(pool.threads);
	pool.threads = NULL;
	pool.nthreads = 0;
	pool.running = false;
}

bool al_workpool_submit(al_work_fn run, al_work_fn done, void *arg)
{
	struct job *j = malloc(sizeof *j);
	if (!j)
		return false;
	*j = (struct job){run, done, arg, NULL};
	pthread_mutex_lock(&pool.lock);
	if (!pool.running || pool.stopping) {
		pthread_mutex_unlock(&pool.lock);
		free(j);
		return false;
	}
	if (pool.tail)
		pool.tail->next = j;
	else
		pool.head = j;
	pool.tail = j;
	pthread_cond_signal(&pool.cond);
	pthread_mutex_unlock(&pool.lock);
	return true;
}
