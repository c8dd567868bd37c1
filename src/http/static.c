/* SPDX-License-Identifier: Apache-2.0 */
/* Embedded static assets: lookup by path, content types, cache policy, gzip variants, SPA
 * fallback. The build (cmake/web-build.cmake) embeds FILE.gz next to each compressible FILE. */
#include "http/static.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

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

/* The precompressed variant of f, if the build embedded one. */
static const struct al_embedded_file *gzip_variant(const struct al_embedded_file *f)
{
	char name[512];
	int n = snprintf(name, sizeof name, "%s.gz", f->path);
	if (n < 0 || (size_t)n >= sizeof name)
		return NULL;
	return find(name);
}

static void found(const struct al_embedded_file *f, bool gzip_ok, struct al_static_result *out)
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
	const struct al_embedded_file *gz = gzip_variant(f);
	if (gz) {
		out->has_variants = true;
		if (gzip_ok) {
			out->file = gz;
			out->content_encoding = "gzip";
		}
	}
}

/* "x.js.gz" when "x.js" is embedded too: a variant, reached only through Accept-Encoding. */
static bool is_variant(const char *rel)
{
	size_t n = strlen(rel);
	if (n < 4 || strcmp(rel + n - 3, ".gz") != 0 || n - 3 >= 512)
		return false;
	char base[512];
	memcpy(base, rel, n - 3);
	base[n - 3] = '\0';
	return find(base) != NULL;
}

void al_static_resolve(const char *path, bool gzip_ok, struct al_static_result *out)
{
	*out = (struct al_static_result){0};
	if (!safe_path(path))
		return;
	const char *rel = path + 1;
	const struct al_embedded_file *f = *rel ? find(rel) : NULL;
	if (f && is_variant(rel))
		return;
	if (f) {
		found(f, gzip_ok, out);
		return;
	}
	/* Client-side routes (/catalog/abc) get the app; missing files (/assets/x.js) do not. */
	const char *last = strrchr(path, '/');
	if (strchr(last, '.') || strncmp(rel, "assets/", 7) == 0)
		return;
	if ((f = find("index.html")))
		found(f, gzip_ok, out);
}

/* Accept-Encoding (RFC 9110 12.5.3): "gzip;q=0.8, br", "*", "identity". The weight of gzip is
 * that of "gzip" or "x-gzip" when listed, else that of "*", else 0. */
bool al_static_accepts_gzip(const char *h)
{
	if (!h)
		return false;
	int gzip_q = -1, star_q = -1;
	const char *p = h;
	while (*p) {
		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		if (!*p)
			break;
		const char *tok = p;
		while (*p && *p != ',' && *p != ';' && *p != ' ' && *p != '\t')
			p++;
		size_t len = (size_t)(p - tok);
		int q = 1000;
		/* parameters: only q matters */
		while (*p && *p != ',') {
			while (*p == ' ' || *p == '\t' || *p == ';')
				p++;
			if ((p[0] == 'q' || p[0] == 'Q') && p[1] == '=') {
				p += 2;
				int whole = 0, frac = 0, digits = 0;
				if (*p >= '0' && *p <= '9')
					whole = *p++ - '0';
				if (*p == '.') {
					p++;
					while (*p >= '0' && *p <= '9') {
						if (digits < 3) {
							frac = frac * 10 + (*p - '0');
							digits++;
						}
						p++;
					}
				}
				while (digits < 3) {
					frac *= 10;
					digits++;
				}
				q = whole >= 1 ? 1000 : frac;
			} else {
				while (*p && *p != ',' && *p != ';')
					p++;
			}
		}
		if ((len == 4 && strncasecmp(tok, "gzip", 4) == 0) || (len == 6 && strncasecmp(tok, "x-gzip", 6) == 0))
			gzip_q = q > gzip_q ? q : gzip_q;
		else if (len == 1 && tok[0] == '*')
			star_q = q;
	}
	if (gzip_q >= 0)
		return gzip_q > 0;
	return star_q > 0;
}

void al_static_serve(struct al_request *r)
{
	if (strcmp(r->method, "GET") != 0 && strcmp(r->method, "HEAD") != 0) {
		al_response_error(r, 405, "method not allowed");
		al_response_add_header(&r->resp, "Allow", "GET, HEAD");
		return;
	}
	struct al_static_result res;
	al_static_resolve(r->path, al_static_accepts_gzip(al_request_get(r, AL_REQ_HEADER, "Accept-Encoding")), &res);
	if (!res.file) {
		al_response_error(r, 404, "not found");
		return;
	}
	struct al_response *resp = &r->resp;
	char etag[24];
	snprintf(etag, sizeof etag, "\"%s\"", res.file->etag);
	const char *inm = al_request_get(r, AL_REQ_HEADER, "If-None-Match");
	al_response_reset(resp);
	if (inm && strstr(inm, etag)) {
		resp->status = 304;
	} else {
		resp->status = 200;
		resp->body = (char *)res.file->data;
		resp->len = res.file->size;
		resp->body_static = true;
		resp->content_type = res.content_type;
		if (res.content_encoding)
			al_response_add_header(resp, "Content-Encoding", res.content_encoding);
	}
	al_response_add_header(resp, "ETag", etag);
	al_response_add_header(resp, "Cache-Control", res.cache_control);
	if (res.has_variants)
		al_response_add_header(resp, "Vary", "Accept-Encoding");
	if (strncmp(res.content_type, "text/html", 9) == 0) {
		al_response_add_header(resp, "Content-Security-Policy",
				       "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
				       "frame-ancestors 'none'; base-uri 'none'; form-action 'self'");
		al_response_add_header(resp, "Referrer-Policy", "no-referrer");
		al_response_add_header(resp, "X-Frame-Options", "DENY");
	}
}
