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
#include "http/server.h"
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
	al_server_set_ready(true, "");
	struct al_log_field f[] = {
		AL_LSTR("version", AL_VERSION), AL_LSTR("bind", cfg->bind), AL_LINT("port", al_server_port(server)),
		AL_LSTR("data_dir", cfg->data_dir), AL_LDBL("startup_ms", (double)(al_monotonic_ns() - t0) / 1e6),
	};
	al_log_fields(AL_LOG_INFO, "listening", f, sizeof f / sizeof f[0]);

	for (;;) {
		int sig;
		if (sigwait(&sigs, &sig) != 0)
			continue;
		if (sig == SIGHUP) {
			al_info("SIGHUP: reloading Lua modules and scripts");
			al_lua_request_reload();
			continue;
		}
		al_info("%s: shutting down, draining in-flight requests", sig == SIGINT ? "SIGINT" : "SIGTERM");
		break;
	}
	al_server_stop(server, cfg->http_shutdown_timeout_ms);
	al_lua_stop();
	curl_global_cleanup();
	al_info("stopped");
	return 0;
}

static int check_config(const struct al_config *cfg, const char *path)
{
	char err[4096];
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
	if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) {
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
		al_log_setup(cfg.log_level, cfg.log_format);
		code = al_lua_run_script(&cfg, argc - 2, argv + 2);
		al_config_free(&cfg);
		return code;
	}
	if (strcmp(cmd, "serve") != 0 && strcmp(cmd, "check-config") != 0) {
		fprintf(stderr, "agentlens: unknown command \"%s\" (expected serve, version, check-config, "
				"config-reference, run)\n", cmd);
		return 2;
	}
	if (!load_config(&cfg, argc - first, argv + first, &code))
		return code;
	al_log_setup(cfg.log_level, cfg.log_format);
	code = strcmp(cmd, "serve") == 0 ? serve(&cfg) : check_config(&cfg, cfg.source_file);
	al_config_free(&cfg);
	return code;
}
