/*
 * The HTTP server: libmicrohttpd with its epoll thread pool.
 *
 * For every request the server: assigns a request id (echoing a sane
 * X-Request-Id), matches the route, enforces the body limit while the body
 * streams in, authenticates the bearer credential through the application's
 * authenticator (unless the route is public), refuses everything but the
 * password change while one is pending, holds each user and client to its
 * request rate (429 with Retry-After), runs the handler, adds the common
 * headers, and records the access log line and the metrics.
 *
 * A reply that must wait for a durable write (an audit entry) is deferred:
 * the connection is suspended, holding no worker, until the write is done
 * (yw_req_defer, yw_req_resume), then finished on a worker. Streaming
 * routes pause and wake their connection the same way while a body flows
 * in (yw_req_pause, yw_req_wake), and may stream their reply out
 * (yw_reply_stream).
 *
 * The web console's session is the same token carried in an HttpOnly
 * cookie (YW_SESSION_COOKIE) when no Authorization header is sent; such a
 * request, unless GET or HEAD, must carry the CSRF proof of its session in
 * X-CSRF-Token (sec/token.h, yw_token_csrf), or is refused 403 csrf_failed.
 *
 * It serves /healthz, /readyz and /metrics itself.
 */
#ifndef YW_HTTP_SERVER_H
#define YW_HTTP_SERVER_H

#include <stddef.h>

#include "core/buf.h"
#include "http/router.h"
#include "store/store.h"

#define YW_SESSION_COOKIE "yw_session" /* HttpOnly: the session token */
#define YW_CSRF_COOKIE "yw_csrf"       /* readable by the console's scripts: the CSRF proof */

/*
 * Resolves a bearer secret to req->principal. Returns 0 when it is valid,
 * or -1 with a sentence for the 401 response in *why.
 */
typedef int (*yw_authenticator)(yw_req *req, const char *secret, size_t len, const char **why);

/*
 * Records the audit entry of a request that has its reply but no entry yet
 * (denied or failed calls of audited routes, reads that disclose data). It
 * runs before the response is sent, so a disclosing response leaves only
 * once its entry is durable. Sets req->audit.seq.
 */
typedef void (*yw_audit_recorder)(yw_req *req);

/*
 * The same without holding the worker: it defers the reply (yw_req_defer)
 * and resumes the request once the entry is durable.
 */
typedef void (*yw_audit_deferred_recorder)(yw_req *req);

typedef struct {
    const char *listen;   /* "ADDR:PORT"; port 0 picks a free one */
    int threads;
    size_t body_limit;
    const char *tls_cert; /* PEM text, or NULL for plain HTTP */
    const char *tls_key;
    yw_store *store;
    void *app;
    yw_authenticator authenticate;
    yw_audit_recorder record;
    yw_audit_deferred_recorder record_deferred; /* NULL: record waits */
    void (*handler_done)(yw_req *req); /* after every handler, on its thread */
    int rate_limit; /* requests a second per user or client (bursts of twice that); 0: none */
    void (*metrics_extra)(yw_buf *out); /* more /metrics lines from the domain modules; may be NULL */
} yw_server_config;

/* Starts serving; NULL with a message in err. The router must outlive the server. */
yw_server *yw_server_start(const yw_server_config *cfg, yw_router *router, char *err, size_t errlen);

/* The port actually bound. */
int yw_server_port(const yw_server *s);

/*
 * Stops accepting connections, waits up to timeout_ms for requests in
 * flight to finish, then closes every connection and frees the server.
 */
void yw_server_stop(yw_server *s, int timeout_ms);

#endif
