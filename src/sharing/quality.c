/*
 * Data quality of a resource (数据质量): one score from 0 to 100 and what it
 * is made of.
 *
 *   GET /api/v1/resources/{code}/quality
 *
 *   score = round(30 × completeness + 30 × validity + 20 × timeliness + 20 × consistency)
 *
 *   completeness  share of the sampled records with every required item filled
 *   validity      share of the sampled records' values that pass their item's
 *                 type and length and their element's validator as they are now
 *                 (sensitive values decrypted for the check, never shown)
 *   timeliness    1 while the newest write is within one update cycle (realtime:
 *                 an hour; daily, weekly: 7 days, monthly: 31, quarterly: 92,
 *                 yearly: 366), then falling linearly to 0 at two cycles
 *   consistency   1 − share of the resource's records whose value of some element
 *                 differs from another provider's for the same entity (the open
 *                 conflicts of conflicts.c, found by the same detection pass)
 *
 * Completeness and validity read the newest SAMPLE_LIMIT records (by last
 * write) and say how many they read; a resource without records scores 0.
 * Anyone who may see the resource may see its quality: published ones
 * everyone signed in, drafts and retired ones their provider org. Only
 * figures leave: no value is disclosed, so reading it is not an audit entry.
 */
#include "sharing/handlers.h"
#include "sharing/sharing.h"

#include "app/app.h"
#include "core/error.h"
#include "core/time.h"
#include "data/record.h"

#include <stdlib.h>
#include <string.h>

#define SAMPLE_LIMIT 10000
#define HOUR_MS 3600000LL
#define DAY_MS 86400000LL

static int64_t cycle_ms(const char *cycle)
{
    static const struct {
        const char *name;
        int64_t ms;
    } cycles[] = {{"realtime", HOUR_MS},     {"daily", DAY_MS},         {"weekly", 7 * DAY_MS},
                  {"monthly", 31 * DAY_MS}, {"quarterly", 92 * DAY_MS}, {"yearly", 366 * DAY_MS}};
    for (size_t i = 0; cycle && i < sizeof cycles / sizeof cycles[0]; i++)
        if (strcmp(cycles[i].name, cycle) == 0)
            return cycles[i].ms;
    return DAY_MS; /* a resource that states no cycle is expected to be kept daily */
}

static double timeliness_of(int64_t last_write, int64_t now, int64_t cycle)
{
    if (!last_write)
        return 0;
    int64_t age = now - last_write;
    if (age <= cycle)
        return 1;
    return age >= 2 * cycle ? 0 : 1 - (double)(age - cycle) / (double)cycle;
}

static const item_spec *find_item(const resource_spec *r, const char *name)
{
    for (size_t i = 0; i < r->nitems; i++)
        if (strcmp(r->items[i].name, name) == 0)
            return &r->items[i];
    return NULL;
}

typedef struct {
    int64_t records, sampled, complete, values, invalid, conflicting, last_write;
} measures;

/* Completeness and validity over the newest records. */
static int measure_sample(yw_req *req, yw_db *db, const resource_spec *r, measures *m)
{
    yw_stmt *s;
    int rc = yw_db_query(db, &s,
                         "SELECT key_index FROM records WHERE resource = $1 AND deleted = 0"
                         " ORDER BY updated_at DESC, rowid DESC LIMIT $2",
                         "ti", r->code, (int64_t)SAMPLE_LIMIT);
    if (rc < 0)
        return rc;
    json_t *keys = json_array();
    while ((rc = yw_stmt_step(s)) == YW_DB_ROW)
        json_array_append_new(keys, json_string(yw_stmt_text(s, 0)));
    yw_stmt_release(s);
    record_ctx ctx = record_ctx_of(req);
    size_t i;
    json_t *key;
    json_array_foreach(keys, i, key) {
        if (rc < 0)
            break;
        json_t *data;
        int64_t version, updated;
        rc = record_read(&ctx, db, r, json_string_value(key), &data, &version, &updated);
        if (rc == YW_ENOTFOUND) {
            rc = 0;
            continue;
        }
        if (rc < 0)
            break;
        m->sampled++;
        bool complete = true;
        for (size_t k = 0; k < r->nitems; k++) {
            json_t *v = json_object_get(data, r->items[k].name);
            complete = complete && (!r->items[k].required || (v && !json_is_null(v)));
        }
        m->complete += complete;
        const char *name;
        json_t *v;
        json_object_foreach(data, name, v) {
            if (json_is_null(v))
                continue;
            const item_spec *item = find_item(r, name);
            char *text = json_is_string(v) ? NULL : json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
            m->values++;
            /* A value of an item the resource no longer has fails too: nothing says what it should be. */
            m->invalid += !item || yw_element_check_value(&item->element, text ? text : json_string_value(v)) != NULL;
            free(text);
        }
        json_decref(data);
    }
    json_decref(keys);
    return rc < 0 ? rc : 0;
}

