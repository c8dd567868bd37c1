/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of the configuration loader and its option table (src/core/config*.c). */
#include <ctype.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/config.h"

static char *const no_env[] = {NULL};
static char yaml_path[64];

/* Writes text to a fresh temporary YAML file whose path is in yaml_path. */
static const char *yaml(const char *text)
{
	snprintf(yaml_path, sizeof yaml_path, "/tmp/al_test_config_XXXXXX.yaml");
	int fd = mkstemps(yaml_path, 5);
	assert_true(fd >= 0);
	size_t len = strlen(text);
	assert_int_equal(write(fd, text, len), (ssize_t)len);
	close(fd);
	return yaml_path;
}

static int teardown(void **state)
{
	if (yaml_path[0])
		unlink(yaml_path);
	yaml_path[0] = '\0';
	return 0;
}

#define ARGC(a) ((int)(sizeof(a) / sizeof((a)[0])))

static void load_ok(struct al_config *cfg, const char *path, char *const *envp, int argc, char *const argv[])
{
	struct al_config_error err = {{0}};

	memset(cfg, 0, sizeof *cfg);
	if (!al_config_load(cfg, path, envp, argc, argv, &err))
		fail_msg("unexpected error: %s", err.message);
}

/* Loads, expects a failure and returns the message (static storage). */
static const char *load_err(const char *path, char *const *envp, int argc, char *const argv[])
{
	static struct al_config_error err;
	struct al_config cfg = {0};

	memset(&err, 0, sizeof err);
	assert_false(al_config_load(&cfg, path, envp, argc, argv, &err));
	assert_null(cfg.bind); /* freed on failure */
	al_config_free(&cfg);
	return err.message;
}

/* The error expected for the YAML file just written: "%s" in want stands for its path. */
static void assert_yaml_err(const char *text, const char *want)
{
	char expected[512];
	const char *path = yaml(text);
	const char *at = strstr(want, "%s");

	assert_non_null(at);
	snprintf(expected, sizeof expected, "%.*s%s%s", (int)(at - want), want, path, at + 2);
	assert_string_equal(load_err(path, no_env, 0, NULL), expected);
	teardown(NULL);
}

static const char *env_err(const char *var)
{
	char *envp[] = {(char *)var, NULL};
	return load_err(NULL, envp, 0, NULL);
}

static const char *flag_err(const char *flag, const char *value)
{
	char *argv[] = {(char *)flag, (char *)value};
	return load_err(NULL, no_env, value ? 2 : 1, argv);
}

/* ---- the table ----------------------------------------------------------------------- */

static void test_defaults(void **state)
{
	struct al_config cfg;
	struct al_config_error err;

	assert_true(al_config_defaults(&cfg, &err));
	assert_int_equal(cfg.port, 8080);
	assert_string_equal(cfg.bind, "0.0.0.0");
	assert_string_equal(cfg.data_dir, "data");
	assert_string_equal(cfg.lua_dir, "");
	assert_string_equal(cfg.scripts_dir, "");
	assert_int_equal(cfg.log_level, AL_LOG_INFO);
	assert_int_equal(cfg.log_format, AL_LOG_FORMAT_AUTO);
	assert_true(cfg.lua_watch);
	assert_int_equal(cfg.http_workers, 0);
	assert_int_equal(cfg.http_max_body, 1024 * 1024);
	assert_int_equal(cfg.http_max_connections, 1024);
	assert_int_equal(cfg.http_header_timeout_ms, 10000);
	assert_int_equal(cfg.http_idle_timeout_ms, 60000);
	assert_int_equal(cfg.http_shutdown_timeout_ms, 30000);
	assert_null(cfg.source_file);
	al_config_free(&cfg);
	al_config_free(&cfg); /* idempotent */
}

/* Every default parses (al_config_defaults stops at the first that does not), and every value
 * formatted by al_config_format_value reads back to the same value. */
static void test_every_default_parses_and_round_trips(void **state)
{
	struct al_config cfg, again;
	struct al_config_error err;

	/* the loaded defaults, with derived values (database.sqlite.path) filled in */
	(void)err;
	load_ok(&cfg, NULL, no_env, 0, NULL);
	for (size_t i = 0; i < al_options_count; i++) {
		const struct al_option *opt = &al_options[i];
		char text[256], flag[300];

		al_config_format_value(&cfg, opt, text, sizeof text);
		snprintf(flag, sizeof flag, "--%s=%s", opt->flag, text);
		char *argv[] = {flag};
		load_ok(&again, NULL, no_env, 1, argv);
		const char *a = (const char *)&again + opt->offset, *b = (const char *)&cfg + opt->offset;
		if (opt->type == AL_OPT_STRING || opt->type == AL_OPT_PATH)
			assert_string_equal(*(char *const *)a, *(char *const *)b);
		else if (opt->type == AL_OPT_BOOL)
			assert_memory_equal(a, b, sizeof(bool));
		else if (opt->type == AL_OPT_ENUM)
			assert_memory_equal(a, b, sizeof(int));
		else
			assert_memory_equal(a, b, sizeof(int64_t));
		al_config_free(&again);
	}
	al_config_free(&cfg);
}

