/* SPDX-License-Identifier: Apache-2.0 */
/* Background jobs (ARCHITECTURE.md §2): a scheduler thread with its own Lua state and database
 * connection runs the periodic jobs that lua/agentlens/jobs.lua declares, and each long-running
 * job (loop = true, a watch) runs on a thread of its own with its own state and connection;
 * with PostgreSQL an elector thread holds an advisory lock so that exactly one replica runs them. No lua.h here: the Lua
 * side of a round is src/lua/job_runner.c, declared at the end of this file. */
#ifndef AL_JOBS_JOBS_H
#define AL_JOBS_JOBS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct al_config;

/* Starts the scheduler (and, on PostgreSQL, the leader elector) unless cfg->jobs_enabled is
 * false. Call once the database is migrated and the first generation is published. cfg is
 * borrowed and must outlive al_jobs_stop(). Returns false when a thread could not start. */
bool al_jobs_start(const struct al_config *cfg);
/* Stops and joins the threads (a running job finishes its round first); releases the
 * leadership lock by closing its connection. Safe to call when never started. */
void al_jobs_stop(void);
/* Whether this process currently runs the jobs (always true on SQLite once started). */
bool al_jobs_is_leader(void);

/* ---- the Lua side of a round (src/lua/job_runner.c); used only by the scheduler thread ---- */

/* A Lua state built from the current generation plus its validated job list. */
struct al_job_runner;

/* An empty runner (no state yet); NULL when out of memory. Caller owns it. */
struct al_job_runner *al_job_runner_new(void);
void al_job_runner_free(struct al_job_runner *r);
/* Rebuilds the state when the published generation changed (or the state broke). A generation
 * whose agentlens.jobs fails to load or validate is logged once and the previous state keeps
 * running. *changed tells whether the job list may have changed. */
void al_job_runner_sync(struct al_job_runner *r, bool *changed);
size_t al_job_runner_count(const struct al_job_runner *r);
/* Name of job i (owned by the runner; valid until the next sync). */
const char *al_job_runner_name(const struct al_job_runner *r, size_t i);
/* Interval of job i in milliseconds, read now (interval_ms, or the interval_setting in seconds
 * through agentlens.settings). -1 with err set when it cannot be read. */
int64_t al_job_runner_interval_ms(struct al_job_runner *r, size_t i, char *err, size_t errlen);
/* Whether job i is a long-running loop (loop = true) rather than a periodic job. */
bool al_job_runner_is_loop(const struct al_job_runner *r, size_t i);
/* Job i's enabled field now: absent or true -> true; a function is called (false with err set
 * when it raised). */
bool al_job_runner_enabled(struct al_job_runner *r, size_t i, char *err, size_t errlen);
/* The generation the runner's state was built from (0 without a state). */
uint64_t al_job_runner_generation(const struct al_job_runner *r);
/* Calls job i's run(ctx) through the traceback helper; ctx = {name, round, should_stop(),
 * sleep(seconds)}, where should_stop() is should_stop(ud) and sleep returns false early once it
 * is true. False with "message\ntraceback" in err when it raised. */
bool al_job_runner_run(struct al_job_runner *r, size_t i, uint64_t round, bool (*should_stop)(void *ud),
		       void *ud, char *err, size_t errlen);

#endif
