/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of the HTTP router: precedence, backtracking, parameters, 404/405 and pattern errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "http/router.h"

/* ---- helpers ------------------------------------------------------------------------- */

static int setup(void **state)
{
	*state = al_router_new();
	return *state ? 0 : -1;
}

static int teardown(void **state)
{
	al_router_free(*state);
	return 0;
}

static void add_ok(struct al_router *r, const char *method, const char *pattern, int route)
{
	char err[256] = "";
	if (!al_router_add(r, method, pattern, route, err, sizeof err))
		fail_msg("al_router_add(%s %s) failed: %s", method, pattern, err);
}

/* Adds a route that must be refused, and checks that the message contains want. */
static void add_fails(struct al_router *r, const char *method, const char *pattern, const char *want)
{
	char err[256] = "";
	size_t before = al_router_count(r);
	if (al_router_add(r, method, pattern, 99, err, sizeof err))
		fail_msg("al_router_add(%s %s) was accepted", method, pattern);
	if (!strstr(err, want))
		fail_msg("al_router_add(%s %s): message \"%s\" does not contain \"%s\"", method, pattern, err, want);
	assert_int_equal(al_router_count(r), before);
}

static int match_route(const struct al_router *r, const char *method, const char *path, struct al_route_match *m)
{
	bool ok = al_router_match(r, method, path, m);
	assert_true(ok == (m->route >= 0));
	return m->route;
}

/* The parameter at index i has this name and value (neither is NUL-terminated). */
static void assert_param(const struct al_route_match *m, size_t i, const char *name, const char *value)
{
	assert_true(i < m->nparams);
	const struct al_route_param *p = &m->params[i];
	if (p->name_len != strlen(name) || memcmp(p->name, name, p->name_len) != 0 || p->value_len != strlen(value) ||
	    memcmp(p->value, value, p->value_len) != 0)
		fail_msg("param %zu is {%.*s}=\"%.*s\", expected {%s}=\"%s\"", i, (int)p->name_len, p->name,
			 (int)p->value_len, p->value, name, value);
}

static void assert_not_found(const struct al_router *r, const char *method, const char *path)
{
	struct al_route_match m;
	memset(&m, 0x5a, sizeof m); /* the router must reset every field it reports */
	if (al_router_match(r, method, path, &m))
		fail_msg("%s %s matched route %d", method, path, m.route);
	assert_int_equal(m.route, -1);
	assert_int_equal(m.nparams, 0);
	if (m.allow[0])
		fail_msg("%s %s: expected 404, got 405 with Allow \"%s\"", method, path, m.allow);
}

/* ---- matching ------------------------------------------------------------------------ */

static void test_literal_beats_param(void **state)
{
	struct al_router *r = *state;
	struct al_route_match m;

	/* The parameter route is added first: precedence must not depend on insertion order. */
	add_ok(r, "GET", "/api/v1/catalog/{id}", 0);
	add_ok(r, "GET", "/api/v1/catalog/stats", 1);
	add_ok(r, "GET", "/api/v1/{section}/stats", 2);
	add_ok(r, "GET", "/api/v1/catalog/{id}/versions", 3);
	assert_int_equal(al_router_count(r), 4);

	assert_int_equal(match_route(r, "GET", "/api/v1/catalog/stats", &m), 1);
	assert_int_equal(m.nparams, 0);
	assert_int_equal(match_route(r, "GET", "/api/v1/catalog/stat", &m), 0);
	assert_param(&m, 0, "id", "stat");
	assert_int_equal(match_route(r, "GET", "/api/v1/catalog/statsx", &m), 0);
	assert_param(&m, 0, "id", "statsx");
	assert_int_equal(match_route(r, "GET", "/api/v1/agents/stats", &m), 2);
	assert_int_equal(m.nparams, 1);
	assert_param(&m, 0, "section", "agents");
	/* "stats" as an id still reaches the deeper parameter route. */
	assert_int_equal(match_route(r, "GET", "/api/v1/catalog/stats/versions", &m), 3);
	assert_int_equal(m.nparams, 1);
	assert_param(&m, 0, "id", "stats");
}

