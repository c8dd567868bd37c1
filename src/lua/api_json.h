/* SPDX-License-Identifier: Apache-2.0 */
/* agentlens.json: the Lua JSON module, and the value encoder other bindings use for handler results. */
#ifndef AL_LUA_API_JSON_H
#define AL_LUA_API_JSON_H

#include <stdbool.h>
#include <stddef.h>

#include <lua.h>

#include "core/buf.h"

/* lua_CFunction for package.preload["agentlens.json"]: pushes the module table.
 * Stack: [-0, +1]. Captures ffi.istype/typeof and tostring once, for exact int64 cdata encoding. */
int al_open_json(lua_State *L);

/* Appends the JSON text of the value at stack index idx to out (caller owns out). Never raises: on failure
 * returns false, writes a message to err (caller's storage, errlen bytes) and leaves out as it was.
 * Stack: unchanged. Same rules as json.encode (sorted keys, array marker, depth 128, no cycles). */
bool al_json_encode_value(lua_State *L, int idx, struct al_buf *out, char *err, size_t errlen);

#endif
