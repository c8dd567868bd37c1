/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of core/json.c (parser, writers) and the agentlens.json Lua module (lua/api_json.c). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#include "core/buf.h"
#include "core/json.h"
#include "lua/api_json.h"

/* ---- parser: events recorded as a compact trace -------------------------------------------------- */

static int rec_null(void *ud)
{
	al_buf_puts(ud, "n,");
	return 0;
}

static int rec_bool(void *ud, bool v)
{
	al_buf_puts(ud, v ? "t," : "f,");
	return 0;
}

static int rec_number(void *ud, double v, bool is_integer)
{
	al_buf_printf(ud, "%s%.17g,", is_integer ? "i" : "d", v);
	return 0;
}

static int rec_string(void *ud, const char *s, size_t len)
{
	al_buf_puts(ud, "s:");
	al_buf_append(ud, s, len);
	al_buf_putc(ud, ',');
	return 0;
}

static int rec_key(void *ud, const char *s, size_t len)
{
	al_buf_puts(ud, "k:");
	al_buf_append(ud, s, len);
	al_buf_putc(ud, ',');
	return 0;
}

static int rec_object_start(void *ud)
{
	al_buf_putc(ud, '{');
	return 0;
}

static int rec_object_end(void *ud)
{
	al_buf_puts(ud, "},");
	return 0;
}

static int rec_array_start(void *ud)
{
	al_buf_putc(ud, '[');
	return 0;
}

static int rec_array_end(void *ud)
{
	al_buf_puts(ud, "],");
	return 0;
}

static const struct al_json_handlers rec_handlers = {
	.on_null = rec_null,
	.on_bool = rec_bool,
	.on_number = rec_number,
	.on_string = rec_string,
	.on_object_start = rec_object_start,
	.on_key = rec_key,
	.on_object_end = rec_object_end,
	.on_array_start = rec_array_start,
	.on_array_end = rec_array_end,
};

/* Parses text (len -1: strlen) and returns the trace; on failure "ERR <line>:<col> <message>". */
static char *trace(const char *text, size_t len, size_t max_depth)
{
	struct al_buf b = AL_BUF_INIT;
	struct al_json_error err;
	if (len == (size_t)-1)
		len = strlen(text);
	int rc = al_json_parse(text, len, &rec_handlers, &b, max_depth, &err);
	if (rc) {
		al_buf_reset(&b);
		al_buf_printf(&b, "ERR %zu:%zu %s", err.line, err.column, err.message);
	}
	return al_buf_steal(&b, NULL);
}

static void check_trace(const char *text, size_t len, const char *want)
{
	char *got = trace(text, len, 0);
	if (strcmp(got, want) != 0)
		print_error("input: %s\n", text);
	assert_string_equal(got, want);
	free(got);
}

