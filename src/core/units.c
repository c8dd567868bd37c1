/* SPDX-License-Identifier: Apache-2.0 */
/* Parsing and formatting of human-written values: booleans, integers, durations and sizes. */
#include "core/units.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define NS_PER_MS INT64_C(1000000)

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

bool al_parse_bool(const char *s, bool *out)
{
	static const char *const yes[] = {"true", "1", "yes", "on"};
	static const char *const no[] = {"false", "0", "no", "off"};

	if (!s)
		return false;
	for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*out = true;
			return true;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*out = false;
			return true;
		}
	}
	return false;
}

/* Unsigned decimal digits at *p (at least one); advances *p. False on overflow beyond limit. */
static bool parse_digits(const char **p, uint64_t limit, uint64_t *out)
{
	const char *s = *p;
	uint64_t v = 0;

	if (!is_digit(*s))
		return false;
	for (; is_digit(*s); s++) {
		uint64_t d = (uint64_t)(*s - '0');
		if (v > (limit - d) / 10)
			return false;
		v = v * 10 + d;
	}
	*p = s;
	*out = v;
	return true;
}

bool al_parse_int(const char *s, int64_t *out)
{
	bool neg = false;
	uint64_t mag;

	if (!s)
		return false;
	if (*s == '-' || *s == '+')
		neg = *s++ == '-';
	if (!parse_digits(&s, neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX, &mag) || *s)
		return false;
	/* -(INT64_MAX + 1) computed without signed overflow */
	*out = neg ? (int64_t)(0 - mag) : (int64_t)mag;
	return true;
}

struct duration_unit {
	const char *name;
	uint64_t ns;
};

static const struct duration_unit duration_units[] = {
	{"ns", 1},
	{"us", 1000},
	{"\xc2\xb5s", 1000}, /* U+00B5 micro sign */
	{"\xce\xbcs", 1000}, /* U+03BC Greek mu */
	{"ms", 1000000},
	{"s", 1000000000},
	{"m", UINT64_C(60) * 1000000000},
	{"h", UINT64_C(3600) * 1000000000},
};

/* Same grammar as Go's time.ParseDuration without the sign: ([0-9]*(\.[0-9]*)?unit)+ or "0". */
bool al_parse_duration_ms(const char *s, int64_t *out_ms)
{
	uint64_t total = 0;

	if (!s || !*s)
		return false;
	if (strcmp(s, "0") == 0) {
		*out_ms = 0;
		return true;
	}
	while (*s) {
		uint64_t whole = 0, frac = 0;
		double scale = 1;
		bool digits = false;

		if (is_digit(*s)) {
			if (!parse_digits(&s, (uint64_t)INT64_MAX, &whole))
				return false;
			digits = true;
		}
		if (*s == '.') {
			s++;
			for (; is_digit(*s); s++) {
				digits = true;
				if (frac < UINT64_C(100000000000000000)) { /* further digits are below 1ns */
					frac = frac * 10 + (uint64_t)(*s - '0');
					scale *= 10;
				}
			}
		}
		if (!digits)
			return false;

		const char *unit = s;
		while (*s && *s != '.' && !is_digit(*s))
			s++;
		size_t ulen = (size_t)(s - unit);
		uint64_t unit_ns = 0;
		for (size_t i = 0; i < sizeof duration_units / sizeof duration_units[0]; i++) {
			if (strlen(duration_units[i].name) == ulen && memcmp(duration_units[i].name, unit, ulen) == 0)
				unit_ns = duration_units[i].ns;
		}
		if (!unit_ns)
			return false;

		if (whole > (uint64_t)INT64_MAX / unit_ns)
			return false;
		uint64_t v = whole * unit_ns;
		v += (uint64_t)((double)frac * ((double)unit_ns / scale));
		if (v > (uint64_t)INT64_MAX - total)
			return false;
		total += v;
	}
	*out_ms = (int64_t)(total / (uint64_t)NS_PER_MS);
	return true;
}

struct size_unit {
	const char *name;
	int64_t bytes;
};

static const struct size_unit size_units[] = {
	{"", 1},
	{"B", 1},
	{"KB", INT64_C(1) << 10},
	{"KiB", INT64_C(1) << 10},
	{"MB", INT64_C(1) << 20},
	{"MiB", INT64_C(1) << 20},
	{"GB", INT64_C(1) << 30},
	{"GiB", INT64_C(1) << 30},
};

bool al_parse_size(const char *s, int64_t *out_bytes)
{
	uint64_t n;

	if (!s || !parse_digits(&s, (uint64_t)INT64_MAX, &n))
		return false;
	if (*s == ' ') { /* "512 KiB": spaces only between the number and a unit */
		while (*s == ' ')
			s++;
		if (!*s)
			return false;
	}
	for (size_t i = 0; i < sizeof size_units / sizeof size_units[0]; i++) {
		if (strcasecmp(s, size_units[i].name) != 0)
			continue;
		if (n > (uint64_t)(INT64_MAX / size_units[i].bytes))
			return false;
		*out_bytes = (int64_t)n * size_units[i].bytes;
		return true;
	}
	return false;
}

/* out is the caller's (24 bytes hold any value). */
void al_format_size(int64_t bytes, char *out, size_t outlen)
{
	static const struct size_unit units[] = {{"GiB", INT64_C(1) << 30}, {"MiB", INT64_C(1) << 20}, {"KiB", 1024}};

	for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
		if (bytes != 0 && bytes % units[i].bytes == 0) {
			snprintf(out, outlen, "%" PRId64 "%s", bytes / units[i].bytes, units[i].name);
			return;
		}
	}
	snprintf(out, outlen, "%" PRId64, bytes);
}

/* Candidates: the mixed form ("1h30m", "1s500ms") and every single unit that divides ms exactly;
 * the shortest wins, the mixed form on ties. out is the caller's (32 bytes hold any value). */
void al_format_duration(int64_t ms, char *out, size_t outlen)
{
	static const struct {
		const char *name;
		uint64_t ms;
	} units[] = {{"h", 3600000}, {"m", 60000}, {"s", 1000}, {"ms", 1}};
	char best[64], cand[64];
	const char *sign = ms < 0 ? "-" : "";
	uint64_t mag = ms < 0 ? 0 - (uint64_t)ms : (uint64_t)ms;

	if (mag == 0) {
		snprintf(out, outlen, "0s");
		return;
	}
	size_t len = 0;
	uint64_t rest = mag;
	for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
		uint64_t q = rest / units[i].ms;
		rest %= units[i].ms;
		if (q)
			len += (size_t)snprintf(best + len, sizeof best - len, "%" PRIu64 "%s", q, units[i].name);
	}
	for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
		if (mag % units[i].ms)
			continue;
		int n = snprintf(cand, sizeof cand, "%" PRIu64 "%s", mag / units[i].ms, units[i].name);
		if ((size_t)n < strlen(best))
			memcpy(best, cand, (size_t)n + 1);
	}
	snprintf(out, outlen, "%s%s", sign, best);
}
