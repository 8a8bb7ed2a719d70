/*
 * The demo city's sharing: the requests and grants a city has after its
 * first months on the platform, so that every role finds something to do.
 *
 *   市场监管局 reads names and birth dates of the population base library
 *     (ID numbers masked) to check enterprise registrations — granted;
 *   民政局 reads death certificates from 卫健委 to stop benefits — granted;
 *   税务局 reads the enterprise base library — unconditional, granted at once;
 *   人社局 asks 公安局 for the population base library — waiting;
 *   住建局 asked 民政局 for marriage records two weeks ago — waiting, overdue,
 *     on the data bureau's list.
 *
 * Loading again adds nothing: a request already there (same resource,
 * consumer and requester) is left alone.
 */
#include "demo/demo.h"

#include "core/error.h"
#include "core/time.h"
#include "sharing/sharing.h"

#include <stdio.h>
#include <string.h>

#define DAY_MS 86400000LL

typedef struct {
    int consumer, resource;  /* departments of demo.c; resources of catalog.c, by index */
    const char *requester;   /* username suffix in the consumer org */
    const char *items, *modes; /* JSON; modes NULL: still pending */
    const char *decider;       /* username suffix in the provider org; NULL: granted by the share type */
    const char *purpose, *legal_basis, *scenario;
    int age_days;              /* filed this many days ago */
} demo_request;

static const demo_request requests[] = {
    {2, 0, "steward", "[\"id_number\",\"name\",\"birth_date\"]",
     "{\"id_number\":\"masked\",\"name\":\"clear\",\"birth_date\":\"clear\"}", "steward",
     "企业登记时核验法定代表人身份", "《市场主体登记管理条例》第十七条", "企业开办一件事", 30},
    {4, 6, "steward", "[\"id_number\",\"name\",\"death_date\"]",
     "{\"id_number\":\"clear\",\"name\":\"clear\",\"death_date\":\"clear\"}", "steward",
     "死亡人员社会救助待遇停发", "《社会救助暂行办法》第十一条", "身后一件事", 20},
    {6, 2, "steward", "[\"uscc\",\"enterprise_name\",\"legal_representative\",\"operating_status\"]",
     "{\"uscc\":\"clear\",\"enterprise_name\":\"clear\",\"legal_representative\":\"clear\",\"operating_status\":\"clear\"}",
     NULL, "纳税人登记信息比对", "《税收征收管理法》第十五条", "税务登记", 10},
    {3, 0, "steward", "[\"id_number\",\"name\",\"gender\",\"birth_date\"]", NULL, NULL,
     "社会保险参保登记身份核验", "《社会保险法》第五十八条", "参保登记", 1},
    {7, 5, "steward", "[\"id_number\",\"name\",\"marital_status\"]", NULL, NULL,
     "保障性住房申请家庭婚姻状况核验", "《公共租赁住房管理办法》第七条", "住房保障申请", 14},
};
#define NREQUESTS (sizeof requests / sizeof requests[0])

typedef struct {
    yw_audit *audit;
    share_request_new n;
    bool created;
} request_job_arg;

static int request_job(yw_db *db, void *arg)
{
    request_job_arg *a = arg;
    int64_t exists = 0;
    int rc = yw_db_int(db, &exists,
                       "SELECT 1 FROM share_requests WHERE resource = $1 AND consumer_org = $2 AND requested_by = $3",
                       "ttt", a->n.resource, a->n.consumer, a->n.requested_by);
    if (rc != YW_DB_DONE)
        return rc < 0 ? rc : 0;
    if ((rc = share_request_insert(db, &a->n)) < 0)
        return rc;
    a->created = true;
    int64_t seq = yw_audit_system(a->audit, db, "yiwang demo", "share.request", "share_request", a->n.id);
    if (seq >= 0 && a->n.grant_items)
        seq = yw_audit_system(a->audit, db, "yiwang demo", "share.approve", "grant", a->n.grant_id);
    return seq < 0 ? (int)seq : 0;
}

int yw_demo_load_sharing(yw_store *store, yw_audit *audit, const yw_config *cfg, const yw_calendar *calendar,
                         const char *const *dept_codes, const char *const *prefixes, char *err, size_t errlen)
{
    int64_t now = yw_now_ms();
    for (size_t i = 0; i < NREQUESTS; i++) {
        const demo_request *d = &requests[i];
        char resource[64], requester[64], decider[64];
        int provider = yw_demo_resource_dept(d->resource);
        snprintf(resource, sizeof resource, "%s-%06d", dept_codes[provider], 100001 + d->resource);
        snprintf(requester, sizeof requester, "%s_%s", prefixes[d->consumer], d->requester);
        snprintf(decider, sizeof decider, "%s_%s", prefixes[provider], d->decider ? d->decider : "");
        int64_t filed = now - (int64_t)d->age_days * DAY_MS;
        request_job_arg a = {.audit = audit, .n = {
            .resource = resource, .provider = dept_codes[provider], .consumer = dept_codes[d->consumer],
            .requested_by = requester, .items = d->items, .purpose = d->purpose, .legal_basis = d->legal_basis,
            .scenario = d->scenario, .valid_until = filed + (int64_t)cfg->grant_days * DAY_MS,
            .due_at = yw_calendar_deadline(calendar, filed, cfg->request_days), .created_at = filed,
            .grant_items = d->modes, .decided_by = d->decider ? decider : NULL,
        }};
        int rc = yw_writer_run(yw_store_writer(store), request_job, &a);
        if (rc < 0) {
            snprintf(err, errlen, "loading the demo share requests: %s", yw_strerror(rc));
            return rc;
        }
    }
    return 0;
}