static void test_backtracking(void **state)
{
	struct al_router *r = *state;
	struct al_route_match m;

	add_ok(r, "GET", "/a/static/x", 0);
	add_ok(r, "GET", "/a/{id}/y", 1);
	assert_int_equal(match_route(r, "GET", "/a/static/x", &m), 0);
	/* The literal branch "static" has no "y": fall back to the parameter branch. */
	assert_int_equal(match_route(r, "GET", "/a/static/y", &m), 1);
	assert_int_equal(m.nparams, 1);
	assert_param(&m, 0, "id", "static");
	assert_not_found(r, "GET", "/a/static/z");

	/* A parameter taken inside a dead-end literal branch must not leak into the result. */
	add_ok(r, "GET", "/r/lit/{p}/end", 2);
	add_ok(r, "GET", "/r/{q}/{s}/other", 3);
	assert_int_equal(match_route(r, "GET", "/r/lit/v/end", &m), 2);
	assert_int_equal(m.nparams, 1);
	assert_param(&m, 0, "p", "v");
	assert_int_equal(match_route(r, "GET", "/r/lit/v/other", &m), 3);
	assert_int_equal(m.nparams, 2);
	assert_param(&m, 0, "q", "lit");
	assert_param(&m, 1, "s", "v");

	/* Backtracking over several levels: {a} then the literal "lit" dead-ends at the last segment. */
	add_ok(r, "GET", "/x/{a}/lit/end", 4);
	add_ok(r, "GET", "/x/{a}/{b}/other", 5);
	assert_int_equal(match_route(r, "GET", "/x/1/lit/other", &m), 5);
	assert_int_equal(m.nparams, 2);
	assert_param(&m, 0, "a", "1");
	assert_param(&m, 1, "b", "lit");

	/* A path that is only a prefix of a route does not match it. */
	assert_not_found(r, "GET", "/x/1/lit");
	assert_not_found(r, "GET", "/a/static");
}

static void test_params(void **state)
{
	struct al_router *r = *state;
	struct al_route_match m;

	add_ok(r, "POST", "/api/test/echo/{id}/items/{item}", 7);
	const char *path = "/api/test/echo/abc-1.2_~%20/items/42";
	assert_int_equal(match_route(r, "POST", path, &m), 7);
	assert_int_equal(m.nparams, 2);
	assert_param(&m, 0, "id", "abc-1.2_~%20"); /* not decoded */
	assert_param(&m, 1, "item", "42");
	/* Values point into the matched path; names into the router. */
	assert_ptr_equal(m.params[0].value, path + strlen("/api/test/echo/"));
	assert_ptr_equal(m.params[1].value, path + strlen(path) - 2);

	/* Exactly AL_ROUTER_MAX_PARAMS parameters are accepted and extracted in order. */
	char pattern[256] = "", req[256] = "";
	for (int i = 0; i < AL_ROUTER_MAX_PARAMS; i++) {
		size_t pl = strlen(pattern), rl = strlen(req);
		snprintf(pattern + pl, sizeof pattern - pl, "/{p%d}", i);
		snprintf(req + rl, sizeof req - rl, "/v%d", i);
	}
	add_ok(r, "GET", pattern, 8);
	assert_int_equal(match_route(r, "GET", req, &m), 8);
	assert_int_equal(m.nparams, AL_ROUTER_MAX_PARAMS);
	for (int i = 0; i < AL_ROUTER_MAX_PARAMS; i++) {
		char name[8], value[8];
		snprintf(name, sizeof name, "p%d", i);
		snprintf(value, sizeof value, "v%d", i);
		assert_param(&m, (size_t)i, name, value);
	}
}

