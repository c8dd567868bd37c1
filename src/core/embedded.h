/* SPDX-License-Identifier: Apache-2.0 */
/* Files compiled into the binary by cmake/embed.cmake (Lua modules, web assets). */
#ifndef AL_CORE_EMBEDDED_H
#define AL_CORE_EMBEDDED_H

#include <stddef.h>

struct al_embedded_file {
	const char *path; /* relative to the embedded root, '/' separated */
	const char *data; /* static storage, not NUL-terminated by contract */
	size_t size;
	const char *etag;   /* first 16 hex digits of the SHA-256 of the content */
	const char *sha256; /* all 64 hex digits */
};

extern const struct al_embedded_file al_embedded_lua[];
extern const size_t al_embedded_lua_count;
extern const struct al_embedded_file al_embedded_assets[];
extern const size_t al_embedded_assets_count;
extern const struct al_embedded_file al_embedded_migrations[];
extern const size_t al_embedded_migrations_count;

#endif
