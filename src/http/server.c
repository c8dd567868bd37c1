/* SPDX-License-Identifier: Apache-2.0 */
/* libmicrohttpd server: limits, request ids, request logs, health, assets, Lua dispatch. */
#include "http/server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/config.h"
#include "core/json.h"
#include "core/log.h"
#include "crypto/random.h"
#include "http/request.h"
#include "http/static.h"
#include "lua/host.h"

struct al_server {
	struct MHD_Daemon *daemon;
	uint16_t port;
};

static struct {
	int64_t max_body;
	unsigned idle_timeout_s;
	atomic_long inflight;
	atomic_bool draining;
	atomic_ullong serial;
	atomic_bool ready;
	pthread_mutex_t ready_lock;
	char ready_reason[256];
} srv = {.ready_lock = PTHREAD_MUTEX_INITIALIZER, .ready_reason = "starting"};

static const char healthz_body[] = "{\"status\":\"ok\"}";

/* ---- request accessors (declared in http/request.h) ------------------------------------- */

static enum MHD_ValueKind mhd_kind(enum al_request_kind kind)
{
	switch (kind) {
	case AL_REQ_HEADER:
		return MHD_HEADER_KIND;
	case AL_REQ_QUERY:
		return MHD_GET_ARGUMENT_KIND;
	case AL_REQ_COOKIE:
		return MHD_COOKIE_KIND;
	}
	return MHD_HEADER_KIND;
}

const char *al_request_get(const struct al_request *r, enum al_request_kind kind, const char *name)
{
	return MHD_lookup_connection_value(r->conn, mhd_kind(kind), name);
}

struct each_ctx {
	int (*cb)(void *ud, const char *name, const char *value);
	void *ud;
};

static enum MHD_Result each_value(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	struct each_ctx *c = cls;
	return c->cb(c->ud, key, value ? value : "") ? MHD_NO : MHD_YES;
}

void al_request_each(const struct al_request *r, enum al_request_kind kind,
		     int (*cb)(void *ud, const char *name, const char *value), void *ud)
{
	struct each_ctx c = {cb, ud};
	MHD_get_connection_values(r->conn, mhd_kind(kind), each_value, &c);
}

