/* SPDX-License-Identifier: Apache-2.0 */
/* The Lua host as seen from the rest of the C core: start-up, request dispatch, reload.
 * No lua.h here: everything Lua stays behind this interface in src/lua/. */
#ifndef AL_LUA_HOST_H
#define AL_LUA_HOST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct al_config;
struct al_request;

/* Loads and validates the first generation (embedded Lua or cfg->lua_dir, plus
 * cfg->scripts_dir). On failure returns false with a message naming file and line. */
bool al_lua_start(const struct al_config *cfg, char *err, size_t errlen);
/* Starts the reload thread (inotify when cfg->lua_watch, plus explicit triggers). */
bool al_lua_start_watcher(void);
/* Stops the reload thread and drops the published generation. */
void al_lua_stop(void);

/* Asks the reload thread to rebuild the generation (SIGHUP, admin API). Async-signal-safe. */
void al_lua_request_reload(void);
/* Synchronous reload (tests, CLI): returns true when a new generation was published. */
bool al_lua_reload_now(char *err, size_t errlen);

/* Handles an /api request: routes, runs the Lua handler, fills r->resp. Never fails: errors
 * become 404/405/500 JSON responses. Runs on an HTTP worker thread. */
void al_lua_handle(struct al_request *r);

/* Continues a request whose handler waited for slow work (r->pending); fills r->resp or
 * suspends again. Runs on the thread that handled the request. */
void al_lua_continue(struct al_request *r);

/* Drops the waiting handler of a request that ended while suspended (client went away). */
void al_lua_abandon(struct al_request *r);

/* Runs agentlens.startup.run() once the database is ready (first admin, seeds). Returns false
 * with err set when it failed. */
bool al_lua_startup(char *err, size_t errlen);

/* Frees the calling thread's Lua state (worker thread exit). */
void al_lua_thread_cleanup(void);

/* `agentlens run SCRIPT [ARGS...]`: runs a Lua script with the full standard library, system
 * package paths and the agentlens modules (test tools such as busted). Returns exit status. */
int al_lua_run_script(const struct al_config *cfg, int argc, char *const argv[]);

#endif
