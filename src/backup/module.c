/* The backup module's routes: copies of the database, for the sysadmin. */
#include "app/app.h"
#include "backup/backup.h"

static const yw_route routes[] = {
    {"GET", "/api/v1/backups", backups_list, 0, 0, "backup.read"},
    {"POST", "/api/v1/backups", backups_create, YW_ROUTE_AUDIT, 0, "backup.create"},
    {"DELETE", "/api/v1/backups/{name}", backups_delete, YW_ROUTE_AUDIT, 0, "backup.delete"},
};

const yw_module yw_backup_module = {"backup", routes, sizeof routes / sizeof routes[0]};
