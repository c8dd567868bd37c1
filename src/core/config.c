/* SPDX-License-Identifier: Apache-2.0 */
/* Configuration loader: defaults -> YAML file -> environment -> flags, generic over al_options[]. */
#include "core/config.h"
#include "core/config_internal.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/buf.h"
#include "core/units.h"

extern char **environ;

#define KEY_MAX 256

bool al_config_fail(struct al_config_error *err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err->message, sizeof err->message, fmt, ap);
	va_end(ap);
	return false;
}

static void *field_of(struct al_config *cfg, const struct al_option *opt)
{
	return (char *)cfg + opt->offset;
}

static const void *cfield_of(const struct al_config *cfg, const struct al_option *opt)
{
	return (const char *)cfg + opt->offset;
}

/* A value as it appears in an error message: escaped, at most 64 bytes. */
void al_config_show_value(const char *v, char *out, size_t outlen)
{
	size_t o = 0, i = 0;

	for (; v[i] && i < 64 && o + 5 < outlen; i++) {
		unsigned char c = (unsigned char)v[i];
		if (c == '"' || c == '\\')
			o += (size_t)snprintf(out + o, outlen - o, "\\%c", c);
		else if (c < 0x20 || c == 0x7f)
			o += (size_t)snprintf(out + o, outlen - o, "\\x%02x", c);
		else
			out[o++] = (char)c;
	}
	if (v[i] && o + 4 <= outlen) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o] = '\0';
}

static void join_choices(const struct al_option *opt, const char *sep, const char *quote, char *out, size_t outlen)
{
	size_t o = 0;

	out[0] = '\0';
	for (size_t i = 0; opt->choices[i] && o < outlen; i++)
		o += (size_t)snprintf(out + o, outlen - o, "%s%s%s%s", i ? sep : "", quote, opt->choices[i], quote);
}

static void format_range(const struct al_option *opt, char *lo, char *hi, size_t n)
{
	if (opt->type == AL_OPT_DURATION) {
		al_format_duration(opt->min, lo, n);
		al_format_duration(opt->max, hi, n);
	} else if (opt->type == AL_OPT_SIZE) {
		al_format_size(opt->min, lo, n);
		al_format_size(opt->max, hi, n);
	} else {
		snprintf(lo, n, "%" PRId64, opt->min);
		snprintf(hi, n, "%" PRId64, opt->max);
	}
}

/* What an option accepts, as a phrase after "expected" (long) or as a table cell (short). */
static void describe_accepted(const struct al_option *opt, bool brief, char *out, size_t outlen)
{
	char lo[32], hi[32], choices[256];

	format_range(opt, lo, hi, sizeof lo);
	switch (opt->type) {
	case AL_OPT_STRING:
		snprintf(out, outlen, brief ? "any non-empty string" : "a non-empty string");
		break;
	case AL_OPT_PATH:
		snprintf(out, outlen, brief ? "a path, or empty" : "a path");
		break;
	case AL_OPT_INT:
		snprintf(out, outlen, brief ? "%s to %s" : "an integer between %s and %s", lo, hi);
		break;
	case AL_OPT_BOOL:
		snprintf(out, outlen, brief ? "true, false" : "true or false (also yes/no, on/off, 1/0)");
		break;
	case AL_OPT_DURATION:
		snprintf(out, outlen, brief ? "%s to %s" : "a duration between %s and %s, such as 30s, 1500ms or 1h30m",
			 lo, hi);
		break;
	case AL_OPT_SIZE:
		snprintf(out, outlen, brief ? "%s to %s" : "a size between %s and %s, such as 512KiB, 1MiB or 1048576",
			 lo, hi);
		break;
	case AL_OPT_ENUM:
		join_choices(opt, ", ", "", choices, sizeof choices);
		snprintf(out, outlen, brief ? "%s" : "one of %s", choices);
		break;
	}
}

/* The one parse/validate path for every value: defaults, YAML, environment and flags. */
static bool set_value(struct al_config *cfg, const struct al_option *opt, const char *value, const char *source,
		      struct al_config_error *err)
{
	void *field = field_of(cfg, opt);
	int64_t n;
	bool b;

