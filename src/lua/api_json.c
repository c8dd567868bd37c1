/* SPDX-License-Identifier: Apache-2.0 */
/* agentlens.json: strict decoding into Lua values and deterministic encoding (sorted keys, array marker). */
#include "lua/api_json.h"

#include <lauxlib.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"

#define AL_LUA_TCDATA 10 /* lua_type() of LuaJIT FFI cdata */
#define ARRAY_MT "agentlens.json.array"
#define OBJECT_MT "agentlens.json.object"
#define STATE_MT "agentlens.json.state"
#define INT64_KEY "agentlens.json.int64" /* registry: {ffi.istype, int64_t, uint64_t, tostring} */
#define KEEP_BYTES (1u << 20) /* reusable buffers larger than this are released after a call */
#define STACK_KEYS_MAX 6000 /* object keys stay on the Lua stack below this height (LUAI_MAXCSTACK 8000) */

/* ---- shared memory -------------------------------------------------------------------- */

struct key_ent {
	const char *s; /* the key string, kept alive by the Lua stack or the encoder's key table */
	size_t len;
	uint64_t prefix; /* first 8 bytes, big-endian: most comparisons end here */
	int slot; /* > 0: stack index of the value (key just below); < 0: -index in the key table */
};

struct key_vec {
	struct key_ent *v;
	size_t len, cap;
};

/* Reusable per-state memory. A full userdata, so a Lua error (even out of memory) never leaks it. */
struct json_state {
	struct al_buf out;
	struct al_buf scratch;
	struct key_vec keys;
	bool busy; /* in use by a call further up the C stack (a finalizer may re-enter) */
};

static void key_vec_free(struct key_vec *kv)
{
	free(kv->v);
	*kv = (struct key_vec){0};
}

static int l_json_state_gc(lua_State *L)
{
	struct json_state *st = lua_touserdata(L, 1);
	al_buf_free(&st->out);
	al_buf_free(&st->scratch);
	key_vec_free(&st->keys);
	return 0;
}

/* Stack: [-0, +1] the new state userdata. */
static struct json_state *json_state_new(lua_State *L)
{
	struct json_state *st = lua_newuserdata(L, sizeof *st);
	*st = (struct json_state){.out = AL_BUF_INIT, .scratch = AL_BUF_INIT};
	if (luaL_newmetatable(L, STATE_MT)) {
		lua_pushcfunction(L, l_json_state_gc);
		lua_setfield(L, -2, "__gc");
	}
	lua_setmetatable(L, -2);
	return st;
}

/* The state in upvalue 1, or a fresh one when that one is busy.
 * Stack: [-0, +1] the state userdata actually used (keeps a fresh one alive for the call). */
static struct json_state *json_state_acquire(lua_State *L)
{
	struct json_state *st = lua_touserdata(L, lua_upvalueindex(1));
	if (!st->busy) {
		lua_pushvalue(L, lua_upvalueindex(1));
	} else {
		st = json_state_new(L);
	}
	st->busy = true;
	return st;
}

static void json_state_release(struct json_state *st)
{
	st->busy = false;
	if (st->out.cap > KEEP_BYTES)
		al_buf_free(&st->out);
	if (st->scratch.cap > KEEP_BYTES)
		al_buf_free(&st->scratch);
	if (st->keys.cap * sizeof(struct key_ent) > KEEP_BYTES)
		key_vec_free(&st->keys);
}

/* ---- encoder -------------------------------------------------------------------------- */

enum { KIND_AUTO, KIND_ARRAY, KIND_OBJECT };

/* Stack slots of the protected encoder frame. */
enum { ENC_VALUE = 1, ENC_CTX, ENC_ARRAY_MT, ENC_OBJECT_MT, ENC_KEYS, ENC_INT64 };

struct path_seg {
	const char *key; /* NULL: array element */
	size_t len;
	size_t index;
};

struct enc {
	struct al_buf *out;
	struct key_vec *keys;
	int nanchored; /* slots used in the key table (ENC_KEYS) */
	bool failed;
	char err[256];
	const void *seen[AL_JSON_MAX_DEPTH]; /* tables on the current path, for cycle detection */
	struct path_seg path[AL_JSON_MAX_DEPTH];
};

