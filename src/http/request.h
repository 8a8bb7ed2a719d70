/*
 * The request context every handler receives, and the reply functions.
 *
 * A yw_req lives from the first byte of a request to the end of its
 * response. Its arena holds everything the handler allocates; the
 * principal says who is calling (filled by the authenticator before the
 * handler runs, unless the route is public); the handler answers with
 * exactly one yw_reply_* call. Replies copy their body, so arena memory
 * may be passed.
 *
 * The *_or_reply helpers send the problem response themselves and return
 * NULL or a negative value, so a handler reads top to bottom:
 *
 *     json_t *body = yw_req_json_or_reply(req, fields, n);
 *     if (!body)
 *         return;
 */
#ifndef YW_HTTP_REQUEST_H
#define YW_HTTP_REQUEST_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/json.h"

typedef enum { YW_PRINCIPAL_NONE, YW_PRINCIPAL_USER, YW_PRINCIPAL_CLIENT } yw_principal_kind;

/* Who is calling. Strings live in the request arena. */
typedef struct {
    yw_principal_kind kind;
    const char *id;       /* username or client id */
    const char *display_name; /* users only */
    const char *org_code; /* the department the caller belongs to */
    unsigned roles;       /* bit set; meanings belong to the authorisation module */
    bool must_change_password;
    bool totp_enabled;
    const char *credential_hash; /* hash of the bearer secret that authenticated */
    int64_t expires_at;          /* ms; sessions only */
} yw_principal;

#define YW_MAX_PATH_PARAMS 8

/*
 * What the audit entry of this request will say, beyond who, when and the
 * status. The action defaults to the route's; handlers add the objects
 * touched and, where data flows, the items disclosed.
 */
typedef struct {
    const char *action;
    const char *stage;       /* collect | store | transmit | use | share | destroy */
    const char *object_type;
    json_t *object_ids;      /* array of strings; owned by the request */
    json_t *items;           /* item names disclosed; owned by the request */
    const char *purpose;
    const char *actor;       /* named actor when there is no principal (a failed sign-in) */
    const char *actor_org;
    bool hash_bodies;        /* record SHA-256 of the request and response bodies */
    bool recorded;           /* the entry was written with the change it records */
    int64_t seq;             /* its seq once recorded, else -1 */
} yw_req_audit;

typedef struct yw_route yw_route;
typedef struct yw_server yw_server;

typedef struct yw_req {
    yw_arena *arena;
    yw_server *server;
    void *app; /* the application context given to the server */
    const yw_route *route;
    const char *method, *path;
    const char *param_names[YW_MAX_PATH_PARAMS];
    const char *param_values[YW_MAX_PATH_PARAMS];
    int nparams;
    const char *body; /* NUL-terminated copy of the body; NULL when empty */
    size_t body_len;
    char request_id[48];
    yw_principal principal;
    const char *client_addr;
    void *conn; /* the libmicrohttpd connection */
    yw_req_audit audit;
    void *route_state; /* a streaming route's state between pieces of the body */
    void (*deferred)(struct yw_req *req); /* set by yw_req_defer: makes the reply once resumed */
    void *deferred_arg;
    size_t stream_taken; /* a stream route may take less than the piece it got (see yw_req_pause) */
    /* the reply */
    int status;
    char *reply_body;
    size_t reply_len;
    const char *reply_type;
    const char *reply_headers[8][2];
    int nreply_headers;
    struct yw_body_source *reply_source; /* a streamed body (yw_reply_stream), else NULL */
} yw_req;

/*
 * A reply body produced while it is sent (yw_reply_stream). read copies up
 * to max bytes into buf and returns how many; 0 when none is ready yet
 * (after calling yw_req_pause, so that the connection waits for
 * yw_req_wake instead of asking again at once); YW_BODY_END when the body
 * is complete; YW_BODY_ERROR to cut the connection. read runs on the
 * connection's worker and may add trailers (yw_reply_trailer) before it
 * returns YW_BODY_END. release(arg) runs once the server is done with the
 * body, whether it was sent whole or not.
 */