/* Naming conventions, uniqueness and sane ranges, so that a new row cannot break the loader. */
static void test_table_is_consistent(void **state)
{
	for (size_t i = 0; i < al_options_count; i++) {
		const struct al_option *opt = &al_options[i];
		/* env: AGENTLENS_ + upper case; flag: lower case with dashes. Most follow the key
		 * (http.max_body_size -> AGENTLENS_HTTP_MAX_BODY_SIZE, --http-max-body-size); names that
		 * the DevOps guide fixes differ (database.* -> AGENTLENS_DB_*, AGENTLENS_JWT_SECRET). */
		assert_true(strncmp(opt->env, "AGENTLENS_", 10) == 0);
		for (const char *k = opt->env; *k; k++)
			assert_true((*k >= 'A' && *k <= 'Z') || (*k >= '0' && *k <= '9') || *k == '_');
		for (const char *k = opt->flag; *k; k++)
			assert_true((*k >= 'a' && *k <= 'z') || (*k >= '0' && *k <= '9') || *k == '-');
		for (size_t j = 0; j < i; j++) {
			assert_string_not_equal(al_options[j].env, opt->env);
			assert_string_not_equal(al_options[j].flag, opt->flag);
		}
		assert_non_null(opt->def);
		assert_true(opt->help && *opt->help);
		assert_true(opt->offset + sizeof(int64_t) <= sizeof(struct al_config));
		assert_true(opt->min <= opt->max);
		assert_true((opt->type == AL_OPT_ENUM) == (opt->choices != NULL));
		assert_ptr_equal(al_config_option(opt->key), opt);
		for (size_t j = 0; j < i; j++) {
			assert_string_not_equal(al_options[j].key, opt->key);
			assert_true(al_options[j].offset != opt->offset);
		}
	}
	assert_null(al_config_option("nope"));
	assert_null(al_config_option("http"));
}

/* ENUM fields hold the index of the choice: each choices[] must follow its C enum's order. */
static void test_enum_order_matches_c_enums(void **state)
{
	const struct al_option *level = al_config_option("log_level");
	const struct al_option *format = al_config_option("log_format");
	static const struct {
		const char *name;
		enum al_log_format value;
	} formats[] = {{"auto", AL_LOG_FORMAT_AUTO}, {"json", AL_LOG_FORMAT_JSON}, {"text", AL_LOG_FORMAT_TEXT}};
	struct al_config cfg;
	char value[64];

	assert_int_equal(level->type, AL_OPT_ENUM);
	for (int i = AL_LOG_DEBUG; i <= AL_LOG_ERROR; i++)
		assert_string_equal(level->choices[i], al_log_level_name((enum al_log_level)i));
	assert_null(level->choices[AL_LOG_ERROR + 1]);
	for (int i = AL_LOG_DEBUG; i <= AL_LOG_ERROR; i++) {
		char *argv[] = {"--log-level", (char *)al_log_level_name((enum al_log_level)i)};
		load_ok(&cfg, NULL, no_env, 2, argv);
		assert_int_equal(cfg.log_level, i);
		al_config_format_value(&cfg, level, value, sizeof value);
		assert_string_equal(value, al_log_level_name((enum al_log_level)i));
		al_config_free(&cfg);
	}
	for (size_t i = 0; i < sizeof formats / sizeof formats[0]; i++) {
		char *argv[] = {"--log-format", (char *)formats[i].name};
		assert_string_equal(format->choices[formats[i].value], formats[i].name);
		load_ok(&cfg, NULL, no_env, 2, argv);
		assert_int_equal(cfg.log_format, formats[i].value);
		al_config_free(&cfg);
	}
	assert_null(format->choices[3]);
}

/* ---- sources and precedence ---------------------------------------------------------- */

static const char full_yaml[] = "# comment\n"
				"port: 9090\n"
				"bind: \"::1\"\n"
				"data_dir: /var/lib/agentlens\n"
				"log_level: debug\n"
				"log_format: json\n"
				"lua:\n"
				"  watch: no\n"
				"http:\n"
				"  workers: 4\n"
				"  max_body_size: 2MiB\n"
				"  max_connections: 50\n"
				"  header_timeout: 1.5s\n"
				"  idle_timeout: 2m\n"
				"  shutdown_timeout: 0\n"
				"scripts_dir: 'my scripts'\n"
				"lua_dir:\n";

