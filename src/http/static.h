/* SPDX-License-Identifier: Apache-2.0 */
/* Embedded static assets (the web UI): lookup, content types, caching, gzip variants, SPA
 * fallback, and the response for a request outside /api. */
#ifndef AL_HTTP_STATIC_H
#define AL_HTTP_STATIC_H

#include <stdbool.h>

#include "core/embedded.h"
#include "http/request.h"

struct al_static_result {
	const struct al_embedded_file *file; /* what to send; NULL: 404 */
	const char *content_type;            /* of the resource (not of its gzip variant) */
	const char *cache_control;
	const char *content_encoding; /* "gzip" when file is the precompressed variant, else NULL */
	bool has_variants;            /* a gzip variant exists: the answer varies by Accept-Encoding */
};

/* Resolves a request path to an embedded file: exact file, "/" -> index.html, or the
 * index.html fallback for client-side routes (paths whose last segment has no extension).
 * With gzip_ok, the precompressed FILE.gz is chosen when the build embedded one. The variants
 * themselves ("/assets/x.js.gz") are not addressable. Paths with "..", "//", backslashes, NUL
 * or control characters resolve to nothing. */
void al_static_resolve(const char *path, bool gzip_ok, struct al_static_result *out);

/* True when an Accept-Encoding header value accepts gzip (gzip, x-gzip or *, with q > 0, and
 * gzip not refused by q=0). NULL (no header) is false. */
bool al_static_accepts_gzip(const char *accept_encoding);

/* Answers a request for an embedded asset in r->resp: 405 for methods other than GET and HEAD,
 * 404, 304 on a matching If-None-Match, else 200 with ETag, Cache-Control, Vary and
 * Content-Encoding as they apply, and the security headers of HTML pages. */
void al_static_serve(struct al_request *r);

#endif
