/*
 * Data objections (数据异议): a consumer tells the provider that a value it
 * was granted is wrong; the provider corrects the record or says why not.
 *
 *   POST /api/v1/resources/{code}/records/{key}/objections   {item, reason, proposed_value?}
 *   GET  /api/v1/objections          ?status=open|accepted|rejected ?role=consumer|provider ?resource= ?overdue=
 *   GET  /api/v1/objections/{id}
 *   POST /api/v1/objections/{id}/resolve   {decision: accept|reject, reason?, value?}
 *
 *   open ──accept (objection_accept_job: record_job + status)──▶ accepted
 *     └───reject (a reason is required)────────────────────────▶ rejected
 *
 * Filing needs an active grant of the objector's org that covers the item
 * (the key item cannot be objected to: a different key is another record).
 * Accepting writes a new version of the record with the proposed value (or
 * the `value` the provider gives instead), prepared and validated exactly
 * as a provider's own write, in the same transaction as the decision; the
 * objection keeps the version its correction produced. The provider has
 * --objection-days working days; an open objection past due_at is overdue.
 *
 * An objection names its record by the key index (`record`), never by a
 * sensitive key: the objector knows the key it filed under, and callers of
 * the provider org also get `key`, read from the record itself. A proposed
 * value of a sensitive item is stored encrypted, and shown masked to
 * callers outside the two orgs. Visibility is that of share requests: the
 * stewards, org admins and systems of the two orgs and the data bureau.
 */
#include "sharing/handlers.h"
#include "sharing/sharing.h"

#include "app/app.h"
#include "core/error.h"
#include "core/time.h"
#include "data/record.h"
#include "sec/mask.h"

#include <stdlib.h>
#include <string.h>

#define OBJECTION_COLUMNS                                                                                          \
    "id, resource, record, record_version, item, item_mask, reason, proposed_value, provider_org, consumer_org,"   \
    " filed_by, conflict, status, due_at, resolved_by, resolved_at, resolution, resolved_version, created_at"

static json_t *text_or_null(yw_stmt *s, int col)
{
    return yw_stmt_text(s, col) ? json_string(yw_stmt_text(s, col)) : json_null();
}

/* The row as stored; objection_shown turns it into what the caller sees. */
static json_t *objection_json(yw_stmt *s)
{
    bool open = strcmp(yw_stmt_text(s, 12), "open") == 0;
    json_t *o = json_pack("{s:s, s:s, s:s, s:I, s:s, s:s, s:s}", "id", yw_stmt_text(s, 0), "resource",
                          yw_stmt_text(s, 1), "record", yw_stmt_text(s, 2), "record_version",
                          (json_int_t)yw_stmt_int(s, 3), "item", yw_stmt_text(s, 4), "item_mask", yw_stmt_text(s, 5),
                          "reason", yw_stmt_text(s, 6));
    json_object_set_new(o, "proposed_value", text_or_null(s, 7));
    json_object_set_new(o, "provider_org", json_string(yw_stmt_text(s, 8)));
    json_object_set_new(o, "consumer_org", json_string(yw_stmt_text(s, 9)));
    json_object_set_new(o, "filed_by", json_string(yw_stmt_text(s, 10)));
    json_object_set_new(o, "conflict", text_or_null(s, 11));
    json_object_set_new(o, "status", json_string(yw_stmt_text(s, 12)));
    json_object_set_new(o, "due_at", yw_json_time(yw_stmt_int(s, 13)));
    json_object_set_new(o, "overdue", json_boolean(open && yw_now_ms() > yw_stmt_int(s, 13)));
    json_object_set_new(o, "resolved_by", text_or_null(s, 14));
    json_object_set_new(o, "resolved_at", yw_json_time(yw_stmt_int(s, 15)));
    json_object_set_new(o, "resolution", text_or_null(s, 16));
    json_object_set_new(o, "resolved_version",
                        yw_stmt_is_null(s, 17) ? json_null() : json_integer(yw_stmt_int(s, 17)));
    json_object_set_new(o, "created_at", yw_json_time(yw_stmt_int(s, 18)));
    return o;
}

static const char *value_context(yw_req *req, const char *resource, const char *item)
{
    return yw_arena_printf(req->arena, "objection:%s/%s", resource, item);
}

const char *objection_seal(yw_req *req, const char *resource, const char *item, bool sensitive, const char *value)
{
    if (!sensitive)
        return yw_arena_strdup(req->arena, value);
    yw_buf enc = YW_BUF_INIT;
    int rc = yw_field_encrypt(yw_req_app(req)->keys, value_context(req, resource, item), value, strlen(value), &enc);
    const char *out = rc == 0 ? yw_arena_strdup(req->arena, enc.data) : NULL;
    yw_buf_free(&enc);
    return out;
}

