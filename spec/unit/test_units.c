/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of the core utilities: units, clocks and RFC 3339, random/UUID, logging. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/clock.h"
#include "core/json.h"
#include "core/log.h"
#include "core/units.h"
#include "crypto/random.h"

/* ---- booleans and integers ----------------------------------------------------------- */

static void test_bool(void **state)
{
	static const char *const yes[] = {"true", "TRUE", "True", "1", "yes", "YES", "on", "On"};
	static const char *const no[] = {"false", "FALSE", "0", "no", "No", "off", "OFF"};
	static const char *const bad[] = {"", "2", "y", "n", "t", "enabled", " true", "true ", "yes!"};
	bool b;

	for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++) {
		b = false;
		assert_true(al_parse_bool(yes[i], &b));
		assert_true(b);
	}
	for (size_t i = 0; i < sizeof no / sizeof no[0]; i++) {
		b = true;
		assert_true(al_parse_bool(no[i], &b));
		assert_false(b);
	}
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		assert_false(al_parse_bool(bad[i], &b));
}

static void test_int(void **state)
{
	int64_t v;

	assert_true(al_parse_int("0", &v));
	assert_int_equal(v, 0);
	assert_true(al_parse_int("-5", &v));
	assert_int_equal(v, -5);
	assert_true(al_parse_int("+7", &v));
	assert_int_equal(v, 7);
	assert_true(al_parse_int("9223372036854775807", &v));
	assert_true(v == INT64_MAX);
	assert_true(al_parse_int("-9223372036854775808", &v));
	assert_true(v == INT64_MIN);
	assert_false(al_parse_int("9223372036854775808", &v));
	assert_false(al_parse_int("-9223372036854775809", &v));
	assert_false(al_parse_int("99999999999999999999999", &v));
	assert_false(al_parse_int("", &v));
	assert_false(al_parse_int("-", &v));
	assert_false(al_parse_int("1a", &v));
	assert_false(al_parse_int(" 1", &v));
	assert_false(al_parse_int("1 ", &v));
	assert_false(al_parse_int("0x10", &v));
	assert_false(al_parse_int("1.0", &v));
}

/* ---- durations ----------------------------------------------------------------------- */

static void test_duration_accepts(void **state)
{
	static const struct {
		const char *in;
		int64_t ms;
	} cases[] = {
		{"0", 0},
		{"1h30m", 5400000},
		{"1.5s", 1500},
		{"1500ms", 1500},
		{"30s", 30000},
		{"24h", 86400000},
		{"1m30s", 90000},
		{"1s500ms", 1500},
		{".5s", 500},
		{"1.s", 1000},
		{"0s", 0},
		{"2.5ms", 2},
		{"999us", 0},
		{"1500000us", 1500},
		{"1500000\xc2\xb5s", 1500},
		{"2000000000ns", 2000},
		{"1.0000000001h", 3600000},
		{"0.1s", 100},
		{"2562047h", INT64_C(2562047) * 3600000},
	};
	int64_t ms;

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		ms = -1;
		assert_true(al_parse_duration_ms(cases[i].in, &ms));
		assert_int_equal(ms, cases[i].ms);
	}
}

static void test_duration_rejects(void **state)
{
	static const char *const bad[] = {
		"",	"5",	  "-1s",   "+1s",  "1x",		  "1h5",		  "s",	 ".s",
		".",	" 1s",	  "1s ",   "1 s",  "1e3s",		  "1S",			  "1hh", "1sec",
		"1.5", "2562048h", "9223372036854775807h", "99999999999999999999s", "1h-1m",
	};
	int64_t ms = 42;

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		assert_false(al_parse_duration_ms(bad[i], &ms));
	assert_int_equal(ms, 42); /* untouched on failure */
}

