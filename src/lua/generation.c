/* SPDX-License-Identifier: Apache-2.0 */
/* Reads Lua sources (embedded or from disk), validates them in a scratch state, publishes. */
#define _GNU_SOURCE
#include "lua/generation.h"

#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/buf.h"
#include "core/clock.h"
#include "core/config.h"
#include "core/embedded.h"
#include "core/log.h"
#include "http/router.h"
#include "lua/vm.h"

const struct al_config *al_lua_config;

static struct {
	pthread_mutex_t lock; /* guards current, last_error, next_id; held only briefly */
	struct al_generation *current;
	_Atomic uint64_t current_id;
	uint64_t next_id;
	struct al_reload_error last_error;
	pthread_mutex_t reload_lock; /* one reload at a time */
} gens = {.lock = PTHREAD_MUTEX_INITIALIZER, .reload_lock = PTHREAD_MUTEX_INITIALIZER};

struct source_list {
	struct al_source *items;
	size_t n, cap;
};

static void sources_free(struct al_source *items, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(items[i].name);
		free(items[i].file);
		free(items[i].code);
	}
	free(items);
}

static bool sources_add(struct source_list *l, char *name, char *file, char *code, size_t len)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 32;
		struct al_source *grown = realloc(l->items, cap * sizeof *grown);
		if (!grown)
			goto fail;
		l->items = grown;
		l->cap = cap;
	}
	if (!name || !file || !code)
		goto fail;
	l->items[l->n++] = (struct al_source){name, file, code, len};
	return true;
fail:
	free(name);
	free(file);
	free(code);
	return false;
}

/* "agentlens/api/system.lua" -> "agentlens.api.system"; ".../init.lua" -> the package name. */
static char *module_name(const char *rel)
{
	size_t len = strlen(rel);
	if (len < 5 || strcmp(rel + len - 4, ".lua") != 0)
		return NULL;
	char *name = strndup(rel, len - 4);
	if (!name)
		return NULL;
	for (char *p = name; *p; p++)
		if (*p == '/')
			*p = '.';
	size_t n = strlen(name);
	if (n > 5 && strcmp(name + n - 5, ".init") == 0)
		name[n - 5] = '\0';
	return name;
}

static int cmp_source(const void *a, const void *b)
{
	return strcmp(((const struct al_source *)a)->name, ((const struct al_source *)b)->name);
}

static bool read_file(const char *path, char **out, size_t *len, char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return false;
	}
	struct al_buf b = AL_BUF_INIT;
	char chunk[16384];
	size_t n;
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
		al_buf_append(&b, chunk, n);
	bool failed = ferror(f) || b.oom;
	fclose(f);
	if (failed) {
		snprintf(err, errlen, "%s: read error", path);
		al_buf_free(&b);
		return false;
	}
	*out = al_buf_steal(&b, len);
	return *out != NULL;
}

static bool load_embedded(struct source_list *l, char *err, size_t errlen)
{
	for (size_t i = 0; i < al_embedded_lua_count; i++) {
		const struct al_embedded_file *f = &al_embedded_lua[i];
		char *name = module_name(f->path);
		if (!name)
			continue;
		char *file = malloc(strlen(f->path) + 5);
		if (file)
			sprintf(file, "lua/%s", f->path);
		char *code = malloc(f->size + 1);
		if (code) {
			memcpy(code, f->data, f->size);
			code[f->size] = '\0';
		}
		if (!sources_add(l, name, file, code, f->size)) {
			snprintf(err, errlen, "out of memory");
			return false;
		}
	}
	return true;
}

/* nftw has no user pointer: the walk state lives in these thread-confined statics (reloads
 * are serialised by gens.reload_lock). */
static struct {
	struct source_list *list;
	size_t root_len;
	char *err;
	size_t errlen;
	bool failed;
} walk;

static int walk_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	if (type != FTW_F)
		return 0;
	const char *rel = path + walk.root_len;
	while (*rel == '/')
		rel++;
	char *name = module_name(rel);
	if (!name)
		return 0;
	char *code;
	size_t len;
	if (!read_file(path, &code, &len, walk.err, walk.errlen)) {
		free(name);
		walk.failed = true;
		return 1;
	}
	if (!sources_add(walk.list, name, strdup(path), code, len)) {
		snprintf(walk.err, walk.errlen, "out of memory");
		walk.failed = true;
		return 1;
	}
	return 0;
}

static bool load_dir_tree(struct source_list *l, const char *dir, char *err, size_t errlen)
{
	walk.list = l;
	walk.root_len = strlen(dir);
	walk.err = err;
	walk.errlen = errlen;
	walk.failed = false;
	if (nftw(dir, walk_entry, 16, FTW_PHYS) != 0 && !walk.failed) {
		snprintf(err, errlen, "lua_dir %s: %s", dir, strerror(errno));
		return false;
	}
	return !walk.failed;
}

/* Operator scripts: *.lua directly in dir, in name order (the order rules are tried in). */
static bool load_scripts_dir(struct source_list *l, const char *dir, char *err, size_t errlen)
{
	struct dirent **entries;
	int n = scandir(dir, &entries, NULL, alphasort);
	if (n < 0) {
		snprintf(err, errlen, "scripts_dir %s: %s", dir, strerror(errno));
		return false;
	}
	bool ok = true;
	for (int i = 0; i < n; i++) {
		const char *fn = entries[i]->d_name;
		size_t len = strlen(fn);
		if (ok && fn[0] != '.' && len > 4 && strcmp(fn + len - 4, ".lua") == 0) {
			char *path = malloc(strlen(dir) + len + 2);
			char *code = NULL;
			size_t clen = 0;
			if (path)
				sprintf(path, "%s/%s", dir, fn);
			if (!path || !read_file(path, &code, &clen, err, errlen)) {
				free(path);
				ok = false;
			} else if (!sources_add(l, strndup(fn, len - 4), path, code, clen)) {
				snprintf(err, errlen, "out of memory");
				ok = false;
			}
		}
		free(entries[i]);
	}
	free(entries);
	return ok;
}

