/* SPDX-License-Identifier: Apache-2.0 */
/* Segment trie for method + path routing with {param} segments. */
#include "http/router.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct al_route_method {
	char method[8];
	int route;
};

struct al_router_node {
	char *segment; /* literal text, or parameter name for a param child */
	size_t segment_len;
	struct al_router_node **literals;
	size_t nliterals;
	struct al_router_node *param; /* at most one parameter child per position */
	struct al_route_method *methods;
	size_t nmethods;
};

struct al_router {
	struct al_router_node root;
	size_t count;
};

static const char *const known_methods[] = {"GET", "POST", "PUT", "PATCH", "DELETE", NULL};

struct al_router *al_router_new(void)
{
	return calloc(1, sizeof(struct al_router));
}

static void node_free(struct al_router_node *n)
{
	for (size_t i = 0; i < n->nliterals; i++) {
		node_free(n->literals[i]);
		free(n->literals[i]);
	}
	if (n->param) {
		node_free(n->param);
		free(n->param);
	}
	free(n->literals);
	free(n->methods);
	free(n->segment);
}

void al_router_free(struct al_router *r)
{
	if (!r)
		return;
	node_free(&r->root);
	free(r);
}

size_t al_router_count(const struct al_router *r)
{
	return r->count;
}

static struct al_router_node *node_new(const char *seg, size_t len)
{
	struct al_router_node *n = calloc(1, sizeof *n);
	if (!n)
		return NULL;
	n->segment = strndup(seg, len);
	if (!n->segment) {
		free(n);
		return NULL;
	}
	n->segment_len = len;
	return n;
}

static bool valid_param_name(const char *s, size_t len)
{
	if (len == 0)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'))
			return false;
	}
	return true;
}

static bool valid_literal(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c <= ' ' || c == '{' || c == '}' || c == '?' || c == '#' || c >= 0x7f)
			return false;
	}
	return len > 0;
}

/* Checks the whole pattern before anything is inserted, so that a rejected route leaves the
 * router as it was (a half-inserted {param} node would otherwise clash with later routes). */
static bool check_pattern(const char *pattern, char *err, size_t errlen)
{
	if (pattern[0] != '/') {
		snprintf(err, errlen, "path \"%s\" must start with '/'", pattern);
		return false;
	}
	const char *p = pattern + 1;
	size_t nparams = 0;
	while (*p) {
		const char *end = strchr(p, '/');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		if (p[0] == '{') {
			if (len < 3 || p[len - 1] != '}' || !valid_param_name(p + 1, len - 2)) {
				snprintf(err, errlen, "path \"%s\": malformed parameter segment \"%.*s\"", pattern,
					 (int)len, p);
				return false;
			}
			if (++nparams > AL_ROUTER_MAX_PARAMS) {
				snprintf(err, errlen, "path \"%s\": more than %d parameters", pattern,
					 AL_ROUTER_MAX_PARAMS);
				return false;
			}
		} else if (!valid_literal(p, len)) {
			snprintf(err, errlen, "path \"%s\": invalid segment \"%.*s\"", pattern, (int)len, p);
			return false;
		}
		if (!end)
			break;
		p = end + 1;
		if (!*p) {
			snprintf(err, errlen, "path \"%s\" must not end with '/'", pattern);
			return false;
		}
	}
	return true;
}

