/*
 * Unit tests of http/router.h: how a method and path find their route,
 * what parameters they yield, and what the server learns when nothing
 * matches (404, or 405 with an Allow list).
 */
#include <criterion/criterion.h>

#include <string.h>

#include "core/arena.h"
#include "http/request.h"
#include "http/router.h"

static void h_list(yw_req *req) { (void)req; }
static void h_create(yw_req *req) { (void)req; }
static void h_get(yw_req *req) { (void)req; }
static void h_patch(yw_req *req) { (void)req; }
static void h_import(yw_req *req) { (void)req; }
static void h_record(yw_req *req) { (void)req; }
static void h_static(yw_req *req) { (void)req; }
static void h_health(yw_req *req) { (void)req; }
static void h_approve(yw_req *req) { (void)req; }

enum {
    R_ORGS_GET,
    R_ORGS_POST,
    R_ORG_GET,
    R_ORG_PATCH,
    R_IMPORT,
    R_RECORD_GET,
    R_RECORD_PUT,
    R_RECORD_DELETE,
    R_STATIC,
    R_NROUTES
};

static const yw_route routes[] = {
    [R_ORGS_GET] = {"GET", "/api/v1/orgs", h_list, 0, 0, "org.list"},
    [R_ORGS_POST] = {"POST", "/api/v1/orgs", h_create, 0, 0, "org.create"},
    [R_ORG_GET] = {"GET", "/api/v1/orgs/{code}", h_get, 0, 0, "org.read"},
    [R_ORG_PATCH] = {"PATCH", "/api/v1/orgs/{code}", h_patch, 0, 0, "org.update"},
    [R_IMPORT] = {"POST", "/api/v1/resources/{code}/records:import", h_import, 0, 1 << 24, "record.import"},
    [R_RECORD_GET] = {"GET", "/api/v1/resources/{code}/records/{key}", h_record, 0, 0, "record.read"},
    [R_RECORD_PUT] = {"PUT", "/api/v1/resources/{code}/records/{key}", h_record, 0, 0, "record.write"},
    [R_RECORD_DELETE] = {"DELETE", "/api/v1/resources/{code}/records/{key}", h_record, 0, 0, "record.delete"},
    [R_STATIC] = {"GET", "/static/{path*}", h_static, YW_ROUTE_PUBLIC, 0, NULL},
};

static const yw_route more_routes[] = {
    {"GET", "/healthz", h_health, YW_ROUTE_PUBLIC, 0, NULL},
    {"POST", "/api/v1/share-requests/{id}/approve", h_approve, 0, 0, "share.approve"},
};

static yw_router *router;
static yw_arena *arena;
static yw_req req;

static void setup(void)
{
    router = yw_router_new();
    yw_router_add(router, routes, R_NROUTES);
    yw_router_add(router, more_routes, 2);
    arena = yw_arena_new(0);
    memset(&req, 0, sizeof req);
    req.arena = arena;
}

static void teardown(void)
{
    yw_arena_free(arena);
    yw_router_free(router);
}

TestSuite(router, .init = setup, .fini = teardown, .timeout = 10);

static yw_match_result match(const char *method, const char *path, const char **allow)
{
    const char *dummy = NULL;
    memset(&req, 0, sizeof req);
    req.arena = arena;
    return yw_router_match(router, &req, method, path, allow ? allow : &dummy);
}

static const char *param(const char *name)
{
    for (int i = 0; i < req.nparams; i++)
        if (strcmp(req.param_names[i], name) == 0)
            return req.param_values[i];
    return NULL;
}

Test(router, literal_paths)
{
    cr_assert_eq(match("GET", "/api/v1/orgs", NULL), YW_MATCH_OK);
    cr_expect_eq(req.route, &routes[R_ORGS_GET]);
    cr_expect_eq(req.nparams, 0);
    cr_assert_eq(match("POST", "/api/v1/orgs", NULL), YW_MATCH_OK);
    cr_expect_eq(req.route, &routes[R_ORGS_POST]);
    cr_assert_eq(match("GET", "/healthz", NULL), YW_MATCH_OK);
    cr_expect_eq(req.route, &more_routes[0], "routes of a second table are matched too");
}

