/* SPDX-License-Identifier: Apache-2.0 */
/* The HTTP server: libmicrohttpd thread pool with epoll, limits, routing to C, Lua or assets. */
#ifndef AL_HTTP_SERVER_H
#define AL_HTTP_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct al_config;
struct al_server;

/* Starts listening. Returns NULL with err set (e.g. port in use). Caller owns the result. */
struct al_server *al_server_start(const struct al_config *cfg, char *err, size_t errlen);
/* The port actually bound (useful with port 0). */
uint16_t al_server_port(const struct al_server *s);
/* Readiness: /readyz answers 503 with reason until set ready. reason is copied. */
void al_server_set_ready(bool ready, const char *reason);
/* Graceful stop: stop accepting, wait up to timeout_ms for in-flight requests, close. Frees s. */
void al_server_stop(struct al_server *s, int64_t timeout_ms);

#endif