/* The proposed value in clear, in the request arena; NULL when there is none or it does not decrypt. */
static const char *objection_unseal(yw_req *req, const json_t *o)
{
    const char *stored = yw_json_str(o, "proposed_value");
    if (!stored || !yw_field_is_encrypted(stored))
        return stored;
    yw_buf plain = YW_BUF_INIT;
    int rc = yw_field_decrypt(yw_req_app(req)->keys,
                              value_context(req, yw_json_str(o, "resource"), yw_json_str(o, "item")), stored, &plain);
    const char *out = NULL;
    if (rc == 0) {
        yw_buf_append(&plain, "", 1);
        out = yw_arena_strdup(req->arena, plain.data);
    }
    yw_buf_wipe(&plain);
    return out;
}

static bool caller_is(const yw_req *req, const char *org)
{
    return req->principal.org_code && org && strcmp(req->principal.org_code, org) == 0;
}

/* The key of the record, read from the record itself, for callers of the provider org; NULL otherwise. */
static const char *record_key(yw_req *req, yw_db *db, const json_t *o, resource_spec *spec)
{
    if (!caller_is(req, yw_json_str(o, "provider_org")))
        return NULL;
    const char *code = yw_json_str(o, "resource");
    if ((!spec->code || strcmp(spec->code, code) != 0) && resource_spec_load(req->arena, db, code, spec) < 0)
        return NULL;
    record_ctx ctx = record_ctx_of(req);
    json_t *data;
    int64_t version, updated;
    if (!spec->key_item || record_read(&ctx, db, spec, yw_json_str(o, "record"), &data, &version, &updated) < 0)
        return NULL;
    const char *key = yw_json_str(data, spec->key_item);
    key = key ? yw_arena_strdup(req->arena, key) : NULL;
    json_decref(data);
    return key;
}

/*
 * Turns a stored row (objection_json) into what the caller sees, in place:
 * the proposed value decrypted (masked for callers outside both orgs), and
 * the record's key for callers of the provider org.
 */
static void objection_shown(yw_req *req, yw_db *db, json_t *o, resource_spec *spec)
{
    const char *stored = yw_json_str(o, "proposed_value");
    const char *value = objection_unseal(req, o);
    bool party = caller_is(req, yw_json_str(o, "provider_org")) || caller_is(req, yw_json_str(o, "consumer_org"));
    if (value && stored && yw_field_is_encrypted(stored) && !party) {
        yw_buf masked = YW_BUF_INIT;
        yw_mask(yw_json_str(o, "item_mask"), value, &masked);
        yw_buf_append(&masked, "", 1);
        value = yw_arena_strdup(req->arena, masked.data);
        yw_buf_free(&masked);
    }
    json_object_set_new(o, "proposed_value", value ? json_string(value) : json_null());
    json_object_del(o, "item_mask");
    const char *key = record_key(req, db, o, spec);
    json_object_set_new(o, "key", key ? json_string(key) : json_null());
}

/* The objection named by id if the caller may see it; else replies. Kept by the request, as stored. */
static json_t *objection_or_reply(yw_req *req, yw_db *db, const char *id)
{
    bool failed;
    json_t *o = yw_app_load_one(req, db, "SELECT " OBJECTION_COLUMNS " FROM objections WHERE id = $1", id,
                                objection_json, &failed);
    if (failed)
        return NULL;
    if (!o) {
        yw_reply_problem(req, 404, "not_found", "no such objection");
        return NULL;
    }
    if (!share_authz_or_reply(req, YW_ACT_OBJECTION_READ, yw_json_str(o, "consumer_org"), yw_json_str(o, "provider_org"),
                              "objection"))
        return NULL;
    return o;
}

static void reply_objection(yw_req *req, const char *id, int status)
{
    json_t *o = yw_app_load_written(req, "SELECT " OBJECTION_COLUMNS " FROM objections WHERE id = $1", id,
                                    objection_json, "objection");
    if (!o)
        return;
    resource_spec spec = {0};
    objection_shown(req, yw_app_reader_or_reply(req), o, &spec);
    yw_reply_json(req, status, o);
}

/* ---- filing ---- */

