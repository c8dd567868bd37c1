/* SPDX-License-Identifier: Apache-2.0 */
/* agentlens.httpc: outgoing HTTP(S) with hard limits and the SSRF guard (src/httpc/). Inside a
 * request handler the fetch runs on the work pool while the connection is suspended. */
#include <lauxlib.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/config.h"
#include "httpc/httpc.h"
#include "lua/api.h"
#include "lua/async.h"
#include "lua/generation.h"

#define ARRAY_MT "agentlens.json.array" /* result lists encode as [] even when empty */

#define MAX_TIMEOUT_MS 300000
#define MAX_BYTES_LIMIT (256 * 1024 * 1024)
#define MAX_REDIRECTS_LIMIT 10
#define MAX_HEADERS 100
#define MAX_BATCH 10000
#define MAX_CONCURRENCY 256
#define DEFAULT_CONCURRENCY 8

/* ---- arguments: checked completely (may raise) before anything is allocated ---------------- */

static const char *const request_keys[] = {"url",	      "method",	    "headers",	 "body",
					   "timeout_ms", "connect_timeout_ms", "max_bytes", "max_redirects",
					   "ssrf_guard", "json_only",	      "tls",	   NULL};
/* httpc.stream takes these too */
static const char *const stream_keys[] = {"idle_timeout_ms", "on_data", NULL};
static const char *const tls_keys[] = {"ca_file", "cert_file", "key_file", "insecure_skip_verify", NULL};

#define MAX_STREAM_MS (7LL * 24 * 3600 * 1000)
#define MAX_STREAM_BYTES (1LL << 50)

/* Raises "<fn>: [item N: ]<message>". */
__attribute__((noreturn)) static void misuse(lua_State *L, const char *fn, int item, const char *msg,
					    const char *arg)
{
	if (item > 0)
		luaL_error(L, "%s: item %d: %s%s", fn, item, msg, arg ? arg : "");
	else
		luaL_error(L, "%s: %s%s", fn, msg, arg ? arg : "");
	abort(); /* luaL_error does not return */
}

static void check_int_field(lua_State *L, int t, const char *key, lua_Number lo, lua_Number hi, const char *fn,
			    int item)
{
	lua_getfield(L, t, key);
	if (!lua_isnil(L, -1)) {
		lua_Number v = lua_tonumber(L, -1);
		if (lua_type(L, -1) != LUA_TNUMBER || v != (lua_Number)(int64_t)v || v < lo || v > hi) {
			char msg[128];
			snprintf(msg, sizeof msg, "%s must be an integer from %.0f to %.0f", key, lo, hi);
			misuse(L, fn, item, msg, NULL);
		}
	}
	lua_pop(L, 1);
}

static bool valid_token(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
		      strchr("!#$%&'*+-.^_`|~", *s)))
			return false;
	return true;
}

static bool is_key(const char *const *keys, const char *key)
{
	for (const char *const *k = keys; key && *k; k++)
		if (strcmp(*k, key) == 0)
			return true;
	return false;
}

/* The optional tls = {ca_file=, cert_file=, key_file=, insecure_skip_verify=} at t. */
static void check_tls(lua_State *L, int t, const char *fn, int item)
{
	lua_getfield(L, t, "tls");
	int tls = lua_gettop(L);
	if (!lua_isnil(L, tls)) {
		if (!lua_istable(L, tls))
			misuse(L, fn, item, "tls must be a table", NULL);
		lua_pushnil(L);
		while (lua_next(L, tls)) {
			const char *k = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : NULL;
			if (!k || !is_key(tls_keys, k))
				misuse(L, fn, item, "unknown tls field ", k ? k : "(not a string)");
			bool insecure = strcmp(k, "insecure_skip_verify") == 0;
			if (insecure ? !lua_isboolean(L, -1) : (lua_type(L, -1) != LUA_TSTRING || !lua_objlen(L, -1)))
				misuse(L, fn, item, k, insecure ? " must be a boolean" : " must be a non-empty file name");
			lua_pop(L, 1);
		}
		lua_getfield(L, tls, "key_file");
		lua_getfield(L, tls, "cert_file");
		if (!lua_isnil(L, -2) && lua_isnil(L, -1))
			misuse(L, fn, item, "tls.key_file needs tls.cert_file", NULL);
		lua_pop(L, 2);
	}
	lua_pop(L, 1);
}

