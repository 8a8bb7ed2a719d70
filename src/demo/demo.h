/*
 * The demo city: a data bureau and ten departments with valid codes, users
 * for every role, one client per department. Loading is idempotent: what
 * exists is left alone. The shared demo password and the client secrets
 * are kept in DIR/demo-accounts.json (mode 0600) so that every load prints
 * the same accounts.
 */
#ifndef YW_DEMO_DEMO_H
#define YW_DEMO_DEMO_H

#include <jansson.h>
#include <stddef.h>

#include "audit/log.h"
#include "core/calendar.h"
#include "core/config.h"
#include "sec/keyring.h"
#include "store/store.h"

/*
 * Loads the demo city, recording each object it creates in the audit log;
 * returns the accounts as JSON (new reference), or NULL with err.
 */
json_t *yw_demo_load(yw_store *store, yw_audit *audit, const yw_keyring *keys, const yw_config *cfg,
                     const yw_calendar *calendar, char *err, size_t errlen);

/*
 * The demo city's twelve published resources and their records
 * (src/demo/catalog.c); dept_codes are the org codes of demo.c's
 * departments, in order. 0, or < 0 with a message on err.
 */
int yw_demo_load_catalog(yw_store *store, yw_audit *audit, const yw_keyring *keys, const yw_config *cfg,
                         const char *const *dept_codes, char *err, size_t errlen);

/* The department (index into demo.c's) that provides catalog.c's resource r. */
int yw_demo_resource_dept(int r);

/*
 * The demo city's share requests and grants (src/demo/sharing.c), once the
 * catalog is loaded; prefixes are the username prefixes of the departments.
 */
int yw_demo_load_sharing(yw_store *store, yw_audit *audit, const yw_config *cfg, const yw_calendar *calendar,
                         const char *const *dept_codes, const char *const *prefixes, char *err, size_t errlen);

/*
 * The demo city's data objections (src/demo/objections.c), once its grants
 * are loaded; prefixes as for yw_demo_load_sharing.
 */
int yw_demo_load_objections(yw_store *store, yw_audit *audit, const yw_config *cfg, const yw_calendar *calendar,
                            const char *const *dept_codes, const char *const *prefixes, char *err, size_t errlen);

#endif
