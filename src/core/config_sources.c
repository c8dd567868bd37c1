/* SPDX-License-Identifier: Apache-2.0 */
/* The sources: list of the configuration file (static A2A/MCP sources), the bearer tokens its
 * items name, and the list read again when the file changes. */
#include "core/config.h"
#include "core/config_internal.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "core/units.h"

extern char **environ;

/* Frees what s owns and zeroes it. */
void al_config_source_free(struct al_config_source *s)
{
	free(s->name);
	free(s->url);
	free(s->team);
	for (size_t i = 0; i < s->ntags; i++)
		free(s->tags[i]);
	free(s->tags);
	for (size_t i = 0; i < s->nheaders; i++) {
		free(s->headers[i].name);
		free(s->headers[i].value);
	}
	free(s->headers);
	free(s->auth_token_env);
	memset(s, 0, sizeof *s);
}

/* ---- sources: a list of maps ----------------------------------------------------------- */

static const char source_keys_text[] = "name, type, url, team, tags, headers, auth, interval";

#define ITEM_MAX 512 /* a key path inside sources, e.g. "sources[3].headers.X-Api-Key" */

/* A copy of a scalar's text; fails (with the path) on a non-scalar, NUL bytes or no memory. */
static bool yaml_scalar_copy(struct yaml_load *y, const yaml_event_t *ev, const char *path, char **out)
{
	size_t line = ev->start_mark.line + 1;

	if (ev->type != YAML_SCALAR_EVENT)
		return al_config_fail(y->err, "%s: must be a single value (%s line %zu)", path, y->file, line);
	const char *v = (const char *)ev->data.scalar.value;
	if (strlen(v) != ev->data.scalar.length)
		return al_config_fail(y->err, "%s: contains a NUL character (%s line %zu)", path, y->file, line);
	if (!(*out = strdup(al_config_yaml_is_null(ev) ? "" : v)))
		return al_config_fail(y->err, "%s: out of memory", y->file);
	return true;
}

static bool yaml_expect_end(struct yaml_load *y, yaml_event_t *ev, yaml_event_type_t end, bool *done)
{
	if (!al_config_yaml_next(y, ev))
		return false;
	*done = ev->type == end;
	if (*done)
		yaml_event_delete(ev);
	return true;
}

/* tags: a list of single values (or null). */
static bool yaml_source_tags(struct yaml_load *y, struct al_config_source *s, const yaml_event_t *start,
			     const char *path)
{
	if (start->type == YAML_SCALAR_EVENT && al_config_yaml_is_null(start))
		return true;
	if (start->type != YAML_SEQUENCE_START_EVENT)
		return al_config_fail(y->err, "%s: must be a list of tags (%s line %zu)", path, y->file,
				      start->start_mark.line + 1);
	for (size_t i = 0;; i++) {
		yaml_event_t ev;
		bool done;
		char item[ITEM_MAX], *v = NULL;
		if (!yaml_expect_end(y, &ev, YAML_SEQUENCE_END_EVENT, &done))
			return false;
		if (done)
			return true;
		snprintf(item, sizeof item, "%.300s[%zu]", path, i);
		bool ok = yaml_scalar_copy(y, &ev, item, &v);
		yaml_event_delete(&ev);
		if (!ok || !v)
			return false;
		char **tags = realloc(s->tags, (s->ntags + 1) * sizeof *tags);
		if (!tags) {
			free(v);
			return al_config_fail(y->err, "%s: out of memory", y->file);
		}
		s->tags = tags;
		s->tags[s->ntags++] = v;
		if (!*v)
			return al_config_fail(y->err, "%s: must not be empty (%s line %zu)", item, y->file,
					      start->start_mark.line + 1);
	}
}

static bool is_token_char(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c && strchr("!#$%&'*+-.^_`|~", c));
}

