/* SPDX-License-Identifier: Apache-2.0 */
/* The option table: every configuration key with its environment variable, flag, type, default,
 * accepted range and help. Add an option by adding a field to struct al_config and a row here;
 * config.c, --help and docs/configuration.md follow from the table. */
#include <stddef.h>

#include "core/config.h"

/* Conventions checked by spec/unit/test_config.c: env = "AGENTLENS_" + key upper-cased with '.'
 * as '_'; flag = key with '.' and '_' as '-'; "database." is written "db." in both (the earlier
 * implementation's AGENTLENS_DB_* names); every default parses. */

#define SEC INT64_C(1000)
#define MIN (60 * SEC)
#define HOUR (60 * MIN)
#define KiB INT64_C(1024)
#define MiB (1024 * KiB)
#define GiB (1024 * MiB)

#define FIELD(name) offsetof(struct al_config, name)

/* ENUM values are stored as the index of the choice in an int-sized enum field: the order of
 * each choices[] array MUST match the order of its C enum (tested). */
_Static_assert(sizeof(enum al_log_level) == sizeof(int), "ENUM fields are stored as int");
_Static_assert(sizeof(enum al_log_format) == sizeof(int), "ENUM fields are stored as int");
_Static_assert(AL_LOG_DEBUG == 0 && AL_LOG_INFO == 1 && AL_LOG_WARN == 2 && AL_LOG_ERROR == 3,
	       "log_level_choices follows enum al_log_level");
_Static_assert(AL_LOG_FORMAT_AUTO == 0 && AL_LOG_FORMAT_JSON == 1 && AL_LOG_FORMAT_TEXT == 2,
	       "log_format_choices follows enum al_log_format");

/* database.dialect follows enum al_db_dialect (src/db/db.h): sqlite = 0, postgres = 1. */
static const char *const db_dialect_choices[] = {"sqlite", "postgres", NULL};
const char *const al_db_sslmode_choices[] = {"disable", "allow", "prefer", "require", "verify-ca", "verify-full", NULL};

static const char *const log_level_choices[] = {"debug", "info", "warn", "error", NULL};
static const char *const log_format_choices[] = {"auto", "json", "text", NULL};
static const char *const kubernetes_address_choices[] = {"dns", "cluster-ip", NULL};

