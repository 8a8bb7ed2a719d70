/*
 * Records of shared data, written by their provider.
 *
 *   PUT    /api/v1/resources/{code}/records/{key}           {"data": {item: value}}
 *   DELETE /api/v1/resources/{code}/records/{key}           a tombstone
 *   (reads of one record, by the provider or through a grant, are the sharing module's)
 *   GET    /api/v1/resources/{code}/records/{key}/versions  the history (the provider)
 *
 * Every value is checked against its item (type, length) and the item's
 * data element (validator); required items must be present. Values of
 * sensitive items (L3, L4) are stored encrypted, bound to resource and item;
 * a sensitive key item is looked up by its blind index and stored nowhere
 * in clear — not in the records, the change sequence, the logs (the route
 * is logged, not the path) or the audit trail (which names the index).
 *
 * Writing the same data again changes nothing: the version stays and no
 * change is recorded. Each real change gets the next version and the next
 * number in the resource's change sequence.
 */
#include "data/handlers.h"
#include "data/record.h"

#include "app/app.h"
#include "authz/policy.h"
#include "catalog/element.h"
#include "core/buf.h"
#include "core/error.h"
#include "core/time.h"

#include <stdlib.h>
#include <string.h>

#define MAX_KEY 256

/*
 * Loads the resource named by the path if the caller may load its records;
 * otherwise replies (404 for callers outside the provider org, as if it did
 * not exist). Strings live in the request arena.
 */
int resource_spec_load(yw_arena *a, yw_db *db, const char *code, resource_spec *r)
{
    memset(r, 0, sizeof *r);
    r->code = yw_arena_strdup(a, code);
    yw_stmt *s;
    int rc = yw_db_query(db, &s, "SELECT provider_org, status, doc FROM resources WHERE code = $1", "t", code);
    if (rc < 0)
        return rc;
    if (yw_stmt_step(s) != YW_DB_ROW) {
        yw_stmt_release(s);
        return YW_ENOTFOUND;
    }
    r->provider = yw_arena_strdup(a, yw_stmt_text(s, 0));
    r->status = yw_arena_strdup(a, yw_stmt_text(s, 1));
    json_t *doc = json_loads(yw_stmt_text(s, 2), 0, NULL);
    yw_stmt_release(s);
    const char *key_item = yw_json_str(doc, "key_item");
    r->key_item = key_item ? yw_arena_strdup(a, key_item) : NULL;
    json_t *items = json_object_get(doc, "items");
    r->nitems = json_array_size(items);
    r->items = yw_arena_alloc(a, (r->nitems + 1) * sizeof *r->items);
    for (size_t i = 0; i < r->nitems; i++) {
        json_t *it = json_array_get(items, i);
        item_spec *spec = &r->items[i];
        spec->name = yw_arena_strdup(a, yw_json_str(it, "name"));
        const char *sens = yw_json_str(it, "sensitivity");
        spec->sensitive = sens && (strcmp(sens, "L3") == 0 || strcmp(sens, "L4") == 0);
        spec->required = json_is_true(json_object_get(it, "required"));
        spec->element = (yw_element){.id = spec->name, .name = spec->name,
                                     .type = yw_arena_strdup(a, yw_json_str(it, "type") ? yw_json_str(it, "type") : "C"),
                                     .length = (int)json_integer_value(json_object_get(it, "length"))};
        const char *element = yw_json_str(it, "element");
        spec->element_id = element ? yw_arena_strdup(a, element) : NULL;
        spec->mask = yw_arena_strdup(a, yw_json_str(it, "mask") ? yw_json_str(it, "mask") : "none");
        if (element && yw_db_query(db, &s, "SELECT validator FROM elements WHERE id = $1", "t", element) == 0) {
            if (yw_stmt_step(s) == YW_DB_ROW && yw_stmt_text(s, 0))
                spec->element.validator = yw_arena_strdup(a, yw_stmt_text(s, 0));
            yw_stmt_release(s);
        }
        if (r->key_item && strcmp(r->key_item, spec->name) == 0)
            r->key_sensitive = spec->sensitive;
    }
    json_decref(doc);
    return 0;
}

