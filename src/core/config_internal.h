/* SPDX-License-Identifier: Apache-2.0 */
/* Shared by the configuration loader's files (config.c, config_sources.c); not a public API. */
#ifndef AL_CORE_CONFIG_INTERNAL_H
#define AL_CORE_CONFIG_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <yaml.h>

#include "core/config.h"

/* One YAML file being read; y->err receives the first error. */
struct yaml_load {
	yaml_parser_t parser;
	const char *file;
	struct al_config *cfg;
	struct al_config_error *err;
	char **seen; /* every key path met so far, to refuse duplicates */
	size_t nseen, capseen;
};

/* config.c */

/* Writes the message into err; always returns false. */
bool al_config_fail(struct al_config_error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A value as it appears in an error message: escaped, at most 64 bytes; out is the caller's. */
void al_config_show_value(const char *v, char *out, size_t outlen);
/* The next event (the caller deletes it), or false with the parser's error in y->err. */
bool al_config_yaml_next(struct yaml_load *y, yaml_event_t *ev);
/* True for a plain scalar that YAML reads as null (empty, ~, null). */
bool al_config_yaml_is_null(const yaml_event_t *ev);
/* Records a key path (copied); false on a duplicate or no memory. */
bool al_config_yaml_remember(struct yaml_load *y, const char *key, size_t line);
/* The value of NAME=value in envp (the first one, as with getenv; envp's), or NULL. */
const char *al_config_env_get(char *const *envp, const char *name);

/* config_sources.c */

/* The value of sources: (ev is its first event, the caller's); valid items go to y->cfg->sources. */
bool al_config_yaml_sources(struct yaml_load *y, const yaml_event_t *ev);
/* Adds an Authorization header to every source with auth.token_env, read from envp. */
bool al_config_resolve_source_tokens(struct al_config *cfg, char *const *envp, struct al_config_error *err);
/* Frees what s owns and zeroes it. */
void al_config_source_free(struct al_config_source *s);

#endif