static void test_yaml_overrides(void **state)
{
	struct al_config cfg;

	load_ok(&cfg, yaml(full_yaml), no_env, 0, NULL);
	assert_int_equal(cfg.port, 9090);
	assert_string_equal(cfg.bind, "::1");
	assert_string_equal(cfg.data_dir, "/var/lib/agentlens");
	assert_int_equal(cfg.log_level, AL_LOG_DEBUG);
	assert_int_equal(cfg.log_format, AL_LOG_FORMAT_JSON);
	assert_false(cfg.lua_watch);
	assert_int_equal(cfg.http_workers, 4);
	assert_int_equal(cfg.http_max_body, 2 * 1024 * 1024);
	assert_int_equal(cfg.http_max_connections, 50);
	assert_int_equal(cfg.http_header_timeout_ms, 1500);
	assert_int_equal(cfg.http_idle_timeout_ms, 120000);
	assert_int_equal(cfg.http_shutdown_timeout_ms, 0);
	assert_string_equal(cfg.scripts_dir, "my scripts");
	assert_string_equal(cfg.lua_dir, ""); /* an empty value is an empty path */
	assert_string_equal(cfg.source_file, yaml_path);
	al_config_free(&cfg);
}

static void test_yaml_forms(void **state)
{
	struct al_config cfg;

	/* flow maps, dotted keys at the top level, null as empty, quoted "~" literal */
	load_ok(&cfg, yaml("http: {workers: 3}\nlua.watch: off\nlua_dir: ~\nscripts_dir: \"~\"\n"), no_env, 0, NULL);
	assert_int_equal(cfg.http_workers, 3);
	assert_false(cfg.lua_watch);
	assert_string_equal(cfg.lua_dir, "");
	assert_string_equal(cfg.scripts_dir, "~");
	al_config_free(&cfg);
	teardown(NULL);

	/* empty files, comments only and an empty document give the defaults */
	static const char *const empty[] = {"", "# nothing here\n", "---\n", "---\n...\n", "~\n"};
	for (size_t i = 0; i < sizeof empty / sizeof empty[0]; i++) {
		load_ok(&cfg, yaml(empty[i]), no_env, 0, NULL);
		assert_int_equal(cfg.port, 8080);
		assert_string_equal(cfg.bind, "0.0.0.0");
		al_config_free(&cfg);
		teardown(NULL);
	}
}

static void test_env_over_yaml_and_flags_over_env(void **state)
{
	struct al_config cfg;
	char *envp[] = {"PATH=/usr/bin",
			"PORT=1",
			"AGENTLENS_PORT=7000",
			"AGENTLENS_HTTP_WORKERS=8",
			"AGENTLENS_LOG_LEVEL=WARN",
			"AGENTLENS_FOO=whatever", /* unknown: ignored */
			"AGENTLENS_PORTX=1",
			"AGENTLENS_PORT=7001", /* the first one wins, as with getenv */
			NULL};
	char *argv[] = {"--port", "9999", "--http-max-body-size=4KiB", "--no-lua-watch", "--bind", "127.0.0.1"};

	load_ok(&cfg, yaml("port: 9090\nhttp:\n  workers: 4\n  idle_timeout: 5s\n"), envp, 0, NULL);
	assert_int_equal(cfg.port, 7000);
	assert_int_equal(cfg.http_workers, 8);
	assert_int_equal(cfg.http_idle_timeout_ms, 5000); /* from YAML, not overridden */
	assert_int_equal(cfg.log_level, AL_LOG_WARN);
	al_config_free(&cfg);

	load_ok(&cfg, yaml_path, envp, ARGC(argv), argv);
	assert_int_equal(cfg.port, 9999);
	assert_int_equal(cfg.http_workers, 8);
	assert_int_equal(cfg.http_max_body, 4096);
	assert_false(cfg.lua_watch);
	assert_string_equal(cfg.bind, "127.0.0.1");
	al_config_free(&cfg);
}

static void test_flag_forms(void **state)
{
	struct al_config cfg;
	char *a1[] = {"--lua-watch", "--port=0", "--log-level", "error", "--port=1", "--data-dir="};
	char *a2[] = {"--no-lua-watch", "--lua-watch"};
	char *a3[] = {"--lua-watch=off", "--http-header-timeout", "1m30s"};

	load_ok(&cfg, NULL, no_env, ARGC(a1), a1);
	assert_true(cfg.lua_watch);
	assert_int_equal(cfg.port, 1); /* the last one wins */
	assert_int_equal(cfg.log_level, AL_LOG_ERROR);
	assert_string_equal(cfg.data_dir, "");
	al_config_free(&cfg);
	load_ok(&cfg, NULL, no_env, ARGC(a2), a2);
	assert_true(cfg.lua_watch);
	al_config_free(&cfg);
	load_ok(&cfg, NULL, no_env, ARGC(a3), a3);
	assert_false(cfg.lua_watch);
	assert_int_equal(cfg.http_header_timeout_ms, 90000);
	al_config_free(&cfg);
}

static void test_config_flag_names_the_file(void **state)
{
	struct al_config cfg;
	const char *path = yaml("port: 4242\n");
	char eq[128];
	snprintf(eq, sizeof eq, "--config=%s", path);
	char *a1[] = {"--config", (char *)path, "--bind", "::"};
	char *a2[] = {eq};

	load_ok(&cfg, NULL, no_env, ARGC(a1), a1);
	assert_int_equal(cfg.port, 4242);
	assert_string_equal(cfg.bind, "::");
	assert_string_equal(cfg.source_file, path);
	al_config_free(&cfg);
	load_ok(&cfg, NULL, no_env, ARGC(a2), a2);
	assert_int_equal(cfg.port, 4242);
	al_config_free(&cfg);
	char *a3[] = {"--config"};
	assert_string_equal(load_err(NULL, no_env, 1, a3), "flag --config needs a value");
}

