/* SPDX-License-Identifier: Apache-2.0 */
/* AgentLens command line: serve (default), version, check-config, config-reference, run. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <curl/curl.h>

#include "core/clock.h"
#include "core/config.h"
#include "core/log.h"
#include "db/db.h"
#include "db/migrate.h"
#include "crypto/keys.h"
#include "crypto/workpool.h"
#include "http/server.h"
#include "httpc/httpc.h"
#include "jobs/jobs.h"
#include "lua/host.h"

extern char **environ;

static int usage_error(const char *message)
{
	fprintf(stderr, "agentlens: %s\nRun 'agentlens --help' for usage.\n", message);
	return 2;
}

/* Splits "--config FILE" / "--config=FILE" out of argv; the rest stays for al_config_load. */
static int take_config_flag(int *argc, char **argv, const char **path)
{
	int out = 0;
	for (int i = 0; i < *argc; i++) {
		if (strcmp(argv[i], "--config") == 0 || strcmp(argv[i], "-c") == 0) {
			if (i + 1 >= *argc)
				return usage_error("--config needs a file name");
			*path = argv[++i];
		} else if (strncmp(argv[i], "--config=", 9) == 0) {
			*path = argv[i] + 9;
		} else {
			argv[out++] = argv[i];
		}
	}
	*argc = out;
	return 0;
}

static bool load_config(struct al_config *cfg, int argc, char **argv, int *exit_code)
{
	const char *path = getenv("AGENTLENS_CONFIG");
	if ((*exit_code = take_config_flag(&argc, argv, &path)) != 0)
		return false;
	struct al_config_error err;
	if (!al_config_load(cfg, path, environ, argc, argv, &err)) {
		fprintf(stderr, "agentlens: configuration error: %s\n", err.message);
		*exit_code = 2;
		return false;
	}
	return true;
}

static bool ensure_data_dir(const char *dir, char *err, size_t errlen)
{
	char path[4096];
	if (!dir[0] || strlen(dir) >= sizeof path) {
		snprintf(err, errlen, "data_dir \"%.100s\" must be a path of 1 to %zu bytes", dir, sizeof path - 1);
		return false;
	}
	snprintf(path, sizeof path, "%s", dir);
	for (char *p = path + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(path, 0750) != 0 && errno != EEXIST) {
			snprintf(err, errlen, "data_dir: cannot create %.2000s: %s", path, strerror(errno));
			return false;
		}
		*p = '/';
	}
	if (mkdir(path, 0750) != 0 && errno != EEXIST) {
		snprintf(err, errlen, "data_dir %s: cannot create it: %s", dir, strerror(errno));
		return false;
	}
	if (access(path, W_OK | X_OK) != 0) {
		snprintf(err, errlen, "data_dir %s is not writable by this user (uid %d): %s", dir, (int)getuid(),
			 strerror(errno));
		return false;
	}
	return true;
}

/* Opens a connection and applies pending migrations. Transient failures (server down,
 * locked) return false with *fatal unset, so the caller retries. */
static bool prepare_database(struct al_db_error *err, bool *fatal, const char **what)
{
	*fatal = false;
	*what = "database unavailable at start-up; retrying";
	struct al_db *db = al_db_thread(err);
	if (!db) {
		*fatal = err->code == AL_DB_READONLY;
		if (*fatal)
			*what = "cannot use the database; stopping";
		return false;
	}
	int applied = 0;
	if (!al_migrate_apply(db, &applied, err)) {
		*fatal = err->code != AL_DB_UNAVAILABLE && err->code != AL_DB_BUSY;
		if (*fatal)
			*what = "cannot use the database; stopping";
		else
			al_db_thread_close();
		return false;
	}
	char msg[1024];
	if (!al_lua_startup(msg, sizeof msg)) {
		/* e.g. AGENTLENS_ADMIN_PASSWORD violates the password policy: a configuration problem */
		*what = "start-up tasks failed (agentlens.startup); stopping";
		*fatal = true;
		err->code = AL_DB_UNAVAILABLE;
		snprintf(err->message, sizeof err->message, "start-up tasks failed: %.400s", msg);
		return false;
	}
	return true;
}

