/* SPDX-License-Identifier: Apache-2.0 */
/* Runs /api requests on the worker's Lua state: route, call the handler, build the response. */
#include <lauxlib.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/buf.h"
#include "crypto/workpool.h"
#include "core/log.h"
#include "http/request.h"
#include "http/router.h"
#include "lua/api.h"
#include "lua/api_json.h"
#include "lua/async.h"
#include "lua/generation.h"
#include "lua/host.h"
#include "lua/vm.h"

static __thread struct al_vm *worker_vm;
/* States replaced by a newer generation while requests still wait on them; freed when the last
 * of those requests finishes. */
static __thread struct al_vm *retired_vms[16];
static __thread size_t nretired;

/* What a binding asked for before yielding; picked up by run_handler right after the yield. */
struct pending {
	struct al_vm *vm;
	struct al_request *r;
	lua_State *co;
	int co_ref;
	void (*work)(void *);
	int (*push)(lua_State *, void *);
	void (*free_arg)(void *);
	void *arg;
};
static __thread struct pending *requested;
static __thread lua_State *running_co;
static pthread_key_t vm_key;
static pthread_once_t vm_key_once = PTHREAD_ONCE_INIT;

static void vm_destructor(void *p)
{
	al_vm_free(p);
}

static void make_key(void)
{
	pthread_key_create(&vm_key, vm_destructor);
}

static void release_vm(struct al_vm *vm)
{
	if (vm == worker_vm)
		return;
	for (size_t i = 0; i < nretired; i++) {
		if (retired_vms[i] == vm && vm->pending == 0) {
			retired_vms[i] = retired_vms[--nretired];
			al_vm_free(vm);
			return;
		}
	}
}

void al_lua_thread_cleanup(void)
{
	for (size_t i = 0; i < nretired; i++)
		al_vm_free(retired_vms[i]);
	nretired = 0;
	if (worker_vm) {
		pthread_setspecific(vm_key, NULL);
		al_vm_free(worker_vm);
		worker_vm = NULL;
	}
}

/* The calling thread's state for the published generation; rebuilt when a new one appeared.
 * When a rebuild fails, the old state keeps serving. */
static struct al_vm *current_vm(void)
{
	uint64_t id = al_generation_current_id();
	struct al_vm *vm = worker_vm;
	if (vm && !vm->broken && vm->gen->id == id)
		return vm;
	/* Requests still wait on the current state and no room is left to retire it: keep serving
	 * this generation until they finish. */
	if (vm && !vm->broken && vm->pending > 0 && nretired == sizeof retired_vms / sizeof retired_vms[0])
		return vm;
	pthread_once(&vm_key_once, make_key);
	struct al_generation *g = al_generation_acquire();
	if (!g)
		return vm && !vm->broken ? vm : NULL;
	char err[1024];
	struct al_vm *fresh = al_vm_new(g, AL_VM_WORKER, NULL, err, sizeof err);
	if (fresh && fresh->nroutes != al_router_count(g->router)) {
		snprintf(err, sizeof err, "route table has %zu routes, the validated generation %zu",
			 fresh->nroutes, al_router_count(g->router));
		al_vm_free(fresh);
		fresh = NULL;
	}
	al_generation_release(g);
	if (!fresh) {
		struct al_log_field f[] = {AL_LSTR("error", err)};
		al_log_fields(AL_LOG_ERROR, "cannot build the worker's Lua state", f, 1);
		return vm && !vm->broken ? vm : NULL;
	}
	if (vm && vm->pending > 0)
		retired_vms[nretired++] = vm; /* requests still wait on it (room checked above) */
	else
		al_vm_free(vm);
	worker_vm = fresh;
	pthread_setspecific(vm_key, fresh);
	return fresh;
}

struct header_ctx {
	struct al_response *resp;
	bool has_cache_control;
	bool has_content_type;
};