/* Appends a header that takes name and value (freed here when there is no memory). */
static bool source_push_header(struct al_config_source *s, char *name, char *value)
{
	struct al_config_source_header *h = realloc(s->headers, (s->nheaders + 1) * sizeof *h);
	if (!h) {
		free(name);
		free(value);
		return false;
	}
	s->headers = h;
	s->headers[s->nheaders++] = (struct al_config_source_header){.name = name, .value = value};
	return true;
}

/* A map of single values, read pair by pair; each pair goes to take(). */
typedef bool (*pair_fn)(struct yaml_load *y, struct al_config_source *s, const char *path, char *key, char *value,
			size_t line);

static bool yaml_source_map(struct yaml_load *y, struct al_config_source *s, const yaml_event_t *start,
			    const char *path, const char *what, pair_fn take)
{
	if (start->type == YAML_SCALAR_EVENT && al_config_yaml_is_null(start))
		return true;
	if (start->type != YAML_MAPPING_START_EVENT)
		return al_config_fail(y->err, "%s: must be a map of %s (%s line %zu)", path, what, y->file,
				      start->start_mark.line + 1);
	for (;;) {
		yaml_event_t ev;
		bool done;
		char *key = NULL, *value = NULL, item[ITEM_MAX];
		if (!yaml_expect_end(y, &ev, YAML_MAPPING_END_EVENT, &done))
			return false;
		if (done)
			return true;
		size_t line = ev.start_mark.line + 1;
		bool ok = yaml_scalar_copy(y, &ev, path, &key);
		yaml_event_delete(&ev);
		if (!ok)
			return false;
		snprintf(item, sizeof item, "%.300s.%.200s", path, key);
		if (!al_config_yaml_remember(y, item, line) || !al_config_yaml_next(y, &ev)) {
			free(key);
			return false;
		}
		ok = yaml_scalar_copy(y, &ev, item, &value);
		yaml_event_delete(&ev);
		if (!ok) {
			free(key);
			return false;
		}
		if (!take(y, s, item, key, value, line))
			return false;
	}
}

static bool take_header(struct yaml_load *y, struct al_config_source *s, const char *path, char *key, char *value,
			size_t line)
{
	bool name_ok = *key != '\0';
	for (const char *c = key; *c; c++)
		name_ok = name_ok && is_token_char((unsigned char)*c);
	bool value_ok = !strpbrk(value, "\r\n");
	if (!name_ok || !value_ok) {
		free(key);
		free(value);
		return al_config_fail(
		    y->err, "%s: %s (%s line %zu)", path,
		    name_ok ? "a header value must not contain line breaks" : "not a valid header name", y->file, line);
	}
	if (!source_push_header(s, key, value))
		return al_config_fail(y->err, "%s: out of memory", y->file);
	return true;
}

static bool take_auth(struct yaml_load *y, struct al_config_source *s, const char *path, char *key, char *value,
		      size_t line)
{
	bool ok = true;
	if (strcmp(key, "type") == 0) {
		if (strcmp(value, "bearer") != 0)
			ok = al_config_fail(y->err, "%s: \"%.64s\" is not one of bearer (%s line %zu)", path, value,
					    y->file, line);
	} else if (strcmp(key, "token_env") == 0) {
		if (!*value)
			ok = al_config_fail(y->err, "%s: must name an environment variable (%s line %zu)", path,
					    y->file, line);
		else {
			free(s->auth_token_env);
			s->auth_token_env = value;
			value = NULL;
		}
	} else {
		ok = al_config_fail(y->err, "%s: unknown key (expected type, token_env) in %s line %zu", path, y->file,
				    line);
	}
	free(key);
	free(value);
	return ok;
}

static bool url_ok(const char *u)
{
	const char *host = NULL;
	if (strncasecmp(u, "http://", 7) == 0)
		host = u + 7;
	else if (strncasecmp(u, "https://", 8) == 0)
		host = u + 8;
	if (!host || !*host || *host == '/' || *host == '?' || *host == '#')
		return false;
	for (const char *c = u; *c; c++) {
		if ((unsigned char)*c <= ' ' || *c == 0x7f)
			return false;
	}
	return true;
}