static void log_db_problem(const struct al_config *cfg, const struct al_db_error *err, const char *what)
{
	if (cfg->db_dialect == AL_DB_POSTGRES) {
		struct al_log_field f[] = {
			AL_LSTR("host", cfg->db_pg_host), AL_LINT("port", cfg->db_pg_port),
			AL_LSTR("dbname", cfg->db_pg_dbname), AL_LSTR("code", al_db_code_name(err->code)),
			AL_LSTR("error", err->message),
		};
		al_log_fields(AL_LOG_ERROR, what, f, sizeof f / sizeof f[0]);
	} else {
		struct al_log_field f[] = {
			AL_LSTR("path", cfg->db_sqlite_path), AL_LSTR("code", al_db_code_name(err->code)),
			AL_LSTR("error", err->message),
		};
		al_log_fields(AL_LOG_ERROR, what, f, sizeof f / sizeof f[0]);
	}
}

static int serve(struct al_config *cfg)
{
	int64_t t0 = al_monotonic_ns();
	char err[4096];
	sigset_t sigs;
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGHUP);
	/* Blocked before any thread starts, so only sigwait below sees them. */
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (!ensure_data_dir(cfg->data_dir, err, sizeof err)) {
		al_error("%s", err);
		return 1;
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0) {
		al_error("libcurl initialisation failed");
		return 1;
	}
	if (!al_httpc_init(cfg->import_allowed_networks, err, sizeof err)) {
		al_error("import.allowed_networks: %s", err);
		return 1;
	}
	char key_file[4200];
	snprintf(key_file, sizeof key_file, "%s/jwt-secret", cfg->data_dir);
	bool generated;
	if (!al_jwt_key_init(cfg->auth_jwt_secret, key_file, &generated, err, sizeof err)) {
		al_error("%s", err);
		return 1;
	}
	if (!cfg->auth_jwt_secret || !cfg->auth_jwt_secret[0])
		al_warn("auth.jwt_secret (AGENTLENS_JWT_SECRET) is not set: signing tokens with the key %s in %s; "
			"set the variable when several replicas must accept each other's tokens",
			generated ? "just generated and stored" : "stored", key_file);
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	size_t hashers = cfg->auth_hash_workers > 0 ? (size_t)cfg->auth_hash_workers : (ncpu > 2 ? (size_t)ncpu / 2 : 1);
	if (!al_workpool_start(hashers)) {
		al_error("cannot start the password hashing threads");
		return 1;
	}
	if (!al_lua_start(cfg, err, sizeof err)) {
		struct al_log_field f[] = {AL_LSTR("error", err)};
		al_log_fields(AL_LOG_ERROR, "cannot load the Lua modules", f, 1);
		return 1;
	}
	struct al_server *server = al_server_start(cfg, err, sizeof err);
	if (!server) {
		al_error("%s", err);
		al_lua_stop();
		return 1;
	}
	al_lua_start_watcher();
	al_server_set_ready(false, "connecting to the database");
	struct al_db_options dbopts;
	al_db_options_from_config(&dbopts, cfg);
	al_db_configure(&dbopts);
	struct al_log_field f[] = {
		AL_LSTR("version", AL_VERSION), AL_LSTR("bind", cfg->bind), AL_LINT("port", al_server_port(server)),
		AL_LSTR("data_dir", cfg->data_dir), AL_LDBL("startup_ms", (double)(al_monotonic_ns() - t0) / 1e6),
	};
	al_log_fields(AL_LOG_INFO, "listening", f, sizeof f / sizeof f[0]);

	/* The main thread owns signals and the database's readiness: until the database is
	 * reachable and migrated it retries with backoff (liveness stays green meanwhile); then it
	 * checks the database every 2 s so /readyz follows outages. */
	bool db_ready = false, was_healthy = false;
	int64_t backoff_ms = 500;
	int code = 0;
	for (;;) {
		struct al_db_error dberr;
		int64_t wait_ms = 2000;
		if (!db_ready) {
			bool fatal;
			const char *what;
			if (prepare_database(&dberr, &fatal, &what)) {
				db_ready = was_healthy = true;
				al_server_set_ready(true, "");
				al_info("database ready; AgentLens is serving");
				/* background jobs (issue 6.1): start once the database is migrated */
				if (!al_jobs_start(cfg)) {
					code = 1;
					break;
				}
			} else if (fatal) {
				log_db_problem(cfg, &dberr, what);
				code = 1;
				break;
			} else {
				char reason[600];
				snprintf(reason, sizeof reason, "database unavailable: %s", dberr.message);
				al_server_set_ready(false, reason);
				log_db_problem(cfg, &dberr, what);
				wait_ms = backoff_ms;
				backoff_ms = backoff_ms * 2 > 30000 ? 30000 : backoff_ms * 2;
			}
		} else {
			struct al_db *db = al_db_thread(&dberr);
			bool healthy = db && al_db_ping(db, &dberr);
			if (healthy != was_healthy) {
				char reason[600];
				snprintf(reason, sizeof reason, "database unavailable: %s", healthy ? "" : dberr.message);
				al_server_set_ready(healthy, healthy ? "" : reason);
				if (healthy)
					al_info("database reachable again");
				else
					log_db_problem(cfg, &dberr, "database unavailable");
				was_healthy = healthy;
			}
		}
		struct timespec ts = {.tv_sec = wait_ms / 1000, .tv_nsec = (wait_ms % 1000) * 1000000};
		int sig = sigtimedwait(&sigs, NULL, &ts);
		if (sig < 0)
			continue;
		if (sig == SIGHUP) {
			al_info("SIGHUP: reloading Lua modules and scripts");
			al_lua_request_reload();
			continue;
		}
		al_info("%s: shutting down, draining in-flight requests", sig == SIGINT ? "SIGINT" : "SIGTERM");
		break;
	}
	/* background jobs (issue 6.1): stop before the work pool and the server */
	al_jobs_stop();
	/* Finish queued slow work first: its requests are suspended, and MHD cannot stop while any are. */
	al_workpool_stop();
	al_server_stop(server, cfg->http_shutdown_timeout_ms);
	al_lua_stop();
	al_db_thread_close();
	curl_global_cleanup();
	al_info("stopped");
	return code;
}