static void test_duration_format(void **state)
{
	static const struct {
		int64_t ms;
		const char *out;
	} cases[] = {
		{0, "0s"},	   {30000, "30s"},	{1500, "1500ms"}, {86400000, "24h"}, {5400000, "90m"},
		{3600000, "1h"}, {90000, "90s"},	{1, "1ms"},	  {61001, "1m1s1ms"}, {600000, "10m"},
		{-2000, "-2s"},	 {3723000, "3723s"}, {3723001, "1h2m3s1ms"},
	};
	char buf[64];

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		al_format_duration(cases[i].ms, buf, sizeof buf);
		assert_string_equal(buf, cases[i].out);
	}
	/* every formatted value reads back to itself */
	for (int64_t ms = 0; ms < INT64_C(200) * 86400000; ms = ms * 3 + 7) {
		int64_t back = -1;
		al_format_duration(ms, buf, sizeof buf);
		assert_true(al_parse_duration_ms(buf, &back));
		assert_int_equal(back, ms);
	}
}

/* ---- sizes --------------------------------------------------------------------------- */

static void test_size(void **state)
{
	static const struct {
		const char *in;
		int64_t bytes;
	} cases[] = {
		{"0", 0},		   {"1048576", 1048576},	  {"10B", 10},		  {"1KB", 1024},
		{"1KiB", 1024},		   {"512KiB", 524288},		  {"1MiB", 1048576},	  {"1MB", 1048576},
		{"2GiB", INT64_C(2147483648)}, {"1gib", INT64_C(1073741824)}, {"2 MiB", 2097152},	  {"3kb", 3072},
	};
	static const char *const bad[] = {
		"", "-1", "1.5MiB", "1TB", "MiB", "1 ", " 1", "1Mi", "1 M", "0x10", "1e6",
		"9223372036854775807KiB", "9223372036854775808",
	};
	int64_t v;
	char buf[32];

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		v = -1;
		assert_true(al_parse_size(cases[i].in, &v));
		assert_int_equal(v, cases[i].bytes);
	}
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		assert_false(al_parse_size(bad[i], &v));

	al_format_size(1048576, buf, sizeof buf);
	assert_string_equal(buf, "1MiB");
	al_format_size(INT64_C(1) << 30, buf, sizeof buf);
	assert_string_equal(buf, "1GiB");
	al_format_size(1536, buf, sizeof buf);
	assert_string_equal(buf, "1536");
	al_format_size(3072, buf, sizeof buf);
	assert_string_equal(buf, "3KiB");
	al_format_size(0, buf, sizeof buf);
	assert_string_equal(buf, "0");
}

/* ---- clocks and RFC 3339 ------------------------------------------------------------- */

static void test_clock(void **state)
{
	int64_t before = (int64_t)time(NULL) * 1000000;
	int64_t now = al_now_us();
	int64_t after = ((int64_t)time(NULL) + 1) * 1000000;

	assert_true(now >= before && now <= after);

	int64_t m1 = al_monotonic_ns(), m2 = al_monotonic_ns();
	assert_true(m1 > 0 && m2 >= m1);

	al_clock_set_offset_us(INT64_C(3600) * 1000000);
	int64_t shifted = al_now_us();
	al_clock_set_offset_us(0);
	assert_true(shifted - al_now_us() > INT64_C(3599) * 1000000);
	assert_true(al_now_us() <= ((int64_t)time(NULL) + 1) * 1000000);
}

static void test_rfc3339_format(void **state)
{
	char buf[40];

	assert_int_equal(al_rfc3339(0, buf, sizeof buf), 24);
	assert_string_equal(buf, "1970-01-01T00:00:00.000Z");
	al_rfc3339(INT64_C(1796401570) * 1000000 + 123456, buf, sizeof buf);
	assert_string_equal(buf, "2026-12-04T16:26:10.123Z");
	al_rfc3339(-1, buf, sizeof buf);
	assert_string_equal(buf, "1969-12-31T23:59:59.999Z");
	/* a short buffer is truncated, never overrun */
	assert_int_equal(al_rfc3339(0, buf, 5), 4);
	assert_string_equal(buf, "1970");
}

static int64_t parse_ok(const char *s)
{
	int64_t us = -42;

	assert_true(al_rfc3339_parse(s, strlen(s), &us));
	return us;
}