/* ---- rejected values, one exact message per type at least ----------------------------- */

static void test_int_values(void **state)
{
	assert_string_equal(env_err("AGENTLENS_PORT=70000"), "port: invalid value \"70000\" (from AGENTLENS_PORT): "
							     "expected an integer between 0 and 65535");
	assert_string_equal(flag_err("--http-workers", "abc"), "http.workers: invalid value \"abc\" (from "
							       "--http-workers): expected an integer between 0 and "
							       "256");
	assert_string_equal(flag_err("--port=-1", NULL),
			    "port: invalid value \"-1\" (from --port): expected an integer between 0 and 65535");
	assert_non_null(strstr(env_err("AGENTLENS_HTTP_MAX_CONNECTIONS=0"), "between 1 and 100000"));
	assert_non_null(strstr(env_err("AGENTLENS_PORT=8080 "), "invalid value \"8080 \""));
	assert_non_null(strstr(env_err("AGENTLENS_PORT=99999999999999999999"), "invalid value"));
	assert_yaml_err("port: 1.5\n", "port: invalid value \"1.5\" (from %s line 1): expected an integer between 0 "
				       "and 65535");
}

static void test_bool_values(void **state)
{
	struct al_config cfg;
	static const char *const yes[] = {"AGENTLENS_LUA_WATCH=true", "AGENTLENS_LUA_WATCH=YES",
					  "AGENTLENS_LUA_WATCH=on", "AGENTLENS_LUA_WATCH=1"};

	for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++) {
		char *envp[] = {(char *)yes[i], NULL};
		char *argv[] = {"--no-lua-watch"};
		load_ok(&cfg, NULL, envp, 1, argv);
		assert_false(cfg.lua_watch);
		al_config_free(&cfg);
		load_ok(&cfg, NULL, envp, 0, NULL);
		assert_true(cfg.lua_watch);
		al_config_free(&cfg);
	}
	assert_string_equal(env_err("AGENTLENS_LUA_WATCH=maybe"), "lua.watch: invalid value \"maybe\" (from "
								  "AGENTLENS_LUA_WATCH): expected true or false (also "
								  "yes/no, on/off, 1/0)");
	assert_non_null(strstr(flag_err("--lua-watch=2", NULL), "invalid value \"2\" (from --lua-watch)"));
	/* a boolean flag does not take the next argument */
	char *argv[] = {"--lua-watch", "false"};
	assert_string_equal(load_err(NULL, no_env, 2, argv), "unexpected argument \"false\"");
}

static void test_duration_values(void **state)
{
	assert_string_equal(env_err("AGENTLENS_HTTP_HEADER_TIMEOUT=5"),
			    "http.header_timeout: invalid value \"5\" (from AGENTLENS_HTTP_HEADER_TIMEOUT): expected a "
			    "duration between 1s and 10m, such as 30s, 1500ms or 1h30m");
	assert_non_null(strstr(env_err("AGENTLENS_HTTP_HEADER_TIMEOUT=11m"), "invalid value \"11m\""));
	assert_non_null(strstr(env_err("AGENTLENS_HTTP_HEADER_TIMEOUT=999ms"), "between 1s and 10m"));
	assert_non_null(strstr(env_err("AGENTLENS_HTTP_IDLE_TIMEOUT=-1s"), "between 1s and 1h"));
	assert_non_null(strstr(env_err("AGENTLENS_HTTP_SHUTDOWN_TIMEOUT=1x"), "between 0s and 10m"));
}

static void test_size_values(void **state)
{
	assert_string_equal(flag_err("--http-max-body-size", "2GiB"),
			    "http.max_body_size: invalid value \"2GiB\" (from --http-max-body-size): expected a size "
			    "between 1KiB and 1GiB, such as 512KiB, 1MiB or 1048576");
	assert_non_null(strstr(flag_err("--http-max-body-size", "1023"), "invalid value \"1023\""));
	assert_non_null(strstr(flag_err("--http-max-body-size", "1.5MiB"), "invalid value \"1.5MiB\""));
}

static void test_enum_values(void **state)
{
	struct al_config cfg;
	char *envp[] = {"AGENTLENS_LOG_FORMAT=Text", NULL};

	assert_string_equal(env_err("AGENTLENS_LOG_LEVEL=verbose"),
			    "log_level: invalid value \"verbose\" (from AGENTLENS_LOG_LEVEL): expected one of debug, "
			    "info, warn, error");
	assert_string_equal(flag_err("--log-format", "xml"),
			    "log_format: invalid value \"xml\" (from --log-format): expected one of auto, json, text");
	load_ok(&cfg, NULL, envp, 0, NULL); /* any case */
	assert_int_equal(cfg.log_format, AL_LOG_FORMAT_TEXT);
	al_config_free(&cfg);
}