static bool enc_value(lua_State *L, struct enc *e, int idx, int depth);

/* Records the message, followed by the Lua path of the failing value. Always returns false. */
static bool __attribute__((format(printf, 3, 4))) enc_fail(struct enc *e, int depth, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(e->err, sizeof e->err, fmt, ap);
	va_end(ap);
	size_t off = n < 0 ? 0 : (size_t)n;
	for (int i = 0; i < depth && off < sizeof e->err; i++) {
		const struct path_seg *s = &e->path[i];
		const char *lead = i == 0 ? " at " : "";
		if (s->key)
			n = snprintf(e->err + off, sizeof e->err - off, "%s%s%.*s", lead, i ? "." : "",
				     (int)(s->len > 64 ? 64 : s->len), s->key);
		else
			n = snprintf(e->err + off, sizeof e->err - off, "%s[%zu]", lead, s->index);
		off += n < 0 ? 0 : (size_t)n;
	}
	e->failed = true;
	return false;
}

static void buf_truncate(struct al_buf *b, size_t len)
{
	b->len = len;
	if (b->data)
		b->data[len] = '\0';
}

/* Appends one byte without the NUL terminator (encode_protected restores it at the end). */
static inline void out_putc(struct al_buf *b, char c)
{
	if (b->cap - b->len > 1)
		b->data[b->len++] = c;
	else
		al_buf_putc(b, c);
}

static inline void out_append(struct al_buf *b, const char *s, size_t n)
{
	if (b->cap - b->len > n) {
		memcpy(b->data + b->len, s, n);
		b->len += n;
	} else {
		al_buf_append(b, s, n);
	}
}

static int key_cmp(const struct key_ent *x, const struct key_ent *y)
{
	if (x->prefix != y->prefix)
		return x->prefix < y->prefix ? -1 : 1;
	size_t n = x->len < y->len ? x->len : y->len;
	if (n > 8) {
		int c = memcmp(x->s + 8, y->s + 8, n - 8);
		if (c)
			return c;
	}
	return x->len < y->len ? -1 : x->len > y->len;
}

static int key_qsort_cmp(const void *a, const void *b)
{
	return key_cmp(a, b);
}

/* Bytewise order; insertion sort for the usual small objects. */
static void keys_sort(struct key_ent *v, size_t n)
{
	if (n > 24) {
		qsort(v, n, sizeof *v, key_qsort_cmp);
		return;
	}
	for (size_t i = 1; i < n; i++) {
		struct key_ent k = v[i];
		size_t j = i;
		for (; j > 0 && key_cmp(&v[j - 1], &k) > 0; j--)
			v[j] = v[j - 1];
		v[j] = k;
	}
}

static bool key_push(struct key_vec *kv, const char *s, size_t len, int slot)
{
	if (kv->len == kv->cap) {
		size_t cap = kv->cap ? kv->cap * 2 : 64;
		struct key_ent *v = realloc(kv->v, cap * sizeof *v);
		if (!v)
			return false;
		kv->v = v;
		kv->cap = cap;
	}
	uint64_t prefix = 0;
	for (size_t i = 0; i < 8 && i < len; i++)
		prefix |= (uint64_t)(unsigned char)s[i] << (56 - 8 * i);
	kv->v[kv->len++] = (struct key_ent){s, len, prefix, slot};
	return true;
}

/* Encodes the table at idx as an array of t[1..n]. Stack: unchanged. */
static bool enc_array_items(lua_State *L, struct enc *e, int idx, int depth, size_t n)
{
	out_putc(e->out, '[');
	for (size_t i = 1; i <= n; i++) {
		if (i > 1)
			out_putc(e->out, ',');
		e->path[depth] = (struct path_seg){NULL, 0, i};
		lua_rawgeti(L, idx, (int)i);
		if (!enc_value(L, e, lua_gettop(L), depth + 1))
			return false;
		lua_pop(L, 1);
	}
	out_putc(e->out, ']');
	return true;
}

/* Encodes the keys collected in e->keys[base..] (all strings) with their values, sorted bytewise.
 * Stack: unchanged. */