int objection_insert(yw_db *db, objection_new *n)
{
    int rc = next_id(db, "objections", "OB", n->id);
    if (rc < 0)
        return rc;
    rc = yw_db_run(db,
                   "INSERT INTO objections(id, resource, record, record_version, item, item_mask, reason, proposed_value,"
                   " provider_org, consumer_org, filed_by, conflict, status, due_at, created_at)"
                   " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, 'open', $13, $14)",
                   "tttittttttttii", n->id, n->resource, n->record, n->record_version, n->item, n->item_mask,
                   n->reason, n->proposed_value, n->provider, n->consumer, n->filed_by, n->conflict, n->due_at,
                   n->created_at ? n->created_at : yw_now_ms());
    return rc < 0 ? rc : 0;
}

typedef struct {
    yw_req *req;
    objection_new n;
} objection_write;

static int objection_insert_job(yw_db *db, void *arg)
{
    objection_write *w = arg;
    /* The record may have gone since the request looked: then there is nothing to object to. */
    int64_t version = 0;
    int rc = yw_db_int(db, &version, "SELECT version FROM records WHERE " RECORD_OF_KEY " AND deleted = 0",
                       "tt", w->n.resource, w->n.record);
    if (rc < 0)
        return rc;
    if (rc == 0)
        return YW_ENOTFOUND;
    w->n.record_version = version;
    if ((rc = objection_insert(db, &w->n)) < 0)
        return rc;
    json_array_insert_new(w->req->audit.object_ids, 0, json_string(w->n.id));
    return 0;
}

static const item_spec *find_item(const resource_spec *r, const char *name)
{
    for (size_t i = 0; i < r->nitems; i++)
        if (strcmp(r->items[i].name, name) == 0)
            return &r->items[i];
    return NULL;
}

void objections_create(yw_req *req)
{
    static const yw_json_field fields[] = {
        {"item", YW_JSON_STRING, true, 64},
        {"reason", YW_JSON_STRING, true, 1000},
        {"proposed_value", YW_JSON_STRING, false, 4000},
    };
    req->audit.stage = "share";
    req->audit.object_type = "objection";
    if (!yw_authz_or_reply(req, YW_ACT_OBJECTION_FILE, NULL, NULL))
        return;
    json_t *body = yw_req_json_or_reply(req, fields, sizeof fields / sizeof fields[0]);
    if (!body)
        return;
    yw_db *db = yw_app_reader_or_reply(req);
    if (!db)
        return;
    resource_spec r;
    int rc = resource_spec_load(req->arena, db, yw_req_param(req, "code"), &r);
    bool own = rc == 0 && caller_is(req, r.provider);
    if (rc == YW_ENOTFOUND || (rc == 0 && !own && strcmp(r.status, "published") != 0) || (rc == 0 && !r.key_item)) {
        yw_reply_problem(req, 404, "not_found", "no such record");
        return;
    }
    if (rc < 0) {
        yw_reply_store_error(req, rc, "resource");
        return;
    }
    record_ctx ctx = record_ctx_of(req);
    const char *index = key_index(&ctx, &r, yw_req_param(req, "key"));
    req->audit.object_ids = yw_req_keep(req, json_pack("[s,s]", r.code, index));
    const char *item_name = yw_json_str(body, "item");
    req->audit.items = yw_req_keep(req, json_pack("[s]", item_name));
    if (own) {
        yw_reply_problem(req, 422, "validation_failed", "your org provides this resource: correct the record directly");
        return;
    }
    grant g;
    rc = grant_find(req, db, r.code, NULL, &g);
    if (rc == YW_ENOTFOUND) {
        yw_reply_problem(req, 403, "no_grant", "no active grant of your org covers this resource");
        return;
    }
    if (rc < 0) {
        yw_reply_store_error(req, rc, "grant");
        return;
    }
    req->audit.purpose = g.id;
    const item_spec *item = find_item(&r, item_name);
    const char *proposed = yw_json_str(body, "proposed_value");
    const char *why = NULL;
    if (!*yw_json_str(body, "reason"))
        why = "'reason' tells the provider what is wrong: it cannot be empty";
    else if (!item || !json_object_get(g.items, item_name))
        why = yw_arena_printf(req->arena, "'%.64s' is not an item your grant %s covers", item_name, g.id);
    else if (strcmp(item_name, r.key_item) == 0)
        why = "the key item names the record: a different key is a different record";
    else if (proposed && (why = yw_element_check_value(&item->element, proposed)) != NULL)
        why = yw_arena_printf(req->arena, "'proposed_value' %s", why);
    if (why) {
        yw_reply_problem(req, 422, "validation_failed", "%s", why);
        return;
    }
    objection_write w = {.req = req, .n = {
        .resource = r.code, .record = index, .item = item->name, .item_mask = item->mask,
        .reason = yw_json_str(body, "reason"), .provider = r.provider, .consumer = req->principal.org_code,
        .filed_by = req->principal.id,
        .due_at = yw_calendar_deadline(yw_req_app(req)->calendar, yw_now_ms(), yw_req_app(req)->config->objection_days),
    }};
    if (proposed && !(w.n.proposed_value = objection_seal(req, r.code, item->name, item->sensitive, proposed))) {
        yw_reply_store_error(req, YW_EIO, "objection");
        return;
    }
    rc = yw_app_write(req, objection_insert_job, &w, 201);
    if (rc == YW_ENOTFOUND) {
        yw_reply_problem(req, 404, "not_found", "no such record");
        return;
    }
    if (rc < 0) {
        yw_reply_store_error(req, rc, "objection");
        return;
    }
    yw_reply_header(req, "Location", yw_arena_printf(req->arena, "/api/v1/objections/%s", w.n.id));
    reply_objection(req, w.n.id, 201);
}

