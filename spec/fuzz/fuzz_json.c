/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer target for the JSON layer: parser, string writer, and Lua decode -> encode -> parse round trips. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#include "core/buf.h"
#include "core/json.h"
#include "lua/api_json.h"

#define CHECK(cond)                                                                                  \
	do {                                                                                         \
		if (!(cond)) {                                                                       \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);    \
			abort();                                                                     \
		}                                                                                    \
	} while (0)

static lua_State *fuzz_L;
static int decode_ref;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A malloc-backed Lua heap, so LeakSanitizer sees pointers held in Lua userdata (the module's buffers). */
static void *fuzz_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
	if (nsize == 0) {
		free(ptr);
		return NULL;
	}
	return realloc(ptr, nsize);
}

static void lua_teardown(void)
{
	lua_close(fuzz_L);
}

static void lua_setup(void)
{
	fuzz_L = lua_newstate(fuzz_alloc, NULL);
	atexit(lua_teardown);
	CHECK(fuzz_L);
	luaL_openlibs(fuzz_L);
	lua_pushcfunction(fuzz_L, al_open_json);
	lua_call(fuzz_L, 0, 1);
	lua_getfield(fuzz_L, -1, "decode");
	decode_ref = luaL_ref(fuzz_L, LUA_REGISTRYINDEX);
	lua_pop(fuzz_L, 1);
}

/* Decodes text with json.decode; on success encodes the value with al_json_encode_value into out.
 * Returns whether text was accepted. Stack: unchanged. */
static int lua_round(const char *text, size_t len, struct al_buf *out)
{
	lua_State *L = fuzz_L;
	char err[256];

	lua_rawgeti(L, LUA_REGISTRYINDEX, decode_ref);
	lua_pushlstring(L, text, len);
	CHECK(lua_pcall(L, 1, 2, 0) == 0);
	int accepted = !lua_isnil(L, -2) || lua_isnil(L, -1);
	if (accepted) {
		if (!al_json_encode_value(L, -2, out, err, sizeof err)) {
			fprintf(stderr, "re-encoding a decoded value failed: %s\n", err);
			abort();
		}
	}
	lua_pop(L, 2);
	return accepted;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	struct al_json_error err;
	struct al_buf a = AL_BUF_INIT, b = AL_BUF_INIT;

	if (!fuzz_L)
		lua_setup();

	/* 1. the bare parser, no handlers */
	int rc = al_json_parse(text, size, NULL, NULL, 0, &err);
	CHECK(rc == 0 || rc == -1);
	if (rc)
		CHECK(err.offset <= size && err.line >= 1 && err.column >= 1 && err.message[0]);

	/* 2. any bytes written as a JSON string parse back */
	CHECK(al_json_write_string(&a, text, size));
	CHECK(al_json_parse(a.data, a.len, NULL, NULL, 0, NULL) == 0);
	al_buf_reset(&a);

	/* 3. Lua decode agrees with the parser; encode(decode(x)) parses and is a fixed point */
	int accepted = lua_round(text, size, &a);
	CHECK(accepted == (rc == 0));
	if (accepted) {
		CHECK(al_json_parse(a.data, a.len, NULL, NULL, 0, &err) == 0);
		CHECK(lua_round(a.data, a.len, &b));
		CHECK(a.len == b.len && memcmp(a.data, b.data, a.len) == 0);
	}
	al_buf_free(&a);
	al_buf_free(&b);
	return 0;
}