	switch (opt->type) {
	case AL_OPT_STRING:
		if (!*value)
			break;
		/* fall through */
	case AL_OPT_PATH: {
		char *copy = strdup(value);
		if (!copy)
			return al_config_fail(err, "%s: out of memory", opt->key);
		free(*(char **)field);
		*(char **)field = copy;
		return true;
	}
	case AL_OPT_INT:
		if (!al_parse_int(value, &n) || n < opt->min || n > opt->max)
			break;
		*(int64_t *)field = n;
		return true;
	case AL_OPT_DURATION:
		if (!al_parse_duration_ms(value, &n) || n < opt->min || n > opt->max)
			break;
		*(int64_t *)field = n;
		return true;
	case AL_OPT_SIZE:
		if (!al_parse_size(value, &n) || n < opt->min || n > opt->max)
			break;
		*(int64_t *)field = n;
		return true;
	case AL_OPT_BOOL:
		if (!al_parse_bool(value, &b))
			break;
		*(bool *)field = b;
		return true;
	case AL_OPT_ENUM:
		for (int i = 0; opt->choices[i]; i++) {
			if (strcasecmp(value, opt->choices[i]) == 0) {
				*(int *)field = i; /* choices[] follows the C enum's order */
				return true;
			}
		}
		break;
	}
	char shown[300], accepted[320];
	al_config_show_value(value, shown, sizeof shown);
	describe_accepted(opt, false, accepted, sizeof accepted);
	return al_config_fail(err, "%s: invalid value \"%s\" (from %s): expected %s", opt->key, shown, source,
			      accepted);
}

/* Returns a row of the static table (never freed). */
const struct al_option *al_config_option(const char *key)
{
	for (size_t i = 0; i < al_options_count; i++) {
		if (strcmp(al_options[i].key, key) == 0)
			return &al_options[i];
	}
	return NULL;
}

static const struct al_option *option_by_flag(const char *name, size_t len)
{
	for (size_t i = 0; i < al_options_count; i++) {
		if (strlen(al_options[i].flag) == len && memcmp(al_options[i].flag, name, len) == 0)
			return &al_options[i];
	}
	return NULL;
}

/* True when key is a YAML map that holds options ("http" for "http.workers"). */
static bool is_section(const char *key)
{
	size_t len = strlen(key);

	for (size_t i = 0; i < al_options_count; i++) {
		if (strncmp(al_options[i].key, key, len) == 0 && al_options[i].key[len] == '.')
			return true;
	}
	return false;
}

/* cfg is the caller's; the strings it receives are owned by cfg (al_config_free). */
bool al_config_defaults(struct al_config *cfg, struct al_config_error *err)
{
	memset(cfg, 0, sizeof *cfg);
	for (size_t i = 0; i < al_options_count; i++) {
		if (!set_value(cfg, &al_options[i], al_options[i].def, "the default", err)) {
			al_config_free(cfg);
			return false;
		}
	}
	return true;
}

/* Frees the strings cfg owns and NULLs them; cfg itself is the caller's. Safe to call twice. */
void al_config_free(struct al_config *cfg)
{
	for (size_t i = 0; i < al_options_count; i++) {
		if (al_options[i].type == AL_OPT_STRING || al_options[i].type == AL_OPT_PATH) {
			char **s = field_of(cfg, &al_options[i]);
			free(*s);
			*s = NULL;
		}
	}
	free((char *)cfg->source_file);
	cfg->source_file = NULL;
	for (size_t i = 0; i < cfg->nsources; i++)
		al_config_source_free(&cfg->sources[i]);
	free(cfg->sources);
	cfg->sources = NULL;
	cfg->nsources = 0;
}

/* ---- YAML ---------------------------------------------------------------------------- */

