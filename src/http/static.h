/* SPDX-License-Identifier: Apache-2.0 */
/* Embedded static assets (the web UI): lookup, content types, caching, SPA fallback. */
#ifndef AL_HTTP_STATIC_H
#define AL_HTTP_STATIC_H

#include <stdbool.h>

#include "core/embedded.h"

struct al_static_result {
	const struct al_embedded_file *file; /* NULL: 404 */
	const char *content_type;
	const char *cache_control;
};

/* Resolves a request path to an embedded file: exact file, "/" -> index.html, or the
 * index.html fallback for client-side routes (paths whose last segment has no extension).
 * Paths with "..", "//", backslashes, NUL or control characters resolve to nothing. */
void al_static_resolve(const char *path, struct al_static_result *out);

#endif
