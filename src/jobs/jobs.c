/* SPDX-License-Identifier: Apache-2.0 */
/* Background jobs: one scheduler thread runs the jobs of lua/agentlens/jobs.lua in turn, each
 * at its own interval; on PostgreSQL an elector thread decides whether this replica is the one
 * that runs them (session advisory lock). */
#include "jobs/jobs.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/clock.h"
#include "core/config.h"
#include "core/log.h"
#include "db/db.h"

/* Why one scheduler thread rather than one thread per job: the job list comes from Lua and
 * changes with every reload, so a fixed set of threads does not fit; one thread keeps a single
 * Lua state and connection, runs due jobs in order and sleeps until the next one is due. Jobs do
 * their network I/O in concurrent batches (agentlens.httpc.request_many), so a round is short. */

/* pg_try_advisory_lock key: "AgLensJb" read as a 64-bit integer (the migrations use "AgLensMg").
 * pg_locks shows a bigint key as classid = high 32 bits, objid = low 32 bits, objsubid = 1. */
#define LEADER_KEY "4712819533594970722"
#define LEADER_CLASSID "1097288805"
#define LEADER_OBJID "1853049442"

#define MAX_SLEEP_MS 1000		 /* the scheduler looks at reloads and leadership at least this often */
#define MIN_INTERVAL_MS 50		 /* a job never runs more often than this */
#define FALLBACK_INTERVAL_MS (60 * 1000) /* when a job's interval cannot be read */

static struct {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool stop;
	bool wake;	    /* interrupts the scheduler's sleep (leadership gained) */
	uint64_t term;	    /* counts leadership gains; a new term runs every job at once */
	atomic_bool leader; /* written under mu, read anywhere */
	bool started, elector_started;
	pthread_t scheduler, elector;
	const struct al_config *cfg;
} J = {.mu = PTHREAD_MUTEX_INITIALIZER};

bool al_jobs_is_leader(void)
{
	return atomic_load(&J.leader);
}

/* Waits until deadline (monotonic ns), a stop or (when on_wake) a wake-up. Returns false once
 * stopping. */
static bool wait_until(int64_t deadline_ns, bool on_wake)
{
	struct timespec ts = {.tv_sec = deadline_ns / 1000000000, .tv_nsec = deadline_ns % 1000000000};
	pthread_mutex_lock(&J.mu);
	while (!J.stop && !(on_wake && J.wake) && al_monotonic_ns() < deadline_ns)
		if (pthread_cond_timedwait(&J.cv, &J.mu, &ts) != 0)
			break;
	bool go_on = !J.stop;
	pthread_mutex_unlock(&J.mu);
	return go_on;
}

/* ---- scheduler --------------------------------------------------------------------------- */

struct slot {
	char *name;
	int64_t next_ns; /* 0 = due now */
	uint64_t rounds;
};

/* New slots for the runner's job list; a job that kept its name keeps its schedule. */
static struct slot *reschedule(struct al_job_runner *r, struct slot *old, size_t nold, size_t *n_out)
{
	size_t n = al_job_runner_count(r);
	struct slot *s = calloc(n ? n : 1, sizeof *s);
	if (!s) {
		*n_out = 0;
		return NULL;
	}
	for (size_t i = 0; i < n; i++) {
		const char *name = al_job_runner_name(r, i);
		s[i].name = strdup(name);
		for (size_t j = 0; j < nold; j++) {
			if (old[j].name && strcmp(old[j].name, name) == 0) {
				s[i].next_ns = old[j].next_ns;
				s[i].rounds = old[j].rounds;
			}
		}
	}
	*n_out = n;
	return s;
}

static void free_slots(struct slot *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(s[i].name);
	free(s);
}