static const char *const state_names[] = {"pending", "applied", "CHANGED", "unknown to this binary"};

/* agentlens migrate [--status] */
static int migrate(const struct al_config *cfg, bool status_only)
{
	struct al_db_options opts;
	al_db_options_from_config(&opts, cfg);
	struct al_db_error err;
	struct al_db *db = al_db_open(&opts, &err);
	if (!db) {
		fprintf(stderr, "agentlens migrate: %s\n", err.message);
		return 1;
	}
	int code = 0, applied = 0;
	if (!status_only && !al_migrate_apply(db, &applied, &err)) {
		fprintf(stderr, "agentlens migrate: %s\n", err.message);
		code = 1;
	} else if (!status_only) {
		printf("%d migration(s) applied\n", applied);
	}
	struct al_migration_status *st;
	size_t n;
	if (code == 0 && al_migrate_status(db, &st, &n, &err)) {
		printf("%-8s %-32s %-24s %s\n", "VERSION", "NAME", "STATE", "APPLIED AT");
		for (size_t i = 0; i < n; i++)
			printf("%04lld     %-32s %-24s %s\n", (long long)st[i].version, st[i].name, state_names[st[i].state],
			       st[i].applied_at);
		free(st);
	} else if (code == 0) {
		fprintf(stderr, "agentlens migrate: %s\n", err.message);
		code = 1;
	}
	al_db_close(db);
	return code;
}

/* agentlens backup FILE */
static int backup(const struct al_config *cfg, const char *file)
{
	if (cfg->db_dialect == AL_DB_POSTGRES) {
		fprintf(stderr,
			"agentlens backup: the database is PostgreSQL; back it up with pg_dump, for example:\n"
			"  pg_dump --format=custom --host=%s --port=%lld --username=%s --file=agentlens.dump %s\n"
			"and restore with pg_restore (see docs/backup.md).\n",
			cfg->db_pg_host, (long long)cfg->db_pg_port, cfg->db_pg_user, cfg->db_pg_dbname);
		return 2;
	}
	struct al_db_error err;
	if (!al_db_sqlite_backup(cfg->db_sqlite_path, file, &err)) {
		fprintf(stderr, "agentlens backup: %s\n", err.message);
		return 1;
	}
	printf("backed up %s to %s (integrity check: ok)\n", cfg->db_sqlite_path, file);
	return 0;
}

