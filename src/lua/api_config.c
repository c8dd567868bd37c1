/* SPDX-License-Identifier: Apache-2.0 */
/* agentlens.config: read-only access to the effective configuration. */
#include <lauxlib.h>
#include <stdint.h>

#include "core/config.h"
#include "lua/api.h"
#include "lua/generation.h"

/* Pushes the typed value of opt: numbers for INT, DURATION (milliseconds) and SIZE (bytes),
 * booleans, and strings for STRING, PATH and ENUM. */
static void push_value(lua_State *L, const struct al_config *cfg, const struct al_option *opt)
{
	const char *base = (const char *)cfg + opt->offset;
	switch (opt->type) {
	case AL_OPT_STRING:
	case AL_OPT_PATH: {
		const char *s = *(char *const *)(const void *)base;
		lua_pushstring(L, s ? s : "");
		break;
	}
	case AL_OPT_INT:
	case AL_OPT_DURATION:
	case AL_OPT_SIZE:
		lua_pushnumber(L, (lua_Number) * (const int64_t *)(const void *)base);
		break;
	case AL_OPT_BOOL:
		lua_pushboolean(L, *(const bool *)(const void *)base);
		break;
	case AL_OPT_ENUM:
		lua_pushstring(L, opt->choices[*(const int *)(const void *)base]);
		break;
	}
}

/* config.get(key) -> value; raises for an unknown key (a typo is a bug, not a runtime state). */
static int l_get(lua_State *L)
{
	const char *key = luaL_checkstring(L, 1);
	const struct al_option *opt = al_config_option(key);
	if (!opt)
		return luaL_error(L, "config.get: unknown key '%s'", key);
	if (!al_lua_config)
		return luaL_error(L, "config.get: no configuration loaded");
	push_value(L, al_lua_config, opt);
	return 1;
}

/* config.keys() -> array of every key */
static int l_keys(lua_State *L)
{
	lua_createtable(L, (int)al_options_count, 0);
	for (size_t i = 0; i < al_options_count; i++) {
		lua_pushstring(L, al_options[i].key);
		lua_rawseti(L, -2, (int)i + 1);
	}
	return 1;
}

/* config.sources() -> a fresh array of {name, type = "a2a"|"mcp", url, team?, tags = {...},
 * headers = {name = value} (with Authorization when auth is set), auth = {type, token_env}?,
 * interval_ms?} for the `sources:` of the YAML file; when the file has changed since, the
 * sources are read from it again (al_config_sources_acquire; an invalid file is logged and the
 * previous sources stay). */
static int l_sources(lua_State *L)
{
	if (!al_lua_config)
		return luaL_error(L, "config.sources: no configuration loaded");
	struct al_config_source_view view;
	char err[512] = "";
	int changed = al_config_sources_acquire(al_lua_config, &view, err, sizeof err);
	if (changed > 0) {
		const struct al_log_field f[] = {AL_LSTR("file", al_lua_config->source_file),
						 AL_LINT("sources", view.n)};
		al_log_fields(AL_LOG_INFO, "configuration file changed: sources read again", f, 2);
	} else if (changed < 0) {
		const struct al_log_field f[] = {AL_LSTR("file", al_lua_config->source_file), AL_LSTR("error", err)};
		al_log_fields(AL_LOG_ERROR, "configuration file changed but is invalid; the previous sources stay", f, 2);
	}
	/* a memory error below raises and keeps the view's reference: a leak, never a deadlock */
	lua_createtable(L, (int)view.n, 0);
	for (size_t i = 0; i < view.n; i++) {
		const struct al_config_source *s = &view.items[i];
		lua_createtable(L, 0, 8);
		lua_pushstring(L, s->name);
		lua_setfield(L, -2, "name");
		lua_pushstring(L, s->type == AL_SOURCE_MCP ? "mcp" : "a2a");
		lua_setfield(L, -2, "type");
		lua_pushstring(L, s->url);
		lua_setfield(L, -2, "url");
		if (s->team) {
			lua_pushstring(L, s->team);
			lua_setfield(L, -2, "team");
		}
		lua_createtable(L, (int)s->ntags, 0);
		for (size_t t = 0; t < s->ntags; t++) {
			lua_pushstring(L, s->tags[t]);
			lua_rawseti(L, -2, (int)t + 1);
		}
		lua_setfield(L, -2, "tags");
		lua_createtable(L, 0, (int)s->nheaders);
		for (size_t h = 0; h < s->nheaders; h++) {
			lua_pushstring(L, s->headers[h].value);
			lua_setfield(L, -2, s->headers[h].name);
		}
		lua_setfield(L, -2, "headers");
		if (s->auth_token_env) {
			lua_createtable(L, 0, 2);
			lua_pushliteral(L, "bearer");
			lua_setfield(L, -2, "type");
			lua_pushstring(L, s->auth_token_env);
			lua_setfield(L, -2, "token_env");
			lua_setfield(L, -2, "auth");
		}
		if (s->interval_ms > 0) {
			lua_pushnumber(L, (lua_Number)s->interval_ms);
			lua_setfield(L, -2, "interval_ms");
		}
		lua_rawseti(L, -2, (int)i + 1);
	}
	al_config_sources_release(&view);
	return 1;
}

int al_open_config(lua_State *L)
{
	static const luaL_Reg fns[] = {{"get", l_get}, {"keys", l_keys}, {"sources", l_sources}, {NULL, NULL}};
	lua_newtable(L);
	luaL_register(L, NULL, fns);
	return 1;
}