static void test_parse_accepts(void **state)
{
	static const struct {
		const char *in, *want;
	} cases[] = {
		{"null", "n,"},
		{" \t\r\n true \n", "t,"},
		{"false", "f,"},
		{"0", "i0,"},
		{"-0", "i-0,"},
		{"42", "i42,"},
		{"-17", "i-17,"},
		{"3.25", "d3.25,"},
		{"1e2", "d100,"},
		{"1E+2", "d100,"},
		{"-2.5e-3", "d-0.0025000000000000001,"},
		{"9007199254740993", "i9007199254740992,"},
		{"123456789012345678901234567890", "i1.2345678901234568e+29,"},
		{"1e-400", "d0,"},
		{"\"\"", "s:,"},
		{"\"a/b\"", "s:a/b,"},
		{"\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"", "s:\"\\/\b\f\n\r\t,"},
		{"\"\\u00e9\\u20AC\"", "s:\xC3\xA9\xE2\x82\xAC,"},
		{"\"\\ud83d\\ude00\"", "s:\xF0\x9F\x98\x80,"},
		{"\"\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80\xF4\x8F\xBF\xBF\"",
		 "s:\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80\xF4\x8F\xBF\xBF,"},
		{"[]", "[],"},
		{"{}", "{},"},
		{"[1,[2,[]],{}]", "[i1,[i2,[],],{},],"},
		{"{\"a\":1,\"b\":[true,null],\"c\":{\"d\":\"e\"}}", "{k:a,i1,k:b,[t,n,],k:c,{k:d,s:e,},},"},
		{" { \"a\" : [ 1 , 2 ] } ", "{k:a,[i1,i2,],},"},
		{"{\"a\":1,\"a\":2}", "{k:a,i1,k:a,i2,},"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		check_trace(cases[i].in, (size_t)-1, cases[i].want);
	/* \u0000 is a valid escape and yields an embedded NUL */
	char *got = trace("\"a\\u0000b\"", (size_t)-1, 0);
	assert_memory_equal(got, "s:a\0b,", 6);
	free(got);
}

static void test_parse_rejects(void **state)
{
	static const struct {
		const char *in, *want;
	} cases[] = {
		/* empty and truncated input */
		{"", "ERR 1:1 unexpected end of input, expected a value"},
		{"   ", "ERR 1:4 unexpected end of input, expected a value"},
		{"[1,2", "ERR 1:5 unexpected end of input, expected ',' or ']'"},
		{"{\"a\":1", "ERR 1:7 unexpected end of input, expected ',' or '}'"},
		{"\"abc", "ERR 1:1 unterminated string"},
		{"[", "ERR 1:2 unexpected end of input, expected a value"},
		/* literals, NaN and Infinity */
		{"tru", "ERR 1:1 invalid literal (expected true, false or null)"},
		{"nul", "ERR 1:1 invalid literal (expected true, false or null)"},
		{"True", "ERR 1:1 unexpected character 'T'"},
		{"NaN", "ERR 1:1 NaN and Infinity are not valid JSON"},
		{"[Infinity]", "ERR 1:2 NaN and Infinity are not valid JSON"},
		{"-Infinity", "ERR 1:1 NaN and Infinity are not valid JSON"},
		/* numbers */
		{"0x10", "ERR 1:1 hexadecimal numbers are not allowed"},
		{"01", "ERR 1:1 leading zeros are not allowed"},
		{"[-012]", "ERR 1:3 leading zeros are not allowed"},
		{"+1", "ERR 1:1 unexpected character '+'"},
		{".5", "ERR 1:1 unexpected character '.'"},
		{"1.", "ERR 1:3 unexpected end of input, expected a digit after the decimal point"},
		{"1.e5", "ERR 1:3 unexpected character 'e', expected a digit after the decimal point"},
		{"1e", "ERR 1:3 unexpected end of input, expected a digit in the exponent"},
		{"1e+", "ERR 1:4 unexpected end of input, expected a digit in the exponent"},
		{"-", "ERR 1:2 unexpected end of input, expected a digit"},
		{"-a", "ERR 1:2 unexpected character 'a', expected a digit"},
		{"1e400", "ERR 1:1 number out of range"},
		{"-1e400", "ERR 1:1 number out of range"},
		/* trailing commas, separators, trailing data */
		{"[1,]", "ERR 1:4 trailing comma before ']'"},
		{"{\"a\":1,}", "ERR 1:8 trailing comma before '}'"},
		{"[,1]", "ERR 1:2 unexpected character ','"},
		{"[1 2]", "ERR 1:4 unexpected character '2', expected ',' or ']'"},
		{"{\"a\" 1}", "ERR 1:6 unexpected character '1', expected ':' after the object key"},
		{"{1:2}", "ERR 1:2 unexpected character '1', expected a string key"},
		{"{'a':2}", "ERR 1:2 strings must use double quotes"},
		{"1 2", "ERR 1:3 unexpected character '2', expected end of input after the JSON value"},
		{"{}}", "ERR 1:3 unexpected character '}', expected end of input after the JSON value"},
		/* comments */
		{"[1 /* c */]", "ERR 1:4 comments are not allowed"},
		{"// c\n1", "ERR 1:1 comments are not allowed"},
		{"1 # c", "ERR 1:3 unexpected character '#', expected end of input after the JSON value"},
		/* strings: control characters, escapes, surrogates */
		{"\"a\tb\"", "ERR 1:3 unescaped control character 0x09 in string"},
		{"\"a\nb\"", "ERR 1:3 unescaped control character 0x0A in string"},
		{"\"\\x\"", "ERR 1:2 invalid escape '\\x' in string"},
		{"\"\\u12G4\"", "ERR 1:2 invalid \\u escape (expected 4 hex digits)"},
		{"\"\\u12\"", "ERR 1:2 invalid \\u escape (expected 4 hex digits)"},
		{"\"\\ud800\"", "ERR 1:2 lone surrogate \\uD800 in string"},
		{"\"\\udc00\"", "ERR 1:2 lone surrogate \\uDC00 in string"},
		{"\"\\ud800\\u0041\"", "ERR 1:2 lone surrogate \\uD800 in string"},
		{"\"\\ud800\\ud800\"", "ERR 1:2 lone surrogate \\uD800 in string"},
		{"\"x\\udbff\"", "ERR 1:3 lone surrogate \\uDBFF in string"},
		/* invalid UTF-8 */
		{"\"\x80\"", "ERR 1:2 invalid UTF-8 in string"},
		{"\"\xC0\x80\"", "ERR 1:2 invalid UTF-8 in string"},    /* overlong NUL */
		{"\"\xC1\xBF\"", "ERR 1:2 invalid UTF-8 in string"},    /* overlong */
		{"\"\xE0\x80\xAF\"", "ERR 1:2 invalid UTF-8 in string"}, /* overlong '/' */
		{"\"\xED\xA0\x80\"", "ERR 1:2 invalid UTF-8 in string"}, /* encoded surrogate */
		{"\"\xF4\x90\x80\x80\"", "ERR 1:2 invalid UTF-8 in string"}, /* > U+10FFFF */
		{"\"\xF5\x80\x80\x80\"", "ERR 1:2 invalid UTF-8 in string"},
		{"\"ab\xE2\x82\"", "ERR 1:4 invalid UTF-8 in string"}, /* truncated */
		{"\"\xFF\"", "ERR 1:2 invalid UTF-8 in string"},
		{"\xEF\xBB\xBF" "1", "ERR 1:1 unexpected byte 0xEF"}, /* BOM */
		/* line and column */
		{"{\n  \"a\": 1,\n  \"b\": x\n}", "ERR 3:8 unexpected character 'x'"},
		{"[\n1,\n\n  ]", "ERR 4:3 trailing comma before ']'"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		check_trace(cases[i].in, (size_t)-1, cases[i].want);
	/* a NUL byte is not whitespace */
	check_trace("1\0", 2, "ERR 1:2 unexpected byte 0x00, expected end of input after the JSON value");
	check_trace("\"a\0\"", 4, "ERR 1:3 unescaped control character 0x00 in string");
}

static char *nested(size_t depth, const char *open, const char *close)
{
	size_t lo = strlen(open), lc = strlen(close);
	char *s = malloc(depth * (lo + lc) + 1), *p = s;
	for (size_t i = 0; i < depth; i++, p += lo)
		memcpy(p, open, lo);
	for (size_t i = 0; i < depth; i++, p += lc)
		memcpy(p, close, lc);
	*p = '\0';
	return s;
}

static void test_parse_depth(void **state)
{
	char *ok = nested(AL_JSON_MAX_DEPTH, "[", "]");
	char *deep = nested(AL_JSON_MAX_DEPTH + 1, "[", "]");
	char *objs = nested(AL_JSON_MAX_DEPTH + 1, "{\"a\":", "}");
	struct al_json_error err;

	assert_int_equal(al_json_parse(ok, strlen(ok), NULL, NULL, 0, &err), 0);
	assert_int_equal(al_json_parse(deep, strlen(deep), NULL, NULL, 0, &err), -1);
	assert_string_equal(err.message, "nesting deeper than 128 levels");
	assert_int_equal(err.column, AL_JSON_MAX_DEPTH + 1);
	assert_int_equal(al_json_parse(objs, strlen(objs), NULL, NULL, 0, &err), -1);
	assert_string_equal(err.message, "nesting deeper than 128 levels");
	/* explicit limits, and the cap */
	assert_int_equal(al_json_parse("[[1]]", 5, NULL, NULL, 1, &err), -1);
	assert_int_equal(al_json_parse("[[1]]", 5, NULL, NULL, 2, NULL), 0);
	char *huge = nested(AL_JSON_DEPTH_CAP + 1, "[", "]");
	assert_int_equal(al_json_parse(huge, strlen(huge), NULL, NULL, 100000, &err), -1);
	huge[AL_JSON_DEPTH_CAP] = '\0';
	char *capped = nested(AL_JSON_DEPTH_CAP, "[", "]");
	assert_int_equal(al_json_parse(capped, strlen(capped), NULL, NULL, 100000, &err), 0);
	free(capped);
	free(huge);
	free(ok);
	free(deep);
	free(objs);
}

struct borrow_check {
	const char *text;
	size_t len;
	int borrowed, copied;
};

static int check_borrow(void *ud, const char *s, size_t len)
{
	struct borrow_check *c = ud;
	if (s >= c->text && s < c->text + c->len)
		c->borrowed++;
	else
		c->copied++;
	return 0;
}

static int abort_on_number(void *ud, double v, bool is_integer)
{
	return v == 2 ? 7 : 0;
}

static void test_parse_borrow_and_abort(void **state)
{
	const char *text = "{\"plain\":\"value\",\"esc\\n\":\"a\\tb\"}";
	struct borrow_check c = {text, strlen(text), 0, 0};
	struct al_json_handlers h = {.on_string = check_borrow, .on_key = check_borrow};
	assert_int_equal(al_json_parse(text, c.len, &h, &c, 0, NULL), 0);
	assert_int_equal(c.borrowed, 2); /* "plain", "value" */
	assert_int_equal(c.copied, 2);	 /* "esc\n", "a\tb" */

	struct al_json_handlers ha = {.on_number = abort_on_number};
	struct al_json_error err;
	assert_int_equal(al_json_parse("[1, 2, 3]", 9, &ha, NULL, 0, &err), 7);
	assert_string_equal(err.message, "aborted");
	assert_int_equal(err.column, 6);

	/* empty input given as NULL */
	assert_int_equal(al_json_parse(NULL, 0, NULL, NULL, 0, &err), -1);
	assert_string_equal(err.message, "unexpected end of input, expected a value");
	struct al_buf empty = AL_BUF_INIT;
	assert_true(al_json_write_string(&empty, NULL, 0));
	assert_string_equal(empty.data, "\"\"");
	al_buf_free(&empty);

	/* a caller-owned scratch buffer is reused and not freed */
	struct al_buf scratch = AL_BUF_INIT;
	assert_int_equal(al_json_parse_scratch("[\"a\\nb\",\"c\\td\"]", 15, NULL, NULL, 0, NULL, &scratch), 0);
	assert_non_null(scratch.data);
	al_buf_free(&scratch);
}

/* The fast decimal path must agree bit for bit with strtod. */
static void test_parse_numbers_match_strtod(void **state)
{
	char text[64];
	struct al_buf b = AL_BUF_INIT;
	srand(12345);
	for (int i = 0; i < 200000; i++) {
		int ndig = 1 + rand() % 19, point = rand() % (ndig + 1), exp = rand() % 61 - 30;
		char *p = text;
		if (rand() & 1)
			*p++ = '-';
		for (int d = 0; d < ndig; d++) {
			if (d == point && d > 0)
				*p++ = '.';
			*p++ = (char)((d == 0 ? '1' + rand() % 9 : '0' + rand() % 10));
		}
		if (rand() % 3 == 0)
			p += sprintf(p, "e%d", exp);
		*p = '\0';
		al_buf_reset(&b);
		struct al_json_error err;
		if (al_json_parse(text, strlen(text), &rec_handlers, &b, 0, &err) != 0)
			fail_msg("rejected %s: %s", text, err.message);
		double want = strtod(text, NULL), got = strtod(b.data + 1, NULL);
		if (memcmp(&want, &got, sizeof want) != 0)
			fail_msg("%s parsed as %.17g, strtod says %.17g", text, got, want);
	}
	al_buf_free(&b);
}

/* ---- writers ----------------------------------------------------------------------------------- */

static void check_string(const char *in, size_t len, const char *want)
{
	struct al_buf b = AL_BUF_INIT;
	assert_true(al_json_write_string(&b, in, len));
	assert_string_equal(b.data, want);
	al_buf_free(&b);
}

static void test_write_string(void **state)
{
	check_string("", 0, "\"\"");
	check_string("a/b", 3, "\"a/b\"");
	check_string("say \"hi\" \\o/", 12, "\"say \\\"hi\\\" \\\\o/\"");
	check_string("\b\f\n\r\t", 5, "\"\\b\\f\\n\\r\\t\"");
	check_string("\x01\x1f\x7f", 3, "\"\\u0001\\u001f\x7f\"");
	check_string("a\0b", 3, "\"a\\u0000b\"");
	check_string("\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80", 9, "\"\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80\"");
	/* invalid UTF-8: each bad byte becomes U+FFFD */
	check_string("a\xFFz", 3, "\"a\xEF\xBF\xBDz\"");
	check_string("\xC0\x80", 2, "\"\xEF\xBF\xBD\xEF\xBF\xBD\"");
	check_string("\xED\xA0\x80", 3, "\"\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\"");
	check_string("x\xE2\x82", 3, "\"x\xEF\xBF\xBD\xEF\xBF\xBD\"");

	/* long valid inputs cross the writer's chunks (one sequence straddles the first chunk end) and parse
	 * back to exactly the input; cutting inside a sequence still yields valid JSON */
	size_t n = 30000;
	char *in = malloc(n);
	for (size_t i = 0; i < n; i++)
		in[i] = (char)(i % 7 == 0 ? '\n' : i % 11 == 0 ? '"' : 'a' + i % 26);
	for (size_t i = 100; i + 3 < n; i += 997)
		memcpy(in + i, "\xF0\x9F\x98\x80", 4);
	memcpy(in + 4094, "\xF0\x9F\x98\x80", 4);
	struct al_buf b = AL_BUF_INIT, events = AL_BUF_INIT;
	assert_true(al_json_write_string(&b, in, n));
	assert_int_equal(al_json_parse(b.data, b.len, &rec_handlers, &events, 0, NULL), 0);
	assert_int_equal(events.len, n + 3);
	assert_memory_equal(events.data + 2, in, n);
	for (size_t cut = 4090; cut < 4100; cut++) {
		al_buf_reset(&b);
		assert_true(al_json_write_string(&b, in, cut));
		struct al_json_error err;
		if (al_json_parse(b.data, b.len, NULL, NULL, 0, &err) != 0)
			fail_msg("cut %zu: %s", cut, err.message);
	}
	al_buf_free(&events);
	al_buf_free(&b);
	free(in);
}

static void check_number(double v, const char *want)
{
	struct al_buf b = AL_BUF_INIT;
	assert_true(al_json_write_number(&b, v));
	assert_string_equal(b.data, want);
	al_buf_free(&b);
}

static void test_write_number(void **state)
{
	check_number(0, "0");
	check_number(-0.0, "-0");
	check_number(42, "42");
	check_number(-7, "-7");
	check_number(9007199254740992.0, "9007199254740992"); /* 2^53 */
	check_number(9007199254740994.0, "9007199254740994");
	check_number(-9007199254740992.0, "-9007199254740992");
	check_number(1e15, "1000000000000000");
	check_number(12345678901234, "12345678901234");
	check_number(9223372036854774784.0, "9223372036854774784"); /* largest double below 2^63 */
	check_number(9223372036854775808.0, "9.223372036854776e+18"); /* 2^63: not below 2^63 */
	check_number(-9223372036854775808.0, "-9.223372036854776e+18");
	check_number(0.1, "0.1");
	check_number(-2.5, "-2.5");
	check_number(1.0 / 3, "0.3333333333333333");
	check_number(0.1 + 0.2, "0.30000000000000004");
	check_number(1e300, "1e+300");
	check_number(1e-7, "1e-07");
	check_number(5e-324, "4.94065645841247e-324");
	check_number(1.7976931348623157e308, "1.7976931348623157e+308");

	struct al_buf b = AL_BUF_INIT;
	al_buf_puts(&b, "x");
	assert_false(al_json_write_number(&b, NAN));
	assert_false(al_json_write_number(&b, INFINITY));
	assert_false(al_json_write_number(&b, -INFINITY));
	assert_string_equal(b.data, "x");

	/* the output is exactly the shortest of %.15g, %.16g, %.17g that reads back (random bit patterns and
	 * short decimals, which take the fast fixed-notation path) */
	srand(4242);
	for (int i = 0; i < 300000; i++) {
		double v;
		if (i & 1) {
			uint64_t bits = 0;
			for (int k = 0; k < 4; k++)
				bits = bits << 16 | (uint64_t)(rand() & 0xffff);
			memcpy(&v, &bits, sizeof v);
			if (!isfinite(v))
				continue;
		} else {
			char dec[48];
			snprintf(dec, sizeof dec, "%s%d.%0*de%d", rand() & 1 ? "-" : "", rand() % 100000,
				 1 + rand() % 9, rand() % 1000000000, rand() % 16 - 10);
			v = strtod(dec, NULL);
		}
		char want[40];
		if (fabs(v) < 9223372036854775808.0 && v == (double)(int64_t)v)
			continue; /* integers: covered above */
		for (int prec = 15; prec <= 17; prec++) {
			snprintf(want, sizeof want, "%.*g", prec, v);
			if (strtod(want, NULL) == v)
				break;
		}
		al_buf_reset(&b);
		assert_true(al_json_write_number(&b, v));
		if (strcmp(b.data, want) != 0)
			fail_msg("%.17g written as %s, want %s", v, b.data, want);
	}

	/* random doubles read back bit-identically and are valid JSON */
	srand(777);
	for (int i = 0; i < 100000; i++) {
		uint64_t bits = 0;
		for (int k = 0; k < 4; k++)
			bits = bits << 16 | (uint64_t)(rand() & 0xffff);
		double v;
		memcpy(&v, &bits, sizeof v);
		if (!isfinite(v))
			continue;
		al_buf_reset(&b);
		assert_true(al_json_write_number(&b, v));
		double back = strtod(b.data, NULL);
		if (memcmp(&back, &v, sizeof v) != 0)
			fail_msg("%s does not read back as %.17g", b.data, v);
		if (al_json_parse(b.data, b.len, NULL, NULL, 0, NULL) != 0)
			fail_msg("%s is not valid JSON", b.data);
	}
	al_buf_free(&b);
}

/* ---- Lua module ------------------------------------------------------------------------------- */

static const char lua_prelude[] =
	"local json = ...\n"
	"local function eq(got, want, what)\n"
	"  if got ~= want then\n"
	"    error(string.format('%s: got %s, want %s', what or 'value', tostring(got), tostring(want)), 2)\n"
	"  end\n"
	"end\n"
	"local function raises(pattern, f, ...)\n"
	"  local ok, err = pcall(f, ...)\n"
	"  if ok then error('expected an error matching ' .. pattern, 2) end\n"
	"  if not tostring(err):find(pattern, 1, true) then\n"
	"    error('error ' .. tostring(err) .. ' does not contain ' .. pattern, 2)\n"
	"  end\n"
	"end\n"
	"local enc, dec = json.encode, json.decode\n";

static lua_State *new_state(void)
{
	lua_State *L = luaL_newstate();
	assert_non_null(L);
	luaL_openlibs(L);
	return L;
}

static void run_lua(const char *name, const char *body)
{
	lua_State *L = new_state();
	struct al_buf code = AL_BUF_INIT;
	al_buf_puts(&code, lua_prelude);
	al_buf_puts(&code, body);
	if (luaL_loadbuffer(L, code.data, code.len, name) != 0)
		fail_msg("%s: %s", name, lua_tostring(L, -1));
	lua_pushcfunction(L, al_open_json);
	lua_call(L, 0, 1);
	if (lua_pcall(L, 1, 0, 0) != 0)
		fail_msg("%s", lua_tostring(L, -1));
	al_buf_free(&code);
	lua_close(L);
}

static void test_lua_encode_basics(void **state)
{
	run_lua("encode_basics",
		"eq(enc({}), '{}', 'empty table')\n"
		"eq(enc(json.array()), '[]', 'array marker')\n"
		"eq(enc(json.object()), '{}', 'object marker')\n"
		"eq(enc(dec('[]')), '[]', 'decoded empty array')\n"
		"eq(enc(dec('{}')), '{}', 'decoded empty object')\n"
		"eq(enc({a = 'x/y'}), '{\"a\":\"x/y\"}', 'slash')\n"
		"eq(enc(2^53), '9007199254740992', '2^53')\n"
		"eq(enc(12345678901234), '12345678901234', '14 digits')\n"
		"eq(enc(-0.5), '-0.5')\n"
		"eq(enc(0.1), '0.1')\n"
		"eq(enc(true), 'true') eq(enc(false), 'false') eq(enc(nil), 'null') eq(enc(json.null), 'null')\n"
		"eq(enc('a\"b\\\\c\\n\\1'), '\"a\\\\\"b\\\\\\\\c\\\\n\\\\u0001\"', 'escapes')\n"
		"eq(enc('\\255'), '\"\\239\\191\\189\"', 'invalid UTF-8 replaced')\n"
		"eq(enc({1, 2, 3}), '[1,2,3]')\n"
		"eq(enc(json.array({1, 'a'})), '[1,\"a\"]')\n"
		"local t = {} t[3] = 'c' t[2] = 'b' t[1] = 'a'\n"
		"eq(enc(t), '[\"a\",\"b\",\"c\"]', 'keys inserted backwards')\n"
		"eq(enc({b = 1, a = 2, aa = 3, A = 0, c = {z = 1, y = 2}, [''] = 5}),\n"
		"   '{\"\":5,\"A\":0,\"a\":2,\"aa\":3,\"b\":1,\"c\":{\"y\":2,\"z\":1}}', 'sorted keys')\n"
		"eq(enc({['\\195\\169'] = 1, z = 2}), '{\"z\":2,\"\\195\\169\":1}', 'bytewise order')\n"
		"eq(json.is_array(json.array()), true) eq(json.is_array({}), false) eq(json.is_array(1), false)\n"
		"eq(json.is_array(dec('[1]')), true) eq(json.is_array(dec('{}')), false)\n"
		"local a = {1} eq(json.array(a), a, 'array returns its argument')\n");
}

static void test_lua_encode_errors(void **state)
{
	run_lua("encode_errors",
		"raises('cannot encode a function value at f', enc, {f = print})\n"
		"raises('cannot encode a function value at a[2].b', enc, {a = {1, {b = print}}})\n"
		"local t = {} t.self = t\n"
		"raises('cycle', enc, t)\n"
		"local u = {1, {2}} u[2][2] = u\n"
		"raises('cycle', enc, u)\n"
		"raises('mixing integer and string keys', enc, {1, 2, x = 3})\n"
		"raises('mixing integer and string keys', enc, {x = 3, [1] = 2})\n"
		"raises('sparse array', enc, {1, nil, 3})\n"
		"raises('sparse array', enc, {[2] = 1})\n"
		"raises('NaN or Infinity', enc, 0/0)\n"
		"raises('NaN or Infinity', enc, {x = math.huge})\n"
		"raises('NaN or Infinity', enc, -math.huge)\n"
		"raises('cannot encode table key', enc, {[true] = 1})\n"
		"raises('cannot encode table key 1.5', enc, {[1.5] = 1})\n"
		"raises('cannot encode table key 0', enc, {[0] = 1})\n"
		"raises('cannot encode a userdata value', enc, io.stdout)\n"
		"raises('cannot encode a thread value', enc, coroutine.create(print))\n"
		"raises('string keys of a table marked as array', enc, json.array({x = 1}))\n"
		"raises('integer keys of a table marked as object', enc, json.object({1}))\n"
		"raises('value expected', enc)\n"
		"raises('table expected', json.array, 1)\n"
		"local deep = {} local cur = deep\n"
		"for i = 1, 127 do cur[1] = {} cur = cur[1] end\n"
		"eq(#enc(deep), 256, '128 levels')\n"
		"cur[1] = {}\n"
		"raises('nested deeper than 128', enc, deep)\n"
		"-- the encoder stays usable after errors\n"
		"eq(enc({a = {1}}), '{\"a\":[1]}')\n");
}

static void test_lua_decode(void **state)
{
	run_lua("decode",
		"local v, err = dec('[1, x]')\n"
		"eq(v, nil) eq(err, \"invalid JSON at line 1, column 5: unexpected character 'x'\")\n"
		"v, err = dec('{\\n  \"a\": 1,\\n  \"b\": tru\\n}')\n"
		"eq(err, 'invalid JSON at line 3, column 8: invalid literal (expected true, false or null)')\n"
		"v, err = dec('') eq(v, nil) eq(err, 'invalid JSON at line 1, column 1: unexpected end of input, '\n"
		"  .. 'expected a value')\n"
		"eq(select('#', dec('[1,]')), 2, 'nil, err')\n"
		"raises('string expected', dec, nil)\n"
		"raises('string expected', dec, 5)\n"
		"raises('string expected', dec)\n"
		"local d = dec('{\"a\":[1,2.5,-3e2,true,false,null,\"s\"],\"b\":{\"c\":{}},\"n\":null}')\n"
		"eq(d.a[1], 1) eq(d.a[2], 2.5) eq(d.a[3], -300) eq(d.a[4], true) eq(d.a[5], false)\n"
		"eq(d.a[6], json.null) eq(d.a[7], 's') eq(#d.a, 7) eq(d.n, json.null) eq(next(d.b.c), nil)\n"
		"eq(dec('null'), json.null) eq(dec('9007199254740993'), 2^53)\n"
		"eq(dec(' 12345678901234 '), 12345678901234)\n"
		"eq(dec('\"\\\\u00e9\"'), '\\195\\169', 'BMP escape')\n"
		"eq(dec('\"\\\\ud83d\\\\ude00\"'), '\\240\\159\\152\\128', 'surrogate pair')\n"
		"eq(enc(dec('\"\\\\ud83d\\\\ude00\"')), '\"\\240\\159\\152\\128\"', 'pair round trip')\n"
		"eq(dec('\"a\\\\u0000b\"'), 'a\\0b', 'NUL')\n"
		"eq(enc('a\\0b'), '\"a\\\\u0000b\"')\n"
		"eq(select(2, dec('\"\\\\ud800\"')),\n"
		"   'invalid JSON at line 1, column 2: lone surrogate \\\\uD800 in string')\n"
		"eq(select(2, dec('\"\\255\"')), 'invalid JSON at line 1, column 2: invalid UTF-8 in string')\n"
		"eq(dec(string.rep('[', 128) .. string.rep(']', 128))[1][1][1] ~= nil, true)\n"
		"eq(select(2, dec(string.rep('[', 129) .. string.rep(']', 129))),\n"
		"   'invalid JSON at line 1, column 129: nesting deeper than 128 levels')\n");
}

static void test_lua_round_trips(void **state)
{
	run_lua("round_trips",
		"local docs = {\n"
		"  '[]', '{}', '[[]]', '[{}]', '{\"a\":[]}', '[null,true,false]', '\"x/y\"',\n"
		"  '{\"a\":[1,2,{\"b\":null}],\"c\":\"d\",\"e\":{\"f\":[]},\"g\":-1.5}',\n"
		"  '{\"id\":\"6f1c\",\"n\":9007199254740992,\"tags\":[\"a\",\"b\"],\"x\":1e+300,\"y\":0.1}',\n"
		"  '[\"\\\\u0001\\\\n\\\\\"\\\\\\\\\",\"\\226\\130\\172\"]',\n"
		"}\n"
		"for _, s in ipairs(docs) do eq(enc(dec(s)), s, 'round trip of ' .. s) end\n"
		"for _, x in ipairs({0, -0.0, 1, -1, 0.1, 1/3, 2^53, -2^53, 1e300, 5e-324, 2^63, 123.456}) do\n"
		"  local back = dec(enc(x))\n"
		"  eq(back, x, 'number ' .. enc(x))\n"
		"  eq(1/back, 1/x, 'sign of ' .. enc(x))\n"
		"end\n"
		"-- the null sentinel survives both directions\n"
		"local n = dec(enc({a = json.null, b = {json.null, 1}}))\n"
		"eq(n.a, json.null) eq(n.b[1], json.null) eq(n.b[2], 1)\n"
		"eq(enc(dec('[null]')), '[null]')\n"
		"-- large containers (more keys than a C function's Lua stack holds)\n"
		"local big, keys = {}, {}\n"
		"for i = 1, 20000 do big['k' .. i] = i end\n"
		"local s = enc(big)\n"
		"local back = dec(s)\n"
		"for i = 1, 20000 do eq(back['k' .. i], i) end\n"
		"eq(enc(back), s)\n"
		"eq(s:sub(1, 22), '{\"k1\":1,\"k10\":10,\"k100')\n"
		"local arr = json.array()\n"
		"for i = 1, 100000 do arr[i] = i % 7 == 0 and {i} or i end\n"
		"eq(enc(dec(enc(arr))), enc(arr))\n"
		"-- int64 cdata is exact\n"
		"eq(enc(-5LL), '-5') eq(enc(9007199254740993LL), '9007199254740993')\n"
		"eq(enc({n = 18446744073709551615ULL}), '{\"n\":18446744073709551615}')\n"
		"raises('cdata other than int64_t', enc, require('ffi').new('int[1]'))\n");
}

static void test_encode_value_c_api(void **state)
{
	lua_State *L = new_state();
	char err[128];
	struct al_buf out = AL_BUF_INIT;

	lua_pushcfunction(L, al_open_json);
	lua_call(L, 0, 1);
	lua_pop(L, 1);
	al_buf_puts(&out, "prefix:");

	assert_int_equal(luaL_dostring(L, "return {b = {1, 2}, a = 'x'}, {f = print}"), 0);
	int top = lua_gettop(L);
	assert_true(al_json_encode_value(L, -2, &out, err, sizeof err));
	assert_string_equal(out.data, "prefix:{\"a\":\"x\",\"b\":[1,2]}");
	assert_int_equal(lua_gettop(L), top);

	assert_false(al_json_encode_value(L, -1, &out, err, sizeof err));
	assert_string_equal(err, "cannot encode a function value at f");
	assert_string_equal(out.data, "prefix:{\"a\":\"x\",\"b\":[1,2]}");
	assert_int_equal(lua_gettop(L), top);

	/* works in a state where the module was never opened (no markers: empty tables are objects) */
	lua_State *bare = new_state();
	lua_newtable(bare);
	al_buf_reset(&out);
	assert_true(al_json_encode_value(bare, 1, &out, err, sizeof err));
	assert_string_equal(out.data, "{}");
	lua_close(bare);

	al_buf_free(&out);
	lua_close(L);
}

/* ---- out of memory: every allocation point of decode/encode fails once, without leaks or crashes ---- */

struct budget {
	long left; /* allocations allowed before failing; < 0: unlimited */
};

static void *budget_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
	struct budget *b = ud;
	if (nsize == 0) {
		free(ptr);
		return NULL;
	}
	if (nsize > osize && b->left >= 0 && b->left-- == 0)
		return NULL;
	return realloc(ptr, nsize);
}

static void test_lua_out_of_memory(void **state)
{
	static const char script[] =
		"local json, doc = ...\n"
		"local ok1, v = pcall(json.decode, doc)\n"
		"local ok2, s = pcall(json.encode, ok1 and v or {x = {1, 2, 'three'}})\n"
		"return ok1 and ok2 and s or 'oom'\n";
	const char *doc =
		"{\"items\":[{\"id\":\"a\\u00e9\",\"n\":1},{\"id\":\"b\",\"n\":2}],\"total\":2,\"next\":null}";
	int completed = 0;

	for (long n = 0; n < 400 && completed < 3; n++) {
		struct budget b = {-1};
		lua_State *L = lua_newstate(budget_alloc, &b);
		if (!L)
			skip();
		luaL_openlibs(L);
		lua_pushcfunction(L, al_open_json);
		lua_call(L, 0, 1);
		if (luaL_loadbuffer(L, script, sizeof script - 1, "oom") != 0)
			fail_msg("%s", lua_tostring(L, -1));
		lua_insert(L, -2);
		lua_pushstring(L, doc);
		b.left = n;
		int rc = lua_pcall(L, 2, 1, 0);
		b.left = -1;
		if (rc == 0 && strcmp(lua_tostring(L, -1), "oom") != 0) {
			assert_string_equal(lua_tostring(L, -1),
					    "{\"items\":[{\"id\":\"a\xC3\xA9\",\"n\":1},{\"id\":\"b\",\"n\":2}],"
					    "\"next\":null,\"total\":2}");
			completed++;
		}
		lua_close(L);
	}
	assert_true(completed > 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_accepts),
		cmocka_unit_test(test_parse_rejects),
		cmocka_unit_test(test_parse_depth),
		cmocka_unit_test(test_parse_borrow_and_abort),
		cmocka_unit_test(test_parse_numbers_match_strtod),
		cmocka_unit_test(test_write_string),
		cmocka_unit_test(test_write_number),
		cmocka_unit_test(test_lua_encode_basics),
		cmocka_unit_test(test_lua_encode_errors),
		cmocka_unit_test(test_lua_decode),
		cmocka_unit_test(test_lua_round_trips),
		cmocka_unit_test(test_encode_value_c_api),
		cmocka_unit_test(test_lua_out_of_memory),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