/* Validates the request table at t (absolute index); a stream's when stream. Raises on misuse. */
static void check_request_kind(lua_State *L, int t, const char *fn, int item, bool stream)
{
	if (!lua_istable(L, t))
		misuse(L, fn, item, "expected a request table", NULL);
	lua_pushnil(L);
	while (lua_next(L, t)) {
		const char *key = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : NULL;
		bool known = is_key(request_keys, key) || (stream && is_key(stream_keys, key));
		if (!known)
			misuse(L, fn, item, "unknown field ",
			       lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : "(not a string)");
		lua_pop(L, 1);
	}
	lua_getfield(L, t, "url");
	if (lua_type(L, -1) != LUA_TSTRING)
		misuse(L, fn, item, "url must be a string", NULL);
	lua_getfield(L, t, "method");
	const char *m = lua_isnil(L, -1) ? "GET" : lua_tostring(L, -1);
	if (lua_type(L, -1) != LUA_TSTRING && !lua_isnil(L, -1))
		m = NULL;
	if (!m || (strcmp(m, "GET") != 0 && strcmp(m, "HEAD") != 0 && strcmp(m, "POST") != 0))
		misuse(L, fn, item, "method must be \"GET\", \"HEAD\" or \"POST\"", NULL);
	lua_getfield(L, t, "body");
	if (!lua_isnil(L, -1) && (lua_type(L, -1) != LUA_TSTRING || strcmp(m, "POST") != 0))
		misuse(L, fn, item, "body must be a string, and only with method \"POST\"", NULL);
	lua_getfield(L, t, "headers");
	if (!lua_isnil(L, -1)) {
		if (!lua_istable(L, -1))
			misuse(L, fn, item, "headers must be a table of name = value strings", NULL);
		int n = 0, h = lua_gettop(L);
		lua_pushnil(L);
		while (lua_next(L, h)) {
			if (lua_type(L, -2) != LUA_TSTRING || lua_type(L, -1) != LUA_TSTRING)
				misuse(L, fn, item, "headers must be a table of name = value strings", NULL);
			size_t vlen;
			const char *v = lua_tolstring(L, -1, &vlen);
			if (!valid_token(lua_tostring(L, -2)))
				misuse(L, fn, item, "invalid header name ", lua_tostring(L, -2));
			/* framing is curl's: a second length would desynchronise the exchange */
			if (strcasecmp(lua_tostring(L, -2), "Content-Length") == 0 ||
			    strcasecmp(lua_tostring(L, -2), "Transfer-Encoding") == 0)
				misuse(L, fn, item, "header set by the client itself: ", lua_tostring(L, -2));
			if (strlen(v) != vlen || strpbrk(v, "\r\n"))
				misuse(L, fn, item, "header value contains a line break or NUL: ", lua_tostring(L, -2));
			if (++n > MAX_HEADERS)
				misuse(L, fn, item, "too many headers", NULL);
			lua_pop(L, 1);
		}
	}
	lua_pop(L, 4);
	if (stream) {
		check_int_field(L, t, "timeout_ms", 0, (lua_Number)MAX_STREAM_MS, fn, item);
		check_int_field(L, t, "idle_timeout_ms", 1, (lua_Number)MAX_STREAM_MS, fn, item);
		check_int_field(L, t, "max_bytes", 1, (lua_Number)MAX_STREAM_BYTES, fn, item);
		lua_getfield(L, t, "on_data");
		if (!lua_isfunction(L, -1))
			misuse(L, fn, item, "on_data must be a function", NULL);
		lua_pop(L, 1);
	} else {
		check_int_field(L, t, "timeout_ms", 1, MAX_TIMEOUT_MS, fn, item);
		check_int_field(L, t, "max_bytes", 1, MAX_BYTES_LIMIT, fn, item);
	}
	check_int_field(L, t, "connect_timeout_ms", 1, MAX_TIMEOUT_MS, fn, item);
	check_int_field(L, t, "max_redirects", 0, MAX_REDIRECTS_LIMIT, fn, item);
	static const char *const bools[] = {"ssrf_guard", "json_only"};
	for (size_t i = 0; i < 2; i++) {
		lua_getfield(L, t, bools[i]);
		if (!lua_isnil(L, -1) && !lua_isboolean(L, -1))
			misuse(L, fn, item, bools[i], " must be a boolean");
		lua_pop(L, 1);
	}
	check_tls(L, t, fn, item);
}