bool al_config_yaml_next(struct yaml_load *y, yaml_event_t *ev)
{
	const yaml_parser_t *p = &y->parser;

	if (yaml_parser_parse(&y->parser, ev))
		return true;
	if (p->error == YAML_MEMORY_ERROR)
		return al_config_fail(y->err, "%s: out of memory while reading YAML", y->file);
	if (p->error == YAML_READER_ERROR)
		return al_config_fail(y->err, "%s: YAML error at byte %zu: %s", y->file, p->problem_offset,
				      p->problem ? p->problem : "unreadable input");
	return al_config_fail(y->err, "%s line %zu column %zu: YAML syntax error: %s%s%s%s", y->file,
			      p->problem_mark.line + 1, p->problem_mark.column + 1,
			      p->problem ? p->problem : "invalid YAML", p->context ? " (" : "",
			      p->context ? p->context : "", p->context ? ")" : "");
}

bool al_config_yaml_is_null(const yaml_event_t *ev)
{
	const char *v = (const char *)ev->data.scalar.value;

	return ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
	       (!*v || !strcmp(v, "~") || !strcmp(v, "null") || !strcmp(v, "Null") || !strcmp(v, "NULL"));
}

bool al_config_yaml_remember(struct yaml_load *y, const char *key, size_t line)
{
	for (size_t i = 0; i < y->nseen; i++) {
		if (strcmp(y->seen[i], key) == 0)
			return al_config_fail(y->err, "duplicate key \"%s\" in %s line %zu", key, y->file, line);
	}
	if (y->nseen == y->capseen) {
		size_t cap = y->capseen ? y->capseen * 2 : 16;
		char **p = realloc(y->seen, cap * sizeof *p);
		if (!p)
			return al_config_fail(y->err, "%s: out of memory", y->file);
		y->seen = p;
		y->capseen = cap;
	}
	if (!(y->seen[y->nseen] = strdup(key)))
		return al_config_fail(y->err, "%s: out of memory", y->file);
	y->nseen++;
	return true;
}

static bool yaml_mapping(struct yaml_load *y, const char *prefix);

static bool yaml_value(struct yaml_load *y, const char *key, size_t key_line, const yaml_event_t *ev)
{
	const struct al_option *opt = al_config_option(key);
	size_t line = ev->start_mark.line + 1;

	if (strcmp(key, "sources") == 0)
		return al_config_yaml_sources(y, ev);

	switch (ev->type) {
	case YAML_SCALAR_EVENT: {
		const char *v = (const char *)ev->data.scalar.value;
		char source[KEY_MAX + 64];
		if (!opt && is_section(key))
			return al_config_fail(
			    y->err, "key \"%s\" in %s line %zu must be a map of %s.* options, not a single value", key,
			    y->file, line, key);
		if (!opt)
			break;
		if (strlen(v) != ev->data.scalar.length)
			return al_config_fail(y->err, "%s: invalid value (from %s line %zu): contains a NUL character",
					      key, y->file, line);
		snprintf(source, sizeof source, "%s line %zu", y->file, line);
		return set_value(y->cfg, opt, al_config_yaml_is_null(ev) ? "" : v, source, y->err);
	}
	case YAML_MAPPING_START_EVENT:
		if (opt)
			return al_config_fail(y->err, "key \"%s\" in %s line %zu must be a single value, not a map",
					      key, y->file, line);
		if (is_section(key))
			return yaml_mapping(y, key);
		break;
	case YAML_SEQUENCE_START_EVENT:
		if (opt)
			return al_config_fail(y->err, "key \"%s\" in %s line %zu must be a single value, not a list",
					      key, y->file, line);
		if (is_section(key))
			return al_config_fail(y->err,
					      "key \"%s\" in %s line %zu must be a map of %s.* options, not a list",
					      key, y->file, line, key);
		break;
	default: /* YAML_ALIAS_EVENT */
		return al_config_fail(y->err, "key \"%s\" in %s line %zu: YAML aliases are not supported", key, y->file,
				      line);
	}
	return al_config_fail(y->err, "unknown key \"%s\" in %s line %zu", key, y->file, key_line);
}