static bool is_source_name(const char *n)
{
	if (!((*n >= '0' && *n <= '9') || (*n >= 'a' && *n <= 'z') || (*n >= 'A' && *n <= 'Z')))
		return false;
	size_t len = 0;
	for (const char *c = n; *c; c++, len++) {
		if (!((*c >= '0' && *c <= '9') || (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || *c == '-' ||
		      *c == '_' || *c == '.'))
			return false;
	}
	return len <= 200;
}

/* One item of sources:, after its MAPPING_START; appended to cfg->sources when valid. */
static bool yaml_source(struct yaml_load *y, size_t index, size_t line)
{
	struct al_config_source s = {.line = line};
	char path[64], auth_path[ITEM_MAX] = "";
	bool has_auth = false, has_type = false, ok = false;

	snprintf(path, sizeof path, "sources[%zu]", index);
	for (;;) {
		yaml_event_t ev;
		bool done;
		char *key = NULL, item[ITEM_MAX];
		if (!yaml_expect_end(y, &ev, YAML_MAPPING_END_EVENT, &done))
			goto fail;
		if (done)
			break;
		size_t kline = ev.start_mark.line + 1;
		bool good = yaml_scalar_copy(y, &ev, path, &key);
		yaml_event_delete(&ev);
		if (!good || !key)
			goto fail;
		snprintf(item, sizeof item, "%s.%.200s", path, key);
		bool known = false;
		static const char *const keys[] = {"name",    "type", "url",	  "team", "tags",
						   "headers", "auth", "interval", NULL};
		for (int i = 0; keys[i]; i++)
			known = known || strcmp(keys[i], key) == 0;
		if (!known) {
			al_config_fail(y->err, "%s: unknown key (expected %s) in %s line %zu", item, source_keys_text,
				       y->file, kline);
			free(key);
			goto fail;
		}
		if (!al_config_yaml_remember(y, item, kline) || !al_config_yaml_next(y, &ev)) {
			free(key);
			goto fail;
		}
		size_t vline = ev.start_mark.line + 1;
		char *v = NULL;
		if (strcmp(key, "tags") == 0) {
			good = yaml_source_tags(y, &s, &ev, item);
		} else if (strcmp(key, "headers") == 0) {
			good = yaml_source_map(y, &s, &ev, item, "header names to values", take_header);
		} else if (strcmp(key, "auth") == 0) {
			has_auth = true;
			snprintf(auth_path, sizeof auth_path, "%s", item);
			good = yaml_source_map(y, &s, &ev, item, "type and token_env", take_auth);
		} else if ((good = yaml_scalar_copy(y, &ev, item, &v))) {
			char shown[300];
			al_config_show_value(v, shown, sizeof shown);
			if (strcmp(key, "name") == 0) {
				if (!is_source_name(v))
					good = al_config_fail(
					    y->err,
					    "%s: \"%s\" is not a valid name (letters, digits, '.', '_' and '-', "
					    "starting with a letter or digit) in %s line %zu",
					    item, shown, y->file, vline);
				else
					s.name = v, v = NULL;
			} else if (strcmp(key, "type") == 0) {
				if (strcasecmp(v, "a2a") == 0)
					s.type = AL_SOURCE_A2A;
				else if (strcasecmp(v, "mcp") == 0)
					s.type = AL_SOURCE_MCP;
				else
					good = al_config_fail(y->err, "%s: \"%s\" is not one of a2a, mcp (%s line %zu)",
							      item, shown, y->file, vline);
				has_type = good;
			} else if (strcmp(key, "url") == 0) {
				if (!url_ok(v))
					good = al_config_fail(
					    y->err, "%s: \"%s\" is not an http:// or https:// URL (%s line %zu)", item,
					    shown, y->file, vline);
				else
					s.url = v, v = NULL;
			} else if (strcmp(key, "team") == 0) {
				if (*v)
					s.team = v, v = NULL;
			} else { /* interval */
				int64_t ms;
				if (!al_parse_duration_ms(v, &ms) || ms < 1000 || ms > INT64_C(86400000))
					good = al_config_fail(
					    y->err,
					    "%s: invalid value \"%s\" (%s line %zu): expected a duration between 1s "
					    "and 24h, such as 30s or 5m",
					    item, shown, y->file, vline);
				else
					s.interval_ms = ms;
			}
		}
		free(v);
		yaml_event_delete(&ev);
		free(key);
		if (!good)
			goto fail;
	}
	const char *missing = !s.name ? "name" : !has_type ? "type" : !s.url ? "url" : NULL;
	if (missing) {
		al_config_fail(y->err, "%s.%s: is required (the source in %s line %zu)", path, missing, y->file, line);
		goto fail;
	}
	if (has_auth && !s.auth_token_env) {
		al_config_fail(y->err, "%s.token_env: is required (%s line %zu)", auth_path, y->file, line);
		goto fail;
	}
	for (size_t i = 0; i < s.nheaders; i++) {
		if (has_auth && strcasecmp(s.headers[i].name, "Authorization") == 0) {
			al_config_fail(y->err,
				       "%s.headers.%s: set auth or an Authorization header, not both (%s line %zu)",
				       path, s.headers[i].name, y->file, line);
			goto fail;
		}
	}
	for (size_t i = 0; i < y->cfg->nsources; i++) {
		if (strcmp(y->cfg->sources[i].name, s.name) == 0) {
			char shown[300];
			al_config_show_value(s.name, shown, sizeof shown);
			al_config_fail(
			    y->err,
			    "%s.name: \"%s\" is already the name of sources[%zu] (%s line %zu); names must be unique",
			    path, shown, i, y->file, line);
			goto fail;
		}
	}
	struct al_config_source *list = realloc(y->cfg->sources, (y->cfg->nsources + 1) * sizeof *list);
	if (!list) {
		al_config_fail(y->err, "%s: out of memory", y->file);
		goto fail;
	}
	y->cfg->sources = list;
	list[y->cfg->nsources++] = s;
	memset(&s, 0, sizeof s);
	ok = true;
fail:
	al_config_source_free(&s);
	return ok;
}

/* sources: null, or a list of maps (name, type, url, ...). */
bool al_config_yaml_sources(struct yaml_load *y, const yaml_event_t *ev)
{
	size_t line = ev->start_mark.line + 1;

	if (ev->type == YAML_SCALAR_EVENT && al_config_yaml_is_null(ev))
		return true;
	if (ev->type != YAML_SEQUENCE_START_EVENT)
		return al_config_fail(
		    y->err, "sources: must be a list of sources (name, type, url, ...) in %s line %zu", y->file, line);
	for (size_t i = 0;; i++) {
		yaml_event_t item;
		bool done;
		if (!yaml_expect_end(y, &item, YAML_SEQUENCE_END_EVENT, &done))
			return false;
		if (done)
			return true;
		size_t iline = item.start_mark.line + 1;
		bool is_map = item.type == YAML_MAPPING_START_EVENT;
		yaml_event_delete(&item);
		if (!is_map)
			return al_config_fail(y->err, "sources[%zu]: must be a map (%s) in %s line %zu", i,
					      source_keys_text, y->file, iline);
		if (!yaml_source(y, i, iline))
			return false;
	}
}

/* Bearer tokens come from the environment when the configuration is loaded: a variable that is
 * missing or empty stops start-up. */
bool al_config_resolve_source_tokens(struct al_config *cfg, char *const *envp, struct al_config_error *err)
{
	for (size_t i = 0; i < cfg->nsources; i++) {
		struct al_config_source *s = &cfg->sources[i];
		if (!s->auth_token_env)
			continue;
		const char *token = al_config_env_get(envp, s->auth_token_env);
		if (!token || !*token)
			return al_config_fail(
			    err,
			    "sources[%zu].auth.token_env: environment variable %s is %s (source \"%s\" in %s "
			    "line %zu)",
			    i, s->auth_token_env, token ? "empty" : "not set", s->name,
			    cfg->source_file ? cfg->source_file : "the config", s->line);
		if (strpbrk(token, "\r\n"))
			return al_config_fail(
			    err, "sources[%zu].auth.token_env: environment variable %s contains a line break", i,
			    s->auth_token_env);
		size_t n = strlen(token) + sizeof "Bearer ";
		char *name = strdup("Authorization"), *value = malloc(n);
		if (!name || !value) {
			free(name);
			free(value);
			return al_config_fail(err, "out of memory");
		}
		snprintf(value, n, "Bearer %s", token);
		if (!source_push_header(s, name, value))
			return al_config_fail(err, "out of memory");
	}
	return true;
}

/* ---- sources read again when the file changes ----------------------------------------- */

struct reloaded_sources {
	struct al_config cfg; /* a whole configuration; only its sources are used */
	int refs;	      /* guarded by src_reload.lock; "current" holds one */
};

static struct {
	pthread_mutex_t lock;
	char *path; /* the file the stamp below belongs to */
	bool known;
	struct stat st;
	struct reloaded_sources *current; /* NULL: the start-up configuration's sources */
} src_reload = {.lock = PTHREAD_MUTEX_INITIALIZER};

static void reloaded_release_locked(struct reloaded_sources *r)
{
	if (r && --r->refs == 0) {
		al_config_free(&r->cfg);
		free(r);
	}
}

static bool same_file_state(const struct stat *a, const struct stat *b)
{
	return a->st_ino == b->st_ino && a->st_dev == b->st_dev && a->st_size == b->st_size &&
	       a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

/* view is the caller's; the reference it receives is released with al_config_sources_release. */
int al_config_sources_acquire(const struct al_config *cfg, struct al_config_source_view *view, char *err, size_t errlen)
{
	int rc = 0;
	struct stat st;

	pthread_mutex_lock(&src_reload.lock);
	if (cfg->source_file && (!src_reload.path || strcmp(src_reload.path, cfg->source_file) != 0)) {
		char *path = strdup(cfg->source_file);
		if (path) {
			free(src_reload.path);
			src_reload.path = path;
			src_reload.known = false;
			reloaded_release_locked(src_reload.current);
			src_reload.current = NULL;
		}
	}
	if (cfg->source_file && src_reload.path && stat(cfg->source_file, &st) == 0) {
		if (!src_reload.known) {
			src_reload.st = st;
			src_reload.known = true;
		} else if (!same_file_state(&st, &src_reload.st)) {
			src_reload.st = st; /* a bad file is reported once per change */
			struct reloaded_sources *fresh = calloc(1, sizeof *fresh);
			struct al_config_error e = {{0}};
			if (fresh && al_config_load(&fresh->cfg, cfg->source_file, environ, 0, NULL, &e)) {
				fresh->refs = 1;
				reloaded_release_locked(src_reload.current);
				src_reload.current = fresh;
				rc = 1;
			} else {
				snprintf(err, errlen, "%s", fresh ? e.message : "out of memory");
				free(fresh); /* al_config_load freed what it had filled */
				rc = -1;
			}
		}
	}
	if (src_reload.current) {
		src_reload.current->refs++;
		*view = (struct al_config_source_view){
		    .items = src_reload.current->cfg.sources,
		    .n = src_reload.current->cfg.nsources,
		    .ref = src_reload.current,
		};
	} else {
		*view = (struct al_config_source_view){.items = cfg->sources, .n = cfg->nsources};
	}
	pthread_mutex_unlock(&src_reload.lock);
	return rc;
}

void al_config_sources_release(struct al_config_source_view *view)
{
	pthread_mutex_lock(&src_reload.lock);
	reloaded_release_locked(view->ref);
	pthread_mutex_unlock(&src_reload.lock);
	*view = (struct al_config_source_view){0};
}
