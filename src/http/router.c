/*
 * Router (see router.h). Routes are few (dozens) and matched by comparing
 * segments left to right, so a linear scan over pre-split patterns is
 * faster than anything cleverer at this size.
 */
#include "http/router.h"

#include <stdlib.h>
#include <string.h>

#define MAX_SEGMENTS 16

typedef struct {
    const yw_route *route;
    int nseg;
    const char *seg[MAX_SEGMENTS];
    size_t seglen[MAX_SEGMENTS];
    bool rest; /* last segment is {name*} */
} compiled;

struct yw_router {
    compiled *routes;
    size_t n, cap;
};

yw_router *yw_router_new(void)
{
    yw_router *r = calloc(1, sizeof *r);
    if (!r)
        abort();
    return r;
}

void yw_router_free(yw_router *r)
{
    if (!r)
        return;
    free(r->routes);
    free(r);
}

/*
 * Splits path at '/' into at most max segments. A longer path keeps its
 * first max segments (only a {name*} route can then match, and its value
 * runs to the end of the string) and *truncated is set.
 */
static int split(const char *path, const char **seg, size_t *len, int max, bool *truncated)
{
    int n = 0;
    const char *p = path;
    *truncated = false;
    while (*p == '/')
        p++;
    while (*p) {
        if (n == max) {
            *truncated = true;
            return n;
        }
        const char *end = strchr(p, '/');
        size_t l = end ? (size_t)(end - p) : strlen(p);
        seg[n] = p;
        len[n] = l;
        n++;
        p += l;
        while (*p == '/')
            p++;
    }
    return n;
}

void yw_router_add(yw_router *r, const yw_route *routes, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (r->n == r->cap) {
            r->cap = r->cap ? r->cap * 2 : 64;
            r->routes = realloc(r->routes, r->cap * sizeof *r->routes);
            if (!r->routes)
                abort();
        }
        compiled *c = &r->routes[r->n++];
        memset(c, 0, sizeof *c);
        c->route = &routes[i];
        bool truncated;
        c->nseg = split(routes[i].pattern, c->seg, c->seglen, MAX_SEGMENTS, &truncated);
        if (c->nseg > 0) {
            const char *last = c->seg[c->nseg - 1];
            size_t l = c->seglen[c->nseg - 1];
            c->rest = l > 3 && last[0] == '{' && last[l - 2] == '*' && last[l - 1] == '}';
        }
    }
}

static bool is_param(const char *seg, size_t len)
{
    return len >= 2 && seg[0] == '{' && seg[len - 1] == '}';
}

/* Matches c against the split path; on success records parameters in req when req != NULL. */
static bool match(const compiled *c, const char *const *seg, const size_t *len, int n, bool truncated, yw_req *req)
{
    if (c->rest ? n < c->nseg : (n != c->nseg || truncated))
        return false;
    for (int i = 0; i < c->nseg; i++) {
        bool param = is_param(c->seg[i], c->seglen[i]);
        if (!param && (len[i] != c->seglen[i] || memcmp(seg[i], c->seg[i], len[i]) != 0))
            return false;
    }
    if (!req)
        return true;
    req->nparams = 0;
    for (int i = 0; i < c->nseg && req->nparams < YW_MAX_PATH_PARAMS; i++) {
        if (!is_param(c->seg[i], c->seglen[i]))
            continue;
        bool rest = c->rest && i == c->nseg - 1;
        size_t nlen = c->seglen[i] - 2 - (rest ? 1 : 0);
        req->param_names[req->nparams] = yw_arena_strndup(req->arena, c->seg[i] + 1, nlen);
        /* the rest parameter runs to the end of the path */
        size_t vlen = rest ? strlen(seg[i]) : len[i];
        req->param_values[req->nparams] = yw_arena_strndup(req->arena, seg[i], vlen);
        req->nparams++;
    }
    return true;
}

yw_match_result yw_router_match(const yw_router *r, yw_req *req, const char *method, const char *path,
                                const char **allow)
{
    const char *seg[MAX_SEGMENTS + 1];
    size_t len[MAX_SEGMENTS + 1];
    bool truncated;
    int n = split(path, seg, len, MAX_SEGMENTS + 1, &truncated);
    if (strcmp(method, "HEAD") == 0)
        method = "GET"; /* libmicrohttpd sends the headers of the GET reply without its body */
    bool path_matched = false;
    for (size_t i = 0; i < r->n; i++) {
        const compiled *c = &r->routes[i];
        if (!match(c, seg, len, n, truncated, NULL))
            continue;
        if (strcmp(c->route->method, method) == 0) {
            match(c, seg, len, n, truncated, req);
            req->route = c->route;
            return YW_MATCH_OK;
        }
        path_matched = true;
    }
    if (!path_matched)
        return YW_MATCH_NO_PATH;
    char *list = yw_arena_strdup(req->arena, "");
    for (size_t i = 0; i < r->n; i++)
        if (match(&r->routes[i], seg, len, n, truncated, NULL) && !strstr(list, r->routes[i].route->method))
            list = yw_arena_printf(req->arena, "%s%s%s", list, *list ? ", " : "", r->routes[i].route->method);
    *allow = list;
    return YW_MATCH_NO_METHOD;
}

size_t yw_router_count(const yw_router *r)
{
    return r->n;
}

const yw_route *yw_router_at(const yw_router *r, size_t i)
{
    return i < r->n ? r->routes[i].route : NULL;
}