static void check_request(lua_State *L, int t, const char *fn, int item)
{
	check_request_kind(L, t, fn, item, false);
}

/* ---- the job: owned copies of everything the fetch reads ----------------------------------- */

struct job {
	size_t n, concurrency;
	bool many;
	struct al_httpc_request *reqs;
	struct al_httpc_response *resps;
	char **strings; /* every copied string, freed with the job */
	size_t nstrings, capstrings;
};

static void job_free(void *arg)
{
	struct job *j = arg;
	if (!j)
		return;
	for (size_t i = 0; j->resps && i < j->n; i++)
		al_httpc_response_free(&j->resps[i]);
	for (size_t i = 0; i < j->nstrings; i++)
		free(j->strings[i]);
	for (size_t i = 0; j->reqs && i < j->n; i++)
		free((void *)j->reqs[i].headers);
	free(j->strings);
	free(j->reqs);
	free(j->resps);
	free(j);
}

static char *keep(struct job *j, const char *s, size_t len)
{
	if (j->nstrings == j->capstrings) {
		size_t cap = j->capstrings ? j->capstrings * 2 : 16;
		char **p = realloc(j->strings, cap * sizeof *p);
		if (!p)
			return NULL;
		j->strings = p;
		j->capstrings = cap;
	}
	char *c = malloc(len + 1);
	if (!c)
		return NULL;
	memcpy(c, s, len);
	c[len] = '\0';
	return j->strings[j->nstrings++] = c;
}

static int64_t opt_int(lua_State *L, int t, const char *key, int64_t def)
{
	lua_getfield(L, t, key);
	int64_t v = lua_isnil(L, -1) ? def : (int64_t)lua_tonumber(L, -1);
	lua_pop(L, 1);
	return v;
}

static bool opt_bool(lua_State *L, int t, const char *key, bool def)
{
	lua_getfield(L, t, key);
	bool v = lua_isnil(L, -1) ? def : lua_toboolean(L, -1);
	lua_pop(L, 1);
	return v;
}

