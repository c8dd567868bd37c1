/* SPDX-License-Identifier: Apache-2.0 */
/* The Lua side of background jobs: a state per scheduler thread built from the current
 * generation, the validated list from agentlens.jobs, intervals and run(ctx) calls. */
#include <lauxlib.h>
#include <stdio.h>
#include <time.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/log.h"
#include "jobs/jobs.h"
#include "lua/generation.h"
#include "lua/vm.h"

#define MAX_NAME 128

struct al_job_runner {
	struct al_vm *vm;
	int list_ref; /* registry ref of the validated job array in vm */
	char **names;
	bool *loop; /* per job: a long-running loop (loop = true) rather than a periodic job */
	size_t n;
	uint64_t failed_gen; /* generation whose job list failed: not retried until the next one */
};

struct al_job_runner *al_job_runner_new(void)
{
	struct al_job_runner *r = calloc(1, sizeof *r);
	if (r)
		r->list_ref = LUA_NOREF;
	return r;
}

static void free_names(char **names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

void al_job_runner_free(struct al_job_runner *r)
{
	if (!r)
		return;
	free_names(r->names, r->n);
	free(r->loop);
	al_vm_free(r->vm);
	free(r);
}

size_t al_job_runner_count(const struct al_job_runner *r)
{
	return r->vm ? r->n : 0;
}

const char *al_job_runner_name(const struct al_job_runner *r, size_t i)
{
	return i < r->n ? r->names[i] : "";
}

/* Checks the job array at the top of the stack (left there) and copies the names and kinds.
 * Entry shape: {name = string, run = function, interval_ms = number > 0 | interval_setting = string}
 * or {name = string, run = function, loop = true, enabled = boolean | function (optional)}. */
static bool validate_list(lua_State *L, char ***names_out, bool **loop_out, size_t *n_out, char *err, size_t errlen)
{
	if (!lua_istable(L, -1)) {
		snprintf(err, errlen, "agentlens.jobs must return a list of jobs");
		return false;
	}
	size_t n = lua_objlen(L, -1);
	char **names = calloc(n ? n : 1, sizeof *names);
	bool *loop = calloc(n ? n : 1, sizeof *loop);
	if (!names || !loop) {
		free(names);
		free(loop);
		snprintf(err, errlen, "out of memory");
		return false;
	}
	bool ok = true;
	for (size_t i = 0; ok && i < n; i++) {
		lua_rawgeti(L, -1, (int)i + 1);
		const char *why = NULL;
		if (!lua_istable(L, -1)) {
			why = "is not a table";
		} else {
			lua_getfield(L, -1, "loop");
			lua_getfield(L, -2, "enabled");
			loop[i] = lua_toboolean(L, -2);
			bool bad_loop = !lua_isnil(L, -2) && !lua_isboolean(L, -2);
			bool bad_enabled = !lua_isnil(L, -1) && !lua_isboolean(L, -1) && !lua_isfunction(L, -1);
			lua_pop(L, 2);
			lua_getfield(L, -1, "name");
			lua_getfield(L, -2, "run");
			lua_getfield(L, -3, "interval_ms");
			lua_getfield(L, -4, "interval_setting");
			const char *name = lua_type(L, -4) == LUA_TSTRING ? lua_tostring(L, -4) : NULL;
			if (!name || !name[0] || strlen(name) >= MAX_NAME)
				why = "needs a name (a non-empty string shorter than 128 bytes)";
			else if (!lua_isfunction(L, -3))
				why = "needs a run function";
			else if (bad_loop)
				why = "has a loop field that is not a boolean";
			else if (bad_enabled)
				why = "has an enabled field that is neither a boolean nor a function";
			else if (!loop[i] && !(lua_type(L, -2) == LUA_TNUMBER && lua_tonumber(L, -2) > 0) &&
				 lua_type(L, -1) != LUA_TSTRING)
				why = "needs interval_ms (a positive number) or interval_setting (a settings key), or loop = true";
			for (size_t j = 0; !why && j < i; j++)
				if (strcmp(names[j], name) == 0)
					why = "repeats the name of an earlier job";
			if (!why && !(names[i] = strdup(name)))
				why = "out of memory";
			lua_pop(L, 4);
		}
		lua_pop(L, 1);
		if (why) {
			snprintf(err, errlen, "agentlens.jobs entry %zu %s", i + 1, why);
			ok = false;
		}
	}
	if (!ok) {
		free_names(names, n);
		free(loop);
		return false;
	}
	*names_out = names;
	*loop_out = loop;
	*n_out = n;
	return true;
}

/* Builds a state for the published generation and loads its job list; false with err set. */
static bool build(struct al_job_runner *r, struct al_generation *g, char *err, size_t errlen)
{
	struct al_vm *vm = al_vm_new(g, AL_VM_WORKER, NULL, err, errlen);
	if (!vm)
		return false;
	lua_State *L = vm->L;
	char **names = NULL;
	bool *loop = NULL;
	size_t n = 0;
	lua_getglobal(L, "require");
	lua_pushliteral(L, "agentlens.jobs");
	if (al_vm_pcall(vm, 1, 1, err, errlen) != 0)
		goto fail;
	if (!validate_list(L, &names, &loop, &n, err, errlen)) {
		lua_pop(L, 1);
		goto fail;
	}
	int ref = luaL_ref(L, LUA_REGISTRYINDEX);
	free_names(r->names, r->n);
	free(r->loop);
	al_vm_free(r->vm);
	r->vm = vm;
	r->list_ref = ref;
	r->names = names;
	r->loop = loop;
	r->n = n;
	return true;
fail:
	al_vm_free(vm);
	return false;
}

void al_job_runner_sync(struct al_job_runner *r, bool *changed)
{
	*changed = false;
	uint64_t id = al_generation_current_id();
	bool usable = r->vm && !r->vm->broken;
	if ((usable && r->vm->gen->id == id) || (r->failed_gen == id && (!r->vm || usable)))
		return;
	struct al_generation *g = al_generation_acquire();
	if (!g)
		return;
	char err[2048];
	bool ok = build(r, g, err, sizeof err);
	uint64_t gen_id = g->id;
	al_generation_release(g);
	if (ok) {
		*changed = true;
		r->failed_gen = 0;
		struct al_log_field f[] = {AL_LINT("generation", gen_id), AL_LINT("jobs", r->n)};
		al_log_fields(AL_LOG_INFO, "background jobs loaded", f, 2);
		return;
	}
	if (r->failed_gen != gen_id) {
		struct al_log_field f[] = {AL_LINT("generation", gen_id), AL_LSTR("error", err)};
		al_log_fields(AL_LOG_ERROR,
			      usable ? "cannot load the background jobs; the previous ones keep running"
				     : "cannot load the background jobs",
			      f, 2);
	}
	r->failed_gen = gen_id;
	if (r->vm && r->vm->broken) { /* a state that ran out of memory is never reused */
		free_names(r->names, r->n);
		free(r->loop);
		r->loop = NULL;
		r->names = NULL;
		r->n = 0;
		al_vm_free(r->vm);
		r->vm = NULL;
		*changed = true;
	}
}

/* Pushes job i (stack +1). */
static void push_job(struct al_job_runner *r, size_t i)
{
	lua_State *L = r->vm->L;
	lua_rawgeti(L, LUA_REGISTRYINDEX, r->list_ref);
	lua_rawgeti(L, -1, (int)i + 1);
	lua_remove(L, -2);
}

int64_t al_job_runner_interval_ms(struct al_job_runner *r, size_t i, char *err, size_t errlen)
{
	if (!r->vm || i >= r->n) {
		snprintf(err, errlen, "no such job");
		return -1;
	}
	lua_State *L = r->vm->L;
	int top = lua_gettop(L);
	int64_t ms = -1;
	push_job(r, i);
	lua_getfield(L, -1, "interval_ms");
	if (lua_type(L, -1) == LUA_TNUMBER && lua_tonumber(L, -1) > 0) {
		ms = (int64_t)lua_tonumber(L, -1);
		goto done;
	}
	lua_getfield(L, -2, "interval_setting");
	const char *key = lua_tostring(L, -1);
	lua_getglobal(L, "require");
	lua_pushliteral(L, "agentlens.settings");
	if (al_vm_pcall(r->vm, 1, 1, err, errlen) != 0)
		goto done;
	lua_getfield(L, -1, "get");
	lua_pushstring(L, key ? key : "");
	if (al_vm_pcall(r->vm, 1, 1, err, errlen) != 0)
		goto done;
	if (lua_type(L, -1) == LUA_TNUMBER && lua_tonumber(L, -1) > 0)
		ms = (int64_t)(lua_tonumber(L, -1) * 1000);
	else
		snprintf(err, errlen, "setting %s is not a positive number of seconds", key ? key : "?");
done:
	lua_settop(L, top);
	return ms;
}

bool al_job_runner_is_loop(const struct al_job_runner *r, size_t i)
{
	return r->vm && i < r->n && r->loop[i];
}

uint64_t al_job_runner_generation(const struct al_job_runner *r)
{
	return r->vm ? r->vm->gen->id : 0;
}

bool al_job_runner_enabled(struct al_job_runner *r, size_t i, char *err, size_t errlen)
{
	if (!r->vm || i >= r->n) {
		snprintf(err, errlen, "no such job");
		return false;
	}
	lua_State *L = r->vm->L;
	int top = lua_gettop(L);
	bool on = false;
	err[0] = '\0';
	push_job(r, i);
	lua_getfield(L, -1, "enabled");
	if (lua_isfunction(L, -1)) {
		if (al_vm_pcall(r->vm, 0, 1, err, errlen) == 0)
			on = lua_toboolean(L, -1);
	} else {
		on = lua_isnil(L, -1) || lua_toboolean(L, -1);
	}
	lua_settop(L, top);
	return on;
}

/* ctx.should_stop() -> boolean (upvalues: the check and its argument as light userdata) */
static int l_should_stop(lua_State *L)
{
	bool (*check)(void *) = (bool (*)(void *))(uintptr_t)lua_touserdata(L, lua_upvalueindex(1));
	lua_pushboolean(L, check && check(lua_touserdata(L, lua_upvalueindex(2))));
	return 1;
}

/* ctx.sleep(seconds) -> true after sleeping, false as soon as the job must stop (checked every
 * 50 ms). */
static int l_sleep(lua_State *L)
{
	bool (*check)(void *) = (bool (*)(void *))(uintptr_t)lua_touserdata(L, lua_upvalueindex(1));
	void *ud = lua_touserdata(L, lua_upvalueindex(2));
	double seconds = luaL_checknumber(L, 1);
	if (seconds != seconds || seconds < 0)
		return luaL_error(L, "ctx.sleep: seconds must be a non-negative number");
	if (seconds > 86400)
		seconds = 86400;
	int64_t deadline = al_monotonic_ns() + (int64_t)(seconds * 1e9);
	for (;;) {
		if (check && check(ud)) {
			lua_pushboolean(L, 0);
			return 1;
		}
		int64_t left = deadline - al_monotonic_ns();
		if (left <= 0)
			break;
		if (left > 50000000)
			left = 50000000;
		struct timespec ts = {.tv_sec = 0, .tv_nsec = left};
		nanosleep(&ts, NULL);
	}
	lua_pushboolean(L, 1);
	return 1;
}

bool al_job_runner_run(struct al_job_runner *r, size_t i, uint64_t round, bool (*should_stop)(void *ud),
		       void *ud, char *err, size_t errlen)
{
	if (!r->vm || i >= r->n) {
		snprintf(err, errlen, "no such job");
		return false;
	}
	lua_State *L = r->vm->L;
	int top = lua_gettop(L);
	push_job(r, i);
	lua_getfield(L, -1, "run");
	lua_createtable(L, 0, 4);
	lua_pushstring(L, r->names[i]);
	lua_setfield(L, -2, "name");
	lua_pushnumber(L, (lua_Number)round);
	lua_setfield(L, -2, "round");
	lua_pushlightuserdata(L, (void *)(uintptr_t)should_stop);
	lua_pushlightuserdata(L, ud);
	lua_pushcclosure(L, l_should_stop, 2);
	lua_setfield(L, -2, "should_stop");
	lua_pushlightuserdata(L, (void *)(uintptr_t)should_stop);
	lua_pushlightuserdata(L, ud);
	lua_pushcclosure(L, l_sleep, 2);
	lua_setfield(L, -2, "sleep");
	bool ok = al_vm_pcall(r->vm, 1, 0, err, errlen) == 0;
	lua_settop(L, top);
	return ok;
}
