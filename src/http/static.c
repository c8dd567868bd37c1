/* SPDX-License-Identifier: Apache-2.0 */
/* Embedded static assets: lookup by path, content types, cache policy, SPA fallback. */
#include "http/static.h"

#include <stdlib.h>
#include <string.h>

struct type_map {
	const char *ext;
	const char *type;
};

static const struct type_map types[] = {
	{".html", "text/html; charset=utf-8"},
	{".js", "text/javascript; charset=utf-8"},
	{".mjs", "text/javascript; charset=utf-8"},
	{".css", "text/css; charset=utf-8"},
	{".json", "application/json"},
	{".map", "application/json"},
	{".svg", "image/svg+xml"},
	{".png", "image/png"},
	{".ico", "image/x-icon"},
	{".webp", "image/webp"},
	{".woff2", "font/woff2"},
	{".woff", "font/woff"},
	{".txt", "text/plain; charset=utf-8"},
	{".webmanifest", "application/manifest+json"},
	{NULL, NULL},
};

static const char *content_type_of(const char *path)
{
	const char *dot = strrchr(path, '.');
	const char *slash = strrchr(path, '/');
	if (dot && (!slash || dot > slash))
		for (size_t i = 0; types[i].ext; i++)
			if (strcasecmp(dot, types[i].ext) == 0)
				return types[i].type;
	return "application/octet-stream";
}

static int cmp_path(const void *key, const void *elem)
{
	return strcmp(key, ((const struct al_embedded_file *)elem)->path);
}

/* The embedded table is sorted by path (cmake/embed.cmake sorts), so bsearch works. */
static const struct al_embedded_file *find(const char *rel)
{
	return bsearch(rel, al_embedded_assets, al_embedded_assets_count, sizeof al_embedded_assets[0], cmp_path);
}

static bool safe_path(const char *path)
{
	if (path[0] != '/')
		return false;
	for (const char *p = path; *p; p++) {
		unsigned char c = (unsigned char)*p;
		if (c < 0x20 || c == 0x7f || c == '\\')
			return false;
		if (c == '/' && (p[1] == '/' || (p[1] == '.' && (p[2] == '/' || p[2] == '\0' ||
								     (p[2] == '.' && (p[3] == '/' || p[3] == '\0'))))))
			return false;
	}
	return true;
}

static void found(const struct al_embedded_file *f, struct al_static_result *out)
{
	out->file = f;
	out->content_type = content_type_of(f->path);
	/* Vite writes content-hashed file names under assets/: they never change. */
	if (strncmp(f->path, "assets/", 7) == 0)
		out->cache_control = "public, max-age=31536000, immutable";
	else if (strcmp(f->path, "index.html") == 0)
		out->cache_control = "no-cache";
	else
		out->cache_control = "public, max-age=3600";
}

void al_static_resolve(const char *path, struct al_static_result *out)
{
	*out = (struct al_static_result){0};
	if (!safe_path(path))
		return;
	const char *rel = path + 1;
	const struct al_embedded_file *f = *rel ? find(rel) : NULL;
	if (f) {
		found(f, out);
		return;
	}
	/* Client-side routes (/catalog/abc) get the app; missing files (/assets/x.js) do not. */
	const char *last = strrchr(path, '/');
	if (strchr(last, '.') || strncmp(rel, "assets/", 7) == 0)
		return;
	if ((f = find("index.html")))
		found(f, out);
}
