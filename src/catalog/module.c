/* The catalog module's routes: data elements and the resource catalog. */
#include "app/app.h"
#include "catalog/handlers.h"

static const yw_route routes[] = {
    {"GET", "/api/v1/elements", elements_list, 0, 0, "element.read"},
    {"POST", "/api/v1/elements", elements_create, YW_ROUTE_AUDIT, 0, "element.create"},
    {"GET", "/api/v1/elements/{id}", elements_get, 0, 0, "element.read"},
    {"GET", "/api/v1/resources", resources_list, 0, 0, "resource.read"},
    {"POST", "/api/v1/resources", resources_create, YW_ROUTE_AUDIT, 0, "resource.create"},
    {"GET", "/api/v1/resources/{code}", resources_get, 0, 0, "resource.read"},
    {"PATCH", "/api/v1/resources/{code}", resources_update, YW_ROUTE_AUDIT, 0, "resource.update"},
    {"POST", "/api/v1/resources/{code}/publish", resources_publish, YW_ROUTE_AUDIT, 0, "resource.publish"},
    {"POST", "/api/v1/resources/{code}/retire", resources_retire, YW_ROUTE_AUDIT, 0, "resource.retire"},
    {"GET", "/api/v1/resources/{code}/versions", resources_versions, 0, 0, "resource.read"},
};

const yw_module yw_catalog_module = {"catalog", routes, sizeof routes / sizeof routes[0]};