/* Runs job i once and computes its next due time from the interval read after the run. */
static void run_job(struct al_job_runner *r, size_t i, struct slot *slot)
{
	char err[4096];
	int64_t start = al_monotonic_ns();
	slot->rounds++;
	bool ok = al_job_runner_run(r, i, slot->rounds, err, sizeof err);
	double ms = (double)(al_monotonic_ns() - start) / 1e6;
	if (ok) {
		struct al_log_field f[] = {AL_LSTR("job", slot->name), AL_LINT("round", slot->rounds),
					   AL_LDBL("duration_ms", ms)};
		al_log_fields(AL_LOG_DEBUG, "job finished", f, 3);
	} else {
		struct al_log_field f[] = {AL_LSTR("job", slot->name), AL_LINT("round", slot->rounds),
					   AL_LDBL("duration_ms", ms), AL_LSTR("error", err)};
		al_log_fields(AL_LOG_ERROR, "job failed", f, 4);
	}
	int64_t interval = al_job_runner_interval_ms(r, i, err, sizeof err);
	if (interval < 0) {
		struct al_log_field f[] = {AL_LSTR("job", slot->name), AL_LINT("fallback_ms", FALLBACK_INTERVAL_MS),
					   AL_LSTR("error", err)};
		al_log_fields(AL_LOG_ERROR, "cannot read the job's interval", f, 3);
		interval = FALLBACK_INTERVAL_MS;
	}
	if (interval < MIN_INTERVAL_MS)
		interval = MIN_INTERVAL_MS;
	slot->next_ns = start + interval * 1000000;
}

static void *scheduler_main(void *arg)
{
	(void)arg;
	struct al_job_runner *r = al_job_runner_new();
	struct slot *slots = NULL;
	size_t nslots = 0;
	uint64_t seen_term = 0;
	if (!r) {
		al_error("background jobs: out of memory");
		return NULL;
	}
	for (;;) {
		pthread_mutex_lock(&J.mu);
		/* leader and term as one snapshot: a gain seen here is never also seen as a new term
		 * at the next pass (which would run every job twice in a row) */
		bool stop = J.stop, leading = atomic_load(&J.leader);
		uint64_t term = J.term;
		J.wake = false;
		pthread_mutex_unlock(&J.mu);
		if (stop)
			break;
		bool changed;
		al_job_runner_sync(r, &changed);
		if (changed || !slots) {
			size_t n;
			struct slot *fresh = reschedule(r, slots, nslots, &n);
			if (fresh) {
				free_slots(slots, nslots);
				slots = fresh;
				nslots = n;
			}
		}
		if (term != seen_term) { /* a new leader does not know when the previous one last ran them */
			for (size_t i = 0; i < nslots; i++)
				slots[i].next_ns = 0;
			seen_term = term;
		}
		int64_t next = al_monotonic_ns() + (int64_t)MAX_SLEEP_MS * 1000000;
		for (size_t i = 0; i < nslots && leading && al_jobs_is_leader(); i++) {
			if (slots[i].next_ns <= al_monotonic_ns())
				run_job(r, i, &slots[i]);
			if (slots[i].next_ns < next)
				next = slots[i].next_ns;
			pthread_mutex_lock(&J.mu);
			stop = J.stop;
			pthread_mutex_unlock(&J.mu);
			if (stop)
				break;
		}
		if (!wait_until(next, true))
			break;
	}
	free_slots(slots, nslots);
	al_job_runner_free(r);
	al_db_thread_close();
	return NULL;
}

/* ---- leader election (PostgreSQL) -------------------------------------------------------- */

static int bool_row(void *ud, size_t ncols, const char *const *names, const struct al_db_value *values)
{
	(void)names;
	if (ncols >= 1 && values[0].type == AL_DB_BOOL)
		*(bool *)ud = values[0].v.b;
	return 0;
}

/* Runs a one-boolean query; false with err set when the statement failed. */
static bool query_bool(struct al_db *db, const char *sql, bool *out, struct al_db_error *err)
{
	*out = false;
	return al_db_exec(db, sql, NULL, 0, bool_row, out, NULL, err);
}

