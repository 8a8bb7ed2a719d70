/*
 * The demo city's data objections (数据异议): one a provider left unanswered.
 *
 *   民政局, reading death certificates from 卫健委 through its grant, found a
 *     death date that contradicts its own records and objected twelve days
 *     ago; 卫健委 has not answered: the objection is overdue, on the data
 *     bureau's list.
 *
 * (The cross-department conflicts the catalog plants are left for the data
 * bureau to find and send.) Loading again adds nothing: an objection of the
 * same org to the same resource is left alone.
 */
#include "demo/demo.h"

#include "core/error.h"
#include "core/time.h"
#include "sharing/sharing.h"

#include <stdio.h>
#include <string.h>

#define DAY_MS 86400000LL

typedef struct {
    yw_audit *audit;
    objection_new n;
} objection_job_arg;

static int objection_job(yw_db *db, void *arg)
{
    objection_job_arg *a = arg;
    int64_t exists = 0;
    int rc = yw_db_int(db, &exists, "SELECT 1 FROM objections WHERE resource = $1 AND consumer_org = $2", "tt",
                       a->n.resource, a->n.consumer);
    if (rc != YW_DB_DONE)
        return rc < 0 ? rc : 0;
    /* The first death certificate on file, as the objector read it. */
    yw_stmt *s;
    if ((rc = yw_db_query(db, &s, "SELECT key_index, version FROM records WHERE resource = $1 AND deleted = 0"
                                  " ORDER BY rowid LIMIT 1", "t", a->n.resource)) < 0)
        return rc;
    char record[128] = "";
    if (yw_stmt_step(s) == YW_DB_ROW) {
        snprintf(record, sizeof record, "%s", yw_stmt_text(s, 0));
        a->n.record_version = yw_stmt_int(s, 1);
    }
    yw_stmt_release(s);
    if (!record[0])
        return 0; /* a city too small to have one */
    a->n.record = record;
    if ((rc = objection_insert(db, &a->n)) < 0)
        return rc;
    int64_t seq = yw_audit_system(a->audit, db, "yiwang demo", "objection.file", "objection", a->n.id);
    return seq < 0 ? (int)seq : 0;
}

int yw_demo_load_objections(yw_store *store, yw_audit *audit, const yw_config *cfg, const yw_calendar *calendar,
                            const char *const *dept_codes, const char *const *prefixes, char *err, size_t errlen)
{
    enum { CONSUMER = 4, DEATHS = 6 }; /* 民政局; catalog.c's 死亡医学证明信息 */
    int provider = yw_demo_resource_dept(DEATHS);
    char resource[64], filer[64];
    snprintf(resource, sizeof resource, "%s-%06d", dept_codes[provider], 100001 + DEATHS);
    snprintf(filer, sizeof filer, "%s_steward", prefixes[CONSUMER]);
    int64_t filed = yw_now_ms() - 12 * DAY_MS;
    objection_job_arg a = {.audit = audit, .n = {
        .resource = resource, .item = "death_date", .item_mask = "none",
        .reason = "本局殡葬管理记录的火化日期早于证明所载死亡日期，请核实", .provider = dept_codes[provider],
        .consumer = dept_codes[CONSUMER], .filed_by = filer,
        .due_at = yw_calendar_deadline(calendar, filed, cfg->objection_days), .created_at = filed,
    }};
    int rc = yw_writer_run(yw_store_writer(store), objection_job, &a);
    if (rc < 0)
        snprintf(err, errlen, "loading the demo objections: %s", yw_strerror(rc));
    return rc < 0 ? rc : 0;
}
