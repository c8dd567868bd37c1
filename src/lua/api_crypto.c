/* SPDX-License-Identifier: Apache-2.0 */
/* agentlens.crypto: random bytes, hex tokens, UUIDs (hashing and JWT come with accounts). */
#include <lauxlib.h>
#include <stdlib.h>

#include "crypto/random.h"
#include "lua/api.h"

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

int al_open_crypto(lua_State *L)
{
	static const luaL_Reg fns[] = {
		{"random", l_random}, {"random_hex", l_random_hex}, {"uuid", l_uuid}, {NULL, NULL},
	};
	lua_newtable(L);
	luaL_register(L, NULL, fns);
	return 1;
}