#define YW_BODY_END (-1L)
#define YW_BODY_ERROR (-2L)
typedef struct yw_body_source {
    long (*read)(void *arg, char *buf, size_t max);
    void (*release)(void *arg);
    void *arg;
} yw_body_source;

/* Path parameter {name} of the matched route; NULL when the route has none. */
const char *yw_req_param(const yw_req *req, const char *name);
/* Query-string argument (decoded); NULL when absent. */
const char *yw_req_query(const yw_req *req, const char *name);
/* Calls fn for each query-string argument (decoded; value NULL for "?flag"), in order. */
void yw_req_query_each(const yw_req *req, void (*fn)(void *arg, const char *key, const char *value), void *arg);
/* Request header (case-insensitive name); NULL when absent. */
const char *yw_req_header(const yw_req *req, const char *name);

/* Replies with status and the JSON value v (not stolen). */
void yw_reply_json(yw_req *req, int status, const json_t *v);
/* Same, stealing v. */
void yw_reply_json_new(yw_req *req, int status, json_t *v);
/* Replies with raw bytes of the given content type. */
void yw_reply_raw(yw_req *req, int status, const char *content_type, const char *body, size_t len);
/* Adds a response header; name and value must outlive the request (arena or static). */
void yw_reply_header(yw_req *req, const char *name, const char *value);

/*
 * Replies with an RFC 9457 problem: type https://yiwang.dev/problems/<code>,
 * the standard title of status, detail from fmt, code and request_id.
 */
void yw_reply_problem(yw_req *req, int status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/*
 * Parses the body as a JSON object checked against fields: 415 unless the
 * content type is application/json, 400 for malformed JSON, nesting deeper
 * than 32, unknown members, wrong types or bounds. Returns a value owned by
 * the request (do not decref), or NULL after replying.
 */
json_t *yw_req_json_or_reply(yw_req *req, const yw_json_field *fields, size_t n);

/*
 * Reads ?limit= (default 50, 1..1000) into *limit. Returns 0, or -1 after
 * replying 400.
 */
int yw_req_limit_or_reply(yw_req *req, int *limit);

/*
 * Reads ?cursor= (an opaque value from an earlier page) into *key, NULL
 * when absent. Returns 0, or -1 after replying 400.
 */
int yw_req_cursor_or_reply(yw_req *req, const char **key);
/* The opaque cursor that resumes after key, in the request arena. */
const char *yw_cursor_encode(yw_req *req, const char *key);

/* Sets the audited object: its type and one id (copied). */
void yw_req_audit_object(yw_req *req, const char *type, const char *id);

/*
 * Defers the reply: the handler returns without one, and the connection
 * waits, holding no thread, until yw_req_resume(req) is called (from any
 * thread, exactly once); then the server calls then(req) on one of its
 * workers to make the reply. arg is kept in req->deferred_arg.
 */
void yw_req_defer(yw_req *req, void (*then)(yw_req *req), void *arg);
void yw_req_resume(yw_req *req);

/*
 * Replies with a body streamed from source (chunked; the length is not
 * known in advance). The source struct is copied.
 */
void yw_reply_stream(yw_req *req, int status, const char *content_type, const yw_body_source *source);

/* Adds a trailer to a streamed reply; only from its read function, before YW_BODY_END. Copied. */
void yw_reply_trailer(yw_req *req, const char *name, const char *value);

/*
 * Flow control of streaming routes, in both directions. A stream function
 * that cannot take a whole piece of the body sets req->stream_taken to
 * what it took and calls yw_req_pause: the connection then waits, holding
 * no worker, and the rest of the piece comes again after yw_req_wake. The
 * read function of a streamed reply does the same when it has nothing to
 * send yet. yw_req_wake may be called from any thread, also before the
 * pause it ends (then the pause does not wait).
 */
void yw_req_pause(yw_req *req);
void yw_req_wake(yw_req *req);

/* Keeps v alive until the request ends; returns v. */
json_t *yw_req_keep(yw_req *req, json_t *v);

#endif
