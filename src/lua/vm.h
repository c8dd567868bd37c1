/* SPDX-License-Identifier: Apache-2.0 */
/* A Lua state built from one generation: module loader, C namespaces, route handlers. */
#ifndef AL_LUA_VM_H
#define AL_LUA_VM_H

#include <lua.h>
#include <stdbool.h>
#include <stddef.h>

struct al_generation;
struct al_router;
struct al_request;

enum al_vm_mode {
	AL_VM_WORKER,   /* serves requests: handlers resolved, no file-system module search */
	AL_VM_VALIDATE, /* scratch state for a reload: also builds the router */
	AL_VM_SCRIPT,   /* `agentlens run`: system package paths stay available */
};

struct al_vm {
	lua_State *L;
	struct al_generation *gen; /* reference held */
	int dispatch_ref;          /* agentlens.server.dispatch */
	int req_mt_ref;            /* metatable of request tables */
	size_t nroutes;
	bool broken;               /* ran out of memory: never reused */
	int pending;               /* requests suspended in a coroutine of this state */
};

/* Builds a state for gen (a reference is taken). In AL_VM_VALIDATE mode *router_out receives
 * the router built from the route table (caller owns). NULL with err set on failure. */
struct al_vm *al_vm_new(struct al_generation *gen, enum al_vm_mode mode, struct al_router **router_out, char *err,
			size_t errlen);
void al_vm_free(struct al_vm *vm);

/* lua_pcall with a traceback. On error copies "message\ntraceback" into err (if non-NULL),
 * pops the error and returns the Lua status; marks the vm broken on LUA_ERRMEM. */
int al_vm_pcall(struct al_vm *vm, int nargs, int nresults, char *err, size_t errlen);

/* The request being handled on this thread (NULL outside a request). */
struct al_request *al_vm_current_request(void);
void al_vm_set_current_request(struct al_request *r);

/* Opens the agentlens.* C namespaces as package.preload entries. */
void al_vm_preload(lua_State *L);

#endif