static void test_head_matches_get(void **state)
{
	struct al_router *r = *state;
	struct al_route_match m;

	add_ok(r, "GET", "/api/v1/version", 0);
	add_ok(r, "POST", "/api/v1/login", 1);
	assert_int_equal(match_route(r, "HEAD", "/api/v1/version", &m), 0);
	assert_int_equal(match_route(r, "GET", "/api/v1/version", &m), 0);
	/* HEAD does not match a route that has no GET. */
	assert_false(al_router_match(r, "HEAD", "/api/v1/login", &m));
	assert_int_equal(m.route, -1);
	assert_string_equal(m.allow, "POST");
	/* HEAD is not a method routes can declare. */
	add_fails(r, "HEAD", "/api/v1/head", "unknown method \"HEAD\"");
}

static void test_405_fills_allow(void **state)
{
	struct al_router *r = *state;
	struct al_route_match m;

	add_ok(r, "GET", "/api/things", 0);
	add_ok(r, "POST", "/api/things", 1);
	add_ok(r, "POST", "/api/jobs", 2);
	add_ok(r, "DELETE", "/api/jobs", 3);
	add_ok(r, "GET", "/api/jobs", 4);
	add_ok(r, "PUT", "/api/items/{id}", 5);
	add_ok(r, "PATCH", "/api/items/{id}", 6);

	assert_int_equal(match_route(r, "POST", "/api/things", &m), 1);
	memset(&m, 0x5a, sizeof m);
	assert_false(al_router_match(r, "DELETE", "/api/things", &m));
	assert_int_equal(m.route, -1);
	assert_int_equal(m.nparams, 0);
	/* Insertion order; HEAD right after GET, since a GET route also answers HEAD. */
	assert_string_equal(m.allow, "GET, HEAD, POST");
	assert_false(al_router_match(r, "PUT", "/api/jobs", &m));
	assert_string_equal(m.allow, "POST, DELETE, GET, HEAD");
	/* Methods the router does not know get a 405 too, and a parameter route drops its params. */
	assert_false(al_router_match(r, "OPTIONS", "/api/items/7", &m));
	assert_int_equal(m.nparams, 0);
	assert_string_equal(m.allow, "PUT, PATCH");
	assert_false(al_router_match(r, "get", "/api/things", &m));
	assert_string_equal(m.allow, "GET, HEAD, POST");
}

static void test_404_leaves_allow_empty(void **state)
{
	struct al_router *r = *state;
	struct al_route_match m;

	assert_not_found(r, "GET", "/api/x"); /* empty router */
	add_ok(r, "GET", "/api/x", 0);
	add_ok(r, "GET", "/api/{id}/y", 1);
	assert_not_found(r, "GET", "/api/nope");
	assert_not_found(r, "GET", "/api");
	assert_not_found(r, "GET", "/");
	assert_not_found(r, "GET", "");
	assert_not_found(r, "GET", "api/x");
	assert_not_found(r, "DELETE", "/api/x/more");
	/* Intermediate trie nodes are not routes. */
	assert_not_found(r, "GET", "/api/7");
	assert_int_equal(match_route(r, "GET", "/api/7/y", &m), 1);
}

static void test_root_route(void **state)
{
	struct al_router *r = *state;
	struct al_route_match m;

	add_ok(r, "GET", "/", 0);
	add_ok(r, "GET", "/{name}", 1);
	assert_int_equal(match_route(r, "GET", "/", &m), 0);
	assert_int_equal(m.nparams, 0);
	assert_int_equal(match_route(r, "GET", "/x", &m), 1);
	assert_param(&m, 0, "name", "x");
	assert_false(al_router_match(r, "POST", "/", &m));
	assert_string_equal(m.allow, "GET, HEAD");
	assert_not_found(r, "GET", "//");
}

/* ---- request paths that must not match ----------------------------------------------- */

