/* The access module's routes: the service registry and directory, monitoring, and mediated calls. */
#include "access/handlers.h"
#include "app/app.h"

/* Mediated calls take any body size the --access-body-limit allows: they check it themselves. */
#define CALL_BODY_LIMIT ((size_t)1 << 62)

static const yw_route routes[] = {
    {"GET", "/api/v1/services", services_list, 0, 0, "service.read"},
    {"POST", "/api/v1/services", services_create, YW_ROUTE_AUDIT, 4 << 20, "service.create"},
    {"GET", "/api/v1/services/{id}", services_get, 0, 0, "service.read"},
    {"GET", "/api/v1/services/{id}/openapi", services_openapi, 0, 0, "service.read"},
    {"GET", "/api/v1/services/{id}/stats", services_stats, 0, 0, "service.monitor"},
    {"GET", "/api/v1/services/{id}/calls", services_calls, 0, 0, "service.calls"},
    {"GET", "/api/v1/services/{id}/calls/{call}", services_call_get, 0, 0, "service.calls"},
    {"GET", "/api/v1/services/{id}/calls/{call}/proof", services_call_proof, YW_ROUTE_AUDIT, 0, "service.proof"},
    /* The path below the service is the provider's: it may hold personal data, so it is logged as the route. */
    {"GET", "/x/{org}/{service}/{path*}", access_call_end, YW_ROUTE_AUDIT | YW_ROUTE_SECRET_PATH, CALL_BODY_LIMIT,
     "service.call", access_call_begin},
    {"POST", "/x/{org}/{service}/{path*}", access_call_end, YW_ROUTE_AUDIT | YW_ROUTE_SECRET_PATH, CALL_BODY_LIMIT,
     "service.call", access_call_begin},
    {"PUT", "/x/{org}/{service}/{path*}", access_call_end, YW_ROUTE_AUDIT | YW_ROUTE_SECRET_PATH, CALL_BODY_LIMIT,
     "service.call", access_call_begin},
    {"PATCH", "/x/{org}/{service}/{path*}", access_call_end, YW_ROUTE_AUDIT | YW_ROUTE_SECRET_PATH, CALL_BODY_LIMIT,
     "service.call", access_call_begin},
    {"DELETE", "/x/{org}/{service}/{path*}", access_call_end, YW_ROUTE_AUDIT | YW_ROUTE_SECRET_PATH, CALL_BODY_LIMIT,
     "service.call", access_call_begin},
};

const yw_module yw_access_module = {"access", routes, sizeof routes / sizeof routes[0]};