static void generation_free(struct al_generation *g)
{
	sources_free(g->modules, g->nmodules);
	sources_free(g->scripts, g->nscripts);
	al_router_free(g->router);
	free(g);
}

void al_generation_release(struct al_generation *g)
{
	if (g && atomic_fetch_sub(&g->refs, 1) == 1)
		generation_free(g);
}

struct al_generation *al_generation_acquire(void)
{
	pthread_mutex_lock(&gens.lock);
	struct al_generation *g = gens.current;
	if (g)
		atomic_fetch_add(&g->refs, 1);
	pthread_mutex_unlock(&gens.lock);
	return g;
}

uint64_t al_generation_current_id(void)
{
	return atomic_load_explicit(&gens.current_id, memory_order_acquire);
}

const struct al_source *al_generation_module(const struct al_generation *g, const char *name)
{
	struct al_source key = {.name = (char *)name};
	return bsearch(&key, g->modules, g->nmodules, sizeof key, cmp_source);
}

void al_generation_last_error(struct al_reload_error *out)
{
	pthread_mutex_lock(&gens.lock);
	*out = gens.last_error;
	pthread_mutex_unlock(&gens.lock);
}

/* Lua error messages start with "file:line:"; keep both for the admin view. */
static void record_error(const char *message)
{
	struct al_reload_error e = {.present = true, .at_us = al_now_us()};
	snprintf(e.message, sizeof e.message, "%s", message);
	const char *colon = strchr(message, ':');
	if (colon && colon[1] >= '0' && colon[1] <= '9' && (size_t)(colon - message) < sizeof e.file) {
		memcpy(e.file, message, (size_t)(colon - message));
		e.file[colon - message] = '\0';
		e.line = atoi(colon + 1);
	}
	pthread_mutex_lock(&gens.lock);
	gens.last_error = e;
	pthread_mutex_unlock(&gens.lock);
}

static struct al_generation *build(char *err, size_t errlen)
{
	const struct al_config *cfg = al_lua_config;
	struct source_list mods = {0}, scripts = {0};
	struct al_generation *g = NULL;
	struct al_vm *vm = NULL;
	bool from_disk = cfg && cfg->lua_dir && cfg->lua_dir[0];
	if (!(from_disk ? load_dir_tree(&mods, cfg->lua_dir, err, errlen) : load_embedded(&mods, err, errlen)))
		goto fail;
	if (cfg && cfg->scripts_dir && cfg->scripts_dir[0] && !load_scripts_dir(&scripts, cfg->scripts_dir, err, errlen))
		goto fail;
	if (mods.n)
		qsort(mods.items, mods.n, sizeof *mods.items, cmp_source);
	for (size_t i = 1; i < mods.n; i++) {
		if (strcmp(mods.items[i - 1].name, mods.items[i].name) == 0) {
			snprintf(err, errlen, "%s: module %s is defined twice (also %s)", mods.items[i].file,
				 mods.items[i].name, mods.items[i - 1].file);
			goto fail;
		}
	}
	if (!(g = calloc(1, sizeof *g))) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	atomic_init(&g->refs, 1);
	g->modules = mods.items;
	g->nmodules = mods.n;
	g->scripts = scripts.items;
	g->nscripts = scripts.n;
	mods = (struct source_list){0};
	scripts = (struct source_list){0};
	g->created_us = al_now_us();
	g->origin = from_disk ? cfg->lua_dir : "embedded";
	if (!(vm = al_vm_new(g, AL_VM_VALIDATE, &g->router, err, errlen)))
		goto fail;
	al_vm_free(vm);
	return g;
fail:
	sources_free(mods.items, mods.n);
	sources_free(scripts.items, scripts.n);
	if (g)
		al_generation_release(g);
	return NULL;
}

bool al_generation_reload(char *err, size_t errlen)
{
	pthread_mutex_lock(&gens.reload_lock);
	int64_t t0 = al_monotonic_ns();
	struct al_generation *g = build(err, errlen);
	if (!g) {
		record_error(err);
		struct al_log_field f[] = {AL_LSTR("error", err)};
		al_log_fields(AL_LOG_ERROR, "lua reload failed; the previous generation keeps serving", f, 1);
		pthread_mutex_unlock(&gens.reload_lock);
		return false;
	}
	pthread_mutex_lock(&gens.lock);
	g->id = ++gens.next_id;
	struct al_generation *old = gens.current;
	gens.current = g;
	gens.last_error.present = false;
	atomic_store_explicit(&gens.current_id, g->id, memory_order_release);
	pthread_mutex_unlock(&gens.lock);
	al_generation_release(old);
	struct al_log_field f[] = {
		AL_LINT("generation", g->id), AL_LSTR("origin", g->origin), AL_LINT("modules", g->nmodules),
		AL_LINT("scripts", g->nscripts), AL_LINT("routes", al_router_count(g->router)),
		AL_LDBL("duration_ms", (double)(al_monotonic_ns() - t0) / 1e6),
	};
	al_log_fields(AL_LOG_INFO, "lua generation published", f, sizeof f / sizeof f[0]);
	pthread_mutex_unlock(&gens.reload_lock);
	return true;
}

void al_generation_clear(void)
{
	pthread_mutex_lock(&gens.lock);
	struct al_generation *old = gens.current;
	gens.current = NULL;
	pthread_mutex_unlock(&gens.lock);
	al_generation_release(old);
}