/* ---- reading ---- */

void objections_list(yw_req *req)
{
    static const char *const statuses[] = {"open", "accepted", "rejected", NULL};
    list_filter f;
    yw_db *db = list_begin(req, YW_ACT_OBJECTION_READ, statuses, true, &f);
    if (!db)
        return;
    yw_stmt *s;
    int rc = yw_db_query(db, &s,
                         "SELECT " OBJECTION_COLUMNS " FROM objections WHERE id > coalesce($1, '')" PARTY_SQL("$2", "$3")
                         DEADLINE_SQL("open") " ORDER BY id LIMIT $8",
                         "tttttiii", f.cursor, f.org, f.role, f.status, f.resource, f.overdue, yw_now_ms(),
                         (int64_t)f.limit + 1);
    if (rc < 0) {
        yw_reply_store_error(req, rc, "objection");
        return;
    }
    /* The page is read whole first: turning rows into what the caller sees reads records meanwhile. */
    json_t *items = yw_req_keep(req, json_array());
    while ((rc = yw_stmt_step(s)) == YW_DB_ROW)
        json_array_append_new(items, objection_json(s));
    yw_stmt_release(s);
    if (rc < 0) {
        yw_reply_store_error(req, rc, "objection");
        return;
    }
    const char *next = NULL;
    if (json_array_size(items) > (size_t)f.limit) {
        json_array_remove(items, (size_t)f.limit);
        next = yw_cursor_encode(req, yw_json_str(json_array_get(items, (size_t)f.limit - 1), "id"));
    }
    resource_spec spec = {0};
    size_t i;
    json_t *o;
    json_array_foreach(items, i, o) objection_shown(req, db, o, &spec);
    yw_reply_json_new(req, 200, json_pack("{s:O, s:s?}", "items", items, "next_cursor", next));
}

void objections_get(yw_req *req)
{
    yw_db *db = yw_app_reader_or_reply(req);
    json_t *o = db ? objection_or_reply(req, db, yw_req_param(req, "id")) : NULL;
    if (!o)
        return;
    resource_spec spec = {0};
    objection_shown(req, db, o, &spec);
    yw_reply_json(req, 200, o);
}

/* ---- resolving ---- */

typedef struct {
    const char *id, *by, *reason;
    record_write *correction; /* accept: the record's new version; NULL: reject */
} resolution;

static int objection_resolve_job(yw_db *db, void *arg)
{
    resolution *r = arg;
    int rc;
    if (r->correction && (rc = record_job(db, r->correction)) < 0)
        return rc;
    /* Resolved once: a second answer, even a concurrent one, finds it no longer open (and its correction is undone). */
    rc = yw_db_run(db,
                   "UPDATE objections SET status = $2, resolved_by = $3, resolved_at = $4, resolution = $5,"
                   " resolved_version = nullif($6, 0) WHERE id = $1 AND status = 'open'",
                   "tttiti", r->id, r->correction ? "accepted" : "rejected", r->by, yw_now_ms(), r->reason,
                   r->correction ? r->correction->version : (int64_t)0);
    if (rc == 0)
        return YW_ESTATE;
    return rc < 0 ? rc : 0;
}

/*
 * Prepares in *w the corrected record for an accepted objection o: its
 * current data with the item set to value, checked like any write. False
 * after replying.
 */
