/* The registry module's routes (see app.h for how modules are wired). */
#include "app/app.h"
#include "registry/handlers.h"

static const yw_route routes[] = {
    {"GET", "/api/v1/orgs", orgs_list, 0, 0, "org.read"},
    {"POST", "/api/v1/orgs", orgs_create, YW_ROUTE_AUDIT, 0, "org.create"},
    {"GET", "/api/v1/orgs/{code}", orgs_get, 0, 0, "org.read"},
    {"PATCH", "/api/v1/orgs/{code}", orgs_update, YW_ROUTE_AUDIT, 0, "org.update"},
    {"GET", "/api/v1/users", users_list, 0, 0, "user.list"},
    {"POST", "/api/v1/users", users_create, YW_ROUTE_AUDIT, 0, "user.create"},
    {"GET", "/api/v1/users/{username}", users_get, 0, 0, "user.read"},
    {"PATCH", "/api/v1/users/{username}", users_update, YW_ROUTE_AUDIT, 0, "user.update"},
    {"GET", "/api/v1/clients", clients_list, 0, 0, "client.list"},
    {"POST", "/api/v1/clients", clients_create, YW_ROUTE_AUDIT, 0, "client.create"},
    {"GET", "/api/v1/clients/{org_code}/{name}", clients_get, 0, 0, "client.list"},
    {"DELETE", "/api/v1/clients/{org_code}/{name}", clients_revoke, YW_ROUTE_AUDIT, 0, "client.revoke"},
};

const yw_module yw_registry_module = {"registry", routes, sizeof routes / sizeof routes[0]};
