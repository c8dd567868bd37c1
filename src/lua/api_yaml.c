/* SPDX-License-Identifier: Apache-2.0 */
/* agentlens.yaml: decoding one YAML document (libyaml) into Lua values.
 *
 *   yaml.decode(text) -> value | nil, message
 *
 * Mappings become tables (keys are the key scalars' text), sequences become arrays carrying the
 * agentlens.json array marker, quoted scalars become strings. Plain scalars are typed like the
 * YAML 1.2 core schema's common cases: empty, ~ and null/Null/NULL give agentlens.json.null;
 * true/True/TRUE and false/False/FALSE give booleans; decimal integers up to 2^53 give numbers;
 * everything else (floats included) stays a string. Anchors, aliases, tags, complex keys,
 * duplicate keys, several documents, nesting deeper than MAX_DEPTH and texts longer than
 * MAX_BYTES are refused. Messages name the line and column. */
#include <lauxlib.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "lua/api.h"

#define ARRAY_MT "agentlens.json.array"
#define PARSER_MT "agentlens.yaml.parser"
#define MAX_DEPTH 32
#define MAX_BYTES (4u << 20)
#define MAX_EXACT 9007199254740992.0 /* 2^53 */

/* The parser and the event being handled live in a userdata, so a Lua error (out of memory)
 * on the way never leaks libyaml's memory: __gc releases both. */
struct yaml_dec {
	yaml_parser_t parser;
	yaml_event_t ev;
	bool parser_live, ev_live;
	char msg[256];
};

static void parser_release(struct yaml_dec *d)
{
	if (d->ev_live)
		yaml_event_delete(&d->ev);
	if (d->parser_live)
		yaml_parser_delete(&d->parser);
	d->ev_live = d->parser_live = false;
}

static int l_parser_gc(lua_State *L)
{
	parser_release(lua_touserdata(L, 1));
	return 0;
}

static bool fail_at(struct yaml_dec *d, const yaml_mark_t *m, const char *what)
{
	snprintf(d->msg, sizeof d->msg, "line %zu column %zu: %s", m->line + 1, m->column + 1, what);
	return false;
}

static void event_done(struct yaml_dec *d)
{
	if (d->ev_live)
		yaml_event_delete(&d->ev);
	d->ev_live = false;
}

/* Fetches the next event into d->ev (the previous one is released). */
static bool next_event(struct yaml_dec *d)
{
	event_done(d);
	if (yaml_parser_parse(&d->parser, &d->ev)) {
		d->ev_live = true;
		return true;
	}
	const yaml_parser_t *p = &d->parser;
	if (p->error == YAML_MEMORY_ERROR) {
		snprintf(d->msg, sizeof d->msg, "out of memory while reading YAML");
		return false;
	}
	if (p->error == YAML_READER_ERROR) {
		snprintf(d->msg, sizeof d->msg, "byte %zu: %s", p->problem_offset,
			 p->problem ? p->problem : "unreadable input");
		return false;
	}
	snprintf(d->msg, sizeof d->msg, "line %zu column %zu: %s%s%s%s", p->problem_mark.line + 1,
		 p->problem_mark.column + 1, p->problem ? p->problem : "invalid YAML", p->context ? " (" : "",
		 p->context ? p->context : "", p->context ? ")" : "");
	return false;
}

static bool is_one_of(const char *v, const char *const *words)
{
	for (; *words; words++)
		if (strcmp(v, *words) == 0)
			return true;
	return false;
}

/* Pushes the value of the scalar event in d->ev. Stack: [-0, +1]. */
static void push_scalar(lua_State *L, const yaml_event_t *ev)
{
	static const char *const nulls[] = {"", "~", "null", "Null", "NULL", NULL};
	static const char *const trues[] = {"true", "True", "TRUE", NULL};
	static const char *const falses[] = {"false", "False", "FALSE", NULL};
	const char *v = (const char *)ev->data.scalar.value;
	size_t len = ev->data.scalar.length;

	if (ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE && strlen(v) == len) {
		if (is_one_of(v, nulls)) {
			lua_pushlightuserdata(L, NULL);
			return;
		}
		if (is_one_of(v, trues) || is_one_of(v, falses)) {
			lua_pushboolean(L, is_one_of(v, trues));
			return;
		}
		size_t i = (v[0] == '-' || v[0] == '+') ? 1 : 0;
		if (i < len && len - i <= 16 && strspn(v + i, "0123456789") == len - i) {
			double n = strtod(v, NULL);
			if (n <= MAX_EXACT && n >= -MAX_EXACT) {
				lua_pushnumber(L, n);
				return;
			}
		}
	}
	lua_pushlstring(L, v, len);
}

/* Refuses what this decoder does not handle on a node's start event. */
static bool node_allowed(struct yaml_dec *d)
{
	const yaml_event_t *ev = &d->ev;
	const yaml_char_t *anchor = NULL, *tag = NULL;

	switch (ev->type) {
	case YAML_ALIAS_EVENT:
		return fail_at(d, &ev->start_mark, "YAML anchors and aliases are not supported");
	case YAML_SCALAR_EVENT:
		anchor = ev->data.scalar.anchor;
		tag = ev->data.scalar.tag;
		break;
	case YAML_SEQUENCE_START_EVENT:
		anchor = ev->data.sequence_start.anchor;
		tag = ev->data.sequence_start.tag;
		break;
	case YAML_MAPPING_START_EVENT:
		anchor = ev->data.mapping_start.anchor;
		tag = ev->data.mapping_start.tag;
		break;
	default:
		return fail_at(d, &ev->start_mark, "unexpected YAML event");
	}
	if (anchor)
		return fail_at(d, &ev->start_mark, "YAML anchors and aliases are not supported");
	/* libyaml reports the non-specific tag "!" of a quoted scalar as no tag; any tag left is explicit. */
	if (tag)
		return fail_at(d, &ev->start_mark, "YAML tags are not supported");
	return true;
}

