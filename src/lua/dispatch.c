/* SPDX-License-Identifier: Apache-2.0 */
/* Runs /api requests on the worker's Lua state: route, call the handler, build the response. */
#include <lauxlib.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/buf.h"
#include "core/log.h"
#include "http/request.h"
#include "http/router.h"
#include "lua/api.h"
#include "lua/api_json.h"
#include "lua/generation.h"
#include "lua/host.h"
#include "lua/vm.h"

static __thread struct al_vm *worker_vm;
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

void al_lua_thread_cleanup(void)
{
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

/* Stack: [..., status, body, headers] (3 results). Fills r->resp or returns false. */
static bool build_response(lua_State *L, struct al_request *r, char *err, size_t errlen)
{
	int base = lua_gettop(L) - 2;
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
	int top = lua_gettop(L);
	char err[4096];
	lua_rawgeti(L, LUA_REGISTRYINDEX, vm->dispatch_ref);
	lua_pushinteger(L, r->match.route + 1);
	al_http_push_request(L, r, vm->req_mt_ref);
	al_vm_set_current_request(r);
	int rc = al_vm_pcall(vm, 2, 3, err, sizeof err);
	bool ok = rc == 0 && build_response(L, r, err, sizeof err);
	al_vm_set_current_request(NULL);
	lua_settop(L, top);
	if (!ok) {
		struct al_log_field f[] = {
			AL_LSTR("request_id", r->id), AL_LSTR("method", r->method), AL_LSTR("path", r->path),
			AL_LINT("generation", vm->gen->id), AL_LSTR("error", err),
		};
		al_log_fields(AL_LOG_ERROR, "lua handler failed", f, sizeof f / sizeof f[0]);
		al_response_error(r, 500, "internal server error");
	}
}