static void test_string_and_path_values(void **state)
{
	struct al_config cfg;
	char *envp[] = {"AGENTLENS_DATA_DIR=", "AGENTLENS_LUA_DIR=/tmp/dir with spaces", NULL};

	assert_string_equal(env_err("AGENTLENS_BIND="),
			    "bind: invalid value \"\" (from AGENTLENS_BIND): expected a non-empty string");
	load_ok(&cfg, NULL, envp, 0, NULL);
	assert_string_equal(cfg.data_dir, "");
	assert_string_equal(cfg.lua_dir, "/tmp/dir with spaces");
	al_config_free(&cfg);
	/* values in messages are escaped and shortened */
	assert_string_equal(env_err("AGENTLENS_PORT=a\"b\nc"), "port: invalid value \"a\\\"b\\x0ac\" (from "
							       "AGENTLENS_PORT): expected an integer between 0 and "
							       "65535");
	char long_value[300] = "AGENTLENS_PORT=";
	memset(long_value + strlen(long_value), '9', 200);
	assert_non_null(strstr(env_err(long_value), "99999...\" (from AGENTLENS_PORT)"));
}

/* ---- YAML structure errors ----------------------------------------------------------- */

static void test_yaml_errors(void **state)
{
	assert_yaml_err("port: 1\nhttp:\n  workers: 2\nhtp.workers: 3\n", "unknown key \"htp.workers\" in %s line 4");
	assert_yaml_err("port: 1\nhttp:\n  wrkers: 2\n", "unknown key \"http.wrkers\" in %s line 3");
	assert_yaml_err("database:\n  url: x\n", "unknown key \"database.url\" in %s line 2");
	assert_yaml_err("storage:\n  url: x\n", "unknown key \"storage\" in %s line 1");
	assert_yaml_err("port: 1\nport: 2\n", "duplicate key \"port\" in %s line 2");
	assert_yaml_err("http:\n  workers: 1\nhttp.workers: 2\n", "duplicate key \"http.workers\" in %s line 3");
	assert_yaml_err("http: {workers: 1}\nhttp: {max_connections: 2}\n", "duplicate key \"http\" in %s line 2");
	assert_yaml_err("port:\n  value: 1\n", "key \"port\" in %s line 2 must be a single value, not a map");
	assert_yaml_err("port: [1, 2]\n", "key \"port\" in %s line 1 must be a single value, not a list");
	assert_yaml_err("http: 4\n", "key \"http\" in %s line 1 must be a map of http.* options, not a single value");
	assert_yaml_err("http:\n  - 4\n", "key \"http\" in %s line 2 must be a map of http.* options, not a list");
	assert_yaml_err("- port\n", "%s line 1: expected a map of options at the top level");
	assert_yaml_err("hello\n", "%s line 1: expected a map of options at the top level");
	assert_yaml_err("port: &p 1\nhttp:\n  workers: *p\n",
			"key \"http.workers\" in %s line 3: YAML aliases are not supported");
	assert_yaml_err("? [a]\n: 1\n", "%s line 1: keys must be plain strings");
	assert_yaml_err("port: 1\n---\nport: 2\n", "%s line 2: only one YAML document is allowed");
	assert_yaml_err("port: \"a\\0b\"\n", "port: invalid value (from %s line 1): contains a NUL character");
	assert_yaml_err("log_level: verbose\n", "log_level: invalid value \"verbose\" (from %s line 1): expected one "
						"of debug, info, warn, error");
}

/* ---- sources: ------------------------------------------------------------------------- */