static void test_rfc3339_parse(void **state)
{
	const int64_t t = INT64_C(1796401570) * 1000000;
	char buf[40];

	assert_true(parse_ok("2026-12-04T16:26:10Z") == t);
	assert_true(parse_ok("2026-12-04t16:26:10z") == t);
	assert_true(parse_ok("2026-12-04 16:26:10Z") == t);
	assert_true(parse_ok("2026-12-04T18:26:10+02:00") == t);
	assert_true(parse_ok("2026-12-04T10:56:10-05:30") == t);
	assert_true(parse_ok("2026-12-04T16:26:10-00:00") == t);
	assert_true(parse_ok("2026-12-04T16:26:10.5Z") == t + 500000);
	assert_true(parse_ok("2026-12-04T16:26:10.123Z") == t + 123000);
	assert_true(parse_ok("2026-12-04T16:26:10.123456789Z") == t + 123456);
	assert_true(parse_ok("2026-12-04T18:26:10.25+02:00") == t + 250000);
	assert_true(parse_ok("1970-01-01T00:00:00Z") == 0);
	assert_true(parse_ok("1969-12-31T23:59:59Z") == -1000000);
	assert_true(parse_ok("2024-02-29T00:00:00Z") == INT64_C(1709164800) * 1000000);

	/* round trip (millisecond precision) */
	al_rfc3339(parse_ok("2026-12-04T18:26:10.123+02:00"), buf, sizeof buf);
	assert_string_equal(buf, "2026-12-04T16:26:10.123Z");
	for (int64_t us = -INT64_C(86400000000); us < INT64_C(4102444800000000); us += INT64_C(987654321987)) {
		int64_t ms_us = us - (((us % 1000) + 1000) % 1000);
		al_rfc3339(ms_us, buf, sizeof buf);
		assert_true(parse_ok(buf) == ms_us);
	}

	/* length is honoured: the string need not be NUL-terminated */
	int64_t us;
	assert_true(al_rfc3339_parse("2026-12-04T16:26:10Zgarbage", 20, &us));
	assert_true(us == t);

	static const char *const bad[] = {
		"",
		"2026-13-04T16:26:10Z",
		"2026-00-04T16:26:10Z",
		"2026-12-32T16:26:10Z",
		"2026-12-00T16:26:10Z",
		"2025-02-29T00:00:00Z",
		"2100-02-29T00:00:00Z",
		"2026-04-31T00:00:00Z",
		"2026-12-04T24:00:00Z",
		"2026-12-04T16:60:10Z",
		"2026-12-04T16:26:60Z",
		"2026-12-04T16:26:10",
		"2026-12-04T16:26:10.Z",
		"2026-12-04T16:26:10+0200",
		"2026-12-04T16:26:10+02",
		"2026-12-04T16:26:10+24:00",
		"2026-12-04T16:26:10+02:60",
		"2026-12-04T16:26:10Z ",
		"2026-12-04X16:26:10Z",
		"2026-12-4T16:26:10Z",
		"26-12-04T16:26:10Z",
		"2026-12-04T16:26:1aZ",
		"2026-12-04",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		assert_false(al_rfc3339_parse(bad[i], strlen(bad[i]), &us));
}

/* ---- random -------------------------------------------------------------------------- */

static bool is_lower_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

static void test_uuid(void **state)
{
	char a[37], b[37];

	assert_true(al_uuid4(a));
	assert_true(al_uuid4(b));
	assert_int_equal(strlen(a), 36);
	assert_string_not_equal(a, b);
	for (int i = 0; i < 36; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23)
			assert_int_equal(a[i], '-');
		else
			assert_true(is_lower_hex(a[i]));
	}
	/* version 4, variant 10xx, over many samples */
	for (int n = 0; n < 1000; n++) {
		assert_true(al_uuid4(a));
		assert_int_equal(a[14], '4');
		assert_non_null(strchr("89ab", a[19]));
	}
}