static void test_empty_segments_and_trailing_slash(void **state)
{
	struct al_router *r = *state;
	struct al_route_match m;

	add_ok(r, "GET", "/api/x", 0);
	add_ok(r, "GET", "/api/{id}", 1);
	add_ok(r, "GET", "/api/{id}/x", 2);
	/* A parameter never matches an empty segment. */
	assert_not_found(r, "GET", "/api//x");
	assert_not_found(r, "GET", "/api/");
	assert_not_found(r, "GET", "//api/x");
	assert_not_found(r, "GET", "/api/x//");
	/* A trailing slash is a different path. */
	assert_not_found(r, "GET", "/api/x/");
	assert_not_found(r, "GET", "/api/7/");
	assert_not_found(r, "GET", "/api/7/x/");
	assert_int_equal(match_route(r, "GET", "/api/x", &m), 0);
	assert_int_equal(match_route(r, "GET", "/api/7/x", &m), 2);
	assert_param(&m, 0, "id", "7");
}

static void test_very_long_paths(void **state)
{
	struct al_router *r = *state;
	struct al_route_match m;
	enum { LONG = 1 << 20 };

	add_ok(r, "GET", "/a/{id}", 0);
	add_ok(r, "GET", "/a/{id}/b", 1);
	char *path = malloc(LONG + 1);
	assert_non_null(path);

	/* One huge segment: matched and borrowed whole. */
	memcpy(path, "/a/", 3);
	memset(path + 3, 'x', LONG - 3);
	path[LONG] = '\0';
	assert_int_equal(match_route(r, "GET", path, &m), 0);
	assert_int_equal(m.params[0].value_len, LONG - 3);
	assert_ptr_equal(m.params[0].value, path + 3);

	/* Half a million segments: rejected without deep recursion. */
	for (size_t i = 0; i + 2 <= LONG; i += 2)
		memcpy(path + i, "/a", 2);
	path[LONG] = '\0';
	assert_not_found(r, "GET", path);

	/* Only slashes. */
	memset(path, '/', LONG);
	assert_not_found(r, "GET", path);
	free(path);

	/* A long pattern works like a short one. */
	char pattern[4096] = "";
	for (int i = 0; i < 200; i++)
		strcat(pattern, "/segment");
	add_ok(r, "DELETE", pattern, 2);
	assert_int_equal(match_route(r, "DELETE", pattern, &m), 2);
	assert_false(al_router_match(r, "GET", pattern, &m));
	assert_string_equal(m.allow, "DELETE");
}

/* ---- rejected patterns --------------------------------------------------------------- */

static void test_malformed_patterns(void **state)
{
	struct al_router *r = *state;

	add_fails(r, "GET", "/api/{", "path \"/api/{\": malformed parameter segment \"{\"");
	add_fails(r, "GET", "/api/{a-b}", "malformed parameter segment \"{a-b}\"");
	add_fails(r, "GET", "/api/{}", "malformed parameter segment \"{}\"");
	add_fails(r, "GET", "/api/{id", "malformed parameter segment \"{id\"");
	add_fails(r, "GET", "/api/{id}x", "malformed parameter segment \"{id}x\"");
	add_fails(r, "GET", "/api/{a b}", "malformed parameter segment");
	add_fails(r, "GET", "/api/x{id}", "invalid segment \"x{id}\"");
	add_fails(r, "GET", "/api/id}", "invalid segment \"id}\"");
	add_fails(r, "GET", "/api/x/", "path \"/api/x/\" must not end with '/'");
	add_fails(r, "GET", "/api/{id}/", "must not end with '/'");
	add_fails(r, "GET", "api/x", "path \"api/x\" must start with '/'");
	add_fails(r, "GET", "", "must start with '/'");
	add_fails(r, "GET", "/api//x", "invalid segment \"\"");
	add_fails(r, "GET", "//", "invalid segment \"\"");
	add_fails(r, "GET", "/api/a b", "invalid segment \"a b\"");
	add_fails(r, "GET", "/api/x?y=1", "invalid segment \"x?y=1\"");
	add_fails(r, "GET", "/api/x#top", "invalid segment");
	add_fails(r, "GET", "/api/caf\xc3\xa9", "invalid segment");
	add_fails(r, "FETCH", "/api/x", "unknown method \"FETCH\" (expected GET, POST, PUT, PATCH or DELETE)");
	add_fails(r, "get", "/api/x", "unknown method \"get\"");
	add_fails(r, "", "/api/x", "unknown method \"\"");
	assert_int_equal(al_router_count(r), 0);
}

