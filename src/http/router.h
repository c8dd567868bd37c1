/* SPDX-License-Identifier: Apache-2.0 */
/* Route matching: method + path pattern with {param} segments -> route index and parameters.
 * Built once per Lua generation from the route table, then shared read-only by all workers. */
#ifndef AL_HTTP_ROUTER_H
#define AL_HTTP_ROUTER_H

#include <stdbool.h>
#include <stddef.h>

#define AL_ROUTER_MAX_PARAMS 8

struct al_router;

struct al_route_param {
	const char *name; /* borrowed from the router */
	size_t name_len;
	const char *value; /* borrowed from the matched path (not decoded further) */
	size_t value_len;
};

struct al_route_match {
	int route; /* index given to al_router_add, -1 when nothing matched */
	size_t nparams;
	struct al_route_param params[AL_ROUTER_MAX_PARAMS];
	/* When the path matched but not the method: the allowed methods, "GET, POST" */
	char allow[96];
};

/* Returns NULL on allocation failure. Caller owns the result (al_router_free). */
struct al_router *al_router_new(void);
void al_router_free(struct al_router *r);
/* Adds a route; method is upper-case (GET, POST, PUT, PATCH, DELETE), pattern starts with '/',
 * segments are literals or "{name}" (letters, digits, '_'). Returns false with a message for a
 * malformed pattern, an unknown method or a duplicate (same method and same shape). */
bool al_router_add(struct al_router *r, const char *method, const char *pattern, int route, char *err, size_t errlen);
/* Literal segments win over parameters at the same position. HEAD matches GET routes.
 * Returns true when a route matched (m->route >= 0). When only the path matched, returns false
 * with m->allow filled; when nothing matched, false with m->allow empty. */
bool al_router_match(const struct al_router *r, const char *method, const char *path, struct al_route_match *m);
size_t al_router_count(const struct al_router *r);

#endif