/* Copies the (checked) request table at t into r. Never raises; false on out of memory. */
static bool copy_request(lua_State *L, int t, struct job *j, struct al_httpc_request *r)
{
	size_t len;
	lua_getfield(L, t, "url");
	const char *s = lua_tolstring(L, -1, &len);
	r->url = keep(j, s, len);
	lua_getfield(L, t, "method");
	r->method = lua_isnil(L, -1) ? "GET" : keep(j, lua_tostring(L, -1), lua_objlen(L, -1));
	lua_getfield(L, t, "body");
	if (lua_isstring(L, -1)) {
		s = lua_tolstring(L, -1, &len);
		r->body = keep(j, s, len);
		r->body_len = len;
	}
	lua_pop(L, 3);
	if (!r->url || !r->method || (r->body_len && !r->body))
		return false;
	lua_getfield(L, t, "headers");
	if (lua_istable(L, -1)) {
		size_t n = 0;
		lua_pushnil(L);
		while (lua_next(L, -2)) {
			n++;
			lua_pop(L, 1);
		}
		const char **lines = calloc(n ? n : 1, sizeof *lines);
		r->headers = lines;
		lua_pushnil(L);
		while (lines && lua_next(L, -2)) {
			size_t nlen, vlen;
			const char *name = lua_tolstring(L, -2, &nlen), *value = lua_tolstring(L, -1, &vlen);
			char *line = malloc(nlen + vlen + 3);
			if (line) {
				memcpy(line, name, nlen);
				memcpy(line + nlen, ": ", 2);
				memcpy(line + nlen + 2, value, vlen + 1);
				/* "Name:" would make curl drop the header; "Name;" sends it empty */
				if (vlen == 0)
					line[nlen] = ';', line[nlen + 1] = '\0';
			}
			const char *kept = line ? keep(j, line, strlen(line)) : NULL;
			free(line);
			lua_pop(L, 1);
			if (!kept) {
				lua_pop(L, 2);
				return false;
			}
			lines[r->nheaders++] = kept;
		}
		if (!lines) {
			lua_pop(L, 1);
			return false;
		}
	}
	lua_pop(L, 1);
	r->timeout_ms = opt_int(L, t, "timeout_ms", AL_HTTPC_DEFAULT_TIMEOUT_MS);
	r->connect_timeout_ms = opt_int(L, t, "connect_timeout_ms", AL_HTTPC_DEFAULT_CONNECT_TIMEOUT_MS);
	r->max_bytes = (size_t)opt_int(L, t, "max_bytes", AL_HTTPC_DEFAULT_MAX_BYTES);
	r->max_redirects = (int)opt_int(L, t, "max_redirects", AL_HTTPC_DEFAULT_MAX_REDIRECTS);
	r->ssrf_guard = opt_bool(L, t, "ssrf_guard", true);
	r->json_only = opt_bool(L, t, "json_only", false);
	r->allow = al_httpc_allowed_networks();
	lua_getfield(L, t, "tls");
	if (lua_istable(L, -1)) {
		static const char *const files[] = {"ca_file", "cert_file", "key_file"};
		const char **dst[] = {&r->ca_file, &r->cert_file, &r->key_file};
		for (size_t i = 0; i < 3; i++) {
			lua_getfield(L, -1, files[i]);
			if (lua_isstring(L, -1)) {
				s = lua_tolstring(L, -1, &len);
				if (!(*dst[i] = keep(j, s, len))) {
					lua_pop(L, 2);
					return false;
				}
			}
			lua_pop(L, 1);
		}
		r->insecure_tls = opt_bool(L, lua_gettop(L), "insecure_skip_verify", false);
	}
	lua_pop(L, 1);
	return true;
}

/* Makes sure the allow list from the configuration is loaded (`agentlens run` has no start-up). */
static void ensure_init(lua_State *L)
{
	char err[256];
	const char *nets = al_lua_config && al_lua_config->import_allowed_networks
				   ? al_lua_config->import_allowed_networks
				   : "";
	if (!al_httpc_ensure_init(nets, err, sizeof err))
		luaL_error(L, "import.allowed_networks: %s", err);
}

/* Builds a job for the n request tables: the table at idx itself (n = 1, !many) or its items. */
static struct job *job_new(lua_State *L, int idx, size_t n, bool many, size_t concurrency)
{
	struct job *j = calloc(1, sizeof *j);
	bool ok = j && (j->reqs = calloc(n ? n : 1, sizeof *j->reqs)) && (j->resps = calloc(n ? n : 1, sizeof *j->resps));
	if (j) {
		j->n = n;
		j->many = many;
		j->concurrency = concurrency;
	}
	for (size_t i = 0; ok && i < n; i++) {
		if (many)
			lua_rawgeti(L, idx, (int)i + 1);
		else
			lua_pushvalue(L, idx);
		ok = copy_request(L, lua_gettop(L), j, &j->reqs[i]);
		lua_pop(L, 1);
	}
	if (!ok) {
		job_free(j);
		luaL_error(L, "out of memory");
		return NULL;
	}
	return j;
}

static void job_work(void *arg)
{
	struct job *j = arg;
	if (j->many)
		al_httpc_fetch_many(j->reqs, j->n, j->resps, j->concurrency);
	else
		al_httpc_fetch(&j->reqs[0], &j->resps[0]);
}

/* ---- results ------------------------------------------------------------------------------- */

/* Stack: +1, {status, headers, body, url, duration_ms, redirects}. Repeated headers are joined
 * with ", " (RFC 9110 list syntax). */