static void test_random(void **state)
{
	char hex[2 * 300 + 1];
	unsigned char big[100000], zero[sizeof big] = {0};

	assert_true(al_random_hex(hex, 0));
	assert_string_equal(hex, "");
	assert_true(al_random_hex(hex, 16));
	assert_int_equal(strlen(hex), 32);
	assert_true(al_random_hex(hex, 300)); /* longer than the internal chunk */
	assert_int_equal(strlen(hex), 600);
	for (size_t i = 0; i < 600; i++)
		assert_true(is_lower_hex(hex[i]));
	assert_true(al_random_bytes(big, 0));
	assert_true(al_random_bytes(big, sizeof big));
	assert_memory_not_equal(big, zero, sizeof big);
}

/* ---- logging ------------------------------------------------------------------------- */

static void test_log_level_parse(void **state)
{
	static const char *const names[] = {"debug", "info", "warn", "error"};
	enum al_log_level level;

	for (int i = AL_LOG_DEBUG; i <= AL_LOG_ERROR; i++) {
		assert_true(al_log_level_parse(names[i], &level));
		assert_int_equal(level, i);
		assert_string_equal(al_log_level_name((enum al_log_level)i), names[i]);
	}
	assert_false(al_log_level_parse("verbose", &level));
	assert_false(al_log_level_parse("warning", &level));
	assert_false(al_log_level_parse("", &level));
	assert_false(al_log_level_parse(NULL, &level));
}

/* Runs fn with fd 2 redirected to a temporary file; returns what was written (caller frees). */
static char *capture_stderr(void (*fn)(void *), void *arg)
{
	char path[] = "/tmp/al_test_log_XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	unlink(path);
	int saved = dup(STDERR_FILENO);
	assert_true(saved >= 0);
	assert_true(dup2(fd, STDERR_FILENO) >= 0);
	fn(arg);
	assert_true(dup2(saved, STDERR_FILENO) >= 0);
	close(saved);

	off_t size = lseek(fd, 0, SEEK_END);
	char *out = malloc((size_t)size + 1);
	assert_non_null(out);
	assert_int_equal(pread(fd, out, (size_t)size, 0), size);
	out[size] = '\0';
	close(fd);
	return out;
}

/* Top-level members of a JSON object, as "key=<type>:<value>" strings, in order. */
struct members {
	char items[16][256];
	size_t n;
};