static json_t *part(double share, double weight)
{
    return json_pack("{s:i, s:f}", "score", (int)(share * 100 + 0.5), "weight", weight);
}

void resources_quality(yw_req *req)
{
    if (!yw_authz_or_reply(req, YW_ACT_RESOURCE_READ, NULL, NULL))
        return;
    yw_db *db = yw_app_reader_or_reply(req);
    if (!db)
        return;
    resource_spec r;
    int rc = resource_spec_load(req->arena, db, yw_req_param(req, "code"), &r);
    bool own = rc == 0 && req->principal.org_code && strcmp(r.provider, req->principal.org_code) == 0;
    if (rc == YW_ENOTFOUND || (rc == 0 && !own && strcmp(r.status, "published") != 0)) {
        yw_reply_problem(req, 404, "not_found", "no such resource");
        return;
    }
    if (rc < 0) {
        yw_reply_store_error(req, rc, "resource");
        return;
    }
    const char *cycle = NULL;
    yw_stmt *s;
    if ((rc = yw_db_query(db, &s, "SELECT doc FROM resources WHERE code = $1", "t", r.code)) < 0) {
        yw_reply_store_error(req, rc, "resource");
        return;
    }
    if (yw_stmt_step(s) == YW_DB_ROW) {
        json_t *doc = json_loads(yw_stmt_text(s, 0), 0, NULL);
        const char *c = yw_json_str(doc, "update_cycle");
        cycle = c ? yw_arena_strdup(req->arena, c) : NULL;
        json_decref(doc);
    }
    yw_stmt_release(s);
    measures m = {0};
    int64_t now = yw_now_ms();
    rc = yw_db_int(db, &m.records, "SELECT count(*) FROM records WHERE resource = $1 AND deleted = 0", "t", r.code);
    if (rc >= 0)
        rc = yw_db_int(db, &m.last_write, "SELECT coalesce(max(updated_at), 0) FROM records WHERE resource = $1", "t",
                       r.code);
    if (rc >= 0)
        rc = measure_sample(req, db, &r, &m);
    /* Consistency reads the entity index as the detection pass leaves it. */
    if (rc >= 0)
        rc = entities_refresh(req, db);
    if (rc >= 0 && !(db = yw_app_reader_or_reply(req)))
        return;
    if (rc >= 0)
        rc = yw_db_int(db, &m.conflicting,
                       "SELECT count(DISTINCT e.key_index) FROM record_entities e JOIN entity_values v"
                       " ON v.entity = e.entity AND v.resource = e.resource AND v.key_index = e.key_index"
                       " WHERE e.resource = $1 AND EXISTS"
                       " (SELECT 1 FROM entity_values w WHERE w.entity = v.entity AND w.element = v.element"
                       "  AND w.value_hash <> v.value_hash"
                       "  AND w.provider_org <> v.provider_org)",
                       "t", r.code);
    if (rc < 0) {
        yw_reply_store_error(req, rc, "quality");
        return;
    }
    bool any = m.sampled > 0;
    double completeness = any ? (double)m.complete / (double)m.sampled : 0;
    double validity = any && m.values ? 1 - (double)m.invalid / (double)m.values : 0;
    double timeliness = any ? timeliness_of(m.last_write, now, cycle_ms(cycle)) : 0;
    double consistency = any && m.records ? 1 - (double)m.conflicting / (double)m.records : 0;
    int score = (int)(30 * completeness + 30 * validity + 20 * timeliness + 20 * consistency + 0.5);
    json_t *c = part(completeness, 0.3), *v = part(validity, 0.3), *t = part(timeliness, 0.2),
           *k = part(consistency, 0.2);
    json_object_set_new(c, "complete_records", json_integer(m.complete));
    json_object_set_new(v, "values", json_integer(m.values));
    json_object_set_new(v, "invalid_values", json_integer(m.invalid));
    json_object_set_new(t, "update_cycle", cycle ? json_string(cycle) : json_null());
    json_object_set_new(t, "last_write_at", yw_json_time(m.last_write));
    json_object_set_new(k, "conflicting_records", json_integer(m.conflicting));
    yw_reply_json_new(req, 200,
                      json_pack("{s:s, s:i, s:I, s:I, s:i, s:o, s:o, s:o, s:o, s:o}", "resource", r.code, "score",
                                score, "records", (json_int_t)m.records, "sampled", (json_int_t)m.sampled,
                                "sample_limit", SAMPLE_LIMIT, "completeness", c, "validity", v, "timeliness", t,
                                "consistency", k, "computed_at", yw_json_time(now)));
}
