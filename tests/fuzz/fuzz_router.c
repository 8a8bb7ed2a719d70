/*
 * libFuzzer target: arbitrary methods and paths against a router holding
 * the kinds of pattern the API uses ({param}, {rest*}, "records:import",
 * the longest pattern allowed).
 *
 * Input: "METHOD\nPATH"; without a newline the whole input is a GET path.
 * Oracles: a match returns a route of that method whose parameters are
 * non-empty pieces of the path; a method mismatch returns a non-empty
 * Allow list that does not offer the method that was refused.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "http/request.h"
#include "http/router.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void handler(yw_req *req)
{
    (void)req;
}

static const yw_route routes[] = {
    {"GET", "/api/v1/orgs", handler, 0, 0, NULL},
    {"POST", "/api/v1/orgs", handler, 0, 0, NULL},
    {"GET", "/api/v1/orgs/{code}", handler, 0, 0, NULL},
    {"PATCH", "/api/v1/orgs/{code}", handler, 0, 0, NULL},
    {"POST", "/api/v1/resources/{code}/records:import", handler, 0, 0, NULL},
    {"GET", "/api/v1/resources/{code}/records/{key}", handler, 0, 0, NULL},
    {"PUT", "/api/v1/resources/{code}/records/{key}", handler, 0, 0, NULL},
    {"DELETE", "/api/v1/resources/{code}/records/{key}", handler, 0, 0, NULL},
    {"GET", "/static/{path*}", handler, 0, 0, NULL},
    {"GET", "/x/{org}/{service}/{path*}", handler, 0, 0, NULL},
    {"GET", "/{a}/{b}/{c}/{d}/{e}/{f}/{g}/{h}/{i}/{j}/k/l/m/n/o/p", handler, 0, 0, NULL},
    {"GET", "/", handler, 0, 0, NULL},
    {"GET", "/healthz", handler, 0, 0, NULL},
};

static yw_router *router;

/* Is item one of the comma-separated entries of list? */
static int listed(const char *list, const char *item)
{
    size_t n = strlen(item);
    for (const char *p = list; *p;) {
        const char *end = strstr(p, ", ");
        size_t l = end ? (size_t)(end - p) : strlen(p);
        if (l == n && memcmp(p, item, n) == 0)
            return 1;
        p += l;
        if (end)
            p += 2;
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!router) {
        router = yw_router_new();
        yw_router_add(router, routes, sizeof routes / sizeof routes[0]);
    }
    char *buf = malloc(size + 1);
    if (!buf)
        return 0;
    memcpy(buf, data, size);
    buf[size] = '\0';
    const char *method = "GET", *path = buf;
    char *nl = memchr(buf, '\n', size);
    if (nl) {
        *nl = '\0';
        method = buf;
        path = nl + 1;
    }

    yw_arena *arena = yw_arena_new(0);
    yw_req req;
    memset(&req, 0, sizeof req);
    req.arena = arena;
    const char *allow = NULL;
    switch (yw_router_match(router, &req, method, path, &allow)) {
    case YW_MATCH_OK:
        /* HEAD is answered by the GET route */
        if (!req.route || strcmp(req.route->method, strcmp(method, "HEAD") == 0 ? "GET" : method) != 0)
            abort();
        if (req.nparams < 0 || req.nparams > YW_MAX_PATH_PARAMS)
            abort();
        for (int i = 0; i < req.nparams; i++) {
            if (!req.param_names[i] || !req.param_values[i] || !req.param_values[i][0])
                abort();
            if (!strstr(path, req.param_values[i]))
                abort(); /* a parameter is a piece of the path */
            if (yw_req_param(&req, req.param_names[i]) == NULL)
                abort();
        }
        break;
    case YW_MATCH_NO_METHOD:
        if (!allow || !allow[0] || listed(allow, method))
            abort();
        break;
    case YW_MATCH_NO_PATH:
        break;
    default:
        abort();
    }
    yw_arena_free(arena);
    free(buf);
    return 0;
}
