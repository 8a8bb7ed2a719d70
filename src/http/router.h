/*
 * Routes and the router.
 *
 * A domain module exports a table of routes; the server matches a request's
 * method and path against every table it was given. Patterns are split at
 * '/'; a segment "{name}" captures one segment, a final "{name*}" captures
 * the rest of the path. Literal segments may contain ':' ("records:import").
 */
#ifndef YW_HTTP_ROUTER_H
#define YW_HTTP_ROUTER_H

#include <stddef.h>

#include "http/request.h"

typedef void (*yw_handler)(yw_req *req);

/*
 * A route whose body is too large to hold (a bulk import) takes it as a
 * stream: stream(req, NULL, 0) once the caller is authenticated and before
 * any of the body is read, stream(req, chunk, len) for each piece as it
 * arrives, then the route's handler when the body is complete. A reply made
 * by the stream function ends the request: the rest of the body is read
 * and dropped, and that reply is sent.
 */
typedef void (*yw_stream_fn)(yw_req *req, const char *data, size_t len);

enum {
    YW_ROUTE_PUBLIC = 1 << 0,           /* no credential needed */
    YW_ROUTE_DURING_PW_CHANGE = 1 << 1, /* allowed while a password change is pending */
    YW_ROUTE_AUDIT = 1 << 2,            /* every call is an audit entry, named by action */
    YW_ROUTE_SECRET_PATH = 1 << 3,      /* the path holds values never to be logged (a record key) */
};

struct yw_route {
    const char *method;
    const char *pattern;
    yw_handler handler;
    unsigned flags;
    size_t body_limit; /* 0: the server's default */
    const char *action; /* what the route does ("org.create"); the audit action */
    yw_stream_fn stream; /* NULL: the body is read whole (up to body_limit), then handler runs */
};

typedef struct yw_router yw_router;

yw_router *yw_router_new(void);
void yw_router_free(yw_router *r);
/* Adds n routes; the table must outlive the router. */
void yw_router_add(yw_router *r, const yw_route *routes, size_t n);

typedef enum { YW_MATCH_OK, YW_MATCH_NO_PATH, YW_MATCH_NO_METHOD } yw_match_result;

/*
 * Finds the route for method and path; on YW_MATCH_OK fills req's route and
 * parameters (copied into the request arena). On YW_MATCH_NO_METHOD, allow
 * gets the methods that would match, comma-separated, in the arena.
 */
yw_match_result yw_router_match(const yw_router *r, yw_req *req, const char *method, const char *path,
                                const char **allow);

/* Every route, in registration order, for tests and documentation. */
size_t yw_router_count(const yw_router *r);
const yw_route *yw_router_at(const yw_router *r, size_t i);

#endif