static void test_sources_parse(void **state)
{
	struct al_config cfg;
	char *envp[] = {"WEATHER_TOKEN=s3cret", NULL};
	const char *path = yaml("port: 1\n"
				"sources:\n"
				"  - name: weather-agent\n"
				"    type: a2a\n"
				"    url: http://127.0.0.1:9001\n"
				"    team: payments\n"
				"    tags: [demo, weather]\n"
				"    headers: {X-Api-Key: abc}\n"
				"    auth: {type: bearer, token_env: WEATHER_TOKEN}\n"
				"    interval: 30s\n"
				"  - name: tools\n"
				"    type: MCP\n"
				"    url: https://tools.example.com/mcp\n"
				"    tags:\n"
				"      - files\n");
	load_ok(&cfg, path, envp, 0, NULL);
	assert_int_equal(cfg.nsources, 2);
	const struct al_config_source *a = &cfg.sources[0], *b = &cfg.sources[1];
	assert_string_equal(a->name, "weather-agent");
	assert_int_equal(a->type, AL_SOURCE_A2A);
	assert_string_equal(a->url, "http://127.0.0.1:9001");
	assert_string_equal(a->team, "payments");
	assert_int_equal(a->ntags, 2);
	assert_string_equal(a->tags[0], "demo");
	assert_string_equal(a->tags[1], "weather");
	assert_int_equal(a->nheaders, 2);
	assert_string_equal(a->headers[0].name, "X-Api-Key");
	assert_string_equal(a->headers[0].value, "abc");
	assert_string_equal(a->headers[1].name, "Authorization");
	assert_string_equal(a->headers[1].value, "Bearer s3cret");
	assert_string_equal(a->auth_token_env, "WEATHER_TOKEN");
	assert_int_equal(a->interval_ms, 30000);
	assert_int_equal(a->line, 3);
	assert_string_equal(b->name, "tools");
	assert_int_equal(b->type, AL_SOURCE_MCP);
	assert_null(b->team);
	assert_int_equal(b->ntags, 1);
	assert_string_equal(b->tags[0], "files");
	assert_int_equal(b->nheaders, 0);
	assert_null(b->auth_token_env);
	assert_int_equal(b->interval_ms, 0);
	assert_int_equal(cfg.discovery_interval_ms, 60000);
	assert_int_equal(cfg.discovery_removal_grace_ms, 3600000);
	al_config_free(&cfg);
	assert_null(cfg.sources);
	assert_int_equal(cfg.nsources, 0);
	al_config_free(&cfg); /* twice is safe */
	teardown(NULL);

	load_ok(&cfg, yaml("sources:\n"), no_env, 0, NULL);
	assert_int_equal(cfg.nsources, 0);
	al_config_free(&cfg);
	teardown(NULL);
	load_ok(&cfg, yaml("sources: []\n"), no_env, 0, NULL);
	assert_int_equal(cfg.nsources, 0);
	al_config_free(&cfg);
	teardown(NULL);
}

#define SRC "sources:\n  - name: a\n    type: a2a\n    url: http://a.example\n"

static void test_sources_errors(void **state)
{
	assert_yaml_err("sources: 3\n", "sources: must be a list of sources (name, type, url, ...) in %s line 1");
	assert_yaml_err("sources: {a: 1}\n", "sources: must be a list of sources (name, type, url, ...) in %s line 1");
	assert_yaml_err("sources:\n  - x\n",
			"sources[0]: must be a map (name, type, url, team, tags, headers, auth, interval) in %s line 2");
	assert_yaml_err(SRC "  - name: b\n    type: foo\n    url: http://b\n",
			"sources[1].type: \"foo\" is not one of a2a, mcp (%s line 6)");
	assert_yaml_err(SRC "  - name: b\n    type: mcp\n    url: http://b\n    colour: red\n",
			"sources[1].colour: unknown key (expected name, type, url, team, tags, headers, auth, interval) "
			"in %s line 8");
	assert_yaml_err(SRC "  - name: a\n    type: mcp\n    url: http://b\n",
			"sources[1].name: \"a\" is already the name of sources[0] (%s line 5); names must be unique");
	assert_yaml_err("sources:\n  - type: a2a\n    url: http://a\n",
			"sources[0].name: is required (the source in %s line 2)");
	assert_yaml_err("sources:\n  - name: a\n    url: http://a\n",
			"sources[0].type: is required (the source in %s line 2)");
	assert_yaml_err("sources:\n  - name: a\n    type: a2a\n",
			"sources[0].url: is required (the source in %s line 2)");
	assert_yaml_err("sources:\n  - name: a\n    type: a2a\n    url: ftp://a\n",
			"sources[0].url: \"ftp://a\" is not an http:// or https:// URL (%s line 4)");
	assert_yaml_err("sources:\n  - name: a b\n",
			"sources[0].name: \"a b\" is not a valid name (letters, digits, '.', '_' and '-', starting "
			"with a letter or digit) in %s line 2");
	assert_yaml_err("sources:\n  - name: a\n    name: b\n", "duplicate key \"sources[0].name\" in %s line 3");
	assert_yaml_err(SRC "    interval: soon\n",
			"sources[0].interval: invalid value \"soon\" (%s line 5): expected a duration between 1s and "
			"24h, such as 30s or 5m");
	assert_yaml_err(SRC "    interval: 10ms\n",
			"sources[0].interval: invalid value \"10ms\" (%s line 5): expected a duration between 1s and "
			"24h, such as 30s or 5m");
	assert_yaml_err(SRC "    tags: demo\n", "sources[0].tags: must be a list of tags (%s line 5)");
	assert_yaml_err(SRC "    tags: [[a]]\n", "sources[0].tags[0]: must be a single value (%s line 5)");
	assert_yaml_err(SRC "    headers: [a]\n",
			"sources[0].headers: must be a map of header names to values (%s line 5)");
	assert_yaml_err(SRC "    headers: {\"Bad Name\": x}\n",
			"sources[0].headers.Bad Name: not a valid header name (%s line 5)");
	assert_yaml_err(SRC "    auth: {type: basic, token_env: T}\n",
			"sources[0].auth.type: \"basic\" is not one of bearer (%s line 5)");
	assert_yaml_err(SRC "    auth: {type: bearer}\n", "sources[0].auth.token_env: is required (%s line 2)");
	assert_yaml_err(SRC "    auth: {type: bearer, token: x}\n",
			"sources[0].auth.token: unknown key (expected type, token_env) in %s line 5");
	assert_yaml_err(SRC "    auth: {type: bearer, token_env: T}\n    headers: {authorization: x}\n",
			"sources[0].headers.authorization: set auth or an Authorization header, not both (%s line 2)");
	assert_yaml_err(SRC "    team: [a]\n", "sources[0].team: must be a single value (%s line 5)");
	/* the token variable is read at load time */
	assert_yaml_err(SRC "    auth: {type: bearer, token_env: AL_TEST_NO_SUCH_TOKEN}\n",
			"sources[0].auth.token_env: environment variable AL_TEST_NO_SUCH_TOKEN is not set (source "
			"\"a\" in %s line 2)");
	char *empty[] = {"AL_T=", NULL};
	const char *path = yaml(SRC "    auth: {type: bearer, token_env: AL_T}\n");
	char want[512];
	snprintf(want, sizeof want,
		 "sources[0].auth.token_env: environment variable AL_T is empty (source \"a\" in %s line 2)", path);
	assert_string_equal(load_err(path, empty, 0, NULL), want);
	teardown(NULL);
}

