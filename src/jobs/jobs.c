/* SPDX-License-Identifier: Apache-2.0 */
/* Background jobs: one scheduler thread runs the periodic jobs of lua/agentlens/jobs.lua in
 * turn, each at its own interval, and starts a thread for each long-running job (loop = true);
 * on PostgreSQL an elector thread decides whether this replica is the one that runs them
 * (session advisory lock). */
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
#include "httpc/httpc.h"
#include "lua/generation.h"

/* Why one scheduler thread rather than one thread per job: the job list comes from Lua and
 * changes with every reload, so a fixed set of threads does not fit; one thread keeps a single
 * Lua state and connection, runs due jobs in order and sleeps until the next one is due. Jobs do
 * their network I/O in concurrent batches (agentlens.httpc.request_many), so a round is short.
 * A watch (Kubernetes) never ends by itself, so it cannot take a turn: a job declared with
 * loop = true gets a "looper" thread with its own Lua state and connection, started by the
 * scheduler while this replica leads and the job is enabled. Its run(ctx) loops until
 * ctx.should_stop() (shutdown, reload, lost leadership, job removed or disabled); streams on
 * that thread (agentlens.httpc.stream) end with "stopped" at the same moment. When run returns
 * or raises for another reason it is started again after a pause (1 s doubling to 30 s). */

/* pg_try_advisory_lock key: "AgLensJb" read as a 64-bit integer (the migrations use "AgLensMg").
 * pg_locks shows a bigint key as classid = high 32 bits, objid = low 32 bits, objsubid = 1. */
#define LEADER_KEY "4712819533594970722"
#define LEADER_CLASSID "1097288805"
#define LEADER_OBJID "1853049442"

#define MAX_SLEEP_MS 1000		 /* the scheduler looks at reloads and leadership at least this often */
#define MIN_INTERVAL_MS 50		 /* a job never runs more often than this */
#define FALLBACK_INTERVAL_MS (60 * 1000) /* when a job's interval cannot be read */
#define LOOP_RESTART_MIN_MS 1000	 /* pause before a loop job that returned or failed runs again */
#define LOOP_RESTART_MAX_MS 30000
#define LOOP_HEALTHY_MS 60000		 /* a run this long resets the pause */
#define MAX_LOOPERS 32

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

static bool stopping(void)
{
	pthread_mutex_lock(&J.mu);
	bool stop = J.stop;
	pthread_mutex_unlock(&J.mu);
	return stop;
}