bool resource_or_reply(yw_req *req, yw_db *db, resource_spec *r)
{
    int rc = resource_spec_load(req->arena, db, yw_req_param(req, "code"), r);
    if (rc == YW_ENOTFOUND) {
        yw_reply_problem(req, 404, "not_found", "no such record");
        return false;
    }
    if (rc < 0) {
        yw_reply_store_error(req, rc, "resource");
        return false;
    }
    switch (yw_authz(&req->principal, YW_ACT_RECORD_WRITE, r->provider, NULL)) {
    case YW_AUTHZ_ALLOW: break;
    case YW_AUTHZ_HIDE: yw_reply_problem(req, 404, "not_found", "no such record"); return false;
    case YW_AUTHZ_FORBID: yw_reply_problem(req, 403, "forbidden", "the provider's stewards and systems load its records"); return false;
    }
    if (!r->key_item) {
        yw_reply_problem(req, 409, "no_key_item", "the resource has no key item yet: set key_item before loading records");
        return false;
    }
    return true;
}

static const item_spec *find_item(const resource_spec *r, const char *name)
{
    for (size_t i = 0; i < r->nitems; i++)
        if (strcmp(r->items[i].name, name) == 0)
            return &r->items[i];
    return NULL;
}

/* The key as stored: its blind index when the key item is sensitive. */
const char *key_index(const record_ctx *c, const resource_spec *r, const char *key)
{
    if (!r->key_sensitive)
        return yw_arena_strdup(c->arena, key); /* the caller's buffer may not outlive the record */
    char *out = yw_arena_alloc(c->arena, YW_BLIND_INDEX_LEN);
    yw_blind_index(c->keys, r->code, key, out);
    return out;
}

record_ctx record_ctx_of(yw_req *req)
{
    return (record_ctx){.arena = req->arena, .keys = yw_req_app(req)->keys, .source = req->principal.id};
}

static char *item_context(yw_arena *a, const resource_spec *r, const char *item)
{
    return yw_arena_printf(a, "%s/%s", r->code, item);
}

/* A value as text for validation: strings as they are, numbers and booleans as JSON writes them. */
static const char *value_text(yw_arena *a, const json_t *v)
{
    if (json_is_string(v))
        return json_string_value(v);
    char *t = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
    const char *out = yw_arena_strdup(a, t ? t : "");
    free(t);
    return out;
}

int record_job(yw_db *db, void *arg)
{
    record_write *w = arg;
    yw_stmt *s;
    int rc = yw_db_query(db, &s, "SELECT version, hash, deleted, updated_at FROM records WHERE resource = $1 AND key_index = $2",
                         "tt", w->resource, w->key_index);
    if (rc < 0)
        return rc;
    bool exists = yw_stmt_step(s) == YW_DB_ROW;
    int64_t version = exists ? yw_stmt_int(s, 0) : 0;
    bool deleted = exists && yw_stmt_int(s, 2);
    bool same = exists && !deleted && w->data && strcmp(yw_stmt_text(s, 1), w->hash) == 0;
    w->updated_at = exists ? yw_stmt_int(s, 3) : 0;
    yw_stmt_release(s);
    w->version = version;
    if (!w->data && (!exists || deleted))
        return YW_ENOTFOUND;
    if (same)
        return 0; /* loading the same data again changes nothing */
    int64_t now = yw_now_ms();
    w->version = version + 1;
    w->created = !exists || deleted;
    w->changed = true;
    w->updated_at = now;
    /* The version being replaced moves to the history; a first write has none. */
    rc = exists ? yw_db_run(db,
                            "INSERT INTO record_versions(resource, key_index, version, data, hash, deleted, source,"
                            " updated_at) SELECT resource, key_index, version, data, hash, deleted, source, updated_at"
                            " FROM records WHERE resource = $1 AND key_index = $2",
                            "tt", w->resource, w->key_index)
                : 0;
    if (rc >= 0)
        rc = yw_db_run(db,
                       "INSERT INTO records(resource, key_index, version, data, hash, deleted, source, updated_at)"
                       " VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT(resource, key_index) DO UPDATE SET"
                       " version = excluded.version, data = excluded.data, hash = excluded.hash, deleted = excluded.deleted,"
                       " source = excluded.source, updated_at = excluded.updated_at",
                       "ttittiti", w->resource, w->key_index, w->version, w->data, w->hash ? w->hash : "",
                       (int64_t)(w->data == NULL), w->source, now);
    if (rc >= 0)
        rc = yw_db_run(db,
                       "INSERT INTO record_changes(resource, seq, key_index, version, deleted, changed_at)"
                       " VALUES ($1, (SELECT coalesce(max(seq), 0) + 1 FROM record_changes WHERE resource = $1),"
                       " $2, $3, $4, $5)",
                       "ttiii", w->resource, w->key_index, w->version, (int64_t)(w->data == NULL), now);
    return rc < 0 ? rc : 0;
}