/* Reads key/value pairs up to the end of the current mapping; prefix is "" at the top level. */
static bool yaml_mapping(struct yaml_load *y, const char *prefix)
{
	for (;;) {
		yaml_event_t ev;
		char key[KEY_MAX];
		size_t line;

		if (!al_config_yaml_next(y, &ev))
			return false;
		if (ev.type == YAML_MAPPING_END_EVENT) {
			yaml_event_delete(&ev);
			return true;
		}
		line = ev.start_mark.line + 1;
		if (ev.type != YAML_SCALAR_EVENT) {
			yaml_event_delete(&ev);
			return al_config_fail(y->err, "%s line %zu: keys must be plain strings", y->file, line);
		}
		snprintf(key, sizeof key, "%s%s%s", prefix, *prefix ? "." : "", (const char *)ev.data.scalar.value);
		yaml_event_delete(&ev);
		if (!al_config_yaml_remember(y, key, line) || !al_config_yaml_next(y, &ev))
			return false;
		bool ok = yaml_value(y, key, line, &ev);
		yaml_event_delete(&ev);
		if (!ok)
			return false;
	}
}

/* Reads the whole stream once without applying anything, so that a syntax error is reported
 * before the unknown keys or odd values it may seem to produce. */
static bool yaml_check_syntax(struct yaml_load *y)
{
	for (;;) {
		yaml_event_t ev;
		if (!al_config_yaml_next(y, &ev))
			return false;
		bool end = ev.type == YAML_STREAM_END_EVENT;
		yaml_event_delete(&ev);
		if (end)
			return true;
	}
}

static bool yaml_apply(struct yaml_load *y)
{
	int documents = 0;

	for (;;) {
		yaml_event_t ev;
		bool ok = true, end = false;

		if (!al_config_yaml_next(y, &ev))
			return false;
		size_t line = ev.start_mark.line + 1;
		switch (ev.type) {
		case YAML_STREAM_END_EVENT:
			end = true;
			break;
		case YAML_DOCUMENT_START_EVENT:
			if (++documents > 1)
				ok = al_config_fail(y->err, "%s line %zu: only one YAML document is allowed", y->file,
						    line);
			break;
		case YAML_MAPPING_START_EVENT:
			ok = yaml_mapping(y, "");
			break;
		case YAML_SCALAR_EVENT:
			if (!al_config_yaml_is_null(&ev))
				ok = al_config_fail(y->err, "%s line %zu: expected a map of options at the top level",
						    y->file, line);
			break;
		case YAML_SEQUENCE_START_EVENT:
		case YAML_ALIAS_EVENT:
			ok = al_config_fail(y->err, "%s line %zu: expected a map of options at the top level", y->file,
					    line);
			break;
		default:
			break;
		}
		yaml_event_delete(&ev);
		if (!ok || end)
			return ok;
	}
}

static bool yaml_load_file(struct al_config *cfg, const char *path, struct al_config_error *err)
{
	struct yaml_load y = {.file = path, .cfg = cfg, .err = err};
	FILE *f = NULL;
	bool parser_ready = false, ok = false;

	if (!(f = fopen(path, "rb"))) {
		al_config_fail(err, "cannot read config file \"%s\": %s", path, strerror(errno));
		goto fail;
	}
	for (int pass = 0; pass < 2; pass++) {
		rewind(f);
		if (!yaml_parser_initialize(&y.parser)) {
			al_config_fail(err, "%s: out of memory", path);
			goto fail;
		}
		parser_ready = true;
		yaml_parser_set_input_file(&y.parser, f);
		if (!(pass == 0 ? yaml_check_syntax(&y) : yaml_apply(&y)))
			goto fail;
		yaml_parser_delete(&y.parser);
		parser_ready = false;
	}
	ok = true;
fail:
	for (size_t i = 0; i < y.nseen; i++)
		free(y.seen[i]);
	free(y.seen);
	if (parser_ready)
		yaml_parser_delete(&y.parser);
	if (f)
		fclose(f);
	return ok;
}

/* ---- environment and flags ----------------------------------------------------------- */

const char *al_config_env_get(char *const *envp, const char *name)
{
	size_t len = strlen(name);

	for (char *const *e = envp; *e; e++) {
		if (strncmp(*e, name, len) == 0 && (*e)[len] == '=')
			return *e + len + 1; /* the first one wins, as with getenv */
	}
	return NULL;
}