/* Rewrites the file at path and moves its modification time on, so a change is seen even
 * within one clock tick. */
static void rewrite(const char *path, const char *text, int step)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	fclose(f);
	struct timespec times[2] = {{.tv_sec = 1000000000 + step}, {.tv_sec = 1000000000 + step}};
	assert_int_equal(utimensat(AT_FDCWD, path, times, 0), 0);
}

static void test_sources_read_again_when_the_file_changes(void **state)
{
	struct al_config cfg;
	struct al_config_source_view v, held;
	char err[512];
	const char *path = yaml("sources:\n  - {name: a, type: a2a, url: \"http://a\"}\n");

	load_ok(&cfg, path, no_env, 0, NULL);
	assert_int_equal(al_config_sources_acquire(&cfg, &v, err, sizeof err), 0);
	assert_int_equal(v.n, 1);
	assert_ptr_equal(v.items, cfg.sources);
	al_config_sources_release(&v);
	assert_int_equal(al_config_sources_acquire(&cfg, &held, err, sizeof err), 0); /* unchanged */
	assert_ptr_equal(held.items, cfg.sources);

	rewrite(path, "sources:\n  - {name: b, type: mcp, url: \"http://b/mcp\"}\n  - {name: c, type: a2a, url: \"http://c\"}\n", 1);
	assert_int_equal(al_config_sources_acquire(&cfg, &v, err, sizeof err), 1);
	assert_int_equal(v.n, 2);
	assert_string_equal(v.items[0].name, "b");
	assert_int_equal(v.items[0].type, AL_SOURCE_MCP);
	assert_string_equal(held.items[0].name, "a"); /* an earlier view stays valid */
	al_config_sources_release(&held);
	al_config_sources_release(&v);

	rewrite(path, "sources:\n  - {name: d, type: grpc, url: \"http://d\"}\n", 2);
	assert_int_equal(al_config_sources_acquire(&cfg, &v, err, sizeof err), -1);
	assert_non_null(strstr(err, "sources[0].type: \"grpc\" is not one of a2a, mcp"));
	assert_int_equal(v.n, 2); /* the previous sources stay */
	assert_string_equal(v.items[1].name, "c");
	al_config_sources_release(&v);
	assert_int_equal(al_config_sources_acquire(&cfg, &v, err, sizeof err), 0); /* reported once */
	assert_int_equal(v.n, 2);
	al_config_sources_release(&v);

	rewrite(path, "port: 1\n", 3);
	assert_int_equal(al_config_sources_acquire(&cfg, &v, err, sizeof err), 1);
	assert_int_equal(v.n, 0);
	al_config_sources_release(&v);
	al_config_free(&cfg);
	teardown(NULL);
}

static void test_yaml_syntax_errors(void **state)
{
	/* reported before anything else in the file, with libyaml's line and column */
	assert_yaml_err("htp: 1\nport: 1\nbind: a: b\n",
			"%s line 3 column 8: YAML syntax error: mapping values are not allowed in this context");
	assert_yaml_err("port: \"8080\n", "%s line 2 column 1: YAML syntax error: found unexpected end of stream "
					  "(while scanning a quoted scalar)");
	assert_yaml_err("\tport: 1\n", "%s line 1 column 1: YAML syntax error: found character that cannot start any "
				       "token (while scanning for the next token)");
	assert_yaml_err("http:\n  workers: 1\n port: 2\n", "%s line 3 column 2: YAML syntax error: did not find "
							   "expected key (while parsing a block mapping)");
}

static void test_missing_file(void **state)
{
	assert_string_equal(load_err("/nonexistent/agentlens.yaml", no_env, 0, NULL),
			    "cannot read config file \"/nonexistent/agentlens.yaml\": No such file or directory");
}