static bool enc_object_items(lua_State *L, struct enc *e, int idx, int depth, size_t base)
{
	size_t n = e->keys->len - base;
	if (n > 1)
		keys_sort(e->keys->v + base, n);
	out_putc(e->out, '{');
	for (size_t i = 0; i < n; i++) {
		const struct key_ent *k = &e->keys->v[base + i]; /* not used after recursing (realloc) */
		if (i)
			out_putc(e->out, ',');
		al_json_write_string(e->out, k->s, k->len);
		out_putc(e->out, ':');
		e->path[depth] = (struct path_seg){k->s, k->len, 0};
		if (k->slot > 0) {
			if (!enc_value(L, e, k->slot, depth + 1))
				return false;
			continue;
		}
		lua_rawgeti(L, ENC_KEYS, -k->slot);
		lua_rawget(L, idx);
		if (!enc_value(L, e, lua_gettop(L), depth + 1))
			return false;
		lua_pop(L, 1);
	}
	out_putc(e->out, '}');
	return true;
}

/* Classifies every key of the table at idx, collecting the string keys, then encodes the table as an array
 * (keys exactly 1..n) or an object (string keys only). While the C stack allows, each string key and its value
 * stay on the Lua stack; beyond that keys are anchored in the key table and values fetched again.
 * Stack: unchanged. */
static bool enc_table_general(lua_State *L, struct enc *e, int idx, int depth, int kind)
{
	size_t base = e->keys->len, nint = 0, nstr = 0;
	double maxk = 0;
	int top = lua_gettop(L), anchored = e->nanchored;
	bool on_stack = true;

	lua_pushnil(L);
	while (lua_next(L, idx)) { /* [.., k, v] */
		int kt = lua_type(L, -2);
		if (kt == LUA_TSTRING) {
			size_t len;
			const char *s = lua_tolstring(L, -2, &len);
			int slot;
			if (on_stack && lua_gettop(L) < STACK_KEYS_MAX && lua_checkstack(L, 4)) {
				slot = lua_gettop(L);
				lua_pushvalue(L, -2); /* [.., k, v, k]: next() continues from the copy */
			} else {
				on_stack = false;
				lua_pop(L, 1);
				if (lua_isnil(L, ENC_KEYS)) {
					lua_createtable(L, 64, 0);
					lua_replace(L, ENC_KEYS);
				}
				lua_pushvalue(L, -1);
				lua_rawseti(L, ENC_KEYS, ++e->nanchored);
				slot = -e->nanchored;
			}
			if (!key_push(e->keys, s, len, slot))
				return enc_fail(e, depth, "out of memory");
			nstr++;
		} else if (kt == LUA_TNUMBER) {
			double k = lua_tonumber(L, -2);
			if (!(k >= 1 && k <= 2147483647.0 && k == (double)(int)k))
				return enc_fail(e, depth, "cannot encode table key %.17g (keys must be strings or "
							  "array indices 1..n)", k);
			nint++;
			if (k > maxk)
				maxk = k;
			lua_pop(L, 1);
		} else {
			return enc_fail(e, depth, "cannot encode table key of type %s", lua_typename(L, kt));
		}
	}

	bool ok;
	if (nstr && nint) {
		ok = enc_fail(e, depth, "cannot encode table mixing integer and string keys");
	} else if (nint) {
		if (kind == KIND_OBJECT)
			ok = enc_fail(e, depth, "cannot encode integer keys of a table marked as object");
		else if ((double)nint != maxk)
			ok = enc_fail(e, depth, "cannot encode sparse array (%zu elements, highest index %.0f)", nint,
				      maxk);
		else
			ok = enc_array_items(L, e, idx, depth, nint);
	} else if (kind == KIND_ARRAY) {
		ok = enc_fail(e, depth, "cannot encode string keys of a table marked as array");
	} else {
		ok = enc_object_items(L, e, idx, depth, base);
	}
	e->keys->len = base;
	e->nanchored = anchored;
	lua_settop(L, top);
	return ok;
}

