/* SPDX-License-Identifier: Apache-2.0 */
/* Leveled, structured logging: JSON lines (default) or text for terminals, to stderr. */
#ifndef AL_CORE_LOG_H
#define AL_CORE_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum al_log_level { AL_LOG_DEBUG, AL_LOG_INFO, AL_LOG_WARN, AL_LOG_ERROR };
enum al_log_format { AL_LOG_FORMAT_AUTO, AL_LOG_FORMAT_JSON, AL_LOG_FORMAT_TEXT };

enum al_log_field_type { AL_LF_STR, AL_LF_INT, AL_LF_DOUBLE, AL_LF_BOOL };

/* One key/value of a log line; strings are borrowed for the duration of the call. */
struct al_log_field {
	const char *key;
	enum al_log_field_type type;
	union {
		const char *s;
		int64_t i;
		double d;
		bool b;
	} v;
	size_t len; /* for AL_LF_STR: length, or (size_t)-1 for NUL-terminated */
};

#define AL_LSTR(k, val) ((struct al_log_field){.key = (k), .type = AL_LF_STR, .v.s = (val), .len = (size_t)-1})
#define AL_LSTRN(k, val, n) ((struct al_log_field){.key = (k), .type = AL_LF_STR, .v.s = (val), .len = (n)})
#define AL_LINT(k, val) ((struct al_log_field){.key = (k), .type = AL_LF_INT, .v.i = (int64_t)(val)})
#define AL_LDBL(k, val) ((struct al_log_field){.key = (k), .type = AL_LF_DOUBLE, .v.d = (val)})
#define AL_LBOOL(k, val) ((struct al_log_field){.key = (k), .type = AL_LF_BOOL, .v.b = (val)})

void al_log_setup(enum al_log_level level, enum al_log_format format);
bool al_log_enabled(enum al_log_level level);
/* Parses "debug|info|warn|error"; returns false for anything else. */
bool al_log_level_parse(const char *s, enum al_log_level *out);
const char *al_log_level_name(enum al_log_level level);

/* Writes one line atomically (one write(2)). */
void al_log_fields(enum al_log_level level, const char *msg, const struct al_log_field *fields, size_t n);
void al_log(enum al_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define al_debug(...) al_log(AL_LOG_DEBUG, __VA_ARGS__)
#define al_info(...) al_log(AL_LOG_INFO, __VA_ARGS__)
#define al_warn(...) al_log(AL_LOG_WARN, __VA_ARGS__)
#define al_error(...) al_log(AL_LOG_ERROR, __VA_ARGS__)

#endif