static bool correction_or_reply(yw_req *req, yw_db *db, const json_t *o, const char *value, record_write *w)
{
    resource_spec r;
    int rc = resource_spec_load(req->arena, db, yw_json_str(o, "resource"), &r);
    if (rc < 0) {
        yw_reply_store_error(req, rc, "resource");
        return false;
    }
    if (strcmp(r.status, "retired") == 0) {
        yw_reply_problem(req, 409, "retired", "a retired resource takes no more records: reject the objection instead");
        return false;
    }
    record_ctx ctx = record_ctx_of(req);
    json_t *data;
    int64_t version, updated;
    rc = r.key_item ? record_read(&ctx, db, &r, yw_json_str(o, "record"), &data, &version, &updated) : YW_ENOTFOUND;
    if (rc == YW_ENOTFOUND) {
        yw_reply_problem(req, 409, "record_gone", "the record was deleted: reject the objection instead");
        return false;
    }
    if (rc < 0) {
        yw_reply_store_error(req, rc, "record");
        return false;
    }
    yw_req_keep(req, data);
    /* A copy: preparing the record sets the key item again, freeing the string read here. */
    const char *key = yw_json_str(data, r.key_item) ? yw_arena_strdup(req->arena, yw_json_str(data, r.key_item)) : NULL;
    json_object_set_new(data, yw_json_str(o, "item"), json_string(value));
    const char *bad_item = NULL;
    const char *why = key ? prepare_record(&ctx, &r, key, data, w, &bad_item) : "the record has no key value";
    if (why) {
        yw_reply_problem(req, 422, "validation_failed", "the corrected record is not valid: %.64s %s",
                         bad_item ? bad_item : "", why);
        return false;
    }
    return true;
}

void objections_resolve(yw_req *req)
{
    static const yw_json_field fields[] = {
        {"decision", YW_JSON_STRING, true, 16},
        {"reason", YW_JSON_STRING, false, 1000},
        {"value", YW_JSON_STRING, false, 4000},
    };
    req->audit.stage = "use";
    yw_req_audit_object(req, "objection", yw_req_param(req, "id"));
    yw_db *db = yw_app_reader_or_reply(req);
    json_t *o = db ? objection_or_reply(req, db, yw_req_param(req, "id")) : NULL;
    if (!o)
        return;
    if (yw_authz(&req->principal, YW_ACT_OBJECTION_RESOLVE, yw_json_str(o, "provider_org"), NULL) != YW_AUTHZ_ALLOW) {
        yw_reply_problem(req, 403, "forbidden", "the provider's stewards answer this objection");
        return;
    }
    if (strcmp(yw_json_str(o, "status"), "open") != 0) {
        yw_reply_problem(req, 409, "already_resolved", "the objection was %s already", yw_json_str(o, "status"));
        return;
    }
    json_t *body = yw_req_json_or_reply(req, fields, sizeof fields / sizeof fields[0]);
    if (!body)
        return;
    const char *decision = yw_json_str(body, "decision"), *reason = yw_json_str(body, "reason");
    bool accept = strcmp(decision, "accept") == 0;
    json_array_append_new(req->audit.object_ids, json_string(yw_json_str(o, "resource")));
    json_array_append_new(req->audit.object_ids, json_string(yw_json_str(o, "record")));
    req->audit.items = yw_req_keep(req, json_pack("[s]", yw_json_str(o, "item")));
    const char *value = yw_json_str(body, "value");
    if (!accept && strcmp(decision, "reject") != 0) {
        yw_reply_problem(req, 422, "validation_failed", "'decision' is accept or reject");
        return;
    }
    if (!accept && (!reason || !*reason)) {
        yw_reply_problem(req, 422, "validation_failed", "a rejection needs a 'reason' the objector will read");
        return;
    }
    if (!accept && value) {
        yw_reply_problem(req, 422, "validation_failed", "'value' is the corrected value: only an acceptance has one");
        return;
    }
    resolution res = {.id = yw_json_str(o, "id"), .by = req->principal.id, .reason = reason};
    record_write w;
    if (accept) {
        if (!value && !(value = objection_unseal(req, o))) {
            yw_reply_problem(req, 422, "validation_failed",
                             "the objection proposes no value: give the corrected one in 'value'");
            return;
        }
        if (!correction_or_reply(req, db, o, value, &w))
            return;
        req->audit.stage = "store";
        res.correction = &w;
    }
    int rc = yw_app_write(req, objection_resolve_job, &res, 200);
    if (rc == YW_ESTATE) {
        yw_reply_problem(req, 409, "already_resolved", "the objection was answered meanwhile");
        return;
    }
    if (rc < 0) {
        yw_reply_store_error(req, rc, "objection");
        return;
    }
    reply_objection(req, res.id, 200);
}