/* Stack: unchanged. */
static bool enc_table(lua_State *L, struct enc *e, int idx, int depth)
{
	if (depth >= AL_JSON_MAX_DEPTH)
		return enc_fail(e, depth, "cannot encode tables nested deeper than %d levels", AL_JSON_MAX_DEPTH);
	const void *self = lua_topointer(L, idx);
	for (int i = 0; i < depth; i++)
		if (e->seen[i] == self)
			return enc_fail(e, depth, "cannot encode a table that contains itself (cycle)");
	e->seen[depth] = self;
	if (!lua_checkstack(L, 8))
		return enc_fail(e, depth, "Lua stack overflow");

	int kind = KIND_AUTO;
	if (lua_getmetatable(L, idx)) {
		if (lua_rawequal(L, -1, ENC_ARRAY_MT))
			kind = KIND_ARRAY;
		else if (lua_rawequal(L, -1, ENC_OBJECT_MT))
			kind = KIND_OBJECT;
		lua_pop(L, 1);
	}

	/* Fast path: a sequence whose items next() returns in order 1, 2, ... is written in one pass. */
	size_t mark = e->out->len, n = 0;
	if (kind != KIND_OBJECT) {
		out_putc(e->out, '[');
		lua_pushnil(L);
		while (lua_next(L, idx)) {
			if (lua_type(L, -2) != LUA_TNUMBER || lua_tonumber(L, -2) != (double)(n + 1)) {
				lua_pop(L, 2);
				buf_truncate(e->out, mark);
				return enc_table_general(L, e, idx, depth, kind);
			}
			if (n)
				out_putc(e->out, ',');
			e->path[depth] = (struct path_seg){NULL, 0, ++n};
			if (!enc_value(L, e, lua_gettop(L), depth + 1))
				return false;
			lua_pop(L, 1);
		}
		if (n) {
			out_putc(e->out, ']');
			return true;
		}
		buf_truncate(e->out, mark);
		al_buf_append(e->out, kind == KIND_ARRAY ? "[]" : "{}", 2);
		return true;
	}
	return enc_table_general(L, e, idx, depth, kind);
}

/* Exact int64_t/uint64_t cdata through tostring ("-5LL", "7ULL"); other cdata is refused.
 * Stack: unchanged. */
static bool enc_cdata(lua_State *L, struct enc *e, int idx, int depth)
{
	if (lua_isnil(L, ENC_INT64)) {
		lua_getfield(L, LUA_REGISTRYINDEX, INT64_KEY);
		lua_replace(L, ENC_INT64);
		if (lua_isnil(L, ENC_INT64))
			return enc_fail(e, depth, "cannot encode cdata (ffi not available)");
	}
	bool is64 = false;
	for (int t = 2; t <= 3 && !is64; t++) {
		lua_rawgeti(L, ENC_INT64, 1); /* ffi.istype */
		lua_rawgeti(L, ENC_INT64, t);
		lua_pushvalue(L, idx);
		lua_call(L, 2, 1);
		is64 = lua_toboolean(L, -1);
		lua_pop(L, 1);
	}
	if (!is64)
		return enc_fail(e, depth, "cannot encode cdata other than int64_t and uint64_t");
	lua_rawgeti(L, ENC_INT64, 4); /* tostring */
	lua_pushvalue(L, idx);
	lua_call(L, 1, 1);
	size_t len = 0;
	const char *s = lua_tolstring(L, -1, &len);
	size_t digits = len;
	if (s && digits > 3 && memcmp(s + digits - 3, "ULL", 3) == 0)
		digits -= 3;
	else if (s && digits > 2 && memcmp(s + digits - 2, "LL", 2) == 0)
		digits -= 2;
	else
		digits = 0;
	size_t first = s && s[0] == '-' ? 1 : 0;
	if (digits <= first)
		digits = 0;
	for (size_t i = first; i < digits; i++)
		if (s[i] < '0' || s[i] > '9')
			digits = 0;
	if (!digits) {
		lua_pop(L, 1);
		return enc_fail(e, depth, "cannot encode cdata: unexpected tostring() result");
	}
	al_buf_append(e->out, s, digits);
	lua_pop(L, 1);
	return true;
}