Test(router, a_parameter_captures_one_segment)
{
    cr_assert_eq(match("GET", "/api/v1/orgs/11330100002497102C", NULL), YW_MATCH_OK);
    cr_expect_eq(req.route, &routes[R_ORG_GET]);
    cr_assert_eq(req.nparams, 1);
    cr_expect_str_eq(req.param_names[0], "code");
    cr_expect_str_eq(req.param_values[0], "11330100002497102C");
    cr_expect_str_eq(yw_req_param(&req, "code"), "11330100002497102C");
    cr_expect_null(yw_req_param(&req, "key"));
}

Test(router, several_parameters)
{
    cr_assert_eq(match("PUT", "/api/v1/resources/R-001/records/330106199003071236", NULL), YW_MATCH_OK);
    cr_expect_eq(req.route, &routes[R_RECORD_PUT]);
    cr_assert_eq(req.nparams, 2);
    cr_expect_str_eq(param("code"), "R-001");
    cr_expect_str_eq(param("key"), "330106199003071236");
    cr_assert_eq(match("POST", "/api/v1/share-requests/42/approve", NULL), YW_MATCH_OK);
    cr_expect_eq(req.route, &more_routes[1]);
    cr_expect_str_eq(param("id"), "42");
}

Test(router, parameters_are_copied_into_the_arena)
{
    char path[] = "/api/v1/orgs/ABC";
    cr_assert_eq(match("GET", path, NULL), YW_MATCH_OK);
    memset(path, 'z', sizeof path - 1);
    cr_expect_str_eq(param("code"), "ABC");
}

Test(router, a_rest_parameter_captures_the_remaining_path)
{
    cr_assert_eq(match("GET", "/static/css/app.css", NULL), YW_MATCH_OK);
    cr_expect_eq(req.route, &routes[R_STATIC]);
    cr_assert_eq(req.nparams, 1);
    cr_expect_str_eq(req.param_names[0], "path", "the name of {path*} is 'path'");
    cr_expect_str_eq(param("path"), "css/app.css");
    cr_assert_eq(match("GET", "/static/index.html", NULL), YW_MATCH_OK);
    cr_expect_str_eq(param("path"), "index.html");
    cr_assert_eq(match("GET", "/static/a/b/c/d/e/f", NULL), YW_MATCH_OK);
    cr_expect_str_eq(param("path"), "a/b/c/d/e/f");
}

Test(router, a_literal_segment_with_a_colon)
{
    cr_assert_eq(match("POST", "/api/v1/resources/RES1/records:import", NULL), YW_MATCH_OK);
    cr_expect_eq(req.route, &routes[R_IMPORT]);
    cr_expect_str_eq(param("code"), "RES1");
    cr_expect_eq(req.route->body_limit, 1u << 24);
    /* the colon is part of the literal, not a separator or a parameter */
    cr_expect_eq(match("POST", "/api/v1/resources/RES1/records:export", NULL), YW_MATCH_NO_PATH);
    cr_expect_eq(match("POST", "/api/v1/resources/RES1/records", NULL), YW_MATCH_NO_PATH);
    cr_expect_eq(match("POST", "/api/v1/resources/RES1/records:", NULL), YW_MATCH_NO_PATH);
    /* and records/{key} does not swallow it */
    cr_assert_eq(match("GET", "/api/v1/resources/RES1/records/k:1", NULL), YW_MATCH_OK);
    cr_expect_eq(req.route, &routes[R_RECORD_GET]);
    cr_expect_str_eq(param("key"), "k:1");
}

Test(router, a_trailing_slash_finds_the_same_route)
{
    cr_assert_eq(match("GET", "/api/v1/orgs/", NULL), YW_MATCH_OK);
    cr_expect_eq(req.route, &routes[R_ORGS_GET]);
    cr_assert_eq(match("GET", "/api/v1/orgs/X1/", NULL), YW_MATCH_OK);
    cr_expect_eq(req.route, &routes[R_ORG_GET]);
    cr_expect_str_eq(param("code"), "X1", "the slash must not end up in the parameter");
}