static void push_response(lua_State *L, const struct al_httpc_response *r)
{
	lua_createtable(L, 0, 6);
	lua_pushinteger(L, (lua_Integer)r->status);
	lua_setfield(L, -2, "status");
	lua_createtable(L, 0, (int)r->nheaders);
	for (size_t i = 0; i < r->nheaders; i++) {
		lua_getfield(L, -1, r->headers[i].name);
		if (lua_isstring(L, -1)) {
			lua_pushliteral(L, ", ");
			lua_pushstring(L, r->headers[i].value);
			lua_concat(L, 3);
		} else {
			lua_pop(L, 1);
			lua_pushstring(L, r->headers[i].value);
		}
		lua_setfield(L, -2, r->headers[i].name);
	}
	lua_setfield(L, -2, "headers");
	lua_pushlstring(L, r->body, r->body_len);
	lua_setfield(L, -2, "body");
	lua_pushstring(L, r->url);
	lua_setfield(L, -2, "url");
	lua_pushnumber(L, r->duration_ms);
	lua_setfield(L, -2, "duration_ms");
	lua_pushinteger(L, r->redirects);
	lua_setfield(L, -2, "redirects");
}

/* request: response | nil, message, code */
static int push_one(lua_State *L, void *arg)
{
	const struct al_httpc_response *r = &((struct job *)arg)->resps[0];
	if (r->code == AL_HTTPC_OK) {
		push_response(L, r);
		return 1;
	}
	lua_pushnil(L);
	lua_pushstring(L, r->error);
	lua_pushstring(L, al_httpc_code_name(r->code));
	return 3;
}

/* request_many: list of response | {error = message, code = code}, in the order of the requests */
static int push_many(lua_State *L, void *arg)
{
	const struct job *j = arg;
	lua_createtable(L, (int)j->n, 0);
	luaL_getmetatable(L, ARRAY_MT);
	lua_setmetatable(L, -2);
	for (size_t i = 0; i < j->n; i++) {
		const struct al_httpc_response *r = &j->resps[i];
		if (r->code == AL_HTTPC_OK) {
			push_response(L, r);
		} else {
			lua_createtable(L, 0, 2);
			lua_pushstring(L, r->error);
			lua_setfield(L, -2, "error");
			lua_pushstring(L, al_httpc_code_name(r->code));
			lua_setfield(L, -2, "code");
		}
		lua_rawseti(L, -2, (int)i + 1);
	}
	return 1;
}

/* Runs the job now, or on the work pool while the request waits when called from a handler. */
static int run_job(lua_State *L, struct job *j, int (*push)(lua_State *, void *))
{
	if (al_async_available(L))
		return al_async_yield(L, job_work, push, job_free, j);
	job_work(j);
	int n = push(L, j);
	job_free(j);
	return n;
}

/* httpc.request{url=, method=, headers=, body=, timeout_ms=, connect_timeout_ms=, max_bytes=,
 * max_redirects=, ssrf_guard=true, json_only=false}
 *   -> {status, headers, body, url, duration_ms, redirects} | nil, message, code */
static int l_request(lua_State *L)
{
	check_request(L, 1, "httpc.request", 0);
	ensure_init(L);
	lua_settop(L, 1);
	return run_job(L, job_new(L, 1, 1, false, 1), push_one);
}

/* httpc.request_many(requests, {concurrency = 8}) -> list of response | {error=, code=} */
static int l_request_many(lua_State *L)
{
	static const char fn[] = "httpc.request_many";
	luaL_checktype(L, 1, LUA_TTABLE);
	size_t n = lua_objlen(L, 1);
	if (n > MAX_BATCH)
		return luaL_error(L, "%s: at most %d requests per batch", fn, MAX_BATCH);
	for (size_t i = 1; i <= n; i++) {
		lua_rawgeti(L, 1, (int)i);
		check_request(L, lua_gettop(L), fn, (int)i);
		lua_pop(L, 1);
	}
	lua_Integer concurrency = DEFAULT_CONCURRENCY;
	if (!lua_isnoneornil(L, 2)) {
		luaL_checktype(L, 2, LUA_TTABLE);
		lua_getfield(L, 2, "concurrency");
		if (!lua_isnil(L, -1)) {
			lua_Number c = lua_tonumber(L, -1);
			if (lua_type(L, -1) != LUA_TNUMBER || c != (lua_Number)(lua_Integer)c || c < 1 ||
			    c > MAX_CONCURRENCY)
				return luaL_error(L, "%s: concurrency must be an integer from 1 to %d", fn,
						  MAX_CONCURRENCY);
			concurrency = (lua_Integer)c;
		}
		lua_pop(L, 1);
	}
	ensure_init(L);
	lua_settop(L, 1);
	return run_job(L, job_new(L, 1, n, true, (size_t)concurrency), push_many);
}