/* Only variables named by an option are read; other AGENTLENS_* variables are ignored. */
static bool load_env(struct al_config *cfg, char *const *envp, struct al_config_error *err)
{
	for (size_t i = 0; i < al_options_count; i++) {
		const struct al_option *opt = &al_options[i];
		const char *value = al_config_env_get(envp, opt->env);
		if (value && !set_value(cfg, opt, value, opt->env, err))
			return false;
	}
	return true;
}

static bool is_config_flag(const char *arg)
{
	return strcmp(arg, "--config") == 0 || strncmp(arg, "--config=", 9) == 0;
}

/* --name VALUE, --name=VALUE; booleans: --name (true), --name=VALUE, --no-name (false). */
static bool load_flags(struct al_config *cfg, int argc, char *const argv[], struct al_config_error *err)
{
	for (int i = 0; i < argc; i++) {
		const char *arg = argv[i] ? argv[i] : ""; /* a NULL entry is refused, not read */
		if (strncmp(arg, "--", 2) != 0 || !arg[2])
			return al_config_fail(err, "unexpected argument \"%s\"", arg);
		if (is_config_flag(arg)) { /* read by al_config_load */
			if (!strchr(arg, '='))
				i++;
			continue;
		}
		const char *name = arg + 2, *eq = strchr(name, '='), *value = eq ? eq + 1 : NULL;
		size_t len = eq ? (size_t)(eq - name) : strlen(name);
		const struct al_option *opt = option_by_flag(name, len);
		if (!opt && !eq && len > 3 && strncmp(name, "no-", 3) == 0) {
			opt = option_by_flag(name + 3, len - 3);
			if (opt && opt->type == AL_OPT_BOOL)
				value = "false";
			else
				opt = NULL;
		}
		if (!opt)
			return al_config_fail(err, "unknown flag \"--%.*s\"", (int)len, name);
		if (!value && opt->type == AL_OPT_BOOL)
			value = "true";
		if (!value) {
			if (i + 1 >= argc || strncmp(argv[i + 1], "--", 2) == 0)
				return al_config_fail(err, "flag --%s needs a value", opt->flag);
			value = argv[++i];
		}
		char source[64];
		snprintf(source, sizeof source, "--%s", opt->flag);
		if (!set_value(cfg, opt, value, source, err))
			return false;
	}
	return true;
}

/* Values that follow from others once every source is applied. */
static bool derive(struct al_config *cfg, struct al_config_error *err)
{
	if (!cfg->db_sqlite_path || !cfg->db_sqlite_path[0]) {
		size_t n = strlen(cfg->data_dir) + sizeof "/agentlens.db";
		char *p = malloc(n);
		if (!p)
			return al_config_fail(err, "out of memory");
		snprintf(p, n, "%s/agentlens.db", cfg->data_dir);
		free(cfg->db_sqlite_path);
		cfg->db_sqlite_path = p;
	}
	return true;
}

/* cfg is the caller's and owns its strings afterwards; on failure it is freed (zeroed strings). */
bool al_config_load(struct al_config *cfg, const char *yaml_path, char *const *envp, int argc, char *const argv[],
		    struct al_config_error *err)
{
	for (int i = 0; !yaml_path && i < argc; i++) {
		if (!is_config_flag(argv[i]))
			continue;
		if (argv[i][8] == '=')
			yaml_path = argv[i] + 9;
		else if (i + 1 < argc)
			yaml_path = argv[++i];
		else
			return al_config_fail(err, "flag --config needs a value");
	}
	if (!al_config_defaults(cfg, err))
		return false;
	if (yaml_path && !(cfg->source_file = strdup(yaml_path))) {
		al_config_fail(err, "out of memory");
		goto fail;
	}
	if (yaml_path && !yaml_load_file(cfg, yaml_path, err))
		goto fail;
	if (!load_env(cfg, envp ? envp : environ, err) || !load_flags(cfg, argc, argv, err))
		goto fail;
	if (!al_config_resolve_source_tokens(cfg, envp ? envp : environ, err))
		goto fail;
	if (!derive(cfg, err))
		goto fail;
	return true;
fail:
	al_config_free(cfg);
	return false;
}