static void test_flag_errors(void **state)
{
	char *a1[] = {"--prot", "9090"};
	char *a2[] = {"--port"};
	char *a3[] = {"--bind", "--port", "1"};
	char *a4[] = {"serve"};
	char *a5[] = {"--no-port"};
	char *a6[] = {"-p", "1"};
	char *a7[] = {"--"};

	assert_string_equal(load_err(NULL, no_env, 2, a1), "unknown flag \"--prot\"");
	assert_string_equal(load_err(NULL, no_env, 1, a2), "flag --port needs a value");
	assert_string_equal(load_err(NULL, no_env, 3, a3), "flag --bind needs a value");
	assert_string_equal(load_err(NULL, no_env, 1, a4), "unexpected argument \"serve\"");
	assert_string_equal(load_err(NULL, no_env, 1, a5), "unknown flag \"--no-port\"");
	assert_string_equal(load_err(NULL, no_env, 2, a6), "unexpected argument \"-p\"");
	assert_string_equal(load_err(NULL, no_env, 1, a7), "unexpected argument \"--\"");
}

/* ---- help and reference -------------------------------------------------------------- */

static void test_help_and_reference_list_every_option(void **state)
{
	char *help = al_config_help_text();
	char *md = al_config_reference_markdown();

	assert_non_null(help);
	assert_non_null(md);
	assert_memory_equal(help, "Usage: agentlens [COMMAND] [--config FILE] [flags]\n", 51);
	for (const char *c = "serve\0version\0check-config\0config-reference\0migrate\0backup FILE\0run SCRIPT\0"; *c;
	     c += strlen(c) + 1)
		assert_non_null(strstr(help, c));
	assert_memory_equal(md, "# Configuration reference\n", 26);
	assert_non_null(strstr(md, "| Key | Environment variable | Flag | Type | Default | Accepted values "
				   "| Description |\n|---|---|---|---|---|---|---|\n"));
	for (size_t i = 0; i < al_options_count; i++) {
		const struct al_option *opt = &al_options[i];
		char flag[128], row[256];

		snprintf(flag, sizeof flag, "  --%s", opt->flag);
		assert_non_null(strstr(help, flag));
		assert_non_null(strstr(help, opt->env));
		assert_non_null(strstr(help, opt->help));
		snprintf(row, sizeof row, "| `%s` | `%s` | `--%s`", opt->key, opt->env, opt->flag);
		assert_non_null(strstr(md, row));
		assert_non_null(strstr(md, opt->help));
	}
	assert_non_null(strstr(help, "default 1MiB, accepted: 1KiB to 1GiB"));
	assert_non_null(strstr(md, "| `log_level` | `AGENTLENS_LOG_LEVEL` | `--log-level` | enum | `info` | `debug`, "
				   "`info`, `warn`, `error` | "));
	free(help);
	free(md);
}

#ifdef AL_SOURCE_DIR
/* docs/configuration.md is the output of al_config_reference_markdown(), byte for byte. */
static void test_reference_doc_is_up_to_date(void **state)
{
	FILE *f = fopen(AL_SOURCE_DIR "/docs/configuration.md", "rb");
	char *md = al_config_reference_markdown();
	static char doc[65536];

	assert_non_null(f);
	size_t n = fread(doc, 1, sizeof doc - 1, f);
	fclose(f);
	doc[n] = '\0';
	bool same = strcmp(doc, md) == 0;
	free(md); /* before fail_msg, which does not return */
	if (!same)
		fail_msg("docs/configuration.md is stale: regenerate it with `agentlens config-reference`");
}
#endif

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_every_default_parses_and_round_trips),
		cmocka_unit_test(test_table_is_consistent),
		cmocka_unit_test(test_enum_order_matches_c_enums),
		cmocka_unit_test_teardown(test_yaml_overrides, teardown),
		cmocka_unit_test_teardown(test_yaml_forms, teardown),
		cmocka_unit_test_teardown(test_env_over_yaml_and_flags_over_env, teardown),
		cmocka_unit_test(test_flag_forms),
		cmocka_unit_test_teardown(test_config_flag_names_the_file, teardown),
		cmocka_unit_test_teardown(test_int_values, teardown),
		cmocka_unit_test(test_bool_values),
		cmocka_unit_test(test_duration_values),
		cmocka_unit_test(test_size_values),
		cmocka_unit_test(test_enum_values),
		cmocka_unit_test(test_string_and_path_values),
		cmocka_unit_test_teardown(test_yaml_errors, teardown),
		cmocka_unit_test_teardown(test_yaml_syntax_errors, teardown),
		cmocka_unit_test_teardown(test_sources_parse, teardown),
		cmocka_unit_test_teardown(test_sources_errors, teardown),
		cmocka_unit_test_teardown(test_sources_read_again_when_the_file_changes, teardown),
		cmocka_unit_test(test_missing_file),
		cmocka_unit_test(test_flag_errors),
		cmocka_unit_test(test_help_and_reference_list_every_option),
#ifdef AL_SOURCE_DIR
		cmocka_unit_test(test_reference_doc_is_up_to_date),
#endif
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
