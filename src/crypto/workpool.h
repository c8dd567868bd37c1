/* SPDX-License-Identifier: Apache-2.0 */
/* A small thread pool for slow CPU work (bcrypt), so HTTP workers never block on it. */
#ifndef AL_CRYPTO_WORKPOOL_H
#define AL_CRYPTO_WORKPOOL_H

#include <stdbool.h>
#include <stddef.h>

typedef void (*al_work_fn)(void *arg);

/* Starts nthreads workers; false when threads cannot be created. */
bool al_workpool_start(size_t nthreads);
/* Runs every queued job, then joins the workers. */
void al_workpool_stop(void);
/* Queues run(arg) and then done(arg), both on a pool thread. false when the pool is not
 * running (the caller then does the work itself). arg stays the caller's. */
bool al_workpool_submit(al_work_fn run, al_work_fn done, void *arg);

#endif