/* ---- rendering ----------------------------------------------------------------------- */

/* out is the caller's; the value is truncated to outlen - 1 bytes. */
void al_config_format_value(const struct al_config *cfg, const struct al_option *opt, char *out, size_t outlen)
{
	const void *field = cfield_of(cfg, opt);
	int idx;

	switch (opt->type) {
	case AL_OPT_STRING:
	case AL_OPT_PATH:
		snprintf(out, outlen, "%s", *(char *const *)field ? *(char *const *)field : "");
		break;
	case AL_OPT_INT:
		snprintf(out, outlen, "%" PRId64, *(const int64_t *)field);
		break;
	case AL_OPT_DURATION:
		al_format_duration(*(const int64_t *)field, out, outlen);
		break;
	case AL_OPT_SIZE:
		al_format_size(*(const int64_t *)field, out, outlen);
		break;
	case AL_OPT_BOOL:
		snprintf(out, outlen, "%s", *(const bool *)field ? "true" : "false");
		break;
	case AL_OPT_ENUM:
		idx = *(const int *)field;
		for (int i = 0; opt->choices[i]; i++) {
			if (i == idx) {
				snprintf(out, outlen, "%s", opt->choices[i]);
				return;
			}
		}
		snprintf(out, outlen, "?");
		break;
	}
}

static const char *type_name(enum al_opt_type type)
{
	switch (type) {
	case AL_OPT_STRING:
		return "string";
	case AL_OPT_PATH:
		return "path";
	case AL_OPT_INT:
		return "integer";
	case AL_OPT_BOOL:
		return "boolean";
	case AL_OPT_DURATION:
		return "duration";
	case AL_OPT_SIZE:
		return "size";
	case AL_OPT_ENUM:
		return "enum";
	}
	return "?";
}

/* The argument of a flag in --help. */
static const char *placeholder(enum al_opt_type type)
{
	switch (type) {
	case AL_OPT_INT:
		return "INT";
	case AL_OPT_DURATION:
		return "DURATION";
	case AL_OPT_SIZE:
		return "SIZE";
	case AL_OPT_PATH:
		return "PATH";
	default:
		return "STRING";
	}
}

static const char help_intro[] =
	"Usage: agentlens [COMMAND] [--config FILE] [flags]\n"
	"\n"
	"Commands:\n"
	"  serve             run the server (the default)\n"
	"  version           print the version\n"
	"  check-config      check the configuration and print the effective values\n"
	"  config-reference  print the configuration reference (Markdown)\n"
	"  migrate           apply pending database migrations and list them (--status: only list)\n"
	"  backup FILE       copy the SQLite database consistently while the server runs\n"
	"  run SCRIPT [ARGS] run a Lua script with the agentlens modules (development, tests)\n"
	"\n"
	"Settings come from defaults, then the YAML file given with --config, then AGENTLENS_*\n"
	"environment variables, then flags (--name VALUE or --name=VALUE); later sources win.\n"
	"Durations: 30s, 1500ms, 1h30m. Sizes: 512KiB, 1MiB, 1GiB or a number of bytes.\n"
	"Booleans: true/false, yes/no, on/off, 1/0; a boolean flag alone means true, --no-NAME false.\n"
	"\n"
	"Flags:\n"
	"  --config FILE\n"
	"      YAML configuration file.\n";

/* Caller frees the result (NULL when out of memory). */
char *al_config_help_text(void)
{
	struct al_buf b = AL_BUF_INIT;

	al_buf_puts(&b, help_intro);
	for (size_t i = 0; i < al_options_count; i++) {
		const struct al_option *opt = &al_options[i];
		char accepted[320], arg[256];

		describe_accepted(opt, true, accepted, sizeof accepted);
		if (opt->type == AL_OPT_BOOL)
			snprintf(arg, sizeof arg, "[=BOOL], --no-%s", opt->flag);
		else if (opt->type == AL_OPT_ENUM)
			join_choices(opt, "|", "", arg, sizeof arg);
		else
			snprintf(arg, sizeof arg, "%s", placeholder(opt->type));
		al_buf_printf(&b, "  --%s%s%s\n      %s\n      %s, default %s, accepted: %s\n", opt->flag,
			      opt->type == AL_OPT_BOOL ? "" : " ", arg, opt->help, opt->env,
			      *opt->def ? opt->def : "(empty)", accepted);
	}
	return al_buf_steal(&b, NULL);
}

