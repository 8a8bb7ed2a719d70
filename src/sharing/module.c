/* The sharing module's routes: requests, decisions, grants, the reads they allow, objections, quality, conflicts. */
#include "app/app.h"
#include "sharing/handlers.h"

static const yw_route routes[] = {
    {"GET", "/api/v1/share-requests", share_requests_list, 0, 0, "share.read"},
    {"POST", "/api/v1/share-requests", share_requests_create, YW_ROUTE_AUDIT, 0, "share.request"},
    {"GET", "/api/v1/share-requests/{id}", share_requests_get, 0, 0, "share.read"},
    {"POST", "/api/v1/share-requests/{id}/approve", share_requests_approve, YW_ROUTE_AUDIT, 0, "share.approve"},
    {"POST", "/api/v1/share-requests/{id}/reject", share_requests_reject, YW_ROUTE_AUDIT, 0, "share.reject"},
    {"GET", "/api/v1/grants", grants_list, 0, 0, "grant.read"},
    {"GET", "/api/v1/grants/{id}", grants_get, 0, 0, "grant.read"},
    {"DELETE", "/api/v1/grants/{id}", grants_revoke, YW_ROUTE_AUDIT, 0, "grant.revoke"},
    /* Record paths carry a record key (an ID number, say): they are logged as their route only. */
    {"GET", "/api/v1/resources/{code}/records/{key}", shared_records_get, YW_ROUTE_AUDIT | YW_ROUTE_SECRET_PATH, 0,
     "record.read"},
    {"POST", "/api/v1/resources/{code}/records:batch", shared_records_batch, YW_ROUTE_AUDIT, 0, "record.read"},
    {"GET", "/api/v1/resources/{code}/changes", shared_records_changes, YW_ROUTE_AUDIT, 0, "record.changes"},
    {"POST", "/api/v1/resources/{code}/query", shared_records_query, YW_ROUTE_AUDIT, 0, "record.query"},
    {"GET", "/api/v1/subscriptions", subscriptions_list, 0, 0, "subscription.read"},
    {"POST", "/api/v1/subscriptions", subscriptions_create, YW_ROUTE_AUDIT, 0, "subscription.create"},
    {"GET", "/api/v1/subscriptions/{id}", subscriptions_get, 0, 0, "subscription.read"},
    {"DELETE", "/api/v1/subscriptions/{id}", subscriptions_delete, YW_ROUTE_AUDIT, 0, "subscription.delete"},
    {"GET", "/api/v1/subscriptions/{id}/deliveries", subscriptions_deliveries, 0, 0, "subscription.read"},
    /* Objections, quality and conflicts (objections.c, quality.c, conflicts.c). */
    {"POST", "/api/v1/resources/{code}/records/{key}/objections", objections_create,
     YW_ROUTE_AUDIT | YW_ROUTE_SECRET_PATH, 0, "objection.file"},
    {"GET", "/api/v1/objections", objections_list, 0, 0, "objection.read"},
    {"GET", "/api/v1/objections/{id}", objections_get, 0, 0, "objection.read"},
    {"POST", "/api/v1/objections/{id}/resolve", objections_resolve, YW_ROUTE_AUDIT, 0, "objection.resolve"},
    {"GET", "/api/v1/resources/{code}/quality", resources_quality, 0, 0, "resource.quality"},
    {"GET", "/api/v1/conflicts", conflicts_list, YW_ROUTE_AUDIT, 0, "conflict.read"},
    {"POST", "/api/v1/conflicts/{id}/objections", conflicts_report, YW_ROUTE_AUDIT, 0, "conflict.report"},
};

/* Webhook secrets (subscriptions.c) and proposed values of sensitive items (objections.c). */
static const yw_sealed_column sealed[] = {
    {"subscriptions", "secret", "'subscription/' || id", false},
    {"objections", "proposed_value", "'objection:' || resource || '/' || item", false},
    {0},
};

const yw_module yw_sharing_module = {"sharing", routes, sizeof routes / sizeof routes[0], sealed};