/* Builds the node whose start event is in d->ev. Stack: [-0, +1] on success, [-0, +0] on failure. */
static bool decode_node(lua_State *L, struct yaml_dec *d, int depth)
{
	if (!node_allowed(d))
		return false;
	if (d->ev.type == YAML_SCALAR_EVENT) {
		push_scalar(L, &d->ev);
		return true;
	}
	if (depth >= MAX_DEPTH) {
		char what[64];
		snprintf(what, sizeof what, "nesting deeper than %d levels", MAX_DEPTH);
		return fail_at(d, &d->ev.start_mark, what);
	}
	luaL_checkstack(L, 4, "YAML nesting");
	if (d->ev.type == YAML_SEQUENCE_START_EVENT) {
		lua_newtable(L);
		lua_pushvalue(L, lua_upvalueindex(1));
		lua_setmetatable(L, -2);
		for (int n = 1;; n++) {
			if (!next_event(d))
				goto fail;
			if (d->ev.type == YAML_SEQUENCE_END_EVENT)
				return true;
			if (!decode_node(L, d, depth + 1))
				goto fail;
			lua_rawseti(L, -2, n);
		}
	}
	lua_newtable(L); /* a mapping */
	for (;;) {
		if (!next_event(d))
			goto fail;
		if (d->ev.type == YAML_MAPPING_END_EVENT)
			return true;
		if (!node_allowed(d))
			goto fail;
		if (d->ev.type != YAML_SCALAR_EVENT) {
			fail_at(d, &d->ev.start_mark, "mapping keys must be scalars");
			goto fail;
		}
		yaml_mark_t key_mark = d->ev.start_mark;
		lua_pushlstring(L, (const char *)d->ev.data.scalar.value, d->ev.data.scalar.length);
		lua_pushvalue(L, -1);
		lua_rawget(L, -3);
		if (!lua_isnil(L, -1)) {
			char what[160];
			snprintf(what, sizeof what, "duplicate key %.120s", lua_tostring(L, -2));
			lua_pop(L, 2);
			fail_at(d, &key_mark, what);
			goto fail;
		}
		lua_pop(L, 1);
		if (!next_event(d) || !decode_node(L, d, depth + 1)) {
			lua_pop(L, 1);
			goto fail;
		}
		lua_rawset(L, -3);
	}
fail:
	lua_pop(L, 1);
	return false;
}

/* Decodes the stream: exactly one document. Stack: [-0, +1] on success. */
static bool decode_stream(lua_State *L, struct yaml_dec *d)
{
	if (!next_event(d))
		return false;
	if (d->ev.type != YAML_STREAM_START_EVENT)
		return fail_at(d, &d->ev.start_mark, "unexpected YAML event");
	if (!next_event(d))
		return false;
	if (d->ev.type == YAML_STREAM_END_EVENT) {
		snprintf(d->msg, sizeof d->msg, "the document is empty");
		return false;
	}
	if (!next_event(d) || !decode_node(L, d, 0)) /* past DOCUMENT-START */
		return false;
	if (!next_event(d)) /* DOCUMENT-END */
		goto fail;
	if (!next_event(d))
		goto fail;
	if (d->ev.type != YAML_STREAM_END_EVENT) {
		fail_at(d, &d->ev.start_mark, "only one YAML document is allowed");
		goto fail;
	}
	return true;
fail:
	lua_pop(L, 1);
	return false;
}

/* yaml.decode(text) -> value | nil, message */
static int l_yaml_decode(lua_State *L)
{
	size_t len;
	const char *text = luaL_checklstring(L, 1, &len);
	lua_settop(L, 1);
	if (len > MAX_BYTES) {
		lua_pushnil(L);
		lua_pushfstring(L, "the document is larger than %d bytes", (int)MAX_BYTES);
		return 2;
	}
	struct yaml_dec *d = lua_newuserdata(L, sizeof *d);
	memset(d, 0, sizeof *d);
	luaL_getmetatable(L, PARSER_MT);
	lua_setmetatable(L, -2);
	if (!yaml_parser_initialize(&d->parser))
		return luaL_error(L, "out of memory");
	d->parser_live = true;
	yaml_parser_set_input_string(&d->parser, (const unsigned char *)text, len);
	yaml_parser_set_encoding(&d->parser, YAML_UTF8_ENCODING);
	bool ok = decode_stream(L, d);
	parser_release(d); /* now, not at the next collection */
	if (ok)
		return 1;
	lua_pushnil(L);
	lua_pushstring(L, d->msg);
	return 2;
}

int al_open_yaml(lua_State *L)
{
	lua_getglobal(L, "require");
	lua_pushliteral(L, "agentlens.json"); /* creates the array metatable */
	lua_call(L, 1, 0);
	if (luaL_newmetatable(L, PARSER_MT)) {
		lua_pushcfunction(L, l_parser_gc);
		lua_setfield(L, -2, "__gc");
	}
	lua_pop(L, 1);
	lua_newtable(L);
	luaL_getmetatable(L, ARRAY_MT);
	lua_pushcclosure(L, l_yaml_decode, 1);
	lua_setfield(L, -2, "decode");
	return 1;
}