static int m_add(struct members *m, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int m_add(struct members *m, const char *fmt, ...)
{
	va_list ap;

	if (m->n >= sizeof m->items / sizeof m->items[0])
		return 1;
	size_t len = strlen(m->items[m->n]);

	va_start(ap, fmt);
	vsnprintf(m->items[m->n] + len, sizeof m->items[0] - len, fmt, ap);
	va_end(ap);
	m->n++;
	return 0;
}

static int on_key(void *ud, const char *s, size_t len)
{
	struct members *m = ud;

	if (m->n >= sizeof m->items / sizeof m->items[0])
		return 1;
	snprintf(m->items[m->n], sizeof m->items[0], "%.*s=", (int)len, s);
	return 0;
}

static int on_string(void *ud, const char *s, size_t len)
{
	return m_add(ud, "s:%.*s", (int)len, s);
}

static int on_number(void *ud, double v, bool is_int)
{
	return m_add(ud, "n:%.17g", v);
}

static int on_bool(void *ud, bool v)
{
	return m_add(ud, "b:%d", v);
}

static int on_null(void *ud)
{
	return m_add(ud, "null");
}

static int on_nested(void *ud)
{
	return 1; /* log lines are flat */
}

static const struct al_json_handlers member_handlers = {
	.on_null = on_null,
	.on_bool = on_bool,
	.on_number = on_number,
	.on_string = on_string,
	.on_key = on_key,
	.on_array_start = on_nested,
};

static void parse_line(const char *line, size_t len, struct members *m)
{
	struct al_json_error jerr;

	memset(m, 0, sizeof *m);
	int rc = al_json_parse(line, len, &member_handlers, m, 0, &jerr);
	if (rc != 0)
		fail_msg("not JSON (%s): %.*s", jerr.message, (int)len, line);
}

static void log_json_fields(void *arg)
{
	const char *partial = "abcdef";
	struct al_log_field fields[] = {
		AL_LSTR("user", "bob \"the builder\"\nline2\\"),
		AL_LINT("count", -42),
		AL_LDBL("ratio", 0.1),
		AL_LBOOL("ok", true),
		AL_LSTRN("part", partial, 3),
		AL_LSTR("path", "/a/b"),
		AL_LSTR("nothing", NULL),
		AL_LSTR("bad_utf8", "x\xff" "y\xc3\xa9"),
		AL_LDBL("inf", INFINITY),
	};
	al_log_fields(AL_LOG_WARN, "hello \"world\"\ttab", fields, sizeof fields / sizeof fields[0]);
}

static void test_log_json_line(void **state)
{
	struct members m;

	al_log_setup(AL_LOG_DEBUG, AL_LOG_FORMAT_JSON);
	char *out = capture_stderr(log_json_fields, NULL);
	size_t len = strlen(out);
	assert_true(len > 0 && out[len - 1] == '\n');
	assert_null(memchr(out, '\n', len - 1)); /* exactly one line */
	assert_memory_equal(out, "{\"time\":\"", 9);
	assert_non_null(strstr(out, "\"path\":\"/a/b\"")); /* '/' is not escaped */

	parse_line(out, len - 1, &m);
	assert_int_equal(m.n, 12);
	assert_memory_equal(m.items[0], "time=s:20", 9);
	int64_t us;
	assert_true(al_rfc3339_parse(m.items[0] + 7, strlen(m.items[0] + 7), &us));
	assert_true(llabs(us - al_now_us()) < INT64_C(5000000));
	assert_string_equal(m.items[1], "level=s:warn");
	assert_string_equal(m.items[2], "msg=s:hello \"world\"\ttab");
	assert_string_equal(m.items[3], "user=s:bob \"the builder\"\nline2\\");
	assert_string_equal(m.items[4], "count=n:-42");
	assert_string_equal(m.items[5], "ratio=n:0.10000000000000001");
	assert_string_equal(m.items[6], "ok=b:1");
	assert_string_equal(m.items[7], "part=s:abc");
	assert_string_equal(m.items[8], "path=s:/a/b");
	assert_string_equal(m.items[9], "nothing=null");
	assert_string_equal(m.items[10], "bad_utf8=s:x\xef\xbf\xbdy\xc3\xa9");
	assert_string_equal(m.items[11], "inf=null");
	free(out);
}

static void log_text_fields(void *arg)
{
	struct al_log_field fields[] = {
		AL_LSTR("key", "value"),
		AL_LSTR("key2", "value with spaces"),
		AL_LSTR("empty", ""),
		AL_LSTR("q", "say \"hi\"\n"),
		AL_LINT("n", 7),
		AL_LBOOL("b", false),
		AL_LDBL("d", 2.5),
	};
	al_log_fields(AL_LOG_INFO, "msg", fields, sizeof fields / sizeof fields[0]);
	al_log_fields(AL_LOG_ERROR, "two\nlines", NULL, 0);
}

static void test_log_text_line(void **state)
{
	al_log_setup(AL_LOG_INFO, AL_LOG_FORMAT_TEXT);
	char *out = capture_stderr(log_text_fields, NULL);
	al_log_setup(AL_LOG_INFO, AL_LOG_FORMAT_JSON);

	char *nl = strchr(out, '\n');
	assert_non_null(nl);
	*nl = '\0';
	int64_t us;
	assert_true(al_rfc3339_parse(out, 24, &us));
	assert_string_equal(out + 24, " INFO  msg key=value key2=\"value with spaces\" empty=\"\" "
				      "q=\"say \\\"hi\\\"\\n\" n=7 b=false d=2.5");
	assert_string_equal(nl + 1 + 24, " ERROR two\\nlines\n");
	free(out);
}

static void log_levels_and_printf(void *arg)
{
	al_debug("hidden %d", 1);
	al_info("hidden %d", 2);
	errno = EACCES;
	al_warn("shown %d %s", 3, "three");
	assert_int_equal(errno, EACCES); /* logging preserves errno */
	al_error("%s", (const char *)arg);
}

static void test_log_levels_and_long_lines(void **state)
{
	size_t big = 20000;
	char *long_msg = malloc(big + 1);
	assert_non_null(long_msg);
	for (size_t i = 0; i < big; i++)
		long_msg[i] = (char)('a' + i % 26);
	long_msg[big] = '\0';

	al_log_setup(AL_LOG_WARN, AL_LOG_FORMAT_JSON);
	assert_false(al_log_enabled(AL_LOG_INFO));
	assert_true(al_log_enabled(AL_LOG_WARN));
	assert_true(al_log_enabled(AL_LOG_ERROR));
	char *out = capture_stderr(log_levels_and_printf, long_msg);
	al_log_setup(AL_LOG_INFO, AL_LOG_FORMAT_JSON);

	struct members m;
	char *nl = strchr(out, '\n');
	assert_non_null(nl);
	parse_line(out, (size_t)(nl - out), &m);
	assert_string_equal(m.items[1], "level=s:warn");
	assert_string_equal(m.items[2], "msg=s:shown 3 three");

	char *second = nl + 1;
	nl = strchr(second, '\n');
	assert_non_null(nl);
	assert_string_equal(nl + 1, ""); /* two lines in all */
	assert_true(strstr(second, "\"level\":\"error\"") != NULL);
	assert_non_null(strstr(second, long_msg)); /* the whole message, on the heap path */
	free(out);
	free(long_msg);
}

#define THREADS 4
#define LINES_PER_THREAD 500

static void *log_thread(void *arg)
{
	char pad[6000];
	int id = (int)(intptr_t)arg;

	memset(pad, 'x', sizeof pad - 1);
	pad[sizeof pad - 1] = '\0';
	for (int i = 0; i < LINES_PER_THREAD; i++) {
		struct al_log_field f[] = {AL_LINT("thread", id), AL_LINT("i", i),
					   AL_LSTRN("pad", pad, (size_t)(i % 3 == 0 ? 5000 : 10))};
		al_log_fields(AL_LOG_INFO, "concurrent", f, 3);
	}
	return NULL;
}

static void log_from_threads(void *arg)
{
	pthread_t t[THREADS];

	for (int i = 0; i < THREADS; i++)
		assert_int_equal(pthread_create(&t[i], NULL, log_thread, (void *)(intptr_t)i), 0);
	for (int i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
}

static void test_log_threads_do_not_interleave(void **state)
{
	int seen[THREADS] = {0};

	al_log_setup(AL_LOG_INFO, AL_LOG_FORMAT_JSON);
	char *out = capture_stderr(log_from_threads, NULL);
	size_t lines = 0;
	for (char *p = out, *nl; (nl = strchr(p, '\n')); p = nl + 1, lines++) {
		struct members m;
		parse_line(p, (size_t)(nl - p), &m);
		assert_int_equal(m.n, 6);
		int id = atoi(m.items[3] + strlen("thread=n:"));
		assert_true(id >= 0 && id < THREADS);
		assert_int_equal(atoi(m.items[4] + strlen("i=n:")), seen[id]++); /* in order per thread */
	}
	assert_int_equal(lines, THREADS * LINES_PER_THREAD);
	free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bool),
		cmocka_unit_test(test_int),
		cmocka_unit_test(test_duration_accepts),
		cmocka_unit_test(test_duration_rejects),
		cmocka_unit_test(test_duration_format),
		cmocka_unit_test(test_size),
		cmocka_unit_test(test_clock),
		cmocka_unit_test(test_rfc3339_format),
		cmocka_unit_test(test_rfc3339_parse),
		cmocka_unit_test(test_uuid),
		cmocka_unit_test(test_random),
		cmocka_unit_test(test_log_level_parse),
		cmocka_unit_test(test_log_json_line),
		cmocka_unit_test(test_log_text_line),
		cmocka_unit_test(test_log_levels_and_long_lines),
		cmocka_unit_test(test_log_threads_do_not_interleave),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
