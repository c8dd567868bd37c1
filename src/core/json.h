/* SPDX-License-Identifier: Apache-2.0 */
/* Strict JSON (RFC 8259): an event parser and the writing primitives the encoder uses.
 * No Lua here: src/lua/api_json.c builds Lua values from the events and encodes tables. */
#ifndef AL_CORE_JSON_H
#define AL_CORE_JSON_H

#include <stdbool.h>
#include <stddef.h>

#include "core/buf.h"

#define AL_JSON_MAX_DEPTH 128
#define AL_JSON_DEPTH_CAP 4096 /* larger max_depth values are clamped to this */

/* Callbacks return 0 to continue, non-zero to abort (the parser then fails with
 * "aborted" and returns that value). Strings are unescaped, valid UTF-8, and borrowed. */
struct al_json_handlers {
	int (*on_null)(void *ud);
	int (*on_bool)(void *ud, bool value);
	/* is_integer: the literal had no fraction or exponent */
	int (*on_number)(void *ud, double value, bool is_integer);
	int (*on_string)(void *ud, const char *s, size_t len);
	int (*on_object_start)(void *ud);
	int (*on_key)(void *ud, const char *s, size_t len);
	int (*on_object_end)(void *ud);
	int (*on_array_start)(void *ud);
	int (*on_array_end)(void *ud);
};

struct al_json_error {
	size_t offset; /* byte offset of the problem */
	size_t line, column; /* 1-based */
	char message[128]; /* e.g. "unexpected character 'x'", "invalid UTF-8 in string" */
};

/* Parses exactly one JSON value (whitespace around it allowed, nothing else). Rejects
 * NaN/Infinity, hex, leading zeros, trailing commas, comments, control characters in
 * strings, invalid UTF-8, lone surrogates, depth beyond max_depth (0 = AL_JSON_MAX_DEPTH).
 * Returns 0 on success, -1 on a syntax error (err filled), or a handler's abort value. */
int al_json_parse(const char *text, size_t len, const struct al_json_handlers *h, void *ud, size_t max_depth,
		  struct al_json_error *err);
/* Same, but unescaped strings are built in the caller's scratch buffer (reset as needed, never freed), so
 * handlers that may longjmp (Lua errors) leave nothing behind: the parser itself then holds no heap memory
 * while a handler runs. Handlers may be NULL (event ignored). err may be NULL. */
int al_json_parse_scratch(const char *text, size_t len, const struct al_json_handlers *h, void *ud,
			  size_t max_depth, struct al_json_error *err, struct al_buf *scratch);

/* Appends s as a JSON string literal: '"' and '\\' escaped, control characters as \n, \t,
 * ..., \u00XX, '/' NOT escaped, invalid UTF-8 bytes replaced by U+FFFD. */
bool al_json_write_string(struct al_buf *b, const char *s, size_t len);
/* Appends a number: integral values with |v| < 2^63 without fraction or exponent
 * ("42", "-7", "9007199254740993" stays exact as long as the double holds it; -0.0 is "-0"),
 * others in the shortest form that reads back to the same double. Returns false for NaN and
 * +-Inf (nothing appended). */
bool al_json_write_number(struct al_buf *b, double v);

#endif