static void set_leader(bool leader, const char *reason)
{
	pthread_mutex_lock(&J.mu);
	bool was = atomic_exchange(&J.leader, leader);
	if (leader && !was) {
		J.term++;
		J.wake = true;
		pthread_cond_broadcast(&J.cv);
	}
	pthread_mutex_unlock(&J.mu);
	if (was == leader)
		return;
	if (leader) {
		al_log_fields(AL_LOG_INFO, "became leader; running background jobs", NULL, 0);
	} else {
		struct al_log_field f[] = {AL_LSTR("reason", reason)};
		al_log_fields(AL_LOG_WARN, "lost leadership; background jobs paused", f, 1);
	}
}

static void *elector_main(void *arg)
{
	(void)arg;
	struct al_db_options opts;
	al_db_options_from_config(&opts, J.cfg);
	struct al_db *db = NULL;
	int64_t interval_ns = J.cfg->jobs_leader_check_interval_ms * 1000000;
	for (;;) {
		struct al_db_error err = {0};
		if (!db && !(db = al_db_open(&opts, &err)))
			set_leader(false, err.message);
		if (db && al_jobs_is_leader()) {
			/* Still this session's lock? A connection the driver re-established silently is a
			 * new session that holds nothing. */
			bool held;
			if (!query_bool(db,
					"SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted"
					" AND pid = pg_backend_pid() AND classid = " LEADER_CLASSID
					" AND objid = " LEADER_OBJID " AND objsubid = 1)",
					&held, &err)) {
				set_leader(false, err.message);
				al_db_close(db);
				db = NULL;
			} else if (!held) {
				set_leader(false, "the advisory lock is no longer held (connection re-established)");
			}
		}
		if (db && !al_jobs_is_leader()) {
			bool got;
			if (!query_bool(db, "SELECT pg_try_advisory_lock(" LEADER_KEY ")", &got, &err)) {
				struct al_log_field f[] = {AL_LSTR("error", err.message)};
				al_log_fields(AL_LOG_WARN, "leader election: cannot reach the database", f, 1);
				al_db_close(db);
				db = NULL;
			} else if (got) {
				set_leader(true, "");
			}
		}
		if (!wait_until(al_monotonic_ns() + interval_ns, false))
			break;
	}
	atomic_store(&J.leader, false);
	al_db_close(db); /* ends the session: the lock is released for the next leader */
	return NULL;
}

/* ---- start and stop ---------------------------------------------------------------------- */

bool al_jobs_start(const struct al_config *cfg)
{
	if (J.started)
		return true;
	if (!cfg->jobs_enabled) {
		al_info("background jobs are disabled (jobs.enabled = false)");
		return true;
	}
	J.cfg = cfg;
	J.stop = J.wake = false;
	pthread_condattr_t attr;
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&J.cv, &attr);
	pthread_condattr_destroy(&attr);
	bool elect = cfg->db_dialect == AL_DB_POSTGRES;
	atomic_store(&J.leader, !elect); /* SQLite: one process owns the file, so it always leads */
	if (pthread_create(&J.scheduler, NULL, scheduler_main, NULL) != 0) {
		al_error("cannot start the background jobs thread");
		pthread_cond_destroy(&J.cv);
		return false;
	}
	J.started = true;
	if (elect) {
		if (pthread_create(&J.elector, NULL, elector_main, NULL) != 0) {
			al_error("cannot start the leader election thread");
			al_jobs_stop();
			return false;
		}
		J.elector_started = true;
	}
	struct al_log_field f[] = {
	    AL_LBOOL("leader_election", elect),
	    AL_LINT("leader_check_interval_ms", elect ? cfg->jobs_leader_check_interval_ms : 0),
	};
	al_log_fields(AL_LOG_INFO, "background jobs started", f, 2);
	return true;
}

void al_jobs_stop(void)
{
	if (!J.started)
		return;
	pthread_mutex_lock(&J.mu);
	J.stop = true;
	pthread_cond_broadcast(&J.cv);
	pthread_mutex_unlock(&J.mu);
	pthread_join(J.scheduler, NULL);
	if (J.elector_started)
		pthread_join(J.elector, NULL);
	pthread_cond_destroy(&J.cv);
	J.started = J.elector_started = false;
	atomic_store(&J.leader, false);
	al_info("background jobs stopped");
}
