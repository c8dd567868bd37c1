/* SPDX-License-Identifier: Apache-2.0 */
/* Background jobs (ARCHITECTURE.md §2): a scheduler thread with its own Lua state and database
 * connection runs the jobs that lua/agentlens/jobs.lua declares; with PostgreSQL an elector
 * thread holds an advisory lock so that exactly one replica runs them. No lua.h here: the Lua
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
/* Calls job i's run(ctx) through the traceback helper; ctx = {name, round}. False with
 * "message\ntraceback" in err when it raised. */
bool al_job_runner_run(struct al_job_runner *r, size_t i, uint64_t round, char *err, size_t errlen);

#endif