/* Markdown table cell text: '|' escaped. */
static void md_cell(struct al_buf *b, const char *s)
{
	for (; *s; s++) {
		if (*s == '|')
			al_buf_putc(b, '\\');
		al_buf_putc(b, *s);
	}
}

static const char reference_intro[] =
	"# Configuration reference\n"
	"\n"
	"<!-- Generated from src/core/config_options.c by `agentlens config-reference`; do not edit. -->\n"
	"\n"
	"AgentLens reads its settings from four sources, each overriding the one before: built-in\n"
	"defaults, the YAML file given with `--config FILE`, `AGENTLENS_*` environment variables, and\n"
	"command-line flags (`--port 9090` or `--port=9090`). Nested YAML maps give dotted keys, so\n"
	"`http: {workers: 4}` sets `http.workers`. An unknown key or flag, a duplicate key or an invalid\n"
	"value stops start-up with a message that names it and where it came from; `AGENTLENS_*`\n"
	"variables that belong to no option are ignored. Durations are numbers with units `ns`, `us`,\n"
	"`ms`, `s`, `m` or `h`, possibly several (`30s`, `1500ms`, `1.5s`, `1h30m`; a bare `0` is\n"
	"allowed). Sizes are a number of bytes, optionally followed by `B`, `KB`/`KiB`, `MB`/`MiB` or\n"
	"`GB`/`GiB` (all powers of 1024). Booleans are `true`/`false`, `yes`/`no`, `on`/`off` or\n"
	"`1`/`0` in any case; a boolean flag alone (`--lua-watch`) means true and `--no-lua-watch`\n"
	"means false. Enumerated values are accepted in any case.\n"
	"\n"
	"Besides the options below, the file may hold `sources:`, a list of static discovery sources\n"
	"(`name`, `type`, `url`, `team`, `tags`, `headers`, `auth`, `interval`; see\n"
	"[discovery.md](discovery.md)). It has no environment variable or flag, is checked like the\n"
	"options (a message names the key, e.g. `sources[2].type`), and is read again when the file\n"
	"changes; the options below keep their start-up values until a restart.\n"
	"\n"
	"| Key | Environment variable | Flag | Type | Default | Accepted values | Description |\n"
	"|---|---|---|---|---|---|---|\n";

/* Caller frees the result (NULL when out of memory). */
char *al_config_reference_markdown(void)
{
	struct al_buf b = AL_BUF_INIT;

	al_buf_puts(&b, reference_intro);
	for (size_t i = 0; i < al_options_count; i++) {
		const struct al_option *opt = &al_options[i];
		char accepted[320];

		al_buf_printf(&b, "| `%s` | `%s` | `--%s`", opt->key, opt->env, opt->flag);
		if (opt->type == AL_OPT_BOOL)
			al_buf_printf(&b, ", `--no-%s`", opt->flag);
		al_buf_printf(&b, " | %s | ", type_name(opt->type));
		if (*opt->def) {
			al_buf_putc(&b, '`');
			md_cell(&b, opt->def);
			al_buf_putc(&b, '`');
		} else {
			al_buf_puts(&b, "(empty)");
		}
		al_buf_puts(&b, " | ");
		if (opt->type == AL_OPT_ENUM || opt->type == AL_OPT_BOOL) {
			if (opt->type == AL_OPT_ENUM)
				join_choices(opt, ", ", "`", accepted, sizeof accepted);
			else
				snprintf(accepted, sizeof accepted, "`true`, `false`");
		} else {
			describe_accepted(opt, true, accepted, sizeof accepted);
		}
		md_cell(&b, accepted);
		al_buf_puts(&b, " | ");
		md_cell(&b, opt->help);
		al_buf_puts(&b, " |\n");
	}
	return al_buf_steal(&b, NULL);
}
