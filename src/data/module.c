/* The data module's routes: the records of shared resources. */
#include "app/app.h"
#include "data/handlers.h"

/* Record paths carry a record key (an ID number, say): they are logged as their route only. */
static const yw_route routes[] = {
    {"PUT", "/api/v1/resources/{code}/records/{key}", records_put, YW_ROUTE_AUDIT | YW_ROUTE_SECRET_PATH, 0,
     "record.write"},
    {"DELETE", "/api/v1/resources/{code}/records/{key}", records_delete, YW_ROUTE_AUDIT | YW_ROUTE_SECRET_PATH, 0,
     "record.delete"},
    {"GET", "/api/v1/resources/{code}/records/{key}/versions", records_versions,
     YW_ROUTE_AUDIT | YW_ROUTE_SECRET_PATH, 0, "record.history"},
    /* Imports stream: any size, in constant memory. */
    {"POST", "/api/v1/resources/{code}/records:import", records_import, YW_ROUTE_AUDIT, (size_t)64 << 30, "record.import",
     records_import_stream},
};

/* The sensitive items of records and of their history: contexts "<resource>/<item>". */
static const yw_sealed_column sealed[] = {
    {"records", "data", "resource", true},
    {"record_versions", "data", "resource", true},
    {0},
};

const yw_module yw_data_module = {"data", routes, sizeof routes / sizeof routes[0], sealed};
