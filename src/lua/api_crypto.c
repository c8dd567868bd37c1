/* SPDX-License-Identifier: Apache-2.0 */
/* agentlens.crypto: random bytes, hex tokens, UUIDs (hashing and JWT come with accounts). */
#include <lauxlib.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/clock.h"
#include "crypto/jwt.h"
#include "crypto/keys.h"
#include "crypto/password.h"
#include "crypto/random.h"
#include "lua/api.h"
#include "lua/api_json.h"
#include "lua/async.h"

#define BCRYPT_COST 12
#define JWT_ISSUER "agentlens"

#define MAX_RANDOM (1 << 20)

/* crypto.random(n) -> n random bytes (string) */
static int l_random(lua_State *L)
{
	lua_Integer n = luaL_checkinteger(L, 1);
	luaL_argcheck(L, n >= 0 && n <= MAX_RANDOM, 1, "expected 0 to 1048576 bytes");
	char *buf = malloc((size_t)n + 1);
	if (!buf)
		return luaL_error(L, "out of memory");
	bool ok = al_random_bytes(buf, (size_t)n);
	if (ok)
		lua_pushlstring(L, buf, (size_t)n);
	free(buf);
	if (!ok) {
		lua_pushnil(L);
		lua_pushliteral(L, "the kernel random source failed");
		return 2;
	}
	return 1;
}

/* crypto.random_hex(n) -> 2n hex digits of n random bytes */
static int l_random_hex(lua_State *L)
{
	lua_Integer n = luaL_checkinteger(L, 1);
	luaL_argcheck(L, n > 0 && n <= 1024, 1, "expected 1 to 1024 bytes");
	char out[2049];
	if (!al_random_hex(out, (size_t)n)) {
		lua_pushnil(L);
		lua_pushliteral(L, "the kernel random source failed");
		return 2;
	}
	lua_pushlstring(L, out, (size_t)n * 2);
	return 1;
}

/* crypto.uuid() -> random (version 4) UUID */
static int l_uuid(lua_State *L)
{
	char out[37];
	if (!al_uuid4(out)) {
		lua_pushnil(L);
		lua_pushliteral(L, "the kernel random source failed");
		return 2;
	}
	lua_pushlstring(L, out, 36);
	return 1;
}

/* ---- passwords: bcrypt on the work pool while the request waits ------------------------- */

struct pw_job {
	char *password;
	size_t len;
	char hash[128];
	char err[256];
	bool ok;
};

static void pw_job_free(void *arg)
{
	struct pw_job *j = arg;
	if (j->password) {
		explicit_bzero(j->password, j->len);
		free(j->password);
	}
	free(j);
}

static struct pw_job *pw_job_new(lua_State *L, int idx)
{
	size_t len;
	const char *pw = luaL_checklstring(L, idx, &len);
	struct pw_job *j = calloc(1, sizeof *j);
	if (!j || !(j->password = malloc(len + 1))) {
		free(j);
		luaL_error(L, "out of memory");
		abort(); /* not reached: luaL_error does not return (LuaJIT's lauxlib.h does not say so) */
	}
	memcpy(j->password, pw, len);
	j->password[len] = '\0';
	j->len = len;
	return j;
}

static void hash_work(void *arg)
{
	struct pw_job *j = arg;
	j->ok = al_password_hash(j->password, j->len, BCRYPT_COST, j->hash, j->err, sizeof j->err);
}

static int hash_push(lua_State *L, void *arg)
{
	struct pw_job *j = arg;
	if (!j->ok) {
		lua_pushnil(L);
		lua_pushstring(L, j->err);
		return 2;
	}
	lua_pushstring(L, j->hash);
	return 1;
}

static void verify_work(void *arg)
{
	struct pw_job *j = arg;
	if (j->hash[0]) {
		j->ok = al_password_verify(j->password, j->len, j->hash);
	} else {
		al_password_verify(j->password, j->len, al_password_dummy_hash); /* same time, never true */
		j->ok = false;
	}
}