/* ---- streams ------------------------------------------------------------------------------ */

struct stream_call {
	lua_State *L;
	int on_data; /* stack index of the callback */
};

/* Calls on_data(chunk): false ends the stream cleanly, an error ends it with "callback". */
static enum al_httpc_chunk_result call_on_data(void *ud, const char *data, size_t len, char *err, size_t errlen)
{
	struct stream_call *c = ud;
	lua_State *L = c->L;
	lua_pushvalue(L, c->on_data);
	lua_pushlstring(L, data, len);
	if (lua_pcall(L, 1, 1, 0) != 0) {
		const char *msg = lua_tostring(L, -1);
		snprintf(err, errlen, "on_data: %s", msg ? msg : "(error object is not a string)");
		lua_pop(L, 1);
		return AL_HTTPC_CHUNK_ERROR;
	}
	bool done = lua_isboolean(L, -1) && !lua_toboolean(L, -1);
	lua_pop(L, 1);
	return done ? AL_HTTPC_CHUNK_DONE : AL_HTTPC_CHUNK_MORE;
}

/* httpc.stream{url=, method=, headers=, body=, connect_timeout_ms=, idle_timeout_ms=,
 * timeout_ms= (0/absent: none), max_bytes= (whole stream; absent: none), max_redirects=,
 * ssrf_guard=true, json_only=false, tls=, on_data=function(chunk)}
 *   -> {status, headers, url, duration_ms, redirects} | nil, message, code
 * Runs on the calling thread; not inside a request handler. Ends with "stopped" when the
 * thread's job is asked to stop. */
static int l_stream(lua_State *L)
{
	static const char fn[] = "httpc.stream";
	if (al_async_available(L))
		return luaL_error(L, "%s: not allowed inside a request handler (use it in a background job)", fn);
	check_request_kind(L, 1, fn, 0, true);
	ensure_init(L);
	lua_settop(L, 1);
	struct job *j = job_new(L, 1, 1, false, 1);
	struct al_httpc_request *r = &j->reqs[0];
	r->timeout_ms = opt_int(L, 1, "timeout_ms", 0);
	r->max_bytes = (size_t)opt_int(L, 1, "max_bytes", 0);
	r->idle_timeout_ms = opt_int(L, 1, "idle_timeout_ms", 0);
	lua_getfield(L, 1, "on_data"); /* index 2, kept for the whole stream */
	struct stream_call call = {L, 2};
	al_httpc_stream(r, &j->resps[0], call_on_data, &call);
	lua_settop(L, 1);
	const struct al_httpc_response *resp = &j->resps[0];
	int n;
	if (resp->code == AL_HTTPC_OK) {
		push_response(L, resp);
		lua_pushnil(L);
		lua_setfield(L, -2, "body"); /* the body went to on_data */
		n = 1;
	} else {
		lua_pushnil(L);
		lua_pushstring(L, resp->error);
		lua_pushstring(L, al_httpc_code_name(resp->code));
		n = 3;
	}
	job_free(j);
	return n;
}

int al_open_httpc(lua_State *L)
{
	static const luaL_Reg fns[] = {
		{"request", l_request},
		{"request_many", l_request_many},
		{"stream", l_stream},
		{NULL, NULL},
	};
	lua_newtable(L);
	luaL_register(L, NULL, fns);
	return 1;
}