/* Stack: headers table at idx, unchanged after. Copies string/number values. */
static bool copy_headers(lua_State *L, int idx, struct header_ctx *h, char *err, size_t errlen)
{
	lua_pushnil(L);
	while (lua_next(L, idx)) {
		if (lua_type(L, -2) != LUA_TSTRING || !(lua_type(L, -1) == LUA_TSTRING || lua_type(L, -1) == LUA_TNUMBER)) {
			snprintf(err, errlen, "response headers must map names to strings");
			lua_pop(L, 2);
			return false;
		}
		const char *name = lua_tostring(L, -2), *value = lua_tostring(L, -1);
		if (strpbrk(name, "\r\n:") || strpbrk(value, "\r\n")) {
			snprintf(err, errlen, "response header %s contains a line break or colon", name);
			lua_pop(L, 2);
			return false;
		}
		if (strcasecmp(name, "Content-Type") == 0)
			h->has_content_type = true;
		if (strcasecmp(name, "Cache-Control") == 0)
			h->has_cache_control = true;
		al_response_add_header(h->resp, name, value);
		lua_pop(L, 1);
	}
	return true;
}

/* Stack of L: the handler's results from index base (status, body, headers; missing ones are
 * nil). Fills r->resp or returns false. */
static bool build_response(lua_State *L, int base, struct al_request *r, char *err, size_t errlen)
{
	lua_settop(L, base + 2);
	struct al_response *resp = &r->resp;
	if (lua_type(L, base) != LUA_TNUMBER) {
		snprintf(err, errlen, "handler returned a %s instead of a status code", luaL_typename(L, base));
		return false;
	}
	lua_Number st = lua_tonumber(L, base);
	if (st != (int)st || st < 100 || st > 599) {
		snprintf(err, errlen, "handler returned an invalid status code %g", (double)st);
		return false;
	}
	al_response_reset(resp);
	struct header_ctx h = {.resp = resp};
	if (lua_istable(L, base + 2) && !copy_headers(L, base + 2, &h, err, errlen))
		return false;
	if (!lua_isnoneornil(L, base + 2) && !lua_istable(L, base + 2)) {
		snprintf(err, errlen, "handler returned headers of type %s", luaL_typename(L, base + 2));
		return false;
	}
	int body = base + 1;
	const char *ctype = NULL;
	char *data = NULL;
	size_t len = 0;
	if (lua_type(L, body) == LUA_TSTRING) {
		const char *s = lua_tolstring(L, body, &len);
		if (!(data = malloc(len + 1)))
			return false;
		memcpy(data, s, len);
		ctype = "text/plain; charset=utf-8";
	} else if (!lua_isnil(L, body)) {
		struct al_buf b = AL_BUF_INIT;
		if (!al_json_encode_value(L, body, &b, err, errlen)) {
			al_buf_free(&b);
			return false;
		}
		data = al_buf_steal(&b, &len);
		if (!data)
			return false;
		ctype = "application/json";
	}
	al_response_set_body(resp, (int)st, h.has_content_type ? NULL : ctype, data, len);
	if (!h.has_cache_control)
		al_response_add_header(resp, "Cache-Control", "no-store");
	return true;
}

bool al_async_available(lua_State *L)
{
	return running_co == L && al_vm_current_request() != NULL && requested == NULL && lua_isyieldable(L);
}

int al_async_yield(lua_State *L, void (*work)(void *), int (*push)(lua_State *, void *), void (*free_arg)(void *),
		   void *arg)
{
	struct pending *p = calloc(1, sizeof *p);
	if (!p) {
		free_arg(arg);
		return luaL_error(L, "out of memory");
	}
	*p = (struct pending){.work = work, .push = push, .free_arg = free_arg, .arg = arg};
	requested = p;
	return lua_yield(L, 0);
}

static void log_failure(struct al_vm *vm, struct al_request *r, const char *err)
{
	struct al_log_field f[] = {
		AL_LSTR("request_id", r->id), AL_LSTR("method", r->method), AL_LSTR("path", r->path),
		AL_LINT("generation", vm->gen->id), AL_LSTR("error", err),
	};
	al_log_fields(AL_LOG_ERROR, "lua handler failed", f, sizeof f / sizeof f[0]);
	al_response_error(r, 500, "internal server error");
}