bool al_router_add(struct al_router *r, const char *method, const char *pattern, int route, char *err, size_t errlen)
{
	bool known = false;
	for (size_t i = 0; known_methods[i]; i++)
		known = known || strcmp(known_methods[i], method) == 0;
	if (!known) {
		snprintf(err, errlen, "unknown method \"%s\" (expected GET, POST, PUT, PATCH or DELETE)", method);
		return false;
	}
	if (!check_pattern(pattern, err, errlen))
		return false;
	/* A conflict or a duplicate is only possible on nodes that existed before this call, so
	 * both are found before anything is created. */
	struct al_router_node *n = &r->root;
	const char *p = pattern + 1;
	while (*p) {
		const char *end = strchr(p, '/');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		if (p[0] == '{') {
			if (n->param &&
			    (n->param->segment_len != len - 2 || memcmp(n->param->segment, p + 1, len - 2))) {
				snprintf(err, errlen,
					 "path \"%s\": parameter {%.*s} conflicts with {%s} of another route", pattern,
					 (int)(len - 2), p + 1, n->param->segment);
				return false;
			}
			if (!n->param && !(n->param = node_new(p + 1, len - 2)))
				goto oom;
			n = n->param;
		} else {
			struct al_router_node *child = NULL;
			for (size_t i = 0; i < n->nliterals && !child; i++)
				if (n->literals[i]->segment_len == len && !memcmp(n->literals[i]->segment, p, len))
					child = n->literals[i];
			if (!child) {
				struct al_router_node **grown =
				    /* an array of pointers: sizeof *grown is a pointer's size, as meant */
				    realloc(n->literals, (n->nliterals + 1) * sizeof *grown); // NOLINT(bugprone-sizeof-expression)
				if (!grown)
					goto oom;
				n->literals = grown;
				if (!(child = node_new(p, len)))
					goto oom;
				n->literals[n->nliterals++] = child;
			}
			n = child;
		}
		if (!end)
			break;
		p = end + 1;
	}
	for (size_t i = 0; i < n->nmethods; i++) {
		if (strcmp(n->methods[i].method, method) == 0) {
			snprintf(err, errlen, "duplicate route %s %s", method, pattern);
			return false;
		}
	}
	struct al_route_method *grown = realloc(n->methods, (n->nmethods + 1) * sizeof *grown);
	if (!grown)
		goto oom;
	n->methods = grown;
	snprintf(n->methods[n->nmethods].method, sizeof n->methods[0].method, "%s", method);
	n->methods[n->nmethods].route = route;
	n->nmethods++;
	r->count++;
	return true;
oom:
	snprintf(err, errlen, "out of memory");
	return false;
}

/* Depth-first: literal children before the parameter child, so "/catalog/stats" beats
 * "/catalog/{id}". Returns the node whose path matched completely, or NULL. */
static const struct al_router_node *walk(const struct al_router_node *n, const char *p, struct al_route_match *m)
{
	if (*p == '\0')
		return n->nmethods ? n : NULL;
	if (*p != '/')
		return NULL;
	p++;
	const char *end = strchr(p, '/');
	size_t len = end ? (size_t)(end - p) : strlen(p);
	const char *rest = p + len;
	for (size_t i = 0; i < n->nliterals; i++) {
		const struct al_router_node *c = n->literals[i];
		if (c->segment_len == len && !memcmp(c->segment, p, len)) {
			const struct al_router_node *found = walk(c, rest, m);
			if (found)
				return found;
		}
	}
	if (n->param && len > 0) {
		size_t k = m->nparams;
		m->params[k] = (struct al_route_param){n->param->segment, n->param->segment_len, p, len};
		m->nparams = k + 1;
		const struct al_router_node *found = walk(n->param, rest, m);
		if (found)
			return found;
		m->nparams = k;
	}
	return NULL;
}

bool al_router_match(const struct al_router *r, const char *method, const char *path, struct al_route_match *m)
{
	m->route = -1;
	m->nparams = 0;
	m->allow[0] = '\0';
	const struct al_router_node *n = NULL;
	if (strcmp(path, "/") == 0)
		n = r->root.nmethods ? &r->root : NULL; /* walk() needs a segment after each '/' */
	else if (path[0] == '/')
		n = walk(&r->root, path, m);
	if (!n) {
		m->nparams = 0;
		return false;
	}
	const char *want = strcmp(method, "HEAD") == 0 ? "GET" : method;
	for (size_t i = 0; i < n->nmethods; i++) {
		if (strcmp(n->methods[i].method, want) == 0) {
			m->route = n->methods[i].route;
			return true;
		}
	}
	/* HEAD is served wherever GET is, so Allow lists it too (RFC 9110, 10.2.1 and 9.3.2). */
	size_t off = 0;
	for (size_t i = 0; i < n->nmethods; i++) {
		bool get = strcmp(n->methods[i].method, "GET") == 0;
		int w = snprintf(m->allow + off, sizeof m->allow - off, "%s%s%s", i ? ", " : "", n->methods[i].method,
				 get ? ", HEAD" : "");
		if (w < 0 || (size_t)w >= sizeof m->allow - off)
			break;
		off += (size_t)w;
	}
	m->nparams = 0;
	return false;
}