const char *prepare_record(const record_ctx *c, const resource_spec *r, const char *key, json_t *data,
                           record_write *w, const char **bad_item)
{
    memset(w, 0, sizeof *w);
    *bad_item = r->key_item;
    if (strlen(key) == 0 || strlen(key) > MAX_KEY)
        return "the key has 1 to 256 bytes";
    /* The key item takes the record's key; a different value in the data is a mistake. */
    json_t *given = json_object_get(data, r->key_item);
    if (given && !json_is_null(given) && (!json_is_string(given) || strcmp(json_string_value(given), key) != 0))
        return "differs from the key in the path";
    json_object_set_new(data, r->key_item, json_string(key));
    const char *name;
    json_t *v;
    json_object_foreach(data, name, v) {
        const item_spec *item = find_item(r, name);
        const char *why = NULL;
        *bad_item = name;
        if (!item)
            why = "is not an item of the resource";
        else if (json_is_object(v) || json_is_array(v))
            why = "must be a string, a number, true, false or null";
        else if (!json_is_null(v))
            why = yw_element_check_value(&item->element, value_text(c->arena, v));
        if (why)
            return why;
    }
    for (size_t i = 0; i < r->nitems; i++) {
        json_t *value = json_object_get(data, r->items[i].name);
        if (r->items[i].required && (!value || json_is_null(value))) {
            *bad_item = r->items[i].name;
            return "is required";
        }
    }
    *bad_item = NULL;
    /* The keyed hash of the plaintext recognises a reload; sensitive values are then encrypted. */
    char *plain = json_dumps(data, JSON_COMPACT | JSON_SORT_KEYS);
    char *hash = yw_arena_alloc(c->arena, YW_BLIND_INDEX_LEN);
    yw_blind_index(c->keys, yw_arena_printf(c->arena, "record:%s", r->code), plain, hash);
    free(plain);
    json_t *stored = json_object();
    json_object_foreach(data, name, v) {
        if (json_is_null(v))
            continue;
        if (!find_item(r, name)->sensitive) {
            json_object_set(stored, name, v);
            continue;
        }
        char *text = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
        yw_buf enc = YW_BUF_INIT;
        int rc = yw_field_encrypt(c->keys, item_context(c->arena, r, name), text, strlen(text), &enc);
        free(text);
        if (rc == 0)
            json_object_set_new(stored, name, json_string(enc.data));
        yw_buf_free(&enc);
        if (rc < 0) {
            json_decref(stored);
            return "cannot be encrypted";
        }
    }
    char *stored_text = json_dumps(stored, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(stored);
    *w = (record_write){.resource = r->code, .key_index = key_index(c, r, key), .source = c->source,
                        .data = yw_arena_strdup(c->arena, stored_text), .hash = hash};
    free(stored_text);
    return NULL;
}

/* Audit names the record by resource and key index, never by a sensitive key. */
static void audit_record(yw_req *req, const resource_spec *r, const char *index, const char *stage, json_t *items)
{
    req->audit.stage = stage;
    req->audit.object_type = "record";
    req->audit.object_ids = yw_req_keep(req, json_pack("[s,s]", r->code, index));
    req->audit.items = items ? yw_req_keep(req, items) : NULL;
}

/*
 * What every record route does first: the resource (if the caller may reach
 * its records), the record's key index, and what the audit entry will say.
 * False after replying.
 */
static bool record_route(yw_req *req, const char *stage, yw_db **db, resource_spec *r, const char **key,
                         const char **index)
{
    *db = yw_app_reader_or_reply(req);
    if (!*db || !resource_or_reply(req, *db, r))
        return false;
    record_ctx ctx = record_ctx_of(req);
    *key = yw_req_param(req, "key");
    *index = key_index(&ctx, r, *key);
    audit_record(req, r, *index, stage, NULL);
    return true;
}

void records_put(yw_req *req)
{
    static const yw_json_field fields[] = {{"data", YW_JSON_OBJECT, true, 500}};
    yw_db *db;
    resource_spec r;
    const char *key, *index;
    if (!record_route(req, "store", &db, &r, &key, &index))
        return;
    if (strcmp(r.status, "retired") == 0) {
        yw_reply_problem(req, 409, "retired", "a retired resource takes no more records");
        return;
    }
    json_t *body = yw_req_json_or_reply(req, fields, 1);
    if (!body)
        return;
    json_t *data = json_object_get(body, "data");
    const char *item = NULL;
    record_write w;
    record_ctx ctx = record_ctx_of(req);
    const char *why = prepare_record(&ctx, &r, key, data, &w, &item);
    if (why) {
        yw_reply_problem(req, 422, "validation_failed", "%.64s: %s", item, why);
        return;
    }
    json_t *names = json_array();
    const char *name;
    json_t *v;
    json_object_foreach(data, name, v) json_array_append_new(names, json_string(name));
    audit_record(req, &r, w.key_index, "store", names);
    int rc = yw_app_write(req, record_job, &w, 200);
    if (rc < 0) {
        yw_reply_store_error(req, rc, "record");
        return;
    }
    yw_reply_json_new(req, w.created ? 201 : 200,
                      json_pack("{s:s, s:s, s:I, s:b, s:o}", "resource", r.code, "key", key, "version",
                                (json_int_t)w.version, "changed", w.changed, "updated_at", yw_json_time(w.updated_at)));
}

void records_delete(yw_req *req)
{
    yw_db *db;
    resource_spec r;
    const char *key, *index;
    if (!record_route(req, "destroy", &db, &r, &key, &index))
        return;
    record_write w = {.resource = r.code, .key_index = index, .source = req->principal.id};
    int rc = yw_app_write(req, record_job, &w, 204);
    if (rc == YW_ENOTFOUND) {
        yw_reply_problem(req, 404, "not_found", "no such record");
        return;
    }
    if (rc < 0) {
        yw_reply_store_error(req, rc, "record");
        return;
    }
    yw_reply_raw(req, 204, "application/json", NULL, 0);
}

/* The stored data with sensitive values decrypted, as a new object; NULL when one does not decrypt. */
static json_t *decrypt_data(const record_ctx *c, const resource_spec *r, const char *stored)
{
    json_t *data = json_loads(stored ? stored : "{}", 0, NULL);
    const char *name;
    json_t *v;
    void *tmp;
    json_object_foreach_safe(data, tmp, name, v) {
        if (!json_is_string(v) || !yw_field_is_encrypted(json_string_value(v)))
            continue;
        yw_buf plain = YW_BUF_INIT;
        int rc = yw_field_decrypt(c->keys, item_context(c->arena, r, name), json_string_value(v), &plain);
        json_t *value = rc == 0 ? json_loadb(plain.data, plain.len, JSON_DECODE_ANY, NULL) : NULL;
        yw_buf_free(&plain);
        if (!value) {
            json_decref(data);
            return NULL;
        }
        json_object_set_new(data, name, value);
    }
    return data;
}

int record_read(const record_ctx *c, yw_db *db, const resource_spec *r, const char *index, json_t **data,
                int64_t *version, int64_t *updated_at)
{
    *data = NULL;
    yw_stmt *s;
    int rc = yw_db_query(db, &s, "SELECT version, data, updated_at FROM records WHERE resource = $1 AND key_index = $2"
                                 " AND deleted = 0", "tt", r->code, index);
    if (rc < 0)
        return rc;
    if (yw_stmt_step(s) != YW_DB_ROW) {
        yw_stmt_release(s);
        return YW_ENOTFOUND;
    }
    *data = decrypt_data(c, r, yw_stmt_text(s, 1));
    *version = yw_stmt_int(s, 0);
    *updated_at = yw_stmt_int(s, 2);
    yw_stmt_release(s);
    return *data ? 0 : YW_EIO;
}

int record_changes_each(yw_db *db, const char *resource, int64_t after, int limit,
                        int (*fn)(const record_change *ch, void *arg), void *arg)
{
    yw_stmt *s;
    int rc = yw_db_query(db, &s,
                         "SELECT seq, key_index, version, deleted, changed_at FROM record_changes"
                         " WHERE resource = $1 AND seq > $2 ORDER BY seq LIMIT $3",
                         "tii", resource, after, (int64_t)limit);
    if (rc < 0)
        return rc;
    while ((rc = yw_stmt_step(s)) == YW_DB_ROW) {
        record_change ch = {.seq = yw_stmt_int(s, 0), .key_index = yw_stmt_text(s, 1), .version = yw_stmt_int(s, 2),
                            .deleted = yw_stmt_int(s, 3) != 0, .changed_at = yw_stmt_int(s, 4)};
        if ((rc = fn(&ch, arg)) != 0)
            break;
    }
    yw_stmt_release(s);
    return rc == YW_DB_DONE ? 0 : rc;
}

int record_at_version(const record_ctx *c, yw_db *db, const resource_spec *r, const char *index, int64_t version,
                      json_t **data, const char **key)
{
    *data = NULL;
    *key = NULL;
    yw_stmt *s;
    /* The newest version at or before the one asked for that has data: the version itself, or what a deletion removed. */
    int rc = yw_db_query(db, &s,
                         "SELECT version, data FROM records WHERE resource = $1 AND key_index = $2 AND version <= $3"
                         " AND data IS NOT NULL UNION ALL"
                         " SELECT version, data FROM record_versions WHERE resource = $1 AND key_index = $2"
                         " AND version <= $3 AND data IS NOT NULL ORDER BY version DESC LIMIT 1",
                         "tti", r->code, index, version);
    if (rc < 0)
        return rc;
    if (yw_stmt_step(s) != YW_DB_ROW) {
        yw_stmt_release(s);
        return YW_ENOTFOUND;
    }
    bool deleted = yw_stmt_int(s, 0) != version;
    json_t *plain = decrypt_data(c, r, yw_stmt_text(s, 1));
    yw_stmt_release(s);
    if (!plain)
        return YW_EIO;
    const char *k = yw_json_str(plain, r->key_item);
    *key = k ? yw_arena_strdup(c->arena, k) : NULL;
    if (deleted)
        json_decref(plain);
    else
        *data = plain;
    return 0;
}

void records_versions(yw_req *req)
{
    yw_db *db;
    resource_spec r;
    const char *key, *index;
    if (!record_route(req, "use", &db, &r, &key, &index))
        return;
    record_ctx ctx = record_ctx_of(req);
    yw_stmt *s;
    int rc = yw_db_query(db, &s,
                         "SELECT version, data, deleted, source, updated_at FROM record_versions"
                         " WHERE resource = $1 AND key_index = $2 UNION ALL"
                         " SELECT version, data, deleted, source, updated_at FROM records"
                         " WHERE resource = $1 AND key_index = $2 ORDER BY version",
                         "tt", r.code, index);
    if (rc < 0) {
        yw_reply_store_error(req, rc, "record");
        return;
    }
    json_t *items = json_array();
    while ((rc = yw_stmt_step(s)) == YW_DB_ROW) {
        json_t *data = yw_stmt_int(s, 2) ? json_null() : decrypt_data(&ctx, &r, yw_stmt_text(s, 1));
        json_array_append_new(items, json_pack("{s:I, s:b, s:s?, s:o, s:o}", "version", (json_int_t)yw_stmt_int(s, 0),
                                               "deleted", (int)yw_stmt_int(s, 2), "source", yw_stmt_text(s, 3),
                                               "updated_at", yw_json_time(yw_stmt_int(s, 4)), "data",
                                               data ? data : json_null()));
    }
    yw_stmt_release(s);
    if (rc < 0 || json_array_size(items) == 0) {
        json_decref(items);
        if (rc < 0)
            yw_reply_store_error(req, rc, "record");
        else
            yw_reply_problem(req, 404, "not_found", "no such record");
        return;
    }
    yw_reply_json_new(req, 200, json_pack("{s:o, s:n}", "items", items, "next_cursor"));
}