void al_request_peer(const struct al_request *r, char *out, size_t outlen)
{
	out[0] = '\0';
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(r->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	if (!ci || !ci->client_addr)
		return;
	const struct sockaddr *sa = ci->client_addr;
	if (sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, out, (socklen_t)outlen);
	else if (sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, out, (socklen_t)outlen);
}

void al_request_suspend(struct al_request *r)
{
	r->suspended = true;
	MHD_suspend_connection(r->conn);
}

void al_request_resume(struct al_request *r)
{
	MHD_resume_connection(r->conn);
}

bool al_response_add_header(struct al_response *resp, const char *name, const char *value)
{
	struct al_header *grown = realloc(resp->headers, (resp->nheaders + 1) * sizeof *grown);
	if (!grown)
		return false;
	resp->headers = grown;
	char *n = strdup(name), *v = strdup(value);
	if (!n || !v) {
		free(n);
		free(v);
		return false;
	}
	resp->headers[resp->nheaders++] = (struct al_header){n, v};
	return true;
}

void al_response_reset(struct al_response *resp)
{
	if (!resp->body_static)
		free(resp->body);
	for (size_t i = 0; i < resp->nheaders; i++) {
		free(resp->headers[i].name);
		free(resp->headers[i].value);
	}
	free(resp->headers);
	*resp = (struct al_response){0};
}

void al_response_set_body(struct al_response *resp, int status, const char *content_type, char *body, size_t len)
{
	if (!resp->body_static)
		free(resp->body);
	resp->status = status;
	resp->content_type = content_type;
	resp->body = body;
	resp->len = len;
	resp->body_static = false;
}

void al_response_error(struct al_request *r, int status, const char *message)
{
	struct al_buf b = AL_BUF_INIT;
	al_buf_puts(&b, "{\"error\":");
	al_json_write_string(&b, message, strlen(message));
	al_buf_puts(&b, ",\"request_id\":");
	al_json_write_string(&b, r->id, strlen(r->id));
	al_buf_putc(&b, '}');
	size_t len;
	char *body = al_buf_steal(&b, &len);
	if (!body) {
		static const char oom[] = "{\"error\":\"out of memory\"}";
		al_response_reset(&r->resp);
		r->resp = (struct al_response){.status = 500, .body = (char *)oom, .len = sizeof oom - 1,
					       .body_static = true, .content_type = "application/json"};
		return;
	}
	al_response_set_body(&r->resp, status, "application/json", body, len);
}

/* ---- request lifecycle --------------------------------------------------------------------- */

static bool sane_request_id(const char *s)
{
	size_t n = 0;
	for (; s[n]; n++) {
		char c = s[n];
		if (n >= 64 || !((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
				 c == '-' || c == '_' || c == '.'))
			return false;
	}
	return n > 0;
}

/* Request ids need to be unique, not secret: a per-thread xorshift seeded from the kernel. */
static void new_request_id(char out[17])
{
	static __thread uint64_t state;
	if (!state && (!al_random_bytes(&state, sizeof state) || !state))
		state = (uint64_t)al_monotonic_ns() | 1;
	state ^= state << 13;
	state ^= state >> 7;
	state ^= state << 17;
	static const char hex[] = "0123456789abcdef";
	for (int i = 0; i < 16; i++)
		out[i] = hex[(state >> (i * 4)) & 15];
	out[16] = '\0';
}

static struct al_request *request_new(struct MHD_Connection *conn, const char *url, const char *method)
{
	struct al_request *r = calloc(1, sizeof *r);
	if (!r)
		return NULL;
	r->conn = conn;
	r->method = method;
	r->path = url;
	r->start_ns = al_monotonic_ns();
	r->serial = atomic_fetch_add(&srv.serial, 1) + 1;
	r->match.route = -1;
	const char *rid = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "X-Request-Id");
	if (rid && sane_request_id(rid))
		snprintf(r->id, sizeof r->id, "%s", rid);
	else
		new_request_id(r->id);
	return r;
}

static void request_free(struct al_request *r)
{
	al_buf_free(&r->body);
	al_response_reset(&r->resp);
	free(r);
}

static void add_common_headers(struct MHD_Response *mr, const struct al_request *r)
{
	MHD_add_response_header(mr, "X-Request-Id", r->id);
	MHD_add_response_header(mr, "X-Content-Type-Options", "nosniff");
	if (atomic_load_explicit(&srv.draining, memory_order_relaxed))
		MHD_add_response_header(mr, MHD_HTTP_HEADER_CONNECTION, "close");
}

/* Sends r->resp. Returns the MHD result of queueing. */
static enum MHD_Result send_response(struct MHD_Connection *conn, struct al_request *r)
{
	struct al_response *resp = &r->resp;
	struct MHD_Response *mr;
	if (resp->body_static || resp->len == 0) {
		mr = MHD_create_response_from_buffer(resp->len, resp->body, MHD_RESPMEM_PERSISTENT);
	} else {
		mr = MHD_create_response_from_buffer(resp->len, resp->body, MHD_RESPMEM_MUST_FREE);
		if (mr)
			resp->body = NULL; /* MHD frees it now */
	}
	if (!mr)
		return MHD_NO;
	add_common_headers(mr, r);
	if (resp->content_type)
		MHD_add_response_header(mr, MHD_HTTP_HEADER_CONTENT_TYPE, resp->content_type);
	for (size_t i = 0; i < resp->nheaders; i++)
		MHD_add_response_header(mr, resp->headers[i].name, resp->headers[i].value);
	if (resp->status == 0)
		resp->status = 500;
	enum MHD_Result ret = MHD_queue_response(conn, (unsigned)resp->status, mr);
	MHD_destroy_response(mr);
	r->responded = ret == MHD_YES;
	return ret;
}

static void static_json(struct al_request *r, int status, const char *body, size_t len)
{
	al_response_reset(&r->resp);
	r->resp = (struct al_response){.status = status, .body = (char *)body, .len = len, .body_static = true,
				       .content_type = "application/json"};
}

static bool is_get(const char *method)
{
	return strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
}

static void method_not_allowed(struct al_request *r, const char *allow)
{
	al_response_error(r, 405, "method not allowed");
	al_response_add_header(&r->resp, "Allow", allow);
}

static void handle_readyz(struct al_request *r)
{
	if (atomic_load(&srv.ready)) {
		static_json(r, 200, healthz_body, sizeof healthz_body - 1);
		return;
	}
	struct al_buf b = AL_BUF_INIT;
	pthread_mutex_lock(&srv.ready_lock);
	al_buf_puts(&b, "{\"status\":\"error\",\"reason\":");
	al_json_write_string(&b, srv.ready_reason, strlen(srv.ready_reason));
	pthread_mutex_unlock(&srv.ready_lock);
	al_buf_putc(&b, '}');
	size_t len;
	char *body = al_buf_steal(&b, &len);
	if (body)
		al_response_set_body(&r->resp, 503, "application/json", body, len);
	else
		al_response_error(r, 503, "not ready");
}

static void route(struct al_request *r)
{
	const char *p = r->path;
	if (strcmp(p, "/healthz") == 0) {
		if (is_get(r->method))
			static_json(r, 200, healthz_body, sizeof healthz_body - 1);
		else
			method_not_allowed(r, "GET, HEAD");
	} else if (strcmp(p, "/readyz") == 0) {
		if (is_get(r->method))
			handle_readyz(r);
		else
			method_not_allowed(r, "GET, HEAD");
	} else if (strncmp(p, "/api", 4) == 0 && (p[4] == '/' || p[4] == '\0')) {
		al_lua_handle(r);
	} else {
		al_static_serve(r);
	}
}

static int64_t content_length(struct MHD_Connection *conn)
{
	const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
	if (!cl)
		return -1;
	char *end;
	errno = 0;
	long long v = strtoll(cl, &end, 10);
	return (errno || end == cl || *end || v < 0) ? -1 : v;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
				  const char *version, const char *upload_data, size_t *upload_data_size, void **con_cls)
{
	struct al_request *r = *con_cls;
	if (!r) {
		if (!(r = request_new(conn, url, method)))
			return MHD_NO;
		*con_cls = r;
		atomic_fetch_add(&srv.inflight, 1);
		MHD_set_connection_option(conn, MHD_CONNECTION_OPTION_TIMEOUT, srv.idle_timeout_s);
		if (content_length(conn) > srv.max_body) {
			r->body_too_large = true;
			al_response_error(r, 413, "request body too large");
			return send_response(conn, r);
		}
		return MHD_YES;
	}
	if (r->responded) {
		*upload_data_size = 0; /* an early answer (413) is queued: discard the rest */
		return MHD_YES;
	}
	if (*upload_data_size) {
		size_t n = *upload_data_size;
		*upload_data_size = 0;
		if (r->body_too_large)
			return MHD_YES; /* discard the rest; answered at the end */
		if (r->body.len + n > (size_t)srv.max_body) {
			/* Answer at once when MHD allows it, else once the upload ends. */
			r->body_too_large = true;
			al_buf_free(&r->body);
			al_response_error(r, 413, "request body too large");
			send_response(conn, r);
			return MHD_YES;
		}
		if (!al_buf_append(&r->body, upload_data, n))
			return MHD_NO;
		return MHD_YES;
	}
	if (r->body_too_large) {
		al_response_error(r, 413, "request body too large");
		return send_response(conn, r);
	}
	if (r->pending) {
		r->suspended = false; /* resumed: the handler continues where it waited */
		al_lua_continue(r);
	} else {
		route(r);
	}
	if (r->suspended)
		return MHD_YES; /* answered when the slow work is done */
	return send_response(conn, r);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls, enum MHD_RequestTerminationCode toe)
{
	struct al_request *r = *con_cls;
	if (!r)
		return;
	*con_cls = NULL;
	if (al_log_enabled(AL_LOG_INFO)) {
		char peer[64];
		al_request_peer(r, peer, sizeof peer);
		double ms = (double)(al_monotonic_ns() - r->start_ns) / 1e6;
		struct al_log_field f[] = {
			AL_LSTR("request_id", r->id), AL_LSTR("method", r->method), AL_LSTR("path", r->path),
			AL_LINT("status", r->responded ? r->resp.status : 0), AL_LDBL("duration_ms", ms),
			AL_LSTR("remote", peer),
		};
		size_t n = sizeof f / sizeof f[0];
		if (toe != MHD_REQUEST_TERMINATED_COMPLETED_OK)
			al_log_fields(AL_LOG_INFO, "request aborted", f, n);
		else
			al_log_fields(AL_LOG_INFO, "request", f, n);
	}
	al_lua_abandon(r);
	request_free(r);
	atomic_fetch_sub(&srv.inflight, 1);
}

/* ---- daemon ---------------------------------------------------------------------------------- */

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	char msg[512];
	vsnprintf(msg, sizeof msg, fmt, ap);
	size_t n = strlen(msg);
	while (n && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
		msg[--n] = '\0';
	struct al_log_field f[] = {AL_LSTR("component", "http")};
	al_log_fields(AL_LOG_WARN, msg, f, 1);
}

struct al_server *al_server_start(const struct al_config *cfg, char *err, size_t errlen)
{
	struct al_server *s = calloc(1, sizeof *s);
	if (!s) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	srv.max_body = cfg->http_max_body;
	srv.idle_timeout_s = (unsigned)((cfg->http_idle_timeout_ms + 999) / 1000);
	atomic_store(&srv.draining, false);

	struct sockaddr_in6 a6 = {0};
	struct sockaddr_in a4 = {0};
	const struct sockaddr *addr;
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ITC |
			 MHD_USE_TURBO | MHD_USE_ERROR_LOG;
	if (inet_pton(AF_INET, cfg->bind, &a4.sin_addr) == 1) {
		a4.sin_family = AF_INET;
		a4.sin_port = htons((uint16_t)cfg->port);
		addr = (const struct sockaddr *)&a4;
	} else if (inet_pton(AF_INET6, cfg->bind, &a6.sin6_addr) == 1) {
		a6.sin6_family = AF_INET6;
		a6.sin6_port = htons((uint16_t)cfg->port);
		addr = (const struct sockaddr *)&a6;
		flags |= MHD_USE_IPv6;
	} else {
		snprintf(err, errlen, "bind: invalid address \"%s\" (expected an IPv4 or IPv6 literal)", cfg->bind);
		free(s);
		return NULL;
	}
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	unsigned workers = cfg->http_workers > 0 ? (unsigned)cfg->http_workers : (unsigned)(ncpu > 0 ? ncpu : 1);
	unsigned header_timeout = (unsigned)((cfg->http_header_timeout_ms + 999) / 1000);

	s->daemon = MHD_start_daemon(flags, (uint16_t)cfg->port, NULL, NULL, on_request, NULL,
				     MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
				     MHD_OPTION_SOCK_ADDR, addr,
				     MHD_OPTION_THREAD_POOL_SIZE, workers,
				     MHD_OPTION_CONNECTION_LIMIT, (unsigned)cfg->http_max_connections,
				     MHD_OPTION_CONNECTION_TIMEOUT, header_timeout,
				     MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL,
				     MHD_OPTION_LISTEN_BACKLOG_SIZE, 1024u,
				     MHD_OPTION_END);
	if (!s->daemon) {
		snprintf(err, errlen, "cannot listen on %s:%lld: %s", cfg->bind, (long long)cfg->port,
			 errno ? strerror(errno) : "libmicrohttpd refused the configuration");
		free(s);
		return NULL;
	}
	const union MHD_DaemonInfo *info = MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_BIND_PORT);
	s->port = info ? info->port : (uint16_t)cfg->port;
	return s;
}

uint16_t al_server_port(const struct al_server *s)
{
	return s->port;
}

void al_server_set_ready(bool ready, const char *reason)
{
	pthread_mutex_lock(&srv.ready_lock);
	snprintf(srv.ready_reason, sizeof srv.ready_reason, "%s", reason ? reason : "");
	pthread_mutex_unlock(&srv.ready_lock);
	atomic_store(&srv.ready, ready);
}

void al_server_stop(struct al_server *s, int64_t timeout_ms)
{
	if (!s)
		return;
	atomic_store(&srv.draining, true);
	al_server_set_ready(false, "shutting down");
	MHD_socket lfd = MHD_quiesce_daemon(s->daemon);
	if (lfd != MHD_INVALID_SOCKET)
		close(lfd);
	int64_t deadline = al_monotonic_ns() + timeout_ms * 1000000;
	long left;
	while ((left = atomic_load(&srv.inflight)) > 0 && al_monotonic_ns() < deadline)
		usleep(5000);
	if (left > 0)
		al_warn("shutdown: %ld requests still in flight after %lld ms, closing them", left, (long long)timeout_ms);
	MHD_stop_daemon(s->daemon);
	free(s);
}