/* ctx.should_stop() of a periodic job */
static bool periodic_should_stop(void *ud)
{
	(void)ud;
	return stopping() || !al_jobs_is_leader();
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
	bool ok = al_job_runner_run(r, i, slot->rounds, periodic_should_stop, NULL, err, sizeof err);
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

/* ---- long-running jobs ------------------------------------------------------------------- */

struct looper {
	char *name;
	pthread_t thread;
	atomic_bool quit;     /* asked to end: the job was removed or disabled, or the process stops */
	atomic_bool finished; /* the thread has ended: join it */
	_Atomic uint64_t gen; /* the published generation when the current run started */
	_Atomic uint64_t term; /* the leadership term when the current run started */
};

static uint64_t current_term(void)
{
	pthread_mutex_lock(&J.mu);
	uint64_t term = J.term;
	pthread_mutex_unlock(&J.mu);
	return term;
}

/* A leadership lost and won back between two looks (the elector re-locks at once when nobody else
 * took the lock) is a new term: the run stops too, as another replica may have led meanwhile. */
static bool looper_should_stop(void *ud)
{
	struct looper *lp = ud;
	return atomic_load(&lp->quit) || stopping() || !al_jobs_is_leader() ||
	       al_generation_current_id() != atomic_load(&lp->gen) || current_term() != atomic_load(&lp->term);
}

/* Index of the loop job called name in r, or -1. */
static long find_loop(const struct al_job_runner *r, const char *name)
{
	for (size_t i = 0; i < al_job_runner_count(r); i++)
		if (al_job_runner_is_loop(r, i) && strcmp(al_job_runner_name(r, i), name) == 0)
			return (long)i;
	return -1;
}

/* Sleeps ms unless the looper must end first; false when it must. */
static bool looper_pause(struct looper *lp, int64_t ms)
{
	int64_t deadline = al_monotonic_ns() + ms * 1000000;
	while (al_monotonic_ns() < deadline) {
		if (atomic_load(&lp->quit) || stopping() || !al_jobs_is_leader())
			return false;
		struct timespec ts = {.tv_sec = 0, .tv_nsec = 50 * 1000000};
		nanosleep(&ts, NULL);
	}
	return true;
}

static void *looper_main(void *arg)
{
	struct looper *lp = arg;
	struct al_job_runner *r = al_job_runner_new();
	al_httpc_thread_set_stop_check(looper_should_stop, lp);
	uint64_t round = 0;
	int64_t pause_ms = LOOP_RESTART_MIN_MS;
	char err[4096];
	while (r && !atomic_load(&lp->quit) && !stopping() && al_jobs_is_leader()) {
		/* read before the state is built: a reload during the build stops the run at once */
		atomic_store(&lp->gen, al_generation_current_id());
		atomic_store(&lp->term, current_term());
		bool changed;
		al_job_runner_sync(r, &changed);
		long i = find_loop(r, lp->name);
		if (i < 0 || !al_job_runner_enabled(r, (size_t)i, err, sizeof err))
			break; /* removed or disabled by a reload: the scheduler reaps this thread */
		round++;
		struct al_log_field fs[] = {AL_LSTR("job", lp->name), AL_LINT("round", round),
					    AL_LINT("generation", al_job_runner_generation(r))};
		al_log_fields(AL_LOG_INFO, "long-running job started", fs, 3);
		int64_t start = al_monotonic_ns();
		bool ok = al_job_runner_run(r, (size_t)i, round, looper_should_stop, lp, err, sizeof err);
		int64_t ms = (al_monotonic_ns() - start) / 1000000;
		bool asked = looper_should_stop(lp);
		if (ok) {
			struct al_log_field f[] = {AL_LSTR("job", lp->name), AL_LINT("round", round),
						   AL_LINT("duration_ms", ms), AL_LBOOL("asked_to_stop", asked)};
			al_log_fields(AL_LOG_INFO, "long-running job returned", f, 4);
		} else {
			struct al_log_field f[] = {AL_LSTR("job", lp->name), AL_LINT("round", round),
						   AL_LINT("duration_ms", ms), AL_LSTR("error", err)};
			al_log_fields(AL_LOG_ERROR, "job failed", f, 4);
		}
		if (asked)
			continue; /* a reload restarts it at once on the new state; the rest ends the loop */
		if (ms >= LOOP_HEALTHY_MS)
			pause_ms = LOOP_RESTART_MIN_MS;
		if (!looper_pause(lp, pause_ms))
			break;
		pause_ms = pause_ms * 2 > LOOP_RESTART_MAX_MS ? LOOP_RESTART_MAX_MS : pause_ms * 2;
	}
	al_httpc_thread_set_stop_check(NULL, NULL);
	al_job_runner_free(r);
	al_db_thread_close();
	al_httpc_thread_close();
	struct al_log_field f[] = {AL_LSTR("job", lp->name)};
	al_log_fields(AL_LOG_INFO, "long-running job stopped", f, 1);
	atomic_store(&lp->finished, true);
	return NULL;
}

static struct looper *loopers[MAX_LOOPERS];
static size_t nloopers;

static void looper_reap(size_t k)
{
	pthread_join(loopers[k]->thread, NULL);
	free(loopers[k]->name);
	free(loopers[k]);
	loopers[k] = loopers[--nloopers];
}

/* Joins the loopers that ended; asks those whose job is gone or disabled to end; starts one for
 * each enabled loop job without one while leading. */
static void manage_loopers(struct al_job_runner *r, bool leading)
{
	for (size_t k = nloopers; k-- > 0;)
		if (atomic_load(&loopers[k]->finished))
			looper_reap(k);
	char err[1024];
	for (size_t k = 0; k < nloopers; k++) {
		long i = find_loop(r, loopers[k]->name);
		if (i < 0 || !al_job_runner_enabled(r, (size_t)i, err, sizeof err))
			atomic_store(&loopers[k]->quit, true);
	}
	if (!leading)
		return;
	for (size_t i = 0; i < al_job_runner_count(r); i++) {
		if (!al_job_runner_is_loop(r, i))
			continue;
		const char *name = al_job_runner_name(r, i);
		bool running = false;
		for (size_t k = 0; k < nloopers && !running; k++)
			running = strcmp(loopers[k]->name, name) == 0;
		if (running)
			continue;
		if (!al_job_runner_enabled(r, i, err, sizeof err)) {
			if (err[0]) {
				struct al_log_field f[] = {AL_LSTR("job", name), AL_LSTR("error", err)};
				al_log_fields(AL_LOG_ERROR, "cannot tell whether the job is enabled", f, 2);
			}
			continue;
		}
		struct looper *lp = calloc(1, sizeof *lp);
		if (!lp || nloopers == MAX_LOOPERS || !(lp->name = strdup(name)) ||
		    pthread_create(&lp->thread, NULL, looper_main, lp) != 0) {
			struct al_log_field f[] = {AL_LSTR("job", name)};
			al_log_fields(AL_LOG_ERROR, "cannot start a thread for the long-running job", f, 1);
			if (lp)
				free(lp->name);
			free(lp);
			continue;
		}
		loopers[nloopers++] = lp;
	}
}

static void stop_loopers(void)
{
	for (size_t k = 0; k < nloopers; k++)
		atomic_store(&loopers[k]->quit, true);
	while (nloopers > 0)
		looper_reap(nloopers - 1);
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
		manage_loopers(r, leading && al_jobs_is_leader());
		int64_t next = al_monotonic_ns() + (int64_t)MAX_SLEEP_MS * 1000000;
		for (size_t i = 0; i < nslots && leading && al_jobs_is_leader(); i++) {
			if (al_job_runner_is_loop(r, i))
				continue;
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
	stop_loopers();
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