Test(router, wrong_method_gives_the_allowed_ones)
{
    const char *allow = NULL;
    cr_assert_eq(match("DELETE", "/api/v1/orgs", &allow), YW_MATCH_NO_METHOD);
    cr_assert_not_null(allow);
    cr_expect_str_eq(allow, "GET, POST");
    allow = NULL;
    cr_assert_eq(match("POST", "/api/v1/orgs/X1", &allow), YW_MATCH_NO_METHOD);
    cr_expect_str_eq(allow, "GET, PATCH");
    allow = NULL;
    cr_assert_eq(match("PATCH", "/api/v1/resources/R/records/k", &allow), YW_MATCH_NO_METHOD);
    cr_expect_str_eq(allow, "GET, PUT, DELETE");
    allow = NULL;
    cr_assert_eq(match("GET", "/api/v1/resources/R/records:import", &allow), YW_MATCH_NO_METHOD);
    cr_expect_str_eq(allow, "POST");
}

Test(router, methods_are_case_sensitive)
{
    const char *allow = NULL;
    cr_expect_eq(match("get", "/api/v1/orgs", &allow), YW_MATCH_NO_METHOD);
    cr_expect_str_eq(allow, "GET, POST");
}

Test(router, unknown_paths)
{
    const char *paths[] = {"/api/v2/orgs", "/api/v1/orgsX", "/api/v1/org", "/api/v1/orgs/X/extra", "/api/v1",
                           "/",            "",              "/api/v1/resources/R/records", "/healthz/x",
                           "/API/V1/ORGS"};
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++)
        cr_expect_eq(match("GET", paths[i], NULL), YW_MATCH_NO_PATH, "'%s' matched", paths[i]);
}

Test(router, very_long_paths_do_not_match_or_crash)
{
    char path[4096];
    size_t n = 0;
    for (int i = 0; i < 500; i++)
        n += (size_t)snprintf(path + n, sizeof path - n, "/a");
    cr_expect_eq(match("GET", path, NULL), YW_MATCH_NO_PATH);
    /* seventeen segments: one more than a pattern can have */
    cr_expect_eq(match("GET", "/api/v1/orgs/1/2/3/4/5/6/7/8/9/10/11/12/13/14", NULL), YW_MATCH_NO_PATH);
}

Test(router, a_rest_parameter_captures_paths_of_any_depth)
{
    /* "a final {name*} captures the rest of the path": a file nested deep
     * under /static, or a department API path behind /x/{org}/{service},
     * is not limited by the number of segments a pattern may have. */
    char path[512] = "/static";
    size_t n = strlen(path);
    for (int depth = 1; depth <= 30; depth++) {
        n += (size_t)snprintf(path + n, sizeof path - n, "/d%d", depth);
        yw_match_result m = match("GET", path, NULL);
        cr_expect_eq(m, YW_MATCH_OK, "%d segments under /static did not match", depth);
        if (m != YW_MATCH_OK)
            break;
        cr_expect_str_eq(param("path"), path + strlen("/static/"));
    }
}

Test(router, repeated_slashes_separate_segments_once)
{
    cr_assert_eq(match("GET", "//api///v1/orgs", NULL), YW_MATCH_OK);
    cr_expect_eq(req.route, &routes[R_ORGS_GET]);
}

Test(router, count_and_at_list_routes_in_order)
{
    cr_assert_eq(yw_router_count(router), R_NROUTES + 2);
    for (size_t i = 0; i < R_NROUTES; i++)
        cr_expect_eq(yw_router_at(router, i), &routes[i]);
    cr_expect_eq(yw_router_at(router, R_NROUTES), &more_routes[0]);
    cr_expect_null(yw_router_at(router, R_NROUTES + 2));
}

Test(router, many_tables_grow_the_router)
{
    yw_router *r = yw_router_new();
    for (int i = 0; i < 50; i++)
        yw_router_add(r, routes, R_NROUTES);
    cr_expect_eq(yw_router_count(r), 50 * R_NROUTES);
    const char *dummy;
    yw_req q = {.arena = arena};
    cr_expect_eq(yw_router_match(r, &q, "GET", "/api/v1/orgs/Z", &dummy), YW_MATCH_OK);
    cr_expect_eq(q.route, &routes[R_ORG_GET]);
    yw_router_free(r);
}