static void run_work(void *arg)
{
	struct pending *p = arg;
	p->work(p->arg);
}

static void work_done(void *arg)
{
	struct pending *p = arg;
	al_request_resume(p->r);
}

/* Resumes the handler coroutine co (anchored at registry ref co_ref) with nargs values on its
 * stack. On a yield for slow work, suspends the request; otherwise builds the response. */
static void run_handler(struct al_vm *vm, struct al_request *r, lua_State *co, int co_ref, int nargs)
{
	char err[4096];
	requested = NULL;
	running_co = co;
	al_vm_set_current_request(r);
	int rc = lua_resume(co, nargs);
	al_vm_set_current_request(NULL);
	running_co = NULL;
	if (rc == LUA_YIELD && requested) {
		struct pending *p = requested;
		requested = NULL;
		*p = (struct pending){vm, r, co, co_ref, p->work, p->push, p->free_arg, p->arg};
		r->pending = p;
		vm->pending++;
		al_request_suspend(r);
		if (!al_workpool_submit(run_work, work_done, p)) {
			run_work(p); /* no pool (tools, shutdown): do it here, answer right away */
			al_request_resume(r);
		}
		return;
	}
	bool ok;
	if (rc == LUA_YIELD) {
		snprintf(err, sizeof err, "handler yielded outside of an agentlens call (coroutine.yield at top level)");
		ok = false;
	} else if (rc != 0) {
		const char *msg = lua_tostring(co, -1);
		luaL_traceback(vm->L, co, msg ? msg : "error (a non-string value)", 0);
		snprintf(err, sizeof err, "%s", lua_tostring(vm->L, -1));
		lua_pop(vm->L, 1);
		if (rc == LUA_ERRMEM)
			vm->broken = true;
		ok = false;
	} else {
		ok = build_response(co, 1, r, err, sizeof err);
	}
	luaL_unref(vm->L, LUA_REGISTRYINDEX, co_ref);
	if (!ok)
		log_failure(vm, r, err);
}

void al_lua_handle(struct al_request *r)
{
	struct al_vm *vm = current_vm();
	if (!vm) {
		al_response_error(r, 503, "the Lua runtime is not available");
		return;
	}
	if (!al_router_match(vm->gen->router, r->method, r->path, &r->match)) {
		if (r->match.allow[0]) {
			al_response_error(r, 405, "method not allowed");
			al_response_add_header(&r->resp, "Allow", r->match.allow);
		} else {
			al_response_error(r, 404, "not found");
		}
		return;
	}
	lua_State *L = vm->L;
	/* Each request runs in a coroutine so that it can wait for slow work (bcrypt). */
	lua_State *co = lua_newthread(L);
	int co_ref = luaL_ref(L, LUA_REGISTRYINDEX);
	lua_rawgeti(L, LUA_REGISTRYINDEX, vm->dispatch_ref);
	lua_pushinteger(L, r->match.route + 1);
	al_http_push_request(L, r, vm->req_mt_ref);
	lua_xmove(L, co, 3);
	run_handler(vm, r, co, co_ref, 2);
}

void al_lua_continue(struct al_request *r)
{
	struct pending *p = r->pending;
	r->pending = NULL;
	struct al_vm *vm = p->vm;
	int n = p->push(p->co, p->arg);
	p->free_arg(p->arg);
	vm->pending--;
	lua_State *co = p->co;
	int co_ref = p->co_ref;
	free(p);
	run_handler(vm, r, co, co_ref, n);
	release_vm(vm);
}

void al_lua_abandon(struct al_request *r)
{
	struct pending *p = r->pending;
	if (!p)
		return;
	r->pending = NULL;
	p->free_arg(p->arg);
	p->vm->pending--;
	luaL_unref(p->vm->L, LUA_REGISTRYINDEX, p->co_ref);
	struct al_vm *vm = p->vm;
	free(p);
	release_vm(vm);
}