/* Stack: unchanged. Output allocation failures surface through e->out->oom at the end. */
static bool enc_value(lua_State *L, struct enc *e, int idx, int depth)
{
	switch (lua_type(L, idx)) {
	case LUA_TNIL:
		out_append(e->out, "null", 4);
		return true;
	case LUA_TBOOLEAN:
		if (lua_toboolean(L, idx))
			out_append(e->out, "true", 4);
		else
			out_append(e->out, "false", 5);
		return true;
	case LUA_TNUMBER:
		if (!al_json_write_number(e->out, lua_tonumber(L, idx)) && !e->out->oom)
			return enc_fail(e, depth, "cannot encode NaN or Infinity");
		return true;
	case LUA_TSTRING: {
		size_t len;
		const char *s = lua_tolstring(L, idx, &len);
		al_json_write_string(e->out, s, len);
		return true;
	}
	case LUA_TTABLE:
		return enc_table(L, e, idx, depth);
	case LUA_TLIGHTUSERDATA:
		if (lua_touserdata(L, idx) != NULL)
			return enc_fail(e, depth, "cannot encode lightuserdata other than json.null");
		out_append(e->out, "null", 4);
		return true;
	case AL_LUA_TCDATA:
		return enc_cdata(L, e, idx, depth);
	default:
		return enc_fail(e, depth, "cannot encode a %s value", luaL_typename(L, idx));
	}
}

/* Protected body. Stack before: [value, enc]; the fixed slots ENC_* are set up here. */
static int l_json_encode_main(lua_State *L)
{
	struct enc *e = lua_touserdata(L, ENC_CTX);
	lua_settop(L, ENC_CTX);
	lua_getfield(L, LUA_REGISTRYINDEX, ARRAY_MT);
	lua_getfield(L, LUA_REGISTRYINDEX, OBJECT_MT);
	lua_pushnil(L); /* ENC_KEYS: created on the first object */
	lua_pushnil(L); /* ENC_INT64: fetched on the first cdata */
	enc_value(L, e, ENC_VALUE, 0);
	return 0;
}

/* Runs the encoder under lua_pcall. fn: stack index of l_json_encode_main, or 0 to push it. */
static bool encode_protected(lua_State *L, int idx, int fn, struct al_buf *out, struct key_vec *keys, char *err,
			     size_t errlen)
{
	struct enc e = {.out = out, .keys = keys};
	size_t mark = out->len;
	bool was_oom = out->oom;

	if (!lua_checkstack(L, 3)) {
		snprintf(err, errlen, "Lua stack overflow");
		return false;
	}
	if (fn)
		lua_pushvalue(L, fn);
	else
		lua_pushcfunction(L, l_json_encode_main);
	lua_pushvalue(L, idx);
	lua_pushlightuserdata(L, &e);
	if (lua_pcall(L, 2, 0, 0)) {
		const char *msg = lua_tostring(L, -1);
		snprintf(err, errlen, "%s", msg ? msg : "error while encoding");
		lua_pop(L, 1);
		e.failed = true;
	} else if (e.failed) {
		snprintf(err, errlen, "%s", e.err);
	} else if (out->oom) {
		snprintf(err, errlen, "out of memory");
		e.failed = true;
	}
	keys->len = 0;
	if (e.failed) {
		out->oom = was_oom;
		buf_truncate(out, mark);
	} else if (out->data) {
		out->data[out->len] = '\0';
	}
	return !e.failed;
}

bool al_json_encode_value(lua_State *L, int idx, struct al_buf *out, char *err, size_t errlen)
{
	struct key_vec keys = {0};
	if (idx < 0 && idx > LUA_REGISTRYINDEX)
		idx = lua_gettop(L) + idx + 1;
	bool ok = encode_protected(L, idx, 0, out, &keys, err, errlen);
	key_vec_free(&keys);
	return ok;
}

/* json.encode(value) -> string; raises for values JSON cannot represent.
 * Upvalues: state, l_json_encode_main, (decode body). */