static int check_config(const struct al_config *cfg, const char *path)
{
	char err[4096];
	if (!al_httpc_init(cfg->import_allowed_networks, err, sizeof err)) {
		fprintf(stderr, "agentlens: configuration error: import.allowed_networks: %s\n", err);
		return 2;
	}
	bool generated;
	if (!al_jwt_key_init(cfg->auth_jwt_secret, NULL, &generated, err, sizeof err)) {
		fprintf(stderr, "agentlens: configuration error: %s\n", err);
		return 2;
	}
	if (!al_lua_start(cfg, err, sizeof err)) {
		fprintf(stderr, "agentlens: Lua modules or scripts are invalid: %s\n", err);
		return 1;
	}
	al_lua_stop();
	printf("configuration is valid%s%s\n", path ? ": " : "", path ? path : " (defaults and environment)");
	for (size_t i = 0; i < al_options_count; i++) {
		char value[512];
		al_config_format_value(cfg, &al_options[i], value, sizeof value);
		printf("  %-28s %s\n", al_options[i].key, value);
	}
	return 0;
}

int main(int argc, char **argv)
{
	const char *cmd = "serve";
	int first = 1;
	if (argc > 1 && argv[1][0] != '-') {
		cmd = argv[1];
		first = 2;
	}
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0 || strcmp(cmd, "help") == 0) {
			char *help = al_config_help_text();
			fputs(help ? help : "agentlens: out of memory\n", stdout);
			free(help);
			return 0;
		}
		if (strcmp(argv[i], "--") == 0 || strcmp(cmd, "run") == 0)
			break;
	}
	if (strcmp(cmd, "version") == 0 || (argc > 1 && strcmp(argv[1], "--version") == 0)) {
		printf("agentlens %s\n", AL_VERSION);
		return 0;
	}
	if (strcmp(cmd, "config-reference") == 0) {
		char *md = al_config_reference_markdown();
		fputs(md ? md : "", stdout);
		free(md);
		return md ? 0 : 1;
	}

	struct al_config cfg = {0};
	int code = 0;
	if (strcmp(cmd, "run") == 0) {
		/* run SCRIPT [ARGS...]: configuration from the environment only; arguments belong to the script */
		if (argc < 3)
			return usage_error("run: missing script");
		char *none[] = {NULL};
		if (!load_config(&cfg, 0, none, &code))
			return code;
		if (!getenv("AGENTLENS_LOG_LEVEL"))
			cfg.log_level = AL_LOG_WARN; /* a script's own output stays readable */
		al_log_setup(cfg.log_level, cfg.log_format);
		char err[4200];
		if (!ensure_data_dir(cfg.data_dir, err, sizeof err))
			al_warn("%s", err);
		bool generated; /* scripts sign with the configured secret or a key of their own */
		if (!al_jwt_key_init(cfg.auth_jwt_secret, NULL, &generated, err, sizeof err)) {
			fprintf(stderr, "agentlens: configuration error: %s\n", err);
			al_config_free(&cfg);
			return 2;
		}
		code = al_lua_run_script(&cfg, argc - 2, argv + 2);
		al_config_free(&cfg);
		return code;
	}
	bool is_migrate = strcmp(cmd, "migrate") == 0, is_backup = strcmp(cmd, "backup") == 0;
	if (strcmp(cmd, "serve") != 0 && strcmp(cmd, "check-config") != 0 && !is_migrate && !is_backup) {
		fprintf(stderr, "agentlens: unknown command \"%s\" (expected serve, version, check-config, "
				"config-reference, migrate, backup, run)\n", cmd);
		return 2;
	}
	/* Command arguments: migrate --status, backup FILE; the rest is configuration. */
	bool status_only = false;
	const char *backup_file = NULL;
	int nargs = 0;
	char **args = argv + first;
	for (int i = first; i < argc; i++) {
		if (is_migrate && strcmp(argv[i], "--status") == 0)
			status_only = true;
		else if (is_backup && i == first && argv[i][0] != '-')
			backup_file = argv[i];
		else
			args[nargs++] = argv[i];
	}
	if (is_backup && !backup_file)
		return usage_error("backup: missing the destination file (agentlens backup FILE [flags])");
	if (!load_config(&cfg, nargs, args, &code))
		return code;
	al_log_setup(cfg.log_level, cfg.log_format);
	if (is_migrate)
		code = migrate(&cfg, status_only);
	else if (is_backup)
		code = backup(&cfg, backup_file);
	else if (strcmp(cmd, "serve") == 0)
		code = serve(&cfg);
	else
		code = check_config(&cfg, cfg.source_file);
	al_config_free(&cfg);
	return code;
}
