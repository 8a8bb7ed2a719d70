/*
 * Unified access (统一接入): department APIs registered once on the hub and
 * called through it (the X-Road pattern).
 *
 *   services.c   the registry and directory: services, their operations
 *                (from an OpenAPI 3 document or listed), who may call what
 *   forward.c    mediated calls ANY /x/{org}/{service}/{path}: the right
 *                check, then both bodies streamed through a libcurl multi
 *                thread, hashed, audited; provider health checks
 *   monitor.c    per service and consumer statistics (/metrics and the
 *                API), the calls of a service and their inclusion proofs
 *
 * Rights come from the sharing flow: a service is linked to a catalog
 * resource of format api, whose item "service" stands for the whole
 * service and whose other items name operations. A grant of that resource
 * lets its consumer call what its items cover.
 */
#ifndef YW_ACCESS_ACCESS_H
#define YW_ACCESS_ACCESS_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "audit/log.h"
#include "core/buf.h"
#include "core/config.h"
#include "http/request.h"
#include "sec/egress.h"
#include "store/db.h"
#include "store/store.h"

/* The item of an api resource that grants every operation of its service. */
#define ACCESS_WHOLE_SERVICE "service"

/* A registered service as calls need it. Strings in the request arena. */
typedef struct {
    const char *id, *provider_org, *code, *base_url, *resource;
    json_t *operations; /* [{name, method, path}]; kept by the request */
} access_service;

/* Loads the service of provider org and code. 0, YW_ENOTFOUND or < 0. */
int access_service_load(yw_req *req, yw_db *db, const char *org, const char *code, access_service *out);

/*
 * The operation of svc that method and path (below the service, no leading
 * '/') fall under: its name, or NULL when none matches.
 */
const char *access_operation_match(const access_service *svc, const char *method, const char *path);

/*
 * Whether path (a path below a service) fits the template tmpl ("/people/{id}"):
 * literal segments equal, each {name} one non-empty segment.
 */
bool access_path_matches(const char *tmpl, const char *path);

/*
 * The runtime of mediated calls: one thread driving every transfer and
 * health check through libcurl's multi interface. Started by serve after
 * the HTTP server, stopped before the store closes.
 */
typedef struct access_runtime access_runtime;

/* Outbound connections go only where egress allows (sec/egress.h). */
access_runtime *access_start(yw_store *store, yw_audit *audit, const yw_config *cfg, const yw_egress *egress);
void access_stop(access_runtime *rt);
/* The running runtime (one a process), or NULL. */
access_runtime *access_current(void);

/* Health of a service, as the last checks found it. */
typedef enum { ACCESS_HEALTH_UNKNOWN, ACCESS_HEALTH_UP, ACCESS_HEALTH_DOWN } access_health;
access_health access_health_of(access_runtime *rt, const char *service_id, int64_t *checked_at);

/* ---- monitoring (monitor.c) ---- */

/* One call, counted for its service and consumer. */
void access_stats_observe(const char *service_id, const char *consumer_org, int status, bool error, int64_t ns,
                          uint64_t bytes_in, uint64_t bytes_out);
/* The Prometheus lines of every service and consumer. */
void access_stats_render(yw_buf *out);
/* Forgets every counter (at stop). */
void access_stats_reset(void);

/* Whether name is the outcome of a recorded call (service_calls.outcome): "ok", "provider_timeout", ... */
bool access_outcome_known(const char *name);
/* Every such outcome, comma-separated, appended to out. */
void access_outcomes_list(yw_buf *out);

#endif