static int l_json_encode(lua_State *L)
{
	char err[256];

	luaL_checkany(L, 1);
	lua_settop(L, 1);
	struct json_state *st = json_state_acquire(L); /* [value, state] */
	al_buf_reset(&st->out);
	bool ok = encode_protected(L, 1, lua_upvalueindex(2), &st->out, &st->keys, err, sizeof err);
	if (!ok) {
		json_state_release(st);
		return luaL_error(L, "json.encode: %s", err);
	}
	/* st->out belongs to a userdata on the stack: nothing leaks if pushing fails. */
	lua_pushlstring(L, st->out.data ? st->out.data : "", st->out.len);
	json_state_release(st);
	return 1;
}

/* ---- decoder -------------------------------------------------------------------------- */

struct dec {
	lua_State *L;
	int array_mt; /* stack index */
	size_t depth;
	int count[AL_JSON_MAX_DEPTH + 1]; /* items so far in the open array per depth; -1: object */
};

/* Stores the value on top into the enclosing container.
 * Stack: [array, value] -> [array] or [object, key, value] -> [object]; at depth 0 the value stays. */
static inline void dec_attach(struct dec *d)
{
	if (d->depth == 0)
		return;
	int n = d->count[d->depth];
	if (n >= 0) {
		d->count[d->depth] = n + 1;
		lua_rawseti(d->L, -2, n + 1);
	} else {
		lua_rawset(d->L, -3);
	}
}

static int dec_null(void *ud)
{
	struct dec *d = ud;
	lua_pushlightuserdata(d->L, NULL);
	dec_attach(d);
	return 0;
}

static int dec_bool(void *ud, bool v)
{
	struct dec *d = ud;
	lua_pushboolean(d->L, v);
	dec_attach(d);
	return 0;
}

static int dec_number(void *ud, double v, bool is_integer)
{
	struct dec *d = ud;
	lua_pushnumber(d->L, v);
	dec_attach(d);
	return 0;
}

static int dec_string(void *ud, const char *s, size_t len)
{
	struct dec *d = ud;
	lua_pushlstring(d->L, s, len);
	dec_attach(d);
	return 0;
}

static int dec_key(void *ud, const char *s, size_t len)
{
	struct dec *d = ud;
	lua_pushlstring(d->L, s, len);
	return 0;
}

static int dec_object_start(void *ud)
{
	struct dec *d = ud;
	lua_createtable(d->L, 0, 0);
	d->count[++d->depth] = -1;
	return 0;
}

static int dec_array_start(void *ud)
{
	struct dec *d = ud;
	lua_createtable(d->L, 0, 0);
	lua_pushvalue(d->L, d->array_mt);
	lua_setmetatable(d->L, -2);
	d->count[++d->depth] = 0;
	return 0;
}

static int dec_end(void *ud)
{
	struct dec *d = ud;
	d->depth--;
	dec_attach(d);
	return 0;
}

static const struct al_json_handlers dec_handlers = {
	.on_null = dec_null,
	.on_bool = dec_bool,
	.on_number = dec_number,
	.on_string = dec_string,
	.on_object_start = dec_object_start,
	.on_key = dec_key,
	.on_object_end = dec_end,
	.on_array_start = dec_array_start,
	.on_array_end = dec_end,
};

struct dec_call {
	const char *text;
	size_t len;
	struct al_buf *scratch;
	struct al_json_error err;
	int rc;
};

/* Protected body. Stack before: [call]; after: [call, array_mt, value] (value only on success).
 * Handlers may raise (out of memory); the parser then holds no heap memory (scratch is the caller's). */
static int l_json_decode_main(lua_State *L)
{
	struct dec_call *c = lua_touserdata(L, 1);
	struct dec d = {.L = L, .array_mt = 2};

	luaL_getmetatable(L, ARRAY_MT);
	if (!lua_checkstack(L, 2 * AL_JSON_MAX_DEPTH + 16))
		return luaL_error(L, "Lua stack overflow");
	c->rc = al_json_parse_scratch(c->text, c->len, &dec_handlers, &d, AL_JSON_MAX_DEPTH, &c->err, c->scratch);
	return c->rc == 0 ? 1 : 0;
}