static int verify_push(lua_State *L, void *arg)
{
	lua_pushboolean(L, ((struct pw_job *)arg)->ok);
	return 1;
}

/* Runs job now, or on the work pool while the request waits when called from a handler. */
static int run_pw_job(lua_State *L, struct pw_job *j, void (*work)(void *), int (*push)(lua_State *, void *))
{
	if (al_async_available(L))
		return al_async_yield(L, work, push, pw_job_free, j);
	work(j);
	int n = push(L, j);
	pw_job_free(j);
	return n;
}

/* crypto.password_hash(password) -> bcrypt hash (cost 12) | nil, message */
static int l_password_hash(lua_State *L)
{
	struct pw_job *j = pw_job_new(L, 1);
	return run_pw_job(L, j, hash_work, hash_push);
}

/* crypto.password_verify(password, hash | nil) -> boolean. With a nil hash (unknown user) it
 * spends the same time against a dummy hash and returns false. */
static int l_password_verify(lua_State *L)
{
	size_t hlen = 0;
	const char *hash = luaL_optlstring(L, 2, "", &hlen);
	if (hlen >= 128)
		hash = "", hlen = 0;
	struct pw_job *j = pw_job_new(L, 1);
	memcpy(j->hash, hash, hlen);
	j->hash[hlen] = '\0';
	return run_pw_job(L, j, verify_work, verify_push);
}

/* ---- tokens ------------------------------------------------------------------------------- */

/* crypto.jwt_sign(claims) -> token | nil, message. HS256 with the process key; iss is set. */
static int l_jwt_sign(lua_State *L)
{
	luaL_checktype(L, 1, LUA_TTABLE);
	size_t keylen;
	const unsigned char *key = al_jwt_key(&keylen);
	if (!key)
		return luaL_error(L, "crypto.jwt_sign: no signing key (start-up not finished)");
	lua_pushstring(L, JWT_ISSUER);
	lua_setfield(L, 1, "iss");
	struct al_buf b = AL_BUF_INIT;
	char err[256];
	if (!al_json_encode_value(L, 1, &b, err, sizeof err)) {
		al_buf_free(&b);
		return luaL_error(L, "crypto.jwt_sign: %s", err);
	}
	char *token = al_jwt_sign(b.data, key, keylen, err, sizeof err);
	al_buf_free(&b);
	if (!token) {
		lua_pushnil(L);
		lua_pushstring(L, err);
		return 2;
	}
	lua_pushstring(L, token);
	free(token);
	return 1;
}

/* crypto.jwt_verify(token) -> claims | nil, reason. Checks algorithm (HS256 only), signature,
 * exp, nbf, iat and iss against the process key and clock. */
static int l_jwt_verify(lua_State *L)
{
	const char *token = luaL_checkstring(L, 1);
	size_t keylen;
	const unsigned char *key = al_jwt_key(&keylen);
	if (!key)
		return luaL_error(L, "crypto.jwt_verify: no signing key (start-up not finished)");
	char *claims = NULL, err[256];
	if (!al_jwt_verify(token, key, keylen, JWT_ISSUER, al_now_us() / 1000000, &claims, err, sizeof err)) {
		lua_pushnil(L);
		lua_pushstring(L, err);
		return 2;
	}
	lua_getglobal(L, "require");
	lua_pushliteral(L, "agentlens.json");
	lua_call(L, 1, 1);
	lua_getfield(L, -1, "decode");
	lua_pushstring(L, claims);
	free(claims);
	lua_call(L, 1, 2);
	return 2;
}

int al_open_crypto(lua_State *L)
{
	static const luaL_Reg fns[] = {
		{"random", l_random},
		{"random_hex", l_random_hex},
		{"uuid", l_uuid},
		{"password_hash", l_password_hash},
		{"password_verify", l_password_verify},
		{"jwt_sign", l_jwt_sign},
		{"jwt_verify", l_jwt_verify},
		{NULL, NULL},
	};
	lua_newtable(L);
	luaL_register(L, NULL, fns);
	return 1;
}
