/* SPDX-License-Identifier: Apache-2.0 */
/* Configuration: defaults -> YAML file -> AGENTLENS_* environment -> command-line flags.
 * Every option is one row of al_options[] (config_options.c); that table also prints --help
 * and the configuration reference in docs/configuration.md. */
#ifndef AL_CORE_CONFIG_H
#define AL_CORE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/log.h"

enum al_opt_type {
	AL_OPT_STRING,
	AL_OPT_PATH,     /* string; may be empty */
	AL_OPT_INT,      /* int64 within [min, max] */
	AL_OPT_BOOL,     /* true|false|1|0|yes|no|on|off */
	AL_OPT_DURATION, /* "30s", "1500ms", "24h" -> milliseconds within [min, max] */
	AL_OPT_SIZE,     /* "1MiB", "512KB", "1048576" -> bytes within [min, max] */
	AL_OPT_ENUM,     /* one of choices[] */
};

/* A static discovery source: one item of `sources:` in the YAML file (docs/discovery.md). */
enum al_source_type { AL_SOURCE_A2A, AL_SOURCE_MCP };

struct al_config_source_header {
	char *name;
	char *value;
};

struct al_config_source {
	char *name;		  /* unique among the sources */
	enum al_source_type type;
	char *url;		  /* A2A base or card URL; MCP endpoint */
	char *team;		  /* NULL when absent */
	char **tags;
	size_t ntags;
	struct al_config_source_header *headers; /* with "Authorization: Bearer <token>" when auth is set */
	size_t nheaders;
	char *auth_token_env;	  /* NULL without auth (type bearer, the only one) */
	int64_t interval_ms;	  /* 0 = discovery.interval */
	size_t line;		  /* where it is declared in the YAML file */
};

/* The typed configuration. Strings are owned by the struct (al_config_free). */
struct al_config {
	/* general */
	int64_t port;
	char *bind;
	char *data_dir;
	char *lua_dir;
	char *scripts_dir;
	/* logging */
	enum al_log_level log_level;
	enum al_log_format log_format;
	/* http */
	int64_t http_workers; /* 0 = number of CPUs */
	int64_t http_max_body;
	int64_t http_max_connections;
	int64_t http_header_timeout_ms;
	int64_t http_idle_timeout_ms;
	int64_t http_shutdown_timeout_ms;
	/* lua */
	bool lua_watch;
	/* database */
	int db_dialect;       /* enum al_db_dialect: 0 sqlite, 1 postgres */
	char *db_sqlite_path; /* "" in the table means <data_dir>/agentlens.db, filled in by the loader */
	int64_t db_busy_timeout_ms;
	char *db_pg_host;
	int64_t db_pg_port;
	char *db_pg_user;
	char *db_pg_password;
	char *db_pg_dbname;
	int db_pg_sslmode; /* index into the sslmode choices */
	int64_t db_connect_timeout_ms;
	int64_t db_statement_timeout_ms;

	/* auth */
	char *auth_jwt_secret;
	int64_t auth_session_duration_ms;
	int64_t auth_session_max_lifetime_ms;
	bool auth_cookie_secure;
	char *auth_admin_password;
	int64_t auth_cache_ttl_ms;
	int64_t auth_hash_workers;

	/* import (outgoing requests to user-supplied URLs) */
	char *import_allowed_networks; /* comma-separated CIDR ranges; validated by al_httpc_init */

	/* static discovery sources (lua/agentlens/discovery/static.lua) */
	int64_t discovery_interval_ms;
	int64_t discovery_removal_grace_ms;
	struct al_config_source *sources; /* `sources:` of the YAML file; owned */
	size_t nsources;

	/* background jobs (src/jobs/) */
	bool jobs_enabled;
	int64_t jobs_leader_check_interval_ms;

	/* Kubernetes discovery (lua/agentlens/discovery/kubernetes.lua) */
	bool kubernetes_enabled;
	char *kubernetes_namespace;	  /* "" = all namespaces */
	char *kubernetes_kubeconfig;	  /* "" = $KUBECONFIG, else ~/.kube/config (outside a cluster) */
	char *kubernetes_service_account_dir;
	int kubernetes_address;		  /* 0 = cluster DNS name, 1 = the Service's cluster IP */
	int64_t kubernetes_watch_timeout_ms;

	/* health checks: start-up defaults of the runtime settings health.* */
	bool health_check_enabled;
	int64_t health_check_interval_ms;
	int64_t health_check_timeout_ms;
	int64_t health_check_concurrency;
	int64_t health_check_degraded_latency_ms;
	int64_t health_check_failure_threshold;

	/* where each value came from, for check-config and logs */
	const char *source_file; /* owned copy of --config path, or NULL */
};

struct al_option {
	const char *key;     /* YAML path, e.g. "http.workers" */
	const char *env;     /* environment variable, e.g. "AGENTLENS_HTTP_WORKERS" */
	const char *flag;    /* long flag without "--", e.g. "http-workers" */
	enum al_opt_type type;
	size_t offset;       /* into struct al_config */
	const char *def;     /* default, written as a user would write it */
	int64_t min, max;    /* INT, DURATION (ms), SIZE (bytes) */
	const char *const *choices; /* ENUM: NULL-terminated */
	const char *help;
};

extern const struct al_option al_options[];
extern const char *const al_db_sslmode_choices[];
extern const size_t al_options_count;

/* Error text for the user, e.g. "http.workers: invalid value \"abc\" (from AGENTLENS_HTTP_WORKERS):
 * expected an integer between 0 and 256". */
struct al_config_error {
	char message[512];
};

/* Fills cfg from defaults, the YAML file (may be NULL), the environment (envp, NULL-terminated;
 * NULL = environ) and flags (argv style, already stripped of the command). Returns false with
 * err set at the first invalid value or unknown key/flag. cfg must be zeroed or freed before. */
bool al_config_load(struct al_config *cfg, const char *yaml_path, char *const *envp, int argc, char *const argv[],
		    struct al_config_error *err);
/* Only defaults (for tests and check-config baselines). */
bool al_config_defaults(struct al_config *cfg, struct al_config_error *err);
void al_config_free(struct al_config *cfg);

/* The static sources in effect: those of the configuration loaded at start-up until its YAML
 * file changes, then the ones read from the changed file (only `sources:` is taken; every other
 * option keeps its start-up value). A view holds a reference; release it. */
struct al_config_source_view {
	const struct al_config_source *items;
	size_t n;
	void *ref; /* NULL: the start-up configuration's own list */
};
/* Fills view (thread-safe). Returns 1 when the file changed and its sources were read again, 0
 * when nothing changed, -1 when the file changed but is invalid (err set; the previous sources
 * stay, and the same change is not reported twice). cfg is the start-up configuration. */
int al_config_sources_acquire(const struct al_config *cfg, struct al_config_source_view *view, char *err,
			      size_t errlen);
void al_config_sources_release(struct al_config_source_view *view);

/* Finds an option by YAML key; NULL when unknown. */
const struct al_option *al_config_option(const char *key);
/* Renders the value of opt in cfg as a user would write it (durations as "30s"). */
void al_config_format_value(const struct al_config *cfg, const struct al_option *opt, char *out, size_t outlen);

/* --help text and the Markdown reference (docs/configuration.md). Caller frees. */
char *al_config_help_text(void);
char *al_config_reference_markdown(void);

#endif