/* json.decode(text) -> value | nil, err. Upvalues: state, (encode body), l_json_decode_main. */
static int l_json_decode(lua_State *L)
{
	struct dec_call c = {0};

	luaL_checktype(L, 1, LUA_TSTRING);
	c.text = lua_tolstring(L, 1, &c.len);
	lua_settop(L, 1);
	struct json_state *st = json_state_acquire(L); /* [text, state] */
	c.scratch = &st->scratch;
	lua_pushvalue(L, lua_upvalueindex(3));
	lua_pushlightuserdata(L, &c);
	int status = lua_pcall(L, 1, 1, 0); /* [text, state, value | nil | message] */
	json_state_release(st);
	if (status)
		return lua_error(L);
	if (c.rc != 0) {
		lua_pushnil(L);
		lua_pushfstring(L, "invalid JSON at line %d, column %d: %s", (int)c.err.line, (int)c.err.column,
				c.err.message);
		return 2;
	}
	return 1;
}

/* ---- markers -------------------------------------------------------------------------- */

/* Stack: [t?] -> [t] with the marker metatable named mt (a new table when t is absent or nil). */
static int set_marker(lua_State *L, const char *mt)
{
	if (lua_isnoneornil(L, 1)) {
		lua_settop(L, 0);
		lua_newtable(L);
	} else {
		luaL_checktype(L, 1, LUA_TTABLE);
		lua_settop(L, 1);
	}
	luaL_getmetatable(L, mt);
	lua_setmetatable(L, 1);
	return 1;
}

/* json.array([t]) -> t: t (or a new table) always encodes as a JSON array, "[]" when empty. */
static int l_json_array(lua_State *L)
{
	return set_marker(L, ARRAY_MT);
}

/* json.object([t]) -> t: t (or a new table) always encodes as a JSON object, "{}" when empty. */
static int l_json_object(lua_State *L)
{
	return set_marker(L, OBJECT_MT);
}

/* json.is_array(v) -> boolean: v is a table carrying the array marker. */
static int l_json_is_array(lua_State *L)
{
	luaL_checkany(L, 1);
	bool is = false;
	if (lua_istable(L, 1) && lua_getmetatable(L, 1)) {
		luaL_getmetatable(L, ARRAY_MT);
		is = lua_rawequal(L, -1, -2);
		lua_pop(L, 2);
	}
	lua_pushboolean(L, is);
	return 1;
}

/* ---- module --------------------------------------------------------------------------- */

/* Run once at open time, with (package.loaded, require, tostring): what exact int64 encoding needs. */
static const char int64_probe[] = "local loaded, require, tostring = ...\n"
				  "local ffi = loaded and loaded.ffi or require('ffi')\n"
				  "return {ffi.istype, ffi.typeof('int64_t'), ffi.typeof('uint64_t'), tostring}\n";

/* registry[INT64_KEY] = the probe's result; without ffi, int64 cdata is refused. Stack: unchanged. */
static void capture_int64_support(lua_State *L)
{
	if (luaL_loadbuffer(L, int64_probe, sizeof int64_probe - 1, "=agentlens.json") != 0) {
		lua_pop(L, 1);
		return;
	}
	lua_getfield(L, LUA_REGISTRYINDEX, "_LOADED");
	lua_getglobal(L, "require");
	lua_getglobal(L, "tostring");
	if (lua_pcall(L, 3, 1, 0) == 0 && lua_istable(L, -1))
		lua_setfield(L, LUA_REGISTRYINDEX, INT64_KEY);
	else
		lua_pop(L, 1);
}

/* Upvalues of every function: shared state, then the protected bodies of encode and decode. */
static const luaL_Reg json_funcs[] = {
	{"encode", l_json_encode},
	{"decode", l_json_decode},
	{"array", l_json_array},
	{"object", l_json_object},
	{"is_array", l_json_is_array},
	{NULL, NULL},
};

int al_open_json(lua_State *L)
{
	luaL_newmetatable(L, ARRAY_MT);
	luaL_newmetatable(L, OBJECT_MT);
	lua_pop(L, 2);
	capture_int64_support(L);

	lua_createtable(L, 0, 6);
	json_state_new(L);
	lua_pushcfunction(L, l_json_encode_main);
	lua_pushcfunction(L, l_json_decode_main);
	luaL_openlib(L, NULL, json_funcs, 3); /* [module] */
	lua_pushlightuserdata(L, NULL);
	lua_setfield(L, -2, "null");
	return 1;
}