static void test_too_many_params(void **state)
{
	struct al_router *r = *state;
	char pattern[256] = "";

	for (int i = 0; i <= AL_ROUTER_MAX_PARAMS; i++) {
		size_t len = strlen(pattern);
		snprintf(pattern + len, sizeof pattern - len, "/{p%d}", i);
	}
	char want[64];
	snprintf(want, sizeof want, "more than %d parameters", AL_ROUTER_MAX_PARAMS);
	add_fails(r, "GET", pattern, want);
	/* Literal segments do not count. */
	add_ok(r, "GET", "/a/{p0}/b/{p1}/c/{p2}/d/{p3}/e/{p4}/f/{p5}/g/{p6}/h/{p7}/i", 0);
}

static void test_param_name_conflict(void **state)
{
	struct al_router *r = *state;
	struct al_route_match m;

	add_ok(r, "GET", "/api/items/{id}", 0);
	add_fails(r, "DELETE", "/api/items/{key}",
		  "path \"/api/items/{key}\": parameter {key} conflicts with {id} of another route");
	add_fails(r, "GET", "/api/items/{key}/parts", "conflicts with {id}");
	/* The same name at the same position is fine, for another method or a longer path. */
	add_ok(r, "DELETE", "/api/items/{id}", 1);
	add_ok(r, "GET", "/api/items/{id}/parts/{part}", 2);
	/* Different names at different positions are independent. */
	add_ok(r, "GET", "/api/users/{key}", 3);
	assert_int_equal(al_router_count(r), 4);
	assert_int_equal(match_route(r, "DELETE", "/api/items/9", &m), 1);
	assert_param(&m, 0, "id", "9");
	assert_int_equal(match_route(r, "GET", "/api/users/u", &m), 3);
	assert_param(&m, 0, "key", "u");
}

static void test_duplicates(void **state)
{
	struct al_router *r = *state;

	add_ok(r, "GET", "/api/x", 0);
	add_fails(r, "GET", "/api/x", "duplicate route GET /api/x");
	add_ok(r, "POST", "/api/x", 1);
	add_fails(r, "POST", "/api/x", "duplicate route POST /api/x");
	add_ok(r, "GET", "/api/{id}", 2);
	add_fails(r, "GET", "/api/{id}", "duplicate route GET /api/{id}");
	assert_int_equal(al_router_count(r), 3);
}

/* A refused route leaves nothing behind: a later route may use another parameter name there. */
static void test_failed_add_leaves_router_unchanged(void **state)
{
	struct al_router *r = *state;
	struct al_route_match m;

	add_fails(r, "GET", "/z/{id}/", "must not end with '/'");
	add_fails(r, "GET", "/z/{id}/{a-b}", "malformed parameter segment");
	add_fails(r, "GET", "/{a}/{b}/{c}/{d}/{e}/{f}/{g}/{h}/{i}", "more than");
	add_ok(r, "GET", "/z/{key}", 0);
	add_ok(r, "GET", "/{x}/y", 1);
	assert_int_equal(match_route(r, "GET", "/z/k", &m), 0);
	assert_param(&m, 0, "key", "k");
	assert_not_found(r, "GET", "/z/k/");
}

static void test_free_null(void **state)
{
	al_router_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_literal_beats_param, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_backtracking, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_params, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_head_matches_get, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_405_fills_allow, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_404_leaves_allow_empty, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_root_route, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_empty_segments_and_trailing_slash, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_very_long_paths, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_malformed_patterns, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_too_many_params, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_param_name_conflict, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_duplicates, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_failed_add_leaves_router_unchanged, setup, teardown),
	    cmocka_unit_test(test_free_null),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
