/* SPDX-License-Identifier: Apache-2.0 */
/* One HTTP request while it is being handled, and the response being built for it.
 * The C core and the Lua bindings see requests only through this header (no microhttpd.h). */
#ifndef AL_HTTP_REQUEST_H
#define AL_HTTP_REQUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "http/router.h"

struct al_header {
	char *name;  /* owned */
	char *value; /* owned */
};

struct al_response {
	int status;
	char *body; /* owned (malloc) unless body_static */
	size_t len;
	bool body_static;
	const char *content_type; /* static string, or NULL for none */
	struct al_header *headers; /* owned */
	size_t nheaders;
};

enum al_request_kind { AL_REQ_HEADER, AL_REQ_QUERY, AL_REQ_COOKIE };

struct al_request {
	void *conn;         /* the MHD connection; only src/http touches it */
	const char *method; /* owned by the server for the request's lifetime */
	const char *path;   /* URL path, percent-decoded, without the query string */
	char id[40];        /* request id: incoming X-Request-Id when sane, else random */
	uint64_t serial;    /* unique per process; lets Lua detect stale request objects */
	int64_t start_ns;
	struct al_buf body;
	bool body_too_large;
	bool responded;
	struct al_route_match match;
	struct al_response resp;
	/* Slow work in progress (src/lua/dispatch.c): the handler's coroutine waits for it while
	 * the connection is suspended. NULL when the request is not waiting. */
	void *pending;
	bool suspended;
};

/* Lookups are case-insensitive for headers; results are owned by the server and valid until
 * the request completes. NULL when absent. */
const char *al_request_get(const struct al_request *r, enum al_request_kind kind, const char *name);
/* Calls cb for every value of the kind; stops early when cb returns non-zero. */
void al_request_each(const struct al_request *r, enum al_request_kind kind,
		     int (*cb)(void *ud, const char *name, const char *value), void *ud);
/* Peer address as text ("127.0.0.1", "::1"); "" when unknown. */
void al_request_peer(const struct al_request *r, char *out, size_t outlen);

/* Suspends the connection (only from the thread handling the request, inside the handler);
 * the server then sends nothing until al_request_resume, which any thread may call, after
 * which the handler runs again with r->pending still set. */
void al_request_suspend(struct al_request *r);
void al_request_resume(struct al_request *r);

/* Response building: copies name and value. Returns false on allocation failure. */
bool al_response_add_header(struct al_response *resp, const char *name, const char *value);
/* Sets a JSON body {"error": message, "request_id": id} with the given status. */
void al_response_error(struct al_request *r, int status, const char *message);
/* Takes ownership of body (malloc'd). */
void al_response_set_body(struct al_response *resp, int status, const char *content_type, char *body, size_t len);
void al_response_reset(struct al_response *resp);

#endif