const struct al_option al_options[] = {
	/* general */
	{.key = "port", .env = "AGENTLENS_PORT", .flag = "port", .type = AL_OPT_INT, .offset = FIELD(port),
	 .def = "8080", .min = 0, .max = 65535, .help = "HTTP listen port (0 = any free port)."},
	{.key = "bind", .env = "AGENTLENS_BIND", .flag = "bind", .type = AL_OPT_STRING, .offset = FIELD(bind),
	 .def = "0.0.0.0", .help = "Listen address (an IPv4 or IPv6 literal)."},
	{.key = "data_dir", .env = "AGENTLENS_DATA_DIR", .flag = "data-dir", .type = AL_OPT_PATH,
	 .offset = FIELD(data_dir), .def = "data", .help = "Directory for the database and generated secrets."},

	/* logging */
	{.key = "log_level", .env = "AGENTLENS_LOG_LEVEL", .flag = "log-level", .type = AL_OPT_ENUM,
	 .offset = FIELD(log_level), .def = "info", .choices = log_level_choices,
	 .help = "Lowest level that is logged."},
	{.key = "log_format", .env = "AGENTLENS_LOG_FORMAT", .flag = "log-format", .type = AL_OPT_ENUM,
	 .offset = FIELD(log_format), .def = "auto", .choices = log_format_choices,
	 .help = "Log line format; auto is text on a terminal and JSON lines otherwise."},

	/* lua */
	{.key = "lua_dir", .env = "AGENTLENS_LUA_DIR", .flag = "lua-dir", .type = AL_OPT_PATH,
	 .offset = FIELD(lua_dir), .def = "",
	 .help = "Serve the product's Lua modules from this directory instead of the embedded copy "
		 "(development; edits reload live)."},
	{.key = "scripts_dir", .env = "AGENTLENS_SCRIPTS_DIR", .flag = "scripts-dir", .type = AL_OPT_PATH,
	 .offset = FIELD(scripts_dir), .def = "",
	 .help = "Operator Lua scripts (policy and discovery rules), sandboxed and hot-reloaded."},
	{.key = "lua.watch", .env = "AGENTLENS_LUA_WATCH", .flag = "lua-watch", .type = AL_OPT_BOOL,
	 .offset = FIELD(lua_watch), .def = "true",
	 .help = "Reload Lua when files in lua_dir or scripts_dir change (inotify)."},

	/* http */
	{.key = "http.workers", .env = "AGENTLENS_HTTP_WORKERS", .flag = "http-workers", .type = AL_OPT_INT,
	 .offset = FIELD(http_workers), .def = "0", .min = 0, .max = 256,
	 .help = "HTTP worker threads (0 = number of CPUs)."},
	{.key = "http.max_body_size", .env = "AGENTLENS_HTTP_MAX_BODY_SIZE", .flag = "http-max-body-size",
	 .type = AL_OPT_SIZE, .offset = FIELD(http_max_body), .def = "1MiB", .min = KiB, .max = GiB,
	 .help = "Largest request body accepted."},
	{.key = "http.max_connections", .env = "AGENTLENS_HTTP_MAX_CONNECTIONS", .flag = "http-max-connections",
	 .type = AL_OPT_INT, .offset = FIELD(http_max_connections), .def = "1024", .min = 1, .max = 100000,
	 .help = "Most client connections open at the same time."},
	{.key = "http.header_timeout", .env = "AGENTLENS_HTTP_HEADER_TIMEOUT", .flag = "http-header-timeout",
	 .type = AL_OPT_DURATION, .offset = FIELD(http_header_timeout_ms), .def = "10s", .min = SEC, .max = 10 * MIN,
	 .help = "Inactivity allowed while a new connection sends its request head."},
	{.key = "http.idle_timeout", .env = "AGENTLENS_HTTP_IDLE_TIMEOUT", .flag = "http-idle-timeout",
	 .type = AL_OPT_DURATION, .offset = FIELD(http_idle_timeout_ms), .def = "60s", .min = SEC, .max = HOUR,
	 .help = "Inactivity allowed on a connection once a request arrived, including keep-alive."},
	{.key = "http.shutdown_timeout", .env = "AGENTLENS_HTTP_SHUTDOWN_TIMEOUT", .flag = "http-shutdown-timeout",
	 .type = AL_OPT_DURATION, .offset = FIELD(http_shutdown_timeout_ms), .def = "30s", .min = 0, .max = 10 * MIN,
	 .help = "How long SIGTERM waits for in-flight requests."},

	/* database; environment names follow the earlier implementation (AGENTLENS_DB_...) */
	{.key = "database.dialect", .env = "AGENTLENS_DB_DIALECT", .flag = "db-dialect", .type = AL_OPT_ENUM,
	 .offset = FIELD(db_dialect), .def = "sqlite", .choices = db_dialect_choices,
	 .help = "Database: sqlite (a file under data_dir, zero setup) or postgres (production, several replicas)."},
	{.key = "database.sqlite.path", .env = "AGENTLENS_DB_SQLITE_PATH", .flag = "db-sqlite-path", .type = AL_OPT_PATH,
	 .offset = FIELD(db_sqlite_path), .def = "", .help = "SQLite database file (empty = <data_dir>/agentlens.db)."},
	{.key = "database.sqlite.busy_timeout", .env = "AGENTLENS_DB_SQLITE_BUSY_TIMEOUT",
	 .flag = "db-sqlite-busy-timeout", .type = AL_OPT_DURATION, .offset = FIELD(db_busy_timeout_ms), .def = "5s",
	 .min = 0, .max = 10 * MIN, .help = "How long a SQLite write waits for the write lock."},
	{.key = "database.postgres.host", .env = "AGENTLENS_DB_POSTGRES_HOST", .flag = "db-postgres-host",
	 .type = AL_OPT_STRING, .offset = FIELD(db_pg_host), .def = "localhost",
	 .help = "PostgreSQL host name, address, or unix socket directory."},
	{.key = "database.postgres.port", .env = "AGENTLENS_DB_POSTGRES_PORT", .flag = "db-postgres-port",
	 .type = AL_OPT_INT, .offset = FIELD(db_pg_port), .def = "5432", .min = 1, .max = 65535,
	 .help = "PostgreSQL port."},
	{.key = "database.postgres.user", .env = "AGENTLENS_DB_POSTGRES_USER", .flag = "db-postgres-user",
	 .type = AL_OPT_STRING, .offset = FIELD(db_pg_user), .def = "agentlens", .help = "PostgreSQL user."},
	{.key = "database.postgres.password", .env = "AGENTLENS_DB_POSTGRES_PASSWORD", .flag = "db-postgres-password",
	 .type = AL_OPT_PATH, .offset = FIELD(db_pg_password), .def = "",
	 .help = "PostgreSQL password (prefer the environment variable or a secret over the YAML file)."},
	{.key = "database.postgres.dbname", .env = "AGENTLENS_DB_POSTGRES_DBNAME", .flag = "db-postgres-dbname",
	 .type = AL_OPT_STRING, .offset = FIELD(db_pg_dbname), .def = "agentlens", .help = "PostgreSQL database name."},
	{.key = "database.postgres.sslmode", .env = "AGENTLENS_DB_POSTGRES_SSLMODE", .flag = "db-postgres-sslmode",
	 .type = AL_OPT_ENUM, .offset = FIELD(db_pg_sslmode), .def = "prefer", .choices = al_db_sslmode_choices,
	 .help = "libpq sslmode for the PostgreSQL connection."},
	{.key = "database.connect_timeout", .env = "AGENTLENS_DB_CONNECT_TIMEOUT", .flag = "db-connect-timeout",
	 .type = AL_OPT_DURATION, .offset = FIELD(db_connect_timeout_ms), .def = "5s", .min = SEC, .max = 5 * MIN,
	 .help = "How long one attempt to connect to PostgreSQL may take."},
	{.key = "database.statement_timeout", .env = "AGENTLENS_DB_STATEMENT_TIMEOUT", .flag = "db-statement-timeout",
	 .type = AL_OPT_DURATION, .offset = FIELD(db_statement_timeout_ms), .def = "30s", .min = 0, .max = HOUR,
	 .help = "Longest a PostgreSQL statement may run before the server cancels it (0 = no limit)."},

	/* auth */
	{.key = "auth.jwt_secret", .env = "AGENTLENS_JWT_SECRET", .flag = "jwt-secret", .type = AL_OPT_PATH,
	 .offset = FIELD(auth_jwt_secret), .def = "",
	 .help = "HS256 signing secret, at least 32 bytes; empty = random per process (tokens then do not survive "
		 "restarts and replicas reject each other's tokens)."},
	{.key = "auth.session_duration", .env = "AGENTLENS_SESSION_DURATION", .flag = "session-duration",
	 .type = AL_OPT_DURATION, .offset = FIELD(auth_session_duration_ms), .def = "24h", .min = MIN,
	 .max = 30 * 24 * HOUR, .help = "Lifetime of one token; POST /api/v1/auth/refresh exchanges it for a new one."},
	{.key = "auth.session_max_lifetime", .env = "AGENTLENS_SESSION_MAX_LIFETIME", .flag = "session-max-lifetime",
	 .type = AL_OPT_DURATION, .offset = FIELD(auth_session_max_lifetime_ms), .def = "168h", .min = MIN,
	 .max = 365 * 24 * HOUR, .help = "No session outlives this time from its login, however often it is refreshed."},
	{.key = "auth.cookie_secure", .env = "AGENTLENS_COOKIE_SECURE", .flag = "cookie-secure", .type = AL_OPT_BOOL,
	 .offset = FIELD(auth_cookie_secure), .def = "true",
	 .help = "Mark the session cookie Secure (false only for plain-HTTP development)."},
	{.key = "auth.admin_password", .env = "AGENTLENS_ADMIN_PASSWORD", .flag = "admin-password",
	 .type = AL_OPT_PATH, .offset = FIELD(auth_admin_password), .def = "",
	 .help = "Password of the admin user created on first start; empty = a random one printed once to stdout."},
	{.key = "auth.cache_ttl", .env = "AGENTLENS_AUTH_CACHE_TTL", .flag = "auth-cache-ttl", .type = AL_OPT_DURATION,
	 .offset = FIELD(auth_cache_ttl_ms), .def = "1s", .min = 0, .max = MIN,
	 .help = "How long a worker may reuse a session's resolved permissions; changes made on this replica apply "
		 "at once, changes made on another replica within this time."},
	{.key = "auth.hash_workers", .env = "AGENTLENS_AUTH_HASH_WORKERS", .flag = "auth-hash-workers",
	 .type = AL_OPT_INT, .offset = FIELD(auth_hash_workers), .def = "0", .min = 0, .max = 64,
	 .help = "Threads that hash passwords (bcrypt) while the requests that need them wait suspended "
		 "(0 = half the CPUs, at least 1, so logins never take every core from readers)."},

	/* import; a PATH-typed string because it may be empty (httpc validates the ranges) */
	{.key = "import.allowed_networks", .env = "AGENTLENS_IMPORT_ALLOWED_NETWORKS", .flag = "import-allowed-networks",
	 .type = AL_OPT_PATH, .offset = FIELD(import_allowed_networks), .def = "",
	 .help = "Comma-separated CIDR ranges that URL import may reach although they are private (e.g. 10.0.0.0/8); "
		 "empty = only public addresses."},

	/* static discovery sources (`sources:`, docs/discovery.md) */
	{.key = "discovery.interval", .env = "AGENTLENS_DISCOVERY_INTERVAL", .flag = "discovery-interval",
	 .type = AL_OPT_DURATION, .offset = FIELD(discovery_interval_ms), .def = "60s", .min = SEC, .max = 24 * HOUR,
	 .help = "Time between two fetches of the cards of discovered agents: static sources (a source's own "
		 "interval wins; the first fetch runs at start-up) and annotated Kubernetes Services."},
	{.key = "discovery.removal_grace", .env = "AGENTLENS_DISCOVERY_REMOVAL_GRACE",
	 .flag = "discovery-removal-grace", .type = AL_OPT_DURATION, .offset = FIELD(discovery_removal_grace_ms),
	 .def = "1h", .min = 0, .max = 30 * 24 * HOUR,
	 .help = "How long an entry whose source disappeared (removed from the config, Service deleted) stays in "
		 "the catalog, offline, before it is deleted."},

	/* background jobs */
	{.key = "jobs.enabled", .env = "AGENTLENS_JOBS_ENABLED", .flag = "jobs-enabled", .type = AL_OPT_BOOL,
	 .offset = FIELD(jobs_enabled), .def = "true",
	 .help = "Run the background jobs (discovery, health); with PostgreSQL only the elected replica runs them."},
	{.key = "jobs.leader_check_interval", .env = "AGENTLENS_JOBS_LEADER_CHECK_INTERVAL",
	 .flag = "jobs-leader-check-interval", .type = AL_OPT_DURATION, .offset = FIELD(jobs_leader_check_interval_ms),
	 .def = "5s", .min = SEC, .max = 5 * MIN,
	 .help = "PostgreSQL: how often a replica tries to become the leader that runs the background jobs "
		 "(and the leader checks it still is); another replica takes over within about this time."},

	/* Kubernetes discovery (docs/discovery-kubernetes.md) */
	{.key = "kubernetes.enabled", .env = "AGENTLENS_KUBERNETES_ENABLED", .flag = "kubernetes-enabled",
	 .type = AL_OPT_BOOL, .offset = FIELD(kubernetes_enabled), .def = "false",
	 .help = "Discover annotated Kubernetes Services (list, then watch); in a cluster through the service "
		 "account, outside through the kubeconfig."},
	{.key = "kubernetes.namespace", .env = "AGENTLENS_KUBERNETES_NAMESPACE", .flag = "kubernetes-namespace",
	 .type = AL_OPT_PATH, .offset = FIELD(kubernetes_namespace), .def = "",
	 .help = "Namespace whose Services are discovered; empty = all namespaces (needs a ClusterRole)."},
	{.key = "kubernetes.kubeconfig", .env = "AGENTLENS_KUBERNETES_KUBECONFIG", .flag = "kubernetes-kubeconfig",
	 .type = AL_OPT_PATH, .offset = FIELD(kubernetes_kubeconfig), .def = "",
	 .help = "Kubeconfig used outside a cluster; empty = $KUBECONFIG (its first file), else ~/.kube/config."},
	{.key = "kubernetes.service_account_dir", .env = "AGENTLENS_KUBERNETES_SERVICE_ACCOUNT_DIR",
	 .flag = "kubernetes-service-account-dir", .type = AL_OPT_PATH,
	 .offset = FIELD(kubernetes_service_account_dir), .def = "/var/run/secrets/kubernetes.io/serviceaccount",
	 .help = "Directory with the in-cluster token, ca.crt and namespace; used when KUBERNETES_SERVICE_HOST is "
		 "set and the token file exists. The token is re-read when it changes."},
	{.key = "kubernetes.address", .env = "AGENTLENS_KUBERNETES_ADDRESS", .flag = "kubernetes-address",
	 .type = AL_OPT_ENUM, .offset = FIELD(kubernetes_address), .def = "dns", .choices = kubernetes_address_choices,
	 .help = "Host of a discovered agent's URL: dns = the cluster DNS name (service.namespace.svc), "
		 "cluster-ip = the Service's cluster IP (when cluster DNS is not available to AgentLens)."},
	{.key = "kubernetes.watch_timeout", .env = "AGENTLENS_KUBERNETES_WATCH_TIMEOUT",
	 .flag = "kubernetes-watch-timeout", .type = AL_OPT_DURATION, .offset = FIELD(kubernetes_watch_timeout_ms),
	 .def = "5m", .min = SEC, .max = HOUR,
	 .help = "How long one watch request lasts before it is renewed from the last resourceVersion "
		 "(timeoutSeconds)."},

	/* health checks: start-up defaults of the runtime settings of the same meaning (a value stored
	 * through the settings API wins at run time) */
	{.key = "health.check_enabled", .env = "AGENTLENS_HEALTH_CHECK_ENABLED", .flag = "health-check-enabled",
	 .type = AL_OPT_BOOL, .offset = FIELD(health_check_enabled), .def = "true",
	 .help = "Probe catalog entries for health (default of the runtime setting health.check_enabled)."},
	{.key = "health.check_interval", .env = "AGENTLENS_HEALTH_CHECK_INTERVAL", .flag = "health-check-interval",
	 .type = AL_OPT_DURATION, .offset = FIELD(health_check_interval_ms), .def = "30s", .min = 5 * SEC,
	 .max = 24 * HOUR,
	 .help = "Time between two health sweeps; the first runs at start-up (default of the runtime setting "
		 "health.check_interval, whole seconds)."},
	{.key = "health.check_timeout", .env = "AGENTLENS_HEALTH_CHECK_TIMEOUT", .flag = "health-check-timeout",
	 .type = AL_OPT_DURATION, .offset = FIELD(health_check_timeout_ms), .def = "5s", .min = SEC, .max = 5 * MIN,
	 .help = "Longest one health probe may take (default of the runtime setting health.check_timeout, "
		 "whole seconds)."},
	{.key = "health.check_concurrency", .env = "AGENTLENS_HEALTH_CHECK_CONCURRENCY",
	 .flag = "health-check-concurrency", .type = AL_OPT_INT, .offset = FIELD(health_check_concurrency),
	 .def = "64", .min = 1, .max = 256,
	 .help = "Health probes in flight at the same time during a sweep (default of the runtime setting "
		 "health.check_concurrency)."},
	{.key = "health.check_degraded_latency", .env = "AGENTLENS_HEALTH_CHECK_DEGRADED_LATENCY",
	 .flag = "health-check-degraded-latency", .type = AL_OPT_DURATION,
	 .offset = FIELD(health_check_degraded_latency_ms), .def = "1500ms", .min = 1, .max = 10 * MIN,
	 .help = "A healthy answer slower than this marks the entry degraded (default of the runtime setting "
		 "health.degraded_latency)."},
	{.key = "health.check_failure_threshold", .env = "AGENTLENS_HEALTH_CHECK_FAILURE_THRESHOLD",
	 .flag = "health-check-failure-threshold", .type = AL_OPT_INT,
	 .offset = FIELD(health_check_failure_threshold), .def = "3", .min = 1, .max = 100,
	 .help = "Consecutive failed probes before an entry is marked offline (default of the runtime setting "
		 "health.failure_threshold)."},
};

const size_t al_options_count = sizeof al_options / sizeof al_options[0];
